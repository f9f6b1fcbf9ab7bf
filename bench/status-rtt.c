/* status-rtt: the round trip of cutoverd's `status` request over its Unix socket, as a client
 * sees it.  N requests spread evenly over a window (so that they sample the daemon while it polls,
 * not a burst), each on a new connection as cutoverctl and socat make one; prints a JSON line
 * with p50/p99/max.
 *
 * Self-contained on purpose (plain sockets, no jansson, no project code): the benchmark builds
 * it with a bare `cc`, and what it measures must not depend on the code it measures.  Blocking
 * calls are fine: one request is in flight at a time and its time is the figure. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPLY (16 * 1024 * 1024)    /* a 99-server status is far smaller */
#define MAX_REQUESTS 1000000

struct opts {
	const char *socket;
	long n;                 /* requests */
	double interval_ms;     /* between request starts; 0 = back to back */
	double timeout_ms;      /* per request */
	bool keep;              /* one connection for every request */
	const char *cluster;    /* args.cluster, NULL = every cluster */
};

/* One connection and what has been read from it beyond the last reply. */
struct conn {
	int fd;                 /* -1 when closed */
	char *buf;              /* owned */
	size_t len, cap;
};

static void usage(void) __attribute__((noreturn));
static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static double parse_num(const char *opt, const char *s, double min, double max);
static void parse_args(int argc, char **argv, struct opts *o);
static int64_t now_us(void);
static void sleep_until_us(int64_t t);
static int conn_open(struct conn *c, const char *path, char *err, size_t errlen);
static void conn_close(struct conn *c);
static int send_all(int fd, const char *p, size_t len, int64_t deadline, char *err, size_t errlen);
static int wait_fd(int fd, short events, int64_t deadline);
static long read_line(struct conn *c, int64_t deadline, char *err, size_t errlen);
static int one_request(struct conn *c, const struct opts *o, const char *req, size_t reqlen,
		       long *reply_bytes, char *err, size_t errlen);
static int cmp_double(const void *a, const void *b);
static double rank(const double *sorted, long n, double pct);

static void usage(void)
{
	fputs("usage: status-rtt -s SOCKET [-n 500] [-i INTERVAL_MS] [-t TIMEOUT_MS] [-k] [-c CLUSTER]\n"
	      "  -n  requests (default 500)\n"
	      "  -i  milliseconds between request starts (default 0: back to back)\n"
	      "  -t  timeout of one request in milliseconds (default 5000)\n"
	      "  -k  keep one connection for every request (default: a new one each)\n"
	      "  -c  ask for this cluster only\n"
	      "Prints {\"requests\",\"ok\",\"errors\",\"p50_ms\",\"p99_ms\",\"max_ms\",\"mean_ms\","
	      "\"reply_bytes\",\"first_error\"}; exit 0 if every request got an ok reply.\n", stderr);
	exit(2);
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	fputs("status-rtt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double parse_num(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		fail("-%s %s: not a number in [%g, %g]", opt, s, min, max);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->n = 500;
	o->timeout_ms = 5000;
	while ((c = getopt(argc, argv, "s:n:i:t:kc:h")) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'n': o->n = (long)parse_num("n", optarg, 1, MAX_REQUESTS); break;
		case 'i': o->interval_ms = parse_num("i", optarg, 0, 3600000); break;
		case 't': o->timeout_ms = parse_num("t", optarg, 1, 3600000); break;
		case 'k': o->keep = true; break;
		case 'c': o->cluster = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !o->socket)
		usage();
	if (strlen(o->socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		fail("-s %s: longer than a Unix socket path can be", o->socket);
	/* The cluster name goes into JSON unescaped: keep it to what config names allow anyway. */
	if (o->cluster && o->cluster[strspn(o->cluster, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0')
		fail("-c %s: only letters, digits, '_', '.' and '-'", o->cluster);
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The schedule is absolute so that a slow reply delays one request, not all that follow. */
static void sleep_until_us(int64_t t)
{
	struct timespec ts;
	ts.tv_sec = t / 1000000;
	ts.tv_nsec = (long)(t % 1000000) * 1000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int conn_open(struct conn *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->len = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "connect %s: %s", path, strerror(errno));
		conn_close(c);
		return -1;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* 0 when readable/writable, -1 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - now_us();
		if (left <= 0)
			return -1;
		rc = poll(&p, 1, (int)((left + 999) / 1000));
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const char *p, size_t len, int64_t deadline, char *err, size_t errlen)
{
	ssize_t w;

	while (len > 0) {
		if (wait_fd(fd, POLLOUT, deadline) < 0) {
			snprintf(err, errlen, "timed out sending the request");
			return -1;
		}
		w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(err, errlen, "send: %s", strerror(errno));
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read until a newline; returns the line's length (newline excluded) at the start of c->buf. */
static long read_line(struct conn *c, int64_t deadline, char *err, size_t errlen)
{
	char *nl;
	ssize_t r;

	for (;;) {
		nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl)
			return nl - c->buf;
		if (c->len == MAX_REPLY) {
			snprintf(err, errlen, "reply longer than %d bytes", MAX_REPLY);
			return -1;
		}
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			if (c->cap > MAX_REPLY)
				c->cap = MAX_REPLY;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				fail("out of memory");
		}
		if (wait_fd(c->fd, POLLIN, deadline) < 0) {
			snprintf(err, errlen, "timed out waiting for the reply (%zu bytes so far)", c->len);
			return -1;
		}
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(err, errlen, "the daemon closed the connection before replying");
			return -1;
		}
		c->len += (size_t)r;
	}
}

/* Connect if needed, send, read the reply line and check that it is an ok reply.  0 or -1. */
static int one_request(struct conn *c, const struct opts *o, const char *req, size_t reqlen,
		       long *reply_bytes, char *err, size_t errlen)
{
	int64_t deadline = now_us() + (int64_t)(o->timeout_ms * 1000);
	long len;
	int rc = 0;

	if (c->fd < 0 && conn_open(c, o->socket, err, errlen) < 0)
		return -1;
	if (send_all(c->fd, req, reqlen, deadline, err, errlen) < 0 ||
	    (len = read_line(c, deadline, err, errlen)) < 0) {
		conn_close(c);
		return -1;
	}
	*reply_bytes = len + 1;
	/* Replies are compact JSON from jansson: matching the members as text is enough here. */
	c->buf[len] = '\0';
	if (!strstr(c->buf, "\"ok\":true") || !strstr(c->buf, "\"clusters\"")) {
		snprintf(err, errlen, "not an ok status reply: %.200s", c->buf);
		rc = -1;
	}
	memmove(c->buf, c->buf + len + 1, c->len - (size_t)len - 1);
	c->len -= (size_t)len + 1;
	if (!o->keep || rc < 0)
		conn_close(c);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double rank(const double *sorted, long n, double pct)
{
	long k = (long)(pct / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conn c = { .fd = -1 };
	char req[256], err[512], first_err[560] = "";
	double *ms, sum = 0;
	long i, ok = 0, errors = 0, bytes = 0, b;
	int64_t start, t0;
	int reqlen;

	parse_args(argc, argv, &o);
	reqlen = o.cluster ? snprintf(req, sizeof(req), "{\"id\":1,\"cmd\":\"status\",\"args\":{\"cluster\":\"%s\"}}\n", o.cluster)
			   : snprintf(req, sizeof(req), "{\"id\":1,\"cmd\":\"status\"}\n");
	if (reqlen < 0 || (size_t)reqlen >= sizeof(req))
		fail("-c %s: too long", o.cluster);
	ms = calloc((size_t)o.n, sizeof(*ms));
	if (!ms)
		fail("out of memory");
	start = now_us();
	for (i = 0; i < o.n; i++) {
		sleep_until_us(start + (int64_t)((double)i * o.interval_ms * 1000));
		t0 = now_us();
		if (one_request(&c, &o, req, (size_t)reqlen, &b, err, sizeof(err)) < 0) {
			if (!errors++)
				snprintf(first_err, sizeof(first_err), "request %ld: %s", i + 1, err);
			continue;
		}
		ms[ok] = (double)(now_us() - t0) / 1000.0;
		sum += ms[ok++];
		bytes = b;
	}
	conn_close(&c);
	free(c.buf);
	qsort(ms, (size_t)ok, sizeof(*ms), cmp_double);
	printf("{\"requests\":%ld,\"ok\":%ld,\"errors\":%ld", o.n, ok, errors);
	if (ok)
		printf(",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"mean_ms\":%.3f",
		       rank(ms, ok, 50), rank(ms, ok, 99), ms[ok - 1], sum / (double)ok);
	else
		printf(",\"p50_ms\":null,\"p99_ms\":null,\"max_ms\":null,\"mean_ms\":null");
	printf(",\"reply_bytes\":%ld,\"first_error\":", bytes);
	if (errors) {
		/* JSON string: the error texts are ours plus strerror and a reply excerpt. */
		putchar('"');
		for (const char *p = first_err; *p; p++) {
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
		putchar('"');
	} else {
		fputs("null", stdout);
	}
	puts("}");
	free(ms);
	return errors ? 1 : 0;
}
