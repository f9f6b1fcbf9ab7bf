/* The data check: a switchover's two sides compared at its fence point, after the write-blocked
 * window, without holding writes.
 *
 * At the fence the old primary stops at a GTID, the fence point, and the candidate applies up to
 * it before it is made writable.  Two sessions keep that moment: on the old primary a consistent
 * snapshot (START TRANSACTION WITH CONSISTENT SNAPSHOT) opened once it is fenced, its position
 * read inside it and compared with the fence point; on the candidate one opened the moment it
 * reaches the fence point, followed by a read of read_only — still 1 proves that nothing was
 * written there before the snapshot, so the snapshot is the fence point.  The sync step waits for
 * both before the candidate is made writable; they run beside its own wait, so in practice the
 * window does not grow (bench/bench-datacheck.sh measures it).
 *
 * Once the switchover is done and writes flow to the new primary, the snapshots are compared
 * table by table: the InnoDB tables of every schema but mysql, sys, information_schema and
 * performance_schema (or those of data_check_tables), in chunks of data_check_chunk_rows on the
 * first primary-key column when it is an integer (else the table in one piece): each chunk's
 * row count and two CRC32 aggregates of CONCAT_WS over its columns and their NULL flags, on both
 * sides.  It is bounded: data_check_timeout for the whole, data_check_rate rows per second, and
 * it stops (incomplete) as soon as a session on either server waits for a metadata lock, which a
 * snapshot holds on every table it has read — a DDL is never held up for long.
 *
 * The result goes to status, the journal (history) and an event.  A mismatch names each chunk's
 * key range; the watchdog raises data_mismatch.  The old primary is the rollback point meanwhile:
 * held (held.h) at the fence point and not replicating; it follows the new primary only once
 * the check passed (a same-version switchover with reverse replication), else it stays held. */
#ifndef CUTOVER_DATACHECK_H
#define CUTOVER_DATACHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct daemon;
struct cluster;
struct server;

enum dc_state {
	DC_OPENING,      /* the snapshots are being opened */
	DC_ARMED,        /* both hold the fence point; waiting for the switchover to end */
	DC_NOT_ARMED,    /* they could not be opened at the fence point (see why) */
	DC_RUNNING,
	DC_PASSED,
	DC_MISMATCH,
	DC_INCOMPLETE,   /* stopped (timeout, a metadata-lock waiter, a lost session) before the end */
};

struct datacheck;

/* A check for switchover `id` from ref (the old primary) to target (the candidate): its two
 * sessions connect now, before the fence — a connection still logging in when the old
 * primary's client sessions are cut would be cut with them. */
struct datacheck *datacheck_new(struct daemon *d, struct cluster *c, const char *id, const struct server *ref,
				const struct server *target);
/* The sessions' ids on the reference, for the session cut to spare (0 if not connected). */
unsigned long datacheck_ref_thread(const struct datacheck *dc);
/* Open the snapshots: ref is fenced at fence_point; target waits for it (up to wait_ms) while
 * still read-only.  settled(arg) runs once, from the loop, when both are open or when that
 * failed (datacheck_armed says which). */
void datacheck_open(struct datacheck *dc, const char *fence_point, int wait_ms, void (*settled)(void *arg), void *arg);
bool datacheck_settled(const struct datacheck *dc);
bool datacheck_armed(const struct datacheck *dc);
/* Why it is not armed ("" if it is). */
const char *datacheck_why(const struct datacheck *dc);
/* The switchover is done: compare (the cluster owns dc from now on, as c->datacheck).  When
 * release_ref, the reference (the old primary, held at the fence point) starts replicating from
 * the target once the check passed. */
void datacheck_run(struct datacheck *dc, bool release_ref);
/* Still opening: stop, not armed, for `why` (settled is not called). */
void datacheck_give_up(struct datacheck *dc, const char *why);
/* A journaled result as status and history show it: one that was running when cutoverd stopped
 * is incomplete (new reference). */
json_t *datacheck_settled_result(const json_t *r);
/* Stop a running check now (a failover replaced its switchover): journaled as incomplete with
 * `why`.  Nothing when it is not running. */
void datacheck_stop(struct datacheck *dc, const char *why);
/* A check's result read back from the journal at start-up (event "data_check"). */
void datacheck_replay(struct cluster *c, const json_t *entry);
enum dc_state datacheck_state(const struct datacheck *dc);
/* The reference server's name (the old primary). */
const char *datacheck_reference(const struct datacheck *dc);
const char *datacheck_state_name(enum dc_state s);
/* {"state", "switchover", "reference", "target", "fence_point", "tables", "rows", "chunks",
 *  "mismatches": [...], "skipped": [...], "elapsed_ms", "rows_per_s", "why"} (new reference). */
json_t *datacheck_json(const struct datacheck *dc);
void datacheck_free(struct datacheck *dc);
void datacheck_rebind(struct datacheck *dc, struct cluster *c);

/* The SQL, as pure functions (tests/check_datacheck.c).  Identifiers are quoted with backticks. */
char *dc_quote_ident(const char *s);
/* The checksum of rows of schema.table with pk in (lo, hi] (lo/hi NULL: unbounded; pk NULL: the
 * whole table): one row (rows, crc_xor, crc_sum). */
char *dc_sql_checksum(const char *schema, const char *table, const char *const *cols, size_t ncols, const char *pk,
		      const char *lo, const char *hi);
/* The upper bound of the chunk of `rows` rows after lo (NULL: from the start): one row, or none
 * when fewer rows remain. */
char *dc_sql_boundary(const char *schema, const char *table, const char *pk, const char *lo, int rows);
/* Whether a value read back is a plain integer we can put in SQL as it is. */
bool dc_int_literal(const char *v);

#endif
