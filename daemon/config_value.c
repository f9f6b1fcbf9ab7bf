/* The config parser's values: each checked and stored according to its key's type (KT_*):
 * names, paths, files, hooks, durations, numbers, booleans, enums and secrets.  Keys with a
 * syntax of their own (KT_FUNC) are in config_keys_set.c. */
#include "config_impl.h"
#include "job.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CFG_MAX_SECRET   4096

/* Enum fields are written through their offset as an int. */
_Static_assert(sizeof(enum tls_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum candidate_pref) == sizeof(int), "enum size");
_Static_assert(sizeof(enum flavor_hint) == sizeof(int), "enum size");
_Static_assert(sizeof(enum router_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum splitbrain_policy) == sizeof(int), "enum size");

/* ---- small helpers ---- */

static void *field(void *obj, const struct key_def *def)
{
	return (char *)obj + def->off;
}

void cfg_set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

bool cfg_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CFG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* "60s" reads better than "1m" in a range; whole units from 2 up. */
static void fmt_ms(char *buf, size_t len, long long ms)
{
	if (ms >= 2 * 60 * MIN && ms % (60 * MIN) == 0)
		snprintf(buf, len, "%lldh", ms / (60 * MIN));
	else if (ms >= 2 * MIN && ms % MIN == 0)
		snprintf(buf, len, "%lldm", ms / MIN);
	else if (ms >= SEC && ms % SEC == 0)
		snprintf(buf, len, "%llds", ms / SEC);
	else
		snprintf(buf, len, "%lldms", ms);
}

/* DIGITS[.DIGITS][UNIT]: parse_duration_ms() goes through strtod, which would also take
 * "nan", "1e3" or hex. */
static bool duration_syntax_ok(const char *s)
{
	const char *u;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	u = s;
	return !*u || !strcmp(u, "ms") || !strcmp(u, "s") || !strcmp(u, "m") ||
	       !strcmp(u, "min") || !strcmp(u, "h");
}

static void *section_obj(struct parser *p, const struct section *sec)
{
	switch (sec->kind) {
	case SECT_GLOBAL: return p->c;
	case SECT_CLUSTER: return &p->c->clusters[sec->idx];
	case SECT_SERVER: return &p->c->servers[sec->idx];
	case SECT_ROUTER: return &p->c->routers[sec->idx];
	case SECT_HA: return &p->c->ha;
	default: return NULL;
	}
}

/* ---- values by type ---- */

static void apply_duration(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char lo[32], hi[32];
	long long ms;

	fmt_ms(lo, sizeof(lo), def->min);
	fmt_ms(hi, sizeof(hi), def->max);
	if (!duration_syntax_ok(v) || !parse_duration_ms(v, 1, &ms))
		cfg_perr(p, p->line, def->name, "'%s' is not a duration (e.g. 250ms, 2s; between %s and %s)",
			 v, lo, hi);
	else if (ms < def->min || ms > def->max)
		cfg_perr(p, p->line, def->name, "'%s' is out of range (between %s and %s)", v, lo, hi);
	else
		*(int *)field(obj, def) = (int)ms;
}

static void apply_int(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	long long n;

	if (!parse_ll(v, LLONG_MIN, LLONG_MAX, &n))
		cfg_perr(p, p->line, def->name, "'%s' is not a whole number (between %lld and %lld)", v,
			 def->min, def->max);
	else if (n < def->min || n > def->max)
		cfg_perr(p, p->line, def->name, "'%s' is out of range (between %lld and %lld)", v,
			 def->min, def->max);
	else
		*(int *)field(obj, def) = (int)n;
}

static void apply_enum(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char valid[256] = "";
	size_t i, off = 0;
	int idx;

	for (i = 0; def->names[i]; i++) {
		if (!strcmp(v, def->names[i])) {
			idx = (int)i;
			memcpy(field(obj, def), &idx, sizeof(idx));
			return;
		}
	}
	for (i = 0; def->names[i] && off < sizeof(valid); i++)
		off += (size_t)snprintf(valid + off, sizeof(valid) - off, "%s%s",
					i == 0 ? "" : def->names[i + 1] ? ", " : " or ", def->names[i]);
	cfg_perr(p, p->line, def->name, "'%s' is not valid (%s)", v, valid);
}

static bool path_ok(struct parser *p, const struct key_def *def, const char *v)
{
	if (v[0] != '/') {
		cfg_perr(p, p->line, def->name, "'%s' is not an absolute path", v);
		return false;
	}
	if (def->max > 0 && (long long)strlen(v) > def->max) {
		cfg_perr(p, p->line, def->name, "path is too long (at most %lld characters for a "
			 "Unix socket)", def->max);
		return false;
	}
	return true;
}

static void apply_file(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct stat st;

	if (!path_ok(p, def, v))
		return;
	if (stat(v, &st) < 0 || access(v, R_OK) < 0)
		cfg_perr(p, p->line, def->name, "cannot read %s: %s", v, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		cfg_perr(p, p->line, def->name, "%s is not a regular file", v);
	else
		cfg_set_string(field(obj, def), v);
}

/* A hook is checked here with the job runner's own splitter and path check, so that a config
 * that loads is one whose hooks the runner will accept. */
static bool hook_ok(struct parser *p, const char *key, const char *cmd)
{
	char **argv = NULL, why[PATH_MAX + 256];
	int argc = job_split_argv(cmd, &argv);
	bool ok = false;

	if (argc < 0)
		cfg_perr(p, p->line, key, "unterminated double quote");
	else if (argc == 0)
		cfg_perr(p, p->line, key, "empty command");
	else if (argv[0][0] != '/')
		cfg_perr(p, p->line, key, "'%s' is not an absolute path (hooks run without a shell or "
			 "PATH)", argv[0]);
	else if (job_check_path(argv[0], why, sizeof(why)) < 0)
		cfg_perr(p, p->line, key, "%s", why);
	else
		ok = true;
	job_free_argv(argv);
	return ok;
}

static void apply_hook_list(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char ***list = field(obj, def);
	size_t n = 0;

	if (!hook_ok(p, def->name, v))
		return;
	while (*list && (*list)[n])
		n++;
	*list = xrealloc(*list, (n + 2) * sizeof(**list));
	(*list)[n] = xstrdup(v);
	(*list)[n + 1] = NULL;
}

/* password_file, password_env and password are one setting: only one may be used. */
static bool secret_conflict(struct parser *p, const struct section *sec, const struct key_def *def)
{
	const char *suffixes[] = { "_file", "_env", "" };
	size_t base = strlen(def->name), i;
	char *base_name, *other;
	bool conflict = false;

	if (def->type == KT_SECRET_FILE)
		base -= strlen("_file");
	else if (def->type == KT_SECRET_ENV)
		base -= strlen("_env");
	base_name = xasprintf("%.*s", (int)base, def->name);
	for (i = 0; i < ARRAY_LEN(suffixes) && !conflict; i++) {
		int line;
		other = xasprintf("%s%s", base_name, suffixes[i]);
		if (strcmp(other, def->name) && (line = cfg_key_line(sec, other))) {
			cfg_perr(p, p->line, def->name, "conflicts with %s at line %d (use only one of "
				 "%s_file, %s_env and %s)", other, line, base_name, base_name, base_name);
			conflict = true;
		}
		free(other);
	}
	free(base_name);
	return conflict;
}

static void secret_from_file(struct parser *p, struct cfg_secret *sec, const char *key,
			     const char *path)
{
	char *buf;
	size_t n;

	/* Not echoed: people do write the password itself here. */
	if (path[0] != '/') {
		cfg_perr(p, p->line, key, "not an absolute path (give the file that holds the password)");
		return;
	}
	if (!(buf = read_small_file(path, CFG_MAX_SECRET + 1))) {
		cfg_perr(p, p->line, key, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	if (strlen(buf) > CFG_MAX_SECRET) {
		cfg_perr(p, p->line, key, "%s is larger than %d bytes (its first line is the password)",
			 path, CFG_MAX_SECRET);
		free_secret(buf);
		return;
	}
	n = strcspn(buf, "\n");
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		cfg_perr(p, p->line, key, "%s: the first line is empty (it must hold the password)", path);
		free_secret(buf);
		return;
	}
	buf[n] = '\0';
	sec->file = xstrdup(path);
	sec->password = xstrdup(buf);
	wipe(buf, n);
	free(buf);
}

static void secret_from_env(struct parser *p, struct cfg_secret *sec, const char *key,
			    const char *var)
{
	const char *s, *val;

	/* Not echoed: people do write the password itself here. */
	for (s = var; *s; s++) {
		if ((!isalnum((unsigned char)*s) && *s != '_') || isdigit((unsigned char)var[0])) {
			cfg_perr(p, p->line, key, "not an environment variable name (letters, digits and "
				 "'_', not starting with a digit)");
			return;
		}
	}
	if (!(val = getenv(var))) {
		cfg_perr(p, p->line, key, "environment variable %s is not set", var);
		return;
	}
	sec->env = xstrdup(var);
	sec->password = xstrdup(val);
}

static void apply_secret(struct parser *p, struct section *psec, void *obj,
			 const struct key_def *def, const char *v)
{
	struct cfg_secret *sec = field(obj, def);

	if (secret_conflict(p, psec, def))
		return;
	switch (def->type) {
	case KT_SECRET_FILE:
		secret_from_file(p, sec, def->name, v);
		break;
	case KT_SECRET_ENV:
		secret_from_env(p, sec, def->name, v);
		break;
	default:
		/* Never echo the value: it is a password. */
		if (p->file_mode >= 0 && (p->file_mode & 077)) {
			cfg_perr(p, p->line, def->name, "inline password in a file readable by others: "
				 "chmod 600 %s or use %s_file", p->file, def->name);
			return;
		}
		sec->inline_set = true;
		sec->password = xstrdup(v);
		break;
	}
}

void cfg_apply(struct parser *p, struct section *sec, const struct key_def *def,
	       const char *v)
{
	void *obj = section_obj(p, sec);
	bool b;

	switch (def->type) {
	case KT_STRING:
		cfg_set_string(field(obj, def), v);
		break;
	case KT_NAME:
		if (!cfg_valid_name(v))
			cfg_perr(p, p->line, def->name, "'%s' is not a valid name (letters, digits, '_', "
				 "'-' and '.', at most %d characters)", v, CFG_NAME_MAX);
		else
			cfg_set_string(field(obj, def), v);
		break;
	case KT_PATH:
		if (path_ok(p, def, v))
			cfg_set_string(field(obj, def), v);
		break;
	case KT_FILE:
		apply_file(p, obj, def, v);
		break;
	case KT_HOOK:
		if (hook_ok(p, def->name, v))
			cfg_set_string(field(obj, def), v);
		break;
	case KT_HOOK_LIST:
		apply_hook_list(p, obj, def, v);
		break;
	case KT_DURATION:
		apply_duration(p, obj, def, v);
		break;
	case KT_INT:
		apply_int(p, obj, def, v);
		break;
	case KT_BOOL:
		if (!parse_bool(v, &b))
			cfg_perr(p, p->line, def->name, "'%s' is not a boolean (yes or no)", v);
		else
			*(bool *)field(obj, def) = b;
		break;
	case KT_ENUM:
		apply_enum(p, obj, def, v);
		break;
	case KT_SECRET_FILE:
	case KT_SECRET_ENV:
	case KT_SECRET_INLINE:
		apply_secret(p, sec, obj, def, v);
		break;
	case KT_FUNC:
		def->set(p, obj, def, v);
		break;
	}
}
