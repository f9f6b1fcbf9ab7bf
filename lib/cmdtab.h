/* Every API command as data: name, flags, argument table, summary.  The daemon validates
 * requests and checks access with it; cutoverctl builds its usage and its requests from it. */
#ifndef CUTOVER_CMDTAB_H
#define CUTOVER_CMDTAB_H

#include <stdbool.h>
#include <stddef.h>

enum cmd_flag {
	CMD_READONLY = 1 << 0,    /* allowed to anyone who may connect */
	CMD_MUTATING = 1 << 1,    /* root and configured admin uids/gids only */
	CMD_STREAM   = 1 << 2,    /* keeps the connection and sends further lines */
};

enum arg_type { ARG_STRING, ARG_INT, ARG_BOOL, ARG_LIST /* an array of strings */ };

struct arg_spec {
	const char *name;
	enum arg_type type;
	bool required;
	const char *help;
};

struct cmd_spec {
	const char *name;
	unsigned flags;
	const struct arg_spec *args;   /* terminated by an entry with name == NULL */
	const char *summary;
};

extern const struct cmd_spec cmd_table[];   /* terminated by an entry with name == NULL */

const struct cmd_spec *cmd_find(const char *name);
const char *arg_type_name(enum arg_type t);

#endif
