/* Topology and verdict rules.  See topology.h. */
#include "topology.h"
#include "gtid.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add_problem(struct topology *t, size_t i, enum verdict sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

bool health_observe(struct health *h, bool reachable, int n, int64_t now_ms)
{
	enum health_state obs = reachable ? HEALTH_UP : HEALTH_DOWN;

	if (n < 1)
		n = 1;
	if (obs == h->state) {
		h->pending = h->state;
		h->count = 0;
		return false;
	}
	if (obs != h->pending) {
		h->pending = obs;
		h->count = 0;
	}
	if (++h->count < n)
		return false;
	h->state = obs;
	h->count = 0;
	h->since_ms = now_ms;
	return true;
}

bool verdict_observe(struct verdict_state *v, enum verdict raw, int n, int64_t now_ms)
{
	if (n < 1)
		n = 1;
	if (raw == v->shown) {
		v->pending = v->shown;
		v->count = 0;
		return false;
	}
	if (raw != v->pending) {
		v->pending = raw;
		v->count = 0;
	}
	if (++v->count < n)
		return false;
	v->shown = raw;
	v->count = 0;
	v->since_ms = now_ms;
	return true;
}

void verdict_hold_reasons(struct verdict_state *v, enum verdict raw, char *const *reasons, size_t n)
{
	size_t i;

	if (raw != v->shown)
		return;
	verdict_state_free(v);
	v->reasons = xcalloc(n ? n : 1, sizeof(char *));
	for (i = 0; i < n; i++)
		v->reasons[i] = xstrdup(reasons[i]);
	v->n_reasons = n;
}

void verdict_state_free(struct verdict_state *v)
{
	size_t i;

	for (i = 0; i < v->n_reasons; i++)
		free(v->reasons[i]);
	free(v->reasons);
	v->reasons = NULL;
	v->n_reasons = 0;
}

const char *verdict_name(enum verdict v)
{
	static const char *names[] = { "UNKNOWN", "OK", "WARN", "CRIT" };
	return names[v];
}

const char *health_name(enum health_state h)
{
	static const char *names[] = { "unknown", "up", "down" };
	return names[h];
}

const char *role_name(enum server_role r)
{
	static const char *names[] = { "unknown", "primary", "replica", "orphan", "rollback_point" };
	return names[r];
}

/* Every address of 127.0.0.0/8 is this host's loopback, like localhost and ::1. */
static bool is_loopback(const char *h)
{
	return !strcasecmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

bool topo_same_endpoint(const char *host_a, int port_a, const char *host_b, int port_b)
{
	if (!host_a || !host_b || port_a != port_b)
		return false;
	if (!strcasecmp(host_a, host_b))
		return true;
	return is_loopback(host_a) && is_loopback(host_b);
}

static void add_problem(struct topology *t, size_t i, enum verdict sev, const char *fmt, ...)
{
	struct topo_server *s = &t->srv[i];
	va_list ap;
	char *msg;

	if (s->n_problems == TOPO_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("?");
	va_end(ap);
	s->problems[s->n_problems++] = msg;
	if (sev > s->severity)
		s->severity = sev;
}

void topology_add_reason(struct topology *t, enum verdict sev, char *msg)
{
	t->reasons = xrealloc(t->reasons, (t->n_reasons + 1) * sizeof(char *));
	t->reasons[t->n_reasons++] = msg;
	if (sev > t->raw)
		t->raw = sev;
}

/* Which configured server a replica's source host:port is, or -1. */
static int find_source(const struct topo_input *in, size_t n, const struct repl_status *r)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (topo_same_endpoint(r->source_host, r->source_port, in[i].host, in[i].port))
			return (int)i;
	return -1;
}

/* Transactions on replica `r` the primary `p` lacks.  Positions are polled a few milliseconds
 * apart, so a replica may legitimately be ahead of the primary's last poll by transactions the
 * primary itself wrote; only transactions from other origins count as errant. */
char *topo_errant_gtids(const struct server_status *p, const struct server_status *r)
{
	enum gtid_kind kind = p->flavor == FLAVOR_MARIADB ? GTID_MARIADB : GTID_MYSQL;
	const char *pg = server_status_gtid(p), *rg = server_status_gtid(r);
	struct gtid_set ps, rs;
	char err[128];
	char *out = NULL;
	size_t i, j;

	if (!pg || !rg || p->flavor == FLAVOR_UNKNOWN || p->flavor != r->flavor)
		return NULL;
	if (kind == GTID_MARIADB && p->gtid_binlog_pos)
		pg = p->gtid_binlog_pos;
	if (gtid_parse(kind, pg, &ps, err, sizeof(err)) < 0)
		return NULL;
	if (gtid_parse(kind, rg, &rs, err, sizeof(err)) < 0) {
		gtid_free(&ps);
		return NULL;
	}
	/* Drop from the replica's set what the primary itself originated. */
	for (i = j = 0; i < rs.n; i++) {
		bool own = kind == GTID_MARIADB ? rs.e[i].server_id == p->server_id
					      : !strcasecmp(rs.e[i].uuid, p->server_uuid);
		if (own) {
			free(rs.e[i].iv);
			continue;
		}
		rs.e[j++] = rs.e[i];
	}
	rs.n = j;
	out = gtid_subtract_str(&rs, &ps);
	gtid_free(&ps);
	gtid_free(&rs);
	return out;
}

static void eval_replica(const struct topo_input *in, size_t n, size_t i, const struct topo_params *p,
			 struct topology *t)
{
	const struct server_status *st = in[i].st;
	const struct repl_status *r = &st->repl;
	struct topo_server *s = &t->srv[i];

	s->source = find_source(in, n, r);
	s->source_external = s->source < 0;
	if (r->io != THREAD_YES || r->sql != THREAD_YES) {
		if (r->last_io_errno)
			add_problem(t, i, VERDICT_WARN, "replication IO error %d: %s", r->last_io_errno, r->last_io_error);
		if (r->last_sql_errno)
			add_problem(t, i, VERDICT_WARN, "replication SQL error %d: %s", r->last_sql_errno, r->last_sql_error);
		add_problem(t, i, VERDICT_WARN, "replication stopped (IO: %s, SQL: %s)",
			    thread_state_name(r->io), thread_state_name(r->sql));
	}
	if (t->primary >= 0 && s->source != t->primary) {
		if (s->source_external)
			add_problem(t, i, VERDICT_CRIT, "replicates from %s:%d, which is not a configured server",
				    r->source_host, r->source_port);
		else if (s->source != (int)i)
			add_problem(t, i, VERDICT_CRIT, "replicates from %s, not from the primary %s",
				    in[s->source].name, in[t->primary].name);
	}
	if (st->heartbeat_lag_ms > p->lag_warn_ms)
		add_problem(t, i, VERDICT_WARN, "lag %lld ms > %d ms", (long long)st->heartbeat_lag_ms, p->lag_warn_ms);
	else if (st->heartbeat_lag_ms < 0 && r->seconds_behind >= 0 &&
		 r->seconds_behind * 1000 > p->lag_warn_ms)
		add_problem(t, i, VERDICT_WARN, "Seconds_Behind_Master %lld s > %d ms", r->seconds_behind,
			    p->lag_warn_ms);
	if (t->primary >= 0 && in[t->primary].health == HEALTH_UP) {
		s->errant = topo_errant_gtids(in[t->primary].st, st);
		if (s->errant && *s->errant)
			add_problem(t, i, VERDICT_CRIT, "errant transactions the primary %s does not have: %s",
				    in[t->primary].name, s->errant);
	}
}

void topology_eval(const struct topo_input *in, size_t n, const struct topo_params *p, struct topology *t)
{
	size_t i, k;
	int writable[64], nw = 0;
	int best = -1, best_count = -1;
	char list[512];

	memset(t, 0, sizeof(*t));
	t->n = n;
	t->primary = -1;
	t->raw = VERDICT_OK;
	t->srv = xcalloc(n, sizeof(*t->srv));

	for (i = 0; i < n; i++) {
		t->srv[i].source = -1;
		if (in[i].health == HEALTH_UP && in[i].st->reachable && in[i].st->read_only == 0 &&
		    nw < (int)ARRAY_LEN(writable))
			writable[nw++] = (int)i;
	}
	t->n_writable = nw;

	/* The primary: the writable server; with several, the one most others replicate from. */
	if (nw == 1) {
		t->primary = writable[0];
	} else {
		for (k = 0; k < (size_t)(nw ? nw : (int)n); k++) {
			int cand = nw ? writable[k] : (int)k;
			int count = 0;
			if (in[cand].health != HEALTH_UP)
				continue;
			for (i = 0; i < n; i++)
				if (i != (size_t)cand && in[i].st->repl.configured &&
				    find_source(in, n, &in[i].st->repl) == cand)
					count++;
			if (count > best_count) {
				best = cand;
				best_count = count;
			} else if (count == best_count) {
				best = -2;   /* a tie: no single answer */
			}
		}
		if (nw > 1 && best >= 0 && best_count > 0)
			t->primary = best;
	}

	for (i = 0; i < n; i++) {
		const struct server_status *st = in[i].st;
		struct topo_server *s = &t->srv[i];

		if (in[i].health == HEALTH_DOWN) {
			s->role = ROLE_UNKNOWN;
			add_problem(t, i, VERDICT_WARN, "unreachable%s%s%s", *st->last_error ? " (" : "",
				    st->last_error, *st->last_error ? ")" : "");
			continue;
		}
		if (in[i].health == HEALTH_UNKNOWN || !st->reachable) {
			s->role = ROLE_UNKNOWN;
			continue;
		}
		if ((int)i == t->primary) {
			s->role = ROLE_PRIMARY;
			if (st->repl.configured && st->repl.io != THREAD_NO && st->repl.sql != THREAD_NO && !in[i].upstream_source)
				add_problem(t, i, VERDICT_WARN, "the primary is itself replicating from %s:%d",
					    st->repl.source_host, st->repl.source_port);
			continue;
		}
		if (in[i].held) {
			/* frozen at a fence point on purpose: not a replica out of place, not an orphan */
			s->role = ROLE_HELD;
			s->source = st->repl.configured ? find_source(in, n, &st->repl) : -1;
			s->source_external = st->repl.configured && s->source < 0;
		} else if (st->repl.configured) {
			s->role = ROLE_REPLICA;
			eval_replica(in, n, i, p, t);
		} else {
			s->role = ROLE_ORPHAN;
			add_problem(t, i, VERDICT_WARN, "not replicating from anything");
		}
		if (st->read_only == 0 && nw > 1)
			add_problem(t, i, VERDICT_CRIT, "writable, but it is not the primary");
	}

	if (nw > 1) {
		size_t off = 0;
		list[0] = '\0';
		for (k = 0; k < (size_t)nw && off < sizeof(list); k++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", k ? ", " : "",
						in[writable[k]].name);
		topology_add_reason(t, VERDICT_CRIT, xasprintf("split-brain: %d writable servers (%s)", nw, list));
	} else if (nw == 0) {
		bool any_up = false;
		for (i = 0; i < n; i++)
			any_up |= in[i].health == HEALTH_UP;
		if (any_up)
			topology_add_reason(t, VERDICT_CRIT, xstrdup("no writable primary"));
		else
			topology_add_reason(t, VERDICT_CRIT, xstrdup("no server reachable"));
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < t->srv[i].n_problems; k++)
			topology_add_reason(t, t->srv[i].severity, xasprintf("%s: %s", in[i].name, t->srv[i].problems[k]));
	/* Until every server has been seen, an OK is premature. */
	if (t->raw == VERDICT_OK)
		for (i = 0; i < n; i++)
			if (in[i].health == HEALTH_UNKNOWN)
				t->raw = VERDICT_UNKNOWN;
}

void topology_free(struct topology *t)
{
	size_t i, k;
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < t->srv[i].n_problems; k++)
			free(t->srv[i].problems[k]);
		free(t->srv[i].errant);
	}
	free(t->srv);
	for (i = 0; i < t->n_reasons; i++)
		free(t->reasons[i]);
	free(t->reasons);
	memset(t, 0, sizeof(*t));
	t->primary = -1;
}
