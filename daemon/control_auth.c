/* Who may change the daemon's state on the control socket: the configured admin uids and gids,
 * decided once per connection, before it is admitted.
 *
 * Membership of admin groups is asked of NSS (which may be LDAP or SSSD) off the loop (nss.c):
 * the connection waits, not yet admitted, for the answer or control_nss_deadline_ms, whichever
 * comes first; past the deadline it is not an admin (fail closed), and the late answer is kept
 * all the same.  Answers are kept a minute per uid; control_update's new admin lists forget
 * them and apply to connections made afterwards. */
#include "control_impl.h"
#include "log.h"
#include "nss.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSS_KEEP_MS 60000

int control_nss_deadline_ms = 5000;

static bool listed_admin(const struct control *ctl, const struct ucred *cred);
static bool in_admin_groups(const struct control *ctl, const gid_t *groups, int n);
static void cache_put(struct control *ctl, uid_t uid, bool admin);
static void nss_answered(void *arg, uid_t uid, const gid_t *groups, int n);
static void waiter_deadline_cb(evutil_socket_t fd, short what, void *arg);
static void waiter_done(struct waiter *w, bool admin);

void copy_admins(struct control *ctl, const struct control_opts *o)
{
	memset(ctl->nss_cache, 0, sizeof(ctl->nss_cache));   /* new admin groups: every answer is stale */
	free(ctl->admin_uids);
	free(ctl->admin_gids);
	ctl->admin_uids = NULL;
	ctl->admin_gids = NULL;
	ctl->n_admin_uids = o->admin_uids ? o->n_admin_uids : 0;
	ctl->n_admin_gids = o->admin_gids ? o->n_admin_gids : 0;
	if (ctl->n_admin_uids) {
		ctl->admin_uids = xcalloc(ctl->n_admin_uids, sizeof(uid_t));
		memcpy(ctl->admin_uids, o->admin_uids, ctl->n_admin_uids * sizeof(uid_t));
	}
	if (ctl->n_admin_gids) {
		ctl->admin_gids = xcalloc(ctl->n_admin_gids, sizeof(gid_t));
		memcpy(ctl->admin_gids, o->admin_gids, ctl->n_admin_gids * sizeof(gid_t));
	}
}

/* uid 0, an admin uid or an admin primary gid: known without NSS. */
static bool listed_admin(const struct control *ctl, const struct ucred *cred)
{
	size_t k;

	if (cred->uid == 0)
		return true;
	for (k = 0; k < ctl->n_admin_uids; k++)
		if (ctl->admin_uids[k] == cred->uid)
			return true;
	for (k = 0; k < ctl->n_admin_gids; k++)
		if (ctl->admin_gids[k] == cred->gid)
			return true;
	return false;
}

/* Also a member of an admin group, by the answer NSS gave in the last minute; ADMIN_ASK_NSS
 * when admin groups are configured and there is no such answer. */
enum admin_answer peer_admin(const struct control *ctl, const struct ucred *cred)
{
	size_t k;

	if (listed_admin(ctl, cred))
		return ADMIN_YES;
	if (ctl->n_admin_gids == 0)
		return ADMIN_NO;
	for (k = 0; k < ARRAY_LEN(ctl->nss_cache); k++)
		if (ctl->nss_cache[k].until_ms > now_mono_ms() && ctl->nss_cache[k].uid == cred->uid)
			return ctl->nss_cache[k].admin ? ADMIN_YES : ADMIN_NO;
	return ADMIN_ASK_NSS;
}

static bool in_admin_groups(const struct control *ctl, const gid_t *groups, int n)
{
	size_t k;
	int i;

	for (i = 0; i < n; i++)
		for (k = 0; k < ctl->n_admin_gids; k++)
			if (groups[i] == ctl->admin_gids[k])
				return true;
	return false;
}

static void cache_put(struct control *ctl, uid_t uid, bool admin)
{
	ctl->nss_cache[ctl->nss_next].uid = uid;
	ctl->nss_cache[ctl->nss_next].admin = admin;
	ctl->nss_cache[ctl->nss_next].until_ms = now_mono_ms() + NSS_KEEP_MS;
	ctl->nss_next = (ctl->nss_next + 1) % ARRAY_LEN(ctl->nss_cache);
}

/* The connection waits for NSS's answer about its uid: one look-up per uid however many wait.
 * Past its share of the waiting room (control_budget.c) it is refused like one past the pool's. */
void wait_for_nss(struct control *ctl, int fd, const struct ucred *cred)
{
	struct timeval tv = { control_nss_deadline_ms / 1000, (control_nss_deadline_ms % 1000) * 1000 };
	struct waiter *w;

	if (ctl->resolver == NULL && (ctl->resolver = nss_new(ctl->base, nss_answered, ctl)) == NULL) {
		log_warn("control: cannot ask NSS whether uid %u is in an admin group (no pipe); "
			 "treating pid %d as not an admin", (unsigned)cred->uid, (int)cred->pid);
		admit_peer(ctl, fd, cred, false);
		return;
	}
	if (!may_wait(ctl, cred)) {
		refuse_busy(ctl, fd, cred);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->ctl = ctl;
	w->fd = fd;
	w->cred = *cred;
	w->ev_deadline = evtimer_new(ctl->base, waiter_deadline_cb, w);
	if (w->ev_deadline == NULL || evtimer_add(w->ev_deadline, &tv) < 0) {
		log_err("control: out of memory setting up a client");
		abort();
	}
	TAILQ_INSERT_TAIL(&ctl->waiters, w, entry);
	ctl->n_waiting++;
	if (nss_ask(ctl->resolver, cred->uid))
		ctl->nss_lookups++;
	log_debug("control: client pid %d uid %u waits for NSS (admin groups)", (int)cred->pid,
		  (unsigned)cred->uid);
}

/* On the loop: every connection of uid still waiting is decided; a failed look-up is not kept. */
static void nss_answered(void *arg, uid_t uid, const gid_t *groups, int n)
{
	struct control *ctl = arg;
	struct waiter *w, *next;
	bool admin = in_admin_groups(ctl, groups, n);

	if (n >= 0)
		cache_put(ctl, uid, admin);
	else
		log_warn("control: NSS could not say whether uid %u is in an admin group; not an admin",
			 (unsigned)uid);
	for (w = TAILQ_FIRST(&ctl->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->cred.uid == uid)
			waiter_done(w, admin || listed_admin(ctl, &w->cred));
	}
}

static void waiter_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	if (nss_first_late(w->ctl->resolver, w->cred.uid))
		log_warn("control: NSS has not said within %d ms whether uid %u is in an admin group; "
			 "its connections are not an admin's while the look-up is out (its answer is kept)",
			 control_nss_deadline_ms, (unsigned)w->cred.uid);
	waiter_done(w, listed_admin(w->ctl, &w->cred));
}

static void waiter_done(struct waiter *w, bool admin)
{
	struct control *ctl = w->ctl;

	TAILQ_REMOVE(&ctl->waiters, w, entry);
	ctl->n_waiting--;
	event_free(w->ev_deadline);
	admit_peer(ctl, w->fd, &w->cred, admin);
	free(w);
}

/* The waiting connections are closed; look-ups still out finish in their threads, unheard. */
void control_auth_free(struct control *ctl)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(&ctl->waiters)) != NULL) {
		TAILQ_REMOVE(&ctl->waiters, w, entry);
		event_free(w->ev_deadline);
		close(w->fd);
		free(w);
	}
	ctl->n_waiting = 0;
	nss_free(ctl->resolver);
	ctl->resolver = NULL;
}

unsigned long control_nss_lookups(const struct control *ctl)
{
	return ctl->nss_lookups;
}
