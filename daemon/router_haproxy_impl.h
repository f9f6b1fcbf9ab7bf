/* The HAProxy driver's insides, shared by router_haproxy.c (the socket, one command line at a
 * time, and the poll) and router_haproxy_switch.c (drain, promote, rollback, finalize). */
#ifndef CUTOVER_ROUTER_HAPROXY_IMPL_H
#define CUTOVER_ROUTER_HAPROXY_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "router.h"

enum hx_stage { HX_IDLE, HX_KICK_SEND, HX_KICK_DONE, HX_CONNECTING, HX_WRITING, HX_READING };

/* What to do with the reply of one line: reply is NULL when the line failed, with ioerr. */
typedef void (*hx_next_fn)(struct router *r, const char *reply, const char *ioerr);

struct hx_priv {
	/* The line on the wire. */
	enum hx_stage stage;
	int fd;
	struct event *timer;        /* zero-timeout kick, then the deadline */
	struct event *ev_w, *ev_r;
	char *line;                 /* owned: the last command line sent, for messages */
	char *out;                  /* owned: line + "\n" */
	size_t outlen, outoff;
	char *in;                   /* owned: the reply so far */
	size_t inlen, incap;
	hx_next_fn next;

	/* The operation. */
	router_cb cb;
	void *arg;
	enum router_step step;
	char old_name[128], new_name[128];
	char id[64];                /* the switchover's id, "" if none */
	bool line_has_snapshot;     /* the line began with "show stat" */
	int kick_err;
	char kick_msg[512];

	/* The admin states drain/promote started from, for rollback ("" = leave alone). */
	bool remembered;
	char mem_id[64];
	char mem_old[128], mem_new[128];
	char mem_old_word[8], mem_new_word[8];
	char undrain_was[32];       /* rollback without memory: the old primary's status */

};

/* router_haproxy.c: start an operation (false: refused, reported from the loop), end it now
 * or from the loop, send one line from the loop with its continuation, and parse answer
 * `part` of a reply (a `show stat`) into r->view (0, or -1 with view.error set). */
bool hx_begin(struct router *r, enum router_step step, router_cb cb, void *arg);
void hx_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hx_defer_done(struct router *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hx_send(struct router *r, const char *line, hx_next_fn next);
int hx_take_view(struct router *r, const char *reply, size_t part);

/* router_haproxy_switch.c: the switchover's steps of router_haproxy_ops */
void hx_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void hx_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void hx_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
void hx_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);

#endif
