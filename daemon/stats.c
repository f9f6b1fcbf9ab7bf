#include "stats.h"
#include "util.h"

#include <string.h>

#define MAX_COUNTS 256   /* commands × results is small; anything beyond is folded into "other" */

static struct api_count counts[MAX_COUNTS];
static size_t n_counts;

void stats_api(const char *cmd, const char *result)
{
	size_t i;

	if (!cmd)
		cmd = "-";
	for (i = 0; i < n_counts; i++)
		if (!strcmp(counts[i].cmd, cmd) && !strcmp(counts[i].result, result)) {
			counts[i].n++;
			return;
		}
	if (n_counts == MAX_COUNTS) {
		cmd = "other";
		for (i = 0; i < n_counts; i++)
			if (!strcmp(counts[i].cmd, cmd) && !strcmp(counts[i].result, result)) {
				counts[i].n++;
				return;
			}
		i = n_counts - 1;   /* the table is full: the last slot becomes other/result */
	} else {
		i = n_counts++;
	}
	strlcpy_(counts[i].cmd, cmd, sizeof(counts[i].cmd));
	strlcpy_(counts[i].result, result, sizeof(counts[i].result));
	counts[i].n = 1;
}

const struct api_count *stats_api_all(size_t *n)
{
	*n = n_counts;
	return counts;
}
