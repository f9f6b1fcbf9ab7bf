/* The API commands that move traffic through ProxySQL without a cutover: shift (a read shift,
 * shift.h) and move_tenants (tenant moves, tenant.h).  Both are streamed like a switchover. */
#include "cmd_impl.h"
#include "control.h"
#include "daemon.h"
#include "shift.h"
#include "tenant.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A read shift through ProxySQL (shift.h): streamed like a switchover. */
void cmd_shift(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	struct shift_opts o;
	const char *steps = json_string_value(json_object_get(req->args, "steps"));
	const char *gate = json_string_value(json_object_get(req->args, "gate"));
	enum err_code code;
	char err[400];

	if (!c)
		return;
	{
		static const char *const hold_arg[] = { "hold_ms", NULL };
		if (!cmd_args_in_range(cl, req, hold_arg, 0, 86400000))
			return;
	}
	memset(&o, 0, sizeof(o));
	o.to = json_string_value(json_object_get(req->args, "to"));
	o.router = json_string_value(json_object_get(req->args, "router"));
	o.hold_ms = cmd_arg_int(req, "hold_ms", 10000);
	if (!o.to) {
		client_reply_err(cl, req->id, ERR_INVALID, "shift: \"to\" (the server the reads move to) is required");
		return;
	}
	if (shift_parse_steps(steps ? steps : "5,10,25,50,100", o.steps, &o.n_steps, err, sizeof(err)) < 0 ||
	    shift_parse_gates(gate ? gate : "", &o.gates, err, sizeof(err)) < 0) {
		client_reply_err(cl, req->id, ERR_INVALID, "%s", err);
		return;
	}
	if (c->shift && !shift_active(c->shift)) {
		shift_free(c->shift);   /* the last one's record is in the journal */
		c->shift = NULL;
	}
	if (shift_start(d, c, cl, req->id, &o, &code, err, sizeof(err)) < 0)
		client_reply_err(cl, req->id, code, "%s", err);
}

/* Tenants one batch at a time through ProxySQL (tenant.h): streamed like a switchover. */
/* The cluster tenants move from: "cluster", else the target's cluster's upstream (the target of
 * a tenant move replicates from it), else the only cluster. */
static struct cluster *move_source(struct daemon *d, struct client *cl, const struct request *req)
{
	const char *to = json_string_value(json_object_get(req->args, "to"));
	const struct server *t = to ? daemon_server(d, to) : NULL;

	if (!json_object_get(req->args, "cluster") && d->n_clusters > 1 && t && t->cluster->cfg->upstream &&
	    daemon_cluster(d, t->cluster->cfg->upstream))
		return daemon_cluster(d, t->cluster->cfg->upstream);
	return cmd_pick_cluster(d, cl, req);
}

void cmd_move_tenants(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = move_source(d, cl, req);
	json_t *list = json_object_get(req->args, "tenants"), *order = json_object_get(req->args, "tier_order"), *x;
	const char *by = json_string_value(json_object_get(req->args, "by"));
	const char *onf = json_string_value(json_object_get(req->args, "on_failure"));
	struct tenant_opts o;
	char **names = NULL, **tiers = NULL;
	const char **on = NULL, **ot = NULL, **ord = NULL;
	size_t i, n = json_array_size(list), n_order = json_array_size(order), *idx = NULL;
	enum err_code code;
	char err[600];

	if (!c)
		return;
	{
		static const char *const ms_args[] = { "pause_ms", "max_blocked_ms", NULL };
		static const char *const n_args[] = { "batch", NULL };
		if (!cmd_args_in_range(cl, req, ms_args, 0, 86400000) ||
		    !cmd_args_in_range(cl, req, n_args, 1, TENANT_MAX))
			return;
	}
	memset(&o, 0, sizeof(o));
	o.to = json_string_value(json_object_get(req->args, "to"));
	o.router = json_string_value(json_object_get(req->args, "router"));
	o.batch = cmd_arg_int(req, "batch", 1);
	o.pause_ms = cmd_arg_int(req, "pause_ms", 0);
	o.max_blocked_ms = cmd_arg_int(req, "max_blocked_ms", 5000);
	if (by && strcmp(by, "schema") && strcmp(by, "user")) {
		client_reply_err(cl, req->id, ERR_INVALID, "by: '%s' is neither schema nor user", by);
		return;
	}
	o.kind = by && !strcmp(by, "user") ? TENANT_USER : TENANT_SCHEMA;
	if (onf && strcmp(onf, "stop") && strcmp(onf, "continue")) {
		client_reply_err(cl, req->id, ERR_INVALID, "on_failure: '%s' is neither stop nor continue", onf);
		return;
	}
	o.continue_on_failure = onf && !strcmp(onf, "continue");
	if (!n || n > TENANT_MAX) {
		client_reply_err(cl, req->id, ERR_INVALID, "tenants: between 1 and %d names", TENANT_MAX);
		return;
	}
	names = xcalloc(n, sizeof(*names));
	tiers = xcalloc(n, sizeof(*tiers));
	json_array_foreach(list, i, x) {
		const char *s = json_string_value(x), *colon = strchr(s, ':');
		names[i] = colon ? xasprintf("%.*s", (int)(colon - s), s) : xstrdup(s);
		tiers[i] = colon ? xstrdup(colon + 1) : NULL;
	}
	ord = xcalloc(n_order + 1, sizeof(*ord));
	json_array_foreach(order, i, x)
		ord[i] = json_string_value(x);
	idx = xcalloc(n, sizeof(*idx));
	if (tenant_order((const char *const *)names, (const char *const *)tiers, n, ord, n_order, idx, err, sizeof(err)) < 0) {
		client_reply_err(cl, req->id, ERR_INVALID, "%s", err);
		goto out;
	}
	on = xcalloc(n, sizeof(*on));
	ot = xcalloc(n, sizeof(*ot));
	for (i = 0; i < n; i++) {
		on[i] = names[idx[i]];
		ot[i] = tiers[idx[i]];
	}
	o.names = on;
	o.tiers = ot;
	o.n = n;
	if (c->tenants && !tenant_active(c->tenants)) {
		tenant_free(c->tenants);   /* the last one's record is in the journal */
		c->tenants = NULL;
	}
	if (tenant_start(d, c, cl, req->id, &o, &code, err, sizeof(err)) < 0)
		client_reply_err(cl, req->id, code, "%s", err);
out:
	for (i = 0; i < n; i++) {
		free(names[i]);
		free(tiers[i]);
	}
	free(names);
	free(tiers);
	free(on);
	free(ot);
	free(ord);
	free(idx);
}
