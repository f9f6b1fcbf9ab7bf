/* What one poll learned about one server.  Filled by the flavor parsers (flavor_*.c) from
 * rowsets and by the poller (poll.c); read by topology.c and the API.  Strings marked owned are
 * freed by server_status_clear(). */
#ifndef CUTOVER_STATUS_H
#define CUTOVER_STATUS_H

#include <stdbool.h>
#include <stdint.h>

enum flavor_id { FLAVOR_UNKNOWN = 0, FLAVOR_MARIADB, FLAVOR_MYSQL80, FLAVOR_MYSQL84 };

/* -1 = unknown / not reported, 0 = off, 1 = on. */
typedef int tristate;

enum thread_state { THREAD_UNKNOWN = 0, THREAD_NO, THREAD_YES, THREAD_CONNECTING };

struct repl_status {
	bool configured;            /* a replication source is configured (SHOW REPLICA STATUS had a row) */
	char source_host[256];
	int source_port;
	char source_user[128];
	enum thread_state io;       /* Slave_IO_Running / Replica_IO_Running */
	enum thread_state sql;      /* Slave_SQL_Running / Replica_SQL_Running */
	long long seconds_behind;   /* Seconds_Behind_Master / _Source; -1 = NULL */
	int last_io_errno;
	char last_io_error[512];
	int last_sql_errno;
	char last_sql_error[512];
	char using_gtid[32];        /* MariaDB Using_Gtid (No|Slave_Pos|Current_Pos); MySQL "Auto_Position=1|0" */
	char *gtid_io_pos;          /* owned: MariaDB Gtid_IO_Pos; MySQL Retrieved_Gtid_Set */
	char *executed_gtid;        /* owned: MySQL Executed_Gtid_Set; MariaDB NULL (use gtid_slave_pos) */
	char source_log_file[256];  /* Master_Log_File / Source_Log_File */
	unsigned long long read_source_log_pos;
	char relay_source_log_file[256];
	unsigned long long exec_source_log_pos;
	int connect_retry;          /* Connect_Retry, seconds */
	char sql_state[256];        /* Slave_SQL_Running_State */
};

struct server_status {
	bool reachable;
	char last_error[512];       /* the last connect or query error, "" if none */
	int last_errno;
	int64_t last_ok_ms;         /* monotonic time of the last complete poll, 0 = never */
	int64_t poll_us;            /* duration of the last poll */

	char version[96];           /* @@version */
	enum flavor_id flavor;
	unsigned long long server_id;
	char server_uuid[64];       /* MySQL @@server_uuid; "" on MariaDB */
	tristate read_only;
	tristate super_read_only;   /* MySQL only; -1 on MariaDB */
	tristate log_bin;
	tristate log_slave_updates; /* log_slave_updates / log_replica_updates */
	tristate gtid_strict_mode;  /* MariaDB */
	tristate gtid_mode_on;      /* MySQL gtid_mode = ON */
	tristate enforce_gtid_consistency;  /* MySQL */
	tristate have_ssl;          /* MariaDB @@have_ssl: 1 YES (it takes TLS), 0 DISABLED or NO; -1 unknown (MySQL) */
	char charset[64];           /* @@global.character_set_server, "" unknown */
	char collation[64];         /* @@global.collation_server, "" unknown */
	/* semi-synchronous replication as a primary: its wait point (AFTER_SYNC, AFTER_COMMIT) when
	 * on, "OFF", "" unknown.  MariaDB's built-in variables, MySQL's plugin (source or master). */
	char semi_sync[32];

	char *gtid_current_pos;     /* owned: MariaDB @@gtid_current_pos */
	char *gtid_binlog_pos;      /* owned: MariaDB @@gtid_binlog_pos */
	char *gtid_slave_pos;       /* owned: MariaDB @@gtid_slave_pos */
	char *gtid_executed;        /* owned: MySQL @@gtid_executed */

	char binlog_file[256];      /* SHOW MASTER STATUS / SHOW BINARY LOG STATUS; "" if none */
	unsigned long long binlog_pos;

	struct repl_status repl;

	int64_t heartbeat_lag_ms;   /* lag from the heartbeat table, -1 = unknown */
	int64_t heartbeat_ts_us;    /* newest heartbeat timestamp seen on this server, 0 = none */
};

void server_status_init(struct server_status *st);
void server_status_clear(struct server_status *st);     /* frees owned strings, then init */
void server_status_copy(struct server_status *dst, const struct server_status *src);

/* The executed GTID position in the flavor's own notation: MariaDB gtid_current_pos,
 * MySQL gtid_executed.  NULL if unknown. */
const char *server_status_gtid(const struct server_status *st);

const char *flavor_name(enum flavor_id f);
const char *thread_state_name(enum thread_state t);

#endif
