/* Per-tenant cutovers through ProxySQL: the move as a whole — the tenants' order, what it
 * says, its end, abort, pause and resume (see tenant.h).  The batches: tenant_batch.c. */
#include "tenant_impl.h"
#include "ha.h"
#include "stats.h"
#include "shift.h"
#include "topology.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const tm_state_names[] = { "checking", "running", "paused", "done", "stopped", "failed", "refused" };
const char *const tm_step_names[] = { "prepare", "tables", "catchup", "fence", "cut", "sync", "verify", "probe",
				      "release", "idle" };
const char *const tt_names[] = { "pending", "moved", "rolled_back", "skipped" };

/* ------------------------------------------------------------------------------------------ */
/* ordering */

int tenant_order(const char *const *names, const char *const *tiers, size_t n, const char *const *order,
		 size_t n_order, size_t *idx, char *err, size_t errlen)
{
	size_t i, k, out = 0;

	for (i = 0; i < n; i++) {
		if (!names[i] || !*names[i] || strlen(names[i]) > 64) {
			snprintf(err, errlen, "tenant %zu: a name of 1 to 64 characters is required", i + 1);
			return -1;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(names[i], names[k])) {
				snprintf(err, errlen, "tenant %s is listed twice", names[i]);
				return -1;
			}
	}
	if (!n_order) {
		for (i = 0; i < n; i++)
			idx[i] = i;
		return 0;
	}
	for (k = 0; k < n_order; k++) {
		size_t j;
		for (j = 0; j < k; j++)
			if (!strcmp(order[j], order[k])) {
				snprintf(err, errlen, "tier order: '%s' is listed twice", order[k]);
				return -1;
			}
	}
	for (i = 0; i < n; i++) {
		const char *t = tiers ? tiers[i] : NULL;
		for (k = 0; k < n_order && (!t || strcmp(t, order[k])); k++)
			;
		if (k == n_order) {
			if (t)
				snprintf(err, errlen, "tenant %s: its tier '%s' is not in the tier order given", names[i], t);
			else
				snprintf(err, errlen, "tenant %s has no tier, and a tier order is given (NAME:TIER)", names[i]);
			return -1;
		}
	}
	for (k = 0; k < n_order; k++)
		for (i = 0; i < n; i++)
			if (tiers[i] && !strcmp(tiers[i], order[k]))
				idx[out++] = i;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* what it says */

static const char *cluster_name(const struct tenant_move *m)
{
	return m->c->cfg->name;
}

void tm_emit(struct tenant_move *m, const char *status, const char *fmt, ...)
{
	struct log_ctx ctx = { cluster_name(m), NULL, "tenant", m->id };
	char msg[1200], ts[40];
	va_list ap;
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iso_time(now_real_us(), ts, sizeof(ts));
	p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s}", "ts", ts, "id", m->id, "cluster", cluster_name(m),
		      "kind", "tenant_move", "phase", tm_step_names[m->step], "status", status, "batch", m->batches,
		      "elapsed_ms", (double)(now_mono_us() - m->started_us) / 1000.0, "message", msg);
	log_ctx(!strcmp(status, "fail") ? LOG_ERR : !strcmp(status, "warn") ? LOG_WARNING : LOG_NOTICE, &ctx, "%s", msg);
	if (m->cl && !client_gone(m->cl))
		client_send(m->cl, proto_stream_line(m->req_id, "progress", json_deep_copy(p)));
	json_object_set_new(p, "type", json_string("cutover"));
	daemon_publish(m->d, p);
	json_decref(p);
}

int tm_jrnl(struct tenant_move *m, enum journal_event ev, json_t *extra)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id, "cluster", cluster_name(m), "event",
			      journal_event_name(ev), "kind", "tenant_move", "new", m->target, "old", m->source);
	int rc = 0;

	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (m->journal && journal_append(m->journal, e, true) < 0) {
		struct log_ctx ctx = { cluster_name(m), NULL, "tenant", m->id };
		log_ctx(LOG_ERR, &ctx, "the journal cannot record '%s': %s", journal_event_name(ev), strerror(errno));
		rc = -1;
	}
	json_decref(e);
	return rc;
}

const char *tenant_id(const struct tenant_move *m)
{
	return m->id;
}

bool tenant_active(const struct tenant_move *m)
{
	return m && (m->state == TM_CHECKING || m->state == TM_RUNNING || m->state == TM_PAUSED);
}

size_t tm_count_outcome(const struct tenant_move *m, enum tt_outcome o)
{
	size_t i, k = 0;
	for (i = 0; i < m->n; i++)
		k += m->t[i].outcome == o;
	return k;
}

const char *tenant_summary(const struct tenant_move *m)
{
	static char buf[240];
	snprintf(buf, sizeof(buf), "tenant move %s to %s: %zu of %zu moved, %zu rolled back (batch %d, %s)", m->id,
		 m->target, tm_count_outcome(m, TT_MOVED), m->n, tm_count_outcome(m, TT_ROLLED_BACK), m->batches,
		 tm_state_names[m->state]);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* min / median / p95 / max of the moved tenants' write-blocked times */
static json_t *blocked_stats(const struct tenant_move *m)
{
	double *v = xcalloc(m->n + 1, sizeof(*v));
	size_t i, k = 0;
	json_t *o;

	for (i = 0; i < m->n; i++)
		if (m->t[i].outcome == TT_MOVED && m->t[i].blocked_ms >= 0)
			v[k++] = m->t[i].blocked_ms;
	if (!k) {
		free(v);
		return json_null();
	}
	qsort(v, k, sizeof(*v), cmp_double);
	o = json_pack("{s:i, s:f, s:f, s:f, s:f}", "tenants", (int)k, "min_ms", v[0], "median_ms",
		      k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2, "p95_ms", v[(k * 95 + 99) / 100 - 1], "max_ms", v[k - 1]);
	free(v);
	return o;
}

json_t *tenant_json(const struct tenant_move *m)
{
	json_t *ts = json_array(), *cur = json_array();
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct tm_tenant *t = &m->t[i];
		json_t *x = json_pack("{s:s, s:s?, s:s, s:s?, s:i}", "name", t->name, "tier", t->tier, "outcome",
				      tt_names[t->outcome], "reason", t->reason, "batch", t->batch);
		if (t->blocked_ms >= 0)
			json_object_set_new(x, "write_blocked_ms", json_real(t->blocked_ms));
		if (t->rows_src >= 0)
			json_object_set_new(x, "rows", json_integer(t->rows_src));
		if (m->routes && m->routes[i].hostgroup >= 0) {
			json_object_set_new(x, "hostgroup", json_integer(m->routes[i].hostgroup));
			json_object_set_new(x, "rule_id", json_integer(m->routes[i].rule_id));
		}
		json_array_append_new(ts, x);
	}
	for (i = 0; i < m->n_cur; i++)
		json_array_append_new(cur, json_string(m->t[m->cur[i]].name));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:i, s:i, s:i, s:i, s:s?, s:o, s:o}", "id", m->id,
			 "kind", "tenant_move", "by", m->o.kind == TENANT_SCHEMA ? "schema" : "user", "source", m->source,
			 "target", m->target, "state", tm_state_names[m->state], "step", tm_step_names[m->step], "batch",
			 m->batches, "batch_size", m->o.batch, "current", cur, "moved", (int)tm_count_outcome(m, TT_MOVED),
			 "rolled_back", (int)tm_count_outcome(m, TT_ROLLED_BACK), "skipped", (int)tm_count_outcome(m, TT_SKIPPED),
			 "pending", (int)tm_count_outcome(m, TT_PENDING), "reason", m->reason, "write_blocked", blocked_stats(m),
			 "tenants", ts);
}

/* ------------------------------------------------------------------------------------------ */
/* the end */

void tm_finish(struct tenant_move *m, enum tm_state st, const char *fmt, ...)
{
	enum journal_event ev = st == TM_DONE ? JE_DONE : st == TM_STOPPED && !tm_count_outcome(m, TT_MOVED) ? JE_ROLLED_BACK
											       : JE_FAILED;
	json_t *rep;

	if (fmt) {
		char why[1000];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		free(m->reason);
		m->reason = xstrdup(why);
	}
	evtimer_del(m->timer);
	m->state = st;
	m->step = ST_IDLE;
	m->n_cur = 0;
	rep = tenant_json(m);
	json_object_set_new(rep, "outcome", json_string(tm_state_names[st]));
	json_object_set_new(rep, "total_ms", json_real((double)(now_mono_us() - m->started_us) / 1000.0));
	tm_jrnl(m, ev, json_pack("{s:O}", "report", rep));
	tm_emit(m, st == TM_DONE ? "ok" : "fail", "tenant move %s: %s — %zu moved, %zu rolled back, %zu skipped, %zu not "
					       "started%s%s", m->id, tm_state_names[st], tm_count_outcome(m, TT_MOVED),
	     tm_count_outcome(m, TT_ROLLED_BACK), tm_count_outcome(m, TT_SKIPPED), tm_count_outcome(m, TT_PENDING),
	     m->reason ? ": " : "", m->reason ? m->reason : "");
	if (m->cl) {
		json_t *r;
		if (st == TM_DONE) {
			stats_api("move_tenants", "ok");
			r = proto_reply_ok(m->req_id, json_incref(rep));
		} else {
			r = proto_reply_err(m->req_id, ERR_FAILED, "%s: %s", tm_state_names[st], m->reason ? m->reason : "");
			json_object_set(json_object_get(r, "error"), "report", rep);
		}
		ha_reply_final(m->d, &m->cl, r);
	}
	json_decref(rep);
}

/* ------------------------------------------------------------------------------------------ */
/* abort, pause, resume */

int tenant_abort(struct tenant_move *m, char *err, size_t errlen)
{
	if (!tenant_active(m) || m->state == TM_CHECKING) {
		snprintf(err, errlen, "the tenant move is %s", m ? tm_state_names[m->state] : "not running");
		return -1;
	}
	m->abort_requested = true;
	tm_emit(m, "warn", "abort requested: %s", m->n_cur ? "the batch running rolls back unless it is being released"
							: "no further batch");
	if (m->step == ST_IDLE)   /* between batches (paused or waiting): it ends here */
		tm_finish(m, TM_STOPPED, "aborted after batch %d", m->batches);
	return 0;
}

int tenant_pause(struct tenant_move *m, char *err, size_t errlen)
{
	if (!m || m->state != TM_RUNNING || m->pause_requested) {
		snprintf(err, errlen, "the tenant move is %s", m ? (m->pause_requested ? "already pausing after its batch"
											: tm_state_names[m->state])
								  : "not running");
		return -1;
	}
	m->pause_requested = true;
	if (m->step == ST_IDLE) {
		evtimer_del(m->timer);
		m->state = TM_PAUSED;
		tm_jrnl(m, JE_PAUSED, NULL);
	}
	tm_emit(m, m->state == TM_PAUSED ? "paused" : "ok", "pause: %s",
	     m->state == TM_PAUSED ? "paused between batches; resume to go on" : "after the batch running");
	return 0;
}

int tenant_resume(struct tenant_move *m, char *err, size_t errlen)
{
	if (!m || (m->state != TM_PAUSED && !m->pause_requested)) {
		snprintf(err, errlen, "the tenant move is %s", m ? tm_state_names[m->state] : "not running");
		return -1;
	}
	m->pause_requested = false;
	if (m->state == TM_PAUSED) {
		m->state = TM_RUNNING;
		tm_jrnl(m, JE_RESUMED, NULL);
		tm_emit(m, "ok", "resumed after batch %d", m->batches);
		tm_batch_next(m);
	}
	return 0;
}

void tenant_free(struct tenant_move *m)
{
	size_t i;

	if (!m)
		return;
	ha_journal_forget(m->d->ha, m);
	if (m->cl)
		client_release(m->cl);
	json_decref(m->req_id);
	if (m->timer)
		event_free(m->timer);
	db_free(m->adm);
	db_free(m->src);
	db_free(m->dst);
	psql_plan_free(&m->plan);
	psql_plan_free(&m->fplan);
	if (m->routes)
		psql_tenant_routes_free(m->routes, m->n);
	free(m->routes);
	for (i = 0; i < m->n; i++) {
		free(m->t[i].name);
		free(m->t[i].tier);
		free(m->t[i].schema);
		free(m->t[i].reason);
		json_decref(m->t[i].tables);
	}
	free(m->t);
	free(m->cur);
	free(m->pass);
	free(m->fence_pos);
	free(m->kill_ids);
	json_decref(m->counts[0]);
	json_decref(m->counts[1]);
	free(m->check_err);
	free(m->dst_domain);
	rowset_free(m->rules);
	psql_snapshot_free(&m->servers);
	journal_close(m->journal);
	free(m->reason);
	free(m->target);
	free(m->source);
	free(m->router);
	free(m);
}

void tenant_rebind(struct tenant_move *m, struct cluster *c)
{
	if (m)
		m->c = c;
}
