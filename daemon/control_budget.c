/* The control socket's limits: how many clients are admitted (with room kept for the admins),
 * how many connections may wait for NSS, and how much output all clients together may have
 * queued. */
#include "control_impl.h"
#include "log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* All clients' pending output together: past it the one furthest behind is dropped, so that
 * many slow readers cannot take the daemon's memory between them. */
#define MAX_TOTAL_OUTPUT (32u * 1024 * 1024)

/* The waiting room's size when the pool has none (max_clients 0: unlimited). */
#define WAITING_UNLIMITED 64

static int admin_room(const struct control *ctl);
static int uid_share(int pool);

/* Room that no unprivileged client can take: max_clients / 8 (at least 1) of the pool is kept
 * for root and the admins, who may also go that far past max_clients — so that an abort always
 * gets through — and one uid that is not an admin holds at most a quarter of the pool (events
 * subscriptions included). */
static int admin_room(const struct control *ctl)
{
	return ctl->max_clients / 8 > 1 ? ctl->max_clients / 8 : 1;
}

static int uid_share(int pool)
{
	return pool / 4 > 1 ? pool / 4 : 1;
}

bool admit(const struct control *ctl, const struct ucred *cred, bool admin)
{
	const struct client *c;
	int same = 0, per_uid = uid_share(ctl->max_clients);

	if (ctl->max_clients <= 0)
		return true;
	if (admin)
		return ctl->n_clients < ctl->max_clients + admin_room(ctl);
	if (ctl->n_clients >= ctl->max_clients - admin_room(ctl))
		return false;
	TAILQ_FOREACH(c, &ctl->clients, entry)
		same += c->uid == cred->uid && !c->admin;
	return same < per_uid;
}

/* Connections waiting for NSS (control_auth.c) hold no slot of the pool yet, but their room is
 * as large as the pool, a quarter of it for one uid, and entered only while an admin would fit:
 * a slow NSS cannot pile up descriptors. */
bool may_wait(const struct control *ctl, const struct ucred *cred)
{
	const struct waiter *w;
	int same = 0, room = ctl->max_clients > 0 ? ctl->max_clients : WAITING_UNLIMITED;

	TAILQ_FOREACH(w, &ctl->waiters, entry)
		same += w->cred.uid == cred->uid;
	return ctl->n_waiting < room && same < uid_share(room) && admit(ctl, cred, true);
}

/* One error line into an empty socket buffer cannot block; then the connection is closed. */
void refuse_busy(struct control *ctl, int fd, const struct ucred *cred)
{
	json_t *msg = proto_reply_err(NULL, ERR_BUSY, "too many clients (max %d)", ctl->max_clients);
	size_t len;
	char *line = proto_dump_line(msg, &len);

	json_decref(msg);
	if (line && send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control: sending BUSY to pid %d: %s", (int)cred->pid, strerror(errno));
	free(line);
	close(fd);
	log_warn("control: refused client pid %d uid %u: %d clients connected (max_clients = %d)",
		 (int)cred->pid, (unsigned)cred->uid, ctl->n_clients, ctl->max_clients);
}

/* Over MAX_TOTAL_OUTPUT in all: drop the clients furthest behind until under it.  True if c
 * was dropped. */
bool output_over_budget(struct control *ctl, struct client *c)
{
	bool dropped_c = false;

	for (;;) {
		struct client *k, *worst = NULL;
		size_t total = 0, most = 0;
		TAILQ_FOREACH(k, &ctl->clients, entry) {
			size_t n = evbuffer_get_length(k->out);
			total += n;
			if (n > most) {
				most = n;
				worst = k;
			}
		}
		if (total <= MAX_TOTAL_OUTPUT || !worst)
			return dropped_c;
		log_warn("control: dropping client pid %d uid %u: %zu bytes of output pending, the most of all "
			 "(%zu in all, budget %u)", (int)worst->pid, (unsigned)worst->uid, most, total, MAX_TOTAL_OUTPUT);
		dropped_c |= worst == c;
		client_close(worst, LOG_DEBUG, "output budget");
	}
}

size_t control_output_pending(const struct control *ctl)
{
	const struct client *c;
	size_t total = 0;
	TAILQ_FOREACH(c, &ctl->clients, entry)
		total += evbuffer_get_length(c->out);
	return total;
}
