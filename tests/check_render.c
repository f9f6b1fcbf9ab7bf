/* cutoverctl's human output, rendered from fixed JSON documents into memory.  The lines people
 * read (a cluster's header, a server's row, the verdict) are compared exactly. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ctl/render.h"

Suite *render_suite(void);

static char *render_doc(render_fn fn, const char *json, const struct render_opts *o, int *rc);
static char *render_plain(render_fn fn, const char *json);
static bool has_line(const char *out, const char *line);
static char *line_with(const char *out, const char *needle);
static size_t count_lines(const char *out);

static const struct render_opts plain = { false, 0 };

#define HEALTHY \
	"{\"poll_interval_ms\":1000,\"clusters\":[{\"name\":\"sandbox\",\"verdict\":\"OK\",\"reasons\":[]," \
	"\"primary\":\"db1\",\"alarms\":[],\"cutover\":null,\"servers\":[" \
	"{\"name\":\"db1\",\"role\":\"primary\",\"state\":\"up\",\"reachable\":true,\"last_error\":null," \
	" \"read_only\":false,\"lag_ms\":0,\"gtid\":\"0-1-1234\",\"replication\":null}," \
	"{\"name\":\"db2\",\"role\":\"replica\",\"state\":\"up\",\"reachable\":true,\"last_error\":null," \
	" \"read_only\":true,\"lag_ms\":3,\"gtid\":\"0-1-1234\",\"replication\":{\"source\":\"db1\"," \
	" \"io_running\":\"Yes\",\"sql_running\":\"Yes\",\"last_io_errno\":0,\"last_io_error\":\"\"," \
	" \"last_sql_errno\":0,\"last_sql_error\":\"\"}}]," \
	"\"routers\":[{\"name\":\"haproxy\",\"type\":\"haproxy\",\"reachable\":true,\"error\":null," \
	" \"writer\":\"db1\",\"writer_matches_primary\":true,\"writer_read_only\":false}]}]}"

#define WITH_DOWN \
	"{\"clusters\":[{\"name\":\"sandbox\",\"verdict\":\"WARN\",\"primary\":\"db1\",\"reasons\":[" \
	" \"db3: unreachable (111)\",\"db2: lag 1500 ms > 1000 ms\"],\"servers\":[" \
	"{\"name\":\"db1\",\"role\":\"primary\",\"state\":\"up\",\"reachable\":true,\"read_only\":false," \
	" \"lag_ms\":0,\"gtid\":\"0-1-1234\",\"replication\":null}," \
	"{\"name\":\"db2\",\"role\":\"replica\",\"state\":\"up\",\"reachable\":true,\"read_only\":true," \
	" \"lag_ms\":1500.4,\"gtid\":\"0-1-1230\",\"replication\":{\"io_running\":\"Yes\",\"sql_running\":\"Yes\"}}," \
	"{\"name\":\"db3\",\"role\":\"replica\",\"state\":\"down\",\"reachable\":false," \
	" \"last_error\":\"Can't connect to server on '127.0.0.1' (111)\",\"read_only\":null," \
	" \"lag_ms\":null,\"gtid\":null,\"replication\":null}],\"routers\":[]}]}"

/* ---- helpers ---------------------------------------------------------------------------- */

static char *render_doc(render_fn fn, const char *json, const struct render_opts *o, int *rc)
{
	json_error_t err;
	json_t *doc = json_loads(json, JSON_DECODE_ANY, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ck_assert_msg(doc != NULL, "fixture does not parse: %s", err.text);
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	*rc = fn(f, doc, o);
	fclose(f);
	json_decref(doc);
	return buf;
}

static char *render_plain(render_fn fn, const char *json)
{
	int rc;
	char *out = render_doc(fn, json, &plain, &rc);
	ck_assert_int_eq(rc, 0);
	return out;
}

static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	const char *p = out;

	while (p && *p) {
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* A copy of the first line holding needle, or NULL. */
static char *line_with(const char *out, const char *needle)
{
	const char *hit = strstr(out, needle), *start, *end;

	if (!hit)
		return NULL;
	for (start = hit; start > out && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

static size_t count_lines(const char *out)
{
	size_t n = 0;
	for (; *out; out++)
		if (*out == '\n')
			n++;
	return n;
}

#define ck_assert_line(out, line) \
	ck_assert_msg(has_line((out), (line)), "missing line \"%s\" in:\n%s", (line), (out))

/* ---- render_status ---------------------------------------------------------------------- */

START_TEST(test_status_healthy)
{
	char *out = render_plain(render_status, HEALTHY);

	ck_assert_line(out, "cluster sandbox \xe2\x80\x94 OK \xe2\x80\x94 primary db1");
	ck_assert_line(out, "  SERVER  ROLE     STATE  RO   LAG(ms)  IO   SQL  GTID      ERROR");
	ck_assert_line(out, "  db1     primary  up     no         0  -    -    0-1-1234");
	ck_assert_line(out, "  db2     replica  up     yes        3  Yes  Yes  0-1-1234");
	ck_assert_line(out, "  router haproxy (haproxy): writer db1 \xe2\x80\x94 matches primary");
	ck_assert_line(out, "  verdict: OK");
	ck_assert_int_eq(count_lines(out), 6);
	ck_assert_ptr_null(strchr(out, '\033'));
	free(out);
}
END_TEST

START_TEST(test_status_down_server_and_nulls)
{
	char *out = render_plain(render_status, WITH_DOWN);

	ck_assert_line(out, "cluster sandbox \xe2\x80\x94 WARN \xe2\x80\x94 primary db1");
	ck_assert_line(out, "  db2     replica  up     yes     1500  Yes  Yes  0-1-1230");
	ck_assert_line(out, "  db3     replica  down   ?          ?  ?    ?    ?         "
		       "Can't connect to server on '127.0.0.1' (111)");
	free(out);

	/* No lag on a primary or an orphan is "not applicable", not "unknown". */
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"m\",\"verdict\":\"OK\",\"primary\":\"db1\","
			   "\"servers\":[{\"name\":\"db1\",\"role\":\"primary\",\"state\":\"up\",\"reachable\":true,"
			   "\"read_only\":false,\"lag_ms\":null,\"gtid\":\"0-1-9\",\"replication\":null},"
			   "{\"name\":\"db9\",\"role\":\"orphan\",\"state\":\"up\",\"reachable\":true,"
			   "\"read_only\":true,\"gtid\":\"0-1-9\",\"replication\":null}]}]}");
	ck_assert_line(out, "  db1     primary  up     no         -  -   -    0-1-9");
	ck_assert_line(out, "  db9     orphan   up     yes        -  -   -    0-1-9");
	free(out);
}
END_TEST

START_TEST(test_status_warn_reasons)
{
	char *out = render_plain(render_status, WITH_DOWN);

	ck_assert_line(out, "  verdict: WARN \xe2\x80\x94 db3: unreachable (111); db2: lag 1500 ms > 1000 ms");
	free(out);
}
END_TEST

START_TEST(test_status_no_clusters)
{
	char *out = render_plain(render_status, "{\"poll_interval_ms\":1000,\"clusters\":[]}");

	ck_assert_str_eq(out, "no clusters\n");
	free(out);
}
END_TEST

START_TEST(test_status_missing_members)
{
	char *out;
	int rc;

	out = render_plain(render_status, "{\"clusters\":[{}]}");
	ck_assert_line(out, "cluster ? \xe2\x80\x94 ? \xe2\x80\x94 primary ?");
	ck_assert_line(out, "  no servers");
	ck_assert_line(out, "  verdict: ?");
	free(out);

	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"x\",\"primary\":null,"
			   "\"servers\":[{}, 7, null],\"routers\":[{}, \"r\"],\"reasons\":[1, null, \"r1\"],"
			   "\"alarms\":[{}],\"cutover\":{}}]}");
	ck_assert_line(out, "cluster x \xe2\x80\x94 ? \xe2\x80\x94 no primary");
	ck_assert_line(out, "  ?       ?     ?      ?         ?  ?   ?    ?");
	ck_assert_line(out, "  router ? (?): writer ? \xe2\x80\x94 matches primary ?");
	ck_assert_line(out, "  alarm ? (?) since ?: ?");
	ck_assert_line(out, "  cutover ?: ?, phase ?, target ?");
	ck_assert_line(out, "  verdict: ? \xe2\x80\x94 r1");
	free(out);

	out = render_plain(render_status, "{\"clusters\":[5, \"x\", null]}");
	ck_assert_ptr_nonnull(strstr(out, "cluster ?"));
	free(out);

	/* Without a clusters list there is nothing to show: an error, and no output. */
	out = render_doc(render_status, "{\"servers\":[]}", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(out, "");
	free(out);
	out = render_doc(render_status, "[1,2]", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);
}
END_TEST

START_TEST(test_status_column_alignment)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"c\",\"verdict\":\"OK\",\"primary\":\"a-rather-long-server-name-01\","
		"\"servers\":[{\"name\":\"a-rather-long-server-name-01\",\"role\":\"primary\",\"state\":\"up\","
		"\"reachable\":true,\"read_only\":false,\"lag_ms\":0,\"gtid\":\"0-1-5\",\"replication\":null},"
		"{\"name\":\"db2\",\"role\":\"replica\",\"state\":\"up\",\"reachable\":true,\"read_only\":true,"
		"\"lag_ms\":12345,\"gtid\":\"0-1-5\",\"replication\":{\"io_running\":\"Connecting\","
		"\"sql_running\":\"Yes\"}}]}]}";
	char *out = render_plain(render_status, doc);
	char *head = line_with(out, "SERVER"), *row = line_with(out, "  db2 ");
	size_t name_w = strlen("a-rather-long-server-name-01");

	ck_assert_ptr_nonnull(head);
	ck_assert_ptr_nonnull(row);
	/* ROLE starts after the widest name plus the two-space gap, in the header and every row. */
	ck_assert_int_eq(strstr(head, "ROLE") - head, 2 + name_w + 2);
	ck_assert_int_eq(strstr(row, "replica") - row, 2 + name_w + 2);
	/* A column widens for its widest cell: "Connecting" under IO pushes SQL right. */
	ck_assert_int_eq(strstr(head, "SQL") - head, strstr(row, "Yes") - row);
	/* LAG is right-aligned: the number ends where "LAG(ms)" ends. */
	ck_assert_int_eq(strstr(head, "LAG(ms)") - head + 7, strstr(row, "12345") - row + 5);
	free(head);
	free(row);
	free(out);
}
END_TEST

START_TEST(test_status_long_gtid_cut)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"m\",\"verdict\":\"OK\",\"primary\":\"db1\",\"servers\":[{\"name\":\"db1\","
		"\"role\":\"primary\",\"state\":\"up\",\"reachable\":true,\"read_only\":false,\"lag_ms\":0,"
		"\"gtid\":\"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,a2c8e7e1-71ca-11e1-9e33-c80aa9429562:1-77\","
		"\"replication\":null}]}]}";
	char *out = render_plain(render_status, doc);
	char *row = line_with(out, "  db1 ");

	ck_assert_ptr_nonnull(row);
	ck_assert_ptr_nonnull(strstr(row, "  3e11fa47-71ca-11e1-9e33-c80aa9429562:1-\xe2\x80\xa6"));
	ck_assert_ptr_null(strstr(row, ":1-5"));
	ck_assert_uint_eq(render_width(strstr(row, "3e11")), RENDER_GTID_MAX);
	free(row);
	free(out);
}
END_TEST

START_TEST(test_status_error_cut_to_terminal)
{
	const struct render_opts narrow = { false, 90 };
	char *out, *row;
	int rc;

	out = render_doc(render_status, WITH_DOWN, &narrow, &rc);
	ck_assert_int_eq(rc, 0);
	row = line_with(out, "  db3 ");
	ck_assert_ptr_nonnull(row);
	ck_assert_uint_eq(render_width(row), 90);
	ck_assert_ptr_nonnull(strstr(row, "Can't connect to"));
	ck_assert_str_eq(row + strlen(row) - 3, "\xe2\x80\xa6");
	free(row);
	free(out);

	/* Not a terminal (width 0): the whole message. */
	out = render_plain(render_status, WITH_DOWN);
	ck_assert_ptr_nonnull(strstr(out, "(111)\n"));
	free(out);
}
END_TEST

START_TEST(test_status_color)
{
	const struct render_opts color = { true, 0 };
	char *out;
	int rc;

	out = render_doc(render_status, WITH_DOWN, &color, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "\033[33mWARN\033[0m"));
	ck_assert_ptr_nonnull(strstr(out, "\033[1;31mdown\033[0m"));
	free(out);
}
END_TEST

START_TEST(test_status_hostile_text)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"m\",\"verdict\":\"WARN\",\"primary\":\"db1\",\"servers\":[{\"name\":\"db1\","
		"\"role\":\"primary\",\"state\":\"up\",\"reachable\":true,\"read_only\":false,\"lag_ms\":0,"
		"\"gtid\":\"0-1-1\",\"last_error\":\"line one\\nline two\\u001b[2J\",\"replication\":null}]}]}";
	char *out = render_plain(render_status, doc);

	ck_assert_ptr_null(strchr(out, '\033'));
	ck_assert_ptr_nonnull(strstr(out, "line one line two [2J"));
	free(out);
}
END_TEST

START_TEST(test_status_replication_error)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"m\",\"verdict\":\"WARN\",\"primary\":\"db1\",\"servers\":[{\"name\":\"db2\","
		"\"role\":\"replica\",\"state\":\"up\",\"reachable\":true,\"read_only\":true,\"lag_ms\":null,"
		"\"gtid\":\"\",\"last_error\":null,\"replication\":{\"io_running\":\"Yes\",\"sql_running\":\"No\","
		"\"last_io_errno\":0,\"last_io_error\":\"\",\"last_sql_errno\":1062,"
		"\"last_sql_error\":\"Duplicate entry '1' for key 'PRIMARY'\"}}]}]}";
	char *out = render_plain(render_status, doc);

	ck_assert_line(out, "  db2     replica  up     yes        ?  Yes  No   -     "
		       "SQL 1062: Duplicate entry '1' for key 'PRIMARY'");
	free(out);
}
END_TEST

START_TEST(test_status_routers_alarms_cutover)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"m\",\"verdict\":\"CRIT\",\"primary\":\"db1\",\"servers\":[],"
		"\"cutover\":{\"id\":\"c-17\",\"state\":\"running\",\"phase\":\"sync\",\"target\":\"db2\"},"
		"\"alarms\":[{\"name\":\"split_brain\",\"severity\":\"CRIT\",\"since\":\"2026-11-21T13:47:00Z\","
		"\"message\":\"db1 and db2 are both writable\"}],"
		"\"routers\":[{\"name\":\"proxysql\",\"type\":\"proxysql\",\"reachable\":true,\"writer\":\"db2\","
		"\"writer_matches_primary\":false,\"writer_read_only\":true},"
		"{\"name\":\"h2\",\"type\":\"haproxy\",\"reachable\":false,\"error\":\"connect: No such file\"},"
		"{\"name\":\"h3\",\"type\":\"haproxy\",\"reachable\":true,\"writer\":null}]}]}";
	char *out = render_plain(render_status, doc);

	ck_assert_line(out, "  cutover c-17: running, phase sync, target db2");
	ck_assert_line(out, "  router proxysql (proxysql): writer db2 \xe2\x80\x94 does NOT match primary db1; "
		       "writer is read-only");
	ck_assert_line(out, "  router h2 (haproxy): unreachable: connect: No such file");
	ck_assert_line(out, "  router h3 (haproxy): no writer");
	ck_assert_line(out, "  alarm split_brain (CRIT) since 2026-11-21T13:47:00Z: db1 and db2 are both writable");
	ck_assert_line(out, "  verdict: CRIT");
	free(out);
}
END_TEST

/* ---- render_topology -------------------------------------------------------------------- */

START_TEST(test_topology_tree)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"main\",\"primary\":\"db1\",\"verdict\":\"WARN\",\"tree\":"
		"{\"name\":\"db1\",\"state\":\"up\",\"read_only\":false,\"lag_ms\":0,\"replicas\":["
		" {\"name\":\"db2\",\"state\":\"up\",\"read_only\":true,\"lag_ms\":3,\"io_running\":\"Yes\","
		"  \"sql_running\":\"Yes\",\"replicas\":[{\"name\":\"db4\",\"state\":\"up\",\"read_only\":true,"
		"  \"lag_ms\":5,\"io_running\":\"Yes\",\"sql_running\":\"Yes\",\"replicas\":[]}]},"
		" {\"name\":\"db5\",\"state\":\"down\",\"read_only\":null,\"lag_ms\":null,\"io_running\":\"No\","
		"  \"sql_running\":\"Yes\",\"replicas\":[]}]},"
		"\"detached\":[{\"name\":\"db3\",\"reason\":\"unreachable\"}]}]}";
	char *out = render_plain(render_topology, doc);

	ck_assert_line(out, "cluster main \xe2\x80\x94 WARN \xe2\x80\x94 primary db1");
	ck_assert_line(out, "  db1 (primary, rw)");
	ck_assert_line(out, "  \xe2\x94\x9c\xe2\x94\x80 db2 (replica, ro, lag 3 ms)");
	ck_assert_line(out, "  \xe2\x94\x82  \xe2\x94\x94\xe2\x94\x80 db4 (replica, ro, lag 5 ms)");
	ck_assert_line(out, "  \xe2\x94\x94\xe2\x94\x80 db5 (replica, down, ro ?, lag ?, IO No, SQL Yes)");
	ck_assert_line(out, "  detached: db3 (unreachable)");
	ck_assert_int_eq(count_lines(out), 6);
	free(out);
}
END_TEST

START_TEST(test_topology_no_primary_and_missing)
{
	char *out;
	int rc;

	out = render_plain(render_topology, "{\"clusters\":[{\"name\":\"m\",\"primary\":null,"
			   "\"verdict\":\"CRIT\",\"tree\":null,\"detached\":[{\"name\":\"db1\"}]}]}");
	ck_assert_line(out, "cluster m \xe2\x80\x94 CRIT \xe2\x80\x94 no primary");
	ck_assert_line(out, "  (no primary)");
	ck_assert_line(out, "  detached: db1 (?)");
	free(out);

	out = render_plain(render_topology, "{\"clusters\":[{\"tree\":{\"replicas\":[{}, 3]}}]}");
	ck_assert_line(out, "  ? (primary, state ?, ro ?)");
	ck_assert_line(out, "  \xe2\x94\x9c\xe2\x94\x80 ? (replica, state ?, ro ?, lag ?)");
	free(out);

	out = render_plain(render_topology, "{\"clusters\":[]}");
	ck_assert_str_eq(out, "no clusters\n");
	free(out);

	out = render_doc(render_topology, "{}", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);
}
END_TEST

START_TEST(test_topology_depth_limit)
{
	json_t *doc = json_pack("{s:[{s:s, s:s}]}", "clusters", "name", "deep", "primary", "n0");
	json_t *node = json_object(), *root = node, *kid;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	for (i = 0; i < 100; i++) {
		json_object_set_new(node, "name", json_sprintf("n%d", i));
		kid = json_object();
		json_object_set_new(node, "replicas", json_pack("[o]", kid));
		node = kid;
	}
	json_object_set_new(json_array_get(json_object_get(doc, "clusters"), 0), "tree", root);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(render_topology(f, doc, &plain), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "tree deeper than"));
	ck_assert_ptr_null(strstr(buf, " n40 "));
	free(buf);
	json_decref(doc);
}
END_TEST

/* ---- render_event ----------------------------------------------------------------------- */

START_TEST(test_event_line)
{
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL, *out;
	int rc;

	setenv("TZ", "UTC", 1);
	tzset();
	out = render_plain(render_event, "{\"ts\":\"2026-11-21T13:47:00.123Z\",\"type\":\"server_state\","
			   "\"cluster\":\"main\",\"server\":\"db2\",\"from\":\"up\",\"to\":\"down\","
			   "\"message\":\"db2: unreachable: Can't connect\"}");
	ck_assert_str_eq(out, "13:47:00.123 main db2: unreachable: Can't connect\n");
	free(out);

	out = render_plain(render_event, "{\"ts\":\"2026-11-21T13:47:00.5Z\",\"type\":\"verdict\","
			   "\"cluster\":\"main\",\"from\":\"OK\",\"to\":\"WARN\"}");
	ck_assert_str_eq(out, "13:47:00.500 main: verdict OK \xe2\x86\x92 WARN\n");
	free(out);

	out = render_plain(render_event, "{\"ts\":\"yesterday\",\"message\":\"config reloaded\"}");
	ck_assert_str_eq(out, "yesterday config reloaded\n");
	free(out);

	out = render_plain(render_event, "{}");
	ck_assert_str_eq(out, "??:??:??.??? ?\n");
	free(out);

	out = render_doc(render_event, "\"text\"", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);

	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();
}
END_TEST

/* ---- render_version, render_reload, render_config ---------------------------------------- */

START_TEST(test_version)
{
	char *out = render_plain(render_version, "{\"daemon\":\"cutoverd\",\"version\":\"0.1.0\",\"api\":1,"
				 "\"pid\":1234,\"started_at\":\"2026-11-21T13:47:00Z\",\"uptime_s\":93784.5}");

	ck_assert_line(out, "daemon   cutoverd 0.1.0");
	ck_assert_line(out, "api      1");
	ck_assert_line(out, "pid      1234");
	ck_assert_line(out, "uptime   1d 2h 3m (since 2026-11-21T13:47:00Z)");
	free(out);

	out = render_plain(render_version, "{\"uptime_s\":12.5}");
	ck_assert_line(out, "daemon   ? ?");
	ck_assert_line(out, "pid      ?");
	ck_assert_line(out, "uptime   12.5s (since ?)");
	free(out);
}
END_TEST

START_TEST(test_reload)
{
	char *out = render_plain(render_reload, "{\"reloaded\":true,\"path\":\"/etc/cutoverd/cutoverd.conf\"}");

	ck_assert_str_eq(out, "reloaded /etc/cutoverd/cutoverd.conf\n");
	free(out);
}
END_TEST

START_TEST(test_config)
{
	char *out = render_plain(render_config, "{\"path\":\"/etc/c.conf\",\"servers\":[{\"name\":\"db1\","
				 "\"password\":\"<redacted>\"}]}");
	int rc;

	ck_assert_ptr_nonnull(strstr(out, "\n  \"path\": \"/etc/c.conf\",\n"));
	ck_assert_ptr_nonnull(strstr(out, "\"password\": \"<redacted>\""));
	free(out);
	out = render_doc(render_config, "[]", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);
}
END_TEST

START_TEST(test_width)
{
	ck_assert_uint_eq(render_width(""), 0);
	ck_assert_uint_eq(render_width("db1"), 3);
	ck_assert_uint_eq(render_width("a\xe2\x80\x94" "b\xe2\x80\xa6"), 4);
}
END_TEST

Suite *render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc;

	tc = tcase_create("render_status");
	tcase_add_test(tc, test_status_healthy);
	tcase_add_test(tc, test_status_down_server_and_nulls);
	tcase_add_test(tc, test_status_warn_reasons);
	tcase_add_test(tc, test_status_no_clusters);
	tcase_add_test(tc, test_status_missing_members);
	tcase_add_test(tc, test_status_column_alignment);
	tcase_add_test(tc, test_status_long_gtid_cut);
	tcase_add_test(tc, test_status_error_cut_to_terminal);
	tcase_add_test(tc, test_status_color);
	tcase_add_test(tc, test_status_hostile_text);
	tcase_add_test(tc, test_status_replication_error);
	tcase_add_test(tc, test_status_routers_alarms_cutover);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_topology");
	tcase_add_test(tc, test_topology_tree);
	tcase_add_test(tc, test_topology_no_primary_and_missing);
	tcase_add_test(tc, test_topology_depth_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_event");
	tcase_add_test(tc, test_event_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_version");
	tcase_add_test(tc, test_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_reload");
	tcase_add_test(tc, test_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_config");
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_width");
	tcase_add_test(tc, test_width);
	suite_add_tcase(s, tc);
	return s;
}
