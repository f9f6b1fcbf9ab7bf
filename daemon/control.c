/* The control socket server: listening (binding our own socket or adopting systemd's) and
 * accepting with peer credentials.  The clients are in control_client.c, who is an admin in
 * control_auth.c, the limits on clients and their output in control_budget.c.
 *
 * Decisions worth knowing:
 *  - Mode and group are applied only to a socket we bound ourselves: an inherited (systemd)
 *    socket's permissions belong to its .socket unit.
 */
#include "control_impl.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128
#define ACCEPT_BATCH 16                       /* accepts per wakeup, so one loop turn stays short */
#define ACCEPT_BACKOFF_MS 1000

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int apply_mode_group(const struct control *ctl, char *err, size_t errlen);
static int remove_stale_socket(const char *path, char *err, size_t errlen);
static int bind_socket(struct control *ctl, char *err, size_t errlen);
static int adopt_socket(struct control *ctl, int fd, char *err, size_t errlen);
static void accept_cb(evutil_socket_t fd, short what, void *arg);
static void backoff_cb(evutil_socket_t fd, short what, void *arg);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
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
	TAILQ_INIT(&ctl->waiters);
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
	control_auth_free(ctl);
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
	enum admin_answer answer;
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
		answer = peer_admin(ctl, &cred);
		if (answer == ADMIN_ASK_NSS)
			wait_for_nss(ctl, fd, &cred);
		else
			admit_peer(ctl, fd, &cred, answer == ADMIN_YES);
	}
}

/* A connection whose admin decision is made: a client, or refused when past its share. */
void admit_peer(struct control *ctl, int fd, const struct ucred *cred, bool admin)
{
	if (!admit(ctl, cred, admin)) {
		refuse_busy(ctl, fd, cred);
		return;
	}
	client_new(ctl, fd, cred, admin);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	event_add(ctl->ev_accept, NULL);
}
