/* The cutover journal (daemon/journal.c): what recovery and `history` read back. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

/* Every event has a name that parses back to it; exactly the finishing ones finish a cutover,
 * and names the watchdog writes (not cutover events) finish nothing. */
START_TEST(test_event_names)
{
	int ev;
	for (ev = 0; ev < JE__COUNT; ev++) {
		const char *n = journal_event_name((enum journal_event)ev);
		ck_assert_int_eq(journal_event_parse(n), ev);
		ck_assert(journal_event_finished(n) == (ev >= JE_FIRST_FINISHED));
	}
	ck_assert(journal_event_finished("rolled_back"));
	ck_assert(journal_event_finished("resolved"));
	ck_assert(!journal_event_finished("pnr"));
	ck_assert(!journal_event_finished("fence"));
	ck_assert(!journal_event_finished(NULL));
	ck_assert_int_eq(journal_event_parse("authority"), -1);
}
END_TEST

Suite *journal_suite(void);

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/check_journal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static void append(struct journal *j, const char *id, const char *event, bool durable)
{
	json_t *e = json_pack("{s:s, s:s}", "id", id, "event", event);
	ck_assert_int_eq(journal_append(j, e, durable), 0);
	json_decref(e);
}

START_TEST(test_append_and_read_back)
{
	char err[256];
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *all, *e;

	ck_assert_msg(j != NULL, "%s", err);
	append(j, "a", "begin", true);
	append(j, "a", "phase", false);
	append(j, "a", "done", true);
	journal_close(j);

	all = journal_read(dir, "main");
	ck_assert_uint_eq(json_array_size(all), 3);
	e = json_array_get(all, 2);
	ck_assert_str_eq(json_string_value(json_object_get(e, "event")), "done");
	/* every entry carries its time */
	ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "ts")));
	json_decref(all);
}
END_TEST

START_TEST(test_missing_journal_is_empty)
{
	json_t *all = journal_read(dir, "nothing");
	ck_assert_uint_eq(json_array_size(all), 0);
	json_decref(all);
}
END_TEST

START_TEST(test_torn_last_line_is_skipped)
{
	char err[256], *path = xasprintf("%s/journal-main.jsonl", dir);
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *all;
	int fd;

	append(j, "a", "begin", true);
	journal_close(j);
	/* a daemon killed in the middle of a write leaves half a line */
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"id\":\"a\",\"ev", 13), 13);
	close(fd);
	all = journal_read(dir, "main");
	ck_assert_uint_eq(json_array_size(all), 1);
	json_decref(all);
	free(path);
}
END_TEST

/* The next append after a torn line is not glued onto it: opening the journal cuts the torn
 * tail back, so the new entry reads back whole. */
START_TEST(test_append_after_torn_line_survives)
{
	char err[256], *path = xasprintf("%s/journal-main.jsonl", dir);
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *all;
	int fd;

	append(j, "a", "begin", true);
	journal_close(j);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"id\":\"a\",\"ev", 13), 13);
	close(fd);
	j = journal_open(dir, "main", err, sizeof(err));
	ck_assert_ptr_nonnull(j);
	append(j, "a", "rollback", true);
	journal_close(j);
	all = journal_read(dir, "main");
	ck_assert_uint_eq(json_array_size(all), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 1), "event")), "rollback");
	json_decref(all);
	/* a journal that is nothing but a torn line starts empty */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "{\"id\":", 6), 6);
	close(fd);
	j = journal_open(dir, "main", err, sizeof(err));
	append(j, "b", "begin", true);
	journal_close(j);
	all = journal_read(dir, "main");
	ck_assert_uint_eq(json_array_size(all), 1);
	json_decref(all);
	free(path);
}
END_TEST

/* history's read is bounded: the last max bytes only, watchdog entries skipped unparsed, the
 * rotated file's tail when the current one is short. */
START_TEST(test_read_recent_is_bounded)
{
	char err[256];
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *all, *w;
	int i;

	append(j, "old", "begin", true);               /* far back: outside the window */
	for (i = 0; i < 60000; i++) {                   /* about 5 MiB of the watchdog's entries */
		w = json_pack("{s:s, s:s}", "event", "alarm_raised", "message", "a watchdog line of some length");
		ck_assert_int_eq(journal_append(j, w, false), 0);
		json_decref(w);
	}
	append(j, "new", "begin", true);
	append(j, "new", "done", true);
	/* a data check's result (the watchdog's, with no id): history shows it with its switchover */
	w = json_pack("{s:s, s:{s:s, s:s}}", "event", "data_check", "result", "switchover", "new", "state", "passed");
	ck_assert_int_eq(journal_append(j, w, true), 0);
	json_decref(w);
	journal_close(j);
	all = journal_read_recent(dir, "main", 64 * 1024);
	ck_assert_uint_eq(json_array_size(all), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 0), "id")), "new");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 2), "event")), "data_check");
	json_decref(all);
	all = journal_read_recent(dir, "main", 64 * 1024 * 1024);
	ck_assert_uint_eq(json_array_size(all), 4);    /* the whole file: "old" too, no other watchdog entry */
	json_decref(all);
	/* rotated: the tail of main.jsonl.1 completes a short current file */
	journal_rotate_if_large(dir, "main");
	{
		char *rotated = xasprintf("%s/journal-main.jsonl.1", dir);
		ck_assert_msg(access(rotated, F_OK) == 0, "the journal was not rotated");
		free(rotated);
	}
	j = journal_open(dir, "main", err, sizeof(err));
	append(j, "next", "begin", true);
	journal_close(j);
	all = journal_read_recent(dir, "main", 64 * 1024);
	ck_assert_uint_eq(json_array_size(all), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 3), "id")), "next");
	json_decref(all);
}
END_TEST

START_TEST(test_grouped_by_cutover)
{
	char err[256];
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *all, *by;
	json_t *w = json_pack("{s:s}", "event", "alarm_raised");

	append(j, "a", "begin", true);
	append(j, "a", "done", true);
	ck_assert_int_eq(journal_append(j, w, false), 0);   /* watchdog entries have no id */
	append(j, "b", "begin", true);
	append(j, "b", "phase", false);
	append(j, "a", "resolved", true);   /* an id seen before, after another: back to its own group */
	journal_close(j);
	json_decref(w);

	all = journal_read(dir, "main");
	by = journal_by_cutover(all);
	ck_assert_uint_eq(json_array_size(by), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(by, 0), "id")), "a");
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(by, 0), "entries")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(by, 1), "entries")), 2);
	json_decref(by);
	json_decref(all);
}
END_TEST

START_TEST(test_rotation_keeps_everything_readable)
{
	char err[256], *path = xasprintf("%s/journal-main.jsonl", dir), *pad = xmalloc(5 * 1024 * 1024);
	struct journal *j = journal_open(dir, "main", err, sizeof(err));
	json_t *e, *all;

	/* one huge entry takes the journal past the rotation size */
	memset(pad, 'x', 5 * 1024 * 1024 - 1);
	pad[5 * 1024 * 1024 - 1] = '\0';
	e = json_pack("{s:s, s:s, s:s}", "id", "old", "event", "done", "pad", pad);
	ck_assert_int_eq(journal_append(j, e, false), 0);
	json_decref(e);
	journal_close(j);
	free(pad);

	journal_rotate_if_large(dir, "main");
	ck_assert_int_ne(access(path, F_OK), 0);   /* moved aside */
	j = journal_open(dir, "main", err, sizeof(err));
	append(j, "new", "begin", true);
	journal_close(j);

	all = journal_read(dir, "main");
	ck_assert_uint_eq(json_array_size(all), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 0), "id")), "old");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, 1), "id")), "new");
	json_decref(all);

	/* a small journal stays where it is */
	journal_rotate_if_large(dir, "main");
	ck_assert_int_eq(access(path, F_OK), 0);
	free(path);
}
END_TEST

START_TEST(test_open_failure_says_why)
{
	char err[256];
	struct journal *j = journal_open("/nonexistent/state", "main", err, sizeof(err));
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/state/journal-main.jsonl"));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_and_read_back);
	tcase_add_test(tc, test_event_names);
	tcase_add_test(tc, test_missing_journal_is_empty);
	tcase_add_test(tc, test_torn_last_line_is_skipped);
	tcase_add_test(tc, test_append_after_torn_line_survives);
	tcase_add_test(tc, test_read_recent_is_bounded);
	tcase_add_test(tc, test_grouped_by_cutover);
	tcase_add_test(tc, test_rotation_keeps_everything_readable);
	tcase_add_test(tc, test_open_failure_says_why);
	suite_add_tcase(s, tc);
	return s;
}
