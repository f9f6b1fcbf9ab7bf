/* The ProxySQL driver: the admin interface (MySQL protocol, default 127.0.0.1:6032) through
 * one db.c connection per router.  Every step is a short chain of batches:
 *
 *   poll      runtime servers + connection pool + replication hostgroups + mysql_servers +
 *             our admin user in mysql_users → r->view
 *   drain     snapshot mysql_servers (the restore point) → old OFFLINE_SOFT, LOAD, read back
 *   promote   [snapshot if drain did not run] → old out of the writer hostgroup, new ONLINE
 *             in it, one LOAD, read back
 *   rollback  the snapshot's writer rows written back, LOAD, read back (no snapshot, e.g.
 *             after a restart: the old primary's drain undone, if it is drained)
 *   finalize  fresh snapshot → reader hostgroup changes, LOAD, SAVE … TO DISK, read back
 *
 * A read-back that does not show the change gets one more LOAD (ProxySQL issue #4750: the
 * first LOAD after some changes does not always reach runtime) and then fails the step.
 * The statements and those decisions live in proxysql_sql.c and proxysql_sql_switch.c; the
 * steps of a switchover in router_proxysql_switch.c. */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "proxysql_sql.h"
#include "router.h"
#include "router_proxysql_impl.h"
#include "util.h"

static int ps_open(struct router *r, char *err, size_t errlen);
static void ps_close(struct router *r);
static void ps_poll(struct router *r, router_cb cb, void *arg);

static void ps_target(struct router *r);
static void ps_kick_cb(evutil_socket_t fd, short what, void *arg);
static void ps_kick_run(struct router *r);
static void ps_db_done(struct db *db, struct db_result *res, void *arg);
static void ps_poll_start(struct router *r);
static void ps_poll_done(struct router *r, const struct db_result *res);

const struct router_ops router_proxysql_ops = {
	.type = "proxysql",
	.holds = true,
	.open = ps_open,
	.close = ps_close,
	.poll = ps_poll,
	.drain = ps_drain,
	.promote = ps_promote,
	.rollback = ps_rollback,
	.finalize = ps_finalize,
};

static int ps_open(struct router *r, char *err, size_t errlen)
{
	struct psql_endpoint ep;
	struct ps_priv *p;
	const char *addr = r->cfg->address ? r->cfg->address : "127.0.0.1";

	if (psql_parse_endpoint(addr, PSQL_DEFAULT_PORT, &ep) < 0) {
		snprintf(err, errlen, "proxysql router '%s': address '%s' is not HOST:PORT", r->cfg->name, addr);
		return -1;
	}
	if (r->cfg->writer_hostgroup < 0 || r->cfg->writer_hostgroup == r->cfg->reader_hostgroup) {
		snprintf(err, errlen, "proxysql router '%s': writer_hostgroup %d must be >= 0 and differ "
			 "from reader_hostgroup", r->cfg->name, r->cfg->writer_hostgroup);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	snprintf(p->label, sizeof(p->label), "proxysql router '%s'", r->cfg->name);
	p->db = db_new(r->base, p->label);
	p->kick = evtimer_new(r->base, ps_kick_cb, r);
	r->priv = p;
	ps_target(r);
	return 0;
}

static void ps_close(struct router *r)
{
	struct ps_priv *p = r->priv;
	size_t i;

	if (!p)
		return;
	db_free(p->db);
	event_free(p->kick);
	for (i = 0; i < p->nbatch; i++)
		free(p->batch[i]);
	free(p->batch);
	psql_plan_free(&p->plan);
	psql_snapshot_free(&p->snap);
	free(p->t_user);
	free_secret(p->t_pass);
	free(p);
	r->priv = NULL;
}

/* Give the connection the configured address and account, if they changed (a reload swaps
 * r->cfg); db_set_target closes an idle connection, so only when needed. */
static void ps_target(struct router *r)
{
	struct ps_priv *p = r->priv;
	const struct cfg_router *c = r->cfg;
	const char *user = c->user ? c->user : "", *pass = c->secret.password;
	struct psql_endpoint ep;
	struct db_target t;

	if (psql_parse_endpoint(c->address ? c->address : "127.0.0.1", PSQL_DEFAULT_PORT, &ep) < 0)
		return;   /* refused at open; a reload that broke it fails at connect */
	if (p->t_user && !strcmp(ep.host, p->t_ep.host) && ep.port == p->t_ep.port &&
	    !strcmp(user, p->t_user) && !strcmp(pass ? pass : "", p->t_pass ? p->t_pass : ""))
		return;
	p->t_ep = ep;
	free(p->t_user);
	free_secret(p->t_pass);
	p->t_user = xstrdup(user);
	p->t_pass = xstrdup(pass ? pass : "");
	memset(&t, 0, sizeof(t));
	t.host = p->t_ep.host;
	t.port = p->t_ep.port;
	t.user = user;
	t.password = pass;
	/* The admin interface rarely has TLS configured, and the router section has no TLS keys:
	 * the password goes as a scramble, not in clear. */
	t.tls_mode = TLS_DISABLED;
	db_set_target(p->db, &t, c->timeout_ms);
}

/* Start an operation from the loop, or refuse it (also from the loop) while another runs. */
bool ps_begin(struct router *r, enum router_step step, router_cb cb, void *arg, ps_fn start)
{
	struct ps_priv *p = r->priv;
	static const struct timeval now = { 0, 0 };

	if (!r->busy) {
		r->busy = true;
		p->cb = cb;
		p->arg = arg;
		p->step = step;
		p->retried = false;
		psql_plan_free(&p->plan);
		ps_target(r);
		p->kick_fn = start;
		evtimer_add(p->kick, &now);
		return true;
	}
	router_refuse_later(r, cb, arg, "proxysql router '%s': cannot %s, a %s is still running", r->cfg->name,
			    router_step_name(step), router_step_name(p->step));
	return false;
}

static void ps_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router *r = arg;
	struct ps_priv *p = r->priv;
	ps_fn fn = p->kick_fn;

	p->kick_fn = NULL;
	if (fn)
		fn(r);
}

/* End the operation; the driver is idle before the callback runs, so it may start another. */
void ps_done(struct router *r, int err, const char *fmt, ...)
{
	struct ps_priv *p = r->priv;
	router_cb cb = p->cb;
	void *arg = p->arg;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	psql_plan_free(&p->plan);
	p->cb = NULL;
	p->arg = NULL;
	r->busy = false;
	cb(r, err, msg, arg);
}

/* Run statements (copied) from the loop; next gets the result, which ps_db_done frees. */
void ps_run(struct router *r, const char *const *sql, size_t n, ps_next_fn next)
{
	struct ps_priv *p = r->priv;
	static const struct timeval now = { 0, 0 };
	size_t i;

	for (i = 0; i < p->nbatch; i++)
		free(p->batch[i]);
	free(p->batch);
	p->batch = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		p->batch[i] = xstrdup(sql[i]);
	p->nbatch = n;
	p->next = next;
	p->kick_fn = ps_kick_run;
	evtimer_add(p->kick, &now);
}

static void ps_kick_run(struct router *r)
{
	struct ps_priv *p = r->priv;

	if (db_run(p->db, (const char *const *)p->batch, p->nbatch, r->cfg->timeout_ms, ps_db_done, r) < 0)
		ps_done(r, 1, "%s: the admin connection is busy with another batch", p->label);
}

static void ps_db_done(struct db *db, struct db_result *res, void *arg)
{
	struct router *r = arg;
	struct ps_priv *p = r->priv;
	ps_next_fn next = p->next;

	p->next = NULL;
	next(r, res);
	db_result_free(res);
}

/* "proxysql router 'p' (127.0.0.1:6032): LOAD MYSQL SERVERS TO RUNTIME: <error>" */
void ps_db_error(struct router *r, const struct db_result *res, char *buf, size_t len)
{
	struct ps_priv *p = r->priv;
	const char *stmt = res->failed < p->nbatch ? p->batch[res->failed] : "";

	/* Server errors (1000-1999) answer a statement; the rest are about the connection. */
	if (res->err >= 1000 && res->err < 2000)
		snprintf(buf, len, "proxysql router '%s' (%.100s:%d): '%.160s' failed: %.300s (%d)", r->cfg->name,
			 p->t_ep.host, p->t_ep.port, stmt, res->errmsg, res->err);
	else
		snprintf(buf, len, "proxysql router '%s' (%.100s:%d): %.300s (during '%.160s')", r->cfg->name,
			 p->t_ep.host, p->t_ep.port, res->errmsg, stmt);
}

static void ps_poll(struct router *r, router_cb cb, void *arg)
{
	ps_begin(r, RSTEP_STATUS, cb, arg, ps_poll_start);
}

static void ps_poll_start(struct router *r)
{
	const char *sql[] = { PSQL_SQL_RUNTIME_SERVERS, PSQL_SQL_POOL, PSQL_SQL_REPL_HOSTGROUPS,
			      PSQL_SQL_CONFIG_SERVERS, NULL, PSQL_SQL_ERRORS, PSQL_SQL_LATENCY };
	char *users = psql_admin_user_sql(r->cfg->user);

	sql[4] = users;
	ps_run(r, sql, 7, ps_poll_done);
	free(users);
}

/* ProxySQL answers an admin login whose user is also a mysql_users name with plain "Access
 * denied": say what else it may mean. */
static void ps_login_hint(struct router *r, const struct db_result *res, char *why, size_t len)
{
	struct ps_priv *p = r->priv;
	const char *u = r->cfg->user ? r->cfg->user : "";

	if (res->err != 1045)
		return;
	snprintf(why, len, "proxysql router '%s' (%.100s:%d): ProxySQL refused the admin login of '%s' (1045, "
		 "access denied): check its password, and that '%s' is not also a mysql_users name (ProxySQL "
		 "refuses an admin login with such a name)", r->cfg->name, p->t_ep.host, p->t_ep.port, u, u);
}

static void ps_poll_done(struct router *r, const struct db_result *res)
{
	struct router_view *v = &r->view;
	char why[768];

	if (res->err) {
		ps_db_error(r, res, why, sizeof(why));
		ps_login_hint(r, res, why, sizeof(why));
		/* A server error (1000-1999) came from ProxySQL itself, but a refused login is no
		 * way in: unreachable for what cutoverd needs. */
		v->reachable = res->err >= 1000 && res->err < 2000 && res->err != 1045;
		v->n = 0;
		strlcpy_(v->error, why, sizeof(v->error));
		ps_done(r, 1, "%s", why);
		return;
	}
	v->reachable = true;
	if (res->n < 3 || psql_parse_view(res->rs[0], res->rs[1], res->rs[2], r->cfg, v, v->error,
					  sizeof(v->error)) < 0) {
		if (res->n < 3)
			snprintf(v->error, sizeof(v->error), "%zu of 3 results", res->n);
		ps_done(r, 1, "proxysql router '%s': %s", r->cfg->name, v->error);
		return;
	}
	psql_view_checks(res->rs[0], res->n > 3 ? res->rs[3] : NULL, res->n > 4 ? res->rs[4] : NULL, r->cfg, v);
	psql_parse_counters(res->rs[1], res->n > 5 ? res->rs[5] : NULL, res->n > 6 ? res->rs[6] : NULL, v);
	v->polled_ms = now_mono_ms();
	ps_done(r, 0, "proxysql router '%s': %zu servers in hostgroups %d/%d", r->cfg->name, v->n,
		r->cfg->writer_hostgroup, r->cfg->reader_hostgroup);
}

struct db *psql_admin_db(struct event_base *base, const struct cfg_router *c, const char *label, int connect_timeout_ms)
{
	struct psql_endpoint ep;
	struct db_target t;
	struct db *db;

	if (psql_parse_endpoint(c->address ? c->address : "127.0.0.1", PSQL_DEFAULT_PORT, &ep) < 0)
		return NULL;
	memset(&t, 0, sizeof(t));
	t.host = ep.host;
	t.port = ep.port;
	t.user = c->user ? c->user : "";
	t.password = c->secret.password;
	t.tls_mode = TLS_DISABLED;   /* as ps_target: the admin interface rarely has TLS */
	db = db_new(base, label);
	db_set_target(db, &t, connect_timeout_ms);
	return db;
}
