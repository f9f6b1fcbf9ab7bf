/* The config parser's keys as data: one table per section kind with each key's name, type,
 * field and limits, and the names of enum values.  The keys with a syntax of their own
 * (KT_FUNC: socket_group, admin_users, server_map, addresses, …) are in config_keys_set.c.
 * tests/man-check.sh reads the key names from this file. */
#include "config_impl.h"
#include "router.h"
#include "util.h"

#include <limits.h>
#include <string.h>

_Static_assert(RSTEP__COUNT == 5, "cfg_router.exec_cmd has 5 slots");

/* ---- names ---- */

const char *const cfg_sect_names[] = { "cutoverd", "cluster", "server", "router", "ha", NULL };
static const char *const tls_names[] = {
	"disabled", "preferred", "required", "verify_ca", "verify_identity", NULL
};
static const char *const candidate_names[] = { "allow", "prefer", "never", NULL };
static const char *const flavor_names[] = { "auto", "mariadb", "mysql", NULL };
static const char *const router_names[] = { "haproxy", "proxysql", "exec", NULL };
static const char *const splitbrain_names[] = { "alert", "fence", "stonith", NULL };
static const char *const data_check_names[] = { "auto", "on", "off", NULL };
static const char *const watch_action_names[] = { "alarm", "reverse", NULL };

static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n - 1)
		return "unknown";
	return names[v];
}

const char *tls_mode_name(enum tls_mode m)
{
	return name_of(tls_names, ARRAY_LEN(tls_names), (int)m);
}

const char *router_type_name(enum router_type t)
{
	return name_of(router_names, ARRAY_LEN(router_names), (int)t);
}

const char *candidate_name(enum candidate_pref c)
{
	return name_of(candidate_names, ARRAY_LEN(candidate_names), (int)c);
}

const char *splitbrain_name(enum splitbrain_policy p)
{
	return name_of(splitbrain_names, ARRAY_LEN(splitbrain_names), (int)p);
}

const char *data_check_name(enum data_check_mode m)
{
	return name_of(data_check_names, ARRAY_LEN(data_check_names), (int)m);
}

const char *watch_action_name(enum watch_action a)
{
	return name_of(watch_action_names, ARRAY_LEN(watch_action_names), (int)a);
}

/* ---- key tables ---- */

#define OFF(st, f) offsetof(struct st, f)
#define DUR(n, st, f, lo, hi) { .name = n, .type = KT_DURATION, .off = OFF(st, f), .min = lo, .max = hi }
#define INT(n, st, f, lo, hi) { .name = n, .type = KT_INT, .off = OFF(st, f), .min = lo, .max = hi }
#define BOOL(n, st, f)        { .name = n, .type = KT_BOOL, .off = OFF(st, f) }
#define ENUM(n, st, f, tab)   { .name = n, .type = KT_ENUM, .off = OFF(st, f), .names = tab }
#define FUNC(n, fn)           { .name = n, .type = KT_FUNC, .set = fn }
#define SECRETS(prefix, st, f, rt) \
	{ .name = prefix "_file", .type = KT_SECRET_FILE, .off = OFF(st, f), .routers = rt }, \
	{ .name = prefix "_env", .type = KT_SECRET_ENV, .off = OFF(st, f), .routers = rt }, \
	{ .name = prefix, .type = KT_SECRET_INLINE, .off = OFF(st, f), .routers = rt }

#define RT(t) (1u << (t))
#define SEC 1000LL
#define MIN (60 * SEC)

static const struct key_def global_keys[] = {
	{ .name = "socket", .type = KT_PATH, .off = OFF(config, socket_path), .max = CFG_SUN_MAX },
	FUNC("socket_group", set_socket_group),
	FUNC("socket_mode", set_socket_mode),
	FUNC("admin_users", set_admin_users),
	FUNC("admin_groups", set_admin_groups),
	DUR("poll_interval", config, poll_interval_ms, 100, 60 * SEC),
	DUR("connect_timeout", config, connect_timeout_ms, 100, 60 * SEC),
	DUR("query_timeout", config, query_timeout_ms, 100, 60 * SEC),
	{ .name = "state_dir", .type = KT_PATH, .off = OFF(config, state_dir) },
	FUNC("log_level", set_log_level),
	INT("max_clients", config, max_clients, 1, 4096),
	DUR("idle_timeout", config, idle_timeout_ms, 1 * SEC, 24 * 60 * MIN),
	FUNC("metrics_address", set_metrics_address),
	{ .name = "event_hook", .type = KT_HOOK_LIST, .off = OFF(config, event_hooks) },
	DUR("event_hook_timeout", config, event_hook_timeout_ms, 100, 10 * MIN),
	INT("event_hook_rate", config, event_hook_rate, 1, 600),
	{ .name = NULL }
};

static const struct key_def cluster_keys[] = {
	DUR("lag_warn", cfg_cluster, lag_warn_ms, 1, 60 * MIN),
	INT("hysteresis", cfg_cluster, hysteresis, 1, 100),
	BOOL("heartbeat", cfg_cluster, heartbeat),
	FUNC("heartbeat_table", set_heartbeat_table),
	{ .name = "upstream", .type = KT_NAME, .off = OFF(cfg_cluster, upstream) },
	{ .name = "repl_user", .type = KT_STRING, .off = OFF(cfg_cluster, repl_user) },
	SECRETS("repl_password", cfg_cluster, repl_secret, 0),
	DUR("max_lag", cfg_cluster, max_lag_ms, 0, 60 * MIN),
	DUR("catchup_lag", cfg_cluster, catchup_lag_ms, 0, 60 * SEC),
	DUR("catchup_timeout", cfg_cluster, catchup_timeout_ms, 100, 60 * MIN),
	DUR("drain_timeout", cfg_cluster, drain_timeout_ms, 100, 10 * MIN),
	DUR("fence_timeout", cfg_cluster, fence_timeout_ms, 100, 10 * MIN),
	DUR("fence_budget", cfg_cluster, fence_budget_ms, 5, 10 * SEC),
	DUR("sync_timeout", cfg_cluster, sync_timeout_ms, 100, 10 * MIN),
	DUR("promote_timeout", cfg_cluster, promote_timeout_ms, 100, 10 * MIN),
	DUR("pause_timeout", cfg_cluster, pause_timeout_ms, 1 * SEC, 24 * 60 * MIN),
	DUR("blocked_pause_timeout", cfg_cluster, blocked_pause_timeout_ms, 1 * SEC, 10 * MIN),
	BOOL("reverse_replication", cfg_cluster, reverse_replication),
	BOOL("kill_sessions", cfg_cluster, kill_sessions),
	{ .name = "preflight_hook", .type = KT_HOOK_LIST, .off = OFF(cfg_cluster, preflight_hooks) },
	ENUM("split_brain", cfg_cluster, splitbrain, splitbrain_names),
	{ .name = "stonith_hook", .type = KT_HOOK, .off = OFF(cfg_cluster, stonith_hook) },
	{ .name = "fence_hook", .type = KT_HOOK, .off = OFF(cfg_cluster, fence_hook) },
	DUR("hook_timeout", cfg_cluster, hook_timeout_ms, 100, 10 * MIN),
	BOOL("auto_failover", cfg_cluster, auto_failover),
	INT("failover_after", cfg_cluster, failover_after, 1, 100),
	DUR("failover_block", cfg_cluster, failover_block_ms, 0, 7 * 24 * 60 * MIN),
	{ .name = "event_hook", .type = KT_HOOK_LIST, .off = OFF(cfg_cluster, event_hooks) },
	ENUM("data_check", cfg_cluster, data_check, data_check_names),
	FUNC("data_check_tables", set_data_check_tables),
	INT("data_check_chunk_rows", cfg_cluster, data_check_chunk_rows, 10, 10000000),
	INT("data_check_rate", cfg_cluster, data_check_rate, 0, 1000000000),
	DUR("data_check_timeout", cfg_cluster, data_check_timeout_ms, 1 * SEC, 24 * 60 * MIN),
	DUR("watch", cfg_cluster, watch_ms, 0, 7 * 24 * 60 * MIN),
	{ .name = "watch_error_rate", .type = KT_FUNC, .set = set_percent, .off = OFF(cfg_cluster, watch_error_rate) },
	DUR("watch_p95", cfg_cluster, watch_p95_ms, 1, 10 * MIN),
	INT("watch_failed_per_min", cfg_cluster, watch_failed_per_min, 0, 100000000),
	ENUM("watch_action", cfg_cluster, watch_action, watch_action_names),
	{ .name = NULL }
};

static const struct key_def server_keys[] = {
	{ .name = "cluster", .type = KT_NAME, .off = OFF(cfg_server, cluster) },
	FUNC("host", set_host),
	INT("port", cfg_server, port, 1, 65535),
	{ .name = "socket", .type = KT_PATH, .off = OFF(cfg_server, socket), .max = CFG_SUN_MAX },
	{ .name = "user", .type = KT_STRING, .off = OFF(cfg_server, user) },
	SECRETS("password", cfg_server, secret, 0),
	ENUM("tls_mode", cfg_server, tls_mode, tls_names),
	{ .name = "tls_ca", .type = KT_FILE, .off = OFF(cfg_server, tls_ca) },
	{ .name = "tls_cert", .type = KT_FILE, .off = OFF(cfg_server, tls_cert) },
	{ .name = "tls_key", .type = KT_FILE, .off = OFF(cfg_server, tls_key) },
	{ .name = "server_public_key", .type = KT_FILE, .off = OFF(cfg_server, server_public_key) },
	ENUM("candidate", cfg_server, candidate, candidate_names),
	ENUM("flavor", cfg_server, flavor, flavor_names),
	{ .name = "stonith_hook", .type = KT_HOOK, .off = OFF(cfg_server, stonith_hook) },
	{ .name = "fence_hook", .type = KT_HOOK, .off = OFF(cfg_server, fence_hook) },
	{ .name = NULL }
};

#define EXEC_KEY(n, step) \
	{ .name = n, .type = KT_HOOK, .off = OFF(cfg_router, exec_cmd[step]), .routers = RT(ROUTER_EXEC) }

static const struct key_def router_keys[] = {
	{ .name = "cluster", .type = KT_NAME, .off = OFF(cfg_router, cluster) },
	ENUM("type", cfg_router, type, router_names),
	{ .name = "address", .type = KT_FUNC, .set = set_address,
	  .routers = RT(ROUTER_HAPROXY) | RT(ROUTER_PROXYSQL) },
	{ .name = "backend", .type = KT_STRING, .off = OFF(cfg_router, backend),
	  .routers = RT(ROUTER_HAPROXY) },
	{ .name = "read_backend", .type = KT_STRING, .off = OFF(cfg_router, read_backend),
	  .routers = RT(ROUTER_HAPROXY) },
	FUNC("server_map", set_server_map),
	DUR("timeout", cfg_router, timeout_ms, 100, 60 * SEC),
	FUNC("write_endpoint", set_write_endpoint),
	{ .name = "user", .type = KT_STRING, .off = OFF(cfg_router, user), .routers = RT(ROUTER_PROXYSQL) },
	SECRETS("password", cfg_router, secret, RT(ROUTER_PROXYSQL)),
	{ .name = "writer_hostgroup", .type = KT_INT, .off = OFF(cfg_router, writer_hostgroup),
	  .min = 0, .max = INT_MAX, .routers = RT(ROUTER_PROXYSQL) },
	{ .name = "reader_hostgroup", .type = KT_INT, .off = OFF(cfg_router, reader_hostgroup),
	  .min = -1, .max = INT_MAX, .routers = RT(ROUTER_PROXYSQL) },
	{ .name = "tenant_hostgroups", .type = KT_FUNC, .set = set_tenant_range, .routers = RT(ROUTER_PROXYSQL) },
	{ .name = "tenant_rule_ids", .type = KT_FUNC, .set = set_tenant_range, .routers = RT(ROUTER_PROXYSQL) },
	EXEC_KEY("exec_status", RSTEP_STATUS),
	EXEC_KEY("exec_drain", RSTEP_DRAIN),
	EXEC_KEY("exec_promote", RSTEP_PROMOTE),
	EXEC_KEY("exec_rollback", RSTEP_ROLLBACK),
	EXEC_KEY("exec_finalize", RSTEP_FINALIZE),
	{ .name = NULL }
};

/* [ha]: several members, one leader elected through etcd (ha.h) */
static const struct key_def ha_keys[] = {
	FUNC("etcd", set_etcd),
	{ .name = "prefix", .type = KT_STRING, .off = OFF(cfg_ha, prefix) },
	{ .name = "name", .type = KT_NAME, .off = OFF(cfg_ha, name) },
	{ .name = "address", .type = KT_STRING, .off = OFF(cfg_ha, address) },
	FUNC("source", set_ha_source),
	DUR("lease_ttl", cfg_ha, lease_ttl_ms, 2 * SEC, 60 * SEC),
	{ .name = NULL }
};

const struct key_def *const cfg_key_tables[SECT__COUNT] = {
	[SECT_GLOBAL] = global_keys,
	[SECT_CLUSTER] = cluster_keys,
	[SECT_SERVER] = server_keys,
	[SECT_ROUTER] = router_keys,
	[SECT_HA] = ha_keys,
};

const char *const cfg_sect_usage[SECT__COUNT] = {
	[SECT_GLOBAL] = "[cutoverd]",
	[SECT_CLUSTER] = "[cluster NAME]",
	[SECT_SERVER] = "[server NAME]",
	[SECT_ROUTER] = "[router NAME]",
	[SECT_HA] = "[ha]",
};

const struct key_def *cfg_key_find(enum sect_kind kind, const char *name)
{
	const struct key_def *d;
	for (d = cfg_key_tables[kind]; d->name; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}
