/* Each server flavor's SQL in one table, and the parsers that turn its answers into a
 * struct server_status.  flavor_mariadb.c (MariaDB 10.6+; 10.11 and 11.8 tested live) and
 * flavor_mysql.c (MySQL 8.0 and 8.4+; 9.7 tested live, 8.0 and 8.4 by unit tests) each define one
 * or two `const struct flavor_ops`.
 * Statements with parameters are printf formats; the parameter list of each is documented
 * below and is the same for every flavor, so callers never branch on the flavor. */
#ifndef CUTOVER_FLAVOR_H
#define CUTOVER_FLAVOR_H

#include "rowset.h"
#include "status.h"

#include <stdbool.h>

enum sql_id {
	/* Polling. */
	SQL_VARS,              /* one row: version, server_id, read_only, … (see parse_vars) */
	SQL_REPLICA_STATUS,    /* SHOW SLAVE STATUS / SHOW REPLICA STATUS: zero or one row */
	SQL_BINLOG_STATUS,     /* SHOW MASTER STATUS / SHOW BINARY LOG STATUS: zero or one row */
	SQL_HEARTBEAT_CREATE_DB,    /* %s = database name */
	SQL_HEARTBEAT_CREATE,       /* %s = db.table */
	SQL_HEARTBEAT_WRITE,        /* %s = db.table, %lld = timestamp (µs since the epoch); writes only if not read-only */
	SQL_HEARTBEAT_READ,         /* %s = db.table: rows (server_id, ts) */

	/* Switchover. */
	SQL_FENCE,             /* make read-only (MySQL: SET PERSIST super_read_only=ON) */
	SQL_UNFENCE,           /* make writable again */
	SQL_FENCE_POINT,       /* one row, one column: the executed GTID position */
	SQL_WAIT_GTID,         /* %s = GTID position, %.3f = timeout in seconds; one row: 0 = reached */
	SQL_STOP_REPLICA,
	SQL_START_REPLICA,
	SQL_RESET_REPLICA,     /* forget the source: RESET SLAVE ALL / RESET REPLICA ALL */
	/* %s host, %d port, %s user, %s password (escaped), %d connect retry seconds */
	SQL_CHANGE_SOURCE,     /* a replica follows a new source by GTID */
	SQL_DEMOTE_TO_REPLICA, /* the old primary follows the new one (MariaDB: MASTER_DEMOTE_TO_SLAVE=1) */
	SQL_LIST_SESSIONS,     /* rows (id, user, host, command, time, info, state): client sessions to cut */
	SQL_KILL_SESSION,      /* %llu = connection id */
	SQL_KILL_QUERY,        /* %llu = connection id */
	SQL_PRIVILEGED_USERS,  /* rows (user, host, privilege): accounts read_only does not stop */
	SQL_VAR_SET_SESSION_TIMEOUT, /* %d = seconds: lock_wait_timeout for our session */
	/* Holding every commit on the fenced primary, for the accounts read_only does not stop:
	 * taken by the fencing session after read_only, before the fence point is read, and
	 * released once the new primary takes the writes (or at rollback; a dropped session
	 * releases it too).  Empty where the fence already stops every account (MySQL's
	 * super_read_only): such an entry is skipped, never sent. */
	SQL_HOLD_START,
	SQL_HOLD_COMMITS,
	SQL_HOLD_RELEASE,
	/* %d = milliseconds: rows (id, user, time_ms, info) of write statements running at least
	 * that long — what would hold the fence up */
	SQL_LONG_WRITES,
	/* One row (n, names): how many system-versioned tables the server has, and the first few as
	 * "db.table, …".  Read by preflight when the candidate runs a newer release series (their
	 * history is what an upgrade changes).  Empty where the flavor has none (MySQL). */
	SQL_VERSIONED_TABLES,
	/* One row, one column: how many sessions wait for a table metadata lock — what a data
	 * check's snapshot would hold up (datacheck.h) */
	SQL_MDL_WAITERS,
	/* A tenant move (tenant.h): %s = the column (db or user), %s = a list of quoted names; rows
	 * (id, command, state, info): the client sessions of those tenants, not ours, not replication's */
	SQL_TENANT_SESSIONS,
	/* One row: @@gtid_domain_id (MariaDB) — a tenant target's own writes must have a domain of
	 * their own; MySQL: NULL (GTIDs carry the server's uuid) */
	SQL_GTID_DOMAIN,
	SQL_MAX
};

struct flavor_ops {
	enum flavor_id id;
	const char *name;
	const char *sql[SQL_MAX];
	/* Fill version, server_id, read_only, super_read_only, log_bin, log_slave_updates,
	 * gtid_strict_mode / gtid_mode / enforce_gtid_consistency and the GTID positions from
	 * the single row of SQL_VARS.  Returns 0, or -1 if the row is missing. */
	int (*parse_vars)(const struct rowset *rs, struct server_status *st);
	/* Fill st->repl from SHOW … STATUS (no row: repl.configured = false).  Returns 0 / -1. */
	int (*parse_replica)(const struct rowset *rs, struct repl_status *r);
	/* Fill binlog_file/pos from SQL_BINLOG_STATUS (no row: empty). */
	int (*parse_binlog)(const struct rowset *rs, struct server_status *st);
	/* The clause that states TLS towards the source, appended to SQL_CHANGE_SOURCE and
	 * SQL_DEMOTE_TO_REPLICA by flavor_change_source_sql: a format taking one %d (1 with TLS,
	 * 0 without).  NULL: the flavor leaves it to the replica's own setting. */
	const char *source_tls;
};

/* The entries a flavor may leave empty ("" = this flavor needs no such step). */
bool flavor_sql_optional(enum sql_id id);

extern const struct flavor_ops flavor_mariadb;
extern const struct flavor_ops flavor_mysql80;
extern const struct flavor_ops flavor_mysql84;

/* The query every flavor can answer, used first to learn the version: one row, one column. */
#define SQL_DETECT "SELECT @@version"

/* Which flavor a @@version string is: "10.11.6-MariaDB-0+deb12u1" → MariaDB;
 * "8.0.36" → MySQL 8.0; "8.4.0", "9.1.0" → MySQL 8.4 rules.  MySQL before 8.0 is unknown. */
enum flavor_id flavor_detect(const char *version);
const struct flavor_ops *flavor_get(enum flavor_id id);
/* Does this server take SQL_DEMOTE_TO_REPLICA?  MariaDB's MASTER_DEMOTE_TO_SLAVE came in 10.10;
 * before it, the old primary's binlog position is copied into gtid_slave_pos by hand
 * (SQL_DEMOTE_PREPARE) and SQL_CHANGE_SOURCE follows. */
bool flavor_has_demote(const char *version);
#define SQL_DEMOTE_PREPARE "SET GLOBAL gtid_slave_pos = @@global.gtid_binlog_pos"

/* Whether cutoverd's password to this MySQL server could be read by a machine in the middle:
 * over TCP to another host, without verified TLS (tls_mode below verify_ca) and without
 * server_public_key, caching_sha2_password's full exchange makes the client library ask the
 * server for its RSA key and believe whatever answers, or (tls_mode = required) send the
 * password inside a TLS session with whoever answers.  Loopback and a Unix socket are not
 * exposed. */
struct cfg_server;
bool flavor_auth_exposed(const struct cfg_server *cfg);

/* SQL_CHANGE_SOURCE or SQL_DEMOTE_TO_REPLICA (id) of flavor f, with its parameters (host, user
 * and password already escaped with sql_quote), and TLS towards the source stated as the source
 * offers it — source_tls 1: with TLS, 0: without, -1 (not known): not stated, the replica keeps
 * its own setting.  A MariaDB 11.x replica asks for TLS by default (MASTER_SSL=1, back again
 * after RESET SLAVE ALL) and cannot connect to a source without it; stating MASTER_SSL lets it
 * follow any source.  New string (it holds the password: free it with free_secret). */
char *flavor_change_source_sql(const struct flavor_ops *f, enum sql_id id, const char *host, int port,
			       const char *user, const char *password, int retry_s, tristate source_tls);

/* A release series, from @@version: MariaDB 10.11 or 11.8, MySQL 8.0 or 8.4.  Replication goes
 * from a series to the same or a newer one, never from a newer to an older one. */
struct version_series {
	bool mariadb;
	unsigned major, minor;
};
bool flavor_series(const char *version, struct version_series *out);
/* How the release series of `to` stands to that of `from`. */
enum series_order {
	SERIES_UNKNOWN,        /* a version could not be read */
	SERIES_OTHER_PRODUCT,  /* one is MariaDB, the other MySQL */
	SERIES_OLDER,          /* `to` is of an older series than `from` */
	SERIES_SAME,           /* the same series (patch releases may differ) */
	SERIES_NEWER,          /* `to` is of a newer series: an upgrade */
};
enum series_order flavor_series_order(const char *from, const char *to);
/* "MariaDB 10.11", "MySQL 8.4" (or the version string itself when it cannot be read), in buf. */
const char *flavor_series_name(const char *version, char *buf, size_t len);

/* Escape a string for a single-quoted SQL literal (backslash and quote), into a new string. */
char *sql_quote(const char *s);

#endif
