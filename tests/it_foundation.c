/* Acceptance tests of the "foundation" issue against real servers: what `status` reports is what
 * the servers say, failures show within a few polls, a hung server does not hang the API, bad
 * requests get typed errors, access control, reload, cutoverctl and events; and (issue 10) a
 * non-admin client looping `history` over a 15 MiB journal during a switchover.  Each test starts
 * from the baseline (it_lib.h) and puts back what it changed. */
#include "it_lib.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLACK_MS 1000           /* scheduling slack on a busy 2-core machine */
#define CONNECT_TIMEOUT_MS 1000 /* cutoverd's default connect_timeout */

Suite *it_foundation_suite(void);

static json_t *db3_status(json_t **st);
static void expect_error(struct it_conn *c, const char *line, const char *code, const char *what);
struct gtid_seen;
static void gtid_sample(struct gtid_seen *g, int i);
static bool gtid_was_seen(const struct gtid_seen *g, const char *v);
static bool server_matches(json_t *st, int i, struct gtid_seen *g, char *why, size_t len);
static bool server_matches_now(int i, struct gtid_seen *g, char *why, size_t len, char *note, size_t note_len);
static bool replicas_have_lag(void);
static bool db3_replication_stopped(void);
static bool db3_threads_running(void);
static bool verdict_is(const char *verdict);
static bool db3_unreachable_timed_out(void);
static bool db3_state_is(const char *state);
static int config_poll_ms(void);
static int line_of(const char *text, const char *needle);
static char *config_with(const char *from, const char *to);

static void status_matches_servers(void);
static void stopped_replication_warns(void);
static void stopped_server_does_not_block(void);
static void late_answer_read_when_it_comes(void);
static void killed_server_comes_back(void);
static void bad_requests_typed_errors(void);
static void non_admin_denied(void);
static void reload_config(void);
static void cutoverctl_output(void);
static void events_on_kill(void);
static void socket_activation(void);
static void sd_notify_protocol(void);
static void history_loop_during_switchover(void);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

static json_t *db3_status(json_t **st)
{
	*st = it_status();
	return it_server(*st, "db3");
}

/* GTID positions a server was seen at (most recent last). */
struct gtid_seen {
	char v[16][128];
	size_t n;
};

static void gtid_sample(struct gtid_seen *g, int i)
{
	char *v = it_sql1(i, "SELECT @@global.gtid_current_pos");

	if (v && (g->n == 0 || strcmp(g->v[(g->n - 1) % 16], v)))
		snprintf(g->v[g->n++ % 16], sizeof(g->v[0]), "%s", v);
	free(v);
}

static bool gtid_was_seen(const struct gtid_seen *g, const char *v)
{
	size_t k;

	for (k = 0; v && k < g->n && k < 16; k++)
		if (!strcmp(g->v[k], v))
			return true;
	return false;
}

/* One server's entry in `st` against what the server itself says.  Every poll moves the GTID
 * (cutoverd's heartbeat), so the GTID must be one the server was seen at around the status
 * request (sampled into *g); the rest must be equal. */
static bool server_matches(json_t *st, int i, struct gtid_seen *g, char *why, size_t len)
{
	char name[16];
	json_t *s, *repl;
	struct it_rows *r, *ss;
	const char *ro, *sid;
	bool ok = true;

	snprintf(name, sizeof(name), "db%d", i);
	s = it_server(st, name);
	r = it_query(i, "SELECT @@global.read_only AS ro, @@server_id AS sid");
	ss = it_query(i, "SHOW SLAVE STATUS");
	if (!s || !r || !ss) {
		snprintf(why, len, "%s: %s", name, !s ? "not in status" : it_sql_error());
		it_rows_free(r);
		it_rows_free(ss);
		return false;
	}
	ro = it_rows_get(r, 0, "ro");
	sid = it_rows_get(r, 0, "sid");
	repl = json_object_get(s, "replication");
	if (!json_is_boolean(json_object_get(s, "read_only")) ||
	    json_is_true(json_object_get(s, "read_only")) != !strcmp(ro ?: "", "1")) {
		snprintf(why, len, "%s: read_only %s in status, %s on the server", name,
			 it_json_str(json_object_get(s, "read_only")), ro ?: "?");
		ok = false;
	} else if (json_integer_value(json_object_get(s, "server_id")) != atoll(sid ?: "-1")) {
		snprintf(why, len, "%s: server_id %s in status, %s on the server", name,
			 it_json_str(json_object_get(s, "server_id")), sid ?: "?");
		ok = false;
	} else if (!gtid_was_seen(g, it_get_str(s, "gtid"))) {
		snprintf(why, len, "%s: gtid %s in status; the server was seen at %s (latest of %zu)", name,
			 it_get_str(s, "gtid") ?: "null", g->n ? g->v[(g->n - 1) % 16] : "?", g->n);
		ok = false;
	} else if (ss->nrows == 0 && !json_is_null(repl)) {
		snprintf(why, len, "%s: not a replica, but status has replication %s", name, it_json_str(repl));
		ok = false;
	} else if (ss->nrows > 0 &&
		   (!json_is_object(repl) ||
		    strcmp(it_get_str(repl, "source_host") ?: "", it_rows_get(ss, 0, "Master_Host") ?: "?") ||
		    json_integer_value(json_object_get(repl, "source_port")) !=
			    atoll(it_rows_get(ss, 0, "Master_Port") ?: "-1") ||
		    strcmp(it_get_str(repl, "io_running") ?: "", it_rows_get(ss, 0, "Slave_IO_Running") ?: "?") ||
		    strcmp(it_get_str(repl, "sql_running") ?: "", it_rows_get(ss, 0, "Slave_SQL_Running") ?: "?"))) {
		snprintf(why, len, "%s: replication %s in status; server: %s:%s IO %s SQL %s", name, it_json_str(repl),
			 it_rows_get(ss, 0, "Master_Host") ?: "?", it_rows_get(ss, 0, "Master_Port") ?: "?",
			 it_rows_get(ss, 0, "Slave_IO_Running") ?: "?", it_rows_get(ss, 0, "Slave_SQL_Running") ?: "?");
		ok = false;
	}
	it_rows_free(r);
	it_rows_free(ss);
	return ok;
}

/* Sample the server's GTID, ask for status, sample again: the status must match. */
static bool server_matches_now(int i, struct gtid_seen *g, char *why, size_t len, char *note, size_t note_len)
{
	char name[16];
	json_t *st;
	bool ok;

	snprintf(name, sizeof(name), "db%d", i);
	gtid_sample(g, i);
	st = it_status();
	gtid_sample(g, i);
	if (!st) {
		snprintf(why, len, "no status");
		return false;
	}
	ok = server_matches(st, i, g, why, len);
	if (ok)
		snprintf(note, note_len, "%s: status gtid %s, server now at %s", name,
			 it_get_str(it_server(st, name), "gtid"), g->v[(g->n - 1) % 16]);
	json_decref(st);
	return ok;
}

static bool replicas_have_lag(void)
{
	json_t *st = it_status();
	bool ok = st && json_is_integer(json_object_get(it_server(st, "db2"), "lag_ms")) &&
		  json_is_integer(json_object_get(it_server(st, "db3"), "lag_ms"));
	json_decref(st);
	return ok;
}

static bool db3_replication_stopped(void)
{
	json_t *st, *s = db3_status(&st);
	bool ok = s && !strcmp(it_get_str(s, "replication.sql_running") ?: "", "No") &&
		  !strcmp(it_get_str(s, "replication.io_running") ?: "", "No") &&
		  json_array_size(json_object_get(s, "problems")) > 0;
	json_decref(st);
	return ok;
}

static bool db3_threads_running(void)
{
	json_t *st, *s = db3_status(&st);
	bool ok = s && !strcmp(it_get_str(s, "state") ?: "", "up") &&
		  !strcmp(it_get_str(s, "replication.sql_running") ?: "", "Yes") &&
		  !strcmp(it_get_str(s, "replication.io_running") ?: "", "Yes") &&
		  !strcmp(it_get_str(s, "replication.source") ?: "", "db1");
	json_decref(st);
	return ok;
}

static bool verdict_is(const char *verdict)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", verdict);
	json_decref(st);
	return ok;
}

static bool db3_unreachable_timed_out(void)
{
	json_t *st, *s = db3_status(&st);
	const char *err = it_get_str(s, "last_error");
	bool ok = s && json_is_false(json_object_get(s, "reachable")) && err && strcasestr(err, "timed out");
	json_decref(st);
	return ok;
}

static bool db3_state_is(const char *state)
{
	json_t *st, *s = db3_status(&st);
	bool ok = s && !strcmp(it_get_str(s, "state") ?: "", state);
	json_decref(st);
	return ok;
}

static int config_poll_ms(void)
{
	json_t *cfg = it_call_result("config", NULL);
	int ms = cfg ? (int)json_integer_value(it_get(cfg, "global.poll_interval_ms")) : -1;
	json_decref(cfg);
	return ms;
}

/* 1-based line of the first line containing needle, 0 if none. */
static int line_of(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle), *p;
	int line = 1;

	if (!hit)
		return 0;
	for (p = text; p < hit; p++)
		line += *p == '\n';
	return line;
}

/* The base config with its first `from` replaced by `to`; new string. */
static char *config_with(const char *from, const char *to)
{
	char *base = it_config_text(NULL), *hit = strstr(base, from), *out = NULL;

	if (hit && asprintf(&out, "%.*s%s%s", (int)(hit - base), base, to, hit + strlen(from)) < 0)
		out = NULL;
	free(base);
	return out;
}


/* ------------------------------------------------------------------------------------------ */
/* tests */

/* 1. status matches the real servers. */
static void status_matches_servers(void)
{
	char why[1024] = "", note[300];
	json_t *st;
	int i;

	for (i = 1; i <= IT_SERVERS; i++) {
		struct gtid_seen g = { .n = 0 };
		ck_assert_msg(IT_WAIT_UNTIL(5000, server_matches_now(i, &g, why, sizeof(why), note, sizeof(note))),
			      "status does not match: %s", why);
		it_note("%s (cutoverd's heartbeat moves it every poll)", note);
	}
	ck_assert_msg(IT_WAIT_UNTIL(3 * IT_POLL_MS + 2000, replicas_have_lag()), "lag_ms is not a number on the replicas");
	st = it_status();
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(it_get_str(st, "clusters.0.verdict"), "OK");
	ck_assert_str_eq(it_get_str(st, "clusters.0.primary"), "db1");
	ck_assert_str_eq(it_get_str(it_server(st, "db1"), "role"), "primary");
	ck_assert_str_eq(it_get_str(it_server(st, "db2"), "role"), "replica");
	ck_assert_str_eq(it_get_str(it_server(st, "db3"), "role"), "replica");
	ck_assert_str_eq(it_get_str(it_server(st, "db2"), "replication.source"), "db1");
	ck_assert_str_eq(it_get_str(it_router(st, "haproxy"), "writer"), "db1");
	/* the sandbox replicates asynchronously (MariaDB's built-in semi-sync is off) */
	ck_assert_str_eq(it_get_str(it_server(st, "db1"), "semi_sync") ?: "", "OFF");
	for (i = 1; i <= IT_SERVERS; i++) {
		char name[16];
		json_t *s;
		snprintf(name, sizeof(name), "db%d", i);
		s = it_server(st, name);
		it_note("%s: role %s read_only %s server_id %lld gtid %s lag_ms %s source %s", name,
			it_get_str(s, "role"), json_is_true(json_object_get(s, "read_only")) ? "true" : "false",
			json_integer_value(json_object_get(s, "server_id")), it_get_str(s, "gtid"),
			it_json_str(json_object_get(s, "lag_ms")), it_get_str(s, "replication.source") ?: "-");
	}
	it_note("verdict %s, router writer %s", it_get_str(st, "clusters.0.verdict"),
		it_get_str(it_router(st, "haproxy"), "writer"));
	json_decref(st);
}

/* 2. STOP SLAVE shows within two polls, WARN within hysteresis + 1 polls, START SLAVE → OK. */
static void stopped_replication_warns(void)
{
	int64_t t0, t_seen, t_warn, t_ok;
	json_t *st;

	ck_assert_msg(it_sql_exec(3, "STOP SLAVE") == 0, "%s", it_sql_error());
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(2 * IT_POLL_MS + SLACK_MS, db3_replication_stopped()),
		      "db3's stopped threads not in status within two polls (+%d ms slack)", SLACK_MS);
	t_seen = it_now_ms() - t0;
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 1) * IT_POLL_MS + SLACK_MS, verdict_is("WARN")),
		      "verdict not WARN within hysteresis+1 polls (+%d ms slack)", SLACK_MS);
	t_warn = it_now_ms() - t0;
	st = it_status();
	it_note("STOP SLAVE on db3: threads No in status after %lld ms, WARN after %lld ms (poll %d ms); "
		"problems %s; reasons %s", (long long)t_seen, (long long)t_warn, IT_POLL_MS,
		it_json_str(json_object_get(it_server(st, "db3"), "problems")), it_json_str(it_get(st, "clusters.0.reasons")));
	ck_assert_int_gt(json_array_size(it_get(st, "clusters.0.reasons")), 0);
	json_decref(st);

	ck_assert_msg(it_sql_exec(3, "START SLAVE") == 0, "%s", it_sql_error());
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, db3_threads_running() && verdict_is("OK")),
		      "not back to OK after START SLAVE");
	t_ok = it_now_ms() - t0;
	it_note("START SLAVE: OK again after %lld ms", (long long)t_ok);
}

/* 3. A SIGSTOPped replica does not slow other answers; it shows down; SIGCONT → up. */
static void stopped_server_does_not_block(void)
{
	int64_t t0, worst = 0, t_unreach, t_down, t_up;
	long long db1_age_max = 0;
	json_t *st, *s;
	int i;

	ck_assert_int_eq(it_server_stop(3), 0);
	t0 = it_now_ms();
	for (i = 0; i < 20; i++) {
		int64_t t = it_now_ms(), dt;
		st = it_status();
		dt = it_now_ms() - t;
		ck_assert_msg(st != NULL, "status request %d got no answer", i + 1);
		ck_assert_msg(dt < 1000, "status request %d took %lld ms while db3 is stopped", i + 1, (long long)dt);
		worst = dt > worst ? dt : worst;
		s = it_server(st, "db1");
		if (json_integer_value(json_object_get(s, "last_ok_age_ms")) > db1_age_max)
			db1_age_max = json_integer_value(json_object_get(s, "last_ok_age_ms"));
		json_decref(st);
		it_sleep_ms(50);
	}
	it_note("20 status requests while db3 is stopped: slowest %lld ms; db1 last_ok_age_ms up to %lld ms",
		(long long)worst, db1_age_max);
	ck_assert_msg(IT_WAIT_UNTIL(IT_QUERY_TIMEOUT_MS + 2 * IT_POLL_MS + 2 * SLACK_MS - (it_now_ms() - t0),
				    db3_unreachable_timed_out()),
		      "db3 not unreachable with a 'timed out' error within query_timeout + 2 polls");
	t_unreach = it_now_ms() - t0;
	/* Down takes a second failed poll: the reconnect to a stopped server, bounded by
	 * connect_timeout (1 s by default). */
	ck_assert_msg(IT_WAIT_UNTIL(IT_QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 2 * IT_POLL_MS + 2 * SLACK_MS -
					    (it_now_ms() - t0),
				    db3_state_is("down")),
		      "db3 not shown down within query_timeout + connect_timeout + 2 polls");
	t_down = it_now_ms() - t0;
	st = it_status();
	it_note("db3 SIGSTOPped: reachable=false after %lld ms, state down after %lld ms (query_timeout %d ms, "
		"poll %d ms); last_error: %s", (long long)t_unreach, (long long)t_down, IT_QUERY_TIMEOUT_MS,
		IT_POLL_MS, it_get_str(it_server(st, "db3"), "last_error") ?: "null");
	json_decref(st);

	ck_assert_int_eq(it_server_signal(3, SIGCONT), 0);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(20000, db3_threads_running()), "db3 not up and replicating after SIGCONT");
	t_up = it_now_ms() - t0;
	it_note("SIGCONT: db3 up and replicating after %lld ms", (long long)t_up);
}

/* 3b. An answer that comes later than the poller's gather wait (10 ms with this config: poll.c,
 * poll_gather_ms) is read when it comes: db3 paused at a time (SIGSTOP, SIGCONT) for longer than
 * a poll interval, so that a poll starts in every pause, has polls that took about that long,
 * never one that waited for query_timeout, and never shows unreachable. */
static void late_answer_read_when_it_comes(void)
{
	long long max_poll = 0;
	int64_t until;
	int i, k, unreachable = 0;

	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(it_server_signal(3, SIGSTOP), 0);
		it_sleep_ms(IT_POLL_MS + 50);
		ck_assert_int_eq(it_server_signal(3, SIGCONT), 0);
		for (k = 0; k < 12; k++) {   /* ~250 ms of samples: the late poll's figure shows */
			json_t *st = it_status(), *s;
			ck_assert_msg(st != NULL, "no answer to status");
			s = it_server(st, "db3");
			if (!json_is_true(json_object_get(s, "reachable")))
				unreachable++;
			if (json_number_value(json_object_get(s, "poll_ms")) > (double)max_poll)
				max_poll = (long long)json_number_value(json_object_get(s, "poll_ms"));
			json_decref(st);
			it_sleep_ms(20);
		}
	}
	/* a poll left waiting for its deadline would fail within query_timeout of the last pause */
	until = it_now_ms() + IT_QUERY_TIMEOUT_MS + 500;
	while (it_now_ms() < until) {
		json_t *st = it_status();
		ck_assert_msg(st != NULL, "no answer to status");
		if (!json_is_true(json_object_get(it_server(st, "db3"), "reachable")))
			unreachable++;
		json_decref(st);
		it_sleep_ms(100);
	}
	it_note("db3 paused %d ms ten times: longest poll %lld ms, %d samples unreachable", IT_POLL_MS + 50, max_poll,
		unreachable);
	ck_assert_msg(unreachable == 0, "db3 showed unreachable in %d samples: a late answer was not read", unreachable);
	ck_assert_msg(max_poll > 50, "no poll of db3 that a pause held up finished (longest %lld ms): late answers were "
		      "not read when they came", max_poll);
	ck_assert_msg(max_poll < IT_QUERY_TIMEOUT_MS / 2, "a poll of db3 took %lld ms: a late answer waited for the "
		      "deadline instead of being read when it came", max_poll);
}

/* 4. A killed server shows down; after a restart it is up and replicating. */
static void killed_server_comes_back(void)
{
	int64_t t0, t_down, t_up;
	json_t *st;

	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "3", NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, db3_state_is("down")), "db3 not shown down after kill -9");
	t_down = it_now_ms() - t0;
	st = it_status();
	ck_assert(json_is_false(json_object_get(it_server(st, "db3"), "reachable")));
	it_note("db3 killed: down after %lld ms; last_error: %s", (long long)t_down,
		it_get_str(it_server(st, "db3"), "last_error") ?: "null");
	json_decref(st);

	t0 = it_now_ms();
	ck_assert_int_eq(it_server_restart(3), 0);
	ck_assert_msg(IT_WAIT_UNTIL(20000, db3_threads_running()), "db3 not up and replicating after restart");
	t_up = it_now_ms() - t0;
	it_note("db3 restarted: up and replicating from db1 after %lld ms", (long long)t_up);
}

static void expect_error(struct it_conn *c, const char *line, const char *code, const char *what)
{
	json_t *r;

	ck_assert_int_eq(it_conn_send(c, line), 0);
	r = it_conn_recv(c, 5000);
	ck_assert_msg(r != NULL, "%s: no reply", what);
	ck_assert_msg(json_is_false(json_object_get(r, "ok")), "%s: not ok:false: %s", what, it_json_str(r));
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", code), "%s: code %s, wanted %s: %s", what, it_err_code(r) ?: "none",
		      code, it_json_str(r));
	ck_assert_msg(json_integer_value(json_object_get(r, "api")) == 1, "%s: no api version: %s", what, it_json_str(r));
	it_note("%s → %s: %s", what, code, it_get_str(r, "error.message") ?: "");
	json_decref(r);
}

/* 5. Bad requests get typed errors and the daemon stays up. */
static void bad_requests_typed_errors(void)
{
	struct it_conn *c = it_connect(it.sock);
	size_t big = 70 * 1024;
	char *line;
	json_t *r;

	ck_assert_ptr_nonnull(c);
	expect_error(c, "{\"cmd\": \"status\", ", "INVALID", "malformed JSON");
	expect_error(c, "{\"id\": 7, \"cmd\": \"frobnicate\"}", "INVALID", "unknown command");
	expect_error(c, "{\"cmd\": \"status\", \"args\": {\"cluster\": 5}}", "INVALID", "wrong argument type");
	expect_error(c, "{\"cmd\": \"status\", \"args\": {\"cluster\": \"nosuch\"}}", "NOTFOUND", "unknown cluster");
	/* The request id comes back even on an error. */
	ck_assert_int_eq(it_conn_send(c, "{\"id\": 7, \"cmd\": \"frobnicate\"}"), 0);
	r = it_conn_recv(c, 5000);
	ck_assert_msg(r && json_integer_value(json_object_get(r, "id")) == 7, "id not echoed: %s", it_json_str(r));
	json_decref(r);
	it_conn_close(c);

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	line = malloc(big + 1);
	memset(line, 'x', big);
	line[0] = '"';
	line[big] = '\0';
	it_conn_send(c, line);      /* the daemon may close before it has read it all */
	free(line);
	r = it_conn_recv(c, 5000);
	ck_assert_msg(r != NULL, "no reply to a 70 KiB line");
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "INVALID"), "70 KiB line: %s", it_json_str(r));
	it_note("70 KiB line → INVALID: %s", it_get_str(r, "error.message") ?: "");
	json_decref(r);
	ck_assert_msg(it_conn_wait_closed(c, 5000), "the connection stays open after an oversized line");
	it_conn_close(c);

	r = it_call_result("version", NULL);
	ck_assert_msg(r != NULL, "version does not answer on a new connection after the bad requests");
	ck_assert(it_daemon_alive());
	it_note("afterwards: version %s answers, daemon pid %lld alive", it_get_str(r, "version") ?: "?",
		json_integer_value(json_object_get(r, "pid")));
	json_decref(r);
}

/* 6. reload from a non-admin uid is DENIED; status from the same uid works. */
static void non_admin_denied(void)
{
	const char *lines[] = { "{\"cmd\": \"reload\"}", "{\"cmd\": \"status\"}" };
	char **replies;
	json_t *denied, *status;
	int rc;

	rc = it_requests_as_nobody(lines, 2, &replies);
	ck_assert_msg(rc == 0, "the uid-65534 child failed (exit %d; 10 setresuid, 11 connect, 12 send)", rc);
	denied = replies[0] ? json_loads(replies[0], 0, NULL) : NULL;
	status = replies[1] ? json_loads(replies[1], 0, NULL) : NULL;
	ck_assert_msg(denied != NULL, "no reply to reload as uid 65534");
	ck_assert_msg(!strcmp(it_err_code(denied) ?: "", "DENIED"), "reload as uid 65534: %s", it_json_str(denied));
	ck_assert_msg(status && json_is_true(json_object_get(status, "ok")) &&
			      json_array_size(it_get(status, "result.clusters")) == 1,
		      "status as uid 65534: %s", it_json_str(status));
	it_note("uid 65534: reload → DENIED (%s); status → ok", it_get_str(denied, "error.message") ?: "");
	json_decref(denied);
	json_decref(status);
	free(replies[0]);
	free(replies[1]);
	free(replies);
}

/* 7. A config with a typo is refused with file:line and the old one stays; a fixed one is
 * applied; the same through SIGHUP. */
static void reload_config(void)
{
	char *typo = config_with("poll_interval = 200ms", "poll_intervall = 300ms");
	char *fixed = config_with("poll_interval = 200ms", "poll_interval = 300ms");
	char *hup = config_with("poll_interval = 200ms", "poll_interval = 250ms");
	char *hup_typo = config_with("poll_interval = 200ms", "poll_intervall = 400ms");
	char *base = it_config_text(NULL), where[400];
	const char *msg;
	long mark;
	json_t *r;

	ck_assert(typo && fixed && hup && hup_typo);
	snprintf(where, sizeof(where), "%s:%d", it.conf, line_of(typo, "poll_intervall"));
	ck_assert_int_eq(it_config_write(typo), 0);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "INVALID"), "reload of a config with a typo: %s", it_json_str(r));
	msg = it_get_str(r, "error.message") ?: "";
	ck_assert_msg(strstr(msg, where) != NULL, "the error does not name %s: %s", where, msg);
	ck_assert_msg(strstr(msg, "poll_intervall") != NULL, "the error does not name the key: %s", msg);
	it_note("typo refused: %s", msg);
	json_decref(r);
	ck_assert_int_eq(config_poll_ms(), IT_POLL_MS);
	ck_assert(it_daemon_alive());

	ck_assert_int_eq(it_config_write(fixed), 0);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload of the fixed config: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(config_poll_ms(), 300);
	it_note("fixed config applied: poll_interval_ms 300");

	ck_assert_int_eq(it_config_write(hup), 0);
	ck_assert_int_eq(kill(it.daemon, SIGHUP), 0);
	ck_assert_msg(IT_WAIT_UNTIL(5000, config_poll_ms() == 250), "SIGHUP did not apply poll_interval = 250ms");
	it_note("SIGHUP applied poll_interval_ms 250");

	ck_assert_int_eq(it_config_write(hup_typo), 0);
	mark = it_daemon_log_mark();
	ck_assert_int_eq(kill(it.daemon, SIGHUP), 0);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_daemon_log_since(mark, where)),
		      "no error naming %s in the log after SIGHUP", where);
	ck_assert_int_eq(config_poll_ms(), 250);
	ck_assert(it_daemon_alive());
	it_note("SIGHUP with a typo: refused (logged), poll_interval_ms stays 250");

	ck_assert_int_eq(it_config_write(base), 0);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload of the base config: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(config_poll_ms(), IT_POLL_MS);
	free(typo);
	free(fixed);
	free(hup);
	free(hup_typo);
	free(base);
}

/* 8. cutoverctl: JSON for scripts, a table for people, exit 3 without a daemon. */
static void cutoverctl_output(void)
{
	char ctl[600], missing[400], *out = NULL;
	const char *json_argv[] = { ctl, "--socket", it.sock, "--json", "status", NULL };
	const char *human_argv[] = { ctl, "--socket", it.sock, "status", NULL };
	const char *missing_argv[] = { ctl, "--socket", missing, "status", NULL };
	json_t *j, *s;
	size_t i;
	int rc;

	snprintf(ctl, sizeof(ctl), "%s/cutoverctl", it.build);
	snprintf(missing, sizeof(missing), "%s/run/no-such.sock", it.dir);
	rc = it_run(json_argv, false, &out, 10000);
	ck_assert_msg(rc == 0, "cutoverctl --json status exited %d: %s", rc, out);
	j = json_loads(out, 0, NULL);
	ck_assert_msg(j != NULL, "cutoverctl --json status is not JSON: %.300s", out);
	free(out);
	ck_assert_int_eq(json_array_size(it_get(j, "clusters.0.servers")), IT_SERVERS);
	json_array_foreach(it_get(j, "clusters.0.servers"), i, s) {
		ck_assert_msg(json_is_boolean(json_object_get(s, "read_only")), "no read_only: %s", it_json_str(s));
		ck_assert_msg(json_is_integer(json_object_get(s, "lag_ms")), "lag_ms not a number: %s", it_json_str(s));
		ck_assert_msg(json_is_string(json_object_get(s, "gtid")), "no gtid: %s", it_json_str(s));
	}
	it_note("cutoverctl --json status: %zu servers with read_only, lag_ms, gtid", i);
	json_decref(j);

	rc = it_run(human_argv, false, &out, 10000);
	ck_assert_msg(rc == 0, "cutoverctl status exited %d", rc);
	ck_assert_msg(strstr(out, "db1") && strstr(out, "db2") && strstr(out, "db3"), "server names missing: %s", out);
	ck_assert_msg(strstr(out, "OK") != NULL, "verdict missing: %s", out);
	it_note("cutoverctl status (human):\n%s", out);
	free(out);

	rc = it_run(missing_argv, true, &out, 10000);
	ck_assert_msg(rc == 3, "cutoverctl with a missing socket exited %d, wanted 3: %s", rc, out);
	it_note("missing socket → exit 3: %s", strtok(out, "\n") ?: "");
	free(out);
}

/* 9. A subscriber receives a server_state event when a replica is killed. */
static void events_on_kill(void)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *r, *ev = NULL;
	int64_t t0, end;
	int seen_up = 0;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "events", NULL), 0);
	r = it_conn_recv(c, 5000);
	ck_assert_msg(r && json_is_true(it_get(r, "result.subscribed")), "events: %s", it_json_str(r));
	json_decref(r);

	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "3", NULL), 0);
	end = it_now_ms() + 15000;
	while (!ev && it_now_ms() < end) {
		r = it_conn_recv(c, (int)(end - it_now_ms()));
		if (!r)
			break;
		if (!strcmp(it_get_str(r, "event.type") ?: "", "server_state") &&
		    !strcmp(it_get_str(r, "event.server") ?: "", "db3") &&
		    !strcmp(it_get_str(r, "event.to") ?: "", "down"))
			ev = r;
		else
			json_decref(r);
	}
	ck_assert_msg(ev != NULL, "no server_state event for db3 going down within 15 s");
	it_note("event %lld ms after the kill: %s", (long long)(it_now_ms() - t0), it_json_str(json_object_get(ev, "event")));
	json_decref(ev);

	ck_assert_int_eq(it_server_restart(3), 0);
	end = it_now_ms() + 20000;
	while (!seen_up && it_now_ms() < end) {
		r = it_conn_recv(c, (int)(end - it_now_ms()));
		if (!r)
			break;
		seen_up = !strcmp(it_get_str(r, "event.type") ?: "", "server_state") &&
			  !strcmp(it_get_str(r, "event.server") ?: "", "db3") &&
			  !strcmp(it_get_str(r, "event.to") ?: "", "up");
		json_decref(r);
	}
	ck_assert_msg(seen_up, "no server_state event for db3 coming back up");
	it_note("db3 restarted: server_state up event received");
	it_conn_close(c);
	ck_assert_msg(IT_WAIT_UNTIL(20000, db3_threads_running()), "db3 not replicating after restart");
}

static const struct it_case cases[] = {
	{ "status_matches_servers", status_matches_servers },
	{ "stopped_replication_warns", stopped_replication_warns },
	{ "stopped_server_does_not_block", stopped_server_does_not_block },
	{ "late_answer_read_when_it_comes", late_answer_read_when_it_comes },
	{ "killed_server_comes_back", killed_server_comes_back },
	{ "bad_requests_typed_errors", bad_requests_typed_errors },
	{ "non_admin_denied", non_admin_denied },
	{ "reload_config", reload_config },
	{ "cutoverctl_output", cutoverctl_output },
	{ "events_on_kill", events_on_kill },
	{ "socket_activation", socket_activation },
	{ "sd_notify_protocol", sd_notify_protocol },
	{ "history_loop_during_switchover", history_loop_during_switchover },
};
/* 10. Socket activation (cutoverd.socket): given a listening socket the way systemd passes it
 * (systemd-socket-activate sets LISTEN_FDS/LISTEN_PID and execs the daemon in place), cutoverd
 * serves on it, and at exit leaves its path alone: it is systemd's.  The baseline daemon (which
 * binds the socket itself) is the fallback, exercised by every other test. */
static void socket_activation(void)
{
	const char *tool = "/usr/bin/systemd-socket-activate";
	char prog[600], log[400];
	pid_t pid;
	json_t *r;
	struct stat st;
	char *text;
	int status = 0;

	ck_assert_msg(access(tool, X_OK) == 0, "%s is missing (Debian's systemd package provides it)", tool);
	it_daemon_stop();
	unlink(it.sock);
	snprintf(prog, sizeof(prog), "%s/cutoverd", it.build);
	snprintf(log, sizeof(log), "%s.socket-activation.log", it.log);
	unlink(log);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(tool, tool, "-l", it.sock, prog, "-f", "-c", it.conf, (char *)NULL);
		_exit(127);
	}
	/* the first connection makes it exec the daemon, which then accepts it */
	ck_assert_msg(IT_WAIT_UNTIL(5000, access(it.sock, F_OK) == 0), "systemd-socket-activate did not listen");
	r = it_call("version", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "version over the passed socket: %s", it_json_str(r));
	ck_assert_int_eq((int)json_integer_value(json_object_get(json_object_get(r, "result"), "pid")), (int)pid);
	json_decref(r);
	text = read_small_file(log, 1 << 20);
	ck_assert_msg(text && strstr(text, "passed by systemd"), "the daemon did not say it uses the passed socket: %s",
		      text ? text : "(no log)");
	free(text);
	it_note("served version on the socket systemd-socket-activate passed (pid %d)", (int)pid);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	ck_assert_msg(stat(it.sock, &st) == 0 && S_ISSOCK(st.st_mode), "the inherited socket's path was removed at exit");
	it_note("exited 0 and left the inherited socket in place");
	unlink(it.sock);
	ck_assert_int_eq(it_daemon_start(), 0);   /* back to the baseline: the daemon binds itself */
}

/* Collect what the daemon sends to NOTIFY_SOCKET until `want` shows up (or the deadline). */
static bool notify_wait(int fd, char *all, size_t len, const char *want, int ms)
{
	int64_t end = it_now_ms() + ms;
	while (!strstr(all, want) && it_now_ms() < end) {
		char buf[1024];
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0) {
			it_sleep_ms(20);
			continue;
		}
		buf[n] = '\0';
		strncat(all, buf, len - strlen(all) - 2);
		strcat(all, "\n");
	}
	return strstr(all, want) != NULL;
}

/* 11. The systemd notify protocol (Type=notify), received on a datagram socket as systemd
 * does: READY=1 only once the first poll round is in, a STATUS= summary, WATCHDOG=1 when
 * WATCHDOG_USEC asks for it, RELOADING=1 with MONOTONIC_USEC and READY=1 again on SIGHUP,
 * STOPPING=1 at the end. */
static void sd_notify_protocol(void)
{
	char path[300], prog[600], env_sock[400], all[16384] = "", *ready, *status;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pid_t pid;
	int st = 0;

	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "%s/notify.sock", it.dir);
	unlink(path);
	strlcpy_(sa.sun_path, path, sizeof(sa.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	it_daemon_stop();
	snprintf(prog, sizeof(prog), "%s/cutoverd", it.build);
	snprintf(env_sock, sizeof(env_sock), "NOTIFY_SOCKET=%s", path);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char env_pid[64], log[400];
		char *envp[] = { env_sock, env_pid, "WATCHDOG_USEC=400000", "PATH=/usr/bin:/bin", NULL };
		int lfd;
		snprintf(log, sizeof(log), "%s.notify.log", it.log);
		lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (lfd >= 0)
			dup2(lfd, 2);
		snprintf(env_pid, sizeof(env_pid), "WATCHDOG_PID=%d", (int)getpid());
		execle(prog, prog, "-f", "-c", it.conf, (char *)NULL, envp);
		_exit(127);
	}
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "READY=1", 10000), "no READY=1: %s", all);
	ready = strstr(all, "READY=1");
	/* READY comes after the first poll: by then a STATUS names the cluster's state */
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "STATUS=sandbox: ", 5000), "no STATUS: %s", all);
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "WATCHDOG=1", 3000), "no WATCHDOG=1 with WATCHDOG_USEC set");
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "primary db1", 5000), "STATUS does not name the primary: %s", all);
	status = strstr(all, "STATUS=sandbox: ");
	it_note("READY at offset %ld, first STATUS: %.80s", (long)(ready - all), status);
	all[0] = '\0';
	ck_assert_int_eq(kill(pid, SIGHUP), 0);
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "RELOADING=1", 5000), "no RELOADING=1 on SIGHUP: %s", all);
	ck_assert_msg(strstr(all, "MONOTONIC_USEC="), "RELOADING=1 without MONOTONIC_USEC: %s", all);
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "READY=1", 5000), "no READY=1 after the reload: %s", all);
	all[0] = '\0';
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_msg(notify_wait(fd, all, sizeof(all), "STOPPING=1", 5000), "no STOPPING=1 at SIGTERM: %s", all);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	close(fd);
	unlink(path);
	it_note("RELOADING=1+MONOTONIC_USEC and READY=1 on SIGHUP; STOPPING=1 and exit 0 on SIGTERM");
	ck_assert_int_eq(it_daemon_start(), 0);
}

/* 12. Issue 10, item 2: `history` must not hold the event loop.  With a 15 MiB journal a client
 * of uid 65534 (nobody) loops `history` (the largest limit it takes) on one connection as fast as
 * the daemon answers, before, during and after a switchover under write load through HAProxy.
 * The switchover must end done with no acknowledged write lost, every reply must parse and be
 * bounded (history reads the journal's last HISTORY_MAX_BYTES: the oldest of the old cutovers
 * written into it never shows), and the client must really have looped.  No timing is asserted:
 * write_blocked_ms and the calls are noted. */
#define HIST_JOURNAL_BYTES (15L * 1024 * 1024)   /* the journal */
#define HIST_PREFIX "fakehist-"                  /* the ids of the old cutovers written into it */
#define HIST_OLDEST "\"" HIST_PREFIX "00000\""   /* the first of them, as it would appear in a reply */
#define HIST_LIMIT 100000                        /* the largest limit history takes */
#define HIST_CALLS_BEFORE 3                      /* answered before the switchover is asked for */
#define HIST_CALLS_AFTER 2                       /* asked for after it answered */
#define HIST_SWITCH_TIMEOUT_MS 120000

/* One finished switchover db1 -> db2 as the journal holds it (what a real one writes, its report
 * shortened a little); "id" and "ts" are set for each copy. */
static const char *const hist_template[] = {
	"{\"cluster\":\"sandbox\",\"event\":\"begin\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"preflight\","
	"\"kind\":\"switchover\",\"max_lag_ms\":1000,\"drain_timeout_ms\":2000,\"sync_timeout_ms\":5000,\"reverse\":true,"
	"\"kill_long_after_ms\":0,\"allow_older_replicas\":false}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"preflight\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"drain\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"catchup\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"fence\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"fenced\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"fence\","
	"\"fence_point\":\"0-1-27\",\"attempts\":1}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"sync\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"promote\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"pnr\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"promote\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"routed\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"promote\","
	"\"write_blocked_ms\":15.19}",
	"{\"cluster\":\"sandbox\",\"event\":\"phase\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"verify\"}",
	"{\"cluster\":\"sandbox\",\"event\":\"done\",\"old\":\"db1\",\"new\":\"db2\",\"phase\":\"verify\",\"report\":{"
	"\"cluster\":\"sandbox\",\"old_primary\":\"db1\",\"new_primary\":\"db2\",\"outcome\":\"done\",\"reason\":null,"
	"\"checks\":["
	"{\"check\":\"one_writable_primary\",\"result\":\"pass\",\"message\":\"1 writable server; primary db1 (read_only=0)\"},"
	"{\"check\":\"no_split_brain\",\"result\":\"pass\",\"message\":\"no second writable server\"},"
	"{\"check\":\"candidate_replicates_from_primary\",\"result\":\"pass\",\"message\":\"db2 replicates directly from db1\"},"
	"{\"check\":\"candidate_threads\",\"result\":\"pass\",\"message\":\"IO thread Yes, SQL thread Yes\"},"
	"{\"check\":\"candidate_lag\",\"result\":\"pass\",\"message\":\"lag 0 ms (Seconds_Behind_Master 0), max 1000 ms\"},"
	"{\"check\":\"gtid_consistent\",\"result\":\"pass\",\"message\":\"gtid_strict_mode: primary ON, candidate ON\"},"
	"{\"check\":\"no_errant_transactions\",\"result\":\"pass\",\"message\":\"none\"},"
	"{\"check\":\"replica_reachable\",\"result\":\"pass\",\"message\":\"db3 is up\"},"
	"{\"check\":\"router\",\"result\":\"pass\",\"message\":\"router haproxy: 1 writer, db1\"}],"
	"\"phases\":[{\"phase\":\"preflight\",\"ms\":4.965,\"ok\":true},{\"phase\":\"drain\",\"ms\":2.694,\"ok\":true},"
	"{\"phase\":\"catchup\",\"ms\":1.194,\"ok\":true},{\"phase\":\"fence\",\"ms\":12.054,\"ok\":true},"
	"{\"phase\":\"sync\",\"ms\":1.345,\"ok\":true},{\"phase\":\"promote\",\"ms\":35.631,\"ok\":true},"
	"{\"phase\":\"verify\",\"ms\":16.354,\"ok\":true}],\"write_blocked_ms\":15.19,\"fence_point\":\"0-1-27\","
	"\"fence_attempts\":1,\"longest_block_ms\":15.19,\"point_of_no_return_passed\":true,\"kind\":\"switchover\","
	"\"total_ms\":76.197}}",
};

static char *hist_read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;
	FILE *m;

	*len = 0;
	m = open_memstream(&text, &cap);
	if (f) {
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(f);
	}
	fclose(m);
	*len = cap;
	return text;
}

/* With cutoverd stopped: the cluster's journal becomes old finished switchovers HIST_PREFIX00000,
 * 00001, ... (a day apart from 2020 on) up to HIST_JOURNAL_BYTES, then what it held.  How many;
 * -1 on an error. */
static int hist_write_journal(long *bytes)
{
	char path[400], tmp[420], id[32], ts[40];
	json_t *tmpl[sizeof(hist_template) / sizeof(hist_template[0])];
	size_t n_tmpl = sizeof(tmpl) / sizeof(tmpl[0]), k, old_len;
	char *old;
	long size = 0;
	int i = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/state/journal-%s.jsonl", it.dir, IT_CLUSTER);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	for (k = 0; k < n_tmpl; k++) {
		tmpl[k] = json_loads(hist_template[k], 0, NULL);
		if (!tmpl[k])
			return -1;
	}
	old = hist_read_text(path, &old_len);
	f = fopen(tmp, "w");
	if (!f || fchmod(fileno(f), 0640) < 0)
		return -1;
	while (size + (long)old_len < HIST_JOURNAL_BYTES) {
		time_t t = 1577836800 + (time_t)i * 86400;   /* 2020-01-01, a day apart */
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
		snprintf(id, sizeof(id), HIST_PREFIX "%05d", i);
		for (k = 0; k < n_tmpl; k++) {
			char *line;
			json_object_set_new(tmpl[k], "id", json_string(id));
			json_object_set_new(tmpl[k], "ts", json_string(ts));
			if (json_object_get(tmpl[k], "report"))
				json_object_set_new(json_object_get(tmpl[k], "report"), "id", json_string(id));
			line = json_dumps(tmpl[k], JSON_COMPACT | JSON_PRESERVE_ORDER);
			size += fprintf(f, "%s\n", line);
			free(line);
		}
		i++;
	}
	fwrite(old, 1, old_len, f);
	free(old);
	for (k = 0; k < n_tmpl; k++)
		json_decref(tmpl[k]);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -1;
	*bytes = size + (long)old_len;
	return i;
}

/* What the looping client saw of one call: when it asked and when the reply came (it_now_ms),
 * whether the reply was an ok history, how many switchovers and old ones it listed, whether the
 * oldest was among them, its length. */
struct hist_call {
	long long sent, answered;
	int ok, oldest;
	long n, n_fake, bytes;
};

struct hist_loop {
	pid_t pid;
	bool ended;             /* reaped, its exit status in status */
	int status;
	char run[320], out[320];
};

/* Fork the client: uid/gid 65534, one connection, `history` with limit HIST_LIMIT again and again
 * while `run` exists; a line per call in `out`.  Exit status 10 (setresuid), 11 (connect), 12
 * (send), 13 (no reply: the daemon closed). */
static int hist_loop_start(struct hist_loop *h)
{
	const char *rm_argv[] = { "/bin/rm", "-f", h->run, NULL };
	char req[128];
	int fd;

	snprintf(h->run, sizeof(h->run), "%s/history-loop.run", it.dir);
	snprintf(h->out, sizeof(h->out), "%s/history-loop.tsv", it.dir);
	snprintf(req, sizeof(req), "{\"cmd\":\"history\",\"args\":{\"limit\":%d}}\n", HIST_LIMIT);
	if (it_write_file(h->run, "", 0644) < 0)
		return -1;
	/* a test that fails half-way still ends the loop (the client looks before each call) */
	if (it_cleanup_add(rm_argv) < 0)
		return -1;
	h->ended = false;
	fd = open(h->out, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	fflush(stdout);
	h->pid = fork();
	if (h->pid == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char *line = NULL;
		size_t cap = 0;
		struct stat st;
		int s;
		FILE *in;

		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		prctl(PR_SET_PDEATHSIG, SIGKILL);   /* after the uid change, which clears it */
		if (strlen(it.sock) >= sizeof(sun.sun_path))
			_exit(11);
		memcpy(sun.sun_path, it.sock, strlen(it.sock) + 1);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 || !(in = fdopen(dup(s), "r")))
			_exit(11);
		while (stat(h->run, &st) == 0) {
			long long t0 = it_now_ms();
			json_t *r, *x;
			ssize_t len;
			long n = 0, n_fake = 0;
			size_t i;
			int ok;

			if (send(s, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
				_exit(12);
			len = getline(&line, &cap, in);
			if (len <= 0)
				_exit(13);
			r = json_loads(line, 0, NULL);
			ok = r && json_is_true(json_object_get(r, "ok")) && json_is_array(it_get(r, "result.switchovers"));
			json_array_foreach(it_get(r, "result.switchovers"), i, x) {
				n++;
				n_fake += !strncmp(json_string_value(json_object_get(x, "id")) ?: "", HIST_PREFIX,
						   strlen(HIST_PREFIX));
			}
			dprintf(fd, "%lld %lld %d %d %ld %ld %ld\n", t0, (long long)it_now_ms(), ok,
				strstr(line, HIST_OLDEST) != NULL, n, n_fake, (long)len);
			json_decref(r);
		}
		_exit(0);
	}
	close(fd);
	return h->pid < 0 ? -1 : 0;
}

/* The calls made so far (new array in *calls); how many. */
static size_t hist_loop_calls(const struct hist_loop *h, struct hist_call **calls)
{
	FILE *f = fopen(h->out, "r");
	struct hist_call c, *arr = NULL;
	size_t n = 0;

	while (f && fscanf(f, "%lld %lld %d %d %ld %ld %ld", &c.sent, &c.answered, &c.ok, &c.oldest, &c.n, &c.n_fake,
			   &c.bytes) == 7) {
		arr = realloc(arr, (n + 1) * sizeof(*arr));
		arr[n++] = c;
	}
	if (f)
		fclose(f);
	if (calls)
		*calls = arr;
	else
		free(arr);
	return n;
}

/* Calls asked for after `t` (it_now_ms). */
static size_t hist_calls_after(const struct hist_loop *h, long long t)
{
	struct hist_call *c;
	size_t n = hist_loop_calls(h, &c), i, k = 0;

	for (i = 0; i < n; i++)
		k += c[i].sent > t;
	free(c);
	return k;
}

/* The client still runs (reaped when it ended). */
static bool hist_loop_alive(struct hist_loop *h)
{
	int st;

	if (!h->ended && waitpid(h->pid, &st, WNOHANG) == h->pid) {
		h->ended = true;
		h->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	return !h->ended;
}

/* End the loop: its exit status, or -1 (killed after 60 s: a call never answered). */
static int hist_loop_stop(struct hist_loop *h)
{
	int64_t end = it_now_ms() + 60000;

	unlink(h->run);
	while (hist_loop_alive(h)) {
		if (it_now_ms() > end) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			return -1;
		}
		it_sleep_ms(20);
	}
	return h->status;
}

static int hist_cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static bool hist_cluster_ready(void)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK") &&
		  !strcmp(it_get_str(st, "clusters.0.primary") ?: "", "db1");
	json_decref(st);
	return ok && it_lag_known("db2");
}

static void history_loop_during_switchover(void)
{
	struct hist_loop h;
	struct hist_call *calls;
	struct it_load load;
	json_t *r, *rep, *summary, *verify;
	long bytes, max_n = 0, max_bytes = 0, min_fake = -1;
	long long t_asked, t_answered;
	size_t n_calls, before = 0, during = 0, after = 0, i, not_ok = 0, with_oldest = 0, without_fake = 0;
	const char *outcome;
	int n_fakes, rc, vstatus = -1, now_primary;
	char note[200];

	it_daemon_stop();
	n_fakes = hist_write_journal(&bytes);
	ck_assert_msg(n_fakes > 0, "cannot write the journal in %s/state: %s", it.dir, strerror(errno));
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(30000, hist_cluster_ready()),
		      "with a %ld-byte journal the cluster is not OK with primary db1 and db2's lag known", bytes);
	it_note("journal: %ld bytes, %d old finished switchovers " HIST_PREFIX "00000..%05d before the suite's own entries",
		bytes, n_fakes, n_fakes - 1);

	r = it_call_result("history", json_pack("{s:i}", "limit", HIST_LIMIT));
	ck_assert_msg(r != NULL, "history (limit %d) as root does not answer ok", HIST_LIMIT);
	snprintf(note, sizeof(note), "%s", it_json_str(it_get(r, "switchovers.0.id")));
	it_note("history (limit %d) as root: %zu switchovers, the oldest listed %s", HIST_LIMIT,
		json_array_size(json_object_get(r, "switchovers")), note);
	ck_assert_msg(json_array_size(json_object_get(r, "switchovers")) < (size_t)n_fakes,
		      "history lists %zu switchovers of a journal of %d: it read the whole file",
		      json_array_size(json_object_get(r, "switchovers")), n_fakes);
	json_decref(r);

	ck_assert_int_eq(it_load_start(&load, "history", 1500), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 20), "the load does not reach db1");
	ck_assert_int_eq(hist_loop_start(&h), 0);
	ck_assert_msg(IT_WAIT_UNTIL(120000, hist_loop_calls(&h, NULL) >= HIST_CALLS_BEFORE || !hist_loop_alive(&h)),
		      "the uid-65534 client made %zu history calls, wanted %d before the switchover", hist_loop_calls(&h, NULL),
		      HIST_CALLS_BEFORE);
	ck_assert_msg(hist_loop_calls(&h, NULL) >= HIST_CALLS_BEFORE, "the uid-65534 client ended early: exit %d (10 "
		      "setresuid, 11 connect, 12 send, 13 no reply)", h.status);

	t_asked = it_now_ms();
	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), HIST_SWITCH_TIMEOUT_MS, NULL);
	t_answered = it_now_ms();
	IT_WAIT_UNTIL(120000, hist_calls_after(&h, t_answered) >= HIST_CALLS_AFTER || !hist_loop_alive(&h));
	rc = hist_loop_stop(&h);
	it_cleanup_run();

	rep = it_report(r);
	outcome = it_get_str(rep, "outcome") ?: "(none)";
	now_primary = it_read_only(2) == 0 && it_read_only(1) != 0 ? 2 : 1;
	if (now_primary == 2)
		IT_WAIT_UNTIL(10000, it_load_rows(&load, 2, 2) >= 20);
	summary = it_load_stop(&load);
	verify = it_load_verify(&load, now_primary, &vstatus);

	n_calls = hist_loop_calls(&h, &calls);
	for (i = 0; i < n_calls; i++) {
		if (calls[i].answered <= t_asked)
			before++;
		else if (calls[i].sent > t_answered)
			after++;
		else
			during++;
		not_ok += !calls[i].ok;
		with_oldest += calls[i].oldest != 0;
		without_fake += calls[i].n_fake == 0;
		if (calls[i].n > max_n)
			max_n = calls[i].n;
		if (calls[i].bytes > max_bytes)
			max_bytes = calls[i].bytes;
		if (min_fake < 0 || calls[i].n_fake < min_fake)
			min_fake = calls[i].n_fake;
	}
	{
		/* how long the calls took, as the client saw them (noted, not asserted) */
		long long *ms = calloc(n_calls + 1, sizeof(*ms));
		for (i = 0; i < n_calls; i++)
			ms[i] = calls[i].answered - calls[i].sent;
		qsort(ms, n_calls, sizeof(*ms), hist_cmp_ll);
		snprintf(note, sizeof(note), "%lld ms median, %lld ms max", n_calls ? ms[n_calls / 2] : -1LL,
			 n_calls ? ms[n_calls - 1] : -1LL);
		free(ms);
	}
	free(calls);
	it_note("switchover db1 -> db2 with a uid-65534 client looping history (limit %d): outcome %s, write_blocked_ms %s, "
		"longest_block_ms %s, fence_attempts %s, total_ms %s; client window_ms %s, longest_gap_ms %s; acked %lld, "
		"missing %s (on %s)", HIST_LIMIT, outcome, it_json_str(json_object_get(rep, "write_blocked_ms")),
		it_json_str(json_object_get(rep, "longest_block_ms")), it_json_str(json_object_get(rep, "fence_attempts")),
		it_json_str(json_object_get(rep, "total_ms")), it_json_str(json_object_get(summary, "window_ms")),
		it_json_str(json_object_get(summary, "longest_gap_ms")),
		json_integer_value(json_object_get(verify, "acked")), it_json_str(json_object_get(verify, "acked_missing")),
		it_name_of(now_primary));
	it_note("history calls: %zu (%zu answered before the switchover was asked for, %zu overlapping it, %zu asked for "
		"after it answered); %zu not ok, %zu with " HIST_OLDEST "; at most %ld switchovers and %ld bytes in a reply, "
		"at least %ld old ones; a call took %s; client exit %d", n_calls, before, during, after, not_ok, with_oldest,
		max_n, max_bytes, min_fake, note, rc);

	/* what the client saw first: those do not depend on the machine's pace */
	ck_assert_msg(rc == 0, "the uid-65534 client exited %d (10 setresuid, 11 connect, 12 send, 13 no reply)", rc);
	ck_assert_msg(not_ok == 0, "%zu of %zu history replies were not an ok history (see %s)", not_ok, n_calls, h.out);
	ck_assert_msg(with_oldest == 0, "%zu of %zu history replies list " HIST_OLDEST ", %ld bytes before the journal's "
		      "end: history read the whole journal", with_oldest, n_calls, bytes);
	ck_assert_msg(max_n < n_fakes, "a history reply lists %ld switchovers of a journal of %d", max_n, n_fakes);
	ck_assert_msg(without_fake == 0, "%zu history replies list none of the old switchovers: the journal was not read",
		      without_fake);
	ck_assert_msg(before >= HIST_CALLS_BEFORE && after >= HIST_CALLS_AFTER && n_calls > HIST_CALLS_BEFORE + HIST_CALLS_AFTER,
		      "the client did not loop across the switchover: %zu calls, %zu before it, %zu after", n_calls, before, after);
	/* and the switchover, which a loop held by history makes roll back (the fence's budget runs
	 * out while the loop is busy) or fail (verify's connect times out) */
	ck_assert_msg(r != NULL, "no reply to the switchover");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")) && !strcmp(outcome, "done"),
		      "the switchover with history looping: %s", it_json_str(r));
	ck_assert_msg(verify && json_integer_value(json_object_get(verify, "acked_missing")) == 0 && vstatus == 0,
		      "acknowledged writes missing on %s: %s", it_name_of(now_primary), it_json_str(verify));
	json_decref(r);
	json_decref(summary);
	json_decref(verify);
	ck_assert(it_restore_baseline(true, "history_loop_during_switchover left a 15 MiB journal and db2 primary"));
}

Suite *it_foundation_suite(void)
{
	static const struct it_suite_def def = { "foundation", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
