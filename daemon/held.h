/* Servers held at a fence point: the rollback point an upgrade switchover leaves behind.
 *
 * MariaDB does not replicate from a newer release series to an older one, so after a switchover
 * to a newer server the old primary cannot become its replica: it stays fenced and replicating
 * from nothing, frozen at the fence point, and so do the replicas too old to follow the new
 * primary (left stopped there with --allow-older-replicas).  That is on purpose, not a fault:
 * held servers get the role "rollback_point" instead of "orphan" or "replica", no topology
 * problem and no watchdog alarm (wrong_source, replication_broken), and cutovers leave them as
 * they are.  The old primary also stays in the watchdog's sticky fence (watchdog.h).
 *
 * A server stops being held when it is seen as the only writable server (made the primary
 * again, by hand), when it is seen replicating from the primary with both threads running
 * (upgraded and attached again), or when it is no longer configured.  Every change is
 * journaled ("held", on or off) and read back at start-up with the watchdog's entries. */
#ifndef CUTOVER_HELD_H
#define CUTOVER_HELD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct cluster;

struct held {
	char *server;           /* owned */
	char *fence_point;      /* owned, NULL if not known */
	char *why;              /* owned: what holds it, said to people */
	int64_t since_us;       /* wall clock */
};

/* Hold `server` of c at fence_point (may be NULL), journaled; an event says so. */
void held_add(struct daemon *d, struct cluster *c, const char *server, const char *fence_point, const char *why);
/* Stop holding it (journaled, an event says why); nothing if it is not held. */
void held_release(struct daemon *d, struct cluster *c, const char *server, const char *why);
/* The server's entry, or NULL when it is not held. */
const struct held *held_find(const struct cluster *c, const char *server);
/* After each evaluation of the cluster outside a cutover: release what is no longer held (see
 * above). */
void held_check(struct daemon *d, struct cluster *c);
/* A journal entry read back at start-up (event "held"). */
void held_replay(struct cluster *c, const json_t *entry);
/* [{"server", "fence_point", "since", "why"}] for status (new reference). */
json_t *held_json(const struct cluster *c);
/* [{"server", "fence_point", "why", "since_us"}]: the list as the leader keeps it in etcd
 * ([ha]; ha_journal.c), new reference. */
json_t *held_state(const struct cluster *c);
/* A new leader takes etcd's list (held_state's form) as the cluster's: what it lacks is
 * released, what it has is held (journaled, as held_add and held_release do). */
void held_adopt(struct daemon *d, struct cluster *c, const json_t *list);
void held_free_all(struct cluster *c);
/* Move the list across a reload. */
void held_carry_over(struct cluster *to, struct cluster *from);

#endif
