/* Several cutoverd members, one leader, elected through etcd ([ha] in cutoverd.conf; etcd.h).
 *
 * The leader key (PREFIX/leader) holds {"name", "address"} of the member that created it,
 * attached to that member's lease of lease_ttl.  A member without the key tries to create it
 * (a transaction: only if absent); the one that succeeds leads, the others follow whoever
 * holds it.  The leader renews its lease every third of the TTL.  Its leadership is valid on
 * its own monotonic clock until the send time of its last renewal that etcd confirmed plus
 * the TTL minus a quarter of it: etcd cannot expire the lease before that, so a member that
 * cannot renew (etcd down, a partition, a stalled process) stops acting before another can be
 * elected.  The key's create_revision is the leadership's fencing token.
 *
 * Only the leader acts: the API's mutating commands on a follower get NOT_LEADER naming the
 * leader and its address; the watchdog's actions and the heartbeat writes wait; the recovery
 * of interrupted work runs when a member first becomes leader.  Without [ha] every call here
 * says "acting". */
#ifndef CUTOVER_HA_H
#define CUTOVER_HA_H

#include <jansson.h>
#include <stdbool.h>

struct daemon;
struct ha;

enum ha_role { HA_OFF, HA_CANDIDATE, HA_LEADER, HA_FOLLOWER };

/* Start the election (NULL without [ha]).  NULL with why when the etcd endpoints do not parse. */
struct ha *ha_start(struct daemon *d, char *err, size_t errlen);
void ha_free(struct ha *h);
/* Whether this member may act now: no [ha], or the leader within its valid time. */
bool ha_acting(const struct ha *h);
enum ha_role ha_role(const struct ha *h);
const char *ha_role_name(enum ha_role r);
/* The leader's name and address as last read ("" unknown). */
const char *ha_leader(const struct ha *h);
const char *ha_leader_address(const struct ha *h);
const char *ha_last_error(const struct ha *h);
/* For status: role, name, leader, acting, lease_ttl_ms, valid_for_ms, token, etcd, last_error. */
json_t *ha_json(const struct ha *h);

/* The journal's copy in etcd (ha_journal.c).  Called back once every record appended so far
 * is in etcd (ok), or cannot be: this member stopped leading (why).  false: nothing to wait
 * for (no [ha], or all written): go on at once.  A waiter may be dropped with forget(arg). */
typedef void (*ha_wait_fn)(void *arg, bool ok, const char *why);
bool ha_journal_wait(struct ha *h, ha_wait_fn fn, void *arg);
void ha_journal_forget(struct ha *h, void *arg);
json_t *ha_journal_json(const struct ha *h);

/* The last answer of a cutover (ha_reply.c): msg (a reply; owned) is sent to *cl (held; taken,
 * *cl set to NULL) once etcd has every record appended so far, at once without [ha].  A member
 * that stops leading first sends it with "journal_in_etcd": false and a warning.  flush: the
 * daemon stops; whatever waits is sent so. */
struct client;
void ha_reply_final(struct daemon *d, struct client **cl, json_t *msg);
void ha_replies_flush(struct daemon *d);

#endif
