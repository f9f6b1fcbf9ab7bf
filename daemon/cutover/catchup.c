/* catchup: while writes still flow, wait until the candidate applies the primary's position
 * within catchup_lag ms, so the write-blocked window does not grow with the lag the candidate
 * had when the command was given. */
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
/* catchup: while writes flow, wait until the candidate is within catchup_lag of the primary */

static void catchup_round(struct switchover *sw);

static void catchup_waited(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	double took = sw_ms_since(sw->catchup_started_us);

	if (res->err || !v || strcmp(v, "0")) {
		bool timeout = !res->err && v && strcmp(v, "0");
		sw_phase_failed(sw, "%s did not catch up with %s: %s", sw->new_name, sw->old_name,
			     timeout ? "still behind at the catch-up deadline" : res->errmsg);
		db_result_free(res);
		return;
	}
	db_result_free(res);
	if (sw_should_stop(sw))
		return;
	if (took <= sw_ccfg(sw)->catchup_lag_ms) {
		sw_emit(sw, "ok", "%s reached the primary's position %.1f ms after it was read (limit %d ms)",
		     sw->new_name, took, sw_ccfg(sw)->catchup_lag_ms);
		sw_phase_next(sw);
		return;
	}
	sw_emit(sw, "info", "%s needed %.1f ms to reach the primary's position; again", sw->new_name, took);
	catchup_round(sw);
}

static void catchup_pos(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *fc = sw_flavor_of(sw->cand);
	int64_t left_ms = (sw->deadline_us - now_mono_us()) / 1000;
	char *q;

	if (res->err) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->old_name, res->errmsg);
		db_result_free(res);
		return;
	}
	if (left_ms <= 0) {
		sw_phase_failed(sw, "%s did not catch up within %d ms", sw->new_name, sw_ccfg(sw)->catchup_timeout_ms);
		db_result_free(res);
		return;
	}
	sw->catchup_started_us = now_mono_us();
	q = xasprintf(fc->sql[SQL_WAIT_GTID], rowset_at(res->rs[0], 0, 0) ? rowset_at(res->rs[0], 0, 0) : "",
		      (double)left_ms / 1000.0);
	db_result_free(res);
	sw_db_run1(sw, sw->db_cand, q, (int)left_ms + 1000, catchup_waited);
	free(q);
}

static void catchup_round(struct switchover *sw)
{
	sw_db_run1(sw, sw->db_old, sw_flavor_of(sw->old)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, catchup_pos);
}

void enter_catchup(struct switchover *sw)
{
	sw_datacheck_prepare(sw);
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->catchup_timeout_ms * 1000;
	if (sw_ccfg(sw)->catchup_timeout_ms <= 0)
		sw->deadline_us = now_mono_us() + 60000 * 1000LL;
	catchup_round(sw);
}

