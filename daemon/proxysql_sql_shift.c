/* The plans of a read shift through ProxySQL: a share of the reader hostgroup's reads moved
 * to one server by weights, and a weight alone.  See proxysql_sql.h and shift.h. */
#include "proxysql_sql.h"
#include "proxysql_sql_impl.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void others_update(struct psql_plan *plan, const struct psql_snapshot *snap, int r,
			  const struct psql_server *mine, long long k);

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
		psql_errf(err, errlen, "router %s has no reader_hostgroup: there are no reads to shift", cfg->name);
		return -1;
	}
	if (percent < 1 || percent > 100) {
		psql_errf(err, errlen, "a step of %d%%: steps are 1 to 100", percent);
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
		psql_errf(err, errlen, "reader hostgroup %d has no other ONLINE server with a weight: nothing to shift from", r);
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
			psql_errf(err, errlen, "%d%% of reader hostgroup %d needs weight %lld on %s:%d, above ProxySQL's %d: lower "
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
