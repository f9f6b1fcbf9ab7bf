/* Several cutoverd members, one leader elected through a real etcd (it_members.c): what the ha
 * suite and the ProxySQL suites' leader-killed cases share.
 *
 * ha_begin() stops the suite's own cutoverd, starts a 3-member etcd on loopback (client ports
 * IT_BASE_PORT + 701..703, peers + 711..713) and three members (m1..m3), each with its own
 * socket (member_sock[m]), config (member_conf[m]: it_config_text_cluster(member_cluster_extra,
 * NULL), or member_base(), with this member's socket, state_dir and metrics port, an [ha]
 * section with lease_ttl TTL_MS, then member_extra), log (member_log[m]) and etcd source address
 * (127.0.0.(10 + m)); it returns the one leader once every member names it.  A test that fails
 * leaves none of them running.  ha_end() stops them and etcd and starts the suite's cutoverd
 * again with its config. */
#ifndef CUTOVER_IT_MEMBERS_H
#define CUTOVER_IT_MEMBERS_H

#include "it_lib.h"

#define MEMBERS 3
#define ETCDS 3
#define TTL_MS 2000

/* Each member's etcd connections leave from its own loopback address, so that one can be cut off. */
#define MEMBER_SOURCE "127.0.0.%d"

#define MEMBERS_NO_ETCD "no /usr/bin/etcd (tests/deps.sh installs Debian's etcd-server)"

extern pid_t etcd_pid[ETCDS + 1], member_pid[MEMBERS + 1];
extern const char *member_extra;          /* appended to each member's config (after [ha]) */
extern const char *member_cluster_extra;  /* added to its [cluster] section, NULL: none */
/* NULL, or what gives the members' config before their own keys instead (a new string; then
 * member_cluster_extra does not count): the config a suite runs its own cutoverd with, say */
extern char *(*member_base)(void);
extern bool member_frozen[MEMBERS + 1];   /* SIGSTOPped: not asked (it would not answer) */
extern int member_ssh_port;               /* non-zero: each member's address is ssh://root@127.0.0.1:PORT/ its socket */
extern char member_sock[MEMBERS + 1][300], member_conf[MEMBERS + 1][300], member_log[MEMBERS + 1][300];

int etcd_port(int i);
int member_metrics_port(int m);
/* Signal *pid, wait up to 5 s (then SIGKILL) and reap it; *pid = 0. */
void reap(pid_t *pid, int sig);
void etcd_start(void);
void etcd_stop_all(void);
/* One request to member m: the reply (new reference), NULL if it does not answer. */
json_t *call_member(int m, const char *cmd, json_t *args);
json_t *member_ha(int m);   /* new reference: status.ha, or NULL */
/* The member that leads and acts (0: none), and how many do. */
int the_leader(int *count);
void member_start(int m);
void members_stop(void);
/* etcd up and healthy, the suite's own cutoverd stopped, three members started; the leader. */
int ha_begin(void);
void ha_end(void);
/* Member m's status shows `server` as a replica with a known lag. */
bool member_lag_known(int m, const char *server);
/* The leader, once one other than `gone` acts, within 2 x TTL (+ 500 ms) of t0, and alone; no
 * more than takeover_writable servers writable at any look meanwhile (ha_begin sets it to 1: a
 * test with another cluster's primary in the sandbox raises it). */
extern int takeover_writable;
int takeover(int gone, int64_t t0, const char *what);
/* The outcome member m's history gives cutover id ("" if it has none). */
void member_outcome(int m, const char *id, char *out, size_t len);
void kill_member(int m);    /* SIGKILL, reaped */
bool member_acting(int m);
/* Member m's log holds needle. */
bool member_log_has(int m, const char *needle);
/* /usr/bin/etcd is there: true.  Else false after saying SKIPPED loudly (it_skip_suite), or the
 * test fails when CUTOVER_REQUIRE_ETCD=1. */
bool members_etcd_usable(void);

#endif
