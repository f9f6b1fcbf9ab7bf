/* sync: the candidate applies up to the fence point, and its position must contain it. */
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
/* sync */

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
	sw_phase_next(sw);
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

