/* The watchdog: between switchovers, every evaluation of a cluster looks for conditions that
 * need a person or an action — split-brain, a router writing to the wrong server, replicas
 * following the wrong source or holding errant transactions, a dead primary, broken
 * replication — and keeps each as a named alarm with hysteresis (raised after `hysteresis`
 * observations in a row, cleared likewise).  It acts exactly as configured: the split-brain
 * policy (alert | fence | stonith) and automatic failover, each decision journaled. */
#ifndef CUTOVER_WATCHDOG_H
#define CUTOVER_WATCHDOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "topology.h"

struct daemon;
struct cluster;

enum alarm_state { ALARM_PENDING, ALARM_ACTIVE, ALARM_CLEARED };

struct alarm {
	char *name;               /* owned: split_brain, no_primary, primary_unreachable, router_writer,
	                             wrong_source, errant_gtid, replication_broken, auto_failover_blocked,
	                             split_brain_unresolved, primary_isolated */
	char *subject;            /* owned, may be NULL: the server or router it is about */
	char *message;            /* owned: the latest observation */
	enum verdict severity;
	enum alarm_state state;
	int count;                /* consecutive observations toward the next state change */
	int64_t count_ms;         /* monotonic time of the last counted observation */
	bool seen;                /* observed in the evaluation being processed */
	int64_t first_seen_us;    /* wall clock (µs) */
	int64_t raised_us;        /* 0 while pending */
	int64_t cleared_us;       /* 0 unless cleared */
};

/* After each evaluation of the cluster (daemon.c). */
void watchdog_evaluate(struct daemon *d, struct cluster *c);
/* At start-up: the authoritative primary and the last automatic failover from each journal. */
void watchdog_load(struct daemon *d);
void watchdog_cluster_free(struct cluster *c);
/* Move what the watchdog knows of a cluster across a reload. */
void watchdog_carry_over(struct cluster *to, struct cluster *from);
json_t *watchdog_alarms_json(const struct cluster *c);
int watchdog_active_alarms(const struct cluster *c);
struct server;
struct job;
struct job_result;
/* The server's STONITH or fence hook (its own, else the cluster's), NULL if none. */
const char *hook_for(const struct cluster *c, const struct server *s, bool stonith);
/* Run it with the documented environment (CUTOVER_EVENT, _CLUSTER, _TARGET, _TARGET_HOST,
 * _TARGET_PORT, _REASON) under hook_timeout; NULL if the server has no such hook. */
struct job *fence_hook_run(struct daemon *d, struct cluster *c, const struct server *s, bool stonith,
			   const char *reason, void (*cb)(struct job_result *r, void *arg), void *arg);
/* cutoverd fenced `name` (the old primary of a switchover, a fence command or policy): it is
 * kept fenced — seen writable again, it is fenced again (split_brain = fence or stonith) or
 * the alarm fence_lost is raised (alert), on the second poll that sees it.  `on` false
 * forgets it (unfenced by command, or made the primary).  Journaled, read back at start-up. */
void watchdog_sticky(struct daemon *d, struct cluster *c, const char *name, bool on);
/* A switchover or failover made `name` the primary: it is now the authority. */
void watchdog_set_authority(struct daemon *d, struct cluster *c, const char *name, const char *why);

#endif
