/* What a ProxySQL poll reads, turned into the router's view: the backends of the writer and
 * reader hostgroups, whether ProxySQL's monitor moves servers itself, and three things a
 * switchover must know before it starts — a mysql_servers that differs from runtime (our LOAD
 * would apply someone's unfinished change), an admin user that is also a mysql_users name
 * (ProxySQL refuses its next login), and a writer hostgroup with no server at all.  No I/O;
 * see proxysql_sql.h. */
#include "proxysql_sql.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ConnUsed of a backend in the connection pool, 0 if the pool does not list it. */
static int pool_sessions(const struct rowset *pool, int hg, const struct psql_endpoint *e)
{
	int c_hg = rowset_col(pool, "hostgroup"), c_host = rowset_col(pool, "srv_host");
	int c_port = rowset_col(pool, "srv_port"), c_used = rowset_col(pool, "ConnUsed");
	long long h, p, used;
	size_t i;

	if (!pool || c_hg < 0 || c_host < 0 || c_port < 0 || c_used < 0)
		return 0;
	for (i = 0; i < pool->nrows; i++) {
		const char *host = rowset_at(pool, i, (size_t)c_host);

		if (psql_num(pool, i, c_hg, 0, 1LL << 31, &h) && h == hg && host && !strcmp(host, e->host) &&
		    psql_num(pool, i, c_port, 0, 65535, &p) && p == e->port)
			return psql_num(pool, i, c_used, 0, 1LL << 30, &used) ? (int)used : 0;
	}
	return 0;
}

static void fill_backend(struct router_backend *b, const struct cfg_router *cfg, int hg,
			 const struct psql_endpoint *e, const char *status, long long weight,
			 long long maxconn, int sessions)
{
	const char *server;

	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%.120s:%d", e->host, e->port);
	server = psql_server_of(cfg, b->name);
	strlcpy_(b->server, server ? server : "", sizeof(b->server));
	strlcpy_(b->host, e->host, sizeof(b->host));
	b->port = e->port;
	b->hostgroup = hg;
	b->writer = hg == cfg->writer_hostgroup;
	strlcpy_(b->state, status, sizeof(b->state));
	psql_status_flags(status, &b->admin_up, &b->healthy);
	b->sessions = sessions;
	b->weight = (int)weight;
	b->max_connections = (int)maxconn;
}

int psql_parse_view(const struct rowset *servers, const struct rowset *pool,
		    const struct rowset *repl, const struct cfg_router *cfg,
		    struct router_view *v, char *err, size_t errlen)
{
	static const char *const cols[] = { "hostgroup_id", "hostname", "port", "status" };
	int c[4], c_w = rowset_col(servers, "weight"), c_mc = rowset_col(servers, "max_connections");
	int rc = 0;
	size_t i;

	v->n = 0;
	v->auto_failover_hostgroups = false;
	err[0] = '\0';
	if (psql_need_cols(servers, "runtime_mysql_servers", cols, c, 4, err, errlen) < 0)
		return -1;
	v->auto_failover_hostgroups = psql_auto_failover(repl, cfg->writer_hostgroup);
	for (i = 0; i < servers->nrows; i++) {
		struct psql_endpoint e;
		const char *host = rowset_at(servers, i, (size_t)c[1]);
		const char *status = rowset_at(servers, i, (size_t)c[3]);
		long long hg, port, weight = 0, maxconn = -1;

		if (!psql_num(servers, i, c[0], 0, 1LL << 31, &hg) || !psql_num(servers, i, c[2], 0, 65535, &port) ||
		    !host || !*host || strlen(host) >= sizeof(e.host) || !status) {
			if (rc == 0)
				snprintf(err, errlen, "runtime_mysql_servers row %zu: unreadable hostgroup_id "
				     "'%s', hostname, port '%s' or status", i + 1,
				     rowset_at(servers, i, (size_t)c[0]) ? rowset_at(servers, i, (size_t)c[0]) : "NULL",
				     rowset_at(servers, i, (size_t)c[2]) ? rowset_at(servers, i, (size_t)c[2]) : "NULL");
			rc = -1;
			continue;
		}
		if (hg != cfg->writer_hostgroup && (cfg->reader_hostgroup < 0 || hg != cfg->reader_hostgroup))
			continue;
		if (v->n == ROUTER_MAX_BACKENDS) {
			snprintf(err, errlen, "more than %d servers in hostgroups %d and %d: only the first %d are shown",
			     ROUTER_MAX_BACKENDS, cfg->writer_hostgroup, cfg->reader_hostgroup,
			     ROUTER_MAX_BACKENDS);
			return -1;
		}
		strlcpy_(e.host, host, sizeof(e.host));
		e.port = (int)port;
		psql_num(servers, i, c_w, 0, 1LL << 30, &weight);
		psql_num(servers, i, c_mc, 0, 1LL << 30, &maxconn);
		fill_backend(&v->be[v->n++], cfg, (int)hg, &e, status, weight, maxconn,
			     pool_sessions(pool, (int)hg, &e));
	}
	return rc;
}

bool psql_auto_failover(const struct rowset *repl, int writer_hg)
{
	int c = rowset_col(repl, "writer_hostgroup");
	long long w;
	size_t i;

	for (i = 0; repl && c >= 0 && i < repl->nrows; i++)
		if (psql_num(repl, i, c, 0, 1LL << 31, &w) && w == writer_hg)
			return true;
	return false;
}

char *psql_admin_user_sql(const char *user)
{
	char *lit = psql_literal(user ? user : ""), *sql;

	sql = xasprintf("SELECT (SELECT COUNT(*) FROM mysql_users WHERE username=%s) AS config, "
			"(SELECT COUNT(*) FROM runtime_mysql_users WHERE username=%s) AS runtime", lit, lit);
	free(lit);
	return sql;
}

/* One row of runtime_mysql_servers or mysql_servers, as the comparison needs it. */
struct cmp_row {
	long long hg, port, weight, maxconn;
	const char *host, *status;
};

static bool cmp_row_at(const struct rowset *rs, size_t i, const int *c, struct cmp_row *r)
{
	r->host = rowset_at(rs, i, (size_t)c[1]);
	r->status = rowset_at(rs, i, (size_t)c[3]);
	return psql_num(rs, i, c[0], 0, 1LL << 31, &r->hg) && psql_num(rs, i, c[2], 0, 65535, &r->port) &&
	       psql_num(rs, i, c[4], 0, 1LL << 40, &r->weight) && psql_num(rs, i, c[5], 0, 1LL << 40, &r->maxconn) &&
	       r->host && r->status;
}

static bool ours(const struct cfg_router *cfg, long long hg)
{
	return hg == cfg->writer_hostgroup || (cfg->reader_hostgroup >= 0 && hg == cfg->reader_hostgroup);
}

/* The row of rs with r's key, or false. */
static bool cmp_find(const struct rowset *rs, const int *c, const struct cmp_row *r, struct cmp_row *out)
{
	size_t i;

	for (i = 0; i < rs->nrows; i++)
		if (cmp_row_at(rs, i, c, out) && out->hg == r->hg && out->port == r->port &&
		    !strcmp(out->host, r->host))
			return true;
	return false;
}

/* Runtime shows health on top of the configured status: SHUNNED is an ONLINE row whose checks
 * fail, and a row on its way out is OFFLINE_HARD. */
static const char *status_class(const char *s)
{
	if (!s || psql_status_is(s, "OFFLINE_HARD"))
		return "gone";
	if (psql_status_is(s, "ONLINE") || !strncasecmp(s, "SHUNNED", 7))
		return "online";
	return s;
}

static void diff_add(char *buf, size_t len, int *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void diff_add(char *buf, size_t len, int *n, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if ((*n)++ >= 2 || used + 3 >= len)
		return;
	if (used) {
		strlcpy_(buf + used, "; ", len - used);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Compare mysql_servers with runtime_mysql_servers for our hostgroups.  With the monitor on,
 * which server is in which hostgroup is its business: ProxySQL 2.4 copies its moves into
 * mysql_servers, 2.7 leaves them at runtime only, so only the rows in both are compared. */
static void config_diff(const struct rowset *runtime, const struct rowset *config, const struct cfg_router *cfg,
			bool monitor, char *out, size_t len)
{
	static const char *const cols[] = { "hostgroup_id", "hostname", "port", "status", "weight", "max_connections" };
	int cr[6], cc[6], n = 0;
	char diffs[300] = "", why[128];
	struct cmp_row a, b;
	size_t i;

	out[0] = '\0';
	if (psql_need_cols(runtime, "runtime_mysql_servers", cols, cr, 6, why, sizeof(why)) < 0 ||
	    psql_need_cols(config, "mysql_servers", cols, cc, 6, why, sizeof(why)) < 0)
		return;
	for (i = 0; i < config->nrows; i++) {
		if (!cmp_row_at(config, i, cc, &a) || !ours(cfg, a.hg))
			continue;
		if (!cmp_find(runtime, cr, &a, &b)) {
			if (!monitor && strcmp(status_class(a.status), "gone"))
				diff_add(diffs, sizeof(diffs), &n, "hostgroup %lld %s:%lld is in mysql_servers, not at "
					 "runtime", a.hg, a.host, a.port);
			continue;
		}
		if (monitor && !strcmp(status_class(b.status), "gone"))
			continue;   /* on its way out of the hostgroup: a move */
		if (strcasecmp(status_class(a.status), status_class(b.status)))
			diff_add(diffs, sizeof(diffs), &n, "hostgroup %lld %s:%lld status %s in mysql_servers, %s at "
				 "runtime", a.hg, a.host, a.port, a.status, b.status);
		else if (a.weight != b.weight || a.maxconn != b.maxconn)
			diff_add(diffs, sizeof(diffs), &n, "hostgroup %lld %s:%lld weight %lld max_connections %lld in "
				 "mysql_servers, %lld and %lld at runtime", a.hg, a.host, a.port, a.weight, a.maxconn,
				 b.weight, b.maxconn);
	}
	for (i = 0; i < runtime->nrows; i++)
		if (!monitor && cmp_row_at(runtime, i, cr, &b) && ours(cfg, b.hg) &&
		    strcmp(status_class(b.status), "gone") && !cmp_find(config, cc, &b, &a))
			diff_add(diffs, sizeof(diffs), &n, "hostgroup %lld %s:%lld is at runtime, not in mysql_servers",
				 b.hg, b.host, b.port);
	if (n)
		snprintf(out, len, "mysql_servers differs from runtime_mysql_servers: %.300s%s", diffs,
			 n > 2 ? " (and more)" : "");
}

/* "0, 20" : the hostgroups runtime has, for a message. */
static void hostgroups_of(const struct rowset *runtime, int c_hg, char *buf, size_t len)
{
	long long hg, seen[16];
	size_t i, k, n = 0, used = 0;

	buf[0] = '\0';
	for (i = 0; i < runtime->nrows && n < 16; i++) {
		if (!psql_num(runtime, i, c_hg, 0, 1LL << 31, &hg))
			continue;
		for (k = 0; k < n && seen[k] != hg; k++)
			;
		if (k < n)
			continue;
		seen[n++] = hg;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%lld", used ? ", " : "", hg);
	}
	if (!n)
		strlcpy_(buf, "none", len);
}

void psql_view_checks(const struct rowset *runtime, const struct rowset *config, const struct rowset *users,
		      const struct cfg_router *cfg, struct router_view *v)
{
	int c_hg = rowset_col(runtime, "hostgroup_id");
	long long hg, in_config = 0, in_runtime = 0;
	size_t i;
	bool writer = false;

	v->pending[0] = v->admin_clash[0] = v->caution[0] = '\0';
	if (runtime && config)
		config_diff(runtime, config, cfg, v->auto_failover_hostgroups, v->pending, sizeof(v->pending));
	for (i = 0; runtime && c_hg >= 0 && i < runtime->nrows && !writer; i++)
		writer = psql_num(runtime, i, c_hg, 0, 1LL << 31, &hg) && hg == cfg->writer_hostgroup;
	if (runtime && c_hg >= 0 && !writer) {
		char list[96];

		hostgroups_of(runtime, c_hg, list, sizeof(list));
		snprintf(v->caution, sizeof(v->caution), "writer_hostgroup %d has no server in "
			 "runtime_mysql_servers (hostgroups there: %s)", cfg->writer_hostgroup, list);
	}
	if (users && users->nrows > 0) {
		psql_num(users, 0, rowset_col(users, "config"), 0, 1LL << 40, &in_config);
		psql_num(users, 0, rowset_col(users, "runtime"), 0, 1LL << 40, &in_runtime);
	}
	if (in_config || in_runtime)
		snprintf(v->admin_clash, sizeof(v->admin_clash), "ProxySQL admin user '%.40s' is also a mysql_users "
			 "name (%s): ProxySQL refuses an admin login with that name, so cutoverd's next "
			 "connection would fail; give cutoverd an admin user of its own in "
			 "admin-admin_credentials", cfg->user ? cfg->user : "",
			 in_runtime ? "loaded to runtime" : "in mysql_users, not loaded yet");
}

char *psql_in_flight_sql(const struct psql_endpoint *e)
{
	char *host = psql_literal(e->host), *sql;

	sql = xasprintf("SELECT COUNT(*) AS n FROM stats_mysql_processlist WHERE srv_host=%s AND srv_port=%d "
			"AND command <> 'Sleep'", host, e->port);
	free(host);
	return sql;
}

static bool same_server(const struct rowset *rs, size_t i, int c_hg, int c_host, int c_port,
			const struct router_backend *b)
{
	long long h, p;
	const char *host = rowset_at(rs, i, (size_t)c_host);
	return psql_num(rs, i, c_hg, 0, 1LL << 31, &h) && h == b->hostgroup && host && !strcmp(host, b->host) &&
	       psql_num(rs, i, c_port, 0, 65535, &p) && p == b->port;
}

void psql_parse_counters(const struct rowset *pool, const struct rowset *errors, const struct rowset *latency,
			 struct router_view *v)
{
	size_t k, i;
	int pc_hg = rowset_col(pool, "hostgroup"), pc_host = rowset_col(pool, "srv_host");
	int pc_port = rowset_col(pool, "srv_port"), pc_q = rowset_col(pool, "Queries"), pc_e = rowset_col(pool, "ConnERR");
	int ec_hg = errors ? rowset_col(errors, "hostgroup") : -1, ec_host = errors ? rowset_col(errors, "hostname") : -1;
	int ec_port = errors ? rowset_col(errors, "port") : -1, ec_n = errors ? rowset_col(errors, "errors") : -1;

	for (k = 0; k < v->n; k++) {
		struct router_backend *b = &v->be[k];
		long long n;
		b->queries = b->errors = -1;
		for (i = 0; pool && pc_q >= 0 && pc_hg >= 0 && pc_host >= 0 && pc_port >= 0 && i < pool->nrows; i++)
			if (same_server(pool, i, pc_hg, pc_host, pc_port, b)) {
				if (psql_num(pool, i, pc_q, 0, 1LL << 62, &n))
					b->queries = n;
				if (pc_e >= 0 && psql_num(pool, i, pc_e, 0, 1LL << 62, &n))
					b->errors = n;
			}
		if (ec_n < 0 || ec_hg < 0 || ec_host < 0 || ec_port < 0)
			continue;
		if (b->errors < 0)
			b->errors = 0;
		for (i = 0; i < errors->nrows; i++)
			if (same_server(errors, i, ec_hg, ec_host, ec_port, b) && psql_num(errors, i, ec_n, 0, 1LL << 62, &n))
				b->errors += n;
	}
	v->lat_known = latency && latency->nrows == 1 && latency->ncols == ROUTER_LAT_BUCKETS;
	for (k = 0; k < ROUTER_LAT_BUCKETS; k++) {
		long long n = 0;
		if (v->lat_known && !psql_num(latency, 0, (int)k, 0, 1LL << 62, &n))
			n = 0;   /* SUM over no rows is NULL */
		v->lat_hist[k] = n;
	}
}
