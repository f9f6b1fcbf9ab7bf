/* Unit tests for lib/gtid.c: both notations, set arithmetic, and every way a position can be
 * malformed. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtid.h"

Suite *gtid_suite(void);

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "4a6b1c2d-0000-11ef-8000-000000000002"
#define U1_UPPER "3E11FA47-71CA-11E1-9E33-C80AA9429562"

static struct gtid_set parse_ok(enum gtid_kind kind, const char *text);
static void check_canon(enum gtid_kind kind, const char *text, const char *want);
static int contains(enum gtid_kind kind, const char *a, const char *b);
static int equal(enum gtid_kind kind, const char *a, const char *b);
static void check_subtract(enum gtid_kind kind, const char *a, const char *b, const char *want);
static uint64_t missing(enum gtid_kind kind, const char *a, const char *b);

static struct gtid_set parse_ok(enum gtid_kind kind, const char *text)
{
	struct gtid_set s;
	char err[128] = "untouched";

	ck_assert_msg(gtid_parse(kind, text, &s, err, sizeof(err)) == 0,
	    "parse of \"%s\" failed: %s", text, err);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(s.kind, kind);
	return s;
}

static void check_canon(enum gtid_kind kind, const char *text, const char *want)
{
	struct gtid_set s = parse_ok(kind, text);
	char *got = gtid_format(&s);

	ck_assert_msg(!strcmp(got, want), "\"%s\" formatted as \"%s\", want \"%s\"", text, got, want);
	free(got);
	gtid_free(&s);
}

static int contains(enum gtid_kind kind, const char *a, const char *b)
{
	struct gtid_set sa = parse_ok(kind, a), sb = parse_ok(kind, b);
	int r = gtid_contains(&sa, &sb);

	gtid_free(&sa);
	gtid_free(&sb);
	return r;
}

static int equal(enum gtid_kind kind, const char *a, const char *b)
{
	struct gtid_set sa = parse_ok(kind, a), sb = parse_ok(kind, b);
	int r = gtid_equal(&sa, &sb);

	gtid_free(&sa);
	gtid_free(&sb);
	return r;
}

static void check_subtract(enum gtid_kind kind, const char *a, const char *b, const char *want)
{
	struct gtid_set sa = parse_ok(kind, a), sb = parse_ok(kind, b);
	char *got = gtid_subtract_str(&sa, &sb);

	ck_assert_msg(!strcmp(got, want), "\"%s\" - \"%s\" = \"%s\", want \"%s\"", a, b, got, want);
	free(got);
	gtid_free(&sa);
	gtid_free(&sb);
}

static uint64_t missing(enum gtid_kind kind, const char *a, const char *b)
{
	struct gtid_set sa = parse_ok(kind, a), sb = parse_ok(kind, b);
	uint64_t n = gtid_count_missing(&sa, &sb);

	gtid_free(&sa);
	gtid_free(&sb);
	return n;
}

START_TEST(parse_mariadb_valid)
{
	struct gtid_set s;

	s = parse_ok(GTID_MARIADB, "");
	ck_assert_uint_eq(s.n, 0);
	gtid_free(&s);
	s = parse_ok(GTID_MARIADB, NULL);
	ck_assert_uint_eq(s.n, 0);
	gtid_free(&s);
	s = parse_ok(GTID_MARIADB, "  \n ");
	ck_assert_uint_eq(s.n, 0);
	gtid_free(&s);

	s = parse_ok(GTID_MARIADB, "2-20-7,0-1-100, 1-3-5");
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.e[0].domain, 0);
	ck_assert_uint_eq(s.e[0].server_id, 1);
	ck_assert_uint_eq(s.e[0].n_iv, 1);
	ck_assert_uint_eq(s.e[0].iv[0].lo, 100);
	ck_assert_uint_eq(s.e[0].iv[0].hi, 100);
	ck_assert_uint_eq(s.e[1].domain, 1);
	ck_assert_uint_eq(s.e[1].server_id, 3);
	ck_assert_uint_eq(s.e[2].domain, 2);
	ck_assert_uint_eq(s.e[2].iv[0].hi, 7);
	gtid_free(&s);

	s = parse_ok(GTID_MARIADB, "4294967295-4294967295-18446744073709551615");
	ck_assert_uint_eq(s.e[0].domain, UINT32_MAX);
	ck_assert_uint_eq(s.e[0].server_id, UINT32_MAX);
	ck_assert_uint_eq(s.e[0].iv[0].hi, UINT64_MAX);
	gtid_free(&s);

	/* The server accepts sequence 0 (e.g. SET GLOBAL gtid_slave_pos='0-1-0'). */
	s = parse_ok(GTID_MARIADB, "0-1-0");
	ck_assert_uint_eq(s.e[0].iv[0].hi, 0);
	gtid_free(&s);
}
END_TEST

START_TEST(parse_mysql_valid)
{
	struct gtid_set s;

	s = parse_ok(GTID_MYSQL, "");
	ck_assert_uint_eq(s.n, 0);
	gtid_free(&s);

	/* As @@gtid_executed prints it: upper case from some tools, ",\n" between UUIDs. */
	s = parse_ok(GTID_MYSQL, U2 ":1-3,\n" U1_UPPER ":1-5:7");
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.e[0].uuid, U1);
	ck_assert_uint_eq(s.e[0].n_iv, 2);
	ck_assert_uint_eq(s.e[0].iv[0].lo, 1);
	ck_assert_uint_eq(s.e[0].iv[0].hi, 5);
	ck_assert_uint_eq(s.e[0].iv[1].lo, 7);
	ck_assert_uint_eq(s.e[0].iv[1].hi, 7);
	ck_assert_str_eq(s.e[1].uuid, U2);
	ck_assert_uint_eq(s.e[1].iv[0].hi, 3);
	gtid_free(&s);

	s = parse_ok(GTID_MYSQL, U1 ":1-18446744073709551615");
	ck_assert_uint_eq(s.e[0].iv[0].hi, UINT64_MAX);
	gtid_free(&s);
}
END_TEST

START_TEST(parse_mysql_merges)
{
	/* overlapping, adjacent, unsorted, contained, repeated UUID (also in another case) */
	check_canon(GTID_MYSQL, U1 ":1-5:3-8", U1 ":1-8");
	check_canon(GTID_MYSQL, U1 ":1-3:4-6", U1 ":1-6");
	check_canon(GTID_MYSQL, U1 ":10-12:1-2:5", U1 ":1-2:5:10-12");
	check_canon(GTID_MYSQL, U1 ":1-100:5-6", U1 ":1-100");
	check_canon(GTID_MYSQL, U1 ":1-3:3", U1 ":1-3");
	check_canon(GTID_MYSQL, U1 ":1-3," U1_UPPER ":4-5:9", U1 ":1-5:9");
	check_canon(GTID_MYSQL, U1 ":5:18446744073709551615:1-18446744073709551614",
	    U1 ":1-18446744073709551615");
	check_canon(GTID_MYSQL, U1 ":18446744073709551615:18446744073709551615",
	    U1 ":18446744073709551615");
}
END_TEST

struct bad_case {
	enum gtid_kind kind;
	const char *text;
	const char *msg;     /* a part of the message that says what is wrong */
	const char *offset;  /* " at offset N" */
};

static const struct bad_case bad_cases[] = {
	{ GTID_MARIADB, "0-1", "expected '-' after the server id", " at offset 3" },
	{ GTID_MARIADB, "0", "expected '-' after the domain id", " at offset 1" },
	{ GTID_MARIADB, "0-1-", "expected a sequence number", " at offset 4" },
	{ GTID_MARIADB, "0-1-x", "expected a sequence number", " at offset 4" },
	{ GTID_MARIADB, "-1-2", "expected a domain id", " at offset 0" },
	{ GTID_MARIADB, "0-1-5,0-2-6", "duplicate domain 0", " at offset 6" },
	{ GTID_MARIADB, "1-1-1, 2-1-1, 1-9-9", "duplicate domain 1", " at offset 14" },
	{ GTID_MARIADB, "0-1-5,", "trailing ','", " at offset 6" },
	{ GTID_MARIADB, "0-1-5,,1-1-1", "empty element", " at offset 6" },
	{ GTID_MARIADB, ",0-1-5", "expected a domain id", " at offset 0" },
	{ GTID_MARIADB, "0-1-5 1-1-1", "unexpected '1'", " at offset 6" },
	{ GTID_MARIADB, "0-1-5x", "unexpected 'x'", " at offset 5" },
	{ GTID_MARIADB, "0-1-5\x01", "unexpected byte 0x01", " at offset 5" },
	{ GTID_MARIADB, "4294967296-1-1", "domain id is too large", " at offset 0" },
	{ GTID_MARIADB, "0-4294967296-1", "server id is too large", " at offset 2" },
	{ GTID_MARIADB, "0-1-18446744073709551616", "sequence number is too large", " at offset 4" },
	{ GTID_MARIADB, "0-1-+5", "expected a sequence number", " at offset 4" },
	{ GTID_MARIADB, U1 ":1-5", "expected '-' after the domain id", " at offset 1" },
	{ GTID_MYSQL, "0-1-5", "bad UUID", " at offset 1" },
	{ GTID_MYSQL, U1, "expected ':'", " at offset 36" },
	{ GTID_MYSQL, U1 ":", "expected a transaction number", " at offset 37" },
	{ GTID_MYSQL, U1 ":0", "transaction number 0", " at offset 37" },
	{ GTID_MYSQL, U1 ":0-5", "transaction number 0", " at offset 37" },
	{ GTID_MYSQL, U1 ":5-3", "empty interval 5-3", " at offset 37" },
	{ GTID_MYSQL, U1 ":1-", "expected an interval end", " at offset 39" },
	{ GTID_MYSQL, U1 ":1-5:", "expected a transaction number", " at offset 41" },
	{ GTID_MYSQL, U1 ":1-5,", "trailing ','", " at offset 41" },
	{ GTID_MYSQL, U1 ":1-5x", "unexpected 'x'", " at offset 40" },
	{ GTID_MYSQL, U1 ":1-18446744073709551616", "interval end is too large", " at offset 39" },
	{ GTID_MYSQL, "3e11fa47-71ca-11e1-9e33-c80aa942956:1", "bad UUID", " at offset 35" },
	{ GTID_MYSQL, "3e11fa4771ca11e19e33c80aa9429562:1", "bad UUID", " at offset 8" },
	{ GTID_MYSQL, "3g11fa47-71ca-11e1-9e33-c80aa9429562:1", "bad UUID", " at offset 1" },
	{ GTID_MYSQL, "x", "bad UUID", " at offset 0" },
	{ GTID_MYSQL, U1 ":tag:1-5", "GTID tags", " at offset 37" },
	{ GTID_MYSQL, U1 ":1-5," U2 ":3-1", "empty interval 3-1", " at offset 78" },
	{ GTID_MYSQL, U1 ": 1", "expected a transaction number", " at offset 37" },
};

START_TEST(parse_malformed)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct gtid_set s;
	char err[160];

	memset(&s, 0xa5, sizeof(s));
	ck_assert_msg(gtid_parse(bc->kind, bc->text, &s, err, sizeof(err)) == -1,
	    "\"%s\" parsed although malformed", bc->text);
	ck_assert_msg(strstr(err, bc->msg) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
	    bc->text, err, bc->msg);
	ck_assert_msg(strstr(err, bc->offset) != NULL, "\"%s\": message \"%s\" lacks \"%s\"",
	    bc->text, err, bc->offset);
	/* A failed parse leaves an empty set that is safe to free and to use. */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(s.e);
	gtid_free(&s);
}
END_TEST

START_TEST(parse_error_buffer)
{
	struct gtid_set s;
	char tiny[8];

	/* no buffer at all, and one too small for the message: no overflow, still -1 */
	ck_assert_int_eq(gtid_parse(GTID_MYSQL, "junk", &s, NULL, 0), -1);
	ck_assert_int_eq(gtid_parse(GTID_MYSQL, "junk", &s, tiny, sizeof(tiny)), -1);
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

START_TEST(format_roundtrip)
{
	static const char *const maria[] = {
		"", "0-1-1", "0-1-100,1-2-5,7-3-18446744073709551615", "4294967295-1-0",
	};
	static const char *const mysql[] = {
		"", U1 ":1", U1 ":1-5:7-9:11," U2 ":1-18446744073709551615",
	};
	size_t i;

	for (i = 0; i < sizeof(maria) / sizeof(maria[0]); i++)
		check_canon(GTID_MARIADB, maria[i], maria[i]);
	for (i = 0; i < sizeof(mysql) / sizeof(mysql[0]); i++)
		check_canon(GTID_MYSQL, mysql[i], mysql[i]);
	check_canon(GTID_MARIADB, " 2-1-3,\n 0-1-9 ", "0-1-9,2-1-3");
	check_canon(GTID_MYSQL, U2 ":2,\n" U1_UPPER ":1", U1 ":1," U2 ":2");
}
END_TEST

START_TEST(contains_mariadb)
{
	ck_assert(contains(GTID_MARIADB, "", ""));
	ck_assert(contains(GTID_MARIADB, "0-1-5", ""));
	ck_assert(!contains(GTID_MARIADB, "", "0-1-5"));
	ck_assert(contains(GTID_MARIADB, "0-1-5", "0-1-5"));
	ck_assert(contains(GTID_MARIADB, "0-1-6", "0-1-5"));
	ck_assert(!contains(GTID_MARIADB, "0-1-5", "0-1-6"));
	/* the server id does not order anything */
	ck_assert(contains(GTID_MARIADB, "0-2-6", "0-1-6"));
	ck_assert(contains(GTID_MARIADB, "0-1-6", "0-2-6"));
	/* every domain of b must be covered */
	ck_assert(contains(GTID_MARIADB, "0-1-10,1-2-10", "1-2-3,0-1-10"));
	ck_assert(!contains(GTID_MARIADB, "0-1-10,1-2-10", "0-1-10,1-2-11"));
	ck_assert(!contains(GTID_MARIADB, "0-1-10", "0-1-10,1-2-1"));
	ck_assert(contains(GTID_MARIADB, "0-1-10,1-2-1", "0-1-10"));
	/* a domain at sequence 0 holds nothing, so its absence loses nothing */
	ck_assert(contains(GTID_MARIADB, "0-1-10", "0-1-10,5-1-0"));
	ck_assert(contains(GTID_MARIADB, "0-1-18446744073709551615", "0-1-18446744073709551614"));
	ck_assert(!contains(GTID_MARIADB, "0-1-18446744073709551614", "0-1-18446744073709551615"));
}
END_TEST

START_TEST(contains_mysql)
{
	ck_assert(contains(GTID_MYSQL, "", ""));
	ck_assert(contains(GTID_MYSQL, U1 ":1-5", ""));
	ck_assert(!contains(GTID_MYSQL, "", U1 ":1"));
	ck_assert(contains(GTID_MYSQL, U1 ":1-10", U1 ":1-10"));
	ck_assert(contains(GTID_MYSQL, U1 ":1-10", U1 ":2-3:5:10"));
	ck_assert(!contains(GTID_MYSQL, U1 ":2-3:5:10", U1 ":1-10"));
	ck_assert(!contains(GTID_MYSQL, U1 ":1-10", U1 ":1-11"));
	/* a gap in a is not covered even though its ends are */
	ck_assert(!contains(GTID_MYSQL, U1 ":1-4:6-10", U1 ":3-7"));
	ck_assert(!contains(GTID_MYSQL, U1 ":1-4:6-10", U1 ":5"));
	ck_assert(contains(GTID_MYSQL, U1 ":1-4:5-10", U1 ":3-7"));
	/* a UUID missing in a */
	ck_assert(!contains(GTID_MYSQL, U1 ":1-10", U1 ":1-10," U2 ":1"));
	ck_assert(contains(GTID_MYSQL, U1 ":1-10," U2 ":1-3", U2 ":2," U1_UPPER ":4-9"));
	ck_assert(contains(GTID_MYSQL, U1 ":1-18446744073709551615", U1 ":18446744073709551615"));
}
END_TEST

START_TEST(contains_kind_mismatch)
{
	struct gtid_set m = parse_ok(GTID_MARIADB, "");
	struct gtid_set y = parse_ok(GTID_MYSQL, "");

	/* two notations never compare, even when both are empty */
	ck_assert(!gtid_contains(&m, &y));
	ck_assert(!gtid_contains(&y, &m));
	ck_assert(!gtid_equal(&m, &y));
	gtid_free(&m);
	gtid_free(&y);
}
END_TEST

START_TEST(equal_sets)
{
	ck_assert(equal(GTID_MARIADB, "", ""));
	ck_assert(equal(GTID_MARIADB, "0-1-5,1-1-3", "1-1-3,0-1-5"));
	ck_assert(!equal(GTID_MARIADB, "0-1-5,1-1-3", "0-1-5"));
	ck_assert(!equal(GTID_MARIADB, "0-1-5", "0-1-6"));
	ck_assert(equal(GTID_MYSQL, U1 ":1-3:4-5", U1_UPPER ":1-5"));
	ck_assert(equal(GTID_MYSQL, U1 ":1-5,\n" U2 ":1", U2 ":1," U1 ":1-5"));
	ck_assert(!equal(GTID_MYSQL, U1 ":1-5", U1 ":1-4"));
	ck_assert(!equal(GTID_MYSQL, U1 ":1-5", ""));
}
END_TEST

START_TEST(subtract_mariadb)
{
	check_subtract(GTID_MARIADB, "", "", "");
	check_subtract(GTID_MARIADB, "0-1-5", "0-1-5", "");
	check_subtract(GTID_MARIADB, "0-1-5", "0-1-9", "");
	check_subtract(GTID_MARIADB, "0-1-9", "0-1-5", "0-1-9");
	/* a's triple, also when b reached the domain through another server */
	check_subtract(GTID_MARIADB, "0-3-9", "0-1-5", "0-3-9");
	check_subtract(GTID_MARIADB, "0-1-9,1-2-4,2-2-2", "0-1-9,1-2-1", "1-2-4,2-2-2");
	check_subtract(GTID_MARIADB, "0-1-9", "", "0-1-9");
	check_subtract(GTID_MARIADB, "", "0-1-9", "");
}
END_TEST

START_TEST(subtract_mysql)
{
	check_subtract(GTID_MYSQL, "", "", "");
	check_subtract(GTID_MYSQL, U1 ":1-10", U1 ":1-10", "");
	check_subtract(GTID_MYSQL, U1 ":1-10", U1 ":1-12", "");
	check_subtract(GTID_MYSQL, U1 ":1-10", U1 ":1-7", U1 ":8-10");
	check_subtract(GTID_MYSQL, U1 ":1-10", U1 ":3-4:6", U1 ":1-2:5:7-10");
	check_subtract(GTID_MYSQL, U1 ":1-10", U1 ":5-20", U1 ":1-4");
	check_subtract(GTID_MYSQL, U1 ":1-3:7-9", U1 ":2-8", U1 ":1:9");
	/* the errant transaction of a replica: one the primary never had */
	check_subtract(GTID_MYSQL, U1 ":1-100," U2 ":1", U1 ":1-120", U2 ":1");
	check_subtract(GTID_MYSQL, U1 ":1-18446744073709551615", U1 ":2-18446744073709551614",
	    U1 ":1:18446744073709551615");
}
END_TEST

START_TEST(count_missing)
{
	ck_assert_uint_eq(missing(GTID_MARIADB, "", ""), 0);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-10", "0-1-10"), 0);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-10", "0-1-4"), 6);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-4", "0-1-10"), 0);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-10,1-1-5", "0-1-4"), 11);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-10,1-1-5", "0-1-12,1-1-1"), 4);
	ck_assert_uint_eq(missing(GTID_MARIADB,
	    "0-1-18446744073709551615,1-1-18446744073709551615", ""), UINT64_MAX);
	ck_assert_uint_eq(missing(GTID_MARIADB, "0-1-18446744073709551615", "0-1-1"),
	    UINT64_MAX - 1);

	ck_assert_uint_eq(missing(GTID_MYSQL, "", ""), 0);
	ck_assert_uint_eq(missing(GTID_MYSQL, U1 ":1-10", ""), 10);
	ck_assert_uint_eq(missing(GTID_MYSQL, U1 ":1-10", U1 ":1-10"), 0);
	ck_assert_uint_eq(missing(GTID_MYSQL, U1 ":1-10", U1 ":3-4"), 8);
	ck_assert_uint_eq(missing(GTID_MYSQL, U1 ":1-10," U2 ":1-5", U1 ":1-9"), 6);
	ck_assert_uint_eq(missing(GTID_MYSQL, U1 ":1-18446744073709551615", ""), UINT64_MAX);
	ck_assert_uint_eq(missing(GTID_MYSQL,
	    U1 ":1-18446744073709551615," U2 ":1-18446744073709551615", ""), UINT64_MAX);
}
END_TEST

START_TEST(str_contains)
{
	ck_assert_int_eq(gtid_str_contains(GTID_MARIADB, "0-1-5", "0-1-4"), 1);
	ck_assert_int_eq(gtid_str_contains(GTID_MARIADB, "0-1-4", "0-1-5"), 0);
	ck_assert_int_eq(gtid_str_contains(GTID_MARIADB, "0-1-x", "0-1-5"), -1);
	ck_assert_int_eq(gtid_str_contains(GTID_MARIADB, "0-1-5", "0-1"), -1);
	ck_assert_int_eq(gtid_str_contains(GTID_MYSQL, U1 ":1-5", U1_UPPER ":2"), 1);
	ck_assert_int_eq(gtid_str_contains(GTID_MYSQL, U1 ":1-5", U1 ":6"), 0);
	ck_assert_int_eq(gtid_str_contains(GTID_MYSQL, "", ""), 1);
	ck_assert_int_eq(gtid_str_contains(GTID_MYSQL, U1 ":1-5", "nope"), -1);
}
END_TEST

Suite *gtid_suite(void)
{
	Suite *s = suite_create("gtid");
	TCase *tc;

	tc = tcase_create("gtid_parse");
	tcase_add_test(tc, parse_mariadb_valid);
	tcase_add_test(tc, parse_mysql_valid);
	tcase_add_test(tc, parse_mysql_merges);
	tcase_add_loop_test(tc, parse_malformed, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, parse_error_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_format");
	tcase_add_test(tc, format_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_contains");
	tcase_add_test(tc, contains_mariadb);
	tcase_add_test(tc, contains_mysql);
	tcase_add_test(tc, contains_kind_mismatch);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_equal");
	tcase_add_test(tc, equal_sets);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_subtract_str");
	tcase_add_test(tc, subtract_mariadb);
	tcase_add_test(tc, subtract_mysql);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_count_missing");
	tcase_add_test(tc, count_missing);
	suite_add_tcase(s, tc);

	tc = tcase_create("gtid_str_contains");
	tcase_add_test(tc, str_contains);
	suite_add_tcase(s, tc);
	return s;
}
