/* Integration-test helpers: the suites in tests/it_*.c run against real servers — a sandbox of
 * mariadbd instances and HAProxy (tests/sandbox/sandbox.sh), the real build/cutoverd and the
 * real build/cutover-load — and this is everything they share: the sandbox and daemon
 * lifecycles, a client for the control socket, SQL on the sandbox's servers, HAProxy's runtime
 * API, the write-load client, and waiting for a condition with a deadline.
 *
 * One suite owns one sandbox (/tmp/it-<suite>, ports from IT_BASE_PORT/IT_WRITE_PORT/
 * IT_READ_PORT), started by the first of its tests to run and stopped when another suite starts
 * or the run ends.  Every test starts from the baseline — db1 the writable primary, db2 and db3
 * replicating from it, HAProxy sending writes to db1, cutoverd running the base config and
 * reporting OK — and after a test that failed (or left the cluster elsewhere) the sandbox is
 * rebuilt, so one failure does not cascade.  The runner must use CK_NOFORK: the state lives in
 * this process. */
#ifndef CUTOVER_IT_LIB_H
#define CUTOVER_IT_LIB_H

#include <check.h>
#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IT_SERVERS 3
#define IT_POLL_MS 200              /* poll_interval of the test config */
#define IT_QUERY_TIMEOUT_MS 3000    /* query_timeout of the test config */
#define IT_HYSTERESIS 2
#define IT_CLUSTER "sandbox"        /* the cluster sandbox.sh names */

/* One test: a plain function using ck_assert*; the table in each suite file lists them. */
struct it_case {
	const char *name;           /* also the tcase name, for CK_RUN_CASE */
	void (*fn)(void);
};

struct it_suite_def {
	const char *name;           /* suite name (CK_RUN_SUITE) and sandbox directory suffix */
	const struct it_case *cases;
	size_t n_cases;
};

/* The running suite's environment.  Paths are absolute. */
struct it_env {
	const char *suite;          /* NULL when no sandbox is up */
	bool up;                    /* sandbox and daemon reached the baseline */
	char build[512];            /* CUTOVER_BUILD, default ./build */
	char sandbox_sh[600];       /* CUTOVER_SANDBOX, default <build>/../tests/sandbox/sandbox.sh */
	char dir[256];              /* the sandbox directory */
	int base_port, write_port, read_port;
	char conf[300];             /* the config cutoverd runs with (dir/it.conf) */
	char sock[300];             /* its control socket */
	char log[300];              /* cutoverd's stderr, outside the sandbox so it survives a stop */
	pid_t daemon;               /* 0 when not running */
};

extern struct it_env it;

/* ---- runner ---- */
Suite *it_suite_build(const struct it_suite_def *def);
/* The same for a suite whose cases need no sandbox (one that only says why it is skipped): the
 * previous suite's sandbox is stopped and none is started. */
Suite *it_suite_build_bare(const struct it_suite_def *def);
/* Stop the daemon, load clients and the sandbox (end of run). */
void it_shutdown(void);
/* SIGINT/SIGTERM/SIGALRM/crash handlers that stop what the run started, and a watchdog that
 * ends the run after `seconds` (the runner has no per-test timeout in CK_NOFORK mode). */
void it_install_guards(int seconds);

/* Say loudly that the running suite is skipped and why (a program it needs is missing).  The
 * runner counts such suites and says how many at the end, so that a skip never reads as a
 * pass. */
void it_skip_suite(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tests/roots.sh ensure ROOT (a cached Debian root with other server versions, `what` in words),
 * next to the build, for `suite`: true when it is there, else why not in problem. */
bool it_root_ensure(const char *suite, const char *root, const char *what, char *problem, size_t len);
/* A suite whose servers come from ROOT: with `env` (env: NAME=VALUE) for its sandbox, added
 * when the root is there (built first if need be; only for a run that includes the suite), else
 * as one case that says SKIPPED loudly (counted) — or fails when CUTOVER_REQUIRE_ROOTS=1. */
void it_add_root_suite(SRunner *sr, const struct it_suite_def *def, const char *root, const char *what,
		       const char *env);
int it_suites_skipped(void);

/* A line of what a test measured or saw, prefixed with the test's name. */
void it_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t it_now_ms(void);
int64_t it_now_real_us(void);
void it_sleep_ms(int ms);

/* Evaluate `cond` every 50 ms until it is true or `ms` have passed; the value of the last
 * evaluation. */
#define IT_WAIT_UNTIL(ms, cond) ({                                              \
	int64_t it_end_ = it_now_ms() + (ms);                                   \
	bool it_ok_;                                                            \
	while (!(it_ok_ = (cond)) && it_now_ms() < it_end_)                     \
		it_sleep_ms(50);                                                \
	it_ok_;                                                                 \
})

/* ---- sandbox ---- */
int it_port(int server);                          /* server 1..IT_SERVERS */
/* Run sandbox.sh with --dir and the given arguments (NULL-terminated); its exit status. */
int it_sandbox(const char *arg, ...) __attribute__((sentinel));
pid_t it_server_pid(int server);                  /* 0 if not running */
/* sandbox.sh restart I, tolerating its start-up race (a server that answers SQL afterwards
 * counts as restarted, with a note); 0 or its exit status. */
int it_server_restart(int server);
int it_server_signal(int server, int sig);        /* 0, or -1 if it has no pid */
/* SIGSTOP a server and wait until every one of its threads is stopped (a thread busy in the
 * kernel stops only when it leaves it); 0, or -1. */
int it_server_stop(int server);
/* SIGCONT every server (a test may have stopped one). */
void it_cont_all(void);
/* Make sure the cluster is at the baseline; rebuild the sandbox when `force` or when it is
 * not.  false (with a note) when even a rebuild did not get there. */
bool it_restore_baseline(bool force, const char *why);
/* An environment assignment ("NAME=VALUE", e.g. "SANDBOX_EXTRA_BIND=127.0.0.2") given to
 * `sandbox.sh start` whenever it builds this suite's sandbox; call it from the suite's
 * constructor, before the run.  At most 8 in all. */
void it_suite_sandbox_env(const char *suite, const char *assignment);
/* A command run when the current test ends (passed or failed), when the run ends, and by the
 * fatal-signal handler — for what must never outlive a test, like a firewall rule.  argv[0] an
 * absolute path, at most 15 arguments; copied.  0, or -1 when 8 are already registered. */
int it_cleanup_add(const char *const *argv);
/* Run the registered cleanup commands now (a test that is done with what they undo) and forget
 * them; each one's failure is noted. */
void it_cleanup_run(void);

/* ---- cutoverd ---- */
/* The base test config, plus `extra` appended (may be NULL); new string. */
char *it_config_text(const char *extra);
/* The base test config with `cluster_extra` (lines such as "split_brain = fence\n") added to its
 * [cluster] section and `extra` appended; either may be NULL.  New string. */
char *it_config_text_cluster(const char *cluster_extra, const char *extra);
int it_config_write(const char *text);            /* to it.conf; 0 / -1 */
int it_daemon_start(void);                        /* waits until `version` answers; 0 / -1 */
void it_daemon_stop(void);
void it_daemon_kill9(void);
/* Write `text` (NULL: the base config) to it.conf and restart cutoverd with it (what a reload
 * would carry over starts afresh); 0 / -1. */
int it_daemon_restart(const char *text);
bool it_daemon_alive(void);
void it_daemon_log_tail(int lines);
/* The log's current size, and whether what was written after such a mark contains needle. */
long it_daemon_log_mark(void);
bool it_daemon_log_since(long mark, const char *needle);

/* ---- control socket client ---- */
struct it_conn;
struct it_conn *it_connect(const char *path);     /* NULL on failure (errno set) */
int it_conn_send(struct it_conn *c, const char *line);    /* "\n" appended; 0 / -1 */
int it_conn_send_raw(struct it_conn *c, const char *buf, size_t len);
/* {"cmd":cmd,"args":args} (args stolen, may be NULL); 0 / -1 */
int it_conn_request(struct it_conn *c, const char *cmd, json_t *args);
/* The next line as JSON, NULL on timeout, EOF or garbage (it_conn_eof tells which). */
json_t *it_conn_recv(struct it_conn *c, int timeout_ms);
bool it_conn_eof(const struct it_conn *c);
/* Wait until the peer closes the connection (discarding lines); true if it did in time. */
bool it_conn_wait_closed(struct it_conn *c, int timeout_ms);
/* The next line that is not a progress/event line (the final reply of a streaming command);
 * progress lines are appended to *progress when it is not NULL. */
json_t *it_conn_reply(struct it_conn *c, int timeout_ms, json_t *progress);
/* Read progress lines until one with "status" == status; that line, or NULL (a final reply
 * that came instead goes to *final when given). */
json_t *it_conn_progress_until(struct it_conn *c, const char *status, int timeout_ms, json_t **final);
void it_conn_close(struct it_conn *c);

/* Send `lines` on one connection as uid/gid 65534 (nobody) from a child process; the replies
 * as strings in *replies (n of them, NULL where none came; free each and the array).  The
 * child's exit status (10 setresuid failed, 11 connect, 12 send). */
int it_requests_as_nobody(const char *const *lines, size_t n, char ***replies);
/* One request on a new connection: the whole reply line, NULL if none came in timeout_ms. */
json_t *it_call(const char *cmd, json_t *args, int timeout_ms);
/* The "result" of an ok reply (new reference), NULL otherwise. */
json_t *it_call_result(const char *cmd, json_t *args);
json_t *it_status(void);                          /* the status result, or NULL */
/* A switchover from start to final reply (progress lines into *progress when not NULL). */
json_t *it_switchover(json_t *args, int timeout_ms, json_t *progress);

/* The progress messages of a switchover, one per line (new string): to look for what it said. */
char *it_progress_messages(json_t *progress);
/* Navigate JSON by a dotted path ("clusters.0.servers.1.replication.sql_running"): array
 * indexes are numbers.  Borrowed, NULL if absent. */
json_t *it_get(json_t *root, const char *path);
const char *it_get_str(json_t *root, const char *path);   /* NULL if absent or not a string */
json_t *it_server(json_t *status, const char *name);      /* borrowed, from clusters[0] */
json_t *it_router(json_t *status, const char *name);      /* borrowed */
/* The newest alarm of status `st` with this name, subject (NULL: any) and state (NULL: any);
 * borrowed, NULL if none. */
json_t *it_alarm_in(json_t *st, const char *name, const char *subject, const char *state);
/* An active alarm of that name about subject (NULL: any) in a fresh status. */
bool it_alarm_active(const char *name, const char *subject);
/* HAProxy's single writer is `name`. */
bool it_writer_is(const char *name);
/* "ok":false replies: the error code, or NULL. */
const char *it_err_code(json_t *reply);
/* A switchover's report, from "result" or "error.report"; borrowed. */
json_t *it_report(json_t *reply);
/* Compact JSON for messages (one of 8 rotating static buffers, truncated). */
const char *it_json_str(json_t *j);

/* ---- SQL on the sandbox's servers (as the cutoverd account, over the server's socket) ---- */
struct it_rows {
	unsigned nrows, ncols;
	char **names;               /* ncols */
	char **cells;               /* nrows * ncols, NULL for SQL NULL */
};
struct it_rows *it_query(int server, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *it_rows_get(const struct it_rows *r, unsigned row, const char *col);
/* A stored result (a server's, or ProxySQL admin's) in this form, for it_rows_get/it_rows_free. */
struct it_rows *it_rows_from(MYSQL_RES *res);
void it_rows_free(struct it_rows *r);
/* First cell of the first row, new string; NULL on an error or no row. */
char *it_sql1(int server, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long it_sql_ll(int server, long long dflt, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int it_sql_exec(int server, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *it_sql_error(void);   /* the last SQL error */
/* Replication as SHOW SLAVE STATUS says: 0 with the fields filled, -1 if not a replica. */
struct it_repl {
	int master_port;
	char io[16], sql[16];
};
int it_repl(int server, struct it_repl *r);
/* @@read_only of a server: 0, 1, or -1 if it cannot be read. */
int it_read_only(int server);
/* How many servers answer read_only = 0. */
int it_writable_count(void);
/* "db1".."db3" for 1..IT_SERVERS, "?" otherwise. */
const char *it_name_of(int server);
/* The server replicates from `source` with both threads running. */
bool it_follows(int server, int source);
/* cutoverd's status shows the server as a replica with a heartbeat lag (after a switchover it is
 * unknown until the new primary's first heartbeat arrives, and preflight refuses an unknown
 * lag; a primary's lag of 0 does not count). */
bool it_lag_known(const char *name);
/* A write through HAProxy's write port as the application account: the server_id it landed
 * on, or 0 (message in err). */
unsigned it_probe_write(char *err, size_t errlen);

/* ---- HAProxy runtime API ---- */
char *it_haproxy(const char *cmd);                /* the answer, new string; NULL on failure */
/* The status column of mysql_write/<server> ("UP", "MAINT", "DRAIN", "DOWN"…), new string. */
char *it_haproxy_state(const char *server);
/* The one server of mysql_write in admin state ready, new string; NULL if none or several. */
char *it_haproxy_writer(void);

/* GET http://127.0.0.1:PORT/path (HTTP/1.0: the server closes after the reply): the body
 * (new string, "" on failure), the status in *code (0 when nothing answered). */
char *it_http_get(int port, const char *path, int *code);

/* ---- write load (build/cutover-load) ---- */
struct it_load {
	pid_t pid;
	long long start_id;
	char until[320], acks[320], out[320], err[320];
	char schema[72];        /* --schema (it_load_start_schema), "" for none */
};
struct it_ack {
	long long id;
	int64_t send_us, done_us;
	bool ok;
	unsigned sid;
};
int it_load_start(struct it_load *l, const char *tag, int interval_us);
/* The same as the application account, as another kind of client: "persistent",
 * "per-request", "transaction" or "read" (cutover-load --mode). */
int it_load_start_mode(struct it_load *l, const char *tag, int interval_us, const char *mode);
/* The same through another port (ProxySQL's client port, say) as the application account, as
 * a kind of client (mode as above); `pinned` adds --pinned: the session sets a user variable,
 * which makes ProxySQL pin it to one backend connection. */
int it_load_start_at(struct it_load *l, const char *tag, int interval_us, int port, const char *mode, bool pinned);
/* The same through `port` as the application account with `schema` as its default schema,
 * writing schema.writes (a tenant's client: cutover-load --schema); it_load_verify reads it. */
int it_load_start_schema(struct it_load *l, const char *tag, int interval_us, int port, const char *mode,
			 const char *schema);
/* The same as another account (its password in password_file). */
int it_load_start_as(struct it_load *l, const char *tag, int interval_us, const char *user, const char *password_file);
/* Stop it and return its summary (new reference, NULL if it printed none). */
json_t *it_load_stop(struct it_load *l);
/* cutover-load --verify against server's port; its JSON (new reference) and exit status. */
json_t *it_load_verify(const struct it_load *l, int server, int *status);
/* The same for a server of another sandbox: its port and its app password file. */
int it_load_start_pw(struct it_load *l, const char *tag, int interval_us, int port, const char *password_file);
json_t *it_load_verify_pw(const struct it_load *l, int server_port, const char *password_file, int *status);
/* Rows of this load on `server`, written while connected to server_id sid (0 = any). */
long long it_load_rows(const struct it_load *l, int server, unsigned sid);
/* The acks file: count in *n, array to free. */
struct it_ack *it_acks_read(const char *path, size_t *n);

/* ---- programs and files ---- */
/* Run one SQL statement as the application account through HAProxy's write port, in the
 * background (the mariadb client; its output in `out`): the pid, or -1.  it_bg_wait waits for it
 * up to timeout_ms: its exit status, or -1 (then it is killed). */
pid_t it_bg_sql(const char *sql, const char *out);
/* Start argv (argv[0] a path) in the background, stdin /dev/null, stdout and stderr to the file
 * out, killed if the tests die: its pid, or -1. */
pid_t it_spawn(const char *const *argv, const char *out);
int it_bg_wait(pid_t pid, int timeout_ms);
int it_write_file(const char *path, const char *text, mode_t mode);   /* 0 / -1 */
/* A whole file as a new string ("" when empty), NULL when it cannot be read. */
char *it_read_text(const char *path);
/* Run argv (argv[0] a path), stdout (and stderr when merge) captured into *out (new string);
 * the exit status, or -1.  Killed after timeout_ms. */
int it_run(const char *const *argv, bool merge, char **out, int timeout_ms);

/* ---- another machine: an sshd of the tests' own on loopback (it_sshd.c) ---- */
bool it_sshd_available(void);
/* Start it on 127.0.0.1:port, root let in with a key made here; ssh_cmd gets the client command
 * that uses it ("/usr/bin/ssh -F DIR/ssh_config", for $CUTOVER_SSH).  Returns once a login
 * works. */
pid_t it_sshd_start(int port, char *ssh_cmd, size_t len);
void it_sshd_stop(pid_t *pid);

#endif
