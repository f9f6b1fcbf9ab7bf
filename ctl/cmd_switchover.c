/* cutoverctl switchover and failover: on a terminal the plan first and a question, then the
 * progress as it streams and the report at the end.  The plan and the report as text are in
 * cmd_switchover_report.c. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char switchover_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  --to NAME                the new primary (default: the best replica)\n"
	"  --dry-run                run the preflight checks only; nothing is changed\n"
	"  --max-lag MS             refuse if the candidate lags more (default: max_lag)\n"
	"  --drain-timeout MS       wait this long, writes flowing, for long write statements on the\n"
	"                           old primary to end before the fence (else nothing is changed)\n"
	"  --kill-long-transactions AGE\n"
	"                           kill write statements older than AGE instead of waiting for them\n"
	"  --sync-timeout MS        how long the candidate may take to reach the fence point\n"
	"  --no-reverse             do not make the old primary a replica of the new one\n"
	"  --pause-before PHASE     hold before drain, catchup, fence, sync or promote until\n"
	"                           cutoverctl resume (or abort).  Before drain, catchup or fence\n"
	"                           nothing is blocked; before sync or promote every write is\n"
	"                           blocked for as long as it waits\n"
	"  --pause-timeout DURATION a pause left alone this long rolls back (default: the cluster's\n"
	"                           pause_timeout, 10m; after the fence blocked_pause_timeout, 30s)\n"
	"  --allow-unreachable      go on although other replicas are unreachable\n"
	"  --allow-older-replicas   go on although other replicas run an older release series than\n"
	"                           the candidate (an upgrade): they cannot follow it, and are left\n"
	"                           stopped at the fence point with the old primary, the rollback point\n"
	"  -y, --yes                do not ask for confirmation\n"
	"MS: milliseconds, or with a unit (250ms, 2s, 1m).\n"
	"On a terminal, without --yes or --dry-run, the plan is shown first and a \"y\" is needed;\n"
	"without a terminal (a script), --yes is needed.\n"
	"Exit status: 0 done (or dry run passed), 1 refused, rolled back or failed, 2 usage,\n"
	"3 cutoverd unreachable or the connection lost (the switchover goes on in the daemon).\n";

static const char failover_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  --to NAME                the new primary (default: the replica that received the most)\n"
	"  --assume-fenced          you state that the old primary cannot take writes any more\n"
	"                           (powered off, network cut): go on even if neither SQL nor its\n"
	"                           STONITH hook can fence it\n"
	"  --without-routers        go on although a router cannot be reached (it is left as it is:\n"
	"                           point it at the new primary yourself); refused otherwise\n"
	"  --dry-run                run the preflight checks only; nothing is changed\n"
	"  --sync-timeout MS        how long the new primary may take to apply its relay log\n"
	"  -y, --yes                do not ask for confirmation\n"
	"MS: milliseconds, or with a unit (250ms, 2s, 1m).\n"
	"For a dead primary: a reachable, writable one is refused (use switchover).  On a terminal,\n"
	"without --yes or --dry-run, the plan is shown first and a \"y\" is needed; with\n"
	"--assume-fenced, also the old primary's name, typed out.  Without a terminal, --yes is needed.\n"
	"Exit status: 0 done (or dry run passed), 1 refused, rolled back or failed, 2 usage,\n"
	"3 cutoverd unreachable or the connection lost (the failover goes on in the daemon).\n";

static int run_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int confirm_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt,
			      const struct cmd_args *a, json_t *args);
static int confirm_failover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			    json_t *args);
static int show_plan(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args, struct reply *rep,
		     const char **cluster, const char **from, const char **to);
static json_t *cluster_config(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *cluster);
static const json_t *reply_report(const json_t *msg);
static int finish_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep,
			     const struct xfer *x);
static void show_progress(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			  const json_t *msg);
static const char *progress_color(const char *status);

const struct ctl_cmd ctl_cmd_switchover = {
	.name = "switchover", .api = "switchover", .usage = "[OPTIONS]", .opts = CO_SWITCHOVER,
	.help = switchover_help, .build = ctl_build_args, .render = render_report,
	.stream = render_progress, .run = run_switchover, .confirm = confirm_switchover,
};

const struct ctl_cmd ctl_cmd_failover = {
	.name = "failover", .api = "failover", .usage = "[OPTIONS]", .opts = CO_FAILOVER,
	.help = failover_help, .build = ctl_build_args, .render = render_report,
	.stream = render_progress, .run = run_switchover, .confirm = confirm_failover,
};

/* switchover and failover: on a terminal, show the plan (a dry run) and ask first; then print
 * its progress as it comes and the report at the end.  SIGINT and SIGTERM leave it running in
 * the daemon: stopping one half-way is `abort`'s job (a rollback), never a side effect of a
 * stray ^C or a closed terminal. */
static int run_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	sigset_t wait_mask;
	struct cmd_args a;
	struct reply rep;
	struct xfer x;
	json_t *args;
	int r;

	if ((r = ctl_parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	args = args_to_json(&a);
	if ((r = ctl_confirm(cmd, opt, &a, args)) != EXIT_OK) {
		json_decref(args);
		return r;
	}
	ctl_catch_signals(&wait_mask);
	r = ctl_call(cmd, cmd->api, opt, args, show_progress, &wait_mask, &rep, &x);
	json_decref(args);
	if (r == EXIT_INTERRUPTED) {
		fflush(stdout);
		if (isatty(STDERR_FILENO))
			fputc('\n', stderr);
		if (!x.sent)
			fprintf(stderr, "cutoverctl: interrupted before the request was sent; nothing was "
				"changed\n");
		else if (a.dry_run)
			fprintf(stderr, "cutoverctl: interrupted; a dry run changes nothing\n");
		else
			fprintf(stderr, "cutoverctl: %s continues in the daemon; use `cutoverctl "
				"abort` to roll it back (`cutoverctl status` shows its progress)\n", cmd->name);
		r = EXIT_FAILED;
	} else if (r == EXIT_OK)
		r = finish_switchover(cmd, opt, &rep, &x);
	ctl_reply_free(&rep);
	return r;
}

/* The plan: a dry run with the same arguments, rendered.  EXIT_OK with *rep held (the caller
 * frees it) and the cluster and both servers it names; otherwise the refusal or error was
 * printed and there is nothing to ask about. */
static int show_plan(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args, struct reply *rep,
		     const char **cluster, const char **from, const char **to)
{
	FILE *out = ctl_question_out(opt);
	const json_t *report;
	const char *outcome;
	json_t *dry = json_deep_copy(args), *ccfg;
	struct xfer x;
	int r;

	json_object_set_new(dry, "dry_run", json_true());
	r = ctl_call(cmd, cmd->api, opt, dry, NULL, NULL, rep, &x);
	json_decref(dry);
	if (r != EXIT_OK) {
		ctl_reply_free(rep);
		return r;
	}
	report = reply_report(rep->msg);
	outcome = json_string_value(json_object_get(report, "outcome"));
	*cluster = json_string_value(json_object_get(report, "cluster"));
	*from = json_string_value(json_object_get(report, "old_primary"));
	*to = json_string_value(json_object_get(report, "new_primary"));
	if (!json_is_true(json_object_get(rep->msg, "ok")) || !outcome || strcmp(outcome, "dry_run") ||
	    !*cluster || !*from || !*to) {
		/* Refused, or an error before any check: nothing to ask about. */
		r = finish_switchover(cmd, opt, rep, &x);
		ctl_reply_free(rep);
		if (r == EXIT_OK)
			fprintf(stderr, "cutoverctl: the dry run's report does not name the cluster and both "
				"servers; not asking (see it with cutoverctl --json %s --dry-run)\n", cmd->name);
		return r == EXIT_OK ? EXIT_FAILED : r;
	}
	ccfg = cluster_config(cmd, opt, *cluster);
	render_plan(out, report, args, ccfg, &opt->ro);
	json_decref(ccfg);
	fputc('\n', out);
	return EXIT_OK;
}

/* The cluster's settings as the daemon runs them (its config command): the values the
 * switchover will use for what was not given, shown in the plan.  A new reference, or NULL
 * when they cannot be had (the plan then names the settings). */
static json_t *cluster_config(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *cluster)
{
	const json_t *cl;
	json_t *args = json_object(), *found = NULL;
	const char *name;
	struct reply rep;
	struct xfer x;
	size_t i;

	if (ctl_call(cmd, "config", opt, args, NULL, NULL, &rep, &x) == EXIT_OK &&
	    json_is_true(json_object_get(rep.msg, "ok"))) {
		json_array_foreach(json_object_get(json_object_get(rep.msg, "result"), "clusters"), i, cl) {
			name = json_string_value(json_object_get(cl, "name"));
			if (name && !strcmp(name, cluster) && json_is_object(cl))
				found = json_incref((json_t *)cl);
		}
	}
	json_decref(args);
	ctl_reply_free(&rep);
	return found;
}

/* Show what the switchover would do and ask.  The cluster and candidate the person agreed to
 * are then pinned in args: the best replica may be another one a second later. */
static int confirm_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt,
			      const struct cmd_args *a, json_t *args)
{
	FILE *out = ctl_question_out(opt);
	const char *cluster, *from, *to;
	struct reply rep;
	char *q;
	int r;

	if ((r = show_plan(cmd, opt, args, &rep, &cluster, &from, &to)) != EXIT_OK)
		return r;
	q = xasprintf("Proceed with the switchover of %s from %s to %s? [y/N] ", cluster, from, to);
	if (!ctl_ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else {
		json_object_set_new(args, "cluster", json_string(cluster));
		json_object_set_new(args, "to", json_string(to));
		fputc('\n', out);
	}
	free(q);
	ctl_reply_free(&rep);
	return r;
}

/* As for a switchover, and with --assume-fenced the old primary's name typed out: that flag
 * is the person's word that it cannot take writes, and a wrong word is a split brain.  A "y"
 * typed out of habit should not be enough for that. */
static int confirm_failover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			    json_t *args)
{
	FILE *out = ctl_question_out(opt);
	const char *cluster, *from, *to;
	struct reply rep;
	char *q, *typed = NULL;
	int r;

	if ((r = show_plan(cmd, opt, args, &rep, &cluster, &from, &to)) != EXIT_OK)
		return r;
	q = xasprintf("Fail over cluster %s from %s (dead) to %s? [y/N] ", cluster, from, to);
	if (!ctl_ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else if (a->assume_fenced) {
		free(q);
		fprintf(out, "\n--assume-fenced: if neither SQL nor a STONITH hook can fence %s, the failover "
			"goes on anyway.\nIf %s can still take writes, the cluster splits in two.\n", from, from);
		q = xasprintf("You state that %s cannot take writes any more (powered off, network cut). "
			      "Type the server's name to confirm: ", from);
		typed = ctl_ask_line(out, q);
		if (!confirm_name(typed, from)) {
			fprintf(stderr, "cutoverctl: that is not \"%s\"; not confirmed, nothing was changed\n", from);
			r = EXIT_FAILED;
		}
	}
	if (r == EXIT_OK) {
		json_object_set_new(args, "cluster", json_string(cluster));
		json_object_set_new(args, "to", json_string(to));
		fputc('\n', out);
	}
	free(typed);
	free(q);
	ctl_reply_free(&rep);
	return r;
}

/* A switchover's report: the result when it succeeded, the error's "report" when it was
 * refused, rolled back or failed; NULL for an error that came before it started. */
static const json_t *reply_report(const json_t *msg)
{
	const json_t *r;

	if (json_is_true(json_object_get(msg, "ok")))
		r = json_object_get(msg, "result");
	else
		r = json_object_get(json_object_get(msg, "error"), "report");
	return json_is_object(r) ? r : NULL;
}

/* The end of a switchover or failover: the report for its audience; 0 only when it was done
 * (or the dry run passed). */
static int finish_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep,
			     const struct xfer *x)
{
	const json_t *report = reply_report(rep->msg);
	const char *outcome = json_string_value(json_object_get(report, "outcome"));
	bool ok = json_is_true(json_object_get(rep->msg, "ok"));

	if (opt->json) {
		if (report)
			ctl_print_json_line(report);
		else
			printf("%s\n", rep->text);
	} else if (report) {
		if (x->progress)
			putchar('\n');
		if (render_report(stdout, report, &opt->ro) < 0) {
			fprintf(stderr, "cutoverctl: daemon sent a %s report this cutoverctl cannot "
				"show (see it with cutoverctl --json %s)\n", cmd->name, cmd->name);
			return EXIT_FAILED;
		}
		if (json_is_string(json_object_get(report, "warning")))   /* [ha]: etcd lacks its last records */
			fprintf(stderr, "cutoverctl: warning: %s\n", json_string_value(json_object_get(report, "warning")));
	} else if (ok) {
		fprintf(stderr, "cutoverctl: daemon sent a %s result without a report "
			"(see it with cutoverctl --json %s)\n", cmd->name, cmd->name);
		return EXIT_FAILED;
	}
	fflush(stdout);
	if (!ok) {
		ctl_print_error(rep->msg);
		return EXIT_FAILED;
	}
	if (!outcome || (strcmp(outcome, "done") && strcmp(outcome, "dry_run"))) {
		fprintf(stderr, "cutoverctl: the %s ended with outcome %s\n", cmd->name,
			outcome ? outcome : "(none)");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* A switchover's progress: a line for people, or the progress object as one JSON line. */
static void show_progress(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			  const json_t *msg)
{
	const json_t *p = json_object_get(msg, "progress");

	if (!p)
		return;
	if (opt->json)
		ctl_print_json_line(p);
	else
		render_progress(stdout, p, &opt->ro);
	fflush(stdout);
}

static const char *progress_color(const char *status)
{
	if (!status)
		return NULL;
	if (!strcmp(status, "ok"))
		return ANSI_GREEN;
	if (!strcmp(status, "fail"))
		return ANSI_RED;
	if (!strcmp(status, "warn"))
		return ANSI_YELLOW;
	if (!strcmp(status, "paused"))
		return ANSI_MAGENTA;
	return NULL;
}

int render_progress(FILE *out, const json_t *p, const struct render_opts *o)
{
	const json_t *el = jget(p, "elapsed_ms");
	const char *status = jstr(p, "status"), *col;
	struct sbuf b = { 0 };
	char elapsed[32], *phase, *st, *msg;
	size_t w;

	if (!json_is_object(p))
		return -1;
	if (json_is_number(el) && fabs(json_number_value(el)) < 1e12)
		snprintf(elapsed, sizeof(elapsed), "+%.1f", json_number_value(el));
	else
		snprintf(elapsed, sizeof(elapsed), "?");
	phase = clean(or_q(jstr(p, "phase")));
	st = clean(or_q(status));
	msg = clean(or_q(jstr(p, "message")));
	/* Right-aligned time, so that the phase column stays put up to +9999.9 ms. */
	sb_printf(&b, "%7s ms  ", elapsed);
	sb_add(&b, phase);
	sb_pad(&b, (w = render_width(phase)) < 9 ? 9 - w : 0);
	sb_add(&b, "  ");
	col = paint(o, progress_color(status));
	if (col)
		sb_add(&b, col);
	sb_add(&b, st);
	if (col)
		sb_add(&b, ANSI_RESET);
	sb_pad(&b, (w = render_width(st)) < 5 ? 5 - w : 0);
	sb_printf(&b, " %s", msg);
	sb_flush_line(&b, out);
	free(b.s);
	free(phase);
	free(st);
	free(msg);
	return 0;
}
