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
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

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

enum ctl_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* the daemon answered ok:false, sent garbage, or a switchover failed */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,   /* no socket, refused, denied, closed or silent past --timeout */
	EXIT_INTERRUPTED = -1,  /* internal: SIGINT/SIGTERM during `watch`; becomes 0 */
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
 * 0, or -1 after printing a usage error. */
typedef int (*build_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			char **argv, json_t *args);
/* Commands that do not follow the request → one reply → render shape. */
typedef int (*run_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);

struct ctl_cmd {
	const char *name;
	const char *api;        /* the API command sent; NULL for local commands */
	const char *usage;      /* the arguments, for help */
	const char *summary;    /* NULL: the API command table's summary */
	build_fn build;
	render_fn render;       /* the result for people (ignored with --json) */
	/* Lines streamed before the reply (a switchover's "progress"), given their payload
	 * object; NULL = not shown.  Not called with --json. */
	render_fn stream;
	run_fn run;             /* NULL: run_request */
};

/* A reply line: the parsed object and the text as received (printed as-is by --json and raw). */
struct reply {
	json_t *msg;            /* owned */
	char *text;             /* owned */
};

typedef void (*line_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg);

static int build_none(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		      json_t *args);
static int build_cluster(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			 char **argv, json_t *args);
static int render_versions(FILE *out, const json_t *result, const struct render_opts *o);
static int run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static int run_help(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", "status", "[CLUSTER]", NULL, build_cluster, render_status, NULL, NULL },
	{ "topology", "topology", "[CLUSTER]", NULL, build_cluster, render_topology, NULL, NULL },
	{ "version", "version", "", "cutoverd's and cutoverctl's versions, the daemon's pid and uptime",
	  build_none, render_versions, NULL, NULL },
	{ "config", "config", "", NULL, build_none, render_config, NULL, NULL },
	{ "reload", "reload", "", NULL, build_none, render_reload, NULL, NULL },
	{ "watch", "events", "[CLUSTER]", "print state changes as they happen, until interrupted",
	  build_cluster, NULL, render_event, run_watch },
	/* Switchover commands (switchover, failover, …) go here: one entry each. */
	{ "raw", NULL, "'JSON' | -", "send one request line as-is (from stdin with -), print the reply",
	  NULL, NULL, NULL, run_raw },
	{ "help", NULL, "[COMMAND]", "this help, or one command's", NULL, NULL, NULL, run_help },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

static volatile sig_atomic_t interrupted;

static const struct ctl_cmd *find_cmd(const char *name);
static const char *cmd_summary(const struct ctl_cmd *cmd);
static void usage(FILE *out);
static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool reject_options(const struct ctl_cmd *cmd, int argc, char **argv);
static int parse_options(int argc, char **argv, struct ctl_opts *opt);
static void init_render(struct ctl_opts *opt);
static int transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
		    const char *req, size_t reqlen, line_fn on_line, struct reply *rep);
static int read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
			bool replied, struct reply *out);
static int unreachable(const char *path, int err);
static int finish_reply(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep);
static void print_error(const json_t *msg);
static void reply_free(struct reply *rep);
static void show_stream(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg);
static void show_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg);
static void show_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		       const json_t *msg);
static int stdout_done(void);
static char *request_line(const char *api, json_t *args, size_t *len);
static char *raw_request(const char *arg);
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
	char left[64];

	fprintf(out,
		"usage: cutoverctl [--socket PATH] [--json] [--timeout MS] [--cluster NAME] COMMAND [ARGS]\n"
		"\n"
		"commands:\n");
	for (c = ctl_cmds; c->name; c++) {
		snprintf(left, sizeof(left), "%s%s%s", c->name, *c->usage ? " " : "", c->usage);
		fprintf(out, "  %-22s %s\n", left, cmd_summary(c));
	}
	fprintf(out,
		"\n"
		"options (before the command):\n"
		"  -s, --socket PATH     control socket (default: $CUTOVERD_SOCKET, else %s)\n"
		"  -j, --json            print the API's JSON instead of tables\n"
		"  -t, --timeout MS      wait at most MS ms for the daemon (default %d; 2s, 1m; 0 = forever)\n"
		"  -C, --cluster NAME    only this cluster (status, topology, watch)\n"
		"  -h, --help            this help\n"
		"  -V, --version         cutoverctl's own version\n"
		"\n"
		"exit status: 0 ok, 1 the command failed, 2 usage error, 3 cutoverd unreachable.\n"
		"See cutoverctl(1).\n", DEFAULT_SOCKET_PATH, DEFAULT_TIMEOUT_MS);
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
 * the message was printed. */
static int transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
		    const char *req, size_t reqlen, line_fn on_line, struct reply *rep)
{
	int64_t deadline = opt->timeout_ms > 0 ? now_mono_ms() + opt->timeout_ms : 0;
	enum ctl_io io;
	int r;

	memset(rep, 0, sizeof(*rep));
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
	for (;;) {
		r = read_message(c, opt, deadline, false, rep);
		if (r != EXIT_OK)
			return r;
		if (json_object_get(rep->msg, "ok"))
			return EXIT_OK;
		if (on_line)
			on_line(cmd, opt, rep->text, rep->msg);
		reply_free(rep);
		/* A long command proves it is alive with every line it streams. */
		if (opt->timeout_ms > 0)
			deadline = now_mono_ms() + opt->timeout_ms;
	}
}

/* Read and parse one line.  EXIT_OK, or an exit code after the message was printed. */
static int read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
			bool replied, struct reply *out)
{
	const json_t *ok;
	json_error_t jerr;
	json_t *api;
	char *line;
	size_t len;
	enum ctl_io io;

	io = ctl_client_read_line(c, &line, &len, deadline);
	if (io == CTL_IO_EOF) {
		fprintf(stderr, "cutoverctl: cutoverd at %s closed the connection%s "
			"(see journalctl -u cutoverd)\n", opt->socket, replied ? "" : " before replying");
		return EXIT_UNREACHABLE;
	}
	if (io == CTL_IO_ERR) {
		if (errno == EINTR && interrupted)
			return EXIT_INTERRUPTED;
		if (errno == ETIMEDOUT) {
			fprintf(stderr, "cutoverctl: no reply from cutoverd at %s within %d ms (is it "
				"overloaded or stopped? see systemctl status cutoverd; --timeout "
				"waits longer)\n", opt->socket, opt->timeout_ms);
			return EXIT_UNREACHABLE;
		}
		if (errno == EMSGSIZE) {
			fprintf(stderr, "cutoverctl: daemon sent an invalid reply (a line longer than "
				"%u MiB)\n", CTL_MAX_LINE >> 20);
			return EXIT_FAILED;
		}
		return unreachable(opt->socket, errno);
	}
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

/* The ordinary command: one request, maybe progress lines, one reply, rendered. */
static int run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct ctl_client c;
	struct reply rep;
	json_t *args = json_object();
	char *line;
	size_t len;
	int r;

	if (cmd->build(cmd, opt, argc, argv, args) < 0) {
		json_decref(args);
		return EXIT_USAGE;
	}
	line = request_line(cmd->api, args, &len);
	json_decref(args);
	if (!line) {
		fprintf(stderr, "cutoverctl: cannot encode the request\n");
		return EXIT_FAILED;
	}
	ctl_client_init(&c, NULL);
	r = transact(&c, cmd, opt, line, len, show_stream, &rep);
	free(line);
	if (r == EXIT_OK)
		r = finish_reply(cmd, opt, &rep);
	reply_free(&rep);
	ctl_client_close(&c);
	return r;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

/* Subscribe to events and print them until SIGINT/SIGTERM (exit 0) or the daemon goes away
 * (exit 3).  The signals are blocked except inside ppoll(2), so one arriving between two
 * reads cannot be missed. */
static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, wait_mask;
	struct ctl_client c;
	struct reply rep;
	json_t *args = json_object();
	char *line;
	size_t len;
	int r;

	if (cmd->build(cmd, opt, argc, argv, args) < 0) {
		json_decref(args);
		return EXIT_USAGE;
	}
	line = request_line(cmd->api, args, &len);
	json_decref(args);
	if (!line)
		return EXIT_FAILED;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;     /* no SA_RESTART: the wait must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);

	ctl_client_init(&c, &wait_mask);
	r = transact(&c, cmd, opt, line, len, show_watch, &rep);
	free(line);
	if (r == EXIT_OK) {
		if (!json_is_true(json_object_get(rep.msg, "ok")))
			r = finish_reply(cmd, opt, &rep);
		reply_free(&rep);
	}
	while (r == EXIT_OK) {
		r = read_message(&c, opt, 0, true, &rep);
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
	r = transact(&c, cmd, opt, line, strlen(line), show_raw, &rep);
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
	const struct cmd_spec *spec;
	const struct arg_spec *a;

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
	printf("usage: cutoverctl [OPTIONS] %s%s%s\n\n%s\n", cmd->name, *cmd->usage ? " " : "",
	       cmd->usage, cmd_summary(cmd));
	spec = cmd->api ? cmd_find(cmd->api) : NULL;
	if (spec) {
		printf("\nAPI command \"%s\"%s%s\n", spec->name,
		       spec->flags & CMD_MUTATING ? " (changes state: root or an admin user only)" : "",
		       spec->flags & CMD_STREAM ? " (streams)" : "");
		for (a = spec->args; a && a->name; a++)
			printf("  %s (%s%s): %s\n", a->name, arg_type_name(a->type),
			       a->required ? ", required" : "", a->help);
	}
	return EXIT_OK;
}
