/* The watchdog's insides, shared by watchdog.c (alarms, evaluation) and watchdog_act.c (what it
 * does about what it sees).  Not for anyone else: the public face is watchdog.h. */
#ifndef CUTOVER_WATCHDOG_IMPL_H
#define CUTOVER_WATCHDOG_IMPL_H

#include <stdint.h>

#include "topology.h"

struct daemon;
struct cluster;

/* A server cutoverd fenced and keeps fenced (c->sticky, watchdog_sticky). */
struct sticky {
	char *server;             /* owned */
	int seen;                 /* polls in a row that saw it writable */
	int64_t seen_ms;          /* monotonic: the last one counted */
};

/* An observation for the alarm `name` (about `subject`, may be NULL) in the evaluation being
 * processed; msg is taken (owned). */
void wd_observe(struct cluster *c, const char *name, const char *subject, enum verdict sev, char *msg);

/* The actions of watchdog_evaluate, on the member that acts (watchdog_act.c). */
/* The split-brain policy (fence or stonith the writable servers other than the authority),
 * once the alarm split_brain is active. */
void wd_split_brain_act(struct daemon *d, struct cluster *c);
/* A server cutoverd fenced that is writable again: fenced again, or the alarm fence_lost. */
void wd_sticky_check(struct daemon *d, struct cluster *c);
/* The primary is dead by the poller's and its replicas' account: an automatic failover. */
void wd_auto_failover_check(struct daemon *d, struct cluster *c);

#endif
