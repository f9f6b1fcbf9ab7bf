/* The daemon's live state: clusters, their servers and routers, the control socket.
 * One struct daemon exists; the event loop and every module hang off it. */
#ifndef CUTOVER_DAEMON_H
#define CUTOVER_DAEMON_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "flavor.h"
#include "status.h"
#include "topology.h"

struct db;
struct router;
struct control;
struct cluster;
struct switchover;
struct held;

/* A heartbeat cutoverd wrote on a primary: what it wrote and when the primary acknowledged it. */
struct heartbeat {
	int64_t ts_us;           /* the value written (wall clock, µs) */
	int64_t acked_mono_us;   /* when the write was acknowledged (monotonic) */
};

#define HEARTBEAT_RING 64

struct server {
	const struct cfg_server *cfg;   /* borrowed from d->cfg */
	struct cluster *cluster;        /* borrowed */
	struct db *db;                  /* owned: the polling connection */
	const struct flavor_ops *flavor;   /* NULL until detected */
	struct server_status st;        /* the latest observation (owned strings) */
	struct health health;           /* hysteresis state (topology.h) */
	bool polling;
	int64_t poll_started_us;        /* monotonic: the poll running now (or last) */
	int64_t observed_us;            /* monotonic: when the poll behind `st` (or its failure) started */
	int consecutive_failures;
	int64_t next_attempt_ms;        /* reconnect backoff: no poll before this (monotonic) */
	bool heartbeat_ready;           /* the heartbeat table was ensured on this connection */
	unsigned round;                 /* the cluster round this poll belongs to */
	int64_t hb_pending_ts;          /* heartbeat value being written by the running poll, 0 none */
	bool hb_warned;                 /* logged that the heartbeat table is unusable */
};

enum sw_outcome { OUTCOME_DONE, OUTCOME_ROLLED_BACK, OUTCOME_FAILED, OUTCOME_REFUSED, OUTCOME__COUNT };
/* The write-blocked histogram: 1 2 5 10 20 50 100 200 500 1000 5000 +Inf ms.  A clean switchover
 * blocks writes for 1-5 ms: the smallest buckets tell those apart. */
#define WB_BUCKETS 12
#define SW_PHASES 7

/* What the metrics endpoint reports per cluster; kept across reloads. */
struct cluster_stats {
	unsigned long long primary_changes;
	unsigned long long switchovers[OUTCOME__COUNT];
	unsigned long long failovers[OUTCOME__COUNT];
	double last_write_blocked_ms;       /* -1: none yet */
	double last_phase_ms[SW_PHASES];    /* -1: phase not run */
	unsigned long long wb_buckets[WB_BUCKETS];   /* cumulative counts per upper bound */
	double wb_sum;
	unsigned long long wb_count;
	int64_t round_started_us;           /* monotonic */
	int64_t last_round_us;              /* duration of the last complete poll round */
};

extern const double wb_bounds_ms[WB_BUCKETS];   /* upper bounds; the last is +Inf */
/* Record a finished switchover (cutover/report.c). */
void cluster_stats_switchover(struct cluster_stats *cs, bool failover, enum sw_outcome o, double write_blocked_ms,
			      const double *phase_ms);

struct cluster {
	const struct cfg_cluster *cfg;  /* borrowed from d->cfg */
	struct cluster_stats stats;
	struct server **servers;        /* borrowed pointers into d->servers */
	size_t n_servers;
	struct router **routers;        /* owned */
	size_t n_routers;
	struct topology topo;           /* the latest evaluation (owned, see topology.h) */
	struct verdict_state vstate;    /* hysteresis of the verdict */
	struct heartbeat hb[HEARTBEAT_RING];
	size_t hb_next;
	unsigned long long hb_server_id;   /* server_id of the primary the ring refers to */
	struct switchover *cutover;     /* the running or interrupted cutover, NULL if none */
	bool hb_paused;                 /* a cutover is fencing: no heartbeat writes */
	struct alarm *alarms;           /* owned: watchdog.c */
	size_t n_alarms;
	char *authority;                /* owned: the last primary recorded in the journal, NULL unknown */
	int primary_fail_evals;         /* evaluations in a row the authority was unreachable */
	int64_t last_auto_failover_us;  /* wall clock; 0 never */
	int64_t prev_auto_failover_us;  /* the one before (restored if an attempt changed nothing) */
	int64_t auto_retry_after_us;    /* wall clock: no new attempt before this after one that did not go through */
	int64_t last_sb_action_us;      /* monotonic: when the split-brain policy last acted */
	int actions_running;            /* fence/STONITH actions in flight */
	char action_desc[160];          /* what the running action is ("stonith db3 (by uid 0)") */
	struct sticky *sticky;          /* owned: servers cutoverd fenced, kept fenced (watchdog.c) */
	size_t n_sticky;
	struct held *held;              /* owned: servers held at a fence point, the rollback point (held.c) */
	struct datacheck *datacheck;    /* owned: the last switchover's data check, running or done (datacheck.c) */
	struct afterwatch *watch;       /* owned: the watch after the last switchover, NULL if none (afterwatch.c) */
	struct shift *shift;            /* owned: the running or last read shift, NULL if none (shift.c) */
	struct tenant_move *tenants;    /* owned: the running or last tenant move, NULL if none (tenant.c) */
	size_t n_held;
	unsigned round;                 /* poll round counter */
	int outstanding;                /* polls of this round still running */
	bool evaluated_once;
};

struct daemon {
	struct event_base *base;
	struct config *cfg;             /* owned; replaced whole on reload */
	char *config_path;              /* owned */
	struct server *servers;         /* owned array */
	size_t n_servers;
	struct cluster *clusters;       /* owned array */
	size_t n_clusters;
	struct control *ctl;            /* owned */
	struct event *poll_timer;
	unsigned long poll_tick;        /* the poll timer's ticks: which slot of the interval is next (poll.c) */
	struct event *sig_hup, *sig_term, *sig_int, *sig_pipe;
	int64_t started_real_us;
	int64_t started_mono_us;
	bool ready_sent;                /* READY=1 after the first complete poll */
	bool foreground;
	int inherited_fd;               /* systemd socket, or -1 */
	bool stopping;                  /* SIGTERM while a switchover ran: exit when it has ended */
	struct ha *ha;                  /* owned: the election ([ha]), NULL without one (ha.h) */
};

/* daemon.c */
/* "2026-11-21T13:47:00.123Z" for a wall-clock time in µs. */
void iso_time(int64_t real_us, char *buf, size_t len);
int daemon_setup(struct daemon *d, struct config *cfg, char *err, size_t errlen);
void daemon_teardown(struct daemon *d);
/* Load and swap in the config file; on errors keep the old one and return them as a message
 * (-1), or refuse while a switchover or a fence/STONITH action runs (-2). */
int daemon_reload(struct daemon *d, char **errors_out);
struct cluster *daemon_cluster(struct daemon *d, const char *name);
/* What to say about a cluster name that is not configured: the clusters there are, and the
 * nearest when one is close enough to be a typo.  A new string. */
char *daemon_unknown_cluster(const struct daemon *d, const char *name);
struct server *daemon_server(struct daemon *d, const char *name);
/* A connection of its own to a server, as configured (its label: the server's name). */
struct db *server_db_new(struct daemon *d, const struct cfg_server *cfg);
/* One action at a time per cluster — a switchover, a failover, a fence, unfence or STONITH
 * (the operator's or the watchdog's): NULL when the cluster is free, else what runs there
 * (a static buffer), for a BUSY reply that names it. */
const char *cluster_busy(const struct cluster *c);
/* The one answer to "which flavor's SQL does this server take": as detected, else as its
 * configuration hints (flavor = mysql), else MariaDB. */
const struct flavor_ops *server_flavor(const struct server *s);
/* Broadcast an event (stolen) to subscribers and log it. */
void daemon_event(struct daemon *d, json_t *event);
/* The same without the log line (event borrowed): to the event hooks and the `events`
 * subscribers.  What the engine and the watchdog report goes through here, never to the
 * control socket directly. */
void daemon_publish(struct daemon *d, json_t *event);
void daemon_update_sd_status(struct daemon *d);

/* A switchover ended: if a stop was requested while it ran, stop now. */
void daemon_cutover_ended(struct daemon *d);

/* poll.c */
void poll_start(struct daemon *d);
void poll_stop(struct daemon *d);
/* Server and router polls for one cluster, now (used after a switchover). */
void poll_cluster_now(struct daemon *d, struct cluster *c);
/* Re-evaluate a cluster's topology from the latest observations and emit events. */
void cluster_evaluate(struct daemon *d, struct cluster *c);

/* api.c */
struct client;
struct request;
void api_dispatch(void *arg, struct client *c, const struct request *req);
json_t *api_status_json(struct daemon *d, const char *cluster);

#endif
