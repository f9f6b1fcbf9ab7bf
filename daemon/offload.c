/* Work off the event loop (see offload.h).
 *
 * A job runs in a detached thread that blocks every signal (signals stay the loop's).  When it
 * is done, the thread writes the job's address to a pipe the loop watches (a pointer is far
 * below PIPE_BUF, so each write is whole); the loop reads it, calls the job's done callback and
 * starts the next waiting job.  The loop alone touches the queue; a thread touches only its
 * job's work, arg and result. */
#include "offload.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

struct off_job {
	TAILQ_ENTRY(off_job) entry;
	offload_work_fn work;
	offload_done_fn done;
	void *arg, *result;
};

static struct {
	struct event *ev;                     /* the pipe's read end, on the loop */
	int rfd, wfd;
	TAILQ_HEAD(, off_job) waiting;
	unsigned running, pending;
	bool ready, down;
} off = { .rfd = -1, .wfd = -1 };

static void *thread_main(void *arg)
{
	struct off_job *j = arg;
	ssize_t n;

	j->result = j->work(j->arg);
	do
		n = write(off.wfd, &j, sizeof(j));
	while (n < 0 && errno == EINTR);
	return NULL;
}

static int start(struct off_job *j)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread starts with every signal blocked */
	e = pthread_create(&t, &attr, thread_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e) {
		log_err("offload: cannot start a thread: %s", strerror(e));
		return -1;
	}
	off.running++;
	return 0;
}

static void finished(evutil_socket_t fd, short what, void *arg)
{
	struct off_job *j;
	ssize_t n;

	(void)what;
	(void)arg;
	while ((n = read(fd, &j, sizeof(j))) == (ssize_t)sizeof(j)) {
		struct off_job *next;
		off.running--;
		off.pending--;
		/* the next one waiting takes the thread's place before this one's callback runs */
		while ((next = TAILQ_FIRST(&off.waiting)) && off.running < OFFLOAD_THREADS) {
			TAILQ_REMOVE(&off.waiting, next, entry);
			if (start(next) < 0) {
				off.pending--;
				next->done(NULL, next->arg);
				free(next);
			}
		}
		j->done(j->result, j->arg);
		free(j);
	}
}

static int setup(struct event_base *base)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* the loop's end does not block; a thread's write blocks at worst until the loop reads */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	off.rfd = p[0];
	off.wfd = p[1];
	TAILQ_INIT(&off.waiting);
	off.ev = event_new(base, off.rfd, EV_READ | EV_PERSIST, finished, NULL);
	event_add(off.ev, NULL);
	off.ready = true;
	return 0;
}

int offload_run(struct event_base *base, offload_work_fn work, offload_done_fn done, void *arg)
{
	struct off_job *j;

	if (off.down || (!off.ready && setup(base) < 0))
		return -1;
	j = xcalloc(1, sizeof(*j));
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (off.running >= OFFLOAD_THREADS) {
		TAILQ_INSERT_TAIL(&off.waiting, j, entry);
	} else if (start(j) < 0) {
		free(j);
		return -1;
	}
	off.pending++;
	return 0;
}

unsigned offload_pending(void)
{
	return off.pending;
}

void offload_shutdown(void)
{
	/* threads still out finish into a pipe nobody reads: the process is ending */
	off.down = true;
	if (off.ev) {
		event_free(off.ev);
		off.ev = NULL;
	}
}
