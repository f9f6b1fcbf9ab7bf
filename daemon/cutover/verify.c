/* verify: a probe write through the router lands on the new primary; exactly one writable
 * server; every replica replicates from it; the routers agree — from polls started after. */
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "event_hooks.h"
#include "gtid.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* verify */

static void verify_round(evutil_socket_t fd, short what, void *arg);

static void probe_done(struct db *db, struct db_result *res, void *arg)
{
	struct switchover *sw = arg;
	const char *sid = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	long long id;

	if (res->err) {
		sw_set_failure(sw, "probe write through the router failed: %s", res->errmsg);
	} else if (res->rs[0]->affected < 1) {
		sw_set_failure(sw, "probe write through the router landed on a read-only server (server_id %s)",
			    sid ? sid : "?");
	} else if (!sid || !parse_ll(sid, 0, LLONG_MAX, &id) || (unsigned long long)id != sw->cand->st.server_id) {
		sw_set_failure(sw, "probe write landed on server_id %s, not on %s (server_id %llu)", sid ? sid : "?",
			    sw->new_name, sw->cand->st.server_id);
	} else {
		sw_emit(sw, "ok", "probe write through the router landed on %s", sw->new_name);
	}
	db_result_free(res);
	db_free(sw->db_probe);
	sw->db_probe = NULL;
	if (sw->failures) {
		sw_phase_failed(sw, "%s", sw->first_failure);
		return;
	}
	/* Now the topology, from fresh polls. */
	sw->verify_waiting = true;
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->promote_timeout_ms * 1000;
	sw->fresh_since_us = now_mono_us();
	sw_io.poll_now(sw->d, sw->c);
}

void enter_verify(struct switchover *sw)
{
	const struct cfg_router *probe_router = NULL;
	size_t i;

	sw->c->hb_paused = false;
	for (i = 0; i < sw->c->n_routers; i++)
		if (sw->c->routers[i]->cfg->write_endpoint)
			probe_router = sw->c->routers[i]->cfg;
	if (probe_router) {
		const char *ep = probe_router->write_endpoint;
		const char *colon = strrchr(ep, ':');
		char *host = colon ? strndup(ep, (size_t)(colon - ep)) : xstrdup(ep);
		struct db_target t = {
			.host = host, .port = colon ? atoi(colon + 1) : 3306, .user = sw->cand->cfg->user,
			.password = sw->cand->cfg->secret.password, .tls_mode = sw->cand->cfg->tls_mode,
			.tls_ca = sw->cand->cfg->tls_ca, .tls_cert = sw->cand->cfg->tls_cert,
			.tls_key = sw->cand->cfg->tls_key, .server_public_key = sw->cand->cfg->server_public_key,
		};
		struct db *db = sw->db_probe = db_new(sw->d->base, "probe");
		const struct flavor_ops *f = sw_flavor_of(sw->cand);
		char *q[2];
		db_set_target(db, &t, sw->d->cfg->connect_timeout_ms);
		q[0] = xasprintf(f->sql[SQL_HEARTBEAT_WRITE], sw_ccfg(sw)->heartbeat_table, (long long)now_real_us());
		q[1] = xstrdup("SELECT @@server_id");
		sw_db_run(sw, db, (const char *const *)q, 2, sw_ccfg(sw)->promote_timeout_ms, probe_done);
		free(q[0]);
		free(q[1]);
		free(host);
		return;
	}
	sw_emit(sw, "info", "no router has write_endpoint: the probe write is skipped");
	sw->verify_waiting = true;
	sw->deadline_us = now_mono_us() + (int64_t)sw_ccfg(sw)->promote_timeout_ms * 1000;
	sw->fresh_since_us = now_mono_us();
	sw_io.poll_now(sw->d, sw->c);
}

static void verify_repoll(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->verify_waiting = true;
	sw_io.poll_now(sw->d, sw->c);
}

/* Has every server been observed by a poll that started at or after `t`?  (A poll still in
 * flight when a round starts is skipped by that round, so "the next round" is not enough.)
 * Servers known down may be skipped: their backoff can space polls by seconds. */
static bool observed_since(const struct cluster *c, int64_t t, bool skip_down)
{
	size_t i;
	for (i = 0; i < c->n_servers; i++) {
		const struct server *s = c->servers[i];
		if (skip_down && s->health.state == HEALTH_DOWN)
			continue;
		if (s->observed_us < t)
			return false;
	}
	return true;
}

/* Is the cluster as it should be after the switchover?  NULL if so, else what is not. */
static char *verify_problem(struct switchover *sw)
{
	struct cluster *c = sw->c;
	size_t i;

	if (c->topo.n_writable != 1 || c->topo.primary < 0 || c->servers[c->topo.primary] != sw->cand ||
	    (sw->failover && sw->old->st.reachable && sw->old->st.read_only == 0))
		return xasprintf("%d writable server%s; primary %s", c->topo.n_writable,
				 c->topo.n_writable == 1 ? "" : "s",
				 c->topo.primary >= 0 ? c->servers[c->topo.primary]->cfg->name : "none");
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		/* after an upgrade the old primary replicates from nothing; replicas held or left at the
		 * fence point follow nobody new */
		if (s == sw->cand || (s == sw->old && (!sw->reverse || sw->upgrade || sw->hold_old)) ||
		    s->health.state != HEALTH_UP ||
		    sw_rep_fate(sw, s) != REP_FOLLOW)
			continue;
		if (sw->failover) {
			size_t e;
			json_t *x;
			bool left = false;
			json_array_foreach(sw->errant, e, x)
				left |= !strcmp(json_string_value(json_object_get(x, "server")), s->cfg->name);
			if (left)
				continue;
		}
		if (c->topo.srv[i].source != c->topo.primary)
			return xasprintf("%s does not replicate from %s", s->cfg->name, sw->new_name);
		if (s->st.repl.io != THREAD_YES || s->st.repl.sql != THREAD_YES)
			return xasprintf("%s: IO %s, SQL %s", s->cfg->name, thread_state_name(s->st.repl.io),
					 thread_state_name(s->st.repl.sql));
		if (s->st.read_only != 1)
			return xasprintf("%s is writable", s->cfg->name);
	}
	{
		char why[300];
		if (!routers_write_to(c->routers, c->n_routers, sw->new_name, why, sizeof(why)))
			return xstrdup(why);
	}
	return NULL;
}

static void verify_round(evutil_socket_t fd, short what, void *arg)
{
	struct switchover *sw = arg;
	sw->verify_waiting = true;
	sw->fresh_since_us = now_mono_us();
	sw_io.poll_now(sw->d, sw->c);
}

void switchover_on_evaluate(struct switchover *sw)
{
	char *problem;

	if (sw->awaiting_fresh) {
		if (observed_since(sw->c, sw->fresh_since_us, false))
			sw_finish(sw, SW_FAILED);
		return;
	}
	if (sw->state != SW_RUNNING || sw->phase != PH_VERIFY || !sw->verify_waiting)
		return;
	if (!observed_since(sw->c, sw->fresh_since_us, true)) {
		/* a poll that was in flight when the round began: ask again in a moment */
		sw->verify_waiting = false;
		sw_timer_arm(sw, 20, verify_repoll);
		return;
	}
	/* the routers' polls of this round may still run; a short while later is soon enough */
	sw->verify_waiting = false;
	problem = verify_problem(sw);
	if (!problem) {
		sw_emit(sw, "ok", "one writable server (%s); replicas follow it; routers agree", sw->new_name);
		sw_phase_next(sw);
		return;
	}
	if (now_mono_us() >= sw->deadline_us) {
		sw_phase_failed(sw, "the cluster did not settle: %s", problem);
		free(problem);
		return;
	}
	free(problem);
	sw_timer_arm(sw, 50, verify_round);
}

