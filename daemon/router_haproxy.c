/* The HAProxy driver: the runtime API over a Unix or TCP stats socket (level admin).
 *
 * One short-lived connection per command line, in HAProxy's non-interactive mode: connect,
 * write "cmd1;cmd2\n", read until HAProxy closes, all on the loop with one deadline
 * (cfg->timeout_ms).  The poll too, on purpose: a connection kept open (interactive mode)
 * stays with the process it reached, and after an HAProxy reload that is the old process,
 * which lives on for it and answers with its own, stale states (check_haproxy
 * test_live_reload_seen).  What the bytes mean is haproxy_parse.c's business; the
 * switchover's steps are in router_haproxy_switch.c. */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>

#include "haproxy_parse.h"
#include "router.h"
#include "router_haproxy_impl.h"
#include "util.h"

#define HX_MAX_REPLY (8u << 20)   /* a `show stat` of thousands of servers is well below */

static int hx_open(struct router *r, char *err, size_t errlen);
static void hx_close(struct router *r);
static void hx_poll(struct router *r, router_cb cb, void *arg);

static int hx_sockaddr(const char *address, struct sockaddr_storage *ss, socklen_t *len,
		       char *err, size_t errlen);
static void hx_timer_cb(evutil_socket_t fd, short what, void *arg);
static void hx_connect(struct router *r);
static void hx_io_cb(evutil_socket_t fd, short what, void *arg);
static void hx_write(struct router *r);
static void hx_read(struct router *r);
static void hx_io_end(struct router *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hx_io_reset(struct hx_priv *p);
static void hx_poll_reply(struct router *r, const char *reply, const char *ioerr);

const struct router_ops router_haproxy_ops = {
	.type = "haproxy",
	.open = hx_open,
	.close = hx_close,
	.poll = hx_poll,
	.drain = hx_drain,
	.promote = hx_promote,
	.rollback = hx_rollback,
	.finalize = hx_finalize,
};

/* address = /abs/path | unix:PATH | IP:PORT ([v6]:PORT).  Host names are refused: resolving
 * them would block the loop. */
static int hx_sockaddr(const char *address, struct sockaddr_storage *ss, socklen_t *len,
		       char *err, size_t errlen)
{
	const char *path = NULL;
	int slen = (int)sizeof(*ss);

	memset(ss, 0, sizeof(*ss));
	if (!address || !*address) {
		snprintf(err, errlen, "no address (expected a socket path, unix:PATH or IP:PORT)");
		return -1;
	}
	if (address[0] == '/')
		path = address;
	else if (!strncmp(address, "unix:", 5))
		path = address + 5;
	if (path) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		if (path[0] == '\0' || strlen(path) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "address '%s': the socket path must be 1 to %zu characters",
				 address, sizeof(sun->sun_path) - 1);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strlcpy_(sun->sun_path, path, sizeof(sun->sun_path));
		*len = (socklen_t)sizeof(*sun);
		return 0;
	}
	if (!strncmp(address, "localhost:", 10)) {
		char buf[32];

		snprintf(buf, sizeof(buf), "127.0.0.1:%.20s", address + 10);
		if (evutil_parse_sockaddr_port(buf, (struct sockaddr *)ss, &slen) == 0)
			goto tcp;
	} else if (evutil_parse_sockaddr_port(address, (struct sockaddr *)ss, &slen) == 0) {
		goto tcp;
	}
	snprintf(err, errlen, "address '%s': expected an absolute socket path, unix:PATH or IP:PORT "
		 "(host names are not resolved)", address);
	return -1;
tcp:
	if (((struct sockaddr_in *)ss)->sin_port == 0) {
		snprintf(err, errlen, "address '%s': missing port", address);
		return -1;
	}
	*len = (socklen_t)slen;
	return 0;
}

static int hx_open(struct router *r, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct hx_priv *p;
	char why[256];

	if (hx_sockaddr(r->cfg->address, &ss, &len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "haproxy router '%s': %s", r->cfg->name, why);
		return -1;
	}
	if (!hx_valid_name(r->cfg->backend) ||
	    (r->cfg->read_backend && !hx_valid_name(r->cfg->read_backend))) {
		snprintf(err, errlen, "haproxy router '%s': backend name '%s' is not one HAProxy accepts "
			 "(letters, digits, '.', ':', '_', '-')", r->cfg->name,
			 !hx_valid_name(r->cfg->backend) ? (r->cfg->backend ? r->cfg->backend : "")
							  : r->cfg->read_backend);
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->fd = -1;
	p->timer = evtimer_new(r->base, hx_timer_cb, r);
	r->priv = p;
	return 0;
}

static void hx_close(struct router *r)
{
	struct hx_priv *p = r->priv;

	if (!p)
		return;
	hx_io_reset(p);
	free(p->line);
	event_free(p->timer);
	free(p);
	r->priv = NULL;
}

/* Start an operation, or refuse it (reported from the loop) while another one runs. */
bool hx_begin(struct router *r, enum router_step step, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;

	if (!r->busy) {
		r->busy = true;
		p->cb = cb;
		p->arg = arg;
		p->step = step;
		return true;
	}
	router_refuse_later(r, cb, arg, "haproxy router '%s': cannot %s, a %s is still running", r->cfg->name,
			    router_step_name(step), router_step_name(p->step));
	return false;
}

/* End the operation: the driver is idle again before the callback runs, so the callback may
 * start the next one. */
void hx_done(struct router *r, int err, const char *fmt, ...)
{
	struct hx_priv *p = r->priv;
	router_cb cb = p->cb;
	void *arg = p->arg;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->cb = NULL;
	p->arg = NULL;
	r->busy = false;
	cb(r, err, msg, arg);
}

/* End the operation from the loop: for outcomes known inside the call itself. */
void hx_defer_done(struct router *r, int err, const char *fmt, ...)
{
	struct hx_priv *p = r->priv;
	static const struct timeval now = { 0, 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->kick_msg, sizeof(p->kick_msg), fmt, ap);
	va_end(ap);
	p->kick_err = err;
	p->stage = HX_KICK_DONE;
	evtimer_add(p->timer, &now);
}

/* Send one line from the loop (never from inside an operation call). */
void hx_send(struct router *r, const char *line, hx_next_fn next)
{
	struct hx_priv *p = r->priv;
	static const struct timeval now = { 0, 0 };

	hx_io_reset(p);
	free(p->line);
	p->line = xstrdup(line);
	p->out = xasprintf("%s\n", line);
	p->outlen = strlen(p->out);
	p->next = next;
	p->stage = HX_KICK_SEND;
	evtimer_add(p->timer, &now);
}

static void hx_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router *r = arg;
	struct hx_priv *p = r->priv;

	switch (p->stage) {
	case HX_KICK_SEND:
		hx_connect(r);
		break;
	case HX_KICK_DONE:
		p->stage = HX_IDLE;
		hx_done(r, p->kick_err, "%s", p->kick_msg);
		break;
	case HX_IDLE:
		break;
	default:
		hx_io_end(r, "no complete answer to '%s' within %d ms", p->line, r->cfg->timeout_ms);
		break;
	}
}

static void hx_connect(struct router *r)
{
	struct hx_priv *p = r->priv;
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv;
	char why[256];

	if (hx_sockaddr(r->cfg->address, &ss, &len, why, sizeof(why)) < 0) {
		hx_io_end(r, "%s", why);
		return;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		hx_io_end(r, "socket: %s", strerror(errno));
		return;
	}
	tv.tv_sec = r->cfg->timeout_ms / 1000;
	tv.tv_usec = (r->cfg->timeout_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	p->ev_w = event_new(r->base, p->fd, EV_WRITE | EV_PERSIST, hx_io_cb, r);
	p->ev_r = event_new(r->base, p->fd, EV_READ | EV_PERSIST, hx_io_cb, r);
	if (connect(p->fd, (struct sockaddr *)&ss, len) == 0) {
		p->stage = HX_WRITING;
	} else if (errno == EINPROGRESS) {
		p->stage = HX_CONNECTING;
	} else {
		hx_io_end(r, "connect: %s", strerror(errno));
		return;
	}
	event_add(p->ev_w, NULL);
}

static void hx_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router *r = arg;
	struct hx_priv *p = r->priv;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	switch (p->stage) {
	case HX_CONNECTING:
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr) {
			hx_io_end(r, "connect: %s", strerror(soerr));
			return;
		}
		p->stage = HX_WRITING;
		/* FALLTHROUGH */
	case HX_WRITING:
		hx_write(r);
		break;
	case HX_READING:
		hx_read(r);
		break;
	default:
		break;
	}
}

static void hx_write(struct router *r)
{
	struct hx_priv *p = r->priv;
	ssize_t n = send(p->fd, p->out + p->outoff, p->outlen - p->outoff, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			hx_io_end(r, "write: %s", strerror(errno));
		return;
	}
	p->outoff += (size_t)n;
	if (p->outoff < p->outlen)
		return;
	event_del(p->ev_w);
	p->stage = HX_READING;
	event_add(p->ev_r, NULL);
}

/* Read until HAProxy closes: in non-interactive mode that is the end of the answer. */
static void hx_read(struct router *r)
{
	struct hx_priv *p = r->priv;
	char *reply;
	hx_next_fn next;

	for (;;) {
		ssize_t n;

		if (p->incap - p->inlen < 4096) {
			p->incap = p->incap ? p->incap * 2 : 16384;
			p->in = xrealloc(p->in, p->incap);
		}
		n = read(p->fd, p->in + p->inlen, p->incap - p->inlen - 1);
		if (n > 0) {
			p->inlen += (size_t)n;
			if (p->inlen > HX_MAX_REPLY) {
				hx_io_end(r, "answer to '%s' larger than %u bytes", p->line, HX_MAX_REPLY);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			hx_io_end(r, "read: %s", strerror(errno));
			return;
		}
		break;
	}
	p->in[p->inlen] = '\0';
	reply = p->in;
	p->in = NULL;
	next = p->next;
	hx_io_reset(p);
	next(r, reply, NULL);
	free(reply);
}

/* The line failed: tell its continuation, with the router and address named. */
static void hx_io_end(struct router *r, const char *fmt, ...)
{
	struct hx_priv *p = r->priv;
	hx_next_fn next = p->next;
	char why[512], msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "haproxy router '%s' (%s): %s", r->cfg->name,
		 r->cfg->address ? r->cfg->address : "", why);
	hx_io_reset(p);
	next(r, NULL, msg);
}

static void hx_io_reset(struct hx_priv *p)
{
	if (p->ev_w)
		event_free(p->ev_w);
	if (p->ev_r)
		event_free(p->ev_r);
	p->ev_w = p->ev_r = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->timer)
		evtimer_del(p->timer);
	free(p->out);
	free(p->in);
	p->out = p->in = NULL;
	p->outlen = p->outoff = p->inlen = p->incap = 0;
	p->next = NULL;
	p->stage = HX_IDLE;
}

/* Parse answer `part` of a reply (a `show stat`) into r->view.  0, or -1 with view.error set. */
int hx_take_view(struct router *r, const char *reply, size_t part)
{
	struct router_view *v = &r->view;
	size_t len;
	const char *a = hx_reply_part(reply, part, &len);
	char *csv = NULL;
	int rc;

	v->reachable = true;
	v->auto_failover_hostgroups = false;
	if (a) {
		csv = xmalloc(len + 1);
		memcpy(csv, a, len);
		csv[len] = '\0';
	}
	rc = hx_parse_stat(csv ? csv : reply, r->cfg, v, v->error, sizeof(v->error));
	free(csv);
	if (rc == 0)
		v->polled_ms = now_mono_ms();
	return rc;
}

static void hx_poll(struct router *r, router_cb cb, void *arg)
{
	if (hx_begin(r, RSTEP_STATUS, cb, arg))
		hx_send(r, "show stat", hx_poll_reply);
}

static void hx_poll_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct router_view *v = &r->view;

	if (!reply) {
		v->reachable = false;
		v->n = 0;
		strlcpy_(v->error, ioerr, sizeof(v->error));
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': %s", r->cfg->name, v->error);
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %zu servers", r->cfg->name, v->n);
}
