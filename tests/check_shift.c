/* The read shift's steps and gates as the API takes them (daemon/shift.c). */
#include <check.h>
#include <math.h>
#include <string.h>

#include "shift.h"

Suite *shift_suite(void);

START_TEST(test_steps)
{
	int s[SHIFT_MAX_STEPS];
	size_t n;
	char err[200];

	ck_assert_int_eq(shift_parse_steps("5,10,25,50,100", s, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(s[0], 5);
	ck_assert_int_eq(s[4], 100);
	ck_assert_int_eq(shift_parse_steps(" 10% , 30 ", s, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(s[1], 30);
	ck_assert_int_eq(shift_parse_steps("10,5", s, &n, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "larger than the one before"), "%s", err);
	ck_assert_int_eq(shift_parse_steps("0,50", s, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_steps("50,101", s, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_steps("", s, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_steps("a", s, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_steps("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", s, &n, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_gates)
{
	struct shift_gates g;
	char err[200];

	ck_assert_int_eq(shift_parse_gates("", &g, err, sizeof(err)), 0);
	ck_assert(g.error_rate < 0 && g.p95_ms < 0 && g.lag_ms < 0);   /* none */
	ck_assert_int_eq(shift_parse_gates("error_rate<1%,p95<500ms, lag<2s", &g, err, sizeof(err)), 0);
	ck_assert(fabs(g.error_rate - 0.01) < 1e-9);
	ck_assert_int_eq(g.p95_ms, 500);
	ck_assert_int_eq(g.lag_ms, 2000);
	ck_assert_int_eq(shift_parse_gates("error_rate<0.05", &g, err, sizeof(err)), 0);
	ck_assert(fabs(g.error_rate - 0.05) < 1e-9);
	ck_assert_int_eq(shift_parse_gates("latency<5ms", &g, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "unknown"), "%s", err);
	ck_assert_int_eq(shift_parse_gates("error_rate=1%", &g, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_gates("p95<fast", &g, err, sizeof(err)), -1);
	ck_assert_int_eq(shift_parse_gates("error_rate<200%", &g, err, sizeof(err)), -1);
}
END_TEST

Suite *shift_suite(void)
{
	Suite *s = suite_create("shift");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_steps);
	tcase_add_test(tc, test_gates);
	suite_add_tcase(s, tc);
	return s;
}
