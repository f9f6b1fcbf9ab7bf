/* What the control socket's files share (control.c, control_client.c, control_auth.c,
 * control_budget.c): the server and client structs, and the calls between those files. */
#ifndef CUTOVER_CONTROL_IMPL_H
#define CUTOVER_CONTROL_IMPL_H

#include "control.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

struct client {
	const char *cur_cmd;         /* the command being answered (for the metrics), borrowed from cmd_table */
	TAILQ_ENTRY(client) entry;
	struct control *ctl;          /* borrowed; NULL once closed */
	int fd;
	struct event *ev_read, *ev_write, *ev_idle, *ev_resume;   /* owned */
	struct evbuffer *in, *out;    /* owned */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool admin;
	int refs;                     /* 1 while connected + holds + callbacks in progress */
	int holds;
	bool connected;               /* false once closed: then gone */
	bool eof;                     /* the peer half-closed: no more requests */
	bool closing;                 /* close as soon as the output is flushed */
	bool reading;                 /* ev_read is added */
	bool subscribed;
	json_t *sub_id;               /* owned */
	char *sub_cluster;            /* owned, NULL = every cluster */
};

TAILQ_HEAD(client_list, client);

/* An accepted connection whose admission waits for NSS (control_auth.c): not a client yet. */
struct waiter {
	TAILQ_ENTRY(waiter) entry;
	struct control *ctl;          /* borrowed */
	int fd;                       /* owned */
	struct ucred cred;
	struct event *ev_deadline;    /* owned */
};

TAILQ_HEAD(waiter_list, waiter);

struct control {
	struct event_base *base;      /* borrowed */
	int fd;
	char *path;                   /* owned */
	bool inherited;
	struct event *ev_accept;      /* owned */
	struct event *ev_backoff;     /* owned: re-enables accept after EMFILE */
	unsigned mode;
	gid_t gid;
	int max_clients;
	int idle_timeout_ms;
	uid_t *admin_uids;            /* owned */
	size_t n_admin_uids;
	gid_t *admin_gids;            /* owned */
	size_t n_admin_gids;
	/* NSS answers (is this uid in an admin group?), kept a minute: with LDAP or SSSD behind
	 * NSS a look-up can take long, so it runs off the loop (nss.c) while the peer waits */
	struct nss_answer {
		uid_t uid;
		bool admin;
		int64_t until_ms;     /* monotonic; 0 = empty */
	} nss_cache[32];
	size_t nss_next;
	unsigned long nss_lookups;
	struct nss *resolver;         /* owned; made at the first look-up */
	struct waiter_list waiters;   /* connections waiting for their NSS answer */
	int n_waiting;
	control_dispatch_fn fn;
	void *arg;
	struct client_list clients;
	int n_clients;
};

/* control_auth.c */
enum admin_answer { ADMIN_NO, ADMIN_YES, ADMIN_ASK_NSS };
void copy_admins(struct control *ctl, const struct control_opts *o);
enum admin_answer peer_admin(const struct control *ctl, const struct ucred *cred);
void wait_for_nss(struct control *ctl, int fd, const struct ucred *cred);
void control_auth_free(struct control *ctl);

/* control.c */
void admit_peer(struct control *ctl, int fd, const struct ucred *cred, bool admin);

/* control_budget.c */
bool admit(const struct control *ctl, const struct ucred *cred, bool admin);
bool may_wait(const struct control *ctl, const struct ucred *cred);
void refuse_busy(struct control *ctl, int fd, const struct ucred *cred);
bool output_over_budget(struct control *ctl, struct client *c);

/* control_client.c */
void client_new(struct control *ctl, int fd, const struct ucred *cred, bool admin);
void client_close(struct client *c, int prio, const char *why);

#endif
