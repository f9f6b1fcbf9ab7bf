/* The switchover state machine.
 *
 *   preflight → drain → catchup → fence → sync → promote → verify
 *
 * preflight  every go/no-go check; nothing changes (the whole of --dry-run).
 * drain      the routers stop sending new work to the old primary.
 * catchup    while writes still flow, wait until the candidate applies the primary's position
 *            within catchup_lag ms: the write-blocked window then does not grow with the lag
 *            the candidate had when the command was given.
 * fence      the old primary becomes read-only (under a deadline; on timeout its statement is
 *            killed and the switchover rolls back), lingering client sessions are cut, and the
 *            fence point (the executed GTID position) is captured.
 * sync       the candidate applies up to the fence point, and we check it holds all of it.
 * promote    candidate: stop replicating, forget the source, writable (the point of no return),
 *            then the routers make it the only writer; outside the window: the other replicas
 *            and the old primary (reverse replication) follow it by GTID; routers persist.
 * verify     a probe write through the router lands on the new primary; exactly one writable
 *            server; every replica replicates from it; the routers agree.
 *
 * Before the point of no return any failure or abort rolls back everything the switchover
 * changed.  After it, a failure is reported with the state of every server and router and the
 * commands that finish or reverse the work.  Every transition is journaled before it acts.
 * One function changes the phase (phase_next); every async step reports to one callback. */
#include "api.h"
#include "cmdtab.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "event_hooks.h"
#include "gtid.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "switchover_impl.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const phase_names[PH__COUNT] = {
	"preflight", "drain", "catchup", "fence", "sync", "promote", "verify",
};
_Static_assert(PH__COUNT == SW_PHASES, "cluster_stats keeps one duration per phase");

const char *switchover_phase_name(int i)
{
	return i >= 0 && i < PH__COUNT ? phase_names[i] : "?";
}

const char *const state_names[] = {
	"running", "paused", "rolling_back", "done", "rolled_back", "failed", "interrupted",
};


static void enter_preflight(struct switchover *sw);
static void enter_drain(struct switchover *sw);
static void enter_catchup(struct switchover *sw);
static void enter_fence(struct switchover *sw);
static void enter_sync(struct switchover *sw);
static void enter_promote(struct switchover *sw);
static void enter_verify(struct switchover *sw);

static void (*const phase_enter[PH__COUNT])(struct switchover *) = {
	enter_preflight, enter_drain, enter_catchup, enter_fence, enter_sync, enter_promote, enter_verify,
};

/* ------------------------------------------------------------------------------------------ */
/* small helpers */

const struct flavor_ops *sw_flavor_of(const struct server *s)
{
	return s->flavor ? s->flavor : flavor_get(FLAVOR_MARIADB);
}

enum gtid_kind sw_gtid_kind_of(const struct server *s)
{
	return sw_flavor_of(s)->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL;
}

struct db *sw_open_db(struct switchover *sw, const struct server *s)
{
	const struct cfg_server *cfg = s->cfg;
	struct db_target t = {
		.host = cfg->host, .port = cfg->port, .socket = cfg->socket, .user = cfg->user,
		.password = cfg->secret.password, .tls_mode = cfg->tls_mode,
		.tls_ca = cfg->tls_ca, .tls_cert = cfg->tls_cert, .tls_key = cfg->tls_key,
	};
	struct db *db = db_new(sw->d->base, cfg->name);
	db_set_target(db, &t, sw->d->cfg->connect_timeout_ms);
	return db;
}

const struct cfg_cluster *sw_ccfg(const struct switchover *sw)
{
	return sw->c->cfg;
}

struct log_ctx sw_lctx(const struct switchover *sw)
{
	struct log_ctx ctx = { sw->c->cfg->name, NULL, phase_names[sw->phase], sw->id };
	return ctx;
}

double sw_ms_since(int64_t start_us)
{
	return (double)(now_mono_us() - start_us) / 1000.0;
}

void sw_set_failure(struct switchover *sw, const char *fmt, ...)
{
	va_list ap;
	sw->failures++;
	if (sw->first_failure)
		return;
	va_start(ap, fmt);
	if (vasprintf(&sw->first_failure, fmt, ap) < 0)
		sw->first_failure = NULL;
	va_end(ap);
}

void sw_clear_failures(struct switchover *sw)
{
	sw->failures = 0;
	free(sw->first_failure);
	sw->first_failure = NULL;
}

/* Journal first: 0 once the entry is written (and, when durable, on disk), -1 otherwise — and
 * then the caller does not act on the transition (before the point of no return it rolls
 * back; sw_journal_failed says why).  A cutover without a journal (dry run) writes nothing. */
int sw_journal(struct switchover *sw, enum journal_event ev, bool durable, json_t *extra)
{
	int rc = 0;
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sw->id, "cluster", sw_ccfg(sw)->name, "event",
			      journal_event_name(ev), "old", sw->old_name, "new", sw->new_name);
	json_object_set_new(e, "phase", json_string(phase_names[sw->phase]));
	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (sw->journal && journal_append(sw->journal, e, durable) < 0) {
		struct log_ctx ctx = sw_lctx(sw);
		free(sw->journal_error);
		sw->journal_error = xasprintf("the journal in %s cannot record '%s': %s", sw->d->cfg->state_dir,
					      journal_event_name(ev), strerror(errno));
		log_ctx(LOG_ERR, &ctx, "%s", sw->journal_error);
		rc = -1;
	}
	json_decref(e);
	return rc;
}

/* A progress line: to the requester (if still connected), to event subscribers, to the log. */
void sw_emit(struct switchover *sw, const char *status, const char *fmt, ...)
{
	struct log_ctx ctx = sw_lctx(sw);
	va_list ap;
	char msg[1024];
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	{
		char ts[40];
		iso_time(now_real_us(), ts, sizeof(ts));
		p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s}", "ts", ts, "id", sw->id, "cluster", sw_ccfg(sw)->name,
			      "phase", phase_names[sw->phase], "status", status, "elapsed_ms",
			      sw_ms_since(sw->started_us), "message", msg);
		/* the steps of the whole that event hooks are told about */
		if (sw->milestone) {
			json_object_set_new(p, "milestone", json_string(sw->milestone));
			json_object_set_new(p, "kind", json_string(sw->failover ? "failover" : "switchover"));
			sw->milestone = NULL;
		}
	}
	log_ctx(!strcmp(status, "fail") ? LOG_ERR : !strcmp(status, "warn") ? LOG_WARNING : LOG_NOTICE, &ctx,
		"%s", msg);
	if (sw->client && !client_gone(sw->client))
		client_send(sw->client, proto_stream_line(sw->req_id, "progress", json_deep_copy(p)));
	json_object_set_new(p, "type", json_string("cutover"));
	json_object_set_new(p, "message", json_string(msg));
	event_hooks_fire(sw->d, p);
	if (sw->d->ctl)
		control_broadcast(sw->d->ctl, p);
	json_decref(p);
}

void sw_add_check(struct switchover *sw, const char *name, bool ok, bool fatal, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	const char *result = ok ? "pass" : fatal ? "fail" : "warn";

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(sw->checks, json_pack("{s:s, s:s, s:s}", "check", name, "result", result, "message", msg));
	sw_emit(sw, ok ? "ok" : fatal ? "fail" : "warn", "check %s: %s — %s", name, result, msg);
}

/* If a preflight check failed, fail the phase naming them all; true if so. */
bool sw_refused(struct switchover *sw)
{
	char *list;
	int n = sw_failed_checks(sw);
	if (!n)
		return false;
	list = sw_failed_list(sw);
	sw_phase_failed(sw, "%d check%s failed: %s", n, n == 1 ? "" : "s", list);
	free(list);
	return true;
}

/* "candidate_lag (lag 1500 ms, max 1000 ms); …" for the failed checks. */
char *sw_failed_list(const struct switchover *sw)
{
	char *out = xstrdup("");
	size_t i;
	json_t *c;
	json_array_foreach(sw->checks, i, c) {
		char *n;
		if (strcmp(json_string_value(json_object_get(c, "result")), "fail"))
			continue;
		n = xasprintf("%s%s%s (%s)", out, *out ? "; " : "", json_string_value(json_object_get(c, "check")),
			      json_string_value(json_object_get(c, "message")));
		free(out);
		out = n;
	}
	return out;
}

int sw_failed_checks(const struct switchover *sw)
{
	size_t i;
	json_t *c;
	int n = 0;
	json_array_foreach(sw->checks, i, c)
		n += !strcmp(json_string_value(json_object_get(c, "result")), "fail");
	return n;
}

void sw_timer_arm(struct switchover *sw, int ms, event_callback_fn cb)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	if (sw->timer)
		event_free(sw->timer);
	sw->timer = evtimer_new(sw->d->base, cb, sw);
	evtimer_add(sw->timer, &tv);
}

void sw_timer_stop(struct switchover *sw)
{
	if (sw->timer) {
		event_free(sw->timer);
		sw->timer = NULL;
	}
}

/* Routers are polled by poll.c too; a driver runs one operation at a time. */
typedef void (*router_op_fn)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

struct router_call {
	struct switchover *sw;
	struct router *r;
	router_op_fn op;
	router_cb done;
	struct event *retry;
};

static void router_call_start(evutil_socket_t fd, short what, void *arg);

static void router_call_done(struct router *r, int err, const char *msg, void *arg)
{
	struct router_call *rc = arg;
	router_cb done = rc->done;
	struct switchover *sw = rc->sw;
	if (rc->retry)
		event_free(rc->retry);
	free(rc);
	done(r, err, msg, sw);
}

static void router_call_start(evutil_socket_t fd, short what, void *arg)
{
	struct router_call *rc = arg;
	if (rc->r->busy) {
		struct timeval tv = { 0, 2000 };
		if (!rc->retry)
			rc->retry = evtimer_new(rc->sw->d->base, router_call_start, rc);
		evtimer_add(rc->retry, &tv);
		return;
	}
	if (rc->op)
		rc->op(rc->r, &rc->sw->rsw, router_call_done, rc);
	else
		rc->r->ops->poll(rc->r, router_call_done, rc);
}

/* Run op (NULL = poll) on every router of the cluster; `done` once per router. */
int sw_routers_each(struct switchover *sw, size_t op_offset, router_cb done)
{
	size_t i;
	int n = 0;
	/* exec hooks see it as CUTOVER_PHASE */
	sw->rsw.phase = sw->state == SW_ROLLING_BACK ? "rollback" : phase_names[sw->phase];
	for (i = 0; i < sw->c->n_routers; i++) {
		struct router_call *rc = xcalloc(1, sizeof(*rc));
		rc->sw = sw;
		rc->r = sw->c->routers[i];
		rc->op = op_offset ? *(router_op_fn *)((char *)rc->r->ops + op_offset) : NULL;
		rc->done = done;
		n++;
		router_call_start(-1, 0, rc);
	}
	return n;
}


/* ------------------------------------------------------------------------------------------ */
/* the one place that changes phase */

bool sw_should_stop(struct switchover *sw)
{
	if (sw->abort_requested && !sw->pnr) {
		if (!sw->reason) 
			sw->reason = xstrdup("aborted by the operator");
		sw_emit(sw, "fail", "abort requested: rolling back");
		sw_rollback_start(sw);
		return true;
	}
	return false;
}

void sw_phase_begin(struct switchover *sw, enum phase ph)
{
	sw->phase = ph;
	sw->rec[ph].start_us = now_mono_us();
	/* Every phase is recorded before it acts, and not acted on when it cannot be.  Those before
	 * the window are also on disk (fsync); inside it (sync, promote) the write alone is checked,
	 * and the point of no return has its own durable entry (enter_promote). */
	if (sw_journal(sw, JE_PHASE, ph == PH_DRAIN || ph == PH_CATCHUP || ph == PH_FENCE, NULL) < 0 && !sw->pnr) {
		sw_phase_failed(sw, "not started: %s", sw->journal_error);
		return;
	}
	sw_emit(sw, "start", "%s", phase_names[ph]);
	sw_clear_failures(sw);
	if (sw->failover && failover_enter[ph])
		failover_enter[ph](sw);
	else
		phase_enter[ph](sw);
}

/* A failover has no old primary to drain or catch up with. */
enum phase sw_next_phase(const struct switchover *sw, enum phase cur)
{
	enum phase next = cur + 1;
	if (sw->failover)
		while (next == PH_DRAIN || next == PH_CATCHUP)
			next++;
	return next;
}

/* The current phase succeeded: on to the next, unless paused, aborted or finished. */
void sw_phase_next(struct switchover *sw)
{
	enum phase cur = sw->phase, next;

	sw->rec[cur].end_us = now_mono_us();
	sw->rec[cur].ok = true;
	sw->milestone = "phase_ok";
	sw_emit(sw, "ok", "%s done in %.1f ms", phase_names[cur],
	     (double)(sw->rec[cur].end_us - sw->rec[cur].start_us) / 1000.0);
	if (cur == PH_PREFLIGHT && sw->dry_run) {
		sw_finish(sw, SW_DONE);
		return;
	}
	if (cur == PH_VERIFY) {
		sw_finish(sw, SW_DONE);
		return;
	}
	if (sw_should_stop(sw))
		return;
	next = sw_next_phase(sw, cur);
	if (!sw->pnr && ((int)next == sw->pause_before || sw->pause_requested)) {
		sw->pause_requested = false;
		sw->pause_before = -1;
		sw->state = SW_PAUSED;
		sw->phase = next;
		if (sw_journal(sw, JE_PAUSED, true, NULL) < 0) {
			sw->state = SW_RUNNING;
			sw->abort_requested = true;
			free(sw->reason);
			sw->reason = xstrdup(sw->journal_error);
			sw_should_stop(sw);
			return;
		}
		sw_emit(sw, "paused", "paused before %s; everything is prepared: `cutoverctl resume` to go on, "
				   "`cutoverctl abort` to roll back", phase_names[next]);
		return;
	}
	sw_phase_begin(sw, next);
}

void sw_phase_failed(struct switchover *sw, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("failed");
	va_end(ap);
	sw_timer_stop(sw);
	sw->rec[sw->phase].end_us = now_mono_us();
	sw->rec[sw->phase].ok = false;
	sw->milestone = "phase_fail";
	sw_emit(sw, "fail", "%s failed: %s", phase_names[sw->phase], msg);
	free(sw->reason);
	sw->reason = xasprintf("%s: %s", phase_names[sw->phase], msg);
	free(msg);
	if (sw->phase == PH_PREFLIGHT) {
		sw_finish(sw, SW_ROLLED_BACK);   /* nothing was changed */
		return;
	}
	if (!sw->pnr) {
		sw_rollback_start(sw);
		return;
	}
	sw_finish(sw, SW_FAILED);
}

/* ------------------------------------------------------------------------------------------ */
/* preflight */

static void preflight_hooks(struct switchover *sw);

static void preflight_eval(struct switchover *sw)
{
	struct cluster *c = sw->c;
	const struct topology *t = &c->topo;
	const struct server_status *cs = &sw->fresh_cand, *os = &sw->fresh_old;
	int cand_idx = -1, old_idx = -1;
	size_t i;

	for (i = 0; i < c->n_servers; i++) {
		if (c->servers[i] == sw->cand)
			cand_idx = (int)i;
		if (c->servers[i] == sw->old)
			old_idx = (int)i;
	}
	sw_add_check(sw, "one_writable_primary", t->n_writable == 1 && t->primary == old_idx && os->read_only == 0, true,
		  "%d writable server%s; primary %s (read_only=%d)", t->n_writable, t->n_writable == 1 ? "" : "s",
		  sw->old_name, os->read_only);
	sw_add_check(sw, "no_split_brain", t->n_writable <= 1, true,
		  t->n_writable <= 1 ? "no second writable server" : "more than one writable server");
	{
		bool direct = cs->repl.configured && cand_idx >= 0 &&
			      topo_same_endpoint(cs->repl.source_host, cs->repl.source_port, sw->old->cfg->host,
						 sw->old->cfg->port);
		sw_add_check(sw, "candidate_replicates_from_primary", direct, true,
			  direct ? "%s replicates directly from %s"
				 : cs->repl.configured ? "%s replicates from %s:%d, not from the primary"
						       : "%s is not a replica",
			  sw->new_name, direct ? sw->old_name : cs->repl.source_host, cs->repl.source_port);
	}
	sw_add_check(sw, "candidate_threads", cs->repl.io == THREAD_YES && cs->repl.sql == THREAD_YES, true,
		  "IO thread %s, SQL thread %s%s%s", thread_state_name(cs->repl.io), thread_state_name(cs->repl.sql),
		  *cs->repl.last_sql_error ? "; last SQL error: " : "", cs->repl.last_sql_error);
	{
		int64_t lag = sw->cand->st.heartbeat_lag_ms;
		const char *pp = os->flavor == FLAVOR_MARIADB ? os->gtid_binlog_pos : os->gtid_executed;
		/* Right after a switchover no heartbeat of the new primary has reached the replicas
		 * yet; the GTID positions read just now tell whether the candidate is caught up. */
		if (lag < 0 && pp && server_status_gtid(cs) &&
		    gtid_str_contains(sw_gtid_kind_of(sw->cand), server_status_gtid(cs), pp) == 1)
			sw_add_check(sw, "candidate_lag", true, true,
				     "no heartbeat lag yet, but %s already has everything %s had when read (%s)",
				     sw->new_name, sw->old_name, pp);
		else if (lag < 0)
			sw_add_check(sw, "candidate_lag", false, true, "lag unknown (no heartbeat seen on %s yet); max %d ms",
				  sw->new_name, sw->max_lag_ms);
		else
			sw_add_check(sw, "candidate_lag", lag <= sw->max_lag_ms, true,
				  "lag %lld ms (Seconds_Behind_Master %lld), max %d ms", (long long)lag,
				  cs->repl.seconds_behind, sw->max_lag_ms);
	}
	sw_add_check(sw, "candidate_binlog", cs->log_bin == 1 && cs->log_slave_updates == 1, true,
		  "log_bin=%s, log_slave_updates=%s (the other servers must be able to follow it)",
		  cs->log_bin == 1 ? "ON" : "OFF", cs->log_slave_updates == 1 ? "ON" : "OFF");
	if (cs->flavor == FLAVOR_MARIADB) {
		bool gtid_ok = cs->gtid_strict_mode == 1 && os->gtid_strict_mode == 1 &&
			       strcasecmp(cs->repl.using_gtid, "No") != 0;
		sw_add_check(sw, "gtid_consistent", gtid_ok, true,
			  "gtid_strict_mode: primary %s, candidate %s; candidate Using_Gtid=%s",
			  os->gtid_strict_mode == 1 ? "ON" : "OFF", cs->gtid_strict_mode == 1 ? "ON" : "OFF",
			  cs->repl.using_gtid);
	} else {
		bool gtid_ok = cs->gtid_mode_on == 1 && cs->enforce_gtid_consistency == 1 && os->gtid_mode_on == 1;
		sw_add_check(sw, "gtid_consistent", gtid_ok, true, "gtid_mode=%s, enforce_gtid_consistency=%s, %s",
			  cs->gtid_mode_on == 1 ? "ON" : "OFF", cs->enforce_gtid_consistency == 1 ? "ON" : "OFF",
			  cs->repl.using_gtid);
	}
	{
		const char *errant = cand_idx >= 0 && (size_t)cand_idx < t->n ? t->srv[cand_idx].errant : NULL;
		sw_add_check(sw, "no_errant_transactions", errant && !*errant, true,
			  !errant ? "could not compare GTID positions" : *errant ? "errant: %s" : "none", errant);
	}
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		if (s == sw->old || s == sw->cand)
			continue;
		sw_add_check(sw, "replica_reachable", s->health.state == HEALTH_UP || sw->allow_unreachable,
			  !sw->allow_unreachable, "%s is %s%s", s->cfg->name, health_name(s->health.state),
			  s->health.state == HEALTH_UP ? ""
			  : sw->allow_unreachable ? " (allowed: it will be left behind)"
						  : " (pass allow_unreachable to leave it behind)");
	}
	for (i = 0; i < c->n_routers; i++) {
		const struct router *r = c->routers[i];
		const struct router_backend *w;
		int count;
		if (!r->view.reachable) {
			sw_add_check(sw, "router", false, true, "router %s unreachable: %s", r->cfg->name, r->view.error);
			continue;
		}
		if (r->cfg->type == ROUTER_EXEC && r->view.n == 0) {
			sw_add_check(sw, "router", true, false, "router %s (exec) reports no view; not cross-checked",
				  r->cfg->name);
			continue;
		}
		w = router_writer(&r->view, &count);
		sw_add_check(sw, "router", count == 1 && !strcmp(w->server, sw->old_name), true,
			  "router %s: %d writer%s%s%s", r->cfg->name, count, count == 1 ? "" : "s",
			  count == 1 ? ", " : "", count == 1 ? (*w->server ? w->server : w->name) : "");
		if (!router_find(&r->view, sw->new_name, true))
			sw_add_check(sw, "router_knows_candidate", false, true, "router %s has no backend for %s",
				  r->cfg->name, sw->new_name);
	}
	sw_add_check(sw, "replication_account", sw_ccfg(sw)->repl_user && sw_ccfg(sw)->repl_secret.password, true,
		  sw_ccfg(sw)->repl_user ? "replicas will follow the new primary as '%s'"
				      : "no repl_user/repl_password in [cluster %s]: the replicas could not follow",
		  sw_ccfg(sw)->repl_user ? sw_ccfg(sw)->repl_user : sw_ccfg(sw)->name);
	if (json_array_size(sw->privileged)) {
		size_t k;
		json_t *row;
		char list[512] = "";
		size_t off = 0;
		json_array_foreach(sw->privileged, k, row)
			if (off < sizeof(list))
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? ", " : "",
							json_string_value(row));
		sw_add_check(sw, "privileged_accounts", false, false,
			  "read_only does not stop these accounts on %s: %s; at the fence their sessions are cut "
			  "and every commit on %s is held until %s takes the writes, so none lands after the "
			  "fence point", sw->old_name, list, sw->old_name, sw->new_name);
	}
	if (sw_refused(sw))
		return;
	preflight_hooks(sw);
}

static void hook_done(struct job_result *r, void *arg)
{
	struct switchover *sw = arg;
	char why[300], last[300];
	const char *cmd;

	if (sw->state != SW_RUNNING)
		return;
	cmd = sw_ccfg(sw)->preflight_hooks[sw->hook_index];

	sw_add_check(sw, "preflight_hook", job_result_ok(r), true, "%s: %s%s%s", cmd,
		  job_result_describe(r, why, sizeof(why)), *job_result_last_line(r, last, sizeof(last)) ? ": " : "",
		  last);
	if (!job_result_ok(r)) {
		sw_phase_failed(sw, "preflight hook failed: %s", cmd);
		return;
	}
	sw->hook_index++;
	preflight_hooks(sw);
}

static void preflight_hooks(struct switchover *sw)
{
	const struct cfg_cluster *cc = sw_ccfg(sw);
	char **argv;
	struct log_ctx ctx = sw_lctx(sw);

	if (!cc->preflight_hooks || !cc->preflight_hooks[sw->hook_index]) {
		sw_phase_next(sw);
		return;
	}
	if (job_split_argv(cc->preflight_hooks[sw->hook_index], &argv) <= 0) {
		job_free_argv(argv);
		sw_phase_failed(sw, "preflight hook '%s' cannot be parsed", cc->preflight_hooks[sw->hook_index]);
		return;
	}
	{
		char *env[8];
		int n = 0;
		env[n++] = xasprintf("CUTOVER_PHASE=preflight");
		env[n++] = xasprintf("CUTOVER_CLUSTER=%s", cc->name);
		env[n++] = xasprintf("CUTOVER_OLD_PRIMARY=%s", sw->old_name);
		env[n++] = xasprintf("CUTOVER_NEW_PRIMARY=%s", sw->new_name);
		env[n++] = xasprintf("CUTOVER_ID=%s", sw->id);
		env[n] = NULL;
		job_run(sw->d->base, (const char *const *)argv, (const char *const *)env, NULL, 30000, hook_done, sw, &ctx);
		while (n--)
			free(env[n]);
	}
	job_free_argv(argv);
}

static void preflight_queries_done(struct switchover *sw)
{
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	preflight_eval(sw);
}

static void pf_old_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	const struct flavor_ops *f = sw_flavor_of(sw->old);

	if (res->err && res->failed == 0) {
		sw_set_failure(sw, "%s: %s", sw->old_name, res->errmsg);
	} else {
		size_t r;
		server_status_clear(&sw->fresh_old);
		f->parse_vars(res->rs[0], &sw->fresh_old);
		sw->fresh_old.flavor = f->id;
		json_decref(sw->privileged);
		sw->privileged = json_array();
		json_decref(sw->privileged_users);
		sw->privileged_users = json_array();
		for (r = 0; res->n > 1 && r < res->rs[1]->nrows; r++) {
			const char *user = rowset_at(res->rs[1], r, 0), *host = rowset_at(res->rs[1], r, 1);
			if (!user || !strcmp(user, sw->old->cfg->user) || !strcmp(user, "root") ||
			    !strcmp(user, "mariadb.sys") || (sw_ccfg(sw)->repl_user && !strcmp(user, sw_ccfg(sw)->repl_user)))
				continue;
			json_array_append_new(sw->privileged, json_sprintf("'%s'@'%s' (%s)", user, host ? host : "",
									     rowset_at(res->rs[1], r, 2)));
			json_array_append_new(sw->privileged_users, json_string(user));
		}
	}
	db_result_free(res);
	if (--sw->pending == 0)
		preflight_queries_done(sw);
}

/* The candidate's variables and replica status, read by preflight (both kinds). */
void sw_run_cand_status(struct switchover *sw, db_done_fn fn)
{
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	const char *q[2] = { fc->sql[SQL_VARS], fc->sql[SQL_REPLICA_STATUS] };
	db_run(sw->db_cand, q, 2, sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms, fn, sw);
}

bool sw_take_cand_status(struct switchover *sw, const struct db_result *res)
{
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	if (res->err)
		return false;
	server_status_clear(&sw->fresh_cand);
	f->parse_vars(res->rs[0], &sw->fresh_cand);
	f->parse_replica(res->rs[1], &sw->fresh_cand.repl);
	sw->fresh_cand.flavor = f->id;
	return true;
}

static void pf_cand_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (!sw_take_cand_status(sw, res))
		sw_set_failure(sw, "%s: %s", sw->new_name, res->errmsg);
	db_result_free(res);
	if (--sw->pending == 0)
		preflight_queries_done(sw);
}

static void enter_preflight(struct switchover *sw)
{
	const struct flavor_ops *fo = sw_flavor_of(sw->old);
	const char *q_old[2] = { fo->sql[SQL_VARS], fo->sql[SQL_PRIVILEGED_USERS] };
	int qt = sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms;

	sw->pending = 2;
	db_run(sw->db_old, q_old, 2, qt, pf_old_done, sw);
	sw_run_cand_status(sw, pf_cand_done);
}

/* ------------------------------------------------------------------------------------------ */
/* drain */

static void drain_wait(evutil_socket_t fd, short what, void *arg);

static int old_sessions(const struct switchover *sw)
{
	size_t i;
	int n = 0;
	for (i = 0; i < sw->c->n_routers; i++) {
		const struct router_backend *b = router_find(&sw->c->routers[i]->view, sw->old_name, true);
		if (b)
			n += b->sessions;
	}
	return n;
}

static void drain_polled(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING)
		return;
	if (err)
		sw_set_failure(sw, "router %s: %s", r->cfg->name, msg ? msg : "poll failed");
	if (--sw->pending)
		return;
	if (sw_should_stop(sw))
		return;
	if (old_sessions(sw) == 0) {
		sw_emit(sw, "ok", "no session left on %s", sw->old_name);
		sw_phase_next(sw);
		return;
	}
	if (now_mono_us() >= sw->deadline_us) {
		sw_emit(sw, "info", "%d session%s still open on %s after %d ms; they are cut at the fence", old_sessions(sw),
		     old_sessions(sw) == 1 ? "" : "s", sw->old_name, sw->drain_timeout_ms);
		sw_phase_next(sw);
		return;
	}
	sw_timer_arm(sw, POLL_STEP_MS, drain_wait);
}

static void drain_wait(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->pending = sw_routers_each(sw, 0, drain_polled);
	if (!sw->pending)
		sw_phase_next(sw);
}

static void drained(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING)
		return;
	if (err)
		sw_set_failure(sw, "router %s could not drain %s: %s", r->cfg->name, sw->old_name, msg ? msg : "?");
	else
		sw_emit(sw, "ok", "router %s: %s drained", r->cfg->name, sw->old_name);
	if (--sw->pending)
		return;
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	sw->deadline_us = now_mono_us() + (int64_t)sw->drain_timeout_ms * 1000;
	drain_wait(-1, 0, sw);
}

static void enter_drain(struct switchover *sw)
{
	sw->drained = true;   /* from here on, rollback restores the routers */
	sw->pending = sw_routers_each(sw, ROUTER_OP(drain), drained);
	if (!sw->pending)
		sw_phase_next(sw);
}

/* ------------------------------------------------------------------------------------------ */
/* catchup: while writes flow, wait until the candidate is within catchup_lag of the primary */

static void catchup_round(struct switchover *sw);

static void catchup_waited(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	double took = sw_ms_since(sw->catchup_started_us);

	if (res->err || !v || strcmp(v, "0")) {
		bool timeout = !res->err && v && strcmp(v, "0");
		sw_phase_failed(sw, "%s did not catch up with %s: %s", sw->new_name, sw->old_name,
			     timeout ? "still behind at the catch-up deadline" : res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	if (sw_should_stop(sw))
		return;
	if (took <= sw_ccfg(sw)->catchup_lag_ms) {
		sw_emit(sw, "ok", "%s reached the primary's position %.1f ms after it was read (limit %d ms)",
		     sw->new_name, took, sw_ccfg(sw)->catchup_lag_ms);
		sw_phase_next(sw);
		return;
	}
	sw_emit(sw, "info", "%s needed %.1f ms to reach the primary's position; again", sw->new_name, took);
	catchup_round(sw);
}

static void catchup_pos(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	int64_t left_ms = (sw->deadline_us - now_mono_us()) / 1000;
	char *q;

	if (res->err) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	if (left_ms <= 0) {
		sw_phase_failed(sw, "%s did not catch up within %d ms", sw->new_name, sw_ccfg(sw)->catchup_timeout_ms);
		db_result_free(res);
		return;
	}
	sw->catchup_started_us = now_mono_us();
	q = xasprintf(fc->sql[SQL_WAIT_GTID], rowset_at(res->rs[0], 0, 0) ? rowset_at(res->rs[0], 0, 0) : "",
		      (double)left_ms / 1000.0);
	db_result_free(res);
	db_run1(sw->db_cand, q, (int)left_ms + 1000, catchup_waited, sw);
	free(q);
}

static void catchup_round(struct switchover *sw)
{
	db_run1(sw->db_old, sw_flavor_of(sw->old)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, catchup_pos, sw);
}

static void enter_catchup(struct switchover *sw)
{
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->catchup_timeout_ms * 1000;
	if (sw_ccfg(sw)->catchup_timeout_ms <= 0)
		sw->deadline_us = now_mono_us() + 60000 * 1000LL;
	catchup_round(sw);
}

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
	db_run(sw->db_kill, (const char *const *)sw->kills + first, sw->n_kills - first, sw->d->cfg->query_timeout_ms,
	       sessions_killed, sw);
}

static void kills_clear(struct switchover *sw)
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

	kills_clear(sw);
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
static void cut_sessions(struct switchover *sw, void (*then)(struct switchover *))
{
	db_cancel(sw->db_kill);
	sw->cut_then = then;
	db_run1(sw->db_kill, sw_flavor_of(sw->old)->sql[SQL_LIST_SESSIONS], sw->d->cfg->query_timeout_ms,
		sessions_listed, sw);
}

static void fenced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
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
	cut_sessions(sw, NULL);
	if (sw_should_stop(sw))
		return;
	sw_phase_next(sw);
}

/* read_only, then (where read_only does not stop every account) hold every commit, then read
 * the fence point: nothing can commit on the old primary after it is read, whoever asks,
 * until the hold is released once the new primary takes the writes (after_routing). */
static void enter_fence(struct switchover *sw)
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
	db_run(sw->db_old, q, n, sw_ccfg(sw)->fence_timeout_ms, fenced, sw);
}

/* ------------------------------------------------------------------------------------------ */
/* sync */

static void synced_check(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	const char *pos = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	int has;

	if (!pos) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->new_name, res->err ? res->errmsg : "no value");
		db_result_free(res);
		return;
	}
	has = gtid_str_contains(sw_gtid_kind_of(sw->cand), pos, sw->fence_point);
	if (has != 1) {
		sw_phase_failed(sw, "%s's position %s does not contain the fence point %s", sw->new_name, pos,
			     sw->fence_point);
		db_result_free(res);
		return;
	}
	sw_emit(sw, "ok", "%s has every transaction up to the fence point (%s)", sw->new_name, pos);
	db_result_free(res);
	if (sw_should_stop(sw))
		return;
	sw_phase_next(sw);
}

static void synced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (!v || strcmp(v, "0")) {
		sw_phase_failed(sw, "%s did not reach the fence point within %d ms%s%s", sw->new_name, sw->sync_timeout_ms,
			     res->err ? ": " : "", res->err ? res->errmsg : "");
		db_result_free(res);
		return;
	}
	db_result_free(res);
	db_run1(sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, synced_check, sw);
}

static void enter_sync(struct switchover *sw)
{
	char *q = xasprintf(sw_flavor_of(sw->cand)->sql[SQL_WAIT_GTID], sw->fence_point, sw->sync_timeout_ms / 1000.0);
	/* the server answers -1 at its own timeout; ours is a little later, for a hung server */
	db_run1(sw->db_cand, q, sw->sync_timeout_ms + 100 + sw->sync_timeout_ms / 10, synced, sw);
	free(q);
}

/* ------------------------------------------------------------------------------------------ */
/* promote */

static void after_routing(struct switchover *sw);

static void routed(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING)
		return;
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
		sw_emit(sw, "ok", "%s writable and routed %.1f ms after the fence", sw->new_name,
			(double)(sw->routed_us - sw->fence_start_us) / 1000.0);
	else
		sw_emit(sw, "ok", "writes were blocked for %.1f ms (fence → %s writable and routed)",
			(double)(sw->routed_us - sw->fence_start_us) / 1000.0, sw->new_name);
	sw_journal(sw, JE_ROUTED, true,
		json_pack("{s:f}", "write_blocked_ms", (double)(sw->routed_us - sw->fence_start_us) / 1000.0));
	after_routing(sw);
}

static void writable(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
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
static void enter_promote(struct switchover *sw)
{
	/* the point of no return is never passed without its record on disk */
	if (sw_journal(sw, JE_PNR, true, NULL) < 0) {
		sw_phase_failed(sw, "%s was not made writable: %s", sw->new_name, sw->journal_error);
		return;
	}
	sw->promote_started = true;
	db_run1(sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_UNFENCE], sw_ccfg(sw)->promote_timeout_ms, writable, sw);
}

/* Outside the window: the others follow the new primary, routers persist. */
static void followers_done(struct switchover *sw);

static void follower_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
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
	q[n++] = xasprintf(f->sql[demote && !old_mariadb ? SQL_DEMOTE_TO_REPLICA : SQL_CHANGE_SOURCE], host,
			   sw->cand->cfg->port, user, pw, 1);
	q[n++] = xstrdup(f->sql[SQL_START_REPLICA]);
	sw->pending++;
	db_run(db, (const char *const *)q, n, sw_ccfg(sw)->promote_timeout_ms, follower_done, sw);
	while (n)
		free_secret(q[--n]);
	free_secret(pw);
	free(user);
	free(host);
}

static void followers_start(struct switchover *sw)
{
	size_t i;
	sw_clear_failures(sw);
	sw->pending = 1;   /* held until every follower has been started */
	for (i = 0; i < sw->n_reps; i++)
		if (sw->reps[i]->health.state == HEALTH_UP)
			(sw->failover ? f_follow : sw_follow)(sw, sw->db_rep[i], sw->reps[i], false);
		else
			sw_emit(sw, "warn", "%s is %s: left behind; point it at %s by hand", sw->reps[i]->cfg->name,
			     health_name(sw->reps[i]->health.state), sw->new_name);
	if (sw->reverse)
		sw_follow(sw, sw->db_old, sw->old, true);
	if (--sw->pending == 0)
		followers_done(sw);
}

static void cand_detached(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
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
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (res->err) {
		/* dropping the session releases it as surely */
		sw_emit(sw, "warn", "releasing the commit hold on %s: %s; closing the session instead", sw->old_name,
			res->errmsg);
		db_cancel(sw->db_old);
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

	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		return;
	}
	if (left && strcmp(left, "0") && now_mono_us() < sw->deadline_us) {
		db_result_free(res);
		sw_timer_arm(sw, 2, release_wait);
		return;
	}
	if (!left || strcmp(left, "0"))
		sw_emit(sw, "warn", "releasing the commit hold on %s although %s cut session%s may not be gone yet",
			sw->old_name, left ? left : "some", left && !strcmp(left, "1") ? "" : "s");
	db_result_free(res);
	sw->n_kills = 0;
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
		db_cancel(sw->db_kill);
		db_run1(sw->db_kill, q, sw->d->cfg->query_timeout_ms, cut_gone, sw);
		free(q);
		return;
	}
	db_run1(sw->db_old, sw_flavor_of(sw->old)->sql[SQL_HOLD_RELEASE], sw->d->cfg->query_timeout_ms,
		hold_released, sw);
}

/* After the routers moved, outside the window. */
static void after_routing(struct switchover *sw)
{
	if (sw->holding) {
		sw->deadline_us = now_mono_us() + (int64_t)sw->d->cfg->query_timeout_ms * 1000;
		cut_sessions(sw, release_hold_now);
		return;
	}
	detach_candidate(sw);
}

static void detach_candidate(struct switchover *sw)
{
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	const char *q[2] = { fc->sql[SQL_STOP_REPLICA], fc->sql[SQL_RESET_REPLICA] };
	db_run(sw->db_cand, q, 2, sw_ccfg(sw)->promote_timeout_ms, cand_detached, sw);
}

static void finalized(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING)
		return;
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

/* ------------------------------------------------------------------------------------------ */
/* verify */

static void verify_round(evutil_socket_t fd, short what, void *arg);

static void probe_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (sw->state != SW_RUNNING) {
		db_result_free(res);
		db_free(db);
		return;
	}
	const char *sid = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	long long id;

	if (res->err) {
		sw_set_failure(sw, "probe write through the router failed: %s", res->errmsg);
	} else if (res->rs[0]->affected < 1) {
		sw_set_failure(sw, "probe write through the router landed on a read-only server (server_id %s)",
			    sid ? sid : "?");
	} else if (!sid || !parse_ll(sid, 0, LLONG_MAX, &id) || (unsigned long long)id != sw->cand->st.server_id) {
		sw_set_failure(sw, "probe write landed on server_id %s, not on %s (server_id %llu)", sid ? sid : "?",
			    sw->new_name, sw->cand->st.server_id);
	} else {
		sw_emit(sw, "ok", "probe write through the router landed on %s", sw->new_name);
	}
	db_result_free(res);
	db_free(db);
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	/* Now the topology, from fresh polls. */
	sw->verify_waiting = true;
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->promote_timeout_ms * 1000;
	sw->fresh_since_us = now_mono_us();
	poll_cluster_now(sw->d, sw->c);
}

static void enter_verify(struct switchover *sw)
{
	const struct cfg_router *probe_router = NULL;
	size_t i;

	sw->c->hb_paused = false;
	for (i = 0; i < sw->c->n_routers; i++)
		if (sw->c->routers[i]->cfg->write_endpoint)
			probe_router = sw->c->routers[i]->cfg;
	if (probe_router) {
		const char *ep = probe_router->write_endpoint;
		const char *colon = strrchr(ep, ':');
		char *host = colon ? strndup(ep, (size_t)(colon - ep)) : xstrdup(ep);
		struct db_target t = {
			.host = host, .port = colon ? atoi(colon + 1) : 3306, .user = sw->cand->cfg->user,
			.password = sw->cand->cfg->secret.password, .tls_mode = sw->cand->cfg->tls_mode,
			.tls_ca = sw->cand->cfg->tls_ca, .tls_cert = sw->cand->cfg->tls_cert,
			.tls_key = sw->cand->cfg->tls_key,
		};
		struct db *db = db_new(sw->d->base, "probe");
		const struct flavor_ops *f = sw_flavor_of(sw->cand);
		char *q[2];
		db_set_target(db, &t, sw->d->cfg->connect_timeout_ms);
		q[0] = xasprintf(f->sql[SQL_HEARTBEAT_WRITE], sw_ccfg(sw)->heartbeat_table, (long long)now_real_us());
		q[1] = xstrdup("SELECT @@server_id");
		db_run(db, (const char *const *)q, 2, sw_ccfg(sw)->promote_timeout_ms, probe_done, sw);
		free(q[0]);
		free(q[1]);
		free(host);
		return;
	}
	sw_emit(sw, "info", "no router has write_endpoint: the probe write is skipped");
	sw->verify_waiting = true;
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->promote_timeout_ms * 1000;
	sw->fresh_since_us = now_mono_us();
	poll_cluster_now(sw->d, sw->c);
}

static void verify_repoll(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->verify_waiting = true;
	poll_cluster_now(sw->d, sw->c);
}

/* Has every server been observed by a poll that started at or after `t`?  (A poll still in
 * flight when a round starts is skipped by that round, so "the next round" is not enough.)
 * Servers known down may be skipped: their backoff can space polls by seconds. */
static bool observed_since(const struct cluster *c, int64_t t, bool skip_down)
{
	size_t i;
	for (i = 0; i < c->n_servers; i++) {
		const struct server *s = c->servers[i];
		if (skip_down && s->health.state == HEALTH_DOWN)
			continue;
		if (s->observed_us < t)
			return false;
	}
	return true;
}

/* Is the cluster as it should be after the switchover?  NULL if so, else what is not. */
static char *verify_problem(struct switchover *sw)
{
	struct cluster *c = sw->c;
	size_t i;

	if (c->topo.n_writable != 1 || c->topo.primary < 0 || c->servers[c->topo.primary] != sw->cand ||
	    (sw->failover && sw->old->st.reachable && sw->old->st.read_only == 0))
		return xasprintf("%d writable server%s; primary %s", c->topo.n_writable,
				 c->topo.n_writable == 1 ? "" : "s",
				 c->topo.primary >= 0 ? c->servers[c->topo.primary]->cfg->name : "none");
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		if (s == sw->cand || (s == sw->old && !sw->reverse) || s->health.state != HEALTH_UP)
			continue;
		if (sw->failover) {
			size_t e;
			json_t *x;
			bool left = false;
			json_array_foreach(sw->errant, e, x)
				left |= !strcmp(json_string_value(json_object_get(x, "server")), s->cfg->name);
			if (left)
				continue;
		}
		if (c->topo.srv[i].source != c->topo.primary)
			return xasprintf("%s does not replicate from %s", s->cfg->name, sw->new_name);
		if (s->st.repl.io != THREAD_YES || s->st.repl.sql != THREAD_YES)
			return xasprintf("%s: IO %s, SQL %s", s->cfg->name, thread_state_name(s->st.repl.io),
					 thread_state_name(s->st.repl.sql));
		if (s->st.read_only != 1)
			return xasprintf("%s is writable", s->cfg->name);
	}
	{
		char why[300];
		if (!routers_write_to(c->routers, c->n_routers, sw->new_name, why, sizeof(why)))
			return xstrdup(why);
	}
	return NULL;
}

static void verify_round(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->verify_waiting = true;
	sw->fresh_since_us = now_mono_us();
	poll_cluster_now(sw->d, sw->c);
}

void switchover_on_evaluate(struct switchover *sw)
{
	char *problem;

	if (sw->awaiting_fresh) {
		if (observed_since(sw->c, sw->fresh_since_us, false))
			sw_finish(sw, SW_FAILED);
		return;
	}
	if (sw->state != SW_RUNNING || sw->phase != PH_VERIFY || !sw->verify_waiting)
		return;
	if (!observed_since(sw->c, sw->fresh_since_us, true)) {
		/* a poll that was in flight when the round began: ask again in a moment */
		sw->verify_waiting = false;
		sw_timer_arm(sw, 20, verify_repoll);
		return;
	}
	/* the routers' polls of this round may still run; a short while later is soon enough */
	sw->verify_waiting = false;
	problem = verify_problem(sw);
	if (!problem) {
		sw_emit(sw, "ok", "one writable server (%s); replicas follow it; routers agree", sw->new_name);
		sw_phase_next(sw);
		return;
	}
	if (now_mono_us() >= sw->deadline_us) {
		sw_phase_failed(sw, "the cluster did not settle: %s", problem);
		free(problem);
		return;
	}
	free(problem);
	sw_timer_arm(sw, 50, verify_round);
}

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
		db_run(sw->db_cand, q, 3, sw_ccfg(sw)->promote_timeout_ms, rb_cand_done, sw);
		return;
	}
	if (sw->cand_io_stopped) {   /* a failover stopped its IO thread */
		db_run1(sw->db_cand, f->sql[SQL_START_REPLICA], sw_ccfg(sw)->promote_timeout_ms, rb_cand_done, sw);
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
	db_run(sw->db_kill, q, 2, sw_ccfg(sw)->fence_timeout_ms, rb_unfenced, sw);
}

static void rb_unfence(struct switchover *sw);

/* Before the old primary is made writable again: fresh reads, now, of every other server.  The
 * candidate must answer read-only (whoever may have touched it: a statement of ours that hung,
 * an operator); another replica must answer read-only or be one the pollers know is down. */
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
		bool down_replica = s != sw->cand && res->err && s->health.state == HEALTH_DOWN;
		if (!down_replica) {
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
	db_cancel(sw->db_cand);
	db_run1(sw->db_cand, "SELECT @@global.read_only", qt, rb_other_checked, sw);
	for (i = 0; i < sw->n_reps; i++) {
		sw->pending++;
		db_cancel(sw->db_rep[i]);
		db_run1(sw->db_rep[i], "SELECT @@global.read_only", qt, rb_other_checked, sw);
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
		db_cancel(sw->db_kill);
		db_run1(sw->db_kill, q, sw->d->cfg->query_timeout_ms, rb_killed, sw);
		free(q);
		return;
	}
	db_cancel(sw->db_kill);
	rb_killed(NULL, xcalloc(1, sizeof(struct db_result)), sw);
}

void sw_rollback_start(struct switchover *sw)
{
	sw_timer_stop(sw);
	sw->state = SW_ROLLING_BACK;
	sw_clear_failures(sw);
	sw_journal(sw, JE_ROLLBACK, true, json_pack("{s:s}", "reason", sw->reason ? sw->reason : ""));
	sw_emit(sw, "info", "rolling back: %s", sw->reason ? sw->reason : "");
	/* Whatever is still running on our connections is abandoned; a fence statement still
	 * waiting on the old primary is killed before it is made writable again. */
	db_cancel(sw->db_cand);
	db_cancel(sw->db_old);
	rb_candidate(sw);
}

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
		sw->state = SW_FAILED;
		sw_timer_arm(sw, sw->d->cfg->poll_interval_ms + sw->d->cfg->query_timeout_ms + 500, fresh_timeout);
		sw->fresh_since_us = now_mono_us();
		poll_cluster_now(sw->d, c);
		return;
	}
	sw->awaiting_fresh = false;

	sw_timer_stop(sw);
	sw->state = st;
	sw->c->hb_paused = false;
	rep = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sw->id, "cluster", sw_ccfg(sw)->name, "old_primary", sw->old_name,
			"new_primary", sw->new_name, "outcome", outcome);
	json_object_set_new(rep, "reason", sw->reason ? json_string(sw->reason) : json_null());
	json_object_set(rep, "checks", sw->checks);
	json_object_set_new(rep, "phases", phases_json(sw));
	json_object_set_new(rep, "write_blocked_ms", sw->routed_us && sw->fence_start_us
							     ? json_real((double)(sw->routed_us - sw->fence_start_us) / 1000.0)
							     : json_null());
	json_object_set_new(rep, "fence_point", sw->fence_point ? json_string(sw->fence_point) : json_null());
	json_object_set_new(rep, "point_of_no_return_passed", json_boolean(sw->pnr));
	json_object_set_new(rep, "kind", json_string(sw->failover ? "failover" : "switchover"));
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
		cluster_stats_switchover(&c->stats, sw->failover, o, sw->routed_us && sw->fence_start_us
						    ? (double)(sw->routed_us - sw->fence_start_us) / 1000.0 : -1, ph);
	}
	sw->milestone = "finished";
	sw_emit(sw, st == SW_DONE ? "ok" : "fail", "%s %s: %s%s%s", sw->failover ? "failover" : "switchover", sw->id,
		outcome, sw->reason ? ": " : "",
	     sw->reason ? sw->reason : "");
	if (sw->client) {
		if (!client_gone(sw->client)) {
			if (st == SW_DONE)
				client_reply_ok(sw->client, sw->req_id, json_incref(rep));
			else {
				json_t *r = proto_reply_err(sw->req_id, !strcmp(outcome, "refused") ? ERR_BADSTATE : ERR_FAILED,
							    "%s%s%s", outcome,
							    sw->reason ? ": " : "", sw->reason ? sw->reason : "");
				json_object_set(json_object_get(r, "error"), "report", rep);
				stats_api("switchover", !strcmp(outcome, "refused") ? "BADSTATE" : "FAILED");
				client_send(sw->client, r);
			}
		}
		client_release(sw->client);
		sw->client = NULL;
	}
	json_decref(rep);
	/* The cluster is free again; the record lives on in the journal (cutoverctl history). */
	{
		struct daemon *d = sw->d;
		if (c->cutover == sw) {
			c->cutover = NULL;
			poll_cluster_now(d, c);
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
			sw->state = SW_RUNNING;
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
	sw_timer_stop(sw);
	db_free(sw->db_old);
	db_free(sw->db_kill);
	db_free(sw->db_cand);
	for (i = 0; i < sw->n_reps; i++)
		db_free(sw->db_rep[i]);
	journal_close(sw->journal);
	json_decref(sw->checks);
	json_decref(sw->req_id);
	json_decref(sw->privileged);
	json_decref(sw->privileged_users);
	json_decref(sw->errant);
	free(sw->fence_sql_error);
	kills_clear(sw);
	if (sw->job)
		job_cancel(sw->job);
	server_status_clear(&sw->fresh_old);
	server_status_clear(&sw->fresh_cand);
	free(sw->old_name);
	free(sw->new_name);
	free(sw->fence_point);
	free(sw->first_failure);
	free(sw->reason);
	free(sw->journal_error);
	free(sw->deferred_failure);
	free(sw);
}

void switchover_rebind(struct switchover *sw, struct daemon *d, struct cluster *c)
{
	sw->d = d;
	sw->c = c;
	sw->old = daemon_server(d, sw->old_name);
	sw->cand = daemon_server(d, sw->new_name);
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
	return o;
}

