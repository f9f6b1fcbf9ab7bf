/* ProxySQL's admin interface as data: the statements cutoverd sends (built here and nowhere
 * else), the rowsets it reads back turned into router backends, and the check that runtime
 * took a change.  No I/O: router_proxysql.c runs the plans through db.c, tests/check_proxysql.c
 * checks them against ProxySQL 2.x's documented tables.
 *
 * The admin interface is SQLite behind the MySQL protocol, so string literals are escaped the
 * SQLite way (a quote is doubled; a backslash is an ordinary character) — which is why this
 * file does not use the MySQL-style sql_quote() of flavor.h. */
#ifndef CUTOVER_PROXYSQL_SQL_H
#define CUTOVER_PROXYSQL_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "router.h"
#include "rowset.h"

#define PSQL_DEFAULT_PORT 6032

/* Poll: one batch of three statements, parsed by psql_parse_view(). */
#define PSQL_SQL_RUNTIME_SERVERS \
	"SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers"
#define PSQL_SQL_POOL \
	"SELECT hostgroup, srv_host, srv_port, status, ConnUsed, ConnFree, ConnERR, Queries FROM stats_mysql_connection_pool"
/* errors the servers returned, per server; the latency histogram of every command */
#define PSQL_SQL_ERRORS \
	"SELECT hostgroup, hostname, port, SUM(count_star) AS errors FROM stats_mysql_errors GROUP BY hostgroup, hostname, port"
#define PSQL_SQL_LATENCY \
	"SELECT SUM(cnt_100us), SUM(cnt_500us), SUM(cnt_1ms), SUM(cnt_5ms), SUM(cnt_10ms), SUM(cnt_50ms), " \
	"SUM(cnt_100ms), SUM(cnt_500ms), SUM(cnt_1s), SUM(cnt_5s), SUM(cnt_10s), SUM(cnt_INFs) " \
	"FROM stats_mysql_commands_counters"
#define PSQL_SQL_REPL_HOSTGROUPS \
	"SELECT writer_hostgroup, reader_hostgroup, check_type FROM runtime_mysql_replication_hostgroups"
/* And two more: the configuration (to notice a change someone has not loaded) and whether our
 * admin user is also a mysql_users name (psql_admin_user_sql). */
#define PSQL_SQL_CONFIG_SERVERS \
	"SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM mysql_servers"
#define PSQL_SQL_LOAD "LOAD MYSQL SERVERS TO RUNTIME"
/* After a drain, how long the driver waits for the queries ProxySQL already sent to the old
 * primary (psql_in_flight_sql) before it lets the fence go on. */
#define PSQL_SETTLE_MS 50
#define PSQL_SQL_SAVE "SAVE MYSQL SERVERS TO DISK"

/* A backend address: ProxySQL's hostname and port. */
struct psql_endpoint {
	char host[256];
	int port;
};

/* "host:port" or "[v6]:port"; a bare host takes default_port (0 = a port is required).
 * 0, or -1 if malformed. */
int psql_parse_endpoint(const char *s, int default_port, struct psql_endpoint *e);
/* ProxySQL's "host:port" for cutoverd server `server` (the server map), and back; NULL if unmapped. */
const char *psql_name_of(const struct cfg_router *cfg, const char *server);
const char *psql_server_of(const struct cfg_router *cfg, const char *name);
/* A SQLite string literal, quotes included: O'Brien → 'O''Brien'.  New string. */
char *psql_literal(const char *s);

/* Fill v->be / v->n from the poll's three rowsets: the rows of the writer and reader
 * hostgroups, keyed by (hostgroup, host, port); sessions from the connection pool;
 * auto_failover_hostgroups when a replication-hostgroups row has our writer hostgroup.
 * pool and repl may be NULL.  Returns 0, or -1 with a message (a missing column, a row
 * that does not parse); v keeps what could be read. */
int psql_parse_view(const struct rowset *servers, const struct rowset *pool,
		    const struct rowset *repl, const struct cfg_router *cfg,
		    struct router_view *v, char *err, size_t errlen);
/* SELECT n: the client sessions with a query running on backend e (stats_mysql_processlist;
 * idle sessions holding a connection there are "Sleep"). */
char *psql_in_flight_sql(const struct psql_endpoint *e);
/* SELECT config, runtime: how often `user` is in mysql_users and in runtime_mysql_users. */
char *psql_admin_user_sql(const char *user);
/* v->pending, v->admin_clash and v->caution from the poll's runtime_mysql_servers, mysql_servers
 * and psql_admin_user_sql() rowsets (any may be NULL: that check is skipped).  Call it after
 * psql_parse_view: with v->auto_failover_hostgroups, rows the monitor moved are not a difference. */
/* The watch's counters (router.h): each backend's queries and errors from the pool (Queries,
 * ConnERR) and PSQL_SQL_ERRORS, and the latency histogram from PSQL_SQL_LATENCY (either may be
 * NULL: unknown). */
void psql_parse_counters(const struct rowset *pool, const struct rowset *errors, const struct rowset *latency,
			 struct router_view *v);
void psql_view_checks(const struct rowset *runtime, const struct rowset *config, const struct rowset *users,
		      const struct cfg_router *cfg, struct router_view *v);
/* Whether a runtime_mysql_replication_hostgroups rowset has a row for writer_hg: then
 * ProxySQL's monitor moves servers between the hostgroups by read_only. */
bool psql_auto_failover(const struct rowset *repl, int writer_hg);
/* What a mysql_servers status means for a backend (unknown text: neither). */
void psql_status_flags(const char *status, bool *admin_up, bool *healthy);
/* Shared by proxysql_sql.c and proxysql_view.c: a number in a cell (the admin interface answers
 * everything as strings), a case-insensitive status match, and the columns a rowset must have
 * (-1 with "table: no column 'x'"). */
bool psql_num(const struct rowset *rs, size_t row, int col, long long min, long long max, long long *out);
bool psql_status_is(const char *status, const char *want);
int psql_need_cols(const struct rowset *rs, const char *table, const char *const *names, int *idx, size_t n,
		   char *err, size_t errlen);

/* One mysql_servers row, every column, so that a rollback writes back exactly what was there. */
struct psql_server {
	int hostgroup;
	struct psql_endpoint ep;
	int gtid_port;
	char status[24];
	long long weight, compression, max_connections, max_replication_lag, use_ssl, max_latency_ms;
	char *comment;             /* owned */
};

struct psql_snapshot {
	struct psql_server *v;     /* owned */
	size_t n;
};

/* SELECT every column of mysql_servers for the writer (and reader, if >= 0) hostgroup; every
 * row when writer_hg < 0. */
char *psql_snapshot_sql(int writer_hg, int reader_hg);
/* The same for a router's switchover: its writer and reader hostgroups, and its tenant
 * hostgroups (tenant_hostgroups), which follow the primary: drain sets the old primary
 * OFFLINE_SOFT in those that hold it, promote puts the new one there in its place, rollback
 * and undrain put them back. */
char *psql_snapshot_sql_router(const struct cfg_router *cfg);
/* Parse that SELECT.  0, or -1 with a message (missing column, a value that is not a number). */
int psql_parse_snapshot(const struct rowset *rs, struct psql_snapshot *s, char *err, size_t errlen);
void psql_snapshot_free(struct psql_snapshot *s);
const struct psql_server *psql_snapshot_find(const struct psql_snapshot *s, int hostgroup,
					     const struct psql_endpoint *e);

/* What runtime_mysql_servers must show after a LOAD.  want: "ONLINE" (SHUNNED is accepted
 * too: that is health, not our change), "ABSENT" (no row, or OFFLINE_HARD, which is how
 * ProxySQL shows a server on its way out), "DRAINED" (OFFLINE_SOFT or ABSENT: with the monitor
 * on, it takes a read-only server out by itself), or any other status, matched exactly. */
struct psql_expect {
	int hostgroup;
	struct psql_endpoint ep;
	char want[24];
};

/* The statements of one step, in order; when the step changes mysql_servers, the last two are
 * LOAD MYSQL SERVERS TO RUNTIME (finalize: then SAVE … TO DISK) and the read-back of runtime,
 * whose rowset psql_check_runtime() compares with exp. */
struct psql_plan {
	char **sql;                /* owned */
	size_t n;
	struct psql_expect *exp;   /* owned */
	size_t nexp;
	char note[512];            /* what the plan decided, for the step's message */
};

void psql_plan_free(struct psql_plan *p);
/* Building plans (shared with proxysql_tenant.c): a statement (taken), an expectation of the
 * read-back, LOAD MYSQL SERVERS TO RUNTIME and the read-back, a note; the WHERE clause of one
 * row and the INSERT of a row with every column. */
void psql_plan_add(struct psql_plan *p, char *sql);
void psql_plan_expect(struct psql_plan *p, int hg, const struct psql_endpoint *e, const char *want);
void psql_plan_load_and_read(struct psql_plan *p);
void psql_plan_note(struct psql_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *psql_row_where(int hg, const struct psql_endpoint *e);
char *psql_insert_sql(const struct psql_server *s, bool or_replace);
/* 0 when runtime matches every expectation; -1 with each mismatch described in msg. */
int psql_check_runtime(const struct rowset *runtime, const struct psql_expect *exp, size_t n,
		       char *msg, size_t msglen);

/* drain: the old primary OFFLINE_SOFT in the writer hostgroup.  Fails when the snapshot has no
 * such row (ProxySQL does not route writes to it: the routing is not what cutoverd believes),
 * unless `monitor` (mysql_replication_hostgroups covers the writer hostgroup): then the monitor
 * took the fenced server out already and the plan is empty. */
int psql_plan_drain(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		    const struct psql_endpoint *old, bool monitor, struct psql_plan *plan, char *err, size_t errlen);
/* promote: the old primary's row DELETEd from the writer hostgroup and the new primary's
 * INSERTed ONLINE (INSERT OR REPLACE: the monitor may have put it there already) with the old
 * row's weight, max_connections, max_replication_lag, max_latency_ms, compression and use_ssl,
 * and the new server's own gtid_port and comment when it has a row in the snapshot.  When the
 * writer hostgroup keeps other servers OFFLINE_SOFT (and no monitor), the old primary stays as
 * one of them, OFFLINE_SOFT, instead of being removed. */
int psql_plan_promote(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		      const struct psql_endpoint *old, const struct psql_endpoint *new_, bool monitor,
		      struct psql_plan *plan, char *err, size_t errlen);
/* Hostgroup hg's rows DELETEd and the snapshot's rows of hg INSERTed back; `extra` (may be
 * NULL), when the snapshot has no row for it there, is expected ABSENT. */
int psql_plan_restore(const struct psql_snapshot *snap, int hg, const struct psql_endpoint *extra,
		      struct psql_plan *plan);
/* A read shift (shift.h): `percent` of the reader hostgroup's reads to `target`.  Below 100 the
 * target's row (INSERT OR REPLACE, ONLINE; its own settings when the snapshot has a row for it,
 * else the first other reader's) gets the weight w for which w / (sum of the other ONLINE
 * readers' weights + w) is the share asked, times `odds` (1: none; the correction the shift
 * learnt from what ProxySQL really served: see shift.h), returned in *weight; at 100 the other
 * readers are OFFLINE_SOFT.  When the other readers' weights add up to less than
 * PSQL_SHIFT_BASE they are multiplied alike, for a fine enough share.  snap is the hostgroup as it was before the shift: every step is
 * computed from it, not from the step before. */
#define PSQL_MAX_WEIGHT 10000000
#define PSQL_SHIFT_BASE 10000   /* the other readers' weights are scaled up to at least this */
int psql_plan_shift(const struct cfg_router *cfg, const struct psql_snapshot *snap, const struct psql_endpoint *target,
		    int percent, double odds, long long *weight, struct psql_plan *plan, char *err, size_t errlen);
/* The target's weight alone (a correction during a hold: shift.h), then LOAD and the read-back. */
int psql_plan_weight(const struct cfg_router *cfg, const struct psql_endpoint *target, long long weight,
		     struct psql_plan *plan);
/* rollback: the writer hostgroup's rows DELETEd, the snapshot's writer rows INSERTed back; so
 * too every tenant hostgroup that held `old` (may be NULL: none). */
int psql_plan_rollback(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		       const struct psql_endpoint *old, const struct psql_endpoint *new_, struct psql_plan *plan, char *err,
		       size_t errlen);
/* rollback without a snapshot (cutoverd restarted after a drain; recovery never rolls back a
 * promote): the old primary back ONLINE if it is OFFLINE_SOFT in the writer hostgroup, else
 * an empty plan (n == 0) whose note says why nothing is needed. */
int psql_plan_undrain(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		      const struct psql_endpoint *old, struct psql_plan *plan, char *err, size_t errlen);
/* finalize: reader hostgroup changes (see proxysql_sql_switch.c), then SAVE MYSQL SERVERS TO
 * DISK.  before = the snapshot taken at drain, now = one taken just before finalize. */
int psql_plan_finalize(const struct cfg_router *cfg, const struct psql_snapshot *before,
		       const struct psql_snapshot *now, const struct psql_endpoint *old,
		       const struct psql_endpoint *new_, bool auto_failover,
		       struct psql_plan *plan, char *err, size_t errlen);

struct db;
struct event_base;
/* A connection of its own to router c's admin interface (router_proxysql.c), for plans run
 * outside the router driver (shift.c).  NULL when its address does not parse. */
struct db *psql_admin_db(struct event_base *base, const struct cfg_router *c, const char *label, int connect_timeout_ms);

#endif
