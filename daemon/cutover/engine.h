/* The cutover engine's insides, shared by the files of daemon/cutover/: the plans (plan.c),
 * the engine that runs them (engine.c, with engine_routers.c and engine_pause.c), one file per
 * step, the undo chain (rollback.c), the recovery after a restart (recovery.c), the report
 * (report.c) and the API commands (cmd*.c).  Not for anyone else: the public face is
 * switchover.h. */
#ifndef CUTOVER_ENGINE_H
#define CUTOVER_ENGINE_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "flavor.h"
#include "gtid.h"
#include "journal.h"
#include "log.h"
#include "router.h"

struct db;
struct db_result;
struct fence_op;
struct router_call;
struct journal;
struct job;

enum phase { PH_PREFLIGHT, PH_DRAIN, PH_CATCHUP, PH_FENCE, PH_SYNC, PH_PROMOTE, PH_VERIFY, PH__COUNT };
enum sw_state { SW_RUNNING, SW_PAUSED, SW_ROLLING_BACK, SW_DONE, SW_ROLLED_BACK, SW_FAILED, SW_INTERRUPTED };

#define MAX_REPLICAS 64
#define POLL_STEP_MS 20

/* What becomes of each of the other replicas (sw->reps): set when the cutover is made and by
 * preflight, done by promote, checked by verify. */
enum rep_fate {
	REP_FOLLOW,             /* it follows the new primary */
	REP_LEAVE_AT_FENCE,     /* too old to follow it (allow_older_replicas): stopped at the fence point, held */
	REP_HELD,               /* already held at an earlier fence point (held.h): left as it is */
};

struct switchover;

/* One step of a plan (plan.c). */
struct step {
	enum phase phase;
	void (*enter)(struct switchover *sw);
	bool durable;                   /* its journal entry is on disk (fsync) before it acts */
	int (*deadline_ms)(const struct switchover *sw);   /* the whole step, held by the engine */
};

struct plan {
	const char *kind;               /* "switchover", "failover" */
	const struct step *steps;
	size_t n;
};

extern const struct plan plan_switchover, plan_failover;
/* The index of the step of phase ph in p, or -1. */
int plan_index(const struct plan *p, enum phase ph);

/* One database call of a cutover in flight on one of its connections (engine.c, sw_db_run). */
struct sw_call {
	struct switchover *sw;
	struct db *db;
	void (*fn)(struct db *db, struct db_result *res, void *arg);
	unsigned epoch;
};

/* Who is told what a cutover does, beyond the log and daemon_publish: set by the command that
 * started it.  progress gets each progress line (borrowed); finished, once, the outcome
 * ("done", "refused", "rolled_back", "failed", "dry_run") and the report (borrowed). */
struct sw_observer {
	void (*progress)(struct switchover *sw, json_t *line, void *arg);
	void (*finished)(struct switchover *sw, const char *outcome, json_t *report, void *arg);
	void *arg;
};

struct phase_rec {
	int64_t start_us, end_us;   /* monotonic; 0 = not entered / not ended */
	bool ok;
};

struct switchover {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *old_name, *new_name;      /* owned; servers are looked up again after a reload */
	struct server *old, *cand;      /* borrowed */
	const struct plan *plan;        /* what it runs */
	size_t step;                    /* the current step of the plan */
	enum phase phase;               /* = plan->steps[step].phase */
	enum sw_state state;            /* changed by sw_set_state only */
	unsigned epoch;                 /* bumped when it stops going forward: callbacks of an older one are dropped */
	struct event *step_timer;       /* the current step's deadline */
	int ha_wait_step;               /* 1 + the step waiting for etcd to have its record (ha.h); 0: none */
	struct sw_call calls[MAX_REPLICAS + 8];
	struct router_call *rcalls;     /* router calls in flight (engine_routers.c) */
	struct phase_rec rec[PH__COUNT];
	int64_t started_us, started_real_us;

	/* options */
	bool dry_run, reverse, allow_unreachable;
	bool allow_older_replicas;      /* replicas of an older release series than the candidate are left at the fence point */
	int max_lag_ms, drain_timeout_ms, sync_timeout_ms;
	int kill_long_after_ms;         /* drain: kill write statements older than this (0: wait for them) */
	int pause_before;               /* phase index, -1 none */
	bool pause_requested, abort_requested;
	int pause_timeout_ms;           /* the request's limit of a pause; 0: the cluster's (sw_pause) */
	struct event *pause_timer;      /* the pause in force ends with a rollback when it fires */
	int pause_limit_ms;             /* that pause's limit */
	int64_t paused_real_us;         /* when it began (wall clock, for status) */

	/* connections of our own (the pollers' are busy polling) */
	struct db *db_old, *db_kill, *db_cand;
	struct db *db_probe;            /* verify's write through the router */
	struct db *db_rep[MAX_REPLICAS];
	struct server *reps[MAX_REPLICAS];
	enum rep_fate rep_fate[MAX_REPLICAS];
	size_t n_reps;

	/* an upgrade: the candidate runs a newer release series (preflight) */
	bool upgrade;
	json_t *upgrade_info;           /* for the report: the versions, what is kept at the fence point */
	long long versioned_tables;     /* system-versioned tables on the old primary, -1 not read */
	char *versioned_names;          /* owned: the first few of them */
	char *versioned_error;          /* owned: why they could not be listed */

	/* what has been changed, for rollback */
	bool drained, fence_started, fenced, promote_started, pnr, routed;
	unsigned long fence_tid;
	char *fence_point;              /* owned */
	int64_t fence_start_us, routed_us;
	int64_t window_start_us;        /* new work held or refused from here: the fence, or the
					 * drain of the routers that hold, just before it */
	int holding_drains;             /* such routers still draining before the fence */
	bool held_first;                /* there were such routers: the window started with them */
	int64_t fence_deadline_us;      /* the fence keeps trying until then (fence_timeout) */
	int fence_attempts;             /* tries of the fence (one unless it was held up) */
	double fence_stalls_ms;         /* the longest a try that was undone held writes up */
	int router_drains;              /* routers still draining (started at the fence) */
	bool promote_waiting;           /* promote waits for them */
	char *drain_error;              /* owned: why a router could not drain */
	char *long_writes_seen;         /* owned: drain's last word on what it waits for */

	/* bookkeeping for parallel steps */
	int pending, failures;
	char *first_failure;            /* owned */
	int64_t deadline_us;
	struct event *timer;
	int hook_index;

	json_t *checks;                 /* preflight checks */
	char *reason;                   /* why it rolled back / failed */
	struct journal *journal;
	struct sw_observer obs;         /* who hears of it (cmd.c: the requester); the engine knows no socket */
	struct router_switch rsw;
	struct server_status fresh_old, fresh_cand;   /* preflight's own reads */
	json_t *privileged;             /* accounts read_only does not stop */
	int64_t catchup_started_us;
	bool verify_waiting;

	/* failover: the old primary is dead */
	bool failover, automatic, assume_fenced, without_routers;
	char *deferred_failure;         /* owned: a failure past the point of no return; independent steps still run */
	bool cand_io_stopped;           /* STOP SLAVE IO_THREAD ran on the candidate */
	bool cand_safe;                 /* rollback: the candidate confirmed it is read-only */
	bool fresh_polled, awaiting_fresh;   /* a failure waits for one fresh poll before its report */
	int64_t fresh_since_us;         /* monotonic: observations must come from polls started since */
	char **kills;                   /* owned: KILL statements for the old primary's client sessions */
	size_t n_kills, kill_next;
	unsigned long long *kill_ids;   /* owned: the connection ids of those KILL statements */
	void (*cut_then)(struct switchover *);   /* what follows cutting them (NULL: nothing) */
	bool holding;                   /* db_old holds every commit on the old primary (flavor SQL_HOLD_*) */
	json_t *privileged_users;       /* user names read_only does not stop on the old primary */
	const char *milestone;          /* static: set right before the sw_emit that marks a step of the whole */
	json_t *errant;                 /* replicas left alone because they hold transactions the new primary lacks */
	struct job *job;                /* a running preflight hook */
	struct fence_op *fence_op;      /* the failover's fence of the dead primary (../fence.c) */
	char *journal_error;            /* owned: why the last journal entry could not be written */
	struct datacheck *dc;           /* the data check's snapshots at the fence point (datacheck.h), NULL if off */
	bool sync_waits_dc;             /* sync is done and waits for them */
	bool hold_old;                  /* the old primary follows the new one only once the check passed */
	bool by_watch;                  /* started by the watch after a switchover (afterwatch.h) */
	bool recovering;                /* the undo chain runs for a cutover found in the journal at start-up */
};


extern const char *const phase_names[PH__COUNT];
extern const char *const state_names[];

/* The steps (one file each; f_: the failover's own). */
void enter_preflight(struct switchover *sw);
void enter_drain(struct switchover *sw);
void enter_catchup(struct switchover *sw);
void enter_fence(struct switchover *sw);
void enter_sync(struct switchover *sw);
void enter_promote(struct switchover *sw);
void enter_verify(struct switchover *sw);
/* The data check's sessions connect (sync.c), when the cluster wants one. */
void sw_datacheck_prepare(struct switchover *sw);
void f_enter_preflight(struct switchover *sw);
void f_enter_fence(struct switchover *sw);
void f_enter_sync(struct switchover *sw);

/* The write statements on the old primary running longer than the fence budget, rows (id, user,
 * time_ms, info), to fn (drain.c; the fence uses it between tries too). */
void sw_list_long_writes(struct switchover *sw, void (*fn)(struct db *, struct db_result *, void *));

/* The old primary's client sessions that could still commit (and all of them with
 * kill_sessions) are cut, then `then` runs (NULL: nothing); fence.c. */
void sw_cut_sessions(struct switchover *sw, void (*then)(struct switchover *));
void sw_kills_clear(struct switchover *sw);

/* Choosing the new primary (candidate.c): a switchover's best candidate (a healthy direct
 * replica of the primary, `prefer` first, least lag, most advanced) and a failover's (the
 * replica that received the most from the dead primary); NULL if none qualifies. */
struct server *candidate_best(struct cluster *c, int max_lag_ms);
struct server *candidate_most_advanced(struct cluster *c, const struct server *old);

/* What the engine does to the world outside the daemon, in one place: the real database calls
 * and polls, or a test's scripted cluster (tests/check_engine.c). */
struct sw_io {
	int (*db_run)(struct db *db, const char *const *sql, size_t n, int timeout_ms,
		      void (*fn)(struct db *, struct db_result *, void *), void *arg);
	void (*poll_now)(struct daemon *d, struct cluster *c);
	void (*cancel)(struct db *db);   /* abandon the running batch: its callback never comes */
};
extern struct sw_io sw_io;

/* The one function that changes a cutover's state: logs "from → to (why)", stops the timers,
 * and — when it stops going forward (rollback, the end) — bumps the epoch, so that what was in
 * flight before is dropped when it answers. */
void sw_set_state(struct switchover *sw, enum sw_state to, const char *why);
/* The guarded database calls of a cutover: fn(db, res, sw) runs only if the cutover's state
 * has not changed since the call was made (else the result is dropped).  -1 if db is busy. */
int sw_db_run(struct switchover *sw, struct db *db, const char *const *sql, size_t n, int timeout_ms,
	      void (*fn)(struct db *, struct db_result *, void *));
int sw_db_run1(struct switchover *sw, struct db *db, const char *sql, int timeout_ms,
	       void (*fn)(struct db *, struct db_result *, void *));

void sw_phase_begin(struct switchover *sw, enum phase ph);
/* Pausing (engine_pause.c).  sw_pause holds before `next` until resume, abort or the pause's
 * limit (sw_phase_next, when one was asked for). */
void sw_pause(struct switchover *sw, enum phase next);
/* Go on with a paused cutover (the resume command). */
void sw_resume(struct switchover *sw);
/* Whether a pause now would block writes: past the fence (or in a failover, whose primary is
 * dead), no server takes them until the cutover goes on. */
bool sw_pause_blocks_writes(const struct switchover *sw);
void sw_phase_next(struct switchover *sw);
void sw_phase_failed(struct switchover *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sw_should_stop(struct switchover *sw);
void sw_rollback_start(struct switchover *sw);
void sw_finish(struct switchover *sw, enum sw_state st);
void sw_emit(struct switchover *sw, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sw_add_check(struct switchover *sw, const char *name, bool ok, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int sw_failed_checks(const struct switchover *sw);
char *sw_failed_list(const struct switchover *sw);
bool sw_refused(struct switchover *sw);
int sw_journal(struct switchover *sw, enum journal_event ev, bool durable, json_t *extra);
struct db *sw_open_db(struct switchover *sw, const struct server *s);
const struct flavor_ops *sw_flavor_of(const struct server *s);
enum gtid_kind sw_gtid_kind_of(const struct server *s);
const struct cfg_cluster *sw_ccfg(const struct switchover *sw);
struct log_ctx sw_lctx(const struct switchover *sw);
double sw_ms_since(int64_t start_us);
void sw_set_failure(struct switchover *sw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sw_clear_failures(struct switchover *sw);
void sw_timer_arm(struct switchover *sw, int ms, event_callback_fn cb);
void sw_timer_stop(struct switchover *sw);
/* Router calls (engine_routers.c): op (NULL = poll) on every router of the cluster, `done` once
 * per router; the number of routers called. */
int sw_routers_each(struct switchover *sw, size_t op_offset, router_cb done);
/* The same on the routers whose ops->holds is `holds` only. */
int sw_routers_some(struct switchover *sw, size_t op_offset, router_cb done, bool holds);
/* How long new writes were blocked (window_start_us → routed), -1 if they were not. */
double sw_blocked_ms(const struct switchover *sw);
/* switchover_free: router calls still in flight are dropped when they answer. */
void sw_router_calls_detach(struct switchover *sw);
#define ROUTER_OP(field) offsetof(struct router_ops, field)
/* Replicas following the new primary (promote.c): sw_follow repoints one (counting itself in
 * sw->pending); whoever added to pending calls sw_follower_finished once done.  f_follow (the
 * failover's) checks for errant transactions first. */
void sw_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote);
/* Whether the new primary takes TLS (1), does not (0), or is not known (-1): what a replica's
 * CHANGE MASTER states (flavor_change_source_sql). */
tristate sw_source_tls(const struct switchover *sw);
void sw_follower_finished(struct switchover *sw);
void f_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote);
/* An upgrade's versions and what it keeps at the fence point, for the report (report.c):
 * {"from", "to", "from_version", "to_version", "old_primary_kept", "left_at_fence_point":
 * [{"server", "version"[, "stopped_at", "reached"]}]}.  Borrowed (sw->upgrade_info). */
json_t *sw_upgrade_info(struct switchover *sw);
/* The fate of server s if it is one of the other replicas (REP_FOLLOW otherwise). */
enum rep_fate sw_rep_fate(const struct switchover *sw, const struct server *s);
/* Preflight's fresh read of the candidate (variables, replica status), for both kinds. */
void sw_run_cand_status(struct switchover *sw, void (*fn)(struct db *, struct db_result *, void *));
bool sw_take_cand_status(struct switchover *sw, const struct db_result *res);
/* A new switchover record on cluster c (not yet started): ids, connections, journal. */
struct switchover *sw_new(struct daemon *d, struct cluster *c, struct server *old, struct server *cand,
			  char *err, size_t errlen);
/* Its own connections to the old primary, the candidate and the other replicas. */
void sw_connect(struct switchover *sw);
/* The undo chain of a recovered cutover ended (recovery.c): ok, or why not. */
void switchover_recovered(struct switchover *sw, bool ok, const char *why);
/* Start it: journal "begin", run the first step; obs (may be NULL) hears of it. */
void sw_start(struct switchover *sw, const struct sw_observer *obs, json_t *begin_extra);

#endif
