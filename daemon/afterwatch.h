/* The watch after a switchover: for `watch` (a duration; 0 = off) after a switchover is done,
 * cutoverd watches the new primary and keeps the old one as the way back.
 *
 * What it watches, over the last minute, from samples taken at every poll round:
 *   error_rate     errors / queries of the new primary as the routers count them: ProxySQL's
 *                  stats_mysql_errors and ConnERR over Queries (stats_mysql_connection_pool);
 *                  HAProxy's econ + eresp over stot (connections, not queries: TCP mode sees no
 *                  query).  Unknown below 20 queries a minute.
 *   p95            the 95th percentile of query latency from ProxySQL's histogram
 *                  (stats_mysql_commands_counters, every hostgroup), the upper bound of its
 *                  bucket.  HAProxy has none.
 *   failed_per_min writes the new primary rolled back (Handler_rollback: failed transactions and
 *                  failed statements), read from the server itself.
 * and the replicas (how many follow the new primary with both threads running).
 *
 * A trigger (watch_error_rate, watch_p95, watch_failed_per_min) breached `hysteresis` samples in
 * a row raises the alarm watch_trigger, or with watch_action = reverse starts a switchover back
 * to the old primary — only when going back is provably safe: the same release series, the old
 * primary replicating from the new one with both threads and within max_lag, not held at a
 * fence point (a data check not passed), the cluster free.  Otherwise the alarm says why it
 * will not.  One reverse per watch; the reverse is not watched again.
 *
 * The watch is journaled ("watch", on/off) and resumes after a restart; status and /metrics
 * show it, its remaining time and each trigger's value. */
#ifndef CUTOVER_AFTERWATCH_H
#define CUTOVER_AFTERWATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct cluster;
struct afterwatch;

enum watch_trigger { WT_ERROR_RATE, WT_P95, WT_FAILED_PER_MIN, WT__COUNT };

/* A switchover `id` from old to new is done (upgrade: new runs a newer series).  Nothing when
 * the cluster's watch is 0 or the switchover was the watch's own reverse. */
void afterwatch_start(struct daemon *d, struct cluster *c, const char *id, const char *old_name, const char *new_name,
		      bool upgrade, bool by_watch);
/* After each evaluation of the cluster (watchdog.c): sample, end, trigger. */
void afterwatch_evaluate(struct daemon *d, struct cluster *c);
void afterwatch_replay(struct daemon *d, struct cluster *c, const json_t *entry);
/* The cluster's watch as the leader keeps it in etcd ([ha]; ha_journal.c): the journal's "on"
 * entry and whether it acted, or null (new reference). */
json_t *afterwatch_state(const struct cluster *c);
/* A new leader takes etcd's watch (afterwatch_state's form, or null) as the cluster's: it goes
 * on watching for the time left, or stops the one this member had (journaled either way). */
void afterwatch_adopt(struct daemon *d, struct cluster *c, const json_t *state);
void afterwatch_rebind(struct afterwatch *w, struct cluster *c);
void afterwatch_free(struct afterwatch *w);
/* {"switchover", "old_primary", "new_primary", "since", "until", "remaining_s", "action", "state",
 *  "triggers": [{"name", "value", "limit", "breached", "source"}], "replicas_following", "why"}. */
json_t *afterwatch_json(const struct afterwatch *w);
const char *watch_trigger_name(enum watch_trigger t);
/* The value now (NAN unknown), its limit, whether breached, the remaining seconds (-1: no watch). */
double afterwatch_value(const struct afterwatch *w, enum watch_trigger t);
double afterwatch_limit(const struct cluster *c, enum watch_trigger t);
double afterwatch_remaining_s(const struct afterwatch *w);

/* The pure parts (tests/check_afterwatch.c): the p95 of the difference of two cumulative
 * histograms (router.h buckets), in ms; NAN below min_count samples. */
double watch_p95_ms(const long long *before, const long long *after, long long min_count);

#endif
