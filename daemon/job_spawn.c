/* Starting a job's program: its stdin, the pipes, the fork, and the child up to execve; and
 * reading back the child's exec error. */
#include "job_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* What the child reports on its exec-error pipe before _exit(127). */
enum child_stage { STAGE_SETUP = 1, STAGE_EXEC = 2 };

static int job_stdin_fd(struct job *job, const char *data);
static void job_child(struct job *job, int in_fd, int out_fd, int err_fd, pid_t parent)
	__attribute__((noreturn));
static void job_child_fail(int err_fd, int stage) __attribute__((noreturn));
static void job_close_from(int lowfd, int keep);

int job_spawn(struct job *job, const char *stdin_data)
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

/* The child wrote {stage, errno} if it could not exec; EOF means execve succeeded. */
void job_read_exec_error(struct job *job)
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
