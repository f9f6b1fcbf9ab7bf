/* systemd glue (after libreswan's pluto_sd.c and pgbouncer).  sd_notify() itself does nothing
 * when NOTIFY_SOCKET is unset, so none of this needs an "are we under systemd" test. */
#include "sdnotify.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

static char last_status[256];
static struct event *watchdog_ev;

static void sd_watchdog_cb(evutil_socket_t fd, short what, void *arg);

void sd_ready(void)
{
	sd_notify(0, "READY=1");
}

void sd_reloading(void)
{
	/* MONOTONIC_USEC lets systemd tell this reload from an older one (systemd >= 253 needs it
	 * for Type=notify-reload; older ones ignore it). */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lld", (long long)now_mono_us());
}

void sd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void sd_status(const char *fmt, ...)
{
	char buf[sizeof(last_status)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The poller may call this every second; the journal of PID 1 need not hear it each time. */
	if (!strcmp(buf, last_status))
		return;
	strlcpy_(last_status, buf, sizeof(last_status));
	sd_notifyf(0, "STATUS=%s", buf);
}

int64_t sd_watchdog_start(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval tv;

	sd_watchdog_stop();
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	tv.tv_sec = (time_t)(usec / 2 / 1000000);
	tv.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	watchdog_ev = event_new(base, -1, EV_PERSIST, sd_watchdog_cb, NULL);
	event_add(watchdog_ev, &tv);
	sd_notify(0, "WATCHDOG=1");
	log_info("systemd watchdog: %llu ms, pinging every %llu ms", (unsigned long long)usec / 1000,
		 (unsigned long long)usec / 2000);
	return (int64_t)(usec / 1000);
}

void sd_watchdog_stop(void)
{
	if (watchdog_ev) {
		event_free(watchdog_ev);
		watchdog_ev = NULL;
	}
}

static void sd_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

int sd_listen_socket(const char *path)
{
	int n = sd_listen_fds(0), fd, found = -1;

	if (n <= 0)
		return -1;
	for (fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		/* Inherited without close-on-exec; hooks close them anyway, but be tidy. */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (found < 0 && path && sd_is_socket_unix(fd, SOCK_STREAM, 1, path, 0) > 0)
			found = fd;
	}
	if (found < 0 && n == 1 &&
	    sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0)
		found = SD_LISTEN_FDS_START;
	if (found < 0) {
		log_warn("systemd passed %d socket(s), none a listening unix stream socket%s%s; "
			 "binding the control socket ourselves", n, path ? " at " : "",
			 path ? path : "");
		return -1;
	}
	evutil_make_socket_nonblocking(found);
	log_info("using the control socket passed by systemd (fd %d)", found);
	return found;
}
