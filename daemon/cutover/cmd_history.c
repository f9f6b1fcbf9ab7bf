/* The API command history: the last cutovers, read shifts and tenant moves of a cluster from its
 * journal, each with its outcome, phases and data check.  The journal is read and the reply
 * built off the event loop (offload.h): a client asking again and again, with a journal of
 * thousands of cutovers, costs a thread's time, not the loop's.  What only the loop knows (the
 * state of a cutover, shift or tenant move still running) is taken before, as plain values. */
#include "cmd_impl.h"
#include "control.h"
#include "daemon.h"
#include "datacheck.h"
#include "engine.h"
#include "journal.h"
#include "offload.h"
#include "proto.h"
#include "stats.h"
#include "shift.h"
#include "tenant.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* history reads no more of the journal than this: about a thousand switchovers */
#define HISTORY_MAX_BYTES (2 * 1024 * 1024)

struct history_job {
	char *state_dir, *cluster;        /* owned copies */
	size_t limit;
	char *cutover_id;                 /* owned: the cutover in memory, its state wins; NULL none */
	const char *cutover_state;
	char *running_id[2];              /* owned: a read shift, a tenant move running; NULL none */
	struct client *cl;                /* held until the reply */
	json_t *req_id;                   /* a copy of the request's own: the thread's */
	size_t len;                       /* the thread's answer: the reply line's length */
};

static const char *outcome_of(const struct history_job *h, const char *id, json_t *entries)
{
	const char *outcome = "interrupted";
	size_t k;
	json_t *e;

	json_array_foreach(entries, k, e) {
		const char *ev = json_string_value(json_object_get(e, "event"));
		if (ev && (!strcmp(ev, "done") || !strcmp(ev, "rolled_back") || !strcmp(ev, "failed") ||
			   !strcmp(ev, "refused") || !strcmp(ev, "resolved") || !strcmp(ev, "handed_over") ||
			   !strcmp(ev, "settled_elsewhere")))
			outcome = ev;
	}
	if (h->cutover_id && !strcmp(h->cutover_id, id))
		return h->cutover_state;
	for (k = 0; k < ARRAY_LEN(h->running_id); k++)
		if (h->running_id[k] && !strcmp(h->running_id[k], id))
			return "running";
	return outcome;
}

/* The report of a cutover: its last entry with one, or a recovery's entry (a reason, no phases). */
static json_t *report_of(json_t *entries)
{
	json_t *e, *rep = NULL;
	size_t k;

	json_array_foreach(entries, k, e) {
		const char *ev = json_string_value(json_object_get(e, "event"));
		if (json_object_get(e, "report"))
			rep = json_object_get(e, "report");
		else if (json_object_get(e, "reason") && ev && (!strcmp(ev, "rolled_back") || !strcmp(ev, "failed")))
			rep = e;
	}
	return rep;
}

static json_t *field(json_t *rep, const char *key)
{
	return rep && json_object_get(rep, key) ? json_object_get(rep, key) : json_null();
}

/* In a thread: nothing here touches the loop's state. */
static void *history_work(void *arg)
{
	struct history_job *h = arg;
	json_t *all = journal_read_recent(h->state_dir, h->cluster, HISTORY_MAX_BYTES);
	json_t *by = journal_by_cutover(all), *checks = json_object(), *out = json_array(), *x, *w;
	size_t i, start = json_array_size(by) > h->limit ? json_array_size(by) - h->limit : 0;

	/* each switchover's data check (a watchdog entry, after its end): the last one */
	json_array_foreach(all, i, w) {
		json_t *res = json_object_get(w, "result");
		const char *ev = json_string_value(json_object_get(w, "event"));
		const char *sid = json_string_value(json_object_get(res, "switchover"));
		if (ev && !strcmp(ev, "data_check") && sid)
			json_object_set(checks, sid, res);
	}
	json_array_foreach(by, i, x) {
		json_t *entries = json_object_get(x, "entries"), *first = json_array_get(entries, 0);
		json_t *rep = report_of(entries), *dcheck;
		const char *id = json_string_value(json_object_get(x, "id"));
		const char *kind = json_string_value(json_object_get(first, "kind"));

		if (i < start)
			continue;
		dcheck = json_object_get(checks, id);
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:O, s:O, s:O, s:s, s:O, s:O, s:O, s:b, s:o}", "kind",
				       kind ? kind : "switchover", "id", id, "started", json_object_get(first, "ts"),
				       "old_primary", json_object_get(first, "old"), "new_primary",
				       json_object_get(first, "new"), "outcome", outcome_of(h, id, entries), "phases",
				       field(rep, "phases"), "write_blocked_ms", field(rep, "write_blocked_ms"), "reason",
				       field(rep, "reason"), "by_watch", json_is_true(json_object_get(first, "by_watch")),
				       "data_check", dcheck ? datacheck_settled_result(dcheck) : json_null()));
	}
	json_decref(checks);
	json_decref(by);
	json_decref(all);
	/* the whole reply, serialized here too: a large one would take the loop milliseconds */
	{
		json_t *reply = proto_reply_ok(h->req_id, json_pack("{s:s, s:o}", "cluster", h->cluster, "switchovers", out));
		char *line = proto_dump_line(reply, &h->len);
		json_decref(reply);
		return line;
	}
}

static void history_job_free(struct history_job *h)
{
	size_t i;

	free(h->state_dir);
	free(h->cluster);
	free(h->cutover_id);
	for (i = 0; i < ARRAY_LEN(h->running_id); i++)
		free(h->running_id[i]);
	json_decref(h->req_id);
	free(h);
}

/* Back on the loop. */
static void history_done(void *result, void *arg)
{
	struct history_job *h = arg;

	if (client_gone(h->cl)) {
		free(result);
	} else if (result) {
		stats_api("history", "ok");
		client_send_line(h->cl, result, h->len);
	} else {
		client_reply_err(h->cl, h->req_id, ERR_INTERNAL, "the reply could not be serialized");
	}
	client_release(h->cl);
	history_job_free(h);
}

void cmd_history(struct daemon *d, struct client *cl, const struct request *req)
{
	static const char *const limit_arg[] = { "limit", NULL };
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	struct history_job *h;
	int limit = cmd_arg_int(req, "limit", 20);

	if (!c || !cmd_args_in_range(cl, req, limit_arg, 1, 100000))
		return;
	h = xcalloc(1, sizeof(*h));
	h->state_dir = xstrdup(d->cfg->state_dir);
	h->cluster = xstrdup(c->cfg->name);
	h->limit = (size_t)(limit > 0 ? limit : 20);
	if (c->cutover) {
		h->cutover_id = xstrdup(c->cutover->id);
		h->cutover_state = state_names[c->cutover->state];
	}
	if (c->shift && shift_active(c->shift))
		h->running_id[0] = xstrdup(shift_id(c->shift));
	if (c->tenants && tenant_active(c->tenants))
		h->running_id[1] = xstrdup(tenant_id(c->tenants));
	h->cl = cl;
	h->req_id = req->id ? json_deep_copy(req->id) : NULL;
	client_hold(cl);
	if (offload_run(d->base, history_work, history_done, h) < 0) {
		client_reply_err(cl, req->id, ERR_INTERNAL, "history: no thread to read the journal in");
		client_release(cl);
		history_job_free(h);
	}
}
