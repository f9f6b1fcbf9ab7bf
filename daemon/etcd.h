/* etcd's v3 API through its JSON gateway (etcd 3.4 and later: POST /v3/...), spoken with
 * libevent's HTTP client and jansson: the store the members of a cutoverd deployment elect
 * their leader in (ha.h).  No consensus of our own.
 *
 * Asynchronous on the loop.  Each call has a deadline; an endpoint that refuses, times out or
 * answers 5xx is left for the next one of the list, within the same deadline, and the next
 * call starts with the endpoint that answered last.  Endpoints are http://ADDRESS:PORT with a
 * numeric address (a name would need a lookup on the loop).  Keys and values are base64 on the
 * wire; here they are plain strings.  Revisions and lease ids are 64-bit numbers, which the
 * gateway writes as strings. */
#ifndef CUTOVER_ETCD_H
#define CUTOVER_ETCD_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct etcd;

struct etcd_kv {
	char *key, *value;                /* owned */
	long long create_revision, mod_revision, lease;
};

struct etcd_result {
	int err;                          /* 0, or -1 with errmsg (no endpoint answered, or an error body) */
	char errmsg[300];
	long long revision;               /* header.revision */
	bool succeeded;                   /* a transaction's compare held */
	struct etcd_kv *kvs;              /* owned: a range's (or a failed transaction's range's) keys */
	size_t n_kvs;
	long long lease_id, ttl;          /* lease grant / keepalive: ttl 0 = the lease is gone */
};

typedef void (*etcd_cb)(struct etcd *e, struct etcd_result *r, void *arg);

/* endpoints: "http://127.0.0.1:2379" …  NULL with why when one does not parse. */
struct etcd *etcd_new(struct event_base *base, const char *const *endpoints, size_t n, int timeout_ms, char *err,
		      size_t errlen);
void etcd_free(struct etcd *e);
/* The endpoint the next call starts with ("http://…"). */
const char *etcd_endpoint(const struct etcd *e);

/* Each returns 0, or -1 if a call of this struct etcd is already running (one at a time). */
int etcd_lease_grant(struct etcd *e, int ttl_s, etcd_cb cb, void *arg);
int etcd_lease_keepalive(struct etcd *e, long long lease, etcd_cb cb, void *arg);
int etcd_lease_revoke(struct etcd *e, long long lease, etcd_cb cb, void *arg);
/* key := value (with lease, 0: none) if key does not exist; else (succeeded false) its kv. */
int etcd_create(struct etcd *e, const char *key, const char *value, long long lease, etcd_cb cb, void *arg);
/* The key's kv (n_kvs 0 when absent). */
int etcd_get(struct etcd *e, const char *key, etcd_cb cb, void *arg);
/* key := value only while `guard` still has create_revision `rev` (the leader key: a fencing
 * token) and, unless guard_value is NULL, that value; succeeded false when it has not. */
int etcd_put_guarded(struct etcd *e, const char *guard, long long rev, const char *guard_value, const char *key,
		     const char *value, etcd_cb cb, void *arg);
/* Delete key only while it has create_revision rev. */
int etcd_delete_guarded(struct etcd *e, const char *key, long long rev, etcd_cb cb, void *arg);
/* Every key under prefix (kvs in key order). */
int etcd_get_prefix(struct etcd *e, const char *prefix, etcd_cb cb, void *arg);
/* Connections leave from this local (numeric) address; NULL: the system's choice. */
void etcd_set_source(struct etcd *e, const char *address);
bool etcd_busy(const struct etcd *e);

/* The pure halves, for the unit tests: a request body, and an answer parsed into r (0, or -1
 * with r->errmsg).  path is the API path ("/v3/kv/txn"). */
char *etcd_b64(const char *s);
char *etcd_unb64(const char *s);
json_t *etcd_body_create(const char *key, const char *value, long long lease);
json_t *etcd_body_guarded_put(const char *guard, long long rev, const char *guard_value, const char *key,
			      const char *value);
json_t *etcd_body_guarded_delete(const char *key, long long rev);
json_t *etcd_body_prefix(const char *prefix);
int etcd_parse(const char *path, const char *body, size_t len, struct etcd_result *r);
void etcd_result_clear(struct etcd_result *r);

#endif
