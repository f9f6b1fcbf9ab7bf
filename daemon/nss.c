/* NSS look-ups off the event loop (see nss.h).
 *
 * A look-up is a job: queued on the loop's list, run by a detached thread of its own (NSS_THREADS
 * at most; the rest wait their turn), and put back on the done list of the meeting point with a
 * byte on the pipe, which the loop watches.  The loop alone touches the list and a job's loop
 * fields; the thread alone its answer until it hands it over under the mutex.
 *
 * Decisions worth knowing:
 *  - A look-up that never returns (a hung LDAP server) keeps its thread and its place among the
 *    NSS_THREADS: nothing can cancel a call inside NSS safely.  The caller keeps its own deadline.
 *  - The meeting point outlives the resolver while threads are out: the last thread frees it,
 *    dropping its answer, so that nss_free never waits for NSS.
 *  - The threads block every signal: signals stay the loop's (libevent's evsignal).
 */
#include "nss.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

struct nss_job {
	TAILQ_ENTRY(nss_job) out;          /* the loop's: in nss->jobs until answered */
	STAILQ_ENTRY(nss_job) done;        /* the meeting point's */
	struct meet *meet;
	uid_t uid;
	bool running;                  /* the loop's: a thread has it */
	bool late;                     /* the loop's */
	gid_t *groups;                 /* the thread's until handed over */
	int n;
};

STAILQ_HEAD(job_queue, nss_job);

/* Where the loop and the threads meet. */
struct meet {
	pthread_mutex_t mu;
	struct job_queue done;         /* answered, not yet taken by the loop */
	int wfd;                       /* the pipe's write end; -1 once the resolver is freed */
	int threads;                   /* started and not finished */
};

struct nss {
	struct meet *meet;
	int rfd;
	struct event *ev;              /* owned: rfd readable */
	TAILQ_HEAD(, nss_job) jobs;        /* out: running, or waiting for a thread */
	int running;
	nss_answer_fn fn;
	void *arg;
};

static int lookup_groups(uid_t uid, gid_t **groups);
static void *worker(void *arg);
static void finish(struct nss_job *job);
static void meet_free(struct meet *m);
static struct nss_job *find(struct nss *r, uid_t uid);
static void start(struct nss *r, struct nss_job *job);
static void start_next(struct nss *r);
static void answers_cb(evutil_socket_t fd, short what, void *arg);

int (*nss_lookup)(uid_t uid, gid_t **groups) = lookup_groups;

static int lookup_groups(uid_t uid, gid_t **groups)
{
	struct passwd pw, *res = NULL;
	long bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	int ng = 64, e;

	*groups = NULL;
	if (bufsz < 1024)
		bufsz = 16384;
	buf = xmalloc((size_t)bufsz);
	e = getpwuid_r(uid, &pw, buf, (size_t)bufsz, &res);
	if (e != 0 || res == NULL) {
		free(buf);
		return e != 0 ? -1 : 0;   /* 0: NSS does not know the uid */
	}
	*groups = xcalloc((size_t)ng, sizeof(gid_t));
	if (getgrouplist(pw.pw_name, pw.pw_gid, *groups, &ng) < 0) {
		*groups = xrealloc(*groups, (size_t)ng * sizeof(gid_t));
		if (getgrouplist(pw.pw_name, pw.pw_gid, *groups, &ng) < 0)
			ng = -1;
	}
	free(buf);
	return ng;
}

static void *worker(void *arg)
{
	struct nss_job *job = arg;

	job->n = nss_lookup(job->uid, &job->groups);
	finish(job);
	return NULL;
}

/* Hand the answer to the loop, or drop it when the resolver is gone. */
static void finish(struct nss_job *job)
{
	struct meet *m = job->meet;
	bool last;
	ssize_t w;

	pthread_mutex_lock(&m->mu);
	if (m->wfd >= 0) {
		STAILQ_INSERT_TAIL(&m->done, job, done);
		w = write(m->wfd, "", 1);   /* a full pipe already has a wake-up in it */
		(void)w;
		job = NULL;
	}
	last = --m->threads == 0 && m->wfd < 0;
	pthread_mutex_unlock(&m->mu);
	if (job) {
		free(job->groups);
		free(job);
	}
	if (last)
		meet_free(m);
}

static void meet_free(struct meet *m)
{
	struct nss_job *job;

	while ((job = STAILQ_FIRST(&m->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&m->done, done);
		free(job->groups);
		free(job);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

struct nss *nss_new(struct event_base *base, nss_answer_fn fn, void *arg)
{
	struct nss *r;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->meet = xcalloc(1, sizeof(*r->meet));
	pthread_mutex_init(&r->meet->mu, NULL);
	STAILQ_INIT(&r->meet->done);
	r->meet->wfd = p[1];
	r->rfd = p[0];
	TAILQ_INIT(&r->jobs);
	r->fn = fn;
	r->arg = arg;
	r->ev = event_new(base, r->rfd, EV_READ | EV_PERSIST, answers_cb, r);
	if (r->ev == NULL || event_add(r->ev, NULL) < 0) {
		nss_free(r);
		return NULL;
	}
	return r;
}

void nss_free(struct nss *r)
{
	struct meet *m;
	struct nss_job *job, *next;
	bool last;

	if (r == NULL)
		return;
	m = r->meet;
	/* While wfd is open no thread frees its job: the list can be walked. */
	for (job = TAILQ_FIRST(&r->jobs); job != NULL; job = next) {
		next = TAILQ_NEXT(job, out);
		if (!job->running)
			free(job);
	}
	pthread_mutex_lock(&m->mu);
	close(m->wfd);
	m->wfd = -1;
	last = m->threads == 0;
	pthread_mutex_unlock(&m->mu);
	if (last)
		meet_free(m);
	if (r->ev)
		event_free(r->ev);
	close(r->rfd);
	free(r);
}

static struct nss_job *find(struct nss *r, uid_t uid)
{
	struct nss_job *job;

	TAILQ_FOREACH(job, &r->jobs, out)
		if (job->uid == uid)
			return job;
	return NULL;
}

bool nss_ask(struct nss *r, uid_t uid)
{
	struct nss_job *job;

	if (find(r, uid))
		return false;
	job = xcalloc(1, sizeof(*job));
	job->uid = uid;
	job->meet = r->meet;
	TAILQ_INSERT_TAIL(&r->jobs, job, out);
	start_next(r);
	return true;
}

bool nss_first_late(struct nss *r, uid_t uid)
{
	struct nss_job *job = find(r, uid);

	if (job == NULL || job->late)
		return false;
	job->late = true;
	return true;
}

/* A thread that cannot be started answers "failed" through the pipe all the same, so that the
 * answer never comes inside nss_ask. */
static void start(struct nss *r, struct nss_job *job)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int e;

	job->running = true;
	r->running++;
	pthread_mutex_lock(&r->meet->mu);
	r->meet->threads++;
	pthread_mutex_unlock(&r->meet->mu);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread inherits the mask */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&t, &attr, worker, job);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		log_warn("nss: cannot start a look-up thread: %s", strerror(e));
		job->n = -1;
		finish(job);
	}
}

static void start_next(struct nss *r)
{
	struct nss_job *job;

	TAILQ_FOREACH(job, &r->jobs, out) {
		if (r->running >= NSS_THREADS)
			return;
		if (!job->running)
			start(r, job);
	}
}

static void answers_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nss *r = arg;
	struct job_queue done = STAILQ_HEAD_INITIALIZER(done);
	struct nss_job *job;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&r->meet->mu);
	STAILQ_CONCAT(&done, &r->meet->done);
	pthread_mutex_unlock(&r->meet->mu);
	while ((job = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, done);
		TAILQ_REMOVE(&r->jobs, job, out);
		r->running--;
		r->fn(r->arg, job->uid, job->n >= 0 ? job->groups : NULL, job->n);
		free(job->groups);
		free(job);
	}
	start_next(r);
}
