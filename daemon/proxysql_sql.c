/* ProxySQL admin statements and the parsing of their answers: endpoints and names, the
 * snapshot of mysql_servers, the pieces plans are built of and the check of runtime after a
 * LOAD.  The steps' plans are in proxysql_sql_switch.c and proxysql_sql_shift.c; see
 * proxysql_sql.h. */
#include "proxysql_sql.h"
#include "proxysql_sql_impl.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SNAP_COLS "hostgroup_id, hostname, port, gtid_port, status, weight, compression, " \
		  "max_connections, max_replication_lag, use_ssl, max_latency_ms, comment"

void psql_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int psql_parse_endpoint(const char *s, int default_port, struct psql_endpoint *e)
{
	const char *colon, *host = s;
	size_t n;
	long long port;

	memset(e, 0, sizeof(*e));
	if (!s || !*s)
		return -1;
	colon = strrchr(s, ':');
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] != '\0' && close[1] != ':'))
			return -1;
		host = s + 1;
		n = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		n = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (n == 0 || n >= sizeof(e->host))
		return -1;
	if (colon) {
		if (!parse_ll(colon + 1, 1, 65535, &port))
			return -1;
	} else if (default_port > 0) {
		port = default_port;
	} else {
		return -1;
	}
	memcpy(e->host, host, n);
	e->host[n] = '\0';
	e->port = (int)port;
	return 0;
}

const char *psql_name_of(const struct cfg_router *cfg, const char *server)
{
	size_t i;

	for (i = 0; server && i < cfg->n_map; i++)
		if (!strcmp(cfg->map_server[i], server))
			return cfg->map_router[i];
	return NULL;
}

const char *psql_server_of(const struct cfg_router *cfg, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->n_map; i++)
		if (!strcmp(cfg->map_router[i], name))
			return cfg->map_server[i];
	return NULL;
}

char *psql_literal(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *o;

	for (p = s; *p; p++)
		n += *p == '\'' ? 2 : 1;
	out = o = xmalloc(n + 3);
	*o++ = '\'';
	for (p = s; *p; p++) {
		if (*p == '\'')
			*o++ = '\'';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* A number in a column: the admin interface answers everything as strings. */
bool psql_num(const struct rowset *rs, size_t row, int col, long long min, long long max, long long *out)
{
	return col >= 0 && parse_ll(rowset_at(rs, row, (size_t)col), min, max, out);
}

bool psql_status_is(const char *status, const char *want)
{
	return status && !strcasecmp(status, want);
}

void psql_status_flags(const char *status, bool *admin_up, bool *healthy)
{
	*admin_up = psql_status_is(status, "ONLINE");
	*healthy = *admin_up || psql_status_is(status, "OFFLINE_SOFT") || psql_status_is(status, "OFFLINE_HARD");
}

/* Find the columns `names` of a rowset; -1 with "table: no column 'x'" if one is missing. */
int psql_need_cols(const struct rowset *rs, const char *table, const char *const *names, int *idx, size_t n,
		   char *err, size_t errlen)
{
	size_t i;

	if (!rs) {
		psql_errf(err, errlen, "%s: no result", table);
		return -1;
	}
	for (i = 0; i < n; i++) {
		idx[i] = rowset_col(rs, names[i]);
		if (idx[i] < 0) {
			psql_errf(err, errlen, "%s: no column '%s'", table, names[i]);
			return -1;
		}
	}
	return 0;
}

char *psql_snapshot_sql_router(const struct cfg_router *cfg)
{
	if (cfg->tenant_hg_lo < 0)
		return psql_snapshot_sql(cfg->writer_hostgroup, cfg->reader_hostgroup);
	return xasprintf("SELECT " SNAP_COLS " FROM mysql_servers WHERE hostgroup_id IN (%d, %d) OR hostgroup_id BETWEEN "
			 "%d AND %d ORDER BY hostgroup_id, hostname, port", cfg->writer_hostgroup, cfg->reader_hostgroup,
			 cfg->tenant_hg_lo, cfg->tenant_hg_hi);
}

char *psql_snapshot_sql(int writer_hg, int reader_hg)
{
	if (writer_hg < 0)
		return xstrdup("SELECT " SNAP_COLS " FROM mysql_servers ORDER BY hostgroup_id, hostname, port");
	if (reader_hg >= 0)
		return xasprintf("SELECT " SNAP_COLS " FROM mysql_servers WHERE hostgroup_id IN (%d, %d) "
				 "ORDER BY hostgroup_id, hostname, port", writer_hg, reader_hg);
	return xasprintf("SELECT " SNAP_COLS " FROM mysql_servers WHERE hostgroup_id = %d "
			 "ORDER BY hostgroup_id, hostname, port", writer_hg);
}

int psql_parse_snapshot(const struct rowset *rs, struct psql_snapshot *s, char *err, size_t errlen)
{
	static const char *const cols[] = {
		"hostgroup_id", "hostname", "port", "gtid_port", "status", "weight", "compression",
		"max_connections", "max_replication_lag", "use_ssl", "max_latency_ms", "comment",
	};
	int c[12];
	size_t i, k;

	s->v = NULL;
	s->n = 0;
	if (psql_need_cols(rs, "mysql_servers", cols, c, 12, err, errlen) < 0)
		return -1;
	s->v = xcalloc(rs->nrows, sizeof(*s->v));
	for (i = 0; i < rs->nrows; i++) {
		struct psql_server *r = &s->v[s->n];
		const char *host = rowset_at(rs, i, (size_t)c[1]);
		const char *status = rowset_at(rs, i, (size_t)c[4]);
		const char *comment = rowset_at(rs, i, (size_t)c[11]);
		long long *nums[] = { NULL, NULL, NULL, NULL, NULL, &r->weight, &r->compression,
				      &r->max_connections, &r->max_replication_lag, &r->use_ssl,
				      &r->max_latency_ms };
		long long hg, port, gtid_port;

		if (!psql_num(rs, i, c[0], 0, 1LL << 31, &hg) || !psql_num(rs, i, c[2], 0, 65535, &port) ||
		    !psql_num(rs, i, c[3], 0, 65535, &gtid_port)) {
			psql_errf(err, errlen, "mysql_servers row %zu: hostgroup_id, port or gtid_port is not a number",
				  i + 1);
			goto fail;
		}
		if (!host || !*host || strlen(host) >= sizeof(r->ep.host) || !status ||
		    strlen(status) >= sizeof(r->status)) {
			psql_errf(err, errlen, "mysql_servers row %zu: hostname or status unreadable", i + 1);
			goto fail;
		}
		for (k = 5; k <= 10; k++) {
			if (!psql_num(rs, i, c[k], 0, 1LL << 40, nums[k])) {
				const char *val = rowset_at(rs, i, (size_t)c[k]);
				psql_errf(err, errlen, "mysql_servers row %zu (%s:%lld): %s '%s' is not a number",
					  i + 1, host, port, cols[k], val ? val : "NULL");
				goto fail;
			}
		}
		r->hostgroup = (int)hg;
		strlcpy_(r->ep.host, host, sizeof(r->ep.host));
		r->ep.port = (int)port;
		r->gtid_port = (int)gtid_port;
		strlcpy_(r->status, status, sizeof(r->status));
		r->comment = xstrdup(comment ? comment : "");
		s->n++;
	}
	return 0;
fail:
	psql_snapshot_free(s);
	return -1;
}

void psql_snapshot_free(struct psql_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].comment);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

const struct psql_server *psql_snapshot_find(const struct psql_snapshot *s, int hostgroup,
					     const struct psql_endpoint *e)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].hostgroup == hostgroup && s->v[i].ep.port == e->port &&
		    !strcmp(s->v[i].ep.host, e->host))
			return &s->v[i];
	return NULL;
}

void psql_plan_free(struct psql_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->sql[i]);
	free(p->sql);
	free(p->exp);
	memset(p, 0, sizeof(*p));
}

void psql_plan_add(struct psql_plan *p, char *sql)
{
	p->sql = xrealloc(p->sql, (p->n + 1) * sizeof(char *));
	p->sql[p->n++] = sql;
}

void psql_plan_expect(struct psql_plan *p, int hg, const struct psql_endpoint *e, const char *want)
{
	struct psql_expect *x;

	p->exp = xrealloc(p->exp, (p->nexp + 1) * sizeof(*p->exp));
	x = &p->exp[p->nexp++];
	x->hostgroup = hg;
	x->ep = *e;
	strlcpy_(x->want, want, sizeof(x->want));
}

void psql_plan_load_and_read(struct psql_plan *p)
{
	psql_plan_add(p, xstrdup(PSQL_SQL_LOAD));
	psql_plan_add(p, xstrdup(PSQL_SQL_RUNTIME_SERVERS));
}

void psql_plan_note(struct psql_plan *p, const char *fmt, ...)
{
	size_t used = strlen(p->note);
	va_list ap;

	if (used && used + 2 < sizeof(p->note)) {
		strcat(p->note, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(p->note + used, sizeof(p->note) - used, fmt, ap);
	va_end(ap);
}

char *psql_row_where(int hg, const struct psql_endpoint *e)
{
	char *host = psql_literal(e->host);
	char *w = xasprintf("hostgroup_id=%d AND hostname=%s AND port=%d", hg, host, e->port);

	free(host);
	return w;
}

char *psql_insert_sql(const struct psql_server *s, bool or_replace)
{
	char *host = psql_literal(s->ep.host), *status = psql_literal(s->status);
	char *comment = psql_literal(s->comment ? s->comment : "");
	char *sql = xasprintf("INSERT %sINTO mysql_servers (" SNAP_COLS ") VALUES (%d, %s, %d, %d, %s, "
			      "%lld, %lld, %lld, %lld, %lld, %lld, %s)", or_replace ? "OR REPLACE " : "",
			      s->hostgroup, host, s->ep.port, s->gtid_port, status, s->weight,
			      s->compression, s->max_connections, s->max_replication_lag, s->use_ssl,
			      s->max_latency_ms, comment);

	free(host);
	free(status);
	free(comment);
	return sql;
}

int psql_check_runtime(const struct rowset *runtime, const struct psql_expect *exp, size_t n,
		       char *msg, size_t msglen)
{
	static const char *const cols[] = { "hostgroup_id", "hostname", "port", "status" };
	int c[4];
	size_t i, used = 0;

	msg[0] = '\0';
	if (psql_need_cols(runtime, "runtime_mysql_servers", cols, c, 4, msg, msglen) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct psql_expect *x = &exp[i];
		const char *have = NULL;
		bool ok;
		size_t row;

		for (row = 0; row < runtime->nrows && !have; row++) {
			long long hg, port;
			const char *host = rowset_at(runtime, row, (size_t)c[1]);

			if (psql_num(runtime, row, c[0], 0, 1LL << 31, &hg) && hg == x->hostgroup &&
			    psql_num(runtime, row, c[2], 0, 65535, &port) && port == x->ep.port &&
			    host && !strcmp(host, x->ep.host))
				have = rowset_at(runtime, row, (size_t)c[3]);
		}
		if (!strcmp(x->want, "ABSENT"))
			ok = !have || psql_status_is(have, "OFFLINE_HARD");
		else if (!strcmp(x->want, "DRAINED"))
			ok = !have || psql_status_is(have, "OFFLINE_HARD") || psql_status_is(have, "OFFLINE_SOFT");
		else if (!strcmp(x->want, "ONLINE"))
			ok = have && (psql_status_is(have, "ONLINE") || !strncasecmp(have, "SHUNNED", 7));
		else
			ok = have && psql_status_is(have, x->want);
		if (ok || used + 1 >= msglen)
			continue;
		used += (size_t)snprintf(msg + used, msglen - used, "%shostgroup %d %s:%d: wanted %s, runtime has %s",
					 used ? "; " : "", x->hostgroup, x->ep.host, x->ep.port,
					 !strcmp(x->want, "ABSENT") ? "no row"
					 : !strcmp(x->want, "DRAINED") ? "OFFLINE_SOFT or no row" : x->want,
					 have ? have : "no row");
	}
	return msg[0] ? -1 : 0;
}
