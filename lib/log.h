/* Logging: to stderr in the foreground, to the systemd journal with structured fields otherwise.
 * Every message about a cluster, a server or a switchover passes a struct log_ctx so that
 * `journalctl CUTOVER_CLUSTER=main` or `journalctl CUTOVER_ID=…` finds it. */
#ifndef CUTOVER_LOG_H
#define CUTOVER_LOG_H

#include <syslog.h>   /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

struct log_ctx {
	const char *cluster;   /* borrowed, may be NULL */
	const char *server;    /* borrowed, may be NULL */
	const char *phase;     /* borrowed, may be NULL */
	const char *id;        /* switchover id, borrowed, may be NULL */
};

enum log_target { LOG_TO_STDERR, LOG_TO_JOURNAL };

void log_init(enum log_target target, int max_prio);
void log_set_level(int max_prio);
/* "error" | "warning" | "notice" | "info" | "debug" → LOG_*; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int prio);

void log_ctx(int prio, const struct log_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)    log_ctx(LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)   log_ctx(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_ctx(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...)   log_ctx(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...)  log_ctx(LOG_DEBUG, NULL, __VA_ARGS__)

#endif
