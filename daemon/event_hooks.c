/* Event hooks (see event_hooks.h).
 *
 * The hooks' state (queue, rate window, the run in progress) lives here, keyed by the section
 * and the command as configured, so it survives a reload that keeps the hook.  Every event
 * matches the state against the live config first: a hook a reload removed loses its queue at
 * once and its state when its run (if any) has ended.  That costs a few string compares per
 * event, and events are rare.
 *
 * Events are only queued where they happen; the runs start from an event of their own on the
 * next turn of the loop.  A switchover announces its phases between the steps of its
 * write-blocked window, and the fork of a hook belongs after the step it announced was sent,
 * not before. */
#include "event_hooks.h"
#include "daemon.h"
#include "job.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#define EH_ENV_MAX 7

struct eh_item {
	char *json;                  /* owned: the event as one line of JSON */
	char *env[EH_ENV_MAX + 1];   /* owned "CUTOVER_…=…", NULL-terminated */
	char *cluster;               /* owned, may be NULL: for log lines */
	char *type;                  /* owned */
};

struct hook {
	TAILQ_ENTRY(hook) entry;
	char *cluster;               /* owned: its [cluster NAME], NULL for [cutoverd] */
	char *cmd;                   /* owned: the command line as configured */
	char **argv;                 /* owned: cmd split */
	struct eh_window win;
	struct job *job;             /* the run in progress, NULL when idle */
	struct eh_item cur;          /* the event it runs for */
	struct eh_item queue[EH_QUEUE_MAX];   /* ring of events waiting */
	size_t q_head, q_len;
	unsigned long long dropped;  /* dropped in a row; reported when one gets through again */
	bool configured;             /* still in the live config */
};

TAILQ_HEAD(hook_list, hook);

static void sync_hooks(struct daemon *d);
static void sync_list(char *const *cmds, const char *cluster);
static struct hook *hook_find(const char *cluster, const char *cmd);
static void hook_free(struct hook *h);
static void hook_drop_queue(struct hook *h, const char *why);
static bool item_make(struct eh_item *it, const json_t *event, const char *milestone);
static void item_free(struct eh_item *it);
static void offer(struct hook *h, struct eh_item *it);
static void drop(struct hook *h, struct eh_item *it, const char *why);
static void run(struct hook *h, struct eh_item *it);
static void kick(void);
static void kick_cb(evutil_socket_t fd, short what, void *arg);
static void hook_done(struct job_result *r, void *arg);

static struct hook_list hooks = TAILQ_HEAD_INITIALIZER(hooks);
static unsigned long long counts[EH__COUNT];
static struct daemon *hooks_d;   /* job callbacks find the live config through it */
static struct event *kick_ev;    /* starts queued runs from the loop */
static struct event_base *kick_base;

static const char *const result_names[EH__COUNT] = { "ok", "failed", "timeout", "dropped" };

/* Which event field goes into which variable. */
static const struct {
	const char *var;
	const char *field;
} env_fields[EH_ENV_MAX] = {
	{ "CUTOVER_EVENT", "type" },
	{ "CUTOVER_CLUSTER", "cluster" },
	{ "CUTOVER_SERVER", "server" },
	{ "CUTOVER_PHASE", "phase" },
	{ "CUTOVER_ID", "id" },
	{ "CUTOVER_MESSAGE", "message" },
	{ "CUTOVER_MILESTONE", "milestone" },
};

const char *event_hooks_result_name(enum eh_result r)
{
	return (unsigned)r < EH__COUNT ? result_names[r] : "unknown";
}

size_t event_hooks_pending(void)
{
	const struct hook *h;
	size_t n = 0;

	TAILQ_FOREACH(h, &hooks, entry)
		n += h->q_len + (h->job != NULL);
	return n;
}

void event_hooks_counts(unsigned long long out[EH__COUNT])
{
	memcpy(out, counts, sizeof(counts));
}

bool eh_window_allow(struct eh_window *w, int limit, int64_t now_ms)
{
	size_t cap = limit < 1 ? 1 : limit > EH_RATE_MAX ? EH_RATE_MAX : (size_t)limit;

	while (w->n && now_ms - w->t[w->head] >= EH_WINDOW_MS) {
		w->head = (w->head + 1) % EH_RATE_MAX;
		w->n--;
	}
	if (w->n >= cap)
		return false;
	w->t[(w->head + w->n) % EH_RATE_MAX] = now_ms;
	w->n++;
	return true;
}

static const char *str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The lines that mark a step of the whole (checks, waits and router steps in between are not):
 * the engine says so in a "milestone" member; lines without it are recognised by their
 * fixed wording. */
const char *event_hooks_milestone(const json_t *event)
{
	const char *status = str_field(event, "status"), *msg = str_field(event, "message");
	const char *phase = str_field(event, "phase"), *id = str_field(event, "id");
	size_t pl = phase ? strlen(phase) : 0;

	if (str_field(event, "milestone"))
		return str_field(event, "milestone");
	if (!status || !msg)
		return NULL;
	if (id && *id && starts_with(msg, "switchover ") && starts_with(msg + 11, id) &&
	    starts_with(msg + 11 + strlen(id), ": "))
		return "finished";
	if (!strcmp(status, "start"))
		return phase && !strcmp(msg, phase) ? NULL : "switchover_start";
	if (!strcmp(status, "ok") && starts_with(msg, "rolled back"))
		return "rolled_back";
	if (!phase || strncmp(msg, phase, pl))
		return NULL;
	if (!strcmp(status, "ok") && starts_with(msg + pl, " done in "))
		return "phase_ok";
	if (!strcmp(status, "fail") && starts_with(msg + pl, " failed: "))
		return "phase_fail";
	return NULL;
}

void event_hooks_fire(struct daemon *d, json_t *event)
{
	const char *type = str_field(event, "type"), *cluster = str_field(event, "cluster");
	const char *milestone = NULL;
	struct hook *h;
	struct eh_item it;

	hooks_d = d;
	sync_hooks(d);
	if (TAILQ_EMPTY(&hooks) || !type)
		return;
	if (!strcmp(type, "cutover") && !(milestone = event_hooks_milestone(event)))
		return;
	TAILQ_FOREACH(h, &hooks, entry) {
		if (!h->configured || (h->cluster && (!cluster || strcmp(h->cluster, cluster))))
			continue;
		if (item_make(&it, event, milestone))
			offer(h, &it);
	}
}

void event_hooks_stop(void)
{
	struct hook *h;

	while ((h = TAILQ_FIRST(&hooks))) {
		if (h->job)
			job_cancel(h->job);
		h->job = NULL;
		hook_free(h);
	}
	if (kick_ev)
		event_free(kick_ev);
	kick_ev = NULL;
	kick_base = NULL;
	hooks_d = NULL;
}

/* ---- matching the live config ---- */

static void sync_hooks(struct daemon *d)
{
	struct hook *h, *next;
	size_t i;

	TAILQ_FOREACH(h, &hooks, entry)
		h->configured = false;
	sync_list(d->cfg->event_hooks, NULL);
	for (i = 0; i < d->cfg->n_clusters; i++)
		sync_list(d->cfg->clusters[i].event_hooks, d->cfg->clusters[i].name);
	for (h = TAILQ_FIRST(&hooks); h; h = next) {
		next = TAILQ_NEXT(h, entry);
		if (h->configured)
			continue;
		hook_drop_queue(h, "the hook is no longer configured");
		if (!h->job)
			hook_free(h);   /* else when its run ends */
	}
}

static void sync_list(char *const *cmds, const char *cluster)
{
	struct hook *h;
	size_t i;

	for (i = 0; cmds && cmds[i]; i++) {
		if ((h = hook_find(cluster, cmds[i]))) {
			h->configured = true;
			continue;
		}
		h = xcalloc(1, sizeof(*h));
		h->cluster = xstrdup(cluster);
		h->cmd = xstrdup(cmds[i]);
		/* config_value.c checked that it splits into an absolute, safe program. */
		if (job_split_argv(cmds[i], &h->argv) <= 0) {
			log_err("event_hook '%s': cannot split the command", cmds[i]);
			free(h->cluster);
			free(h->cmd);
			free(h);
			continue;
		}
		h->configured = true;
		TAILQ_INSERT_TAIL(&hooks, h, entry);
	}
}

static struct hook *hook_find(const char *cluster, const char *cmd)
{
	struct hook *h;

	TAILQ_FOREACH(h, &hooks, entry) {
		if (!strcmp(h->cmd, cmd) && (cluster ? h->cluster && !strcmp(h->cluster, cluster) : !h->cluster))
			return h;
	}
	return NULL;
}

static void hook_drop_queue(struct hook *h, const char *why)
{
	while (h->q_len) {
		drop(h, &h->queue[h->q_head], why);
		h->q_head = (h->q_head + 1) % EH_QUEUE_MAX;
		h->q_len--;
	}
}

static void hook_free(struct hook *h)
{
	while (h->q_len) {
		item_free(&h->queue[h->q_head]);
		h->q_head = (h->q_head + 1) % EH_QUEUE_MAX;
		h->q_len--;
	}
	item_free(&h->cur);
	TAILQ_REMOVE(&hooks, h, entry);
	job_free_argv(h->argv);
	free(h->cluster);
	free(h->cmd);
	free(h);
}

/* ---- one event for one hook ---- */

static void iso_now(char *buf, size_t len)
{
	int64_t us = now_real_us();
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, (int)((us / 1000) % 1000));
}

/* The hook gets the event as the event stream shows it, plus its milestone, and a time
 * stamp when the line had none (switchover progress). */
static bool item_make(struct eh_item *it, const json_t *event, const char *milestone)
{
	json_t *copy = json_copy((json_t *)event);
	char ts[40], *text;
	size_t i, n = 0;

	memset(it, 0, sizeof(*it));
	if (!copy)
		return false;
	if (milestone)
		json_object_set_new(copy, "milestone", json_string(milestone));
	if (!json_object_get(copy, "ts")) {
		iso_now(ts, sizeof(ts));
		json_object_set_new(copy, "ts", json_string(ts));
	}
	text = json_dumps(copy, JSON_COMPACT | PROTO_JSON_REAL);
	if (text) {
		it->json = xasprintf("%s\n", text);
		free(text);
	}
	for (i = 0; i < EH_ENV_MAX; i++) {
		const char *v = str_field(copy, env_fields[i].field);
		if (v)
			it->env[n++] = xasprintf("%s=%s", env_fields[i].var, v);
	}
	it->cluster = xstrdup(str_field(copy, "cluster"));
	it->type = xstrdup(str_field(copy, "type"));
	json_decref(copy);
	if (!it->json) {
		item_free(it);
		return false;
	}
	return true;
}

static void item_free(struct eh_item *it)
{
	size_t i;

	free(it->json);
	for (i = 0; it->env[i]; i++)
		free(it->env[i]);
	free(it->cluster);
	free(it->type);
	memset(it, 0, sizeof(*it));
}

/* Takes `it`: it runs now, waits, or is dropped. */
static void offer(struct hook *h, struct eh_item *it)
{
	struct log_ctx ctx = { it->cluster, NULL, NULL, NULL };
	int rate = hooks_d->cfg->event_hook_rate;
	char why[96];

	if (h->q_len == EH_QUEUE_MAX) {
		snprintf(why, sizeof(why), "%d events are already waiting for it", EH_QUEUE_MAX);
		drop(h, it, why);
		return;
	}
	if (!eh_window_allow(&h->win, rate, now_mono_ms())) {
		snprintf(why, sizeof(why), "it ran %d times in the last minute (event_hook_rate = %d)", rate, rate);
		drop(h, it, why);
		return;
	}
	if (h->dropped) {
		log_ctx(LOG_NOTICE, &ctx, "event hook %s: runs again after %llu dropped event%s", h->argv[0],
			h->dropped, h->dropped == 1 ? "" : "s");
		h->dropped = 0;
	}
	h->queue[(h->q_head + h->q_len) % EH_QUEUE_MAX] = *it;
	h->q_len++;
	if (!h->job)
		kick();
}

static void kick(void)
{
	if (kick_ev && kick_base != hooks_d->base) {
		event_free(kick_ev);
		kick_ev = NULL;
	}
	if (!kick_ev) {
		kick_base = hooks_d->base;
		kick_ev = event_new(kick_base, -1, 0, kick_cb, NULL);
	}
	event_active(kick_ev, EV_TIMEOUT, 0);
}

/* Every idle hook with an event waiting starts its next run. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h;
	struct eh_item next;

	TAILQ_FOREACH(h, &hooks, entry) {
		if (h->job || !h->q_len || !h->configured)
			continue;
		next = h->queue[h->q_head];
		h->q_head = (h->q_head + 1) % EH_QUEUE_MAX;
		h->q_len--;
		run(h, &next);
	}
}

/* The first drop of a series is a warning; the rest would flood the log with the same line. */
static void drop(struct hook *h, struct eh_item *it, const char *why)
{
	struct log_ctx ctx = { it->cluster, NULL, NULL, NULL };

	counts[EH_DROPPED]++;
	log_ctx(h->dropped ? LOG_DEBUG : LOG_WARNING, &ctx, "event hook %s: %s event dropped: %s", h->argv[0],
		it->type ? it->type : "?", why);
	h->dropped++;
	item_free(it);
}

static void run(struct hook *h, struct eh_item *it)
{
	struct log_ctx ctx = { it->cluster, NULL, NULL, NULL };

	h->cur = *it;
	h->job = job_run(hooks_d->base, (const char *const *)h->argv, (const char *const *)h->cur.env,
			 h->cur.json, hooks_d->cfg->event_hook_timeout_ms, hook_done, h, &ctx);
}

static void hook_done(struct job_result *r, void *arg)
{
	struct hook *h = arg;
	struct log_ctx ctx = { h->cur.cluster, NULL, NULL, NULL };
	const char *type = h->cur.type ? h->cur.type : "?";
	char how[256], last[256];
	enum eh_result res;

	res = r->timed_out ? EH_TIMEOUT : job_result_ok(r) ? EH_OK : EH_FAILED;
	counts[res]++;
	job_result_describe(r, how, sizeof(how));
	job_result_last_line(r, last, sizeof(last));
	if (res == EH_OK)
		log_ctx(LOG_DEBUG, &ctx, "event hook %s: %s event delivered in %lld ms", h->argv[0], type,
			(long long)r->duration_ms);
	else
		log_ctx(LOG_WARNING, &ctx, "event hook %s on a %s event: %s%s%s (not retried)", h->argv[0], type,
			how, *last ? "; its last line: " : "", last);
	h->job = NULL;
	item_free(&h->cur);
	if (!h->configured) {
		hook_free(h);
		return;
	}
	if (h->q_len)
		kick();
}
