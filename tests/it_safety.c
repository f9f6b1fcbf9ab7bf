/* Acceptance tests of the engine's safety promises against real servers (the "engine v2"
 * issue): nothing commits on the old primary after the fence point whatever the account's
 * privileges; a transition that cannot be journaled is not acted on; a rollback never makes the
 * old primary writable while another server is; one action at a time per cluster; a failover
 * does not run past a router it cannot reach; a fence that sticks.  Timings are reported, never
 * asserted. */
#include "it_lib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000

Suite *it_safety_suite(void);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* SQL as the servers' root account (over the socket): for what the cutoverd account may not
 * do, like granting privileges.  0 or the client's exit status. */
static int root_sql(int server, const char *sql)
{
	char arg[400], *out = NULL;
	const char *argv[] = { "/usr/bin/mariadb", "--no-defaults", arg, "--user=root", "-N", "-B", "-e", sql, NULL };
	int rc;

	snprintf(arg, sizeof(arg), "--socket=%s/db%d/mysqld.sock", it.dir, server);
	rc = it_run(argv, true, &out, 10000);
	if (rc)
		it_note("root SQL on db%d failed (%d): %s: %s", server, rc, sql, out ? out : "");
	free(out);
	return rc;
}

/* Every server holds the same GTID position (nothing diverged), within `ms`. */
static bool positions_equal(void)
{
	char *a = it_sql1(1, "SELECT @@global.gtid_binlog_pos"), *b = it_sql1(2, "SELECT @@global.gtid_binlog_pos"),
	     *c = it_sql1(3, "SELECT @@global.gtid_binlog_pos");
	bool eq = a && b && c && !strcmp(a, b) && !strcmp(b, c);
	free(a);
	free(b);
	free(c);
	return eq;
}

/* ------------------------------------------------------------------------------------------ */
/* 1. An account read_only does not stop (READ_ONLY ADMIN) writes ~1,000 rows/s through the
 *    router during 20 switchovers: no acknowledged write lost, no divergence. */

static void privileged_writer_loses_nothing(void)
{
	char pwfile[400];
	int run;
	long long total_acked = 0;

	snprintf(pwfile, sizeof(pwfile), "%s/secrets/ops.pass", it.dir);
	ck_assert_int_eq(it_write_file(pwfile, "opspass-123\n", 0600), 0);
	ck_assert_int_eq(root_sql(1, "CREATE USER IF NOT EXISTS 'ops'@'127.0.0.1' IDENTIFIED BY 'opspass-123';"
				     "GRANT SELECT, INSERT ON app.* TO 'ops'@'127.0.0.1';"
				     "GRANT READ_ONLY ADMIN ON *.* TO 'ops'@'127.0.0.1'"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_sql_ll(2, 0, "SELECT COUNT(*) FROM mysql.user WHERE user = 'ops'") == 1),
		      "the ops account did not reach db2");

	for (run = 0; run < 20; run++) {
		int from = run % 2 ? 2 : 1, to = run % 2 ? 1 : 2, vstatus;
		struct it_load ops;
		json_t *r, *rep, *summary, *verify, *priv = NULL, *checks;
		char tag[16];
		size_t k;

		ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to))), "run %d: %s's lag stays unknown", run,
			      it_name_of(to));
		snprintf(tag, sizeof(tag), "ops%d", run);
		ck_assert_int_eq(it_load_start_as(&ops, tag, 1000, "ops", pwfile), 0);
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&ops, from, (unsigned)from) >= 50),
			      "run %d: the privileged load does not reach %s", run, it_name_of(from));

		r = it_switchover(json_pack("{s:s, s:i}", "to", it_name_of(to), "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS,
				  NULL);
		rep = it_report(r);
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "run %d: switchover %s → %s: %s", run,
			      it_name_of(from), it_name_of(to), it_json_str(r));
		checks = json_object_get(rep, "checks");
		json_array_foreach(checks, k, priv)
			if (!strcmp(it_get_str(priv, "check") ?: "", "privileged_accounts"))
				break;
		ck_assert_msg(k < json_array_size(checks), "run %d: preflight did not list the ops account: %s", run,
			      it_json_str(checks));
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&ops, to, (unsigned)to) >= 50),
			      "run %d: the privileged load does not reach the new primary %s", run, it_name_of(to));
		summary = it_load_stop(&ops);
		ck_assert_msg(summary != NULL, "run %d: no summary from cutover-load", run);
		verify = it_load_verify(&ops, to, &vstatus);
		ck_assert_msg(verify && json_integer_value(json_object_get(verify, "acked_missing")) == 0,
			      "run %d: acknowledged privileged writes missing on %s: %s", run, it_name_of(to),
			      it_json_str(verify));
		ck_assert_int_eq(vstatus, 0);
		total_acked += json_integer_value(json_object_get(verify, "acked"));
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(from, to)), "run %d: %s does not replicate from %s", run,
			      it_name_of(from), it_name_of(to));
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, to)), "run %d: db3 does not replicate from %s", run,
			      it_name_of(to));
		ck_assert_msg(IT_WAIT_UNTIL(5000, positions_equal()), "run %d: the servers' GTID positions differ",
			      run);
		ck_assert_int_eq(it_writable_count(), 1);
		if (run == 0 || run == 19)
			it_note("run %d %s→%s: write_blocked_ms %s; privileged client window_ms %s; acked %lld, "
				"missing 0", run + 1, it_name_of(from), it_name_of(to),
				it_json_str(json_object_get(rep, "write_blocked_ms")),
				it_json_str(json_object_get(summary, "window_ms")),
				json_integer_value(json_object_get(verify, "acked")));
		json_decref(r);
		json_decref(summary);
		json_decref(verify);
	}
	it_note("20 switchovers: %lld privileged writes acknowledged, none missing, positions equal after each",
		total_acked);
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Journal first: a journal that cannot be written stops the cutover before it acts. */

/* state_dir on a 256 KiB tmpfs: the daemon's state is copied there, then the daemon restarted
 * with it.  The mount is undone when the test ends. */
static void state_on_tiny_fs(const char *mnt)
{
	char cmd[2400], *out = NULL;
	const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	const char *umount[] = { "/bin/umount", "-l", mnt, NULL };

	snprintf(cmd, sizeof(cmd), "mkdir -p %s && mount -t tmpfs -o size=256k,mode=0750 tmpfs %s && cp -a %s/state/. %s/ 2>/dev/null; "
				   "true", mnt, mnt, it.dir, mnt);
	ck_assert_msg(it_run(sh, true, &out, 10000) == 0, "mounting a tmpfs on %s: %s", mnt, out ? out : "");
	free(out);
	ck_assert_int_eq(it_cleanup_add(umount), 0);
}

static void fill_fs(const char *mnt)
{
	char cmd[2400], *out = NULL;
	const char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	/* every free block, then the slack in the journal's last page (empty lines, which readers
	 * skip): from then on any append to the journal fails with ENOSPC */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s/filler bs=4k 2>/dev/null; "
				   "for f in %s/journal-*.jsonl; do while printf '\\n' >> \"$f\"; do :; done; done 2>/dev/null; "
				   "df -k %s | tail -1", mnt, mnt, mnt);
	it_run(sh, true, &out, 10000);
	it_note("filled %s: %s", mnt, out ? out : "");
	free(out);
}

static void journal_full_disk(void)
{
	char mnt[400], *text, *writer;
	struct it_conn *c;
	json_t *p, *final = NULL, *r, *st;
	char id[128];

	snprintf(mnt, sizeof(mnt), "%s-tinystate", it.dir);   /* outside: a rebuild removes the sandbox */
	state_on_tiny_fs(mnt);
	{
		/* the base config with its state_dir line pointing at the tmpfs */
		char *base = it_config_text(NULL), *at, *eol, old[400];
		snprintf(old, sizeof(old), "state_dir = %s/state\n", it.dir);
		at = strstr(base, old);
		ck_assert_ptr_nonnull(at);
		eol = at + strlen(old);
		*at = '\0';
		ck_assert(asprintf(&text, "%sstate_dir = %s\n%s", base, mnt, eol) > 0);
		free(base);
	}
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd did not start with state_dir on the tmpfs");
	free(text);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");

	/* (a) the device fills up in the middle: paused before the fence, then full, then resumed */
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:i, s:s}", "to", "db2", "drain_timeout_ms",
								     200, "pause_before", "fence")), 0);
	p = it_conn_progress_until(c, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "the switchover did not pause: %s", it_json_str(final));
	snprintf(id, sizeof(id), "%s", it_get_str(p, "progress.id") ?: "");
	json_decref(p);
	fill_fs(mnt);
	r = it_call("resume", NULL, 5000);
	json_decref(r);
	final = it_conn_reply(c, 30000, NULL);
	it_conn_close(c);
	ck_assert_msg(final && !json_is_true(json_object_get(final, "ok")), "the switchover went on with a full journal: %s",
		      it_json_str(final));
	ck_assert_msg(!strcmp(it_get_str(it_report(final), "outcome") ?: "", "rolled_back"), "outcome: %s",
		      it_json_str(final));
	ck_assert_msg(strstr(it_get_str(it_report(final), "reason") ?: "", "journal") != NULL,
		      "the reason does not name the journal: %s", it_get_str(it_report(final), "reason"));
	it_note("switchover %s with the journal full at the fence: %s", id, it_get_str(it_report(final), "reason"));
	json_decref(final);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(2), 1);

	/* (b) a new switchover with the device still full is refused, nothing changed */
	r = it_switchover(json_pack("{s:s}", "to", "db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")), "a switchover ran with a full journal: %s",
		      it_json_str(r));
	it_note("with the journal full from the start: %s", it_get_str(r, "error.message"));
	json_decref(r);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(2), 1);

	/* (c) kill -9 and restart: still one writer, HAProxy sends writes to it */
	it_daemon_kill9();
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, (st = it_status()) != NULL), "no status after the restart");
	json_decref(st);
	it_sleep_ms(1000);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_int_eq(it_read_only(1), 0);
	writer = it_haproxy_writer();
	ck_assert_msg(writer && !strcmp(writer, "db1"), "HAProxy's writer after the restart: %s", writer ? writer : "none");
	free(writer);
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd did not start with the base config");
	it_cleanup_run();
}

/* ------------------------------------------------------------------------------------------ */
/* 3. One rollback: after a restart, the old primary is not made writable while the candidate
 *    is (an operator made it writable by hand while cutoverd was down). */

static void recovery_checks_candidate(void)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *p, *final = NULL, *st;
	char id[128];
	long mark;

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:i, s:s}", "to", "db2", "drain_timeout_ms",
								     200, "pause_before", "promote")), 0);
	p = it_conn_progress_until(c, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "the switchover did not pause before promote: %s", it_json_str(final));
	snprintf(id, sizeof(id), "%s", it_get_str(p, "progress.id") ?: "");
	json_decref(p);
	/* the fence cuts client sessions on db1 as it pauses: a check that connects in that moment
	 * can be one of them, so it is asked again */
	ck_assert_msg(IT_WAIT_UNTIL(2000, it_read_only(1) == 1), "db1 is not fenced while paused before promote (%d: %s)",
		      it_read_only(1), it_sql_error());
	it_daemon_kill9();
	it_conn_close(c);
	/* the operator promotes db2 by hand */
	ck_assert_int_eq(it_sql_exec(2, "STOP SLAVE"), 0);
	ck_assert_int_eq(it_sql_exec(2, "SET GLOBAL read_only = 0"), 0);
	mark = it_daemon_log_mark();
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_daemon_log_since(mark, "needs attention")),
		      "the restarted daemon did not report the interrupted switchover as needing attention");
	it_sleep_ms(1000);
	ck_assert_msg(it_read_only(1) == 1, "db1 was made writable again while db2 is writable");
	ck_assert_int_eq(it_writable_count(), 1);
	st = it_status();
	ck_assert_msg(!strcmp(it_get_str(st, "clusters.0.cutover.state") ?: "", "interrupted"),
		      "status does not show the interrupted switchover: %s", it_json_str(it_get(st, "clusters.0.cutover")));
	it_note("switchover %s after restart: %s", id, it_json_str(it_get(st, "clusters.0.cutover")));
	json_decref(st);
	/* a new switchover is refused until a person resolves it */
	final = it_switchover(json_pack("{s:s}", "to", "db3"), 10000, NULL);
	ck_assert_msg(!strcmp(it_err_code(final) ?: "", "BADSTATE"), "switchover during an interrupted one: %s",
		      it_json_str(final));
	json_decref(final);
	/* the sandbox is rebuilt after this test: it left the cluster elsewhere */
	final = it_call("resolve", NULL, 5000);
	json_decref(final);
	ck_assert(it_restore_baseline(true, "the operator promoted db2 by hand"));
}

/* ------------------------------------------------------------------------------------------ */
/* 4. One action at a time per cluster. */

static void concurrent_unfences(void)
{
	struct it_conn *a, *b;
	json_t *ra, *rb, *r;
	int ok = 0, busy = 0;

	r = it_call("fence", json_pack("{s:s, s:b}", "server", "db1", "force", 1), 20000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "fence db1: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(it_sql_exec(2, "STOP SLAVE"), 0);
	ck_assert_int_eq(it_sql_exec(3, "STOP SLAVE"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_writable_count() == 0), "a server is still writable");
	it_sleep_ms(3 * IT_POLL_MS);   /* the pollers see them stopped */

	a = it_connect(it.sock);
	b = it_connect(it.sock);
	ck_assert(a && b);
	ck_assert_int_eq(it_conn_request(a, "unfence", json_pack("{s:s}", "server", "db2")), 0);
	ck_assert_int_eq(it_conn_request(b, "unfence", json_pack("{s:s}", "server", "db3")), 0);
	ra = it_conn_reply(a, 20000, NULL);
	rb = it_conn_reply(b, 20000, NULL);
	ok = json_is_true(json_object_get(ra, "ok")) + json_is_true(json_object_get(rb, "ok"));
	busy = !strcmp(it_err_code(ra) ?: "", "BUSY") + !strcmp(it_err_code(rb) ?: "", "BUSY");
	it_note("two unfences at once: %s / %s", it_json_str(ra), it_json_str(rb));
	ck_assert_msg(it_writable_count() <= 1, "two unfences at once made %d servers writable", it_writable_count());
	ck_assert_msg(ok == 1, "%d of the two unfences succeeded", ok);
	ck_assert_msg(busy == 1 || ok == 1, "neither BUSY nor refused");
	json_decref(ra);
	json_decref(rb);
	it_conn_close(a);
	it_conn_close(b);

	/* and a second unfence, alone, decides on fresh reads: the other one is writable now */
	r = it_call("unfence", json_pack("{s:s}", "server", it_read_only(2) == 0 ? "db3" : "db2"), 20000);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")), "a second writable server was allowed: %s",
		      it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert(it_restore_baseline(true, "the test made db2 or db3 the writable server"));
}

static void switchover_during_stonith(void)
{
	char hook[400], *extra = NULL, *text;
	json_t *r, *sr;
	struct it_conn *c;

	snprintf(hook, sizeof(hook), "%s/slow-stonith.sh", it.dir);
	ck_assert_int_eq(it_write_file(hook, "#!/bin/sh\nsleep 3\nexit 0\n", 0755), 0);
	ck_assert(asprintf(&extra, "stonith_hook = %s\n", hook) > 0);
	text = it_config_text_cluster(extra, NULL);
	free(extra);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd did not start with a STONITH hook");
	free(text);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db3")), "db3's lag stays unknown");

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "stonith", json_pack("{s:s}", "server", "db3")), 0);
	it_sleep_ms(300);
	r = it_switchover(json_pack("{s:s}", "to", "db3"), 10000, NULL);
	it_note("switchover --to db3 during its STONITH: %s", it_json_str(r));
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "BUSY"), "a switchover to db3 was not refused during its STONITH: %s",
		      it_json_str(r));
	ck_assert_msg(strstr(it_get_str(r, "error.message") ?: "", "stonith db3") != NULL,
		      "BUSY does not name the running STONITH: %s", it_get_str(r, "error.message"));
	json_decref(r);
	sr = it_conn_reply(c, 20000, NULL);
	ck_assert_msg(sr && json_is_true(json_object_get(sr, "ok")), "the STONITH hook: %s", it_json_str(sr));
	json_decref(sr);
	it_conn_close(c);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd did not start with the base config");
}

/* ------------------------------------------------------------------------------------------ */
/* 5. An emergency failover with its router down: refused before anything changes; told to go
 *    on without it, the other replica still follows the new primary. */

static bool router_unreachable(void)
{
	json_t *st = it_status();
	bool ok = st && json_is_false(json_object_get(it_router(st, "haproxy"), "reachable"));
	json_decref(st);
	return ok;
}

static bool db1_down(void)
{
	json_t *st = it_status();
	bool ok = st && json_is_false(json_object_get(it_server(st, "db1"), "reachable"));
	json_decref(st);
	return ok;
}

static void failover_router_unreachable(void)
{
	char pidfile[400];
	FILE *f;
	int pid = 0, x, y;
	json_t *r;

	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	snprintf(pidfile, sizeof(pidfile), "%s/haproxy/haproxy.pid", it.dir);
	f = fopen(pidfile, "r");
	ck_assert_msg(f && fscanf(f, "%d", &pid) == 1 && pid > 1, "no HAProxy pid in %s", pidfile);
	fclose(f);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, db1_down() && router_unreachable()),
		      "status does not show db1 down and the router unreachable");

	r = it_call("failover", json_pack("{s:b}", "assume_fenced", 1), 60000);
	it_note("failover with the router down: %s", it_get_str(r, "error.message") ?: it_json_str(r));
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) &&
			      strstr(it_get_str(r, "error.message") ?: "", "router_reachable") != NULL,
		      "the failover was not refused for its unreachable router: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(it_read_only(2), 1);
	ck_assert_int_eq(it_read_only(3), 1);

	r = it_call("failover", json_pack("{s:b, s:b}", "assume_fenced", 1, "without_routers", 1), 60000);
	it_note("failover without_routers: ok=%d, %s", json_is_true(json_object_get(r, "ok")),
		it_get_str(it_report(r), "reason") ?: "no reason");
	ck_assert_msg(r != NULL, "no reply to the failover");
	ck_assert_msg(json_is_true(json_object_get(it_report(r), "point_of_no_return_passed")),
		      "the failover did not promote: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(it_writable_count(), 1);
	x = it_read_only(2) == 0 ? 2 : 3;
	y = x == 2 ? 3 : 2;
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(y, x)), "%s does not follow the new primary %s", it_name_of(y),
		      it_name_of(x));
	it_note("%s promoted, %s follows it, the router left for the operator", it_name_of(x), it_name_of(y));
	ck_assert(it_restore_baseline(true, "db1 and HAProxy were killed"));
}

/* ------------------------------------------------------------------------------------------ */
/* 6. A fence that sticks: an old primary that comes back writable after a switchover (a restart
 *    with read_only=OFF in its my.cnf, or a SET GLOBAL by hand) is fenced again (split_brain =
 *    fence) or raises the alarm (alert), within two polls of being seen writable. */

/* Switch to `to` and wait until status agrees. */
static void switch_to(int to)
{
	json_t *r;
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to))), "%s's lag stays unknown", it_name_of(to));
	r = it_switchover(json_pack("{s:s, s:i}", "to", it_name_of(to), "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to %s: %s", it_name_of(to), it_json_str(r));
	json_decref(r);
}

static void sticky_fence(void)
{
	char *text;
	int64_t t0, seen;

	text = it_config_text_cluster("split_brain = fence\n", NULL);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd did not start with split_brain = fence");
	free(text);
	switch_to(2);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(1, 2)), "db1 does not follow db2");

	/* db1 restarted with read_only=OFF, as its my.cnf would have it */
	ck_assert_int_eq(it_sandbox("restart", "1", "--writable", NULL), 0);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_read_only(1) >= 0), "db1 does not answer after its restart");
	seen = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_read_only(1) == 1), "db1 stays writable after its restart");
	it_note("split_brain = fence: db1 back writable %lld ms after the restart began, fenced again %lld ms later "
		"(poll interval %d ms)", (long long)(seen - t0), (long long)(it_now_ms() - seen), IT_POLL_MS);
	ck_assert_int_eq(it_read_only(2), 0);

	/* someone types SET GLOBAL read_only = 0 on it */
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL read_only = 0"), 0);
	seen = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_read_only(1) == 1), "db1 stays writable after SET GLOBAL read_only = 0");
	it_note("split_brain = fence: SET GLOBAL read_only = 0 on db1 undone %lld ms later", (long long)(it_now_ms() - seen));

	/* with split_brain = alert: the alarm, and nothing fenced */
	text = it_config_text_cluster("split_brain = alert\n", NULL);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd did not start with split_brain = alert");
	free(text);
	it_sleep_ms(3 * IT_POLL_MS);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL read_only = 0"), 0);
	seen = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_alarm_active("fence_lost", NULL)), "no fence_lost alarm with db1 writable again");
	it_note("split_brain = alert: fence_lost active %lld ms after db1 became writable", (long long)(it_now_ms() - seen));
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL read_only = 1"), 0);
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd did not start with the base config");
	switch_to(1);
}

static const struct it_case cases[] = {
	{ "privileged_writer_loses_nothing", privileged_writer_loses_nothing },
	{ "journal_full_disk", journal_full_disk },
	{ "recovery_checks_candidate", recovery_checks_candidate },
	{ "concurrent_unfences", concurrent_unfences },
	{ "switchover_during_stonith", switchover_during_stonith },
	{ "failover_router_unreachable", failover_router_unreachable },
	{ "sticky_fence", sticky_fence },
};

Suite *it_safety_suite(void)
{
	static const struct it_suite_def def = { "safety", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
