/* drain: the routers stop sending new work to the old primary; wait up to drain_timeout for
 * its sessions to leave. */
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

static void drain_wait(evutil_socket_t fd, short what, void *arg);

static int old_sessions(const struct switchover *sw)
{
	size_t i;
	int n = 0;
	for (i = 0; i < sw->c->n_routers; i++) {
		const struct router_backend *b = router_find(&sw->c->routers[i]->view, sw->old_name, true);
		if (b)
			n += b->sessions;
	}
	return n;
}

static void drain_polled(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (err)
		sw_set_failure(sw, "router %s: %s", r->cfg->name, msg ? msg : "poll failed");
	if (--sw->pending)
		return;
	if (sw_should_stop(sw))
		return;
	if (old_sessions(sw) == 0) {
		sw_emit(sw, "ok", "no session left on %s", sw->old_name);
		sw_phase_next(sw);
		return;
	}
	if (now_mono_us() >= sw->deadline_us) {
		sw_emit(sw, "info", "%d session%s still open on %s after %d ms; they are cut at the fence", old_sessions(sw),
		     old_sessions(sw) == 1 ? "" : "s", sw->old_name, sw->drain_timeout_ms);
		sw_phase_next(sw);
		return;
	}
	sw_timer_arm(sw, POLL_STEP_MS, drain_wait);
}

static void drain_wait(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->pending = sw_routers_each(sw, 0, drain_polled);
	if (!sw->pending)
		sw_phase_next(sw);
}

static void drained(struct router *r, int err, const char *msg, void *arg)
{
	struct switchover *sw = arg;
	if (err)
		sw_set_failure(sw, "router %s could not drain %s: %s", r->cfg->name, sw->old_name, msg ? msg : "?");
	else
		sw_emit(sw, "ok", "router %s: %s drained", r->cfg->name, sw->old_name);
	if (--sw->pending)
		return;
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	sw->deadline_us = now_mono_us() + (int64_t)sw->drain_timeout_ms * 1000;
	drain_wait(-1, 0, sw);
}

void enter_drain(struct switchover *sw)
{
	sw->drained = true;   /* from here on, rollback restores the routers */
	sw->pending = sw_routers_each(sw, ROUTER_OP(drain), drained);
	if (!sw->pending)
		sw_phase_next(sw);
}

