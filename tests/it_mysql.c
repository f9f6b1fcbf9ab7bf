/* The MySQL flavor against real MySQL 9.7 servers (issue 14): three mysqld from the Debian
 * unstable root that tests/roots.sh builds from Debian's archive (SANDBOX_FLAVOR=mysql), GTID
 * auto-position replication, super_read_only replicas, caching_sha2_password accounts, HAProxy
 * in front.
 *
 *   1. status and a dry run: every server up with its lag from the heartbeat, the flavor's
 *      preflight (gtid_mode, enforce_gtid_consistency, super_read_only, errant transactions);
 *   2. a transaction written on a replica (errant, by GTID set arithmetic) refuses the
 *      switchover to it;
 *   3. switchover under load, a persistent and a connection-per-request client, to db2 and back:
 *      no acknowledged write lost, the old primary replicates from the new one and is
 *      super_read_only;
 *   4. the fence survives a restart of the fenced server (SET PERSIST super_read_only = ON);
 *   5. failover after kill -9 of the primary with semi-synchronous replication (AFTER_SYNC):
 *      no acknowledged write lost;
 *   6. split-brain: a replica made writable by hand is fenced again (split_brain = fence);
 *   7. authentication: with server_public_key (the server's RSA key, no fetching) after the
 *      password cache is flushed; a key file that cannot be read is refused rather than fetched;
 *      TLS with tls_mode = verify_ca against an account that REQUIRE SSL (the chain checked:
 *      another CA is refused), verify_identity refused for a certificate of another name.
 *
 * The root is built (once, cached; about 30 s) when the suites are registered; when it cannot
 * be, the suite says SKIPPED loudly and the runner counts it, and with CUTOVER_REQUIRE_ROOTS=1
 * (CI) that fails instead. */
#include "it_lib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000
#define SUITE "mysql"

void it_mysql_add_suites(SRunner *sr);


static const char *check_msg(json_t *rep, const char *name, const char *result)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(rep, "checks"), i, c)
		if (!strcmp(it_get_str(c, "check") ?: "", name) && !strcmp(it_get_str(c, "result") ?: "", result))
			return it_get_str(c, "message");
	return NULL;
}

static int super_read_only(int server)
{
	return (int)it_sql_ll(server, -1, "SELECT @@global.super_read_only");
}

static void start_with(const char *cluster_extra, const char *extra)
{
	char *text = it_config_text_cluster(cluster_extra, extra);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd does not start with:\n%s\n%s", cluster_extra ?: "",
		      extra ?: "");
	free(text);
}

/* A switchover to `to` with a persistent and a per-request client writing through HAProxy. */
static void switch_with_clients(int from, int to)
{
	struct it_load l[2];
	static const char *const kinds[2] = { "persistent", "per-request" };
	json_t *r, *rep;
	int k, vstatus;

	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(to))), "%s's lag stays unknown", it_name_of(to));
	for (k = 0; k < 2; k++)
		ck_assert_int_eq(it_load_start_mode(&l[k], kinds[k], 2000, kinds[k]), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&l[0], from, from) >= 30 && it_load_rows(&l[1], from, from) >= 30),
		      "the loads do not reach %s", it_name_of(from));
	r = it_switchover(json_pack("{s:s}", "to", it_name_of(to)), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to %s: %s", it_name_of(to), it_json_str(r));
	for (k = 0; k < 2; k++)
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&l[k], to, to) >= 30), "the %s load does not reach %s",
			      kinds[k], it_name_of(to));
	for (k = 0; k < 2; k++) {
		json_t *sum = it_load_stop(&l[k]), *v = it_load_verify(&l[k], to, &vstatus);
		ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0,
			      "%s client: acknowledged writes missing on %s: %s", kinds[k], it_name_of(to), it_json_str(v));
		it_note("%s -> %s, %-11s client: window_ms %s longest_gap_ms %s errors %s; acked %lld missing %lld",
			it_name_of(from), it_name_of(to), kinds[k], it_json_str(json_object_get(sum, "window_ms")),
			it_json_str(json_object_get(sum, "longest_gap_ms")), it_json_str(json_object_get(sum, "errors")),
			(long long)json_integer_value(json_object_get(v, "acked")),
			(long long)json_integer_value(json_object_get(v, "acked_missing")));
		json_decref(sum);
		json_decref(v);
	}
	it_note("%s -> %s: write_blocked_ms %s, total_ms %s, fence point %s", it_name_of(from), it_name_of(to),
		it_json_str(json_object_get(rep, "write_blocked_ms")), it_json_str(json_object_get(rep, "total_ms")),
		it_get_str(rep, "fence_point"));
	ck_assert_int_eq(it_read_only(to), 0);
	ck_assert_int_eq(super_read_only(from), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_writer_is(it_name_of(to))), "HAProxy's writer is not %s", it_name_of(to));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(from, to)), "%s does not replicate from %s", it_name_of(from),
		      it_name_of(to));
	json_decref(r);
}

/* ------------------------------------------------------------------------------------------ */
/* cases */

/* 1. Status and a dry run on MySQL. */
static void status_and_dry_run(void)
{
	char *v = it_sql1(1, "SELECT @@version");
	json_t *st, *r, *rep;
	const char *m;
	int i;

	ck_assert_msg(v && !strncmp(v, "9.", 2), "db1 runs %s, not MySQL 9", v ?: "?");
	for (i = 2; i <= IT_SERVERS; i++)
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(i))), "%s's lag stays unknown", it_name_of(i));
	st = it_status();
	for (i = 1; i <= IT_SERVERS; i++) {
		json_t *s = it_server(st, it_name_of(i));
		ck_assert_msg(!strcmp(it_get_str(s, "state") ?: "", "up"), "%s: %s", it_name_of(i), it_json_str(s));
		ck_assert_msg(strstr(it_get_str(s, "version") ?: "", "9."), "%s: %s", it_name_of(i), it_json_str(s));
	}
	ck_assert_str_eq(it_get_str(st, "clusters.0.verdict") ?: "", "OK");
	ck_assert_str_eq(it_get_str(it_server(st, "db1"), "semi_sync") ?: "", "OFF");
	it_note("status on MySQL %s: %s", v, it_json_str(it_get(st, "clusters.0.servers")));
	json_decref(st);

	r = it_switchover(json_pack("{s:s, s:b}", "to", "db2", "dry_run", 1), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "dry_run"),
		      "dry run: %s", it_json_str(r));
	m = check_msg(rep, "gtid_consistent", "pass");
	ck_assert_msg(m && strstr(m, "gtid_mode"), "gtid_consistent: %s", m ?: it_json_str(rep));
	it_note("gtid_consistent: %s", m);
	m = check_msg(rep, "no_errant_transactions", "pass");
	ck_assert_msg(m != NULL, "no_errant_transactions: %s", it_json_str(rep));
	ck_assert_int_eq(super_read_only(2), 1);
	ck_assert_int_eq(it_read_only(1), 0);
	json_decref(r);
	free(v);
}

/* 2. A transaction written on db2 itself: errant by GTID set arithmetic; the switchover to it is
 *    refused and nothing changes. */
static void errant_refused(void)
{
	json_t *r, *rep;
	const char *m;
	char *uuid = it_sql1(2, "SELECT @@server_uuid");

	ck_assert_int_eq(it_sql_exec(2, "SET GLOBAL super_read_only = OFF"), 0);
	ck_assert_int_eq(it_sql_exec(2, "CREATE DATABASE errant_on_db2"), 0);
	ck_assert_int_eq(it_sql_exec(2, "SET GLOBAL super_read_only = ON"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	r = it_switchover(json_pack("{s:s}", "to", "db2"), SWITCH_TIMEOUT_MS, NULL);
	rep = it_report(r);
	m = check_msg(rep, "no_errant_transactions", "fail");
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "refused"),
		      "switchover to db2 with an errant transaction: %s", it_json_str(r));
	ck_assert_msg(m && uuid && strstr(m, uuid), "no_errant_transactions does not name db2's %s: %s", uuid ?: "?",
		      m ?: it_json_str(rep));
	it_note("refused: %s", m);
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(super_read_only(2), 1);
	json_decref(r);
	free(uuid);
	ck_assert(it_restore_baseline(true, "db2 holds an errant transaction"));
}

/* 3. Under load, to db2 and back. */
static void switchover_and_back(void)
{
	switch_with_clients(1, 2);
	switch_with_clients(2, 1);
}

/* 4. The fence survives a restart of the fenced server. */
static void fence_survives_restart(void)
{
	switch_with_clients(1, 2);
	ck_assert_int_eq(it_server_restart(1), 0);
	ck_assert_int_eq(super_read_only(1), 1);
	ck_assert_int_eq(it_read_only(1), 1);
	ck_assert_int_eq(it_writable_count(), 1);
	ck_assert_msg(IT_WAIT_UNTIL(20000, it_follows(1, 2)), "db1 does not replicate from db2 after its restart");
	it_note("db1 restarted: super_read_only %d, read_only %d, replicating from db2", super_read_only(1),
		it_read_only(1));
	switch_with_clients(2, 1);
}

/* Semi-synchronous replication, AFTER_SYNC: a commit is acknowledged once a replica has it. */
static void semisync_on(void)
{
	int i;
	ck_assert_msg(it_sql_exec(1, "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'") == 0 ||
			      strstr(it_sql_error(), "already exists"), "semisync_source: %s", it_sql_error());
	for (i = 2; i <= IT_SERVERS; i++) {
		/* INSTALL PLUGIN is not binlogged: no errant transaction on the replica */
		ck_assert_int_eq(it_sql_exec(i, "SET GLOBAL super_read_only = OFF"), 0);
		ck_assert_msg(it_sql_exec(i, "INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'") == 0 ||
				      strstr(it_sql_error(), "already exists"), "semisync_replica on db%d: %s", i, it_sql_error());
		ck_assert_int_eq(it_sql_exec(i, "SET GLOBAL super_read_only = ON"), 0);
		ck_assert_int_eq(it_sql_exec(i, "SET GLOBAL rpl_semi_sync_replica_enabled = ON"), 0);
		ck_assert_int_eq(it_sql_exec(i, "STOP REPLICA IO_THREAD"), 0);
		ck_assert_int_eq(it_sql_exec(i, "START REPLICA IO_THREAD"), 0);
	}
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_SYNC"), 0);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL rpl_semi_sync_source_timeout = 100000"), 0);
	ck_assert_int_eq(it_sql_exec(1, "SET GLOBAL rpl_semi_sync_source_enabled = ON"), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_sql_ll(1, 0, "SELECT VARIABLE_VALUE FROM performance_schema.global_status "
						  "WHERE VARIABLE_NAME = 'Rpl_semi_sync_source_clients'") == 2),
		      "the replicas do not connect as semi-sync clients");
}

/* 5. kill -9 of the primary under load, semi-sync: the failover loses nothing acknowledged. */
static void failover_after_kill9(void)
{
	struct it_load load;
	json_t *r, *rep, *sum, *v;
	int x, y, vstatus;

	semisync_on();
	ck_assert_msg(IT_WAIT_UNTIL(5000, ({ json_t *s2 = it_status(); bool on = !strcmp(it_get_str(it_server(s2, "db1"),
		"semi_sync") ?: "", "AFTER_SYNC"); json_decref(s2); on; })), "status does not show db1's semi-sync AFTER_SYNC");
	ck_assert_int_eq(it_load_start(&load, "mysqlkill", 2000), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, 1, 1) >= 100), "the load does not reach db1");
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	it_sleep_ms(500);
	r = it_call("failover", json_pack("{s:b}", "assume_fenced", 1), 60000);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
		      "failover: %s", it_json_str(r));
	{
		const char *m = check_msg(rep, "semi_sync", "pass");
		ck_assert_msg(m && strstr(m, "AFTER_SYNC") && strstr(m, "every write it acknowledged"), "semi_sync: %s",
			      m ?: it_json_str(rep));
		it_note("semi_sync: %s", m);
	}
	x = !strcmp(it_get_str(rep, "new_primary") ?: "", "db2") ? 2 : 3;
	y = x == 2 ? 3 : 2;
	ck_assert_int_eq(it_read_only(x), 0);
	ck_assert_int_eq(super_read_only(y), 1);
	ck_assert_msg(IT_WAIT_UNTIL(5000, it_writer_is(it_name_of(x))), "HAProxy's writer is not %s", it_name_of(x));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(y, x)), "%s does not follow %s", it_name_of(y), it_name_of(x));
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_load_rows(&load, x, x) >= 50), "the load does not reach %s", it_name_of(x));
	sum = it_load_stop(&load);
	v = it_load_verify(&load, x, &vstatus);
	ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0,
		      "acknowledged writes missing on %s after the failover: %s", it_name_of(x), it_json_str(v));
	it_note("failover to %s: write_blocked_ms %s; load: window_ms %s errors %s; acked %lld missing 0",
		it_name_of(x), it_json_str(json_object_get(rep, "write_blocked_ms")),
		it_json_str(json_object_get(sum, "window_ms")), it_json_str(json_object_get(sum, "errors")),
		(long long)json_integer_value(json_object_get(v, "acked")));
	json_decref(r);
	json_decref(sum);
	json_decref(v);
	ck_assert(it_restore_baseline(true, "db1 was killed"));
}

/* 6. A replica made writable by hand is fenced again. */
static void split_brain_fenced(void)
{
	int64_t t0;

	start_with("split_brain = fence\n", NULL);
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db3")), "db3's lag stays unknown");
	ck_assert_int_eq(it_sql_exec(3, "SET GLOBAL super_read_only = OFF"), 0);
	ck_assert_int_eq(it_sql_exec(3, "SET GLOBAL read_only = OFF"), 0);
	t0 = it_now_ms();
	ck_assert_msg(IT_WAIT_UNTIL(10000, super_read_only(3) == 1), "db3 was not fenced again");
	ck_assert_int_eq(it_read_only(1), 0);
	ck_assert_int_eq(it_writable_count(), 1);
	it_note("db3 made writable by hand: fenced again (super_read_only) %lld ms later", (long long)(it_now_ms() - t0));
	{
		/* raised, then cleared once db3 was fenced again */
		json_t *st = it_status();
		ck_assert_msg(it_alarm_in(st, "split_brain", NULL, NULL) != NULL, "no split_brain alarm: %s",
			      it_json_str(it_get(st, "clusters.0.alarms")));
		json_decref(st);
	}
	ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd does not restart with the base config");
}

static char *datadir_file(int server, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/db%d/data/%s", it.dir, server, name) < 0)
		ck_abort_msg("asprintf");
	return p;
}

/* The base config with `add[N]` after the `user` line of [server dbN]. */
static char *config_with_server_keys(const char *const add[IT_SERVERS + 1])
{
	char *base = it_config_text(NULL), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *p = base;
	int cur = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p + 1) : strlen(p);
		int srv;
		fwrite(p, 1, n, f);
		if (sscanf(p, "[server db%d]", &srv) == 1)
			cur = srv;
		else if (*p == '[')
			cur = 0;
		if (cur >= 1 && cur <= IT_SERVERS && !strncmp(p, "user = ", 7) && add[cur])
			fprintf(f, "%s\n", add[cur]);
		p += n;
	}
	fclose(f);
	free(base);
	return out;
}

static bool server_state(const char *name, const char *want, char *err, size_t len)
{
	json_t *st = it_status(), *s = it_server(st, name);
	bool ok = !strcmp(it_get_str(s, "state") ?: "", want);
	snprintf(err, len, "%s", it_get_str(s, "last_error") ?: "");
	json_decref(st);
	return ok;
}

/* SQL as root on the server's socket (no password, as initialized): unlike it_sql_exec, it does
 * not log in as cutoverd, so it leaves cutoverd's password out of the server's cache. */
static void root_sql(int server, const char *sql)
{
	char sock[400], *out = NULL;
	const char *argv[] = { "/usr/bin/mariadb", "--no-defaults", sock, "-uroot", "-N", "-e", sql, NULL };
	int rc;

	snprintf(sock, sizeof(sock), "--socket=%s/db%d/mysqld.sock", it.dir, server);
	rc = it_run(argv, true, &out, 15000);
	ck_assert_msg(rc == 0, "db%d as root: %s: %s", server, sql, out ?: "");
	free(out);
}

/* cutoverd with add[] in the server sections, started after every server's password cache was
 * emptied (FLUSH PRIVILEGES): its first logins take the full caching_sha2_password exchange. */
static void restart_flushed(const char *const add[IT_SERVERS + 1])
{
	char *text = config_with_server_keys(add);
	int i;

	it_daemon_stop();
	for (i = 1; i <= IT_SERVERS; i++)
		root_sql(i, "FLUSH PRIVILEGES");
	ck_assert_int_eq(it_config_write(text), 0);
	free(text);
	ck_assert_msg(it_daemon_start() == 0, "cutoverd does not start");
}

static char *key_copy(int server, const char *as)
{
	char *src = datadir_file(server, "public_key.pem"), *body = NULL, *path = NULL;
	size_t len = 0;
	FILE *f = fopen(src, "r");

	ck_assert_msg(f, "%s: no RSA public key", src);
	ck_assert(getdelim(&body, &len, '\0', f) > 0);
	fclose(f);
	ck_assert(asprintf(&path, "%s/secrets/%s", it.dir, as) > 0);
	ck_assert_int_eq(it_write_file(path, body, 0600), 0);
	free(body);
	free(src);
	return path;
}

/* An RSA public key no server has (the sandbox's servers share one: their datadirs are copies). */
static char *other_key(void)
{
	char *priv = NULL, *pub = NULL, *out = NULL;
	int rc;

	ck_assert(asprintf(&priv, "%s/secrets/other_private.pem", it.dir) > 0);
	ck_assert(asprintf(&pub, "%s/secrets/other_public.pem", it.dir) > 0);
	{
		const char *gen[] = { "/usr/bin/openssl", "genrsa", "-out", priv, "2048", NULL };
		const char *exp[] = { "/usr/bin/openssl", "rsa", "-in", priv, "-pubout", "-out", pub, NULL };
		rc = it_run(gen, true, &out, 30000);
		ck_assert_msg(rc == 0, "openssl genrsa: %s", out ?: "");
		free(out);
		out = NULL;
		rc = it_run(exp, true, &out, 30000);
		ck_assert_msg(rc == 0, "openssl rsa -pubout: %s", out ?: "");
		free(out);
	}
	free(priv);
	return pub;
}

/* A self-signed CA certificate that signed nothing the servers have. */
static char *other_cert(void)
{
	char *key = NULL, *crt = NULL, *out = NULL;
	int rc;

	ck_assert(asprintf(&key, "%s/secrets/other_ca.key", it.dir) > 0);
	ck_assert(asprintf(&crt, "%s/secrets/other_ca.pem", it.dir) > 0);
	{
		const char *argv[] = { "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
				       "-out", crt, "-days", "2", "-subj", "/CN=cutoverd test other CA", NULL };
		rc = it_run(argv, true, &out, 30000);
		ck_assert_msg(rc == 0, "openssl req: %s", out ?: "");
		free(out);
	}
	free(key);
	return crt;
}

/* 7. caching_sha2_password: the server's key given, not fetched; TLS verified as told.  (A
 *    method the client cannot speak is in it_upgrade.c: MariaDB 11.8's PARSEC.) */
static void authentication(void)
{
	const char *add[IT_SERVERS + 1] = { NULL };
	char *k2 = key_copy(2, "db2-public_key.pem"), *k3 = other_key(), *line = NULL;
	char err[600] = "", *ca = datadir_file(2, "ca.pem"), *other_ca;
	json_t *st;

	/* db2's own key: up, through the full exchange */
	ck_assert(asprintf(&line, "server_public_key = %s", k2) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_state("db2", "up", err, sizeof(err))), "db2 with its key: %s", err);
	free(line);

	/* another key for db2: the file is what is used (fetching would have worked), so the login fails */
	ck_assert(asprintf(&line, "server_public_key = %s", k3) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(15000, !server_state("db2", "up", err, sizeof(err)) && *err),
		      "db2 with another key is up: the key was not used");
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_state("db3", "up", err, sizeof(err))), "db3 is not up: %s", err);
	st = it_status();
	it_note("db2 with another RSA key: %s", it_get_str(it_server(st, "db2"), "last_error"));
	json_decref(st);
	free(line);

	/* a key file that cannot be read: refused, not fetched from the server */
	ck_assert(asprintf(&line, "server_public_key = %s", k2) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_state("db2", "up", err, sizeof(err))), "db2 with its key: %s", err);
	ck_assert_int_eq(unlink(k2), 0);
	ck_assert_int_eq(it_sandbox("restart", "2", NULL), 0);   /* an empty cache, and every connection logs in again */
	ck_assert_msg(IT_WAIT_UNTIL(15000, !server_state("db2", "up", err, sizeof(err)) &&
					      strstr(err, "cannot be read") && strstr(err, "not asking the server")),
		      "db2 without its key file: %s", err);
	it_note("db2's key file removed: %s", err);
	free(line);

	/* TLS, verified against the server's CA, for an account that requires it */
	root_sql(2, "SET GLOBAL super_read_only = OFF; SET sql_log_bin = 0; ALTER USER 'cutoverd'@'127.0.0.1' REQUIRE SSL; "
		    "SET GLOBAL super_read_only = ON");
	add[2] = NULL;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(15000, !server_state("db2", "up", err, sizeof(err)) && *err),
		      "db2 is up without TLS for an account that REQUIRE SSL");
	it_note("db2 REQUIRE SSL, no TLS: %s", err);
	ck_assert(asprintf(&line, "tls_mode = verify_ca\ntls_ca = %s", ca) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(10000, server_state("db2", "up", err, sizeof(err))), "db2 over TLS: %s", err);
	free(line);
	/* verify_ca checks the chain: another CA is refused */
	other_ca = other_cert();
	ck_assert(asprintf(&line, "tls_mode = verify_ca\ntls_ca = %s", other_ca) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(15000, !server_state("db2", "up", err, sizeof(err)) && *err),
		      "db2 verified against a CA that did not sign its certificate");
	it_note("verify_ca with another CA: %s", err);
	free(line);
	/* verify_identity checks the name too: the auto-generated certificate does not name 127.0.0.1 */
	ck_assert(asprintf(&line, "tls_mode = verify_identity\ntls_ca = %s", ca) > 0);
	add[2] = line;
	restart_flushed(add);
	ck_assert_msg(IT_WAIT_UNTIL(15000, !server_state("db2", "up", err, sizeof(err)) && *err),
		      "db2 passed verify_identity with a certificate for another name");
	it_note("verify_identity, certificate for another name: %s", err);
	free(line);

	free(k2);
	free(k3);
	free(ca);
	free(other_ca);
	ck_assert(it_restore_baseline(true, "accounts and keys changed"));
}

static const struct it_case cases[] = {
	{ "status_and_dry_run", status_and_dry_run },
	{ "errant_refused", errant_refused },
	{ "switchover_and_back", switchover_and_back },
	{ "fence_survives_restart", fence_survives_restart },
	{ "failover_after_kill9", failover_after_kill9 },
	{ "split_brain_fenced", split_brain_fenced },
	{ "authentication", authentication },
};

void it_mysql_add_suites(SRunner *sr)
{
	static const struct it_suite_def def = { SUITE, cases, sizeof(cases) / sizeof(cases[0]) };

	it_add_root_suite(sr, &def, "sid", "Debian unstable with MySQL 9.7", "SANDBOX_FLAVOR=mysql");
}
