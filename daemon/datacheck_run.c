/* The data check's comparison (datacheck.h): the tables listed on the reference, then chunk by
 * chunk the checksums on both sides, paced by data_check_rate and stopped by a metadata-lock
 * waiter or data_check_timeout; and its end (journal, event, releasing the reference). */
#include "datacheck.h"
#include "datacheck_impl.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
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

static void next_chunk(struct datacheck *dc);
static void finish(struct datacheck *dc, enum dc_state st, const char *why);

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
			struct log_ctx ctx = dc_lctx(dc);
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
	struct dc_side *s = &dc->side[dc_side_of(dc, db)];

	dc_side_result(s, res);
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
		dc_side_reset(&dc->side[i]);
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
	struct dc_side *s = &dc->side[dc_side_of(dc, db)];

	dc_side_result(s, res);
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
			dc_side_reset(&dc->side[i]);
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

void datacheck_stop(struct datacheck *dc, const char *why)
{
	if (dc && dc->state == DC_RUNNING)
		finish(dc, DC_INCOMPLETE, why);
}
