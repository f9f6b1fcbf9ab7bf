/* Work off the event loop: a function run in a thread of its own, its result handed back to a
 * callback on the loop.  For what reads or parses a lot (the journal for `history`), so that a
 * client asking for it, however often, never holds up the loop.  At most OFFLOAD_THREADS run
 * at once; the others wait their turn, in order.
 *
 * The work function runs in another thread: it may touch only what its argument gives it and
 * what is safe from any thread (files, its own jansson values, malloc) — nothing of the loop,
 * no logging.  Its result (any pointer) is the done callback's, which runs on the loop. */
#ifndef CUTOVER_OFFLOAD_H
#define CUTOVER_OFFLOAD_H

#include <event2/event.h>

#define OFFLOAD_THREADS 2

typedef void *(*offload_work_fn)(void *arg);
typedef void (*offload_done_fn)(void *result, void *arg);

/* 0, or -1 (nothing will run: a thread or the pipe could not be made). */
int offload_run(struct event_base *base, offload_work_fn work, offload_done_fn done, void *arg);
/* Jobs started and not yet done (running or waiting). */
unsigned offload_pending(void);
/* Before the event base is freed: no done callback runs after this. */
void offload_shutdown(void);

#endif
