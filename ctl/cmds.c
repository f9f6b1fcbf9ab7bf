/* cutoverctl's table of commands, and what they share on the command line: finding one by
 * name, the usage and its errors, the builders of a request's arguments, help, and the
 * questions asked on a terminal.  Each entry is in the file of its family (see ctl.h). */
#include "ctl.h"
#include "cmdtab.h"
#include "proto.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *cmd_summary(const struct ctl_cmd *cmd);
static bool reject_options(const struct ctl_cmd *cmd, int argc, char **argv);
static int run_help(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);

const struct ctl_cmd ctl_cmd_help = {
	.name = "help", .usage = "[COMMAND]", .summary = "this help, or one command's",
	.run = run_help,
};

/* In the order of the usage. */
static const struct ctl_cmd *const ctl_cmds[] = {
	&ctl_cmd_status, &ctl_cmd_topology, &ctl_cmd_version, &ctl_cmd_config, &ctl_cmd_reload,
	&ctl_cmd_watch, &ctl_cmd_switchover, &ctl_cmd_abort, &ctl_cmd_pause, &ctl_cmd_resume,
	&ctl_cmd_resolve, &ctl_cmd_history, &ctl_cmd_shift, &ctl_cmd_move, &ctl_cmd_failover, &ctl_cmd_fence, &ctl_cmd_unfence,
	&ctl_cmd_stonith, &ctl_cmd_raw, &ctl_cmd_relay, &ctl_cmd_help, NULL,
};

const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	const struct ctl_cmd *const *c;
	for (c = ctl_cmds; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

/* For "did you mean": the command nearest to a typo, within two edits ("swichover"). */
const char *ctl_nearest_cmd(const char *name)
{
	const char *names[ARRAY_LEN(ctl_cmds)];
	size_t n;

	for (n = 0; ctl_cmds[n]; n++)
		names[n] = ctl_cmds[n]->name;
	return closest_name(name, names, n, 2);
}

bool ctl_is_help(const char *word)
{
	return !strcmp(word, "--help") || !strcmp(word, "-h");
}

static const char *cmd_summary(const struct ctl_cmd *cmd)
{
	const struct cmd_spec *spec;
	if (cmd->summary)
		return cmd->summary;
	spec = cmd->api ? cmd_find(cmd->api) : NULL;
	return spec ? spec->summary : "";
}

void ctl_usage(FILE *out)
{
	const struct ctl_cmd *const *cp, *c;
	char *left;

	fprintf(out,
		"usage: cutoverctl [--socket PATH] [--json] [--timeout MS] [--cluster NAME] [--follow-leader] COMMAND [ARGS]\n"
		"\n"
		"commands:\n");
	for (cp = ctl_cmds; (c = *cp); cp++) {
		left = xasprintf("%s%s%s", c->name, *c->usage ? " " : "", c->usage);
		if (strlen(left) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", left, "", cmd_summary(c));
		else
			fprintf(out, "  %-24s %s\n", left, cmd_summary(c));
		free(left);
	}
	fprintf(out,
		"\n"
		"options (before or after the command):\n"
		"  -s, --socket PATH     control socket (default: $CUTOVERD_SOCKET, else %s)\n"
		"  -j, --json            print the API's JSON instead of tables\n"
		"  -t, --timeout MS      wait at most MS ms for the daemon (default %d; 2s, 1m; 0 = forever)\n"
		"  -C, --cluster NAME    only this cluster (status, topology, watch, and the\n"
		"                        switchover commands, which take it after their name too)\n"
		"  -L, --follow-leader   with [ha]: a member that is not the leader answers NOT_LEADER;\n"
		"                        send the request again to the leader's control socket (once)\n"
		"  -h, --help            this help\n"
		"  -V, --version         cutoverctl's own version\n"
		"\n"
		"exit status: 0 ok, 1 the command failed, 2 usage error, 3 cutoverd unreachable.\n"
		"'cutoverctl help COMMAND' shows a command's options.  See cutoverctl(1).\n",
		DEFAULT_SOCKET_PATH, DEFAULT_TIMEOUT_MS);
}

void ctl_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("cutoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'cutoverctl help'.\n", stderr);
}

/* An option these commands do not take (the global ones were taken out already): say so
 * instead of "too many arguments". */
static bool reject_options(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ctl_usage_error("%s: unknown option %s (it takes %s%s)", cmd->name, argv[i],
					*cmd->usage ? cmd->usage : "no arguments",
					*cmd->usage ? " and the global options" : " but the global options");
			return true;
		}
	}
	return false;
}

/* --help or -h anywhere among a command's words: true after printing its help. */
static bool asked_help(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int i;
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (ctl_is_help(argv[i])) {
			ctl_command_help(cmd);
			return true;
		}
	return false;
}

/* ---- argument builders ------------------------------------------------------------------ */

int ctl_build_none(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		   json_t *args)
{
	if (asked_help(cmd, argc, argv))
		return 1;
	if (reject_options(cmd, argc, argv))
		return -1;
	if (argc > 0) {
		ctl_usage_error("%s takes no arguments ('%s' given)", cmd->name, argv[0]);
		return -1;
	}
	if (opt->cluster) {
		ctl_usage_error("--cluster does not apply to %s", cmd->name);
		return -1;
	}
	return 0;
}

/* [CLUSTER] as an argument or --cluster (before or after the command); both is fine when
 * they agree. */
int ctl_build_cluster(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
		      char **argv, json_t *args)
{
	const char *cluster = opt->cluster, *word = NULL;
	char *words[2];
	int i, n = 0;
	json_t *v;

	if (asked_help(cmd, argc, argv))
		return 1;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--cluster") || !strcmp(argv[i], "-C")) {
			if (i + 1 >= argc) {
				ctl_usage_error("%s: %s needs a value", cmd->name, argv[i]);
				return -1;
			}
			word = argv[++i];
		} else if (!strncmp(argv[i], "--cluster=", 10))
			word = argv[i] + 10;
		else if (n < 2)
			words[n++] = argv[i];
		else
			n++;
		if (word && cluster && strcmp(cluster, word)) {
			ctl_usage_error("%s: --cluster %s and --cluster %s name different clusters", cmd->name,
					cluster, word);
			return -1;
		}
		if (word)
			cluster = word;
		word = NULL;
	}
	if (reject_options(cmd, n < 2 ? n : 2, words))
		return -1;
	if (n > 1) {
		ctl_usage_error("%s: too many arguments (usage: cutoverctl %s %s)", cmd->name, cmd->name,
				cmd->usage);
		return -1;
	}
	if (n == 1) {
		if (cluster && strcmp(cluster, words[0])) {
			ctl_usage_error("%s: --cluster %s and the argument %s name different clusters",
					cmd->name, cluster, words[0]);
			return -1;
		}
		cluster = words[0];
	}
	if (!cluster)
		return 0;
	if (!*cluster || !(v = json_string(cluster))) {
		ctl_usage_error("%s: '%s' is not a cluster name (empty or not UTF-8)", cmd->name, cluster);
		return -1;
	}
	json_object_set_new(args, "cluster", v);
	return 0;
}

/* Options after the command name, as listed in cmd->opts; see args.h. */
int ctl_parse_cmd_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		       struct cmd_args *a)
{
	char err[768];

	if (args_parse(cmd->name, cmd->opts, argc, argv, opt->cluster, a, err, sizeof(err)) < 0) {
		fprintf(stderr, "cutoverctl: %s\nTry 'cutoverctl help %s'.\n", err, cmd->name);
		return -1;
	}
	if (a->help) {
		ctl_command_help(cmd);
		return 1;
	}
	return 0;
}

int ctl_build_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		   json_t *args)
{
	struct cmd_args a;
	json_t *o;
	int r;

	if ((r = ctl_parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r;
	o = args_to_json(&a);
	json_object_update(args, o);
	json_decref(o);
	return 0;
}

/* ---- help ------------------------------------------------------------------------------- */

static int run_help(const struct ctl_cmd *self, const struct ctl_opts *opt, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc == 0) {
		ctl_usage(stdout);
		return EXIT_OK;
	}
	if (argc == 1 && ctl_is_help(argv[0])) {
		ctl_command_help(self);
		return EXIT_OK;
	}
	if (argc > 1) {
		ctl_usage_error("help takes at most one command name");
		return EXIT_USAGE;
	}
	cmd = ctl_find_cmd_or_say(argv[0]);
	if (!cmd)
		return EXIT_USAGE;
	ctl_command_help(cmd);
	return EXIT_OK;
}

/* One command's usage, its options, and the API arguments it sends. */
void ctl_command_help(const struct ctl_cmd *cmd)
{
	const struct cmd_spec *spec;
	const struct arg_spec *a;

	printf("usage: cutoverctl [GLOBAL OPTIONS] %s%s%s\n\n%s\n", cmd->name, *cmd->usage ? " " : "",
	       cmd->usage, cmd_summary(cmd));
	if (cmd->help)
		printf("\n%s", cmd->help);
	spec = cmd->api ? cmd_find(cmd->api) : NULL;
	if (spec) {
		printf("\nAPI command \"%s\"%s%s\n", spec->name,
		       spec->flags & CMD_MUTATING ? " (changes state: root or an admin user only)" : "",
		       spec->flags & CMD_STREAM ? " (streams)" : "");
		for (a = spec->args; a && a->name; a++)
			printf("  %s (%s%s): %s\n", a->name, arg_type_name(a->type),
			       a->required ? ", required" : "", a->help);
	}
}

/* ---- questions -------------------------------------------------------------------------- */

enum ctl_confirm ctl_confirm_mode(const struct ctl_cmd *cmd, const struct cmd_args *a, bool stdin_tty)
{
	if (!cmd->confirm || a->yes || a->dry_run)
		return CONFIRM_SKIP;
	return stdin_tty ? CONFIRM_ASK : CONFIRM_REFUSE;
}

int ctl_confirm(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
		json_t *args)
{
	switch (ctl_confirm_mode(cmd, a, isatty(STDIN_FILENO))) {
	case CONFIRM_SKIP:
		return EXIT_OK;
	case CONFIRM_ASK:
		return cmd->confirm(cmd, opt, a, args);
	case CONFIRM_REFUSE:
		break;
	}
	fprintf(stderr, "cutoverctl: %s asks for confirmation, and standard input is not a terminal: "
		"add --yes to go ahead without asking%s; nothing was changed\n", cmd->name,
		cmd->opts & CO_DRY_RUN ? " (or --dry-run to see the plan)" : "");
	return EXIT_USAGE;
}

FILE *ctl_question_out(const struct ctl_opts *opt)
{
	return opt->json || !isatty(STDOUT_FILENO) ? stderr : stdout;
}

/* The line typed in answer (with its newline), or NULL at the end of input. */
char *ctl_ask_line(FILE *out, const char *question)
{
	char *line = NULL;
	size_t cap = 0;

	fputs(question, out);
	fflush(out);
	if (getline(&line, &cap, stdin) < 0) {
		fputc('\n', out);
		free(line);
		return NULL;
	}
	return line;
}

/* Ask on the terminal; only "y" or "yes" (in any case) is a yes, end of input is a no. */
bool ctl_ask(FILE *out, const char *question)
{
	char *line = ctl_ask_line(out, question);
	bool yes;

	if (!line)
		return false;
	trim(line);
	yes = !strcasecmp(line, "y") || !strcasecmp(line, "yes");
	free(line);
	return yes;
}
