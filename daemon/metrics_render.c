/* The /metrics body: every metric family, servers, clusters, routers and the daemon itself.
 *
 * The body is written straight into the reply's evbuffer from the live state, one metric
 * family at a time (the format wants a family's samples together, after its HELP and TYPE),
 * with label sets on the stack: a scrape allocates nothing per server.  A value that is not
 * known — a tristate not reported, a lag not measured, anything read by a poll that failed
 * since — is left out rather than shown as 0, so that an alert on it does not fire on a guess. */
#include "metrics.h"
#include "ha.h"
#include "metrics_impl.h"
#include "daemon.h"
#include "event_hooks.h"
#include "afterwatch.h"
#include "datacheck.h"
#include "held.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

/* One gauge per server: the value, or false when it is not known. */
struct server_metric {
	const char *name;
	const char *help;
	bool (*get)(const struct cluster *c, size_t i, double *v);
};

static void render_servers(struct evbuffer *b, struct daemon *d);
static void render_clusters(struct evbuffer *b, struct daemon *d);
static void render_histograms(struct evbuffer *b, struct daemon *d);
static void render_routers(struct evbuffer *b, struct daemon *d);
static void render_daemon(struct evbuffer *b, struct daemon *d);
static void metrics_alarms(struct evbuffer *b, struct daemon *d);

void metrics_render(struct daemon *d, struct evbuffer *out)
{
	render_daemon(out, d);
	render_servers(out, d);
	render_clusters(out, d);
	render_histograms(out, d);
	metrics_alarms(out, d);
	render_routers(out, d);
}

/* ------------------------------------------------------------------------------------------ */
/* servers */

/* What the last poll read is current only if that poll succeeded. */
static const struct server_status *fresh(const struct cluster *c, size_t i)
{
	const struct server_status *st = &c->servers[i]->st;
	return st->reachable && st->last_ok_ms > 0 ? st : NULL;
}

static bool get_up(const struct cluster *c, size_t i, double *v)
{
	*v = c->servers[i]->health.state == HEALTH_UP;
	return true;
}

static bool get_reachable(const struct cluster *c, size_t i, double *v)
{
	*v = c->servers[i]->st.reachable;
	return true;
}

static bool get_tristate(tristate t, double *v)
{
	*v = t;
	return t >= 0;
}

static bool get_read_only(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && get_tristate(st->read_only, v);
}

static bool get_super_read_only(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && get_tristate(st->super_read_only, v);
}

static bool get_is_primary(const struct cluster *c, size_t i, double *v)
{
	*v = c->topo.primary == (int)i;
	return c->evaluated_once;
}

/* Held at the fence point of an upgrade (held.h): a stopped replica there is not a fault. */
static bool get_rollback_point(const struct cluster *c, size_t i, double *v)
{
	*v = held_find(c, c->servers[i]->cfg->name) != NULL;
	return c->evaluated_once;
}

static bool get_lag(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st || st->heartbeat_lag_ms < 0)
		return false;
	*v = (double)st->heartbeat_lag_ms / 1000.0;
	return true;
}

static bool get_seconds_behind(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st || !st->repl.configured || st->repl.seconds_behind < 0)
		return false;
	*v = (double)st->repl.seconds_behind;
	return true;
}

/* "Connecting" is not running: nothing arrives from the source. */
static bool get_thread(enum thread_state t, double *v)
{
	*v = t == THREAD_YES;
	return t != THREAD_UNKNOWN;
}

static bool get_io_running(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && st->repl.configured && get_thread(st->repl.io, v);
}

static bool get_sql_running(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && st->repl.configured && get_thread(st->repl.sql, v);
}

static bool get_poll_duration(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st)
		return false;
	*v = (double)st->poll_us / 1e6;
	return true;
}

static const struct server_metric server_metrics[] = {
	{ "cutoverd_server_up", "Whether the server is up (1) or down or not yet known (0), after hysteresis.",
	  get_up },
	{ "cutoverd_server_reachable", "Whether the last poll of the server succeeded.", get_reachable },
	{ "cutoverd_server_read_only", "The server's @@read_only (absent when unknown or unreachable).",
	  get_read_only },
	{ "cutoverd_server_super_read_only", "The server's @@super_read_only (MySQL only; absent when unknown).",
	  get_super_read_only },
	{ "cutoverd_server_is_primary", "Whether the server is the cluster's primary in cutoverd's view.",
	  get_is_primary },
	{ "cutoverd_server_rollback_point",
	  "Whether the server is held at the fence point of an upgrade switchover, as the rollback point.",
	  get_rollback_point },
	{ "cutoverd_server_replication_lag_seconds",
	  "Replication lag measured with cutoverd's heartbeat (absent when not measured).", get_lag },
	{ "cutoverd_server_seconds_behind_master",
	  "Seconds_Behind_Master as the replica reports it (absent when NULL).", get_seconds_behind },
	{ "cutoverd_server_replication_io_running",
	  "Whether the replication IO thread runs (Connecting counts as 0); replicas only.", get_io_running },
	{ "cutoverd_server_replication_sql_running", "Whether the replication SQL thread runs; replicas only.",
	  get_sql_running },
	{ "cutoverd_server_poll_duration_seconds", "How long the last successful poll of the server took (with the poller's wait before reading, up to 10 ms).",
	  get_poll_duration },
};

static void render_servers(struct evbuffer *b, struct daemon *d)
{
	size_t f, i, k;
	double v;

	for (f = 0; f < ARRAY_LEN(server_metrics); f++) {
		const struct server_metric *sm = &server_metrics[f];
		family(b, sm->name, "gauge", sm->help);
		for (i = 0; i < d->n_clusters; i++) {
			const struct cluster *c = &d->clusters[i];
			for (k = 0; k < c->n_servers; k++) {
				const char *kv[] = { "cluster", c->cfg->name, "server", c->servers[k]->cfg->name, NULL };
				if (sm->get(c, k, &v))
					sample(b, sm->name, kv, v);
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* clusters */

static const char *const outcome_names[OUTCOME__COUNT] = { "done", "rolled_back", "failed", "refused" };
static const enum verdict verdicts[] = { VERDICT_OK, VERDICT_WARN, VERDICT_CRIT, VERDICT_UNKNOWN };

static void render_clusters(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;

	family(b, "cutoverd_cluster_verdict", "gauge",
	       "The cluster's verdict after hysteresis: 1 for the current one, 0 for the others.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < ARRAY_LEN(verdicts); k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "verdict", verdict_name(verdicts[k]), NULL };
			sample(b, "cutoverd_cluster_verdict", kv, d->clusters[i].vstate.shown == verdicts[k]);
		}

	family(b, "cutoverd_cluster_writable_servers", "gauge",
	       "Servers that are up and not read-only (1 is healthy, 0 no primary, more is split-brain).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].evaluated_once)
			sample(b, "cutoverd_cluster_writable_servers", kv, d->clusters[i].topo.n_writable);
	}

	family(b, "cutoverd_cluster_switchover_running", "gauge", "Whether a switchover is running (or paused).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		const struct switchover *sw = d->clusters[i].cutover;
		sample(b, "cutoverd_cluster_switchover_running", kv, sw && switchover_active(sw));
	}

	family(b, "cutoverd_cluster_primary_changes_total", "counter",
	       "Times the primary cutoverd sees changed to another server.");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		sample_count(b, "cutoverd_cluster_primary_changes_total", kv, d->clusters[i].stats.primary_changes);
	}

	family(b, "cutoverd_cluster_switchovers_total", "counter", "Switchovers ended, by outcome (dry runs and failovers excluded).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < OUTCOME__COUNT; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "outcome", outcome_names[k], NULL };
			sample_count(b, "cutoverd_cluster_switchovers_total", kv, d->clusters[i].stats.switchovers[k]);
		}

	family(b, "cutoverd_cluster_failovers_total", "counter",
	       "Failovers (the primary was lost) ended, by outcome, automatic or requested.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < OUTCOME__COUNT; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "outcome", outcome_names[k], NULL };
			sample_count(b, "cutoverd_cluster_failovers_total", kv, d->clusters[i].stats.failovers[k]);
		}

	family(b, "cutoverd_cluster_last_switchover_write_blocked_seconds", "gauge",
	       "How long writes were blocked in the last switchover that got to fence (fence to routed).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].stats.last_write_blocked_ms >= 0)
			sample(b, "cutoverd_cluster_last_switchover_write_blocked_seconds", kv,
			       d->clusters[i].stats.last_write_blocked_ms / 1000.0);
	}

	family(b, "cutoverd_cluster_last_switchover_phase_duration_seconds", "gauge",
	       "How long each phase of the last switchover took (phases it did not run are absent).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < SW_PHASES; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "phase", switchover_phase_name((int)k), NULL };
			if (d->clusters[i].stats.last_phase_ms[k] >= 0)
				sample(b, "cutoverd_cluster_last_switchover_phase_duration_seconds", kv,
				       d->clusters[i].stats.last_phase_ms[k] / 1000.0);
		}

	family(b, "cutoverd_cluster_poll_round_duration_seconds", "gauge",
	       "From the start of the last complete poll round to the cluster's evaluation.");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].stats.last_round_us > 0)
			sample(b, "cutoverd_cluster_poll_round_duration_seconds", kv,
			       (double)d->clusters[i].stats.last_round_us / 1e6);
	}

	family(b, "cutoverd_cluster_data_check_mismatches", "gauge",
	       "Chunks the last switchover's data check found different at the fence point (absent: no check).");
	family(b, "cutoverd_cluster_data_check_rows", "gauge", "Rows the last switchover's data check compared so far.");
	family(b, "cutoverd_cluster_data_check_state", "gauge",
	       "The last switchover's data check: 1 for its state (running, passed, mismatch, incomplete, ...).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct datacheck *dc = d->clusters[i].datacheck;
		json_t *j;
		if (!dc)
			continue;
		j = datacheck_json(dc);
		{
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
			const char *skv[] = { "cluster", d->clusters[i].cfg->name, "state",
					      datacheck_state_name(datacheck_state(dc)), NULL };
			sample(b, "cutoverd_cluster_data_check_mismatches", kv,
			       (double)json_integer_value(json_object_get(j, "mismatch_count")));
			sample(b, "cutoverd_cluster_data_check_rows", kv, (double)json_integer_value(json_object_get(j, "rows")));
			sample(b, "cutoverd_cluster_data_check_state", skv, 1);
		}
		json_decref(j);
	}

	family(b, "cutoverd_watch_remaining_seconds", "gauge",
	       "Time left of the watch after the last switchover (absent: no watch).");
	family(b, "cutoverd_watch_value", "gauge",
	       "Each trigger of the watch after a switchover, now (error_rate as a fraction; absent: unknown).");
	family(b, "cutoverd_watch_limit", "gauge", "Each trigger's limit (watch_error_rate, watch_p95, watch_failed_per_min).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct afterwatch *w = d->clusters[i].watch;
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (!w)
			continue;
		sample(b, "cutoverd_watch_remaining_seconds", kv, afterwatch_remaining_s(w));
		for (k = 0; k < WT__COUNT; k++) {
			const char *tkv[] = { "cluster", d->clusters[i].cfg->name, "trigger",
					      watch_trigger_name((enum watch_trigger)k), NULL };
			double v = afterwatch_value(w, (enum watch_trigger)k);
			if (v == v)
				sample(b, "cutoverd_watch_value", tkv, v);
			sample(b, "cutoverd_watch_limit", tkv, afterwatch_limit(&d->clusters[i], (enum watch_trigger)k));
		}
	}
}

/* wb_buckets are cumulative already: bucket i counts every value <= wb_bounds_ms[i]. */
static void render_histograms(struct evbuffer *b, struct daemon *d)
{
	const char *name = "cutoverd_cluster_switchover_write_blocked_seconds";
	char le[32];
	size_t i, k;

	family(b, name, "histogram", "How long writes were blocked in switchovers and failovers (fence to routed).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster_stats *cs = &d->clusters[i].stats;
		const char *cname = d->clusters[i].cfg->name;
		for (k = 0; k < WB_BUCKETS; k++) {
			const char *kv[] = { "cluster", cname, "le", le, NULL };
			if (k == WB_BUCKETS - 1)
				snprintf(le, sizeof(le), "+Inf");
			else
				snprintf(le, sizeof(le), "%.15g", wb_bounds_ms[k] / 1000.0);
			sample_count(b, "cutoverd_cluster_switchover_write_blocked_seconds_bucket", kv, cs->wb_buckets[k]);
		}
		{
			const char *kv[] = { "cluster", cname, NULL };
			sample(b, "cutoverd_cluster_switchover_write_blocked_seconds_sum", kv, cs->wb_sum / 1000.0);
			sample_count(b, "cutoverd_cluster_switchover_write_blocked_seconds_count", kv, cs->wb_count);
		}
	}
}

/* The watchdog's alarms (struct alarm, watchdog.h): one series per raised alarm (pending and
 * cleared ones are not: a cleared alarm may be kept several times over), and a count per
 * cluster that is there (0) when none is, so that an alert can say "> 0". */
static void metrics_alarms(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;

	family(b, "cutoverd_cluster_alarms_active", "gauge", "Alarms the watchdog has raised and not cleared.");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster *c = &d->clusters[i];
		const char *kv[] = { "cluster", c->cfg->name, NULL };
		sample(b, "cutoverd_cluster_alarms_active", kv, watchdog_active_alarms(c));
	}
	family(b, "cutoverd_alarm_active", "gauge",
	       "1 for each raised alarm, by name and subject (the server or router it is about, \"\" if none).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster *c = &d->clusters[i];
		for (k = 0; k < c->n_alarms; k++) {
			const struct alarm *a = &c->alarms[k];
			const char *kv[] = { "cluster", c->cfg->name, "alarm", a->name, "subject",
					     a->subject ? a->subject : "", NULL };
			if (a->state == ALARM_ACTIVE)
				sample(b, "cutoverd_alarm_active", kv, 1);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* routers */

static const char *primary_name(const struct cluster *c)
{
	return c->topo.primary >= 0 && (size_t)c->topo.primary < c->n_servers ? c->servers[c->topo.primary]->cfg->name
									       : NULL;
}

/* The router's view is worth reporting once it answered; an exec router without exec_status
 * has no view at all. */
static bool view_known(const struct router *r)
{
	return r->view.reachable && r->view.polled_ms && !(r->cfg->type == ROUTER_EXEC && r->view.n == 0);
}

static void render_routers(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;
	int count;

	family(b, "cutoverd_router_reachable", "gauge", "Whether the last poll of the router succeeded.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			sample(b, "cutoverd_router_reachable", kv, r->view.reachable);
		}

	family(b, "cutoverd_router_writers", "gauge",
	       "Backends the router sends writes to (1 is healthy; absent until the router answered).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			if (!view_known(r))
				continue;
			router_writer(&r->view, &count);
			sample(b, "cutoverd_router_writers", kv, count);
		}

	family(b, "cutoverd_router_writer_matches_primary", "gauge",
	       "Whether the router's one writer is the primary (absent without one writer or a primary).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *primary = primary_name(&d->clusters[i]);
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const struct router_backend *w;
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			if (!view_known(r) || !primary)
				continue;
			w = router_writer(&r->view, &count);
			if (w && count == 1)
				sample(b, "cutoverd_router_writer_matches_primary", kv, !strcmp(w->server, primary));
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* the daemon */

static void render_daemon(struct evbuffer *b, struct daemon *d)
{
	unsigned long long hooks[EH__COUNT];
	const struct api_count *ac;
	size_t i, n;

	family(b, "cutoverd_up", "gauge", "Always 1 while the daemon answers.");
	sample(b, "cutoverd_up", NULL, 1);
	{
		const char *kv[] = { "version", CUTOVER_VERSION, NULL };
		family(b, "cutoverd_build_info", "gauge", "The running version, as a label.");
		sample(b, "cutoverd_build_info", kv, 1);
	}
	family(b, "cutoverd_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.");
	sample(b, "cutoverd_start_time_seconds", NULL, (double)d->started_real_us / 1e6);
	family(b, "cutoverd_ready", "gauge", "Whether the first poll round is complete (as /healthz).");
	sample(b, "cutoverd_ready", NULL, d->ready_sent);

	if (d->ha) {
		/* with [ha], every member answers /metrics: which one acts is part of the answer */
		const char *kv[] = { "member", d->cfg->ha.name, "role", ha_role_name(ha_role(d->ha)), NULL };
		json_t *j = ha_journal_json(d->ha);
		family(b, "cutoverd_ha_acting", "gauge",
		       "1 on the member that leads and acts ([ha]), 0 on a follower or a member without a leader.");
		sample(b, "cutoverd_ha_acting", kv, ha_acting(d->ha));
		family(b, "cutoverd_ha_journal_queued_writes", "gauge",
		       "Journal writes to etcd not yet confirmed on the leader ([ha]).");
		sample(b, "cutoverd_ha_journal_queued_writes", NULL, (double)json_integer_value(json_object_get(j, "queued_writes")));
		family(b, "cutoverd_ha_journal_write_errors_total", "counter", "Journal writes to etcd that failed and were retried ([ha]).");
		sample_count(b, "cutoverd_ha_journal_write_errors_total", NULL,
			     (unsigned long long)json_integer_value(json_object_get(j, "write_errors")));
		json_decref(j);
	}
	family(b, "cutoverd_api_requests_total", "counter", "Replies on the control socket, by command and result.");
	ac = stats_api_all(&n);
	for (i = 0; i < n; i++) {
		const char *kv[] = { "command", ac[i].cmd, "result", ac[i].result, NULL };
		sample_count(b, "cutoverd_api_requests_total", kv, ac[i].n);
	}

	family(b, "cutoverd_event_hooks_total", "counter",
	       "Event hook runs by result; dropped: not run (event_hook_rate or a full queue).");
	event_hooks_counts(hooks);
	for (i = 0; i < EH__COUNT; i++) {
		const char *kv[] = { "result", event_hooks_result_name((enum eh_result)i), NULL };
		sample_count(b, "cutoverd_event_hooks_total", kv, hooks[i]);
	}
}
