/* NSS look-ups off the event loop: which groups a uid belongs to (getpwuid_r + getgrouplist,
 * which may go to LDAP or SSSD and take long) asked in a worker thread, at most NSS_THREADS at
 * once and one per uid, the answer handed back on the loop through a pipe.  The threads touch
 * nothing but their own look-up: no libevent, no logging. */
#ifndef CUTOVER_NSS_H
#define CUTOVER_NSS_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/types.h>

#define NSS_THREADS 4

struct nss;

/* The answer for uid, on the loop: n >= 0 groups (0 when NSS does not know the uid), or n < 0
 * when the look-up failed (groups NULL). */
typedef void (*nss_answer_fn)(void *arg, uid_t uid, const gid_t *groups, int n);

/* What a worker thread runs: the uid's groups, primary included, in *groups (malloc'd, or NULL
 * with 0) and their count; -1 when the look-up failed.  Tests replace it before the first ask. */
extern int (*nss_lookup)(uid_t uid, gid_t **groups);

/* NULL when the pipe cannot be made. */
struct nss *nss_new(struct event_base *base, nss_answer_fn fn, void *arg);
/* Look uid up unless a look-up of it is already out: either way one answer comes to fn, never
 * inside this call.  True when it started one. */
bool nss_ask(struct nss *r, uid_t uid);
/* True the first time it is asked of uid's look-up (still out): for logging a late one once. */
bool nss_first_late(struct nss *r, uid_t uid);
/* Look-ups still out are left to finish in their threads; their answers are dropped. */
void nss_free(struct nss *r);

#endif
