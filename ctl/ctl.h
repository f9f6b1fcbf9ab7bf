/* cutoverctl's own declarations, shared by its files: the command table's entry, the options
 * every command runs with, the exit codes, and the calls that talk to the daemon.
 *
 * Every command is one entry (struct ctl_cmd): its name, its arguments, how to turn argv into
 * the request's "args", its handler and how to render the result.  Each entry lives in the file
 * of its family, next to its code:
 *   cmd_status.c      status, topology (status's server table and task lines:
 *                     cmd_status_servers.c, cmd_status_tasks.c)
 *   cmd_watch.c       watch
 *   cmd_switchover.c  switchover, failover (their plan and report: cmd_switchover_report.c)
 *   cmd_cutover.c     abort, pause, resume, resolve, history
 *   cmd_fence.c       fence, unfence, stonith
 *   cmd_admin.c       version, config, reload, raw
 *   cmds.c            help, and the table of all of them, ctl_cmds[]
 * Adding an API command to cutoverctl is one entry and its line in ctl_cmds[] (plus a render
 * function when tables are wanted). */
#ifndef CUTOVER_CTL_H
#define CUTOVER_CTL_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "client.h"
#include "render.h"

#ifndef CUTOVER_VERSION
#define CUTOVER_VERSION "unknown"
#endif

#define DEFAULT_TIMEOUT_MS 5000

enum ctl_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* the daemon answered ok:false, sent garbage, or a switchover failed */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,   /* no socket, refused, denied, closed or silent past --timeout */
	EXIT_INTERRUPTED = -1,  /* internal: SIGINT/SIGTERM during `watch`; becomes 0 */
};

/* What the daemon is being waited for, which decides what a lost connection means. */
enum wait_for {
	WAIT_REPLY,             /* the reply to a request */
	WAIT_EVENT,             /* the next event of a `watch` */
	WAIT_PROGRESS,          /* the next line of a switchover the daemon has started */
};

/* How far a request got, for the messages about an interrupted or lost exchange. */
struct xfer {
	bool sent;              /* the request went out */
	int progress;           /* progress lines received */
	bool paused;            /* the last one said the switchover is paused */
};

struct ctl_opts {
	const char *socket;     /* borrowed from argv or the environment */
	bool json;
	int timeout_ms;         /* 0 = wait forever */
	const char *cluster;    /* --cluster, borrowed, may be NULL */
	bool follow_leader;     /* --follow-leader: a NOT_LEADER answer naming a local socket is sent there */
	struct render_opts ro;
};

struct ctl_cmd;
/* Put the command-line arguments (after the command name) into the request's args object.
 * 0; -1 after printing a usage error; 1 after printing the command's help (--help). */
typedef int (*build_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
			char **argv, json_t *args);
/* The handler: run the command with the words after its name; the exit code.  Most commands
 * have the request → one reply → render shape of ctl_run_request; the others their own. */
typedef int (*run_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
/* Ask a person on a terminal before a command changes something; may pin in args what was
 * agreed to.  EXIT_OK to go on, else the exit code (after saying why). */
typedef int (*confirm_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
			  json_t *args);

struct ctl_cmd {
	const char *name;
	const char *api;        /* the API command sent; NULL for local commands */
	const char *usage;      /* the arguments, for help */
	const char *summary;    /* NULL: the API command table's summary */
	unsigned opts;          /* CO_* options taken after the name (ctl_build_args; see args.h) */
	const char *help;       /* what those options do, for `help COMMAND`; NULL: nothing more */
	build_fn build;
	render_fn render;       /* the result for people (ignored with --json) */
	/* Lines streamed before the reply (a switchover's "progress"), given their payload
	 * object; NULL = not shown.  Not called with --json. */
	render_fn stream;
	run_fn run;             /* the handler: ctl_run_request for request → reply → render */
	/* run_switchover, ctl_run_confirmed: the question asked on a terminal unless --yes; NULL:
	 * none */
	confirm_fn confirm;
};

/* A reply line: the parsed object and the text as received (printed as-is by --json and raw). */
struct reply {
	json_t *msg;            /* owned */
	char *text;             /* owned */
};

typedef void (*line_fn)(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
			const json_t *msg);

/* The table (cmds.c): a command by name (NULL: none), the nearest name to a typo (NULL: none
 * near), a command's help, the usage, and a usage error on stderr. */
const struct ctl_cmd *ctl_find_cmd(const char *name);
const char *ctl_nearest_cmd(const char *name);
void ctl_command_help(const struct ctl_cmd *cmd);
bool ctl_is_help(const char *word);
void ctl_usage(FILE *out);
void ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The command line (cmdline.c).  ctl_parse_cmdline: the global options, before or after the
 * command (those after it are moved before it in argv, see ctl_hoist_globals), into *opt;
 * -1 to go on with the command at argv[*cmd_index], else the exit code (after the usage, the
 * version or an error).  ctl_find_cmd_or_say: the command, or NULL after an error naming the
 * nearest one. */
int ctl_parse_cmdline(int argc, char **argv, struct ctl_opts *opt, int *cmd_index);
int ctl_hoist_globals(int argc, char **argv);
const struct ctl_cmd *ctl_find_cmd_or_say(const char *name);

/* The entries, each in the file of its family. */
extern const struct ctl_cmd ctl_cmd_status, ctl_cmd_topology, ctl_cmd_version, ctl_cmd_config,
	ctl_cmd_reload, ctl_cmd_watch, ctl_cmd_switchover, ctl_cmd_abort, ctl_cmd_pause,
	ctl_cmd_resume, ctl_cmd_resolve, ctl_cmd_history, ctl_cmd_shift, ctl_cmd_move, ctl_cmd_failover, ctl_cmd_fence,
	ctl_cmd_unfence, ctl_cmd_stonith, ctl_cmd_raw, ctl_cmd_relay, ctl_cmd_help;
/* move's words after its name into the request's args: 0, 1 for --help, -1 with why in err. */
int ctl_move_parse(int argc, char **argv, const char *global_cluster, json_t *args, char *err, size_t len);

/* Argument builders (build_fn) and the parse of a command's options (cmds.c). */
int ctl_build_none(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		   json_t *args);
int ctl_build_cluster(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc,
		      char **argv, json_t *args);
int ctl_build_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		   json_t *args);
int ctl_parse_cmd_args(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv,
		       struct cmd_args *a);
/* Questions on the terminal (cmds.c). */
char *ctl_ask_line(FILE *out, const char *question);
bool ctl_ask(FILE *out, const char *question);
/* Whether a command that changes something asks first: not with --yes or --dry-run (or when
 * it has no question); on a terminal it asks; without one (a script, a pipe, cron) it is
 * refused, as package managers do: a typo in a script must not switch the primary. */
enum ctl_confirm { CONFIRM_SKIP, CONFIRM_ASK, CONFIRM_REFUSE };
enum ctl_confirm ctl_confirm_mode(const struct ctl_cmd *cmd, const struct cmd_args *a, bool stdin_tty);
/* Apply it: EXIT_OK to go on, else the exit code (EXIT_USAGE without a terminal, after saying
 * that --yes is needed). */
int ctl_confirm(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct cmd_args *a,
		json_t *args);
/* Where the plan and the question go: stdout on a terminal, else stderr (stdout may be a
 * pipe, or --json's). */
FILE *ctl_question_out(const struct ctl_opts *opt);

/* Talking to the daemon (request.c). */
int ctl_run_request(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
int ctl_run_confirmed(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
char *ctl_request_line(const char *api, json_t *args, size_t *len);
int ctl_call(const struct ctl_cmd *cmd, const char *api, const struct ctl_opts *opt, json_t *args,
	     line_fn on_line, const sigset_t *wait_mask, struct reply *rep, struct xfer *x);
int ctl_transact(struct ctl_client *c, const struct ctl_cmd *cmd, const struct ctl_opts *opt,
		 const char *req, size_t reqlen, line_fn on_line, struct reply *rep, struct xfer *x);
int ctl_read_message(struct ctl_client *c, const struct ctl_opts *opt, int64_t deadline,
		     enum wait_for what, const char *op, struct reply *out);
int ctl_finish_reply(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const struct reply *rep);
void ctl_print_error(const json_t *msg);
const char *ctl_unreachable_hint(int err);
void ctl_print_json_line(const json_t *v);
void ctl_reply_free(struct reply *rep);
void ctl_show_stream(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg);
void ctl_catch_signals(sigset_t *wait_mask);
int ctl_stdout_done(void);

#endif
