/* The ProxySQL driver's insides, shared by router_proxysql.c (the admin connection, batches
 * run on it, and the poll) and router_proxysql_switch.c (drain, promote, rollback, finalize). */
#ifndef CUTOVER_ROUTER_PROXYSQL_IMPL_H
#define CUTOVER_ROUTER_PROXYSQL_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "db.h"
#include "proxysql_sql.h"
#include "router.h"

typedef void (*ps_fn)(struct router *r);
typedef void (*ps_next_fn)(struct router *r, const struct db_result *res);

struct ps_priv {
	struct db *db;
	char label[160];
	/* What the connection was given, to notice a reload that changes it. */
	struct psql_endpoint t_ep;
	char *t_user, *t_pass;      /* owned; t_pass wiped */

	struct event *kick;         /* zero timeout: runs kick_fn from the loop */
	ps_fn kick_fn;
	char **batch;               /* owned: the statements of the running batch */
	size_t nbatch;
	ps_next_fn next;

	/* The operation. */
	router_cb cb;
	void *arg;
	enum router_step step;
	char old_name[64], new_name[64];
	char id[64];                /* the switchover's id, "" if none */
	struct psql_endpoint old, new_;
	struct psql_plan plan;
	bool retried;
	int defer_err;
	char defer_msg[512];

	/* The restore point: mysql_servers as drain (or promote) found it, for this switchover. */
	bool have_snap;
	struct psql_snapshot snap;
	struct psql_endpoint snap_old, snap_new;
	char snap_id[64];
	bool monitor;               /* the last snapshot found mysql_replication_hostgroups for us */
	int64_t settle_end_ms;      /* drain: how long to wait for queries already sent to the old primary */
	int64_t settle_start_ms;

};

/* router_proxysql.c: start an operation from the loop with `start` (false: refused, reported
 * from the loop), end it, run statements from the loop with their continuation, and describe
 * a failed batch. */
bool ps_begin(struct router *r, enum router_step step, router_cb cb, void *arg, ps_fn start);
void ps_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ps_run(struct router *r, const char *const *sql, size_t n, ps_next_fn next);
void ps_db_error(struct router *r, const struct db_result *res, char *buf, size_t len);

/* router_proxysql_switch.c: the switchover's steps of router_proxysql_ops */
void ps_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void ps_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void ps_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void ps_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

#endif
