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
 * The statements and those decisions live in proxysql_sql.c. */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "proxysql_sql.h"
#include "router.h"
#include "util.h"

typedef void (*ps_fn)(struct router *r);
typedef void (*ps_next_fn)(struct router *r, const struct db_result *res);

struct ps_priv {
	struct db *db;
	char label[160];
	/* What the connection was given, to notice a reload that changes it. */
	struct psql_endpoint t_ep;
	char *t_user, *t_pass;      /* owned; t_pass wiped */

	struct event *kick;         /* zero timeout: runs kick_fn from the loop */
	ps_fn kick_fn;
	char **batch;               /* owned: the statements of the running batch */
	size_t nbatch;
	ps_next_fn next;

	/* The operation. */
	router_cb cb;
	void *arg;
	enum router_step step;
	char old_name[64], new_name[64];
	char id[64];                /* the switchover's id, "" if none */
	struct psql_endpoint old, new_;
	struct psql_plan plan;
	bool retried;
	int defer_err;
	char defer_msg[512];

	/* The restore point: mysql_servers as drain (or promote) found it, for this switchover. */
	bool have_snap;
	struct psql_snapshot snap;
	struct psql_endpoint snap_old, snap_new;
	char snap_id[64];
	bool monitor;               /* the last snapshot found mysql_replication_hostgroups for us */
	int64_t settle_end_ms;      /* drain: how long to wait for queries already sent to the old primary */
	int64_t settle_start_ms;

};

static int ps_open(struct router *r, char *err, size_t errlen);
static void ps_close(struct router *r);
static void ps_poll(struct router *r, router_cb cb, void *arg);
static void ps_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void ps_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void ps_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void ps_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

static void ps_target(struct router *r);
static bool ps_begin(struct router *r, enum router_step step, router_cb cb, void *arg, ps_fn start);
static void ps_kick_cb(evutil_socket_t fd, short what, void *arg);
static void ps_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ps_deferred_done(struct router *r);
static int ps_endpoints(struct router *r, const struct router_switch *sw);
static void ps_run(struct router *r, const char *const *sql, size_t n, ps_next_fn next);
static void ps_kick_run(struct router *r);
static void ps_db_done(struct db *db, struct db_result *res, void *arg);
static void ps_db_error(struct router *r, const struct db_result *res, char *buf, size_t len);
static bool ps_same_pair(const struct ps_priv *p);
static int ps_take_snapshot(struct router *r, const struct db_result *res, struct psql_snapshot *s);
static void ps_keep_snapshot(struct ps_priv *p, struct psql_snapshot *s);
static void ps_snapshot(struct router *r, ps_next_fn next);
static void ps_forget(struct ps_priv *p);
static void ps_apply(struct router *r);
static void ps_apply_done(struct router *r, const struct db_result *res);
static void ps_settle(struct router *r);
static void ps_settle_done(struct router *r, const struct db_result *res);
static void ps_poll_start(struct router *r);
static void ps_poll_done(struct router *r, const struct db_result *res);
static void ps_drain_snap(struct router *r, const struct db_result *res);
static void ps_promote_snap(struct router *r, const struct db_result *res);
static void ps_promote_plan(struct router *r);
static void ps_rollback_start(struct router *r);
static void ps_undrain_snap(struct router *r, const struct db_result *res);
static void ps_finalize_snap(struct router *r, const struct db_result *res);

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
static bool ps_begin(struct router *r, enum router_step step, router_cb cb, void *arg, ps_fn start)
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
static void ps_done(struct router *r, int err, const char *fmt, ...)
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

static void ps_deferred_done(struct router *r)
{
	struct ps_priv *p = r->priv;

	ps_done(r, p->defer_err, "%s", p->defer_msg);
}

static int ps_endpoints(struct router *r, const struct router_switch *sw);

/* The switch's endpoints, or the operation fails (reported from the loop); false then. */
static bool ps_endpoints_or_fail(struct router *r, const struct router_switch *sw)
{
	struct ps_priv *p = r->priv;

	if (ps_endpoints(r, sw) == 0)
		return true;
	p->defer_err = 1;
	p->kick_fn = ps_deferred_done;
	return false;
}

/* ProxySQL's "host:port" of the switch's servers, into p->old / p->new_. */
static int ps_endpoints(struct router *r, const struct router_switch *sw)
{
	struct ps_priv *p = r->priv;
	const struct cfg_server *s[2] = { sw->old_primary, sw->new_primary };
	struct psql_endpoint *ep[2] = { &p->old, &p->new_ };
	char *name[2] = { p->old_name, p->new_name };
	int i;

	for (i = 0; i < 2; i++) {
		const char *n = s[i] ? psql_name_of(r->cfg, s[i]->name) : NULL;

		if (!s[i]) {
			snprintf(p->defer_msg, sizeof(p->defer_msg), "proxysql router '%s': no %s primary given",
				 r->cfg->name, i ? "new" : "old");
			return -1;
		}
		if (!n) {
			snprintf(p->defer_msg, sizeof(p->defer_msg), "proxysql router '%s': server '%s' has "
				 "no ProxySQL host:port (not in cluster '%s' or the server_map)", r->cfg->name,
				 s[i]->name, r->cfg->cluster);
			return -1;
		}
		if (psql_parse_endpoint(n, 0, ep[i]) < 0) {
			snprintf(p->defer_msg, sizeof(p->defer_msg), "proxysql router '%s': server '%s': "
				 "'%s' is not host:port", r->cfg->name, s[i]->name, n);
			return -1;
		}
		strlcpy_(name[i], s[i]->name, sizeof(p->old_name));
	}
	strlcpy_(p->id, sw->id ? sw->id : "", sizeof(p->id));
	return 0;
}

/* Run statements (copied) from the loop; next gets the result, which ps_db_done frees. */
static void ps_run(struct router *r, const char *const *sql, size_t n, ps_next_fn next)
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
static void ps_db_error(struct router *r, const struct db_result *res, char *buf, size_t len)
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

/* Whether the restore point was taken by this switchover for this pair: a retried step must
 * not take its own half-done change as what to restore. */
static bool ps_same_pair(const struct ps_priv *p)
{
	return p->have_snap && p->id[0] && !strcmp(p->id, p->snap_id) &&
	       p->snap_old.port == p->old.port && !strcmp(p->snap_old.host, p->old.host) &&
	       p->snap_new.port == p->new_.port && !strcmp(p->snap_new.host, p->new_.host);
}

static void ps_snapshot(struct router *r, ps_next_fn next)
{
	char *sql[2];

	sql[0] = psql_snapshot_sql_router(r->cfg);
	sql[1] = xstrdup(PSQL_SQL_REPL_HOSTGROUPS);
	ps_run(r, (const char *const *)sql, 2, next);
	free(sql[0]);
	free(sql[1]);
}

static void ps_forget(struct ps_priv *p)
{
	psql_snapshot_free(&p->snap);
	p->have_snap = false;
}

/* Run p->plan; on a read-back that does not match, LOAD and read once more. */
static void ps_apply(struct router *r)
{
	struct ps_priv *p = r->priv;

	ps_run(r, (const char *const *)p->plan.sql, p->plan.n, ps_apply_done);
}

static void ps_apply_done(struct router *r, const struct db_result *res)
{
	static const char *const again[] = { PSQL_SQL_LOAD, PSQL_SQL_RUNTIME_SERVERS };
	struct ps_priv *p = r->priv;
	char why[768];

	if (res->err) {
		ps_db_error(r, res, why, sizeof(why));
		ps_done(r, 1, "%s", why);
		return;
	}
	if (p->plan.nexp == 0 ||
	    psql_check_runtime(res->n ? res->rs[res->n - 1] : NULL, p->plan.exp, p->plan.nexp,
			       why, sizeof(why)) == 0) {
		if (p->step == RSTEP_ROLLBACK || p->step == RSTEP_FINALIZE)
			ps_forget(p);
		if (p->step == RSTEP_DRAIN && p->plan.n > 0) {
			p->settle_start_ms = now_mono_ms();
			p->settle_end_ms = p->settle_start_ms + PSQL_SETTLE_MS;
			ps_settle(r);
			return;
		}
		ps_done(r, 0, "proxysql router '%s': %s%s", r->cfg->name, p->plan.note,
			p->retried ? " (after a second LOAD)" : "");
		return;
	}
	if (!p->retried) {
		struct log_ctx ctx = { .cluster = r->cfg->cluster, .phase = router_step_name(p->step) };

		log_ctx(LOG_WARNING, &ctx, "proxysql router '%s': runtime_mysql_servers does not show "
			"the change yet (%s); loading again", r->cfg->name, why);
		p->retried = true;
		ps_run(r, again, 2, ps_apply_done);
		return;
	}
	ps_done(r, 1, "proxysql router '%s': after %s and two LOAD MYSQL SERVERS TO RUNTIME, "
		"runtime_mysql_servers does not match: %s", r->cfg->name, router_step_name(p->step), why);
}

/* The drain is done for new queries, but ProxySQL may have sent some to the old primary just
 * before the LOAD: the fence right after would fail them (read_only).  Wait, briefly, until
 * none is running there; idle pinned sessions ("Sleep") are the fence's to cut. */
static void ps_settle(struct router *r)
{
	struct ps_priv *p = r->priv;
	char *sql = psql_in_flight_sql(&p->old);
	const char *q[1] = { sql };

	ps_run(r, q, 1, ps_settle_done);
	free(sql);
}

static void ps_settle_done(struct router *r, const struct db_result *res)
{
	struct ps_priv *p = r->priv;
	long long n = -1;
	int64_t now = now_mono_ms();

	if (!res->err && res->n > 0)
		psql_num(res->rs[0], 0, 0, 0, 1LL << 40, &n);
	if (n > 0 && now < p->settle_end_ms) {
		ps_settle(r);
		return;
	}
	ps_done(r, 0, "proxysql router '%s': %s%s; %s after %lld ms", r->cfg->name, p->plan.note,
		p->retried ? " (after a second LOAD)" : "",
		n == 0 ? "no query left running there" : n > 0 ? "queries still running there at the limit"
		: "could not count the queries running there", (long long)(now - p->settle_start_ms));
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

/* Take p->snap from a snapshot result; -1 (step ended) if it failed. */
static int ps_take_snapshot(struct router *r, const struct db_result *res, struct psql_snapshot *s)
{
	char why[768];

	if (res->err) {
		ps_db_error(r, res, why, sizeof(why));
		ps_done(r, 1, "%s", why);
		return -1;
	}
	if (res->n < 1 || psql_parse_snapshot(res->rs[0], s, why, sizeof(why)) < 0) {
		ps_done(r, 1, "proxysql router '%s': reading mysql_servers: %s", r->cfg->name,
			res->n < 1 ? "no result" : why);
		return -1;
	}
	((struct ps_priv *)r->priv)->monitor = res->n > 1 && psql_auto_failover(res->rs[1], r->cfg->writer_hostgroup);
	return 0;
}

static void ps_keep_snapshot(struct ps_priv *p, struct psql_snapshot *s)
{
	ps_forget(p);
	p->snap = *s;
	p->snap_old = p->old;
	p->snap_new = p->new_;
	strlcpy_(p->snap_id, p->id, sizeof(p->snap_id));
	p->have_snap = true;
}

static void ps_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct ps_priv *p = r->priv;

	if (!ps_begin(r, RSTEP_DRAIN, cb, arg, NULL))
		return;
	if (!ps_endpoints_or_fail(r, sw))
		return;
	p->kick_fn = NULL;
	ps_snapshot(r, ps_drain_snap);
}

static void ps_drain_snap(struct router *r, const struct db_result *res)
{
	struct ps_priv *p = r->priv;
	struct psql_snapshot s;
	char why[512];

	if (ps_take_snapshot(r, res, &s) < 0)
		return;
	if (!ps_same_pair(p))
		ps_keep_snapshot(p, &s);
	else
		psql_snapshot_free(&s);
	/* Plan from the restore point: drain is relative to what the switch started from. */
	if (psql_plan_drain(r->cfg, &p->snap, &p->old, p->monitor, &p->plan, why, sizeof(why)) < 0) {
		ps_done(r, 1, "proxysql router '%s': %s", r->cfg->name, why);
		return;
	}
	ps_apply(r);
}

static void ps_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct ps_priv *p = r->priv;

	if (!ps_begin(r, RSTEP_PROMOTE, cb, arg, NULL))
		return;
	if (!ps_endpoints_or_fail(r, sw))
		return;
	if (ps_same_pair(p)) {
		p->kick_fn = ps_promote_plan;
		return;
	}
	p->kick_fn = NULL;
	ps_snapshot(r, ps_promote_snap);
}

static void ps_promote_snap(struct router *r, const struct db_result *res)
{
	struct psql_snapshot s;

	if (ps_take_snapshot(r, res, &s) < 0)
		return;
	ps_keep_snapshot(r->priv, &s);
	ps_promote_plan(r);
}

static void ps_promote_plan(struct router *r)
{
	struct ps_priv *p = r->priv;
	char why[512];

	if (psql_plan_promote(r->cfg, &p->snap, &p->old, &p->new_, p->monitor, &p->plan, why, sizeof(why)) < 0) {
		ps_done(r, 1, "proxysql router '%s': %s", r->cfg->name, why);
		return;
	}
	ps_apply(r);
}

static void ps_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct ps_priv *p = r->priv;

	if (!ps_begin(r, RSTEP_ROLLBACK, cb, arg, NULL))
		return;
	if (p->have_snap) {
		p->kick_fn = ps_rollback_start;
		return;
	}
	/* No restore point: nothing ran here, or cutoverd restarted after a drain (recovery rolls
	 * back only switchovers interrupted before promote).  Look, and undo a drain. */
	if (!ps_endpoints_or_fail(r, sw))
		return;
	p->kick_fn = NULL;
	ps_snapshot(r, ps_undrain_snap);
}

static void ps_undrain_snap(struct router *r, const struct db_result *res)
{
	struct ps_priv *p = r->priv;
	struct psql_snapshot now;
	char why[512];
	int rc;

	if (ps_take_snapshot(r, res, &now) < 0)
		return;
	rc = psql_plan_undrain(r->cfg, &now, &p->old, &p->plan, why, sizeof(why));
	psql_snapshot_free(&now);
	if (rc < 0 || p->plan.n == 0) {
		ps_done(r, rc < 0, "proxysql router '%s': %s", r->cfg->name, rc < 0 ? why : p->plan.note);
		return;
	}
	ps_apply(r);
}

static void ps_rollback_start(struct router *r)
{
	struct ps_priv *p = r->priv;
	char why[512];

	if (psql_plan_rollback(r->cfg, &p->snap, &p->snap_old, &p->snap_new, &p->plan, why, sizeof(why)) < 0) {
		ps_done(r, 1, "proxysql router '%s': %s", r->cfg->name, why);
		return;
	}
	ps_apply(r);
}

static void ps_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct ps_priv *p = r->priv;

	if (!ps_begin(r, RSTEP_FINALIZE, cb, arg, NULL))
		return;
	if (!ps_endpoints_or_fail(r, sw))
		return;
	p->kick_fn = NULL;
	ps_snapshot(r, ps_finalize_snap);
}

static void ps_finalize_snap(struct router *r, const struct db_result *res)
{
	struct ps_priv *p = r->priv;
	struct psql_snapshot now, none = { NULL, 0 };
	bool auto_failover;
	char why[512];
	int rc;

	if (ps_take_snapshot(r, res, &now) < 0)
		return;
	auto_failover = p->monitor;
	rc = psql_plan_finalize(r->cfg, p->have_snap ? &p->snap : &none, &now, &p->old, &p->new_,
				auto_failover, &p->plan, why, sizeof(why));
	psql_snapshot_free(&now);
	if (rc < 0) {
		ps_done(r, 1, "proxysql router '%s': %s", r->cfg->name, why);
		return;
	}
	ps_apply(r);
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
