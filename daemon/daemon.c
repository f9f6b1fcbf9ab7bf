/* The daemon's state: building it from a config, swapping configs on reload, evaluating each
 * cluster after a poll round and telling the world (events, log, systemd STATUS). */
#include "daemon.h"
#include "control.h"
#include "db.h"
#include "event_hooks.h"
#include "held.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "sdnotify.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void server_setup(struct daemon *d, struct server *s, const struct cfg_server *cfg, struct cluster *c);

const double wb_bounds_ms[WB_BUCKETS] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 1e300 };

void cluster_stats_switchover(struct cluster_stats *cs, bool failover, enum sw_outcome o, double write_blocked_ms,
			      const double *phase_ms)
{
	int i;
	if (failover)
		cs->failovers[o]++;
	else
		cs->switchovers[o]++;
	for (i = 0; i < SW_PHASES; i++)
		cs->last_phase_ms[i] = phase_ms[i];
	if (write_blocked_ms < 0)
		return;
	cs->last_write_blocked_ms = write_blocked_ms;
	cs->wb_sum += write_blocked_ms;
	cs->wb_count++;
	for (i = 0; i < WB_BUCKETS; i++)
		if (write_blocked_ms <= wb_bounds_ms[i])
			cs->wb_buckets[i]++;
}

static void cluster_stats_init(struct cluster_stats *cs)
{
	int i;
	memset(cs, 0, sizeof(*cs));
	cs->last_write_blocked_ms = -1;
	for (i = 0; i < SW_PHASES; i++)
		cs->last_phase_ms[i] = -1;
}

void iso_time(int64_t real_us, char *buf, size_t len)
{
	time_t t = (time_t)(real_us / 1000000);
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)((real_us / 1000) % 1000));
}

void daemon_event(struct daemon *d, json_t *event)
{
	char ts[40];
	const char *msg = json_string_value(json_object_get(event, "message"));
	struct log_ctx ctx = {
		json_string_value(json_object_get(event, "cluster")),
		json_string_value(json_object_get(event, "server")),
		json_string_value(json_object_get(event, "phase")),
		json_string_value(json_object_get(event, "id")),
	};

	iso_time(now_real_us(), ts, sizeof(ts));
	json_object_set_new(event, "ts", json_string(ts));
	if (msg && *msg)
		log_ctx(LOG_NOTICE, &ctx, "%s", msg);
	daemon_publish(d, event);
	json_decref(event);
}

void daemon_publish(struct daemon *d, json_t *event)
{
	event_hooks_fire(d, event);
	if (d->ctl)
		control_broadcast(d->ctl, event);
}

struct cluster *daemon_cluster(struct daemon *d, const char *name)
{
	size_t i;
	for (i = 0; name && i < d->n_clusters; i++)
		if (!strcmp(d->clusters[i].cfg->name, name))
			return &d->clusters[i];
	return NULL;
}

char *daemon_unknown_cluster(const struct daemon *d, const char *name)
{
	const char **names = xcalloc(d->n_clusters + 1, sizeof(*names));
	const char *near;
	char *list = xstrdup(""), *t, *msg;
	size_t i;

	for (i = 0; i < d->n_clusters; i++) {
		names[i] = d->clusters[i].cfg->name;
		t = xasprintf("%s%s%s", list, i ? ", " : "", names[i]);
		free(list);
		list = t;
	}
	near = closest_name(name, names, d->n_clusters, 2);
	if (near)
		msg = xasprintf("no cluster named '%s' (did you mean %s? clusters: %s)", name, near, list);
	else
		msg = xasprintf("no cluster named '%s' (clusters: %s)", name, list);
	free(list);
	free(names);
	return msg;
}

const struct flavor_ops *server_flavor(const struct server *s)
{
	if (s->flavor)
		return s->flavor;
	return flavor_get(s->cfg->flavor == FLAVOR_HINT_MYSQL ? FLAVOR_MYSQL80 : FLAVOR_MARIADB);
}

const char *cluster_busy(const struct cluster *c)
{
	static char buf[300];

	if (c->cutover && switchover_active(c->cutover)) {
		snprintf(buf, sizeof(buf), "%s", switchover_summary(c->cutover));
		return buf;
	}
	if (c->actions_running) {
		snprintf(buf, sizeof(buf), "%s", c->action_desc[0] ? c->action_desc : "a fence or STONITH action");
		return buf;
	}
	return NULL;
}

struct server *daemon_server(struct daemon *d, const char *name)
{
	size_t i;
	for (i = 0; name && i < d->n_servers; i++)
		if (!strcmp(d->servers[i].cfg->name, name))
			return &d->servers[i];
	return NULL;
}

struct db *server_db_new(struct daemon *d, const struct cfg_server *cfg)
{
	struct db_target t = {
		.host = cfg->host, .port = cfg->port, .socket = cfg->socket, .user = cfg->user,
		.password = cfg->secret.password, .tls_mode = cfg->tls_mode,
		.tls_ca = cfg->tls_ca, .tls_cert = cfg->tls_cert, .tls_key = cfg->tls_key,
		.server_public_key = cfg->server_public_key,
	};
	struct db *db = db_new(d->base, cfg->name);
	db_set_target(db, &t, d->cfg->connect_timeout_ms);
	return db;
}

static void server_setup(struct daemon *d, struct server *s, const struct cfg_server *cfg, struct cluster *c)
{
	s->cfg = cfg;
	s->cluster = c;
	s->db = server_db_new(d, cfg);
	db_set_multi(s->db);   /* the poller's: its round's statements in one round trip */
	server_status_init(&s->st);
	s->st.heartbeat_lag_ms = -1;
	c->servers = xrealloc(c->servers, (c->n_servers + 1) * sizeof(*c->servers));
	c->servers[c->n_servers++] = s;
}

int daemon_setup(struct daemon *d, struct config *cfg, char *err, size_t errlen)
{
	size_t i;

	d->cfg = cfg;
	d->n_clusters = cfg->n_clusters;
	d->clusters = xcalloc(cfg->n_clusters, sizeof(*d->clusters));
	for (i = 0; i < cfg->n_clusters; i++) {
		d->clusters[i].cfg = &cfg->clusters[i];
		d->clusters[i].topo.primary = -1;
		cluster_stats_init(&d->clusters[i].stats);
	}
	d->n_servers = cfg->n_servers;
	d->servers = xcalloc(cfg->n_servers, sizeof(*d->servers));
	for (i = 0; i < cfg->n_servers; i++)
		server_setup(d, &d->servers[i], &cfg->servers[i], daemon_cluster(d, cfg->servers[i].cluster));
	for (i = 0; i < cfg->n_routers; i++) {
		struct cluster *c = daemon_cluster(d, cfg->routers[i].cluster);
		struct router *r = router_new(d->base, cfg, &cfg->routers[i], err, errlen);
		if (!r)
			return -1;
		c->routers = xrealloc(c->routers, (c->n_routers + 1) * sizeof(*c->routers));
		c->routers[c->n_routers++] = r;
	}
	return 0;
}

static void clusters_free(struct daemon *d)
{
	size_t i, k;
	for (i = 0; i < d->n_servers; i++) {
		db_free(d->servers[i].db);
		server_status_clear(&d->servers[i].st);
	}
	free(d->servers);
	d->servers = NULL;
	d->n_servers = 0;
	for (i = 0; i < d->n_clusters; i++) {
		struct cluster *c = &d->clusters[i];
		for (k = 0; k < c->n_routers; k++)
			router_free(c->routers[k]);
		free(c->routers);
		free(c->servers);
		topology_free(&c->topo);
		verdict_state_free(&c->vstate);
		switchover_free(c->cutover);
		watchdog_cluster_free(c);
	}
	free(d->clusters);
	d->clusters = NULL;
	d->n_clusters = 0;
}

void daemon_teardown(struct daemon *d)
{
	clusters_free(d);
	config_free(d->cfg);
	d->cfg = NULL;
}

/* Keep what was learned about servers and clusters that survive a reload, so the verdict
 * does not fall back to UNKNOWN for a change of log level. */
static void carry_over(struct daemon *d, struct server *old_s, size_t n_old, struct cluster *old_c, size_t n_old_c)
{
	size_t i, k;
	for (i = 0; i < d->n_servers; i++)
		for (k = 0; k < n_old; k++)
			if (!strcmp(d->servers[i].cfg->name, old_s[k].cfg->name)) {
				server_status_clear(&d->servers[i].st);
				server_status_copy(&d->servers[i].st, &old_s[k].st);
				d->servers[i].health = old_s[k].health;
			}
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < n_old_c; k++)
			if (!strcmp(d->clusters[i].cfg->name, old_c[k].cfg->name)) {
				struct cluster *c = &d->clusters[i];
				c->vstate = old_c[k].vstate;   /* its reasons move with it */
				old_c[k].vstate.reasons = NULL;
				old_c[k].vstate.n_reasons = 0;
				c->stats = old_c[k].stats;
				watchdog_carry_over(c, &old_c[k]);
				memcpy(c->hb, old_c[k].hb, sizeof(c->hb));
				c->hb_next = old_c[k].hb_next;
				c->hb_server_id = old_c[k].hb_server_id;
				c->cutover = old_c[k].cutover;   /* interrupted cutovers stay known */
				if (c->cutover)
					switchover_rebind(c->cutover, d, c);
				old_c[k].cutover = NULL;
			}
}

int daemon_reload(struct daemon *d, char **errors_out)
{
	struct cfg_errors errs = { 0 };
	struct config *ncfg;
	struct daemon old;
	char err[512];
	size_t i;

	*errors_out = NULL;
	/* Whatever acts on the servers holds pointers into the running configuration's clusters:
	 * a switchover or failover, a fence or STONITH action.  Reload once they have ended. */
	for (i = 0; i < d->n_clusters; i++) {
		struct cluster *c = &d->clusters[i];
		if ((c->cutover && switchover_active(c->cutover)) || c->actions_running) {
			*errors_out = xasprintf("a %s is running on cluster %s; reload again once it has ended",
						c->actions_running ? "fence or STONITH action" : "switchover",
						c->cfg->name);
			log_warn("reload refused: %s", *errors_out);
			return -2;
		}
	}
	sd_reloading();
	ncfg = config_load(d->config_path, &errs);
	if (!ncfg) {
		size_t len = 0;
		char *msg = xasprintf("%s has %zu error%s; the running configuration is kept:", d->config_path,
				      errs.n, errs.n == 1 ? "" : "s");
		len = strlen(msg);
		for (i = 0; i < errs.n; i++) {
			char line[1024];
			cfg_error_format(d->config_path, &errs.v[i], line, sizeof(line));
			msg = xrealloc(msg, len + strlen(line) + 2);
			msg[len++] = '\n';
			strcpy(msg + len, line);
			len += strlen(line);
		}
		cfg_errors_free(&errs);
		log_err("reload refused: %s", msg);
		*errors_out = msg;
		sd_ready();
		return -1;
	}
	if (!cfg_ha_same(&d->cfg->ha, &ncfg->ha)) {
		/* the election runs with what it started with: a longer lease_ttl read now would let
		 * the leader count itself valid after etcd could expire its lease */
		*errors_out = xasprintf("%s changes [ha] (its presence, etcd, prefix, name, address, source or lease_ttl); the "
					"running configuration is kept: restart this member to change [ha]", d->config_path);
		log_err("reload refused: %s", *errors_out);
		config_free(ncfg);
		sd_ready();
		return -1;
	}
	poll_stop(d);
	old = *d;
	d->servers = NULL;
	d->clusters = NULL;
	d->n_servers = d->n_clusters = 0;
	if (daemon_setup(d, ncfg, err, sizeof(err)) < 0) {
		/* Undo: the new config parsed but a router could not be opened. */
		clusters_free(d);
		config_free(ncfg);
		d->cfg = old.cfg;
		d->servers = old.servers;
		d->n_servers = old.n_servers;
		d->clusters = old.clusters;
		d->n_clusters = old.n_clusters;
		*errors_out = xasprintf("the new configuration could not be applied (%s); the running one is kept", err);
		poll_start(d);
		sd_ready();
		return -1;
	}
	carry_over(d, old.servers, old.n_servers, old.clusters, old.n_clusters);
	/* the topology is known at once from what was carried over, not a poll later */
	for (i = 0; i < d->n_clusters; i++)
		cluster_evaluate(d, &d->clusters[i]);
	{
		struct daemon tmp = old;
		clusters_free(&tmp);
		config_free(old.cfg);
	}
	log_set_level(ncfg->log_level);
	if (d->ctl) {
		struct control_opts o = {
			.path = ncfg->socket_path, .mode = ncfg->socket_mode, .gid = ncfg->socket_gid,
			.max_clients = ncfg->max_clients, .idle_timeout_ms = ncfg->idle_timeout_ms,
			.admin_uids = ncfg->admin_uids, .n_admin_uids = ncfg->n_admin_uids,
			.admin_gids = ncfg->admin_gids, .n_admin_gids = ncfg->n_admin_gids,
			.inherited_fd = d->inherited_fd,
		};
		control_update(d->ctl, &o);
	}
	metrics_reload(d);
	poll_start(d);
	for (i = 0; i < ncfg->warnings.n; i++) {
		char line[1024];
		cfg_warning_format(d->config_path, &ncfg->warnings.v[i], line, sizeof(line));
		log_warn("%s", line);
	}
	log_notice("configuration reloaded from %s", d->config_path);
	daemon_event(d, json_pack("{s:s, s:s}", "type", "config_reloaded", "message", "configuration reloaded"));
	sd_ready();
	return 0;
}

/* Router findings join the cluster's reasons. */
static void check_routers(struct cluster *c, const char *primary)
{
	size_t i;
	for (i = 0; i < c->n_routers; i++) {
		const struct router *r = c->routers[i];
		const struct router_backend *w;
		int count;

		if (!r->view.polled_ms && !*r->view.error)
			continue;   /* not polled yet */
		if (!r->view.reachable) {
			topology_add_reason(&c->topo, VERDICT_WARN,
					    xasprintf("router %s unreachable: %s", r->cfg->name, r->view.error));
			continue;
		}
		if (r->cfg->type == ROUTER_EXEC && r->view.n == 0)
			continue;   /* no exec_status: the router's view is unknown */
		w = router_writer(&r->view, &count);
		if (count == 0)
			topology_add_reason(&c->topo, VERDICT_CRIT,
					    xasprintf("router %s has no writer taking traffic", r->cfg->name));
		else if (count > 1)
			topology_add_reason(&c->topo, VERDICT_CRIT,
					    xasprintf("router %s sends writes to %d servers", r->cfg->name, count));
		else if (primary && strcmp(w->server, primary))
			topology_add_reason(&c->topo, VERDICT_CRIT,
					    xasprintf("router %s sends writes to %s, not to the primary %s", r->cfg->name,
						      *w->server ? w->server : w->name, primary));
		if (w && count == 1) {
			size_t k;
			for (k = 0; k < c->n_servers; k++)
				if (!strcmp(c->servers[k]->cfg->name, w->server) && c->servers[k]->st.reachable &&
				    c->servers[k]->st.read_only == 1)
					topology_add_reason(&c->topo, VERDICT_CRIT,
							    xasprintf("router %s's writer %s is read-only", r->cfg->name,
								      w->server));
		}
	}
}

static json_t *cevent_new(const char *type, struct cluster *c, const char *server, char *msg)
{
	json_t *ev = json_pack("{s:s, s:s, s:s}", "type", type, "cluster", c->cfg->name, "message", msg);
	if (server)
		json_object_set_new(ev, "server", json_string(server));
	free(msg);
	return ev;
}

/* Does a server with status st replicate from a server of c's upstream cluster? */
static bool upstream_source(struct daemon *d, const struct cluster *c, const struct server_status *st)
{
	const struct cluster *up = daemon_cluster(d, c->cfg->upstream);
	size_t i;

	if (!up || !st->repl.configured)
		return false;
	for (i = 0; i < up->n_servers; i++)
		if (topo_same_endpoint(st->repl.source_host, st->repl.source_port, up->servers[i]->cfg->host,
				       up->servers[i]->cfg->port))
			return true;
	return false;
}

void cluster_evaluate(struct daemon *d, struct cluster *c)
{
	struct topo_input *in = xcalloc(c->n_servers, sizeof(*in));
	struct topo_params p = { c->cfg->lag_warn_ms };
	struct topology old = c->topo;
	const char *primary;
	size_t i;
	int64_t now = now_mono_ms();

	c->outstanding = 0;
	for (i = 0; i < c->n_servers; i++) {
		in[i].name = c->servers[i]->cfg->name;
		in[i].host = c->servers[i]->cfg->host;
		in[i].port = c->servers[i]->cfg->port;
		in[i].st = &c->servers[i]->st;
		in[i].health = c->servers[i]->health.state;
		in[i].held = held_find(c, c->servers[i]->cfg->name) != NULL;
		in[i].upstream_source = c->cfg->upstream && upstream_source(d, c, &c->servers[i]->st);
	}
	topology_eval(in, c->n_servers, &p, &c->topo);
	free(in);
	primary = c->topo.primary >= 0 ? c->servers[c->topo.primary]->cfg->name : NULL;
	check_routers(c, primary);
	if (c->cutover)
		switchover_annotate(c->cutover, &c->topo);

	if (c->stats.round_started_us)
		c->stats.last_round_us = now_mono_us() - c->stats.round_started_us;
	if (c->evaluated_once && old.primary != c->topo.primary && c->topo.primary >= 0)
		c->stats.primary_changes++;
	if (c->evaluated_once && old.primary != c->topo.primary) {
		const char *was = old.primary >= 0 ? c->servers[old.primary]->cfg->name : "none";
		daemon_event(d, cevent_new("primary", c, primary,
					  xasprintf("primary of %s: %s -> %s", c->cfg->name, was, primary ? primary : "none")));
	}
	for (i = 0; c->evaluated_once && i < c->n_servers && i < old.n; i++)
		if (old.srv[i].role != c->topo.srv[i].role)
			daemon_event(d, cevent_new("role", c, c->servers[i]->cfg->name,
						  xasprintf("%s: %s -> %s", c->servers[i]->cfg->name,
							    role_name(old.srv[i].role), role_name(c->topo.srv[i].role))));
	topology_free(&old);

	if (verdict_observe(&c->vstate, c->topo.raw, c->cfg->hysteresis, now)) {
		char *why = c->topo.n_reasons ? xstrdup(c->topo.reasons[0]) : xstrdup("all servers healthy");
		json_t *ev = cevent_new("verdict", c, NULL,
				       xasprintf("%s is %s: %s", c->cfg->name, verdict_name(c->vstate.shown), why));
		json_object_set_new(ev, "to", json_string(verdict_name(c->vstate.shown)));
		free(why);
		daemon_event(d, ev);
	}
	verdict_hold_reasons(&c->vstate, c->topo.raw, c->topo.reasons, c->topo.n_reasons);
	c->evaluated_once = true;
	if (c->cutover)
		switchover_on_evaluate(c->cutover);
	watchdog_evaluate(d, c);

	if (!d->ready_sent) {
		bool all = true;
		for (i = 0; i < d->n_clusters; i++)
			all &= d->clusters[i].evaluated_once;
		if (all) {
			d->ready_sent = true;
			sd_ready();
			log_notice("first poll complete; ready");
		}
	}
	daemon_update_sd_status(d);
}

void daemon_cutover_ended(struct daemon *d)
{
	size_t i;
	if (!d->stopping)
		return;
	for (i = 0; i < d->n_clusters; i++)
		if (d->clusters[i].cutover && switchover_active(d->clusters[i].cutover))
			return;
	log_notice("the switchover has ended: stopping");
	event_base_loopbreak(d->base);
}

void daemon_update_sd_status(struct daemon *d)
{
	char buf[512];
	size_t off = 0, i, k;

	buf[0] = '\0';
	for (i = 0; i < d->n_clusters && off < sizeof(buf); i++) {
		struct cluster *c = &d->clusters[i];
		int up = 0;
		for (k = 0; k < c->n_servers; k++)
			up += c->servers[k]->health.state == HEALTH_UP;
		int alarms = watchdog_active_alarms(c);
		size_t a;
		bool first = true;

		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s: %s, primary %s, %d/%zu up", i ? "; " : "",
					c->cfg->name, verdict_name(c->vstate.shown),
					c->topo.primary >= 0 ? c->servers[c->topo.primary]->cfg->name : "none", up,
					c->n_servers);
		for (a = 0; alarms && a < c->n_alarms && off < sizeof(buf); a++)
			if (c->alarms[a].state == ALARM_ACTIVE) {
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", first ? ", ALARM " : " ",
							c->alarms[a].name);
				first = false;
			}
		if (c->cutover && off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, ", %s", switchover_summary(c->cutover));
	}
	sd_status("%s", buf);
}
