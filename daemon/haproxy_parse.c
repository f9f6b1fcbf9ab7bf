/* HAProxy runtime API: `show stat` parsing, command lines, answers.  See haproxy_parse.h. */
#include "haproxy_parse.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column indexes in one `show stat` header; -1 when absent. */
struct hx_cols {
	int pxname, svname, status, weight, scur, addr, stot, econ, eresp;
};

static char *cut_line(char *line);
static size_t csv_split(char *line, char ***fields);
static int header_cols(char *header, struct hx_cols *c, char *err, size_t errlen);
static const char *field(char **f, size_t nf, int col);
static void note_backend(char *list, size_t len, const char *name);
static void fill_backend(struct router_backend *b, const struct cfg_router *cfg, char **f,
			 size_t nf, const struct hx_cols *c, bool writer);
static void split_addr(const char *addr, char *host, size_t hostlen, int *port);
static bool has_prefix(const char *s, const char *prefix);

/* NUL-terminate the line at `line` (dropping a '\r') and return the next one, or NULL. */
static char *cut_line(char *line)
{
	char *nl = strchr(line, '\n');
	size_t n;

	if (nl)
		*nl = '\0';
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	return nl ? nl + 1 : NULL;
}

/* Split one CSV line in place.  HAProxy does not quote in practice, but a field that starts
 * with '"' is read RFC 4180 style all the same, so a comma in a check description cannot
 * shift the columns after it.  *fields is a new array of pointers into line. */
static size_t csv_split(char *line, char ***fields)
{
	size_t n = 0, cap = 8;
	char **f = xcalloc(cap, sizeof(char *));
	char *p = line;

	for (;;) {
		char *start = p, *out = p;

		if (n == cap) {
			cap *= 2;
			f = xrealloc(f, cap * sizeof(char *));
		}
		f[n++] = start;
		if (*p == '"') {
			p++;
			while (*p) {
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				*out++ = *p++;
		}
		if (*p == '\0') {
			*out = '\0';
			break;
		}
		p++;
		*out = '\0';
	}
	*fields = f;
	return n;
}

static int header_cols(char *header, struct hx_cols *c, char *err, size_t errlen)
{
	char **f;
	size_t nf, i;

	c->pxname = c->svname = c->status = c->weight = c->scur = c->addr = c->stot = c->econ = c->eresp = -1;
	nf = csv_split(header + 2, &f);
	for (i = 0; i < nf; i++) {
		int *slot = NULL;

		if (!strcmp(f[i], "pxname"))
			slot = &c->pxname;
		else if (!strcmp(f[i], "svname"))
			slot = &c->svname;
		else if (!strcmp(f[i], "status"))
			slot = &c->status;
		else if (!strcmp(f[i], "weight"))
			slot = &c->weight;
		else if (!strcmp(f[i], "scur"))
			slot = &c->scur;
		else if (!strcmp(f[i], "addr"))
			slot = &c->addr;
		else if (!strcmp(f[i], "stot"))
			slot = &c->stot;
		else if (!strcmp(f[i], "econ"))
			slot = &c->econ;
		else if (!strcmp(f[i], "eresp"))
			slot = &c->eresp;
		if (slot && *slot < 0)
			*slot = (int)i;
	}
	free(f);
	if (c->pxname < 0 || c->svname < 0 || c->status < 0) {
		snprintf(err, errlen, "'show stat' header lacks the %s column",
			 c->pxname < 0 ? "pxname" : c->svname < 0 ? "svname" : "status");
		return -1;
	}
	return 0;
}

static const char *field(char **f, size_t nf, int col)
{
	return col >= 0 && (size_t)col < nf ? f[col] : "";
}

/* Append a backend name to the comma-separated list used in "not found" messages. */
static void note_backend(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);

	if (used >= 3 && !strcmp(list + used - 3, "..."))
		return;
	/* Keep room for ", ..." so the list can always say it was cut. */
	if (used + strlen(name) + 2 + 6 > len) {
		strcat(list, used ? ", ..." : "...");
		return;
	}
	if (used)
		strcat(list, ", ");
	strcat(list, name);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "127.0.0.1:3306", "[::1]:3306" or "::1:3306": host and port around the last colon. */
static void split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(addr, ':');
	long long p;
	size_t n;

	host[0] = '\0';
	*port = 0;
	if (!colon)
		return;
	n = (size_t)(colon - addr);
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= hostlen)
		n = hostlen - 1;
	memcpy(host, addr, n);
	host[n] = '\0';
	if (parse_ll(colon + 1, 0, 65535, &p))
		*port = (int)p;
}

static void fill_backend(struct router_backend *b, const struct cfg_router *cfg, char **f,
			 size_t nf, const struct hx_cols *c, bool writer)
{
	const char *px = field(f, nf, c->pxname), *sv = field(f, nf, c->svname);
	const char *server = hx_server_of(cfg, sv);
	long long num;

	memset(b, 0, sizeof(*b));
	strlcpy_(b->server, server ? server : "", sizeof(b->server));
	snprintf(b->name, sizeof(b->name), "%s/%s", px, sv);
	split_addr(field(f, nf, c->addr), b->host, sizeof(b->host), &b->port);
	b->hostgroup = -1;
	b->writer = writer;
	strlcpy_(b->state, field(f, nf, c->status), sizeof(b->state));
	hx_status_flags(field(f, nf, c->status), &b->admin_up, &b->healthy);
	b->sessions = parse_ll(field(f, nf, c->scur), 0, 1LL << 30, &num) ? (int)num : 0;
	b->weight = parse_ll(field(f, nf, c->weight), 0, 1LL << 30, &num) ? (int)num : 0;
	b->max_connections = -1;
	b->queries = parse_ll(field(f, nf, c->stot), 0, 1LL << 62, &num) ? num : -1;
	b->errors = -1;
	if (parse_ll(field(f, nf, c->econ), 0, 1LL << 62, &num)) {
		long long eresp;
		b->errors = num + (parse_ll(field(f, nf, c->eresp), 0, 1LL << 62, &eresp) ? eresp : 0);
	}
}

int hx_parse_stat(const char *csv, const struct cfg_router *cfg, struct router_view *v,
		  char *err, size_t errlen)
{
	char *text = xstrdup(csv ? csv : ""), *line = text, *next;
	char backends[200] = "";
	bool found_w = false, found_r = false, overflow = false;
	struct hx_cols c;
	int rc = -1;

	v->lat_known = false;   /* HAProxy in TCP mode sees no query latency */
	v->n = 0;
	err[0] = '\0';
	if (!cfg->backend) {
		snprintf(err, errlen, "no backend configured for router '%s'", cfg->name);
		goto out;
	}
	while (*line == '\n' || *line == '\r')
		line++;
	next = cut_line(line);
	if (!has_prefix(line, "# ")) {
		snprintf(err, errlen, "unexpected answer to 'show stat': '%.80s'", line);
		goto out;
	}
	if (header_cols(line, &c, err, errlen) < 0)
		goto out;
	while ((line = next) != NULL && *line != '\n' && *line != '\0') {
		char **f;
		size_t nf;
		const char *px, *sv;
		bool w, r;

		next = cut_line(line);
		if (*line == '\0')
			break;
		nf = csv_split(line, &f);
		px = field(f, nf, c.pxname);
		sv = field(f, nf, c.svname);
		w = !strcmp(px, cfg->backend);
		r = cfg->read_backend && !strcmp(px, cfg->read_backend);
		if (!strcmp(sv, "BACKEND")) {
			note_backend(backends, sizeof(backends), px);
			found_w |= w;
			found_r |= r;
		} else if (strcmp(sv, "FRONTEND") != 0 && (w || r)) {
			/* A backend may be both the write and the read one: list it once as writer. */
			if (v->n < ROUTER_MAX_BACKENDS)
				fill_backend(&v->be[v->n++], cfg, f, nf, &c, w);
			else
				overflow = true;
		}
		free(f);
	}
	if (!found_w || (cfg->read_backend && !found_r)) {
		snprintf(err, errlen, "backend '%s' not found in haproxy (backends: %s)",
			 !found_w ? cfg->backend : cfg->read_backend, backends[0] ? backends : "none");
		goto out;
	}
	if (overflow) {
		snprintf(err, errlen, "more than %d servers in backends '%s'%s%s: only the first %d are shown",
			 ROUTER_MAX_BACKENDS, cfg->backend, cfg->read_backend ? " and " : "",
			 cfg->read_backend ? cfg->read_backend : "", ROUTER_MAX_BACKENDS);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

void hx_status_flags(const char *status, bool *admin_up, bool *healthy)
{
	*admin_up = *healthy = false;
	if (has_prefix(status, "MAINT"))
		return;
	if (has_prefix(status, "DRAIN")) {
		*healthy = true;      /* drained servers are up: DOWN hides DRAIN */
		return;
	}
	if (!strcmp(status, "UP") || has_prefix(status, "UP ") || !strcmp(status, "no check")) {
		*admin_up = *healthy = true;
		return;
	}
	/* DOWN (failing checks, or coming back: "DOWN 1/2"), NOLB (refusing new work by its
	 * check's choice): administratively ready, not usable. */
	if (has_prefix(status, "DOWN") || has_prefix(status, "NOLB"))
		*admin_up = true;
}

const char *hx_admin_word(const char *status)
{
	bool admin_up, healthy;

	if (has_prefix(status, "MAINT"))
		return "maint";
	if (has_prefix(status, "DRAIN"))
		return "drain";
	hx_status_flags(status, &admin_up, &healthy);
	return admin_up ? "ready" : NULL;
}

bool hx_status_is(const char *status, const char *word)
{
	const char *now = hx_admin_word(status);

	if (!now)
		return false;
	if (!strcmp(word, "drain") && has_prefix(status, "DOWN"))
		return true;
	return !strcmp(now, word);
}

const char *hx_name_of(const struct cfg_router *cfg, const char *server)
{
	size_t i;

	for (i = 0; server && i < cfg->n_map; i++)
		if (!strcmp(cfg->map_server[i], server))
			return cfg->map_router[i];
	return NULL;
}

const char *hx_server_of(const struct cfg_router *cfg, const char *hx_name)
{
	size_t i;

	for (i = 0; hx_name && i < cfg->n_map; i++)
		if (!strcmp(cfg->map_router[i], hx_name))
			return cfg->map_server[i];
	return NULL;
}

bool hx_valid_name(const char *s)
{
	const char *p;

	if (!s || !*s || strlen(s) > 100)
		return false;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._:-", *p))
			return false;
	return true;
}

char *hx_cmd_drain(const char *backend, const char *old, bool snapshot)
{
	if (!hx_valid_name(backend) || !hx_valid_name(old))
		return NULL;
	return xasprintf("%sset server %s/%s state drain", snapshot ? "show stat;" : "", backend, old);
}

char *hx_cmd_promote(const char *backend, const char *new_, const char *old, bool snapshot)
{
	if (!hx_valid_name(backend) || !hx_valid_name(new_) || !hx_valid_name(old))
		return NULL;
	return xasprintf("%sset server %s/%s state ready;set server %s/%s state maint;"
			 "shutdown sessions server %s/%s", snapshot ? "show stat;" : "",
			 backend, new_, backend, old, backend, old);
}

char *hx_cmd_rollback(const char *backend, const char *old, const char *old_word,
		      const char *new_, const char *new_word)
{
	char *line = xstrdup(""), *more;

	if (!hx_valid_name(backend) || (old_word && !hx_valid_name(old)) ||
	    (new_word && !hx_valid_name(new_))) {
		free(line);
		return NULL;
	}
	/* The old primary first: if the line is cut short, the endpoint has a writer. */
	if (old_word) {
		more = xasprintf("set server %s/%s state %s", backend, old, old_word);
		free(line);
		line = more;
	}
	if (new_word) {
		more = xasprintf("%s%sset server %s/%s state %s", line, *line ? ";" : "",
				 backend, new_, new_word);
		free(line);
		line = more;
		if (strcmp(new_word, "ready") != 0) {
			more = xasprintf("%s;shutdown sessions server %s/%s", line, backend, new_);
			free(line);
			line = more;
		}
	}
	return line;
}

size_t hx_cmd_count(const char *line)
{
	size_t n = 1;

	if (!*line)
		return 0;
	for (; *line; line++)
		n += *line == ';';
	return n;
}

const char *hx_reply_part(const char *reply, size_t i, size_t *len)
{
	const char *p = reply, *start;

	for (;;) {
		start = p;
		/* One answer: lines up to the first empty one. */
		while (*p && *p != '\n') {
			const char *nl = strchr(p, '\n');
			if (!nl)
				return NULL;      /* cut short: no closing empty line */
			p = nl + 1;
		}
		if (*p != '\n')
			return NULL;
		if (i == 0) {
			*len = (size_t)(p - start);
			return start;
		}
		i--;
		p++;
	}
}

int hx_reply_check(const char *reply, size_t first, size_t n, char *err, size_t errlen)
{
	size_t i;

	for (i = first; i < first + n; i++) {
		size_t len, o = 0, k;
		const char *a = hx_reply_part(reply, i, &len);

		if (!a) {
			snprintf(err, errlen, "haproxy closed the connection after %zu of %zu answers",
				 i - first, n);
			return -1;
		}
		while (len > 0 && isspace((unsigned char)a[len - 1]))
			len--;
		if (len == 0)
			continue;
		for (k = 0; k < len && o + 3 < errlen; k++) {
			if (a[k] == '\n') {
				err[o++] = ';';
				err[o++] = ' ';
			} else {
				err[o++] = a[k];
			}
		}
		err[o] = '\0';
		return -1;
	}
	return 0;
}
