/* Unit tests for daemon/control.c: a real control server on a temporary socket, driven through
 * client sockets while the test pumps the event loop without blocking.
 *
 * Access control: the tests run as root here, and root is always admin.  A non-admin peer is made
 * by forking a child that drops to uid 65534 (and a chosen gid), connects, and hands the connected
 * socket back over SCM_RIGHTS: SO_PEERCRED records the credentials at connect() time, so the
 * parent then drives the connection as that user.  When not run as root, the test process itself
 * is the non-admin peer and the tests that need other identities are left out. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "nss.h"
#include "nss_gate.h"
#include "util.h"

Suite *control_suite(void);

#define DEADLINE_MS 5000        /* a bound for failures only, never an expected duration */
#define NOBODY 65534

struct cli {
	int fd;
	char *buf;
	size_t len;
	bool eof;
};

/* What the test dispatcher saw. */
static struct {
	int n_dispatched;
	char last_cmd[32];
	struct client *held;
	json_t *held_id;
} seen;

static char tmpdir[64];
static char sock_path[128];
static struct event_base *base;
static struct control *ctl;

static void setup(void);
static void teardown(void);
static void dispatch(void *arg, struct client *c, const struct request *req);
static struct control_opts default_opts(void);
static void start(const struct control_opts *o);
static void pump(const struct cli *cl);
static int cli_connect_fd(void);
static struct cli *cli_wrap(int fd);
static struct cli *cli_connect(void);
static void cli_close(struct cli *cl);
static void cli_send(struct cli *cl, const char *data, size_t len);
static void cli_puts(struct cli *cl, const char *s);
static int cli_read_line(struct cli *cl, json_t **out);
static json_t *cli_expect_reply(struct cli *cl);
static bool cli_wait_eof(struct cli *cl);
static int connect_as(uid_t uid, gid_t gid);
static void expect_echo(json_t *r, const char *cmd);
static void expect_error(json_t *r, const char *code, const char *needle);
static bool wait_for(bool (*cond)(void));
static bool held_seen(void);

static void setup(void)
{
	strlcpy_(tmpdir, "/tmp/cutover-control-XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* The uid-65534 peers must reach the socket. */
	ck_assert_int_eq(chmod(tmpdir, 0755), 0);
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", tmpdir);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ctl = NULL;
	memset(&seen, 0, sizeof(seen));
	log_init(LOG_TO_STDERR, LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	if (ctl)
		control_free(ctl);
	ctl = NULL;
	json_decref(seen.held_id);
	seen.held_id = NULL;
	event_base_free(base);
	unlink(sock_path);
	rmdir(tmpdir);
}

/* Echo the command; "events" subscribes; "config" is held (a long command) until the test
 * replies and releases it. */
static void dispatch(void *arg, struct client *c, const struct request *req)
{
	json_t *cl;

	seen.n_dispatched++;
	strlcpy_(seen.last_cmd, req->cmd, sizeof(seen.last_cmd));
	if (!strcmp(req->cmd, "events")) {
		cl = json_object_get(req->args, "cluster");
		client_subscribe(c, req->id, json_string_value(cl));
		client_reply_ok(c, req->id, json_pack("{s:b}", "subscribed", 1));
		return;
	}
	if (!strcmp(req->cmd, "config")) {
		client_hold(c);
		seen.held = c;
		seen.held_id = json_deep_copy(req->id);
		return;
	}
	client_reply_ok(c, req->id, json_pack("{s:s}", "echo", req->cmd));
}

static struct control_opts default_opts(void)
{
	struct control_opts o = {
		.path = sock_path, .mode = 0666, .gid = (gid_t)-1, .max_clients = 16,
		.idle_timeout_ms = 0, .inherited_fd = -1,
	};
	return o;
}

static void start(const struct control_opts *o)
{
	char err[512] = "";

	ctl = control_new(base, o, dispatch, NULL, err, sizeof(err));
	ck_assert_msg(ctl != NULL, "control_new: %s", err);
}

/* One non-blocking turn of the server's loop, then a short wait for the client's socket. */
static void pump(const struct cli *cl)
{
	struct pollfd p = { .fd = cl ? cl->fd : -1, .events = POLLIN };

	event_base_loop(base, EVLOOP_NONBLOCK);
	poll(&p, cl ? 1 : 0, 5);
}

static int cli_connect_fd(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	strlcpy_(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0, "connect %s: %s", sock_path,
		      strerror(errno));
	return fd;
}

static struct cli *cli_wrap(int fd)
{
	struct cli *cl = xcalloc(1, sizeof(*cl));

	cl->fd = fd;
	cl->buf = xmalloc(1 << 20);
	return cl;
}

static struct cli *cli_connect(void)
{
	return cli_wrap(cli_connect_fd());
}

static void cli_close(struct cli *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	free(cl->buf);
	free(cl);
}

static void cli_send(struct cli *cl, const char *data, size_t len)
{
	int64_t deadline = now_mono_ms() + DEADLINE_MS;
	ssize_t n;

	while (len > 0) {
		n = send(cl->fd, data, len, MSG_NOSIGNAL);
		if (n < 0) {
			ck_assert_msg(errno == EAGAIN, "send: %s", strerror(errno));
			ck_assert_msg(now_mono_ms() < deadline, "send did not complete");
			pump(NULL);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
}

static void cli_puts(struct cli *cl, const char *s)
{
	cli_send(cl, s, strlen(s));
}

/* 1 with a parsed line, 0 at EOF, -1 when nothing came before the deadline. */
static int cli_read_line(struct cli *cl, json_t **out)
{
	int64_t deadline = now_mono_ms() + DEADLINE_MS;
	json_error_t jerr;
	char *nl;
	ssize_t n;
	size_t l;

	*out = NULL;
	for (;;) {
		nl = memchr(cl->buf, '\n', cl->len);
		if (nl) {
			l = (size_t)(nl - cl->buf);
			*out = json_loadb(cl->buf, l, 0, &jerr);
			ck_assert_msg(*out != NULL, "reply is not JSON: %.*s (%s)", (int)l, cl->buf, jerr.text);
			memmove(cl->buf, nl + 1, cl->len - l - 1);
			cl->len -= l + 1;
			return 1;
		}
		if (cl->eof)
			return 0;
		if (now_mono_ms() > deadline)
			return -1;
		pump(cl);
		n = recv(cl->fd, cl->buf + cl->len, (1 << 20) - cl->len, MSG_DONTWAIT);
		if (n > 0)
			cl->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			cl->eof = true;
	}
}

static json_t *cli_expect_reply(struct cli *cl)
{
	json_t *r;
	int got = cli_read_line(cl, &r);

	ck_assert_msg(got == 1, got == 0 ? "connection closed, expected a reply" : "no reply in time");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "api")), API_VERSION);
	return r;
}

static bool cli_wait_eof(struct cli *cl)
{
	json_t *r;
	int got = cli_read_line(cl, &r);

	if (got == 1) {
		char *s = json_dumps(r, JSON_COMPACT);
		fprintf(stderr, "unexpected line before EOF: %s\n", s);
		free(s);
		json_decref(r);
	}
	return got == 0;
}

/* A connection whose peer credentials are uid/gid: made by a child that drops to them. */
static int connect_as(uid_t uid, gid_t gid)
{
	int sp[2], fd;
	pid_t pid;
	int status;
	char cbuf[CMSG_SPACE(sizeof(int))], b = 0;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* No ck_assert in the child: a failure there must only show in its exit status. */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		close(sp[0]);
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(2);
		strlcpy_(sun.sun_path, sock_path, sizeof(sun.sun_path));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			_exit(4);
		memset(cbuf, 0, sizeof(cbuf));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		_exit(sendmsg(sp[1], &mh, 0) == 1 ? 0 : 3);
	}
	close(sp[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could not connect as uid %u",
		      (unsigned)uid);
	ck_assert_int_eq(recvmsg(sp[0], &mh, 0), 1);
	close(sp[0]);
	cm = CMSG_FIRSTHDR(&mh);
	ck_assert_ptr_nonnull(cm);
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void expect_echo(json_t *r, const char *cmd)
{
	char *s = json_dumps(r, JSON_COMPACT);

	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "not ok: %s", s);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "result"), "echo")), cmd);
	free(s);
}

static void expect_error(json_t *r, const char *code, const char *needle)
{
	json_t *e = json_object_get(r, "error");
	const char *m = json_string_value(json_object_get(e, "message"));

	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
	ck_assert_msg(m && strstr(m, needle), "message \"%s\" lacks \"%s\"", m ? m : "(none)", needle);
}

static bool wait_for(bool (*cond)(void))
{
	int64_t deadline = now_mono_ms() + DEADLINE_MS;

	while (!cond()) {
		if (now_mono_ms() > deadline)
			return false;
		pump(NULL);
	}
	return true;
}

static bool held_seen(void)
{
	return seen.held != NULL;
}

static int want_count;
static bool count_reached(void)
{
	return control_client_count(ctl) == want_count;
}

/* --- control_new --- */

START_TEST(test_new_mode_and_group)
{
	struct control_opts o = default_opts();
	struct stat st;

	o.mode = 0640;
	if (geteuid() == 0)
		o.gid = 4242;
	start(&o);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	if (geteuid() == 0)
		ck_assert_int_eq(st.st_gid, 4242);
	control_free(ctl);
	ctl = NULL;
	ck_assert_int_eq(lstat(sock_path, &st), -1);   /* unlinked: it was ours */
}
END_TEST

START_TEST(test_new_stale_socket_replaced)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control_opts o = default_opts();
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct cli *cl;
	json_t *r;

	/* A socket file nobody listens on: what a crashed daemon leaves behind. */
	strlcpy_(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "version");
	json_decref(r);
	cli_close(cl);
}
END_TEST

START_TEST(test_new_live_socket_refused)
{
	struct control_opts o = default_opts();
	struct control *second;
	struct stat st;
	struct cli *cl;
	json_t *r;
	char err[512] = "";

	start(&o);
	second = control_new(base, &o, dispatch, NULL, err, sizeof(err));
	ck_assert_ptr_null(second);
	ck_assert_msg(strstr(err, "another cutoverd is listening on") && strstr(err, sock_path), "err: %s", err);
	/* The first server keeps its socket. */
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "version");
	json_decref(r);
	cli_close(cl);
}
END_TEST

START_TEST(test_new_not_a_socket)
{
	struct control_opts o = default_opts();
	char err[512] = "";
	FILE *f = fopen(sock_path, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_ptr_null(control_new(base, &o, dispatch, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "is not a socket"), "err: %s", err);
	ck_assert_int_eq(access(sock_path, F_OK), 0);   /* left alone */
}
END_TEST

START_TEST(test_new_inherited_never_unlinked)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct control_opts o = default_opts();
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct cli *cl;
	json_t *r;

	strlcpy_(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	o.inherited_fd = fd;
	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"status\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	json_decref(r);
	cli_close(cl);
	control_free(ctl);
	ctl = NULL;
	ck_assert_int_eq(access(sock_path, F_OK), 0);
}
END_TEST

START_TEST(test_new_inherited_not_listening)
{
	struct control_opts o = default_opts();
	char err[512] = "";
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	o.inherited_fd = sp[0];
	ck_assert_ptr_null(control_new(base, &o, dispatch, NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a listening Unix stream socket"), "err: %s", err);
	close(sp[0]);
	close(sp[1]);
}
END_TEST

/* --- requests --- */

START_TEST(test_requests_good_and_bad)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *r;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"id\":1,\"cmd\":\"status\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);

	cli_puts(cl, "{\"id\":\"b\",\"cmd\":\"nope\"}\n");
	r = cli_expect_reply(cl);
	expect_error(r, "INVALID", "unknown command 'nope'");
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "b");
	json_decref(r);

	cli_puts(cl, "this is not json\n");
	r = cli_expect_reply(cl);
	expect_error(r, "INVALID", "invalid JSON at line 1");
	ck_assert(json_is_null(json_object_get(r, "id")));
	json_decref(r);

	/* Still usable; blank lines are skipped and CRLF is accepted. */
	cli_puts(cl, "\n  \r\n{\"id\":[2],\"cmd\":\"topology\"}\r\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "topology");
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(r, "id"), 0)), 2);
	json_decref(r);
	ck_assert_int_eq(seen.n_dispatched, 2);
	cli_close(cl);
}
END_TEST

START_TEST(test_requests_pipelined)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *r;
	int i;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"id\":1,\"cmd\":\"version\"}\n{\"id\":2,\"cmd\":\"status\"}\n{\"id\":3,\"cmd\":\"bad\"}\n"
		 "{\"id\":4,\"cmd\":\"topology\"}\n{\"id\":5,\"cmd\":\"status\",\"args\":{\"cluster\":\"a\"}}\n");
	for (i = 1; i <= 5; i++) {
		r = cli_expect_reply(cl);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), i);
		ck_assert(json_is_boolean(json_object_get(r, "ok")));
		ck_assert(json_is_true(json_object_get(r, "ok")) == (i != 3));
		json_decref(r);
	}
	cli_close(cl);
}
END_TEST

/* `echo … | socat`: the peer half-closes after its request and must still get the reply;
 * an unterminated last line counts. */
START_TEST(test_requests_half_close)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *r;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"id\":1,\"cmd\":\"version\"}\n{\"id\":2,\"cmd\":\"status\"}");
	ck_assert_int_eq(shutdown(cl->fd, SHUT_WR), 0);
	r = cli_expect_reply(cl);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	json_decref(r);
	ck_assert(cli_wait_eof(cl));
	cli_close(cl);
	want_count = 0;
	ck_assert(wait_for(count_reached));
}
END_TEST

/* --- access control --- */

START_TEST(test_access_denied)
{
	struct control_opts o = default_opts();
	uid_t admin_uid = 4000;
	struct cli *cl;
	json_t *r;
	char want[64];

	o.admin_uids = &admin_uid;
	o.n_admin_uids = 1;
	start(&o);
	cl = cli_wrap(geteuid() == 0 ? connect_as(NOBODY, NOBODY) : cli_connect_fd());
	cli_puts(cl, "{\"id\":7,\"cmd\":\"reload\"}\n");
	r = cli_expect_reply(cl);
	expect_error(r, "DENIED", "'reload' changes the daemon's state: only root and the configured admin");
	snprintf(want, sizeof(want), "(you are uid %u)", geteuid() == 0 ? NOBODY : (unsigned)geteuid());
	expect_error(r, "DENIED", want);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
	ck_assert_int_eq(seen.n_dispatched, 0);

	/* Read-only commands are fine, and the connection stays. */
	cli_puts(cl, "{\"cmd\":\"status\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	json_decref(r);
	cli_close(cl);
}
END_TEST

START_TEST(test_access_root_is_admin)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *r;

	/* make check runs as root (README); a run that is not would prove nothing here */
	ck_assert_msg(geteuid() == 0, "this test needs root: only root can be this peer");
	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"reload\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "reload");
	json_decref(r);
	cli_close(cl);
}
END_TEST

/* uid in admin_uids; primary gid in admin_gids; a supplementary group (from the group database:
 * nobody's own group 65534 while the peer runs with primary gid 4242) in admin_gids. */
START_TEST(test_access_admin_ids)
{
	struct control_opts o = default_opts();
	uid_t uids[] = { 4000, NOBODY };
	gid_t gids[1];
	struct {
		size_t n_uids;
		gid_t admin_gid;
		gid_t peer_gid;
		bool admin;
	} cases[] = {
		{ 2, 1, 4242, true },          /* by uid */
		{ 1, 4242, 4242, true },       /* by primary gid */
		{ 1, NOBODY, 4242, true },     /* by a group the user belongs to */
		{ 1, 4243, 4242, false },
	};
	size_t i;
	struct cli *cl;
	json_t *r;

	ck_assert_msg(geteuid() == 0 && getpwuid(NOBODY) != NULL,
		      "this test needs root and the user nobody (fork+setresuid to a known user)");
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		gids[0] = cases[i].admin_gid;
		o.admin_uids = uids;
		o.n_admin_uids = cases[i].n_uids;
		o.admin_gids = gids;
		o.n_admin_gids = 1;
		start(&o);
		cl = cli_wrap(connect_as(NOBODY, cases[i].peer_gid));
		cli_puts(cl, "{\"cmd\":\"reload\"}\n");
		r = cli_expect_reply(cl);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")) == cases[i].admin, "case %zu", i);
		json_decref(r);
		cli_close(cl);
		control_free(ctl);
		ctl = NULL;
	}

	/* NSS is asked once a minute per peer, not at every connection; new admin groups forget
	 * every answer */
	gids[0] = NOBODY;
	o.admin_uids = uids;
	o.n_admin_uids = 1;
	o.admin_gids = gids;
	o.n_admin_gids = 1;
	start(&o);
	for (i = 0; i < 3; i++) {
		cl = cli_wrap(connect_as(NOBODY, 4242));
		cli_puts(cl, "{\"cmd\":\"reload\"}\n");
		r = cli_expect_reply(cl);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")), "connection %zu: not an admin", i);
		json_decref(r);
		cli_close(cl);
	}
	ck_assert_uint_eq(control_nss_lookups(ctl), 1);
	gids[0] = 4243;
	control_update(ctl, &o);
	cl = cli_wrap(connect_as(NOBODY, 4242));
	cli_puts(cl, "{\"cmd\":\"reload\"}\n");
	r = cli_expect_reply(cl);
	ck_assert_msg(!json_is_true(json_object_get(r, "ok")), "still an admin after the admin groups changed");
	json_decref(r);
	cli_close(cl);
	ck_assert_uint_eq(control_nss_lookups(ctl), 2);
}
END_TEST

/* --- admin groups: NSS off the loop --- */

static int (*real_lookup)(uid_t uid, gid_t **groups);
static bool timer_fired;

static void nss_setup(void)
{
	setup();
	gate_reset(4244);
	real_lookup = nss_lookup;
	nss_lookup = gate_lookup;
	timer_fired = false;
}

static void nss_teardown(void)
{
	gate_open();   /* no thread stays at the gate (CK_FORK=no) */
	teardown();
	nss_lookup = real_lookup;
	control_nss_deadline_ms = 5000;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	timer_fired = true;
}

static bool timer_seen(void)
{
	return timer_fired;
}

static bool gate_entered(void)
{
	return gate_calls() > 0;
}

static bool gate_passed(void)
{
	return gate_returned() > 0;
}

/* Peers uid 4000 with primary gid 4242 (root makes them: fork+setresuid), admins by the group
 * 4244 that the gate answers. */
static void start_with_admin_group(struct control_opts *o, gid_t *gid)
{
	ck_assert_msg(geteuid() == 0, "this test needs root (fork+setresuid to another uid)");
	*gid = 4244;
	o->admin_gids = gid;
	o->n_admin_gids = 1;
	start(o);
}

/* NSS was asked n times, and the control socket counted as many look-ups. */
static void expect_lookups(int n)
{
	ck_assert_int_eq(gate_calls(), n);
	ck_assert_uint_eq(control_nss_lookups(ctl), (unsigned long)n);
}

/* A connection as that peer sends reload and is answered as an admin or DENIED; still open. */
static struct cli *reload_as_peer(bool admin)
{
	struct cli *cl = cli_wrap(connect_as(4000, 4242));
	json_t *r;

	cli_puts(cl, "{\"cmd\":\"reload\"}\n");
	r = cli_expect_reply(cl);
	if (admin)
		expect_echo(r, "reload");
	else
		expect_error(r, "DENIED", "(you are uid 4000)");
	json_decref(r);
	return cl;
}

/* While a look-up is out, the loop goes on: a timer fires and another client is answered, and
 * the waiting connection is not; a second connection of the same uid waits on the same
 * look-up; when it answers, both are admins. */
START_TEST(test_nss_loop_runs_meanwhile)
{
	struct control_opts o = default_opts();
	struct timeval tv = { 0, 1000 };
	struct cli *slow[2], *other;
	gid_t gid;
	json_t *r;
	char b;
	int i;

	start_with_admin_group(&o, &gid);
	for (i = 0; i < 2; i++) {
		slow[i] = cli_wrap(connect_as(4000, 4242));
		cli_puts(slow[i], "{\"cmd\":\"reload\"}\n");
	}
	ck_assert(wait_for(gate_entered));
	ck_assert_int_eq(event_base_once(base, -1, EV_TIMEOUT, timer_cb, NULL, &tv), 0);
	ck_assert(wait_for(timer_seen));
	other = cli_connect();
	cli_puts(other, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(other);
	expect_echo(r, "version");
	json_decref(r);
	/* All that happened before the look-up returned; the waiting peers are not answered. */
	ck_assert_int_eq(gate_returned(), 0);
	ck_assert_int_eq(seen.n_dispatched, 1);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(recv(slow[i]->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK), -1);

	gate_open();
	for (i = 0; i < 2; i++) {
		r = cli_expect_reply(slow[i]);
		expect_echo(r, "reload");
		json_decref(r);
		cli_close(slow[i]);
	}
	expect_lookups(1);
	cli_close(other);
}
END_TEST

/* A look-up that does not answer within the deadline: not an admin (fail closed), read-only
 * commands still served; the late answer is kept, so the next connection is an admin without
 * a new look-up. */
START_TEST(test_nss_deadline_fails_closed)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	gid_t gid;
	json_t *r;

	control_nss_deadline_ms = 100;
	start_with_admin_group(&o, &gid);
	cl = reload_as_peer(false);
	ck_assert_int_eq(gate_returned(), 0);   /* decided by the deadline, not by an answer */
	cli_puts(cl, "{\"cmd\":\"status\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	json_decref(r);
	cli_close(cl);

	gate_open();
	ck_assert(wait_for(gate_passed));
	cli_close(reload_as_peer(true));
	expect_lookups(1);
}
END_TEST

/* A look-up that fails is not an admin, and is not kept: the next connection asks again. */
START_TEST(test_nss_failure_not_kept)
{
	struct control_opts o = default_opts();
	gid_t gid;
	int i;

	gate_reset((gid_t)-1);
	gate_open();
	start_with_admin_group(&o, &gid);
	for (i = 0; i < 2; i++)
		cli_close(reload_as_peer(false));
	expect_lookups(2);
}
END_TEST

/* --- limits --- */

START_TEST(test_limit_oversize_line)
{
	struct control_opts o = default_opts();
	size_t big = PROTO_MAX_LINE + 100;
	char *data = xmalloc(big);
	struct cli *cl;
	json_t *r;

	start(&o);
	cl = cli_connect();
	memset(data, 'x', big);
	cli_send(cl, data, big);     /* no newline at all */
	r = cli_expect_reply(cl);
	expect_error(r, "INVALID", "request line longer than 65536 bytes");
	json_decref(r);
	ck_assert(cli_wait_eof(cl));
	cli_close(cl);

	/* A complete line one byte over the cap is refused the same way. */
	cl = cli_connect();
	memset(data, ' ', PROTO_MAX_LINE + 1);
	data[PROTO_MAX_LINE + 1] = '\n';
	cli_send(cl, data, PROTO_MAX_LINE + 2);
	r = cli_expect_reply(cl);
	expect_error(r, "INVALID", "longer than");
	json_decref(r);
	ck_assert(cli_wait_eof(cl));
	cli_close(cl);
	free(data);
}
END_TEST

START_TEST(test_limit_max_line_accepted)
{
	struct control_opts o = default_opts();
	const char *head = "{\"cmd\":\"status\",\"id\":\"";
	size_t hl = strlen(head);
	char *data = xmalloc(PROTO_MAX_LINE + 2);
	struct cli *cl;
	json_t *r;

	/* Exactly 65536 bytes, then "\r\n". */
	memcpy(data, head, hl);
	memset(data + hl, 'a', PROTO_MAX_LINE - hl - 2);
	memcpy(data + PROTO_MAX_LINE - 2, "\"}\r\n", 4);
	start(&o);
	cl = cli_connect();
	cli_send(cl, data, PROTO_MAX_LINE + 2);
	r = cli_expect_reply(cl);
	expect_echo(r, "status");
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(r, "id"))), PROTO_MAX_LINE - hl - 2);
	json_decref(r);
	cli_close(cl);
	free(data);
}
END_TEST

/* The pool (max_clients 8): one uid that is not an admin holds at most a quarter of it (2),
 * all of them together all but the eighth kept for admins (7); root gets in whatever the others
 * hold, and even that far past max_clients (9), so that an abort always gets through. */
START_TEST(test_limit_client_cap)
{
	struct control_opts o = default_opts();
	struct cli *cl[12], *busy, *root1, *root2;
	json_t *r;
	int i, n = 0;

	o.max_clients = 8;
	start(&o);
	for (i = 0; i < 2; i++)
		cl[n++] = cli_wrap(connect_as(65534, 65534));
	want_count = 2;
	ck_assert(wait_for(count_reached));
	busy = cli_wrap(connect_as(65534, 65534));   /* a third for the same uid */
	r = cli_expect_reply(busy);
	expect_error(r, "BUSY", "too many clients (max 8)");
	json_decref(r);
	cli_close(busy);
	for (i = 0; i < 5; i++)   /* five more uids: 7 in all */
		cl[n++] = cli_wrap(connect_as(60000 + (uid_t)i, 60000 + (gid_t)i));
	want_count = 7;
	ck_assert(wait_for(count_reached));
	busy = cli_wrap(connect_as(60010, 60010));   /* the eighth slot is the admins' */
	r = cli_expect_reply(busy);
	expect_error(r, "BUSY", "too many clients");
	json_decref(r);
	cli_close(busy);
	root1 = cli_connect();
	root2 = cli_connect();
	cli_puts(root2, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(root2);
	expect_echo(r, "version");
	json_decref(r);
	busy = cli_connect();   /* 10th: past the admins' room too */
	r = cli_expect_reply(busy);
	expect_error(r, "BUSY", "too many clients");
	json_decref(r);
	cli_close(busy);

	/* A freed slot is usable again. */
	cli_close(root1);
	cli_close(root2);
	cli_close(cl[0]);
	want_count = 6;
	ck_assert(wait_for(count_reached));
	cl[0] = cli_wrap(connect_as(65534, 65534));
	cli_puts(cl[0], "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(cl[0]);
	expect_echo(r, "version");
	json_decref(r);
	for (i = 0; i < n; i++)
		cli_close(cl[i]);
}
END_TEST

/* The case: with the default pool (64), nobody opening 63 connections that subscribe to
 * events gets 16 of them, and root's request still gets through. */
START_TEST(test_limit_root_never_locked_out)
{
	struct control_opts o = default_opts();
	struct cli *cl[63], *root;
	json_t *r;
	int i, accepted = 0;

	o.max_clients = 64;
	start(&o);
	for (i = 0; i < 63; i++) {
		cl[i] = cli_wrap(connect_as(65534, 65534));
		cli_puts(cl[i], "{\"cmd\":\"events\"}\n");
	}
	want_count = 16;
	ck_assert(wait_for(count_reached));
	root = cli_connect();
	cli_puts(root, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(root);
	expect_echo(r, "version");
	json_decref(r);
	accepted = control_client_count(ctl) - 1;
	ck_assert_int_eq(accepted, 16);
	for (i = 0; i < 63; i++)
		cli_close(cl[i]);
	cli_close(root);
}
END_TEST

START_TEST(test_limit_idle_timeout)
{
	struct control_opts o = default_opts();
	struct cli *idle, *sub;
	json_t *r, *ev;

	o.idle_timeout_ms = 200;
	start(&o);
	/* A subscriber first: the idle timeout must not apply to it. */
	sub = cli_connect();
	cli_puts(sub, "{\"id\":\"s\",\"cmd\":\"events\"}\n");
	r = cli_expect_reply(sub);
	json_decref(r);

	idle = cli_connect();
	cli_puts(idle, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(idle);
	json_decref(r);
	ck_assert(cli_wait_eof(idle));
	cli_close(idle);

	/* Its deadline would have passed before the idle client's: it is still there. */
	ev = json_pack("{s:s}", "type", "verdict");
	control_broadcast(ctl, ev);
	json_decref(ev);
	r = cli_expect_reply(sub);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "event"), "type")), "verdict");
	json_decref(r);
	cli_close(sub);
}
END_TEST

/* Out of descriptors: accept backs off instead of failing for good, and recovers. */
START_TEST(test_limit_accept_emfile)
{
	struct control_opts o = default_opts();
	struct rlimit old, low;
	struct cli *cl;
	json_t *r;
	int fd, i;

	start(&o);
	cl = cli_connect();
	fd = dup(0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd;   /* the next descriptor would be fd: none is left */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (i = 0; i < 20; i++)
		pump(NULL);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(control_client_count(ctl), 0);

	cli_puts(cl, "{\"cmd\":\"version\"}\n");
	r = cli_expect_reply(cl);
	expect_echo(r, "version");
	json_decref(r);
	cli_close(cl);
}
END_TEST

/* --- client_hold / client_release / client_gone --- */

START_TEST(test_hold_orders_pipelined_lines)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *r;
	int i;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"id\":1,\"cmd\":\"config\"}\n{\"id\":2,\"cmd\":\"version\"}\n");
	ck_assert(wait_for(held_seen));
	for (i = 0; i < 50; i++)
		pump(cl);
	/* The second request waits behind the held one. */
	ck_assert_int_eq(seen.n_dispatched, 1);
	ck_assert(!client_gone(seen.held));
	ck_assert_uint_eq(client_uid(seen.held), geteuid());
	ck_assert_int_gt(client_pid(seen.held), 0);

	client_reply_ok(seen.held, seen.held_id, json_pack("{s:s}", "echo", "config"));
	client_release(seen.held);
	r = cli_expect_reply(cl);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 1);
	expect_echo(r, "config");
	json_decref(r);
	r = cli_expect_reply(cl);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 2);
	expect_echo(r, "version");
	json_decref(r);
	cli_close(cl);
}
END_TEST

static bool held_gone(void)
{
	return client_gone(seen.held);
}

START_TEST(test_hold_peer_hangs_up)
{
	struct control_opts o = default_opts();
	struct cli *cl;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"id\":1,\"cmd\":\"config\"}\n");
	ck_assert(wait_for(held_seen));
	cli_close(cl);
	/* The holder keeps talking (progress lines); the write finds the peer gone. */
	client_send(seen.held, proto_stream_line(seen.held_id, "progress", json_pack("{s:s}", "step", "one")));
	ck_assert(wait_for(held_gone));
	want_count = 0;
	ck_assert(wait_for(count_reached));
	client_send(seen.held, proto_stream_line(seen.held_id, "progress", NULL));   /* a no-op now */
	client_reply_ok(seen.held, seen.held_id, NULL);
	client_release(seen.held);   /* frees it (ASan checks) */
}
END_TEST

START_TEST(test_hold_survives_control_free)
{
	struct control_opts o = default_opts();
	struct cli *cl;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"config\"}\n");
	ck_assert(wait_for(held_seen));
	control_free(ctl);
	ctl = NULL;
	ck_assert(client_gone(seen.held));
	client_reply_err(seen.held, seen.held_id, ERR_INTERNAL, "shutting down");
	client_release(seen.held);
	ck_assert(cli_wait_eof(cl));
	cli_close(cl);
}
END_TEST

/* --- client_subscribe / control_broadcast --- */

START_TEST(test_broadcast_filters)
{
	struct control_opts o = default_opts();
	struct cli *a, *b, *all;
	json_t *r, *ev;
	static const int want_a[] = { 1, 3 }, want_b[] = { 2, 3 }, want_all[] = { 1, 2, 3 };
	size_t i;

	start(&o);
	a = cli_connect();
	b = cli_connect();
	all = cli_connect();
	cli_puts(a, "{\"id\":\"A\",\"cmd\":\"events\",\"args\":{\"cluster\":\"a\"}}\n");
	cli_puts(b, "{\"id\":\"B\",\"cmd\":\"events\",\"args\":{\"cluster\":\"b\"}}\n");
	cli_puts(all, "{\"id\":\"ALL\",\"cmd\":\"events\"}\n");
	r = cli_expect_reply(a);
	ck_assert(json_is_true(json_object_get(json_object_get(r, "result"), "subscribed")));
	json_decref(r);
	json_decref(cli_expect_reply(b));
	json_decref(cli_expect_reply(all));

	ev = json_pack("{s:s,s:i}", "cluster", "a", "n", 1);
	control_broadcast(ctl, ev);
	json_decref(ev);
	ev = json_pack("{s:s,s:i}", "cluster", "b", "n", 2);
	control_broadcast(ctl, ev);
	json_decref(ev);
	ev = json_pack("{s:s,s:i}", "type", "config_reloaded", "n", 3);   /* no cluster: everyone */
	control_broadcast(ctl, ev);
	json_decref(ev);

	for (i = 0; i < ARRAY_LEN(want_a); i++) {
		r = cli_expect_reply(a);
		ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "A");
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "event"), "n")), want_a[i]);
		json_decref(r);
	}
	for (i = 0; i < ARRAY_LEN(want_b); i++) {
		r = cli_expect_reply(b);
		ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "B");
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "event"), "n")), want_b[i]);
		json_decref(r);
	}
	for (i = 0; i < ARRAY_LEN(want_all); i++) {
		r = cli_expect_reply(all);
		ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "event"), "n")),
				 want_all[i]);
		json_decref(r);
	}
	cli_close(a);
	cli_close(b);
	cli_close(all);
}
END_TEST

/* A subscriber that stops reading is dropped once 8 MiB are queued for it. */
/* Lines of 64 KiB and more are handed to the output buffer, not copied: three of 200 KB, with
 * small ones between them, arrive whole and in order; a reader that stops reading with such
 * lines queued is dropped, and their memory freed (ASan's run checks that). */
START_TEST(test_large_lines_whole)
{
	struct control_opts o = default_opts();
	struct cli *cl, *stuck;
	char *pad = xmalloc(200001);
	json_t *big, *small, *r;
	int i;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"events\"}\n");
	json_decref(cli_expect_reply(cl));
	stuck = cli_connect();
	cli_puts(stuck, "{\"cmd\":\"events\"}\n");
	json_decref(cli_expect_reply(stuck));
	for (i = 0; i < 200000; i++)
		pad[i] = (char)('a' + i % 26);
	pad[200000] = '\0';
	for (i = 0; i < 3; i++) {
		big = json_pack("{s:i,s:s}", "n", 2 * i, "pad", pad);
		small = json_pack("{s:i}", "n", 2 * i + 1);
		control_broadcast(ctl, big);
		control_broadcast(ctl, small);
		json_decref(big);
		json_decref(small);
	}
	for (i = 0; i < 6; i++) {
		json_t *ev;
		ck_assert_int_eq(cli_read_line(cl, &r), 1);
		ev = json_object_get(r, "event");
		ck_assert_msg(ev != NULL, "not an event line");
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "n")), i);
		if (i % 2 == 0)
			ck_assert_str_eq(json_string_value(json_object_get(ev, "pad")), pad);
		json_decref(r);
	}
	/* the other one never reads: large lines until it is dropped */
	big = json_pack("{s:s}", "pad", pad);
	for (i = 0; i < 100 && control_client_count(ctl) == 2; i++)
		control_broadcast(ctl, big);
	json_decref(big);
	ck_assert_int_eq(control_client_count(ctl), 1);
	free(pad);
	cli_close(stuck);
	cli_close(cl);
}
END_TEST

START_TEST(test_broadcast_drops_stuck_reader)
{
	struct control_opts o = default_opts();
	struct cli *cl;
	json_t *ev;
	char *pad = xmalloc(60001);
	int i;

	start(&o);
	cl = cli_connect();
	cli_puts(cl, "{\"cmd\":\"events\"}\n");
	json_decref(cli_expect_reply(cl));
	memset(pad, 'p', 60000);
	pad[60000] = '\0';
	ev = json_pack("{s:s}", "pad", pad);
	for (i = 0; i < 400 && control_client_count(ctl) == 1; i++)
		control_broadcast(ctl, ev);   /* no loop turn: nothing is written meanwhile */
	json_decref(ev);
	free(pad);
	ck_assert_int_eq(control_client_count(ctl), 0);
	cli_close(cl);
}
END_TEST

/* Six readers that never read: each alone may queue 8 MiB, all of them together no more than
 * 32 MiB — the one furthest behind is dropped first. */
START_TEST(test_broadcast_total_output_bounded)
{
	struct control_opts o = default_opts();
	struct cli *cl[6];
	json_t *ev;
	char *pad = xmalloc(60001);
	size_t most = 0;
	int i;

	start(&o);
	for (i = 0; i < 6; i++) {
		cl[i] = cli_connect();
		cli_puts(cl[i], "{\"cmd\":\"events\"}\n");
		json_decref(cli_expect_reply(cl[i]));
	}
	memset(pad, 'p', 60000);
	pad[60000] = '\0';
	ev = json_pack("{s:s}", "pad", pad);
	for (i = 0; i < 200; i++) {
		size_t now;
		control_broadcast(ctl, ev);   /* no loop turn: nothing is written meanwhile */
		now = control_output_pending(ctl);
		if (now > most)
			most = now;
	}
	json_decref(ev);
	free(pad);
	ck_assert_msg(most <= 32u * 1024 * 1024, "%zu bytes pending at most", most);
	ck_assert_int_lt(control_client_count(ctl), 6);   /* the budget dropped some */
	for (i = 0; i < 6; i++)
		cli_close(cl[i]);
}
END_TEST

/* --- control_update --- */

START_TEST(test_update_mode_and_limits)
{
	struct control_opts o = default_opts();
	struct stat st;
	struct cli *a, *b, *c;
	json_t *r;

	start(&o);
	o.mode = 0600;
	o.max_clients = 1;
	control_update(ctl, &o);
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	a = cli_connect();
	b = cli_connect();   /* root: the room kept for admins */
	want_count = 2;
	ck_assert(wait_for(count_reached));
	c = cli_connect();
	r = cli_expect_reply(c);
	expect_error(r, "BUSY", "(max 1)");
	json_decref(r);
	cli_close(a);
	cli_close(b);
	cli_close(c);
}
END_TEST

Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc;

	tc = tcase_create("control_new");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_new_mode_and_group);
	tcase_add_test(tc, test_new_stale_socket_replaced);
	tcase_add_test(tc, test_new_live_socket_refused);
	tcase_add_test(tc, test_new_not_a_socket);
	tcase_add_test(tc, test_new_inherited_never_unlinked);
	tcase_add_test(tc, test_new_inherited_not_listening);
	suite_add_tcase(s, tc);

	tc = tcase_create("requests");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_requests_good_and_bad);
	tcase_add_test(tc, test_requests_pipelined);
	tcase_add_test(tc, test_requests_half_close);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_access_denied);
	tcase_add_test(tc, test_access_root_is_admin);
	tcase_add_test(tc, test_access_admin_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("nss");
	tcase_add_checked_fixture(tc, nss_setup, nss_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nss_loop_runs_meanwhile);
	tcase_add_test(tc, test_nss_deadline_fails_closed);
	tcase_add_test(tc, test_nss_failure_not_kept);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limit_oversize_line);
	tcase_add_test(tc, test_limit_max_line_accepted);
	tcase_add_test(tc, test_limit_client_cap);
	tcase_add_test(tc, test_limit_root_never_locked_out);
	tcase_add_test(tc, test_limit_idle_timeout);
	tcase_add_test(tc, test_limit_accept_emfile);
	suite_add_tcase(s, tc);

	tc = tcase_create("client_hold");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hold_orders_pipelined_lines);
	tcase_add_test(tc, test_hold_peer_hangs_up);
	tcase_add_test(tc, test_hold_survives_control_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("control_broadcast");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_broadcast_filters);
	tcase_add_test(tc, test_broadcast_drops_stuck_reader);
	tcase_add_test(tc, test_large_lines_whole);
	tcase_add_test(tc, test_broadcast_total_output_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("control_update");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_update_mode_and_limits);
	suite_add_tcase(s, tc);
	return s;
}
