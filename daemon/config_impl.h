/* What the parts of the config parser share; private to them, the rest of the daemon uses
 * config.h.  The parts, in the order a file goes through them:
 *   config.c        the entry points, a fresh struct config and its defaults, the error list,
 *                   freeing and lookups
 *   config_lex.c    the line reader: lines, [section] headers and "key = value" lines
 *   config_value.c  a value checked and stored according to its key's type
 *   config_keys.c   the key tables (keys as data)
 *   config_keys_set.c the keys with a syntax of their own (KT_FUNC)
 *   config_check.c  the checks across sections, once every line was read */
#ifndef CUTOVER_CONFIG_IMPL_H
#define CUTOVER_CONFIG_IMPL_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#define CFG_NAME_MAX     63              /* fits struct router_backend.server */
#define CFG_SUN_MAX      ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* key_def.routers: the bit of one router type */
#define RT(t) (1u << (t))
/* Durations in the key tables are milliseconds. */
#define SEC 1000LL
#define MIN (60 * SEC)

enum sect_kind { SECT_GLOBAL, SECT_CLUSTER, SECT_SERVER, SECT_ROUTER, SECT_HA, SECT__COUNT };

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

/* config.c: errors go to p->errs; a new section's struct with its defaults, returning its index */
void cfg_perr(struct parser *p, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* and warnings to p->c->warnings */
void cfg_pwarn(struct parser *p, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
size_t cfg_add_cluster(struct config *c, const char *name, int line);
size_t cfg_add_server(struct config *c, const char *name, int line);
size_t cfg_add_router(struct config *c, const char *name, int line);

/* config_lex.c: libinih's reader and handler (see there), and the line where a key was set
 * in sec (0 if it was not) */
char *cfg_read_line(char *buf, int num, void *arg);
int cfg_on_key(void *arg, const char *section, const char *name, const char *value);
int cfg_key_line(const struct section *sec, const char *key);

/* config_value.c */
void cfg_apply(struct parser *p, struct section *sec, const struct key_def *def,
	       const char *value);
void cfg_set_string(char **dst, const char *v);
bool cfg_valid_name(const char *s);

/* config_keys.c */
extern const char *const cfg_sect_names[];             /* NULL-terminated, by sect_kind */
extern const char *const cfg_sect_usage[SECT__COUNT];
extern const struct key_def *const cfg_key_tables[SECT__COUNT];
const struct key_def *cfg_key_find(enum sect_kind kind, const char *name);

/* config_keys_set.c: the set() of the keys with a syntax of their own (KT_FUNC), named in the
 * key tables */
void set_socket_group(struct parser *, void *, const struct key_def *, const char *);
void set_socket_mode(struct parser *, void *, const struct key_def *, const char *);
void set_admin_users(struct parser *, void *, const struct key_def *, const char *);
void set_admin_groups(struct parser *, void *, const struct key_def *, const char *);
void set_log_level(struct parser *, void *, const struct key_def *, const char *);
void set_heartbeat_table(struct parser *, void *, const struct key_def *, const char *);
void set_host(struct parser *, void *, const struct key_def *, const char *);
void set_address(struct parser *, void *, const struct key_def *, const char *);
void set_server_map(struct parser *, void *, const struct key_def *, const char *);
void set_write_endpoint(struct parser *, void *, const struct key_def *, const char *);
void set_metrics_address(struct parser *, void *, const struct key_def *, const char *);
void set_data_check_tables(struct parser *, void *, const struct key_def *, const char *);
void set_percent(struct parser *, void *, const struct key_def *, const char *);
void set_tenant_range(struct parser *, void *, const struct key_def *, const char *);
void set_etcd(struct parser *, void *, const struct key_def *, const char *);
void set_ha_source(struct parser *, void *, const struct key_def *, const char *);

/* config_check.c: the checks across sections; also completes what they need (implicit
 * clusters, default hosts, every router's server map) */
void cfg_check_all(struct parser *p);

#endif
