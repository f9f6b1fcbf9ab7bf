/* The plans: each kind of cutover as a table of steps, in order.  A step names its phase, the
 * function that starts it, whether its journal entry must reach the disk before it acts, and
 * the deadline the engine holds it to as a whole (each statement inside has its own as well).
 *
 *   switchover  preflight → drain → catchup → fence → sync → promote → verify
 *   failover    preflight → fence → sync → promote → verify   (the old primary is dead)
 *
 * What each step does is in its own file (preflight.c, drain.c, …); the undo of everything a
 * step changed is the one chain in rollback.c; engine.c runs the plan. */
#include "daemon.h"
#include "engine.h"
#include "util.h"

#include <stddef.h>

static int connect_query_ms(const struct switchover *sw)
{
	return sw->d->cfg->connect_timeout_ms + sw->d->cfg->query_timeout_ms;
}

static int preflight_deadline(const struct switchover *sw)
{
	int hooks = 0;
	const struct cfg_cluster *cc = sw_ccfg(sw);
	while (cc->preflight_hooks && cc->preflight_hooks[hooks])
		hooks++;
	return 2 * connect_query_ms(sw) + hooks * cc->hook_timeout_ms + 1000;
}

static int drain_deadline(const struct switchover *sw)
{
	return sw->drain_timeout_ms + 2 * connect_query_ms(sw) + 1000;
}

static int catchup_deadline(const struct switchover *sw)
{
	int t = sw_ccfg(sw)->catchup_timeout_ms > 0 ? sw_ccfg(sw)->catchup_timeout_ms : 60000;
	return t + connect_query_ms(sw) + 2000;
}

static int fence_deadline(const struct switchover *sw)
{
	return sw_ccfg(sw)->fence_timeout_ms + connect_query_ms(sw) + 1000;
}

/* SQL, then the fence hook, then STONITH, one after the other */
static int failover_fence_deadline(const struct switchover *sw)
{
	return fence_deadline(sw) + 2 * sw_ccfg(sw)->hook_timeout_ms + 1000;
}

static int sync_deadline(const struct switchover *sw)
{
	return sw->sync_timeout_ms + sw->sync_timeout_ms / 10 + connect_query_ms(sw) + 1000;
}

/* writable, the routers, detach, the followers, the routers again: one after the other */
static int promote_deadline(const struct switchover *sw)
{
	return 4 * sw_ccfg(sw)->promote_timeout_ms + 2 * connect_query_ms(sw) + 1000;
}

static int verify_deadline(const struct switchover *sw)
{
	return 2 * sw_ccfg(sw)->promote_timeout_ms + connect_query_ms(sw) + 1000;
}

static const struct step switchover_steps[] = {
	{ PH_PREFLIGHT, enter_preflight, false, preflight_deadline },
	{ PH_DRAIN, enter_drain, true, drain_deadline },
	{ PH_CATCHUP, enter_catchup, true, catchup_deadline },
	{ PH_FENCE, enter_fence, true, fence_deadline },
	/* inside the write-blocked window the write is checked but not fsync'd; the point of no
	 * return has its own durable entry (enter_promote) */
	{ PH_SYNC, enter_sync, false, sync_deadline },
	{ PH_PROMOTE, enter_promote, false, promote_deadline },
	{ PH_VERIFY, enter_verify, false, verify_deadline },
};

static const struct step failover_steps[] = {
	{ PH_PREFLIGHT, f_enter_preflight, false, preflight_deadline },
	{ PH_FENCE, f_enter_fence, true, failover_fence_deadline },
	{ PH_SYNC, f_enter_sync, true, sync_deadline },
	{ PH_PROMOTE, enter_promote, false, promote_deadline },
	{ PH_VERIFY, enter_verify, false, verify_deadline },
};

const struct plan plan_switchover = { "switchover", switchover_steps, ARRAY_LEN(switchover_steps) };
const struct plan plan_failover = { "failover", failover_steps, ARRAY_LEN(failover_steps) };

int plan_index(const struct plan *p, enum phase ph)
{
	size_t i;
	for (i = 0; i < p->n; i++)
		if (p->steps[i].phase == ph)
			return (int)i;
	return -1;
}
