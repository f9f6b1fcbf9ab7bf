/* Asynchronous MySQL/MariaDB connections on the libevent loop.  See db.h.
 *
 * Connector/C's non-blocking API returns, from every _start and _cont call, the set of events it
 * waits for (MYSQL_WAIT_READ/WRITE/EXCEPT/TIMEOUT).  We translate that into one libevent event
 * on the connection's socket, call *_cont when it fires, and keep a separate deadline timer for
 * the whole batch: the library's own timeouts are per packet, a hung server needs ours. */
#include "db.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <mysql.h>
#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

enum db_op { OP_IDLE, OP_RESOLVE, OP_CONNECT, OP_SEND, OP_GATHER, OP_READ, OP_STORE, OP_NEXT };

struct db {
	struct event_base *base;
	const char *label;            /* borrowed */
	/* target, owned copies */
	char *host, *socket, *user, *password, *database, *tls_ca, *tls_cert, *tls_key, *server_public_key;
	int port;
	enum tls_mode tls_mode;
	int connect_timeout_ms;

	MYSQL *my;                    /* owned; NULL when not connected */
	struct evdns_getaddrinfo_request *dns;   /* a name being resolved, NULL otherwise */
	bool connected;
	bool multi;                   /* db_set_multi: a batch goes to the server as one query */
	bool acts;                    /* db_set_acts: runs only while the acting check says so */
	int gather_ms;                /* db_set_gather: the wait between sending and reading */
	enum db_op op;
	struct event *io;             /* on the connection's socket */
	struct event *deadline;
	int64_t started_us;

	/* the running batch */
	char **sql;                   /* owned */
	size_t n_sql, cur;
	struct db_result *res;        /* owned until delivered */
	db_done_fn fn;
	void *arg;
	int timeout_ms;
	/* results of the async calls */
	MYSQL *ret_connect;
	int ret_send;
	my_bool ret_read;
	MYSQL_RES *ret_store;
	int ret_next;
};

static void db_step(struct db *db, int status);
static void db_io_cb(evutil_socket_t fd, short what, void *arg);
static void db_deadline_cb(evutil_socket_t fd, short what, void *arg);
static void db_start_statement(struct db *db);
static void db_finish(struct db *db, int err, const char *msg);
static void db_teardown(struct db *db);
static void db_connect_to(struct db *db, const char *host);
static void db_resolved(int err, struct evutil_addrinfo *ai, void *arg);
static struct evdns_base *dns_base(struct event_base *base);
static bool is_numeric(const char *host);

const char *db_label(const struct db *db)
{
	return db->label;
}

struct db *db_new(struct event_base *base, const char *label)
{
	struct db *db = xcalloc(1, sizeof(*db));
	db->base = base;
	db->label = label;
	db->deadline = evtimer_new(base, db_deadline_cb, db);
	db->connect_timeout_ms = 1000;
	return db;
}

static void target_free(struct db *db)
{
	free(db->host);
	free(db->socket);
	free(db->user);
	free_secret(db->password);
	free(db->database);
	free(db->tls_ca);
	free(db->tls_cert);
	free(db->tls_key);
	free(db->server_public_key);
	db->host = db->socket = db->user = db->password = db->database = NULL;
	db->tls_ca = db->tls_cert = db->tls_key = db->server_public_key = NULL;
}

void db_set_target(struct db *db, const struct db_target *t, int connect_timeout_ms)
{
	target_free(db);
	db->host = xstrdup(t->host);
	db->port = t->port;
	db->socket = xstrdup(t->socket);
	db->user = xstrdup(t->user);
	db->password = xstrdup(t->password);
	db->database = xstrdup(t->database);
	db->tls_mode = t->tls_mode;
	db->tls_ca = xstrdup(t->tls_ca);
	db->tls_cert = xstrdup(t->tls_cert);
	db->tls_key = xstrdup(t->tls_key);
	db->server_public_key = xstrdup(t->server_public_key);
	db->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 1000;
	if (!db_busy(db))
		db_close(db);
}

static bool (*acting_fn)(void *);
static void *acting_arg;

void db_set_acting_check(bool (*fn)(void *), void *arg)
{
	acting_fn = fn;
	acting_arg = arg;
}

void db_set_acts(struct db *db)
{
	if (db)
		db->acts = true;
}

void db_set_multi(struct db *db)
{
	db->multi = true;   /* the connection's flag: from its next connect */
}

void db_set_gather(struct db *db, int ms)
{
	db->gather_ms = ms > 0 ? ms : 0;
}

bool db_busy(const struct db *db)
{
	return db->fn != NULL;
}

bool db_connected(const struct db *db)
{
	return db->connected;
}

unsigned long db_thread_id(const struct db *db)
{
	return db->connected ? mysql_thread_id(db->my) : 0;
}

/* Close the connection without waiting for anything: shut the socket first so that the
 * COM_QUIT mysql_close() sends cannot block on a peer that stopped reading. */
static void db_teardown(struct db *db)
{
	if (db->dns) {
		struct evdns_getaddrinfo_request *r = db->dns;
		db->dns = NULL;
		evdns_getaddrinfo_cancel(r);
	}
	if (db->io) {
		event_free(db->io);
		db->io = NULL;
	}
	if (db->my) {
		int fd = (int)mysql_get_socket(db->my);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		/* Connector/C 3.3 keeps its copy of the key path past mysql_close(): setting the option
		 * again frees it (found by LeakSanitizer, one copy per connection) */
		if (db->server_public_key)
			mysql_options(db->my, MYSQL_SERVER_PUBLIC_KEY, NULL);
		mysql_close(db->my);
		db->my = NULL;
	}
	if (db->ret_store) {
		mysql_free_result(db->ret_store);
		db->ret_store = NULL;
	}
	db->connected = false;
	db->op = OP_IDLE;
}

static void batch_free(struct db *db)
{
	size_t i;
	for (i = 0; i < db->n_sql; i++)
		free(db->sql[i]);
	free(db->sql);
	db->sql = NULL;
	db->n_sql = db->cur = 0;
	db_result_free(db->res);
	db->res = NULL;
	db->fn = NULL;
	db->arg = NULL;
	evtimer_del(db->deadline);
}

void db_cancel(struct db *db)
{
	db_teardown(db);
	batch_free(db);
}

void db_close(struct db *db)
{
	db_cancel(db);
}

void db_free(struct db *db)
{
	if (!db)
		return;
	db_cancel(db);
	event_free(db->deadline);
	target_free(db);
	free(db);
}

void db_result_free(struct db_result *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		rowset_free(r->rs[i]);
	free(r->rs);
	free(r);
}

int db_run1(struct db *db, const char *sql, int timeout_ms, db_done_fn fn, void *arg)
{
	return db_run(db, &sql, 1, timeout_ms, fn, arg);
}

int db_run(struct db *db, const char *const *sql, size_t n, int timeout_ms, db_done_fn fn, void *arg)
{
	struct timeval tv;
	size_t i;

	if (db_busy(db))
		return -1;
	if (db->acts && acting_fn && !acting_fn(acting_arg))
		return -1;
	db->sql = xcalloc(n, sizeof(char *));
	if (db->multi && n > 1) {
		/* one query, one round trip; its results are read one after the other (OP_NEXT) */
		size_t len = 0;
		for (i = 0; i < n; i++)
			len += strlen(sql[i]) + 2;
		db->sql[0] = xmalloc(len + 1);
		db->sql[0][0] = '\0';
		for (i = 0; i < n; i++) {
			strcat(db->sql[0], sql[i]);
			if (i + 1 < n)
				strcat(db->sql[0], "; ");
		}
		n = 1;
	} else {
		for (i = 0; i < n; i++)
			db->sql[i] = xstrdup(sql[i]);
	}
	db->n_sql = n;
	db->cur = 0;
	db->res = xcalloc(1, sizeof(*db->res));
	db->fn = fn;
	db->arg = arg;
	db->timeout_ms = timeout_ms;
	db->started_us = now_mono_us();
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(db->deadline, &tv);

	if (db->connected) {
		db_start_statement(db);
		return 0;
	}
	db->res->connected_now = true;
	if (db->socket || is_numeric(db->host) || db->tls_mode == TLS_VERIFY_IDENTITY) {
		/* verify_identity checks the certificate against the name, so the library gets the
		 * name and resolves it itself (blocking: see cutoverd.conf(5), tls_mode) */
		db_connect_to(db, db->host);
		return 0;
	}
	{
		struct evutil_addrinfo hints;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
		db->op = OP_RESOLVE;
		/* the callback may run before this returns (cached, /etc/hosts): it sets db->dns */
		db->dns = (struct evdns_getaddrinfo_request *)1;
		db->dns = evdns_getaddrinfo(dns_base(db->base), db->host, NULL, &hints, db_resolved, db);
	}
	return 0;
}

/* Host names are resolved here, asynchronously, and the library gets an address: its own
 * lookup (getaddrinfo) would block the loop for as long as DNS takes. */
static struct evdns_base *dnsb;

static struct evdns_base *dns_base(struct event_base *base)
{
	if (!dnsb)
		dnsb = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (!dnsb)   /* no usable resolv.conf: /etc/hosts and literal addresses still work */
		dnsb = evdns_base_new(base, 0);
	return dnsb;
}

void db_shutdown(void)
{
	if (dnsb)
		evdns_base_free(dnsb, 0);
	dnsb = NULL;
}

static bool is_numeric(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return !host || inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void db_resolved(int err, struct evutil_addrinfo *ai, void *arg)
{
	struct db *db = arg;
	char addr[INET6_ADDRSTRLEN] = "", msg[400];

	if (err == EVUTIL_EAI_CANCEL)   /* db_cancel or the deadline: nothing to do */
		return;
	db->dns = NULL;
	if (err || !ai) {
		snprintf(msg, sizeof(msg), "connect: cannot resolve '%s': %s", db->host, evutil_gai_strerror(err));
		if (ai)
			evutil_freeaddrinfo(ai);
		db_finish(db, DB_ERR_CONNECT, msg);
		return;
	}
	{
		/* IPv4 first when there is one: servers often listen on it alone (bind_address) */
		const struct evutil_addrinfo *p, *pick = ai;
		for (p = ai; p; p = p->ai_next)
			if (p->ai_family == AF_INET) {
				pick = p;
				break;
			}
		if (pick->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, addr, sizeof(addr));
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, addr, sizeof(addr));
	}
	evutil_freeaddrinfo(ai);
	db_connect_to(db, addr);
}

static void db_connect_to(struct db *db, const char *host)
{
	db->my = mysql_init(NULL);
	if (!db->my) {
		db_finish(db, DB_ERR_CONNECT, "mysql_init failed (out of memory?)");
		return;
	}
	{
		unsigned int ct = (unsigned)(db->connect_timeout_ms + 999) / 1000;
		my_bool yes = 1, no = 0;

		/* No library read/write timeouts: they would be fixed by the batch that opened the
		 * connection and cut a later, longer wait (MASTER_GTID_WAIT).  Every batch has its
		 * own deadline instead (db_deadline_cb). */
		mysql_options(db->my, MYSQL_OPT_NONBLOCK, 0);
		mysql_options(db->my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
		mysql_options(db->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
		mysql_options(db->my, MYSQL_OPT_LOCAL_INFILE, &no);
		if (db->tls_mode != TLS_DISABLED) {
			mysql_ssl_set(db->my, db->tls_key, db->tls_cert, db->tls_ca, NULL, NULL);
			if (db->tls_mode >= TLS_REQUIRED)
				mysql_options(db->my, MYSQL_OPT_SSL_ENFORCE, &yes);
			/* Connector/C verifies the chain whenever it has a CA (tls_ca, which verify_ca
			 * requires); VERIFY_SERVER_CERT adds the host name, which is verify_identity */
			if (db->tls_mode >= TLS_VERIFY_IDENTITY)
				mysql_options(db->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
		} else {
			mysql_options(db->my, MYSQL_OPT_SSL_ENFORCE, &no);
		}
		if (db->server_public_key) {
			/* Connector/C falls back to asking the server when it cannot read the file: the
			 * very exchange the key is given to avoid.  Refuse instead. */
			if (access(db->server_public_key, R_OK) != 0) {
				char msg[600];
				snprintf(msg, sizeof(msg), "connect: server_public_key %.300s cannot be read (%s); not asking "
					 "the server for its key instead", db->server_public_key, strerror(errno));
				db_finish(db, DB_ERR_CONNECT, msg);
				return;
			}
			mysql_options(db->my, MYSQL_SERVER_PUBLIC_KEY, db->server_public_key);
		}
	}
	db->op = OP_CONNECT;
	db_step(db, mysql_real_connect_start(&db->ret_connect, db->my, db->socket ? NULL : host,
					     db->user, db->password, db->database,
					     db->socket ? 0 : (unsigned)db->port, db->socket,
					     db->multi ? CLIENT_MULTI_STATEMENTS : 0));
}

/* A statement is sent, then its answer read (mysql_real_query in two halves): between them,
 * a connection with gather_ms waits (OP_GATHER) rather than try a read that would find
 * nothing yet and watch its socket. */
static void db_start_statement(struct db *db)
{
	const char *q = db->sql[db->cur];
	db->op = OP_SEND;
	db_step(db, mysql_send_query_start(&db->ret_send, db->my, q, strlen(q)));
}

static void db_start_read(struct db *db)
{
	db->op = OP_READ;
	db_step(db, mysql_read_query_result_start(&db->ret_read, db->my));
}

/* Copy a MYSQL_RES into a rowset. */
static struct rowset *rowset_from_result(MYSQL *my, MYSQL_RES *r)
{
	struct rowset *rs;
	MYSQL_FIELD *f;
	MYSQL_ROW row;
	unsigned int i, nf;
	const char **names, **vals;

	if (!r) {
		rs = rowset_new(0, NULL);
		rs->affected = (unsigned long long)mysql_affected_rows(my);
		return rs;
	}
	nf = mysql_num_fields(r);
	f = mysql_fetch_fields(r);
	names = xcalloc(nf, sizeof(char *));
	for (i = 0; i < nf; i++)
		names[i] = f[i].name;
	rs = rowset_new(nf, names);
	free(names);
	vals = xcalloc(nf, sizeof(char *));
	/* The result is stored, so fetching rows reads memory only and never blocks. */
	while ((row = mysql_fetch_row(r)) != NULL) {
		for (i = 0; i < nf; i++)
			vals[i] = row[i];
		rowset_add_row(rs, vals);
	}
	free(vals);
	return rs;
}

static void result_append(struct db_result *res, struct rowset *rs)
{
	res->rs = xrealloc(res->rs, (res->n + 1) * sizeof(*res->rs));
	res->rs[res->n++] = rs;
}

/* "connect: <the library's error>", and what to do when it is about authentication. */
static void db_auth_hint(struct db *db, char *msg, size_t len)
{
	const char *e = mysql_error(db->my);
	unsigned int n = mysql_errno(db->my);

	/* CR_AUTH_PLUGIN_CANNOT_LOAD, or as Connector/C 3.3 words a plugin it does not have */
	if (n == CR_AUTH_PLUGIN_CANNOT_LOAD || (strstr(e, "lugin") && strstr(e, "be loaded")))
		snprintf(msg, len, "connect: the account '%.64s' uses an authentication method this client cannot speak "
			 "(%.200s); MariaDB Connector/C speaks caching_sha2_password, mysql_native_password, "
			 "sha256_password, ed25519 and PAM (dialog): give the account one of them (MySQL: ALTER USER "
			 "'%.64s'@'...' IDENTIFIED WITH caching_sha2_password BY '...'; MariaDB: ALTER USER '%.64s'@'...' "
			 "IDENTIFIED VIA ed25519 USING PASSWORD('...'))", db->user ? db->user : "", e,
			 db->user ? db->user : "", db->user ? db->user : "");
	else if (strstr(e, "RSA public key"))
		snprintf(msg, len, "connect: %.200s (caching_sha2_password without TLS needs the server's RSA key: set "
			 "server_public_key to a copy of its public_key.pem, or use tls_mode)", e);
	else
		snprintf(msg, len, "connect: %s", e);
}

/* An asynchronous call finished (status 0): act on its result. */
static void db_op_done(struct db *db)
{
	char msg[600];

	switch (db->op) {
	case OP_CONNECT:
		if (!db->ret_connect) {
			/* The library reports its own connect timeout as "system error: 11" (EAGAIN). */
			if (strstr(mysql_error(db->my), "system error: 11"))
				snprintf(msg, sizeof(msg), "connect: timed out after %d ms (the server accepted the "
					 "connection but did not answer)", db->connect_timeout_ms);
			else
				db_auth_hint(db, msg, sizeof(msg));
			db_finish(db, (int)mysql_errno(db->my), msg);
			return;
		}
		db->connected = true;
		db_start_statement(db);
		return;
	case OP_SEND:
		if (db->ret_send != 0) {
			snprintf(msg, sizeof(msg), "%s", mysql_error(db->my));
			db_finish(db, (int)mysql_errno(db->my), msg);
			return;
		}
		if (db->gather_ms > 0) {
			struct timeval tv = { db->gather_ms / 1000, (db->gather_ms % 1000) * 1000 };
			if (db->io)
				event_free(db->io);
			db->op = OP_GATHER;
			db->io = evtimer_new(db->base, db_io_cb, db);
			evtimer_add(db->io, &tv);
			return;
		}
		db_start_read(db);
		return;
	case OP_READ:
	case OP_NEXT:   /* a statement's answer, or the next one of a multi-statement query */
		if (db->op == OP_READ ? db->ret_read != 0 : db->ret_next > 0) {
			snprintf(msg, sizeof(msg), "%s", mysql_error(db->my));
			db_finish(db, (int)mysql_errno(db->my), msg);
			return;
		}
		db->op = OP_STORE;
		db_step(db, mysql_store_result_start(&db->ret_store, db->my));
		return;
	case OP_RESOLVE:   /* db_resolved carries on */
	case OP_GATHER:    /* db_io_cb carries on */
		return;
	case OP_STORE:
		if (!db->ret_store && mysql_field_count(db->my) > 0) {
			snprintf(msg, sizeof(msg), "reading result: %s", mysql_error(db->my));
			db_finish(db, (int)mysql_errno(db->my), msg);
			return;
		}
		result_append(db->res, rowset_from_result(db->my, db->ret_store));
		if (db->ret_store)
			mysql_free_result(db->ret_store);
		db->ret_store = NULL;
		if (db->multi && mysql_more_results(db->my)) {
			db->op = OP_NEXT;
			db_step(db, mysql_next_result_start(&db->ret_next, db->my));
			return;
		}
		db->op = OP_IDLE;
		if (++db->cur < db->n_sql)
			db_start_statement(db);
		else
			db_finish(db, 0, NULL);
		return;
	case OP_IDLE:
		break;
	}
}

/* Wait for what the library asked for, or act on a finished call. */
static void db_step(struct db *db, int status)
{
	short what = 0;
	struct timeval tv, *tvp = NULL;
	evutil_socket_t fd;

	if (status == 0) {
		db_op_done(db);
		return;
	}
	if (status & MYSQL_WAIT_READ)
		what |= EV_READ;
	if (status & MYSQL_WAIT_WRITE)
		what |= EV_WRITE;
	if (status & MYSQL_WAIT_EXCEPT)
		what |= EV_READ;
	if (status & MYSQL_WAIT_TIMEOUT) {
		unsigned int ms = mysql_get_timeout_value_ms(db->my);
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		tvp = &tv;
	}
	fd = (evutil_socket_t)mysql_get_socket(db->my);
	/* The same wait on the same socket as the last step (most of them: a read) keeps its
	 * event, which stays in epoll (EV_PERSIST): no epoll_ctl per step.  The batch's end
	 * frees it (db_finish), so an idle connection is never watched. */
	if (db->io && !tvp && what && event_get_fd(db->io) == fd && event_get_events(db->io) == (what | EV_PERSIST) &&
	    event_pending(db->io, what, NULL))
		return;
	if (db->io) {
		event_free(db->io);
		db->io = NULL;
	}
	db->io = event_new(db->base, what ? fd : -1, (short)(what | (what && !tvp ? EV_PERSIST : 0)), db_io_cb, db);
	event_add(db->io, tvp);
}

static void db_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	int ev = 0, status = 0;

	if (what & EV_READ)
		ev |= MYSQL_WAIT_READ;
	if (what & EV_WRITE)
		ev |= MYSQL_WAIT_WRITE;
	if (what & EV_TIMEOUT)
		ev |= MYSQL_WAIT_TIMEOUT;
	switch (db->op) {
	case OP_CONNECT:
		status = mysql_real_connect_cont(&db->ret_connect, db->my, ev);
		break;
	case OP_SEND:
		status = mysql_send_query_cont(&db->ret_send, db->my, ev);
		break;
	case OP_GATHER:
		db_start_read(db);
		return;
	case OP_READ:
		status = mysql_read_query_result_cont(&db->ret_read, db->my, ev);
		break;
	case OP_STORE:
		status = mysql_store_result_cont(&db->ret_store, db->my, ev);
		break;
	case OP_NEXT:
		status = mysql_next_result_cont(&db->ret_next, db->my, ev);
		break;
	case OP_IDLE:
	case OP_RESOLVE:
		return;
	}
	db_step(db, status);
}

static void db_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	char msg[300];

	if (db->op == OP_RESOLVE) {
		snprintf(msg, sizeof(msg), "timed out after %d ms resolving '%s'", db->timeout_ms, db->host);
	} else if (db->op == OP_CONNECT) {
		snprintf(msg, sizeof(msg), "timed out after %d ms while connecting", db->timeout_ms);
	} else {
		/* Name the statement, but never a password it carries (CHANGE MASTER … PASSWORD='…'). */
		char stmt[81];
		char *pw;
		strlcpy_(stmt, db->cur < db->n_sql ? db->sql[db->cur] : "", sizeof(stmt));
		if ((pw = strcasestr(stmt, "PASSWORD")) != NULL)
			strcpy(pw, "PASSWORD…");
		snprintf(msg, sizeof(msg), "timed out after %d ms running \"%s\"", db->timeout_ms, stmt);
	}
	db_finish(db, DB_ERR_TIMEOUT, msg);
}

/* Deliver the batch's result.  A failed batch also drops the connection: after a timeout or a
 * lost connection its state is unknown, and a fresh connection is cheap. */
static void db_finish(struct db *db, int err, const char *msg)
{
	struct db_result *res = db->res;
	db_done_fn fn = db->fn;
	void *arg = db->arg;

	res->err = err;
	res->failed = res->n;
	if (msg)
		strlcpy_(res->errmsg, msg, sizeof(res->errmsg));
	res->elapsed_us = now_mono_us() - db->started_us;
	/* A server-side SQL error (e.g. 1290 read-only) leaves the connection usable. */
	if (err != 0 && (err < 1000 || err >= 2000 || !db->connected))
		db_teardown(db);
	if (db->io) {
		event_free(db->io);
		db->io = NULL;
	}
	db->op = OP_IDLE;
	db->res = NULL;
	batch_free(db);
	fn(db, res, arg);
}
