/* The control socket server: listening, accepting with peer credentials, per-client line
 * framing, access control, output queues, holds for long commands and event subscriptions.
 *
 * Life of a client: accepted → reading lines → (EOF from the peer) → closed.  Closing tears down
 * the descriptor and events at once; the struct itself lives on while a handler holds it
 * (refcount), so a long command can still call client_gone()/client_send() safely.
 *
 * Decisions worth knowing:
 *  - A half-close by the peer (shutdown(SHUT_WR), as `echo … | socat` does) means "no more
 *    requests", not "stop talking": lines already received are answered, then the connection is
 *    closed once nothing is held and the output is flushed.  A subscriber that half-closed keeps
 *    its stream until a write fails.  A full close (POLLHUP on the socket) drops the client now.
 *  - While a handler holds the client we stop reading it; a peer that hangs up meanwhile is
 *    noticed by the next write (EPIPE), which marks the client gone.
 *  - Admin rights are decided once, on accept; control_update's new admin lists apply to clients
 *    that connect afterwards.
 *  - Mode and group are applied only to a socket we bound ourselves: an inherited (systemd)
 *    socket's permissions belong to its .socket unit.
 *  - A trailing line without its newline is still answered when the peer half-closes.
 */
#include "control.h"
#include "stats.h"
#include "cmdtab.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128
#define ACCEPT_BATCH 16                       /* accepts per wakeup, so one loop turn stays short */
#define READ_CHUNK (PROTO_MAX_LINE + 2)
#define MAX_PENDING_OUTPUT (8u * 1024 * 1024) /* a reader this far behind is stuck: drop it */
/* All clients' pending output together: past it the one furthest behind is dropped, so that
 * many slow readers cannot take the daemon's memory between them. */
#define MAX_TOTAL_OUTPUT (32u * 1024 * 1024)
#define WRITE_IOV 16
#define ACCEPT_BACKOFF_MS 1000

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
	/* NSS answers (is this uid in an admin group?), kept a minute: a look-up runs on the loop,
	 * and with LDAP or SSSD behind NSS it can take long */
	struct nss_answer {
		uid_t uid;
		gid_t gid;
		bool admin;
		int64_t until_ms;     /* monotonic; 0 = empty */
	} nss[32];
	size_t nss_next;
	unsigned long nss_lookups;
	control_dispatch_fn fn;
	void *arg;
	struct client_list clients;
	int n_clients;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void copy_admins(struct control *ctl, const struct control_opts *o);
static int apply_mode_group(const struct control *ctl, char *err, size_t errlen);
static int remove_stale_socket(const char *path, char *err, size_t errlen);
static int bind_socket(struct control *ctl, char *err, size_t errlen);
static int adopt_socket(struct control *ctl, int fd, char *err, size_t errlen);
static void accept_cb(evutil_socket_t fd, short what, void *arg);
static void backoff_cb(evutil_socket_t fd, short what, void *arg);
static void refuse_busy(struct control *ctl, int fd, const struct ucred *cred);
static bool peer_is_admin(struct control *ctl, const struct ucred *cred);
static void client_new(struct control *ctl, int fd, const struct ucred *cred, bool admin);
static bool admit(const struct control *ctl, const struct ucred *cred, bool admin);
static bool output_over_budget(struct control *ctl, struct client *c);
static void client_ref(struct client *c);
static void client_unref(struct client *c);
static void client_close(struct client *c, int prio, const char *why);
static void client_set_reading(struct client *c, bool on);
static void client_arm_idle(struct client *c);
static void client_maybe_finish(struct client *c);
static void client_read_cb(evutil_socket_t fd, short what, void *arg);
static void client_write_cb(evutil_socket_t fd, short what, void *arg);
static void client_idle_cb(evutil_socket_t fd, short what, void *arg);
static void client_resume_cb(evutil_socket_t fd, short what, void *arg);
static void client_process(struct client *c);
static int client_next_line(struct client *c, char **line, size_t *len, size_t *drain);
static void client_handle_line(struct client *c, const char *line, size_t len);
static bool peer_hung_up(int fd);
static bool line_is_blank(const char *line, size_t len);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void copy_admins(struct control *ctl, const struct control_opts *o)
{
	memset(ctl->nss, 0, sizeof(ctl->nss));   /* new admin groups: every answer is stale */
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

static int apply_mode_group(const struct control *ctl, char *err, size_t errlen)
{
	if (ctl->inherited)
		return 0;
	if (chmod(ctl->path, ctl->mode & 07777) < 0) {
		set_err(err, errlen, "chmod %04o %s: %s", ctl->mode & 07777, ctl->path, strerror(errno));
		return -1;
	}
	if (ctl->gid != (gid_t)-1 && chown(ctl->path, (uid_t)-1, ctl->gid) < 0) {
		set_err(err, errlen, "chown :%u %s: %s (is the daemon root, or a member of that group?)",
			(unsigned)ctl->gid, ctl->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A socket file left by a daemon that died is removed; a live one (it answers connect) is not,
 * and anything that is not a socket is never touched. */
static int remove_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		set_err(err, errlen, "stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, errlen, "%s exists and is not a socket; remove it or choose another socket path",
			path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy_(sun.sun_path, path, sizeof(sun.sun_path));
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		set_err(err, errlen, "another cutoverd is listening on %s", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		set_err(err, errlen, "probing the existing socket %s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		set_err(err, errlen, "removing the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("control: removed stale socket %s", path);
	return 0;
}

static int bind_socket(struct control *ctl, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, r;

	if (strlen(ctl->path) >= sizeof(sun.sun_path)) {
		set_err(err, errlen, "socket path too long (at most %zu bytes): %s", sizeof(sun.sun_path) - 1,
			ctl->path);
		return -1;
	}
	if (remove_stale_socket(ctl->path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy_(sun.sun_path, ctl->path, sizeof(sun.sun_path));
	/* Nobody but us may connect between bind and chmod. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0) {
		set_err(err, errlen, "bind %s: %s (does its directory exist and is it writable?)", ctl->path,
			strerror(errno));
		close(fd);
		return -1;
	}
	ctl->fd = fd;
	if (apply_mode_group(ctl, err, errlen) < 0)
		return -1;
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		set_err(err, errlen, "listen %s: %s", ctl->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int adopt_socket(struct control *ctl, int fd, char *err, size_t errlen)
{
	int r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);

	if (r <= 0) {
		set_err(err, errlen, "inherited descriptor %d is not a listening Unix stream socket%s%s", fd,
			r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		return -1;
	}
	if (evutil_make_socket_nonblocking(fd) < 0 || evutil_make_socket_closeonexec(fd) < 0) {
		set_err(err, errlen, "inherited descriptor %d: cannot make it non-blocking", fd);
		return -1;
	}
	ctl->fd = fd;
	return 0;
}

struct control *control_new(struct event_base *base, const struct control_opts *o,
			    control_dispatch_fn fn, void *arg, char *err, size_t errlen)
{
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	int r;

	ctl->base = base;
	ctl->fd = -1;
	ctl->path = xstrdup(o->path ? o->path : DEFAULT_SOCKET_PATH);
	ctl->inherited = o->inherited_fd >= 0;
	ctl->mode = o->mode;
	ctl->gid = o->gid;
	ctl->max_clients = o->max_clients;
	ctl->idle_timeout_ms = o->idle_timeout_ms;
	ctl->fn = fn;
	ctl->arg = arg;
	TAILQ_INIT(&ctl->clients);
	copy_admins(ctl, o);

	r = ctl->inherited ? adopt_socket(ctl, o->inherited_fd, err, errlen) : bind_socket(ctl, err, errlen);
	if (r < 0) {
		control_free(ctl);
		return NULL;
	}
	ctl->ev_accept = event_new(base, ctl->fd, EV_READ | EV_PERSIST, accept_cb, ctl);
	ctl->ev_backoff = evtimer_new(base, backoff_cb, ctl);
	if (ctl->ev_accept == NULL || ctl->ev_backoff == NULL || event_add(ctl->ev_accept, NULL) < 0) {
		set_err(err, errlen, "control socket %s: cannot register with the event loop", ctl->path);
		control_free(ctl);
		return NULL;
	}
	log_info("control: listening on %s%s", ctl->path, ctl->inherited ? " (inherited from systemd)" : "");
	return ctl;
}

void control_update(struct control *ctl, const struct control_opts *o)
{
	char err[512];

	copy_admins(ctl, o);
	ctl->max_clients = o->max_clients;
	ctl->idle_timeout_ms = o->idle_timeout_ms;
	if (ctl->mode != o->mode || ctl->gid != o->gid) {
		ctl->mode = o->mode;
		ctl->gid = o->gid;
		if (apply_mode_group(ctl, err, sizeof(err)) < 0)
			log_warn("control: %s", err);
	}
	if (o->path && strcmp(o->path, ctl->path))
		log_warn("control: socket path changed to %s; still listening on %s until a restart", o->path,
			 ctl->path);
}

void control_free(struct control *ctl)
{
	struct client *c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		client_close(c, LOG_DEBUG, "the daemon is shutting down");
	if (ctl->ev_accept)
		event_free(ctl->ev_accept);
	if (ctl->ev_backoff)
		event_free(ctl->ev_backoff);
	if (ctl->fd >= 0) {
		close(ctl->fd);
		if (!ctl->inherited)
			unlink(ctl->path);
	}
	free(ctl->admin_uids);
	free(ctl->admin_gids);
	free(ctl->path);
	free(ctl);
}

int control_client_count(const struct control *ctl)
{
	return ctl->n_clients;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct control *ctl = arg;
	struct ucred cred;
	socklen_t len;
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* The pending connection stays queued and the socket stays readable:
				 * retrying now would spin.  Pause accepting for a while instead. */
				struct timeval tv = { ACCEPT_BACKOFF_MS / 1000, (ACCEPT_BACKOFF_MS % 1000) * 1000 };

				log_warn("control: accept on %s: %s; not accepting for %d ms", ctl->path,
					 strerror(errno), ACCEPT_BACKOFF_MS);
				event_del(ctl->ev_accept);
				evtimer_add(ctl->ev_backoff, &tv);
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				log_warn("control: accept on %s: %s", ctl->path, strerror(errno));
			}
			return;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			log_warn("control: SO_PEERCRED on a new client: %s; closing it", strerror(errno));
			close(fd);
			continue;
		}
		{
			bool admin = peer_is_admin(ctl, &cred);
			if (!admit(ctl, &cred, admin)) {
				refuse_busy(ctl, fd, &cred);
				continue;
			}
			client_new(ctl, fd, &cred, admin);
		}
	}
}

/* Room that no unprivileged client can take: max_clients / 8 (at least 1) of the pool is kept
 * for root and the admins, who may also go that far past max_clients — so that an abort always
 * gets through — and one uid that is not an admin holds at most a quarter of the pool (events
 * subscriptions included). */
static int admin_room(const struct control *ctl)
{
	return ctl->max_clients / 8 > 1 ? ctl->max_clients / 8 : 1;
}

static bool admit(const struct control *ctl, const struct ucred *cred, bool admin)
{
	const struct client *c;
	int same = 0, per_uid = ctl->max_clients / 4 > 1 ? ctl->max_clients / 4 : 1;

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

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	event_add(ctl->ev_accept, NULL);
}

/* One error line into an empty socket buffer cannot block; then the connection is closed. */
static void refuse_busy(struct control *ctl, int fd, const struct ucred *cred)
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

/* uid 0, an admin uid, an admin primary gid, or any group the user is a member of.
 * getpwuid/getgrouplist go through NSS; they run only when admin groups are configured, and their
 * answer is kept a minute (control->nss): with LDAP or SSSD behind NSS a look-up can take long. */
static bool peer_is_admin(struct control *ctl, const struct ucred *cred)
{
	struct passwd pw, *res = NULL;
	gid_t *groups;
	char *buf;
	long bufsz;
	int ng, i;
	size_t k;
	bool admin = false;

	if (cred->uid == 0)
		return true;
	for (k = 0; k < ctl->n_admin_uids; k++)
		if (ctl->admin_uids[k] == cred->uid)
			return true;
	for (k = 0; k < ctl->n_admin_gids; k++)
		if (ctl->admin_gids[k] == cred->gid)
			return true;
	if (ctl->n_admin_gids == 0)
		return false;
	for (k = 0; k < ARRAY_LEN(ctl->nss); k++)
		if (ctl->nss[k].until_ms > now_mono_ms() && ctl->nss[k].uid == cred->uid &&
		    ctl->nss[k].gid == cred->gid)
			return ctl->nss[k].admin;

	ctl->nss_lookups++;
	bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (bufsz < 1024)
		bufsz = 16384;
	buf = xmalloc((size_t)bufsz);
	if (getpwuid_r(cred->uid, &pw, buf, (size_t)bufsz, &res) != 0 || res == NULL) {
		free(buf);
		return false;
	}
	ng = 64;
	groups = xcalloc((size_t)ng, sizeof(gid_t));
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0) {
		groups = xrealloc(groups, (size_t)ng * sizeof(gid_t));
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
			ng = 0;
	}
	for (i = 0; i < ng && !admin; i++)
		for (k = 0; k < ctl->n_admin_gids && !admin; k++)
			admin = groups[i] == ctl->admin_gids[k];
	free(groups);
	free(buf);
	ctl->nss[ctl->nss_next].uid = cred->uid;
	ctl->nss[ctl->nss_next].gid = cred->gid;
	ctl->nss[ctl->nss_next].admin = admin;
	ctl->nss[ctl->nss_next].until_ms = now_mono_ms() + 60000;
	ctl->nss_next = (ctl->nss_next + 1) % ARRAY_LEN(ctl->nss);
	return admin;
}

static void client_new(struct control *ctl, int fd, const struct ucred *cred, bool admin)
{
	struct client *c = xcalloc(1, sizeof(*c));

	c->ctl = ctl;
	c->fd = fd;
	c->uid = cred->uid;
	c->gid = cred->gid;
	c->pid = cred->pid;
	c->admin = admin;
	c->refs = 1;
	c->connected = true;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(ctl->base, fd, EV_READ | EV_PERSIST, client_read_cb, c);
	c->ev_write = event_new(ctl->base, fd, EV_WRITE | EV_PERSIST, client_write_cb, c);
	c->ev_idle = evtimer_new(ctl->base, client_idle_cb, c);
	c->ev_resume = event_new(ctl->base, -1, 0, client_resume_cb, c);
	if (!c->in || !c->out || !c->ev_read || !c->ev_write || !c->ev_idle || !c->ev_resume) {
		log_err("control: out of memory setting up a client");
		abort();
	}
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->n_clients++;
	client_set_reading(c, true);
	client_arm_idle(c);
	log_debug("control: client pid %d uid %u connected%s", (int)c->pid, (unsigned)c->uid,
		  c->admin ? " (admin)" : "");
}

static void client_ref(struct client *c)
{
	c->refs++;
}

static void client_unref(struct client *c)
{
	if (--c->refs > 0)
		return;
	json_decref(c->sub_id);
	free(c->sub_cluster);
	free(c);
}

/* Tear the connection down now; the struct goes when its last reference does. */
static void client_close(struct client *c, int prio, const char *why)
{
	struct control *ctl = c->ctl;

	if (!c->connected)
		return;
	log_ctx(prio, NULL, "control: closing client pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid, why);
	c->connected = false;
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->n_clients--;
	c->ctl = NULL;
	event_free(c->ev_read);
	event_free(c->ev_write);
	event_free(c->ev_idle);
	event_free(c->ev_resume);
	c->ev_read = c->ev_write = c->ev_idle = c->ev_resume = NULL;
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	c->in = c->out = NULL;
	close(c->fd);
	c->fd = -1;
	client_unref(c);
}

static void client_set_reading(struct client *c, bool on)
{
	if (!c->connected || c->reading == on)
		return;
	if (on)
		event_add(c->ev_read, NULL);
	else
		event_del(c->ev_read);
	c->reading = on;
}

static void client_arm_idle(struct client *c)
{
	int ms;
	struct timeval tv;

	if (!c->connected)
		return;
	ms = c->ctl->idle_timeout_ms;
	if (ms <= 0 || c->subscribed || c->holds > 0) {
		evtimer_del(c->ev_idle);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->ev_idle, &tv);
}

/* After a half-close or an oversize line: close once nothing is owed to the peer. */
static void client_maybe_finish(struct client *c)
{
	if (!c->connected || evbuffer_get_length(c->out) > 0 || c->holds > 0)
		return;
	if (c->closing)
		client_close(c, LOG_DEBUG, "error sent");
	else if (c->eof && !c->subscribed && evbuffer_get_length(c->in) == 0)
		client_close(c, LOG_DEBUG, "the peer finished sending");
}

/* A Unix stream socket whose peer closed completely reports POLLHUP; one that only shut down
 * its writing side does not (it may still read our replies). */
static bool peer_hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	int n = evbuffer_read(c->in, fd, READ_CHUNK);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, LOG_DEBUG, strerror(errno));
		return;
	}
	if (n == 0) {
		if (peer_hung_up(fd)) {
			client_close(c, LOG_DEBUG, "the peer hung up");
			return;
		}
		c->eof = true;
		client_set_reading(c, false);
	}
	client_process(c);
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct evbuffer_iovec vec[WRITE_IOV];
	struct iovec iov[WRITE_IOV];
	struct msghdr mh;
	ssize_t n;
	int i, nv;

	nv = evbuffer_peek(c->out, -1, NULL, vec, WRITE_IOV);
	if (nv > WRITE_IOV)
		nv = WRITE_IOV;
	for (i = 0; i < nv; i++) {
		iov[i].iov_base = vec[i].iov_base;
		iov[i].iov_len = vec[i].iov_len;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)nv;
	/* sendmsg with MSG_NOSIGNAL: a vanished peer is an EPIPE here, never a SIGPIPE. */
	n = nv > 0 ? sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		client_close(c, LOG_DEBUG, errno == EPIPE || errno == ECONNRESET ? "the peer hung up" :
			     strerror(errno));
		return;
	}
	evbuffer_drain(c->out, (size_t)n);
	if (evbuffer_get_length(c->out) == 0) {
		event_del(c->ev_write);
		client_maybe_finish(c);
	}
}

static void client_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	char why[64];

	if (c->subscribed || c->holds > 0)
		return;
	snprintf(why, sizeof(why), "no request for %d ms", c->ctl->idle_timeout_ms);
	client_close(c, LOG_DEBUG, why);
}

static void client_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	client_process(arg);
}

static bool line_is_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

/* 1 with the next line in *line (contiguous in c->in, terminator excluded from *len; the
 * caller drains *drain bytes after handling it), 0 when no complete line is buffered, -1 when
 * the line is over the cap. */
static int client_next_line(struct client *c, char **line, size_t *len, size_t *drain)
{
	struct evbuffer_ptr p;
	size_t n, avail = evbuffer_get_length(c->in);

	p = evbuffer_search_eol(c->in, NULL, NULL, EVBUFFER_EOL_LF);
	if (p.pos < 0) {
		/* A line can be PROTO_MAX_LINE bytes plus a '\r' before its '\n'. */
		if (avail > PROTO_MAX_LINE + 1)
			return -1;
		if (!c->eof || avail == 0)
			return 0;
		n = avail;          /* the peer half-closed after an unterminated last line */
		*drain = n;
	} else {
		n = (size_t)p.pos;
		*drain = n + 1;
	}
	*line = (char *)evbuffer_pullup(c->in, (ssize_t)*drain);
	*len = n;
	if (n > 0 && (*line)[n - 1] == '\r')
		(*len)--;
	if (*len > PROTO_MAX_LINE)
		return -1;
	return 1;
}

static void client_process(struct client *c)
{
	char *line;
	size_t len, drain;
	int r;

	client_ref(c);
	while (c->connected && c->holds == 0 && !c->closing) {
		r = client_next_line(c, &line, &len, &drain);
		if (r == 0)
			break;
		if (r < 0) {
			log_warn("control: client pid %d uid %u sent a request line longer than %d bytes; closing it",
				 (int)c->pid, (unsigned)c->uid, PROTO_MAX_LINE);
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			client_reply_err(c, NULL, ERR_INVALID, "request line longer than %d bytes", PROTO_MAX_LINE);
			c->closing = true;
			client_set_reading(c, false);
			break;
		}
		if (!line_is_blank(line, len))
			client_handle_line(c, line, len);
		if (c->connected)
			evbuffer_drain(c->in, drain);
	}
	if (c->connected) {
		client_set_reading(c, c->holds == 0 && !c->eof && !c->closing);
		client_maybe_finish(c);
	}
	client_unref(c);
}

static void client_handle_line(struct client *c, const char *line, size_t len)
{
	struct request req;
	enum err_code code;
	char msg[1024];

	/* The request owns its JSON from here on: `line` (inside c->in) is not used again. */
	c->cur_cmd = NULL;
	if (proto_parse_request(line, len, &req, &code, msg, sizeof(msg)) < 0) {
		client_reply_err(c, req.id, code, "%s", msg);
		request_free(&req);
		client_arm_idle(c);
		return;
	}
	c->cur_cmd = req.spec->name;
	if ((req.spec->flags & CMD_MUTATING) && !c->admin) {
		log_notice("control: DENIED '%s' to pid %d uid %u (not root or an admin user/group)",
			   req.spec->name, (int)c->pid, (unsigned)c->uid);
		client_reply_err(c, req.id, ERR_DENIED,
				 "'%s' changes the daemon's state: only root and the configured admin users/groups may use it (you are uid %u)",
				 req.spec->name, (unsigned)c->uid);
		request_free(&req);
		client_arm_idle(c);
		return;
	}
	log_debug("control: pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid, req.spec->name);
	c->ctl->fn(c->ctl->arg, c, &req);
	request_free(&req);
	client_arm_idle(c);
}

void client_send(struct client *c, json_t *msg)
{
	size_t len;
	char *line;

	if (msg == NULL)
		return;
	if (!c->connected) {
		json_decref(msg);
		return;
	}
	line = proto_dump_line(msg, &len);
	json_decref(msg);
	if (line == NULL) {
		log_err("control: cannot serialize a message for pid %d", (int)c->pid);
		return;
	}
	evbuffer_add(c->out, line, len);
	free(line);
	if (evbuffer_get_length(c->out) > MAX_PENDING_OUTPUT) {
		log_warn("control: dropping client pid %d uid %u: more than %u bytes of output pending (it does not read)",
			 (int)c->pid, (unsigned)c->uid, MAX_PENDING_OUTPUT);
		client_close(c, LOG_DEBUG, "output queue full");
		return;
	}
	if (output_over_budget(c->ctl, c))
		return;   /* c itself was the one furthest behind, and is gone */
	if (!event_pending(c->ev_write, EV_WRITE, NULL))
		event_add(c->ev_write, NULL);
}

/* Over MAX_TOTAL_OUTPUT in all: drop the clients furthest behind until under it.  True if c
 * was dropped. */
static bool output_over_budget(struct control *ctl, struct client *c)
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

void client_reply_ok(struct client *c, json_t *id, json_t *result)
{
	stats_api(c->cur_cmd, "ok");
	client_send(c, proto_reply_ok(id, result));
}

void client_reply_err(struct client *c, json_t *id, enum err_code code, const char *fmt, ...)
{
	char *text;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	stats_api(c->cur_cmd, err_code_name(code));
	client_send(c, proto_reply_err(id, code, "%s", text ? text : "out of memory"));
	free(text);
}

void client_hold(struct client *c)
{
	c->holds++;
	client_ref(c);
	if (c->connected) {
		client_set_reading(c, false);
		evtimer_del(c->ev_idle);
	}
}

void client_release(struct client *c)
{
	if (c->holds <= 0) {
		log_err("control: client_release without a hold (pid %d)", (int)c->pid);
		return;
	}
	c->holds--;
	/* Lines that waited behind the long command run from the loop, not inside the caller. */
	if (c->holds == 0 && c->connected) {
		event_active(c->ev_resume, 0, 0);
		client_arm_idle(c);
	}
	client_unref(c);
}

bool client_gone(const struct client *c)
{
	return !c->connected;
}

void client_subscribe(struct client *c, json_t *id, const char *cluster)
{
	json_decref(c->sub_id);
	free(c->sub_cluster);
	c->sub_id = id ? json_deep_copy(id) : json_null();
	c->sub_cluster = cluster ? xstrdup(cluster) : NULL;
	c->subscribed = true;
	if (c->connected)
		evtimer_del(c->ev_idle);
}

void control_broadcast(struct control *ctl, json_t *event)
{
	struct client *c, **v = NULL;
	const char *cluster = json_string_value(json_object_get(event, "cluster"));
	size_t n = 0, i;

	/* Sending may drop any client (the output budget), not only the one sent to: the
	 * subscribers are held first, and each is sent to only while still connected. */
	TAILQ_FOREACH(c, &ctl->clients, entry) {
		if (!c->subscribed || (cluster && c->sub_cluster && strcmp(cluster, c->sub_cluster)))
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		client_ref(c);
		v[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (v[i]->connected)
			client_send(v[i], proto_stream_line(v[i]->sub_id, "event", json_deep_copy(event)));
		client_unref(v[i]);
	}
	free(v);
}

unsigned long control_nss_lookups(const struct control *ctl)
{
	return ctl->nss_lookups;
}

size_t control_output_pending(const struct control *ctl)
{
	const struct client *c;
	size_t total = 0;
	TAILQ_FOREACH(c, &ctl->clients, entry)
		total += evbuffer_get_length(c->out);
	return total;
}

uid_t client_uid(const struct client *c)
{
	return c->uid;
}

pid_t client_pid(const struct client *c)
{
	return c->pid;
}

bool client_is_admin(const struct client *c)
{
	return c->admin;
}
