/* etcd.c's pure half: base64, the request bodies, the answers parsed (what etcd 3.4's JSON
 * gateway sends: the bodies below are its real answers, recorded with curl).  The calls
 * against a real 3-member etcd are tests/etcd-check.sh. */
#include "etcd.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

Suite *etcd_suite(void);

START_TEST(test_b64)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "/cutoverd/prod/leader" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
					     "L2N1dG92ZXJkL3Byb2QvbGVhZGVy" };
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *e = etcd_b64(plain[i]), *d = etcd_unb64(coded[i]);
		ck_assert_str_eq(e, coded[i]);
		ck_assert_str_eq(d, plain[i]);
		free(e);
		free(d);
	}
	ck_assert_ptr_null(etcd_unb64("Zm9v!"));
}
END_TEST

START_TEST(test_body_create)
{
	json_t *b = etcd_body_create("/c/leader", "node1", 4468030654334404101LL);
	char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_str_eq(s, "{\"compare\":[{\"create_revision\":\"0\",\"key\":\"L2MvbGVhZGVy\",\"target\":\"CREATE\"}],"
			    "\"failure\":[{\"requestRange\":{\"key\":\"L2MvbGVhZGVy\"}}],"
			    "\"success\":[{\"requestPut\":{\"key\":\"L2MvbGVhZGVy\",\"lease\":\"4468030654334404101\","
			    "\"value\":\"bm9kZTE=\"}}]}");
	free(s);
	json_decref(b);
	b = etcd_body_create("/c/leader", "node1", 0);
	ck_assert_ptr_null(json_object_get(json_object_get(json_array_get(json_object_get(b, "success"), 0), "requestPut"),
					   "lease"));
	json_decref(b);
}
END_TEST

START_TEST(test_body_guarded)
{
	json_t *b = etcd_body_guarded_put("/c/leader", 42, NULL, "/c/journal/x", "{}");
	char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_str_eq(s, "{\"compare\":[{\"create_revision\":\"42\",\"key\":\"L2MvbGVhZGVy\",\"target\":\"CREATE\"}],"
			    "\"failure\":[{\"requestRange\":{\"key\":\"L2MvbGVhZGVy\"}}],"
			    "\"success\":[{\"requestPut\":{\"key\":\"L2Mvam91cm5hbC94\",\"value\":\"e30=\"}}]}");
	free(s);
	json_decref(b);
	/* with the value the member wrote: a second compare */
	b = etcd_body_guarded_put("/c/leader", 42, "m1", "/c/journal/x", "{}");
	ck_assert_int_eq(json_array_size(json_object_get(b, "compare")), 2);
	s = json_dumps(json_array_get(json_object_get(b, "compare"), 1), JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"key\":\"L2MvbGVhZGVy\",\"target\":\"VALUE\",\"value\":\"bTE=\"}");
	free(s);
	json_decref(b);
	b = etcd_body_guarded_delete("/c/leader", 42);
	s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(s, "{\"compare\":[{\"create_revision\":\"42\",\"key\":\"L2MvbGVhZGVy\",\"target\":\"CREATE\"}],"
			    "\"success\":[{\"requestDeleteRange\":{\"key\":\"L2MvbGVhZGVy\"}}]}");
	free(s);
	json_decref(b);
}
END_TEST

/* A range of every key under a prefix: range_end is the prefix with its last byte plus one. */
START_TEST(test_body_prefix)
{
	json_t *b = etcd_body_prefix("/c/journal/");
	char *end = etcd_unb64(json_string_value(json_object_get(b, "range_end")));
	char *key = etcd_unb64(json_string_value(json_object_get(b, "key")));

	ck_assert_str_eq(key, "/c/journal/");
	ck_assert_str_eq(end, "/c/journal0");
	free(end);
	free(key);
	json_decref(b);
	/* a last byte of 0xff is dropped and the one before it raised */
	b = etcd_body_prefix("a\xff");
	end = etcd_unb64(json_string_value(json_object_get(b, "range_end")));
	ck_assert_str_eq(end, "b");
	free(end);
	json_decref(b);
}
END_TEST

static void parse_ok(const char *path, const char *body, struct etcd_result *r)
{
	ck_assert_msg(etcd_parse(path, body, strlen(body), r) == 0, "%s: %s", body, r->errmsg);
	ck_assert_int_eq(r->err, 0);
}

START_TEST(test_parse_lease)
{
	struct etcd_result r;

	parse_ok("/v3/lease/grant", "{\"header\":{\"cluster_id\":\"12419417797570985050\",\"member_id\":\"1520713267247070721\","
				    "\"revision\":\"1\",\"raft_term\":\"2\"},\"ID\":\"4468030654334404101\",\"TTL\":\"5\"}", &r);
	ck_assert(r.lease_id == 4468030654334404101LL);
	ck_assert_int_eq(r.ttl, 5);
	ck_assert_int_eq(r.revision, 1);
	etcd_result_clear(&r);
	/* a keepalive: alive, then a lease that is gone (no TTL) */
	parse_ok("/v3/lease/keepalive", "{\"result\":{\"header\":{\"revision\":\"2\"},\"ID\":\"4468030654334404101\",\"TTL\":\"5\"}}\n",
		 &r);
	ck_assert_int_eq(r.ttl, 5);
	etcd_result_clear(&r);
	parse_ok("/v3/lease/keepalive", "{\"result\":{\"header\":{\"revision\":\"3\"},\"ID\":\"4468030654334404101\"}}\n", &r);
	ck_assert_int_eq(r.ttl, 0);
	etcd_result_clear(&r);
}
END_TEST

START_TEST(test_parse_txn)
{
	struct etcd_result r;

	parse_ok("/v3/kv/txn", "{\"header\":{\"revision\":\"2\",\"raft_term\":\"2\"},\"succeeded\":true,"
			       "\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}", &r);
	ck_assert(r.succeeded);
	ck_assert_uint_eq(r.n_kvs, 0);
	etcd_result_clear(&r);
	/* the compare failed: no "succeeded", the range of the failure branch */
	parse_ok("/v3/kv/txn", "{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"},"
			       "\"kvs\":[{\"key\":\"L2MvbGVhZGVy\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\","
			       "\"value\":\"bm9kZTE=\",\"lease\":\"4468030654334404101\"}],\"count\":\"1\"}}]}", &r);
	ck_assert(!r.succeeded);
	ck_assert_uint_eq(r.n_kvs, 1);
	ck_assert_str_eq(r.kvs[0].key, "/c/leader");
	ck_assert_str_eq(r.kvs[0].value, "node1");
	ck_assert_int_eq(r.kvs[0].create_revision, 2);
	ck_assert(r.kvs[0].lease == 4468030654334404101LL);
	etcd_result_clear(&r);
}
END_TEST

START_TEST(test_parse_errors)
{
	struct etcd_result r;
	static const char *const bad[] = {
		"not json",
		"[1]",
		"{\"error\":\"etcdserver: requested lease not found\",\"code\":5,\"message\":\"etcdserver: requested lease not found\"}",
		"{\"kvs\":[{\"key\":\"!!!\",\"value\":\"\"}]}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(etcd_parse("/v3/kv/range", bad[i], strlen(bad[i]), &r) == -1, "%s accepted", bad[i]);
		ck_assert_int_eq(r.err, -1);
		ck_assert(r.errmsg[0]);
		etcd_result_clear(&r);
	}
	ck_assert(etcd_parse("/v3/lease/grant", bad[2], strlen(bad[2]), &r) == -1);
	ck_assert_str_eq(r.errmsg, "etcdserver: requested lease not found");
	etcd_result_clear(&r);
}
END_TEST

START_TEST(test_endpoints)
{
	char err[200];
	const char *bad[] = { "127.0.0.1:2379" }, *bad2[] = { "http://etcd1:2379" }, *good[] = { "http://127.0.0.1:2379" };
	struct event_base *base = event_base_new();
	struct etcd *e;

	ck_assert_ptr_null(etcd_new(base, bad, 1, 1000, err, sizeof(err)));
	ck_assert(strstr(err, "127.0.0.1:2379"));
	ck_assert_ptr_null(etcd_new(base, bad2, 1, 1000, err, sizeof(err)));
	ck_assert(strstr(err, "numeric"));
	ck_assert_ptr_null(etcd_new(base, good, 0, 1000, err, sizeof(err)));
	e = etcd_new(base, good, 1, 1000, err, sizeof(err));
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(etcd_endpoint(e), "http://127.0.0.1:2379");
	ck_assert(!etcd_busy(e));
	etcd_free(e);
	event_base_free(base);
}
END_TEST

Suite *etcd_suite(void)
{
	Suite *s = suite_create("etcd");
	TCase *tc = tcase_create("etcd");

	tcase_add_test(tc, test_b64);
	tcase_add_test(tc, test_body_create);
	tcase_add_test(tc, test_body_guarded);
	tcase_add_test(tc, test_body_prefix);
	tcase_add_test(tc, test_parse_lease);
	tcase_add_test(tc, test_parse_txn);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_endpoints);
	suite_add_tcase(s, tc);
	return s;
}
