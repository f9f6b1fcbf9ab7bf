/* A read shift through ProxySQL (see shift.h): its options parsed, what it says, abort, pause
 * and resume.  The steps: shift_steps.c; the start: shift_start.c; a restart: shift_recover.c. */
#include "shift_impl.h"
#include "ha.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sh_state_names[] = { "running", "paused", "rolling_back", "done", "rolled_back", "failed" };

/* ------------------------------------------------------------------------------------------ */
/* parsing */

int shift_parse_steps(const char *s, int *steps, size_t *n, char *err, size_t errlen)
{
	char *copy = xstrdup(s ? s : ""), *rest = copy, *item;
	long long v, prev = 0;

	*n = 0;
	while ((item = strsep(&rest, ","))) {
		item = trim(item);
		if (*item && item[strlen(item) - 1] == '%')
			item[strlen(item) - 1] = '\0';
		if (!parse_ll(item, 1, 100, &v)) {
			snprintf(err, errlen, "steps: '%s' is not a share from 1 to 100 (e.g. 5,10,25,50,100)", item);
			goto bad;
		}
		if (v <= prev) {
			snprintf(err, errlen, "steps: %lld after %lld: each step must be larger than the one before", v, prev);
			goto bad;
		}
		if (*n == SHIFT_MAX_STEPS) {
			snprintf(err, errlen, "steps: at most %d", SHIFT_MAX_STEPS);
			goto bad;
		}
		steps[(*n)++] = (int)v;
		prev = v;
	}
	if (!*n) {
		snprintf(err, errlen, "steps: none given (e.g. 5,10,25,50,100)");
		goto bad;
	}
	free(copy);
	return 0;
bad:
	free(copy);
	return -1;
}

int shift_parse_gates(const char *s, struct shift_gates *g, char *err, size_t errlen)
{
	char *copy = xstrdup(s ? s : ""), *rest = copy, *item;

	g->error_rate = -1;
	g->p95_ms = g->lag_ms = -1;
	while ((item = strsep(&rest, ","))) {
		char *lt = strchr(item, '<'), *name, *val;
		long long ms;
		item = trim(item);
		if (!*item)
			continue;
		if (!lt) {
			snprintf(err, errlen, "gate '%s': not NAME<LIMIT (error_rate<1%%, p95<500ms, lag<1s)", item);
			goto bad;
		}
		*lt = '\0';
		name = trim(item);
		val = trim(lt + 1);
		if (!strcmp(name, "error_rate")) {
			char *end;
			double x = strtod(val, &end);
			if (end == val || (*end && strcmp(end, "%")) || x < 0 || x > 100) {
				snprintf(err, errlen, "gate error_rate: '%s' is not a share (e.g. 1%%)", val);
				goto bad;
			}
			g->error_rate = *end ? x / 100.0 : x;
		} else if (!strcmp(name, "p95") || !strcmp(name, "lag")) {
			if (!parse_duration_ms(val, 1, &ms) || ms < 1 || ms > 3600000) {
				snprintf(err, errlen, "gate %s: '%s' is not a duration (e.g. 500ms, 2s)", name, val);
				goto bad;
			}
			*(!strcmp(name, "p95") ? &g->p95_ms : &g->lag_ms) = (int)ms;
		} else {
			snprintf(err, errlen, "gate '%s': unknown (error_rate, p95 or lag)", name);
			goto bad;
		}
	}
	free(copy);
	return 0;
bad:
	free(copy);
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* what it says */

const char *sh_cluster_name(const struct shift *sh)
{
	return sh->c->cfg->name;
}

int sh_step_pct(const struct shift *sh)
{
	return sh->idx < sh->o.n_steps ? sh->o.steps[sh->idx] : 0;
}

void sh_emit(struct shift *sh, const char *status, const char *fmt, ...)
{
	struct log_ctx ctx = { sh_cluster_name(sh), NULL, "shift", sh->id };
	char msg[1024], ts[40];
	va_list ap;
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iso_time(now_real_us(), ts, sizeof(ts));
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "ts", ts, "id", sh->id, "cluster",
		      sh_cluster_name(sh), "kind", "read_shift", "phase", "shift", "status", status, "percent", sh_step_pct(sh),
		      "elapsed_ms",
		      (double)(now_mono_us() - sh->started_us) / 1000.0, "message", msg);
	log_ctx(!strcmp(status, "fail") ? LOG_ERR : !strcmp(status, "warn") ? LOG_WARNING : LOG_NOTICE, &ctx, "%s", msg);
	if (sh->cl && !client_gone(sh->cl))
		client_send(sh->cl, proto_stream_line(sh->req_id, "progress", json_deep_copy(p)));
	json_object_set_new(p, "type", json_string("cutover"));
	daemon_publish(sh->d, p);
	json_decref(p);
}

int sh_jrnl(struct shift *sh, enum journal_event ev, bool durable, json_t *extra)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sh->id, "cluster", sh_cluster_name(sh), "event",
			      journal_event_name(ev), "kind", "read_shift", "new", sh->target);
	int rc = 0;

	json_object_set_new(e, "old", json_null());   /* history's old_primary: a shift has none */
	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (sh->journal && journal_append(sh->journal, e, durable) < 0) {
		struct log_ctx ctx = { sh_cluster_name(sh), NULL, "shift", sh->id };
		log_ctx(LOG_ERR, &ctx, "the journal cannot record '%s': %s", journal_event_name(ev), strerror(errno));
		rc = -1;
	}
	json_decref(e);
	return rc;
}

const char *shift_id(const struct shift *sh)
{
	return sh->id;
}

const char *shift_summary(const struct shift *sh)
{
	static char buf[200];
	snprintf(buf, sizeof(buf), "read shift %s to %s: %d%% (step %zu of %zu, %s)", sh->id, sh->target, sh_step_pct(sh),
		 sh->idx + 1, sh->o.n_steps, sh_state_names[sh->state]);
	return buf;
}

bool shift_active(const struct shift *sh)
{
	return sh && (sh->state == SH_RUNNING || sh->state == SH_PAUSED || sh->state == SH_ROLLING_BACK);
}

json_t *shift_json(const struct shift *sh)
{
	json_t *steps = json_array();
	size_t i;

	for (i = 0; i < sh->o.n_steps; i++)
		json_array_append_new(steps, json_integer(sh->o.steps[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:i, s:s?, s:O}", "id", sh->id, "kind", "read_shift",
			 "target", sh->target, "state", sh_state_names[sh->state], "percent", sh_step_pct(sh), "in_force",
			 sh->in_force, "steps", steps, "hold_ms", sh->o.hold_ms, "reason", sh->reason, "done",
			 sh->steps_done ? sh->steps_done : json_null());
}

/* ------------------------------------------------------------------------------------------ */
/* abort, pause, resume */

int shift_abort(struct shift *sh, char *err, size_t errlen)
{
	if (!shift_active(sh) || sh->state == SH_ROLLING_BACK) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->abort_requested = true;
	if (sh->state == SH_PAUSED)
		sh->state = SH_RUNNING;
	sh_emit(sh, "warn", "abort requested: the shift rolls back to 0%%");
	return 0;
}

int shift_pause(struct shift *sh, char *err, size_t errlen)
{
	if (!sh || sh->state != SH_RUNNING) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->state = SH_PAUSED;
	sh->paused_us = now_mono_us();
	sh_jrnl(sh, JE_PAUSED, false, NULL);
	sh_emit(sh, "ok", "paused at %d%%: the gates are still watched; resume to go on", sh_step_pct(sh));
	return 0;
}

int shift_resume(struct shift *sh, char *err, size_t errlen)
{
	if (!sh || sh->state != SH_PAUSED) {
		snprintf(err, errlen, "the read shift is %s", sh ? sh_state_names[sh->state] : "not running");
		return -1;
	}
	sh->state = SH_RUNNING;
	sh_jrnl(sh, JE_RESUMED, false, NULL);
	sh_emit(sh, "ok", "resumed at %d%%", sh_step_pct(sh));
	return 0;
}

void shift_free(struct shift *sh)
{
	if (!sh)
		return;
	ha_journal_forget(sh->d->ha, sh);
	if (sh->cl)
		client_release(sh->cl);
	json_decref(sh->req_id);
	if (sh->timer)
		event_free(sh->timer);
	db_free(sh->db);
	psql_plan_free(&sh->plan);
	psql_snapshot_free(&sh->snap);
	json_decref(sh->snap_rows);
	json_decref(sh->steps_done);
	journal_close(sh->journal);
	free(sh->reason);
	free(sh->target);
	free(sh->router);
	free(sh);
}

void shift_rebind(struct shift *sh, struct cluster *c)
{
	if (sh)
		sh->c = c;
}
