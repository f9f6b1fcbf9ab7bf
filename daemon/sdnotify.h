/* The daemon's side of systemd: readiness, reload and stop notifications, STATUS= lines, the
 * watchdog, and the control socket when socket-activated.  Every call is a harmless no-op
 * when not started by systemd (NOTIFY_SOCKET, WATCHDOG_USEC, LISTEN_FDS unset). */
#ifndef CUTOVER_SDNOTIFY_H
#define CUTOVER_SDNOTIFY_H

#include <event2/event.h>
#include <stdint.h>

/* READY=1, at start-up and after every reload. */
void sd_ready(void);
/* RELOADING=1 with MONOTONIC_USEC=now; send sd_ready() when the reload is over. */
void sd_reloading(void);
/* STOPPING=1. */
void sd_stopping(void);
/* STATUS=…, sent only when it differs from the last one sent. */
void sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* If the service has WatchdogSec=, ping WATCHDOG=1 from a timer on `base` at half the
 * interval: sent by the loop itself, so a wedged loop stops the pings and systemd restarts us.
 * Returns the watchdog interval in ms, 0 when there is none. */
int64_t sd_watchdog_start(struct event_base *base);
void sd_watchdog_stop(void);
/* An inherited listening AF_UNIX stream socket bound to `path` (or, when exactly one socket
 * was passed, that one whatever its path), made close-on-exec and non-blocking; -1 if none.
 * The caller must not unlink an inherited socket's path: systemd owns it. */
int sd_listen_socket(const char *path);

#endif
