/* API handlers.  api.c holds the read-only and configuration commands; cutover/cmd.c
 * (switchover_handlers) and fence.c (fence_handlers) the commands that change the cluster. */
#ifndef CUTOVER_API_H
#define CUTOVER_API_H

#include <jansson.h>
#include <stddef.h>

struct daemon;
struct client;
struct request;
struct cluster;

struct api_handler {
	const char *name;
	void (*fn)(struct daemon *d, struct client *c, const struct request *req);
};

/* Terminated by { NULL, NULL }. */
extern const struct api_handler switchover_handlers[];   /* cutover/cmd.c */
extern const struct api_handler fence_handlers[];        /* fence.c: fence, unfence, stonith */

json_t *api_server_json(const struct cluster *c, size_t idx);

#endif
