/* Topology and verdict rules (daemon/topology.c) from made-up observations. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "topology.h"
#include "util.h"

#define N 3

static struct server_status st[N];
static struct topo_input in[N];
static struct topology t;
static const struct topo_params params = { 1000 };

/* A healthy cluster: db1 writable primary, db2 and db3 replicating from it, caught up. */
static void setup(void)
{
	static const char *names[N] = { "db1", "db2", "db3" };
	int i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < N; i++) {
		server_status_init(&st[i]);
		st[i].reachable = true;
		st[i].flavor = FLAVOR_MARIADB;
		st[i].server_id = (unsigned long long)i + 1;
		st[i].read_only = i == 0 ? 0 : 1;
		st[i].gtid_current_pos = xstrdup("0-1-100");
		st[i].gtid_binlog_pos = xstrdup("0-1-100");
		st[i].heartbeat_lag_ms = i == 0 ? 0 : 3;
		if (i > 0) {
			st[i].repl.configured = true;
			strcpy(st[i].repl.source_host, "127.0.0.1");
			st[i].repl.source_port = 3306;
			st[i].repl.io = THREAD_YES;
			st[i].repl.sql = THREAD_YES;
			st[i].repl.seconds_behind = 0;
		}
		in[i].name = names[i];
		in[i].host = "127.0.0.1";
		in[i].port = 3306 + i;
		in[i].st = &st[i];
		in[i].health = HEALTH_UP;
	}
}

static void teardown(void)
{
	int i;
	topology_free(&t);
	for (i = 0; i < N; i++)
		server_status_clear(&st[i]);
}

/* Does any reason contain `needle`? */
static bool has_reason(const char *needle)
{
	size_t i;
	for (i = 0; i < t.n_reasons; i++)
		if (strstr(t.reasons[i], needle))
			return true;
	return false;
}

START_TEST(test_healthy_cluster_is_ok)
{
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.primary, 0);
	ck_assert_int_eq(t.raw, VERDICT_OK);
	ck_assert_int_eq(t.n_reasons, 0);
	ck_assert_int_eq(t.srv[0].role, ROLE_PRIMARY);
	ck_assert_int_eq(t.srv[1].role, ROLE_REPLICA);
	ck_assert_int_eq(t.srv[1].source, 0);
	ck_assert_str_eq(t.srv[2].errant, "");
}
END_TEST

START_TEST(test_stopped_replication_warns)
{
	st[2].repl.sql = THREAD_NO;
	st[2].repl.last_sql_errno = 1062;
	strcpy(st[2].repl.last_sql_error, "Duplicate entry");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_WARN);
	ck_assert(has_reason("db3: replication stopped (IO: Yes, SQL: No)"));
	ck_assert(has_reason("SQL error 1062: Duplicate entry"));
	ck_assert_int_eq(t.srv[1].n_problems, 0);
}
END_TEST

START_TEST(test_lag_over_threshold_warns)
{
	st[1].heartbeat_lag_ms = 1500;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_WARN);
	ck_assert(has_reason("db2: lag 1500 ms > 1000 ms"));
}
END_TEST

START_TEST(test_lag_falls_back_to_seconds_behind)
{
	st[1].heartbeat_lag_ms = -1;
	st[1].repl.seconds_behind = 5;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_WARN);
	ck_assert(has_reason("Seconds_Behind_Master 5 s"));
}
END_TEST

START_TEST(test_unreachable_server_warns)
{
	in[2].health = HEALTH_DOWN;
	st[2].reachable = false;
	strcpy(st[2].last_error, "timed out after 1000 ms while connecting");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_WARN);
	ck_assert(has_reason("db3: unreachable (timed out after 1000 ms while connecting)"));
	ck_assert_int_eq(t.srv[2].role, ROLE_UNKNOWN);
	ck_assert_int_eq(t.primary, 0);
}
END_TEST

START_TEST(test_two_writable_is_split_brain)
{
	st[2].read_only = 0;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert_int_eq(t.n_writable, 2);
	ck_assert(has_reason("split-brain: 2 writable servers (db1, db3)"));
	/* the primary is still the one the others replicate from */
	ck_assert_int_eq(t.primary, 0);
	ck_assert(has_reason("db3: writable, but it is not the primary"));
}
END_TEST

START_TEST(test_no_writable_is_crit)
{
	st[0].read_only = 1;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert_int_eq(t.primary, -1);
	ck_assert(has_reason("no writable primary"));
}
END_TEST

START_TEST(test_nothing_reachable_is_crit)
{
	int i;
	for (i = 0; i < N; i++) {
		in[i].health = HEALTH_DOWN;
		st[i].reachable = false;
	}
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert(has_reason("no server reachable"));
}
END_TEST

START_TEST(test_wrong_source_is_crit)
{
	/* db3 replicates from db2 instead of the primary db1 */
	st[2].repl.source_port = 3307;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert_int_eq(t.srv[2].source, 1);
	ck_assert(has_reason("db3: replicates from db2, not from the primary db1"));
}
END_TEST

START_TEST(test_external_source_is_crit)
{
	strcpy(st[1].repl.source_host, "10.9.9.9");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert(t.srv[1].source_external);
	ck_assert(has_reason("db2: replicates from 10.9.9.9:3306, which is not a configured server"));
}
END_TEST

START_TEST(test_errant_gtid_is_crit)
{
	/* db2 wrote a transaction of its own (server_id 2) that db1 never had */
	free(st[1].gtid_current_pos);
	st[1].gtid_current_pos = xstrdup("0-2-101");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert_str_eq(t.srv[1].errant, "0-2-101");
	ck_assert(has_reason("db2: errant transactions the primary db1 does not have: 0-2-101"));
}
END_TEST

START_TEST(test_replica_ahead_by_primary_writes_is_not_errant)
{
	/* polled a few ms apart: db3 already applied the primary's 0-1-105 */
	free(st[2].gtid_current_pos);
	st[2].gtid_current_pos = xstrdup("0-1-105");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_OK);
	ck_assert_str_eq(t.srv[2].errant, "");
}
END_TEST

START_TEST(test_extra_domain_on_replica_is_errant)
{
	free(st[2].gtid_current_pos);
	st[2].gtid_current_pos = xstrdup("0-1-100,7-3-4");
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert_str_eq(t.srv[2].errant, "7-3-4");
}
END_TEST

START_TEST(test_orphan_warns)
{
	st[2].repl.configured = false;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.srv[2].role, ROLE_ORPHAN);
	ck_assert_int_eq(t.raw, VERDICT_WARN);
	ck_assert(has_reason("db3: not replicating from anything"));
}
END_TEST

/* After an upgrade switchover to db3: db1 (the old primary) is fenced and replicates from
 * nothing, db2 (too old to follow db3) is stopped and still points at db1 — both held at the
 * fence point on purpose.  Neither is a fault: no problem, verdict OK, role rollback_point. */
START_TEST(test_held_servers_are_the_rollback_point)
{
	st[0].read_only = 1;
	st[2].read_only = 0;
	st[2].repl.configured = false;
	st[1].repl.io = THREAD_NO;
	st[1].repl.sql = THREAD_NO;
	in[0].held = in[1].held = true;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.primary, 2);
	ck_assert_int_eq(t.srv[0].role, ROLE_HELD);
	ck_assert_int_eq(t.srv[1].role, ROLE_HELD);
	ck_assert_int_eq(t.srv[1].source, 0);
	ck_assert_str_eq(role_name(ROLE_HELD), "rollback_point");
	ck_assert_int_eq(t.srv[0].n_problems, 0);
	ck_assert_int_eq(t.srv[1].n_problems, 0);
	ck_assert_msg(t.raw == VERDICT_OK, "verdict %s: %s", verdict_name(t.raw), t.n_reasons ? t.reasons[0] : "");
	topology_free(&t);

	/* without the hold the same observations are an orphan and a replica of the wrong source */
	in[0].held = in[1].held = false;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.srv[0].role, ROLE_ORPHAN);
	ck_assert_int_eq(t.srv[1].role, ROLE_REPLICA);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	topology_free(&t);

	/* a held server that is writable next to the primary is still a split-brain */
	in[0].held = true;
	st[0].read_only = 0;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert(has_reason("split-brain"));
}
END_TEST

START_TEST(test_unknown_health_is_unknown_verdict)
{
	in[1].health = HEALTH_UNKNOWN;
	topology_eval(in, N, &params, &t);
	ck_assert_int_eq(t.raw, VERDICT_UNKNOWN);
	ck_assert_int_eq(t.srv[1].role, ROLE_UNKNOWN);
}
END_TEST

START_TEST(test_add_reason_raises_verdict)
{
	topology_eval(in, N, &params, &t);
	topology_add_reason(&t, VERDICT_CRIT, xstrdup("router haproxy sends writes to db2, not to the primary db1"));
	ck_assert_int_eq(t.raw, VERDICT_CRIT);
	ck_assert(has_reason("router haproxy"));
}
END_TEST

START_TEST(test_loopback_endpoints)
{
	ck_assert(topo_same_endpoint("localhost", 3306, "127.0.0.1", 3306));
	ck_assert(topo_same_endpoint("::1", 3306, "localhost", 3306));
	ck_assert(topo_same_endpoint("127.0.0.2", 3306, "127.0.0.1", 3306));
	ck_assert(topo_same_endpoint("DB1.example", 3306, "db1.example", 3306));
	ck_assert(!topo_same_endpoint("127.0.0.1", 3306, "127.0.0.1", 3307));
	ck_assert(!topo_same_endpoint("10.0.0.1", 3306, "127.0.0.1", 3306));
	ck_assert(!topo_same_endpoint(NULL, 3306, "127.0.0.1", 3306));
}
END_TEST

START_TEST(test_health_hysteresis)
{
	struct health h = { 0 };
	/* UNKNOWN until n agreeing observations */
	ck_assert(!health_observe(&h, true, 2, 10));
	ck_assert_int_eq(h.state, HEALTH_UNKNOWN);
	ck_assert(health_observe(&h, true, 2, 20));
	ck_assert_int_eq(h.state, HEALTH_UP);
	ck_assert_int_eq(h.since_ms, 20);
	/* one lost poll is not a state change */
	ck_assert(!health_observe(&h, false, 2, 30));
	ck_assert(!health_observe(&h, true, 2, 40));
	ck_assert(!health_observe(&h, false, 2, 50));
	ck_assert_int_eq(h.state, HEALTH_UP);
	ck_assert(health_observe(&h, false, 2, 60));
	ck_assert_int_eq(h.state, HEALTH_DOWN);
	/* n = 1 follows every observation */
	ck_assert(health_observe(&h, true, 1, 70));
	ck_assert_int_eq(h.state, HEALTH_UP);
}
END_TEST

START_TEST(test_verdict_hysteresis)
{
	struct verdict_state v = { 0 };
	ck_assert_int_eq(v.shown, VERDICT_UNKNOWN);
	ck_assert(!verdict_observe(&v, VERDICT_OK, 3, 1));
	ck_assert(!verdict_observe(&v, VERDICT_OK, 3, 2));
	ck_assert(verdict_observe(&v, VERDICT_OK, 3, 3));
	ck_assert_int_eq(v.shown, VERDICT_OK);
	/* a flapping raw verdict never reaches n in a row */
	ck_assert(!verdict_observe(&v, VERDICT_WARN, 3, 4));
	ck_assert(!verdict_observe(&v, VERDICT_CRIT, 3, 5));
	ck_assert(!verdict_observe(&v, VERDICT_WARN, 3, 6));
	ck_assert(!verdict_observe(&v, VERDICT_OK, 3, 7));
	ck_assert_int_eq(v.shown, VERDICT_OK);
	ck_assert(!verdict_observe(&v, VERDICT_CRIT, 3, 8));
	ck_assert(!verdict_observe(&v, VERDICT_CRIT, 3, 9));
	ck_assert(verdict_observe(&v, VERDICT_CRIT, 3, 10));
	ck_assert_int_eq(v.shown, VERDICT_CRIT);
	ck_assert_str_eq(verdict_name(v.shown), "CRIT");
}
END_TEST

/* Right after an abort the verdict shown was CRIT while the raw one was OK again: the CRIT
 * keeps the reason it was raised with until it changes. */
START_TEST(test_verdict_keeps_its_reasons)
{
	char *crit[] = { "no writable primary" }, *warn[] = { "db3: unreachable (111)", "db2: lag 1500 ms" };
	struct verdict_state v = { 0 };

	ck_assert(verdict_observe(&v, VERDICT_CRIT, 1, 1));
	verdict_hold_reasons(&v, VERDICT_CRIT, crit, 1);
	ck_assert_uint_eq(v.n_reasons, 1);
	/* OK again, but not yet 3 polls in a row: CRIT is still shown, with its reason */
	ck_assert(!verdict_observe(&v, VERDICT_OK, 3, 2));
	verdict_hold_reasons(&v, VERDICT_OK, NULL, 0);
	ck_assert_int_eq(v.shown, VERDICT_CRIT);
	ck_assert_uint_eq(v.n_reasons, 1);
	ck_assert_str_eq(v.reasons[0], "no writable primary");
	/* while the shown verdict is seen, its reasons follow the present ones */
	ck_assert(!verdict_observe(&v, VERDICT_CRIT, 3, 3));
	verdict_hold_reasons(&v, VERDICT_CRIT, warn, 2);
	ck_assert_uint_eq(v.n_reasons, 2);
	ck_assert_str_eq(v.reasons[1], "db2: lag 1500 ms");
	/* once it changes, the new verdict's reasons */
	ck_assert(verdict_observe(&v, VERDICT_OK, 1, 4));
	verdict_hold_reasons(&v, VERDICT_OK, NULL, 0);
	ck_assert_uint_eq(v.n_reasons, 0);
	verdict_state_free(&v);
	ck_assert_ptr_null(v.reasons);
}
END_TEST

Suite *topology_suite(void);

Suite *topology_suite(void)
{
	Suite *s = suite_create("topology");
	TCase *tc = tcase_create("topology_eval");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_healthy_cluster_is_ok);
	tcase_add_test(tc, test_stopped_replication_warns);
	tcase_add_test(tc, test_lag_over_threshold_warns);
	tcase_add_test(tc, test_lag_falls_back_to_seconds_behind);
	tcase_add_test(tc, test_unreachable_server_warns);
	tcase_add_test(tc, test_two_writable_is_split_brain);
	tcase_add_test(tc, test_no_writable_is_crit);
	tcase_add_test(tc, test_nothing_reachable_is_crit);
	tcase_add_test(tc, test_wrong_source_is_crit);
	tcase_add_test(tc, test_external_source_is_crit);
	tcase_add_test(tc, test_errant_gtid_is_crit);
	tcase_add_test(tc, test_replica_ahead_by_primary_writes_is_not_errant);
	tcase_add_test(tc, test_extra_domain_on_replica_is_errant);
	tcase_add_test(tc, test_orphan_warns);
	tcase_add_test(tc, test_held_servers_are_the_rollback_point);
	tcase_add_test(tc, test_unknown_health_is_unknown_verdict);
	tcase_add_test(tc, test_add_reason_raises_verdict);
	suite_add_tcase(s, tc);

	tc = tcase_create("endpoints");
	tcase_add_test(tc, test_loopback_endpoints);
	suite_add_tcase(s, tc);

	tc = tcase_create("hysteresis");
	tcase_add_test(tc, test_health_hysteresis);
	tcase_add_test(tc, test_verdict_hysteresis);
	tcase_add_test(tc, test_verdict_keeps_its_reasons);
	suite_add_tcase(s, tc);
	return s;
}
