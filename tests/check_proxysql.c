/* Unit tests for the ProxySQL router: proxysql_sql.c against rowsets shaped like ProxySQL 2.x's
 * admin tables (column names as ProxySQL prints them, every value a string, as the admin
 * interface answers), and the driver's asynchronous glue where no ProxySQL is needed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "proxysql_sql.h"
#include "router.h"
#include "rowset.h"
#include "util.h"

Suite *proxysql_suite(void);

#define W 10
#define R 20

static char *map_server[] = { "db1", "db2", "db3", "db4" };
static char *map_router[] = { "127.0.0.1:3307", "127.0.0.1:3308", "127.0.0.1:3309", "db'4.example:3306" };

static const char *const RUNTIME_COLS[] = { "hostgroup_id", "hostname", "port", "status", "weight", "max_connections" };
static const char *const POOL_COLS[] = { "hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree" };
static const char *const REPL_COLS[] = { "writer_hostgroup", "reader_hostgroup", "check_type" };
static const char *const SNAP_COLS[] = {
	"hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression",
	"max_connections", "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
};

#define INSERT_COLS "INSERT INTO mysql_servers (hostgroup_id, hostname, port, gtid_port, status, weight, " \
	"compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment) VALUES "
#define REPLACE_COLS "INSERT OR REPLACE INTO mysql_servers (hostgroup_id, hostname, port, gtid_port, status, " \
	"weight, compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment) VALUES "

static struct cfg_router test_cfg(void);
static struct rowset *rows(const char *const *cols, size_t ncols, size_t nrows, ...);
static void snapshot_of(struct psql_snapshot *s, size_t nrows, ...);
static struct psql_endpoint ep(const char *host, int port);
static void check_sql(const struct psql_plan *p, size_t n, ...);
static void usual_snapshot(struct psql_snapshot *s);

static struct cfg_router test_cfg(void)
{
	struct cfg_router c;

	memset(&c, 0, sizeof(c));
	c.tenant_hg_lo = c.tenant_hg_hi = c.tenant_rule_lo = c.tenant_rule_hi = -1;
	c.name = "px";
	c.cluster = "main";
	c.type = ROUTER_PROXYSQL;
	c.address = "127.0.0.1:1";
	c.user = "admin";
	c.writer_hostgroup = W;
	c.reader_hostgroup = R;
	c.n_map = 4;
	c.map_server = map_server;
	c.map_router = map_router;
	c.timeout_ms = 10000;
	return c;
}

/* A rowset: nrows rows of ncols values (const char *, NULL = SQL NULL) in the varargs. */
static struct rowset *rows(const char *const *cols, size_t ncols, size_t nrows, ...)
{
	struct rowset *rs = rowset_new(ncols, cols);
	const char *v[16];
	va_list ap;
	size_t i, k;

	va_start(ap, nrows);
	for (i = 0; i < nrows; i++) {
		for (k = 0; k < ncols; k++)
			v[k] = va_arg(ap, const char *);
		rowset_add_row(rs, v);
	}
	va_end(ap);
	return rs;
}

/* A parsed snapshot of mysql_servers rows given as 12 strings each. */
static void snapshot_of(struct psql_snapshot *s, size_t nrows, ...)
{
	struct rowset *rs = rowset_new(12, SNAP_COLS);
	const char *v[12];
	char err[256];
	va_list ap;
	size_t i, k;

	va_start(ap, nrows);
	for (i = 0; i < nrows; i++) {
		for (k = 0; k < 12; k++)
			v[k] = va_arg(ap, const char *);
		rowset_add_row(rs, v);
	}
	va_end(ap);
	ck_assert_msg(psql_parse_snapshot(rs, s, err, sizeof(err)) == 0, "%s", err);
	rowset_free(rs);
}

static struct psql_endpoint ep(const char *host, int port)
{
	struct psql_endpoint e;

	memset(&e, 0, sizeof(e));
	strlcpy_(e.host, host, sizeof(e.host));
	e.port = port;
	return e;
}

/* The plan's statements are exactly the n strings given. */
static void check_sql(const struct psql_plan *p, size_t n, ...)
{
	va_list ap;
	size_t i;

	ck_assert_msg(p->n == n, "%zu statements, want %zu (first: %s)", p->n, n, p->n ? p->sql[0] : "-");
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		ck_assert_msg(!strcmp(p->sql[i], want), "statement %zu:\n  got  %s\n  want %s", i, p->sql[i], want);
	}
	va_end(ap);
}

/* The usual cluster: db1 (3307) writer, db1/db2/db3 readers; db2 has its own gtid_port/comment. */
static void usual_snapshot(struct psql_snapshot *s)
{
	snapshot_of(s, 4,
		    "10", "127.0.0.1", "3307", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "primary",
		    "20", "127.0.0.1", "3307", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "1", "800", "10", "0", "20", "replica db2",
		    "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
}

/* ---- psql_parse_endpoint, names, literals ---- */

START_TEST(test_parse_endpoint)
{
	struct psql_endpoint e;

	ck_assert_int_eq(psql_parse_endpoint("127.0.0.1:3307", 0, &e), 0);
	ck_assert_str_eq(e.host, "127.0.0.1");
	ck_assert_int_eq(e.port, 3307);
	ck_assert_int_eq(psql_parse_endpoint("[::1]:6032", 0, &e), 0);
	ck_assert_str_eq(e.host, "::1");
	ck_assert_int_eq(e.port, 6032);
	ck_assert_int_eq(psql_parse_endpoint("proxysql.example", PSQL_DEFAULT_PORT, &e), 0);
	ck_assert_str_eq(e.host, "proxysql.example");
	ck_assert_int_eq(e.port, 6032);
	ck_assert_int_eq(psql_parse_endpoint("[::1]", PSQL_DEFAULT_PORT, &e), 0);
	ck_assert_str_eq(e.host, "::1");
	ck_assert_int_eq(psql_parse_endpoint("proxysql.example", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint("h:0", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint("h:65536", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint("h:33x", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint(":3306", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint("[::1:3306", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint("", 0, &e), -1);
	ck_assert_int_eq(psql_parse_endpoint(NULL, 0, &e), -1);
}
END_TEST

START_TEST(test_name_map)
{
	struct cfg_router c = test_cfg();

	ck_assert_str_eq(psql_name_of(&c, "db2"), "127.0.0.1:3308");
	ck_assert_ptr_null(psql_name_of(&c, "db9"));
	ck_assert_str_eq(psql_server_of(&c, "127.0.0.1:3309"), "db3");
	ck_assert_ptr_null(psql_server_of(&c, "127.0.0.1:3310"));
	ck_assert_ptr_null(psql_server_of(&c, NULL));
}
END_TEST

START_TEST(test_literal)
{
	char *s;

	s = psql_literal("db1");
	ck_assert_str_eq(s, "'db1'");
	free(s);
	s = psql_literal("db'4.example");
	ck_assert_str_eq(s, "'db''4.example'");
	free(s);
	s = psql_literal("''");
	ck_assert_str_eq(s, "''''''");
	free(s);
	/* SQLite: a backslash is an ordinary character, not an escape. */
	s = psql_literal("a\\'b");
	ck_assert_str_eq(s, "'a\\''b'");
	free(s);
	s = psql_literal("");
	ck_assert_str_eq(s, "''");
	free(s);
}
END_TEST

/* ---- psql_status_flags, psql_auto_failover ---- */

START_TEST(test_status_flags)
{
	static const struct { const char *s; bool admin_up, healthy; } t[] = {
		{ "ONLINE", true, true }, { "online", true, true },
		{ "OFFLINE_SOFT", false, true }, { "OFFLINE_HARD", false, true },
		{ "SHUNNED", false, false }, { "SHUNNED_REPLICATION_LAG", false, false },
		{ "WEIRD", false, false }, { "", false, false }, { NULL, false, false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool a = !t[i].admin_up, h = !t[i].healthy;
		psql_status_flags(t[i].s, &a, &h);
		ck_assert_msg(a == t[i].admin_up && h == t[i].healthy, "%s: admin_up %d healthy %d",
			      t[i].s ? t[i].s : "NULL", a, h);
	}
}
END_TEST

START_TEST(test_auto_failover)
{
	struct rowset *repl = rows(REPL_COLS, 3, 2, "11", "21", "read_only", "10", "20", "read_only");

	ck_assert(psql_auto_failover(repl, 10));
	ck_assert(psql_auto_failover(repl, 11));
	ck_assert(!psql_auto_failover(repl, 20));
	ck_assert(!psql_auto_failover(NULL, 10));
	rowset_free(repl);
	repl = rows(REPL_COLS, 3, 0);
	ck_assert(!psql_auto_failover(repl, 10));
	rowset_free(repl);
}
END_TEST

/* ---- psql_parse_view ---- */

/* The watch's counters: Queries and ConnERR from the pool, the servers' errors from
 * stats_mysql_errors (per hostgroup and server), the latency histogram summed over commands. */
START_TEST(test_parse_counters)
{
	static const char *const pool_cols[] = { "hostgroup", "srv_host", "srv_port", "status", "ConnUsed", "ConnFree",
						 "ConnERR", "Queries" };
	static const char *const err_cols[] = { "hostgroup", "hostname", "port", "errors" };
	static const char *const lat_cols[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l" };
	struct cfg_router c = test_cfg();
	struct rowset *srv = rows(RUNTIME_COLS, 6, 2,
		"10", "127.0.0.1", "3307", "ONLINE", "1", "100",
		"20", "127.0.0.1", "3307", "ONLINE", "1", "100");
	struct rowset *pool = rows(pool_cols, 8, 2,
		"10", "127.0.0.1", "3307", "ONLINE", "1", "0", "2", "1000",
		"20", "127.0.0.1", "3307", "ONLINE", "1", "0", "0", "500");
	struct rowset *errs = rows(err_cols, 4, 3,
		"10", "127.0.0.1", "3307", "30",
		"20", "127.0.0.1", "3307", "5",
		"10", "127.0.0.1", "3308", "99");        /* another server */
	struct rowset *lat = rows(lat_cols, 12, 1, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", NULL);
	struct router_view v;
	char err[256];

	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(psql_parse_view(srv, pool, NULL, &c, &v, err, sizeof(err)), 0);
	psql_parse_counters(pool, errs, lat, &v);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_int_eq(v.be[0].queries, 1000);
	ck_assert_int_eq(v.be[0].errors, 32);   /* ConnERR 2 + 30 */
	ck_assert_int_eq(v.be[1].queries, 500);
	ck_assert_int_eq(v.be[1].errors, 5);
	ck_assert(v.lat_known);
	ck_assert_int_eq(v.lat_hist[0], 1);
	ck_assert_int_eq(v.lat_hist[10], 11);
	ck_assert_int_eq(v.lat_hist[11], 0);    /* SUM over no rows is NULL */

	/* an older pool without the columns, no errors table: unknown */
	psql_parse_counters(srv, NULL, NULL, &v);
	ck_assert_int_eq(v.be[0].queries, -1);
	ck_assert_int_eq(v.be[0].errors, -1);
	ck_assert(!v.lat_known);
	rowset_free(srv);
	rowset_free(pool);
	rowset_free(errs);
	rowset_free(lat);
}
END_TEST

START_TEST(test_parse_view)
{
	struct cfg_router c = test_cfg();
	struct rowset *srv = rows(RUNTIME_COLS, 6, 6,
		"10", "127.0.0.1", "3307", "ONLINE", "1000", "500",
		"20", "127.0.0.1", "3307", "ONLINE", "1", "1000",
		"20", "127.0.0.1", "3308", "SHUNNED", "1", "1000",
		"20", "127.0.0.1", "3309", "OFFLINE_SOFT", "1", "1000",
		"30", "127.0.0.1", "3310", "ONLINE", "1", "1000",           /* another hostgroup */
		"20", "10.0.0.9", "3306", "BOGUS_STATE", "1", "1000");      /* unmapped, unknown status */
	struct rowset *pool = rows(POOL_COLS, 6, 3,
		"10", "127.0.0.1", "3307", "ONLINE", "7", "3",
		"20", "127.0.0.1", "3307", "ONLINE", "2", "0",
		"30", "127.0.0.1", "3310", "ONLINE", "99", "0");
	struct rowset *repl = rows(REPL_COLS, 3, 1, "10", "20", "read_only");
	struct router_view v;
	char err[256] = "untouched";

	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(psql_parse_view(srv, pool, repl, &c, &v, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(v.n, 5);
	ck_assert(v.auto_failover_hostgroups);

	/* The same server in two hostgroups is two backends, each with its own sessions. */
	ck_assert_str_eq(v.be[0].server, "db1");
	ck_assert_str_eq(v.be[0].name, "127.0.0.1:3307");
	ck_assert_int_eq(v.be[0].hostgroup, 10);
	ck_assert(v.be[0].writer && v.be[0].admin_up && v.be[0].healthy);
	ck_assert_int_eq(v.be[0].sessions, 7);
	ck_assert_int_eq(v.be[0].weight, 1000);
	ck_assert_int_eq(v.be[0].max_connections, 500);
	ck_assert_str_eq(v.be[1].server, "db1");
	ck_assert_int_eq(v.be[1].hostgroup, 20);
	ck_assert(!v.be[1].writer);
	ck_assert_int_eq(v.be[1].sessions, 2);

	ck_assert_str_eq(v.be[2].server, "db2");
	ck_assert_str_eq(v.be[2].state, "SHUNNED");
	ck_assert(!v.be[2].admin_up && !v.be[2].healthy);
	ck_assert_int_eq(v.be[2].sessions, 0);        /* not in the pool */
	ck_assert_str_eq(v.be[3].state, "OFFLINE_SOFT");
	ck_assert(!v.be[3].admin_up && v.be[3].healthy);

	ck_assert_str_eq(v.be[4].server, "");
	ck_assert_str_eq(v.be[4].host, "10.0.0.9");
	ck_assert_int_eq(v.be[4].port, 3306);
	ck_assert_str_eq(v.be[4].state, "BOGUS_STATE");
	ck_assert(!v.be[4].admin_up && !v.be[4].healthy);

	/* Reader hostgroup -1: only the writers; no replication hostgroups row for 10. */
	c.reader_hostgroup = -1;
	rowset_free(repl);
	repl = rows(REPL_COLS, 3, 1, "11", "21", "read_only");
	ck_assert_int_eq(psql_parse_view(srv, NULL, repl, &c, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n, 1);
	ck_assert(!v.auto_failover_hostgroups);
	ck_assert_int_eq(v.be[0].sessions, 0);
	ck_assert_int_eq(psql_parse_view(srv, NULL, NULL, &c, &v, err, sizeof(err)), 0);
	ck_assert(!v.auto_failover_hostgroups);
	rowset_free(srv);
	rowset_free(pool);
	rowset_free(repl);
}
END_TEST

START_TEST(test_parse_view_bad)
{
	static const char *const no_status[] = { "hostgroup_id", "hostname", "port", "weight" };
	struct cfg_router c = test_cfg();
	struct rowset *srv = rows(no_status, 4, 1, "10", "h", "3306", "1");
	struct router_view v;
	char err[256];

	ck_assert_int_eq(psql_parse_view(srv, NULL, NULL, &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "runtime_mysql_servers: no column 'status'");
	ck_assert_uint_eq(v.n, 0);
	rowset_free(srv);
	ck_assert_int_eq(psql_parse_view(NULL, NULL, NULL, &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "runtime_mysql_servers: no result");

	/* A bad row is reported; the good ones are still read. */
	srv = rows(RUNTIME_COLS, 6, 3,
		   "ten", "127.0.0.1", "3307", "ONLINE", "1", "1",
		   "10", "127.0.0.1", "3308", "ONLINE", "x", NULL,
		   "10", NULL, "3309", "ONLINE", "1", "1");
	ck_assert_int_eq(psql_parse_view(srv, NULL, NULL, &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "runtime_mysql_servers row 1: unreadable hostgroup_id 'ten', hostname, port '3307' or status");
	ck_assert_uint_eq(v.n, 1);
	ck_assert_str_eq(v.be[0].server, "db2");
	ck_assert_int_eq(v.be[0].weight, 0);
	ck_assert_int_eq(v.be[0].max_connections, -1);
	rowset_free(srv);
}
END_TEST

/* ---- psql_snapshot_sql, psql_parse_snapshot, psql_snapshot_find ---- */

START_TEST(test_snapshot_sql)
{
	char *s = psql_snapshot_sql(10, 20);

	ck_assert_str_eq(s, "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, "
			    "max_connections, max_replication_lag, use_ssl, max_latency_ms, comment FROM "
			    "mysql_servers WHERE hostgroup_id IN (10, 20) ORDER BY hostgroup_id, hostname, port");
	free(s);
	s = psql_snapshot_sql(0, -1);
	ck_assert_ptr_nonnull(strstr(s, "FROM mysql_servers WHERE hostgroup_id = 0 ORDER BY"));
	free(s);
}
END_TEST

START_TEST(test_parse_snapshot)
{
	struct psql_snapshot s;
	struct rowset *rs;
	char err[256];

	snapshot_of(&s, 2,
		    "10", "db'4.example", "3306", "0", "OFFLINE_SOFT", "10000000", "1", "0", "126144000", "1", "4294967295", "it's the primary",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "0", "800", "10", "0", "20", NULL);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.v[0].hostgroup, 10);
	ck_assert_str_eq(s.v[0].ep.host, "db'4.example");
	ck_assert_int_eq(s.v[0].ep.port, 3306);
	ck_assert_str_eq(s.v[0].status, "OFFLINE_SOFT");
	ck_assert_int_eq(s.v[0].weight, 10000000);
	ck_assert_int_eq(s.v[0].compression, 1);
	ck_assert_int_eq(s.v[0].max_connections, 0);
	ck_assert_int_eq(s.v[0].max_replication_lag, 126144000);
	ck_assert_int_eq(s.v[0].use_ssl, 1);
	ck_assert_int_eq(s.v[0].max_latency_ms, 4294967295LL);
	ck_assert_str_eq(s.v[0].comment, "it's the primary");
	ck_assert_int_eq(s.v[1].gtid_port, 3399);
	ck_assert_str_eq(s.v[1].comment, "");
	psql_snapshot_free(&s);
	ck_assert_uint_eq(s.n, 0);

	rs = rows(SNAP_COLS, 12, 1, "10", "h", "3306", "0", "ONLINE", "heavy", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_parse_snapshot(rs, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "mysql_servers row 1 (h:3306): weight 'heavy' is not a number");
	ck_assert_uint_eq(s.n, 0);
	rowset_free(rs);
	rs = rows(SNAP_COLS, 11, 0);     /* no comment column */
	ck_assert_int_eq(psql_parse_snapshot(rs, &s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "mysql_servers: no column 'comment'");
	rowset_free(rs);
	rs = rows(SNAP_COLS, 12, 0);
	ck_assert_int_eq(psql_parse_snapshot(rs, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 0);
	psql_snapshot_free(&s);
	rowset_free(rs);
}
END_TEST

START_TEST(test_snapshot_find)
{
	struct psql_snapshot s;
	struct psql_endpoint a = ep("127.0.0.1", 3307), b = ep("127.0.0.1", 3310);

	usual_snapshot(&s);
	ck_assert_ptr_eq(psql_snapshot_find(&s, W, &a), &s.v[0]);
	ck_assert_ptr_eq(psql_snapshot_find(&s, R, &a), &s.v[1]);
	ck_assert_ptr_null(psql_snapshot_find(&s, 30, &a));
	ck_assert_ptr_null(psql_snapshot_find(&s, R, &b));
	psql_snapshot_free(&s);
}
END_TEST

/* ---- psql_check_runtime ---- */

START_TEST(test_check_runtime)
{
	struct rowset *rt = rows(RUNTIME_COLS, 6, 5,
		"10", "127.0.0.1", "3308", "ONLINE", "1", "1000",
		"10", "127.0.0.1", "3307", "OFFLINE_HARD", "1", "1000",
		"20", "127.0.0.1", "3307", "SHUNNED", "1", "1000",
		"20", "127.0.0.1", "3309", "OFFLINE_SOFT", "1", "1000",
		"20", "127.0.0.1", "3310", "ONLINE", "1", "1000");
	struct psql_expect ok[] = {
		{ 10, ep("127.0.0.1", 3308), "ONLINE" },
		{ 10, ep("127.0.0.1", 3307), "ABSENT" },      /* OFFLINE_HARD = on its way out */
		{ 10, ep("127.0.0.1", 3309), "ABSENT" },
		{ 20, ep("127.0.0.1", 3307), "ONLINE" },      /* SHUNNED is health, not our change */
		{ 20, ep("127.0.0.1", 3309), "OFFLINE_SOFT" },
	};
	struct psql_expect bad[] = {
		{ 10, ep("127.0.0.1", 3307), "ONLINE" },
		{ 20, ep("127.0.0.1", 3310), "ABSENT" },
		{ 20, ep("127.0.0.1", 3309), "ONLINE" },
		{ 10, ep("127.0.0.1", 3311), "OFFLINE_SOFT" },
	};
	char msg[512];

	ck_assert_int_eq(psql_check_runtime(rt, ok, 5, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(psql_check_runtime(rt, bad, 4, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "hostgroup 10 127.0.0.1:3307: wanted ONLINE, runtime has OFFLINE_HARD; "
			      "hostgroup 20 127.0.0.1:3310: wanted no row, runtime has ONLINE; "
			      "hostgroup 20 127.0.0.1:3309: wanted ONLINE, runtime has OFFLINE_SOFT; "
			      "hostgroup 10 127.0.0.1:3311: wanted OFFLINE_SOFT, runtime has no row");
	ck_assert_int_eq(psql_check_runtime(NULL, ok, 1, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "runtime_mysql_servers: no result");
	ck_assert_int_eq(psql_check_runtime(rt, NULL, 0, msg, sizeof(msg)), 0);
	rowset_free(rt);
}
END_TEST

/* ---- plans ---- */

START_TEST(test_plan_drain)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), stray = ep("127.0.0.1", 3308);
	char err[256];

	usual_snapshot(&s);
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 3,
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 1);
	ck_assert_int_eq(p.exp[0].hostgroup, 10);
	ck_assert_str_eq(p.exp[0].ep.host, "127.0.0.1");
	ck_assert_int_eq(p.exp[0].ep.port, 3307);
	ck_assert_str_eq(p.exp[0].want, "OFFLINE_SOFT");
	ck_assert_str_eq(p.note, "127.0.0.1:3307 OFFLINE_SOFT in hostgroup 10 (was ONLINE)");
	psql_plan_free(&p);

	/* db2 only reads: draining it as the writer means ProxySQL is not routed as we think. */
	ck_assert_int_eq(psql_plan_drain(&c, &s, &stray, false, &p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "old primary 127.0.0.1:3308 is not in writer hostgroup 10 of mysql_servers "
			      "(127.0.0.1:3307 ONLINE)");
	ck_assert_uint_eq(p.n, 0);
	psql_snapshot_free(&s);
}
END_TEST

/* Tenant hostgroups (tenant_hostgroups) that hold the old primary follow it through a switchover:
 * OFFLINE_SOFT at the drain, the new primary in its place at promote, as they were at a rollback
 * and undrain; those on another server (a tenant moved to another cluster) are left alone. */
START_TEST(test_plan_tenant_hostgroups_follow)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s, now;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256], *q;

	c.tenant_hg_lo = 1000;
	c.tenant_hg_hi = 1099;
	c.tenant_rule_lo = 100;
	c.tenant_rule_hi = 199;
	q = psql_snapshot_sql_router(&c);
	ck_assert_str_eq(q, "SELECT hostgroup_id, hostname, port, gtid_port, status, weight, compression, max_connections, "
			    "max_replication_lag, use_ssl, max_latency_ms, comment FROM mysql_servers WHERE hostgroup_id IN "
			    "(10, 20) OR hostgroup_id BETWEEN 1000 AND 1099 ORDER BY hostgroup_id, hostname, port");
	free(q);
	snapshot_of(&s, 4,
		    "10", "127.0.0.1", "3307", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "",
		    "20", "127.0.0.1", "3308", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "",
		    "1000", "127.0.0.1", "3307", "0", "ONLINE", "3", "0", "77", "0", "0", "0", "cutoverd tenant schema:acme",
		    "1001", "10.9.9.9", "3306", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "cutoverd tenant schema:moved");
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 4,
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=1000 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 2);
	ck_assert_int_eq(p.exp[1].hostgroup, 1000);
	ck_assert_str_eq(p.exp[1].want, "OFFLINE_SOFT");
	psql_plan_free(&p);

	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &new_, false, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 6);
	ck_assert_str_eq(p.sql[2], "DELETE FROM mysql_servers WHERE hostgroup_id=1000");
	ck_assert_str_eq(p.sql[3], INSERT_COLS "(1000, '127.0.0.1', 3308, 0, 'ONLINE', 3, 0, 77, 0, 0, 0, "
					       "'cutoverd tenant schema:acme')");
	ck_assert_str_eq(p.sql[4], "LOAD MYSQL SERVERS TO RUNTIME");
	ck_assert_uint_eq(p.nexp, 4);
	ck_assert_int_eq(p.exp[0].hostgroup, 1000);
	ck_assert_int_eq(p.exp[0].ep.port, 3308);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	ck_assert_int_eq(p.exp[1].ep.port, 3307);
	ck_assert_str_eq(p.exp[1].want, "ABSENT");
	psql_plan_free(&p);

	ck_assert_int_eq(psql_plan_rollback(&c, &s, &old, &new_, &p, err, sizeof(err)), 0);
	check_sql(&p, 6,
		  "DELETE FROM mysql_servers WHERE hostgroup_id=10",
		  INSERT_COLS "(10, '127.0.0.1', 3307, 0, 'ONLINE', 1, 0, 1000, 0, 0, 0, '')",
		  "DELETE FROM mysql_servers WHERE hostgroup_id=1000",
		  INSERT_COLS "(1000, '127.0.0.1', 3307, 0, 'ONLINE', 3, 0, 77, 0, 0, 0, 'cutoverd tenant schema:acme')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	psql_plan_free(&p);

	/* after a restart past the drain: both back ONLINE from what mysql_servers has now */
	snapshot_of(&now, 3,
		    "10", "127.0.0.1", "3307", "0", "OFFLINE_SOFT", "1", "0", "1000", "0", "0", "0", "",
		    "1000", "127.0.0.1", "3307", "0", "OFFLINE_SOFT", "3", "0", "77", "0", "0", "0", "",
		    "1001", "10.9.9.9", "3306", "0", "OFFLINE_SOFT", "1", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_undrain(&c, &now, &old, &p, err, sizeof(err)), 0);
	check_sql(&p, 4,
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=1000 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	psql_plan_free(&p);

	/* without tenant ranges, the same snapshot: hostgroup 1000 is none of ours */
	c.tenant_hg_lo = c.tenant_hg_hi = -1;
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, false, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 3);
	psql_plan_free(&p);
	psql_snapshot_free(&now);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_drain_quoting)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("db'4.example", 3306);
	char err[256];

	snapshot_of(&s, 1, "10", "db'4.example", "3306", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, false, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.sql[0], "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=10 "
				   "AND hostname='db''4.example' AND port=3306");
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_promote)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256];

	usual_snapshot(&s);
	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &new_, false, &p, err, sizeof(err)), 0);
	/* Role settings from the old writer row, gtid_port and comment from db2's own row. */
	check_sql(&p, 4,
		  "DELETE FROM mysql_servers WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  REPLACE_COLS "(10, '127.0.0.1', 3308, 3399, 'ONLINE', 1000, 0, 500, 0, 1, 0, 'replica db2')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 2);
	ck_assert_int_eq(p.exp[0].ep.port, 3308);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	ck_assert_int_eq(p.exp[1].ep.port, 3307);
	ck_assert_str_eq(p.exp[1].want, "ABSENT");
	psql_plan_free(&p);

	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &old, false, &p, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "old and new primary are the same backend 127.0.0.1:3307");
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_promote_missing_rows)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("db'4.example", 3306);
	char err[256];

	/* The old primary already gone from the writers, the new one unknown to ProxySQL. */
	snapshot_of(&s, 1, "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 3,
		  REPLACE_COLS "(10, 'db''4.example', 3306, 0, 'ONLINE', 1, 0, 1000, 0, 0, 0, '')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_ptr_nonnull(strstr(p.note, "old primary 127.0.0.1:3307 was not in hostgroup 10"));
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

/* A read shift's weights: the share asked, exact in expectation; small weights scaled; 100 %
 * takes the others OFFLINE_SOFT; every step from the snapshot as the shift found it. */
START_TEST(test_plan_shift)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint db3 = ep("127.0.0.1", 3309), db4 = ep("10.9.9.9", 3306);
	char err[256];

	/* readers db1 (weight 1), db2 (5), db3 (1): db1 and db2 are the others, 6 in all → x1667 */
	usual_snapshot(&s);
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 25, 1.0, NULL, &p, err, sizeof(err)), 0);
	check_sql(&p, 5,
		  "UPDATE mysql_servers SET weight=1667 WHERE hostgroup_id=20 AND hostname='127.0.0.1' AND port=3307",
		  "UPDATE mysql_servers SET weight=8335 WHERE hostgroup_id=20 AND hostname='127.0.0.1' AND port=3308",
		  "INSERT OR REPLACE INTO mysql_servers (hostgroup_id, hostname, port, gtid_port, status, weight, compression, "
		  "max_connections, max_replication_lag, use_ssl, max_latency_ms, comment) VALUES "
		  "(20, '127.0.0.1', 3309, 0, 'ONLINE', 3334, 0, 1000, 10, 0, 0, '')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	/* 3334 / (10002 + 3334) = 25.0 % */
	ck_assert_msg(strstr(p.note, "weight 3334 against 10002"), "%s", p.note);
	ck_assert_uint_eq(p.nexp, 1);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	psql_plan_free(&p);

	/* 100 %: the others OFFLINE_SOFT, the target at its own weight */
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 100, 1.0, NULL, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 5);
	ck_assert_str_eq(p.sql[0], "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=20 AND "
				   "hostname='127.0.0.1' AND port=3307");
	ck_assert_uint_eq(p.nexp, 3);
	ck_assert_str_eq(p.exp[0].want, "OFFLINE_SOFT");
	ck_assert_str_eq(p.exp[2].want, "ONLINE");
	psql_plan_free(&p);

	/* a target ProxySQL does not know yet: the first other reader's settings, its own address */
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db4, 5, 1.0, NULL, &p, err, sizeof(err)), 0);
	ck_assert_msg(strstr(p.sql[p.n - 3], "(20, '10.9.9.9', 3306, 0, 'ONLINE', ") != NULL, "%s", p.sql[p.n - 3]);
	psql_plan_free(&p);

	/* refused: no reader hostgroup, a share out of range, no other reader */
	c.reader_hostgroup = -1;
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 5, 1.0, NULL, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no reader_hostgroup"), "%s", err);
	c.reader_hostgroup = R;
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 0, 1.0, NULL, &p, err, sizeof(err)), -1);
	psql_snapshot_free(&s);
	snapshot_of(&s, 1, "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
	ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 50, 1.0, NULL, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no other ONLINE server"), "%s", err);
	psql_snapshot_free(&s);

	/* the way back: the reader hostgroup as the snapshot had it */
	usual_snapshot(&s);
	/* a correction: what ProxySQL served asked for odds twice as high */
	{
		long long w = 0;
		ck_assert_int_eq(psql_plan_shift(&c, &s, &db3, 25, 2.0, &w, &p, err, sizeof(err)), 0);
		ck_assert_int_eq(w, 6668);
		psql_plan_free(&p);
		ck_assert_int_eq(psql_plan_weight(&c, &db3, 7000, &p), 0);
		ck_assert_str_eq(p.sql[0], "UPDATE mysql_servers SET weight=7000 WHERE hostgroup_id=20 AND hostname='127.0.0.1' AND "
					   "port=3309");
		ck_assert_uint_eq(p.n, 3);
		psql_plan_free(&p);
	}

	ck_assert_int_eq(psql_plan_restore(&s, R, &db4, &p), 0);
	ck_assert_str_eq(p.sql[0], "DELETE FROM mysql_servers WHERE hostgroup_id=20");
	ck_assert_uint_eq(p.nexp, 4);
	ck_assert_str_eq(p.exp[3].want, "ABSENT");   /* db4 had no row there */
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_rollback)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint new_ = ep("127.0.0.1", 3308);
	char err[256];

	snapshot_of(&s, 4,
		    "10", "127.0.0.1", "3307", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "it's primary",
		    "10", "10.0.0.5", "3306", "0", "OFFLINE_HARD", "1", "0", "1000", "0", "0", "0", "retired",
		    "10", "10.0.0.6", "3306", "0", "SHUNNED", "1", "0", "1000", "0", "0", "0", "",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "1", "800", "10", "0", "20", "replica db2");
	ck_assert_int_eq(psql_plan_rollback(&c, &s, NULL, &new_, &p, err, sizeof(err)), 0);
	check_sql(&p, 6,
		  "DELETE FROM mysql_servers WHERE hostgroup_id=10",
		  INSERT_COLS "(10, '127.0.0.1', 3307, 0, 'ONLINE', 1000, 0, 500, 0, 1, 0, 'it''s primary')",
		  INSERT_COLS "(10, '10.0.0.5', 3306, 0, 'OFFLINE_HARD', 1, 0, 1000, 0, 0, 0, 'retired')",
		  INSERT_COLS "(10, '10.0.0.6', 3306, 0, 'SHUNNED', 1, 0, 1000, 0, 0, 0, '')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 4);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	ck_assert_str_eq(p.exp[1].want, "ABSENT");
	ck_assert_str_eq(p.exp[2].want, "ONLINE");
	ck_assert_int_eq(p.exp[3].ep.port, 3308);
	ck_assert_str_eq(p.exp[3].want, "ABSENT");      /* the new primary out of the writers again */
	ck_assert_str_eq(p.note, "hostgroup 10 restored (3 rows)");
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_undrain)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), other = ep("127.0.0.1", 3309);
	char err[256];

	snapshot_of(&s, 2,
		    "10", "127.0.0.1", "3307", "0", "OFFLINE_SOFT", "1000", "0", "500", "0", "1", "0", "",
		    "20", "127.0.0.1", "3309", "0", "OFFLINE_SOFT", "1", "0", "1000", "10", "0", "0", "");
	ck_assert_int_eq(psql_plan_undrain(&c, &s, &old, &p, err, sizeof(err)), 0);
	check_sql(&p, 3,
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 1);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	psql_plan_free(&p);
	/* Only the writer hostgroup's drain is ours to undo. */
	ck_assert_int_eq(psql_plan_undrain(&c, &s, &other, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_str_eq(p.note, "nothing to roll back (127.0.0.1:3309 is not in hostgroup 10)");
	psql_plan_free(&p);
	psql_snapshot_free(&s);
	usual_snapshot(&s);
	ck_assert_int_eq(psql_plan_undrain(&c, &s, &old, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_str_eq(p.note, "nothing to roll back (127.0.0.1:3307 is ONLINE in hostgroup 10)");
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_finalize)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot before, now;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256];

	/* Readers = the replicas: db1 writes, db2 and db3 read. */
	snapshot_of(&before, 3,
		    "10", "127.0.0.1", "3307", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "primary",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "1", "800", "10", "0", "20", "replica db2",
		    "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
	/* After promote: db2 writes, db2 and db3 read, db1 in no hostgroup. */
	snapshot_of(&now, 3,
		    "10", "127.0.0.1", "3308", "3399", "ONLINE", "1000", "0", "500", "0", "1", "0", "replica db2",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "1", "800", "10", "0", "20", "replica db2",
		    "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	/* db1 reads with db2's reader settings; db2 leaves the readers (db3 still reads). */
	check_sql(&p, 5,
		  INSERT_COLS "(20, '127.0.0.1', 3307, 0, 'ONLINE', 5, 1, 800, 10, 0, 20, '')",
		  "DELETE FROM mysql_servers WHERE hostgroup_id=20 AND hostname='127.0.0.1' AND port=3308",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SAVE MYSQL SERVERS TO DISK",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_uint_eq(p.nexp, 2);
	ck_assert_str_eq(p.exp[0].want, "ONLINE");
	ck_assert_int_eq(p.exp[0].hostgroup, 20);
	ck_assert_str_eq(p.exp[1].want, "ABSENT");
	psql_plan_free(&p);

	/* The monitor owns the hostgroups: only persist. */
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, true, &p, err, sizeof(err)), 0);
	check_sql(&p, 1, "SAVE MYSQL SERVERS TO DISK");
	ck_assert_uint_eq(p.nexp, 0);
	ck_assert_str_eq(p.note, "reader hostgroup left to ProxySQL's monitor");
	psql_plan_free(&p);

	c.reader_hostgroup = -1;
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 1, "SAVE MYSQL SERVERS TO DISK");
	psql_plan_free(&p);
	psql_snapshot_free(&now);
	psql_snapshot_free(&before);
}
END_TEST

START_TEST(test_plan_finalize_keeps_reads)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot before, now, none = { NULL, 0 };
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256];

	usual_snapshot(&before);
	/* Two servers: db2 is the only reader; it stays one even with db1 added back. */
	snapshot_of(&now, 2,
		    "10", "127.0.0.1", "3308", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "",
		    "20", "127.0.0.1", "3308", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 4,
		  INSERT_COLS "(20, '127.0.0.1', 3307, 0, 'ONLINE', 1, 0, 1000, 0, 0, 0, '')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SAVE MYSQL SERVERS TO DISK",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_ptr_nonnull(strstr(p.note, "127.0.0.1:3308 kept in reader hostgroup 20 (no other ONLINE reader)"));
	psql_plan_free(&p);
	psql_snapshot_free(&now);

	/* db1 already reads and db2 never did: nothing to change but persisting.  Without a
	 * drain snapshot the row template falls back to defaults (not needed here). */
	snapshot_of(&now, 2,
		    "10", "127.0.0.1", "3308", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "",
		    "20", "127.0.0.1", "3307", "0", "OFFLINE_SOFT", "1", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_finalize(&c, &none, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 1, "SAVE MYSQL SERVERS TO DISK");
	psql_plan_free(&p);
	psql_snapshot_free(&now);

	/* No drain snapshot and no reader row to copy: defaults, and the old primary's own. */
	snapshot_of(&now, 1, "10", "127.0.0.1", "3308", "0", "ONLINE", "1000", "0", "500", "0", "1", "0", "");
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.sql[0], INSERT_COLS "(20, '127.0.0.1', 3307, 0, 'ONLINE', 1000, 0, 500, 0, 1, 0, 'primary')");
	psql_plan_free(&p);
	ck_assert_int_eq(psql_plan_finalize(&c, &none, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.sql[0], INSERT_COLS "(20, '127.0.0.1', 3307, 0, 'ONLINE', 1, 0, 1000, 0, 0, 0, '')");
	psql_plan_free(&p);
	psql_snapshot_free(&now);
	psql_snapshot_free(&before);
}
END_TEST

START_TEST(test_plan_finalize_readers_all)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot before, now;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256];

	/* Readers = every server, the primary too (the runbook's layout): after the promote db1
	 * still reads, and db2 keeps reading as the primary did. */
	usual_snapshot(&before);
	snapshot_of(&now, 4,
		    "10", "127.0.0.1", "3308", "3399", "ONLINE", "1000", "0", "500", "0", "1", "0", "replica db2",
		    "20", "127.0.0.1", "3307", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "",
		    "20", "127.0.0.1", "3308", "3399", "ONLINE", "5", "1", "800", "10", "0", "20", "replica db2",
		    "20", "127.0.0.1", "3309", "0", "ONLINE", "1", "0", "1000", "10", "0", "0", "");
	ck_assert_int_eq(psql_plan_finalize(&c, &before, &now, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 1, "SAVE MYSQL SERVERS TO DISK");
	ck_assert_msg(strstr(p.note, "127.0.0.1:3308 kept in reader hostgroup 20 (the primary reads too, as before)"),
		      "%s", p.note);
	psql_plan_free(&p);
	psql_snapshot_free(&now);
	psql_snapshot_free(&before);
}
END_TEST

START_TEST(test_plan_drain_monitor)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307);
	char err[256];

	/* With the monitor, the fenced old primary may leave the writers on its own: either will do. */
	usual_snapshot(&s);
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, true, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_uint_eq(p.nexp, 1);
	ck_assert_str_eq(p.exp[0].want, "DRAINED");
	psql_plan_free(&p);
	psql_snapshot_free(&s);

	/* Already gone when the drain looked: nothing to do, and no error. */
	snapshot_of(&s, 1, "20", "127.0.0.1", "3307", "0", "ONLINE", "1", "0", "1000", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, true, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_str_eq(p.note, "127.0.0.1:3307 already out of hostgroup 10 (ProxySQL's monitor saw it read-only)");
	psql_plan_free(&p);
	/* Without the monitor the same is a routing cutoverd does not understand. */
	ck_assert_int_eq(psql_plan_drain(&c, &s, &old, false, &p, err, sizeof(err)), -1);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_plan_promote_soft_replicas)
{
	struct cfg_router c = test_cfg();
	struct psql_snapshot s;
	struct psql_plan p;
	struct psql_endpoint old = ep("127.0.0.1", 3307), new_ = ep("127.0.0.1", 3308);
	char err[256];

	/* The writer hostgroup keeps the replicas OFFLINE_SOFT: the old primary joins them. */
	snapshot_of(&s, 3,
		    "10", "127.0.0.1", "3307", "0", "OFFLINE_SOFT", "1000", "0", "500", "0", "0", "0", "",
		    "10", "127.0.0.1", "3308", "0", "OFFLINE_SOFT", "1000", "0", "500", "0", "0", "0", "",
		    "10", "127.0.0.1", "3309", "0", "OFFLINE_SOFT", "1000", "0", "500", "0", "0", "0", "");
	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &new_, false, &p, err, sizeof(err)), 0);
	check_sql(&p, 4,
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307",
		  REPLACE_COLS "(10, '127.0.0.1', 3308, 0, 'ONLINE', 1000, 0, 500, 0, 0, 0, '')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SELECT hostgroup_id, hostname, port, status, weight, max_connections FROM runtime_mysql_servers");
	ck_assert_str_eq(p.exp[1].want, "OFFLINE_SOFT");
	psql_plan_free(&p);
	/* With the monitor on, a read-only server leaves the writer hostgroup whatever we do. */
	ck_assert_int_eq(psql_plan_promote(&c, &s, &old, &new_, true, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.sql[0], "DELETE FROM mysql_servers WHERE hostgroup_id=10 AND hostname='127.0.0.1' AND port=3307");
	ck_assert_str_eq(p.exp[1].want, "ABSENT");
	psql_plan_free(&p);
	psql_snapshot_free(&s);
}
END_TEST

START_TEST(test_check_runtime_drained)
{
	struct rowset *rt = rows(RUNTIME_COLS, 6, 2,
				 "10", "127.0.0.1", "3307", "OFFLINE_SOFT", "1", "1000",
				 "10", "127.0.0.1", "3308", "ONLINE", "1", "1000");
	struct psql_expect x[3];
	char msg[512];

	memset(x, 0, sizeof(x));
	x[0].hostgroup = x[1].hostgroup = x[2].hostgroup = 10;
	x[0].ep = ep("127.0.0.1", 3307);
	x[1].ep = ep("127.0.0.1", 3309);
	x[2].ep = ep("127.0.0.1", 3308);
	strlcpy_(x[0].want, "DRAINED", sizeof(x[0].want));
	strlcpy_(x[1].want, "DRAINED", sizeof(x[1].want));
	strlcpy_(x[2].want, "DRAINED", sizeof(x[2].want));
	ck_assert_int_eq(psql_check_runtime(rt, x, 2, msg, sizeof(msg)), 0);
	ck_assert_int_eq(psql_check_runtime(rt, x, 3, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "hostgroup 10 127.0.0.1:3308: wanted OFFLINE_SOFT or no row, runtime has ONLINE");
	rowset_free(rt);
}
END_TEST

/* ---- psql_view_checks ---- */

static const char *const USERS_COLS[] = { "config", "runtime" };

START_TEST(test_view_checks)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	struct rowset *rt, *conf, *users;
	char *sql;

	memset(&v, 0, sizeof(v));
	rt = rows(RUNTIME_COLS, 6, 4,
		  "10", "127.0.0.1", "3307", "ONLINE", "1", "1000",
		  "20", "127.0.0.1", "3308", "SHUNNED", "1", "1000",
		  "20", "127.0.0.1", "3309", "OFFLINE_HARD", "1", "1000",
		  "99", "10.9.9.9", "3306", "ONLINE", "1", "1000");
	/* The same as runtime, seen through health: SHUNNED is ONLINE, OFFLINE_HARD is gone;
	 * other hostgroups are not ours to compare. */
	conf = rows(RUNTIME_COLS, 6, 2,
		    "10", "127.0.0.1", "3307", "ONLINE", "1", "1000",
		    "20", "127.0.0.1", "3308", "ONLINE", "1", "1000");
	users = rows(USERS_COLS, 2, 1, "0", "0");
	psql_view_checks(rt, conf, users, &c, &v);
	ck_assert_str_eq(v.pending, "");
	ck_assert_str_eq(v.admin_clash, "");
	ck_assert_str_eq(v.caution, "");
	rowset_free(conf);
	rowset_free(users);

	/* Someone's change not loaded: a weight, a new row, a row gone. */
	conf = rows(RUNTIME_COLS, 6, 2,
		    "10", "127.0.0.1", "3307", "ONLINE", "5", "1000",
		    "20", "127.0.0.1", "3310", "ONLINE", "1", "1000");
	users = rows(USERS_COLS, 2, 1, "1", "0");
	psql_view_checks(rt, conf, users, &c, &v);
	ck_assert_str_eq(v.pending, "mysql_servers differs from runtime_mysql_servers: hostgroup 10 127.0.0.1:3307 "
				    "weight 5 max_connections 1000 in mysql_servers, 1 and 1000 at runtime; hostgroup 20 "
				    "127.0.0.1:3310 is in mysql_servers, not at runtime (and more)");
	ck_assert_msg(strstr(v.admin_clash, "ProxySQL admin user 'admin' is also a mysql_users name (in mysql_users, "
			     "not loaded yet)") == v.admin_clash, "%s", v.admin_clash);
	rowset_free(conf);
	rowset_free(users);

	/* A status changed in the configuration only. */
	conf = rows(RUNTIME_COLS, 6, 2,
		    "10", "127.0.0.1", "3307", "OFFLINE_SOFT", "1", "1000",
		    "20", "127.0.0.1", "3308", "ONLINE", "1", "1000");
	users = rows(USERS_COLS, 2, 1, "1", "1");
	psql_view_checks(rt, conf, users, &c, &v);
	ck_assert_str_eq(v.pending, "mysql_servers differs from runtime_mysql_servers: hostgroup 10 127.0.0.1:3307 "
				    "status OFFLINE_SOFT in mysql_servers, ONLINE at runtime");
	ck_assert_ptr_nonnull(strstr(v.admin_clash, "(loaded to runtime)"));
	rowset_free(conf);
	rowset_free(users);

	/* With the monitor on, a server it moved (ProxySQL 2.7 at runtime only) is not someone's
	 * unloaded change; a weight changed on a row in both still is. */
	v.auto_failover_hostgroups = true;
	conf = rows(RUNTIME_COLS, 6, 3,
		    "10", "127.0.0.1", "3308", "ONLINE", "1", "1000",
		    "20", "127.0.0.1", "3307", "ONLINE", "1", "1000",
		    "20", "127.0.0.1", "3308", "ONLINE", "1", "1000");
	psql_view_checks(rt, conf, NULL, &c, &v);
	ck_assert_str_eq(v.pending, "");
	rowset_free(conf);
	conf = rows(RUNTIME_COLS, 6, 2,
		    "10", "127.0.0.1", "3307", "ONLINE", "7", "1000",
		    "20", "127.0.0.1", "3309", "ONLINE", "1", "1000");
	psql_view_checks(rt, conf, NULL, &c, &v);
	ck_assert_str_eq(v.pending, "mysql_servers differs from runtime_mysql_servers: hostgroup 10 127.0.0.1:3307 "
				    "weight 7 max_connections 1000 in mysql_servers, 1 and 1000 at runtime");
	rowset_free(conf);
	v.auto_failover_hostgroups = false;
	rowset_free(rt);

	/* A writer hostgroup that does not exist. */
	c.writer_hostgroup = 11;
	rt = rows(RUNTIME_COLS, 6, 3,
		  "10", "127.0.0.1", "3307", "ONLINE", "1", "1000",
		  "20", "127.0.0.1", "3308", "ONLINE", "1", "1000",
		  "20", "127.0.0.1", "3309", "ONLINE", "1", "1000");
	psql_view_checks(rt, NULL, NULL, &c, &v);
	ck_assert_str_eq(v.caution, "writer_hostgroup 11 has no server in runtime_mysql_servers (hostgroups there: 10, 20)");
	ck_assert_str_eq(v.pending, "");
	rowset_free(rt);

	{
		struct psql_endpoint e = ep("db'1", 3307);

		sql = psql_in_flight_sql(&e);
		ck_assert_str_eq(sql, "SELECT COUNT(*) AS n FROM stats_mysql_processlist WHERE srv_host='db''1' AND "
				      "srv_port=3307 AND command <> 'Sleep'");
		free(sql);
	}
	sql = psql_admin_user_sql("o'neil");
	ck_assert_str_eq(sql, "SELECT (SELECT COUNT(*) FROM mysql_users WHERE username='o''neil') AS config, "
			      "(SELECT COUNT(*) FROM runtime_mysql_users WHERE username='o''neil') AS runtime");
	free(sql);
}
END_TEST

/* ---- the driver's glue, without a ProxySQL ---- */

struct outcome {
	int calls;
	int err;
	bool in_call, sync;
	char msg[1024];
};

static struct event_base *test_base;
static struct config test_config;

static void on_done(struct router *r, int err, const char *msg, void *arg);
static void hang_guard(evutil_socket_t fd, short what, void *arg);
static void wait_for(struct outcome *o, int calls);
static void loop_setup(void);
static void loop_teardown(void);

static void on_done(struct router *r, int err, const char *msg, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->err = err;
	o->sync |= o->in_call;
	strlcpy_(o->msg, msg ? msg : "(null)", sizeof(o->msg));
}

static void hang_guard(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

static void wait_for(struct outcome *o, int calls)
{
	bool hung = false;
	struct timeval tv = { 60, 0 };
	struct event *guard = evtimer_new(test_base, hang_guard, &hung);

	evtimer_add(guard, &tv);
	while (o->calls < calls && !hung)
		event_base_loop(test_base, EVLOOP_ONCE);
	event_free(guard);
	ck_assert_msg(!hung, "the driver never reported (last message: %s)", o->msg);
	ck_assert_int_eq(o->calls, calls);
	ck_assert_msg(!o->sync, "the driver reported from inside the call");
}

#define RUN(o, call) do { (o)->calls = 0; (o)->sync = false; (o)->in_call = true; call; \
	(o)->in_call = false; wait_for((o), 1); } while (0)

static void loop_setup(void)
{
	test_base = event_base_new();
	memset(&test_config, 0, sizeof(test_config));
}

static void loop_teardown(void)
{
	event_base_free(test_base);
	test_base = NULL;
}

START_TEST(test_driver_unreachable)
{
	struct cfg_router c = test_cfg();
	struct outcome o = { 0 };
	struct router *r;
	char err[256];

	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_ptr_eq(r->ops, &router_proxysql_ops);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_msg(!strncmp(o.msg, "proxysql router 'px' (127.0.0.1:1): ", 36), "%s", o.msg);
	ck_assert_ptr_nonnull(strstr(o.msg, "during 'SELECT hostgroup_id, hostname, port, status"));
	ck_assert(!r->view.reachable);
	ck_assert_str_eq(r->view.error, o.msg);
	ck_assert(!r->busy);
	router_free(r);
}
END_TEST

/* A TCP socket that accepts (the kernel's backlog) but never sends the handshake: the deadline. */
START_TEST(test_driver_timeout)
{
	struct cfg_router c = test_cfg();
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct outcome o = { 0 };
	struct router *r;
	char addr[32], err[256], want[128];
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));
	c.address = addr;
	c.timeout_ms = 300;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	snprintf(want, sizeof(want), "proxysql router 'px' (%s): ", addr);
	ck_assert_msg(!strncmp(o.msg, want, strlen(want)), "%s", o.msg);
	ck_assert_msg(strstr(o.msg, "(during 'SELECT hostgroup_id, hostname, port, status") != NULL, "%s", o.msg);
	ck_assert(!r->view.reachable);
	router_free(r);
	close(lfd);
}
END_TEST

START_TEST(test_driver_steps_without_proxysql)
{
	struct cfg_router c = test_cfg();
	struct cfg_server db1 = { .name = "db1" }, db9 = { .name = "db9" };
	struct router_switch sw = { .cluster = "main", .old_primary = &db1, .new_primary = &db9,
				    .phase = "drain", .id = "t1" };
	struct outcome a = { 0 }, b = { 0 };
	struct router *r;
	char err[256];

	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	/* Without a restore point rollback has to look at mysql_servers: it cannot here. */
	sw.new_primary = &db1;
	RUN(&a, r->ops->rollback(r, &sw, on_done, &a));
	ck_assert_int_ne(a.err, 0);
	ck_assert_msg(strstr(a.msg, "(during 'SELECT hostgroup_id, hostname, port, gtid_port") != NULL, "%s", a.msg);
	sw.new_primary = &db9;
	/* A server without a ProxySQL address. */
	RUN(&a, r->ops->drain(r, &sw, on_done, &a));
	ck_assert_int_ne(a.err, 0);
	ck_assert_str_eq(a.msg, "proxysql router 'px': server 'db9' has no ProxySQL host:port (not in "
				"cluster 'main' or the server_map)");
	/* Busy: refused from the loop; the first operation still reports once. */
	sw.new_primary = &db1;
	a.calls = b.calls = 0;
	a.in_call = b.in_call = true;
	r->ops->drain(r, &sw, on_done, &a);
	r->ops->promote(r, &sw, on_done, &b);
	a.in_call = b.in_call = false;
	wait_for(&b, 1);
	ck_assert_int_ne(b.err, 0);
	ck_assert_str_eq(b.msg, "proxysql router 'px': cannot promote, a drain is still running");
	wait_for(&a, 1);
	ck_assert_int_ne(a.err, 0);
	ck_assert_ptr_nonnull(strstr(a.msg, "during 'SELECT hostgroup_id, hostname, port, gtid_port"));
	/* Freed with an operation pending: no callback, no leak. */
	r->ops->poll(r, on_done, &a);
	router_free(r);
}
END_TEST

START_TEST(test_driver_open_errors)
{
	struct cfg_router c = test_cfg();
	char err[256];

	c.address = "127.0.0.1:notaport";
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	ck_assert_str_eq(err, "proxysql router 'px': address '127.0.0.1:notaport' is not HOST:PORT");
	c = test_cfg();
	c.reader_hostgroup = W;
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "writer_hostgroup 10 must be >= 0 and differ from reader_hostgroup"));
}
END_TEST

Suite *proxysql_suite(void)
{
	Suite *s = suite_create("proxysql");
	TCase *tc;

	tc = tcase_create("psql_parse_endpoint");
	tcase_add_test(tc, test_parse_endpoint);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_name_of");
	tcase_add_test(tc, test_name_map);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_literal");
	tcase_add_test(tc, test_literal);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_status_flags");
	tcase_add_test(tc, test_status_flags);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_auto_failover");
	tcase_add_test(tc, test_auto_failover);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_parse_view");
	tcase_add_test(tc, test_parse_view);
	tcase_add_test(tc, test_parse_counters);
	tcase_add_test(tc, test_parse_view_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_snapshot_sql");
	tcase_add_test(tc, test_snapshot_sql);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_parse_snapshot");
	tcase_add_test(tc, test_parse_snapshot);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_snapshot_find");
	tcase_add_test(tc, test_snapshot_find);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_check_runtime");
	tcase_add_test(tc, test_check_runtime);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_plan_drain");
	tcase_add_test(tc, test_plan_drain);
	tcase_add_test(tc, test_plan_drain_quoting);
	tcase_add_test(tc, test_plan_tenant_hostgroups_follow);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_plan_promote");
	tcase_add_test(tc, test_plan_promote);
	tcase_add_test(tc, test_plan_promote_missing_rows);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_plan_rollback");
	tcase_add_test(tc, test_plan_rollback);
	tcase_add_test(tc, test_plan_shift);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_plan_undrain");
	tcase_add_test(tc, test_plan_undrain);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_plan_finalize");
	tcase_add_test(tc, test_plan_finalize);
	tcase_add_test(tc, test_plan_finalize_keeps_reads);
	tcase_add_test(tc, test_plan_finalize_readers_all);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_monitor_and_layouts");
	tcase_add_test(tc, test_plan_drain_monitor);
	tcase_add_test(tc, test_plan_promote_soft_replicas);
	tcase_add_test(tc, test_check_runtime_drained);
	suite_add_tcase(s, tc);
	tc = tcase_create("psql_view_checks");
	tcase_add_test(tc, test_view_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver");
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_driver_unreachable);
	tcase_add_test(tc, test_driver_timeout);
	tcase_add_test(tc, test_driver_steps_without_proxysql);
	tcase_add_test(tc, test_driver_open_errors);
	suite_add_tcase(s, tc);
	return s;
}
