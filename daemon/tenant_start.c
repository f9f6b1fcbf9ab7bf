/* Per-tenant cutovers: the checks before anything changes, and the start (see tenant.h). */
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
	list = tm_batch_list(m, false);
	m->n_cur = saved_n;
	q1 = xasprintf("SELECT schema_name FROM information_schema.SCHEMATA WHERE schema_name IN (%s)", list);
	sq[0] = q1;
	sq[1] = m->src_fl->sql[SQL_FENCE_POINT];
	dq[0] = m->dst_fl->sql[SQL_REPLICA_STATUS];
	dq[1] = m->dst_fl->sql[SQL_GTID_DOMAIN];
	dq[2] = q1;
	m->pending += 2;
	db_run(m->src, sq, 2, tm_q_timeout(m), check_src, m);
	db_run(m->dst, dq, 3, tm_q_timeout(m), check_dst, m);
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
			struct log_ctx ctx = { m->c->cfg->name, NULL, "tenant", m->id };
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
	if (tm_jrnl(m, JE_BEGIN, json_pack("{s:o, s:s, s:s, s:i, s:i, s:b, s:i}", "tenants", list, "by",
					m->o.kind == TENANT_SCHEMA ? "schema" : "user", "router", m->router, "batch",
					m->o.batch, "pause_ms", m->o.pause_ms, "continue_on_failure",
					m->o.continue_on_failure, "max_blocked_ms", m->o.max_blocked_ms)) < 0) {
		tm_finish(m, TM_STOPPED, "the journal cannot record the start: nothing was changed");
		return;
	}
	tm_emit(m, "ok", "tenant move %s: %zu tenant%s (%zu already on %s) from %s to %s through router %s, %d per batch", m->id,
	     m->n, m->n == 1 ? "" : "s", tm_count_outcome(m, TT_SKIPPED), m->target, m->source, m->target, m->router, m->o.batch);
	for (i = 0; i < m->n; i++)
		if (m->t[i].outcome == TT_SKIPPED)
			tm_emit(m, "info", "tenant %s: already on %s (hostgroup %d)", m->t[i].name, m->target, m->routes[i].hostgroup);
	tm_batch_next(m);
}

/* ------------------------------------------------------------------------------------------ */
/* start */

struct tenant_move *tm_move_new(struct daemon *d, struct cluster *c, const char *target, const char *source,
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
	m->timer = evtimer_new(d->base, tm_tick, m);
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
	r = router_pick_proxysql(c->routers, c->n_routers, c->cfg->name, o->router,
				 "tenants move through ProxySQL's query rules", err, errlen);
	if (!r)
		return -1;
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
	m = tm_move_new(d, c, o->to, src->cfg->name, r->cfg->name, o->n, err, errlen);
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
	db_set_acts(m->adm);
	db_set_acts(m->src);
	db_set_acts(m->dst);
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
		db_run(m->adm, aq, m->o.kind == TENANT_USER ? 3 : 2, tm_q_timeout(m), check_adm, m);
		free(snap);
	}
	return 0;
}
