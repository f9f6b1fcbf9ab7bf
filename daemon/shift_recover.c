/* A read shift after a restart: an unfinished one in the journal is rolled back to 0 % from its
 * snapshot (see shift.h). */
#include "shift_impl.h"
#include "switchover.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* after a restart */

static int snapshot_from_json(const json_t *j, struct psql_snapshot *snap, char *err, size_t errlen)
{
	const json_t *cols = json_object_get(j, "cols"), *rows = json_object_get(j, "rows"), *row, *v;
	const char **names, **vals;
	struct rowset *rs;
	size_t i, k, nc = json_array_size(cols);
	int rc;

	if (!nc) {
		snprintf(err, errlen, "no snapshot of mysql_servers in the journal");
		return -1;
	}
	names = xcalloc(nc, sizeof(*names));
	vals = xcalloc(nc, sizeof(*vals));
	json_array_foreach(cols, k, v)
		names[k] = json_string_value(v) ?: "";
	rs = rowset_new(nc, names);
	json_array_foreach(rows, i, row) {
		for (k = 0; k < nc; k++)
			vals[k] = json_string_value(json_array_get(row, k));
		rowset_add_row(rs, vals);
	}
	rc = psql_parse_snapshot(rs, snap, err, errlen);
	rowset_free(rs);
	free(names);
	free(vals);
	return rc;
}

void shift_recover(struct daemon *d, struct cluster *c, const json_t *by)
{
	size_t k;

	{
		json_t *x, *last = NULL;

		json_array_foreach(by, k, x) {
			json_t *entries = json_object_get(x, "entries");
			const char *kind = json_string_value(json_object_get(json_array_get(entries, 0), "kind"));
			if (kind && !strcmp(kind, "read_shift"))
				last = x;
		}
		if (last) {
			json_t *entries = json_object_get(last, "entries"), *e, *first = json_array_get(entries, 0);
			const char *ev = json_string_value(json_object_get(json_array_get(entries, json_array_size(entries) - 1), "event"));
			const json_t *rows = NULL;
			if (ev && !journal_event_finished(ev)) {
				char err[300];
				struct shift *sh = shift_new(d, c, json_string_value(json_object_get(first, "new")) ?: "?",
							     json_string_value(json_object_get(first, "router")) ?: "?", err,
							     sizeof(err));
				json_array_foreach(entries, k, e)
					if (json_object_get(e, "mysql_servers"))
						rows = json_object_get(e, "mysql_servers");
				if (sh) {
					snprintf(sh->id, sizeof(sh->id), "%s", json_string_value(json_object_get(last, "id")) ?: "?");
					c->shift = sh;
					{
						const struct router *r = sh_the_router(sh);
						const char *pname = r ? psql_name_of(r->cfg, sh->target) : NULL;
						const struct server *t = daemon_server(d, sh->target);
						if (psql_parse_endpoint(pname ? pname : "", 0, &sh->ep) < 0 && t) {
							snprintf(sh->ep.host, sizeof(sh->ep.host), "%s", t->cfg->host ?: "127.0.0.1");
							sh->ep.port = t->cfg->port;
						}
						if (r) {
							sh->db = psql_admin_db(d->base, r->cfg, "read shift", d->cfg->connect_timeout_ms);
							db_set_acts(sh->db);
						}
					}
					if (rows && snapshot_from_json(rows, &sh->snap, err, sizeof(err)) == 0) {
						sh->snap_rows = json_deep_copy(rows);
						sh_rollback(sh, "%s during the shift", recovery_cause(d));
					} else if (rows) {
						free(sh->reason);
						sh->reason = xasprintf("%s during the shift and cannot read its "
								       "snapshot of mysql_servers (%s): check router %s's reader "
								       "hostgroup by hand", recovery_cause(sh->d), err, sh->router);
						sh_finish(sh, SH_FAILED);
					} else {
						sh_rollback(sh, "%s during the shift, before it changed anything",
							    recovery_cause(d));
					}
				}
			}
		}
	}
}

/* With [ha], when this member stops leading: nothing is undone here; the leader rolls the
 * shift back from its snapshot, as after a restart. */
void shift_handover(struct daemon *d, struct cluster *c, const char *why)
{
	struct shift *sh = c->shift;

	(void)d;
	if (!shift_active(sh))
		return;
	sh_jrnl(sh, JE_HANDED_OVER, true, json_pack("{s:s}", "reason", why));
	sh_emit(sh, "fail", "read shift %s: this member stopped leading (%s); the leader rolls it back", sh->id, why);
	client_finish_err(&sh->cl, sh->req_id, ERR_NOT_LEADER,
			  "this member stopped leading during read shift %s (%s): the leader rolls it back from etcd's "
			  "journal",
			  sh->id, why);
	shift_free(sh);
	c->shift = NULL;
}
