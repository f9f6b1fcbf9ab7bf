/* Unit tests for the HAProxy router: haproxy_parse.c against `show stat` output captured from
 * HAProxy 2.6 (a write backend with one ready server holding a session, one MAINT, one DRAIN,
 * and a read backend whose checks fail), router.c's helpers, and the driver itself against a
 * real haproxy started on a temporary Unix socket (skipped only if /usr/sbin/haproxy is missing). */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "haproxy_parse.h"
#include "router.h"
#include "util.h"

Suite *haproxy_suite(void);

#define HAPROXY_BIN "/usr/sbin/haproxy"

/* `echo "show stat" | socat - UNIX-CONNECT:…` on HAProxy 2.6.12, verbatim. */
static const char SHOW_STAT[] =
	"# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n"
	"fe_write,FRONTEND,,,1,1,9985,1,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,,,,,,,,0,0,0,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,1,1,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
	"mysql_write,db1,0,0,1,1,,1,0,0,,0,,0,0,0,0,no check,1,1,0,,,3,,,1,3,1,,1,,2,0,,1,,,,,,,,,,,,,,0,0,,,,,3,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:23307,,tcp,,,,,,,,0,1,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
	"mysql_write,db2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,3,,,1,3,2,,0,,2,0,,0,,,,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:23308,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
	"mysql_write,db3,0,0,0,0,,0,0,0,,0,,0,0,0,0,DRAIN,1,1,0,,,2,,,1,3,3,,0,,2,0,,0,,,,,,,,,,,,,,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:23309,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
	"mysql_write,BACKEND,0,0,1,1,999,1,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,3,0,,1,3,0,,1,,1,0,,1,,,,,,,,,,,,,,0,0,0,0,0,0,3,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,1,0,,,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
	"mysql_read,db1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,3,3,,1,4,1,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:23307,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
	"mysql_read,db2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,2,2,,1,4,2,,0,,2,0,,0,L4CON,,0,,,,,,,,,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:23308,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
	"mysql_read,BACKEND,0,0,0,0,1,0,0,0,0,0,,0,0,0,0,DOWN,0,0,0,,1,2,2,,1,4,0,,0,,1,0,,0,,,,,,,,,,,,,,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,0,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
	"\n";

static char *map_server[] = { "alpha", "beta", "gamma" };
static char *map_router[] = { "db1", "db2", "db3" };

static struct cfg_router test_cfg(void);
static const struct router_backend *be_named(const struct router_view *v, const char *name);

static struct cfg_router test_cfg(void)
{
	struct cfg_router c;

	memset(&c, 0, sizeof(c));
	c.name = "lb";
	c.cluster = "main";
	c.type = ROUTER_HAPROXY;
	c.address = "/nonexistent/haproxy.sock";
	c.backend = "mysql_write";
	c.read_backend = "mysql_read";
	c.writer_hostgroup = -1;
	c.reader_hostgroup = -1;
	c.n_map = 3;
	c.map_server = map_server;
	c.map_router = map_router;
	c.timeout_ms = 10000;
	return c;
}

static const struct router_backend *be_named(const struct router_view *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->be[i].name, name))
			return &v->be[i];
	return NULL;
}

/* ---- hx_parse_stat ---- */

START_TEST(test_parse_real_capture)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	const struct router_backend *b;
	char err[256] = "untouched";

	memset(&v, 0, sizeof(v));
	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(v.n, 5);     /* 3 writers + 2 readers; FRONTEND/BACKEND rows skipped */

	b = be_named(&v, "mysql_write/db1");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->server, "alpha");
	ck_assert_str_eq(b->state, "no check");
	ck_assert(b->writer && b->admin_up && b->healthy);
	ck_assert_int_eq(b->sessions, 1);
	ck_assert_int_eq(b->weight, 1);
	ck_assert_str_eq(b->host, "127.0.0.1");
	ck_assert_int_eq(b->port, 23307);
	ck_assert_int_eq(b->hostgroup, -1);
	ck_assert_int_eq(b->max_connections, -1);

	b = be_named(&v, "mysql_write/db2");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->server, "beta");
	ck_assert_str_eq(b->state, "MAINT");
	ck_assert(b->writer && !b->admin_up && !b->healthy);
	ck_assert_int_eq(b->sessions, 0);

	b = be_named(&v, "mysql_write/db3");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->state, "DRAIN");
	ck_assert(!b->admin_up && b->healthy);
	ck_assert_int_eq(b->port, 23309);

	b = be_named(&v, "mysql_read/db1");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->server, "alpha");
	ck_assert_str_eq(b->state, "DOWN");
	ck_assert(!b->writer && b->admin_up && !b->healthy);
	ck_assert_ptr_null(be_named(&v, "mysql_write/BACKEND"));
	ck_assert_ptr_null(be_named(&v, "fe_write/FRONTEND"));
}
END_TEST

START_TEST(test_parse_no_read_backend)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];
	size_t i;

	c.read_backend = NULL;
	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n, 3);
	for (i = 0; i < v.n; i++)
		ck_assert(v.be[i].writer);
}
END_TEST

START_TEST(test_parse_header_driven)
{
	/* Columns in another order, fewer of them, trailing commas, a quoted comma, CRLF. */
	static const char csv[] =
		"# svname,status,pxname,scur,weight,check_desc,addr,\r\n"
		"db2,UP 1/3,mysql_write,7,100,\"Layer4 check, passed\",[::1]:3307,\r\n"
		"BACKEND,UP,mysql_write,7,100,,,\r\n"
		"db1,NOLB,other,0,1,,,\r\n"
		"BACKEND,UP,other,0,1,,,\r\n"
		"\r\n";
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];

	c.read_backend = NULL;
	ck_assert_msg(hx_parse_stat(csv, &c, &v, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_str_eq(v.be[0].name, "mysql_write/db2");
	ck_assert_str_eq(v.be[0].server, "beta");
	ck_assert_str_eq(v.be[0].state, "UP 1/3");
	ck_assert(v.be[0].admin_up && v.be[0].healthy);
	ck_assert_int_eq(v.be[0].sessions, 7);
	ck_assert_int_eq(v.be[0].weight, 100);
	ck_assert_str_eq(v.be[0].host, "::1");
	ck_assert_int_eq(v.be[0].port, 3307);
}
END_TEST

/* The watch's counters: stot as the queries (sessions, in TCP mode), econ + eresp as errors;
 * unknown (-1) where the columns are missing. */
START_TEST(test_parse_counters)
{
	static const char csv[] =
		"# pxname,svname,scur,stot,econ,eresp,status,addr\n"
		"mysql_write,db1,2,1200,3,4,UP,127.0.0.1:23307\n"
		"mysql_write,BACKEND,2,1200,3,4,UP,\n";
	static const char bare[] = "# pxname,svname,status\nmysql_write,db1,UP\nmysql_write,BACKEND,UP\n";
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];

	c.read_backend = NULL;
	ck_assert_int_eq(hx_parse_stat(csv, &c, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_int_eq(v.be[0].queries, 1200);
	ck_assert_int_eq(v.be[0].errors, 7);
	ck_assert_int_eq(hx_parse_stat(bare, &c, &v, err, sizeof(err)), 0);
	ck_assert_int_eq(v.be[0].queries, -1);
	ck_assert_int_eq(v.be[0].errors, -1);
	ck_assert(!v.lat_known);
}
END_TEST

START_TEST(test_parse_unmapped_server)
{
	static const char csv[] =
		"# pxname,svname,status\n"
		"mysql_write,stranger,UP\n"
		"mysql_write,BACKEND,UP\n";
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];

	c.read_backend = NULL;
	ck_assert_int_eq(hx_parse_stat(csv, &c, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n, 1);
	ck_assert_str_eq(v.be[0].server, "");
	ck_assert_str_eq(v.be[0].name, "mysql_write/stranger");
	ck_assert_int_eq(v.be[0].sessions, 0);   /* no scur column */
}
END_TEST

START_TEST(test_parse_missing_backend)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];

	c.backend = "mysql_rw";
	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "backend 'mysql_rw' not found in haproxy (backends: mysql_write, mysql_read)");

	c = test_cfg();
	c.read_backend = "reads";
	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "backend 'reads' not found in haproxy (backends: mysql_write, mysql_read)");

	/* A frontend is not a backend. */
	c = test_cfg();
	c.backend = "fe_write";
	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "backend 'fe_write' not found"));
}
END_TEST

START_TEST(test_parse_garbage)
{
	static const char *const bad[] = {
		"", "\n\n", "Permission denied\n\n", "Unknown command, but maybe one of the following ones is a better match:\n  help\n\n",
		"pxname,svname,status\nmysql_write,db1,UP\n",          /* no "# " */
		"# pxname,svname,weight\nmysql_write,db1,1\n",         /* no status column */
	};
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(hx_parse_stat(bad[i], &c, &v, err, sizeof(err)) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for \"%s\"", bad[i]);
		ck_assert_uint_eq(v.n, 0);
	}
	ck_assert_int_eq(hx_parse_stat(bad[2], &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unexpected answer to 'show stat': 'Permission denied'");
	ck_assert_int_eq(hx_parse_stat(bad[5], &c, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "'show stat' header lacks the status column");
}
END_TEST

START_TEST(test_parse_short_rows)
{
	/* Rows cut short must not read past their fields. */
	static const char csv[] =
		"# pxname,svname,qcur,scur,status,weight\n"
		"mysql_write,db1\n"
		"mysql_write,db2,0,3,MAINT\n"
		"mysql_write,BACKEND,0,0,UP,1\n"
		"mysql_read,BACKEND,0,0,UP,1\n";
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256];

	ck_assert_int_eq(hx_parse_stat(csv, &c, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.n, 2);
	ck_assert_str_eq(v.be[0].state, "");
	ck_assert(!v.be[0].admin_up && !v.be[0].healthy);
	ck_assert_str_eq(v.be[1].state, "MAINT");
	ck_assert_int_eq(v.be[1].sessions, 3);
	ck_assert_int_eq(v.be[1].weight, 0);
}
END_TEST

START_TEST(test_parse_too_many)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	char err[256], *csv = xstrdup("# pxname,svname,status\n"), *more;
	int i;

	c.read_backend = NULL;
	for (i = 0; i < ROUTER_MAX_BACKENDS + 3; i++) {
		more = xasprintf("%smysql_write,s%d,UP\n", csv, i);
		free(csv);
		csv = more;
	}
	more = xasprintf("%smysql_write,BACKEND,UP\n", csv);
	free(csv);
	csv = more;
	ck_assert_int_eq(hx_parse_stat(csv, &c, &v, err, sizeof(err)), -1);
	ck_assert_uint_eq(v.n, ROUTER_MAX_BACKENDS);
	ck_assert_ptr_nonnull(strstr(err, "more than 64 servers"));
	free(csv);
}
END_TEST

/* ---- hx_status_flags, hx_admin_word, hx_status_is ---- */

START_TEST(test_status_flags)
{
	static const struct { const char *status; bool admin_up, healthy; const char *word; } t[] = {
		{ "UP", true, true, "ready" },
		{ "UP 1/3", true, true, "ready" },
		{ "no check", true, true, "ready" },
		{ "DOWN", true, false, "ready" },
		{ "DOWN 1/2", true, false, "ready" },
		{ "DOWN (agent)", true, false, "ready" },
		{ "NOLB", true, false, "ready" },
		{ "NOLB 1/2", true, false, "ready" },
		{ "DRAIN", false, true, "drain" },
		{ "DRAIN (agent)", false, true, "drain" },
		{ "DRAIN 1/2", false, true, "drain" },
		{ "MAINT", false, false, "maint" },
		{ "MAINT (via mysql_write/db1)", false, false, "maint" },
		{ "MAINT (resolution)", false, false, "maint" },
		{ "", false, false, NULL },
		{ "UPPER", false, false, NULL },
		{ "up", false, false, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool a = !t[i].admin_up, h = !t[i].healthy;
		const char *w = hx_admin_word(t[i].status);

		hx_status_flags(t[i].status, &a, &h);
		ck_assert_msg(a == t[i].admin_up && h == t[i].healthy, "\"%s\": admin_up %d healthy %d",
			      t[i].status, a, h);
		ck_assert_msg(t[i].word ? (w && !strcmp(w, t[i].word)) : !w, "\"%s\": word %s",
			      t[i].status, w ? w : "NULL");
	}
}
END_TEST

START_TEST(test_status_is)
{
	ck_assert(hx_status_is("MAINT", "maint"));
	ck_assert(hx_status_is("MAINT (via a/b)", "maint"));
	ck_assert(!hx_status_is("MAINT", "ready"));
	ck_assert(hx_status_is("no check", "ready"));
	ck_assert(hx_status_is("DOWN", "ready"));
	ck_assert(hx_status_is("DRAIN", "drain"));
	ck_assert(hx_status_is("DOWN", "drain"));        /* DOWN hides DRAIN */
	ck_assert(!hx_status_is("UP", "drain"));
	ck_assert(!hx_status_is("bogus", "ready"));
}
END_TEST

/* ---- server map, names ---- */

START_TEST(test_name_map)
{
	struct cfg_router c = test_cfg();

	ck_assert_str_eq(hx_name_of(&c, "beta"), "db2");
	ck_assert_ptr_null(hx_name_of(&c, "db2"));
	ck_assert_ptr_null(hx_name_of(&c, NULL));
	ck_assert_str_eq(hx_server_of(&c, "db3"), "gamma");
	ck_assert_ptr_null(hx_server_of(&c, "gamma"));
	ck_assert_ptr_null(hx_server_of(&c, "BACKEND"));
}
END_TEST

START_TEST(test_valid_name)
{
	ck_assert(hx_valid_name("mysql_write"));
	ck_assert(hx_valid_name("db-1.example:3306"));
	ck_assert(!hx_valid_name(""));
	ck_assert(!hx_valid_name(NULL));
	ck_assert(!hx_valid_name("db1;shutdown sessions server x/y"));
	ck_assert(!hx_valid_name("db 1"));
	ck_assert(!hx_valid_name("a/b"));
	ck_assert(!hx_valid_name("db1\n"));
}
END_TEST

/* ---- command lines ---- */

START_TEST(test_cmd_drain)
{
	char *s = hx_cmd_drain("mysql_write", "db1", false);

	ck_assert_str_eq(s, "set server mysql_write/db1 state drain");
	free(s);
	s = hx_cmd_drain("mysql_write", "db1", true);
	ck_assert_str_eq(s, "show stat;set server mysql_write/db1 state drain");
	ck_assert_uint_eq(hx_cmd_count(s), 2);
	free(s);
	ck_assert_ptr_null(hx_cmd_drain("mysql_write", "db1;help", false));
	ck_assert_ptr_null(hx_cmd_drain(NULL, "db1", false));
}
END_TEST

START_TEST(test_cmd_promote)
{
	char *s = hx_cmd_promote("mysql_write", "db2", "db1", false);

	ck_assert_str_eq(s, "set server mysql_write/db2 state ready;set server mysql_write/db1 state maint;"
			    "shutdown sessions server mysql_write/db1");
	ck_assert_uint_eq(hx_cmd_count(s), 3);
	free(s);
	s = hx_cmd_promote("be", "n", "o", true);
	ck_assert_str_eq(s, "show stat;set server be/n state ready;set server be/o state maint;"
			    "shutdown sessions server be/o");
	free(s);
	ck_assert_ptr_null(hx_cmd_promote("be", "n m", "o", false));
}
END_TEST

START_TEST(test_cmd_rollback)
{
	char *s = hx_cmd_rollback("mysql_write", "db1", "ready", "db2", "maint");

	ck_assert_str_eq(s, "set server mysql_write/db1 state ready;set server mysql_write/db2 state maint;"
			    "shutdown sessions server mysql_write/db2");
	ck_assert_uint_eq(hx_cmd_count(s), 3);
	free(s);
	s = hx_cmd_rollback("b", "o", "drain", "n", "ready");
	ck_assert_str_eq(s, "set server b/o state drain;set server b/n state ready");
	free(s);
	s = hx_cmd_rollback("b", "o", NULL, "n", "drain");
	ck_assert_str_eq(s, "set server b/n state drain;shutdown sessions server b/n");
	free(s);
	s = hx_cmd_rollback("b", "o", "ready", "n", NULL);
	ck_assert_str_eq(s, "set server b/o state ready");
	free(s);
	s = hx_cmd_rollback("b", "o", NULL, "n", NULL);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(hx_cmd_count(s), 0);
	free(s);
	ck_assert_ptr_null(hx_cmd_rollback("b", "o;x", "ready", "n", NULL));
}
END_TEST

/* ---- answers ---- */

START_TEST(test_reply_part)
{
	static const char reply[] = "# pxname,svname,status\nbe,s,UP\n\n\nNo such server.\n\n";
	size_t len = 99;
	const char *a;

	a = hx_reply_part(reply, 0, &len);
	ck_assert_ptr_eq(a, reply);
	ck_assert_uint_eq(len, strlen("# pxname,svname,status\nbe,s,UP\n"));
	a = hx_reply_part(reply, 1, &len);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(len, 0);
	a = hx_reply_part(reply, 2, &len);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(len, strlen("No such server.\n"));
	ck_assert_ptr_null(hx_reply_part(reply, 3, &len));
	ck_assert_ptr_null(hx_reply_part("No such", 0, &len));
	ck_assert_ptr_null(hx_reply_part("", 0, &len));
}
END_TEST

START_TEST(test_reply_check)
{
	char err[256];

	ck_assert_int_eq(hx_reply_check("\n\n\n", 0, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(hx_reply_check("\nNo such server.\n\n\n", 0, 3, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "No such server.");
	ck_assert_int_eq(hx_reply_check("Require 'backend/server'.\n\n", 0, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Require 'backend/server'.");
	ck_assert_int_eq(hx_reply_check("No such backend.\n\n", 0, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "No such backend.");
	ck_assert_int_eq(hx_reply_check("Permission denied\n\n", 0, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Permission denied");
	ck_assert_int_eq(hx_reply_check("Unknown command, but maybe one of the following ones is a better "
					"match:\n  help   : this message\n\n", 0, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Unknown command, but maybe one of the following ones is a better match:;   help   : this message");
	/* Only the answers asked about: a CSV first, then empty ones. */
	ck_assert_int_eq(hx_reply_check("# pxname\nx\n\n\n", 1, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(hx_reply_check("\n", 0, 3, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "haproxy closed the connection after 1 of 3 answers");
	ck_assert_int_eq(hx_reply_check("", 0, 1, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "haproxy closed the connection after 0 of 1 answers");
}
END_TEST

/* ---- router.c ---- */

START_TEST(test_router_writer)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	const struct router_backend *w;
	char err[256];
	int count = -1;

	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), 0);
	w = router_writer(&v, &count);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(count, 1);
	ck_assert_str_eq(w->server, "alpha");
	/* Two writers taking work. */
	v.be[1].admin_up = true;
	w = router_writer(&v, &count);
	ck_assert_int_eq(count, 2);
	/* None: readers never count. */
	v.be[0].admin_up = v.be[1].admin_up = false;
	ck_assert_ptr_null(router_writer(&v, &count));
	ck_assert_int_eq(count, 0);
	ck_assert_ptr_null(router_writer(&v, NULL));
}
END_TEST

START_TEST(test_router_find)
{
	struct cfg_router c = test_cfg();
	struct router_view v;
	const struct router_backend *b;
	char err[256];

	ck_assert_int_eq(hx_parse_stat(SHOW_STAT, &c, &v, err, sizeof(err)), 0);
	b = router_find(&v, "beta", true);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->name, "mysql_write/db2");
	b = router_find(&v, "beta", false);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->name, "mysql_read/db2");
	ck_assert_ptr_null(router_find(&v, "gamma", false));
	ck_assert_ptr_null(router_find(&v, "", true));
	ck_assert_ptr_null(router_find(&v, NULL, true));
}
END_TEST

START_TEST(test_router_step_name)
{
	ck_assert_str_eq(router_step_name(RSTEP_STATUS), "status");
	ck_assert_str_eq(router_step_name(RSTEP_DRAIN), "drain");
	ck_assert_str_eq(router_step_name(RSTEP_PROMOTE), "promote");
	ck_assert_str_eq(router_step_name(RSTEP_ROLLBACK), "rollback");
	ck_assert_str_eq(router_step_name(RSTEP_FINALIZE), "finalize");
	ck_assert_str_eq(router_step_name(RSTEP__COUNT), "unknown");
}
END_TEST

/* ---- the driver, on the loop ---- */

struct outcome {
	struct event_base *base;
	int calls;
	int err;
	bool in_call;       /* set around the op call: a report inside it is a bug */
	bool sync;
	char msg[1024];
};

static struct event_base *test_base;
static struct config test_config;
static char hx_dir[64];
static char hx_sock[128];
static pid_t hx_pid = -1;
static int hx_tcp_port;

static void on_done(struct router *r, int err, const char *msg, void *arg);
static void wait_for(struct outcome *o, int calls);
static void hang_guard(evutil_socket_t fd, short what, void *arg);
static void loop_setup(void);
static void loop_teardown(void);
static int free_tcp_port(void);
static void haproxy_start(void);
static void haproxy_stop(void);
static void raw_view(struct router_view *v);
static const char *raw_state(const char *name);

static void on_done(struct router *r, int err, const char *msg, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->err = err;
	o->sync |= o->in_call;
	ck_assert_ptr_nonnull(msg);
	strlcpy_(o->msg, msg, sizeof(o->msg));
}

static void hang_guard(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Run the loop until `calls` reports arrived (a generous guard turns a hang into a failure). */
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
	ck_assert_ptr_eq(r->ops, &router_haproxy_ops);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_str_eq(o.msg, "haproxy router 'lb' (/nonexistent/haproxy.sock): connect: No such file or directory");
	ck_assert(!r->view.reachable);
	ck_assert_str_eq(r->view.error, o.msg);
	ck_assert(!r->busy);
	router_free(r);

	c.address = "127.0.0.1:1";
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_str_eq(o.msg, "haproxy router 'lb' (127.0.0.1:1): connect: Connection refused");
	router_free(r);
}
END_TEST

/* A socket that accepts connections (the kernel's backlog) but never answers: the deadline. */
START_TEST(test_driver_timeout)
{
	struct cfg_router c = test_cfg();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/check_haproxy.XXXXXX", want[512], err[256];
	struct outcome o = { 0 };
	struct router *r;
	int lfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/mute.sock", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	c.address = sun.sun_path;
	c.timeout_ms = 200;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	snprintf(want, sizeof(want), "haproxy router 'lb' (%s): no complete answer to 'show stat' within 200 ms",
		 sun.sun_path);
	ck_assert_str_eq(o.msg, want);
	ck_assert(!r->view.reachable);
	router_free(r);
	close(lfd);
	unlink(sun.sun_path);
	rmdir(dir);
}
END_TEST

START_TEST(test_driver_bad_address)
{
	struct cfg_router c = test_cfg();
	char err[256];

	c.address = "haproxy.example.com:9999";
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	ck_assert_str_eq(err, "haproxy router 'lb': address 'haproxy.example.com:9999': expected an absolute "
			      "socket path, unix:PATH or IP:PORT (host names are not resolved)");
	c.address = "unix:";
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "socket path must be"));
	c.address = "127.0.0.1";
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	c.address = "/run/haproxy.sock";
	c.backend = "write;help";
	ck_assert_ptr_null(router_new(test_base, &test_config, &c, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "backend name 'write;help'"));
}
END_TEST

START_TEST(test_driver_busy_and_unmapped)
{
	struct cfg_router c = test_cfg();
	struct cfg_server old = { .name = "alpha" }, stranger = { .name = "omega" };
	struct router_switch sw = { .cluster = "main", .old_primary = &old, .new_primary = &stranger,
				    .phase = "drain", .id = "t1" };
	struct outcome a = { 0 }, b = { 0 };
	struct router *r;
	char err[256];

	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	/* A second operation while one runs is refused, from the loop, and the first still ends. */
	a.in_call = b.in_call = true;
	r->ops->poll(r, on_done, &a);
	r->ops->drain(r, &sw, on_done, &b);
	a.in_call = b.in_call = false;
	wait_for(&b, 1);
	ck_assert_int_ne(b.err, 0);
	ck_assert_str_eq(b.msg, "haproxy router 'lb': cannot drain, a status is still running");
	wait_for(&a, 1);
	ck_assert_int_ne(a.err, 0);

	RUN(&b, r->ops->drain(r, &sw, on_done, &b));
	ck_assert_int_ne(b.err, 0);
	ck_assert_str_eq(b.msg, "haproxy router 'lb': server 'omega' has no HAProxy name (not in cluster "
				"'main' or the server_map)");
	/* Nothing remembered: rollback has to look, and cannot name the server. */
	RUN(&b, r->ops->rollback(r, &sw, on_done, &b));
	ck_assert_int_ne(b.err, 0);
	ck_assert_ptr_nonnull(strstr(b.msg, "server 'omega' has no HAProxy name"));
	RUN(&b, r->ops->finalize(r, &sw, on_done, &b));
	ck_assert_int_eq(b.err, 0);
	/* Freed with an operation pending: no callback, no leak. */
	r->ops->poll(r, on_done, &a);
	router_free(r);
}
END_TEST

/* A port nothing listens on right now (the kernel's choice), for HAProxy's TCP stats socket. */
static int free_tcp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* A real haproxy's config: mysql_write has db1 ready, db2 and db3 disabled; nothing listens
 * behind them and checks are off, so every state comes from the runtime API alone.  The admin
 * socket at sock, and on 127.0.0.1:tcp_port too unless it is 0. */
static void write_haproxy_cfg(const char *cfgpath, const char *sock, int tcp_port)
{
	FILE *f = fopen(cfgpath, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "global\n    stats socket %s mode 600 level admin\n", sock);
	if (tcp_port > 0)
		fprintf(f, "    stats socket ipv4@127.0.0.1:%d level admin\n", tcp_port);
	fprintf(f, "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n"
		"backend mysql_write\n    server db1 127.0.0.1:9\n    server db2 127.0.0.1:9 disabled\n"
		"    server db3 127.0.0.1:9 disabled\n"
		"backend mysql_read\n    server db1 127.0.0.1:9\n    server db2 127.0.0.1:9\n");
	fclose(f);
}

/* haproxy in the foreground (-db), a child that dies with the test; -sf OLD as a reload does. */
static pid_t haproxy_child(const char *cfgpath, pid_t old)
{
	char oldpid[16];
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(oldpid, sizeof(oldpid), "%d", (int)old);
		if (old > 0)
			execl(HAPROXY_BIN, "haproxy", "-db", "-q", "-f", cfgpath, "-sf", oldpid, (char *)NULL);
		else
			execl(HAPROXY_BIN, "haproxy", "-db", "-q", "-f", cfgpath, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* A real haproxy (write_haproxy_cfg) for the driver_live tests, on a Unix and a TCP socket. */
static void haproxy_start(void)
{
	char cfgpath[192];
	int i;

	loop_setup();
	hx_pid = -1;
	/* a dependency (tests/deps.sh): a live test without it fails rather than pass unrun */
	ck_assert_msg(access(HAPROXY_BIN, X_OK) == 0, "%s is missing (tests/deps.sh installs it)", HAPROXY_BIN);
	strlcpy_(hx_dir, "/tmp/check_haproxy.XXXXXX", sizeof(hx_dir));
	ck_assert_ptr_nonnull(mkdtemp(hx_dir));
	snprintf(hx_sock, sizeof(hx_sock), "%s/admin.sock", hx_dir);
	hx_tcp_port = free_tcp_port();
	snprintf(cfgpath, sizeof(cfgpath), "%s/haproxy.cfg", hx_dir);
	write_haproxy_cfg(cfgpath, hx_sock, hx_tcp_port);
	hx_pid = haproxy_child(cfgpath, 0);
	/* Wait (not a timing assertion) until the stats socket accepts connections. */
	for (i = 0; i < 1000; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0), ok;

		strlcpy_(sun.sun_path, hx_sock, sizeof(sun.sun_path));
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
		if (ok)
			return;
		ck_assert_msg(waitpid(hx_pid, NULL, WNOHANG) == 0, "haproxy exited at start (config %s)", cfgpath);
		usleep(10000);
	}
	ck_abort_msg("haproxy did not open %s", hx_sock);
}

static void haproxy_stop(void)
{
	char path[192];

	if (hx_pid > 0) {
		kill(hx_pid, SIGTERM);
		waitpid(hx_pid, NULL, 0);
		hx_pid = -1;
		snprintf(path, sizeof(path), "%s/haproxy.cfg", hx_dir);
		unlink(path);
		unlink(hx_sock);
		rmdir(hx_dir);
	}
	loop_teardown();
}

/* `show stat` straight from the socket (blocking is fine in a test), parsed by hx_parse_stat. */
static void raw_view(struct router_view *v)
{
	struct cfg_router c = test_cfg();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[65536], err[256];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strlcpy_(sun.sun_path, hx_sock, sizeof(sun.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(write(fd, "show stat\n", 10), 10);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	ck_assert_msg(hx_parse_stat(buf, &c, v, err, sizeof(err)) == 0, "%s", err);
}

static const char *raw_state(const char *name)
{
	static struct router_view v;
	const struct router_backend *b;

	raw_view(&v);
	b = be_named(&v, name);
	ck_assert_msg(b != NULL, "%s not in show stat", name);
	return b->state;
}

START_TEST(test_live_switch_and_rollback)
{
	struct cfg_router c = test_cfg();
	struct cfg_server db1 = { .name = "alpha" }, db2 = { .name = "beta" };
	struct router_switch sw = { .cluster = "main", .old_primary = &db1, .new_primary = &db2,
				    .phase = "drain", .id = "live-1" };
	struct outcome o = { 0 };
	const struct router_backend *w;
	struct router *r;
	char err[256];
	int count;

	c.address = hx_sock;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);

	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert(!r->busy);
	ck_assert(r->view.reachable);
	ck_assert_uint_eq(r->view.n, 5);
	ck_assert_int_gt(r->view.polled_ms, 0);
	w = router_writer(&r->view, &count);
	ck_assert_int_eq(count, 1);
	ck_assert_str_eq(w->server, "alpha");

	RUN(&o, r->ops->drain(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "DRAIN");
	ck_assert_str_eq(raw_state("mysql_write/db2"), "MAINT");

	/* A retried drain must not take DRAIN as the state to restore. */
	RUN(&o, r->ops->drain(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);

	RUN(&o, r->ops->promote(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "MAINT");
	ck_assert_str_eq(raw_state("mysql_write/db2"), "no check");
	ck_assert_str_eq(raw_state("mysql_write/db3"), "MAINT");
	w = router_writer(&r->view, &count);
	ck_assert_int_eq(count, 1);
	ck_assert_str_eq(w->server, "beta");

	RUN(&o, r->ops->rollback(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "no check");
	ck_assert_str_eq(raw_state("mysql_write/db2"), "MAINT");
	ck_assert_str_eq(raw_state("mysql_write/db3"), "MAINT");
	ck_assert_str_eq(raw_state("mysql_read/db2"), "no check");   /* reads untouched */

	/* Once rolled back, a second rollback has nothing left to do. */
	RUN(&o, r->ops->rollback(r, &sw, on_done, &o));
	ck_assert_int_eq(o.err, 0);
	ck_assert_ptr_nonnull(strstr(o.msg, "nothing to roll back"));

	/* The switch for real this time, then finalize (nothing to do for haproxy). */
	sw.id = "live-2";
	RUN(&o, r->ops->drain(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	RUN(&o, r->ops->promote(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	RUN(&o, r->ops->finalize(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "MAINT");
	ck_assert_str_eq(raw_state("mysql_write/db2"), "no check");
	router_free(r);
}
END_TEST

START_TEST(test_live_promote_without_drain)
{
	struct cfg_router c = test_cfg();
	struct cfg_server db1 = { .name = "alpha" }, db3 = { .name = "gamma" };
	struct router_switch sw = { .cluster = "main", .old_primary = &db1, .new_primary = &db3,
				    .phase = "promote", .id = "live-3" };
	struct outcome o = { 0 };
	struct router *r;
	char err[256];

	c.address = hx_sock;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->promote(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db3"), "no check");
	ck_assert_str_eq(raw_state("mysql_write/db1"), "MAINT");
	/* The states were read in the same line as the promote: rollback knows them. */
	RUN(&o, r->ops->rollback(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "no check");
	ck_assert_str_eq(raw_state("mysql_write/db3"), "MAINT");
	router_free(r);
}
END_TEST

/* cutoverd restarted after a drain: a new router object remembers nothing, yet rollback must
 * give the old primary its writes back. */
START_TEST(test_live_rollback_after_restart)
{
	struct cfg_router c = test_cfg();
	struct cfg_server db1 = { .name = "alpha" }, db2 = { .name = "beta" };
	struct router_switch sw = { .cluster = "main", .old_primary = &db1, .new_primary = &db2,
				    .phase = "drain", .id = "live-5" };
	struct outcome o = { 0 };
	struct router *r;
	char err[256];

	c.address = hx_sock;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->drain(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	router_free(r);
	ck_assert_str_eq(raw_state("mysql_write/db1"), "DRAIN");

	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->rollback(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(o.msg, "haproxy router 'lb': mysql_write/db1 was DRAIN, set ready (no states "
				"remembered from the drain)");
	ck_assert_str_eq(raw_state("mysql_write/db1"), "no check");
	ck_assert_str_eq(raw_state("mysql_write/db2"), "MAINT");
	/* Already ready: nothing to do. */
	RUN(&o, r->ops->rollback(r, &sw, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(o.msg, "haproxy router 'lb': nothing to roll back (mysql_write/db1 is no check)");
	router_free(r);
}
END_TEST

START_TEST(test_live_errors)
{
	static char *ms[] = { "alpha", "beta", "ghost" };
	static char *mr[] = { "db1", "db2", "db9" };
	struct cfg_router c = test_cfg();
	struct cfg_server db1 = { .name = "alpha" }, ghost = { .name = "ghost" };
	struct router_switch sw = { .cluster = "main", .old_primary = &ghost, .new_primary = &db1,
				    .phase = "drain", .id = "live-4" };
	struct outcome o = { 0 };
	struct router *r;
	char err[256], tcp[32];

	/* The same API over TCP. */
	snprintf(tcp, sizeof(tcp), "127.0.0.1:%d", hx_tcp_port);
	c.address = tcp;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_uint_eq(r->view.n, 5);
	router_free(r);

	c.address = hx_sock;
	c.map_server = ms;
	c.map_router = mr;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	/* HAProxy's own error text fails the step. */
	RUN(&o, r->ops->drain(r, &sw, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_str_eq(o.msg, "haproxy router 'lb': set server mysql_write/db9 state drain: No such server.");
	ck_assert_str_eq(raw_state("mysql_write/db1"), "no check");
	/* Promoting a server HAProxy does not have is refused before anything is sent: HAProxy
	 * would run the rest of the line and leave the endpoint without a writer. */
	sw.old_primary = &db1;
	sw.new_primary = &ghost;
	RUN(&o, r->ops->promote(r, &sw, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_str_eq(o.msg, "haproxy router 'lb': new primary mysql_write/db9 is not in backend "
				"mysql_write (as of the last 'show stat'); nothing changed");
	ck_assert_str_eq(raw_state("mysql_write/db1"), "no check");
	ck_assert(!r->busy);
	router_free(r);

	/* A backend HAProxy does not have. */
	c.backend = "mysql_rw";
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_int_ne(o.err, 0);
	ck_assert_str_eq(o.msg, "haproxy router 'lb': backend 'mysql_rw' not found in haproxy "
				"(backends: mysql_write, mysql_read)");
	ck_assert(r->view.reachable);
	ck_assert_str_eq(r->view.error, "backend 'mysql_rw' not found in haproxy (backends: mysql_write, mysql_read)");
	router_free(r);
}
END_TEST

/* One raw line to an admin socket (blocking is fine in a test); the answer, or "" if none. */
static void raw_line(const char *sock, const char *line, char *out, size_t outlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strlcpy_(sun.sun_path, sock, sizeof(sun.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	while (len + 1 < outlen && (n = read(fd, out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	out[len] = '\0';
}

/* Wait (a bound for failures only) until the process answering on sock is pid. */
static void wait_answered_by(const char *sock, pid_t pid)
{
	char out[8192], want[32];
	int i;

	snprintf(want, sizeof(want), "\nPid: %d\n", (int)pid);
	for (i = 0; i < 500; i++) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		strlcpy_(sun.sun_path, sock, sizeof(sun.sun_path));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(fd);
			raw_line(sock, "show info\n", out, sizeof(out));
			if (strstr(out, want))
				return;
		} else {
			close(fd);
		}
		usleep(10000);
	}
	ck_abort_msg("haproxy pid %d never answered on %s", (int)pid, sock);
}

/* HAProxy reloaded (a new process started with -sf, as `systemctl reload` does): the next
 * poll reads the new process, and the old one is free to exit.  The poll opens a connection
 * each time on purpose: a connection kept open (interactive mode) stays with the old process,
 * which then lives on for it and answers with its own, stale states. */
START_TEST(test_live_reload_seen)
{
	struct cfg_router c = test_cfg();
	struct outcome o = { 0 };
	struct router *r;
	char dir[] = "/tmp/check_haproxy.XXXXXX", sock[128], cfgpath[160], out[4096], err[256];
	pid_t old, new;
	int i;

	ck_assert_msg(access(HAPROXY_BIN, X_OK) == 0, "%s is missing (tests/deps.sh installs it)", HAPROXY_BIN);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/admin.sock", dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/haproxy.cfg", dir);
	write_haproxy_cfg(cfgpath, sock, 0);
	old = haproxy_child(cfgpath, 0);
	wait_answered_by(sock, old);

	c.address = sock;
	r = router_new(test_base, &test_config, &c, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	/* the old process, changed at run time: db2 ready */
	raw_line(sock, "set server mysql_write/db2 state ready\n", out, sizeof(out));
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_str_eq(be_named(&r->view, "mysql_write/db2")->state, "no check");

	/* the reload: the new process starts from the file, db2 disabled */
	new = haproxy_child(cfgpath, old);
	wait_answered_by(sock, new);
	RUN(&o, r->ops->poll(r, on_done, &o));
	ck_assert_msg(o.err == 0, "%s", o.msg);
	ck_assert_msg(!strcmp(be_named(&r->view, "mysql_write/db2")->state, "MAINT"),
		      "after the reload the poll read db2 %s: the old process's state",
		      be_named(&r->view, "mysql_write/db2")->state);
	/* nothing of cutoverd's holds the old process (a bound for a failure only) */
	for (i = 0; i < 500 && waitpid(old, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	ck_assert_msg(i < 500, "the old haproxy (pid %d) still runs 5 s after the reload", (int)old);

	router_free(r);
	kill(new, SIGTERM);
	waitpid(new, NULL, 0);
	unlink(cfgpath);
	unlink(sock);
	rmdir(dir);
}
END_TEST

Suite *haproxy_suite(void)
{
	Suite *s = suite_create("haproxy");
	TCase *tc;

	tc = tcase_create("hx_parse_stat");
	tcase_add_test(tc, test_parse_real_capture);
	tcase_add_test(tc, test_parse_no_read_backend);
	tcase_add_test(tc, test_parse_header_driven);
	tcase_add_test(tc, test_parse_unmapped_server);
	tcase_add_test(tc, test_parse_counters);
	tcase_add_test(tc, test_parse_missing_backend);
	tcase_add_test(tc, test_parse_garbage);
	tcase_add_test(tc, test_parse_short_rows);
	tcase_add_test(tc, test_parse_too_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("hx_status_flags");
	tcase_add_test(tc, test_status_flags);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_status_is");
	tcase_add_test(tc, test_status_is);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_name_of");
	tcase_add_test(tc, test_name_map);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_valid_name");
	tcase_add_test(tc, test_valid_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_cmd_drain");
	tcase_add_test(tc, test_cmd_drain);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_cmd_promote");
	tcase_add_test(tc, test_cmd_promote);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_cmd_rollback");
	tcase_add_test(tc, test_cmd_rollback);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_reply_part");
	tcase_add_test(tc, test_reply_part);
	suite_add_tcase(s, tc);
	tc = tcase_create("hx_reply_check");
	tcase_add_test(tc, test_reply_check);
	suite_add_tcase(s, tc);
	tc = tcase_create("router_writer");
	tcase_add_test(tc, test_router_writer);
	suite_add_tcase(s, tc);
	tc = tcase_create("router_find");
	tcase_add_test(tc, test_router_find);
	suite_add_tcase(s, tc);
	tc = tcase_create("router_step_name");
	tcase_add_test(tc, test_router_step_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver");
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_add_test(tc, test_driver_unreachable);
	tcase_add_test(tc, test_driver_timeout);
	tcase_add_test(tc, test_driver_bad_address);
	tcase_add_test(tc, test_driver_busy_and_unmapped);
	tcase_add_test(tc, test_live_reload_seen);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver_live");
	tcase_add_checked_fixture(tc, haproxy_start, haproxy_stop);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_live_switch_and_rollback);
	tcase_add_test(tc, test_live_promote_without_drain);
	tcase_add_test(tc, test_live_rollback_after_restart);
	tcase_add_test(tc, test_live_errors);
	suite_add_tcase(s, tc);
	return s;
}
