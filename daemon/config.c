/* cutoverd.conf: read, checked and turned into a struct config in one place.  See config.h and
 * cutoverd.conf(5).
 *
 * libinih splits "key = value" lines; what it cannot tell us is done in our line reader
 * (config_lex.c), so that every error is reported with its line.
 *
 * Parsing never stops at the first problem: every error is collected, then the cross-section
 * checks run, and the config is returned only when there were none.
 *
 * This file holds the entry points, a fresh struct config with its defaults, the error list,
 * freeing and lookups; the other parts are listed in config_impl.h. */
#include "config_impl.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CFG_MAX_FILE     (1024 * 1024)   /* a config is a few KB; anything bigger is a mistake */
#define DEFAULT_CLUSTER  "main"

static void free_server(struct cfg_server *s);
static void free_router(struct cfg_router *r);
static void free_cluster(struct cfg_cluster *cl);

/* ---- errors ---- */

void cfg_perr(struct parser *p, int line, const char *key, const char *fmt, ...)
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

void cfg_pwarn(struct parser *p, int line, const char *key, const char *fmt, ...)
{
	struct cfg_errors *w = &p->c->warnings;
	struct cfg_error *e;
	va_list ap;

	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	e = &w->v[w->n++];
	e->line = line;
	e->key = key ? xstrdup(key) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
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

void cfg_warning_format(const char *file, const struct cfg_error *w, char *buf, size_t len)
{
	char where[64] = "";

	if (!len)
		return;
	if (w->line > 0)
		snprintf(where, sizeof(where), ":%d", w->line);
	snprintf(buf, len, "%s%s: warning: %s%s%s", file ? file : "(config)", where,
		 w->key ? w->key : "", w->key ? ": " : "", w->message ? w->message : "");
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

/* ---- sections: a new one with its defaults ---- */

size_t cfg_add_cluster(struct config *c, const char *name, int line)
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
	cl->fence_budget_ms = 50;
	cl->sync_timeout_ms = 5000;
	cl->promote_timeout_ms = 5000;
	cl->pause_timeout_ms = 10 * 60000;
	cl->blocked_pause_timeout_ms = 30000;
	cl->reverse_replication = true;
	cl->kill_sessions = true;
	cl->splitbrain = SB_ALERT;
	cl->hook_timeout_ms = 30000;
	cl->failover_after = 3;
	cl->failover_block_ms = 3600000;
	cl->data_check = DATA_CHECK_AUTO;
	cl->data_check_chunk_rows = 5000;
	cl->data_check_timeout_ms = 30 * 60000;
	cl->watch_error_rate = 0.01;
	cl->watch_p95_ms = 500;
	cl->watch_failed_per_min = 10;
	cl->watch_action = WATCH_ALARM;
	cl->line = line;
	return c->n_clusters++;
}

size_t cfg_add_server(struct config *c, const char *name, int line)
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

size_t cfg_add_router(struct config *c, const char *name, int line)
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
	r->tenant_hg_lo = r->tenant_hg_hi = -1;
	r->tenant_rule_lo = r->tenant_rule_hi = -1;
	r->timeout_ms = 2000;
	r->line = line;
	return c->n_routers++;
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
	c->ha.prefix = xstrdup("/cutoverd");
	c->ha.lease_ttl_ms = 10000;
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
	rc = ini_parse_stream(cfg_read_line, &p, cfg_on_key, &p);
	if (rc != 0 && errs->n == 0)
		cfg_perr(&p, 0, NULL, "internal parser error (libinih returned %d)", rc);
	cfg_check_all(&p);
	parser_free(&p);
	sort_errors(errs);
	sort_errors(&p.c->warnings);
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
	free(s->server_public_key);
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
	free(cl->upstream);
	free(cl->stonith_hook);
	free(cl->fence_hook);
	free(cl->repl_user);
	free_secret_src(&cl->repl_secret);
	for (i = 0; cl->preflight_hooks && cl->preflight_hooks[i]; i++)
		free(cl->preflight_hooks[i]);
	free(cl->preflight_hooks);
	free_strv(cl->event_hooks);
	free_strv(cl->data_check_tables);
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
	{
		size_t h;
		for (h = 0; h < c->ha.n_etcd; h++)
			free(c->ha.etcd[h]);
		free(c->ha.prefix);
		free(c->ha.name);
		free(c->ha.address);
		free(c->ha.source);
	}
	free(c->path);
	free(c->socket_path);
	free(c->socket_group);
	free(c->state_dir);
	free(c->metrics_address);
	free_strv(c->event_hooks);
	cfg_errors_free(&c->warnings);
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

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool cfg_ha_same(const struct cfg_ha *a, const struct cfg_ha *b)
{
	size_t i;

	if (a->on != b->on)
		return false;
	if (!a->on)
		return true;
	if (a->n_etcd != b->n_etcd || a->lease_ttl_ms != b->lease_ttl_ms || !same_str(a->prefix, b->prefix) ||
	    !same_str(a->name, b->name) || !same_str(a->address, b->address) ||
	    !same_str(a->source, b->source))
		return false;
	for (i = 0; i < a->n_etcd; i++)
		if (!same_str(a->etcd[i], b->etcd[i]))
			return false;
	return true;
}
