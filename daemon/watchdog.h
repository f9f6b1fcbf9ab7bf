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
	                             split_brain_unresolved, primary_isolated, data_mismatch,
	                             data_check_incomplete, watch_trigger */
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

/* An observation for the alarm `name` (critical) in the evaluation being processed, from the
 * modules watchdog_evaluate calls (afterwatch.c): raised after `hysteresis` in a row. */
void watchdog_observe(struct cluster *c, const char *name, const char *subject, const char *msg);
/* After each evaluation of the cluster (daemon.c). */
void watchdog_evaluate(struct daemon *d, struct cluster *c);
/* At start-up: the authoritative primary and the last automatic failover from each journal
 * (load_cluster: from one cluster's, as read). */
void watchdog_load(struct daemon *d);
void watchdog_load_cluster(struct daemon *d, struct cluster *c, const json_t *all);
void watchdog_cluster_free(struct cluster *c);
/* Move what the watchdog knows of a cluster across a reload. */
void watchdog_carry_over(struct cluster *to, struct cluster *from);
json_t *watchdog_alarms_json(const struct cluster *c);
int watchdog_active_alarms(const struct cluster *c);
/* Append a watchdog entry (no "id": it is not a cutover) to the cluster's journal; logged when
 * it cannot be written. */
void wd_journal(struct daemon *d, struct cluster *c, const char *event, json_t *extra);
/* An event of the cluster (about server `subject`, may be NULL) to the log and subscribers. */
void wd_event(struct daemon *d, struct cluster *c, const char *type, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* cutoverd fenced `name` (the old primary of a switchover, a fence command or policy): it is
 * kept fenced — seen writable again, it is fenced again (split_brain = fence or stonith) or
 * the alarm fence_lost is raised (alert), on the second poll that sees it.  `on` false
 * forgets it (unfenced by command, or made the primary).  Journaled, read back at start-up. */
void watchdog_sticky(struct daemon *d, struct cluster *c, const char *name, bool on);
/* With [ha], a new leader takes the servers kept fenced (a JSON array of names) and the last
 * automatic failover's time from etcd's journal: what the leader before it decided. */
void watchdog_adopt(struct daemon *d, struct cluster *c, const json_t *sticky, long long auto_failover_at_us);
/* The same, as this member knows it: {"sticky": [...], "auto_failover_at_us": n, "held": [the
 * servers held at a fence point, held_state()], "watch": the watch after a switchover
 * (afterwatch_state()) or null} (new). */
json_t *watchdog_state(const struct cluster *c);
/* A switchover or failover made `name` the primary: it is now the authority. */
void watchdog_set_authority(struct daemon *d, struct cluster *c, const char *name, const char *why);

#endif
