/* The API commands of cutovers, shared by the files of cutover/cmd*.c: the handlers that
 * switchover_handlers (cmd.c) lists and the request helpers they all use.  Not for anyone else:
 * the public face is api.h. */
#ifndef CUTOVER_CMD_IMPL_H
#define CUTOVER_CMD_IMPL_H

#include <stdbool.h>

struct daemon;
struct client;
struct request;
struct cluster;

/* The cluster the request names ("cluster"), else the only one; NULL once answered with an
 * error. */
struct cluster *cmd_pick_cluster(struct daemon *d, struct client *cl, const struct request *req);
int cmd_arg_int(const struct request *req, const char *name, int def);
/* Integer arguments are durations or counts: refuse what would wrap or make no sense. */
bool cmd_args_in_range(struct client *cl, const struct request *req, const char *const *names, long long min,
		       long long max);

/* abort, pause, resume, resolve (cmd_control.c) */
void cmd_abort(struct daemon *d, struct client *cl, const struct request *req);
void cmd_pause(struct daemon *d, struct client *cl, const struct request *req);
void cmd_resume(struct daemon *d, struct client *cl, const struct request *req);
void cmd_resolve(struct daemon *d, struct client *cl, const struct request *req);
/* shift, move_tenants (cmd_moves.c) */
void cmd_shift(struct daemon *d, struct client *cl, const struct request *req);
void cmd_move_tenants(struct daemon *d, struct client *cl, const struct request *req);
/* history (cmd_history.c) */
void cmd_history(struct daemon *d, struct client *cl, const struct request *req);

#endif
