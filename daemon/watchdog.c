/* The watchdog: its journal entries and events, the alarms, the fences it keeps, the
 * authoritative primary and the evaluation of a cluster.  What it does about what it sees (the
 * split-brain policy, sticky fences, automatic failover) is in watchdog_act.c.  See watchdog.h. */
#include "afterwatch.h"
#include "datacheck.h"
#include "held.h"
#include "shift.h"
#include "tenant.h"
#include "ha.h"
#include "watchdog.h"
#include "watchdog_impl.h"
#include "api.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLEARED_KEPT 16            /* cleared alarms shown in status, newest first */


void wd_journal(struct daemon *d, struct cluster *c, const char *event, json_t *extra)
{
	char err[256];
	struct journal *j;

	/* between cutovers the watchdog's entries alone would grow the journal without bound */
	if (!c->cutover)
		journal_rotate_if_large(d->cfg->state_dir, c->cfg->name);
	j = journal_open(d->cfg->state_dir, c->cfg->name, err, sizeof(err));
	json_t *e = json_pack("{s:s, s:s}", "cluster", c->cfg->name, "event", event);
	struct log_ctx ctx = { c->cfg->name, NULL, NULL, NULL };

	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	if (!j || journal_append(j, e, true) < 0)
		log_ctx(LOG_ERR, &ctx, "journal: cannot record %s: %s", event, j ? strerror(errno) : err);
	journal_close(j);
	json_decref(e);
}

void wd_event(struct daemon *d, struct cluster *c, const char *type, const char *subject,
		     const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	json_t *ev;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev = json_pack("{s:s, s:s, s:s}", "type", type, "cluster", c->cfg->name, "message", msg);
	if (subject)
		json_object_set_new(ev, "server", json_string(subject));
	daemon_event(d, ev);
}

/* ------------------------------------------------------------------------------------------ */
/* alarms */

static struct alarm *alarm_find(struct cluster *c, const char *name, const char *subject)
{
	size_t i;
	for (i = 0; i < c->n_alarms; i++) {
		struct alarm *a = &c->alarms[i];
		if (a->state != ALARM_CLEARED && !strcmp(a->name, name) &&
		    ((!a->subject && !subject) || (a->subject && subject && !strcmp(a->subject, subject))))
			return a;
	}
	return NULL;
}

void wd_observe(struct cluster *c, const char *name, const char *subject, enum verdict sev, char *msg)
{
	struct alarm *a = alarm_find(c, name, subject);
	if (!a) {
		c->alarms = xrealloc(c->alarms, (c->n_alarms + 1) * sizeof(*c->alarms));
		a = &c->alarms[c->n_alarms++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(name);
		a->subject = xstrdup(subject);
		a->state = ALARM_PENDING;
		a->first_seen_us = now_real_us();
	}
	free(a->message);
	a->message = msg;
	a->severity = sev;
	a->seen = true;
}

void watchdog_observe(struct cluster *c, const char *name, const char *subject, const char *msg)
{
	wd_observe(c, name, subject, VERDICT_CRIT, xstrdup(msg));
}

static void alarm_free(struct alarm *a)
{
	free(a->name);
	free(a->subject);
	free(a->message);
}

/* Apply hysteresis to this evaluation's observations; announce what changed. */
static void alarms_settle(struct daemon *d, struct cluster *c)
{
	int n = c->cfg->hysteresis > 0 ? c->cfg->hysteresis : 1;
	size_t i, kept = 0, cleared = 0;
	int64_t now = now_mono_ms();

	for (i = 0; i < c->n_alarms; i++) {
		struct alarm *a = &c->alarms[i];
		if (a->state == ALARM_CLEARED)
			continue;
		/* Extra evaluations (after a fence, a switchover, a reload) come milliseconds apart:
		 * an observation counts toward hysteresis only half a poll interval after the last. */
		if (a->count_ms && now - a->count_ms < d->cfg->poll_interval_ms / 2) {
			a->seen = false;
			continue;
		}
		a->count_ms = now;
		if (a->seen) {
			if (a->state == ALARM_PENDING && ++a->count >= n) {
				a->state = ALARM_ACTIVE;
				a->count = 0;
				a->raised_us = now_real_us();
				wd_event(d, c, "alarm_raised", a->subject, "alarm %s%s%s raised: %s", a->name,
					 a->subject ? " on " : "", a->subject ? a->subject : "", a->message);
				wd_journal(d, c, "alarm_raised", json_pack("{s:s, s:s?, s:s}", "alarm", a->name,
									   "subject", a->subject, "message", a->message));
			} else if (a->state == ALARM_ACTIVE) {
				a->count = 0;
			}
		} else if (a->state == ALARM_PENDING) {
			a->state = ALARM_CLEARED;   /* never raised: forget it below */
			a->raised_us = -1;
		} else if (++a->count >= n) {
			a->state = ALARM_CLEARED;
			a->cleared_us = now_real_us();
			wd_event(d, c, "alarm_cleared", a->subject, "alarm %s%s%s cleared", a->name,
				 a->subject ? " on " : "", a->subject ? a->subject : "");
			wd_journal(d, c, "alarm_cleared", json_pack("{s:s, s:s?}", "alarm", a->name, "subject", a->subject));
		}
		a->seen = false;
	}
	/* Keep the active and pending ones and the newest cleared ones. */
	for (i = c->n_alarms; i-- > 0;) {
		struct alarm *a = &c->alarms[i];
		if (a->state == ALARM_CLEARED && (a->raised_us < 0 || ++cleared > CLEARED_KEPT)) {
			alarm_free(a);
			a->name = NULL;
		}
	}
	for (i = 0; i < c->n_alarms; i++)
		if (c->alarms[i].name)
			c->alarms[kept++] = c->alarms[i];
	c->n_alarms = kept;
}

int watchdog_active_alarms(const struct cluster *c)
{
	size_t i;
	int n = 0;
	for (i = 0; i < c->n_alarms; i++)
		n += c->alarms[i].state == ALARM_ACTIVE;
	return n;
}

json_t *watchdog_alarms_json(const struct cluster *c)
{
	json_t *arr = json_array();
	static const char *states[] = { "pending", "active", "cleared" };
	size_t i;

	for (i = 0; i < c->n_alarms; i++) {
		const struct alarm *a = &c->alarms[i];
		char first[40], raised[40], cleared[40];
		iso_time(a->first_seen_us, first, sizeof(first));
		iso_time(a->raised_us, raised, sizeof(raised));
		iso_time(a->cleared_us, cleared, sizeof(cleared));
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o}", "name", a->name,
			"subject", a->subject ? json_string(a->subject) : json_null(), "severity",
			verdict_name(a->severity), "state", states[a->state], "message", a->message ? a->message : "",
			"first_seen", first, "raised", a->raised_us > 0 ? json_string(raised) : json_null(),
			"cleared", a->cleared_us > 0 ? json_string(cleared) : json_null()));
	}
	return arr;
}


static void sticky_forget(struct cluster *c, size_t i)
{
	free(c->sticky[i].server);
	c->sticky[i] = c->sticky[--c->n_sticky];
}

static struct sticky *sticky_find(struct cluster *c, const char *name)
{
	size_t i;
	for (i = 0; i < c->n_sticky; i++)
		if (!strcmp(c->sticky[i].server, name))
			return &c->sticky[i];
	return NULL;
}

static void sticky_set(struct cluster *c, const char *name, bool on)
{
	struct sticky *s = sticky_find(c, name);
	if (on && !s) {
		c->sticky = xrealloc(c->sticky, (c->n_sticky + 1) * sizeof(*c->sticky));
		memset(&c->sticky[c->n_sticky], 0, sizeof(*c->sticky));
		c->sticky[c->n_sticky++].server = xstrdup(name);
	} else if (!on && s) {
		sticky_forget(c, (size_t)(s - c->sticky));
	}
}

void watchdog_sticky(struct daemon *d, struct cluster *c, const char *name, bool on)
{
	if (!name || (sticky_find(c, name) != NULL) == on)
		return;
	sticky_set(c, name, on);
	wd_journal(d, c, "sticky_fence", json_pack("{s:s, s:b}", "server", name, "on", on));
}

void watchdog_cluster_free(struct cluster *c)
{
	size_t i;
	while (c->n_sticky)
		sticky_forget(c, c->n_sticky - 1);
	free(c->sticky);
	c->sticky = NULL;
	for (i = 0; i < c->n_alarms; i++)
		alarm_free(&c->alarms[i]);
	free(c->alarms);
	c->alarms = NULL;
	c->n_alarms = 0;
	free(c->authority);
	c->authority = NULL;
	held_free_all(c);
	datacheck_free(c->datacheck);
	c->datacheck = NULL;
	afterwatch_free(c->watch);
	c->watch = NULL;
	shift_free(c->shift);
	c->shift = NULL;
	tenant_free(c->tenants);
	c->tenants = NULL;
}

void watchdog_carry_over(struct cluster *to, struct cluster *from)
{
	to->alarms = from->alarms;
	to->n_alarms = from->n_alarms;
	to->authority = from->authority;
	to->sticky = from->sticky;
	to->n_sticky = from->n_sticky;
	from->sticky = NULL;
	from->n_sticky = 0;
	to->primary_fail_evals = from->primary_fail_evals;
	to->last_auto_failover_us = from->last_auto_failover_us;
	to->last_sb_action_us = from->last_sb_action_us;
	to->prev_auto_failover_us = from->prev_auto_failover_us;
	to->auto_retry_after_us = from->auto_retry_after_us;
	from->alarms = NULL;
	from->n_alarms = 0;
	from->authority = NULL;
	held_carry_over(to, from);
	to->datacheck = from->datacheck;
	from->datacheck = NULL;
	datacheck_rebind(to->datacheck, to);
	to->watch = from->watch;
	from->watch = NULL;
	afterwatch_rebind(to->watch, to);
	to->shift = from->shift;
	from->shift = NULL;
	shift_rebind(to->shift, to);
	to->tenants = from->tenants;
	from->tenants = NULL;
	tenant_rebind(to->tenants, to);
}

/* ------------------------------------------------------------------------------------------ */
/* the authoritative primary */

void watchdog_adopt(struct daemon *d, struct cluster *c, const json_t *sticky, long long auto_failover_at_us)
{
	size_t i, k;
	const json_t *n;

	for (i = c->n_sticky; i-- > 0;) {
		bool keep = false;
		json_array_foreach(sticky, k, n)
			keep = keep || !strcmp(json_string_value(n) ?: "", c->sticky[i].server);
		if (!keep)
			watchdog_sticky(d, c, c->sticky[i].server, false);
	}
	json_array_foreach(sticky, k, n)
		if (json_string_value(n) && daemon_server(d, json_string_value(n)))
			watchdog_sticky(d, c, json_string_value(n), true);
	if (auto_failover_at_us > c->last_auto_failover_us)
		c->last_auto_failover_us = auto_failover_at_us;
}

json_t *watchdog_state(const struct cluster *c)
{
	json_t *s = json_array();
	size_t i;

	for (i = 0; i < c->n_sticky; i++)
		json_array_append_new(s, json_string(c->sticky[i].server));
	return json_pack("{s:o, s:I, s:o, s:o}", "sticky", s, "auto_failover_at_us", (json_int_t)c->last_auto_failover_us,
			 "held", held_state(c), "watch", afterwatch_state(c));
}

void watchdog_set_authority(struct daemon *d, struct cluster *c, const char *name, const char *why)
{
	if (!name || (c->authority && !strcmp(c->authority, name)))
		return;
	wd_journal(d, c, "primary", json_pack("{s:s, s:s?, s:s}", "primary", name, "previous", c->authority,
					      "why", why));
	free(c->authority);
	c->authority = xstrdup(name);
	sticky_set(c, name, false);   /* the primary is not kept fenced (the "primary" entry says so) */
}

void watchdog_load(struct daemon *d)
{
	size_t i;
	for (i = 0; i < d->n_clusters; i++) {
		json_t *all = journal_read(d->cfg->state_dir, d->clusters[i].cfg->name);
		watchdog_load_cluster(d, &d->clusters[i], all);
		json_decref(all);
	}
}

void watchdog_load_cluster(struct daemon *d, struct cluster *c, const json_t *all)
{
	size_t k;
	json_t *e;
	{
		json_array_foreach(all, k, e) {
			const char *ev = json_string_value(json_object_get(e, "event"));
			if (!ev)
				continue;
			if (!strcmp(ev, "primary") && json_string_value(json_object_get(e, "primary"))) {
				free(c->authority);
				c->authority = xstrdup(json_string_value(json_object_get(e, "primary")));
				sticky_set(c, c->authority, false);
			} else if (!strcmp(ev, "sticky_fence") && json_string_value(json_object_get(e, "server"))) {
				sticky_set(c, json_string_value(json_object_get(e, "server")),
					   json_is_true(json_object_get(e, "on")));
			} else if (!strcmp(ev, "held")) {
				held_replay(c, e);
			} else if (!strcmp(ev, "data_check")) {
				datacheck_replay(c, e);
			} else if (!strcmp(ev, "watch")) {
				afterwatch_replay(d, c, e);
			} else if (!strcmp(ev, "auto_failover")) {
				c->last_auto_failover_us = (int64_t)json_integer_value(json_object_get(e, "at_us"));
			}
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* the evaluation */


void watchdog_evaluate(struct daemon *d, struct cluster *c)
{
	const struct topology *t = &c->topo;
	size_t i;

	if (t->n_writable == 1 && t->primary >= 0 && !c->cutover)
		watchdog_set_authority(d, c, c->servers[t->primary]->cfg->name, "observed as the only writable server");

	if (t->n_writable > 1) {
		char list[400] = "";
		size_t off = 0;
		for (i = 0; i < c->n_servers && off < sizeof(list); i++)
			if (c->servers[i]->st.reachable && c->servers[i]->st.read_only == 0)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "",
							c->servers[i]->cfg->name);
		wd_observe(c, "split_brain", NULL, VERDICT_CRIT, xasprintf("%d writable servers: %s", t->n_writable, list));
	}
	if (t->n_writable == 0 && !c->cutover)
		wd_observe(c, "no_primary", NULL, VERDICT_CRIT, xstrdup(t->n_reasons ? t->reasons[0] : "no writable primary"));
	if (c->authority) {
		struct server *p = daemon_server(d, c->authority);
		if (p && p->health.state == HEALTH_DOWN)
			wd_observe(c, "primary_unreachable", p->cfg->name, VERDICT_CRIT,
				xasprintf("the primary %s is unreachable: %s", p->cfg->name, p->st.last_error));
	}
	for (i = 0; i < c->n_servers && i < t->n; i++) {
		const struct server *s = c->servers[i];
		const struct topo_server *ts = &t->srv[i];
		if (ts->role != ROLE_REPLICA || c->cutover)
			continue;
		if (t->primary >= 0 && ts->source != t->primary)
			wd_observe(c, "wrong_source", s->cfg->name, VERDICT_CRIT,
				xasprintf("%s replicates from %s:%d, not from the primary %s", s->cfg->name,
					  s->st.repl.source_host, s->st.repl.source_port, c->servers[t->primary]->cfg->name));
		if (ts->errant && *ts->errant)
			wd_observe(c, "errant_gtid", s->cfg->name, VERDICT_CRIT,
				xasprintf("%s has transactions the primary lacks: %s", s->cfg->name, ts->errant));
		if (s->st.repl.io != THREAD_YES || s->st.repl.sql != THREAD_YES)
			wd_observe(c, "replication_broken", s->cfg->name, VERDICT_WARN,
				xasprintf("%s: IO %s, SQL %s%s%s", s->cfg->name, thread_state_name(s->st.repl.io),
					  thread_state_name(s->st.repl.sql),
					  *s->st.repl.last_io_error ? "; " : "", s->st.repl.last_io_error));
	}
	for (i = 0; i < c->n_routers && !c->cutover; i++) {
		const struct router *r = c->routers[i];
		const struct router_backend *w;
		int count;
		if (!r->view.reachable || (r->cfg->type == ROUTER_EXEC && r->view.n == 0) || t->primary < 0)
			continue;
		w = router_writer(&r->view, &count);
		if (count != 1 || strcmp(w->server, c->servers[t->primary]->cfg->name))
			wd_observe(c, "router_writer", r->cfg->name, VERDICT_CRIT,
				xasprintf("router %s writes to %s, not to the primary %s", r->cfg->name,
					  count == 1 ? w->server : count ? "several servers" : "nothing",
					  c->servers[t->primary]->cfg->name));
		else if (c->servers[t->primary]->st.read_only == 1)
			wd_observe(c, "router_writer", r->cfg->name, VERDICT_CRIT,
				xasprintf("router %s writes to %s, which is read-only", r->cfg->name, w->server));
	}
	/* with [ha], a follower watches and raises alarms, but only the leader acts; with no leader
	 * (etcd without quorum, or unreachable) nothing acts, which is an alarm of its own */
	if (d->ha && ha_role(d->ha) == HA_CANDIDATE)
		wd_observe(c, "ha_no_leader", NULL, VERDICT_CRIT,
			xasprintf("member %s cannot tell or become the leader (%s): nothing acts on this cluster "
				  "from this member until etcd answers", d->cfg->ha.name, *ha_last_error(d->ha) ?
				  ha_last_error(d->ha) : "no leader key and no lease yet"));
	if (ha_acting(d->ha)) {
		wd_auto_failover_check(d, c);
		if (!c->cutover) {
			wd_sticky_check(d, c);
			held_check(d, c);
		}
	}
	/* while the old primary is held there: released by hand (START SLAVE on it), the difference
	 * is accepted and the alarm clears */
	if (c->datacheck && datacheck_state(c->datacheck) == DC_INCOMPLETE) {
		json_t *j = datacheck_json(c->datacheck);
		const char *ref = json_string_value(json_object_get(j, "reference"));
		if (ref && held_find(c, ref))
			wd_observe(c, "data_check_incomplete", ref, VERDICT_WARN,
				xasprintf("the data check of switchover %s did not finish (%s); %s stays held at the fence "
					  "point, not replicating",
					  json_string_value(json_object_get(j, "switchover")) ?: "?",
					  json_string_value(json_object_get(j, "why")) ?: "?", ref));
		json_decref(j);
	}
	if (c->datacheck && datacheck_state(c->datacheck) == DC_MISMATCH &&
	    held_find(c, datacheck_reference(c->datacheck))) {
		json_t *j = datacheck_json(c->datacheck);
		wd_observe(c, "data_mismatch", json_string_value(json_object_get(j, "target")), VERDICT_CRIT,
			xasprintf("the data check of switchover %s found %lld chunk(s) that differ between %s and %s at the "
				  "fence point (first: %s %s); %s is kept there",
				  json_string_value(json_object_get(j, "switchover")),
				  (long long)json_integer_value(json_object_get(j, "mismatch_count")),
				  json_string_value(json_object_get(j, "reference")),
				  json_string_value(json_object_get(j, "target")),
				  json_string_value(json_object_get(json_array_get(json_object_get(j, "mismatches"), 0), "table")) ?: "?",
				  json_string_value(json_object_get(json_array_get(json_object_get(j, "mismatches"), 0), "range")) ?: "",
				  json_string_value(json_object_get(j, "reference"))));
		json_decref(j);
	}
	afterwatch_evaluate(d, c);
	alarms_settle(d, c);
	{
		struct alarm *sb = alarm_find(c, "split_brain", NULL);
		if (sb && sb->state == ALARM_ACTIVE)
			if (ha_acting(d->ha))
				wd_split_brain_act(d, c);
	}
}
