/* cutoverctl talking to the daemon: a request line out, stream lines and the reply in, every
 * way that can fail turned into a message and an exit code; and the two handlers most
 * commands use, ctl_run_request and ctl_run_confirmed. */
#include "ctl.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUEST_ID 1
/* While a switchover streams, the daemon may be silent for as long as one of its phase
 * timeouts (catchup_timeout is 60 s by default): wait at least this long for each line. */
#define STREAM_WAIT_MS 300000

static volatile sig_atomic_t interrupted;

static int64_t next_deadline(const struct ctl_opts *opt, struct xfer *x, const json_t *msg);
static int stream_wait_ms(const struct ctl_opts *opt);
static int read_failed(const struct ctl_opts *opt, enum wait_for what, const char *op, enum ctl_io io);
static int unreachable(const char *path, int err);
static const char *closed_hint(const struct ctl_opts *opt);
static int request_render(const struct ctl_cmd *cmd, const struct ctl_opts *opt, json_t *args);
static void on_signal(int sig);

/* ---- talking to the daemon -------------------------------------------------------------- */

/* Connect, send req (a line with its newline), read until the reply, passing stream lines
 * that come first to on_line.  EXIT_OK with *rep filled (ok or not), or the exit code after
 * the message was printed.  *x says how far it got. */
int ctl_transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
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
		fprintf(stderr, "cutoverctl: cutoverd at %s closed the connection before replying %s\n", opt->socket,
			closed_hint(opt));
		return EXIT_UNREACHABLE;
	}
	if (io == CTL_IO_ERR) {
		if (errno == EINTR && interrupted)
			return EXIT_INTERRUPTED;
		return unreachable(opt->socket, errno);
	}
	x->sent = true;
	for (;;) {
		r = ctl_read_message(c, opt, deadline, x->progress ? WAIT_PROGRESS : WAIT_REPLY,
				     cmd->api ? cmd->api : "operation", rep);
		if (r != EXIT_OK)
			return r;
		if (json_object_get(rep->msg, "ok"))
			return EXIT_OK;
		if (on_line)
			on_line(cmd, opt, rep->text, rep->msg);
		deadline = next_deadline(opt, x, rep->msg);
		ctl_reply_free(rep);
	}
}

/* A long command proves it is alive with every line it streams, so the wait starts again.
 * A paused switchover waits for a person (`cutoverctl resume`), or for its pause's limit, after
 * which the daemon rolls it back and says so on this stream: no time limit of our own. */
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
int ctl_read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
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
		ctl_reply_free(out);
		return EXIT_FAILED;
	}
	if (json_is_true(ok) && !json_object_get(out->msg, "result")) {
		fprintf(stderr, "cutoverctl: daemon sent an invalid reply: ok without a result\n");
		ctl_reply_free(out);
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
		fprintf(stderr, "cutoverctl: cutoverd at %s closed the connection%s %s\n", opt->socket,
			what == WAIT_EVENT ? "" : " before replying", closed_hint(opt));
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

/* Where to look when the connection ended without a word: through ssh, ssh's own message (or
 * the relay's) was printed just above. */
static const char *closed_hint(const struct ctl_opts *opt)
{
	return ctl_remote_address(opt->socket) ? "(ssh's or the relay's message above says why; on that machine see "
						 "journalctl -u cutoverd)"
					       : "(see journalctl -u cutoverd)";
}

static int unreachable(const char *path, int err)
{
	fprintf(stderr, "cutoverctl: cannot reach cutoverd at %s: %s (%s)\n", path, strerror(err),
		ctl_remote_address(path) ? "an address of another machine is ssh://[USER@]HOST[:PORT]/PATH, reached with "
					   "ssh(1) ($CUTOVER_SSH)"
					 : ctl_unreachable_hint(err));
	return EXIT_UNREACHABLE;
}

/* A daemon that is not there may be running elsewhere (a sandbox, a second instance): name
 * the two ways to point cutoverctl at its socket, not only systemd. */
const char *ctl_unreachable_hint(int err)
{
	if (err == EACCES || err == EPERM)
		return "is your user in the socket's group? see socket_group and socket_mode in "
		       "cutoverd.conf(5)";
	if (err == ENAMETOOLONG)
		return "a Unix socket path has at most 107 bytes; use a shorter --socket";
	return "is it running? see systemctl status cutoverd; a daemon on another socket: "
	       "-s PATH, or set $CUTOVERD_SOCKET";
}

/* Print the reply for its audience; the exit code follows "ok". */
int ctl_finish_reply(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep)
{
	const json_t *result = json_object_get(rep->msg, "result");

	if (!json_is_true(json_object_get(rep->msg, "ok"))) {
		if (opt->json)
			printf("%s\n", rep->text);
		ctl_print_error(rep->msg);
		return EXIT_FAILED;
	}
	/* e.g. with [ha]: "done", but etcd does not have the last records (the daemon says what next) */
	if (!opt->json && json_is_string(json_object_get(result, "warning")))
		fprintf(stderr, "cutoverctl: warning: %s\n", json_string_value(json_object_get(result, "warning")));
	if (opt->json || !cmd->render)
		return render_json(stdout, result, &opt->ro) < 0 ? EXIT_FAILED : EXIT_OK;
	if (cmd->render(stdout, result, &opt->ro) < 0) {
		fprintf(stderr, "cutoverctl: daemon sent a %s result this cutoverctl cannot show "
			"(see it with cutoverctl --json %s)\n", cmd->name, cmd->name);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

void ctl_print_error(const json_t *msg)
{
	const json_t *err = json_object_get(msg, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *text = json_string_value(json_object_get(err, "message"));

	fprintf(stderr, "cutoverctl: %s: %s\n", code ? code : "ERROR", text ? text : "(no message)");
}

void ctl_reply_free(struct reply *rep)
{
	json_decref(rep->msg);
	free(rep->text);
	rep->msg = NULL;
	rep->text = NULL;
}

/* Stream lines shown as the command renders them ("progress" or "event" payload). */
void ctl_show_stream(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
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

void ctl_print_json_line(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | PROTO_JSON_REAL);

	if (s)
		printf("%s\n", s);
	free(s);
}

/* Flush stdout; a closed pipe (cutoverctl … | head) is not an error, a full disk is. */
int ctl_stdout_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return 0;
	fprintf(stderr, "cutoverctl: writing the output: %s\n", strerror(errno));
	return -1;
}

/* ---- sending requests, and the handlers most commands use ------------------------------- */

char *ctl_request_line(const char *api, json_t *args, size_t *len)
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
int ctl_call(const struct ctl_cmd *cmd, const char *api, const struct ctl_opts *opt, json_t *args,
	     line_fn on_line, const sigset_t *wait_mask, struct reply *rep, struct xfer *x)
{
	struct ctl_client c;
	char *line;
	size_t len;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(x, 0, sizeof(*x));
	line = ctl_request_line(api, args, &len);
	if (!line) {
		fprintf(stderr, "cutoverctl: cannot encode the request\n");
		return EXIT_FAILED;
	}
	ctl_client_init(&c, wait_mask);
	r = ctl_transact(&c, cmd, opt, line, len, on_line, rep, x);
	ctl_client_close(&c);
	if (r == EXIT_OK && opt->follow_leader && !json_is_true(json_object_get(rep->msg, "ok"))) {
		const json_t *err = json_object_get(rep->msg, "error");
		const char *code = json_string_value(json_object_get(err, "code"));
		const char *addr = json_string_value(json_object_get(json_object_get(err, "leader"), "address"));
		const char *name = json_string_value(json_object_get(json_object_get(err, "leader"), "name"));

		if (code && !strcmp(code, "NOT_LEADER") && addr && (addr[0] == '/' || ctl_remote_address(addr)) &&
		    strcmp(addr, opt->socket)) {
			/* once: the leader's own answer is the answer, whatever it is */
			struct ctl_opts o2 = *opt;
			char *leader_sock = xstrdup(addr);
			fprintf(stderr, "cutoverctl: %s is not the leader; sending '%s' to the leader %s at %s\n", opt->socket, api,
				name ? name : "?", addr);
			o2.socket = leader_sock;
			o2.follow_leader = false;
			ctl_reply_free(rep);
			memset(rep, 0, sizeof(*rep));
			memset(x, 0, sizeof(*x));
			ctl_client_init(&c, wait_mask);
			r = ctl_transact(&c, cmd, &o2, line, len, on_line, rep, x);
			ctl_client_close(&c);
			free(leader_sock);
		} else if (code && !strcmp(code, "NOT_LEADER")) {
			fprintf(stderr, "cutoverctl: --follow-leader: %s\n", !addr || !*addr ? "the leader is not known"
									  : addr[0] != '/' && !ctl_remote_address(addr)
									  ? "the leader's address is neither a socket path nor ssh://HOST/PATH"
											   : "the leader's address is this socket");
		}
	}
	free(line);
	return r;
}

/* The ordinary command: one request, maybe progress lines, one reply, rendered. */
int ctl_run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
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

	r = ctl_call(cmd, cmd->api, opt, args, ctl_show_stream, NULL, &rep, &x);
	if (r == EXIT_OK)
		r = ctl_finish_reply(cmd, opt, &rep);
	ctl_reply_free(&rep);
	return r;
}

/* resolve, fence, unfence, stonith: one request and its reply, asked about first on a
 * terminal unless --yes. */
int ctl_run_confirmed(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct cmd_args a;
	json_t *args;
	int r;

	if ((r = ctl_parse_cmd_args(cmd, opt, argc, argv, &a)) != 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	args = args_to_json(&a);
	r = ctl_confirm(cmd, opt, &a, args);
	if (r == EXIT_OK)
		r = request_render(cmd, opt, args);
	json_decref(args);
	return r;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

/* Catch SIGINT and SIGTERM in a flag, and block them except inside ppoll(2) with *wait_mask,
 * so that one arriving between two reads cannot be missed. */
void ctl_catch_signals(sigset_t *wait_mask)
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
