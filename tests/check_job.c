/* Tests for job.c (real processes on a real event_base) and for the exec router driver that
 * runs on it (router_exec.c), with temporary scripts. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "job.h"
#include "log.h"
#include "router.h"
#include "util.h"

Suite *job_suite(void);

#define GUARD_MS 20000   /* a test that hangs this long has failed; not a timing assertion */

struct outcome {
	int calls;
	struct job_result r;     /* copy; output points at `output` */
	char *output;            /* owned copy */
	char error[256];
};

struct rcall {
	int calls;
	int err;
	char msg[1024];
};

static char tmpdir[64];

static void on_job_done(struct job_result *r, void *arg);
static void on_router_done(struct router *r, int err, const char *msg, void *arg);
static void guard_cb(evutil_socket_t fd, short what, void *arg);
static void loop_until(struct event_base *base, const int *calls);
static void run(const char *const *argv, const char *const *env, const char *in, int timeout_ms,
		struct outcome *o);
static void outcome_free(struct outcome *o);
static bool process_gone(pid_t pid);
static void expect_killed_orphan(pid_t pid);
static pid_t wait_pid_file(struct event_base *base, const char *path);
static void write_script(const char *name, const char *body, char *path, size_t len);
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);
static void tmp_setup(void);
static void tmp_teardown(void);

static void on_job_done(struct job_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->r = *r;
	o->output = xmalloc(r->output_len + 1);
	memcpy(o->output, r->output, r->output_len);
	o->output[r->output_len] = '\0';
	o->r.output = o->output;
	o->r.program = NULL;
	strlcpy_(o->error, r->error, sizeof(o->error));
}

static void on_router_done(struct router *r, int err, const char *msg, void *arg)
{
	struct rcall *c = arg;

	c->calls++;
	c->err = err;
	strlcpy_(c->msg, msg ? msg : "", sizeof(c->msg));
}

static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	*(bool *)arg = true;
}

/* Run the loop until *calls is set (calls != NULL) and every job is reaped, or the guard. */
static void loop_until(struct event_base *base, const int *calls)
{
	struct timeval tv = { GUARD_MS / 1000, 0 };
	bool stuck = false;
	struct event *guard = evtimer_new(base, guard_cb, &stuck);

	evtimer_add(guard, &tv);
	while (!stuck && ((calls && *calls == 0) || job_count() > 0))
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	ck_assert_msg(!stuck, "the loop did not finish within %d ms", GUARD_MS);
}

static void run(const char *const *argv, const char *const *env, const char *in, int timeout_ms,
		struct outcome *o)
{
	struct event_base *base = event_base_new();
	struct job *job;

	memset(o, 0, sizeof(*o));
	job = job_run(base, argv, env, in, timeout_ms, on_job_done, o, NULL);
	ck_assert_ptr_nonnull(job);
	ck_assert_int_eq(o->calls, 0);      /* never from inside job_run */
	loop_until(base, &o->calls);
	ck_assert_int_eq(o->calls, 1);
	ck_assert_uint_eq(job_count(), 0);
	event_base_free(base);
}

static void outcome_free(struct outcome *o)
{
	free(o->output);
	o->output = NULL;
}

/* Gone, or a zombie waiting for a parent that is not us: either way it runs no more. */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return !p || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
}

/* The test process is the subreaper of the job's orphans (see the tests), so it can tell how
 * an orphan ended: killed, not merely a zombie of someone else.  Its job reaped only its own
 * child, or this waitpid would fail with ECHILD. */
static void expect_killed_orphan(pid_t pid)
{
	pid_t got = 0;
	int st = 0, i;

	for (i = 0; i < 500 && got == 0; i++) {
		got = waitpid(pid, &st, WNOHANG);
		if (got == 0)
			usleep(10000);
	}
	ck_assert_msg(got == pid, "orphan %d: waitpid gave %d (%s)", (int)pid, (int)got,
		      got < 0 ? strerror(errno) : "still running");
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "orphan %d: status 0x%x",
		      (int)pid, st);
}

/* Wait (bounded) until a job has written a pid into `path`, running the loop meanwhile. */
static pid_t wait_pid_file(struct event_base *base, const char *path)
{
	long long pid = 0;
	char *s;
	int i;

	for (i = 0; i < 500; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if ((s = read_small_file(path, 64)) != NULL) {
			bool ok = strchr(s, '\n') && parse_ll(trim(s), 2, INT_MAX, &pid);
			free(s);
			if (ok)
				return (pid_t)pid;
		}
		usleep(10000);
	}
	ck_abort_msg("no pid appeared in %s", path);
	return 0;
}

static void write_script(const char *name, const char *body, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tmp_setup(void)
{
	log_init(LOG_TO_STDERR, LOG_ERR);
	strlcpy_(tmpdir, "/tmp/check_job.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	chmod(tmpdir, 0700);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- job_run ----------------------------------------------------------------------------- */

START_TEST(test_run_echo)
{
	const char *argv[] = { "/bin/echo", "hello", "world", NULL };
	struct outcome o;

	run(argv, NULL, NULL, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert(o.r.exited);
	ck_assert_int_eq(o.r.exit_status, 0);
	ck_assert_int_gt(o.r.pid, 0);
	ck_assert_str_eq(o.output, "hello world\n");
	ck_assert_uint_eq(o.r.output_len, 12);
	ck_assert_uint_eq(o.r.output_dropped, 0);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_exit_status)
{
	const char *argv[] = { "/bin/sh", "-c", "echo to-stderr >&2; exit 3", NULL };
	struct outcome o;
	char buf[128];

	run(argv, NULL, NULL, 5000, &o);
	ck_assert(!job_result_ok(&o.r));
	ck_assert(o.r.exited);
	ck_assert(!o.r.spawn_failed);
	ck_assert(!o.r.timed_out);
	ck_assert_int_eq(o.r.exit_status, 3);
	ck_assert_str_eq(job_result_describe(&o.r, buf, sizeof(buf)), "exit status 3");
	ck_assert_str_eq(o.output, "to-stderr\n");      /* stderr is captured too */
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_env_exact)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *env[] = { "CUTOVER_X=1", NULL };
	struct outcome o;

	setenv("HOME", "/root", 1);
	setenv("CUTOVER_LEAK", "yes", 1);
	run(argv, env, NULL, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_str_eq(o.output, "CUTOVER_X=1\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
	ck_assert_ptr_null(strstr(o.output, "HOME="));
	ck_assert_ptr_null(strstr(o.output, "CUTOVER_LEAK"));
	outcome_free(&o);
	unsetenv("CUTOVER_LEAK");
}
END_TEST

START_TEST(test_run_env_own_path)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *env[] = { "PATH=/bin", "A=b c", NULL };
	const char *bad[] = { "NOEQUALS", NULL };
	struct outcome o;

	run(argv, env, NULL, 5000, &o);
	ck_assert_str_eq(o.output, "PATH=/bin\nA=b c\n");
	outcome_free(&o);
	run(argv, bad, NULL, 5000, &o);
	ck_assert(o.r.spawn_failed);
	ck_assert_ptr_nonnull(strstr(o.error, "'='"));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_stdin)
{
	const char *argv[] = { "/bin/cat", NULL };
	struct outcome o;
	char *big;

	run(argv, NULL, "line one\nline two\n", 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_str_eq(o.output, "line one\nline two\n");
	outcome_free(&o);

	/* Larger than a page: the pipe is grown before the write. */
	big = xmalloc(20001);
	memset(big, 'x', 20000);
	big[20000] = '\0';
	run(argv, NULL, big, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_uint_eq(o.r.output_len, 20000);
	ck_assert_str_eq(o.output, big);
	outcome_free(&o);
	free(big);

	/* No stdin_data: /dev/null, so cat ends at once. */
	run(argv, NULL, NULL, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_uint_eq(o.r.output_len, 0);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_timeout)
{
	const char *argv[] = { "/bin/sleep", "30", NULL };
	struct outcome o;
	char buf[128];

	run(argv, NULL, NULL, 200, &o);
	ck_assert(o.r.timed_out);
	ck_assert(!job_result_ok(&o.r));
	ck_assert(!o.r.exited);
	ck_assert_int_eq(o.r.signal, SIGKILL);
	ck_assert_int_lt(o.r.duration_ms, 10000);
	ck_assert_str_eq(job_result_describe(&o.r, buf, sizeof(buf)), "timed out after 200 ms");
	ck_assert(process_gone(o.r.pid));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_grandchild_holds_pipe)
{
	const char *argv[] = { "/bin/sh", "-c", "sleep 30 & echo $!", NULL };
	struct outcome o;
	long long gc;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	run(argv, NULL, NULL, 20000, &o);
	ck_assert(!o.r.timed_out);
	ck_assert(job_result_ok(&o.r));          /* sh itself exited 0 */
	ck_assert_int_lt(o.r.duration_ms, 10000);
	ck_assert(parse_ll(trim(o.output), 2, INT_MAX, &gc));
	expect_killed_orphan((pid_t)gc);
	ck_assert_int_eq(kill(-o.r.pid, 0), -1);  /* nothing is left in the group */
	ck_assert_int_eq(errno, ESRCH);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_no_fd_leak)
{
	const char *argv[] = { "/bin/ls", "-l", "/proc/self/fd", NULL };
	int fd = open("/dev/null", O_RDONLY);   /* deliberately without O_CLOEXEC */
	struct outcome o;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 57), 57);
	run(argv, NULL, NULL, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_ptr_nonnull(strstr(o.output, " 0 -> "));
	ck_assert_ptr_nonnull(strstr(o.output, " 1 -> "));
	ck_assert_msg(!strstr(o.output, " 57 -> "), "fd 57 leaked:\n%s", o.output);
	outcome_free(&o);
	close(57);
	close(fd);
}
END_TEST

/* A hook behind a symlink that someone else could re-point is refused, at config load and when
 * it runs (issue: a symlink in a directory owned by nobody passed, was re-pointed, and root
 * ran nobody's script). */
START_TEST(test_symlinks_on_the_way)
{
	char open_dir[128], link_in_open[160], safe_link[160], script[160], why[512];
	const char *argv[] = { safe_link, NULL };
	struct outcome o;

	/* a directory anyone may write (no sticky bit): a symlink there can be swapped */
	snprintf(open_dir, sizeof(open_dir), "%s/open", tmpdir);
	ck_assert_int_eq(mkdir(open_dir, 0700), 0);
	ck_assert_int_eq(chmod(open_dir, 0777), 0);
	snprintf(link_in_open, sizeof(link_in_open), "%s/hook", open_dir);
	ck_assert_int_eq(symlink("/bin/true", link_in_open), 0);
	ck_assert_int_eq(job_check_path(link_in_open, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "writable by group or others") != NULL, "why: %s", why);

	/* a symlink in a safe directory passes ... */
	snprintf(safe_link, sizeof(safe_link), "%s/hook", tmpdir);
	ck_assert_int_eq(symlink("/bin/true", safe_link), 0);
	ck_assert_int_eq(job_check_path(safe_link, why, sizeof(why)), 0);
	run(argv, NULL, NULL, 5000, &o);
	ck_assert(job_result_ok(&o.r));
	outcome_free(&o);
	/* ... and once it leads through the open directory, running it is refused */
	snprintf(script, sizeof(script), "%s/evil", open_dir);
	{
		FILE *f = fopen(script, "w");
		ck_assert_ptr_nonnull(f);
		fputs("#!/bin/sh\nexit 0\n", f);
		fclose(f);
		ck_assert_int_eq(chmod(script, 0755), 0);
	}
	ck_assert_int_eq(unlink(safe_link), 0);
	ck_assert_int_eq(symlink(link_in_open, safe_link), 0);
	run(argv, NULL, NULL, 5000, &o);
	ck_assert(o.r.spawn_failed);
	ck_assert_msg(strstr(o.error, "refused to run") != NULL, "error: %s", o.error);
	outcome_free(&o);
	unlink(safe_link);
	unlink(link_in_open);
	unlink(script);
	rmdir(open_dir);
}
END_TEST

START_TEST(test_run_missing_program)
{
	const char *argv[] = { "/nonexistent/cutover-hook", NULL };
	const char *rel[] = { "bin/true", NULL };
	struct outcome o;
	char buf[512];

	run(argv, NULL, NULL, 5000, &o);
	ck_assert(o.r.spawn_failed);
	ck_assert(!job_result_ok(&o.r));
	ck_assert_msg(strstr(o.error, "/nonexistent/cutover-hook: No such file or directory"),
		      "error: %s", o.error);
	ck_assert_ptr_nonnull(strstr(job_result_describe(&o.r, buf, sizeof(buf)), "could not start"));
	outcome_free(&o);

	run(rel, NULL, NULL, 5000, &o);
	ck_assert(o.r.spawn_failed);
	ck_assert_ptr_nonnull(strstr(o.error, "absolute path"));
	ck_assert_int_eq(o.r.pid, 0);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_output_cap)
{
	const char *argv[] = { "/bin/sh", "-c", "yes | head -c 100000", NULL };
	struct outcome o;

	run(argv, NULL, NULL, 10000, &o);
	ck_assert(job_result_ok(&o.r));
	ck_assert_uint_eq(o.r.output_len, JOB_OUTPUT_MAX);
	ck_assert_uint_eq(o.r.output_dropped, 100000 - JOB_OUTPUT_MAX);
	ck_assert_uint_eq(strlen(o.output), JOB_OUTPUT_MAX);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_callback_starts_next)
{
	/* A job started from a callback runs on the same loop (the SIGCHLD watch survives). */
	const char *argv[] = { "/bin/echo", "again", NULL };
	struct event_base *base = event_base_new();
	struct outcome first, second;

	memset(&first, 0, sizeof(first));
	memset(&second, 0, sizeof(second));
	job_run(base, argv, NULL, NULL, 5000, on_job_done, &first, NULL);
	loop_until(base, &first.calls);
	job_run(base, argv, NULL, NULL, 5000, on_job_done, &second, NULL);
	loop_until(base, &second.calls);
	ck_assert_str_eq(second.output, "again\n");
	outcome_free(&first);
	outcome_free(&second);
	event_base_free(base);
}
END_TEST

/* --- job_cancel -------------------------------------------------------------------------- */

START_TEST(test_cancel)
{
	struct event_base *base = event_base_new();
	char script[PATH_MAX + 64], file[PATH_MAX];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct outcome o;
	struct job *job;
	pid_t pid, gc;

	/* The grandchild's pid reaches us through a file: with the callback suppressed, the
	 * output is never seen. */
	snprintf(file, sizeof(file), "%s/gc.pid", tmpdir);
	snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; exec sleep 30", file);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	memset(&o, 0, sizeof(o));
	job = job_run(base, argv, NULL, NULL, 20000, on_job_done, &o, NULL);
	pid = job_pid(job);
	ck_assert_int_gt(pid, 0);
	gc = wait_pid_file(base, file);
	job_cancel(job);
	loop_until(base, NULL);
	ck_assert_int_eq(o.calls, 0);
	ck_assert(process_gone(pid));
	expect_killed_orphan(gc);
	ck_assert_int_eq(kill(-pid, 0), -1);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	event_base_free(base);
}
END_TEST

/* With [ha], a member that stops leading kills the programs acting for it (an exec router's
 * switchover step, a fence hook, STONITH): their callbacks still come, with stopped set and
 * why; a job not marked so (a notification hook, the router's status) runs on. */
START_TEST(test_stop_acting)
{
	struct event_base *base = event_base_new();
	const char *argv[] = { "/bin/sleep", "30", NULL };
	struct outcome acting, other;
	struct job *a, *b;
	pid_t pa, pb;
	char buf[300];

	memset(&acting, 0, sizeof(acting));
	memset(&other, 0, sizeof(other));
	a = job_run(base, argv, NULL, NULL, 20000, on_job_done, &acting, NULL);
	b = job_run(base, argv, NULL, NULL, 20000, on_job_done, &other, NULL);
	job_set_acts(a);
	pa = job_pid(a);
	pb = job_pid(b);
	ck_assert_int_gt(pa, 0);
	ck_assert_int_gt(pb, 0);
	ck_assert_uint_eq(job_stop_acting("this member no longer leads: test"), 1);
	{
		int64_t end = now_mono_ms() + GUARD_MS;
		while (acting.calls == 0 && now_mono_ms() < end)
			event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(1000);
	}
	ck_assert_int_eq(acting.calls, 1);
	ck_assert(acting.r.stopped);
	ck_assert(!job_result_ok(&acting.r));
	ck_assert_str_eq(job_result_describe(&acting.r, buf, sizeof(buf)), "killed: this member no longer leads: test");
	ck_assert(process_gone(pa));
	/* the other one is still running, and a second call finds nothing more to stop */
	ck_assert_int_eq(other.calls, 0);
	ck_assert_int_eq(kill(pb, 0), 0);
	ck_assert_uint_eq(job_stop_acting("again"), 0);
	job_cancel(b);
	loop_until(base, NULL);
	ck_assert(process_gone(pb));
	outcome_free(&acting);
	event_base_free(base);
}
END_TEST

START_TEST(test_cancel_before_start_reported)
{
	/* A job that failed to start is cancelled before its result is delivered. */
	const char *argv[] = { "/nonexistent", NULL };
	struct event_base *base = event_base_new();
	struct outcome o;

	memset(&o, 0, sizeof(o));
	job_cancel(job_run(base, argv, NULL, NULL, 1000, on_job_done, &o, NULL));
	loop_until(base, NULL);
	ck_assert_int_eq(o.calls, 0);
	event_base_free(base);
}
END_TEST

/* --- job_result_* ------------------------------------------------------------------------ */

START_TEST(test_result_describe)
{
	struct job_result r;
	char buf[256];

	memset(&r, 0, sizeof(r));
	r.signal = SIGTERM;
	ck_assert_ptr_nonnull(strstr(job_result_describe(&r, buf, sizeof(buf)),
				     "killed by signal 15"));
	ck_assert(!job_result_ok(&r));
	memset(&r, 0, sizeof(r));
	r.exited = true;
	ck_assert(job_result_ok(&r));
	ck_assert_str_eq(job_result_describe(&r, buf, sizeof(buf)), "exit status 0");
}
END_TEST

START_TEST(test_result_last_line)
{
	struct job_result r;
	char buf[8];

	memset(&r, 0, sizeof(r));
	ck_assert_str_eq(job_result_last_line(&r, buf, sizeof(buf)), "");
	r.output = "first\nsecond\r\n\n  \n";
	r.output_len = strlen(r.output);
	ck_assert_str_eq(job_result_last_line(&r, buf, sizeof(buf)), "second");
	r.output = "only one line without newline";
	r.output_len = strlen(r.output);
	ck_assert_str_eq(job_result_last_line(&r, buf, sizeof(buf)), "only on");   /* truncated */
}
END_TEST

/* --- job_split_argv ---------------------------------------------------------------------- */

START_TEST(test_split_argv)
{
	char **v;

	ck_assert_int_eq(job_split_argv("/usr/bin/hook  a\t\tb ", &v), 3);
	ck_assert_str_eq(v[0], "/usr/bin/hook");
	ck_assert_str_eq(v[1], "a");
	ck_assert_str_eq(v[2], "b");
	ck_assert_ptr_null(v[3]);
	job_free_argv(v);

	ck_assert_int_eq(job_split_argv("/x \"two words\" --opt=\"a b\" \"\" $HOME", &v), 5);
	ck_assert_str_eq(v[1], "two words");
	ck_assert_str_eq(v[2], "--opt=a b");
	ck_assert_str_eq(v[3], "");
	ck_assert_str_eq(v[4], "$HOME");              /* no expansion */
	job_free_argv(v);

	ck_assert_int_eq(job_split_argv("", &v), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(v[0]);
	job_free_argv(v);
	ck_assert_int_eq(job_split_argv(" \t ", &v), 0);
	job_free_argv(v);

	errno = 0;
	ck_assert_int_eq(job_split_argv("/x \"unterminated", &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(v);
}
END_TEST

/* --- job_check_path ---------------------------------------------------------------------- */

START_TEST(test_check_path)
{
	char path[PATH_MAX], link[PATH_MAX + 8], err[512];

	ck_assert_int_eq(job_check_path("/bin/true", err, sizeof(err)), 0);
	write_script("hook", "#!/bin/sh\nexit 0\n", path, sizeof(path));
	ck_assert_msg(job_check_path(path, err, sizeof(err)) == 0, "%s", err);

	ck_assert_int_eq(job_check_path("hook", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not an absolute path"));
	ck_assert_int_eq(job_check_path("/nonexistent/hook", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_int_eq(job_check_path(tmpdir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));

	/* A symlink is judged by what it points at. */
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(job_check_path(link, err, sizeof(err)), 0);

	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(job_check_path(path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not executable"));
	ck_assert_int_eq(chmod(path, 0775), 0);
	ck_assert_int_eq(job_check_path(path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writable by group or others (mode 0775)"));
	ck_assert_int_eq(chmod(path, 0757), 0);
	ck_assert_int_eq(job_check_path(link, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "resolved to"));

	ck_assert_int_eq(chmod(path, 0755), 0);
	ck_assert_int_eq(chmod(tmpdir, 0777), 0);
	ck_assert_int_eq(job_check_path(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "directory") && strstr(err, "writable"), "%s", err);
	ck_assert_int_eq(chmod(tmpdir, 01777), 0);        /* sticky, like /tmp: accepted */
	ck_assert_msg(job_check_path(path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);

	if (geteuid() == 0) {
		ck_assert_int_eq(chown(path, 12345, 0), 0);
		ck_assert_int_eq(job_check_path(path, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "owned by uid 12345"));
	}
}
END_TEST

/* --- router_exec ------------------------------------------------------------------------- */

static struct cfg_server rx_servers[2] = {
	{ .name = "db1", .cluster = "main", .host = "10.0.0.1", .port = 3306 },
	{ .name = "db2", .cluster = "main", .host = "10.0.0.2", .port = 3307 },
};

struct rx {
	struct event_base *base;
	struct config conf;
	struct cfg_router cfg;
	struct router r;
	char cmd[RSTEP__COUNT][PATH_MAX * 2 + 16];
};

static void rx_init(struct rx *x)
{
	memset(x, 0, sizeof(*x));
	x->base = event_base_new();
	x->conf.servers = rx_servers;
	x->conf.n_servers = 2;
	x->cfg.name = "mr";
	x->cfg.cluster = "main";
	x->cfg.type = ROUTER_EXEC;
	x->cfg.timeout_ms = 5000;
	x->r.cfg = &x->cfg;
	x->r.config = &x->conf;
	x->r.ops = &router_exec_ops;
	x->r.base = x->base;
}

static void rx_set(struct rx *x, enum router_step step, const char *fmt, const char *a,
		   const char *b)
{
	snprintf(x->cmd[step], sizeof(x->cmd[step]), fmt, a, b);
	x->cfg.exec_cmd[step] = x->cmd[step];
}

static void rx_open(struct rx *x)
{
	char err[512];

	ck_assert_msg(x->r.ops->open(&x->r, err, sizeof(err)) == 0, "open: %s", err);
}

static void rx_done(struct rx *x)
{
	x->r.ops->close(&x->r);
	loop_until(x->base, NULL);
	event_base_free(x->base);
}

static const struct router_switch rx_sw = {
	.cluster = "main", .old_primary = &rx_servers[0], .new_primary = &rx_servers[1],
	.phase = "route", .id = "sw-42",
};

START_TEST(test_exec_promote_env)
{
	static const char *const want[] = {
		"CUTOVER_STEP=promote\n", "CUTOVER_PHASE=route\n", "CUTOVER_CLUSTER=main\n",
		"CUTOVER_ROUTER=mr\n", "CUTOVER_ID=sw-42\n", "CUTOVER_OLD_PRIMARY=db1\n",
		"CUTOVER_OLD_PRIMARY_HOST=10.0.0.1\n", "CUTOVER_OLD_PRIMARY_PORT=3306\n",
		"CUTOVER_NEW_PRIMARY=db2\n", "CUTOVER_NEW_PRIMARY_HOST=10.0.0.2\n",
		"CUTOVER_NEW_PRIMARY_PORT=3307\n",
	};
	char hook[PATH_MAX], out[PATH_MAX], *env;
	struct rcall c = { 0 };
	const char *p;
	size_t i, lines = 0;
	struct rx x;

	rx_init(&x);
	write_script("record-env", "#!/bin/sh\nenv | grep '^CUTOVER_' | sort >> \"$1\"\n", hook,
		     sizeof(hook));
	snprintf(out, sizeof(out), "%s/env.out", tmpdir);
	rx_set(&x, RSTEP_PROMOTE, "%s \"%s\"", hook, out);
	rx_open(&x);
	x.r.ops->promote(&x.r, &rx_sw, on_router_done, &c);
	ck_assert_int_eq(c.calls, 0);         /* never synchronously */
	ck_assert(x.r.busy);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_msg(c.err == 0, "%s", c.msg);
	ck_assert(!x.r.busy);
	env = read_small_file(out, 65536);
	ck_assert_ptr_nonnull(env);
	for (i = 0; i < ARRAY_LEN(want); i++)
		ck_assert_msg(strstr(env, want[i]), "missing %s in:\n%s", want[i], env);
	/* Nothing else of ours leaks: exactly these CUTOVER_ lines. */
	for (p = env; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_uint_eq(lines, ARRAY_LEN(want));
	free(env);
	rx_done(&x);
}
END_TEST

START_TEST(test_exec_step_fails)
{
	char hook[PATH_MAX];
	struct rcall c = { 0 };
	struct rx x;

	rx_init(&x);
	write_script("fail", "#!/bin/sh\necho working\necho \"backend $CUTOVER_NEW_PRIMARY refused\" >&2\n"
		     "exit 4\n", hook, sizeof(hook));
	rx_set(&x, RSTEP_PROMOTE, "%s%s", hook, "");
	rx_open(&x);
	x.r.ops->promote(&x.r, &rx_sw, on_router_done, &c);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.err, -1);
	ck_assert_msg(strstr(c.msg, "router mr: exec_promote") && strstr(c.msg, "exit status 4") &&
		      strstr(c.msg, "\"backend db2 refused\""), "%s", c.msg);
	rx_done(&x);
}
END_TEST

START_TEST(test_exec_step_times_out)
{
	char hook[PATH_MAX];
	struct rcall c = { 0 };
	struct rx x;

	rx_init(&x);
	x.cfg.timeout_ms = 300;
	write_script("hang", "#!/bin/sh\necho draining\nexec sleep 30\n", hook, sizeof(hook));
	rx_set(&x, RSTEP_PROMOTE, "%s%s", hook, "");
	rx_set(&x, RSTEP_DRAIN, "%s%s", hook, "");
	rx_open(&x);
	x.r.ops->drain(&x.r, &rx_sw, on_router_done, &c);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.err, -1);
	ck_assert_msg(strstr(c.msg, "exec_drain") && strstr(c.msg, "timed out after 300 ms") &&
		      strstr(c.msg, "draining"), "%s", c.msg);
	rx_done(&x);
}
END_TEST

START_TEST(test_exec_unconfigured_step)
{
	char hook[PATH_MAX];
	struct rcall c = { 0 };
	struct rx x;
	char err[256];

	rx_init(&x);
	/* Promote is required. */
	ck_assert_int_eq(x.r.ops->open(&x.r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "exec_promote"));
	/* An unsafe program is refused at open. */
	write_script("hook", "#!/bin/sh\nexit 0\n", hook, sizeof(hook));
	ck_assert_int_eq(chmod(hook, 0777), 0);
	rx_set(&x, RSTEP_PROMOTE, "%s%s", hook, "");
	ck_assert_int_eq(x.r.ops->open(&x.r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writable by group or others"));
	ck_assert_int_eq(chmod(hook, 0755), 0);
	rx_open(&x);
	/* finalize has no command: it succeeds, later, without running anything. */
	x.r.ops->finalize(&x.r, &rx_sw, on_router_done, &c);
	ck_assert_int_eq(c.calls, 0);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.err, 0);
	ck_assert_ptr_nonnull(strstr(c.msg, "no exec_finalize"));
	/* Nor status: the view is reachable and empty. */
	c.calls = 0;
	x.r.view.n = 5;
	x.r.ops->poll(&x.r, on_router_done, &c);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.err, 0);
	ck_assert(x.r.view.reachable);
	ck_assert_uint_eq(x.r.view.n, 0);
	rx_done(&x);
}
END_TEST

START_TEST(test_exec_poll_status)
{
	char hook[PATH_MAX], bad[PATH_MAX];
	struct rcall c = { 0 };
	struct rx x;
	const struct router_backend *be;

	rx_init(&x);
	write_script("status", "#!/bin/sh\nprintf '%s\\n' '# backends' 'db1 writer drain 3' '' "
		     "'db2 WRITER up 0' 'db2 reader up' 'foo reader down'\n", hook, sizeof(hook));
	rx_set(&x, RSTEP_PROMOTE, "%s%s", hook, "");
	rx_set(&x, RSTEP_STATUS, "%s%s", hook, "");
	rx_open(&x);
	x.r.ops->poll(&x.r, on_router_done, &c);
	loop_until(x.base, &c.calls);
	ck_assert_msg(c.err == 0, "%s", c.msg);
	ck_assert(x.r.view.reachable);
	ck_assert_uint_eq(x.r.view.n, 4);
	be = &x.r.view.be[0];
	ck_assert_str_eq(be->server, "db1");
	ck_assert_str_eq(be->host, "10.0.0.1");
	ck_assert_int_eq(be->port, 3306);
	ck_assert(be->writer);
	ck_assert(!be->admin_up);
	ck_assert(be->healthy);
	ck_assert_str_eq(be->state, "DRAIN");
	ck_assert_int_eq(be->sessions, 3);
	be = &x.r.view.be[1];
	ck_assert(be->writer && be->admin_up && be->healthy);
	ck_assert_str_eq(be->state, "UP");
	ck_assert(!x.r.view.be[2].writer);
	be = &x.r.view.be[3];
	ck_assert_str_eq(be->server, "");          /* not a configured server */
	ck_assert_str_eq(be->name, "foo");
	ck_assert(!be->healthy);

	/* A malformed line fails the poll and leaves no stale backends. */
	write_script("bad", "#!/bin/sh\necho 'db1 writer up'\necho 'db2 primary up'\n", bad,
		     sizeof(bad));
	rx_set(&x, RSTEP_STATUS, "%s%s", bad, "");
	c.calls = 0;
	x.r.ops->poll(&x.r, on_router_done, &c);
	loop_until(x.base, &c.calls);
	ck_assert_int_eq(c.err, -1);
	ck_assert_msg(strstr(c.msg, "line 2") && strstr(c.msg, "role 'primary' of db2"), "%s",
		      c.msg);
	ck_assert(!x.r.view.reachable);
	ck_assert_uint_eq(x.r.view.n, 0);
	ck_assert_ptr_nonnull(strstr(x.r.view.error, "line 2"));
	rx_done(&x);
}
END_TEST

START_TEST(test_exec_close_cancels)
{
	char hook[PATH_MAX];
	struct rcall c = { 0 };
	struct rx x;

	rx_init(&x);
	write_script("hang", "#!/bin/sh\nexec sleep 30\n", hook, sizeof(hook));
	rx_set(&x, RSTEP_PROMOTE, "%s%s", hook, "");
	rx_open(&x);
	x.r.ops->promote(&x.r, &rx_sw, on_router_done, &c);
	event_base_loop(x.base, EVLOOP_NONBLOCK);
	rx_done(&x);
	ck_assert_int_eq(c.calls, 0);
}
END_TEST

Suite *job_suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc;

	tc = tcase_create("job_run");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_run_echo);
	tcase_add_test(tc, test_run_exit_status);
	tcase_add_test(tc, test_run_env_exact);
	tcase_add_test(tc, test_run_env_own_path);
	tcase_add_test(tc, test_run_stdin);
	tcase_add_test(tc, test_run_timeout);
	tcase_add_test(tc, test_run_grandchild_holds_pipe);
	tcase_add_test(tc, test_run_no_fd_leak);
	tcase_add_test(tc, test_run_missing_program);
	tcase_add_test(tc, test_symlinks_on_the_way);
	tcase_add_test(tc, test_run_output_cap);
	tcase_add_test(tc, test_run_callback_starts_next);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_cancel");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_before_start_reported);
	tcase_add_test(tc, test_stop_acting);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_result");
	tcase_add_test(tc, test_result_describe);
	tcase_add_test(tc, test_result_last_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_split_argv");
	tcase_add_test(tc, test_split_argv);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_check_path");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_check_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("router_exec");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_exec_promote_env);
	tcase_add_test(tc, test_exec_step_fails);
	tcase_add_test(tc, test_exec_step_times_out);
	tcase_add_test(tc, test_exec_unconfigured_step);
	tcase_add_test(tc, test_exec_poll_status);
	tcase_add_test(tc, test_exec_close_cancels);
	suite_add_tcase(s, tc);
	return s;
}
