/* A read shift's start: the checks, the shift made, and the reader hostgroup's snapshot taken
 * before its first step (see shift.h). */
#include "shift_impl.h"
#include "tenant.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* start */

static void snapshotted(struct db *db, struct db_result *res, void *arg)
{
	struct shift *sh = arg;
	char err[400];
	json_t *cols, *rows;
	size_t i, k;

	if (res->err || !res->n || psql_parse_snapshot(res->rs[0], &sh->snap, err, sizeof(err)) < 0) {
		snprintf(err, sizeof(err), "%.300s", res->err ? res->errmsg : "the snapshot of mysql_servers does not parse");
		db_result_free(res);
		sh_rollback(sh, "router %s: reading mysql_servers: %s", sh->router, err);
		return;
	}
	/* kept in the journal as rows of strings: a restart rolls back from it */
	cols = json_array();
	rows = json_array();
	for (k = 0; k < res->rs[0]->ncols; k++)
		json_array_append_new(cols, json_string(res->rs[0]->cols[k]));
	for (i = 0; i < res->rs[0]->nrows; i++) {
		json_t *row = json_array();
		for (k = 0; k < res->rs[0]->ncols; k++) {
			const char *v = rowset_at(res->rs[0], i, k);
			json_array_append_new(row, v ? json_string(v) : json_null());
		}
		json_array_append_new(rows, row);
	}
	sh->snap_rows = json_pack("{s:o, s:o}", "cols", cols, "rows", rows);
	db_result_free(res);
	if (sh_jrnl(sh, JE_PHASE, true, json_pack("{s:s, s:O}", "phase", "snapshot", "mysql_servers", sh->snap_rows)) < 0) {
		sh_rollback(sh, "the journal cannot record the snapshot of mysql_servers");
		return;
	}
	sh_emit(sh, "ok", "router %s: reader hostgroup %d snapshot taken (%zu rows in hostgroups %d/%d)", sh->router,
		sh_the_router(sh)->cfg->reader_hostgroup, sh->snap.n, sh_the_router(sh)->cfg->writer_hostgroup,
		sh_the_router(sh)->cfg->reader_hostgroup);
	sh_step_apply(sh);
}

struct shift *shift_new(struct daemon *d, struct cluster *c, const char *target, const char *router,
			char *err, size_t errlen)
{
	struct shift *sh = xcalloc(1, sizeof(*sh));
	time_t t;
	struct tm tm;
	char ts[32];

	sh->d = d;
	sh->c = c;
	sh->target = xstrdup(target);
	sh->router = xstrdup(router);
	sh->started_us = now_mono_us();
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
	snprintf(sh->id, sizeof(sh->id), "%s-%03d-%s-shift", ts, (int)((now_real_us() / 1000) % 1000), c->cfg->name);
	sh->timer = evtimer_new(d->base, sh_tick, sh);
	sh->steps_done = json_array();
	sh->odds = 1.0;
	journal_rotate_if_large(d->cfg->state_dir, c->cfg->name);
	sh->journal = journal_open(d->cfg->state_dir, c->cfg->name, err, errlen);
	if (!sh->journal) {
		shift_free(sh);
		return NULL;
	}
	return sh;
}

int shift_start(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id, const struct shift_opts *o,
		enum err_code *code, char *err, size_t errlen)
{
	const struct router *r = NULL;
	const struct server *t;
	const char *pname;
	struct shift *sh;
	size_t i;

	*code = ERR_BADSTATE;
	if (c->shift && shift_active(c->shift)) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, shift_summary(c->shift));
		return -1;
	}
	/* not beside a switchover, nor while the watchdog fences or a failover runs */
	if (cluster_busy(c) || c->cutover) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, c->cutover ? "a cutover is recorded" : cluster_busy(c));
		return -1;
	}
	if (c->tenants && tenant_active(c->tenants)) {
		*code = ERR_BUSY;
		snprintf(err, errlen, "cluster %s is busy: %s", c->cfg->name, tenant_summary(c->tenants));
		return -1;
	}
	r = router_pick_proxysql(c->routers, c->n_routers, c->cfg->name, o->router, "a read shift moves ProxySQL's reads",
				 err, errlen);
	if (!r) {
		*code = ERR_INVALID;
		return -1;
	}
	if (r->cfg->reader_hostgroup < 0) {
		*code = ERR_INVALID;
		snprintf(err, errlen, "router %s has no reader_hostgroup: there are no reads to shift", r->cfg->name);
		return -1;
	}
	t = daemon_server(d, o->to);
	if (!t || t->cluster != c) {
		*code = ERR_NOTFOUND;
		snprintf(err, errlen, "no server named '%s' in cluster %s", o->to ? o->to : "", c->cfg->name);
		return -1;
	}
	if (c->topo.primary >= 0 && c->servers[c->topo.primary] == t) {
		*code = ERR_INVALID;
		snprintf(err, errlen, "%s is the primary: a read shift moves reads to a replica", o->to);
		return -1;
	}
	if (!t->st.reachable || t->st.read_only != 1) {
		snprintf(err, errlen, "%s is %s: reads go only to a reachable, read-only replica", o->to,
			 !t->st.reachable ? "unreachable" : "writable");
		return -1;
	}
	pname = psql_name_of(r->cfg, o->to);
	sh = shift_new(d, c, o->to, r->cfg->name, err, errlen);
	if (!sh) {
		*code = ERR_INTERNAL;
		return -1;
	}
	if (psql_parse_endpoint(pname ? pname : "", 0, &sh->ep) < 0) {
		snprintf(sh->ep.host, sizeof(sh->ep.host), "%s", t->cfg->host ? t->cfg->host : "127.0.0.1");
		sh->ep.port = t->cfg->port;
	}
	sh->o = *o;
	sh->o.to = sh->target;
	sh->o.router = sh->router;
	sh->db = psql_admin_db(d->base, r->cfg, "read shift", d->cfg->connect_timeout_ms);
	db_set_acts(sh->db);
	if (cl) {
		sh->cl = cl;
		sh->req_id = json_incref(req_id);
		client_hold(cl);
	}
	c->shift = sh;
	{
		json_t *steps = json_array();
		for (i = 0; i < o->n_steps; i++)
			json_array_append_new(steps, json_integer(o->steps[i]));
		if (sh_jrnl(sh, JE_BEGIN, true, json_pack("{s:o, s:i, s:f, s:i, s:i, s:s}", "steps", steps, "hold_ms", o->hold_ms,
							 "gate_error_rate", o->gates.error_rate, "gate_p95_ms", o->gates.p95_ms,
							 "gate_lag_ms", o->gates.lag_ms, "router", r->cfg->name)) < 0) {
			free(sh->reason);
			sh->reason = xstrdup("the journal cannot record the start");
			sh_finish(sh, SH_FAILED);
			return 0;
		}
	}
	sh_emit(sh, "ok", "read shift %s: reads of router %s's reader hostgroup %d to %s (%s:%d), steps of %d ms", sh->id,
		r->cfg->name, r->cfg->reader_hostgroup, sh->target, sh->ep.host, sh->ep.port, o->hold_ms);
	{
		char *q = psql_snapshot_sql(r->cfg->writer_hostgroup, r->cfg->reader_hostgroup);
		db_run1(sh->db, q, d->cfg->connect_timeout_ms + d->cfg->query_timeout_ms, snapshotted, sh);
		free(q);
	}
	return 0;
}
