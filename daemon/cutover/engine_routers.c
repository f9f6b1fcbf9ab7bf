/* The cutover engine's router calls (engine.h): an operation, or a poll, on every router of the
 * cluster (or those that hold), one at a time per router, guarded by the cutover's epoch like its
 * database calls. */
#include "daemon.h"
#include "engine.h"
#include "ha.h"
#include "router.h"
#include "util.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Routers are polled by poll.c too; a driver runs one operation at a time. */
typedef void (*router_op_fn)(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

/* A router call in flight outlives a cutover that ends meanwhile (a deadline, a rollback):
 * switchover_free detaches it (sw = NULL) and its answer is then dropped. */
struct router_call {
	struct switchover *sw;          /* NULL once detached */
	unsigned epoch;
	struct router *r;
	router_op_fn op;
	router_cb done;
	struct event *retry;            /* waiting for a busy router */
	bool issued;                    /* the driver has it */
	struct router_call *next;       /* sw->rcalls */
};

static void router_call_start(evutil_socket_t fd, short what, void *arg);

static void router_call_unlink(struct router_call *rc)
{
	struct router_call **p;
	for (p = &rc->sw->rcalls; *p; p = &(*p)->next)
		if (*p == rc) {
			*p = rc->next;
			break;
		}
}

static void router_call_done(struct router *r, int err, const char *msg, void *arg)
{
	struct router_call *rc = arg;
	router_cb done = rc->done;
	struct switchover *sw = rc->sw;
	bool current;

	if (rc->retry)
		event_free(rc->retry);
	if (!sw) {
		free(rc);
		return;
	}
	current = rc->epoch == sw->epoch;   /* the same guard as sw_db_run's */
	router_call_unlink(rc);
	free(rc);
	if (current)
		done(r, err, msg, sw);
}

void sw_router_calls_detach(struct switchover *sw)
{
	while (sw->rcalls) {
		struct router_call *rc = sw->rcalls;
		sw->rcalls = rc->next;
		if (rc->issued) {
			rc->sw = NULL;   /* freed when the driver answers */
			continue;
		}
		if (rc->retry)
			event_free(rc->retry);
		free(rc);
	}
}

static void router_call_start(evutil_socket_t fd, short what, void *arg)
{
	struct router_call *rc = arg;
	if (rc->r->busy) {
		struct timeval tv = { 0, 2000 };
		if (!rc->retry)
			rc->retry = evtimer_new(rc->sw->d->base, router_call_start, rc);
		evtimer_add(rc->retry, &tv);
		return;
	}
	/* a member that no longer leads changes nothing, whatever was queued before it knew: the
	 * call never answers, and the end of its leadership ends the cutover here (ha.h) */
	if (rc->op && !ha_acting(rc->sw->d->ha))
		return;
	rc->issued = true;
	if (rc->op)
		rc->op(rc->r, &rc->sw->rsw, router_call_done, rc);
	else
		rc->r->ops->poll(rc->r, router_call_done, rc);
}

static int routers_run(struct switchover *sw, size_t op_offset, router_cb done, int holds);

/* Run op (NULL = poll) on every router of the cluster; `done` once per router. */
int sw_routers_each(struct switchover *sw, size_t op_offset, router_cb done)
{
	return routers_run(sw, op_offset, done, -1);
}

int sw_routers_some(struct switchover *sw, size_t op_offset, router_cb done, bool holds)
{
	return routers_run(sw, op_offset, done, holds);
}

double sw_blocked_ms(const struct switchover *sw)
{
	return sw->routed_us && sw->window_start_us ? (double)(sw->routed_us - sw->window_start_us) / 1000.0 : -1;
}

/* holds: -1 every router, else only those whose ops->holds is that */
static int routers_run(struct switchover *sw, size_t op_offset, router_cb done, int holds)
{
	size_t i;
	int n = 0;
	/* exec hooks see it as CUTOVER_PHASE */
	sw->rsw.phase = sw->state == SW_ROLLING_BACK ? "rollback" : phase_names[sw->phase];
	for (i = 0; i < sw->c->n_routers; i++) {
		struct router_call *rc;
		if (holds >= 0 && sw->c->routers[i]->ops->holds != (holds == 1))
			continue;
		rc = xcalloc(1, sizeof(*rc));
		rc->sw = sw;
		rc->epoch = sw->epoch;
		rc->r = sw->c->routers[i];
		rc->op = op_offset ? *(router_op_fn *)((char *)rc->r->ops + op_offset) : NULL;
		rc->done = done;
		rc->next = sw->rcalls;
		sw->rcalls = rc;
		n++;
		router_call_start(-1, 0, rc);
	}
	return n;
}
