/* Counters the daemon keeps for its metrics (metrics.c): API requests by command and result.
 * Per-cluster figures live in struct cluster_stats (daemon.h). */
#ifndef CUTOVER_STATS_H
#define CUTOVER_STATS_H

#include <stddef.h>

struct api_count {
	char cmd[24];        /* command name, "-" when the request was unusable */
	char result[16];     /* "ok" or an error code name */
	unsigned long long n;
};

/* Count one reply. */
void stats_api(const char *cmd, const char *result);
/* All counters so far (borrowed; valid until the next stats_api call). */
const struct api_count *stats_api_all(size_t *n);

#endif
