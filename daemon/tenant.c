/* Per-tenant cutovers through ProxySQL: the batches (see tenant.h). */
#include "tenant_impl.h"
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

const char *const tm_state_names[] = { "checking", "running", "paused", "done", "stopped", "failed", "refused" };
const char *const tm_step_names[] = { "prepare", "tables", "catchup", "fence", "cut", "sync", "verify", "probe",
				      "release", "idle" };
const char *const tt_names[] = { "pending", "moved", "rolled_back", "skipped" };

static void step_fence(struct tenant_move *m);
static void catchup(struct tenant_move *m);
static void batch_undo(struct tenant_move *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

void tm_emit(struct tenant_move *m, const char *status, const char *fmt, ...)
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

int tm_jrnl(struct tenant_move *m, enum journal_event ev, json_t *extra)
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

size_t tm_count_outcome(const struct tenant_move *m, enum tt_outcome o)
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
		 m->target, tm_count_outcome(m, TT_MOVED), m->n, tm_count_outcome(m, TT_ROLLED_BACK), m->batches,
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
			 m->batches, "batch_size", m->o.batch, "current", cur, "moved", (int)tm_count_outcome(m, TT_MOVED),
			 "rolled_back", (int)tm_count_outcome(m, TT_ROLLED_BACK), "skipped", (int)tm_count_outcome(m, TT_SKIPPED),
			 "pending", (int)tm_count_outcome(m, TT_PENDING), "reason", m->reason, "write_blocked", blocked_stats(m),
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

void tm_arm(struct tenant_move *m, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(m->timer, &tv);
}

int tm_q_timeout(const struct tenant_move *m)
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
char *tm_batch_list(const struct tenant_move *m, bool users)
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

bool tm_plan_failed(struct tenant_move *m, struct db_result *res, char *why, size_t len)
{
	return plan_failed_p(m, &m->plan, res, why, len);
}

void tm_run_plan(struct tenant_move *m, int timeout_ms, db_done_fn fn)
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
struct tenant_route *tm_batch_routes(const struct tenant_move *m)
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

void tm_finish(struct tenant_move *m, enum tm_state st, const char *fmt, ...)
{
	enum journal_event ev = st == TM_DONE ? JE_DONE : st == TM_STOPPED && !tm_count_outcome(m, TT_MOVED) ? JE_ROLLED_BACK
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
	tm_jrnl(m, ev, json_pack("{s:O}", "report", rep));
	tm_emit(m, st == TM_DONE ? "ok" : "fail", "tenant move %s: %s — %zu moved, %zu rolled back, %zu skipped, %zu not "
					       "started%s%s", m->id, tm_state_names[st], tm_count_outcome(m, TT_MOVED),
	     tm_count_outcome(m, TT_ROLLED_BACK), tm_count_outcome(m, TT_SKIPPED), tm_count_outcome(m, TT_PENDING),
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
		tm_finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
		return;
	}
	if (failed && !m->o.continue_on_failure) {
		tm_finish(m, TM_STOPPED, "batch %d had %zu tenant%s rolled back; the move stops there (on_failure = continue "
				      "goes on)", m->batches, failed, failed == 1 ? "" : "s");
		return;
	}
	if (m->next >= m->n) {
		tm_finish(m, TM_DONE, NULL);
		return;
	}
	if (m->pause_requested) {
		m->state = TM_PAUSED;
		tm_jrnl(m, JE_PAUSED, NULL);
		tm_emit(m, "paused", "paused after batch %d: resume to go on", m->batches);
		return;
	}
	if (m->o.pause_ms > 0) {
		tm_emit(m, "info", "next batch in %d ms", m->o.pause_ms);
		m->next_batch_us = now_mono_us() + (int64_t)m->o.pause_ms * 1000;
		tm_arm(m, m->o.pause_ms < TM_NOTE_EVERY_MS ? m->o.pause_ms : TM_NOTE_EVERY_MS);
		return;
	}
	tm_batch_next(m);
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
	tm_emit(m, "info", "batch %d held %.1f ms: %s ms%s%s", m->batches, blocked, times,
		*m->cut_waited ? "; the cut waited for " : "", m->cut_waited);

	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		t->blocked_ms = blocked;
		t->outcome = m->pass[i] ? TT_MOVED : TT_ROLLED_BACK;
	}
	tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:o, s:f, s:s}", "phase", "released", "batch", m->batches, "moved",
				    batch_names(m, 1), "back", batch_names(m, 0), "write_blocked_ms", blocked, "steps_ms", times));
	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		if (t->outcome == TT_MOVED)
			tm_emit(m, "ok", "tenant %s moved to %s: writes held %.1f ms, %lld rows on both sides", t->name, m->target,
			     blocked, t->rows_src);
		else
			tm_emit(m, "fail", "tenant %s rolled back to %s (held %.1f ms): %s", t->name, m->source, blocked,
			     t->reason ? t->reason : "?");
	}
	batch_done(m);
}

static void saved_after(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;

	(void)db;
	if (res->err)
		tm_emit(m, "warn", "router %s: SAVE MYSQL SERVERS TO DISK: %s (runtime has batch %d; a ProxySQL restart would "
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
	if (tm_plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		/* what went through is unknown: ProxySQL's runtime decides, tenant by tenant */
		tm_emit(m, "fail", "the release did not go through (%s): reading back which tenants are where", why);
		free(m->check_err);
		m->check_err = xstrdup(why);
		db_run1(m->adm, PSQL_SQL_RUNTIME_SERVERS, tm_q_timeout(m), settled, m);
		return;
	}
	db_result_free(res);
	/* saved to disk outside the held time */
	db_run1(m->adm, PSQL_SQL_SAVE, tm_q_timeout(m), saved_after, m);
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
	run_tail(m, &m->plan, tm_q_timeout(m), released);
}

static void release(struct tenant_move *m)
{
	struct tenant_route *r;

	if (!m->fence_ok) {
		m->release_waiting = true;   /* the fence's read-back is still out (fence_checked) */
		return;
	}
	r = tm_batch_routes(m);
	enter(m, ST_RELEASE);
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, false, &m->plan);
	free(r);
	if (tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:o}", "phase", "release", "batch", m->batches, "moved",
					batch_names(m, 1), "back", batch_names(m, 0))) < 0) {
		size_t i;
		for (i = 0; i < m->n_cur; i++)
			m->pass[i] = false;   /* nothing moves that the journal cannot tell */
		psql_plan_free(&m->plan);
		r = tm_batch_routes(m);
		psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, false, &m->plan);
		free(r);
	}
	run_head(m, &m->plan, tm_q_timeout(m), release_loaded);
}

/* After a release that failed: whatever runtime shows decides each tenant. */
static void settle_done(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];

	(void)db;
	if (tm_plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		tm_finish(m, TM_FAILED, "batch %d: the release failed (%s) and so did setting it right (%s): check the tenants' "
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
		tm_finish(m, TM_FAILED, "batch %d: the release failed (%s) and runtime_mysql_servers cannot be read (%s): "
				     "check the tenants' hostgroups in router %s by hand", m->batches,
		       m->check_err ? m->check_err : "?", res->err ? res->errmsg : "no rows", m->router);
		db_result_free(res);
		return;
	}
	r = tm_batch_routes(m);
	moved = xcalloc(m->n_cur ? m->n_cur : 1, sizeof(*moved));
	if (psql_tenant_settled(res->rs[0], r, m->n_cur, &m->dst_ep, moved, err, sizeof(err)) < 0) {
		free(r);
		free(moved);
		db_result_free(res);
		tm_finish(m, TM_FAILED, "batch %d: %s", m->batches, err);
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
	tm_run_plan(m, tm_q_timeout(m), settle_done);
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
	tm_emit(m, "fail", "batch %d rolls back: %s", m->batches, why);
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

char *tm_probe_table(const struct tenant_move *m)
{
	const char *hb = m->c->cfg->heartbeat_table, *dot = strchr(hb, '.');
	return xasprintf("`%.*s`.tenant_moves", dot ? (int)(dot - hb) : 8, dot ? hb : "cutoverd");
}

static void probe(struct tenant_move *m)
{
	char *tab = tm_probe_table(m), *sql = NULL, *vals = xstrdup("");
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
			tm_emit(m, "fail", "tenant %s: %s: it goes back to %s", t->name, t->reason, m->source);
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
		tm_arm(m, TM_CUT_POLL_MS);
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
			tm_emit(m, "info", "batch %d: %zu session%s of its tenants on %s killed", m->batches, m->n_kill,
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
		if (!id || was_killed(m, id))
			continue;
		if (!late && cmd && strcmp(cmd, "Sleep")) {
			const char *st = rowset_at(res->rs[0], i, 2), *info = rowset_at(res->rs[0], i, 3);
			snprintf(m->cut_waited, sizeof(m->cut_waited), "session %llu (%s%s%s%s%s)", id, cmd, st && *st ? ", " : "",
				 st ? st : "", info && *info ? ": " : "", info ? info : "");
			continue;
		}
		m->kill_ids = xrealloc(m->kill_ids, (m->n_kill + 1) * sizeof(*m->kill_ids));
		m->kill_ids[m->n_kill++] = id;
	}
	db_result_free(res);
	if (m->n_kill == first) {
		tm_arm(m, TM_CUT_POLL_MS);   /* statements running, or killed sessions on their way out */
		return;
	}
	m->kill_next = first;
	kill_rest(m);
}

static void cut(struct tenant_move *m)
{
	bool users = m->o.kind == TENANT_USER;
	char *list = tm_batch_list(m, users), *sql = xasprintf(m->src_fl->sql[SQL_TENANT_SESSIONS], users ? "user" : "db", list);

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
	tm_emit(m, "ok", "batch %d fenced: %s", m->batches, m->fplan.note);
	run_tail(m, &m->fplan, tm_q_timeout(m), fence_checked);
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
	struct tenant_route *r = tm_batch_routes(m);

	enter(m, ST_FENCE);
	psql_plan_free(&m->fplan);
	psql_tenant_plan_fence(r, m->n_cur, &m->fplan);
	free(r);
	m->fence_ok = m->release_waiting = false;
	if (tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:{s:s, s:i}, s:{s:s, s:i}}", "phase", "fence", "batch",
					m->batches, "tenants", batch_names(m, -1), "src", "host", m->src_ep.host, "port",
					m->src_ep.port, "dst", "host", m->dst_ep.host, "port", m->dst_ep.port)) < 0) {
		tm_finish(m, TM_STOPPED, "the journal cannot record the fence of batch %d: nothing of it was changed", m->batches);
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
		tm_finish(m, TM_STOPPED, "batch %d: waiting for %s to catch up: %s (nothing of the batch was held)", m->batches,
		       m->target, e);
		return;
	}
	reached = !strcmp(v, "0");
	db_result_free(res);
	if (m->abort_requested) {
		tm_finish(m, TM_STOPPED, "aborted before batch %d was fenced", m->batches);
		return;
	}
	if (reached && behind <= m->c->cfg->catchup_lag_ms) {
		step_fence(m);
		return;
	}
	if (now_mono_us() - m->catchup_noted >= 10 * 1000000LL) {
		m->catchup_noted = now_mono_us();
		tm_emit(m, "info", "batch %d: waiting for %s to come within %d ms of the source (%s%.0f ms behind)", m->batches,
		     m->target, m->c->cfg->catchup_lag_ms, reached ? "" : "more than ", behind);
	}
	if (now_mono_us() >= m->catchup_deadline) {
		tm_finish(m, TM_STOPPED, "batch %d: the target %s does not come within %d ms of the source (%s%.0f ms behind) in "
				      "%d ms: nothing of the batch was held; move it again once the target keeps up "
				      "(catchup_lag, catchup_timeout)", m->batches, m->target, m->c->cfg->catchup_lag_ms,
		       reached ? "" : "more than ", behind, m->c->cfg->catchup_timeout_ms);
		return;
	}
	db_run1(m->src, m->src_fl->sql[SQL_FENCE_POINT], tm_q_timeout(m), catchup_pos, m);
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
		tm_finish(m, TM_STOPPED, "batch %d: reading the source's position on %s: %s (nothing of the batch was held)",
		       m->batches, m->source, e);
		return;
	}
	m->catchup_t0 = now_mono_us();
	q = sql_quote(v);
	sql = xasprintf(m->dst_fl->sql[SQL_WAIT_GTID], q, 1.0);
	db_result_free(res);
	db_run1(m->dst, sql, 1000 + tm_q_timeout(m), catchup_waited, m);
	free(sql);
	free(q);
}

static void catchup(struct tenant_move *m)
{
	enter(m, ST_CATCHUP);
	m->catchup_deadline = now_mono_us() + (int64_t)m->c->cfg->catchup_timeout_ms * 1000;
	m->catchup_noted = now_mono_us();
	db_run1(m->src, m->src_fl->sql[SQL_FENCE_POINT], tm_q_timeout(m), catchup_pos, m);
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
		tm_finish(m, TM_STOPPED, "batch %d: %s (its tenants are routed as before)", m->batches, e);
		return;
	}
	if (m->abort_requested) {
		tm_finish(m, TM_STOPPED, "aborted before batch %d was fenced", m->batches);
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
	char *list = tm_batch_list(m, false), *tab = tm_probe_table(m), *q[2];
	char *sql = xasprintf("SELECT table_schema, table_name FROM information_schema.TABLES WHERE table_type = 'BASE TABLE' "
			      "AND table_schema IN (%s) ORDER BY table_schema, table_name", list);
	const char *hb = m->c->cfg->heartbeat_table, *dot = strchr(hb, '.');

	enter(m, ST_TABLES);
	q[0] = xasprintf("CREATE DATABASE IF NOT EXISTS `%.*s`", dot ? (int)(dot - hb) : 8, dot ? hb : "cutoverd");
	q[1] = xasprintf("CREATE TABLE IF NOT EXISTS %s (tenant VARCHAR(200) NOT NULL PRIMARY KEY, move_id VARCHAR(64) "
			 "NOT NULL, source VARCHAR(200) NOT NULL, moved_at DATETIME(6) NOT NULL)", tab);
	m->pending = 2;
	db_run1(m->src, sql, tm_q_timeout(m), tables_listed, m);
	db_run(m->dst, (const char *const *)q, 2, tm_q_timeout(m), probe_ready, m);
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
	if (tm_plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		tm_finish(m, TM_STOPPED, "preparing batch %d: %s (the tenants still go to %s)", m->batches, why, m->source);
		return;
	}
	db_result_free(res);
	for (i = 0; i < m->n_cur; i++)
		if (m->routes[m->cur[i]].where == TW_NEW)
			m->routes[m->cur[i]].where = TW_SOURCE;
	tm_emit(m, "ok", "batch %d: %s", m->batches, m->plan.note);
	tables(m);
}

void tm_batch_next(struct tenant_move *m)
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
		tm_finish(m, TM_DONE, NULL);
		return;
	}
	m->batches++;
	memset(m->step_us, 0, sizeof(m->step_us));
	m->n_kill = m->kill_next = 0;
	m->cut_waited[0] = '\0';
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
		tm_emit(m, "ok", "batch %d: %s", m->batches, list);
	}
	enter(m, ST_PREPARE);
	r = tm_batch_routes(m);
	psql_plan_free(&m->plan);
	psql_tenant_plan_prepare(r, m->n_cur, m->o.kind, &m->plan);
	free(r);
	if (tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o}", "phase", "prepare", "batch", m->batches, "tenants", names)) < 0) {
		tm_finish(m, TM_STOPPED, "the journal cannot record batch %d", m->batches);
		return;
	}
	if (!m->plan.n) {
		tables(m);
		return;
	}
	tm_run_plan(m, tm_q_timeout(m), prepared);
}

void tm_tick(evutil_socket_t fd, short what, void *arg)
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
		tm_finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
		return;
	}
	if (m->pause_requested) {
		m->state = TM_PAUSED;
		tm_jrnl(m, JE_PAUSED, NULL);
		tm_emit(m, "paused", "paused after batch %d: resume to go on", m->batches);
		return;
	}
	if (now_mono_us() < m->next_batch_us) {
		/* a line a minute through a long pause: the requester sees it is alive */
		int64_t left = (m->next_batch_us - now_mono_us()) / 1000;
		tm_emit(m, "info", "next batch in %lld s", (long long)(left + 999) / 1000);
		tm_arm(m, left < TM_NOTE_EVERY_MS ? (int)left + 1 : TM_NOTE_EVERY_MS);
		return;
	}
	tm_batch_next(m);
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
	tm_emit(m, "warn", "abort requested: %s", m->n_cur ? "the batch running rolls back unless it is being released"
							: "no further batch");
	if (m->step == ST_IDLE)   /* between batches (paused or waiting): it ends here */
		tm_finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
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
		tm_jrnl(m, JE_PAUSED, NULL);
	}
	tm_emit(m, m->state == TM_PAUSED ? "paused" : "ok", "pause: %s",
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
		tm_jrnl(m, JE_RESUMED, NULL);
		tm_emit(m, "ok", "resumed after batch %d", m->batches);
		tm_batch_next(m);
	}
	return 0;
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
