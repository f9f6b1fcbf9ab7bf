/* preflight: every go/no-go check; nothing changes (the whole of --dry-run).  The switchover's
 * and the failover's, with the fresh reads they share. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "event_hooks.h"
#include "gtid.h"
#include "held.h"
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
static void preflight_versions(struct switchover *sw);
static void preflight_replica_version(struct switchover *sw, struct server *s);
static void preflight_upgrade_notes(struct switchover *sw);
static int rep_index(const struct switchover *sw, const struct server *s);

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
		/* from preflight's own reads: the last poll may be older than a transaction written
		 * on the candidate a moment ago */
		char *errant = topo_errant_gtids(os, cs);
		sw_add_check(sw, "no_errant_transactions", errant && !*errant, true,
			  !errant ? "could not compare GTID positions" : *errant ? "errant: %s" : "none", errant);
		free(errant);
	}
	preflight_versions(sw);
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		const struct held *h = held_find(c, s->cfg->name);
		if (s == sw->old || s == sw->cand)
			continue;
		if (h) {
			/* the rollback point of an earlier upgrade: nobody repoints it */
			sw_add_check(sw, "replica_held", true, false, "%s is held at the fence point %s (%s): left as it is",
				     s->cfg->name, h->fence_point ? h->fence_point : "?", h->why);
			continue;
		}
		sw_add_check(sw, "replica_reachable", s->health.state == HEALTH_UP || sw->allow_unreachable,
			  !sw->allow_unreachable, "%s is %s%s", s->cfg->name, health_name(s->health.state),
			  s->health.state == HEALTH_UP ? ""
			  : sw->allow_unreachable ? " (allowed: it will be left behind)"
						  : " (pass allow_unreachable to leave it behind)");
		preflight_replica_version(sw, s);
	}
	if (sw->upgrade)
		preflight_upgrade_notes(sw);
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
	{
		const struct server *both[2] = { sw->old, sw->cand };
		size_t k;
		for (k = 0; k < 2; k++)
			if (sw_flavor_of(both[k])->id != FLAVOR_MARIADB && flavor_auth_exposed(both[k]->cfg))
				sw_add_check(sw, "auth_transport", false, false,
					     "%s: MySQL over TCP to %s without verified TLS and without server_public_key: "
					     "when caching_sha2_password's cache misses, the password goes to whoever "
					     "answers (the client library asks the server for its RSA key and believes it, "
					     "or with tls_mode = required accepts any certificate), so a machine in the "
					     "middle could read cutoverd's password; set server_public_key (a copy of the "
					     "server's public_key.pem) or tls_mode = verify_ca", both[k]->cfg->name,
					     both[k]->cfg->host);
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

static int rep_index(const struct switchover *sw, const struct server *s)
{
	size_t i;
	for (i = 0; i < sw->n_reps; i++)
		if (sw->reps[i] == s)
			return (int)i;
	return -1;
}

/* What the candidate runs next to the primary: the same release series, a newer one (an upgrade:
 * the old primary cannot replicate from it afterwards), an older one (refused: nothing replicates
 * from a newer series to an older one), or another product. */
static void preflight_versions(struct switchover *sw)
{
	const struct server_status *os = &sw->fresh_old, *cs = &sw->fresh_cand;
	const struct held *h = held_find(sw->c, sw->new_name);
	char from[48], to[48];

	flavor_series_name(os->version, from, sizeof(from));
	flavor_series_name(cs->version, to, sizeof(to));
	switch (flavor_series_order(os->version, cs->version)) {
	case SERIES_SAME:
		sw_add_check(sw, "version", true, false, "%s and %s both run %s (%s; %s)", sw->old_name, sw->new_name, from,
			     os->version, cs->version);
		break;
	case SERIES_NEWER:
		sw->upgrade = true;
		sw_add_check(sw, "version", true, false,
			     "upgrade: %s runs %s (%s), newer than %s's %s (%s); replication does not go from a newer "
			     "release series to an older one, so afterwards %s stays read-only and replicates from "
			     "nothing, frozen at the fence point as the rollback point, and a switchover back to it is "
			     "refused", sw->new_name, to, cs->version, sw->old_name, from, os->version, sw->old_name);
		break;
	case SERIES_OLDER:
		sw_add_check(sw, "version", false, true,
			     "%s runs %s (%s), older than the primary %s's %s (%s): replication does not go from a "
			     "newer release series to an older one, so %s cannot receive what %s writes%s%s%s%s; choose "
			     "a candidate of %s or newer", sw->new_name, to, cs->version, sw->old_name, from, os->version,
			     sw->new_name, sw->old_name, h ? ". It is the rollback point held at the fence point " : "",
			     h && h->fence_point ? h->fence_point : "", h ? ": going back to it would give up every write "
			     "since, or need them copied by hand" : "", h ? " (see Upgrades in cutoverd(8))" : "", from);
		break;
	case SERIES_OTHER_PRODUCT:
		sw_add_check(sw, "version", false, true,
			     "%s runs %s (%s) and %s runs %s (%s): cutoverd does not move the primary between MariaDB "
			     "and MySQL (their GTIDs differ)", sw->old_name, from, os->version, sw->new_name, to,
			     cs->version);
		break;
	case SERIES_UNKNOWN:
		sw_add_check(sw, "version", false, false, "cannot compare the versions of %s (%s) and %s (%s)",
			     sw->old_name, *os->version ? os->version : "unknown", sw->new_name,
			     *cs->version ? cs->version : "unknown");
		break;
	}
	if (*os->charset && *cs->charset && (strcmp(os->charset, cs->charset) || strcmp(os->collation, cs->collation)))
		sw_add_check(sw, "charset_defaults", false, false,
			     "the server defaults differ: %s has character_set_server=%s, collation_server=%s; %s has "
			     "%s, %s: a table or database created without naming its character set gets %s's once it "
			     "is the primary; set the same defaults in %s's configuration, or name them in the DDL",
			     sw->old_name, os->charset, os->collation, sw->new_name, cs->charset, cs->collation,
			     sw->new_name, sw->new_name);
}

/* A replica of an older release series than the candidate cannot follow it: refused, or with
 * allow_older_replicas left stopped at the fence point, held with the old primary. */
static void preflight_replica_version(struct switchover *sw, struct server *s)
{
	const struct server_status *cs = &sw->fresh_cand;
	int k = rep_index(sw, s);
	char mine[48], theirs[48];

	if (s->health.state != HEALTH_UP || k < 0 ||
	    flavor_series_order(cs->version, s->st.version) != SERIES_OLDER)
		return;
	flavor_series_name(s->st.version, mine, sizeof(mine));
	flavor_series_name(cs->version, theirs, sizeof(theirs));
	if (sw->allow_older_replicas)
		sw->rep_fate[k] = REP_LEAVE_AT_FENCE;
	sw_add_check(sw, "replica_version", sw->allow_older_replicas, !sw->allow_older_replicas,
		     "%s runs %s (%s), older than %s's %s: it cannot replicate from %s; %s%s%s", s->cfg->name, mine,
		     s->st.version, sw->new_name, theirs, sw->new_name,
		     sw->allow_older_replicas ? "allowed (allow_older_replicas): it is left stopped at the fence point, "
						"still configured to follow "
					      : "upgrade it first, or pass allow_older_replicas to leave it stopped at "
						"the fence point with ",
		     sw->old_name, sw->allow_older_replicas ? ", part of the rollback point" : " (the rollback point)");
}

/* What else an upgrade meets: TLS towards the new primary, system-versioned tables. */
static void preflight_upgrade_notes(struct switchover *sw)
{
	const struct server_status *cs = &sw->fresh_cand;

	if (cs->flavor == FLAVOR_MARIADB && cs->have_ssl >= 0)
		sw_add_check(sw, "replication_tls", true, false,
			     "%s %s TLS (have_ssl): the servers that follow it are repointed with MASTER_SSL=%d%s",
			     sw->new_name, cs->have_ssl ? "has" : "has no", cs->have_ssl ? 1 : 0,
			     cs->have_ssl ? "" : " (MariaDB 11.x replicas ask for TLS by default and could not connect)");
	if (sw->versioned_error)
		sw_add_check(sw, "system_versioned", false, false, "could not list the system-versioned tables on %s: %s",
			     sw->old_name, sw->versioned_error);
	else if (sw->versioned_tables > 0)
		sw_add_check(sw, "system_versioned", true, false,
			     "%s has %lld system-versioned table%s (%s%s): their history is kept in each release's own "
			     "form (from 11.5 MariaDB widens row_end to 2106 and converts what it replicates from "
			     "older servers, MDEV-32188), and cutoverd does not compare it; check them on %s after the "
			     "switchover — %s keeps them as they were at the fence point", sw->old_name,
			     sw->versioned_tables, sw->versioned_tables == 1 ? "" : "s",
			     sw->versioned_names ? sw->versioned_names : "", sw->versioned_tables > 5 ? ", …" : "",
			     sw->new_name, sw->old_name);
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
		if (res->n > 2 && res->rs[2]->nrows > 0) {
			long long n;
			if (parse_ll(rowset_at(res->rs[2], 0, 0), 0, LLONG_MAX, &n))
				sw->versioned_tables = n;
			free(sw->versioned_names);
			sw->versioned_names = xstrdup(rowset_at(res->rs[2], 0, 1));
		} else if (res->err && res->failed == 2) {
			free(sw->versioned_error);
			sw->versioned_error = xstrdup(res->errmsg);
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
	const char *q_old[3] = { fo->sql[SQL_VARS], fo->sql[SQL_PRIVILEGED_USERS], fo->sql[SQL_VERSIONED_TABLES] };
	int qt = sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms;
	/* the system-versioned tables matter to an upgrade only (and listing them may cost) */
	bool upgrade = flavor_series_order(sw->old->st.version, sw->cand->st.version) == SERIES_NEWER;

	sw->pending = 2;
	sw_db_run(sw, sw->db_old, q_old, upgrade && *q_old[2] ? 3 : 2, qt, pf_old_done);
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
	/* what the failover can promise about writes the dead primary acknowledged */
	if (!strcasecmp(old->st.semi_sync, "AFTER_SYNC"))
		sw_add_check(sw, "semi_sync", true, false,
			     "%s ran semi-synchronous replication, AFTER_SYNC, when last seen: every write it "
			     "acknowledged had reached a replica, and the one that received the most is promoted",
			     sw->old_name);
	else if (!strcasecmp(old->st.semi_sync, "AFTER_COMMIT"))
		sw_add_check(sw, "semi_sync", true, false,
			     "%s ran semi-synchronous replication, AFTER_COMMIT, when last seen: every write it "
			     "acknowledged to its client had reached a replica, but other sessions could read a "
			     "commit before that, and such a commit may be missing after the failover (AFTER_SYNC "
			     "closes that gap; see cutoverd(8))", sw->old_name);
	else
		sw_add_check(sw, "semi_sync", true, false,
			     "%s ran %s when last seen: writes it acknowledged that no replica had received yet are "
			     "lost with it (semi-synchronous replication with AFTER_SYNC closes that gap; see "
			     "cutoverd(8))", sw->old_name,
			     !*old->st.semi_sync ? "replication of unknown kind" : "asynchronous replication");
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

