/* The HAProxy driver: the runtime API over a Unix or TCP stats socket (level admin).
 *
 * One short-lived connection per command line, in HAProxy's non-interactive mode: connect,
 * write "cmd1;cmd2\n", read until HAProxy closes, all on the loop with one deadline
 * (cfg->timeout_ms).  What the bytes mean is haproxy_parse.c's business.
 *
 * A switchover moves the write backend's traffic: drain marks the old primary DRAIN, promote
 * sets the new one ready and the old one MAINT and shuts its sessions, in one line so there is
 * no moment with two writers or none; rollback puts both back to the admin states they had
 * before drain (read with "show stat" in the same line as the drain).  Weights are never
 * changed, so never restored: the weight column is the effective weight, which a slowstart
 * would have made wrong to write back. */
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
#include "util.h"

#define HX_MAX_REPLY (8u << 20)   /* a `show stat` of thousands of servers is well below */

enum hx_stage { HX_IDLE, HX_KICK_SEND, HX_KICK_DONE, HX_CONNECTING, HX_WRITING, HX_READING };

/* What to do with the reply of one line: reply is NULL when the line failed, with ioerr. */
typedef void (*hx_next_fn)(struct router *r, const char *reply, const char *ioerr);

struct hx_priv {
	/* The line on the wire. */
	enum hx_stage stage;
	int fd;
	struct event *timer;        /* zero-timeout kick, then the deadline */
	struct event *ev_w, *ev_r;
	char *line;                 /* owned: the last command line sent, for messages */
	char *out;                  /* owned: line + "\n" */
	size_t outlen, outoff;
	char *in;                   /* owned: the reply so far */
	size_t inlen, incap;
	hx_next_fn next;

	/* The operation. */
	router_cb cb;
	void *arg;
	enum router_step step;
	char old_name[128], new_name[128];
	char id[64];                /* the switchover's id, "" if none */
	bool line_has_snapshot;     /* the line began with "show stat" */
	int kick_err;
	char kick_msg[512];

	/* The admin states drain/promote started from, for rollback ("" = leave alone). */
	bool remembered;
	char mem_id[64];
	char mem_old[128], mem_new[128];
	char mem_old_word[8], mem_new_word[8];
	char undrain_was[32];       /* rollback without memory: the old primary's status */

};

static int hx_open(struct router *r, char *err, size_t errlen);
static void hx_close(struct router *r);
static void hx_poll(struct router *r, router_cb cb, void *arg);
static void hx_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void hx_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void hx_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void hx_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

static int hx_sockaddr(const char *address, struct sockaddr_storage *ss, socklen_t *len,
		       char *err, size_t errlen);
static bool hx_begin(struct router *r, enum router_step step, router_cb cb, void *arg);
static void hx_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void hx_defer_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void hx_send(struct router *r, const char *line, hx_next_fn next);
static void hx_timer_cb(evutil_socket_t fd, short what, void *arg);
static void hx_connect(struct router *r);
static void hx_io_cb(evutil_socket_t fd, short what, void *arg);
static void hx_write(struct router *r);
static void hx_read(struct router *r);
static void hx_io_end(struct router *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hx_io_reset(struct hx_priv *p);
static int hx_take_view(struct router *r, const char *reply, size_t part);
static int hx_names(struct router *r, const struct router_switch *sw);
static void hx_remember(struct router *r, bool parsed);
static bool hx_remembered_pair(const struct hx_priv *p);
static const struct router_backend *hx_find(const struct router_view *v, const char *backend,
					    const char *name);
static void hx_poll_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_drain_reply(struct router *r, const char *reply, const char *ioerr);
static int hx_promote_precheck(struct router *r);
static void hx_promote_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_promote_verify(struct router *r, const char *reply, const char *ioerr);
static void hx_rollback_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_undrain_look(struct router *r, const char *reply, const char *ioerr);
static void hx_undrain_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_rollback_verify(struct router *r, const char *reply, const char *ioerr);

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
static bool hx_begin(struct router *r, enum router_step step, router_cb cb, void *arg)
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
static void hx_done(struct router *r, int err, const char *fmt, ...)
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
static void hx_defer_done(struct router *r, int err, const char *fmt, ...)
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
static void hx_send(struct router *r, const char *line, hx_next_fn next)
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
static int hx_take_view(struct router *r, const char *reply, size_t part)
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

static const struct router_backend *hx_find(const struct router_view *v, const char *backend,
					    const char *name)
{
	size_t i, blen = strlen(backend);

	for (i = 0; i < v->n; i++) {
		const char *full = v->be[i].name;

		if (v->be[i].writer && !strncmp(full, backend, blen) && full[blen] == '/' &&
		    !strcmp(full + blen + 1, name))
			return &v->be[i];
	}
	return NULL;
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

/* HAProxy's names for the switch's servers, into p->old_name / p->new_name. */
static int hx_names(struct router *r, const struct router_switch *sw)
{
	struct hx_priv *p = r->priv;
	const struct cfg_server *s[2] = { sw->old_primary, sw->new_primary };
	char *dst[2] = { p->old_name, p->new_name };
	int i;

	for (i = 0; i < 2; i++) {
		const char *name = s[i] ? hx_name_of(r->cfg, s[i]->name) : NULL;

		if (!s[i]) {
			hx_defer_done(r, 1, "haproxy router '%s': no %s primary given", r->cfg->name,
				      i ? "new" : "old");
			return -1;
		}
		if (!name) {
			hx_defer_done(r, 1, "haproxy router '%s': server '%s' has no HAProxy name "
				      "(not in cluster '%s' or the server_map)", r->cfg->name,
				      s[i]->name, r->cfg->cluster);
			return -1;
		}
		if (!hx_valid_name(name)) {
			hx_defer_done(r, 1, "haproxy router '%s': HAProxy name '%s' of server '%s' has "
				      "characters HAProxy does not accept", r->cfg->name, name, s[i]->name);
			return -1;
		}
		strlcpy_(dst[i], name, sizeof(p->old_name));
	}
	strlcpy_(p->id, sw->id ? sw->id : "", sizeof(p->id));
	return 0;
}

/* Remember the admin states the change starts from (from the view just parsed).  A server
 * missing from the backend is left alone; a failed parse leaves the old primary "ready" (it was
 * the writer) and the new one alone. */
static void hx_remember(struct router *r, bool parsed)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o = NULL, *n = NULL;
	const char *w;

	if (parsed) {
		o = hx_find(&r->view, r->cfg->backend, p->old_name);
		n = hx_find(&r->view, r->cfg->backend, p->new_name);
	}
	w = o ? hx_admin_word(o->state) : parsed ? NULL : "ready";
	strlcpy_(p->mem_old_word, w ? w : "", sizeof(p->mem_old_word));
	w = n ? hx_admin_word(n->state) : NULL;
	strlcpy_(p->mem_new_word, w ? w : "", sizeof(p->mem_new_word));
	strlcpy_(p->mem_old, p->old_name, sizeof(p->mem_old));
	strlcpy_(p->mem_new, p->new_name, sizeof(p->mem_new));
	strlcpy_(p->mem_id, p->id, sizeof(p->mem_id));
	p->remembered = true;
}

/* Whether the states to restore were taken by this switchover for this pair: a retried step
 * must not remember its own half-done change as the original. */
static bool hx_remembered_pair(const struct hx_priv *p)
{
	return p->remembered && p->id[0] && !strcmp(p->id, p->mem_id) &&
	       !strcmp(p->mem_old, p->old_name) && !strcmp(p->mem_new, p->new_name);
}

static void hx_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_DRAIN, cb, arg) || hx_names(r, sw) < 0)
		return;
	p->line_has_snapshot = !hx_remembered_pair(p);
	line = hx_cmd_drain(r->cfg->backend, p->old_name, p->line_has_snapshot);
	hx_send(r, line, hx_drain_reply);
	free(line);
}

static void hx_drain_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	size_t first = 0;
	bool parsed = true;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (p->line_has_snapshot) {
		parsed = hx_take_view(r, reply, 0) == 0;
		hx_remember(r, parsed);
		first = 1;
	}
	if (hx_reply_check(reply, first, 1, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': set server %s/%s state drain: %s", r->cfg->name,
			r->cfg->backend, p->old_name, why);
		return;
	}
	if (!parsed) {
		hx_done(r, 1, "haproxy router '%s': %s/%s drained, but the states to roll back to are "
			"unknown: %s", r->cfg->name, r->cfg->backend, p->old_name, r->view.error);
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s/%s drained (was %s)", r->cfg->name, r->cfg->backend,
		p->old_name, p->mem_old_word[0] ? p->mem_old_word : "unknown");
}

static void hx_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_PROMOTE, cb, arg) || hx_names(r, sw) < 0 || hx_promote_precheck(r) < 0)
		return;
	p->line_has_snapshot = !hx_remembered_pair(p);
	line = hx_cmd_promote(r->cfg->backend, p->new_name, p->old_name, p->line_has_snapshot);
	hx_send(r, line, hx_promote_reply);
	free(line);
}

/* HAProxy runs the promote line's commands one by one even after one fails: a new primary it
 * does not have would leave the old one in MAINT and the endpoint without a writer.  When the
 * last `show stat` lists the write backend, refuse before sending anything. */
static int hx_promote_precheck(struct router *r)
{
	struct hx_priv *p = r->priv;
	const char *missing = NULL, *who = NULL;

	if (!r->view.reachable || r->view.polled_ms == 0 || !router_writer(&r->view, NULL))
		return 0;
	if (!hx_find(&r->view, r->cfg->backend, p->new_name)) {
		missing = p->new_name;
		who = "new";
	} else if (!hx_find(&r->view, r->cfg->backend, p->old_name)) {
		missing = p->old_name;
		who = "old";
	}
	if (!missing)
		return 0;
	hx_defer_done(r, 1, "haproxy router '%s': %s primary %s/%s is not in backend %s (as of the "
		      "last 'show stat'); nothing changed", r->cfg->name, who, r->cfg->backend, missing,
		      r->cfg->backend);
	return -1;
}

static void hx_promote_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	size_t first = 0;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (p->line_has_snapshot) {
		hx_remember(r, hx_take_view(r, reply, 0) == 0);
		first = 1;
	}
	if (hx_reply_check(reply, first, 3, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': switching %s from %s to %s: %s", r->cfg->name,
			r->cfg->backend, p->old_name, p->new_name, why);
		return;
	}
	hx_send(r, "show stat", hx_promote_verify);
}

static void hx_promote_verify(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o, *n;

	if (!reply) {
		hx_done(r, 1, "%s (reading back the promote)", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading back the promote: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->old_name);
	n = hx_find(&r->view, r->cfg->backend, p->new_name);
	if (!n || !n->admin_up || !o || o->admin_up) {
		hx_done(r, 1, "haproxy router '%s': after promote %s/%s is %s and %s/%s is %s "
			"(wanted ready and MAINT)", r->cfg->name, r->cfg->backend, p->new_name,
			n ? n->state : "missing", r->cfg->backend, p->old_name, o ? o->state : "missing");
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s now sends writes to %s (%s), %s is %s", r->cfg->name,
		r->cfg->backend, p->new_name, n->state, p->old_name, o->state);
}

static void hx_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_ROLLBACK, cb, arg))
		return;
	if (!p->remembered) {
		/* Nothing ran here, or cutoverd restarted after a drain (recovery rolls back only
		 * switchovers interrupted before promote).  The old primary was the writer when the
		 * switch began: undo a drain on it, touch nothing else. */
		if (hx_names(r, sw) == 0)
			hx_send(r, "show stat", hx_undrain_look);
		return;
	}
	line = hx_cmd_rollback(r->cfg->backend, p->mem_old, p->mem_old_word[0] ? p->mem_old_word : NULL,
			       p->mem_new, p->mem_new_word[0] ? p->mem_new_word : NULL);
	if (!line || !*line) {
		free(line);
		p->remembered = false;
		hx_defer_done(r, 0, "haproxy router '%s': nothing to restore (states were unknown)",
			      r->cfg->name);
		return;
	}
	hx_send(r, line, hx_rollback_reply);
	free(line);
}

static void hx_rollback_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	char why[512];
	size_t n;

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	n = hx_cmd_count(p->line);
	if (hx_reply_check(reply, 0, n, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': rollback '%s': %s", r->cfg->name, p->line, why);
		return;
	}
	hx_send(r, "show stat", hx_rollback_verify);
}

static void hx_rollback_verify(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o, *n;
	bool ok_o, ok_n;

	if (!reply) {
		hx_done(r, 1, "%s (reading back the rollback)", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading back the rollback: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->mem_old);
	n = hx_find(&r->view, r->cfg->backend, p->mem_new);
	ok_o = !p->mem_old_word[0] || (o && hx_status_is(o->state, p->mem_old_word));
	ok_n = !p->mem_new_word[0] || (n && hx_status_is(n->state, p->mem_new_word));
	if (!ok_o || !ok_n) {
		hx_done(r, 1, "haproxy router '%s': after rollback %s/%s is %s (wanted %s) and %s/%s "
			"is %s (wanted %s)", r->cfg->name, r->cfg->backend, p->mem_old,
			o ? o->state : "missing", p->mem_old_word, r->cfg->backend, p->mem_new,
			n ? n->state : "missing", p->mem_new_word[0] ? p->mem_new_word : "unchanged");
		return;
	}
	p->remembered = false;
	hx_done(r, 0, "haproxy router '%s': %s back to %s, %s back to %s", r->cfg->name, p->mem_old,
		p->mem_old_word[0] ? p->mem_old_word : "unchanged", p->mem_new,
		p->mem_new_word[0] ? p->mem_new_word : "unchanged");
}

static void hx_undrain_look(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o;
	char *line;

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading states for rollback: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->old_name);
	/* A drained server that fails its checks shows DOWN, not DRAIN. */
	if (!o || (strncmp(o->state, "DRAIN", 5) != 0 && strncmp(o->state, "DOWN", 4) != 0)) {
		hx_done(r, 0, "haproxy router '%s': nothing to roll back (%s/%s is %s)", r->cfg->name,
			r->cfg->backend, p->old_name, o ? o->state : "not in the backend");
		return;
	}
	strlcpy_(p->undrain_was, o->state, sizeof(p->undrain_was));
	line = hx_cmd_rollback(r->cfg->backend, p->old_name, "ready", p->new_name, NULL);
	hx_send(r, line, hx_undrain_reply);
	free(line);
}

static void hx_undrain_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (hx_reply_check(reply, 0, 1, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': rollback '%s': %s", r->cfg->name, p->line, why);
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s/%s was %s, set ready (no states remembered from the "
		"drain)", r->cfg->name, r->cfg->backend, p->old_name, p->undrain_was);
}

/* Nothing to persist: the runtime API is the state.  (A reload of HAProxy restores its
 * configuration file's states unless the operator uses server-state-file.) */
static void hx_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;

	if (!hx_begin(r, RSTEP_FINALIZE, cb, arg))
		return;
	p->remembered = false;
	hx_defer_done(r, 0, "haproxy router '%s': nothing to finalize", r->cfg->name);
}
