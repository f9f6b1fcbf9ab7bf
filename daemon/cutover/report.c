/* The end of a cutover (report, reply, journal, stats) and its lifecycle. */
#include "afterwatch.h"
#include "daemon.h"
#include "ha.h"
#include "datacheck.h"
#include "db.h"
#include "engine.h"
#include "fence.h"
#include "event_hooks.h"
#include "held.h"
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
/* the end: report, reply, journal */

static json_t *phases_json(const struct switchover *sw)
{
	json_t *arr = json_array();
	int i;
	for (i = 0; i < PH__COUNT; i++) {
		const struct phase_rec *r = &sw->rec[i];
		if (!r->start_us)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:o, s:b}", "phase", phase_names[i], "ms",
						     r->end_us ? json_real((double)(r->end_us - r->start_us) / 1000.0)
							       : json_null(),
						     "ok", r->ok));
	}
	return arr;
}

static json_t *cluster_state_json(struct switchover *sw)
{
	json_t *arr = json_array();
	size_t i;
	for (i = 0; i < sw->c->n_servers; i++) {
		const struct server *s = sw->c->servers[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", s->cfg->name, "state",
						     health_name(s->health.state), "read_only",
						     s->st.read_only < 0 ? json_null() : json_boolean(s->st.read_only),
						     "replicates_from",
						     s->st.repl.configured ? json_sprintf("%s:%d", s->st.repl.source_host,
											  s->st.repl.source_port)
									   : json_null(),
						     "gtid", server_status_gtid(&s->st) ? json_string(server_status_gtid(&s->st))
										      : json_null()));
	}
	return arr;
}

json_t *sw_upgrade_info(struct switchover *sw)
{
	char from[48], to[48];
	json_t *left;
	size_t i;

	if (sw->upgrade_info)
		return sw->upgrade_info;
	left = json_array();
	for (i = 0; i < sw->n_reps; i++)
		if (sw->rep_fate[i] == REP_LEAVE_AT_FENCE)
			json_array_append_new(left, json_pack("{s:s, s:s}", "server", sw->reps[i]->cfg->name, "version",
							      sw->reps[i]->st.version));
	sw->upgrade_info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "from",
				     flavor_series_name(sw->fresh_old.version, from, sizeof(from)), "to",
				     flavor_series_name(sw->fresh_cand.version, to, sizeof(to)), "from_version",
				     sw->fresh_old.version, "to_version", sw->fresh_cand.version, "old_primary_kept",
				     sw->old_name, "left_at_fence_point", left);
	return sw->upgrade_info;
}

/* A done upgrade leaves its rollback point: the old primary and the replicas too old to follow,
 * held at the fence point (held.h), so that status, the watchdog and later cutovers know. */
static void hold_rollback_point(struct switchover *sw)
{
	json_t *info = sw_upgrade_info(sw), *e;
	const char *from = json_string_value(json_object_get(info, "from"));
	const char *to = json_string_value(json_object_get(info, "to"));
	char *why;
	size_t k;

	why = xasprintf("the old primary, kept by upgrade switchover %s to %s (%s to %s; %s cannot replicate to %s)",
			sw->id, sw->new_name, from, to, to, from);
	held_add(sw->d, sw->c, sw->old_name, sw->fence_point, why);
	free(why);
	json_array_foreach(json_object_get(info, "left_at_fence_point"), k, e) {
		const char *name = json_string_value(json_object_get(e, "server"));
		const char *at = json_is_true(json_object_get(e, "reached")) ? sw->fence_point
			       : json_string_value(json_object_get(e, "stopped_at"));

		if (!json_object_get(e, "reached"))
			continue;   /* not stopped (the promotion failed before it): it follows the old primary still */
		why = xasprintf("too old to follow %s (%s): left stopped by upgrade switchover %s, still configured to "
				"follow %s", sw->new_name, to, sw->id, sw->old_name);
		held_add(sw->d, sw->c, name, at, why);
		free(why);
	}
}

static void fresh_timeout(evutil_socket_t fd, short what, void *arg)
{
	sw_finish(arg, SW_FAILED);
}

void sw_finish(struct switchover *sw, enum sw_state st)
{
	static const char *outcomes[] = { [SW_DONE] = "done", [SW_ROLLED_BACK] = "rolled_back", [SW_FAILED] = "failed" };
	const char *outcome = sw->dry_run && st == SW_DONE ? "dry_run"
			      : sw->phase == PH_PREFLIGHT && st == SW_ROLLED_BACK ? "refused"
										  : outcomes[st];
	json_t *rep;
	struct cluster *c = sw->c;

	/* A failure is reported with the state of every server as it is now, not as the pollers
	 * last saw it before the switchover: one fresh poll first (bounded by a timer). */
	if (st == SW_FAILED && !sw->fresh_polled) {
		sw->fresh_polled = true;
		sw->awaiting_fresh = true;
		sw_set_state(sw, SW_FAILED, "failed; one fresh poll of every server for the report");
		sw_timer_arm(sw, sw->d->cfg->poll_interval_ms + sw->d->cfg->query_timeout_ms + 500, fresh_timeout);
		sw->fresh_since_us = now_mono_us();
		sw_io.poll_now(sw->d, c);
		return;
	}
	sw->awaiting_fresh = false;

	sw_set_state(sw, st, outcome);
	sw->c->hb_paused = false;
	rep = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sw->id, "cluster", sw_ccfg(sw)->name, "old_primary", sw->old_name,
			"new_primary", sw->new_name, "outcome", outcome);
	json_object_set_new(rep, "reason", sw->reason ? json_string(sw->reason) : json_null());
	json_object_set(rep, "checks", sw->checks);
	json_object_set_new(rep, "phases", phases_json(sw));
	json_object_set_new(rep, "write_blocked_ms", sw_blocked_ms(sw) >= 0 ? json_real(sw_blocked_ms(sw)) : json_null());
	json_object_set_new(rep, "fence_point", sw->fence_point ? json_string(sw->fence_point) : json_null());
	/* what every client saw: tries of the fence that were held up and undone held writes too */
	json_object_set_new(rep, "fence_attempts", json_integer(sw->fence_attempts));
	json_object_set_new(rep, "fence_stall_ms", sw->fence_stalls_ms > 0 ? json_real(sw->fence_stalls_ms) : json_null());
	{
		double wb = sw_blocked_ms(sw);
		double worst = wb > sw->fence_stalls_ms ? wb : sw->fence_stalls_ms;
		json_object_set_new(rep, "longest_block_ms", worst > 0 ? json_real(worst) : json_null());
	}
	json_object_set_new(rep, "point_of_no_return_passed", json_boolean(sw->pnr));
	json_object_set_new(rep, "kind", json_string(sw->failover ? "failover" : "switchover"));
	json_object_set(rep, "upgrade", sw->upgrade ? sw_upgrade_info(sw) : json_null());
	/* the data check runs after the end; the report says whether it does */
	if (sw->dc && datacheck_armed(sw->dc) && st == SW_DONE)
		json_object_set_new(rep, "data_check", json_pack("{s:s, s:s}", "state", "running", "see",
								  "cutoverctl status (data_check), cutoverctl history"));
	else if (sw->dc)
		json_object_set_new(rep, "data_check", json_pack("{s:s, s:s}", "state", "not_run", "why",
								  st != SW_DONE ? "the switchover did not complete"
										: datacheck_why(sw->dc)));
	if (sw->failover) {
		json_object_set_new(rep, "automatic", json_boolean(sw->automatic));
		json_object_set(rep, "errant", sw->errant);
	}
	json_object_set_new(rep, "total_ms", json_real(sw_ms_since(sw->started_us)));
	if (st == SW_FAILED) {
		json_t *steps = json_array();
		if (sw->pnr) {
			json_array_append_new(steps, json_sprintf(
				"%s is the writable primary. To finish: check each replica follows it "
				"(CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, MASTER_USE_GTID=slave_pos; START SLAVE) "
				"and that the router sends writes only to it.", sw->new_name,
				sw->cand->cfg->host ? sw->cand->cfg->host : "", sw->cand->cfg->port));
			if (sw->upgrade)
				json_array_append_new(steps, json_sprintf(
					"%s is kept read-only at the fence point as the rollback point: it runs an older "
					"release series and cannot replicate from %s, so a switchover back to it is refused "
					"(see Upgrades in cutoverd(8)).", sw->old_name, sw->new_name));
			else
				json_array_append_new(steps, json_sprintf(
					"To reverse once it is consistent: cutoverctl switchover --cluster %s --to %s",
					sw_ccfg(sw)->name, sw->old_name));
		} else if (!sw->cand_safe) {
			json_array_append_new(steps, json_sprintf(
				"Another server was not confirmed read-only (%s), so %s was left read-only on purpose: "
				"two writable servers are worse than none. Check SELECT @@read_only on each server. If "
				"%s is writable, it is the primary now: point the router at it and the others to it "
				"(or fence it: cutoverctl fence %s, then cutoverctl unfence %s).",
				sw->first_failure ? sw->first_failure : sw->reason ? sw->reason : "?", sw->old_name,
				sw->new_name, sw->new_name, sw->old_name));
		} else {
			json_array_append_new(steps, json_sprintf(
				"Rollback was incomplete. Make %s writable (SET GLOBAL read_only=0) if the router "
				"still sends writes to it, restore the router, and START SLAVE on %s.",
				sw->old_name, sw->new_name));
		}
		json_object_set_new(rep, "next_steps", steps);
		json_object_set_new(rep, "servers", cluster_state_json(sw));
	}
	sw_journal(sw, journal_event_parse(sw->dry_run ? "dry_run" : outcome), true, json_pack("{s:O}", "report", rep));
	if (st == SW_DONE && !sw->dry_run)
		watchdog_set_authority(sw->d, c, sw->new_name, sw->failover ? "failover" : "switchover");
	if (st == SW_DONE && !sw->dry_run)
		watchdog_sticky(sw->d, c, sw->old_name, true);
	/* past the point of no return the old primary stays fenced at the fence point, whatever
	 * failed after it */
	if (sw->pnr && !sw->dry_run && sw->upgrade)
		hold_rollback_point(sw);
	if (st == SW_DONE && !sw->dry_run && c->datacheck) {
		char *why = xasprintf("%s %s made %s the primary", sw->failover ? "failover" : "switchover", sw->id,
				      sw->new_name);
		datacheck_stop(c->datacheck, why);   /* a failover, which is not refused while it runs */
		free(why);
	}
	if (st == SW_DONE && sw->dc && datacheck_armed(sw->dc)) {
		if (sw->hold_old) {
			char *why = xasprintf("kept at the fence point, not replicating, until the data check of switchover %s "
					      "passes", sw->id);
			held_add(sw->d, c, sw->old_name, sw->fence_point, why);
			free(why);
		}
		datacheck_free(c->datacheck);
		c->datacheck = sw->dc;
		sw->dc = NULL;
		datacheck_run(c->datacheck, sw->hold_old);
	}
	if (st == SW_DONE && !sw->dry_run && !sw->failover)
		afterwatch_start(sw->d, c, sw->id, sw->old_name, sw->new_name, sw->upgrade, sw->by_watch);
	/* An automatic failover that changed nothing is not a failover: it does not start
	 * failover_block, but the next attempt waits a minute. */
	if (sw->automatic && st != SW_DONE && !sw->pnr) {
		c->last_auto_failover_us = c->prev_auto_failover_us;
		c->auto_retry_after_us = now_real_us() + 60 * 1000000LL;
	}
	if (!sw->dry_run) {
		double ph[SW_PHASES];
		int i;
		enum sw_outcome o = st == SW_DONE ? OUTCOME_DONE
				    : !strcmp(outcome, "refused") ? OUTCOME_REFUSED
				    : st == SW_ROLLED_BACK ? OUTCOME_ROLLED_BACK : OUTCOME_FAILED;
		for (i = 0; i < SW_PHASES; i++)
			ph[i] = sw->rec[i].start_us && sw->rec[i].end_us
					? (double)(sw->rec[i].end_us - sw->rec[i].start_us) / 1000.0 : -1;
		cluster_stats_switchover(&c->stats, sw->failover, o, sw_blocked_ms(sw), ph);
	}
	sw->milestone = "finished";
	sw_emit(sw, st == SW_DONE ? "ok" : "fail", "%s %s: %s%s%s", sw->failover ? "failover" : "switchover", sw->id,
		outcome, sw->reason ? ": " : "",
	     sw->reason ? sw->reason : "");
	if (sw->obs.finished) {
		void (*fin)(struct switchover *, const char *, json_t *, void *) = sw->obs.finished;
		sw->obs.finished = NULL;
		sw->obs.progress = NULL;
		fin(sw, outcome, rep, sw->obs.arg);
	}
	json_decref(rep);
	/* The cluster is free again; the record lives on in the journal (cutoverctl history). */
	{
		struct daemon *d = sw->d;
		if (c->cutover == sw) {
			c->cutover = NULL;
			sw_io.poll_now(d, c);
		}
		switchover_free(sw);
		daemon_cutover_ended(d);
	}
}

bool switchover_stop_requested(struct switchover *sw)
{
	if (!switchover_active(sw))
		return false;
	if (!sw->pnr && sw->state != SW_ROLLING_BACK) {
		free(sw->reason);
		sw->reason = xstrdup("cutoverd is stopping");
		sw->abort_requested = true;
		if (sw->state == SW_PAUSED || sw->phase == PH_DRAIN || sw->phase == PH_CATCHUP || sw->phase == PH_SYNC) {
			sw_set_state(sw, SW_RUNNING, "cutoverd is stopping");
			sw_emit(sw, "fail", "cutoverd is stopping: rolling back");
			sw_rollback_start(sw);
		}
	}
	return switchover_active(sw);
}

/* ------------------------------------------------------------------------------------------ */
/* lifecycle */

void switchover_free(struct switchover *sw)
{
	size_t i;
	if (!sw)
		return;
	if (sw->obs.finished)   /* freed unfinished (the daemon stops): the requester is told */
		sw->obs.finished(sw, "interrupted", NULL, sw->obs.arg);
	ha_journal_forget(sw->d->ha, sw);
	sw_timer_stop(sw);
	if (sw->step_timer)
		event_free(sw->step_timer);
	if (sw->pause_timer)
		event_free(sw->pause_timer);
	sw_router_calls_detach(sw);
	db_free(sw->db_old);
	db_free(sw->db_kill);
	db_free(sw->db_cand);
	db_free(sw->db_probe);
	for (i = 0; i < sw->n_reps; i++)
		db_free(sw->db_rep[i]);
	journal_close(sw->journal);
	datacheck_free(sw->dc);
	json_decref(sw->checks);
	json_decref(sw->privileged);
	json_decref(sw->privileged_users);
	json_decref(sw->errant);
	json_decref(sw->upgrade_info);
	free(sw->versioned_names);
	free(sw->versioned_error);
	sw_kills_clear(sw);
	if (sw->job)
		job_cancel(sw->job);
	fence_cancel(sw->fence_op);
	server_status_clear(&sw->fresh_old);
	server_status_clear(&sw->fresh_cand);
	free(sw->old_name);
	free(sw->new_name);
	free(sw->fence_point);
	free(sw->first_failure);
	free(sw->reason);
	free(sw->journal_error);
	free(sw->deferred_failure);
	free(sw->long_writes_seen);
	free(sw->drain_error);
	free(sw);
}

void switchover_rebind(struct switchover *sw, struct daemon *d, struct cluster *c)
{
	sw->d = d;
	sw->c = c;
	sw->old = daemon_server(d, sw->old_name);
	sw->cand = daemon_server(d, sw->new_name);
	datacheck_rebind(sw->dc, c);
}

void switchover_annotate(struct switchover *sw, struct topology *t)
{
	if (sw->state == SW_INTERRUPTED)
		topology_add_reason(t, VERDICT_WARN,
				    xasprintf("an interrupted switchover %s (%s → %s, phase %s) needs attention: "
					      "cutoverctl resolve --cluster %s after checking",
					      sw->id, sw->old_name, sw->new_name, phase_names[sw->phase], sw_ccfg(sw)->name));
}

const char *switchover_summary(const struct switchover *sw)
{
	static char buf[160];
	snprintf(buf, sizeof(buf), "switchover %s→%s: %s (%s)", sw->old_name, sw->new_name, phase_names[sw->phase],
		 state_names[sw->state]);
	return buf;
}

bool switchover_active(const struct switchover *sw)
{
	return sw && (sw->awaiting_fresh || sw->state == SW_RUNNING || sw->state == SW_PAUSED || sw->state == SW_ROLLING_BACK);
}

json_t *switchover_json(const struct switchover *sw)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "kind", sw->failover ? "failover" : "switchover",
			      "id", sw->id, "state", state_names[sw->state], "phase",
			      phase_names[sw->phase], "old_primary", sw->old_name, "new_primary", sw->new_name,
			      "point_of_no_return_passed", sw->pnr);
	json_object_set_new(o, "elapsed_ms", sw->started_us ? json_real(sw_ms_since(sw->started_us)) : json_null());
	json_object_set_new(o, "phases", phases_json(sw));
	/* what a pause costs, and when it ends by itself */
	if (sw->state == SW_PAUSED && sw->paused_real_us) {
		char ts[40];
		json_object_set_new(o, "writes_blocked", json_boolean(sw_pause_blocks_writes(sw)));
		json_object_set_new(o, "pause_limit_ms", json_integer(sw->pause_limit_ms));
		iso_time(sw->paused_real_us, ts, sizeof(ts));
		json_object_set_new(o, "paused_at", json_string(ts));
		iso_time(sw->paused_real_us + (int64_t)sw->pause_limit_ms * 1000, ts, sizeof(ts));
		json_object_set_new(o, "rolls_back_at", json_string(ts));
	}
	return o;
}


