/* The cutover engine: what every plan's steps share — connections, the journal (first,
 * always), progress, checks, timers — the one function that changes a cutover's state
 * (sw_set_state), the one guard of its database calls, and the one place that moves a cutover
 * from step to step (sw_phase_begin / sw_phase_next / sw_phase_failed).  Its router calls are in
 * engine_routers.c, pausing and resuming in engine_pause.c, the plans in plan.c, each step in its
 * own file. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "ha.h"
#include "fence.h"
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


/* ------------------------------------------------------------------------------------------ */
/* small helpers */

const struct flavor_ops *sw_flavor_of(const struct server *s)
{
	return server_flavor(s);
}

enum gtid_kind sw_gtid_kind_of(const struct server *s)
{
	return sw_flavor_of(s)->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL;
}

enum rep_fate sw_rep_fate(const struct switchover *sw, const struct server *s)
{
	size_t i;
	for (i = 0; i < sw->n_reps; i++)
		if (sw->reps[i] == s)
			return sw->rep_fate[i];
	return REP_FOLLOW;
}

struct db *sw_open_db(struct switchover *sw, const struct server *s)
{
	return server_db_new(sw->d, s->cfg);
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
	if (sw->obs.progress)
		sw->obs.progress(sw, p, sw->obs.arg);
	json_object_set_new(p, "type", json_string("cutover"));
	json_object_set_new(p, "message", json_string(msg));
	daemon_publish(sw->d, p);
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


/* ------------------------------------------------------------------------------------------ */
/* the one place that changes phase */

static const char *const state_verbs[] = {
	[SW_RUNNING] = "running", [SW_PAUSED] = "paused", [SW_ROLLING_BACK] = "rolling back", [SW_DONE] = "done",
	[SW_ROLLED_BACK] = "rolled back", [SW_FAILED] = "failed", [SW_INTERRUPTED] = "interrupted",
};

void sw_set_state(struct switchover *sw, enum sw_state to, const char *why)
{
	struct log_ctx ctx = sw_lctx(sw);

	if (sw->state != to)
		log_ctx(LOG_INFO, &ctx, "%s %s: %s → %s (%s)", sw->plan ? sw->plan->kind : "cutover", sw->id,
			state_verbs[sw->state], state_verbs[to], why);
	sw->state = to;
	/* Pausing and resuming happen between steps: what still runs in the background (cutting
	 * sessions) may finish.  Anything else ends what was in flight. */
	if (to != SW_RUNNING && to != SW_PAUSED) {
		sw->epoch++;
		if (sw->job) {
			job_cancel(sw->job);
			sw->job = NULL;
		}
		fence_cancel(sw->fence_op);
		sw->fence_op = NULL;
	}
	sw_timer_stop(sw);
	if (sw->step_timer) {
		event_free(sw->step_timer);
		sw->step_timer = NULL;
	}
	if (sw->pause_timer) {   /* a pause ends with any change of state */
		event_free(sw->pause_timer);
		sw->pause_timer = NULL;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* the one guard: every database call of a cutover goes through here */

struct sw_io sw_io = { db_run, poll_cluster_now, db_cancel };

static void sw_db_done(struct db *db, struct db_result *res, void *arg)
{
	struct sw_call *k = arg;
	struct switchover *sw = k->sw;
	void (*fn)(struct db *, struct db_result *, void *) = k->fn;

	k->fn = NULL;
	if (k->epoch != sw->epoch) {   /* its cutover moved on (rolled back, paused, finished) */
		db_result_free(res);
		return;
	}
	fn(db, res, sw);
}

int sw_db_run(struct switchover *sw, struct db *db, const char *const *sql, size_t n, int timeout_ms,
	      void (*fn)(struct db *, struct db_result *, void *))
{
	struct sw_call *k = NULL;
	size_t i;

	for (i = 0; i < ARRAY_LEN(sw->calls) && !k; i++)
		if (sw->calls[i].db == db)
			k = &sw->calls[i];
	for (i = 0; i < ARRAY_LEN(sw->calls) && !k; i++)
		if (!sw->calls[i].db)
			k = &sw->calls[i];
	if (!k || db_busy(db))
		return -1;
	/* the one guard also keeps a member that no longer leads from changing anything, even in
	 * the moment before it notices (a process stopped and woken): no answer comes, and the end
	 * of its leadership ends the cutover here (ha.h) */
	if (!ha_acting(sw->d->ha))
		return -1;
	k->sw = sw;
	k->db = db;
	k->fn = fn;
	k->epoch = sw->epoch;
	return sw_io.db_run(db, sql, n, timeout_ms, sw_db_done, k);
}

int sw_db_run1(struct switchover *sw, struct db *db, const char *sql, int timeout_ms,
	       void (*fn)(struct db *, struct db_result *, void *))
{
	return sw_db_run(sw, db, &sql, 1, timeout_ms, fn);
}

void sw_start(struct switchover *sw, const struct sw_observer *obs, json_t *begin_extra)
{
	const char *kind = sw->failover ? "failover" : "switchover";

	if (obs)
		sw->obs = *obs;
	sw->c->cutover = sw;
	if (!sw->dry_run) {
		sw_journal(sw, JE_BEGIN, true, begin_extra);
	} else {
		json_decref(begin_extra);
		journal_close(sw->journal);
		sw->journal = NULL;
	}
	sw_emit(sw, "start", "%s%s %s → %s on cluster %s%s", sw->dry_run ? "dry run of " : "", kind, sw->old_name,
		sw->new_name, sw->c->cfg->name, sw->automatic ? " (automatic)" : "");
	sw_phase_begin(sw, PH_PREFLIGHT);
}

/* ------------------------------------------------------------------------------------------ */
/* the one place that moves a cutover along its plan */

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

static void step_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	const struct step *st = &sw->plan->steps[sw->step];

	event_free(sw->step_timer);
	sw->step_timer = NULL;
	if (sw->state == SW_RUNNING)
		sw_phase_failed(sw, "not finished within its deadline of %d ms", st->deadline_ms(sw));
}

static void step_recorded(void *arg, bool ok, const char *why);

void sw_phase_begin(struct switchover *sw, enum phase ph)
{
	int idx = plan_index(sw->plan, ph);
	const struct step *st;

	if (idx < 0)
		idx = 0;
	st = &sw->plan->steps[idx];
	if (sw->phase != ph && sw->rec[sw->phase].start_us) {
		struct log_ctx ctx = sw_lctx(sw);
		log_ctx(LOG_INFO, &ctx, "phase %s → %s", phase_names[sw->phase], phase_names[ph]);
	}
	sw->step = (size_t)idx;
	sw->phase = ph;
	sw->rec[ph].start_us = now_mono_us();
	/* Every step is recorded before it acts, and not acted on when it cannot be. */
	if (sw_journal(sw, JE_PHASE, st->durable, NULL) < 0 && !sw->pnr) {
		sw_phase_failed(sw, "not started: %s", sw->journal_error);
		return;
	}
	sw_emit(sw, "start", "%s", phase_names[ph]);
	sw_clear_failures(sw);
	if (sw->step_timer)
		event_free(sw->step_timer);
	{
		int ms = st->deadline_ms(sw);
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		sw->step_timer = evtimer_new(sw->d->base, step_deadline, sw);
		evtimer_add(sw->step_timer, &tv);
	}
	/* with [ha], a durable step also waits for etcd to have its record: the next leader must
	 * know what this one may have done */
	if (st->durable && !sw->dry_run && ha_journal_wait(sw->d->ha, step_recorded, sw)) {
		sw->ha_wait_step = idx + 1;
		return;
	}
	st->enter(sw);
}

static void step_recorded(void *arg, bool ok, const char *why)
{
	struct switchover *sw = arg;
	int idx = sw->ha_wait_step - 1;

	sw->ha_wait_step = 0;
	if (idx < 0 || sw->state != SW_RUNNING || sw->step != (size_t)idx)
		return;   /* it moved on (its deadline, an abort) while etcd was asked */
	if (!ok) {
		sw_phase_failed(sw, "not started: etcd's journal does not have its record: %s", why);
		return;
	}
	sw->plan->steps[idx].enter(sw);
}

/* The current step succeeded: on to the next, unless paused, aborted or finished. */
void sw_phase_next(struct switchover *sw)
{
	enum phase cur = sw->phase, next;

	sw->rec[cur].end_us = now_mono_us();
	sw->rec[cur].ok = true;
	sw->milestone = "phase_ok";
	if (sw->step_timer) {
		event_free(sw->step_timer);
		sw->step_timer = NULL;
	}
	sw_emit(sw, "ok", "%s done in %.1f ms", phase_names[cur],
	     (double)(sw->rec[cur].end_us - sw->rec[cur].start_us) / 1000.0);
	if ((cur == PH_PREFLIGHT && sw->dry_run) || sw->step + 1 >= sw->plan->n) {
		sw_finish(sw, SW_DONE);
		return;
	}
	if (sw_should_stop(sw))
		return;
	next = sw->plan->steps[sw->step + 1].phase;
	if (!sw->pnr && ((int)next == sw->pause_before || sw->pause_requested)) {
		sw_pause(sw, next);
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
	if (sw->step_timer) {
		event_free(sw->step_timer);
		sw->step_timer = NULL;
	}
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
