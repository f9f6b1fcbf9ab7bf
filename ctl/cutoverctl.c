/* cutoverctl: the thin client of cutoverd.  Tables for people, the API's JSON for scripts
 * (--json), and exit codes scripts can rely on (see cutoverctl(1)):
 *   0 ok, 1 the command failed, 2 usage error, 3 daemon unreachable.
 *
 * This file is main(): the options before the command, then the command's entry in the table
 * (cmds.c, see ctl.h) runs with the words after its name. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "proto.h"
#include "util.h"

static int parse_options(int argc, char **argv, struct ctl_opts *opt);
static void init_render(struct ctl_opts *opt);

int main(int argc, char **argv)
{
	struct ctl_opts opt;
	const struct ctl_cmd *cmd;
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = parse_options(argc, argv, &opt);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		ctl_usage_error("no command given");
		return EXIT_USAGE;
	}
	cmd = ctl_find_cmd(argv[optind]);
	if (!cmd) {
		ctl_usage_error("unknown command '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	init_render(&opt);
	r = cmd->run(cmd, &opt, argc - optind - 1, argv + optind + 1);
	if (r == EXIT_INTERRUPTED)
		r = EXIT_OK;
	if (r == EXIT_OK && ctl_stdout_done() < 0)
		r = EXIT_FAILED;
	return r;
}

/* -1 to go on with the command, else the exit code. */
static int parse_options(int argc, char **argv, struct ctl_opts *opt)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cluster", required_argument, NULL, 'C' },
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
	opterr = 0;
	/* "+": options end at the command, whose own arguments may start with '-' (raw -). */
	while ((ch = getopt_long(argc, argv, "+:s:jt:C:hV", longopts, NULL)) != -1) {
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
		case 'h':
			ctl_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("cutoverctl %s (API %d)\n", CUTOVER_VERSION, API_VERSION);
			return EXIT_OK;
		case ':':
			ctl_usage_error("option %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt)
				ctl_usage_error("unknown option -%c", optopt);
			else
				ctl_usage_error("unknown option %s", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* Colors and the terminal width only for a person looking at a terminal. */
static void init_render(struct ctl_opts *opt)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	struct winsize ws;
	bool tty = isatty(STDOUT_FILENO);

	opt->ro.color = tty && !opt->json && !(nc && *nc) && !(term && !strcmp(term, "dumb"));
	opt->ro.width = 0;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		opt->ro.width = ws.ws_col;
}
