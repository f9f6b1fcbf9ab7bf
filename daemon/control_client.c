/* The control socket's clients: per-client line framing and reading, the access check on each
 * request, output queues and writing, holds for long commands and event subscriptions.
 *
 * Life of a client: accepted → reading lines → (EOF from the peer) → closed.  Closing tears down
 * the descriptor and events at once; the struct itself lives on while a handler holds it
 * (refcount), so a long command can still call client_gone()/client_send() safely.
 *
 * Decisions worth knowing:
 *  - A half-close by the peer (shutdown(SHUT_WR), as `echo … | socat` does) means "no more
 *    requests", not "stop talking": lines already received are answered, then the connection is
 *    closed once nothing is held and the output is flushed.  A subscriber that half-closed keeps
 *    its stream until a write fails.  A full close (POLLHUP on the socket) drops the client now.
 *  - While a handler holds the client we stop reading it; a peer that hangs up meanwhile is
 *    noticed by the next write (EPIPE), which marks the client gone.
 *  - A trailing line without its newline is still answered when the peer half-closes.
 */
#include "control_impl.h"
#include "stats.h"
#include "cmdtab.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_CHUNK (PROTO_MAX_LINE + 2)
#define MAX_PENDING_OUTPUT (8u * 1024 * 1024) /* a reader this far behind is stuck: drop it */
#define WRITE_IOV 16

static void client_ref(struct client *c);
static void client_unref(struct client *c);
static void client_set_reading(struct client *c, bool on);
static void client_arm_idle(struct client *c);
static void client_maybe_finish(struct client *c);
static void client_read_cb(evutil_socket_t fd, short what, void *arg);
static void client_write_cb(evutil_socket_t fd, short what, void *arg);
static void client_idle_cb(evutil_socket_t fd, short what, void *arg);
static void client_resume_cb(evutil_socket_t fd, short what, void *arg);
static void client_process(struct client *c);
static int client_next_line(struct client *c, char **line, size_t *len, size_t *drain);
static void client_handle_line(struct client *c, const char *line, size_t len);
static bool peer_hung_up(int fd);
static bool line_is_blank(const char *line, size_t len);

void client_new(struct control *ctl, int fd, const struct ucred *cred, bool admin)
{
	struct client *c = xcalloc(1, sizeof(*c));

	c->ctl = ctl;
	c->fd = fd;
	c->uid = cred->uid;
	c->gid = cred->gid;
	c->pid = cred->pid;
	c->admin = admin;
	c->refs = 1;
	c->connected = true;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(ctl->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
	c->ev_write = event_new(ctl->base, fd, EV_WRITE | EV_PERSIST, client_write_cb, c);
	c->ev_idle = evtimer_new(ctl->base, client_idle_cb, c);
	c->ev_resume = event_new(ctl->base, -1, 0, client_resume_cb, c);
	if (!c->in || !c->out || !c->ev_read || !c->ev_write || !c->ev_idle || !c->ev_resume) {
		log_err("control: out of memory setting up a client");
		abort();
	}
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->n_clients++;
	client_set_reading(c, true);
	client_arm_idle(c);
	log_debug("control: client pid %d uid %u connected%s", (int)c->pid, (unsigned)c->uid,
		  c->admin ? " (admin)" : "");
}

static void client_ref(struct client *c)
{
	c->refs++;
}

static void client_unref(struct client *c)
{
	if (--c->refs > 0)
		return;
	json_decref(c->sub_id);
	free(c->sub_cluster);
	free(c);
}

/* Tear the connection down now; the struct goes when its last reference does. */
void client_close(struct client *c, int prio, const char *why)
{
	struct control *ctl = c->ctl;

	if (!c->connected)
		return;
	log_ctx(prio, NULL, "control: closing client pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid, why);
	c->connected = false;
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->n_clients--;
	c->ctl = NULL;
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_idle);
	event_free(c->ev_resume);
	c->ev_read = c->ev_write = c->ev_idle = c->ev_resume = NULL;
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	c->in = c->out = NULL;
	close(c->fd);
	c->fd = -1;
	client_unref(c);
}

static void client_set_reading(struct client *c, bool on)
{
	if (!c->connected || c->reading == on)
		return;
	if (on)
		event_add(c->ev_read, NULL);
	else
		event_del(c->ev_read);
	c->reading = on;
}

static void client_arm_idle(struct client *c)
{
	int ms;
	struct timeval tv;

	if (!c->connected)
		return;
	ms = c->ctl->idle_timeout_ms;
	if (ms <= 0 || c->subscribed || c->holds > 0) {
		evtimer_del(c->ev_idle);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->ev_idle, &tv);
}

/* After a half-close or an oversize line: close once nothing is owed to the peer. */
static void client_maybe_finish(struct client *c)
{
	if (!c->connected || evbuffer_get_length(c->out) > 0 || c->holds > 0)
		return;
	if (c->closing)
		client_close(c, LOG_DEBUG, "error sent");
	else if (c->eof && !c->subscribed && evbuffer_get_length(c->in) == 0)
		client_close(c, LOG_DEBUG, "the peer finished sending");
}

/* A Unix stream socket whose peer closed completely reports POLLHUP; one that only shut down
 * its writing side does not (it may still read our replies). */
static bool peer_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	int n = evbuffer_read(c->in, fd, READ_CHUNK);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, LOG_DEBUG, strerror(errno));
		return;
	}
	if (n == 0) {
		if (peer_hung_up(fd)) {
			client_close(c, LOG_DEBUG, "the peer hung up");
			return;
		}
		c->eof = true;
		client_set_reading(c, false);
	}
	client_process(c);
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct evbuffer_iovec vec[WRITE_IOV];
	struct iovec iov[WRITE_IOV];
	struct msghdr mh;
	ssize_t n;
	int i, nv;

	nv = evbuffer_peek(c->out, -1, NULL, vec, WRITE_IOV);
	if (nv > WRITE_IOV)
		nv = WRITE_IOV;
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = vec[i].iov_base;
		iov[i].iov_len = vec[i].iov_len;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)nv;
	/* sendmsg with MSG_NOSIGNAL: a vanished peer is an EPIPE here, never a SIGPIPE. */
	n = nv > 0 ? sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, LOG_DEBUG, errno == EPIPE || errno == ECONNRESET ? "the peer hung up" :
			     strerror(errno));
		return;
	}
	evbuffer_drain(c->out, (size_t)n);
	if (evbuffer_get_length(c->out) == 0) {
		event_del(c->ev_write);
		client_maybe_finish(c);
	}
}

static void client_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	char why[64];

	if (c->subscribed || c->holds > 0)
		return;
	snprintf(why, sizeof(why), "no request for %d ms", c->ctl->idle_timeout_ms);
	client_close(c, LOG_DEBUG, why);
}

static void client_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	client_process(arg);
}

static bool line_is_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

/* 1 with the next line in *line (contiguous in c->in, terminator excluded from *len; the
 * caller drains *drain bytes after handling it), 0 when no complete line is buffered, -1 when
 * the line is over the cap. */
static int client_next_line(struct client *c, char **line, size_t *len, size_t *drain)
{
	struct evbuffer_ptr p;
	size_t n, avail = evbuffer_get_length(c->in);

	p = evbuffer_search_eol(c->in, NULL, NULL, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		/* A line can be PROTO_MAX_LINE bytes plus a '\r' before its '\n'. */
		if (avail > PROTO_MAX_LINE + 1)
			return -1;
		if (!c->eof || avail == 0)
			return 0;
		n = avail;          /* the peer half-closed after an unterminated last line */
		*drain = n;
	} else {
		n = (size_t)p.pos;
		*drain = n + 1;
	}
	*line = (char *)evbuffer_pullup(c->in, (ssize_t)*drain);
	*len = n;
	if (n > 0 && (*line)[n - 1] == '\r')
		(*len)--;
	if (*len > PROTO_MAX_LINE)
		return -1;
	return 1;
}

static void client_process(struct client *c)
{
	char *line;
	size_t len, drain;
	int r;

	client_ref(c);
	while (c->connected && c->holds == 0 && !c->closing) {
		r = client_next_line(c, &line, &len, &drain);
		if (r == 0)
			break;
		if (r < 0) {
			log_warn("control: client pid %d uid %u sent a request line longer than %d bytes; closing it",
				 (int)c->pid, (unsigned)c->uid, PROTO_MAX_LINE);
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			client_reply_err(c, NULL, ERR_INVALID, "request line longer than %d bytes", PROTO_MAX_LINE);
			c->closing = true;
			client_set_reading(c, false);
			break;
		}
		if (!line_is_blank(line, len))
			client_handle_line(c, line, len);
		if (c->connected)
			evbuffer_drain(c->in, drain);
	}
	if (c->connected) {
		client_set_reading(c, c->holds == 0 && !c->eof && !c->closing);
		client_maybe_finish(c);
	}
	client_unref(c);
}

static void client_handle_line(struct client *c, const char *line, size_t len)
{
	struct request req;
	enum err_code code;
	char msg[1024];

	/* The request owns its JSON from here on: `line` (inside c->in) is not used again. */
	c->cur_cmd = NULL;
	if (proto_parse_request(line, len, &req, &code, msg, sizeof(msg)) < 0) {
		client_reply_err(c, req.id, code, "%s", msg);
		request_free(&req);
		client_arm_idle(c);
		return;
	}
	c->cur_cmd = req.spec->name;
	if ((req.spec->flags & CMD_MUTATING) && !c->admin) {
		log_notice("control: DENIED '%s' to pid %d uid %u (not root or an admin user/group)",
			   req.spec->name, (int)c->pid, (unsigned)c->uid);
		client_reply_err(c, req.id, ERR_DENIED,
				 "'%s' changes the daemon's state: only root and the configured admin users/groups may use it (you are uid %u)",
				 req.spec->name, (unsigned)c->uid);
		request_free(&req);
		client_arm_idle(c);
		return;
	}
	log_debug("control: pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid, req.spec->name);
	c->ctl->fn(c->ctl->arg, c, &req);
	request_free(&req);
	client_arm_idle(c);
}

void client_send(struct client *c, json_t *msg)
{
	size_t len;
	char *line;

	if (msg == NULL)
		return;
	if (!c->connected) {
		json_decref(msg);
		return;
	}
	line = proto_dump_line(msg, &len);
	json_decref(msg);
	if (line == NULL) {
		log_err("control: cannot serialize a message for pid %d", (int)c->pid);
		return;
	}
	client_send_line(c, line, len);
}

static void free_line(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

void client_send_line(struct client *c, char *line, size_t len)
{
	if (!c->connected) {
		free(line);
		return;
	}
	if (len >= 65536) {
		/* a fleet's status: handed over, not copied (freed once written or dropped) */
		if (evbuffer_add_reference(c->out, line, len, free_line, NULL) < 0)
			free(line);
	} else {
		evbuffer_add(c->out, line, len);
		free(line);
	}
	if (evbuffer_get_length(c->out) > MAX_PENDING_OUTPUT) {
		log_warn("control: dropping client pid %d uid %u: more than %u bytes of output pending (it does not read)",
			 (int)c->pid, (unsigned)c->uid, MAX_PENDING_OUTPUT);
		client_close(c, LOG_DEBUG, "output queue full");
		return;
	}
	if (output_over_budget(c->ctl, c))
		return;   /* c itself was the one furthest behind, and is gone */
	if (!event_pending(c->ev_write, EV_WRITE, NULL))
		event_add(c->ev_write, NULL);
}

void client_reply_ok(struct client *c, json_t *id, json_t *result)
{
	stats_api(c->cur_cmd, "ok");
	client_send(c, proto_reply_ok(id, result));
}

void client_reply_err(struct client *c, json_t *id, enum err_code code, const char *fmt, ...)
{
	char *text;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	stats_api(c->cur_cmd, err_code_name(code));
	client_send(c, proto_reply_err(id, code, "%s", text ? text : "out of memory"));
	free(text);
}

void client_finish_err(struct client **cl, json_t *id, enum err_code code, const char *fmt, ...)
{
	char *text;
	va_list ap;

	if (!*cl)
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!client_gone(*cl))
		client_reply_err(*cl, id, code, "%s", text ? text : "out of memory");
	free(text);
	client_release(*cl);
	*cl = NULL;
}

void client_hold(struct client *c)
{
	c->holds++;
	client_ref(c);
	if (c->connected) {
		client_set_reading(c, false);
		evtimer_del(c->ev_idle);
	}
}

void client_release(struct client *c)
{
	if (c->holds <= 0) {
		log_err("control: client_release without a hold (pid %d)", (int)c->pid);
		return;
	}
	c->holds--;
	/* Lines that waited behind the long command run from the loop, not inside the caller. */
	if (c->holds == 0 && c->connected) {
		event_active(c->ev_resume, 0, 0);
		client_arm_idle(c);
	}
	client_unref(c);
}

bool client_gone(const struct client *c)
{
	return !c->connected;
}

void client_subscribe(struct client *c, json_t *id, const char *cluster)
{
	json_decref(c->sub_id);
	free(c->sub_cluster);
	c->sub_id = id ? json_deep_copy(id) : json_null();
	c->sub_cluster = cluster ? xstrdup(cluster) : NULL;
	c->subscribed = true;
	if (c->connected)
		evtimer_del(c->ev_idle);
}

void control_broadcast(struct control *ctl, json_t *event)
{
	struct client *c, **v = NULL;
	const char *cluster = json_string_value(json_object_get(event, "cluster"));
	size_t n = 0, i;

	/* Sending may drop any client (the output budget), not only the one sent to: the
	 * subscribers are held first, and each is sent to only while still connected. */
	TAILQ_FOREACH(c, &ctl->clients, entry) {
		if (!c->subscribed || (cluster && c->sub_cluster && strcmp(cluster, c->sub_cluster)))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		client_ref(c);
		v[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->connected)
			client_send(v[i], proto_stream_line(v[i]->sub_id, "event", json_deep_copy(event)));
		client_unref(v[i]);
	}
	free(v);
}

uid_t client_uid(const struct client *c)
{
	return c->uid;
}

pid_t client_pid(const struct client *c)
{
	return c->pid;
}

bool client_is_admin(const struct client *c)
{
	return c->admin;
}
