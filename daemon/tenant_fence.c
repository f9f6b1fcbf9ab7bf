/* Per-tenant cutovers: a batch's changes in ProxySQL — the fence, the release, the whole
 * batch back (undo), and a failed release set right from runtime (see tenant.h). */
#include "tenant_impl.h"
#include "ha.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* plans */

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

static void plan_now(struct tenant_move *m)
{
	const struct psql_plan *p = m->wait.p;

	db_run(m->adm, (const char *const *)p->sql, m->wait.head ? p->n - 1 : p->n, m->wait.timeout_ms, m->wait.fn, m);
}

static void plan_recorded(void *arg, bool ok, const char *why)
{
	struct tenant_move *m = arg;

	(void)why;
	m->wait.on = false;
	if (ok)   /* else this member stopped leading: tenant_handover has it */
		plan_now(m);
}

/* The router changes once the journal has what is done, with [ha] in etcd too (ha.h). */
static void run_recorded(struct tenant_move *m, const struct psql_plan *p, bool head, int timeout_ms, db_done_fn fn)
{
	m->wait.p = p;
	m->wait.head = head;
	m->wait.timeout_ms = timeout_ms;
	m->wait.fn = fn;
	if (m->wait.on)
		return;   /* the one waiting runs this plan in its place */
	if (ha_journal_wait(m->d->ha, plan_recorded, m))
		m->wait.on = true;
	else
		plan_now(m);
}

void tm_run_plan(struct tenant_move *m, int timeout_ms, db_done_fn fn)
{
	run_recorded(m, &m->plan, false, timeout_ms, fn);
}

/* A plan up to its LOAD (clients see the change when that answers), and then its read-back of
 * runtime_mysql_servers (the last statement) on its own. */
static void run_head(struct tenant_move *m, const struct psql_plan *p, int timeout_ms, db_done_fn fn)
{
	run_recorded(m, p, true, timeout_ms, fn);
}

static void run_tail(struct tenant_move *m, const struct psql_plan *p, int timeout_ms, db_done_fn fn)
{
	db_run1(m->adm, p->sql[p->n - 1], timeout_ms, fn, m);
}

/* ------------------------------------------------------------------------------------------ */
/* fence */

/* The fence's read-back: runtime has the source OFFLINE_SOFT in every hostgroup of the batch. */
static void fence_checked(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];

	(void)db;
	if (plan_failed_p(m, &m->fplan, res, why, sizeof(why))) {
		db_result_free(res);
		tm_batch_undo(m, "the fence did not take: %s", why);
		return;
	}
	db_result_free(res);
	m->fence_ok = true;
	if (m->release_waiting) {
		m->release_waiting = false;
		tm_release(m);
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
		tm_batch_undo(m, "the fence: %s", e);
		return;
	}
	db_result_free(res);
	tm_emit(m, "ok", "batch %d fenced: %s", m->batches, m->fplan.note);
	run_tail(m, &m->fplan, tm_q_timeout(m), fence_checked);
	if (m->step != ST_FENCE)
		return;   /* the read-back answered at once, and disagreed: the batch is being undone */
	if (m->abort_requested) {
		tm_batch_undo(m, "aborted");
		return;
	}
	tm_cut(m);
}

void tm_step_fence(struct tenant_move *m)
{
	struct tenant_route *r = tm_batch_routes(m);

	tm_enter(m, ST_FENCE);
	psql_plan_free(&m->fplan);
	psql_tenant_plan_fence(r, m->n_cur, &m->fplan);
	free(r);
	m->fence_ok = m->release_waiting = false;
	if (tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:{s:s, s:i}, s:{s:s, s:i}}", "phase", "fence", "batch",
					m->batches, "tenants", tm_batch_names(m, -1), "src", "host", m->src_ep.host, "port",
					m->src_ep.port, "dst", "host", m->dst_ep.host, "port", m->dst_ep.port)) < 0) {
		tm_finish(m, TM_STOPPED, "the journal cannot record the fence of batch %d: nothing of it was changed", m->batches);
		return;
	}
	m->fence_us = now_mono_us();
	m->deadline_us = m->fence_us + (int64_t)m->o.max_blocked_ms * 1000;
	run_head(m, &m->fplan, m->o.max_blocked_ms + TM_STEP_SLACK_MS, fenced);
}

/* ------------------------------------------------------------------------------------------ */
/* release (and undo) */

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
				    tm_batch_names(m, 1), "back", tm_batch_names(m, 0), "write_blocked_ms", blocked, "steps_ms", times));
	for (i = 0; i < m->n_cur; i++) {
		struct tm_tenant *t = &m->t[m->cur[i]];
		if (t->outcome == TT_MOVED)
			tm_emit(m, "ok", "tenant %s moved to %s: writes held %.1f ms, %lld rows on both sides", t->name, m->target,
			     blocked, t->rows_src);
		else
			tm_emit(m, "fail", "tenant %s rolled back to %s (held %.1f ms): %s", t->name, m->source, blocked,
			     t->reason ? t->reason : "?");
	}
	tm_batch_done(m);
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

void tm_release(struct tenant_move *m)
{
	struct tenant_route *r;

	if (!m->fence_ok) {
		m->release_waiting = true;   /* the fence's read-back is still out (fence_checked) */
		return;
	}
	r = tm_batch_routes(m);
	tm_enter(m, ST_RELEASE);
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, false, &m->plan);
	free(r);
	if (tm_jrnl(m, JE_PHASE, json_pack("{s:s, s:i, s:o, s:o}", "phase", "release", "batch", m->batches, "moved",
					tm_batch_names(m, 1), "back", tm_batch_names(m, 0))) < 0) {
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
void tm_batch_undo(struct tenant_move *m, const char *fmt, ...)
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
	tm_release(m);
}
