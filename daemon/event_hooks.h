/* Event hooks: `event_hook = /path args` programs run for the events the daemon publishes
 * (server up/down, role, primary and verdict changes, config reloads, and a switchover's
 * milestones), so that a chat channel or a pager hears about them without a client following
 * the event stream.  Each run goes through the job runner (job.h) with the event as one line of
 * JSON on stdin and its main fields in CUTOVER_* variables, under event_hook_timeout.
 *
 * A hook never holds anything up: runs of one hook go one at a time in event order, later
 * events wait in a short queue, and an event beyond event_hook_rate runs a minute (or beyond
 * the queue) is dropped with a log line and counted.  A hook's result is logged and counted,
 * never acted upon. */
#ifndef CUTOVER_EVENT_HOOKS_H
#define CUTOVER_EVENT_HOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

#define EH_QUEUE_MAX  64       /* events waiting for one hook; more are dropped */
#define EH_RATE_MAX   600      /* the largest event_hook_rate (runs per minute) */
#define EH_WINDOW_MS  60000    /* the rate is counted over this sliding window */

enum eh_result { EH_OK, EH_FAILED, EH_TIMEOUT, EH_DROPPED, EH__COUNT };

/* Run the configured hooks for `event` (borrowed): the [cutoverd] hooks for every event, a
 * [cluster NAME]'s hooks for that cluster's events.  A switchover's progress line ("type":
 * "cutover") is passed on only at its milestones (see event_hooks_milestone). */
void event_hooks_fire(struct daemon *d, json_t *event);
/* Shutdown: kill running hooks and forget queued events. */
void event_hooks_stop(void);
/* Events waiting or being delivered, over every hook. */
size_t event_hooks_pending(void);
/* Runs by result since start, for the metrics. */
void event_hooks_counts(unsigned long long out[EH__COUNT]);
const char *event_hooks_result_name(enum eh_result r);

/* Which milestone a switchover progress line is: "switchover_start", "phase_ok",
 * "phase_fail", "rolled_back" or "finished"; NULL for every other line (the checks, steps
 * and waits in between), which hooks do not get. */
const char *event_hooks_milestone(const json_t *event);

/* The rate limit of one hook: the times of the runs in the last EH_WINDOW_MS, oldest first
 * in a ring.  Exposed for its unit test. */
struct eh_window {
	int64_t t[EH_RATE_MAX];
	size_t head, n;
};
/* Whether one more run fits `limit` runs per window at now_ms; if so it is recorded. */
bool eh_window_allow(struct eh_window *w, int limit, int64_t now_ms);

#endif
