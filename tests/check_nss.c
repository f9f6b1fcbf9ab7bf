/* Unit tests for daemon/nss.c, the NSS look-ups off the event loop: a real event_base and real
 * threads, with the look-up replaced by a gate (nss_gate.h) that the test opens.  Nothing here
 * bounds a duration: every wait is for an event, with DEADLINE_MS only as the bound of a failure. */
#include <check.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nss.h"
#include "nss_gate.h"
#include "util.h"

Suite *nss_suite(void);

#define DEADLINE_MS 5000   /* a bound for failures only, never an expected duration */
#define GROUP 4244

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
	gid_t group;
	int calls, returned;
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0 };

/* What the resolver handed back, in order. */
static struct {
	int n;
	uid_t uid[16];
	int count[16];
	gid_t first[16];
} got;

static struct event_base *base;
static struct nss *r;
static int (*real_lookup)(uid_t uid, gid_t **groups);

static int gate_count(const int *v);
static void on_answer(void *arg, uid_t uid, const gid_t *groups, int n);
static bool loop_until(bool (*cond)(void));
static void setup(void);
static void teardown(void);

void gate_reset(gid_t group)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = false;
	gate.group = group;
	gate.calls = gate.returned = 0;
	pthread_mutex_unlock(&gate.mu);
}

void gate_open(void)
{
	pthread_mutex_lock(&gate.mu);
	gate.open = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
}

static int gate_count(const int *v)
{
	int n;

	pthread_mutex_lock(&gate.mu);
	n = *v;
	pthread_mutex_unlock(&gate.mu);
	return n;
}

int gate_calls(void)
{
	return gate_count(&gate.calls);
}

int gate_returned(void)
{
	return gate_count(&gate.returned);
}

int gate_lookup(uid_t uid, gid_t **groups)
{
	gid_t g;

	pthread_mutex_lock(&gate.mu);
	gate.calls++;
	while (!gate.open)
		pthread_cond_wait(&gate.cv, &gate.mu);
	gate.returned++;
	g = gate.group;
	pthread_mutex_unlock(&gate.mu);
	*groups = NULL;
	if (g == (gid_t)-1)
		return -1;
	*groups = xcalloc(1, sizeof(gid_t));
	(*groups)[0] = g;
	return 1;
}

static void on_answer(void *arg, uid_t uid, const gid_t *groups, int n)
{
	ck_assert_int_lt(got.n, (int)ARRAY_LEN(got.uid));
	got.uid[got.n] = uid;
	got.count[got.n] = n;
	got.first[got.n] = n > 0 ? groups[0] : (gid_t)-1;
	got.n++;
}

/* Turns of the loop until cond holds; false past DEADLINE_MS. */
static bool loop_until(bool (*cond)(void))
{
	int64_t deadline = now_mono_ms() + DEADLINE_MS;

	while (!cond()) {
		if (now_mono_ms() > deadline)
			return false;
		event_base_loop(base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 2);
	}
	return true;
}

static int want;
static bool calls_reached(void)
{
	return gate_calls() >= want;
}

static bool answers_reached(void)
{
	return got.n >= want;
}

static bool returned_reached(void)
{
	return gate_returned() >= want;
}

static void setup(void)
{
	log_init(LOG_TO_STDERR, LOG_ERR);
	gate_reset(GROUP);
	real_lookup = nss_lookup;
	nss_lookup = gate_lookup;
	memset(&got, 0, sizeof(got));
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	r = nss_new(base, on_answer, NULL);
	ck_assert_ptr_nonnull(r);
}

static void teardown(void)
{
	gate_open();   /* no thread stays at the gate (CK_FORK=no) */
	nss_free(r);
	r = NULL;
	event_base_free(base);
	nss_lookup = real_lookup;
}

/* A uid already being looked up is not looked up again: one thread, one answer. */
START_TEST(test_one_lookup_per_uid)
{
	ck_assert(nss_ask(r, 4000));
	ck_assert(!nss_ask(r, 4000));
	ck_assert(nss_ask(r, 4001));
	want = 2;
	ck_assert(loop_until(calls_reached));
	ck_assert(!nss_ask(r, 4000));
	ck_assert_int_eq(got.n, 0);            /* the gate is closed: nothing can have come */
	gate_open();
	ck_assert(loop_until(answers_reached));
	ck_assert_int_eq(gate_calls(), 2);
	ck_assert_uint_eq(got.uid[0] + got.uid[1], 8001);
	ck_assert_int_eq(got.count[0], 1);
	ck_assert_uint_eq(got.first[0], GROUP);
	ck_assert_int_eq(got.count[1], 1);
	/* Answered: a new ask looks up again. */
	ck_assert(nss_ask(r, 4000));
	want = 3;
	ck_assert(loop_until(answers_reached));
	ck_assert_int_eq(gate_calls(), 3);
}
END_TEST

/* NSS_THREADS look-ups at most are out at once; the others start as answers come. */
START_TEST(test_thread_cap)
{
	uid_t u;
	int i;

	for (u = 0; u < NSS_THREADS + 2; u++)
		ck_assert(nss_ask(r, 5000 + u));
	want = NSS_THREADS;
	ck_assert(loop_until(calls_reached));
	for (i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		poll(NULL, 0, 2);
	}
	ck_assert_int_eq(gate_calls(), NSS_THREADS);
	gate_open();
	want = NSS_THREADS + 2;
	ck_assert(loop_until(answers_reached));
	ck_assert_int_eq(gate_calls(), NSS_THREADS + 2);
}
END_TEST

/* A failed look-up answers n < 0, without groups. */
START_TEST(test_failure_answered)
{
	gate_reset((gid_t)-1);
	gate_open();
	ck_assert(nss_ask(r, 4000));
	want = 1;
	ck_assert(loop_until(answers_reached));
	ck_assert_int_eq(got.count[0], -1);
	ck_assert_uint_eq(got.uid[0], 4000);
}
END_TEST

/* nss_free does not wait for a look-up that is out; its late answer is dropped (ASan: no use
 * of the freed resolver). */
START_TEST(test_free_with_lookup_out)
{
	ck_assert(nss_ask(r, 4000));
	want = 1;
	ck_assert(loop_until(calls_reached));
	nss_free(r);
	r = NULL;
	ck_assert_int_eq(gate_returned(), 0);
	gate_open();
	ck_assert(loop_until(returned_reached));
	ck_assert_int_eq(got.n, 0);
}
END_TEST

Suite *nss_suite(void)
{
	Suite *s = suite_create("nss");
	TCase *tc = tcase_create("resolver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_one_lookup_per_uid);
	tcase_add_test(tc, test_thread_cap);
	tcase_add_test(tc, test_failure_answered);
	tcase_add_test(tc, test_free_with_lookup_out);
	suite_add_tcase(s, tc);
	return s;
}
