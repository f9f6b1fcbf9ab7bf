/* The plans of a switchover's steps through ProxySQL: drain, promote, rollback (and a
 * hostgroup's restore), undrain and finalize.  See proxysql_sql.h.
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
#include "proxysql_sql_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void list_hostgroup(const struct psql_snapshot *s, int hg, char *buf, size_t len);
static bool tenant_row_of(const struct cfg_router *cfg, const struct psql_server *s, const struct psql_endpoint *e);
static size_t restore_rows(struct psql_plan *plan, const struct psql_snapshot *snap, int hg);
static bool keeps_soft_replicas(const struct psql_snapshot *snap, int w, const struct psql_endpoint *old,
				const struct psql_endpoint *new_);

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
		psql_errf(err, errlen, "old primary %s:%d is not in writer hostgroup %d of mysql_servers (%s)",
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
		psql_errf(err, errlen, "old and new primary are the same backend %s:%d", old->host, old->port);
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
