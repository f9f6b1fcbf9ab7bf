/* Inside the election: the state ha.c and ha_journal.c share. */
#ifndef CUTOVER_HA_IMPL_H
#define CUTOVER_HA_IMPL_H

#include "ha.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct etcd;
struct ha_journal;

struct ha {
	struct daemon *d;
	struct etcd *e;
	char *key;                      /* owned: PREFIX/leader */
	char *me;                       /* owned: the key's value when this member leads */
	enum ha_role role;
	long long lease;                /* this member's lease, 0: none */
	long long token;                /* the leader key's create_revision while this member leads */
	int64_t valid_until_us;         /* monotonic: leading is valid until then */
	int64_t sent_us;                /* monotonic: the call out was sent then */
	int64_t renew_sent_us;          /* monotonic: the renewal being verified was sent then */
	char leader[128], leader_addr[300];
	char last_error[400];
	bool etcd_ok;
	bool recovered;                 /* interrupted work looked at in this term of leading (etcd's journal) */
	struct ha_journal *hj;          /* owned: the journal's copy in etcd (ha_journal.c) */
	struct event *timer;            /* the next round */
	struct event *expiry;           /* the leadership's end unless renewed */
};

/* ha_journal.c */
struct ha_journal *hj_new(struct ha *h, char *err, size_t errlen);
void hj_free(struct ha_journal *j);
/* The leadership ended: nothing queued is written, every waiter hears why. */
void hj_lost(struct ha_journal *j, const char *why);
/* A term of leading begins: etcd's journal is read and brought into this member's own, and
 * the interrupted work in it recovered; then h->recovered and the member acts. */
void hj_begin_term(struct ha_journal *j);
/* ha.c: a journal write that etcd refused because the leader key is not this member's. */
void ha_deposed(struct ha *h, const char *why);

#endif
