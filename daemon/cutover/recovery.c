/* Recovery of a cutover interrupted by a daemon that died (kill -9, a crash, a reboot): at
 * start-up the last cutover in each cluster's journal is looked at, and where it is provably
 * safe — before the fence (restore the routers) or after it and before the promotion (make the
 * old primary writable again, restore the routers) — it is rolled back; otherwise it is shown
 * as interrupted until a person runs `cutoverctl resolve`. */
#include "daemon.h"
#include "db.h"
#include "event_hooks.h"
#include "gtid.h"
#include "ha.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "shift.h"
#include "stats.h"
#include "switchover.h"
#include "tenant.h"
#include "engine.h"
#include "util.h"
#include "watchdog.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void recovery_finish(struct switchover *sw, bool ok, const char *msg)
{
	struct log_ctx ctx = sw_lctx(sw);
	if (ok) {
		log_ctx(LOG_NOTICE, &ctx, "interrupted switchover %s rolled back %s: %s", sw->id,
			sw->d->ha ? "by the new leader" : "after restart", msg);
		sw_journal(sw, JE_ROLLED_BACK, true, json_pack("{s:s, s:b}", "reason", msg, "recovered", 1));
		if (sw->c->cutover == sw)
			sw->c->cutover = NULL;
		switchover_free(sw);
		return;
	}
	log_ctx(LOG_ERR, &ctx, "interrupted switchover %s needs attention: %s", sw->id, msg);
	free(sw->reason);
	sw->reason = xstrdup(msg);
	/* nothing more runs on its behalf; `resolve` ends it */
	sw_set_state(sw, SW_INTERRUPTED, msg);
}

/* The end of the undo chain (switchover.c's rollback, the same one a live switchover runs). */
void switchover_recovered(struct switchover *sw, bool ok, const char *why)
{
	recovery_finish(sw, ok, ok ? (sw->fence_started ? "old primary writable again, routers restored"
							: "routers restored")
				   : why);
}

static void recover(struct daemon *d, struct cluster *c, json_t *entries)
{
	json_t *first = json_array_get(entries, 0), *last = json_array_get(entries, json_array_size(entries) - 1);
	const char *last_event = json_string_value(json_object_get(last, "event"));
	const char *phase = NULL;
	struct switchover *sw;
	struct log_ctx ctx = { c->cfg->name, NULL, NULL, NULL };
	size_t i;
	json_t *e;
	bool fenced = false, promoted = false;
	if (journal_event_finished(last_event))
		return;
	/* a read shift and a tenant move recover on their own (shift_recover.c, tenant_recover.c) */
	if (json_string_value(json_object_get(first, "kind")) &&
	    (!strcmp(json_string_value(json_object_get(first, "kind")), "read_shift") ||
	     !strcmp(json_string_value(json_object_get(first, "kind")), "tenant_move")))
		return;
	json_array_foreach(entries, i, e) {
		const char *ev = json_string_value(json_object_get(e, "event"));
		const char *ph = json_string_value(json_object_get(e, "phase"));
		if (ev && !strcmp(ev, "phase") && ph) {
			phase = ph;
			if (!strcmp(ph, "fence"))
				fenced = true;
			if (!strcmp(ph, "promote") || !strcmp(ph, "verify"))
				promoted = true;
		}
		if (ev && (!strcmp(ev, "pnr") || !strcmp(ev, "routed")))
			promoted = true;
	}
	sw = xcalloc(1, sizeof(*sw));
	sw->d = d;
	sw->c = c;
	strlcpy_(sw->id, json_string_value(json_object_get(first, "id")), sizeof(sw->id));
	sw->old_name = xstrdup(json_string_value(json_object_get(first, "old")));
	sw->new_name = xstrdup(json_string_value(json_object_get(first, "new")));
	sw->old = daemon_server(d, sw->old_name);
	sw->cand = daemon_server(d, sw->new_name);
	sw->checks = json_array();
	sw->pause_before = -1;
	for (i = 0; i < PH__COUNT; i++)
		if (phase && !strcmp(phase, phase_names[i]))
			sw->phase = (enum phase)i;
	sw->plan = &plan_switchover;
	sw_set_state(sw, SW_INTERRUPTED, d->ha ? "found in etcd's journal by the new leader" : "found in the journal at start-up");
	{
		char err[256];
		sw->journal = journal_open(d->cfg->state_dir, c->cfg->name, err, sizeof(err));
	}
	c->cutover = sw;
	log_ctx(LOG_WARNING, &ctx, "found interrupted switchover %s (%s → %s) in phase %s", sw->id, sw->old_name,
		sw->new_name, phase ? phase : "?");
	if (!sw->old || !sw->cand) {
		recovery_finish(sw, false, "its servers are no longer in the configuration");
		return;
	}
	sw->rsw.cluster = c->cfg->name;
	sw->rsw.old_primary = sw->old->cfg;
	sw->rsw.new_primary = sw->cand->cfg;
	sw->rsw.phase = "rollback";
	sw->rsw.id = sw->id;
	if (json_string_value(json_object_get(first, "kind")) &&
	    !strcmp(json_string_value(json_object_get(first, "kind")), "failover")) {
		sw->failover = true;
		sw->plan = &plan_failover;
		recovery_finish(sw, false, "an interrupted failover: check which server is writable and where the "
					   "routers send writes, then `cutoverctl resolve`");
		return;
	}
	if (promoted) {
		sw->pnr = true;
		recovery_finish(sw, false, "it was interrupted at or after the promotion: check which server is "
					   "writable and where the router sends writes, then `cutoverctl resolve`");
		return;
	}
	/* The same undo chain as a live rollback: the candidate and the other replicas are read
	 * afresh and must be read-only before the old primary is made writable again. */
	sw->recovering = true;
	sw->drained = true;
	sw->fence_started = sw->fenced = fenced;
	sw->cand_safe = true;
	sw->reason = xstrdup(d->ha ? "interrupted: the member that led it stopped leading; rolled back by the new leader"
				   : "interrupted by a daemon that stopped; rolled back after the restart");
	sw->started_us = now_mono_us();
	sw_connect(sw);
	sw_rollback_start(sw);
}

/* With [ha], this member stopped leading: nothing more runs on the cutover's behalf here, not
 * even a rollback — the next leader finishes or rolls it back from etcd's journal.  Its
 * sessions close (a fence hold with them), the requester hears why, and this member's journal
 * says "handed_over". */
void switchover_handover(struct switchover *sw, const char *why)
{
	struct daemon *d = sw->d;
	struct cluster *c = sw->c;

	free(sw->reason);
	sw->reason = xasprintf("this member stopped leading (%s): the leader finishes or rolls back this cutover from "
			       "etcd's journal",
			       why);
	sw_emit(sw, "fail", "%s", sw->reason);
	sw_set_state(sw, SW_INTERRUPTED, "handed over: this member no longer leads");
	if (!sw->dry_run)
		sw_journal(sw, JE_HANDED_OVER, true, json_pack("{s:s}", "reason", why));
	ha_journal_forget(d->ha, sw);
	if (c->cutover == sw)
		c->cutover = NULL;
	switchover_free(sw);
	daemon_cutover_ended(d);
}

const char *recovery_cause(const struct daemon *d)
{
	return d->ha ? "the member that led it stopped leading" : "cutoverd restarted";
}

void switchover_recover(struct daemon *d, struct cluster *c, const json_t *by)
{
	if (json_array_size(by))
		recover(d, c, json_object_get(json_array_get(by, json_array_size(by) - 1), "entries"));
}

void recover_cluster(struct daemon *d, struct cluster *c, const json_t *by)
{
	switchover_recover(d, c, by);
	shift_recover(d, c, by);
	tenant_recover(d, c, by);
}

void recover_all(struct daemon *d)
{
	size_t i;
	for (i = 0; i < d->n_clusters; i++) {
		json_t *all = journal_read(d->cfg->state_dir, d->clusters[i].cfg->name);
		json_t *by = journal_by_cutover(all);
		recover_cluster(d, &d->clusters[i], by);
		json_decref(by);
		json_decref(all);
	}
}

