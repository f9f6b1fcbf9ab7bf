/* Per-tenant cutovers through ProxySQL: `move_tenants` moves each tenant's reads and writes
 * from the cluster's primary (the source) to a target server, in batches, each tenant's writes
 * held for the moment of its switch and each tenant rolled back on its own when its check fails.
 *
 * The setup it supports (refused otherwise, with the reason):
 * - The target is a writable server of ANOTHER cluster (its own primary), replicating from the
 *   source primary by GTID, with both threads running — the whole stream or the tenants'
 *   schemas through replication filters (each tenant's schema must be covered whole).  On
 *   MariaDB its gtid_domain_id is none of the source's domains (its own writes would clash with
 *   the stream).  A target in the same cluster is refused: it would be a second writable server
 *   there.
 * - One ProxySQL router of the cluster, with tenant_hostgroups and tenant_rule_ids
 *   (proxysql_tenant.h: a rule and a hostgroup per tenant), the tenant rules before any
 *   application rule that could take a tenant's queries first.
 * - A tenant is a schema (ProxySQL's schemaname: the session's default schema) or an
 *   application user (username; its data is its default_schema in mysql_users).
 *
 * A batch (up to `batch` tenants at once):
 *   prepare  the tenants' rules and hostgroups (to the source still), their tables listed
 *   fence    the source OFFLINE_SOFT in their hostgroups: new queries wait in ProxySQL
 *   cut      the tenants' sessions on the source killed (a transaction kept open there would
 *            write on), and waited for until gone
 *   sync     the source's GTID position read, the target waits for it
 *   verify   each tenant's tables counted on both sides; one differing fails that tenant only
 *   probe    a row per tenant into cutoverd.tenant_moves on the target (it takes writes)
 *   release  the tenants that passed: the target ONLINE in their hostgroups; the others: the
 *            source ONLINE again (rolled back).  The held queries go on.
 * Write-blocked time per tenant = from the fence's LOAD to the release's LOAD answer; the whole
 * batch is rolled back when it passes max_blocked_ms.  Between batches `pause_ms`; a batch
 * with a rolled-back tenant stops the move unless on_failure = continue.
 *
 * Every step is journaled (kind "tenant_move") before it acts.  After a restart an
 * interrupted batch is settled from ProxySQL's runtime: a tenant whose hostgroup has the target
 * stays moved (it may have written there), the others get the source back; the move ends there.
 * One move at a time per cluster; not beside a switchover or a read shift; a failover aborts it. */
#ifndef CUTOVER_TENANT_H
#define CUTOVER_TENANT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "proxysql_tenant.h"

struct daemon;
struct cluster;
struct client;
struct tenant_move;

#define TENANT_MAX 10000

struct tenant_opts {
	const char *to;             /* the target server */
	const char *router;         /* NULL: the cluster's only ProxySQL router */
	enum tenant_kind kind;
	const char *const *names;   /* in the order to move them (after tier_order) */
	const char *const *tiers;   /* per name, may be NULL entries; NULL: none */
	size_t n;
	int batch;                  /* tenants per batch (default 1) */
	int pause_ms;               /* between batches */
	bool continue_on_failure;
	int max_blocked_ms;         /* a batch held longer is rolled back (default 5000) */
};

/* Order names by tier: a stable sort on each tier's index in `order` (NULL: keep the order).
 * Names whose tier is not in order, and duplicate names, are refused: -1 with why.  idx gets
 * the new order as indexes into names. */
int tenant_order(const char *const *names, const char *const *tiers, size_t n, const char *const *order,
		 size_t n_order, size_t *idx, char *err, size_t errlen);

int tenant_start(struct daemon *d, struct cluster *c, struct client *cl, json_t *req_id, const struct tenant_opts *o,
		 enum err_code *code, char *err, size_t errlen);
bool tenant_active(const struct tenant_move *m);
int tenant_abort(struct tenant_move *m, char *err, size_t errlen);
int tenant_pause(struct tenant_move *m, char *err, size_t errlen);
int tenant_resume(struct tenant_move *m, char *err, size_t errlen);
const char *tenant_summary(const struct tenant_move *m);
const char *tenant_id(const struct tenant_move *m);
json_t *tenant_json(const struct tenant_move *m);
/* At start-up: an unfinished tenant move in a cluster's journal (`by`: journal_by_cutover's
 * runs) is settled from ProxySQL's runtime. */
void tenant_recover(struct daemon *d, struct cluster *c, const json_t *by);
/* With [ha]: this member stopped leading; a running move is left to the leader (freed). */
void tenant_handover(struct daemon *d, struct cluster *c, const char *why);
void tenant_free(struct tenant_move *m);
void tenant_rebind(struct tenant_move *m, struct cluster *c);

#endif
