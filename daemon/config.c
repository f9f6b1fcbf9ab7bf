/* cutoverd.conf: read, checked and turned into a struct config in one place.  See config.h and
 * cutoverd.conf(5).
 *
 * libinih splits "key = value" lines; everything it cannot tell us is done in our line reader,
 * which inih calls once per line before it calls the key handler for that line.  The reader
 * therefore knows the line number (inih's handler does not get it in the Debian build), checks
 * the syntax of every line itself so that every syntax error is reported with its line (inih
 * would only return the first), handles [section] headers (inih does not report sections that
 * have no keys, but an empty [server x] is still a server), strips leading blanks (an indented
 * line would otherwise be a continuation of the previous value) and inline " ;" comments, and
 * refuses lines longer than inih's fixed line buffer instead of letting inih split them.
 *
 * Parsing never stops at the first problem: every error is collected, then the cross-section
 * checks run, and the config is returned only when there were none. */
#include "config.h"
#include "job.h"
#include "log.h"
#include "proto.h"
#include "router.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CFG_MAX_FILE     (1024 * 1024)   /* a config is a few KB; anything bigger is a mistake */
#define CFG_MAX_SECRET   4096
#define CFG_NAME_MAX     63              /* fits struct router_backend.server */
#define CFG_MAP_NAME_MAX 127             /* fits struct router_backend.name */
#define CFG_SUN_MAX      ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define DEFAULT_CLUSTER  "main"
#define DEFAULT_PROXYSQL_ADDRESS "127.0.0.1:6032"
#define SUGGEST_DISTANCE 2

/* Enum fields are written through their offset as an int. */
_Static_assert(sizeof(enum tls_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum candidate_pref) == sizeof(int), "enum size");
_Static_assert(sizeof(enum flavor_hint) == sizeof(int), "enum size");
_Static_assert(sizeof(enum router_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum splitbrain_policy) == sizeof(int), "enum size");
_Static_assert(RSTEP__COUNT == 5, "cfg_router.exec_cmd has 5 slots");

enum sect_kind { SECT_GLOBAL, SECT_CLUSTER, SECT_SERVER, SECT_ROUTER, SECT__COUNT };

enum key_type {
	KT_STRING,       /* any non-empty string */
	KT_NAME,         /* a cluster name */
	KT_PATH,         /* an absolute path (max: length limit, 0 = none) */
	KT_FILE,         /* an absolute path to a readable regular file */
	KT_HOOK,         /* a command whose program is a safe executable */
	KT_HOOK_LIST,    /* the same, repeatable, into a NULL-terminated array */
	KT_DURATION,     /* milliseconds in [min, max] */
	KT_INT,          /* integer in [min, max] */
	KT_BOOL,
	KT_ENUM,         /* index into names */
	KT_SECRET_FILE,  /* struct cfg_secret: read the first line of a file */
	KT_SECRET_ENV,   /* struct cfg_secret: from the environment */
	KT_SECRET_INLINE,/* struct cfg_secret: the value itself */
	KT_FUNC,         /* set() does everything */
};

struct parser;

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;                  /* of the field in the section's object */
	long long min, max;
	const char *const *names;    /* KT_ENUM: NULL-terminated value names */
	void (*set)(struct parser *, void *obj, const struct key_def *, const char *value);
	unsigned routers;            /* router keys: bit mask of the types using it, 0 = all */
};

/* A key seen in a section, for duplicates and for cross-checks that point at its line. */
struct seen_key {
	char *key;
	int line;
};

struct section {
	enum sect_kind kind;
	size_t idx;                  /* into config.clusters/servers/routers */
	int line;
	char *title;                 /* owned: "server db1" */
	struct seen_key *keys;       /* owned */
	size_t n_keys;
};

struct parser {
	struct config *c;
	struct cfg_errors *errs;
	const char *file;            /* borrowed: the name in messages */
	int file_mode;               /* permission bits of the file, -1 for a string */
	const char *pos, *end;       /* the reader's cursor in the text */
	int line;                    /* of the line the reader returned last */
	struct section *sects;       /* owned */
	size_t n_sects;
	long cur;                    /* index into sects, -1 before the first section */
	bool skipping;               /* inside a section that was refused: ignore its keys */
	size_t n_explicit_clusters;  /* clusters[0..n) come from [cluster] sections */
};

static void perr(struct parser *p, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static char *read_line(char *buf, int num, void *arg);
static bool line_content(struct parser *p, const char **sp, const char **ep);
static void section_header(struct parser *p, const char *s, const char *e);
static bool key_line_ok(struct parser *p, const char *s, const char *e);
static int on_key(void *arg, const char *section, const char *name, const char *value);
static void apply(struct parser *p, struct section *sec, const struct key_def *def,
		  const char *value);
static void unknown_key(struct parser *p, const struct section *sec, const char *key);
static void finish(struct parser *p);
static void free_server(struct cfg_server *s);
static void free_router(struct cfg_router *r);
static void free_cluster(struct cfg_cluster *cl);

/* ---- names ---- */

static const char *const sect_names[] = { "cutoverd", "cluster", "server", "router", NULL };
static const char *const tls_names[] = {
	"disabled", "preferred", "required", "verify_ca", "verify_identity", NULL
};
static const char *const candidate_names[] = { "allow", "prefer", "never", NULL };
static const char *const flavor_names[] = { "auto", "mariadb", "mysql", NULL };
static const char *const router_names[] = { "haproxy", "proxysql", "exec", NULL };
static const char *const splitbrain_names[] = { "alert", "fence", "stonith", NULL };

static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n - 1)
		return "unknown";
	return names[v];
}

const char *tls_mode_name(enum tls_mode m)
{
	return name_of(tls_names, ARRAY_LEN(tls_names), (int)m);
}

const char *router_type_name(enum router_type t)
{
	return name_of(router_names, ARRAY_LEN(router_names), (int)t);
}

const char *candidate_name(enum candidate_pref c)
{
	return name_of(candidate_names, ARRAY_LEN(candidate_names), (int)c);
}

const char *splitbrain_name(enum splitbrain_policy p)
{
	return name_of(splitbrain_names, ARRAY_LEN(splitbrain_names), (int)p);
}

/* ---- key tables ---- */

static void set_socket_group(struct parser *, void *, const struct key_def *, const char *);
static void set_socket_mode(struct parser *, void *, const struct key_def *, const char *);
static void set_admin_users(struct parser *, void *, const struct key_def *, const char *);
static void set_admin_groups(struct parser *, void *, const struct key_def *, const char *);
static void set_log_level(struct parser *, void *, const struct key_def *, const char *);
static void set_heartbeat_table(struct parser *, void *, const struct key_def *, const char *);
static void set_host(struct parser *, void *, const struct key_def *, const char *);
static void set_address(struct parser *, void *, const struct key_def *, const char *);
static void set_server_map(struct parser *, void *, const struct key_def *, const char *);
static void set_write_endpoint(struct parser *, void *, const struct key_def *, const char *);
static void set_metrics_address(struct parser *, void *, const struct key_def *, const char *);

#define OFF(st, f) offsetof(struct st, f)
#define DUR(n, st, f, lo, hi) { .name = n, .type = KT_DURATION, .off = OFF(st, f), .min = lo, .max = hi }
#define INT(n, st, f, lo, hi) { .name = n, .type = KT_INT, .off = OFF(st, f), .min = lo, .max = hi }
#define BOOL(n, st, f)        { .name = n, .type = KT_BOOL, .off = OFF(st, f) }
#define ENUM(n, st, f, tab)   { .name = n, .type = KT_ENUM, .off = OFF(st, f), .names = tab }
#define FUNC(n, fn)           { .name = n, .type = KT_FUNC, .set = fn }
#define SECRETS(prefix, st, f, rt) \
	{ .name = prefix "_file", .type = KT_SECRET_FILE, .off = OFF(st, f), .routers = rt }, \
	{ .name = prefix "_env", .type = KT_SECRET_ENV, .off = OFF(st, f), .routers = rt }, \
	{ .name = prefix, .type = KT_SECRET_INLINE, .off = OFF(st, f), .routers = rt }

#define RT(t) (1u << (t))
#define SEC 1000LL
#define MIN (60 * SEC)

static const struct key_def global_keys[] = {
	{ .name = "socket", .type = KT_PATH, .off = OFF(config, socket_path), .max = CFG_SUN_MAX },
	FUNC("socket_group", set_socket_group),
	FUNC("socket_mode", set_socket_mode),
	FUNC("admin_users", set_admin_users),
	FUNC("admin_groups", set_admin_groups),
	DUR("poll_interval", config, poll_interval_ms, 100, 60 * SEC),
	DUR("connect_timeout", config, connect_timeout_ms, 100, 60 * SEC),
	DUR("query_timeout", config, query_timeout_ms, 100, 60 * SEC),
	{ .name = "state_dir", .type = KT_PATH, .off = OFF(config, state_dir) },
	FUNC("log_level", set_log_level),
	INT("max_clients", config, max_clients, 1, 4096),
	DUR("idle_timeout", config, idle_timeout_ms, 1 * SEC, 24 * 60 * MIN),
	FUNC("metrics_address", set_metrics_address),
	{ .name = "event_hook", .type = KT_HOOK_LIST, .off = OFF(config, event_hooks) },
	DUR("event_hook_timeout", config, event_hook_timeout_ms, 100, 10 * MIN),
	INT("event_hook_rate", config, event_hook_rate, 1, 600),
	{ .name = NULL }
};

static const struct key_def cluster_keys[] = {
	DUR("lag_warn", cfg_cluster, lag_warn_ms, 1, 60 * MIN),
	INT("hysteresis", cfg_cluster, hysteresis, 1, 100),
	BOOL("heartbeat", cfg_cluster, heartbeat),
	FUNC("heartbeat_table", set_heartbeat_table),
	{ .name = "repl_user", .type = KT_STRING, .off = OFF(cfg_cluster, repl_user) },
	SECRETS("repl_password", cfg_cluster, repl_secret, 0),
	DUR("max_lag", cfg_cluster, max_lag_ms, 0, 60 * MIN),
	DUR("catchup_lag", cfg_cluster, catchup_lag_ms, 0, 60 * SEC),
	DUR("catchup_timeout", cfg_cluster, catchup_timeout_ms, 100, 60 * MIN),
	DUR("drain_timeout", cfg_cluster, drain_timeout_ms, 100, 10 * MIN),
	DUR("fence_timeout", cfg_cluster, fence_timeout_ms, 100, 10 * MIN),
	DUR("sync_timeout", cfg_cluster, sync_timeout_ms, 100, 10 * MIN),
	DUR("promote_timeout", cfg_cluster, promote_timeout_ms, 100, 10 * MIN),
	BOOL("reverse_replication", cfg_cluster, reverse_replication),
	BOOL("kill_sessions", cfg_cluster, kill_sessions),
	{ .name = "preflight_hook", .type = KT_HOOK_LIST, .off = OFF(cfg_cluster, preflight_hooks) },
	ENUM("split_brain", cfg_cluster, splitbrain, splitbrain_names),
	{ .name = "stonith_hook", .type = KT_HOOK, .off = OFF(cfg_cluster, stonith_hook) },
	{ .name = "fence_hook", .type = KT_HOOK, .off = OFF(cfg_cluster, fence_hook) },
	DUR("hook_timeout", cfg_cluster, hook_timeout_ms, 100, 10 * MIN),
	BOOL("auto_failover", cfg_cluster, auto_failover),
	INT("failover_after", cfg_cluster, failover_after, 1, 100),
	DUR("failover_block", cfg_cluster, failover_block_ms, 0, 7 * 24 * 60 * MIN),
	{ .name = "event_hook", .type = KT_HOOK_LIST, .off = OFF(cfg_cluster, event_hooks) },
	{ .name = NULL }
};

static const struct key_def server_keys[] = {
	{ .name = "cluster", .type = KT_NAME, .off = OFF(cfg_server, cluster) },
	FUNC("host", set_host),
	INT("port", cfg_server, port, 1, 65535),
	{ .name = "socket", .type = KT_PATH, .off = OFF(cfg_server, socket), .max = CFG_SUN_MAX },
	{ .name = "user", .type = KT_STRING, .off = OFF(cfg_server, user) },
	SECRETS("password", cfg_server, secret, 0),
	ENUM("tls_mode", cfg_server, tls_mode, tls_names),
	{ .name = "tls_ca", .type = KT_FILE, .off = OFF(cfg_server, tls_ca) },
	{ .name = "tls_cert", .type = KT_FILE, .off = OFF(cfg_server, tls_cert) },
	{ .name = "tls_key", .type = KT_FILE, .off = OFF(cfg_server, tls_key) },
	ENUM("candidate", cfg_server, candidate, candidate_names),
	ENUM("flavor", cfg_server, flavor, flavor_names),
	{ .name = "stonith_hook", .type = KT_HOOK, .off = OFF(cfg_server, stonith_hook) },
	{ .name = "fence_hook", .type = KT_HOOK, .off = OFF(cfg_server, fence_hook) },
	{ .name = NULL }
};

#define EXEC_KEY(n, step) \
	{ .name = n, .type = KT_HOOK, .off = OFF(cfg_router, exec_cmd[step]), .routers = RT(ROUTER_EXEC) }

static const struct key_def router_keys[] = {
	{ .name = "cluster", .type = KT_NAME, .off = OFF(cfg_router, cluster) },
	ENUM("type", cfg_router, type, router_names),
	{ .name = "address", .type = KT_FUNC, .set = set_address,
	  .routers = RT(ROUTER_HAPROXY) | RT(ROUTER_PROXYSQL) },
	{ .name = "backend", .type = KT_STRING, .off = OFF(cfg_router, backend),
	  .routers = RT(ROUTER_HAPROXY) },
	{ .name = "read_backend", .type = KT_STRING, .off = OFF(cfg_router, read_backend),
	  .routers = RT(ROUTER_HAPROXY) },
	FUNC("server_map", set_server_map),
	DUR("timeout", cfg_router, timeout_ms, 100, 60 * SEC),
	FUNC("write_endpoint", set_write_endpoint),
	{ .name = "user", .type = KT_STRING, .off = OFF(cfg_router, user), .routers = RT(ROUTER_PROXYSQL) },
	SECRETS("password", cfg_router, secret, RT(ROUTER_PROXYSQL)),
	{ .name = "writer_hostgroup", .type = KT_INT, .off = OFF(cfg_router, writer_hostgroup),
	  .min = 0, .max = INT_MAX, .routers = RT(ROUTER_PROXYSQL) },
	{ .name = "reader_hostgroup", .type = KT_INT, .off = OFF(cfg_router, reader_hostgroup),
	  .min = -1, .max = INT_MAX, .routers = RT(ROUTER_PROXYSQL) },
	EXEC_KEY("exec_status", RSTEP_STATUS),
	EXEC_KEY("exec_drain", RSTEP_DRAIN),
	EXEC_KEY("exec_promote", RSTEP_PROMOTE),
	EXEC_KEY("exec_rollback", RSTEP_ROLLBACK),
	EXEC_KEY("exec_finalize", RSTEP_FINALIZE),
	{ .name = NULL }
};

static const struct key_def *const key_tables[SECT__COUNT] = {
	[SECT_GLOBAL] = global_keys,
	[SECT_CLUSTER] = cluster_keys,
	[SECT_SERVER] = server_keys,
	[SECT_ROUTER] = router_keys,
};

static const char *const sect_usage[SECT__COUNT] = {
	[SECT_GLOBAL] = "[cutoverd]",
	[SECT_CLUSTER] = "[cluster NAME]",
	[SECT_SERVER] = "[server NAME]",
	[SECT_ROUTER] = "[router NAME]",
};

static const struct key_def *key_find(enum sect_kind kind, const char *name)
{
	const struct key_def *d;
	for (d = key_tables[kind]; d->name; d++)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* ---- errors ---- */

static void perr(struct parser *p, int line, const char *key, const char *fmt, ...)
{
	struct cfg_errors *e = p->errs;
	struct cfg_error *err;
	va_list ap;

	e->v = xrealloc(e->v, (e->n + 1) * sizeof(*e->v));
	err = &e->v[e->n++];
	err->line = line;
	err->key = xstrdup(key);
	va_start(ap, fmt);
	if (vasprintf(&err->message, fmt, ap) < 0)
		abort();
	va_end(ap);
}

void cfg_errors_free(struct cfg_errors *e)
{
	size_t i;
	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].message);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

void cfg_error_format(const char *file, const struct cfg_error *e, char *buf, size_t len)
{
	char where[64] = "";

	if (!len)
		return;
	if (e->line > 0)
		snprintf(where, sizeof(where), ":%d", e->line);
	snprintf(buf, len, "%s%s: %s%s%s", file ? file : "(config)", where,
		 e->key ? e->key : "", e->key ? ": " : "", e->message ? e->message : "");
}

struct err_order {
	struct cfg_error e;
	size_t seq;
};

static int err_cmp(const void *a, const void *b)
{
	const struct err_order *x = a, *y = b;
	/* Errors not tied to a line go last; otherwise file order, then discovery order. */
	long lx = x->e.line > 0 ? x->e.line : INT_MAX;
	long ly = y->e.line > 0 ? y->e.line : INT_MAX;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Cross-section checks find errors after the per-line ones; people read them in file order. */
static void sort_errors(struct cfg_errors *e)
{
	struct err_order *o;
	size_t i;

	if (e->n < 2)
		return;
	o = xcalloc(e->n, sizeof(*o));
	for (i = 0; i < e->n; i++) {
		o[i].e = e->v[i];
		o[i].seq = i;
	}
	qsort(o, e->n, sizeof(*o), err_cmp);
	for (i = 0; i < e->n; i++)
		e->v[i] = o[i].e;
	free(o);
}

/* ---- small helpers ---- */

static void *field(void *obj, const struct key_def *def)
{
	return (char *)obj + def->off;
}

static void set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static bool valid_name(const char *s)
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

/* Optimal string alignment distance, case-insensitive, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *prev2, *prev, *cur, *t;

	prev2 = xcalloc(lb + 1, sizeof(size_t));
	prev = xcalloc(lb + 1, sizeof(size_t));
	cur = xcalloc(lb + 1, sizeof(size_t));
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			d = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return d;
}

/* The closest of names to s within SUGGEST_DISTANCE, or NULL. */
static const char *closest(const char *s, const char *const *names, size_t *best_d)
{
	const char *best = NULL;
	size_t ls = strlen(s), d;

	for (; *names; names++) {
		size_t ln = strlen(*names);
		if ((ls > ln ? ls - ln : ln - ls) > SUGGEST_DISTANCE)
			continue;
		d = edit_distance(s, *names);
		if (d <= SUGGEST_DISTANCE && d < *best_d) {
			*best_d = d;
			best = *names;
		}
	}
	return best;
}

static const char *closest_key(const char *s, enum sect_kind kind, size_t *best_d)
{
	const char *names[64];
	const struct key_def *d;
	size_t n = 0;

	for (d = key_tables[kind]; d->name && n < ARRAY_LEN(names) - 1; d++)
		names[n++] = d->name;
	names[n] = NULL;
	return closest(s, names, best_d);
}

static struct section *cur_section(struct parser *p)
{
	return p->cur >= 0 ? &p->sects[p->cur] : NULL;
}

static void *section_obj(struct parser *p, const struct section *sec)
{
	switch (sec->kind) {
	case SECT_GLOBAL: return p->c;
	case SECT_CLUSTER: return &p->c->clusters[sec->idx];
	case SECT_SERVER: return &p->c->servers[sec->idx];
	case SECT_ROUTER: return &p->c->routers[sec->idx];
	default: return NULL;
	}
}

static const struct section *find_section(const struct parser *p, enum sect_kind kind, size_t idx)
{
	size_t i;
	for (i = 0; i < p->n_sects; i++)
		if (p->sects[i].kind == kind && p->sects[i].idx == idx)
			return &p->sects[i];
	return NULL;
}

/* The line where key was set in sec, 0 if it was not. */
static int key_line(const struct section *sec, const char *key)
{
	size_t i;
	if (!sec)
		return 0;
	for (i = 0; i < sec->n_keys; i++)
		if (!strcmp(sec->keys[i].key, key))
			return sec->keys[i].line;
	return 0;
}

/* The line of key, or of the section header when the key was not set (a missing key). */
static int key_or_section_line(const struct section *sec, const char *key)
{
	int l = key_line(sec, key);
	return l ? l : sec->line;
}

/* ---- the line reader ---- */

/* inih calls this like fgets.  We hand it only "key = value" lines, cleaned up. */
static char *read_line(char *buf, int num, void *arg)
{
	struct parser *p = arg;
	const char *s, *e, *eol;
	size_t len;

	while (p->pos < p->end) {
		eol = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
		if (!eol)
			eol = p->end;
		s = p->pos;
		e = eol;
		p->pos = eol < p->end ? eol + 1 : eol;
		p->line++;
		if (!line_content(p, &s, &e))
			continue;
		if (*s == '[') {
			section_header(p, s, e);
			continue;
		}
		if (!key_line_ok(p, s, e))
			continue;
		len = (size_t)(e - s);
		if (num < 3 || len > (size_t)num - 2) {
			perr(p, p->line, NULL, "line too long (%zu characters; at most %d after "
			     "removing comments and surrounding blanks)", len, num < 3 ? 0 : num - 2);
			continue;
		}
		memcpy(buf, s, len);
		buf[len] = '\n';
		buf[len + 1] = '\0';
		return buf;
	}
	return NULL;
}

/* Trim blanks and an inline " ;" comment; false for blank and comment lines. */
static bool line_content(struct parser *p, const char **sp, const char **ep)
{
	const char *s = *sp, *e = *ep, *c;

	if (p->line == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (s == e || *s == ';' || *s == '#')
		return false;
	/* Same rule as inih: ';' starts a comment only after a blank. */
	for (c = s + 1; c < e; c++) {
		if (*c == ';' && isspace((unsigned char)c[-1])) {
			e = c;
			break;
		}
	}
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*sp = s;
	*ep = e;
	return s < e;
}

static bool key_line_ok(struct parser *p, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *colon = memchr(s, ':', (size_t)(e - s));
	const char *k;

	if (!eq || (colon && colon < eq)) {
		perr(p, p->line, NULL, "syntax error: expected 'key = value', '[section]' or a "
		     "comment (';' or '#')");
		return false;
	}
	for (k = eq; k > s && isspace((unsigned char)k[-1]); k--)
		;
	if (k == s) {
		perr(p, p->line, NULL, "syntax error: no key before '='");
		return false;
	}
	return true;
}

/* ---- sections ---- */

static size_t add_cluster(struct config *c, const char *name, int line)
{
	struct cfg_cluster *cl;

	c->clusters = xrealloc(c->clusters, (c->n_clusters + 1) * sizeof(*c->clusters));
	cl = &c->clusters[c->n_clusters];
	memset(cl, 0, sizeof(*cl));
	cl->name = xstrdup(name);
	cl->lag_warn_ms = 1000;
	cl->hysteresis = 2;
	cl->heartbeat_table = xstrdup("cutoverd.heartbeat");
	cl->heartbeat = true;
	cl->max_lag_ms = 1000;
	cl->catchup_lag_ms = 20;
	cl->catchup_timeout_ms = 60000;
	cl->drain_timeout_ms = 2000;
	cl->fence_timeout_ms = 2000;
	cl->sync_timeout_ms = 5000;
	cl->promote_timeout_ms = 5000;
	cl->reverse_replication = true;
	cl->kill_sessions = true;
	cl->splitbrain = SB_ALERT;
	cl->hook_timeout_ms = 30000;
	cl->failover_after = 3;
	cl->failover_block_ms = 3600000;
	cl->line = line;
	return c->n_clusters++;
}

static size_t add_server(struct config *c, const char *name, int line)
{
	struct cfg_server *s;

	c->servers = xrealloc(c->servers, (c->n_servers + 1) * sizeof(*c->servers));
	s = &c->servers[c->n_servers];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->cluster = xstrdup(DEFAULT_CLUSTER);
	s->port = 3306;
	s->tls_mode = TLS_DISABLED;
	s->candidate = CAND_ALLOW;
	s->flavor = FLAVOR_HINT_AUTO;
	s->line = line;
	return c->n_servers++;
}

static size_t add_router(struct config *c, const char *name, int line)
{
	struct cfg_router *r;

	c->routers = xrealloc(c->routers, (c->n_routers + 1) * sizeof(*c->routers));
	r = &c->routers[c->n_routers];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->cluster = xstrdup(DEFAULT_CLUSTER);
	r->type = ROUTER_HAPROXY;
	r->writer_hostgroup = -1;
	r->reader_hostgroup = -1;
	r->timeout_ms = 2000;
	r->line = line;
	return c->n_routers++;
}

/* Split "server db1" into its kind and name; false (after an error) if it is not a valid
 * header. */
static bool parse_title(struct parser *p, const char *title, const char *shown,
			enum sect_kind *kind, const char **name)
{
	size_t tl = strcspn(title, " \t"), i, best_d = SIZE_MAX;
	char word[32];
	const char *sugg;

	*name = title + tl;
	while (isspace((unsigned char)**name))
		(*name)++;
	snprintf(word, sizeof(word), "%.*s", (int)(tl < sizeof(word) ? tl : sizeof(word) - 1), title);
	for (i = 0; i < SECT__COUNT; i++)
		if (tl == strlen(sect_names[i]) && !strncmp(title, sect_names[i], tl))
			break;
	if (i == SECT__COUNT) {
		sugg = closest(word, sect_names, &best_d);
		if (sugg)
			perr(p, p->line, shown, "unknown section (did you mean [%s%s%s]?)", sugg,
			     **name ? " " : "", *name);
		else
			perr(p, p->line, shown, "unknown section (expected [cutoverd], [cluster NAME], "
			     "[server NAME] or [router NAME])");
		return false;
	}
	*kind = (enum sect_kind)i;
	if (*kind == SECT_GLOBAL && **name) {
		perr(p, p->line, shown, "[cutoverd] takes no name");
		return false;
	}
	if (*kind != SECT_GLOBAL && !**name) {
		perr(p, p->line, shown, "missing name (e.g. [%s main])", sect_names[i]);
		return false;
	}
	if (*kind != SECT_GLOBAL && !valid_name(*name)) {
		perr(p, p->line, shown, "'%s' is not a valid name (letters, digits, '_', '-' and "
		     "'.', at most %d characters)", *name, CFG_NAME_MAX);
		return false;
	}
	return true;
}

static void section_header(struct parser *p, const char *s, const char *e)
{
	const char *close = memchr(s, ']', (size_t)(e - s)), *name;
	char *title, *shown, *norm;
	enum sect_kind kind;
	struct section *sec;
	size_t i, idx = 0;

	p->skipping = true;   /* until the header proves good */
	if (!close) {
		perr(p, p->line, NULL, "syntax error: '[' without ']'");
		return;
	}
	if (close + 1 != e) {
		perr(p, p->line, NULL, "syntax error: text after ']'");
		return;
	}
	title = xasprintf("%.*s", (int)(close - s - 1), s + 1);
	name = trim(title);
	shown = xasprintf("[%s]", name);
	if (!parse_title(p, name, shown, &kind, &name))
		goto out;
	norm = *name ? xasprintf("%s %s", sect_names[kind], name) : xstrdup(sect_names[kind]);
	for (i = 0; i < p->n_sects; i++) {
		if (!strcmp(p->sects[i].title, norm)) {
			perr(p, p->line, shown, "duplicate section (first at line %d)", p->sects[i].line);
			free(norm);
			goto out;
		}
	}
	switch (kind) {
	case SECT_GLOBAL: break;
	case SECT_CLUSTER:
		idx = add_cluster(p->c, name, p->line);
		p->n_explicit_clusters++;
		break;
	case SECT_SERVER: idx = add_server(p->c, name, p->line); break;
	case SECT_ROUTER: idx = add_router(p->c, name, p->line); break;
	default: break;
	}
	p->sects = xrealloc(p->sects, (p->n_sects + 1) * sizeof(*p->sects));
	sec = &p->sects[p->n_sects];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->idx = idx;
	sec->line = p->line;
	sec->title = norm;
	p->cur = (long)p->n_sects++;
	p->skipping = false;
out:
	free(shown);
	free(title);
}

/* ---- keys ---- */

static int on_key(void *arg, const char *section, const char *name, const char *value)
{
	struct parser *p = arg;
	struct section *sec = cur_section(p);
	const struct key_def *def;
	const unsigned char *v;
	int first;

	if (!sec && !p->skipping) {
		perr(p, p->line, name, "outside any section (put it under [cutoverd], "
		     "[cluster NAME], [server NAME] or [router NAME])");
		return 1;
	}
	if (p->skipping)
		return 1;   /* the section header was refused; one error is enough */
	def = key_find(sec->kind, name);
	if (!def) {
		unknown_key(p, sec, name);
		return 1;
	}
	if (def->type != KT_HOOK_LIST && (first = key_line(sec, name))) {
		perr(p, p->line, name, "duplicate key (first set at line %d)", first);
		return 1;
	}
	sec->keys = xrealloc(sec->keys, (sec->n_keys + 1) * sizeof(*sec->keys));
	sec->keys[sec->n_keys].key = xstrdup(name);
	sec->keys[sec->n_keys++].line = p->line;
	for (v = (const unsigned char *)value; *v; v++) {
		if (*v < 0x20 || *v == 0x7f) {
			perr(p, p->line, name, "control character in value");
			return 1;
		}
	}
	if (!*value) {
		perr(p, p->line, name, "empty value (leave the key out to get the default)");
		return 1;
	}
	apply(p, sec, def, value);
	return 1;
}

static void unknown_key(struct parser *p, const struct section *sec, const char *key)
{
	const char *sugg, *other_sugg = NULL;
	size_t d = SIZE_MAX, od = SIZE_MAX;
	int k, other = -1;

	for (k = 0; k < SECT__COUNT; k++) {
		if (k != (int)sec->kind && key_find((enum sect_kind)k, key)) {
			perr(p, p->line, key, "unknown key in [%s] (it belongs in %s)", sec->title,
			     sect_usage[k]);
			return;
		}
	}
	sugg = closest_key(key, sec->kind, &d);
	if (sugg) {
		perr(p, p->line, key, "unknown key in [%s] (did you mean %s?)", sec->title, sugg);
		return;
	}
	for (k = 0; k < SECT__COUNT; k++) {
		const char *s;
		if (k == (int)sec->kind)
			continue;
		if ((s = closest_key(key, (enum sect_kind)k, &od))) {
			other_sugg = s;
			other = k;
		}
	}
	if (other_sugg)
		perr(p, p->line, key, "unknown key in [%s] (did you mean %s, in %s?)", sec->title,
		     other_sugg, sect_usage[other]);
	else
		perr(p, p->line, key, "unknown key in [%s] (see cutoverd.conf(5) for the keys of %s)",
		     sec->title, sect_usage[sec->kind]);
}

static void apply_duration(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char lo[32], hi[32];
	long long ms;

	fmt_ms(lo, sizeof(lo), def->min);
	fmt_ms(hi, sizeof(hi), def->max);
	if (!duration_syntax_ok(v) || !parse_duration_ms(v, 1, &ms))
		perr(p, p->line, def->name, "'%s' is not a duration (e.g. 250ms, 2s; between %s and %s)",
		     v, lo, hi);
	else if (ms < def->min || ms > def->max)
		perr(p, p->line, def->name, "'%s' is out of range (between %s and %s)", v, lo, hi);
	else
		*(int *)field(obj, def) = (int)ms;
}

static void apply_int(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	long long n;

	if (!parse_ll(v, LLONG_MIN, LLONG_MAX, &n))
		perr(p, p->line, def->name, "'%s' is not a whole number (between %lld and %lld)", v,
		     def->min, def->max);
	else if (n < def->min || n > def->max)
		perr(p, p->line, def->name, "'%s' is out of range (between %lld and %lld)", v,
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
	perr(p, p->line, def->name, "'%s' is not valid (%s)", v, valid);
}

static bool path_ok(struct parser *p, const struct key_def *def, const char *v)
{
	if (v[0] != '/') {
		perr(p, p->line, def->name, "'%s' is not an absolute path", v);
		return false;
	}
	if (def->max > 0 && (long long)strlen(v) > def->max) {
		perr(p, p->line, def->name, "path is too long (at most %lld characters for a "
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
		perr(p, p->line, def->name, "cannot read %s: %s", v, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		perr(p, p->line, def->name, "%s is not a regular file", v);
	else
		set_string(field(obj, def), v);
}

/* A hook is checked here with the job runner's own splitter and path check, so that a config
 * that loads is one whose hooks the runner will accept. */
static bool hook_ok(struct parser *p, const char *key, const char *cmd)
{
	char **argv = NULL, why[PATH_MAX + 256];
	int argc = job_split_argv(cmd, &argv);
	bool ok = false;

	if (argc < 0)
		perr(p, p->line, key, "unterminated double quote");
	else if (argc == 0)
		perr(p, p->line, key, "empty command");
	else if (argv[0][0] != '/')
		perr(p, p->line, key, "'%s' is not an absolute path (hooks run without a shell or "
		     "PATH)", argv[0]);
	else if (job_check_path(argv[0], why, sizeof(why)) < 0)
		perr(p, p->line, key, "%s", why);
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
		if (strcmp(other, def->name) && (line = key_line(sec, other))) {
			perr(p, p->line, def->name, "conflicts with %s at line %d (use only one of "
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
		perr(p, p->line, key, "not an absolute path (give the file that holds the password)");
		return;
	}
	if (!(buf = read_small_file(path, CFG_MAX_SECRET + 1))) {
		perr(p, p->line, key, "cannot read %s: %s", path, strerror(errno));
		return;
	}
	if (strlen(buf) > CFG_MAX_SECRET) {
		perr(p, p->line, key, "%s is larger than %d bytes (its first line is the password)",
		     path, CFG_MAX_SECRET);
		free_secret(buf);
		return;
	}
	n = strcspn(buf, "\n");
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		perr(p, p->line, key, "%s: the first line is empty (it must hold the password)", path);
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
			perr(p, p->line, key, "not an environment variable name (letters, digits and "
			     "'_', not starting with a digit)");
			return;
		}
	}
	if (!(val = getenv(var))) {
		perr(p, p->line, key, "environment variable %s is not set", var);
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
			perr(p, p->line, def->name, "inline password in a file readable by others: "
			     "chmod 600 %s or use %s_file", p->file, def->name);
			return;
		}
		sec->inline_set = true;
		sec->password = xstrdup(v);
		break;
	}
}

static void apply(struct parser *p, struct section *sec, const struct key_def *def,
		  const char *v)
{
	void *obj = section_obj(p, sec);
	bool b;

	switch (def->type) {
	case KT_STRING:
		set_string(field(obj, def), v);
		break;
	case KT_NAME:
		if (!valid_name(v))
			perr(p, p->line, def->name, "'%s' is not a valid name (letters, digits, '_', "
			     "'-' and '.', at most %d characters)", v, CFG_NAME_MAX);
		else
			set_string(field(obj, def), v);
		break;
	case KT_PATH:
		if (path_ok(p, def, v))
			set_string(field(obj, def), v);
		break;
	case KT_FILE:
		apply_file(p, obj, def, v);
		break;
	case KT_HOOK:
		if (hook_ok(p, def->name, v))
			set_string(field(obj, def), v);
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
			perr(p, p->line, def->name, "'%s' is not a boolean (yes or no)", v);
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

/* ---- keys with their own syntax ---- */

static bool lookup_gid(const char *name, gid_t *gid)
{
	struct group *gr;
	long long n;

	if (parse_ll(name, 0, (long long)(gid_t)-2, &n)) {
		*gid = (gid_t)n;
		return true;
	}
	if (!(gr = getgrnam(name)))
		return false;
	*gid = gr->gr_gid;
	return true;
}

static bool lookup_uid(const char *name, uid_t *uid)
{
	struct passwd *pw;
	long long n;

	if (parse_ll(name, 0, (long long)(uid_t)-2, &n)) {
		*uid = (uid_t)n;
		return true;
	}
	if (!(pw = getpwnam(name)))
		return false;
	*uid = pw->pw_uid;
	return true;
}

static void set_socket_group(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	gid_t gid;

	if (!lookup_gid(v, &gid)) {
		perr(p, p->line, def->name, "no such group '%s' (a group name or a numeric gid)", v);
		return;
	}
	set_string(&c->socket_group, v);
	c->socket_gid = gid;
}

static void set_socket_mode(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (!isdigit((unsigned char)*v) || *end || errno || m > 0777)
		perr(p, p->line, def->name, "'%s' is not an octal mode (e.g. 0660; at most 0777)", v);
	else
		c->socket_mode = (unsigned)m;
}

/* "root, alice, 1001": calls one() for each item; false after the first bad one. */
static bool for_each_item(struct parser *p, const char *key, const char *v,
			  bool (*one)(struct parser *, const char *key, const char *item, void *),
			  void *arg)
{
	char *copy = xstrdup(v), *rest = copy, *item;
	bool ok = true;

	while (ok && (item = strsep(&rest, ","))) {
		item = trim(item);
		if (!*item) {
			perr(p, p->line, key, "empty item in the list (items are separated by ',')");
			ok = false;
		} else {
			ok = one(p, key, item, arg);
		}
	}
	free(copy);
	return ok;
}

static bool one_admin_user(struct parser *p, const char *key, const char *item, void *arg)
{
	struct config *c = arg;

	if (c->n_admin_uids == CFG_MAX_IDS) {
		perr(p, p->line, key, "too many users (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_uid(item, &c->admin_uids[c->n_admin_uids])) {
		perr(p, p->line, key, "no such user '%s' (user names or numeric uids, separated by "
		     "',')", item);
		return false;
	}
	c->n_admin_uids++;
	return true;
}

static bool one_admin_group(struct parser *p, const char *key, const char *item, void *arg)
{
	struct config *c = arg;

	if (c->n_admin_gids == CFG_MAX_IDS) {
		perr(p, p->line, key, "too many groups (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_gid(item, &c->admin_gids[c->n_admin_gids])) {
		perr(p, p->line, key, "no such group '%s' (group names or numeric gids, separated "
		     "by ',')", item);
		return false;
	}
	c->n_admin_gids++;
	return true;
}

static void set_admin_users(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_user, c))
		c->n_admin_uids = 0;
}

static void set_admin_groups(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_group, c))
		c->n_admin_gids = 0;
}

static void set_log_level(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	int level = log_level_parse(v);

	if (level < 0)
		perr(p, p->line, def->name, "'%s' is not a log level (error, warning, notice, info "
		     "or debug)", v);
	else
		c->log_level = level;
}

static bool sql_ident_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$')
			return false;
	return true;
}

static void set_heartbeat_table(struct parser *p, void *obj, const struct key_def *def,
				const char *v)
{
	struct cfg_cluster *cl = obj;
	const char *dot = strchr(v, '.');

	if (!dot || !sql_ident_ok(v, (size_t)(dot - v)) || !sql_ident_ok(dot + 1, strlen(dot + 1)))
		perr(p, p->line, def->name, "'%s' is not DATABASE.TABLE (e.g. cutoverd.heartbeat; "
		     "names of letters, digits, '_' and '$', at most 64 each)", v);
	else
		set_string(&cl->heartbeat_table, v);
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

static void set_host(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_server *s = obj;

	if (has_space(v) || v[0] == '/')
		perr(p, p->line, def->name, "'%s' is not a host name or address (use socket = PATH "
		     "for a Unix socket)", v);
	else
		set_string(&s->host, v);
}

/* HOST:PORT, [IPV6]:PORT. */
static bool host_port_ok(const char *v)
{
	const char *colon = strrchr(v, ':');
	long long port;

	if (!colon || colon == v || !parse_ll(colon + 1, 1, 65535, &port))
		return false;
	if (v[0] == '[')
		return colon[-1] == ']' && colon - v > 2;
	return !memchr(v, ':', (size_t)(colon - v));
}

static void set_address(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_router *r = obj;
	const char *path = !strncmp(v, "unix:", 5) ? v + 5 : v;

	if (has_space(v))
		goto bad;
	if (path[0] == '/') {
		if ((int)strlen(path) > CFG_SUN_MAX) {
			perr(p, p->line, def->name, "path is too long (at most %d characters for a "
			     "Unix socket)", CFG_SUN_MAX);
			return;
		}
	} else if (path != v || !host_port_ok(v)) {
		goto bad;
	}
	set_string(&r->address, v);
	return;
bad:
	perr(p, p->line, def->name, "'%s' is not an address (an absolute socket path, "
	     "unix:PATH or HOST:PORT)", v);
}

/* The switchover's probe connects to it with host and port, so no socket and no IPv6 brackets. */
static void set_write_endpoint(struct parser *p, void *obj, const struct key_def *def,
			       const char *v)
{
	struct cfg_router *r = obj;

	if (has_space(v) || v[0] == '[' || v[0] == '/' || !host_port_ok(v))
		perr(p, p->line, def->name, "'%s' is not HOST:PORT (e.g. 10.0.0.5:3306)", v);
	else
		set_string(&r->write_endpoint, v);
}

/* ADDRESS:PORT or [ADDRESS]:PORT with a numeric address: the listener binds it from the loop,
 * where a DNS lookup could block. */
static void set_metrics_address(struct parser *p, void *obj, const struct key_def *def,
				const char *v)
{
	struct config *c = obj;
	const char *colon = strrchr(v, ':'), *h = v;
	unsigned char addr[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN + 1];
	int family = AF_INET;
	long long port;
	size_t hl;

	if (!colon || !parse_ll(colon + 1, 1, 65535, &port))
		goto bad;
	hl = (size_t)(colon - v);
	if (v[0] == '[') {
		if (hl < 3 || colon[-1] != ']')
			goto bad;
		h = v + 1;
		hl -= 2;
		family = AF_INET6;
	}
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (inet_pton(family, host, addr) != 1)
		goto bad;
	set_string(&c->metrics_address, v);
	return;
bad:
	perr(p, p->line, def->name, "'%s' is not ADDRESS:PORT with a numeric address (e.g. "
	     "127.0.0.1:9571, 0.0.0.0:9571 or [::1]:9571; host names are not looked up)", v);
}

static bool map_name_ok(const char *s)
{
	return *s && strlen(s) <= CFG_MAP_NAME_MAX && !has_space(s) && !strchr(s, '=');
}

struct map_arg {
	struct cfg_router *r;
};

static bool one_map_entry(struct parser *p, const char *key, const char *item, void *arg)
{
	struct cfg_router *r = ((struct map_arg *)arg)->r;
	char *copy = xstrdup(item), *eq = strchr(copy, '='), *srv, *rname;
	bool ok = false;
	size_t i;

	if (!eq) {
		perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
		     "db2=mysql2)", item);
		goto out;
	}
	*eq = '\0';
	srv = trim(copy);
	rname = trim(eq + 1);
	if (!valid_name(srv) || !map_name_ok(rname)) {
		perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
		     "db2=mysql2)", item);
		goto out;
	}
	for (i = 0; i < r->n_map; i++) {
		if (!strcmp(r->map_server[i], srv)) {
			perr(p, p->line, key, "server %s is mapped twice", srv);
			goto out;
		}
	}
	r->map_server = xrealloc(r->map_server, (r->n_map + 1) * sizeof(char *));
	r->map_router = xrealloc(r->map_router, (r->n_map + 1) * sizeof(char *));
	r->map_server[r->n_map] = xstrdup(srv);
	r->map_router[r->n_map++] = xstrdup(rname);
	ok = true;
out:
	free(copy);
	return ok;
}

static void set_server_map(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct map_arg a = { obj };
	for_each_item(p, def->name, v, one_map_entry, &a);
}

/* ---- checks across sections ---- */

static size_t find_cluster(const struct config *c, const char *name)
{
	size_t i;
	for (i = 0; i < c->n_clusters; i++)
		if (!strcmp(c->clusters[i].name, name))
			return i;
	return SIZE_MAX;
}

static size_t cluster_size(const struct config *c, const char *name)
{
	size_t i, n = 0;
	for (i = 0; i < c->n_servers; i++)
		n += !strcmp(c->servers[i].cluster, name);
	return n;
}

static void check_server(struct parser *p, size_t i)
{
	struct cfg_server *s = &p->c->servers[i];
	const struct section *sec = find_section(p, SECT_SERVER, i);
	int l;

	if (s->socket) {
		if ((l = key_line(sec, "host")) || (l = key_line(sec, "port")))
			perr(p, l, key_line(sec, "host") == l ? "host" : "port", "conflicts with "
			     "socket at line %d (give either socket, or host and port)",
			     key_line(sec, "socket"));
		free(s->host);
		s->host = NULL;
		s->port = 0;
	} else if (!s->host) {
		s->host = xstrdup("127.0.0.1");
	}
	if (!s->user && !key_line(sec, "user"))
		perr(p, sec->line, "user", "missing in [%s] (the account cutoverd connects as)",
		     sec->title);
	if ((s->tls_mode == TLS_VERIFY_CA || s->tls_mode == TLS_VERIFY_IDENTITY) &&
	    !key_line(sec, "tls_ca"))
		perr(p, key_line(sec, "tls_mode"), "tls_mode", "%s needs tls_ca (the CA "
		     "certificate to verify the server with)", tls_mode_name(s->tls_mode));
	if (key_line(sec, "tls_cert") && !key_line(sec, "tls_key"))
		perr(p, key_line(sec, "tls_cert"), "tls_cert", "set without tls_key (give both "
		     "or neither)");
	if (key_line(sec, "tls_key") && !key_line(sec, "tls_cert"))
		perr(p, key_line(sec, "tls_key"), "tls_key", "set without tls_cert (give both "
		     "or neither)");
	if (find_cluster(p->c, s->cluster) == SIZE_MAX)
		add_cluster(p->c, s->cluster, s->line);
}

static void check_endpoints(struct parser *p)
{
	struct config *c = p->c;
	size_t i, j;

	for (i = 0; i < c->n_servers; i++) {
		const struct cfg_server *a = &c->servers[i];
		for (j = 0; j < i; j++) {
			const struct cfg_server *b = &c->servers[j];
			if (a->socket && b->socket && !strcmp(a->socket, b->socket)) {
				perr(p, a->line, "socket", "[server %s] has the same socket as "
				     "[server %s] at line %d (%s)", a->name, b->name, b->line, a->socket);
				break;
			}
			if (a->host && b->host && !strcmp(a->host, b->host) && a->port == b->port) {
				perr(p, a->line, "host", "[server %s] has the same address as "
				     "[server %s] at line %d (%s:%d)", a->name, b->name, b->line,
				     a->host, a->port);
				break;
			}
		}
	}
}

static void check_clusters(struct parser *p)
{
	struct config *c = p->c;
	size_t i, j;

	for (i = 0; i < c->n_clusters; i++) {
		const struct cfg_cluster *cl = &c->clusters[i];
		const struct section *sec = i < p->n_explicit_clusters ?
			find_section(p, SECT_CLUSTER, i) : NULL;

		if (!sec)
			continue;   /* implicit: named by a server, so it has one */
		if (cluster_size(c, cl->name) == 0) {
			char *shown = xasprintf("[%s]", sec->title);
			perr(p, sec->line, shown, "no server belongs to this cluster (set cluster = %s "
			     "in its [server NAME] sections, or remove it)", cl->name);
			free(shown);
			continue;
		}
		if (cl->repl_secret.password && !key_line(sec, "repl_user"))
			perr(p, sec->line, "repl_user", "missing in [%s] (a replication password is "
			     "set, but not the account it belongs to)", sec->title);
		if (cl->splitbrain != SB_STONITH)
			continue;
		for (j = 0; j < c->n_servers; j++) {
			const struct cfg_server *s = &c->servers[j];
			if (!strcmp(s->cluster, cl->name) && !s->stonith_hook && !cl->stonith_hook)
				perr(p, key_line(sec, "split_brain"), "split_brain", "stonith needs a "
				     "stonith_hook in [cluster %s] or in [server %s] (line %d)", cl->name, s->name,
				     s->line);
		}
	}
}

static void router_types_text(unsigned mask, char *buf, size_t len)
{
	size_t off = 0;
	int t;

	buf[0] = '\0';
	for (t = ROUTER_HAPROXY; t <= ROUTER_EXEC && off < len; t++)
		if (mask & RT(t))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " and " : "",
						router_names[t]);
}

/* Keys that belong to another router type are mistakes (a proxysql `backend` does nothing). */
static void check_router_keys(struct parser *p, const struct cfg_router *r,
			      const struct section *sec)
{
	const struct key_def *def;
	char types[64];
	size_t i;

	for (i = 0; i < sec->n_keys; i++) {
		def = key_find(SECT_ROUTER, sec->keys[i].key);
		if (def && def->routers && !(def->routers & RT(r->type))) {
			router_types_text(def->routers, types, sizeof(types));
			perr(p, sec->keys[i].line, def->name, "not used by type = %s (only by %s)",
			     router_type_name(r->type), types);
		}
	}
}

static void require(struct parser *p, const struct section *sec, const char *key, const char *why)
{
	if (!key_line(sec, key))
		perr(p, sec->line, key, "missing in [%s] (%s)", sec->title, why);
}

static char *default_router_name(const struct cfg_router *r, const struct cfg_server *s)
{
	if (r->type != ROUTER_PROXYSQL)
		return xstrdup(s->name);
	/* ProxySQL names a backend by hostname and port; a Unix socket is its path with port 0. */
	if (s->socket)
		return xasprintf("%s:0", s->socket);
	return xasprintf("%s:%d", s->host, s->port);
}

/* Replace the server_map entries as written with one entry per server of the cluster. */
static void build_map(struct parser *p, struct cfg_router *r, const struct section *sec)
{
	const struct config *c = p->c;
	size_t n = 0, i, j;
	char **ms = xcalloc(c->n_servers, sizeof(char *));
	char **mr = xcalloc(c->n_servers, sizeof(char *));
	const struct cfg_server *s;

	for (j = 0; j < r->n_map; j++) {
		s = config_server(c, r->map_server[j]);
		if (!s || strcmp(s->cluster, r->cluster))
			perr(p, key_line(sec, "server_map"), "server_map", "'%s' is not a server of "
			     "cluster %s", r->map_server[j], r->cluster);
	}
	for (i = 0; i < c->n_servers; i++) {
		s = &c->servers[i];
		if (strcmp(s->cluster, r->cluster))
			continue;
		ms[n] = xstrdup(s->name);
		for (j = 0; j < r->n_map && strcmp(r->map_server[j], s->name); j++)
			;
		mr[n] = j < r->n_map ? xstrdup(r->map_router[j]) : default_router_name(r, s);
		for (j = 0; j < n; j++)
			if (!strcmp(mr[j], mr[n]))
				perr(p, key_or_section_line(sec, "server_map"), "server_map", "servers %s "
				     "and %s both map to '%s' in [router %s]", ms[j], ms[n], mr[n],
				     r->name);
		n++;
	}
	for (j = 0; j < r->n_map; j++) {
		free(r->map_server[j]);
		free(r->map_router[j]);
	}
	free(r->map_server);
	free(r->map_router);
	r->map_server = ms;
	r->map_router = mr;
	r->n_map = n;
}

static void check_router(struct parser *p, size_t i)
{
	struct cfg_router *r = &p->c->routers[i];
	const struct section *sec = find_section(p, SECT_ROUTER, i);

	if (!key_line(sec, "type")) {
		perr(p, sec->line, "type", "missing in [%s] (haproxy, proxysql or exec)", sec->title);
		return;
	}
	check_router_keys(p, r, sec);
	switch (r->type) {
	case ROUTER_HAPROXY:
		require(p, sec, "address", "the HAProxy runtime API socket, e.g. "
			"/run/haproxy/admin.sock or 127.0.0.1:9999");
		require(p, sec, "backend", "the HAProxy backend that carries writes");
		break;
	case ROUTER_PROXYSQL:
		if (!r->address)
			r->address = xstrdup(DEFAULT_PROXYSQL_ADDRESS);
		require(p, sec, "user", "the ProxySQL admin user");
		require(p, sec, "writer_hostgroup", "the hostgroup that carries writes");
		if (r->reader_hostgroup >= 0 && r->reader_hostgroup == r->writer_hostgroup)
			perr(p, key_line(sec, "reader_hostgroup"), "reader_hostgroup", "same as "
			     "writer_hostgroup (%d); use another hostgroup or -1 for none",
			     r->writer_hostgroup);
		break;
	case ROUTER_EXEC:
		require(p, sec, "exec_promote", "the command that moves writes to the new primary");
		break;
	}
	if (cluster_size(p->c, r->cluster) == 0) {
		perr(p, key_or_section_line(sec, "cluster"), "cluster", "no server belongs to "
		     "cluster '%s' (set cluster = %s in its [server NAME] sections)", r->cluster,
		     r->cluster);
		return;
	}
	build_map(p, r, sec);
}

static void finish(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->c->n_servers; i++)
		check_server(p, i);
	check_endpoints(p);
	check_clusters(p);
	for (i = 0; i < p->c->n_routers; i++)
		check_router(p, i);
	if (p->c->n_servers == 0)
		perr(p, 0, NULL, "no [server NAME] section: at least one server is needed");
}

/* ---- loading ---- */

static struct config *config_new(const char *path)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->socket_path = xstrdup(DEFAULT_SOCKET_PATH);
	c->socket_gid = (gid_t)-1;
	c->socket_mode = 0660;
	c->poll_interval_ms = 1000;
	c->connect_timeout_ms = 1000;
	c->query_timeout_ms = 1000;
	c->state_dir = xstrdup("/var/lib/cutoverd");
	c->log_level = LOG_INFO;
	c->max_clients = 64;
	c->idle_timeout_ms = 300000;
	c->event_hook_timeout_ms = 10000;
	c->event_hook_rate = 30;
	return c;
}

static void parser_free(struct parser *p)
{
	size_t i, j;

	for (i = 0; i < p->n_sects; i++) {
		for (j = 0; j < p->sects[i].n_keys; j++)
			free(p->sects[i].keys[j].key);
		free(p->sects[i].keys);
		free(p->sects[i].title);
	}
	free(p->sects);
}

/* Both entry points end here: file_mode is the file's permission bits, -1 for a string. */
static struct config *parse_text(const char *text, const char *name, int file_mode,
				 struct cfg_errors *errs)
{
	struct parser p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.c = config_new(name);
	p.errs = errs;
	p.file = name;
	p.file_mode = file_mode;
	p.pos = text;
	p.end = text + strlen(text);
	p.cur = -1;
	rc = ini_parse_stream(read_line, &p, on_key, &p);
	if (rc != 0 && errs->n == 0)
		perr(&p, 0, NULL, "internal parser error (libinih returned %d)", rc);
	finish(&p);
	parser_free(&p);
	sort_errors(errs);
	if (errs->n) {
		config_free(p.c);
		return NULL;
	}
	return p.c;
}

static void errs_add(struct cfg_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void errs_add(struct cfg_errors *errs, const char *fmt, ...)
{
	va_list ap;

	errs->v = xrealloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
	errs->v[errs->n].line = 0;
	errs->v[errs->n].key = NULL;
	va_start(ap, fmt);
	if (vasprintf(&errs->v[errs->n].message, fmt, ap) < 0)
		abort();
	va_end(ap);
	errs->n++;
}

struct config *config_load_string(const char *text, const char *name, struct cfg_errors *errs)
{
	struct cfg_errors local = { NULL, 0 };
	struct config *c;

	if (!errs)
		errs = &local;
	errs->v = NULL;
	errs->n = 0;
	c = parse_text(text ? text : "", name ? name : "(config)", -1, errs);
	cfg_errors_free(&local);
	return c;
}

struct config *config_load(const char *path, struct cfg_errors *errs)
{
	struct cfg_errors local = { NULL, 0 };
	struct config *c = NULL;
	struct stat st;
	char *text = NULL;
	size_t len;

	if (!errs)
		errs = &local;
	errs->v = NULL;
	errs->n = 0;
	if (stat(path, &st) < 0) {
		errs_add(errs, "cannot read: %s", strerror(errno));
		goto out;
	}
	/* Not a FIFO or a device: reading one could block or never end. */
	if (!S_ISREG(st.st_mode)) {
		errs_add(errs, "not a regular file");
		goto out;
	}
	if (!(text = read_small_file(path, CFG_MAX_FILE + 1))) {
		errs_add(errs, "cannot read: %s", strerror(errno));
		goto out;
	}
	len = strlen(text);
	if (len > CFG_MAX_FILE)
		errs_add(errs, "larger than %d bytes", CFG_MAX_FILE);
	else if (len < (size_t)st.st_size)
		errs_add(errs, "contains a NUL byte (not a text file?)");
	else
		c = parse_text(text, path, (int)(st.st_mode & 07777), errs);
	/* The text may hold inline passwords. */
	wipe(text, len);
out:
	free(text);
	cfg_errors_free(&local);
	return c;
}

/* ---- freeing and lookups ---- */

static void free_secret_src(struct cfg_secret *s)
{
	free(s->file);
	free(s->env);
	free_secret(s->password);
}

static void free_server(struct cfg_server *s)
{
	free(s->name);
	free(s->cluster);
	free(s->host);
	free(s->socket);
	free(s->user);
	free_secret_src(&s->secret);
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->stonith_hook);
	free(s->fence_hook);
}

static void free_router(struct cfg_router *r)
{
	size_t i;

	free(r->name);
	free(r->cluster);
	free(r->address);
	free(r->user);
	free_secret_src(&r->secret);
	free(r->backend);
	free(r->read_backend);
	free(r->write_endpoint);
	for (i = 0; i < r->n_map; i++) {
		free(r->map_server[i]);
		free(r->map_router[i]);
	}
	free(r->map_server);
	free(r->map_router);
	for (i = 0; i < ARRAY_LEN(r->exec_cmd); i++)
		free(r->exec_cmd[i]);
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void free_cluster(struct cfg_cluster *cl)
{
	size_t i;

	free(cl->name);
	free(cl->heartbeat_table);
	free(cl->stonith_hook);
	free(cl->fence_hook);
	free(cl->repl_user);
	free_secret_src(&cl->repl_secret);
	for (i = 0; cl->preflight_hooks && cl->preflight_hooks[i]; i++)
		free(cl->preflight_hooks[i]);
	free(cl->preflight_hooks);
	free_strv(cl->event_hooks);
}

void config_free(struct config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_servers; i++)
		free_server(&c->servers[i]);
	for (i = 0; i < c->n_routers; i++)
		free_router(&c->routers[i]);
	for (i = 0; i < c->n_clusters; i++)
		free_cluster(&c->clusters[i]);
	free(c->servers);
	free(c->routers);
	free(c->clusters);
	free(c->path);
	free(c->socket_path);
	free(c->socket_group);
	free(c->state_dir);
	free(c->metrics_address);
	free_strv(c->event_hooks);
	free(c);
}

const struct cfg_cluster *config_cluster(const struct config *c, const char *name)
{
	size_t i;

	if (!c || !name)
		return NULL;
	for (i = 0; i < c->n_clusters; i++)
		if (!strcmp(c->clusters[i].name, name))
			return &c->clusters[i];
	return NULL;
}

const struct cfg_server *config_server(const struct config *c, const char *name)
{
	size_t i;

	if (!c || !name)
		return NULL;
	for (i = 0; i < c->n_servers; i++)
		if (!strcmp(c->servers[i].name, name))
			return &c->servers[i];
	return NULL;
}

const char *config_router_name(const struct cfg_router *r, const struct cfg_server *s)
{
	size_t i;

	if (!r || !s)
		return NULL;
	for (i = 0; i < r->n_map; i++)
		if (!strcmp(r->map_server[i], s->name))
			return r->map_router[i];
	return NULL;
}
