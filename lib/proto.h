/* The control protocol, shared by cutoverd and cutoverctl.  See cutoverd-api(7).
 *
 * Newline-delimited JSON over a Unix stream socket, one request per line:
 *   {"id": <any JSON value, optional>, "cmd": "<name>", "args": {<object, optional>}}
 * One reply per request, carrying the request's id (null when it had none):
 *   {"api": 1, "id": …, "ok": true,  "result": {…}}
 *   {"api": 1, "id": …, "ok": false, "error": {"code": "INVALID", "message": "…"}}
 * Streaming commands (events, switchover) send further lines before or after their reply:
 *   {"api": 1, "id": …, "event": {…}}      (events subscription)
 *   {"api": 1, "id": …, "progress": {…}}   (a running switchover's steps)
 */
#ifndef CUTOVER_PROTO_H
#define CUTOVER_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define API_VERSION 1
#define PROTO_MAX_LINE 65536            /* bytes, newline excluded */
#define DEFAULT_SOCKET_PATH "/run/cutoverd/cutoverd.sock"
/* Reals are written with 12 significant digits: a duration computed as 2.068 ms reads 2.068,
 * not 2.0680000000000001 (the 17 digits that round-trip every double), and 12 still keep
 * microseconds on anything below a million seconds.  Every JSON the daemon writes uses it. */
#define PROTO_JSON_REAL JSON_REAL_PRECISION(12)

/* FAILED: the command ran and did not succeed (a switchover rolled back or failed); the error
 * object then carries a "report" member with the details. */
enum err_code { ERR_INVALID, ERR_NOTFOUND, ERR_DENIED, ERR_BUSY, ERR_BADSTATE, ERR_INTERNAL, ERR_FAILED, ERR_NOT_LEADER,
		ERR__COUNT };

const char *err_code_name(enum err_code c);
/* -1 if unknown */
int err_code_parse(const char *name);

struct cmd_spec;

struct request {
	json_t *root;                 /* owned */
	json_t *id;                   /* borrowed from root; JSON null if absent */
	const char *cmd;              /* borrowed from root */
	json_t *args;                 /* borrowed from root; an empty object if absent */
	const struct cmd_spec *spec;  /* the command table entry */
};

/* Parse and validate one request line (without its newline): valid JSON object, "cmd" a known
 * command, "args" an object whose members match the command's argument table (types, required,
 * no unknown names).  Returns 0, or -1 with *code and a human message (naming the key) in msg;
 * on failure req->id is still set when the line had a usable id (so the error reply carries it)
 * and request_free must still be called. */
int proto_parse_request(const char *line, size_t len, struct request *req,
			enum err_code *code, char *msg, size_t msglen);
void request_free(struct request *req);

/* Build replies; `result` is stolen, `id` is borrowed (and copied). */
json_t *proto_reply_ok(json_t *id, json_t *result);
json_t *proto_reply_err(json_t *id, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* {"api":1,"id":…,<kind>: payload}; payload stolen.  kind is "event" or "progress". */
json_t *proto_stream_line(json_t *id, const char *kind, json_t *payload);

/* Serialize compactly plus "\n" into a new string (length in *len). */
char *proto_dump_line(const json_t *msg, size_t *len);

#endif
