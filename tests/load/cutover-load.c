/* cutover-load: the application side of a switchover test.  One connection through the router,
 * one INSERT every interval, one line per attempt in an acks file; afterwards --verify compares
 * the acknowledged writes with what a server holds, which is how the tests count lost writes.
 * --mode picks the kind of client: persistent (one connection kept), per-request (a new
 * connection for every write, like PHP without a pool), transaction (START TRANSACTION, INSERT,
 * UPDATE, COMMIT), read (a SELECT each time; nothing to verify) or multiplexed (persistent, but
 * no statement names a variable: ProxySQL stops multiplexing a session for good at its first
 * statement with an '@' in it, so the others are pinned there without --pinned).
 *
 * Blocking Connector/C calls are fine here: this is a test program with one connection, and the
 * time a call blocks is exactly what it measures.  See tests/load/README. */
#include <errmsg.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <mysql.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_LISTED 20           /* ids listed in the verify report */
/* @@server_id without an '@' (see the top of the file) */
#define SERVER_ID_NO_VAR "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'SERVER_ID'"
#define MAX_LINE 4096

struct opts {
	const char *host;
	int port;
	const char *user;
	char *password;         /* owned, secret */
	long long interval_us;
	long long duration_ms;  /* 0 = until a signal or --until-file */
	const char *until_file;
	const char *out;
	long long start_id;
	bool pinned;
	enum { MODE_PERSISTENT, MODE_PER_REQUEST, MODE_TRANSACTION, MODE_READ, MODE_MULTIPLEXED } mode;
	unsigned timeout_s;
	bool verify;
	const char *acks;
	const char *schema;     /* --schema: the default schema (its table `writes`); NULL: app.writes, none */
};

/* The table written: app.writes, or SCHEMA.writes with --schema. */
static char table[80] = "app.writes";

/* What the summary needs, accumulated attempt by attempt. */
struct tally {
	long long attempts, ok, errors;
	long long first_id, last_id;
	int64_t last_ack_us;       /* done_us of the previous acknowledged write, 0 = none yet */
	int64_t longest_gap_us;
	unsigned first_sid;        /* server of the first acknowledged write, 0 = none yet */
	unsigned last_sid;         /* server of the previous acknowledged write */
	int64_t last_on_first_us;  /* last ack from first_sid before it changed */
	unsigned new_sid;          /* first server after first_sid, 0 = never changed */
	int64_t window_us;
	long long switches;
};

/* The connection and the server it landed on. */
struct session {
	MYSQL *db;                 /* owned, NULL when disconnected */
	unsigned server_id;
};

/* One attempt as it goes into the acks file. */
struct attempt {
	long long seq;
	int64_t send_us, done_us;
	bool ok;
	unsigned err;
	unsigned server_id;
	char message[512];
};

/* The acks file as --verify reads it: one byte per id between first and last. */
enum ack_state { ACK_NONE, ACK_OK, ACK_ERR };

struct acks {
	long long first, last;
	unsigned char *state;      /* owned: enum ack_state per id - first */
	bool *present;             /* owned: row found on the server */
};

static void usage(void) __attribute__((noreturn));
static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void parse_args(int argc, char **argv, struct opts *o);
static char *read_password(const char *path);
static void on_signal(int sig);
static MYSQL *db_connect(const struct opts *o, char *err, size_t errlen, unsigned *errnum);
static bool session_open(struct session *s, const struct opts *o, struct attempt *a);
static void session_close(struct session *s);
static void attempt_error(struct attempt *a, unsigned err, const char *msg);
static void run_attempt(struct session *s, const struct opts *o, struct attempt *a);
static void write_attempt(FILE *f, const struct attempt *a);
static void tally_add(struct tally *t, const struct attempt *a);
static bool should_stop(const struct opts *o, int64_t end_us);
static void sleep_until_us(int64_t mono_us);
static int run_load(const struct opts *o);
static json_t *json_id_or_null(long long v, bool known);
static void print_summary(const struct tally *t);
static bool parse_ack_line(const char *line, long long *seq, bool *ok);
static void acks_read(struct acks *k, const char *path);
static void acks_free(struct acks *k);
static void acks_fetch_present(struct acks *k, const struct opts *o);
static int run_verify(const struct opts *o);

static volatile sig_atomic_t stop_requested;

static void usage(void)
{
	fputs("usage: cutover-load --host H --port P --user U --password-file F\n"
	    "                    [--interval-us 1000] (--duration-ms N | --until-file PATH)\n"
	    "                    --out acks.tsv [--start-id N] [--pinned] [--timeout-s 2]\n"
	    "                    [--mode persistent|per-request|transaction|read|multiplexed] [--schema S]\n"
	    "       cutover-load --verify --acks acks.tsv --host H --port P --user U"
	    " --password-file F [--schema S]\n", stderr);
	exit(2);
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	fputs("cutover-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static char *read_password(const char *path)
{
	char *text = read_small_file(path, 4096);
	if (!text)
		fail("--password-file %s: %s", path, strerror(errno));
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_HOST = 256, O_PORT, O_USER, O_PWFILE, O_INTERVAL, O_DURATION, O_UNTIL, O_OUT,
		O_START, O_PINNED, O_TIMEOUT, O_VERIFY, O_ACKS, O_MODE, O_SCHEMA };
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "user", required_argument, NULL, O_USER },
		{ "password-file", required_argument, NULL, O_PWFILE },
		{ "interval-us", required_argument, NULL, O_INTERVAL },
		{ "duration-ms", required_argument, NULL, O_DURATION },
		{ "until-file", required_argument, NULL, O_UNTIL },
		{ "out", required_argument, NULL, O_OUT },
		{ "start-id", required_argument, NULL, O_START },
		{ "pinned", no_argument, NULL, O_PINNED },
		{ "mode", required_argument, NULL, O_MODE },
		{ "timeout-s", required_argument, NULL, O_TIMEOUT },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "acks", required_argument, NULL, O_ACKS },
		{ "schema", required_argument, NULL, O_SCHEMA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *pwfile = NULL;
	long long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->interval_us = 1000;
	o->timeout_s = 2;
	o->start_id = -1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_HOST: o->host = optarg; break;
		case O_SCHEMA:
			if (!*optarg || strlen(optarg) > 64 || strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(optarg))
				fail("--schema %s: a plain name (letters, digits, _)", optarg);
			o->schema = optarg;
			snprintf(table, sizeof(table), "%s.writes", optarg);
			break;
		case O_PORT:
			if (!parse_ll(optarg, 1, 65535, &v))
				fail("--port %s: not a port number (1..65535)", optarg);
			o->port = (int)v;
			break;
		case O_USER: o->user = optarg; break;
		case O_PWFILE: pwfile = optarg; break;
		case O_INTERVAL:
			if (!parse_ll(optarg, 1, 60000000, &o->interval_us))
				fail("--interval-us %s: not a number of microseconds (1..60000000)", optarg);
			break;
		case O_DURATION:
			if (!parse_ll(optarg, 1, 86400000, &o->duration_ms))
				fail("--duration-ms %s: not a number of milliseconds (1..86400000)", optarg);
			break;
		case O_UNTIL: o->until_file = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_START:
			if (!parse_ll(optarg, 1, INT64_MAX / 2, &o->start_id))
				fail("--start-id %s: not a positive integer", optarg);
			break;
		case O_PINNED: o->pinned = true; break;
		case O_MODE:
			if (!strcmp(optarg, "persistent"))
				o->mode = MODE_PERSISTENT;
			else if (!strcmp(optarg, "per-request"))
				o->mode = MODE_PER_REQUEST;
			else if (!strcmp(optarg, "transaction"))
				o->mode = MODE_TRANSACTION;
			else if (!strcmp(optarg, "read"))
				o->mode = MODE_READ;
			else if (!strcmp(optarg, "multiplexed"))
				o->mode = MODE_MULTIPLEXED;
			else
				fail("--mode %s: one of persistent, per-request, transaction, read, multiplexed", optarg);
			break;
		case O_TIMEOUT:
			if (!parse_ll(optarg, 1, 3600, &v))
				fail("--timeout-s %s: not a number of seconds (1..3600)", optarg);
			o->timeout_s = (unsigned)v;
			break;
		case O_VERIFY: o->verify = true; break;
		case O_ACKS: o->acks = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !o->port || !o->user || !pwfile)
		usage();
	if (o->pinned && o->mode == MODE_MULTIPLEXED)
		fail("--pinned and --mode multiplexed contradict each other");
	if (o->verify) {
		if (!o->acks)
			fail("--verify needs --acks FILE");
	} else {
		if (!o->out)
			fail("--out FILE is required");
		if (!o->duration_ms && !o->until_file)
			fail("give --duration-ms N or --until-file PATH (the run stops when PATH is removed)");
		if (o->until_file && access(o->until_file, F_OK) != 0)
			fail("--until-file %s: %s (create it first; the run stops when it is removed)",
			    o->until_file, strerror(errno));
	}
	o->password = read_password(pwfile);
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

/* A new connection with the timeouts that bound every call; NULL with the error filled in. */
static MYSQL *db_connect(const struct opts *o, char *err, size_t errlen, unsigned *errnum)
{
	MYSQL *db = mysql_init(NULL);
	unsigned t = o->timeout_s;

	if (!db) {
		snprintf(err, errlen, "mysql_init: out of memory");
		*errnum = CR_OUT_OF_MEMORY;
		return NULL;
	}
	mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &t);
	if (!mysql_real_connect(db, o->host, o->user, o->password, o->schema, (unsigned)o->port, NULL, 0)) {
		snprintf(err, errlen, "%s", mysql_error(db));
		*errnum = mysql_errno(db);
		mysql_close(db);
		return NULL;
	}
	return db;
}

/* Connect, learn which server the router sent us to, pin if asked.  On failure the attempt
 * carries the error. */
static bool session_open(struct session *s, const struct opts *o, struct attempt *a)
{
	static const char *pin = "SET @pin = 1";
	char err[512];
	unsigned errnum = 0;
	MYSQL_RES *res;
	MYSQL_ROW row;

	s->db = db_connect(o, err, sizeof(err), &errnum);
	if (!s->db) {
		attempt_error(a, errnum, err);
		return false;
	}
	mysql_autocommit(s->db, 1);
	if ((o->pinned && mysql_real_query(s->db, pin, strlen(pin)) != 0) ||
	    mysql_real_query(s->db, o->mode == MODE_MULTIPLEXED ? SERVER_ID_NO_VAR : "SELECT @@server_id",
			     o->mode == MODE_MULTIPLEXED ? strlen(SERVER_ID_NO_VAR) : 18) != 0 ||
	    !(res = mysql_store_result(s->db))) {
		attempt_error(a, mysql_errno(s->db), mysql_error(s->db));
		session_close(s);
		return false;
	}
	row = mysql_fetch_row(res);
	s->server_id = row && row[0] ? (unsigned)strtoul(row[0], NULL, 10) : 0;
	mysql_free_result(res);
	return true;
}

static void session_close(struct session *s)
{
	if (s->db)
		mysql_close(s->db);
	s->db = NULL;
	s->server_id = 0;
}

/* Record an error; tabs and newlines would break the acks file's columns. */
static void attempt_error(struct attempt *a, unsigned err, const char *msg)
{
	char *p;

	a->ok = false;
	a->err = err;
	snprintf(a->message, sizeof(a->message), "%s", msg && *msg ? msg : "unknown error");
	for (p = a->message; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
}

/* A multiplexed client's write: each statement may reach another server, so the row records the
 * server that took the INSERT, and the ack reads it back from the row. */
static bool attempt_multiplexed(struct session *s, struct attempt *a)
{
	char sql[320];
	int n;
	MYSQL_RES *res;
	MYSQL_ROW row;

	n = snprintf(sql, sizeof(sql), "INSERT INTO %s (id, client_ts, server_id) SELECT %lld, %" PRId64
	    ", VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'SERVER_ID'",
	    table, a->seq, now_real_us());
	if (mysql_real_query(s->db, sql, (unsigned long)n) != 0)
		return false;
	n = snprintf(sql, sizeof(sql), "SELECT server_id FROM %s WHERE id = %lld", table, a->seq);
	if (mysql_real_query(s->db, sql, (unsigned long)n) != 0 || !(res = mysql_store_result(s->db))) {
		/* acknowledged all the same: which server took it stays the session's guess */
		return true;
	}
	row = mysql_fetch_row(res);
	a->server_id = row && row[0] ? (unsigned)strtoul(row[0], NULL, 10) : 0;
	mysql_free_result(res);
	return true;
}

/* The statements of one attempt in each mode: an autocommit INSERT (persistent and per-request
 * clients), an INSERT inside an explicit transaction with a second statement, or a read. */
static bool attempt_sql(struct session *s, const struct opts *o, struct attempt *a)
{
	char sql[320];
	int n;

	if (o->mode == MODE_READ) {
		MYSQL_RES *res;
		n = snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE id = %lld", table, a->seq);
		if (mysql_real_query(s->db, sql, (unsigned long)n) != 0 || !(res = mysql_store_result(s->db)))
			return false;
		mysql_free_result(res);
		return true;
	}
	if (o->mode == MODE_MULTIPLEXED)
		return attempt_multiplexed(s, a);
	n = snprintf(sql, sizeof(sql), "INSERT INTO %s (id, client_ts, server_id) "
	    "VALUES (%lld, %" PRId64 ", @@server_id)", table, a->seq, now_real_us());
	if (o->mode != MODE_TRANSACTION)
		return mysql_real_query(s->db, sql, (unsigned long)n) == 0;
	if (mysql_real_query(s->db, "START TRANSACTION", 17) != 0 || mysql_real_query(s->db, sql, (unsigned long)n) != 0)
		return false;
	n = snprintf(sql, sizeof(sql), "UPDATE %s SET client_ts = client_ts WHERE id = %lld", table, a->seq);
	return mysql_real_query(s->db, sql, (unsigned long)n) == 0 && mysql_real_query(s->db, "COMMIT", 6) == 0;
}

/* One write (or read).  Any error drops the connection: the next attempt reconnects through the
 * router, which is how an application moves to the new primary; a per-request client opens a
 * new connection for every attempt. */
static void run_attempt(struct session *s, const struct opts *o, struct attempt *a)
{
	a->send_us = now_real_us();
	a->ok = false;
	a->err = 0;
	a->message[0] = '\0';
	if (!s->db && !session_open(s, o, a)) {
		a->server_id = 0;
		a->done_us = now_real_us();
		return;
	}
	a->server_id = s->server_id;
	if (attempt_sql(s, o, a)) {
		a->ok = true;
		if (o->mode == MODE_PER_REQUEST)
			session_close(s);
	} else {
		attempt_error(a, mysql_errno(s->db), mysql_error(s->db));
		session_close(s);
	}
	a->done_us = now_real_us();
}

static void write_attempt(FILE *f, const struct attempt *a)
{
	fprintf(f, "%lld\t%" PRId64 "\t%" PRId64 "\t%s\t%u\t%u\t%s\n", a->seq, a->send_us,
	    a->done_us, a->ok ? "ok" : "err", a->err, a->server_id, a->message);
}

static void tally_add(struct tally *t, const struct attempt *a)
{
	if (!t->attempts)
		t->first_id = a->seq;
	t->last_id = a->seq;
	t->attempts++;
	if (!a->ok) {
		t->errors++;
		return;
	}
	t->ok++;
	if (t->last_ack_us && a->done_us - t->last_ack_us > t->longest_gap_us)
		t->longest_gap_us = a->done_us - t->last_ack_us;
	if (!t->first_sid)
		t->first_sid = a->server_id;
	if (t->last_sid && a->server_id != t->last_sid) {
		t->switches++;
		if (!t->new_sid) {
			t->new_sid = a->server_id;
			t->window_us = a->done_us - t->last_on_first_us;
			fprintf(stderr, "cutover-load: writes moved from server_id %u to %u "
			    "(window %.1f ms)\n", t->first_sid, t->new_sid, t->window_us / 1000.0);
		}
	}
	if (!t->new_sid && a->server_id == t->first_sid)
		t->last_on_first_us = a->done_us;
	t->last_sid = a->server_id;
	t->last_ack_us = a->done_us;
}

static bool should_stop(const struct opts *o, int64_t end_us)
{
	if (stop_requested)
		return true;
	if (end_us && now_mono_us() >= end_us)
		return true;
	return o->until_file && access(o->until_file, F_OK) != 0 && errno == ENOENT;
}

static void sleep_until_us(int64_t mono_us)
{
	struct timespec ts = { .tv_sec = mono_us / 1000000, .tv_nsec = (mono_us % 1000000) * 1000 };
	while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int run_load(const struct opts *o)
{
	struct session s = { NULL, 0 };
	struct tally t;
	struct attempt a;
	FILE *f;
	int64_t end_us = 0, next_us, last_flush_us;
	long long seq;

	f = fopen(o->out, "w");
	if (!f)
		fail("--out %s: %s", o->out, strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	/* Wall-clock microseconds: a later run starts above every id an earlier one can have
	 * used, since no run writes more than once per microsecond. */
	seq = o->start_id > 0 ? o->start_id : now_real_us();
	next_us = last_flush_us = now_mono_us();
	if (o->duration_ms)
		end_us = next_us + o->duration_ms * 1000;

	while (!should_stop(o, end_us)) {
		a.seq = seq++;
		run_attempt(&s, o, &a);
		write_attempt(f, &a);
		tally_add(&t, &a);
		/* Keep the schedule, but after a slow attempt start the next at once instead of
		 * bursting to catch up. */
		next_us += o->interval_us;
		if (next_us < now_mono_us())
			next_us = now_mono_us();
		if (now_mono_us() - last_flush_us >= 1000000) {
			fflush(f);
			last_flush_us = now_mono_us();
		}
		sleep_until_us(next_us);
	}
	session_close(&s);
	if (fclose(f) != 0)
		fail("--out %s: %s", o->out, strerror(errno));
	print_summary(&t);
	return 0;
}

static json_t *json_id_or_null(long long v, bool known)
{
	return known ? json_integer(v) : json_null();
}

static void print_summary(const struct tally *t)
{
	json_t *j = json_object();
	char *s;

	json_object_set_new(j, "attempts", json_integer(t->attempts));
	json_object_set_new(j, "ok", json_integer(t->ok));
	json_object_set_new(j, "errors", json_integer(t->errors));
	json_object_set_new(j, "first_id", json_id_or_null(t->first_id, t->attempts > 0));
	json_object_set_new(j, "last_id", json_id_or_null(t->last_id, t->attempts > 0));
	json_object_set_new(j, "longest_gap_ms",
	    t->ok >= 2 ? json_real(t->longest_gap_us / 1000.0) : json_null());
	json_object_set_new(j, "window_ms",
	    t->new_sid ? json_real(t->window_us / 1000.0) : json_null());
	json_object_set_new(j, "old_server_id", json_id_or_null(t->first_sid, t->first_sid != 0));
	json_object_set_new(j, "new_server_id", json_id_or_null(t->new_sid, t->new_sid != 0));
	json_object_set_new(j, "switches", json_integer(t->switches));
	s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	puts(s);
	free(s);
	json_decref(j);
}

/* "seq TAB send_us TAB done_us TAB ok|err TAB ...": the seq and whether it was acknowledged. */
static bool parse_ack_line(const char *line, long long *seq, bool *ok)
{
	const char *p = line;
	char *end;
	int field;

	errno = 0;
	*seq = strtoll(p, &end, 10);
	if (errno || end == p || *end != '\t')
		return false;
	for (field = 0; field < 3; field++) {
		p = strchr(p, '\t');
		if (!p)
			return false;
		p++;
	}
	if (!strncmp(p, "ok\t", 3))
		*ok = true;
	else if (!strncmp(p, "err\t", 4))
		*ok = false;
	else
		return false;
	return true;
}

/* Read the acks file into one state byte per id between the lowest and the highest seq. */
static void acks_read(struct acks *k, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[MAX_LINE];
	long long seq, n = 0, lineno = 0;
	size_t size;
	bool ok;

	if (!f)
		fail("--acks %s: %s", path, strerror(errno));
	k->first = INT64_MAX;
	k->last = INT64_MIN;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!parse_ack_line(line, &seq, &ok))
			fail("%s:%lld: not an acks line (seq, send_us, done_us, ok|err, ...)", path,
			    lineno);
		k->first = seq < k->first ? seq : k->first;
		k->last = seq > k->last ? seq : k->last;
		n++;
	}
	if (!n) {
		fclose(f);
		k->first = k->last = 0;
		return;
	}
	if (k->last - k->first > 100000000)
		fail("%s: ids span %lld..%lld, too wide for one run", path, k->first, k->last);
	size = (size_t)(k->last - k->first + 1);
	k->state = xcalloc(size, 1);
	k->present = xcalloc(size, sizeof(bool));
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (parse_ack_line(line, &seq, &ok))
			k->state[seq - k->first] = ok ? ACK_OK : ACK_ERR;
	}
	fclose(f);
}

static void acks_free(struct acks *k)
{
	free(k->state);
	free(k->present);
	k->state = NULL;
	k->present = NULL;
}

/* Mark the ids the server holds. */
static void acks_fetch_present(struct acks *k, const struct opts *o)
{
	char err[512], sql[160];
	unsigned errnum;
	MYSQL *db;
	MYSQL_RES *res;
	MYSQL_ROW row;
	long long id;
	int n;

	db = db_connect(o, err, sizeof(err), &errnum);
	if (!db)
		fail("cannot connect to %s:%d as %s: %s", o->host, o->port, o->user, err);
	n = snprintf(sql, sizeof(sql), "SELECT id, server_id FROM %s WHERE id BETWEEN "
	    "%lld AND %lld", table, k->first, k->last);
	if (mysql_real_query(db, sql, (unsigned long)n) != 0 || !(res = mysql_use_result(db)))
		fail("%s:%d: %s: %s", o->host, o->port, sql, mysql_error(db));
	while ((row = mysql_fetch_row(res))) {
		if (row[0] && parse_ll(row[0], k->first, k->last, &id))
			k->present[id - k->first] = true;
	}
	if (mysql_errno(db))
		fail("%s:%d: reading rows: %s", o->host, o->port, mysql_error(db));
	mysql_free_result(res);
	mysql_close(db);
}

static int run_verify(const struct opts *o)
{
	struct acks k = { 0, 0, NULL, NULL };
	json_t *j, *missing_ids, *unacked_ids;
	long long i, acked = 0, missing = 0, unacked = 0;
	char *s;

	acks_read(&k, o->acks);
	missing_ids = json_array();
	unacked_ids = json_array();
	if (k.state) {
		acks_fetch_present(&k, o);
		for (i = 0; i <= k.last - k.first; i++) {
			if (k.state[i] == ACK_OK) {
				acked++;
				if (!k.present[i] && missing++ < MAX_LISTED)
					json_array_append_new(missing_ids, json_integer(k.first + i));
			} else if (k.state[i] == ACK_ERR && k.present[i]) {
				if (unacked++ < MAX_LISTED)
					json_array_append_new(unacked_ids, json_integer(k.first + i));
			}
		}
	}
	j = json_object();
	json_object_set_new(j, "acked", json_integer(acked));
	json_object_set_new(j, "acked_missing", json_integer(missing));
	json_object_set_new(j, "missing_ids", missing_ids);
	json_object_set_new(j, "errored_but_committed", json_integer(unacked));
	json_object_set_new(j, "committed_unacked_ids", unacked_ids);
	s = json_dumps(j, JSON_COMPACT);
	puts(s);
	free(s);
	json_decref(j);
	acks_free(&k);
	return missing == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct opts o;
	int rc;

	parse_args(argc, argv, &o);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mysql_library_init(0, NULL, NULL) != 0)
		fail("mysql_library_init failed");
	rc = o.verify ? run_verify(&o) : run_load(&o);
	free_secret(o.password);
	mysql_library_end();
	return rc;
}
