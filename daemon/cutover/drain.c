/* drain: before the fence, with writes still flowing, wait until no write statement on the old
 * primary has been running longer than the fence's budget — one would hold the fence up, and
 * every write behind it — or kill those older than kill_long_after_ms when told to.  New work is
 * never refused here: the routers are drained at the fence, inside the write-blocked window
 * (fence.c).  Gives up after drain_timeout, having changed nothing. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "event_hooks.h"
#include "gtid.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* drain */

static void long_writes_round(struct switchover *sw);

static void drain_again(evutil_socket_t fd, short what, void *arg)
{
	long_writes_round(arg);
}

/* "id 12 (app, 3.2 s: INSERT INTO …)" for up to three of them. */
static char *describe(const struct db_result *res)
{
	char *out = xstrdup("");
	size_t r;

	for (r = 0; r < res->rs[0]->nrows && r < 3; r++) {
		const char *info = rowset_at(res->rs[0], r, 3);
		char *n = xasprintf("%s%sid %s (%s, %.1f s: %s)", out, r ? "; " : "", rowset_at(res->rs[0], r, 0) ?: "?",
				    rowset_at(res->rs[0], r, 1) ?: "?", atof(rowset_at(res->rs[0], r, 2) ?: "0") / 1000.0,
				    info ? info : "");
		free(out);
		out = n;
	}
	if (res->rs[0]->nrows > 3) {
		char *n = xasprintf("%s and %zu more", out, res->rs[0]->nrows - 3);
		free(out);
		out = n;
	}
	return out;
}

static void killed_long(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	if (res->err && res->err != 1094)   /* 1094: it ended meanwhile */
		sw_emit(sw, "warn", "killing a long write on %s: %s", sw->old_name, res->errmsg);
	db_result_free(res);
	sw_timer_arm(sw, POLL_STEP_MS, drain_again);
}

/* Kill the statements of res older than kill_long_after_ms (KILL QUERY: the statement and its
 * transaction's work roll back and the client gets an error — nothing it was told is written
 * is lost); true if any. */
static bool kill_old_ones(struct switchover *sw, const struct db_result *res)
{
	const struct flavor_ops *f = sw_flavor_of(sw->old);
	char *q[16];
	size_t r, n = 0;

	for (r = 0; r < res->rs[0]->nrows && n < ARRAY_LEN(q); r++) {
		long long id;
		if (atof(rowset_at(res->rs[0], r, 2) ?: "0") < sw->kill_long_after_ms ||
		    !parse_ll(rowset_at(res->rs[0], r, 0), 1, LLONG_MAX, &id))
			continue;
		q[n++] = xasprintf(f->sql[SQL_KILL_QUERY], (unsigned long long)id);
	}
	if (!n)
		return false;
	sw_emit(sw, "warn", "killing %zu write statement%s older than %d ms on %s (kill_long_after_ms)", n,
		n == 1 ? "" : "s", sw->kill_long_after_ms, sw->old_name);
	sw_io.cancel(sw->db_kill);
	sw_db_run(sw, sw->db_kill, (const char *const *)q, n, sw->d->cfg->query_timeout_ms, killed_long);
	while (n)
		free(q[--n]);
	return true;
}

static void long_writes_listed(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	char *what;

	if (res->err) {
		sw_phase_failed(sw, "listing the write statements running on %s: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	if (sw_should_stop(sw)) {
		db_result_free(res);
		return;
	}
	if (res->rs[0]->nrows == 0) {
		if (sw->long_writes_seen)
			sw_emit(sw, "ok", "no write statement on %s runs longer than the fence budget (%d ms) any more",
				sw->old_name, sw_ccfg(sw)->fence_budget_ms);
		db_result_free(res);
		sw_phase_next(sw);
		return;
	}
	what = describe(res);
	if (sw->kill_long_after_ms > 0 && kill_old_ones(sw, res)) {
		free(what);
		db_result_free(res);
		return;
	}
	if (now_mono_us() >= sw->deadline_us) {
		sw_phase_failed(sw, "%zu write statement%s still running on %s after %d ms, each would hold the fence up: "
				"%s; wait for them, or pass kill_long_after_ms (--kill-long-transactions)",
				res->rs[0]->nrows, res->rs[0]->nrows == 1 ? "" : "s", sw->old_name, sw->drain_timeout_ms,
				what);
		free(what);
		db_result_free(res);
		return;
	}
	/* said once, then again only when what it waits for changed */
	if (!sw->long_writes_seen || strcmp(sw->long_writes_seen, what)) {
		char *ids = xstrdup(what);
		sw_emit(sw, "info", "waiting, writes flowing, for %zu write statement%s on %s: %s", res->rs[0]->nrows,
			res->rs[0]->nrows == 1 ? "" : "s", sw->old_name, what);
		free(sw->long_writes_seen);
		sw->long_writes_seen = ids;
	}
	free(what);
	db_result_free(res);
	sw_timer_arm(sw, 50, drain_again);
}

void sw_list_long_writes(struct switchover *sw, void (*fn)(struct db *, struct db_result *, void *))
{
	char *q = xasprintf(sw_flavor_of(sw->old)->sql[SQL_LONG_WRITES], sw_ccfg(sw)->fence_budget_ms);
	sw_db_run1(sw, sw->db_old, q, sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms, fn);
	free(q);
}

static void long_writes_round(struct switchover *sw)
{
	sw_list_long_writes(sw, long_writes_listed);
}

void enter_drain(struct switchover *sw)
{
	sw->deadline_us = now_mono_us() + (int64_t)sw->drain_timeout_ms * 1000;
	long_writes_round(sw);
}
