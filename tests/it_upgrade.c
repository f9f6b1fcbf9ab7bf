/* Upgrade switchovers against real servers (issue 13, item 1): db1 and db2 run the host's MariaDB
 * 10.11, db3 runs MariaDB 11.8 from the Debian 13 root that tests/roots.sh builds from Debian's
 * archive (SANDBOX_ROOT_SERVERS=3:trixie), a GTID replica of db1.
 *
 *   1. preflight says what it looks at: both versions, the charset defaults that differ, TLS
 *      towards 11.8; db2 (10.11) cannot follow db3, so the switchover is refused, and with
 *      allow_older_replicas the dry run says db2 would be left at the fence point;
 *   2. an 11.x replica that asks for TLS (MASTER_SSL=1, as RESET SLAVE ALL leaves it) follows a
 *      new 10.11 primary without TLS, because cutoverd's CHANGE MASTER states MASTER_SSL=0;
 *   3. the 10.11 → 11.8 switchover under load through HAProxy: no acknowledged write lost, db3
 *      writable, db1 fenced and replicating from nothing, db2 stopped at the fence point — both
 *      shown as the rollback point, not as faults, also after a restart of cutoverd — and the
 *      switchover back to db1 refused with the reason.
 *
 * The root is built (once, cached; about 2 minutes) when the suites are registered, before any
 * sandbox starts: a first build would not fit the sandbox start's own limit.  When it cannot be
 * built (no network, no debootstrap) the suite says SKIPPED loudly and the runner counts it;
 * with CUTOVER_REQUIRE_ROOTS=1 (CI) that fails instead. */
#include "it_lib.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000
#define SUITE "upgrade"

void it_upgrade_add_suites(SRunner *sr);


/* The check of that name in a report whose result is `result`: its message, or NULL. */
static const char *check_msg(json_t *rep, const char *name, const char *result)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(rep, "checks"), i, c)
		if (!strcmp(it_get_str(c, "check") ?: "", name) && !strcmp(it_get_str(c, "result") ?: "", result))
			return it_get_str(c, "message");
	return NULL;
}

static char *version_of(int server)
{
	return it_sql1(server, "SELECT @@version");
}

/* cutoverctl against the suite's daemon: its exit status, its output in *out. */
static int ctl(char **out, const char *const *args)
{
	char prog[600];
	const char *argv[16];
	size_t n = 0;

	snprintf(prog, sizeof(prog), "%s/cutoverctl", it.build);
	argv[n++] = prog;
	argv[n++] = "-s";
	argv[n++] = it.sock;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return it_run(argv, true, out, 30000);
}

/* The role status gives a server. */
static bool role_is(const char *name, const char *role)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(it_server(st, name), "role") ?: "", role);
	json_decref(st);
	return ok;
}

/* ------------------------------------------------------------------------------------------ */
/* cases */

/* 1. What preflight says about 10.11 → 11.8; refused while db2 (10.11) cannot follow db3;
 *    the dry run with allow_older_replicas, through cutoverctl, names both versions and what
 *    would be kept.  Nothing changes. */
static void preflight_knows_the_versions(void)
{
	char *v1 = version_of(1), *v3 = version_of(3), *out = NULL;
	const char *msg;
	json_t *r, *rep;
	int rc;

	ck_assert_msg(v1 && strstr(v1, "10.11.") && v3 && strstr(v3, "11.8."), "versions: db1 %s, db3 %s", v1 ?: "?",
		      v3 ?: "?");
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db3")), "db3's lag stays unknown");

	/* not a dry run: refused all the same, before anything changes */
	r = it_switchover(json_pack("{s:s}", "to", "db3"), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "BADSTATE") && !strcmp(it_get_str(rep, "outcome") ?: "", "refused"),
		      "switchover to db3 without allow_older_replicas: %s", it_json_str(r));
	msg = check_msg(rep, "version", "pass");
	ck_assert_msg(msg && strstr(msg, "upgrade") && strstr(msg, v1) && strstr(msg, v3), "version check: %s",
		      msg ?: it_json_str(rep));
	it_note("version: %s", msg);
	msg = check_msg(rep, "replica_version", "fail");
	ck_assert_msg(msg && strstr(msg, "db2 runs MariaDB 10.11") && strstr(msg, "allow_older_replicas"),
		      "replica_version: %s", msg ?: it_json_str(rep));
	it_note("refused: %s", msg);
	/* Debian 12's 10.11 defaults to latin1, Debian 13's 11.8 to utf8mb4 */
	msg = check_msg(rep, "charset_defaults", "warn");
	ck_assert_msg(msg && strstr(msg, "latin1") && strstr(msg, "utf8mb4"), "charset_defaults: %s", msg ?: "none");
	msg = check_msg(rep, "replication_tls", "pass");
	ck_assert_msg(msg && strstr(msg, "MASTER_SSL="), "replication_tls: %s", msg ?: "none");
	it_note("tls: %s", msg);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(3), 1);
	ck_assert(it_follows(2, 1) && it_follows(3, 1));
	json_decref(r);

	/* the dry run with the permission, as a person runs it */
	{
		static const char *const args[] = { "switchover", "--to", "db3", "--dry-run", "--allow-older-replicas", NULL };
		char want[400];

		rc = ctl(&out, args);
		ck_assert_msg(rc == 0, "cutoverctl switchover --dry-run exited %d:\n%s", rc, out ?: "");
		snprintf(want, sizeof(want), "upgrade: MariaDB 10.11 (%s) \xe2\x86\x92 MariaDB 11.8 (%s)", v1, v3);
		ck_assert_msg(strstr(out, want), "no \"%s\" in:\n%s", want, out);
		ck_assert_msg(strstr(out, "rollback point: db1 would stay read-only"), "dry run:\n%s", out);
		ck_assert_msg(strstr(out, "rollback point: db2 (") && strstr(out, "would be left stopped at the fence point"),
			      "dry run:\n%s", out);
		it_note("dry run:\n%s", out);
		free(out);
	}
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_writable_count(), 1);
	free(v1);
	free(v3);
}

/* 2. db3 (11.8) asks for TLS towards its primary, as an 11.x replica does by default; db1 and
 *    db2 have none.  A switchover to db2 repoints db3 with MASTER_SSL=0, and it follows. */
static void tls_stated_for_an_11x_replica(void)
{
	struct it_rows *rows;
	json_t *r;
	const char *io_err;

	ck_assert_int_eq(it_sql_exec(3, "STOP SLAVE"), 0);
	ck_assert_msg(it_sql_exec(3, "CHANGE MASTER TO MASTER_SSL = 1") == 0, "%s", it_sql_error());
	ck_assert_int_eq(it_sql_exec(3, "START SLAVE"), 0);
	/* what it says without cutoverd's MASTER_SSL: it cannot connect */
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({
		struct it_rows *x = it_query(3, "SHOW SLAVE STATUS");
		bool e = x && x->nrows && strstr(it_rows_get(x, 0, "Last_IO_Error") ?: "", "SSL");
		it_rows_free(x);
		e;
	})), "db3 with MASTER_SSL=1 does not fail towards db1");
	rows = it_query(3, "SHOW SLAVE STATUS");
	io_err = rows ? it_rows_get(rows, 0, "Last_IO_Error") : NULL;
	it_note("db3 with MASTER_SSL=1 towards db1: %s", io_err ?: "?");
	it_rows_free(rows);

	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	r = it_switchover(json_pack("{s:s}", "to", "db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to db2: %s", it_json_str(r));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(3, 2)), "db3 (11.8) does not follow db2");
	rows = it_query(3, "SHOW SLAVE STATUS");
	ck_assert_msg(rows && rows->nrows && !strcmp(it_rows_get(rows, 0, "Master_SSL_Allowed") ?: "", "No"),
		      "db3's Master_SSL_Allowed: %s", rows && rows->nrows ? it_rows_get(rows, 0, "Master_SSL_Allowed") : "?");
	it_rows_free(rows);
	it_note("db3 follows db2 with MASTER_SSL=0; write_blocked_ms %s", it_json_str(it_get(it_report(r), "write_blocked_ms")));
	json_decref(r);

	/* back: db3 follows db1 again, db2 becomes its replica (the baseline) */
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db1")), "db1's lag stays unknown");
	r = it_switchover(json_pack("{s:s}", "to", "db1"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover back to db1: %s", it_json_str(r));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(3, 1)), "db3 does not follow db1 again");
	json_decref(r);
}

/* 3. 10.11 → 11.8 under write load through HAProxy, db2 left at the fence point; then the way
 *    back is refused. */
static void upgrade_under_load(void)
{
	struct it_load load;
	json_t *r, *rep, *progress = json_array(), *summary, *verify, *st, *up;
	struct it_repl rr;
	char *msgs, *fence, *gtid2, *v3, *writer;
	int vstatus;

	/* the watch after the switchover, told to switch back on failing writes */
	{
		char *text = it_config_text_cluster("watch = 10m\nwatch_action = reverse\nwatch_failed_per_min = 60\n", NULL);
		ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd does not start with a watch");
		free(text);
	}
	ck_assert_int_eq(it_sql_exec(1, "CREATE DATABASE IF NOT EXISTS dc"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE IF NOT EXISTS dc.dup (id INT PRIMARY KEY) ENGINE=InnoDB"), 0);
	ck_assert_int_eq(it_sql_exec(1, "INSERT IGNORE INTO dc.dup VALUES (1)"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE IF NOT EXISTS dc.items (id INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB"), 0);
	ck_assert_int_eq(it_sql_exec(1, "INSERT IGNORE INTO dc.items SELECT seq, CONCAT('item-', seq) FROM dc.seq_1_to_20000"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(30000, it_sql_ll(3, -1, "SELECT COUNT(*) FROM dc.items") == 20000), "db3 lacks dc.items");
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db3")), "db3's lag stays unknown");
	ck_assert_int_eq(it_load_start(&load, "upgrade", 1500), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 100), "the load does not reach db1");

	r = it_switchover(json_pack("{s:s, s:b}", "to", "db3", "allow_older_replicas", 1), SWITCH_TIMEOUT_MS, progress);
	rep = it_report(r);
	msgs = it_progress_messages(progress);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
		      "upgrade switchover: %s\n%s", it_json_str(r), msgs);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 3, 3) >= 100), "the load does not reach db3");
	summary = it_load_stop(&load);
	ck_assert_msg(summary != NULL, "no summary from cutover-load");
	verify = it_load_verify(&load, 3, &vstatus);
	ck_assert_msg(verify && json_integer_value(json_object_get(verify, "acked_missing")) == 0,
		      "acknowledged writes missing on db3: %s", it_json_str(verify));
	ck_assert_int_eq(vstatus, 0);

	/* db3: the writable primary, on 11.8, the router's writer */
	v3 = version_of(3);
	ck_assert_msg(v3 && strstr(v3, "11.8."), "db3 runs %s", v3 ?: "?");
	ck_assert_int_eq(it_read_only(3), 0);
	ck_assert_int_eq(it_writable_count(), 1);
	writer = it_haproxy_writer();
	ck_assert_msg(writer && !strcmp(writer, "db3"), "HAProxy's writer: %s", writer ?: "none");
	free(writer);
	/* db1: fenced, replicating from nothing, at the fence point */
	ck_assert_ptr_nonnull(it_get_str(rep, "fence_point"));
	fence = strdup(it_get_str(rep, "fence_point"));
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_msg(it_repl(1, &rr) == -1, "db1 replicates (from port %d, IO %s)", rr.master_port, rr.io);
	ck_assert_msg(strstr(msgs, "db1 (MariaDB 10.11) cannot replicate from db3 (MariaDB 11.8)"), "progress:\n%s", msgs);
	/* db2: stopped at the fence point, still pointed at db1 */
	ck_assert_msg(it_repl(2, &rr) == 0 && rr.master_port == it_port(1) && !strcmp(rr.io, "No") && !strcmp(rr.sql, "No"),
		      "db2: source port %d, IO %s, SQL %s", rr.master_port, rr.io, rr.sql);
	gtid2 = it_sql1(2, "SELECT @@gtid_current_pos");
	ck_assert_msg(gtid2 && !strcmp(gtid2, fence), "db2 stopped at %s, the fence point is %s", gtid2 ?: "?", fence);
	ck_assert_msg(strstr(msgs, "db2 (MariaDB 10.11) cannot replicate from db3: left stopped at the fence point"),
		      "progress:\n%s", msgs);
	up = it_get(rep, "upgrade");
	ck_assert_str_eq(it_get_str(up, "to") ?: "", "MariaDB 11.8");
	ck_assert_str_eq(it_get_str(up, "old_primary_kept") ?: "", "db1");
	ck_assert_str_eq(it_get_str(up, "left_at_fence_point.0.server") ?: "", "db2");
	ck_assert(json_is_true(it_get(up, "left_at_fence_point.0.reached")));

	/* the data check (data_check = auto: on for an upgrade) compares 10.11 and 11.8 at the fence point */
	ck_assert_str_eq(it_get_str(rep, "data_check.state") ?: "", "running");
	{
		json_t *dc = NULL;
		const char *dst = NULL;
		int64_t end = it_now_ms() + 120000;
		while (it_now_ms() < end) {
			json_t *s2 = it_status();
			json_decref(dc);
			dc = json_incref(it_get(s2, "clusters.0.data_check"));
			json_decref(s2);
			dst = it_get_str(dc, "state");
			if (dst && strcmp(dst, "running"))
				break;
			it_sleep_ms(200);
		}
		ck_assert_msg(dst && !strcmp(dst, "passed"), "the data check of the upgrade: %s", it_json_str(dc));
		ck_assert_msg(json_integer_value(json_object_get(dc, "rows")) >= 20000, "%s", it_json_str(dc));
		it_note("data check 10.11 (db1) vs 11.8 (db3) at the fence point: %s", it_json_str(dc));
		json_decref(dc);
	}
	/* the watch: failing writes on db3 breach its trigger, but it will not switch back across versions */
	{
		json_t *w = NULL;
		int i;
		for (i = 0; i < 500; i++) {
			json_t *s2;
			it_sql_exec(3, "INSERT INTO dc.dup VALUES (1)");
			s2 = it_status();
			json_decref(w);
			w = json_incref(it_get(s2, "clusters.0.watch"));
			json_decref(s2);
			if (!strcmp(it_get_str(w, "state") ?: "", "triggered"))
				break;
			it_sleep_ms(30);
		}
		ck_assert_msg(!strcmp(it_get_str(w, "state") ?: "", "triggered"), "the watch: %s", it_json_str(w));
		ck_assert_msg(strstr(it_get_str(w, "why") ?: "", "not switching back") &&
				      strstr(it_get_str(w, "why") ?: "", "do not replicate from a newer release series"),
			      "the watch's reason: %s", it_json_str(w));
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_alarm_active("watch_trigger", NULL)), "no watch_trigger alarm");
		it_note("the watch after the upgrade: %s", it_get_str(w, "why"));
		json_decref(w);
		it_sleep_ms(5 * IT_POLL_MS);
		ck_assert_int_eq(it_read_only(3), 0);
		ck_assert_int_eq(it_read_only(1), 1);
	}

	it_note("10.11 -> 11.8 under load: write_blocked_ms %s total_ms %s fence %s; load: window_ms %s longest_gap_ms %s "
		"errors %s; verify on db3: acked %lld missing %lld errored_but_committed %lld",
		it_json_str(json_object_get(rep, "write_blocked_ms")), it_json_str(json_object_get(rep, "total_ms")), fence,
		it_json_str(json_object_get(summary, "window_ms")), it_json_str(json_object_get(summary, "longest_gap_ms")),
		it_json_str(json_object_get(summary, "errors")), json_integer_value(json_object_get(verify, "acked")),
		json_integer_value(json_object_get(verify, "acked_missing")),
		json_integer_value(json_object_get(verify, "errored_but_committed")));

	/* status: db1 and db2 are the rollback point, not an orphan and a broken replica; the verdict
	 * stays OK and no alarm is raised about them over a few polls */
	ck_assert_msg(IT_WAIT_UNTIL(5000, role_is("db1", "rollback_point") && role_is("db2", "rollback_point")),
		      "status does not show db1 and db2 as the rollback point");
	it_sleep_ms(6 * IT_POLL_MS);
	st = it_status();
	ck_assert_msg(!strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK") &&
			      !strcmp(it_get_str(st, "clusters.0.primary") ?: "", "db3"),
		      "status: verdict %s, primary %s, reasons %s", it_get_str(st, "clusters.0.verdict") ?: "?",
		      it_get_str(st, "clusters.0.primary") ?: "?", it_json_str(it_get(st, "clusters.0.reasons_now")));
	ck_assert(!it_alarm_in(st, "wrong_source", "db2", "active") && !it_alarm_in(st, "replication_broken", "db2", "active"));
	ck_assert_str_eq(it_get_str(st, "clusters.0.rollback_point.0.fence_point") ?: "", fence);
	json_decref(st);
	{
		static const char *const args[] = { "status", NULL };
		char *out = NULL;
		ck_assert_int_eq(ctl(&out, args), 0);
		ck_assert_msg(strstr(out, "rollback point: db1 held at the fence point") &&
				      strstr(out, "rollback point: db2 held at the fence point"), "status:\n%s", out);
		it_note("status after the upgrade:\n%s", out);
		free(out);
	}
	/* what cutoverd knows survives a restart (the journal) */
	ck_assert_int_eq(it_daemon_restart(NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(5000, role_is("db1", "rollback_point") && role_is("db2", "rollback_point")),
		      "after a restart of cutoverd, db1 and db2 are not the rollback point");

	/* the way back: refused with the reason, nothing changed */
	{
		json_t *back = it_switchover(json_pack("{s:s}", "to", "db1"), SWITCH_TIMEOUT_MS, NULL);
		const char *why = check_msg(it_report(back), "version", "fail");
		ck_assert_msg(back && !strcmp(it_err_code(back) ?: "", "BADSTATE"), "switchover back to db1: %s",
			      it_json_str(back));
		ck_assert_msg(why && strstr(why, "db1 runs MariaDB 10.11") && strstr(why, "older than the primary db3") &&
				      strstr(why, "rollback point"), "the refusal's reason: %s", why ?: it_json_str(back));
		it_note("switchover back refused: %s", why);
		json_decref(back);
	}
	ck_assert_int_eq(it_read_only(3), 0);
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_int_eq(it_writable_count(), 1);

	json_decref(r);
	json_decref(progress);
	json_decref(summary);
	json_decref(verify);
	free(msgs);
	free(fence);
	free(gtid2);
	free(v3);
}

/* 4. An account whose authentication method the client library cannot speak: MariaDB 11.8's
 *    PARSEC, which Debian 12's Connector/C (3.3) does not have.  cutoverd, told to log in to db3
 *    as such an account, shows db3 down with what to do, and nothing else is disturbed. */
static void unknown_auth_method(void)
{
	char pwfile[400], extra[4096], *text, *base, *at;
	json_t *st;
	const char *err = NULL;
	int64_t end;

	/* on db3 only, not replicated */
	if (it_sql_exec(3, "INSTALL SONAME 'auth_parsec'") != 0)
		ck_assert_msg(strstr(it_sql_error(), "already"), "INSTALL SONAME 'auth_parsec' on db3: %s", it_sql_error());
	ck_assert_msg(it_sql_exec(3, "SET STATEMENT sql_log_bin = 0 FOR CREATE USER 'cut_parsec'@'127.0.0.1' IDENTIFIED VIA "
				     "parsec USING PASSWORD('parsec-test-pw')") == 0, "CREATE USER: %s", it_sql_error());
	snprintf(pwfile, sizeof(pwfile), "%s/secrets/cut_parsec.pass", it.dir);
	ck_assert_int_eq(it_write_file(pwfile, "parsec-test-pw\n", 0600), 0);
	/* db3's section with that account instead of cutoverd's */
	base = it_config_text(NULL);
	at = strstr(base, "[server db3]");
	ck_assert_ptr_nonnull(at);
	at = strstr(at, "user = cutoverd");
	ck_assert_ptr_nonnull(at);
	{
		/* its user and password_file lines, replaced */
		const char *after = strchr(at, '\n');
		ck_assert_ptr_nonnull(after);
		after = strstr(after + 1, "password_file = ");
		ck_assert_ptr_nonnull(after);
		after = strchr(after, '\n');
		ck_assert_ptr_nonnull(after);
		snprintf(extra, sizeof(extra), "%.*suser = cut_parsec\npassword_file = %s", (int)(at - base), base, pwfile);
		ck_assert(asprintf(&text, "%s%s", extra, after) > 0);
	}
	free(base);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd does not start with db3 as cut_parsec");
	free(text);
	end = it_now_ms() + 15000;
	while (it_now_ms() < end) {
		st = it_status();
		err = it_get_str(it_server(st, "db3"), "last_error");
		if (err && strstr(err, "cannot speak")) {
			it_note("db3 as an account with PARSEC: %s", err);
			ck_assert_msg(strstr(err, "parsec") && strstr(err, "caching_sha2_password") &&
					      strstr(err, "ALTER USER 'cut_parsec'"), "the error does not say what to do: %s", err);
			json_decref(st);
			break;
		}
		json_decref(st);
		err = NULL;
		it_sleep_ms(200);
	}
	ck_assert_msg(err != NULL, "db3's error does not name the method the client cannot speak");
	/* the others are polled as ever */
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *s2 = it_status(); bool up = !strcmp(it_get_str(it_server(s2, "db1"),
		"state") ?: "", "up") && !strcmp(it_get_str(it_server(s2, "db2"), "state") ?: "", "up"); json_decref(s2); up; })),
		      "db1 and db2 are not up beside db3's failed login");
	ck_assert(it_restore_baseline(true, "db3 had a PARSEC account"));
}

static const struct it_case cases[] = {
	{ "preflight_knows_the_versions", preflight_knows_the_versions },
	{ "tls_stated_for_an_11x_replica", tls_stated_for_an_11x_replica },
	{ "upgrade_under_load", upgrade_under_load },
	{ "unknown_auth_method", unknown_auth_method },
};

void it_upgrade_add_suites(SRunner *sr)
{
	static const struct it_suite_def def = { SUITE, cases, sizeof(cases) / sizeof(cases[0]) };

	it_add_root_suite(sr, &def, "trixie", "Debian 13 with MariaDB 11.8", "SANDBOX_ROOT_SERVERS=3:trixie");
}
