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

const struct cmd_spec cmd_table[] = {
	{ "version", CMD_READONLY, no_args, "daemon and API version" },
	{ "status", CMD_READONLY, cluster_arg, "every server's state, each cluster's verdict, the routers' view" },
	{ "topology", CMD_READONLY, cluster_arg, "the replication tree of each cluster" },
	{ "config", CMD_READONLY, no_args, "the running configuration, secrets redacted" },
	{ "reload", CMD_MUTATING, no_args, "re-read the configuration file; keep the old one if the new has errors" },
	{ "events", CMD_READONLY | CMD_STREAM, events_args, "subscribe to state changes, streamed as JSON lines" },
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
	}
	return "?";
}
