/* fence, the step: the old primary becomes read-only under a deadline, every commit on it is
 * held where read_only does not stop every account, the fence point is read, and the sessions
 * that could still commit are cut.  (Fencing a server outside a cutover: ../fence.c.) */
#include "daemon.h"
#include "datacheck.h"
#include "db.h"
#include "engine.h"
#include "fence.h"
#include "event_hooks.h"
#include "gtid.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* fence */

/* Sessions to cut on the old primary once it is read-only: every client session when
 * kill_sessions is on, and always those that could still commit — the accounts read_only
 * does not stop, and any session waiting on the commit hold.  Never ours, never the monitoring
 * account's, never replication threads (the SQL filters those). */
static bool must_cut(const struct switchover *sw, const char *user, const char *state)
{
	size_t i;
	json_t *u;

	if (sw_ccfg(sw)->kill_sessions)
		return true;
	if (state && !strcmp(state, "Waiting for backup lock"))
		return true;
	json_array_foreach(sw->privileged_users, i, u)
		if (user && !strcmp(user, json_string_value(u)))
			return true;
	return false;
}

static void kill_from(struct switchover *sw, size_t first);

static void cut_done(struct switchover *sw)
{
	void (*then)(struct switchover *) = sw->cut_then;
	sw->cut_then = NULL;
	if (then)
		then(sw);
}

/* One batch of KILLs stops at its first error; a session that ended by itself meanwhile
 * ("Unknown thread id", 1094) must not spare the ones after it. */
static void sessions_killed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	size_t next = sw->kill_next + res->failed + 1;

	if (res->err && res->err != 1094)
		sw_emit(sw, "warn", "cutting sessions on %s: %s", sw->old_name, res->errmsg);
	if (res->err && next < sw->n_kills && db_connected(sw->db_kill)) {
		db_result_free(res);
		kill_from(sw, next);
		return;
	}
	db_result_free(res);
	cut_done(sw);
}

static void kill_from(struct switchover *sw, size_t first)
{
	sw->kill_next = first;
	sw_db_run(sw, sw->db_kill, (const char *const *)sw->kills + first, sw->n_kills - first, sw->d->cfg->query_timeout_ms,
	       sessions_killed);
}

void sw_kills_clear(struct switchover *sw)
{
	size_t i;
	for (i = 0; i < sw->n_kills; i++)
		free(sw->kills[i]);
	free(sw->kills);
	free(sw->kill_ids);
	sw->kills = NULL;
	sw->kill_ids = NULL;
	sw->n_kills = sw->kill_next = 0;
}

static void sessions_listed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *fo = sw_flavor_of(sw->old);
	size_t r;
	unsigned long own[3] = { db_thread_id(sw->db_old), db_thread_id(sw->db_kill), datacheck_ref_thread(sw->dc) };

	sw_kills_clear(sw);
	if (res->err) {
		sw_emit(sw, "warn", "listing sessions on %s: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		cut_done(sw);
		return;
	}
	for (r = 0; r < res->rs[0]->nrows; r++) {
		long long id;
		const char *user = rowset_at(res->rs[0], r, 1), *state = rowset_at(res->rs[0], r, 6);
		if (!parse_ll(rowset_at(res->rs[0], r, 0), 1, LLONG_MAX, &id))
			continue;
		if ((unsigned long)id == own[0] || (unsigned long)id == own[1] || (unsigned long)id == own[2] ||
		    (user && !strcmp(user, sw->old->cfg->user)) || !must_cut(sw, user, state))
			continue;
		sw->kills = xrealloc(sw->kills, (sw->n_kills + 1) * sizeof(char *));
		sw->kills[sw->n_kills++] = xasprintf(fo->sql[SQL_KILL_SESSION], (unsigned long long)id);
		sw->kill_ids = xrealloc(sw->kill_ids, sw->n_kills * sizeof(*sw->kill_ids));
		sw->kill_ids[sw->n_kills - 1] = (unsigned long long)id;
	}
	db_result_free(res);
	if (!sw->n_kills) {
		cut_done(sw);
		return;
	}
	sw_emit(sw, "info", "cutting %zu client session%s on %s", sw->n_kills, sw->n_kills == 1 ? "" : "s", sw->old_name);
	kill_from(sw, 0);
}

/* Cut the sessions must_cut() names on the old primary, then `then` (may be NULL).  Whatever
 * the kill connection was still doing is abandoned: a new list supersedes an older one. */
void sw_cut_sessions(struct switchover *sw, void (*then)(struct switchover *))
{
	sw_io.cancel(sw->db_kill);
	sw->cut_then = then;
	sw_db_run1(sw, sw->db_kill, sw_flavor_of(sw->old)->sql[SQL_LIST_SESSIONS], sw->d->cfg->query_timeout_ms,
		sessions_listed);
}

/* The routers that refuse new work (HAProxy) stop sending it to the old primary once it is
 * read-only, in parallel with sync; promote waits for them.  Those that hold it (ProxySQL) were
 * drained just before the fence (fence_begin). */
static void router_drained(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;

	if (err && !sw->drain_error)
		sw->drain_error = xasprintf("router %s could not drain %s: %s", r->cfg->name, sw->old_name, msg ? msg : "?");
	else if (!err)
		sw_emit(sw, "ok", "router %s: %s drained", r->cfg->name, sw->old_name);
	if (--sw->router_drains == 0 && sw->promote_waiting) {
		sw->promote_waiting = false;
		enter_promote(sw);
	}
}

static void fence_attempt(struct switchover *sw);
static void fence_begin(struct switchover *sw);

static void fence_wait_round(struct switchover *sw);

/* A router that holds new work took the old primary out: from now on its clients' queries wait
 * in the router for the new primary instead of failing on a read-only server. */
static void holding_drained(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;

	if (err && !sw->drain_error)
		sw->drain_error = xasprintf("router %s could not drain %s: %s", r->cfg->name, sw->old_name, msg ? msg : "?");
	else if (!err)
		sw_emit(sw, "ok", "router %s: %s drained; new queries wait for %s (%s)", r->cfg->name, sw->old_name,
			sw->new_name, msg ? msg : "");
	if (--sw->holding_drains > 0 || sw_should_stop(sw))
		return;
	if (sw->drain_error) {
		sw_phase_failed(sw, "%s", sw->drain_error);
		return;
	}
	fence_attempt(sw);
}

/* Each try of the fence: the routers that hold new work first, then read_only. */
static void fence_begin(struct switchover *sw)
{
	sw->window_start_us = now_mono_us();
	sw->holding_drains = sw_routers_some(sw, ROUTER_OP(drain), holding_drained, true);
	sw->held_first = sw->holding_drains > 0;
	if (sw->held_first)
		sw->drained = true;   /* from here on, rollback restores the routers (they answer later) */
	if (!sw->holding_drains)
		fence_attempt(sw);
}

/* A try was undone: the routers that held new work let it through again while we wait. */
static void holding_restored(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;

	if (err && !sw->drain_error)
		sw->drain_error = xasprintf("router %s could not undo its drain of %s: %s", r->cfg->name, sw->old_name,
					    msg ? msg : "?");
	if (--sw->holding_drains > 0 || sw_should_stop(sw))
		return;
	if (sw->drain_error) {
		sw_phase_failed(sw, "%s", sw->drain_error);
		return;
	}
	fence_wait_round(sw);
}

static void fence_wait_again(evutil_socket_t fd, short what, void *arg)
{
	fence_wait_round(arg);
}

/* Between tries: writes flow until no write statement runs longer than the budget. */
static void fence_blockers_listed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	bool blocked = !res->err && res->rs[0]->nrows > 0;

	if (res->err) {
		sw_phase_failed(sw, "listing what holds the fence up on %s: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	if (sw_should_stop(sw))
		return;
	if (!blocked) {
		fence_begin(sw);
		return;
	}
	if (now_mono_us() >= sw->fence_deadline_us) {
		sw_phase_failed(sw, "%s could not be made read-only within %d ms: write statements kept holding it up "
				    "(each try was undone after %d ms)", sw->old_name, sw_ccfg(sw)->fence_timeout_ms,
				sw_ccfg(sw)->fence_budget_ms);
		return;
	}
	sw_timer_arm(sw, POLL_STEP_MS, fence_wait_again);
}

static void fence_wait_round(struct switchover *sw)
{
	sw_list_long_writes(sw, fence_blockers_listed);
}

static void fence_undone(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *ro = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	double stall = sw_ms_since(sw->window_start_us);

	if (!ro || strcmp(ro, "0")) {
		sw_phase_failed(sw, "a try of the fence held up past its budget could not be undone (%s)",
				res->err ? res->errmsg : "read_only still on");
		db_result_free(res);
		return;
	}
	db_result_free(res);
	if (stall > sw->fence_stalls_ms)
		sw->fence_stalls_ms = stall;
	sw_emit(sw, "info", "the fence was held up past its budget (%d ms) and undone: writes were held %.1f ms and "
			    "flow again; trying again once nothing holds it up", sw_ccfg(sw)->fence_budget_ms, stall);
	sw->holding_drains = sw_routers_some(sw, ROUTER_OP(rollback), holding_restored, true);
	if (!sw->holding_drains)
		fence_wait_round(sw);
}

static void fence_killed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *q[2] = { sw_flavor_of(sw->old)->sql[SQL_UNFENCE], "SELECT @@global.read_only" };

	db_result_free(res);   /* "Unknown thread id": it ended meanwhile */
	sw_db_run(sw, sw->db_kill, q, 2, sw->d->cfg->query_timeout_ms, fence_undone);
}

/* A try held up past its budget: its statement is killed (it would hold every write behind it)
 * and, had it got through after all, read_only is turned off again; dropping the connection
 * released the commit hold. */
static void fence_undo(struct switchover *sw)
{
	char *q;

	sw_io.cancel(sw->db_kill);
	if (!sw->fence_tid) {   /* no statement to kill: undo what it may have done */
		fence_killed(NULL, xcalloc(1, sizeof(struct db_result)), sw);
		return;
	}
	q = xasprintf(sw_flavor_of(sw->old)->sql[SQL_KILL_QUERY], (unsigned long long)sw->fence_tid);
	sw_db_run1(sw, sw->db_kill, q, sw->d->cfg->query_timeout_ms, fence_killed);
	free(q);
}

static void fenced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *pos;

	if (res->err == DB_ERR_TIMEOUT && now_mono_us() < sw->fence_deadline_us) {
		db_result_free(res);
		fence_undo(sw);
		return;
	}
	if (res->err) {
		sw_phase_failed(sw, "making %s read-only: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	sw->fenced = true;
	pos = rowset_at(res->rs[res->n - 1], 0, 0);
	sw->fence_point = xstrdup(pos ? pos : "");
	db_result_free(res);
	if (sw_journal(sw, JE_FENCED, false, json_pack("{s:s, s:i}", "fence_point", sw->fence_point, "attempts",
							 sw->fence_attempts)) < 0) {
		sw_phase_failed(sw, "%s", sw->journal_error);
		return;
	}
	sw_emit(sw, "ok", "%s is read-only%s at %s (%.1f ms%s)", sw->old_name, sw->holding ? ", its commits held," : "",
		sw->fence_point, sw_ms_since(sw->fence_start_us), sw->fence_attempts > 1 ? ", after tries undone" : "");
	sw->drained = true;
	sw->router_drains = sw_routers_some(sw, ROUTER_OP(drain), router_drained, false);
	/* in parallel with sync; while commits are held, a cut session's statement fails */
	sw_cut_sessions(sw, NULL);
	if (sw_should_stop(sw))
		return;
	sw_phase_next(sw);
}

/* One try: read_only, then (where read_only does not stop every account) hold every commit, then
 * read the fence point — within the fence budget.  Nothing can commit on the old primary after
 * the fence point is read, whoever asks, until the hold is released once the new primary takes
 * the writes (after_routing). */
static void fence_attempt(struct switchover *sw)
{
	const char *q[4];
	size_t n = fence_sql_window(sw_flavor_of(sw->old), q, &sw->holding);

	sw->fence_attempts++;
	sw->fence_tid = db_thread_id(sw->db_old);
	sw->fence_start_us = now_mono_us();
	sw_db_run(sw, sw->db_old, q, n, sw_ccfg(sw)->fence_budget_ms, fenced);
}

void enter_fence(struct switchover *sw)
{
	sw->c->hb_paused = true;
	sw->fence_started = true;
	sw->fence_deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->fence_timeout_ms * 1000;
	if (!db_connected(sw->db_old)) {   /* the budget is for the fence, not for a connect */
		fence_wait_round(sw);
		return;
	}
	fence_begin(sw);
}

/* ------------------------------------------------------------------------------------------ */
/* the failover's: fence the dead primary (../fence.c: SQL if it answers, then its fence hook,
 * then its STONITH hook); failing all, only the operator's word (assume_fenced) lets it go on */

static void f_fenced(void *arg, bool ok, const char *by, const char *msg)
{
	struct switchover *sw = arg;

	sw->fence_op = NULL;
	if (ok) {
		sw->fenced = true;
		if (sw_journal(sw, JE_FENCED, true, json_pack("{s:s}", "by", by)) < 0) {
			sw_phase_failed(sw, "%s", sw->journal_error);
			return;
		}
		sw_emit(sw, "ok", "%s fenced (%s): %s", sw->old_name, by, msg);
		sw_phase_next(sw);
		return;
	}
	if (sw->assume_fenced) {
		sw_emit(sw, "warn", "%s; going on because the operator said it cannot take writes", msg);
		if (sw_journal(sw, JE_FENCED, true, json_pack("{s:s}", "by", "operator")) < 0) {
			sw_phase_failed(sw, "%s", sw->journal_error);
			return;
		}
		sw_phase_next(sw);
		return;
	}
	sw_phase_failed(sw, "%s. Fence it yourself and pass assume_fenced (cutoverctl failover --assume-fenced) if it "
			    "cannot take writes", msg);
}

void f_enter_fence(struct switchover *sw)
{
	char *reason = xasprintf("%s failover of %s to %s", sw->automatic ? "automatic" : "emergency", sw->old_name,
				 sw->new_name);
	/* the report's write-blocked time runs from here to the new primary being routed */
	sw->fence_start_us = sw->window_start_us = now_mono_us();
	sw->fence_op = fence_start(sw->d, sw->c, sw->old, FENCE_BY_SQL | FENCE_BY_HOOK | FENCE_BY_STONITH, reason,
				   f_fenced, sw);
	free(reason);
}
/* ------------------------------------------------------------------------------------------ */
