/* The control socket: a Unix stream socket speaking the protocol of proto.h.
 * control*.c own listening, accepting (SO_PEERCRED checked on accept, EMFILE backed off),
 * per-client line buffering with the 64 KiB cap, the client cap, the idle timeout, request
 * parsing and the access check (CMD_MUTATING only for root and admin uids/gids, the admin groups
 * asked of NSS off the loop before the connection is admitted).  A valid,
 * permitted request goes to the dispatcher given to control_new (api.c). */
#ifndef CUTOVER_CONTROL_H
#define CUTOVER_CONTROL_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"

struct control;
struct client;
struct config;

/* Called for each valid, permitted request.  The handler replies with client_reply*() now or
 * later; to reply later (a long command) it takes a reference with client_hold() first. */
typedef void (*control_dispatch_fn)(void *arg, struct client *c, const struct request *req);

struct control_opts {
	const char *path;        /* socket path */
	unsigned mode;           /* e.g. 0660 */
	gid_t gid;               /* (gid_t)-1: leave the group alone */
	int max_clients;
	int idle_timeout_ms;     /* 0 = none; never applied to clients holding a stream */
	const uid_t *admin_uids;
	size_t n_admin_uids;
	const gid_t *admin_gids;
	size_t n_admin_gids;
	int inherited_fd;        /* -1, or a listening socket from systemd (never unlinked) */
};

/* Bind (or adopt inherited_fd) and start accepting.  NULL with a message in err on failure. */
struct control *control_new(struct event_base *base, const struct control_opts *o,
			    control_dispatch_fn fn, void *arg, char *err, size_t errlen);
/* Apply new admin ids, limits and socket mode/group after a reload (path changes need a restart). */
void control_update(struct control *ctl, const struct control_opts *o);
/* Close the listener (unlinking the path unless inherited) and every client. */
void control_free(struct control *ctl);
int control_client_count(const struct control *ctl);
/* Output queued for all clients together (bounded: see cutoverd-api(7), Clients). */
size_t control_output_pending(const struct control *ctl);
/* How many times admin groups were looked up through NSS (answers are kept a minute). */
unsigned long control_nss_lookups(const struct control *ctl);
/* How long a connection waits for NSS before it is taken as not an admin's (5000; tests
 * shorten it). */
extern int control_nss_deadline_ms;

/* Send one message (stolen) as a line.  Output is queued; EV_WRITE is armed only while queued.
 * A client whose queue passes 8 MiB (a stuck reader of events) is dropped. */
void client_send(struct client *c, json_t *msg);
/* A reply already serialized (proto_dump_line: one line, newline included); line is taken. */
void client_send_line(struct client *c, char *line, size_t len);
void client_reply_ok(struct client *c, json_t *id, json_t *result);
void client_reply_err(struct client *c, json_t *id, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Long commands: keep the client alive past the handler's return. Every hold needs a release.
 * client_gone() tells a holder the peer hung up (then sending is a no-op). */
void client_hold(struct client *c);
void client_release(struct client *c);
/* A held requester (client_hold) gets its final error, if still there, and is let go; *cl
 * becomes NULL.  Nothing when *cl is NULL. */
void client_finish_err(struct client **cl, json_t *id, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool client_gone(const struct client *c);

/* Mark the client as a subscriber of events (optionally one cluster's only); the idle timeout
 * stops applying to it. */
void client_subscribe(struct client *c, json_t *id, const char *cluster);
/* Send an event (borrowed) to every subscriber that wants its "cluster" member. */
void control_broadcast(struct control *ctl, json_t *event);

uid_t client_uid(const struct client *c);
pid_t client_pid(const struct client *c);
bool client_is_admin(const struct client *c);

#endif
