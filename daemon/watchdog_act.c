/* The watchdog's actions (watchdog.h): the split-brain policy, the fences it keeps (a server it
 * fenced that is writable again) and the automatic-failover decision.  The evaluation in
 * watchdog.c calls them on the member that acts. */
#include "daemon.h"
#include "fence.h"
#include "log.h"
#include "router.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"
#include "watchdog_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_RETRY_MS 10000          /* the split-brain policy acts again at most this often */

/* ------------------------------------------------------------------------------------------ */
/* split-brain policy */

void wd_split_brain_act(struct daemon *d, struct cluster *c)
{
	const struct topology *t = &c->topo;
	struct server *auth = c->authority ? daemon_server(d, c->authority) : NULL;
	char why[300] = "";
	size_t i;
	int auth_idx = -1;

	if (c->cfg->splitbrain == SB_ALERT || c->cutover || c->actions_running)
		return;
	if (c->last_sb_action_us && now_mono_us() - c->last_sb_action_us < SB_RETRY_MS * 1000LL)
		return;
	for (i = 0; auth && i < c->n_servers; i++)
		if (c->servers[i] == auth)
			auth_idx = (int)i;
	if (!auth || auth_idx < 0)
		snprintf(why, sizeof(why), "no primary recorded in the journal");
	else if (auth->health.state != HEALTH_UP || auth->st.read_only != 0)
		snprintf(why, sizeof(why), "the recorded primary %s is not a writable, reachable server", auth->cfg->name);
	else
		routers_write_to(c->routers, c->n_routers, auth->cfg->name, why, sizeof(why));
	if (*why) {
		wd_observe(c, "split_brain_unresolved", NULL, VERDICT_CRIT,
			xasprintf("authority unclear (%s): nothing fenced; decide which server is the primary "
				  "and `cutoverctl fence` the others", why));
		return;
	}
	c->last_sb_action_us = now_mono_us();
	for (i = 0; i < c->n_servers && i < t->n; i++) {
		struct server *s = c->servers[i];
		char *reason;
		if (s == auth || s->st.read_only != 0 || !s->st.reachable)
			continue;
		reason = xasprintf("split-brain: %s is writable but %s is the primary", s->cfg->name, auth->cfg->name);
		fence_action(d, c, s, c->cfg->splitbrain == SB_STONITH ? "stonith" : "fence", reason);
		free(reason);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* sticky fences */

/* A fence that sticks: a server cutoverd fenced and that answers writable again — restarted
 * with read_only=OFF in its my.cnf (MariaDB has no SET PERSIST), or unfenced by hand — is not
 * the authority: seen so by two polls in a row, it is fenced again (or, with split_brain =
 * alert, the alarm fence_lost is raised, by the alarms' own hysteresis).  Read from the raw
 * poll, not the health hysteresis, which would add polls. */
void wd_sticky_check(struct daemon *d, struct cluster *c)
{
	int64_t now = now_mono_ms();
	size_t i;

	for (i = 0; i < c->n_sticky; i++) {
		struct sticky *k = &c->sticky[i];
		struct server *s = daemon_server(d, k->server);
		char *reason;

		if (!s || s->cluster != c || (c->authority && !strcmp(c->authority, k->server)) || !s->st.reachable ||
		    s->st.read_only != 0) {
			k->seen = 0;
			continue;
		}
		if (c->cfg->splitbrain == SB_ALERT) {
			wd_observe(c, "fence_lost", s->cfg->name, VERDICT_CRIT,
				xasprintf("%s, fenced by cutoverd, is writable again%s%s: fence it (cutoverctl fence %s)",
					  s->cfg->name, c->authority ? "; the primary is " : "",
					  c->authority ? c->authority : "", s->cfg->name));
			continue;
		}
		if (k->seen_ms && now - k->seen_ms < d->cfg->poll_interval_ms / 2)
			continue;   /* an extra evaluation, not another poll */
		k->seen_ms = now;
		if (++k->seen < 2 || cluster_busy(c))
			continue;
		k->seen = 0;
		reason = xasprintf("%s was fenced by cutoverd and is writable again%s%s", s->cfg->name,
				   c->authority ? "; the primary is " : "", c->authority ? c->authority : "");
		fence_action(d, c, s, "fence", reason);
		free(reason);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* automatic failover */

void wd_auto_failover_check(struct daemon *d, struct cluster *c)
{
	struct server *p = c->authority ? daemon_server(d, c->authority) : NULL;
	char evidence[800];
	size_t off = 0, i;
	int followers = 0, disconnected = 0;
	struct log_ctx ctx = { c->cfg->name, NULL, NULL, NULL };

	if (!p || p->cluster != c)
		return;
	/* failover_after counts the poller's consecutive failed polls of the primary (real
	 * connection attempts, spaced by its backoff), not evaluations, which extra rounds add. */
	if (p->st.reachable) {
		c->primary_fail_evals = 0;
		return;
	}
	c->primary_fail_evals = p->consecutive_failures;
	if (!c->cfg->auto_failover || cluster_busy(c) || c->primary_fail_evals < c->cfg->failover_after)
		return;
	/* Independent confirmation: the replicas themselves must have lost the primary. */
	evidence[0] = '\0';
	for (i = 0; i < c->n_servers; i++) {
		const struct server *s = c->servers[i];
		if (s == p || !s->st.reachable || !s->st.repl.configured ||
		    !topo_same_endpoint(s->st.repl.source_host, s->st.repl.source_port, p->cfg->host, p->cfg->port))
			continue;
		followers++;
		disconnected += s->st.repl.io != THREAD_YES;
		if (off < sizeof(evidence))
			off += (size_t)snprintf(evidence + off, sizeof(evidence) - off, "%s%s IO %s%s%s", off ? "; " : "",
						s->cfg->name, thread_state_name(s->st.repl.io),
						s->st.repl.last_io_errno ? " " : "", s->st.repl.last_io_error);
	}
	if (followers == 0) {
		wd_observe(c, "primary_isolated", p->cfg->name, VERDICT_CRIT,
			xasprintf("%s unreachable for %d polls and no reachable replica follows it: no automatic failover",
				  p->cfg->name, c->primary_fail_evals));
		return;
	}
	if (disconnected < followers) {
		wd_observe(c, "primary_isolated", p->cfg->name, VERDICT_CRIT,
			xasprintf("cutoverd cannot reach %s, but its replicas still do (%s): no failover", p->cfg->name,
				  evidence));
		return;
	}
	if (c->auto_retry_after_us && now_real_us() < c->auto_retry_after_us) {
		wd_observe(c, "auto_failover_failed", p->cfg->name, VERDICT_CRIT,
			xasprintf("%s is dead, and the last automatic failover attempt did not go through; "
				  "trying again in %lld s (or fail over by hand: cutoverctl failover)", p->cfg->name,
				  (long long)((c->auto_retry_after_us - now_real_us()) / 1000000)));
		return;
	}
	if (c->last_auto_failover_us &&
	    now_real_us() - c->last_auto_failover_us < (int64_t)c->cfg->failover_block_ms * 1000) {
		wd_observe(c, "auto_failover_blocked", p->cfg->name, VERDICT_CRIT,
			xasprintf("%s is dead (%s), but an automatic failover already happened %lld s ago "
				  "(failover_block %d s): fail over by hand (cutoverctl failover)", p->cfg->name, evidence,
				  (long long)((now_real_us() - c->last_auto_failover_us) / 1000000),
				  c->cfg->failover_block_ms / 1000));
		return;
	}
	{
		char err[512];
		log_ctx(LOG_WARNING, &ctx, "primary %s declared dead: unreachable for %d polls and its replicas "
					   "lost it too (%s): automatic failover", p->cfg->name, c->primary_fail_evals, evidence);
		c->prev_auto_failover_us = c->last_auto_failover_us;
		c->last_auto_failover_us = now_real_us();
		wd_journal(d, c, "auto_failover", json_pack("{s:s, s:i, s:s, s:I}", "dead_primary", p->cfg->name,
							    "failed_polls", c->primary_fail_evals, "evidence", evidence,
							    "at_us", (json_int_t)c->last_auto_failover_us));
		wd_event(d, c, "auto_failover", p->cfg->name, "primary %s declared dead (%s): starting automatic failover",
			 p->cfg->name, evidence);
		struct failover_opts o = { .automatic = true };
		if (switchover_start_failover(d, c, NULL, NULL, &o, err, sizeof(err)) < 0) {
			wd_observe(c, "auto_failover_failed", p->cfg->name, VERDICT_CRIT,
				xasprintf("automatic failover could not start: %s", err));
			log_ctx(LOG_ERR, &ctx, "automatic failover could not start: %s", err);
		}
	}
}
