/* The metrics endpoint: an HTTP listener (libevent's evhttp, on the daemon's loop) at
 * metrics_address serving
 *   GET /metrics   every server, cluster and router fact of `status`, and the daemon's
 *                  counters, in Prometheus text exposition format 0.0.4;
 *   GET /healthz   200 "ok" once the first poll round is complete, 503 before.
 * Off unless metrics_address is set.  It has no authentication: bind it to loopback or a
 * management network. */
#ifndef CUTOVER_METRICS_H
#define CUTOVER_METRICS_H

struct daemon;
struct evbuffer;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Listen on d->cfg->metrics_address (nothing to do when unset).  0, or -1 when it cannot
 * (logged): the daemon runs on without metrics rather than not at all. */
int metrics_start(struct daemon *d);
/* After a reload: listen on the new metrics_address if it changed (the old listener stays
 * when the new address cannot be bound), stop if it was removed. */
void metrics_reload(struct daemon *d);
void metrics_stop(void);

/* The /metrics body: appended to out. */
void metrics_render(struct daemon *d, struct evbuffer *out);

#endif
