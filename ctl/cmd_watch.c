/* cutoverctl watch: subscribe to the daemon's events and print each as a line until
 * interrupted. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static void show_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		       const json_t *msg);
static void format_ts(char *buf, size_t len, const char *iso);

const struct ctl_cmd ctl_cmd_watch = {
	.name = "watch", .api = "events", .usage = "[CLUSTER]",
	.summary = "print state changes as they happen, until interrupted",
	.build = ctl_build_cluster, .stream = render_event, .run = run_watch,
};

/* Subscribe to events and print them until SIGINT/SIGTERM (exit 0) or the daemon goes away
 * (exit 3). */
static int run_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	sigset_t wait_mask;
	struct ctl_client c;
	struct reply rep;
	struct xfer x;
	json_t *args = json_object();
	char *line;
	size_t len;
	int r;

	r = cmd->build(cmd, opt, argc, argv, args);
	if (r != 0) {
		json_decref(args);
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	}
	line = ctl_request_line(cmd->api, args, &len);
	json_decref(args);
	if (!line)
		return EXIT_FAILED;

	ctl_catch_signals(&wait_mask);
	ctl_client_init(&c, &wait_mask);
	r = ctl_transact(&c, cmd, opt, line, len, show_watch, &rep, &x);
	free(line);
	if (r == EXIT_OK) {
		if (!json_is_true(json_object_get(rep.msg, "ok")))
			r = ctl_finish_reply(cmd, opt, &rep);
		ctl_reply_free(&rep);
	}
	while (r == EXIT_OK) {
		r = ctl_read_message(&c, opt, 0, WAIT_EVENT, cmd->api, &rep);
		if (r != EXIT_OK)
			break;
		show_watch(cmd, opt, rep.text, rep.msg);
		ctl_reply_free(&rep);
		if (fflush(stdout) != 0 || ferror(stdout))
			r = errno == EPIPE ? EXIT_INTERRUPTED : EXIT_FAILED;
	}
	ctl_client_close(&c);
	return r;
}

/* watch: events as lines for people, or the lines as received with --json. */
static void show_watch(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		       const json_t *msg)
{
	if (opt->json) {
		printf("%s\n", text);
		fflush(stdout);
	} else
		ctl_show_stream(cmd, opt, text, msg);
}

int render_event(FILE *out, const json_t *event, const struct render_opts *o)
{
	const char *ts = jstr(event, "ts"), *cluster = jstr(event, "cluster");
	const char *server = jstr(event, "server"), *msg = jstr(event, "message");
	struct sbuf b = { 0 };
	char when[32];
	size_t sl;

	if (!json_is_object(event))
		return -1;
	format_ts(when, sizeof(when), ts);
	sb_add(&b, when);
	if (cluster)
		sb_printf(&b, " %s", cluster);
	if (server)
		sb_printf(&b, " %s", server);
	sb_add(&b, cluster || server ? ": " : " ");
	/* The daemon's messages often start with the server's name already. */
	if (msg && server && (sl = strlen(server)) && !strncmp(msg, server, sl) &&
	    !strncmp(msg + sl, ": ", 2))
		msg += sl + 2;
	if (msg)
		sb_add(&b, msg);
	else {
		const char *type = jstr(event, "type"), *from = jstr(event, "from"), *to = jstr(event, "to");
		sb_add(&b, or_q(type));
		if (from || to)
			sb_printf(&b, " %s " ARROW " %s", or_q(from), or_q(to));
	}
	{
		char *c = clean(b.s);
		fprintf(out, "%s\n", c);
		free(c);
	}
	free(b.s);
	return 0;
}

/* "2026-11-21T13:47:00.123Z" (UTC) → "14:47:00.123" in local time; shown as sent when it does
 * not parse. */
static void format_ts(char *buf, size_t len, const char *iso)
{
	struct tm lt;
	time_t t;
	int ms;

	if (!iso) {
		snprintf(buf, len, "??:??:??.???");
		return;
	}
	if (!parse_iso_utc(iso, &t, &ms) || !localtime_r(&t, &lt)) {
		snprintf(buf, len, "%s", iso);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d", lt.tm_hour, lt.tm_min, lt.tm_sec, ms);
}
