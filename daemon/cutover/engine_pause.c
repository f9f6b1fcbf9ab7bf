/* Pausing a cutover between two steps (engine.h): the pause the operator asked for, its limit
 * (a pause left alone rolls back) and resume. */
#include "daemon.h"
#include "engine.h"
#include "journal.h"
#include "util.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

bool sw_pause_blocks_writes(const struct switchover *sw)
{
	return sw->failover || sw->fence_started;
}

/* A pause left alone past its limit is rolled back: nobody holds a switchover forever, least
 * of all with writes blocked. */
static void pause_expired(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	char lim[24];

	event_free(sw->pause_timer);
	sw->pause_timer = NULL;
	if (sw->state != SW_PAUSED || sw->pnr)
		return;
	duration_text(sw->pause_limit_ms, lim, sizeof(lim));
	free(sw->reason);
	sw->reason = xasprintf("paused before %s for %s without resume or abort (%s)",
			       phase_names[sw->phase], lim,
			       sw->pause_timeout_ms > 0 ? "--pause-timeout"
			       : sw_pause_blocks_writes(sw) ? "blocked_pause_timeout" : "pause_timeout");
	sw->abort_requested = true;
	sw_set_state(sw, SW_RUNNING, "the pause ran past its limit");
	sw_emit(sw, "fail", "%s", sw->reason);
	sw_rollback_start(sw);
}

/* Hold before `next` until resume, abort or the pause's limit; the progress line says what
 * the pause costs: nothing before the fence, every write after it. */
void sw_pause(struct switchover *sw, enum phase next)
{
	const struct cfg_cluster *cc = sw_ccfg(sw);
	bool blocks = sw_pause_blocks_writes(sw);
	char lim[24], then[160];

	sw->pause_requested = false;
	sw->pause_before = -1;
	sw->phase = next;
	sw->step++;
	sw_set_state(sw, SW_PAUSED, "paused by the operator");
	sw->pause_limit_ms = sw->pause_timeout_ms > 0 ? sw->pause_timeout_ms
			     : blocks ? cc->blocked_pause_timeout_ms : cc->pause_timeout_ms;
	if (sw_journal(sw, JE_PAUSED, true, json_pack("{s:i}", "pause_limit_ms", sw->pause_limit_ms)) < 0) {
		sw_set_state(sw, SW_RUNNING, "the pause could not be journaled");
		sw->abort_requested = true;
		free(sw->reason);
		sw->reason = xstrdup(sw->journal_error);
		sw_should_stop(sw);
		return;
	}
	sw->paused_real_us = now_real_us();
	{
		struct timeval tv = { sw->pause_limit_ms / 1000, (sw->pause_limit_ms % 1000) * 1000 };
		sw->pause_timer = evtimer_new(sw->d->base, pause_expired, sw);
		evtimer_add(sw->pause_timer, &tv);
	}
	duration_text(sw->pause_limit_ms, lim, sizeof(lim));
	snprintf(then, sizeof(then), "`cutoverctl resume` goes on, `cutoverctl abort` rolls back; left alone %s (%s) it "
		 "rolls back on its own", lim, sw->pause_timeout_ms > 0 ? "--pause-timeout"
		 : blocks ? "blocked_pause_timeout" : "pause_timeout");
	if (sw->failover)
		sw_emit(sw, "paused", "paused before %s; WRITES ARE DOWN while it waits: %s is dead and nothing was "
			"promoted yet. %s", phase_names[next], sw->old_name, then);
	else if (blocks)
		sw_emit(sw, "paused", "paused before %s with WRITES BLOCKED: %s is read-only%s and the routers send it "
			"no new work, so every write fails or waits for as long as this pause lasts. %s",
			phase_names[next], sw->old_name, sw->holding ? ", its commits held," : "", then);
	else
		sw_emit(sw, "paused", "paused before %s; nothing is blocked: %s takes writes and the routers send them "
			"there as before (resuming runs catchup again first). %s", phase_names[next], sw->old_name, then);
}

/* Resuming before the fence catches the candidate up again first: the lag it gained while
 * paused must not lengthen the write-blocked window. */
void sw_resume(struct switchover *sw)
{
	enum phase ph = sw->phase;

	sw_set_state(sw, SW_RUNNING, "resumed by the operator");
	sw_journal(sw, JE_RESUMED, false, NULL);
	if (ph == PH_FENCE && !sw->fence_started && plan_index(sw->plan, PH_CATCHUP) >= 0)
		ph = PH_CATCHUP;
	sw_phase_begin(sw, ph);
}
