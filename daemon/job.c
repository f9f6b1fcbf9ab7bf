/* Running external programs from the loop (after keepalived's notify.c and tmux's job.c).
 *
 * The life of a job: job_run forks; the child makes its own process group, asks for SIGKILL
 * when we die, resets its signals, keeps only 0/1/2 and execve()s the argv with a clean
 * environment.  The parent reads the merged stdout+stderr pipe, logs each line, and reaps
 * the child with waitpid(pid) on SIGCHLD (never waitpid(-1): other children are not ours).
 * The callback runs from a separate event once both the exit status and EOF are in.  A
 * descendant that keeps the pipe open gets JOB_PIPE_GRACE_MS after the program exited, then
 * its group is killed.  On the deadline the whole group is killed.
 *
 * The fork and the child are in job_spawn.c, results in job_result.c, command strings and
 * path safety in job_command.c. */
#include "job_impl.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TAILQ_HEAD(job_list, job);

static struct job_list jobs = TAILQ_HEAD_INITIALIZER(jobs);
static struct event *sigchld_ev;            /* while any job lives */
static struct event_base *sigchld_base;

static char **job_copy_strv(const char *const *v, size_t extra);
static char **job_make_env(const char *const *env);
static void job_copy_ctx(struct job *job, const struct log_ctx *ctx);
static int job_sigchld_hold(struct event_base *base);
static void job_sigchld_release(void);
static void job_sigchld_cb(evutil_socket_t sig, short what, void *arg);
static void job_out_cb(evutil_socket_t fd, short what, void *arg);
static void job_append(struct job *job, const char *buf, size_t n);
static void job_log_lines(struct job *job, bool flush);
static void job_at_eof(struct job *job);
static bool job_try_reap(struct job *job);
static void job_after_reap(struct job *job);
static void job_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void job_grace_cb(evutil_socket_t fd, short what, void *arg);
static void job_schedule_done(struct job *job);
static void job_done_cb(evutil_socket_t fd, short what, void *arg);
static void job_kill_group(struct job *job);
static void job_free(struct job *job);
static char *job_basename(const char *path);
static void ms_to_tv(int ms, struct timeval *tv);

struct job *job_run(struct event_base *base, const char *const *argv, const char *const *env,
		    const char *stdin_data, int timeout_ms, job_done_fn cb, void *arg,
		    const struct log_ctx *ctx)
{
	struct job *job = xcalloc(1, sizeof(*job));
	struct timeval tv;

	job->base = base;
	job->cb = cb;
	job->arg = arg;
	job->timeout_ms = timeout_ms > 0 ? timeout_ms : JOB_DEFAULT_TIMEOUT_MS;
	job->out_fd = job->err_fd = -1;
	job->out = xmalloc(JOB_OUTPUT_MAX + 1);
	job->out[0] = '\0';
	job->start_ms = now_mono_ms();
	job->argv = job_copy_strv(argv, 0);
	job->envp = job_make_env(env);
	job->name = job_basename(argv && argv[0] ? argv[0] : "(none)");
	job_copy_ctx(job, ctx);
	job->ev_done = evtimer_new(base, job_done_cb, job);
	job->ev_timeout = evtimer_new(base, job_timeout_cb, job);
	job->ev_grace = evtimer_new(base, job_grace_cb, job);
	TAILQ_INSERT_TAIL(&jobs, job, entry);

	if (!argv || !argv[0] || argv[0][0] != '/') {
		job_fail(job, "the program must be an absolute path, not '%s'",
			 argv && argv[0] ? argv[0] : "");
		return job;
	}
	if (!job->envp) {
		job_fail(job, "an environment entry has no '='");
		return job;
	}
	{
		/* checked at config load, and again now: a symlink re-pointed since is refused, and
		 * what runs is what was checked, not whatever the path names a moment later */
		char why[PATH_MAX + 256];
		if (job_resolve_checked(argv[0], &job->exec_path, why, sizeof(why)) < 0) {
			job_fail(job, "refused to run: %s", why);
			return job;
		}
	}
	if (job_sigchld_hold(base) < 0) {
		job_fail(job, "jobs are already running on another event loop");
		return job;
	}
	if (job_spawn(job, stdin_data) < 0)
		return job;

	job->ev_out = event_new(base, job->out_fd, EV_READ | EV_PERSIST, job_out_cb, job);
	event_add(job->ev_out, NULL);
	ms_to_tv(job->timeout_ms, &tv);
	evtimer_add(job->ev_timeout, &tv);
	log_ctx(LOG_DEBUG, &job->ctx, "%s: started as pid %d, timeout %d ms", job->name,
		(int)job->pid, job->timeout_ms);
	return job;
}

void job_cancel(struct job *job)
{
	if (!job || job->finishing)
		return;
	job->cancelled = true;
	job->cb = NULL;
	log_ctx(LOG_DEBUG, &job->ctx, "%s: cancelled", job->name);
	if (!job->reaped)
		job_kill_group(job);
}

void job_cancel_all(void)
{
	struct job *job;

	TAILQ_FOREACH(job, &jobs, entry)
		job_cancel(job);
}

void job_set_acts(struct job *job)
{
	if (job)
		job->acts = true;
}

size_t job_stop_acting(const char *why)
{
	struct job *job;
	size_t n = 0;

	TAILQ_FOREACH(job, &jobs, entry) {
		if (!job->acts || job->reaped || job->cancelled || job->finishing || job->pid <= 0)
			continue;
		job->stopped = true;
		snprintf(job->error, sizeof(job->error), "killed: %s", why);
		log_ctx(LOG_WARNING, &job->ctx, "%s: pid %d killed with its process group: %s", job->name, (int)job->pid,
			why);
		job_kill_group(job);
		n++;
	}
	return n;
}

size_t job_count(void)
{
	struct job *job;
	size_t n = 0;

	TAILQ_FOREACH(job, &jobs, entry)
		n++;
	return n;
}

pid_t job_pid(const struct job *job)
{
	return job ? job->pid : 0;
}

/* --- setup ------------------------------------------------------------------------------ */

static char **job_copy_strv(const char *const *v, size_t extra)
{
	size_t n = 0, i;
	char **c;

	while (v && v[n])
		n++;
	c = xcalloc(n + extra + 1, sizeof(*c));
	for (i = 0; i < n; i++)
		c[i] = xstrdup(v[i]);
	return c;
}

/* The caller's variables and PATH, nothing inherited: a hook must not see our NOTIFY_SOCKET,
 * LISTEN_FDS or whatever the service manager gave us.  NULL if an entry has no '='. */
static char **job_make_env(const char *const *env)
{
	char **e = job_copy_strv(env, 1);
	bool has_path = false;
	size_t n;

	for (n = 0; e[n]; n++) {
		if (!strchr(e[n], '=') || e[n][0] == '=') {
			job_free_argv(e);
			return NULL;
		}
		if (!strncmp(e[n], "PATH=", 5))
			has_path = true;
	}
	if (!has_path)
		e[n] = xstrdup(JOB_PATH);
	return e;
}

/* The caller's log_ctx usually lives on its stack; the job outlives that. */
static void job_copy_ctx(struct job *job, const struct log_ctx *ctx)
{
	if (!ctx)
		return;
	job->ctx.cluster = job->ctx_str[0] = xstrdup(ctx->cluster);
	job->ctx.server = job->ctx_str[1] = xstrdup(ctx->server);
	job->ctx.phase = job->ctx_str[2] = xstrdup(ctx->phase);
	job->ctx.id = job->ctx_str[3] = xstrdup(ctx->id);
}

/* SIGCHLD is watched only while a job lives, so the signal is ours only as long as needed and
 * an event_base freed by its owner never holds a stale event of ours. */
static int job_sigchld_hold(struct event_base *base)
{
	if (sigchld_ev)
		return sigchld_base == base ? 0 : -1;
	sigchld_ev = evsignal_new(base, SIGCHLD, job_sigchld_cb, NULL);
	sigchld_base = base;
	event_add(sigchld_ev, NULL);
	return 0;
}

static void job_sigchld_release(void)
{
	if (TAILQ_EMPTY(&jobs) && sigchld_ev) {
		event_free(sigchld_ev);
		sigchld_ev = NULL;
		sigchld_base = NULL;
	}
}

static void job_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct job *job;

	/* Signals coalesce: look at every live job, each with its own pid. */
	TAILQ_FOREACH(job, &jobs, entry)
		if (job->pid > 0 && !job->reaped && job_try_reap(job))
			job_after_reap(job);
}

/* A job that never started: its result is ready, reported from the loop. */
void job_fail(struct job *job, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->error, sizeof(job->error), fmt, ap);
	va_end(ap);
	job->spawn_failed = true;
	job->eof = job->reaped = true;
	job_schedule_done(job);
}

/* --- output ------------------------------------------------------------------------------ */

static void job_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	char buf[4096];
	ssize_t n;
	int i;

	/* A bounded number of reads per wakeup, so a chatty program cannot starve the loop. */
	for (i = 0; i < 16; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			job_append(job, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		job_at_eof(job);     /* EOF, or an error that will not go away */
		return;
	}
}

static void job_append(struct job *job, const char *buf, size_t n)
{
	size_t room = JOB_OUTPUT_MAX - job->out_len;
	size_t take = n < room ? n : room;

	memcpy(job->out + job->out_len, buf, take);
	job->out_len += take;
	job->out[job->out_len] = '\0';
	job->dropped += n - take;
	job_log_lines(job, false);
}

/* Log each complete line once; at EOF (or when the buffer is full) the partial rest too. */
static void job_log_lines(struct job *job, bool flush)
{
	const char *start, *nl;
	size_t len;

	while (job->logged < job->out_len) {
		start = job->out + job->logged;
		nl = memchr(start, '\n', job->out_len - job->logged);
		if (nl)
			len = (size_t)(nl - start);
		else if (flush || job->out_len == JOB_OUTPUT_MAX)
			len = job->out_len - job->logged;
		else
			break;
		job->logged += len + (nl ? 1 : 0);
		if (len && start[len - 1] == '\r')
			len--;
		if (len)
			log_ctx(LOG_INFO, &job->ctx, "%s: %.*s", job->name, (int)len, start);
	}
}

static void job_at_eof(struct job *job)
{
	if (job->eof)
		return;
	job->eof = true;
	event_free(job->ev_out);
	job->ev_out = NULL;
	close(job->out_fd);
	job->out_fd = -1;
	job_log_lines(job, true);
	/* Usually the exit status is there already and SIGCHLD is still on its way. */
	if (!job->reaped && job_try_reap(job))
		job_after_reap(job);
	else if (job->reaped)
		job_schedule_done(job);
}

/* --- exit -------------------------------------------------------------------------------- */

static bool job_try_reap(struct job *job)
{
	pid_t p;
	int st;

	do
		p = waitpid(job->pid, &st, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p == 0)
		return false;
	job->reaped = true;
	if (p < 0) {
		/* Someone else reaped it (waitpid(-1) elsewhere, SIGCHLD ignored). */
		snprintf(job->error, sizeof(job->error), "exit status lost: waitpid: %s",
			 strerror(errno));
		return true;
	}
	job->status = st;
	job->status_known = true;
	return true;
}

static void job_after_reap(struct job *job)
{
	struct timeval tv;

	if (job->eof) {
		job_schedule_done(job);
		return;
	}
	/* A descendant still holds the pipe: give it a moment to finish writing, no more. */
	ms_to_tv(JOB_PIPE_GRACE_MS, &tv);
	evtimer_add(job->ev_grace, &tv);
}

static void job_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	if (!job->reaped) {
		job->timed_out = true;
		snprintf(job->error, sizeof(job->error), "timed out after %d ms", job->timeout_ms);
		log_ctx(LOG_WARNING, &job->ctx,
			"%s: pid %d timed out after %d ms; killing its process group", job->name,
			(int)job->pid, job->timeout_ms);
	}
	/* Then SIGCHLD and EOF (or the grace timer) finish it as usual.  A process stuck in
	 * uninterruptible sleep is not reaped; the caller's own phase deadline covers that. */
	job_kill_group(job);
}

static void job_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	char buf[4096];
	ssize_t n;

	log_ctx(LOG_NOTICE, &job->ctx,
		"%s: pid %d exited but a process it started still holds its output open; "
		"killing process group %d", job->name, (int)job->pid, (int)job->pid);
	job_kill_group(job);
	/* Keep what was written before the kill. */
	while ((n = read(job->out_fd, buf, sizeof(buf))) > 0)
		job_append(job, buf, (size_t)n);
	job_at_eof(job);
}

static void job_kill_group(struct job *job)
{
	if (job->pid > 0 && kill(-job->pid, SIGKILL) < 0 && errno != ESRCH)
		log_ctx(LOG_WARNING, &job->ctx, "%s: kill(-%d, SIGKILL): %s", job->name,
			(int)job->pid, strerror(errno));
}

/* --- completion -------------------------------------------------------------------------- */

static void job_schedule_done(struct job *job)
{
	if (job->done_scheduled)
		return;
	job->done_scheduled = true;
	event_active(job->ev_done, EV_TIMEOUT, 1);
}

static void job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct job_result r;
	char desc[320];

	job->finishing = true;
	TAILQ_REMOVE(&jobs, job, entry);
	job_read_exec_error(job);
	job_fill_result(job, &r);
	if (job->dropped)
		log_ctx(LOG_WARNING, &job->ctx,
			"%s: %zu bytes of output beyond the first %d were dropped", job->name,
			job->dropped, JOB_OUTPUT_MAX);
	log_ctx(LOG_DEBUG, &job->ctx, "%s: %s after %lld ms", job->name,
		job_result_describe(&r, desc, sizeof(desc)), (long long)r.duration_ms);
	if (job->cb && !job->cancelled)
		job->cb(&r, job->arg);
	job_free(job);
	job_sigchld_release();
}

static void job_free(struct job *job)
{
	size_t i;

	if (job->ev_out)
		event_free(job->ev_out);
	event_free(job->ev_timeout);
	event_free(job->ev_grace);
	event_free(job->ev_done);
	if (job->out_fd >= 0)
		close(job->out_fd);
	if (job->err_fd >= 0)
		close(job->err_fd);
	job_free_argv(job->argv);
	free(job->exec_path);
	job_free_argv(job->envp);
	for (i = 0; i < ARRAY_LEN(job->ctx_str); i++)
		free(job->ctx_str[i]);
	free(job->name);
	free(job->out);
	free(job);
}

static char *job_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return xstrdup(slash && slash[1] ? slash + 1 : path);
}

static void ms_to_tv(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}
