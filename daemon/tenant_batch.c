/* Per-tenant cutovers: a batch from its start to its fence (prepare, tables, catch-up), the
 * timer, the end of a batch, and the helpers the steps share (see tenant.h). */
#include "tenant_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void catchup(struct tenant_move *m);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* A step of the batch begins (its first time: the killed sessions are looked at again and again). */
void tm_enter(struct tenant_move *m, enum tm_step st)
{
	m->step = st;
	if (st < ST_IDLE && !m->step_us[st])
		m->step_us[st] = now_mono_us();
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

/* The batch's routes, in cur[] order, copied into a temporary array for the plan builders. */
struct tenant_route *tm_batch_routes(const struct tenant_move *m)
{
	struct tenant_route *r = xcalloc(m->n_cur ? m->n_cur : 1, sizeof(*r));
	size_t i;
	for (i = 0; i < m->n_cur; i++)
		r[i] = m->routes[m->cur[i]];
	return r;   /* shallow: the comments stay m->routes' */
}

json_t *tm_batch_names(const struct tenant_move *m, int which)   /* -1 all, 1 passed, 0 failed */
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
/* catch-up, tables, prepare */

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
		tm_step_fence(m);
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
	tm_enter(m, ST_CATCHUP);
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

	tm_enter(m, ST_TABLES);
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
	names = tm_batch_names(m, -1);
	{
		char list[600] = "";
		size_t used = 0;
		for (i = 0; i < m->n_cur && used + 1 < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", m->t[m->cur[i]].name);
		tm_emit(m, "ok", "batch %d: %s", m->batches, list);
	}
	tm_enter(m, ST_PREPARE);
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
		tm_cut(m);
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
/* the end of a batch */

/* The batch is over (each tenant moved or rolled back): the next, after the pause. */
void tm_batch_done(struct tenant_move *m)
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
