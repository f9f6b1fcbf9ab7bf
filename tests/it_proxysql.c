/* ProxySQL for real (the "ProxySQL for real" issue): switchovers through real ProxySQL binaries
 * in front of the sandbox's mariadbd.  The tests start and stop ProxySQL themselves (admin
 * interface on loopback, the Monitor off with -M or on), and the write load goes through
 * ProxySQL's client port: the usual layouts (writer hostgroup = the primary alone, reader
 * hostgroup = all servers or the replicas; replicas OFFLINE_SOFT in the writer hostgroup and no
 * reader hostgroup), mysql_replication_hostgroups with the Monitor moving servers by read_only,
 * multiplexed and pinned clients, two ProxySQL nodes in front of one cluster (both switched,
 * both rolled back, a refusal while one does not answer), a rollback that restores every column
 * of every row, and the errors an operator must be able to read.  Read shifts and tenant moves
 * too, also with three cutoverd members and a real etcd (it_members.c) whose leader is killed
 * in the middle of one: the next leader takes it over from etcd's journal.
 *
 * One suite per binary, "proxysql-<version>", with the same cases: CUTOVER_PROXYSQL (paths
 * separated by ':'), else every /usr/local/proxysql-VERSION/bin/proxysql, else proxysql on PATH.
 * Without any, the suite "proxysql" says loudly that it is skipped, or fails when
 * CUTOVER_REQUIRE_PROXYSQL=1 (.ci/run sets it; tests/deps.sh installs the shipped binaries).
 *
 * ProxySQL node i's admin interface listens on IT_BASE_PORT + 100 + 10 i and its client
 * interface one port above.  Its directory is <sandbox dir>.px<i>: outside the sandbox, so that
 * its log survives the rebuild that follows a failed test.
 *
 * cutover-load asks SELECT @@server_id and writes @@server_id; a query naming a system variable
 * that mysql-keep_multiplexing_variables does not list makes ProxySQL pin the session to its
 * backend connection for good.  A query rule with multiplex = 2 on those statements keeps the
 * "multiplexed" client really multiplexed; the pinned client's SET @pin = 1 matches no rule and
 * pins it, as a user variable does in an application. */
#include "it_members.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <mysql.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 60000
#define MAX_BINS 8
#define PX_NODES 2
#define PX_START_MS 20000
#define PX_STOP_MS 5000
#define READY_MS 20000
#define WHG 10                      /* writer hostgroup */
#define RHG 20                      /* reader hostgroup */
#define LOAD_US 2000                /* a write every 2 ms */
/* Clients side by side write less each: a replica of the sandbox applies some 500 writes a
 * second on a small machine, and behind a faster writer the catch-up never ends. */
#define SIDE_LOAD_US 10000
#define LOAD_ROWS 20                /* rows a load must land on a server to count as arrived */
#define MON_USER "pxmon"
#define MON_PASS "pxmon-it-pw"      /* fixed: CREATE USER IF NOT EXISTS keeps the first one */
#define MONITOR_WATCH_MS 3000
#define NO_BINARY "no ProxySQL binary — tests/deps.sh installs one from ../shared/proxysql " \
		  "(or set CUTOVER_PROXYSQL=/path/to/proxysql)"

void it_proxysql_add_suites(SRunner *sr);

struct px_bin {
	char suite[48];             /* "proxysql-2.4.8" */
	char path[PATH_MAX];
	char version[32];
};

struct px_node {
	pid_t pid;                  /* 0 when not running; our child, reaped only by px_stop/px_kill */
	char dir[300], cnf[340], data[340], log[340];
};

/* What a test runs in front of the cluster. */
struct px_setup {
	int nodes;                  /* 1 or 2 */
	bool monitor;               /* the Monitor on and mysql_replication_hostgroups (10, 20) */
	void (*layout)(int node);   /* mysql_servers rows */
	int writer_hg, reader_hg;   /* cutoverd's config for the routers */
	bool wait_ready;            /* wait until every router shows db1 as the writer */
};

static struct px_bin bins[MAX_BINS];
static size_t n_bins;
static struct it_suite_def defs[MAX_BINS + 2];   /* a suite per binary, the MySQL variant or the skip */
static char unusable[1024];         /* binaries CUTOVER_PROXYSQL names that do not run */
static struct px_node nodes[PX_NODES + 1];
static char admin_pw[40], cut_pw[40];
static char px_err[1024];

/* ------------------------------------------------------------------------------------------ */
/* the binaries */

/* "2.4.8" from "ProxySQL version 2.4.8-2-g2cc900a, codename Truls"; false if it does not run. */
static bool bin_version(const char *path, char *ver, size_t len)
{
	const char *argv[] = { path, "--version", NULL };
	static const char tag[] = "ProxySQL version ";
	char *out = NULL, *p;
	size_t n;
	bool ok = false;

	/* merged: 2.7.1 says something about jemalloc on stderr */
	if (it_run(argv, true, &out, 10000) == 0 && out && (p = strstr(out, tag)) != NULL) {
		p += sizeof(tag) - 1;
		n = strspn(p, "0123456789.");
		if (n > 0 && n < len) {
			memcpy(ver, p, n);
			ver[n] = '\0';
			ok = true;
		}
	}
	free(out);
	return ok;
}

static void bin_add(const char *path, bool named)
{
	char real[PATH_MAX], ver[32];
	struct px_bin *b;
	size_t i, k = 1;

	if (!realpath(path, real) || access(real, X_OK) != 0 || !bin_version(real, ver, sizeof(ver))) {
		if (named)
			snprintf(unusable + strlen(unusable), sizeof(unusable) - strlen(unusable), "%s%s",
				 *unusable ? ", " : "", path);
		return;
	}
	for (i = 0; i < n_bins; i++)
		if (!strcmp(bins[i].path, real))
			return;
	if (n_bins == MAX_BINS)
		return;
	b = &bins[n_bins];
	snprintf(b->path, sizeof(b->path), "%s", real);
	snprintf(b->version, sizeof(b->version), "%s", ver);
	snprintf(b->suite, sizeof(b->suite), "proxysql-%s", ver);
	/* two builds of one version get suites (and sandboxes) of their own */
	for (i = 0; i < n_bins; i++)
		if (!strcmp(bins[i].suite, b->suite))
			snprintf(b->suite, sizeof(b->suite), "proxysql-%s-%zu", ver, ++k);
	n_bins++;
}

static void bins_find(void)
{
	const char *env = getenv("CUTOVER_PROXYSQL"), *path = getenv("PATH");
	char *list, *p, *save = NULL, cand[PATH_MAX];
	glob_t g;
	size_t i;

	if (env && *env) {
		list = strdup(env);
		for (p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
			bin_add(p, true);
		free(list);
		return;
	}
	if (glob("/usr/local/proxysql-*/bin/proxysql", 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			bin_add(g.gl_pathv[i], false);
		globfree(&g);
	}
	if (n_bins || !path)
		return;
	list = strdup(path);
	for (p = strtok_r(list, ":", &save); p && !n_bins; p = strtok_r(NULL, ":", &save)) {
		snprintf(cand, sizeof(cand), "%s/proxysql", *p ? p : ".");
		if (access(cand, X_OK) == 0)
			bin_add(cand, false);
	}
	free(list);
}

static const struct px_bin *suite_bin(void)
{
	size_t i;

	for (i = 0; it.suite && i < n_bins; i++) {
		size_t n = strlen(bins[i].suite);
		/* "proxysql-2.7.1", or its MySQL variant "proxysql-2.7.1-mysql" */
		if (!strncmp(bins[i].suite, it.suite, n) && (!it.suite[n] || !strcmp(it.suite + n, "-mysql")))
			return &bins[i];
	}
	ck_abort_msg("no ProxySQL binary belongs to suite %s", it.suite ? it.suite : "(none)");
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* the admin interface */

static int admin_port(int node)
{
	return it.base_port + 100 + 10 * node;
}

static int client_port(int node)
{
	return admin_port(node) + 1;
}

static MYSQL *px_connect(int node, const char *user, const char *pw)
{
	unsigned t = 3;
	MYSQL *db = mysql_init(NULL);

	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &t);
	if (!mysql_real_connect(db, "127.0.0.1", user, pw, NULL, (unsigned)admin_port(node), NULL, 0)) {
		snprintf(px_err, sizeof(px_err), "px%d admin (127.0.0.1:%d) as %s: %s", node, admin_port(node), user,
			 mysql_error(db));
		mysql_close(db);
		return NULL;
	}
	return db;
}

/* One statement as the test's own admin user ("admin"); its rows (none for a statement without
 * a result set), or NULL with px_err set. */
static struct it_rows *px_query(int node, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct it_rows *px_query(int node, const char *fmt, ...)
{
	struct it_rows *r = NULL;
	MYSQL_RES *res;
	char *sql = NULL;
	MYSQL *db;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&sql, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	db = px_connect(node, "admin", admin_pw);
	if (db && mysql_real_query(db, sql, strlen(sql)) != 0)
		snprintf(px_err, sizeof(px_err), "px%d: %s: %s", node, sql, mysql_error(db));
	else if (db && (res = mysql_store_result(db)) != NULL) {
		r = it_rows_from(res);
		mysql_free_result(res);
	} else if (db && mysql_field_count(db) == 0)
		r = calloc(1, sizeof(*r));
	else if (db)
		snprintf(px_err, sizeof(px_err), "px%d: %s: %s", node, sql, mysql_error(db));
	if (db)
		mysql_close(db);
	free(sql);
	return r;
}

#define PX_EXEC(node, ...) do {                                                          \
	struct it_rows *px_r_ = px_query((node), __VA_ARGS__);                           \
	ck_assert_msg(px_r_ != NULL, "%s", px_err);                                      \
	it_rows_free(px_r_);                                                             \
} while (0)

/* Every column of every row of `table` in the writer and reader hostgroups, as text (a header
 * line, then one line per row); new string, or NULL with px_err set. */
static char *px_table(int node, const char *table)
{
	struct it_rows *r = px_query(node, "SELECT * FROM %s WHERE hostgroup_id IN (%d, %d) ORDER BY hostgroup_id, "
					   "hostname, port", table, WHG, RHG);
	char *out = NULL;
	size_t len = 0, i, k;
	FILE *f;

	if (!r)
		return NULL;
	f = open_memstream(&out, &len);
	for (k = 0; k < r->ncols; k++)
		fprintf(f, "%s%s", k ? "\t" : "", r->names[k]);
	for (i = 0; i < r->nrows; i++)
		for (k = 0; k < r->ncols; k++)
			fprintf(f, "%s%s", k ? "\t" : "\n", r->cells[i * r->ncols + k] ?: "NULL");
	fclose(f);
	it_rows_free(r);
	return out;
}

static bool same_text(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* A hostgroup's members in `table` as "db1:ONLINE db2:OFFLINE_SOFT" (by port; "-" when empty);
 * one of 8 rotating buffers. */
static const char *px_hg(int node, const char *table, int hg)
{
	static char bufs[8][512];
	static unsigned next;
	char *buf = bufs[next++ % 8];
	struct it_rows *r = px_query(node, "SELECT hostname, port, status FROM %s WHERE hostgroup_id = %d ORDER BY port, "
					   "hostname", table, hg);
	size_t off = 0;
	unsigned i;

	if (!r) {
		snprintf(buf, sizeof(bufs[0]), "(%.500s)", px_err);
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < r->nrows && off < sizeof(bufs[0]); i++) {
		const char *host = it_rows_get(r, i, "hostname") ?: "?";
		int port = atoi(it_rows_get(r, i, "port") ?: "0"), s = port - it.base_port + 1;

		if (!strcmp(host, "127.0.0.1") && s >= 1 && s <= IT_SERVERS)
			off += (size_t)snprintf(buf + off, sizeof(bufs[0]) - off, "%s%s:%s", off ? " " : "", it_name_of(s),
						it_rows_get(r, i, "status") ?: "?");
		else
			off += (size_t)snprintf(buf + off, sizeof(bufs[0]) - off, "%s%s:%d:%s", off ? " " : "", host, port,
						it_rows_get(r, i, "status") ?: "?");
	}
	if (!r->nrows)
		snprintf(buf, sizeof(bufs[0]), "-");
	it_rows_free(r);
	return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* ProxySQL processes */

static void node_paths(int node)
{
	struct px_node *n = &nodes[node];

	snprintf(n->dir, sizeof(n->dir), "%s.px%d", it.dir, node);
	snprintf(n->cnf, sizeof(n->cnf), "%s.px%d/proxysql.cnf", it.dir, node);
	snprintf(n->data, sizeof(n->data), "%s.px%d/data", it.dir, node);
	snprintf(n->log, sizeof(n->log), "%s.px%d/proxysql.log", it.dir, node);
}

static void log_tail(int node, int lines)
{
	const char *argv[] = { "/usr/bin/tail", "-n", NULL, nodes[node].log, NULL };
	char n[16], *out = NULL;

	snprintf(n, sizeof(n), "%d", lines);
	argv[2] = n;
	it_run(argv, true, &out, 5000);
	it_note("last lines of %s:\n%s", nodes[node].log, out ? out : "(none)");
	free(out);
}

static bool px_exited(int node)
{
	int st;
	return nodes[node].pid > 0 && waitpid(nodes[node].pid, &st, WNOHANG) == nodes[node].pid;
}

static void px_write_cnf(int node, bool monitor)
{
	struct px_node *n = &nodes[node];
	char *text = NULL;
	int rc;

	rc = asprintf(&text, "datadir=\"%s\"\n"
			     "admin_variables=\n{\n"
			     "\tadmin_credentials=\"admin:%s;cutadmin:%s\"\n"
			     "\tmysql_ifaces=\"127.0.0.1:%d\"\n"
			     "}\n"
			     "mysql_variables=\n{\n"
			     "\tinterfaces=\"127.0.0.1:%d\"\n"
			     "\tthreads=2\n"
			     "\tmonitor_enabled=%s\n"
			     "\tmonitor_username=\"" MON_USER "\"\n"
			     "\tmonitor_password=\"" MON_PASS "\"\n"
			     "\tmonitor_read_only_interval=200\n"
			     "\tmonitor_read_only_timeout=500\n"
			     "\tmonitor_connect_interval=1000\n"
			     "\tmonitor_ping_interval=1000\n"
			     "}\n",
		      n->data, admin_pw, cut_pw, admin_port(node), client_port(node), monitor ? "true" : "false");
	ck_assert_int_gt(rc, 0);
	ck_assert_msg(it_write_file(n->cnf, text, 0600) == 0, "%s: %s", n->cnf, strerror(errno));
	free(text);
}

/* A failing test never leaves a ProxySQL behind: killed at the end of the test, even by the
 * fatal-signal handler — and only while its command line still names its config. */
static void px_cleanup_add(int node)
{
	char pid[16];
	const char *argv[] = { "/bin/sh", "-c", "grep -qasF -- \"$2\" /proc/$1/cmdline && kill -9 \"$1\"; exit 0",
			       "px-cleanup", pid, nodes[node].cnf, NULL };

	snprintf(pid, sizeof(pid), "%d", (int)nodes[node].pid);
	ck_assert_msg(it_cleanup_add(argv) == 0, "no room for another cleanup command");
}

static long log_size(int node)
{
	struct stat sb;
	return stat(nodes[node].log, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Whether what the node logged past offset `mark` holds needle. */
static bool log_since(int node, long mark, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(nodes[node].log, "r");
	bool found = false;

	if (!f)
		return false;
	if (fseek(f, mark, SEEK_SET) == 0) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		found = memmem(buf, n, needle, strlen(needle)) != NULL;
	}
	fclose(f);
	return found;
}

/* Wait until the admin interface answers (true), or ProxySQL says it cannot bind a port (false:
 * it goes on running without that interface).  Anything else fails the test. */
static bool px_wait_admin(int node, long mark)
{
	int64_t end = it_now_ms() + PX_START_MS;
	MYSQL *db;

	for (;;) {
		if (px_exited(node)) {
			nodes[node].pid = 0;
			log_tail(node, 30);
			ck_abort_msg("px%d exited during start-up (log %s)", node, nodes[node].log);
		}
		if ((db = px_connect(node, "admin", admin_pw)) != NULL) {
			mysql_close(db);
			return true;
		}
		if (log_since(node, mark, "Address already in use"))
			return false;
		if (it_now_ms() >= end)
			break;
		it_sleep_ms(100);
	}
	log_tail(node, 30);
	ck_abort_msg("px%d's admin interface does not answer within %d ms: %s", node, PX_START_MS, px_err);
	return false;
}

static void px_launch(int node, bool monitor, bool initial)
{
	struct px_node *n = &nodes[node];
	const char *argv[12];
	int k = 0;
	pid_t pid;

	argv[k++] = suite_bin()->path;
	argv[k++] = "-f";
	if (initial)
		argv[k++] = "--initial";
	argv[k++] = "--no-version-check";
	if (!monitor)
		argv[k++] = "-M";
	argv[k++] = "-c";
	argv[k++] = n->cnf;
	argv[k++] = "-D";
	argv[k++] = n->data;
	argv[k] = NULL;
	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0644), devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (chdir(n->dir) < 0)
			_exit(126);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	n->pid = pid;
	px_cleanup_add(node);
}

static void px_kill(int node);

/* Start node `node`: from its config file when `initial` (a fresh datadir), else from what its
 * datadir saved (proxysql.db).  A port that a client socket holds for a moment (ports in the
 * ephemeral range, with IT_BASE_PORT above 32768) gets a second try. */
static void px_start(int node, bool monitor, bool initial)
{
	struct px_node *n = &nodes[node];
	int tries;

	node_paths(node);
	if (initial) {
		const char *rm[] = { "/bin/rm", "-rf", n->dir, NULL };
		ck_assert_int_eq(it_run(rm, true, NULL, 10000), 0);
		ck_assert_msg(mkdir(n->dir, 0700) == 0 && mkdir(n->data, 0700) == 0, "%s: %s", n->dir, strerror(errno));
		px_write_cnf(node, monitor);
	}
	for (tries = 1;; tries++) {
		long mark = log_size(node);
		px_launch(node, monitor, initial);
		if (px_wait_admin(node, mark))
			return;
		px_kill(node);
		ck_assert_msg(tries < 2, "px%d cannot bind 127.0.0.1:%d or :%d: in use (see %s)", node, admin_port(node),
			      client_port(node), n->log);
		it_note("px%d: 127.0.0.1:%d or :%d in use; once more in a second", node, admin_port(node), client_port(node));
		it_sleep_ms(1000);
	}
}

static void px_reap(int node, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	struct px_node *n = &nodes[node];
	int st;

	while (waitpid(n->pid, &st, WNOHANG) == 0) {
		if (it_now_ms() >= end) {
			it_note("px%d (pid %d) still runs %d ms after SIGTERM; SIGKILL", node, (int)n->pid, timeout_ms);
			kill(n->pid, SIGKILL);
			waitpid(n->pid, &st, 0);
			break;
		}
		it_sleep_ms(20);
	}
	n->pid = 0;
}

static void px_stop(int node)
{
	if (nodes[node].pid <= 0)
		return;
	kill(nodes[node].pid, SIGCONT);   /* a test may have stopped it */
	kill(nodes[node].pid, SIGTERM);
	px_reap(node, PX_STOP_MS);
}

static void px_kill(int node)
{
	if (nodes[node].pid <= 0)
		return;
	kill(nodes[node].pid, SIGKILL);
	px_reap(node, PX_STOP_MS);
}

/* ProxySQLs of this suite that an earlier run (or a test that failed) left running: they hold
 * the ports. */
static void px_kill_leftovers(void)
{
	char prefix[300], path[64], buf[4096];
	struct dirent *e;
	DIR *d = opendir("/proc");
	int i;

	for (i = 1; i <= PX_NODES; i++)
		px_kill(i);
	snprintf(prefix, sizeof(prefix), "%s.px", it.dir);
	while (d && (e = readdir(d)) != NULL) {
		int fd;
		ssize_t n;
		char *p;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, '/');
		if (strcmp(p ? p + 1 : buf, "proxysql"))
			continue;
		for (p = buf; p < buf + n; p += strlen(p) + 1)
			if (!strncmp(p, prefix, strlen(prefix))) {
				it_note("killing a ProxySQL left running (pid %d, %s)", (int)pid, p);
				kill(pid, SIGKILL);
				IT_WAIT_UNTIL(3000, kill(pid, 0) < 0);
				break;
			}
	}
	if (d)
		closedir(d);
}

/* ------------------------------------------------------------------------------------------ */
/* configuration of ProxySQL and cutoverd */

static char *slurp_line(const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

/* The application account, a query rule that keeps the load's @@server_id statements
 * multiplexed (see the top), and with the Monitor the replication hostgroups. */
static void px_prepare(int node, bool monitor)
{
	char path[400], *app;

	snprintf(path, sizeof(path), "%s/secrets/app.pass", it.dir);
	app = slurp_line(path);
	ck_assert_msg(app && *app, "%s: no password", path);
	PX_EXEC(node, "INSERT INTO mysql_users (username, password, default_hostgroup, transaction_persistent) "
		      "VALUES ('app', '%s', %d, 1)", app, WHG);
	free(app);
	PX_EXEC(node, "INSERT INTO mysql_query_rules (rule_id, active, match_digest, multiplex, apply) "
		      "VALUES (1, 1, '@@server_id', 2, 0)");
	if (monitor)
		PX_EXEC(node, "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, check_type, "
			      "comment) VALUES (%d, %d, 'read_only', 'cutoverd integration test')", WHG, RHG);
	PX_EXEC(node, "LOAD MYSQL USERS TO RUNTIME");
	PX_EXEC(node, "SAVE MYSQL USERS TO DISK");
	PX_EXEC(node, "LOAD MYSQL QUERY RULES TO RUNTIME");
	PX_EXEC(node, "SAVE MYSQL QUERY RULES TO DISK");
}

static void px_row_full(int node, int hg, int server, const char *status, int weight, int maxconn,
			const char *comment)
{
	PX_EXEC(node, "INSERT INTO mysql_servers (hostgroup_id, hostname, port, status, weight, max_connections, comment) "
		      "VALUES (%d, '127.0.0.1', %d, '%s', %d, %d, '%s')", hg, it_port(server), status, weight, maxconn,
		comment);
}

static void px_row(int node, int hg, int server, const char *status)
{
	px_row_full(node, hg, server, status, 1, 1000, "");
}

static void layout_readers_all(int node)
{
	int s;

	px_row(node, WHG, 1, "ONLINE");
	for (s = 1; s <= IT_SERVERS; s++)
		px_row(node, RHG, s, "ONLINE");
}

static void layout_readers_replicas(int node)
{
	px_row(node, WHG, 1, "ONLINE");
	px_row(node, RHG, 2, "ONLINE");
	px_row(node, RHG, 3, "ONLINE");
}

static void layout_offline_soft(int node)
{
	px_row(node, WHG, 1, "ONLINE");
	px_row(node, WHG, 2, "OFFLINE_SOFT");
	px_row(node, WHG, 3, "OFFLINE_SOFT");
}

static void layout_db3_unknown(int node)
{
	px_row(node, WHG, 1, "ONLINE");
	px_row(node, RHG, 2, "ONLINE");
}

/* Columns a rollback must put back as they were, not as a default. */
static void layout_custom_rows(int node)
{
	px_row_full(node, WHG, 1, "ONLINE", 7, 333, "primary; don''t touch");
	px_row_full(node, RHG, 1, "ONLINE", 2, 111, "old primary, reads too");
	px_row_full(node, RHG, 2, "ONLINE", 5, 444, "replica \"two\"");
	px_row_full(node, RHG, 3, "OFFLINE_SOFT", 9, 555, "replica three, resting");
}

/* The [router pxN] sections; the cutadmin password goes to a 0600 file. */
static const char *px_cluster_extra;   /* [cluster] keys for the next px_begin, NULL: none */
static const char *px_router_extra;    /* [router pxN] keys for the next px_begin, NULL: none */
static const char *px_config_extra;    /* more sections for the next px_begin, NULL: none */
static bool px_db3_target;             /* db3 in cluster "target" (tenant moves) */
static char *px_conf_text;             /* the config the last px_begin gave cutoverd */

static char *px_config(int n_nodes, int writer_hg, int reader_hg)
{
	char pwfile[400], *extra = NULL, *text;
	size_t len = 0;
	FILE *f;
	int i;

	snprintf(pwfile, sizeof(pwfile), "%s/secrets/proxysql-cutadmin.pass", it.dir);
	ck_assert_msg(it_write_file(pwfile, cut_pw, 0600) == 0, "%s: %s", pwfile, strerror(errno));
	f = open_memstream(&extra, &len);
	for (i = 1; i <= n_nodes; i++)
		fprintf(f, "[router px%d]\n"
			   "cluster = %s\n"
			   "type = proxysql\n"
			   "address = 127.0.0.1:%d\n"
			   "user = cutadmin\n"
			   "password_file = %s\n"
			   "writer_hostgroup = %d\n"
			   "reader_hostgroup = %d\n"
			   "timeout = 2s\n%s\n",
			i, IT_CLUSTER, admin_port(i), pwfile, writer_hg, reader_hg, px_router_extra ? px_router_extra : "");
	if (px_config_extra)
		fprintf(f, "%s\n", px_config_extra);
	fclose(f);
	text = it_config_text_cluster(px_cluster_extra, extra);
	free(extra);
	if (px_db3_target) {
		/* db3 in a cluster of its own: the tenants' target */
		char *at = strstr(text, "[server db3]\ncluster = " IT_CLUSTER "\n"), *out = NULL;
		ck_assert_ptr_nonnull(at);
		ck_assert_int_ge(asprintf(&out, "%.*s[server db3]\ncluster = target\n%s", (int)(at - text), text,
					  at + strlen("[server db3]\ncluster = " IT_CLUSTER "\n")), 0);
		free(text);
		text = out;
	}
	return text;
}

static bool routers_show(int n_nodes, const char *writer)
{
	json_t *st = it_status();
	bool ok = st != NULL;
	char name[16];
	int i;

	for (i = 1; ok && i <= n_nodes; i++) {
		json_t *r;
		snprintf(name, sizeof(name), "px%d", i);
		r = it_router(st, name);
		ok = r && json_is_true(json_object_get(r, "reachable")) &&
		     !strcmp(it_get_str(r, "writer") ?: "", writer);
	}
	json_decref(st);
	return ok;
}

static const char *routers_json(void)
{
	json_t *st = it_status();
	const char *s = it_json_str(it_get(st, "clusters.0.routers"));
	json_decref(st);
	return s;
}

static void make_password(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "%s-%llx", tag, (unsigned long long)it_now_real_us() * 2654435761ULL);
}

/* The Monitor's account on db1 (it replicates): as root over the socket, since the cutoverd
 * account has no GRANT OPTION. */
static void monitor_account(void)
{
	char sock[400], *out = NULL;
	const char *argv[] = { "/usr/bin/mariadb", "--no-defaults", sock, "--user=root", "-e",
			       "CREATE USER IF NOT EXISTS '" MON_USER "'@'127.0.0.1' IDENTIFIED BY '" MON_PASS "'; "
			       "GRANT REPLICATION CLIENT ON *.* TO '" MON_USER "'@'127.0.0.1'", NULL };
	int rc;

	snprintf(sock, sizeof(sock), "--socket=%s/db1/mysqld.sock", it.dir);
	rc = it_run(argv, true, &out, 10000);
	ck_assert_msg(rc == 0, "the monitor account on db1 (exit %d): %s", rc, out ? out : "");
	free(out);
}

/* The ProxySQL nodes of `s` started and filled, cutoverd restarted with a router for each. */
static void px_begin(const struct px_setup *s)
{
	char *text;
	int i;

	px_kill_leftovers();
	make_password(admin_pw, sizeof(admin_pw), "adm");
	make_password(cut_pw, sizeof(cut_pw), "cut");
	if (s->monitor) {
		monitor_account();
		for (i = 2; i <= IT_SERVERS; i++)
			ck_assert_msg(IT_WAIT_UNTIL(5000, it_sql_ll(i, 0, "SELECT COUNT(*) FROM mysql.user WHERE user = '"
								     MON_USER "'") == 1),
				      "the monitor account does not reach db%d", i);
	}
	for (i = 1; i <= s->nodes; i++) {
		px_start(i, s->monitor, true);
		px_prepare(i, s->monitor);
		s->layout(i);
		PX_EXEC(i, "LOAD MYSQL SERVERS TO RUNTIME");
		PX_EXEC(i, "SAVE MYSQL SERVERS TO DISK");
	}
	text = px_config(s->nodes, s->writer_hg, s->reader_hg);
	ck_assert_msg(it_daemon_restart(text) == 0, "cutoverd does not start with the ProxySQL routers");
	free(px_conf_text);
	px_conf_text = text;
	if (!s->wait_ready)
		return;
	ck_assert_msg(IT_WAIT_UNTIL(READY_MS, routers_show(s->nodes, "db1")),
		      "the ProxySQL routers do not show db1 as the writer: %s", routers_json());
	for (i = 2; i <= IT_SERVERS; i++)
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known(it_name_of(i))), "%s's lag stays unknown",
			      it_name_of(i));
}

/* The end of a test that passed: ProxySQL stopped; the baseline back at once (a rebuild when
 * the primary moved, the base config otherwise) rather than after the teardown's wait. */
static void px_end(bool moved)
{
	int i;

	for (i = 1; i <= PX_NODES; i++)
		px_stop(i);
	it_cleanup_run();
	if (moved)
		ck_assert_msg(it_restore_baseline(true, "a ProxySQL test moved the primary"), "no baseline after the test");
	else
		ck_assert_msg(it_daemon_restart(NULL) == 0, "cutoverd does not restart with the base config");
}

/* ------------------------------------------------------------------------------------------ */
/* switchovers, reports and loads */

static json_t *switch_args(const char *to)
{
	return json_pack("{s:s, s:s}", "cluster", IT_CLUSTER, "to", to);
}

static json_t *dry_run(const char *to)
{
	json_t *a = switch_args(to);
	json_object_set_new(a, "dry_run", json_true());
	return it_switchover(a, SWITCH_TIMEOUT_MS, NULL);
}

/* The first check of a report whose message holds every needle (case-insensitively), with
 * the result `result` unless that is NULL; borrowed. */
static json_t *check_with(json_t *report, const char *result, const char *needle, ...)
	__attribute__((sentinel));
static json_t *check_with(json_t *report, const char *result, const char *needle, ...)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(report, "checks"), i, c) {
		const char *msg = it_get_str(c, "message") ?: "", *n;
		bool all = !result || !strcmp(it_get_str(c, "result") ?: "", result);
		va_list ap;

		va_start(ap, needle);
		for (n = needle; all && n; n = va_arg(ap, const char *))
			all = strcasestr(msg, n) != NULL;
		va_end(ap);
		if (all)
			return c;
	}
	return NULL;
}

static void note_report(json_t *r)
{
	json_t *rep = it_report(r);

	it_note("outcome %s; write_blocked_ms %s; longest_block_ms %s; fence_attempts %s; total_ms %s",
		it_get_str(rep, "outcome") ?: "?", it_json_str(json_object_get(rep, "write_blocked_ms")),
		it_json_str(json_object_get(rep, "longest_block_ms")), it_json_str(json_object_get(rep, "fence_attempts")),
		it_json_str(json_object_get(rep, "total_ms")));
	it_note("phases %s", it_json_str(json_object_get(rep, "phases")));
}

/* The first errors a load's client saw, as its acks file has them: the session's server (0:
 * the connect failed), how long the attempt took, and when, from the first error on. */
static void note_errors(const struct it_load *l, const char *who)
{
	FILE *f = fopen(l->acks, "r");
	long long first_us = 0;
	char line[4096];
	int n = 0;

	while (f && n < 3 && fgets(line, sizeof(line), f)) {
		char *col[7], *save = NULL, *p = line;
		int k;

		line[strcspn(line, "\n")] = '\0';
		for (k = 0; k < 7 && (col[k] = strtok_r(p, "\t", &save)) != NULL; k++)
			p = NULL;
		if (k < 6 || strcmp(col[3], "err"))
			continue;
		if (!first_us)
			first_us = atoll(col[1]);
		it_note("%s client error at +%.1f ms (took %.1f ms, server_id %s): errno %s: %s", who,
			(double)(atoll(col[1]) - first_us) / 1000.0, (double)(atoll(col[2]) - atoll(col[1])) / 1000.0,
			col[5], col[4], k == 7 ? col[6] : "");
		n++;
	}
	if (f)
		fclose(f);
}

/* Loads side by side write ids START_SPAN apart (it_lib.c): a load's own rows lie below the
 * next one's start. */
#define START_SPAN 10000000000000LL

/* Rows of this load alone on `server` written while connected to that server. */
static long long rows_on(const struct it_load *l, int server)
{
	return it_sql_ll(server, -1, "SELECT COUNT(*) FROM app.writes WHERE id >= %lld AND id < %lld AND server_id = %d",
			 l->start_id, l->start_id + START_SPAN, server);
}

/* From the rows on `server`: the time between the load's last write sent to db1 and its first
 * sent to `server` (a multiplexed client never reconnects, so its own window stays null). */
static void note_rows_window(const struct it_load *l, int server, const char *who)
{
	char *v = it_sql1(server, "SELECT (MIN(IF(server_id = %d, client_ts, NULL)) - MAX(IF(server_id = 1, client_ts, "
				  "NULL))) / 1000 FROM app.writes WHERE id >= %lld AND id < %lld", server, l->start_id,
			  l->start_id + START_SPAN);
	it_note("%s: %s ms between the last write on db1 and the first on %s", who, v ? v : "?", it_name_of(server));
	free(v);
}

static void load_start(struct it_load *l, const char *tag, int node, int interval_us, bool pinned)
{
	ck_assert_int_eq(it_load_start_at(l, tag, interval_us, client_port(node), "persistent", pinned), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, rows_on(l, 1) >= LOAD_ROWS),
		      "the %s load through px%d does not reach db1 (see %s)", tag, node, l->err);
}

/* Stop a load that was writing when the primary moved to `server`: once it lands there, its
 * summary (new reference); every acknowledged write must be on `server`. */
static json_t *load_finish(struct it_load *l, const char *who, int server)
{
	json_t *sum, *v;
	int status;

	ck_assert_msg(IT_WAIT_UNTIL(10000, rows_on(l, server) >= LOAD_ROWS),
		      "the %s client's writes do not reach %s", who, it_name_of(server));
	sum = it_load_stop(l);
	ck_assert_msg(sum != NULL, "no summary from the %s client (%s)", who, l->err);
	v = it_load_verify(l, server, &status);
	ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0,
		      "%s client: acknowledged writes missing on %s: %s", who, it_name_of(server), it_json_str(v));
	it_note("%s client: %s", who, it_json_str(sum));
	note_errors(l, who);
	json_decref(v);
	return sum;
}

static long long load_errors(json_t *sum)
{
	return json_integer_value(json_object_get(sum, "errors"));
}

/* A switchover to db2 with a multiplexed client writing through each node: done; the clients
 * lose nothing and see no error (ProxySQL holds their queries while the writer hostgroup has
 * no ONLINE server). */
static void switch_under_load(int n_nodes)
{
	struct it_load l[PX_NODES + 1];
	char tag[32];
	json_t *r, *sum;
	int i;

	for (i = 1; i <= n_nodes; i++) {
		snprintf(tag, sizeof(tag), "px%d-multiplexed", i);
		load_start(&l[i], tag, i, i == 1 && n_nodes == 1 ? LOAD_US : SIDE_LOAD_US, false);
	}
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to db2: %s", it_json_str(r));
	note_report(r);
	json_decref(r);
	for (i = 1; i <= n_nodes; i++) {
		snprintf(tag, sizeof(tag), "px%d multiplexed", i);
		sum = load_finish(&l[i], tag, 2);
		note_rows_window(&l[i], 2, tag);
		ck_assert_msg(load_errors(sum) == 0, "the multiplexed client through px%d saw %lld error(s)", i,
			      load_errors(sum));
		json_decref(sum);
	}
}

/* What finalize saved is what runs: disk.mysql_servers equals mysql_servers (a SAVE … TO DISK
 * after the window). */
static void assert_saved(int node)
{
	char *main_rows = NULL, *disk = NULL;
	bool same = IT_WAIT_UNTIL(5000, (free(main_rows), free(disk), main_rows = px_table(node, "mysql_servers"),
					 disk = px_table(node, "disk.mysql_servers"), same_text(main_rows, disk)));

	ck_assert_msg(same, "px%d: disk.mysql_servers differs from mysql_servers:\n--- mysql_servers\n%s\n--- disk\n%s",
		      node, main_rows ?: px_err, disk ?: px_err);
	free(main_rows);
	free(disk);
}

static void assert_hg(int node, const char *table, int hg, const char *want)
{
	const char *got = px_hg(node, table, hg);
	ck_assert_msg(!strcmp(got, want), "px%d %s hostgroup %d: '%s', wanted '%s'", node, table, hg, got, want);
}

/* mysql_servers and runtime_mysql_servers of a node, every column. */
struct px_rows {
	char *main, *runtime;
};

static void rows_take(int node, struct px_rows *r)
{
	r->main = px_table(node, "mysql_servers");
	r->runtime = px_table(node, "runtime_mysql_servers");
	ck_assert_msg(r->main && r->runtime, "%s", px_err);
}

static bool rows_same(int node, const struct px_rows *want, struct px_rows *now)
{
	free(now->main);
	free(now->runtime);
	now->main = px_table(node, "mysql_servers");
	now->runtime = px_table(node, "runtime_mysql_servers");
	return same_text(want->main, now->main) && same_text(want->runtime, now->runtime);
}

static void rows_assert_same(int node, const struct px_rows *want, const char *ctx)
{
	struct px_rows now = { NULL, NULL };

	ck_assert_msg(IT_WAIT_UNTIL(3000, rows_same(node, want, &now)),
		      "%s: px%d's rows are not what they were\n--- mysql_servers before\n%s\n--- now\n%s\n"
		      "--- runtime_mysql_servers before\n%s\n--- now\n%s", ctx, node, want->main, now.main ?: px_err,
		      want->runtime, now.runtime ?: px_err);
	free(now.main);
	free(now.runtime);
}

static void rows_free(struct px_rows *r)
{
	free(r->main);
	free(r->runtime);
	r->main = r->runtime = NULL;
}

/* db1 the writable primary, db2 and db3 read-only replicating from it. */
static void assert_cluster_unchanged(const char *ctx)
{
	int i;

	ck_assert_msg(IT_WAIT_UNTIL(5000, it_read_only(1) == 0), "%s: db1 is not writable (read_only %d)", ctx,
		      it_read_only(1));
	for (i = 2; i <= IT_SERVERS; i++) {
		ck_assert_msg(it_read_only(i) == 1, "%s: db%d is not read-only", ctx, i);
		ck_assert_msg(IT_WAIT_UNTIL(10000, it_follows(i, 1)), "%s: db%d does not replicate from db1", ctx, i);
	}
}

/* A switchover to db2 that pauses before `phase`, on c. */
static void start_paused(struct it_conn *c, const char *phase)
{
	json_t *a = switch_args("db2"), *p, *final = NULL;

	json_object_set_new(a, "pause_before", json_string(phase));
	ck_assert_int_eq(it_conn_request(c, "switchover", a), 0);
	p = it_conn_progress_until(c, "paused", 20000, &final);
	ck_assert_msg(p != NULL, "the switchover did not pause before %s: %s", phase, it_json_str(final));
	ck_assert_msg(!strcmp(it_get_str(p, "progress.phase") ?: "", phase), "paused in phase %s, not before %s",
		      it_get_str(p, "progress.phase") ?: "?", phase);
	it_note("paused: %s", it_get_str(p, "progress.message") ?: "");
	json_decref(p);
}

static void send_command(const char *cmd)
{
	json_t *r = it_call(cmd, json_pack("{s:s}", "cluster", IT_CLUSTER), 5000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "%s: %s", cmd, it_json_str(r));
	json_decref(r);
}

/* ------------------------------------------------------------------------------------------ */
/* the cases */

/* a. Writer hostgroup db1, reader hostgroup all three; a multiplexed client through ProxySQL. */
static void readers_all(void)
{
	static const struct px_setup s = { 1, false, layout_readers_all, WHG, RHG, true };

	px_begin(&s);
	switch_under_load(1);
	assert_hg(1, "runtime_mysql_servers", WHG, "db2:ONLINE");
	assert_hg(1, "runtime_mysql_servers", RHG, "db1:ONLINE db2:ONLINE db3:ONLINE");
	assert_hg(1, "mysql_servers", WHG, "db2:ONLINE");
	assert_saved(1);
	px_end(true);
}

/* b. Reader hostgroup the replicas only: the old primary joins it, the new one leaves it. */
static void readers_replicas(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };

	px_begin(&s);
	switch_under_load(1);
	assert_hg(1, "runtime_mysql_servers", WHG, "db2:ONLINE");
	assert_hg(1, "runtime_mysql_servers", RHG, "db1:ONLINE db3:ONLINE");
	assert_saved(1);
	px_end(true);
}

/* c. The replicas OFFLINE_SOFT in the writer hostgroup, no reader hostgroup: the roles swap and
 *    the layout stays. */
static void offline_soft_replicas(void)
{
	static const struct px_setup s = { 1, false, layout_offline_soft, WHG, -1, true };

	px_begin(&s);
	switch_under_load(1);
	assert_hg(1, "runtime_mysql_servers", WHG, "db1:OFFLINE_SOFT db2:ONLINE db3:OFFLINE_SOFT");
	assert_hg(1, "runtime_mysql_servers", RHG, "-");
	assert_saved(1);
	px_end(true);
}

static bool monitor_reads_read_only(int node)
{
	struct it_rows *r = px_query(node, "SELECT COUNT(*) FROM monitor.mysql_server_read_only_log WHERE error IS NULL");
	bool ok = r && r->nrows && atoll(r->cells[0] ?: "0") >= IT_SERVERS;
	it_rows_free(r);
	return ok;
}

/* Sample runtime_mysql_servers: db2 ONLINE in the writer hostgroup, db1 never ONLINE there. */
static void watch_monitor(int node, int ms)
{
	int64_t end = it_now_ms() + ms;
	int samples = 0;

	while (it_now_ms() < end) {
		const char *w = px_hg(node, "runtime_mysql_servers", WHG);
		ck_assert_msg(!strstr(w, "db1:ONLINE"), "after %d samples the Monitor put db1 back into the writer "
			      "hostgroup: %s", samples, w);
		ck_assert_msg(strstr(w, "db2:ONLINE") != NULL, "after %d samples the writer hostgroup lacks db2 ONLINE: %s",
			      samples, w);
		samples++;
		it_sleep_ms(20);
	}
	it_note("%d samples of runtime_mysql_servers over %d ms: db2 alone ONLINE as the writer", samples, ms);
}

/* d. mysql_replication_hostgroups with the Monitor on: preflight says which mode it is in; the
 *    switchover works with the Monitor, which never puts the old primary back. */
static void monitor(void)
{
	static const struct px_setup s = { 1, true, layout_readers_all, WHG, RHG, true };
	json_t *r, *c;
	char *rows;

	px_begin(&s);
	ck_assert_msg(IT_WAIT_UNTIL(10000, monitor_reads_read_only(1)), "px1's Monitor does not read read_only: %s",
		      px_err);
	rows = px_table(1, "runtime_mysql_servers");
	it_note("runtime_mysql_servers with the Monitor on, before:\n%s", rows ?: px_err);
	free(rows);
	r = dry_run("db2");
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "dry run: %s", it_json_str(r));
	c = check_with(it_report(r), NULL, "mysql_replication_hostgroups", NULL);
	if (!c)
		c = check_with(it_report(r), NULL, "monitor", NULL);
	ck_assert_msg(c != NULL, "no check says that ProxySQL's Monitor moves servers (mysql_replication_hostgroups): %s",
		      it_json_str(json_object_get(it_report(r), "checks")));
	it_note("preflight: %s: %s", it_get_str(c, "check") ?: "?", it_get_str(c, "message") ?: "");
	json_decref(r);

	switch_under_load(1);
	watch_monitor(1, MONITOR_WATCH_MS);
	/* the Monitor keeps the writer a reader too (mysql-monitor_writer_is_also_reader) */
	assert_hg(1, "runtime_mysql_servers", RHG, "db1:ONLINE db2:ONLINE db3:ONLINE");
	assert_saved(1);
	rows = px_table(1, "mysql_servers");
	it_note("mysql_servers after the switchover and %d ms of the Monitor:\n%s", MONITOR_WATCH_MS, rows ?: px_err);
	free(rows);
	rows = px_table(1, "runtime_mysql_servers");
	it_note("runtime_mysql_servers:\n%s", rows ?: px_err);
	free(rows);
	px_end(true);
}

/* e. A multiplexed and a pinned client side by side: the pinned one is cut once and reconnects
 *    to the new primary; neither loses a write.  A fence held up past its budget is undone (the
 *    routers too, so that writes flow meanwhile) and tried again: a pinned session that
 *    reconnected in between is on the old primary again and is cut by each try. */
static void pinned(void)
{
	static const struct px_setup s = { 1, false, layout_readers_all, WHG, RHG, true };
	struct it_load mux, pin;
	json_t *r, *smux, *spin;
	long long tries;

	px_begin(&s);
	load_start(&mux, "px1-multiplexed", 1, SIDE_LOAD_US, false);
	load_start(&pin, "px1-pinned", 1, SIDE_LOAD_US, true);
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to db2: %s", it_json_str(r));
	note_report(r);
	tries = json_integer_value(json_object_get(it_report(r), "fence_attempts"));
	json_decref(r);
	smux = load_finish(&mux, "multiplexed", 2);
	spin = load_finish(&pin, "pinned", 2);
	note_rows_window(&mux, 2, "multiplexed");
	ck_assert_msg(load_errors(smux) == 0, "the multiplexed client saw %lld error(s)", load_errors(smux));
	ck_assert_msg(tries >= 1, "the report counts %lld fence attempts", tries);
	ck_assert_msg(load_errors(spin) <= tries, "the pinned client saw %lld errors (at most 1 per fence attempt: %lld)",
		      load_errors(spin), tries);
	/* ProxySQL could also move a pinned session to a new backend behind its back (its user
	 * variables lost): that the client reconnected is said, not assumed. */
	it_note("pinned client: %lld error(s), connected to server_id %s after it", load_errors(spin),
		it_json_str(json_object_get(spin, "new_server_id")));
	json_decref(smux);
	json_decref(spin);
	px_end(true);
}

/* f1. Two ProxySQL nodes in front of the cluster: one switchover moves both. */
static void two_nodes_switch(void)
{
	static const struct px_setup s = { 2, false, layout_readers_all, WHG, RHG, true };
	int i;

	px_begin(&s);
	switch_under_load(2);
	for (i = 1; i <= 2; i++) {
		assert_hg(i, "runtime_mysql_servers", WHG, "db2:ONLINE");
		assert_saved(i);
	}
	px_end(true);
}

static bool router_unreachable(const char *name)
{
	json_t *st = it_status();
	bool ok = st && json_is_false(json_object_get(it_router(st, name), "reachable"));
	json_decref(st);
	return ok;
}

/* f2. One of the two does not answer (SIGSTOP): refused in preflight, nothing changed. */
static void two_nodes_refusal(void)
{
	static const struct px_setup s = { 2, false, layout_readers_all, WHG, RHG, true };
	struct px_rows before[3];
	json_t *r, *c;
	int i;

	px_begin(&s);
	for (i = 1; i <= 2; i++)
		rows_take(i, &before[i]);
	ck_assert_int_eq(kill(nodes[2].pid, SIGSTOP), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, router_unreachable("px2")), "status does not show px2 unreachable: %s",
		      routers_json());
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")), "the switchover went ahead with px2 stopped: %s",
		      it_json_str(r));
	ck_assert_msg(!strcmp(it_get_str(it_report(r), "outcome") ?: "", "refused"), "not refused in preflight: %s",
		      it_json_str(r));
	c = check_with(it_report(r), "fail", "px2", NULL);
	ck_assert_msg(c != NULL, "no failed check names px2: %s", it_json_str(json_object_get(it_report(r), "checks")));
	it_note("refused: %s: %s", it_get_str(c, "check") ?: "?", it_get_str(c, "message") ?: "");
	json_decref(r);
	assert_cluster_unchanged("after the refusal");
	rows_assert_same(1, &before[1], "after the refusal");
	ck_assert_int_eq(kill(nodes[2].pid, SIGCONT), 0);
	rows_assert_same(2, &before[2], "after the refusal, px2 running again");
	for (i = 1; i <= 2; i++)
		rows_free(&before[i]);
	px_end(false);
}

/* f3. One of the two dies inside the switchover (SIGKILL while paused before the fence): both
 *     rolled back — px1 by the rollback, px2 because nothing reached its disk. */
static void two_nodes_rollback(void)
{
	static const struct px_setup s = { 2, false, layout_readers_all, WHG, RHG, true };
	struct px_rows before[3];
	struct it_load l;
	struct it_conn *c;
	json_t *r, *sum, *v;
	long long n0;
	int i, status;

	px_begin(&s);
	for (i = 1; i <= 2; i++)
		rows_take(i, &before[i]);
	load_start(&l, "px1-multiplexed", 1, LOAD_US, false);
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	start_paused(c, "fence");
	px_kill(2);
	send_command("resume");
	r = it_conn_reply(c, SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r != NULL, "no final reply after resuming with px2 killed");
	ck_assert_msg(!json_is_true(json_object_get(r, "ok")), "the switchover succeeded with px2 killed: %s",
		      it_json_str(r));
	it_note("with px2 killed: %s: %s", it_get_str(it_report(r), "outcome") ?: "?",
		it_get_str(r, "error.message") ?: it_json_str(r));
	note_report(r);
	json_decref(r);
	it_conn_close(c);

	assert_cluster_unchanged("after the rollback");
	rows_assert_same(1, &before[1], "after the rollback");
	px_start(2, false, false);
	rows_assert_same(2, &before[2], "px2 restarted from its datadir");
	n0 = rows_on(&l, 1);
	ck_assert_msg(IT_WAIT_UNTIL(10000, rows_on(&l, 1) >= n0 + LOAD_ROWS),
		      "writes through px1 do not reach db1 after the rollback");
	sum = it_load_stop(&l);
	ck_assert_msg(sum != NULL, "no summary from the load (%s)", l.err);
	v = it_load_verify(&l, 1, &status);
	ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0,
		      "acknowledged writes missing on db1: %s", it_json_str(v));
	it_note("load through px1: %s", it_json_str(sum));
	note_errors(&l, "multiplexed");
	json_decref(v);
	json_decref(sum);
	for (i = 1; i <= 2; i++)
		rows_free(&before[i]);
	px_end(false);
}

/* g. Rows with a weight, max_connections and a comment of their own: a switchover aborted
 *    before promote puts every column of every row back, and saves nothing. */
static void rollback_restores_rows(void)
{
	static const struct px_setup s = { 1, false, layout_custom_rows, WHG, RHG, true };
	struct px_rows before;
	struct it_conn *c;
	char *disk, *disk_after = NULL;
	json_t *r;

	px_begin(&s);
	rows_take(1, &before);
	disk = px_table(1, "disk.mysql_servers");
	ck_assert_ptr_nonnull(disk);
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	start_paused(c, "promote");
	send_command("abort");
	r = it_conn_reply(c, SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) &&
			      !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back"),
		      "wanted a rollback after the abort: %s", it_json_str(r));
	json_decref(r);
	it_conn_close(c);
	assert_cluster_unchanged("after the abort");
	rows_assert_same(1, &before, "after the abort");
	disk_after = px_table(1, "disk.mysql_servers");
	ck_assert_msg(same_text(disk, disk_after), "the aborted switchover changed disk.mysql_servers:\n--- before\n%s\n"
		      "--- after\n%s", disk, disk_after ?: px_err);
	it_note("every column of mysql_servers and runtime_mysql_servers as before:\n%s", before.runtime);
	free(disk);
	free(disk_after);
	rows_free(&before);
	px_end(false);
}

static const char *router_error(const char *name)
{
	static char buf[1024];
	json_t *st = it_status();

	snprintf(buf, sizeof(buf), "%s", it_get_str(it_router(st, name), "error") ?: "");
	json_decref(st);
	return buf;
}

/* The clash seen by a cutoverd whose admin session is still open: in the router's error, or
 * in a failed check of a dry run. */
static bool clash_said(json_t **dry)
{
	if (strstr(router_error("px1"), "mysql_users"))
		return true;
	json_decref(*dry);
	*dry = dry_run("db2");
	return *dry && !json_is_true(json_object_get(*dry, "ok")) &&
	       check_with(it_report(*dry), "fail", "mysql_users", NULL) != NULL;
}

/* h1. An admin user that is also in mysql_users: ProxySQL refuses its admin login, the router's
 *     error says why.  ProxySQL checks at login only and a session already open goes on
 *     working: first what cutoverd says with its session open, then, restarted, with a login
 *     that is refused (as after a reboot). */
static void error_admin_user_clash(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	json_t *dry = NULL;
	char *conf;
	MYSQL *db;

	px_begin(&s);
	PX_EXEC(1, "INSERT INTO mysql_users (username, password, default_hostgroup) VALUES ('cutadmin', 'x', %d)", WHG);
	PX_EXEC(1, "LOAD MYSQL USERS TO RUNTIME");
	db = px_connect(1, "cutadmin", cut_pw);
	ck_assert_msg(db == NULL, "ProxySQL still lets cutadmin into its admin interface with the clash");
	it_note("cutadmin's own login: %s", px_err);
	ck_assert_msg(IT_WAIT_UNTIL(5000, clash_said(&dry)), "with its session open, cutoverd says nothing of "
		      "mysql_users: px1's error '%s'; dry run %s", router_error("px1"), it_json_str(dry));
	it_note("session open: px1's error '%s'; dry run: %s", router_error("px1"),
		dry ? it_get_str(dry, "error.message") ?: "ok" : "(not needed)");
	json_decref(dry);
	conf = px_config(1, WHG, RHG);
	ck_assert_msg(it_daemon_restart(conf) == 0, "cutoverd does not restart");
	free(conf);
	ck_assert_msg(IT_WAIT_UNTIL(10000, strstr(router_error("px1"), "mysql_users") != NULL),
		      "px1's error does not mention mysql_users: '%s'", router_error("px1"));
	it_note("px1: %s", router_error("px1"));
	PX_EXEC(1, "DELETE FROM mysql_users WHERE username = 'cutadmin'");
	PX_EXEC(1, "LOAD MYSQL USERS TO RUNTIME");
	ck_assert_msg(IT_WAIT_UNTIL(10000, routers_show(1, "db1")), "px1 is not reachable again: %s", routers_json());
	px_end(false);
}

static bool polled(const char *name)
{
	json_t *st = it_status();
	json_t *r = it_router(st, name);
	bool ok = r && (json_is_true(json_object_get(r, "reachable")) || json_is_string(json_object_get(r, "error")));
	json_decref(st);
	return ok;
}

/* h2. writer_hostgroup = 99, a hostgroup ProxySQL does not have: the error names it, and a
 *     switchover is refused. */
static void error_writer_hostgroup_missing(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, 99, RHG, false };
	json_t *r, *c;
	const char *err;

	px_begin(&s);
	ck_assert_msg(IT_WAIT_UNTIL(READY_MS, polled("px1")), "px1 is never polled: %s", routers_json());
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_lag_known("db2")), "db2's lag stays unknown");
	err = router_error("px1");
	r = dry_run("db2");
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")), "a dry run with writer_hostgroup 99 passed: %s",
		      it_json_str(r));
	c = check_with(it_report(r), "fail", "hostgroup 99", NULL);
	ck_assert_msg(strcasestr(err, "hostgroup 99") || c, "neither px1's error ('%s') nor a failed check names hostgroup "
		      "99: %s", err, it_json_str(json_object_get(it_report(r), "checks")));
	it_note("px1's error: '%s'; check: %s", err, c ? it_get_str(c, "message") : "(none)");
	json_decref(r);
	px_end(false);
}

/* h3. A candidate ProxySQL does not know at all: preflight says the promote adds it, and it
 *     does. */
static void error_candidate_unknown(void)
{
	static const struct px_setup s = { 1, false, layout_db3_unknown, WHG, RHG, true };
	json_t *r, *c;

	px_begin(&s);
	r = dry_run("db3");
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "dry run to db3, which ProxySQL does not know: %s",
		      it_json_str(r));
	c = check_with(it_report(r), NULL, "db3", "add", NULL);
	ck_assert_msg(c != NULL, "no check says the promote adds db3: %s",
		      it_json_str(json_object_get(it_report(r), "checks")));
	it_note("preflight: %s: %s", it_get_str(c, "check") ?: "?", it_get_str(c, "message") ?: "");
	json_decref(r);
	r = it_switchover(switch_args("db3"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to db3: %s", it_json_str(r));
	json_decref(r);
	assert_hg(1, "runtime_mysql_servers", WHG, "db3:ONLINE");
	assert_saved(1);
	px_end(true);
}

static bool refused_naming_runtime(json_t **out)
{
	json_t *r = dry_run("db2");
	bool ok = r && !json_is_true(json_object_get(r, "ok")) &&
		  check_with(it_report(r), "fail", "px1", "runtime", NULL) != NULL;

	json_decref(*out);
	*out = r;
	return ok;
}

/* h4. mysql_servers edited and not loaded: ProxySQL answers, but its runtime is not its
 *     configuration; a switchover (which LOADs) would apply the edit behind the operator's
 *     back, so it is refused, and the dry run loads nothing. */
static void error_runtime_differs(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	json_t *r = NULL, *c;

	px_begin(&s);
	PX_EXEC(1, "UPDATE mysql_servers SET weight = 5 WHERE hostgroup_id = %d", WHG);
	ck_assert_msg(IT_WAIT_UNTIL(5000, refused_naming_runtime(&r)),
		      "no dry run refused with a failed check naming px1's runtime: %s", it_json_str(r));
	c = check_with(it_report(r), "fail", "px1", "runtime", NULL);
	it_note("refused: %s: %s", it_get_str(c, "check") ?: "?", it_get_str(c, "message") ?: "");
	json_decref(r);
	{
		struct it_rows *rt = px_query(1, "SELECT weight FROM runtime_mysql_servers WHERE hostgroup_id = %d", WHG);
		ck_assert_msg(rt && rt->nrows == 1 && !strcmp(rt->cells[0] ?: "", "1"),
			      "the dry run changed px1's runtime (writer weight %s)", rt && rt->nrows ? rt->cells[0] : "?");
		it_rows_free(rt);
	}
	px_end(false);
}

/* No binary: say so loudly (or fail, when one is required or a named one does not run). */
static void binary(void)
{
	const char *req = getenv("CUTOVER_REQUIRE_PROXYSQL");

	ck_assert_msg(!*unusable, "CUTOVER_PROXYSQL names binaries whose --version fails: %s", unusable);
	ck_assert_msg(!(req && !strcmp(req, "1")), "CUTOVER_REQUIRE_PROXYSQL=1 and " NO_BINARY);
	it_skip_suite(NO_BINARY);
}

/* The watch after a switchover reads ProxySQL's counters: a query rule that sends a canary query
 * to a missing table makes errors on the new primary (stats_mysql_errors), and with watch_action =
 * reverse cutoverd switches back to the old primary on its own, losing no acknowledged write. */
static void watch_reverses_on_error_rate(void)
{
	static const struct px_setup s = { 1, false, layout_readers_all, WHG, RHG, true };
	struct it_load l;
	json_t *r, *sum, *st;
	char path[400], *pw;
	MYSQL *db;
	int i, fails = 0;
	unsigned t = 3;

	px_cluster_extra = "watch = 10m\nwatch_action = reverse\nwatch_error_rate = 5%\n";
	px_begin(&s);
	px_cluster_extra = NULL;
	PX_EXEC(1, "INSERT INTO mysql_query_rules (rule_id, active, match_pattern, replace_pattern, destination_hostgroup, "
		   "apply) VALUES (900, 1, '^SELECT .cutover canary.$', 'SELECT * FROM app.cutover_missing', %d, 1)", WHG);
	PX_EXEC(1, "LOAD MYSQL QUERY RULES TO RUNTIME");
	load_start(&l, "watch", 1, LOAD_US, false);
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover to db2: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(10000, rows_on(&l, 2) >= LOAD_ROWS), "the load does not reach db2");
	st = it_status();
	ck_assert_str_eq(it_get_str(st, "clusters.0.watch.new_primary") ?: "", "db2");
	json_decref(st);

	/* canary queries that fail on db2, through ProxySQL */
	snprintf(path, sizeof(path), "%s/secrets/app.pass", it.dir);
	pw = slurp_line(path);
	db = mysql_init(NULL);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &t);
	ck_assert_msg(pw && mysql_real_connect(db, "127.0.0.1", "app", pw, NULL, (unsigned)client_port(1), NULL, 0),
		      "connecting through px1: %s", mysql_error(db));
	for (i = 0; i < 3000 && it_read_only(1) != 0; i++) {
		if (mysql_query(db, "SELECT 'cutover canary'") != 0) {
			fails++;
			if (mysql_errno(db) >= 2000 && mysql_errno(db) != 2014) {   /* the connection is gone */
				mysql_close(db);
				db = mysql_init(NULL);
				mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &t);
				mysql_real_connect(db, "127.0.0.1", "app", pw, NULL, (unsigned)client_port(1), NULL, 0);
			}
		} else {
			MYSQL_RES *res = mysql_store_result(db);
			mysql_free_result(res);
		}
		it_sleep_ms(20);
	}
	mysql_close(db);
	free(pw);
	ck_assert_msg(fails > 0, "the canary queries did not fail: the rule is not in force");
	ck_assert_msg(IT_WAIT_UNTIL(SWITCH_TIMEOUT_MS, it_read_only(1) == 0 && it_writable_count() == 1 &&
							   routers_show(1, "db1")),
		      "the watch did not switch back to db1 (%d canary queries failed): %s", fails, routers_json());
	sum = load_finish(&l, "watch", 1);
	it_note("the watch switched back after %d failing canary queries; the load: %s", fails, it_json_str(sum));
	json_decref(sum);
	px_end(true);
}

static void read_shift_passes(void);
static void read_shift_gate_breached(void);
static void read_shift_abort_and_restart(void);
static void read_shift_then_failover(void);
static void read_shift_leader_killed(void);
static void tenant_move_batches(void);
static void tenant_rollback_and_restart(void);
static void tenant_refusals_and_abort(void);
static void tenant_hostgroup_follows_switchover(void);
static void tenant_leader_killed(void);

static const struct it_case cases[] = {
	{ "readers_all", readers_all },
	{ "readers_replicas", readers_replicas },
	{ "offline_soft_replicas", offline_soft_replicas },
	{ "monitor", monitor },
	{ "pinned", pinned },
	{ "two_nodes_switch", two_nodes_switch },
	{ "two_nodes_refusal", two_nodes_refusal },
	{ "two_nodes_rollback", two_nodes_rollback },
	{ "rollback_restores_rows", rollback_restores_rows },
	{ "error_admin_user_clash", error_admin_user_clash },
	{ "error_writer_hostgroup_missing", error_writer_hostgroup_missing },
	{ "error_candidate_unknown", error_candidate_unknown },
	{ "error_runtime_differs", error_runtime_differs },
	{ "watch_reverses_on_error_rate", watch_reverses_on_error_rate },
	{ "read_shift_passes", read_shift_passes },
	{ "read_shift_gate_breached", read_shift_gate_breached },
	{ "read_shift_abort_and_restart", read_shift_abort_and_restart },
	{ "read_shift_then_failover", read_shift_then_failover },
	{ "read_shift_leader_killed", read_shift_leader_killed },
	{ "tenant_move_batches", tenant_move_batches },
	{ "tenant_rollback_and_restart", tenant_rollback_and_restart },
	{ "tenant_refusals_and_abort", tenant_refusals_and_abort },
	{ "tenant_hostgroup_follows_switchover", tenant_hostgroup_follows_switchover },
	{ "tenant_leader_killed", tenant_leader_killed },
};

/* ------------------------------------------------------------------------------------------ */
/* read shifts */

/* Reads (cutover-load's read client: SELECT COUNT(*) FROM app.writes ...) to the reader
 * hostgroup; everything else stays on the user's default, the writer hostgroup. */
static void reads_to_readers(int node)
{
	PX_EXEC(node, "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply) "
		      "VALUES (2, 1, '^SELECT COUNT\\(\\*\\) FROM app\\.writes', %d, 1)", RHG);
	PX_EXEC(node, "LOAD MYSQL QUERY RULES TO RUNTIME");
}

static json_t *shift_call(const char *to, const char *steps, int hold_ms, const char *gate, json_t *progress)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *r;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "shift", json_pack("{s:s, s:s, s:s, s:i, s:s}", "cluster", IT_CLUSTER, "to", to,
							       "steps", steps, "hold_ms", hold_ms, "gate", gate)), 0);
	r = it_conn_reply(c, 120000, progress);
	it_conn_close(c);
	return r;
}

/* A read shift under a mixed load whose gates pass: 10 -> 50 -> 100 % of the reads to db3, each
 * step's observed share printed, the writes untouched, db2 OFFLINE_SOFT in the reader hostgroup
 * at the end. */
static void read_shift_passes(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	struct it_load rd, wr;
	json_t *r, *rep, *st, *progress = json_array(), *x;
	size_t k;
	int vstatus;

	px_begin(&s);
	reads_to_readers(1);
	ck_assert_int_eq(it_load_start_at(&rd, "shift-reads", 2000, client_port(1), "read", false), 0);
	load_start(&wr, "shift-writes", 1, SIDE_LOAD_US, false);
	r = shift_call("db3", "10,50,100", 3000, "error_rate<5%,lag<5s", progress);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
		      "read shift: %s\n%s", it_json_str(r), it_json_str(progress));
	json_array_foreach(json_object_get(rep, "done"), k, x) {
		double asked = (double)json_integer_value(json_object_get(x, "percent"));
		double seen = json_number_value(json_object_get(x, "observed_percent"));
		it_note("step %.0f%%: db3 served %.1f%% of %lld reads", asked, seen,
			(long long)json_integer_value(json_object_get(x, "reads")));
		ck_assert_msg(json_is_number(json_object_get(x, "observed_percent")), "no observed share: %s", it_json_str(x));
		/* a share, not an accident: within half and twice what was asked (100 %: nearly all) */
		ck_assert_msg(asked == 100 ? seen >= 90 : seen >= asked / 2 && seen <= asked * 2,
			      "step %.0f%%: db3 served %.1f%%", asked, seen);
	}
	assert_hg(1, "runtime_mysql_servers", RHG, "db2:OFFLINE_SOFT db3:ONLINE");
	assert_hg(1, "runtime_mysql_servers", WHG, "db1:ONLINE");
	st = it_status();
	ck_assert_str_eq(it_get_str(st, "clusters.0.shift.state") ?: "", "done");
	json_decref(st);
	{
		json_t *sum = it_load_stop(&wr), *v = it_load_verify(&wr, 1, &vstatus);
		ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0, "writes lost: %s",
			      it_json_str(v));
		ck_assert_int_eq(load_errors(sum), 0);
		json_decref(sum);
		json_decref(v);
		sum = it_load_stop(&rd);
		it_note("the read client: %s", it_json_str(sum));
		ck_assert_int_eq(load_errors(sum), 0);
		json_decref(sum);
	}
	json_decref(r);
	json_decref(progress);
	px_end(false);
}

/* The target falls behind (its SQL thread stopped): the gate lag<1s is breached during a hold,
 * and the shift rolls back to 0 % on its own — the reader hostgroup as it was. */
static void read_shift_gate_breached(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	struct it_load rd;
	json_t *r, *rep, *progress = json_array();
	const char *reason;
	struct px_rows before;

	px_begin(&s);
	reads_to_readers(1);
	rows_take(1, &before);
	ck_assert_int_eq(it_load_start_at(&rd, "shift-reads", 2000, client_port(1), "read", false), 0);
	ck_assert_int_eq(it_sql_exec(3, "STOP SLAVE SQL_THREAD"), 0);
	r = shift_call("db3", "5,10,25,50,100", 4000, "lag<1s", progress);
	rep = it_report(r);
	reason = it_get_str(rep, "reason");
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) &&
			      !strcmp(it_get_str(rep, "outcome") ?: "", "rolled_back"),
		      "read shift with db3 lagging: %s", it_json_str(r));
	ck_assert_msg(reason && strstr(reason, "gate lag") && strstr(reason, "db3") && strstr(reason, "> 1000 ms"),
		      "the reason does not name the metric, its value and limit: %s", reason ?: "?");
	it_note("breached: %s", reason);
	rows_assert_same(1, &before, "after the rollback of the shift");
	assert_hg(1, "runtime_mysql_servers", RHG, "db2:ONLINE db3:ONLINE");
	ck_assert_int_eq(it_sql_exec(3, "START SLAVE SQL_THREAD"), 0);
	json_decref(it_load_stop(&rd));
	rows_free(&before);
	json_decref(r);
	json_decref(progress);
	px_end(false);
}

/* The last shift's state, and the share in force (-1: any). */
static bool shift_state_is(const char *state, int percent)
{
	json_t *st = it_status();
	bool ok = !strcmp(it_get_str(st, "clusters.0.shift.state") ?: "", state) &&
		  (percent < 0 || json_integer_value(it_get(st, "clusters.0.shift.in_force")) == percent);
	json_decref(st);
	return ok;
}

/* abort rolls a running shift back to 0 %; so does a restart of cutoverd in the middle of one
 * (from the snapshot in its journal). */
static void read_shift_abort_and_restart(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	struct px_rows before;
	struct it_conn *c;
	json_t *r, *a;

	px_begin(&s);
	rows_take(1, &before);
	/* abort */
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "shift", json_pack("{s:s, s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db3",
							       "steps", "20,60", "hold_ms", 60000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, shift_state_is("running", 20)), "the shift does not hold 20%%");
	assert_hg(1, "runtime_mysql_servers", RHG, "db2:ONLINE db3:ONLINE");
	{
		struct px_rows now = { NULL, NULL };
		ck_assert_msg(!rows_same(1, &before, &now), "the shift's step did not change mysql_servers");
		rows_free(&now);
	}
	a = it_call("abort", json_pack("{s:s}", "cluster", IT_CLUSTER), 10000);
	ck_assert_msg(a && json_is_true(json_object_get(a, "ok")), "abort: %s", it_json_str(a));
	json_decref(a);
	r = it_conn_reply(c, 30000, NULL);
	it_conn_close(c);
	ck_assert_msg(r && !strcmp(it_get_str(it_report(r), "outcome") ?: "", "rolled_back") &&
			      strstr(it_get_str(it_report(r), "reason") ?: "", "aborted"),
		      "the aborted shift: %s", it_json_str(r));
	json_decref(r);
	rows_assert_same(1, &before, "after the aborted shift");

	/* kill -9 in the middle, and a restart */
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "shift", json_pack("{s:s, s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db3",
							       "steps", "30,60", "hold_ms", 60000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, shift_state_is("running", 30)), "the shift does not hold 30%%");
	{
		/* ProxySQL runs the new weights: what the restart must undo */
		struct px_rows now = { NULL, NULL };
		ck_assert_msg(!rows_same(1, &before, &now), "the shift's step did not change mysql_servers");
		rows_free(&now);
	}
	it_conn_close(c);
	it_daemon_kill9();
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, shift_state_is("rolled_back", -1)), "after the restart the shift is not rolled back");
	{
		json_t *st = it_status();
		it_note("after kill -9 and a restart: %s", it_get_str(st, "clusters.0.shift.reason"));
		ck_assert_msg(strstr(it_get_str(st, "clusters.0.shift.reason") ?: "", "restarted during the shift") &&
				      !strstr(it_get_str(st, "clusters.0.shift.reason") ?: "", "before it changed"), "%s",
			      it_json_str(it_get(st, "clusters.0.shift")));
		json_decref(st);
	}
	rows_assert_same(1, &before, "after the restart");
	{
		/* the last two entries of history: this test's two shifts (the suite's journal holds
		 * the earlier cases' too) */
		json_t *h = it_call_result("history", json_pack("{s:s}", "cluster", IT_CLUSTER));
		json_t *all = it_get(h, "switchovers");
		size_t n = json_array_size(all);
		json_t *e1 = n >= 2 ? json_array_get(all, n - 2) : NULL, *b = n ? json_array_get(all, n - 1) : NULL;
		ck_assert_msg(e1 && b && !strcmp(it_get_str(e1, "kind") ?: "", "read_shift") &&
				      !strcmp(it_get_str(e1, "outcome") ?: "", "rolled_back") &&
				      strstr(it_get_str(e1, "reason") ?: "", "aborted") &&
				      !strcmp(it_get_str(b, "kind") ?: "", "read_shift") &&
				      !strcmp(it_get_str(b, "outcome") ?: "", "rolled_back") &&
				      strstr(it_get_str(b, "reason") ?: "", "restarted during the shift"),
			      "history does not end with the aborted and the restarted shift: %s", it_json_str(h));
		json_decref(h);
	}
	rows_free(&before);
	px_end(false);
}

/* The primary dies during a shift: the failover is not held up by it, and the shift rolls back
 * (the reads as they were), while a switchover during a shift is refused. */
static void read_shift_then_failover(void)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, true };
	struct it_conn *c;
	json_t *r, *st;

	px_begin(&s);
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "shift", json_pack("{s:s, s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db3",
							       "steps", "20,60", "hold_ms", 60000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, shift_state_is("running", 20)), "the shift does not hold 20%%");
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "BUSY") && strstr(it_get_str(r, "error.message") ?: "", "read shift"),
		      "a switchover during the shift: %s", it_json_str(r));
	json_decref(r);
	ck_assert_int_eq(it_sandbox("kill", "1", NULL), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ json_t *s2 = it_status(); bool down = !strcmp(it_get_str(it_server(s2, "db1"),
		"state") ?: "", "down"); json_decref(s2); down; })), "db1 is not seen down");
	r = it_call("failover", json_pack("{s:s, s:b, s:s}", "cluster", IT_CLUSTER, "assume_fenced", 1, "to", "db2"), 60000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "failover during the shift: %s", it_json_str(r));
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(15000, shift_state_is("rolled_back", 0)), "the shift was not rolled back");
	st = it_status();
	ck_assert_msg(strstr(it_get_str(st, "clusters.0.shift.reason") ?: "", "aborted"), "%s",
		      it_json_str(it_get(st, "clusters.0.shift")));
	it_note("failover during the shift: the shift %s", it_get_str(st, "clusters.0.shift.reason"));
	json_decref(st);
	r = it_conn_reply(c, 30000, NULL);
	it_conn_close(c);
	json_decref(r);
	ck_assert_msg(IT_WAIT_UNTIL(10000, routers_show(1, "db2")), "ProxySQL does not write to db2: %s", routers_json());
	ck_assert_int_eq(it_read_only(2), 0);
	px_end(true);
}

/* ------------------------------------------------------------------------------------------ */
/* with [ha]: three cutoverd members and a real etcd (it_members.c), the leader killed (-9) in
 * the middle of a read shift or a tenant move; the member that leads next takes it over from
 * etcd's journal */

/* The members run what px_begin gave the suite's cutoverd (its routers), with [ha]. */
static char *px_member_base(void)
{
	ck_assert_ptr_nonnull(px_conf_text);
	return strdup(px_conf_text);
}

/* px_begin's ProxySQL and config, then the members instead of the suite's cutoverd; the leader. */
static int px_ha_begin(void)
{
	int leader;

	member_base = px_member_base;
	leader = ha_begin();
	member_base = NULL;
	return leader;
}

/* The leader, acting alone, killed (-9) at *t0, its requester's connection closed: the member
 * that leads next, alone (takeover). */
static int leader_killed(int leader, struct it_conn *c, int64_t *t0, const char *what)
{
	int count;

	ck_assert_int_eq(the_leader(&count), leader);
	ck_assert_int_eq(count, 1);
	kill_member(leader);
	*t0 = it_now_ms();
	it_conn_close(c);
	return takeover(leader, *t0, what);
}

/* Member m's last read shift is `state`, at `percent` % (-1: any); its id into id. */
static bool member_shift_is(int m, const char *state, int percent, char *id, size_t idlen)
{
	json_t *r = call_member(m, "status", json_object()), *sh = it_get(r, "result.clusters.0.shift");
	bool ok = !strcmp(it_get_str(sh, "state") ?: "", state) &&
		  (percent < 0 || json_integer_value(json_object_get(sh, "in_force")) == percent);

	if (ok)
		snprintf(id, idlen, "%s", it_get_str(sh, "id") ?: "");
	json_decref(r);
	return ok;
}

/* Readers with weights, max_connections and comments of their own: a rollback must write these
 * back, not defaults. */
static void layout_weighted_readers(int node)
{
	px_row(node, WHG, 1, "ONLINE");
	px_row_full(node, RHG, 2, "ONLINE", 5, 444, "replica two, the usual reader");
	px_row_full(node, RHG, 3, "ONLINE", 3, 555, "replica three");
}

/* The leader's read shift holds 60 % of the reads on db3 (ProxySQL's weights changed, reads
 * flowing) when the leader is killed (-9).  Another member leads within 2 x TTL, alone, and
 * rolls the shift back to 0 % from the snapshot the killed one took, which it has only from
 * etcd's journal: mysql_servers and runtime_mysql_servers are again what they were before the
 * shift, every column; its history shows the shift rolled_back; the third member changed
 * nothing; the read client saw no error. */
static void read_shift_leader_killed(void)
{
	static const struct px_setup s = { 1, false, layout_weighted_readers, WHG, RHG, true };
	struct px_rows before;
	struct it_load rd;
	struct it_conn *c;
	char id[128] = "", out[64];
	int leader, next, other, count;
	int64_t t0;
	json_t *sum;

	if (!members_etcd_usable())
		return;
	px_begin(&s);
	reads_to_readers(1);
	rows_take(1, &before);
	leader = px_ha_begin();
	ck_assert_int_eq(it_load_start_at(&rd, "ha-shift-reads", 2000, client_port(1), "read", false), 0);
	ck_assert_msg(IT_WAIT_UNTIL(10000, member_lag_known(leader, "db3")), "db3's lag stays unknown on m%d", leader);
	c = it_connect(member_sock[leader]);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "shift", json_pack("{s:s, s:s, s:s, s:i}", "cluster", IT_CLUSTER, "to", "db3",
							       "steps", "60,90", "hold_ms", 60000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, member_shift_is(leader, "running", 60, id, sizeof(id))),
		      "m%d's shift does not hold 60%%", leader);
	{
		/* ProxySQL runs the step's weights: what the next leader must undo */
		struct px_rows now = { NULL, NULL };
		ck_assert_msg(!rows_same(1, &before, &now), "the shift's step did not change mysql_servers");
		it_note("m%d's shift %s holds 60 %%: %s", leader, id, strchr(now.runtime, '\n') + 1);
		rows_free(&now);
	}
	next = leader_killed(leader, c, &t0, "leader killed during a read shift");
	ck_assert_msg(IT_WAIT_UNTIL(10000, (member_outcome(next, id, out, sizeof(out)), !strcmp(out, "rolled_back"))),
		      "m%d's history of %s: '%s'", next, id, out);
	it_note("m%d rolled %s back %lld ms after the kill", next, id, (long long)(it_now_ms() - t0));
	rows_assert_same(1, &before, "after the next leader's rollback");
	assert_hg(1, "runtime_mysql_servers", RHG, "db2:ONLINE db3:ONLINE");
	ck_assert_int_eq(the_leader(&count), next);
	ck_assert_int_eq(count, 1);
	/* the leader did it, from etcd's copy of the journal; the third member did nothing */
	other = 1 + 2 + 3 - leader - next;
	ck_assert_msg(member_log_has(next, "record(s) from etcd's journal added to this member's") &&
			      member_log_has(next, "reads back as they were"),
		      "m%d's log (%s) does not say it took the shift from etcd and rolled it back", next, member_log[next]);
	ck_assert_msg(!member_log_has(other, "rolling the shift back") && !member_log_has(other, id),
		      "m%d, a follower, acted on shift %s (%s)", other, id, member_log[other]);
	sum = it_load_stop(&rd);
	it_note("the read client through px1: %s", it_json_str(sum));
	ck_assert_int_eq(load_errors(sum), 0);
	json_decref(sum);
	rows_free(&before);
	ha_end();
	px_end(false);
}

/* ------------------------------------------------------------------------------------------ */
/* tenant moves */

#define TENANTS 20
#define TENANT_LOAD_US 50000        /* each tenant's client writes every 50 ms */

/* SQL as root over server i's socket (GRANT needs the GRANT OPTION the cutoverd account lacks;
 * SET sql_log_bin needs one session for several statements). */
static void root_sql(int server, const char *sql)
{
	char sock[400], *out = NULL;
	const char *argv[] = { "/usr/bin/mariadb", "--no-defaults", sock, "--user=root", "-e", sql, NULL };
	int rc;

	snprintf(sock, sizeof(sock), "--socket=%s/db%d/mysqld.sock", it.dir, server);
	rc = it_run(argv, true, &out, 30000);
	ck_assert_msg(rc == 0, "db%d as root: %s (exit %d): %s", server, sql, rc, out ? out : "");
	free(out);
}

/* After START SLAVE: both threads running (the IO thread says Preparing / Connecting first, which
 * a move's check refuses). */
static void replicating(int server)
{
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ struct it_repl r; it_repl(server, &r) == 0 && !strcmp(r.io, "Yes") &&
							      !strcmp(r.sql, "Yes"); })),
		      "db%d does not replicate again after START SLAVE", server);
}

static void tenant_name(int i, char *buf, size_t len)
{
	snprintf(buf, len, "tenant%02d", i);
}

/* n tenant schemas on db1 (replicated everywhere), each with a writes table like app.writes and
 * the application account's grant; then db3 made the tenants' target: a writable server of a
 * cluster of its own ("target"), replicating only the tenant schemas from db1
 * (replicate_wild_do_table) with a GTID domain of its own.  ProxySQL with tenant ranges, and
 * cutoverd restarted with db3 in cluster "target". */
static void tenant_begin(int n)
{
	static const struct px_setup s = { 1, false, layout_readers_replicas, WHG, RHG, false };
	char *sql = NULL, name[32];
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);
	int i;

	for (i = 0; i < n; i++) {
		tenant_name(i, name, sizeof(name));
		fprintf(f, "CREATE DATABASE IF NOT EXISTS %s; CREATE TABLE IF NOT EXISTS %s.writes (id BIGINT PRIMARY KEY, "
			   "client_ts BIGINT, server_id INT, created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB; ",
			name, name);
	}
	fprintf(f, "GRANT SELECT, INSERT, UPDATE, DELETE ON `tenant%%`.* TO 'app'@'127.0.0.1';");
	fclose(f);
	root_sql(1, sql);
	free(sql);
	tenant_name(n - 1, name, sizeof(name));
	ck_assert_msg(IT_WAIT_UNTIL(20000, it_sql_ll(3, 0, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
							 "table_schema = '%s'", name) == 1),
		      "db3 does not get the tenant schemas");
	/* its own domain before anything connects: a session keeps the domain it started with, and
	 * cutoverd's heartbeat writes there once db3 is a primary (domain 0 would break the stream:
	 * gtid_strict_mode) */
	root_sql(3, "SET GLOBAL gtid_domain_id = 3");
	/* cutoverd first: with db3 still in cluster sandbox, a writable db3 is a split brain */
	px_router_extra = "tenant_hostgroups = 1000-1099\ntenant_rule_ids = 100-199\n";
	px_config_extra = "[cluster target]\nupstream = " IT_CLUSTER "\n";
	px_db3_target = true;
	px_begin(&s);
	px_router_extra = NULL;
	px_config_extra = NULL;
	px_db3_target = false;
	root_sql(3, "STOP SLAVE; SET GLOBAL replicate_wild_do_table = 'tenant%.%'; SET GLOBAL read_only = 0; START SLAVE");
	replicating(3);
	ck_assert_msg(IT_WAIT_UNTIL(READY_MS, routers_show(1, "db1")), "ProxySQL does not show db1 as the writer: %s",
		      routers_json());
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ json_t *st = it_status(); bool ok = !strcmp(it_get_str(st,
		"clusters.1.servers.0.role") ?: "", "primary"); json_decref(st); ok; })),
		      "db3 is not seen as the primary of cluster target");
	/* the clusters are polled in turn (poll.c): the source cluster's primary is known too */
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ json_t *st = it_status(); bool ok = !strcmp(it_get_str(st,
		"clusters.0.primary") ?: "", "db1"); json_decref(st); ok; })),
		      "db1 is not seen as the primary of cluster sandbox");
	/* replicating from its upstream is what it is for: not a problem */
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ json_t *st = it_status(); bool ok = !strcmp(it_get_str(st,
		"clusters.1.verdict") ?: "", "OK"); json_decref(st); ok; })),
		      "cluster target is not OK: %s", ({ json_t *st = it_status(); const char *x = it_json_str(it_get(st,
		"clusters.1")); json_decref(st); x; }));
}

/* move_tenants; "cluster": IT_CLUSTER unless args has it (JSON null: none, the daemon finds it
 * from the target's upstream) */
static json_t *move_call(json_t *args, json_t *progress)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *r;

	ck_assert_ptr_nonnull(c);
	if (!json_object_get(args, "cluster"))
		json_object_set_new(args, "cluster", json_string(IT_CLUSTER));
	else if (json_is_null(json_object_get(args, "cluster")))
		json_object_del(args, "cluster");
	ck_assert_int_eq(it_conn_request(c, "move_tenants", args), 0);
	r = it_conn_reply(c, 180000, progress);
	it_conn_close(c);
	return r;
}

/* The tenant's entry in a move report (borrowed). */
static json_t *report_tenant(json_t *rep, const char *name)
{
	json_t *x;
	size_t k;
	json_array_foreach(json_object_get(rep, "tenants"), k, x)
		if (!strcmp(it_get_str(x, "name") ?: "", name))
			return x;
	return NULL;
}

/* The tenant's hostgroup holds `server` alone, ONLINE, at runtime. */
static void assert_tenant_on(json_t *rep, const char *name, int server)
{
	json_t *x = report_tenant(rep, name);
	char want[32];
	ck_assert_msg(x && json_is_integer(json_object_get(x, "hostgroup")), "tenant %s: no hostgroup in %s", name,
		      it_json_str(rep));
	snprintf(want, sizeof(want), "db%d:ONLINE", server);
	assert_hg(1, "runtime_mysql_servers", (int)json_integer_value(json_object_get(x, "hostgroup")), want);
}

/* 20 tenants under load, two tiers ordered standard before enterprise, in batches of 5: each
 * tenant's writes held for its switch only, tenant07's check fails on purpose (a row missing
 * on db3) and it alone goes back to db1; 0 acknowledged writes lost on either side. */
static void tenant_move_batches(void)
{
	struct it_load l[TENANTS];
	json_t *args, *list = json_array(), *r, *rep, *progress = json_array();
	char name[32];
	int i, vstatus;
	long long lost = 0, errors = 0;

	tenant_begin(TENANTS);
	/* tenant07: a row on db1 that db3 lacks */
	root_sql(1, "INSERT INTO tenant07.writes (id, client_ts, server_id) VALUES (1, 0, 0)");
	ck_assert_msg(IT_WAIT_UNTIL(10000, it_sql_ll(3, 0, "SELECT COUNT(*) FROM tenant07.writes WHERE id = 1") == 1),
		      "the row does not reach db3");
	root_sql(3, "SET sql_log_bin = 0; DELETE FROM tenant07.writes WHERE id = 1");
	for (i = 0; i < TENANTS; i++) {
		char tag[40];
		tenant_name(i, name, sizeof(name));
		snprintf(tag, sizeof(tag), "t-%s", name);
		ck_assert_int_eq(it_load_start_schema(&l[i], tag, TENANT_LOAD_US, client_port(1), "persistent", name), 0);
		/* odd tenants are enterprise, even standard: the order given is not the order moved */
		json_array_append_new(list, json_sprintf("%s:%s", name, i % 2 ? "enterprise" : "standard"));
	}
	it_sleep_ms(1500);
	args = json_pack("{s:o, s:s, s:i, s:s, s:[s,s]}", "tenants", list, "to", "db3", "batch", 5, "on_failure", "continue",
			 "tier_order", "standard", "enterprise");
	r = move_call(args, progress);
	rep = it_report(r);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "done"),
		      "the tenant move: %s\n%s", it_json_str(r), it_json_str(progress));
	it_note("tenant move: %s", it_json_str(it_get(rep, "write_blocked")));
	ck_assert_int_eq(json_integer_value(json_object_get(rep, "moved")), TENANTS - 1);
	ck_assert_int_eq(json_integer_value(json_object_get(rep, "rolled_back")), 1);
	{
		json_t *t7 = report_tenant(rep, "tenant07");
		ck_assert_msg(t7 && !strcmp(it_get_str(t7, "outcome") ?: "", "rolled_back") &&
				      strstr(it_get_str(t7, "reason") ?: "", "row count"),
			      "tenant07: %s", it_json_str(t7));
	}
	for (i = 0; i < TENANTS; i++) {
		json_t *x;
		tenant_name(i, name, sizeof(name));
		x = report_tenant(rep, name);
		/* standard tenants (even) fill batches 1-2, enterprise ones 3-4 */
		ck_assert_msg(x && json_integer_value(json_object_get(x, "batch")) == (i % 2 ? 3 : 1) + (i / 2) / 5,
			      "%s moved in batch %lld", name, x ? (long long)json_integer_value(json_object_get(x, "batch")) : -1);
		assert_tenant_on(rep, name, i == 7 ? 1 : 3);
	}
	for (i = 0; i < TENANTS; i++) {
		json_t *sum = it_load_stop(&l[i]), *v;
		tenant_name(i, name, sizeof(name));
		v = it_load_verify(&l[i], i == 7 ? 1 : 3, &vstatus);
		ck_assert_msg(v, "%s: no verification", name);
		lost += json_integer_value(json_object_get(v, "acked_missing"));
		errors += load_errors(sum);
		it_note("%s: %lld writes, %lld errors, longest gap %s ms, lost %lld", name,
			(long long)json_integer_value(json_object_get(sum, "ok")), load_errors(sum),
			it_json_str(json_object_get(sum, "longest_gap_ms")),
			(long long)json_integer_value(json_object_get(v, "acked_missing")));
		if (i != 7)
			ck_assert_msg(it_sql_ll(3, 0, "SELECT COUNT(*) FROM %s.writes WHERE id >= %lld AND server_id = "
						      "@@server_id", name, l[i].start_id) > 0,
				      "%s: no write of its client reached db3 itself", name);
		json_decref(sum);
		json_decref(v);
	}
	ck_assert_msg(lost == 0, "%lld acknowledged writes lost", lost);
	it_note("errors seen by the 20 tenants' clients: %lld", errors);
	ck_assert_msg(it_sql_ll(3, 0, "SELECT COUNT(*) FROM cutoverd.tenant_moves") == TENANTS - 1,
		      "db3's tenant_moves does not list the %d tenants moved", TENANTS - 1);
	json_decref(r);
	json_decref(progress);
	px_end(true);
}

static bool tenant_move_state(const char *state)
{
	json_t *st = it_status();
	bool ok = !strcmp(it_get_str(st, "clusters.0.tenant_move.state") ?: "", state);
	json_decref(st);
	return ok;
}

/* A batch that cannot be done within max_blocked_ms rolls back (the tenant on db1 again, its
 * held writes go there); a target that lags is not fenced at all (catch-up first: nothing held);
 * and cutoverd killed (-9) while a batch is fenced: after the restart the tenant is settled back
 * on db1 from ProxySQL's runtime. */
static void tenant_rollback_and_restart(void)
{
	struct it_load l;
	json_t *r, *rep, *st;
	struct it_conn *c;
	char out[400];
	pid_t bg;
	int vstatus;

	tenant_begin(2);
	ck_assert_int_eq(it_load_start_schema(&l, "t-tenant00", 20000, client_port(1), "persistent", "tenant00"), 0);
	it_sleep_ms(500);
	/* 1 ms: no batch can be done in that */
	r = move_call(json_pack("{s:[s], s:s, s:i}", "tenants", "tenant00", "to", "db3", "max_blocked_ms", 1), NULL);
	rep = it_report(r);
	ck_assert_msg(r && !json_is_true(json_object_get(r, "ok")) && !strcmp(it_get_str(rep, "outcome") ?: "", "stopped") &&
			      json_integer_value(json_object_get(rep, "rolled_back")) == 1,
		      "a batch that cannot be done in max_blocked_ms: %s", it_json_str(r));
	it_note("max_blocked_ms 1: %s", it_get_str(report_tenant(rep, "tenant00"), "reason"));
	assert_tenant_on(rep, "tenant00", 1);
	json_decref(r);

	/* db3 applies a minute late: the batch is never fenced */
	root_sql(3, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 60; START SLAVE");
	replicating(3);
	it_sleep_ms(300);
	{
		json_t *args = json_pack("{s:s, s:[s], s:s}", "cluster", IT_CLUSTER, "tenants", "tenant00", "to", "db3");
		struct it_conn *c2 = it_connect(it.sock);
		ck_assert_ptr_nonnull(c2);
		ck_assert_int_eq(it_conn_request(c2, "move_tenants", args), 0);
		ck_assert_msg(IT_WAIT_UNTIL(10000, ({ json_t *s2 = it_status(); bool f = !strcmp(it_get_str(s2,
			"clusters.0.tenant_move.step") ?: "", "catchup"); json_decref(s2); f; })),
			      "the move does not wait in catchup");
		it_sleep_ms(1500);
		assert_hg(1, "runtime_mysql_servers", 1000, "db1:ONLINE");
		r = it_call("abort", json_pack("{s:s}", "cluster", IT_CLUSTER), 10000);
		ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "abort: %s", it_json_str(r));
		json_decref(r);
		r = it_conn_reply(c2, 30000, NULL);
		it_conn_close(c2);
		ck_assert_msg(r && strstr(it_get_str(it_report(r), "reason") ?: "", "aborted before batch 1 was fenced"),
			      "aborted in catchup: %s", it_json_str(r));
		json_decref(r);
	}
	root_sql(3, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE");
	replicating(3);

	/* kill -9 during the fence: a session of the tenant runs a statement on db1, which the cut
	 * lets finish (up to half of max_blocked_ms) — the batch stays fenced meanwhile */
	snprintf(out, sizeof(out), "%s/tenant-sleep.out", it.dir);
	bg = it_bg_sql("USE tenant00; SELECT SLEEP(8)", out);
	ck_assert_int_gt(bg, 0);
	it_sleep_ms(300);
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "move_tenants", json_pack("{s:s, s:[s], s:s, s:i}", "cluster", IT_CLUSTER,
								      "tenants", "tenant00", "to", "db3", "max_blocked_ms",
								      20000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, ({ json_t *s2 = it_status(); bool f = !strcmp(it_get_str(s2,
		"clusters.0.tenant_move.step") ?: "", "cut"); json_decref(s2); f; })), "the move does not reach cut");
	it_sleep_ms(300);
	assert_hg(1, "runtime_mysql_servers", 1000, "db1:OFFLINE_SOFT");
	it_conn_close(c);
	it_daemon_kill9();
	ck_assert_int_eq(it_daemon_start(), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, tenant_move_state("stopped")), "after the restart the move is not settled");
	st = it_status();
	it_note("after kill -9 during the fence: %s", it_get_str(st, "clusters.0.tenant_move.reason"));
	ck_assert_msg(strstr(it_get_str(st, "clusters.0.tenant_move.reason") ?: "", "restarted during batch 1"), "%s",
		      it_json_str(it_get(st, "clusters.0.tenant_move")));
	assert_tenant_on(it_get(st, "clusters.0.tenant_move"), "tenant00", 1);
	json_decref(st);
	kill(bg, SIGKILL);
	it_bg_wait(bg, 5000);
	{
		json_t *sum = it_load_stop(&l), *v = it_load_verify(&l, 1, &vstatus);
		it_note("tenant00's client: %s", it_json_str(sum));
		ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0, "writes lost: %s",
			      it_json_str(v));
		json_decref(sum);
		json_decref(v);
	}
	px_end(true);
}

/* A tenant left on the source by a move (rolled back) writes through its own hostgroup: a
 * switchover of the source cluster takes that hostgroup along (held with the writer hostgroup,
 * then the new primary in it), and the tenant's client goes on, on db2, nothing lost. */
static void tenant_hostgroup_follows_switchover(void)
{
	struct it_load l;
	json_t *r, *rep;
	int vstatus;

	tenant_begin(1);
	ck_assert_int_eq(it_load_start_schema(&l, "t-follow", 20000, client_port(1), "persistent", "tenant00"), 0);
	it_sleep_ms(500);
	/* no cluster named: two are configured, the target's upstream says which */
	r = move_call(json_pack("{s:n, s:[s], s:s, s:i}", "cluster", "tenants", "tenant00", "to", "db3", "max_blocked_ms", 1),
		      NULL);
	rep = it_report(r);
	ck_assert_msg(r && json_integer_value(json_object_get(rep, "rolled_back")) == 1, "%s", it_json_str(r));
	assert_tenant_on(rep, "tenant00", 1);
	json_decref(r);
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "switchover: %s", it_json_str(r));
	json_decref(r);
	assert_hg(1, "runtime_mysql_servers", 1000, "db2:ONLINE");
	it_sleep_ms(500);
	{
		json_t *sum = it_load_stop(&l), *v = it_load_verify(&l, 2, &vstatus);
		it_note("tenant00's client through the switchover: %s", it_json_str(sum));
		ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0, "writes lost: %s",
			      it_json_str(v));
		ck_assert_msg(it_sql_ll(2, 0, "SELECT COUNT(*) FROM tenant00.writes WHERE id >= %lld AND server_id = 2",
					l.start_id) > 0, "no write of tenant00's client reached db2 after the switchover");
		json_decref(sum);
		json_decref(v);
	}
	px_end(true);
}

/* Member m's tenant move: `path` under clusters.0.tenant_move is `want`; its id into id. */
static bool member_move_is(int m, const char *path, const char *want, char *id, size_t idlen)
{
	json_t *r = call_member(m, "status", json_object()), *tm = it_get(r, "result.clusters.0.tenant_move");
	bool ok = !strcmp(it_get_str(tm, path) ?: "", want);

	if (ok)
		snprintf(id, idlen, "%s", it_get_str(tm, "id") ?: "");
	json_decref(r);
	return ok;
}

/* With [ha] (see read_shift_leader_killed): the leader's tenant move holds batch 1 fenced
 * (tenant00's hostgroup OFFLINE_SOFT at runtime while a session of the tenant finishes a
 * statement on db1) when the leader is killed (-9).  The member that leads next, alone, settles
 * the batch from ProxySQL's runtime as after a restart: tenant00 back on db1 alone, ONLINE; its
 * history shows the move rolled_back; no acknowledged write of the tenant's client lost. */
static void tenant_leader_killed(void)
{
	struct it_load l;
	struct it_conn *c;
	char id[128] = "", out[400], outcome[64];
	int leader, next, count, vstatus;
	int64_t t0;
	json_t *st, *sum, *v;
	pid_t bg;

	if (!members_etcd_usable())
		return;
	tenant_begin(2);
	leader = px_ha_begin();
	takeover_writable = 2;   /* db3 is cluster target's primary */
	ck_assert_msg(IT_WAIT_UNTIL(15000, member_lag_known(leader, "db2")), "db2's lag stays unknown on m%d", leader);
	ck_assert_int_eq(it_load_start_schema(&l, "t-tenant00", 20000, client_port(1), "persistent", "tenant00"), 0);
	snprintf(out, sizeof(out), "%s/tenant-sleep.out", it.dir);
	bg = it_bg_sql("USE tenant00; SELECT SLEEP(8)", out);
	ck_assert_int_gt(bg, 0);
	it_sleep_ms(300);
	c = it_connect(member_sock[leader]);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "move_tenants", json_pack("{s:s, s:[s], s:s, s:i}", "cluster", IT_CLUSTER,
								      "tenants", "tenant00", "to", "db3", "max_blocked_ms",
								      20000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(15000, member_move_is(leader, "step", "cut", id, sizeof(id))),
		      "m%d's move does not reach cut: %s", leader, ({ json_t *x = call_member(leader, "status",
		      json_object()); const char *j = it_json_str(it_get(x, "result.clusters.0.tenant_move")); json_decref(x); j; }));
	it_sleep_ms(300);
	assert_hg(1, "runtime_mysql_servers", 1000, "db1:OFFLINE_SOFT");
	next = leader_killed(leader, c, &t0, "leader killed in a tenant move's fence");
	ck_assert_msg(IT_WAIT_UNTIL(15000, (member_outcome(next, id, outcome, sizeof(outcome)),
					    !strcmp(outcome, "rolled_back"))),
		      "m%d's history of %s: '%s'", next, id, outcome);
	st = call_member(next, "status", json_object());
	it_note("m%d settled %s %lld ms after the kill: %s", next, id, (long long)(it_now_ms() - t0),
		it_get_str(st, "result.clusters.0.tenant_move.reason"));
	ck_assert_msg(strstr(it_get_str(st, "result.clusters.0.tenant_move.reason") ?: "", "during batch 1"), "%s",
		      it_json_str(it_get(st, "result.clusters.0.tenant_move")));
	assert_tenant_on(it_get(st, "result.clusters.0.tenant_move"), "tenant00", 1);
	json_decref(st);
	ck_assert_int_eq(the_leader(&count), next);
	ck_assert_int_eq(count, 1);
	kill(bg, SIGKILL);
	it_bg_wait(bg, 5000);
	sum = it_load_stop(&l);
	v = it_load_verify(&l, 1, &vstatus);
	it_note("tenant00's client: %s", it_json_str(sum));
	ck_assert_msg(v && json_integer_value(json_object_get(v, "acked_missing")) == 0, "writes lost: %s", it_json_str(v));
	json_decref(sum);
	json_decref(v);
	ha_end();
	px_end(true);
}

/* Bad requests change nothing: a target in the same cluster, a schema that does not exist, a
 * tier left out of the order, a target that does not replicate the tenant, a rule cutoverd did
 * not make; then a switchover is refused during a move, and abort between batches stops the
 * move with one tenant moved. */
static void tenant_refusals_and_abort(void)
{
	struct px_rows before;
	json_t *r, *rep;
	struct it_conn *c;

	tenant_begin(3);
	rows_take(1, &before);
	r = move_call(json_pack("{s:[s], s:s}", "tenants", "tenant00", "to", "db2"), NULL);
	ck_assert_msg(r && strstr(it_get_str(r, "error.message") ?: "", "second writable server"), "%s", it_json_str(r));
	json_decref(r);
	r = move_call(json_pack("{s:[s], s:s}", "tenants", "nosuch", "to", "db3"), NULL);
	ck_assert_msg(r && strstr(it_get_str(r, "error.message") ?: "", "no schema nosuch"), "%s", it_json_str(r));
	json_decref(r);
	r = move_call(json_pack("{s:[s,s], s:s, s:[s]}", "tenants", "tenant00:gold", "tenant01:standard", "to", "db3",
				"tier_order", "standard"), NULL);
	ck_assert_msg(r && strstr(it_get_str(r, "error.message") ?: "", "tier 'gold'"), "%s", it_json_str(r));
	json_decref(r);
	root_sql(3, "STOP SLAVE; SET GLOBAL replicate_wild_do_table = 'tenant00.%'; START SLAVE");
	replicating(3);
	r = move_call(json_pack("{s:[s], s:s}", "tenants", "tenant01", "to", "db3"), NULL);
	ck_assert_msg(r && strstr(it_get_str(r, "error.message") ?: "", "does not replicate all of it"), "%s", it_json_str(r));
	json_decref(r);
	root_sql(3, "STOP SLAVE; SET GLOBAL replicate_wild_do_table = 'tenant%.%'; START SLAVE");
	replicating(3);
	PX_EXEC(1, "INSERT INTO mysql_query_rules (rule_id, active, schemaname, destination_hostgroup, apply) "
		   "VALUES (5, 1, 'tenant02', %d, 1)", WHG);
	PX_EXEC(1, "LOAD MYSQL QUERY RULES TO RUNTIME");
	r = move_call(json_pack("{s:[s], s:s}", "tenants", "tenant02", "to", "db3"), NULL);
	ck_assert_msg(r && strstr(it_get_str(r, "error.message") ?: "", "query rule 5"), "%s", it_json_str(r));
	json_decref(r);
	PX_EXEC(1, "DELETE FROM mysql_query_rules WHERE rule_id = 5");
	PX_EXEC(1, "LOAD MYSQL QUERY RULES TO RUNTIME");
	rows_assert_same(1, &before, "after the refused moves");
	ck_assert_int_eq(it_sql_ll(3, -1, "SELECT COUNT(*) FROM information_schema.TABLES WHERE table_name = 'tenant_moves'"), 0);

	/* a switchover refused during the move; abort during the pause after the first batch */
	c = it_connect(it.sock);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(it_conn_request(c, "move_tenants", json_pack("{s:s, s:[s,s], s:s, s:i}", "cluster", IT_CLUSTER,
								      "tenants", "tenant00", "tenant01", "to", "db3",
								      "pause_ms", 60000)), 0);
	ck_assert_msg(IT_WAIT_UNTIL(20000, ({ json_t *s2 = it_status(); bool f = json_integer_value(it_get(s2,
		"clusters.0.tenant_move.moved")) == 1; json_decref(s2); f; })), "the first batch does not end");
	r = it_switchover(switch_args("db2"), SWITCH_TIMEOUT_MS, NULL);
	ck_assert_msg(r && !strcmp(it_err_code(r) ?: "", "BUSY") && strstr(it_get_str(r, "error.message") ?: "", "tenant move"),
		      "a switchover during the move: %s", it_json_str(r));
	json_decref(r);
	r = it_call("abort", json_pack("{s:s}", "cluster", IT_CLUSTER), 10000);
	ck_assert_msg(r && json_is_true(json_object_get(r, "ok")), "abort: %s", it_json_str(r));
	json_decref(r);
	r = it_conn_reply(c, 30000, NULL);
	it_conn_close(c);
	rep = it_report(r);
	ck_assert_msg(r && !strcmp(it_get_str(rep, "outcome") ?: "", "stopped") &&
			      json_integer_value(json_object_get(rep, "moved")) == 1 &&
			      json_integer_value(json_object_get(rep, "pending")) == 1,
		      "the aborted move: %s", it_json_str(r));
	assert_tenant_on(rep, "tenant00", 3);
	json_decref(r);
	rows_free(&before);
	px_end(true);
}

/* In front of MySQL 9.7 (caching_sha2_password backends): a switchover under load, and the watch
 * reading ProxySQL's counters. */
static const struct it_case mysql_cases[] = {
	{ "readers_all", readers_all },
	{ "watch_reverses_on_error_rate", watch_reverses_on_error_rate },
};

static const struct it_case binary_case[] = {
	{ "binary", binary },
};

void it_proxysql_add_suites(SRunner *sr)
{
	size_t i;

	bins_find();
	for (i = 0; i < n_bins; i++) {
		defs[i] = (struct it_suite_def){ bins[i].suite, cases, sizeof(cases) / sizeof(cases[0]) };
		srunner_add_suite(sr, it_suite_build(&defs[i]));
	}
	if (n_bins == 0 || *unusable) {
		defs[i] = (struct it_suite_def){ "proxysql", binary_case, 1 };
		srunner_add_suite(sr, it_suite_build_bare(&defs[i]));
		return;
	}
	/* the newest binary in front of MySQL 9.7 too (the mysql suite's root; that suite says when
	 * it cannot be built) */
	{
		static char name[64];
		static char problem[1024];
		const char *only = getenv("CK_RUN_SUITE");
		snprintf(name, sizeof(name), "%s-mysql", bins[n_bins - 1].suite);
		if ((!only || !*only || !strcmp(only, name)) &&
		    it_root_ensure(name, "sid", "Debian unstable with MySQL 9.7", problem, sizeof(problem))) {
			it_suite_sandbox_env(name, "SANDBOX_FLAVOR=mysql");
			defs[n_bins] = (struct it_suite_def){ name, mysql_cases, sizeof(mysql_cases) / sizeof(mysql_cases[0]) };
			srunner_add_suite(sr, it_suite_build(&defs[n_bins]));
		}
	}
}
