/* cutoverctl status: the lines of a cluster's tasks beside the switchover — the last data
 * check, the watch after a switchover, the read shift and the tenant move. */
#include "render_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The last switchover's data check: one line, and the differing ranges under it. */
void status_data_check(FILE *out, const json_t *cl)
{
	const json_t *dc = jget(cl, "data_check"), *m;
	char *st, *sid, *why;
	size_t i;

	if (!json_is_object(dc))
		return;
	st = clean(or_q(jstr(dc, "state")));
	sid = clean(or_q(jstr(dc, "switchover")));
	why = jstr(dc, "why") ? clean(jstr(dc, "why")) : NULL;
	fprintf(out, "  data check (switchover %s): %s — %lld of %lld tables, %lld rows, %lld differing chunks, %.2f s%s%s\n",
		sid, st, (long long)json_integer_value(jget(dc, "tables_done")),
		(long long)json_integer_value(jget(dc, "tables")), (long long)json_integer_value(jget(dc, "rows")),
		(long long)json_integer_value(jget(dc, "mismatch_count")),
		json_number_value(jget(dc, "elapsed_ms")) / 1000.0, why ? "; " : "", why ? why : "");
	json_array_foreach(jget(dc, "mismatches"), i, m) {
		char *t = clean(or_q(jstr(m, "table"))), *r = clean(or_q(jstr(m, "range")));
		fprintf(out, "    differs: %s %s (%lld rows on the reference, %lld on the target)\n", t, r,
			(long long)json_integer_value(jget(m, "rows_reference")),
			(long long)json_integer_value(jget(m, "rows_target")));
		free(t);
		free(r);
	}
	free(st);
	free(sid);
	free(why);
}

/* The watch after a switchover: remaining time, each trigger's value against its limit. */
void status_watch(FILE *out, const json_t *cl)
{
	const json_t *w = jget(cl, "watch"), *t;
	char *np, *st, *act, *why;
	size_t i;

	if (!json_is_object(w))
		return;
	np = clean(or_q(jstr(w, "new_primary")));
	st = clean(or_q(jstr(w, "state")));
	act = clean(or_q(jstr(w, "action")));
	why = jstr(w, "why") ? clean(jstr(w, "why")) : NULL;
	fprintf(out, "  watch: %s, %s, %.0f s left (action %s); replicas following %lld/%lld\n", np, st,
		json_number_value(jget(w, "remaining_s")), act, (long long)json_integer_value(jget(w, "replicas_following")),
		(long long)json_integer_value(jget(w, "replicas")));
	json_array_foreach(jget(w, "triggers"), i, t) {
		char *n = clean(or_q(jstr(t, "name")));
		const json_t *v = jget(t, "value");
		double scale = !strcmp(n, "error_rate") ? 100.0 : 1.0;   /* a fraction, shown in % */
		const char *unit = scale > 1 ? "%" : "";
		if (json_is_number(v))
			fprintf(out, "    %-15s %10.4g%s  limit %g%s%s\n", n, json_number_value(v) * scale, unit,
				json_number_value(jget(t, "limit")) * scale, unit,
				json_is_true(jget(t, "breached")) ? "  BREACHED" : "");
		else
			fprintf(out, "    %-15s %10s  limit %g%s\n", n, "n/a", json_number_value(jget(t, "limit")) * scale, unit);
		free(n);
	}
	if (why)
		fprintf(out, "    %s\n", why);
	free(np);
	free(st);
	free(act);
	free(why);
}

/* The running or last read shift: one line, its state and the share in force. */
void status_shift(FILE *out, const json_t *cl)
{
	const json_t *sh = jget(cl, "shift");
	char *id, *target, *st, *why;

	if (!json_is_object(sh))
		return;
	id = clean(or_q(jstr(sh, "id")));
	target = clean(or_q(jstr(sh, "target")));
	st = clean(or_q(jstr(sh, "state")));
	why = jstr(sh, "reason") ? clean(jstr(sh, "reason")) : NULL;
	fprintf(out, "  read shift %s: reads to %s, %s, %lld%% in force (step %lld%% of %zu)%s%s\n", id, target, st,
		(long long)json_integer_value(jget(sh, "in_force")), (long long)json_integer_value(jget(sh, "percent")),
		json_array_size(jget(sh, "steps")), why ? ": " : "", why ? why : "");
	free(id);
	free(target);
	free(st);
	free(why);
}

/* The running or last tenant move: one line, its state and its counts, and the tenants of the
 * batch running. */
void status_tenants(FILE *out, const json_t *cl)
{
	const json_t *m = jget(cl, "tenant_move"), *x;
	char *id, *target, *st, *step, *why;
	size_t i;

	if (!json_is_object(m))
		return;
	id = clean(or_q(jstr(m, "id")));
	target = clean(or_q(jstr(m, "target")));
	st = clean(or_q(jstr(m, "state")));
	step = clean(or_q(jstr(m, "step")));
	why = jstr(m, "reason") ? clean(jstr(m, "reason")) : NULL;
	fprintf(out, "  tenant move %s: to %s, %s (batch %lld, %s): %lld moved, %lld rolled back, %lld skipped, %lld to go%s%s\n",
		id, target, st, (long long)json_integer_value(jget(m, "batch")), step,
		(long long)json_integer_value(jget(m, "moved")), (long long)json_integer_value(jget(m, "rolled_back")),
		(long long)json_integer_value(jget(m, "skipped")), (long long)json_integer_value(jget(m, "pending")),
		why ? ": " : "", why ? why : "");
	if (json_array_size(jget(m, "current"))) {
		fprintf(out, "    moving now:");
		json_array_foreach(jget(m, "current"), i, x) {
			char *n = clean(or_q(json_string_value(x)));
			fprintf(out, " %s", n);
			free(n);
		}
		fprintf(out, "\n");
	}
	free(id);
	free(target);
	free(st);
	free(step);
	free(why);
}
