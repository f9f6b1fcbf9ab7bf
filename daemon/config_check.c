/* The config parser's checks across sections, run once every line was read: what one section
 * cannot tell alone (a server without a user, two servers at one address, a cluster without
 * servers, a router key its type does not use), and what follows from the whole (the implicit
 * clusters, every router's server map). */
#include "config_impl.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PROXYSQL_ADDRESS "127.0.0.1:6032"

/* ---- checks across sections ---- */

static const struct section *find_section(const struct parser *p, enum sect_kind kind, size_t idx)
{
	size_t i;
	for (i = 0; i < p->n_sects; i++)
		if (p->sects[i].kind == kind && p->sects[i].idx == idx)
			return &p->sects[i];
	return NULL;
}

/* The line of key, or of the section header when the key was not set (a missing key). */
static int key_or_section_line(const struct section *sec, const char *key)
{
	int l = cfg_key_line(sec, key);
	return l ? l : sec->line;
}

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
		if ((l = cfg_key_line(sec, "host")) || (l = cfg_key_line(sec, "port")))
			cfg_perr(p, l, cfg_key_line(sec, "host") == l ? "host" : "port", "conflicts with "
				 "socket at line %d (give either socket, or host and port)",
				 cfg_key_line(sec, "socket"));
		free(s->host);
		s->host = NULL;
		s->port = 0;
	} else if (!s->host) {
		s->host = xstrdup("127.0.0.1");
	}
	if (!s->user && !cfg_key_line(sec, "user"))
		cfg_perr(p, sec->line, "user", "missing in [%s] (the account cutoverd connects as)",
			 sec->title);
	if ((s->tls_mode == TLS_VERIFY_CA || s->tls_mode == TLS_VERIFY_IDENTITY) &&
	    !cfg_key_line(sec, "tls_ca"))
		cfg_perr(p, cfg_key_line(sec, "tls_mode"), "tls_mode", "%s needs tls_ca (the CA "
			 "certificate to verify the server with)", tls_mode_name(s->tls_mode));
	if (cfg_key_line(sec, "tls_cert") && !cfg_key_line(sec, "tls_key"))
		cfg_perr(p, cfg_key_line(sec, "tls_cert"), "tls_cert", "set without tls_key (give both "
			 "or neither)");
	if (cfg_key_line(sec, "tls_key") && !cfg_key_line(sec, "tls_cert"))
		cfg_perr(p, cfg_key_line(sec, "tls_key"), "tls_key", "set without tls_cert (give both "
			 "or neither)");
	if (find_cluster(p->c, s->cluster) == SIZE_MAX)
		cfg_add_cluster(p->c, s->cluster, s->line);
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
				cfg_perr(p, a->line, "socket", "[server %s] has the same socket as "
					 "[server %s] at line %d (%s)", a->name, b->name, b->line, a->socket);
				break;
			}
			if (a->host && b->host && !strcmp(a->host, b->host) && a->port == b->port) {
				cfg_perr(p, a->line, "host", "[server %s] has the same address as "
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
			cfg_perr(p, sec->line, shown, "no server belongs to this cluster (set cluster = %s "
				 "in its [server NAME] sections, or remove it)", cl->name);
			free(shown);
			continue;
		}
		if (cl->upstream && (!strcmp(cl->upstream, cl->name) || cluster_size(c, cl->upstream) == 0))
			cfg_perr(p, cfg_key_line(sec, "upstream"), "upstream", "'%s' is %s: name the cluster whose primary "
				 "this cluster's primary replicates from", cl->upstream,
				 !strcmp(cl->upstream, cl->name) ? "this cluster itself" : "not a cluster with servers");
		if (cl->repl_secret.password && !cfg_key_line(sec, "repl_user"))
			cfg_perr(p, sec->line, "repl_user", "missing in [%s] (a replication password is "
				 "set, but not the account it belongs to)", sec->title);
		if (cl->splitbrain != SB_STONITH)
			continue;
		for (j = 0; j < c->n_servers; j++) {
			const struct cfg_server *s = &c->servers[j];
			if (!strcmp(s->cluster, cl->name) && !s->stonith_hook && !cl->stonith_hook)
				cfg_perr(p, cfg_key_line(sec, "split_brain"), "split_brain", "stonith needs a "
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
						router_type_name((enum router_type)t));
}

/* Keys that belong to another router type are mistakes (a proxysql `backend` does nothing). */
static void check_router_keys(struct parser *p, const struct cfg_router *r,
			      const struct section *sec)
{
	const struct key_def *def;
	char types[64];
	size_t i;

	for (i = 0; i < sec->n_keys; i++) {
		def = cfg_key_find(SECT_ROUTER, sec->keys[i].key);
		if (def && def->routers && !(def->routers & RT(r->type))) {
			router_types_text(def->routers, types, sizeof(types));
			cfg_perr(p, sec->keys[i].line, def->name, "not used by type = %s (only by %s)",
				 router_type_name(r->type), types);
		}
	}
}

static void require(struct parser *p, const struct section *sec, const char *key, const char *why)
{
	if (!cfg_key_line(sec, key))
		cfg_perr(p, sec->line, key, "missing in [%s] (%s)", sec->title, why);
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
			cfg_perr(p, cfg_key_line(sec, "server_map"), "server_map", "'%s' is not a server of "
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
				cfg_perr(p, key_or_section_line(sec, "server_map"), "server_map", "servers %s "
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

	if (!cfg_key_line(sec, "type")) {
		cfg_perr(p, sec->line, "type", "missing in [%s] (haproxy, proxysql or exec)", sec->title);
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
			cfg_perr(p, cfg_key_line(sec, "reader_hostgroup"), "reader_hostgroup", "same as "
				 "writer_hostgroup (%d); use another hostgroup or -1 for none",
				 r->writer_hostgroup);
		if (r->tenant_hg_lo >= 0 && ((r->writer_hostgroup >= r->tenant_hg_lo && r->writer_hostgroup <= r->tenant_hg_hi) ||
					     (r->reader_hostgroup >= r->tenant_hg_lo && r->reader_hostgroup <= r->tenant_hg_hi)))
			cfg_perr(p, cfg_key_line(sec, "tenant_hostgroups"), "tenant_hostgroups", "%d-%d holds the %s "
				 "hostgroup (%d): tenants get hostgroups of their own; pick a range of unused ids",
				 r->tenant_hg_lo, r->tenant_hg_hi,
				 r->writer_hostgroup >= r->tenant_hg_lo && r->writer_hostgroup <= r->tenant_hg_hi ? "writer" : "reader",
				 r->writer_hostgroup >= r->tenant_hg_lo && r->writer_hostgroup <= r->tenant_hg_hi
					 ? r->writer_hostgroup : r->reader_hostgroup);
		if ((r->tenant_hg_lo >= 0) != (r->tenant_rule_lo >= 0))
			cfg_perr(p, cfg_key_line(sec, r->tenant_hg_lo >= 0 ? "tenant_hostgroups" : "tenant_rule_ids"),
				 r->tenant_hg_lo >= 0 ? "tenant_hostgroups" : "tenant_rule_ids",
				 "tenant moves need both tenant_hostgroups and tenant_rule_ids");
		break;
	case ROUTER_EXEC:
		require(p, sec, "exec_promote", "the command that moves writes to the new primary");
		break;
	}
	if (cluster_size(p->c, r->cluster) == 0) {
		cfg_perr(p, key_or_section_line(sec, "cluster"), "cluster", "no server belongs to "
			 "cluster '%s' (set cluster = %s in its [server NAME] sections)", r->cluster,
			 r->cluster);
		return;
	}
	build_map(p, r, sec);
}

static size_t cluster_routers(const struct config *c, const char *name)
{
	size_t i, n = 0;
	for (i = 0; i < c->n_routers; i++)
		n += !strcmp(c->routers[i].cluster, name);
	return n;
}

/* A cluster of one server and no router cannot switch over, and is most often a typo in a
 * server's `cluster =` (sandbx for sandbox): valid, so a warning, naming the near cluster. */
static void warn_lonely_cluster(struct parser *p, size_t ci, const char **names)
{
	const struct config *c = p->c;
	const char *name = c->clusters[ci].name, *near;
	const struct cfg_server *s = NULL;
	const struct section *sec;
	char *defaults, *advice;
	size_t j, n = 0;
	bool keyed;

	for (j = 0; j < c->n_servers && !s; j++)
		if (!strcmp(c->servers[j].cluster, name))
			s = &c->servers[j];
	for (j = 0; j < c->n_clusters; j++)
		if (j != ci)
			names[n++] = c->clusters[j].name;
	near = closest_name(name, names, n, 2);
	defaults = ci >= p->n_explicit_clusters ?
		xasprintf(", and no [cluster %s] section (every setting is a default)", name) : xstrdup("");
	advice = near ? xasprintf("did you mean cluster = %s (%zu server%s)?", near, cluster_size(c, near),
				  cluster_size(c, near) == 1 ? "" : "s") :
		xstrdup("add its replicas and a router, or ignore this if it is meant to be watched alone");
	sec = find_section(p, SECT_SERVER, (size_t)(s - c->servers));
	keyed = sec && cfg_key_line(sec, "cluster");
	cfg_pwarn(p, keyed ? cfg_key_line(sec, "cluster") : s->line, keyed ? "cluster" : NULL,
		  "cluster '%s' has only [server %s] and no router, so there is nothing to switch over to%s; %s",
		  name, s->name, defaults, advice);
	free(defaults);
	free(advice);
}

static void warn_lonely_clusters(struct parser *p)
{
	const struct config *c = p->c;
	const char **names = xcalloc(c->n_clusters + 1, sizeof(*names));
	size_t i;

	for (i = 0; i < c->n_clusters; i++)
		if (cluster_size(c, c->clusters[i].name) == 1 && cluster_routers(c, c->clusters[i].name) == 0)
			warn_lonely_cluster(p, i, names);
	free(names);
}

/* [ha]: the etcd endpoints and this member's name; the address defaults to the socket. */
static void check_ha(struct parser *p)
{
	struct cfg_ha *h = &p->c->ha;
	size_t i;

	if (!h->on)
		return;
	for (i = 0; i < p->n_sects && p->sects[i].kind != SECT_HA; i++)
		;
	if (!h->n_etcd)
		cfg_perr(p, i < p->n_sects ? p->sects[i].line : 0, "etcd", "missing in [ha]: the etcd members' client URLs, "
			 "e.g. http://10.0.0.1:2379, http://10.0.0.2:2379, http://10.0.0.3:2379");
	if (!h->name)
		cfg_perr(p, i < p->n_sects ? p->sects[i].line : 0, "name", "missing in [ha]: this member's name, unique "
			 "among the members");
	if (h->prefix && h->prefix[0] != '/')
		cfg_perr(p, i < p->n_sects ? cfg_key_line(&p->sects[i], "prefix") : 0, "prefix",
			 "'%s' must start with '/' (e.g. /cutoverd/prod)", h->prefix);
	if (!h->address)
		h->address = xstrdup(p->c->socket_path);
}

void cfg_check_all(struct parser *p)
{
	size_t i;

	check_ha(p);
	for (i = 0; i < p->c->n_servers; i++)
		check_server(p, i);
	check_endpoints(p);
	check_clusters(p);
	for (i = 0; i < p->c->n_routers; i++)
		check_router(p, i);
	if (p->c->n_servers == 0)
		cfg_perr(p, 0, NULL, "no [server NAME] section: at least one server is needed");
	else
		warn_lonely_clusters(p);
}
