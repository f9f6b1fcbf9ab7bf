/* promote: the candidate becomes writable (the point of no return), the routers make it the
 * only writer; then, outside the window, the commit hold is released, the candidate detaches,
 * the other replicas (and, reversed, the old primary) follow it, the routers persist. */
#include "daemon.h"
#include "datacheck.h"
#include "db.h"
#include "engine.h"
#include "ha.h"
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
/* promote */

static void after_routing(struct switchover *sw);

static void routed(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (err)
		sw_set_failure(sw, "router %s could not make %s the writer: %s", r->cfg->name, sw->new_name,
			    msg ? msg : "?");
	else
		sw_emit(sw, "ok", "router %s: writes go to %s", r->cfg->name, sw->new_name);
	if (--sw->pending)
		return;
	sw->routed_us = now_mono_us();
	if (sw->failures) {
		/* Past the point of no return: what does not depend on the routers (the other
		 * replicas following the new primary) still runs; the failure is reported after. */
		sw_emit(sw, "fail", "%s; the replicas are pointed at %s all the same", sw->first_failure, sw->new_name);
		sw->deferred_failure = xstrdup(sw->first_failure);
		after_routing(sw);
		return;
	}
	sw->routed = true;
	if (sw->failover)
		sw_emit(sw, "ok", "%s writable and routed %.1f ms after the fence", sw->new_name, sw_blocked_ms(sw));
	else
		sw_emit(sw, "ok", "writes were blocked for %.1f ms (%s → %s writable and routed)", sw_blocked_ms(sw),
			sw->held_first ? "routers holding new queries" : "fence",
			sw->new_name);
	sw_journal(sw, JE_ROUTED, true, json_pack("{s:f}", "write_blocked_ms", sw_blocked_ms(sw)));
	after_routing(sw);
}

static void writable(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (res->err) {
		/* A timeout leaves it unknown whether the statement ran: rollback makes the candidate
		 * read-only again before anything else (rb_candidate). */
		sw_phase_failed(sw, "making %s writable: %s", sw->new_name, res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	sw->pnr = true;
	sw_emit(sw, "ok", "%s is writable: past the point of no return", sw->new_name);
	sw->pending = sw_routers_each(sw, ROUTER_OP(promote), routed);
	if (!sw->pending) {
		sw->routed_us = now_mono_us();
		sw->routed = true;
		after_routing(sw);
	}
}

/* The candidate becomes writable while its replication threads still run: the old primary is
 * read-only at a fence point the candidate holds (sync checked it), so nothing more arrives,
 * and stopping the threads (several ms) happens after the routers moved, outside the window. */
static void promote_now(struct switchover *sw);
static void pnr_recorded(void *arg, bool ok, const char *why);

void enter_promote(struct switchover *sw)
{
	if (sw->router_drains > 0) {   /* started at the fence; a few ms at most */
		sw->promote_waiting = true;
		return;
	}
	if (sw->drain_error) {
		sw_phase_failed(sw, "%s", sw->drain_error);
		return;
	}
	/* the point of no return is never passed without its record on disk, nor, with [ha],
	 * without it in etcd: the next leader must know the candidate may be writable */
	if (sw_journal(sw, JE_PNR, true, NULL) < 0) {
		sw_phase_failed(sw, "%s was not made writable: %s", sw->new_name, sw->journal_error);
		return;
	}
	if (ha_journal_wait(sw->d->ha, pnr_recorded, sw))
		return;
	promote_now(sw);
}

static void promote_now(struct switchover *sw)
{
	sw->promote_started = true;
	sw_db_run1(sw, sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_UNFENCE], sw_ccfg(sw)->promote_timeout_ms, writable);
}

static void pnr_recorded(void *arg, bool ok, const char *why)
{
	struct switchover *sw = arg;

	if (sw->state != SW_RUNNING || sw->phase != PH_PROMOTE || sw->promote_started)
		return;
	if (!ok) {
		sw_phase_failed(sw, "%s was not made writable: etcd's journal does not have the point of no return: %s",
				sw->new_name, why);
		return;
	}
	promote_now(sw);
}

/* Outside the window: the others follow the new primary, routers persist. */
static void followers_done(struct switchover *sw);

static void follower_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	size_t i;
	const char *name = "?";
	for (i = 0; i < sw->n_reps; i++)
		if (sw->db_rep[i] == db)
			name = sw->reps[i]->cfg->name;
	if (db == sw->db_old)
		name = sw->old_name;
	if (res->err)
		sw_set_failure(sw, "%s could not follow %s: %s", name, sw->new_name, res->errmsg);
	else
		sw_emit(sw, "ok", "%s replicates from %s", name, sw->new_name);
	db_result_free(res);
	sw_follower_finished(sw);
}

void sw_follower_finished(struct switchover *sw)
{
	if (--sw->pending == 0)
		followers_done(sw);
}

tristate sw_source_tls(const struct switchover *sw)
{
	return sw->fresh_cand.have_ssl >= 0 ? sw->fresh_cand.have_ssl : sw->cand->st.have_ssl;
}

void sw_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote)
{
	const struct flavor_ops *f = sw_flavor_of(s);
	char *pw = sql_quote(sw_ccfg(sw)->repl_secret.password ? sw_ccfg(sw)->repl_secret.password : "");
	char *user = sql_quote(sw_ccfg(sw)->repl_user ? sw_ccfg(sw)->repl_user : "");
	char *host = sql_quote(sw->cand->cfg->host ? sw->cand->cfg->host : "127.0.0.1");
	char *q[3];
	size_t n = 0;
	bool old_mariadb = demote && !flavor_has_demote(s->st.version);

	if (!demote)
		q[n++] = xstrdup(f->sql[SQL_STOP_REPLICA]);
	else if (old_mariadb)   /* before 10.10: what MASTER_DEMOTE_TO_SLAVE=1 does, by hand */
		q[n++] = xstrdup(SQL_DEMOTE_PREPARE);
	/* TLS as the new primary offers it: an 11.x replica would otherwise ask for it by default
	 * and fail on a primary without it */
	q[n++] = flavor_change_source_sql(f, demote && !old_mariadb ? SQL_DEMOTE_TO_REPLICA : SQL_CHANGE_SOURCE, host,
					  sw->cand->cfg->port, user, pw, 1, sw_source_tls(sw));
	/* the old primary held for the data check: configured, started once it passed */
	if (!(demote && sw->hold_old))
		q[n++] = xstrdup(f->sql[SQL_START_REPLICA]);
	sw->pending++;
	sw_db_run(sw, db, (const char *const *)q, n, sw_ccfg(sw)->promote_timeout_ms, follower_done);
	while (n)
		free_secret(q[--n]);
	free_secret(pw);
	free(user);
	free(host);
}

static void left_at_fence(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct server *s = NULL;
	const char *wait = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	const char *at = !res->err && res->n > 2 ? rowset_at(res->rs[2], 0, 0) : NULL;
	char theirs[48];
	size_t i;

	for (i = 0; i < sw->n_reps; i++)
		if (sw->db_rep[i] == db)
			s = sw->reps[i];
	flavor_series_name(s->st.version, theirs, sizeof(theirs));
	if (res->err)
		sw_emit(sw, "warn", "%s (%s) cannot follow %s and could not be stopped at the fence point: %s; stop its "
				    "replication by hand (it still follows %s, which takes no writes)", s->cfg->name, theirs,
			sw->new_name, res->errmsg, sw->old_name);
	else if (wait && !strcmp(wait, "0"))
		sw_emit(sw, "ok", "%s (%s) cannot replicate from %s: left stopped at the fence point %s, still "
				  "configured to follow %s (allow_older_replicas)", s->cfg->name, theirs, sw->new_name,
			sw->fence_point ? sw->fence_point : "?", sw->old_name);
	else
		sw_emit(sw, "warn", "%s (%s) did not reach the fence point %s within %d ms: left stopped at %s, "
				    "configured to follow %s; START SLAVE there to let it catch up", s->cfg->name, theirs,
			sw->fence_point ? sw->fence_point : "?", sw->sync_timeout_ms, at ? at : "?", sw->old_name);
	{
		json_t *e, *left = json_object_get(sw_upgrade_info(sw), "left_at_fence_point");
		size_t k;
		json_array_foreach(left, k, e)
			if (!strcmp(json_string_value(json_object_get(e, "server")) ?: "", s->cfg->name)) {
				json_object_set_new(e, "stopped_at", at ? json_string(at) : json_null());
				json_object_set_new(e, "reached", json_boolean(!res->err && wait && !strcmp(wait, "0")));
			}
	}
	db_result_free(res);
	sw_follower_finished(sw);
}

/* A replica too old to follow the new primary: it applies up to the fence point (the old
 * primary takes nothing after it), then stops there — the rollback point with the old primary. */
static void leave_at_fence(struct switchover *sw, size_t i)
{
	const struct flavor_ops *f = sw_flavor_of(sw->reps[i]);
	char *q[3];

	q[0] = xasprintf(f->sql[SQL_WAIT_GTID], sw->fence_point ? sw->fence_point : "", sw->sync_timeout_ms / 1000.0);
	q[1] = xstrdup(f->sql[SQL_STOP_REPLICA]);
	q[2] = xstrdup(f->sql[SQL_FENCE_POINT]);
	sw->pending++;
	sw_db_run(sw, sw->db_rep[i], (const char *const *)q, 3, sw->sync_timeout_ms + sw->d->cfg->query_timeout_ms,
		  left_at_fence);
	free(q[0]);
	free(q[1]);
	free(q[2]);
}

static void followers_start(struct switchover *sw)
{
	size_t i;
	sw_clear_failures(sw);
	sw->pending = 1;   /* held until every follower has been started */
	for (i = 0; i < sw->n_reps; i++) {
		const struct server *s = sw->reps[i];
		if (sw->rep_fate[i] == REP_HELD)
			sw_emit(sw, "info", "%s is held at an earlier fence point (the rollback point of an upgrade): "
					    "left as it is", s->cfg->name);
		else if (s->health.state != HEALTH_UP)
			sw_emit(sw, "warn", "%s is %s: left behind; point it at %s by hand", s->cfg->name,
			     health_name(s->health.state), sw->new_name);
		else if (sw->rep_fate[i] == REP_LEAVE_AT_FENCE)
			leave_at_fence(sw, i);
		else
			(sw->failover ? f_follow : sw_follow)(sw, sw->db_rep[i], s, false);
	}
	if (sw->upgrade) {
		char mine[48], theirs[48];
		/* MariaDB does not replicate from a newer release series to an older one */
		sw_emit(sw, "ok", "%s (%s) cannot replicate from %s (%s): it stays read-only and replicates from "
				  "nothing, frozen at the fence point %s — the rollback point", sw->old_name,
			flavor_series_name(sw->fresh_old.version, mine, sizeof(mine)), sw->new_name,
			flavor_series_name(sw->fresh_cand.version, theirs, sizeof(theirs)),
			sw->fence_point ? sw->fence_point : "?");
	} else if (sw->reverse) {
		sw->hold_old = sw->dc && datacheck_armed(sw->dc);
		if (sw->hold_old)
			sw_emit(sw, "info", "%s is set to replicate from %s but stays at the fence point until the data "
					    "check passes", sw->old_name, sw->new_name);
		sw_follow(sw, sw->db_old, sw->old, true);
	}
	if (--sw->pending == 0)
		followers_done(sw);
}

static void cand_detached(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (res->err) {
		sw_phase_failed(sw, "detaching %s from %s: %s", sw->new_name, sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	sw_emit(sw, "ok", "%s no longer replicates from %s", sw->new_name, sw->old_name);
	followers_start(sw);
}

static void detach_candidate(struct switchover *sw);

static void hold_released(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (res->err) {
		/* dropping the session releases it as surely */
		sw_emit(sw, "warn", "releasing the commit hold on %s: %s; closing the session instead", sw->old_name,
			res->errmsg);
		sw_io.cancel(sw->db_old);
	}
	db_result_free(res);
	sw->holding = false;
	detach_candidate(sw);
}

static void release_hold_now(struct switchover *sw);

static void release_wait(evutil_socket_t fd, short what, void *arg)
{
	release_hold_now(arg);
}

/* A KILL only marks a session: one woken by the release before it noticed could still commit.
 * The hold is released once every cut session is gone (or at the deadline, with a warning). */
static void cut_gone(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *left = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (left && strcmp(left, "0") && now_mono_us() < sw->deadline_us) {
		db_result_free(res);
		sw_timer_arm(sw, 2, release_wait);
		return;
	}
	if (!left || strcmp(left, "0"))
		sw_emit(sw, "warn", "releasing the commit hold on %s although %s cut session%s may not be gone yet",
			sw->old_name, left ? left : "some", left && !strcmp(left, "1") ? "" : "s");
	db_result_free(res);
	sw_kills_clear(sw);   /* done with them (n_kills = 0 alone leaked the statements) */
	release_hold_now(sw);
}

/* Whatever waits on the hold would commit on the old primary the moment it is released, and
 * its client would count it as written: those sessions are cut first (after_routing), and the
 * hold released once they are gone. */
static void release_hold_now(struct switchover *sw)
{
	if (sw->n_kills) {
		char *q = xstrdup("SELECT COUNT(*) FROM information_schema.processlist WHERE id IN (");
		size_t i;
		for (i = 0; i < sw->n_kills; i++) {
			char *n = xasprintf("%s%s%llu", q, i ? ", " : "", sw->kill_ids[i]);
			free(q);
			q = n;
		}
		{
			char *n = xasprintf("%s)", q);
			free(q);
			q = n;
		}
		sw_io.cancel(sw->db_kill);
		sw_db_run1(sw, sw->db_kill, q, sw->d->cfg->query_timeout_ms, cut_gone);
		free(q);
		return;
	}
	sw_db_run1(sw, sw->db_old, sw_flavor_of(sw->old)->sql[SQL_HOLD_RELEASE], sw->d->cfg->query_timeout_ms,
		hold_released);
}

/* After the routers moved, outside the window. */
static void after_routing(struct switchover *sw)
{
	if (sw->holding) {
		sw->deadline_us = now_mono_us() + (int64_t)sw->d->cfg->query_timeout_ms * 1000;
		sw_cut_sessions(sw, release_hold_now);
		return;
	}
	detach_candidate(sw);
}

static void detach_candidate(struct switchover *sw)
{
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	const char *q[2] = { fc->sql[SQL_STOP_REPLICA], fc->sql[SQL_RESET_REPLICA] };
	sw_db_run(sw, sw->db_cand, q, 2, sw_ccfg(sw)->promote_timeout_ms, cand_detached);
}

static void finalized(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (err)
		sw_set_failure(sw, "router %s could not persist: %s", r->cfg->name, msg ? msg : "?");
	if (--sw->pending)
		return;
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	sw_phase_next(sw);
}

static void followers_done(struct switchover *sw)
{
	if (sw->failures || sw->deferred_failure) {
		sw_phase_failed(sw, "%s%s%s", sw->deferred_failure ? sw->deferred_failure : "",
				sw->deferred_failure && sw->failures ? "; " : "", sw->failures ? sw->first_failure : "");
		return;
	}
	sw->pending = sw_routers_each(sw, ROUTER_OP(finalize), finalized);
	if (!sw->pending)
		sw_phase_next(sw);
}

/* the other replicas: repoint them, unless they hold transactions the new primary lacks */

/* The replica whose connection this is. */
static const struct server *replica_of(const struct switchover *sw, const struct db *db)
{
	size_t i;
	for (i = 0; i < sw->n_reps; i++)
		if (sw->db_rep[i] == db)
			return sw->reps[i];
	return NULL;
}

static void f_follow_checked(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct server *s = replica_of(sw, db);
	const char *pos = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	struct gtid_set rs, ps;
	char err[128], *errant = NULL;
	enum gtid_kind kind = sw_gtid_kind_of(s);

	if (!pos) {
		sw_set_failure(sw, "%s: %s", s->cfg->name, res->err ? res->errmsg : "no GTID position");
	} else if (gtid_parse(kind, pos, &rs, err, sizeof(err)) == 0) {
		if (gtid_parse(kind, sw->fence_point ? sw->fence_point : "", &ps, err, sizeof(err)) == 0) {
			errant = gtid_subtract_str(&rs, &ps);
			gtid_free(&ps);
		}
		gtid_free(&rs);
	}
	if (errant && *errant) {
		/* Repointing it would either fail (GTID strict mode) or keep transactions nobody else has:
		 * leave it stopped and say what it holds. */
		json_array_append_new(sw->errant, json_pack("{s:s, s:s}", "server", s->cfg->name, "gtids", errant));
		sw_emit(sw, "warn", "%s holds transactions %s lacks (%s): left stopped, not repointed; reconcile them "
				    "by hand", s->cfg->name, sw->new_name, errant);
	} else if (pos) {
		sw_follow(sw, db, s, false);
	}
	free(errant);
	db_result_free(res);
	sw_follower_finished(sw);
}

void f_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote)
{
	const struct flavor_ops *f = sw_flavor_of(s);
	const char *q[2] = { f->sql[SQL_STOP_REPLICA],
			     f->id == FLAVOR_MARIADB ? "SELECT @@gtid_current_pos" : f->sql[SQL_FENCE_POINT] };
	sw->pending++;
	sw_db_run(sw, db, q, 2, sw_ccfg(sw)->promote_timeout_ms, f_follow_checked);
}

/* ------------------------------------------------------------------------------------------ */
