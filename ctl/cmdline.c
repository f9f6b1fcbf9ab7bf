/* cutoverctl's command line before the command runs: the global options, taken anywhere
 * ("cutoverctl status --json" as well as "cutoverctl --json status", as git and systemctl
 * take them), and the command found by name, with the nearest one suggested for a typo. */
#include "ctl.h"
#include "proto.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* The global options that may also follow the command.  --cluster is not among them: the
 * commands that take a cluster parse it themselves (it may agree with one given before). */
static const struct {
	const char *name;
	char short_name;
	bool value;
} hoisted[] = {
	{ "socket", 's', true }, { "json", 'j', false }, { "timeout", 't', true }, { "follow-leader", 'L', false },
};

static int global_option_words(const char *w, bool before_cmd);
static int usage_error_for(int ch, char **argv);

/* How many words the global option w is (1, or 2 when its value is the next word), or 0 if
 * it is not one (before the command: any option; after it: those of hoisted[]). */
static int global_option_words(const char *w, bool before_cmd)
{
	const char *eq;
	size_t k, len;

	if (w[0] != '-' || w[1] == '\0' || !strcmp(w, "--"))
		return 0;
	if (w[1] == '-') {
		eq = strchr(w + 2, '=');
		len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
		for (k = 0; k < ARRAY_LEN(hoisted); k++)
			if (strlen(hoisted[k].name) == len && !strncmp(hoisted[k].name, w + 2, len))
				return hoisted[k].value && !eq ? 2 : 1;
		if (before_cmd && len == 7 && !strncmp(w + 2, "cluster", 7))
			return !eq ? 2 : 1;
		return before_cmd ? 1 : 0;
	}
	for (k = 0; k < ARRAY_LEN(hoisted); k++)
		if (w[1] == hoisted[k].short_name)
			return hoisted[k].value && w[2] == '\0' ? 2 : 1;
	if (before_cmd && w[1] == 'C')
		return w[2] == '\0' ? 2 : 1;
	return before_cmd ? 1 : 0;
}

int ctl_hoist_globals(int argc, char **argv)
{
	char **out = xcalloc((size_t)argc + 1, sizeof(*out));
	bool *moved = xcalloc((size_t)argc + 1, sizeof(*moved));
	int i = 1, n = 1, cmd, k, w, r = 0;

	out[0] = argv[0];
	/* the options before the command stay where they are */
	while (i < argc && (w = global_option_words(argv[i], true)) > 0) {
		for (k = 0; k < w && i < argc; k++)   /* a missing value: getopt says so */
			out[n++] = argv[i++];
	}
	cmd = i;
	/* then those after it, up to "--" (after which every word is the command's) */
	for (i = cmd + 1; i < argc && strcmp(argv[i], "--"); i++) {
		if ((w = global_option_words(argv[i], false)) == 0)
			continue;
		/* moved before the command, "-s" would take the command's name as its value */
		if (i + w > argc) {
			ctl_usage_error("option %s needs a value", argv[i]);
			r = -1;
			break;
		}
		for (k = 0; k < w; k++) {
			out[n++] = argv[i + k];
			moved[i + k] = true;
		}
		i += w - 1;
	}
	/* and the command with the rest of its words, in their order */
	for (i = cmd; i < argc; i++)
		if (!moved[i])
			out[n++] = argv[i];
	if (r == 0)
		memcpy(argv, out, (size_t)argc * sizeof(*argv));
	free(out);
	free(moved);
	return r;
}

int ctl_parse_cmdline(int argc, char **argv, struct ctl_opts *opt, int *cmd_index)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "follow-leader", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env = getenv("CUTOVERD_SOCKET");
	long long ms;
	int ch;

	memset(opt, 0, sizeof(*opt));
	opt->socket = env && *env ? env : DEFAULT_SOCKET_PATH;
	opt->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (ctl_hoist_globals(argc, argv) < 0)
		return EXIT_USAGE;
	optind = 0;             /* a fresh scan (glibc), also when called again by the tests */
	opterr = 0;
	/* "+": options end at the command, whose own arguments may start with '-' (raw -). */
	while ((ch = getopt_long(argc, argv, "+:s:jt:C:LhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!*optarg) {
				ctl_usage_error("--socket needs a path");
				return EXIT_USAGE;
			}
			opt->socket = optarg;
			break;
		case 'j':
			opt->json = true;
			break;
		case 't':
			if (!parse_duration_ms(optarg, 1, &ms) || ms > 86400000) {
				ctl_usage_error("--timeout %s: not a duration (milliseconds, or with a unit: "
						"500ms, 2s, 1m; 0 waits forever)", optarg);
				return EXIT_USAGE;
			}
			opt->timeout_ms = (int)ms;
			break;
		case 'C':
			opt->cluster = optarg;
			break;
		case 'L':
			opt->follow_leader = true;
			break;
		case 'h':
			ctl_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("cutoverctl %s (API %d)\n", CUTOVER_VERSION, API_VERSION);
			return EXIT_OK;
		default:
			return usage_error_for(ch, argv);
		}
	}
	*cmd_index = optind;
	if (optind >= argc) {
		ctl_usage_error("no command given");
		return EXIT_USAGE;
	}
	return -1;
}

static int usage_error_for(int ch, char **argv)
{
	if (ch == ':')
		ctl_usage_error("option %s needs a value", argv[optind - 1]);
	else if (optopt)
		ctl_usage_error("unknown option -%c", optopt);
	else
		ctl_usage_error("unknown option %s", argv[optind - 1]);
	return EXIT_USAGE;
}

const struct ctl_cmd *ctl_find_cmd_or_say(const char *name)
{
	const struct ctl_cmd *cmd = ctl_find_cmd(name);
	const char *near;

	if (cmd)
		return cmd;
	near = ctl_nearest_cmd(name);
	if (near)
		ctl_usage_error("unknown command '%s' (did you mean %s?)", name, near);
	else
		ctl_usage_error("unknown command '%s'", name);
	return NULL;
}
