/* Asynchronous MySQL/MariaDB connections on the libevent loop, through MariaDB Connector/C's
 * non-blocking API (mysql_*_start / mysql_*_cont).  Nothing here blocks: every operation has a
 * deadline, and a server that stops answering (SIGSTOP, a dead link) costs a timer, not the loop.
 *
 * One struct db is one connection running one batch at a time.  A batch is a list of statements
 * run in order; it stops at the first error.  The connection is (re)opened on demand within the
 * batch's deadline.  On a deadline the connection is torn down (the server may still be running
 * the statement; callers that care use KILL QUERY from another connection). */
#ifndef CUTOVER_DB_H
#define CUTOVER_DB_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rowset.h"

#define DB_ERR_TIMEOUT  (-2)   /* the deadline passed */
#define DB_ERR_CANCELED (-3)   /* never reported to callbacks: db_cancel() suppresses them */
#define DB_ERR_CONNECT  (-4)   /* could not start a connection at all */

struct db_target {
	const char *host;        /* may be NULL when socket is set */
	int port;
	const char *socket;      /* may be NULL */
	const char *user;
	const char *password;    /* may be NULL; copied and wiped on free */
	const char *database;    /* may be NULL */
	enum tls_mode tls_mode;
	const char *tls_ca, *tls_cert, *tls_key;
	const char *server_public_key;   /* may be NULL: see cfg_server */
};

struct db_result {
	int err;                 /* 0, a server/client errno (e.g. 1290, 2013) or DB_ERR_* */
	char errmsg[512];
	size_t failed;           /* index of the statement that failed (== n_ok) */
	size_t n;                /* rowsets for the statements that completed */
	struct rowset **rs;      /* owned; a statement without a result set gets an empty rowset */
	int64_t elapsed_us;
	bool connected_now;      /* this batch had to open the connection */
};

struct db;
typedef void (*db_done_fn)(struct db *db, struct db_result *res, void *arg);

/* `label` names the connection in logs (borrowed for the db's life). */
struct db *db_new(struct event_base *base, const char *label);
const char *db_label(const struct db *db);
/* Copy the target (takes effect on the next connect; closes an idle open connection). */
void db_set_target(struct db *db, const struct db_target *t, int connect_timeout_ms);
/* Run n statements (copied) within timeout_ms.  Returns 0, or -1 if a batch is already running.
 * fn gets a result it must free with db_result_free(). */
int db_run(struct db *db, const char *const *sql, size_t n, int timeout_ms, db_done_fn fn, void *arg);
int db_run1(struct db *db, const char *sql, int timeout_ms, db_done_fn fn, void *arg);
/* From the next connect, a batch of several statements goes to the server as one query
 * (CLIENT_MULTI_STATEMENTS): one round trip instead of one per statement, same results and
 * the same stop at the first error.  Only for a connection that runs cutoverd's own SQL (the
 * poller's): with it, a statement carrying text from outside could carry a second one. */
void db_set_multi(struct db *db);
/* After sending each statement, wait ms before reading its answer (0: read at once, the
 * default).  For the poller's connections: the answers of a round's servers, read together
 * after the wait, cost the loop one wakeup instead of one each (on loopback or a LAN they are
 * all in by then); an answer still missing is then waited for as usual. */
void db_set_gather(struct db *db, int ms);
/* A connection that changes things (a fence, a router's hostgroups): db_run refuses it (-1,
 * nothing sent) whenever the check set with db_set_acting_check says no — with [ha], while
 * this member is not the acting leader (ha.h). */
void db_set_acts(struct db *db);
void db_set_acting_check(bool (*fn)(void *), void *arg);
bool db_busy(const struct db *db);
bool db_connected(const struct db *db);
/* Abandon the running batch (no callback) and close the connection. */
void db_cancel(struct db *db);
void db_close(struct db *db);
void db_free(struct db *db);
/* The server's id for this connection (CONNECTION_ID()), 0 if not connected. */
unsigned long db_thread_id(const struct db *db);
void db_result_free(struct db_result *r);
/* Free what the module keeps for the whole run (the DNS resolver), before the event base. */
void db_shutdown(void);

#endif
