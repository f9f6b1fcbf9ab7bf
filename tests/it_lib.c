/* Integration-test helpers (see it_lib.h): the sandbox and cutoverd lifecycles, the control
 * socket client, SQL and HAProxy access, the write-load client, and the runner glue that gives
 * every test the baseline cluster.
 *
 * Everything here blocks with a deadline: a test may hang a server on purpose (SIGSTOP), and in
 * CK_NOFORK mode Check has no timeout of its own, so no call may wait without one. */
#include "it_lib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <mysql.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CASES 128
#define MAX_LOADS 32
#define CONN_MAX_LINE (8 * 1024 * 1024)
#define DAEMON_START_MS 15000
#define BASELINE_WAIT_MS 20000
#define SANDBOX_TIMEOUT_MS 180000
#define SQL_TIMEOUT_S 10
#define MAX_SANDBOX_ENV 8
#define MAX_CLEANUPS 8
#define CLEANUP_ARGS 16

struct it_env it;

struct it_conn {
	LIST_ENTRY(it_conn) entry;
	int fd;
	char *buf;                  /* owned: bytes received and not yet returned */
	size_t len, cap;
	bool eof;
};

/* A registered test: which suite it belongs to. */
struct it_reg {
	const struct it_suite_def *suite;
	const struct it_case *c;
	bool bare;                  /* no sandbox (it_suite_build_bare) */
};

static bool env_init(void);
static void set_suite_paths(const char *suite);
static bool enter_suite(const struct it_suite_def *def);
static void leave_suite(void);
static void case_teardown(void);
static bool baseline_ok(char *why, size_t len);
static bool baseline_wait(char *why, size_t len, int timeout_ms);
static bool sandbox_start(void);
static void sandbox_env_apply(bool set);
static void cleanups_fatal(void);
static int wait_child(pid_t pid, int timeout_ms);
static char *read_file(const char *path, size_t max);
static char *read_secret(const char *name);
static int write_file(const char *path, const char *text, mode_t mode);
static MYSQL *sql_connect(int server);
static void loads_kill_all(void);
static void conns_close_all(void);
static void conn_read_all(struct it_conn *c, int timeout_ms);
static void on_fatal(int sig);
static void prepare_fatal_argv(void);
static void install_handlers(void);
static bool all_threads_stopped(pid_t pid);
static int env_int(const char *name, int dflt);
static char *conn_line(struct it_conn *c, int timeout_ms);
static bool is_stream_line(json_t *j);
static json_t *find_named(json_t *arr, const char *key, const char *name);
static struct it_rows *vquery(int server, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static size_t csv_split(char *line, char **cols, size_t max);
static int haproxy_servers(void (*fn)(const char *sv, const char *status, void *arg), void *arg);
static void hx_state_cb(const char *sv, const char *status, void *arg);
static void hx_writer_cb(const char *sv, const char *status, void *arg);

static struct it_reg reg[MAX_CASES];
static int n_reg;
/* Suites that said they were skipped (it_skip_suite), each once. */
static const struct it_suite_def *skipped[MAX_CASES];
static int n_skipped;
static const struct it_reg *cur;
static bool cur_passed;
static int64_t cur_started_ms;
static char sql_err[512];
static LIST_HEAD(, it_conn) conns = LIST_HEAD_INITIALIZER(conns);
static pid_t loads[MAX_LOADS];
static bool env_ready;
static bool mysql_ready;
/* For the fatal-signal handler: prepared in advance, it may only fork and exec. */
static char *fatal_argv[5];
static char fatal_dir[256];
/* Environment for `sandbox.sh start`, per suite. */
static struct {
	const char *suite;
	char *assignment;           /* owned: NAME=VALUE */
} sandbox_env[MAX_SANDBOX_ENV];
static int n_sandbox_env;
/* Registered cleanup commands: NULL-terminated argv copies (owned); slot free when [0] is NULL.
 * The fatal-signal handler runs them too, so they are complete before [0] is set. */
static char *cleanups[MAX_CLEANUPS][CLEANUP_ARGS];

/* ------------------------------------------------------------------------------------------ */
/* time and notes */

int64_t it_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t it_now_real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void it_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

#define ROOT_BUILD_TIMEOUT_MS (15 * 60 * 1000)

bool it_root_ensure(const char *suite, const char *root, const char *what, char *problem, size_t len)
{
	const char *b = getenv("CUTOVER_BUILD");
	char build[PATH_MAX], script[PATH_MAX + 32], *out = NULL;
	const char *argv[] = { script, "ensure", root, NULL };
	int rc;
	int64_t t0 = it_now_ms();

	if (!realpath(b && *b ? b : "build", build)) {
		snprintf(problem, len, "no build directory %s (set CUTOVER_BUILD)", b ?: "build");
		return false;
	}
	snprintf(script, sizeof(script), "%s/../tests/roots.sh", build);
	printf("it: %s: tests/roots.sh ensure %s (%s; built once and cached, about 2 minutes the first time)\n", suite,
	       root, what);
	fflush(stdout);
	rc = it_run(argv, true, &out, ROOT_BUILD_TIMEOUT_MS);
	if (rc != 0) {
		const char *tail = out ? out + (strlen(out) > 600 ? strlen(out) - 600 : 0) : "";
		snprintf(problem, len, "the root %s (%s) could not be built (tests/roots.sh ensure %s exited %d; it needs "
			 "debootstrap and Debian's archive): %s", root, what, root, rc, tail);
		while (*problem && strchr(" \n", problem[strlen(problem) - 1]))
			problem[strlen(problem) - 1] = '\0';
		free(out);
		return false;
	}
	printf("it: %s: the root is ready (%.1f s): %s", suite, (double)(it_now_ms() - t0) / 1000.0, out ? out : "\n");
	free(out);
	return true;
}

#define MAX_ROOT_SUITES 8

/* The suites whose root could not be built, and why (it_add_root_suite). */
static struct {
	const char *suite;
	char problem[1024];
} root_missing[MAX_ROOT_SUITES];

static void root_missing_case(void)
{
	const char *req = getenv("CUTOVER_REQUIRE_ROOTS");
	const char *why = "?";
	int i;

	for (i = 0; i < MAX_ROOT_SUITES && root_missing[i].suite; i++)
		if (cur && !strcmp(root_missing[i].suite, cur->suite->name))
			why = root_missing[i].problem;
	ck_assert_msg(!(req && !strcmp(req, "1")), "CUTOVER_REQUIRE_ROOTS=1 and %s", why);
	it_skip_suite("%s", why);
}

void it_add_root_suite(SRunner *sr, const struct it_suite_def *def, const char *root, const char *what,
		       const char *env)
{
	static const struct it_case root_case[] = { { "root", root_missing_case } };
	static struct it_suite_def skip_defs[MAX_ROOT_SUITES];
	const char *only = getenv("CK_RUN_SUITE");
	int i;

	it_suite_sandbox_env(def->name, env);
	for (i = 0; i < MAX_ROOT_SUITES - 1 && root_missing[i].suite; i++)
		;
	if ((only && *only && strcmp(only, def->name)) ||
	    it_root_ensure(def->name, root, what, root_missing[i].problem, sizeof(root_missing[i].problem))) {
		srunner_add_suite(sr, it_suite_build(def));
		return;
	}
	root_missing[i].suite = def->name;
	skip_defs[i] = (struct it_suite_def){ def->name, root_case, 1 };
	srunner_add_suite(sr, it_suite_build_bare(&skip_defs[i]));
}

bool it_writer_is(const char *name)
{
	char *w = it_haproxy_writer();
	bool yes = w && !strcmp(w, name);
	free(w);
	return yes;
}

void it_skip_suite(const char *fmt, ...)
{
	static const char bar[] = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!";
	const struct it_suite_def *suite = cur ? cur->suite : NULL;
	va_list ap;
	int i;

	printf("it: %s\nit: %s: SKIPPED: ", bar, suite ? suite->name : "?");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nit: %s\n", bar);
	fflush(stdout);
	for (i = 0; i < n_skipped; i++)
		if (skipped[i] == suite)
			return;
	if (n_skipped < MAX_CASES)
		skipped[n_skipped++] = suite;
}

int it_suites_skipped(void)
{
	return n_skipped;
}

void it_note(const char *fmt, ...)
{
	va_list ap;

	printf("  [%s/%s] ", cur ? cur->suite->name : "it", cur ? cur->c->name : "-");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* files and programs */

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *read_secret(const char *name)
{
	char path[400];
	char *s;

	snprintf(path, sizeof(path), "%s/secrets/%s.pass", it.dir, name);
	s = read_file(path, 512);
	if (s)
		s[strcspn(s, "\r\n")] = '\0';
	return s;
}

char *it_read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

int it_write_file(const char *path, const char *text, mode_t mode)
{
	return write_file(path, text, mode);
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text), off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Exit status (128+signal for a signal), or -1 if it did not end within timeout_ms (it is then
 * killed and reaped). */
static int wait_child(pid_t pid, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 && errno != EINTR)
			return -1;
		if (it_now_ms() >= end)
			break;
		it_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

pid_t it_bg_sql(const char *sql, const char *out)
{
	char *pw = read_secret("app"), port[32], pwarg[300];
	const char *argv[] = { "/usr/bin/mariadb", "--no-defaults", "-h", "127.0.0.1", port, "-u", "app", pwarg, "-e", sql,
			       NULL };

	if (!pw)
		return -1;
	snprintf(port, sizeof(port), "--port=%d", it.write_port);
	snprintf(pwarg, sizeof(pwarg), "--password=%s", pw);
	free(pw);
	return it_spawn(argv, out);
}

pid_t it_spawn(const char *const *argv, const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(o, 1);
		dup2(o, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int it_bg_wait(pid_t pid, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	int status;

	while (it_now_ms() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			return -1;
		it_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int it_run(const char *const *argv, bool merge, char **out, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int p[2], rc;
	pid_t pid;

	if (!buf || pipe2(p, O_CLOEXEC) < 0) {
		free(buf);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		free(buf);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(p[1], 1);
		if (merge)
			dup2(p[1], 2);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "it: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pfd = { p[0], POLLIN, 0 };
		int64_t left = end - it_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			break;
		if (len + 1024 > cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = '\0';
	rc = wait_child(pid, (int)(end - it_now_ms() > 0 ? end - it_now_ms() : 0) + 100);
	if (out)
		*out = buf;
	else
		free(buf);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* environment */

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return dflt;
	n = strtol(v, &end, 10);
	return *end || n < 1024 || n > 65000 ? dflt : (int)n;
}

/* Nobody listens on 127.0.0.1:port (we can bind it). */
static bool port_free(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	bool ok;

	if (fd < 0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* Every port a suite may use from a block: HAProxy's write and read ports, the servers', and
 * the ProxySQL nodes' admin and client ports (base + 100 + 10 i, + 1). */
static bool block_free(int base, int write, int read)
{
	static const int offsets[] = { 0, 1, 2, 110, 111, 120, 121 };
	size_t i;

	if (!port_free(write) || !port_free(read))
		return false;
	for (i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
		if (!port_free(base + offsets[i]))
			return false;
	return true;
}

/* The ports: IT_BASE_PORT / IT_WRITE_PORT / IT_READ_PORT when set, as they are; else the first
 * block from 24300 up (steps of 200, below the ephemeral range) where nothing listens, so that
 * make check does not collide with a sandbox or a service already running. */
static void choose_ports(void)
{
	int k;

	if (getenv("IT_BASE_PORT") || getenv("IT_WRITE_PORT")) {
		it.base_port = env_int("IT_BASE_PORT", 24306);
		it.write_port = env_int("IT_WRITE_PORT", 24300);
		it.read_port = env_int("IT_READ_PORT", it.write_port + 1);
		return;
	}
	for (k = 0; k < 40; k++) {
		it.write_port = 24300 + 200 * k;
		it.read_port = it.write_port + 1;
		it.base_port = it.write_port + 6;
		if (block_free(it.base_port, it.write_port, it.read_port))
			break;
	}
	if (k == 40) {   /* let the sandbox say which port is taken */
		it.write_port = 24300;
		it.read_port = 24301;
		it.base_port = 24306;
	}
	if (k > 0)
		printf("it: ports 24300-24421 are taken; using %d (writes), %d (reads), %d-%d (servers); set "
		       "IT_BASE_PORT, IT_WRITE_PORT and IT_READ_PORT to choose\n", it.write_port, it.read_port,
		       it.base_port, it.base_port + IT_SERVERS - 1);
}

static bool env_init(void)
{
	const char *b = getenv("CUTOVER_BUILD"), *s = getenv("CUTOVER_SANDBOX");
	char tmp[700];

	if (env_ready)
		return true;
	if (!realpath(b && *b ? b : "build", it.build)) {
		fprintf(stderr, "it: build directory %s: %s (set CUTOVER_BUILD)\n", b ? b : "build", strerror(errno));
		return false;
	}
	snprintf(tmp, sizeof(tmp), "%s/../tests/sandbox/sandbox.sh", it.build);
	if (!realpath(s && *s ? s : tmp, it.sandbox_sh)) {
		fprintf(stderr, "it: %s: %s (set CUTOVER_SANDBOX)\n", s ? s : tmp, strerror(errno));
		return false;
	}
	choose_ports();
	/* a sandbox's sourced env must not change the suites' sandboxes: each suite asks for what
	 * it needs (it_suite_sandbox_env) */
	unsetenv("SANDBOX_HA");
	unsetenv("SANDBOX_PROXYSQL");
	unsetenv("SANDBOX_TENANTS");
	unsetenv("SANDBOX_N");
	if (!mysql_ready) {
		mysql_library_init(0, NULL, NULL);
		mysql_ready = true;
	}
	env_ready = true;
	return true;
}

static void set_suite_paths(const char *suite)
{
	const char *prefix = getenv("IT_DIR_PREFIX");

	if (!prefix || !*prefix)
		prefix = "/tmp/it-";
	snprintf(it.dir, sizeof(it.dir), "%s%s", prefix, suite);
	snprintf(it.conf, sizeof(it.conf), "%s/it.conf", it.dir);
	snprintf(it.sock, sizeof(it.sock), "%s/run/cutoverd.sock", it.dir);
	snprintf(it.log, sizeof(it.log), "%s.cutoverd.log", it.dir);
	prepare_fatal_argv();
}

int it_port(int server)
{
	return it.base_port + server - 1;
}

/* ------------------------------------------------------------------------------------------ */
/* sandbox */

int it_sandbox(const char *arg, ...)
{
	const char *argv[16];
	char *out = NULL;
	va_list ap;
	int n = 0, rc;

	argv[n++] = it.sandbox_sh;
	va_start(ap, arg);
	for (; arg && n < 12; arg = va_arg(ap, const char *))
		argv[n++] = arg;
	va_end(ap);
	argv[n++] = "--dir";
	argv[n++] = it.dir;
	argv[n] = NULL;
	rc = it_run(argv, true, &out, SANDBOX_TIMEOUT_MS);
	if (rc != 0)
		it_note("sandbox.sh %s exited %d: %s", argv[1], rc, out ? out : "");
	free(out);
	return rc;
}

static bool sandbox_start(void)
{
	char base[16], wr[16], rd[16];
	const char *argv[] = { it.sandbox_sh, "start", "--fresh", "--dir", it.dir, "--base-port", base,
			       "--write-port", wr, "--read-port", rd, "--servers", "3", "--poll", "200ms", NULL };
	char *out = NULL;
	int rc;

	snprintf(base, sizeof(base), "%d", it.base_port);
	snprintf(wr, sizeof(wr), "%d", it.write_port);
	snprintf(rd, sizeof(rd), "%d", it.read_port);
	sandbox_env_apply(true);
	rc = it_run(argv, true, &out, SANDBOX_TIMEOUT_MS);
	sandbox_env_apply(false);
	if (rc != 0)
		printf("it: sandbox.sh start failed (exit %d):\n%s\n(the integration tests pass --base-port %d "
		       "--write-port %d --read-port %d: set IT_BASE_PORT, IT_WRITE_PORT and IT_READ_PORT, not "
		       "SANDBOX_*, to choose them)\n", rc, out ? out : "", it.base_port, it.write_port, it.read_port);
	free(out);
	return rc == 0;
}

void it_suite_sandbox_env(const char *suite, const char *assignment)
{
	if (n_sandbox_env >= MAX_SANDBOX_ENV || !strchr(assignment, '=')) {
		fprintf(stderr, "it: sandbox environment '%s' for %s ignored\n", assignment, suite);
		return;
	}
	sandbox_env[n_sandbox_env].suite = suite;
	sandbox_env[n_sandbox_env].assignment = strdup(assignment);
	n_sandbox_env++;
}

/* Set (or remove again) the running suite's assignments in our environment, which the
 * `sandbox.sh start` child inherits; nothing else started by the run sees them. */
static void sandbox_env_apply(bool set)
{
	int i;

	for (i = 0; i < n_sandbox_env; i++) {
		const char *a = sandbox_env[i].assignment, *eq = strchr(a, '=');
		char name[128];
		if (!it.suite || strcmp(sandbox_env[i].suite, it.suite) || !eq || (size_t)(eq - a) >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
		if (set)
			setenv(name, eq + 1, 1);
		else
			unsetenv(name);
	}
}

pid_t it_server_pid(int server)
{
	char path[400], *s;
	long pid;

	snprintf(path, sizeof(path), "%s/db%d/mariadbd.pid", it.dir, server);
	s = read_file(path, 64);
	if (!s)
		return 0;
	pid = strtol(s, NULL, 10);
	free(s);
	if (pid <= 1 || kill((pid_t)pid, 0) < 0)
		return 0;
	return (pid_t)pid;
}

int it_server_signal(int server, int sig)
{
	pid_t pid = it_server_pid(server);
	return pid > 0 ? kill(pid, sig) : -1;
}

/* Every thread of pid in state T (stopped) or t (traced)? */
static bool all_threads_stopped(pid_t pid)
{
	char path[320], stat[512], *p;
	struct dirent *e;
	bool all = true;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (all && (e = readdir(dir)) != NULL) {
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;   /* the thread just ended */
		if (!fgets(stat, sizeof(stat), f))
			stat[0] = '\0';
		fclose(f);
		p = strrchr(stat, ')');
		all = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
	}
	closedir(dir);
	return all;
}

int it_server_stop(int server)
{
	pid_t pid = it_server_pid(server);

	if (pid <= 0 || kill(pid, SIGSTOP) < 0)
		return -1;
	return IT_WAIT_UNTIL(5000, all_threads_stopped(pid)) ? 0 : -1;
}

void it_cont_all(void)
{
	int i;
	for (i = 1; i <= IT_SERVERS; i++)
		it_server_signal(i, SIGCONT);
}

/* sandbox.sh's wait_server checks that the server's process exists by its command line, which
 * is still bash's or setsid's until mariadbd is exec'd: on a busy machine it can give up on a
 * server that is starting fine.  Such a server answers SQL a moment later. */
int it_server_restart(int server)
{
	char n[16], path[400], *log;
	int rc;

	snprintf(n, sizeof(n), "%d", server);
	rc = it_sandbox("restart", n, NULL);
	if (rc == 0)
		return 0;
	if (IT_WAIT_UNTIL(15000, it_sql_ll(server, -1, "SELECT 1") == 1)) {
		it_note("sandbox.sh restart %d exited %d, yet db%d is up and answers: sandbox.sh's start-up race", server,
			rc, server);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/db%d/console.log", it.dir, server);
	log = read_file(path, 8192);
	it_note("db%d did not come back; its console.log: %s", server, log ? log : "(none)");
	free(log);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* cutoverd */

char *it_config_text(const char *extra)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int i;

	fprintf(f, "# written by tests/it_lib.c for the %s integration suite\n"
		   "[cutoverd]\n"
		   "socket = %s\n"
		   "state_dir = %s/state\n"
		   "socket_mode = 0666\n"
		   "poll_interval = %dms\n"
		   "query_timeout = %ds\n"
		   "log_level = info\n"
		   "admin_users = root\n"
		   "\n"
		   "[cluster %s]\n"
		   "hysteresis = %d\n"
		   "repl_user = repl\n"
		   "repl_password_file = %s/secrets/repl.pass\n"
		   "heartbeat_table = cutoverd.heartbeat\n",
		it.suite ? it.suite : "?", it.sock, it.dir, IT_POLL_MS, IT_QUERY_TIMEOUT_MS / 1000, IT_CLUSTER,
		IT_HYSTERESIS, it.dir);
	for (i = 1; i <= IT_SERVERS; i++)
		fprintf(f, "\n[server db%d]\n"
			   "cluster = %s\n"
			   "host = 127.0.0.1\n"
			   "port = %d\n"
			   "user = cutoverd\n"
			   "password_file = %s/secrets/cutoverd.pass\n",
			i, IT_CLUSTER, it_port(i), it.dir);
	fprintf(f, "\n[router haproxy]\n"
		   "cluster = %s\n"
		   "type = haproxy\n"
		   "address = %s/haproxy/admin.sock\n"
		   "backend = mysql_write\n"
		   "write_endpoint = 127.0.0.1:%d\n",
		IT_CLUSTER, it.dir, it.write_port);
	if (extra)
		fprintf(f, "\n%s", extra);
	fclose(f);
	return text;
}

char *it_config_text_cluster(const char *cluster_extra, const char *extra)
{
	char *base = it_config_text(extra), *sect, *end, *out = NULL;
	char header[64];
	size_t len;

	if (!cluster_extra || !*cluster_extra)
		return base;
	snprintf(header, sizeof(header), "\n[cluster %s]\n", IT_CLUSTER);
	sect = strstr(base, header);
	/* The section ends at the blank line before the next one. */
	end = sect ? strstr(sect + 1, "\n\n[") : NULL;
	len = strlen(cluster_extra);
	if (end && asprintf(&out, "%.*s%s%s%s", (int)(end + 1 - base), base, cluster_extra,
			    cluster_extra[len - 1] == '\n' ? "" : "\n", end + 1) < 0)
		out = NULL;
	free(base);
	return out;
}

int it_config_write(const char *text)
{
	return write_file(it.conf, text, 0600);
}

bool it_daemon_alive(void)
{
	int st;

	if (it.daemon <= 0)
		return false;
	if (waitpid(it.daemon, &st, WNOHANG) == it.daemon) {
		it_note("cutoverd (pid %d) exited: %s %d", (int)it.daemon,
			WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		it.daemon = 0;
		return false;
	}
	return true;
}

int it_daemon_start(void)
{
	const char *argv[] = { NULL, "-f", "-c", it.conf, NULL };
	char prog[600];
	int64_t end;
	FILE *lf;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/cutoverd", it.build);
	argv[0] = prog;
	lf = fopen(it.log, "a");
	if (lf) {
		fprintf(lf, "==== it: starting cutoverd for %s/%s ====\n", cur ? cur->suite->name : "-",
			cur ? cur->c->name : "-");
		fclose(lf);
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(it.log, O_WRONLY | O_APPEND | O_CREAT, 0644);
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(prog, (char *const *)argv);
		fprintf(stderr, "it: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	it.daemon = pid;
	end = it_now_ms() + DAEMON_START_MS;
	while (it_now_ms() < end) {
		json_t *r;
		if (!it_daemon_alive()) {
			it_note("cutoverd exited during start-up; its log:");
			it_daemon_log_tail(20);
			return -1;
		}
		r = it_call_result("version", NULL);
		if (r && json_integer_value(json_object_get(r, "pid")) == pid) {
			json_decref(r);
			return 0;
		}
		json_decref(r);
		it_sleep_ms(50);
	}
	it_note("cutoverd did not answer 'version' on %s within %d ms", it.sock, DAEMON_START_MS);
	it_daemon_log_tail(20);
	it_daemon_kill9();
	return -1;
}

void it_daemon_stop(void)
{
	if (it.daemon <= 0)
		return;
	kill(it.daemon, SIGTERM);
	if (wait_child(it.daemon, 5000) < 0)
		it_note("cutoverd did not stop within 5 s of SIGTERM; killed it");
	it.daemon = 0;
}

void it_daemon_kill9(void)
{
	if (it.daemon <= 0)
		return;
	kill(it.daemon, SIGKILL);
	wait_child(it.daemon, 5000);
	it.daemon = 0;
}

int it_daemon_restart(const char *text)
{
	char *base = text ? NULL : it_config_text(NULL);
	int rc = it_config_write(text ? text : base);

	if (rc < 0)
		it_note("cannot write %s: %s", it.conf, strerror(errno));
	free(base);
	if (rc < 0)
		return -1;
	it_daemon_stop();
	return it_daemon_start();
}

void it_daemon_log_tail(int lines)
{
	char *text = read_file(it.log, 4 * 1024 * 1024), *p;
	int n = 0;

	if (!text) {
		printf("  | (no log at %s)\n", it.log);
		return;
	}
	for (p = text + strlen(text); p > text; p--)
		if (p[-1] == '\n' && p[0] && ++n > lines)
			break;
	for (; *p;) {
		size_t l = strcspn(p, "\n");
		printf("  | %.*s\n", (int)l, p);
		p += l + (p[l] == '\n');
	}
	fflush(stdout);
	free(text);
}

long it_daemon_log_mark(void)
{
	struct stat sb;
	return stat(it.log, &sb) == 0 ? (long)sb.st_size : 0;
}

bool it_daemon_log_since(long mark, const char *needle)
{
	char *text = read_file(it.log, 16 * 1024 * 1024);
	bool found = text && (long)strlen(text) >= mark && strstr(text + mark, needle);
	free(text);
	return found;
}

/* ------------------------------------------------------------------------------------------ */
/* control socket client */

struct it_conn *it_connect(const char *path)
{
	struct sockaddr_un sun;
	struct it_conn *c;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	LIST_INSERT_HEAD(&conns, c, entry);
	return c;
}

int it_conn_send_raw(struct it_conn *c, const char *buf, size_t len)
{
	int64_t end = it_now_ms() + 5000;
	size_t off = 0;

	while (off < len) {
		struct pollfd pfd = { c->fd, POLLOUT, 0 };
		ssize_t n;
		if (poll(&pfd, 1, (int)(end - it_now_ms() > 0 ? end - it_now_ms() : 0)) <= 0)
			return -1;
		n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int it_conn_send(struct it_conn *c, const char *line)
{
	if (it_conn_send_raw(c, line, strlen(line)) < 0)
		return -1;
	return it_conn_send_raw(c, "\n", 1);
}

int it_conn_request(struct it_conn *c, const char *cmd, json_t *args)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	char *line;
	int rc;

	if (args)
		json_object_set_new(req, "args", args);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = line ? it_conn_send(c, line) : -1;
	free(line);
	return rc;
}

/* The next complete line (new string without its newline), NULL on timeout or EOF. */
static char *conn_line(struct it_conn *c, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int64_t left;
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);
			char *line = strndup(c->buf, l);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return line;
		}
		if (c->eof)
			return NULL;
		left = end - it_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return NULL;
		if (c->len + 65536 > c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 131072;
			char *nb;
			if (ncap > CONN_MAX_LINE)
				return NULL;
			nb = realloc(c->buf, ncap);
			if (!nb)
				return NULL;
			c->buf = nb;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			c->eof = true;
			continue;
		}
		c->len += (size_t)n;
	}
}

json_t *it_conn_recv(struct it_conn *c, int timeout_ms)
{
	char *line = conn_line(c, timeout_ms);
	json_t *j;

	if (!line)
		return NULL;
	j = json_loads(line, 0, NULL);
	if (!j)
		it_note("not JSON from cutoverd: %.200s", line);
	free(line);
	return j;
}

bool it_conn_eof(const struct it_conn *c)
{
	return c->eof && c->len == 0;
}

bool it_conn_wait_closed(struct it_conn *c, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;
	char *line;

	while (!it_conn_eof(c) && it_now_ms() < end) {
		line = conn_line(c, (int)(end - it_now_ms()));
		free(line);
	}
	return it_conn_eof(c);
}

static bool is_stream_line(json_t *j)
{
	return json_object_get(j, "progress") || json_object_get(j, "event");
}

json_t *it_conn_reply(struct it_conn *c, int timeout_ms, json_t *progress)
{
	int64_t end = it_now_ms() + timeout_ms;

	while (it_now_ms() < end) {
		json_t *j = it_conn_recv(c, (int)(end - it_now_ms()));
		if (!j) {
			if (it_conn_eof(c))
				return NULL;
			continue;
		}
		if (!is_stream_line(j))
			return j;
		if (progress)
			json_array_append(progress, j);
		json_decref(j);
	}
	return NULL;
}

json_t *it_conn_progress_until(struct it_conn *c, const char *status, int timeout_ms, json_t **final)
{
	int64_t end = it_now_ms() + timeout_ms;

	if (final)
		*final = NULL;
	while (it_now_ms() < end) {
		json_t *j = it_conn_recv(c, (int)(end - it_now_ms()));
		const char *st;
		if (!j) {
			if (it_conn_eof(c))
				return NULL;
			continue;
		}
		if (!is_stream_line(j)) {
			if (final)
				*final = j;
			else
				json_decref(j);
			return NULL;
		}
		st = it_get_str(j, "progress.status");
		if (st && !strcmp(st, status))
			return j;
		json_decref(j);
	}
	return NULL;
}

void it_conn_close(struct it_conn *c)
{
	if (!c)
		return;
	LIST_REMOVE(c, entry);
	close(c->fd);
	free(c->buf);
	free(c);
}

static void conns_close_all(void)
{
	while (!LIST_EMPTY(&conns))
		it_conn_close(LIST_FIRST(&conns));
}

int it_requests_as_nobody(const char *const *lines, size_t n, char ***replies)
{
	int p[2];
	size_t i;
	pid_t pid;
	FILE *f;

	*replies = calloc(n, sizeof(char *));
	if (!*replies || pipe(p) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct it_conn *c;
		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		c = it_connect(it.sock);
		if (!c)
			_exit(11);
		for (i = 0; i < n; i++) {
			json_t *r;
			char *s;
			if (it_conn_send(c, lines[i]) < 0)
				_exit(12);
			r = it_conn_recv(c, 5000);
			s = r ? json_dumps(r, JSON_COMPACT) : strdup("null");
			dprintf(p[1], "%s\n", s);
			free(s);
			json_decref(r);
		}
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	f = fdopen(p[0], "r");
	for (i = 0; f && i < n; i++) {
		char *line = NULL;
		size_t cap = 0;
		if (getline(&line, &cap, f) < 0) {
			free(line);
			break;
		}
		(*replies)[i] = line;
	}
	if (f)
		fclose(f);
	else
		close(p[0]);
	return wait_child(pid, 30000);
}

json_t *it_call(const char *cmd, json_t *args, int timeout_ms)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *r = NULL;

	if (!c) {
		json_decref(args);
		return NULL;
	}
	if (it_conn_request(c, cmd, args) == 0)
		r = it_conn_reply(c, timeout_ms, NULL);
	it_conn_close(c);
	return r;
}

json_t *it_call_result(const char *cmd, json_t *args)
{
	json_t *r = it_call(cmd, args, 5000), *res = NULL;

	if (r && json_is_true(json_object_get(r, "ok")))
		res = json_incref(json_object_get(r, "result"));
	json_decref(r);
	return res;
}

json_t *it_status(void)
{
	return it_call_result("status", NULL);
}

json_t *it_switchover(json_t *args, int timeout_ms, json_t *progress)
{
	struct it_conn *c = it_connect(it.sock);
	json_t *r = NULL;

	if (!c) {
		json_decref(args);
		return NULL;
	}
	if (it_conn_request(c, "switchover", args) == 0)
		r = it_conn_reply(c, timeout_ms, progress);
	it_conn_close(c);
	return r;
}

char *it_progress_messages(json_t *progress)
{
	size_t i, len = 0;
	json_t *p;
	char *out = NULL;
	FILE *f = open_memstream(&out, &len);

	json_array_foreach(progress, i, p)
		fprintf(f, "%s\n", it_get_str(p, "progress.message") ?: "");
	fclose(f);
	return out;
}

json_t *it_get(json_t *root, const char *path)
{
	char key[128];
	const char *p = path;

	while (root && *p) {
		size_t l = strcspn(p, ".");
		char *end;
		unsigned long idx;

		if (l >= sizeof(key))
			return NULL;
		memcpy(key, p, l);
		key[l] = '\0';
		p += l + (p[l] == '.');
		if (json_is_array(root)) {
			idx = strtoul(key, &end, 10);
			root = *end ? NULL : json_array_get(root, idx);
		} else {
			root = json_object_get(root, key);
		}
	}
	return root;
}

const char *it_get_str(json_t *root, const char *path)
{
	return json_string_value(it_get(root, path));
}

static json_t *find_named(json_t *arr, const char *key, const char *name)
{
	json_t *x;
	size_t i;

	json_array_foreach(arr, i, x) {
		const char *n = json_string_value(json_object_get(x, key));
		if (n && !strcmp(n, name))
			return x;
	}
	return NULL;
}

json_t *it_server(json_t *status, const char *name)
{
	return find_named(it_get(status, "clusters.0.servers"), "name", name);
}

json_t *it_router(json_t *status, const char *name)
{
	return find_named(it_get(status, "clusters.0.routers"), "name", name);
}

json_t *it_alarm_in(json_t *st, const char *name, const char *subject, const char *state)
{
	json_t *a, *found = NULL;
	size_t i;

	json_array_foreach(it_get(st, "clusters.0.alarms"), i, a) {
		if (strcmp(it_get_str(a, "name") ?: "", name))
			continue;
		if (subject && strcmp(it_get_str(a, "subject") ?: "", subject))
			continue;
		if (state && strcmp(it_get_str(a, "state") ?: "", state))
			continue;
		found = a;
	}
	return found;
}

bool it_alarm_active(const char *name, const char *subject)
{
	json_t *st = it_status();
	bool on = it_alarm_in(st, name, subject, "active") != NULL;
	json_decref(st);
	return on;
}

const char *it_err_code(json_t *reply)
{
	if (!reply || json_is_true(json_object_get(reply, "ok")))
		return NULL;
	return it_get_str(reply, "error.code");
}

json_t *it_report(json_t *reply)
{
	json_t *r = json_object_get(reply, "result");
	return r ? r : it_get(reply, "error.report");
}

const char *it_json_str(json_t *j)
{
	static char bufs[8][3000];
	static unsigned next;
	char *buf = bufs[next++ % 8];
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6)) : NULL;

	snprintf(buf, sizeof(bufs[0]), "%s", s ? s : "(none)");
	free(s);
	return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* SQL */

const char *it_sql_error(void)
{
	return sql_err;
}

static MYSQL *sql_connect(int server)
{
	unsigned ct = 5, rt = SQL_TIMEOUT_S;
	char sockpath[400], *pw = read_secret("cutoverd");
	MYSQL *db = mysql_init(NULL);

	snprintf(sockpath, sizeof(sockpath), "%s/db%d/mysqld.sock", it.dir, server);
	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rt);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rt);
	if (!pw || !mysql_real_connect(db, "localhost", "cutoverd", pw, NULL, 0, sockpath, 0)) {
		snprintf(sql_err, sizeof(sql_err), "db%d: connect: %s", server, pw ? mysql_error(db) : "no password file");
		mysql_close(db);
		free(pw);
		return NULL;
	}
	free(pw);
	return db;
}

struct it_rows *it_rows_from(MYSQL_RES *res)
{
	struct it_rows *r = calloc(1, sizeof(*r));
	MYSQL_FIELD *f = mysql_fetch_fields(res);
	MYSQL_ROW row;
	unsigned i, k;

	r->ncols = mysql_num_fields(res);
	r->nrows = (unsigned)mysql_num_rows(res);
	r->names = calloc(r->ncols + 1, sizeof(char *));
	r->cells = calloc((size_t)r->nrows * r->ncols + 1, sizeof(char *));
	for (k = 0; k < r->ncols; k++)
		r->names[k] = strdup(f[k].name);
	for (i = 0; (row = mysql_fetch_row(res)) && i < r->nrows; i++)
		for (k = 0; k < r->ncols; k++)
			r->cells[(size_t)i * r->ncols + k] = row[k] ? strdup(row[k]) : NULL;
	return r;
}

static struct it_rows *vquery(int server, const char *fmt, va_list ap)
{
	char *sql = NULL;
	struct it_rows *r = NULL;
	MYSQL_RES *res;
	MYSQL *db;

	if (vasprintf(&sql, fmt, ap) < 0)
		return NULL;
	db = sql_connect(server);
	if (!db) {
		free(sql);
		return NULL;
	}
	if (mysql_real_query(db, sql, strlen(sql)) != 0) {
		snprintf(sql_err, sizeof(sql_err), "db%d: %s: %s", server, sql, mysql_error(db));
	} else if ((res = mysql_store_result(db)) != NULL) {
		r = it_rows_from(res);
		mysql_free_result(res);
	} else if (mysql_field_count(db) == 0) {
		r = calloc(1, sizeof(*r));   /* a statement without a result set */
	} else {
		snprintf(sql_err, sizeof(sql_err), "db%d: %s: %s", server, sql, mysql_error(db));
	}
	mysql_close(db);
	free(sql);
	return r;
}

struct it_rows *it_query(int server, const char *fmt, ...)
{
	struct it_rows *r;
	va_list ap;

	va_start(ap, fmt);
	r = vquery(server, fmt, ap);
	va_end(ap);
	return r;
}

const char *it_rows_get(const struct it_rows *r, unsigned row, const char *col)
{
	unsigned k;

	if (!r || row >= r->nrows)
		return NULL;
	for (k = 0; k < r->ncols; k++)
		if (!strcasecmp(r->names[k], col))
			return r->cells[(size_t)row * r->ncols + k];
	return NULL;
}

void it_rows_free(struct it_rows *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->ncols; i++)
		free(r->names[i]);
	for (i = 0; i < (size_t)r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->names);
	free(r->cells);
	free(r);
}

char *it_sql1(int server, const char *fmt, ...)
{
	struct it_rows *r;
	char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	r = vquery(server, fmt, ap);
	va_end(ap);
	if (r && r->nrows && r->ncols && r->cells[0])
		v = strdup(r->cells[0]);
	it_rows_free(r);
	return v;
}

long long it_sql_ll(int server, long long dflt, const char *fmt, ...)
{
	struct it_rows *r;
	long long v = dflt;
	va_list ap;

	va_start(ap, fmt);
	r = vquery(server, fmt, ap);
	va_end(ap);
	if (r && r->nrows && r->ncols && r->cells[0])
		v = strtoll(r->cells[0], NULL, 10);
	it_rows_free(r);
	return v;
}

int it_sql_exec(int server, const char *fmt, ...)
{
	struct it_rows *r;
	va_list ap;

	va_start(ap, fmt);
	r = vquery(server, fmt, ap);
	va_end(ap);
	it_rows_free(r);
	return r ? 0 : -1;
}

int it_repl(int server, struct it_repl *out)
{
	/* MariaDB (10.5+) takes SHOW REPLICA STATUS too but keeps its old column names; MySQL 8.4+
	 * has only this statement and the new names */
	struct it_rows *r = it_query(server, "SHOW REPLICA STATUS");
	const char *port, *io, *sql;

	memset(out, 0, sizeof(*out));
	if (!r || r->nrows == 0) {
		it_rows_free(r);
		return -1;
	}
	port = it_rows_get(r, 0, "Master_Port") ?: it_rows_get(r, 0, "Source_Port");
	io = it_rows_get(r, 0, "Slave_IO_Running") ?: it_rows_get(r, 0, "Replica_IO_Running");
	sql = it_rows_get(r, 0, "Slave_SQL_Running") ?: it_rows_get(r, 0, "Replica_SQL_Running");
	out->master_port = port ? atoi(port) : 0;
	snprintf(out->io, sizeof(out->io), "%s", io ? io : "?");
	snprintf(out->sql, sizeof(out->sql), "%s", sql ? sql : "?");
	it_rows_free(r);
	return 0;
}

int it_read_only(int server)
{
	return (int)it_sql_ll(server, -1, "SELECT @@global.read_only");
}

int it_writable_count(void)
{
	int k, n = 0;
	for (k = 1; k <= IT_SERVERS; k++)
		n += it_read_only(k) == 0;
	return n;
}

const char *it_name_of(int server)
{
	static const char *const names[] = { "?", "db1", "db2", "db3" };
	return server >= 1 && server <= IT_SERVERS ? names[server] : "?";
}

bool it_follows(int server, int source)
{
	struct it_repl r;
	return it_repl(server, &r) == 0 && r.master_port == it_port(source) && !strcmp(r.io, "Yes") &&
	       !strcmp(r.sql, "Yes");
}

bool it_lag_known(const char *name)
{
	json_t *st = it_status();
	/* a primary shows lag 0: what counts is the lag of the replica it has become */
	bool ok = json_is_integer(json_object_get(it_server(st, name), "lag_ms")) &&
		  !strcmp(it_get_str(it_server(st, name), "role") ?: "", "replica");
	json_decref(st);
	return ok;
}

unsigned it_probe_write(char *err, size_t errlen)
{
	unsigned t = 3, sid = 0;
	char *pw = read_secret("app"), sql[200];
	int64_t id = it_now_real_us();
	MYSQL *db = mysql_init(NULL);
	MYSQL_RES *res;
	MYSQL_ROW row;

	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &t);
	/* Negative ids never meet cutover-load's, which are positive wall-clock microseconds. */
	snprintf(sql, sizeof(sql), "INSERT INTO app.writes (id, client_ts, server_id) VALUES (%lld, %lld, @@server_id)",
		 (long long)-id, (long long)id);
	if (!pw || !mysql_real_connect(db, "127.0.0.1", "app", pw, NULL, (unsigned)it.write_port, NULL, 0) ||
	    mysql_real_query(db, sql, strlen(sql)) != 0 || mysql_real_query(db, "SELECT @@server_id", 18) != 0 ||
	    !(res = mysql_store_result(db))) {
		snprintf(err, errlen, "write through 127.0.0.1:%d: %s", it.write_port, pw ? mysql_error(db) : "no app password");
		mysql_close(db);
		free(pw);
		return 0;
	}
	row = mysql_fetch_row(res);
	sid = row && row[0] ? (unsigned)strtoul(row[0], NULL, 10) : 0;
	mysql_free_result(res);
	mysql_close(db);
	free(pw);
	snprintf(err, errlen, "ok");
	return sid;
}

/* ------------------------------------------------------------------------------------------ */
/* HAProxy */

/* Read until the peer closes or timeout_ms pass, keeping everything in c->buf. */
static void conn_read_all(struct it_conn *c, int timeout_ms)
{
	int64_t end = it_now_ms() + timeout_ms;

	while (!c->eof && it_now_ms() < end) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		ssize_t n;
		if (poll(&pfd, 1, (int)(end - it_now_ms())) <= 0)
			break;
		if (c->len + 4096 > c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			char *nb = realloc(c->buf, ncap);
			if (!nb)
				break;
			c->buf = nb;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			c->eof = true;
		else
			c->len += (size_t)n;
	}
}

char *it_haproxy(const char *cmd)
{
	char path[400];
	struct it_conn *c;
	char *out;

	snprintf(path, sizeof(path), "%s/haproxy/admin.sock", it.dir);
	c = it_connect(path);
	if (!c)
		return NULL;
	if (it_conn_send(c, cmd) < 0) {
		it_conn_close(c);
		return NULL;
	}
	/* Non-interactive mode: HAProxy answers and closes. */
	conn_read_all(c, 3000);
	out = strndup(c->buf ? c->buf : "", c->len);
	it_conn_close(c);
	return out;
}

/* The columns of a `show stat` line (destructive split on ','). */
static size_t csv_split(char *line, char **cols, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (n < max) {
		cols[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* Calls fn(svname, status, arg) for each server of mysql_write. */
static int haproxy_servers(void (*fn)(const char *sv, const char *status, void *arg), void *arg)
{
	char *stat = it_haproxy("show stat"), *line, *save = NULL;
	char *cols[128];
	int ipx = -1, isv = -1, ist = -1;
	size_t n, k;

	if (!stat)
		return -1;
	for (line = strtok_r(stat, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			n = csv_split(line + 2, cols, 128);
			for (k = 0; k < n; k++) {
				if (!strcmp(cols[k], "pxname"))
					ipx = (int)k;
				else if (!strcmp(cols[k], "svname"))
					isv = (int)k;
				else if (!strcmp(cols[k], "status"))
					ist = (int)k;
			}
			continue;
		}
		if (ipx < 0 || isv < 0 || ist < 0)
			continue;
		n = csv_split(line, cols, 128);
		if ((size_t)ist >= n || strcmp(cols[ipx], "mysql_write") || !strcmp(cols[isv], "FRONTEND") ||
		    !strcmp(cols[isv], "BACKEND"))
			continue;
		fn(cols[isv], cols[ist], arg);
	}
	free(stat);
	return ipx < 0 ? -1 : 0;
}

struct hx_find {
	const char *server;
	char *status;
	int writers;
	char *writer;
};

static void hx_state_cb(const char *sv, const char *status, void *arg)
{
	struct hx_find *f = arg;
	if (!strcmp(sv, f->server) && !f->status)
		f->status = strdup(status);
}

static void hx_writer_cb(const char *sv, const char *status, void *arg)
{
	struct hx_find *f = arg;
	if (!strncmp(status, "MAINT", 5) || strstr(status, "DRAIN"))
		return;
	f->writers++;
	free(f->writer);
	f->writer = strdup(sv);
}

char *it_haproxy_state(const char *server)
{
	struct hx_find f = { server, NULL, 0, NULL };
	haproxy_servers(hx_state_cb, &f);
	return f.status;
}

char *it_haproxy_writer(void)
{
	struct hx_find f = { NULL, NULL, 0, NULL };
	if (haproxy_servers(hx_writer_cb, &f) < 0 || f.writers != 1) {
		free(f.writer);
		return NULL;
	}
	return f.writer;
}

/* ------------------------------------------------------------------------------------------ */
/* write load */

int it_load_start(struct it_load *l, const char *tag, int interval_us)
{
	char pwfile[400];
	snprintf(pwfile, sizeof(pwfile), "%s/secrets/app.pass", it.dir);
	return it_load_start_as(l, tag, interval_us, "app", pwfile);
}

static int load_start(struct it_load *l, const char *tag, int interval_us, int port, const char *user,
		      const char *password_file, const char *mode, bool pinned, const char *schema_name);

int it_load_start_as(struct it_load *l, const char *tag, int interval_us, const char *user, const char *password_file)
{
	return load_start(l, tag, interval_us, it.write_port, user, password_file, "persistent", false, NULL);
}

int it_load_start_mode(struct it_load *l, const char *tag, int interval_us, const char *mode)
{
	return it_load_start_at(l, tag, interval_us, it.write_port, mode, false);
}

int it_load_start_at(struct it_load *l, const char *tag, int interval_us, int port, const char *mode, bool pinned)
{
	char pwfile[400];
	snprintf(pwfile, sizeof(pwfile), "%s/secrets/app.pass", it.dir);
	return load_start(l, tag, interval_us, port, "app", pwfile, mode, pinned, NULL);
}

int it_load_start_pw(struct it_load *l, const char *tag, int interval_us, int port, const char *password_file)
{
	return load_start(l, tag, interval_us, port, "app", password_file, "persistent", false, NULL);
}

int it_load_start_schema(struct it_load *l, const char *tag, int interval_us, int port, const char *mode,
			 const char *schema)
{
	char pwfile[400];
	snprintf(pwfile, sizeof(pwfile), "%s/secrets/app.pass", it.dir);
	return load_start(l, tag, interval_us, port, "app", pwfile, mode, false, schema);
}

static int load_start(struct it_load *l, const char *tag, int interval_us, int port, const char *user,
		      const char *password_file, const char *mode, bool pinned, const char *schema_name)
{
	char prog[600], portarg[16], interval[16], start[32], pwfile[400], schema[72];
	const char *argv[] = { prog, "--host", "127.0.0.1", "--port", portarg, "--user", user, "--password-file",
			       pwfile, "--interval-us", interval, "--until-file", l->until, "--out", l->acks,
			       "--start-id", start, "--mode", mode, NULL, NULL, NULL, NULL };
	size_t k = 19;
	pid_t pid;
	int i;

	snprintf(schema, sizeof(schema), "%s", schema_name ? schema_name : "");
	memset(l, 0, sizeof(*l));
	snprintf(l->schema, sizeof(l->schema), "%s", schema);
	if (pinned)
		argv[k++] = "--pinned";
	if (*schema) {
		argv[k++] = "--schema";
		argv[k++] = l->schema;
	}
	snprintf(prog, sizeof(prog), "%s/cutover-load", it.build);
	snprintf(portarg, sizeof(portarg), "%d", port);
	snprintf(interval, sizeof(interval), "%d", interval_us);
	snprintf(pwfile, sizeof(pwfile), "%s", password_file);
	snprintf(l->until, sizeof(l->until), "%s/load-%s.until", it.dir, tag);
	snprintf(l->acks, sizeof(l->acks), "%s/load-%s.acks", it.dir, tag);
	snprintf(l->out, sizeof(l->out), "%s/load-%s.json", it.dir, tag);
	snprintf(l->err, sizeof(l->err), "%s/load-%s.err", it.dir, tag);
	/* loads running side by side must never write the same id: each gets its own range */
	{
		static int n_started;
		l->start_id = it_now_real_us() + (long long)(n_started++ % 64) * 10000000000000LL;
	}
	snprintf(start, sizeof(start), "%lld", l->start_id);
	if (write_file(l->until, "", 0644) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(l->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(l->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(devnull, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	l->pid = pid;
	for (i = 0; i < MAX_LOADS; i++)
		if (!loads[i]) {
			loads[i] = pid;
			break;
		}
	return 0;
}

json_t *it_load_stop(struct it_load *l)
{
	char *out;
	json_t *j = NULL;
	int i;

	if (l->pid <= 0)
		return NULL;
	unlink(l->until);
	/* It notices the removed file before its next attempt; an attempt lasts at most 2 s. */
	if (wait_child(l->pid, 8000) < 0)
		it_note("cutover-load did not stop within 8 s; killed");
	for (i = 0; i < MAX_LOADS; i++)
		if (loads[i] == l->pid)
			loads[i] = 0;
	l->pid = 0;
	out = read_file(l->out, 65536);
	if (out)
		j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

static void loads_kill_all(void)
{
	int i;
	for (i = 0; i < MAX_LOADS; i++)
		if (loads[i] > 0) {
			kill(loads[i], SIGKILL);
			waitpid(loads[i], NULL, 0);
			loads[i] = 0;
		}
}

json_t *it_load_verify(const struct it_load *l, int server, int *status)
{
	char pwfile[400];

	snprintf(pwfile, sizeof(pwfile), "%s/secrets/app.pass", it.dir);
	return it_load_verify_pw(l, it_port(server), pwfile, status);
}

json_t *it_load_verify_pw(const struct it_load *l, int server_port, const char *password_file, int *status)
{
	char prog[600], port[16], pwfile[400], *out = NULL;
	const char *argv[] = { prog, "--verify", "--acks", l->acks, "--host", "127.0.0.1", "--port", port, "--user",
			       "app", "--password-file", pwfile, l->schema[0] ? "--schema" : NULL, l->schema, NULL };
	json_t *j;

	snprintf(prog, sizeof(prog), "%s/cutover-load", it.build);
	snprintf(port, sizeof(port), "%d", server_port);
	snprintf(pwfile, sizeof(pwfile), "%s", password_file);
	*status = it_run(argv, false, &out, 30000);
	j = out ? json_loads(out, 0, NULL) : NULL;
	if (!j)
		it_note("cutover-load --verify printed no JSON (exit %d): %s", *status, out ? out : "");
	free(out);
	return j;
}

long long it_load_rows(const struct it_load *l, int server, unsigned sid)
{
	if (sid)
		return it_sql_ll(server, -1, "SELECT COUNT(*) FROM app.writes WHERE id >= %lld AND server_id = %u",
				 l->start_id, sid);
	return it_sql_ll(server, -1, "SELECT COUNT(*) FROM app.writes WHERE id >= %lld", l->start_id);
}

struct it_ack *it_acks_read(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct it_ack *v = NULL;
	size_t cap = 0;
	char line[4096], st[8];

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		struct it_ack a;
		long long send_us, done_us;
		int err;
		if (sscanf(line, "%lld\t%lld\t%lld\t%7[a-z]\t%d\t%u", &a.id, &send_us, &done_us, st, &err, &a.sid) != 6)
			continue;
		a.send_us = send_us;
		a.done_us = done_us;
		a.ok = !strcmp(st, "ok");
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = a;
	}
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------------------------------ */
/* the baseline */

/* db1 the writable primary, db2 and db3 replicating from it, HAProxy sending writes to db1,
 * cutoverd running the base config with nothing in progress and reporting OK. */
static bool baseline_ok(char *why, size_t len)
{
	char *base, *file, *writer;
	json_t *st, *cfg;
	struct it_repl r;
	bool same;
	int i;

	if (!it_daemon_alive()) {
		snprintf(why, len, "cutoverd is not running");
		return false;
	}
	for (i = 1; i <= IT_SERVERS; i++)
		if (!it_server_pid(i)) {
			snprintf(why, len, "db%d is not running", i);
			return false;
		}
	base = it_config_text(NULL);
	file = read_file(it.conf, 1 << 20);
	same = file && !strcmp(base, file);
	free(base);
	free(file);
	if (!same) {
		snprintf(why, len, "%s is not the base config", it.conf);
		return false;
	}
	cfg = it_call_result("config", NULL);
	if (!cfg || json_integer_value(it_get(cfg, "global.poll_interval_ms")) != IT_POLL_MS ||
	    json_array_size(json_object_get(cfg, "routers")) != 1) {
		snprintf(why, len, "cutoverd does not run the base config");
		json_decref(cfg);
		return false;
	}
	json_decref(cfg);
	if (it_read_only(1) != 0) {
		snprintf(why, len, "db1 is not writable (read_only %d)", it_read_only(1));
		return false;
	}
	for (i = 2; i <= IT_SERVERS; i++) {
		if (it_read_only(i) != 1) {
			snprintf(why, len, "db%d is not read-only", i);
			return false;
		}
		if (it_repl(i, &r) < 0 || r.master_port != it_port(1) || strcmp(r.io, "Yes") || strcmp(r.sql, "Yes")) {
			snprintf(why, len, "db%d does not replicate from db1 (port %d, IO %s, SQL %s)", i, r.master_port,
				 r.io, r.sql);
			return false;
		}
	}
	writer = it_haproxy_writer();
	same = writer && !strcmp(writer, "db1");
	if (!same) {
		snprintf(why, len, "HAProxy's writer is %s, not db1", writer ? writer : "not a single server");
		free(writer);
		return false;
	}
	free(writer);
	st = it_status();
	if (!st) {
		snprintf(why, len, "no status from cutoverd");
		return false;
	}
	same = !strcmp(it_get_str(st, "clusters.0.verdict") ?: "", "OK") &&
	       !strcmp(it_get_str(st, "clusters.0.primary") ?: "", "db1") &&
	       json_is_null(it_get(st, "clusters.0.cutover")) &&
	       !strcmp(it_get_str(it_router(st, "haproxy"), "writer") ?: "", "db1");
	for (i = 1; same && i <= IT_SERVERS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "db%d", i);
		same = !strcmp(it_get_str(it_server(st, name), "state") ?: "", "up") &&
		       json_is_integer(json_object_get(it_server(st, name), "lag_ms"));
	}
	if (!same)
		snprintf(why, len, "cutoverd does not report the baseline yet (verdict %s, primary %s, cutover %.200s, "
			 "writer %s)", it_get_str(st, "clusters.0.verdict") ?: "?",
			 it_get_str(st, "clusters.0.primary") ?: "null", it_json_str(it_get(st, "clusters.0.cutover")),
			 it_get_str(it_router(st, "haproxy"), "writer") ?: "null");
	json_decref(st);
	return same;
}

static bool baseline_wait(char *why, size_t len, int timeout_ms)
{
	return IT_WAIT_UNTIL(timeout_ms, baseline_ok(why, len) || !it_daemon_alive());
}

bool it_restore_baseline(bool force, const char *why)
{
	char reason[512] = "";
	char *conf;
	int64_t t0 = it_now_ms();

	if (!force && it.up && baseline_wait(reason, sizeof(reason), 5000) && it_daemon_alive())
		return true;
	it_note("rebuilding the sandbox: %s", force ? why : reason);
	conns_close_all();
	loads_kill_all();
	it_daemon_stop();
	it.up = false;
	/* The default ports lie in Linux's ephemeral range: a client socket can hold one for a
	 * moment, so a failed start is tried once more. */
	if (!sandbox_start() && (it_sleep_ms(1000), !sandbox_start()))
		return false;
	conf = it_config_text(NULL);
	if (it_config_write(conf) < 0) {
		it_note("cannot write %s: %s", it.conf, strerror(errno));
		free(conf);
		return false;
	}
	free(conf);
	if (it_daemon_start() < 0)
		return false;
	if (!baseline_wait(reason, sizeof(reason), BASELINE_WAIT_MS)) {
		it_note("the cluster does not reach the baseline: %s", reason);
		it_daemon_log_tail(30);
		return false;
	}
	it.up = true;
	it_note("sandbox and cutoverd at the baseline in %.1f s", (double)(it_now_ms() - t0) / 1000.0);
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* runner glue */

static bool enter_suite(const struct it_suite_def *def)
{
	if (it.suite && strcmp(it.suite, def->name))
		leave_suite();
	if (it.suite && it.up)
		return true;
	if (!env_init())
		return false;
	if (geteuid() != 0) {
		it_note("the integration tests must run as root (the sandbox's servers run as root)");
		return false;
	}
	if (!it.suite) {
		set_suite_paths(def->name);
		it.suite = def->name;
		truncate(it.log, 0);
	}
	return it_restore_baseline(true, "first test of the suite");
}

static void leave_suite(void)
{
	conns_close_all();
	loads_kill_all();
	it_daemon_stop();
	if (it.suite) {
		it_cont_all();
		it_sandbox("stop", NULL);
	}
	it.suite = NULL;
	it.up = false;
}

void it_shutdown(void)
{
	it_cleanup_run();
	cur = NULL;
	leave_suite();
}

START_TEST(it_run_case)
{
	install_handlers();
	cur = &reg[_i];
	cur_passed = false;
	cur_started_ms = it_now_ms();
	printf("it: %s/%s\n", cur->suite->name, cur->c->name);
	fflush(stdout);
	if (cur->bare)
		leave_suite();   /* the previous suite's servers are not this one's to use */
	else
		ck_assert_msg(enter_suite(cur->suite), "cannot bring the sandbox and cutoverd to the baseline (see above)");
	cur->c->fn();
	cur_passed = true;
}
END_TEST

/* After every test, passed or not: release what it held, wake stopped servers, and leave the
 * cluster at the baseline for the next one. */
static void case_teardown(void)
{
	if (!cur)
		return;
	it_cleanup_run();
	conns_close_all();
	loads_kill_all();
	it_cont_all();
	if (!cur_passed && it.suite) {
		it_note("FAILED; last lines of the cutoverd log (%s):", it.log);
		it_daemon_log_tail(40);
		it_restore_baseline(true, "the test failed");
	} else if (it.suite) {
		it_restore_baseline(false, NULL);
	}
	it_note("%s in %.1f s", cur_passed ? "passed" : "FAILED", (double)(it_now_ms() - cur_started_ms) / 1000.0);
}

static Suite *suite_build(const struct it_suite_def *def, bool bare)
{
	Suite *s = suite_create(def->name);
	size_t i;

	for (i = 0; i < def->n_cases && n_reg < MAX_CASES; i++) {
		TCase *tc = tcase_create(def->cases[i].name);
		reg[n_reg].suite = def;
		reg[n_reg].c = &def->cases[i];
		reg[n_reg].bare = bare;
		tcase_add_checked_fixture(tc, NULL, case_teardown);
		tcase_add_loop_test(tc, it_run_case, n_reg, n_reg + 1);
		suite_add_tcase(s, tc);
		n_reg++;
	}
	return s;
}

Suite *it_suite_build(const struct it_suite_def *def)
{
	return suite_build(def, false);
}

Suite *it_suite_build_bare(const struct it_suite_def *def)
{
	return suite_build(def, true);
}

/* ------------------------------------------------------------------------------------------ */
/* cleanup commands */

int it_cleanup_add(const char *const *argv)
{
	int i, k;

	for (i = 0; i < MAX_CLEANUPS && cleanups[i][0]; i++)
		;
	if (i == MAX_CLEANUPS || !argv[0])
		return -1;
	/* [0] last: the signal handler only runs complete slots */
	for (k = 1; k < CLEANUP_ARGS - 1 && argv[k]; k++)
		cleanups[i][k] = strdup(argv[k]);
	cleanups[i][k] = NULL;
	cleanups[i][0] = strdup(argv[0]);
	return 0;
}

void it_cleanup_run(void)
{
	int i, k, rc;

	for (i = 0; i < MAX_CLEANUPS; i++) {
		char *argv[CLEANUP_ARGS], *out = NULL;
		if (!cleanups[i][0])
			continue;
		memcpy(argv, cleanups[i], sizeof(argv));
		cleanups[i][0] = NULL;   /* the signal handler no longer runs it */
		rc = it_run((const char *const *)argv, true, &out, 10000);
		if (rc != 0)
			it_note("cleanup %s %s exited %d: %s", argv[0], argv[1] ? argv[1] : "", rc, out ? out : "");
		free(out);
		for (k = 0; k < CLEANUP_ARGS && argv[k]; k++)
			free(argv[k]);
	}
}

/* From the fatal-signal handler: fork and exec only. */
static void cleanups_fatal(void)
{
	pid_t pid;
	int i;

	for (i = 0; i < MAX_CLEANUPS; i++) {
		if (!cleanups[i][0])
			continue;
		pid = fork();
		if (pid == 0) {
			execv(cleanups[i][0], cleanups[i]);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* fatal signals */

static void prepare_fatal_argv(void)
{
	snprintf(fatal_dir, sizeof(fatal_dir), "%s", it.dir);
	fatal_argv[0] = it.sandbox_sh;
	fatal_argv[1] = (char *)"stop";
	fatal_argv[2] = (char *)"--dir";
	fatal_argv[3] = fatal_dir;
	fatal_argv[4] = NULL;
}

/* Only async-signal-safe calls: kill what we started, run `sandbox.sh stop`, exit. */
static void on_fatal(int sig)
{
	static const char msg[] = "\nit: fatal signal; stopping cutoverd and the sandbox\n";
	static const char alrm[] = "\nit: the run exceeded IT_TIME_LIMIT_S; stopping cutoverd and the sandbox\n";
	pid_t pid;
	int i;

	if (sig == SIGALRM)
		(void)!write(2, alrm, sizeof(alrm) - 1);
	else
		(void)!write(2, msg, sizeof(msg) - 1);
	if (it.daemon > 0)
		kill(it.daemon, SIGKILL);
	for (i = 0; i < MAX_LOADS; i++)
		if (loads[i] > 0)
			kill(loads[i], SIGKILL);
	cleanups_fatal();
	if (it.suite && fatal_argv[0]) {
		pid = fork();
		if (pid == 0) {
			execv(fatal_argv[0], fatal_argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(sig == SIGINT ? 130 : 1);
}

/* srunner_run installs its own SIGINT/SIGTERM/SIGALRM handlers, made for fork mode: in
 * CK_NOFORK mode they kill the runner's whole process group (make and the shell included) and
 * leave the servers running.  So ours go in again at the start of every test. */
static void install_handlers(void)
{
	struct sigaction sa;
	int sigs[] = { SIGINT, SIGTERM, SIGALRM, SIGSEGV, SIGABRT, SIGBUS };
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void it_install_guards(int seconds)
{
	install_handlers();
	if (seconds > 0)
		alarm((unsigned)seconds);
}

/* GET http://127.0.0.1:PORT/path (HTTP/1.0: the server closes after the reply): the body
 * (new string, "" on failure), the status in *code (0 when nothing answered). */
char *it_http_get(int port, const char *path, int *code)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	char req[256], *buf = NULL, *body;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	*code = 0;
	a.sin_port = htons((uint16_t)port);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strdup("");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return strdup("");
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 16384;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = read(fd, buf + len, cap - len);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	close(fd);
	if (!buf)
		return strdup("");
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (n < 0 || !body || sscanf(buf, "HTTP/1.%*d %d", code) != 1) {
		*code = 0;
		free(buf);
		return strdup("");
	}
	body = strdup(body + 4);
	free(buf);
	return body;
}
