/* The last answer of a cutover, sent once etcd has every record of it ([ha]; see ha.h).
 *
 * The records after a switchover's point of no return do not wait for etcd one by one (the
 * writes are unblocked by then, and each wait would add a round trip to nothing the clients
 * see).  Its final answer does: a requester never hears "done" of a cutover that the next
 * leader, reading etcd, would find unfinished.  When this member stops leading first, the
 * answer goes out with a warning saying so. */
#include "control.h"
#include "daemon.h"
#include "ha.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct pending_reply {
	TAILQ_ENTRY(pending_reply) entry;
	struct daemon *d;
	struct client *cl;              /* held */
	json_t *msg;                    /* owned */
};

static TAILQ_HEAD(, pending_reply) pending = TAILQ_HEAD_INITIALIZER(pending);

static void send_and_release(struct client *cl, json_t *msg)
{
	if (!client_gone(cl))
		client_send(cl, msg);
	else
		json_decref(msg);
	client_release(cl);
}

static void recorded(void *arg, bool ok, const char *why)
{
	struct pending_reply *p = arg;
	json_t *result = json_object_get(p->msg, "result");

	TAILQ_REMOVE(&pending, p, entry);
	if (!ok && json_is_object(result)) {
		json_object_set_new(result, "journal_in_etcd", json_false());
		json_object_set_new(result, "warning",
				    json_sprintf("etcd does not have the last records of this cutover (%s): the next leader "
						 "may show it interrupted; see `cutoverctl history` there, and `cutoverctl "
						 "resolve` if it does", why ? why : "?"));
	}
	send_and_release(p->cl, p->msg);
	free(p);
}

void ha_reply_final(struct daemon *d, struct client **cl, json_t *msg)
{
	struct pending_reply *p;

	if (!*cl) {
		json_decref(msg);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->d = d;
	p->cl = *cl;
	p->msg = msg;
	*cl = NULL;
	/* a stopping daemon answers at once: it will not be there to answer later */
	if (d->stopping || !ha_journal_wait(d->ha, recorded, p)) {
		send_and_release(p->cl, p->msg);
		free(p);
		return;
	}
	TAILQ_INSERT_TAIL(&pending, p, entry);
}

void ha_replies_flush(struct daemon *d)
{
	struct pending_reply *p, *next;

	for (p = TAILQ_FIRST(&pending); p; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->d != d)
			continue;
		ha_journal_forget(d->ha, p);
		recorded(p, false, "cutoverd stopped before etcd answered");
	}
}
