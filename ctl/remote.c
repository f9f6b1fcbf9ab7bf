/* A cutoverd on another machine: the address ssh://[USER@]HOST[:PORT]/PATH.
 *
 * cutoverctl runs ssh(1) with its standard input and output on one end of a socket pair, and
 * on HOST `cutoverctl --socket PATH relay`, which connects to the control socket there and
 * copies bytes both ways.  The protocol is the same line for line; the daemon sees the relay's
 * credentials, that is the user ssh logged in as.  ssh's own messages (host key, refused login)
 * go to our standard error.  $CUTOVER_SSH replaces the ssh command (words split at blanks, e.g.
 * "ssh -F /etc/cutoverd/ssh_config"), $CUTOVER_REMOTE_CTL the remote cutoverctl. */
#include "client.h"
#include "ctl.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REMOTE_PREFIX "ssh://"
#define MAX_ARGS 64

bool ctl_remote_address(const char *addr)
{
	return addr && !strncmp(addr, REMOTE_PREFIX, strlen(REMOTE_PREFIX));
}

/* Split ssh://[USER@]HOST[:PORT]/PATH.  0, or -1 with why. */
int ctl_remote_parse(const char *addr, struct ctl_remote *r, char *why, size_t whylen)
{
	const char *p = addr + strlen(REMOTE_PREFIX), *slash, *at, *colon, *host_end;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (!ctl_remote_address(addr)) {
		snprintf(why, whylen, "not an ssh:// address");
		return -1;
	}
	slash = strchr(p, '/');
	if (!slash || !slash[1]) {
		snprintf(why, whylen, "%s: no socket path after the host (ssh://HOST/run/cutoverd/cutoverd.sock)", addr);
		return -1;
	}
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		n = (size_t)(at - p);
		if (n == 0 || n >= sizeof(r->user)) {
			snprintf(why, whylen, "%s: the user name is empty or too long", addr);
			return -1;
		}
		memcpy(r->user, p, n);
		p = at + 1;
	}
	if (*p == '[') {   /* [IPv6]:port */
		host_end = memchr(p, ']', (size_t)(slash - p));
		if (!host_end) {
			snprintf(why, whylen, "%s: '[' without ']'", addr);
			return -1;
		}
		n = (size_t)(host_end - p - 1);
		if (n < sizeof(r->host))
			memcpy(r->host, p + 1, n);
		colon = host_end + 1 < slash && host_end[1] == ':' ? host_end + 1 : NULL;
		if (!colon && host_end + 1 != slash) {
			snprintf(why, whylen, "%s: only ':PORT' may follow ']'", addr);
			return -1;
		}
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		n = (size_t)((colon ? colon : slash) - p);
		if (n < sizeof(r->host))
			memcpy(r->host, p, n);
	}
	if (!r->host[0] || n >= sizeof(r->host)) {
		snprintf(why, whylen, "%s: the host is empty or too long", addr);
		return -1;
	}
	/* ssh must never take the host or the user for an option */
	if (r->host[0] == '-' || r->user[0] == '-' || strpbrk(r->host, " \t\n") || strpbrk(r->user, " \t\n")) {
		snprintf(why, whylen, "%s: a host or user may not begin with '-' or hold blanks", addr);
		return -1;
	}
	if (colon) {
		char *end;
		long port;
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (end != slash || errno || port < 1 || port > 65535) {
			snprintf(why, whylen, "%s: the port is not a number from 1 to 65535", addr);
			return -1;
		}
		r->port = (int)port;
	}
	if (strlen(slash) >= sizeof(r->path) || strpbrk(slash, "\n")) {
		snprintf(why, whylen, "%s: the socket path is too long or holds a newline", addr);
		return -1;
	}
	snprintf(r->path, sizeof(r->path), "%s", slash);
	return 0;
}

/* s in single quotes for the remote shell ssh hands its command to. */
static char *shell_quote(const char *s)
{
	size_t n = 2, i;
	char *q, *o;

	for (i = 0; s[i]; i++)
		n += s[i] == '\'' ? 4 : 1;
	q = o = xmalloc(n + 1);
	*o++ = '\'';
	for (i = 0; s[i]; i++) {
		if (s[i] == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = s[i];
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/* The ssh command line for r; *words is owned by the caller, as is the returned array. */
static char **ssh_argv(const struct ctl_remote *r, int timeout_ms, char **words, char **remote_cmd)
{
	static char port[16], ctimeout[48];
	const char *ssh = getenv("CUTOVER_SSH"), *rctl = getenv("CUTOVER_REMOTE_CTL");
	char **argv = xcalloc(MAX_ARGS, sizeof(*argv));
	char *save = NULL, *w, *qpath, *qctl;
	int n = 0;

	*words = xstrdup(ssh && *ssh ? ssh : "ssh");
	for (w = strtok_r(*words, " \t", &save); w && n < MAX_ARGS - 16; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = "-T";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	if (timeout_ms > 0) {
		snprintf(ctimeout, sizeof(ctimeout), "ConnectTimeout=%d", (timeout_ms + 999) / 1000);
		argv[n++] = "-o";
		argv[n++] = ctimeout;
	}
	if (r->port) {
		snprintf(port, sizeof(port), "%d", r->port);
		argv[n++] = "-p";
		argv[n++] = port;
	}
	if (r->user[0]) {
		argv[n++] = "-l";
		argv[n++] = (char *)r->user;
	}
	argv[n++] = "--";
	argv[n++] = (char *)r->host;
	qpath = shell_quote(r->path);
	qctl = shell_quote(rctl && *rctl ? rctl : "cutoverctl");
	*remote_cmd = xasprintf("%s --socket %s relay", qctl, qpath);
	free(qpath);
	free(qctl);
	argv[n++] = *remote_cmd;
	argv[n] = NULL;
	return argv;
}

int ctl_remote_connect(struct ctl_client *c, const char *addr, int timeout_ms)
{
	struct ctl_remote r;
	char why[600], *words, *remote_cmd, **argv;
	int sv[2], e;
	pid_t pid;

	if (ctl_remote_parse(addr, &r, why, sizeof(why)) < 0) {
		fprintf(stderr, "cutoverctl: %s\n", why);
		errno = EINVAL;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	argv = ssh_argv(&r, timeout_ms, &words, &remote_cmd);
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		free(argv);
		free(words);
		free(remote_cmd);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		/* ssh reads and writes the pair; SIGPIPE and SIGINT as ssh expects them */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "cutoverctl: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	free(argv);
	free(words);
	free(remote_cmd);
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) < 0) {
		e = errno;
		close(sv[0]);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		errno = e;
		return -1;
	}
	c->fd = sv[0];
	c->pid = pid;
	c->path = xstrdup(addr);
	return 0;
}

/* After the pair is closed ssh sees the end of its input and ends the session; give it a
 * moment, then stop it. */
void ctl_remote_reap(struct ctl_client *c)
{
	int i, status;

	if (c->pid <= 0)
		return;
	for (i = 0; i < 100; i++) {
		pid_t p = waitpid(c->pid, &status, WNOHANG);
		if (p == c->pid || (p < 0 && errno != EINTR))
			goto reaped;
		usleep(10000);
	}
	kill(c->pid, SIGTERM);
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
reaped:
	c->pid = 0;
}

/* ---- the relay: `cutoverctl --socket PATH relay`, ssh's remote command --------------------- */

/* Copy what from can give to to; false at its end or an error. */
static bool pump(int from, int to)
{
	char buf[65536];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	while (off < n) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = to, .events = POLLOUT };
			poll(&p, 1, -1);
			continue;
		}
		if (w <= 0)
			return false;
		off += w;
	}
	return true;
}

static int run_relay(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct ctl_client c;

	(void)cmd;
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "cutoverctl: relay takes no arguments\n");
		return EXIT_USAGE;
	}
	if (ctl_remote_address(opt->socket)) {
		fprintf(stderr, "cutoverctl: relay: --socket must be this machine's socket, not %s\n", opt->socket);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	ctl_client_init(&c, NULL);
	if (ctl_client_connect(&c, opt->socket, opt->timeout_ms) < 0) {
		fprintf(stderr, "cutoverctl: relay: cannot connect to %s: %s\n", opt->socket, strerror(errno));
		return EXIT_UNREACHABLE;
	}
	/* either end closing ends the relay: the far cutoverctl never half-closes */
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = c.fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && !pump(0, c.fd))
			break;
		if (p[1].revents && !pump(c.fd, 1))
			break;
	}
	ctl_client_close(&c);
	return EXIT_OK;
}

const struct ctl_cmd ctl_cmd_relay = {
	.name = "relay", .usage = "",
	.summary = "copy standard input and output to and from --socket (the remote end of an ssh:// address)",
	.run = run_relay,
};
