/* One cutoverd, two clusters (issue 16, item 5): switchovers on different clusters run at the
 * same time, and a cluster never has two.  The suite's sandbox is cluster "sandbox"; a second
 * sandbox of three mariadbd and an HAProxy, on its own ports and directory, becomes cluster
 * "c2" of the same configuration (its servers c2-db1..c2-db3). */
#include "it_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define C2_OFFSET 300   /* the second sandbox's ports: the suite's plus this */

Suite *it_fleet_suite(void);

static char c2dir[320];

static int c2_port(int server)
{
	return it.base_port + C2_OFFSET + server - 1;
}

static void c2_sandbox(const char *cmd)
{
	char base[16], wp[16], rp[16], *out = NULL;
	const char *start[] = { it.sandbox_sh, "start", "--fresh", "--dir", c2dir, "--servers", "3", "--base-port", base,
				"--write-port", wp, "--read-port", rp, "--poll", "200ms", NULL };
	const char *stop[] = { it.sandbox_sh, "stop", "--dir", c2dir, NULL };
	int rc;

	snprintf(base, sizeof(base), "%d", c2_port(1));
	snprintf(wp, sizeof(wp), "%d", it.write_port + C2_OFFSET);
	snprintf(rp, sizeof(rp), "%d", it.read_port + C2_OFFSET);
	rc = it_run(strcmp(cmd, "start") ? stop : start, true, &out, 180000);
	ck_assert_msg(rc == 0 || strcmp(cmd, "start"), "the second sandbox did not start (exit %d): %s", rc, out ? out : "");
	free(out);
}

/* The second sandbox's cutoverd.conf as cluster c2 (its [cutoverd] section left out). */
static char *c2_config(void)
{
	char path[400], *line = NULL, *text = NULL;
	size_t cap = 0, len = 0;
	FILE *f, *mem = open_memstream(&text, &len);
	bool skip = false;

	snprintf(path, sizeof(path), "%s/cutoverd.conf", c2dir);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: cannot read", path);
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '[')
			skip = !strncmp(line, "[cutoverd]", 10);
		if (skip)
			continue;
		if (!strncmp(line, "[cluster ", 9))
			fputs("[cluster c2]\n", mem);
		else if (!strncmp(line, "cluster = ", 10))
			fputs("cluster = c2\n", mem);
		else if (!strncmp(line, "[server db", 10))
			fprintf(mem, "[server c2-db%s", line + 10);
		else if (!strncmp(line, "[router ", 8))
			fprintf(mem, "[router c2-%sserver_map = c2-db1=db1, c2-db2=db2, c2-db3=db3\n", line + 8);
		else
			fputs(line, mem);
	}
	free(line);
	fclose(f);
	fclose(mem);
	return text;
}

static json_t *cluster_of(json_t *st, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(it_get(st, "clusters"), i, c)
		if (!strcmp(it_get_str(c, "name") ?: "", name))
			return c;
	return NULL;
}

/* The cluster is OK with this primary, and the candidate's lag is known. */
static bool cluster_ready(const char *cluster, const char *primary, const char *candidate)
{
	json_t *st = it_status(), *c = cluster_of(st, cluster), *s;
	size_t i;
	bool ok = c && !strcmp(it_get_str(c, "verdict") ?: "", "OK") && !strcmp(it_get_str(c, "primary") ?: "", primary);

	json_array_foreach(json_object_get(c, "servers"), i, s)
		if (!strcmp(it_get_str(s, "name") ?: "", candidate))
			ok = ok && json_is_integer(json_object_get(s, "lag_ms"));
	json_decref(st);
	return ok;
}

static const char *outcome_of(json_t *reply)
{
	return it_get_str(reply, json_is_true(json_object_get(reply, "ok")) ? "result.outcome" : "error.report.outcome");
}

/* Cluster sandbox's switchover paused before its fence; meanwhile c2's runs to its end, and a
 * second one on sandbox is refused naming the first; resumed, sandbox's ends too.  Writes go
 * on to both clusters through their HAProxy; none acknowledged is lost. */
static void two_clusters_at_once(void)
{
	struct it_load l1, l2;
	struct it_conn *a, *b;
	json_t *p, *final = NULL, *rb, *r;
	char pw2[400], *extra, *text;
	int vs = -1;

	snprintf(c2dir, sizeof(c2dir), "%s-c2", it.dir);
	c2_sandbox("start");
	extra = c2_config();
	text = it_config_text(extra);
	free(extra);
	ck_assert_int_eq(it_daemon_restart(text), 0);
	free(text);
	ck_assert_msg(IT_WAIT_UNTIL(20000, cluster_ready(IT_CLUSTER, "db1", "db2") && cluster_ready("c2", "c2-db1", "c2-db2")),
		      "the two clusters are not both OK with their lags known");
	snprintf(pw2, sizeof(pw2), "%s/secrets/app.pass", c2dir);
	ck_assert_int_eq(it_load_start(&l1, "fleet-sandbox", 2000), 0);
	ck_assert_int_eq(it_load_start_pw(&l2, "fleet-c2", 2000, it.write_port + C2_OFFSET, pw2), 0);

	a = it_connect(it.sock);
	b = it_connect(it.sock);
	ck_assert(a && b);
	ck_assert_int_eq(it_conn_request(a, "switchover", json_pack("{s:s, s:s, s:i, s:s}", "cluster", IT_CLUSTER, "to",
								     "db2", "drain_timeout_ms", 200, "pause_before", "fence")),
			 0);
	p = it_conn_progress_until(a, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "sandbox's switchover did not pause: %s", it_json_str(final));
	json_decref(p);
	/* c2's switchover runs while sandbox's is under way */
	ck_assert_int_eq(it_conn_request(b, "switchover", json_pack("{s:s, s:s, s:i}", "cluster", "c2", "to", "c2-db2",
								     "drain_timeout_ms", 200)),
			 0);
	rb = it_conn_reply(b, 60000, NULL);
	ck_assert_msg(rb && !strcmp(outcome_of(rb) ?: "", "done"), "c2's switchover beside sandbox's: %s", it_json_str(rb));
	it_note("c2's switchover done while sandbox's was paused: write_blocked %.1f ms",
		json_real_value(it_get(rb, "result.write_blocked_ms")));
	json_decref(rb);
	/* never two on one cluster */
	r = it_call("switchover", json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", "db3"), 10000);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "BUSY"), "a second switchover on sandbox: %s", it_json_str(r));
	it_note("a second switchover on sandbox: %s", it_get_str(r, "error.message"));
	json_decref(r);
	r = it_call("resume", json_pack("{s:s}", "cluster", IT_CLUSTER), 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "resume: %s", it_json_str(r));
	json_decref(r);
	final = it_conn_reply(a, 60000, NULL);
	ck_assert_msg(final && !strcmp(outcome_of(final) ?: "", "done"), "sandbox's switchover: %s", it_json_str(final));
	json_decref(final);
	it_conn_close(a);
	it_conn_close(b);
	ck_assert_msg(IT_WAIT_UNTIL(10000, cluster_ready(IT_CLUSTER, "db2", "db1") && cluster_ready("c2", "c2-db2", "c2-db1")),
		      "the clusters do not show their new primaries");
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_int_eq(it_read_only(2), 0);
	json_decref(it_load_stop(&l1));
	json_decref(it_load_stop(&l2));
	r = it_load_verify(&l1, 2, &vs);
	ck_assert_msg(r && vs == 0 && json_integer_value(json_object_get(r, "acked_missing")) == 0, "sandbox: %s",
		      it_json_str(r));
	it_note("sandbox: %lld acknowledged writes, 0 missing on db2", (long long)json_integer_value(json_object_get(r, "acked")));
	json_decref(r);
	r = it_load_verify_pw(&l2, c2_port(2), pw2, &vs);
	ck_assert_msg(r && vs == 0 && json_integer_value(json_object_get(r, "acked_missing")) == 0, "c2: %s", it_json_str(r));
	it_note("c2: %lld acknowledged writes, 0 missing on c2-db2", (long long)json_integer_value(json_object_get(r, "acked")));
	json_decref(r);
	c2_sandbox("stop");
	ck_assert(it_restore_baseline(true, "db2 is the primary now"));
}

static const struct it_case cases[] = {
	{ "two_clusters_at_once", two_clusters_at_once },
};

Suite *it_fleet_suite(void)
{
	static const struct it_suite_def def = { "fleet", cases, sizeof(cases) / sizeof(cases[0]) };
	return it_suite_build(&def);
}
