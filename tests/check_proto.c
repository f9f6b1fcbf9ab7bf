/* Unit tests for lib/proto.c: request validation, reply shapes, error codes, line dumping. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtab.h"
#include "proto.h"

Suite *proto_suite(void);

static int parse(const char *line, struct request *req, enum err_code *code, char *msg, size_t msglen);
static void expect_invalid(const char *line, const char *needle);

static int parse(const char *line, struct request *req, enum err_code *code, char *msg, size_t msglen)
{
	return proto_parse_request(line, strlen(line), req, code, msg, msglen);
}

/* The line must be refused as INVALID with `needle` in the message. */
static void expect_invalid(const char *line, const char *needle)
{
	struct request req;
	enum err_code code = ERR_INTERNAL;
	char msg[1024];

	ck_assert_msg(parse(line, &req, &code, msg, sizeof(msg)) == -1, "accepted: %s", line);
	ck_assert_int_eq(code, ERR_INVALID);
	ck_assert_msg(strstr(msg, needle) != NULL, "message for %s is \"%s\", expected \"%s\" in it", line, msg,
		      needle);
	request_free(&req);
}

START_TEST(test_parse_valid_minimal)
{
	struct request req;
	enum err_code code;
	char msg[256];

	ck_assert_int_eq(parse("{\"cmd\":\"status\"}", &req, &code, msg, sizeof(msg)), 0);
	ck_assert_str_eq(req.cmd, "status");
	ck_assert_ptr_eq(req.spec, cmd_find("status"));
	ck_assert(json_is_null(req.id));
	ck_assert(json_is_object(req.args));
	ck_assert_int_eq(json_object_size(req.args), 0);
	request_free(&req);

	ck_assert_int_eq(parse("  {\"cmd\":\"version\",\"args\":null}  ", &req, &code, msg, sizeof(msg)), 0);
	ck_assert(json_is_object(req.args));
	request_free(&req);
}
END_TEST

START_TEST(test_parse_valid_ids)
{
	static const char *const ids[] = { "1", "-7", "1.5", "\"abc\"", "true", "false", "null", "[1,2]",
					   "{\"a\":[null]}" };
	struct request req;
	enum err_code code;
	char line[256], msg[256];
	json_t *want;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(line, sizeof(line), "{\"id\":%s,\"cmd\":\"version\"}", ids[i]);
		ck_assert_msg(parse(line, &req, &code, msg, sizeof(msg)) == 0, "%s: %s", line, msg);
		want = json_loads(ids[i], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(want);
		ck_assert_msg(json_equal(req.id, want), "id %s not kept as-is", ids[i]);
		json_decref(want);
		request_free(&req);
	}
}
END_TEST

START_TEST(test_parse_valid_args)
{
	struct request req;
	enum err_code code;
	char msg[256];

	ck_assert_int_eq(parse("{\"id\":3,\"cmd\":\"status\",\"args\":{\"cluster\":\"main\"}}", &req, &code, msg,
			       sizeof(msg)), 0);
	ck_assert_str_eq(json_string_value(json_object_get(req.args, "cluster")), "main");
	ck_assert_int_eq(json_integer_value(req.id), 3);
	request_free(&req);

	ck_assert_int_eq(parse("{\"cmd\":\"switchover\",\"args\":{\"to\":\"db2\",\"dry_run\":true,"
			       "\"max_lag_ms\":-5,\"reverse\":false}}", &req, &code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(req.args, "max_lag_ms")), -5);
	request_free(&req);

	ck_assert_int_eq(parse("{\"args\":{},\"cmd\":\"events\"}", &req, &code, msg, sizeof(msg)), 0);
	ck_assert_str_eq(req.cmd, "events");
	request_free(&req);
}
END_TEST

START_TEST(test_parse_bad_json)
{
	struct request req;
	enum err_code code;
	char msg[256];

	expect_invalid("{\"cmd\":\"status\"", "invalid JSON at line 1, column");
	expect_invalid("{\"cmd\":}", "invalid JSON");
	expect_invalid("", "invalid JSON");
	expect_invalid("{\"cmd\":\"status\"} {}", "invalid JSON");
	expect_invalid("{\"cmd\":\"status\",\"cmd\":\"version\"}", "duplicate");
	expect_invalid("{\"cmd\":\"sta\\u0000tus\"}", "invalid JSON");

	/* Invalid UTF-8 is refused, and the reply built from the message is still valid JSON. */
	ck_assert_int_eq(parse("{\"cmd\":\"\xff\xfe\"}", &req, &code, msg, sizeof(msg)), -1);
	ck_assert(json_is_null(req.id));
	request_free(&req);
}
END_TEST

START_TEST(test_parse_not_object)
{
	expect_invalid("[1,2]", "must be a JSON object, got an array");
	expect_invalid("\"status\"", "must be a JSON object, got a string");
	expect_invalid("42", "must be a JSON object, got an integer");
	expect_invalid("null", "must be a JSON object, got null");
}
END_TEST

START_TEST(test_parse_cmd)
{
	struct request req;
	enum err_code code;
	char msg[1024];

	expect_invalid("{}", "missing \"cmd\"");
	expect_invalid("{\"id\":1}", "missing \"cmd\"");
	expect_invalid("{\"cmd\":5}", "\"cmd\" must be a string, got an integer");
	expect_invalid("{\"cmd\":null}", "\"cmd\" must be a string, got null");
	expect_invalid("{\"cmd\":[\"status\"]}", "got an array");
	expect_invalid("{\"cmd\":\"stats\"}", "unknown command 'stats' (known: version, status, topology");
	expect_invalid("{\"cmd\":\"STATUS\"}", "unknown command 'STATUS'");

	/* The error keeps the id so the reply can carry it. */
	ck_assert_int_eq(parse("{\"id\":\"x7\",\"cmd\":\"nope\"}", &req, &code, msg, sizeof(msg)), -1);
	ck_assert_str_eq(json_string_value(req.id), "x7");
	request_free(&req);
}
END_TEST

START_TEST(test_parse_long_cmd_name_quoted_short)
{
	char line[2048], name[1200], msg[1024];
	struct request req;
	enum err_code code;
	size_t i;

	/* 400 two-byte characters: the quoted name is cut, on a character boundary. */
	for (i = 0; i < 400; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[800] = '\0';
	snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", name);
	ck_assert_int_eq(parse(line, &req, &code, msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "unknown command"));
	ck_assert_uint_lt(strlen(msg), 400);
	request_free(&req);
	{
		json_t *reply = proto_reply_err(NULL, code, "%s", msg);
		const char *m = json_string_value(json_object_get(json_object_get(reply, "error"), "message"));

		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(m, msg);   /* valid UTF-8: nothing was replaced */
		json_decref(reply);
	}
}
END_TEST

START_TEST(test_parse_args)
{
	expect_invalid("{\"cmd\":\"status\",\"args\":[]}", "\"args\" of 'status' must be an object, got an array");
	expect_invalid("{\"cmd\":\"status\",\"args\":\"main\"}", "must be an object, got a string");
	expect_invalid("{\"cmd\":\"status\",\"args\":{\"clustre\":\"main\"}}",
		       "unknown argument 'clustre' for command 'status' (accepted: cluster (string))");
	expect_invalid("{\"cmd\":\"version\",\"args\":{\"x\":1}}",
		       "unknown argument 'x': command 'version' takes no arguments");
}
END_TEST

START_TEST(test_parse_arg_types)
{
	expect_invalid("{\"cmd\":\"status\",\"args\":{\"cluster\":1}}",
		       "argument 'cluster' of 'status' must be a string, got an integer");
	expect_invalid("{\"cmd\":\"status\",\"args\":{\"cluster\":1.5}}", "must be a string, got a number");
	expect_invalid("{\"cmd\":\"status\",\"args\":{\"cluster\":true}}", "must be a string, got a boolean");
	expect_invalid("{\"cmd\":\"status\",\"args\":{\"cluster\":null}}", "must be a string, got null");
	expect_invalid("{\"cmd\":\"events\",\"args\":{\"cluster\":{}}}", "must be a string, got an object");
	/* switchover has integer and boolean arguments */
	expect_invalid("{\"cmd\":\"switchover\",\"args\":{\"max_lag_ms\":1.5}}",
		       "argument 'max_lag_ms' of 'switchover' must be an integer, got a number");
	expect_invalid("{\"cmd\":\"switchover\",\"args\":{\"max_lag_ms\":\"100\"}}",
		       "must be an integer, got a string");
	expect_invalid("{\"cmd\":\"switchover\",\"args\":{\"dry_run\":\"yes\"}}",
		       "must be a boolean (true or false), got a string");
	expect_invalid("{\"cmd\":\"switchover\",\"args\":{\"dry_run\":1}}", "got an integer");
}
END_TEST

/* Every argument of every command in the table accepts its own type and refuses the others;
 * required arguments (none exist yet in cmd_table) must be present. */
START_TEST(test_parse_arg_table)
{
	static const char *const samples[] = { [ARG_STRING] = "\"s\"", [ARG_INT] = "7", [ARG_BOOL] = "true" };
	const struct cmd_spec *c;
	const struct arg_spec *a;
	struct request req;
	enum err_code code;
	char line[512], msg[1024];
	int t, r;

	for (c = cmd_table; c->name; c++) {
		for (a = c->args; a->name; a++) {
			for (t = ARG_STRING; t <= ARG_BOOL; t++) {
				snprintf(line, sizeof(line), "{\"cmd\":\"%s\",\"args\":{\"%s\":%s}}", c->name,
					 a->name, samples[t]);
				r = parse(line, &req, &code, msg, sizeof(msg));
				request_free(&req);
				if ((int)a->type == t) {
					/* accepted unless another argument is required */
					if (r < 0)
						ck_assert_msg(strstr(msg, "requires argument") != NULL, "%s: %s", line, msg);
				} else {
					ck_assert_msg(r == -1 && code == ERR_INVALID, "%s accepted", line);
					ck_assert_ptr_nonnull(strstr(msg, a->name));
				}
			}
			/* A float is never an integer. */
			if (a->type == ARG_INT) {
				snprintf(line, sizeof(line), "{\"cmd\":\"%s\",\"args\":{\"%s\":1.0}}", c->name, a->name);
				ck_assert_int_eq(parse(line, &req, &code, msg, sizeof(msg)), -1);
				request_free(&req);
			}
			if (a->required) {
				snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", c->name);
				ck_assert_int_eq(parse(line, &req, &code, msg, sizeof(msg)), -1);
				ck_assert_ptr_nonnull(strstr(msg, a->name));
				request_free(&req);
			}
		}
	}
}
END_TEST

START_TEST(test_parse_extra_member)
{
	expect_invalid("{\"cmd\":\"status\",\"arg\":{}}", "unknown top-level member 'arg'");
	expect_invalid("{\"id\":1,\"cmd\":\"status\",\"api\":1}", "unknown top-level member 'api'");
}
END_TEST

START_TEST(test_parse_size_limit)
{
	char *line = malloc(PROTO_MAX_LINE + 2);
	const char *head = "{\"cmd\":\"status\",\"id\":\"";
	struct request req;
	enum err_code code;
	char msg[256];
	size_t hl = strlen(head);

	/* Exactly PROTO_MAX_LINE bytes: accepted. */
	memcpy(line, head, hl);
	memset(line + hl, 'a', PROTO_MAX_LINE - hl - 2);
	memcpy(line + PROTO_MAX_LINE - 2, "\"}", 2);
	ck_assert_int_eq(proto_parse_request(line, PROTO_MAX_LINE, &req, &code, msg, sizeof(msg)), 0);
	request_free(&req);

	/* One more byte (trailing space, still valid JSON): refused by size alone. */
	line[PROTO_MAX_LINE] = ' ';
	ck_assert_int_eq(proto_parse_request(line, PROTO_MAX_LINE + 1, &req, &code, msg, sizeof(msg)), -1);
	ck_assert_int_eq(code, ERR_INVALID);
	ck_assert_str_eq(msg, "request line longer than 65536 bytes");
	request_free(&req);
	free(line);
}
END_TEST

START_TEST(test_reply_ok)
{
	json_t *id = json_pack("{s:i}", "n", 5);
	json_t *r = proto_reply_ok(id, json_pack("{s:b}", "x", 1));

	ck_assert_int_eq(json_integer_value(json_object_get(r, "api")), API_VERSION);
	ck_assert(json_equal(json_object_get(r, "id"), id));
	ck_assert_ptr_ne(json_object_get(r, "id"), id);     /* copied, not shared */
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert(json_is_true(json_object_get(json_object_get(r, "result"), "x")));
	ck_assert_ptr_null(json_object_get(r, "error"));
	json_decref(r);
	json_decref(id);

	r = proto_reply_ok(NULL, NULL);
	ck_assert(json_is_null(json_object_get(r, "id")));
	ck_assert(json_is_object(json_object_get(r, "result")));
	json_decref(r);
}
END_TEST

START_TEST(test_reply_err)
{
	json_t *id = json_string("abc");
	json_t *r = proto_reply_err(id, ERR_BADSTATE, "cluster '%s' has no primary", "main");
	json_t *e = json_object_get(r, "error");

	ck_assert_int_eq(json_integer_value(json_object_get(r, "api")), API_VERSION);
	ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "abc");
	ck_assert(json_is_false(json_object_get(r, "ok")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), "BADSTATE");
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")), "cluster 'main' has no primary");
	ck_assert_ptr_null(json_object_get(r, "result"));
	json_decref(r);
	json_decref(id);

	/* Invalid UTF-8 in a message is replaced, never loses the reply. */
	r = proto_reply_err(NULL, ERR_INTERNAL, "bad \xff byte \xc3");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
			 "bad ? byte ?");
	json_decref(r);
}
END_TEST

START_TEST(test_stream_line)
{
	json_t *id = json_integer(9);
	json_t *r = proto_stream_line(id, "event", json_pack("{s:s}", "type", "verdict"));

	ck_assert_int_eq(json_integer_value(json_object_get(r, "api")), API_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 9);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "event"), "type")), "verdict");
	ck_assert_ptr_null(json_object_get(r, "ok"));
	json_decref(r);
	json_decref(id);
}
END_TEST

START_TEST(test_err_codes)
{
	static const char *const names[] = { "INVALID", "NOTFOUND", "DENIED", "BUSY", "BADSTATE", "INTERNAL",
					     "FAILED", "NOT_LEADER" };
	int c;

	/* A new code needs its name here (and in cutoverd-api(7)). */
	ck_assert_int_eq(ERR__COUNT, sizeof(names) / sizeof(names[0]));
	for (c = 0; c < ERR__COUNT; c++) {
		ck_assert_str_eq(err_code_name((enum err_code)c), names[c]);
		ck_assert_int_eq(err_code_parse(err_code_name((enum err_code)c)), c);
	}
	ck_assert_int_eq(err_code_parse("invalid"), -1);
	ck_assert_int_eq(err_code_parse(""), -1);
	ck_assert_int_eq(err_code_parse(NULL), -1);
	ck_assert_int_eq(err_code_parse("OK"), -1);
}
END_TEST

START_TEST(test_dump_line)
{
	json_t *m = json_pack("{s:i,s:s,s:[i,i]}", "api", 1, "text", "two\nlines", "a", 1, 2);
	size_t len;
	char *line = proto_dump_line(m, &len);

	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(len, strlen(line));
	ck_assert_str_eq(line, "{\"api\":1,\"text\":\"two\\nlines\",\"a\":[1,2]}\n");
	ck_assert_ptr_eq(strchr(line, '\n'), line + len - 1);
	free(line);
	json_decref(m);

	/* A parsed request dumps back to one line. */
	m = json_loads("{\n \"cmd\" : \"status\",\n \"id\": [1,\n2]\n}", 0, NULL);
	line = proto_dump_line(m, &len);
	ck_assert_ptr_eq(strchr(line, '\n'), line + len - 1);
	ck_assert_ptr_null(strchr(line, ' '));
	free(line);
	json_decref(m);

	/* Reals read as people wrote them, not with a double's last digits (2.0680000000000001). */
	m = json_pack("{s:f,s:f,s:f,s:f}", "a", 2.068, "b", 0.1 + 0.2, "c", 5.0, "d", 123456.789012);
	line = proto_dump_line(m, &len);
	ck_assert_str_eq(line, "{\"a\":2.068,\"b\":0.3,\"c\":5.0,\"d\":123456.789012}\n");
	free(line);
	json_decref(m);
}
END_TEST

/* A reply far larger than the first buffer (a fleet's `status`) comes out whole: the same text
 * jansson gives in one piece, and the newline. */
START_TEST(test_dump_line_large)
{
	json_t *m = json_object(), *a = json_array();
	char *line, *want, key[32];
	size_t len;
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "server-%d", i);
		json_array_append_new(a, json_pack("{s:s,s:i,s:f,s:b}", "name", key, "port", 3306 + i, "poll_ms", 10.5,
						   "reachable", i % 2));
	}
	json_object_set_new(m, "servers", a);
	line = proto_dump_line(m, &len);
	want = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY | PROTO_JSON_REAL);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_gt(len, 200000);
	ck_assert_uint_eq(len, strlen(want) + 1);
	ck_assert_int_eq(memcmp(line, want, len - 1), 0);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_int_eq(line[len], '\0');
	free(want);
	free(line);
	json_decref(m);
}
END_TEST

Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase_create("proto_parse_request");
	tcase_add_test(tc, test_parse_valid_minimal);
	tcase_add_test(tc, test_parse_valid_ids);
	tcase_add_test(tc, test_parse_valid_args);
	tcase_add_test(tc, test_parse_bad_json);
	tcase_add_test(tc, test_parse_not_object);
	tcase_add_test(tc, test_parse_cmd);
	tcase_add_test(tc, test_parse_long_cmd_name_quoted_short);
	tcase_add_test(tc, test_parse_args);
	tcase_add_test(tc, test_parse_arg_types);
	tcase_add_test(tc, test_parse_arg_table);
	tcase_add_test(tc, test_parse_extra_member);
	tcase_add_test(tc, test_parse_size_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("proto_reply_ok");
	tcase_add_test(tc, test_reply_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("proto_reply_err");
	tcase_add_test(tc, test_reply_err);
	suite_add_tcase(s, tc);

	tc = tcase_create("proto_stream_line");
	tcase_add_test(tc, test_stream_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("err_code");
	tcase_add_test(tc, test_err_codes);
	suite_add_tcase(s, tc);

	tc = tcase_create("proto_dump_line");
	tcase_add_test(tc, test_dump_line);
	tcase_add_test(tc, test_dump_line_large);
	suite_add_tcase(s, tc);
	return s;
}
