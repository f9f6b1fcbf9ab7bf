/* Unit tests for per-tenant cutovers: the pure half of proxysql_tenant.c (routes from ProxySQL's
 * rules and servers, the plans of each step, the settling after a failure, replication filters
 * and LIKE), tenant_order() of tenant.c, cutoverctl's `move tenant` words (ctl_move_parse), and
 * the routers' tenant_hostgroups / tenant_rule_ids keys.  Rowsets are shaped like ProxySQL 2.x's
 * admin tables: column names as it prints them, every value a string, NULL for SQL NULL. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "proxysql_sql.h"
#include "proxysql_tenant.h"
#include "rowset.h"
#include "tenant.h"
#include "util.h"

#include "../ctl/ctl.h"

Suite *tenant_suite(void);

#define SRC_HOST "127.0.0.1"
#define SRC_PORT 3307
#define DST_HOST "127.0.0.1"
#define DST_PORT 3310

#define INSERT_COLS "INSERT INTO mysql_servers (hostgroup_id, hostname, port, gtid_port, status, weight, " \
	"compression, max_connections, max_replication_lag, use_ssl, max_latency_ms, comment) VALUES "
#define RULE_COLS_SCHEMA "INSERT INTO mysql_query_rules (rule_id, active, schemaname, destination_hostgroup, " \
	"apply, comment) VALUES "
#define RULE_COLS_USER "INSERT INTO mysql_query_rules (rule_id, active, username, destination_hostgroup, " \
	"apply, comment) VALUES "

static const char *const RULE_COLS[] = { "rule_id", "active", "username", "schemaname", "flagIN",
					 "flagOUT", "apply", "destination_hostgroup", "comment" };
static const char *const SNAP_COLS[] = {
	"hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression",
	"max_connections", "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
};

static struct psql_endpoint ep(const char *host, int port);
static struct cfg_router tenant_cfg(void);
static void rule(const char *id, const char *active, const char *user, const char *schema, const char *flagin,
		 const char *flagout, const char *apply, const char *dest, const char *comment);
static void server(const char *hg, const char *host, const char *port, const char *status, const char *weight,
		   const char *comment);
static void usual_servers(void);
static int resolve(enum tenant_kind kind, ...);
static void ck_err_has(const char *text);
static void check_sql(const struct psql_plan *p, size_t n, ...);
static void check_exp(const struct psql_plan *p, size_t i, int hg, const char *host, int port, const char *want);

/* ---- helpers --------------------------------------------------------------------------------- */

static struct psql_endpoint ep(const char *host, int port)
{
	struct psql_endpoint e;

	memset(&e, 0, sizeof(e));
	strlcpy_(e.host, host, sizeof(e.host));
	e.port = port;
	return e;
}

/* The router of these tests: writer 10, reader 20, tenants in hostgroups 1000-1099 by rules 100-199. */
static struct cfg_router tenant_cfg(void)
{
	struct cfg_router c;

	memset(&c, 0, sizeof(c));
	c.name = "px1";
	c.cluster = "main";
	c.type = ROUTER_PROXYSQL;
	c.address = "127.0.0.1:6032";
	c.user = "admin";
	c.writer_hostgroup = 10;
	c.reader_hostgroup = 20;
	c.tenant_hg_lo = 1000;
	c.tenant_hg_hi = 1099;
	c.tenant_rule_lo = 100;
	c.tenant_rule_hi = 199;
	c.timeout_ms = 1000;
	return c;
}

/* The fixture of psql_tenant_resolve: mysql_query_rules and mysql_servers as rowsets (added to
 * by each test), the snapshot parsed from the latter, the routes resolved. */
static struct rowset *rules_rs, *servers_rs;
static struct psql_snapshot snap;
static struct cfg_router cfg;
static struct psql_endpoint src, dst;
static struct tenant_route routes[8];
static const char *names[8];
static size_t n_routes;
static char err[2048];

static void resolve_setup(void)
{
	rules_rs = rowset_new(9, RULE_COLS);
	servers_rs = rowset_new(12, SNAP_COLS);
	memset(&snap, 0, sizeof(snap));
	memset(routes, 0, sizeof(routes));
	cfg = tenant_cfg();
	src = ep(SRC_HOST, SRC_PORT);
	dst = ep(DST_HOST, DST_PORT);
	n_routes = 0;
	err[0] = '\0';
}

static void resolve_teardown(void)
{
	psql_tenant_routes_free(routes, n_routes);
	n_routes = 0;
	psql_snapshot_free(&snap);
	rowset_free(rules_rs);
	rowset_free(servers_rs);
	rules_rs = servers_rs = NULL;
}

static void rule(const char *id, const char *active, const char *user, const char *schema, const char *flagin,
		 const char *flagout, const char *apply, const char *dest, const char *comment)
{
	const char *v[9] = { id, active, user, schema, flagin, flagout, apply, dest, comment };

	rowset_add_row(rules_rs, v);
}

/* A mysql_servers row; the columns not given are those of an ordinary row. */
static void server(const char *hg, const char *host, const char *port, const char *status, const char *weight,
		   const char *comment)
{
	const char *v[12] = { hg, host, port, "0", status, weight, "0", "1000", "0", "0", "0", comment };

	rowset_add_row(servers_rs, v);
}

/* The source, writer in hostgroup 10 with settings of its own (every column distinct, so a copy
 * shows), readers in 20. */
static void usual_servers(void)
{
	const char *w[12] = { "10", SRC_HOST, "3307", "9306", "ONLINE", "1000", "1", "500", "7", "1", "250", "primary" };

	rowset_add_row(servers_rs, w);
	server("20", SRC_HOST, "3307", "ONLINE", "1", "");
	server("20", "127.0.0.1", "3308", "ONLINE", "1", "");
	server("20", "127.0.0.1", "3309", "ONLINE", "1", "");
}

/* psql_tenant_resolve over the fixture for the names given (NULL-terminated). */
static int resolve(enum tenant_kind kind, ...)
{
	char perr[256];
	const char *s;
	va_list ap;

	psql_tenant_routes_free(routes, n_routes);
	psql_snapshot_free(&snap);
	ck_assert_msg(psql_parse_snapshot(servers_rs, &snap, perr, sizeof(perr)) == 0, "%s", perr);
	n_routes = 0;
	va_start(ap, kind);
	while ((s = va_arg(ap, const char *)) != NULL) {
		ck_assert_uint_lt(n_routes, sizeof(names) / sizeof(names[0]));
		names[n_routes++] = s;
	}
	va_end(ap);
	strlcpy_(err, "untouched", sizeof(err));
	return psql_tenant_resolve(rules_rs, &snap, &cfg, kind, names, n_routes, &src, &dst, routes, err, sizeof(err));
}

static void ck_err_has(const char *text)
{
	ck_assert_msg(strstr(err, text) != NULL, "error \"%s\" does not say \"%s\"", err, text);
}

#define ck_resolve_ok(...) do { \
	int rc_ = resolve(__VA_ARGS__, NULL); \
	ck_assert_msg(rc_ == 0, "resolve failed: %s", err); \
	ck_assert_str_eq(err, ""); \
} while (0)
#define ck_resolve_fails(...) do { \
	ck_assert_int_eq(resolve(__VA_ARGS__, NULL), -1); \
	ck_assert_str_ne(err, ""); \
	ck_assert_str_ne(err, "untouched"); \
} while (0)

/* The plan's statements are exactly the n strings given. */
static void check_sql(const struct psql_plan *p, size_t n, ...)
{
	va_list ap;
	size_t i;

	ck_assert_msg(p->n == n, "%zu statements, want %zu (first: %s; last: %s)", p->n, n, p->n ? p->sql[0] : "-",
		      p->n ? p->sql[p->n - 1] : "-");
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		ck_assert_msg(!strcmp(p->sql[i], want), "statement %zu:\n  got  %s\n  want %s", i, p->sql[i], want);
	}
	va_end(ap);
}

static void check_exp(const struct psql_plan *p, size_t i, int hg, const char *host, int port, const char *want)
{
	ck_assert_uint_lt(i, p->nexp);
	ck_assert_int_eq(p->exp[i].hostgroup, hg);
	ck_assert_str_eq(p->exp[i].ep.host, host);
	ck_assert_int_eq(p->exp[i].ep.port, port);
	ck_assert_str_eq(p->exp[i].want, want);
}

/* ---- tenant_like ---------------------------------------------------------------------------- */

static const struct {
	const char *pattern, *s;
	bool match;
} like_cases[] = {
	{ "tenant%", "tenant07", true },
	{ "tenant%", "tenant", true },          /* % takes an empty run */
	{ "tenant%", "tenan", false },
	{ "tenant%", "xtenant07", false },      /* anchored at the start */
	{ "t_nant0%", "tenant07", true },
	{ "t_nant0%", "tonant01", true },
	{ "t_nant0%", "tenant17", false },
	{ "t_nant0%", "tnant07", false },       /* _ is exactly one character */
	{ "%", "", true },
	{ "%", "anything", true },
	{ "%%", "", true },
	{ "", "", true },
	{ "", "a", false },
	{ "a", "", false },
	{ "_", "", false },
	{ "_", "a", true },
	{ "__", "a", false },
	{ "%_", "", false },
	{ "%_", "x", true },
	{ "TENANT%", "tenant01", true },        /* case-insensitive both ways */
	{ "tenant%", "TeNaNt01", true },
	{ "Shop_DB", "shopXdb", true },
	{ "%07", "tenant07", true },
	{ "%07", "tenant071", false },          /* anchored at the end */
	{ "a%c", "abcbc", true },               /* backtracks past an early c */
	{ "a%c", "abcb", false },
	{ "%a%b%", "xxaxxbxx", true },
	{ "%a%b%", "xxbxxaxx", false },
	{ "a%%b", "ab", true },
	{ "tenant07", "tenant07", true },
	{ "tenant07", "tenant08", false },
};

START_TEST(test_like)
{
	ck_assert_msg(tenant_like(like_cases[_i].pattern, like_cases[_i].s) == like_cases[_i].match,
		      "tenant_like(\"%s\", \"%s\") should be %s", like_cases[_i].pattern, like_cases[_i].s,
		      like_cases[_i].match ? "true" : "false");
}
END_TEST

/* ---- tenant_filters_cover ------------------------------------------------------------------- */

static const struct {
	struct repl_filters f;
	const char *schema;
	bool covered;
	const char *why;        /* a part of the reason when not covered */
} filter_cases[] = {
	/* none */
	{ { "", "", "", "", "", "" }, "tenant07", true, NULL },
	{ { NULL, NULL, NULL, NULL, NULL, NULL }, "tenant07", true, NULL },
	/* Replicate_Do_DB */
	{ { "tenant07", "", "", "", "", "" }, "tenant07", true, NULL },
	{ { "other, tenant07 ,more", "", "", "", "", "" }, "tenant07", true, NULL },
	{ { "other,more", "", "", "", "", "" }, "tenant07", false, "Replicate_Do_DB (other,more) does not list tenant07" },
	{ { "tenant0", "", "", "", "", "" }, "tenant07", false, "Replicate_Do_DB" },      /* not a prefix match */
	{ { "tenant%", "", "", "", "", "" }, "tenant07", false, "Replicate_Do_DB" },      /* no patterns there */
	/* Replicate_Ignore_DB */
	{ { "", "tenant07", "", "", "", "" }, "tenant07", false, "Replicate_Ignore_DB lists tenant07" },
	{ { "", "a, tenant07", "", "", "", "" }, "tenant07", false, "Replicate_Ignore_DB" },
	{ { "", "tenant08,mysql", "", "", "", "" }, "tenant07", true, NULL },
	/* table filters naming the schema */
	{ { "", "", "tenant07.orders", "", "tenant%.%", "" }, "tenant07", false, "Replicate_Do_Table" },
	{ { "", "", "", "tenant07.audit", "", "" }, "tenant07", false, "Replicate_Ignore_Table" },
	{ { "", "", "", "a.b, tenant07.audit", "", "" }, "tenant07", false, "tenant07: a tenant moves whole" },
	{ { "", "", "", "tenant070.audit", "", "" }, "tenant07", true, NULL },         /* another schema */
	{ { "", "", "", "tenant0.audit", "", "" }, "tenant07", true, NULL },
	/* Replicate_Wild_Do_Table */
	{ { "", "", "", "", "tenant%.%", "" }, "tenant07", true, NULL },
	{ { "", "", "", "", "other.%, TENANT%.%", "" }, "tenant07", true, NULL },
	{ { "", "", "", "", "tenant07.%", "" }, "tenant07", true, NULL },
	{ { "", "", "", "", "tenant00.%", "" }, "tenant01", false, "Replicate_Wild_Do_Table (tenant00.%) does not take every table of tenant01 (e.g. tenant01.%)" },
	{ { "", "", "", "", "tenant%.t%", "" }, "tenant07", false, "Replicate_Wild_Do_Table (tenant%.t%)" },
	{ { "", "", "", "", "tenant%", "" }, "tenant07", false, "Replicate_Wild_Do_Table" },  /* no table part */
	/* Replicate_Do_Table without a wild do: only the tables listed replicate */
	{ { "", "", "other.t1", "", "", "" }, "tenant07", false, "empty, with Replicate_Do_Table set" },
	{ { "", "", "other.t1", "", "tenant%.%", "" }, "tenant07", true, NULL },
	{ { "tenant07", "", "other.t1", "", "", "" }, "tenant07", false, "Replicate_Do_Table set" },
	/* Replicate_Wild_Ignore_Table */
	{ { "", "", "", "", "", "tenant%.%" }, "tenant07", false, "Replicate_Wild_Ignore_Table (tenant%.%) leaves out tables of tenant07" },
	{ { "", "", "", "", "", "t_nant07.tmp%" }, "tenant07", false, "Replicate_Wild_Ignore_Table" },
	{ { "", "", "", "", "tenant%.%", "%.tmp_%" }, "tenant07", false, "Replicate_Wild_Ignore_Table" },
	{ { "", "", "", "", "", "other%.%" }, "tenant07", true, NULL },
	{ { "", "", "", "", "tenant%.%", "tenant1%.%" }, "tenant07", true, NULL },
};

START_TEST(test_filters)
{
	char why[512] = "";
	bool got = tenant_filters_cover(&filter_cases[_i].f, filter_cases[_i].schema, why, sizeof(why));

	ck_assert_msg(got == filter_cases[_i].covered, "case %d (schema %s): covered = %d, want %d (why: %s)", _i,
		      filter_cases[_i].schema, got, filter_cases[_i].covered, why);
	if (!filter_cases[_i].covered)
		ck_assert_msg(strstr(why, filter_cases[_i].why) != NULL, "case %d: why \"%s\" does not say \"%s\"", _i,
			      why, filter_cases[_i].why);
}
END_TEST

/* A reason longer than the buffer is cut, terminated. */
START_TEST(test_filters_short_buffer)
{
	struct repl_filters f = { "a,b,c,d,e,f,g,h", "", "", "", "", "" };
	char why[16];

	memset(why, 'x', sizeof(why));
	ck_assert(!tenant_filters_cover(&f, "tenant07", why, sizeof(why)));
	ck_assert_uint_eq(strlen(why), sizeof(why) - 1);
	ck_assert(!strncmp(why, "Replicate_Do_DB", 15));
}
END_TEST

/* MySQL's replicate-wild-*-table patterns take '\' as an escape ("my\_db.%" is the schema my_db
 * only): an ignore filter written so is seen. */
START_TEST(test_filters_escaped_ignore)
{
	struct repl_filters f = { "", "", "", "", "", "tenant\\_07.%" };
	char why[256] = "";

	ck_assert_msg(!tenant_filters_cover(&f, "tenant_07", why, sizeof(why)),
		      "an escaped Replicate_Wild_Ignore_Table naming the schema was not seen");
}
END_TEST

/* ---- psql_tenant_resolve -------------------------------------------------------------------- */

START_TEST(test_resolve_new_lowest_free)
{
	const struct psql_server *r;

	usual_servers();
	ck_resolve_ok(TENANT_SCHEMA, "t1", "t2");
	ck_assert_ptr_eq(routes[0].name, names[0]);
	ck_assert_int_eq(routes[0].where, TW_NEW);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[0].hostgroup, 1000);
	ck_assert_int_eq(routes[1].where, TW_NEW);
	ck_assert_int_eq(routes[1].rule_id, 101);        /* not t1's */
	ck_assert_int_eq(routes[1].hostgroup, 1001);
	/* the row: the source's writer row, in the tenant's hostgroup, ONLINE, with our comment */
	r = &routes[0].row;
	ck_assert_int_eq(r->hostgroup, 1000);
	ck_assert_str_eq(r->ep.host, SRC_HOST);
	ck_assert_int_eq(r->ep.port, SRC_PORT);
	ck_assert_int_eq(r->gtid_port, 9306);
	ck_assert_str_eq(r->status, "ONLINE");
	ck_assert_int_eq(r->weight, 1000);
	ck_assert_int_eq(r->compression, 1);
	ck_assert_int_eq(r->max_connections, 500);
	ck_assert_int_eq(r->max_replication_lag, 7);
	ck_assert_int_eq(r->use_ssl, 1);
	ck_assert_int_eq(r->max_latency_ms, 250);
	ck_assert_str_eq(r->comment, "cutoverd tenant schema:t1");
	ck_assert_int_eq(routes[1].row.hostgroup, 1001);
	ck_assert_str_eq(routes[1].row.comment, "cutoverd tenant schema:t2");
	/* the copy is the routes' own: the snapshot's row is unchanged */
	ck_assert_str_eq(psql_snapshot_find(&snap, 10, &src)->comment, "primary");
	ck_assert_ptr_ne(routes[0].row.comment, routes[1].row.comment);
}
END_TEST

/* A source that is not ONLINE in the writer hostgroup still gives its settings; the new row is ONLINE. */
START_TEST(test_resolve_new_row_online)
{
	server("10", SRC_HOST, "3307", "OFFLINE_SOFT", "33", "");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_str_eq(routes[0].row.status, "ONLINE");
	ck_assert_int_eq(routes[0].row.weight, 33);
}
END_TEST

START_TEST(test_resolve_new_skips_taken)
{
	usual_servers();
	/* rule id 100 taken; its destination, hostgroup 1000, too */
	rule("100", "1", NULL, "other", "0", NULL, "1", "1000", "app: other");
	/* an inactive rule still holds its id and its destination (and selects t1 without harm) */
	rule("101", "0", NULL, "t1", "0", NULL, "1", "1002", "old t1 rule");
	/* rules after the tenant ranges do not matter to the order */
	rule("500", "1", NULL, NULL, "0", NULL, "1", "10", "catch-all");
	/* hostgroup 1001 holds a server */
	server("1001", "127.0.0.1", "3309", "ONLINE", "1", "someone's");
	ck_resolve_ok(TENANT_SCHEMA, "t1", "t2", "t3");
	ck_assert_int_eq(routes[0].rule_id, 102);
	ck_assert_int_eq(routes[0].hostgroup, 1003);
	ck_assert_int_eq(routes[1].rule_id, 103);
	ck_assert_int_eq(routes[1].hostgroup, 1004);
	ck_assert_int_eq(routes[2].rule_id, 104);
	ck_assert_int_eq(routes[2].hostgroup, 1005);
}
END_TEST

/* The writer and reader hostgroups are never a tenant's, even without a row. */
START_TEST(test_resolve_new_skips_writer_reader)
{
	cfg.reader_hostgroup = 11;
	cfg.tenant_hg_lo = 10;
	cfg.tenant_hg_hi = 19;
	server("10", SRC_HOST, "3307", "ONLINE", "1", "");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].hostgroup, 12);
}
END_TEST

START_TEST(test_resolve_existing_source)
{
	usual_servers();
	rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
	server("1000", SRC_HOST, "3307", "ONLINE", "7", "cutoverd tenant schema:t1");
	ck_resolve_ok(TENANT_SCHEMA, "t1", "t2");
	ck_assert_int_eq(routes[0].where, TW_SOURCE);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[0].hostgroup, 1000);
	ck_assert_int_eq(routes[0].row.hostgroup, 1000);
	ck_assert_str_eq(routes[0].row.ep.host, SRC_HOST);
	ck_assert_int_eq(routes[0].row.ep.port, SRC_PORT);
	ck_assert_int_eq(routes[0].row.weight, 7);           /* the hostgroup's row, not the writer's */
	ck_assert_str_eq(routes[0].row.status, "ONLINE");
	ck_assert_str_eq(routes[0].row.comment, "cutoverd tenant schema:t1");
	/* a new tenant beside it gets the next ids */
	ck_assert_int_eq(routes[1].where, TW_NEW);
	ck_assert_int_eq(routes[1].rule_id, 101);
	ck_assert_int_eq(routes[1].hostgroup, 1001);
}
END_TEST

START_TEST(test_resolve_existing_fenced)
{
	usual_servers();
	rule("120", "1", NULL, "t1", "0", NULL, "1", "1050", "cutoverd tenant schema:t1");
	server("1050", SRC_HOST, "3307", "OFFLINE_SOFT", "7", "");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_FENCED);
	ck_assert_int_eq(routes[0].rule_id, 120);
	ck_assert_int_eq(routes[0].hostgroup, 1050);
	ck_assert_str_eq(routes[0].row.ep.host, SRC_HOST);
	ck_assert_int_eq(routes[0].row.ep.port, SRC_PORT);
	/* the row as the hostgroup will hold it again: ONLINE */
	ck_assert_str_eq(routes[0].row.status, "ONLINE");
	ck_assert_str_eq(routes[0].row.comment, "");
}
END_TEST

START_TEST(test_resolve_existing_target)
{
	usual_servers();
	rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
	server("1000", DST_HOST, "3310", "ONLINE", "3", "moved");
	/* a rule before it does not matter once the tenant is on the target */
	rule("5", "1", "app", NULL, "0", NULL, "1", "10", "app writes");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_TARGET);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[0].hostgroup, 1000);
	ck_assert_str_eq(routes[0].row.ep.host, DST_HOST);
	ck_assert_int_eq(routes[0].row.ep.port, DST_PORT);
	ck_assert_int_eq(routes[0].row.weight, 3);
	ck_assert_str_eq(routes[0].row.comment, "moved");
}
END_TEST

/* Tenants that all have their rule need no writer row of the source. */
START_TEST(test_resolve_existing_without_model)
{
	rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
	server("1000", SRC_HOST, "3307", "ONLINE", "1", "");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_SOURCE);
}
END_TEST

/* What the tenant's hostgroup holds when it is neither the source alone nor the target alone. */
static const struct {
	const char *rows[2][3];   /* host, port, status; NULL host: no row */
	const char *says;
} holds_cases[] = {
	{ { { NULL, NULL, NULL }, { NULL, NULL, NULL } }, "holds nothing" },
	{ { { "127.0.0.1", "3308", "ONLINE" }, { NULL, NULL, NULL } }, "holds 127.0.0.1:3308 ONLINE" },
	{ { { SRC_HOST, "3307", "ONLINE" }, { DST_HOST, "3310", "ONLINE" } },
	  "holds 127.0.0.1:3307 ONLINE, 127.0.0.1:3310 ONLINE" },
	{ { { SRC_HOST, "3307", "OFFLINE_HARD" }, { NULL, NULL, NULL } }, "holds 127.0.0.1:3307 OFFLINE_HARD" },
	{ { { SRC_HOST, "3307", "SHUNNED" }, { NULL, NULL, NULL } }, "holds 127.0.0.1:3307 SHUNNED" },
	{ { { DST_HOST, "3310", "OFFLINE_SOFT" }, { NULL, NULL, NULL } }, "holds 127.0.0.1:3310 OFFLINE_SOFT" },
};

START_TEST(test_resolve_hostgroup_holds_else)
{
	size_t k;

	usual_servers();
	rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
	for (k = 0; k < 2; k++)
		if (holds_cases[_i].rows[k][0])
			server("1000", holds_cases[_i].rows[k][0], holds_cases[_i].rows[k][1], holds_cases[_i].rows[k][2],
			       "1", "");
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("tenant t1: its hostgroup 1000 ");
	ck_err_has(holds_cases[_i].says);
	ck_err_has("neither the source 127.0.0.1:3307 alone nor the target 127.0.0.1:3310 alone");
	/* nothing is left to free on failure */
	ck_assert_ptr_null(routes[0].row.comment);
}
END_TEST

START_TEST(test_resolve_foreign_rule)
{
	usual_servers();
	rule("50", "1", NULL, "t1", "0", NULL, "1", "10", "app t1");
	ck_resolve_fails(TENANT_SCHEMA, "t1", "t2");
	ck_err_has("tenant t1: query rule 50 (comment 'app t1') already selects schema t1");
	ck_assert_msg(strstr(err, "tenant t2") == NULL, "t2 is fine: %s", err);
	ck_assert_ptr_null(routes[0].row.comment);
	ck_assert_ptr_null(routes[1].row.comment);
}
END_TEST

/* Rules that look like ours but are not: each is somebody else's rule selecting the tenant. */
START_TEST(test_resolve_almost_ours)
{
	usual_servers();
	server("1000", SRC_HOST, "3307", "ONLINE", "1", "");
	switch (_i) {
	case 0:   /* its destination is outside tenant_hostgroups */
		rule("100", "1", NULL, "t1", "0", NULL, "1", "20", "cutoverd tenant schema:t1");
		break;
	case 1:   /* its id is outside tenant_rule_ids */
		rule("300", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
		break;
	case 2:   /* it selects by user too */
		rule("100", "1", "app", "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
		break;
	case 3:   /* another comment */
		rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant user:t1");
		break;
	default:  /* a second rule of ours for the same tenant */
		rule("100", "1", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
		rule("101", "1", NULL, "t1", "0", NULL, "1", "1001", "cutoverd tenant schema:t1");
		break;
	}
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("already selects schema t1");
	ck_err_has(_i == 1 ? "query rule 300" : _i == 4 ? "query rule 101" : "query rule 100");
}
END_TEST

START_TEST(test_resolve_inactive_foreign_ignored)
{
	usual_servers();
	rule("50", "0", NULL, "t1", "0", NULL, "1", "10", "app t1, off");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_NEW);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[0].hostgroup, 1000);
}
END_TEST

/* An inactive rule of ours is not the tenant's routing: it gets a new one. */
START_TEST(test_resolve_inactive_own_rule)
{
	usual_servers();
	rule("100", "0", NULL, "t1", "0", NULL, "1", "1000", "cutoverd tenant schema:t1");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_NEW);
	ck_assert_int_eq(routes[0].rule_id, 101);
	ck_assert_int_eq(routes[0].hostgroup, 1001);
}
END_TEST

START_TEST(test_resolve_rule_before_refused)
{
	usual_servers();
	rule("5", "1", "app", NULL, "0", NULL, "1", "10", "app writes");
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("query rule 5 (apply = 1) comes before tenant t1's rule 100");
	ck_err_has("tenant_rule_ids 100-199");
}
END_TEST

START_TEST(test_resolve_rule_before_flagout)
{
	usual_servers();
	rule("7", "1", NULL, NULL, "0", "3", "0", NULL, "to a chain");
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("query rule 7 (flagOUT) comes before");
}
END_TEST

/* The same rule with the schema of another tenant, inactive, in a flagIN chain, neither applying
 * nor chaining, or after the tenant's rule: no harm. */
START_TEST(test_resolve_rule_before_harmless)
{
	usual_servers();
	switch (_i) {
	case 0:
		rule("5", "1", NULL, "t2", "0", NULL, "1", "10", "t2's own routing");
		break;
	case 1:
		rule("5", "0", NULL, NULL, "0", NULL, "1", "10", "off");
		break;
	case 2:
		rule("5", "1", NULL, NULL, "3", NULL, "1", "10", "in a chain");
		break;
	case 3:
		rule("5", "1", NULL, NULL, "0", NULL, "0", "10", "neither");
		break;
	case 4:
		rule("150", "1", NULL, NULL, "0", NULL, "1", "10", "after");
		break;
	default:  /* another tenant's rule of ours */
		rule("5", "1", NULL, "t9", "0", NULL, "1", "1099", "cutoverd tenant schema:t9");
		server("1099", SRC_HOST, "3307", "ONLINE", "1", "");
		break;
	}
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_NEW);
}
END_TEST

/* By user: the username is what selects; a rule by schema alone says nothing about a user. */
START_TEST(test_resolve_by_user)
{
	usual_servers();
	rule("100", "1", "app1", NULL, "0", NULL, "1", "1000", "cutoverd tenant user:app1");
	server("1000", SRC_HOST, "3307", "ONLINE", "1", "");
	rule("300", "1", NULL, "app2", "0", NULL, "1", "10", "by schema app2");
	ck_resolve_ok(TENANT_USER, "app1", "app2");
	ck_assert_int_eq(routes[0].where, TW_SOURCE);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[1].where, TW_NEW);
	ck_assert_int_eq(routes[1].rule_id, 101);
	ck_assert_int_eq(routes[1].hostgroup, 1001);
	ck_assert_str_eq(routes[1].row.comment, "cutoverd tenant user:app2");
}
END_TEST

START_TEST(test_resolve_by_user_foreign)
{
	usual_servers();
	rule("60", "1", "app3", NULL, "0", NULL, "1", "10", NULL);
	ck_resolve_fails(TENANT_USER, "app3");
	ck_err_has("tenant app3: query rule 60 (comment '') already selects user app3");
}
END_TEST

/* By schema, our rule of a user tenant with the same name is somebody else's business. */
START_TEST(test_resolve_kinds_apart)
{
	usual_servers();
	rule("150", "1", "t1", NULL, "0", NULL, "1", "1050", "cutoverd tenant user:t1");
	server("1050", SRC_HOST, "3307", "ONLINE", "1", "");
	ck_resolve_ok(TENANT_SCHEMA, "t1");
	ck_assert_int_eq(routes[0].where, TW_NEW);
	ck_assert_int_eq(routes[0].rule_id, 100);
	ck_assert_int_eq(routes[0].hostgroup, 1000);
	ck_assert_str_eq(routes[0].row.comment, "cutoverd tenant schema:t1");
}
END_TEST

START_TEST(test_resolve_no_ranges)
{
	usual_servers();
	if (_i == 0)
		cfg.tenant_hg_lo = cfg.tenant_hg_hi = -1;
	else
		cfg.tenant_rule_lo = cfg.tenant_rule_hi = -1;
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("router px1 has no tenant_hostgroups and tenant_rule_ids");
}
END_TEST

START_TEST(test_resolve_rule_ids_exhausted)
{
	usual_servers();
	cfg.tenant_rule_hi = 100;
	ck_resolve_fails(TENANT_SCHEMA, "t1", "t2");
	ck_err_has("tenant t2: no free rule id left in 100-100 (router px1)");
	ck_assert_ptr_null(routes[0].row.comment);
}
END_TEST

START_TEST(test_resolve_hostgroups_exhausted)
{
	usual_servers();
	cfg.tenant_hg_hi = 1001;
	server("1001", "127.0.0.1", "3309", "ONLINE", "1", "");
	rule("400", "1", NULL, "x", "0", NULL, "1", "1000", "x");
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("tenant t1: no free hostgroup left in 1000-1001 (router px1)");
}
END_TEST

START_TEST(test_resolve_no_source_row)
{
	server("10", "127.0.0.1", "3308", "ONLINE", "1", "");
	server("20", SRC_HOST, "3307", "ONLINE", "1", "");      /* a reader row is not the model */
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("the source 127.0.0.1:3307 is not in writer hostgroup 10");
}
END_TEST

START_TEST(test_resolve_missing_column)
{
	static const char *const cols[] = { "rule_id", "active", "username", "schemaname", "flagIN", "flagOUT",
					    "apply", "destination_hostgroup" };

	rowset_free(rules_rs);
	rules_rs = rowset_new(8, cols);
	usual_servers();
	ck_resolve_fails(TENANT_SCHEMA, "t1");
	ck_err_has("mysql_query_rules: no column 'comment'");
}
END_TEST

/* Every tenant that cannot move is said, each by name. */
START_TEST(test_resolve_every_problem)
{
	usual_servers();
	rule("50", "1", NULL, "t1", "0", NULL, "1", "10", "a");
	rule("51", "1", NULL, "t3", "0", NULL, "1", "10", "b");
	rule("110", "1", NULL, "t2", "0", NULL, "1", "1010", "cutoverd tenant schema:t2");
	ck_resolve_fails(TENANT_SCHEMA, "t1", "t2", "t3");
	ck_err_has("tenant t1: query rule 50");
	ck_err_has("tenant t2: its hostgroup 1010 holds nothing");
	ck_err_has("tenant t3: query rule 51");
	ck_err_has("; ");
}
END_TEST

/* An error buffer too small for the whole story is still a terminated string. */
START_TEST(test_resolve_small_err)
{
	char small[40];
	const char *nm[] = { "t1", "t2" };

	usual_servers();
	rule("50", "1", NULL, "t1", "0", NULL, "1", "10", "a");
	rule("51", "1", NULL, "t2", "0", NULL, "1", "10", "b");
	ck_assert(psql_parse_snapshot(servers_rs, &snap, err, sizeof(err)) == 0);
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(psql_tenant_resolve(rules_rs, &snap, &cfg, TENANT_SCHEMA, nm, 2, &src, &dst, routes, small,
					     sizeof(small)), -1);
	ck_assert_uint_lt(strlen(small), sizeof(small));
	ck_assert(!strncmp(small, "tenant t1: query rule 50", 24));
}
END_TEST

/* ---- plans ----------------------------------------------------------------------------------- */

static struct tenant_route mkroute(const char *name, enum tenant_where where, int rule_id, int hg,
				   const char *host, int port, const char *status, const char *comment)
{
	struct tenant_route r;

	memset(&r, 0, sizeof(r));
	r.name = name;
	r.where = where;
	r.rule_id = rule_id;
	r.hostgroup = hg;
	r.row.hostgroup = hg;
	r.row.ep = ep(host, port);
	r.row.gtid_port = 9306;
	strlcpy_(r.row.status, status, sizeof(r.row.status));
	r.row.weight = 1000;
	r.row.compression = 1;
	r.row.max_connections = 500;
	r.row.max_replication_lag = 7;
	r.row.use_ssl = 1;
	r.row.max_latency_ms = 250;
	r.row.comment = xstrdup(comment);
	return r;
}

START_TEST(test_plan_prepare)
{
	struct tenant_route r[3];
	struct psql_plan p;

	r[0] = mkroute("t1", TW_NEW, 100, 1000, SRC_HOST, SRC_PORT, "ONLINE", "cutoverd tenant schema:t1");
	r[1] = mkroute("t2", TW_SOURCE, 101, 1001, SRC_HOST, SRC_PORT, "ONLINE", "");
	r[2] = mkroute("o'b", TW_NEW, 102, 1002, SRC_HOST, SRC_PORT, "ONLINE", "cutoverd tenant schema:o'b");
	psql_tenant_plan_prepare(r, 3, TENANT_SCHEMA, &p);
	check_sql(&p, 9,
		  INSERT_COLS "(1000, '127.0.0.1', 3307, 9306, 'ONLINE', 1000, 1, 500, 7, 1, 250, 'cutoverd tenant schema:t1')",
		  RULE_COLS_SCHEMA "(100, 1, 't1', 1000, 1, 'cutoverd tenant schema:t1')",
		  INSERT_COLS "(1002, '127.0.0.1', 3307, 9306, 'ONLINE', 1000, 1, 500, 7, 1, 250, "
			      "'cutoverd tenant schema:o''b')",
		  RULE_COLS_SCHEMA "(102, 1, 'o''b', 1002, 1, 'cutoverd tenant schema:o''b')",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "LOAD MYSQL QUERY RULES TO RUNTIME",
		  "SAVE MYSQL SERVERS TO DISK",
		  "SAVE MYSQL QUERY RULES TO DISK",
		  PSQL_SQL_RUNTIME_SERVERS);
	ck_assert_ptr_nonnull(strstr(p.sql[p.n - 1], "FROM runtime_mysql_servers"));
	ck_assert_uint_eq(p.nexp, 2);
	check_exp(&p, 0, 1000, SRC_HOST, SRC_PORT, "ONLINE");
	check_exp(&p, 1, 1002, SRC_HOST, SRC_PORT, "ONLINE");
	ck_assert_msg(strstr(p.note, "2 tenant rules and hostgroups added") != NULL, "%s", p.note);
	psql_plan_free(&p);
	psql_tenant_routes_free(r, 3);
}
END_TEST

START_TEST(test_plan_prepare_by_user)
{
	struct tenant_route r = mkroute("app1", TW_NEW, 150, 1050, SRC_HOST, SRC_PORT, "ONLINE", "cutoverd tenant user:app1");
	struct psql_plan p;

	psql_tenant_plan_prepare(&r, 1, TENANT_USER, &p);
	ck_assert_uint_eq(p.n, 7);
	ck_assert_str_eq(p.sql[1], RULE_COLS_USER "(150, 1, 'app1', 1050, 1, 'cutoverd tenant user:app1')");
	ck_assert_uint_eq(p.nexp, 1);
	check_exp(&p, 0, 1050, SRC_HOST, SRC_PORT, "ONLINE");
	ck_assert_msg(strstr(p.note, "1 tenant rule and hostgroup added") != NULL, "%s", p.note);
	psql_plan_free(&p);
	psql_tenant_routes_free(&r, 1);
}
END_TEST

START_TEST(test_plan_prepare_nothing_new)
{
	struct tenant_route r[3];
	struct psql_plan p;

	r[0] = mkroute("t1", TW_SOURCE, 100, 1000, SRC_HOST, SRC_PORT, "ONLINE", "");
	r[1] = mkroute("t2", TW_FENCED, 101, 1001, SRC_HOST, SRC_PORT, "ONLINE", "");
	r[2] = mkroute("t3", TW_TARGET, 102, 1002, DST_HOST, DST_PORT, "ONLINE", "");
	memset(&p, 0x5a, sizeof(p));      /* the plan is made from nothing */
	psql_tenant_plan_prepare(r, 3, TENANT_SCHEMA, &p);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(p.nexp, 0);
	ck_assert_ptr_null(p.sql);
	psql_plan_free(&p);
	psql_tenant_plan_prepare(r, 0, TENANT_SCHEMA, &p);
	ck_assert_uint_eq(p.n, 0);
	psql_plan_free(&p);
	psql_tenant_routes_free(r, 3);
}
END_TEST

START_TEST(test_plan_fence)
{
	struct tenant_route r[2];
	struct psql_plan p;

	r[0] = mkroute("t1", TW_SOURCE, 100, 1000, SRC_HOST, SRC_PORT, "ONLINE", "");
	r[1] = mkroute("t2", TW_NEW, 101, 1001, "db'1", 3306, "ONLINE", "");
	psql_tenant_plan_fence(r, 2, &p);
	check_sql(&p, 4,
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=1000 AND hostname='127.0.0.1' AND port=3307",
		  "UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE hostgroup_id=1001 AND hostname='db''1' AND port=3306",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  PSQL_SQL_RUNTIME_SERVERS);
	ck_assert_uint_eq(p.nexp, 2);
	check_exp(&p, 0, 1000, SRC_HOST, SRC_PORT, "OFFLINE_SOFT");
	check_exp(&p, 1, 1001, "db'1", 3306, "OFFLINE_SOFT");
	ck_assert_msg(strstr(p.note, "2 tenant hostgroups") != NULL, "%s", p.note);
	psql_plan_free(&p);
	psql_tenant_routes_free(r, 2);
}
END_TEST

START_TEST(test_plan_release_moved)
{
	struct tenant_route r[2];
	struct psql_endpoint d = ep(DST_HOST, DST_PORT);
	bool moved[2] = { true, false };
	struct psql_plan p;

	/* the rows as a fenced batch holds them */
	r[0] = mkroute("t1", TW_FENCED, 100, 1000, SRC_HOST, SRC_PORT, "OFFLINE_SOFT", "cutoverd tenant schema:t1");
	r[1] = mkroute("t2", TW_FENCED, 101, 1001, SRC_HOST, SRC_PORT, "OFFLINE_SOFT", "");
	psql_tenant_plan_release(r, 2, moved, &d, true, &p);
	check_sql(&p, 6,
		  "DELETE FROM mysql_servers WHERE hostgroup_id=1000",
		  INSERT_COLS "(1000, '127.0.0.1', 3310, 0, 'ONLINE', 1000, 1, 500, 7, 1, 250, 'cutoverd tenant schema:t1')",
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=1001 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  "SAVE MYSQL SERVERS TO DISK",
		  PSQL_SQL_RUNTIME_SERVERS);
	ck_assert_uint_eq(p.nexp, 3);
	check_exp(&p, 0, 1000, DST_HOST, DST_PORT, "ONLINE");
	check_exp(&p, 1, 1000, SRC_HOST, SRC_PORT, "ABSENT");
	check_exp(&p, 2, 1001, SRC_HOST, SRC_PORT, "ONLINE");
	ck_assert_msg(strstr(p.note, "1 tenant to the target 127.0.0.1:3310, 1 back to the source") != NULL, "%s",
		      p.note);
	/* the routes' rows are not changed by the plan */
	ck_assert_int_eq(r[0].row.ep.port, SRC_PORT);
	ck_assert_int_eq(r[0].row.gtid_port, 9306);
	ck_assert_str_eq(r[0].row.status, "OFFLINE_SOFT");
	psql_plan_free(&p);
	psql_tenant_routes_free(r, 2);
}
END_TEST

START_TEST(test_plan_release_rollback)
{
	struct tenant_route r[2];
	struct psql_endpoint d = ep(DST_HOST, DST_PORT);
	struct psql_plan p;

	r[0] = mkroute("t1", TW_FENCED, 100, 1000, SRC_HOST, SRC_PORT, "OFFLINE_SOFT", "");
	r[1] = mkroute("t2", TW_FENCED, 101, 1001, SRC_HOST, SRC_PORT, "OFFLINE_SOFT", "");
	psql_tenant_plan_release(r, 2, NULL, &d, false, &p);
	check_sql(&p, 4,
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=1000 AND hostname='127.0.0.1' AND port=3307",
		  "UPDATE mysql_servers SET status='ONLINE' WHERE hostgroup_id=1001 AND hostname='127.0.0.1' AND port=3307",
		  "LOAD MYSQL SERVERS TO RUNTIME",
		  PSQL_SQL_RUNTIME_SERVERS);
	ck_assert_uint_eq(p.nexp, 2);
	check_exp(&p, 0, 1000, SRC_HOST, SRC_PORT, "ONLINE");
	check_exp(&p, 1, 1001, SRC_HOST, SRC_PORT, "ONLINE");
	ck_assert_msg(strstr(p.note, "0 tenants to the target 127.0.0.1:3310, 2 back to the source") != NULL, "%s",
		      p.note);
	psql_plan_free(&p);
	/* moved all false is the same as NULL */
	{
		bool none[2] = { false, false };
		psql_tenant_plan_release(r, 2, none, &d, false, &p);
		ck_assert_uint_eq(p.n, 4);
		ck_assert_ptr_nonnull(strstr(p.sql[0], "SET status='ONLINE'"));
		ck_assert_ptr_nonnull(strstr(p.sql[1], "SET status='ONLINE'"));
		psql_plan_free(&p);
	}
	psql_tenant_routes_free(r, 2);
}
END_TEST

/* A target whose name needs quoting is quoted in the INSERT. */
START_TEST(test_plan_release_quotes)
{
	struct tenant_route r = mkroute("t'1", TW_FENCED, 100, 1000, SRC_HOST, SRC_PORT, "OFFLINE_SOFT", "it's");
	struct psql_endpoint d = ep("db'3.example", 3306);
	bool moved = true;
	struct psql_plan p;

	psql_tenant_plan_release(&r, 1, &moved, &d, true, &p);
	ck_assert_uint_eq(p.n, 5);
	ck_assert_str_eq(p.sql[1], INSERT_COLS "(1000, 'db''3.example', 3306, 0, 'ONLINE', 1000, 1, 500, 7, 1, 250, 'it''s')");
	check_exp(&p, 0, 1000, "db'3.example", 3306, "ONLINE");
	psql_plan_free(&p);
	psql_tenant_routes_free(&r, 1);
}
END_TEST

/* ---- psql_tenant_settled -------------------------------------------------------------------- */

START_TEST(test_settled)
{
	static const char *const cols[] = { "status", "weight", "port", "hostname", "hostgroup_id" };
	struct rowset *rt = rowset_new(5, cols);
	struct tenant_route r[6];
	struct psql_endpoint d = ep(DST_HOST, DST_PORT);
	bool moved[6];
	char e[256];
	size_t i;
	static const char *const rows[][5] = {
		{ "ONLINE", "1", "3310", DST_HOST, "1000" },          /* t0: moved */
		{ "OFFLINE_HARD", "1", "3310", DST_HOST, "1001" },    /* t1: on its way out: not moved */
		{ "ONLINE", "1", "3307", SRC_HOST, "1002" },          /* t2: the source only */
		{ "SHUNNED", "1", "3310", DST_HOST, "1003" },         /* t3: there, unhealthy: moved */
		{ "ONLINE", "1", "3310", DST_HOST, "1099" },          /* nobody's: t4 (1004) has no row */
		{ "ONLINE", "1", "3310", "127.0.0.2", "1005" },       /* t5: another host on that port */
		{ "OFFLINE_SOFT", "1", "3310", DST_HOST, "1002" },    /* t2 also has the target, soft */
	};

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		rowset_add_row(rt, rows[i]);
	for (i = 0; i < 6; i++) {
		r[i] = mkroute("t", TW_FENCED, 100 + (int)i, 1000 + (int)i, SRC_HOST, SRC_PORT, "ONLINE", "");
		moved[i] = true;      /* every one is decided */
	}
	ck_assert_int_eq(psql_tenant_settled(rt, r, 6, &d, moved, e, sizeof(e)), 0);
	ck_assert(moved[0]);
	ck_assert(!moved[1]);
	ck_assert(moved[2]);      /* OFFLINE_SOFT target: the release went through, then a fence */
	ck_assert(moved[3]);
	ck_assert(!moved[4]);
	ck_assert(!moved[5]);
	rowset_free(rt);
	psql_tenant_routes_free(r, 6);
}
END_TEST

START_TEST(test_settled_empty_and_missing_column)
{
	static const char *const cols[] = { "hostgroup_id", "hostname", "port", "status" };
	static const char *const short_cols[] = { "hostgroup_id", "hostname", "port" };
	struct rowset *rt = rowset_new(4, cols), *bad = rowset_new(3, short_cols);
	struct tenant_route r = mkroute("t", TW_FENCED, 100, 1000, SRC_HOST, SRC_PORT, "ONLINE", "");
	struct psql_endpoint d = ep(DST_HOST, DST_PORT);
	bool moved = true;
	char e[256] = "";

	ck_assert_int_eq(psql_tenant_settled(rt, &r, 1, &d, &moved, e, sizeof(e)), 0);
	ck_assert(!moved);
	ck_assert_int_eq(psql_tenant_settled(bad, &r, 1, &d, &moved, e, sizeof(e)), -1);
	ck_assert_msg(strstr(e, "runtime_mysql_servers: no column 'status'") != NULL, "%s", e);
	rowset_free(rt);
	rowset_free(bad);
	psql_tenant_routes_free(&r, 1);
}
END_TEST

/* ---- tenant_order ---------------------------------------------------------------------------- */

START_TEST(test_order_none_keeps)
{
	const char *nm[] = { "c", "a", "b" };
	const char *tiers[] = { "gold", NULL, "x" };
	size_t idx[3] = { 9, 9, 9 };
	char e[256] = "";

	ck_assert_int_eq(tenant_order(nm, tiers, 3, NULL, 0, idx, e, sizeof(e)), 0);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[1], 1);
	ck_assert_uint_eq(idx[2], 2);
	/* without tiers at all */
	ck_assert_int_eq(tenant_order(nm, NULL, 3, NULL, 0, idx, e, sizeof(e)), 0);
	ck_assert_uint_eq(idx[2], 2);
}
END_TEST

START_TEST(test_order_by_tier_stable)
{
	const char *nm[] = { "a", "b", "c", "d", "e" };
	const char *tiers[] = { "gold", "standard", "gold", "standard", "free" };
	const char *order[] = { "standard", "free", "gold" };
	size_t idx[5] = { 9, 9, 9, 9, 9 };
	const size_t want[5] = { 1, 3, 4, 0, 2 };
	char e[256] = "";
	size_t i;

	ck_assert_int_eq(tenant_order(nm, tiers, 5, order, 3, idx, e, sizeof(e)), 0);
	for (i = 0; i < 5; i++)
		ck_assert_msg(idx[i] == want[i], "idx[%zu] = %zu, want %zu", i, idx[i], want[i]);
	/* a tier of the order with no tenant is fine */
	{
		const char *order2[] = { "platinum", "gold", "free", "standard" };
		const size_t want2[5] = { 0, 2, 4, 1, 3 };
		ck_assert_int_eq(tenant_order(nm, tiers, 5, order2, 4, idx, e, sizeof(e)), 0);
		for (i = 0; i < 5; i++)
			ck_assert_msg(idx[i] == want2[i], "idx[%zu] = %zu, want %zu", i, idx[i], want2[i]);
	}
}
END_TEST

START_TEST(test_order_refusals)
{
	const char *order[] = { "standard", "gold" };
	size_t idx[4];
	char e[256];

	{
		const char *nm[] = { "a", "b" };
		const char *tiers[] = { "gold", "silver" };
		ck_assert_int_eq(tenant_order(nm, tiers, 2, order, 2, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant b") && strstr(e, "'silver'") && strstr(e, "not in the tier order"), "%s", e);
	}
	{
		const char *nm[] = { "a", "b" };
		const char *tiers[] = { "gold", NULL };
		ck_assert_int_eq(tenant_order(nm, tiers, 2, order, 2, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant b") && strstr(e, "no tier"), "%s", e);
	}
	{   /* a tier order with no tiers given at all */
		const char *nm[] = { "a" };
		ck_assert_int_eq(tenant_order(nm, NULL, 1, order, 2, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant a") && strstr(e, "no tier"), "%s", e);
	}
	{   /* duplicates, with or without a tier order */
		const char *nm[] = { "a", "b", "a" };
		const char *tiers[] = { "gold", "gold", "standard" };
		ck_assert_int_eq(tenant_order(nm, tiers, 3, order, 2, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant a is listed twice") != NULL, "%s", e);
		ck_assert_int_eq(tenant_order(nm, NULL, 3, NULL, 0, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant a is listed twice") != NULL, "%s", e);
	}
	{   /* empty, and too long */
		char long_name[70];
		const char *nm[] = { "a", "", "c" };
		const char *nm2[] = { "a", long_name };
		ck_assert_int_eq(tenant_order(nm, NULL, 3, NULL, 0, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant 2") && strstr(e, "1 to 64 characters"), "%s", e);
		memset(long_name, 'n', 65);
		long_name[65] = '\0';
		ck_assert_int_eq(tenant_order(nm2, NULL, 2, NULL, 0, idx, e, sizeof(e)), -1);
		ck_assert_msg(strstr(e, "tenant 2") && strstr(e, "1 to 64 characters"), "%s", e);
		long_name[64] = '\0';
		ck_assert_int_eq(tenant_order(nm2, NULL, 2, NULL, 0, idx, e, sizeof(e)), 0);
	}
}
END_TEST

/* A tier named twice in the order is refused (it once put its tenants into idx twice, past the
 * n entries the caller has).  The test gives idx room to spare so it can see a write. */
START_TEST(test_order_duplicate_tier)
{
	const char *nm[] = { "a" };
	const char *tiers[] = { "gold" };
	const char *order[] = { "gold", "gold" };
	size_t idx[4] = { 7, 7, 7, 7 };
	char e[256] = "";
	int rc = tenant_order(nm, tiers, 1, order, 2, idx, e, sizeof(e));

	ck_assert_msg(idx[1] == 7 && idx[2] == 7, "tenant_order wrote past n: idx[1] = %zu", idx[1]);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(e, "'gold' is listed twice"), "%s", e);
}
END_TEST

/* ---- ctl_move_parse -------------------------------------------------------------------------- */

struct words {
	int argc;
	char *argv[40];
};

static struct words words(const char *first, ...)
{
	struct words w;
	const char *s;
	va_list ap;

	memset(&w, 0, sizeof(w));
	va_start(ap, first);
	for (s = first; s && w.argc < 39; s = va_arg(ap, const char *))
		w.argv[w.argc++] = (char *)s;
	va_end(ap);
	return w;
}

static json_t *margs;
static char merr[1024];

static void move_setup(void)
{
	margs = json_object();
	merr[0] = '\0';
}

static void move_teardown(void)
{
	json_decref(margs);
	margs = NULL;
}

static int move_parse(const char *cluster, struct words w)
{
	json_decref(margs);
	margs = json_object();
	strlcpy_(merr, "untouched", sizeof(merr));
	return ctl_move_parse(w.argc, w.argv, cluster, margs, merr, sizeof(merr));
}

static void ck_args(const char *want_json)
{
	json_error_t je;
	json_t *want = json_loads(want_json, 0, &je);
	char *got;

	ck_assert_msg(want != NULL, "bad JSON in the test: %s", je.text);
	got = json_dumps(margs, JSON_SORT_KEYS);
	ck_assert_msg(json_equal(margs, want), "args\n  got  %s\n  want %s", got, want_json);
	free(got);
	json_decref(want);
}

#define ck_move_fails(cluster, text, ...) do { \
	ck_assert_int_eq(move_parse(cluster, words(__VA_ARGS__, NULL)), -1); \
	ck_assert_msg(!strncmp(merr, "move: ", 6), "%s", merr); \
	ck_assert_msg(strstr(merr, text) != NULL, "error \"%s\" does not say \"%s\"", merr, text); \
} while (0)

START_TEST(test_move_full)
{
	ck_assert_int_eq(move_parse(NULL, words("tenant", "a", "b:gold", "--to", "db3", "--batch", "5", "--pause", "2s",
						"--on-failure", "continue", "--tier-order", "standard,gold", "--by",
						"user", "--max-blocked", "800ms", "--router", "px1", NULL)),
			 0);
	ck_args("{\"tenants\": [\"a\", \"b:gold\"], \"to\": \"db3\", \"batch\": 5, \"pause_ms\": 2000, "
		"\"on_failure\": \"continue\", \"tier_order\": [\"standard\", \"gold\"], \"by\": \"user\", "
		"\"max_blocked_ms\": 800, \"router\": \"px1\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(margs, "batch")), 5);
	ck_assert(json_is_integer(json_object_get(margs, "pause_ms")));
}
END_TEST

START_TEST(test_move_minimal_and_forms)
{
	ck_assert_int_eq(move_parse(NULL, words("tenants", "t1", "--to=db3", NULL)), 0);
	ck_args("{\"tenants\": [\"t1\"], \"to\": \"db3\"}");
	/* options between names; "=" forms; a trimmed tier order; --pause 0 */
	ck_assert_int_eq(move_parse(NULL, words("tenant", "t1", "--batch=2", "t2", "--pause", "0", "--by=schema",
						"--tier-order= gold , ,free ", "--on-failure=stop", "--to", "db3", "t3:x",
						NULL)),
			 0);
	ck_args("{\"tenants\": [\"t1\", \"t2\", \"t3:x\"], \"to\": \"db3\", \"batch\": 2, \"pause_ms\": 0, "
		"\"by\": \"schema\", \"tier_order\": [\"gold\", \"free\"], \"on_failure\": \"stop\"}");
	/* a bare number is milliseconds */
	ck_assert_int_eq(move_parse(NULL, words("tenant", "t1", "--to", "db3", "--max-blocked", "250", NULL)), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(margs, "max_blocked_ms")), 250);
}
END_TEST

START_TEST(test_move_cluster)
{
	ck_assert_int_eq(move_parse("main", words("tenant", "t1", "--to", "db3", NULL)), 0);
	ck_args("{\"cluster\": \"main\", \"tenants\": [\"t1\"], \"to\": \"db3\"}");
	ck_assert_int_eq(move_parse("main", words("tenant", "t1", "-C", "main", "--to", "db3", NULL)), 0);
	ck_args("{\"cluster\": \"main\", \"tenants\": [\"t1\"], \"to\": \"db3\"}");
	ck_assert_int_eq(move_parse(NULL, words("tenant", "t1", "--cluster", "east", "--to", "db3", NULL)), 0);
	ck_args("{\"cluster\": \"east\", \"tenants\": [\"t1\"], \"to\": \"db3\"}");
	ck_move_fails("main", "--cluster main before the command and --cluster other after it name different clusters",
		      "tenant", "t1", "-C", "other", "--to", "db3");
	ck_move_fails("main", "name different clusters", "tenant", "t1", "--cluster=other", "--to", "db3");
}
END_TEST

START_TEST(test_move_help)
{
	ck_assert_int_eq(move_parse(NULL, words("--help", NULL)), 1);
	ck_assert_int_eq(move_parse(NULL, words("-h", NULL)), 1);
	ck_assert_int_eq(move_parse(NULL, words("tenant", "--help", NULL)), 1);
	ck_assert_int_eq(move_parse(NULL, words("tenant", "a", "--to", "db3", "-h", NULL)), 1);
	/* help wins over a mistake earlier on the line?  No: the mistake is said first. */
	ck_assert_int_eq(move_parse(NULL, words("tenant", "--frob", "--help", NULL)), -1);
}
END_TEST

START_TEST(test_move_errors)
{
	ck_assert_int_eq(ctl_move_parse(0, NULL, NULL, margs, merr, sizeof(merr)), -1);
	ck_assert_msg(strstr(merr, "what to move?") != NULL, "%s", merr);
	ck_move_fails(NULL, "what to move?", "schema", "a", "--to", "db3");
	ck_move_fails(NULL, "which tenants?", "tenant", "--to", "db3");
	ck_move_fails(NULL, "where to? (--to SERVER)", "tenant", "a", "b");
	ck_move_fails(NULL, "--to needs a value", "tenant", "a", "--to");
	ck_move_fails(NULL, "--to needs a value", "tenant", "a", "--to", "--batch", "2");
	ck_move_fails(NULL, "--batch 0: a whole number from 1 to 10000", "tenant", "a", "--to", "db3", "--batch", "0");
	ck_move_fails(NULL, "--batch 10001", "tenant", "a", "--to", "db3", "--batch", "10001");
	ck_move_fails(NULL, "--batch five", "tenant", "a", "--to", "db3", "--batch", "five");
	ck_move_fails(NULL, "--batch 2x", "tenant", "a", "--to", "db3", "--batch=2x");
	ck_move_fails(NULL, "--by group: schema or user", "tenant", "a", "--to", "db3", "--by", "group");
	ck_move_fails(NULL, "--on-failure maybe: stop or continue", "tenant", "a", "--to", "db3", "--on-failure", "maybe");
	ck_move_fails(NULL, "--pause soon: not a duration", "tenant", "a", "--to", "db3", "--pause", "soon");
	ck_move_fails(NULL, "--pause 2d", "tenant", "a", "--to", "db3", "--pause", "2d");
	ck_move_fails(NULL, "--pause 25h", "tenant", "a", "--to", "db3", "--pause", "25h");
	ck_move_fails(NULL, "--max-blocked 0: not a duration (250ms, 2s, 1m) above 0", "tenant", "a", "--to", "db3",
		      "--max-blocked", "0");
	ck_move_fails(NULL, "--tier-order: empty", "tenant", "a", "--to", "db3", "--tier-order", " , ");
	ck_move_fails(NULL, "unknown option --frobnicate", "tenant", "a", "--to", "db3", "--frobnicate");
	ck_move_fails(NULL, "unknown option --tox", "tenant", "a", "--tox", "db3");   /* no prefix matching */
	ck_move_fails(NULL, "unknown option -x", "tenant", "a", "-x", "--to", "db3");
	ck_move_fails(NULL, "':gold': not a tenant name", "tenant", ":gold", "--to", "db3");
	ck_move_fails(NULL, "'': not a tenant name", "tenant", "", "--to", "db3");
}
END_TEST

/* `--tier-order` as the last word (no value): refused, and nothing leaks (unit-san). */
START_TEST(test_move_tier_order_no_value)
{
	ck_move_fails(NULL, "--tier-order needs a value", "tenant", "a", "--to", "db3", "--tier-order");
}
END_TEST

/* --tenants-file: a temporary file per test */
static char tfile[64];

static const char *tenants_file(const char *text)
{
	int fd;
	size_t len = strlen(text);

	strlcpy_(tfile, "/tmp/check_tenant.XXXXXX", sizeof(tfile));
	fd = mkstemp(tfile);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return tfile;
}

static void file_teardown(void)
{
	if (tfile[0])
		unlink(tfile);
	tfile[0] = '\0';
	move_teardown();
}

START_TEST(test_move_tenants_file)
{
	const char *path = tenants_file("# tenants of the east region\n"
					"\n"
					"acme gold\n"
					"beta   # no tier, a comment after it\n"
					"   gamma\tstandard  \n"
					"#delta gold\n"
					"epsilon");      /* no newline at the end */

	ck_assert_int_eq(move_parse(NULL, words("tenant", "zeta:free", "--tenants-file", path, "--to", "db3", NULL)), 0);
	ck_args("{\"tenants\": [\"zeta:free\", \"acme:gold\", \"beta\", \"gamma:standard\", \"epsilon\"], \"to\": \"db3\"}");
	/* the file alone is enough */
	ck_assert_int_eq(move_parse(NULL, words("tenant", "--to", "db3", "--tenants-file", path, NULL)), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(margs, "tenants")), 4);
}
END_TEST

START_TEST(test_move_tenants_file_errors)
{
	char want[128];
	const char *path = tenants_file("acme gold\n# fine\nbeta gold extra\n");

	snprintf(want, sizeof(want), "%s:3: NAME [TIER], then nothing", path);
	ck_move_fails(NULL, want, "tenant", "--tenants-file", path, "--to", "db3");
	unlink(tfile);

	path = tenants_file("\n\na:gold\n");
	snprintf(want, sizeof(want), "%s:3: a name with ':'", path);
	ck_move_fails(NULL, want, "tenant", "--tenants-file", path, "--to", "db3");
	unlink(tfile);

	path = tenants_file("a\n:gold\n");      /* ":gold" as a name */
	snprintf(want, sizeof(want), "%s:2: ", path);
	ck_move_fails(NULL, want, "tenant", "--tenants-file", path, "--to", "db3");

	ck_move_fails(NULL, "--tenants-file /nonexistent/tenants: No such file or directory", "tenant", "--tenants-file",
		      "/nonexistent/tenants", "--to", "db3");
	/* a file with only comments names nobody */
	unlink(tfile);
	path = tenants_file("# nobody\n\n   \n");
	ck_move_fails(NULL, "which tenants?", "tenant", "--tenants-file", path, "--to", "db3");
}
END_TEST

/* ---- config: tenant_hostgroups, tenant_rule_ids ----------------------------------------------- */

#define CONF_NAME "tenant.conf"

static struct config *conf;
static struct cfg_errors conf_errs;

static void conf_setup(void)
{
	conf = NULL;
	memset(&conf_errs, 0, sizeof(conf_errs));
}

static void conf_teardown(void)
{
	config_free(conf);
	conf = NULL;
	cfg_errors_free(&conf_errs);
}

/* A ProxySQL router on lines 3-7 (writer 10, reader 20), then `extra` from line 8 on. */
static struct config *conf_load(const char *extra)
{
	char *text = xasprintf("[server db1]\n"
			       "user = u\n"
			       "[router px1]\n"
			       "type = proxysql\n"
			       "user = admin\n"
			       "writer_hostgroup = 10\n"
			       "reader_hostgroup = 20\n"
			       "%s", extra);

	config_free(conf);
	conf = NULL;
	cfg_errors_free(&conf_errs);
	memset(&conf_errs, 0, sizeof(conf_errs));
	conf = config_load_string(text, CONF_NAME, &conf_errs);
	free(text);
	return conf;
}

static const char *conf_all_errors(void)
{
	static char buf[8192];
	char one[1024];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < conf_errs.n && off < sizeof(buf); i++) {
		cfg_error_format(CONF_NAME, &conf_errs.v[i], one, sizeof(one));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\n  %s", one);
	}
	return conf_errs.n ? buf : " (none)";
}

/* Is there an error "tenant.conf:LINE: KEY: …text…"? */
static bool conf_has_error(int line, const char *key, const char *text)
{
	char want[128], one[1024];
	size_t i;

	snprintf(want, sizeof(want), "%s:%d: %s: ", CONF_NAME, line, key);
	for (i = 0; i < conf_errs.n; i++) {
		cfg_error_format(CONF_NAME, &conf_errs.v[i], one, sizeof(one));
		if (!strncmp(one, want, strlen(want)) && strstr(one + strlen(want), text))
			return true;
	}
	return false;
}

#define ck_conf_error(line, key, text) \
	ck_assert_msg(conf == NULL && conf_has_error(line, key, text), "expected %s:%d: %s: …%s…; got:%s", CONF_NAME, \
		      line, key, text, conf_all_errors())

START_TEST(test_config_valid)
{
	conf_load("tenant_hostgroups = 1000-1099\n"
		  "tenant_rule_ids = 100-199\n");
	ck_assert_msg(conf != NULL && conf_errs.n == 0, "errors:%s", conf_all_errors());
	ck_assert_uint_eq(conf->n_routers, 1);
	ck_assert_int_eq(conf->routers[0].tenant_hg_lo, 1000);
	ck_assert_int_eq(conf->routers[0].tenant_hg_hi, 1099);
	ck_assert_int_eq(conf->routers[0].tenant_rule_lo, 100);
	ck_assert_int_eq(conf->routers[0].tenant_rule_hi, 199);

	/* a range of one; hostgroup 0 allowed (rule ids start at 1) */
	conf_load("tenant_hostgroups = 0-0\n"
		  "tenant_rule_ids = 1-1\n");
	ck_assert_msg(conf != NULL, "errors:%s", conf_all_errors());
	ck_assert_int_eq(conf->routers[0].tenant_hg_lo, 0);
	ck_assert_int_eq(conf->routers[0].tenant_hg_hi, 0);
	ck_assert_int_eq(conf->routers[0].tenant_rule_lo, 1);

	/* neither: not set (-1) */
	conf_load("");
	ck_assert_msg(conf != NULL, "errors:%s", conf_all_errors());
	ck_assert_int_eq(conf->routers[0].tenant_hg_lo, -1);
	ck_assert_int_eq(conf->routers[0].tenant_rule_lo, -1);
}
END_TEST

START_TEST(test_config_bad_ranges)
{
	conf_load("tenant_hostgroups = 5\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "'5' is not a range LO-HI (e.g. 1000-1999)");

	conf_load("tenant_hostgroups = 1000-1099\n"
		  "tenant_rule_ids = 9-3\n");
	ck_conf_error(9, "tenant_rule_ids", "'9-3' is not a range LO-HI of rule ids from 1 with LO <= HI");

	conf_load("tenant_hostgroups = a-b\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "'a-b' is not a range LO-HI of hostgroup ids");

	conf_load("tenant_hostgroups = 1000-1099\n"
		  "tenant_rule_ids = 0-10\n");
	ck_conf_error(9, "tenant_rule_ids", "'0-10' is not a range");

	conf_load("tenant_hostgroups = 1000-\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "'1000-' is not a range");

	conf_load("tenant_hostgroups = 1000-99999999999\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "is not a range");
}
END_TEST

START_TEST(test_config_holds_writer_reader)
{
	conf_load("tenant_hostgroups = 0-100\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "0-100 holds the writer hostgroup (10)");

	conf_load("tenant_rule_ids = 100-199\n"
		  "tenant_hostgroups = 15-25\n");
	ck_conf_error(9, "tenant_hostgroups", "15-25 holds the reader hostgroup (20)");

	conf_load("tenant_hostgroups = 10-10\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(8, "tenant_hostgroups", "holds the writer hostgroup (10)");

	/* right beside them is fine */
	conf_load("tenant_hostgroups = 11-19\n"
		  "tenant_rule_ids = 10-20\n");
	ck_assert_msg(conf != NULL, "errors:%s", conf_all_errors());
}
END_TEST

START_TEST(test_config_only_one)
{
	conf_load("tenant_hostgroups = 1000-1099\n");
	ck_conf_error(8, "tenant_hostgroups", "tenant moves need both tenant_hostgroups and tenant_rule_ids");

	conf_load("\n"
		  "tenant_rule_ids = 100-199\n");
	ck_conf_error(9, "tenant_rule_ids", "tenant moves need both tenant_hostgroups and tenant_rule_ids");
}
END_TEST

/* Only a ProxySQL router has them. */
START_TEST(test_config_not_haproxy)
{
	config_free(conf);
	conf = config_load_string("[server db1]\n"
				  "user = u\n"
				  "[router h]\n"
				  "type = haproxy\n"
				  "address = /run/haproxy/admin.sock\n"
				  "backend = w\n"
				  "tenant_hostgroups = 1000-1099\n",
				  CONF_NAME, &conf_errs);
	ck_conf_error(7, "tenant_hostgroups", "not used by type = haproxy");
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------------ */

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *tenant_suite(void)
{
	Suite *s = suite_create("tenant");
	TCase *tc;

	tc = tcase_create("tenant_like");
	tcase_add_loop_test(tc, test_like, 0, N_OF(like_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("tenant_filters_cover");
	tcase_add_loop_test(tc, test_filters, 0, N_OF(filter_cases));
	tcase_add_test(tc, test_filters_short_buffer);
	tcase_add_test(tc, test_filters_escaped_ignore);
	suite_add_tcase(s, tc);

	tc = tcase_create("psql_tenant_resolve");
	tcase_add_checked_fixture(tc, resolve_setup, resolve_teardown);
	tcase_add_test(tc, test_resolve_new_lowest_free);
	tcase_add_test(tc, test_resolve_new_row_online);
	tcase_add_test(tc, test_resolve_new_skips_taken);
	tcase_add_test(tc, test_resolve_new_skips_writer_reader);
	tcase_add_test(tc, test_resolve_existing_source);
	tcase_add_test(tc, test_resolve_existing_fenced);
	tcase_add_test(tc, test_resolve_existing_target);
	tcase_add_test(tc, test_resolve_existing_without_model);
	tcase_add_loop_test(tc, test_resolve_hostgroup_holds_else, 0, N_OF(holds_cases));
	tcase_add_test(tc, test_resolve_foreign_rule);
	tcase_add_loop_test(tc, test_resolve_almost_ours, 0, 5);
	tcase_add_test(tc, test_resolve_inactive_foreign_ignored);
	tcase_add_test(tc, test_resolve_inactive_own_rule);
	tcase_add_test(tc, test_resolve_rule_before_refused);
	tcase_add_test(tc, test_resolve_rule_before_flagout);
	tcase_add_loop_test(tc, test_resolve_rule_before_harmless, 0, 6);
	tcase_add_test(tc, test_resolve_by_user);
	tcase_add_test(tc, test_resolve_by_user_foreign);
	tcase_add_test(tc, test_resolve_kinds_apart);
	tcase_add_loop_test(tc, test_resolve_no_ranges, 0, 2);
	tcase_add_test(tc, test_resolve_rule_ids_exhausted);
	tcase_add_test(tc, test_resolve_hostgroups_exhausted);
	tcase_add_test(tc, test_resolve_no_source_row);
	tcase_add_test(tc, test_resolve_missing_column);
	tcase_add_test(tc, test_resolve_every_problem);
	tcase_add_test(tc, test_resolve_small_err);
	suite_add_tcase(s, tc);

	tc = tcase_create("psql_tenant_plan");
	tcase_add_test(tc, test_plan_prepare);
	tcase_add_test(tc, test_plan_prepare_by_user);
	tcase_add_test(tc, test_plan_prepare_nothing_new);
	tcase_add_test(tc, test_plan_fence);
	tcase_add_test(tc, test_plan_release_moved);
	tcase_add_test(tc, test_plan_release_rollback);
	tcase_add_test(tc, test_plan_release_quotes);
	suite_add_tcase(s, tc);

	tc = tcase_create("psql_tenant_settled");
	tcase_add_test(tc, test_settled);
	tcase_add_test(tc, test_settled_empty_and_missing_column);
	suite_add_tcase(s, tc);

	tc = tcase_create("tenant_order");
	tcase_add_test(tc, test_order_none_keeps);
	tcase_add_test(tc, test_order_by_tier_stable);
	tcase_add_test(tc, test_order_refusals);
	tcase_add_test(tc, test_order_duplicate_tier);
	suite_add_tcase(s, tc);

	tc = tcase_create("ctl_move_parse");
	tcase_add_checked_fixture(tc, move_setup, move_teardown);
	tcase_add_test(tc, test_move_full);
	tcase_add_test(tc, test_move_minimal_and_forms);
	tcase_add_test(tc, test_move_cluster);
	tcase_add_test(tc, test_move_help);
	tcase_add_test(tc, test_move_errors);
	tcase_add_test(tc, test_move_tier_order_no_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("tenants_file");
	tcase_add_checked_fixture(tc, move_setup, file_teardown);
	tcase_add_test(tc, test_move_tenants_file);
	tcase_add_test(tc, test_move_tenants_file_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_tenant_ranges");
	tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
	tcase_add_test(tc, test_config_valid);
	tcase_add_test(tc, test_config_bad_ranges);
	tcase_add_test(tc, test_config_holds_writer_reader);
	tcase_add_test(tc, test_config_only_one);
	tcase_add_test(tc, test_config_not_haproxy);
	suite_add_tcase(s, tc);
	return s;
}
