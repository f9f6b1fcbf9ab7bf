/* The API's replies as a client reads them: a daemon set up from a two-cluster configuration
 * (no database is reached: the test sets what the pollers would have seen), its control
 * socket answered by api_dispatch, and a client that sends one request line and reads the
 * reply while the test turns the event loop. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "afterwatch.h"
#include "api.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "fence.h"
#include "ha.h"
#include "ha_impl.h"
#include "held.h"
#include "job.h"
#include "journal.h"
#include "log.h"
#include "util.h"
#include "watchdog.h"

Suite *api_suite(void);

#define DEADLINE_MS 5000        /* a bound for failures only */

static struct daemon d;
static char dir[64];
static char sock_path[128];

static void setup(void)
{
	struct control_opts o = { .mode = 0600, .gid = (gid_t)-1, .max_clients = 8, .inherited_fd = -1 };
	struct cfg_errors errs;
	struct config *cfg;
	char *text, err[256] = "";

	log_init(LOG_TO_STDERR, LOG_CRIT);
	signal(SIGPIPE, SIG_IGN);
	strlcpy_(dir, "/tmp/check_api.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	text = xasprintf("[cutoverd]\nsocket = %s\nstate_dir = %s\n"
			 "[cluster sandbox]\nrepl_user = repl\nrepl_password = r\nhysteresis = 3\n"
			 "[cluster prod]\nrepl_user = repl\nrepl_password = r\n"
			 "[server db1]\ncluster = sandbox\nhost = 127.0.0.1\nport = 41101\nuser = u\npassword = p\n"
			 "[server db2]\ncluster = sandbox\nhost = 127.0.0.1\nport = 41102\nuser = u\npassword = p\n"
			 "[server p1]\ncluster = prod\nhost = 127.0.0.1\nport = 41103\nuser = u\npassword = p\n",
			 sock_path, dir);
	memset(&errs, 0, sizeof(errs));
	cfg = config_load_string(text, "api.conf", &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n ? errs.v[0].message : "?");
	free(text);
	cfg_errors_free(&errs);
	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	ck_assert_int_eq(daemon_setup(&d, cfg, err, sizeof(err)), 0);
	o.path = sock_path;
	d.ctl = control_new(d.base, &o, api_dispatch, &d, err, sizeof(err));
	ck_assert_msg(d.ctl != NULL, "control_new: %s", err);
}

static void teardown(void)
{
	control_free(d.ctl);
	daemon_teardown(&d);
	event_base_free(d.base);
	unlink(sock_path);
	rmdir(dir);
}

/* Send one request line, turn the loop until the reply's line is in, and parse it. */
static json_t *call(const char *line)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int64_t deadline = now_mono_ms() + DEADLINE_MS;
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	json_error_t jerr;
	json_t *r;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	strlcpy_(sun.sun_path, sock_path, sizeof(sun.sun_path));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	while (!memchr(buf, '\n', len)) {
		ck_assert_msg(now_mono_ms() < deadline, "no reply to %s", line);
		event_base_loop(d.base, EVLOOP_NONBLOCK);
		n = recv(fd, buf + len, sizeof(buf) - len - 1, 0);
		if (n < 0 && errno == EAGAIN) {
			poll(NULL, 0, 2);
			continue;
		}
		ck_assert_msg(n > 0, "connection closed or failed before the reply to %s", line);
		len += (size_t)n;
	}
	close(fd);
	r = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', len) - buf), 0, &jerr);
	ck_assert_msg(r != NULL, "reply is not JSON: %s", jerr.text);
	return r;
}

static const char *err_code(const json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

static const char *err_message(const json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "message"));
}

/* ---- an unknown cluster ------------------------------------------------------------------ */

START_TEST(test_unknown_cluster_lists_clusters)
{
	static const char *const cmds[] = { "status", "topology", "events", "switchover", "history",
					    "abort", "failover" };
	char line[256];
	json_t *r;
	size_t i;

	/* every command that takes a cluster answers the same way: NOTFOUND, with the list */
	for (i = 0; i < ARRAY_LEN(cmds); i++) {
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"args\":{\"cluster\":\"nope\"}}\n", cmds[i]);
		r = call(line);
		ck_assert_msg(json_is_false(json_object_get(r, "ok")), "%s: ok", cmds[i]);
		ck_assert_str_eq(err_code(r), "NOTFOUND");
		ck_assert_str_eq(err_message(r), "no cluster named 'nope' (clusters: sandbox, prod)");
		json_decref(r);
	}
	/* a typo gets the nearest name */
	r = call("{\"id\":2,\"cmd\":\"switchover\",\"args\":{\"cluster\":\"sandbx\",\"dry_run\":true}}\n");
	ck_assert_str_eq(err_code(r), "NOTFOUND");
	ck_assert_str_eq(err_message(r), "no cluster named 'sandbx' (did you mean sandbox? clusters: sandbox, prod)");
	json_decref(r);
}
END_TEST

/* ---- the verdict and its reasons ------------------------------------------------------- */

START_TEST(test_status_held_verdict_has_its_reasons)
{
	struct cluster *c = daemon_cluster(&d, "sandbox");
	char *crit[] = { "no writable primary" };
	json_t *r, *cl;

	/* raised CRIT, then OK again for one poll of the three hysteresis wants */
	verdict_observe(&c->vstate, VERDICT_CRIT, 1, 1);
	verdict_hold_reasons(&c->vstate, VERDICT_CRIT, crit, 1);
	verdict_observe(&c->vstate, VERDICT_OK, 3, 2);
	c->topo.raw = VERDICT_OK;
	verdict_hold_reasons(&c->vstate, c->topo.raw, c->topo.reasons, c->topo.n_reasons);
	r = call("{\"id\":1,\"cmd\":\"status\",\"args\":{\"cluster\":\"sandbox\"}}\n");
	cl = json_array_get(json_object_get(json_object_get(r, "result"), "clusters"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(cl, "verdict")), "CRIT");
	ck_assert_str_eq(json_string_value(json_object_get(cl, "verdict_now")), "OK");
	ck_assert_uint_eq(json_array_size(json_object_get(cl, "reasons")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cl, "reasons"), 0)), "no writable primary");
	ck_assert(json_is_array(json_object_get(cl, "reasons_now")));
	ck_assert_uint_eq(json_array_size(json_object_get(cl, "reasons_now")), 0);
	json_decref(r);
}
END_TEST


/* ---- servers held at a fence point, as etcd keeps them ([ha]) ---------------------------- */

/* The leader's list goes to etcd in the watchdog's state (held_state); a new leader adopts it:
 * what the list has is held (with its fence point and since), what it lacks is released, both
 * journaled and shown by status. */
START_TEST(test_held_state_adopted)
{
	struct cluster *c = daemon_cluster(&d, "sandbox");
	json_t *st, *list, *r, *cl, *entries;
	const struct held *h;
	int64_t since;
	size_t i, n_on = 0, n_off = 0;

	held_add(&d, c, "db1", "0-1-42", "the old primary, kept by upgrade switchover X");
	since = held_find(c, "db1")->since_us;
	st = watchdog_state(c);
	list = json_object_get(st, "held");
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "server")), "db1");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "fence_point")), "0-1-42");
	/* this member forgets it (another leader's term), then adopts etcd's list */
	held_release(&d, c, "db1", "test");
	ck_assert_ptr_null(held_find(c, "db1"));
	held_add(&d, c, "db2", NULL, "not in etcd's list");
	held_adopt(&d, c, list);
	h = held_find(c, "db1");
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->fence_point, "0-1-42");
	ck_assert_int_eq(h->since_us, since);
	ck_assert_ptr_null(held_find(c, "db2"));
	r = call("{\"id\":1,\"cmd\":\"status\",\"args\":{\"cluster\":\"sandbox\"}}\n");
	cl = json_array_get(json_object_get(json_object_get(r, "result"), "clusters"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(cl, "rollback_point")), 1);
	json_decref(r);
	/* an empty list releases it */
	json_array_clear(list);
	held_adopt(&d, c, list);
	ck_assert_ptr_null(held_find(c, "db1"));
	json_decref(st);
	/* every change is in the journal, for a restart */
	entries = journal_read(d.cfg->state_dir, "sandbox");
	for (i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);
		if (strcmp(json_string_value(json_object_get(e, "event")) ?: "", "held"))
			continue;
		if (json_is_true(json_object_get(e, "on")))
			n_on++;
		else
			n_off++;
	}
	json_decref(entries);
	ck_assert_uint_eq(n_on, 3);    /* db1, db2, db1 adopted */
	ck_assert_uint_eq(n_off, 3);   /* db1 by hand, db2 and db1 by adoption */
}
END_TEST


/* The watch after a switchover, as etcd keeps it: adopted for the time left; null stops the one
 * this member had. */
START_TEST(test_watch_state_adopted)
{
	struct cluster *c = daemon_cluster(&d, "sandbox");
	int64_t now = now_real_us();
	json_t *st = json_pack("{s:s, s:b, s:s, s:s, s:b, s:I, s:I, s:b}", "switchover", "sw-1", "on", 1, "old_primary", "db1",
			       "new_primary", "db2", "upgrade", 0, "since_us", (json_int_t)(now - 10000000),
			       "until_us", (json_int_t)(now + 50000000), "acted", 1);
	json_t *back, *nul = json_null();

	ck_assert_ptr_null(c->watch);
	afterwatch_adopt(&d, c, st);
	ck_assert_ptr_nonnull(c->watch);
	ck_assert(afterwatch_remaining_s(c->watch) > 45 && afterwatch_remaining_s(c->watch) <= 50);
	back = afterwatch_state(c);
	ck_assert_str_eq(json_string_value(json_object_get(back, "switchover")), "sw-1");
	ck_assert(json_is_true(json_object_get(back, "acted")));   /* one reverse per watch, whoever leads */
	ck_assert_int_eq(json_integer_value(json_object_get(back, "until_us")), now + 50000000);
	json_decref(back);
	afterwatch_adopt(&d, c, nul);
	ck_assert_ptr_null(c->watch);
	back = afterwatch_state(c);
	ck_assert(json_is_null(back));
	json_decref(back);
	json_decref(st);
}
END_TEST

/* ---- fence ------------------------------------------------------------------------------ */

/* What the pollers would have seen: db1 writable, db2 a read-only replica. */
static void polled(void)
{
	struct server *s1 = daemon_server(&d, "db1"), *s2 = daemon_server(&d, "db2");

	s1->st.reachable = s2->st.reachable = true;
	s1->st.read_only = 0;
	s2->st.read_only = 1;
}

START_TEST(test_fence_only_writer_names_the_flag)
{
	json_t *r;

	polled();
	r = call("{\"id\":1,\"cmd\":\"fence\",\"args\":{\"server\":\"db1\"}}\n");
	ck_assert_str_eq(err_code(r), "BADSTATE");
	/* the person reads this in cutoverctl: the flag is --force, not the API's "force" */
	ck_assert_str_eq(err_message(r), "db1 is the only writable server of sandbox: fencing it stops every write. "
			 "To do it anyway: cutoverctl fence --force db1 (API: \"force\": true)");
	json_decref(r);
}
END_TEST

/* ---- a member that does not act changes nothing ------------------------------------------- */

static bool fence_done, fence_ok;
static char fence_msg[400];

static void fenced(void *arg, bool ok, const char *by, const char *msg)
{
	(void)arg;
	(void)by;
	fence_done = true;
	fence_ok = ok;
	snprintf(fence_msg, sizeof(fence_msg), "%s", msg ? msg : "");
}

/* A STONITH program that sleeps long, mode 0755 in the test's own directory. */
static int write_slow_hook(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("#!/bin/sh\nsleep 30\n", f);
	if (fclose(f) != 0)
		return -1;
	return chmod(path, 0755);
}

static bool never_acting(void *arg)
{
	(void)arg;
	return false;
}

static void never_called(struct db *db, struct db_result *res, void *arg)
{
	(void)db;
	(void)res;
	(void)arg;
	ck_abort_msg("a refused batch answered");
}

/* With [ha], a follower's fence module fences nothing (no SQL, no hook) and says why, and a
 * connection marked db_set_acts sends nothing while the acting check says no. */
START_TEST(test_not_acting_changes_nothing)
{
	struct ha follower;
	struct server *s = daemon_server(&d, "db1");
	int64_t deadline = now_mono_ms() + DEADLINE_MS;
	struct db *db;
	const char *q = "SET GLOBAL read_only = 1";

	memset(&follower, 0, sizeof(follower));
	follower.role = HA_FOLLOWER;
	d.ha = &follower;
	fence_start(&d, s->cluster, s, FENCE_BY_SQL | FENCE_BY_HOOK | FENCE_BY_STONITH, "test", fenced, NULL);
	while (!fence_done && now_mono_ms() < deadline)
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	d.ha = NULL;
	ck_assert(fence_done);
	ck_assert(!fence_ok);
	ck_assert_msg(strstr(fence_msg, "this member is not the acting leader"), "%s", fence_msg);

	db = db_new(d.base, "acts");
	db_set_acts(db);
	db_set_acting_check(never_acting, NULL);
	ck_assert_int_eq(db_run(db, &q, 1, 1000, never_called, NULL), -1);
	ck_assert(!db_busy(db));
	db_set_acting_check(NULL, NULL);
	db_free(db);
}
END_TEST

/* With [ha], a member that stops leading kills the STONITH program it is running: the fence
 * module hears it as a failure that says why (fence.c marks its hooks job_set_acts). */
START_TEST(test_stop_acting_kills_stonith)
{
	struct cluster *c = daemon_cluster(&d, "sandbox");
	struct server *s = daemon_server(&d, "db1");
	struct cfg_cluster *cc = (struct cfg_cluster *)c->cfg;
	int64_t deadline = now_mono_ms() + DEADLINE_MS;
	char hook[160];
	char *saved = cc->stonith_hook;

	snprintf(hook, sizeof(hook), "%s/slow-stonith", dir);
	ck_assert_int_eq(write_slow_hook(hook), 0);
	cc->stonith_hook = hook;
	fence_done = false;
	fence_start(&d, c, s, FENCE_BY_STONITH, "test", fenced, NULL);
	while (job_count() == 0 && now_mono_ms() < deadline)
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(job_stop_acting("this member stopped leading (test)"), 1);
	while (!fence_done && now_mono_ms() < deadline)
		event_base_loop(d.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	cc->stonith_hook = saved;
	unlink(hook);
	ck_assert(fence_done);
	ck_assert(!fence_ok);
	ck_assert_msg(strstr(fence_msg, "killed: this member stopped leading (test)"), "%s", fence_msg);
}
END_TEST

START_TEST(test_fence_result_already_read_only)
{
	char *s;

	s = fence_action_result("fence", true, "read_only is now 1");
	ck_assert_str_eq(s, "already read-only at the last poll; made sure and recorded: read_only is now 1");
	free(s);
	s = fence_action_result("fence", false, "read_only is now 1");
	ck_assert_str_eq(s, "read_only is now 1");
	free(s);
	/* unfence and STONITH say what they did, whatever read_only was */
	s = fence_action_result("stonith", true, "exit status 0");
	ck_assert_str_eq(s, "exit status 0");
	free(s);
}
END_TEST

Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc;

	tc = tcase_create("unknown_cluster");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unknown_cluster_lists_clusters);
	suite_add_tcase(s, tc);

	tc = tcase_create("verdict");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status_held_verdict_has_its_reasons);
	tcase_add_test(tc, test_held_state_adopted);
	tcase_add_test(tc, test_watch_state_adopted);
	suite_add_tcase(s, tc);

	tc = tcase_create("fence");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fence_only_writer_names_the_flag);
	tcase_add_test(tc, test_fence_result_already_read_only);
	tcase_add_test(tc, test_not_acting_changes_nothing);
	tcase_add_test(tc, test_stop_acting_kills_stonith);
	suite_add_tcase(s, tc);
	return s;
}
