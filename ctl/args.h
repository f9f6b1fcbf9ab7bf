/* The options cutoverctl's commands take after their name ("cutoverctl [global options]
 * switchover --to db2 --dry-run"), parsed by one pure function so that the unit tests can feed
 * it argv vectors, and turned into the API request's "args" object.
 *
 * One table describes every command option; a command says which of them it accepts with a
 * mask of CO_* bits. */
#ifndef CUTOVER_CTL_ARGS_H
#define CUTOVER_CTL_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum cmd_opt {
	CO_CLUSTER = 1u << 0,            /* --cluster NAME, -C NAME */
	CO_TO = 1u << 1,                 /* --to NAME */
	CO_DRY_RUN = 1u << 2,            /* --dry-run */
	CO_MAX_LAG = 1u << 3,            /* --max-lag DURATION */
	CO_DRAIN_TIMEOUT = 1u << 4,      /* --drain-timeout DURATION */
	CO_SYNC_TIMEOUT = 1u << 5,       /* --sync-timeout DURATION */
	CO_NO_REVERSE = 1u << 6,         /* --no-reverse */
	CO_PAUSE_BEFORE = 1u << 7,       /* --pause-before PHASE */
	CO_ALLOW_UNREACHABLE = 1u << 8,  /* --allow-unreachable */
	CO_YES = 1u << 9,                /* --yes, -y: no confirmation question */
	CO_LIMIT = 1u << 10,             /* --limit N */
	CO_HELP = 1u << 11,              /* --help, -h: always accepted */
	CO_ASSUME_FENCED = 1u << 12,     /* --assume-fenced */
	CO_FORCE = 1u << 13,             /* --force */
	CO_SERVER = 1u << 14,            /* one positional word, required: the server */
	CO_WITHOUT_ROUTERS = 1u << 15,   /* --without-routers */
	CO_KILL_LONG = 1u << 16,         /* --kill-long-transactions DURATION */
	CO_PAUSE_TIMEOUT = 1u << 17,     /* --pause-timeout DURATION */
	CO_ALLOW_OLDER = 1u << 18,       /* --allow-older-replicas */
	CO_STEPS = 1u << 19,             /* --steps 5,10,25,50,100 */
	CO_HOLD = 1u << 20,              /* --hold DURATION */
	CO_GATE = 1u << 21,              /* --gate 'error_rate<1%,lag<1s' */
	CO_ROUTER = 1u << 22,            /* --router NAME */
};

#define CO_SHIFT (CO_CLUSTER | CO_TO | CO_STEPS | CO_HOLD | CO_GATE | CO_ROUTER)

#define CO_SWITCHOVER (CO_CLUSTER | CO_TO | CO_DRY_RUN | CO_MAX_LAG | CO_DRAIN_TIMEOUT | \
		       CO_SYNC_TIMEOUT | CO_NO_REVERSE | CO_PAUSE_BEFORE | CO_ALLOW_UNREACHABLE | CO_YES | CO_KILL_LONG | \
		       CO_PAUSE_TIMEOUT | CO_ALLOW_OLDER)
#define CO_FAILOVER (CO_CLUSTER | CO_TO | CO_ASSUME_FENCED | CO_WITHOUT_ROUTERS | CO_DRY_RUN | CO_SYNC_TIMEOUT | \
		     CO_YES)
/* fence and stonith; unfence takes no --force */
#define CO_FENCE (CO_SERVER | CO_FORCE | CO_YES)

/* Durations above this are refused: the API takes them as 32-bit integers, and a day is
 * already far beyond any sensible switchover step. */
#define ARGS_MAX_DURATION_MS 86400000LL
#define ARGS_MAX_LIMIT 100000LL

/* What was given.  Strings are borrowed from argv; NULL, -1 and false mean "not given" (the
 * daemon then applies the cluster's configured default). */
struct cmd_args {
	unsigned given;                 /* CO_* bits of the options present */
	const char *cluster;            /* after the command, or the global --cluster */
	const char *to;
	const char *pause_before;
	const char *server;             /* the positional NAME of fence, unfence, stonith */
	long long max_lag_ms;
	long long drain_timeout_ms;
	long long sync_timeout_ms;
	long long kill_long_after_ms;
	long long pause_timeout_ms;
	long long limit;
	long long hold_ms;
	const char *steps, *gate, *router;   /* read shift: checked by the daemon */
	bool dry_run;
	bool no_reverse;
	bool allow_unreachable;
	bool allow_older_replicas;
	bool assume_fenced;
	bool without_routers;
	bool force;
	bool yes;
	bool help;
};

/* Parse argv[0..argc) (the words after the command name `cmd`), accepting the options of
 * `allowed` (CO_* bits).  Values follow as the next word or after '=' ("--to=db2").
 * With CO_SERVER, exactly one word that is not an option is the server's name (after "--"
 * it may start with '-').
 * global_cluster is the --cluster given before the command (NULL if none): both may be given
 * when they agree.  0, or -1 with a message naming the option in err (without a trailing
 * newline or the program name). */
int args_parse(const char *cmd, unsigned allowed, int argc, char **argv, const char *global_cluster,
	       struct cmd_args *a, char *err, size_t errlen);

/* The request's "args" object for what was given (a new reference; empty when nothing was). */
json_t *args_to_json(const struct cmd_args *a);

/* The answer to "type the server's name to confirm": true only when typed, without the
 * white space around it (the line's newline), is exactly expected (case matters: db1 and DB1
 * may be two servers).  An empty expected name never matches. */
bool confirm_name(const char *typed, const char *expected);

/* The phases a switchover can pause before, in order, NULL-terminated. */
extern const char *const args_pause_phases[];

#endif
