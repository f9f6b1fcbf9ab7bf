/* The API commands that steer a running cutover: abort, pause, resume, and resolve for one that
 * was interrupted.  With no switchover running, abort, pause and resume go to a running read shift
 * or tenant move. */
#include "cmd_impl.h"
#include "control.h"
#include "daemon.h"
#include "engine.h"
#include "shift.h"
#include "switchover.h"
#include "tenant.h"
#include "util.h"

#include <stdbool.h>
#include <string.h>

/* abort, pause and resume act on a running tenant move or read shift when no switchover runs: true when
 * the request went there (answered). */
static bool shift_command(struct cluster *c, struct client *cl, const struct request *req)
{
	char err[300];
	int rc;

	if (c->cutover && switchover_active(c->cutover))
		return false;
	if (c->tenants && tenant_active(c->tenants)) {
		rc = !strcmp(req->cmd, "abort") ? tenant_abort(c->tenants, err, sizeof(err))
		     : !strcmp(req->cmd, "pause") ? tenant_pause(c->tenants, err, sizeof(err))
						  : tenant_resume(c->tenants, err, sizeof(err));
		if (rc < 0)
			client_reply_err(cl, req->id, ERR_BADSTATE, "%s", err);
		else
			client_reply_ok(cl, req->id, tenant_json(c->tenants));
		return true;
	}
	if (!c->shift || !shift_active(c->shift))
		return false;
	rc = !strcmp(req->cmd, "abort") ? shift_abort(c->shift, err, sizeof(err))
	     : !strcmp(req->cmd, "pause") ? shift_pause(c->shift, err, sizeof(err))
					  : shift_resume(c->shift, err, sizeof(err));
	if (rc < 0)
		client_reply_err(cl, req->id, ERR_BADSTATE, "%s", err);
	else
		client_reply_ok(cl, req->id, shift_json(c->shift));
	return true;
}

static struct switchover *running(struct daemon *d, struct client *cl, const struct request *req, struct cluster **cp)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	if (!c)
		return NULL;
	*cp = c;
	if (shift_command(c, cl, req))
		return NULL;
	if (!c->cutover || !switchover_active(c->cutover)) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "no switchover is running on cluster %s", c->cfg->name);
		return NULL;
	}
	return c->cutover;
}

void cmd_abort(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c;
	struct switchover *sw = running(d, cl, req, &c);
	if (!sw)
		return;
	if (sw->pnr) {
		client_reply_err(cl, req->id, ERR_BADSTATE,
				 "switchover %s is past the point of no return (%s is writable); it cannot be aborted — "
				 "let it finish, then switch back", sw->id, sw->new_name);
		return;
	}
	if (sw->state == SW_ROLLING_BACK) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "switchover %s is already rolling back", sw->id);
		return;
	}
	client_reply_ok(cl, req->id, json_pack("{s:s, s:s, s:s}", "id", sw->id, "phase", phase_names[sw->phase],
					       "action", "rolling back"));
	sw->abort_requested = true;
	if (sw->state == SW_PAUSED) {
		sw_set_state(sw, SW_RUNNING, "aborted while paused");
		sw_should_stop(sw);
		return;
	}
	/* Waits that may last (drain, catch-up, sync) are cut short; quick steps finish first. */
	if (sw->phase == PH_DRAIN || sw->phase == PH_CATCHUP || sw->phase == PH_SYNC) {
		if (sw->phase == PH_SYNC)
			sw->rec[PH_SYNC].end_us = now_mono_us();
		sw_should_stop(sw);
	}
}

void cmd_pause(struct daemon *d, struct client *cl, const struct request *req)
{
	static const char *const pause_arg[] = { "pause_timeout_ms", NULL };
	struct cluster *c;
	struct switchover *sw;
	int limit;

	if (!cmd_args_in_range(cl, req, pause_arg, 1000, 86400000))
		return;
	sw = running(d, cl, req, &c);
	if (!sw)
		return;
	if (sw->pnr || sw->phase >= PH_PROMOTE) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "switchover %s is past the last phase it can pause before", sw->id);
		return;
	}
	if (sw->state == SW_PAUSED) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "switchover %s is already paused before %s", sw->id,
				 phase_names[sw->phase]);
		return;
	}
	sw->pause_requested = true;
	sw->pause_timeout_ms = cmd_arg_int(req, "pause_timeout_ms", sw->pause_timeout_ms);
	/* the phase now running ends before the pause: past the fence if it is the fence */
	limit = sw->pause_timeout_ms > 0 ? sw->pause_timeout_ms
		: sw->failover || sw->phase >= PH_FENCE ? c->cfg->blocked_pause_timeout_ms : c->cfg->pause_timeout_ms;
	client_reply_ok(cl, req->id, json_pack("{s:s, s:s, s:b, s:i}", "id", sw->id, "pausing_after",
					       phase_names[sw->phase], "writes_blocked",
					       sw->failover || sw->phase >= PH_FENCE, "pause_limit_ms", limit));
}

void cmd_resume(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c;
	struct switchover *sw = running(d, cl, req, &c);
	if (!sw)
		return;
	if (sw->state != SW_PAUSED) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "switchover %s is not paused (%s)", sw->id,
				 state_names[sw->state]);
		return;
	}
	client_reply_ok(cl, req->id, json_pack("{s:s, s:s}", "id", sw->id, "resuming", phase_names[sw->phase]));
	sw_resume(sw);
}

void cmd_resolve(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c = cmd_pick_cluster(d, cl, req);
	struct switchover *sw;
	if (!c)
		return;
	sw = c->cutover;
	if (!sw || sw->state != SW_INTERRUPTED) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "cluster %s has no interrupted switchover to resolve",
				 c->cfg->name);
		return;
	}
	sw_journal(sw, JE_RESOLVED, true, json_pack("{s:i}", "by_uid", (int)client_uid(cl)));
	client_reply_ok(cl, req->id, json_pack("{s:s, s:s}", "id", sw->id, "resolved", c->cfg->name));
	c->cutover = NULL;
	switchover_free(sw);
}
