/* The data check at a switchover's fence point (see datacheck.h). */
#include "datacheck.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
#include "gtid.h"
#include "held.h"
#include "log.h"
#include "util.h"
#include "watchdog.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DC_MAX_MISMATCHES 50     /* ranges kept for the report; the rest are counted */
#define DC_MDL_EVERY_US   250000   /* a DDL waiting on our snapshot waits no longer than this, and the chunk in flight */
#define DC_CHUNK_TIMEOUT_MS 60000

struct dc_table {
	char *schema, *name, *engine;
	char **cols;
	size_t ncols;
	char *pk;               /* the first primary-key column, NULL without one */
	bool pk_int;            /* an integer: chunked on it */
	bool listed;            /* matches data_check_tables (or there is no list) */
};

struct dc_side {
	struct db *db;
	char *server;           /* owned */
	bool done;
	int err;
	char errmsg[600];
	char *n, *crc_xor, *crc_sum;   /* owned: the last checksum */
	long long waiters;      /* the last metadata-lock look */
};

struct datacheck {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *fence_point;
	enum dc_state state;
	char *why;              /* owned: why it is not armed / incomplete / what went wrong */
	struct dc_side side[2]; /* 0: the reference (old primary), 1: the target (new primary) */
	void (*settled)(void *arg);
	void *settled_arg;
	struct event *timer;
	bool release_ref;

	/* the comparison */
	struct dc_table *tables;
	size_t n_tables, ti;
	bool need_table;        /* ti is a table not yet begun */
	char *lo, *hi;          /* the chunk (lo, hi]; NULL = unbounded */
	bool last_chunk;
	int pending;
	int chunk_rows;
	long long rate;
	int64_t started_us, ended_us, deadline_us, last_mdl_us;
	long long rows, chunks, tables_done, n_mismatch;
	json_t *mismatches, *skipped;
	json_t *result;         /* a finished check read back from the journal */
};

static void settle(struct datacheck *dc, enum dc_state st, const char *why);
static void next_chunk(struct datacheck *dc);
static void finish(struct datacheck *dc, enum dc_state st, const char *why);

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

static struct log_ctx lctx(const struct datacheck *dc)
{
	struct log_ctx ctx = { dc->c->cfg->name, NULL, "data_check", dc->id };
	return ctx;
}

static int side_of(const struct datacheck *dc, const struct db *db)
{
	return dc->side[0].db == db ? 0 : 1;
}

static void side_reset(struct dc_side *s)
{
	s->done = false;
	s->err = 0;
	s->errmsg[0] = '\0';
	free(s->n);
	free(s->crc_xor);
	free(s->crc_sum);
	s->n = s->crc_xor = s->crc_sum = NULL;
}

static void side_result(struct dc_side *s, const struct db_result *res)
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
	int i = side_of(dc, db);
	struct dc_side *s = &dc->side[i];
	const struct server *srv = daemon_server(dc->d, s->server);
	enum gtid_kind kind = srv && server_flavor(srv)->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL;

	side_result(s, res);
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
		struct log_ctx ctx = lctx(dc);
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

/* ------------------------------------------------------------------------------------------ */
/* the comparison */

static bool listed(const struct cfg_cluster *cc, const char *schema, const char *table)
{
	size_t i;
	if (!cc->data_check_tables)
		return true;
	for (i = 0; cc->data_check_tables[i]; i++) {
		const char *e = cc->data_check_tables[i], *dot = strchr(e, '.');
		size_t sl = dot ? (size_t)(dot - e) : strlen(e);
		if (strlen(schema) == sl && !strncmp(e, schema, sl) && (!dot || !strcmp(dot + 1, "*") || !strcmp(dot + 1, table)))
			return true;
	}
	return false;
}

static struct dc_table *table_find(struct datacheck *dc, const char *schema, const char *name)
{
	size_t i;
	for (i = 0; i < dc->n_tables; i++)
		if (!strcmp(dc->tables[i].schema, schema) && !strcmp(dc->tables[i].name, name))
			return &dc->tables[i];
	return NULL;
}

static bool is_int_type(const char *t)
{
	static const char *const ints[] = { "tinyint", "smallint", "mediumint", "int", "integer", "bigint" };
	size_t i;
	for (i = 0; t && i < ARRAY_LEN(ints); i++)
		if (!strcasecmp(t, ints[i]))
			return true;
	return false;
}

static void skip(struct datacheck *dc, const struct dc_table *t, const char *why)
{
	json_array_append_new(dc->skipped, json_pack("{s:s++, s:s}", "table", t->schema, ".", t->name, "why", why));
}

static void listed_tables(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	const struct cfg_cluster *cc = dc->c->cfg;
	size_t r;

	if (res->err || res->n < 3) {
		char *why = xasprintf("listing the tables on %s: %s", dc->side[0].server, res->errmsg);
		db_result_free(res);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	for (r = 0; r < res->rs[0]->nrows; r++) {
		const char *schema = rowset_at(res->rs[0], r, 0), *name = rowset_at(res->rs[0], r, 1);
		struct dc_table *t;
		if (!schema || !name || !listed(cc, schema, name))
			continue;
		dc->tables = xrealloc(dc->tables, (dc->n_tables + 1) * sizeof(*dc->tables));
		t = &dc->tables[dc->n_tables++];
		memset(t, 0, sizeof(*t));
		t->schema = xstrdup(schema);
		t->name = xstrdup(name);
		t->engine = xstrdup(rowset_at(res->rs[0], r, 2) ? rowset_at(res->rs[0], r, 2) : "");
	}
	for (r = 0; r < res->rs[1]->nrows; r++) {
		struct dc_table *t = table_find(dc, rowset_at(res->rs[1], r, 0) ?: "", rowset_at(res->rs[1], r, 1) ?: "");
		const char *col = rowset_at(res->rs[1], r, 2), *extra = rowset_at(res->rs[1], r, 4) ?: "";
		/* generated columns follow from the others; invisible ones (system versioning) are
		 * history, not the current rows.  MySQL's DEFAULT_GENERATED is a default, not a
		 * generated column. */
		if (!t || !col || strcasestr(extra, "INVISIBLE") ||
		    (strcasestr(extra, "GENERATED") && !strcasestr(extra, "DEFAULT_GENERATED")) ||
		    strcasestr(extra, "PERSISTENT"))
			continue;
		t->cols = xrealloc(t->cols, (t->ncols + 1) * sizeof(*t->cols));
		t->cols[t->ncols++] = xstrdup(col);
	}
	for (r = 0; r < res->rs[2]->nrows; r++) {
		struct dc_table *t = table_find(dc, rowset_at(res->rs[2], r, 0) ?: "", rowset_at(res->rs[2], r, 1) ?: "");
		size_t k;
		if (!t || !rowset_at(res->rs[2], r, 2))
			continue;
		t->pk = xstrdup(rowset_at(res->rs[2], r, 2));
		for (k = 0; k < res->rs[1]->nrows; k++)
			if (!strcmp(rowset_at(res->rs[1], k, 0) ?: "", t->schema) &&
			    !strcmp(rowset_at(res->rs[1], k, 1) ?: "", t->name) &&
			    !strcmp(rowset_at(res->rs[1], k, 2) ?: "", t->pk))
				t->pk_int = is_int_type(rowset_at(res->rs[1], k, 3));
	}
	db_result_free(res);
	dc->ti = 0;
	dc->need_table = true;
	next_chunk(dc);
}

static void chunk_compared(struct datacheck *dc)
{
	struct dc_table *t = &dc->tables[dc->ti];
	struct dc_side *a = &dc->side[0], *b = &dc->side[1];
	long long na = a->n ? atoll(a->n) : 0, nb = b->n ? atoll(b->n) : 0;

	if (a->err || b->err) {
		const struct dc_side *bad = a->err ? a : b;
		char *why = xasprintf("%s.%s on %s: %s", t->schema, t->name, bad->server, bad->errmsg);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	dc->rows += na;
	dc->chunks++;
	if (na != nb || strcmp(a->crc_xor ?: "", b->crc_xor ?: "") || strcmp(a->crc_sum ?: "", b->crc_sum ?: "")) {
		char range[300];
		if (!t->pk_int)
			snprintf(range, sizeof(range), "the whole table%s", t->pk ? "" : " (no primary key)");
		else
			snprintf(range, sizeof(range), "%s in (%s, %s]", t->pk, dc->lo ? dc->lo : "-inf",
				 dc->hi ? dc->hi : "+inf");
		if (dc->n_mismatch++ < DC_MAX_MISMATCHES)
			json_array_append_new(dc->mismatches,
					      json_pack("{s:s++, s:s, s:s?, s:s?, s:s?, s:I, s:I}", "table", t->schema, ".",
							t->name, "range", range, "key", t->pk_int ? t->pk : NULL, "after",
							dc->lo, "up_to", dc->hi, "rows_reference", (json_int_t)na,
							"rows_target", (json_int_t)nb));
		{
			struct log_ctx ctx = lctx(dc);
			log_ctx(LOG_WARNING, &ctx, "%s.%s differs at %s: %lld rows on %s, %lld on %s", t->schema, t->name,
				range, na, a->server, nb, b->server);
		}
	}
	free(dc->lo);
	dc->lo = dc->hi;
	dc->hi = NULL;
	if (dc->last_chunk) {
		dc->tables_done++;
		dc->ti++;
		dc->need_table = true;
	}
	next_chunk(dc);
}

static void checksummed(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	struct dc_side *s = &dc->side[side_of(dc, db)];

	side_result(s, res);
	if (!res->err && res->n && res->rs[0]->nrows) {
		s->n = xstrdup(rowset_at(res->rs[0], 0, 0));
		s->crc_xor = xstrdup(rowset_at(res->rs[0], 0, 1));
		s->crc_sum = xstrdup(rowset_at(res->rs[0], 0, 2));
	}
	db_result_free(res);
	if (--dc->pending == 0)
		chunk_compared(dc);
}

static int chunk_timeout(const struct datacheck *dc)
{
	int64_t left = (dc->deadline_us - now_mono_us()) / 1000;
	return left < 1 ? 1 : left > DC_CHUNK_TIMEOUT_MS ? DC_CHUNK_TIMEOUT_MS : (int)left;
}

static void checksum_both(struct datacheck *dc)
{
	struct dc_table *t = &dc->tables[dc->ti];
	char *q = dc_sql_checksum(t->schema, t->name, (const char *const *)t->cols, t->ncols, t->pk_int ? t->pk : NULL,
				  dc->lo, dc->hi);
	int i;

	dc->pending = 2;
	for (i = 0; i < 2; i++) {
		side_reset(&dc->side[i]);
		db_run1(dc->side[i].db, q, chunk_timeout(dc), checksummed, dc);
	}
	free(q);
}

static void bounded(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	struct dc_table *t = &dc->tables[dc->ti];
	const char *v = !res->err && res->n && res->rs[0]->nrows ? rowset_at(res->rs[0], 0, 0) : NULL;

	if (res->err) {
		char *why = xasprintf("%s.%s on %s: %s", t->schema, t->name, dc->side[0].server, res->errmsg);
		db_result_free(res);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	if (v && !dc_int_literal(v)) {
		char *why = xasprintf("%s.%s: the key %s read back as \"%s\"", t->schema, t->name, t->pk, v);
		db_result_free(res);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	dc->hi = xstrdup(v);   /* NULL: fewer rows than a chunk remain, this is the last */
	dc->last_chunk = v == NULL;
	db_result_free(res);
	checksum_both(dc);
}

static void chunk_go(struct datacheck *dc)
{
	struct dc_table *t = &dc->tables[dc->ti];

	if (t->pk_int) {
		char *q = dc_sql_boundary(t->schema, t->name, t->pk, dc->lo, dc->chunk_rows);
		db_run1(dc->side[0].db, q, chunk_timeout(dc), bounded, dc);
		free(q);
		return;
	}
	dc->last_chunk = true;
	checksum_both(dc);
}

static void timer_go(evutil_socket_t fd, short what, void *arg)
{
	next_chunk(arg);
}

static void mdl_looked(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	struct dc_side *s = &dc->side[side_of(dc, db)];

	side_result(s, res);
	s->waiters = !res->err && res->n && res->rs[0]->nrows ? atoll(rowset_at(res->rs[0], 0, 0) ?: "0") : 0;
	db_result_free(res);
	if (--dc->pending)
		return;
	dc->last_mdl_us = now_mono_us();
	if (dc->side[0].err || dc->side[1].err) {
		const struct dc_side *bad = dc->side[0].err ? &dc->side[0] : &dc->side[1];
		char *why = xasprintf("on %s: %s", bad->server, bad->errmsg);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	if (dc->side[0].waiters || dc->side[1].waiters) {
		const struct dc_side *w = dc->side[0].waiters ? &dc->side[0] : &dc->side[1];
		char *why = xasprintf("stopped so as not to hold up DDL: %lld session%s on %s wait%s for a table metadata "
				      "lock, which the check's snapshot may hold", w->waiters, w->waiters == 1 ? "" : "s",
				      w->server, w->waiters == 1 ? "s" : "");
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	chunk_go(dc);
}

static void next_chunk(struct datacheck *dc)
{
	int64_t now = now_mono_us();
	int i;

	if (dc->need_table) {
		/* the next table with something to compare */
		free(dc->lo);
		dc->lo = NULL;
		dc->last_chunk = false;
		dc->need_table = false;
		for (; dc->ti < dc->n_tables; dc->ti++) {
			struct dc_table *t = &dc->tables[dc->ti];
			if (strcasecmp(t->engine, "InnoDB"))
				skip(dc, t, *t->engine ? "not transactional: a snapshot cannot hold it at the fence point"
						       : "no engine");
			else if (!t->ncols)
				skip(dc, t, "no columns to compare");
			else
				break;
		}
		if (dc->ti >= dc->n_tables) {
			finish(dc, dc->n_mismatch ? DC_MISMATCH : DC_PASSED, NULL);
			return;
		}
	}
	if (now >= dc->deadline_us) {
		char *why = xasprintf("data_check_timeout (%d s) reached after %lld of %zu tables",
				      dc->c->cfg->data_check_timeout_ms / 1000, dc->tables_done, dc->n_tables);
		finish(dc, DC_INCOMPLETE, why);
		free(why);
		return;
	}
	if (dc->rate > 0) {
		int64_t due = dc->started_us + (int64_t)((double)dc->rows * 1e6 / (double)dc->rate);
		if (due > now) {
			struct timeval tv = { (time_t)((due - now) / 1000000), (suseconds_t)((due - now) % 1000000) };
			evtimer_add(dc->timer, &tv);
			return;
		}
	}
	if (now - dc->last_mdl_us >= DC_MDL_EVERY_US) {
		dc->pending = 2;
		for (i = 0; i < 2; i++) {
			const struct server *s = daemon_server(dc->d, dc->side[i].server);
			side_reset(&dc->side[i]);
			db_run1(dc->side[i].db, (s ? server_flavor(s) : &flavor_mariadb)->sql[SQL_MDL_WAITERS],
				dc->d->cfg->query_timeout_ms, mdl_looked, dc);
		}
		return;
	}
	chunk_go(dc);
}

void datacheck_run(struct datacheck *dc, bool release_ref)
{
	const struct cfg_cluster *cc = dc->c->cfg;
	static const char *const q[3] = {
		/* MariaDB lists a system-versioned table as SYSTEM VERSIONED: its current rows are compared */
		"SELECT TABLE_SCHEMA, TABLE_NAME, ENGINE FROM information_schema.TABLES"
		" WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')"
		" AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME",
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS"
		" WHERE TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')"
		" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
		"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
		" WHERE INDEX_NAME = 'PRIMARY' AND SEQ_IN_INDEX = 1"
		" AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema')",
	};

	dc->release_ref = release_ref;
	dc->state = DC_RUNNING;
	dc->chunk_rows = cc->data_check_chunk_rows;
	dc->rate = cc->data_check_rate;
	dc->started_us = now_mono_us();
	dc->deadline_us = dc->started_us + (int64_t)cc->data_check_timeout_ms * 1000;
	dc->last_mdl_us = dc->started_us;   /* the first look after DC_MDL_EVERY_US */
	dc->timer = evtimer_new(dc->d->base, timer_go, dc);
	wd_event(dc->d, dc->c, "data_check", dc->side[1].server,
		 "data check of switchover %s: comparing %s and %s at the fence point %s", dc->id, dc->side[0].server,
		 dc->side[1].server, dc->fence_point);
	/* read back after a restart during the check: it did not finish (datacheck_replay) */
	wd_journal(dc->d, dc->c, "data_check", json_pack("{s:o}", "result", datacheck_json(dc)));
	db_run(dc->side[0].db, q, 3, chunk_timeout(dc), listed_tables, dc);
}

/* ------------------------------------------------------------------------------------------ */
/* the end */

static void ref_released(struct db *db, struct db_result *res, void *arg)
{
	struct datacheck *dc = arg;
	if (res->err) {
		wd_event(dc->d, dc->c, "data_check", dc->side[0].server,
			 "the data check passed, but %s could not start replicating from %s: %s; it stays held at the "
			 "fence point — START SLAVE there by hand", dc->side[0].server, dc->side[1].server, res->errmsg);
	} else {
		char *why = xasprintf("the data check of switchover %s passed: it replicates from %s", dc->id,
				      dc->side[1].server);
		held_release(dc->d, dc->c, dc->side[0].server, why);
		free(why);
	}
	db_result_free(res);
	db_close(db);
}

static void finish(struct datacheck *dc, enum dc_state st, const char *why)
{
	json_t *j;
	const char *what;
	char line[600];

	dc->state = st;
	dc->ended_us = now_mono_us();
	free(dc->why);
	dc->why = why ? xstrdup(why) : NULL;
	if (dc->timer)
		evtimer_del(dc->timer);
	/* the snapshots end with the sessions (nothing was written in them) */
	db_close(dc->side[0].db);
	db_close(dc->side[1].db);
	j = datacheck_json(dc);
	wd_journal(dc->d, dc->c, "data_check", json_pack("{s:O}", "result", j));
	what = st == DC_PASSED ? "passed" : st == DC_MISMATCH ? "FOUND DIFFERENCES" : "did not finish";
	snprintf(line, sizeof(line), "data check of switchover %s %s: %lld tables, %lld rows in %.1f s", dc->id, what,
		 dc->tables_done, dc->rows, (double)(dc->ended_us - dc->started_us) / 1e6);
	if (st == DC_MISMATCH)
		wd_event(dc->d, dc->c, "data_check", dc->side[1].server,
			 "%s; %lld chunk%s differ, first %s: %s is kept at the fence point (held)", line, dc->n_mismatch,
			 dc->n_mismatch == 1 ? "" : "s",
			 json_string_value(json_object_get(json_array_get(dc->mismatches, 0), "table")),
			 dc->side[0].server);
	else if (st == DC_INCOMPLETE)
		wd_event(dc->d, dc->c, "data_check", dc->side[1].server, "%s: %s; %s stays held at the fence point", line,
			 why ? why : "?", dc->side[0].server);
	else
		wd_event(dc->d, dc->c, "data_check", dc->side[1].server, "%s", line);
	json_decref(j);
	if (st == DC_PASSED && dc->release_ref) {
		const struct server *ref = daemon_server(dc->d, dc->side[0].server);
		if (ref)
			db_run1(dc->side[0].db, server_flavor(ref)->sql[SQL_START_REPLICA], dc->d->cfg->query_timeout_ms,
				ref_released, dc);
	}
}

void datacheck_give_up(struct datacheck *dc, const char *why)
{
	if (dc->state != DC_OPENING)
		return;
	dc->settled = NULL;
	settle(dc, DC_NOT_ARMED, why);
}

void datacheck_stop(struct datacheck *dc, const char *why)
{
	if (dc && dc->state == DC_RUNNING)
		finish(dc, DC_INCOMPLETE, why);
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
		side_reset(&dc->side[i]);
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
