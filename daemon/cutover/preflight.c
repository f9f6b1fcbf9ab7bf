/* preflight: every go/no-go check; nothing changes (the whole of --dry-run).  The switchover's
 * and the failover's, with the fresh reads they share. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "event_hooks.h"
#include "gtid.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* preflight */

static void preflight_hooks(struct switchover *sw);
static void preflight_proxysql(struct switchover *sw, const struct router *r);

static void preflight_eval(struct switchover *sw)
{
	struct cluster *c = sw->c;
	const struct topology *t = &c->topo;
	const struct server_status *cs = &sw->fresh_cand, *os = &sw->fresh_old;
	int cand_idx = -1, old_idx = -1;
	size_t i;

	for (i = 0; i < c->n_servers; i++) {
		if (c->servers[i] == sw->cand)
			cand_idx = (int)i;
		if (c->servers[i] == sw->old)
			old_idx = (int)i;
	}
	sw_add_check(sw, "one_writable_primary", t->n_writable == 1 && t->primary == old_idx && os->read_only == 0, true,
		  "%d writable server%s; primary %s (read_only=%d)", t->n_writable, t->n_writable == 1 ? "" : "s",
		  sw->old_name, os->read_only);
	sw_add_check(sw, "no_split_brain", t->n_writable <= 1, true,
		  t->n_writable <= 1 ? "no second writable server" : "more than one writable server");
	{
		bool direct = cs->repl.configured && cand_idx >= 0 &&
			      topo_same_endpoint(cs->repl.source_host, cs->repl.source_port, sw->old->cfg->host,
						 sw->old->cfg->port);
		sw_add_check(sw, "candidate_replicates_from_primary", direct, true,
			  direct ? "%s replicates directly from %s"
				 : cs->repl.configured ? "%s replicates from %s:%d, not from the primary"
						       : "%s is not a replica",
			  sw->new_name, direct ? sw->old_name : cs->repl.source_host, cs->repl.source_port);
	}
	{
		bool running = cs->repl.io == THREAD_YES && cs->repl.sql == THREAD_YES;
		const char *io_err = cs->repl.last_io_error, *sql_err = cs->repl.last_sql_error;
		char next[160] = "";

		/* A stopped thread is for the person to start: say with what, where, and what
		 * stopped it (starting it again without fixing that stops it again). */
		if (!running)
			snprintf(next, sizeof(next), "; %sstart them with %s on %s", *io_err || *sql_err ? "fix that, then " : "",
				 server_flavor(sw->cand)->sql[SQL_START_REPLICA], sw->new_name);
		sw_add_check(sw, "candidate_threads", running, true, "IO thread %s, SQL thread %s%s%s%s%s%s",
			     thread_state_name(cs->repl.io), thread_state_name(cs->repl.sql),
			     *io_err ? "; last IO error: " : "", io_err, *sql_err ? "; last SQL error: " : "", sql_err, next);
	}
	{
		int64_t lag = sw->cand->st.heartbeat_lag_ms;
		const char *pp = os->flavor == FLAVOR_MARIADB ? os->gtid_binlog_pos : os->gtid_executed;
		/* Right after a switchover no heartbeat of the new primary has reached the replicas
		 * yet; the GTID positions read just now tell whether the candidate is caught up. */
		if (lag < 0 && pp && server_status_gtid(cs) &&
		    gtid_str_contains(sw_gtid_kind_of(sw->cand), server_status_gtid(cs), pp) == 1)
			sw_add_check(sw, "candidate_lag", true, true,
				     "no heartbeat lag yet, but %s already has everything %s had when read (%s)",
				     sw->new_name, sw->old_name, pp);
		else if (lag < 0)
			sw_add_check(sw, "candidate_lag", false, true, "lag unknown (no heartbeat seen on %s yet); max %d ms",
				  sw->new_name, sw->max_lag_ms);
		else {
			char sbm[24] = "NULL";   /* what the server says while replication is stopped */

			if (cs->repl.seconds_behind >= 0)
				snprintf(sbm, sizeof(sbm), "%lld", cs->repl.seconds_behind);
			sw_add_check(sw, "candidate_lag", lag <= sw->max_lag_ms, true,
				     "lag %lld ms (Seconds_Behind_Master %s), max %d ms", (long long)lag, sbm,
				     sw->max_lag_ms);
		}
	}
	sw_add_check(sw, "candidate_binlog", cs->log_bin == 1 && cs->log_slave_updates == 1, true,
		  "log_bin=%s, log_slave_updates=%s (the other servers must be able to follow it)",
		  cs->log_bin == 1 ? "ON" : "OFF", cs->log_slave_updates == 1 ? "ON" : "OFF");
	if (cs->flavor == FLAVOR_MARIADB) {
		bool gtid_ok = cs->gtid_strict_mode == 1 && os->gtid_strict_mode == 1 &&
			       strcasecmp(cs->repl.using_gtid, "No") != 0;
		sw_add_check(sw, "gtid_consistent", gtid_ok, true,
			  "gtid_strict_mode: primary %s, candidate %s; candidate Using_Gtid=%s",
			  os->gtid_strict_mode == 1 ? "ON" : "OFF", cs->gtid_strict_mode == 1 ? "ON" : "OFF",
			  cs->repl.using_gtid);
	} else {
		bool gtid_ok = cs->gtid_mode_on == 1 && cs->enforce_gtid_consistency == 1 && os->gtid_mode_on == 1;
		sw_add_check(sw, "gtid_consistent", gtid_ok, true, "gtid_mode=%s, enforce_gtid_consistency=%s, %s",
			  cs->gtid_mode_on == 1 ? "ON" : "OFF", cs->enforce_gtid_consistency == 1 ? "ON" : "OFF",
			  cs->repl.using_gtid);
	}
	{
		const char *errant = cand_idx >= 0 && (size_t)cand_idx < t->n ? t->srv[cand_idx].errant : NULL;
		sw_add_check(sw, "no_errant_transactions", errant && !*errant, true,
			  !errant ? "could not compare GTID positions" : *errant ? "errant: %s" : "none", errant);
	}
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		if (s == sw->old || s == sw->cand)
			continue;
		sw_add_check(sw, "replica_reachable", s->health.state == HEALTH_UP || sw->allow_unreachable,
			  !sw->allow_unreachable, "%s is %s%s", s->cfg->name, health_name(s->health.state),
			  s->health.state == HEALTH_UP ? ""
			  : sw->allow_unreachable ? " (allowed: it will be left behind)"
						  : " (pass allow_unreachable to leave it behind)");
	}
	for (i = 0; i < c->n_routers; i++) {
		const struct router *r = c->routers[i];
		const struct router_backend *w;
		int count;
		if (!r->view.reachable) {
			sw_add_check(sw, "router", false, true, "router %s unreachable: %s", r->cfg->name, r->view.error);
			continue;
		}
		if (r->cfg->type == ROUTER_EXEC && r->view.n == 0) {
			sw_add_check(sw, "router", true, false, "router %s (exec) reports no view; not cross-checked",
				  r->cfg->name);
			continue;
		}
		w = router_writer(&r->view, &count);
		sw_add_check(sw, "router", count == 1 && !strcmp(w->server, sw->old_name), true,
			  "router %s: %d writer%s%s%s%s%s", r->cfg->name, count, count == 1 ? "" : "s",
			  count == 1 ? ", " : "", count == 1 ? (*w->server ? w->server : w->name) : "",
			  count != 1 && *r->view.caution ? ": " : "", count != 1 ? r->view.caution : "");
		if (r->cfg->type == ROUTER_PROXYSQL)
			preflight_proxysql(sw, r);
		else if (!router_find(&r->view, sw->new_name, true))
			sw_add_check(sw, "router_knows_candidate", false, true, "router %s has no backend for %s",
				  r->cfg->name, sw->new_name);
	}
	sw_add_check(sw, "replication_account", sw_ccfg(sw)->repl_user && sw_ccfg(sw)->repl_secret.password, true,
		  sw_ccfg(sw)->repl_user ? "replicas will follow the new primary as '%s'"
				      : "no repl_user/repl_password in [cluster %s]: the replicas could not follow",
		  sw_ccfg(sw)->repl_user ? sw_ccfg(sw)->repl_user : sw_ccfg(sw)->name);
	if (json_array_size(sw->privileged)) {
		size_t k;
		json_t *row;
		char list[512] = "";
		size_t off = 0;
		json_array_foreach(sw->privileged, k, row)
			if (off < sizeof(list))
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? ", " : "",
							json_string_value(row));
		sw_add_check(sw, "privileged_accounts", false, false,
			  "read_only does not stop these accounts on %s: %s; at the fence their sessions are cut "
			  "and every commit on %s is held until %s takes the writes, so none lands after the "
			  "fence point", sw->old_name, list, sw->old_name, sw->new_name);
	}
	if (sw_refused(sw))
		return;
	preflight_hooks(sw);
}

/* What ProxySQL needs besides a single writer: the promote inserts the candidate into the writer
 * hostgroup, so ProxySQL need not route to it yet — but a LOAD of someone's unfinished change,
 * or an admin login ProxySQL is about to refuse, must not happen in the middle of the window. */
static void preflight_proxysql(struct switchover *sw, const struct router *r)
{
	const struct router_backend *in_w = router_find(&r->view, sw->new_name, true);
	const struct router_backend *any = router_find(&r->view, sw->new_name, false);
	int wh = r->cfg->writer_hostgroup;

	if (in_w)
		sw_add_check(sw, "router_knows_candidate", true, false, "router %s: %s is %s in writer hostgroup %d",
			     r->cfg->name, sw->new_name, in_w->state, wh);
	else if (any)
		sw_add_check(sw, "router_knows_candidate", true, false, "router %s: %s is %s in hostgroup %d; the "
			     "promote adds it to writer hostgroup %d", r->cfg->name, sw->new_name, any->state,
			     any->hostgroup, wh);
	else
		sw_add_check(sw, "router_knows_candidate", true, false, "router %s: ProxySQL does not know %s in "
			     "hostgroups %d/%d; the promote adds it to writer hostgroup %d", r->cfg->name, sw->new_name,
			     wh, r->cfg->reader_hostgroup, wh);
	sw_add_check(sw, "router_mode", true, false, r->view.auto_failover_hostgroups
		     ? "router %s: ProxySQL's monitor also moves servers by read_only (mysql_replication_hostgroups "
		       "has writer hostgroup %d); the fence's read_only and the promote agree with it"
		     : "router %s: cutoverd alone moves servers in hostgroup %d (no mysql_replication_hostgroups row)",
		     r->cfg->name, wh);
	if (*r->view.pending)
		sw_add_check(sw, "router_runtime", false, true, "router %s: %s; a LOAD by cutoverd would apply that "
			     "change too: LOAD MYSQL SERVERS TO RUNTIME or undo it in mysql_servers, then retry",
			     r->cfg->name, r->view.pending);
	else
		sw_add_check(sw, "router_runtime", true, false, "router %s: runtime_mysql_servers matches "
			     "mysql_servers", r->cfg->name);
	if (*r->view.admin_clash)
		sw_add_check(sw, "router_admin_user", false, true, "router %s: %s", r->cfg->name, r->view.admin_clash);
}

static void hook_done(struct job_result *r, void *arg)
{
	struct switchover *sw = arg;
	char why[300], last[300];
	const char *cmd = sw_ccfg(sw)->preflight_hooks[sw->hook_index];

	sw->job = NULL;   /* cancelled (sw->job) when the cutover stops going forward */

	sw_add_check(sw, "preflight_hook", job_result_ok(r), true, "%s: %s%s%s", cmd,
		  job_result_describe(r, why, sizeof(why)), *job_result_last_line(r, last, sizeof(last)) ? ": " : "",
		  last);
	if (!job_result_ok(r)) {
		sw_phase_failed(sw, "preflight hook failed: %s", cmd);
		return;
	}
	sw->hook_index++;
	preflight_hooks(sw);
}

static void preflight_hooks(struct switchover *sw)
{
	const struct cfg_cluster *cc = sw_ccfg(sw);
	char **argv;
	struct log_ctx ctx = sw_lctx(sw);

	if (!cc->preflight_hooks || !cc->preflight_hooks[sw->hook_index]) {
		sw_phase_next(sw);
		return;
	}
	if (job_split_argv(cc->preflight_hooks[sw->hook_index], &argv) <= 0) {
		job_free_argv(argv);
		sw_phase_failed(sw, "preflight hook '%s' cannot be parsed", cc->preflight_hooks[sw->hook_index]);
		return;
	}
	{
		char *env[8];
		int n = 0;
		env[n++] = xasprintf("CUTOVER_PHASE=preflight");
		env[n++] = xasprintf("CUTOVER_CLUSTER=%s", cc->name);
		env[n++] = xasprintf("CUTOVER_OLD_PRIMARY=%s", sw->old_name);
		env[n++] = xasprintf("CUTOVER_NEW_PRIMARY=%s", sw->new_name);
		env[n++] = xasprintf("CUTOVER_ID=%s", sw->id);
		env[n] = NULL;
		sw->job = job_run(sw->d->base, (const char *const *)argv, (const char *const *)env, NULL,
				  cc->hook_timeout_ms, hook_done, sw, &ctx);
		while (n--)
			free(env[n]);
	}
	job_free_argv(argv);
}

static void preflight_queries_done(struct switchover *sw)
{
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	preflight_eval(sw);
}

static void pf_old_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *f = sw_flavor_of(sw->old);

	if (res->err && res->failed == 0) {
		sw_set_failure(sw, "%s: %s", sw->old_name, res->errmsg);
	} else {
		size_t r;
		server_status_clear(&sw->fresh_old);
		f->parse_vars(res->rs[0], &sw->fresh_old);
		sw->fresh_old.flavor = f->id;
		json_decref(sw->privileged);
		sw->privileged = json_array();
		json_decref(sw->privileged_users);
		sw->privileged_users = json_array();
		for (r = 0; res->n > 1 && r < res->rs[1]->nrows; r++) {
			const char *user = rowset_at(res->rs[1], r, 0), *host = rowset_at(res->rs[1], r, 1);
			if (!user || !strcmp(user, sw->old->cfg->user) || !strcmp(user, "root") ||
			    !strcmp(user, "mariadb.sys") || (sw_ccfg(sw)->repl_user && !strcmp(user, sw_ccfg(sw)->repl_user)))
				continue;
			json_array_append_new(sw->privileged, json_sprintf("'%s'@'%s' (%s)", user, host ? host : "",
									     rowset_at(res->rs[1], r, 2)));
			json_array_append_new(sw->privileged_users, json_string(user));
		}
	}
	db_result_free(res);
	if (--sw->pending == 0)
		preflight_queries_done(sw);
}

/* The candidate's variables and replica status, read by preflight (both kinds). */
void sw_run_cand_status(struct switchover *sw, db_done_fn fn)
{
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	const char *q[2] = { fc->sql[SQL_VARS], fc->sql[SQL_REPLICA_STATUS] };
	sw_db_run(sw, sw->db_cand, q, 2, sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms, fn);
}

bool sw_take_cand_status(struct switchover *sw, const struct db_result *res)
{
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	if (res->err)
		return false;
	server_status_clear(&sw->fresh_cand);
	f->parse_vars(res->rs[0], &sw->fresh_cand);
	f->parse_replica(res->rs[1], &sw->fresh_cand.repl);
	sw->fresh_cand.flavor = f->id;
	return true;
}

static void pf_cand_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (!sw_take_cand_status(sw, res))
		sw_set_failure(sw, "%s: %s", sw->new_name, res->errmsg);
	db_result_free(res);
	if (--sw->pending == 0)
		preflight_queries_done(sw);
}

void enter_preflight(struct switchover *sw)
{
	const struct flavor_ops *fo = sw_flavor_of(sw->old);
	const char *q_old[2] = { fo->sql[SQL_VARS], fo->sql[SQL_PRIVILEGED_USERS] };
	int qt = sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms;

	sw->pending = 2;
	sw_db_run(sw, sw->db_old, q_old, 2, qt, pf_old_done);
	sw_run_cand_status(sw, pf_cand_done);
}

/* ------------------------------------------------------------------------------------------ */
/* the failover's: the old primary is dead */

static void f_preflight_eval(struct switchover *sw)
{
	const struct server_status *cs = &sw->fresh_cand;
	const struct server *old = sw->old;
	size_t i;
	bool direct = cs->repl.configured && topo_same_endpoint(cs->repl.source_host, cs->repl.source_port,
								  old->cfg->host, old->cfg->port);

	sw_add_check(sw, "primary_down", !(old->st.reachable && old->st.read_only == 0), true,
		     old->st.reachable && old->st.read_only == 0
			     ? "%s is reachable and writable: use a switchover, not a failover"
			     : "%s is %s", sw->old_name, old->st.reachable ? "reachable but read-only" : "unreachable");
	sw_add_check(sw, "candidate_replicates_from_primary", direct, true,
		     direct ? "%s replicated from %s" : "%s does not replicate from %s", sw->new_name, sw->old_name);
	sw_add_check(sw, "candidate_sql_thread", cs->repl.sql == THREAD_YES, true,
		     "SQL thread %s%s%s (it must apply what it received)", thread_state_name(cs->repl.sql),
		     *cs->repl.last_sql_error ? ": " : "", cs->repl.last_sql_error);
	sw_add_check(sw, "candidate_binlog", cs->log_bin == 1 && cs->log_slave_updates == 1, true,
		     "log_bin=%s, log_slave_updates=%s", cs->log_bin == 1 ? "ON" : "OFF",
		     cs->log_slave_updates == 1 ? "ON" : "OFF");
	sw_add_check(sw, "replication_account", sw_ccfg(sw)->repl_user && sw_ccfg(sw)->repl_secret.password, true,
		     "replicas follow the new primary as '%s'", sw_ccfg(sw)->repl_user ? sw_ccfg(sw)->repl_user : "?");
	/* A router that cannot be reached now cannot be pointed at the new primary either: that is
	 * known before anything changes, so it refuses unless the operator says to go on. */
	for (i = 0; i < sw->c->n_routers; i++) {
		const struct router *r = sw->c->routers[i];
		if (r->view.reachable)
			continue;
		sw_add_check(sw, "router_reachable", sw->without_routers, !sw->without_routers,
			     "router %s unreachable: %s%s", r->cfg->name, r->view.error,
			     sw->without_routers ? " (without_routers: it is left as it is; point it at the new primary "
						   "by hand)"
						 : "; fix it, or pass without_routers to fail over without it");
	}
	/* Warn when another replica received more than the candidate. */
	for (i = 0; i < sw->n_reps; i++) {
		const struct server *r = sw->reps[i];
		const char *rp = r->st.repl.gtid_io_pos ? r->st.repl.gtid_io_pos : server_status_gtid(&r->st);
		const char *cp = cs->repl.gtid_io_pos ? cs->repl.gtid_io_pos : server_status_gtid(cs);
		if (r == old || !r->st.reachable || !rp || !cp)
			continue;
		if (gtid_str_contains(sw_gtid_kind_of(r), cp, rp) == 0)
			sw_add_check(sw, "most_advanced", false, false,
				     "%s received transactions %s did not (%s vs %s): they will be reported as errant",
				     r->cfg->name, sw->new_name, rp, cp);
	}
	if (sw_refused(sw))
		return;
	sw_phase_next(sw);
}

static void f_pf_cand_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;

	if (!sw_take_cand_status(sw, res)) {
		sw_phase_failed(sw, "%s: %s", sw->new_name, res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	f_preflight_eval(sw);
}

void f_enter_preflight(struct switchover *sw)
{
	sw_run_cand_status(sw, f_pf_cand_done);
}

