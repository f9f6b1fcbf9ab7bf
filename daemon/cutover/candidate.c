/* Choosing the new primary: the best candidate of a switchover (a healthy direct replica,
 * least lag) and of a failover (the replica that received the most from the dead primary). */
#include "daemon.h"
#include "engine.h"
#include "gtid.h"
#include "topology.h"

#include <stddef.h>

/* The best candidate: a healthy direct replica, not `never`, least lag, most advanced. */
struct server *candidate_best(struct cluster *c, int max_lag_ms)
{
	struct server *best = NULL;
	size_t i;
	for (i = 0; i < c->n_servers && i < c->topo.n; i++) {
		struct server *s = c->servers[i];
		const struct topo_server *ts = &c->topo.srv[i];
		if (ts->role != ROLE_REPLICA || ts->source != c->topo.primary || s->cfg->candidate == CAND_NEVER ||
		    s->health.state != HEALTH_UP || s->st.repl.io != THREAD_YES || s->st.repl.sql != THREAD_YES ||
		    s->st.heartbeat_lag_ms < 0 || s->st.heartbeat_lag_ms > max_lag_ms || ts->n_problems)
			continue;
		if (!best) {
			best = s;
			continue;
		}
		if ((s->cfg->candidate == CAND_PREFER) != (best->cfg->candidate == CAND_PREFER)) {
			if (s->cfg->candidate == CAND_PREFER)
				best = s;
			continue;
		}
		if (s->st.heartbeat_lag_ms != best->st.heartbeat_lag_ms) {
			if (s->st.heartbeat_lag_ms < best->st.heartbeat_lag_ms)
				best = s;
			continue;
		}
		if (server_status_gtid(&s->st) && server_status_gtid(&best->st) &&
		    gtid_str_contains(s->flavor && s->flavor->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL,
				      server_status_gtid(&s->st), server_status_gtid(&best->st)) == 1 &&
		    gtid_str_contains(s->flavor && s->flavor->id == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL,
				      server_status_gtid(&best->st), server_status_gtid(&s->st)) != 1)
			best = s;
	}
	return best;
}

/* The replica that received the most from the dead primary (never a `candidate = never`). */
struct server *candidate_most_advanced(struct cluster *c, const struct server *old)
{
	struct server *best = NULL;
	size_t i;

	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		const char *pos, *bpos;
		enum gtid_kind k;
		if (s == old || !s->st.reachable || s->health.state == HEALTH_DOWN || !s->st.repl.configured ||
		    s->cfg->candidate == CAND_NEVER ||
		    !topo_same_endpoint(s->st.repl.source_host, s->st.repl.source_port, old->cfg->host, old->cfg->port))
			continue;
		if (!best) {
			best = s;
			continue;
		}
		k = s->flavor && s->flavor->id != FLAVOR_MARIADB ? GTID_MYSQL : GTID_MARIADB;
		pos = s->st.repl.gtid_io_pos ? s->st.repl.gtid_io_pos : server_status_gtid(&s->st);
		bpos = best->st.repl.gtid_io_pos ? best->st.repl.gtid_io_pos : server_status_gtid(&best->st);
		if (pos && bpos && gtid_str_contains(k, pos, bpos) == 1 && gtid_str_contains(k, bpos, pos) != 1)
			best = s;
		else if (pos && bpos && gtid_str_contains(k, pos, bpos) == 1 && s->cfg->candidate == CAND_PREFER &&
			 best->cfg->candidate != CAND_PREFER)
			best = s;
	}
	return best;
}
