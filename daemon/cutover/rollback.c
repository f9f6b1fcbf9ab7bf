/* rollback: the one undo chain, for a live cutover before the point of no return and for one
 * found interrupted in the journal at start-up (recovery.c).  The candidate is made safe first;
 * the old primary is made writable again only once fresh reads show every other server
 * read-only; then the routers are restored. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
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
/* rollback (before the point of no return) */

static void rb_routers(struct switchover *sw);
static void rb_candidate(struct switchover *sw);

static void rb_done(struct switchover *sw)
{
	sw->c->hb_paused = false;
	if (sw->recovering) {   /* after a restart: nobody to report to but the log and status */
		switchover_recovered(sw, sw->failures == 0, sw->failures ? sw->first_failure : NULL);
		return;
	}
	if (sw->failures) {
		char *r = xasprintf("%s; rollback incomplete: %s", sw->reason ? sw->reason : "failed", sw->first_failure);
		free(sw->reason);
		sw->reason = r;
		sw_finish(sw, SW_FAILED);
		return;
	}
	sw->milestone = "rolled_back";
	if (sw->failover)
		sw_emit(sw, "ok", "rolled back: nothing was promoted; %s replicates as before", sw->new_name);
	else
		sw_emit(sw, "ok", "rolled back: %s is the writable primary, routers restored, %s replicating",
			sw->old_name, sw->new_name);
	sw_finish(sw, SW_ROLLED_BACK);
}

static void rb_router_done(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (err)
		sw_set_failure(sw, "router %s not restored: %s", r->cfg->name, msg ? msg : "?");
	else
		sw_emit(sw, "ok", "router %s restored", r->cfg->name);
	if (--sw->pending == 0)
		rb_done(sw);
}

static void rb_routers(struct switchover *sw)
{
	if (!sw->drained) {
		rb_done(sw);
		return;
	}
	sw->pending = sw_routers_each(sw, ROUTER_OP(rollback), rb_router_done);
	if (!sw->pending)
		rb_done(sw);
}

/* Rollback runs in this order: the candidate is made safe (read-only, replicating), then the
 * old primary is made writable again, then the routers are restored.  The old primary is only
 * unfenced once the candidate has confirmed it is read-only: a candidate that hung while being
 * made writable may still run that statement when it wakes up, and two writable servers are
 * worse than none. */
static void rb_old_primary(struct switchover *sw);

static void rb_cand_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *ro = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);

	if (sw->promote_started) {
		sw->cand_safe = ro && !strcmp(ro, "1");
		if (!sw->cand_safe)
			sw_set_failure(sw, "%s did not confirm it is read-only (%s): %s stays read-only so that two "
					   "servers can never take writes; when %s answers, check SELECT @@read_only on it",
				       sw->new_name, res->err ? res->errmsg : "read_only still off", sw->old_name,
				       sw->new_name);
	}
	if (res->err && sw->cand_safe)
		sw_set_failure(sw, "%s does not replicate again: %s", sw->new_name, res->errmsg);
	else if (!res->err)
		sw_emit(sw, "ok", "%s is read-only and replicates from %s again", sw->new_name, sw->old_name);
	db_result_free(res);
	rb_old_primary(sw);
}

static void rb_candidate(struct switchover *sw)
{
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	const char *q[3] = { f->sql[SQL_FENCE], "SELECT @@global.read_only", f->sql[SQL_START_REPLICA] };

	sw->cand_safe = true;
	if (sw->promote_started) {
		/* The statement that makes it writable may have run although we never heard back. */
		sw_db_run(sw, sw->db_cand, q, 3, sw_ccfg(sw)->promote_timeout_ms, rb_cand_done);
		return;
	}
	if (sw->cand_io_stopped) {   /* a failover stopped its IO thread */
		sw_db_run1(sw, sw->db_cand, f->sql[SQL_START_REPLICA], sw_ccfg(sw)->promote_timeout_ms, rb_cand_done);
		return;
	}
	rb_old_primary(sw);
}

static void rb_unfenced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *ro = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	if (res->err || !ro || strcmp(ro, "0"))
		sw_set_failure(sw, "%s is not writable again: %s", sw->old_name, res->err ? res->errmsg : "read_only still on");
	else
		sw_emit(sw, "ok", "%s is writable again", sw->old_name);
	db_result_free(res);
	rb_routers(sw);
}

static void rb_killed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *f = sw_flavor_of(sw->old);
	const char *q[2] = { f->sql[SQL_UNFENCE], "SELECT @@global.read_only" };
	/* "Unknown thread id" is fine: the fence statement already ended. */
	db_result_free(res);
	sw_db_run(sw, sw->db_kill, q, 2, sw_ccfg(sw)->fence_timeout_ms, rb_unfenced);
}

static void rb_unfence(struct switchover *sw);

/* Before the old primary is made writable again: fresh reads, now, of every other server.  Each
 * must answer read-only (whoever may have touched it: a statement of ours that hung, an
 * operator), or — not answering — be one this cutover never asked to be writable and that the
 * pollers last saw read-only. */
static void rb_other_checked(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *ro = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	const struct server *s = db == sw->db_cand ? sw->cand : NULL;
	size_t i;

	for (i = 0; !s && i < sw->n_reps; i++)
		if (db == sw->db_rep[i])
			s = sw->reps[i];
	if (s && (!ro || strcmp(ro, "1"))) {
		/* One that does not answer is not about to turn writable when nothing of ours can make
		 * it so (this cutover never asked it to be writable) and the pollers last saw it
		 * read-only; after a restart nothing has been seen yet, so it must answer. */
		bool quiet_read_only = !ro && s->st.read_only == 1 && !(s == sw->cand && sw->promote_started);
		if (!quiet_read_only) {
			sw->cand_safe = false;
			sw_set_failure(sw, "%s %s: %s stays read-only so that two servers can never take writes", s->cfg->name,
				       ro ? "is writable" : "did not answer whether it is read-only", sw->old_name);
		}
	}
	db_result_free(res);
	if (--sw->pending == 0)
		rb_unfence(sw);
}

static void rb_old_primary(struct switchover *sw)
{
	int qt = sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms;
	size_t i;

	if (!sw->fence_started || sw->failover || !sw->cand_safe) {
		rb_routers(sw);
		return;
	}
	sw->pending = 1;
	sw_io.cancel(sw->db_cand);
	sw_db_run1(sw, sw->db_cand, "SELECT @@global.read_only", qt, rb_other_checked);
	for (i = 0; i < sw->n_reps; i++) {
		sw->pending++;
		sw_io.cancel(sw->db_rep[i]);
		sw_db_run1(sw, sw->db_rep[i], "SELECT @@global.read_only", qt, rb_other_checked);
	}
}

static void rb_unfence(struct switchover *sw)
{
	if (!sw->cand_safe) {
		rb_routers(sw);
		return;
	}
	if (sw->fence_tid && !sw->fenced) {
		/* the fence statement may still be waiting on the server: kill it first, so that it
		 * cannot make the old primary read-only after we made it writable */
		char *q = xasprintf(sw_flavor_of(sw->old)->sql[SQL_KILL_QUERY], (unsigned long long)sw->fence_tid);
		sw_io.cancel(sw->db_kill);
		sw_db_run1(sw, sw->db_kill, q, sw->d->cfg->query_timeout_ms, rb_killed);
		free(q);
		return;
	}
	sw_io.cancel(sw->db_kill);
	rb_killed(NULL, xcalloc(1, sizeof(struct db_result)), sw);
}

void sw_rollback_start(struct switchover *sw)
{
	sw_set_state(sw, SW_ROLLING_BACK, sw->reason ? sw->reason : "rollback");
	sw_clear_failures(sw);
	sw_journal(sw, JE_ROLLBACK, true, json_pack("{s:s}", "reason", sw->reason ? sw->reason : ""));
	sw_emit(sw, "info", "rolling back: %s", sw->reason ? sw->reason : "");
	/* Whatever is still running on our connections is abandoned; a fence statement still
	 * waiting on the old primary is killed before it is made writable again. */
	sw_io.cancel(sw->db_cand);
	sw_io.cancel(sw->db_old);
	rb_candidate(sw);
}

