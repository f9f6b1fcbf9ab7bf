/* Unit tests for the flavor tables (daemon/flavor*.c): version detection, the contract that
 * every flavor's statements take the same printf parameters, and the parsers fed with rowsets
 * shaped like the real servers' answers (MariaDB 10.11 checked live; MySQL from its manual). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flavor.h"
#include "status.h"

Suite *flavor_suite(void);

struct kv {
	const char *k;
	const char *v;    /* NULL = SQL NULL */
};

static struct rowset *rs_from(const struct kv *row);
static struct rowset *rs_empty(const struct kv *row);
static void conversions(const char *fmt, char *out, size_t size);
static size_t count_str(const char *hay, const char *needle);

static const struct flavor_ops *const all_flavors[] = {
	&flavor_mariadb, &flavor_mysql80, &flavor_mysql84,
};

/* One row whose columns and values are given in pairs, ending at k == NULL. */
static struct rowset *rs_from(const struct kv *row)
{
	const char *cols[80], *vals[80];
	size_t n = 0;
	struct rowset *rs;

	for (; row[n].k; n++) {
		ck_assert_uint_lt(n, 80);
		cols[n] = row[n].k;
		vals[n] = row[n].v;
	}
	rs = rowset_new(n, cols);
	rowset_add_row(rs, vals);
	return rs;
}

/* The same columns, no row: what a server without replication answers. */
static struct rowset *rs_empty(const struct kv *row)
{
	const char *cols[80];
	size_t n = 0;

	for (; row[n].k; n++)
		cols[n] = row[n].k;
	return rowset_new(n, cols);
}

/* The printf conversions of a format, e.g. "%s|%d" for "x='%s' y=%d"; "%%" is not one. */
static void conversions(const char *fmt, char *out, size_t size)
{
	size_t len = 0;
	const char *p;

	out[0] = '\0';
	for (p = fmt; *p; p++) {
		const char *start;
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		start = p++;
		while (*p && !strchr("diouxXeEfFgGaAcspn", *p))
			p++;
		ck_assert_msg(*p, "unterminated conversion in \"%s\"", fmt);
		len += (size_t)snprintf(out + len, size - len, "%s%.*s", len ? "|" : "",
		    (int)(p - start + 1), start);
		ck_assert_uint_lt(len, size);
	}
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

START_TEST(detect_versions)
{
	static const struct {
		const char *v;
		enum flavor_id want;
	} cases[] = {
		{ "10.11.19-MariaDB-0+deb12u1", FLAVOR_MARIADB },
		{ "10.11.19-MariaDB-0+deb12u1-log", FLAVOR_MARIADB },
		{ "10.6.16-MariaDB", FLAVOR_MARIADB },
		{ "11.4.2-MariaDB-ubu2404", FLAVOR_MARIADB },
		{ "10.5.23-MariaDB", FLAVOR_UNKNOWN },
		{ "5.5.5-10.11.6-MariaDB", FLAVOR_UNKNOWN },
		{ "8.0.36", FLAVOR_MYSQL80 },
		{ "8.0.36-log", FLAVOR_MYSQL80 },
		{ "8.0.36-28", FLAVOR_MYSQL80 },
		{ "8.0.23", FLAVOR_MYSQL80 },
		{ "8.0.22", FLAVOR_UNKNOWN },
		{ "8.1.0", FLAVOR_MYSQL80 },
		{ "8.2.0", FLAVOR_MYSQL84 },
		{ "8.4.0", FLAVOR_MYSQL84 },
		{ "8.4.3-log", FLAVOR_MYSQL84 },
		{ "9.1.0", FLAVOR_MYSQL84 },
		{ "5.7.44", FLAVOR_UNKNOWN },
		{ "5.7.44-log", FLAVOR_UNKNOWN },
		{ "", FLAVOR_UNKNOWN },
		{ NULL, FLAVOR_UNKNOWN },
		{ "garbage", FLAVOR_UNKNOWN },
		{ "8", FLAVOR_UNKNOWN },
		{ "8.x.1", FLAVOR_UNKNOWN },
		{ "8.0.36junk", FLAVOR_UNKNOWN },
		{ "123456789.0.0", FLAVOR_UNKNOWN },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(flavor_detect(cases[i].v) == cases[i].want,
		    "flavor_detect(\"%s\") = %d, want %d", cases[i].v ? cases[i].v : "(null)",
		    flavor_detect(cases[i].v), cases[i].want);
}
END_TEST

START_TEST(get_tables)
{
	size_t i;

	for (i = 0; i < sizeof(all_flavors) / sizeof(all_flavors[0]); i++) {
		const struct flavor_ops *f = all_flavors[i];
		ck_assert_ptr_eq(flavor_get(f->id), f);
		ck_assert_str_eq(f->name, flavor_name(f->id));
		ck_assert_ptr_nonnull(f->parse_vars);
		ck_assert_ptr_nonnull(f->parse_replica);
		ck_assert_ptr_nonnull(f->parse_binlog);
	}
	ck_assert_int_eq(flavor_mariadb.id, FLAVOR_MARIADB);
	ck_assert_int_eq(flavor_mysql80.id, FLAVOR_MYSQL80);
	ck_assert_int_eq(flavor_mysql84.id, FLAVOR_MYSQL84);
	ck_assert_ptr_null(flavor_get(FLAVOR_UNKNOWN));
	ck_assert_ptr_null(flavor_get((enum flavor_id)42));
	/* what the poller does with a version string */
	ck_assert_ptr_eq(flavor_get(flavor_detect("8.4.0")), &flavor_mysql84);
}
END_TEST

/* The parameter list of every statement, as flavor.h documents it. */
static const char *const expected_params[SQL_MAX] = {
	[SQL_HEARTBEAT_CREATE_DB] = "%s",
	[SQL_HEARTBEAT_CREATE] = "%s",
	[SQL_HEARTBEAT_WRITE] = "%s|%lld",
	[SQL_HEARTBEAT_READ] = "%s",
	[SQL_WAIT_GTID] = "%s|%.3f",
	[SQL_CHANGE_SOURCE] = "%s|%d|%s|%s|%d",
	[SQL_DEMOTE_TO_REPLICA] = "%s|%d|%s|%s|%d",
	[SQL_KILL_SESSION] = "%llu",
	[SQL_KILL_QUERY] = "%llu",
	[SQL_VAR_SET_SESSION_TIMEOUT] = "%d",
	[SQL_LONG_WRITES] = "%d",
	[SQL_TENANT_SESSIONS] = "%s|%s",
};

/* Where a MySQL password could be read in the middle (caching_sha2_password fetching the key). */
START_TEST(auth_exposure)
{
	struct cfg_server c;

	memset(&c, 0, sizeof(c));
	c.host = "db2.example.net";
	ck_assert(flavor_auth_exposed(&c));
	c.tls_mode = TLS_PREFERRED;
	ck_assert(flavor_auth_exposed(&c));        /* preferred may fall back to plain */
	c.tls_mode = TLS_REQUIRED;
	ck_assert(flavor_auth_exposed(&c));        /* encrypted, but to whoever answers */
	c.tls_mode = TLS_VERIFY_CA;
	ck_assert(!flavor_auth_exposed(&c));
	c.tls_mode = TLS_DISABLED;
	c.server_public_key = "/etc/cutoverd/db2.pem";
	ck_assert(!flavor_auth_exposed(&c));
	c.server_public_key = NULL;
	c.host = "127.0.0.1";
	ck_assert(!flavor_auth_exposed(&c));
	c.host = "::1";
	ck_assert(!flavor_auth_exposed(&c));
	c.host = NULL;
	c.socket = "/run/mysqld/mysqld.sock";
	ck_assert(!flavor_auth_exposed(&c));
}
END_TEST

START_TEST(sql_params_match)
{
	const struct flavor_ops *f = all_flavors[_i];
	int id;

	for (id = 0; id < SQL_MAX; id++) {
		const char *want = expected_params[id] ? expected_params[id] : "";
		char got[128];

		ck_assert_msg(f->sql[id] != NULL, "%s: sql[%d] is NULL", f->name, id);
		ck_assert_msg(f->sql[id][0] != '\0' || flavor_sql_optional(id), "%s: sql[%d] is empty", f->name, id);
		/* one statement per entry: the caller sends it with a plain query */
		ck_assert_msg(strchr(f->sql[id], ';') == NULL, "%s: sql[%d] has a ';'", f->name, id);
		conversions(f->sql[id], got, sizeof(got));
		ck_assert_msg(!strcmp(got, want), "%s: sql[%d] takes \"%s\", flavor.h says \"%s\"",
		    f->name, id, got, want);
	}
}
END_TEST

/* Parity across flavors, checked directly too, so a change to expected_params alone cannot
 * hide a flavor that disagrees with the others. */
/* MariaDB's read_only lets READ_ONLY ADMIN and SUPER commit: the fence must hold commits
 * there; MySQL's super_read_only stops everyone, and its hold entries stay empty (skipped). */
START_TEST(commit_hold_where_read_only_leaks)
{
	ck_assert_str_eq(flavor_mariadb.sql[SQL_HOLD_START], "BACKUP STAGE START");
	ck_assert_str_eq(flavor_mariadb.sql[SQL_HOLD_COMMITS], "BACKUP STAGE BLOCK_COMMIT");
	ck_assert_str_eq(flavor_mariadb.sql[SQL_HOLD_RELEASE], "BACKUP STAGE END");
	ck_assert_str_eq(flavor_mysql80.sql[SQL_HOLD_COMMITS], "");
	ck_assert_str_eq(flavor_mysql84.sql[SQL_HOLD_COMMITS], "");
	ck_assert(strstr(flavor_mysql84.sql[SQL_FENCE], "super_read_only") != NULL);
	ck_assert(flavor_sql_optional(SQL_HOLD_COMMITS));
	ck_assert(!flavor_sql_optional(SQL_FENCE));
	/* the session list carries the state a held session shows */
	ck_assert(strstr(flavor_mariadb.sql[SQL_LIST_SESSIONS], "state") != NULL);
}
END_TEST

START_TEST(sql_params_same_across_flavors)
{
	int id;
	size_t i;

	for (id = 0; id < SQL_MAX; id++) {
		char first[128], other[128];
		conversions(flavor_mariadb.sql[id], first, sizeof(first));
		for (i = 1; i < sizeof(all_flavors) / sizeof(all_flavors[0]); i++) {
			conversions(all_flavors[i]->sql[id], other, sizeof(other));
			ck_assert_msg(!strcmp(first, other), "sql[%d]: mariadb \"%s\", %s \"%s\"",
			    id, first, all_flavors[i]->name, other);
		}
	}
}
END_TEST

START_TEST(sql_strings_quoted)
{
	const struct flavor_ops *f = all_flavors[_i];

	/* host, user, password and the GTID go inside quotes; the caller escapes them */
	ck_assert_uint_eq(count_str(f->sql[SQL_CHANGE_SOURCE], "'%s'"), 3);
	ck_assert_uint_eq(count_str(f->sql[SQL_DEMOTE_TO_REPLICA], "'%s'"), 3);
	ck_assert_uint_eq(count_str(f->sql[SQL_WAIT_GTID], "'%s'"), 1);
	ck_assert_uint_eq(count_str(f->sql[SQL_HEARTBEAT_CREATE_DB], "`%s`"), 1);
	/* the heartbeat must not write on a fenced server */
	ck_assert_ptr_nonnull(strstr(f->sql[SQL_HEARTBEAT_WRITE], "@@global.read_only = 0"));
	if (f->id != FLAVOR_MARIADB) {
		ck_assert_ptr_nonnull(strstr(f->sql[SQL_HEARTBEAT_WRITE],
		    "@@global.super_read_only = 0"));
		ck_assert_ptr_nonnull(strstr(f->sql[SQL_FENCE], "super_read_only = ON"));
	}
}
END_TEST

START_TEST(sql_per_flavor_syntax)
{
	ck_assert_str_eq(flavor_mariadb.sql[SQL_REPLICA_STATUS], "SHOW SLAVE STATUS");
	ck_assert_str_eq(flavor_mariadb.sql[SQL_BINLOG_STATUS], "SHOW MASTER STATUS");
	ck_assert_ptr_nonnull(strstr(flavor_mariadb.sql[SQL_DEMOTE_TO_REPLICA],
	    "MASTER_DEMOTE_TO_SLAVE = 1"));
	ck_assert_ptr_nonnull(strstr(flavor_mariadb.sql[SQL_DEMOTE_TO_REPLICA],
	    "MASTER_USE_GTID = slave_pos"));
	ck_assert_ptr_null(strstr(flavor_mariadb.sql[SQL_CHANGE_SOURCE], "DEMOTE"));
	ck_assert_str_eq(flavor_mysql80.sql[SQL_REPLICA_STATUS], "SHOW REPLICA STATUS");
	ck_assert_str_eq(flavor_mysql80.sql[SQL_BINLOG_STATUS], "SHOW MASTER STATUS");
	ck_assert_str_eq(flavor_mysql84.sql[SQL_BINLOG_STATUS], "SHOW BINARY LOG STATUS");
	ck_assert_ptr_nonnull(strstr(flavor_mysql80.sql[SQL_VARS], "log_slave_updates AS"));
	ck_assert_ptr_nonnull(strstr(flavor_mysql84.sql[SQL_VARS], "log_replica_updates AS"));
	ck_assert_ptr_nonnull(strstr(flavor_mysql84.sql[SQL_CHANGE_SOURCE],
	    "SOURCE_AUTO_POSITION = 1"));
}
END_TEST

/* What SQL_VARS returns on MariaDB 10.11 (values as seen on a live server). */
static const struct kv mariadb_vars[] = {
	{ "version", "10.11.19-MariaDB-0+deb12u1-log" }, { "server_id", "7" },
	{ "server_uuid", NULL }, { "read_only", "1" }, { "super_read_only", NULL },
	{ "log_bin", "1" }, { "log_slave_updates", "0" }, { "gtid_strict_mode", "1" },
	{ "gtid_mode", NULL }, { "enforce_gtid_consistency", NULL },
	{ "gtid_current_pos", "0-7-15,1-2-3" }, { "gtid_binlog_pos", "0-7-15" },
	{ "gtid_slave_pos", "" }, { "gtid_executed", NULL }, { "have_ssl", "DISABLED" },
	{ "character_set_server", "latin1" }, { "collation_server", "latin1_swedish_ci" },
	{ "semi_sync", "AFTER_SYNC" }, { NULL, NULL },
};

static const struct kv mysql_vars[] = {
	{ "version", "8.0.36" }, { "server_id", "4294967295" },
	{ "server_uuid", "3e11fa47-71ca-11e1-9e33-c80aa9429562" }, { "read_only", "1" },
	{ "super_read_only", "0" }, { "log_bin", "1" }, { "log_slave_updates", "1" },
	{ "gtid_strict_mode", NULL }, { "gtid_mode", "ON_PERMISSIVE" },
	{ "enforce_gtid_consistency", "WARN" }, { "gtid_current_pos", NULL },
	{ "gtid_binlog_pos", NULL }, { "gtid_slave_pos", NULL },
	{ "gtid_executed", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n"
	    "4a6b1c2d-0000-11ef-8000-000000000002:1-3" },
	{ "semi_sync", "OFF" }, { NULL, NULL },
};

START_TEST(vars_mariadb)
{
	struct rowset *rs = rs_from(mariadb_vars);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
	ck_assert_str_eq(st.version, "10.11.19-MariaDB-0+deb12u1-log");
	ck_assert_uint_eq(st.server_id, 7);
	ck_assert_str_eq(st.server_uuid, "");
	ck_assert_int_eq(st.read_only, 1);
	ck_assert_int_eq(st.super_read_only, -1);
	ck_assert_int_eq(st.log_bin, 1);
	ck_assert_int_eq(st.log_slave_updates, 0);
	ck_assert_int_eq(st.gtid_strict_mode, 1);
	ck_assert_int_eq(st.gtid_mode_on, -1);
	ck_assert_int_eq(st.enforce_gtid_consistency, -1);
	ck_assert_str_eq(st.gtid_current_pos, "0-7-15,1-2-3");
	ck_assert_str_eq(st.gtid_binlog_pos, "0-7-15");
	ck_assert_str_eq(st.gtid_slave_pos, "");
	ck_assert_ptr_null(st.gtid_executed);
	/* compiled with TLS, no certificate: a replica must not ask for TLS */
	ck_assert_int_eq(st.have_ssl, 0);
	ck_assert_str_eq(st.charset, "latin1");
	ck_assert_str_eq(st.collation, "latin1_swedish_ci");
	ck_assert_str_eq(st.semi_sync, "AFTER_SYNC");
	st.flavor = FLAVOR_MARIADB;
	ck_assert_str_eq(server_status_gtid(&st), "0-7-15,1-2-3");

	/* parsing again into the same struct replaces the owned strings (ASan: no leak) */
	ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
	ck_assert_str_eq(st.gtid_binlog_pos, "0-7-15");
	server_status_clear(&st);
	rowset_free(rs);
}
END_TEST

START_TEST(vars_mariadb_11_read_only_modes)
{
	static const char *const on[] = { "ON", "NO_LOCK", "NO_LOCK_NO_ADMIN", "1" };
	struct kv row[] = { { "version", "11.8.1-MariaDB" }, { "read_only", NULL }, { NULL, NULL } };
	struct server_status st;
	size_t i;

	server_status_init(&st);
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		struct rowset *rs;
		row[1].v = on[i];
		rs = rs_from(row);
		ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
		ck_assert_msg(st.read_only == 1, "read_only=%s parsed as %d", on[i], st.read_only);
		rowset_free(rs);
	}
	row[1].v = "OFF";
	{
		struct rowset *rs = rs_from(row);
		ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
		ck_assert_int_eq(st.read_only, 0);
		rowset_free(rs);
	}
	row[1].v = "maybe";
	{
		struct rowset *rs = rs_from(row);
		ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
		ck_assert_int_eq(st.read_only, -1);
		/* columns the row does not have are unknown, not "off" */
		ck_assert_int_eq(st.log_bin, -1);
		ck_assert_uint_eq(st.server_id, 0);
		rowset_free(rs);
	}
	server_status_clear(&st);
}
END_TEST

START_TEST(vars_mysql)
{
	struct rowset *rs = rs_from(mysql_vars);
	struct server_status st;
	size_t i;

	for (i = 1; i < 3; i++) {
		server_status_init(&st);
		ck_assert_int_eq(all_flavors[i]->parse_vars(rs, &st), 0);
		ck_assert_str_eq(st.version, "8.0.36");
		ck_assert_uint_eq(st.server_id, 4294967295ULL);
		ck_assert_str_eq(st.server_uuid, "3e11fa47-71ca-11e1-9e33-c80aa9429562");
		ck_assert_int_eq(st.read_only, 1);
		ck_assert_int_eq(st.super_read_only, 0);
		ck_assert_int_eq(st.log_bin, 1);
		ck_assert_int_eq(st.log_slave_updates, 1);
		ck_assert_int_eq(st.gtid_strict_mode, -1);
		ck_assert_int_eq(st.gtid_mode_on, 0);
		ck_assert_int_eq(st.enforce_gtid_consistency, 0);
		ck_assert_ptr_null(st.gtid_current_pos);
		ck_assert_ptr_null(st.gtid_binlog_pos);
		ck_assert_ptr_null(st.gtid_slave_pos);
		ck_assert_str_eq(st.gtid_executed, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n"
		    "4a6b1c2d-0000-11ef-8000-000000000002:1-3");
		st.flavor = all_flavors[i]->id;
		ck_assert_ptr_eq(server_status_gtid(&st), st.gtid_executed);
		ck_assert_str_eq(st.semi_sync, "OFF");
		server_status_clear(&st);
	}
	rowset_free(rs);
}
END_TEST

START_TEST(vars_mysql_gtid_on)
{
	struct kv row[] = {
		{ "version", "8.4.0" }, { "gtid_mode", "ON" }, { "enforce_gtid_consistency", "ON" },
		{ "super_read_only", "1" }, { NULL, NULL },
	};
	struct rowset *rs = rs_from(row);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(flavor_mysql84.parse_vars(rs, &st), 0);
	ck_assert_int_eq(st.gtid_mode_on, 1);
	ck_assert_int_eq(st.enforce_gtid_consistency, 1);
	ck_assert_int_eq(st.super_read_only, 1);
	server_status_clear(&st);
	rowset_free(rs);
}
END_TEST

START_TEST(vars_missing_row)
{
	struct rowset *rs = rs_empty(mariadb_vars);
	struct kv wrong[] = { { "File", "mysql-bin.000001" }, { NULL, NULL } };
	struct rowset *other = rs_from(wrong);
	struct server_status st;
	size_t i;

	server_status_init(&st);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(all_flavors[i]->parse_vars(rs, &st), -1);
		ck_assert_int_eq(all_flavors[i]->parse_vars(other, &st), -1);
		ck_assert_int_eq(all_flavors[i]->parse_vars(NULL, &st), -1);
	}
	server_status_clear(&st);
	rowset_free(rs);
	rowset_free(other);
}
END_TEST

/* MariaDB 10.11 SHOW SLAVE STATUS, all columns in server order, I/O thread still connecting
 * (as seen live with an unreachable source). */
static const struct kv mariadb_connecting[] = {
	{ "Slave_IO_State", "Connecting to master" }, { "Master_Host", "127.0.0.1" },
	{ "Master_User", "repl" }, { "Master_Port", "3398" }, { "Connect_Retry", "5" },
	{ "Master_Log_File", "" }, { "Read_Master_Log_Pos", "4" },
	{ "Relay_Log_File", "db2-relay-bin.000001" }, { "Relay_Log_Pos", "4" },
	{ "Relay_Master_Log_File", "" }, { "Slave_IO_Running", "Connecting" },
	{ "Slave_SQL_Running", "Yes" }, { "Replicate_Do_DB", "" }, { "Replicate_Ignore_DB", "" },
	{ "Replicate_Do_Table", "" }, { "Replicate_Ignore_Table", "" },
	{ "Replicate_Wild_Do_Table", "" }, { "Replicate_Wild_Ignore_Table", "" },
	{ "Last_Errno", "0" }, { "Last_Error", "" }, { "Skip_Counter", "0" },
	{ "Exec_Master_Log_Pos", "4" }, { "Relay_Log_Space", "256" },
	{ "Until_Condition", "None" }, { "Until_Log_File", "" }, { "Until_Log_Pos", "0" },
	{ "Master_SSL_Allowed", "No" }, { "Master_SSL_CA_File", "" }, { "Master_SSL_CA_Path", "" },
	{ "Master_SSL_Cert", "" }, { "Master_SSL_Cipher", "" }, { "Master_SSL_Key", "" },
	{ "Seconds_Behind_Master", NULL }, { "Master_SSL_Verify_Server_Cert", "No" },
	{ "Last_IO_Errno", "2003" },
	{ "Last_IO_Error", "error connecting to master 'repl@127.0.0.1:3398' - retry-time: 5"
	    "  maximum-retries: 100000  message: Can't connect to server on '127.0.0.1'"
	    " (111 \"Connection refused\")" },
	{ "Last_SQL_Errno", "0" }, { "Last_SQL_Error", "" }, { "Replicate_Ignore_Server_Ids", "" },
	{ "Master_Server_Id", "0" }, { "Master_SSL_Crl", "" }, { "Master_SSL_Crlpath", "" },
	{ "Using_Gtid", "Slave_Pos" }, { "Gtid_IO_Pos", "" }, { "Replicate_Do_Domain_Ids", "" },
	{ "Replicate_Ignore_Domain_Ids", "" }, { "Parallel_Mode", "optimistic" },
	{ "SQL_Delay", "0" }, { "SQL_Remaining_Delay", NULL },
	{ "Slave_SQL_Running_State", "Slave has read all relay log; waiting for more updates" },
	{ "Slave_DDL_Groups", "0" }, { "Slave_Non_Transactional_Groups", "0" },
	{ "Slave_Transactional_Groups", "0" }, { "Replicate_Rewrite_DB", "" },
	{ NULL, NULL },
};

/* A healthy MariaDB replica, the columns cutoverd reads plus a few it does not. */
static const struct kv mariadb_running[] = {
	{ "Slave_IO_State", "Waiting for master to send event" }, { "Master_Host", "db1.example" },
	{ "Master_User", "repl" }, { "Master_Port", "3307" }, { "Connect_Retry", "60" },
	{ "Master_Log_File", "mysql-bin.000003" }, { "Read_Master_Log_Pos", "12345678901" },
	{ "Relay_Master_Log_File", "mysql-bin.000002" }, { "Slave_IO_Running", "Yes" },
	{ "Slave_SQL_Running", "No" }, { "Exec_Master_Log_Pos", "987" },
	{ "Seconds_Behind_Master", "0" }, { "Last_IO_Errno", "0" }, { "Last_IO_Error", "" },
	{ "Last_SQL_Errno", "1062" },
	{ "Last_SQL_Error", "Could not execute Write_rows_v1 event on table t.x; Duplicate entry" },
	{ "Master_Server_Id", "1" }, { "Using_Gtid", "Current_Pos" },
	{ "Gtid_IO_Pos", "0-1-1234,1-1-7" }, { "Parallel_Mode", "optimistic" },
	{ "Slave_SQL_Running_State", "" }, { NULL, NULL },
};

START_TEST(replica_mariadb_connecting)
{
	struct rowset *rs = rs_from(mariadb_connecting);
	struct repl_status r;

	ck_assert_uint_ge(rs->ncols, 54);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(flavor_mariadb.parse_replica(rs, &r), 0);
	ck_assert(r.configured);
	ck_assert_str_eq(r.source_host, "127.0.0.1");
	ck_assert_int_eq(r.source_port, 3398);
	ck_assert_str_eq(r.source_user, "repl");
	ck_assert_int_eq(r.io, THREAD_CONNECTING);
	ck_assert_int_eq(r.sql, THREAD_YES);
	ck_assert_int_eq(r.seconds_behind, -1);
	ck_assert_int_eq(r.last_io_errno, 2003);
	ck_assert_ptr_nonnull(strstr(r.last_io_error, "Connection refused"));
	ck_assert_int_eq(r.last_sql_errno, 0);
	ck_assert_str_eq(r.last_sql_error, "");
	ck_assert_str_eq(r.using_gtid, "Slave_Pos");
	ck_assert_str_eq(r.gtid_io_pos, "");
	ck_assert_ptr_null(r.executed_gtid);
	ck_assert_str_eq(r.source_log_file, "");
	ck_assert_uint_eq(r.read_source_log_pos, 4);
	ck_assert_str_eq(r.relay_source_log_file, "");
	ck_assert_uint_eq(r.exec_source_log_pos, 4);
	ck_assert_int_eq(r.connect_retry, 5);
	ck_assert_str_eq(r.sql_state, "Slave has read all relay log; waiting for more updates");
	free(r.gtid_io_pos);
	rowset_free(rs);
}
END_TEST

START_TEST(replica_mariadb_running)
{
	struct rowset *rs = rs_from(mariadb_running);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(flavor_mariadb.parse_replica(rs, &st.repl), 0);
	ck_assert(st.repl.configured);
	ck_assert_str_eq(st.repl.source_host, "db1.example");
	ck_assert_int_eq(st.repl.source_port, 3307);
	ck_assert_int_eq(st.repl.io, THREAD_YES);
	ck_assert_int_eq(st.repl.sql, THREAD_NO);
	ck_assert_int_eq(st.repl.seconds_behind, 0);
	ck_assert_int_eq(st.repl.last_sql_errno, 1062);
	ck_assert_ptr_nonnull(strstr(st.repl.last_sql_error, "Duplicate entry"));
	ck_assert_str_eq(st.repl.using_gtid, "Current_Pos");
	ck_assert_str_eq(st.repl.gtid_io_pos, "0-1-1234,1-1-7");
	ck_assert_str_eq(st.repl.source_log_file, "mysql-bin.000003");
	ck_assert_uint_eq(st.repl.read_source_log_pos, 12345678901ULL);
	ck_assert_str_eq(st.repl.relay_source_log_file, "mysql-bin.000002");
	ck_assert_uint_eq(st.repl.exec_source_log_pos, 987);
	ck_assert_int_eq(st.repl.connect_retry, 60);
	ck_assert_str_eq(st.repl.sql_state, "");
	server_status_clear(&st);
	rowset_free(rs);
}
END_TEST

/* SHOW SLAVE STATUS with no row: not a replica.  What an earlier poll left is forgotten. */
START_TEST(replica_missing_row)
{
	struct rowset *running = rs_from(mariadb_running);
	struct rowset *none = rs_empty(mariadb_connecting);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(flavor_mariadb.parse_replica(running, &st.repl), 0);
	ck_assert_int_eq(flavor_mariadb.parse_replica(none, &st.repl), 0);
	ck_assert(!st.repl.configured);
	ck_assert_str_eq(st.repl.source_host, "");
	ck_assert_int_eq(st.repl.source_port, 0);
	ck_assert_int_eq(st.repl.io, THREAD_UNKNOWN);
	ck_assert_int_eq(st.repl.seconds_behind, -1);
	ck_assert_ptr_null(st.repl.gtid_io_pos);
	ck_assert_int_eq(st.repl.last_sql_errno, 0);
	/* a rowset with no columns at all (what an empty SHOW can come back as) */
	rowset_free(none);
	none = rowset_new(0, NULL);
	ck_assert_int_eq(flavor_mysql84.parse_replica(none, &st.repl), 0);
	ck_assert(!st.repl.configured);
	ck_assert_int_eq(flavor_mariadb.parse_replica(NULL, &st.repl), -1);
	server_status_clear(&st);
	rowset_free(running);
	rowset_free(none);
}
END_TEST

/* The other flavor's output is refused, not read as a replica with everything unknown. */
START_TEST(replica_wrong_flavor)
{
	struct rowset *maria = rs_from(mariadb_running);
	struct kv mysql_row[] = { { "Replica_IO_Running", "Yes" }, { NULL, NULL } };
	struct rowset *mysql = rs_from(mysql_row);
	struct repl_status r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(flavor_mysql80.parse_replica(maria, &r), -1);
	ck_assert(!r.configured);
	ck_assert_int_eq(flavor_mariadb.parse_replica(mysql, &r), -1);
	ck_assert(!r.configured);
	rowset_free(maria);
	rowset_free(mysql);
}
END_TEST

START_TEST(replica_long_error_truncated)
{
	char big[1200];
	struct kv row[] = {
		{ "Slave_IO_Running", "No" }, { "Last_IO_Error", big }, { NULL, NULL },
	};
	struct rowset *rs;
	struct repl_status r;

	memset(big, 'e', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rs = rs_from(row);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(flavor_mariadb.parse_replica(rs, &r), 0);
	ck_assert_uint_eq(strlen(r.last_io_error), sizeof(r.last_io_error) - 1);
	ck_assert_int_eq(r.io, THREAD_NO);
	ck_assert_int_eq(r.sql, THREAD_UNKNOWN);
	rowset_free(rs);
}
END_TEST

#define MY_U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define MY_U2 "4a6b1c2d-0000-11ef-8000-000000000002"

/* MySQL 8.0.23+/8.4 SHOW REPLICA STATUS, all columns in server order. */
static const struct kv mysql_replica[] = {
	{ "Replica_IO_State", "Waiting for source to send event" }, { "Source_Host", "10.0.0.1" },
	{ "Source_User", "repl" }, { "Source_Port", "3306" }, { "Connect_Retry", "10" },
	{ "Source_Log_File", "binlog.000007" }, { "Read_Source_Log_Pos", "927" },
	{ "Relay_Log_File", "relay.000002" }, { "Relay_Log_Pos", "1145" },
	{ "Relay_Source_Log_File", "binlog.000006" }, { "Replica_IO_Running", "Yes" },
	{ "Replica_SQL_Running", "Yes" }, { "Replicate_Do_DB", "" }, { "Replicate_Ignore_DB", "" },
	{ "Replicate_Do_Table", "" }, { "Replicate_Ignore_Table", "" },
	{ "Replicate_Wild_Do_Table", "" }, { "Replicate_Wild_Ignore_Table", "" },
	{ "Last_Errno", "0" }, { "Last_Error", "" }, { "Skip_Counter", "0" },
	{ "Exec_Source_Log_Pos", "920" }, { "Relay_Log_Space", "1355" },
	{ "Until_Condition", "None" }, { "Until_Log_File", "" }, { "Until_Log_Pos", "0" },
	{ "Source_SSL_Allowed", "No" }, { "Source_SSL_CA_File", "" }, { "Source_SSL_CA_Path", "" },
	{ "Source_SSL_Cert", "" }, { "Source_SSL_Cipher", "" }, { "Source_SSL_Key", "" },
	{ "Seconds_Behind_Source", "12" }, { "Source_SSL_Verify_Server_Cert", "No" },
	{ "Last_IO_Errno", "0" }, { "Last_IO_Error", "" }, { "Last_SQL_Errno", "0" },
	{ "Last_SQL_Error", "" }, { "Replicate_Ignore_Server_Ids", "" },
	{ "Source_Server_Id", "1" }, { "Source_UUID", MY_U1 },
	{ "Source_Info_File", "mysql.slave_master_info" }, { "SQL_Delay", "0" },
	{ "SQL_Remaining_Delay", NULL },
	{ "Replica_SQL_Running_State", "Replica has read all relay log; waiting for more updates" },
	{ "Source_Retry_Count", "86400" }, { "Source_Bind", "" },
	{ "Last_IO_Error_Timestamp", "" }, { "Last_SQL_Error_Timestamp", "" },
	{ "Source_SSL_Crl", "" }, { "Source_SSL_Crlpath", "" },
	{ "Retrieved_Gtid_Set", MY_U1 ":1-10" },
	{ "Executed_Gtid_Set", MY_U1 ":1-9,\n" MY_U2 ":1-3" },
	{ "Auto_Position", "1" }, { "Replicate_Rewrite_DB", "" }, { "Channel_Name", "" },
	{ "Source_TLS_Version", "" }, { "Source_public_key_path", "" },
	{ "Get_Source_public_key", "1" }, { "Network_Namespace", "" }, { NULL, NULL },
};

START_TEST(replica_mysql)
{
	struct rowset *rs = rs_from(mysql_replica);
	struct server_status st;
	size_t i;

	ck_assert_uint_eq(rs->ncols, 60);
	for (i = 1; i < 3; i++) {
		server_status_init(&st);
		ck_assert_int_eq(all_flavors[i]->parse_replica(rs, &st.repl), 0);
		ck_assert(st.repl.configured);
		ck_assert_str_eq(st.repl.source_host, "10.0.0.1");
		ck_assert_int_eq(st.repl.source_port, 3306);
		ck_assert_str_eq(st.repl.source_user, "repl");
		ck_assert_int_eq(st.repl.io, THREAD_YES);
		ck_assert_int_eq(st.repl.sql, THREAD_YES);
		ck_assert_int_eq(st.repl.seconds_behind, 12);
		ck_assert_int_eq(st.repl.last_io_errno, 0);
		ck_assert_int_eq(st.repl.last_sql_errno, 0);
		ck_assert_str_eq(st.repl.using_gtid, "Auto_Position=1");
		ck_assert_str_eq(st.repl.gtid_io_pos, MY_U1 ":1-10");
		ck_assert_str_eq(st.repl.executed_gtid, MY_U1 ":1-9,\n" MY_U2 ":1-3");
		ck_assert_str_eq(st.repl.source_log_file, "binlog.000007");
		ck_assert_uint_eq(st.repl.read_source_log_pos, 927);
		ck_assert_str_eq(st.repl.relay_source_log_file, "binlog.000006");
		ck_assert_uint_eq(st.repl.exec_source_log_pos, 920);
		ck_assert_int_eq(st.repl.connect_retry, 10);
		ck_assert_str_eq(st.repl.sql_state,
		    "Replica has read all relay log; waiting for more updates");
		/* again into the same struct: the owned strings are replaced (ASan: no leak) */
		ck_assert_int_eq(all_flavors[i]->parse_replica(rs, &st.repl), 0);
		server_status_clear(&st);
	}
	rowset_free(rs);
}
END_TEST

START_TEST(replica_mysql_connecting_no_autopos)
{
	struct kv row[] = {
		{ "Source_Host", "10.0.0.1" }, { "Source_Port", "3306" },
		{ "Replica_IO_Running", "Connecting" }, { "Replica_SQL_Running", "Yes" },
		{ "Seconds_Behind_Source", NULL }, { "Last_IO_Errno", "2061" },
		{ "Last_IO_Error", "Authentication requires secure connection." },
		{ "Retrieved_Gtid_Set", "" }, { "Executed_Gtid_Set", "" },
		{ "Auto_Position", "0" }, { "Channel_Name", "" }, { NULL, NULL },
	};
	struct rowset *rs = rs_from(row);
	struct repl_status r;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(flavor_mysql80.parse_replica(rs, &r), 0);
	ck_assert_int_eq(r.io, THREAD_CONNECTING);
	ck_assert_int_eq(r.seconds_behind, -1);
	ck_assert_int_eq(r.last_io_errno, 2061);
	ck_assert_str_eq(r.using_gtid, "Auto_Position=0");
	ck_assert_str_eq(r.gtid_io_pos, "");
	ck_assert_str_eq(r.executed_gtid, "");
	free(r.gtid_io_pos);
	free(r.executed_gtid);
	rowset_free(rs);
}
END_TEST

/* With several channels there is a row each; the default channel is the one we manage. */
START_TEST(replica_mysql_channels)
{
	static const char *const cols[] = {
		"Source_Host", "Source_Port", "Replica_IO_Running", "Auto_Position", "Channel_Name",
	};
	static const char *const other[] = { "10.9.9.9", "3310", "No", "0", "analytics" };
	static const char *const dflt[] = { "10.0.0.1", "3306", "Yes", "1", "" };
	struct rowset *rs = rowset_new(5, cols);
	struct repl_status r;

	rowset_add_row(rs, other);
	rowset_add_row(rs, dflt);
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(flavor_mysql84.parse_replica(rs, &r), 0);
	ck_assert_str_eq(r.source_host, "10.0.0.1");
	ck_assert_int_eq(r.source_port, 3306);
	ck_assert_int_eq(r.io, THREAD_YES);
	ck_assert_str_eq(r.using_gtid, "Auto_Position=1");
	ck_assert_ptr_null(r.gtid_io_pos);
	rowset_free(rs);
}
END_TEST

START_TEST(binlog_status)
{
	static const struct kv maria[] = {
		{ "File", "mysql-bin.000001" }, { "Position", "2664" }, { "Binlog_Do_DB", "" },
		{ "Binlog_Ignore_DB", "" }, { NULL, NULL },
	};
	static const struct kv mysql[] = {
		{ "File", "binlog.000042" }, { "Position", "18446744073709551615" },
		{ "Binlog_Do_DB", "" }, { "Binlog_Ignore_DB", "" },
		{ "Executed_Gtid_Set", MY_U1 ":1-9" }, { NULL, NULL },
	};
	struct rowset *rs = rs_from(maria), *rs2 = rs_from(mysql), *none = rs_empty(maria);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(flavor_mariadb.parse_binlog(rs, &st), 0);
	ck_assert_str_eq(st.binlog_file, "mysql-bin.000001");
	ck_assert_uint_eq(st.binlog_pos, 2664);
	ck_assert_int_eq(flavor_mysql84.parse_binlog(rs2, &st), 0);
	ck_assert_str_eq(st.binlog_file, "binlog.000042");
	ck_assert_uint_eq(st.binlog_pos, 18446744073709551615ULL);
	/* binary logging off: no row, and nothing left from before */
	ck_assert_int_eq(flavor_mysql80.parse_binlog(none, &st), 0);
	ck_assert_str_eq(st.binlog_file, "");
	ck_assert_uint_eq(st.binlog_pos, 0);
	ck_assert_int_eq(flavor_mariadb.parse_binlog(NULL, &st), -1);
	server_status_clear(&st);
	rowset_free(rs);
	rowset_free(rs2);
	rowset_free(none);
}
END_TEST

START_TEST(quote)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "it's", "it\\'s" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "back\\slash", "back\\\\slash" },
		{ "a\nb\rc", "a\\nb\\rc" },
		{ "ctrl\032z", "ctrl\\Zz" },
		{ "x' OR '1'='1", "x\\' OR \\'1\\'=\\'1" },
		{ "\\'", "\\\\\\'" },
		{ "pa%ss", "pa%ss" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
	};
	size_t i;
	char *q;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q = sql_quote(cases[i].in);
		ck_assert_msg(!strcmp(q, cases[i].out), "sql_quote(\"%s\") = \"%s\", want \"%s\"",
		    cases[i].in, q, cases[i].out);
		free(q);
	}
	q = sql_quote(NULL);
	ck_assert_str_eq(q, "");
	free(q);
	/* the worst case doubles the length */
	q = sql_quote("''''''''");
	ck_assert_uint_eq(strlen(q), 16);
	free(q);
}
END_TEST

/* What 11.8 says (as seen live on Debian 13's 11.8.9): TLS on by itself, utf8mb4 by default. */
START_TEST(vars_mariadb_11_tls_and_charset)
{
	static const struct kv row[] = {
		{ "version", "11.8.9-MariaDB-0+deb13u1 from Debian-log" }, { "have_ssl", "YES" },
		{ "character_set_server", "utf8mb4" }, { "collation_server", "utf8mb4_uca1400_ai_ci" }, { NULL, NULL },
	};
	static const struct kv none[] = { { "version", "10.6.16-MariaDB" }, { "have_ssl", "NO" }, { NULL, NULL } };
	struct rowset *rs = rs_from(row);
	struct server_status st;

	server_status_init(&st);
	ck_assert_int_eq(st.have_ssl, -1);
	ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
	ck_assert_int_eq(st.have_ssl, 1);
	ck_assert_str_eq(st.charset, "utf8mb4");
	ck_assert_str_eq(st.collation, "utf8mb4_uca1400_ai_ci");
	rowset_free(rs);
	rs = rs_from(none);
	ck_assert_int_eq(flavor_mariadb.parse_vars(rs, &st), 0);
	ck_assert_int_eq(st.have_ssl, 0);
	ck_assert_str_eq(st.charset, "");
	rowset_free(rs);
	/* MySQL's row says NULL: unknown, and cutoverd states no TLS for it */
	rs = rs_from(mysql_vars);
	ck_assert_int_eq(flavor_mysql80.parse_vars(rs, &st), 0);
	ck_assert_int_eq(st.have_ssl, -1);
	rowset_free(rs);
	server_status_clear(&st);
	/* every flavor's variables query names the columns */
	ck_assert_ptr_nonnull(strstr(flavor_mariadb.sql[SQL_VARS], "have_ssl AS have_ssl"));
	ck_assert_ptr_nonnull(strstr(flavor_mariadb.sql[SQL_VARS], "AS collation_server"));
	ck_assert_ptr_nonnull(strstr(flavor_mysql84.sql[SQL_VARS], "NULL AS have_ssl"));
	ck_assert_ptr_nonnull(strstr(flavor_mysql84.sql[SQL_VARS], "AS character_set_server"));
}
END_TEST

/* The statement that repoints a replica states TLS as the new primary offers it: an 11.x
 * MariaDB replica asks for TLS by default (MASTER_SSL=1, back after RESET SLAVE ALL) and cannot
 * follow a primary without it. */
START_TEST(change_source_states_tls)
{
	char *q;

	q = flavor_change_source_sql(&flavor_mariadb, SQL_CHANGE_SOURCE, "10.0.0.3", 3306, "repl", "p\\'w", 1, 0);
	ck_assert_str_eq(q, "CHANGE MASTER TO MASTER_HOST = '10.0.0.3', MASTER_PORT = 3306, MASTER_USER = 'repl', "
			    "MASTER_PASSWORD = 'p\\'w', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, "
			    "MASTER_SSL = 0");
	free(q);
	q = flavor_change_source_sql(&flavor_mariadb, SQL_CHANGE_SOURCE, "h", 3306, "repl", "x", 1, 1);
	ck_assert_ptr_nonnull(strstr(q, ", MASTER_SSL = 1"));
	free(q);
	/* the old primary's demotion too (MASTER_DEMOTE_TO_SLAVE and MASTER_SSL in one statement) */
	q = flavor_change_source_sql(&flavor_mariadb, SQL_DEMOTE_TO_REPLICA, "h", 3307, "repl", "x", 1, 0);
	ck_assert_ptr_nonnull(strstr(q, "MASTER_DEMOTE_TO_SLAVE = 1, MASTER_SSL = 0"));
	ck_assert_ptr_null(strchr(q, ';'));
	free(q);
	/* not known: not stated (the replica keeps its own setting) */
	q = flavor_change_source_sql(&flavor_mariadb, SQL_CHANGE_SOURCE, "h", 3306, "repl", "x", 1, -1);
	ck_assert_ptr_null(strstr(q, "MASTER_SSL"));
	ck_assert_str_eq(q + strlen(q) - strlen("MASTER_CONNECT_RETRY = 1"), "MASTER_CONNECT_RETRY = 1");
	free(q);
	/* MySQL: its replicas do not ask for TLS by default; nothing is added */
	q = flavor_change_source_sql(&flavor_mysql84, SQL_CHANGE_SOURCE, "h", 3306, "repl", "x", 1, 0);
	ck_assert_ptr_null(strstr(q, "SSL"));
	ck_assert_ptr_nonnull(strstr(q, "GET_SOURCE_PUBLIC_KEY = 1"));
	free(q);
}
END_TEST

/* Release series: what replication can go between (never from a newer series to an older). */
START_TEST(series_order)
{
	static const struct {
		const char *from, *to;
		enum series_order want;
	} cases[] = {
		{ "10.11.19-MariaDB-0+deb12u1-log", "11.8.9-MariaDB-0+deb13u1 from Debian-log", SERIES_NEWER },
		{ "11.8.9-MariaDB-0+deb13u1 from Debian-log", "10.11.19-MariaDB-0+deb12u1-log", SERIES_OLDER },
		{ "10.11.6-MariaDB", "10.11.19-MariaDB-log", SERIES_SAME },
		{ "10.11.19-MariaDB", "10.11.6-MariaDB", SERIES_SAME },
		/* numbers, not text: 10.6 is older than 10.11 */
		{ "10.6.16-MariaDB", "10.11.6-MariaDB", SERIES_NEWER },
		{ "11.8.1-MariaDB", "12.0.2-MariaDB", SERIES_NEWER },
		{ "11.4.5-MariaDB", "11.8.1-MariaDB", SERIES_NEWER },
		{ "8.0.36", "8.4.0", SERIES_NEWER },
		{ "8.4.3", "8.0.40-log", SERIES_OLDER },
		{ "9.1.0", "9.1.0", SERIES_SAME },
		{ "8.0.36", "10.11.6-MariaDB", SERIES_OTHER_PRODUCT },
		{ "", "10.11.6-MariaDB", SERIES_UNKNOWN },
		{ "10.11.6-MariaDB", NULL, SERIES_UNKNOWN },
		{ "garbage", "10.11.6-MariaDB", SERIES_UNKNOWN },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(flavor_series_order(cases[i].from, cases[i].to) == cases[i].want, "%s → %s: %d, want %d",
			      cases[i].from, cases[i].to ? cases[i].to : "NULL",
			      flavor_series_order(cases[i].from, cases[i].to), cases[i].want);
	ck_assert_str_eq(flavor_series_name("11.8.9-MariaDB-0+deb13u1 from Debian-log", buf, sizeof(buf)), "MariaDB 11.8");
	ck_assert_str_eq(flavor_series_name("10.11.19-MariaDB-0+deb12u1-log", buf, sizeof(buf)), "MariaDB 10.11");
	ck_assert_str_eq(flavor_series_name("8.4.0", buf, sizeof(buf)), "MySQL 8.4");
	ck_assert_str_eq(flavor_series_name("garbage", buf, sizeof(buf)), "garbage");
	ck_assert_str_eq(flavor_series_name("", buf, sizeof(buf)), "an unknown version");
}
END_TEST

START_TEST(test_has_demote)
{
	/* MASTER_DEMOTE_TO_SLAVE arrived in MariaDB 10.10 */
	ck_assert(!flavor_has_demote("10.6.16-MariaDB-log"));
	ck_assert(!flavor_has_demote("10.9.8-MariaDB"));
	ck_assert(flavor_has_demote("10.10.2-MariaDB"));
	ck_assert(flavor_has_demote("10.11.19-MariaDB-0+deb12u1"));
	ck_assert(flavor_has_demote("11.4.2-MariaDB"));
	/* MySQL's demote is its ordinary CHANGE REPLICATION SOURCE */
	ck_assert(flavor_has_demote("8.0.36"));
	ck_assert(flavor_has_demote("8.4.0"));
	ck_assert(flavor_has_demote(NULL));
	ck_assert(!flavor_has_demote("garbage-MariaDB"));
	/* the by-hand preparation is one statement, usable before a plain CHANGE MASTER */
	ck_assert_ptr_nonnull(strstr(SQL_DEMOTE_PREPARE, "gtid_slave_pos"));
	ck_assert_ptr_null(strchr(SQL_DEMOTE_PREPARE, ';'));
}
END_TEST

Suite *flavor_suite(void)
{
	Suite *s = suite_create("flavor");
	int nflavors = (int)(sizeof(all_flavors) / sizeof(all_flavors[0]));
	TCase *tc;

	tc = tcase_create("flavor_detect");
	tcase_add_test(tc, detect_versions);
	suite_add_tcase(s, tc);

	tc = tcase_create("flavor_get");
	tcase_add_test(tc, get_tables);
	suite_add_tcase(s, tc);

	tc = tcase_create("sql_table");
	tcase_add_loop_test(tc, sql_params_match, 0, nflavors);
	tcase_add_test(tc, auth_exposure);
	tcase_add_test(tc, sql_params_same_across_flavors);
	tcase_add_test(tc, commit_hold_where_read_only_leaks);
	tcase_add_loop_test(tc, sql_strings_quoted, 0, nflavors);
	tcase_add_test(tc, sql_per_flavor_syntax);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_vars");
	tcase_add_test(tc, vars_mariadb);
	tcase_add_test(tc, vars_mariadb_11_read_only_modes);
	tcase_add_test(tc, vars_mariadb_11_tls_and_charset);
	tcase_add_test(tc, vars_mysql);
	tcase_add_test(tc, vars_mysql_gtid_on);
	tcase_add_test(tc, vars_missing_row);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_replica");
	tcase_add_test(tc, replica_mariadb_connecting);
	tcase_add_test(tc, replica_mariadb_running);
	tcase_add_test(tc, replica_missing_row);
	tcase_add_test(tc, replica_wrong_flavor);
	tcase_add_test(tc, replica_long_error_truncated);
	tcase_add_test(tc, replica_mysql);
	tcase_add_test(tc, replica_mysql_connecting_no_autopos);
	tcase_add_test(tc, replica_mysql_channels);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse_binlog");
	tcase_add_test(tc, binlog_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("sql_quote");
	tcase_add_test(tc, quote);
	suite_add_tcase(s, tc);
	tc = tcase_create("flavor_change_source_sql");
	tcase_add_test(tc, change_source_states_tls);
	suite_add_tcase(s, tc);
	tc = tcase_create("flavor_series_order");
	tcase_add_test(tc, series_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("flavor_has_demote");
	tcase_add_test(tc, test_has_demote);
	suite_add_tcase(s, tc);
	return s;
}
