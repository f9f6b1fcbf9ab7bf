/* cutoverctl move tenant: tenants (schemas or users) to another server through ProxySQL, one
 * batch at a time (tenant.h in the daemon), each tenant's write-blocked time in the report. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char move_help[] =
	"cutoverctl move tenant NAME[:TIER]... --to SERVER [options]\n"
	"options (after the command):\n"
	"  -C, --cluster NAME     the cluster the tenants move from (default: the target's cluster's\n"
	"                         upstream, or the only cluster)\n"
	"  --to NAME              the target: a writable server of another cluster, replicating from the\n"
	"                         primary (required)\n"
	"  --tenants-file PATH    more tenants, one per line: NAME [TIER] ('#' starts a comment)\n"
	"  --by schema|user       what a tenant is: a schema (default) or an application user\n"
	"  --batch N              tenants moved at once (default 1)\n"
	"  --pause DURATION       wait between batches (default 0)\n"
	"  --on-failure stop|continue\n"
	"                         after a batch with a tenant rolled back (default stop)\n"
	"  --tier-order LIST      move tier by tier, e.g. standard,enterprise (every tenant needs a tier)\n"
	"  --max-blocked DURATION a batch whose writes are held longer rolls back (default 5s)\n"
	"  --router NAME          the ProxySQL router (default: the cluster's only one)\n"
	"The target catches up first; then each tenant's writes are held in ProxySQL while the\n"
	"target reaches the source's last position and its rows are\n"
	"counted on both sides; a tenant whose count differs goes back to the source on its own.\n"
	"abort stops after the batch running (rolled back unless it is being released); pause\n"
	"holds before the next batch.\n";

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "move: ");

	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int add_tenant(json_t *list, const char *word, const char *where, char *err, size_t len)
{
	json_t *s = *word && *word != ':' ? json_string(word) : NULL;

	if (!s)
		return bad(err, len, "%s'%s': not a tenant name (NAME or NAME:TIER)", where, word);
	json_array_append_new(list, s);
	return 0;
}

/* --tenants-file: NAME [TIER] per line */
static int read_file(json_t *list, const char *path, char *err, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512], where[600];
	int no = 0;

	if (!f)
		return bad(err, len, "--tenants-file %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *name, *tier, *rest = line, *hash = strchr(line, '#');
		no++;
		if (hash)
			*hash = '\0';
		name = strtok_r(rest, " \t\r\n", &rest);
		if (!name)
			continue;
		tier = strtok_r(NULL, " \t\r\n", &rest);
		if (strtok_r(NULL, " \t\r\n", &rest)) {
			fclose(f);
			return bad(err, len, "%s:%d: NAME [TIER], then nothing", path, no);
		}
		snprintf(where, sizeof(where), "%s:%d: ", path, no);
		{
			char *w = tier ? xasprintf("%s:%s", name, tier) : xstrdup(name);
			int rc = strchr(name, ':') ? bad(err, len, "%sa name with ':' (give the tier as a second word)", where)
						   : add_tenant(list, w, where, err, len);
			free(w);
			if (rc < 0) {
				fclose(f);
				return -1;
			}
		}
	}
	fclose(f);
	return 0;
}

/* An option's value: "--x=v" or the next word. */
static const char *value_of(int argc, char **argv, int *i, const char *name, char *err, size_t len)
{
	const char *eq = strchr(argv[*i], '=');

	if (eq)
		return eq + 1;
	if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1])) {
		bad(err, len, "--%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

static bool opt_is(const char *word, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(word, "--", 2) && !strncmp(word + 2, name, n) && (word[2 + n] == '\0' || word[2 + n] == '=');
}

int ctl_move_parse(int argc, char **argv, const char *global_cluster, json_t *args, char *err, size_t len)
{
	json_t *list = json_array();
	int i;
	long long v;
	const char *val;

	if (argc < 1 || (strcmp(argv[0], "tenant") && strcmp(argv[0], "tenants"))) {
		json_decref(list);
		if (argc >= 1 && ctl_is_help(argv[0]))
			return 1;
		return bad(err, len, "what to move? (cutoverctl move tenant NAME... --to SERVER)");
	}
	if (global_cluster)
		json_object_set_new(args, "cluster", json_string(global_cluster));
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (ctl_is_help(w)) {
			json_decref(list);
			return 1;
		}
		if (w[0] != '-') {
			if (add_tenant(list, w, "", err, len) < 0)
				goto fail;
			continue;
		}
#define VAL(name) do { if (!(val = value_of(argc, argv, &i, name, err, len))) goto fail; } while (0)
		if (opt_is(w, "to")) {
			VAL("to");
			json_object_set_new(args, "to", json_string(val));
		} else if (opt_is(w, "cluster") || !strcmp(w, "-C")) {
			VAL("cluster");
			if (global_cluster && strcmp(global_cluster, val)) {
				bad(err, len, "--cluster %s before the command and --cluster %s after it name different clusters",
				    global_cluster, val);
				goto fail;
			}
			json_object_set_new(args, "cluster", json_string(val));
		} else if (opt_is(w, "router")) {
			VAL("router");
			json_object_set_new(args, "router", json_string(val));
		} else if (opt_is(w, "by")) {
			VAL("by");
			if (strcmp(val, "schema") && strcmp(val, "user")) {
				bad(err, len, "--by %s: schema or user", val);
				goto fail;
			}
			json_object_set_new(args, "by", json_string(val));
		} else if (opt_is(w, "on-failure")) {
			VAL("on-failure");
			if (strcmp(val, "stop") && strcmp(val, "continue")) {
				bad(err, len, "--on-failure %s: stop or continue", val);
				goto fail;
			}
			json_object_set_new(args, "on_failure", json_string(val));
		} else if (opt_is(w, "batch")) {
			VAL("batch");
			if (!parse_ll(val, 1, 10000, &v)) {
				bad(err, len, "--batch %s: a whole number from 1 to 10000", val);
				goto fail;
			}
			json_object_set_new(args, "batch", json_integer(v));
		} else if (opt_is(w, "pause") || opt_is(w, "max-blocked")) {
			bool pause = opt_is(w, "pause");
			VAL(pause ? "pause" : "max-blocked");
			if (!parse_duration_ms(val, 1, &v) || v > 86400000LL || (!pause && v < 1)) {
				bad(err, len, "--%s %s: not a duration (250ms, 2s, 1m)%s", pause ? "pause" : "max-blocked", val,
				    pause ? "" : " above 0");
				goto fail;
			}
			json_object_set_new(args, pause ? "pause_ms" : "max_blocked_ms", json_integer(v));
		} else if (opt_is(w, "tier-order")) {
			char *copy, *rest, *t;
			json_t *order;
			VAL("tier-order");
			order = json_array();
			copy = rest = xstrdup(val);
			while ((t = strsep(&rest, ",")))
				if (*trim(t))
					json_array_append_new(order, json_string(trim(t)));
			free(copy);
			if (!json_array_size(order)) {
				json_decref(order);
				bad(err, len, "--tier-order: empty (e.g. standard,enterprise)");
				goto fail;
			}
			json_object_set_new(args, "tier_order", order);
		} else if (opt_is(w, "tenants-file")) {
			VAL("tenants-file");
			if (read_file(list, val, err, len) < 0)
				goto fail;
		} else {
			bad(err, len, "unknown option %s (it takes --to, --tenants-file, --by, --batch, --pause, --on-failure, "
				      "--tier-order, --max-blocked, --router, --cluster)", w);
			goto fail;
		}
#undef VAL
	}
	if (!json_array_size(list)) {
		bad(err, len, "which tenants? (cutoverctl move tenant NAME... --to SERVER, or --tenants-file)");
		goto fail;
	}
	if (!json_object_get(args, "to")) {
		bad(err, len, "where to? (--to SERVER)");
		goto fail;
	}
	json_object_set_new(args, "tenants", list);
	return 0;
fail:
	json_decref(list);
	return -1;
}

static int build_move(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv, json_t *args)
{
	char err[900];
	int r = ctl_move_parse(argc, argv, opt->cluster, args, err, sizeof(err));

	if (r == 1) {
		ctl_command_help(cmd);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "cutoverctl: %s\nTry 'cutoverctl help move'.\n", err);
		return -1;
	}
	return 0;
}

static int render_move(FILE *out, const json_t *r, const struct render_opts *o)
{
	const json_t *x, *wb = jget(r, "write_blocked");
	size_t i;
	char *target = clean(or_q(jstr(r, "target"))), *st = clean(or_q(jstr(r, "outcome") ?: jstr(r, "state")));

	(void)o;
	fprintf(out, "tenant move to %s: %s — %lld moved, %lld rolled back, %lld skipped, %lld not started\n", target, st,
		(long long)json_integer_value(jget(r, "moved")), (long long)json_integer_value(jget(r, "rolled_back")),
		(long long)json_integer_value(jget(r, "skipped")), (long long)json_integer_value(jget(r, "pending")));
	fprintf(out, "  %-24s %-12s %-12s %5s %12s  %s\n", "TENANT", "TIER", "OUTCOME", "BATCH", "HELD (ms)", "REASON");
	json_array_foreach(jget(r, "tenants"), i, x) {
		char *name = clean(or_q(jstr(x, "name"))), *tier = clean(jstr(x, "tier") ?: "-");
		char *oc = clean(or_q(jstr(x, "outcome"))), *why = clean(jstr(x, "reason") ?: "");
		const json_t *held = jget(x, "write_blocked_ms");
		char hs[32] = "-";
		if (json_is_number(held))
			snprintf(hs, sizeof(hs), "%.1f", json_number_value(held));
		fprintf(out, "  %-24s %-12s %-12s %5lld %12s  %s\n", name, tier, oc, (long long)json_integer_value(jget(x, "batch")),
			hs, why);
		free(name);
		free(tier);
		free(oc);
		free(why);
	}
	if (json_is_object(wb))
		fprintf(out, "  writes held per moved tenant: min %.1f ms, median %.1f ms, p95 %.1f ms, max %.1f ms (%lld tenants)\n",
			json_number_value(jget(wb, "min_ms")), json_number_value(jget(wb, "median_ms")),
			json_number_value(jget(wb, "p95_ms")), json_number_value(jget(wb, "max_ms")),
			(long long)json_integer_value(jget(wb, "tenants")));
	free(target);
	free(st);
	return 0;
}

/* The report is shown whether the move was done or stopped: which tenants moved matters most
 * when it stopped. */
static int run_move(const struct ctl_cmd *cmd, const struct ctl_opts *opt, int argc, char **argv)
{
	json_t *args = json_object();
	struct reply rep;
	struct xfer x;
	int r = build_move(cmd, opt, argc, argv, args);

	if (r != 0) {
		json_decref(args);
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	}
	r = ctl_call(cmd, cmd->api, opt, args, ctl_show_stream, NULL, &rep, &x);
	json_decref(args);
	if (r != EXIT_OK)
		return r;
	if (!opt->json && !json_is_true(json_object_get(rep.msg, "ok")) &&
	    json_is_object(json_object_get(json_object_get(rep.msg, "error"), "report"))) {
		if (x.progress)
			putchar('\n');
		render_move(stdout, json_object_get(json_object_get(rep.msg, "error"), "report"), &opt->ro);
		fflush(stdout);
		ctl_print_error(rep.msg);
		r = EXIT_FAILED;
	} else {
		r = ctl_finish_reply(cmd, opt, &rep);
	}
	ctl_reply_free(&rep);
	return r;
}

const struct ctl_cmd ctl_cmd_move = {
	.name = "move", .api = "move_tenants", .usage = "tenant NAME[:TIER]... --to SERVER [--batch N] [--pause DURATION] "
							"[--on-failure stop|continue] [--tier-order LIST] [--by schema|user] "
							"[--tenants-file PATH] [--max-blocked DURATION] [--router NAME]",
	.help = move_help, .build = build_move, .render = render_move, .stream = render_progress, .run = run_move,
};
