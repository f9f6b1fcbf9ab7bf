/* Routers behind one narrow interface.  A driver (router_haproxy.c, router_proxysql.c,
 * router_exec.c) fills a `const struct router_ops`; everything else sees only struct router.
 * Every operation is asynchronous on the loop, has the router's timeout as its deadline, and
 * reports through a router_cb exactly once (never synchronously from inside the call). */
#ifndef CUTOVER_ROUTER_H
#define CUTOVER_ROUTER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define ROUTER_MAX_BACKENDS 64

/* Index into cfg_router.exec_cmd too. */
enum router_step { RSTEP_STATUS, RSTEP_DRAIN, RSTEP_PROMOTE, RSTEP_ROLLBACK, RSTEP_FINALIZE, RSTEP__COUNT };
const char *router_step_name(enum router_step s);

struct router_backend {
	char server[64];          /* cutoverd server name, "" when no configured server matches */
	char name[128];           /* the router's name: haproxy "backend/server", proxysql "host:port" */
	char host[256];
	int port;
	int hostgroup;            /* proxysql hostgroup; -1 for haproxy */
	bool writer;              /* in the write backend / writer hostgroup */
	bool admin_up;            /* takes new work: haproxy ready (not drain/maint), proxysql ONLINE */
	bool healthy;             /* haproxy check UP (or no check); proxysql not SHUNNED */
	char state[32];           /* as the router says it: "UP", "DRAIN", "MAINT", "DOWN", "ONLINE", "OFFLINE_SOFT", … */
	int sessions;             /* haproxy scur, proxysql ConnUsed */
	int weight;
	int max_connections;      /* proxysql; -1 for haproxy */
	/* cumulative counters for the watch after a switchover (afterwatch.h), -1 when unknown:
	 * proxysql Queries and stats_mysql_errors + ConnERR; haproxy stot (sessions) and
	 * econ + eresp */
	long long queries, errors;
};

/* ProxySQL's latency histogram (stats_mysql_commands_counters, all commands): the upper bound
 * of each bucket in µs, the last one unbounded. */
#define ROUTER_LAT_BUCKETS 12
extern const long long router_lat_bound_us[ROUTER_LAT_BUCKETS];

struct router_view {
	bool reachable;
	char error[400];
	int64_t polled_ms;        /* monotonic time of the last successful poll */
	size_t n;
	struct router_backend be[ROUTER_MAX_BACKENDS];
	bool auto_failover_hostgroups;   /* proxysql: mysql_replication_hostgroups covers the writer hostgroup */
	/* proxysql, "" when all is well: */
	char pending[400];        /* mysql_servers differs from runtime: a LOAD would apply someone's change */
	char admin_clash[256];    /* our admin user is also a mysql_users name: the next login fails */
	char caution[256];        /* e.g. the writer hostgroup has no server at all */
	bool lat_known;           /* proxysql: lat_hist was read */
	long long lat_hist[ROUTER_LAT_BUCKETS];   /* cumulative counts */
};

/* What a switchover asks of a router. */
struct router_switch {
	const char *cluster;
	const struct cfg_server *old_primary;   /* borrowed */
	const struct cfg_server *new_primary;   /* borrowed */
	const char *phase;        /* for the exec driver's CUTOVER_PHASE */
	const char *id;           /* switchover id, for logs */
};

struct router;
typedef void (*router_cb)(struct router *r, int err, const char *msg, void *arg);

struct router_ops {
	const char *type;
	/* New work sent while it has no writer is held, not refused (ProxySQL): such a router is
	 * drained just before the fence, so that nothing reaches the old primary once it is
	 * read-only; the others are drained just after it. */
	bool holds;
	/* Allocate driver state in r->priv.  0, or -1 with a message. */
	int (*open)(struct router *r, char *err, size_t errlen);
	void (*close)(struct router *r);
	/* Refresh r->view. */
	void (*poll)(struct router *r, router_cb cb, void *arg);
	/* Stop new work going to the old primary (haproxy: drain; proxysql: OFFLINE_SOFT + LOAD),
	 * remembering what it changes so rollback can restore it. */
	void (*drain)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
	/* Make the new primary the only writer and the old one take nothing (haproxy: new ready,
	 * old maint + its sessions shut; proxysql: new ONLINE in the writer hostgroup, old out,
	 * LOAD, read back runtime_mysql_servers, retry once). */
	void (*promote)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
	/* Restore everything drain/promote changed. */
	void (*rollback)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
	/* After verify: persist (proxysql SAVE … TO DISK), reader changes. */
	void (*finalize)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
};

struct router {
	const struct cfg_router *cfg;     /* borrowed from the live config; swapped on reload */
	const struct config *config;      /* borrowed: to look servers up */
	const struct router_ops *ops;
	struct event_base *base;
	struct router_view view;
	void *priv;                        /* driver state, owned by the driver */
	bool busy;                         /* an operation is running */
	struct router_later *later;        /* refusals waiting to be reported (router.c) */
};

extern const struct router_ops router_haproxy_ops;
extern const struct router_ops router_proxysql_ops;
extern const struct router_ops router_exec_ops;

/* Create and open the router for cfg.  NULL with a message on failure. */
struct router *router_new(struct event_base *base, const struct config *config,
			  const struct cfg_router *cfg, char *err, size_t errlen);
void router_free(struct router *r);
/* For drivers: refuse an operation (another one runs), reporting cb(r, 1, msg) from the loop,
 * never from inside the call.  Pending refusals are dropped by router_free. */
void router_refuse_later(struct router *r, router_cb cb, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The backend of the write endpoint that takes new work (admin_up && writer), or NULL if none;
 * *count gets how many there are. */
const struct router_backend *router_writer(const struct router_view *v, int *count);
const struct router_backend *router_find(const struct router_view *v, const char *server, bool writer);
/* Does every router that has a view (an exec router without exec_status has none) send writes
 * to `server` alone?  If not, says which does not and why. */
bool routers_write_to(struct router *const *routers, size_t n, const char *server, char *why, size_t len);
/* Of the n routers of cluster `cluster`, the ProxySQL one named `name` (NULL: the only one);
 * NULL with why in err when there is none, or several and none was named.  `what` says what
 * needs it, for the message ("a read shift moves ProxySQL's reads"). */
struct router *router_pick_proxysql(struct router *const *routers, size_t n, const char *cluster, const char *name,
				    const char *what, char *err, size_t errlen);

#endif
