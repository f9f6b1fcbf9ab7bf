/* libFuzzer target for the control protocol's request parser: every byte string a client can
 * send as one line goes through proto_parse_request, and its error reply is built and dumped
 * exactly as the daemon would.  Built and run by fuzz/run.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtab.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request req;
	enum err_code code;
	char msg[1024];
	json_t *reply;
	size_t len;
	char *line;

	if (proto_parse_request((const char *)data, size, &req, &code, msg, sizeof(msg)) < 0) {
		reply = proto_reply_err(req.id, code, "%s", msg);
	} else {
		/* What a handler relies on: a known command and an args object. */
		if (req.spec == NULL || cmd_find(req.cmd) != req.spec || !json_is_object(req.args))
			abort();
		reply = proto_reply_ok(req.id, json_pack("{s:s}", "echo", req.cmd));
	}
	line = proto_dump_line(reply, &len);
	/* A reply is exactly one line: the daemon's framing depends on it. */
	if (line == NULL || len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL)
		abort();
	free(line);
	json_decref(reply);
	request_free(&req);
	return 0;
}
