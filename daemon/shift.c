/* A read shift through ProxySQL (see shift.h). */
#include "shift.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "proxysql_sql.h"
#include "router.h"
#include "stats.h"
#include "tenant.h"
#include "util.h"
#include "watchdog.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

enum sh_state { SH_RUNNING, SH_PAUSED, SH_ROLLING_BACK, SH_DONE, SH_ROLLED_BACK, SH_FAILED };
static const char *const sh_state_names[] = { "running", "paused", "rolling_back", "done", "rolled_back", "failed" };

struct shift {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *target, *router;            /* owned: names */
	struct psql_endpoint ep;          /* the target as ProxySQL knows it */
	struct shift_opts o;              /* o.to / o.router point at the two above */
	size_t idx;                       /* the step being applied or held */
	int in_force;                     /* the share ProxySQL runs now (0 before the first step's LOAD) */
	enum sh_state state;
	bool abort_requested;
	char *reason;                     /* owned: why it rolled back or failed */
	struct db *db;
	json_t *snap_rows;                /* {"cols": [...], "rows": [[...]...]}: the reader hostgroup as it was */
	struct psql_snapshot snap;
	struct psql_plan plan;
	struct event *timer;
	int64_t started_us, hold_until_us, paused_us, noted_us;
	bool base_taken;                  /* the step's counters at its start */
	long long q0, e0, all0, lat0[ROUTER_LAT_BUCKETS];
	bool lat0_known;
	double odds;                      /* the correction learnt so far (1: none) */
	long long weight_now;             /* the target's weight in force, below 100 % */
	bool correcting;                  /* a corrected weight is being loaded */
	bool corr_base;                   /* qc0/allc0 taken since the weight in force */
	long long qc0, allc0;
	int64_t corr_us;                  /* when the weight in force was loaded */
	int corrections;                  /* of this step */
	json_t *steps_done;               /* per step: percent, observed share, gates */
	struct journal *journal;
	struct client *cl;                /* the requester, held until the end; NULL after a restart */
	json_t *req_id;
};

static void step_apply(struct shift *sh);
static void run_plan(struct shift *sh);
static void rollback(struct shift *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish(struct shift *sh, enum sh_state st);

/* ------------------------------------------------------------------------------------------ */
/* parsing */

int shift_parse_steps(const char *s, int *steps, size_t *n, char *err, size_t errlen)
{
	char *copy = xstrdup(s ? s : ""), *rest = copy, *item;
	long long v, prev = 0;

	*n = 0;
	while ((item = strsep(&rest, ","))) {
		item = trim(item);
		if (*item && item[strlen(item) - 1] == '%')
			item[strlen(item) - 1] = '\0';
		if (!parse_ll(item, 1, 100, &v)) {
			snprintf(err, errlen, "steps: '%s' is not a share from 1 to 100 (e.g. 5,10,25,50,100)", item);
			goto bad;
		}
		if (v <= prev) {
			snprintf(err, errlen, "steps: %lld after %lld: each step must be larger than the one before", v, prev);
			goto bad;
		}
		if (*n == SHIFT_MAX_STEPS) {
			snprintf(err, errlen, "steps: at most %d", SHIFT_MAX_STEPS);
			goto bad;
		}
		steps[(*n)++] = (int)v;
		prev = v;
	}
	if (!*n) {
		snprintf(err, errlen, "steps: none given (e.g. 5,10,25,50,100)");
		goto bad;
	}
	free(copy);
	return 0;
bad:
	free(copy);
	return -1;
}

int shift_parse_gates(const char *s, struct shift_gates *g, char *err, size_t errlen)
{
	char *copy = xstrdup(s ? s : ""), *rest = copy, *item;

	g->error_rate = -1;
	g->p95_ms = g->lag_ms = -1;
	while ((item = strsep(&rest, ","))) {
		char *lt = strchr(item, '<'), *name, *val;
		long long ms;
		item = trim(item);
		if (!*item)
			continue;
		if (!lt) {
			snprintf(err, errlen, "gate '%s': not NAME<LIMIT (error_rate<1%%, p95<500ms, lag<1s)", item);
			goto bad;
		}
		*lt = '\0';
		name = trim(item);
		val = trim(lt + 1);
		if (!strcmp(name, "error_rate")) {
			char *end;
			double x = strtod(val, &end);
			if (end == val || (*end && strcmp(end, "%")) || x < 0 || x > 100) {
				snprintf(err, errlen, "gate error_rate: '%s' is not a share (e.g. 1%%)", val);
				goto bad;
			}
			g->error_rate = *end ? x / 100.0 : x;
		} else if (!strcmp(name, "p95") || !strcmp(name, "lag")) {
			if (!parse_duration_ms(val, 1, &ms) || ms < 1 || ms > 3600000) {
				snprintf(err, errlen, "gate %s: '%s' is not a duration (e.g. 500ms, 2s)", name, val);
				goto bad;
			}
			*(!strcmp(name, "p95") ? &g->p95_ms : &g->lag_ms) = (int)ms;
		} else {
			snprintf(err, errlen, "gate '%s': unknown (error_rate, p95 or lag)", name);
			goto bad;
		}
	}
	free(copy);
	return 0;
bad:
	free(copy);
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* what it says */

static const char *cluster_name(const struct shift *sh)
{
	return sh->c->cfg->name;
}

static int step_pct(const struct shift *sh)
{
	return sh->idx < sh->o.n_steps ? sh->o.steps[sh->idx] : 0;
}

static void emit(struct shift *sh, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(struct shift *sh, const char *status, const char *fmt, ...)
{
	struct log_ctx ctx = { cluster_name(sh), NULL, "shift", sh->id };
	char msg[1024], ts[40];
	va_list ap;
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iso_time(now_real_us(), ts, sizeof(ts));
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "ts", ts, "id", sh->id, "cluster",
		      cluster_name(sh), "kind", "read_shift", "phase", "shift", "status", status, "percent", step_pct(sh),
		      "elapsed_ms",
		      (double)(now_mono_us() - sh->started_us) / 1000.0, "message", msg);
	log_ctx(!strcmp(status, "fail") ? LOG_ERR : !strcmp(status, "warn") ? LOG_WARNING : LOG_NOTICE, &ctx, "%s", msg);
	if (sh->cl && !client_gone(sh->cl))
		client_send(sh->cl, proto_stream_line(sh->req_id, "progress", json_deep_copy(p)));
	json_object_set_new(p, "type", json_string("cutover"));
	daemon_publish(sh->d, p);
	json_decref(p);
}

static int jrnl(struct shift *sh, enum journal_event ev, bool durable, json_t *extra)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sh->id, "cluster", cluster_name(sh), "event",
			      journal_event_name(ev), "kind", "read_shift", "new", sh->target);
	int rc = 0;

	json_object_set_new(e, "old", json_null());   /* history's old_primary: a shift has none */
	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (sh->journal && journal_append(sh->journal, e, durable) < 0) {
		struct log_ctx ctx = { cluster_name(sh), NULL, "shift", sh->id };
		log_ctx(LOG_ERR, &ctx, "the journal cannot record '%s': %s", journal_event_name(ev), strerror(errno));
		rc = -1;
	}
	json_decref(e);
	return rc;
}

const char *shift_id(const struct shift *sh)
{
	return sh->id;
}

const char *shift_summary(const struct shift *sh)
{
	static char buf[200];
	snprintf(buf, sizeof(buf), "read shift %s to %s: %d%% (step %zu of %zu, %s)", sh->id, sh->target, step_pct(sh),
		 sh->idx + 1, sh->o.n_steps, sh_state_names[sh->state]);
	return buf;
}

bool shift_active(const struct shift *sh)
{
	return sh && (sh->state == SH_RUNNING || sh->state == SH_PAUSED || sh->state == SH_ROLLING_BACK);
}

json_t *shift_json(const struct shift *sh)
{
	json_t *steps = json_array();
	size_t i;

	for (i = 0; i < sh->o.n_steps; i++)
		json_array_append_new(steps, json_integer(sh->o.steps[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:i, s:s?, s:O}", "id", sh->id, "kind", "read_shift",
			 "target", sh->target, "state", sh_state_names[sh->state], "percent", step_pct(sh), "in_force",
			 sh->in_force, "steps", steps, "hold_ms", sh->o.hold_ms, "reason", sh->reason, "done",
			 sh->steps_done ? sh->steps_done : json_null());
}

/* ------------------------------------------------------------------------------------------ */
/* counters, from the router's own polls */

static struct router *the_router(const struct shift *sh)
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
	const struct router *r = the_router(sh);
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

static void tick(evutil_socket_t fd, short what, void *arg);

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
	json_t *rec = json_pack("{s:i}", "percent", step_pct(sh));
	char *breach;

	breach = gate_breach(sh, rec);
	if (breach) {
		json_decref(rec);
		rollback(sh, "%s, at step %d%%", breach, step_pct(sh));
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
		if (step_pct(sh) < 100)
			json_object_set_new(rec, "weight", json_integer(sh->weight_now));
		emit(sh, "ok", "step %d%% held %d ms: %s served %.1f%% of %lld reads under the final weight (%.1f%% over the "
			       "hold, %d correction%s); gates passed", step_pct(sh), sh->o.hold_ms, sh->target, share,
		     last ? all - sh->allc0 : all - sh->all0, whole, sh->corrections, sh->corrections == 1 ? "" : "s");
	} else {
		emit(sh, "ok", "step %d%% held %d ms: no reads counted; gates passed", step_pct(sh), sh->o.hold_ms);
	}
	json_array_append_new(sh->steps_done, rec);
	if (++sh->idx >= sh->o.n_steps) {
		sh->idx--;
		finish(sh, SH_DONE);
		return;
	}
	step_apply(sh);
}

/* The share served under the weight in force against the share asked: a corrected weight loaded
 * (true: wait for it) or nothing to do. */
static bool correct(struct shift *sh)
{
	const struct router *r = the_router(sh);
	long long q, e, all, lat[ROUTER_LAT_BUCKETS], w;
	double want = step_pct(sh) / 100.0, got, factor;
	int64_t now = now_mono_us();
	bool lk;

	if (!r || sh->correcting || !sh->corr_base || sh->in_force != step_pct(sh) || step_pct(sh) >= 100 ||
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
	emit(sh, "info", "step %d%%: %s served %.1f%% of %lld reads under weight %lld; weight %lld", step_pct(sh),
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

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct shift *sh = arg;
	json_t *values;
	char *breach;

	if (sh->state != SH_RUNNING && sh->state != SH_PAUSED)
		return;
	if (sh->abort_requested) {
		rollback(sh, "aborted at step %d%%", step_pct(sh));
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
		rollback(sh, "%s, at step %d%%", breach, step_pct(sh));
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
			emit(sh, "info", "paused at %d%%; the gates are watched", sh->in_force);
		else
			emit(sh, "info", "holding %d%%: %.0f s left; the gates pass", sh->in_force,
			     (double)(sh->hold_until_us - now_mono_us()) / 1e6);
	}
	arm(sh, SHIFT_TICK_MS);
}

/* SAVE MYSQL SERVERS TO DISK after the end, so that a ProxySQL restart keeps it: logged if it fails */
static void saved(struct db *db, struct db_result *res, void *arg)
{
	struct shift *sh = arg;
	if (res->err) {
		struct log_ctx ctx = { cluster_name(sh), NULL, "shift", sh->id };
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
			finish(sh, SH_FAILED);
		} else {
			rollback(sh, "step %d%%: %s", step_pct(sh), why);
		}
		return;
	}
	db_result_free(res);
	if (sh->state == SH_ROLLING_BACK) {
		sh->in_force = 0;
		db_run1(sh->db, PSQL_SQL_SAVE, sh->d->cfg->query_timeout_ms + 2000, saved, sh);
		emit(sh, "ok", "reads back as they were: %s", sh->plan.note);
		finish(sh, SH_ROLLED_BACK);
		return;
	}
	sh->corr_base = false;
	sh->corr_us = now_mono_us();
	if (sh->correcting) {
		sh->correcting = false;
		emit(sh, "info", "step %d%%: %s (correction %d)", step_pct(sh), sh->plan.note, sh->corrections);
		arm(sh, SHIFT_TICK_MS);
		return;
	}
	sh->corrections = 0;
	sh->in_force = step_pct(sh);
	emit(sh, "ok", "step %d%%: %s", step_pct(sh), sh->plan.note);
	sh->base_taken = false;
	sh->noted_us = now_mono_us();
	sh->hold_until_us = now_mono_us() + (int64_t)sh->o.hold_ms * 1000;
	arm(sh, SHIFT_TICK_MS);
}

static void run_plan(struct shift *sh)
{
	db_run(sh->db, (const char *const *)sh->plan.sql, sh->plan.n,
	       sh->d->cfg->connect_timeout_ms + 2 * sh->d->cfg->query_timeout_ms + 2000, applied, sh);
}

static void step_apply(struct shift *sh)
{
	const struct cfg_router *rc = the_router(sh) ? the_router(sh)->cfg : NULL;
	char err[400];

	psql_plan_free(&sh->plan);
	if (!rc || psql_plan_shift(rc, &sh->snap, &sh->ep, step_pct(sh), sh->odds, &sh->weight_now, &sh->plan, err,
				   sizeof(err)) < 0) {
		rollback(sh, "step %d%%: %s", step_pct(sh), rc ? err : "the router is no longer configured");
		return;
	}
	if (jrnl(sh, JE_PHASE, true, json_pack("{s:s, s:i}", "phase", "step", "percent", step_pct(sh))) < 0) {
		rollback(sh, "the journal cannot record step %d%%", step_pct(sh));
		return;
	}
	run_plan(sh);
}

static void rollback(struct shift *sh, const char *fmt, ...)
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
	emit(sh, "fail", "rolling the shift back to 0%%: %s", why);
	jrnl(sh, JE_ROLLBACK, true, json_pack("{s:s}", "reason", why));
	if (!sh->snap.n && !sh->snap_rows) {
		finish(sh, SH_ROLLED_BACK);   /* nothing was changed yet */
		return;
	}
	if (sh->db && db_busy(sh->db))
		db_cancel(sh->db);   /* a weight correction in flight: the restore below replaces it */
	sh->correcting = false;
	psql_plan_free(&sh->plan);
	{
		const struct router *r = the_router(sh);
		if (!r) {
			free(sh->reason);
			sh->reason = xasprintf("%s; the rollback cannot run: router %s is no longer configured", why,
					       sh->router);
			finish(sh, SH_FAILED);
			return;
		}
		psql_plan_restore(&sh->snap, r->cfg->reader_hostgroup, &sh->ep, &sh->plan);
	}
	run_plan(sh);
}

static void finish(struct shift *sh, enum sh_state st)
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
	jrnl(sh, ev[st], true, json_pack("{s:O}", "report", rep));
	if (st == SH_DONE)
		db_run1(sh->db, PSQL_SQL_SAVE, sh->d->cfg->query_timeout_ms + 2000, saved, sh);
	emit(sh, st == SH_DONE ? "ok" : "fail", "read shift %s: %s%s%s", sh->id, outcome, sh->reason ? ": " : "",
	     sh->reason ? sh->reason : "");
	if (sh->cl) {
		if (!client_gone(sh->cl)) {
			if (st == SH_DONE) {
				client_reply_ok(sh->cl, sh->req_id, json_incref(rep));
			} else {
				json_t *r = proto_reply_err(sh->req_id, ERR_FAILED, "%s: %s", outcome, sh->reason ? sh->reason : "");
				json_object_set(json_object_get(r, "error"), "report", rep);
				client_send(sh->cl, r);
			}
		}
		client_release(sh->cl);
		sh->cl = NULL;
	}
	json_decref(rep);
	/* c->shift stays (status shows the last shift) until the next one */
}

/* ------------------------------------------------------------------------------------------ */
/* start */

static void snapshotted(struct db *db, struct db_result *res, void *arg)
{
	struct shift *sh = arg;
	char err[400];
	json_t *cols, *rows;
	size_t i, k;

	if (res->err || !res->n || psql_parse_snapshot(res->rs[0], &sh->snap, err, sizeof(err)) < 0) {
		snprintf(err, sizeof(err), "%.300s", res->err ? res->errmsg : "the snapshot of mysql_servers does not parse");
		db_result_free(res);
		rollback(sh, "router %s: reading mysql_servers: %s", sh->router, err);
		return;
	}
	/* kept in the journal as rows of strings: a restart rolls back from it */
	cols = json_array();
	rows = json_array();
	for (k = 0; k < res->rs[0]->ncols; k++)
		json_array_append_new(cols, json_string(res->rs[0]->cols[k]));
	for (i = 0; i < res->rs[0]->nrows; i++) {
		json_t *row = json_array();
		for (k = 0; k < res->rs[0]->ncols; k++) {
			const char *v = rowset_at(res->rs[0], i, k);
			json_array_append_new(row, v ? json_string(v) : json_null());
		}
		json_array_append_new(rows, row);
	}
	sh->snap_rows = json_pack("{s:o, s:o}", "cols", cols, "rows", rows);
	db_result_free(res);
	if (jrnl(sh, JE_PHASE, true, json_pack("{s:s, s:O}", "phase", "snapshot", "mysql_servers", sh->snap_rows)) < 0) {
		rollback(sh, "the journal cannot record the snapshot of mysql_servers");
		return;
	}
	emit(sh, "ok", "router %s: reader hostgroup %d snapshot taken (%zu rows in hostgroups %d/%d)", sh->router,
	     the_router(sh)->cfg->reader_hostgroup, sh->snap.n, the_router(sh)->cfg->writer_hostgroup,
	     the_router(sh)->cfg->reader_hostgroup);
	step_apply(sh);
}

static struct shift *shift_new(struct daemon *d, struct cluster *c, const char *target, const char *router,
			       char *err, size_t errlen)
{
	struct shift *sh = xcalloc(1, sizeof(*sh));
	time_t t;
	struct tm tm;
	char ts[32];

	sh->d = d;
	sh->c = c;
	sh->target = xstrdup(target);
	sh->router = xstrdup(router);
	sh->started_us = now_mono_us();
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
	snprintf(sh->id, sizeof(sh->id), "%s-%03d-%s-shift", ts, (int)((now_real_us() / 1000) % 1000), c->cfg->name);
	sh->timer = evtimer_new(d->base, tick, sh);
	sh->steps_done = json_array();
	sh->odds = 1.0;
	journal_rotate_if_large(d->cfg->state_dir, c->cfg->name);
	sh->journal = journal_open(d->cfg->state_dir, c->cfg->name, err, errlen);
	if (!sh->journal) {
		shift_free(sh);
		return NULL;
	}
	return sh;
}

int shift_start(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id, const struct shift_opts *o,
		enum err_code *code, char *err, size_t errlen)
{
	const struct router *r = NULL;
	const struct server *t;
	const char *pname;
	struct shift *sh;
	size_t i;

	*code = ERR_BADSTATE;
	if (c->shift && shift_active(c->shift)) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, shift_summary(c->shift));
		return -1;
	}
	/* not beside a switchover, nor while the watchdog fences or a failover runs */
	if (cluster_busy(c) || c->cutover) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, c->cutover ? "a cutover is recorded" : cluster_busy(c));
		return -1;
	}
	if (c->tenants && tenant_active(c->tenants)) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, tenant_summary(c->tenants));
		return -1;
	}
	r = router_pick_proxysql(c->routers, c->n_routers, c->cfg->name, o->router, "a read shift moves ProxySQL's reads",
				 err, errlen);
	if (!r) {
		*code = ERR_INVALID;
		return -1;
	}
	if (r->cfg->reader_hostgroup < 0) {
		*code = ERR_INVALID;
		snprintf(err, errlen, "router %s has no reader_hostgroup: there are no reads to shift", r->cfg->name);
		return -1;
	}
	t = daemon_server(d, o->to);
	if (!t || t->cluster != c) {
		*code = ERR_NOTFOUND;
		snprintf(err, errlen, "no server named '%s' in cluster %s", o->to ? o->to : "", c->cfg->name);
		return -1;
	}
	if (c->topo.primary >= 0 && c->servers[c->topo.primary] == t) {
		*code = ERR_INVALID;
		snprintf(err, errlen, "%s is the primary: a read shift moves reads to a replica", o->to);
		return -1;
	}
	if (!t->st.reachable || t->st.read_only != 1) {
		snprintf(err, errlen, "%s is %s: reads go only to a reachable, read-only replica", o->to,
			 !t->st.reachable ? "unreachable" : "writable");
		return -1;
	}
	pname = psql_name_of(r->cfg, o->to);
	sh = shift_new(d, c, o->to, r->cfg->name, err, errlen);
	if (!sh) {
		*code = ERR_INTERNAL;
		return -1;
	}
	if (psql_parse_endpoint(pname ? pname : "", 0, &sh->ep) < 0) {
		snprintf(sh->ep.host, sizeof(sh->ep.host), "%s", t->cfg->host ? t->cfg->host : "127.0.0.1");
		sh->ep.port = t->cfg->port;
	}
	sh->o = *o;
	sh->o.to = sh->target;
	sh->o.router = sh->router;
	sh->db = psql_admin_db(d->base, r->cfg, "read shift", d->cfg->connect_timeout_ms);
	if (cl) {
		sh->cl = cl;
		sh->req_id = json_incref(req_id);
		client_hold(cl);
	}
	c->shift = sh;
	{
		json_t *steps = json_array();
		for (i = 0; i < o->n_steps; i++)
			json_array_append_new(steps, json_integer(o->steps[i]));
		if (jrnl(sh, JE_BEGIN, true, json_pack("{s:o, s:i, s:f, s:i, s:i, s:s}", "steps", steps, "hold_ms", o->hold_ms,
						      "gate_error_rate", o->gates.error_rate, "gate_p95_ms", o->gates.p95_ms,
						      "gate_lag_ms", o->gates.lag_ms, "router", r->cfg->name)) < 0) {
			free(sh->reason);
			sh->reason = xstrdup("the journal cannot record the start");
			finish(sh, SH_FAILED);
			return 0;
		}
	}
	emit(sh, "ok", "read shift %s: reads of router %s's reader hostgroup %d to %s (%s:%d), steps of %d ms", sh->id,
	     r->cfg->name, r->cfg->reader_hostgroup, sh->target, sh->ep.host, sh->ep.port, o->hold_ms);
	{
		char *q = psql_snapshot_sql(r->cfg->writer_hostgroup, r->cfg->reader_hostgroup);
		db_run1(sh->db, q, d->cfg->connect_timeout_ms + d->cfg->query_timeout_ms, snapshotted, sh);
		free(q);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* abort, pause, resume */

int shift_abort(struct shift *sh, char *err, size_t errlen)
{
	if (!shift_active(sh) || sh->state == SH_ROLLING_BACK) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->abort_requested = true;
	if (sh->state == SH_PAUSED)
		sh->state = SH_RUNNING;
	emit(sh, "warn", "abort requested: the shift rolls back to 0%%");
	return 0;
}

int shift_pause(struct shift *sh, char *err, size_t errlen)
{
	if (!sh || sh->state != SH_RUNNING) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->state = SH_PAUSED;
	sh->paused_us = now_mono_us();
	jrnl(sh, JE_PAUSED, false, NULL);
	emit(sh, "ok", "paused at %d%%: the gates are still watched; resume to go on", step_pct(sh));
	return 0;
}

int shift_resume(struct shift *sh, char *err, size_t errlen)
{
	if (!sh || sh->state != SH_PAUSED) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->state = SH_RUNNING;
	jrnl(sh, JE_RESUMED, false, NULL);
	emit(sh, "ok", "resumed at %d%%", step_pct(sh));
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* after a restart */

static int snapshot_from_json(const json_t *j, struct psql_snapshot *snap, char *err, size_t errlen)
{
	const json_t *cols = json_object_get(j, "cols"), *rows = json_object_get(j, "rows"), *row, *v;
	const char **names, **vals;
	struct rowset *rs;
	size_t i, k, nc = json_array_size(cols);
	int rc;

	if (!nc) {
		snprintf(err, errlen, "no snapshot of mysql_servers in the journal");
		return -1;
	}
	names = xcalloc(nc, sizeof(*names));
	vals = xcalloc(nc, sizeof(*vals));
	json_array_foreach(cols, k, v)
		names[k] = json_string_value(v) ?: "";
	rs = rowset_new(nc, names);
	json_array_foreach(rows, i, row) {
		for (k = 0; k < nc; k++)
			vals[k] = json_string_value(json_array_get(row, k));
		rowset_add_row(rs, vals);
	}
	rc = psql_parse_snapshot(rs, snap, err, errlen);
	rowset_free(rs);
	free(names);
	free(vals);
	return rc;
}

void shift_recover_all(struct daemon *d)
{
	size_t i, k;

	for (i = 0; i < d->n_clusters; i++) {
		struct cluster *c = &d->clusters[i];
		json_t *all = journal_read(d->cfg->state_dir, c->cfg->name), *by = journal_by_cutover(all), *x;
		json_t *last = NULL;

		json_array_foreach(by, k, x) {
			json_t *entries = json_object_get(x, "entries");
			const char *kind = json_string_value(json_object_get(json_array_get(entries, 0), "kind"));
			if (kind && !strcmp(kind, "read_shift"))
				last = x;
		}
		if (last) {
			json_t *entries = json_object_get(last, "entries"), *e, *first = json_array_get(entries, 0);
			const char *ev = json_string_value(json_object_get(json_array_get(entries, json_array_size(entries) - 1), "event"));
			const json_t *rows = NULL;
			if (ev && !journal_event_finished(ev)) {
				char err[300];
				struct shift *sh = shift_new(d, c, json_string_value(json_object_get(first, "new")) ?: "?",
							     json_string_value(json_object_get(first, "router")) ?: "?", err,
							     sizeof(err));
				json_array_foreach(entries, k, e)
					if (json_object_get(e, "mysql_servers"))
						rows = json_object_get(e, "mysql_servers");
				if (sh) {
					snprintf(sh->id, sizeof(sh->id), "%s", json_string_value(json_object_get(last, "id")) ?: "?");
					c->shift = sh;
					{
						const struct router *r = the_router(sh);
						const char *pname = r ? psql_name_of(r->cfg, sh->target) : NULL;
						const struct server *t = daemon_server(d, sh->target);
						if (psql_parse_endpoint(pname ? pname : "", 0, &sh->ep) < 0 && t) {
							snprintf(sh->ep.host, sizeof(sh->ep.host), "%s", t->cfg->host ?: "127.0.0.1");
							sh->ep.port = t->cfg->port;
						}
						if (r)
							sh->db = psql_admin_db(d->base, r->cfg, "read shift", d->cfg->connect_timeout_ms);
					}
					if (rows && snapshot_from_json(rows, &sh->snap, err, sizeof(err)) == 0) {
						sh->snap_rows = json_deep_copy(rows);
						rollback(sh, "cutoverd restarted during the shift");
					} else if (rows) {
						free(sh->reason);
						sh->reason = xasprintf("cutoverd restarted during the shift and cannot read its "
								       "snapshot of mysql_servers (%s): check router %s's reader "
								       "hostgroup by hand", err, sh->router);
						finish(sh, SH_FAILED);
					} else {
						rollback(sh, "cutoverd restarted during the shift, before it changed anything");
					}
				}
			}
		}
		json_decref(by);
		json_decref(all);
	}
}

void shift_free(struct shift *sh)
{
	if (!sh)
		return;
	if (sh->cl)
		client_release(sh->cl);
	json_decref(sh->req_id);
	if (sh->timer)
		event_free(sh->timer);
	db_free(sh->db);
	psql_plan_free(&sh->plan);
	psql_snapshot_free(&sh->snap);
	json_decref(sh->snap_rows);
	json_decref(sh->steps_done);
	journal_close(sh->journal);
	free(sh->reason);
	free(sh->target);
	free(sh->router);
	free(sh);
}

void shift_rebind(struct shift *sh, struct cluster *c)
{
	if (sh)
		sh->c = c;
}
