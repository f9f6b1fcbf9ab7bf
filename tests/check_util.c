/* lib/util.c's "did you mean" distance, shared by the config parser, the daemon's unknown
 * cluster and cutoverctl's unknown command. */
#include <check.h>

#include "util.h"

Suite *util_suite(void);

START_TEST(test_edit_distance)
{
	ck_assert_uint_eq(edit_distance("switchover", "switchover", 2), 0);
	ck_assert_uint_eq(edit_distance("swichover", "switchover", 2), 1);     /* a letter left out */
	ck_assert_uint_eq(edit_distance("swtichover", "switchover", 2), 1);    /* two swapped */
	ck_assert_uint_eq(edit_distance("Status", "status", 2), 0);            /* case does not count */
	ck_assert_uint_eq(edit_distance("prod", "prd1", 2), 2);
	/* past max the answer is max + 1, however far */
	ck_assert_uint_eq(edit_distance("fence", "switchover", 2), 3);
	ck_assert_uint_eq(edit_distance("", "topology", 2), 3);
	ck_assert_uint_eq(edit_distance("", "", 2), 0);
}
END_TEST

START_TEST(test_closest_name)
{
	static const char *const cmds[] = { "status", "switchover", "stonith", "fence", "unfence" };
	static const char *const clusters[] = { "sandbox", "prod" };

	ck_assert_str_eq(closest_name("swichover", cmds, 5, 2), "switchover");
	ck_assert_str_eq(closest_name("fense", cmds, 5, 2), "fence");
	ck_assert_str_eq(closest_name("sandbx", clusters, 2, 2), "sandbox");
	/* nothing near: no suggestion rather than a wild one */
	ck_assert_ptr_null(closest_name("nope", clusters, 2, 2));
	ck_assert_ptr_null(closest_name("x", cmds, 0, 2));
	/* the nearest wins over an earlier, farther one */
	ck_assert_str_eq(closest_name("unfenc", cmds, 5, 2), "unfence");
}
END_TEST

/* Durations said back as a config file would write them, and read back the same. */
START_TEST(test_duration_text)
{
	static const long long ms[] = { 600000, 30000, 3600000, 1500, 0, 90000 };
	static const char *const text[] = { "10m", "30s", "1h", "1500ms", "0ms", "90s" };
	char buf[24];
	long long back;
	size_t i;

	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		ck_assert_str_eq(duration_text(ms[i], buf, sizeof(buf)), text[i]);
		ck_assert(parse_duration_ms(buf, 1, &back));
		ck_assert_int_eq(back, ms[i]);
	}
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("edit_distance");

	tcase_add_test(tc, test_edit_distance);
	tcase_add_test(tc, test_closest_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("duration_text");
	tcase_add_test(tc, test_duration_text);
	suite_add_tcase(s, tc);
	return s;
}
