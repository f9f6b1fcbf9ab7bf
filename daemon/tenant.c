/* Per-tenant cutovers through ProxySQL (see tenant.h). */
#include "tenant.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "proxysql_sql.h"
#include "router.h"
#include "shift.h"
#include "topology.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TM_CUT_POLL_MS 2         /* the tenants' sessions on the source, looked at until gone */
#define TM_STEP_SLACK_MS 2000    /* a statement's deadline beyond the time it may take */
#define TM_NOTE_EVERY_MS 60000   /* a progress line through a long pause or catch-up */

enum tm_state { TM_CHECKING, TM_RUNNING, TM_PAUSED, TM_DONE, TM_STOPPED, TM_FAILED, TM_REFUSED };
static const char *const tm_state_names[] = { "checking", "running", "paused", "done", "stopped", "failed", "refused" };

/* The steps of a batch, in order (tenant.h). */
enum tm_step { ST_PREPARE, ST_TABLES, ST_CATCHUP, ST_FENCE, ST_CUT, ST_SYNC, ST_VERIFY, ST_PROBE, ST_RELEASE, ST_IDLE };
static const char *const tm_step_names[] = { "prepare", "tables", "catchup", "fence", "cut", "sync", "verify", "probe",
					     "release", "idle" };

enum tt_outcome { TT_PENDING, TT_MOVED, TT_ROLLED_BACK, TT_SKIPPED };
static const char *const tt_names[] = { "pending", "moved", "rolled_back", "skipped" };

struct tm_tenant {
	char *name, *tier, *schema;       /* owned; schema: where its tables are */
	enum tt_outcome outcome;
	char *reason;                     /* owned: why it rolled back */
	double blocked_ms;                /* -1: never held */
	json_t *tables;                   /* owned: its base tables (names) */
	long long rows_src, rows_dst;     /* -1: not counted */
	int batch;                        /* 1-based; 0 before */
};

struct tenant_move {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *target, *router, *source;   /* owned: names */
	struct tenant_opts o;             /* o.names/o.tiers are not kept: see t[] */
	enum tm_state state;
	enum tm_step step;
	bool abort_requested, pause_requested;
	char *reason;                     /* owned: why it stopped or failed */
	struct tm_tenant *t;              /* owned, o.n */
	size_t n;
	struct tenant_route *routes;      /* owned, n: each tenant's rule and hostgroup */
	struct psql_endpoint src_ep, dst_ep;
	const struct flavor_ops *src_fl, *dst_fl;
	struct db *adm, *src, *dst;
	struct psql_plan plan;
	struct psql_plan fplan;           /* the fence's: its read-back runs beside the cut */
	bool fence_ok;                    /* that read-back agreed (or was abandoned for an undo) */
	bool release_waiting;             /* the release waits for it */
	struct event *timer;
	/* the batch running: indexes into t[] */
	size_t *cur;
	size_t n_cur, next;               /* next: the first tenant of the next batch */
	int batches;
	bool *pass;                       /* per cur[]: its check passed */
	int64_t fence_us, deadline_us;    /* monotonic: the fence's LOAD sent; when it must be released */
	int64_t step_us[ST_IDLE];
	int64_t released_us;              /* monotonic: the release's LOAD answered */
	int64_t catchup_t0, catchup_deadline, catchup_noted;
	int64_t next_batch_us;            /* monotonic: the end of the pause between batches */         /* monotonic: when each step of the batch running began, 0: not yet */
	char *fence_pos;                  /* owned */
	unsigned long long *kill_ids;
	size_t n_kill, kill_next;
	json_t *counts[2];                /* per side: rowsets as {schema: rows} */
	int pending;                      /* checks / counts still running */
	char *check_err;                  /* owned: the first check that failed */
	char *dst_domain;                 /* owned: the target's gtid_domain_id (MariaDB), NULL unknown */
	int64_t started_us;
	struct journal *journal;
	struct client *cl;
	json_t *req_id;
	struct rowset *rules;             /* the start's checks */
	struct psql_snapshot servers;
	struct rowset *users;
};

static void batch_next(struct tenant_move *m);
static void step_fence(struct tenant_move *m);
static void catchup(struct tenant_move *m);
static void batch_undo(struct tenant_move *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish(struct tenant_move *m, enum tm_state st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------------------------ */
/* ordering */

int tenant_order(const char *const *names, const char *const *tiers, size_t n, const char *const *order,
		 size_t n_order, size_t *idx, char *err, size_t errlen)
{
	size_t i, k, out = 0;

	for (i = 0; i < n; i++) {
		if (!names[i] || !*names[i] || strlen(names[i]) > 64) {
			snprintf(err, errlen, "tenant %zu: a name of 1 to 64 characters is required", i + 1);
			return -1;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(names[i], names[k])) {
				snprintf(err, errlen, "tenant %s is listed twice", names[i]);
				return -1;
			}
	}
	if (!n_order) {
		for (i = 0; i < n; i++)
			idx[i] = i;
		return 0;
	}
	for (k = 0; k < n_order; k++) {
		size_t j;
		for (j = 0; j < k; j++)
			if (!strcmp(order[j], order[k])) {
				snprintf(err, errlen, "tier order: '%s' is listed twice", order[k]);
				return -1;
			}
	}
	for (i = 0; i < n; i++) {
		const char *t = tiers ? tiers[i] : NULL;
		for (k = 0; k < n_order && (!t || strcmp(t, order[k])); k++)
			;
		if (k == n_order) {
			if (t)
				snprintf(err, errlen, "tenant %s: its tier '%s' is not in the tier order given", names[i], t);
			else
				snprintf(err, errlen, "tenant %s has no tier, and a tier order is given (NAME:TIER)", names[i]);
			return -1;
		}
	}
	for (k = 0; k < n_order; k++)
		for (i = 0; i < n; i++)
			if (tiers[i] && !strcmp(tiers[i], order[k]))
				idx[out++] = i;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* what it says */

static const char *cluster_name(const struct tenant_move *m)
{
	return m->c->cfg->name;
}

static void emit(struct tenant_move *m, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void emit(struct tenant_move *m, const char *status, const char *fmt, ...)
{
	struct log_ctx ctx = { cluster_name(m), NULL, "tenant", m->id };
	char msg[1200], ts[40];
	va_list ap;
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iso_time(now_real_us(), ts, sizeof(ts));
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "ts", ts, "id", m->id, "cluster", cluster_name(m),
		      "kind", "tenant_move", "phase", tm_step_names[m->step], "status", status, "batch", m->batches,
		      "elapsed_ms", (double)(now_mono_us() - m->started_us) / 1000.0, "message", msg);
	log_ctx(!strcmp(status, "fail") ? LOG_ERR : !strcmp(status, "warn") ? LOG_WARNING : LOG_NOTICE, &ctx, "%s", msg);
	if (m->cl && !client_gone(m->cl))
		client_send(m->cl, proto_stream_line(m->req_id, "progress", json_deep_copy(p)));
	json_object_set_new(p, "type", json_string("cutover"));
	daemon_publish(m->d, p);
	json_decref(p);
}

static int jrnl(struct tenant_move *m, enum journal_event ev, json_t *extra)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id, "cluster", cluster_name(m), "event",
			      journal_event_name(ev), "kind", "tenant_move", "new", m->target, "old", m->source);
	int rc = 0;

	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (m->journal && journal_append(m->journal, e, true) < 0) {
		struct log_ctx ctx = { cluster_name(m), NULL, "tenant", m->id };
		log_ctx(LOG_ERR, &ctx, "the journal cannot record '%s': %s", journal_event_name(ev), strerror(errno));
		rc = -1;
	}
	json_decref(e);
	return rc;
}

const char *tenant_id(const struct tenant_move *m)
{
	return m->id;
}

bool tenant_active(const struct tenant_move *m)
{
	return m && (m->state == TM_CHECKING || m->state == TM_RUNNING || m->state == TM_PAUSED);
}

static size_t count_outcome(const struct tenant_move *m, enum tt_outcome o)
{
	size_t i, k = 0;
	for (i = 0; i < m->n; i++)
		k += m->t[i].outcome == o;
	return k;
}

const char *tenant_summary(const struct tenant_move *m)
{
	static char buf[240];
	snprintf(buf, sizeof(buf), "tenant move %s to %s: %zu of %zu moved, %zu rolled back (batch %d, %s)", m->id,
		 m->target, count_outcome(m, TT_MOVED), m->n, count_outcome(m, TT_ROLLED_BACK), m->batches,
		 tm_state_names[m->state]);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* min / median / p95 / max of the moved tenants' write-blocked times */
static json_t *blocked_stats(const struct tenant_move *m)
{
	double *v = xcalloc(m->n + 1, sizeof(*v));
	size_t i, k = 0;
	json_t *o;

	for (i = 0; i < m->n; i++)
		if (m->t[i].outcome == TT_MOVED && m->t[i].blocked_ms >= 0)
			v[k++] = m->t[i].blocked_ms;
	if (!k) {
		free(v);
		return json_null();
	}
	qsort(v, k, sizeof(*v), cmp_double);
	o = json_pack("{s:i, s:f, s:f, s:f, s:f}", "tenants", (int)k, "min_ms", v[0], "median_ms",
		      k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2, "p95_ms", v[(k * 95 + 99) / 100 - 1], "max_ms", v[k - 1]);
	free(v);
	return o;
}

json_t *tenant_json(const struct tenant_move *m)
{
	json_t *ts = json_array(), *cur = json_array();
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct tm_tenant *t = &m->t[i];
		json_t *x = json_pack("{s:s, s:s?, s:s, s:s?, s:i}", "name", t->name, "tier", t->tier, "outcome",
				      tt_names[t->outcome], "reason", t->reason, "batch", t->batch);
		if (t->blocked_ms >= 0)
			json_object_set_new(x, "write_blocked_ms", json_real(t->blocked_ms));
		if (t->rows_src >= 0)
			json_object_set_new(x, "rows", json_integer(t->rows_src));
		if (m->routes && m->routes[i].hostgroup >= 0) {
			json_object_set_new(x, "hostgroup", json_integer(m->routes[i].hostgroup));
			json_object_set_new(x, "rule_id", json_integer(m->routes[i].rule_id));
		}
		json_array_append_new(ts, x);
	}
	for (i = 0; i < m->n_cur; i++)
		json_array_append_new(cur, json_string(m->t[m->cur[i]].name));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:i, s:i, s:i, s:i, s:s?, s:o, s:o}", "id", m->id,
			 "kind", "tenant_move", "by", m->o.kind == TENANT_SCHEMA ? "schema" : "user", "source", m->source,
			 "target", m->target, "state", tm_state_names[m->state], "step", tm_step_names[m->step], "batch",
			 m->batches, "batch_size", m->o.batch, "current", cur, "moved", (int)count_outcome(m, TT_MOVED),
			 "rolled_back", (int)count_outcome(m, TT_ROLLED_BACK), "skipped", (int)count_outcome(m, TT_SKIPPED),
			 "pending", (int)count_outcome(m, TT_PENDING), "reason", m->reason, "write_blocked", blocked_stats(m),
			 "tenants", ts);
}

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* A step of the batch begins (its first time: the killed sessions are looked at again and again). */
static void enter(struct tenant_move *m, enum tm_step st)
{
	m->step = st;
	if (st < ST_IDLE && !m->step_us[st])
		m->step_us[st] = now_mono_us();
}

/* "fence 10.2, cut 0.8, gone 2.1, sync 3.0, verify 4.4, probe 1.9, release 9.7" (ms): where the
 * held time of the batch went. */
static void step_times(const struct tenant_move *m, char *buf, size_t len)
{
	size_t used = 0;
	int st, next;

	buf[0] = '\0';
	for (st = ST_FENCE; st <= ST_RELEASE && used + 1 < len; st++) {
		int64_t end = m->released_us ? m->released_us : now_mono_us();
		if (!m->step_us[st])
			continue;
		for (next = st + 1; next <= ST_RELEASE; next++)
			if (m->step_us[next]) {
				end = m->step_us[next];
				break;
			}
		used += (size_t)snprintf(buf + used, len - used, "%s%s %.1f", used ? ", " : "", tm_step_names[st],
					 (double)(end - m->step_us[st]) / 1000.0);
	}
}

static void arm(struct tenant_move *m, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(m->timer, &tv);
}

static int q_timeout(const struct tenant_move *m)
{
	return m->d->cfg->connect_timeout_ms + m->d->cfg->query_timeout_ms + TM_STEP_SLACK_MS;
}

/* Inside the fence: what is left of max_blocked_ms (at least 1 ms). */
static int left_ms(const struct tenant_move *m)
{
	int64_t left = (m->deadline_us - now_mono_us()) / 1000;
	return left < 1 ? 1 : (int)left;
}

/* 'a', 'b': the batch's schemas (col "db") or users, quoted for SQL */
static char *batch_list(const struct tenant_move *m, bool users)
{
	char *out = xstrdup("");
	size_t i;

	for (i = 0; i < m->n_cur; i++) {
		const struct tm_tenant *t = &m->t[m->cur[i]];
		char *q = sql_quote(users ? t->name : t->schema), *next = xasprintf("%s%s'%s'", out, i ? ", " : "", q);
		free(q);
		free(out);
		out = next;
	}
	return out;
}

static char *ident(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 3), *o = out;
	*o++ = '`';
	for (; *s; s++) {
		if (*s == '`')
			*o++ = '`';
		*o++ = *s;
	}
	*o++ = '`';
	*o = '\0';
	return out;
}

static bool plan_failed_p(struct tenant_move *m, const struct psql_plan *p, struct db_result *res, char *why, size_t len)
{
	char msg[600];
	if (res->err) {
		snprintf(why, len, "router %s: %s", m->router, res->errmsg);
		return true;
	}
	if (p->nexp && (!res->n || psql_check_runtime(res->rs[res->n - 1], p->exp, p->nexp, msg, sizeof(msg)) < 0)) {
		snprintf(why, len, "router %s: %s", m->router, res->n ? msg : "no read-back of runtime_mysql_servers");
		return true;
	}
	return false;
}

static bool plan_failed(struct tenant_move *m, struct db_result *res, char *why, size_t len)
{
	return plan_failed_p(m, &m->plan, res, why, len);
}

static void run_plan(struct tenant_move *m, int timeout_ms, db_done_fn fn)
{
	db_run(m->adm, (const char *const *)m->plan.sql, m->plan.n, timeout_ms, fn, m);
}

/* A plan up to its LOAD (clients see the change when that answers), and then its read-back of
 * runtime_mysql_servers (the last statement) on its own. */
static void run_head(struct tenant_move *m, const struct psql_plan *p, int timeout_ms, db_done_fn fn)
{
	db_run(m->adm, (const char *const *)p->sql, p->n - 1, timeout_ms, fn, m);
}

static void run_tail(struct tenant_move *m, const struct psql_plan *p, int timeout_ms, db_done_fn fn)
{
	db_run1(m->adm, p->sql[p->n - 1], timeout_ms, fn, m);
}

/* The batch's routes, in cur[] order, copied into a temporary array for the plan builders. */
static struct tenant_route *batch_routes(const struct tenant_move *m)
{
	struct tenant_route *r = xcalloc(m->n_cur ? m->n_cur : 1, sizeof(*r));
	size_t i;
	for (i = 0; i < m->n_cur; i++)
		r[i] = m->routes[m->cur[i]];
	return r;   /* shallow: the comments stay m->routes' */
}

static json_t *batch_names(const struct tenant_move *m, int which)   /* -1 all, 1 passed, 0 failed */
{
	json_t *a = json_array();
	size_t i;
	for (i = 0; i < m->n_cur; i++)
		if (which < 0 || (bool)which == m->pass[i])
			json_array_append_new(a, json_pack("{s:s, s:i, s:i}", "name", m->t[m->cur[i]].name, "hostgroup",
							   m->routes[m->cur[i]].hostgroup, "rule_id",
							   m->routes[m->cur[i]].rule_id));
	return a;
}

/* ------------------------------------------------------------------------------------------ */
/* the end */

static void finish(struct tenant_move *m, enum tm_state st, const char *fmt, ...)
{
	enum journal_event ev = st == TM_DONE ? JE_DONE : st == TM_STOPPED && !count_outcome(m, TT_MOVED) ? JE_ROLLED_BACK
											       : JE_FAILED;
	json_t *rep;

	if (fmt) {
		char why[1000];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		free(m->reason);
		m->reason = xstrdup(why);
	}
	evtimer_del(m->timer);
	m->state = st;
	m->step = ST_IDLE;
	m->n_cur = 0;
	rep = tenant_json(m);
	json_object_set_new(rep, "outcome", json_string(tm_state_names[st]));
	json_object_set_new(rep, "total_ms", json_real((double)(now_mono_us() - m->started_us) / 1000.0));
	jrnl(m, ev, json_pack("{s:O}", "report", rep));
	emit(m, st == TM_DONE ? "ok" : "fail", "tenant move %s: %s — %zu moved, %zu rolled back, %zu skipped, %zu not "
					       "started%s%s", m->id, tm_state_names[st], count_outcome(m, TT_MOVED),
	     count_outcome(m, TT_ROLLED_BACK), count_outcome(m, TT_SKIPPED), count_outcome(m, TT_PENDING),
	     m->reason ? ": " : "", m->reason ? m->reason : "");
	if (m->cl) {
		if (!client_gone(m->cl)) {
			if (st == TM_DONE) {
				client_reply_ok(m->cl, m->req_id, json_incref(rep));
			} else {
				json_t *r = proto_reply_err(m->req_id, ERR_FAILED, "%s: %s", tm_state_names[st],
							    m->reason ? m->reason : "");
				json_object_set(json_object_get(r, "error"), "report", rep);
				client_send(m->cl, r);
			}
		}
		client_release(m->cl);
		m->cl = NULL;
	}
	json_decref(rep);
}

/* The batch is over (each tenant moved or rolled back): the next, after the pause. */
static void batch_done(struct tenant_move *m)
{
	size_t i, failed = 0;

	for (i = 0; i < m->n_cur; i++)
		failed += !m->pass[i];
	m->step = ST_IDLE;
	m->n_cur = 0;
	if (m->abort_requested) {
		finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
		return;
	}
	if (failed && !m->o.continue_on_failure) {
		finish(m, TM_STOPPED, "batch %d had %zu tenant%s rolled back; the move stops there (on_failure = continue "
				      "goes on)", m->batches, failed, failed == 1 ? "" : "s");
		return;
	}
	if (m->next >= m->n) {
		finish(m, TM_DONE, NULL);
		return;
	}
	if (m->pause_requested) {
		m->state = TM_PAUSED;
		jrnl(m, JE_PAUSED, NULL);
		emit(m, "paused", "paused after batch %d: resume to go on", m->batches);
		return;
	}
	if (m->o.pause_ms > 0) {
		emit(m, "info", "next batch in %d ms", m->o.pause_ms);
		m->next_batch_us = now_mono_us() + (int64_t)m->o.pause_ms * 1000;
		arm(m, m->o.pause_ms < TM_NOTE_EVERY_MS ? m->o.pause_ms : TM_NOTE_EVERY_MS);
		return;
	}
	batch_next(m);
}

/* ------------------------------------------------------------------------------------------ */
/* release (and undo) */

static void settled(struct db *db, struct db_result *res, void *arg);

static void batch_released(struct tenant_move *m)
{
	double blocked = (double)((m->released_us ? m->released_us : now_mono_us()) - m->fence_us) / 1000.0;
	char times[300];
	size_t i;

	step_times(m, times, sizeof(times));
	emit(m, "info", "batch %d held %.1f ms: %s ms", m->batches, blocked, times);

	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		t->blocked_ms = blocked;
		t->outcome = m->pass[i] ? TT_MOVED : TT_ROLLED_BACK;
	}
	jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:o, s:f, s:s}", "phase", "released", "batch", m->batches, "moved",
				    batch_names(m, 1), "back", batch_names(m, 0), "write_blocked_ms", blocked, "steps_ms", times));
	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		if (t->outcome == TT_MOVED)
			emit(m, "ok", "tenant %s moved to %s: writes held %.1f ms, %lld rows on both sides", t->name, m->target,
			     blocked, t->rows_src);
		else
			emit(m, "fail", "tenant %s rolled back to %s (held %.1f ms): %s", t->name, m->source, blocked,
			     t->reason ? t->reason : "?");
	}
	batch_done(m);
}

static void saved_after(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err)
		emit(m, "warn", "router %s: SAVE MYSQL SERVERS TO DISK: %s (runtime has batch %d; a ProxySQL restart would "
				"not)", m->router, res->errmsg, m->batches);
	db_result_free(res);
	batch_released(m);
}

static void release_loaded(struct db *db, struct db_result *res, void *arg);

static void released(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];

	(void)db;
	if (plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		/* what went through is unknown: ProxySQL's runtime decides, tenant by tenant */
		emit(m, "fail", "the release did not go through (%s): reading back which tenants are where", why);
		free(m->check_err);
		m->check_err = xstrdup(why);
		db_run1(m->adm, PSQL_SQL_RUNTIME_SERVERS, q_timeout(m), settled, m);
		return;
	}
	db_result_free(res);
	/* saved to disk outside the held time */
	db_run1(m->adm, PSQL_SQL_SAVE, q_timeout(m), saved_after, m);
}

/* The release's LOAD answered: the held queries go on from here. */
static void release_loaded(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err) {
		released(db, res, m);   /* the read-back of what runtime has decides */
		return;
	}
	db_result_free(res);
	m->released_us = now_mono_us();
	run_tail(m, &m->plan, q_timeout(m), released);
}

static void release(struct tenant_move *m)
{
	struct tenant_route *r;

	if (!m->fence_ok) {
		m->release_waiting = true;   /* the fence's read-back is still out (fence_checked) */
		return;
	}
	r = batch_routes(m);
	enter(m, ST_RELEASE);
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, false, &m->plan);
	free(r);
	if (jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:o}", "phase", "release", "batch", m->batches, "moved",
					batch_names(m, 1), "back", batch_names(m, 0))) < 0) {
		size_t i;
		for (i = 0; i < m->n_cur; i++)
			m->pass[i] = false;   /* nothing moves that the journal cannot tell */
		psql_plan_free(&m->plan);
		r = batch_routes(m);
		psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, false, &m->plan);
		free(r);
	}
	run_head(m, &m->plan, q_timeout(m), release_loaded);
}

/* After a release that failed: whatever runtime shows decides each tenant. */
static void settle_done(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];

	(void)db;
	if (plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		finish(m, TM_FAILED, "batch %d: the release failed (%s) and so did setting it right (%s): check the tenants' "
				     "hostgroups in router %s by hand (cutoverctl status lists them)", m->batches,
		       m->check_err ? m->check_err : "?", why, m->router);
		return;
	}
	db_result_free(res);
	free(m->check_err);
	m->check_err = NULL;
	m->released_us = now_mono_us();
	batch_released(m);
}

static void settled(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	struct tenant_route *r;
	char err[400];
	bool *moved;
	size_t i;

	(void)db;
	if (res->err || !res->n) {
		finish(m, TM_FAILED, "batch %d: the release failed (%s) and runtime_mysql_servers cannot be read (%s): "
				     "check the tenants' hostgroups in router %s by hand", m->batches,
		       m->check_err ? m->check_err : "?", res->err ? res->errmsg : "no rows", m->router);
		db_result_free(res);
		return;
	}
	r = batch_routes(m);
	moved = xcalloc(m->n_cur ? m->n_cur : 1, sizeof(*moved));
	if (psql_tenant_settled(res->rs[0], r, m->n_cur, &m->dst_ep, moved, err, sizeof(err)) < 0) {
		free(r);
		free(moved);
		db_result_free(res);
		finish(m, TM_FAILED, "batch %d: %s", m->batches, err);
		return;
	}
	db_result_free(res);
	for (i = 0; i < m->n_cur; i++) {
		if (m->pass[i] && !moved[i]) {
			free(m->t[m->cur[i]].reason);
			m->t[m->cur[i]].reason = xasprintf("the release did not go through: %s", m->check_err ? m->check_err : "?");
		}
		m->pass[i] = moved[i];
	}
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, true, &m->plan);
	free(r);
	free(moved);
	run_plan(m, q_timeout(m), settle_done);
}

/* The whole batch back to the source (before its release). */
static void batch_undo(struct tenant_move *m, const char *fmt, ...)
{
	char why[900];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (m->src && db_busy(m->src))
		db_cancel(m->src);
	if (m->dst && db_busy(m->dst))
		db_cancel(m->dst);
	if (m->adm && db_busy(m->adm))
		db_cancel(m->adm);   /* the fence's read-back, if still out: the release below settles it */
	m->fence_ok = true;
	m->release_waiting = false;
	evtimer_del(m->timer);
	m->pending = 0;
	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		m->pass[i] = false;
		if (!t->reason)
			t->reason = xstrdup(why);
	}
	emit(m, "fail", "batch %d rolls back: %s", m->batches, why);
	release(m);
}

/* ------------------------------------------------------------------------------------------ */
/* probe, verify, sync */

static void probed(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->errmsg);
		db_result_free(res);
		batch_undo(m, "the probe write on %s failed: %s", m->target, e);
		return;
	}
	db_result_free(res);
	if (m->abort_requested) {
		batch_undo(m, "aborted");
		return;
	}
	release(m);
}

static char *probe_table(const struct tenant_move *m)
{
	const char *hb = m->c->cfg->heartbeat_table, *dot = strchr(hb, '.');
	return xasprintf("`%.*s`.tenant_moves", dot ? (int)(dot - hb) : 8, dot ? hb : "cutoverd");
}

static void probe(struct tenant_move *m)
{
	char *tab = probe_table(m), *sql = NULL, *vals = xstrdup("");
	size_t i, k = 0;

	enter(m, ST_PROBE);
	for (i = 0; i < m->n_cur; i++) {
		char *q, *id, *src, *next;
		if (!m->pass[i])
			continue;
		q = sql_quote(m->t[m->cur[i]].name);
		id = sql_quote(m->id);
		src = sql_quote(m->source);
		next = xasprintf("%s%s('%s:%s', '%s', '%s', NOW(6))", vals, k++ ? ", " : "",
				 m->o.kind == TENANT_SCHEMA ? "schema" : "user", q, id, src);
		free(q);
		free(id);
		free(src);
		free(vals);
		vals = next;
	}
	if (!k) {
		free(tab);
		free(vals);
		release(m);
		return;
	}
	sql = xasprintf("REPLACE INTO %s (tenant, move_id, source, moved_at) VALUES %s", tab, vals);
	db_run1(m->dst, sql, left_ms(m), probed, m);
	free(sql);
	free(tab);
	free(vals);
}

/* {schema: rows} summed over a rowset (schema, n) */
static json_t *sum_counts(const struct rowset *rs)
{
	json_t *o = json_object();
	size_t i;
	for (i = 0; rs && i < rs->nrows; i++) {
		const char *s = rowset_at(rs, i, 0), *n = rowset_at(rs, i, 1);
		json_t *cur = json_object_get(o, s ? s : "");
		json_object_set_new(o, s ? s : "", json_integer((cur ? json_integer_value(cur) : 0) + (n ? atoll(n) : 0)));
	}
	return o;
}

static void verified(struct tenant_move *m)
{
	size_t i;

	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		json_t *a = json_object_get(m->counts[0], t->schema), *b = json_object_get(m->counts[1], t->schema);
		t->rows_src = a ? json_integer_value(a) : 0;
		t->rows_dst = b ? json_integer_value(b) : 0;
		m->pass[i] = t->rows_src == t->rows_dst;
		if (!m->pass[i]) {
			free(t->reason);
			t->reason = xasprintf("row count: %lld rows in %s's tables on %s, %lld on %s", t->rows_src, t->schema,
					      m->source, t->rows_dst, m->target);
			emit(m, "fail", "tenant %s: %s: it goes back to %s", t->name, t->reason, m->source);
		}
	}
	json_decref(m->counts[0]);
	json_decref(m->counts[1]);
	m->counts[0] = m->counts[1] = NULL;
	if (m->abort_requested) {
		batch_undo(m, "aborted");
		return;
	}
	probe(m);
}

static void counted(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	int side = db == m->src ? 0 : 1;

	if (res->err) {
		char e[600];
		snprintf(e, sizeof(e), "counting the tenants' rows on %s: %s", side ? m->target : m->source, res->errmsg);
		db_result_free(res);
		if (!m->check_err)
			m->check_err = xstrdup(e);
	} else {
		m->counts[side] = sum_counts(res->n ? res->rs[0] : NULL);
		db_result_free(res);
	}
	if (--m->pending > 0)
		return;
	if (m->check_err) {
		char e[700];
		snprintf(e, sizeof(e), "%s", m->check_err);
		free(m->check_err);
		m->check_err = NULL;
		batch_undo(m, "%s", e);
		return;
	}
	verified(m);
}

static char *count_sql(const struct tenant_move *m)
{
	char *out = NULL;
	size_t i, k;

	for (i = 0; i < m->n_cur; i++) {
		const struct tm_tenant *t = &m->t[m->cur[i]];
		json_t *x;
		json_array_foreach(t->tables, k, x) {
			char *s = ident(t->schema), *tb = ident(json_string_value(x)), *q = sql_quote(t->schema);
			char *next = xasprintf("%s%sSELECT '%s' AS s, COUNT(*) AS n FROM %s.%s", out ? out : "",
					       out ? " UNION ALL " : "", q, s, tb);
			free(s);
			free(tb);
			free(q);
			free(out);
			out = next;
		}
	}
	return out;
}

static void verify(struct tenant_move *m)
{
	char *sql = count_sql(m);

	enter(m, ST_VERIFY);
	if (!sql) {
		m->counts[0] = json_object();
		m->counts[1] = json_object();
		verified(m);
		return;
	}
	m->pending = 2;
	db_run1(m->src, sql, left_ms(m), counted, m);
	db_run1(m->dst, sql, left_ms(m), counted, m);
	free(sql);
}

static void waited(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	const char *v;

	(void)db;
	if (res->err || !res->n || !(v = rowset_at(res->rs[0], 0, 0)) || strcmp(v, "0")) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->err ? res->errmsg : "it did not reach it in time");
		db_result_free(res);
		batch_undo(m, "%s waiting for the source's position %s: %s", m->target, m->fence_pos ? m->fence_pos : "?", e);
		return;
	}
	db_result_free(res);
	verify(m);
}

static void fence_point(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	const char *v;
	char *sql;

	(void)db;
	if (res->err || !res->n || !(v = rowset_at(res->rs[0], 0, 0))) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->err ? res->errmsg : "no row");
		db_result_free(res);
		batch_undo(m, "reading the source's GTID position on %s: %s", m->source, e);
		return;
	}
	free(m->fence_pos);
	m->fence_pos = xstrdup(v);
	db_result_free(res);
	enter(m, ST_SYNC);
	{
		char *q = sql_quote(m->fence_pos);
		sql = xasprintf(m->dst_fl->sql[SQL_WAIT_GTID], q, (double)left_ms(m) / 1000.0);
		free(q);
	}
	db_run1(m->dst, sql, left_ms(m) + TM_STEP_SLACK_MS, waited, m);
	free(sql);
}

/* ------------------------------------------------------------------------------------------ */
/* cut the tenants' sessions on the source */

static void cut(struct tenant_move *m);
static void kill_rest(struct tenant_move *m);

static bool was_killed(const struct tenant_move *m, unsigned long long id)
{
	size_t i;
	for (i = 0; i < m->n_kill; i++)
		if (m->kill_ids[i] == id)
			return true;
	return false;
}

static void killed(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err && res->err != 1094) {   /* 1094: Unknown thread id — it ended by itself */
		char e[600];
		snprintf(e, sizeof(e), "%s", res->errmsg);
		db_result_free(res);
		batch_undo(m, "killing the tenants' sessions on %s: %s", m->source, e);
		return;
	}
	m->kill_next += res->err ? res->failed + 1 : res->n;
	db_result_free(res);
	kill_rest(m);
}

/* KILL the sessions from kill_next on; then the sessions are looked at again. */
static void kill_rest(struct tenant_move *m)
{
	size_t n = m->n_kill - m->kill_next, i;
	char **sql;

	if (!n) {
		arm(m, TM_CUT_POLL_MS);
		return;
	}
	sql = xcalloc(n, sizeof(*sql));
	for (i = 0; i < n; i++)
		sql[i] = xasprintf(m->src_fl->sql[SQL_KILL_SESSION], m->kill_ids[m->kill_next + i]);
	db_run(m->src, (const char *const *)sql, n, left_ms(m), killed, m);
	for (i = 0; i < n; i++)
		free(sql[i]);
	free(sql);
}

/* The tenants' sessions on the source, listed again and again until there are none: an idle
 * one is killed (held by a pinned client, or in a transaction, it would write on the source);
 * one running a statement is let finish — killing it would fail a statement the router would
 * otherwise have held — unless it still runs at half of max_blocked_ms. */
static void sessions_listed(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	bool late = now_mono_us() >= m->fence_us + (int64_t)m->o.max_blocked_ms * 500;
	size_t i, first = m->n_kill;

	(void)db;
	if (res->err || !res->n) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->err ? res->errmsg : "no answer");
		db_result_free(res);
		batch_undo(m, "listing the tenants' sessions on %s: %s", m->source, e);
		return;
	}
	if (!res->rs[0]->nrows) {
		db_result_free(res);
		if (m->n_kill)
			emit(m, "info", "batch %d: %zu session%s of its tenants on %s killed", m->batches, m->n_kill,
			     m->n_kill == 1 ? "" : "s", m->source);
		db_run1(m->src, m->src_fl->sql[SQL_FENCE_POINT], left_ms(m), fence_point, m);
		return;
	}
	if (now_mono_us() >= m->deadline_us) {
		size_t left = res->rs[0]->nrows;
		db_result_free(res);
		batch_undo(m, "%zu session%s of the tenants on %s still there after %d ms", left, left == 1 ? "" : "s",
			   m->source, m->o.max_blocked_ms);
		return;
	}
	for (i = 0; i < res->rs[0]->nrows; i++) {
		const char *v = rowset_at(res->rs[0], i, 0), *cmd = rowset_at(res->rs[0], i, 1);
		unsigned long long id = v ? strtoull(v, NULL, 10) : 0;
		if (!id || was_killed(m, id) || (!late && cmd && strcmp(cmd, "Sleep")))
			continue;
		m->kill_ids = xrealloc(m->kill_ids, (m->n_kill + 1) * sizeof(*m->kill_ids));
		m->kill_ids[m->n_kill++] = id;
	}
	db_result_free(res);
	if (m->n_kill == first) {
		arm(m, TM_CUT_POLL_MS);   /* statements running, or killed sessions on their way out */
		return;
	}
	m->kill_next = first;
	kill_rest(m);
}

static void cut(struct tenant_move *m)
{
	bool users = m->o.kind == TENANT_USER;
	char *list = batch_list(m, users), *sql = xasprintf(m->src_fl->sql[SQL_TENANT_SESSIONS], users ? "user" : "db", list);

	enter(m, ST_CUT);
	db_run1(m->src, sql, left_ms(m), sessions_listed, m);
	free(sql);
	free(list);
}

/* ------------------------------------------------------------------------------------------ */
/* fence, tables, prepare */

/* The fence's read-back: runtime has the source OFFLINE_SOFT in every hostgroup of the batch. */
static void fence_checked(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];

	(void)db;
	if (plan_failed_p(m, &m->fplan, res, why, sizeof(why))) {
		db_result_free(res);
		batch_undo(m, "the fence did not take: %s", why);
		return;
	}
	db_result_free(res);
	m->fence_ok = true;
	if (m->release_waiting) {
		m->release_waiting = false;
		release(m);
	}
}

/* The fence's LOAD answered: the tenants' new queries wait in ProxySQL.  The cut begins at
 * once; the read-back of runtime runs beside it, and the release waits for it. */
static void fenced(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err) {
		char e[600];
		snprintf(e, sizeof(e), "router %s: %s", m->router, res->errmsg);
		db_result_free(res);
		batch_undo(m, "the fence: %s", e);
		return;
	}
	db_result_free(res);
	emit(m, "ok", "batch %d fenced: %s", m->batches, m->fplan.note);
	run_tail(m, &m->fplan, q_timeout(m), fence_checked);
	if (m->step != ST_FENCE)
		return;   /* the read-back answered at once, and disagreed: the batch is being undone */
	if (m->abort_requested) {
		batch_undo(m, "aborted");
		return;
	}
	cut(m);
}

static void step_fence(struct tenant_move *m)
{
	struct tenant_route *r = batch_routes(m);

	enter(m, ST_FENCE);
	psql_plan_free(&m->fplan);
	psql_tenant_plan_fence(r, m->n_cur, &m->fplan);
	free(r);
	m->fence_ok = m->release_waiting = false;
	if (jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:{s:s, s:i}, s:{s:s, s:i}}", "phase", "fence", "batch",
					m->batches, "tenants", batch_names(m, -1), "src", "host", m->src_ep.host, "port",
					m->src_ep.port, "dst", "host", m->dst_ep.host, "port", m->dst_ep.port)) < 0) {
		finish(m, TM_STOPPED, "the journal cannot record the fence of batch %d: nothing of it was changed", m->batches);
		return;
	}
	m->fence_us = now_mono_us();
	m->deadline_us = m->fence_us + (int64_t)m->o.max_blocked_ms * 1000;
	run_head(m, &m->fplan, m->o.max_blocked_ms + TM_STEP_SLACK_MS, fenced);
}

/* Before the fence: the target within catchup_lag of the source — else the held time would be
 * the target's delay.  The source's position read, the time the target takes to reach it is
 * how far behind it is; again until it is close enough, or catchup_timeout (nothing held). */
static void catchup_pos(struct db *db, struct db_result *res, void *arg);

static void catchup_waited(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	const char *v = !res->err && res->n ? rowset_at(res->rs[0], 0, 0) : NULL;
	double behind = (double)(now_mono_us() - m->catchup_t0) / 1000.0;
	bool reached;

	(void)db;
	if (!v) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->err ? res->errmsg : "no answer");
		db_result_free(res);
		finish(m, TM_STOPPED, "batch %d: waiting for %s to catch up: %s (nothing of the batch was held)", m->batches,
		       m->target, e);
		return;
	}
	reached = !strcmp(v, "0");
	db_result_free(res);
	if (m->abort_requested) {
		finish(m, TM_STOPPED, "aborted before batch %d was fenced", m->batches);
		return;
	}
	if (reached && behind <= m->c->cfg->catchup_lag_ms) {
		step_fence(m);
		return;
	}
	if (now_mono_us() - m->catchup_noted >= 10 * 1000000LL) {
		m->catchup_noted = now_mono_us();
		emit(m, "info", "batch %d: waiting for %s to come within %d ms of the source (%s%.0f ms behind)", m->batches,
		     m->target, m->c->cfg->catchup_lag_ms, reached ? "" : "more than ", behind);
	}
	if (now_mono_us() >= m->catchup_deadline) {
		finish(m, TM_STOPPED, "batch %d: the target %s does not come within %d ms of the source (%s%.0f ms behind) in "
				      "%d ms: nothing of the batch was held; move it again once the target keeps up "
				      "(catchup_lag, catchup_timeout)", m->batches, m->target, m->c->cfg->catchup_lag_ms,
		       reached ? "" : "more than ", behind, m->c->cfg->catchup_timeout_ms);
		return;
	}
	db_run1(m->src, m->src_fl->sql[SQL_FENCE_POINT], q_timeout(m), catchup_pos, m);
}

static void catchup_pos(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	const char *v = !res->err && res->n ? rowset_at(res->rs[0], 0, 0) : NULL;
	char *q, *sql;

	(void)db;
	if (!v) {
		char e[600];
		snprintf(e, sizeof(e), "%s", res->err ? res->errmsg : "no answer");
		db_result_free(res);
		finish(m, TM_STOPPED, "batch %d: reading the source's position on %s: %s (nothing of the batch was held)",
		       m->batches, m->source, e);
		return;
	}
	m->catchup_t0 = now_mono_us();
	q = sql_quote(v);
	sql = xasprintf(m->dst_fl->sql[SQL_WAIT_GTID], q, 1.0);
	db_result_free(res);
	db_run1(m->dst, sql, 1000 + q_timeout(m), catchup_waited, m);
	free(sql);
	free(q);
}

static void catchup(struct tenant_move *m)
{
	enter(m, ST_CATCHUP);
	m->catchup_deadline = now_mono_us() + (int64_t)m->c->cfg->catchup_timeout_ms * 1000;
	m->catchup_noted = now_mono_us();
	db_run1(m->src, m->src_fl->sql[SQL_FENCE_POINT], q_timeout(m), catchup_pos, m);
}

static void tables_joined(struct tenant_move *m)
{
	if (--m->pending > 0)
		return;
	if (m->check_err) {
		char e[900];
		snprintf(e, sizeof(e), "%s", m->check_err);
		free(m->check_err);
		m->check_err = NULL;
		finish(m, TM_STOPPED, "batch %d: %s (its tenants are routed as before)", m->batches, e);
		return;
	}
	if (m->abort_requested) {
		finish(m, TM_STOPPED, "aborted before batch %d was fenced", m->batches);
		return;
	}
	catchup(m);
}

static void tables_listed(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	size_t i, k;

	(void)db;
	if (res->err || !res->n) {
		if (!m->check_err)
			m->check_err = xasprintf("listing the tables on %s: %s", m->source, res->err ? res->errmsg : "no answer");
		db_result_free(res);
		tables_joined(m);
		return;
	}
	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		json_decref(t->tables);
		t->tables = json_array();
		for (k = 0; k < res->rs[0]->nrows; k++) {
			const char *sc = rowset_at(res->rs[0], k, 0), *tb = rowset_at(res->rs[0], k, 1);
			if (sc && tb && !strcmp(sc, t->schema))
				json_array_append_new(t->tables, json_string(tb));
		}
	}
	db_result_free(res);
	tables_joined(m);
}

static void probe_ready(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err && !m->check_err)
		m->check_err = xasprintf("creating the probe table on %s: %s", m->target, res->errmsg);
	db_result_free(res);
	tables_joined(m);
}

/* The batch's tables listed on the source, and the probe's table made sure of on the target
 * (CREATE … IF NOT EXISTS, outside the fence). */
static void tables(struct tenant_move *m)
{
	char *list = batch_list(m, false), *tab = probe_table(m), *q[2];
	char *sql = xasprintf("SELECT table_schema, table_name FROM information_schema.TABLES WHERE table_type = 'BASE TABLE' "
			      "AND table_schema IN (%s) ORDER BY table_schema, table_name", list);
	const char *hb = m->c->cfg->heartbeat_table, *dot = strchr(hb, '.');

	enter(m, ST_TABLES);
	q[0] = xasprintf("CREATE DATABASE IF NOT EXISTS `%.*s`", dot ? (int)(dot - hb) : 8, dot ? hb : "cutoverd");
	q[1] = xasprintf("CREATE TABLE IF NOT EXISTS %s (tenant VARCHAR(200) NOT NULL PRIMARY KEY, move_id VARCHAR(64) "
			 "NOT NULL, source VARCHAR(200) NOT NULL, moved_at DATETIME(6) NOT NULL)", tab);
	m->pending = 2;
	db_run1(m->src, sql, q_timeout(m), tables_listed, m);
	db_run(m->dst, (const char *const *)q, 2, q_timeout(m), probe_ready, m);
	free(q[0]);
	free(q[1]);
	free(tab);
	free(sql);
	free(list);
}

static void prepared(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];
	size_t i;

	(void)db;
	if (plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		finish(m, TM_STOPPED, "preparing batch %d: %s (the tenants still go to %s)", m->batches, why, m->source);
		return;
	}
	db_result_free(res);
	for (i = 0; i < m->n_cur; i++)
		if (m->routes[m->cur[i]].where == TW_NEW)
			m->routes[m->cur[i]].where = TW_SOURCE;
	emit(m, "ok", "batch %d: %s", m->batches, m->plan.note);
	tables(m);
}

static void batch_next(struct tenant_move *m)
{
	struct tenant_route *r;
	json_t *names;
	size_t i;

	m->state = TM_RUNNING;
	m->n_cur = 0;
	while (m->next < m->n && m->n_cur < (size_t)m->o.batch) {
		if (m->t[m->next].outcome == TT_PENDING)
			m->cur[m->n_cur++] = m->next;
		m->next++;
	}
	if (!m->n_cur) {
		finish(m, TM_DONE, NULL);
		return;
	}
	m->batches++;
	memset(m->step_us, 0, sizeof(m->step_us));
	m->n_kill = m->kill_next = 0;
	m->released_us = 0;
	for (i = 0; i < m->n_cur; i++) {
		m->pass[i] = true;
		m->t[m->cur[i]].batch = m->batches;
	}
	names = batch_names(m, -1);
	{
		char list[600] = "";
		size_t used = 0;
		for (i = 0; i < m->n_cur && used + 1 < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", m->t[m->cur[i]].name);
		emit(m, "ok", "batch %d: %s", m->batches, list);
	}
	enter(m, ST_PREPARE);
	r = batch_routes(m);
	psql_plan_free(&m->plan);
	psql_tenant_plan_prepare(r, m->n_cur, m->o.kind, &m->plan);
	free(r);
	if (jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o}", "phase", "prepare", "batch", m->batches, "tenants", names)) < 0) {
		finish(m, TM_STOPPED, "the journal cannot record batch %d", m->batches);
		return;
	}
	if (!m->plan.n) {
		tables(m);
		return;
	}
	run_plan(m, q_timeout(m), prepared);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct tenant_move *m = arg;

	(void)fd;
	(void)what;
	if (m->step == ST_CUT) {
		cut(m);
		return;
	}
	if (m->state != TM_RUNNING || m->step != ST_IDLE)
		return;
	if (m->abort_requested) {
		finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
		return;
	}
	if (m->pause_requested) {
		m->state = TM_PAUSED;
		jrnl(m, JE_PAUSED, NULL);
		emit(m, "paused", "paused after batch %d: resume to go on", m->batches);
		return;
	}
	if (now_mono_us() < m->next_batch_us) {
		/* a line a minute through a long pause: the requester sees it is alive */
		int64_t left = (m->next_batch_us - now_mono_us()) / 1000;
		emit(m, "info", "next batch in %lld s", (long long)(left + 999) / 1000);
		arm(m, left < TM_NOTE_EVERY_MS ? (int)left + 1 : TM_NOTE_EVERY_MS);
		return;
	}
	batch_next(m);
}

/* ------------------------------------------------------------------------------------------ */
/* the checks before anything changes */

static const char *col_either(const struct rowset *rs, const char *a, const char *b)
{
	const char *v = rowset_get(rs, 0, a);
	return v ? v : rowset_get(rs, 0, b);
}

static void check_fail(struct tenant_move *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_fail(struct tenant_move *m, const char *fmt, ...)
{
	char buf[1500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!m->check_err)
		m->check_err = xstrdup(buf);
}

/* The source's domains (MariaDB's gtid_binlog_pos "0-1-100,1-2-5"): is `domain` one of them? */
static bool pos_has_domain(const char *pos, long long domain)
{
	const char *p = pos;
	while (p && *p) {
		char *end;
		long long d = strtoll(p, &end, 10);
		if (end != p && *end == '-' && d == domain)
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static void checks_done(struct tenant_move *m);
static void start_db_checks(struct tenant_move *m);

static void check_src(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	size_t i, k;

	(void)db;
	if (res->err || res->n < 2) {
		check_fail(m, "the source %s: %s", m->source, res->err ? res->errmsg : "no answer");
	} else {
		for (i = 0; i < m->n; i++) {
			bool found = false;
			for (k = 0; k < res->rs[0]->nrows; k++)
				found |= !strcmp(rowset_at(res->rs[0], k, 0) ?: "", m->t[i].schema);
			if (!found) {
				/* said first: what the operator typed matters more than what the target lacks */
				free(m->check_err);
				m->check_err = NULL;
				check_fail(m, "tenant %s: no schema %s on the source %s", m->t[i].name, m->t[i].schema, m->source);
				break;
			}
		}
		free(m->fence_pos);
		m->fence_pos = xstrdup(rowset_at(res->rs[1], 0, 0) ?: "");
	}
	db_result_free(res);
	if (--m->pending == 0)
		checks_done(m);
}

static void check_dst(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	const struct server *s = daemon_server(m->d, m->source);
	char why[600];
	size_t i, k;

	(void)db;
	if (res->err || res->n < 3) {
		check_fail(m, "the target %s: %s", m->target, res->err ? res->errmsg : "no answer");
	} else if (!res->rs[0]->nrows) {
		check_fail(m, "the target %s does not replicate: it must replicate from the source %s (the tenants' data "
			      "arrives that way)", m->target, m->source);
	} else {
		const struct rowset *rs = res->rs[0];
		const char *host = col_either(rs, "Master_Host", "Source_Host"), *port = col_either(rs, "Master_Port", "Source_Port");
		const char *io = col_either(rs, "Slave_IO_Running", "Replica_IO_Running");
		const char *sql = col_either(rs, "Slave_SQL_Running", "Replica_SQL_Running");
		struct repl_filters f = { rowset_get(rs, 0, "Replicate_Do_DB"), rowset_get(rs, 0, "Replicate_Ignore_DB"),
					  rowset_get(rs, 0, "Replicate_Do_Table"), rowset_get(rs, 0, "Replicate_Ignore_Table"),
					  rowset_get(rs, 0, "Replicate_Wild_Do_Table"),
					  rowset_get(rs, 0, "Replicate_Wild_Ignore_Table") };
		const char *domain = rowset_at(res->rs[1], 0, 0);

		if (!s || !host || !port || !topo_same_endpoint(host, atoi(port), s->cfg->host, s->cfg->port))
			check_fail(m, "the target %s replicates from %s:%s, not from the source %s (%s:%d)", m->target,
				   host ? host : "?", port ? port : "?", m->source, s && s->cfg->host ? s->cfg->host : "?",
				   s ? s->cfg->port : 0);
		else if (!io || !sql || strcmp(io, "Yes") || strcmp(sql, "Yes"))
			check_fail(m, "the target %s's replication is not running (IO %s, SQL %s): start it first", m->target,
				   io ? io : "?", sql ? sql : "?");
		for (i = 0; i < m->n && !m->check_err; i++)
			if (!tenant_filters_cover(&f, m->t[i].schema, why, sizeof(why)))
				check_fail(m, "tenant %s: the target %s does not replicate all of it: %s", m->t[i].name,
					   m->target, why);
		free(m->dst_domain);
		m->dst_domain = domain ? xstrdup(domain) : NULL;
		for (i = 0; i < m->n && !m->check_err; i++) {
			bool found = false;
			for (k = 0; k < res->rs[2]->nrows; k++)
				found |= !strcmp(rowset_at(res->rs[2], k, 0) ?: "", m->t[i].schema);
			if (!found)
				check_fail(m, "tenant %s: no schema %s on the target %s (replication creates it from the source)",
					   m->t[i].name, m->t[i].schema, m->target);
		}
	}
	db_result_free(res);
	if (--m->pending == 0)
		checks_done(m);
}

static void check_adm(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char err[400];
	size_t i;

	(void)db;
	if (res->err || res->n < 2) {
		check_fail(m, "router %s: %s", m->router, res->err ? res->errmsg : "no answer");
	} else if (psql_parse_snapshot(res->rs[1], &m->servers, err, sizeof(err)) < 0) {
		check_fail(m, "router %s: %s", m->router, err);
	} else {
		m->rules = res->rs[0];
		res->rs[0] = NULL;
		if (m->o.kind == TENANT_USER && res->n >= 3) {
			for (i = 0; i < m->n; i++) {
				size_t k;
				const char *schema = NULL;
				for (k = 0; k < res->rs[2]->nrows; k++)
					if (!strcmp(rowset_at(res->rs[2], k, 0) ?: "", m->t[i].name))
						schema = rowset_at(res->rs[2], k, 1);
				if (!schema || !*schema) {
					check_fail(m, "tenant %s: no user %s with a default_schema in ProxySQL's mysql_users: its "
						      "data (what is checked) is its default schema", m->t[i].name, m->t[i].name);
					break;
				}
				free(m->t[i].schema);
				m->t[i].schema = xstrdup(schema);
			}
		}
	}
	db_result_free(res);
	/* user tenants: their schemas are known now, the databases' checks can run */
	if (!m->check_err && m->o.kind == TENANT_USER)
		start_db_checks(m);
	if (--m->pending == 0)
		checks_done(m);
}

static void start_db_checks(struct tenant_move *m)
{
	size_t i, saved_n = m->n_cur;
	char *list, *q1;
	const char *sq[2], *dq[3];

	/* every tenant's schema, quoted (batch_list reads cur[]) */
	for (i = 0; i < m->n; i++)
		m->cur[i] = i;
	m->n_cur = m->n;
	list = batch_list(m, false);
	m->n_cur = saved_n;
	q1 = xasprintf("SELECT schema_name FROM information_schema.SCHEMATA WHERE schema_name IN (%s)", list);
	sq[0] = q1;
	sq[1] = m->src_fl->sql[SQL_FENCE_POINT];
	dq[0] = m->dst_fl->sql[SQL_REPLICA_STATUS];
	dq[1] = m->dst_fl->sql[SQL_GTID_DOMAIN];
	dq[2] = q1;
	m->pending += 2;
	db_run(m->src, sq, 2, q_timeout(m), check_src, m);
	db_run(m->dst, dq, 3, q_timeout(m), check_dst, m);
	free(list);
	free(q1);
}

static void checks_done(struct tenant_move *m)
{
	const struct router *r = NULL;
	const char **names;
	char err[2000];
	size_t i;
	json_t *list;

	if (!m->check_err && m->dst_domain && m->fence_pos && pos_has_domain(m->fence_pos, atoll(m->dst_domain)))
		check_fail(m, "the target %s writes in GTID domain %s, one of the source's (%s): its own writes would clash "
			      "with the stream; give it a gtid_domain_id of its own", m->target, m->dst_domain, m->fence_pos);
	if (!m->check_err) {
		for (i = 0; i < m->c->n_routers; i++)
			if (!strcmp(m->c->routers[i]->cfg->name, m->router))
				r = m->c->routers[i];
		if (!r) {
			check_fail(m, "router %s is no longer configured", m->router);
		} else {
			names = xcalloc(m->n, sizeof(*names));
			for (i = 0; i < m->n; i++)
				names[i] = m->t[i].name;
			m->routes = xcalloc(m->n, sizeof(*m->routes));
			if (psql_tenant_resolve(m->rules, &m->servers, r->cfg, m->o.kind, names, m->n, &m->src_ep, &m->dst_ep,
						m->routes, err, sizeof(err)) < 0) {
				check_fail(m, "%s", err);
				free(m->routes);
				m->routes = NULL;
			}
			free(names);
		}
	}
	if (m->check_err) {
		/* nothing was changed: a plain refusal */
		if (m->cl && !client_gone(m->cl))
			client_reply_err(m->cl, m->req_id, ERR_BADSTATE, "move_tenants refused: %s", m->check_err);
		if (m->cl)
			client_release(m->cl);
		m->cl = NULL;
		m->state = TM_REFUSED;
		free(m->reason);
		m->reason = xstrdup(m->check_err);
		{
			struct log_ctx ctx = { cluster_name(m), NULL, "tenant", m->id };
			log_ctx(LOG_WARNING, &ctx, "tenant move refused: %s", m->check_err);
		}
		return;
	}
	for (i = 0; i < m->n; i++)
		if (m->routes[i].where == TW_TARGET)
			m->t[i].outcome = TT_SKIPPED;
	list = json_array();
	for (i = 0; i < m->n; i++)
		json_array_append_new(list, json_string(m->t[i].name));
	if (jrnl(m, JE_BEGIN, json_pack("{s:o, s:s, s:s, s:i, s:i, s:b, s:i}", "tenants", list, "by",
					m->o.kind == TENANT_SCHEMA ? "schema" : "user", "router", m->router, "batch",
					m->o.batch, "pause_ms", m->o.pause_ms, "continue_on_failure",
					m->o.continue_on_failure, "max_blocked_ms", m->o.max_blocked_ms)) < 0) {
		finish(m, TM_STOPPED, "the journal cannot record the start: nothing was changed");
		return;
	}
	emit(m, "ok", "tenant move %s: %zu tenant%s (%zu already on %s) from %s to %s through router %s, %d per batch", m->id,
	     m->n, m->n == 1 ? "" : "s", count_outcome(m, TT_SKIPPED), m->target, m->source, m->target, m->router, m->o.batch);
	for (i = 0; i < m->n; i++)
		if (m->t[i].outcome == TT_SKIPPED)
			emit(m, "info", "tenant %s: already on %s (hostgroup %d)", m->t[i].name, m->target, m->routes[i].hostgroup);
	batch_next(m);
}

/* ------------------------------------------------------------------------------------------ */
/* start */

static struct tenant_move *move_new(struct daemon *d, struct cluster *c, const char *target, const char *source,
				    const char *router, size_t n, char *err, size_t errlen)
{
	struct tenant_move *m = xcalloc(1, sizeof(*m));
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];

	m->d = d;
	m->c = c;
	m->target = xstrdup(target);
	m->source = xstrdup(source);
	m->router = xstrdup(router);
	m->started_us = now_mono_us();
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
	snprintf(m->id, sizeof(m->id), "%s-%03d-%s-tenants", ts, (int)((now_real_us() / 1000) % 1000), c->cfg->name);
	m->timer = evtimer_new(d->base, tick, m);
	m->n = n;
	m->t = xcalloc(n ? n : 1, sizeof(*m->t));
	m->cur = xcalloc(n ? n : 1, sizeof(*m->cur));
	m->pass = xcalloc(n ? n : 1, sizeof(*m->pass));
	m->step = ST_IDLE;
	journal_rotate_if_large(d->cfg->state_dir, c->cfg->name);
	m->journal = journal_open(d->cfg->state_dir, c->cfg->name, err, errlen);
	if (!m->journal) {
		tenant_free(m);
		return NULL;
	}
	return m;
}

static void endpoint_of(const struct cfg_router *rc, const struct server *s, struct psql_endpoint *e)
{
	const char *pname = psql_name_of(rc, s->cfg->name);
	if (psql_parse_endpoint(pname ? pname : "", 0, e) < 0) {
		snprintf(e->host, sizeof(e->host), "%s", s->cfg->host ? s->cfg->host : "127.0.0.1");
		e->port = s->cfg->port;
	}
}

int tenant_start(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id, const struct tenant_opts *o,
		 enum err_code *code, char *err, size_t errlen)
{
	const struct router *r = NULL;
	struct server *t, *src;
	struct tenant_move *m;
	size_t i;

	*code = ERR_BUSY;
	if (c->tenants && tenant_active(c->tenants)) {
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, tenant_summary(c->tenants));
		return -1;
	}
	if (cluster_busy(c) || c->cutover || (c->shift && shift_active(c->shift))) {
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name,
			 c->cutover ? "a cutover is recorded" : cluster_busy(c) ? cluster_busy(c) : shift_summary(c->shift));
		return -1;
	}
	*code = ERR_INVALID;
	if (!o->n || o->n > TENANT_MAX) {
		snprintf(err, errlen, "tenants: between 1 and %d names", TENANT_MAX);
		return -1;
	}
	for (i = 0; i < c->n_routers; i++) {
		const struct router *x = c->routers[i];
		if (x->cfg->type != ROUTER_PROXYSQL || (o->router && strcmp(o->router, x->cfg->name)))
			continue;
		if (r) {
			snprintf(err, errlen, "cluster %s has several ProxySQL routers (%s, %s): name one with \"router\"",
				 c->cfg->name, r->cfg->name, x->cfg->name);
			return -1;
		}
		r = x;
	}
	if (!r) {
		snprintf(err, errlen, o->router ? "no ProxySQL router named '%s' in cluster %s"
						: "cluster %s has no ProxySQL router: tenants move through ProxySQL's query rules",
			 o->router ? o->router : c->cfg->name, c->cfg->name);
		return -1;
	}
	if (r->cfg->tenant_hg_lo < 0) {
		snprintf(err, errlen, "router %s has no tenant_hostgroups and tenant_rule_ids: cutoverd gives each tenant it "
			 "moves a query rule and a hostgroup from those ranges (cutoverd.conf(5))", r->cfg->name);
		return -1;
	}
	*code = ERR_NOTFOUND;
	t = daemon_server(d, o->to);
	if (!t) {
		snprintf(err, errlen, "no server named '%s'", o->to ? o->to : "");
		return -1;
	}
	*code = ERR_BADSTATE;
	if (t->cluster == c) {
		snprintf(err, errlen, "%s is in cluster %s, the cluster the tenants move from: the target takes the tenants' "
			 "writes while it replicates the rest, which would make it a second writable server there; put it "
			 "in a cluster of its own, replicating from the primary (cutoverd(8), TENANT MOVES)", o->to, c->cfg->name);
		return -1;
	}
	if (c->topo.primary < 0 || c->topo.n_writable != 1) {
		snprintf(err, errlen, "cluster %s has no single writable primary to move the tenants from", c->cfg->name);
		return -1;
	}
	src = c->servers[c->topo.primary];
	if (!t->st.reachable || t->st.read_only != 0) {
		snprintf(err, errlen, "the target %s is %s: the tenants' writes need a reachable, writable target", o->to,
			 !t->st.reachable ? "unreachable" : "read-only");
		return -1;
	}
	if (cluster_busy(t->cluster) || t->cluster->cutover) {
		snprintf(err, errlen, "the target's cluster %s is busy: %s", t->cluster->cfg->name,
			 t->cluster->cutover ? "a cutover is recorded" : cluster_busy(t->cluster));
		return -1;
	}
	*code = ERR_INTERNAL;
	m = move_new(d, c, o->to, src->cfg->name, r->cfg->name, o->n, err, errlen);
	if (!m)
		return -1;
	m->o = *o;
	m->o.names = NULL;
	m->o.tiers = NULL;
	m->o.to = m->target;
	m->o.router = m->router;
	if (m->o.batch < 1)
		m->o.batch = 1;
	if (m->o.max_blocked_ms <= 0)
		m->o.max_blocked_ms = 5000;
	for (i = 0; i < o->n; i++) {
		m->t[i].name = xstrdup(o->names[i]);
		m->t[i].tier = o->tiers && o->tiers[i] ? xstrdup(o->tiers[i]) : NULL;
		m->t[i].schema = xstrdup(o->names[i]);
		m->t[i].blocked_ms = -1;
		m->t[i].rows_src = m->t[i].rows_dst = -1;
	}
	endpoint_of(r->cfg, src, &m->src_ep);
	endpoint_of(r->cfg, t, &m->dst_ep);
	m->src_fl = server_flavor(src);
	m->dst_fl = server_flavor(t);
	m->adm = psql_admin_db(d->base, r->cfg, "tenant move", d->cfg->connect_timeout_ms);
	m->src = server_db_new(d, src->cfg);
	m->dst = server_db_new(d, t->cfg);
	m->state = TM_CHECKING;
	if (cl) {
		m->cl = cl;
		m->req_id = json_incref(req_id);
		client_hold(cl);
	}
	c->tenants = m;
	if (!m->adm) {
		check_fail(m, "router %s: its address does not parse", m->router);
		checks_done(m);
		return 0;
	}
	{
		/* the router's configuration, and (schema tenants: at once; user tenants: once their
		 * schemas are read) the source's and the target's */
		const char *aq[3] = { psql_sql_rules, NULL, "SELECT username, default_schema FROM mysql_users" };
		char *snap = psql_snapshot_sql(-1, -1);
		aq[1] = snap;
		m->pending = 1;
		if (m->o.kind == TENANT_SCHEMA)
			start_db_checks(m);
		db_run(m->adm, aq, m->o.kind == TENANT_USER ? 3 : 2, q_timeout(m), check_adm, m);
		free(snap);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* abort, pause, resume */

int tenant_abort(struct tenant_move *m, char *err, size_t errlen)
{
	if (!tenant_active(m) || m->state == TM_CHECKING) {
		snprintf(err, errlen, "the tenant move is %s", m ? tm_state_names[m->state] : "not running");
		return -1;
	}
	m->abort_requested = true;
	emit(m, "warn", "abort requested: %s", m->n_cur ? "the batch running rolls back unless it is being released"
							: "no further batch");
	if (m->step == ST_IDLE)   /* between batches (paused or waiting): it ends here */
		finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
	return 0;
}

int tenant_pause(struct tenant_move *m, char *err, size_t errlen)
{
	if (!m || m->state != TM_RUNNING || m->pause_requested) {
		snprintf(err, errlen, "the tenant move is %s", m ? (m->pause_requested ? "already pausing after its batch"
											: tm_state_names[m->state])
								  : "not running");
		return -1;
	}
	m->pause_requested = true;
	if (m->step == ST_IDLE) {
		evtimer_del(m->timer);
		m->state = TM_PAUSED;
		jrnl(m, JE_PAUSED, NULL);
	}
	emit(m, m->state == TM_PAUSED ? "paused" : "ok", "pause: %s",
	     m->state == TM_PAUSED ? "paused between batches; resume to go on" : "after the batch running");
	return 0;
}

int tenant_resume(struct tenant_move *m, char *err, size_t errlen)
{
	if (!m || (m->state != TM_PAUSED && !m->pause_requested)) {
		snprintf(err, errlen, "the tenant move is %s", m ? tm_state_names[m->state] : "not running");
		return -1;
	}
	m->pause_requested = false;
	if (m->state == TM_PAUSED) {
		m->state = TM_RUNNING;
		jrnl(m, JE_RESUMED, NULL);
		emit(m, "ok", "resumed after batch %d", m->batches);
		batch_next(m);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* after a restart */

static void recovered(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];
	size_t i;

	(void)db;
	if (plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		finish(m, TM_FAILED, "cutoverd restarted during batch %d and cannot put its tenants right (%s): check their "
				     "hostgroups in router %s by hand", m->batches, why, m->router);
		return;
	}
	db_result_free(res);
	for (i = 0; i < m->n_cur; i++)
		m->t[m->cur[i]].outcome = m->pass[i] ? TT_MOVED : TT_ROLLED_BACK;
	finish(m, TM_STOPPED, "cutoverd restarted during batch %d: %zu of its tenants had reached %s and stay there, the "
			      "others are back on %s; the move stops here", m->batches, count_outcome(m, TT_MOVED), m->target,
	       m->source);
}

static void recover_read(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	struct tenant_route *r;
	char err[400];

	(void)db;
	if (res->err || !res->n) {
		finish(m, TM_FAILED, "cutoverd restarted during batch %d and router %s cannot be read (%s): its tenants may "
				     "be held; check their hostgroups by hand", m->batches, m->router,
		       res->err ? res->errmsg : "no rows");
		db_result_free(res);
		return;
	}
	r = batch_routes(m);
	if (psql_tenant_settled(res->rs[0], r, m->n_cur, &m->dst_ep, m->pass, err, sizeof(err)) < 0) {
		free(r);
		db_result_free(res);
		finish(m, TM_FAILED, "cutoverd restarted during batch %d: %s", m->batches, err);
		return;
	}
	db_result_free(res);
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, true, &m->plan);
	free(r);
	run_plan(m, q_timeout(m), recovered);
}

/* The last tenant move of a cluster's journal, unfinished: its fenced batch settled. */
static void recover_one(struct daemon *d, struct cluster *c, json_t *x)
{
	json_t *entries = json_object_get(x, "entries"), *e, *first = json_array_get(entries, 0), *fence = NULL, *tl;
	const char *ev = json_string_value(json_object_get(json_array_get(entries, json_array_size(entries) - 1), "event"));
	const struct router *r = NULL;
	struct tenant_move *m;
	char err[300];
	size_t i, k;
	bool released = false;

	if (!ev || journal_event_finished(ev))
		return;
	json_array_foreach(entries, k, e) {
		const char *ph = json_string_value(json_object_get(e, "phase"));
		if (ph && !strcmp(ph, "fence")) {
			fence = e;
			released = false;
		} else if (ph && !strcmp(ph, "released")) {
			released = true;
		}
	}
	tl = json_object_get(first, "tenants");
	m = move_new(d, c, json_string_value(json_object_get(first, "new")) ?: "?",
		     json_string_value(json_object_get(first, "old")) ?: "?",
		     json_string_value(json_object_get(first, "router")) ?: "?", json_array_size(tl), err, sizeof(err));
	if (!m)
		return;
	snprintf(m->id, sizeof(m->id), "%s", json_string_value(json_object_get(x, "id")) ?: "?");
	c->tenants = m;
	m->state = TM_RUNNING;
	for (i = 0; i < m->n; i++) {
		m->t[i].name = xstrdup(json_string_value(json_array_get(tl, i)) ?: "?");
		m->t[i].schema = xstrdup(m->t[i].name);
		m->t[i].blocked_ms = -1;
		m->t[i].rows_src = m->t[i].rows_dst = -1;
	}
	if (!fence || released) {
		finish(m, TM_STOPPED, "cutoverd restarted during the move, between batches: the tenants moved so far stay "
				      "moved; move the others again");
		return;
	}
	for (i = 0; i < c->n_routers; i++)
		if (!strcmp(c->routers[i]->cfg->name, m->router))
			r = c->routers[i];
	m->batches = (int)json_integer_value(json_object_get(fence, "batch"));
	snprintf(m->src_ep.host, sizeof(m->src_ep.host), "%s", json_string_value(json_object_get(json_object_get(fence, "src"), "host")) ?: "");
	m->src_ep.port = (int)json_integer_value(json_object_get(json_object_get(fence, "src"), "port"));
	snprintf(m->dst_ep.host, sizeof(m->dst_ep.host), "%s", json_string_value(json_object_get(json_object_get(fence, "dst"), "host")) ?: "");
	m->dst_ep.port = (int)json_integer_value(json_object_get(json_object_get(fence, "dst"), "port"));
	m->routes = xcalloc(m->n, sizeof(*m->routes));
	for (i = 0; i < m->n; i++)
		m->routes[i].rule_id = m->routes[i].hostgroup = -1;
	json_array_foreach(json_object_get(fence, "tenants"), k, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		for (i = 0; name && i < m->n; i++) {
			if (strcmp(m->t[i].name, name))
				continue;
			m->routes[i].name = m->t[i].name;
			m->routes[i].hostgroup = (int)json_integer_value(json_object_get(e, "hostgroup"));
			m->routes[i].rule_id = (int)json_integer_value(json_object_get(e, "rule_id"));
			m->routes[i].row.hostgroup = m->routes[i].hostgroup;
			m->routes[i].row.ep = m->src_ep;
			m->routes[i].row.weight = 1;
			m->routes[i].row.max_connections = 1000;
			strlcpy_(m->routes[i].row.status, "ONLINE", sizeof(m->routes[i].row.status));
			m->cur[m->n_cur++] = i;
		}
	}
	/* tenants of earlier batches: their outcome is in their "released" entries */
	json_array_foreach(entries, k, e) {
		const char *ph = json_string_value(json_object_get(e, "phase"));
		json_t *y;
		size_t j;
		if (!ph || strcmp(ph, "released"))
			continue;
		json_array_foreach(json_object_get(e, "moved"), j, y)
			for (i = 0; i < m->n; i++)
				if (!strcmp(m->t[i].name, json_string_value(json_object_get(y, "name")) ?: ""))
					m->t[i].outcome = TT_MOVED;
		json_array_foreach(json_object_get(e, "back"), j, y)
			for (i = 0; i < m->n; i++)
				if (!strcmp(m->t[i].name, json_string_value(json_object_get(y, "name")) ?: ""))
					m->t[i].outcome = TT_ROLLED_BACK;
	}
	if (!r || !(m->adm = psql_admin_db(d->base, r->cfg, "tenant move", d->cfg->connect_timeout_ms))) {
		finish(m, TM_FAILED, "cutoverd restarted during batch %d and router %s is no longer configured: its tenants "
				     "may be held; check their hostgroups by hand", m->batches, m->router);
		return;
	}
	emit(m, "warn", "cutoverd restarted during batch %d of tenant move %s: settling its %zu tenants from router %s's "
			"runtime", m->batches, m->id, m->n_cur, m->router);
	enter(m, ST_RELEASE);
	db_run1(m->adm, PSQL_SQL_RUNTIME_SERVERS, q_timeout(m), recover_read, m);
}

void tenant_recover_all(struct daemon *d)
{
	size_t i, k;

	for (i = 0; i < d->n_clusters; i++) {
		struct cluster *c = &d->clusters[i];
		json_t *all = journal_read(d->cfg->state_dir, c->cfg->name), *by = journal_by_cutover(all), *x, *last = NULL;

		json_array_foreach(by, k, x) {
			const char *kind = json_string_value(
				json_object_get(json_array_get(json_object_get(x, "entries"), 0), "kind"));
			if (kind && !strcmp(kind, "tenant_move"))
				last = x;
		}
		if (last)
			recover_one(d, c, last);
		json_decref(by);
		json_decref(all);
	}
}

void tenant_free(struct tenant_move *m)
{
	size_t i;

	if (!m)
		return;
	if (m->cl)
		client_release(m->cl);
	json_decref(m->req_id);
	if (m->timer)
		event_free(m->timer);
	db_free(m->adm);
	db_free(m->src);
	db_free(m->dst);
	psql_plan_free(&m->plan);
	psql_plan_free(&m->fplan);
	if (m->routes)
		psql_tenant_routes_free(m->routes, m->n);
	free(m->routes);
	for (i = 0; i < m->n; i++) {
		free(m->t[i].name);
		free(m->t[i].tier);
		free(m->t[i].schema);
		free(m->t[i].reason);
		json_decref(m->t[i].tables);
	}
	free(m->t);
	free(m->cur);
	free(m->pass);
	free(m->fence_pos);
	free(m->kill_ids);
	json_decref(m->counts[0]);
	json_decref(m->counts[1]);
	free(m->check_err);
	free(m->dst_domain);
	rowset_free(m->rules);
	psql_snapshot_free(&m->servers);
	journal_close(m->journal);
	free(m->reason);
	free(m->target);
	free(m->source);
	free(m->router);
	free(m);
}

void tenant_rebind(struct tenant_move *m, struct cluster *c)
{
	if (m)
		m->c = c;
}
