/* cutoverd.conf: parsed in one place (config.c and its parts, see config_impl.h) into a fresh
 * struct config, every error reported as file:line: key: message (valid values), all of them,
 * not only the first.  The daemon swaps a new config in only when it parsed clean.  See
 * cutoverd.conf(5). */
#ifndef CUTOVER_CONFIG_H
#define CUTOVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CFG_MAX_IDS 32

enum tls_mode { TLS_DISABLED, TLS_PREFERRED, TLS_REQUIRED, TLS_VERIFY_CA, TLS_VERIFY_IDENTITY };
enum candidate_pref { CAND_ALLOW, CAND_PREFER, CAND_NEVER };
enum flavor_hint { FLAVOR_HINT_AUTO, FLAVOR_HINT_MARIADB, FLAVOR_HINT_MYSQL };
enum router_type { ROUTER_HAPROXY, ROUTER_PROXYSQL, ROUTER_EXEC };
enum splitbrain_policy { SB_ALERT, SB_FENCE, SB_STONITH };
enum data_check_mode { DATA_CHECK_AUTO, DATA_CHECK_ON, DATA_CHECK_OFF };
enum watch_action { WATCH_ALARM, WATCH_REVERSE };

/* Where a password comes from; the secret itself is read when the config is loaded and kept
 * only in `password` (owned, wiped on free), never logged or returned by the API. */
struct cfg_secret {
	char *file;          /* owned: password_file = PATH (first line, trailing newline stripped) */
	char *env;           /* owned: password_env = VARNAME */
	bool inline_set;     /* password = … appeared inline in the file */
	char *password;      /* owned, secret; NULL = no password */
};

struct cfg_server {
	char *name;          /* owned: from [server NAME] */
	char *cluster;       /* owned: cluster = NAME (default "main") */
	char *host;          /* owned: host = 127.0.0.1 (default when no socket) */
	int port;            /* port = 3306; 0 for a server reached by socket */
	char *socket;        /* owned: socket = PATH (instead of host/port), may be NULL */
	char *user;          /* owned: user = NAME (required) */
	struct cfg_secret secret;
	enum tls_mode tls_mode;   /* tls_mode = disabled|preferred|required|verify_ca|verify_identity */
	char *tls_ca, *tls_cert, *tls_key;   /* owned, may be NULL; files must exist */
	/* server_public_key = PATH: the server's RSA public key (PEM), for caching_sha2_password
	 * (sha256_password) without TLS.  NULL: the client library asks the server for it, which
	 * a machine in the middle could answer with its own (see cutoverd.conf(5)). */
	char *server_public_key;
	enum candidate_pref candidate;        /* candidate = allow|prefer|never */
	enum flavor_hint flavor;              /* flavor = auto|mariadb|mysql */
	char *stonith_hook;  /* owned, may be NULL: argv as a string split on spaces, absolute path */
	char *fence_hook;    /* owned, may be NULL */
	int line;            /* line of the section header, for later messages */
};

struct cfg_router {
	char *name;          /* owned: from [router NAME] */
	char *cluster;       /* owned: cluster = NAME (default "main") */
	enum router_type type;    /* type = haproxy|proxysql|exec (required) */
	/* haproxy: address = /run/haproxy/admin.sock | unix:PATH | HOST:PORT (runtime API)
	 * proxysql: address = HOST:PORT of the admin interface (default 127.0.0.1:6032) */
	char *address;       /* owned */
	char *user;          /* owned: proxysql admin user */
	struct cfg_secret secret;   /* proxysql admin password */
	char *backend;       /* owned: haproxy backend that is the write endpoint */
	char *read_backend;  /* owned, may be NULL: haproxy backend for reads */
	int writer_hostgroup;     /* proxysql: writer_hostgroup = 10 */
	int reader_hostgroup;     /* proxysql: reader_hostgroup = 20 (-1 = none) */
	/* server_map = db1=srv1, db2=srv2: the router's name (haproxy server name, or
	 * proxysql "host:port") for each cutoverd server; default: haproxy uses the server's
	 * own name, proxysql its host:port. */
	size_t n_map;
	char **map_server;   /* owned array of owned strings */
	char **map_router;   /* owned array of owned strings */
	/* exec: one command per step, argv split on spaces, absolute path, no shell.  Steps:
	 * exec_status, exec_drain, exec_promote, exec_rollback, exec_finalize.  May be NULL. */
	char *exec_cmd[5];   /* owned, indexed by enum router_step (router.h) */
	int timeout_ms;      /* timeout = 2s: any one router call */
	/* write_endpoint = HOST:PORT where applications write through this router; a switchover's
	 * verify phase sends a probe write there (as the server's cutoverd user) and checks that it
	 * lands on the new primary.  May be NULL (the probe is then skipped, and the report says so). */
	char *write_endpoint;
	/* proxysql: tenant_hostgroups = 1000-1999, tenant_rule_ids = 100-999: the hostgroups and
	 * query-rule ids cutoverd may give the tenants it moves (tenant.h); lo = -1: not set. */
	int tenant_hg_lo, tenant_hg_hi;
	int tenant_rule_lo, tenant_rule_hi;
	int line;
};

struct cfg_cluster {
	char *name;          /* owned: from [cluster NAME]; a cluster named only by servers gets defaults */
	int lag_warn_ms;          /* lag_warn = 1000ms */
	int hysteresis;           /* hysteresis = 2 (consecutive observations before a state changes) */
	char *heartbeat_table;    /* owned: heartbeat_table = cutoverd.heartbeat (db.table) */
	/* upstream = CLUSTER: this cluster's primary replicates from that cluster's primary on
	 * purpose (the target of tenant moves, tenant.h): not a problem of the topology.  NULL: none. */
	char *upstream;
	bool heartbeat;           /* heartbeat = yes */
	char *repl_user;          /* owned: replication account used by CHANGE MASTER on promote */
	struct cfg_secret repl_secret;
	int max_lag_ms;           /* switchover default --max-lag (default 1000ms) */
	int catchup_lag_ms;       /* wait until the candidate is within this before fencing (default 20ms) */
	int catchup_timeout_ms;   /* give up catching up (and change nothing) after this (default 60s) */
	int drain_timeout_ms;     /* default 2000ms */
	int fence_timeout_ms;     /* default 2000ms: how long the fence may keep trying */
	int fence_budget_ms;      /* default 50ms: one try of the fence; held up longer, it is undone and tried again */
	int sync_timeout_ms;      /* default 5000ms */
	int promote_timeout_ms;   /* default 5000ms */
	int pause_timeout_ms;     /* pause_timeout = 10m: a pause before the fence (nothing blocked) rolls back after this */
	int blocked_pause_timeout_ms;   /* blocked_pause_timeout = 30s: a pause after it (writes blocked) */
	bool reverse_replication; /* reverse = yes */
	bool kill_sessions;       /* kill_sessions = yes (after read_only) */
	char **preflight_hooks;   /* owned NULL-terminated array of command strings, may be NULL */
	enum splitbrain_policy splitbrain;   /* split_brain = alert|fence|stonith */
	char **event_hooks;       /* owned NULL-terminated: event_hook in [cluster]: this cluster's events */
	char *stonith_hook;       /* owned, may be NULL: the default for servers without their own */
	char *fence_hook;         /* owned, may be NULL: likewise */
	int hook_timeout_ms;      /* hook_timeout = 30s: STONITH and fence hooks */
	bool auto_failover;       /* auto_failover = no */
	int failover_after;       /* failover_after = 3 (consecutive polls the primary is unreachable) */
	int failover_block_ms;    /* failover_block = 1h: no second automatic failover within this */
	/* the data check at the fence point (datacheck.h) */
	enum data_check_mode data_check;   /* data_check = auto (on for upgrades) | on | off */
	char **data_check_tables; /* owned NULL-terminated "schema.table" / "schema.*", NULL: all */
	int data_check_chunk_rows;     /* data_check_chunk_rows = 5000 */
	int data_check_rate;      /* data_check_rate = 0 rows/s (no limit) */
	int data_check_timeout_ms;     /* data_check_timeout = 30m */
	/* the watch after a switchover (afterwatch.h) */
	int watch_ms;             /* watch = 0 (off) */
	double watch_error_rate;  /* watch_error_rate = 1% (a fraction: 0.01) */
	int watch_p95_ms;         /* watch_p95 = 500ms */
	int watch_failed_per_min; /* watch_failed_per_min = 10 */
	enum watch_action watch_action;   /* watch_action = alarm | reverse */
	int line;
};

/* One problem found in a config file. */
struct cfg_error {
	int line;                 /* 0 when not tied to a line */
	char *key;                /* owned, may be NULL */
	char *message;            /* owned */
};

struct cfg_errors {
	struct cfg_error *v;      /* owned */
	size_t n;
};

#define CFG_MAX_ETCD 9

/* [ha]: this daemon is one member of several; one leader, elected through etcd, acts (ha.h). */
struct cfg_ha {
	bool on;                  /* an [ha] section is present */
	char *etcd[CFG_MAX_ETCD]; /* owned: etcd = http://ADDRESS:PORT, … (the members' client URLs) */
	size_t n_etcd;
	char *prefix;             /* owned: prefix = /cutoverd (the deployment's keys) */
	char *name;               /* owned: name = NAME (this member, unique) */
	char *address;            /* owned: address = where this member's control socket is (default: socket) */
	char *source;             /* owned: source = ADDRESS, where etcd connections leave from (NULL: any) */
	int lease_ttl_ms;         /* lease_ttl = 10s */
};

/* Do two configs say the same in [ha] (or both have none)? */
bool cfg_ha_same(const struct cfg_ha *a, const struct cfg_ha *b);

struct config {
	char *path;               /* owned: the file this came from */
	/* [cutoverd] */
	char *socket_path;        /* socket = /run/cutoverd/cutoverd.sock */
	char *socket_group;       /* socket_group = NAME, may be NULL */
	gid_t socket_gid;         /* resolved from socket_group, (gid_t)-1 if none */
	unsigned socket_mode;     /* socket_mode = 0660 (octal) */
	uid_t admin_uids[CFG_MAX_IDS];   /* admin_users = root, alice, 1001 (names or numbers) */
	size_t n_admin_uids;
	gid_t admin_gids[CFG_MAX_IDS];   /* admin_groups = dba, 2000 */
	size_t n_admin_gids;
	int poll_interval_ms;     /* poll_interval = 1s (100ms .. 60s) */
	int connect_timeout_ms;   /* connect_timeout = 1s */
	int query_timeout_ms;     /* query_timeout = 1s */
	char *state_dir;          /* state_dir = /var/lib/cutoverd */
	int log_level;            /* log_level = info (LOG_* from syslog.h) */
	int max_clients;          /* max_clients = 64 */
	int idle_timeout_ms;      /* idle_timeout = 300s */
	/* metrics_address = 127.0.0.1:9571: where /metrics and /healthz are served (metrics.c);
	 * a numeric IPv4 address or [IPv6] and a port, never a host name.  NULL = off. */
	char *metrics_address;
	/* event_hook = /path args: run on every event of every cluster (event_hooks.c).  Owned
	 * NULL-terminated array of command strings, may be NULL. */
	char **event_hooks;
	int event_hook_timeout_ms;   /* event_hook_timeout = 10s */
	int event_hook_rate;      /* event_hook_rate = 30: at most this many runs of one hook per minute */
	int watchdog_ms;          /* from WATCHDOG_USEC at run time; not a config key */

	struct cfg_server *servers;   /* owned array */
	size_t n_servers;
	struct cfg_router *routers;   /* owned array */
	size_t n_routers;
	struct cfg_cluster *clusters; /* owned array: one per cluster named anywhere */
	size_t n_clusters;
	struct cfg_ha ha;
	/* What parsed but is probably a mistake (a cluster of one server named by a typo): said by
	 * `cutoverd -n`, logged at start and reload, never a reason to refuse the file.  Owned. */
	struct cfg_errors warnings;
};

/* Parse and validate `path`.  Returns a new config, or NULL with every problem in *errs (which
 * the caller frees with cfg_errors_free).  Warnings never make it fail. */
struct config *config_load(const char *path, struct cfg_errors *errs);
/* The same from a string, `name` standing for the file name in messages (tests, fuzzing). */
struct config *config_load_string(const char *text, const char *name, struct cfg_errors *errs);
void config_free(struct config *c);
void cfg_errors_free(struct cfg_errors *e);
/* Format one error as "FILE:LINE: KEY: MESSAGE" into buf. */
void cfg_error_format(const char *file, const struct cfg_error *e, char *buf, size_t len);
/* And one warning as "FILE:LINE: warning: KEY: MESSAGE". */
void cfg_warning_format(const char *file, const struct cfg_error *w, char *buf, size_t len);

const struct cfg_cluster *config_cluster(const struct config *c, const char *name);
const struct cfg_server *config_server(const struct config *c, const char *name);
/* The router's name for a server.  config_load fills map_server/map_router for every server
 * of the router's cluster (server_map entries, else the defaults described above), so this
 * is a lookup; NULL if the server is not in the router's cluster. */
const char *config_router_name(const struct cfg_router *r, const struct cfg_server *s);

const char *tls_mode_name(enum tls_mode m);
const char *router_type_name(enum router_type t);
const char *candidate_name(enum candidate_pref c);
const char *splitbrain_name(enum splitbrain_policy p);
const char *data_check_name(enum data_check_mode m);
const char *watch_action_name(enum watch_action a);

#endif
