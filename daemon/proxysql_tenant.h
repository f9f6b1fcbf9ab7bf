/* A tenant's routing through ProxySQL, as data (tenant.h runs the moves).  No I/O.
 *
 * A tenant is what one query rule selects: a schema (the session's default schema,
 * mysql_query_rules.schemaname) or an application user (username).  cutoverd gives each tenant
 * it moves a rule of its own (an id from the router's tenant_rule_ids, comment "cutoverd tenant
 * KIND:NAME", apply = 1, every query of the tenant) pointing at a hostgroup of its own (from
 * tenant_hostgroups) that holds exactly one server: the one with the tenant's data.  Moving the
 * tenant is then a switchover of that one-server hostgroup: the source's row OFFLINE_SOFT (new
 * queries of the tenant wait in ProxySQL for a server of the hostgroup), the target's row ONLINE
 * in its place (the waiting queries go on, to the target).  A query held in a hostgroup stays
 * in that hostgroup, which is why the hostgroup, and not the rule, changes at the switch; and
 * why a tenant rolled back gets its source back in the same hostgroup.
 *
 * The rule and the hostgroup stay after the move: they are the tenant's routing from then on. */
#ifndef CUTOVER_PROXYSQL_TENANT_H
#define CUTOVER_PROXYSQL_TENANT_H

#include "proxysql_sql.h"

#include <stdbool.h>
#include <stddef.h>

enum tenant_kind { TENANT_SCHEMA, TENANT_USER };

/* Where a tenant is, as ProxySQL's configuration shows it. */
enum tenant_where {
	TW_NEW,          /* no rule yet: it goes where the application's routing sends it */
	TW_SOURCE,       /* our rule; its hostgroup holds the source ONLINE */
	TW_FENCED,       /* our rule; the source OFFLINE_SOFT (a move interrupted at the fence) */
	TW_TARGET,       /* our rule; the target ONLINE: already moved */
};

struct tenant_route {
	const char *name;          /* borrowed */
	enum tenant_where where;
	int rule_id, hostgroup;    /* given (TW_NEW: allocated by psql_tenant_resolve) */
	struct psql_server row;    /* the source's row as the tenant's hostgroup holds (or will hold) it;
				    * row.comment owned */
};

/* "SELECT rule_id, active, username, schemaname, flagIN, flagOUT, apply, destination_hostgroup,
 * comment FROM mysql_query_rules ORDER BY rule_id" */
extern const char psql_sql_rules[];

/* The tenants' routes from mysql_query_rules (psql_sql_rules) and every row of mysql_servers
 * (psql_snapshot_sql(-1, -1)): each tenant's state, and a rule id and a hostgroup for the new
 * ones (the lowest free in the router's ranges).  src is the source as ProxySQL names it; its
 * row in the writer hostgroup is the model of a new tenant's row (weight, max_connections, …);
 * dst the target.  0, or -1 with every tenant that cannot move and why (a rule cutoverd did
 * not make selects it, a rule before the tenant rules would route its queries first, its
 * hostgroup holds something else, no id left in a range). */
int psql_tenant_resolve(const struct rowset *rules, const struct psql_snapshot *servers, const struct cfg_router *cfg,
			enum tenant_kind kind, const char *const *names, size_t n, const struct psql_endpoint *src,
			const struct psql_endpoint *dst, struct tenant_route *out, char *err, size_t errlen);
void psql_tenant_routes_free(struct tenant_route *r, size_t n);

/* The statements of each step, as struct psql_plan (proxysql_sql.h): the last statement reads
 * runtime_mysql_servers back, checked with psql_check_runtime against plan.exp. */
/* prepare: for the TW_NEW routes, the hostgroup with the source ONLINE and the rule; LOAD and
 * SAVE of both (the routing is unchanged: the same server, by another hostgroup). */
void psql_tenant_plan_prepare(const struct tenant_route *r, size_t n, enum tenant_kind kind, struct psql_plan *plan);
/* fence: the source OFFLINE_SOFT in each route's hostgroup. */
void psql_tenant_plan_fence(const struct tenant_route *r, size_t n, struct psql_plan *plan);
/* release: routes with moved[i] get the target ONLINE in place of the source; the others (all
 * when moved is NULL) the source back ONLINE.  With `saved`, SAVE MYSQL SERVERS TO DISK too. */
void psql_tenant_plan_release(const struct tenant_route *r, size_t n, const bool *moved, const struct psql_endpoint *dst,
			      bool saved, struct psql_plan *plan);
/* After a failure whose effect is unknown (a release that did not answer, a restart): from
 * runtime_mysql_servers (psql_snapshot-like rows: hostgroup_id, hostname, port, status), which
 * routes already have the target in their hostgroup (moved[i]: the release went through; the
 * tenant may have written there) — the others go back to the source. */
int psql_tenant_settled(const struct rowset *runtime, const struct tenant_route *r, size_t n,
			const struct psql_endpoint *dst, bool *moved, char *err, size_t errlen);

/* The replication filters of the target (SHOW REPLICA STATUS's Replicate_* columns, "" for
 * none): does every table of `schema` replicate?  Conservative: a table filter naming the
 * schema refuses (a tenant moves whole).  true, or false with why. */
struct repl_filters {
	const char *do_db, *ignore_db, *do_table, *ignore_table, *wild_do_table, *wild_ignore_table;
};
bool tenant_filters_cover(const struct repl_filters *f, const char *schema, char *why, size_t whylen);
/* SQL LIKE: % any run, _ one character, \ makes the next character literal (as the servers'
 * replicate-wild-*-table patterns escape _ and %); case-insensitive, as schema names compare on
 * most systems. */
bool tenant_like(const char *pattern, const char *s);

#endif
