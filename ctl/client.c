#include "client.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* A full listen backlog makes a non-blocking connect(2) on a Unix socket fail with EAGAIN
 * rather than wait; retry this often until the deadline. */
#define CONNECT_RETRY_MS 10
#define READ_CHUNK 65536

static int wait_fd(struct ctl_client *c, short events, int64_t deadline_ms);
static int remaining_ms(int64_t deadline_ms);
static int connect_once(struct ctl_client *c, const struct sockaddr_un *sa, int64_t deadline_ms);
static void drop_consumed(struct ctl_client *c);
static int fill(struct ctl_client *c, int64_t deadline_ms);

void ctl_client_init(struct ctl_client *c, const sigset_t *wait_mask)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->wait_mask = wait_mask;
}

int ctl_client_connect(struct ctl_client *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int64_t deadline = timeout_ms > 0 ? now_mono_ms() + timeout_ms : 0;
	int fd, e;

	if (ctl_remote_address(path))
		return ctl_remote_connect(c, path, timeout_ms);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	c->fd = fd;
	if (connect_once(c, &sa, deadline) < 0) {
		e = errno;
		close(fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	c->path = xstrdup(path);
	return 0;
}

/* 0 once connected, -1 with errno. */
static int connect_once(struct ctl_client *c, const struct sockaddr_un *sa, int64_t deadline_ms)
{
	struct timespec pause = { 0, CONNECT_RETRY_MS * 1000000L };
	socklen_t elen;
	int soerr;

	for (;;) {
		if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return 0;
		if (errno == EINTR && !c->wait_mask)
			continue;
		if (errno == EAGAIN) {
			if (deadline_ms > 0 && now_mono_ms() >= deadline_ms) {
				errno = ETIMEDOUT;
				return -1;
			}
			if (c->wait_mask) {
				if (ppoll(NULL, 0, &pause, c->wait_mask) < 0 && errno == EINTR)
					return -1;
			} else
				nanosleep(&pause, NULL);
			continue;
		}
		if (errno != EINPROGRESS)
			return -1;
		/* Not what Linux does for AF_UNIX, but POSIX allows it. */
		if (wait_fd(c, POLLOUT, deadline_ms) < 0)
			return -1;
		elen = sizeof(soerr);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0)
			return -1;
		if (soerr) {
			errno = soerr;
			return -1;
		}
		return 0;
	}
}

/* poll(2) timeout for a deadline: -1 (none), or what is left, at least 0. */
static int remaining_ms(int64_t deadline_ms)
{
	int64_t left;
	if (deadline_ms <= 0)
		return -1;
	left = deadline_ms - now_mono_ms();
	if (left < 0)
		return 0;
	return left > 3600000 ? 3600000 : (int)left;
}

/* 0 when fd is ready, -1 with errno ETIMEDOUT, EINTR (only with wait_mask) or another error.
 * Without a wait mask EINTR is retried: a signal the caller did not arrange to catch has its
 * default effect anyway. */
static int wait_fd(struct ctl_client *c, short events, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	struct timespec ts, *tsp;
	int r, ms;

	for (;;) {
		ms = remaining_ms(deadline_ms);
		if (c->wait_mask) {
			tsp = NULL;
			if (ms >= 0) {
				ts.tv_sec = ms / 1000;
				ts.tv_nsec = (long)(ms % 1000) * 1000000L;
				tsp = &ts;
			}
			r = ppoll(&pfd, 1, tsp, c->wait_mask);
		} else
			r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR || c->wait_mask)
			return -1;
	}
}

enum ctl_io ctl_client_send(struct ctl_client *c, const char *data, size_t len, int64_t deadline_ms)
{
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(c, POLLOUT, deadline_ms) < 0)
				return CTL_IO_ERR;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return CTL_IO_EOF;
		return CTL_IO_ERR;
	}
	return CTL_IO_OK;
}

static void drop_consumed(struct ctl_client *c)
{
	if (c->consumed == 0)
		return;
	memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
	c->len -= c->consumed;
	c->consumed = 0;
}

/* Read what is available into buf, waiting until the deadline for something.
 * 1 read some, 0 EOF, -1 error with errno. */
static int fill(struct ctl_client *c, int64_t deadline_ms)
{
	ssize_t n;

	if (c->len + READ_CHUNK + 1 > c->cap) {
		if (c->len >= CTL_MAX_LINE) {
			errno = EMSGSIZE;
			return -1;
		}
		c->cap = c->cap ? c->cap * 2 : READ_CHUNK * 2;
		while (c->cap < c->len + READ_CHUNK + 1)
			c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	for (;;) {
		n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n > 0) {
			c->len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		if (wait_fd(c, POLLIN, deadline_ms) < 0)
			return -1;
	}
}

enum ctl_io ctl_client_read_line(struct ctl_client *c, char **line, size_t *len, int64_t deadline_ms)
{
	char *nl;
	int r;

	drop_consumed(c);
	for (;;) {
		nl = c->scanned < c->len ? memchr(c->buf + c->scanned, '\n', c->len - c->scanned) : NULL;
		if (nl) {
			*nl = '\0';
			*line = c->buf;
			*len = (size_t)(nl - c->buf);
			c->consumed = *len + 1;
			c->scanned = 0;
			return CTL_IO_OK;
		}
		c->scanned = c->len;
		if (c->eof) {
			if (c->len == 0)
				return CTL_IO_EOF;
			/* A last line without its newline. */
			c->buf[c->len] = '\0';
			*line = c->buf;
			*len = c->len;
			c->consumed = c->len;
			c->scanned = 0;
			return CTL_IO_OK;
		}
		r = fill(c, deadline_ms);
		if (r < 0) {
			if (errno == ECONNRESET)
				c->eof = true;
			else
				return CTL_IO_ERR;
		} else if (r == 0)
			c->eof = true;
	}
}

void ctl_client_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ctl_remote_reap(c);
	free(c->path);
	c->path = NULL;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = c->consumed = c->scanned = 0;
	c->eof = false;
}
