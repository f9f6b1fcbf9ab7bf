#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

static enum log_target target = LOG_TO_STDERR;
static int max_level = LOG_INFO;

static const struct {
	const char *name;
	int prio;
} levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

void log_init(enum log_target t, int max_prio)
{
	target = t;
	max_level = max_prio;
}

void log_set_level(int max_prio)
{
	max_level = max_prio;
}

int log_level_parse(const char *name)
{
	size_t i;
	for (i = 0; i < ARRAY_LEN(levels); i++)
		if (!strcasecmp(name, levels[i].name))
			return levels[i].prio;
	return -1;
}

const char *log_level_name(int prio)
{
	size_t i;
	for (i = 0; i < ARRAY_LEN(levels); i++)
		if (levels[i].prio == prio)
			return levels[i].name;
	return prio < LOG_ERR ? "error" : "debug";
}

static void log_stderr(int prio, const struct log_ctx *ctx, const char *msg)
{
	char ts[32], where[256] = "";
	struct timespec now;
	struct tm tm;
	size_t off = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	if (ctx) {
		if (ctx->cluster)
			off += (size_t)snprintf(where + off, sizeof(where) - off, "%s", ctx->cluster);
		if (ctx->server && off < sizeof(where))
			off += (size_t)snprintf(where + off, sizeof(where) - off, "/%s", ctx->server);
		if (ctx->phase && off < sizeof(where))
			off += (size_t)snprintf(where + off, sizeof(where) - off, " [%s]", ctx->phase);
	}
	fprintf(stderr, "%s.%03ld %-7s %s%s%s\n", ts, (long)(now.tv_nsec / 1000000),
		log_level_name(prio), where, *where ? ": " : "", msg);
}

static void log_journal(int prio, const struct log_ctx *ctx, const char *msg)
{
	/* Only the fields that are set, so `journalctl CUTOVER_SERVER=db2` never matches "". */
	static const char *const names[] = { "CUTOVER_CLUSTER=", "CUTOVER_SERVER=", "CUTOVER_PHASE=", "CUTOVER_ID=" };
	const char *vals[4] = { NULL, NULL, NULL, NULL };
	char *fields[7];
	struct iovec iov[7];
	int n = 0, i;

	if (ctx) {
		vals[0] = ctx->cluster;
		vals[1] = ctx->server;
		vals[2] = ctx->phase;
		vals[3] = ctx->id;
	}
	fields[n++] = xasprintf("MESSAGE=%s", msg);
	fields[n++] = xasprintf("PRIORITY=%d", prio);
	fields[n++] = xstrdup("SYSLOG_IDENTIFIER=cutoverd");
	for (i = 0; i < 4; i++)
		if (vals[i] && *vals[i])
			fields[n++] = xasprintf("%s%s", names[i], vals[i]);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = fields[i];
		iov[i].iov_len = strlen(fields[i]);
	}
	sd_journal_sendv(iov, n);
	for (i = 0; i < n; i++)
		free(fields[i]);
}

void log_ctx(int prio, const struct log_ctx *ctx, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (prio > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (target == LOG_TO_JOURNAL)
		log_journal(prio, ctx, msg);
	else
		log_stderr(prio, ctx, msg);
}
