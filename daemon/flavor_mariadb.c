/* MariaDB 10.6+ (checked against 10.11): its SQL and the parsers for its answers.
 * MariaDB keeps the old replication vocabulary in its output (Slave_IO_Running, Master_Host,
 * Gtid_IO_Pos) even where it accepts the new keywords, and has no super_read_only: read_only
 * is the fence, and SQL_PRIVILEGED_USERS lists the accounts it does not stop. */
#include "flavor.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void col_str(const struct rowset *rs, const char *col, char *dst, size_t size);
static tristate col_bool(const struct rowset *rs, const char *col);
static enum thread_state col_thread(const struct rowset *rs, const char *col);
static long long col_ll(const struct rowset *rs, const char *col, long long dflt);
static unsigned long long col_ull(const struct rowset *rs, const char *col);
static void col_dup(const struct rowset *rs, const char *col, char **dst);
static void repl_reset(struct repl_status *r);
static int mariadb_parse_vars(const struct rowset *rs, struct server_status *st);
static int mariadb_parse_replica(const struct rowset *rs, struct repl_status *r);
static int mariadb_parse_binlog(const struct rowset *rs, struct server_status *st);

const struct flavor_ops flavor_mariadb = {
	.id = FLAVOR_MARIADB,
	.name = "mariadb",
	.sql = {
		/* The same column names in every flavor; NULL where MariaDB has no such thing. */
		[SQL_VARS] =
		    "SELECT @@version AS version, @@server_id AS server_id,"
		    " NULL AS server_uuid,"
		    " @@global.read_only AS read_only, NULL AS super_read_only,"
		    " @@global.log_bin AS log_bin, @@global.log_slave_updates AS log_slave_updates,"
		    " @@global.gtid_strict_mode AS gtid_strict_mode,"
		    " NULL AS gtid_mode, NULL AS enforce_gtid_consistency,"
		    " @@global.gtid_current_pos AS gtid_current_pos,"
		    " @@global.gtid_binlog_pos AS gtid_binlog_pos,"
		    " @@global.gtid_slave_pos AS gtid_slave_pos,"
		    " NULL AS gtid_executed,"
		    " @@global.have_ssl AS have_ssl,"
		    " @@global.character_set_server AS character_set_server,"
		    " @@global.collation_server AS collation_server,"
		    /* semi-sync is built in (10.3+): its wait point when it is on, else OFF */
		    " (SELECT IF(MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_ENABLED', VARIABLE_VALUE, NULL)) = 'ON',"
		    " MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_WAIT_POINT', VARIABLE_VALUE, NULL)), 'OFF')"
		    " FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME IN"
		    " ('RPL_SEMI_SYNC_MASTER_ENABLED', 'RPL_SEMI_SYNC_MASTER_WAIT_POINT')) AS semi_sync",
		[SQL_REPLICA_STATUS] = "SHOW SLAVE STATUS",
		[SQL_BINLOG_STATUS] = "SHOW MASTER STATUS",
		[SQL_HEARTBEAT_CREATE_DB] = "CREATE DATABASE IF NOT EXISTS `%s`",
		[SQL_HEARTBEAT_CREATE] =
		    "CREATE TABLE IF NOT EXISTS %s (server_id INT UNSIGNED NOT NULL PRIMARY KEY,"
		    " ts BIGINT NOT NULL) ENGINE=InnoDB",
		/* The guard matters for accounts with SUPER / READ_ONLY ADMIN, which read_only
		 * lets through: a fenced server must never look alive as a writer. */
		[SQL_HEARTBEAT_WRITE] =
		    "REPLACE INTO %s (server_id, ts) SELECT @@server_id, %lld FROM DUAL"
		    " WHERE @@global.read_only = 0",
		[SQL_HEARTBEAT_READ] = "SELECT server_id, ts FROM %s",

		/* Not persisted: MariaDB has no SET PERSIST; keep read_only=ON in my.cnf so a
		 * restarted server comes back fenced. */
		[SQL_FENCE] = "SET GLOBAL read_only = 1",
		[SQL_UNFENCE] = "SET GLOBAL read_only = 0",
		[SQL_FENCE_POINT] = "SELECT @@global.gtid_binlog_pos AS gtid",
		/* 0 = reached, -1 = timed out. */
		[SQL_WAIT_GTID] = "SELECT MASTER_GTID_WAIT('%s', %.3f) AS wait_result",
		[SQL_STOP_REPLICA] = "STOP SLAVE",
		[SQL_START_REPLICA] = "START SLAVE",
		[SQL_RESET_REPLICA] = "RESET SLAVE ALL",
		[SQL_CHANGE_SOURCE] =
		    "CHANGE MASTER TO MASTER_HOST = '%s', MASTER_PORT = %d,"
		    " MASTER_USER = '%s', MASTER_PASSWORD = '%s',"
		    " MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = %d",
		/* MASTER_DEMOTE_TO_SLAVE (10.10+) moves the old primary's gtid_binlog_pos into
		 * its gtid_slave_pos, so it resumes from its own last write; the server refuses
		 * it unless Using_Gtid is Slave_Pos. */
		[SQL_DEMOTE_TO_REPLICA] =
		    "CHANGE MASTER TO MASTER_HOST = '%s', MASTER_PORT = %d,"
		    " MASTER_USER = '%s', MASTER_PASSWORD = '%s',"
		    " MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = %d,"
		    " MASTER_DEMOTE_TO_SLAVE = 1",
		/* Client sessions only: not ours, not replication threads, not the dump
		 * threads feeding replicas, not the event scheduler. */
		[SQL_LIST_SESSIONS] =
		    "SELECT id, user, host, command, time, info, state FROM information_schema.processlist"
		    " WHERE id <> CONNECTION_ID()"
		    " AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon',"
		    " 'Slave_IO', 'Slave_SQL', 'Slave_worker')"
		    " AND user NOT IN ('system user', 'event_scheduler')"
		    " ORDER BY id",
		[SQL_KILL_SESSION] = "KILL CONNECTION %llu",
		[SQL_KILL_QUERY] = "KILL QUERY %llu",
		/* read_only does not stop READ_ONLY ADMIN (10.11; ALL PRIVILEGES includes it)
		 * nor, before 11.0, SUPER.  The grantee is "'user'@'host'"; split it at the
		 * first "'@'".  Only accounts the monitoring user may see are listed (it needs
		 * SELECT on the mysql schema), and privileges held through roles are not. */
		[SQL_PRIVILEGED_USERS] =
		    "SELECT SUBSTRING(grantee, 2, LOCATE('''@''', grantee) - 2) AS user,"
		    " SUBSTRING(grantee, LOCATE('''@''', grantee) + 3,"
		    " CHAR_LENGTH(grantee) - LOCATE('''@''', grantee) - 3) AS host,"
		    " privilege_type AS privilege FROM information_schema.user_privileges"
		    " WHERE privilege_type IN ('SUPER', 'READ_ONLY ADMIN') ORDER BY 1, 2, 3",
		[SQL_VAR_SET_SESSION_TIMEOUT] = "SET SESSION lock_wait_timeout = %d",
		/* read_only lets READ_ONLY ADMIN (and SUPER before 11.0) commit; the backup
		 * lock at BLOCK_COMMIT stops every commit, for every account, until END or
		 * until the session holding it goes away.  Skipping the stages between is
		 * allowed; each takes well under a millisecond. */
		[SQL_HOLD_START] = "BACKUP STAGE START",
		[SQL_HOLD_COMMITS] = "BACKUP STAGE BLOCK_COMMIT",
		[SQL_HOLD_RELEASE] = "BACKUP STAGE END",
		/* A running statement that writes — of a transaction InnoDB lists as writing, or
		 * one that is a write by its text (an INSERT … SELECT has no InnoDB transaction
		 * until its first row): SET GLOBAL read_only waits for it to end, and every write
		 * behind it.  Idle transactions do not hold it up. */
		[SQL_LONG_WRITES] =
		    "SELECT p.id, p.user, p.time_ms, LEFT(p.info, 160) AS info"
		    " FROM information_schema.processlist p"
		    " LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id"
		    " WHERE p.command = 'Query' AND p.id <> CONNECTION_ID() AND p.time_ms >= %d"
		    " AND (t.trx_is_read_only = 0 OR p.info REGEXP"
		    " '^[[:space:]]*(INSERT|UPDATE|DELETE|REPLACE|LOAD|ALTER|CREATE|DROP|TRUNCATE|RENAME)')"
		    " ORDER BY p.time_ms DESC",
		[SQL_VERSIONED_TABLES] =
		    "SELECT COUNT(*) AS n, GROUP_CONCAT(CONCAT(table_schema, '.', table_name)"
		    " ORDER BY table_schema, table_name SEPARATOR ', ' LIMIT 5) AS names"
		    " FROM information_schema.TABLES WHERE table_type = 'SYSTEM VERSIONED'",
		[SQL_MDL_WAITERS] = "SELECT COUNT(*) AS n FROM information_schema.processlist"
				    " WHERE state = 'Waiting for table metadata lock'",
		[SQL_TENANT_SESSIONS] =
		    "SELECT id, command, state, LEFT(info, 80) AS info FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
		    " AND command NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL',"
		    " 'Slave_worker') AND user NOT IN ('system user', 'event_scheduler') AND %s IN (%s)",
		[SQL_GTID_DOMAIN] = "SELECT @@global.gtid_domain_id AS domain",
	},
	.parse_vars = mariadb_parse_vars,
	.parse_replica = mariadb_parse_replica,
	.parse_binlog = mariadb_parse_binlog,
	/* 11.x replicas set MASTER_SSL=1 unless told otherwise (RESET SLAVE ALL brings it back),
	 * and a source without TLS (have_ssl DISABLED) then refuses them: "SSL is required, but
	 * the server does not support it".  10.x took MASTER_SSL=0 as its default. */
	.source_tls = ", MASTER_SSL = %d",
};

/* A string column into a fixed buffer; "" for NULL or a missing column. */
static void col_str(const struct rowset *rs, const char *col, char *dst, size_t size)
{
	const char *v = rowset_get(rs, 0, col);
	strlcpy_(dst, v ? v : "", size);
}

/* 0/1 as booleans print, ON/OFF as SHOW prints them; read_only's 11.x modes all mean "on". */
static tristate col_bool(const struct rowset *rs, const char *col)
{
	const char *v = rowset_get(rs, 0, col);

	if (!v)
		return -1;
	if (!strcmp(v, "1") || !strcasecmp(v, "ON") || !strcasecmp(v, "YES") ||
	    !strcasecmp(v, "NO_LOCK") || !strcasecmp(v, "NO_LOCK_NO_ADMIN"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "OFF") || !strcasecmp(v, "NO"))
		return 0;
	return -1;
}

/* "Preparing" is the I/O thread setting up before it connects: started, not yet receiving. */
static enum thread_state col_thread(const struct rowset *rs, const char *col)
{
	const char *v = rowset_get(rs, 0, col);

	if (!v)
		return THREAD_UNKNOWN;
	if (!strcasecmp(v, "Yes"))
		return THREAD_YES;
	if (!strcasecmp(v, "No"))
		return THREAD_NO;
	if (!strcasecmp(v, "Connecting") || !strcasecmp(v, "Preparing"))
		return THREAD_CONNECTING;
	return THREAD_UNKNOWN;
}

static long long col_ll(const struct rowset *rs, const char *col, long long dflt)
{
	long long v;
	return parse_ll(rowset_get(rs, 0, col), LLONG_MIN, LLONG_MAX, &v) ? v : dflt;
}

static unsigned long long col_ull(const struct rowset *rs, const char *col)
{
	const char *v = rowset_get(rs, 0, col);
	unsigned long long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	return errno || *end ? 0 : n;
}

/* Owned strings are replaced, not leaked, when a status struct is parsed into again. */
static void col_dup(const struct rowset *rs, const char *col, char **dst)
{
	free(*dst);
	*dst = xstrdup(rowset_get(rs, 0, col));
}

static void repl_reset(struct repl_status *r)
{
	free(r->gtid_io_pos);
	free(r->executed_gtid);
	memset(r, 0, sizeof(*r));
	r->seconds_behind = -1;
}

/* Serves MySQL too: every flavor's SQL_VARS returns these column names, NULL where the
 * server has no such variable. */
static int mariadb_parse_vars(const struct rowset *rs, struct server_status *st)
{
	const char *mode, *enforce;

	if (!rs || rs->nrows < 1 || rowset_col(rs, "version") < 0)
		return -1;
	col_str(rs, "version", st->version, sizeof(st->version));
	st->server_id = col_ull(rs, "server_id");
	col_str(rs, "server_uuid", st->server_uuid, sizeof(st->server_uuid));
	st->read_only = col_bool(rs, "read_only");
	st->super_read_only = col_bool(rs, "super_read_only");
	st->log_bin = col_bool(rs, "log_bin");
	st->log_slave_updates = col_bool(rs, "log_slave_updates");
	st->gtid_strict_mode = col_bool(rs, "gtid_strict_mode");
	/* gtid_mode also has OFF_PERMISSIVE / ON_PERMISSIVE; only ON is usable for failover. */
	mode = rowset_get(rs, 0, "gtid_mode");
	st->gtid_mode_on = mode ? !strcasecmp(mode, "ON") : -1;
	enforce = rowset_get(rs, 0, "enforce_gtid_consistency");
	st->enforce_gtid_consistency = enforce ? !strcasecmp(enforce, "ON") : -1;
	col_dup(rs, "gtid_current_pos", &st->gtid_current_pos);
	col_dup(rs, "gtid_binlog_pos", &st->gtid_binlog_pos);
	col_dup(rs, "gtid_slave_pos", &st->gtid_slave_pos);
	col_dup(rs, "gtid_executed", &st->gtid_executed);
	/* YES: TLS is on; DISABLED (compiled in, no certificate) or NO: a replica must not ask for it */
	{
		const char *ssl = rowset_get(rs, 0, "have_ssl");
		st->have_ssl = !ssl ? -1 : !strcasecmp(ssl, "YES") ? 1 : 0;
	}
	col_str(rs, "character_set_server", st->charset, sizeof(st->charset));
	col_str(rs, "collation_server", st->collation, sizeof(st->collation));
	col_str(rs, "semi_sync", st->semi_sync, sizeof(st->semi_sync));
	return 0;
}

static int mariadb_parse_replica(const struct rowset *rs, struct repl_status *r)
{
	repl_reset(r);
	if (!rs)
		return -1;
	if (rs->nrows == 0)
		return 0;
	/* A row without the column is another server's (or another statement's) output. */
	if (rowset_col(rs, "Slave_IO_Running") < 0)
		return -1;
	r->configured = true;
	col_str(rs, "Master_Host", r->source_host, sizeof(r->source_host));
	r->source_port = (int)col_ll(rs, "Master_Port", 0);
	col_str(rs, "Master_User", r->source_user, sizeof(r->source_user));
	r->io = col_thread(rs, "Slave_IO_Running");
	r->sql = col_thread(rs, "Slave_SQL_Running");
	r->seconds_behind = col_ll(rs, "Seconds_Behind_Master", -1);
	r->last_io_errno = (int)col_ll(rs, "Last_IO_Errno", 0);
	col_str(rs, "Last_IO_Error", r->last_io_error, sizeof(r->last_io_error));
	r->last_sql_errno = (int)col_ll(rs, "Last_SQL_Errno", 0);
	col_str(rs, "Last_SQL_Error", r->last_sql_error, sizeof(r->last_sql_error));
	col_str(rs, "Using_Gtid", r->using_gtid, sizeof(r->using_gtid));
	col_dup(rs, "Gtid_IO_Pos", &r->gtid_io_pos);
	col_str(rs, "Master_Log_File", r->source_log_file, sizeof(r->source_log_file));
	r->read_source_log_pos = col_ull(rs, "Read_Master_Log_Pos");
	col_str(rs, "Relay_Master_Log_File", r->relay_source_log_file,
	    sizeof(r->relay_source_log_file));
	r->exec_source_log_pos = col_ull(rs, "Exec_Master_Log_Pos");
	r->connect_retry = (int)col_ll(rs, "Connect_Retry", 0);
	col_str(rs, "Slave_SQL_Running_State", r->sql_state, sizeof(r->sql_state));
	return 0;
}

static int mariadb_parse_binlog(const struct rowset *rs, struct server_status *st)
{
	st->binlog_file[0] = '\0';
	st->binlog_pos = 0;
	if (!rs)
		return -1;
	if (rs->nrows == 0)
		return 0;
	col_str(rs, "File", st->binlog_file, sizeof(st->binlog_file));
	st->binlog_pos = col_ull(rs, "Position");
	return 0;
}
