/* Per-tenant cutovers: what runs while a batch is fenced — its sessions on the source cut,
 * the target synced to the source's position, the rows counted, the probe write (see tenant.h). */
#include "tenant_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void kill_rest(struct tenant_move *m);

/* ------------------------------------------------------------------------------------------ */
/* helpers */

/* Inside the fence: what is left of max_blocked_ms (at least 1 ms). */
static int left_ms(const struct tenant_move *m)
{
	int64_t left = (m->deadline_us - now_mono_us()) / 1000;
	return left < 1 ? 1 : (int)left;
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
		tm_batch_undo(m, "the probe write on %s failed: %s", m->target, e);
		return;
	}
	db_result_free(res);
	if (m->abort_requested) {
		tm_batch_undo(m, "aborted");
		return;
	}
	tm_release(m);
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

	tm_enter(m, ST_PROBE);
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
		tm_release(m);
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
		tm_batch_undo(m, "aborted");
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
		tm_batch_undo(m, "%s", e);
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

	tm_enter(m, ST_VERIFY);
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
		tm_batch_undo(m, "%s waiting for the source's position %s: %s", m->target, m->fence_pos ? m->fence_pos : "?", e);
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
		tm_batch_undo(m, "reading the source's GTID position on %s: %s", m->source, e);
		return;
	}
	free(m->fence_pos);
	m->fence_pos = xstrdup(v);
	db_result_free(res);
	tm_enter(m, ST_SYNC);
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
		tm_batch_undo(m, "killing the tenants' sessions on %s: %s", m->source, e);
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
		tm_batch_undo(m, "listing the tenants' sessions on %s: %s", m->source, e);
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
		tm_batch_undo(m, "%zu session%s of the tenants on %s still there after %d ms", left, left == 1 ? "" : "s",
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

void tm_cut(struct tenant_move *m)
{
	bool users = m->o.kind == TENANT_USER;
	char *list = tm_batch_list(m, users), *sql = xasprintf(m->src_fl->sql[SQL_TENANT_SESSIONS], users ? "user" : "db", list);

	tm_enter(m, ST_CUT);
	db_run1(m->src, sql, left_ms(m), sessions_listed, m);
	free(sql);
	free(list);
}
