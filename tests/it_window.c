/* The window every client sees (the "every client's window" issue), against real servers:
 * clients that open a connection per write, keep one, write in transactions or read, side by
 * side through HAProxy, are never refused for the drain's length (new work is refused only
 * inside the write-blocked window); a long write running on the primary when the switchover
 * starts is waited for before the fence (and commits) or, when told, killed (and leaves
 * nothing); no acknowledged write is lost.  Timings are reported; the only bounds asserted
 * are an order of magnitude below what the old behaviour cost (the whole drain_timeout), so
 * that a noisy machine cannot fail them. */
#include "it_lib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000
#define DRAIN_MS 4000          /* the old drain refused new connections for all of this */

Suite *it_window_suite(void);

static const char *const kinds[] = { "persistent", "per-request", "transaction", "read" };
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void switch_back(int to)
{
	json_t *r;
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to))), "%s's lag stays unknown", it_name_of(to));
	r = it_switchover(json_pack("{s:s}", "to", it_name_of(to)), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover back to %s: %s", it_name_of(to),
		      it_json_str(r));
	json_decref(r);
}

/* 1. Every kind of client at once through HAProxy: none is refused for the drain's length. */
static void every_client_kind(void)
{
	struct it_load l[NKINDS];
	json_t *r, *rep, *summary[NKINDS];
	size_t k;

	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	for (k = 0; k < NKINDS; k++)
		ck_assert_int_eq(it_load_start_mode(&l[k], kinds[k], 2000, kinds[k]), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&l[0], 1, 1) >= 20 && it_load_rows(&l[1], 1, 1) >= 20),
		      "the loads do not reach db1");

	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", DRAIN_MS), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&l[1], 2, 2) >= 20), "the per-request load does not reach db2");
	it_sleep_ms(300);
	for (k = 0; k < NKINDS; k++) {
		summary[k] = it_load_stop(&l[k]);
		ck_assert_msg(summary[k] != NULL, "no summary from the %s client", kinds[k]);
	}
	for (k = 0; k < NKINDS; k++) {
		double gap = json_number_value(json_object_get(summary[k], "longest_gap_ms"));
		it_note("%-12s window_ms %s longest_gap_ms %.1f errors %lld", kinds[k],
			it_json_str(json_object_get(summary[k], "window_ms")), gap,
			json_integer_value(json_object_get(summary[k], "errors")));
		/* The drain used to refuse new connections for all of drain_timeout: a client that
		 * connects for every write could not write for DRAIN_MS. */
		ck_assert_msg(gap < DRAIN_MS / 4, "the %s client went %.1f ms without a successful attempt", kinds[k], gap);
		if (strcmp(kinds[k], "read")) {
			int vstatus;
			json_t *v = it_load_verify(&l[k], 2, &vstatus);
			ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0,
				      "%s client: acknowledged writes missing on db2: %s", kinds[k], it_json_str(v));
			json_decref(v);
		}
		json_decref(summary[k]);
	}
	it_note("write_blocked_ms %s; drain %s ms", it_json_str(json_object_get(rep, "write_blocked_ms")),
		it_json_str(it_get(rep, "phases.1.ms")));
	json_decref(r);
	switch_back(1);
}

/* 2. A long write on the primary when the switchover starts: waited for, writes flowing; it
 *    commits; the switchover completes after it; the other writers are not stalled behind a
 *    pending read_only. */
static void long_write_waited_for(void)
{
	char out[400];
	struct it_load l;
	json_t *r, *progress = json_array(), *summary;
	pid_t pid;
	char *msgs;
	double gap;
	int vstatus, rc;
	json_t *v;

	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	ck_assert_int_eq(it_load_start(&l, "beside-long", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&l, 1, 1) >= 20), "the load does not reach db1");
	snprintf(out, sizeof(out), "%s/long-write.out", it.dir);
	/* about 3 s of one INSERT … SELECT, a row per millisecond */
	pid = it_bg_sql("INSERT INTO app.writes (id, client_ts, server_id) SELECT 8000000000000000 + seq, SLEEP(0.001), "
			"@@server_id FROM app.seq_1_to_3000", out);
	ck_assert_int_gt(pid, 0);
	it_sleep_ms(400);

	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 20000), SWITCH_TIMEOUT_MS, progress);
	rc = it_bg_wait(pid, 20000);
	msgs = it_progress_messages(progress);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	ck_assert_msg(strstr(msgs, "waiting, writes flowing, for 1 write statement") != NULL,
		      "the drain did not say it waited for the long write:\n%s", msgs);
	ck_assert_msg(rc == 0, "the long INSERT did not commit (client exit %d)", rc);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_sql_ll(2, -1, "SELECT COUNT(*) FROM app.writes WHERE id > 8000000000000000 "
						      "AND id <= 8000000000003000") == 3000),
		      "db2 does not hold the long INSERT's 3000 rows");
	it_sleep_ms(300);
	summary = it_load_stop(&l);
	gap = json_number_value(json_object_get(summary, "longest_gap_ms"));
	v = it_load_verify(&l, 2, &vstatus);
	ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0, "writes lost: %s", it_json_str(v));
	it_note("drain waited %s ms for the long write; write_blocked_ms %s; the other writer's longest gap %.1f ms",
		it_json_str(it_get(it_report(r), "phases.1.ms")), it_json_str(json_object_get(it_report(r), "write_blocked_ms")),
		gap);
	/* A fence behind the long write held every writer for all of fence_timeout (2 s). */
	ck_assert_msg(gap < 1000, "the other writer went %.1f ms without a write", gap);
	json_decref(v);
	json_decref(summary);
	json_decref(r);
	json_decref(progress);
	free(msgs);
	it_sql_exec(2, "DELETE FROM app.writes WHERE id > 8000000000000000 AND id <= 8000000000003000");
	switch_back(1);
}

/* 3. The same, told to kill write statements older than 500 ms: the long write is killed (its
 *    client gets an error, none of its rows is anywhere), the switchover goes on. */
static void long_write_killed(void)
{
	char out[400];
	json_t *r, *progress = json_array();
	pid_t pid;
	char *msgs;
	int rc;

	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	snprintf(out, sizeof(out), "%s/long-write-killed.out", it.dir);
	pid = it_bg_sql("INSERT INTO app.writes (id, client_ts, server_id) SELECT 8100000000000000 + seq, SLEEP(0.001), "
			"@@server_id FROM app.seq_1_to_5000", out);
	ck_assert_int_gt(pid, 0);
	it_sleep_ms(300);
	r = it_switchover(json_pack("{s:s, s:i, s:i}", "to", "db2", "drain_timeout_ms", 20000, "kill_long_after_ms", 500),
			  SWITCH_TIMEOUT_MS, progress);
	rc = it_bg_wait(pid, 20000);
	msgs = it_progress_messages(progress);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	ck_assert_msg(strstr(msgs, "killing 1 write statement older than 500 ms") != NULL, "no kill said:\n%s", msgs);
	ck_assert_msg(rc != 0, "the killed INSERT's client reported success");
	ck_assert_int_eq(it_sql_ll(2, -1, "SELECT COUNT(*) FROM app.writes WHERE id > 8100000000000000 AND id <= "
					  "8100000000005000"), 0);
	ck_assert_int_eq(it_sql_ll(1, -1, "SELECT COUNT(*) FROM app.writes WHERE id > 8100000000000000 AND id <= "
					  "8100000000005000"), 0);
	it_note("drain %s ms with the kill; the long write's client exited %d", it_json_str(it_get(it_report(r), "phases.1.ms")),
		rc);
	json_decref(r);
	json_decref(progress);
	free(msgs);
	switch_back(1);
}

static const struct it_case cases[] = {
	{ "every_client_kind", every_client_kind },
	{ "long_write_waited_for", long_write_waited_for },
	{ "long_write_killed", long_write_killed },
};

Suite *it_window_suite(void)
{
	static const struct it_suite_def def = { "window", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
