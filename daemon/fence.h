/* Fencing: the one place that makes a server stop taking writes, or take them again.
 *
 * A fence tries its means in order — SQL (read_only, read back), the server's fence hook (a
 * network cut, …), its STONITH hook (power) — until one succeeds.  The emergency failover, the
 * split-brain policy, the sticky fence and the fence/unfence/stonith commands all come here.
 * The switchover's own fence, inside its write-blocked window, runs on a connection it already
 * holds; the statements it sends come from here too (fence_sql_window).
 *
 * An action is a fence, unfence or STONITH of one server as the cluster's one running action
 * (cluster_busy names it): journaled, sent as an event, answered to the requester. */
#ifndef CUTOVER_FENCE_H
#define CUTOVER_FENCE_H

#include <stdbool.h>
#include <stddef.h>

struct daemon;
struct cluster;
struct server;
struct flavor_ops;
struct job;
struct job_result;

enum fence_means {
	FENCE_BY_SQL = 1 << 0,
	FENCE_BY_HOOK = 1 << 1,       /* the server's fence_hook (else the cluster's) */
	FENCE_BY_STONITH = 1 << 2,    /* the server's stonith_hook (else the cluster's) */
};

/* ok, how ("sql", "fence_hook", "stonith"; NULL when nothing worked) and what was seen. */
typedef void (*fence_done_fn)(void *arg, bool ok, const char *by, const char *msg);

struct fence_op;
/* Fence s by each of `means` in the order SQL, fence hook, STONITH until one works; `done`
 * exactly once (never from inside this call), unless cancelled. */
struct fence_op *fence_start(struct daemon *d, struct cluster *c, struct server *s, unsigned means,
			     const char *reason, fence_done_fn done, void *arg);
/* Stop it (a running hook is killed); `done` is not called. */
void fence_cancel(struct fence_op *op);

/* The switchover's fence, in order, into q (room for 4): read_only, then — where read_only
 * does not stop every account — the commit hold, then the fence point.  *holding tells
 * whether the hold is among them.  The count. */
size_t fence_sql_window(const struct flavor_ops *f, const char **q, bool *holding);

/* The server's STONITH or fence hook (its own, else the cluster's), NULL if none. */
const char *fence_hook_for(const struct cluster *c, const struct server *s, bool stonith);

/* Start a fence ("fence": SQL then the fence hook), STONITH ("stonith": the STONITH hook, then
 * SQL if the server still answers; SQL alone when it has no STONITH hook) or unfence
 * ("unfence": after fresh reads show every other server read-only) as the cluster's action,
 * for the watchdog (nobody waits for the answer). */
void fence_action(struct daemon *d, struct cluster *c, struct server *s, const char *what, const char *reason);
/* What a fence, unfence or STONITH by hand answers: msg (what was seen), after a word when
 * a fence found the server read-only already at the last poll — it is still run (the poll
 * may be old, and it records the fence), but "fenced" alone would read as if it had taken
 * writes until now.  A new string. */
char *fence_action_result(const char *what, bool was_read_only, const char *msg);

#endif
