/* cutoverctl abort, pause, resume and resolve (a running or an interrupted switchover), and
 * history (the past ones). */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char resolve_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  -y, --yes                do not ask for confirmation\n"
	"Resolve only after checking by hand which server is writable and where the routers\n"
	"send writes: it tells cutoverd the interrupted switchover has been dealt with.\n";

static int confirm_resolve(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			   json_t *args);
static void history_row(struct table *t, const json_t *sw, const struct render_opts *o);
static double phases_total(const json_t *phases, bool *any);
static void format_date(char *buf, size_t len, const char *iso);

const struct ctl_cmd ctl_cmd_abort = {
	.name = "abort", .api = "abort", .usage = "[--cluster NAME]", .opts = CO_CLUSTER,
	.build = ctl_build_args, .render = render_abort, .run = ctl_run_request,
};

static const char pause_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  --pause-timeout DURATION roll back on its own when left paused this long (default: the\n"
	"                           cluster's pause_timeout, 10m; after the fence\n"
	"                           blocked_pause_timeout, 30s)\n"
	"The switchover holds once its current phase is done.  Paused before the fence nothing is\n"
	"blocked; paused after it (before sync or promote) every write is blocked until resume or\n"
	"abort.  It cannot pause from promote on.\n";

const struct ctl_cmd ctl_cmd_pause = {
	.name = "pause", .api = "pause", .usage = "[--cluster NAME] [--pause-timeout DURATION]",
	.opts = CO_CLUSTER | CO_PAUSE_TIMEOUT, .help = pause_help,
	.build = ctl_build_args, .render = render_pause, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_resume = {
	.name = "resume", .api = "resume", .usage = "[--cluster NAME]", .opts = CO_CLUSTER,
	.build = ctl_build_args, .render = render_resume, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_resolve = {
	.name = "resolve", .api = "resolve", .usage = "[--cluster NAME] [--yes]",
	.opts = CO_CLUSTER | CO_YES, .help = resolve_help, .build = ctl_build_args,
	.render = render_resolve, .run = ctl_run_confirmed, .confirm = confirm_resolve,
};

const struct ctl_cmd ctl_cmd_history = {
	.name = "history", .api = "history", .usage = "[--cluster NAME] [--limit N]",
	.opts = CO_CLUSTER | CO_LIMIT, .build = ctl_build_args, .render = render_history,
	.run = ctl_run_request,
};

/* Find the interrupted switchover in status and ask about it by name.  When there is none
 * (or several, and no --cluster) there is nothing to ask: the daemon's answer to resolve says
 * what is wrong. */
static int confirm_resolve(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			   json_t *args)
{
	FILE *out = ctl_question_out(opt);
	const json_t *clusters, *cl, *co, *found = NULL, *found_cl = NULL;
	const char *state, *name;
	json_t *sargs = json_object();
	struct reply rep;
	struct xfer x;
	size_t i, n = 0;
	char *q;
	int r;

	if (json_object_get(args, "cluster"))
		json_object_set(sargs, "cluster", json_object_get(args, "cluster"));
	r = ctl_call(cmd, "status", opt, sargs, NULL, NULL, &rep, &x);
	json_decref(sargs);
	if (r != EXIT_OK || !json_is_true(json_object_get(rep.msg, "ok"))) {
		ctl_reply_free(&rep);
		return r;       /* an error reply: let resolve's own answer speak */
	}
	clusters = json_object_get(json_object_get(rep.msg, "result"), "clusters");
	json_array_foreach(clusters, i, cl) {
		co = json_object_get(cl, "cutover");
		state = json_string_value(json_object_get(co, "state"));
		if (state && !strcmp(state, "interrupted")) {
			found = co;
			found_cl = cl;
			n++;
		}
	}
	name = json_string_value(json_object_get(found_cl, "name"));
	if (n != 1 || !name) {
		ctl_reply_free(&rep);
		return EXIT_OK;
	}
	fprintf(out, "cluster %s: ", name);
	render_cutover_line(out, found, &opt->ro);
	fputs("Resolving tells cutoverd that this switchover has been dealt with by hand: check first\n"
	      "which server is writable, that the others replicate from it, and where the routers\n"
	      "send writes.\n\n", out);
	q = xasprintf("Mark the interrupted switchover on cluster %s as resolved? [y/N] ", name);
	if (!ctl_ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else
		json_object_set_new(args, "cluster", json_string(name));
	free(q);
	ctl_reply_free(&rep);
	return r;
}

/* ---- abort, pause, resume, resolve ------------------------------------------------------ */

static bool render_other(FILE *out, const json_t *result, const char *verb);

int render_abort(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *phase;

	if (!json_is_object(result))
		return -1;
	if (render_other(out, result, "aborting (a batch being moved rolls back; a read shift goes back to 0 %)"))
		return 0;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "phase")));
	fprintf(out, "switchover %s is rolling back (it was in phase %s); cutoverctl status shows "
		"when it is done\n", id, phase);
	free(id);
	free(phase);
	return 0;
}

/* abort, pause and resume answer with the tenant move's or the read shift's state when that is
 * what they acted on: one line for it; false when the result is a switchover's. */
static bool render_other(FILE *out, const json_t *result, const char *verb)
{
	const char *kind = jstr(result, "kind");
	char *id, *st;

	if (!kind || (strcmp(kind, "tenant_move") && strcmp(kind, "read_shift")))
		return false;
	id = clean(or_q(jstr(result, "id")));
	st = clean(or_q(jstr(result, "state")));
	if (!strcmp(kind, "tenant_move"))
		fprintf(out, "tenant move %s (%s): %s; %lld moved, %lld rolled back, %lld to go\n", id, st, verb,
			(long long)json_integer_value(jget(result, "moved")), (long long)json_integer_value(jget(result, "rolled_back")),
			(long long)json_integer_value(jget(result, "pending")));
	else
		fprintf(out, "read shift %s (%s): %s; %lld%% in force\n", id, st, verb,
			(long long)json_integer_value(jget(result, "in_force")));
	free(id);
	free(st);
	return true;
}

int render_pause(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *limit = jget(result, "pause_limit_ms");
	char *id, *phase, lim[24];

	if (!json_is_object(result))
		return -1;
	if (render_other(out, result, "it pauses before its next batch (a read shift: at its step); cutoverctl resume goes on"))
		return 0;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "pausing_after")));
	fprintf(out, "switchover %s pauses once phase %s is done; then cutoverctl resume goes on, "
		"cutoverctl abort rolls back\n", id, phase);
	if (json_is_true(jget(result, "writes_blocked")))
		fprintf(out, "beware: that is past the fence, so every write is blocked while it is paused\n");
	else if (json_is_false(jget(result, "writes_blocked")))
		fprintf(out, "that is before the fence: nothing is blocked while it is paused\n");
	if (json_is_integer(limit))
		fprintf(out, "left paused %s, it rolls back on its own\n",
			duration_text(json_integer_value(limit), lim, sizeof(lim)));
	free(id);
	free(phase);
	return 0;
}

int render_resume(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *phase;

	if (!json_is_object(result))
		return -1;
	if (render_other(out, result, "resumed"))
		return 0;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "resuming")));
	fprintf(out, "switchover %s resumes with phase %s\n", id, phase);
	free(id);
	free(phase);
	return 0;
}

int render_resolve(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *cl;

	if (!json_is_object(result))
		return -1;
	id = clean(or_q(jstr(result, "id")));
	cl = clean(or_q(jstr(result, "resolved")));
	fprintf(out, "switchover %s on cluster %s is resolved; new switchovers are allowed again\n", id, cl);
	free(id);
	free(cl);
	return 0;
}

/* ---- history ---------------------------------------------------------------------------- */

int render_history(FILE *out, const json_t *result, const struct render_opts *o)
{
	static const char *const head[] = { "STARTED", "ID", "OLD " ARROW " NEW", "OUTCOME", "BLOCKED(ms)",
					     "PHASES(ms)", "REASON" };
	const json_t *list = jget(result, "switchovers"), *sw;
	char *cl;
	struct table t;
	size_t i;

	if (!json_is_array(list))
		return -1;
	cl = clean(or_q(jstr(result, "cluster")));
	if (json_array_size(list) == 0) {
		fprintf(out, "no switchovers on cluster %s\n", cl);
		free(cl);
		return 0;
	}
	fprintf(out, "cluster %s: %zu switchover%s, oldest first\n", cl, json_array_size(list),
		json_array_size(list) == 1 ? "" : "s");
	free(cl);
	table_init(&t, ARRAY_LEN(head), (1u << 4) | (1u << 5));
	table_row(&t);
	for (i = 0; i < ARRAY_LEN(head); i++)
		table_set(&t, i, xstrdup(head[i]), NULL);
	json_array_foreach(list, i, sw)
		history_row(&t, sw, o);
	table_print(out, &t, "  ", o);
	table_free(&t);
	return 0;
}

static void history_row(struct table *t, const json_t *sw, const struct render_opts *o)
{
	const char *outcome = jstr(sw, "outcome"), *reason = jstr(sw, "reason");
	char when[64];
	double total;
	bool any;

	format_date(when, sizeof(when), jstr(sw, "started"));
	table_row(t);
	table_set(t, 0, xstrdup(when), NULL);
	table_set(t, 1, xstrdup(or_q(jstr(sw, "id"))), NULL);
	table_set(t, 2, xasprintf("%s " ARROW " %s%s", or_q(jstr(sw, "old_primary")),
				  or_q(jstr(sw, "new_primary")), is_failover(sw) ? " (failover)" : ""), NULL);
	table_set(t, 3, xstrdup(or_q(outcome)), outcome_color(outcome));
	table_set(t, 4, ms_cell(jget(sw, "write_blocked_ms")), NULL);
	total = phases_total(jget(sw, "phases"), &any);
	table_set(t, 5, any ? xasprintf("%.1f", total) : xstrdup("-"), NULL);
	table_set(t, 6, xstrdup(reason ? reason : ""), NULL);
}

/* The sum of the phases that have a duration; *any is false when none has. */
static double phases_total(const json_t *phases, bool *any)
{
	const json_t *ph, *ms;
	double sum = 0;
	size_t i;

	*any = false;
	json_array_foreach(phases, i, ph) {
		ms = jget(ph, "ms");
		if (json_is_number(ms)) {
			sum += json_number_value(ms);
			*any = true;
		}
	}
	return sum;
}

/* The same as a local date and time to the second, for history's STARTED column. */
static void format_date(char *buf, size_t len, const char *iso)
{
	struct tm lt;
	time_t t;
	int ms;

	if (!iso) {
		snprintf(buf, len, "?");
		return;
	}
	if (!parse_iso_utc(iso, &t, &ms) || !localtime_r(&t, &lt)) {
		snprintf(buf, len, "%s", iso);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", lt.tm_year + 1900, lt.tm_mon + 1,
		 lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec);
}
