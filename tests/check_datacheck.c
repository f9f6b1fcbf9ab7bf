/* The data check's SQL (daemon/datacheck_sql.c) and the watch's p95 (daemon/afterwatch.c):
 * the pure parts, checked against the text the servers are sent. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "afterwatch.h"
#include "datacheck.h"
#include "router.h"

Suite *datacheck_suite(void);

START_TEST(test_quote_ident)
{
	char *q = dc_quote_ident("orders");
	ck_assert_str_eq(q, "`orders`");
	free(q);
	q = dc_quote_ident("we`ird");
	ck_assert_str_eq(q, "`we``ird`");   /* a backtick is doubled, never ends the name */
	free(q);
	q = dc_quote_ident("");
	ck_assert_str_eq(q, "``");
	free(q);
}
END_TEST

START_TEST(test_int_literal)
{
	ck_assert(dc_int_literal("0"));
	ck_assert(dc_int_literal("537"));
	ck_assert(dc_int_literal("-42"));
	ck_assert(dc_int_literal("18446744073709551615"));
	ck_assert(!dc_int_literal(NULL));
	ck_assert(!dc_int_literal(""));
	ck_assert(!dc_int_literal("-"));
	ck_assert(!dc_int_literal("1e5"));
	ck_assert(!dc_int_literal("1; DROP TABLE t"));
	ck_assert(!dc_int_literal("' OR 1=1"));
	ck_assert(!dc_int_literal("123456789012345678901234"));   /* longer than any integer column */
}
END_TEST

START_TEST(test_checksum_sql)
{
	static const char *const cols[] = { "id", "v", "n" };
	char *q = dc_sql_checksum("shop", "orders", cols, 3, "id", "400", "600");

	ck_assert_str_eq(q, "SELECT COUNT(*) AS n, "
			    "COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', `id`, `v`, `n`, CONCAT(ISNULL(`id`), ISNULL(`v`), ISNULL(`n`))))), 0) AS crc_xor, "
			    "COALESCE(SUM(CRC32(CONCAT_WS('#', `id`, `v`, `n`, CONCAT(ISNULL(`id`), ISNULL(`v`), ISNULL(`n`))))), 0) AS crc_sum "
			    "FROM `shop`.`orders` WHERE `id` > 400 AND `id` <= 600");
	free(q);
	/* the first chunk, the last, the whole table */
	q = dc_sql_checksum("shop", "orders", cols, 1, "id", NULL, "200");
	ck_assert(strstr(q, "CONCAT_WS('#', `id`, CONCAT(ISNULL(`id`)))") != NULL);
	ck_assert(strstr(q, " WHERE `id` <= 200") != NULL);
	free(q);
	q = dc_sql_checksum("shop", "orders", cols, 3, "id", "600", NULL);
	ck_assert(strstr(q, " WHERE `id` > 600") != NULL && strstr(q, "<=") == NULL);
	free(q);
	q = dc_sql_checksum("shop", "orders", cols, 3, NULL, "600", "800");
	ck_assert(strstr(q, "WHERE") == NULL);
	ck_assert(strstr(q, "FROM `shop`.`orders`") != NULL);
	free(q);
}
END_TEST

START_TEST(test_boundary_sql)
{
	char *q = dc_sql_boundary("shop", "orders", "id", NULL, 5000);
	ck_assert_str_eq(q, "SELECT `id` FROM `shop`.`orders` ORDER BY `id` LIMIT 1 OFFSET 4999");
	free(q);
	q = dc_sql_boundary("shop", "ord`ers", "id", "4999", 5000);
	ck_assert_str_eq(q, "SELECT `id` FROM `shop`.`ord``ers` WHERE `id` > 4999 ORDER BY `id` LIMIT 1 OFFSET 4999");
	free(q);
}
END_TEST

START_TEST(test_p95)
{
	long long before[ROUTER_LAT_BUCKETS] = { 0 }, after[ROUTER_LAT_BUCKETS] = { 0 };

	/* 100 queries: 90 under 1 ms, 10 between 100 and 500 ms: the p95 is in the 500 ms bucket */
	after[2] = 90;
	after[7] = 10;
	ck_assert(fabs(watch_p95_ms(before, after, 20) - 500.0) < 1e-9);
	/* 96 fast: the p95 is the fast bucket's bound */
	after[2] = 96;
	after[7] = 4;
	ck_assert(fabs(watch_p95_ms(before, after, 20) - 1.0) < 1e-9);
	/* only the difference counts */
	before[2] = 96;
	before[7] = 0;
	ck_assert(fabs(watch_p95_ms(before, after, 1) - 500.0) < 1e-9);
	/* too few, or counters that went back (ProxySQL restarted): unknown */
	ck_assert(isnan(watch_p95_ms(before, after, 20)));
	before[3] = 5;
	ck_assert(isnan(watch_p95_ms(before, after, 1)));
	/* everything past 10 s: the unbounded bucket reads as its lower bound */
	memset(before, 0, sizeof(before));
	memset(after, 0, sizeof(after));
	after[ROUTER_LAT_BUCKETS - 1] = 50;
	ck_assert(fabs(watch_p95_ms(before, after, 20) - 10000.0) < 1e-9);
}
END_TEST

Suite *datacheck_suite(void)
{
	Suite *s = suite_create("datacheck");
	TCase *tc = tcase_create("sql");

	tcase_add_test(tc, test_quote_ident);
	tcase_add_test(tc, test_int_literal);
	tcase_add_test(tc, test_checksum_sql);
	tcase_add_test(tc, test_boundary_sql);
	suite_add_tcase(s, tc);
	tc = tcase_create("watch");
	tcase_add_test(tc, test_p95);
	suite_add_tcase(s, tc);
	return s;
}
