/* The read shift's insides, shared by shift.c (its options, what it says, abort, pause and resume),
 * shift_steps.c (the steps, their gates, the rollback and the end), shift_start.c (the start) and
 * shift_recover.c (after a restart).  See shift.h for what a shift does. */
#ifndef CUTOVER_SHIFT_IMPL_H
#define CUTOVER_SHIFT_IMPL_H

#include "shift.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "proxysql_sql.h"
#include "router.h"

#include <event2/event.h>
#include <stdint.h>

enum sh_state { SH_RUNNING, SH_PAUSED, SH_ROLLING_BACK, SH_DONE, SH_ROLLED_BACK, SH_FAILED };

struct shift {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *target, *router;            /* owned: names */
	struct psql_endpoint ep;          /* the target as ProxySQL knows it */
	struct shift_opts o;              /* o.to / o.router point at the two above */
	size_t idx;                       /* the step being applied or held */
	int in_force;                     /* the share ProxySQL runs now (0 before the first step's LOAD) */
	enum sh_state state;
	bool abort_requested;
	char *reason;                     /* owned: why it rolled back or failed */
	struct db *db;
	json_t *snap_rows;                /* {"cols": [...], "rows": [[...]...]}: the reader hostgroup as it was */
	struct psql_snapshot snap;
	struct psql_plan plan;
	struct event *timer;
	int64_t started_us, hold_until_us, paused_us, noted_us;
	bool base_taken;                  /* the step's counters at its start */
	long long q0, e0, all0, lat0[ROUTER_LAT_BUCKETS];
	bool lat0_known;
	double odds;                      /* the correction learnt so far (1: none) */
	long long weight_now;             /* the target's weight in force, below 100 % */
	bool correcting;                  /* a corrected weight is being loaded */
	bool corr_base;                   /* qc0/allc0 taken since the weight in force */
	long long qc0, allc0;
	int64_t corr_us;                  /* when the weight in force was loaded */
	int corrections;                  /* of this step */
	json_t *steps_done;               /* per step: percent, observed share, gates */
	struct journal *journal;
	bool plan_waiting;                /* sh->plan runs once etcd has the journal (ha.h) */
	struct client *cl;                /* the requester, held until the end; NULL after a restart */
	json_t *req_id;
};

/* shift.c */
const char *sh_cluster_name(const struct shift *sh);
/* the share of the step being applied or held, 0 past the last */
int sh_step_pct(const struct shift *sh);
void sh_emit(struct shift *sh, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A journal entry of the shift (kind read_shift): 0, or -1 (logged) when it was not written. */
int sh_jrnl(struct shift *sh, enum journal_event ev, bool durable, json_t *extra);
/* shift_steps.c */
/* the shift's router among the cluster's, NULL when it is no longer configured */
struct router *sh_the_router(const struct shift *sh);
void sh_tick(evutil_socket_t fd, short what, void *arg);
void sh_step_apply(struct shift *sh);
void sh_rollback(struct shift *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sh_finish(struct shift *sh, enum sh_state st);
/* shift_start.c */
/* A shift with its journal open (NULL with why when it cannot be opened). */
struct shift *shift_new(struct daemon *d, struct cluster *c, const char *target, const char *router,
			char *err, size_t errlen);

#endif
