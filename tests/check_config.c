/* Unit tests for config.c: parsing, every error class with its line and key, cross-section
 * checks, secrets, hook path checks and router name maps.  Temporary files live in a directory
 * made per test and removed afterwards. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "proto.h"
#include "util.h"

Suite *config_suite(void);

#define NAME "test.conf"

static char tmpdir[64];
static char *created[64];          /* owned paths, removed in teardown (in reverse) */
static size_t n_created;
static struct cfg_errors errs;
static struct config *cfg;

static void setup(void);
static void teardown(void);
static char *lines(const char *first, ...);
static struct config *load(const char *text);
static bool has_error(int line, const char *key, const char *text);
static const char *all_errors(void);

/* ---- fixture and helpers ---- */

static void setup(void)
{
	strlcpy_(tmpdir, "/tmp/check_config.XXXXXX", sizeof(tmpdir));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	n_created = 0;
	memset(&errs, 0, sizeof(errs));
	cfg = NULL;
}

static void teardown(void)
{
	while (n_created > 0) {
		char *p = created[--n_created];
		if (remove(p) < 0 && errno != ENOENT)
			fprintf(stderr, "check_config: cannot remove %s: %s\n", p, strerror(errno));
		free(p);
	}
	rmdir(tmpdir);
	config_free(cfg);
	cfg = NULL;
	cfg_errors_free(&errs);
}

static const char *track(char *path)
{
	ck_assert_uint_lt(n_created, sizeof(created) / sizeof(created[0]));
	created[n_created++] = path;
	return path;
}

/* A file in the test directory with exactly this content and mode. */
static const char *make_file(const char *name, const char *content, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
	fputs(content, f);
	ck_assert_int_eq(fchmod(fileno(f), mode), 0);
	ck_assert_int_eq(fclose(f), 0);
	return track(path);
}

static const char *make_dir(const char *name, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	return track(path);
}

static const char *make_hook(const char *name, mode_t mode)
{
	return make_file(name, "#!/bin/sh\nexit 0\n", mode);
}

/* A config file made with mkstemp in the test directory. */
static const char *make_config(const char *text, mode_t mode)
{
	char *path = xasprintf("%s/cfg.XXXXXX", tmpdir);
	int fd = mkstemp(path);
	size_t len = strlen(text);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
	return track(path);
}

/* Join lines with "\n" so that a test can count them: the Nth argument is line N. */
static char *lines(const char *first, ...)
{
	char *out = xstrdup(""), *next;
	const char *l;
	va_list ap;

	va_start(ap, first);
	for (l = first; l; l = va_arg(ap, const char *)) {
		next = xasprintf("%s%s\n", out, l);
		free(out);
		out = next;
	}
	va_end(ap);
	return out;
}

static struct config *load(const char *text)
{
	config_free(cfg);
	cfg_errors_free(&errs);
	cfg = config_load_string(text, NAME, &errs);
	return cfg;
}

/* Load lines(...) and free the text. */
static struct config *load_owned(char *text)
{
	load(text);
	free(text);
	return cfg;
}

static const char *all_errors(void)
{
	static char buf[16384];
	char one[1024];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < errs.n && off < sizeof(buf); i++) {
		cfg_error_format(NAME, &errs.v[i], one, sizeof(one));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "\n  %s", one);
	}
	return errs.n ? buf : " (none)";
}

/* Is there an error that formats as "test.conf:LINE: KEY: ..." and contains text? */
static bool has_error(int line, const char *key, const char *text)
{
	char want[256], one[1024];
	size_t i;

	if (line > 0 && key)
		snprintf(want, sizeof(want), "%s:%d: %s: ", NAME, line, key);
	else if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: ", NAME, line);
	else
		snprintf(want, sizeof(want), "%s: ", NAME);
	for (i = 0; i < errs.n; i++) {
		cfg_error_format(NAME, &errs.v[i], one, sizeof(one));
		if (!strncmp(one, want, strlen(want)) && strstr(one + strlen(want), text))
			return true;
	}
	return false;
}

#define ck_error(line, key, text) \
	ck_assert_msg(has_error(line, key, text), "expected %s:%d: %s: …%s…; got:%s", NAME, line, \
		      key ? key : "", text, all_errors())
#define ck_clean() ck_assert_msg(cfg != NULL && errs.n == 0, "expected no errors; got:%s", \
				 all_errors())

#define SERVER "[server db1]", "user = u"

/* ---- config_load_string ---- */

START_TEST(test_full_valid)
{
	const char *hook = make_hook("stonith", 0755);
	const char *fence = make_hook("fence", 0700);
	const char *pre = make_hook("preflight", 0755);
	const char *ca = make_file("ca.pem", "x\n", 0644);
	const char *cert = make_file("cert.pem", "x\n", 0644);
	const char *key = make_file("key.pem", "x\n", 0600);
	const char *pw = make_file("db.pass", "dbsecret\n", 0600);
	const struct cfg_cluster *cl;
	const struct cfg_server *s;
	const struct cfg_router *r;
	char *text;

	setenv("CHECK_CONFIG_REPL", "replsecret", 1);
	text = xasprintf(
		"[cutoverd]\n"
		"socket = /tmp/cutoverd-test.sock\n"
		"socket_group = root\n"
		"socket_mode = 0640\n"
		"admin_users = root, 1001\n"
		"admin_groups = root, 2000\n"
		"poll_interval = 500ms\n"
		"connect_timeout = 2s\n"
		"query_timeout = 1.5s\n"
		"state_dir = /tmp/state\n"
		"log_level = debug\n"
		"max_clients = 10\n"
		"idle_timeout = 3m\n"
		"[cluster main]\n"
		"lag_warn = 700ms\n"
		"hysteresis = 3\n"
		"heartbeat = no\n"
		"heartbeat_table = ops.hb$1\n"
		"repl_user = repl\n"
		"repl_password_env = CHECK_CONFIG_REPL\n"
		"max_lag = 2s\n"
		"catchup_lag = 50\n"
		"catchup_timeout = 30s\n"
		"drain_timeout = 3s\n"
		"fence_timeout = 4s\n"
		"sync_timeout = 6s\n"
		"promote_timeout = 7s\n"
		"reverse_replication = no\n"
		"kill_sessions = off\n"
		"preflight_hook = %s --cluster main\n"
		"preflight_hook = %s second\n"
		"split_brain = stonith\n"
		"[server db1]\n"
		"cluster = main\n"
		"host = 10.0.0.1\n"
		"port = 3307\n"
		"user = cutoverd\n"
		"password_file = %s\n"
		"tls_mode = verify_identity\n"
		"tls_ca = %s\n"
		"tls_cert = %s\n"
		"tls_key = %s\n"
		"candidate = prefer\n"
		"flavor = mariadb\n"
		"stonith_hook = %s db1\n"
		"fence_hook = %s db1\n"
		"[server db2]\n"
		"socket = /run/mysqld/db2.sock\n"
		"user = cutoverd\n"
		"password = inline-ok-in-strings\n"
		"candidate = never\n"
		"flavor = mysql\n"
		"stonith_hook = %s db2\n"
		"[router px]\n"
		"type = proxysql\n"
		"address = [::1]:6032\n"
		"user = radmin\n"
		"password_env = CHECK_CONFIG_REPL\n"
		"writer_hostgroup = 10\n"
		"reader_hostgroup = 20\n"
		"timeout = 3s\n"
		"write_endpoint = 10.0.0.100:6033\n"
		"[router ex]\n"
		"type = exec\n"
		"exec_status = %s status\n"
		"exec_promote = %s promote\n",
		pre, pre, pw, ca, cert, key, hook, fence, hook, pre, pre);
	load(text);
	free(text);
	unsetenv("CHECK_CONFIG_REPL");
	ck_clean();

	ck_assert_str_eq(cfg->path, NAME);
	ck_assert_str_eq(cfg->socket_path, "/tmp/cutoverd-test.sock");
	ck_assert_str_eq(cfg->socket_group, "root");
	ck_assert_uint_eq(cfg->socket_gid, 0);
	ck_assert_uint_eq(cfg->socket_mode, 0640);
	ck_assert_uint_eq(cfg->n_admin_uids, 2);
	ck_assert_uint_eq(cfg->admin_uids[0], 0);
	ck_assert_uint_eq(cfg->admin_uids[1], 1001);
	ck_assert_uint_eq(cfg->n_admin_gids, 2);
	ck_assert_uint_eq(cfg->admin_gids[0], 0);
	ck_assert_uint_eq(cfg->admin_gids[1], 2000);
	ck_assert_int_eq(cfg->poll_interval_ms, 500);
	ck_assert_int_eq(cfg->connect_timeout_ms, 2000);
	ck_assert_int_eq(cfg->query_timeout_ms, 1500);
	ck_assert_str_eq(cfg->state_dir, "/tmp/state");
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_int_eq(cfg->max_clients, 10);
	ck_assert_int_eq(cfg->idle_timeout_ms, 180000);

	ck_assert_uint_eq(cfg->n_clusters, 1);
	cl = config_cluster(cfg, "main");
	ck_assert_ptr_nonnull(cl);
	ck_assert_int_eq(cl->lag_warn_ms, 700);
	ck_assert_int_eq(cl->hysteresis, 3);
	ck_assert(!cl->heartbeat);
	ck_assert_str_eq(cl->heartbeat_table, "ops.hb$1");
	ck_assert_str_eq(cl->repl_user, "repl");
	ck_assert_str_eq(cl->repl_secret.env, "CHECK_CONFIG_REPL");
	ck_assert_str_eq(cl->repl_secret.password, "replsecret");
	ck_assert_int_eq(cl->max_lag_ms, 2000);
	ck_assert_int_eq(cl->catchup_lag_ms, 50);
	ck_assert_int_eq(cl->catchup_timeout_ms, 30000);
	ck_assert_int_eq(cl->drain_timeout_ms, 3000);
	ck_assert_int_eq(cl->fence_timeout_ms, 4000);
	ck_assert_int_eq(cl->sync_timeout_ms, 6000);
	ck_assert_int_eq(cl->promote_timeout_ms, 7000);
	ck_assert(!cl->reverse_replication);
	ck_assert(!cl->kill_sessions);
	ck_assert_ptr_nonnull(cl->preflight_hooks);
	text = xasprintf("%s --cluster main", pre);
	ck_assert_str_eq(cl->preflight_hooks[0], text);
	free(text);
	text = xasprintf("%s second", pre);
	ck_assert_str_eq(cl->preflight_hooks[1], text);
	free(text);
	ck_assert_ptr_null(cl->preflight_hooks[2]);
	ck_assert_int_eq(cl->splitbrain, SB_STONITH);

	ck_assert_uint_eq(cfg->n_servers, 2);
	s = config_server(cfg, "db1");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->cluster, "main");
	ck_assert_str_eq(s->host, "10.0.0.1");
	ck_assert_int_eq(s->port, 3307);
	ck_assert_ptr_null(s->socket);
	ck_assert_str_eq(s->user, "cutoverd");
	ck_assert_str_eq(s->secret.file, pw);
	ck_assert_str_eq(s->secret.password, "dbsecret");
	ck_assert(!s->secret.inline_set);
	ck_assert_int_eq(s->tls_mode, TLS_VERIFY_IDENTITY);
	ck_assert_str_eq(s->tls_ca, ca);
	ck_assert_str_eq(s->tls_cert, cert);
	ck_assert_str_eq(s->tls_key, key);
	ck_assert_int_eq(s->candidate, CAND_PREFER);
	ck_assert_int_eq(s->flavor, FLAVOR_HINT_MARIADB);
	text = xasprintf("%s db1", hook);
	ck_assert_str_eq(s->stonith_hook, text);
	free(text);
	text = xasprintf("%s db1", fence);
	ck_assert_str_eq(s->fence_hook, text);
	free(text);
	ck_assert_int_eq(s->line, 33);

	s = config_server(cfg, "db2");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(s->host);
	ck_assert_int_eq(s->port, 0);
	ck_assert_str_eq(s->socket, "/run/mysqld/db2.sock");
	ck_assert(s->secret.inline_set);
	ck_assert_str_eq(s->secret.password, "inline-ok-in-strings");
	ck_assert_int_eq(s->candidate, CAND_NEVER);
	ck_assert_int_eq(s->flavor, FLAVOR_HINT_MYSQL);

	ck_assert_uint_eq(cfg->n_routers, 2);
	r = &cfg->routers[0];
	ck_assert_str_eq(r->name, "px");
	ck_assert_str_eq(r->cluster, "main");
	ck_assert_int_eq(r->type, ROUTER_PROXYSQL);
	ck_assert_str_eq(r->address, "[::1]:6032");
	ck_assert_str_eq(r->user, "radmin");
	ck_assert_str_eq(r->secret.password, "replsecret");
	ck_assert_int_eq(r->writer_hostgroup, 10);
	ck_assert_int_eq(r->reader_hostgroup, 20);
	ck_assert_int_eq(r->timeout_ms, 3000);
	ck_assert_str_eq(r->write_endpoint, "10.0.0.100:6033");
	ck_assert_uint_eq(r->n_map, 2);
	r = &cfg->routers[1];
	ck_assert_int_eq(r->type, ROUTER_EXEC);
	text = xasprintf("%s status", pre);
	ck_assert_str_eq(r->exec_cmd[0], text);
	free(text);
	ck_assert_ptr_null(r->exec_cmd[1]);
	text = xasprintf("%s promote", pre);
	ck_assert_str_eq(r->exec_cmd[2], text);
	free(text);
	ck_assert_ptr_null(r->exec_cmd[3]);
	ck_assert_ptr_null(r->exec_cmd[4]);
	ck_assert_int_eq(r->timeout_ms, 2000);
	ck_assert_ptr_null(r->write_endpoint);
	ck_assert_uint_eq(r->n_map, 2);
	ck_assert_str_eq(config_router_name(r, config_server(cfg, "db2")), "db2");
}
END_TEST

START_TEST(test_defaults)
{
	const struct cfg_cluster *cl;
	const struct cfg_server *s;

	load_owned(lines(SERVER, NULL));
	ck_clean();
	ck_assert_str_eq(cfg->socket_path, DEFAULT_SOCKET_PATH);
	ck_assert_ptr_null(cfg->socket_group);
	ck_assert_uint_eq(cfg->socket_gid, (gid_t)-1);
	ck_assert_uint_eq(cfg->socket_mode, 0660);
	ck_assert_uint_eq(cfg->n_admin_uids, 0);
	ck_assert_uint_eq(cfg->n_admin_gids, 0);
	ck_assert_int_eq(cfg->poll_interval_ms, 1000);
	ck_assert_int_eq(cfg->connect_timeout_ms, 1000);
	ck_assert_int_eq(cfg->query_timeout_ms, 1000);
	ck_assert_str_eq(cfg->state_dir, "/var/lib/cutoverd");
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_int_eq(cfg->max_clients, 64);
	ck_assert_int_eq(cfg->idle_timeout_ms, 300000);

	s = config_server(cfg, "db1");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->cluster, "main");
	ck_assert_str_eq(s->host, "127.0.0.1");
	ck_assert_int_eq(s->port, 3306);
	ck_assert_ptr_null(s->socket);
	ck_assert_ptr_null(s->secret.password);
	ck_assert_int_eq(s->tls_mode, TLS_DISABLED);
	ck_assert_int_eq(s->candidate, CAND_ALLOW);
	ck_assert_int_eq(s->flavor, FLAVOR_HINT_AUTO);
	ck_assert_ptr_null(s->stonith_hook);
	ck_assert_ptr_null(s->fence_hook);

	/* The cluster named only by the server exists, with every default. */
	ck_assert_uint_eq(cfg->n_clusters, 1);
	cl = config_cluster(cfg, "main");
	ck_assert_ptr_nonnull(cl);
	ck_assert_int_eq(cl->lag_warn_ms, 1000);
	ck_assert_int_eq(cl->hysteresis, 2);
	ck_assert(cl->heartbeat);
	ck_assert_str_eq(cl->heartbeat_table, "cutoverd.heartbeat");
	ck_assert_ptr_null(cl->repl_user);
	ck_assert_int_eq(cl->max_lag_ms, 1000);
	ck_assert_int_eq(cl->catchup_lag_ms, 20);
	ck_assert_int_eq(cl->catchup_timeout_ms, 60000);
	ck_assert_int_eq(cl->drain_timeout_ms, 2000);
	ck_assert_int_eq(cl->fence_timeout_ms, 2000);
	ck_assert_int_eq(cl->sync_timeout_ms, 5000);
	ck_assert_int_eq(cl->promote_timeout_ms, 5000);
	/* a pause: ten minutes before the fence, where nothing is blocked; 30 s past it */
	ck_assert_int_eq(cl->pause_timeout_ms, 600000);
	ck_assert_int_eq(cl->blocked_pause_timeout_ms, 30000);
	ck_assert(cl->reverse_replication);
	ck_assert(cl->kill_sessions);
	ck_assert_ptr_null(cl->preflight_hooks);
	ck_assert_int_eq(cl->splitbrain, SB_ALERT);
	ck_assert_uint_eq(cfg->n_routers, 0);
	/* the data check: on for upgrades only; the watch: off */
	ck_assert_int_eq(cl->data_check, DATA_CHECK_AUTO);
	ck_assert_ptr_null(cl->data_check_tables);
	ck_assert_int_eq(cl->data_check_chunk_rows, 5000);
	ck_assert_int_eq(cl->data_check_rate, 0);
	ck_assert_int_eq(cl->data_check_timeout_ms, 30 * 60000);
	ck_assert_int_eq(cl->watch_ms, 0);
	ck_assert(cl->watch_error_rate > 0.00999 && cl->watch_error_rate < 0.01001);
	ck_assert_int_eq(cl->watch_p95_ms, 500);
	ck_assert_int_eq(cl->watch_failed_per_min, 10);
	ck_assert_int_eq(cl->watch_action, WATCH_ALARM);
}
END_TEST

/* The data check's and the watch's keys: values, lists, shares, and what is refused. */
START_TEST(test_data_check_and_watch)
{
	const struct cfg_cluster *cl;

	load_owned(lines("[cluster main]", "data_check = on", "data_check_tables = shop.orders, billing.*, crm",
			 "data_check_chunk_rows = 1000", "data_check_rate = 50000", "data_check_timeout = 10m",
			 "watch = 24h", "watch_error_rate = 0.5%", "watch_p95 = 250ms", "watch_failed_per_min = 3",
			 "watch_action = reverse", SERVER, NULL));
	ck_clean();
	cl = config_cluster(cfg, "main");
	ck_assert_int_eq(cl->data_check, DATA_CHECK_ON);
	ck_assert_str_eq(cl->data_check_tables[0], "shop.orders");
	ck_assert_str_eq(cl->data_check_tables[1], "billing.*");
	ck_assert_str_eq(cl->data_check_tables[2], "crm");
	ck_assert_ptr_null(cl->data_check_tables[3]);
	ck_assert_int_eq(cl->data_check_chunk_rows, 1000);
	ck_assert_int_eq(cl->data_check_rate, 50000);
	ck_assert_int_eq(cl->data_check_timeout_ms, 600000);
	ck_assert_int_eq(cl->watch_ms, 24 * 3600 * 1000);
	ck_assert(cl->watch_error_rate > 0.00499 && cl->watch_error_rate < 0.00501);
	ck_assert_int_eq(cl->watch_p95_ms, 250);
	ck_assert_int_eq(cl->watch_failed_per_min, 3);
	ck_assert_int_eq(cl->watch_action, WATCH_REVERSE);
	ck_assert_str_eq(data_check_name(cl->data_check), "on");
	ck_assert_str_eq(watch_action_name(cl->watch_action), "reverse");

	/* a share without '%' is a fraction */
	load_owned(lines("[cluster main]", "watch_error_rate = 0.02", SERVER, NULL));
	ck_clean();
	ck_assert(config_cluster(cfg, "main")->watch_error_rate > 0.0199 &&
		  config_cluster(cfg, "main")->watch_error_rate < 0.0201);

	load_owned(lines("[cluster main]",                          /* 1 */
			 "data_check = sometimes",                   /* 2 */
			 "data_check_tables = shop.orders, bad name", /* 3 */
			 "data_check_chunk_rows = 1",                /* 4 */
			 "watch_error_rate = 150%",                  /* 5 */
			 "watch_action = panic",                     /* 6 */
			 "watch = 30d",                              /* 7 */
			 SERVER, NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "data_check", "'sometimes' is not valid (auto, on or off)");
	ck_error(3, "data_check_tables", "'bad name' is not SCHEMA.TABLE, SCHEMA.* or SCHEMA");
	ck_error(4, "data_check_chunk_rows", "");
	ck_error(5, "watch_error_rate", "'150%' is not a share between 0% and 100%");
	ck_error(6, "watch_action", "'panic' is not valid (alarm or reverse)");
	ck_error(7, "watch", "");
	load_owned(lines("[cluster main]", "watch_error_rate = x", SERVER, NULL));
	ck_error(2, "watch_error_rate", "'x' is not a share");
	load_owned(lines("[cluster main]", "data_check_tables = a.b,", SERVER, NULL));
	ck_error(2, "data_check_tables", "empty item");
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		const char *text;
		int ms;
	} ok[] = {
		{ "250ms", 250 }, { "2s", 2000 }, { "1.5s", 1500 }, { "1500", 1500 },
		{ "100", 100 }, { "1m", 60000 }, { "60s", 60000 }, { "0.25s", 250 },
	};
	static const char *bad[] = { "5x", "2 s", "-1s", "nan", "1e3", "0x10", ".5s", "1.s", "s" };
	size_t i;
	char *t;

	for (i = 0; i < ARRAY_LEN(ok); i++) {
		t = xasprintf("[cutoverd]\npoll_interval = %s\n[server db1]\nuser = u\n", ok[i].text);
		load(t);
		free(t);
		ck_clean();
		ck_assert_msg(cfg->poll_interval_ms == ok[i].ms, "%s: got %d ms", ok[i].text,
			      cfg->poll_interval_ms);
	}
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		t = xasprintf("[cutoverd]\npoll_interval = %s\n[server db1]\nuser = u\n", bad[i]);
		load(t);
		free(t);
		ck_assert_ptr_null(cfg);
		ck_error(2, "poll_interval", "is not a duration (e.g. 250ms, 2s; between 100ms and 60s)");
	}
	/* The exact message of the manual. */
	load_owned(lines("[cutoverd]", "poll_interval = 5x", SERVER, NULL));
	ck_assert_uint_eq(errs.n, 1);
	ck_error(2, "poll_interval", "'5x' is not a duration (e.g. 250ms, 2s; between 100ms and 60s)");

	load_owned(lines("[cutoverd]", "idle_timeout = 1h", "[cluster main]", "catchup_lag = 0",
			 SERVER, NULL));
	ck_clean();
	ck_assert_int_eq(cfg->idle_timeout_ms, 3600000);
	ck_assert_int_eq(config_cluster(cfg, "main")->catchup_lag_ms, 0);

	load_owned(lines("[cluster main]", "pause_timeout = 1h", "blocked_pause_timeout = 5s", SERVER, NULL));
	ck_clean();
	ck_assert_int_eq(config_cluster(cfg, "main")->pause_timeout_ms, 3600000);
	ck_assert_int_eq(config_cluster(cfg, "main")->blocked_pause_timeout_ms, 5000);
	/* a blocked pause of more than 10 minutes is a mistake, and so is one under a second */
	load_owned(lines("[cluster main]", "pause_timeout = 500ms", "blocked_pause_timeout = 11m", SERVER, NULL));
	ck_error(2, "pause_timeout", "out of range (between 1s and 24h)");
	ck_error(3, "blocked_pause_timeout", "out of range (between 1s and 10m)");
}
END_TEST

START_TEST(test_out_of_range)
{
	load_owned(lines("[cutoverd]",            /* 1 */
			 "poll_interval = 50ms",  /* 2 */
			 "query_timeout = 61s",   /* 3 */
			 "max_clients = 0",       /* 4 */
			 "socket_mode = 01000",   /* 5 */
			 "idle_timeout = 25h",    /* 6 */
			 "[cluster main]",        /* 7 */
			 "hysteresis = 101",      /* 8 */
			 "sync_timeout = 11m",    /* 9 */
			 "[server db1]",          /* 10 */
			 "user = u",              /* 11 */
			 "port = 70000",          /* 12 */
			 "[router px]",           /* 13 */
			 "type = proxysql",       /* 14 */
			 "user = a",              /* 15 */
			 "writer_hostgroup = -1", /* 16 */
			 "reader_hostgroup = -2", /* 17 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "poll_interval", "'50ms' is out of range (between 100ms and 60s)");
	ck_error(3, "query_timeout", "'61s' is out of range (between 100ms and 60s)");
	ck_error(4, "max_clients", "'0' is out of range (between 1 and 4096)");
	ck_error(5, "socket_mode", "'01000' is not an octal mode");
	ck_error(6, "idle_timeout", "out of range (between 1s and 24h)");
	ck_error(8, "hysteresis", "'101' is out of range (between 1 and 100)");
	ck_error(9, "sync_timeout", "out of range (between 100ms and 10m)");
	ck_error(12, "port", "'70000' is out of range (between 1 and 65535)");
	ck_error(16, "writer_hostgroup", "out of range");
	ck_error(17, "reader_hostgroup", "'-2' is out of range (between -1 and");
}
END_TEST

START_TEST(test_bad_values)
{
	load_owned(lines("[cutoverd]",                  /* 1 */
			 "log_level = verbose",         /* 2 */
			 "socket = run/x.sock",         /* 3 */
			 "port_x = 1",                  /* 4 */
			 "max_clients = 12abc",         /* 5 */
			 "[cluster main]",              /* 6 */
			 "heartbeat = maybe",           /* 7 */
			 "heartbeat_table = nodot",     /* 8 */
			 "split_brain = shoot",         /* 9 */
			 "[server db1]",                /* 10 */
			 "user = u",                    /* 11 */
			 "tls_mode = strict",           /* 12 */
			 "candidate = always",          /* 13 */
			 "flavor = percona",            /* 14 */
			 "cluster = bad name",          /* 15 */
			 "user2 = \x01",                /* 16 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "log_level", "'verbose' is not a log level (error, warning, notice, info or debug)");
	ck_error(3, "socket", "'run/x.sock' is not an absolute path");
	ck_error(5, "max_clients", "'12abc' is not a whole number (between 1 and 4096)");
	ck_error(7, "heartbeat", "'maybe' is not a boolean (yes or no)");
	ck_error(8, "heartbeat_table", "'nodot' is not DATABASE.TABLE");
	ck_error(9, "split_brain", "'shoot' is not valid (alert, fence or stonith)");
	ck_error(12, "tls_mode", "'strict' is not valid (disabled, preferred, required, verify_ca "
		 "or verify_identity)");
	ck_error(13, "candidate", "'always' is not valid (allow, prefer or never)");
	ck_error(14, "flavor", "'percona' is not valid (auto, mariadb or mysql)");
	ck_error(15, "cluster", "'bad name' is not a valid name");
	ck_error(16, "user2", "unknown key");

	load_owned(lines(SERVER, "host = a b", NULL));
	ck_error(3, "host", "is not a host name");
	load_owned(lines(SERVER, "port =", NULL));
	ck_error(3, "port", "empty value");
	load_owned(lines("[server db1]", "user = x\x01y", NULL));
	ck_error(2, "user", "control character");
}
END_TEST

START_TEST(test_typo_suggestion)
{
	load_owned(lines("[cutoverd]",                 /* 1 */
			 "pol_interval = 1s",          /* 2 */
			 "Poll_Interval = 1s",         /* 3 */
			 "frobnicate = 1",             /* 4 */
			 "[cluster main]",             /* 5 */
			 "port = 3306",                /* 6 */
			 "hystersis = 2",              /* 7 */
			 "[server db1]",               /* 8 */
			 "user = u",                   /* 9 */
			 "pasword_file = /x",          /* 10 */
			 "lag_wran = 1s",              /* 11 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 7, "got:%s", all_errors());
	ck_error(2, "pol_interval", "unknown key in [cutoverd] (did you mean poll_interval?)");
	ck_error(3, "Poll_Interval", "did you mean poll_interval?");
	ck_error(4, "frobnicate", "unknown key in [cutoverd] (see cutoverd.conf(5)");
	ck_error(6, "port", "unknown key in [cluster main] (it belongs in [server NAME])");
	ck_error(7, "hystersis", "did you mean hysteresis?");
	ck_error(10, "pasword_file", "did you mean password_file?");
	ck_error(11, "lag_wran", "did you mean lag_warn, in [cluster NAME]?");
}
END_TEST

/* The warnings, formatted as `cutoverd -n` prints them, one per line; "" when none. */
static char *all_warnings(void)
{
	char *out = xstrdup(""), *next, one[1024];
	size_t i;

	for (i = 0; cfg && i < cfg->warnings.n; i++) {
		cfg_warning_format(NAME, &cfg->warnings.v[i], one, sizeof(one));
		next = xasprintf("%s%s\n", out, one);
		free(out);
		out = next;
	}
	return out;
}

/* A typo in a server's `cluster =` makes a valid cluster of one server with defaults: the
 * config loads, and the warning says so and names the cluster meant. */
START_TEST(test_lonely_cluster_warning)
{
	char *w;

	load_owned(lines("[cluster sandbox]",          /* 1 */
			 "[server db1]",               /* 2 */
			 "cluster = sandbox",          /* 3 */
			 "user = u",                   /* 4 */
			 "[server db2]",               /* 5 */
			 "cluster = sandbox",          /* 6 */
			 "user = u",                   /* 7 */
			 "port = 3307",                /* 8 */
			 "[server db3]",               /* 9 */
			 "cluster = sandbx",           /* 10 */
			 "user = u",                   /* 11 */
			 "port = 3308",                /* 12 */
			 "[router h]",                 /* 13 */
			 "cluster = sandbox",          /* 14 */
			 "type = haproxy",             /* 15 */
			 "address = /run/h.sock",      /* 16 */
			 "backend = w",                /* 17 */
			 NULL));
	ck_clean();
	w = all_warnings();
	ck_assert_str_eq(w, "test.conf:10: warning: cluster: cluster 'sandbx' has only [server db3] and no router, so "
			 "there is nothing to switch over to, and no [cluster sandbx] section (every setting is a "
			 "default); did you mean cluster = sandbox (2 servers)?\n");
	free(w);

	/* nothing near: the warning says what to do instead; a server without `cluster =` is
	 * pointed at by its section */
	load_owned(lines("[cluster prod]", "[server a]", "cluster = prod", "user = u", "[router h]",
			 "cluster = prod", "type = haproxy", "address = /run/h.sock", "backend = w", "[server b]",
			 "user = u", "port = 3307", NULL));
	ck_clean();
	w = all_warnings();
	ck_assert_str_eq(w, "test.conf:10: warning: cluster 'main' has only [server b] and no router, so there is "
			 "nothing to switch over to, and no [cluster main] section (every setting is a default); add "
			 "its replicas and a router, or ignore this if it is meant to be watched alone\n");
	free(w);

	/* a router, or a second server, and there is nothing to say */
	load_owned(lines("[server a]", "user = u", "[router h]", "type = haproxy", "address = /run/h.sock",
			 "backend = w", NULL));
	ck_clean();
	ck_assert_uint_eq(cfg->warnings.n, 0);
	load_owned(lines("[server a]", "user = u", "[server b]", "user = u", "port = 3307", NULL));
	ck_clean();
	ck_assert_uint_eq(cfg->warnings.n, 0);
}
END_TEST

START_TEST(test_unknown_section)
{
	load_owned(lines("[sever db1]",     /* 1 */
			 "user = u",        /* 2: ignored with its section */
			 "[frob]",          /* 3 */
			 "[server]",        /* 4 */
			 "[cutoverd x]",    /* 5 */
			 "[server a/b]",    /* 6 */
			 SERVER,            /* 7, 8 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 5);
	ck_error(1, "[sever db1]", "unknown section (did you mean [server db1]?)");
	ck_error(3, "[frob]", "unknown section (expected [cutoverd], [cluster NAME], [server NAME], "
		 "[router NAME] or [ha])");
	ck_error(4, "[server]", "missing name");
	ck_error(5, "[cutoverd x]", "takes no name");
	ck_error(6, "[server a/b]", "'a/b' is not a valid name");
}
END_TEST

/* [ha]: the etcd endpoints (numeric addresses), this member's name, the lease's TTL; the
 * address defaults to the socket. */
START_TEST(test_ha_section)
{
	load_owned(lines("[cutoverd]", "socket = /run/c/x.sock", "[ha]",
			 "etcd = http://10.0.0.1:2379, http://10.0.0.2:2379,http://10.0.0.3:2379", "name = node1",
			 "lease_ttl = 3s", SERVER, NULL));
	ck_clean();
	ck_assert(cfg->ha.on);
	ck_assert_uint_eq(cfg->ha.n_etcd, 3);
	ck_assert_str_eq(cfg->ha.etcd[2], "http://10.0.0.3:2379");
	ck_assert_str_eq(cfg->ha.name, "node1");
	ck_assert_str_eq(cfg->ha.prefix, "/cutoverd");
	ck_assert_str_eq(cfg->ha.address, "/run/c/x.sock");
	ck_assert_int_eq(cfg->ha.lease_ttl_ms, 3000);

	load_owned(lines(SERVER, NULL));
	ck_clean();
	ck_assert(!cfg->ha.on);

	load_owned(lines("[ha]",                                   /* 1 */
			 "etcd = http://etcd1:2379",               /* 2 */
			 "prefix = cutoverd",                      /* 3 */
			 "lease_ttl = 500ms",                      /* 4 */
			 "[ha x]",                                 /* 5 */
			 SERVER, NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "etcd", "numeric IPv4 address");
	ck_error(3, "prefix", "must start with '/'");
	ck_error(4, "lease_ttl", "");
	ck_error(5, "[ha x]", "[ha] takes no name");
	ck_error(1, "name", "missing in [ha]");

	load_owned(lines("[ha]", "name = n", "etcd = 10.0.0.1:2379", SERVER, NULL));
	ck_assert_ptr_null(cfg);
	ck_error(3, "etcd", "is not http://ADDRESS:PORT");
	load_owned(lines("[ha]", "name = n", SERVER, NULL));
	ck_assert_ptr_null(cfg);
	ck_error(1, "etcd", "missing in [ha]");
}
END_TEST

/* What a reload compares: [ha] the same, or not (then it is refused: daemon_reload). */
START_TEST(test_ha_same)
{
	struct config *a;

	load_owned(lines("[ha]", "etcd = http://10.0.0.1:2379", "name = n1", SERVER, NULL));
	ck_clean();
	a = cfg;
	cfg = NULL;
	load_owned(lines("[ha]", "etcd = http://10.0.0.1:2379", "name = n1", SERVER, "host = 10.0.0.9", NULL));
	ck_clean();
	ck_assert(cfg_ha_same(&a->ha, &cfg->ha));
	load_owned(lines("[ha]", "etcd = http://10.0.0.1:2379", "name = n1", "lease_ttl = 20s", SERVER, NULL));
	ck_assert(!cfg_ha_same(&a->ha, &cfg->ha));
	load_owned(lines("[ha]", "etcd = http://10.0.0.2:2379", "name = n1", SERVER, NULL));
	ck_assert(!cfg_ha_same(&a->ha, &cfg->ha));
	load_owned(lines(SERVER, NULL));
	ck_assert(!cfg_ha_same(&a->ha, &cfg->ha));
	ck_assert(cfg_ha_same(&cfg->ha, &cfg->ha));
	config_free(a);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	const char *pre = make_hook("pre", 0755);
	char *t;

	load_owned(lines("[server db1]", "user = a", "host = h", "user = b", NULL));
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	ck_error(4, "user", "duplicate key (first set at line 2)");

	t = xasprintf("[cluster main]\npreflight_hook = %s one\npreflight_hook = %s two\n"
		      "[server db1]\nuser = u\n", pre, pre);
	load(t);
	free(t);
	ck_clean();
	ck_assert(strstr(config_cluster(cfg, "main")->preflight_hooks[0], " one") != NULL);
	ck_assert(strstr(config_cluster(cfg, "main")->preflight_hooks[1], " two") != NULL);
	ck_assert_ptr_null(config_cluster(cfg, "main")->preflight_hooks[2]);
}
END_TEST

START_TEST(test_duplicate_sections)
{
	load_owned(lines("[cutoverd]",          /* 1 */
			 "[server db1]",        /* 2 */
			 "user = u",            /* 3 */
			 "[server db1]",        /* 4 */
			 "user = v",            /* 5: ignored */
			 "[router r]",          /* 6 */
			 "type = exec",         /* 7 */
			 "[router r]",          /* 8 */
			 "[cutoverd]",          /* 9 */
			 "[cluster main]",      /* 10 */
			 "[cluster main]",      /* 11 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(4, "[server db1]", "duplicate section (first at line 2)");
	ck_error(8, "[router r]", "duplicate section (first at line 6)");
	ck_error(9, "[cutoverd]", "duplicate section (first at line 1)");
	ck_error(11, "[cluster main]", "duplicate section (first at line 10)");
	ck_assert(!has_error(5, "user", ""));
}
END_TEST

START_TEST(test_multiple_errors)
{
	load_owned(lines("[cutoverd]",               /* 1 */
			 "max_clients = many",       /* 2 */
			 "[server db1]",             /* 3: no user */
			 "port = 0",                 /* 4 */
			 "tls_mode = tls",           /* 5 */
			 "bogus",                    /* 6 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 5, "got:%s", all_errors());
	/* In file order, although "user missing" is found last. */
	ck_assert_int_eq(errs.v[0].line, 2);
	ck_assert_int_eq(errs.v[1].line, 3);
	ck_assert_str_eq(errs.v[1].key, "user");
	ck_assert_int_eq(errs.v[2].line, 4);
	ck_assert_int_eq(errs.v[3].line, 5);
	ck_assert_int_eq(errs.v[4].line, 6);
	ck_error(3, "user", "missing in [server db1]");
	ck_error(6, NULL, "syntax error");
}
END_TEST

START_TEST(test_syntax)
{
	char longline[400];

	load_owned(lines("; comment",                   /* 1 */
			 "# comment",                   /* 2 */
			 "[server db1]   ; trailing",   /* 3 */
			 "   user = u#x ; inline",      /* 4: indented, '#' is not inline */
			 "\thost = h;not-a-comment",    /* 5 */
			 "",                            /* 6 */
			 NULL));
	ck_clean();
	ck_assert_str_eq(config_server(cfg, "db1")->user, "u#x");
	ck_assert_str_eq(config_server(cfg, "db1")->host, "h;not-a-comment");

	load("\xEF\xBB\xBF[server db1]\r\nuser = u\r\n");
	ck_clean();
	ck_assert_str_eq(config_server(cfg, "db1")->user, "u");

	load_owned(lines("user = u",           /* 1 */
			 "[server db1",        /* 2 */
			 "[server db1] x",     /* 3 */
			 SERVER,               /* 4, 5 */
			 "host 10.0.0.1",      /* 6 */
			 "= 5",                /* 7 */
			 "host: 10.0.0.1",     /* 8 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(1, "user", "outside any section");
	ck_error(2, NULL, "'[' without ']'");
	ck_error(3, NULL, "text after ']'");
	ck_error(6, NULL, "syntax error: expected 'key = value'");
	ck_error(7, NULL, "no key before '='");
	ck_error(8, NULL, "syntax error");
	ck_assert_uint_eq(errs.n, 6);

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "user = ", 7);
	load_owned(lines("[server db1]", longline, "user = u", NULL));
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(errs.n, 1);
	ck_error(2, NULL, "line too long (399 characters");
}
END_TEST

START_TEST(test_cross_checks)
{
	load("");
	ck_assert_ptr_null(cfg);
	ck_error(0, NULL, "no [server NAME] section: at least one server is needed");

	load_owned(lines("[cluster main]",       /* 1 */
			 "[cluster spare]",      /* 2: no servers */
			 "split_brain = stonith",/* 3 */
			 "[server db1]",         /* 4: no user */
			 "host = 10.0.0.1",      /* 5 */
			 "[server db2]",         /* 6 */
			 "user = u",             /* 7 */
			 "host = 10.0.0.1",      /* 8: same as db1 */
			 "[server db3]",         /* 9 */
			 "user = u",             /* 10 */
			 "socket = /run/a.sock", /* 11 */
			 "[server db4]",         /* 12 */
			 "user = u",             /* 13 */
			 "socket = /run/a.sock", /* 14 */
			 "port = 3307",          /* 15 */
			 "[server db5]",         /* 16 */
			 "user = u",             /* 17 */
			 "cluster = other",      /* 18: implicit cluster */
			 "tls_mode = verify_ca", /* 19 */
			 "[router r]",           /* 20 */
			 "type = exec",          /* 21 */
			 "cluster = nobody",     /* 22 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "[cluster spare]", "no server belongs to this cluster");
	ck_error(4, "user", "missing in [server db1]");
	ck_error(6, "host", "[server db2] has the same address as [server db1] at line 4 "
		 "(10.0.0.1:3306)");
	ck_error(12, "socket", "[server db4] has the same socket as [server db3] at line 9");
	ck_error(15, "port", "conflicts with socket at line 14");
	ck_error(19, "tls_mode", "verify_ca needs tls_ca");
	ck_error(20, "exec_promote", "missing in [router r]");
	ck_error(22, "cluster", "no server belongs to cluster 'nobody'");

	load_owned(lines("[cluster main]", "split_brain = stonith", "repl_password = x", SERVER,
			 NULL));
	ck_error(1, "repl_user", "a replication password is set");
	ck_error(2, "split_brain", "stonith needs a stonith_hook in [cluster main] or in [server db1]");

	/* A cluster-wide stonith_hook serves every server that has none of its own. */
	{
		char *line = xasprintf("stonith_hook = %s", make_hook("stonith", 0755));
		load_owned(lines("[cluster main]", "split_brain = stonith", line, "auto_failover = yes",
				 "failover_after = 5", "failover_block = 30m", "hook_timeout = 5s", SERVER, NULL));
		free(line);
		ck_clean();
		ck_assert_ptr_nonnull(config_cluster(cfg, "main")->stonith_hook);
		ck_assert(config_cluster(cfg, "main")->auto_failover);
		ck_assert_int_eq(config_cluster(cfg, "main")->failover_after, 5);
		ck_assert_int_eq(config_cluster(cfg, "main")->failover_block_ms, 30 * 60 * 1000);
		ck_assert_int_eq(config_cluster(cfg, "main")->hook_timeout_ms, 5000);
	}
	load_owned(lines("[cluster main]", "failover_after = 0", SERVER, NULL));
	ck_error(2, "failover_after", "");

	/* A cluster named by a server comes into being with defaults. */
	load_owned(lines("[server a]", "user = u", "cluster = blue", "[server b]", "user = u",
			 "port = 3307", NULL));
	ck_clean();
	ck_assert_uint_eq(cfg->n_clusters, 2);
	ck_assert_ptr_nonnull(config_cluster(cfg, "blue"));
	ck_assert_ptr_nonnull(config_cluster(cfg, "main"));
	ck_assert_int_eq(config_cluster(cfg, "blue")->hysteresis, 2);
}
END_TEST

START_TEST(test_tls)
{
	const char *ca = make_file("ca.pem", "x\n", 0644);
	char *t;

	t = xasprintf("[server db1]\nuser = u\ntls_mode = verify_ca\ntls_ca = %s/nope.pem\n"
		      "tls_cert = %s\n", tmpdir, ca);
	load(t);
	free(t);
	ck_assert_ptr_null(cfg);
	ck_error(4, "tls_ca", "cannot read");
	ck_error(4, "tls_ca", "nope.pem: No such file or directory");
	ck_error(5, "tls_cert", "set without tls_key (give both or neither)");

	t = xasprintf("[server db1]\nuser = u\ntls_mode = required\ntls_ca = %s\n", ca);
	load(t);
	free(t);
	ck_clean();
	ck_assert_int_eq(config_server(cfg, "db1")->tls_mode, TLS_REQUIRED);
}
END_TEST

START_TEST(test_routers)
{
	load_owned(lines("[router h]",                /* 1: haproxy without address/backend */
			 "type = haproxy",            /* 2 */
			 "writer_hostgroup = 1",      /* 3 */
			 "[router p]",                /* 4 */
			 "type = proxysql",           /* 5 */
			 "backend = b",               /* 6 */
			 "exec_promote = /bin/true",  /* 7 */
			 "[router e]",                /* 8 */
			 "type = exec",               /* 9 */
			 "address = 127.0.0.1:1",     /* 10 */
			 "[router n]",                /* 11: no type */
			 "[router a]",                /* 12 */
			 "type = haproxy",            /* 13 */
			 "address = host:port",       /* 14 */
			 "backend = w",               /* 15 */
			 "[router q]",                /* 16 */
			 "type = proxysql",           /* 17 */
			 "user = admin",              /* 18 */
			 "writer_hostgroup = 5",      /* 19 */
			 "reader_hostgroup = 5",      /* 20 */
			 "write_endpoint = [::1]:3306", /* 21 */
			 "[router w]",                /* 22 */
			 "type = exec",               /* 23 */
			 "write_endpoint = /run/s",   /* 24 */
			 "write_endpoint = h:0",      /* 25 */
			 SERVER,                      /* 26, 27 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(1, "address", "missing in [router h]");
	ck_error(1, "backend", "missing in [router h] (the HAProxy backend that carries writes)");
	ck_error(3, "writer_hostgroup", "not used by type = haproxy (only by proxysql)");
	ck_error(4, "user", "missing in [router p]");
	ck_error(4, "writer_hostgroup", "missing in [router p]");
	ck_error(6, "backend", "not used by type = proxysql (only by haproxy)");
	ck_error(7, "exec_promote", "not used by type = proxysql (only by exec)");
	ck_error(8, "exec_promote", "missing in [router e]");
	ck_error(10, "address", "not used by type = exec (only by haproxy and proxysql)");
	ck_error(11, "type", "missing in [router n] (haproxy, proxysql or exec)");
	ck_error(14, "address", "'host:port' is not an address (an absolute socket path, unix:PATH "
		 "or HOST:PORT)");
	ck_error(20, "reader_hostgroup", "same as writer_hostgroup (5)");
	ck_error(21, "write_endpoint", "'[::1]:3306' is not HOST:PORT (e.g. 10.0.0.5:3306)");
	ck_error(24, "write_endpoint", "is not HOST:PORT");
	ck_error(25, "write_endpoint", "duplicate key");

	load_owned(lines("[router a]", "type = haproxy", "address = unix:/run/h.sock",
			 "backend = w", "[router b]", "type = proxysql", "user = admin",
			 "writer_hostgroup = 0", SERVER, NULL));
	ck_clean();
	ck_assert_str_eq(cfg->routers[0].address, "unix:/run/h.sock");
	ck_assert_str_eq(cfg->routers[1].address, "127.0.0.1:6032");
	ck_assert_int_eq(cfg->routers[1].reader_hostgroup, -1);
}
END_TEST

START_TEST(test_server_map)
{
	const char *hook = make_hook("promote", 0755);
	char *t = xasprintf("[server db1]\nuser = u\nhost = 10.0.0.1\n"
			    "[server db2]\nuser = u\nhost = 10.0.0.2\nport = 3307\n"
			    "[server db3]\nuser = u\nsocket = /run/db3.sock\n"
			    "[server x1]\nuser = u\ncluster = other\n"
			    "[router h]\ntype = haproxy\naddress = /run/h.sock\nbackend = w\n"
			    "[router p]\ntype = proxysql\nuser = a\nwriter_hostgroup = 1\n"
			    "[router e]\ntype = exec\nexec_promote = %s\n", hook);

	load(t);
	free(t);
	ck_clean();
	ck_assert_uint_eq(cfg->routers[0].n_map, 3);
	ck_assert_str_eq(cfg->routers[0].map_server[0], "db1");
	ck_assert_str_eq(cfg->routers[0].map_router[0], "db1");
	ck_assert_str_eq(cfg->routers[0].map_router[2], "db3");
	ck_assert_uint_eq(cfg->routers[1].n_map, 3);
	ck_assert_str_eq(cfg->routers[1].map_router[0], "10.0.0.1:3306");
	ck_assert_str_eq(cfg->routers[1].map_router[1], "10.0.0.2:3307");
	ck_assert_str_eq(cfg->routers[1].map_router[2], "/run/db3.sock:0");
	ck_assert_uint_eq(cfg->routers[2].n_map, 3);
	ck_assert_str_eq(cfg->routers[2].map_server[1], "db2");
	ck_assert_str_eq(cfg->routers[2].map_router[1], "db2");

	load_owned(lines("[server db1]", "user = u", "[server db2]", "user = u", "port = 3307",
			 "[router h]", "type = haproxy", "address = 127.0.0.1:9999", "backend = w",
			 "server_map = db2=mysql-2", NULL));
	ck_clean();
	ck_assert_str_eq(cfg->routers[0].map_router[0], "db1");
	ck_assert_str_eq(cfg->routers[0].map_router[1], "mysql-2");

	load_owned(lines("[server db1]",                       /* 1 */
			 "user = u",                           /* 2 */
			 "[server db2]",                       /* 3 */
			 "user = u",                           /* 4 */
			 "port = 3307",                        /* 5 */
			 "cluster = other",                    /* 6 */
			 "[router h]",                         /* 7 */
			 "type = haproxy",                     /* 8 */
			 "address = /run/h.sock",              /* 9 */
			 "backend = w",                        /* 10 */
			 "server_map = db2=x, db9=y, db1=db1", /* 11 */
			 "[router g]",                         /* 12 */
			 "type = haproxy",                     /* 13 */
			 "address = /run/h.sock",              /* 14 */
			 "backend = w",                        /* 15 */
			 "server_map = db1, db1=a=b",          /* 16 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(11, "server_map", "'db2' is not a server of cluster main");
	ck_error(11, "server_map", "'db9' is not a server of cluster main");
	ck_error(16, "server_map", "'db1' is not SERVER=NAME");
}
END_TEST

START_TEST(test_secrets_env)
{
	load_owned(lines("[server db1]",                        /* 1 */
			 "user = u",                            /* 2 */
			 "password_env = CHECK_CONFIG_UNSET_X", /* 3 */
			 "[server db2]",                        /* 4 */
			 "user = u",                            /* 5 */
			 "port = 3307",                         /* 6 */
			 "password = hunter2",                  /* 7 */
			 "password_env = HOME",                 /* 8 */
			 "password_env = HOME",                 /* 9 */
			 "[server db3]",                        /* 10 */
			 "user = u",                            /* 11 */
			 "port = 3308",                         /* 12 */
			 "password_env = BAD-NAME",             /* 13 */
			 NULL));
	ck_assert_ptr_null(cfg);
	ck_error(3, "password_env", "environment variable CHECK_CONFIG_UNSET_X is not set");
	ck_error(8, "password_env", "conflicts with password at line 7 (use only one of "
		 "password_file, password_env and password)");
	ck_error(9, "password_env", "duplicate key");
	ck_error(13, "password_env", "not an environment variable name");
	ck_assert(strstr(all_errors(), "BAD-NAME") == NULL);
	ck_assert_msg(strstr(all_errors(), "hunter2") == NULL, "password in a message:%s",
		      all_errors());

	setenv("CHECK_CONFIG_PW", "from-env", 1);
	load_owned(lines(SERVER, "password_env = CHECK_CONFIG_PW", NULL));
	unsetenv("CHECK_CONFIG_PW");
	ck_clean();
	ck_assert_str_eq(config_server(cfg, "db1")->secret.env, "CHECK_CONFIG_PW");
	ck_assert_str_eq(config_server(cfg, "db1")->secret.password, "from-env");
	ck_assert(!config_server(cfg, "db1")->secret.inline_set);
}
END_TEST

/* metrics_address: a numeric address (no DNS from the loop) and a port. */
START_TEST(test_metrics_address)
{
	static const char *const good[] = { "127.0.0.1:9571", "0.0.0.0:1", "[::1]:9571", "[::]:65535",
					    "[fe80::1]:80" };
	static const char *const bad[] = { "localhost:9571", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
					   "::1:9571", "[::1]9571", "[::1:9571", "[]:9571", ":9571", "1.2.3:80",
					   "127.0.0.1:95x", "[127.0.0.1]:80", "metrics.example.com:9571" };
	size_t i;

	load_owned(lines(SERVER, NULL));
	ck_clean();
	ck_assert_ptr_null(cfg->metrics_address);   /* off by default */
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *l = xasprintf("metrics_address = %s", good[i]);
		load_owned(lines("[cutoverd]", l, SERVER, NULL));
		free(l);
		ck_clean();
		ck_assert_str_eq(cfg->metrics_address, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *l = xasprintf("metrics_address = %s", bad[i]);
		load_owned(lines("[cutoverd]", l, SERVER, NULL));
		free(l);
		ck_assert_msg(cfg == NULL, "'%s' accepted", bad[i]);
		ck_error(2, "metrics_address", "is not ADDRESS:PORT with a numeric address");
		ck_assert_msg(errs.n == 1, "'%s' got:%s", bad[i], all_errors());
	}
	load_owned(lines("[cluster main]", "metrics_address = 127.0.0.1:9571", SERVER, NULL));
	ck_error(2, "metrics_address", "belongs in [cutoverd]");
}
END_TEST

/* event_hook in [cutoverd] and in [cluster NAME], repeatable, checked like every hook;
 * event_hook_timeout and event_hook_rate with their ranges and defaults. */
START_TEST(test_event_hooks)
{
	const char *a = make_hook("notify", 0755);
	const char *b = make_hook("page", 0700);
	const char *gw = make_hook("groupw", 0775);
	char *t;

	load_owned(lines(SERVER, NULL));
	ck_clean();
	ck_assert_ptr_null(cfg->event_hooks);
	ck_assert_ptr_null(config_cluster(cfg, "main")->event_hooks);
	ck_assert_int_eq(cfg->event_hook_timeout_ms, 10000);
	ck_assert_int_eq(cfg->event_hook_rate, 30);

	t = xasprintf("[cutoverd]\n"
		      "event_hook = %s /etc/cutoverd/chat.url\n"
		      "event_hook = \"%s\" --all\n"
		      "event_hook_timeout = 2500ms\n"
		      "event_hook_rate = 5\n"
		      "[cluster main]\n"
		      "event_hook = %s main\n"
		      "[server db1]\nuser = u\n", a, b, b);
	load(t);
	free(t);
	ck_clean();
	ck_assert_ptr_nonnull(cfg->event_hooks);
	ck_assert(strstr(cfg->event_hooks[0], "/notify /etc/cutoverd/chat.url") != NULL);
	ck_assert(strstr(cfg->event_hooks[1], "/page\" --all") != NULL);
	ck_assert_ptr_null(cfg->event_hooks[2]);
	ck_assert(strstr(config_cluster(cfg, "main")->event_hooks[0], "/page main") != NULL);
	ck_assert_ptr_null(config_cluster(cfg, "main")->event_hooks[1]);
	ck_assert_int_eq(cfg->event_hook_timeout_ms, 2500);
	ck_assert_int_eq(cfg->event_hook_rate, 5);

	t = xasprintf("[cutoverd]\n"                      /* 1 */
		      "event_hook = notify\n"             /* 2 */
		      "event_hook = %s\n"                 /* 3 */
		      "event_hook_timeout = 50ms\n"       /* 4 */
		      "event_hook_rate = 0\n"             /* 5 */
		      "[cluster main]\n"                  /* 6 */
		      "event_hook = %s/missing\n"         /* 7 */
		      "event_hook_rate = 10\n"            /* 8 */
		      "[server db1]\nuser = u\n", gw, tmpdir);
	load(t);
	free(t);
	ck_assert_ptr_null(cfg);
	ck_error(2, "event_hook", "'notify' is not an absolute path");
	ck_error(3, "event_hook", "is writable by group or others");
	ck_error(4, "event_hook_timeout", "out of range (between 100ms and 10m)");
	ck_error(5, "event_hook_rate", "out of range (between 1 and 600)");
	ck_error(7, "event_hook", "missing: No such file or directory");
	ck_error(8, "event_hook_rate", "belongs in [cutoverd]");
	ck_assert_msg(errs.n == 6, "got:%s", all_errors());
	load_owned(lines("[cutoverd]", "event_hook_rate = 601", SERVER, NULL));
	ck_error(2, "event_hook_rate", "out of range");
	load_owned(lines("[cutoverd]", "event_hook_timeout = 11m", SERVER, NULL));
	ck_error(2, "event_hook_timeout", "out of range");
}
END_TEST

START_TEST(test_hooks)
{
	const char *good = make_hook("good", 0755);
	const char *noexec = make_hook("noexec", 0644);
	const char *gw = make_hook("groupw", 0775);
	const char *ow = make_hook("otherw", 0757);
	const char *dir = make_dir("open", 0777 & ~S_ISVTX);
	char *inopen = xasprintf("%s/inside", dir), *t;
	FILE *f = fopen(inopen, "w");

	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\n", f);
	fchmod(fileno(f), 0755);
	fclose(f);
	ck_assert_int_eq(chmod(dir, 0777), 0);   /* after creating the file: no sticky bit */
	track(inopen);

	t = xasprintf("[server db1]\n"                 /* 1 */
		      "user = u\n"                     /* 2 */
		      "stonith_hook = bin/stonith\n"   /* 3 */
		      "fence_hook = %s/missing x\n"    /* 4 */
		      "[server db2]\n"                 /* 5 */
		      "user = u\n"                     /* 6 */
		      "port = 3307\n"                  /* 7 */
		      "stonith_hook = %s\n"            /* 8 */
		      "fence_hook = %s\n"              /* 9 */
		      "[cluster main]\n"               /* 10 */
		      "preflight_hook = %s\n"          /* 11 */
		      "preflight_hook = %s a b\n"      /* 12 */
		      "[router e]\n"                   /* 13 */
		      "type = exec\n"                  /* 14 */
		      "exec_promote = %s promote\n"    /* 15 */
		      "exec_drain = %s\n",             /* 16 */
		      tmpdir, noexec, gw, ow, inopen, good, tmpdir);
	load(t);
	free(t);
	ck_assert_ptr_null(cfg);
	ck_error(3, "stonith_hook", "'bin/stonith' is not an absolute path (hooks run without a "
		 "shell or PATH)");
	ck_error(4, "fence_hook", "missing: No such file or directory");
	ck_error(8, "stonith_hook", "is not executable (mode 0644)");
	ck_error(9, "fence_hook", "is writable by group or others (mode 0775)");
	ck_error(11, "preflight_hook", "is writable by group or others");
	ck_error(12, "preflight_hook", "directory ");
	ck_error(12, "preflight_hook", "/open is writable by group or others");
	ck_error(16, "exec_drain", "is not a regular file");
	ck_assert_msg(errs.n == 7, "got:%s", all_errors());

	/* Double quotes group words, as for the job runner; the program is the first word. */
	make_dir("with space", 0755);
	good = make_hook("with space/hook", 0755);
	t = xasprintf("[server db1]\nuser = u\nfence_hook = \"%s\" \"a b\" c\n"
		      "stonith_hook = \"%s\n", good, good);
	load(t);
	free(t);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 1, "got:%s", all_errors());
	ck_error(4, "stonith_hook", "unterminated double quote");
}
END_TEST

START_TEST(test_admin_ids)
{
	char *t, list[512] = "";
	int i;

	load_owned(lines("[cutoverd]",                         /* 1 */
			 "admin_users = root, no_such_user_xq", /* 2 */
			 "admin_groups = root,, 5",            /* 3 */
			 "socket_group = no_such_group_xq",    /* 4 */
			 SERVER, NULL));
	ck_assert_ptr_null(cfg);
	ck_error(2, "admin_users", "no such user 'no_such_user_xq' (user names or numeric uids");
	ck_error(3, "admin_groups", "empty item in the list");
	ck_error(4, "socket_group", "no such group 'no_such_group_xq'");

	for (i = 0; i <= CFG_MAX_IDS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? "," : "", i);
	t = xasprintf("[cutoverd]\nadmin_users = %s\n[server db1]\nuser = u\n", list);
	load(t);
	free(t);
	ck_error(2, "admin_users", "too many users (at most 32)");

	load_owned(lines("[cutoverd]", "socket_group = 4321", "admin_users = 0", SERVER, NULL));
	ck_clean();
	ck_assert_uint_eq(cfg->socket_gid, 4321);
	ck_assert_uint_eq(cfg->n_admin_uids, 1);
	ck_assert_uint_eq(cfg->admin_uids[0], 0);
}
END_TEST

/* ---- config_load ---- */

START_TEST(test_inline_password_mode)
{
	const char *text = "[server db1]\nuser = u\npassword = hunter2\n";
	const char *open = make_config(text, 0644);
	const char *closed = make_config(text, 0600);
	char buf[1024], *want;
	struct config *c;

	c = config_load(open, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	cfg_error_format(open, &errs.v[0], buf, sizeof(buf));
	want = xasprintf("%s:3: password: inline password in a file readable by others: "
			 "chmod 600 %s or use password_file", open, open);
	ck_assert_str_eq(buf, want);
	free(want);
	ck_assert(strstr(buf, "hunter2") == NULL);
	cfg_errors_free(&errs);

	c = config_load(closed, &errs);
	ck_assert_msg(c != NULL, "errors:%s", all_errors());
	ck_assert_str_eq(c->path, closed);
	ck_assert_str_eq(config_server(c, "db1")->secret.password, "hunter2");
	ck_assert(config_server(c, "db1")->secret.inline_set);
	config_free(c);

	/* Readable by the group only is still too open. */
	ck_assert_int_eq(chmod(closed, 0640), 0);
	c = config_load(closed, &errs);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(errs.v[0].key, "password");
}
END_TEST

START_TEST(test_password_file)
{
	const char *pw = make_file("pw", "s3cret\nsecond line\n", 0600);
	const char *crlf = make_file("crlf", "win\r\n", 0600);
	const char *bare = make_file("bare", "nonewline", 0600);
	const char *empty = make_file("empty", "\n", 0600);
	char *t = xasprintf("[server a]\nuser = u\npassword_file = %s\n"
			    "[server b]\nuser = u\nport = 1\npassword_file = %s\n"
			    "[server c]\nuser = u\nport = 2\npassword_file = %s\n"
			    "[cluster main]\nrepl_user = r\nrepl_password_file = %s\n",
			    pw, crlf, bare, pw);
	const char *file = make_config(t, 0644);   /* no inline secret: may be readable */
	struct config *c;

	free(t);
	c = config_load(file, &errs);
	ck_assert_msg(c != NULL, "errors:%s", all_errors());
	ck_assert_str_eq(config_server(c, "a")->secret.password, "s3cret");
	ck_assert_str_eq(config_server(c, "a")->secret.file, pw);
	ck_assert_str_eq(config_server(c, "b")->secret.password, "win");
	ck_assert_str_eq(config_server(c, "c")->secret.password, "nonewline");
	ck_assert_str_eq(config_cluster(c, "main")->repl_secret.password, "s3cret");
	config_free(c);

	t = xasprintf("[server a]\nuser = u\npassword_file = %s/nope\n"
		      "[server b]\nuser = u\nport = 1\npassword_file = %s\n"
		      "[server c]\nuser = u\nport = 2\npassword_file = relative/pw\n"
		      "[server d]\nuser = u\nport = 3\npassword_file = %s\n",
		      tmpdir, empty, tmpdir);
	load(t);
	free(t);
	ck_assert_ptr_null(cfg);
	ck_error(3, "password_file", "cannot read ");
	ck_error(3, "password_file", "/nope: No such file or directory");
	ck_error(7, "password_file", "the first line is empty");
	ck_error(11, "password_file", "not an absolute path (give the file that holds the password)");
	ck_assert_msg(strstr(all_errors(), "relative/pw") == NULL, "value echoed:%s", all_errors());
	ck_error(15, "password_file", "Is a directory");
}
END_TEST

START_TEST(test_load_file_errors)
{
	const char *file = make_config("[server db1]\nuser = u\npol_interval = 1s\n", 0600);
	char *missing = xasprintf("%s/does-not-exist.conf", tmpdir);
	char buf[512];
	struct config *c;

	c = config_load(missing, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	cfg_error_format(missing, &errs.v[0], buf, sizeof(buf));
	ck_assert_str_eq(strstr(buf, ": cannot read"), ": cannot read: No such file or directory");
	ck_assert_int_eq(errs.v[0].line, 0);
	cfg_errors_free(&errs);
	free(missing);

	c = config_load(tmpdir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(errs.v[0].message, "not a regular file");
	cfg_errors_free(&errs);

	/* Line numbers from a file are the same as from a string. */
	c = config_load(file, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_int_eq(errs.v[0].line, 3);
	ck_assert_str_eq(errs.v[0].key, "pol_interval");
}
END_TEST

/* Replace every occurrence of from in s by to; returns a new string. */
static char *replace_all(const char *s, const char *from, const char *to)
{
	char *out = xstrdup(""), *next;
	const char *hit;

	while ((hit = strstr(s, from))) {
		next = xasprintf("%s%.*s%s", out, (int)(hit - s), s, to);
		free(out);
		out = next;
		s = hit + strlen(from);
	}
	next = xasprintf("%s%s", out, s);
	free(out);
	return next;
}

/* Create every file the text names under tmpdir: *.pass as a password file, anything else as
 * a hook program. */
static void create_referenced(const char *text)
{
	char prefix[80], name[128];
	const char *hit = text;
	size_t n;

	snprintf(prefix, sizeof(prefix), "%s/", tmpdir);
	while ((hit = strstr(hit, prefix))) {
		hit += strlen(prefix);
		n = strcspn(hit, " \t\r\n");
		snprintf(name, sizeof(name), "%.*s", (int)n, hit);
		if (strchr(name, '/'))
			continue;
		char *path = xasprintf("%s%s", prefix, name);
		bool exists = access(path, F_OK) == 0;
		free(path);
		if (exists)
			continue;
		if (strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".pass"))
			make_file(name, "secret\n", 0600);
		else
			make_hook(name, 0755);
	}
}

static char *read_example(void)
{
	static const char *where[] = { "conf/cutoverd.conf.example", "../conf/cutoverd.conf.example" };
	const char *src = getenv("CUTOVER_SRCDIR");
	char *text, *p;
	size_t i;

	if (src) {
		p = xasprintf("%s/conf/cutoverd.conf.example", src);
		text = read_small_file(p, 1 << 20);
		free(p);
		if (text)
			return text;
	}
	for (i = 0; i < ARRAY_LEN(where); i++)
		if ((text = read_small_file(where[i], 1 << 20)))
			return text;
	ck_abort_msg("conf/cutoverd.conf.example not found (run from the source tree or set "
		     "CUTOVER_SRCDIR)");
	return NULL;
}

START_TEST(test_example_config)
{
	char *orig = read_example(), *dir = xasprintf("%s/", tmpdir);
	char *a = replace_all(orig, "/etc/cutoverd/", dir);
	char *text = replace_all(a, "/usr/local/lib/cutoverd/", dir);
	char *on, *t;
	size_t i;

	free(a);
	create_referenced(text);
	load(text);
	ck_clean();
	ck_assert_uint_eq(cfg->n_servers, 3);
	ck_assert_uint_eq(cfg->n_routers, 1);
	ck_assert_str_eq(config_router_name(&cfg->routers[0], config_server(cfg, "db2")), "db2");
	ck_assert_str_eq(config_server(cfg, "db1")->secret.password, "secret");

	/* With every commented-out key and section switched on, the only possible errors are
	 * about the group "dba", which need not exist here. */
	on = xstrdup("");
	for (t = strtok(text, "\n"); t; t = strtok(NULL, "\n")) {
		char *next = xasprintf("%s%s\n", on, (t[0] == ';' && (t[1] == '[' ||
				       (t[1] >= 'a' && t[1] <= 'z'))) ? t + 1 : t);
		free(on);
		on = next;
	}
	create_referenced(on);
	load(on);
	for (i = 0; i < errs.n; i++)
		ck_assert_msg(strstr(errs.v[i].message, "'dba'") != NULL, "unexpected:%s",
			      all_errors());
	free(on);
	free(text);
	free(orig);
	free(dir);
}
END_TEST

/* ---- cfg_error_format ---- */

START_TEST(test_error_format)
{
	struct cfg_error e = { 12, "poll_interval", "'5x' is not a duration" };
	char buf[128], small[12];

	cfg_error_format("/etc/cutoverd/cutoverd.conf", &e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "/etc/cutoverd/cutoverd.conf:12: poll_interval: '5x' is not a duration");
	e.line = 0;
	cfg_error_format("f.conf", &e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "f.conf: poll_interval: '5x' is not a duration");
	e.line = 3;
	e.key = NULL;
	cfg_error_format("f.conf", &e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "f.conf:3: '5x' is not a duration");
	cfg_error_format("f.conf", &e, small, sizeof(small));
	ck_assert_str_eq(small, "f.conf:3: '");
}
END_TEST

START_TEST(test_errors_free)
{
	load("[server db1]\nx = 1\ny = 2\n");
	ck_assert_uint_eq(errs.n, 3);
	cfg_errors_free(&errs);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_ptr_null(errs.v);
	cfg_errors_free(&errs);   /* twice is harmless */
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* ---- lookups ---- */

START_TEST(test_router_name)
{
	const struct cfg_server *db1, *x1;

	load_owned(lines("[server db1]", "user = u", "[server db2]", "user = u", "port = 3307",
			 "[server x1]", "user = u", "cluster = other", "port = 3308",
			 "[router h]", "type = haproxy", "address = /run/h.sock", "backend = w",
			 "server_map = db1=mysql1",
			 "[router p]", "type = proxysql", "user = a", "writer_hostgroup = 1",
			 "[router o]", "type = proxysql", "cluster = other", "user = a",
			 "writer_hostgroup = 1", NULL));
	ck_clean();
	db1 = config_server(cfg, "db1");
	x1 = config_server(cfg, "x1");
	ck_assert_str_eq(config_router_name(&cfg->routers[0], db1), "mysql1");
	ck_assert_str_eq(config_router_name(&cfg->routers[0], config_server(cfg, "db2")), "db2");
	ck_assert_ptr_null(config_router_name(&cfg->routers[0], x1));
	ck_assert_str_eq(config_router_name(&cfg->routers[1], db1), "127.0.0.1:3306");
	ck_assert_str_eq(config_router_name(&cfg->routers[2], x1), "127.0.0.1:3308");
	ck_assert_ptr_null(config_router_name(&cfg->routers[2], db1));
	ck_assert_ptr_null(config_router_name(NULL, db1));
}
END_TEST

START_TEST(test_lookup)
{
	load_owned(lines("[cluster c1]", "[server db1]", "user = u", "cluster = c1", NULL));
	ck_clean();
	ck_assert_str_eq(config_server(cfg, "db1")->name, "db1");
	ck_assert_int_eq(config_server(cfg, "db1")->line, 2);
	ck_assert_ptr_null(config_server(cfg, "db2"));
	ck_assert_ptr_null(config_server(cfg, NULL));
	ck_assert_str_eq(config_cluster(cfg, "c1")->name, "c1");
	ck_assert_int_eq(config_cluster(cfg, "c1")->line, 1);
	ck_assert_ptr_null(config_cluster(cfg, "main"));
	ck_assert_ptr_null(config_cluster(NULL, "c1"));
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(tls_mode_name(TLS_DISABLED), "disabled");
	ck_assert_str_eq(tls_mode_name(TLS_VERIFY_IDENTITY), "verify_identity");
	ck_assert_str_eq(tls_mode_name((enum tls_mode)99), "unknown");
	ck_assert_str_eq(router_type_name(ROUTER_HAPROXY), "haproxy");
	ck_assert_str_eq(router_type_name(ROUTER_PROXYSQL), "proxysql");
	ck_assert_str_eq(router_type_name(ROUTER_EXEC), "exec");
	ck_assert_str_eq(router_type_name((enum router_type)-1), "unknown");
	ck_assert_str_eq(candidate_name(CAND_ALLOW), "allow");
	ck_assert_str_eq(candidate_name(CAND_PREFER), "prefer");
	ck_assert_str_eq(candidate_name(CAND_NEVER), "never");
	ck_assert_str_eq(splitbrain_name(SB_ALERT), "alert");
	ck_assert_str_eq(splitbrain_name(SB_FENCE), "fence");
	ck_assert_str_eq(splitbrain_name(SB_STONITH), "stonith");
	ck_assert_str_eq(splitbrain_name((enum splitbrain_policy)3), "unknown");
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("config_load_string");
	tcase_add_test(tc, test_ha_section);
	tcase_add_test(tc, test_ha_same);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_valid);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_data_check_and_watch);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_typo_suggestion);
	tcase_add_test(tc, test_lonely_cluster_warning);
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_duplicate_sections);
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_cross_checks);
	tcase_add_test(tc, test_tls);
	tcase_add_test(tc, test_routers);
	tcase_add_test(tc, test_server_map);
	tcase_add_test(tc, test_secrets_env);
	tcase_add_test(tc, test_hooks);
	tcase_add_test(tc, test_metrics_address);
	tcase_add_test(tc, test_event_hooks);
	tcase_add_test(tc, test_admin_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_inline_password_mode);
	tcase_add_test(tc, test_password_file);
	tcase_add_test(tc, test_load_file_errors);
	tcase_add_test(tc, test_example_config);
	suite_add_tcase(s, tc);

	tc = tcase_create("cfg_error_format");
	tcase_add_test(tc, test_error_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("cfg_errors_free");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_errors_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_router_name");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_router_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("config_server_cluster");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lookup);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}
