#include "cmdtab.h"

#include <string.h>

static const struct arg_spec no_args[] = { { NULL, 0, false, NULL } };

static const struct arg_spec cluster_arg[] = {
	{ "cluster", ARG_STRING, false, "only this cluster" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec events_args[] = {
	{ "cluster", ARG_STRING, false, "only events of this cluster" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec switchover_args[] = {
	{ "cluster", ARG_STRING, false, "the cluster (required when several are configured)" },
	{ "to", ARG_STRING, false, "the candidate; default: the best replica" },
	{ "kill_long_after_ms", ARG_INT, false, "drain: kill write statements running longer than this" },
	{ "dry_run", ARG_BOOL, false, "run the preflight checks only" },
	{ "max_lag_ms", ARG_INT, false, "refuse if the candidate lags more (default: max_lag)" },
	{ "drain_timeout_ms", ARG_INT, false, "how long to wait for long write statements to end before the fence" },
	{ "sync_timeout_ms", ARG_INT, false, "how long the candidate may take to reach the fence point" },
	{ "reverse", ARG_BOOL, false, "make the old primary a replica of the new one (default: yes)" },
	{ "pause_before", ARG_STRING, false, "hold before this phase until resume" },
	{ "pause_timeout_ms", ARG_INT, false,
	  "a pause rolls back after this (default: pause_timeout, or blocked_pause_timeout after the fence)" },
	{ "allow_unreachable", ARG_BOOL, false, "go on although other replicas are unreachable" },
	{ "allow_older_replicas", ARG_BOOL, false,
	  "go on although other replicas run an older release series than the candidate (they are left at the "
	  "fence point)" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec shift_args[] = {
	{ "cluster", ARG_STRING, false, "the cluster (required when several are configured)" },
	{ "to", ARG_STRING, true, "the server the reads move to (a replica)" },
	{ "steps", ARG_STRING, false, "shares of the reads, ascending (default 5,10,25,50,100)" },
	{ "hold_ms", ARG_INT, false, "how long each step is held while the gates are watched (default 10000)" },
	{ "gate", ARG_STRING, false, "what rolls it back, e.g. error_rate<1%,p95<500ms,lag<1s" },
	{ "router", ARG_STRING, false, "the ProxySQL router (default: the cluster's only one)" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec move_tenants_args[] = {
	{ "cluster", ARG_STRING, false,
	  "the cluster the tenants move from (default: the target's cluster's upstream, or the only cluster)" },
	{ "tenants", ARG_LIST, true, "the tenants, in order: NAME or NAME:TIER" },
	{ "to", ARG_STRING, true, "the target server (writable, in a cluster of its own, replicating from the primary)" },
	{ "by", ARG_STRING, false, "what a tenant is: schema (default) or user" },
	{ "batch", ARG_INT, false, "tenants moved at once (default 1)" },
	{ "pause_ms", ARG_INT, false, "wait between batches (default 0)" },
	{ "on_failure", ARG_STRING, false, "a tenant rolled back: stop (default) or continue with the next batch" },
	{ "tier_order", ARG_LIST, false, "move the tenants tier by tier in this order, e.g. [\"standard\", \"enterprise\"]" },
	{ "max_blocked_ms", ARG_INT, false, "a batch whose writes are held longer is rolled back (default 5000)" },
	{ "router", ARG_STRING, false, "the ProxySQL router (default: the cluster's only one)" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec pause_args[] = {
	{ "cluster", ARG_STRING, false, "the cluster (required when several are configured)" },
	{ "pause_timeout_ms", ARG_INT, false,
	  "rolls back after this (default: pause_timeout, or blocked_pause_timeout after the fence)" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec history_args[] = {
	{ "cluster", ARG_STRING, false, "the cluster (required when several are configured)" },
	{ "limit", ARG_INT, false, "at most this many, newest last (default 20)" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec failover_args[] = {
	{ "cluster", ARG_STRING, false, "the cluster (required when several are configured)" },
	{ "to", ARG_STRING, false, "the new primary; default: the replica that received the most" },
	{ "assume_fenced", ARG_BOOL, false, "the operator vouches that the old primary cannot take writes" },
	{ "without_routers", ARG_BOOL, false, "go on although a router cannot be reached (it is left as it is)" },
	{ "dry_run", ARG_BOOL, false, "run the preflight checks only" },
	{ "sync_timeout_ms", ARG_INT, false, "how long the new primary may take to apply its relay log" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec fence_args[] = {
	{ "server", ARG_STRING, true, "the server" },
	{ "force", ARG_BOOL, false, "even if it is the only writable server" },
	{ NULL, 0, false, NULL },
};

static const struct arg_spec unfence_args[] = {
	{ "server", ARG_STRING, true, "the server" },
	{ NULL, 0, false, NULL },
};

const struct cmd_spec cmd_table[] = {
	{ "version", CMD_READONLY, no_args, "daemon and API version" },
	{ "status", CMD_READONLY, cluster_arg, "every server's state, each cluster's verdict, the routers' view" },
	{ "topology", CMD_READONLY, cluster_arg, "the replication tree of each cluster" },
	{ "config", CMD_READONLY, no_args, "the running configuration, secrets redacted" },
	{ "reload", CMD_MUTATING, no_args, "re-read the configuration file; keep the old one if the new has errors" },
	{ "events", CMD_READONLY | CMD_STREAM, events_args, "subscribe to state changes, streamed as JSON lines" },
	{ "switchover", CMD_MUTATING | CMD_STREAM, switchover_args,
	  "move the primary role: preflight, drain, catchup, fence, sync, promote, verify" },
	{ "abort", CMD_MUTATING, cluster_arg, "roll back the running switchover (before the point of no return)" },
	{ "shift", CMD_MUTATING | CMD_STREAM, shift_args,
	  "move a growing share of the reads to a server through ProxySQL, step by step, behind gates" },
	{ "move_tenants", CMD_MUTATING | CMD_STREAM, move_tenants_args,
	  "move tenants (schemas or users) one batch at a time to another server through ProxySQL" },
	{ "pause", CMD_MUTATING, pause_args, "hold the running switchover before its next phase" },
	{ "resume", CMD_MUTATING, cluster_arg, "continue a paused switchover" },
	{ "resolve", CMD_MUTATING, cluster_arg, "mark an interrupted switchover as dealt with" },
	{ "history", CMD_READONLY, history_args, "past switchovers with their phases and durations" },
	{ "failover", CMD_MUTATING | CMD_STREAM, failover_args,
	  "emergency failover from a dead primary: preflight, fence (SQL or STONITH), sync, promote, verify" },
	{ "fence", CMD_MUTATING, fence_args, "make a server read-only (and record it)" },
	{ "unfence", CMD_MUTATING, unfence_args, "make a fenced server writable again, unless another one is" },
	{ "stonith", CMD_MUTATING, fence_args, "run a server's STONITH hook" },
	{ NULL, 0, NULL, NULL },
};

const struct cmd_spec *cmd_find(const char *name)
{
	const struct cmd_spec *c;
	for (c = cmd_table; name && c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const char *arg_type_name(enum arg_type t)
{
	switch (t) {
	case ARG_STRING: return "string";
	case ARG_INT: return "integer";
	case ARG_BOOL: return "boolean";
	case ARG_LIST: return "array of strings";
	}
	return "?";
}
