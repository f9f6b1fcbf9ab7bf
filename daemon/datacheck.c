/* The data check at a switchover's fence point (see datacheck.h): its snapshots opened at the
 * fence, its state and result for status and the journal.  The comparison runs in datacheck_run.c,
 * the SQL is in datacheck_sql.c. */
#include "datacheck.h"
#include "datacheck_impl.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
#include "gtid.h"
#include "log.h"
#include "util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void settle(struct datacheck *dc, enum dc_state st, const char *why);

static const char *const state_names[] = {
	[DC_OPENING] = "opening", [DC_ARMED] = "armed", [DC_NOT_ARMED] = "not_armed", [DC_RUNNING] = "running",
	[DC_PASSED] = "passed", [DC_MISMATCH] = "mismatch", [DC_INCOMPLETE] = "incomplete",
};

const char *datacheck_state_name(enum dc_state s)
{
	return s <= DC_INCOMPLETE ? state_names[s] : "?";
}

enum dc_state datacheck_state(const struct datacheck *dc)
{
	return dc->state;
}

const char *datacheck_reference(const struct datacheck *dc)
{
	return dc->side[0].server;
}

bool datacheck_settled(const struct datacheck *dc)
{
	return dc->state != DC_OPENING;
}

bool datacheck_armed(const struct datacheck *dc)
{
	return dc->state == DC_ARMED;
}

const char *datacheck_why(const struct datacheck *dc)
{
	return dc->why ? dc->why : "";
}

struct log_ctx dc_lctx(const struct datacheck *dc)
{
	struct log_ctx ctx = { dc->c->cfg->name, NULL, "data_check", dc->id };
	return ctx;
}

int dc_side_of(const struct datacheck *dc, const struct db *db)
{
	return dc->side[0].db == db ? 0 : 1;
}

void dc_side_reset(struct dc_side *s)
{
	s->done = false;
	s->err = 0;
	s->errmsg[0] = '\0';
	free(s->n);
	free(s->crc_xor);
	free(s->crc_sum);
	s->n = s->crc_xor = s->crc_sum = NULL;
}

void dc_side_result(struct dc_side *s, const struct db_result *res)
{
	s->done = true;
	s->err = res->err;
	if (res->err)
		snprintf(s->errmsg, sizeof(s->errmsg), "%.511s", res->errmsg);
}

/* ------------------------------------------------------------------------------------------ */
/* opening the snapshots */

static void opened(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	int i = dc_side_of(dc, db);
	struct dc_side *s = &dc->side[i];
	const struct server *srv = daemon_server(dc->d, s->server);
	enum gtid_kind kind = srv && server_flavor(srv)->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL;

	dc_side_result(s, res);
	if (!res->err && res->n) {
		/* the reference: its position in the snapshot is the fence point; the target: still
		 * read-only once its snapshot was open, so nothing was written before it */
		const char *last = rowset_at(res->rs[res->n - 1], 0, 0);
		if (i == 0 && (!last || gtid_str_contains(kind, last, dc->fence_point) != 1 ||
			       gtid_str_contains(kind, dc->fence_point, last) != 1)) {
			s->err = -1;
			snprintf(s->errmsg, sizeof(s->errmsg), "%s is at %s, not at the fence point %s", s->server,
				 last ? last : "?", dc->fence_point);
		} else if (i == 1 && res->n > 1 && strcmp(rowset_at(res->rs[1], 0, 0) ?: "", "0")) {
			s->err = -1;
			snprintf(s->errmsg, sizeof(s->errmsg), "%s did not reach the fence point %s in time", s->server,
				 dc->fence_point);
		} else if (i == 1 && (!last || strcmp(last, "1"))) {
			s->err = -1;
			snprintf(s->errmsg, sizeof(s->errmsg),
				 "%s was already writable when its snapshot opened: it may not be the fence point",
				 s->server);
		}
	}
	db_result_free(res);
	if (!dc->side[0].done || !dc->side[1].done)
		return;
	if (dc->side[0].err || dc->side[1].err) {
		const struct dc_side *bad = dc->side[0].err ? &dc->side[0] : &dc->side[1];
		char *why = xasprintf("no snapshot at the fence point on %s: %s", bad->server, bad->errmsg);
		settle(dc, DC_NOT_ARMED, why);
		free(why);
		return;
	}
	settle(dc, DC_ARMED, NULL);
}

static void settle(struct datacheck *dc, enum dc_state st, const char *why)
{
	void (*fn)(void *) = dc->settled;

	dc->state = st;
	free(dc->why);
	dc->why = why ? xstrdup(why) : NULL;
	if (st == DC_NOT_ARMED) {
		struct log_ctx ctx = dc_lctx(dc);
		log_ctx(LOG_WARNING, &ctx, "the data check will not run: %s", why);
		db_close(dc->side[0].db);
		db_close(dc->side[1].db);
	}
	dc->settled = NULL;
	if (fn)
		fn(dc->settled_arg);
}

static void connected(struct db *db, struct db_result *res, void *arg)
{
	db_result_free(res);   /* a failure shows when the snapshots open (the connection is made again) */
}

struct datacheck *datacheck_new(struct daemon *d, struct cluster *c, const char *id, const struct server *ref,
				const struct server *target)
{
	struct datacheck *dc = xcalloc(1, sizeof(*dc));
	int i;

	dc->d = d;
	dc->c = c;
	snprintf(dc->id, sizeof(dc->id), "%s", id);
	dc->side[0].server = xstrdup(ref->cfg->name);
	dc->side[1].server = xstrdup(target->cfg->name);
	dc->side[0].db = server_db_new(d, ref->cfg);
	dc->side[1].db = server_db_new(d, target->cfg);
	dc->mismatches = json_array();
	dc->skipped = json_array();
	for (i = 0; i < 2; i++)
		db_run1(dc->side[i].db, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			d->cfg->connect_timeout_ms + d->cfg->query_timeout_ms, connected, dc);
	return dc;
}

unsigned long datacheck_ref_thread(const struct datacheck *dc)
{
	return dc ? db_thread_id(dc->side[0].db) : 0;
}

void datacheck_open(struct datacheck *dc, const char *fence_point, int wait_ms, void (*settled)(void *arg), void *arg)
{
	const struct server *ref = daemon_server(dc->d, dc->side[0].server);
	const struct server *target = daemon_server(dc->d, dc->side[1].server);
	const struct flavor_ops *fr = ref ? server_flavor(ref) : &flavor_mariadb;
	const struct flavor_ops *ft = target ? server_flavor(target) : &flavor_mariadb;
	char *wait = xasprintf(ft->sql[SQL_WAIT_GTID], fence_point, wait_ms / 1000.0);
	const char *qr[3] = { "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
			      "START TRANSACTION WITH CONSISTENT SNAPSHOT", fr->sql[SQL_FENCE_POINT] };
	const char *qt[4] = { "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", wait,
			      "START TRANSACTION WITH CONSISTENT SNAPSHOT", "SELECT @@global.read_only" };
	int timeout = wait_ms + dc->d->cfg->connect_timeout_ms + dc->d->cfg->query_timeout_ms;
	int i;

	free(dc->fence_point);
	dc->fence_point = xstrdup(fence_point);
	dc->settled = settled;
	dc->settled_arg = arg;
	for (i = 0; i < 2; i++)
		if (db_busy(dc->side[i].db))   /* still connecting: start again */
			db_cancel(dc->side[i].db);
	db_run(dc->side[0].db, qr, 3, timeout, opened, dc);
	db_run(dc->side[1].db, qt, 4, timeout, opened, dc);
	free(wait);
}

void datacheck_give_up(struct datacheck *dc, const char *why)
{
	if (dc->state != DC_OPENING)
		return;
	dc->settled = NULL;
	settle(dc, DC_NOT_ARMED, why);
}

/* ------------------------------------------------------------------------------------------ */

json_t *datacheck_json(const struct datacheck *dc)
{
	json_t *j;
	double ms;

	if (dc->result)
		return json_deep_copy(dc->result);
	ms = dc->started_us ? (double)((dc->ended_us ? dc->ended_us : now_mono_us()) - dc->started_us) / 1000.0 : 0;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:f}", "state",
		      datacheck_state_name(dc->state), "switchover", dc->id, "reference", dc->side[0].server, "target",
		      dc->side[1].server, "fence_point", dc->fence_point ?: "", "tables", (json_int_t)dc->n_tables,
		      "tables_done", (json_int_t)dc->tables_done, "rows", (json_int_t)dc->rows, "chunks",
		      (json_int_t)dc->chunks, "mismatch_count", (json_int_t)dc->n_mismatch, "mismatches", dc->mismatches,
		      "skipped", dc->skipped, "elapsed_ms", ms);
	json_object_set_new(j, "rows_per_s", ms > 0 ? json_real((double)dc->rows * 1000.0 / ms) : json_null());
	json_object_set_new(j, "why", dc->why ? json_string(dc->why) : json_null());
	return j;
}

json_t *datacheck_settled_result(const json_t *r)
{
	json_t *out = json_deep_copy(r);
	const char *st = json_string_value(json_object_get(r, "state"));

	if (st && (!strcmp(st, "running") || !strcmp(st, "opening") || !strcmp(st, "armed"))) {
		/* cutoverd stopped while it ran: its snapshots went with it */
		json_object_set_new(out, "state", json_string("incomplete"));
		json_object_set_new(out, "why", json_sprintf("cutoverd stopped while the check ran; %s stays held at the fence "
							     "point: START SLAVE there once you are satisfied, and it "
							     "follows %s",
							     json_string_value(json_object_get(r, "reference")) ?: "?",
							     json_string_value(json_object_get(r, "target")) ?: "?"));
	}
	return out;
}

void datacheck_replay(struct cluster *c, const json_t *entry)
{
	const json_t *r = json_object_get(entry, "result");
	struct datacheck *dc;
	const char *st;
	int i;

	if (!json_is_object(r))
		return;
	dc = xcalloc(1, sizeof(*dc));
	dc->c = c;
	dc->result = datacheck_settled_result(r);
	dc->state = DC_INCOMPLETE;
	st = json_string_value(json_object_get(dc->result, "state"));
	for (i = 0; st && i <= DC_INCOMPLETE; i++)
		if (!strcmp(st, state_names[i]))
			dc->state = (enum dc_state)i;
	snprintf(dc->id, sizeof(dc->id), "%s", json_string_value(json_object_get(r, "switchover")) ?: "");
	dc->side[0].server = xstrdup(json_string_value(json_object_get(r, "reference")));
	dc->side[1].server = xstrdup(json_string_value(json_object_get(r, "target")));
	datacheck_free(c->datacheck);
	c->datacheck = dc;
}

void datacheck_free(struct datacheck *dc)
{
	size_t i, k;
	if (!dc)
		return;
	for (i = 0; i < 2; i++) {
		db_free(dc->side[i].db);
		dc_side_reset(&dc->side[i]);
		free(dc->side[i].server);
	}
	if (dc->timer)
		event_free(dc->timer);
	for (i = 0; i < dc->n_tables; i++) {
		free(dc->tables[i].schema);
		free(dc->tables[i].name);
		free(dc->tables[i].engine);
		free(dc->tables[i].pk);
		for (k = 0; k < dc->tables[i].ncols; k++)
			free(dc->tables[i].cols[k]);
		free(dc->tables[i].cols);
	}
	free(dc->tables);
	free(dc->lo);
	free(dc->hi);
	free(dc->fence_point);
	free(dc->why);
	json_decref(dc->mismatches);
	json_decref(dc->skipped);
	json_decref(dc->result);
	free(dc);
}

void datacheck_rebind(struct datacheck *dc, struct cluster *c)
{
	if (dc)
		dc->c = c;
}
