/* Several cutoverd members, one leader elected through a real etcd (issue 16, its first part):
 * a 3-member etcd on loopback and three cutoverd members watching the sandbox, each with its
 * own socket and state directory and an [ha] section (lease_ttl 2 s).
 *   - exactly one member leads; the others follow it, and answer a mutating command with
 *     NOT_LEADER naming the leader and its control socket;
 *   - the leader killed (-9): another leads within 2 x TTL, and can act (a dry run);
 *   - etcd without quorum (two of three members killed): within the TTL no member acts, the
 *     watchdog alarms (ha_no_leader), mutating commands are refused everywhere, and nothing on
 *     the databases changes.
 * Without an etcd binary the suite says SKIPPED (loudly), or fails when CUTOVER_REQUIRE_ETCD=1.
 * etcd and the members are started and stopped by it_members.c, which the ProxySQL suites use too. */
#include "it_members.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

Suite *it_ha_suite(void);

/* One leader, two followers that name it; a follower refuses a switchover with NOT_LEADER. */
static void one_leader(void)
{
	int leader = ha_begin(), m, count;
	json_t *r;

	it_note("m%d leads", leader);
	for (m = 1; m <= MEMBERS; m++) {
		json_t *h = member_ha(m);
		char want[8];
		snprintf(want, sizeof(want), "m%d", leader);
		ck_assert_msg(h && !strcmp(it_get_str(h, "leader") ?: "", want), "m%d: %s", m, it_json_str(h));
		if (m != leader) {
			ck_assert_str_eq(it_get_str(h, "role") ?: "", "follower");
			ck_assert(json_is_false(json_object_get(h, "acting")));
			r = call_member(m, "switchover", json_pack("{s:s, s:s, s:b}", "cluster", IT_CLUSTER, "to", "db2",
								  "dry_run", 1));
			ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "NOT_LEADER") &&
					      !strcmp(it_get_str(r, "error.leader.name") ?: "", want) &&
					      !strcmp(it_get_str(r, "error.leader.address") ?: "", member_sock[leader]),
				      "a follower's answer: %s", it_json_str(r));
			it_note("m%d: %s", m, it_get_str(r, "error.message"));
			json_decref(r);
		} else {
			ck_assert(json_is_integer(json_object_get(h, "token")) &&
				  json_integer_value(json_object_get(h, "token")) > 0);
		}
		json_decref(h);
	}
	/* cutoverctl: refused by a follower; with --follow-leader, sent again to the leader's socket */
	{
		int f = leader == 1 ? 2 : 1, rc;
		char prog[600], sockarg[320], *out = NULL;
		const char *plain[] = { prog, sockarg, "--json", "switchover", "--to", "db2", "--dry-run", NULL };
		const char *follow[] = { prog, sockarg, "--follow-leader", "--json", "switchover", "--to", "db2", "--dry-run",
					 NULL };
		snprintf(prog, sizeof(prog), "%s/cutoverctl", it.build);
		snprintf(sockarg, sizeof(sockarg), "--socket=%s", member_sock[f]);
		rc = it_run(plain, true, &out, 30000);
		ck_assert_msg(rc == 1 && out && strstr(out, "NOT_LEADER"), "cutoverctl to a follower (exit %d): %s", rc,
			      out ? out : "");
		free(out);
		out = NULL;
		rc = it_run(follow, true, &out, 30000);
		ck_assert_msg(rc == 0 && out && strstr(out, "is not the leader; sending 'switchover' to the leader") &&
				      strstr(out, member_sock[leader]),
			      "cutoverctl --follow-leader to a follower (exit %d): %s", rc, out ? out : "");
		it_note("cutoverctl --follow-leader via m%d: %.*s", f, (int)strcspn(out, "\n"), out);
		free(out);
	}
	/* a reload that changes [ha] is refused (the election runs with what it started with) */
	{
		char *text = NULL, *at;
		FILE *f = fopen(member_conf[leader], "r");
		size_t len = 0;
		ck_assert_ptr_nonnull(f);
		ck_assert(getdelim(&text, &len, '\0', f) > 0);
		fclose(f);
		at = strstr(text, "lease_ttl = ");
		ck_assert_ptr_nonnull(at);
		memcpy(at, "lease_ttl = 9", 13);   /* 2000ms -> 9000ms */
		ck_assert_int_eq(it_write_file(member_conf[leader], text, 0600), 0);
		free(text);
		r = call_member(leader, "reload", json_object());
		ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) &&
				      strstr(it_get_str(r, "error.message") ?: "", "restart this member to change [ha]"),
			      "a reload changing lease_ttl: %s", it_json_str(r));
		json_decref(r);
	}
	/* /metrics says which member acts */
	for (m = 1; m <= MEMBERS; m++) {
		char series[120], *body;
		int code = 0;
		snprintf(series, sizeof(series), "cutoverd_ha_acting{member=\"m%d\",role=\"%s\"} %d\n", m,
			 m == leader ? "leader" : "follower", m == leader);
		body = it_http_get(member_metrics_port(m), "/metrics", &code);
		ck_assert_msg(code == 200 && strstr(body, series), "m%d's /metrics (HTTP %d) lacks %s", m, code, series);
		free(body);
	}
	/* the leader acts: a dry run passes its preflight (once it has seen its own heartbeat on db2:
	 * only the leader writes them) */
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown on m%d", leader);
	r = call_member(leader, "switchover", json_pack("{s:s, s:s, s:b}", "cluster", IT_CLUSTER, "to", "db2", "dry_run", 1));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "the leader's dry run: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(the_leader(&count), leader);
	ha_end();
}

/* Members on "other machines": each one's address is ssh://root@127.0.0.1:PORT/ its socket,
 * reached through the tests' own sshd.  cutoverctl --follow-leader, sent to a follower, runs a
 * switchover on the leader through ssh and `cutoverctl relay` there, its progress streamed back;
 * status reaches a member at such an address directly; an address no ssh reaches gets exit 3
 * and a message that points at ssh's. */
static void follow_leader_ssh(void)
{
	char ssh_cmd[500], rctl[600], prog[600], sockarg[400], remote[400], *out = NULL;
	int port = it.base_port + 730, leader, f, rc;
	pid_t sshd;

	ck_assert_msg(it_sshd_available(), "/usr/sbin/sshd or ssh is missing: tests/deps.sh installs openssh-server");
	sshd = it_sshd_start(port, ssh_cmd, sizeof(ssh_cmd));
	{
		char cmd[64];
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
		snprintf(cmd, sizeof(cmd), "kill %d 2>/dev/null; true", (int)sshd);
		it_cleanup_add(argv);
	}
	snprintf(rctl, sizeof(rctl), "%s/cutoverctl", it.build);
	setenv("CUTOVER_SSH", ssh_cmd, 1);
	setenv("CUTOVER_REMOTE_CTL", rctl, 1);
	member_ssh_port = port;
	leader = ha_begin();
	f = leader == 1 ? 2 : 1;
	snprintf(remote, sizeof(remote), "ssh://root@127.0.0.1:%d%s", port, member_sock[leader]);
	{
		json_t *r = call_member(f, "switchover", json_pack("{s:s, s:s, s:b}", "cluster", IT_CLUSTER, "to", "db2",
								   "dry_run", 1));
		ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "NOT_LEADER") &&
				      !strcmp(it_get_str(r, "error.leader.address") ?: "", remote),
			      "a follower's answer names the leader's ssh address %s: %s", remote, it_json_str(r));
		json_decref(r);
	}
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown on m%d", leader);
	snprintf(prog, sizeof(prog), "%s/cutoverctl", it.build);
	snprintf(sockarg, sizeof(sockarg), "--socket=%s", member_sock[f]);
	{
		const char *follow[] = { prog, sockarg, "--follow-leader", "switchover", "--to", "db2", "--yes", NULL };
		rc = it_run(follow, true, &out, 60000);
		ck_assert_msg(rc == 0 && out && strstr(out, "is not the leader; sending 'switchover' to the leader") &&
				      strstr(out, remote),
			      "cutoverctl --follow-leader through ssh (exit %d): %s", rc, out ? out : "");
		/* the progress lines came through the relay, before the report */
		ck_assert_msg(strstr(out, "fence") && strstr(out, "done"), "no progress or report through ssh: %s", out);
		it_note("--follow-leader via m%d to %s: %.*s", f, remote, (int)strcspn(out, "\n"), out);
		free(out);
		out = NULL;
	}
	ck_assert_msg(it_read_only(2) == 0 && it_read_only(1) == 1 && it_writable_count() == 1,
		      "after the switchover through ssh: db1 read_only %d, db2 read_only %d, %d writable", it_read_only(1),
		      it_read_only(2), it_writable_count());
	/* status at an ssh:// address, directly */
	{
		char sock2[420];
		const char *argv[] = { prog, sock2, "--json", "status", NULL };
		snprintf(sock2, sizeof(sock2), "--socket=%s", remote);
		rc = it_run(argv, false, &out, 30000);
		ck_assert_msg(rc == 0 && out && strstr(out, "\"clusters\""), "status at %s (exit %d): %s", remote, rc,
			      out ? out : "");
		free(out);
		out = NULL;
	}
	/* nobody listens there: exit 3, and the message says to look at ssh's */
	{
		char sock3[420];
		const char *argv[] = { prog, sock3, "status", NULL };
		snprintf(sock3, sizeof(sock3), "--socket=ssh://root@127.0.0.1:%d%s", port + 1, member_sock[leader]);
		rc = it_run(argv, true, &out, 30000);
		ck_assert_msg(rc == 3 && out && strstr(out, "ssh's or the relay's message above"),
			      "status at an address no ssh reaches (exit %d): %s", rc, out ? out : "");
		it_note("no sshd there: %s", out);
		free(out);
	}
	member_ssh_port = 0;
	unsetenv("CUTOVER_SSH");
	unsetenv("CUTOVER_REMOTE_CTL");
	ha_end();
	it_sshd_stop(&sshd);
}

/* The leader killed (-9): another member leads within 2 x TTL. */
static void leader_killed(void)
{
	int leader = ha_begin(), next = 0, count = 0;
	int64_t t0;
	json_t *r;

	kill(member_pid[leader], SIGKILL);
	waitpid(member_pid[leader], NULL, 0);
	member_pid[leader] = 0;
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(4 * TTL_MS, (next = the_leader(&count)) != 0), "no new leader within %d ms", 4 * TTL_MS);
	it_note("m%d killed; m%d leads after %lld ms (lease_ttl %d ms)", leader, next, (long long)(it_now_ms() - t0), TTL_MS);
	ck_assert_msg(it_now_ms() - t0 <= 2 * TTL_MS + 500, "the new leader took %lld ms (2 x TTL = %d ms)",
		      (long long)(it_now_ms() - t0), 2 * TTL_MS);
	ck_assert_int_eq(count, 1);
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(next, "db2")), "db2's lag stays unknown on m%d", next);
	r = call_member(next, "switchover", json_pack("{s:s, s:s, s:b}", "cluster", IT_CLUSTER, "to", "db2", "dry_run", 1));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "the new leader's dry run: %s", it_json_str(r));
	json_decref(r);
	ha_end();
}

/* etcd without quorum: within the TTL no member acts, every one refuses, the watchdog alarms,
 * and the databases are left as they were. */
static void quorum_lost(void)
{
	int leader = ha_begin(), m, count = 0;
	int64_t t0;

	reap(&etcd_pid[1], SIGKILL);
	reap(&etcd_pid[2], SIGKILL);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(3 * TTL_MS, the_leader(&count) == 0), "a member still acts %d ms after quorum was lost",
		      3 * TTL_MS);
	it_note("quorum lost: m%d stopped acting after %lld ms (lease_ttl %d ms)", leader, (long long)(it_now_ms() - t0),
		TTL_MS);
	/* etcd's remaining member answers renewals until it notices it lost quorum (check-quorum,
	 * about an election timeout): the leader stops at most a TTL after the last renewal etcd
	 * confirmed, and etcd extends every lease when it elects again, so no one else can lead
	 * before that */
	ck_assert_msg(it_now_ms() - t0 <= 2 * TTL_MS, "the leader acted %lld ms after quorum was lost (2 x TTL = %d ms)",
		      (long long)(it_now_ms() - t0), 2 * TTL_MS);
	for (m = 1; m <= MEMBERS; m++) {
		json_t *r = call_member(m, "fence", json_pack("{s:s}", "server", "db2"));
		ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "NOT_LEADER"), "m%d: %s", m, it_json_str(r));
		json_decref(r);
	}
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *r = call_member(leader, "status", json_object()); bool a =
		it_alarm_in(it_get(r, "result"), "ha_no_leader", NULL, "active") != NULL; json_decref(r); a; })),
		      "no ha_no_leader alarm on m%d", leader);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_int_eq(it_read_only(1), 0);
	ha_end();
}

/* The member named by the leader key in etcd (0: no key). */
static int key_holder(void)
{
	char eps[300] = "", epsarg[320], *out = NULL, *p;
	const char *argv[] = { "/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl", epsarg, "get", "--print-value-only",
			       "/it-ha/leader", NULL };
	int i, m = 0;

	for (i = 1; i <= ETCDS; i++)
		snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%shttp://127.0.0.1:%d", i > 1 ? "," : "", etcd_port(i));
	snprintf(epsarg, sizeof(epsarg), "--endpoints=%s", eps);
	if (it_run(argv, true, &out, 10000) == 0 && out && (p = strstr(out, "\"name\":\"m")))
		m = atoi(p + 9);
	free(out);
	return m;
}

/* The leader key deleted by hand while the leader's lease lives: the leader, reading the key
 * after its next renewal, stops leading; whoever creates the key next (it, or another member)
 * is then the one member acting, under a new token. */
static void key_taken(void)
{
	int leader = ha_begin(), now = 0, count = 0, holder = 0;
	char eps[300] = "", epsarg[320], *out = NULL;
	const char *argv[] = { "/usr/bin/env", "ETCDCTL_API=3", "/usr/bin/etcdctl", epsarg, "del", "/it-ha/leader", NULL };
	int i, rc;
	long long token, token_now = 0;
	int64_t t0;
	json_t *h;

	for (i = 1; i <= ETCDS; i++)
		snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%shttp://127.0.0.1:%d", i > 1 ? "," : "", etcd_port(i));
	snprintf(epsarg, sizeof(epsarg), "--endpoints=%s", eps);
	ck_assert_int_eq(key_holder(), leader);
	h = member_ha(leader);
	token = (long long)json_integer_value(json_object_get(h, "token"));
	json_decref(h);
	ck_assert(token > 0);
	rc = it_run(argv, true, &out, 10000);
	ck_assert_msg(rc == 0, "etcdctl del: %s", out ? out : "");
	free(out);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(3 * TTL_MS, (holder = key_holder()) != 0 && (now = the_leader(&count)) == holder &&
							count == 1 && ({ json_t *x = member_ha(now); token_now =
							(long long)json_integer_value(json_object_get(x, "token"));
							json_decref(x); token_now != token; })),
		      "after the delete: key m%d, acting m%d (%d acting), token %lld (was %lld)", holder, now, count, token_now,
		      token);
	it_note("leader key deleted under m%d (token %lld): m%d holds it again and acts alone (token %lld) %lld ms later",
		leader, token, holder, token_now, (long long)(it_now_ms() - t0));
	ha_end();
}

/* ------------------------------------------------------------------------------------------ */
/* A switchover the leader cannot finish: another member finishes or rolls it back from etcd's
 * journal (issue 16, item 3). */

static struct it_conn *paused_on(int leader, const char *phase, char *id, size_t idlen)
{
	struct it_conn *c;
	json_t *p, *final = NULL;

	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown on m%d", leader);
	c = it_connect(member_sock[leader]);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:s, s:i, s:s}", "cluster", IT_CLUSTER, "to",
								     "db2", "drain_timeout_ms", 200, "pause_before", phase)),
			 0);
	p = it_conn_progress_until(c, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "m%d's switchover did not pause before %s: %s", leader, phase, it_json_str(final));
	snprintf(id, idlen, "%s", it_get_str(p, "progress.id") ?: "");
	json_decref(p);
	return c;
}

/* 0 acknowledged writes lost on the primary `server`; the load stopped. */
static void no_write_lost(struct it_load *l, int server, const char *what)
{
	json_t *st = it_load_stop(l), *v;
	int vs = -1;

	v = it_load_verify(l, server, &vs);
	ck_assert_msg(v && vs == 0 && json_integer_value(json_object_get(v, "acked_missing")) == 0,
		      "%s: acknowledged writes missing on db%d: %s", what, server, it_json_str(v));
	it_note("%s: %lld acknowledged writes, 0 missing on db%d", what,
		(long long)json_integer_value(json_object_get(v, "acked")), server);
	json_decref(v);
	json_decref(st);
}

/* The leader's switchover paused before `phase` under load, the leader killed (-9): the next
 * leader rolls it back; db1 is the one writable server again, HAProxy's writer, and no
 * acknowledged write is lost. */
static void killed_paused(const char *phase, const char *what)
{
	int leader = ha_begin(), next;
	struct it_conn *c;
	struct it_load l;
	char id[128], out[64];
	int64_t t0;

	ck_assert_int_eq(it_load_start(&l, phase, 2000), 0);
	c = paused_on(leader, phase, id, sizeof(id));
	if (!strcmp(phase, "promote"))
		ck_assert_msg(IT_WAIT_UNTIL(2000, it_read_only(1) == 1), "db1 is not fenced while paused before promote");
	kill_member(leader);
	it_conn_close(c);
	t0 = it_now_ms();
	next = takeover(leader, t0, what);
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "rolled_back"))),
		      "m%d's history of %s: %s", next, id, out);
	it_note("m%d rolled back %s %lld ms after the kill", next, id, (long long)(it_now_ms() - t0));
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(2), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	{
		char *w = it_haproxy_writer();
		ck_assert_msg(w && !strcmp(w, "db1"), "HAProxy's writer after the rollback: %s", w ? w : "?");
		free(w);
	}
	no_write_lost(&l, 1, what);
	ha_end();
}

/* Killed before the fence (drained, writes still flowing). */
static void killed_before_fence(void)
{
	killed_paused("fence", "killed before the fence");
}

/* Killed with the old primary fenced, before the promotion (writes blocked): db1 is made
 * writable again once db2 and db3 were read read-only. */
static void killed_before_promote(void)
{
	killed_paused("promote", "killed before the promotion");
}

/* An exec router `name` whose promotion runs the shell script body (%s in it: the script's own
 * path), written as hooks/NAME in the suite's directory: the config section, for member_extra
 * (new string); the script's path in path. */
static char *exec_router(const char *name, const char *body, char *path, size_t len)
{
	char hooks[300], *script = NULL, *extra = NULL;

	snprintf(hooks, sizeof(hooks), "%s/hooks", it.dir);
	ck_assert(mkdir(hooks, 0755) == 0 || access(hooks, F_OK) == 0);
	ck_assert_int_eq(chmod(hooks, 0755), 0);
	snprintf(path, len, "%s/%s", hooks, name);
	ck_assert_int_gt(asprintf(&script, body, path), 0);
	ck_assert_int_eq(it_write_file(path, script, 0755), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(script);
	ck_assert_int_gt(asprintf(&extra, "[router %s]\ncluster = %s\ntype = exec\nexec_promote = %s\ntimeout = 10s\n", name,
				  IT_CLUSTER, path),
			 0);
	return extra;
}

/* Killed after the point of no return (db2 writable, a router still being moved): the next
 * leader does not guess; it shows the switchover interrupted until `resolve`. */
static void killed_after_promote(void)
{
	char slow[340], *extra;
	int leader, next;
	struct it_conn *c;
	struct it_load l;
	char id[128], out[64];
	json_t *r, *p, *final = NULL;
	int64_t t0;

	/* a second router whose promotion takes 8 s: the leader is killed in it */
	extra = exec_router("slow", "#!/bin/sh\n# %s\nsleep 8\nexit 0\n", slow, sizeof(slow));
	member_extra = extra;
	leader = ha_begin();
	ck_assert_int_eq(it_load_start(&l, "ha-after-promote", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	c = it_connect(member_sock[leader]);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db2",
								     "drain_timeout_ms", 200)),
			 0);
	p = it_conn_progress_until(c, "start", 20000, &final);   /* its first line names it */
	ck_assert_msg(p != NULL, "no progress: %s", it_json_str(final));
	snprintf(id, sizeof(id), "%s", it_get_str(p, "progress.id") ?: "");
	json_decref(p);
	ck_assert_msg(IT_WAIT_UNTIL(20000, it_read_only(2) == 0), "db2 was not made writable");
	it_sleep_ms(200);   /* inside the slow router's promotion */
	kill_member(leader);
	it_conn_close(c);
	t0 = it_now_ms();
	next = takeover(leader, t0, "killed after the promotion");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "interrupted"))),
		      "m%d's history of %s: %s", next, id, out);
	r = call_member(next, "status", json_object());
	it_note("m%d: %s", next, it_get_str(r, "result.clusters.0.cutover.reason") ?: it_json_str(it_get(r, "result.clusters.0.cutover")));
	ck_assert_str_eq(it_get_str(r, "result.clusters.0.cutover.state") ?: "", "interrupted");
	json_decref(r);
	it_sleep_ms(1000);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_int_eq(it_read_only(1), 1);
	/* a new switchover waits for a person */
	r = call_member(next, "switchover", json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", "db3"));
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "BADSTATE"), "a switchover while interrupted: %s", it_json_str(r));
	json_decref(r);
	r = call_member(next, "resolve", json_pack("{s:s}", "cluster", IT_CLUSTER));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resolve on m%d: %s", next, it_json_str(r));
	json_decref(r);
	no_write_lost(&l, 2, "killed after the promotion");
	member_extra = "";
	free(extra);
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}


/* A switchover to db2 requested on the leader and begun: its connection (the answer comes on
 * it), its id in id. */
static struct it_conn *switchover_begun(int leader, char *id, size_t idlen)
{
	struct it_conn *c = it_connect(member_sock[leader]);
	json_t *p, *fin = NULL;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "switchover", json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", "db2")), 0);
	p = it_conn_progress_until(c, "start", 20000, &fin);
	ck_assert_msg(p != NULL, "no progress: %s", it_json_str(fin));
	snprintf(id, idlen, "%s", it_get_str(p, "progress.id") ?: "");
	json_decref(p);
	return c;
}

/* The requester hears "done" only once etcd has the switchover's last records.  A router's
 * promotion hook stops every etcd member (SIGSTOP) as it ends: the switchover completes on the
 * databases, but its final records cannot reach etcd.  The answer waits, and when the member
 * stops leading it comes with "journal_in_etcd": false and a warning that points at history
 * and resolve on the next leader.  (Sent at once, as before, it said "done" with no warning.) */
static void done_waits_for_etcd(void)
{
	char stop[340], *extra, id[128], out[64];
	int leader, next, i;
	struct it_conn *c;
	json_t *fin = NULL;
	int64_t t0;

	/* the hook reads the pids, written once etcd runs (the config wants the program there) */
	extra = exec_router("stop_etcd", "#!/bin/sh\nkill -STOP $(cat %s.pids)\nexit 0\n", stop, sizeof(stop));
	member_extra = extra;
	leader = ha_begin();
	{
		char pids[64] = "", path[400];
		for (i = 1; i <= ETCDS; i++)
			snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%d ", (int)etcd_pid[i]);
		snprintf(path, sizeof(path), "%s.pids", stop);
		ck_assert_int_eq(it_write_file(path, pids, 0644), 0);
	}
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	c = switchover_begun(leader, id, sizeof(id));
	fin = it_conn_reply(c, 30000, NULL);
	t0 = it_now_ms();
	for (i = 1; i <= ETCDS; i++)
		kill(etcd_pid[i], SIGCONT);
	it_conn_close(c);
	ck_assert_msg(fin && json_is_true(json_object_get(fin, "ok")) &&
			      !strcmp(it_get_str(fin, "result.outcome") ?: "", "done"),
		      "the requester's answer: %s", it_json_str(fin));
	ck_assert_msg(json_is_false(it_get(fin, "result.journal_in_etcd")) &&
			      strstr(it_get_str(fin, "result.warning") ?: "", "etcd does not have the last records"),
		      "\"done\" without the warning that etcd lacks its records: %s", it_json_str(fin));
	it_note("the requester heard done with: %s", it_get_str(fin, "result.warning"));
	json_decref(fin);
	ck_assert_int_eq(it_read_only(2), 0);
	ck_assert_int_eq(it_writable_count(), 1);
	/* etcd back: a leader again, which knows the switchover as etcd has it */
	ck_assert_msg(IT_WAIT_UNTIL(6 * TTL_MS, ({ int n = 0; (next = the_leader(&n)) != 0 && n == 1; })),
		      "no single leader once etcd runs again");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), *out != '\0')),
		      "m%d has no history of %s", next, id);
	it_note("m%d led again %lld ms after etcd was woken; it shows %s as %s", next, (long long)(it_now_ms() - t0), id,
		out);
	if (!strcmp(out, "interrupted")) {
		json_t *r = call_member(next, "resolve", json_pack("{s:s}", "cluster", IT_CLUSTER));
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resolve on m%d: %s", next, it_json_str(r));
		json_decref(r);
	}
	ck_assert_int_eq(it_writable_count(), 1);
	member_extra = "";
	free(extra);
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}

/* Member m's status has the string want at path. */
static bool status_says(int m, const char *path, const char *want)
{
	json_t *x = call_member(m, "status", json_object());
	bool ok = !strcmp(it_get_str(x, path) ?: "", want);

	json_decref(x);
	return ok;
}

/* Once etcd has every record the leader wrote (its journal counters), kill it (-9) at *t0:
 * the member that leads next (takeover). */
static int killed_once_in_etcd(int leader, int64_t *t0, const char *what)
{
	ck_assert_msg(IT_WAIT_UNTIL(5000, ({ json_t *h = member_ha(leader); bool w = h &&
		json_integer_value(it_get(h, "journal.written")) == json_integer_value(it_get(h, "journal.records"));
		json_decref(h); w; })), "m%d's journal records are not all in etcd", leader);
	kill_member(leader);
	*t0 = it_now_ms();
	return takeover(leader, *t0, what);
}

/* The leader switches db1 -> db2 and keeps db1 fenced (sticky), then is killed: the next leader
 * knows db1 is kept fenced (from etcd), so db1 made writable by hand raises fence_lost there
 * (split_brain = alert: the alarm instead of the fence). */
static void sticky_fence_taken_over(void)
{
	int leader, next;
	json_t *r, *st;
	int64_t t0;

	leader = ha_begin();
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	r = call_member(leader, "switchover", json_pack("{s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db2",
							 "drain_timeout_ms", 200));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "the leader's switchover: %s", it_json_str(r));
	json_decref(r);
	st = call_member(leader, "status", json_object());
	ck_assert_msg(json_array_size(it_get(st, "result.clusters.0.kept_fenced")) == 1 &&
			      !strcmp(it_get_str(st, "result.clusters.0.kept_fenced.0") ?: "", "db1"),
		      "the leader does not keep db1 fenced: %s", it_json_str(it_get(st, "result.clusters.0.kept_fenced")));
	json_decref(st);
	/* the switchover's end and the sticky fence in etcd too (written right after the reply) */
	next = killed_once_in_etcd(leader, &t0, "leader killed after a switchover");
	ck_assert_msg(IT_WAIT_UNTIL(5000, status_says(next, "result.clusters.0.kept_fenced.0", "db1")),
		      "m%d does not know db1 is kept fenced", next);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL read_only = 0"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *x = call_member(next, "status", json_object()); bool a =
		it_alarm_in(it_get(x, "result"), "fence_lost", "db1", "active") != NULL; json_decref(x); a; })),
		      "m%d raised no fence_lost for db1 made writable by hand", next);
	it_note("m%d, leading after m%d was killed, kept db1 fenced: fence_lost raised when db1 was made writable", next,
		leader);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL read_only = 1"), 0);
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}


/* A server held at a fence point is known to the next leader: a switchover whose data check
 * runs (slowly: 100 rows a second over 2,700 rows) keeps db1 read-only at the fence point, not
 * replicating; the leader is killed once etcd has its records, and the next leader shows db1
 * as the rollback point (adopted from etcd's list) instead of a replica that does not follow. */
static void held_taken_over(void)
{
	int leader, next;
	json_t *r, *st;
	int64_t t0;

	ck_assert_int_eq(it_sql_exec(1, "CREATE DATABASE IF NOT EXISTS heldt"), 0);
	ck_assert_int_eq(it_sql_exec(1, "CREATE OR REPLACE TABLE heldt.rows (id INT PRIMARY KEY, v INT) ENGINE=InnoDB"), 0);
	/* the sandbox allows 1,000 recursive iterations: 3 x 900 rows */
	ck_assert_msg(it_sql_exec(1, "INSERT INTO heldt.rows WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
				     "WHERE n < 900) SELECT n + 1000 * k.k, n FROM s, (SELECT 0 AS k UNION SELECT 1 UNION "
				     "SELECT 2) k") == 0,
		      "%s", it_sql_error());
	member_cluster_extra = "data_check = on\ndata_check_rate = 100\ndata_check_chunk_rows = 100\n";
	leader = ha_begin();
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	r = call_member(leader, "switchover", json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", "db2"));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) &&
			      !strcmp(it_get_str(r, "result.data_check.state") ?: "", "running"),
		      "the leader's switchover with a data check: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(status_says(leader, "result.clusters.0.rollback_point.0.server", "db1"), "the leader does not hold db1");
	next = killed_once_in_etcd(leader, &t0, "leader killed while its data check held db1");
	ck_assert_msg(IT_WAIT_UNTIL(5000, status_says(next, "result.clusters.0.rollback_point.0.server", "db1")),
		      "m%d does not know db1 is held at the fence point", next);
	st = call_member(next, "status", json_object());
	it_note("m%d, leading after m%d was killed, holds db1: %s", next, leader,
		it_get_str(st, "result.clusters.0.rollback_point.0.why") ?: "?");
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	json_decref(st);
	member_cluster_extra = NULL;
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}


/* The watch after a switchover is known to the next leader: the leader switches over with
 * watch = 120s and is killed once etcd has its records; the next leader watches the same
 * switchover's new primary, for the time left (not a new 120 s). */
static void watch_taken_over(void)
{
	int leader, next;
	json_t *r, *st;
	char id[128];
	double left = -1;
	int64_t t0;

	member_cluster_extra = "watch = 120s\n";
	leader = ha_begin();
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	r = call_member(leader, "switchover", json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", "db2"));
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "the leader's switchover: %s", it_json_str(r));
	snprintf(id, sizeof(id), "%s", it_get_str(r, "result.id") ?: "");
	json_decref(r);
	st = call_member(leader, "status", json_object());
	ck_assert_msg(!strcmp(it_get_str(st, "result.clusters.0.watch.switchover") ?: "", id),
		      "the leader does not watch after %s: %s", id, it_json_str(it_get(st, "result.clusters.0.watch")));
	json_decref(st);
	it_sleep_ms(2000);   /* so that the time left shows it is not a new watch */
	next = killed_once_in_etcd(leader, &t0, "leader killed while it watched after a switchover");
	ck_assert_msg(IT_WAIT_UNTIL(5000, ({ json_t *x = call_member(next, "status", json_object()); bool k =
		!strcmp(it_get_str(x, "result.clusters.0.watch.switchover") ?: "", id);
		left = json_number_value(it_get(x, "result.clusters.0.watch.remaining_s")); json_decref(x); k; })),
		      "m%d does not watch after %s", next, id);
	it_note("m%d, leading after m%d was killed, watches after %s: %.0f s left of 120", next, leader, id, left);
	ck_assert_msg(left > 0 && left < 118, "the watch's time left on m%d: %.1f s", next, left);
	member_cluster_extra = NULL;
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}

/* ------------------------------------------------------------------------------------------ */
/* Cut off from etcd, or frozen: a leader that cannot renew stops acting before another leads. */

#define NFT "/usr/sbin/nft"
#define NFT_TABLE "cutover_it_ha"

/* Drop everything between member m's source address and etcd's client ports. */
static void cut_off(int m)
{
	char rules[800], file[300];
	const char *argv[] = { NFT, "-f", file, NULL };
	char *out = NULL;
	int rc;

	ck_assert_msg(access(NFT, X_OK) == 0, "%s is missing: this test cuts a member off from etcd with nftables; "
		      "install the Debian package nftables (tests/deps.sh does)", NFT);
	snprintf(file, sizeof(file), "%s/cut.nft", it.dir);
	snprintf(rules, sizeof(rules),
		 "table inet " NFT_TABLE " {\n chain out {\n  type filter hook output priority 0; policy accept;\n"
		 "  ip saddr " MEMBER_SOURCE " tcp dport { %d, %d, %d } drop\n"
		 "  ip daddr " MEMBER_SOURCE " tcp sport { %d, %d, %d } drop\n }\n}\n",
		 10 + m, etcd_port(1), etcd_port(2), etcd_port(3), 10 + m, etcd_port(1), etcd_port(2), etcd_port(3));
	ck_assert_int_eq(it_write_file(file, rules, 0600), 0);
	{
		/* a case that fails before its heal() must not leave the next ones cut off */
		const char *undo[] = { "/bin/sh", "-c", NFT " delete table inet " NFT_TABLE " 2>/dev/null; true", NULL };
		it_cleanup_add(undo);
	}
	rc = it_run(argv, true, &out, 10000);
	ck_assert_msg(rc == 0, "nft -f %s: %s", file, out ? out : "");
	free(out);
}

static void heal(void)
{
	const char *argv[] = { NFT, "delete", "table", "inet", NFT_TABLE, NULL };
	char *out = NULL;
	it_run(argv, true, &out, 10000);
	free(out);
}

/* Paused before the promotion (db1 fenced), the leader is cut off from etcd and told at once to
 * go on: it cannot get the point of no return into etcd's journal, so it never makes db2
 * writable; it stops acting when its lease can no longer be counted on, and the member that
 * leads next rolls the switchover back. */
static void leader_cut_off(void)
{
	int leader = ha_begin(), next;
	struct it_conn *c;
	struct it_load l;
	char id[128], out[64];
	json_t *r;
	int64_t t0;

	heal();
	ck_assert_int_eq(it_load_start(&l, "ha-cut-off", 2000), 0);
	c = paused_on(leader, "promote", id, sizeof(id));
	cut_off(leader);
	t0 = it_now_ms();
	r = call_member(leader, "resume", json_pack("{s:s}", "cluster", IT_CLUSTER));
	it_note("resume on m%d right after the cut: %s", leader, it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(2 * TTL_MS, (it_read_only(2) == 1 || (ck_abort_msg("db2 was made writable by the "
								"leader cut off from etcd"), 0)) && !member_acting(leader)),
		      "m%d still acts %d ms after it was cut off from etcd", leader, 2 * TTL_MS);
	it_note("m%d cut off from etcd: stopped acting %lld ms later; db2 stayed read-only", leader,
		(long long)(it_now_ms() - t0));
	next = takeover(leader, t0, "leader cut off from etcd");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "rolled_back"))),
		      "m%d's history of %s: %s", next, id, out);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(2), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	member_outcome(leader, id, out, sizeof(out));
	ck_assert_msg(!strcmp(out, "handed_over"), "m%d's own history of %s: %s", leader, id, out);
	{
		json_t *fin = it_conn_reply(c, 5000, NULL);
		it_note("m%d's requester heard: %s", leader, it_get_str(fin, "error.message") ?: it_json_str(fin));
		json_decref(fin);
	}
	it_conn_close(c);
	heal();
	/* back in touch, it follows */
	ck_assert_msg(IT_WAIT_UNTIL(3 * TTL_MS, ({ json_t *h = member_ha(leader); bool f = h && !strcmp(it_get_str(h,
		"role") ?: "", "follower"); json_decref(h); f; })), "m%d does not follow once etcd is reachable again", leader);
	no_write_lost(&l, 1, "leader cut off from etcd");
	ha_end();
}


/* A program acting for the leader stops with the leadership: an exec router's promotion (6 s,
 * then it would leave a mark) is running when nftables cuts the leader off from etcd; once the
 * member stops acting it kills the program's group, so the mark never appears, and the next
 * leader shows the switchover interrupted (past its point of no return) until resolve. */
static void cut_off_in_promotion(void)
{
	char slow[340], mark[400], *extra, *body, id[128], out[64];
	int leader, next;
	struct it_conn *c;
	json_t *fin = NULL;
	int64_t t0, t_prom;

	snprintf(mark, sizeof(mark), "%s/promoted.mark", it.dir);
	unlink(mark);
	ck_assert_int_gt(asprintf(&body, "#!/bin/sh\n# %%s\nsleep 6\ntouch %s\nexit 0\n", mark), 0);
	extra = exec_router("slow_mark", body, slow, sizeof(slow));
	free(body);
	member_extra = extra;
	heal();
	leader = ha_begin();
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db2")), "db2's lag stays unknown");
	c = switchover_begun(leader, id, sizeof(id));
	ck_assert_msg(IT_WAIT_UNTIL(20000, it_read_only(2) == 0), "db2 was not made writable");
	t_prom = it_now_ms();
	it_sleep_ms(300);   /* inside the slow router's promotion */
	cut_off(leader);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(2 * TTL_MS, !member_acting(leader)), "m%d still acts %d ms after it was cut off",
		      leader, 2 * TTL_MS);
	it_note("m%d cut off in the promotion: stopped acting %lld ms later", leader, (long long)(it_now_ms() - t0));
	next = takeover(leader, t0, "leader cut off in the promotion");
	fin = it_conn_reply(c, 5000, NULL);
	it_note("m%d's requester heard: %s", leader, it_get_str(fin, "error.message") ?: it_json_str(fin));
	json_decref(fin);
	it_conn_close(c);
	/* the program would have left its mark 6 s after it started */
	while (it_now_ms() < t_prom + 7000)
		it_sleep_ms(100);
	ck_assert_msg(access(mark, F_OK) != 0, "the promotion program ran to its end on a member that no longer leads");
	ck_assert_msg(member_log_has(leader, "killed with its process group: this member stopped leading"),
		      "m%d's log does not say the program was killed", leader);
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "interrupted"))),
		      "m%d's history of %s: %s", next, id, out);
	ck_assert_int_eq(it_writable_count(), 1);
	{
		json_t *r = call_member(next, "resolve", json_pack("{s:s}", "cluster", IT_CLUSTER));
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resolve on m%d: %s", next, it_json_str(r));
		json_decref(r);
	}
	heal();
	member_extra = "";
	free(extra);
	ha_end();
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}

/* The leader frozen (SIGSTOP) before the fence, long enough for another to lead and roll the
 * switchover back; woken, it does nothing more to the databases and follows. */
static void leader_frozen(void)
{
	int leader = ha_begin(), next, count;
	struct it_conn *c;
	struct it_load l;
	char id[128], out[64];
	int64_t t0;

	ck_assert_int_eq(it_load_start(&l, "ha-frozen", 2000), 0);
	c = paused_on(leader, "fence", id, sizeof(id));
	kill(member_pid[leader], SIGSTOP);
	member_frozen[leader] = true;
	t0 = it_now_ms();
	next = takeover(leader, t0, "leader frozen");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "rolled_back"))),
		      "m%d's history of %s: %s", next, id, out);
	/* the frozen one resumes its pause, asked before it froze */
	kill(member_pid[leader], SIGCONT);
	member_frozen[leader] = false;
	it_sleep_ms(TTL_MS);
	ck_assert_msg(!member_acting(leader), "m%d acts again after it was woken", leader);
	ck_assert_int_eq(the_leader(&count), next);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_read_only(2), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	member_outcome(leader, id, out, sizeof(out));
	ck_assert_msg(!strcmp(out, "handed_over"), "m%d's own history of %s: %s", leader, id, out);
	it_note("m%d woken after %lld ms: not acting, its switchover handed over", leader, (long long)(it_now_ms() - t0));
	it_conn_close(c);
	no_write_lost(&l, 1, "leader frozen");
	ha_end();
}

/* Built only without /usr/bin/etcd: says SKIPPED, or fails when CUTOVER_REQUIRE_ETCD=1. */
static void no_etcd(void)
{
	ck_assert(!members_etcd_usable());
}

static const struct it_case skip_case[] = {
	{ "etcd", no_etcd },
};

static const struct it_case cases[] = {
	{ "one_leader", one_leader },
	{ "follow_leader_ssh", follow_leader_ssh },
	{ "leader_killed", leader_killed },
	{ "quorum_lost", quorum_lost },
	{ "key_taken", key_taken },
	{ "killed_before_fence", killed_before_fence },
	{ "killed_before_promote", killed_before_promote },
	{ "killed_after_promote", killed_after_promote },
	{ "done_waits_for_etcd", done_waits_for_etcd },
	{ "sticky_fence_taken_over", sticky_fence_taken_over },
	{ "held_taken_over", held_taken_over },
	{ "watch_taken_over", watch_taken_over },
	{ "leader_cut_off", leader_cut_off },
	{ "cut_off_in_promotion", cut_off_in_promotion },
	{ "leader_frozen", leader_frozen },
};

Suite *it_ha_suite(void)
{
	static const struct it_suite_def def = { "ha", cases, sizeof(cases) / sizeof(cases[0]) };
	static const struct it_suite_def skip = { "ha", skip_case, 1 };

	if (access("/usr/bin/etcd", X_OK) != 0)
		return it_suite_build_bare(&skip);
	return it_suite_build(&def);
}
