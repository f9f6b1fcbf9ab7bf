/* The control protocol: request validation against the command table, reply construction and
 * line serialization.  Shared by cutoverd (parsing requests, building replies) and cutoverctl. */
#include "proto.h"
#include "cmdtab.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest piece of client-supplied text quoted back in an error message. */
#define QUOTE_MAX 64

static const char *json_type_label(const json_t *v);
static void quote_name(char *dst, size_t size, const char *src);
static void known_commands(char *dst, size_t size);
static void known_args(const struct cmd_spec *spec, char *dst, size_t size);
static const struct arg_spec *arg_find(const struct cmd_spec *spec, const char *name);
static bool arg_type_ok(enum arg_type t, const json_t *v);
static int fail(enum err_code *code, char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int check_top_level(json_t *root, enum err_code *code, char *msg, size_t msglen);
static int check_cmd(struct request *req, enum err_code *code, char *msg, size_t msglen);
static int check_args(struct request *req, enum err_code *code, char *msg, size_t msglen);
static char *utf8_sanitize(const char *s);
static json_t *reply_head(json_t *id);

static const char *const err_names[ERR__COUNT] = {
	[ERR_INVALID] = "INVALID",
	[ERR_NOTFOUND] = "NOTFOUND",
	[ERR_DENIED] = "DENIED",
	[ERR_BUSY] = "BUSY",
	[ERR_BADSTATE] = "BADSTATE",
	[ERR_INTERNAL] = "INTERNAL",
	[ERR_FAILED] = "FAILED",
	[ERR_NOT_LEADER] = "NOT_LEADER",
};

const char *err_code_name(enum err_code c)
{
	if ((unsigned)c >= ERR__COUNT)
		return "INTERNAL";
	return err_names[c];
}

int err_code_parse(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < ERR__COUNT; i++)
		if (!strcmp(err_names[i], name))
			return i;
	return -1;
}

static const char *json_type_label(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* Copy a client-supplied name for quoting in a message: at most QUOTE_MAX bytes, cut on a UTF-8
 * character boundary (the message must stay valid UTF-8 to become a JSON string), "…" if cut. */
static void quote_name(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n <= QUOTE_MAX) {
		strlcpy_(dst, src, size);
		return;
	}
	n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
		n--;
	snprintf(dst, size, "%.*s…", (int)n, src);
}

static void known_commands(char *dst, size_t size)
{
	const struct cmd_spec *c;
	size_t off = 0;

	dst[0] = '\0';
	for (c = cmd_table; c->name && off < size; c++)
		off += (size_t)snprintf(dst + off, size - off, "%s%s", c == cmd_table ? "" : ", ", c->name);
}

static void known_args(const struct cmd_spec *spec, char *dst, size_t size)
{
	const struct arg_spec *a;
	size_t off = 0;

	dst[0] = '\0';
	for (a = spec->args; a && a->name && off < size; a++)
		off += (size_t)snprintf(dst + off, size - off, "%s%s (%s)", a == spec->args ? "" : ", ",
					a->name, arg_type_name(a->type));
}

static const struct arg_spec *arg_find(const struct cmd_spec *spec, const char *name)
{
	const struct arg_spec *a;

	for (a = spec->args; a && a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static bool arg_type_ok(enum arg_type t, const json_t *v)
{
	switch (t) {
	case ARG_STRING: return json_is_string(v);
	case ARG_INT: return json_is_integer(v);
	case ARG_BOOL: return json_is_boolean(v);
	case ARG_LIST: {
		size_t i;
		const json_t *x;
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, x)
			if (!json_is_string(x))
				return false;
		return true;
	}
	}
	return false;
}

static int fail(enum err_code *code, char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	*code = ERR_INVALID;
	if (msglen > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Only id, cmd and args are allowed at the top level: a typo like "arg" must not be ignored. */
static int check_top_level(json_t *root, enum err_code *code, char *msg, size_t msglen)
{
	const char *key;
	json_t *v;
	char q[QUOTE_MAX * 2];

	json_object_foreach(root, key, v) {
		if (strcmp(key, "id") && strcmp(key, "cmd") && strcmp(key, "args")) {
			quote_name(q, sizeof(q), key);
			return fail(code, msg, msglen,
				    "unknown top-level member '%s' (a request has only \"id\", \"cmd\" and \"args\")",
				    q);
		}
	}
	return 0;
}

static int check_cmd(struct request *req, enum err_code *code, char *msg, size_t msglen)
{
	json_t *cmd = json_object_get(req->root, "cmd");
	char known[512], q[QUOTE_MAX * 2];

	if (cmd == NULL)
		return fail(code, msg, msglen,
			    "missing \"cmd\": a request names its command, e.g. {\"cmd\":\"status\"}");
	if (!json_is_string(cmd))
		return fail(code, msg, msglen, "\"cmd\" must be a string, got %s", json_type_label(cmd));
	req->cmd = json_string_value(cmd);
	req->spec = cmd_find(req->cmd);
	if (req->spec == NULL) {
		known_commands(known, sizeof(known));
		quote_name(q, sizeof(q), req->cmd);
		return fail(code, msg, msglen, "unknown command '%s' (known: %s)", q, known);
	}
	return 0;
}

static int check_args(struct request *req, enum err_code *code, char *msg, size_t msglen)
{
	const struct cmd_spec *spec = req->spec;
	const struct arg_spec *a;
	json_t *args = json_object_get(req->root, "args"), *v;
	const char *key;
	char known[512], q[QUOTE_MAX * 2];

	if (args == NULL || json_is_null(args)) {
		/* Handlers always get an object; keep it in root so req->args stays borrowed. */
		args = json_object();
		json_object_set_new(req->root, "args", args);
	} else if (!json_is_object(args)) {
		return fail(code, msg, msglen, "\"args\" of '%s' must be an object, got %s", spec->name,
			    json_type_label(args));
	}
	req->args = args;

	json_object_foreach(args, key, v) {
		quote_name(q, sizeof(q), key);
		a = arg_find(spec, key);
		if (a == NULL) {
			known_args(spec, known, sizeof(known));
			if (known[0] == '\0')
				return fail(code, msg, msglen,
					    "unknown argument '%s': command '%s' takes no arguments", q,
					    spec->name);
			return fail(code, msg, msglen, "unknown argument '%s' for command '%s' (accepted: %s)",
				    q, spec->name, known);
		}
		if (!arg_type_ok(a->type, v))
			return fail(code, msg, msglen, "argument '%s' of '%s' must be %s, got %s", a->name,
				    spec->name, a->type == ARG_INT ? "an integer" :
				    a->type == ARG_BOOL ? "a boolean (true or false)" :
				    a->type == ARG_LIST ? "an array of strings" : "a string",
				    json_type_label(v));
	}
	{
		/* every missing one named at once: a second attempt should not fail on the next */
		char missing[768] = "";
		size_t used = 0, n = 0;
		for (a = spec->args; a && a->name; a++)
			if (a->required && json_object_get(args, a->name) == NULL && used + 1 < sizeof(missing)) {
				used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s'%s' (%s): %s",
							 n++ ? "; and " : "", a->name, arg_type_name(a->type),
							 a->help ? a->help : "");
				if (used >= sizeof(missing))
					used = sizeof(missing) - 1;
			}
		if (n)
			return fail(code, msg, msglen, "command '%s' requires argument%s %s", spec->name, n > 1 ? "s" : "",
				    missing);
	}
	return 0;
}

int proto_parse_request(const char *line, size_t len, struct request *req,
			enum err_code *code, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *id;

	memset(req, 0, sizeof(*req));
	req->id = json_null();
	if (msglen > 0)
		msg[0] = '\0';

	if (len > PROTO_MAX_LINE)
		return fail(code, msg, msglen, "request line longer than %d bytes", PROTO_MAX_LINE);
	req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (req->root == NULL)
		return fail(code, msg, msglen, "invalid JSON at line %d, column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	if (!json_is_object(req->root))
		return fail(code, msg, msglen, "a request must be a JSON object, got %s",
			    json_type_label(req->root));
	id = json_object_get(req->root, "id");
	if (id != NULL)
		req->id = id;
	if (check_top_level(req->root, code, msg, msglen) < 0 || check_cmd(req, code, msg, msglen) < 0 ||
	    check_args(req, code, msg, msglen) < 0)
		return -1;
	return 0;
}

void request_free(struct request *req)
{
	if (req == NULL)
		return;
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

/* Replace every byte that does not start a valid UTF-8 sequence by '?': jansson refuses to make
 * a JSON string from invalid UTF-8, and an error reply must never be lost to that. */
static char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) + 1), *o = out;
	unsigned cp;
	size_t n, i;

	while (*p) {
		if (*p < 0x80) {
			*o++ = (char)*p++;
			continue;
		}
		if ((*p & 0xE0) == 0xC0) {
			n = 1;
			cp = *p & 0x1F;
		} else if ((*p & 0xF0) == 0xE0) {
			n = 2;
			cp = *p & 0x0F;
		} else if ((*p & 0xF8) == 0xF0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			*o++ = '?';
			p++;
			continue;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				break;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if (i <= n || (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
			*o++ = '?';
			p++;
			continue;
		}
		memcpy(o, p, n + 1);
		o += n + 1;
		p += n + 1;
	}
	*o = '\0';
	return out;
}

static json_t *reply_head(json_t *id)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "api", json_integer(API_VERSION));
	json_object_set_new(msg, "id", id ? json_deep_copy(id) : json_null());
	return msg;
}

json_t *proto_reply_ok(json_t *id, json_t *result)
{
	json_t *msg = reply_head(id);

	json_object_set_new(msg, "ok", json_true());
	json_object_set_new(msg, "result", result ? result : json_object());
	return msg;
}

json_t *proto_reply_err(json_t *id, enum err_code code, const char *fmt, ...)
{
	json_t *msg = reply_head(id), *err = json_object();
	char *text, *clean;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	clean = utf8_sanitize(text ? text : "out of memory formatting the error message");
	free(text);

	json_object_set_new(err, "code", json_string(err_code_name(code)));
	json_object_set_new(err, "message", json_string(clean));
	free(clean);
	json_object_set_new(msg, "ok", json_false());
	json_object_set_new(msg, "error", err);
	return msg;
}

json_t *proto_stream_line(json_t *id, const char *kind, json_t *payload)
{
	json_t *msg = reply_head(id);

	json_object_set_new(msg, kind, payload ? payload : json_object());
	return msg;
}

/* One pass of jansson's encoder into a buffer that grows as it fills (json_dumpb with no
 * buffer would encode the whole reply once more just to size it: a `status` of a fleet is
 * hundreds of KiB). */
struct dump_buf {
	char *p;
	size_t len, cap;
};

static int dump_append(const char *s, size_t n, void *arg)
{
	struct dump_buf *b = arg;

	if (b->len + n + 2 > b->cap) {   /* room for the line's "\n\0" too */
		while (b->len + n + 2 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

char *proto_dump_line(const json_t *msg, size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | PROTO_JSON_REAL;
	struct dump_buf b = { NULL, 0, 0 };

	if (json_dump_callback(msg, dump_append, &b, flags) != 0 || b.len == 0) {
		free(b.p);
		if (len)
			*len = 0;
		return NULL;
	}
	b.p[b.len] = '\n';
	b.p[b.len + 1] = '\0';
	if (len)
		*len = b.len + 1;
	return b.p;
}
