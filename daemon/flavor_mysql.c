/* MySQL 8.0 (8.0.23+) and 8.4 (also 8.2+ and 9.x): their SQL and the parser for SHOW REPLICA
 * STATUS.  The two tables differ only where 8.4 removed a name: SHOW MASTER STATUS (use SHOW
 * BINARY LOG STATUS, 8.2+) and log_slave_updates (use log_replica_updates, 8.0.26+).
 * SQL_VARS aliases every column to the names MariaDB's uses, so the variables and binlog rows
 * go through MariaDB's parsers unchanged. */
#include "flavor.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void col_str(const struct rowset *rs, size_t row, const char *col, char *dst, size_t size);
static enum thread_state col_thread(const struct rowset *rs, size_t row, const char *col);
static long long col_ll(const struct rowset *rs, size_t row, const char *col, long long dflt);
static unsigned long long col_ull(const struct rowset *rs, size_t row, const char *col);
static size_t default_channel_row(const struct rowset *rs);
static int mysql_parse_vars(const struct rowset *rs, struct server_status *st);
static int mysql_parse_replica(const struct rowset *rs, struct repl_status *r);
static int mysql_parse_binlog(const struct rowset *rs, struct server_status *st);

#define MYSQL_VARS(log_updates_var)						\
	"SELECT @@version AS version, @@server_id AS server_id,"		\
	" @@server_uuid AS server_uuid,"					\
	" @@global.read_only AS read_only,"					\
	" @@global.super_read_only AS super_read_only,"				\
	" @@global.log_bin AS log_bin,"						\
	" @@global." log_updates_var " AS log_slave_updates,"			\
	" NULL AS gtid_strict_mode,"						\
	" @@global.gtid_mode AS gtid_mode,"					\
	" @@global.enforce_gtid_consistency AS enforce_gtid_consistency,"	\
	" NULL AS gtid_current_pos, NULL AS gtid_binlog_pos,"			\
	" NULL AS gtid_slave_pos,"						\
	" @@global.gtid_executed AS gtid_executed,"				\
	" NULL AS have_ssl,"							\
	" @@global.character_set_server AS character_set_server,"		\
	" @@global.collation_server AS collation_server,"			\
	/* a plugin: rpl_semi_sync_source (8.0.26+; 8.4 has no other), or	\
	 * rpl_semi_sync_master (8.0); absent when neither is installed */	\
	" (SELECT IF(MAX(IF(VARIABLE_NAME IN ('rpl_semi_sync_source_enabled',"	\
	" 'rpl_semi_sync_master_enabled'), VARIABLE_VALUE, NULL)) = 'ON',"	\
	" MAX(IF(VARIABLE_NAME IN ('rpl_semi_sync_source_wait_point',"		\
	" 'rpl_semi_sync_master_wait_point'), VARIABLE_VALUE, NULL)), 'OFF')"	\
	" FROM performance_schema.global_variables WHERE VARIABLE_NAME IN"	\
	" ('rpl_semi_sync_source_enabled', 'rpl_semi_sync_master_enabled',"	\
	" 'rpl_semi_sync_source_wait_point', 'rpl_semi_sync_master_wait_point'))" \
	" AS semi_sync"

/* GET_SOURCE_PUBLIC_KEY=1: with caching_sha2_password (the 8.x default) and no TLS, a replica
 * whose password the source has not cached yet cannot log in without the source's key. */
#define MYSQL_CHANGE_SOURCE						\
	"CHANGE REPLICATION SOURCE TO SOURCE_HOST = '%s', SOURCE_PORT = %d,"	\
	" SOURCE_USER = '%s', SOURCE_PASSWORD = '%s',"				\
	" SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = %d,"		\
	" GET_SOURCE_PUBLIC_KEY = 1"

/* Everything but the binlog status and the variables query is the same in 8.0 and 8.4. */
#define MYSQL_COMMON_SQL							\
	[SQL_REPLICA_STATUS] = "SHOW REPLICA STATUS",				\
	[SQL_HEARTBEAT_CREATE_DB] = "CREATE DATABASE IF NOT EXISTS `%s`",	\
	[SQL_HEARTBEAT_CREATE] =						\
	    "CREATE TABLE IF NOT EXISTS %s (server_id INT UNSIGNED NOT NULL PRIMARY KEY," \
	    " ts BIGINT NOT NULL) ENGINE=InnoDB",				\
	[SQL_HEARTBEAT_WRITE] =							\
	    "REPLACE INTO %s (server_id, ts) SELECT @@server_id, %lld FROM DUAL"	\
	    " WHERE @@global.read_only = 0 AND @@global.super_read_only = 0",	\
	[SQL_HEARTBEAT_READ] = "SELECT server_id, ts FROM %s",			\
	/* super_read_only implies read_only and stops SUPER too; PERSIST keeps	\
	 * a fenced server fenced across a restart. */				\
	[SQL_FENCE] = "SET PERSIST super_read_only = ON",			\
	/* Left to right: super_read_only must go first.  Only the fence's own	\
	 * setting is persisted back; read_only stays as my.cnf says after a	\
	 * restart, so a config that starts every server read-only still does. */ \
	[SQL_UNFENCE] = "SET PERSIST super_read_only = OFF, GLOBAL read_only = OFF", \
	[SQL_FENCE_POINT] = "SELECT @@global.gtid_executed AS gtid",		\
	/* 0 = reached, 1 = timed out. */					\
	[SQL_WAIT_GTID] = "SELECT WAIT_FOR_EXECUTED_GTID_SET('%s', %.3f) AS wait_result", \
	[SQL_STOP_REPLICA] = "STOP REPLICA",					\
	[SQL_START_REPLICA] = "START REPLICA",					\
	[SQL_RESET_REPLICA] = "RESET REPLICA ALL",				\
	[SQL_CHANGE_SOURCE] = MYSQL_CHANGE_SOURCE,				\
	/* Auto-positioning resumes from gtid_executed, which on the old	\
	 * primary already holds its own writes: nothing to move. */		\
	[SQL_DEMOTE_TO_REPLICA] = MYSQL_CHANGE_SOURCE,				\
	[SQL_LIST_SESSIONS] =							\
	    "SELECT id, user, host, command, time, info, state FROM information_schema.processlist" \
	    " WHERE id <> CONNECTION_ID()"					\
	    " AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')"	\
	    " AND user NOT IN ('system user', 'event_scheduler')"		\
	    " ORDER BY id",							\
	[SQL_KILL_SESSION] = "KILL CONNECTION %llu",				\
	[SQL_KILL_QUERY] = "KILL QUERY %llu",					\
	/* super_read_only stops every account, SUPER included: no exceptions	\
	 * to report.  The same columns as elsewhere, no rows. */		\
	[SQL_PRIVILEGED_USERS] =						\
	    "SELECT '' AS user, '' AS host, '' AS privilege FROM DUAL WHERE FALSE", \
	[SQL_VAR_SET_SESSION_TIMEOUT] = "SET SESSION lock_wait_timeout = %d",	\
	/* super_read_only already stops every commit: nothing to hold. */	\
	[SQL_HOLD_START] = "", [SQL_HOLD_COMMITS] = "", [SQL_HOLD_RELEASE] = "",	\
	/* MySQL has no system-versioned tables */				\
	[SQL_VERSIONED_TABLES] = "",						\
	/* information_schema.processlist is deprecated from 8.0.22 */		\
	[SQL_MDL_WAITERS] = "SELECT COUNT(*) AS n FROM performance_schema.processlist" \
			    " WHERE state = 'Waiting for table metadata lock'",	\
	[SQL_TENANT_SESSIONS] =							\
	    "SELECT id, command, state, LEFT(info, 80) AS info FROM performance_schema.processlist WHERE id <> CONNECTION_ID()" \
	    " AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon')"	\
	    " AND user NOT IN ('system user', 'event_scheduler') AND %s IN (%s)", \
	[SQL_GTID_DOMAIN] = "SELECT NULL AS domain",				\
	/* processlist counts whole seconds here */				\
	[SQL_LONG_WRITES] =							\
	    "SELECT p.id, p.user, p.time * 1000 AS time_ms, LEFT(p.info, 160) AS info" \
	    " FROM information_schema.processlist p"				\
	    " LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id" \
	    " WHERE p.command = 'Query' AND p.id <> CONNECTION_ID() AND p.time * 1000 >= %d" \
	    " AND (t.trx_is_read_only = 0 OR p.info REGEXP"			\
	    " '^[[:space:]]*(INSERT|UPDATE|DELETE|REPLACE|LOAD|ALTER|CREATE|DROP|TRUNCATE|RENAME)')" \
	    " ORDER BY p.time DESC"

/* log_slave_updates, not log_replica_updates: the new name only exists from 8.0.26. */
const struct flavor_ops flavor_mysql80 = {
	.id = FLAVOR_MYSQL80,
	.name = "mysql8.0",
	.sql = {
		[SQL_VARS] = MYSQL_VARS("log_slave_updates"),
		[SQL_BINLOG_STATUS] = "SHOW MASTER STATUS",
		MYSQL_COMMON_SQL,
	},
	.parse_vars = mysql_parse_vars,
	.parse_replica = mysql_parse_replica,
	.parse_binlog = mysql_parse_binlog,
};

const struct flavor_ops flavor_mysql84 = {
	.id = FLAVOR_MYSQL84,
	.name = "mysql8.4",
	.sql = {
		[SQL_VARS] = MYSQL_VARS("log_replica_updates"),
		[SQL_BINLOG_STATUS] = "SHOW BINARY LOG STATUS",
		MYSQL_COMMON_SQL,
	},
	.parse_vars = mysql_parse_vars,
	.parse_replica = mysql_parse_replica,
	.parse_binlog = mysql_parse_binlog,
};

static void col_str(const struct rowset *rs, size_t row, const char *col, char *dst, size_t size)
{
	const char *v = rowset_get(rs, row, col);
	strlcpy_(dst, v ? v : "", size);
}

static enum thread_state col_thread(const struct rowset *rs, size_t row, const char *col)
{
	const char *v = rowset_get(rs, row, col);

	if (!v)
		return THREAD_UNKNOWN;
	if (!strcasecmp(v, "Yes"))
		return THREAD_YES;
	if (!strcasecmp(v, "No"))
		return THREAD_NO;
	if (!strcasecmp(v, "Connecting"))
		return THREAD_CONNECTING;
	return THREAD_UNKNOWN;
}

static long long col_ll(const struct rowset *rs, size_t row, const char *col, long long dflt)
{
	long long v;
	return parse_ll(rowset_get(rs, row, col), LLONG_MIN, LLONG_MAX, &v) ? v : dflt;
}

static unsigned long long col_ull(const struct rowset *rs, size_t row, const char *col)
{
	const char *v = rowset_get(rs, row, col);
	unsigned long long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return errno || *end ? 0 : n;
}

/* With several channels SHOW REPLICA STATUS has a row each; the default channel ("") is the
 * one cutoverd manages. */
static size_t default_channel_row(const struct rowset *rs)
{
	size_t i;

	for (i = 0; i < rs->nrows; i++) {
		const char *ch = rowset_get(rs, i, "Channel_Name");
		if (ch && !*ch)
			return i;
	}
	return 0;
}

static int mysql_parse_vars(const struct rowset *rs, struct server_status *st)
{
	return flavor_mariadb.parse_vars(rs, st);
}

static int mysql_parse_binlog(const struct rowset *rs, struct server_status *st)
{
	return flavor_mariadb.parse_binlog(rs, st);
}

static int mysql_parse_replica(const struct rowset *rs, struct repl_status *r)
{
	const char *autopos;
	size_t row;

	free(r->gtid_io_pos);
	free(r->executed_gtid);
	memset(r, 0, sizeof(*r));
	r->seconds_behind = -1;
	if (!rs)
		return -1;
	if (rs->nrows == 0)
		return 0;
	/* A row without the column is another server's (or another statement's) output. */
	if (rowset_col(rs, "Replica_IO_Running") < 0)
		return -1;
	row = default_channel_row(rs);
	r->configured = true;
	col_str(rs, row, "Source_Host", r->source_host, sizeof(r->source_host));
	r->source_port = (int)col_ll(rs, row, "Source_Port", 0);
	col_str(rs, row, "Source_User", r->source_user, sizeof(r->source_user));
	r->io = col_thread(rs, row, "Replica_IO_Running");
	r->sql = col_thread(rs, row, "Replica_SQL_Running");
	r->seconds_behind = col_ll(rs, row, "Seconds_Behind_Source", -1);
	r->last_io_errno = (int)col_ll(rs, row, "Last_IO_Errno", 0);
	col_str(rs, row, "Last_IO_Error", r->last_io_error, sizeof(r->last_io_error));
	r->last_sql_errno = (int)col_ll(rs, row, "Last_SQL_Errno", 0);
	col_str(rs, row, "Last_SQL_Error", r->last_sql_error, sizeof(r->last_sql_error));
	autopos = rowset_get(rs, row, "Auto_Position");
	if (autopos)
		snprintf(r->using_gtid, sizeof(r->using_gtid), "Auto_Position=%s",
		    strcmp(autopos, "1") ? "0" : "1");
	r->gtid_io_pos = xstrdup(rowset_get(rs, row, "Retrieved_Gtid_Set"));
	r->executed_gtid = xstrdup(rowset_get(rs, row, "Executed_Gtid_Set"));
	col_str(rs, row, "Source_Log_File", r->source_log_file, sizeof(r->source_log_file));
	r->read_source_log_pos = col_ull(rs, row, "Read_Source_Log_Pos");
	col_str(rs, row, "Relay_Source_Log_File", r->relay_source_log_file,
	    sizeof(r->relay_source_log_file));
	r->exec_source_log_pos = col_ull(rs, row, "Exec_Source_Log_Pos");
	r->connect_retry = (int)col_ll(rs, row, "Connect_Retry", 0);
	col_str(rs, row, "Replica_SQL_Running_State", r->sql_state, sizeof(r->sql_state));
	return 0;
}
