/* cutoverctl's human output, rendered from fixed JSON documents into memory.  The lines people
 * read (a cluster's header, a server's row, the verdict) are compared exactly. */
#include <check.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ctl/args.h"
#include "../ctl/render.h"

Suite *render_suite(void);

static char *render_doc(render_fn fn, const char *json, const struct render_opts *o, int *rc);
static char *render_plain(render_fn fn, const char *json);
static bool has_line(const char *out, const char *line);
static char *line_with(const char *out, const char *needle);
static size_t count_lines(const char *out);
static int render_plan_fixture(FILE *out, const json_t *report, const struct render_opts *o);
static int parse_words(unsigned allowed, const char *global, struct cmd_args *a, char *err, size_t errlen,
		       const char *cmd, ...);
static void assert_args_json(const struct cmd_args *a, const char *expect);

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

/* What an upgrade switchover left: the servers held at its fence point are shown as the
 * rollback point, their stopped threads not painted as a fault, their lag not applicable. */
START_TEST(test_status_rollback_point)
{
	static const char json[] =
		"{\"clusters\":[{\"name\":\"m\",\"verdict\":\"OK\",\"primary\":\"db3\","
		"\"rollback_point\":[{\"server\":\"db1\",\"fence_point\":\"0-1-18\",\"since\":\"2026-12-01T23:21:57.948Z\","
		"\"why\":\"the old primary of the upgrade switchover to db3 (MariaDB 10.11 to 11.8)\"}],"
		"\"servers\":[{\"name\":\"db1\",\"role\":\"rollback_point\",\"state\":\"up\",\"reachable\":true,"
		"\"read_only\":true,\"lag_ms\":null,\"gtid\":\"0-1-18\",\"replication\":null},"
		"{\"name\":\"db2\",\"role\":\"rollback_point\",\"state\":\"up\",\"reachable\":true,"
		"\"read_only\":true,\"lag_ms\":5,\"gtid\":\"0-1-18\",\"replication\":{\"io_running\":\"No\","
		"\"sql_running\":\"No\"}}]}]}";
	char *out = render_plain(render_status, json);

	ck_assert_line(out, "  db1     rollback_point  up     yes        -  -   -    0-1-18");
	ck_assert_line(out, "  db2     rollback_point  up     yes        -  No  No   0-1-18");
	ck_assert_line(out, "  rollback point: db1 held at the fence point 0-1-18 since 2026-12-01T23:21:57.948Z: the old "
			    "primary of the upgrade switchover to db3 (MariaDB 10.11 to 11.8)");
	free(out);
	/* on a terminal, the stopped threads of a held replica are not red (a replica's are) */
	{
		const struct render_opts color = { true, 0 };
		char *as_replica = strdup(json), *p;
		int rc;

		out = render_doc(render_status, json, &color, &rc);
		ck_assert_ptr_null(strstr(out, "\033[1;31mNo"));
		free(out);
		p = strstr(as_replica, "\"db2\",\"role\":\"rollback_point\"");
		memcpy(p + strlen("\"db2\",\"role\":\""), "replica\"       ", strlen("rollback_point\""));
		out = render_doc(render_status, as_replica, &color, &rc);
		ck_assert_ptr_nonnull(strstr(out, "\033[1;31mNo"));
		free(out);
		free(as_replica);
	}
}
END_TEST

START_TEST(test_status_warn_reasons)
{
	char *out = render_plain(render_status, WITH_DOWN);

	ck_assert_line(out, "  verdict: WARN \xe2\x80\x94 db3: unreachable (111); db2: lag 1500 ms > 1000 ms");
	free(out);
}
END_TEST

/* A verdict held by the hysteresis keeps its reasons; the present one is shown beside it. */
START_TEST(test_status_held_verdict)
{
	char *out = render_plain(render_status,
		"{\"clusters\":[{\"name\":\"sandbox\",\"verdict\":\"CRIT\",\"verdict_now\":\"OK\","
		"\"reasons\":[\"no writable primary\"],\"reasons_now\":[],\"primary\":\"db1\",\"servers\":[]}]}");

	ck_assert_line(out, "  verdict: CRIT \xe2\x80\x94 no writable primary");
	ck_assert_line(out, "  verdict now: OK \xe2\x80\x94 all servers healthy (the verdict follows once this is "
		       "seen for hysteresis polls in a row)");
	free(out);
	/* from a daemon that gave no reason, the absence is said, not left blank */
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"sandbox\",\"verdict\":\"CRIT\","
			   "\"verdict_now\":\"CRIT\",\"reasons\":[],\"primary\":\"db1\",\"servers\":[]}]}");
	ck_assert_line(out, "  verdict: CRIT \xe2\x80\x94 no reason given by cutoverd");
	ck_assert_ptr_null(strstr(out, "verdict now"));
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
	/* A writer is not compared with a primary the cluster does not have. */
	ck_assert_line(out, "  router ? (?): writer ? \xe2\x80\x94 the cluster has no primary");
	ck_assert_line(out, "  alarm ? (?) since ?: ?");
	ck_assert_line(out, "  switchover ?: ? \xe2\x86\x92 ?, phase ? (state ?)");
	ck_assert_line(out, "  verdict: ? \xe2\x80\x94 r1");
	free(out);

	/* No "primary" member at all: not known, so not compared either. */
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"y\",\"routers\":[{\"writer\":\"db1\"}]}]}");
	ck_assert_line(out, "  router ? (?): writer db1 \xe2\x80\x94 matches primary ?");
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
		"\"cutover\":{\"id\":\"c-17\",\"state\":\"running\",\"phase\":\"sync\",\"old_primary\":\"db1\","
		"\"new_primary\":\"db2\",\"point_of_no_return_passed\":false,\"elapsed_ms\":12.5,\"phases\":[]},"
		"\"alarms\":[{\"name\":\"split_brain\",\"severity\":\"CRIT\",\"since\":\"2026-11-21T13:47:00Z\","
		"\"message\":\"db1 and db2 are both writable\"}],"
		"\"routers\":[{\"name\":\"proxysql\",\"type\":\"proxysql\",\"reachable\":true,\"writer\":\"db2\","
		"\"writer_matches_primary\":false,\"writer_read_only\":true},"
		"{\"name\":\"h2\",\"type\":\"haproxy\",\"reachable\":false,\"error\":\"connect: No such file\"},"
		"{\"name\":\"h3\",\"type\":\"haproxy\",\"reachable\":true,\"writer\":null}]}]}";
	char *out = render_plain(render_status, doc);

	ck_assert_line(out, "  switchover c-17: db1 \xe2\x86\x92 db2, phase sync (state running)");
	/* A running switchover needs no hint; only paused and interrupted ones do. */
	ck_assert_ptr_null(strstr(out, "resolve"));
	ck_assert_ptr_null(strstr(out, "resume"));
	ck_assert_line(out, "  router proxysql (proxysql): writer db2 \xe2\x80\x94 does NOT match primary db1; "
		       "writer is read-only");
	ck_assert_line(out, "  router h2 (haproxy): unreachable: connect: No such file");
	ck_assert_line(out, "  router h3 (haproxy): no writer");
	ck_assert_line(out, "  alarm split_brain (CRIT) since 2026-11-21T13:47:00Z: db1 and db2 are both writable");
	free(out);

	/* the daemon's own shape: only active alarms are shown, since their raising */
	out = render_plain(render_status,
		"{\"clusters\":[{\"name\":\"main\",\"verdict\":\"CRIT\",\"reasons\":[],\"servers\":[],"
		"\"alarms\":[{\"name\":\"no_primary\",\"severity\":\"CRIT\",\"state\":\"active\","
		"\"first_seen\":\"2026-11-21T14:00:00.000Z\",\"raised\":\"2026-11-21T14:00:01.000Z\","
		"\"cleared\":null,\"message\":\"no writable primary\"},"
		"{\"name\":\"split_brain\",\"severity\":\"CRIT\",\"state\":\"cleared\",\"message\":\"old\"},"
		"{\"name\":\"wrong_source\",\"severity\":\"CRIT\",\"state\":\"pending\",\"message\":\"soon\"}]}]}");
	ck_assert_line(out, "  alarm no_primary (CRIT) since 2026-11-21T14:00:01.000Z: no writable primary");
	ck_assert_ptr_null(strstr(out, "split_brain"));
	ck_assert_ptr_null(strstr(out, "wrong_source"));
	ck_assert_line(out, "  verdict: CRIT \xe2\x80\x94 no reason given by cutoverd");
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
	/* what is valid but probably a mistake is shown under it */
	out = render_plain(render_reload, "{\"reloaded\":true,\"path\":\"/etc/c.conf\",\"warnings\":"
			   "[\"/etc/c.conf:9: warning: cluster: cluster 'sandbx' has only [server db3]\"]}");
	ck_assert_str_eq(out, "reloaded /etc/c.conf\n  /etc/c.conf:9: warning: cluster: cluster 'sandbx' has only "
			 "[server db3]\n");
	free(out);
}
END_TEST

START_TEST(test_config)
{
	/* people read it as the file's sections, not as JSON (that is --json's) */
	char *out = render_plain(render_config, "{\"path\":\"/etc/c.conf\","
				 "\"global\":{\"socket\":\"/run/c.sock\",\"socket_group\":null,\"admin_uids\":[0,1000]},"
				 "\"clusters\":[{\"name\":\"main\",\"max_lag_ms\":1000,\"heartbeat\":true}],"
				 "\"servers\":[{\"name\":\"db1\",\"password\":\"<redacted>\",\"port\":3306}],"
				 "\"routers\":[{\"name\":\"h\",\"server_map\":{\"db1\":\"w/db1\",\"db2\":\"w/db2\"}}]}");
	int rc;

	ck_assert_line(out, "# /etc/c.conf, as cutoverd runs it (secrets redacted)");
	ck_assert_line(out, "[cutoverd]");
	ck_assert_line(out, "  socket        /run/c.sock");
	ck_assert_line(out, "  socket_group  -");
	ck_assert_line(out, "  admin_uids    0, 1000");
	ck_assert_line(out, "[cluster main]");
	ck_assert_line(out, "  max_lag_ms  1000");
	ck_assert_line(out, "  heartbeat   yes");
	ck_assert_line(out, "[server db1]");
	ck_assert_line(out, "  password  <redacted>");
	ck_assert_line(out, "  port      3306");
	ck_assert_line(out, "[router h]");
	ck_assert_line(out, "  server_map  db1=w/db1, db2=w/db2");
	ck_assert_ptr_null(strstr(out, "{"));
	ck_assert_ptr_null(strstr(out, "  name"));
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

/* ---- switchover: progress lines, reports, plan ------------------------------------------ */

#define ARROW_S " \xe2\x86\x92 "

#define DONE_REPORT \
	"{\"id\":\"20261121T134700-123-main\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db2\"," \
	"\"outcome\":\"done\",\"reason\":null,\"checks\":[" \
	" {\"check\":\"candidate_lag\",\"result\":\"pass\",\"message\":\"lag 0 ms\"}," \
	" {\"check\":\"replica_reachable\",\"result\":\"warn\",\"message\":\"db3 is down\"}]," \
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":2.1,\"ok\":true},{\"phase\":\"drain\",\"ms\":210.5,\"ok\":true}," \
	" {\"phase\":\"fence\",\"ms\":2.7,\"ok\":true},{\"phase\":\"promote\",\"ms\":15.3,\"ok\":true}]," \
	"\"write_blocked_ms\":14.8,\"fence_point\":\"0-1-3644\",\"point_of_no_return_passed\":true,\"total_ms\":335.5}"

#define ROLLED_BACK_REPORT \
	"{\"id\":\"r-1\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db2\",\"outcome\":\"rolled_back\"," \
	"\"reason\":\"sync: db2 did not reach 0-1-3644 within 5000 ms\",\"checks\":[" \
	" {\"check\":\"candidate_lag\",\"result\":\"pass\",\"message\":\"lag 0 ms\"}]," \
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":2.0,\"ok\":true},{\"phase\":\"fence\",\"ms\":3.0,\"ok\":true}," \
	" {\"phase\":\"sync\",\"ms\":5000.4,\"ok\":false}]," \
	"\"write_blocked_ms\":null,\"fence_point\":\"0-1-3644\",\"point_of_no_return_passed\":false,\"total_ms\":5020.0," \
	"\"next_steps\":[\"Check why db2 lags: SHOW SLAVE STATUS on db2.\"," \
	" \"Run it again: cutoverctl switchover --cluster main --to db2\"]," \
	"\"servers\":[{\"name\":\"db1\",\"state\":\"up\",\"read_only\":false,\"replicates_from\":null,\"gtid\":\"0-1-3644\"}," \
	" {\"name\":\"db2\",\"state\":\"up\",\"read_only\":true,\"replicates_from\":\"127.0.0.1:3306\",\"gtid\":\"0-1-3600\"}]}"

#define REFUSED_REPORT \
	"{\"id\":\"x\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db3\",\"outcome\":\"refused\"," \
	"\"reason\":\"preflight: 2 checks failed\",\"checks\":[" \
	" {\"check\":\"one_writable_primary\",\"result\":\"pass\",\"message\":\"1 writable server\"}," \
	" {\"check\":\"candidate_lag\",\"result\":\"fail\",\"message\":\"lag 4500 ms > max 1000 ms\"}," \
	" {\"check\":\"candidate_threads\",\"result\":\"fail\",\"message\":\"SQL thread No\"}," \
	" {\"check\":\"router\",\"result\":\"warn\",\"message\":\"router h2 unreachable\"}]," \
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":1.5,\"ok\":false}],\"write_blocked_ms\":null," \
	"\"fence_point\":null,\"point_of_no_return_passed\":false,\"total_ms\":1.6}"

#define DRY_RUN_REPORT \
	"{\"id\":\"d-1\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db2\",\"outcome\":\"dry_run\"," \
	"\"reason\":null,\"checks\":[{\"check\":\"candidate_lag\",\"result\":\"pass\",\"message\":\"lag 0 ms\"}," \
	" {\"check\":\"router\",\"result\":\"warn\",\"message\":\"router h2 unreachable\"}]," \
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":1.2,\"ok\":true}],\"write_blocked_ms\":null," \
	"\"fence_point\":null,\"point_of_no_return_passed\":false,\"total_ms\":1.3}"

/* render_plan takes the arguments too: a two-argument render_fn for render_doc. */
static const char *plan_args;
static json_t *plan_cfg;        /* the cluster's object of `config`, NULL: unknown */

static int render_plan_fixture(FILE *out, const json_t *report, const struct render_opts *o)
{
	json_t *args = json_loads(plan_args, 0, NULL);
	int rc;

	ck_assert_ptr_nonnull(args);
	rc = render_plan(out, report, args, plan_cfg, o);
	json_decref(args);
	return rc;
}

START_TEST(test_progress_line)
{
	const struct render_opts color = { true, 0 };
	char *out;
	int rc;

	out = render_plain(render_progress, "{\"id\":\"x\",\"cluster\":\"main\",\"phase\":\"fence\",\"status\":\"ok\","
			   "\"elapsed_ms\":12.3,\"message\":\"db1 is read-only at 0-1-3644 (2.7 ms)\"}");
	ck_assert_str_eq(out, "  +12.3 ms  fence      ok    db1 is read-only at 0-1-3644 (2.7 ms)\n");
	free(out);

	/* The time is right-aligned, so the phase column stays put as the switchover goes on. */
	out = render_plain(render_progress, "{\"phase\":\"promote\",\"status\":\"start\",\"elapsed_ms\":1234.56,"
			   "\"message\":\"promote\"}");
	ck_assert_str_eq(out, "+1234.6 ms  promote    start promote\n");
	free(out);
	out = render_plain(render_progress, "{\"phase\":\"sync\",\"status\":\"paused\",\"elapsed_ms\":2.8,"
			   "\"message\":\"paused before sync\"}");
	ck_assert_str_eq(out, "   +2.8 ms  sync       paused paused before sync\n");
	free(out);

	out = render_plain(render_progress, "{\"phase\":\"sync\",\"status\":\"fail\",\"elapsed_ms\":1,"
			   "\"message\":\"line one\\nline two\\u001b[2J\"}");
	ck_assert_str_eq(out, "   +1.0 ms  sync       fail  line one line two [2J\n");
	free(out);

	out = render_plain(render_progress, "{}");
	ck_assert_str_eq(out, "      ? ms  ?          ?     ?\n");
	free(out);

	out = render_doc(render_progress, "{\"phase\":\"fence\",\"status\":\"ok\",\"elapsed_ms\":12.3,"
			 "\"message\":\"m\"}", &color, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "  +12.3 ms  fence      \033[32mok\033[0m    m\n");
	free(out);
	out = render_doc(render_progress, "{\"phase\":\"sync\",\"status\":\"fail\",\"elapsed_ms\":1,"
			 "\"message\":\"m\"}", &color, &rc);
	ck_assert_ptr_nonnull(strstr(out, "\033[1;31mfail\033[0m  m"));
	free(out);

	out = render_doc(render_progress, "[]", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(test_report_done)
{
	char *out = render_plain(render_report, DONE_REPORT);

	ck_assert_line(out, "DONE: switchover 20261121T134700-123-main, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  checks: 1 passed, 0 failed, 1 warning:");
	ck_assert_line(out, "    warn  replica_reachable  db3 is down");
	ck_assert_line(out, "  PHASE         MS  OK");
	ck_assert_line(out, "  preflight    2.1  yes");
	ck_assert_line(out, "  drain      210.5  yes");
	ck_assert_line(out, "  promote     15.3  yes");
	ck_assert_line(out, "  writes blocked: 14.8 ms");
	ck_assert_line(out, "  fence point: 0-1-3644");
	ck_assert_line(out, "  total: 335.5 ms");
	/* Passed checks were progress lines already; a finished switchover needs no next steps. */
	ck_assert_ptr_null(strstr(out, "candidate_lag"));
	ck_assert_ptr_null(strstr(out, "next steps"));
	ck_assert_ptr_null(strstr(out, "point of no return"));
	ck_assert_ptr_null(strchr(out, '\033'));
	free(out);
}
END_TEST

START_TEST(test_report_rolled_back)
{
	const struct render_opts color = { true, 0 };
	char *out = render_plain(render_report, ROLLED_BACK_REPORT);
	int rc;

	ck_assert_line(out, "ROLLED BACK: switchover r-1, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  reason: sync: db2 did not reach 0-1-3644 within 5000 ms");
	ck_assert_line(out, "  checks: 1 passed, 0 failed, 0 warnings");
	ck_assert_line(out, "  sync       5000.4  no");
	ck_assert_line(out, "  writes blocked: not measured (writes were not switched to the new primary)");
	ck_assert_line(out, "  point of no return: not passed");
	ck_assert_line(out, "  servers now:");
	ck_assert_line(out, "    SERVER  STATE  RO   REPLICATES FROM  GTID");
	ck_assert_line(out, "    db1     up     no   -                0-1-3644");
	ck_assert_line(out, "    db2     up     yes  127.0.0.1:3306   0-1-3600");
	ck_assert_line(out, "  next steps:");
	ck_assert_line(out, "    1. Check why db2 lags: SHOW SLAVE STATUS on db2.");
	ck_assert_line(out, "    2. Run it again: cutoverctl switchover --cluster main --to db2");
	/* The daemon's steps replace the generic hint. */
	ck_assert_ptr_null(strstr(out, "is the primary again"));
	/* Next steps come last, after the servers they talk about. */
	ck_assert_ptr_nonnull(strstr(strstr(out, "servers now:"), "next steps:"));
	free(out);

	out = render_doc(render_report, ROLLED_BACK_REPORT, &color, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "\033[33mROLLED BACK\033[0m: switchover r-1"));
	ck_assert_ptr_nonnull(strstr(out, "5000.4  \033[1;31mno\033[0m"));
	free(out);

	/* Without steps from the daemon, and rolled back before the fence. */
	out = render_plain(render_report, "{\"id\":\"r-2\",\"cluster\":\"main\",\"old_primary\":\"db1\","
			   "\"new_primary\":\"db2\",\"outcome\":\"rolled_back\",\"reason\":\"aborted by the operator\","
			   "\"checks\":[],\"phases\":[],\"write_blocked_ms\":null,\"fence_point\":null,"
			   "\"point_of_no_return_passed\":false,\"total_ms\":2007.2}");
	ck_assert_line(out, "  writes blocked: no (the old primary was not fenced)");
	ck_assert_line(out, "  rolled back: db1 is the primary again; see cutoverctl status, deal with the "
		       "reason above, then try again");
	ck_assert_ptr_null(strstr(out, "PHASE"));
	free(out);
}
END_TEST

START_TEST(test_report_failed)
{
	char *out = render_plain(render_report, "{\"id\":\"f-1\",\"cluster\":\"main\",\"old_primary\":\"db1\","
				 "\"new_primary\":\"db2\",\"outcome\":\"failed\",\"reason\":\"verify: db3 follows db1\","
				 "\"phases\":[{\"phase\":\"verify\",\"ms\":null,\"ok\":false}],\"write_blocked_ms\":9.5,"
				 "\"point_of_no_return_passed\":true,\"next_steps\":[\"db2 is the writable primary.\", 7],"
				 "\"servers\":[{\"name\":\"db3\",\"state\":\"down\",\"read_only\":null}]}");

	ck_assert_line(out, "FAILED: switchover f-1, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  verify   -  no");
	ck_assert_line(out, "  point of no return: passed (the new primary was made writable)");
	ck_assert_line(out, "    db3     down   ?   ?                ?");
	ck_assert_line(out, "    1. db2 is the writable primary.");
	ck_assert_ptr_null(strstr(out, "    2."));
	free(out);
}
END_TEST

START_TEST(test_report_refused)
{
	char *out = render_plain(render_report, REFUSED_REPORT);

	ck_assert_line(out, "REFUSED: switchover x, cluster main: db1" ARROW_S "db3");
	ck_assert_line(out, "  reason: preflight: 2 checks failed");
	ck_assert_line(out, "  checks: 1 passed, 2 failed, 1 warning:");
	ck_assert_line(out, "    fail  candidate_lag      lag 4500 ms > max 1000 ms");
	ck_assert_line(out, "    fail  candidate_threads  SQL thread No");
	ck_assert_line(out, "    warn  router             router h2 unreachable");
	ck_assert_line(out, "  preflight  1.5  no");
	ck_assert_line(out, "  nothing was changed: deal with the checks above, then try again "
		       "(--dry-run runs the checks alone)");
	/* each failed check says what to do next; a warning needs nothing */
	ck_assert_line(out, "  next steps:");
	ck_assert_line(out, "    candidate_lag: wait for the candidate to catch up (cutoverctl status shows its "
		       "lag), or raise --max-lag");
	ck_assert_line(out, "    candidate_threads: start the candidate's replication as its check says, or name "
		       "another with --to");
	ck_assert_ptr_null(strstr(out, "    router:"));
	ck_assert_ptr_null(strstr(out, "one_writable_primary"));
	ck_assert_ptr_nonnull(strstr(check_next_step("replica_reachable"), "--allow-unreachable"));
	/* an upgrade's refusals */
	ck_assert_ptr_nonnull(strstr(check_next_step("replica_version"), "--allow-older-replicas"));
	ck_assert_ptr_nonnull(strstr(check_next_step("version"), "newer"));
	ck_assert_ptr_nonnull(strstr(check_next_step("router_reachable"), "--without-routers"));
	ck_assert_ptr_nonnull(strstr(check_next_step("router"), "check the router"));
	ck_assert_ptr_null(check_next_step("privileged_accounts"));   /* a warning only */
	/* Nothing was touched: no claim about blocked writes either way. */
	ck_assert_ptr_null(strstr(out, "writes blocked"));
	free(out);
}
END_TEST

START_TEST(test_report_dry_run_and_missing)
{
	char *out;
	int rc;

	out = render_plain(render_report, DRY_RUN_REPORT);
	ck_assert_line(out, "DRY RUN OK: switchover d-1, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  checks: 1 passed, 0 failed, 1 warning:");
	ck_assert_line(out, "  total: 1.3 ms");
	ck_assert_ptr_null(strstr(out, "writes blocked"));
	ck_assert_ptr_null(strstr(out, "next steps"));
	free(out);

	out = render_plain(render_report, "{\"outcome\":\"sideways\",\"checks\":[{}],\"phases\":[{}]}");
	ck_assert_line(out, "OUTCOME sideways: switchover ?, cluster ?: ?" ARROW_S "?");
	ck_assert_line(out, "  checks: 0 passed, 1 failed, 0 warnings:");
	ck_assert_line(out, "    ?  ?  ?");
	ck_assert_line(out, "  ?       -  ?");
	free(out);

	out = render_doc(render_report, "\"done\"", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

/* An upgrade: the report names both versions and what is kept at the fence point, done or dry;
 * the plan says the old primary is not reversed and what the older replicas get. */
#define UPGRADE_OBJ(left) \
	"\"upgrade\":{\"from\":\"MariaDB 10.11\",\"to\":\"MariaDB 11.8\",\"from_version\":\"10.11.19-MariaDB\"," \
	"\"to_version\":\"11.8.9-MariaDB\",\"old_primary_kept\":\"db1\",\"left_at_fence_point\":[" left "]}"
START_TEST(test_report_upgrade)
{
	char *out = render_plain(render_report,
		"{\"id\":\"u\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db3\",\"outcome\":\"done\","
		"\"checks\":[],\"phases\":[],\"write_blocked_ms\":9.5,\"fence_point\":\"0-1-65\","
		UPGRADE_OBJ("{\"server\":\"db2\",\"version\":\"10.11.19-MariaDB\",\"stopped_at\":\"0-1-65\",\"reached\":true},"
			    "{\"server\":\"db4\",\"version\":\"10.11.6-MariaDB\",\"stopped_at\":\"0-1-60\",\"reached\":false}") "}");

	ck_assert_line(out, "  upgrade: MariaDB 10.11 (10.11.19-MariaDB)" ARROW_S "MariaDB 11.8 (11.8.9-MariaDB)");
	ck_assert_line(out, "  rollback point: db1, read-only and replicating from nothing at the fence point 0-1-65");
	ck_assert_line(out, "  rollback point: db2 (10.11.19-MariaDB) left stopped at the fence point");
	ck_assert_line(out, "  rollback point: db4 (10.11.6-MariaDB) left stopped at 0-1-60, short of the fence point");
	free(out);
	out = render_plain(render_report,
		"{\"id\":\"u\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db3\",\"outcome\":\"dry_run\","
		"\"checks\":[],\"phases\":[],\"fence_point\":null,"
		UPGRADE_OBJ("{\"server\":\"db2\",\"version\":\"10.11.19-MariaDB\"}") "}");
	ck_assert_line(out, "  rollback point: db1 would stay read-only and replicate from nothing at the fence point");
	ck_assert_line(out, "  rollback point: db2 (10.11.19-MariaDB) would be left stopped at the fence point");
	free(out);

	/* the plan: no reverse replication, and what the older replicas get */
	plan_args = "{\"to\":\"db3\",\"allow_older_replicas\":true}";
	out = render_plain(render_plan_fixture,
		"{\"id\":\"u\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db3\",\"outcome\":\"dry_run\","
		"\"checks\":[],\"phases\":[]," UPGRADE_OBJ("") "}");
	ck_assert_line(out, "    reverse         no: an upgrade to MariaDB 11.8; db1 (MariaDB 10.11) cannot replicate from it "
			    "and stays read-only at the fence point, the rollback point");
	ck_assert_line(out, "    older replicas  left stopped at the fence point, with the old primary "
			    "(--allow-older-replicas)");
	free(out);
}
END_TEST

START_TEST(test_plan)
{
	char *out;
	int rc;

	plan_args = "{\"to\":\"db2\",\"max_lag_ms\":500,\"reverse\":false,\"pause_before\":\"sync\"}";
	out = render_plain(render_plan_fixture, DRY_RUN_REPORT);
	ck_assert_line(out, "switchover plan for cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  checks:");
	/* Every check, the passed ones too: this is what the person is asked to approve. */
	ck_assert_line(out, "    pass  candidate_lag  lag 0 ms");
	ck_assert_line(out, "    warn  router         router h2 unreachable");
	ck_assert_line(out, "  options:");
	ck_assert_line(out, "    candidate      db2 (--to)");
	ck_assert_line(out, "    max lag        500 ms (--max-lag)");
	ck_assert_line(out, "    drain timeout  the cluster's drain_timeout");
	ck_assert_line(out, "    sync timeout   the cluster's sync_timeout");
	ck_assert_line(out, "    reverse        no: db1 stays read-only and replicates from nothing (--no-reverse)");
	/* a pause past the fence says that it blocks every write, and for how long at most */
	ck_assert_line(out, "    pause before   sync: EVERY WRITE IS BLOCKED (past the fence) while paused; rolls back "
		       "if left paused past the cluster's blocked_pause_timeout");
	ck_assert_line(out, "    unreachable    refuse when another replica is unreachable");
	free(out);

	plan_args = "{\"drain_timeout_ms\":2000,\"sync_timeout_ms\":1500,\"allow_unreachable\":true}";
	out = render_plain(render_plan_fixture, DRY_RUN_REPORT);
	ck_assert_line(out, "    pause before   none");
	free(out);

	plan_args = "{\"pause_before\":\"promote\",\"pause_timeout_ms\":5000}";
	out = render_plain(render_plan_fixture, DRY_RUN_REPORT);
	ck_assert_line(out, "    pause before   promote: EVERY WRITE IS BLOCKED (past the fence) while paused; rolls "
		       "back if left paused 5s (--pause-timeout)");
	free(out);

	plan_args = "{\"drain_timeout_ms\":2000,\"sync_timeout_ms\":1500,\"allow_unreachable\":true}";
	out = render_plain(render_plan_fixture, DRY_RUN_REPORT);
	ck_assert_line(out, "    candidate      db2 (the best replica, chosen by cutoverd)");
	ck_assert_line(out, "    max lag        the cluster's max_lag");
	ck_assert_line(out, "    drain timeout  2000 ms (--drain-timeout)");
	ck_assert_line(out, "    sync timeout   1500 ms (--sync-timeout)");
	ck_assert_line(out, "    reverse        the cluster's reverse_replication (when on: db1 becomes a "
		       "replica of db2)");
	ck_assert_line(out, "    pause before   none");
	ck_assert_line(out, "    unreachable    go on although other replicas are unreachable "
		       "(--allow-unreachable)");
	free(out);

	/* what is not given shows the value the daemon will use: its running configuration */
	plan_args = "{\"sync_timeout_ms\":1500,\"pause_before\":\"fence\"}";
	plan_cfg = json_loads("{\"name\":\"main\",\"max_lag_ms\":1000,\"drain_timeout_ms\":5000,"
			      "\"sync_timeout_ms\":10000,\"reverse_replication\":true,\"pause_timeout_ms\":600000,"
			      "\"blocked_pause_timeout_ms\":30000}", 0, NULL);
	out = render_plain(render_plan_fixture, DRY_RUN_REPORT);
	json_decref(plan_cfg);
	plan_cfg = NULL;
	ck_assert_line(out, "    pause before   fence: nothing is blocked while paused; rolls back if left paused 10m "
		       "(the cluster's pause_timeout)");
	ck_assert_line(out, "    max lag        1000 ms (the cluster's max_lag)");
	ck_assert_line(out, "    drain timeout  5000 ms (the cluster's drain_timeout)");
	ck_assert_line(out, "    sync timeout   1500 ms (--sync-timeout)");
	ck_assert_line(out, "    reverse        yes: db1 becomes a replica of db2 (the cluster's reverse_replication)");
	free(out);

	out = render_doc(render_plan_fixture, "null", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);
}
END_TEST

/* ---- render_history --------------------------------------------------------------------- */

START_TEST(test_history_table)
{
	const char *doc =
		"{\"cluster\":\"main\",\"switchovers\":["
		"{\"id\":\"s-1\",\"started\":\"2026-11-21T13:47:00.123456Z\",\"old_primary\":\"db1\",\"new_primary\":\"db2\","
		" \"outcome\":\"done\",\"phases\":[{\"phase\":\"preflight\",\"ms\":2.0,\"ok\":true},"
		" {\"phase\":\"drain\",\"ms\":210.5,\"ok\":true},{\"phase\":\"promote\",\"ms\":20.0,\"ok\":true}],"
		" \"write_blocked_ms\":14.8,\"reason\":null},"
		"{\"id\":\"s-2\",\"started\":\"2026-11-22T08:00:01Z\",\"old_primary\":\"db2\",\"new_primary\":\"db1\","
		" \"outcome\":\"rolled_back\",\"phases\":[{\"phase\":\"sync\",\"ms\":null,\"ok\":false}],"
		" \"write_blocked_ms\":null,\"reason\":\"aborted by the operator\"},"
		"{\"id\":\"s-3\",\"started\":\"bad\",\"old_primary\":\"db1\",\"new_primary\":\"db3\","
		" \"outcome\":\"interrupted\",\"phases\":null,\"write_blocked_ms\":null,\"reason\":null}]}";
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL, *out, *head, *row;
	int rc;

	setenv("TZ", "UTC", 1);
	tzset();
	out = render_plain(render_history, doc);
	ck_assert_line(out, "cluster main: 3 switchovers, oldest first");
	ck_assert_line(out, "  STARTED              ID   OLD" ARROW_S "NEW  OUTCOME      BLOCKED(ms)  PHASES(ms)  REASON");
	ck_assert_line(out, "  2026-11-21 13:47:00  s-1  db1" ARROW_S "db2  done                14.8       232.5");
	ck_assert_line(out, "  2026-11-22 08:00:01  s-2  db2" ARROW_S "db1  rolled_back            -           -  "
		       "aborted by the operator");
	ck_assert_line(out, "  bad                  s-3  db1" ARROW_S "db3  interrupted            -           -");
	ck_assert_int_eq(count_lines(out), 5);
	/* The numbers are right-aligned under their headers. */
	head = line_with(out, "STARTED");
	row = line_with(out, "s-1");
	ck_assert_int_eq(strstr(head, "BLOCKED(ms)") - head + 11, strstr(row, "14.8") - row + 4);
	free(head);
	free(row);
	free(out);

	/* A failover is marked as one, when the daemon says so. */
	out = render_plain(render_history, "{\"cluster\":\"main\",\"switchovers\":[{\"id\":\"f-1\","
			   "\"started\":\"2026-11-21T13:47:00Z\",\"old_primary\":\"db1\",\"new_primary\":\"db2\","
			   "\"kind\":\"failover\",\"outcome\":\"done\",\"phases\":[],\"write_blocked_ms\":5.2}]}");
	ck_assert_line(out, "  2026-11-21 13:47:00  f-1  db1" ARROW_S "db2 (failover)  done             5.2           -");
	free(out);

	out = render_plain(render_history, "{\"cluster\":\"main\",\"switchovers\":[]}");
	ck_assert_str_eq(out, "no switchovers on cluster main\n");
	free(out);

	out = render_doc(render_history, "{\"cluster\":\"main\"}", &plain, &rc);
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

/* ---- status with a switchover, and the control commands --------------------------------- */

START_TEST(test_status_interrupted_cutover)
{
	const struct render_opts color = { true, 0 };
	const char *doc =
		"{\"clusters\":[{\"name\":\"main\",\"verdict\":\"WARN\",\"primary\":\"db2\",\"reasons\":[\"r\"],"
		"\"cutover\":{\"id\":\"s-9\",\"state\":\"interrupted\",\"phase\":\"promote\",\"old_primary\":\"db1\","
		"\"new_primary\":\"db2\",\"point_of_no_return_passed\":true,\"elapsed_ms\":null,\"phases\":[]},"
		"\"servers\":[],\"routers\":[]}]}";
	char *out = render_plain(render_status, doc), *second;
	int rc;

	ck_assert_line(out, "  switchover s-9: db1" ARROW_S "db2, phase promote (state interrupted)");
	ck_assert_line(out, "  ! INTERRUPTED: cutoverd stopped during this switchover and could neither finish nor "
		       "undo it; new switchovers are refused until it is resolved.");
	ck_assert_line(out, "  ! Check which server is writable and where the routers send writes, then run: "
		       "cutoverctl resolve --cluster main");
	/* Right under the cluster's header, before the servers. */
	second = strchr(out, '\n') + 1;
	ck_assert_int_eq(strncmp(second, "  switchover s-9:", 17), 0);
	ck_assert_ptr_nonnull(strstr(strstr(out, "INTERRUPTED"), "no servers"));
	free(out);

	out = render_doc(render_status, doc, &color, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(strstr(out, "  \033[1;31mswitchover s-9:"));
	ck_assert_ptr_nonnull(strstr(out, "  \033[1;31m! INTERRUPTED:"));
	free(out);

	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"main\",\"cutover\":{\"id\":\"s-8\","
			   "\"state\":\"paused\",\"phase\":\"sync\",\"old_primary\":\"db1\",\"new_primary\":\"db2\"}}]}");
	ck_assert_line(out, "  switchover s-8: db1" ARROW_S "db2, phase sync (state paused)");
	ck_assert_line(out, "  paused: cutoverctl resume --cluster main goes on, cutoverctl abort --cluster main "
		       "rolls back");
	ck_assert_ptr_null(strstr(out, "resolve"));
	free(out);

	/* what the pause costs, and when it ends by itself */
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"main\",\"cutover\":{\"id\":\"s-8\","
			   "\"state\":\"paused\",\"phase\":\"sync\",\"writes_blocked\":true,"
			   "\"rolls_back_at\":\"2026-01-02T03:04:05Z\"}}]}");
	ck_assert_line(out, "  ! WRITES ARE BLOCKED while it is paused (past the fence); it rolls back on its own at "
		       "2026-01-02T03:04:05Z");
	free(out);
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"main\",\"cutover\":{\"id\":\"s-8\","
			   "\"state\":\"paused\",\"phase\":\"fence\",\"writes_blocked\":false,"
			   "\"rolls_back_at\":\"2026-01-02T03:04:05Z\"}}]}");
	ck_assert_line(out, "  nothing is blocked while it is paused (before the fence); it rolls back on its own at "
		       "2026-01-02T03:04:05Z");
	free(out);
}
END_TEST

START_TEST(test_control_replies)
{
	char *out;
	int rc;

	out = render_plain(render_abort, "{\"id\":\"s-1\",\"phase\":\"sync\",\"action\":\"rolling back\"}");
	ck_assert_str_eq(out, "switchover s-1 is rolling back (it was in phase sync); cutoverctl status shows "
			 "when it is done\n");
	free(out);
	out = render_plain(render_pause, "{\"id\":\"s-1\",\"pausing_after\":\"drain\"}");
	ck_assert_str_eq(out, "switchover s-1 pauses once phase drain is done; then cutoverctl resume goes on, "
			 "cutoverctl abort rolls back\n");
	free(out);
	out = render_plain(render_pause, "{\"id\":\"s-1\",\"pausing_after\":\"catchup\",\"writes_blocked\":false,"
			   "\"pause_limit_ms\":600000}");
	ck_assert_str_eq(out, "switchover s-1 pauses once phase catchup is done; then cutoverctl resume goes on, "
			 "cutoverctl abort rolls back\nthat is before the fence: nothing is blocked while it is paused\n"
			 "left paused 10m, it rolls back on its own\n");
	free(out);
	out = render_plain(render_pause, "{\"id\":\"s-1\",\"pausing_after\":\"fence\",\"writes_blocked\":true,"
			   "\"pause_limit_ms\":30000}");
	ck_assert_str_eq(out, "switchover s-1 pauses once phase fence is done; then cutoverctl resume goes on, "
			 "cutoverctl abort rolls back\nbeware: that is past the fence, so every write is blocked while it "
			 "is paused\nleft paused 30s, it rolls back on its own\n");
	free(out);
	out = render_plain(render_resume, "{\"id\":\"s-1\",\"resuming\":\"sync\"}");
	ck_assert_str_eq(out, "switchover s-1 resumes with phase sync\n");
	free(out);
	out = render_plain(render_resolve, "{\"id\":\"s-1\",\"resolved\":\"main\"}");
	ck_assert_str_eq(out, "switchover s-1 on cluster main is resolved; new switchovers are allowed again\n");
	free(out);
	out = render_plain(render_resume, "{}");
	ck_assert_str_eq(out, "switchover ? resumes with phase ?\n");
	free(out);
	out = render_doc(render_abort, "[]", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	free(out);
}
END_TEST


/* ---- the watchdog: failover reports, fence/unfence/stonith, authority, stale servers ------ */

#define FAILOVER_REPORT \
	"{\"id\":\"f-7\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db2\",\"outcome\":\"done\"," \
	"\"reason\":null,\"kind\":\"failover\",\"automatic\":false," \
	"\"checks\":[{\"check\":\"primary_down\",\"result\":\"pass\",\"message\":\"db1 is unreachable\"}," \
	" {\"check\":\"most_advanced\",\"result\":\"warn\",\"message\":\"db3 received more\"}]," \
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":1.0,\"ok\":true},{\"phase\":\"fence\",\"ms\":17.1,\"ok\":true}," \
	" {\"phase\":\"sync\",\"ms\":1.3,\"ok\":true},{\"phase\":\"promote\",\"ms\":3.4,\"ok\":true}," \
	" {\"phase\":\"verify\",\"ms\":1.9,\"ok\":true}]," \
	"\"write_blocked_ms\":19.2,\"fence_point\":\"0-1-42\",\"point_of_no_return_passed\":true," \
	"\"errant\":[{\"server\":\"db3\",\"gtids\":\"0-3-5\"},{\"server\":\"db4\",\"gtids\":\"9-4-1,9-4-2\"}]," \
	"\"total_ms\":25.1}"

START_TEST(test_report_failover)
{
	const struct render_opts color = { true, 0 };
	char *out = render_plain(render_report, FAILOVER_REPORT), *line;
	int rc;

	ck_assert_line(out, "DONE: FAILOVER f-7, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  checks: 1 passed, 0 failed, 1 warning:");
	ck_assert_line(out, "    warn  most_advanced  db3 received more");
	ck_assert_line(out, "  fence      17.1  yes");
	/* Writes stopped when db1 died: the report cannot claim to know for how long. */
	ck_assert_line(out, "  writes routed to db2 19.2 ms after the fence began");
	ck_assert_line(out, "  new primary starts from: 0-1-42");
	ck_assert_ptr_null(strstr(out, "writes blocked"));
	ck_assert_ptr_null(strstr(out, "fence point"));
	ck_assert_line(out, "  db3 holds transactions db2 lacks: 0-3-5 \xe2\x80\x94 left stopped, not repointed");
	ck_assert_line(out, "  db4 holds transactions db2 lacks: 9-4-1,9-4-2 \xe2\x80\x94 left stopped, not repointed");
	ck_assert_line(out, "  reconcile them by hand (keep or discard those transactions), then make them "
		       "replicate from db2");
	/* Started by a person: no word about cutoverd deciding on its own. */
	ck_assert_ptr_null(strstr(out, "auto_failover"));
	/* The errant replicas come after the timings, before anything else. */
	ck_assert_ptr_nonnull(strstr(strstr(out, "total: 25.1 ms"), "db3 holds"));
	free(out);

	out = render_doc(render_report, FAILOVER_REPORT, &color, &rc);
	ck_assert_int_eq(rc, 0);
	line = line_with(out, "db3 holds");
	ck_assert_str_eq(line, "  \033[33mdb3 holds transactions db2 lacks: 0-3-5 \xe2\x80\x94 left stopped, "
			 "not repointed\033[0m");
	free(line);
	free(out);

	/* Automatic, one errant replica, nothing measured; a failover's rollback promoted nothing. */
	out = render_plain(render_report, "{\"id\":\"f-8\",\"cluster\":\"main\",\"old_primary\":\"db1\","
			   "\"new_primary\":\"db2\",\"outcome\":\"rolled_back\",\"kind\":\"failover\",\"automatic\":true,"
			   "\"reason\":\"fence: db1 could not be fenced\",\"phases\":[],\"write_blocked_ms\":null,"
			   "\"fence_point\":null,\"point_of_no_return_passed\":false,"
			   "\"errant\":[{\"server\":\"db3\",\"gtids\":\"0-3-5\"}]}");
	ck_assert_line(out, "ROLLED BACK: FAILOVER f-8, cluster main: db1" ARROW_S "db2");
	ck_assert_line(out, "  started by cutoverd itself: the primary was declared dead (auto_failover)");
	ck_assert_line(out, "  reconcile it by hand (keep or discard those transactions), then make it replicate "
		       "from db2");
	ck_assert_line(out, "  rolled back: nothing was promoted, db2 replicates as before and db1 is still the "
		       "recorded primary; deal with the reason above, then try again");
	ck_assert_ptr_null(strstr(out, "is the primary again"));
	ck_assert_ptr_null(strstr(out, "writes"));
	ck_assert_ptr_null(strstr(out, "starts from"));
	free(out);

	/* No errant replicas, a hostile GTID text, and a switchover report that says so. */
	out = render_plain(render_report, "{\"id\":\"f-9\",\"outcome\":\"done\",\"kind\":\"failover\","
			   "\"errant\":[],\"new_primary\":\"db2\"}");
	ck_assert_ptr_null(strstr(out, "holds transactions"));
	ck_assert_ptr_null(strstr(out, "reconcile"));
	free(out);
	out = render_plain(render_report, "{\"id\":\"f-10\",\"outcome\":\"done\",\"kind\":\"failover\","
			   "\"errant\":[{\"server\":\"db3\",\"gtids\":\"0-3-5\\n\\u001b[2J\"},{}]}");
	ck_assert_line(out, "  db3 holds transactions ? lacks: 0-3-5  [2J \xe2\x80\x94 left stopped, not repointed");
	ck_assert_line(out, "  ? holds transactions ? lacks: ? \xe2\x80\x94 left stopped, not repointed");
	free(out);
	out = render_plain(render_report, "{\"id\":\"s-1\",\"outcome\":\"done\",\"kind\":\"switchover\","
			   "\"old_primary\":\"db1\",\"new_primary\":\"db2\",\"write_blocked_ms\":3.5}");
	ck_assert_line(out, "DONE: switchover s-1, cluster ?: db1" ARROW_S "db2");
	ck_assert_line(out, "  writes blocked: 3.5 ms");
	free(out);
}
END_TEST

START_TEST(test_plan_failover)
{
	const char *report =
		"{\"id\":\"d-2\",\"cluster\":\"main\",\"old_primary\":\"db1\",\"new_primary\":\"db2\","
		"\"outcome\":\"dry_run\",\"kind\":\"failover\",\"automatic\":false,\"errant\":[],"
		"\"checks\":[{\"check\":\"primary_down\",\"result\":\"pass\",\"message\":\"db1 is unreachable\"}]}";
	char *out;
	int rc;

	plan_args = "{}";
	out = render_doc(render_plan_fixture, report, &plain, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_line(out, "failover plan for cluster main: db1 (dead)" ARROW_S "db2");
	ck_assert_line(out, "    pass  primary_down  db1 is unreachable");
	ck_assert_line(out, "    new primary   db2 (the replica that received the most, chosen by cutoverd)");
	ck_assert_line(out, "    sync timeout  the cluster's sync_timeout");
	ck_assert_line(out, "    fencing       read_only on db1 if it answers, else its STONITH hook; if both "
		       "fail, nothing is changed");
	ck_assert_line(out, "    replicas      follow db2; one holding transactions db2 lacks is left stopped "
		       "and reported");
	/* What a switchover would do does not apply. */
	ck_assert_ptr_null(strstr(out, "drain"));
	ck_assert_ptr_null(strstr(out, "reverse"));
	ck_assert_ptr_null(strstr(out, "switchover"));
	free(out);

	plan_args = "{\"to\":\"db2\",\"assume_fenced\":true,\"sync_timeout_ms\":9000}";
	out = render_doc(render_plan_fixture, report, &plain, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_line(out, "    new primary   db2 (--to)");
	ck_assert_line(out, "    sync timeout  9000 ms (--sync-timeout)");
	ck_assert_line(out, "    fencing       read_only on db1 if it answers, else its STONITH hook; if both "
		       "fail, go on anyway (--assume-fenced: you state db1 cannot take writes)");
	free(out);
}
END_TEST

START_TEST(test_action_replies)
{
	char *out;
	int rc;

	out = render_plain(render_action, "{\"action\":\"fence\",\"server\":\"db3\",\"result\":\"read_only is now 1\"}");
	ck_assert_str_eq(out, "db3 fenced: read_only is now 1\n");
	free(out);
	out = render_plain(render_action, "{\"action\":\"unfence\",\"server\":\"db3\",\"result\":\"read_only is now 0\"}");
	ck_assert_str_eq(out, "db3 unfenced: read_only is now 0\n");
	free(out);
	out = render_plain(render_action, "{\"action\":\"stonith\",\"server\":\"db1\","
			   "\"result\":\"hook exit status 0: powered off db1\"}");
	ck_assert_str_eq(out, "STONITH hook against db1 succeeded: hook exit status 0: powered off db1\n");
	free(out);
	/* An action this cutoverctl does not know is shown as sent, and nothing is trusted. */
	out = render_plain(render_action, "{\"action\":\"zap\",\"server\":\"db1\\u001b[2J\",\"result\":\"ok\"}");
	ck_assert_str_eq(out, "zap db1 [2J: ok\n");
	free(out);
	out = render_plain(render_action, "{}");
	ck_assert_str_eq(out, "? ?: ?\n");
	free(out);
	out = render_doc(render_action, "\"fenced\"", &plain, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

START_TEST(test_status_authority_and_stale)
{
	const char *doc =
		"{\"clusters\":[{\"name\":\"main\",\"verdict\":\"CRIT\",\"primary\":null,\"authority\":\"db1\","
		"\"reasons\":[],\"alarms\":[],\"servers\":["
		"{\"name\":\"db1\",\"role\":\"primary\",\"state\":\"up\",\"reachable\":false,\"stale\":true,"
		" \"last_error\":\"connect: refused\",\"read_only\":null,\"lag_ms\":null,\"gtid\":\"0-1-41\","
		" \"replication\":null},"
		"{\"name\":\"db2\",\"role\":\"unknown\",\"state\":\"down\",\"reachable\":false,\"stale\":true,"
		" \"read_only\":false,\"lag_ms\":7,\"gtid\":\"0-1-40\",\"replication\":{\"io_running\":\"Yes\","
		" \"sql_running\":\"Yes\"}},"
		"{\"name\":\"db3\",\"role\":\"replica\",\"state\":\"up\",\"reachable\":true,\"stale\":false,"
		" \"read_only\":true,\"lag_ms\":0,\"gtid\":\"0-1-41\",\"replication\":{\"io_running\":\"Connecting\","
		" \"sql_running\":\"Yes\"}}],"
		"\"routers\":[{\"name\":\"haproxy\",\"type\":\"haproxy\",\"reachable\":true,\"writer\":\"db1\","
		"\"writer_matches_primary\":null}]}]}";
	char *out = render_plain(render_status, doc);

	ck_assert_line(out, "cluster main \xe2\x80\x94 CRIT \xe2\x80\x94 no primary");
	/* Stale: what it said last is not what it is now, whatever the document still holds. */
	ck_assert_line(out, "  db1     primary  up     ?          ?  ?           ?    0-1-41  connect: refused");
	ck_assert_line(out, "  db2     unknown  down   ?          ?  ?           ?    0-1-40");
	ck_assert_line(out, "  db3     replica  up     yes        0  Connecting  Yes  0-1-41");
	ck_assert_line(out, "  authority: db1 (the last primary recorded in the journal; primary now: none)");
	ck_assert_line(out, "  router haproxy (haproxy): writer db1 \xe2\x80\x94 the cluster has no primary");
	/* Before the alarms and the verdict, after the routers. */
	ck_assert_ptr_nonnull(strstr(strstr(out, "router haproxy"), "authority:"));
	ck_assert_ptr_nonnull(strstr(strstr(out, "authority:"), "verdict:"));
	free(out);

	/* The same primary, or none recorded: nothing to say. */
	out = render_plain(render_status, HEALTHY);
	ck_assert_ptr_null(strstr(out, "authority"));
	free(out);
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"m\",\"primary\":\"db1\",\"authority\":\"db1\"},"
			   "{\"name\":\"n\",\"primary\":null,\"authority\":null},"
			   "{\"name\":\"o\",\"primary\":\"db2\",\"authority\":\"db1\"}]}");
	ck_assert_int_eq(strstr(out, "authority") - out, strstr(out, "  authority: db1 (the last primary recorded "
								"in the journal; primary now: db2)") - out + 2);
	ck_assert_ptr_null(strstr(strstr(out, "authority") + 1, "authority"));
	free(out);

	/* A failover in progress says so. */
	out = render_plain(render_status, "{\"clusters\":[{\"name\":\"main\",\"cutover\":{\"id\":\"f-1\","
			   "\"kind\":\"failover\",\"state\":\"running\",\"phase\":\"fence\",\"old_primary\":\"db1\","
			   "\"new_primary\":\"db2\"}}]}");
	ck_assert_line(out, "  failover f-1: db1" ARROW_S "db2, phase fence (state running)");
	free(out);
}
END_TEST

/* ---- args_parse (ctl/args.c) ------------------------------------------------------------ */

static int parse_words(unsigned allowed, const char *global, struct cmd_args *a, char *err, size_t errlen,
		       const char *cmd, ...)
{
	char *argv[32];
	const char *w;
	va_list ap;
	int argc = 0;

	va_start(ap, cmd);
	while ((w = va_arg(ap, const char *)) && argc < 32)
		argv[argc++] = (char *)w;
	va_end(ap);
	return args_parse(cmd, allowed, argc, argv, global, a, err, errlen);
}

#define PARSE_OK(allowed, global, a, ...) do { \
		char e_[512]; \
		int r_ = parse_words((allowed), (global), (a), e_, sizeof(e_), __VA_ARGS__, (const char *)NULL); \
		ck_assert_msg(r_ == 0, "unexpected error: %s", e_); \
	} while (0)

/* The parse must fail with a message that holds `needle`. */
#define PARSE_ERR(allowed, global, needle, ...) do { \
		struct cmd_args a_; \
		char e_[512]; \
		int r_ = parse_words((allowed), (global), &a_, e_, sizeof(e_), __VA_ARGS__, (const char *)NULL); \
		ck_assert_int_eq(r_, -1); \
		ck_assert_msg(strstr(e_, (needle)) != NULL, "message \"%s\" lacks \"%s\"", e_, (needle)); \
	} while (0)

static void assert_args_json(const struct cmd_args *a, const char *expect)
{
	json_t *got = args_to_json(a), *want = json_loads(expect, 0, NULL);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_ptr_nonnull(want);
	ck_assert_msg(json_equal(got, want), "args %s, expected %s", g, expect);
	free(g);
	json_decref(got);
	json_decref(want);
}

START_TEST(test_args_switchover_all)
{
	struct cmd_args a;

	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--cluster", "main", "--to=db2", "--dry-run",
		 "--max-lag", "250ms", "--drain-timeout", "2s", "--sync-timeout", "1500", "--no-reverse",
		 "--pause-before", "sync", "--allow-unreachable", "-y");
	ck_assert_str_eq(a.cluster, "main");
	ck_assert(!a.allow_older_replicas);
	ck_assert_str_eq(a.to, "db2");
	ck_assert(a.dry_run && a.no_reverse && a.allow_unreachable && a.yes && !a.help);
	ck_assert_int_eq(a.max_lag_ms, 250);
	ck_assert_int_eq(a.drain_timeout_ms, 2000);
	ck_assert_int_eq(a.sync_timeout_ms, 1500);
	ck_assert_str_eq(a.pause_before, "sync");
	/* --yes is the client's business: it is not sent. */
	assert_args_json(&a, "{\"cluster\":\"main\",\"to\":\"db2\",\"dry_run\":true,\"max_lag_ms\":250,"
			 "\"drain_timeout_ms\":2000,\"sync_timeout_ms\":1500,\"reverse\":false,"
			 "\"pause_before\":\"sync\",\"allow_unreachable\":true}");

	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--to", "db3", "--allow-older-replicas");
	ck_assert(a.allow_older_replicas);
	assert_args_json(&a, "{\"to\":\"db3\",\"allow_older_replicas\":true}");

	/* Nothing given: nothing sent, the daemon applies the cluster's settings. */
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover");
	ck_assert_ptr_null(a.cluster);
	ck_assert_int_eq(a.max_lag_ms, -1);
	ck_assert(!a.yes && !a.dry_run);
	assert_args_json(&a, "{}");

	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "-C", "main", "--to", "db3", "--yes");
	assert_args_json(&a, "{\"cluster\":\"main\",\"to\":\"db3\"}");
	ck_assert(a.yes);
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "-Cmain");
	ck_assert_str_eq(a.cluster, "main");
	/* Names that look like options need the = form. */
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--to=-odd");
	ck_assert_str_eq(a.to, "-odd");
}
END_TEST

START_TEST(test_args_durations)
{
	struct cmd_args a;

	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--max-lag", "0", "--drain-timeout", "1.5s",
		 "--sync-timeout", "1m");
	ck_assert_int_eq(a.max_lag_ms, 0);
	ck_assert_int_eq(a.drain_timeout_ms, 1500);
	ck_assert_int_eq(a.sync_timeout_ms, 60000);
	assert_args_json(&a, "{\"max_lag_ms\":0,\"drain_timeout_ms\":1500,\"sync_timeout_ms\":60000}");
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--drain-timeout=24h");
	ck_assert_int_eq(a.drain_timeout_ms, 86400000);
	/* a pause's limit, on switchover and on pause; under a second it would end before anyone acts */
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--pause-before", "fence", "--pause-timeout", "2m");
	assert_args_json(&a, "{\"pause_before\":\"fence\",\"pause_timeout_ms\":120000}");
	PARSE_OK(CO_CLUSTER | CO_PAUSE_TIMEOUT, NULL, &a, "pause", "--pause-timeout=45s");
	assert_args_json(&a, "{\"pause_timeout_ms\":45000}");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--pause-timeout 500ms: at least 1s", "switchover", "--pause-timeout", "500ms");

	PARSE_ERR(CO_SWITCHOVER, NULL, "--max-lag 5x: not a duration", "switchover", "--max-lag", "5x");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--max-lag needs a value", "switchover", "--max-lag", "-5");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--max-lag -5: not a duration", "switchover", "--max-lag=-5");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--drain-timeout 25h: more than a day", "switchover",
		  "--drain-timeout", "25h");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--sync-timeout must be more than 0", "switchover", "--sync-timeout", "0");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--sync-timeout  : not a duration", "switchover", "--sync-timeout", " ");
}
END_TEST

START_TEST(test_args_errors)
{
	PARSE_ERR(CO_SWITCHOVER, NULL, "switchover: unknown option --bogus (it takes --cluster NAME, --to NAME, "
		  "--dry-run", "switchover", "--bogus");
	PARSE_ERR(CO_SWITCHOVER, NULL, "switchover: --json is a global option: put it before the command "
		  "(cutoverctl --json switchover ...)", "switchover", "--json");
	PARSE_ERR(CO_SWITCHOVER, NULL, "-t is a global option", "switchover", "-t", "5s");
	PARSE_ERR(CO_CLUSTER, NULL, "abort: --to does not apply to abort (it takes --cluster NAME)", "abort",
		  "--to", "db2");
	PARSE_ERR(CO_CLUSTER, NULL, "-y does not apply to abort", "abort", "-y");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--to given twice", "switchover", "--to", "db2", "--to", "db3");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--dry-run given twice", "switchover", "--dry-run", "--dry-run");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--to needs a value", "switchover", "--to");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--to needs a value (got the option --dry-run;", "switchover", "--to",
		  "--dry-run");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--dry-run takes no value", "switchover", "--dry-run=yes");
	PARSE_ERR(CO_SWITCHOVER, NULL, "unexpected argument 'db2' (the candidate is given with --to db2",
		  "switchover", "db2");
	PARSE_ERR(CO_CLUSTER, NULL, "unexpected argument 'main' (give the cluster with --cluster main)", "pause",
		  "main");
	PARSE_ERR(CO_SWITCHOVER, NULL, "unexpected argument 'x'", "switchover", "--", "x");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--pause-before verify: not a phase a switchover can pause before "
		  "(drain, catchup, fence, sync, promote)", "switchover", "--pause-before", "verify");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--to '': not a server name", "switchover", "--to=");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--cluster '\xff': not a cluster name", "switchover", "--cluster", "\xff");
	PARSE_ERR(CO_SWITCHOVER, NULL, "unknown option -yC (options are given one per word)", "switchover", "-yC");
	PARSE_ERR(CO_CLUSTER | CO_LIMIT, NULL, "--limit 0: not a whole number from 1 to 100000", "history",
		  "--limit", "0");
	PARSE_ERR(CO_CLUSTER | CO_LIMIT, NULL, "--limit ten: not a whole number", "history", "--limit", "ten");

	/* A message longer than the buffer is cut, not overflowed. */
	{
		struct cmd_args a;
		char small[16];
		ck_assert_int_eq(parse_words(CO_SWITCHOVER, NULL, &a, small, sizeof(small), "switchover",
					     "--bogus", (const char *)NULL), -1);
		ck_assert_str_eq(small, "switchover: unk");
	}
}
END_TEST

START_TEST(test_args_global_cluster)
{
	struct cmd_args a;

	/* --cluster before the command counts for it, and may be repeated after it if the same. */
	PARSE_OK(CO_CLUSTER, "main", &a, "abort");
	ck_assert_str_eq(a.cluster, "main");
	ck_assert(a.given & CO_CLUSTER);
	assert_args_json(&a, "{\"cluster\":\"main\"}");
	PARSE_OK(CO_SWITCHOVER, "main", &a, "switchover", "--cluster", "main", "--to", "db2");
	assert_args_json(&a, "{\"cluster\":\"main\",\"to\":\"db2\"}");
	PARSE_ERR(CO_SWITCHOVER, "a", "--cluster a before the command and --cluster b after it name different "
		  "clusters", "switchover", "--cluster", "b");
	PARSE_ERR(CO_YES, "main", "--cluster does not apply to frob", "frob");
	PARSE_ERR(CO_CLUSTER, "", "--cluster '': not a cluster name", "abort");
}
END_TEST

START_TEST(test_args_history_and_help)
{
	struct cmd_args a;

	PARSE_OK(CO_CLUSTER | CO_LIMIT, NULL, &a, "history", "--limit", "5", "--cluster", "main");
	ck_assert_int_eq(a.limit, 5);
	assert_args_json(&a, "{\"cluster\":\"main\",\"limit\":5}");

	/* --help wins over anything after it, and every command takes it. */
	PARSE_OK(CO_CLUSTER, NULL, &a, "abort", "--help", "--bogus");
	ck_assert(a.help);
	PARSE_OK(CO_SWITCHOVER, NULL, &a, "switchover", "--to", "db2", "-h");
	ck_assert(a.help);
	PARSE_ERR(CO_SWITCHOVER, NULL, "unknown option --bogus", "switchover", "--bogus", "--help");
}
END_TEST


START_TEST(test_args_failover)
{
	struct cmd_args a;

	PARSE_OK(CO_FAILOVER, NULL, &a, "failover", "--cluster", "main", "--to", "db2", "--assume-fenced",
		 "--dry-run", "--sync-timeout", "2s", "-y");
	ck_assert(a.assume_fenced && a.dry_run && a.yes && !a.force);
	ck_assert_int_eq(a.sync_timeout_ms, 2000);
	/* The API's names: assume_fenced, sync_timeout_ms; --yes stays in the client. */
	assert_args_json(&a, "{\"cluster\":\"main\",\"to\":\"db2\",\"assume_fenced\":true,\"dry_run\":true,"
			 "\"sync_timeout_ms\":2000}");
	PARSE_OK(CO_FAILOVER, NULL, &a, "failover");
	ck_assert(!a.assume_fenced);
	assert_args_json(&a, "{}");
	PARSE_OK(CO_FAILOVER, "main", &a, "failover", "--assume-fenced");
	assert_args_json(&a, "{\"cluster\":\"main\",\"assume_fenced\":true}");
	PARSE_OK(CO_FAILOVER, NULL, &a, "failover", "--without-routers");
	ck_assert(a.without_routers && !a.assume_fenced);
	assert_args_json(&a, "{\"without_routers\":true}");
	PARSE_ERR(CO_SWITCHOVER, NULL, "--without-routers does not apply to switchover", "switchover",
		  "--without-routers");

	/* What only a switchover does is refused by name, with what failover takes. */
	PARSE_ERR(CO_FAILOVER, NULL, "failover: --no-reverse does not apply to failover (it takes --cluster NAME, "
		  "--to NAME, --dry-run, --sync-timeout MS, --assume-fenced, --without-routers, --yes)", "failover", "--no-reverse");
	PARSE_ERR(CO_FAILOVER, NULL, "--max-lag does not apply to failover", "failover", "--max-lag", "5");
	PARSE_ERR(CO_FAILOVER, NULL, "--pause-before does not apply", "failover", "--pause-before", "sync");
	PARSE_ERR(CO_FAILOVER, NULL, "--force does not apply", "failover", "--force");
	PARSE_ERR(CO_FAILOVER, NULL, "--assume-fenced takes no value", "failover", "--assume-fenced=yes");
	PARSE_ERR(CO_FAILOVER, NULL, "--assume-fenced given twice", "failover", "--assume-fenced", "--assume-fenced");
	PARSE_ERR(CO_FAILOVER, NULL, "--sync-timeout must be more than 0", "failover", "--sync-timeout", "0");
	PARSE_ERR(CO_FAILOVER, NULL, "unexpected argument 'db2' (the candidate is given with --to db2", "failover",
		  "db2");
	/* --assume-fenced is no switchover option either. */
	PARSE_ERR(CO_SWITCHOVER, NULL, "--assume-fenced does not apply to switchover", "switchover",
		  "--assume-fenced");
}
END_TEST

START_TEST(test_args_server)
{
	struct cmd_args a;

	PARSE_OK(CO_FENCE, NULL, &a, "fence", "db3");
	ck_assert_str_eq(a.server, "db3");
	ck_assert(!a.force && !a.yes);
	assert_args_json(&a, "{\"server\":\"db3\"}");
	/* Options before or after the name. */
	PARSE_OK(CO_FENCE, NULL, &a, "stonith", "--force", "db1", "-y");
	ck_assert_str_eq(a.server, "db1");
	ck_assert(a.force && a.yes);
	assert_args_json(&a, "{\"server\":\"db1\",\"force\":true}");
	PARSE_OK(CO_SERVER | CO_YES, NULL, &a, "unfence", "--yes", "db3");
	assert_args_json(&a, "{\"server\":\"db3\"}");
	/* A name that starts with '-' after "--". */
	PARSE_OK(CO_FENCE, NULL, &a, "fence", "--force", "--", "-odd");
	ck_assert_str_eq(a.server, "-odd");
	/* --help needs no name. */
	PARSE_OK(CO_FENCE, NULL, &a, "fence", "--help");
	ck_assert(a.help);

	PARSE_ERR(CO_FENCE, NULL, "fence: which server? (cutoverctl fence NAME)", "fence");
	PARSE_ERR(CO_FENCE, NULL, "fence: which server?", "fence", "--force", "-y");
	PARSE_ERR(CO_FENCE, NULL, "one server at a time ('db1' and 'db2' given)", "fence", "db1", "db2");
	PARSE_ERR(CO_FENCE, NULL, "one server at a time", "fence", "db1", "--", "db2");
	PARSE_ERR(CO_FENCE, NULL, "'': not a server name", "fence", "");
	PARSE_ERR(CO_FENCE, NULL, "'\xff': not a server name", "fence", "\xff");
	PARSE_ERR(CO_SERVER | CO_YES, NULL, "unfence: --force does not apply to unfence (it takes --yes)", "unfence",
		  "db3", "--force");
	PARSE_ERR(CO_FENCE, NULL, "--to does not apply to fence", "fence", "--to", "db3");
	/* The API's fence has no cluster: the server's name is unique across clusters. */
	PARSE_ERR(CO_FENCE, "main", "--cluster does not apply to fence", "fence", "db3");
	/* Commands without a server keep refusing words. */
	PARSE_ERR(CO_CLUSTER, NULL, "unexpected argument 'db3'", "abort", "db3");
}
END_TEST

START_TEST(test_confirm_name)
{
	ck_assert(confirm_name("db1", "db1"));
	ck_assert(confirm_name("db1\n", "db1"));
	ck_assert(confirm_name("  db1 \r\n", "db1"));
	ck_assert(confirm_name("\tdb-east-1\t\n", "db-east-1"));
	/* Exactly the name: case, prefixes and extensions are other servers. */
	ck_assert(!confirm_name("DB1\n", "db1"));
	ck_assert(!confirm_name("db\n", "db1"));
	ck_assert(!confirm_name("db11\n", "db1"));
	ck_assert(!confirm_name("db1 db1\n", "db1"));
	ck_assert(!confirm_name("y\n", "db1"));
	ck_assert(!confirm_name("yes\n", "db1"));
	/* Nothing typed (end of input), or nothing to match. */
	ck_assert(!confirm_name(NULL, "db1"));
	ck_assert(!confirm_name("\n", "db1"));
	ck_assert(!confirm_name("", ""));
	ck_assert(!confirm_name("db1", NULL));
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
	tcase_add_test(tc, test_status_rollback_point);
	tcase_add_test(tc, test_status_held_verdict);
	tcase_add_test(tc, test_status_no_clusters);
	tcase_add_test(tc, test_status_missing_members);
	tcase_add_test(tc, test_status_column_alignment);
	tcase_add_test(tc, test_status_long_gtid_cut);
	tcase_add_test(tc, test_status_error_cut_to_terminal);
	tcase_add_test(tc, test_status_color);
	tcase_add_test(tc, test_status_hostile_text);
	tcase_add_test(tc, test_status_replication_error);
	tcase_add_test(tc, test_status_routers_alarms_cutover);
	tcase_add_test(tc, test_status_interrupted_cutover);
	tcase_add_test(tc, test_status_authority_and_stale);
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

	tc = tcase_create("render_progress");
	tcase_add_test(tc, test_progress_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_report");
	tcase_add_test(tc, test_report_done);
	tcase_add_test(tc, test_report_rolled_back);
	tcase_add_test(tc, test_report_failed);
	tcase_add_test(tc, test_report_refused);
	tcase_add_test(tc, test_report_dry_run_and_missing);
	tcase_add_test(tc, test_report_failover);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_plan");
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_report_upgrade);
	tcase_add_test(tc, test_plan_failover);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_history");
	tcase_add_test(tc, test_history_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_control");
	tcase_add_test(tc, test_control_replies);
	suite_add_tcase(s, tc);

	tc = tcase_create("render_action");
	tcase_add_test(tc, test_action_replies);
	suite_add_tcase(s, tc);

	tc = tcase_create("args_parse");
	tcase_add_test(tc, test_args_switchover_all);
	tcase_add_test(tc, test_args_durations);
	tcase_add_test(tc, test_args_errors);
	tcase_add_test(tc, test_args_global_cluster);
	tcase_add_test(tc, test_args_history_and_help);
	tcase_add_test(tc, test_args_failover);
	tcase_add_test(tc, test_args_server);
	suite_add_tcase(s, tc);

	tc = tcase_create("confirm_name");
	tcase_add_test(tc, test_confirm_name);
	suite_add_tcase(s, tc);
	return s;
}
