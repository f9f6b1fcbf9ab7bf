/* libFuzzer entry point for the config parser: whatever the text, config_load_string returns
 * either a config or errors (never both, never neither), never crashes and never leaks.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Ilib -Idaemon \
 *     $(pkg-config --cflags inih libevent) fuzz/fuzz_config.c daemon/config.c \
 *     daemon/config_check.c daemon/config_keys.c daemon/config_keys_set.c daemon/config_lex.c \
 *     daemon/config_value.c daemon/job_command.c lib/util.c lib/log.c $(pkg-config --libs inih libevent libsystemd) -o build/fuzz_config
 *   build/fuzz_config fuzz/corpus/config */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs;
	struct config *c;
	char *text, line[512];
	size_t i;

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = config_load_string(text, "fuzz.conf", &errs);
	if ((c == NULL) == (errs.n == 0))
		abort();
	/* Formatting is part of the contract: every error must format. */
	for (i = 0; i < errs.n; i++)
		cfg_error_format("fuzz.conf", &errs.v[i], line, sizeof(line));
	if (c)
		for (i = 0; i < c->n_routers; i++)
			(void)config_router_name(&c->routers[i], &c->servers[0]);
	config_free(c);
	cfg_errors_free(&errs);
	free(text);
	return 0;
}
