/* Acceptance tests of the "observability" issue against real servers: /metrics says what the
 * servers say and follows a stopped SQL thread, /healthz answers, an event hook receives the
 * JSON of a real event, a switchover's milestones reach a hook in order and its counters
 * move, and a hook that hangs is killed at its timeout while the daemon keeps answering.
 * Each test runs cutoverd with the base config plus metrics_address (and hooks), and puts the
 * base config back when it passes. */
#include "it_lib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define SLACK_MS 1000                 /* scheduling slack on a busy 2-core machine */
#define FEW_POLLS_MS (5 * IT_POLL_MS + SLACK_MS)
#define METRICS_PORT_OFFSET 84        /* from IT_BASE_PORT: 24390 with the default 24306 */
#define HOOK_TIMEOUT_S 1
#define SWITCH_TIMEOUT_MS 60000

Suite *it_metrics_suite(void);

static int metrics_port(void);
static char *http_get(const char *path, int *code);
static bool metric(const char *text, const char *series, double *v);
static bool scraped_is(const char *series, double want);
static const char *hooks_dir(void);
static char *write_hook(const char *name, const char *body);
static void daemon_with(const char *globals);
static void daemon_base(void);
static bool file_has(const char *path, const char *needle);
static bool verdict_ok(void);
static long pid_in(const char *path);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

static int metrics_port(void)
{
	return it.base_port + METRICS_PORT_OFFSET;
}

static char *http_get(const char *path, int *code)
{
	return it_http_get(metrics_port(), path, code);
}

/* The value of the sample whose series is exactly `series` ("name{l=\"v\",...}"). */
static bool metric(const char *text, const char *series, double *v)
{
	size_t len = strlen(series);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, series, len) && p[len] == ' ') {
			*v = strtod(p + len + 1, NULL);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

static bool scraped_is(const char *series, double want)
{
	int code;
	char *text = http_get("/metrics", &code);
	double v;
	bool ok = code == 200 && metric(text, series, &v) && v == want;

	free(text);
	return ok;
}

/* Hooks must sit in directories only root can write: not in the sandbox's tree. */
static const char *hooks_dir(void)
{
	static char dir[300];

	snprintf(dir, sizeof(dir), "%s-hooks", it.dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		ck_abort_msg("mkdir %s: %s", dir, strerror(errno));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	return dir;
}

static char *write_hook(const char *name, const char *body)
{
	char *path = NULL;
	FILE *f;

	if (asprintf(&path, "%s/%s", hooks_dir(), name) < 0)
		ck_abort_msg("asprintf");
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(body, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* Restart cutoverd with the base config plus `globals` in [cutoverd] (NULL: the base config)
 * and wait until it reports the baseline again. */
static void restart_with(const char *globals)
{
	char *base = it_config_text(NULL), *text, *at;
	at = strstr(base, "[cutoverd]\n");
	ck_assert_ptr_nonnull(at);
	at += strlen("[cutoverd]\n");
	if (asprintf(&text, "%.*s%s%s", (int)(at - base), base, globals ? globals : "", at) < 0)
		ck_abort_msg("asprintf");
	free(base);
	it_daemon_stop();
	ck_assert_int_eq(it_config_write(text), 0);
	free(text);
	ck_assert_msg(it_daemon_start() == 0, "cutoverd did not start with the test config");
	ck_assert_msg(IT_WAIT_UNTIL(20000, verdict_ok()), "cutoverd does not report OK after the restart");
}

static void daemon_with(const char *globals)
{
	char *g = NULL;

	if (asprintf(&g, "metrics_address = 127.0.0.1:%d\n%s", metrics_port(), globals ? globals : "") < 0)
		ck_abort_msg("asprintf");
	restart_with(g);
	free(g);
}

static void daemon_base(void)
{
	restart_with(NULL);
}

/* OK, and every server's lag measured: a switchover's preflight needs that. */
static bool verdict_ok(void)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK");
	int i;

	for (i = 1; ok && i <= IT_SERVERS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "db%d", i);
		ok = json_is_integer(json_object_get(it_server(st, name), "lag_ms"));
	}

	json_decref(st);
	return ok;
}

/* The pid a hook wrote, 0 if none yet. */
static long pid_in(const char *path)
{
	char *t = it_read_text(path);
	long pid = t ? atol(t) : 0;

	free(t);
	return pid > 1 ? pid : 0;
}

static bool file_has(const char *path, const char *needle)
{
	char *t = it_read_text(path);
	bool ok = t && strstr(t, needle);

	free(t);
	return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* tests */

/* 1. /metrics against the servers themselves; /healthz; unknown paths and methods. */
static void metrics_match_servers(void)
{
	char series[160], *text;
	int code, i;
	double v;

	daemon_with(NULL);
	ck_assert(IT_WAIT_UNTIL(5000, scraped_is("cutoverd_ready", 1)));
	text = http_get("/healthz", &code);
	ck_assert_int_eq(code, 200);
	ck_assert_str_eq(text, "ok\n");
	free(text);
	/* each value must be what the server says, at one scrape after the other settled */
	ck_assert(IT_WAIT_UNTIL(FEW_POLLS_MS, scraped_is("cutoverd_server_is_primary{cluster=\"" IT_CLUSTER "\",server=\"db1\"}", 1)));
	text = http_get("/metrics", &code);
	ck_assert_int_eq(code, 200);
	for (i = 1; i <= IT_SERVERS; i++) {
		int ro = it_read_only(i);
		snprintf(series, sizeof(series), "cutoverd_server_read_only{cluster=\"%s\",server=\"db%d\"}", IT_CLUSTER, i);
		ck_assert_msg(metric(text, series, &v), "no %s", series);
		ck_assert_msg(v == ro, "%s is %g, the server says %d", series, v, ro);
		snprintf(series, sizeof(series), "cutoverd_server_up{cluster=\"%s\",server=\"db%d\"}", IT_CLUSTER, i);
		ck_assert_msg(metric(text, series, &v) && v == 1, "%s", series);
		snprintf(series, sizeof(series), "cutoverd_server_replication_sql_running{cluster=\"%s\",server=\"db%d\"}",
			 IT_CLUSTER, i);
		ck_assert_msg(metric(text, series, &v) == (i != 1), "%s: replicas only", series);
		if (i != 1)
			ck_assert_msg(v == 1, "%s is %g", series, v);
		snprintf(series, sizeof(series), "cutoverd_server_replication_lag_seconds{cluster=\"%s\",server=\"db%d\"}",
			 IT_CLUSTER, i);
		ck_assert_msg(metric(text, series, &v) && v >= 0 && v < 5, "%s", series);
	}
	ck_assert_msg(metric(text, "cutoverd_server_read_only{cluster=\"" IT_CLUSTER "\",server=\"db1\"}", &v) && v == 0,
		      "db1 must be writable");
	ck_assert_msg(metric(text, "cutoverd_server_read_only{cluster=\"" IT_CLUSTER "\",server=\"db2\"}", &v) && v == 1,
		      "db2 must be read-only");
	ck_assert(metric(text, "cutoverd_cluster_writable_servers{cluster=\"" IT_CLUSTER "\"}", &v) && v == 1);
	ck_assert(metric(text, "cutoverd_cluster_verdict{cluster=\"" IT_CLUSTER "\",verdict=\"OK\"}", &v) && v == 1);
	ck_assert(metric(text, "cutoverd_router_writer_matches_primary{cluster=\"" IT_CLUSTER
			       "\",router=\"haproxy\",type=\"haproxy\"}", &v) && v == 1);
	ck_assert(metric(text, "cutoverd_api_requests_total{command=\"status\",result=\"ok\"}", &v) && v >= 1);
	it_note("scrape: %zu bytes; db1..db3 read_only and threads as the servers say", strlen(text));
	free(text);

	text = http_get("/nothing", &code);
	ck_assert_int_eq(code, 404);
	free(text);
	daemon_base();
}

/* 2. STOP SLAVE SQL_THREAD on db2: its gauge drops to 0 within a few polls (the IO thread's
 * stays 1), and comes back after START SLAVE SQL_THREAD. */
static void sql_thread_gauge(void)
{
	const char *sql = "cutoverd_server_replication_sql_running{cluster=\"" IT_CLUSTER "\",server=\"db2\"}";
	const char *io = "cutoverd_server_replication_io_running{cluster=\"" IT_CLUSTER "\",server=\"db2\"}";
	int64_t t0;

	daemon_with(NULL);
	ck_assert(IT_WAIT_UNTIL(FEW_POLLS_MS, scraped_is(sql, 1)));
	t0 = it_now_ms();
	ck_assert_msg(it_sql_exec(2, "STOP SLAVE SQL_THREAD") == 0, "%s", it_sql_error());
	ck_assert_msg(IT_WAIT_UNTIL(FEW_POLLS_MS, scraped_is(sql, 0)), "%s did not drop to 0", sql);
	it_note("SQL thread stopped: gauge 0 after %lld ms (poll %d ms)", (long long)(it_now_ms() - t0), IT_POLL_MS);
	ck_assert(scraped_is(io, 1));
	ck_assert_msg(it_sql_exec(2, "START SLAVE SQL_THREAD") == 0, "%s", it_sql_error());
	ck_assert_msg(IT_WAIT_UNTIL(FEW_POLLS_MS, scraped_is(sql, 1)), "%s did not come back to 1", sql);
	daemon_base();
}

/* 3. A killed replica: the hook gets the server_state event as JSON on stdin and in its
 * environment. */
static void hook_receives_event(void)
{
	char out[400], *hook, *globals, *text, *json;
	json_t *ev;

	snprintf(out, sizeof(out), "%s/events.out", hooks_dir());
	unlink(out);
	if (asprintf(&text, "#!/bin/sh\n{ echo '--- stdin'; cat; echo '--- env'; env | grep '^CUTOVER_' | sort; } >> %s\n",
		     out) < 0)
		ck_abort_msg("asprintf");
	hook = write_hook("record", text);
	free(text);
	if (asprintf(&globals, "event_hook = %s\n", hook) < 0)
		ck_abort_msg("asprintf");
	daemon_with(globals);
	free(globals);

	ck_assert_int_eq(it_sandbox("kill", "3", NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, file_has(out, "\"to\":\"down\"") && file_has(out, "CUTOVER_SERVER=db3")),
		      "no server_state event for db3 in %s", out);
	text = it_read_text(out);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "CUTOVER_EVENT=server_state\n"), "%s", text);
	ck_assert(strstr(text, "CUTOVER_CLUSTER=" IT_CLUSTER "\n"));
	json = strstr(text, "\"to\":\"down\"");   /* the start-up's "up" events came first */
	ck_assert_ptr_nonnull(json);
	while (json > text && json[-1] != '\n')
		json--;
	ev = json_loads(json, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_msg(ev != NULL, "the hook's stdin is not JSON: %s", json);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "server")), "db3");
	ck_assert_ptr_nonnull(json_string_value(json_object_get(ev, "ts")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ev, "message")), "db3 is down"));
	it_note("hook got: %s", it_json_str(ev));
	json_decref(ev);
	free(text);
	ck_assert(IT_WAIT_UNTIL(5000, scraped_is("cutoverd_server_up{cluster=\"" IT_CLUSTER "\",server=\"db3\"}", 0)));
	ck_assert(IT_WAIT_UNTIL(5000, !scraped_is("cutoverd_event_hooks_total{result=\"ok\"}", 0)));

	ck_assert_int_eq(it_server_restart(3), 0);
	ck_assert_msg(IT_WAIT_UNTIL(20000, file_has(out, "db3 is up")), "no event for db3 coming back");
	free(hook);
	daemon_base();
}

/* 4. A switchover: the hook gets its milestones in order and none of the steps in between;
 * the counters and the write-blocked histogram move. */
static void switchover_milestones(void)
{
	static const char *const order[] = {
		"CUTOVER_MILESTONE=switchover_start", "CUTOVER_MESSAGE=preflight done", "CUTOVER_MESSAGE=fence done",
		"CUTOVER_MESSAGE=promote done", "CUTOVER_MESSAGE=verify done", "CUTOVER_MILESTONE=finished",
	};
	char out[400], *hook, *globals, *text, *at;
	json_t *r;
	size_t i;

	snprintf(out, sizeof(out), "%s/cutover.out", hooks_dir());
	unlink(out);
	if (asprintf(&text, "#!/bin/sh\n[ \"$CUTOVER_EVENT\" = cutover ] || exit 0\n"
			    "{ echo '---'; env | grep '^CUTOVER_' | sort; } >> %s\n", out) < 0)
		ck_abort_msg("asprintf");
	hook = write_hook("cutover", text);
	free(text);
	if (asprintf(&globals, "event_hook = %s\n", hook) < 0)
		ck_abort_msg("asprintf");
	daemon_with(globals);
	free(globals);

	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(10000, file_has(out, "CUTOVER_MILESTONE=finished")), "no finished milestone");
	text = it_read_text(out);
	ck_assert_ptr_nonnull(text);
	for (i = 0, at = text; i < sizeof(order) / sizeof(order[0]); i++) {
		char *p = strstr(at, order[i]);
		ck_assert_msg(p, "'%s' missing or out of order in:\n%s", order[i], text);
		at = p;
	}
	ck_assert_msg(!strstr(text, "CUTOVER_MESSAGE=check "), "a preflight check reached the hook:\n%s", text);
	ck_assert(strstr(text, "CUTOVER_ID="));
	free(text);

	ck_assert(scraped_is("cutoverd_cluster_switchovers_total{cluster=\"" IT_CLUSTER "\",outcome=\"done\"}", 1));
	ck_assert(scraped_is("cutoverd_cluster_switchover_write_blocked_seconds_count{cluster=\"" IT_CLUSTER "\"}", 1));
	ck_assert(scraped_is("cutoverd_cluster_switchover_write_blocked_seconds_bucket{cluster=\"" IT_CLUSTER
			     "\",le=\"+Inf\"}", 1));
	{
		int code;
		double v;
		char *m = http_get("/metrics", &code);
		ck_assert(metric(m, "cutoverd_cluster_last_switchover_write_blocked_seconds{cluster=\"" IT_CLUSTER "\"}", &v));
		it_note("write-blocked window %.1f ms as /metrics reports it", v * 1000);
		ck_assert(metric(m, "cutoverd_cluster_last_switchover_phase_duration_seconds{cluster=\"" IT_CLUSTER
				    "\",phase=\"fence\"}", &v) && v >= 0);
		free(m);
	}
	ck_assert(IT_WAIT_UNTIL(FEW_POLLS_MS,
				scraped_is("cutoverd_server_is_primary{cluster=\"" IT_CLUSTER "\",server=\"db2\"}", 1)));

	r = it_switchover(json_pack("{s:s, s:i}", "to", "db1", "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover back: %s", it_json_str(r));
	json_decref(r);
	ck_assert(scraped_is("cutoverd_cluster_switchovers_total{cluster=\"" IT_CLUSTER "\",outcome=\"done\"}", 2));
	free(hook);
	daemon_base();
}

/* 5. A hook that hangs (sleep 600) is killed at event_hook_timeout; meanwhile status and
 * /metrics answer. */
static void hanging_hook_killed(void)
{
	char pidfile[400], *hook, *globals, *text, *body;
	json_t *r;
	long pid, mark;
	int code;
	int64_t t0;

	snprintf(pidfile, sizeof(pidfile), "%s/hang.pid", hooks_dir());
	unlink(pidfile);
	if (asprintf(&body, "#!/bin/sh\necho $$ > %s\nexec sleep 600\n", pidfile) < 0)
		ck_abort_msg("asprintf");
	hook = write_hook("hang", body);
	free(body);
	if (asprintf(&globals, "event_hook = %s\nevent_hook_timeout = %ds\n", hook, HOOK_TIMEOUT_S) < 0)
		ck_abort_msg("asprintf");
	daemon_with(globals);
	free(globals);

	mark = it_daemon_log_mark();
	r = it_call("reload", NULL, 10000);   /* its config_reloaded event starts the hook */
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload: %s", it_json_str(r));
	json_decref(r);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(5000, pid_in(pidfile) > 0), "the hook did not start");
	pid = pid_in(pidfile);
	ck_assert_msg(kill((pid_t)pid, 0) == 0, "the hook (pid %ld) is not running", pid);
	/* the daemon answers while the hook hangs */
	r = it_call("status", NULL, 2000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "status while a hook hangs: %s", it_json_str(r));
	json_decref(r);
	text = http_get("/metrics", &code);
	ck_assert_int_eq(code, 200);
	free(text);

	ck_assert_msg(IT_WAIT_UNTIL(HOOK_TIMEOUT_S * 1000 + 5000, kill((pid_t)pid, 0) < 0 && errno == ESRCH),
		      "the hanging hook (pid %ld) was not killed", pid);
	it_note("hook pid %ld killed %lld ms after the reload (event_hook_timeout %d s)", pid,
		(long long)(it_now_ms() - t0), HOOK_TIMEOUT_S);
	ck_assert(IT_WAIT_UNTIL(5000, scraped_is("cutoverd_event_hooks_total{result=\"timeout\"}", 1)));
	ck_assert(it_daemon_log_since(mark, "timed out"));
	free(hook);
	daemon_base();
}

static bool metrics_answers(void)
{
	int code = 0;
	char *body = http_get("/metrics", &code);
	free(body);
	return code == 200;
}

/* Hundreds of idle /metrics clients do not starve the pollers of descriptors: with the daemon
 * held to 100, 400 idle connections leave it able to open the connections a dry run needs. */
static void descriptors_kept_for_pollers(void)
{
	char pid[16], lim[32], *out = NULL;
	const char *argv[] = { "/usr/bin/prlimit", "--pid", pid, lim, NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fds[400], i, opened = 0;
	long mark;
	json_t *r;

	daemon_with(NULL);
	snprintf(pid, sizeof(pid), "%d", (int)it.daemon);
	snprintf(lim, sizeof(lim), "--nofile=100:100");
	ck_assert_msg(it_run(argv, true, &out, 10000) == 0, "prlimit: %s", out ? out : "");
	free(out);
	mark = it_daemon_log_mark();
	sa.sin_port = htons((uint16_t)metrics_port());
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 400; i++) {
		/* non-blocking: past the listen backlog a connect would wait for minutes; in waves of
		 * 20, so that the backlog (32) has been accepted from before the next */
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fds[i] >= 0 && (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS))
			opened++;
		if (i % 20 == 19)
			it_sleep_ms(50);
	}
	it_sleep_ms(1000);
	it_note("%d idle connections to /metrics opened (the backlog takes what is not accepted)", opened);
	r = it_switchover(json_pack("{s:s, s:b}", "to", "db2", "dry_run", 1), 20000, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "dry run with the idle clients: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(it_daemon_log_since(mark, "not accepting metrics connections"),
		      "the descriptor guard did not stop accepting");
	for (i = 0; i < 400; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* evhttp closes what it accepted after its idle timeout; then /metrics answers again */
	ck_assert_msg(IT_WAIT_UNTIL(20000, metrics_answers()), "/metrics does not answer again after the clients left");
	daemon_base();
}

static const struct it_case cases[] = {
	{ "metrics_match_servers", metrics_match_servers },
	{ "sql_thread_gauge", sql_thread_gauge },
	{ "hook_receives_event", hook_receives_event },
	{ "switchover_milestones", switchover_milestones },
	{ "hanging_hook_killed", hanging_hook_killed },
	{ "descriptors_kept_for_pollers", descriptors_kept_for_pollers },
};

Suite *it_metrics_suite(void)
{
	static const struct it_suite_def def = { "metrics", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
