/* cutoverctl's command line: global options anywhere, --help after every command (without a
 * word sent to the daemon), "did you mean" for a mistyped command, and what it says when the
 * daemon cannot be reached. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ctl/client.h"
#include "../ctl/ctl.h"

/* ssh://[USER@]HOST[:PORT]/PATH: what is taken, and what is refused with why (nothing ssh could
 * read as an option, no port out of range, no empty part). */
START_TEST(test_remote_address)
{
	static const char *const bad[] = {
		"ssh://db-admin2",              /* no path */
		"ssh://db-admin2/",             /* empty path */
		"ssh:///run/x.sock",            /* no host */
		"ssh://-oProxyCommand=x/run/x.sock",
		"ssh://-l@h/run/x.sock",
		"ssh://h:0/run/x.sock",
		"ssh://h:70000/run/x.sock",
		"ssh://h:22x/run/x.sock",
		"ssh://[::1/run/x.sock",
		"ssh://[::1]x/run/x.sock",
		"ssh://@h/run/x.sock",
		"/run/x.sock",
	};
	struct ctl_remote r;
	char why[600];
	size_t i;

	ck_assert(ctl_remote_address("ssh://h/p"));
	ck_assert(!ctl_remote_address("/run/cutoverd/cutoverd.sock"));
	ck_assert(!ctl_remote_address(NULL));
	ck_assert_int_eq(ctl_remote_parse("ssh://db-admin2/run/cutoverd/cutoverd.sock", &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.host, "db-admin2");
	ck_assert_str_eq(r.user, "");
	ck_assert_int_eq(r.port, 0);
	ck_assert_str_eq(r.path, "/run/cutoverd/cutoverd.sock");
	ck_assert_int_eq(ctl_remote_parse("ssh://ops@10.0.0.2:2222/run/c.sock", &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.user, "ops");
	ck_assert_str_eq(r.host, "10.0.0.2");
	ck_assert_int_eq(r.port, 2222);
	ck_assert_str_eq(r.path, "/run/c.sock");
	ck_assert_int_eq(ctl_remote_parse("ssh://[fd00::2]:22/r/it's.sock", &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.host, "fd00::2");
	ck_assert_int_eq(r.port, 22);
	ck_assert_str_eq(r.path, "/r/it's.sock");
	ck_assert_int_eq(ctl_remote_parse("ssh://[fd00::2]/r.sock", &r, why, sizeof(why)), 0);
	ck_assert_str_eq(r.host, "fd00::2");
	ck_assert_int_eq(r.port, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(ctl_remote_parse(bad[i], &r, why, sizeof(why)) < 0, "%s was taken", bad[i]);
		ck_assert_msg(why[0] != '\0', "%s: refused without a reason", bad[i]);
	}
}
END_TEST

Suite *ctl_suite(void);

#define NOWHERE "/nonexistent/cutoverd.sock"

/* argv as main gets it: a writable array of the words, NULL-terminated. */
struct words {
	int argc;
	char *argv[32];
};

static struct words words(const char *first, ...)
{
	struct words w = { 0 };
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s && w.argc < 31; s = va_arg(ap, const char *))
		w.argv[w.argc++] = (char *)s;
	va_end(ap);
	w.argv[w.argc] = NULL;
	return w;
}

/* Run fn with stdout and stderr in files; their text in *out and *err (freed by the caller). */
static char *slurp(FILE *f)
{
	long n;
	char *buf;

	fflush(f);
	n = ftell(f);
	buf = calloc(1, (size_t)n + 1);
	rewind(f);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	return buf;
}

static int run_cmd(const char *name, struct words *w, char **out, char **err)
{
	const struct ctl_cmd *cmd = ctl_find_cmd(name);
	struct ctl_opts opt = { .socket = NOWHERE, .timeout_ms = 500 };
	FILE *fo = tmpfile(), *fe = tmpfile();
	int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO), r;

	ck_assert_ptr_nonnull(cmd);
	fflush(stdout);
	fflush(stderr);
	dup2(fileno(fo), STDOUT_FILENO);
	dup2(fileno(fe), STDERR_FILENO);
	r = cmd->run(cmd, &opt, w->argc, w->argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	*out = slurp(fo);
	*err = slurp(fe);
	fclose(fo);
	fclose(fe);
	return r;
}

/* ---- global options anywhere ------------------------------------------------------------ */

START_TEST(test_follow_leader_option)
{
	struct words w = words("cutoverctl", "--follow-leader", "status", NULL);
	struct ctl_opts opt;
	int ci;

	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(opt.follow_leader);
	ck_assert_str_eq(w.argv[ci], "status");
	w = words("cutoverctl", "switchover", "--to", "db2", "-L", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(opt.follow_leader);
	ck_assert_int_eq(w.argc - ci - 1, 2);
	w = words("cutoverctl", "status", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(!opt.follow_leader);
}
END_TEST

START_TEST(test_globals_after_command)
{
	struct words w = words("cutoverctl", "status", "--json", NULL);
	struct ctl_opts opt;
	int ci;

	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(opt.json);
	ck_assert_str_eq(w.argv[ci], "status");
	ck_assert_int_eq(w.argc - ci - 1, 0);

	/* between the command's own options, with values, in every spelling */
	w = words("cutoverctl", "switchover", "--to", "db2", "--json", "-s", "/run/x.sock", "--dry-run",
		  "--timeout=2s", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(opt.json);
	ck_assert_str_eq(opt.socket, "/run/x.sock");
	ck_assert_int_eq(opt.timeout_ms, 2000);
	ck_assert_str_eq(w.argv[ci], "switchover");
	ck_assert_int_eq(w.argc - ci - 1, 3);
	ck_assert_str_eq(w.argv[ci + 1], "--to");
	ck_assert_str_eq(w.argv[ci + 2], "db2");
	ck_assert_str_eq(w.argv[ci + 3], "--dry-run");

	w = words("cutoverctl", "watch", "--socket=/tmp/s", "-t", "0", "-j", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert_str_eq(opt.socket, "/tmp/s");
	ck_assert_int_eq(opt.timeout_ms, 0);
	ck_assert(opt.json);
	ck_assert_int_eq(w.argc - ci - 1, 0);
}
END_TEST

START_TEST(test_globals_before_command_and_limits)
{
	struct words w = words("cutoverctl", "-j", "-C", "prod", "-s", "/a", "status", NULL);
	struct ctl_opts opt;
	int ci;

	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(opt.json);
	ck_assert_str_eq(opt.cluster, "prod");
	ck_assert_str_eq(opt.socket, "/a");
	ck_assert_str_eq(w.argv[ci], "status");

	/* --cluster and -y after the command are the command's; after "--" nothing is taken */
	w = words("cutoverctl", "fence", "--yes", "--", "-j", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert(!opt.json);
	ck_assert_int_eq(w.argc - ci - 1, 3);
	ck_assert_str_eq(w.argv[ci + 3], "-j");
	w = words("cutoverctl", "switchover", "--cluster", "prod", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert_ptr_null(opt.cluster);
	ck_assert_int_eq(w.argc - ci - 1, 2);

	/* "-s" last would take the command's name as its path: a usage error instead */
	w = words("cutoverctl", "status", "-s", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), EXIT_USAGE);
	/* the environment's socket unless -s */
	setenv("CUTOVERD_SOCKET", "/env.sock", 1);
	w = words("cutoverctl", "status", NULL);
	ck_assert_int_eq(ctl_parse_cmdline(w.argc, w.argv, &opt, &ci), -1);
	ck_assert_str_eq(opt.socket, "/env.sock");
	unsetenv("CUTOVERD_SOCKET");
}
END_TEST

START_TEST(test_status_cluster_option_after_command)
{
	const struct ctl_cmd *cmd = ctl_find_cmd("status");
	struct ctl_opts opt = { .socket = NOWHERE };
	struct words w = words("--cluster", "prod", NULL);
	json_t *args = json_object();

	ck_assert_int_eq(cmd->build(cmd, &opt, w.argc, w.argv, args), 0);
	ck_assert_str_eq(json_string_value(json_object_get(args, "cluster")), "prod");
	json_decref(args);
	args = json_object();
	w = words("-C", "prod", "sandbox", NULL);
	ck_assert_int_eq(cmd->build(cmd, &opt, w.argc, w.argv, args), -1);   /* two different */
	json_decref(args);
}
END_TEST

/* ---- --help after every command ----------------------------------------------------------- */

START_TEST(test_help_after_every_command)
{
	static const char *const names[] = { "status", "topology", "version", "config", "reload", "watch",
					     "raw", "help", "switchover", "failover", "abort", "pause", "resume",
					     "resolve", "history", "fence", "unfence", "stonith" };
	char *out, *err, want[64];
	struct words w;
	size_t i;
	int k;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (k = 0; k < 2; k++) {
			w = words(k ? "-h" : "--help", NULL);
			/* 0 and the command's own help: nothing was sent (the socket does not exist) */
			ck_assert_msg(run_cmd(names[i], &w, &out, &err) == EXIT_OK, "%s %s: %s", names[i],
				      w.argv[0], err);
			snprintf(want, sizeof(want), "usage: cutoverctl [GLOBAL OPTIONS] %s", names[i]);
			ck_assert_msg(!strncmp(out, want, strlen(want)), "%s --help printed: %s", names[i], out);
			ck_assert_str_eq(err, "");
			free(out);
			free(err);
		}
}
END_TEST

/* ---- did you mean ------------------------------------------------------------------------ */

START_TEST(test_nearest_command)
{
	ck_assert_str_eq(ctl_nearest_cmd("swichover"), "switchover");
	ck_assert_str_eq(ctl_nearest_cmd("stauts"), "status");
	ck_assert_str_eq(ctl_nearest_cmd("fense"), "fence");
	ck_assert_ptr_null(ctl_nearest_cmd("xyzzy"));
	ck_assert_ptr_null(ctl_find_cmd_or_say("swichover"));
	ck_assert_ptr_nonnull(ctl_find_cmd_or_say("switchover"));
}
END_TEST

/* ---- no terminal, no --yes ------------------------------------------------------------------ */

START_TEST(test_confirm_mode)
{
	struct cmd_args a = { 0 };
	const struct ctl_cmd *sw = ctl_find_cmd("switchover"), *st = ctl_find_cmd("status");

	ck_assert_int_eq(ctl_confirm_mode(sw, &a, true), CONFIRM_ASK);
	ck_assert_int_eq(ctl_confirm_mode(sw, &a, false), CONFIRM_REFUSE);
	ck_assert_int_eq(ctl_confirm_mode(st, &a, false), CONFIRM_SKIP);      /* asks nothing */
	a.yes = true;
	ck_assert_int_eq(ctl_confirm_mode(sw, &a, false), CONFIRM_SKIP);
	a.yes = false;
	a.dry_run = true;                                                     /* changes nothing */
	ck_assert_int_eq(ctl_confirm_mode(sw, &a, false), CONFIRM_SKIP);
}
END_TEST

/* Without a terminal, a command that asks is refused before anything is sent, unless --yes. */
START_TEST(test_no_terminal_needs_yes)
{
	static const char *const asking[] = { "switchover", "failover", "fence", "unfence", "stonith", "resolve" };
	int in = dup(STDIN_FILENO), null = open("/dev/null", O_RDONLY);
	char *out, *err, want[256];
	struct words w;
	size_t i;

	dup2(null, STDIN_FILENO);
	for (i = 0; i < sizeof(asking) / sizeof(asking[0]); i++) {
		w = strcmp(asking[i], "switchover") && strcmp(asking[i], "failover") && strcmp(asking[i], "resolve") ?
		    words("db2", NULL) : words(NULL);
		ck_assert_int_eq(run_cmd(asking[i], &w, &out, &err), EXIT_USAGE);
		snprintf(want, sizeof(want), "cutoverctl: %s asks for confirmation, and standard input is not a "
			 "terminal: add --yes to go ahead without asking%s; nothing was changed\n", asking[i],
			 !strcmp(asking[i], "switchover") || !strcmp(asking[i], "failover") ?
			 " (or --dry-run to see the plan)" : "");
		ck_assert_str_eq(err, want);
		free(out);
		free(err);
	}
	/* --yes goes ahead (to the missing socket), and so does a dry run */
	w = words("--to", "db2", "--yes", NULL);
	ck_assert_int_eq(run_cmd("switchover", &w, &out, &err), EXIT_UNREACHABLE);
	free(out);
	free(err);
	w = words("--dry-run", NULL);
	ck_assert_int_eq(run_cmd("switchover", &w, &out, &err), EXIT_UNREACHABLE);
	free(out);
	free(err);
	w = words("-y", "db2", NULL);
	ck_assert_int_eq(run_cmd("fence", &w, &out, &err), EXIT_UNREACHABLE);
	free(out);
	free(err);
	dup2(in, STDIN_FILENO);
	close(in);
	close(null);
}
END_TEST

/* ---- unreachable -------------------------------------------------------------------------- */

START_TEST(test_unreachable_hint)
{
	char *out, *err;
	struct words w = words(NULL);

	/* not running, or running elsewhere: both ways to name another socket */
	ck_assert_ptr_nonnull(strstr(ctl_unreachable_hint(ENOENT), "-s PATH, or set $CUTOVERD_SOCKET"));
	ck_assert_ptr_nonnull(strstr(ctl_unreachable_hint(ECONNREFUSED), "systemctl status cutoverd"));
	ck_assert_ptr_nonnull(strstr(ctl_unreachable_hint(EACCES), "socket_group"));
	ck_assert_int_eq(run_cmd("status", &w, &out, &err), EXIT_UNREACHABLE);
	ck_assert_str_eq(err, "cutoverctl: cannot reach cutoverd at " NOWHERE ": No such file or directory "
			 "(is it running? see systemctl status cutoverd; a daemon on another socket: -s PATH, "
			 "or set $CUTOVERD_SOCKET)\n");
	free(out);
	free(err);
}
END_TEST

Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc;

	tc = tcase_create("cmdline");
	tcase_add_test(tc, test_follow_leader_option);
	tcase_add_test(tc, test_globals_after_command);
	tcase_add_test(tc, test_globals_before_command_and_limits);
	tcase_add_test(tc, test_status_cluster_option_after_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("help");
	tcase_add_test(tc, test_help_after_every_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("did_you_mean");
	tcase_add_test(tc, test_nearest_command);
	suite_add_tcase(s, tc);

	tc = tcase_create("confirm");
	tcase_add_test(tc, test_confirm_mode);
	tcase_add_test(tc, test_no_terminal_needs_yes);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreachable");
	tcase_add_test(tc, test_unreachable_hint);
	suite_add_tcase(s, tc);

	tc = tcase_create("remote");
	tcase_add_test(tc, test_remote_address);
	suite_add_tcase(s, tc);
	return s;
}
