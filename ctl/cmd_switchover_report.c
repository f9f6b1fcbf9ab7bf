/* What a switchover or a failover is about to do (the plan, from a dry run's report) and what
 * it did (the report), for people. */
#include "render_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *outcome_label(const char *outcome);
static const char *check_color(const char *result);
static void report_header(FILE *out, const json_t *rep, const char *label, const char *color,
			  const struct render_opts *o);
static void report_checks(FILE *out, const json_t *checks, bool all, const struct render_opts *o);
static void report_phases(FILE *out, const json_t *phases, const struct render_opts *o);
static void report_blocked(FILE *out, const json_t *rep, const char *outcome);
static void report_failover_blocked(FILE *out, const json_t *rep);
static void report_errant(FILE *out, const json_t *rep, const struct render_opts *o);
static void report_upgrade(FILE *out, const json_t *rep, const char *outcome);
static void report_servers(FILE *out, const json_t *servers, const struct render_opts *o);
static void report_next_steps(FILE *out, const json_t *rep, const char *outcome);
static void report_check_steps(FILE *out, const json_t *checks);
static void plan_options(FILE *out, const json_t *rep, const json_t *args, const json_t *ccfg,
			 const struct render_opts *o);
static void plan_failover_options(FILE *out, const json_t *rep, const json_t *args, const json_t *ccfg,
				  const struct render_opts *o);
static char *plan_ms(const json_t *args, const char *arg, const char *flag, const json_t *ccfg, const char *key);
static char *plan_pause(const char *pause, const json_t *args, const json_t *ccfg);
static void plan_option(struct table *t, const char *name, char *value);

static const char *outcome_label(const char *outcome)
{
	static const struct {
		const char *outcome, *label;
	} labels[] = {
		{ "done", "DONE" }, { "dry_run", "DRY RUN OK" }, { "refused", "REFUSED" },
		{ "rolled_back", "ROLLED BACK" }, { "failed", "FAILED" },
	};
	size_t i;

	for (i = 0; outcome && i < ARRAY_LEN(labels); i++)
		if (!strcmp(outcome, labels[i].outcome))
			return labels[i].label;
	return NULL;
}

static const char *check_color(const char *result)
{
	if (!result)
		return ANSI_MAGENTA;
	if (!strcmp(result, "pass"))
		return ANSI_GREEN;
	if (!strcmp(result, "warn"))
		return ANSI_YELLOW;
	return ANSI_RED;
}

int render_report(FILE *out, const json_t *rep, const struct render_opts *o)
{
	const char *outcome = jstr(rep, "outcome"), *label = outcome_label(outcome);
	const char *reason = jstr(rep, "reason");
	const json_t *pnr = jget(rep, "point_of_no_return_passed");
	char *s, *upper = NULL;

	if (!json_is_object(rep))
		return -1;
	if (!label) {
		s = clean(or_q(outcome));
		label = upper = xasprintf("OUTCOME %s", s);
		free(s);
	}
	report_header(out, rep, label, outcome_color(outcome), o);
	free(upper);
	if (is_failover(rep) && json_is_true(jget(rep, "automatic")))
		fputs("  started by cutoverd itself: the primary was declared dead (auto_failover)\n", out);
	if (reason && *reason) {
		s = clean(reason);
		fprintf(out, "  reason: %s\n", s);
		free(s);
	}
	report_checks(out, jget(rep, "checks"), false, o);
	report_phases(out, jget(rep, "phases"), o);
	if (is_failover(rep))
		report_failover_blocked(out, rep);
	else
		report_blocked(out, rep, outcome);
	if (json_is_number(jget(rep, "total_ms")))
		fprintf(out, "  total: %.1f ms\n", json_number_value(jget(rep, "total_ms")));
	if (outcome && (!strcmp(outcome, "failed") || !strcmp(outcome, "rolled_back")) && json_is_boolean(pnr))
		fprintf(out, "  point of no return: %s\n", json_is_true(pnr) ?
			"passed (the new primary was made writable)" : "not passed");
	report_errant(out, rep, o);
	report_upgrade(out, rep, outcome);
	report_servers(out, jget(rep, "servers"), o);
	report_next_steps(out, rep, outcome);
	return 0;
}

/* "DONE: switchover ID, cluster C: OLD → NEW"; a failover says FAILOVER, in capitals: the
 * old primary was lost, which is not the routine it looks like otherwise. */
static void report_header(FILE *out, const json_t *rep, const char *label, const char *color,
			  const struct render_opts *o)
{
	const char *col = paint(o, color);
	char *id = clean(or_q(jstr(rep, "id"))), *cl = clean(or_q(jstr(rep, "cluster")));
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));

	fprintf(out, "%s%s%s: %s %s, cluster %s: %s " ARROW " %s\n", col ? col : "", label,
		col ? ANSI_RESET : "", is_failover(rep) ? "FAILOVER" : "switchover", id, cl, from, to);
	free(id);
	free(cl);
	free(from);
	free(to);
}

/* The plan shows every check; a report counts them and lists those that did not pass (for a
 * refusal, the reasons): each one was already printed as a progress line. */
static void report_checks(FILE *out, const json_t *checks, bool all, const struct render_opts *o)
{
	struct table t;
	const json_t *c;
	const char *res;
	size_t i, pass = 0, fail = 0, warn = 0;

	table_init(&t, 3, 0);
	json_array_foreach(checks, i, c) {
		res = jstr(c, "result");
		if (res && !strcmp(res, "pass"))
			pass++;
		else if (res && !strcmp(res, "warn"))
			warn++;
		else
			fail++;
		if (!all && res && !strcmp(res, "pass"))
			continue;
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(res)), check_color(res));
		table_set(&t, 1, xstrdup(or_q(jstr(c, "check"))), NULL);
		table_set(&t, 2, xstrdup(or_q(jstr(c, "message"))), NULL);
	}
	if (!all && json_array_size(checks))
		fprintf(out, "  checks: %zu passed, %zu failed, %zu warning%s%s\n", pass, fail, warn,
			warn == 1 ? "" : "s", t.nrows ? ":" : "");
	else if (all && t.nrows)
		fputs("  checks:\n", out);
	if (t.nrows)
		table_print(out, &t, "    ", o);
	table_free(&t);
}

static void report_phases(FILE *out, const json_t *phases, const struct render_opts *o)
{
	struct table t;
	const json_t *ph, *ok;
	size_t i;

	if (!json_array_size(phases))
		return;
	table_init(&t, 3, 1u << 1);
	table_row(&t);
	table_set(&t, 0, xstrdup("PHASE"), NULL);
	table_set(&t, 1, xstrdup("MS"), NULL);
	table_set(&t, 2, xstrdup("OK"), NULL);
	json_array_foreach(phases, i, ph) {
		ok = jget(ph, "ok");
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(jstr(ph, "phase"))), NULL);
		table_set(&t, 1, ms_cell(jget(ph, "ms")), NULL);
		table_set(&t, 2, xstrdup(json_is_true(ok) ? "yes" : json_is_false(ok) ? "no" : "?"),
			  json_is_true(ok) ? NULL : ANSI_RED);
	}
	table_print(out, &t, "  ", o);
	table_free(&t);
}

/* The number people ask about first: from the fence until writes went to the new primary.
 * Nothing was blocked by a dry run, a refusal, or anything that ended before the fence; a
 * fence that was rolled back has no such end to measure to. */
static void report_blocked(FILE *out, const json_t *rep, const char *outcome)
{
	const json_t *wb = jget(rep, "write_blocked_ms");
	const char *fp = jstr(rep, "fence_point");
	char *s;

	if (json_is_number(wb))
		fprintf(out, "  writes blocked: %.1f ms\n", json_number_value(wb));
	else if (outcome && (!strcmp(outcome, "dry_run") || !strcmp(outcome, "refused")))
		;
	else if (!fp)
		fputs("  writes blocked: no (the old primary was not fenced)\n", out);
	else
		fputs("  writes blocked: not measured (writes were not switched to the new primary)\n", out);
	if (fp) {
		s = clean(fp);
		fprintf(out, "  fence point: %s\n", s);
		free(s);
	}
}

/* A failover's writes stopped when the primary died, which nobody measured: what is known is
 * the time from the fence to the new primary taking writes.  Its "fence point" is where the
 * new primary starts from (everything it applied), not a position of the old one. */
static void report_failover_blocked(FILE *out, const json_t *rep)
{
	const json_t *wb = jget(rep, "write_blocked_ms");
	const char *fp = jstr(rep, "fence_point");
	char *s, *to;

	if (json_is_number(wb)) {
		to = clean(or_q(jstr(rep, "new_primary")));
		fprintf(out, "  writes routed to %s %.1f ms after the fence began\n", to, json_number_value(wb));
		free(to);
	}
	if (fp) {
		s = clean(fp);
		fprintf(out, "  new primary starts from: %s\n", s);
		free(s);
	}
}

/* Replicas that received transactions the new primary never did: repointing them would fail
 * or keep those transactions on one server only, so the failover left them alone. */
static void report_errant(FILE *out, const json_t *rep, const struct render_opts *o)
{
	const json_t *errant = jget(rep, "errant"), *e;
	const char *col = paint(o, ANSI_YELLOW);
	char *srv, *gtids, *to;
	size_t i, n = 0;

	if (!json_array_size(errant))
		return;
	to = clean(or_q(jstr(rep, "new_primary")));
	json_array_foreach(errant, i, e) {
		srv = clean(or_q(jstr(e, "server")));
		gtids = clean(or_q(jstr(e, "gtids")));
		fprintf(out, "  %s%s holds transactions %s lacks: %s " EM_DASH " left stopped, not repointed%s\n",
			col ? col : "", srv, to, gtids, col ? ANSI_RESET : "");
		free(srv);
		free(gtids);
		n++;
	}
	fprintf(out, "  reconcile %s by hand (keep or discard those transactions), then make %s replicate "
		"from %s\n", n == 1 ? "it" : "them", n == 1 ? "it" : "them", to);
	free(to);
}

/* An upgrade: the versions, and the rollback point it keeps (or, on a dry run, would keep). */
static void report_upgrade(FILE *out, const json_t *rep, const char *outcome)
{
	const json_t *up = jget(rep, "upgrade"), *e;
	bool done = outcome && !strcmp(outcome, "done");
	char *from, *to, *old, *fp;
	size_t i;

	if (!json_is_object(up))
		return;
	{
		char *fs = clean(or_q(jstr(up, "from"))), *ts = clean(or_q(jstr(up, "to")));
		from = clean(or_q(jstr(up, "from_version")));
		to = clean(or_q(jstr(up, "to_version")));
		fprintf(out, "  upgrade: %s (%s) " ARROW " %s (%s)\n", fs, from, ts, to);
		free(fs);
		free(ts);
		free(from);
		free(to);
	}
	if (!done && !(outcome && !strcmp(outcome, "dry_run")))
		return;
	old = clean(or_q(jstr(up, "old_primary_kept")));
	fp = clean(or_q(jstr(rep, "fence_point")));
	if (done)
		fprintf(out, "  rollback point: %s, read-only and replicating from nothing at the fence point %s\n", old, fp);
	else
		fprintf(out, "  rollback point: %s would stay read-only and replicate from nothing at the fence point\n",
			old);
	json_array_foreach(jget(up, "left_at_fence_point"), i, e) {
		char *srv = clean(or_q(jstr(e, "server"))), *ver = clean(or_q(jstr(e, "version")));
		char *at = clean(jstr(e, "stopped_at") ? jstr(e, "stopped_at") : "?");
		if (!done)
			fprintf(out, "  rollback point: %s (%s) would be left stopped at the fence point\n", srv, ver);
		else if (json_is_true(jget(e, "reached")))
			fprintf(out, "  rollback point: %s (%s) left stopped at the fence point\n", srv, ver);
		else
			fprintf(out, "  rollback point: %s (%s) left stopped at %s, short of the fence point\n", srv, ver, at);
		free(srv);
		free(ver);
		free(at);
	}
	free(old);
	free(fp);
}

static void report_servers(FILE *out, const json_t *servers, const struct render_opts *o)
{
	static const char *const head[] = { "SERVER", "STATE", "RO", "REPLICATES FROM", "GTID" };
	struct table t;
	const json_t *srv, *ro;
	const char *state, *from, *g;
	size_t i;

	if (!json_array_size(servers))
		return;
	fputs("  servers now:\n", out);
	table_init(&t, ARRAY_LEN(head), 0);
	table_row(&t);
	for (i = 0; i < ARRAY_LEN(head); i++)
		table_set(&t, i, xstrdup(head[i]), NULL);
	json_array_foreach(servers, i, srv) {
		state = jstr(srv, "state");
		ro = jget(srv, "read_only");
		from = jstr(srv, "replicates_from");
		g = jstr(srv, "gtid");
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(jstr(srv, "name"))), NULL);
		table_set(&t, 1, xstrdup(or_q(state)), state_color(state));
		table_set(&t, 2, xstrdup(json_is_true(ro) ? "yes" : json_is_false(ro) ? "no" : "?"), NULL);
		table_set(&t, 3, xstrdup(from ? from : json_is_null(jget(srv, "replicates_from")) ? "-" : "?"), NULL);
		table_set(&t, 4, g ? cut(g, RENDER_GTID_MAX) : xstrdup("?"), NULL);
	}
	table_print(out, &t, "    ", o);
	table_free(&t);
}

/* What to do about a failed preflight check, by its name: the next step where it is obvious.
 * The check's own message says what was found (and, for a stopped thread, the statement). */
static const struct {
	const char *check, *step;
} check_steps[] = {
	{ "one_writable_primary", "make exactly one server writable first (cutoverctl status shows which are; "
	  "cutoverctl fence NAME for a second one)" },
	{ "no_split_brain", "fence the server that should not take writes: cutoverctl fence NAME" },
	{ "candidate_replicates_from_primary", "point the candidate at the primary, or name a direct replica "
	  "with --to" },
	{ "candidate_threads", "start the candidate's replication as its check says, or name another with --to" },
	{ "candidate_sql_thread", "start the SQL thread on the new primary (START SLAVE SQL_THREAD on MariaDB, "
	  "START REPLICA SQL_THREAD on MySQL), or name another with --to" },
	{ "candidate_lag", "wait for the candidate to catch up (cutoverctl status shows its lag), or raise "
	  "--max-lag" },
	{ "candidate_binlog", "turn on log_bin and log_slave_updates on the candidate, or name another with --to" },
	{ "gtid_consistent", "turn on gtid_strict_mode on both servers and make the candidate replicate by "
	  "GTID (MASTER_USE_GTID=slave_pos)" },
	{ "no_errant_transactions", "reconcile the candidate's extra transactions first, or name another "
	  "with --to" },
	{ "replica_reachable", "bring the replica back, or go on without it: --allow-unreachable (it is "
	  "left behind)" },
	{ "version", "choose a candidate of the primary's release series or a newer one (cutoverctl status --json "
	  "shows each server's version); nothing replicates from a newer series to an older one" },
	{ "replica_version", "upgrade the replica first, or go on without it: --allow-older-replicas (it is left "
	  "stopped at the fence point with the old primary, the rollback point)" },
	{ "router", "check the router: cutoverctl status shows its view; its one writer must be the primary" },
	{ "router_reachable", "check the router, or go on without it: --without-routers (then point it at "
	  "the new primary by hand)" },
	{ "router_knows_candidate", "add the candidate to the router's backends" },
	{ "router_runtime", "LOAD MYSQL SERVERS TO RUNTIME in ProxySQL, or undo the change in mysql_servers" },
	{ "replication_account", "set repl_user and repl_password in the cluster's section of cutoverd.conf, "
	  "then cutoverctl reload" },
	{ "preflight_hook", "see what the hook printed, in its check above" },
	{ "primary_down", "the primary is up and writable: use cutoverctl switchover" },
};

const char *check_next_step(const char *check)
{
	size_t i;

	for (i = 0; check && i < ARRAY_LEN(check_steps); i++)
		if (!strcmp(check, check_steps[i].check))
			return check_steps[i].step;
	return NULL;
}

/* One line per kind of check that failed and has an obvious next step. */
static void report_check_steps(FILE *out, const json_t *checks)
{
	const json_t *c, *prev;
	const char *name, *step;
	size_t i, k, n = 0;
	bool seen;
	char *s;

	json_array_foreach(checks, i, c) {
		name = jstr(c, "check");
		if (!(step = check_next_step(name)) || !jstr(c, "result") || !strcmp(jstr(c, "result"), "pass") ||
		    !strcmp(jstr(c, "result"), "warn"))
			continue;
		seen = false;
		for (k = 0; k < i && (prev = json_array_get(checks, k)); k++)
			seen |= jstr(prev, "check") && !strcmp(jstr(prev, "check"), name) &&
				jstr(prev, "result") && !strcmp(jstr(prev, "result"), "fail");
		if (seen)
			continue;
		if (!n++)
			fputs("  next steps:\n", out);
		s = clean(name);
		fprintf(out, "    %s: %s\n", s, step);
		free(s);
	}
}

/* The daemon's steps when it gave some; otherwise what a person does next is clear from the
 * outcome, and saying it saves a look at the manual. */
static void report_next_steps(FILE *out, const json_t *rep, const char *outcome)
{
	const json_t *steps = jget(rep, "next_steps"), *st;
	char *s, *old;
	size_t i, n = 0;

	if (json_array_size(steps)) {
		fputs("  next steps:\n", out);
		json_array_foreach(steps, i, st) {
			if (!json_is_string(st))
				continue;
			s = clean(json_string_value(st));
			fprintf(out, "    %zu. %s\n", ++n, s);
			free(s);
		}
		return;
	}
	if (!outcome)
		return;
	old = clean(or_q(jstr(rep, "old_primary")));
	if (!strcmp(outcome, "refused")) {
		report_check_steps(out, jget(rep, "checks"));
		fputs("  nothing was changed: deal with the checks above, then try again "
		      "(--dry-run runs the checks alone)\n", out);
	}
	else if (!strcmp(outcome, "rolled_back") && is_failover(rep)) {
		char *to = clean(or_q(jstr(rep, "new_primary")));
		fprintf(out, "  rolled back: nothing was promoted, %s replicates as before and %s is still the "
			"recorded primary; deal with the reason above, then try again\n", to, old);
		free(to);
	} else if (!strcmp(outcome, "rolled_back"))
		fprintf(out, "  rolled back: %s is the primary again; see cutoverctl status, deal with "
			"the reason above, then try again\n", old);
	free(old);
}

int render_plan(FILE *out, const json_t *rep, const json_t *args, const json_t *ccfg, const struct render_opts *o)
{
	char *cl, *from, *to;

	if (!json_is_object(rep))
		return -1;
	cl = clean(or_q(jstr(rep, "cluster")));
	from = clean(or_q(jstr(rep, "old_primary")));
	to = clean(or_q(jstr(rep, "new_primary")));
	if (is_failover(rep))
		fprintf(out, "failover plan for cluster %s: %s (dead) " ARROW " %s\n", cl, from, to);
	else
		fprintf(out, "switchover plan for cluster %s: %s " ARROW " %s\n", cl, from, to);
	free(cl);
	free(from);
	free(to);
	report_checks(out, jget(rep, "checks"), true, o);
	if (is_failover(rep))
		plan_failover_options(out, rep, args, ccfg, o);
	else
		plan_options(out, rep, args, ccfg, o);
	return 0;
}

/* A failover has no drain, catch-up or reverse replication; what matters is how the dead
 * primary is kept from taking writes, and what happens to replicas that got more than the
 * new primary. */
static void plan_failover_options(FILE *out, const json_t *rep, const json_t *args, const json_t *ccfg,
				  const struct render_opts *o)
{
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));
	struct table t;

	table_init(&t, 2, 0);
	plan_option(&t, "new primary", jstr(args, "to") ? xasprintf("%s (--to)", to) :
		    xasprintf("%s (the replica that received the most, chosen by cutoverd)", to));
	plan_option(&t, "sync timeout", plan_ms(args, "sync_timeout_ms", "--sync-timeout", ccfg, "sync_timeout_ms"));
	plan_option(&t, "fencing", json_is_true(jget(args, "assume_fenced")) ?
		    xasprintf("read_only on %s if it answers, else its STONITH hook; if both fail, go on "
			      "anyway (--assume-fenced: you state %s cannot take writes)", from, from) :
		    xasprintf("read_only on %s if it answers, else its STONITH hook; if both fail, nothing "
			      "is changed", from));
	plan_option(&t, "replicas", xasprintf("follow %s; one holding transactions %s lacks is left "
					      "stopped and reported", to, to));
	plan_option(&t, "routers", json_is_true(jget(args, "without_routers")) ?
		    xstrdup("one that cannot be reached is left as it is (--without-routers)") :
		    xstrdup("each must be reachable, else nothing is changed"));
	fputs("  options:\n", out);
	table_print(out, &t, "    ", o);
	table_free(&t);
	free(from);
	free(to);
}

/* "500 ms (--max-lag)" when given, else the value the daemon will use, the cluster's setting
 * from its running configuration (ccfg, the cluster's object of the config command), named so
 * it can be looked up; only the name when that could not be read. */
static char *plan_ms(const json_t *args, const char *arg, const char *flag, const json_t *ccfg, const char *key)
{
	const json_t *v = jget(args, arg), *c = jget(ccfg, key);
	size_t kl = strlen(key) > 3 ? strlen(key) - 3 : strlen(key);   /* max_lag_ms: max_lag */

	if (json_is_integer(v))
		return xasprintf("%lld ms (%s)", (long long)json_integer_value(v), flag);
	if (json_is_integer(c))
		return xasprintf("%lld ms (the cluster's %.*s)", (long long)json_integer_value(c), (int)kl, key);
	return xasprintf("the cluster's %.*s", (int)kl, key);
}

/* "fence: nothing blocked while paused; rolls back if left paused 10m (the cluster's
 * pause_timeout)": what the pause costs and how long it may last. */
static char *plan_pause(const char *pause, const json_t *args, const json_t *ccfg)
{
	bool blocks = pause && (!strcmp(pause, "sync") || !strcmp(pause, "promote"));
	const char *key = blocks ? "blocked_pause_timeout_ms" : "pause_timeout_ms";
	const json_t *given = jget(args, "pause_timeout_ms"), *conf = jget(ccfg, key);
	char *ph, *out, lim[24], whose[64];

	if (!pause)
		return xstrdup("none");
	ph = clean(pause);
	if (json_is_integer(given) || json_is_integer(conf)) {
		duration_text(json_integer_value(json_is_integer(given) ? given : conf), lim, sizeof(lim));
		if (json_is_integer(given))
			snprintf(whose, sizeof(whose), "--pause-timeout");
		else
			snprintf(whose, sizeof(whose), "the cluster's %.*s", (int)strlen(key) - 3, key);
		out = xasprintf("%s: %s while paused; rolls back if left paused %s (%s)", ph,
				blocks ? "EVERY WRITE IS BLOCKED (past the fence)" : "nothing is blocked", lim, whose);
	} else {
		out = xasprintf("%s: %s while paused; rolls back if left paused past the cluster's %.*s", ph,
				blocks ? "EVERY WRITE IS BLOCKED (past the fence)" : "nothing is blocked",
				(int)strlen(key) - 3, key);
	}
	free(ph);
	return out;
}

/* What the switchover will be sent with, and for what is not given, the cluster's settings. */
static void plan_options(FILE *out, const json_t *rep, const json_t *args, const json_t *ccfg,
			 const struct render_opts *o)
{
	const json_t *cfg_reverse = jget(ccfg, "reverse_replication");
	const json_t *v, *upgrade;
	char *reverse;
	const char *pause = jstr(args, "pause_before");
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));
	struct table t;

	table_init(&t, 2, 0);
	plan_option(&t, "candidate", jstr(args, "to") ? xasprintf("%s (--to)", to) :
		    xasprintf("%s (the best replica, chosen by cutoverd)", to));
	plan_option(&t, "max lag", plan_ms(args, "max_lag_ms", "--max-lag", ccfg, "max_lag_ms"));
	plan_option(&t, "drain timeout", plan_ms(args, "drain_timeout_ms", "--drain-timeout", ccfg, "drain_timeout_ms"));
	v = jget(args, "kill_long_after_ms");
	plan_option(&t, "long writes", json_is_integer(v) ?
		    xasprintf("killed when older than %lld ms (--kill-long-transactions)", (long long)json_integer_value(v)) :
		    xstrdup("waited for, writes flowing, before the fence"));
	plan_option(&t, "sync timeout", plan_ms(args, "sync_timeout_ms", "--sync-timeout", ccfg, "sync_timeout_ms"));
	v = jget(args, "reverse");
	upgrade = jget(rep, "upgrade");
	if (json_is_object(upgrade))
		reverse = xasprintf("no: an upgrade to %s; %s (%s) cannot replicate from it and stays read-only at the "
				    "fence point, the rollback point", or_q(jstr(upgrade, "to")), from,
				    or_q(jstr(upgrade, "from")));
	else if (json_is_false(v))
		reverse = xasprintf("no: %s stays read-only and replicates from nothing (--no-reverse)", from);
	else if (json_is_true(v))
		reverse = xasprintf("yes: %s becomes a replica of %s", from, to);
	else if (json_is_true(cfg_reverse))
		reverse = xasprintf("yes: %s becomes a replica of %s (the cluster's reverse_replication)", from, to);
	else if (json_is_false(cfg_reverse))
		reverse = xasprintf("no: %s stays read-only and replicates from nothing (the cluster's "
				    "reverse_replication)", from);
	else
		reverse = xasprintf("the cluster's reverse_replication (when on: %s becomes a replica of %s)", from, to);
	plan_option(&t, "reverse", reverse);
	plan_option(&t, "pause before", plan_pause(pause, args, ccfg));
	plan_option(&t, "unreachable", json_is_true(jget(args, "allow_unreachable")) ?
		    xstrdup("go on although other replicas are unreachable (--allow-unreachable)") :
		    xstrdup("refuse when another replica is unreachable"));
	if (json_is_object(upgrade))
		plan_option(&t, "older replicas", json_is_true(jget(args, "allow_older_replicas")) ?
			    xstrdup("left stopped at the fence point, with the old primary (--allow-older-replicas)") :
			    xstrdup("refuse when another replica cannot follow the candidate"));
	fputs("  options:\n", out);
	table_print(out, &t, "    ", o);
	table_free(&t);
	free(from);
	free(to);
}

static void plan_option(struct table *t, const char *name, char *value)
{
	table_row(t);
	table_set(t, 0, xstrdup(name), NULL);
	table_set(t, 1, value, NULL);
}
