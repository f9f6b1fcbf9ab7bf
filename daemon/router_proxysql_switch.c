/* The ProxySQL driver's switchover steps (router_proxysql.c has the connection and the poll):
 * each takes a snapshot of mysql_servers, runs the plan proxysql_sql_switch.c makes from it and
 * reads runtime back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "proxysql_sql.h"
#include "router.h"
#include "router_proxysql_impl.h"
#include "util.h"

static void ps_deferred_done(struct router *r);
static int ps_endpoints(struct router *r, const struct router_switch *sw);
static bool ps_same_pair(const struct ps_priv *p);
static int ps_take_snapshot(struct router *r, const struct db_result *res, struct psql_snapshot *s);
static void ps_keep_snapshot(struct ps_priv *p, struct psql_snapshot *s);
static void ps_snapshot(struct router *r, ps_next_fn next);
static void ps_forget(struct ps_priv *p);
static void ps_apply(struct router *r);
static void ps_apply_done(struct router *r, const struct db_result *res);
static void ps_settle(struct router *r);
static void ps_settle_done(struct router *r, const struct db_result *res);
static void ps_drain_snap(struct router *r, const struct db_result *res);
static void ps_promote_snap(struct router *r, const struct db_result *res);
static void ps_promote_plan(struct router *r);
static void ps_rollback_start(struct router *r);
static void ps_undrain_snap(struct router *r, const struct db_result *res);
static void ps_finalize_snap(struct router *r, const struct db_result *res);

static void ps_deferred_done(struct router *r)
{
	struct ps_priv *p = r->priv;

	ps_done(r, p->defer_err, "%s", p->defer_msg);
}

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

void ps_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
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

void ps_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
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

void ps_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
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

void ps_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
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
