/* A read shift's steps: each applied, held while its gates are watched (and the target's
 * weight corrected), then the next; the rollback and the end (see shift.h). */
#include "shift_impl.h"
#include "ha.h"
#include "stats.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIFT_TICK_MS 250
#define SHIFT_MIN_QUERIES 20
#define SHIFT_NOTE_EVERY_US (60 * 1000000LL)   /* a progress line through a long hold (and a pause) */
/* The weights' correction: at most every second of a hold, from 100 reads on, when the share
 * served is more than 1.5 points off, the target's weight is multiplied by the ratio of the
 * odds asked to the odds served (within 1/4 and 4), and the learnt factor carries to the next
 * steps.  Not in the last 1.5 s of a hold: its share is measured under the final weight. */
#define SHIFT_CORRECT_EVERY_US 1000000LL
#define SHIFT_CORRECT_MIN_READS 100
#define SHIFT_CORRECT_TOLERANCE 0.015

static void run_plan(struct shift *sh);

/* ------------------------------------------------------------------------------------------ */
/* counters, from the router's own polls */

struct router *sh_the_router(const struct shift *sh)
{
	size_t i;
	for (i = 0; i < sh->c->n_routers; i++)
		if (!strcmp(sh->c->routers[i]->cfg->name, sh->router))
			return sh->c->routers[i];
	return NULL;
}

/* The target's queries and errors in the reader hostgroup, and every reader's queries. */
static bool counters(const struct shift *sh, long long *q, long long *e, long long *all, long long *lat, bool *lat_known)
{
	const struct router *r = sh_the_router(sh);
	size_t k;
	bool found = false;

	*q = *e = *all = 0;
	*lat_known = false;
	if (!r || !r->view.reachable)
		return false;
	for (k = 0; k < r->view.n; k++) {
		const struct router_backend *b = &r->view.be[k];
		if (b->hostgroup != r->cfg->reader_hostgroup || b->queries < 0)
			continue;
		*all += b->queries;
		if (!strcmp(b->host, sh->ep.host) && b->port == sh->ep.port) {
			*q = b->queries;
			*e = b->errors > 0 ? b->errors : 0;
			found = true;
		}
	}
	if (r->view.lat_known) {
		*lat_known = true;
		memcpy(lat, r->view.lat_hist, sizeof(r->view.lat_hist));
	}
	return found;
}

/* ------------------------------------------------------------------------------------------ */
/* steps */

static void arm(struct shift *sh, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(sh->timer, &tv);
}

/* The gates against the counters since the step's start: NULL, or what was breached. */
static char *gate_breach(struct shift *sh, json_t *values)
{
	const struct server *t = daemon_server(sh->d, sh->target);
	long long q, e, all, lat[ROUTER_LAT_BUCKETS];
	bool lk;
	const struct shift_gates *g = &sh->o.gates;

	if (t && t->st.heartbeat_lag_ms >= 0)
		json_object_set_new(values, "lag_ms", json_integer(t->st.heartbeat_lag_ms));
	if (g->lag_ms >= 0 && t && (t->st.heartbeat_lag_ms < 0 || t->st.heartbeat_lag_ms > g->lag_ms) &&
	    t->st.reachable)
		return t->st.heartbeat_lag_ms < 0
			       ? xasprintf("gate lag: %s's lag is unknown (limit %d ms)", sh->target, g->lag_ms)
			       : xasprintf("gate lag: %lld ms on %s > %d ms", (long long)t->st.heartbeat_lag_ms, sh->target,
					   g->lag_ms);
	if (t && !t->st.reachable)
		return xasprintf("%s is unreachable: %s", sh->target, t->st.last_error);
	if (!sh->base_taken || !counters(sh, &q, &e, &all, lat, &lk))
		return NULL;
	if (q - sh->q0 >= SHIFT_MIN_QUERIES) {
		double rate = (double)(e - sh->e0) / (double)(q - sh->q0);
		json_object_set_new(values, "error_rate", json_real(rate));
		if (g->error_rate >= 0 && rate > g->error_rate)
			return xasprintf("gate error_rate: %.2f%% of %lld queries on %s > %.2f%%", rate * 100, q - sh->q0,
					 sh->target, g->error_rate * 100);
	}
	if (lk && sh->lat0_known) {
		long long d[ROUTER_LAT_BUCKETS], tot = 0, acc = 0;
		int k;
		for (k = 0; k < ROUTER_LAT_BUCKETS; k++)
			tot += (d[k] = lat[k] - sh->lat0[k]);
		for (k = 0; tot >= SHIFT_MIN_QUERIES && k < ROUTER_LAT_BUCKETS; k++) {
			acc += d[k];
			if (acc * 100 >= tot * 95) {
				double p95 = (double)(router_lat_bound_us[k] >= 0 ? router_lat_bound_us[k]
									  : router_lat_bound_us[k - 1]) / 1000.0;
				json_object_set_new(values, "p95_ms", json_real(p95));
				if (g->p95_ms >= 0 && p95 > g->p95_ms)
					return xasprintf("gate p95: %.1f ms (ProxySQL's histogram) > %d ms", p95, g->p95_ms);
				break;
			}
		}
	}
	return NULL;
}

static void step_held(struct shift *sh)
{
	long long q, e, all, lat[ROUTER_LAT_BUCKETS];
	bool lk;
	json_t *rec = json_pack("{s:i}", "percent", sh_step_pct(sh));
	char *breach;

	breach = gate_breach(sh, rec);
	if (breach) {
		json_decref(rec);
		sh_rollback(sh, "%s, at step %d%%", breach, sh_step_pct(sh));
		free(breach);
		return;
	}
	if (sh->base_taken && counters(sh, &q, &e, &all, lat, &lk) && all - sh->all0 > 0) {
		/* under the weight in force at the end (after any correction), and over the whole hold */
		bool last = sh->corr_base && all - sh->allc0 > 0;
		double share = 100.0 * (double)(last ? q - sh->qc0 : q - sh->q0) / (double)(last ? all - sh->allc0 : all - sh->all0);
		double whole = 100.0 * (double)(q - sh->q0) / (double)(all - sh->all0);
		json_object_set_new(rec, "observed_percent", json_real(share));
		json_object_set_new(rec, "reads", json_integer(last ? all - sh->allc0 : all - sh->all0));
		json_object_set_new(rec, "hold_observed_percent", json_real(whole));
		json_object_set_new(rec, "hold_reads", json_integer(all - sh->all0));
		json_object_set_new(rec, "corrections", json_integer(sh->corrections));
		if (sh_step_pct(sh) < 100)
			json_object_set_new(rec, "weight", json_integer(sh->weight_now));
		sh_emit(sh, "ok", "step %d%% held %d ms: %s served %.1f%% of %lld reads under the final weight (%.1f%% over the "
				  "hold, %d correction%s); gates passed", sh_step_pct(sh), sh->o.hold_ms, sh->target, share,
			last ? all - sh->allc0 : all - sh->all0, whole, sh->corrections, sh->corrections == 1 ? "" : "s");
	} else {
		sh_emit(sh, "ok", "step %d%% held %d ms: no reads counted; gates passed", sh_step_pct(sh), sh->o.hold_ms);
	}
	json_array_append_new(sh->steps_done, rec);
	if (++sh->idx >= sh->o.n_steps) {
		sh->idx--;
		sh_finish(sh, SH_DONE);
		return;
	}
	sh_step_apply(sh);
}

/* The share served under the weight in force against the share asked: a corrected weight loaded
 * (true: wait for it) or nothing to do. */
static bool correct(struct shift *sh)
{
	const struct router *r = sh_the_router(sh);
	long long q, e, all, lat[ROUTER_LAT_BUCKETS], w;
	double want = sh_step_pct(sh) / 100.0, got, factor;
	int64_t now = now_mono_us();
	bool lk;

	if (!r || sh->correcting || !sh->corr_base || sh->in_force != sh_step_pct(sh) || sh_step_pct(sh) >= 100 ||
	    now - sh->corr_us < SHIFT_CORRECT_EVERY_US || sh->hold_until_us - now < 3 * SHIFT_CORRECT_EVERY_US / 2 ||
	    !counters(sh, &q, &e, &all, lat, &lk) || all - sh->allc0 < SHIFT_CORRECT_MIN_READS)
		return false;
	got = (double)(q - sh->qc0) / (double)(all - sh->allc0);
	if (fabs(got - want) <= SHIFT_CORRECT_TOLERANCE || got <= 0 || got >= 1)
		return false;
	factor = (want / (1 - want)) / (got / (1 - got));
	factor = factor < 0.25 ? 0.25 : factor > 4 ? 4 : factor;
	w = (long long)((double)sh->weight_now * factor + 0.5);
	w = w < 1 ? 1 : w > PSQL_MAX_WEIGHT ? PSQL_MAX_WEIGHT : w;
	if (w == sh->weight_now)
		return false;
	sh_emit(sh, "info", "step %d%%: %s served %.1f%% of %lld reads under weight %lld; weight %lld", sh_step_pct(sh),
		sh->target, got * 100, all - sh->allc0, sh->weight_now, w);
	sh->odds *= (double)w / (double)sh->weight_now;
	sh->weight_now = w;
	sh->correcting = true;
	sh->corrections++;
	psql_plan_free(&sh->plan);
	psql_plan_weight(r->cfg, &sh->ep, w, &sh->plan);
	run_plan(sh);
	return true;
}

void sh_tick(evutil_socket_t fd, short what, void *arg)
{
	struct shift *sh = arg;
	json_t *values;
	char *breach;

	if (sh->state != SH_RUNNING && sh->state != SH_PAUSED)
		return;
	if (sh->abort_requested) {
		sh_rollback(sh, "aborted at step %d%%", sh_step_pct(sh));
		return;
	}
	if (!sh->base_taken) {
		/* the first poll that shows the target's row since the step's LOAD */
		if (counters(sh, &sh->q0, &sh->e0, &sh->all0, sh->lat0, &sh->lat0_known))
			sh->base_taken = true;
	}
	if (!sh->corr_base && !sh->correcting) {
		long long e, lat[ROUTER_LAT_BUCKETS];
		bool lk;
		if (counters(sh, &sh->qc0, &e, &sh->allc0, lat, &lk))
			sh->corr_base = true;
	}
	if (sh->state == SH_RUNNING && correct(sh))
		return;
	values = json_object();
	breach = gate_breach(sh, values);
	json_decref(values);
	if (breach) {
		sh_rollback(sh, "%s, at step %d%%", breach, sh_step_pct(sh));
		free(breach);
		return;
	}
	if (sh->state == SH_RUNNING && now_mono_us() >= sh->hold_until_us && sh->base_taken && !sh->correcting) {
		step_held(sh);
		return;
	}
	if (now_mono_us() - sh->noted_us >= SHIFT_NOTE_EVERY_US) {
		sh->noted_us = now_mono_us();
		if (sh->state == SH_PAUSED)
			sh_emit(sh, "info", "paused at %d%%; the gates are watched", sh->in_force);
		else
			sh_emit(sh, "info", "holding %d%%: %.0f s left; the gates pass", sh->in_force,
				(double)(sh->hold_until_us - now_mono_us()) / 1e6);
	}
	arm(sh, SHIFT_TICK_MS);
}

/* SAVE MYSQL SERVERS TO DISK after the end, so that a ProxySQL restart keeps it: logged if it fails */
static void saved(struct db *db, struct db_result *res, void *arg)
{
	struct shift *sh = arg;
	if (res->err) {
		struct log_ctx ctx = { sh_cluster_name(sh), NULL, "shift", sh->id };
		log_ctx(LOG_WARNING, &ctx, "router %s: SAVE MYSQL SERVERS TO DISK: %s (runtime has the change; a ProxySQL "
			"restart would not)", sh->router, res->errmsg);
	}
	db_result_free(res);
}

static void applied(struct db *db, struct db_result *res, void *arg)
{
	struct shift *sh = arg;
	char msg[600];

	if (res->err || !res->n ||
	    psql_check_runtime(res->rs[res->n - 1], sh->plan.exp, sh->plan.nexp, msg, sizeof(msg)) < 0) {
		char why[700];
		snprintf(why, sizeof(why), "router %s: %s", sh->router, res->err ? res->errmsg : msg);
		db_result_free(res);
		if (sh->state == SH_ROLLING_BACK) {
			free(sh->reason);
			sh->reason = xasprintf("the rollback failed: %s", why);
			sh_finish(sh, SH_FAILED);
		} else {
			sh_rollback(sh, "step %d%%: %s", sh_step_pct(sh), why);
		}
		return;
	}
	db_result_free(res);
	if (sh->state == SH_ROLLING_BACK) {
		sh->in_force = 0;
		db_run1(sh->db, PSQL_SQL_SAVE, sh->d->cfg->query_timeout_ms + 2000, saved, sh);
		sh_emit(sh, "ok", "reads back as they were: %s", sh->plan.note);
		sh_finish(sh, SH_ROLLED_BACK);
		return;
	}
	sh->corr_base = false;
	sh->corr_us = now_mono_us();
	if (sh->correcting) {
		sh->correcting = false;
		sh_emit(sh, "info", "step %d%%: %s (correction %d)", sh_step_pct(sh), sh->plan.note, sh->corrections);
		arm(sh, SHIFT_TICK_MS);
		return;
	}
	sh->corrections = 0;
	sh->in_force = sh_step_pct(sh);
	sh_emit(sh, "ok", "step %d%%: %s", sh_step_pct(sh), sh->plan.note);
	sh->base_taken = false;
	sh->noted_us = now_mono_us();
	sh->hold_until_us = now_mono_us() + (int64_t)sh->o.hold_ms * 1000;
	arm(sh, SHIFT_TICK_MS);
}

static void plan_now(struct shift *sh)
{
	db_run(sh->db, (const char *const *)sh->plan.sql, sh->plan.n,
	       sh->d->cfg->connect_timeout_ms + 2 * sh->d->cfg->query_timeout_ms + 2000, applied, sh);
}

static void plan_recorded(void *arg, bool ok, const char *why)
{
	struct shift *sh = arg;

	(void)why;
	sh->plan_waiting = false;
	if (ok)   /* else this member stopped leading: shift_handover has it */
		plan_now(sh);
}

/* The router changes once the journal has the step, with [ha] in etcd too (ha.h); a plan made
 * while one waits (an abort's) runs in its place. */
static void run_plan(struct shift *sh)
{
	if (sh->plan_waiting)
		return;
	if (ha_journal_wait(sh->d->ha, plan_recorded, sh))
		sh->plan_waiting = true;
	else
		plan_now(sh);
}

void sh_step_apply(struct shift *sh)
{
	const struct cfg_router *rc = sh_the_router(sh) ? sh_the_router(sh)->cfg : NULL;
	char err[400];

	psql_plan_free(&sh->plan);
	if (!rc || psql_plan_shift(rc, &sh->snap, &sh->ep, sh_step_pct(sh), sh->odds, &sh->weight_now, &sh->plan, err,
				   sizeof(err)) < 0) {
		sh_rollback(sh, "step %d%%: %s", sh_step_pct(sh), rc ? err : "the router is no longer configured");
		return;
	}
	if (sh_jrnl(sh, JE_PHASE, true, json_pack("{s:s, s:i}", "phase", "step", "percent", sh_step_pct(sh))) < 0) {
		sh_rollback(sh, "the journal cannot record step %d%%", sh_step_pct(sh));
		return;
	}
	run_plan(sh);
}

void sh_rollback(struct shift *sh, const char *fmt, ...)
{
	va_list ap;
	char why[800];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	evtimer_del(sh->timer);
	free(sh->reason);
	sh->reason = xstrdup(why);
	sh->state = SH_ROLLING_BACK;
	sh_emit(sh, "fail", "rolling the shift back to 0%%: %s", why);
	sh_jrnl(sh, JE_ROLLBACK, true, json_pack("{s:s}", "reason", why));
	if (!sh->snap.n && !sh->snap_rows) {
		sh_finish(sh, SH_ROLLED_BACK);   /* nothing was changed yet */
		return;
	}
	if (sh->db && db_busy(sh->db))
		db_cancel(sh->db);   /* a weight correction in flight: the restore below replaces it */
	sh->correcting = false;
	psql_plan_free(&sh->plan);
	{
		const struct router *r = sh_the_router(sh);
		if (!r) {
			free(sh->reason);
			sh->reason = xasprintf("%s; the rollback cannot run: router %s is no longer configured", why,
					       sh->router);
			sh_finish(sh, SH_FAILED);
			return;
		}
		psql_plan_restore(&sh->snap, r->cfg->reader_hostgroup, &sh->ep, &sh->plan);
	}
	run_plan(sh);
}

void sh_finish(struct shift *sh, enum sh_state st)
{
	static const enum journal_event ev[] = { [SH_DONE] = JE_DONE, [SH_ROLLED_BACK] = JE_ROLLED_BACK,
						 [SH_FAILED] = JE_FAILED };
	const char *outcome = st == SH_DONE ? "done" : st == SH_ROLLED_BACK ? "rolled_back" : "failed";
	json_t *rep;

	evtimer_del(sh->timer);
	sh->state = st;
	rep = shift_json(sh);
	json_object_set_new(rep, "outcome", json_string(outcome));
	json_object_set_new(rep, "total_ms", json_real((double)(now_mono_us() - sh->started_us) / 1000.0));
	sh_jrnl(sh, ev[st], true, json_pack("{s:O}", "report", rep));
	if (st == SH_DONE)
		db_run1(sh->db, PSQL_SQL_SAVE, sh->d->cfg->query_timeout_ms + 2000, saved, sh);
	sh_emit(sh, st == SH_DONE ? "ok" : "fail", "read shift %s: %s%s%s", sh->id, outcome, sh->reason ? ": " : "",
		sh->reason ? sh->reason : "");
	if (sh->cl) {
		json_t *r;
		if (st == SH_DONE) {
			stats_api("shift", "ok");
			r = proto_reply_ok(sh->req_id, json_incref(rep));
		} else {
			r = proto_reply_err(sh->req_id, ERR_FAILED, "%s: %s", outcome, sh->reason ? sh->reason : "");
			json_object_set(json_object_get(r, "error"), "report", rep);
		}
		ha_reply_final(sh->d, &sh->cl, r);
	}
	json_decref(rep);
	/* c->shift stays (status shows the last shift) until the next one */
}
