/* External programs: hooks, STONITH, fencing and the exec router's steps all run through here.
 * A job is execve'd with an argv (never a shell) and a clean environment, in its own process
 * group, with every other descriptor closed; on timeout the whole group is killed.  Its callback
 * runs from the loop once the program has exited and its output pipe is at EOF (or, if a
 * descendant keeps the pipe open, shortly after the program exited). */
#ifndef CUTOVER_JOB_H
#define CUTOVER_JOB_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

#define JOB_OUTPUT_MAX        (64 * 1024)  /* captured stdout+stderr; the rest is counted, dropped */
#define JOB_STDIN_MAX         (64 * 1024)  /* stdin_data is written before the fork, so it must fit a pipe */
#define JOB_DEFAULT_TIMEOUT_MS 30000       /* used when timeout_ms <= 0: nothing runs without a deadline */
#define JOB_PIPE_GRACE_MS     100          /* after exit, how long a descendant may hold the pipe */
#define JOB_PATH              "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

struct job_result {
	const char *program;      /* argv[0]; borrowed, valid during the callback */
	pid_t pid;                /* 0 if it never started */
	bool spawn_failed;        /* could not start (pipe, fork or execve failed): see error */
	bool exited;              /* exit_status is valid */
	int exit_status;
	int signal;               /* the signal that ended it, 0 if none */
	bool timed_out;           /* killed (with its group) at the deadline */
	bool stopped;             /* killed (with its group) by job_stop_acting: error says why */
	char error[256];          /* why it failed to start or how it was ended; "" if it just exited */
	const char *output;       /* stdout+stderr merged, NUL-terminated; borrowed, valid during the callback */
	size_t output_len;
	size_t output_dropped;    /* bytes beyond JOB_OUTPUT_MAX, not kept (logged as a note) */
	int64_t duration_ms;
};

struct job;
typedef void (*job_done_fn)(struct job_result *r, void *arg);

/* Start argv[0] (an absolute path) with argv and only `env` ("K=V", NULL-terminated, may be
 * NULL) plus JOB_PATH unless env sets PATH.  stdin_data (may be NULL: /dev/null) is fed to its
 * stdin.  Always returns a job and always calls cb exactly once from the loop, later (never
 * from inside job_run), unless the job is cancelled; a failure to start is a result with
 * spawn_failed set.  ctx is copied.  All jobs must run on one event_base at a time (libevent
 * delivers a signal to one base only). */
struct job *job_run(struct event_base *base, const char *const *argv, const char *const *env,
		    const char *stdin_data, int timeout_ms, job_done_fn cb, void *arg,
		    const struct log_ctx *ctx);
/* Kill the job's process group and forget the callback.  The job is freed once the program
 * has been reaped; the caller must not use the pointer again. */
void job_cancel(struct job *job);
/* Cancel every job (shutdown). */
void job_cancel_all(void);
/* The program changes the cluster on the leader's behalf (an exec router's switchover step, a
 * fence hook, STONITH): with [ha], it must not go on once this member stops leading. */
void job_set_acts(struct job *job);
/* This member stopped leading: kill the group of every running job marked so; each one's
 * callback still comes, with stopped set and "killed: WHY" as its error.  How many. */
size_t job_stop_acting(const char *why);
/* Jobs not yet reaped and freed, cancelled ones included. */
size_t job_count(void);
/* The program's pid (and process group), 0 if it did not start. */
pid_t job_pid(const struct job *job);

/* exited with status 0 and not timed out. */
bool job_result_ok(const struct job_result *r);
/* "exit status 3", "killed by signal 9", "timed out after 2000 ms", "could not start: …". */
const char *job_result_describe(const struct job_result *r, char *buf, size_t len);
/* The last non-empty line of the output, "" if none. */
const char *job_result_last_line(const struct job_result *r, char *buf, size_t len);

/* Split a config command string on spaces and tabs; "double quotes" group words (no escapes,
 * no expansion of any kind).  Returns argc and a NULL-terminated *argv_out to free with
 * job_free_argv: 0 for an empty or blank string, -1 (errno EINVAL, *argv_out NULL) for an
 * unterminated quote. */
int job_split_argv(const char *cmdline, char ***argv_out);
void job_free_argv(char **argv);
/* Whether `path` is safe to run as a hook: absolute, exists, a regular executable file owned by
 * root or us and not writable by group or others, in directories that are the same (sticky
 * directories excepted), and every symlink met on the way owned by root or us in such a
 * directory — nobody else can re-point what runs.  0, or -1 with the reason in err.  job_run
 * checks again when it runs, and executes the path it resolved then. */
int job_check_path(const char *path, char *err, size_t errlen);
/* The same, and the resolved path (new string) in *real. */
int job_resolve_checked(const char *path, char **real, char *err, size_t errlen);

#endif
