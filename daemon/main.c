/* cutoverd: watches MySQL/MariaDB replication clusters and moves the primary role.
 * main() parses options, loads the config, binds the control socket and runs one libevent loop. */
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "ha.h"
#include "db.h"
#include "event_hooks.h"
#include "journal.h"
#include "log.h"
#include "offload.h"
#include "metrics.h"
#include "sdnotify.h"
#include "switchover.h"
#include "watchdog.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/cutoverd/cutoverd.conf"

static void usage(FILE *f)
{
	fprintf(f, "usage: cutoverd [-f] [-n] [-v] [-c FILE]\n"
		   "  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		   "  -f         log to stderr even under systemd\n"
		   "  -n         check the configuration and exit (0 clean, 1 errors)\n"
		   "  -v         log at debug level\n"
		   "  -h         this help;  --version  print the version\n");
}

static void print_errors(const char *path, const struct cfg_errors *errs)
{
	char line[1024];
	size_t i;
	for (i = 0; i < errs->n; i++) {
		cfg_error_format(path, &errs->v[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	fprintf(stderr, "cutoverd: %s: %zu error%s\n", path, errs->n, errs->n == 1 ? "" : "s");
}

/* Warnings never stop the daemon: to stderr for -n, else to the log. */
static void print_warnings(const char *path, const struct cfg_errors *w, bool to_log)
{
	char line[1024];
	size_t i;

	for (i = 0; i < w->n; i++) {
		cfg_warning_format(path, &w->v[i], line, sizeof(line));
		if (to_log)
			log_warn("%s", line);
		else
			fprintf(stderr, "%s\n", line);
	}
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char *errors = NULL;
	log_notice("SIGHUP: reloading %s", d->config_path);
	if (daemon_reload(d, &errors) < 0)
		free(errors);   /* already logged */
}

/* A running switchover is never abandoned half-way: before the point of no return it is
 * rolled back, after it it is finished; then the daemon stops.  A second signal stops at once
 * (the journal lets the next start recover). */
static void on_term(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	bool wait = false;
	size_t i;

	sd_stopping();
	if (!d->stopping) {
		d->stopping = true;
		for (i = 0; i < d->n_clusters; i++)
			if (d->clusters[i].cutover && switchover_stop_requested(d->clusters[i].cutover))
				wait = true;
		if (wait) {
			log_notice("signal %d: stopping once the running switchover has ended "
				   "(rolled back before the point of no return, else finished); signal again to stop now",
				   (int)fd);
			return;
		}
	}
	log_notice("signal %d: stopping", (int)fd);
	event_base_loopbreak(d->base);
}

/* mkdir -p for the socket's directory and the state directory. */
static int ensure_dir(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int rc = 0;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static char *dir_of(const char *path)
{
	char *d = xstrdup(path), *slash = strrchr(d, '/');
	if (slash && slash != d)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	return d;
}

/* systemd starts services with a soft limit of 1,024 descriptors and a far higher hard one:
 * clients of the control socket and /metrics must not starve the pollers, so the soft limit
 * goes up to the hard one (at most 65,536). */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_info("descriptors: soft limit raised to %llu", (unsigned long long)want);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	bool check_only = false, force_stderr = false, verbose = false;
	struct cfg_errors errs = { 0 };
	struct daemon d;
	struct config *cfg;
	char err[512];
	int opt, rc = 0;
	size_t i;

	while ((opt = getopt_long(argc, argv, "c:fnvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'f': force_stderr = true; break;
		case 'n': check_only = true; break;
		case 'v': verbose = true; break;
		case 'V': printf("cutoverd %s (API %d)\n", CUTOVER_VERSION, API_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cutoverd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	cfg = config_load(path, &errs);
	if (!cfg) {
		print_errors(path, &errs);
		cfg_errors_free(&errs);
		return 1;
	}
	if (check_only) {
		size_t nw = cfg->warnings.n;
		print_warnings(path, &cfg->warnings, false);
		printf("%s: configuration OK (%zu server%s, %zu router%s, %zu cluster%s)", path, cfg->n_servers,
		       cfg->n_servers == 1 ? "" : "s", cfg->n_routers, cfg->n_routers == 1 ? "" : "s",
		       cfg->n_clusters, cfg->n_clusters == 1 ? "" : "s");
		if (nw)
			printf(", %zu warning%s above", nw, nw == 1 ? "" : "s");
		printf("\n");
		config_free(cfg);
		return 0;
	}

	/* Under systemd (JOURNAL_STREAM set) log to the journal with fields; otherwise stderr. */
	log_init(!force_stderr && getenv("JOURNAL_STREAM") ? LOG_TO_JOURNAL : LOG_TO_STDERR,
		 verbose ? LOG_DEBUG : cfg->log_level);
	print_warnings(path, &cfg->warnings, true);
	signal(SIGPIPE, SIG_IGN);

	memset(&d, 0, sizeof(d));
	d.config_path = xstrdup(path);
	d.started_real_us = now_real_us();
	d.started_mono_us = now_mono_us();
	d.inherited_fd = -1;
	raise_nofile();
	{
		/* epoll's change list: a socket's event dropped and added again within one turn of
		 * the loop (every step of a database call) costs no epoll_ctl.  No descriptor is
		 * dup'ed into the loop, which is what the change list cannot follow. */
		struct event_config *ec = event_config_new();
		if (ec)
			event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		d.base = ec ? event_base_new_with_config(ec) : NULL;
		if (ec)
			event_config_free(ec);
	}
	if (!d.base) {
		fprintf(stderr, "cutoverd: cannot create the event loop\n");
		return 1;
	}
	if (ensure_dir(cfg->state_dir, 0750) < 0) {
		log_err("cannot create state directory %s: %s", cfg->state_dir, strerror(errno));
		return 1;
	}
	if (daemon_setup(&d, cfg, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return 1;
	}
	{
		char *sockdir = dir_of(cfg->socket_path);
		struct control_opts o = {
			.path = cfg->socket_path, .mode = cfg->socket_mode, .gid = cfg->socket_gid,
			.max_clients = cfg->max_clients, .idle_timeout_ms = cfg->idle_timeout_ms,
			.admin_uids = cfg->admin_uids, .n_admin_uids = cfg->n_admin_uids,
			.admin_gids = cfg->admin_gids, .n_admin_gids = cfg->n_admin_gids,
		};
		d.inherited_fd = sd_listen_socket(cfg->socket_path);
		o.inherited_fd = d.inherited_fd;
		if (d.inherited_fd < 0)
			(void)ensure_dir(sockdir, 0755);
		free(sockdir);
		d.ctl = control_new(d.base, &o, api_dispatch, &d, err, sizeof(err));
		if (!d.ctl) {
			log_err("control socket: %s", err);
			return 1;
		}
	}
	metrics_start(&d);
	d.sig_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	d.sig_term = evsignal_new(d.base, SIGTERM, on_term, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, on_term, &d);
	evsignal_add(d.sig_hup, NULL);
	evsignal_add(d.sig_term, NULL);
	evsignal_add(d.sig_int, NULL);
	sd_watchdog_start(d.base);
	d.ha = ha_start(&d, err, sizeof(err));
	if (!d.ha && cfg->ha.on) {
		log_err("[ha]: %s", err);
		return 1;
	}
	/* each journal read once: what the watchdog knows, and (without [ha]; with it, the member
	 * that becomes leader does it, ha_journal.c) the interrupted work */
	for (i = 0; i < d.n_clusters; i++) {
		json_t *all = journal_read(cfg->state_dir, d.clusters[i].cfg->name);
		watchdog_load_cluster(&d, &d.clusters[i], all);
		if (!d.ha) {
			json_t *by = journal_by_cutover(all);
			recover_cluster(&d, &d.clusters[i], by);
			json_decref(by);
		}
		json_decref(all);
	}
	poll_start(&d);
	log_notice("cutoverd %s started: %zu server%s in %zu cluster%s, socket %s%s", CUTOVER_VERSION, d.n_servers,
		   d.n_servers == 1 ? "" : "s", d.n_clusters, d.n_clusters == 1 ? "" : "s", cfg->socket_path,
		   d.inherited_fd >= 0 ? " (from systemd)" : "");

	if (event_base_dispatch(d.base) < 0)
		rc = 1;

	poll_stop(&d);
	ha_replies_flush(&d);
	ha_free(d.ha);
	d.ha = NULL;
	metrics_stop();
	event_hooks_stop();
	control_free(d.ctl);
	event_free(d.sig_hup);
	event_free(d.sig_term);
	event_free(d.sig_int);
	daemon_teardown(&d);
	sd_watchdog_stop();
	offload_shutdown();
	db_shutdown();
	event_base_free(d.base);
	free(d.config_path);
	log_notice("stopped");
	return rc;
}
