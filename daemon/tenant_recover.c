/* Per-tenant cutovers after a restart: an interrupted batch settled from ProxySQL's runtime
 * (see tenant.h). */
#include "tenant_impl.h"
#include "shift.h"
#include "topology.h"
#include "switchover.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* after a restart */

static void recovered(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	char why[800];
	size_t i;

	(void)db;
	if (tm_plan_failed(m, res, why, sizeof(why))) {
		db_result_free(res);
		tm_finish(m, TM_FAILED, "%s during batch %d and cannot put its tenants right (%s): check their "
				     "hostgroups in router %s by hand", recovery_cause(m->d), m->batches, why, m->router);
		return;
	}
	db_result_free(res);
	for (i = 0; i < m->n_cur; i++)
		m->t[m->cur[i]].outcome = m->pass[i] ? TT_MOVED : TT_ROLLED_BACK;
	tm_finish(m, TM_STOPPED, "%s during batch %d: %zu of its tenants had reached %s and stay there, the "
			      "others are back on %s; the move stops here", recovery_cause(m->d), m->batches,
		  tm_count_outcome(m, TT_MOVED), m->target, m->source);
}

static void recover_read(struct db *db, struct db_result *res, void *arg)
{
	struct tenant_move *m = arg;
	struct tenant_route *r;
	char err[400];

	(void)db;
	if (res->err || !res->n) {
		tm_finish(m, TM_FAILED, "%s during batch %d and router %s cannot be read (%s): its tenants may "
				     "be held; check their hostgroups by hand", recovery_cause(m->d), m->batches, m->router,
		       res->err ? res->errmsg : "no rows");
		db_result_free(res);
		return;
	}
	r = tm_batch_routes(m);
	if (psql_tenant_settled(res->rs[0], r, m->n_cur, &m->dst_ep, m->pass, err, sizeof(err)) < 0) {
		free(r);
		db_result_free(res);
		tm_finish(m, TM_FAILED, "%s during batch %d: %s", recovery_cause(m->d), m->batches, err);
		return;
	}
	db_result_free(res);
	psql_plan_free(&m->plan);
	psql_tenant_plan_release(r, m->n_cur, m->pass, &m->dst_ep, true, &m->plan);
	free(r);
	tm_run_plan(m, tm_q_timeout(m), recovered);
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
	m = tm_move_new(d, c, json_string_value(json_object_get(first, "new")) ?: "?",
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
		tm_finish(m, TM_STOPPED, "%s during the move, between batches: the tenants moved so far stay "
				      "moved; move the others again", recovery_cause(m->d));
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
	if (r && (m->adm = psql_admin_db(d->base, r->cfg, "tenant move", d->cfg->connect_timeout_ms)))
		db_set_acts(m->adm);
	if (!r || !m->adm) {
		tm_finish(m, TM_FAILED, "%s during batch %d and router %s is no longer configured: its tenants "
				     "may be held; check their hostgroups by hand", recovery_cause(m->d), m->batches, m->router);
		return;
	}
	tm_emit(m, "warn", "%s during batch %d of tenant move %s: settling its %zu tenants from router %s's "
			"runtime", recovery_cause(m->d), m->batches, m->id, m->n_cur, m->router);
	m->step = ST_RELEASE;
	db_run1(m->adm, PSQL_SQL_RUNTIME_SERVERS, tm_q_timeout(m), recover_read, m);
}

void tenant_recover(struct daemon *d, struct cluster *c, const json_t *by)
{
	size_t k;
	json_t *x, *last = NULL;

	json_array_foreach(by, k, x) {
		const char *kind = json_string_value(json_object_get(json_array_get(json_object_get(x, "entries"), 0), "kind"));
		if (kind && !strcmp(kind, "tenant_move"))
			last = x;
	}
	if (last)
		recover_one(d, c, last);
}

/* ------------------------------------------------------------------------------------------ */
/* with [ha], when this member stops leading */

void tenant_handover(struct daemon *d, struct cluster *c, const char *why)
{
	struct tenant_move *m = c->tenants;

	(void)d;
	if (!tenant_active(m))
		return;
	/* nothing is undone here: the leader settles the batch from ProxySQL's runtime, as after a restart */
	tm_jrnl(m, JE_HANDED_OVER, json_pack("{s:s}", "reason", why));
	tm_emit(m, "fail", "tenant move %s: this member stopped leading (%s); the leader settles it", m->id, why);
	client_finish_err(&m->cl, m->req_id, ERR_NOT_LEADER,
			  "this member stopped leading during tenant move %s (%s): the leader settles it from etcd's "
			  "journal",
			  m->id, why);
	tenant_free(m);
	c->tenants = NULL;
}
