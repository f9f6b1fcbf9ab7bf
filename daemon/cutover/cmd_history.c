/* The API command history: the last cutovers, read shifts and tenant moves of a cluster from its
 * journal, each with its outcome, phases and data check. */
#include "cmd_impl.h"
#include "control.h"
#include "daemon.h"
#include "datacheck.h"
#include "engine.h"
#include "journal.h"
#include "shift.h"
#include "tenant.h"

#include <string.h>

/* history reads no more of the journal than this: about a thousand switchovers */
#define HISTORY_MAX_BYTES (2 * 1024 * 1024)

void cmd_history(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	json_t *all, *by, *out, *x, *dcheck;
	int limit = cmd_arg_int(req, "limit", 20);
	size_t i, start;

	if (!c)
		return;
	{
		static const char *const limit_arg[] = { "limit", NULL };
		if (!cmd_args_in_range(cl, req, limit_arg, 1, 100000))
			return;
	}
	/* bounded: the API answers from the loop, and the journal can be large */
	all = journal_read_recent(d->cfg->state_dir, c->cfg->name, HISTORY_MAX_BYTES);
	by = journal_by_cutover(all);
	out = json_array();
	start = json_array_size(by) > (size_t)(limit > 0 ? limit : 20) ? json_array_size(by) - (size_t)limit : 0;
	json_array_foreach(by, i, x) {
		json_t *entries = json_object_get(x, "entries"), *e, *rep = NULL;
		json_t *first = json_array_get(entries, 0);
		const char *outcome = "interrupted";
		size_t k;
		if (i < start)
			continue;
		json_array_foreach(entries, k, e) {
			const char *ev = json_string_value(json_object_get(e, "event"));
			if (json_object_get(e, "report"))
				rep = json_object_get(e, "report");
			else if (json_object_get(e, "reason") && ev && (!strcmp(ev, "rolled_back") || !strcmp(ev, "failed")))
				rep = e;   /* a recovery's entry: its reason, no phases */
			if (ev && (!strcmp(ev, "done") || !strcmp(ev, "rolled_back") || !strcmp(ev, "failed") ||
				   !strcmp(ev, "refused") || !strcmp(ev, "resolved") || !strcmp(ev, "handed_over") ||
				   !strcmp(ev, "settled_elsewhere")))
				outcome = ev;
		}
		if (c->cutover && !strcmp(c->cutover->id, json_string_value(json_object_get(x, "id"))))
			outcome = state_names[c->cutover->state];
		else if (c->shift && shift_active(c->shift) &&
			 !strcmp(shift_id(c->shift), json_string_value(json_object_get(x, "id")) ?: ""))
			outcome = "running";
		else if (c->tenants && tenant_active(c->tenants) &&
			 !strcmp(tenant_id(c->tenants), json_string_value(json_object_get(x, "id")) ?: ""))
			outcome = "running";
		{
			/* the data check of this switchover (a watchdog entry, after its end) */
			const char *sid = json_string_value(json_object_get(x, "id"));
			size_t a;
			json_t *w;
			dcheck = NULL;
			json_array_foreach(all, a, w) {
				json_t *res = json_object_get(w, "result");
				const char *ev = json_string_value(json_object_get(w, "event"));
				if (ev && !strcmp(ev, "data_check") && sid &&
				    !strcmp(json_string_value(json_object_get(res, "switchover")) ?: "", sid))
					dcheck = res;
			}
		}
		json_array_append_new(out, json_pack(
			"{s:s, s:O, s:O, s:O, s:O, s:s, s:O, s:O, s:O, s:b, s:o}", "kind",
			json_string_value(json_object_get(first, "kind")) ? json_string_value(json_object_get(first, "kind"))
									 : "switchover",
			"id", json_object_get(x, "id"), "started",
			json_object_get(first, "ts"), "old_primary", json_object_get(first, "old"), "new_primary",
			json_object_get(first, "new"), "outcome", outcome,
			"phases", rep && json_object_get(rep, "phases") ? json_object_get(rep, "phases") : json_null(),
			"write_blocked_ms", rep && json_object_get(rep, "write_blocked_ms") ? json_object_get(rep, "write_blocked_ms") : json_null(),
			"reason", rep && json_object_get(rep, "reason") ? json_object_get(rep, "reason") : json_null(),
			"by_watch", json_is_true(json_object_get(first, "by_watch")),
			"data_check", dcheck ? datacheck_settled_result(dcheck) : json_null()));
	}
	client_reply_ok(cl, req->id, json_pack("{s:s, s:o}", "cluster", c->cfg->name, "switchovers", out));
	json_decref(by);
	json_decref(all);
}
