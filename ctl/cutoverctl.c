/* cutoverctl: the thin client of cutoverd.  Tables for people, the API's JSON for scripts
 * (--json), and exit codes scripts can rely on (see cutoverctl(1)):
 *   0 ok, 1 the command failed, 2 usage error, 3 daemon unreachable.
 *
 * This file is main(): the global options (cmdline.c), then the command's entry in the table
 * (cmds.c, see ctl.h) runs with the words after its name. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "proto.h"
#include "util.h"

static void init_render(struct ctl_opts *opt);

int main(int argc, char **argv)
{
	struct ctl_opts opt;
	const struct ctl_cmd *cmd;
	int r, ci;

	signal(SIGPIPE, SIG_IGN);
	r = ctl_parse_cmdline(argc, argv, &opt, &ci);
	if (r >= 0)
		return r;
	cmd = ctl_find_cmd_or_say(argv[ci]);
	if (!cmd)
		return EXIT_USAGE;
	init_render(&opt);
	r = cmd->run(cmd, &opt, argc - ci - 1, argv + ci + 1);
	if (r == EXIT_INTERRUPTED)
		r = EXIT_OK;
	if (r == EXIT_OK && ctl_stdout_done() < 0)
		r = EXIT_FAILED;
	return r;
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
