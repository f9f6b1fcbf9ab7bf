/* The API commands that start cutovers: switchover and failover (and the watch's switch back).
 * They check the request against the cluster's state, then start a plan on the engine.  The
 * table of all cutover commands is here; the others are in cmd_control.c, cmd_moves.c and
 * cmd_history.c. */
#include "api.h"
#include "cmd_impl.h"
#include "cmdtab.h"
#include "control.h"
#include "daemon.h"
#include "ha.h"
#include "datacheck.h"
#include "shift.h"
#include "tenant.h"
#include "db.h"
#include "event_hooks.h"
#include "gtid.h"
#include "held.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
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


static void start_for(struct switchover *sw, struct client *cl, json_t *req_id, json_t *begin_extra);

struct cluster *cmd_pick_cluster(struct daemon *d, struct client *cl, const struct request *req)
{
	const char *name = json_string_value(json_object_get(req->args, "cluster"));
	struct cluster *c;
	if (!name) {
		if (d->n_clusters == 1)
			return &d->clusters[0];
		client_reply_err(cl, req->id, ERR_INVALID, "several clusters are configured: name one with \"cluster\"");
		return NULL;
	}
	c = daemon_cluster(d, name);
	if (!c)
		client_reply_err(cl, req->id, ERR_NOTFOUND, "no cluster named '%s'", name);
	return c;
}

/* Another action (a fence, unfence or STONITH) runs on the cluster: BUSY naming it; true if so. */
static bool refused_busy(struct client *cl, const struct request *req, const struct cluster *c, bool shift_blocks)
{
	/* a read shift is not in cluster_busy (a failover or a fence must not wait for it), but a
	 * switchover would move the primary under it */
	if (shift_blocks && c->shift && shift_active(c->shift)) {
		client_reply_err(cl, req->id, ERR_BUSY, "cluster %s is busy: %s; abort it or let it end", c->cfg->name,
				 shift_summary(c->shift));
		return true;
	}
	if (shift_blocks && c->tenants && tenant_active(c->tenants)) {
		client_reply_err(cl, req->id, ERR_BUSY, "cluster %s is busy: %s; abort it or let it end", c->cfg->name,
				 tenant_summary(c->tenants));
		return true;
	}
	if (c->cutover || !cluster_busy(c))
		return false;
	client_reply_err(cl, req->id, ERR_BUSY, "cluster %s is busy: %s; try again when it ends", c->cfg->name,
			 cluster_busy(c));
	return true;
}

int cmd_arg_int(const struct request *req, const char *name, int def)
{
	json_t *v = json_object_get(req->args, name);
	return v ? (int)json_integer_value(v) : def;
}

/* Integer arguments are durations or counts: refuse what would wrap or make no sense. */
bool cmd_args_in_range(struct client *cl, const struct request *req, const char *const *names, long long min,
		       long long max)
{
	for (; *names; names++) {
		json_t *v = json_object_get(req->args, *names);
		if (v && (json_integer_value(v) < min || json_integer_value(v) > max)) {
			client_reply_err(cl, req->id, ERR_INVALID, "%s: %lld is out of range (%lld to %lld)", *names,
					 (long long)json_integer_value(v), min, max);
			return false;
		}
	}
	return true;
}

static bool arg_bool(const struct request *req, const char *name, bool def)
{
	json_t *v = json_object_get(req->args, name);
	return v ? json_is_true(v) : def;
}


static void server_names(struct cluster *c, char *buf, size_t len)
{
	size_t i, off = 0;
	buf[0] = '\0';
	for (i = 0; i < c->n_servers && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", c->servers[i]->cfg->name);
}

static void cmd_switchover(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	const char *to = json_string_value(json_object_get(req->args, "to"));
	const char *pause = json_string_value(json_object_get(req->args, "pause_before"));
	struct switchover *sw;
	struct server *old, *cand;
	char names[512], err[256];
	int pause_idx = -1, i, max_lag;

	if (!c)
		return;
	{
		static const char *const ms_args[] = { "max_lag_ms", "drain_timeout_ms", "sync_timeout_ms",
						       "kill_long_after_ms", NULL };
		static const char *const pause_arg[] = { "pause_timeout_ms", NULL };
		if (!cmd_args_in_range(cl, req, ms_args, 0, 86400000) ||
		    !cmd_args_in_range(cl, req, pause_arg, 1000, 86400000))
			return;
	}
	if (refused_busy(cl, req, c, true))
		return;
	/* the last switchover's check holds its old primary at the fence point: a new switchover
	 * would leave that unsettled (a failover, for a dead primary, is not refused) */
	if (!c->cutover && c->datacheck && datacheck_state(c->datacheck) == DC_RUNNING &&
	    !arg_bool(req, "dry_run", false)) {
		json_t *j = datacheck_json(c->datacheck);
		client_reply_err(cl, req->id, ERR_BUSY,
				 "cluster %s is busy: the data check of switchover %s is running (%lld of %lld tables, %lld rows "
				 "so far); try again when it ends (cutoverctl status shows it)", c->cfg->name,
				 json_string_value(json_object_get(j, "switchover")),
				 (long long)json_integer_value(json_object_get(j, "tables_done")),
				 (long long)json_integer_value(json_object_get(j, "tables")),
				 (long long)json_integer_value(json_object_get(j, "rows")));
		json_decref(j);
		return;
	}
	if (c->cutover) {
		if (switchover_active(c->cutover))
			client_reply_err(cl, req->id, ERR_BUSY, "switchover %s (%s → %s) is %s on cluster %s (phase %s)",
					 c->cutover->id, c->cutover->old_name, c->cutover->new_name,
					 state_names[c->cutover->state], c->cfg->name, phase_names[c->cutover->phase]);
		else
			client_reply_err(cl, req->id, ERR_BADSTATE,
					 "an interrupted switchover %s on cluster %s must be resolved first: %s "
					 "(then: cutoverctl resolve --cluster %s)",
					 c->cutover->id, c->cfg->name, c->cutover->reason ? c->cutover->reason : "",
					 c->cfg->name);
		return;
	}
	if (pause) {
		for (i = 1; i < PH__COUNT; i++)
			if (!strcmp(pause, phase_names[i]))
				pause_idx = i;
		if (pause_idx < 0 || pause_idx > PH_PROMOTE) {
			client_reply_err(cl, req->id, ERR_INVALID,
					 "pause_before: '%s' is not a phase one can pause before "
					 "(drain, catchup, fence, sync, promote)", pause);
			return;
		}
	}
	max_lag = cmd_arg_int(req, "max_lag_ms", c->cfg->max_lag_ms);
	old = c->topo.primary >= 0 ? c->servers[c->topo.primary] : NULL;
	if (!old || c->topo.n_writable != 1) {
		client_reply_err(cl, req->id, ERR_BADSTATE,
				 "cluster %s has no single writable primary (%d writable): %s", c->cfg->name,
				 c->topo.n_writable, c->topo.n_reasons ? c->topo.reasons[0] : "not yet polled");
		return;
	}
	server_names(c, names, sizeof(names));
	if (to) {
		cand = daemon_server(d, to);
		if (!cand || cand->cluster != c) {
			client_reply_err(cl, req->id, ERR_NOTFOUND, "no server named '%s' in cluster %s (servers: %s)", to,
					 c->cfg->name, names);
			return;
		}
		if (cand == old) {
			client_reply_err(cl, req->id, ERR_INVALID, "%s is already the primary of %s", to, c->cfg->name);
			return;
		}
		if (cand->cfg->candidate == CAND_NEVER) {
			client_reply_err(cl, req->id, ERR_INVALID, "%s has candidate = never in the configuration", to);
			return;
		}
	} else {
		cand = candidate_best(c, max_lag);
		if (!cand) {
			client_reply_err(cl, req->id, ERR_BADSTATE,
					 "no replica of %s qualifies as a candidate (healthy, both threads running, lag ≤ %d ms, "
					 "candidate not 'never'); name one with \"to\" to see why",
					 old->cfg->name, max_lag);
			return;
		}
	}

	sw = sw_new(d, c, old, cand, err, sizeof(err));
	if (!sw) {
		client_reply_err(cl, req->id, ERR_INTERNAL, "%s", err);
		return;
	}
	sw->dry_run = arg_bool(req, "dry_run", false);
	sw->reverse = arg_bool(req, "reverse", c->cfg->reverse_replication);
	sw->allow_unreachable = arg_bool(req, "allow_unreachable", false);
	sw->allow_older_replicas = arg_bool(req, "allow_older_replicas", false);
	sw->max_lag_ms = max_lag;
	sw->drain_timeout_ms = cmd_arg_int(req, "drain_timeout_ms", c->cfg->drain_timeout_ms);
	sw->kill_long_after_ms = cmd_arg_int(req, "kill_long_after_ms", 0);
	sw->sync_timeout_ms = cmd_arg_int(req, "sync_timeout_ms", c->cfg->sync_timeout_ms);
	if (sw->sync_timeout_ms <= 0) {
		client_reply_err(cl, req->id, ERR_INVALID, "sync_timeout_ms must be > 0");
		switchover_free(sw);
		return;
	}
	sw->pause_before = pause_idx;
	sw->pause_timeout_ms = cmd_arg_int(req, "pause_timeout_ms", 0);
	start_for(sw, cl, req->id,
		 json_pack("{s:s, s:i, s:i, s:i, s:b, s:i, s:b}", "kind", "switchover", "max_lag_ms", sw->max_lag_ms,
			   "drain_timeout_ms", sw->drain_timeout_ms, "sync_timeout_ms", sw->sync_timeout_ms, "reverse",
			   sw->reverse, "kill_long_after_ms", sw->kill_long_after_ms, "allow_older_replicas",
			   sw->allow_older_replicas));
}

void sw_connect(struct switchover *sw)
{
	struct cluster *c = sw->c;
	size_t k;

	sw->db_old = sw_open_db(sw, sw->old);
	sw->db_kill = sw_open_db(sw, sw->old);
	sw->db_cand = sw_open_db(sw, sw->cand);
	for (k = 0; k < c->n_servers && sw->n_reps < MAX_REPLICAS; k++)
		if (c->servers[k] != sw->old && c->servers[k] != sw->cand) {
			/* a rollback point of an earlier upgrade stays as it is, whatever this cutover does */
			sw->rep_fate[sw->n_reps] = held_find(c, c->servers[k]->cfg->name) ? REP_HELD : REP_FOLLOW;
			sw->reps[sw->n_reps] = c->servers[k];
			sw->db_rep[sw->n_reps++] = sw_open_db(sw, c->servers[k]);
		}
}

struct switchover *sw_new(struct daemon *d, struct cluster *c, struct server *old, struct server *cand,
			  char *err, size_t errlen)
{
	struct switchover *sw = xcalloc(1, sizeof(*sw));

	sw->d = d;
	sw->c = c;
	sw->old = old;
	sw->cand = cand;
	sw->old_name = xstrdup(old->cfg->name);
	sw->new_name = xstrdup(cand->cfg->name);
	sw->reverse = c->cfg->reverse_replication;
	sw->max_lag_ms = c->cfg->max_lag_ms;
	sw->drain_timeout_ms = c->cfg->drain_timeout_ms;
	sw->sync_timeout_ms = c->cfg->sync_timeout_ms;
	sw->plan = &plan_switchover;
	sw->pause_before = -1;
	sw->versioned_tables = -1;
	sw->checks = json_array();
	sw->started_us = now_mono_us();
	sw->started_real_us = now_real_us();
	{
		time_t t = (time_t)(sw->started_real_us / 1000000);
		struct tm tm;
		char ts[32];
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
		snprintf(sw->id, sizeof(sw->id), "%s-%03d-%s", ts, (int)((sw->started_real_us / 1000) % 1000),
			 c->cfg->name);
	}
	journal_rotate_if_large(d->cfg->state_dir, c->cfg->name);
	sw->journal = journal_open(d->cfg->state_dir, c->cfg->name, err, errlen);
	if (!sw->journal) {
		size_t l = strlen(err);
		snprintf(err + l, errlen - l, ": a switchover needs its journal");
		switchover_free(sw);
		return NULL;
	}
	sw_connect(sw);
	sw->rsw.cluster = c->cfg->name;
	sw->rsw.old_primary = old->cfg;
	sw->rsw.new_primary = cand->cfg;
	sw->rsw.phase = "preflight";
	sw->rsw.id = sw->id;
	return sw;
}

/* ------------------------------------------------------------------------------------------ */
/* the requester: the command holds its client and observes the cutover; the engine never
 * touches the socket */

struct requester {
	struct client *cl;              /* held until the cutover ends */
	json_t *req_id;
};

static void requester_progress(struct switchover *sw, json_t *line, void *arg)
{
	struct requester *rq = arg;
	if (!client_gone(rq->cl))
		client_send(rq->cl, proto_stream_line(rq->req_id, "progress", json_deep_copy(line)));
}

static void requester_finished(struct switchover *sw, const char *outcome, json_t *rep, void *arg)
{
	struct requester *rq = arg;

	if (!strcmp(outcome, "done") || !strcmp(outcome, "dry_run")) {
		stats_api(sw->failover ? "failover" : "switchover", "ok");
		ha_reply_final(sw->d, &rq->cl, proto_reply_ok(rq->req_id, json_incref(rep)));
	} else {
		bool refused = !strcmp(outcome, "refused");
		json_t *r = proto_reply_err(rq->req_id, refused ? ERR_BADSTATE : ERR_FAILED, "%s%s%s", outcome,
					    sw->reason ? ": " : "", sw->reason ? sw->reason : "");
		if (rep)
			json_object_set(json_object_get(r, "error"), "report", rep);
		stats_api("switchover", refused ? "BADSTATE" : "FAILED");
		ha_reply_final(sw->d, &rq->cl, r);
	}
	json_decref(rq->req_id);
	free(rq);
}

/* Start sw for the client cl (NULL: nobody waits, like the watchdog's automatic failover). */
static void start_for(struct switchover *sw, struct client *cl, json_t *req_id, json_t *begin_extra)
{
	struct requester *rq;
	struct sw_observer o;

	if (!cl) {
		sw_start(sw, NULL, begin_extra);
		return;
	}
	rq = xcalloc(1, sizeof(*rq));
	rq->cl = cl;
	rq->req_id = json_incref(req_id);
	client_hold(cl);
	o.progress = requester_progress;
	o.finished = requester_finished;
	o.arg = rq;
	sw_start(sw, &o, begin_extra);
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
	/* the primary is gone: that comes first; the reads go back as they were */
	if (c->shift && shift_active(c->shift) && !o->dry_run) {
		char why[200];
		if (shift_abort(c->shift, why, sizeof(why)) < 0)
			log_notice("cluster %s: a failover starts while the read shift %s", c->cfg->name, why);
	}
	if (c->tenants && tenant_active(c->tenants) && !o->dry_run) {
		char why[200];
		if (tenant_abort(c->tenants, why, sizeof(why)) < 0)
			log_notice("cluster %s: a failover starts while the tenant move %s", c->cfg->name, why);
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
		cand = candidate_most_advanced(c, old);
		if (!cand) {
			snprintf(err, errlen, "no reachable replica of %s can take over", old->cfg->name);
			return -1;
		}
	}
	sw = sw_new(d, c, old, cand, err, errlen);
	if (!sw)
		return -1;
	sw->failover = true;
	sw->plan = &plan_failover;
	sw->automatic = o->automatic;
	sw->assume_fenced = o->assume_fenced;
	sw->without_routers = o->without_routers;
	sw->dry_run = o->dry_run;
	if (o->sync_timeout_ms > 0)
		sw->sync_timeout_ms = o->sync_timeout_ms;
	sw->reverse = false;   /* the old primary is dead */
	sw->errant = json_array();
	start_for(sw, cl, req_id,
		 json_pack("{s:s, s:b, s:b}", "kind", "failover", "automatic", o->automatic, "assume_fenced",
			   o->assume_fenced));
	return 0;
}

static void cmd_failover(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	json_t *st = json_object_get(req->args, "sync_timeout_ms");
	char err[512];

	if (!c || refused_busy(cl, req, c, false))
		return;
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


const struct api_handler switchover_handlers[] = {
	{ "switchover", cmd_switchover },
	{ "failover", cmd_failover },
	{ "abort", cmd_abort },
	{ "pause", cmd_pause },
	{ "resume", cmd_resume },
	{ "resolve", cmd_resolve },
	{ "history", cmd_history },
	{ "shift", cmd_shift },
	{ "move_tenants", cmd_move_tenants },
	{ NULL, NULL },
};

int switchover_start_reverse(struct daemon *d, struct cluster *c, const char *to, const char *why, char *err,
			     size_t errlen)
{
	struct server *old = c->topo.primary >= 0 && c->topo.n_writable == 1 ? c->servers[c->topo.primary] : NULL;
	struct server *cand = daemon_server(d, to);
	struct switchover *sw;

	if (c->cutover || cluster_busy(c) || (c->shift && shift_active(c->shift)) || (c->tenants && tenant_active(c->tenants))) {
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name,
			 c->cutover ? "a cutover is recorded" : cluster_busy(c) ? cluster_busy(c)
			 : c->shift && shift_active(c->shift) ? shift_summary(c->shift) : tenant_summary(c->tenants));
		return -1;
	}
	if (!old || !cand || cand->cluster != c || cand == old) {
		snprintf(err, errlen, "cluster %s has no single writable primary other than %s", c->cfg->name, to);
		return -1;
	}
	sw = sw_new(d, c, old, cand, err, errlen);
	if (!sw)
		return -1;
	sw->by_watch = true;
	sw->reverse = c->cfg->reverse_replication;
	sw->max_lag_ms = c->cfg->max_lag_ms;
	sw->drain_timeout_ms = c->cfg->drain_timeout_ms;
	sw->sync_timeout_ms = c->cfg->sync_timeout_ms;
	sw->pause_before = -1;
	start_for(sw, NULL, NULL, json_pack("{s:s, s:b, s:s}", "kind", "switchover", "by_watch", 1, "why", why));
	return 0;
}
