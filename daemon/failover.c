/* Emergency failover: the primary is dead.
 *
 *   preflight → fence → sync → promote → verify
 *
 * preflight  the old primary is not reachable as a writable server (else: use switchover); the
 *            candidate (named, or the replica that received the most) is a reachable replica of
 *            it that writes binary logs; the replication account is configured.
 * fence      the old primary must not be able to take writes: SQL (read_only) if it answers,
 *            otherwise its STONITH hook (exit 0); failing both, only the operator's explicit
 *            acknowledgement (assume_fenced) lets it go on.  Without that, nothing changes.
 * sync       the candidate stops fetching and applies everything it has received (its relay log).
 * promote    as in a switchover (writable, routers, detach, the others follow by GTID), except
 *            that there is no reverse replication, and a replica holding transactions the new
 *            primary lacks is left alone and reported instead of being repointed (errant).
 * verify     as in a switchover, the dead primary excepted.
 * The phases it shares with the switchover live in switchover.c. */
#include "api.h"
#include "control.h"
#include "db.h"
#include "job.h"
#include "switchover.h"
#include "switchover_impl.h"
#include "util.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* preflight */

static void f_preflight_eval(struct switchover *sw)
{
	const struct server_status *cs = &sw->fresh_cand;
	const struct server *old = sw->old;
	size_t i;
	bool direct = cs->repl.configured && topo_same_endpoint(cs->repl.source_host, cs->repl.source_port,
								  old->cfg->host, old->cfg->port);

	sw_add_check(sw, "primary_down", !(old->st.reachable && old->st.read_only == 0), true,
		     old->st.reachable && old->st.read_only == 0
			     ? "%s is reachable and writable: use a switchover, not a failover"
			     : "%s is %s", sw->old_name, old->st.reachable ? "reachable but read-only" : "unreachable");
	sw_add_check(sw, "candidate_replicates_from_primary", direct, true,
		     direct ? "%s replicated from %s" : "%s does not replicate from %s", sw->new_name, sw->old_name);
	sw_add_check(sw, "candidate_sql_thread", cs->repl.sql == THREAD_YES, true,
		     "SQL thread %s%s%s (it must apply what it received)", thread_state_name(cs->repl.sql),
		     *cs->repl.last_sql_error ? ": " : "", cs->repl.last_sql_error);
	sw_add_check(sw, "candidate_binlog", cs->log_bin == 1 && cs->log_slave_updates == 1, true,
		     "log_bin=%s, log_slave_updates=%s", cs->log_bin == 1 ? "ON" : "OFF",
		     cs->log_slave_updates == 1 ? "ON" : "OFF");
	sw_add_check(sw, "replication_account", sw_ccfg(sw)->repl_user && sw_ccfg(sw)->repl_secret.password, true,
		     "replicas follow the new primary as '%s'", sw_ccfg(sw)->repl_user ? sw_ccfg(sw)->repl_user : "?");
	/* A router that cannot be reached now cannot be pointed at the new primary either: that is
	 * known before anything changes, so it refuses unless the operator says to go on. */
	for (i = 0; i < sw->c->n_routers; i++) {
		const struct router *r = sw->c->routers[i];
		if (r->view.reachable)
			continue;
		sw_add_check(sw, "router_reachable", sw->without_routers, !sw->without_routers,
			     "router %s unreachable: %s%s", r->cfg->name, r->view.error,
			     sw->without_routers ? " (without_routers: it is left as it is; point it at the new primary "
						   "by hand)"
						 : "; fix it, or pass without_routers to fail over without it");
	}
	/* Warn when another replica received more than the candidate. */
	for (i = 0; i < sw->n_reps; i++) {
		const struct server *r = sw->reps[i];
		const char *rp = r->st.repl.gtid_io_pos ? r->st.repl.gtid_io_pos : server_status_gtid(&r->st);
		const char *cp = cs->repl.gtid_io_pos ? cs->repl.gtid_io_pos : server_status_gtid(cs);
		if (r == old || !r->st.reachable || !rp || !cp)
			continue;
		if (gtid_str_contains(sw_gtid_kind_of(r), cp, rp) == 0)
			sw_add_check(sw, "most_advanced", false, false,
				     "%s received transactions %s did not (%s vs %s): they will be reported as errant",
				     r->cfg->name, sw->new_name, rp, cp);
	}
	if (sw_refused(sw))
		return;
	sw_phase_next(sw);
}

static void f_pf_cand_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (!sw_take_cand_status(sw, res)) {
		sw_phase_failed(sw, "%s: %s", sw->new_name, res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	f_preflight_eval(sw);
}

static void f_enter_preflight(struct switchover *sw)
{
	sw_run_cand_status(sw, f_pf_cand_done);
}

/* ------------------------------------------------------------------------------------------ */
/* fence the dead primary */

static void f_fence_unfenced(struct switchover *sw);
static bool f_run_hook(struct switchover *sw, bool stonith);

static void f_fence_hook_done(struct job_result *r, void *arg)
{
	struct switchover *sw = arg;
	char why[300], last[300];

	sw->job = NULL;
	if (sw->state != SW_RUNNING)
		return;
	job_result_last_line(r, last, sizeof(last));
	if (job_result_ok(r)) {
		sw->fenced = true;
		sw_journal(sw, JE_FENCED, true, json_pack("{s:s}", "by", sw->hook_is_stonith ? "stonith" : "fence_hook"));
		sw_emit(sw, "ok", "%s hook fenced %s: %s%s%s", sw->hook_is_stonith ? "STONITH" : "fence", sw->old_name,
			job_result_describe(r, why, sizeof(why)), *last ? ": " : "", last);
		sw_phase_next(sw);
		return;
	}
	sw->hooks_failed = true;
	sw_emit(sw, "warn", "%s hook failed: %s%s%s", sw->hook_is_stonith ? "STONITH" : "fence",
		job_result_describe(r, why, sizeof(why)), *last ? ": " : "", last);
	/* a failed fence hook: STONITH is the last resort */
	if (!sw->hook_is_stonith && f_run_hook(sw, true))
		return;
	f_fence_unfenced(sw);
}

static bool f_run_hook(struct switchover *sw, bool stonith);

static void f_fence_sql_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *ro = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	char sqlerr[512];

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (ro && !strcmp(ro, "1")) {
		db_result_free(res);
		sw->fenced = true;
		sw_journal(sw, JE_FENCED, true, json_pack("{s:s}", "by", "sql"));
		sw_emit(sw, "ok", "%s answered and is read-only now", sw->old_name);
		sw_phase_next(sw);
		return;
	}
	snprintf(sqlerr, sizeof(sqlerr), "%s", res->err ? res->errmsg : "read_only did not turn on");
	db_result_free(res);
	sw_emit(sw, "info", "SQL fence of %s failed: %s", sw->old_name, sqlerr);
	free(sw->fence_sql_error);
	sw->fence_sql_error = xstrdup(sqlerr);
	/* then the fence hook (a network cut), then STONITH */
	if (f_run_hook(sw, false) || f_run_hook(sw, true))
		return;
	f_fence_unfenced(sw);
}

/* Start the old primary's fence or STONITH hook; false if it has none. */
static bool f_run_hook(struct switchover *sw, bool stonith)
{
	char *reason = xasprintf("%s failover of %s to %s", sw->automatic ? "automatic" : "emergency", sw->old_name,
				 sw->new_name);
	sw->hook_is_stonith = stonith;
	sw->job = fence_hook_run(sw->d, sw->c, sw->old, stonith, reason, f_fence_hook_done, sw);
	free(reason);
	if (sw->job)
		sw_emit(sw, "info", "running the %s hook against %s", stonith ? "STONITH" : "fence", sw->old_name);
	return sw->job != NULL;
}

/* Nothing could fence it: only the operator's word lets the failover go on. */
static void f_fence_unfenced(struct switchover *sw)
{
	if (sw->assume_fenced) {
		sw_emit(sw, "warn", "%s could not be fenced by cutoverd; going on because the operator said it cannot "
				    "take writes", sw->old_name);
		sw_journal(sw, JE_FENCED, true, json_pack("{s:s}", "by", "operator"));
		sw_phase_next(sw);
		return;
	}
	sw_phase_failed(sw, "%s could not be fenced (SQL: %s; %s). Fence it yourself and pass assume_fenced "
			    "(cutoverctl failover --assume-fenced) if it cannot take writes", sw->old_name,
			sw->fence_sql_error ? sw->fence_sql_error : "?",
			sw->hooks_failed ? "the hooks failed" : "no fence_hook or stonith_hook");
}

static void f_enter_fence(struct switchover *sw)
{
	const struct flavor_ops *fo = sw_flavor_of(sw->old);
	const char *q[2] = { fo->sql[SQL_FENCE], "SELECT @@global.read_only" };
	/* the report's write-blocked time runs from here to the new primary being routed */
	sw->fence_start_us = now_mono_us();
	db_run(sw->db_old, q, 2, sw->d->cfg->connect_timeout_ms + sw_ccfg(sw)->fence_timeout_ms, f_fence_sql_done, sw);
}

/* ------------------------------------------------------------------------------------------ */
/* sync: apply the relay log */

static void f_applied_pos(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *pos = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (!pos) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->new_name, res->err ? res->errmsg : "no value");
		db_result_free(res);
		return;
	}
	free(sw->fence_point);
	sw->fence_point = xstrdup(pos);   /* for a failover: everything the new primary starts from */
	sw_emit(sw, "ok", "%s applied everything it received: %s", sw->new_name, pos);
	db_result_free(res);
	sw_phase_next(sw);
}

static void f_relay_applied(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (!v || strcmp(v, "0")) {
		sw_phase_failed(sw, "%s did not apply its relay log within %d ms%s%s", sw->new_name, sw->sync_timeout_ms,
				res->err ? ": " : "", res->err ? res->errmsg : "");
		db_result_free(res);
		return;
	}
	db_result_free(res);
	db_run1(sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, f_applied_pos,
		sw);
}

static void f_io_stopped(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	struct repl_status r;
	const char *received;

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (res->err) {
		sw_phase_failed(sw, "stopping %s's IO thread: %s", sw->new_name, res->errmsg);
		db_result_free(res);
		return;
	}
	sw->cand_io_stopped = true;
	memset(&r, 0, sizeof(r));
	f->parse_replica(res->rs[1], &r);
	/* MariaDB: Gtid_IO_Pos; MySQL: the retrieved set (what the relay log holds). */
	received = r.gtid_io_pos && *r.gtid_io_pos ? r.gtid_io_pos : NULL;
	if (!received) {
		sw_emit(sw, "info", "%s received nothing to apply", sw->new_name);
		free(r.gtid_io_pos);
		free(r.executed_gtid);
		db_result_free(res);
		db_run1(sw->db_cand, f->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, f_applied_pos, sw);
		return;
	}
	{
		char *q = xasprintf(f->sql[SQL_WAIT_GTID], received, sw->sync_timeout_ms / 1000.0);
		sw_emit(sw, "info", "%s applies its relay log up to %s", sw->new_name, received);
		db_run1(sw->db_cand, q, sw->sync_timeout_ms + 1000, f_relay_applied, sw);
		free(q);
	}
	free(r.gtid_io_pos);
	free(r.executed_gtid);
	db_result_free(res);
}

static void f_enter_sync(struct switchover *sw)
{
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	const char *q[2] = { f->id == FLAVOR_MARIADB ? "STOP SLAVE IO_THREAD" : "STOP REPLICA IO_THREAD",
			     f->sql[SQL_REPLICA_STATUS] };
	db_run(sw->db_cand, q, 2, sw_ccfg(sw)->promote_timeout_ms, f_io_stopped, sw);
}

void (*const failover_enter[PH__COUNT])(struct switchover *) = {
	[PH_PREFLIGHT] = f_enter_preflight,
	[PH_FENCE] = f_enter_fence,
	[PH_SYNC] = f_enter_sync,
};

/* ------------------------------------------------------------------------------------------ */
/* the other replicas: repoint them, unless they hold transactions the new primary lacks */

struct follow_check {
	struct switchover *sw;
	struct db *db;
	const struct server *s;
};

static void f_follow_checked(struct db *db, struct db_result *res, void *arg)
{
	struct follow_check *fc = arg;
	struct switchover *sw = fc->sw;
	const char *pos = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	struct gtid_set rs, ps;
	char err[128], *errant = NULL;
	enum gtid_kind kind = sw_gtid_kind_of(fc->s);

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		free(fc);
		return;
	}
	if (!pos) {
		sw_set_failure(sw, "%s: %s", fc->s->cfg->name, res->err ? res->errmsg : "no GTID position");
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
		json_array_append_new(sw->errant, json_pack("{s:s, s:s}", "server", fc->s->cfg->name, "gtids", errant));
		sw_emit(sw, "warn", "%s holds transactions %s lacks (%s): left stopped, not repointed; reconcile them "
				    "by hand", fc->s->cfg->name, sw->new_name, errant);
	} else if (pos) {
		sw_follow(sw, fc->db, fc->s, false);
	}
	free(errant);
	db_result_free(res);
	free(fc);
	sw_follower_finished(sw);
}

void f_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote)
{
	const struct flavor_ops *f = sw_flavor_of(s);
	struct follow_check *fc = xcalloc(1, sizeof(*fc));
	const char *q[2] = { f->sql[SQL_STOP_REPLICA],
			     f->id == FLAVOR_MARIADB ? "SELECT @@gtid_current_pos" : f->sql[SQL_FENCE_POINT] };
	fc->sw = sw;
	fc->db = db;
	fc->s = s;
	sw->pending++;
	db_run(db, q, 2, sw_ccfg(sw)->promote_timeout_ms, f_follow_checked, fc);
}

/* ------------------------------------------------------------------------------------------ */
/* starting one */

/* The replica that received the most from the dead primary (never a `candidate = never`). */
static struct server *most_advanced(struct cluster *c, const struct server *old)
{
	struct server *best = NULL;
	size_t i;

	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		const char *pos, *bpos;
		enum gtid_kind k;
		if (s == old || !s->st.reachable || s->health.state == HEALTH_DOWN || !s->st.repl.configured ||
		    s->cfg->candidate == CAND_NEVER ||
		    !topo_same_endpoint(s->st.repl.source_host, s->st.repl.source_port, old->cfg->host, old->cfg->port))
			continue;
		if (!best) {
			best = s;
			continue;
		}
		k = s->flavor && s->flavor->id != FLAVOR_MARIADB ? GTID_MYSQL : GTID_MARIADB;
		pos = s->st.repl.gtid_io_pos ? s->st.repl.gtid_io_pos : server_status_gtid(&s->st);
		bpos = best->st.repl.gtid_io_pos ? best->st.repl.gtid_io_pos : server_status_gtid(&best->st);
		if (pos && bpos && gtid_str_contains(k, pos, bpos) == 1 && gtid_str_contains(k, bpos, pos) != 1)
			best = s;
		else if (pos && bpos && gtid_str_contains(k, pos, bpos) == 1 && s->cfg->candidate == CAND_PREFER &&
			 best->cfg->candidate != CAND_PREFER)
			best = s;
	}
	return best;
}

int switchover_start_failover(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id,
			      const struct failover_opts *o, char *err, size_t errlen)
{
	const char *to = o->to;
	struct server *old = c->authority ? daemon_server(d, c->authority) : NULL;
	struct server *cand;
	struct switchover *sw;

	if (c->cutover) {
		snprintf(err, errlen, "%s %s is %s on cluster %s", c->cutover->failover ? "failover" : "switchover",
			 c->cutover->id, state_names[c->cutover->state], c->cfg->name);
		return -1;
	}
	if (cluster_busy(c)) {
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, cluster_busy(c));
		return -1;
	}
	if (!old || old->cluster != c) {
		snprintf(err, errlen, "cluster %s has no recorded primary to fail over from", c->cfg->name);
		return -1;
	}
	if (to) {
		cand = daemon_server(d, to);
		if (!cand || cand->cluster != c) {
			snprintf(err, errlen, "no server named '%s' in cluster %s", to, c->cfg->name);
			return -1;
		}
		if (cand == old) {
			snprintf(err, errlen, "%s is the primary being failed over from", to);
			return -1;
		}
	} else {
		cand = most_advanced(c, old);
		if (!cand) {
			snprintf(err, errlen, "no reachable replica of %s can take over", old->cfg->name);
			return -1;
		}
	}
	sw = sw_new(d, c, old, cand, err, errlen);
	if (!sw)
		return -1;
	sw->failover = true;
	sw->automatic = o->automatic;
	sw->assume_fenced = o->assume_fenced;
	sw->without_routers = o->without_routers;
	sw->dry_run = o->dry_run;
	if (o->sync_timeout_ms > 0)
		sw->sync_timeout_ms = o->sync_timeout_ms;
	sw->reverse = false;   /* the old primary is dead */
	sw->errant = json_array();
	sw_start(sw, cl, req_id,
		 json_pack("{s:s, s:b, s:b}", "kind", "failover", "automatic", o->automatic, "assume_fenced",
			   o->assume_fenced));
	return 0;
}

static void cmd_failover(struct daemon *d, struct client *cl, const struct request *req)
{
	const char *name = json_string_value(json_object_get(req->args, "cluster"));
	struct cluster *c = name ? daemon_cluster(d, name) : d->n_clusters == 1 ? &d->clusters[0] : NULL;
	json_t *st = json_object_get(req->args, "sync_timeout_ms");
	char err[512];

	if (!c) {
		if (name)
			client_reply_err(cl, req->id, ERR_NOTFOUND, "no cluster named '%s'", name);
		else
			client_reply_err(cl, req->id, ERR_INVALID, "several clusters are configured: name one with \"cluster\"");
		return;
	}
	if (!c->cutover && cluster_busy(c)) {
		client_reply_err(cl, req->id, ERR_BUSY, "cluster %s is busy: %s; try again when it ends", c->cfg->name,
				 cluster_busy(c));
		return;
	}
	if (c->cutover) {
		client_reply_err(cl, req->id, switchover_active(c->cutover) ? ERR_BUSY : ERR_BADSTATE,
				 "%s %s is %s on cluster %s", c->cutover->failover ? "failover" : "switchover", c->cutover->id,
				 state_names[c->cutover->state], c->cfg->name);
		return;
	}
	if (st && (json_integer_value(st) <= 0 || json_integer_value(st) > 86400000)) {
		client_reply_err(cl, req->id, ERR_INVALID, "sync_timeout_ms: %lld is out of range (1 to 86400000)",
				 (long long)json_integer_value(st));
		return;
	}
	{
		struct failover_opts o = {
			.to = json_string_value(json_object_get(req->args, "to")),
			.assume_fenced = json_is_true(json_object_get(req->args, "assume_fenced")),
			.without_routers = json_is_true(json_object_get(req->args, "without_routers")),
			.dry_run = json_is_true(json_object_get(req->args, "dry_run")),
			.sync_timeout_ms = st ? (int)json_integer_value(st) : 0,
		};
		if (switchover_start_failover(d, c, cl, req->id, &o, err, sizeof(err)) < 0)
			client_reply_err(cl, req->id, strstr(err, "no server named") ? ERR_NOTFOUND : ERR_BADSTATE, "%s",
					 err);
	}
}

const struct api_handler failover_handlers[] = {
	{ "failover", cmd_failover },
	{ NULL, NULL },
};
