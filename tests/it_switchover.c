/* Acceptance tests of the "switchover" issue against real servers (protocol in cutoverd-api(7)):
 * switchovers under write load lose no acknowledged write and never accept a write on the old
 * primary after the new one took one; refusals change nothing; a candidate that hangs, an abort,
 * a failing exec hook and a killed daemon all end with exactly one writable server and the
 * router pointing at it; a second switchover request gets BUSY.  Timings are reported, never
 * asserted. */
#include "it_lib.h"
#include "gtid.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000

Suite *it_switchover_suite(void);

static bool router_writer_is(const char *name);
static void assert_unchanged(const char *ctx, bool db2_replicating, bool db3_replicating);
static void assert_writes_ordered(const char *acks, unsigned old_sid, unsigned new_sid, size_t *n_old, size_t *n_new,
				  size_t *n_err);
static json_t *check_named(json_t *report, const char *check);
static void expect_refusal(json_t *args, const char *code, const char *check, const char *what);
static json_t *start_paused(struct it_conn *c, json_t *args, const char *pause, char *id, size_t idlen);
static void write_hook(const char *path, const char *body);
static char *exec_router_config(const char *drain_hook, const char *promote_hook);
static bool switchover_to(int to, const char *ctx);
static bool lag_above(const char *name, long long ms);
static void assert_fenced(int server);
static bool verdict_is(const char *verdict);
static void reload_and_wait(size_t n_routers);
static bool cluster_seen_with(size_t n_routers);

static void ten_switchovers_under_load(void);
static void refusals_change_nothing(void);
static void candidate_stopped_during_sync(void);
static void candidate_stopped_before_promote(void);
static void abort_during_drain(void);
static void exec_hook_failures(void);
static void daemon_killed_after_fence(void);
static void concurrent_request_busy(void);
static void lagging_candidate_fenced_late(void);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* The server replicates from `source` with both threads running. */
static bool router_writer_is(const char *name)
{
	json_t *st = it_status();
	bool ok = st && !strcmp(it_get_str(it_router(st, "haproxy"), "writer") ?: "", name) &&
		  !strcmp(it_get_str(st, "clusters.0.primary") ?: "", name);
	json_decref(st);
	return ok;
}

/* After a refusal or a rollback: db1 writable and routed (a write through HAProxy lands on
 * it), the replicas still read-only and (when expected) replicating from it. */
static void assert_unchanged(const char *ctx, bool db2_replicating, bool db3_replicating)
{
	char err[512], *writer;
	unsigned sid;

	ck_assert_msg(it_read_only(1) == 0, "%s: db1 is not writable (read_only %d)", ctx, it_read_only(1));
	ck_assert_msg(it_read_only(2) == 1, "%s: db2 is not read-only", ctx);
	ck_assert_msg(it_read_only(3) == 1, "%s: db3 is not read-only", ctx);
	writer = it_haproxy_writer();
	ck_assert_msg(writer && !strcmp(writer, "db1"), "%s: HAProxy's writer is %s", ctx, writer ? writer : "not one server");
	free(writer);
	sid = it_probe_write(err, sizeof(err));
	ck_assert_msg(sid == 1, "%s: a write through HAProxy landed on server_id %u (%s)", ctx, sid, err);
	if (db2_replicating)
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(2, 1)), "%s: db2 does not replicate from db1", ctx);
	if (db3_replicating)
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, 1)), "%s: db3 does not replicate from db1", ctx);
}

/* No write acknowledged by the old primary after the first one the new primary acknowledged:
 * the ids are the order in which the client sent them. */
static void assert_writes_ordered(const char *acks, unsigned old_sid, unsigned new_sid, size_t *n_old, size_t *n_new,
				  size_t *n_err)
{
	size_t n, i;
	struct it_ack *a = it_acks_read(acks, &n);
	long long first_new = -1, last_old = -1;

	*n_old = *n_new = *n_err = 0;
	for (i = 0; i < n; i++) {
		if (!a[i].ok) {
			(*n_err)++;
			continue;
		}
		if (a[i].sid == new_sid) {
			(*n_new)++;
			if (first_new < 0 || a[i].id < first_new)
				first_new = a[i].id;
		} else if (a[i].sid == old_sid) {
			(*n_old)++;
			if (a[i].id > last_old)
				last_old = a[i].id;
		} else {
			ck_abort_msg("%s: write %lld acknowledged by server_id %u, neither %u nor %u", acks, a[i].id,
				     a[i].sid, old_sid, new_sid);
		}
	}
	free(a);
	ck_assert_msg(*n_old > 0 && *n_new > 0, "%s: %zu acks on the old primary, %zu on the new: the load did not "
		      "span the switchover", acks, *n_old, *n_new);
	ck_assert_msg(last_old < first_new, "%s: the old primary (server_id %u) acknowledged write %lld after the new "
		      "one acknowledged %lld", acks, old_sid, last_old, first_new);
}

static json_t *check_named(json_t *report, const char *check)
{
	json_t *x;
	size_t i;

	json_array_foreach(json_object_get(report, "checks"), i, x)
		if (!strcmp(it_get_str(x, "check") ?: "", check))
			return x;
	return NULL;
}

/* A switchover that must be refused with `code` (and, when check is set, a report naming that
 * check as failed), changing nothing. */
static void expect_refusal(json_t *args, const char *code, const char *check, const char *what)
{
	json_t *progress = json_array(), *r = it_switchover(args, SWITCH_TIMEOUT_MS, progress), *c;
	const char *msg;

	ck_assert_msg(r != NULL, "%s: no reply", what);
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", code), "%s: wanted %s, got %s", what, code, it_json_str(r));
	msg = it_get_str(r, "error.message") ?: "";
	ck_assert_msg(*msg, "%s: no message", what);
	if (check) {
		c = check_named(it_report(r), check);
		ck_assert_msg(c && !strcmp(it_get_str(c, "result") ?: "", "fail"), "%s: check %s not failed in %s", what,
			      check, it_json_str(it_report(r)));
		ck_assert_str_eq(it_get_str(it_report(r), "outcome"), "refused");
		it_note("%s → %s: %s; %s: %s", what, code, msg, check, it_get_str(c, "message") ?: "");
	} else {
		ck_assert_msg(json_array_size(progress) == 0, "%s: %zu progress lines before an immediate error", what,
			      json_array_size(progress));
		it_note("%s → %s: %s", what, code, msg);
	}
	json_decref(r);
	json_decref(progress);
}

/* Send a switchover on c and wait until it pauses before `pause`; its id into id. */
static json_t *start_paused(struct it_conn *c, json_t *args, const char *pause, char *id, size_t idlen)
{
	json_t *p, *final = NULL;

	json_object_set_new(args, "pause_before", json_string(pause));
	ck_assert_int_eq(it_conn_request(c, "switchover", args), 0);
	p = it_conn_progress_until(c, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "the switchover did not pause before %s: %s", pause, it_json_str(final));
	snprintf(id, idlen, "%s", it_get_str(p, "progress.id") ?: "");
	ck_assert_msg(!strcmp(it_get_str(p, "progress.phase") ?: "", pause), "paused in phase %s, not before %s",
		      it_get_str(p, "progress.phase") ?: "?", pause);
	return p;
}

static void write_hook(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: cannot create", path);
	fputs(body, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static char *exec_router_config(const char *drain_hook, const char *promote_hook)
{
	char *extra = NULL, *text;
	int n;

	n = asprintf(&extra, "[router hook]\n"
			     "cluster = %s\n"
			     "type = exec\n"
			     "%s%s%s"
			     "exec_promote = %s\n"
			     "timeout = 2s\n",
		     IT_CLUSTER, drain_hook ? "exec_drain = " : "", drain_hook ? drain_hook : "", drain_hook ? "\n" : "",
		     promote_hook);
	ck_assert_int_gt(n, 0);
	text = it_config_text(extra);
	free(extra);
	return text;
}

/* A switchover to `to`, once its lag is known (right after a switchover it is not yet). */
static bool switchover_to(int to, const char *ctx)
{
	json_t *r;
	bool ok;

	if (!IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to)))) {
		it_note("%s: %s's lag stays unknown", ctx, it_name_of(to));
		return false;
	}
	r = it_switchover(json_pack("{s:s, s:i}", "to", it_name_of(to), "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	ok = r && !strcmp(it_get_str(it_report(r), "outcome") ?: "", "done");
	if (!ok)
		it_note("%s: switchover to %s: %s", ctx, it_name_of(to), it_json_str(r));
	json_decref(r);
	return ok;
}

/* The fence cuts client sessions right after the pause is announced, possibly ours while it
 * authenticates: a failed read is tried again. */
static void assert_fenced(int server)
{
	int ro = -1;

	IT_WAIT_UNTIL(3000, (ro = it_read_only(server)) >= 0);
	ck_assert_msg(ro == 1, "%s is not fenced while paused before sync: read_only %d%s%s", it_name_of(server), ro,
		      ro < 0 ? ": " : "", ro < 0 ? it_sql_error() : "");
}

static bool cluster_seen_with(size_t n_routers)
{
	json_t *st = it_status();
	bool ok = st && json_array_size(it_get(st, "clusters.0.routers")) == n_routers &&
		  !strcmp(it_get_str(st, "clusters.0.primary") ?: "", "db1") &&
		  !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK");
	json_decref(st);
	return ok;
}

/* Reload it.conf; a reload starts the observations afresh, so wait until the cluster is known. */
static void reload_and_wait(size_t n_routers)
{
	json_t *r = it_call("reload", NULL, 10000);
	int64_t t0 = it_now_ms();

	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "reload: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(10000, cluster_seen_with(n_routers)),
		      "after the reload, status does not show %zu routers, primary db1 and OK", n_routers);
	it_note("reloaded; cluster known again after %lld ms", (long long)(it_now_ms() - t0));
}

static bool lag_above(const char *name, long long ms)
{
	json_t *st = it_status();
	json_t *lag = json_object_get(it_server(st, name), "lag_ms");
	bool ok = json_is_integer(lag) && json_integer_value(lag) > ms;
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

/* ------------------------------------------------------------------------------------------ */
/* tests */

/* 1. Ten switchovers back and forth under write load. */
static void ten_switchovers_under_load(void)
{
	int run;

	for (run = 0; run < 10; run++) {
		int from = run % 2 ? 2 : 1, to = run % 2 ? 1 : 2, vstatus;
		struct it_load load;
		json_t *r, *rep, *summary, *verify;
		size_t n_old, n_new, n_err;
		char tag[16], *writer;
		struct it_repl rr;
		int64_t t0, lag_wait_ms;

		snprintf(tag, sizeof(tag), "run%d", run);
		/* Right after a switchover the old primary's lag is unknown until the new primary's
		 * first heartbeat reaches it, and candidate_lag refuses an unknown lag. */
		t0 = it_now_ms();
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to))), "run %d: %s's lag stays unknown", run,
			      it_name_of(to));
		lag_wait_ms = it_now_ms() - t0;
		ck_assert_int_eq(it_load_start(&load, tag, 1500), 0);
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, from, (unsigned)from) >= 20),
			      "run %d: the load does not reach %s", run, it_name_of(from));

		r = it_switchover(json_pack("{s:s, s:i}", "to", it_name_of(to), "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS,
				  NULL);
		rep = it_report(r);
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) &&
				      !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
			      "run %d: switchover %s → %s: %s", run, it_name_of(from), it_name_of(to), it_json_str(r));

		ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, to, (unsigned)to) >= 20),
			      "run %d: the load does not reach the new primary %s", run, it_name_of(to));
		summary = it_load_stop(&load);
		ck_assert_msg(summary != NULL, "run %d: no summary from cutover-load", run);

		verify = it_load_verify(&load, to, &vstatus);
		ck_assert_msg(verify && json_integer_value(json_object_get(verify, "acked_missing")) == 0,
			      "run %d: acknowledged writes missing on %s: %s", run, it_name_of(to), it_json_str(verify));
		ck_assert_int_eq(vstatus, 0);
		assert_writes_ordered(load.acks, (unsigned)from, (unsigned)to, &n_old, &n_new, &n_err);

		ck_assert_msg(it_read_only(from) == 1, "run %d: old primary %s is writable", run, it_name_of(from));
		ck_assert_msg(it_read_only(to) == 0, "run %d: new primary %s is read-only", run, it_name_of(to));
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(from, to)), "run %d: %s does not replicate from %s", run,
			      it_name_of(from), it_name_of(to));
		ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, to)), "run %d: db3 does not follow %s", run, it_name_of(to));
		ck_assert_int_eq(it_repl(to, &rr), -1);
		writer = it_haproxy_writer();
		ck_assert_msg(writer && !strcmp(writer, it_name_of(to)), "run %d: HAProxy writer %s", run, writer ? writer : "none");
		free(writer);
		ck_assert_msg(IT_WAIT_UNTIL(5000, router_writer_is(it_name_of(to))),
			      "run %d: status does not show %s as primary and router writer", run, it_name_of(to));

		it_note("run %d %s→%s: write_blocked_ms %s total_ms %s; acks %zu on old, %zu on new, %zu errors; "
			"client window_ms %s longest_gap_ms %s; verify acked %lld missing 0 errored_but_committed %lld; "
			"waited %lld ms for the candidate's lag", run + 1, it_name_of(from), it_name_of(to), it_json_str(json_object_get(rep, "write_blocked_ms")),
			it_json_str(json_object_get(rep, "total_ms")), n_old, n_new, n_err,
			it_json_str(json_object_get(summary, "window_ms")),
			it_json_str(json_object_get(summary, "longest_gap_ms")),
			json_integer_value(json_object_get(verify, "acked")),
			json_integer_value(json_object_get(verify, "errored_but_committed")), (long long)lag_wait_ms);
		json_decref(r);
		json_decref(summary);
		json_decref(verify);
	}
}

/* 2. Refusals: each with a typed error and nothing changed. */
static void refusals_change_nothing(void)
{
	json_t *r;
	int i;

	expect_refusal(json_pack("{s:s}", "to", "db9"), "NOTFOUND", NULL, "candidate does not exist");
	assert_unchanged("after NOTFOUND", true, true);
	expect_refusal(json_pack("{s:s}", "to", "db1"), "INVALID", NULL, "candidate is the primary");
	assert_unchanged("after INVALID", true, true);

	ck_assert_msg(it_sql_exec(3, "STOP SLAVE") == 0, "%s", it_sql_error());
	expect_refusal(json_pack("{s:s}", "to", "db3"), "BADSTATE", "candidate_threads", "candidate not replicating");
	assert_unchanged("after candidate_threads", true, false);
	ck_assert_msg(it_sql_exec(3, "START SLAVE") == 0, "%s", it_sql_error());
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(3, 1)), "db3 does not replicate again after START SLAVE");

	ck_assert_msg(it_sql_exec(2, "STOP SLAVE SQL_THREAD") == 0, "%s", it_sql_error());
	for (i = 0; i < 50; i++) {
		char err[256];
		ck_assert_msg(it_probe_write(err, sizeof(err)) == 1, "write %d through HAProxy: %s", i, err);
	}
	ck_assert_msg(IT_WAIT_UNTIL(5000, lag_above("db2", 100)), "db2's lag does not grow past 100 ms");
	expect_refusal(json_pack("{s:s, s:i}", "to", "db2", "max_lag_ms", 100), "BADSTATE", "candidate_lag",
		       "candidate lagging");
	assert_unchanged("after candidate_lag", false, true);
	ck_assert_msg(it_sql_exec(2, "START SLAVE SQL_THREAD") == 0, "%s", it_sql_error());
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_follows(2, 1) && !lag_above("db2", 100)), "db2 does not catch up");

	r = it_switchover(json_pack("{s:s, s:b}", "to", "db2", "dry_run", 1), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) &&
			      !strcmp(it_get_str(it_report(r), "outcome") ?: "", "dry_run"),
		      "dry run: %s", it_json_str(r));
	it_note("dry run → ok, outcome dry_run, %zu checks", json_array_size(it_get(r, "result.checks")));
	json_decref(r);
	assert_unchanged("after the dry run", true, true);
	ck_assert_msg(IT_WAIT_UNTIL(5000, router_writer_is("db1")), "status no longer shows db1 as primary and writer");
}

/* 3. The candidate hangs (SIGSTOP) during sync: rolled back, db1 writable and routed again. */
static void candidate_stopped_during_sync(void)
{
	struct it_conn *c = it_connect(it.sock), *c2;
	json_t *p, *r, *progress = json_array();
	char id[128], err[256], *writer;
	unsigned sid;
	int64_t t0;

	ck_assert_ptr_nonnull(c);
	p = start_paused(c, json_pack("{s:s, s:i, s:i}", "to", "db2", "drain_timeout_ms", 200, "sync_timeout_ms", 1000),
			 "sync", id, sizeof(id));
	it_note("paused: %s", it_get_str(p, "progress.message") ?: "");
	json_decref(p);
	assert_fenced(1);
	ck_assert_int_eq(it_server_stop(2), 0);

	c2 = it_connect(it.sock);
	ck_assert_ptr_nonnull(c2);
	ck_assert_int_eq(it_conn_request(c2, "resume", NULL), 0);
	r = it_conn_recv(c2, 5000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resume: %s", it_json_str(r));
	json_decref(r);
	it_conn_close(c2);

	t0 = it_now_ms();
	r = it_conn_reply(c, 30000, progress);
	ck_assert_msg(r != NULL, "no final reply within 30 s of resuming with db2 stopped");
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "FAILED") &&
			      !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back"),
		      "wanted FAILED/rolled_back: %s", it_json_str(r));
	it_note("db2 stopped during sync: rolled back %lld ms after resume: %s", (long long)(it_now_ms() - t0),
		it_get_str(r, "error.message") ?: "");
	json_decref(r);
	json_decref(progress);
	it_conn_close(c);

	ck_assert_msg(it_read_only(1) == 0, "db1 is not writable after the rollback");
	writer = it_haproxy_writer();
	ck_assert_msg(writer && !strcmp(writer, "db1"), "HAProxy's writer after the rollback: %s", writer ? writer : "none");
	free(writer);
	ck_assert_msg(IT_WAIT_UNTIL(5000, router_writer_is("db1")), "status does not show db1 as writer");

	ck_assert_int_eq(it_server_signal(2, SIGCONT), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, it_follows(2, 1)), "db2 does not replicate from db1 after SIGCONT");
	sid = it_probe_write(err, sizeof(err));
	ck_assert_msg(sid == 1, "a write through HAProxy after the rollback: server_id %u (%s)", sid, err);
	assert_unchanged("after the rollback", true, true);
	it_note("after SIGCONT: db2 replicates from db1; writes through HAProxy land on db1");
}

/* 3b. The candidate hangs right before promote: the statement that makes it writable reaches a
 * stopped server and times out, its outcome unknown.  The daemon must not make db1 writable
 * again while db2 might still run that statement: it reports the failure, leaves db1 read-only
 * on purpose and says what to do; once db2 runs again there is still at most one writable
 * server. */
static void candidate_stopped_before_promote(void)
{
	struct it_conn *c = it_connect(it.sock), *c2;
	json_t *p, *r;
	char id[128], *writer;
	int64_t t0;
	int i, worst = 0;

	ck_assert_ptr_nonnull(c);
	p = start_paused(c, json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), "promote", id, sizeof(id));
	json_decref(p);
	assert_fenced(1);
	ck_assert_int_eq(it_server_stop(2), 0);
	c2 = it_connect(it.sock);
	ck_assert_ptr_nonnull(c2);
	ck_assert_int_eq(it_conn_request(c2, "resume", NULL), 0);
	r = it_conn_recv(c2, 5000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resume: %s", it_json_str(r));
	json_decref(r);
	it_conn_close(c2);

	t0 = it_now_ms();
	r = it_conn_reply(c, 60000, NULL);
	ck_assert_msg(r != NULL, "no final reply within 60 s of resuming with db2 stopped");
	it_note("db2 stopped before promote: %s after %lld ms: %s", it_get_str(it_report(r), "outcome") ?: "?",
		(long long)(it_now_ms() - t0), it_get_str(r, "error.message") ?: it_json_str(r));
	ck_assert_msg(!json_is_true(json_object_get(r, "ok")), "the switchover succeeded with db2 stopped: %s",
		      it_json_str(r));
	ck_assert_str_eq(it_get_str(it_report(r), "outcome") ?: "?", "failed");
	ck_assert_msg(strstr(it_json_str(json_object_get(it_report(r), "next_steps")), "left read-only on purpose"),
		      "the report does not explain why db1 stays read-only: %s",
		      it_json_str(json_object_get(it_report(r), "next_steps")));
	json_decref(r);
	it_conn_close(c);
	/* db1 stays fenced while db2's fate is unknown: no writable server, never two */
	ck_assert_msg(it_read_only(1) == 1, "db1 was made writable although db2 may still turn writable");
	ck_assert_int_le(it_writable_count(), 1);
	writer = it_haproxy_writer();
	it_note("db1 left read-only; HAProxy's writer: %s", writer ? writer : "none");
	free(writer);

	ck_assert_int_eq(it_server_signal(2, SIGCONT), 0);
	/* What db2 had queued runs now; watch for a while. */
	for (i = 0; i < 20; i++) {
		int n = it_writable_count();
		worst = n > worst ? n : worst;
		it_sleep_ms(100);
	}
	it_note("after SIGCONT: db2 read_only %d, at most %d writable server(s) over 2 s", it_read_only(2), worst);
	if (worst > 1) {
		json_t *st;
		IT_WAIT_UNTIL(3000, verdict_is("CRIT"));
		st = it_status();
		it_note("cutoverd then says: verdict %s, reasons %s, alarms %s", it_get_str(st, "clusters.0.verdict") ?: "?",
			it_json_str(it_get(st, "clusters.0.reasons")), it_json_str(it_get(st, "clusters.0.alarms")));
		json_decref(st);
	}
	ck_assert_msg(worst <= 1, "%d writable servers after db2 resumed (db1 %d, db2 %d): the statements queued for "
		      "the stopped candidate made it writable after the rollback", worst, it_read_only(1) == 0,
		      it_read_only(2) == 0);
}

/* 4. Abort while drain waits for a client's session: rolled back, router restored. */
static void abort_during_drain(void)
{
	struct it_conn *c, *c2;
	struct it_load load;
	json_t *p, *r, *summary, *verify, *final = NULL;
	char *s1, *s2;
	int vstatus;

	char out[400];
	pid_t pid;

	ck_assert_int_eq(it_load_start(&load, "drain", 1500), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 20), "the load does not reach db1");
	/* a long write keeps the drain waiting (about 3 s of one INSERT … SELECT) */
	snprintf(out, sizeof(out), "%s/drain-long-write.out", it.dir);
	pid = it_bg_sql("INSERT INTO app.writes (id, client_ts, server_id) SELECT 8200000000000000 + seq, SLEEP(0.001), "
			"@@server_id FROM app.seq_1_to_3000", out);
	ck_assert_int_gt(pid, 0);
	it_sleep_ms(300);
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 5000)), 0);
	/* the drain says what it waits for (an info line), then waits */
	for (;;) {
		p = it_conn_progress_until(c, "info", 10000, &final);
		ck_assert_msg(p != NULL, "no drain progress: %s", it_json_str(final));
		if (!strcmp(it_get_str(p, "progress.phase") ?: "", "drain"))
			break;
		json_decref(p);
	}
	it_note("drain: %s", it_get_str(p, "progress.message") ?: "");
	json_decref(p);
	it_sleep_ms(300);

	c2 = it_connect(it.sock);
	ck_assert_ptr_nonnull(c2);
	ck_assert_int_eq(it_conn_request(c2, "abort", NULL), 0);
	r = it_conn_recv(c2, 5000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "abort: %s", it_json_str(r));
	ck_assert_msg(!strcmp(it_get_str(r, "result.phase") ?: "", "drain"), "aborted in phase %s, not drain",
		      it_get_str(r, "result.phase") ?: "?");
	it_note("abort → %s", it_json_str(json_object_get(r, "result")));
	json_decref(r);
	it_conn_close(c2);

	r = it_conn_reply(c, 20000, NULL);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "FAILED") &&
			      !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back"),
		      "wanted FAILED/rolled_back after abort: %s", it_json_str(r));
	it_note("switchover: %s", it_get_str(r, "error.message") ?: "");
	json_decref(r);
	it_conn_close(c);

	s1 = it_haproxy_state("db1");
	s2 = it_haproxy_state("db2");
	ck_assert_msg(s1 && !strncmp(s1, "UP", 2), "db1 in HAProxy after the abort: %s (wanted UP)", s1 ? s1 : "?");
	ck_assert_msg(s2 && !strncmp(s2, "MAINT", 5), "db2 in HAProxy after the abort: %s (wanted MAINT)", s2 ? s2 : "?");
	it_note("HAProxy after the abort: db1 %s, db2 %s", s1, s2);
	free(s1);
	free(s2);

	summary = it_load_stop(&load);
	verify = it_load_verify(&load, 1, &vstatus);
	ck_assert_msg(verify && json_integer_value(json_object_get(verify, "acked_missing")) == 0,
		      "acknowledged writes missing on db1: %s", it_json_str(verify));
	it_note("load: %s; verify on db1: %s", it_json_str(summary), it_json_str(verify));
	json_decref(summary);
	json_decref(verify);
	ck_assert_msg(it_bg_wait(pid, 10000) == 0, "the long write did not commit after the abort");
	ck_assert_int_eq(it_sql_ll(1, -1, "SELECT COUNT(*) FROM app.writes WHERE id > 8200000000000000"), 3000);
	assert_unchanged("after the abort", true, true);
}

/* 5. Exec router hooks that fail: drain → rolled back, nothing changed; promote → failed after
 * the point of no return, with next steps, and never two writable servers. */
static void exec_hook_failures(void)
{
	char hooks[400], fail_hook[450], ok_hook[450], envfile[460], body[1200], *conf, *env;
	json_t *r, *rep, *x;
	size_t i;
	int writable = 0, k;

	snprintf(hooks, sizeof(hooks), "%s/hooks", it.dir);
	snprintf(fail_hook, sizeof(fail_hook), "%s/fail-hook", hooks);
	snprintf(ok_hook, sizeof(ok_hook), "%s/ok-hook", hooks);
	snprintf(envfile, sizeof(envfile), "%s/fail-hook.env", hooks);
	ck_assert(mkdir(hooks, 0755) == 0 || access(hooks, F_OK) == 0);
	ck_assert_int_eq(chmod(hooks, 0755), 0);
	snprintf(body, sizeof(body), "#!/bin/sh\nenv > %s\necho \"failing on purpose in step $CUTOVER_STEP\"\nexit 3\n",
		 envfile);
	write_hook(fail_hook, body);
	write_hook(ok_hook, "#!/bin/sh\nexit 0\n");

	/* A failing exec_drain: before the fence, so everything is rolled back. */
	conf = exec_router_config(fail_hook, ok_hook);
	ck_assert_int_eq(it_config_write(conf), 0);
	free(conf);
	reload_and_wait(2);
	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "FAILED") &&
			      !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back"),
		      "failing exec_drain: wanted FAILED/rolled_back: %s", it_json_str(r));
	it_note("failing exec_drain → rolled_back: %s", it_get_str(r, "error.message") ?: "");
	json_decref(r);
	env = NULL;
	{
		FILE *f = fopen(envfile, "r");
		ck_assert_msg(f != NULL, "the drain hook did not run (no %s)", envfile);
		env = calloc(1, 8192);
		(void)!fread(env, 1, 8191, f);
		fclose(f);
	}
	ck_assert_msg(strstr(env, "CUTOVER_STEP=drain") && strstr(env, "CUTOVER_NEW_PRIMARY=db2") &&
			      strstr(env, "CUTOVER_OLD_PRIMARY=db1"),
		      "the hook's environment: %s", env);
	free(env);
	unlink(envfile);
	assert_unchanged("after the failing exec_drain", true, true);

	/* A failing exec_promote: after the candidate became writable. */
	conf = exec_router_config(NULL, fail_hook);
	ck_assert_int_eq(it_config_write(conf), 0);
	free(conf);
	reload_and_wait(2);
	r = it_switchover(json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "FAILED") && !strcmp(it_get_str(rep, "outcome") ?: "", "failed"),
		      "failing exec_promote: wanted FAILED/failed: %s", it_json_str(r));
	ck_assert_msg(json_array_size(json_object_get(rep, "next_steps")) > 0, "no next_steps: %s", it_json_str(rep));
	ck_assert_msg(json_array_size(json_object_get(rep, "servers")) == IT_SERVERS, "no servers: %s", it_json_str(rep));
	for (k = 1; k <= IT_SERVERS; k++)
		writable += it_read_only(k) == 0;
	it_note("failing exec_promote → failed: %s", it_get_str(r, "error.message") ?: "");
	json_array_foreach(json_object_get(rep, "next_steps"), i, x)
		it_note("  next step: %s", json_string_value(x));
	it_note("  servers: %s; writable now: db1 %d db2 %d db3 %d", it_json_str(json_object_get(rep, "servers")),
		it_read_only(1) == 0, it_read_only(2) == 0, it_read_only(3) == 0);
	ck_assert_msg(writable == 1, "%d writable servers after the failed promote", writable);
	ck_assert_msg(access(envfile, F_OK) == 0, "the promote hook did not run");
	/* The report is what a person acts on: it must say which server is writable now. */
	json_array_foreach(json_object_get(rep, "servers"), i, x) {
		const char *name = it_get_str(x, "name") ?: "?";
		int ro = it_read_only(name[2] - '0');
		ck_assert_msg(json_is_boolean(json_object_get(x, "read_only")) &&
				      json_is_true(json_object_get(x, "read_only")) == (ro == 1),
			      "the failure report says %s read_only %s, but the server has read_only %d: %s", name,
			      it_json_str(json_object_get(x, "read_only")), ro, it_json_str(json_object_get(rep, "servers")));
	}
	json_decref(r);

	/* Back to the base config on a fresh sandbox: what a failed promote leaves is for a person. */
	ck_assert(it_restore_baseline(true, "after the failed promote"));
}

/* 6. cutoverd killed with SIGKILL after the fence: on restart it rolls the switchover back. */
static void daemon_killed_after_fence(void)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *p, *st, *h, *x, *found = NULL;
	char id[128], line[300], *writer = NULL;
	int64_t t0;
	long mark;
	size_t i;

	ck_assert_ptr_nonnull(c);
	p = start_paused(c, json_pack("{s:s, s:i}", "to", "db2", "drain_timeout_ms", 200), "sync", id, sizeof(id));
	json_decref(p);
	assert_fenced(1);
	it_daemon_kill9();
	it_conn_close(c);
	it_note("switchover %s paused before sync, db1 fenced; cutoverd killed with SIGKILL", id);

	t0 = it_now_ms();
	mark = it_daemon_log_mark();
	ck_assert_int_eq(it_daemon_start(), 0);
	st = it_status();
	it_note("after the restart, status cutover: %s", it_json_str(it_get(st, "clusters.0.cutover")));
	json_decref(st);
	snprintf(line, sizeof(line), "found interrupted switchover %s", id);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_daemon_log_since(mark, line)), "the restarted daemon does not log '%s'", line);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_read_only(1) == 0), "db1 not writable again after the restart");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (free(writer), writer = it_haproxy_writer()) && !strcmp(writer, "db1")),
		      "HAProxy's writer after recovery: %s (db1 state %s)", writer ? writer : "not one server",
		      it_haproxy_state("db1"));
	free(writer);
	it_note("recovered in %lld ms: db1 writable, HAProxy writer db1", (long long)(it_now_ms() - t0));
	h = it_call_result("history", NULL);
	json_array_foreach(it_get(h, "switchovers"), i, x)
		if (!strcmp(it_get_str(x, "id") ?: "", id))
			found = x;
	ck_assert_msg(found != NULL, "switchover %s not in history: %s", id, it_json_str(h));
	ck_assert_msg(!strcmp(it_get_str(found, "outcome") ?: "", "rolled_back"), "history: %s", it_json_str(found));
	it_note("history: %s", it_json_str(found));
	json_decref(h);
	ck_assert_msg(IT_WAIT_UNTIL(10000, router_writer_is("db1")), "status does not show db1 as primary and writer");
	assert_unchanged("after recovery", true, true);

	ck_assert_msg(switchover_to(2, "after recovery"), "a new switchover to db2 fails after the recovery");
	ck_assert_msg(IT_WAIT_UNTIL(10000, router_writer_is("db2")), "status does not show db2 as writer");
	ck_assert_msg(switchover_to(1, "after recovery"), "switching back to db1 fails");
	it_note("new switchovers db1→db2→db1 work after the recovery");
}

/* 7. A second switchover request while one runs gets BUSY. */
static void concurrent_request_busy(void)
{
	struct it_conn *c = it_connect(it.sock), *c2;
	json_t *p, *r;
	char id[128];

	ck_assert_ptr_nonnull(c);
	p = start_paused(c, json_pack("{s:s}", "to", "db2"), "drain", id, sizeof(id));
	json_decref(p);
	c2 = it_connect(it.sock);
	ck_assert_ptr_nonnull(c2);
	ck_assert_int_eq(it_conn_request(c2, "switchover", json_pack("{s:s}", "to", "db3")), 0);
	r = it_conn_reply(c2, 5000, NULL);
	ck_assert_msg(!strcmp(it_err_code(r) ?: "", "BUSY"), "second switchover: %s", it_json_str(r));
	it_note("second switchover → BUSY: %s", it_get_str(r, "error.message") ?: "");
	json_decref(r);

	ck_assert_int_eq(it_conn_request(c2, "abort", NULL), 0);
	r = it_conn_recv(c2, 5000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "abort: %s", it_json_str(r));
	json_decref(r);
	it_conn_close(c2);
	r = it_conn_reply(c, 20000, NULL);
	ck_assert_msg(r && !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back"), "first switchover after "
		      "abort: %s", it_json_str(r));
	it_note("first switchover (%s) aborted → rolled_back", id);
	json_decref(r);
	it_conn_close(c);
	assert_unchanged("after the abort", true, true);
}

/* 9. A candidate seconds behind when the switchover is asked for (orchestrator #1482): the old
 * primary is never made read-only while the candidate is still applying the old primary's
 * transactions; it waits in catch-up with writes flowing, then fences.  Sampled every few
 * milliseconds: whenever db1 is read-only, db2 already holds the big transaction. */
static void lagging_candidate_fenced_late(void)
{
	struct it_conn *c;
	json_t *m, *report = NULL, *progress = json_array();
	char *big_pos, *pos2, *ro;
	int samples = 0, fenced_samples = 0, early = 0, rounds = 0;
	size_t k;
	json_t *p;

	ck_assert_msg(it_sql_exec(1, "CREATE TABLE IF NOT EXISTS app.lagfill (id INT PRIMARY KEY, pad CHAR(200)) "
				     "ENGINE=InnoDB") == 0, "%s", it_sql_error());
	ck_assert_msg(it_sql_exec(1, "INSERT INTO app.lagfill SELECT seq, REPEAT('x', 200) FROM app.seq_1_to_300000") == 0,
		      "%s", it_sql_error());
	big_pos = it_sql1(1, "SELECT @@gtid_binlog_pos");
	ck_assert_ptr_nonnull(big_pos);
	pos2 = it_sql1(2, "SELECT @@gtid_slave_pos");
	it_note("the big transaction is %s on db1; db2 is at %s", big_pos, pos2 ? pos2 : "?");
	ck_assert_msg(pos2 && gtid_str_contains(GTID_MARIADB, pos2, big_pos) != 1,
		      "db2 already applied the big transaction: nothing to wait for");
	free(pos2);

	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:i, s:i}", "to", "db2", "max_lag_ms", 60000,
								   "drain_timeout_ms", 100)), 0);
	for (;;) {
		m = it_conn_recv(c, 5);
		if (m && json_object_get(m, "progress")) {
			json_array_append(progress, json_object_get(m, "progress"));
			json_decref(m);
		} else if (m) {
			report = m;
			break;
		} else if (it_conn_eof(c)) {
			break;
		}
		ro = it_sql1(1, "SELECT @@global.read_only");
		pos2 = it_sql1(2, "SELECT @@gtid_slave_pos");
		if (ro && pos2) {
			samples++;
			if (!strcmp(ro, "1")) {
				fenced_samples++;
				early += gtid_str_contains(GTID_MARIADB, pos2, big_pos) != 1;
			}
		}
		free(ro);
		free(pos2);
	}
	ck_assert_msg(report != NULL, "no final reply");
	ck_assert_msg(json_is_true(json_object_get(report, "ok")), "the switchover failed: %s", it_json_str(report));
	json_array_foreach(progress, k, p)
		rounds += strstr(it_get_str(p, "message") ?: "", "to reach the primary's position; again") != NULL;
	it_note("%d samples; db1 read-only in %d of them; %d catch-up rounds before the fence; write_blocked %.1f ms",
		samples, fenced_samples, rounds + 1,
		json_real_value(json_object_get(it_report(report), "write_blocked_ms")));
	ck_assert_msg(early == 0, "db1 was read-only in %d samples while db2 had not applied %s yet", early, big_pos);
	ck_assert_msg(samples > 10, "too few samples (%d) to tell", samples);
	json_decref(report);
	json_decref(progress);
	it_conn_close(c);
	free(big_pos);
	ck_assert_msg(switchover_to(1, "back to db1"), "the switchover back to db1 failed");
}

static const struct it_case cases[] = {
	{ "ten_switchovers_under_load", ten_switchovers_under_load },
	{ "refusals_change_nothing", refusals_change_nothing },
	{ "candidate_stopped_during_sync", candidate_stopped_during_sync },
	{ "candidate_stopped_before_promote", candidate_stopped_before_promote },
	{ "abort_during_drain", abort_during_drain },
	{ "exec_hook_failures", exec_hook_failures },
	{ "daemon_killed_after_fence", daemon_killed_after_fence },
	{ "concurrent_request_busy", concurrent_request_busy },
	{ "lagging_candidate_fenced_late", lagging_candidate_fenced_late },
};

Suite *it_switchover_suite(void)
{
	static const struct it_suite_def def = { "switchover", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
