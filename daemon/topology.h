/* Topology and health: which server is the primary, each replica's source, and the cluster's
 * verdict, computed from the latest observations.  Pure functions: no I/O, no clock reads
 * (callers pass the time), so every rule is unit-tested with made-up observations. */
#ifndef CUTOVER_TOPOLOGY_H
#define CUTOVER_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

enum verdict { VERDICT_UNKNOWN, VERDICT_OK, VERDICT_WARN, VERDICT_CRIT };
enum health_state { HEALTH_UNKNOWN, HEALTH_UP, HEALTH_DOWN };
/* ROLE_HELD: a server held at a fence point as the rollback point of an upgrade (held.h). */
enum server_role { ROLE_UNKNOWN, ROLE_PRIMARY, ROLE_REPLICA, ROLE_ORPHAN, ROLE_HELD };

/* Hysteresis of a server's reachability: the state changes after `n` consecutive
 * observations that disagree with it; UNKNOWN until the first n agree. */
struct health {
	enum health_state state;
	enum health_state pending;
	int count;
	int64_t since_ms;          /* when `state` was entered (monotonic) */
};

/* Feed one observation; returns true when the state changed. */
bool health_observe(struct health *h, bool reachable, int n, int64_t now_ms);

/* One server as topology sees it. */
struct topo_input {
	const char *name;
	const char *host;          /* configured */
	int port;
	const struct server_status *st;
	enum health_state health;
	bool held;                 /* kept at a fence point on purpose, as a rollback point (held.h) */
	bool upstream_source;      /* it replicates from the cluster's upstream (cfg_cluster.upstream): on purpose */
};

#define TOPO_MAX_PROBLEMS 8

struct topo_server {
	enum server_role role;
	int source;                /* index of the server it replicates from, -1 none/unknown */
	bool source_external;      /* replicates from something not configured */
	enum verdict severity;     /* worst of its problems (OK if none) */
	char *problems[TOPO_MAX_PROBLEMS];   /* owned */
	size_t n_problems;
	char *errant;              /* owned: transactions the primary lacks, "" if none, NULL unknown */
};

struct topology {
	int primary;               /* index, -1 if none */
	size_t n;
	struct topo_server *srv;   /* owned, n entries */
	enum verdict raw;          /* this evaluation's verdict, before hysteresis */
	char **reasons;            /* owned: "db3: unreachable (…)" … */
	size_t n_reasons;
	int n_writable;
};

struct topo_params {
	int lag_warn_ms;
};

void topology_eval(const struct topo_input *in, size_t n, const struct topo_params *p, struct topology *out);
void topology_free(struct topology *t);
/* Add a cluster-level reason (stolen) found outside topology_eval (e.g. the router's view). */
void topology_add_reason(struct topology *t, enum verdict sev, char *msg);

/* The cluster verdict with hysteresis: changes after n consecutive equal raw verdicts.  The
 * verdict shown keeps the reasons it was last seen with: while it is held (the raw verdict
 * has moved on, too few times yet) the present reasons are another verdict's, and a CRIT shown
 * without its reason sends a person hunting. */
struct verdict_state {
	enum verdict shown;
	enum verdict pending;
	int count;
	int64_t since_ms;
	char **reasons;            /* owned: the reasons of `shown` */
	size_t n_reasons;
};
bool verdict_observe(struct verdict_state *v, enum verdict raw, int n, int64_t now_ms);
/* After verdict_observe: when raw is the verdict shown, its reasons are these (copied). */
void verdict_hold_reasons(struct verdict_state *v, enum verdict raw, char *const *reasons, size_t n);
void verdict_state_free(struct verdict_state *v);

const char *verdict_name(enum verdict v);
const char *health_name(enum health_state h);
const char *role_name(enum server_role r);

/* Does host:port (as a replica reports its source) denote the configured host:port?
 * "localhost", any 127.x.y.z and "::1" are the same host. */
bool topo_same_endpoint(const char *host_a, int port_a, const char *host_b, int port_b);

/* Transactions on replica r that primary p lacks, as a GTID set (new string; "" for none), or
 * NULL when they cannot be compared.  Transactions p itself originated are left out: p may have
 * written them between the two reads. */
char *topo_errant_gtids(const struct server_status *p, const struct server_status *r);

#endif
