/* cutoverctl: the thin client of cutoverd.  Tables for people, the API's JSON for scripts
 * (--json), and exit codes scripts can rely on (see cutoverctl(1)):
 *   0 ok, 1 the command failed, 2 usage error, 3 daemon unreachable.
 *
 * Every command is one entry of ctl_cmds[]: its name, its arguments, how to turn argv into
 * the request's "args", and how to render the result.  Adding an API command to cutoverctl is
 * one entry (plus a render function when tables are wanted). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "client.h"
#include "cmdtab.h"
#include "proto.h"
#include "render.h"
#include "util.h"

#ifndef CUTOVER_VERSION
#define CUTOVER_VERSION "unknown"
#endif

#define DEFAULT_TIMEOUT_MS 5000
#define REQUEST_ID 1
/* While a switchover streams, the daemon may be silent for as long as one of its phase
 * timeouts (catchup_timeout is 60 s by default): wait at least this long for each line. */
#define STREAM_WAIT_MS 300000

enum ctl_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* the daemon answered ok:false, sent garbage, or a switchover failed */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,   /* no socket, refused, denied, closed or silent past --timeout */
	EXIT_INTERRUPTED = -1,  /* internal: SIGINT/SIGTERM during `watch`; becomes 0 */
};

/* What the daemon is being waited for, which decides what a lost connection means. */
enum wait_for {
	WAIT_REPLY,             /* the reply to a request */
	WAIT_EVENT,             /* the next event of a `watch` */
	WAIT_PROGRESS,          /* the next line of a switchover the daemon has started */
};

/* How far a request got, for the messages about an interrupted or lost exchange. */
struct xfer {
	bool sent;              /* the request went out */
	int progress;           /* progress lines received */
	bool paused;            /* the last one said the switchover is paused */
};

struct ctl_opts {
	const char *socket;     /* borrowed from argv or the environment */
	bool json;
	int timeout_ms;         /* 0 = wait forever */
	const char *cluster;    /* --cluster, borrowed, may be NULL */
	struct render_opts ro;
};

struct ctl_cmd;
/* Put the command-line arguments (after the command name) into the request's args object.
 * 0; -1 after printing a usage error; 1 after printing the command's help (--help). */
typedef int (*build_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			char **argv, json_t *args);
/* Commands that do not follow the request → one reply → render shape. */
typedef int (*run_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
/* Ask a person on a terminal before a command changes something; may pin in args what was
 * agreed to.  EXIT_OK to go on, else the exit code (after saying why). */
typedef int (*confirm_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args);

struct ctl_cmd {
	const char *name;
	const char *api;        /* the API command sent; NULL for local commands */
	const char *usage;      /* the arguments, for help */
	const char *summary;    /* NULL: the API command table's summary */
	unsigned opts;          /* CO_* options taken after the name (build_args; see args.h) */
	const char *help;       /* what those options do, for `help COMMAND`; NULL: nothing more */
	build_fn build;
	render_fn render;       /* the result for people (ignored with --json) */
	/* Lines streamed before the reply (a switchover's "progress"), given their payload
	 * object; NULL = not shown.  Not called with --json. */
	render_fn stream;
	run_fn run;             /* NULL: run_request */
	/* run_switchover, run_confirmed: the question asked on a terminal unless --yes; NULL:
	 * none */
	confirm_fn confirm;
};

/* A reply line: the parsed object and the text as received (printed as-is by --json and raw). */
struct reply {
	json_t *msg;            /* owned */
	char *text;             /* owned */
};

typedef void (*line_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg);

static const char switchover_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  --to NAME                the new primary (default: the best replica)\n"
	"  --dry-run                run the preflight checks only; nothing is changed\n"
	"  --max-lag MS             refuse if the candidate lags more (default: max_lag)\n"
	"  --drain-timeout MS       wait this long for sessions to leave the old primary\n"
	"  --sync-timeout MS        how long the candidate may take to reach the fence point\n"
	"  --no-reverse             do not make the old primary a replica of the new one\n"
	"  --pause-before PHASE     hold before drain, catchup, fence, sync or promote until\n"
	"                           cutoverctl resume (or abort)\n"
	"  --allow-unreachable      go on although other replicas are unreachable\n"
	"  -y, --yes                do not ask for confirmation\n"
	"MS: milliseconds, or with a unit (250ms, 2s, 1m).\n"
	"On a terminal, without --yes or --dry-run, the plan is shown first and a \"y\" is needed.\n"
	"Exit status: 0 done (or dry run passed), 1 refused, rolled back or failed, 2 usage,\n"
	"3 cutoverd unreachable or the connection lost (the switchover goes on in the daemon).\n";

static const char failover_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  --to NAME                the new primary (default: the replica that received the most)\n"
	"  --assume-fenced          you state that the old primary cannot take writes any more\n"
	"                           (powered off, network cut): go on even if neither SQL nor its\n"
	"                           STONITH hook can fence it\n"
	"  --dry-run                run the preflight checks only; nothing is changed\n"
	"  --sync-timeout MS        how long the new primary may take to apply its relay log\n"
	"  -y, --yes                do not ask for confirmation\n"
	"MS: milliseconds, or with a unit (250ms, 2s, 1m).\n"
	"For a dead primary: a reachable, writable one is refused (use switchover).  On a terminal,\n"
	"without --yes or --dry-run, the plan is shown first and a \"y\" is needed; with\n"
	"--assume-fenced, also the old primary's name, typed out.\n"
	"Exit status: 0 done (or dry run passed), 1 refused, rolled back or failed, 2 usage,\n"
	"3 cutoverd unreachable or the connection lost (the failover goes on in the daemon).\n";

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

static const char resolve_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME       the cluster (needed when several are configured)\n"
	"  -y, --yes                do not ask for confirmation\n"
	"Resolve only after checking by hand which server is writable and where the routers\n"
	"send writes: it tells cutoverd the interrupted switchover has been dealt with.\n";

static int build_none(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		      json_t *args);
static int build_cluster(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			 char **argv, json_t *args);
static int build_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		      json_t *args);
static int render_versions(FILE *out, const json_t *result, const struct render_opts *o);
static int run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_help(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_confirmed(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int confirm_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt,
			      const struct cmd_args *a, json_t *args);
static int confirm_failover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			    json_t *args);
static int confirm_resolve(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			   json_t *args);
static int confirm_action(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args);

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", "status", "[CLUSTER]", NULL, 0, NULL, build_cluster, render_status, NULL, NULL, NULL },
	{ "topology", "topology", "[CLUSTER]", NULL, 0, NULL, build_cluster, render_topology, NULL, NULL,
	  NULL },
	{ "version", "version", "", "cutoverd's and cutoverctl's versions, the daemon's pid and uptime",
	  0, NULL, build_none, render_versions, NULL, NULL, NULL },
	{ "config", "config", "", NULL, 0, NULL, build_none, render_config, NULL, NULL, NULL },
	{ "reload", "reload", "", NULL, 0, NULL, build_none, render_reload, NULL, NULL, NULL },
	{ "watch", "events", "[CLUSTER]", "print state changes as they happen, until interrupted",
	  0, NULL, build_cluster, NULL, render_event, run_watch, NULL },
	{ "switchover", "switchover", "[OPTIONS]", NULL, CO_SWITCHOVER, switchover_help, build_args,
	  render_report, render_progress, run_switchover, confirm_switchover },
	{ "abort", "abort", "[--cluster NAME]", NULL, CO_CLUSTER, NULL, build_args, render_abort, NULL,
	  NULL, NULL },
	{ "pause", "pause", "[--cluster NAME]", NULL, CO_CLUSTER, NULL, build_args, render_pause, NULL,
	  NULL, NULL },
	{ "resume", "resume", "[--cluster NAME]", NULL, CO_CLUSTER, NULL, build_args, render_resume, NULL,
	  NULL, NULL },
	{ "resolve", "resolve", "[--cluster NAME] [--yes]", NULL, CO_CLUSTER | CO_YES, resolve_help,
	  build_args, render_resolve, NULL, run_confirmed, confirm_resolve },
	{ "history", "history", "[--cluster NAME] [--limit N]", NULL, CO_CLUSTER | CO_LIMIT, NULL,
	  build_args, render_history, NULL, NULL, NULL },
	{ "failover", "failover", "[OPTIONS]", NULL, CO_FAILOVER, failover_help, build_args, render_report,
	  render_progress, run_switchover, confirm_failover },
	{ "fence", "fence", "NAME [--force] [--yes]", NULL, CO_FENCE, fence_help, build_args, render_action,
	  NULL, run_confirmed, confirm_action },
	{ "unfence", "unfence", "NAME [--yes]", NULL, CO_SERVER | CO_YES, unfence_help, build_args,
	  render_action, NULL, run_confirmed, confirm_action },
	{ "stonith", "stonith", "NAME [--force] [--yes]", NULL, CO_FENCE, stonith_help, build_args,
	  render_action, NULL, run_confirmed, confirm_action },
	{ "raw", NULL, "'JSON' | -", "send one request line as-is (from stdin with -), print the reply",
	  0, NULL, NULL, NULL, NULL, run_raw, NULL },
	{ "help", NULL, "[COMMAND]", "this help, or one command's", 0, NULL, NULL, NULL, NULL, run_help, NULL },
	{ NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

static volatile sig_atomic_t interrupted;

static const struct ctl_cmd *find_cmd(const char *name);
static const char *cmd_summary(const struct ctl_cmd *cmd);
static void usage(FILE *out);
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool reject_options(const struct ctl_cmd *cmd, int argc, char **argv);
static int parse_cmd_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
			  struct cmd_args *a);
static void command_help(const struct ctl_cmd *cmd);
static int parse_options(int argc, char **argv, struct ctl_opts *opt);
static void init_render(struct ctl_opts *opt);
static int transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
		    const char *req, size_t reqlen, line_fn on_line, struct reply *rep, struct xfer *x);
static int64_t next_deadline(const struct ctl_opts *opt, struct xfer *x, const json_t *msg);
static int stream_wait_ms(const struct ctl_opts *opt);
static int read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
			enum wait_for what, const char *op, struct reply *out);
static int read_failed(const struct ctl_opts *opt, enum wait_for what, const char *op, enum ctl_io io);
static int unreachable(const char *path, int err);
static int call(const struct ctl_cmd *cmd, const char *api, const struct ctl_opts *opt, json_t *args,
		line_fn on_line, const sigset_t *wait_mask, struct reply *rep, struct xfer *x);
static int finish_reply(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep);
static const json_t *reply_report(const json_t *msg);
static int finish_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep,
			     const struct xfer *x);
static int show_plan(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args, struct reply *rep,
		     const char **cluster, const char **from, const char **to);
static char *ask_line(FILE *out, const char *question);
static bool ask(FILE *out, const char *question);
static void catch_signals(sigset_t *wait_mask);
static void print_json_line(const json_t *v);
static void print_error(const json_t *msg);
static void reply_free(struct reply *rep);
static void show_stream(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg);
static void show_progress(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			  const json_t *msg);
static void show_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg);
static void show_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		       const json_t *msg);
static int stdout_done(void);
static char *request_line(const char *api, json_t *args, size_t *len);
static char *raw_request(const char *arg);
static int request_render(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args);
static void on_signal(int sig);

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
		usage_error("no command given");
		return EXIT_USAGE;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		usage_error("unknown command '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	init_render(&opt);
	r = (cmd->run ? cmd->run : run_request)(cmd, &opt, argc - optind - 1, argv + optind + 1);
	if (r == EXIT_INTERRUPTED)
		r = EXIT_OK;
	if (r == EXIT_OK && stdout_done() < 0)
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
				usage_error("--socket needs a path");
				return EXIT_USAGE;
			}
			opt->socket = optarg;
			break;
		case 'j':
			opt->json = true;
			break;
		case 't':
			if (!parse_duration_ms(optarg, 1, &ms) || ms > 86400000) {
				usage_error("--timeout %s: not a duration (milliseconds, or with a unit: "
					    "500ms, 2s, 1m; 0 waits forever)", optarg);
				return EXIT_USAGE;
			}
			opt->timeout_ms = (int)ms;
			break;
		case 'C':
			opt->cluster = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("cutoverctl %s (API %d)\n", CUTOVER_VERSION, API_VERSION);
			return EXIT_OK;
		case ':':
			usage_error("option %s needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			if (optopt)
				usage_error("unknown option -%c", optopt);
			else
				usage_error("unknown option %s", argv[optind - 1]);
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

static const struct ctl_cmd *find_cmd(const char *name)
{
	const struct ctl_cmd *c;
	for (c = ctl_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static const char *cmd_summary(const struct ctl_cmd *cmd)
{
	const struct cmd_spec *spec;
	if (cmd->summary)
		return cmd->summary;
	spec = cmd->api ? cmd_find(cmd->api) : NULL;
	return spec ? spec->summary : "";
}

static void usage(FILE *out)
{
	const struct ctl_cmd *c;
	char *left;

	fprintf(out,
		"usage: cutoverctl [--socket PATH] [--json] [--timeout MS] [--cluster NAME] COMMAND [ARGS]\n"
		"\n"
		"commands:\n");
	for (c = ctl_cmds; c->name; c++) {
		left = xasprintf("%s%s%s", c->name, *c->usage ? " " : "", c->usage);
		if (strlen(left) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", left, "", cmd_summary(c));
		else
			fprintf(out, "  %-24s %s\n", left, cmd_summary(c));
		free(left);
	}
	fprintf(out,
		"\n"
		"options (before the command):\n"
		"  -s, --socket PATH     control socket (default: $CUTOVERD_SOCKET, else %s)\n"
		"  -j, --json            print the API's JSON instead of tables\n"
		"  -t, --timeout MS      wait at most MS ms for the daemon (default %d; 2s, 1m; 0 = forever)\n"
		"  -C, --cluster NAME    only this cluster (status, topology, watch, and the\n"
		"                        switchover commands, which take it after their name too)\n"
		"  -h, --help            this help\n"
		"  -V, --version         cutoverctl's own version\n"
		"\n"
		"exit status: 0 ok, 1 the command failed, 2 usage error, 3 cutoverd unreachable.\n"
		"'cutoverctl help COMMAND' shows a command's options.  See cutoverctl(1).\n",
		DEFAULT_SOCKET_PATH, DEFAULT_TIMEOUT_MS);
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("cutoverctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'cutoverctl help'.\n", stderr);
}

/* Global options are parsed before the command only; say so instead of "too many arguments". */
static bool reject_options(const struct ctl_cmd *cmd, int argc, char **argv)
{
	int i;
	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage_error("%s: unknown option %s (global options go before the command: "
				    "cutoverctl %s %s)", cmd->name, argv[i], argv[i], cmd->name);
			return true;
		}
	}
	return false;
}

/* ---- argument builders ------------------------------------------------------------------ */

static int build_none(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		      json_t *args)
{
	if (reject_options(cmd, argc, argv))
		return -1;
	if (argc > 0) {
		usage_error("%s takes no arguments ('%s' given)", cmd->name, argv[0]);
		return -1;
	}
	if (opt->cluster) {
		usage_error("--cluster does not apply to %s", cmd->name);
		return -1;
	}
	return 0;
}

/* [CLUSTER] as an argument or --cluster; both is fine when they agree. */
static int build_cluster(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			 char **argv, json_t *args)
{
	const char *cluster = opt->cluster;
	json_t *v;

	if (reject_options(cmd, argc, argv))
		return -1;
	if (argc > 1) {
		usage_error("%s: too many arguments (usage: cutoverctl %s %s)", cmd->name, cmd->name,
			    cmd->usage);
		return -1;
	}
	if (argc == 1) {
		if (cluster && strcmp(cluster, argv[0])) {
			usage_error("%s: --cluster %s and the argument %s name different clusters",
				    cmd->name, cluster, argv[0]);
			return -1;
		}
		cluster = argv[0];
	}
	if (!cluster)
		return 0;
	if (!*cluster || !(v = json_string(cluster))) {
		usage_error("%s: '%s' is not a cluster name (empty or not UTF-8)", cmd->name, cluster);
		return -1;
	}
	json_object_set_new(args, "cluster", v);
	return 0;
}

/* Options after the command name, as listed in cmd->opts; see args.h. */
static int parse_cmd_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
			  struct cmd_args *a)
{
	char err[768];

	if (args_parse(cmd->name, cmd->opts, argc, argv, opt->cluster, a, err, sizeof(err)) < 0) {
		fprintf(stderr, "cutoverctl: %s\nTry 'cutoverctl help %s'.\n", err, cmd->name);
		return -1;
	}
	if (a->help) {
		command_help(cmd);
		return 1;
	}
	return 0;
}

static int build_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		      json_t *args)
{
	struct cmd_args a;
	json_t *o;
	int r;

	if ((r = parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r;
	o = args_to_json(&a);
	json_object_update(args, o);
	json_decref(o);
	return 0;
}

static int render_versions(FILE *out, const json_t *result, const struct render_opts *o)
{
	if (render_version(out, result, o) < 0)
		return -1;
	fprintf(out, "client   cutoverctl %s (API %d)\n", CUTOVER_VERSION, API_VERSION);
	return 0;
}

/* ---- talking to the daemon -------------------------------------------------------------- */

/* Connect, send req (a line with its newline), read until the reply, passing stream lines
 * that come first to on_line.  EXIT_OK with *rep filled (ok or not), or the exit code after
 * the message was printed.  *x says how far it got. */
static int transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
		    const char *req, size_t reqlen, line_fn on_line, struct reply *rep, struct xfer *x)
{
	int64_t deadline = opt->timeout_ms > 0 ? now_mono_ms() + opt->timeout_ms : 0;
	enum ctl_io io;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(x, 0, sizeof(*x));
	if (ctl_client_connect(c, opt->socket, opt->timeout_ms) < 0) {
		if (errno == EINTR && interrupted)
			return EXIT_INTERRUPTED;
		return unreachable(opt->socket, errno);
	}
	io = ctl_client_send(c, req, reqlen, deadline);
	if (io == CTL_IO_EOF) {
		fprintf(stderr, "cutoverctl: cutoverd at %s closed the connection before replying "
			"(see journalctl -u cutoverd)\n", opt->socket);
		return EXIT_UNREACHABLE;
	}
	if (io == CTL_IO_ERR) {
		if (errno == EINTR && interrupted)
			return EXIT_INTERRUPTED;
		return unreachable(opt->socket, errno);
	}
	x->sent = true;
	for (;;) {
		r = read_message(c, opt, deadline, x->progress ? WAIT_PROGRESS : WAIT_REPLY,
				 cmd->api ? cmd->api : "operation", rep);
		if (r != EXIT_OK)
			return r;
		if (json_object_get(rep->msg, "ok"))
			return EXIT_OK;
		if (on_line)
			on_line(cmd, opt, rep->text, rep->msg);
		deadline = next_deadline(opt, x, rep->msg);
		reply_free(rep);
	}
}

/* A long command proves it is alive with every line it streams, so the wait starts again.
 * A paused switchover waits for a person (`cutoverctl resume`): as long as that takes. */
static int64_t next_deadline(const struct ctl_opts *opt, struct xfer *x, const json_t *msg)
{
	const json_t *p = json_object_get(msg, "progress");
	const char *status = json_string_value(json_object_get(p, "status"));
	int wait = opt->timeout_ms;

	if (json_is_object(p)) {
		x->progress++;
		x->paused = status && !strcmp(status, "paused");
		if (x->paused)
			return 0;
		wait = stream_wait_ms(opt);
	}
	return wait > 0 ? now_mono_ms() + wait : 0;
}

/* The wait for each line of a running switchover: --timeout, but never less than the daemon's
 * own silent waits may last; 0 = forever. */
static int stream_wait_ms(const struct ctl_opts *opt)
{
	if (opt->timeout_ms <= 0)
		return 0;
	return opt->timeout_ms > STREAM_WAIT_MS ? opt->timeout_ms : STREAM_WAIT_MS;
}

/* Read and parse one line.  EXIT_OK, or an exit code after the message was printed. */
/* op names what a stream's progress is about ("switchover", "failover"), for the messages. */
static int read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
			enum wait_for what, const char *op, struct reply *out)
{
	const json_t *ok;
	json_error_t jerr;
	json_t *api;
	char *line;
	size_t len;
	enum ctl_io io;

	io = ctl_client_read_line(c, &line, &len, deadline);
	if (io != CTL_IO_OK)
		return read_failed(opt, what, op, io);
	out->msg = json_loadb(line, len, 0, &jerr);
	if (!out->msg || !json_is_object(out->msg)) {
		fprintf(stderr, "cutoverctl: daemon sent an invalid reply: %s\n",
			out->msg ? "not a JSON object" : jerr.text);
		json_decref(out->msg);
		out->msg = NULL;
		return EXIT_FAILED;
	}
	ok = json_object_get(out->msg, "ok");
	if (ok && !json_is_boolean(ok)) {
		fprintf(stderr, "cutoverctl: daemon sent an invalid reply: \"ok\" is not true or false\n");
		reply_free(out);
		return EXIT_FAILED;
	}
	if (json_is_true(ok) && !json_object_get(out->msg, "result")) {
		fprintf(stderr, "cutoverctl: daemon sent an invalid reply: ok without a result\n");
		reply_free(out);
		return EXIT_FAILED;
	}
	api = json_object_get(out->msg, "api");
	if (json_is_integer(api) && json_integer_value(api) != API_VERSION)
		fprintf(stderr, "cutoverctl: warning: cutoverd speaks API %lld, this cutoverctl API %d; "
			"output may be incomplete\n", (long long)json_integer_value(api), API_VERSION);
	out->text = xstrdup(line);
	return EXIT_OK;
}

/* The connection ended, failed or stayed silent: say what that means for what was awaited. */
static int read_failed(const struct ctl_opts *opt, enum wait_for what, const char *op, enum ctl_io io)
{
	int err = io == CTL_IO_EOF ? 0 : errno;

	if (err == EINTR && interrupted)
		return EXIT_INTERRUPTED;
	if (err == EMSGSIZE) {
		fprintf(stderr, "cutoverctl: daemon sent an invalid reply (a line longer than %u MiB)\n",
			CTL_MAX_LINE >> 20);
		return EXIT_FAILED;
	}
	/* The daemon does not stop a switchover whose client went away: tell where to follow it. */
	if (what == WAIT_PROGRESS) {
		if (err == ETIMEDOUT)
			fprintf(stderr, "cutoverctl: no progress from cutoverd at %s for %d ms; the "
				"%s continues in the daemon: `cutoverctl status` shows its progress "
				"(--timeout 0 waits forever)\n", opt->socket, stream_wait_ms(opt), op);
		else
			fprintf(stderr, "cutoverctl: connection lost during the %s; it continues in "
				"the daemon: `cutoverctl status` shows its progress\n", op);
		return EXIT_UNREACHABLE;
	}
	if (io == CTL_IO_EOF) {
		fprintf(stderr, "cutoverctl: cutoverd at %s closed the connection%s "
			"(see journalctl -u cutoverd)\n", opt->socket,
			what == WAIT_EVENT ? "" : " before replying");
		return EXIT_UNREACHABLE;
	}
	if (err == ETIMEDOUT) {
		fprintf(stderr, "cutoverctl: no reply from cutoverd at %s within %d ms (is it "
			"overloaded or stopped? see systemctl status cutoverd; --timeout "
			"waits longer)\n", opt->socket, opt->timeout_ms);
		return EXIT_UNREACHABLE;
	}
	return unreachable(opt->socket, err);
}

static int unreachable(const char *path, int err)
{
	const char *hint = "is it running? see systemctl status cutoverd";

	if (err == EACCES || err == EPERM)
		hint = "is your user in the socket's group? see socket_group and socket_mode in "
		       "cutoverd.conf(5)";
	else if (err == ENAMETOOLONG)
		hint = "a Unix socket path has at most 107 bytes; use a shorter --socket";
	fprintf(stderr, "cutoverctl: cannot reach cutoverd at %s: %s (%s)\n", path, strerror(err), hint);
	return EXIT_UNREACHABLE;
}

/* Print the reply for its audience; the exit code follows "ok". */
static int finish_reply(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep)
{
	const json_t *result = json_object_get(rep->msg, "result");

	if (!json_is_true(json_object_get(rep->msg, "ok"))) {
		if (opt->json)
			printf("%s\n", rep->text);
		print_error(rep->msg);
		return EXIT_FAILED;
	}
	if (opt->json || !cmd->render)
		return render_json(stdout, result, &opt->ro) < 0 ? EXIT_FAILED : EXIT_OK;
	if (cmd->render(stdout, result, &opt->ro) < 0) {
		fprintf(stderr, "cutoverctl: daemon sent a %s result this cutoverctl cannot show "
			"(see it with cutoverctl --json %s)\n", cmd->name, cmd->name);
		return EXIT_FAILED;
	}
	return EXIT_OK;
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
			print_json_line(report);
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
	} else if (ok) {
		fprintf(stderr, "cutoverctl: daemon sent a %s result without a report "
			"(see it with cutoverctl --json %s)\n", cmd->name, cmd->name);
		return EXIT_FAILED;
	}
	fflush(stdout);
	if (!ok) {
		print_error(rep->msg);
		return EXIT_FAILED;
	}
	if (!outcome || (strcmp(outcome, "done") && strcmp(outcome, "dry_run"))) {
		fprintf(stderr, "cutoverctl: the %s ended with outcome %s\n", cmd->name,
			outcome ? outcome : "(none)");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static void print_error(const json_t *msg)
{
	const json_t *err = json_object_get(msg, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *text = json_string_value(json_object_get(err, "message"));

	fprintf(stderr, "cutoverctl: %s: %s\n", code ? code : "ERROR", text ? text : "(no message)");
}

static void reply_free(struct reply *rep)
{
	json_decref(rep->msg);
	free(rep->text);
	rep->msg = NULL;
	rep->text = NULL;
}

/* Stream lines shown as the command renders them ("progress" or "event" payload). */
static void show_stream(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg)
{
	const json_t *payload = json_object_get(msg, "progress");

	if (!payload)
		payload = json_object_get(msg, "event");
	if (opt->json || !cmd->stream || !payload)
		return;
	cmd->stream(stdout, payload, &opt->ro);
	fflush(stdout);
}

/* watch: events as lines for people, or the lines as received with --json. */
static void show_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		       const json_t *msg)
{
	if (opt->json) {
		printf("%s\n", text);
		fflush(stdout);
	} else
		show_stream(cmd, opt, text, msg);
}

static void show_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg)
{
	printf("%s\n", text);
	fflush(stdout);
}

/* A switchover's progress: a line for people, or the progress object as one JSON line. */
static void show_progress(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			  const json_t *msg)
{
	const json_t *p = json_object_get(msg, "progress");

	if (!p)
		return;
	if (opt->json)
		print_json_line(p);
	else
		render_progress(stdout, p, &opt->ro);
	fflush(stdout);
}

static void print_json_line(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s)
		printf("%s\n", s);
	free(s);
}

/* Flush stdout; a closed pipe (cutoverctl … | head) is not an error, a full disk is. */
static int stdout_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return 0;
	fprintf(stderr, "cutoverctl: writing the output: %s\n", strerror(errno));
	return -1;
}

/* ---- commands --------------------------------------------------------------------------- */

static char *request_line(const char *api, json_t *args, size_t *len)
{
	json_t *req = json_object();
	char *s, *line;

	json_object_set_new(req, "id", json_integer(REQUEST_ID));
	json_object_set_new(req, "cmd", json_string(api));
	if (json_object_size(args))
		json_object_set(req, "args", args);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!s)
		return NULL;
	line = xasprintf("%s\n", s);
	free(s);
	*len = strlen(line);
	return line;
}

/* Send api's request with args, pass the stream lines before the reply to on_line, and wait
 * for the reply (*rep, when EXIT_OK).  The connection is closed before returning. */
static int call(const struct ctl_cmd *cmd, const char *api, const struct ctl_opts *opt, json_t *args,
		line_fn on_line, const sigset_t *wait_mask, struct reply *rep, struct xfer *x)
{
	struct ctl_client c;
	char *line;
	size_t len;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(x, 0, sizeof(*x));
	line = request_line(api, args, &len);
	if (!line) {
		fprintf(stderr, "cutoverctl: cannot encode the request\n");
		return EXIT_FAILED;
	}
	ctl_client_init(&c, wait_mask);
	r = transact(&c, cmd, opt, line, len, on_line, rep, x);
	free(line);
	ctl_client_close(&c);
	return r;
}

/* The ordinary command: one request, maybe progress lines, one reply, rendered. */
static int run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	json_t *args = json_object();
	int r;

	r = cmd->build(cmd, opt, argc, argv, args);
	if (r == 0)
		r = request_render(cmd, opt, args);
	else
		r = r < 0 ? EXIT_USAGE : EXIT_OK;
	json_decref(args);
	return r;
}

static int request_render(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args)
{
	struct reply rep;
	struct xfer x;
	int r;

	r = call(cmd, cmd->api, opt, args, show_stream, NULL, &rep, &x);
	if (r == EXIT_OK)
		r = finish_reply(cmd, opt, &rep);
	reply_free(&rep);
	return r;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

/* Catch SIGINT and SIGTERM in a flag, and block them except inside ppoll(2) with *wait_mask,
 * so that one arriving between two reads cannot be missed. */
static void catch_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;     /* no SA_RESTART: the wait must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGTERM);
}

/* Subscribe to events and print them until SIGINT/SIGTERM (exit 0) or the daemon goes away
 * (exit 3). */
static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	sigset_t wait_mask;
	struct ctl_client c;
	struct reply rep;
	struct xfer x;
	json_t *args = json_object();
	char *line;
	size_t len;
	int r;

	r = cmd->build(cmd, opt, argc, argv, args);
	if (r != 0) {
		json_decref(args);
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	}
	line = request_line(cmd->api, args, &len);
	json_decref(args);
	if (!line)
		return EXIT_FAILED;

	catch_signals(&wait_mask);
	ctl_client_init(&c, &wait_mask);
	r = transact(&c, cmd, opt, line, len, show_watch, &rep, &x);
	free(line);
	if (r == EXIT_OK) {
		if (!json_is_true(json_object_get(rep.msg, "ok")))
			r = finish_reply(cmd, opt, &rep);
		reply_free(&rep);
	}
	while (r == EXIT_OK) {
		r = read_message(&c, opt, 0, WAIT_EVENT, cmd->api, &rep);
		if (r != EXIT_OK)
			break;
		show_watch(cmd, opt, rep.text, rep.msg);
		reply_free(&rep);
		if (fflush(stdout) != 0 || ferror(stdout))
			r = errno == EPIPE ? EXIT_INTERRUPTED : EXIT_FAILED;
	}
	ctl_client_close(&c);
	return r;
}

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

	if ((r = parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	args = args_to_json(&a);
	if (!a.yes && !a.dry_run && cmd->confirm && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		r = cmd->confirm(cmd, opt, &a, args);
		if (r != EXIT_OK) {
			json_decref(args);
			return r;
		}
	}
	catch_signals(&wait_mask);
	r = call(cmd, cmd->api, opt, args, show_progress, &wait_mask, &rep, &x);
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
	reply_free(&rep);
	return r;
}

/* The plan: a dry run with the same arguments, rendered.  EXIT_OK with *rep held (the caller
 * frees it) and the cluster and both servers it names; otherwise the refusal or error was
 * printed and there is nothing to ask about. */
static int show_plan(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args, struct reply *rep,
		     const char **cluster, const char **from, const char **to)
{
	FILE *out = opt->json ? stderr : stdout;
	const json_t *report;
	const char *outcome;
	json_t *dry = json_deep_copy(args);
	struct xfer x;
	int r;

	json_object_set_new(dry, "dry_run", json_true());
	r = call(cmd, cmd->api, opt, dry, NULL, NULL, rep, &x);
	json_decref(dry);
	if (r != EXIT_OK) {
		reply_free(rep);
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
		reply_free(rep);
		if (r == EXIT_OK)
			fprintf(stderr, "cutoverctl: the dry run's report does not name the cluster and both "
				"servers; not asking (see it with cutoverctl --json %s --dry-run)\n", cmd->name);
		return r == EXIT_OK ? EXIT_FAILED : r;
	}
	render_plan(out, report, args, &opt->ro);
	fputc('\n', out);
	return EXIT_OK;
}

/* Show what the switchover would do and ask.  The cluster and candidate the person agreed to
 * are then pinned in args: the best replica may be another one a second later. */
static int confirm_switchover(const struct ctl_cmd *cmd, const struct ctl_opts *opt,
			      const struct cmd_args *a, json_t *args)
{
	FILE *out = opt->json ? stderr : stdout;
	const char *cluster, *from, *to;
	struct reply rep;
	char *q;
	int r;

	if ((r = show_plan(cmd, opt, args, &rep, &cluster, &from, &to)) != EXIT_OK)
		return r;
	q = xasprintf("Proceed with the switchover of %s from %s to %s? [y/N] ", cluster, from, to);
	if (!ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else {
		json_object_set_new(args, "cluster", json_string(cluster));
		json_object_set_new(args, "to", json_string(to));
		fputc('\n', out);
	}
	free(q);
	reply_free(&rep);
	return r;
}

/* As for a switchover, and with --assume-fenced the old primary's name typed out: that flag
 * is the person's word that it cannot take writes, and a wrong word is a split brain.  A "y"
 * typed out of habit should not be enough for that. */
static int confirm_failover(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			    json_t *args)
{
	FILE *out = opt->json ? stderr : stdout;
	const char *cluster, *from, *to;
	struct reply rep;
	char *q, *typed = NULL;
	int r;

	if ((r = show_plan(cmd, opt, args, &rep, &cluster, &from, &to)) != EXIT_OK)
		return r;
	q = xasprintf("Fail over cluster %s from %s (dead) to %s? [y/N] ", cluster, from, to);
	if (!ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else if (a->assume_fenced) {
		free(q);
		fprintf(out, "\n--assume-fenced: if neither SQL nor a STONITH hook can fence %s, the failover "
			"goes on anyway.\nIf %s can still take writes, the cluster splits in two.\n", from, from);
		q = xasprintf("You state that %s cannot take writes any more (powered off, network cut). "
			      "Type the server's name to confirm: ", from);
		typed = ask_line(out, q);
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
	reply_free(&rep);
	return r;
}

/* The line typed in answer (with its newline), or NULL at the end of input. */
static char *ask_line(FILE *out, const char *question)
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
static bool ask(FILE *out, const char *question)
{
	char *line = ask_line(out, question);
	bool yes;

	if (!line)
		return false;
	trim(line);
	yes = !strcasecmp(line, "y") || !strcasecmp(line, "yes");
	free(line);
	return yes;
}

/* resolve, fence, unfence, stonith: one request and its reply, asked about first on a
 * terminal unless --yes. */
static int run_confirmed(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct cmd_args a;
	json_t *args;
	int r;

	if ((r = parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	args = args_to_json(&a);
	r = EXIT_OK;
	if (!a.yes && cmd->confirm && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		r = cmd->confirm(cmd, opt, &a, args);
	if (r == EXIT_OK)
		r = request_render(cmd, opt, args);
	json_decref(args);
	return r;
}

/* fence, unfence, stonith name the server and say what will happen to it. */
static int confirm_action(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args)
{
	FILE *out = opt->json ? stderr : stdout;
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
	if (!ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	}
	free(q);
	return r;
}

/* Find the interrupted switchover in status and ask about it by name.  When there is none
 * (or several, and no --cluster) there is nothing to ask: the daemon's answer to resolve says
 * what is wrong. */
static int confirm_resolve(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			   json_t *args)
{
	FILE *out = opt->json ? stderr : stdout;
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
	r = call(cmd, "status", opt, sargs, NULL, NULL, &rep, &x);
	json_decref(sargs);
	if (r != EXIT_OK || !json_is_true(json_object_get(rep.msg, "ok"))) {
		reply_free(&rep);
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
		reply_free(&rep);
		return EXIT_OK;
	}
	fprintf(out, "cluster %s: ", name);
	render_cutover_line(out, found, &opt->ro);
	fputs("Resolving tells cutoverd that this switchover has been dealt with by hand: check first\n"
	      "which server is writable, that the others replicate from it, and where the routers\n"
	      "send writes.\n\n", out);
	q = xasprintf("Mark the interrupted switchover on cluster %s as resolved? [y/N] ", name);
	if (!ask(out, q)) {
		fprintf(stderr, "cutoverctl: not confirmed; nothing was changed\n");
		r = EXIT_FAILED;
	} else
		json_object_set_new(args, "cluster", json_string(name));
	free(q);
	reply_free(&rep);
	return r;
}

/* The request line from the argument, or all of stdin for "-" (trailing newlines dropped).
 * NULL when it is empty, or holds a newline or a NUL byte inside: not one protocol line. */
static char *raw_request(const char *arg)
{
	char *buf;
	size_t cap = 4096, len = 0, n;

	if (strcmp(arg, "-")) {
		buf = xstrdup(arg);
		len = strlen(buf);
	} else {
		buf = xmalloc(cap);
		while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
			len += n;
			if (len + 1 == cap)
				buf = xrealloc(buf, cap *= 2);
		}
		buf[len] = '\0';
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || strlen(buf) != len || strchr(buf, '\n')) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int run_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct ctl_client c;
	struct reply rep;
	struct xfer x;
	char *req, *line;
	int r;

	if (argc != 1) {
		usage_error("raw takes exactly one argument: a JSON request line, or - to read it "
			    "from stdin");
		return EXIT_USAGE;
	}
	req = raw_request(argv[0]);
	if (!req) {
		usage_error("raw: the request must be one non-empty line (the protocol is one JSON "
			    "object per line)");
		return EXIT_USAGE;
	}
	line = xasprintf("%s\n", req);
	free(req);
	ctl_client_init(&c, NULL);
	r = transact(&c, cmd, opt, line, strlen(line), show_raw, &rep, &x);
	free(line);
	if (r == EXIT_OK) {
		printf("%s\n", rep.text);
		if (!json_is_true(json_object_get(rep.msg, "ok"))) {
			print_error(rep.msg);
			r = EXIT_FAILED;
		}
	}
	reply_free(&rep);
	ctl_client_close(&c);
	return r;
}

static int run_help(const struct ctl_cmd *self, const struct ctl_opts *opt, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1) {
		usage_error("help takes at most one command name");
		return EXIT_USAGE;
	}
	cmd = find_cmd(argv[0]);
	if (!cmd) {
		usage_error("unknown command '%s'", argv[0]);
		return EXIT_USAGE;
	}
	command_help(cmd);
	return EXIT_OK;
}

/* One command's usage, its options, and the API arguments it sends. */
static void command_help(const struct ctl_cmd *cmd)
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
