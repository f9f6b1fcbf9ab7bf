/* The Prometheus text exposition format (0.0.4): family headers, escaped label sets and
 * samples, appended to an evbuffer. */
#include "metrics_impl.h"

#include <event2/buffer.h>
#include <math.h>
#include <string.h>

void family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values may hold anything; the format escapes backslash, quote and newline. */
static void put_escaped(struct evbuffer *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (!rep)
			continue;
		evbuffer_add(b, run, (size_t)(s - run));
		evbuffer_add(b, rep, 2);
		run = s + 1;
	}
	evbuffer_add(b, run, (size_t)(s - run));
}

/* name{k="v",...}: kv holds key, value, key, value, ..., NULL. */
static void put_series(struct evbuffer *b, const char *name, const char *const *kv)
{
	size_t i;

	evbuffer_add(b, name, strlen(name));
	for (i = 0; kv && kv[i]; i += 2) {
		evbuffer_add_printf(b, "%s%s=\"", i ? "," : "{", kv[i]);
		put_escaped(b, kv[i + 1] ? kv[i + 1] : "");
		evbuffer_add(b, "\"", 1);
	}
	if (kv && kv[0])
		evbuffer_add(b, "}", 1);
}

void sample(struct evbuffer *b, const char *name, const char *const *kv, double v)
{
	put_series(b, name, kv);
	if (isnan(v))
		evbuffer_add(b, " NaN\n", 5);
	else if (isinf(v))
		evbuffer_add_printf(b, " %sInf\n", v > 0 ? "+" : "-");
	else
		evbuffer_add_printf(b, " %.15g\n", v);
}

/* Counters exactly, past 2^53 too. */
void sample_count(struct evbuffer *b, const char *name, const char *const *kv, unsigned long long v)
{
	put_series(b, name, kv);
	evbuffer_add_printf(b, " %llu\n", v);
}
