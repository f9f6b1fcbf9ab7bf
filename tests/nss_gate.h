/* A stand-in for NSS (tests/check_nss.c), for the tests of nss.c and of the control socket's
 * admin groups: its look-ups wait at a gate until the test opens it, so that a test can order
 * "the look-up is still out" against what the event loop does meanwhile. */
#ifndef CUTOVER_TESTS_NSS_GATE_H
#define CUTOVER_TESTS_NSS_GATE_H

#include <sys/types.h>

/* Closed again; look-ups will answer the one group `group`, or fail when it is (gid_t)-1. */
void gate_reset(gid_t group);
void gate_open(void);
int gate_calls(void);       /* look-ups entered */
int gate_returned(void);    /* look-ups that passed the gate */
/* Set as nss_lookup. */
int gate_lookup(uid_t uid, gid_t **groups);

#endif
