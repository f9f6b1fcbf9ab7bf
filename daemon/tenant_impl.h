/* The tenant move's insides, shared by tenant.c (the move as a whole), tenant_batch.c (a batch
 * up to its fence, and its end), tenant_fence.c (the fence, the release and the undo in ProxySQL),
 * tenant_cut.c (what runs while a batch is fenced), tenant_start.c (the checks before anything
 * changes, and the start) and tenant_recover.c (after a restart).  See tenant.h for what a move
 * does. */
#ifndef CUTOVER_TENANT_IMPL_H
#define CUTOVER_TENANT_IMPL_H

#include "tenant.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "proxysql_sql.h"
#include "router.h"

#include <event2/event.h>
#include <stdint.h>

#define TM_CUT_POLL_MS 2         /* the tenants' sessions on the source, looked at until gone */
#define TM_STEP_SLACK_MS 2000    /* a statement's deadline beyond the time it may take */
#define TM_NOTE_EVERY_MS 60000   /* a progress line through a long pause or catch-up */

enum tm_state { TM_CHECKING, TM_RUNNING, TM_PAUSED, TM_DONE, TM_STOPPED, TM_FAILED, TM_REFUSED };
extern const char *const tm_state_names[];

/* The steps of a batch, in order (tenant.h). */
enum tm_step { ST_PREPARE, ST_TABLES, ST_CATCHUP, ST_FENCE, ST_CUT, ST_SYNC, ST_VERIFY, ST_PROBE, ST_RELEASE, ST_IDLE };
extern const char *const tm_step_names[];

enum tt_outcome { TT_PENDING, TT_MOVED, TT_ROLLED_BACK, TT_SKIPPED };
extern const char *const tt_names[];

struct tm_tenant {
	char *name, *tier, *schema;       /* owned; schema: where its tables are */
	enum tt_outcome outcome;
	char *reason;                     /* owned: why it rolled back */
	double blocked_ms;                /* -1: never held */
	json_t *tables;                   /* owned: its base tables (names) */
	long long rows_src, rows_dst;     /* -1: not counted */
	int batch;                        /* 1-based; 0 before */
};

struct tenant_move {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *target, *router, *source;   /* owned: names */
	struct tenant_opts o;             /* o.names/o.tiers are not kept: see t[] */
	enum tm_state state;
	enum tm_step step;
	bool abort_requested, pause_requested;
	char *reason;                     /* owned: why it stopped or failed */
	struct {                          /* a router change waiting for etcd to have the journal (ha.h) */
		bool on, head;
		const struct psql_plan *p;
		int timeout_ms;
		db_done_fn fn;
	} wait;
	struct tm_tenant *t;              /* owned, o.n */
	size_t n;
	struct tenant_route *routes;      /* owned, n: each tenant's rule and hostgroup */
	struct psql_endpoint src_ep, dst_ep;
	const struct flavor_ops *src_fl, *dst_fl;
	struct db *adm, *src, *dst;
	struct psql_plan plan;
	struct psql_plan fplan;           /* the fence's: its read-back runs beside the cut */
	bool fence_ok;                    /* that read-back agreed (or was abandoned for an undo) */
	bool release_waiting;             /* the release waits for it */
	struct event *timer;
	/* the batch running: indexes into t[] */
	size_t *cur;
	size_t n_cur, next;               /* next: the first tenant of the next batch */
	int batches;
	bool *pass;                       /* per cur[]: its check passed */
	int64_t fence_us, deadline_us;    /* monotonic: the fence's LOAD sent; when it must be released */
	int64_t step_us[ST_IDLE];
	int64_t released_us;              /* monotonic: the release's LOAD answered */
	int64_t catchup_t0, catchup_deadline, catchup_noted;
	int64_t next_batch_us;            /* monotonic: the end of the pause between batches */         /* monotonic: when each step of the batch running began, 0: not yet */
	char *fence_pos;                  /* owned */
	unsigned long long *kill_ids;
	char cut_waited[200];             /* the last session the cut waited for, "" none: why a cut was long */
	size_t n_kill, kill_next;
	json_t *counts[2];                /* per side: rowsets as {schema: rows} */
	int pending;                      /* checks / counts still running */
	char *check_err;                  /* owned: the first check that failed */
	char *dst_domain;                 /* owned: the target's gtid_domain_id (MariaDB), NULL unknown */
	int64_t started_us;
	struct journal *journal;
	struct client *cl;
	json_t *req_id;
	struct rowset *rules;             /* the start's checks */
	struct psql_snapshot servers;
	struct rowset *users;
};

/* tenant.c */
void tm_emit(struct tenant_move *m, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A journal entry of the move (kind tenant_move), durable: 0, or -1 (logged) when it was not written. */
int tm_jrnl(struct tenant_move *m, enum journal_event ev, json_t *extra);
void tm_finish(struct tenant_move *m, enum tm_state st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t tm_count_outcome(const struct tenant_move *m, enum tt_outcome o);
/* tenant_batch.c */
/* A step of the batch begins (its first time counts). */
void tm_enter(struct tenant_move *m, enum tm_step st);
void tm_arm(struct tenant_move *m, int ms);
int tm_q_timeout(const struct tenant_move *m);
/* 'a', 'b': the batch's schemas, or its users, quoted for SQL (new string) */
char *tm_batch_list(const struct tenant_move *m, bool users);
/* The batch's routes in cur[] order, a shallow copy for the plan builders (free the array only). */
struct tenant_route *tm_batch_routes(const struct tenant_move *m);
/* The batch's tenants for the journal, which: -1 all, 1 passed, 0 failed. */
json_t *tm_batch_names(const struct tenant_move *m, int which);
void tm_batch_next(struct tenant_move *m);
void tm_batch_done(struct tenant_move *m);
void tm_tick(evutil_socket_t fd, short what, void *arg);
/* tenant_fence.c */
bool tm_plan_failed(struct tenant_move *m, struct db_result *res, char *why, size_t len);
void tm_run_plan(struct tenant_move *m, int timeout_ms, db_done_fn fn);
void tm_step_fence(struct tenant_move *m);
void tm_release(struct tenant_move *m);
/* The whole batch back to the source (before its release). */
void tm_batch_undo(struct tenant_move *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* tenant_cut.c */
void tm_cut(struct tenant_move *m);
/* `db`.tenant_moves on the target (the heartbeat table's database), new string */
char *tm_probe_table(const struct tenant_move *m);
/* tenant_start.c */
struct tenant_move *tm_move_new(struct daemon *d, struct cluster *c, const char *target, const char *source,
				const char *router, size_t n, char *err, size_t errlen);

#endif
