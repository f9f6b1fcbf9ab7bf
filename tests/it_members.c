/* Several cutoverd members with one leader elected through a real etcd, for the suites that
 * need them (it_ha.c, and the ProxySQL suites' cases where the leader is killed during a read
 * shift or a tenant move): a 3-member etcd on loopback (client ports IT_BASE_PORT + 701..703,
 * peers + 711..713) and three cutoverd members watching the suite's sandbox, each with its own
 * socket, state directory, metrics port (+ 721..723) and an [ha] section (lease_ttl 2 s).
 * See it_members.h. */
#include "it_members.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t etcd_pid[ETCDS + 1], member_pid[MEMBERS + 1];
const char *member_extra = "";
const char *member_cluster_extra;
char *(*member_base)(void);
bool member_frozen[MEMBERS + 1];
int member_ssh_port;
char member_sock[MEMBERS + 1][300], member_conf[MEMBERS + 1][300], member_log[MEMBERS + 1][300];

int etcd_port(int i)
{
	return it.base_port + 700 + i;
}

int member_metrics_port(int m)
{
	return it.base_port + 720 + m;
}

static int etcd_peer(int i)
{
	return it.base_port + 710 + i;
}

void reap(pid_t *pid, int sig)
{
	int st, i;

	if (*pid <= 0)
		return;
	kill(*pid, sig);
	for (i = 0; i < 100 && waitpid(*pid, &st, WNOHANG) == 0; i++)
		it_sleep_ms(50);
	if (i == 100) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &st, 0);
	}
	*pid = 0;
}

void etcd_start(void)
{
	char cluster[600] = "", name[16], data[300], client[64], peer[64], log[300];
	int i;

	for (i = 1; i <= ETCDS; i++)
		snprintf(cluster + strlen(cluster), sizeof(cluster) - strlen(cluster), "%se%d=http://127.0.0.1:%d",
			 i > 1 ? "," : "", i, etcd_peer(i));
	for (i = 1; i <= ETCDS; i++) {
		const char *argv[] = { "/usr/bin/etcd", "--name", name, "--data-dir", data, "--listen-client-urls", client,
				       "--advertise-client-urls", client, "--listen-peer-urls", peer,
				       "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster,
				       "--initial-cluster-state", "new", "--initial-cluster-token", "it-ha", NULL };
		snprintf(name, sizeof(name), "e%d", i);
		snprintf(data, sizeof(data), "%s/etcd/e%d", it.dir, i);
		snprintf(client, sizeof(client), "http://127.0.0.1:%d", etcd_port(i));
		snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", etcd_peer(i));
		snprintf(log, sizeof(log), "%s.etcd%d.log", it.dir, i);
		etcd_pid[i] = it_spawn(argv, log);
		ck_assert_int_gt(etcd_pid[i], 0);
	}
}

void etcd_stop_all(void)
{
	int i;
	for (i = 1; i <= ETCDS; i++)
		reap(&etcd_pid[i], SIGKILL);
}

json_t *call_member(int m, const char *cmd, json_t *args)
{
	struct it_conn *c = it_connect(member_sock[m]);
	json_t *r;

	if (!c) {
		json_decref(args);
		return NULL;
	}
	it_conn_request(c, cmd, args);
	r = it_conn_reply(c, 10000, NULL);
	it_conn_close(c);
	return r;
}

json_t *member_ha(int m)   /* new reference: status.ha, or NULL */
{
	json_t *r = call_member(m, "status", json_object()), *h;

	h = r ? json_incref(it_get(r, "result.ha")) : NULL;
	json_decref(r);
	return h;
}

/* The member that leads and acts (0: none), and how many do. */
int the_leader(int *count)
{
	int m, leader = 0;

	*count = 0;
	for (m = 1; m <= MEMBERS; m++) {
		json_t *h;
		if (member_pid[m] <= 0 || member_frozen[m])
			continue;
		h = member_ha(m);
		if (h && !strcmp(it_get_str(h, "role") ?: "", "leader") && json_is_true(json_object_get(h, "acting"))) {
			leader = m;
			(*count)++;
		}
		json_decref(h);
	}
	return leader;
}

void member_start(int m)
{
	char prog[600], *base, *text = NULL, etcds[300] = "", state[300];
	const char *argv[] = { prog, "-f", "-c", member_conf[m], NULL };
	int i;

	snprintf(prog, sizeof(prog), "%s/cutoverd", it.build);
	snprintf(member_sock[m], sizeof(member_sock[m]), "%s/run/m%d.sock", it.dir, m);
	snprintf(member_conf[m], sizeof(member_conf[m]), "%s/m%d.conf", it.dir, m);
	snprintf(member_log[m], sizeof(member_log[m]), "%s.m%d.log", it.dir, m);
	snprintf(state, sizeof(state), "%s/state-m%d", it.dir, m);
	mkdir(state, 0700);
	for (i = 1; i <= ETCDS; i++)
		snprintf(etcds + strlen(etcds), sizeof(etcds) - strlen(etcds), "%shttp://127.0.0.1:%d", i > 1 ? ", " : "",
			 etcd_port(i));
	base = member_base ? member_base() : it_config_text_cluster(member_cluster_extra, NULL);
	{
		/* this member's socket and state directory in the suite's config */
		char *s1 = strstr(base, "socket = "), *e1 = s1 ? strchr(s1, '\n') : NULL;
		char *s2 = strstr(base, "state_dir = "), *e2 = s2 ? strchr(s2, '\n') : NULL;
		ck_assert(s1 && e1 && s2 && e2 && s1 < s2);
		ck_assert_int_ge(asprintf(&text, "%.*ssocket = %s%.*sstate_dir = %s\nmetrics_address = 127.0.0.1:%d%s\n[ha]\n"
						 "etcd = %s\nprefix = /it-ha\nname = m%d\nlease_ttl = %dms\n"
						 "source = " MEMBER_SOURCE "\n%s",
					  (int)(s1 - base), base, member_sock[m], (int)(s2 - e1), e1, state,
					  member_metrics_port(m), e2, etcds, m, TTL_MS, 10 + m, member_extra),
				 0);
	}
	if (member_ssh_port) {
		char *t2 = NULL;
		ck_assert_int_ge(asprintf(&t2, "%saddress = ssh://root@127.0.0.1:%d%s\n", text, member_ssh_port, member_sock[m]),
				 0);
		free(text);
		text = t2;
	}
	free(base);
	ck_assert_int_eq(it_write_file(member_conf[m], text, 0600), 0);
	free(text);
	unlink(member_sock[m]);
	member_pid[m] = it_spawn(argv, member_log[m]);
	ck_assert_int_gt(member_pid[m], 0);
}

void members_stop(void)
{
	int m;
	for (m = 1; m <= MEMBERS; m++) {
		if (member_pid[m] > 0 && member_frozen[m])
			kill(member_pid[m], SIGCONT);
		member_frozen[m] = false;
		reap(&member_pid[m], SIGTERM);
	}
	/* a member built with ASan/UBSan (make integration-san) reports in its log, which the next
	 * start truncates: look now, each time they stop */
	for (m = 1; m <= MEMBERS; m++) {
		char *log = *member_log[m] ? it_read_text(member_log[m]) : NULL;
		bool report = log && (strstr(log, "AddressSanitizer") || strstr(log, "LeakSanitizer") ||
				      strstr(log, "runtime error:"));
		free(log);
		ck_assert_msg(!report, "m%d's log %s has a sanitizer report", m, member_log[m]);
	}
}

/* A test that fails leaves no member acting on the sandbox the next test gets, nor etcd: each
 * killed when the test ends, while its command line still names its config (or data dir). */
static void cleanup_add(void)
{
	char args[MEMBERS + ETCDS][340];
	const char *argv[5 + MEMBERS + ETCDS] = { "/bin/sh", "-c",
		"for a; do p=${a%%:*}; grep -qasF -- \"${a#*:}\" /proc/$p/cmdline && kill -9 $p; done; exit 0",
		"ha-cleanup" };
	int i, n = 4;

	for (i = 1; i <= MEMBERS; i++, n++)
		snprintf(args[n - 4], sizeof(args[0]), "%d:%s", (int)member_pid[i], member_conf[i]);
	for (i = 1; i <= ETCDS; i++, n++)
		snprintf(args[n - 4], sizeof(args[0]), "%d:%s/etcd/e%d", (int)etcd_pid[i], it.dir, i);
	for (i = 4; i < n; i++)
		argv[i] = args[i - 4];
	argv[n] = NULL;
	ck_assert_msg(it_cleanup_add(argv) == 0, "no room for another cleanup command");
}

/* etcd up and healthy, the suite's own cutoverd stopped, three members started; the leader. */
int ha_begin(void)
{
	int m, count = 0, leader = 0;
	char dir[300];

	/* what a failed test before left running */
	members_stop();
	etcd_stop_all();
	snprintf(dir, sizeof(dir), "%s/etcd", it.dir);
	{
		const char *argv[] = { "/bin/rm", "-rf", dir, NULL };
		char *out = NULL;
		it_run(argv, true, &out, 10000);
		free(out);
	}
	it_daemon_stop();
	takeover_writable = 1;
	etcd_start();
	for (m = 1; m <= MEMBERS; m++)
		member_start(m);
	cleanup_add();
	ck_assert_msg(IT_WAIT_UNTIL(30000, (leader = the_leader(&count)) != 0 && count == 1),
		      "no single leader among the members (%d acting)", count);
	/* and every member knows it */
	for (m = 1; m <= MEMBERS; m++)
		ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *h = member_ha(m); char want[8]; snprintf(want, sizeof(want),
			"m%d", leader); bool ok = h && !strcmp(it_get_str(h, "leader") ?: "", want); json_decref(h); ok; })),
			      "m%d does not name m%d as the leader", m, leader);
	return leader;
}

void ha_end(void)
{
	members_stop();
	etcd_stop_all();
	ck_assert_msg(it_daemon_start() == 0, "cutoverd does not start again with the base config");
}


static int writable_max;   /* the most servers seen writable at once while waiting */
int takeover_writable;     /* how many may be: 1, set by ha_begin */

bool member_lag_known(int m, const char *server)
{
	json_t *r = call_member(m, "status", json_object()), *x;
	size_t i;
	bool ok = false;

	json_array_foreach(it_get(r, "result.clusters.0.servers"), i, x)
		if (!strcmp(it_get_str(x, "name") ?: "", server))
			ok = json_is_integer(json_object_get(x, "lag_ms")) && !strcmp(it_get_str(x, "role") ?: "", "replica");
	json_decref(r);
	return ok;
}

/* The leader, once one other than `gone` acts; no two servers writable at any look meanwhile. */
int takeover(int gone, int64_t t0, const char *what)
{
	int next = 0, count = 0, n;

	writable_max = 0;
	ck_assert_msg(IT_WAIT_UNTIL(4 * TTL_MS, ((n = it_writable_count()) > writable_max ? writable_max = n : 0,
						  (next = the_leader(&count)) != 0 && next != gone)),
		      "%s: no other member leads within %d ms", what, 4 * TTL_MS);
	it_note("%s: m%d leads %lld ms later (lease_ttl %d ms)", what, next, (long long)(it_now_ms() - t0), TTL_MS);
	ck_assert_msg(it_now_ms() - t0 <= 2 * TTL_MS + 500, "%s: the new leader took %lld ms (2 x TTL = %d ms)", what,
		      (long long)(it_now_ms() - t0), 2 * TTL_MS);
	ck_assert_int_eq(count, 1);
	ck_assert_msg(writable_max <= takeover_writable, "%s: %d servers writable at once (%d may be)", what, writable_max,
		      takeover_writable);
	return next;
}

/* The outcome member m's history gives cutover id ("" if it has none). */
void member_outcome(int m, const char *id, char *out, size_t len)
{
	json_t *r = call_member(m, "history", json_pack("{s:s}", "cluster", IT_CLUSTER)), *x;
	size_t i;

	snprintf(out, len, "%s", "");
	json_array_foreach(it_get(r, "result.switchovers"), i, x)
		if (!strcmp(it_get_str(x, "id") ?: "", id))
			snprintf(out, len, "%s", it_get_str(x, "outcome") ?: "?");
	json_decref(r);
}


void kill_member(int m)
{
	kill(member_pid[m], SIGKILL);
	waitpid(member_pid[m], NULL, 0);
	member_pid[m] = 0;
}

bool member_acting(int m)
{
	json_t *h = member_ha(m);
	bool a = h && json_is_true(json_object_get(h, "acting"));
	json_decref(h);
	return a;
}

bool members_etcd_usable(void)
{
	const char *req = getenv("CUTOVER_REQUIRE_ETCD");

	if (access("/usr/bin/etcd", X_OK) == 0)
		return true;
	ck_assert_msg(!(req && !strcmp(req, "1")), "CUTOVER_REQUIRE_ETCD=1 and " MEMBERS_NO_ETCD);
	it_skip_suite("%s: the cases with several cutoverd members and etcd are skipped", MEMBERS_NO_ETCD);
	return false;
}

bool member_log_has(int m, const char *needle)
{
	char *log = it_read_text(member_log[m]);
	bool found;

	ck_assert_msg(log != NULL, "%s: %s", member_log[m], strerror(errno));
	found = strstr(log, needle) != NULL;
	free(log);
	return found;
}
