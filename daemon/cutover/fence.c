/* fence, the step: the old primary becomes read-only under a deadline, every commit on it is
 * held where read_only does not stop every account, the fence point is read, and the sessions
 * that could still commit are cut.  (Fencing a server outside a cutover: ../fence.c.) */
#include "daemon.h"
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
	unsigned long own[2] = { db_thread_id(sw->db_old), db_thread_id(sw->db_kill) };

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
		if ((unsigned long)id == own[0] || (unsigned long)id == own[1] ||
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
	db_cancel(sw->db_kill);
	sw->cut_then = then;
	sw_db_run1(sw, sw->db_kill, sw_flavor_of(sw->old)->sql[SQL_LIST_SESSIONS], sw->d->cfg->query_timeout_ms,
		sessions_listed);
}

static void fenced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *pos;

	if (res->err) {
		sw_phase_failed(sw, "making %s read-only: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	sw->fenced = true;
	pos = rowset_at(res->rs[res->n - 1], 0, 0);
	sw->fence_point = xstrdup(pos ? pos : "");
	db_result_free(res);
	if (sw_journal(sw, JE_FENCED, false, json_pack("{s:s}", "fence_point", sw->fence_point)) < 0) {
		sw_phase_failed(sw, "%s", sw->journal_error);
		return;
	}
	sw_emit(sw, "ok", "%s is read-only%s at %s (%.1f ms)", sw->old_name, sw->holding ? ", its commits held," : "",
		sw->fence_point, sw_ms_since(sw->fence_start_us));
	/* in parallel with sync; while commits are held, a cut session's statement fails */
	sw_cut_sessions(sw, NULL);
	if (sw_should_stop(sw))
		return;
	sw_phase_next(sw);
}

/* read_only, then (where read_only does not stop every account) hold every commit, then read
 * the fence point: nothing can commit on the old primary after it is read, whoever asks,
 * until the hold is released once the new primary takes the writes (after_routing). */
void enter_fence(struct switchover *sw)
{
	const struct flavor_ops *fo = sw_flavor_of(sw->old);
	const char *q[4];
	size_t n = 0;

	q[n++] = fo->sql[SQL_FENCE];
	if (*fo->sql[SQL_HOLD_COMMITS]) {
		q[n++] = fo->sql[SQL_HOLD_START];
		q[n++] = fo->sql[SQL_HOLD_COMMITS];
		sw->holding = true;
	}
	q[n++] = fo->sql[SQL_FENCE_POINT];
	sw->c->hb_paused = true;
	sw->fence_started = true;
	sw->fence_tid = db_thread_id(sw->db_old);
	sw->fence_start_us = now_mono_us();
	sw_db_run(sw, sw->db_old, q, n, sw_ccfg(sw)->fence_timeout_ms, fenced);
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
	sw->fence_start_us = now_mono_us();
	sw->fence_op = fence_start(sw->d, sw->c, sw->old, FENCE_BY_SQL | FENCE_BY_HOOK | FENCE_BY_STONITH, reason,
				   f_fenced, sw);
	free(reason);
}
/* ------------------------------------------------------------------------------------------ */
