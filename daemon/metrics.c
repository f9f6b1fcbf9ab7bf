/* The metrics endpoint (see metrics.h).
 *
 * The body is written straight into the reply's evbuffer from the live state, one metric
 * family at a time (the format wants a family's samples together, after its HELP and TYPE),
 * with label sets on the stack: a scrape allocates nothing per server.  A value that is not
 * known — a tristate not reported, a lag not measured, anything read by a poll that failed
 * since — is left out rather than shown as 0, so that an alert on it does not fire on a guess.
 *
 * The listener binds a numeric address itself (config_keys.c refused host names: no DNS on the
 * loop) and backs off accept() for a second when descriptors run out. */
#include "metrics.h"
#include "daemon.h"
#include "event_hooks.h"
#include "afterwatch.h"
#include "datacheck.h"
#include "held.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
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

/* One gauge per server: the value, or false when it is not known. */
struct server_metric {
	const char *name;
	const char *help;
	bool (*get)(const struct cluster *c, size_t i, double *v);
};

static void on_request(struct evhttp_request *req, void *arg);
static void on_accept_error(struct evconnlistener *lev, void *arg);
static void on_backoff(evutil_socket_t fd, short what, void *arg);
static int listener_open(struct event_base *base, const char *address);
static void listener_close(void);
static void family(struct evbuffer *b, const char *name, const char *type, const char *help);
static void sample(struct evbuffer *b, const char *name, const char *const *kv, double v);
static void sample_count(struct evbuffer *b, const char *name, const char *const *kv, unsigned long long v);
static void render_servers(struct evbuffer *b, struct daemon *d);
static void render_clusters(struct evbuffer *b, struct daemon *d);
static void render_histograms(struct evbuffer *b, struct daemon *d);
static void render_routers(struct evbuffer *b, struct daemon *d);
static void render_daemon(struct evbuffer *b, struct daemon *d);
static void metrics_alarms(struct evbuffer *b, struct daemon *d);

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

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, METRICS_GUARD_MS * 1000 };
	guard_check();
	evtimer_add(m.guard, &tv);
}

/* evhttp asks for each connection it accepts: the place to see how many are open. */
static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
	guard_check();
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

/* ------------------------------------------------------------------------------------------ */
/* the exposition format */

static void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values may hold anything; the format escapes backslash, quote and newline. */
static void put_escaped(struct evbuffer *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (!rep)
			continue;
		evbuffer_add(b, run, (size_t)(s - run));
		evbuffer_add(b, rep, 2);
		run = s + 1;
	}
	evbuffer_add(b, run, (size_t)(s - run));
}

/* name{k="v",...}: kv holds key, value, key, value, ..., NULL. */
static void put_series(struct evbuffer *b, const char *name, const char *const *kv)
{
	size_t i;

	evbuffer_add(b, name, strlen(name));
	for (i = 0; kv && kv[i]; i += 2) {
		evbuffer_add_printf(b, "%s%s=\"", i ? "," : "{", kv[i]);
		put_escaped(b, kv[i + 1] ? kv[i + 1] : "");
		evbuffer_add(b, "\"", 1);
	}
	if (kv && kv[0])
		evbuffer_add(b, "}", 1);
}

static void sample(struct evbuffer *b, const char *name, const char *const *kv, double v)
{
	put_series(b, name, kv);
	if (isnan(v))
		evbuffer_add(b, " NaN\n", 5);
	else if (isinf(v))
		evbuffer_add_printf(b, " %sInf\n", v > 0 ? "+" : "-");
	else
		evbuffer_add_printf(b, " %.15g\n", v);
}

/* Counters exactly, past 2^53 too. */
static void sample_count(struct evbuffer *b, const char *name, const char *const *kv, unsigned long long v)
{
	put_series(b, name, kv);
	evbuffer_add_printf(b, " %llu\n", v);
}

void metrics_render(struct daemon *d, struct evbuffer *out)
{
	render_daemon(out, d);
	render_servers(out, d);
	render_clusters(out, d);
	render_histograms(out, d);
	metrics_alarms(out, d);
	render_routers(out, d);
}

/* ------------------------------------------------------------------------------------------ */
/* servers */

/* What the last poll read is current only if that poll succeeded. */
static const struct server_status *fresh(const struct cluster *c, size_t i)
{
	const struct server_status *st = &c->servers[i]->st;
	return st->reachable && st->last_ok_ms > 0 ? st : NULL;
}

static bool get_up(const struct cluster *c, size_t i, double *v)
{
	*v = c->servers[i]->health.state == HEALTH_UP;
	return true;
}

static bool get_reachable(const struct cluster *c, size_t i, double *v)
{
	*v = c->servers[i]->st.reachable;
	return true;
}

static bool get_tristate(tristate t, double *v)
{
	*v = t;
	return t >= 0;
}

static bool get_read_only(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && get_tristate(st->read_only, v);
}

static bool get_super_read_only(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && get_tristate(st->super_read_only, v);
}

static bool get_is_primary(const struct cluster *c, size_t i, double *v)
{
	*v = c->topo.primary == (int)i;
	return c->evaluated_once;
}

/* Held at the fence point of an upgrade (held.h): a stopped replica there is not a fault. */
static bool get_rollback_point(const struct cluster *c, size_t i, double *v)
{
	*v = held_find(c, c->servers[i]->cfg->name) != NULL;
	return c->evaluated_once;
}

static bool get_lag(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st || st->heartbeat_lag_ms < 0)
		return false;
	*v = (double)st->heartbeat_lag_ms / 1000.0;
	return true;
}

static bool get_seconds_behind(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st || !st->repl.configured || st->repl.seconds_behind < 0)
		return false;
	*v = (double)st->repl.seconds_behind;
	return true;
}

/* "Connecting" is not running: nothing arrives from the source. */
static bool get_thread(enum thread_state t, double *v)
{
	*v = t == THREAD_YES;
	return t != THREAD_UNKNOWN;
}

static bool get_io_running(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && st->repl.configured && get_thread(st->repl.io, v);
}

static bool get_sql_running(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	return st && st->repl.configured && get_thread(st->repl.sql, v);
}

static bool get_poll_duration(const struct cluster *c, size_t i, double *v)
{
	const struct server_status *st = fresh(c, i);
	if (!st)
		return false;
	*v = (double)st->poll_us / 1e6;
	return true;
}

static const struct server_metric server_metrics[] = {
	{ "cutoverd_server_up", "Whether the server is up (1) or down or not yet known (0), after hysteresis.",
	  get_up },
	{ "cutoverd_server_reachable", "Whether the last poll of the server succeeded.", get_reachable },
	{ "cutoverd_server_read_only", "The server's @@read_only (absent when unknown or unreachable).",
	  get_read_only },
	{ "cutoverd_server_super_read_only", "The server's @@super_read_only (MySQL only; absent when unknown).",
	  get_super_read_only },
	{ "cutoverd_server_is_primary", "Whether the server is the cluster's primary in cutoverd's view.",
	  get_is_primary },
	{ "cutoverd_server_rollback_point",
	  "Whether the server is held at the fence point of an upgrade switchover, as the rollback point.",
	  get_rollback_point },
	{ "cutoverd_server_replication_lag_seconds",
	  "Replication lag measured with cutoverd's heartbeat (absent when not measured).", get_lag },
	{ "cutoverd_server_seconds_behind_master",
	  "Seconds_Behind_Master as the replica reports it (absent when NULL).", get_seconds_behind },
	{ "cutoverd_server_replication_io_running",
	  "Whether the replication IO thread runs (Connecting counts as 0); replicas only.", get_io_running },
	{ "cutoverd_server_replication_sql_running", "Whether the replication SQL thread runs; replicas only.",
	  get_sql_running },
	{ "cutoverd_server_poll_duration_seconds", "How long the last successful poll of the server took.",
	  get_poll_duration },
};

static void render_servers(struct evbuffer *b, struct daemon *d)
{
	size_t f, i, k;
	double v;

	for (f = 0; f < ARRAY_LEN(server_metrics); f++) {
		const struct server_metric *sm = &server_metrics[f];
		family(b, sm->name, "gauge", sm->help);
		for (i = 0; i < d->n_clusters; i++) {
			const struct cluster *c = &d->clusters[i];
			for (k = 0; k < c->n_servers; k++) {
				const char *kv[] = { "cluster", c->cfg->name, "server", c->servers[k]->cfg->name, NULL };
				if (sm->get(c, k, &v))
					sample(b, sm->name, kv, v);
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* clusters */

static const char *const outcome_names[OUTCOME__COUNT] = { "done", "rolled_back", "failed", "refused" };
static const enum verdict verdicts[] = { VERDICT_OK, VERDICT_WARN, VERDICT_CRIT, VERDICT_UNKNOWN };

static void render_clusters(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;

	family(b, "cutoverd_cluster_verdict", "gauge",
	       "The cluster's verdict after hysteresis: 1 for the current one, 0 for the others.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < ARRAY_LEN(verdicts); k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "verdict", verdict_name(verdicts[k]), NULL };
			sample(b, "cutoverd_cluster_verdict", kv, d->clusters[i].vstate.shown == verdicts[k]);
		}

	family(b, "cutoverd_cluster_writable_servers", "gauge",
	       "Servers that are up and not read-only (1 is healthy, 0 no primary, more is split-brain).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].evaluated_once)
			sample(b, "cutoverd_cluster_writable_servers", kv, d->clusters[i].topo.n_writable);
	}

	family(b, "cutoverd_cluster_switchover_running", "gauge", "Whether a switchover is running (or paused).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		const struct switchover *sw = d->clusters[i].cutover;
		sample(b, "cutoverd_cluster_switchover_running", kv, sw && switchover_active(sw));
	}

	family(b, "cutoverd_cluster_primary_changes_total", "counter",
	       "Times the primary cutoverd sees changed to another server.");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		sample_count(b, "cutoverd_cluster_primary_changes_total", kv, d->clusters[i].stats.primary_changes);
	}

	family(b, "cutoverd_cluster_switchovers_total", "counter", "Switchovers ended, by outcome (dry runs and failovers excluded).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < OUTCOME__COUNT; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "outcome", outcome_names[k], NULL };
			sample_count(b, "cutoverd_cluster_switchovers_total", kv, d->clusters[i].stats.switchovers[k]);
		}

	family(b, "cutoverd_cluster_failovers_total", "counter",
	       "Failovers (the primary was lost) ended, by outcome, automatic or requested.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < OUTCOME__COUNT; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "outcome", outcome_names[k], NULL };
			sample_count(b, "cutoverd_cluster_failovers_total", kv, d->clusters[i].stats.failovers[k]);
		}

	family(b, "cutoverd_cluster_last_switchover_write_blocked_seconds", "gauge",
	       "How long writes were blocked in the last switchover that got to fence (fence to routed).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].stats.last_write_blocked_ms >= 0)
			sample(b, "cutoverd_cluster_last_switchover_write_blocked_seconds", kv,
			       d->clusters[i].stats.last_write_blocked_ms / 1000.0);
	}

	family(b, "cutoverd_cluster_last_switchover_phase_duration_seconds", "gauge",
	       "How long each phase of the last switchover took (phases it did not run are absent).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < SW_PHASES; k++) {
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "phase", switchover_phase_name((int)k), NULL };
			if (d->clusters[i].stats.last_phase_ms[k] >= 0)
				sample(b, "cutoverd_cluster_last_switchover_phase_duration_seconds", kv,
				       d->clusters[i].stats.last_phase_ms[k] / 1000.0);
		}

	family(b, "cutoverd_cluster_poll_round_duration_seconds", "gauge",
	       "From the start of the last complete poll round to the cluster's evaluation.");
	for (i = 0; i < d->n_clusters; i++) {
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (d->clusters[i].stats.last_round_us > 0)
			sample(b, "cutoverd_cluster_poll_round_duration_seconds", kv,
			       (double)d->clusters[i].stats.last_round_us / 1e6);
	}

	family(b, "cutoverd_cluster_data_check_mismatches", "gauge",
	       "Chunks the last switchover's data check found different at the fence point (absent: no check).");
	family(b, "cutoverd_cluster_data_check_rows", "gauge", "Rows the last switchover's data check compared so far.");
	family(b, "cutoverd_cluster_data_check_state", "gauge",
	       "The last switchover's data check: 1 for its state (running, passed, mismatch, incomplete, ...).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct datacheck *dc = d->clusters[i].datacheck;
		json_t *j;
		if (!dc)
			continue;
		j = datacheck_json(dc);
		{
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
			const char *skv[] = { "cluster", d->clusters[i].cfg->name, "state",
					      datacheck_state_name(datacheck_state(dc)), NULL };
			sample(b, "cutoverd_cluster_data_check_mismatches", kv,
			       (double)json_integer_value(json_object_get(j, "mismatch_count")));
			sample(b, "cutoverd_cluster_data_check_rows", kv, (double)json_integer_value(json_object_get(j, "rows")));
			sample(b, "cutoverd_cluster_data_check_state", skv, 1);
		}
		json_decref(j);
	}

	family(b, "cutoverd_watch_remaining_seconds", "gauge",
	       "Time left of the watch after the last switchover (absent: no watch).");
	family(b, "cutoverd_watch_value", "gauge",
	       "Each trigger of the watch after a switchover, now (error_rate as a fraction; absent: unknown).");
	family(b, "cutoverd_watch_limit", "gauge", "Each trigger's limit (watch_error_rate, watch_p95, watch_failed_per_min).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct afterwatch *w = d->clusters[i].watch;
		const char *kv[] = { "cluster", d->clusters[i].cfg->name, NULL };
		if (!w)
			continue;
		sample(b, "cutoverd_watch_remaining_seconds", kv, afterwatch_remaining_s(w));
		for (k = 0; k < WT__COUNT; k++) {
			const char *tkv[] = { "cluster", d->clusters[i].cfg->name, "trigger",
					      watch_trigger_name((enum watch_trigger)k), NULL };
			double v = afterwatch_value(w, (enum watch_trigger)k);
			if (v == v)
				sample(b, "cutoverd_watch_value", tkv, v);
			sample(b, "cutoverd_watch_limit", tkv, afterwatch_limit(&d->clusters[i], (enum watch_trigger)k));
		}
	}
}

/* wb_buckets are cumulative already: bucket i counts every value <= wb_bounds_ms[i]. */
static void render_histograms(struct evbuffer *b, struct daemon *d)
{
	const char *name = "cutoverd_cluster_switchover_write_blocked_seconds";
	char le[32];
	size_t i, k;

	family(b, name, "histogram", "How long writes were blocked in switchovers and failovers (fence to routed).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster_stats *cs = &d->clusters[i].stats;
		const char *cname = d->clusters[i].cfg->name;
		for (k = 0; k < WB_BUCKETS; k++) {
			const char *kv[] = { "cluster", cname, "le", le, NULL };
			if (k == WB_BUCKETS - 1)
				snprintf(le, sizeof(le), "+Inf");
			else
				snprintf(le, sizeof(le), "%.15g", wb_bounds_ms[k] / 1000.0);
			sample_count(b, "cutoverd_cluster_switchover_write_blocked_seconds_bucket", kv, cs->wb_buckets[k]);
		}
		{
			const char *kv[] = { "cluster", cname, NULL };
			sample(b, "cutoverd_cluster_switchover_write_blocked_seconds_sum", kv, cs->wb_sum / 1000.0);
			sample_count(b, "cutoverd_cluster_switchover_write_blocked_seconds_count", kv, cs->wb_count);
		}
	}
}

/* The watchdog's alarms (struct alarm, watchdog.h): one series per raised alarm (pending and
 * cleared ones are not: a cleared alarm may be kept several times over), and a count per
 * cluster that is there (0) when none is, so that an alert can say "> 0". */
static void metrics_alarms(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;

	family(b, "cutoverd_cluster_alarms_active", "gauge", "Alarms the watchdog has raised and not cleared.");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster *c = &d->clusters[i];
		const char *kv[] = { "cluster", c->cfg->name, NULL };
		sample(b, "cutoverd_cluster_alarms_active", kv, watchdog_active_alarms(c));
	}
	family(b, "cutoverd_alarm_active", "gauge",
	       "1 for each raised alarm, by name and subject (the server or router it is about, \"\" if none).");
	for (i = 0; i < d->n_clusters; i++) {
		const struct cluster *c = &d->clusters[i];
		for (k = 0; k < c->n_alarms; k++) {
			const struct alarm *a = &c->alarms[k];
			const char *kv[] = { "cluster", c->cfg->name, "alarm", a->name, "subject",
					     a->subject ? a->subject : "", NULL };
			if (a->state == ALARM_ACTIVE)
				sample(b, "cutoverd_alarm_active", kv, 1);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* routers */

static const char *primary_name(const struct cluster *c)
{
	return c->topo.primary >= 0 && (size_t)c->topo.primary < c->n_servers ? c->servers[c->topo.primary]->cfg->name
									       : NULL;
}

/* The router's view is worth reporting once it answered; an exec router without exec_status
 * has no view at all. */
static bool view_known(const struct router *r)
{
	return r->view.reachable && r->view.polled_ms && !(r->cfg->type == ROUTER_EXEC && r->view.n == 0);
}

static void render_routers(struct evbuffer *b, struct daemon *d)
{
	size_t i, k;
	int count;

	family(b, "cutoverd_router_reachable", "gauge", "Whether the last poll of the router succeeded.");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			sample(b, "cutoverd_router_reachable", kv, r->view.reachable);
		}

	family(b, "cutoverd_router_writers", "gauge",
	       "Backends the router sends writes to (1 is healthy; absent until the router answered).");
	for (i = 0; i < d->n_clusters; i++)
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			if (!view_known(r))
				continue;
			router_writer(&r->view, &count);
			sample(b, "cutoverd_router_writers", kv, count);
		}

	family(b, "cutoverd_router_writer_matches_primary", "gauge",
	       "Whether the router's one writer is the primary (absent without one writer or a primary).");
	for (i = 0; i < d->n_clusters; i++) {
		const char *primary = primary_name(&d->clusters[i]);
		for (k = 0; k < d->clusters[i].n_routers; k++) {
			const struct router *r = d->clusters[i].routers[k];
			const struct router_backend *w;
			const char *kv[] = { "cluster", d->clusters[i].cfg->name, "router", r->cfg->name, "type",
					     router_type_name(r->cfg->type), NULL };
			if (!view_known(r) || !primary)
				continue;
			w = router_writer(&r->view, &count);
			if (w && count == 1)
				sample(b, "cutoverd_router_writer_matches_primary", kv, !strcmp(w->server, primary));
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* the daemon */

static void render_daemon(struct evbuffer *b, struct daemon *d)
{
	unsigned long long hooks[EH__COUNT];
	const struct api_count *ac;
	size_t i, n;

	family(b, "cutoverd_up", "gauge", "Always 1 while the daemon answers.");
	sample(b, "cutoverd_up", NULL, 1);
	{
		const char *kv[] = { "version", CUTOVER_VERSION, NULL };
		family(b, "cutoverd_build_info", "gauge", "The running version, as a label.");
		sample(b, "cutoverd_build_info", kv, 1);
	}
	family(b, "cutoverd_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.");
	sample(b, "cutoverd_start_time_seconds", NULL, (double)d->started_real_us / 1e6);
	family(b, "cutoverd_ready", "gauge", "Whether the first poll round is complete (as /healthz).");
	sample(b, "cutoverd_ready", NULL, d->ready_sent);

	family(b, "cutoverd_api_requests_total", "counter", "Replies on the control socket, by command and result.");
	ac = stats_api_all(&n);
	for (i = 0; i < n; i++) {
		const char *kv[] = { "command", ac[i].cmd, "result", ac[i].result, NULL };
		sample_count(b, "cutoverd_api_requests_total", kv, ac[i].n);
	}

	family(b, "cutoverd_event_hooks_total", "counter",
	       "Event hook runs by result; dropped: not run (event_hook_rate or a full queue).");
	event_hooks_counts(hooks);
	for (i = 0; i < EH__COUNT; i++) {
		const char *kv[] = { "result", event_hooks_result_name((enum eh_result)i), NULL };
		sample_count(b, "cutoverd_event_hooks_total", kv, hooks[i]);
	}
}
