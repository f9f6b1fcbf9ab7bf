/* The config keys with a syntax of their own (KT_FUNC): the set() functions the key tables of
 * config_keys.c name, from socket_group and admin_users to server_map, the addresses, etcd and
 * tenant ranges. */
#include "config_impl.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define CFG_MAP_NAME_MAX 127             /* fits struct router_backend.name */

static bool lookup_gid(const char *name, gid_t *gid);
static bool lookup_uid(const char *name, uid_t *uid);
static bool for_each_item(struct parser *p, const char *key, const char *v,
			  bool (*one)(struct parser *, const char *key, const char *item, void *),
			  void *arg);
static bool one_admin_user(struct parser *p, const char *key, const char *item, void *arg);
static bool one_admin_group(struct parser *p, const char *key, const char *item, void *arg);
static bool sql_ident_ok(const char *s, size_t n);
static bool has_space(const char *s);
static bool host_port_ok(const char *v);
static bool map_name_ok(const char *s);
static bool one_map_entry(struct parser *p, const char *key, const char *item, void *arg);
static bool one_check_table(struct parser *p, const char *key, const char *item, void *arg);

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

void set_socket_group(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	gid_t gid;

	if (!lookup_gid(v, &gid)) {
		cfg_perr(p, p->line, def->name, "no such group '%s' (a group name or a numeric gid)", v);
		return;
	}
	cfg_set_string(&c->socket_group, v);
	c->socket_gid = gid;
}

void set_socket_mode(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (!isdigit((unsigned char)*v) || *end || errno || m > 0777)
		cfg_perr(p, p->line, def->name, "'%s' is not an octal mode (e.g. 0660; at most 0777)", v);
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
			cfg_perr(p, p->line, key, "empty item in the list (items are separated by ',')");
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
		cfg_perr(p, p->line, key, "too many users (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_uid(item, &c->admin_uids[c->n_admin_uids])) {
		cfg_perr(p, p->line, key, "no such user '%s' (user names or numeric uids, separated by "
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
		cfg_perr(p, p->line, key, "too many groups (at most %d)", CFG_MAX_IDS);
		return false;
	}
	if (!lookup_gid(item, &c->admin_gids[c->n_admin_gids])) {
		cfg_perr(p, p->line, key, "no such group '%s' (group names or numeric gids, separated "
			 "by ',')", item);
		return false;
	}
	c->n_admin_gids++;
	return true;
}

void set_admin_users(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_user, c))
		c->n_admin_uids = 0;
}

void set_admin_groups(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	if (!for_each_item(p, def->name, v, one_admin_group, c))
		c->n_admin_gids = 0;
}

void set_log_level(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct config *c = obj;
	int level = log_level_parse(v);

	if (level < 0)
		cfg_perr(p, p->line, def->name, "'%s' is not a log level (error, warning, notice, info "
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

void set_heartbeat_table(struct parser *p, void *obj, const struct key_def *def,
			 const char *v)
{
	struct cfg_cluster *cl = obj;
	const char *dot = strchr(v, '.');

	if (!dot || !sql_ident_ok(v, (size_t)(dot - v)) || !sql_ident_ok(dot + 1, strlen(dot + 1)))
		cfg_perr(p, p->line, def->name, "'%s' is not DATABASE.TABLE (e.g. cutoverd.heartbeat; "
			 "names of letters, digits, '_' and '$', at most 64 each)", v);
	else
		cfg_set_string(&cl->heartbeat_table, v);
}

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

void set_host(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_server *s = obj;

	if (has_space(v) || v[0] == '/')
		cfg_perr(p, p->line, def->name, "'%s' is not a host name or address (use socket = PATH "
			 "for a Unix socket)", v);
	else
		cfg_set_string(&s->host, v);
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

void set_address(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_router *r = obj;
	const char *path = !strncmp(v, "unix:", 5) ? v + 5 : v;

	if (has_space(v))
		goto bad;
	if (path[0] == '/') {
		if ((int)strlen(path) > CFG_SUN_MAX) {
			cfg_perr(p, p->line, def->name, "path is too long (at most %d characters for a "
				 "Unix socket)", CFG_SUN_MAX);
			return;
		}
	} else if (path != v || !host_port_ok(v)) {
		goto bad;
	}
	cfg_set_string(&r->address, v);
	return;
bad:
	cfg_perr(p, p->line, def->name, "'%s' is not an address (an absolute socket path, "
		 "unix:PATH or HOST:PORT)", v);
}

/* The switchover's probe connects to it with host and port, so no socket and no IPv6 brackets. */
void set_write_endpoint(struct parser *p, void *obj, const struct key_def *def,
			const char *v)
{
	struct cfg_router *r = obj;

	if (has_space(v) || v[0] == '[' || v[0] == '/' || !host_port_ok(v))
		cfg_perr(p, p->line, def->name, "'%s' is not HOST:PORT (e.g. 10.0.0.5:3306)", v);
	else
		cfg_set_string(&r->write_endpoint, v);
}

/* etcd = http://10.0.0.1:2379, http://10.0.0.2:2379: numeric addresses (no lookup on the loop) */
void set_etcd(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_ha *h = obj;
	char *copy = xstrdup(v), *rest = copy, *item;

	while ((item = strsep(&rest, ","))) {
		unsigned char a[4];
		char host[64];
		const char *colon;
		long long port;

		item = trim(item);
		colon = strrchr(item, ':');
		if (strncmp(item, "http://", 7) || !colon || colon - item - 7 <= 0 || colon - item - 7 >= (long)sizeof(host) ||
		    !parse_ll(colon + 1, 1, 65535, &port)) {
			cfg_perr(p, p->line, def->name, "'%s' is not http://ADDRESS:PORT (e.g. http://10.0.0.1:2379)", item);
			break;
		}
		memcpy(host, item + 7, (size_t)(colon - item - 7));
		host[colon - item - 7] = '\0';
		if (inet_pton(AF_INET, host, a) != 1) {
			cfg_perr(p, p->line, def->name, "'%s': the address must be a numeric IPv4 address (a name would be "
				 "looked up on the event loop)", item);
			break;
		}
		if (h->n_etcd == CFG_MAX_ETCD) {
			cfg_perr(p, p->line, def->name, "at most %d endpoints", CFG_MAX_ETCD);
			break;
		}
		h->etcd[h->n_etcd++] = xstrdup(item);
	}
	free(copy);
}

/* [ha] source = ADDRESS: the local address this member's etcd connections leave from. */
void set_ha_source(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_ha *h = obj;
	unsigned char a[4];

	if (inet_pton(AF_INET, v, a) != 1) {
		cfg_perr(p, p->line, def->name, "'%s' is not a numeric IPv4 address of this machine (e.g. 10.0.0.5)", v);
		return;
	}
	free(h->source);
	h->source = xstrdup(v);
}

/* tenant_hostgroups / tenant_rule_ids = LO-HI: a range of ProxySQL ids (tenant.h). */
void set_tenant_range(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_router *r = obj;
	const char *dash = strchr(v, '-');
	char lo_s[24];
	long long lo, hi;
	bool hg = !strcmp(def->name, "tenant_hostgroups");

	if (!dash || (size_t)(dash - v) >= sizeof(lo_s)) {
		cfg_perr(p, p->line, def->name, "'%s' is not a range LO-HI (e.g. %s)", v, hg ? "1000-1999" : "100-999");
		return;
	}
	memcpy(lo_s, v, (size_t)(dash - v));
	lo_s[dash - v] = '\0';
	{
		char hi_s[24];
		snprintf(hi_s, sizeof(hi_s), "%s", dash + 1);
		if (strlen(dash + 1) >= sizeof(hi_s) || !parse_ll(trim(lo_s), hg ? 0 : 1, INT_MAX, &lo) ||
		    !parse_ll(trim(hi_s), hg ? 0 : 1, INT_MAX, &hi) || hi < lo)
			lo = -1;
	}
	if (lo < 0) {
		cfg_perr(p, p->line, def->name, "'%s' is not a range LO-HI of %s with LO <= HI (e.g. %s)", v,
			 hg ? "hostgroup ids" : "rule ids from 1", hg ? "1000-1999" : "100-999");
		return;
	}
	*(hg ? &r->tenant_hg_lo : &r->tenant_rule_lo) = (int)lo;
	*(hg ? &r->tenant_hg_hi : &r->tenant_rule_hi) = (int)hi;
}

/* ADDRESS:PORT or [ADDRESS]:PORT with a numeric address: the listener binds it from the loop,
 * where a DNS lookup could block. */
void set_metrics_address(struct parser *p, void *obj, const struct key_def *def,
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
	cfg_set_string(&c->metrics_address, v);
	return;
bad:
	cfg_perr(p, p->line, def->name, "'%s' is not ADDRESS:PORT with a numeric address (e.g. "
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
		cfg_perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
			 "db2=mysql2)", item);
		goto out;
	}
	*eq = '\0';
	srv = trim(copy);
	rname = trim(eq + 1);
	if (!cfg_valid_name(srv) || !map_name_ok(rname)) {
		cfg_perr(p, p->line, key, "'%s' is not SERVER=NAME (e.g. server_map = db1=mysql1, "
			 "db2=mysql2)", item);
		goto out;
	}
	for (i = 0; i < r->n_map; i++) {
		if (!strcmp(r->map_server[i], srv)) {
			cfg_perr(p, p->line, key, "server %s is mapped twice", srv);
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

void set_server_map(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct map_arg a = { obj };
	for_each_item(p, def->name, v, one_map_entry, &a);
}

/* data_check_tables = shop.orders, shop.*, billing: a table, every table of a schema */
static bool one_check_table(struct parser *p, const char *key, const char *item, void *arg)
{
	char ***v = arg;
	const char *dot = strchr(item, '.');
	size_t n = 0, sl = dot ? (size_t)(dot - item) : strlen(item);

	if (!sql_ident_ok(item, sl) || (dot && strcmp(dot + 1, "*") && !sql_ident_ok(dot + 1, strlen(dot + 1)))) {
		cfg_perr(p, p->line, key, "'%s' is not SCHEMA.TABLE, SCHEMA.* or SCHEMA (letters, digits, '_' and '$', "
			 "up to 64 each; e.g. data_check_tables = shop.orders, billing.*)", item);
		return false;
	}
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(**v));
	(*v)[n] = xstrdup(item);
	(*v)[n + 1] = NULL;
	return true;
}

void set_data_check_tables(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	struct cfg_cluster *cl = obj;
	char **list = NULL;
	size_t i;

	if (for_each_item(p, def->name, v, one_check_table, &list)) {
		for (i = 0; cl->data_check_tables && cl->data_check_tables[i]; i++)
			free(cl->data_check_tables[i]);
		free(cl->data_check_tables);
		cl->data_check_tables = list;
		return;
	}
	for (i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}

/* "1%", "0.5 %" or "0.01": a share, kept as a fraction */
void set_percent(struct parser *p, void *obj, const struct key_def *def, const char *v)
{
	char *end;
	double x = strtod(v, &end);

	while (*end == ' ')
		end++;
	if (*end == '%') {
		x /= 100.0;
		end++;
	}
	if (end == v || *end || x < 0 || x > 1 || x != x)
		cfg_perr(p, p->line, def->name, "'%s' is not a share between 0%% and 100%% (e.g. %s = 1%%)", v, def->name);
	else
		*(double *)((char *)obj + def->off) = x;
}
