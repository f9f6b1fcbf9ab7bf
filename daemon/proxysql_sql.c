/* ProxySQL admin statements and the parsing of their answers.  See proxysql_sql.h.
 *
 * Choices worth knowing:
 * - promote DELETEs the old primary's row from the writer hostgroup instead of setting it
 *   OFFLINE_HARD.  At runtime the two are the same (ProxySQL marks servers removed from the
 *   configuration OFFLINE_HARD), but an OFFLINE_HARD row would be saved to disk by finalize
 *   and come back to life with the next bulk "UPDATE mysql_servers SET status='ONLINE'".
 *   When mysql_replication_hostgroups covers the writer hostgroup, ProxySQL's monitor moves
 *   servers between the writer and reader hostgroups by read_only, whatever we write: what
 *   keeps the old primary out of the writer hostgroup then is the fence's read_only=1 (the
 *   monitor moves it to the reader hostgroup), and the read-back after LOAD catches a monitor
 *   that disagrees (a writable old primary).  Our explicit change agrees with the monitor by
 *   the time promote runs (new primary writable, old read-only), so doing it anyway costs
 *   nothing and makes the switch immediate instead of one monitor interval later.
 * - finalize keeps the layout it found.  When the old primary was not a reader (readers = the
 *   replicas), it adds the old primary to the reader hostgroup (ONLINE) and removes the new
 *   primary from it, but only while another ONLINE reader remains besides the old primary
 *   (whose health we cannot vouch for right after a switch): reads stay available.  When the
 *   old primary was a reader too (readers = every server), both stay.  With the monitor in
 *   charge it leaves the reader hostgroup alone.
 * - promote keeps a writer hostgroup that holds the replicas OFFLINE_SOFT that way: the old
 *   primary becomes OFFLINE_SOFT there instead of being removed.
 * - The snapshot is of mysql_servers (what LOAD reads), not runtime: a rollback writes the
 *   configuration back and loads it. */
#include "proxysql_sql.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SNAP_COLS "hostgroup_id, hostname, port, gtid_port, status, weight, compression, " \
		  "max_connections, max_replication_lag, use_ssl, max_latency_ms, comment"

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void list_hostgroup(const struct psql_snapshot *s, int hg, char *buf, size_t len);

static void errf(char *err, size_t errlen, const char *fmt, ...)
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
		errf(err, errlen, "%s: no result", table);
		return -1;
	}
	for (i = 0; i < n; i++) {
		idx[i] = rowset_col(rs, names[i]);
		if (idx[i] < 0) {
			errf(err, errlen, "%s: no column '%s'", table, names[i]);
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
			errf(err, errlen, "mysql_servers row %zu: hostgroup_id, port or gtid_port is not a number",
			     i + 1);
			goto fail;
		}
		if (!host || !*host || strlen(host) >= sizeof(r->ep.host) || !status ||
		    strlen(status) >= sizeof(r->status)) {
			errf(err, errlen, "mysql_servers row %zu: hostname or status unreadable", i + 1);
			goto fail;
		}
		for (k = 5; k <= 10; k++) {
			if (!psql_num(rs, i, c[k], 0, 1LL << 40, nums[k])) {
				const char *val = rowset_at(rs, i, (size_t)c[k]);
				errf(err, errlen, "mysql_servers row %zu (%s:%lld): %s '%s' is not a number",
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

/* "a:1 ONLINE, b:2 OFFLINE_SOFT" for messages about what a hostgroup holds. */
static void list_hostgroup(const struct psql_snapshot *s, int hg, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < s->n && used + 1 < len; i++) {
		if (s->v[i].hostgroup != hg)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s:%d %s", used ? ", " : "",
					 s->v[i].ep.host, s->v[i].ep.port, s->v[i].status);
	}
	if (!buf[0])
		strlcpy_(buf, "empty", len);
}

/* A tenant hostgroup (tenant_hostgroups, tenant.h) holding `e`: such hostgroups follow the
 * primary through a switchover like the writer hostgroup — a tenant that a move left on the
 * source (rolled back, or prepared and not moved) writes to the primary through its own. */
static bool tenant_row_of(const struct cfg_router *cfg, const struct psql_server *s, const struct psql_endpoint *e)
{
	return cfg->tenant_hg_lo >= 0 && s->hostgroup >= cfg->tenant_hg_lo && s->hostgroup <= cfg->tenant_hg_hi &&
	       s->ep.port == e->port && !strcmp(s->ep.host, e->host);
}

/* hostgroup hg's rows DELETEd and the snapshot's rows of hg INSERTed back, with what runtime
 * must show after; no LOAD. */
static size_t restore_rows(struct psql_plan *plan, const struct psql_snapshot *snap, int hg)
{
	size_t i, rows = 0;

	psql_plan_add(plan, xasprintf("DELETE FROM mysql_servers WHERE hostgroup_id=%d", hg));
	for (i = 0; i < snap->n; i++) {
		const struct psql_server *s = &snap->v[i];
		const char *want = s->status;

		if (s->hostgroup != hg)
			continue;
		psql_plan_add(plan, psql_insert_sql(s, false));
		/* Runtime shows health on top of our status: a SHUNNED row comes back ONLINE once
		 * its checks pass, an OFFLINE_HARD one is as good as absent. */
		if (psql_status_is(want, "ONLINE") || !strncasecmp(want, "SHUNNED", 7))
			want = "ONLINE";
		else if (psql_status_is(want, "OFFLINE_HARD"))
			want = "ABSENT";
		psql_plan_expect(plan, hg, &s->ep, want);
		rows++;
	}
	return rows;
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

int psql_plan_drain(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		    const struct psql_endpoint *old, bool monitor, struct psql_plan *plan, char *err, size_t errlen)
{
	int w = cfg->writer_hostgroup;
	const struct psql_server *row = psql_snapshot_find(snap, w, old);
	char have[256], *where;

	size_t i, tenants = 0;

	memset(plan, 0, sizeof(*plan));
	if (!row && !monitor) {
		list_hostgroup(snap, w, have, sizeof(have));
		errf(err, errlen, "old primary %s:%d is not in writer hostgroup %d of mysql_servers (%s)",
		     old->host, old->port, w, have);
		return -1;
	}
	if (row) {
		where = psql_row_where(w, old);
		psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE %s", where));
		free(where);
		/* With the monitor on, it may take the read-only old primary out at any moment: as good. */
		psql_plan_expect(plan, w, old, monitor ? "DRAINED" : "OFFLINE_SOFT");
		psql_plan_note(plan, "%s:%d OFFLINE_SOFT in hostgroup %d (was %s)", old->host, old->port, w, row->status);
	} else {
		/* The drain runs at the fence: the monitor saw read_only=1 before we got here. */
		psql_plan_note(plan, "%s:%d already out of hostgroup %d (ProxySQL's monitor saw it read-only)",
			       old->host, old->port, w);
	}
	for (i = 0; i < snap->n; i++) {
		if (!tenant_row_of(cfg, &snap->v[i], old) || !psql_status_is(snap->v[i].status, "ONLINE"))
			continue;
		where = psql_row_where(snap->v[i].hostgroup, old);
		psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE %s", where));
		free(where);
		psql_plan_expect(plan, snap->v[i].hostgroup, old, "OFFLINE_SOFT");
		tenants++;
	}
	if (tenants)
		psql_plan_note(plan, "and in %zu tenant hostgroup%s", tenants, tenants == 1 ? "" : "s");
	if (plan->n)
		psql_plan_load_and_read(plan);
	return 0;
}

/* Does the writer hostgroup keep replicas in it as OFFLINE_SOFT (servers other than these two)?
 * Then the old primary stays there the same way. */
static bool keeps_soft_replicas(const struct psql_snapshot *snap, int w, const struct psql_endpoint *old,
				const struct psql_endpoint *new_)
{
	size_t i;

	for (i = 0; i < snap->n; i++) {
		const struct psql_server *s = &snap->v[i];

		if (s->hostgroup != w || psql_status_is(s->status, "ONLINE") ||
		    (s->ep.port == old->port && !strcmp(s->ep.host, old->host)) ||
		    (s->ep.port == new_->port && !strcmp(s->ep.host, new_->host)))
			continue;
		if (psql_status_is(s->status, "OFFLINE_SOFT"))
			return true;
	}
	return false;
}

int psql_plan_promote(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		      const struct psql_endpoint *old, const struct psql_endpoint *new_, bool monitor,
		      struct psql_plan *plan, char *err, size_t errlen)
{
	int w = cfg->writer_hostgroup;
	const struct psql_server *o = psql_snapshot_find(snap, w, old), *own = NULL;
	bool soft = !monitor && keeps_soft_replicas(snap, w, old, new_);
	struct psql_server row;
	size_t i;

	memset(plan, 0, sizeof(*plan));
	if (!strcmp(old->host, new_->host) && old->port == new_->port) {
		errf(err, errlen, "old and new primary are the same backend %s:%d", old->host, old->port);
		return -1;
	}
	/* The new primary's own row, for what belongs to the server rather than the role. */
	if (cfg->reader_hostgroup >= 0)
		own = psql_snapshot_find(snap, cfg->reader_hostgroup, new_);
	for (i = 0; !own && i < snap->n; i++)
		if (snap->v[i].ep.port == new_->port && !strcmp(snap->v[i].ep.host, new_->host))
			own = &snap->v[i];

	memset(&row, 0, sizeof(row));
	row.hostgroup = w;
	row.ep = *new_;
	strlcpy_(row.status, "ONLINE", sizeof(row.status));
	row.weight = o ? o->weight : 1;
	row.compression = o ? o->compression : 0;
	row.max_connections = o ? o->max_connections : 1000;
	row.max_replication_lag = o ? o->max_replication_lag : 0;
	row.use_ssl = o ? o->use_ssl : 0;
	row.max_latency_ms = o ? o->max_latency_ms : 0;
	row.gtid_port = own ? own->gtid_port : 0;
	row.comment = own ? own->comment : o ? o->comment : NULL;

	if (o) {
		char *where = psql_row_where(w, old);
		if (soft)
			psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE %s", where));
		else
			psql_plan_add(plan, xasprintf("DELETE FROM mysql_servers WHERE %s", where));
		free(where);
	} else {
		psql_plan_note(plan, "old primary %s:%d was not in hostgroup %d", old->host, old->port, w);
	}
	psql_plan_add(plan, psql_insert_sql(&row, true));
	{
		size_t tenants = 0;
		for (i = 0; i < snap->n; i++) {
			struct psql_server t;
			if (!tenant_row_of(cfg, &snap->v[i], old))
				continue;
			t = snap->v[i];
			t.ep = *new_;
			t.gtid_port = own ? own->gtid_port : 0;
			strlcpy_(t.status, "ONLINE", sizeof(t.status));
			psql_plan_add(plan, xasprintf("DELETE FROM mysql_servers WHERE hostgroup_id=%d", t.hostgroup));
			psql_plan_add(plan, psql_insert_sql(&t, false));
			psql_plan_expect(plan, t.hostgroup, new_, "ONLINE");
			psql_plan_expect(plan, t.hostgroup, old, "ABSENT");
			tenants++;
		}
		if (tenants)
			psql_plan_note(plan, "%zu tenant hostgroup%s to %s:%d", tenants, tenants == 1 ? "" : "s", new_->host,
				       new_->port);
	}
	psql_plan_load_and_read(plan);
	psql_plan_expect(plan, w, new_, "ONLINE");
	psql_plan_expect(plan, w, old, soft && o ? "OFFLINE_SOFT" : "ABSENT");
	psql_plan_note(plan, "hostgroup %d: %s:%d ONLINE, %s:%d %s", w, new_->host, new_->port, old->host, old->port,
		  soft && o ? "OFFLINE_SOFT like the other replicas there" : "removed");
	return 0;
}

int psql_plan_restore(const struct psql_snapshot *snap, int hg, const struct psql_endpoint *extra,
		      struct psql_plan *plan)
{
	size_t rows;

	memset(plan, 0, sizeof(*plan));
	rows = restore_rows(plan, snap, hg);
	if (extra && !psql_snapshot_find(snap, hg, extra))
		psql_plan_expect(plan, hg, extra, "ABSENT");
	psql_plan_load_and_read(plan);
	psql_plan_note(plan, "hostgroup %d restored (%zu rows)", hg, rows);
	return 0;
}

int psql_plan_rollback(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		       const struct psql_endpoint *old, const struct psql_endpoint *new_, struct psql_plan *plan, char *err,
		       size_t errlen)
{
	int w = cfg->writer_hostgroup;
	size_t i, rows, tenants = 0;

	(void)err;
	(void)errlen;
	memset(plan, 0, sizeof(*plan));
	rows = restore_rows(plan, snap, w);
	if (new_ && !psql_snapshot_find(snap, w, new_))
		psql_plan_expect(plan, w, new_, "ABSENT");
	for (i = 0; old && i < snap->n; i++) {
		if (!tenant_row_of(cfg, &snap->v[i], old))
			continue;
		restore_rows(plan, snap, snap->v[i].hostgroup);
		tenants++;
	}
	psql_plan_load_and_read(plan);
	psql_plan_note(plan, "hostgroup %d restored (%zu rows)", w, rows);
	if (tenants)
		psql_plan_note(plan, "and %zu tenant hostgroup%s", tenants, tenants == 1 ? "" : "s");
	return 0;
}

/* The reader hostgroup's weights for a share of its traffic on `target` (see the header). */
/* The reader hostgroup r's ONLINE rows but `mine`: weights multiplied by k, or (k == 0)
 * OFFLINE_SOFT, expected so. */
static void others_update(struct psql_plan *plan, const struct psql_snapshot *snap, int r,
			  const struct psql_server *mine, long long k)
{
	size_t i;

	for (i = 0; i < snap->n; i++) {
		const struct psql_server *s = &snap->v[i];
		char *where;
		if (s->hostgroup != r || s == mine || !psql_status_is(s->status, "ONLINE"))
			continue;
		where = psql_row_where(r, &s->ep);
		if (k)
			psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET weight=%lld WHERE %s", s->weight * k, where));
		else
			psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='OFFLINE_SOFT' WHERE %s", where));
		if (!k)
			psql_plan_expect(plan, r, &s->ep, "OFFLINE_SOFT");
		free(where);
	}
}

int psql_plan_weight(const struct cfg_router *cfg, const struct psql_endpoint *target, long long weight,
		     struct psql_plan *plan)
{
	char *where = psql_row_where(cfg->reader_hostgroup, target);

	memset(plan, 0, sizeof(*plan));
	psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET weight=%lld WHERE %s", weight, where));
	psql_plan_expect(plan, cfg->reader_hostgroup, target, "ONLINE");
	psql_plan_load_and_read(plan);
	psql_plan_note(plan, "%s:%d weight %lld", target->host, target->port, weight);
	free(where);
	return 0;
}

int psql_plan_shift(const struct cfg_router *cfg, const struct psql_snapshot *snap, const struct psql_endpoint *target,
		    int percent, double odds, long long *weight, struct psql_plan *plan, char *err, size_t errlen)
{
	int r = cfg->reader_hostgroup;
	const struct psql_server *mine = NULL, *model = NULL;
	struct psql_server row;
	long long others = 0, w;
	size_t i, n_others = 0;

	memset(plan, 0, sizeof(*plan));
	if (r < 0) {
		errf(err, errlen, "router %s has no reader_hostgroup: there are no reads to shift", cfg->name);
		return -1;
	}
	if (percent < 1 || percent > 100) {
		errf(err, errlen, "a step of %d%%: steps are 1 to 100", percent);
		return -1;
	}
	for (i = 0; i < snap->n; i++) {
		const struct psql_server *s = &snap->v[i];
		if (s->hostgroup != r)
			continue;
		if (!strcmp(s->ep.host, target->host) && s->ep.port == target->port) {
			mine = s;
			continue;
		}
		if (!psql_status_is(s->status, "ONLINE"))
			continue;
		others += s->weight;
		n_others++;
		if (!model)
			model = s;
	}
	if (!n_others || others <= 0) {
		errf(err, errlen, "reader hostgroup %d has no other ONLINE server with a weight: nothing to shift from", r);
		return -1;
	}
	/* the target's row: its own when it has one, else the first other reader's settings */
	row = mine ? *mine : *model;
	row.hostgroup = r;
	row.ep = *target;
	row.comment = mine ? mine->comment : NULL;
	snprintf(row.status, sizeof(row.status), "ONLINE");
	if (percent == 100) {
		row.weight = mine && mine->weight > 0 ? mine->weight : model->weight;
		others_update(plan, snap, r, mine, 0);
		psql_plan_note(plan, "every read to %s:%d: the %zu other reader(s) OFFLINE_SOFT", target->host, target->port,
			  n_others);
	} else {
		/* share = w / (others + w), as ProxySQL's weights ask for it.  Small weights (1 each,
		 * say) leave no room for 5 %: the other readers' weights are multiplied alike (their
		 * shares among themselves unchanged) up to 10,000 in all. */
		long long k = others < PSQL_SHIFT_BASE ? (PSQL_SHIFT_BASE + others - 1) / others : 1;
		if (k > 1) {
			others_update(plan, snap, r, mine, k);
			others *= k;
		}
		w = (others * percent + (100 - percent) / 2) / (100 - percent);
		if (odds > 0 && odds != 1.0)
			w = (long long)((double)w * odds + 0.5);
		if (w < 1)
			w = 1;
		if (w > PSQL_MAX_WEIGHT) {
			errf(err, errlen, "%d%% of reader hostgroup %d needs weight %lld on %s:%d, above ProxySQL's %d: lower "
			     "the other readers' weights", percent, r, w, target->host, target->port, PSQL_MAX_WEIGHT);
			return -1;
		}
		row.weight = w;
		psql_plan_note(plan, "%s:%d weight %lld against %lld on %zu other reader(s)%s", target->host, target->port, w,
			  others, n_others, odds > 0 && odds != 1.0 ? " (corrected from what ProxySQL served)" : "");
	}
	psql_plan_add(plan, psql_insert_sql(&row, true));
	psql_plan_expect(plan, r, target, "ONLINE");
	psql_plan_load_and_read(plan);
	if (weight)
		*weight = row.weight;
	return 0;
}

int psql_plan_undrain(const struct cfg_router *cfg, const struct psql_snapshot *snap,
		      const struct psql_endpoint *old, struct psql_plan *plan, char *err, size_t errlen)
{
	int w = cfg->writer_hostgroup;
	const struct psql_server *row = psql_snapshot_find(snap, w, old);
	char *where;

	size_t i;

	memset(plan, 0, sizeof(*plan));
	if (row && psql_status_is(row->status, "OFFLINE_SOFT")) {
		where = psql_row_where(w, old);
		psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='ONLINE' WHERE %s", where));
		free(where);
		psql_plan_expect(plan, w, old, "ONLINE");
		psql_plan_note(plan, "%s:%d back ONLINE in hostgroup %d (no snapshot from the drain)", old->host,
			       old->port, w);
	}
	for (i = 0; i < snap->n; i++) {
		if (!tenant_row_of(cfg, &snap->v[i], old) || !psql_status_is(snap->v[i].status, "OFFLINE_SOFT"))
			continue;
		where = psql_row_where(snap->v[i].hostgroup, old);
		psql_plan_add(plan, xasprintf("UPDATE mysql_servers SET status='ONLINE' WHERE %s", where));
		free(where);
		psql_plan_expect(plan, snap->v[i].hostgroup, old, "ONLINE");
		psql_plan_note(plan, "back ONLINE in tenant hostgroup %d", snap->v[i].hostgroup);
	}
	if (!plan->n) {
		psql_plan_note(plan, "nothing to roll back (%s:%d is %s in hostgroup %d)", old->host, old->port,
			       row ? row->status : "not", w);
		return 0;
	}
	psql_plan_load_and_read(plan);
	return 0;
}

int psql_plan_finalize(const struct cfg_router *cfg, const struct psql_snapshot *before,
		       const struct psql_snapshot *now, const struct psql_endpoint *old,
		       const struct psql_endpoint *new_, bool auto_failover,
		       struct psql_plan *plan, char *err, size_t errlen)
{
	int r = cfg->reader_hostgroup;
	const struct psql_server *old_r, *new_r;
	size_t i, others = 0;
	bool changed = false;

	memset(plan, 0, sizeof(*plan));
	if (auto_failover || r < 0) {
		psql_plan_add(plan, xstrdup(PSQL_SQL_SAVE));
		psql_plan_note(plan, auto_failover ? "reader hostgroup left to ProxySQL's monitor"
					      : "no reader hostgroup");
		return 0;
	}
	old_r = psql_snapshot_find(now, r, old);
	new_r = psql_snapshot_find(now, r, new_);
	for (i = 0; i < now->n; i++) {
		const struct psql_server *s = &now->v[i];
		if (s->hostgroup == r && s != old_r && s != new_r && psql_status_is(s->status, "ONLINE"))
			others++;
	}
	if (!old_r) {
		/* Reader settings from the server that leaves the readers, else the old writer row. */
		const struct psql_server *tmpl = new_r ? new_r : psql_snapshot_find(before, cfg->writer_hostgroup, old);
		struct psql_server row;

		memset(&row, 0, sizeof(row));
		row.hostgroup = r;
		row.ep = *old;
		strlcpy_(row.status, "ONLINE", sizeof(row.status));
		row.weight = tmpl ? tmpl->weight : 1;
		row.compression = tmpl ? tmpl->compression : 0;
		row.max_connections = tmpl ? tmpl->max_connections : 1000;
		row.max_replication_lag = tmpl ? tmpl->max_replication_lag : 0;
		row.use_ssl = tmpl ? tmpl->use_ssl : 0;
		row.max_latency_ms = tmpl ? tmpl->max_latency_ms : 0;
		if (tmpl && tmpl->ep.port == old->port && !strcmp(tmpl->ep.host, old->host)) {
			row.gtid_port = tmpl->gtid_port;
			row.comment = tmpl->comment;
		}
		psql_plan_add(plan, psql_insert_sql(&row, false));
		psql_plan_expect(plan, r, old, "ONLINE");
		psql_plan_note(plan, "%s:%d added to reader hostgroup %d", old->host, old->port, r);
		changed = true;
	}
	/* Layout "every server reads, the primary too": the old primary was a reader before the
	 * switch, so the new one stays one. */
	if (new_r && others > 0 && !psql_snapshot_find(before, r, old)) {
		char *where = psql_row_where(r, new_);
		psql_plan_add(plan, xasprintf("DELETE FROM mysql_servers WHERE %s", where));
		free(where);
		psql_plan_expect(plan, r, new_, "ABSENT");
		psql_plan_note(plan, "%s:%d removed from reader hostgroup %d", new_->host, new_->port, r);
		changed = true;
	} else if (new_r) {
		psql_plan_note(plan, "%s:%d kept in reader hostgroup %d (%s)", new_->host, new_->port, r,
			  others > 0 ? "the primary reads too, as before" : "no other ONLINE reader");
	}
	if (changed)
		psql_plan_add(plan, xstrdup(PSQL_SQL_LOAD));
	psql_plan_add(plan, xstrdup(PSQL_SQL_SAVE));
	if (changed)
		psql_plan_add(plan, xstrdup(PSQL_SQL_RUNTIME_SERVERS));
	return 0;
}
