/* Running external programs from the loop (after keepalived's notify.c and tmux's job.c).
 *
 * The life of a job: job_run forks; the child makes its own process group, asks for SIGKILL
 * when we die, resets its signals, keeps only 0/1/2 and execve()s the argv with a clean
 * environment.  The parent reads the merged stdout+stderr pipe, logs each line, and reaps
 * the child with waitpid(pid) on SIGCHLD (never waitpid(-1): other children are not ours).
 * The callback runs from a separate event once both the exit status and EOF are in.  A
 * descendant that keeps the pipe open gets JOB_PIPE_GRACE_MS after the program exited, then
 * its group is killed.  On the deadline the whole group is killed. */
#include "job.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child reports on its exec-error pipe before _exit(127). */
enum child_stage { STAGE_SETUP = 1, STAGE_EXEC = 2 };

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
	bool cancelled;
	bool done_scheduled;
	bool finishing;
	char error[256];
	int64_t start_ms;
};

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
static int job_spawn(struct job *job, const char *stdin_data);
static int job_stdin_fd(struct job *job, const char *data);
static void job_child(struct job *job, int in_fd, int out_fd, int err_fd, pid_t parent)
	__attribute__((noreturn));
static void job_child_fail(int err_fd, int stage) __attribute__((noreturn));
static void job_close_from(int lowfd, int keep);
static void job_fail(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
static void job_read_exec_error(struct job *job);
static void job_fill_result(struct job *job, struct job_result *r);
static void job_kill_group(struct job *job);
static void job_free(struct job *job);
static char *job_basename(const char *path);
static void ms_to_tv(int ms, struct timeval *tv);
static int check_one(const char *what, const char *path, const struct stat *st, bool dir,
		     char *err, size_t errlen);

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

/* --- the fork ---------------------------------------------------------------------------- */

static int job_spawn(struct job *job, const char *stdin_data)
{
	int in_fd, out[2], errp[2];
	pid_t parent = getpid(), pid;

	if ((in_fd = job_stdin_fd(job, stdin_data)) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in_fd);
		job_fail(job, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(in_fd);
		close(out[0]);
		close(out[1]);
		job_fail(job, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0)
		job_child(job, in_fd, out[1], errp[1], parent);
	close(in_fd);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(out[0]);
		close(errp[0]);
		job_fail(job, "fork: %s", strerror(errno));
		return -1;
	}
	/* Both sides set the group, so that a kill(-pid) right after fork already reaches it. */
	setpgid(pid, pid);
	job->pid = pid;
	job->out_fd = out[0];
	job->err_fd = errp[0];
	evutil_make_socket_nonblocking(job->out_fd);
	evutil_make_socket_nonblocking(job->err_fd);
	return 0;
}

/* stdin is /dev/null, or a pipe already holding all of stdin_data: written before the fork,
 * so no write can block the loop or raise SIGPIPE when the program ignores its input. */
static int job_stdin_fd(struct job *job, const char *data)
{
	size_t len, off = 0;
	int p[2], fd;
	ssize_t n;

	if (!data) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			job_fail(job, "/dev/null: %s", strerror(errno));
		return fd;
	}
	len = strlen(data);
	if (len > JOB_STDIN_MAX) {
		job_fail(job, "input of %zu bytes is larger than the %d bytes allowed", len,
			 JOB_STDIN_MAX);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		job_fail(job, "pipe: %s", strerror(errno));
		return -1;
	}
	if (len > 4096)
		fcntl(p[1], F_SETPIPE_SZ, (int)len);
	while (off < len) {
		n = write(p[1], data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			job_fail(job, "cannot queue %zu bytes of input: %s", len,
				 n < 0 ? strerror(errno) : "short write");
			close(p[0]);
			close(p[1]);
			return -1;
		}
		off += (size_t)n;
	}
	close(p[1]);
	/* The child's end must block like any ordinary stdin. */
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_NONBLOCK);
	return p[0];
}

/* In the child: only async-signal-safe calls from here on. */
static void job_child(struct job *job, int in_fd, int out_fd, int err_fd, pid_t parent)
{
	sigset_t none;
	int sig;

	setpgid(0, 0);
	/* Die with the daemon: a hook must not outlive the switchover that started it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	/* Handlers are reset by execve, but ignored signals (SIGPIPE) and the mask are inherited. */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move everything above 2 first, so a dup2 onto 0..2 cannot clobber a descriptor still
	 * needed (the daemon may run with 0..2 closed). */
	err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
	in_fd = fcntl(in_fd, F_DUPFD_CLOEXEC, 3);
	out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
	if (err_fd < 0 || in_fd < 0 || out_fd < 0)
		job_child_fail(err_fd, STAGE_SETUP);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		job_child_fail(err_fd, STAGE_SETUP);
	job_close_from(3, err_fd);
	execve(job->exec_path, job->argv, job->envp);
	job_child_fail(err_fd, STAGE_EXEC);
}

static void job_child_fail(int err_fd, int stage)
{
	int msg[2] = { stage, errno };

	if (err_fd >= 0 && write(err_fd, msg, sizeof(msg)) < 0)
		_exit(127);
	_exit(127);
}

/* Close every descriptor from lowfd up except `keep` (close-on-exec itself). */
static void job_close_from(int lowfd, int keep)
{
	long max;
	int fd;

	if (keep > lowfd && close_range((unsigned)lowfd, (unsigned)keep - 1, 0) == 0 &&
	    close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	if (keep == lowfd && close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (fd = lowfd; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/* A job that never started: its result is ready, reported from the loop. */
static void job_fail(struct job *job, const char *fmt, ...)
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

/* The child wrote {stage, errno} if it could not exec; EOF means execve succeeded. */
static void job_read_exec_error(struct job *job)
{
	int msg[2];
	ssize_t n;

	if (job->err_fd < 0)
		return;
	n = read(job->err_fd, msg, sizeof(msg));
	close(job->err_fd);
	job->err_fd = -1;
	if (n != (ssize_t)sizeof(msg))
		return;
	job->spawn_failed = true;
	snprintf(job->error, sizeof(job->error), "%s %s: %s",
		 msg[0] == STAGE_EXEC ? "cannot execute" : "cannot set up descriptors for",
		 job->argv[0], strerror(msg[1]));
}

static void job_fill_result(struct job *job, struct job_result *r)
{
	memset(r, 0, sizeof(*r));
	r->program = job->argv[0] ? job->argv[0] : "(none)";
	r->pid = job->pid;
	r->spawn_failed = job->spawn_failed;
	r->timed_out = job->timed_out;
	if (job->status_known && WIFEXITED(job->status)) {
		r->exited = true;
		r->exit_status = WEXITSTATUS(job->status);
	} else if (job->status_known && WIFSIGNALED(job->status)) {
		r->signal = WTERMSIG(job->status);
	}
	strlcpy_(r->error, job->error, sizeof(r->error));
	r->output = job->out;
	r->output_len = job->out_len;
	r->output_dropped = job->dropped;
	r->duration_ms = now_mono_ms() - job->start_ms;
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

/* --- results ----------------------------------------------------------------------------- */

bool job_result_ok(const struct job_result *r)
{
	return !r->spawn_failed && !r->timed_out && r->exited && r->exit_status == 0;
}

const char *job_result_describe(const struct job_result *r, char *buf, size_t len)
{
	if (r->spawn_failed)
		snprintf(buf, len, "could not start: %s", r->error);
	else if (r->timed_out)
		snprintf(buf, len, "%s", r->error);
	else if (r->exited)
		snprintf(buf, len, "exit status %d", r->exit_status);
	else if (r->signal)
		snprintf(buf, len, "killed by signal %d (%s)", r->signal, strsignal(r->signal));
	else
		snprintf(buf, len, "%s", *r->error ? r->error : "exit status unknown");
	return buf;
}

const char *job_result_last_line(const struct job_result *r, char *buf, size_t len)
{
	const char *o = r->output ? r->output : "";
	size_t end = r->output ? r->output_len : 0, start;

	while (end > 0 && (o[end - 1] == '\n' || o[end - 1] == '\r' || o[end - 1] == ' ' ||
			   o[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && o[start - 1] != '\n')
		start--;
	if (len) {
		size_t n = end - start < len - 1 ? end - start : len - 1;
		memcpy(buf, o + start, n);
		buf[n] = '\0';
	}
	return buf;
}

/* --- command strings --------------------------------------------------------------------- */

int job_split_argv(const char *cmdline, char ***argv_out)
{
	const char *p = cmdline ? cmdline : "";
	char **v = NULL, *word = xmalloc(strlen(p) + 1);
	size_t n = 0, wlen;
	bool quoted;

	*argv_out = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		wlen = 0;
		quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				word[wlen++] = *p;
		}
		if (quoted) {
			free(word);
			while (n > 0)
				free(v[--n]);
			free(v);
			errno = EINVAL;
			return -1;
		}
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = strndup(word, wlen);
		if (!v[n - 1])
			abort();
	}
	free(word);
	v = xrealloc(v, (n + 1) * sizeof(*v));
	v[n] = NULL;
	*argv_out = v;
	return (int)n;
}

void job_free_argv(char **argv)
{
	size_t i;

	if (!argv)
		return;
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* --- path safety ------------------------------------------------------------------------- */

/* Every symlink met while resolving `path`, and the directory it is in, must be such that only
 * root (or we) could have made or changed it: else whoever owns it decides what runs. */
static int check_links(const char *path, char *err, size_t errlen)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX], prefix[PATH_MAX];
	int hops = 0;
	size_t len;

	if (strlen(path) >= sizeof(cur)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(cur, path);
restart:
	for (len = 1;; len++) {
		struct stat st, dst;
		ssize_t n;
		char *slash;

		if (cur[len] != '/' && cur[len] != '\0')
			continue;
		memcpy(prefix, cur, len);
		prefix[len] = '\0';
		if (lstat(prefix, &st) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			if (st.st_uid != 0 && st.st_uid != geteuid()) {
				snprintf(err, errlen, "%s: symlink %s is owned by uid %u; it must be owned by root", path,
					 prefix, (unsigned)st.st_uid);
				return -1;
			}
			slash = strrchr(prefix, '/');
			if (slash == prefix)
				strcpy(next, "/");
			else {
				memcpy(next, prefix, (size_t)(slash - prefix));
				next[slash - prefix] = '\0';
			}
			if (stat(next, &dst) < 0 || check_one(path, next, &dst, true, err, errlen) < 0) {
				if (errno && !*err)
					snprintf(err, errlen, "%s: directory %s: %s", path, next, strerror(errno));
				return -1;
			}
			if (++hops > 40 || (n = readlink(prefix, target, sizeof(target) - 1)) < 0) {
				snprintf(err, errlen, "%s: symlink %s: %s", path, prefix, hops > 40 ? "too many levels" :
					 strerror(errno));
				return -1;
			}
			target[n] = '\0';
			if (target[0] == '/')
				n = snprintf(prefix, sizeof(prefix), "%s%s", target, cur + len);
			else
				n = snprintf(prefix, sizeof(prefix), "%s/%s%s", next, target, cur + len);
			if (n < 0 || (size_t)n >= sizeof(prefix)) {
				snprintf(err, errlen, "%s: path too long", path);
				return -1;
			}
			strcpy(cur, prefix);
			goto restart;
		}
		if (cur[len] == '\0')
			return 0;
	}
}

int job_check_path(const char *path, char *err, size_t errlen)
{
	char *real = NULL;
	int rc = job_resolve_checked(path, &real, err, errlen);
	free(real);
	return rc;
}

int job_resolve_checked(const char *path, char **real_out, char *err, size_t errlen)
{
	char *real, *dir;
	struct stat st;
	int rc = -1;

	*real_out = NULL;
	if (!path || path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", path ? path : "");
		return -1;
	}
	err[0] = '\0';
	errno = 0;
	if (check_links(path, err, errlen) < 0)
		return -1;
	if (!(real = realpath(path, NULL))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (check_one(path, real, &st, false, err, errlen) < 0)
		goto out;
	/* Whoever can rename entries in a directory on the way can swap the program. */
	while ((dir = strrchr(real, '/')) != NULL) {
		if (dir == real)
			dir[1] = '\0';
		else
			*dir = '\0';
		if (stat(real, &st) < 0) {
			snprintf(err, errlen, "%s: directory %s: %s", path, real, strerror(errno));
			goto out;
		}
		if (check_one(path, real, &st, true, err, errlen) < 0)
			goto out;
		if (!strcmp(real, "/"))
			break;
	}
	rc = 0;
	*real_out = realpath(path, NULL);   /* `real` was cut down to "/" above */
	if (!*real_out)
		rc = -1;
out:
	free(real);
	return rc;
}

static int check_one(const char *what, const char *path, const struct stat *st, bool dir,
		     char *err, size_t errlen)
{
	unsigned mode = (unsigned)st->st_mode & 07777;
	char where[PATH_MAX + 32];

	/* Name the directory, or the resolved file when a symlink led there. */
	if (dir)
		snprintf(where, sizeof(where), "directory %s ", path);
	else if (strcmp(what, path))
		snprintf(where, sizeof(where), "(resolved to %s) ", path);
	else
		where[0] = '\0';
	if (!dir && !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: %sis not a regular file", what, where);
		return -1;
	}
	if (!dir && (!(st->st_mode & 0111) || access(path, X_OK) < 0)) {
		snprintf(err, errlen, "%s: %sis not executable (mode %04o); chmod +x it", what, where,
			 mode);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "%s: %sis owned by uid %u; it must be owned by root or uid %u",
			 what, where, (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st->st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s: %sis writable by group or others (mode %04o); chmod go-w it",
			 what, where, mode);
		return -1;
	}
	return 0;
}
