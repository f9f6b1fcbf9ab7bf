/* etcd-drive: daemon/etcd.c against a real etcd cluster, one phase per run (tests/etcd-check.sh
 * starts the cluster and kills its members between phases).  Prints each step; exit 0 when every
 * check of the phase held, 1 otherwise, 2 on usage.
 *   etcd-drive basic|failover|noquorum PREFIX ENDPOINT...
 * basic: a lease, the leader key created with it once and refused the second time (with the
 *   first holder's kv back), a put guarded by the key's create_revision that holds, one guarded
 *   by another revision that does not, keepalive, revoke — and the key gone with its lease.
 * failover: the first endpoint is down: the calls still succeed, through another.
 * noquorum: two of three members are down: a call fails within its deadline (no hang). */
#include "etcd.h"
#include "util.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 3000

static struct event_base *base;
static struct etcd_result last;
static int failures;

static void got(struct etcd *e, struct etcd_result *r, void *arg)
{
	(void)e;
	(void)arg;
	etcd_result_clear(&last);
	last = *r;
	/* the kvs are the caller's to free once copied: take them over */
	r->kvs = NULL;
	r->n_kvs = 0;
	event_base_loopbreak(base);
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

/* Run one call to its end. */
#define RUN(call) do { if ((call) < 0) { check(false, "%s: busy", #call); break; } event_base_dispatch(base); } while (0)

int main(int argc, char **argv)
{
	char err[300], key[256], jkey[256];
	struct etcd *e;
	const char *phase;
	int64_t t0;

	if (argc < 4) {
		fprintf(stderr, "usage: etcd-drive basic|failover|noquorum PREFIX ENDPOINT...\n");
		return 2;
	}
	phase = argv[1];
	snprintf(key, sizeof(key), "%s/leader", argv[2]);
	snprintf(jkey, sizeof(jkey), "%s/journal/x", argv[2]);
	base = event_base_new();
	e = etcd_new(base, (const char *const *)argv + 3, (size_t)argc - 3, TIMEOUT_MS, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "etcd-drive: %s\n", err);
		return 2;
	}
	if (!strcmp(phase, "basic")) {
		long long lease, rev;
		RUN(etcd_lease_grant(e, 3, got, NULL));
		check(!last.err && last.lease_id && last.ttl == 3, "lease granted: id %lld ttl %lld %s", last.lease_id, last.ttl,
		      last.errmsg);
		lease = last.lease_id;
		RUN(etcd_create(e, key, "node1", lease, got, NULL));
		check(!last.err && last.succeeded, "%s created by node1 %s", key, last.errmsg);
		RUN(etcd_create(e, key, "node2", 0, got, NULL));
		check(!last.err && !last.succeeded && last.n_kvs == 1 && !strcmp(last.kvs[0].value, "node1") &&
			      last.kvs[0].lease == lease,
		      "node2's create refused; the key is node1's (%s, lease %lld)", last.n_kvs ? last.kvs[0].value : "?",
		      last.n_kvs ? last.kvs[0].lease : 0);
		rev = last.n_kvs ? last.kvs[0].create_revision : -1;
		RUN(etcd_put_guarded(e, key, rev, "node1", jkey, "{\"event\":\"begin\"}", got, NULL));
		check(!last.err && last.succeeded, "a put guarded by the leader key's revision %lld and value holds", rev);
		RUN(etcd_put_guarded(e, key, rev + 1000, NULL, jkey, "{\"event\":\"late\"}", got, NULL));
		check(!last.err && !last.succeeded, "a put guarded by another revision (%lld) is refused", rev + 1000);
		RUN(etcd_put_guarded(e, key, rev, "node2", jkey, "{\"event\":\"late\"}", got, NULL));
		check(!last.err && !last.succeeded, "a put guarded by the right revision but another value is refused");
		RUN(etcd_get(e, jkey, got, NULL));
		check(!last.err && last.n_kvs == 1 && !strcmp(last.kvs[0].value, "{\"event\":\"begin\"}"),
		      "the journal key holds the first put only (%s)", last.n_kvs ? last.kvs[0].value : "absent");
		RUN(etcd_lease_keepalive(e, lease, got, NULL));
		check(!last.err && last.ttl == 3, "keepalive: ttl %lld", last.ttl);
		RUN(etcd_lease_revoke(e, lease, got, NULL));
		check(!last.err, "lease revoked %s", last.errmsg);
		RUN(etcd_lease_keepalive(e, lease, got, NULL));
		check(!last.err && last.ttl == 0, "a keepalive of the revoked lease says it is gone (ttl %lld)", last.ttl);
		RUN(etcd_get(e, key, got, NULL));
		check(!last.err && last.n_kvs == 0, "the leader key went with its lease");
		RUN(etcd_delete_guarded(e, jkey, 0, got, NULL));
		check(!last.err && !last.succeeded, "a delete guarded by a wrong revision is refused");
	} else if (!strcmp(phase, "failover")) {
		t0 = now_mono_us();
		RUN(etcd_lease_grant(e, 3, got, NULL));
		check(!last.err && last.ttl == 3, "with %s down, a lease still granted in %.0f ms %s", argv[3],
		      (double)(now_mono_us() - t0) / 1000.0, last.errmsg);
		check(strcmp(etcd_endpoint(e), argv[3]) != 0, "answered by %s", etcd_endpoint(e));
		RUN(etcd_create(e, key, "node3", last.lease_id, got, NULL));
		check(!last.err && last.succeeded, "and the leader key created %s", last.errmsg);
	} else if (!strcmp(phase, "noquorum")) {
		t0 = now_mono_us();
		RUN(etcd_create(e, key, "node3", 0, got, NULL));
		check(last.err && now_mono_us() - t0 < (int64_t)(TIMEOUT_MS + 1000) * 1000,
		      "without quorum the create fails in %.0f ms (deadline %d ms): %s", (double)(now_mono_us() - t0) / 1000.0,
		      TIMEOUT_MS, last.errmsg);
	} else {
		fprintf(stderr, "etcd-drive: unknown phase %s\n", phase);
		return 2;
	}
	etcd_result_clear(&last);
	etcd_free(e);
	event_base_free(base);
	return failures ? 1 : 0;
}
