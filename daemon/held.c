/* Servers held at a fence point (the rollback point of an upgrade switchover).  See held.h. */
#include "held.h"
#include "daemon.h"
#include "topology.h"
#include "util.h"
#include "watchdog.h"

#include <stdlib.h>
#include <string.h>

static struct held *find(const struct cluster *c, const char *server);
static void set(struct cluster *c, const char *server, const char *fence_point, const char *why, int64_t since_us);
static void forget(struct cluster *c, struct held *h);

static struct held *find(const struct cluster *c, const char *server)
{
	size_t i;
	for (i = 0; server && i < c->n_held; i++)
		if (!strcmp(c->held[i].server, server))
			return &c->held[i];
	return NULL;
}

const struct held *held_find(const struct cluster *c, const char *server)
{
	return find(c, server);
}

static void set(struct cluster *c, const char *server, const char *fence_point, const char *why, int64_t since_us)
{
	struct held *h = find(c, server);

	if (!h) {
		c->held = xrealloc(c->held, (c->n_held + 1) * sizeof(*c->held));
		h = &c->held[c->n_held++];
		memset(h, 0, sizeof(*h));
		h->server = xstrdup(server);
	}
	free(h->fence_point);
	free(h->why);
	h->fence_point = fence_point ? xstrdup(fence_point) : NULL;
	h->why = xstrdup(why ? why : "");
	h->since_us = since_us;
}

static void forget(struct cluster *c, struct held *h)
{
	free(h->server);
	free(h->fence_point);
	free(h->why);
	*h = c->held[--c->n_held];
}

void held_add(struct daemon *d, struct cluster *c, const char *server, const char *fence_point, const char *why)
{
	int64_t now = now_real_us();

	set(c, server, fence_point, why, now);
	wd_journal(d, c, "held", json_pack("{s:s, s:b, s:s?, s:s, s:I}", "server", server, "on", 1, "fence_point",
					   fence_point, "why", why ? why : "", "since_us", (json_int_t)now));
	wd_event(d, c, "held", server, "%s is held at the fence point %s: %s", server, fence_point ? fence_point : "?",
		 why ? why : "");
}

void held_release(struct daemon *d, struct cluster *c, const char *server, const char *why)
{
	struct held *h = find(c, server);

	if (!h)
		return;
	wd_journal(d, c, "held", json_pack("{s:s, s:b, s:s}", "server", server, "on", 0, "why", why));
	wd_event(d, c, "held", server, "%s is no longer held at the fence point %s: %s", server,
		 h->fence_point ? h->fence_point : "?", why);
	forget(c, h);
}

void held_check(struct daemon *d, struct cluster *c)
{
	const struct topology *t = &c->topo;
	const struct server *p = t->primary >= 0 && (size_t)t->primary < c->n_servers ? c->servers[t->primary] : NULL;
	size_t i = 0;

	while (i < c->n_held) {
		const char *name = c->held[i].server;
		const struct server *s = daemon_server(d, name);
		char *why = NULL;

		if (!s || s->cluster != c)
			why = xstrdup("it is no longer configured in this cluster");
		else if (s == p && t->n_writable == 1)
			why = xstrdup("it is the writable primary again");
		else if (p && s != p && s->st.reachable && s->st.repl.configured && s->st.repl.io == THREAD_YES &&
			 s->st.repl.sql == THREAD_YES &&
			 topo_same_endpoint(s->st.repl.source_host, s->st.repl.source_port, p->cfg->host, p->cfg->port))
			why = xasprintf("it replicates from the primary %s again", p->cfg->name);
		if (!why) {
			i++;
			continue;
		}
		held_release(d, c, name, why);   /* the entry at i is now another one */
		free(why);
	}
}

void held_replay(struct cluster *c, const json_t *e)
{
	const char *server = json_string_value(json_object_get(e, "server"));
	struct held *h;

	if (!server)
		return;
	if (json_is_true(json_object_get(e, "on")))
		set(c, server, json_string_value(json_object_get(e, "fence_point")),
		    json_string_value(json_object_get(e, "why")),
		    (int64_t)json_integer_value(json_object_get(e, "since_us")));
	else if ((h = find(c, server)))
		forget(c, h);
}

json_t *held_json(const struct cluster *c)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < c->n_held; i++) {
		const struct held *h = &c->held[i];
		char since[40];
		iso_time(h->since_us, since, sizeof(since));
		json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:s}", "server", h->server, "fence_point",
						     h->fence_point ? json_string(h->fence_point) : json_null(), "since",
						     since, "why", h->why));
	}
	return arr;
}

json_t *held_state(const struct cluster *c)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < c->n_held; i++) {
		const struct held *h = &c->held[i];
		json_array_append_new(arr, json_pack("{s:s, s:s?, s:s, s:I}", "server", h->server, "fence_point",
						     h->fence_point, "why", h->why, "since_us", (json_int_t)h->since_us));
	}
	return arr;
}

static const json_t *in_list(const json_t *list, const char *server)
{
	size_t k;
	const json_t *e;

	json_array_foreach(list, k, e)
		if (!strcmp(json_string_value(json_object_get(e, "server")) ?: "", server))
			return e;
	return NULL;
}

void held_adopt(struct daemon *d, struct cluster *c, const json_t *list)
{
	size_t i = 0, k;
	const json_t *e;

	while (i < c->n_held) {
		if (in_list(list, c->held[i].server)) {
			i++;
			continue;
		}
		held_release(d, c, c->held[i].server, "the leader's list in etcd does not hold it");
	}
	json_array_foreach(list, k, e) {
		const char *server = json_string_value(json_object_get(e, "server"));
		const char *fp = json_string_value(json_object_get(e, "fence_point"));
		const char *why = json_string_value(json_object_get(e, "why"));
		const struct held *h = held_find(c, server);
		int64_t since = (int64_t)json_integer_value(json_object_get(e, "since_us"));

		if (!server || !daemon_server(d, server) || (h && !strcmp(h->fence_point ?: "", fp ?: "")))
			continue;
		set(c, server, fp, why, since);
		wd_journal(d, c, "held", json_pack("{s:s, s:b, s:s?, s:s, s:I}", "server", server, "on", 1, "fence_point", fp,
						   "why", why ? why : "", "since_us", (json_int_t)since));
		wd_event(d, c, "held", server, "%s is held at the fence point %s (from the leader's list in etcd): %s",
			 server, fp ? fp : "?", why ? why : "");
	}
}

void held_free_all(struct cluster *c)
{
	while (c->n_held)
		forget(c, &c->held[c->n_held - 1]);
	free(c->held);
	c->held = NULL;
}

void held_carry_over(struct cluster *to, struct cluster *from)
{
	to->held = from->held;
	to->n_held = from->n_held;
	from->held = NULL;
	from->n_held = 0;
}
