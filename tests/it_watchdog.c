/* Acceptance tests of the "watchdog" issue against real servers (cutoverd(8), WATCHDOG): a second
 * writable server raises split_brain and, under the fence policy, is made read-only again; the
 * STONITH hook gets its documented environment and is killed whole at hook_timeout; a killed
 * primary is failed over automatically, a primary that only cutoverd lost is not, and a second
 * automatic failover is blocked; an emergency failover without any means of fencing changes
 * nothing; fence, unfence and stonith refuse what would stop writes or split the brain, and
 * non-admins; a reload keeps a running STONITH and the wait after a failed automatic attempt.
 * Timings are reported with generous bounds, never asserted tightly.  A test that
 * changes the config puts the base config back when it passes; one that kills db1 leaves the
 * rebuild to the framework (it_restore_baseline). */
#include "it_lib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLACK_MS 1000                 /* scheduling slack on a busy 2-core machine */
#define FAILOVER_AFTER 3
#define FAILOVER_TIMEOUT_MS 60000
#define NFT "/usr/sbin/nft"
#define NFT_TABLE "cutover_it"
#define CUT_ADDR "127.0.0.2"          /* cutoverd's own path to db1 in link_cut_no_failover */

Suite *it_watchdog_suite(void);

static int server_of(const char *name);
static bool alarm_is(const char *name, const char *subject, const char *state);
static const char *hooks_dir(void);
static char *write_hook(const char *name, const char *body);
static json_t *journal(void);
static size_t journal_count(json_t *all, const char *event, const char *target);
static json_t *journal_last(json_t *all, const char *event, const char *target);
static size_t failovers_in_history(size_t *automatic);
static bool cluster_ready(const char *primary);
static void daemon_with(const char *cluster_extra);
static void daemon_base(void);
static bool pid_running(long pid);
static long pid_in(const char *path);
static bool env_has(const char *env, const char *line);
static void assert_hook_env(const char *env, const char *event, int target, const char *host);
static char *writer_now(void);
static bool server_reachable(const char *name, bool want);
static bool authority_is(const char *name);
static const char *status_primary(json_t *st);
static int wait_new_primary(int64_t deadline_ms, int old);
static char *recording_hook(const char *name, char *envfile, size_t len);

static void split_brain_alert(void);
static void split_brain_fence(void);
static void stonith_hook_env_and_timeout(void);
static void auto_failover_on_kill9(void);
static void link_cut_no_failover(void);
static void anti_flapping(void);
static void emergency_failover_fencing(void);
static void manual_fence_unfence_denied(void);
static void reload_during_stonith(void);
static void retry_wait_survives_reload(void);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

static int server_of(const char *name)
{
	int i;
	for (i = 1; name && i <= IT_SERVERS; i++)
		if (!strcmp(name, it_name_of(i)))
			return i;
	return 0;
}

/* An alarm with this name, subject (NULL: any) and state (NULL: any) in a fresh status. */
static bool alarm_is(const char *name, const char *subject, const char *state)
{
	json_t *st = it_status();
	bool ok = it_alarm_in(st, name, subject, state) != NULL;
	json_decref(st);
	return ok;
}

/* Hooks must be in directories only root can write (cutoverd checks the whole path). */
static const char *hooks_dir(void)
{
	static char dir[300];

	snprintf(dir, sizeof(dir), "%s/hooks", it.dir);
	ck_assert_msg(chmod(it.dir, 0755) == 0, "chmod %s: %s", it.dir, strerror(errno));
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

/* A STONITH hook that writes its whole environment to envfile (atomically) and exits 0. */
static char *recording_hook(const char *name, char *envfile, size_t len)
{
	char body[1200];

	snprintf(envfile, len, "%s/%s.env", hooks_dir(), name);
	unlink(envfile);
	snprintf(body, sizeof(body), "#!/bin/sh\n"
				     "/usr/bin/env > %s.tmp && mv %s.tmp %s\n"
				     "echo \"powered off $CUTOVER_TARGET\"\n"
				     "exit 0\n", envfile, envfile, envfile);
	return write_hook(name, body);
}

/* Every entry of STATE_DIR/journal-sandbox.jsonl (after its rotated part), oldest first. */
static json_t *journal(void)
{
	static const char *const suffix[] = { ".1", "" };
	json_t *all = json_array();
	size_t k;

	for (k = 0; k < 2; k++) {
		char path[400], *text, *line, *save = NULL;
		snprintf(path, sizeof(path), "%s/state/journal-%s.jsonl%s", it.dir, IT_CLUSTER, suffix[k]);
		text = it_read_text(path);
		for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
			json_t *e = json_loads(line, 0, NULL);
			if (e)
				json_array_append_new(all, e);
		}
		free(text);
	}
	return all;
}

static size_t journal_count(json_t *all, const char *event, const char *target)
{
	json_t *e;
	size_t i, n = 0;

	json_array_foreach(all, i, e)
		n += !strcmp(it_get_str(e, "event") ?: "", event) &&
		     (!target || !strcmp(it_get_str(e, "target") ?: "", target));
	return n;
}

static json_t *journal_last(json_t *all, const char *event, const char *target)
{
	json_t *e, *found = NULL;
	size_t i;

	json_array_foreach(all, i, e)
		if (!strcmp(it_get_str(e, "event") ?: "", event) &&
		    (!target || !strcmp(it_get_str(e, "target") ?: "", target)))
			found = e;
	return found;
}

/* Failovers in `history` (kind failover); how many of them the journal says were automatic
 * (their first entry has "automatic":true — history has no such member). */
static size_t failovers_in_history(size_t *automatic)
{
	json_t *h = it_call_result("history", NULL), *x, *all = journal(), *e;
	size_t i, k, n = 0;

	*automatic = 0;
	json_array_foreach(it_get(h, "switchovers"), i, x) {
		if (strcmp(it_get_str(x, "kind") ?: "", "failover"))
			continue;
		n++;
		json_array_foreach(all, k, e)
			if (!strcmp(it_get_str(e, "id") ?: "", it_get_str(x, "id") ?: "?")) {
				*automatic += json_is_true(json_object_get(e, "automatic"));
				break;
			}
	}
	json_decref(h);
	json_decref(all);
	return n;
}

/* OK, the given primary as primary and authority, every replica's lag measured. */
static bool cluster_ready(const char *primary)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK") &&
		  !strcmp(it_get_str(st, "clusters.0.primary") ?: "", primary) &&
		  !strcmp(it_get_str(st, "clusters.0.authority") ?: "", primary);
	int i;

	for (i = 1; ok && i <= IT_SERVERS; i++)
		ok = json_is_integer(json_object_get(it_server(st, it_name_of(i)), "lag_ms"));
	json_decref(st);
	return ok;
}

/* Restart cutoverd with the base config plus `cluster_extra` in [cluster sandbox] and wait
 * until it reports the baseline cluster. */
static void daemon_with(const char *cluster_extra)
{
	char *text = it_config_text_cluster(cluster_extra, NULL);

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd did not start with the test config");
	free(text);
	ck_assert_msg(IT_WAIT_UNTIL(20000, cluster_ready("db1")),
		      "after the restart, cutoverd does not report OK with db1 as primary and authority");
}

static void daemon_base(void)
{
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd did not start with the base config");
	ck_assert_msg(IT_WAIT_UNTIL(20000, cluster_ready("db1")), "cutoverd does not report the baseline again");
}

/* Alive and not a zombie: a killed orphan stays one until init reaps it, and kill(pid, 0)
 * succeeds on it. */
static bool pid_running(long pid)
{
	char path[64], *stat, *p;
	bool dead;

	if (pid <= 1 || kill((pid_t)pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	stat = it_read_text(path);
	p = stat ? strrchr(stat, ')') : NULL;
	dead = !stat || (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
	free(stat);
	return !dead;
}

/* The pid a hook wrote, 0 if none yet. */
static long pid_in(const char *path)
{
	char *s = it_read_text(path);
	long pid = s ? strtol(s, NULL, 10) : 0;
	free(s);
	return pid;
}

static bool env_has(const char *env, const char *line)
{
	size_t len = strlen(line);
	const char *p = env;

	while (p && *p) {
		if (!strncmp(p, line, len) && (p[len] == '\n' || p[len] == '\0'))
			return true;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* The hook's environment is exactly the documented one: the six CUTOVER_ variables with these
 * values, PATH, and nothing of the daemon's own environment (the shell adds PWD). */
static void assert_hook_env(const char *env, const char *event, int target, const char *host)
{
	char want[6][300], *copy = strdup(env), *line, *save = NULL;
	const char *reason = NULL;
	int k, n_cutover = 0;

	snprintf(want[0], sizeof(want[0]), "CUTOVER_EVENT=%s", event);
	snprintf(want[1], sizeof(want[1]), "CUTOVER_CLUSTER=%s", IT_CLUSTER);
	snprintf(want[2], sizeof(want[2]), "CUTOVER_TARGET=%s", it_name_of(target));
	snprintf(want[3], sizeof(want[3]), "CUTOVER_TARGET_HOST=%s", host);
	snprintf(want[4], sizeof(want[4]), "CUTOVER_TARGET_PORT=%d", it_port(target));
	snprintf(want[5], sizeof(want[5]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	for (k = 0; k < 6; k++)
		ck_assert_msg(env_has(env, want[k]), "the hook's environment lacks %s:\n%s", want[k], env);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "CUTOVER_REASON=", 15)) {
			reason = line + 15;
			n_cutover++;
			continue;
		}
		for (k = 0; k < 6 && strcmp(line, want[k]); k++)
			;
		n_cutover += k < 5;
		ck_assert_msg(k < 6 || !strncmp(line, "PWD=", 4), "the hook's environment has %s, which the contract "
			      "does not list:\n%s", line, env);
	}
	ck_assert_msg(n_cutover == 6, "%d CUTOVER_ variables in the hook's environment, wanted 6:\n%s", n_cutover, env);
	ck_assert_msg(reason && *reason, "CUTOVER_REASON is empty:\n%s", env);
	free(copy);
}

static char *writer_now(void)
{
	char *w = it_haproxy_writer();
	return w ? w : strdup("(not one server)");
}

static bool server_reachable(const char *name, bool want)
{
	json_t *st = it_status();
	json_t *r = json_object_get(it_server(st, name), "reachable");
	bool ok = json_is_boolean(r) && json_is_true(r) == want;
	json_decref(st);
	return ok;
}

static bool authority_is(const char *name)
{
	json_t *st = it_status();
	bool ok = !strcmp(it_get_str(st, "clusters.0.authority") ?: "", name);
	json_decref(st);
	return ok;
}

static const char *status_primary(json_t *st)
{
	return it_get_str(st, "clusters.0.primary");
}

/* Wait until status names a primary other than `old` and no failover runs; that server, or 0. */
static int wait_new_primary(int64_t deadline_ms, int old)
{
	int found = 0;

	while (!found && it_now_ms() < deadline_ms) {
		json_t *st = it_status();
		int p = server_of(status_primary(st));
		if (p && p != old && json_is_null(it_get(st, "clusters.0.cutover")))
			found = p;
		json_decref(st);
		if (!found)
			it_sleep_ms(50);
	}
	return found;
}

/* ------------------------------------------------------------------------------------------ */
/* tests */

/* 1. A second writable server raises split_brain; the default policy (alert) touches nothing. */
static void split_brain_alert(void)
{
	int64_t t0, t_raised, t_cleared;
	json_t *st, *a, *all;
	size_t fences0, fences1;
	int i;

	all = journal();
	fences0 = journal_count(all, "fence", NULL) + journal_count(all, "stonith", NULL);
	json_decref(all);
	ck_assert_msg(it_sql_exec(3, "SET GLOBAL read_only = 0") == 0, "%s", it_sql_error());
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 2) * IT_POLL_MS + SLACK_MS, alarm_is("split_brain", NULL, "active")),
		      "no active split_brain alarm within hysteresis + 2 polls (+%d ms slack)", SLACK_MS);
	t_raised = it_now_ms() - t0;
	st = it_status();
	a = it_alarm_in(st, "split_brain", NULL, "active");
	ck_assert_msg(strstr(it_get_str(a, "message") ?: "", "db1") && strstr(it_get_str(a, "message") ?: "", "db3"),
		      "the alarm does not name db1 and db3: %s", it_json_str(a));
	ck_assert_str_eq(it_get_str(a, "severity") ?: "", "CRIT");
	ck_assert_str_eq(it_get_str(st, "clusters.0.verdict") ?: "", "CRIT");
	it_note("db3 made writable: split_brain active after %lld ms (poll %d ms, hysteresis %d): %s", (long long)t_raised,
		IT_POLL_MS, IT_HYSTERESIS, it_json_str(a));
	json_decref(st);

	/* policy alert: for ten more polls nothing is fenced */
	for (i = 0; i < 10; i++) {
		ck_assert_msg(it_read_only(3) == 0, "db3 was made read-only under split_brain = alert (poll %d)", i + 1);
		ck_assert_msg(it_read_only(1) == 0, "db1 is no longer writable under split_brain = alert (poll %d)", i + 1);
		it_sleep_ms(IT_POLL_MS);
	}
	ck_assert_msg(it_writer_is("db1"), "HAProxy's writer moved under split_brain = alert");
	all = journal();
	fences1 = journal_count(all, "fence", NULL) + journal_count(all, "stonith", NULL);
	json_decref(all);
	ck_assert_msg(fences1 == fences0, "the journal has %zu new fence/stonith entries under split_brain = alert",
		      fences1 - fences0);
	it_note("10 more polls: db1 and db3 both still writable, HAProxy writer db1, no fence in the journal");

	ck_assert_msg(it_sql_exec(3, "SET GLOBAL read_only = 1") == 0, "%s", it_sql_error());
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 2) * IT_POLL_MS + SLACK_MS,
				    !alarm_is("split_brain", NULL, "active") && alarm_is("split_brain", NULL, "cleared")),
		      "split_brain not cleared within hysteresis + 2 polls of db3 being read-only again");
	t_cleared = it_now_ms() - t0;
	st = it_status();
	it_note("db3 read-only again: split_brain cleared after %lld ms: %s", (long long)t_cleared,
		it_json_str(it_alarm_in(st, "split_brain", NULL, "cleared")));
	json_decref(st);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, 1)), "db3 does not replicate from db1 afterwards");
}

/* 2. split_brain = fence: the writable intruder is made read-only; the authority is untouched. */
static void split_brain_fence(void)
{
	int64_t t0, t_fenced, t_cleared;
	json_t *all, *e, *st;
	int i;

	daemon_with("split_brain = fence\n");
	ck_assert_msg(it_sql_exec(3, "SET GLOBAL read_only = 0") == 0, "%s", it_sql_error());
	ck_assert_int_eq(it_read_only(3), 0);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 5) * IT_POLL_MS + 2 * SLACK_MS, it_read_only(3) == 1),
		      "db3 not read-only again within hysteresis + 5 polls (+%d ms slack) under split_brain = fence",
		      2 * SLACK_MS);
	t_fenced = it_now_ms() - t0;
	ck_assert_msg(it_read_only(1) == 0, "db1 (the authority) is not writable after the fence");
	ck_assert_msg(it_writer_is("db1"), "HAProxy's writer is not db1 after the fence");
	ck_assert_msg(it_read_only(2) == 1, "db2 is not read-only");
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(2, 1)), "db2 does not replicate from db1");
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, 1)), "db3 does not replicate from db1 after the fence");

	all = journal();
	e = journal_last(all, "fence", "db3");
	ck_assert_msg(e != NULL, "no fence entry for db3 in the journal");
	ck_assert_msg(json_is_true(json_object_get(e, "ok")), "the journal's fence of db3 is not ok: %s", it_json_str(e));
	ck_assert_msg(strstr(it_get_str(e, "reason") ?: "", "split-brain") != NULL, "fence reason: %s", it_json_str(e));
	ck_assert_msg(journal_count(all, "fence", "db1") == 0 && journal_count(all, "fence", "db2") == 0,
		      "the journal has a fence of db1 or db2");
	it_note("db3 fenced %lld ms after it was made writable; journal: %s", (long long)t_fenced, it_json_str(e));
	json_decref(all);

	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 2) * IT_POLL_MS + SLACK_MS,
				    !alarm_is("split_brain", NULL, "active") && alarm_is("split_brain", NULL, "cleared")),
		      "split_brain not cleared after the fence");
	t_cleared = it_now_ms() - t0;
	st = it_status();
	it_note("split_brain cleared %lld ms after the fence was seen: %s", (long long)t_cleared,
		it_json_str(it_alarm_in(st, "split_brain", NULL, "cleared")));
	json_decref(st);
	for (i = 0; i < 5; i++) {
		ck_assert_msg(it_read_only(1) == 0 && it_read_only(2) == 1 && it_read_only(3) == 1,
			      "read_only db1 %d db2 %d db3 %d after the fence", it_read_only(1), it_read_only(2),
			      it_read_only(3));
		it_sleep_ms(IT_POLL_MS);
	}
	daemon_base();
}

/* 3. The STONITH hook's environment; a hanging hook and its child killed at hook_timeout. */
static void stonith_hook_env_and_timeout(void)
{
	char envfile[400], ctl[600], pidfile[400], gcfile[400], body[1500], *hook, *extra, *out = NULL, *env;
	const char *argv[] = { ctl, "--socket", it.sock, "stonith", "db3", "--yes", NULL };
	struct it_conn *c;
	json_t *r = NULL, *all, *e;
	int64_t t0, worst = 0, elapsed;
	long pid, gpid;
	int rc, n_status = 0;
	bool hook_alive, gc_alive;

	hook = recording_hook("record", envfile, sizeof(envfile));
	if (asprintf(&extra, "stonith_hook = %s\n", hook) < 0)
		ck_abort_msg("asprintf");
	daemon_with(extra);
	free(extra);
	free(hook);

	snprintf(ctl, sizeof(ctl), "%s/cutoverctl", it.build);
	rc = it_run(argv, true, &out, 20000);
	ck_assert_msg(rc == 0, "cutoverctl stonith db3 --yes exited %d: %s", rc, out);
	ck_assert_msg(strstr(out, "powered off db3") != NULL, "cutoverctl does not quote the hook's last line: %s", out);
	it_note("cutoverctl stonith db3 --yes: %s", strtok(out, "\n") ?: "");
	free(out);
	env = it_read_text(envfile);
	ck_assert_msg(env != NULL, "the STONITH hook did not run (no %s)", envfile);
	assert_hook_env(env, "stonith", 3, "127.0.0.1");
	it_note("the hook's environment:\n%s", env);
	free(env);
	all = journal();
	e = journal_last(all, "stonith", "db3");
	ck_assert_msg(e && json_is_true(json_object_get(e, "ok")), "journal stonith entry for db3: %s", it_json_str(e));
	json_decref(all);
	ck_assert_msg(it_read_only(3) == 1 && it_follows(3, 1), "db3 changed: a manual stonith only runs the hook");

	/* A hook that hangs, with a child of its own, and a 1 s hook_timeout. */
	snprintf(pidfile, sizeof(pidfile), "%s/hang.pid", hooks_dir());
	snprintf(gcfile, sizeof(gcfile), "%s/hang-child.pid", hooks_dir());
	unlink(pidfile);
	unlink(gcfile);
	snprintf(body, sizeof(body), "#!/bin/sh\n"
				     "sleep 600 &\n"
				     "echo $! > %s\n"
				     "echo $$ > %s\n"
				     "sleep 600\n", gcfile, pidfile);
	hook = write_hook("hang", body);
	if (asprintf(&extra, "stonith_hook = %s\nhook_timeout = 1s\n", hook) < 0)
		ck_abort_msg("asprintf");
	free(hook);
	hook = it_config_text_cluster(extra, NULL);
	free(extra);
	ck_assert_int_eq(it_config_write(hook), 0);
	free(hook);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload: %s", it_json_str(r));
	json_decref(r);
	r = NULL;

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	t0 = it_now_ms();
	ck_assert_int_eq(it_conn_request(c, "stonith", json_pack("{s:s}", "server", "db3")), 0);
	while (!r && it_now_ms() - t0 < 15000) {
		int64_t t = it_now_ms(), dt;
		json_t *st = it_status();
		dt = it_now_ms() - t;
		ck_assert_msg(st != NULL, "no status while the hook hangs");
		json_decref(st);
		worst = dt > worst ? dt : worst;
		n_status++;
		r = it_conn_recv(c, 100);
	}
	elapsed = it_now_ms() - t0;
	ck_assert_msg(r != NULL, "no reply to stonith within 15 s with hook_timeout = 1s");
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "FAILED"), "stonith with a hanging hook: %s", it_json_str(r));
	ck_assert_msg(strstr(it_get_str(r, "error.message") ?: "", "timed out") != NULL,
		      "the message does not say the hook timed out: %s", it_json_str(r));
	it_note("hanging hook: FAILED after %lld ms (hook_timeout 1000 ms): %s", (long long)elapsed,
		it_get_str(r, "error.message"));
	it_note("%d status requests meanwhile, slowest %lld ms", n_status, (long long)worst);
	json_decref(r);
	it_conn_close(c);
	ck_assert_msg(elapsed < 5000, "the stonith reply took %lld ms with hook_timeout = 1s", (long long)elapsed);
	ck_assert_msg(worst < 1000, "a status request took %lld ms while the hook hung", (long long)worst);

	pid = pid_in(pidfile);
	gpid = pid_in(gcfile);
	ck_assert_msg(pid > 1 && gpid > 1, "the hook did not write its pids (%ld, %ld)", pid, gpid);
	IT_WAIT_UNTIL(2000, !pid_running(pid) && !pid_running(gpid));
	hook_alive = pid_running(pid);
	gc_alive = pid_running(gpid);
	/* never leave them behind, whatever the verdict */
	if (hook_alive)
		kill((pid_t)pid, SIGKILL);
	if (gc_alive)
		kill((pid_t)gpid, SIGKILL);
	ck_assert_msg(!hook_alive, "the hook (pid %ld) still runs after its timeout", pid);
	ck_assert_msg(!gc_alive, "the hook's child (pid %ld) still runs: the process group was not killed", gpid);
	/* the orphaned child is a zombie until init reaps it */
	IT_WAIT_UNTIL(3000, kill((pid_t)pid, 0) < 0 && kill((pid_t)gpid, 0) < 0);
	it_note("hook pid %ld: %s; its child pid %ld: %s", pid,
		kill((pid_t)pid, 0) < 0 ? "kill(pid, 0) fails" : "killed, a zombie not yet reaped", gpid,
		kill((pid_t)gpid, 0) < 0 ? "kill(pid, 0) fails" : "killed, a zombie not yet reaped by init");
	all = journal();
	e = journal_last(all, "stonith", "db3");
	ck_assert_msg(e && json_is_false(json_object_get(e, "ok")), "journal entry of the failed stonith: %s",
		      it_json_str(e));
	json_decref(all);
	ck_assert(it_daemon_alive());
	daemon_base();
}

/* 4. db1 killed with SIGKILL under load: automatic failover, no acknowledged write lost. */
/* Asynchronous replication: a write db1 acknowledged just before kill -9 may not have reached any
 * replica, and no failover can bring it back (cutoverd(8) says so). What the failover must never
 * do is lose a write a survivor received: every acknowledged write missing on the new primary must
 * be in db1's binary log (it committed there) and absent from the other survivor too (the replica
 * that received the most was promoted). */
static void assert_only_unreplicated_lost(json_t *verify, int newp, int other)
{
	char cmd[800], *out = NULL;
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	json_t *id;
	size_t i;
	long long missing = json_integer_value(json_object_get(verify, "acked_missing"));

	if (missing == 0)
		return;
	ck_assert_msg(missing == (long long)json_array_size(json_object_get(verify, "missing_ids")),
		      "more acknowledged writes missing on %s than listed: %s", it_name_of(newp), it_json_str(verify));
	snprintf(cmd, sizeof(cmd), "mariadb-binlog -v --base64-output=DECODE-ROWS %s/db1/data/mysql-bin.[0-9]*",
		 it.dir);
	ck_assert_msg(it_run(argv, false, &out, 30000) == 0 && out, "mariadb-binlog on db1's binary logs failed");
	json_array_foreach(json_object_get(verify, "missing_ids"), i, id) {
		char needle[64];
		long long v = json_integer_value(id);

		snprintf(needle, sizeof(needle), "@1=%lld\n", v);
		ck_assert_msg(strstr(out, needle) != NULL, "acknowledged write %lld is missing on %s and is not in db1's "
			      "binary log either", v, it_name_of(newp));
		ck_assert_msg(it_sql_ll(other, -1, "SELECT COUNT(*) FROM app.writes WHERE id = %lld", v) == 0,
			      "acknowledged write %lld reached %s but not the new primary %s: the wrong replica was "
			      "promoted", v, it_name_of(other), it_name_of(newp));
	}
	free(out);
	it_note("%lld acknowledged write(s) committed on db1 never reached a replica (asynchronous replication): "
		"in db1's binary log, on neither survivor", missing);
}

static void auto_failover_on_kill9(void)
{
	char envfile[400], *hook, *extra, *env, *w;
	const char *reason;
	struct it_load load;
	json_t *all, *e, *summary, *verify, *st;
	int64_t t_kill_us, t0, budget_ms, decision_ms, done_ms;
	int newp, other, vstatus;

	hook = recording_hook("record", envfile, sizeof(envfile));
	if (asprintf(&extra, "auto_failover = yes\nfailover_after = %d\nstonith_hook = %s\n", FAILOVER_AFTER, hook) < 0)
		ck_abort_msg("asprintf");
	daemon_with(extra);
	free(extra);
	free(hook);

	ck_assert_int_eq(it_load_start(&load, "kill9", 1500), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 20), "the load does not reach db1");
	t_kill_us = it_now_real_us();
	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);

	/* the decision: failover_after failed polls, the replicas' confirmation, hysteresis */
	budget_ms = (FAILOVER_AFTER + IT_HYSTERESIS + 5) * IT_POLL_MS;
	newp = wait_new_primary(t0 + FAILOVER_TIMEOUT_MS, 1);
	done_ms = it_now_ms() - t0;
	all = journal();
	e = journal_last(all, "auto_failover", NULL);
	ck_assert_msg(e != NULL, "no auto_failover entry in the journal %lld ms after db1 was killed", (long long)done_ms);
	decision_ms = (json_integer_value(json_object_get(e, "at_us")) - t_kill_us) / 1000;
	it_note("auto_failover journaled %lld ms after the kill (budget failover_after + hysteresis + 5 polls = %lld ms, "
		"+%d ms slack): %s", (long long)decision_ms, (long long)budget_ms, 2 * SLACK_MS, it_json_str(e));
	ck_assert_msg(decision_ms <= budget_ms + 2 * SLACK_MS, "the failover was decided %lld ms after the kill",
		      (long long)decision_ms);
	ck_assert_str_eq(it_get_str(e, "dead_primary") ?: "", "db1");
	ck_assert_msg(json_integer_value(json_object_get(e, "failed_polls")) >= FAILOVER_AFTER, "failed_polls: %s",
		      it_json_str(e));
	ck_assert_msg(strstr(it_get_str(e, "evidence") ?: "", "db2") && strstr(it_get_str(e, "evidence") ?: "", "db3"),
		      "the evidence does not name both replicas: %s", it_json_str(e));
	json_decref(all);

	ck_assert_msg(newp == 2 || newp == 3, "no new primary within %d ms of the kill", FAILOVER_TIMEOUT_MS);
	other = newp == 2 ? 3 : 2;
	it_note("status primary %s %lld ms after the kill", it_name_of(newp), (long long)done_ms);
	ck_assert_msg(it_read_only(newp) == 0, "the new primary %s is read-only", it_name_of(newp));
	if (!IT_WAIT_UNTIL(5000, it_writer_is(it_name_of(newp)))) {
		w = writer_now();
		ck_abort_msg("HAProxy's writer is %s, not the new primary %s", w, it_name_of(newp));
	}
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(other, newp)), "%s does not follow the new primary %s", it_name_of(other),
		      it_name_of(newp));
	ck_assert_msg(IT_WAIT_UNTIL(15000, it_load_rows(&load, newp, (unsigned)newp) >= 20),
		      "the load's writes do not resume on %s", it_name_of(newp));
	summary = it_load_stop(&load);
	ck_assert_msg(summary != NULL, "no summary from cutover-load");
	ck_assert_msg(json_integer_value(json_object_get(summary, "old_server_id")) == 1 &&
			      json_integer_value(json_object_get(summary, "new_server_id")) == newp &&
			      json_integer_value(json_object_get(summary, "switches")) >= 1,
		      "the load's summary shows no switch from server_id 1 to %d: %s", newp, it_json_str(summary));
	verify = it_load_verify(&load, newp, &vstatus);
	ck_assert_msg(verify != NULL, "no verify output");
	it_note("load: %s; verify on %s: %s", it_json_str(summary), it_name_of(newp), it_json_str(verify));
	assert_only_unreplicated_lost(verify, newp, other);
	ck_assert_msg(vstatus == 0 || json_integer_value(json_object_get(verify, "acked_missing")) > 0,
		      "cutover-load --verify exited %d", vstatus);
	json_decref(summary);
	json_decref(verify);

	env = it_read_text(envfile);
	ck_assert_msg(env != NULL, "the STONITH hook did not run (no %s)", envfile);
	assert_hook_env(env, "stonith", 1, "127.0.0.1");
	ck_assert_msg(strstr(env, "CUTOVER_REASON=automatic failover of db1") != NULL, "reason: %s", env);
	reason = strstr(env, "CUTOVER_REASON=");
	it_note("STONITH hook ran: %.*s", (int)strcspn(reason, "\n"), reason);
	free(env);
	/* db2 or db3 writable: the alarms about the lost primary clear */
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL((IT_HYSTERESIS + 2) * IT_POLL_MS + SLACK_MS,
				    !alarm_is("no_primary", NULL, "active") && !alarm_is("primary_unreachable", "db1", "active")),
		      "no_primary or primary_unreachable(db1) still active with %s the primary", it_name_of(newp));
	st = it_status();
	ck_assert_str_eq(it_get_str(st, "clusters.0.authority") ?: "", it_name_of(newp));
	it_note("%lld ms later: primary %s, authority %s, alarms %s", (long long)(it_now_ms() - t0),
		status_primary(st) ?: "null", it_get_str(st, "clusters.0.authority") ?: "null",
		it_json_str(it_get(st, "clusters.0.alarms")));
	json_decref(st);
	/* db1 is dead: the framework rebuilds the sandbox */
	ck_assert(it_restore_baseline(true, "db1 was killed"));
}

/* 5. Only cutoverd's path to db1 is cut (nftables); the replicas still reach it: no failover. */
static void link_cut_no_failover(void)
{
	const char *nft_del[] = { NFT, "delete", "table", "inet", NFT_TABLE, NULL };
	char rules[600], rulesfile[400], *hook, *extra, *text, *at, envfile[400], *out = NULL, old[200], repl[200];
	const char *nft_add[] = { NFT, "-f", rulesfile, NULL };
	size_t hist0, hist1, auto0, auto1;
	int64_t t0, t_isolated, t_back;
	json_t *st, *a, *all;
	int rc, polls = 0;

	ck_assert_msg(access(NFT, X_OK) == 0, "%s is missing: this test cuts a TCP path with nftables; install the "
		      "Debian package nftables (tests/deps.sh does)", NFT);
	/* db1 must listen on CUT_ADDR too: SANDBOX_EXTRA_BIND, set for this suite */
	snprintf(rulesfile, sizeof(rulesfile), "%s/db1/my.cnf", it.dir);
	text = it_read_text(rulesfile);
	ck_assert_msg(text && strstr(text, "," CUT_ADDR), "%s does not bind %s", rulesfile, CUT_ADDR);
	free(text);

	hook = recording_hook("record", envfile, sizeof(envfile));
	if (asprintf(&extra, "auto_failover = yes\nfailover_after = %d\nstonith_hook = %s\n", FAILOVER_AFTER, hook) < 0)
		ck_abort_msg("asprintf");
	free(hook);
	text = it_config_text_cluster(extra, NULL);
	free(extra);
	ck_assert_ptr_nonnull(text);
	snprintf(old, sizeof(old), "[server db1]\ncluster = %s\nhost = 127.0.0.1\n", IT_CLUSTER);
	snprintf(repl, sizeof(repl), "[server db1]\ncluster = %s\nhost = " CUT_ADDR "\n", IT_CLUSTER);
	at = strstr(text, old);
	ck_assert_ptr_nonnull(at);
	if (asprintf(&extra, "%.*s%s%s", (int)(at - text), text, repl, at + strlen(old)) < 0)
		ck_abort_msg("asprintf");
	free(text);
	ck_assert_msg(it_daemon_restart(extra) == 0, "cutoverd did not start with db1 at " CUT_ADDR);
	free(extra);
	ck_assert_msg(IT_WAIT_UNTIL(20000, cluster_ready("db1")), "cutoverd does not see db1 at " CUT_ADDR " as the primary");
	st = it_status();
	ck_assert_str_eq(it_get_str(it_server(st, "db1"), "host") ?: "", CUT_ADDR);
	ck_assert_str_eq(it_get_str(it_server(st, "db2"), "replication.source") ?: "", "db1");
	json_decref(st);
	hist0 = failovers_in_history(&auto0);

	snprintf(rulesfile, sizeof(rulesfile), "%s/nft-cut.rules", it.dir);
	snprintf(rules, sizeof(rules), "table inet %s {\n"
				       "\tchain out {\n"
				       "\t\ttype filter hook output priority 0;\n"
				       "\t\tip daddr %s tcp dport %d drop\n"
				       "\t}\n"
				       "}\n", NFT_TABLE, CUT_ADDR, it_port(1));
	{
		FILE *f = fopen(rulesfile, "w");
		ck_assert_msg(f != NULL, "%s: %s", rulesfile, strerror(errno));
		fputs(rules, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	it_run(nft_del, true, NULL, 10000);   /* a table a crashed run left */
	ck_assert_int_eq(it_cleanup_add(nft_del), 0);
	rc = it_run(nft_add, true, &out, 10000);
	ck_assert_msg(rc == 0, "nft -f %s exited %d: %s", rulesfile, rc, out);
	free(out);
	t0 = it_now_ms();
	it_note("cut: %s", rules);

	/* cutoverd's attempts: the query on its open connection (query_timeout), then reconnects
	 * (connect_timeout) spaced by the backoff; then hysteresis */
	while (it_now_ms() - t0 < 60000) {
		char *w;
		ck_assert_msg(it_read_only(1) == 0, "db1 was made read-only while only cutoverd's link to it was cut");
		ck_assert_msg(it_read_only(2) == 1 && it_read_only(3) == 1, "a replica was made writable: db2 %d db3 %d",
			      it_read_only(2), it_read_only(3));
		w = writer_now();
		ck_assert_msg(!strcmp(w, "db1"), "HAProxy's writer is %s", w);
		free(w);
		st = it_status();
		ck_assert_msg(json_is_null(it_get(st, "clusters.0.cutover")), "a cutover started: %s",
			      it_json_str(it_get(st, "clusters.0.cutover")));
		a = it_alarm_in(st, "primary_isolated", "db1", "active");
		json_decref(st);
		if (a)
			break;
		it_sleep_ms(IT_POLL_MS);
	}
	t_isolated = it_now_ms() - t0;
	st = it_status();
	a = it_alarm_in(st, "primary_isolated", "db1", "active");
	ck_assert_msg(a != NULL, "no active primary_isolated alarm for db1 within 60 s; alarms: %s",
		      it_json_str(it_get(st, "clusters.0.alarms")));
	ck_assert_msg(strstr(it_get_str(a, "message") ?: "", "replicas still") != NULL,
		      "the alarm does not say the replicas still reach db1: %s", it_json_str(a));
	ck_assert_msg(json_is_false(json_object_get(it_server(st, "db1"), "reachable")), "db1 still reachable in status");
	it_note("primary_isolated active %lld ms after the cut: %s", (long long)t_isolated, it_get_str(a, "message"));
	json_decref(st);

	/* ten more polls past the decision point: still nothing */
	for (polls = 0; polls < 12; polls++) {
		ck_assert_msg(it_read_only(1) == 0 && it_writer_is("db1") && it_follows(2, 1) && it_follows(3, 1),
			      "the cluster changed %d polls after primary_isolated: read_only %d/%d/%d", polls,
			      it_read_only(1), it_read_only(2), it_read_only(3));
		ck_assert_msg(alarm_is("primary_isolated", "db1", "active"), "primary_isolated no longer active");
		it_sleep_ms(IT_POLL_MS);
	}
	hist1 = failovers_in_history(&auto1);
	all = journal();
	ck_assert_msg(journal_count(all, "auto_failover", NULL) == 0, "the journal has an auto_failover entry: %s",
		      it_json_str(journal_last(all, "auto_failover", NULL)));
	json_decref(all);
	ck_assert_msg(hist1 == hist0, "history has %zu new failovers", hist1 - hist0);
	ck_assert_msg(access(envfile, F_OK) < 0, "the STONITH hook ran");
	st = it_status();
	it_note("after %lld ms cut (%d polls past the alarm): db1 writable, HAProxy writer db1, replicas follow db1, "
		"history failovers %zu, no auto_failover in the journal; alarms %s", (long long)(it_now_ms() - t0), polls,
		hist1, it_json_str(it_get(st, "clusters.0.alarms")));
	json_decref(st);

	it_cleanup_run();
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(20000, server_reachable("db1", true) && !alarm_is("primary_isolated", "db1", "active")),
		      "db1 not reachable again, or primary_isolated still active, after the cut was removed");
	t_back = it_now_ms() - t0;
	it_note("link restored: db1 reachable and primary_isolated cleared after %lld ms", (long long)t_back);
	daemon_base();
}

/* 6. After one automatic failover, the next primary's death within failover_block is alarmed,
 * not failed over. */
static void anti_flapping(void)
{
	char envfile[400], *hook, *extra, n[8];
	size_t nf, nauto;
	int64_t t0;
	json_t *st, *a, *all;
	int x, y, i;

	hook = recording_hook("record", envfile, sizeof(envfile));
	if (asprintf(&extra, "auto_failover = yes\nfailover_after = %d\nfailover_block = 10m\nstonith_hook = %s\n",
		     FAILOVER_AFTER, hook) < 0)
		ck_abort_msg("asprintf");
	daemon_with(extra);
	free(extra);
	free(hook);

	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	x = wait_new_primary(t0 + FAILOVER_TIMEOUT_MS, 1);
	ck_assert_msg(x == 2 || x == 3, "no automatic failover within %d ms of killing db1", FAILOVER_TIMEOUT_MS);
	y = x == 2 ? 3 : 2;
	it_note("db1 killed: automatic failover to %s after %lld ms", it_name_of(x), (long long)(it_now_ms() - t0));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(y, x)), "%s does not follow %s", it_name_of(y), it_name_of(x));
	ck_assert_msg(IT_WAIT_UNTIL(10000, authority_is(it_name_of(x)) && it_writer_is(it_name_of(x))),
		      "the authority and HAProxy's writer do not become %s", it_name_of(x));
	/* the block is read back from the journal: a restart does not lift it */
	it_daemon_stop();
	ck_assert_msg(it_daemon_start() == 0, "cutoverd did not start again");
	ck_assert_msg(IT_WAIT_UNTIL(10000, authority_is(it_name_of(x)) && server_reachable(it_name_of(y), true) &&
						   server_reachable(it_name_of(x), true)),
		      "after the restart, cutoverd does not see %s as the authority", it_name_of(x));

	snprintf(n, sizeof(n), "%d", x);
	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", n, NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(30000, alarm_is("auto_failover_blocked", it_name_of(x), "active")),
		      "no active auto_failover_blocked alarm for %s within 30 s of killing it", it_name_of(x));
	st = it_status();
	a = it_alarm_in(st, "auto_failover_blocked", it_name_of(x), "active");
	it_note("cutoverd restarted, then %s killed: auto_failover_blocked after %lld ms: %s", it_name_of(x),
		(long long)(it_now_ms() - t0),
		it_get_str(a, "message"));
	json_decref(st);
	for (i = 0; i < 10; i++) {
		ck_assert_msg(it_read_only(y) == 1, "%s was made writable: a second automatic failover", it_name_of(y));
		it_sleep_ms(IT_POLL_MS);
	}
	ck_assert_int_eq(it_writable_count(), 0);
	st = it_status();
	ck_assert_msg(json_is_null(it_get(st, "clusters.0.primary")), "status primary: %s",
		      it_json_str(it_get(st, "clusters.0.primary")));
	ck_assert_msg(json_is_null(it_get(st, "clusters.0.cutover")), "a cutover runs: %s",
		      it_json_str(it_get(st, "clusters.0.cutover")));
	json_decref(st);
	nf = failovers_in_history(&nauto);
	all = journal();
	it_note("no writable server (expected); history: %zu failover(s), %zu automatic; journal auto_failover entries: %zu",
		nf, nauto, journal_count(all, "auto_failover", NULL));
	ck_assert_msg(nf == 1 && nauto == 1, "history has %zu failovers (%zu automatic), wanted exactly one automatic",
		      nf, nauto);
	ck_assert_msg(journal_count(all, "auto_failover", NULL) == 1, "%zu auto_failover entries in the journal",
		      journal_count(all, "auto_failover", NULL));
	json_decref(all);
	ck_assert(it_restore_baseline(true, "db1 and the next primary were killed"));
}

/* 7. An emergency failover that cannot fence the dead primary changes nothing; with a STONITH
 * hook it goes through. */
static void emergency_failover_fencing(void)
{
	struct it_repl before[IT_SERVERS + 1], now;
	char envfile[400], *hook, *extra, *text, *s1, *s2, *s3, *env;
	const char *reason;
	struct it_conn *c;
	json_t *r, *rep;
	int64_t t0;
	int i, x, y;

	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_reachable("db1", false)), "db1 still reachable in status after kill -9");
	for (i = 2; i <= IT_SERVERS; i++) {
		ck_assert_msg(it_repl(i, &before[i]) == 0, "db%d is not a replica", i);
		ck_assert_int_eq(it_read_only(i), 1);
	}
	it_note("db1 killed; unreachable in status after %lld ms; db2 IO %s SQL %s, db3 IO %s SQL %s",
		(long long)(it_now_ms() - t0), before[2].io, before[2].sql, before[3].io, before[3].sql);

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "failover", NULL), 0);
	r = it_conn_reply(c, FAILOVER_TIMEOUT_MS, NULL);
	it_conn_close(c);
	rep = it_report(r);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "FAILED") &&
			      !strcmp(it_get_str(rep, "outcome") ?: "", "rolled_back"),
		      "failover without any means of fencing: wanted FAILED/rolled_back: %s", it_json_str(r));
	ck_assert_msg(strstr(it_get_str(r, "error.message") ?: "", "could not be fenced") &&
			      strstr(it_get_str(r, "error.message") ?: "", "assume_fenced"),
		      "the message does not explain the fencing: %s", it_get_str(r, "error.message"));
	it_note("failover without hooks → %s: %s", it_get_str(rep, "outcome"), it_get_str(r, "error.message"));
	json_decref(r);
	for (i = 2; i <= IT_SERVERS; i++) {
		ck_assert_msg(it_read_only(i) == 1, "db%d was made writable by a rolled-back failover", i);
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_repl(i, &now) == 0 && strcmp(now.io, "No")),
			      "db%d's IO thread is not running again after the rollback (IO %s)", i, now.io);
		ck_assert_msg(now.master_port == before[i].master_port && !strcmp(now.sql, before[i].sql),
			      "db%d's replication changed: source port %d → %d, SQL %s → %s", i, before[i].master_port,
			      now.master_port, before[i].sql, now.sql);
	}
	s1 = it_haproxy_state("db1");
	s2 = it_haproxy_state("db2");
	s3 = it_haproxy_state("db3");
	ck_assert_msg(s1 && strncmp(s1, "MAINT", 5) && s2 && !strncmp(s2, "MAINT", 5) && s3 && !strncmp(s3, "MAINT", 5),
		      "HAProxy changed: db1 %s, db2 %s, db3 %s", s1 ?: "?", s2 ?: "?", s3 ?: "?");
	it_note("nothing changed: db2/db3 read-only, still replicating from port %d; HAProxy db1 %s, db2 %s, db3 %s",
		it_port(1), s1, s2, s3);
	free(s1);
	free(s2);
	free(s3);

	hook = recording_hook("record", envfile, sizeof(envfile));
	if (asprintf(&extra, "stonith_hook = %s\n", hook) < 0)
		ck_abort_msg("asprintf");
	free(hook);
	text = it_config_text_cluster(extra, NULL);
	free(extra);
	ck_assert_int_eq(it_config_write(text), 0);
	free(text);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_reachable("db2", true) && server_reachable("db3", true)),
		      "db2 and db3 not reachable in status after the reload");

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	t0 = it_now_ms();
	ck_assert_int_eq(it_conn_request(c, "failover", NULL), 0);
	r = it_conn_reply(c, FAILOVER_TIMEOUT_MS, NULL);
	it_conn_close(c);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
		      "failover with a STONITH hook: %s", it_json_str(r));
	x = server_of(it_get_str(rep, "new_primary"));
	ck_assert_msg(x == 2 || x == 3, "new_primary: %s", it_json_str(rep));
	y = x == 2 ? 3 : 2;
	it_note("failover with a STONITH hook → done in %lld ms: new primary %s, write_blocked_ms %s",
		(long long)(it_now_ms() - t0), it_name_of(x), it_json_str(json_object_get(rep, "write_blocked_ms")));
	json_decref(r);
	ck_assert_msg(it_read_only(x) == 0, "the new primary %s is read-only", it_name_of(x));
	ck_assert_msg(it_read_only(y) == 1, "%s is writable", it_name_of(y));
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_writer_is(it_name_of(x))), "HAProxy's writer is not %s", it_name_of(x));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(y, x)), "%s does not follow the new primary %s", it_name_of(y), it_name_of(x));
	env = it_read_text(envfile);
	ck_assert_msg(env != NULL, "the STONITH hook did not run");
	assert_hook_env(env, "stonith", 1, "127.0.0.1");
	ck_assert_msg(strstr(env, "CUTOVER_REASON=emergency failover of db1") != NULL, "reason: %s", env);
	reason = strstr(env, "CUTOVER_REASON=");
	it_note("HAProxy writer %s, %s follows it; the hook ran with %.*s", it_name_of(x), it_name_of(y),
		(int)strcspn(reason, "\n"), reason);
	free(env);
	ck_assert(it_restore_baseline(true, "db1 was killed"));
}

/* 8. fence, unfence and stonith: what they allow, what they refuse, and to whom. */
static void manual_fence_unfence_denied(void)
{
	const char *lines[] = { "{\"cmd\":\"fence\",\"args\":{\"server\":\"db3\"}}",
				"{\"cmd\":\"unfence\",\"args\":{\"server\":\"db3\"}}",
				"{\"cmd\":\"stonith\",\"args\":{\"server\":\"db3\"}}",
				"{\"cmd\":\"fence\",\"args\":{\"server\":\"db1\",\"force\":true}}" };
	const size_t n_lines = sizeof(lines) / sizeof(lines[0]);
	char **replies;
	json_t *r, *all, *e;
	size_t i, n_journal;
	int rc;

	r = it_call("fence", json_pack("{s:s}", "server", "db3"), 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "fence db3: %s", it_json_str(r));
	ck_assert_str_eq(it_get_str(r, "result.action") ?: "", "fence");
	ck_assert_str_eq(it_get_str(r, "result.server") ?: "", "db3");
	ck_assert_msg(strstr(it_get_str(r, "result.result") ?: "", "read_only is now 1") != NULL, "fence db3: %s",
		      it_json_str(r));
	it_note("fence db3 (a read-only replica) → ok: %s", it_json_str(json_object_get(r, "result")));
	json_decref(r);
	ck_assert_int_eq(it_read_only(3), 1);
	ck_assert_msg(it_follows(3, 1), "db3 no longer replicates after fence");
	all = journal();
	e = journal_last(all, "fence", "db3");
	ck_assert_msg(e && json_is_true(json_object_get(e, "ok")) && strstr(it_get_str(e, "reason") ?: "", "by uid 0"),
		      "journal: %s", it_json_str(e));
	n_journal = json_array_size(all);
	json_decref(all);

	r = it_call("fence", json_pack("{s:s}", "server", "db1"), 10000);
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "BADSTATE"), "fence db1 (the only writable server): %s", it_json_str(r));
	ck_assert_msg(strstr(it_get_str(r, "error.message") ?: "", "force") != NULL, "no mention of force: %s",
		      it_json_str(r));
	it_note("fence db1 → BADSTATE: %s", it_get_str(r, "error.message"));
	json_decref(r);
	ck_assert_msg(it_read_only(1) == 0, "db1 was fenced although refused");

	r = it_call("unfence", json_pack("{s:s}", "server", "db3"), 10000);
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "BADSTATE"), "unfence db3 while db1 is writable: %s", it_json_str(r));
	ck_assert_msg(strstr(it_get_str(r, "error.message") ?: "", "split-brain") != NULL,
		      "no mention of split-brain: %s", it_json_str(r));
	it_note("unfence db3 → BADSTATE: %s", it_get_str(r, "error.message"));
	json_decref(r);
	ck_assert_msg(it_read_only(3) == 1, "db3 was unfenced although refused");

	rc = it_requests_as_nobody(lines, n_lines, &replies);
	ck_assert_msg(rc == 0, "the uid-65534 child failed (exit %d; 10 setresuid, 11 connect, 12 send)", rc);
	for (i = 0; i < n_lines; i++) {
		r = replies[i] ? json_loads(replies[i], 0, NULL) : NULL;
		ck_assert_msg(!strcmp(it_err_code(r) ?: "", "DENIED"), "%s as uid 65534: %s", lines[i], replies[i] ?: "no reply");
		it_note("uid 65534: %s → DENIED: %s", lines[i], it_get_str(r, "error.message"));
		json_decref(r);
		free(replies[i]);
	}
	free(replies);
	ck_assert_msg(it_read_only(1) == 0 && it_read_only(2) == 1 && it_read_only(3) == 1,
		      "read_only changed: db1 %d db2 %d db3 %d", it_read_only(1), it_read_only(2), it_read_only(3));
	ck_assert_msg(it_follows(2, 1) && it_follows(3, 1), "replication changed");
	ck_assert_msg(it_writer_is("db1"), "HAProxy's writer changed");
	all = journal();
	for (i = n_journal; i < json_array_size(all); i++) {
		const char *ev = it_get_str(json_array_get(all, i), "event") ?: "";
		ck_assert_msg(strcmp(ev, "fence") && strcmp(ev, "unfence") && strcmp(ev, "stonith"),
			      "a refused or denied command was journaled: %s", it_json_str(json_array_get(all, i)));
	}
	json_decref(all);
	it_note("afterwards: db1 writable, db2/db3 read-only and replicating, HAProxy writer db1, nothing journaled");
}

/* 9. A reload while a STONITH hook runs is refused with BUSY (an action holds on to the
 * running configuration, as a switchover does); the hook's result still reaches the client and
 * the journal, and a reload afterwards is applied. */
static void reload_during_stonith(void)
{
	char *hook, *extra;
	struct it_conn *c;
	json_t *r, *all, *e;
	int64_t t0;

	hook = write_hook("slow", "#!/bin/sh\nsleep 2\necho \"powered off $CUTOVER_TARGET\"\nexit 0\n");
	if (asprintf(&extra, "stonith_hook = %s\nhook_timeout = 10s\n", hook) < 0)
		ck_abort_msg("asprintf");
	free(hook);
	daemon_with(extra);
	free(extra);

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	t0 = it_now_ms();
	ck_assert_int_eq(it_conn_request(c, "stonith", json_pack("{s:s}", "server", "db3")), 0);
	it_sleep_ms(500);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) &&
		      !strcmp(it_get_str(r, "error.code") ?: "", "BUSY") &&
		      strstr(it_get_str(r, "error.message") ?: "", "fence or STONITH action"),
		      "reload while the hook runs: %s", it_json_str(r));
	it_note("reload while the hook runs: %s", it_get_str(r, "error.message") ?: "?");
	json_decref(r);
	r = it_conn_reply(c, 15000, NULL);
	it_note("stonith reply %lld ms after the request (hook sleeps 2 s, reload after 0.5 s): %s",
		(long long)(it_now_ms() - t0), r ? it_json_str(r) : it_conn_eof(c) ? "connection closed" : "none");
	/* a daemon that crashed closed the connection a moment before it can be reaped */
	ck_assert_msg(r || !IT_WAIT_UNTIL(2000, !it_daemon_alive()),
		      "cutoverd died when the STONITH hook ended after a reload");
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "stonith across a reload: %s",
		      r ? it_json_str(r) : "no reply");
	ck_assert_msg(strstr(it_get_str(r, "result.result") ?: "", "powered off db3") != NULL, "result: %s",
		      it_json_str(r));
	json_decref(r);
	it_conn_close(c);
	all = journal();
	e = journal_last(all, "stonith", "db3");
	ck_assert_msg(e && json_is_true(json_object_get(e, "ok")) && !strcmp(it_get_str(e, "cluster") ?: "", IT_CLUSTER),
		      "journal entry of the stonith: %s", it_json_str(e));
	it_note("journal: %s", it_json_str(e));
	json_decref(all);
	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload after the hook: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(5000, cluster_ready("db1")), "the cluster is not OK after the stonith");
	daemon_base();
}

/* 10. An automatic failover that could not fence the dead primary waits a minute before the
 * next attempt (cutoverd(8), Automatic failover); a reload keeps that wait. */
static void retry_wait_survives_reload(void)
{
	char *extra;
	json_t *all, *st, *a, *r;
	size_t n;
	int64_t t0;

	if (asprintf(&extra, "auto_failover = yes\nfailover_after = %d\n", FAILOVER_AFTER) < 0)
		ck_abort_msg("asprintf");
	daemon_with(extra);
	free(extra);
	t0 = it_now_ms();
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(20000, alarm_is("auto_failover_failed", "db1", "active")),
		      "no active auto_failover_failed alarm after an automatic failover without any means of fencing");
	all = journal();
	n = journal_count(all, "auto_failover", NULL);
	json_decref(all);
	st = it_status();
	a = it_alarm_in(st, "auto_failover_failed", "db1", "active");
	it_note("db1 killed, no hooks: %zu automatic attempt(s) after %lld ms; %s", n, (long long)(it_now_ms() - t0),
		it_get_str(a, "message"));
	json_decref(st);
	ck_assert_msg(n == 1, "%zu auto_failover entries in the journal, wanted 1", n);
	ck_assert_msg(it_read_only(2) == 1 && it_read_only(3) == 1, "a replica was made writable");

	r = it_call("reload", NULL, 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload: %s", it_json_str(r));
	json_decref(r);
	t0 = it_now_ms();
	/* 25 polls: the next attempt is due about a minute after the first */
	while (it_now_ms() - t0 < 25 * IT_POLL_MS) {
		all = journal();
		n = journal_count(all, "auto_failover", NULL);
		json_decref(all);
		ck_assert_msg(n == 1, "a new automatic attempt %lld ms after the reload (%zu auto_failover entries): the "
			      "reload lifted the minute's wait", (long long)(it_now_ms() - t0), n);
		it_sleep_ms(IT_POLL_MS);
	}
	ck_assert_msg(alarm_is("auto_failover_failed", "db1", "active"),
		      "auto_failover_failed no longer active after the reload");
	it_note("25 polls after the reload: still one automatic attempt, auto_failover_failed active");
	ck_assert(it_restore_baseline(true, "db1 was killed"));
}

static const struct it_case cases[] = {
	{ "split_brain_alert", split_brain_alert },
	{ "split_brain_fence", split_brain_fence },
	{ "stonith_hook_env_and_timeout", stonith_hook_env_and_timeout },
	{ "auto_failover_on_kill9", auto_failover_on_kill9 },
	{ "link_cut_no_failover", link_cut_no_failover },
	{ "anti_flapping", anti_flapping },
	{ "emergency_failover_fencing", emergency_failover_fencing },
	{ "manual_fence_unfence_denied", manual_fence_unfence_denied },
	{ "reload_during_stonith", reload_during_stonith },
	{ "retry_wait_survives_reload", retry_wait_survives_reload },
};

Suite *it_watchdog_suite(void)
{
	static const struct it_suite_def def = { "watchdog", cases, sizeof(cases) / sizeof(cases[0]) };

	/* link_cut_no_failover reaches db1 through a second address whose path it cuts */
	it_suite_sandbox_env(def.name, "SANDBOX_EXTRA_BIND=" CUT_ADDR);
	return it_suite_build(&def);
}
