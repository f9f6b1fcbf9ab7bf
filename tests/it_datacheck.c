/* The data check at the fence point and the watch after a switchover (issue 13, items 2–4),
 * against real servers (three MariaDB 10.11 and HAProxy):
 *
 *   1. a row changed on the candidate with replication bypassed (sql_log_bin=0) is found: the
 *      check names the table and the key range, the watchdog raises data_mismatch, and the old
 *      primary stays held at the fence point, not replicating;
 *   2. one million rows compared at the fence point while the load writes to the new primary:
 *      the check passes, the time and rate are printed, and the old primary then follows the new
 *      one;
 *   3. the watch after a switchover: writes failing on the new primary (duplicate keys, counted
 *      by Handler_rollback) breach watch_failed_per_min, and with watch_action = reverse cutoverd
 *      switches back to the old primary on its own, losing no acknowledged write;
 *   4. an ALTER TABLE on a table the check has read waits for the snapshot's metadata lock: the
 *      check sees the waiter, stops (incomplete) and the ALTER goes through; the old primary
 *      stays held;
 *   5. cutoverd killed during a check: after the restart the check reads as incomplete and the
 *      old primary is still held, not replicating.
 *
 * The reverse on ProxySQL's error rate is in it_proxysql.c, the refusal to reverse across
 * versions in it_upgrade.c. */
#include "it_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000
#define CHECK_TIMEOUT_MS 300000

Suite *it_datacheck_suite(void);

/* dc.items with `rows` rows on db1 (and a MyISAM table, which the check cannot hold), on every
 * replica before it returns. */
static void items(long long rows)
{
	int s;

	ck_assert_int_eq(it_sql_exec(1, "CREATE DATABASE IF NOT EXISTS dc"), 0);
	ck_assert_int_eq(it_sql_exec(1, "DROP TABLE IF EXISTS dc.items, dc.notes, dc.dup, dc.hist"), 0);
	/* system-versioned: its current rows are compared, its history is not */
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE dc.hist (id INT PRIMARY KEY, v INT) ENGINE=InnoDB WITH SYSTEM VERSIONING"), 0);
	ck_assert_int_eq(it_sql_exec(1, "INSERT INTO dc.hist SELECT seq, seq FROM dc.seq_1_to_100"), 0);
	ck_assert_int_eq(it_sql_exec(1, "UPDATE dc.hist SET v = v + 1 WHERE id <= 50"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE dc.items (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL, "
					"d DATETIME(3) NULL) ENGINE=InnoDB"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE dc.notes (id INT PRIMARY KEY) ENGINE=MyISAM"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE TABLE dc.dup (id INT PRIMARY KEY) ENGINE=InnoDB"), 0);
	ck_assert_int_eq(it_sql_exec(1, "INSERT INTO dc.dup VALUES (1)"), 0);
	ck_assert_msg(it_sql_exec(1, "INSERT INTO dc.items SELECT seq, CONCAT('item-', seq), IF(seq %% 7 = 0, NULL, seq * 3), "
				     "IF(seq %% 5 = 0, NULL, '2026-12-01 10:00:00.123' + INTERVAL seq SECOND) "
				     "FROM dc.seq_1_to_%lld", rows) == 0, "inserting %lld rows: %s", rows, it_sql_error());
	for (s = 2; s <= IT_SERVERS; s++)
		ck_assert_msg(IT_WAIT_UNTIL(120000, it_sql_ll(s, -1, "SELECT COUNT(*) FROM dc.items") == rows),
			      "db%d does not have the %lld rows", s, rows);
}

static json_t *data_check(void)
{
	json_t *st = it_status(), *dc = st ? json_incref(it_get(st, "clusters.0.data_check")) : NULL;
	json_decref(st);
	return dc;
}

/* The data check of the last switchover, once it ended (NULL if it did not within timeout_ms). */
static json_t *data_check_end(int timeout_ms)
{
	json_t *dc = NULL;
	int64_t end = it_now_ms() + timeout_ms;

	while (it_now_ms() < end) {
		const char *st;
		json_decref(dc);
		dc = data_check();
		st = it_get_str(dc, "state");
		if (st && strcmp(st, "running") && strcmp(st, "armed") && strcmp(st, "opening"))
			return dc;
		it_sleep_ms(200);
	}
	json_decref(dc);
	return NULL;
}

static const char *held_server(json_t *st, const char *name)
{
	json_t *h;
	size_t i;
	json_array_foreach(it_get(st, "clusters.0.rollback_point"), i, h)
		if (!strcmp(it_get_str(h, "server") ?: "", name))
			return it_get_str(h, "why");
	return NULL;
}

static void start_with(const char *cluster_extra)
{
	char *text = it_config_text_cluster(cluster_extra, NULL);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd does not start with:\n%s", cluster_extra);
	free(text);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
}

/* A switchover to db2 under load: the report; the load summary and verification in sum and ver. */
static json_t *switch_under_load(struct it_load *l, json_t **sum, json_t **ver, json_t *progress)
{
	json_t *r;
	int vstatus;

	r = it_switchover(json_pack("{s:s}", "to", "db2"), SWITCH_TIMEOUT_MS, progress);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(l, 2, 2) >= 50), "the load does not reach db2");
	*sum = it_load_stop(l);
	*ver = it_load_verify(l, 2, &vstatus);
	ck_assert_msg(*ver && json_integer_value(json_object_get(*ver, "acked_missing")) == 0,
		      "acknowledged writes missing on db2: %s", it_json_str(*ver));
	return r;
}

/* 1. A planted difference is found, with its key range; the rollback point is kept. */
static void planted_mismatch_found(void)
{
	struct it_load load;
	json_t *r, *sum, *ver, *dc, *st, *progress = json_array(), *m;
	struct it_repl rr;
	long long after, upto;
	char *msgs, *out = NULL;

	start_with("data_check = on\ndata_check_chunk_rows = 200\n");
	items(2000);
	/* on the candidate only, past replication */
	ck_assert_int_eq(it_sql_exec(2, "SET STATEMENT sql_log_bin=0 FOR UPDATE dc.items SET v = 'planted' WHERE id = 537"), 0);
	ck_assert_int_eq(it_load_start(&load, "dcmis", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 50), "the load does not reach db1");
	r = switch_under_load(&load, &sum, &ver, progress);
	msgs = it_progress_messages(progress);
	ck_assert_msg(strstr(msgs, "data check: snapshots at the fence point are open on db1 and db2"), "progress:\n%s", msgs);
	ck_assert_str_eq(it_get_str(it_report(r), "data_check.state") ?: "", "running");
	ck_assert_msg(strstr(msgs, "db1 is set to replicate from db2 but stays at the fence point"), "progress:\n%s", msgs);

	dc = data_check_end(CHECK_TIMEOUT_MS);
	ck_assert_msg(dc, "the data check did not end");
	ck_assert_msg(!strcmp(it_get_str(dc, "state") ?: "", "mismatch"), "data check: %s", it_json_str(dc));
	ck_assert_int_eq(json_integer_value(json_object_get(dc, "mismatch_count")), 1);
	m = it_get(dc, "mismatches.0");
	ck_assert_str_eq(it_get_str(m, "table") ?: "", "dc.items");
	after = atoll(it_get_str(m, "after") ?: "-1");
	upto = atoll(it_get_str(m, "up_to") ?: "-1");
	ck_assert_msg(after < 537 && upto >= 537 && upto - after <= 200, "the range (%lld, %lld] does not hold id 537: %s",
		      after, upto, it_json_str(m));
	ck_assert_int_eq(json_integer_value(it_get(m, "rows_reference")), json_integer_value(it_get(m, "rows_target")));
	ck_assert_str_eq(it_get_str(dc, "skipped.0.table") ?: "", "dc.notes");
	ck_assert_int_eq(json_array_size(it_get(dc, "skipped")), 1);
	/* app.writes, cutoverd.heartbeat, dc.dup, dc.hist (system-versioned) and dc.items */
	ck_assert_msg(json_integer_value(json_object_get(dc, "tables_done")) == 5, "tables: %s", it_json_str(dc));
	ck_assert_msg(strstr(it_get_str(dc, "skipped.0.why") ?: "", "not transactional"), "%s", it_json_str(dc));
	ck_assert_msg(json_integer_value(json_object_get(dc, "rows")) >= 2000, "rows compared: %s", it_json_str(dc));
	it_note("planted mismatch: %s", it_json_str(dc));

	/* the alarm, and db1 kept at the fence point: read-only, configured but not replicating */
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_alarm_active("data_mismatch", NULL)), "no data_mismatch alarm");
	st = it_status();
	ck_assert_msg(held_server(st, "db1"), "db1 is not held: %s", it_json_str(it_get(st, "clusters.0.rollback_point")));
	json_decref(st);
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_msg(it_repl(1, &rr) == 0 && rr.master_port == it_port(2) && !strcmp(rr.io, "No") && !strcmp(rr.sql, "No"),
		      "db1: source port %d, IO %s, SQL %s", rr.master_port, rr.io, rr.sql);
	ck_assert_msg(it_sql_ll(1, -1, "SELECT COUNT(*) FROM dc.items WHERE v = 'planted'") == 0, "db1 took the change");
	{
		static const char *args[] = { NULL, "-s", NULL, "status", NULL };
		char prog[600];
		snprintf(prog, sizeof(prog), "%s/cutoverctl", it.build);
		args[0] = prog;
		args[2] = it.sock;
		ck_assert_int_eq(it_run(args, true, &out, 30000), 0);
		ck_assert_msg(strstr(out, "data check (switchover") && strstr(out, "mismatch") &&
				      strstr(out, "differs: dc.items id in ("), "status:\n%s", out);
		free(out);
	}
	/* the operator accepts the difference: START SLAVE on db1 releases it, the alarm clears */
	ck_assert_int_eq(it_sql_exec(1, "START SLAVE"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(1, 2)), "db1 does not follow db2 after START SLAVE");
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *s2 = it_status(); bool gone = s2 && !held_server(s2, "db1");
					      json_decref(s2); gone; })), "db1 is still held after START SLAVE");
	ck_assert_msg(IT_WAIT_UNTIL(10000, !it_alarm_active("data_mismatch", NULL)), "data_mismatch does not clear");
	json_decref(dc);
	json_decref(r);
	json_decref(sum);
	json_decref(ver);
	json_decref(progress);
	free(msgs);
	ck_assert(it_restore_baseline(true, "switched to db2"));
}

/* 2. A million rows pass, the time is printed, and the old primary follows the new one after. */
static void million_rows_pass(void)
{
	struct it_load load;
	json_t *r, *sum, *ver, *dc, *st;
	int64_t t0;

	start_with("data_check = on\n");
	t0 = it_now_ms();
	items(1000000);
	it_note("1,000,000 rows inserted and replicated in %.1f s", (double)(it_now_ms() - t0) / 1000.0);
	ck_assert_int_eq(it_load_start(&load, "dcmil", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 50), "the load does not reach db1");
	r = switch_under_load(&load, &sum, &ver, NULL);
	/* while it runs, db1 is held at the fence point: another switchover is refused */
	{
		json_t *busy = it_switchover(json_pack("{s:s}", "to", "db3"), SWITCH_TIMEOUT_MS, NULL);
		json_t *now = data_check();
		if (!strcmp(it_get_str(now, "state") ?: "", "running"))
			ck_assert_msg(!strcmp(it_err_code(busy) ?: "", "BUSY") &&
					      strstr(it_get_str(busy, "error.message") ?: "", "the data check of switchover"),
				      "a switchover during the data check: %s", it_json_str(busy));
		else
			it_note("the data check ended before the second switchover was asked for: %s", it_json_str(now));
		json_decref(busy);
		json_decref(now);
	}
	dc = data_check_end(CHECK_TIMEOUT_MS);
	ck_assert_msg(dc, "the data check did not end within %d s", CHECK_TIMEOUT_MS / 1000);
	ck_assert_msg(!strcmp(it_get_str(dc, "state") ?: "", "passed"), "data check: %s", it_json_str(dc));
	ck_assert_msg(json_integer_value(json_object_get(dc, "rows")) >= 1000000, "rows: %s", it_json_str(dc));
	ck_assert_int_eq(json_integer_value(json_object_get(dc, "mismatch_count")), 0);
	it_note("1M rows: data check %s in %.1f s (%.0f rows/s, %lld chunks); write_blocked_ms %s; load window_ms %s",
		it_get_str(dc, "state"), json_number_value(json_object_get(dc, "elapsed_ms")) / 1000.0,
		json_number_value(json_object_get(dc, "rows_per_s")), (long long)json_integer_value(json_object_get(dc, "chunks")),
		it_json_str(it_get(it_report(r), "write_blocked_ms")), it_json_str(json_object_get(sum, "window_ms")));
	/* passed: db1 follows db2 and is no longer held */
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(1, 2)), "db1 does not replicate from db2 after the check passed");
	st = it_status();
	ck_assert_msg(!held_server(st, "db1"), "db1 is still held: %s", it_json_str(it_get(st, "clusters.0.rollback_point")));
	json_decref(st);
	ck_assert(!it_alarm_active("data_mismatch", NULL));
	json_decref(dc);
	json_decref(r);
	json_decref(sum);
	json_decref(ver);
	ck_assert_int_eq(it_sql_exec(2, "DROP TABLE dc.items"), 0);
	ck_assert(it_restore_baseline(true, "switched to db2"));
}

/* A slow check (data_check_rate) under way, past the first tables: the load stopped, the check's
 * state. */
static void slow_check_under_way(void)
{
	struct it_load load;
	json_t *r, *sum, *ver;

	start_with("data_check = on\ndata_check_rate = 20000\ndata_check_chunk_rows = 1000\n");
	items(200000);
	ck_assert_int_eq(it_load_start(&load, "dcslow", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 50), "the load does not reach db1");
	r = switch_under_load(&load, &sum, &ver, NULL);
	json_decref(r);
	json_decref(sum);
	json_decref(ver);
	/* app.writes, cutoverd.heartbeat and dc.dup are done; dc.items takes ten seconds */
	ck_assert_msg(IT_WAIT_UNTIL(20000, ({ json_t *d = data_check(); bool on = d &&
		!strcmp(it_get_str(d, "state") ?: "", "running") && json_integer_value(json_object_get(d, "tables_done")) >= 3;
		json_decref(d); on; })), "the slow data check is not under way on dc.items");
}

/* 4. A DDL on a table the check has read is not held up: the check stops, the DDL goes through,
 *    the old primary stays held (an incomplete check proves nothing). */
static void ddl_not_held_up(void)
{
	json_t *dc;
	pid_t pid;
	int status = -1;
	int64_t t0;

	slow_check_under_way();
	t0 = it_now_ms();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(it_sql_exec(2, "ALTER TABLE dc.dup ADD COLUMN x INT") == 0 ? 0 : 1);
	dc = data_check_end(30000);
	ck_assert_msg(dc && !strcmp(it_get_str(dc, "state") ?: "", "incomplete") &&
			      strstr(it_get_str(dc, "why") ?: "", "not to hold up DDL") &&
			      strstr(it_get_str(dc, "why") ?: "", "metadata lock"),
		      "the data check with a DDL waiting: %s", it_json_str(dc));
	ck_assert_msg(IT_WAIT_UNTIL(20000, waitpid(pid, &status, WNOHANG) == pid), "the ALTER TABLE is still held up");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the ALTER TABLE failed");
	ck_assert_int_eq(it_sql_ll(2, -1, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'dc' AND "
					  "TABLE_NAME = 'dup' AND COLUMN_NAME = 'x'"), 1);
	it_note("the ALTER TABLE went through %.1f s after it was sent; the check: %s",
		(double)(it_now_ms() - t0) / 1000.0, it_get_str(dc, "why"));
	{
		json_t *st = it_status();
		ck_assert_msg(held_server(st, "db1"), "db1 is not held after an incomplete check");
		json_decref(st);
	}
	json_decref(dc);
	ck_assert(it_restore_baseline(true, "db1 was held at the fence point"));
}

/* 5. cutoverd killed during a check: after the restart the check reads as incomplete, and the
 *    old primary is still held at the fence point, not replicating. */
static void restart_during_check(void)
{
	json_t *dc, *st;
	struct it_repl rr;

	slow_check_under_way();
	it_daemon_kill9();
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *d = data_check(); bool ok = d &&
		!strcmp(it_get_str(d, "state") ?: "", "incomplete"); json_decref(d); ok; })),
		      "after a restart the data check does not read as incomplete");
	dc = data_check();
	ck_assert_msg(strstr(it_get_str(dc, "why") ?: "", "cutoverd stopped while the check ran"), "%s", it_json_str(dc));
	st = it_status();
	ck_assert_msg(held_server(st, "db1"), "db1 is not held after the restart: %s",
		      it_json_str(it_get(st, "clusters.0.rollback_point")));
	json_decref(st);
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_msg(it_repl(1, &rr) == 0 && !strcmp(rr.io, "No") && !strcmp(rr.sql, "No"), "db1: IO %s, SQL %s", rr.io,
		      rr.sql);
	it_note("after kill -9 and a restart: %s", it_get_str(dc, "why"));
	json_decref(dc);
	ck_assert(it_restore_baseline(true, "db1 was held at the fence point"));
}

/* 3. The watch switches back on failing writes. */
static void watch_reverses_on_failed_writes(void)
{
	struct it_load load;
	json_t *r, *sum, *ver, *st, *h, *e;
	int vstatus, i;
	size_t k;
	bool journaled = false;
	long long breached_at = -1;

	start_with("watch = 10m\nwatch_action = reverse\nwatch_failed_per_min = 60\n");
	items(10);
	ck_assert_int_eq(it_load_start(&load, "watch", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 50), "the load does not reach db1");
	r = it_switchover(json_pack("{s:s}", "to", "db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	json_decref(r);
	st = it_status();
	ck_assert_str_eq(it_get_str(st, "clusters.0.watch.new_primary") ?: "", "db2");
	ck_assert_str_eq(it_get_str(st, "clusters.0.watch.action") ?: "", "reverse");
	ck_assert_msg(json_number_value(it_get(st, "clusters.0.watch.remaining_s")) > 500, "%s",
		      it_json_str(it_get(st, "clusters.0.watch")));
	json_decref(st);
	/* nothing fails yet: no reverse for a few seconds of samples */
	it_sleep_ms(7000);
	ck_assert_int_eq(it_read_only(2), 0);
	/* writes that fail on db2: a duplicate key, straight to the server, ~20 a second */
	for (i = 0; i < 600 && it_read_only(1) != 0; i++) {
		it_sql_exec(2, "INSERT INTO dc.dup VALUES (1)");
		if (breached_at < 0) {
			st = it_status();
			if (json_is_true(it_get(st, "clusters.0.watch.triggers.2.breached")))
				breached_at = i;
			json_decref(st);
		}
		it_sleep_ms(40);
	}
	ck_assert_msg(IT_WAIT_UNTIL(SWITCH_TIMEOUT_MS, it_read_only(1) == 0 && it_writable_count() == 1 && it_writer_is("db1")),
		      "the watch did not switch back to db1");
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 50), "the load is not back on db1");
	it_sleep_ms(500);
	sum = it_load_stop(&load);
	ver = it_load_verify(&load, 1, &vstatus);
	ck_assert_msg(ver && json_integer_value(json_object_get(ver, "acked_missing")) == 0,
		      "acknowledged writes missing on db1 after the watch's reverse: %s", it_json_str(ver));
	/* history shows the switch back as the watch's */
	h = it_call_result("history", NULL);
	json_array_foreach(it_get(h, "switchovers"), k, e)
		journaled |= json_is_true(json_object_get(e, "by_watch")) &&
			     !strcmp(it_get_str(e, "new_primary") ?: "", "db1") && !strcmp(it_get_str(e, "outcome") ?: "", "done");
	ck_assert_msg(journaled, "history does not show the watch's switchover back: %s", it_json_str(h));
	it_note("the watch switched back (breached after %lld failing writes); load window_ms %s longest_gap_ms %s",
		breached_at, it_json_str(json_object_get(sum, "window_ms")), it_json_str(json_object_get(sum, "longest_gap_ms")));
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *s2 = it_status(); bool gone = s2 && json_is_null(it_get(s2, "clusters.0.watch"));
					      json_decref(s2); gone; })), "the watch did not end after the reverse");
	json_decref(h);
	json_decref(sum);
	json_decref(ver);
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd does not restart with the base config");
}

static const struct it_case cases[] = {
	{ "planted_mismatch_found", planted_mismatch_found },
	{ "million_rows_pass", million_rows_pass },
	{ "watch_reverses_on_failed_writes", watch_reverses_on_failed_writes },
	{ "ddl_not_held_up", ddl_not_held_up },
	{ "restart_during_check", restart_during_check },
};

Suite *it_datacheck_suite(void)
{
	static const struct it_suite_def def = { "datacheck", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
