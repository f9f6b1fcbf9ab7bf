/* The watch after a switchover (see afterwatch.h). */
#include "afterwatch.h"
#include "daemon.h"
#include "ha.h"
#include "datacheck.h"
#include "db.h"
#include "flavor.h"
#include "held.h"
#include "log.h"
#include "router.h"
#include "switchover.h"
#include "topology.h"
#include "util.h"
#include "watchdog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_WINDOW_US   (60 * 1000000LL)
#define WATCH_MIN_SPAN_US (5 * 1000000LL)   /* no trigger on less than this much of the window */
#define WATCH_MIN_QUERIES 20
#define WATCH_RING        256

struct wsample {
	int64_t mono_us;
	long long queries, errors;       /* -1 unknown */
	bool lat_known;
	long long lat[ROUTER_LAT_BUCKETS];
	long long rollbacks;             /* -1 unknown */
};

struct afterwatch {
	struct daemon *d;
	struct cluster *c;
	char *id, *old_name, *new_name;  /* owned */
	bool upgrade;
	int64_t since_real_us, until_real_us;
	struct wsample ring[WATCH_RING];
	size_t n, next;
	struct db *db;                   /* the new primary's counters */
	long long rollbacks;             /* the last read, -1 unknown */
	double value[WT__COUNT];         /* NAN unknown */
	int breached_in_a_row[WT__COUNT];
	int replicas_total, replicas_following;
	bool acted;                      /* a reverse was started (or the trigger reported) */
	char *state;                     /* owned: "watching", "triggered", "reversing" */
	char *why;                       /* owned: the trigger's message; why no reverse */
};

static const char *const trigger_names[WT__COUNT] = { "error_rate", "p95_ms", "failed_per_min" };

const char *watch_trigger_name(enum watch_trigger t)
{
	return t < WT__COUNT ? trigger_names[t] : "?";
}

double watch_p95_ms(const long long *before, const long long *after, long long min_count)
{
	long long d[ROUTER_LAT_BUCKETS], total = 0, acc = 0;
	size_t i;

	for (i = 0; i < ROUTER_LAT_BUCKETS; i++) {
		d[i] = after[i] - before[i];
		if (d[i] < 0)
			return NAN;   /* the counters were reset (ProxySQL restarted) */
		total += d[i];
	}
	if (total < min_count || total <= 0)
		return NAN;
	for (i = 0; i < ROUTER_LAT_BUCKETS; i++) {
		acc += d[i];
		if (acc * 100 >= total * 95)
			/* the bucket's upper bound; the last is unbounded: its lower bound */
			return (double)(router_lat_bound_us[i] >= 0 ? router_lat_bound_us[i]
								    : router_lat_bound_us[i - 1]) / 1000.0;
	}
	return NAN;
}

static void set_str(char **p, const char *v)
{
	free(*p);
	*p = v ? xstrdup(v) : NULL;
}

static struct afterwatch *watch_new(struct daemon *d, struct cluster *c, const char *id, const char *old_name,
				    const char *new_name, bool upgrade, int64_t since, int64_t until)
{
	struct afterwatch *w = xcalloc(1, sizeof(*w));
	int t;

	w->d = d;
	w->c = c;
	w->id = xstrdup(id);
	w->old_name = xstrdup(old_name);
	w->new_name = xstrdup(new_name);
	w->upgrade = upgrade;
	w->since_real_us = since;
	w->until_real_us = until;
	w->rollbacks = -1;
	w->state = xstrdup("watching");
	for (t = 0; t < WT__COUNT; t++)
		w->value[t] = NAN;
	return w;
}

void afterwatch_free(struct afterwatch *w)
{
	if (!w)
		return;
	db_free(w->db);
	free(w->id);
	free(w->old_name);
	free(w->new_name);
	free(w->state);
	free(w->why);
	free(w);
}

void afterwatch_rebind(struct afterwatch *w, struct cluster *c)
{
	if (w)
		w->c = c;
}

void afterwatch_start(struct daemon *d, struct cluster *c, const char *id, const char *old_name, const char *new_name,
		      bool upgrade, bool by_watch)
{
	int64_t now = now_real_us();
	char dur[32];

	if (c->watch) {
		wd_journal(d, c, "watch", json_pack("{s:s, s:b, s:s}", "switchover", c->watch->id, "on", 0, "why",
						     "a new switchover"));
		afterwatch_free(c->watch);
		c->watch = NULL;
	}
	if (c->cfg->watch_ms <= 0 || by_watch)
		return;
	c->watch = watch_new(d, c, id, old_name, new_name, upgrade, now, now + (int64_t)c->cfg->watch_ms * 1000);
	wd_journal(d, c, "watch", json_pack("{s:s, s:b, s:s, s:s, s:b, s:I, s:I}", "switchover", id, "on", 1, "old_primary",
					     old_name, "new_primary", new_name, "upgrade", upgrade, "since_us",
					     (json_int_t)now, "until_us", (json_int_t)c->watch->until_real_us));
	wd_event(d, c, "watch", new_name, "watching %s for %s after switchover %s (action: %s; %s kept as the way back)",
		 new_name, duration_text(c->cfg->watch_ms, dur, sizeof(dur)), id, watch_action_name(c->cfg->watch_action),
		 old_name);
}

void afterwatch_replay(struct daemon *d, struct cluster *c, const json_t *e)
{
	const char *id = json_string_value(json_object_get(e, "switchover"));

	if (json_is_true(json_object_get(e, "on")) && id) {
		afterwatch_free(c->watch);
		c->watch = watch_new(d, c, id, json_string_value(json_object_get(e, "old_primary")) ?: "?",
				     json_string_value(json_object_get(e, "new_primary")) ?: "?",
				     json_is_true(json_object_get(e, "upgrade")),
				     (int64_t)json_integer_value(json_object_get(e, "since_us")),
				     (int64_t)json_integer_value(json_object_get(e, "until_us")));
	} else if (c->watch && id && !strcmp(id, c->watch->id)) {
		afterwatch_free(c->watch);
		c->watch = NULL;
	}
}

json_t *afterwatch_state(const struct cluster *c)
{
	const struct afterwatch *w = c->watch;

	if (!w)
		return json_null();
	return json_pack("{s:s, s:b, s:s, s:s, s:b, s:I, s:I, s:b}", "switchover", w->id, "on", 1, "old_primary", w->old_name,
			 "new_primary", w->new_name, "upgrade", w->upgrade, "since_us", (json_int_t)w->since_real_us,
			 "until_us", (json_int_t)w->until_real_us, "acted", w->acted);
}

static void end_watch(struct afterwatch *w, const char *why);

void afterwatch_adopt(struct daemon *d, struct cluster *c, const json_t *st)
{
	const char *id = json_string_value(json_object_get(st, "switchover"));
	json_t *e;

	if (!id) {
		if (c->watch)
			end_watch(c->watch, "the leader's state in etcd has no watch");
		return;
	}
	if (c->watch && !strcmp(c->watch->id, id)) {
		c->watch->acted = c->watch->acted || json_is_true(json_object_get(st, "acted"));
		return;
	}
	if (c->watch)
		end_watch(c->watch, "the leader's state in etcd has another watch");
	e = json_deep_copy(st);
	json_object_del(e, "acted");
	afterwatch_replay(d, c, e);
	if (c->watch) {
		c->watch->acted = json_is_true(json_object_get(st, "acted"));
		wd_journal(d, c, "watch", e);   /* a restart resumes it too */
		e = NULL;
		wd_event(d, c, "watch", c->watch->new_name, "watching %s after switchover %s, taken over from the leader "
			 "before (%.0f s left)", c->watch->new_name, id, afterwatch_remaining_s(c->watch));
	}
	json_decref(e);
}

static void end_watch(struct afterwatch *w, const char *why)
{
	struct cluster *c = w->c;

	wd_journal(w->d, c, "watch", json_pack("{s:s, s:b, s:s}", "switchover", w->id, "on", 0, "why", why));
	wd_event(w->d, c, "watch", w->new_name, "the watch after switchover %s ended: %s", w->id, why);
	afterwatch_free(w);
	c->watch = NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* samples */

static void rollbacks_read(struct db *db, struct db_result *res, void *arg)
{
	struct afterwatch *w = arg;
	size_t i;

	for (i = 0; !res->err && res->n && i < res->rs[0]->nrows; i++) {
		long long v;
		if (!strcasecmp(rowset_at(res->rs[0], i, 0) ?: "", "Handler_rollback") &&
		    parse_ll(rowset_at(res->rs[0], i, 1), 0, 1LL << 62, &v))
			w->rollbacks = v;
	}
	if (res->err)
		w->rollbacks = -1;
	db_result_free(res);
}

static void sample(struct afterwatch *w, const struct server *np)
{
	struct cluster *c = w->c;
	struct wsample *s = &w->ring[w->next];
	size_t i, k;
	bool q_known = false, e_known = false;

	memset(s, 0, sizeof(*s));
	s->mono_us = now_mono_us();
	for (i = 0; i < c->n_routers; i++) {
		const struct router_view *v = &c->routers[i]->view;
		if (!v->reachable)
			continue;
		for (k = 0; k < v->n; k++) {
			if (strcmp(v->be[k].server, w->new_name))
				continue;
			if (v->be[k].queries >= 0) {
				s->queries += v->be[k].queries;
				q_known = true;
			}
			if (v->be[k].errors >= 0) {
				s->errors += v->be[k].errors;
				e_known = true;
			}
		}
		if (v->lat_known) {
			s->lat_known = true;
			for (k = 0; k < ROUTER_LAT_BUCKETS; k++)
				s->lat[k] += v->lat_hist[k];
		}
	}
	if (!q_known)
		s->queries = -1;
	if (!e_known)
		s->errors = -1;
	s->rollbacks = w->rollbacks;
	w->next = (w->next + 1) % WATCH_RING;
	if (w->n < WATCH_RING)
		w->n++;
	/* the next read of the server's counters, for the next sample */
	if (np && (!w->db || !db_busy(w->db))) {
		if (!w->db)
			w->db = server_db_new(w->d, np->cfg);
		db_run1(w->db, "SHOW GLOBAL STATUS WHERE Variable_name = 'Handler_rollback'", w->d->cfg->query_timeout_ms,
			rollbacks_read, w);
	}
}

enum metric { M_QUERIES, M_LATENCY, M_ROLLBACKS };

static bool known(const struct wsample *s, enum metric m)
{
	return m == M_QUERIES ? s->queries >= 0 && s->errors >= 0 : m == M_LATENCY ? s->lat_known : s->rollbacks >= 0;
}

/* The newest sample and the oldest one within the window, both with metric m known, at least
 * WATCH_MIN_SPAN_US apart. */
static bool window(const struct afterwatch *w, enum metric m, const struct wsample **a, const struct wsample **b)
{
	size_t i, newest = (w->next + WATCH_RING - 1) % WATCH_RING;

	if (w->n < 2 || !known(&w->ring[newest], m))
		return false;
	*b = &w->ring[newest];
	*a = NULL;
	for (i = 1; i < w->n; i++) {
		const struct wsample *s = &w->ring[(newest + WATCH_RING - i) % WATCH_RING];
		if ((*b)->mono_us - s->mono_us > WATCH_WINDOW_US)
			break;
		if (known(s, m))
			*a = s;
	}
	return *a && (*b)->mono_us - (*a)->mono_us >= WATCH_MIN_SPAN_US;
}

static void compute(struct afterwatch *w)
{
	const struct wsample *a, *b;
	int t;

	for (t = 0; t < WT__COUNT; t++)
		w->value[t] = NAN;
	if (window(w, M_QUERIES, &a, &b) && b->queries - a->queries >= WATCH_MIN_QUERIES && b->errors >= a->errors)
		w->value[WT_ERROR_RATE] = (double)(b->errors - a->errors) / (double)(b->queries - a->queries);
	if (window(w, M_LATENCY, &a, &b))
		w->value[WT_P95] = watch_p95_ms(a->lat, b->lat, WATCH_MIN_QUERIES);
	if (window(w, M_ROLLBACKS, &a, &b) && b->rollbacks >= a->rollbacks)
		w->value[WT_FAILED_PER_MIN] =
			(double)(b->rollbacks - a->rollbacks) * 60e6 / (double)(b->mono_us - a->mono_us);
}

double afterwatch_limit(const struct cluster *c, enum watch_trigger t)
{
	switch (t) {
	case WT_ERROR_RATE:
		return c->cfg->watch_error_rate;
	case WT_P95:
		return c->cfg->watch_p95_ms;
	case WT_FAILED_PER_MIN:
		return c->cfg->watch_failed_per_min;
	default:
		return NAN;
	}
}

double afterwatch_value(const struct afterwatch *w, enum watch_trigger t)
{
	return t < WT__COUNT ? w->value[t] : NAN;
}

double afterwatch_remaining_s(const struct afterwatch *w)
{
	double r;
	if (!w)
		return -1;
	r = (double)(w->until_real_us - now_real_us()) / 1e6;
	return r > 0 ? r : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* going back */

/* NULL when a switchover back to the old primary is provably safe now, else why not. */
static char *reverse_blocker(struct afterwatch *w)
{
	struct cluster *c = w->c;
	struct server *old = daemon_server(w->d, w->old_name), *np = daemon_server(w->d, w->new_name);
	const struct held *h;
	char a[48], b[48];

	if (!old || old->cluster != c || !np)
		return xasprintf("%s is no longer configured in cluster %s", w->old_name, c->cfg->name);
	if (w->upgrade || (*old->st.version && *np->st.version &&
			   flavor_series_order(np->st.version, old->st.version) == SERIES_OLDER))
		return xasprintf("%s runs %s and %s runs %s: MariaDB and MySQL do not replicate from a newer release "
				 "series to an older one, so %s has none of the writes made since the fence point; it "
				 "stays read-only at the fence point as the rollback point, and going back (losing those "
				 "writes or copying them by hand) is a decision for a person", np->cfg->name,
				 flavor_series_name(np->st.version, a, sizeof(a)), old->cfg->name,
				 flavor_series_name(old->st.version, b, sizeof(b)), old->cfg->name);
	if ((h = held_find(c, w->old_name)))
		return xasprintf("%s is held at the fence point %s: %s", w->old_name, h->fence_point ? h->fence_point : "?",
				 h->why);
	if (c->datacheck && datacheck_state(c->datacheck) != DC_PASSED) {
		json_t *j = datacheck_json(c->datacheck);
		const char *sid = json_string_value(json_object_get(j, "switchover"));
		if (sid && !strcmp(sid, w->id)) {
			char *why = xasprintf("the data check of switchover %s is %s, not passed", w->id,
					      datacheck_state_name(datacheck_state(c->datacheck)));
			json_decref(j);
			return why;
		}
		json_decref(j);
	}
	if (!old->st.reachable)
		return xasprintf("%s is unreachable", w->old_name);
	if (!old->st.repl.configured || old->st.repl.io != THREAD_YES || old->st.repl.sql != THREAD_YES ||
	    !topo_same_endpoint(old->st.repl.source_host, old->st.repl.source_port, np->cfg->host, np->cfg->port))
		return xasprintf("%s does not replicate from %s with both threads running (IO %s, SQL %s): it may lack "
				 "writes made since", w->old_name, w->new_name, thread_state_name(old->st.repl.io),
				 thread_state_name(old->st.repl.sql));
	if (old->st.heartbeat_lag_ms < 0 || old->st.heartbeat_lag_ms > c->cfg->max_lag_ms)
		return old->st.heartbeat_lag_ms < 0 ? xasprintf("%s's lag is unknown", w->old_name)
						    : xasprintf("%s lags %lld ms (max_lag %d ms)", w->old_name,
								(long long)old->st.heartbeat_lag_ms, c->cfg->max_lag_ms);
	if (c->cutover || cluster_busy(c))
		return xasprintf("cluster %s is busy", c->cfg->name);
	return NULL;
}

static void trigger(struct afterwatch *w, enum watch_trigger t)
{
	struct cluster *c = w->c;
	char msg[600], val[48], lim[48];
	char *blocker = NULL;

	if (t == WT_ERROR_RATE) {
		snprintf(val, sizeof(val), "%.2f%%", w->value[t] * 100);
		snprintf(lim, sizeof(lim), "%.2f%%", afterwatch_limit(c, t) * 100);
	} else {
		snprintf(val, sizeof(val), "%.1f", w->value[t]);
		snprintf(lim, sizeof(lim), "%.0f", afterwatch_limit(c, t));
	}
	snprintf(msg, sizeof(msg), "after switchover %s, %s on %s is %s (limit %s)", w->id, trigger_names[t], w->new_name,
		 val, lim);
	if (!w->acted && c->cfg->watch_action == WATCH_REVERSE && ha_acting(w->d->ha) && !(blocker = reverse_blocker(w))) {
		char err[300];
		if (switchover_start_reverse(w->d, c, w->old_name, msg, err, sizeof(err)) == 0) {
			w->acted = true;
			set_str(&w->state, "reversing");
			set_str(&w->why, msg);
			wd_journal(w->d, c, "watch_reverse", json_pack("{s:s, s:s, s:s}", "switchover", w->id, "to", w->old_name,
								       "why", msg));
			wd_event(w->d, c, "watch", w->new_name, "%s: switching back to %s (watch_action = reverse)", msg,
				 w->old_name);
			return;
		}
		blocker = xstrdup(err);
	}
	set_str(&w->state, "triggered");
	{
		char *full = c->cfg->watch_action == WATCH_REVERSE
				     ? xasprintf("%s; not switching back: %s", msg,
						 blocker ? blocker : w->acted ? "it switched back once already"
						 : !ha_acting(w->d->ha) ? "this member is not the acting leader ([ha])" : "?")
				     : xasprintf("%s (watch_action = alarm)", msg);
		if (!w->why || strcmp(w->why, full))
			wd_event(w->d, c, "watch", w->new_name, "%s", full);
		set_str(&w->why, full);
		free(full);
	}
	free(blocker);
}

void afterwatch_evaluate(struct daemon *d, struct cluster *c)
{
	struct afterwatch *w = c->watch;
	struct server *np;
	size_t i;
	int t;
	bool any = false;

	if (!w)
		return;
	if (now_real_us() >= w->until_real_us) {
		end_watch(w, "its time is up");
		return;
	}
	if (!strcmp(w->state, "reversing")) {
		/* the reverse is running or ended: the switchover's report tells its outcome */
		if (!c->cutover)
			end_watch(w, c->topo.primary >= 0 && !strcmp(c->servers[c->topo.primary]->cfg->name, w->old_name)
					     ? "switched back to the old primary"
					     : "the switch back did not complete (see cutoverctl history)");
		return;
	}
	np = daemon_server(d, w->new_name);
	if (c->cutover)
		return;   /* someone else's cutover: it ends this watch when done */
	if (c->topo.primary >= 0 && c->topo.n_writable == 1 && c->servers[c->topo.primary] != np) {
		char *why = xasprintf("%s is the primary now, not %s", c->servers[c->topo.primary]->cfg->name, w->new_name);
		end_watch(w, why);
		free(why);
		return;
	}
	w->replicas_total = w->replicas_following = 0;
	for (i = 0; i < c->n_servers && i < c->topo.n; i++) {
		const struct server *s = c->servers[i];
		if (s == np || held_find(c, s->cfg->name))
			continue;
		w->replicas_total++;
		if (c->topo.primary >= 0 && c->topo.srv[i].source == c->topo.primary && s->st.repl.io == THREAD_YES &&
		    s->st.repl.sql == THREAD_YES)
			w->replicas_following++;
	}
	sample(w, np);
	compute(w);
	for (t = 0; t < WT__COUNT; t++) {
		bool over = !isnan(w->value[t]) && w->value[t] > afterwatch_limit(c, t);
		w->breached_in_a_row[t] = over ? w->breached_in_a_row[t] + 1 : 0;
		if (w->breached_in_a_row[t] >= c->cfg->hysteresis) {
			any = true;
			trigger(w, (enum watch_trigger)t);
			if (c->watch != w || !strcmp(w->state, "reversing"))
				return;
		}
	}
	if (any && w->why)
		watchdog_observe(c, "watch_trigger", w->new_name, w->why);
	else if (!any && !strcmp(w->state, "triggered"))
		set_str(&w->state, "watching");
}

json_t *afterwatch_json(const struct afterwatch *w)
{
	json_t *j, *tr = json_array();
	char since[40], until[40];
	int t;

	for (t = 0; t < WT__COUNT; t++) {
		double v = w->value[t], lim = afterwatch_limit(w->c, (enum watch_trigger)t);
		json_array_append_new(tr, json_pack("{s:s, s:o, s:f, s:b}", "name", trigger_names[t], "value",
						    isnan(v) ? json_null() : json_real(v), "limit", lim, "breached",
						    !isnan(v) && v > lim));
	}
	iso_time(w->since_real_us, since, sizeof(since));
	iso_time(w->until_real_us, until, sizeof(until));
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:o, s:i, s:i, s:b}", "switchover", w->id, "old_primary",
		      w->old_name, "new_primary", w->new_name, "since", since, "until", until, "remaining_s",
		      afterwatch_remaining_s(w), "action", watch_action_name(w->c->cfg->watch_action), "state", w->state,
		      "triggers", tr, "replicas", w->replicas_total, "replicas_following", w->replicas_following,
		      "upgrade", w->upgrade);
	json_object_set_new(j, "why", w->why ? json_string(w->why) : json_null());
	return j;
}
