/* The metrics endpoint (see metrics.h): the HTTP listener and its requests.  The body is
 * written by metrics_render.c.
 *
 * The listener binds a numeric address itself (config_keys.c refused host names: no DNS on the
 * loop) and backs off accept() for a second when descriptors run out. */
#include "metrics.h"
#include "daemon.h"
#include "log.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_TIMEOUT_S     10      /* a client that sends nothing for this long is closed */
#define HTTP_MAX_HEADERS   8192
#define HTTP_MAX_BODY      1024    /* GET has none */
#define LISTEN_BACKLOG     32
#define ACCEPT_BACKOFF_MS  1000
#define ALL_METHODS (EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | \
		     EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | \
		     EVHTTP_REQ_PATCH)

static void on_request(struct evhttp_request *req, void *arg);
static void on_accept_error(struct evconnlistener *lev, void *arg);
static void on_backoff(evutil_socket_t fd, short what, void *arg);
static int listener_open(struct event_base *base, const char *address);
static void listener_close(void);

static struct {
	struct daemon *d;
	struct evhttp *http;          /* NULL when not listening */
	struct evconnlistener *lev;   /* borrowed from http */
	struct event *backoff;
	struct event *guard;          /* the descriptor guard's timer */
	bool guarded;                 /* the guard paused accepting */
	char *address;                /* owned: what it listens on */
} m;

/* The pollers, routers and the control socket must never run out of descriptors because of
 * /metrics clients (it has no authentication and evhttp no connection cap): while the daemon's
 * open descriptors come within a reserve (a quarter of the limit, at most 256) of it, no new
 * metrics connection is accepted — checked at every accept, which stops the accept loop at
 * once, and every METRICS_GUARD_MS to start again; idle ones are closed by the HTTP timeout. */
#define METRICS_FD_RESERVE 256
#define METRICS_GUARD_MS 100

static long open_descriptors(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Stop or start accepting as the descriptors left say. */
static void guard_check(void)
{
	struct rlimit rl;
	long open = open_descriptors();
	rlim_t reserve = 0;
	bool tight = false;

	if (open >= 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		reserve = rl.rlim_cur / 4 < METRICS_FD_RESERVE ? rl.rlim_cur / 4 : METRICS_FD_RESERVE;
		tight = (rlim_t)open + reserve >= rl.rlim_cur;
	}
	if (m.lev && tight && !m.guarded) {
		log_warn("metrics: %ld descriptors open of %llu: not accepting metrics connections until some are "
			 "closed (a reserve of %llu is kept for the pollers)", open, (unsigned long long)rl.rlim_cur,
			 (unsigned long long)reserve);
		evconnlistener_disable(m.lev);
		m.guarded = true;
	} else if (m.lev && !tight && m.guarded) {
		log_notice("metrics: %ld descriptors open: accepting metrics connections again", open);
		evconnlistener_enable(m.lev);
		m.guarded = false;
	}
}

/* While accepting is stopped, look again every METRICS_GUARD_MS; otherwise each accept looks
 * (counting /proc/self/fd ten times a second for nothing cost a fleet's daemon real CPU). */
static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, METRICS_GUARD_MS * 1000 };
	guard_check();
	if (m.guarded)
		evtimer_add(m.guard, &tv);
}

/* evhttp asks for each connection it accepts: the place to see how many are open. */
static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
	on_guard(-1, 0, NULL);
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

/* ------------------------------------------------------------------------------------------ */
/* the listener */

int metrics_start(struct daemon *d)
{
	m.d = d;
	if (!d->cfg->metrics_address)
		return 0;
	return listener_open(d->base, d->cfg->metrics_address);
}

void metrics_reload(struct daemon *d)
{
	const char *want = d->cfg->metrics_address;
	char *old;

	m.d = d;
	if ((!want && !m.address) || (want && m.address && !strcmp(want, m.address)))
		return;
	old = m.address ? xstrdup(m.address) : NULL;
	/* Close first: the new address may be the same port on another interface. */
	listener_close();
	if (!want)
		log_notice("metrics: no longer listening on %s (metrics_address removed)", old);
	else if (listener_open(d->base, want) < 0 && old && listener_open(d->base, old) == 0)
		log_warn("metrics: still listening on %s", old);
	free(old);
}

void metrics_stop(void)
{
	listener_close();
	m.d = NULL;
}

static int bind_address(const char *address, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof(ss), fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(err, errlen, "not ADDRESS:PORT");
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int listener_open(struct event_base *base, const char *address)
{
	struct evhttp_bound_socket *bound;
	char err[256];
	int fd;

	if ((fd = bind_address(address, err, sizeof(err))) < 0) {
		log_err("metrics: cannot listen on %s: %s (metrics_address; the daemon runs on "
			"without /metrics)", address, err);
		return -1;
	}
	m.http = evhttp_new(base);
	evhttp_set_timeout(m.http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(m.http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(m.http, HTTP_MAX_BODY);
	/* Every method reaches on_request, which answers 405 itself (evhttp would say 501). */
	evhttp_set_allowed_methods(m.http, ALL_METHODS);
	evhttp_set_gencb(m.http, on_request, NULL);
	evhttp_set_bevcb(m.http, new_connection, NULL);
	if (!(bound = evhttp_accept_socket_with_handle(m.http, fd))) {
		log_err("metrics: cannot listen on %s: evhttp refused the socket", address);
		evhttp_free(m.http);
		m.http = NULL;
		close(fd);
		return -1;
	}
	m.lev = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(m.lev, on_accept_error);
	m.backoff = evtimer_new(base, on_backoff, NULL);
	m.guard = evtimer_new(base, on_guard, NULL);
	m.guarded = false;
	on_guard(-1, 0, NULL);
	m.address = xstrdup(address);
	log_notice("metrics: listening on http://%s/metrics", address);
	return 0;
}

static void listener_close(void)
{
	if (m.backoff)
		event_free(m.backoff);
	if (m.guard)
		event_free(m.guard);
	m.guard = NULL;
	if (m.http)
		evhttp_free(m.http);   /* closes the socket and open connections */
	free(m.address);
	m.backoff = NULL;
	m.http = NULL;
	m.lev = NULL;
	m.address = NULL;
}

/* Out of descriptors: accept() would fail again at once, in a busy loop. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { ACCEPT_BACKOFF_MS / 1000, (ACCEPT_BACKOFF_MS % 1000) * 1000 };

	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_debug("metrics: accept: %s", strerror(err));
		return;
	}
	log_warn("metrics: accept: %s; not accepting for %d ms", strerror(err), ACCEPT_BACKOFF_MS);
	evconnlistener_disable(lev);
	evtimer_add(m.backoff, &tv);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
	if (m.lev && !m.guarded)
		evconnlistener_enable(m.lev);
}

/* ------------------------------------------------------------------------------------------ */
/* requests */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
		  struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (code == HTTP_BADMETHOD)
		evhttp_add_header(h, "Allow", "GET, HEAD");
	evhttp_send_reply(req, code, reason, body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, text, strlen(text));
	reply(req, code, reason, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool metrics, healthz;
	struct evbuffer *b;

	path = path && *path ? path : "/";
	metrics = !strcmp(path, "/metrics");
	healthz = !strcmp(path, "/healthz");
	if ((!metrics && !healthz) || !m.d) {
		reply_text(req, HTTP_NOTFOUND, "Not Found", "not found: try /metrics or /healthz\n");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		reply_text(req, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed: use GET\n");
		return;
	}
	if (healthz) {
		if (m.d->ready_sent)
			reply_text(req, HTTP_OK, "OK", "ok\n");
		else
			reply_text(req, 503, "Service Unavailable", "starting: the first poll round is not complete\n");
		return;
	}
	b = evbuffer_new();
	metrics_render(m.d, b);
	reply(req, HTTP_OK, "OK", METRICS_CONTENT_TYPE, b);
	evbuffer_free(b);
}
