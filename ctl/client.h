/* cutoverctl's side of the control socket: connect with a timeout, send one request line, read
 * reply and stream lines with a deadline.  Blocking is fine here (one request, one person or
 * script waiting), so this is plain poll(2) on a non-blocking socket, no event loop.
 *
 * Names are ctl_client_* because the daemon's control.c already exports client_*, and the
 * unit-test binary links both. */
#ifndef CUTOVER_CTL_CLIENT_H
#define CUTOVER_CTL_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reply of a status with thousands of servers is a few MiB; this only stops a runaway peer
 * from eating all memory. */
#define CTL_MAX_LINE (256u * 1024 * 1024)

struct ctl_client {
	int fd;
	int pid;                  /* the ssh process of an ssh:// address (remote.c), else 0 */
	char *path;               /* owned: the socket path, for messages */
	char *buf;                /* owned: bytes read and not yet returned as lines */
	size_t len;               /* bytes in buf */
	size_t cap;
	size_t consumed;          /* bytes of buf already returned (dropped on the next read) */
	size_t scanned;           /* bytes after `consumed` known to hold no newline */
	bool eof;                 /* the peer closed; report it once the buffer is drained */
	/* When set, waits use ppoll(2) with this mask, so that signals blocked elsewhere (SIGINT
	 * during `watch`) are delivered only while waiting: no race between a flag check and
	 * the wait.  Borrowed. */
	const sigset_t *wait_mask;
};

/* Results of the calls below, besides 0. */
enum ctl_io {
	CTL_IO_OK = 0,
	CTL_IO_EOF = 1,           /* the daemon closed the connection */
	CTL_IO_ERR = -1,          /* errno says why: ETIMEDOUT, EINTR, EMSGSIZE, ECONNRESET, … */
};

/* Prepare c (not connected); wait_mask as described above, NULL for plain poll(2). */
void ctl_client_init(struct ctl_client *c, const sigset_t *wait_mask);
/* Connect to the Unix socket at path within timeout_ms (<= 0: no limit).  0, or -1 with errno
 * (ENOENT, ECONNREFUSED, EACCES, ETIMEDOUT, ENAMETOOLONG, EINTR with a wait mask, …). */
int ctl_client_connect(struct ctl_client *c, const char *path, int timeout_ms);
/* Send len bytes (a request line including its newline) before deadline_ms (monotonic ms from
 * now_mono_ms(); <= 0 = no deadline). */
enum ctl_io ctl_client_send(struct ctl_client *c, const char *data, size_t len, int64_t deadline_ms);
/* Read the next line (newline stripped, NUL-terminated) before deadline_ms.  *line points into
 * the client's buffer and stays valid until the next call.  A final line without a newline
 * before EOF is returned as a line; EOF is reported on the call after. */
enum ctl_io ctl_client_read_line(struct ctl_client *c, char **line, size_t *len, int64_t deadline_ms);
void ctl_client_close(struct ctl_client *c);

/* A cutoverd on another machine (remote.c): ssh://[USER@]HOST[:PORT]/PATH, reached through
 * ssh(1) and `cutoverctl relay` there. */
struct ctl_remote {
	char user[64];
	char host[256];
	int port;                 /* 0: ssh's own default */
	char path[108];
};
bool ctl_remote_address(const char *addr);
int ctl_remote_parse(const char *addr, struct ctl_remote *r, char *why, size_t whylen);
/* Start ssh with c's descriptor on its input and output.  0, or -1 with errno (EINVAL: the
 * address does not parse, and why was printed). */
int ctl_remote_connect(struct ctl_client *c, const char *addr, int timeout_ms);
void ctl_remote_reap(struct ctl_client *c);

#endif
