/* cutoverctl fence, unfence and stonith: one server made read-only, writable again, or
 * fenced by its STONITH hook; asked about first on a terminal. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char fence_help[] =
	"options (after the command):\n"
	"  --force                  even if NAME is the only writable server (every write stops)\n"
	"  -y, --yes                do not ask for confirmation\n"
	"Turns read_only on (MySQL: super_read_only) and checks it took; recorded in the journal.\n";

static const char unfence_help[] =
	"options (after the command):\n"
	"  -y, --yes                do not ask for confirmation\n"
	"Turns read_only off again; refused while another server of the cluster is writable, or\n"
	"while NAME replicates (use switchover to promote a replica).\n";

static const char stonith_help[] =
	"options (after the command):\n"
	"  --force                  even if NAME is the only writable server (every write stops)\n"
	"  -y, --yes                do not ask for confirmation\n"
	"Runs NAME's stonith_hook (cutoverd.conf(5)); exit status 0 means it is fenced.\n";

static int confirm_action(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args);

const struct ctl_cmd ctl_cmd_fence = {
	.name = "fence", .api = "fence", .usage = "NAME [--force] [--yes]", .opts = CO_FENCE,
	.help = fence_help, .build = ctl_build_args, .render = render_action,
	.run = ctl_run_confirmed, .confirm = confirm_action,
};

const struct ctl_cmd ctl_cmd_unfence = {
	.name = "unfence", .api = "unfence", .usage = "NAME [--yes]", .opts = CO_SERVER | CO_YES,
	.help = unfence_help, .build = ctl_build_args, .render = render_action,
	.run = ctl_run_confirmed, .confirm = confirm_action,
};

const struct ctl_cmd ctl_cmd_stonith = {
	.name = "stonith", .api = "stonith", .usage = "NAME [--force] [--yes]", .opts = CO_FENCE,
	.help = stonith_help, .build = ctl_build_args, .render = render_action,
	.run = ctl_run_confirmed, .confirm = confirm_action,
};

/* fence, unfence, stonith name the server and say what will happen to it. */
static int confirm_action(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args)
{
	FILE *out = ctl_question_out(opt);
	char *q;
	int r = EXIT_OK;

	if (a->force)
		fprintf(out, "--force: this goes ahead even if %s is the only writable server; then every "
			"write stops.\n", a->server);
	if (!strcmp(cmd->name, "fence"))
		q = xasprintf("Make %s read-only? [y/N] ", a->server);
	else if (!strcmp(cmd->name, "unfence"))
		q = xasprintf("Make %s writable again? [y/N] ", a->server);
	else if (!strcmp(cmd->name, "stonith"))
		q = xasprintf("Run the STONITH hook against %s? [y/N] ", a->server);
	else
		q = xasprintf("Run %s against %s? [y/N] ", cmd->name, a->server);
	if (!ctl_ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	}
	free(q);
	return r;
}

int render_action(FILE *out, const json_t *result, const struct render_opts *o)
{
	const char *action = jstr(result, "action");
	char *srv, *res, *act;

	if (!json_is_object(result))
		return -1;
	srv = clean(or_q(jstr(result, "server")));
	res = clean(or_q(jstr(result, "result")));
	if (action && !strcmp(action, "fence"))
		fprintf(out, "%s fenced: %s\n", srv, res);
	else if (action && !strcmp(action, "unfence"))
		fprintf(out, "%s unfenced: %s\n", srv, res);
	else if (action && !strcmp(action, "stonith"))
		fprintf(out, "STONITH hook against %s succeeded: %s\n", srv, res);
	else {
		act = clean(or_q(action));
		fprintf(out, "%s %s: %s\n", act, srv, res);
		free(act);
	}
	free(srv);
	free(res);
	return 0;
}
