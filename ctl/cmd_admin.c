/* cutoverctl version, config and reload (the daemon itself), and raw (one request line sent
 * as-is). */
#include "ctl.h"
#include "proto.h"
#include "render_impl.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int render_versions(FILE *out, const json_t *result, const struct render_opts *o);
static int run_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv);
static char *raw_request(const char *arg);
static void show_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg);
static void format_uptime(char *buf, size_t len, double s);
static void config_section(FILE *out, const char *kind, const char *name, const json_t *obj,
			   const struct render_opts *o);
static char *config_value(const json_t *v);

const struct ctl_cmd ctl_cmd_version = {
	.name = "version", .api = "version", .usage = "",
	.summary = "cutoverd's and cutoverctl's versions, the daemon's pid and uptime",
	.build = ctl_build_none, .render = render_versions, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_config = {
	.name = "config", .api = "config", .usage = "",
	.build = ctl_build_none, .render = render_config, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_reload = {
	.name = "reload", .api = "reload", .usage = "",
	.build = ctl_build_none, .render = render_reload, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_raw = {
	.name = "raw", .usage = "'JSON' | -",
	.summary = "send one request line as-is (from stdin with -), print the reply",
	.run = run_raw,
};

static int render_versions(FILE *out, const json_t *result, const struct render_opts *o)
{
	if (render_version(out, result, o) < 0)
		return -1;
	fprintf(out, "client   cutoverctl %s (API %d)\n", CUTOVER_VERSION, API_VERSION);
	return 0;
}

int render_version(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *api = jget(result, "api"), *pid = jget(result, "pid");
	const json_t *up = jget(result, "uptime_s");
	char uptime[64], *daemon, *version, *since;

	if (!json_is_object(result))
		return -1;
	daemon = clean(or_q(jstr(result, "daemon")));
	version = clean(or_q(jstr(result, "version")));
	since = clean(or_q(jstr(result, "started_at")));
	fprintf(out, "daemon   %s %s\n", daemon, version);
	if (json_is_integer(api))
		fprintf(out, "api      %lld\n", (long long)json_integer_value(api));
	else
		fputs("api      ?\n", out);
	if (json_is_integer(pid))
		fprintf(out, "pid      %lld\n", (long long)json_integer_value(pid));
	else
		fputs("pid      ?\n", out);
	if (json_is_number(up))
		format_uptime(uptime, sizeof(uptime), json_number_value(up));
	else
		strlcpy_(uptime, "?", sizeof(uptime));
	fprintf(out, "uptime   %s (since %s)\n", uptime, since);
	free(daemon);
	free(version);
	free(since);
	return 0;
}

static void format_uptime(char *buf, size_t len, double s)
{
	long long t, d, h, m, sec;

	/* A century covers every real uptime and keeps the conversion below defined. */
	if (!(s >= 0 && s < 100 * 365.25 * 86400)) {
		snprintf(buf, len, "?");
		return;
	}
	t = (long long)s;
	d = t / 86400;
	h = t / 3600 % 24;
	m = t / 60 % 60;
	sec = t % 60;
	if (d)
		snprintf(buf, len, "%lldd %lldh %lldm", d, h, m);
	else if (h)
		snprintf(buf, len, "%lldh %lldm %llds", h, m, sec);
	else if (m)
		snprintf(buf, len, "%lldm %llds", m, sec);
	else
		snprintf(buf, len, "%.1fs", s);
}

/* The running configuration as its file reads: a [section] per object, "key  value" under
 * it, in the API's names (durations with their _ms).  The daemon redacted the secrets. */
int render_config(FILE *out, const json_t *result, const struct render_opts *o)
{
	static const struct {
		const char *member, *section;
	} lists[] = { { "clusters", "cluster" }, { "servers", "server" }, { "routers", "router" } };
	const json_t *item;
	char *path;
	size_t i, k;

	if (!json_is_object(result))
		return -1;
	path = clean(or_q(jstr(result, "path")));
	fprintf(out, "# %s, as cutoverd runs it (secrets redacted)\n", path);
	free(path);
	if (json_is_object(jget(result, "global")))
		config_section(out, "cutoverd", NULL, jget(result, "global"), o);
	for (k = 0; k < ARRAY_LEN(lists); k++)
		json_array_foreach(jget(result, lists[k].member), i, item)
			config_section(out, lists[k].section, jstr(item, "name"), item, o);
	return 0;
}

static void config_section(FILE *out, const char *kind, const char *name, const json_t *obj,
			   const struct render_opts *o)
{
	const char *key;
	const json_t *v;
	struct table t;
	char *n;

	if (!json_is_object(obj))
		return;
	n = name ? clean(name) : NULL;
	fprintf(out, "\n[%s%s%s]\n", kind, n ? " " : "", n ? n : "");
	free(n);
	table_init(&t, 2, 0);
	json_object_foreach((json_t *)obj, key, v) {
		if (name && !strcmp(key, "name"))
			continue;
		table_row(&t);
		table_set(&t, 0, xstrdup(key), NULL);
		table_set(&t, 1, config_value(v), NULL);
	}
	table_print(out, &t, "  ", o);
	table_free(&t);
}

/* A value as one word or list: null "-", booleans yes/no, lists and maps comma-separated. */
static char *config_value(const json_t *v)
{
	struct sbuf b = { 0 };
	const json_t *e;
	const char *k;
	char *s;
	size_t i;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_null(v))
		return xstrdup("-");
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "yes" : "no");
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%g", json_real_value(v));
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			s = config_value(e);
			sb_printf(&b, "%s%s", i ? ", " : "", s);
			free(s);
		}
	} else if (json_is_object(v)) {
		i = 0;
		json_object_foreach((json_t *)v, k, e) {
			s = config_value(e);
			sb_printf(&b, "%s%s=%s", i++ ? ", " : "", k, s);
			free(s);
		}
	}
	return b.s ? b.s : xstrdup("-");
}

int render_reload(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *errors = jget(result, "errors"), *e;
	char *path;
	size_t i;

	if (!json_is_object(result))
		return -1;
	path = clean(or_q(jstr(result, "path")));
	if (json_is_false(jget(result, "reloaded")))
		fprintf(out, "not reloaded: %s\n", path);
	else
		fprintf(out, "reloaded %s\n", path);
	json_array_foreach(errors, i, e) {
		if (json_is_string(e))
			fprintf(out, "  %s\n", json_string_value(e));
	}
	json_array_foreach(jget(result, "warnings"), i, e) {
		char *w = json_is_string(e) ? clean(json_string_value(e)) : NULL;
		if (w)
			fprintf(out, "  %s\n", w);
		free(w);
	}
	free(path);
	return 0;
}

/* The request line from the argument, or all of stdin for "-" (trailing newlines dropped).
 * NULL when it is empty, or holds a newline or a NUL byte inside: not one protocol line. */
static char *raw_request(const char *arg)
{
	char *buf;
	size_t cap = 4096, len = 0, n;

	if (strcmp(arg, "-")) {
		buf = xstrdup(arg);
		len = strlen(buf);
	} else {
		buf = xmalloc(cap);
		while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
			len += n;
			if (len + 1 == cap)
				buf = xrealloc(buf, cap *= 2);
		}
		buf[len] = '\0';
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || strlen(buf) != len || strchr(buf, '\n')) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int run_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	struct ctl_client c;
	struct reply rep;
	struct xfer x;
	char *req, *line;
	int r;

	/* a request line is a JSON object: "--help" is for us, never for the daemon */
	if (argc >= 1 && ctl_is_help(argv[0])) {
		ctl_command_help(cmd);
		return EXIT_OK;
	}
	if (argc != 1) {
		ctl_usage_error("raw takes exactly one argument: a JSON request line, or - to read it "
				"from stdin");
		return EXIT_USAGE;
	}
	req = raw_request(argv[0]);
	if (!req) {
		ctl_usage_error("raw: the request must be one non-empty line (the protocol is one JSON "
				"object per line)");
		return EXIT_USAGE;
	}
	line = xasprintf("%s\n", req);
	free(req);
	ctl_client_init(&c, NULL);
	r = ctl_transact(&c, cmd, opt, line, strlen(line), show_raw, &rep, &x);
	free(line);
	if (r == EXIT_OK) {
		printf("%s\n", rep.text);
		if (!json_is_true(json_object_get(rep.msg, "ok"))) {
			ctl_print_error(rep.msg);
			r = EXIT_FAILED;
		}
	}
	ctl_reply_free(&rep);
	ctl_client_close(&c);
	return r;
}

static void show_raw(const struct ctl_cmd *cmd, const struct ctl_opts *opt, const char *text,
		     const json_t *msg)
{
	printf("%s\n", text);
	fflush(stdout);
}
