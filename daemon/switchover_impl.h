/* The switchover engine's insides, shared by switchover.c (the planned switchover) and
 * failover.c (the emergency failover, which skips drain and catch-up and fences a dead
 * primary by SQL or STONITH).  Not for anyone else: the public face is switchover.h. */
#ifndef CUTOVER_SWITCHOVER_IMPL_H
#define CUTOVER_SWITCHOVER_IMPL_H

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
struct journal;
struct job;
struct client;

enum phase { PH_PREFLIGHT, PH_DRAIN, PH_CATCHUP, PH_FENCE, PH_SYNC, PH_PROMOTE, PH_VERIFY, PH__COUNT };
enum sw_state { SW_RUNNING, SW_PAUSED, SW_ROLLING_BACK, SW_DONE, SW_ROLLED_BACK, SW_FAILED, SW_INTERRUPTED };

#define MAX_REPLICAS 64
#define POLL_STEP_MS 20

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
	enum phase phase;
	enum sw_state state;
	struct phase_rec rec[PH__COUNT];
	int64_t started_us, started_real_us;

	/* options */
	bool dry_run, reverse, allow_unreachable;
	int max_lag_ms, drain_timeout_ms, sync_timeout_ms;
	int pause_before;               /* phase index, -1 none */
	bool pause_requested, abort_requested;

	/* connections of our own (the pollers' are busy polling) */
	struct db *db_old, *db_kill, *db_cand;
	struct db *db_rep[MAX_REPLICAS];
	struct server *reps[MAX_REPLICAS];
	size_t n_reps;

	/* what has been changed, for rollback */
	bool drained, fence_started, fenced, promote_started, pnr, routed;
	unsigned long fence_tid;
	char *fence_point;              /* owned */
	int64_t fence_start_us, routed_us;

	/* bookkeeping for parallel steps */
	int pending, failures;
	char *first_failure;            /* owned */
	int64_t deadline_us;
	struct event *timer;
	int hook_index;

	json_t *checks;                 /* preflight checks */
	char *reason;                   /* why it rolled back / failed */
	struct journal *journal;
	struct client *client;          /* the requester, held; NULL once gone */
	json_t *req_id;
	struct router_switch rsw;
	struct server_status fresh_old, fresh_cand;   /* preflight's own reads */
	json_t *privileged;             /* accounts read_only does not stop */
	int64_t catchup_started_us;
	bool verify_waiting;

	/* failover (failover.c): the old primary is dead */
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
	struct job *job;                /* a running fence or STONITH hook */
	bool hook_is_stonith, hooks_failed;
	char *fence_sql_error;          /* owned: why the SQL fence of the dead primary failed */
	char *journal_error;            /* owned: why the last journal entry could not be written */
	bool recovering;                /* the undo chain runs for a cutover found in the journal at start-up */
};


extern const char *const phase_names[PH__COUNT];
extern const char *const state_names[];

/* The phase machine (switchover.c).  failover.c supplies its own enter functions for the
 * phases it does differently (NULL: the switchover's) and the order it runs them in. */
extern void (*const failover_enter[PH__COUNT])(struct switchover *);
enum phase sw_next_phase(const struct switchover *sw, enum phase cur);

void sw_phase_begin(struct switchover *sw, enum phase ph);
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
int sw_routers_each(struct switchover *sw, size_t op_offset, router_cb done);
#define ROUTER_OP(field) offsetof(struct router_ops, field)
/* Replicas following the new primary (switchover.c): sw_follow repoints one (counting itself in
 * sw->pending); whoever added to pending calls sw_follower_finished once done.  f_follow
 * (failover.c) checks for errant transactions first. */
void sw_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote);
void sw_follower_finished(struct switchover *sw);
void f_follow(struct switchover *sw, struct db *db, const struct server *s, bool demote);
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
/* Start it: hold the client (may be NULL), journal "begin", run the first phase. */
void sw_start(struct switchover *sw, struct client *cl, json_t *req_id, json_t *begin_extra);

#endif
