/* The config parser's keys as data: one table per section kind with each key's name, type,
 * field and limits, the names of enum values, and the keys with a syntax of their own
 * (KT_FUNC: socket_group, admin_users, server_map, addresses, …).  tests/man-check.sh reads
 * the key names from this file. */
#include "config_impl.h"
#include "log.h"
#include "router.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define CFG_MAP_NAME_MAX 127             /* fits struct router_backend.name */
#define CFG_SUN_MAX      ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

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

static void set_socket_group(struct parser *, void *, const struct key_def *, const char *);
static void set_socket_mode(struct parser *, void *, const struct key_def *, const char *);
static void set_admin_users(struct parser *, void *, const struct key_def *, const char *);
static void set_admin_groups(struct parser *, void *, const struct key_def *, const char *);
static void set_log_level(struct parser *, void *, const struct key_def *, const char *);
static void set_heartbeat_table(struct parser *, void *, const struct key_def *, const char *);
static void set_host(struct parser *, void *, const struct key_def *, const char *);
static void set_address(struct parser *, void *, const struct key_def *, const char *);
static void set_server_map(struct parser *, void *, const struct key_def *, const char *);
static void set_write_endpoint(struct parser *, void *, const struct key_def *, const char *);
static void set_metrics_address(struct parser *, void *, const struct key_def *, const char *);
static void set_data_check_tables(struct parser *, void *, const struct key_def *, const char *);
static void set_percent(struct parser *, void *, const struct key_def *, const char *);
static void set_tenant_range(struct parser *, void *, const struct key_def *, const char *);
static void set_etcd(struct parser *, void *, const struct key_def *, const char *);

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

/* ---- keys with their own syntax ---- */

static bool lookup_gid(const char *name, gid_t *gid)
{
	struct group *gr;
	long long n;

	if (parse_ll(name, 0, (long long)(gid_t)-2, &n)) {
		*gid = (gid_t)n;
		return true;
	}
	if (!(gr = getgrnam(name)))
		return false;
	*gid = gr->gr_gid;
	return true;
}

static bool lookup_uid(const char *name, uid_t *uid)
{
	struct passwd *pw;
	long long n;

	if (parse_ll(name, 0, (long long)(uid_t)-2, &n)) {
		*uid = (uid_t)n;
		return true;
	}
	if (!(pw = getpwnam(name)))
		return false;
	*uid = pw->pw_uid;
	return true;
}

static void set_socket_group(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	gid_t gid;

	if (!lookup_gid(v, &gid)) {
		cfg_perr(p, p->line, def->name, "no such group '%s' (a group name or a numeric gid)", v);
		return;
	}
	cfg_set_string(&c->socket_group, v);
	c->socket_gid = gid;
}

static void set_socket_mode(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (!isdigit((unsigned char)*v) || *end || errno || m > 0777)
		cfg_perr(p, p->line, def->name, "'%s' is not an octal mode (e.g. 0660; at most 0777)", v);
	else
		c->socket_mode = (unsigned)m;
}

/* "root, alice, 1001": calls one() for each item; false after the first bad one. */
static bool for_each_item(struct parser *p, const char *key, const char *v,
			  bool (*one)(struct parser *, const char *key, const char *item, void *),
			  void *arg)
{
	char *copy = xstrdup(v), *rest = copy, *item;
	bool ok = true;

	while (ok && (item = strsep(&rest, ","))) {
		item = trim(item);
		if (!*item) {
			cfg_perr(p, p->line, key, "empty item in the list (items are separated by ',')");
			ok = false;
		} else {
			ok = one(p, key, item, arg);
		}
	}
	free(copy);
	return ok;
}

static bool one_admin_user(struct parser *p, const char *key, const char *item, void *arg)
{
	struct config *c = arg;

	if (c->n_admin_uids == CFG_MAX_IDS) {
		cfg_perr(p, p->line, key, "too many users (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_uid(item, &c->admin_uids[c->n_admin_uids])) {
		cfg_perr(p, p->line, key, "no such user '%s' (user names or numeric uids, separated by "
			 "',')", item);
		return false;
	}
	c->n_admin_uids++;
	return true;
}

static bool one_admin_group(struct parser *p, const char *key, const char *item, void *arg)
{
	struct config *c = arg;

	if (c->n_admin_gids == CFG_MAX_IDS) {
		cfg_perr(p, p->line, key, "too many groups (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_gid(item, &c->admin_gids[c->n_admin_gids])) {
		cfg_perr(p, p->line, key, "no such group '%s' (group names or numeric gids, separated "
			 "by ',')", item);
		return false;
	}
	c->n_admin_gids++;
	return true;
}

static void set_admin_users(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_user, c))
		c->n_admin_uids = 0;
}

static void set_admin_groups(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_group, c))
		c->n_admin_gids = 0;
}

static void set_log_level(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	int level = log_level_parse(v);

	if (level < 0)
		cfg_perr(p, p->line, def->name, "'%s' is not a log level (error, warning, notice, info "
			 "or debug)", v);
	else
		c->log_level = level;
}

static bool sql_ident_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$')
			return false;
	return true;
}

static void set_heartbeat_table(struct parser *p, void *obj, const struct key_def *def,
				const char *v)
{
	struct cfg_cluster *cl = obj;
	const char *dot = strchr(v, '.');

	if (!dot || !sql_ident_ok(v, (size_t)(dot - v)) || !sql_ident_ok(dot + 1, strlen(dot + 1)))
		cfg_perr(p, p->line, def->name, "'%s' is not DATABASE.TABLE (e.g. cutoverd.heartbeat; "
			 "names of letters, digits, '_' and '$', at most 64 each)", v);
	else
		cfg_set_string(&cl->heartbeat_table, v);
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

static void set_host(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_server *s = obj;

	if (has_space(v) || v[0] == '/')
		cfg_perr(p, p->line, def->name, "'%s' is not a host name or address (use socket = PATH "
			 "for a Unix socket)", v);
	else
		cfg_set_string(&s->host, v);
}

/* HOST:PORT, [IPV6]:PORT. */
static bool host_port_ok(const char *v)
{
	const char *colon = strrchr(v, ':');
	long long port;

	if (!colon || colon == v || !parse_ll(colon + 1, 1, 65535, &port))
		return false;
	if (v[0] == '[')
		return colon[-1] == ']' && colon - v > 2;
	return !memchr(v, ':', (size_t)(colon - v));
}

static void set_address(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_router *r = obj;
	const char *path = !strncmp(v, "unix:", 5) ? v + 5 : v;

	if (has_space(v))
		goto bad;
	if (path[0] == '/') {
		if ((int)strlen(path) > CFG_SUN_MAX) {
			cfg_perr(p, p->line, def->name, "path is too long (at most %d characters for a "
				 "Unix socket)", CFG_SUN_MAX);
			return;
		}
	} else if (path != v || !host_port_ok(v)) {
		goto bad;
	}
	cfg_set_string(&r->address, v);
	return;
bad:
	cfg_perr(p, p->line, def->name, "'%s' is not an address (an absolute socket path, "
		 "unix:PATH or HOST:PORT)", v);
}

/* The switchover's probe connects to it with host and port, so no socket and no IPv6 brackets. */
static void set_write_endpoint(struct parser *p, void *obj, const struct key_def *def,
			       const char *v)
{
	struct cfg_router *r = obj;

	if (has_space(v) || v[0] == '[' || v[0] == '/' || !host_port_ok(v))
		cfg_perr(p, p->line, def->name, "'%s' is not HOST:PORT (e.g. 10.0.0.5:3306)", v);
	else
		cfg_set_string(&r->write_endpoint, v);
}

/* etcd = http://10.0.0.1:2379, http://10.0.0.2:2379: numeric addresses (no lookup on the loop) */
static void set_etcd(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_ha *h = obj;
	char *copy = xstrdup(v), *rest = copy, *item;

	while ((item = strsep(&rest, ","))) {
		unsigned char a[4];
		char host[64];
		const char *colon;
		long long port;

		item = trim(item);
		colon = strrchr(item, ':');
		if (strncmp(item, "http://", 7) || !colon || colon - item - 7 <= 0 || colon - item - 7 >= (long)sizeof(host) ||
		    !parse_ll(colon + 1, 1, 65535, &port)) {
			cfg_perr(p, p->line, def->name, "'%s' is not http://ADDRESS:PORT (e.g. http://10.0.0.1:2379)", item);
			break;
		}
		memcpy(host, item + 7, (size_t)(colon - item - 7));
		host[colon - item - 7] = '\0';
		if (inet_pton(AF_INET, host, a) != 1) {
			cfg_perr(p, p->line, def->name, "'%s': the address must be a numeric IPv4 address (a name would be "
				 "looked up on the event loop)", item);
			break;
		}
		if (h->n_etcd == CFG_MAX_ETCD) {
			cfg_perr(p, p->line, def->name, "at most %d endpoints", CFG_MAX_ETCD);
			break;
		}
		h->etcd[h->n_etcd++] = xstrdup(item);
	}
	free(copy);
}

/* tenant_hostgroups / tenant_rule_ids = LO-HI: a range of ProxySQL ids (tenant.h). */
static void set_tenant_range(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_router *r = obj;
	const char *dash = strchr(v, '-');
	char lo_s[24];
	long long lo, hi;
	bool hg = !strcmp(def->name, "tenant_hostgroups");

	if (!dash || (size_t)(dash - v) >= sizeof(lo_s)) {
		cfg_perr(p, p->line, def->name, "'%s' is not a range LO-HI (e.g. %s)", v, hg ? "1000-1999" : "100-999");
		return;
	}
	memcpy(lo_s, v, (size_t)(dash - v));
	lo_s[dash - v] = '\0';
	{
		char hi_s[24];
		snprintf(hi_s, sizeof(hi_s), "%s", dash + 1);
		if (strlen(dash + 1) >= sizeof(hi_s) || !parse_ll(trim(lo_s), hg ? 0 : 1, INT_MAX, &lo) ||
		    !parse_ll(trim(hi_s), hg ? 0 : 1, INT_MAX, &hi) || hi < lo)
			lo = -1;
	}
	if (lo < 0) {
		cfg_perr(p, p->line, def->name, "'%s' is not a range LO-HI of %s with LO <= HI (e.g. %s)", v,
			 hg ? "hostgroup ids" : "rule ids from 1", hg ? "1000-1999" : "100-999");
		return;
	}
	*(hg ? &r->tenant_hg_lo : &r->tenant_rule_lo) = (int)lo;
	*(hg ? &r->tenant_hg_hi : &r->tenant_rule_hi) = (int)hi;
}

/* ADDRESS:PORT or [ADDRESS]:PORT with a numeric address: the listener binds it from the loop,
 * where a DNS lookup could block. */
static void set_metrics_address(struct parser *p, void *obj, const struct key_def *def,
				const char *v)
{
	struct config *c = obj;
	const char *colon = strrchr(v, ':'), *h = v;
	unsigned char addr[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN + 1];
	int family = AF_INET;
	long long port;
	size_t hl;

	if (!colon || !parse_ll(colon + 1, 1, 65535, &port))
		goto bad;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || colon[-1] != ']')
			goto bad;
		h = v + 1;
		hl -= 2;
		family = AF_INET6;
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(family, host, addr) != 1)
		goto bad;
	cfg_set_string(&c->metrics_address, v);
	return;
bad:
	cfg_perr(p, p->line, def->name, "'%s' is not ADDRESS:PORT with a numeric address (e.g. "
		 "127.0.0.1:9571, 0.0.0.0:9571 or [::1]:9571; host names are not looked up)", v);
}

static bool map_name_ok(const char *s)
{
	return *s && strlen(s) <= CFG_MAP_NAME_MAX && !has_space(s) && !strchr(s, '=');
}

struct map_arg {
	struct cfg_router *r;
};

static bool one_map_entry(struct parser *p, const char *key, const char *item, void *arg)
{
	struct cfg_router *r = ((struct map_arg *)arg)->r;
	char *copy = xstrdup(item), *eq = strchr(copy, '='), *srv, *rname;
	bool ok = false;
	size_t i;

	if (!eq) {
		cfg_perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
			 "db2=mysql2)", item);
		goto out;
	}
	*eq = '\0';
	srv = trim(copy);
	rname = trim(eq + 1);
	if (!cfg_valid_name(srv) || !map_name_ok(rname)) {
		cfg_perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
			 "db2=mysql2)", item);
		goto out;
	}
	for (i = 0; i < r->n_map; i++) {
		if (!strcmp(r->map_server[i], srv)) {
			cfg_perr(p, p->line, key, "server %s is mapped twice", srv);
			goto out;
		}
	}
	r->map_server = xrealloc(r->map_server, (r->n_map + 1) * sizeof(char *));
	r->map_router = xrealloc(r->map_router, (r->n_map + 1) * sizeof(char *));
	r->map_server[r->n_map] = xstrdup(srv);
	r->map_router[r->n_map++] = xstrdup(rname);
	ok = true;
out:
	free(copy);
	return ok;
}

static void set_server_map(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct map_arg a = { obj };
	for_each_item(p, def->name, v, one_map_entry, &a);
}

/* data_check_tables = shop.orders, shop.*, billing: a table, every table of a schema */
static bool one_check_table(struct parser *p, const char *key, const char *item, void *arg)
{
	char ***v = arg;
	const char *dot = strchr(item, '.');
	size_t n = 0, sl = dot ? (size_t)(dot - item) : strlen(item);

	if (!sql_ident_ok(item, sl) || (dot && strcmp(dot + 1, "*") && !sql_ident_ok(dot + 1, strlen(dot + 1)))) {
		cfg_perr(p, p->line, key, "'%s' is not SCHEMA.TABLE, SCHEMA.* or SCHEMA (letters, digits, '_' and '$', "
			 "up to 64 each; e.g. data_check_tables = shop.orders, billing.*)", item);
		return false;
	}
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(**v));
	(*v)[n] = xstrdup(item);
	(*v)[n + 1] = NULL;
	return true;
}

static void set_data_check_tables(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_cluster *cl = obj;
	char **list = NULL;
	size_t i;

	if (for_each_item(p, def->name, v, one_check_table, &list)) {
		for (i = 0; cl->data_check_tables && cl->data_check_tables[i]; i++)
			free(cl->data_check_tables[i]);
		free(cl->data_check_tables);
		cl->data_check_tables = list;
		return;
	}
	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* "1%", "0.5 %" or "0.01": a share, kept as a fraction */
static void set_percent(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char *end;
	double x = strtod(v, &end);

	while (*end == ' ')
		end++;
	if (*end == '%') {
		x /= 100.0;
		end++;
	}
	if (end == v || *end || x < 0 || x > 1 || x != x)
		cfg_perr(p, p->line, def->name, "'%s' is not a share between 0%% and 100%% (e.g. %s = 1%%)", v, def->name);
	else
		*(double *)((char *)obj + def->off) = x;
}
