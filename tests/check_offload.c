/* Work off the event loop (offload.h): each job's work runs in a thread, its done callback on
 * the loop, at most OFFLOAD_THREADS at once, the others after them in order; the loop goes on
 * while a job's work is held. */
#include <check.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "offload.h"

Suite *offload_suite(void);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool released;
static int in_work, most_in_work;
static pthread_t loop_thread;
static struct event_base *base;
static int done_order[8], n_done, start_order[8], n_started;
static bool done_on_loop = true, ticked;

static void *work(void *arg)
{
	pthread_mutex_lock(&mu);
	start_order[n_started++] = (int)(intptr_t)arg;
	if (++in_work > most_in_work)
		most_in_work = in_work;
	while (!released)
		pthread_cond_wait(&cv, &mu);
	in_work--;
	pthread_mutex_unlock(&mu);
	return (void *)((intptr_t)arg * 10);
}

static void done(void *result, void *arg)
{
	if (!pthread_equal(pthread_self(), loop_thread))
		done_on_loop = false;
	ck_assert_int_eq((int)(intptr_t)result, (int)(intptr_t)arg * 10);
	done_order[n_done++] = (int)(intptr_t)arg;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	ticked = true;
}

static void release_all(void)
{
	pthread_mutex_lock(&mu);
	released = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

START_TEST(test_off_the_loop_in_order)
{
	struct timeval ten_ms = { 0, 10000 };
	int i, rounds;

	base = event_base_new();
	loop_thread = pthread_self();
	for (i = 1; i <= 5; i++)
		ck_assert_int_eq(offload_run(base, work, done, (void *)(intptr_t)i), 0);
	ck_assert_uint_eq(offload_pending(), 5);
	/* the loop runs a timer while every job's work is held */
	event_base_once(base, -1, EV_TIMEOUT, tick, NULL, &ten_ms);
	event_base_loop(base, EVLOOP_ONCE);
	ck_assert(ticked);
	ck_assert_int_eq(n_done, 0);
	pthread_mutex_lock(&mu);
	ck_assert_int_le(in_work, OFFLOAD_THREADS);
	pthread_mutex_unlock(&mu);
	release_all();
	for (rounds = 0; n_done < 5 && rounds < 1000; rounds++)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(n_done, 5);
	ck_assert(done_on_loop);
	ck_assert_int_le(most_in_work, OFFLOAD_THREADS);
	ck_assert_int_eq(offload_pending(), 0);
	/* the two that ran first were the first two queued, and one of them finished first; the
	 * three that waited started after them (a thread that is done with job 1 may finish job 3
	 * before the other finishes job 2, and two threads may enter their work in either order) */
	ck_assert_int_eq(n_started, 5);
	ck_assert(done_order[0] == 1 || done_order[0] == 2);
	ck_assert((start_order[0] == 1 && start_order[1] == 2) || (start_order[0] == 2 && start_order[1] == 1));
	for (i = 2; i < 5; i++)
		ck_assert_int_gt(start_order[i], 2);
	offload_shutdown();
	ck_assert_int_eq(offload_run(base, work, done, (void *)1), -1);   /* nothing after the shutdown */
	event_base_free(base);
}
END_TEST

Suite *offload_suite(void)
{
	Suite *s = suite_create("offload");
	TCase *tc = tcase_create("jobs");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_off_the_loop_in_order);
	suite_add_tcase(s, tc);
	return s;
}
