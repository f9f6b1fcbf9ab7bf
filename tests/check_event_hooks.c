/* Unit tests for event_hooks.c: which switchover lines are milestones, the sliding-window rate
 * limit, and real hook runs from a loop: the event on stdin and in CUTOVER_* variables, a
 * [cluster] hook only for its cluster, order kept, drops counted, a failing and a hanging hook
 * counted and nothing held up, a hook removed by a reload forgotten. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "event_hooks.h"
#include "job.h"
#include "log.h"
#include "util.h"

Suite *event_hooks_suite(void);

static char tmpdir[64];
static struct config cfg;
static struct cfg_cluster clusters[2];
static struct daemon d;
static char *global_hooks[3], *main_hooks[2];

/* ------------------------------------------------------------------------------------------ */
/* fixture */

static void write_script(const char *name, const char *body, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	log_init(LOG_TO_STDERR, LOG_ERR);
	strlcpy_(tmpdir, "/tmp/check_event_hooks.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	memset(&cfg, 0, sizeof(cfg));
	memset(clusters, 0, sizeof(clusters));
	memset(&d, 0, sizeof(d));
	memset(global_hooks, 0, sizeof(global_hooks));
	memset(main_hooks, 0, sizeof(main_hooks));
	clusters[0].name = "main";
	clusters[1].name = "other";
	cfg.clusters = clusters;
	cfg.n_clusters = 2;
	cfg.event_hook_rate = 30;
	cfg.event_hook_timeout_ms = 5000;
	d.cfg = &cfg;
	d.base = event_base_new();
	ck_assert_ptr_nonnull(d.base);
}

static void teardown(void)
{
	size_t i;

	event_hooks_stop();
	/* cancelled hooks are reaped by the loop */
	for (i = 0; job_count() > 0 && i < 500; i++)
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(10000);
	event_base_free(d.base);
	for (i = 0; i < ARRAY_LEN(global_hooks); i++)
		free(global_hooks[i]);
	for (i = 0; i < ARRAY_LEN(main_hooks); i++)
		free(main_hooks[i]);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A hook that appends its stdin and CUTOVER_* environment to `out`. */
static char *recorder(const char *name, const char *out)
{
	char path[256], body[512];

	snprintf(body, sizeof(body), "#!/bin/sh\n{ echo '--- stdin'; cat; echo '--- env'; env | grep '^CUTOVER_' | sort; }"
				     " >> %s\n", out);
	write_script(name, body, path, sizeof(path));
	return xasprintf("%s", path);
}

static void loop_break(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Run the loop until no event waits and no hook job is left (a cap keeps a broken test from
 * hanging). */
static void run_until_idle(void)
{
	struct timeval tick = { 0, 20000 };
	struct event *t = event_new(d.base, -1, EV_PERSIST, loop_break, d.base);
	int rounds = 0;

	event_add(t, &tick);
	while ((event_hooks_pending() > 0 || job_count() > 0) && rounds++ < 1500)
		event_base_dispatch(d.base);
	event_free(t);
	ck_assert_uint_eq(job_count(), 0);
}

static char *slurp(const char *path)
{
	char *s = read_small_file(path, 1 << 20);
	return s ? s : xstrdup("");
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void fire(json_t *ev)
{
	event_hooks_fire(&d, ev);
	json_decref(ev);
}

/* ------------------------------------------------------------------------------------------ */
/* event_hooks_milestone */

static const char *ms(const char *status, const char *phase, const char *msg)
{
	static char buf[32];
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "cutover", "id", "20260101-1", "cluster",
			       "main", "phase", phase, "status", status, "message", msg);
	const char *m = event_hooks_milestone(ev);

	snprintf(buf, sizeof(buf), "%s", m ? m : "-");
	json_decref(ev);
	return buf;
}

START_TEST(test_milestone)
{
	ck_assert_str_eq(ms("start", "preflight", "switchover db1 → db2 on cluster main"), "switchover_start");
	ck_assert_str_eq(ms("start", "preflight", "failover db1 → db2 on cluster main (automatic)"),
			 "switchover_start");
	ck_assert_str_eq(ms("start", "drain", "drain"), "-");
	ck_assert_str_eq(ms("ok", "drain", "drain done in 12.3 ms"), "phase_ok");
	ck_assert_str_eq(ms("fail", "sync", "sync failed: timed out after 5000 ms"), "phase_fail");
	ck_assert_str_eq(ms("ok", "fence", "rolled back: db1 is the writable primary, routers restored, db2 replicating"),
			 "rolled_back");
	ck_assert_str_eq(ms("ok", "verify", "switchover 20260101-1: done"), "finished");
	ck_assert_str_eq(ms("fail", "preflight", "switchover 20260101-1: refused: preflight: 1 check failed"),
			 "finished");
	/* the steps in between */
	ck_assert_str_eq(ms("ok", "preflight", "check candidate_lag: pass — lag 0 ms"), "-");
	ck_assert_str_eq(ms("fail", "preflight", "check router: fail — router hap unreachable"), "-");
	ck_assert_str_eq(ms("ok", "drain", "router hap: db1 drained"), "-");
	ck_assert_str_eq(ms("info", "fence", "cutting 2 client sessions on db1"), "-");
	ck_assert_str_eq(ms("warn", "promote", "db3 is down: left behind; point it at db2 by hand"), "-");
	ck_assert_str_eq(ms("ok", "sync", "sync is fine"), "-");
	ck_assert_str_eq(ms("ok", "drain", "switchover 20260101-2: done"), "-");   /* another id */
	{
		json_t *ev = json_pack("{s:s}", "type", "cutover");
		ck_assert_ptr_null(event_hooks_milestone(ev));
		json_decref(ev);
	}
	/* The engine names its milestones: the wording no longer matters (a failover's last line). */
	{
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "cutover", "id", "20260101-1", "phase",
				       "verify", "status", "ok", "message", "failover 20260101-1: done", "milestone",
				       "finished");
		ck_assert_str_eq(event_hooks_milestone(ev), "finished");
		json_decref(ev);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* eh_window_allow */

START_TEST(test_window)
{
	static struct eh_window w;
	int i;

	memset(&w, 0, sizeof(w));
	ck_assert(eh_window_allow(&w, 3, 1000));
	ck_assert(eh_window_allow(&w, 3, 2000));
	ck_assert(eh_window_allow(&w, 3, 3000));
	ck_assert(!eh_window_allow(&w, 3, 4000));
	ck_assert(!eh_window_allow(&w, 3, 60999));    /* the first is 59 999 ms old */
	ck_assert(eh_window_allow(&w, 3, 61000));     /* now it has left the window */
	ck_assert(!eh_window_allow(&w, 3, 61500));
	ck_assert(eh_window_allow(&w, 4, 61500));     /* a higher limit after a reload */
	ck_assert(!eh_window_allow(&w, 1, 100000));   /* lower: waits until the window empties */
	ck_assert(eh_window_allow(&w, 1, 200000));
	/* the ring wraps: the largest limit, over and over */
	memset(&w, 0, sizeof(w));
	for (i = 0; i < 3 * EH_RATE_MAX; i++)
		ck_assert(eh_window_allow(&w, EH_RATE_MAX, (int64_t)i * (EH_WINDOW_MS / EH_RATE_MAX + 1)));
	ck_assert(eh_window_allow(&w, 0, 10 * (int64_t)EH_WINDOW_MS));   /* below 1 counts as 1 */
	ck_assert(!eh_window_allow(&w, 0, 10 * (int64_t)EH_WINDOW_MS));
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* event_hooks_fire */

START_TEST(test_fire_delivers)
{
	char out[256], *text;
	unsigned long long before[EH__COUNT], after[EH__COUNT];
	json_t *line;

	snprintf(out, sizeof(out), "%s/out", tmpdir);
	global_hooks[0] = recorder("rec", out);
	cfg.event_hooks = global_hooks;
	event_hooks_counts(before);

	fire(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "server_state", "cluster", "main", "server", "db3",
		       "to", "down", "message", "db3 is down: it's \"gone\"", "ts", "2026-01-01T00:00:00.000Z"));
	run_until_idle();
	text = slurp(out);
	ck_assert_msg(strstr(text, "CUTOVER_EVENT=server_state\n"), "%s", text);
	ck_assert(strstr(text, "CUTOVER_CLUSTER=main\n"));
	ck_assert(strstr(text, "CUTOVER_SERVER=db3\n"));
	ck_assert(strstr(text, "CUTOVER_MESSAGE=db3 is down: it's \"gone\"\n"));
	ck_assert_ptr_null(strstr(text, "CUTOVER_PHASE="));   /* absent fields are not set */
	line = json_loads(strstr(text, "--- stdin\n") + 10, JSON_DISABLE_EOF_CHECK, NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(json_string_value(json_object_get(line, "to")), "down");
	ck_assert_str_eq(json_string_value(json_object_get(line, "ts")), "2026-01-01T00:00:00.000Z");
	json_decref(line);
	free(text);
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_OK], before[EH_OK] + 1);
}
END_TEST

/* A switchover's progress: only the milestones, in order, with the phase and the id. */
START_TEST(test_fire_cutover_milestones)
{
	static const char *const lines[][3] = {
		{ "start", "preflight", "switchover db1 → db2 on cluster main" },
		{ "start", "preflight", "preflight" },
		{ "ok", "preflight", "check router: pass — db1" },
		{ "ok", "preflight", "preflight done in 3.0 ms" },
		{ "ok", "drain", "router hap: db1 drained" },
		{ "ok", "drain", "drain done in 5.0 ms" },
		{ "ok", "verify", "switchover S1: done" },
	};
	char out[256], *text, *a, *b, *c;
	size_t i;

	snprintf(out, sizeof(out), "%s/out", tmpdir);
	global_hooks[0] = recorder("rec", out);
	cfg.event_hooks = global_hooks;
	for (i = 0; i < ARRAY_LEN(lines); i++)
		fire(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f}", "type", "cutover", "id", "S1", "cluster", "main",
			       "status", lines[i][0], "phase", lines[i][1], "message", lines[i][2], "elapsed_ms", 1.0));
	run_until_idle();
	text = slurp(out);
	ck_assert_uint_eq(occurrences(text, "--- stdin"), 4);
	ck_assert_uint_eq(occurrences(text, "CUTOVER_ID=S1\n"), 4);
	a = strstr(text, "CUTOVER_MILESTONE=switchover_start");
	b = strstr(text, "CUTOVER_MESSAGE=drain done in 5.0 ms");
	c = strstr(text, "CUTOVER_MILESTONE=finished");
	ck_assert_msg(a && b && c && a < b && b < c, "order: %s", text);
	ck_assert(strstr(text, "CUTOVER_PHASE=verify\n"));
	ck_assert(strstr(text, "\"ts\":"));   /* progress lines get a time stamp */
	ck_assert_ptr_null(strstr(text, "drained"));
	free(text);
}
END_TEST

START_TEST(test_fire_cluster_scope)
{
	char out_g[256], out_m[256], *g, *m;

	snprintf(out_g, sizeof(out_g), "%s/global", tmpdir);
	snprintf(out_m, sizeof(out_m), "%s/main", tmpdir);
	global_hooks[0] = recorder("g", out_g);
	main_hooks[0] = recorder("m", out_m);
	cfg.event_hooks = global_hooks;
	clusters[0].event_hooks = main_hooks;
	fire(json_pack("{s:s, s:s, s:s}", "type", "verdict", "cluster", "main", "message", "main is WARN"));
	fire(json_pack("{s:s, s:s, s:s}", "type", "verdict", "cluster", "other", "message", "other is CRIT"));
	fire(json_pack("{s:s, s:s}", "type", "config_reloaded", "message", "configuration reloaded"));
	run_until_idle();
	g = slurp(out_g);
	m = slurp(out_m);
	ck_assert_uint_eq(occurrences(g, "--- stdin"), 3);
	ck_assert_uint_eq(occurrences(m, "--- stdin"), 1);
	ck_assert(strstr(m, "CUTOVER_MESSAGE=main is WARN"));
	free(g);
	free(m);
}
END_TEST

START_TEST(test_fire_rate_limit)
{
	char out[256], *text;
	unsigned long long before[EH__COUNT], after[EH__COUNT];
	int i;

	snprintf(out, sizeof(out), "%s/out", tmpdir);
	global_hooks[0] = recorder("rec", out);
	cfg.event_hooks = global_hooks;
	cfg.event_hook_rate = 2;
	event_hooks_counts(before);
	for (i = 0; i < 5; i++)
		fire(json_pack("{s:s, s:s, s:i}", "type", "role", "cluster", "main", "n", i));
	run_until_idle();
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_OK] - before[EH_OK], 2);
	ck_assert_uint_eq(after[EH_DROPPED] - before[EH_DROPPED], 3);
	text = slurp(out);
	ck_assert(strstr(text, "\"n\":0") && strstr(text, "\"n\":1") && !strstr(text, "\"n\":2"));
	free(text);
}
END_TEST

START_TEST(test_fire_failure_and_timeout)
{
	char fail[256], hang[256];
	unsigned long long before[EH__COUNT], after[EH__COUNT];

	write_script("fail", "#!/bin/sh\necho 'webhook said 500' >&2\nexit 22\n", fail, sizeof(fail));
	write_script("hang", "#!/bin/sh\nexec sleep 600\n", hang, sizeof(hang));
	global_hooks[0] = xstrdup(fail);
	global_hooks[1] = xstrdup(hang);
	cfg.event_hooks = global_hooks;
	cfg.event_hook_timeout_ms = 300;
	event_hooks_counts(before);
	fire(json_pack("{s:s, s:s}", "type", "primary", "cluster", "main"));
	run_until_idle();
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_FAILED] - before[EH_FAILED], 1);
	ck_assert_uint_eq(after[EH_TIMEOUT] - before[EH_TIMEOUT], 1);
	ck_assert_uint_eq(after[EH_OK] - before[EH_OK], 0);
}
END_TEST

/* A hook still running gets later events queued (one run at a time); when a reload removes
 * it, the queue is dropped and the hook's state goes once its run ends. */
START_TEST(test_fire_queue_and_removal)
{
	char slow[256], out[256], body[512], *text;
	unsigned long long before[EH__COUNT], after[EH__COUNT];

	snprintf(out, sizeof(out), "%s/out", tmpdir);
	snprintf(body, sizeof(body), "#!/bin/sh\ncat >> %s\nsleep 0.2\n", out);
	write_script("slow", body, slow, sizeof(slow));
	global_hooks[0] = xstrdup(slow);
	cfg.event_hooks = global_hooks;
	event_hooks_counts(before);
	fire(json_pack("{s:s, s:i}", "type", "a", "n", 1));
	fire(json_pack("{s:s, s:i}", "type", "a", "n", 2));
	fire(json_pack("{s:s, s:i}", "type", "a", "n", 3));
	ck_assert_uint_eq(job_count(), 0);   /* runs start from the loop, not from inside fire */
	event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(job_count(), 1);   /* one run at a time */
	run_until_idle();
	text = slurp(out);
	ck_assert_msg(strstr(text, "\"n\":1") < strstr(text, "\"n\":2") && strstr(text, "\"n\":2") < strstr(text, "\"n\":3"),
		      "order: %s", text);
	free(text);
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_OK] - before[EH_OK], 3);

	fire(json_pack("{s:s, s:i}", "type", "a", "n", 4));
	event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);   /* n=4 starts */
	ck_assert_uint_eq(job_count(), 1);
	fire(json_pack("{s:s, s:i}", "type", "a", "n", 5));
	cfg.event_hooks = NULL;                               /* the reload */
	fire(json_pack("{s:s, s:i}", "type", "a", "n", 6));   /* any event notices */
	run_until_idle();
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_OK] - before[EH_OK], 4);   /* n=4 was running */
	ck_assert_uint_eq(after[EH_DROPPED] - before[EH_DROPPED], 1);   /* n=5 was waiting */
	text = slurp(out);
	ck_assert(!strstr(text, "\"n\":5") && !strstr(text, "\"n\":6"));
	free(text);
}
END_TEST

START_TEST(test_stop_cancels)
{
	char hang[256];
	unsigned long long before[EH__COUNT], after[EH__COUNT];

	write_script("hang", "#!/bin/sh\nexec sleep 600\n", hang, sizeof(hang));
	global_hooks[0] = xstrdup(hang);
	cfg.event_hooks = global_hooks;
	event_hooks_counts(before);
	fire(json_pack("{s:s}", "type", "a"));
	fire(json_pack("{s:s}", "type", "b"));
	event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(job_count(), 1);
	event_hooks_stop();
	run_until_idle();   /* reaped, no callback */
	event_hooks_counts(after);
	ck_assert_uint_eq(after[EH_OK] + after[EH_FAILED] + after[EH_TIMEOUT],
			  before[EH_OK] + before[EH_FAILED] + before[EH_TIMEOUT]);
}
END_TEST

Suite *event_hooks_suite(void)
{
	Suite *s = suite_create("event_hooks");
	TCase *tc;

	tc = tcase_create("event_hooks_milestone");
	tcase_add_test(tc, test_milestone);
	suite_add_tcase(s, tc);

	tc = tcase_create("eh_window_allow");
	tcase_add_test(tc, test_window);
	suite_add_tcase(s, tc);

	tc = tcase_create("event_hooks_fire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fire_delivers);
	tcase_add_test(tc, test_fire_cutover_milestones);
	tcase_add_test(tc, test_fire_cluster_scope);
	tcase_add_test(tc, test_fire_rate_limit);
	tcase_add_test(tc, test_fire_failure_and_timeout);
	tcase_add_test(tc, test_fire_queue_and_removal);
	suite_add_tcase(s, tc);

	tc = tcase_create("event_hooks_stop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stop_cancels);
	suite_add_tcase(s, tc);
	return s;
}
