/* The generic part of the router layer: picking the driver for a [router] section and reading
 * a router's view.  The drivers (router_haproxy.c, router_proxysql.c, router_exec.c) do the
 * talking; see router.h for the contract every operation keeps. */
#include "router.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const long long router_lat_bound_us[ROUTER_LAT_BUCKETS] = { 100, 500, 1000, 5000, 10000, 50000, 100000, 500000,
							       1000000, 5000000, 10000000, -1 };

static const struct router_ops *router_ops_for(enum router_type t);

static const char *const step_names[RSTEP__COUNT] = {
	[RSTEP_STATUS] = "status",
	[RSTEP_DRAIN] = "drain",
	[RSTEP_PROMOTE] = "promote",
	[RSTEP_ROLLBACK] = "rollback",
	[RSTEP_FINALIZE] = "finalize",
};

const char *router_step_name(enum router_step s)
{
	if ((int)s < 0 || s >= RSTEP__COUNT)
		return "unknown";
	return step_names[s];
}

static const struct router_ops *router_ops_for(enum router_type t)
{
	switch (t) {
	case ROUTER_HAPROXY:
		return &router_haproxy_ops;
	case ROUTER_PROXYSQL:
		return &router_proxysql_ops;
	case ROUTER_EXEC:
		return &router_exec_ops;
	}
	return NULL;
}

struct router *router_new(struct event_base *base, const struct config *config,
			  const struct cfg_router *cfg, char *err, size_t errlen)
{
	const struct router_ops *ops = router_ops_for(cfg->type);
	struct router *r;

	if (!ops) {
		snprintf(err, errlen, "router '%s': unknown type %d", cfg->name, (int)cfg->type);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->config = config;
	r->ops = ops;
	r->base = base;
	if (ops->open(r, err, errlen) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* Frees the driver state too; an operation still running is abandoned without its callback. */
static void later_drop_all(struct router *r);

void router_free(struct router *r)
{
	if (!r)
		return;
	later_drop_all(r);
	r->ops->close(r);
	free(r);
}

const struct router_backend *router_writer(const struct router_view *v, int *count)
{
	const struct router_backend *first = NULL;
	int n = 0;
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (!v->be[i].writer || !v->be[i].admin_up)
			continue;
		if (!first)
			first = &v->be[i];
		n++;
	}
	if (count)
		*count = n;
	return first;
}

const struct router_backend *router_find(const struct router_view *v, const char *server, bool writer)
{
	size_t i;

	for (i = 0; server && *server && i < v->n; i++)
		if (v->be[i].writer == writer && !strcmp(v->be[i].server, server))
			return &v->be[i];
	return NULL;
}

bool routers_write_to(struct router *const *routers, size_t n, const char *server, char *why, size_t len)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const struct router *r = routers[i];
		const struct router_backend *w;
		int count;
		if (r->cfg->type == ROUTER_EXEC && r->view.n == 0)
			continue;
		if (!r->view.reachable) {
			snprintf(why, len, "router %s is unreachable", r->cfg->name);
			return false;
		}
		w = router_writer(&r->view, &count);
		if (count != 1 || strcmp(w->server, server)) {
			snprintf(why, len, "router %s writes to %s", r->cfg->name,
				 count == 1 ? (*w->server ? w->server : w->name) : count ? "several servers" : "nothing");
			return false;
		}
	}
	return true;
}

/* A report that must wait for the loop: an operation refused because another one runs. */
struct router_later {
	struct event *ev;
	struct router *r;
	router_cb cb;
	void *arg;
	char msg[256];
	struct router_later *next;
};

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct router_later *l = arg, **pp;
	struct router *r = l->r;
	router_cb cb = l->cb;
	void *cbarg = l->arg;
	char msg[sizeof(l->msg)];

	memcpy(msg, l->msg, sizeof(msg));
	for (pp = &r->later; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	event_free(l->ev);
	free(l);
	cb(r, 1, msg, cbarg);
}

void router_refuse_later(struct router *r, router_cb cb, void *arg, const char *fmt, ...)
{
	static const struct timeval now = { 0, 0 };
	struct router_later *l = xcalloc(1, sizeof(*l));
	va_list ap;

	l->r = r;
	l->cb = cb;
	l->arg = arg;
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	l->ev = evtimer_new(r->base, later_cb, l);
	l->next = r->later;
	r->later = l;
	evtimer_add(l->ev, &now);
}

static void later_drop_all(struct router *r)
{
	while (r->later) {
		struct router_later *l = r->later;
		r->later = l->next;
		event_free(l->ev);
		free(l);
	}
}

struct router *router_pick_proxysql(struct router *const *routers, size_t n, const char *cluster, const char *name,
				    const char *what, char *err, size_t errlen)
{
	struct router *r = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		struct router *x = routers[i];
		if (x->cfg->type != ROUTER_PROXYSQL || (name && strcmp(name, x->cfg->name)))
			continue;
		if (r) {
			snprintf(err, errlen, "cluster %s has several ProxySQL routers (%s, %s): name one with \"router\"",
				 cluster, r->cfg->name, x->cfg->name);
			return NULL;
		}
		r = x;
	}
	if (!r && name)
		snprintf(err, errlen, "no ProxySQL router named '%s' in cluster %s", name, cluster);
	else if (!r)
		snprintf(err, errlen, "cluster %s has no ProxySQL router: %s", cluster, what);
	return r;
}
