/* The cutover engine's public face (daemon/cutover/): switchovers and failovers run as plans
 * of steps (cutover/plan.c) — preflight → drain → catchup → fence → sync → promote → verify —
 * with one undo chain before the point of no return, a journal written before every act and
 * pause/abort.  One function changes a cutover's state (cutover/engine.c). */
#ifndef CUTOVER_SWITCHOVER_H
#define CUTOVER_SWITCHOVER_H

#include <jansson.h>
#include <stdbool.h>

struct daemon;
struct cluster;
struct topology;
struct switchover;

void switchover_free(struct switchover *sw);
/* Phase i's name ("preflight" … "verify"), for the metrics. */
const char *switchover_phase_name(int i);
/* At start (recovery.c): each cluster's journal read once; an unfinished switchover or
 * failover is recovered or shown, an unfinished read shift rolled back, an unfinished tenant
 * move settled.  recover_cluster does it for one cluster from its runs (`by`:
 * journal_by_cutover's), switchover_recover only the switchover or failover. */
void recover_all(struct daemon *d);
void recover_cluster(struct daemon *d, struct cluster *c, const json_t *by);
void switchover_recover(struct daemon *d, struct cluster *c, const json_t *by);
/* What interrupted the work recovery finds, for its messages: "cutoverd restarted", or with
 * [ha] "the member that led it stopped leading". */
const char *recovery_cause(const struct daemon *d);
/* With [ha]: this member stopped leading; the cutover is left where it stands for the next
 * leader (recovery.c).  Frees it. */
void switchover_handover(struct switchover *sw, const char *why);
/* After a reload: the cluster and its servers were rebuilt. */
void switchover_rebind(struct switchover *sw, struct daemon *d, struct cluster *c);
/* Add the cutover's own reason to an evaluation ("switchover in progress: phase sync"). */
void switchover_annotate(struct switchover *sw, struct topology *t);
/* Called after each evaluation of the cluster (waiting phases look at fresh observations). */
void switchover_on_evaluate(struct switchover *sw);
/* One line for systemd STATUS ("switchover db1→db2: sync"); static buffer. */
const char *switchover_summary(const struct switchover *sw);
/* A stop was requested: roll back before the point of no return, else let it finish.
 * Returns true if the switchover is still running (the caller waits for it). */
bool switchover_stop_requested(struct switchover *sw);
struct client;
struct failover_opts {
	const char *to;           /* NULL: the replica that received the most */
	bool assume_fenced;       /* the operator vouches the old primary cannot take writes */
	bool without_routers;     /* go on although a router cannot be reached */
	bool automatic;           /* decided by the watchdog */
	bool dry_run;
	int sync_timeout_ms;      /* 0: the cluster's */
};
/* Fail over from the cluster's recorded primary, which is dead (cutover/cmd.c).  cl may be NULL.
 * -1 with a message when it cannot even start. */
int switchover_start_failover(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id,
			      const struct failover_opts *o, char *err, size_t errlen);
/* The watch after a switchover goes back to `to` (afterwatch.h): a switchover with the
 * cluster's defaults and no requester.  -1 with a message when it cannot even start. */
int switchover_start_reverse(struct daemon *d, struct cluster *c, const char *to, const char *why, char *err,
			     size_t errlen);
/* Running or paused (not merely an interrupted record). */
bool switchover_active(const struct switchover *sw);
/* The cutover as JSON for status (new reference). */
json_t *switchover_json(const struct switchover *sw);

#endif
