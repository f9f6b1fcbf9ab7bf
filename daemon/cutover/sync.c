/* sync: the candidate applies up to the fence point, and its position must contain it. */
#include "daemon.h"
#include "datacheck.h"
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
/* sync */

#define DC_SYNC_WAIT_MS 200

static void dc_wait_over(evutil_socket_t fd, short what, void *arg);

static void synced_check(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *pos = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	int has;

	if (!pos) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->new_name, res->err ? res->errmsg : "no value");
		db_result_free(res);
		return;
	}
	has = gtid_str_contains(sw_gtid_kind_of(sw->cand), pos, sw->fence_point);
	if (has != 1) {
		sw_phase_failed(sw, "%s's position %s does not contain the fence point %s", sw->new_name, pos,
			     sw->fence_point);
		db_result_free(res);
		return;
	}
	sw_emit(sw, "ok", "%s has every transaction up to the fence point (%s)", sw->new_name, pos);
	db_result_free(res);
	if (sw_should_stop(sw))
		return;
	if (sw->dc && !datacheck_settled(sw->dc)) {
		sw->sync_waits_dc = true;   /* dc_settled goes on, or dc_wait_over */
		sw_timer_arm(sw, DC_SYNC_WAIT_MS, dc_wait_over);
		return;
	}
	sw_phase_next(sw);
}

/* Writes are blocked: the data check's snapshots get a moment, not the sync timeout. */
static void dc_wait_over(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;

	if (!sw->sync_waits_dc || sw->state != SW_RUNNING || sw->phase != PH_SYNC)
		return;
	char why[200];

	snprintf(why, sizeof(why), "the snapshots were not open %d ms after %s reached the fence point", DC_SYNC_WAIT_MS,
		 sw->new_name);
	sw_emit(sw, "warn", "data check: %s; the switchover goes on without it", why);
	datacheck_give_up(sw->dc, why);   /* the report says why it did not run */
	sw->sync_waits_dc = false;
	sw_phase_next(sw);
}

/* The data check's snapshots are open (or could not be): say so, and go on if sync waited. */
static void dc_settled(void *arg)
{
	struct switchover *sw = arg;

	if (datacheck_armed(sw->dc))
		sw_emit(sw, "ok", "data check: snapshots at the fence point are open on %s and %s", sw->old_name,
			sw->new_name);
	else
		sw_emit(sw, "warn", "data check: %s; the switchover goes on without it", datacheck_why(sw->dc));
	if (!sw->sync_waits_dc || sw->state != SW_RUNNING || sw->phase != PH_SYNC)
		return;
	sw->sync_waits_dc = false;
	sw_timer_stop(sw);
	sw_phase_next(sw);
}

/* data_check = on, or auto for an upgrade; never in a dry run (nothing is fenced).  Its
 * sessions connect before the fence (catchup.c). */
void sw_datacheck_prepare(struct switchover *sw)
{
	enum data_check_mode m = sw_ccfg(sw)->data_check;
	if (sw->dc || sw->dry_run || sw->failover || !(m == DATA_CHECK_ON || (m == DATA_CHECK_AUTO && sw->upgrade)))
		return;
	sw->dc = datacheck_new(sw->d, sw->c, sw->id, sw->old, sw->cand);
}

static void synced(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (!v || strcmp(v, "0")) {
		sw_phase_failed(sw, "%s did not reach the fence point within %d ms%s%s", sw->new_name, sw->sync_timeout_ms,
			     res->err ? ": " : "", res->err ? res->errmsg : "");
		db_result_free(res);
		return;
	}
	db_result_free(res);
	sw_db_run1(sw, sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, synced_check);
}

void enter_sync(struct switchover *sw)
{
	char *q = xasprintf(sw_flavor_of(sw->cand)->sql[SQL_WAIT_GTID], sw->fence_point, sw->sync_timeout_ms / 1000.0);

	/* beside the wait below: the candidate's snapshot opens as it reaches the fence point */
	if (sw->dc)
		datacheck_open(sw->dc, sw->fence_point, sw->sync_timeout_ms, dc_settled, sw);
	/* the server answers -1 at its own timeout; ours is a little later, for a hung server */
	sw_db_run1(sw, sw->db_cand, q, sw->sync_timeout_ms + 100 + sw->sync_timeout_ms / 10, synced);
	free(q);
}

/* sync: apply the relay log */

static void f_applied_pos(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *pos = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (!pos) {
		sw_phase_failed(sw, "reading %s's position: %s", sw->new_name, res->err ? res->errmsg : "no value");
		db_result_free(res);
		return;
	}
	free(sw->fence_point);
	sw->fence_point = xstrdup(pos);   /* for a failover: everything the new primary starts from */
	sw_emit(sw, "ok", "%s applied everything it received: %s", sw->new_name, pos);
	db_result_free(res);
	sw_phase_next(sw);
}

static void f_relay_applied(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *v = res->err ? NULL : rowset_at(res->rs[0], 0, 0);

	if (!v || strcmp(v, "0")) {
		sw_phase_failed(sw, "%s did not apply its relay log within %d ms%s%s", sw->new_name, sw->sync_timeout_ms,
				res->err ? ": " : "", res->err ? res->errmsg : "");
		db_result_free(res);
		return;
	}
	db_result_free(res);
	sw_db_run1(sw, sw->db_cand, sw_flavor_of(sw->cand)->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, f_applied_pos);
}

static void f_io_stopped(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	struct repl_status r;
	const char *received;

	if (res->err) {
		sw_phase_failed(sw, "stopping %s's IO thread: %s", sw->new_name, res->errmsg);
		db_result_free(res);
		return;
	}
	sw->cand_io_stopped = true;
	memset(&r, 0, sizeof(r));
	f->parse_replica(res->rs[1], &r);
	/* MariaDB: Gtid_IO_Pos; MySQL: the retrieved set (what the relay log holds). */
	received = r.gtid_io_pos && *r.gtid_io_pos ? r.gtid_io_pos : NULL;
	if (!received) {
		sw_emit(sw, "info", "%s received nothing to apply", sw->new_name);
		free(r.gtid_io_pos);
		free(r.executed_gtid);
		db_result_free(res);
		sw_db_run1(sw, sw->db_cand, f->sql[SQL_FENCE_POINT], sw->d->cfg->query_timeout_ms, f_applied_pos);
		return;
	}
	{
		char *q = xasprintf(f->sql[SQL_WAIT_GTID], received, sw->sync_timeout_ms / 1000.0);
		sw_emit(sw, "info", "%s applies its relay log up to %s", sw->new_name, received);
		sw_db_run1(sw, sw->db_cand, q, sw->sync_timeout_ms + 1000, f_relay_applied);
		free(q);
	}
	free(r.gtid_io_pos);
	free(r.executed_gtid);
	db_result_free(res);
}

void f_enter_sync(struct switchover *sw)
{
	const struct flavor_ops *f = sw_flavor_of(sw->cand);
	const char *q[2] = { f->id == FLAVOR_MARIADB ? "STOP SLAVE IO_THREAD" : "STOP REPLICA IO_THREAD",
			     f->sql[SQL_REPLICA_STATUS] };
	sw_db_run(sw, sw->db_cand, q, 2, sw_ccfg(sw)->promote_timeout_ms, f_io_stopped);
}

