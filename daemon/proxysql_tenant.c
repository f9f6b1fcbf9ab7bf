/* A tenant's routing through ProxySQL (see proxysql_tenant.h). */
#include "proxysql_tenant.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char psql_sql_rules[] = "SELECT rule_id, active, username, schemaname, flagIN, flagOUT, apply, "
			      "destination_hostgroup, comment FROM mysql_query_rules ORDER BY rule_id";

enum { R_ID, R_ACTIVE, R_USER, R_SCHEMA, R_FLAGIN, R_FLAGOUT, R_APPLY, R_DEST, R_COMMENT, R__N };

struct problems {
	char *buf;
	size_t len, used;
};

static void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;

	if (p->used + 3 >= p->len)
		return;
	if (p->used)
		p->used += (size_t)snprintf(p->buf + p->used, p->len - p->used, "; ");
	va_start(ap, fmt);
	p->used += (size_t)vsnprintf(p->buf + p->used, p->len - p->used, fmt, ap);
	va_end(ap);
	if (p->used >= p->len)
		p->used = p->len - 1;
}

static const char *kind_name(enum tenant_kind k)
{
	return k == TENANT_SCHEMA ? "schema" : "user";
}

static void our_comment(enum tenant_kind k, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "cutoverd tenant %s:%s", kind_name(k), name);
}

static const char *cell(const struct rowset *rs, size_t row, const int *c, int col)
{
	const char *v = rowset_at(rs, row, (size_t)c[col]);
	return v && *v ? v : NULL;
}

static bool in_range(long long v, int lo, int hi)
{
	return lo >= 0 && v >= lo && v <= hi;
}

/* Could rule `row` (before the tenant rules) take the tenant's queries first?  It selects by
 * the other attribute or by this one with another value: no. */
static bool may_select(const struct rowset *rs, size_t row, const int *c, enum tenant_kind k, const char *name)
{
	const char *mine = cell(rs, row, c, k == TENANT_SCHEMA ? R_SCHEMA : R_USER);
	return !mine || !strcmp(mine, name);
}

static void classify(struct tenant_route *t, const struct psql_snapshot *servers, const struct psql_endpoint *src,
		     const struct psql_endpoint *dst, struct problems *pr)
{
	const struct psql_server *s = psql_snapshot_find(servers, t->hostgroup, src);
	const struct psql_server *d = psql_snapshot_find(servers, t->hostgroup, dst);
	size_t i, rows = 0;
	char have[300] = "";
	size_t used = 0;

	for (i = 0; i < servers->n; i++) {
		if (servers->v[i].hostgroup != t->hostgroup)
			continue;
		rows++;
		if (used + 1 < sizeof(have))
			used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%s:%d %s", used ? ", " : "",
						 servers->v[i].ep.host, servers->v[i].ep.port, servers->v[i].status);
	}
	if (rows == 1 && s && (psql_status_is(s->status, "ONLINE") || psql_status_is(s->status, "OFFLINE_SOFT"))) {
		t->where = psql_status_is(s->status, "ONLINE") ? TW_SOURCE : TW_FENCED;
		t->row = *s;
		t->row.comment = xstrdup(s->comment ? s->comment : "");
		strlcpy_(t->row.status, "ONLINE", sizeof(t->row.status));
		return;
	}
	if (rows == 1 && d && psql_status_is(d->status, "ONLINE")) {
		t->where = TW_TARGET;
		t->row = *d;
		t->row.comment = xstrdup(d->comment ? d->comment : "");
		return;
	}
	problem(pr, "tenant %s: its hostgroup %d holds %s, neither the source %s:%d alone nor the target %s:%d alone; "
		    "put it right in mysql_servers first", t->name, t->hostgroup, rows ? have : "nothing", src->host,
		src->port, dst->host, dst->port);
}

/* The lowest id of [lo, hi] for which taken() is false; -1 if none. */
static int lowest_free(int lo, int hi, bool (*taken)(int, const void *), const void *ctx)
{
	long long v;
	for (v = lo; v <= hi; v++)
		if (!taken((int)v, ctx))
			return (int)v;
	return -1;
}

struct alloc_ctx {
	const struct rowset *rules;
	const int *c;
	const struct psql_snapshot *servers;
	const struct cfg_router *cfg;
	const struct tenant_route *routes;
	size_t n;
};

static bool rule_taken(int id, const void *arg)
{
	const struct alloc_ctx *a = arg;
	size_t i;
	long long v;

	for (i = 0; i < a->rules->nrows; i++)
		if (psql_num(a->rules, i, a->c[R_ID], 0, 1LL << 31, &v) && v == id)
			return true;
	for (i = 0; i < a->n; i++)
		if (a->routes[i].rule_id == id)
			return true;
	return false;
}

static bool hostgroup_taken(int hg, const void *arg)
{
	const struct alloc_ctx *a = arg;
	size_t i;
	long long v;

	if (hg == a->cfg->writer_hostgroup || hg == a->cfg->reader_hostgroup)
		return true;
	for (i = 0; i < a->servers->n; i++)
		if (a->servers->v[i].hostgroup == hg)
			return true;
	for (i = 0; i < a->rules->nrows; i++)
		if (psql_num(a->rules, i, a->c[R_DEST], 0, 1LL << 31, &v) && v == hg)
			return true;
	for (i = 0; i < a->n; i++)
		if (a->routes[i].hostgroup == hg)
			return true;
	return false;
}

int psql_tenant_resolve(const struct rowset *rules, const struct psql_snapshot *servers, const struct cfg_router *cfg,
			enum tenant_kind kind, const char *const *names, size_t n, const struct psql_endpoint *src,
			const struct psql_endpoint *dst, struct tenant_route *out, char *err, size_t errlen)
{
	static const char *const cols[R__N] = { "rule_id", "active", "username", "schemaname", "flagIN",
						"flagOUT", "apply", "destination_hostgroup", "comment" };
	int c[R__N];
	const struct psql_server *model;
	struct problems pr = { err, errlen, 0 };
	char mine[400];
	size_t i, row;

	memset(out, 0, n * sizeof(*out));
	err[0] = '\0';
	if (psql_need_cols(rules, "mysql_query_rules", cols, c, R__N, err, errlen) < 0)
		return -1;
	if (cfg->tenant_hg_lo < 0 || cfg->tenant_rule_lo < 0) {
		snprintf(err, errlen, "router %s has no tenant_hostgroups and tenant_rule_ids: cutoverd gives each tenant "
			 "it moves a query rule and a hostgroup from those ranges (cutoverd.conf(5))", cfg->name);
		return -1;
	}
	model = psql_snapshot_find(servers, cfg->writer_hostgroup, src);
	for (i = 0; i < n; i++) {
		struct tenant_route *t = &out[i];
		t->name = names[i];
		t->rule_id = t->hostgroup = -1;
		t->where = TW_NEW;
		our_comment(kind, names[i], mine, sizeof(mine));
		for (row = 0; row < rules->nrows; row++) {
			const char *sel = cell(rules, row, c, kind == TENANT_SCHEMA ? R_SCHEMA : R_USER);
			const char *other = cell(rules, row, c, kind == TENANT_SCHEMA ? R_USER : R_SCHEMA);
			const char *comment = cell(rules, row, c, R_COMMENT);
			long long id = -1, dest = -1, active = 0;

			if (!sel || strcmp(sel, names[i]))
				continue;
			psql_num(rules, row, c[R_ID], 0, 1LL << 31, &id);
			psql_num(rules, row, c[R_DEST], 0, 1LL << 31, &dest);
			psql_num(rules, row, c[R_ACTIVE], 0, 1, &active);
			if (comment && !strcmp(comment, mine) && !other && in_range(id, cfg->tenant_rule_lo, cfg->tenant_rule_hi) &&
			    in_range(dest, cfg->tenant_hg_lo, cfg->tenant_hg_hi) && active && t->rule_id < 0) {
				t->rule_id = (int)id;
				t->hostgroup = (int)dest;
				continue;
			}
			if (!active)
				continue;
			problem(&pr, "tenant %s: query rule %lld (comment '%s') already selects %s %s: cutoverd moves tenants "
				    "through rules of its own; remove that rule or leave the tenant out", names[i], id,
				comment ? comment : "", kind_name(kind), names[i]);
		}
		if (t->rule_id >= 0)
			classify(t, servers, src, dst, &pr);
	}
	if (pr.used) {
		psql_tenant_routes_free(out, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct tenant_route *t = &out[i];
		struct alloc_ctx a = { rules, c, servers, cfg, out, n };

		if (t->where != TW_NEW)
			continue;
		if (!model) {
			problem(&pr, "the source %s:%d is not in writer hostgroup %d of mysql_servers: a tenant's hostgroup "
				    "copies its row", src->host, src->port, cfg->writer_hostgroup);
			break;
		}
		t->rule_id = lowest_free(cfg->tenant_rule_lo, cfg->tenant_rule_hi, rule_taken, &a);
		t->hostgroup = lowest_free(cfg->tenant_hg_lo, cfg->tenant_hg_hi, hostgroup_taken, &a);
		if (t->rule_id < 0 || t->hostgroup < 0) {
			problem(&pr, "tenant %s: no free %s left in %d-%d (router %s); widen the range", t->name,
				t->rule_id < 0 ? "rule id" : "hostgroup", t->rule_id < 0 ? cfg->tenant_rule_lo : cfg->tenant_hg_lo,
				t->rule_id < 0 ? cfg->tenant_rule_hi : cfg->tenant_hg_hi, cfg->name);
			break;
		}
		t->row = *model;
		t->row.hostgroup = t->hostgroup;
		strlcpy_(t->row.status, "ONLINE", sizeof(t->row.status));
		our_comment(kind, t->name, mine, sizeof(mine));
		t->row.comment = xstrdup(mine);
	}
	/* a rule before a tenant's rule that could take its queries first */
	for (row = 0; !pr.used && row < rules->nrows; row++) {
		long long id = -1, active = 0, apply = 0, flagin = 0;
		const char *flagout = cell(rules, row, c, R_FLAGOUT), *comment = cell(rules, row, c, R_COMMENT);

		psql_num(rules, row, c[R_ID], 0, 1LL << 31, &id);
		psql_num(rules, row, c[R_ACTIVE], 0, 1, &active);
		psql_num(rules, row, c[R_APPLY], 0, 1, &apply);
		psql_num(rules, row, c[R_FLAGIN], 0, 1LL << 31, &flagin);
		if (!active || flagin != 0 || (!apply && !flagout) || (comment && !strncmp(comment, "cutoverd tenant ", 16)))
			continue;
		for (i = 0; i < n; i++) {
			if (out[i].where == TW_TARGET || id >= out[i].rule_id || !may_select(rules, row, c, kind, names[i]))
				continue;
			problem(&pr, "query rule %lld (%s) comes before tenant %s's rule %d and could route its queries first: "
				    "the tenant rules (tenant_rule_ids %d-%d) must come before the application's routing "
				    "rules (lower ids)", id, apply ? "apply = 1" : "flagOUT", names[i], out[i].rule_id,
				cfg->tenant_rule_lo, cfg->tenant_rule_hi);
			break;
		}
	}
	if (pr.used) {
		psql_tenant_routes_free(out, n);
		return -1;
	}
	return 0;
}

void psql_tenant_routes_free(struct tenant_route *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].row.comment);
		r[i].row.comment = NULL;
	}
}

void psql_tenant_plan_prepare(const struct tenant_route *r, size_t n, enum tenant_kind kind, struct psql_plan *plan)
{
	size_t i, added = 0;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n; i++) {
		char *sel, *comment, mine[400];
		if (r[i].where != TW_NEW)
			continue;
		psql_plan_add(plan, psql_insert_sql(&r[i].row, false));
		sel = psql_literal(r[i].name);
		our_comment(kind, r[i].name, mine, sizeof(mine));
		comment = psql_literal(mine);
		psql_plan_add(plan, xasprintf("INSERT INTO mysql_query_rules (rule_id, active, %s, destination_hostgroup, "
					      "apply, comment) VALUES (%d, 1, %s, %d, 1, %s)",
					      kind == TENANT_SCHEMA ? "schemaname" : "username", r[i].rule_id, sel,
					      r[i].hostgroup, comment));
		free(sel);
		free(comment);
		psql_plan_expect(plan, r[i].hostgroup, &r[i].row.ep, "ONLINE");
		added++;
	}
	if (!added)
		return;
	psql_plan_add(plan, xstrdup(PSQL_SQL_LOAD));
	psql_plan_add(plan, xstrdup("LOAD MYSQL QUERY RULES TO RUNTIME"));
	psql_plan_add(plan, xstrdup(PSQL_SQL_SAVE));
	psql_plan_add(plan, xstrdup("SAVE MYSQL QUERY RULES TO DISK"));
	psql_plan_add(plan, xstrdup(PSQL_SQL_RUNTIME_SERVERS));
	psql_plan_note(plan, "%zu tenant rule%s and hostgroup%s added, still to the source", added, added == 1 ? "" : "s",
		       added == 1 ? "" : "s");
}

void psql_tenant_plan_fence(const struct tenant_route *r, size_t n, struct psql_plan *plan)
{
	size_t i;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n; i++) {
		char *w = psql_row_where(r[i].hostgroup, &r[i].row.ep);
		psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE %s", w));
		free(w);
		psql_plan_expect(plan, r[i].hostgroup, &r[i].row.ep, "OFFLINE_SOFT");
	}
	psql_plan_load_and_read(plan);
	psql_plan_note(plan, "%zu tenant hostgroup%s: the source OFFLINE_SOFT (new queries held)", n, n == 1 ? "" : "s");
}

void psql_tenant_plan_release(const struct tenant_route *r, size_t n, const bool *moved, const struct psql_endpoint *dst,
			      bool saved, struct psql_plan *plan)
{
	size_t i, m = 0;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n; i++) {
		if (moved && moved[i]) {
			struct psql_server t = r[i].row;
			t.ep = *dst;
			t.gtid_port = 0;   /* the source's binlog reader is not the target's */
			strlcpy_(t.status, "ONLINE", sizeof(t.status));
			psql_plan_add(plan, xasprintf("DELETE FROM mysql_servers WHERE hostgroup_id=%d", r[i].hostgroup));
			psql_plan_add(plan, psql_insert_sql(&t, false));
			psql_plan_expect(plan, r[i].hostgroup, dst, "ONLINE");
			psql_plan_expect(plan, r[i].hostgroup, &r[i].row.ep, "ABSENT");
			m++;
		} else {
			char *w = psql_row_where(r[i].hostgroup, &r[i].row.ep);
			psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='ONLINE' WHERE %s", w));
			free(w);
			psql_plan_expect(plan, r[i].hostgroup, &r[i].row.ep, "ONLINE");
		}
	}
	psql_plan_add(plan, xstrdup(PSQL_SQL_LOAD));
	if (saved)
		psql_plan_add(plan, xstrdup(PSQL_SQL_SAVE));
	psql_plan_add(plan, xstrdup(PSQL_SQL_RUNTIME_SERVERS));
	psql_plan_note(plan, "%zu tenant%s to the target %s:%d, %zu back to the source", m, m == 1 ? "" : "s", dst->host,
		       dst->port, n - m);
}

int psql_tenant_settled(const struct rowset *runtime, const struct tenant_route *r, size_t n,
			const struct psql_endpoint *dst, bool *moved, char *err, size_t errlen)
{
	static const char *const cols[] = { "hostgroup_id", "hostname", "port", "status" };
	int c[4];
	size_t i, row;

	if (psql_need_cols(runtime, "runtime_mysql_servers", cols, c, 4, err, errlen) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		moved[i] = false;
		for (row = 0; row < runtime->nrows; row++) {
			long long hg, port;
			const char *host = rowset_at(runtime, row, (size_t)c[1]), *st = rowset_at(runtime, row, (size_t)c[3]);
			if (psql_num(runtime, row, c[0], 0, 1LL << 31, &hg) && hg == r[i].hostgroup &&
			    psql_num(runtime, row, c[2], 0, 65535, &port) && port == dst->port && host &&
			    !strcmp(host, dst->host) && st && !psql_status_is(st, "OFFLINE_HARD"))
				moved[i] = true;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* replication filters */

bool tenant_like(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '%') {
			while (p[1] == '%')
				p++;
			if (!p[1])
				return true;
			for (; *s; s++)
				if (tenant_like(p + 1, s))
					return true;
			return false;
		}
		if (*p == '\\' && p[1]) {
			/* \_ and \%: the character itself (the servers' wild-table patterns escape so) */
			p++;
			if (!*s || tolower((unsigned char)*p) != tolower((unsigned char)*s))
				return false;
			continue;
		}
		if (!*s || (*p != '_' && tolower((unsigned char)*p) != tolower((unsigned char)*s)))
			return false;
	}
	return !*s;
}

/* Each comma-separated item of list, trimmed, to fn; true if fn said so for one. */
static bool any_item(const char *list, bool (*fn)(const char *item, const char *schema), const char *schema)
{
	char *copy = xstrdup(list ? list : ""), *rest = copy, *it;
	bool hit = false;

	while (!hit && (it = strsep(&rest, ",")))
		if (*trim(it))
			hit = fn(trim(it), schema);
	free(copy);
	return hit;
}

static bool same_db(const char *item, const char *schema)
{
	return !strcmp(item, schema);
}

/* "db.table": the db part is the schema */
static bool table_in(const char *item, const char *schema)
{
	const char *dot = strchr(item, '.');
	return dot && (size_t)(dot - item) == strlen(schema) && !strncmp(item, schema, (size_t)(dot - item));
}

/* "db%.%": the db pattern matches the schema and the table pattern is every table */
static bool wild_whole(const char *item, const char *schema)
{
	const char *dot = strchr(item, '.');
	char db[256];

	if (!dot || (size_t)(dot - item) >= sizeof(db) || strcmp(dot + 1, "%"))
		return false;
	memcpy(db, item, (size_t)(dot - item));
	db[dot - item] = '\0';
	return tenant_like(db, schema);
}

/* "db%.t%": the db pattern matches the schema (some or all of its tables) */
static bool wild_touches(const char *item, const char *schema)
{
	const char *dot = strchr(item, '.');
	char db[256];

	if (!dot || (size_t)(dot - item) >= sizeof(db))
		return false;
	memcpy(db, item, (size_t)(dot - item));
	db[dot - item] = '\0';
	return tenant_like(db, schema);
}

static bool empty(const char *s)
{
	return !s || !*s;
}

bool tenant_filters_cover(const struct repl_filters *f, const char *schema, char *why, size_t whylen)
{
	if (!empty(f->do_db) && !any_item(f->do_db, same_db, schema)) {
		snprintf(why, whylen, "Replicate_Do_DB (%s) does not list %s", f->do_db, schema);
		return false;
	}
	if (any_item(f->ignore_db, same_db, schema)) {
		snprintf(why, whylen, "Replicate_Ignore_DB lists %s", schema);
		return false;
	}
	if (any_item(f->do_table, table_in, schema) || any_item(f->ignore_table, table_in, schema)) {
		snprintf(why, whylen, "a table filter (Replicate_Do_Table / Replicate_Ignore_Table) names tables of %s: "
			 "a tenant moves whole", schema);
		return false;
	}
	if (any_item(f->wild_ignore_table, wild_touches, schema)) {
		snprintf(why, whylen, "Replicate_Wild_Ignore_Table (%s) leaves out tables of %s", f->wild_ignore_table, schema);
		return false;
	}
	if ((!empty(f->wild_do_table) || !empty(f->do_table)) && !any_item(f->wild_do_table, wild_whole, schema)) {
		snprintf(why, whylen, "Replicate_Wild_Do_Table (%s) does not take every table of %s (e.g. %s.%%)",
			 empty(f->wild_do_table) ? "empty, with Replicate_Do_Table set" : f->wild_do_table, schema, schema);
		return false;
	}
	return true;
}
