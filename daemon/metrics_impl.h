/* The Prometheus text format writer of metrics_format.c, for the families of metrics_render.c. */
#ifndef CUTOVER_METRICS_IMPL_H
#define CUTOVER_METRICS_IMPL_H

struct evbuffer;

/* A family's HELP and TYPE lines: before its samples. */
void family(struct evbuffer *b, const char *name, const char *type, const char *help);
/* One sample: name{k="v",...} v.  kv holds key, value, key, value, ..., NULL (or is NULL). */
void sample(struct evbuffer *b, const char *name, const char *const *kv, double v);
void sample_count(struct evbuffer *b, const char *name, const char *const *kv, unsigned long long v);

#endif
