/* What job.c, job_spawn.c and job_result.c share: the job itself, and the calls between those
 * files. */
#ifndef CUTOVER_JOB_IMPL_H
#define CUTOVER_JOB_IMPL_H

#include "job.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct job {
	TAILQ_ENTRY(job) entry;
	struct event_base *base;
	char **argv;             /* owned copy */
	char *exec_path;         /* owned: argv[0] resolved and checked just before it runs */
	char **envp;             /* owned copy, PATH added */
	char *name;              /* owned: basename of argv[0], prefixes log lines */
	char *ctx_str[4];        /* owned copies behind ctx */
	struct log_ctx ctx;
	job_done_fn cb;
	void *arg;
	int timeout_ms;

	pid_t pid;               /* also the process group id; 0 before the fork */
	int out_fd;              /* read end of stdout+stderr, -1 once at EOF */
	int err_fd;              /* read end of the child's exec-error pipe, -1 */
	struct event *ev_out;
	struct event *ev_timeout;
	struct event *ev_grace;
	struct event *ev_done;   /* activated once: runs the callback outside any other handler */

	char *out;               /* owned, JOB_OUTPUT_MAX + 1 */
	size_t out_len;
	size_t logged;           /* bytes of out already logged as lines */
	size_t dropped;

	bool spawn_failed;
	bool eof;
	bool reaped;
	bool status_known;
	int status;              /* from waitpid */
	bool timed_out;
	bool acts;               /* job_set_acts: it changes the cluster for the leader */
	bool stopped;            /* killed by job_stop_acting (error says why) */
	bool cancelled;
	bool done_scheduled;
	bool finishing;
	char error[256];
	int64_t start_ms;
};

/* job.c */
void job_fail(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* job_spawn.c */
int job_spawn(struct job *job, const char *stdin_data);
void job_read_exec_error(struct job *job);

/* job_result.c */
void job_fill_result(struct job *job, struct job_result *r);

#endif
