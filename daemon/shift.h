/* A read shift (canary): a growing share of a ProxySQL router's reader-hostgroup reads moves to
 * one server — 5 → 10 → 25 → 50 → 100 % by default — each step held while gates are watched.
 *
 * The shares are ProxySQL weights in the reader hostgroup (proxysql_sql.h, psql_plan_shift):
 * weight w against the other readers' sum S asks for w / (S + w) of the reads, whatever their
 * number and without a query rule (rules have no random split).  ProxySQL's own choice decides
 * what the target really serves — measured here 8.5 % at a 10 % step and 39 % at 50 % with the
 * weights alone — so the shift corrects them: every second of a hold, from 100 reads on, a share
 * served more than 1.5 points off the share asked multiplies the target's weight by the ratio
 * of the odds asked to the odds served, and the learnt factor carries to the next steps.  Each
 * step's report gives the share served under its final weight and over the whole hold.  At
 * 100 % the others are OFFLINE_SOFT.
 * Every step is computed from the hostgroup as it was when the shift began (a snapshot, kept
 * in the journal), and a rollback writes that snapshot back.
 *
 * The gates, read during each hold from what the poll already gathers: error_rate (the target's
 * errors over its queries in the reader hostgroup, from stats_mysql_errors, ConnERR and
 * Queries; from 20 queries on), p95 (ProxySQL's latency histogram, all hostgroups), lag
 * (cutoverd's heartbeat lag of the target).  One breached rolls the shift back to 0 % on its
 * own, saying which metric, its value and its limit.  Each step also records the share of the
 * reads the target really served (its Queries against the hostgroup's).
 *
 * One shift at a time per cluster, and not beside a switchover (cluster_busy); abort, pause
 * and resume act on it as on a switchover.  Its entries go to the cluster's journal with an id
 * and kind "read_shift", so history lists it; after a restart an unfinished shift is rolled
 * back to 0 % (the snapshot is in its journal). */
#ifndef CUTOVER_SHIFT_H
#define CUTOVER_SHIFT_H

#include <jansson.h>

#include "proto.h"
#include <stdbool.h>
#include <stddef.h>

struct daemon;
struct cluster;
struct client;
struct shift;


#define SHIFT_MAX_STEPS 16

struct shift_gates {
	double error_rate;      /* a fraction; < 0: no gate */
	int p95_ms;             /* < 0: no gate */
	int lag_ms;             /* < 0: no gate */
};

struct shift_opts {
	const char *to;         /* the target server */
	const char *router;     /* NULL: the cluster's only ProxySQL router */
	int steps[SHIFT_MAX_STEPS];
	size_t n_steps;
	int hold_ms;
	struct shift_gates gates;
};

/* "5,10,25,50,100": ascending, 1..100.  0, or -1 with why. */
int shift_parse_steps(const char *s, int *steps, size_t *n, char *err, size_t errlen);
/* "error_rate<1%,p95<500ms,lag<1s" (any of them, any order).  0, or -1 with why. */
int shift_parse_gates(const char *s, struct shift_gates *g, char *err, size_t errlen);

/* Start a shift on c for the client cl (its progress is streamed to it, then the report).
 * -1 with the reason (and the error code in *code) when it cannot start. */
int shift_start(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id, const struct shift_opts *o,
		enum err_code *code, char *err, size_t errlen);
bool shift_active(const struct shift *sh);
/* abort (roll back to 0 %), pause (the hold does not end), resume: 0, or -1 with why. */
int shift_abort(struct shift *sh, char *err, size_t errlen);
int shift_pause(struct shift *sh, char *err, size_t errlen);
int shift_resume(struct shift *sh, char *err, size_t errlen);
/* "read shift db3: 25 % (step 3 of 5)", static buffer. */
const char *shift_summary(const struct shift *sh);
const char *shift_id(const struct shift *sh);
json_t *shift_json(const struct shift *sh);
/* At start-up: an unfinished shift in a cluster's journal (`by`: journal_by_cutover's runs) is
 * rolled back to 0 %. */
void shift_recover(struct daemon *d, struct cluster *c, const json_t *by);
/* With [ha]: this member stopped leading; a running shift is left to the leader (freed). */
void shift_handover(struct daemon *d, struct cluster *c, const char *why);
void shift_free(struct shift *sh);
void shift_rebind(struct shift *sh, struct cluster *c);

#endif
