#include "args.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* How an option's value is read and checked. */
enum opt_kind {
	OK_FLAG,        /* no value */
	OK_NAME,        /* a cluster or server name: non-empty UTF-8 */
	OK_DURATION,    /* "250", "250ms", "2s", "1m": milliseconds */
	OK_COUNT,       /* a positive integer */
	OK_PHASE,       /* one of args_pause_phases */
	OK_TEXT,        /* a non-empty string the daemon checks (steps, gates) */
};

struct opt_def {
	const char *name;       /* the long name, without "--" */
	char short_name;        /* 0: none */
	unsigned bit;           /* CO_* */
	enum opt_kind kind;
	const char *metavar;    /* for the list of accepted options */
};

static const struct opt_def opt_defs[] = {
	{ "cluster", 'C', CO_CLUSTER, OK_NAME, "NAME" },
	{ "to", 0, CO_TO, OK_NAME, "NAME" },
	{ "dry-run", 0, CO_DRY_RUN, OK_FLAG, NULL },
	{ "max-lag", 0, CO_MAX_LAG, OK_DURATION, "MS" },
	{ "drain-timeout", 0, CO_DRAIN_TIMEOUT, OK_DURATION, "MS" },
	{ "sync-timeout", 0, CO_SYNC_TIMEOUT, OK_DURATION, "MS" },
	{ "no-reverse", 0, CO_NO_REVERSE, OK_FLAG, NULL },
	{ "pause-before", 0, CO_PAUSE_BEFORE, OK_PHASE, "PHASE" },
	{ "pause-timeout", 0, CO_PAUSE_TIMEOUT, OK_DURATION, "DURATION" },
	{ "allow-unreachable", 0, CO_ALLOW_UNREACHABLE, OK_FLAG, NULL },
	{ "allow-older-replicas", 0, CO_ALLOW_OLDER, OK_FLAG, NULL },
	{ "assume-fenced", 0, CO_ASSUME_FENCED, OK_FLAG, NULL },
	{ "without-routers", 0, CO_WITHOUT_ROUTERS, OK_FLAG, NULL },
	{ "kill-long-transactions", 0, CO_KILL_LONG, OK_DURATION, "AGE" },
	{ "force", 0, CO_FORCE, OK_FLAG, NULL },
	{ "yes", 'y', CO_YES, OK_FLAG, NULL },
	{ "limit", 0, CO_LIMIT, OK_COUNT, "N" },
	{ "steps", 0, CO_STEPS, OK_TEXT, "LIST" },
	{ "hold", 0, CO_HOLD, OK_DURATION, "DURATION" },
	{ "gate", 0, CO_GATE, OK_TEXT, "LIST" },
	{ "router", 0, CO_ROUTER, OK_NAME, "NAME" },
	{ "help", 'h', CO_HELP, OK_FLAG, NULL },
	{ NULL, 0, 0, OK_FLAG, NULL },
};

/* Options that belong before the command; named in the error so the fix is obvious. */
static const struct {
	const char *name;
	char short_name;
} global_opts[] = {
	{ "socket", 's' }, { "json", 'j' }, { "timeout", 't' }, { "version", 'V' },
};

const char *const args_pause_phases[] = { "drain", "catchup", "fence", "sync", "promote", NULL };

/* One parse: where messages go and what they are about. */
struct parser {
	const char *cmd;
	unsigned allowed;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const struct opt_def *find_long(const char *name, size_t len);
static const struct opt_def *find_short(char c);
static int unknown_option(struct parser *p, const char *word, const char *name, size_t len, char c);
static void accepted_list(const struct parser *p, char *buf, size_t len);
static int take(struct parser *p, const struct opt_def *d, const char *shown, const char *value,
		struct cmd_args *a);
static int take_name(struct parser *p, const struct opt_def *d, const char *shown, const char *value,
		     struct cmd_args *a);
static int take_duration(struct parser *p, const struct opt_def *d, const char *shown,
			 const char *value, struct cmd_args *a);
static bool is_pause_phase(const char *s);
static int positional(struct parser *p, const char *word, struct cmd_args *a);

int args_parse(const char *cmd, unsigned allowed, int argc, char **argv, const char *global_cluster,
	       struct cmd_args *a, char *err, size_t errlen)
{
	struct parser p = { cmd, allowed | CO_HELP, err, errlen };
	const struct opt_def *d;
	const char *word, *name, *eq, *value;
	char shown[64];
	int i;

	memset(a, 0, sizeof(*a));
	a->max_lag_ms = a->drain_timeout_ms = a->sync_timeout_ms = a->kill_long_after_ms = a->limit = a->hold_ms = -1;
	a->pause_timeout_ms = -1;
	if (err && errlen)
		err[0] = '\0';
	for (i = 0; i < argc; i++) {
		word = argv[i];
		if (!strcmp(word, "--")) {
			/* Everything after it is a name, even one that starts with '-'. */
			while (++i < argc)
				if (positional(&p, argv[i], a) < 0)
					return -1;
			break;
		}
		if (word[0] != '-' || word[1] == '\0') {
			if (positional(&p, word, a) < 0)
				return -1;
			continue;
		}
		value = NULL;
		if (word[1] == '-') {
			name = word + 2;
			eq = strchr(name, '=');
			d = find_long(name, eq ? (size_t)(eq - name) : strlen(name));
			if (!d || !(p.allowed & d->bit))
				return unknown_option(&p, word, name, eq ? (size_t)(eq - name) : strlen(name), 0);
			snprintf(shown, sizeof(shown), "--%s", d->name);
			if (eq) {
				if (d->kind == OK_FLAG)
					return fail(&p, "%s takes no value ('%s' given)", shown, word);
				value = eq + 1;
			}
		} else {
			d = find_short(word[1]);
			if (!d || !(p.allowed & d->bit))
				return unknown_option(&p, word, NULL, 0, word[1]);
			snprintf(shown, sizeof(shown), "-%c", d->short_name);
			if (word[2] != '\0') {
				if (d->kind == OK_FLAG)
					return fail(&p, "unknown option %s (options are given one per word)", word);
				value = word + 2;
			}
		}
		if (d->kind != OK_FLAG && !value) {
			if (i + 1 >= argc)
				return fail(&p, "%s needs a value", shown);
			/* "--to --dry-run" is a forgotten value, not a server called "--dry-run". */
			if (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0')
				return fail(&p, "%s needs a value (got the option %s; write %s=VALUE for a "
					    "value that starts with '-')", shown, argv[i + 1], shown);
			value = argv[++i];
		}
		if (d->bit != CO_HELP && (a->given & d->bit))
			return fail(&p, "%s given twice", shown);
		a->given |= d->bit;
		if (take(&p, d, shown, value, a) < 0)
			return -1;
		if (a->help)
			return 0;
	}
	if (global_cluster) {
		if (!(p.allowed & CO_CLUSTER))
			return fail(&p, "--cluster does not apply to %s", cmd);
		if (a->cluster && strcmp(a->cluster, global_cluster))
			return fail(&p, "--cluster %s before the command and --cluster %s after it name "
				    "different clusters", global_cluster, a->cluster);
		if (!a->cluster && take_name(&p, find_long("cluster", 7), "--cluster", global_cluster, a) < 0)
			return -1;
		a->given |= CO_CLUSTER;
	}
	if ((p.allowed & CO_SERVER) && !a->server)
		return fail(&p, "which server? (cutoverctl %s NAME)", cmd);
	return 0;
}

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s: ", p->cmd);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct opt_def *find_long(const char *name, size_t len)
{
	const struct opt_def *d;
	for (d = opt_defs; d->name; d++)
		if (strlen(d->name) == len && !strncmp(d->name, name, len))
			return d;
	return NULL;
}

static const struct opt_def *find_short(char c)
{
	const struct opt_def *d;
	for (d = opt_defs; d->name; d++)
		if (d->short_name && d->short_name == c)
			return d;
	return NULL;
}

/* Say why: a global option in the wrong place, an option of another command, or a typo. */
static int unknown_option(struct parser *p, const char *word, const char *name, size_t len, char c)
{
	const struct opt_def *d = name ? find_long(name, len) : find_short(c);
	char list[512];
	size_t i;

	for (i = 0; i < ARRAY_LEN(global_opts); i++) {
		if ((name && strlen(global_opts[i].name) == len && !strncmp(global_opts[i].name, name, len)) ||
		    (!name && c == global_opts[i].short_name))
			return fail(p, "%s is a global option: put it before the command "
				    "(cutoverctl %s %s ...)", word, word, p->cmd);
	}
	accepted_list(p, list, sizeof(list));
	if (d)
		return fail(p, "%s does not apply to %s (it takes %s)", word, p->cmd, list);
	return fail(p, "unknown option %s (it takes %s)", word, list);
}

static void accepted_list(const struct parser *p, char *buf, size_t len)
{
	const struct opt_def *d;
	size_t off = 0;
	int n;

	buf[0] = '\0';
	for (d = opt_defs; d->name; d++) {
		if (!(p->allowed & d->bit) || d->bit == CO_HELP)
			continue;
		n = snprintf(buf + off, len - off, "%s--%s%s%s", off ? ", " : "", d->name,
			     d->metavar ? " " : "", d->metavar ? d->metavar : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (!off)
		snprintf(buf, len, "no options");
}

static int take(struct parser *p, const struct opt_def *d, const char *shown, const char *value,
		struct cmd_args *a)
{
	long long n;

	switch (d->kind) {
	case OK_FLAG:
		if (d->bit == CO_DRY_RUN)
			a->dry_run = true;
		else if (d->bit == CO_NO_REVERSE)
			a->no_reverse = true;
		else if (d->bit == CO_ALLOW_UNREACHABLE)
			a->allow_unreachable = true;
		else if (d->bit == CO_ALLOW_OLDER)
			a->allow_older_replicas = true;
		else if (d->bit == CO_ASSUME_FENCED)
			a->assume_fenced = true;
		else if (d->bit == CO_WITHOUT_ROUTERS)
			a->without_routers = true;
		else if (d->bit == CO_FORCE)
			a->force = true;
		else if (d->bit == CO_YES)
			a->yes = true;
		else if (d->bit == CO_HELP)
			a->help = true;
		return 0;
	case OK_NAME:
		return take_name(p, d, shown, value, a);
	case OK_DURATION:
		return take_duration(p, d, shown, value, a);
	case OK_COUNT:
		if (!parse_ll(value, 1, ARGS_MAX_LIMIT, &n))
			return fail(p, "%s %s: not a whole number from 1 to %lld", shown, value,
				    ARGS_MAX_LIMIT);
		a->limit = n;
		return 0;
	case OK_TEXT:
		if (!*value)
			return fail(p, "%s: empty", shown);
		if (d->bit == CO_STEPS)
			a->steps = value;
		else
			a->gate = value;
		return 0;
	case OK_PHASE:
		if (!is_pause_phase(value))
			return fail(p, "%s %s: not a phase a switchover can pause before (drain, "
				    "catchup, fence, sync, promote)", shown, value);
		a->pause_before = value;
		return 0;
	}
	return fail(p, "%s: internal error (unknown option kind)", shown);
}

static int take_name(struct parser *p, const struct opt_def *d, const char *shown, const char *value,
		     struct cmd_args *a)
{
	/* jansson refuses invalid UTF-8: find it now rather than when building the request. */
	json_t *probe = *value ? json_string(value) : NULL;

	if (!probe)
		return fail(p, "%s '%s': not a %s name (empty or not UTF-8)", shown, value,
			    d->bit == CO_TO ? "server" : "cluster");
	json_decref(probe);
	if (d->bit == CO_TO)
		a->to = value;
	else if (d->bit == CO_ROUTER)
		a->router = value;
	else
		a->cluster = value;
	return 0;
}

static int take_duration(struct parser *p, const struct opt_def *d, const char *shown,
			 const char *value, struct cmd_args *a)
{
	long long ms;

	if (!parse_duration_ms(value, 1, &ms))
		return fail(p, "%s %s: not a duration (milliseconds, or with a unit: 250ms, 2s, 1m)",
			    shown, value);
	if (ms > ARGS_MAX_DURATION_MS)
		return fail(p, "%s %s: more than a day", shown, value);
	if (d->bit == CO_SYNC_TIMEOUT && ms == 0)
		return fail(p, "%s must be more than 0 (the new primary needs some time to apply the "
			    "last transactions)", shown);
	if (d->bit == CO_KILL_LONG && ms == 0)
		return fail(p, "%s must be more than 0 (it kills write statements older than this)", shown);
	if (d->bit == CO_PAUSE_TIMEOUT && ms < 1000)
		return fail(p, "%s %s: at least 1s (a paused switchover rolls back after this)", shown, value);
	if (d->bit == CO_MAX_LAG)
		a->max_lag_ms = ms;
	else if (d->bit == CO_DRAIN_TIMEOUT)
		a->drain_timeout_ms = ms;
	else if (d->bit == CO_KILL_LONG)
		a->kill_long_after_ms = ms;
	else if (d->bit == CO_PAUSE_TIMEOUT)
		a->pause_timeout_ms = ms;
	else if (d->bit == CO_HOLD)
		a->hold_ms = ms;
	else
		a->sync_timeout_ms = ms;
	return 0;
}

static bool is_pause_phase(const char *s)
{
	const char *const *ph;
	for (ph = args_pause_phases; *ph; ph++)
		if (!strcmp(*ph, s))
			return true;
	return false;
}

/* A word that is not an option: the server of fence, unfence and stonith, else a mistake
 * whose message says how the thing it probably names is given. */
static int positional(struct parser *p, const char *word, struct cmd_args *a)
{
	json_t *probe;

	if (p->allowed & CO_SERVER) {
		if (a->server)
			return fail(p, "one server at a time ('%s' and '%s' given)", a->server, word);
		probe = *word ? json_string(word) : NULL;
		if (!probe)
			return fail(p, "'%s': not a server name (empty or not UTF-8)", word);
		json_decref(probe);
		a->server = word;
		a->given |= CO_SERVER;
		return 0;
	}
	if (p->allowed & CO_TO)
		return fail(p, "unexpected argument '%s' (the candidate is given with --to %s, the "
			    "cluster with --cluster)", word, word);
	if (p->allowed & CO_CLUSTER)
		return fail(p, "unexpected argument '%s' (give the cluster with --cluster %s)", word, word);
	return fail(p, "unexpected argument '%s'", word);
}

json_t *args_to_json(const struct cmd_args *a)
{
	json_t *o = json_object();

	if (a->cluster)
		json_object_set_new(o, "cluster", json_string(a->cluster));
	if (a->to)
		json_object_set_new(o, "to", json_string(a->to));
	if (a->dry_run)
		json_object_set_new(o, "dry_run", json_true());
	if (a->max_lag_ms >= 0)
		json_object_set_new(o, "max_lag_ms", json_integer(a->max_lag_ms));
	if (a->drain_timeout_ms >= 0)
		json_object_set_new(o, "drain_timeout_ms", json_integer(a->drain_timeout_ms));
	if (a->sync_timeout_ms >= 0)
		json_object_set_new(o, "sync_timeout_ms", json_integer(a->sync_timeout_ms));
	if (a->kill_long_after_ms >= 0)
		json_object_set_new(o, "kill_long_after_ms", json_integer(a->kill_long_after_ms));
	if (a->no_reverse)
		json_object_set_new(o, "reverse", json_false());
	if (a->pause_before)
		json_object_set_new(o, "pause_before", json_string(a->pause_before));
	if (a->pause_timeout_ms >= 0)
		json_object_set_new(o, "pause_timeout_ms", json_integer(a->pause_timeout_ms));
	if (a->allow_unreachable)
		json_object_set_new(o, "allow_unreachable", json_true());
	if (a->allow_older_replicas)
		json_object_set_new(o, "allow_older_replicas", json_true());
	if (a->server)
		json_object_set_new(o, "server", json_string(a->server));
	if (a->assume_fenced)
		json_object_set_new(o, "assume_fenced", json_true());
	if (a->without_routers)
		json_object_set_new(o, "without_routers", json_true());
	if (a->force)
		json_object_set_new(o, "force", json_true());
	if (a->limit >= 0)
		json_object_set_new(o, "limit", json_integer(a->limit));
	if (a->hold_ms >= 0)
		json_object_set_new(o, "hold_ms", json_integer(a->hold_ms));
	if (a->steps)
		json_object_set_new(o, "steps", json_string(a->steps));
	if (a->gate)
		json_object_set_new(o, "gate", json_string(a->gate));
	if (a->router)
		json_object_set_new(o, "router", json_string(a->router));
	return o;
}

bool confirm_name(const char *typed, const char *expected)
{
	const char *end;
	size_t len;

	if (!typed || !expected || !*expected)
		return false;
	while (*typed == ' ' || *typed == '\t')
		typed++;
	len = strlen(typed);
	end = typed + len;
	while (end > typed && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	len = (size_t)(end - typed);
	return len == strlen(expected) && !memcmp(typed, expected, len);
}
