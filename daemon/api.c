/* The API's commands: one handler per entry of lib/cmdtab.c, looked up by name.  Handlers
 * build JSON from the daemon's live state; nothing here waits on a server.  Keys are literals,
 * set without jansson's UTF-8 check of each (a tenth of a fleet's status); the one key from the
 * config (a router's server map) keeps it. */
#include "api.h"
#include "afterwatch.h"
#include "datacheck.h"
#include "shift.h"
#include "tenant.h"
#include "ha.h"
#include "cmdtab.h"
#include "control.h"
#include "daemon.h"
#include "held.h"
#include "log.h"
#include "router.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static json_t *tristate_json(tristate t)
{
	return t < 0 ? json_null() : json_boolean(t);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *replication_json(const struct cluster *c, const struct server *s, const struct topo_server *ts)
{
	const struct repl_status *r = &s->st.repl;
	json_t *o;

	if (!r->configured)
		return json_null();
	o = json_object();
	json_object_set_new_nocheck(o, "source", ts && ts->source >= 0 ? json_string(c->servers[ts->source]->cfg->name)
							 : json_null());
	json_object_set_new_nocheck(o, "source_host", json_string(r->source_host));
	json_object_set_new_nocheck(o, "source_port", json_integer(r->source_port));
	json_object_set_new_nocheck(o, "io_running", json_string(thread_state_name(r->io)));
	json_object_set_new_nocheck(o, "sql_running", json_string(thread_state_name(r->sql)));
	json_object_set_new_nocheck(o, "seconds_behind_master", r->seconds_behind < 0 ? json_null()
									  : json_integer(r->seconds_behind));
	json_object_set_new_nocheck(o, "last_io_errno", json_integer(r->last_io_errno));
	json_object_set_new_nocheck(o, "last_io_error", json_string(r->last_io_error));
	json_object_set_new_nocheck(o, "last_sql_errno", json_integer(r->last_sql_errno));
	json_object_set_new_nocheck(o, "last_sql_error", json_string(r->last_sql_error));
	json_object_set_new_nocheck(o, "using_gtid", json_string(r->using_gtid));
	json_object_set_new_nocheck(o, "retrieved_gtid", str_or_null(r->gtid_io_pos));
	json_object_set_new_nocheck(o, "executed_gtid", str_or_null(r->executed_gtid ? r->executed_gtid
									      : s->st.gtid_slave_pos));
	return o;
}

json_t *api_server_json(const struct cluster *c, size_t idx)
{
	const struct server *s = c->servers[idx];
	const struct server_status *st = &s->st;
	const struct topo_server *ts = idx < c->topo.n ? &c->topo.srv[idx] : NULL;
	json_t *o = json_object(), *g, *probs;
	bool seen = st->last_ok_ms > 0;
	size_t k;

	json_object_set_new_nocheck(o, "name", json_string(s->cfg->name));
	json_object_set_new_nocheck(o, "host", s->cfg->socket ? json_string(s->cfg->socket) : json_string(s->cfg->host));
	json_object_set_new_nocheck(o, "port", s->cfg->socket ? json_null() : json_integer(s->cfg->port));
	json_object_set_new_nocheck(o, "role", json_string(role_name(ts ? ts->role : ROLE_UNKNOWN)));
	json_object_set_new_nocheck(o, "state", json_string(health_name(s->health.state)));
	json_object_set_new_nocheck(o, "reachable", json_boolean(st->reachable));
	json_object_set_new_nocheck(o, "last_error", *st->last_error && !st->reachable ? json_string(st->last_error)
									       : json_null());
	json_object_set_new_nocheck(o, "last_ok_age_ms", seen ? json_integer(now_mono_ms() - st->last_ok_ms) : json_null());
	json_object_set_new_nocheck(o, "poll_ms", seen ? json_real((double)st->poll_us / 1000.0) : json_null());
	json_object_set_new_nocheck(o, "version", seen ? json_string(st->version) : json_null());
	json_object_set_new_nocheck(o, "flavor", json_string(flavor_name(st->flavor)));
	json_object_set_new_nocheck(o, "server_id", seen ? json_integer((json_int_t)st->server_id) : json_null());
	/* What an unreachable server said last is kept (gtid, version, …), but not presented as
	 * its current read_only or lag: those are null until it answers again. */
	json_object_set_new_nocheck(o, "stale", json_boolean(seen && !st->reachable));
	json_object_set_new_nocheck(o, "read_only", st->reachable ? tristate_json(st->read_only) : json_null());
	json_object_set_new_nocheck(o, "super_read_only", st->reachable ? tristate_json(st->super_read_only) : json_null());
	/* as last seen: a failover reads it from the dead primary's last poll */
	json_object_set_new_nocheck(o, "semi_sync", *st->semi_sync ? json_string(st->semi_sync) : json_null());
	json_object_set_new_nocheck(o, "log_bin", tristate_json(st->log_bin));
	json_object_set_new_nocheck(o, "log_slave_updates", tristate_json(st->log_slave_updates));
	json_object_set_new_nocheck(o, "gtid_strict_mode", tristate_json(st->gtid_strict_mode));
	json_object_set_new_nocheck(o, "gtid", str_or_null(server_status_gtid(st)));
	g = json_object();
	json_object_set_new_nocheck(g, "current_pos", str_or_null(st->gtid_current_pos));
	json_object_set_new_nocheck(g, "binlog_pos", str_or_null(st->gtid_binlog_pos));
	json_object_set_new_nocheck(g, "slave_pos", str_or_null(st->gtid_slave_pos));
	json_object_set_new_nocheck(g, "executed", str_or_null(st->gtid_executed));
	json_object_set_new_nocheck(o, "gtid_positions", g);
	json_object_set_new_nocheck(o, "binlog", *st->binlog_file ? json_pack("{s:s, s:I}", "file", st->binlog_file, "pos",
								    (json_int_t)st->binlog_pos)
							 : json_null());
	json_object_set_new_nocheck(o, "lag_ms", st->reachable && st->heartbeat_lag_ms >= 0 ? json_integer(st->heartbeat_lag_ms)
									     : json_null());
	json_object_set_new_nocheck(o, "seconds_behind_master", st->reachable && st->repl.configured && st->repl.seconds_behind >= 0
								? json_integer(st->repl.seconds_behind)
								: json_null());
	json_object_set_new_nocheck(o, "replication", replication_json(c, s, ts));
	json_object_set_new_nocheck(o, "errant_gtid", ts ? str_or_null(ts->errant) : json_null());
	probs = json_array();
	for (k = 0; ts && k < ts->n_problems; k++)
		json_array_append_new(probs, json_string(ts->problems[k]));
	json_object_set_new_nocheck(o, "problems", probs);
	return o;
}

static json_t *router_json(const struct cluster *c, const struct router *r, const char *primary)
{
	json_t *o = json_object(), *arr = json_array();
	const struct router_backend *w;
	int count;
	size_t i;

	json_object_set_new_nocheck(o, "name", json_string(r->cfg->name));
	json_object_set_new_nocheck(o, "type", json_string(router_type_name(r->cfg->type)));
	json_object_set_new_nocheck(o, "reachable", json_boolean(r->view.reachable));
	json_object_set_new_nocheck(o, "error", *r->view.error ? json_string(r->view.error) : json_null());
	w = router_writer(&r->view, &count);
	json_object_set_new_nocheck(o, "writer", w && count == 1 && *w->server ? json_string(w->server) : json_null());
	json_object_set_new_nocheck(o, "writers", json_integer(count));
	json_object_set_new_nocheck(o, "writer_matches_primary",
			    w && count == 1 && primary ? json_boolean(!strcmp(w->server, primary)) : json_null());
	{
		json_t *ro = json_null();
		for (i = 0; w && count == 1 && i < c->n_servers; i++)
			if (!strcmp(c->servers[i]->cfg->name, w->server) && c->servers[i]->st.read_only >= 0) {
				json_decref(ro);
				ro = json_boolean(c->servers[i]->st.read_only);
			}
		json_object_set_new_nocheck(o, "writer_read_only", ro);
	}
	if (r->cfg->type == ROUTER_PROXYSQL) {
		json_object_set_new_nocheck(o, "replication_hostgroups", json_boolean(r->view.auto_failover_hostgroups));
		json_object_set_new_nocheck(o, "pending", *r->view.pending ? json_string(r->view.pending) : json_null());
		json_object_set_new_nocheck(o, "admin_clash", *r->view.admin_clash ? json_string(r->view.admin_clash) : json_null());
		json_object_set_new_nocheck(o, "caution", *r->view.caution ? json_string(r->view.caution) : json_null());
	}
	for (i = 0; i < r->view.n; i++) {
		const struct router_backend *b = &r->view.be[i];
		json_array_append_new(arr, json_pack("{s:o, s:s, s:s, s:b, s:b, s:b, s:i, s:i, s:i}",
			"server", *b->server ? json_string(b->server) : json_null(), "name", b->name,
			"state", b->state, "admin_up", b->admin_up, "healthy", b->healthy, "writer", b->writer,
			"sessions", b->sessions, "weight", b->weight, "hostgroup", b->hostgroup));
	}
	json_object_set_new_nocheck(o, "backends", arr);
	return o;
}

static json_t *cluster_json(const struct cluster *c)
{
	json_t *st_wd;
	json_t *o = json_object(), *arr;
	const char *primary = c->topo.primary >= 0 ? c->servers[c->topo.primary]->cfg->name : NULL;
	size_t i;

	json_object_set_new_nocheck(o, "name", json_string(c->cfg->name));
	json_object_set_new_nocheck(o, "verdict", json_string(verdict_name(c->vstate.shown)));
	json_object_set_new_nocheck(o, "verdict_now", json_string(verdict_name(c->topo.raw)));
	/* The verdict's own reasons, which are not the present ones while it is held. */
	arr = json_array();
	for (i = 0; i < c->vstate.n_reasons; i++)
		json_array_append_new(arr, json_string(c->vstate.reasons[i]));
	json_object_set_new_nocheck(o, "reasons", arr);
	arr = json_array();
	for (i = 0; i < c->topo.n_reasons; i++)
		json_array_append_new(arr, json_string(c->topo.reasons[i]));
	json_object_set_new_nocheck(o, "reasons_now", arr);
	json_object_set_new_nocheck(o, "primary", str_or_null(primary));
	json_object_set_new_nocheck(o, "cutover", c->cutover ? switchover_json(c->cutover) : json_null());
	json_object_set_new_nocheck(o, "authority", str_or_null(c->authority));
	json_object_set_new_nocheck(o, "kept_fenced", json_incref(json_object_get(st_wd = watchdog_state(c), "sticky")));
	json_decref(st_wd);
	json_object_set_new_nocheck(o, "alarms", watchdog_alarms_json(c));
	json_object_set_new_nocheck(o, "rollback_point", held_json(c));
	json_object_set_new_nocheck(o, "data_check", c->datacheck ? datacheck_json(c->datacheck) : json_null());
	json_object_set_new_nocheck(o, "watch", c->watch ? afterwatch_json(c->watch) : json_null());
	json_object_set_new_nocheck(o, "shift", c->shift ? shift_json(c->shift) : json_null());
	json_object_set_new_nocheck(o, "tenant_move", c->tenants ? tenant_json(c->tenants) : json_null());
	arr = json_array();
	for (i = 0; i < c->n_servers; i++)
		json_array_append_new(arr, api_server_json(c, i));
	json_object_set_new_nocheck(o, "servers", arr);
	arr = json_array();
	for (i = 0; i < c->n_routers; i++)
		json_array_append_new(arr, router_json(c, c->routers[i], primary));
	json_object_set_new_nocheck(o, "routers", arr);
	return o;
}

json_t *api_status_json(struct daemon *d, const char *cluster)
{
	json_t *o = json_object(), *arr = json_array();
	size_t i;

	json_object_set_new_nocheck(o, "poll_interval_ms", json_integer(d->cfg->poll_interval_ms));
	json_object_set_new_nocheck(o, "ha", d->ha ? ha_json(d->ha) : json_null());
	for (i = 0; i < d->n_clusters; i++)
		if (!cluster || !strcmp(cluster, d->clusters[i].cfg->name))
			json_array_append_new(arr, cluster_json(&d->clusters[i]));
	json_object_set_new_nocheck(o, "clusters", arr);
	return o;
}

static json_t *tree_node(const struct cluster *c, size_t idx, int depth)
{
	const struct server *s = c->servers[idx];
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "name", s->cfg->name, "state",
			      health_name(s->health.state), "role", role_name(c->topo.srv[idx].role), "read_only",
			      tristate_json(s->st.read_only), "lag_ms",
			      s->st.heartbeat_lag_ms >= 0 ? json_integer(s->st.heartbeat_lag_ms) : json_null());
	json_t *kids = json_array();
	size_t i;

	if (s->st.repl.configured) {
		json_object_set_new_nocheck(o, "io_running", json_string(thread_state_name(s->st.repl.io)));
		json_object_set_new_nocheck(o, "sql_running", json_string(thread_state_name(s->st.repl.sql)));
	}
	for (i = 0; depth < 16 && i < c->topo.n; i++)
		if (i != idx && c->topo.srv[i].source == (int)idx && c->topo.srv[i].role == ROLE_REPLICA)
			json_array_append_new(kids, tree_node(c, i, depth + 1));
	json_object_set_new_nocheck(o, "replicas", kids);
	return o;
}

static json_t *topology_json(struct daemon *d, const char *cluster)
{
	json_t *o = json_object(), *arr = json_array();
	size_t i, k;

	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster *c = &d->clusters[i];
		json_t *co, *detached = json_array();
		if (cluster && strcmp(cluster, c->cfg->name))
			continue;
		co = json_pack("{s:s, s:o, s:s}", "name", c->cfg->name, "primary",
			       c->topo.primary >= 0 ? json_string(c->servers[c->topo.primary]->cfg->name) : json_null(),
			       "verdict", verdict_name(c->vstate.shown));
		json_object_set_new_nocheck(co, "tree", c->topo.primary >= 0 && (size_t)c->topo.primary < c->topo.n
							? tree_node(c, (size_t)c->topo.primary, 0)
							: json_null());
		for (k = 0; k < c->topo.n; k++) {
			const struct topo_server *ts = &c->topo.srv[k];
			const char *why = NULL;
			if ((int)k == c->topo.primary)
				continue;
			if (ts->role == ROLE_UNKNOWN)
				why = c->servers[k]->health.state == HEALTH_DOWN ? "unreachable" : "not yet known";
			else if (ts->role == ROLE_ORPHAN)
				why = "not replicating";
			else if (ts->role == ROLE_HELD)
				why = "held at the fence point: the rollback point of an upgrade";
			else if (ts->source < 0)
				why = "replicates from a server outside the configuration";
			else if (c->topo.primary < 0)
				why = "no primary";
			if (why)
				json_array_append_new(detached, json_pack("{s:s, s:s}", "name", c->servers[k]->cfg->name,
									 "reason", why));
		}
		json_object_set_new_nocheck(co, "detached", detached);
		json_array_append_new(arr, co);
	}
	json_object_set_new_nocheck(o, "clusters", arr);
	return o;
}

static json_t *strv_json(char *const *v)
{
	json_t *arr = json_array();
	for (; v && *v; v++)
		json_array_append_new(arr, json_string(*v));
	return arr;
}

static json_t *secret_json(const struct cfg_secret *s)
{
	if (s->password || s->file || s->env || s->inline_set)
		return json_string("<redacted>");
	return json_null();
}

static json_t *config_json(const struct config *cfg)
{
	json_t *o = json_object(), *g = json_object(), *arr;
	size_t i, k;

	json_object_set_new_nocheck(o, "path", json_string(cfg->path));
	json_object_set_new_nocheck(g, "socket", json_string(cfg->socket_path));
	json_object_set_new_nocheck(g, "socket_group", str_or_null(cfg->socket_group));
	json_object_set_new_nocheck(g, "socket_mode", json_sprintf("%04o", cfg->socket_mode));
	arr = json_array();
	for (i = 0; i < cfg->n_admin_uids; i++)
		json_array_append_new(arr, json_integer(cfg->admin_uids[i]));
	json_object_set_new_nocheck(g, "admin_uids", arr);
	arr = json_array();
	for (i = 0; i < cfg->n_admin_gids; i++)
		json_array_append_new(arr, json_integer(cfg->admin_gids[i]));
	json_object_set_new_nocheck(g, "admin_gids", arr);
	json_object_set_new_nocheck(g, "poll_interval_ms", json_integer(cfg->poll_interval_ms));
	json_object_set_new_nocheck(g, "connect_timeout_ms", json_integer(cfg->connect_timeout_ms));
	json_object_set_new_nocheck(g, "query_timeout_ms", json_integer(cfg->query_timeout_ms));
	json_object_set_new_nocheck(g, "state_dir", json_string(cfg->state_dir));
	json_object_set_new_nocheck(g, "log_level", json_string(log_level_name(cfg->log_level)));
	json_object_set_new_nocheck(g, "max_clients", json_integer(cfg->max_clients));
	json_object_set_new_nocheck(g, "idle_timeout_ms", json_integer(cfg->idle_timeout_ms));
	json_object_set_new_nocheck(g, "metrics_address", str_or_null(cfg->metrics_address));
	json_object_set_new_nocheck(g, "event_hooks", strv_json(cfg->event_hooks));
	json_object_set_new_nocheck(g, "event_hook_timeout_ms", json_integer(cfg->event_hook_timeout_ms));
	json_object_set_new_nocheck(g, "event_hook_rate", json_integer(cfg->event_hook_rate));
	json_object_set_new_nocheck(o, "global", g);

	arr = json_array();
	for (i = 0; i < cfg->n_clusters; i++) {
		const struct cfg_cluster *c = &cfg->clusters[i];
		json_t *hooks = strv_json(c->preflight_hooks), *co;
		json_array_append_new(arr, co = json_pack(
			"{s:s, s:i, s:i, s:b, s:s, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b, s:o, s:s}",
			"name", c->name, "lag_warn_ms", c->lag_warn_ms, "hysteresis", c->hysteresis,
			"heartbeat", c->heartbeat, "heartbeat_table", c->heartbeat_table,
			"repl_user", str_or_null(c->repl_user), "repl_password", secret_json(&c->repl_secret),
			"max_lag_ms", c->max_lag_ms, "catchup_lag_ms", c->catchup_lag_ms,
			"drain_timeout_ms", c->drain_timeout_ms, "fence_timeout_ms", c->fence_timeout_ms,
			"sync_timeout_ms", c->sync_timeout_ms, "promote_timeout_ms", c->promote_timeout_ms,
			"reverse_replication", c->reverse_replication, "kill_sessions", c->kill_sessions,
			"preflight_hooks", hooks, "split_brain", splitbrain_name(c->splitbrain)));
		json_object_set_new_nocheck(co, "stonith_hook", str_or_null(c->stonith_hook));
		json_object_set_new_nocheck(co, "upstream", str_or_null(c->upstream));
		json_object_set_new_nocheck(co, "fence_hook", str_or_null(c->fence_hook));
		json_object_set_new_nocheck(co, "hook_timeout_ms", json_integer(c->hook_timeout_ms));
		json_object_set_new_nocheck(co, "fence_budget_ms", json_integer(c->fence_budget_ms));
		json_object_set_new_nocheck(co, "auto_failover", json_boolean(c->auto_failover));
		json_object_set_new_nocheck(co, "failover_after", json_integer(c->failover_after));
		json_object_set_new_nocheck(co, "failover_block_ms", json_integer(c->failover_block_ms));
		json_object_set_new_nocheck(co, "catchup_timeout_ms", json_integer(c->catchup_timeout_ms));
		json_object_set_new_nocheck(co, "pause_timeout_ms", json_integer(c->pause_timeout_ms));
		json_object_set_new_nocheck(co, "blocked_pause_timeout_ms", json_integer(c->blocked_pause_timeout_ms));
		json_object_set_new_nocheck(co, "event_hooks", strv_json(c->event_hooks));
	}
	json_object_set_new_nocheck(o, "clusters", arr);

	arr = json_array();
	for (i = 0; i < cfg->n_servers; i++) {
		const struct cfg_server *s = &cfg->servers[i];
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:o, s:i, s:o, s:s, s:o, s:s, s:o, s:s, s:o, s:o}",
			"name", s->name, "cluster", s->cluster, "host", str_or_null(s->host), "port", s->port,
			"socket", str_or_null(s->socket), "user", s->user, "password", secret_json(&s->secret),
			"tls_mode", tls_mode_name(s->tls_mode), "tls_ca", str_or_null(s->tls_ca),
			"candidate", candidate_name(s->candidate), "stonith_hook", str_or_null(s->stonith_hook),
			"fence_hook", str_or_null(s->fence_hook)));
	}
	json_object_set_new_nocheck(o, "servers", arr);

	arr = json_array();
	for (i = 0; i < cfg->n_routers; i++) {
		const struct cfg_router *r = &cfg->routers[i];
		json_t *map = json_object();
		for (k = 0; k < r->n_map; k++)
			json_object_set_new(map, r->map_server[k], json_string(r->map_router[k]));
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:i, s:o, s:i}",
			"name", r->name, "cluster", r->cluster, "type", router_type_name(r->type),
			"address", str_or_null(r->address), "user", str_or_null(r->user),
			"password", secret_json(&r->secret), "backend", str_or_null(r->backend),
			"writer_hostgroup", r->writer_hostgroup, "reader_hostgroup", r->reader_hostgroup,
			"server_map", map, "timeout_ms", r->timeout_ms));
		json_object_set_new_nocheck(json_array_get(arr, json_array_size(arr) - 1), "write_endpoint",
				    str_or_null(r->write_endpoint));
		if (r->tenant_hg_lo >= 0) {
			json_t *ro = json_array_get(arr, json_array_size(arr) - 1);
			json_object_set_new_nocheck(ro, "tenant_hostgroups", json_pack("[i, i]", r->tenant_hg_lo, r->tenant_hg_hi));
			json_object_set_new_nocheck(ro, "tenant_rule_ids", json_pack("[i, i]", r->tenant_rule_lo, r->tenant_rule_hi));
		}
	}
	json_object_set_new_nocheck(o, "routers", arr);
	return o;
}

/* ---- handlers ---- */

/* A "cluster" that is not configured is answered here for every command, once, with the
 * clusters there are (and the nearest, for a typo): a bare "no such cluster" sends the
 * person to the config file to find out. */
static bool cluster_arg(struct daemon *d, struct client *c, const struct request *req, const char **out)
{
	char *msg;

	*out = json_string_value(json_object_get(req->args, "cluster"));
	if (*out && !daemon_cluster(d, *out)) {
		msg = daemon_unknown_cluster(d, *out);
		client_reply_err(c, req->id, ERR_NOTFOUND, "%s", msg);
		free(msg);
		return false;
	}
	return true;
}

static void cmd_version(struct daemon *d, struct client *c, const struct request *req)
{
	char ts[32];
	time_t t = (time_t)(d->started_real_us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	client_reply_ok(c, req->id, json_pack("{s:s, s:s, s:i, s:i, s:s, s:f}", "daemon", "cutoverd", "version",
					      CUTOVER_VERSION, "api", API_VERSION, "pid", (int)getpid(), "started_at", ts,
					      "uptime_s", (double)(now_mono_us() - d->started_mono_us) / 1e6));
}

static void cmd_status(struct daemon *d, struct client *c, const struct request *req)
{
	const char *cluster;
	if (cluster_arg(d, c, req, &cluster))
		client_reply_ok(c, req->id, api_status_json(d, cluster));
}

static void cmd_topology(struct daemon *d, struct client *c, const struct request *req)
{
	const char *cluster;
	if (cluster_arg(d, c, req, &cluster))
		client_reply_ok(c, req->id, topology_json(d, cluster));
}

static void cmd_config(struct daemon *d, struct client *c, const struct request *req)
{
	client_reply_ok(c, req->id, config_json(d->cfg));
}

static void cmd_reload(struct daemon *d, struct client *c, const struct request *req)
{
	char *errors;
	int rc = daemon_reload(d, &errors);

	if (rc < 0) {
		client_reply_err(c, req->id, rc == -2 ? ERR_BUSY : ERR_INVALID, "%s", errors);
		free(errors);
		return;
	}
	{
		json_t *w = json_array();
		size_t i;
		for (i = 0; i < d->cfg->warnings.n; i++) {
			char line[1024];
			cfg_warning_format(d->config_path, &d->cfg->warnings.v[i], line, sizeof(line));
			json_array_append_new(w, json_string(line));
		}
		client_reply_ok(c, req->id, json_pack("{s:b, s:s, s:o}", "reloaded", 1, "path", d->config_path,
						      "warnings", w));
	}
}

static void cmd_events(struct daemon *d, struct client *c, const struct request *req)
{
	const char *cluster;
	if (!cluster_arg(d, c, req, &cluster))
		return;
	client_reply_ok(c, req->id, json_pack("{s:b}", "subscribed", 1));
	client_subscribe(c, req->id, cluster);
}

static const struct api_handler handlers[] = {
	{ "version", cmd_version },
	{ "status", cmd_status },
	{ "topology", cmd_topology },
	{ "config", cmd_config },
	{ "reload", cmd_reload },
	{ "events", cmd_events },
};

void api_dispatch(void *arg, struct client *c, const struct request *req)
{
	struct daemon *d = arg;
	const char *cluster;
	size_t i;

	if (!cluster_arg(d, c, req, &cluster))
		return;
	/* with [ha], only the leader changes anything (reload is this member's own business) */
	if ((req->spec->flags & CMD_MUTATING) && strcmp(req->cmd, "reload") && !ha_acting(d->ha) &&
	    ha_role(d->ha) == HA_LEADER) {
		client_reply_err(c, req->id, ERR_BUSY,
				 "member %s has just become the leader and is reading etcd's journal (interrupted work "
				 "first): send '%s' again in a moment",
				 d->cfg->ha.name, req->cmd);
		return;
	}
	if ((req->spec->flags & CMD_MUTATING) && strcmp(req->cmd, "reload") && !ha_acting(d->ha)) {
		const char *leader = ha_leader(d->ha), *addr = ha_leader_address(d->ha);
		json_t *r = proto_reply_err(req->id, ERR_NOT_LEADER, "member %s is not the leader (%s)%s%s%s%s%s: send '%s' there",
					    d->cfg->ha.name, ha_role_name(ha_role(d->ha)), *leader ? "; the leader is " : "",
					    leader, *addr ? " (control socket " : "", addr, *addr ? ")" : "", req->cmd);
		if (*leader)
			json_object_set_new_nocheck(json_object_get(r, "error"), "leader",
					    json_pack("{s:s, s:s}", "name", leader, "address", addr));
		client_send(c, r);
		return;
	}
	for (i = 0; i < ARRAY_LEN(handlers); i++)
		if (!strcmp(handlers[i].name, req->cmd)) {
			handlers[i].fn(d, c, req);
			return;
		}
	{
		const struct api_handler *const tables[] = { switchover_handlers, fence_handlers };
		size_t t;
		for (t = 0; t < ARRAY_LEN(tables); t++)
			for (i = 0; tables[t][i].name; i++)
				if (!strcmp(tables[t][i].name, req->cmd)) {
					tables[t][i].fn(d, c, req);
					return;
				}
	}
	client_reply_err(c, req->id, ERR_INTERNAL, "command '%s' is in the table but has no handler", req->cmd);
}
