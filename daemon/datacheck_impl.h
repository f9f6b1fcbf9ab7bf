/* The data check's insides, shared by datacheck.c (the snapshots, state and result) and
 * datacheck_run.c (the comparison and its end).  Not for anyone else: the public face is
 * datacheck.h. */
#ifndef CUTOVER_DATACHECK_IMPL_H
#define CUTOVER_DATACHECK_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacheck.h"
#include "log.h"

struct daemon;
struct cluster;
struct db;
struct db_result;
struct event;

struct dc_table {
	char *schema, *name, *engine;
	char **cols;
	size_t ncols;
	char *pk;               /* the first primary-key column, NULL without one */
	bool pk_int;            /* an integer: chunked on it */
	bool listed;            /* matches data_check_tables (or there is no list) */
};

struct dc_side {
	struct db *db;
	char *server;           /* owned */
	bool done;
	int err;
	char errmsg[600];
	char *n, *crc_xor, *crc_sum;   /* owned: the last checksum */
	long long waiters;      /* the last metadata-lock look */
};

struct datacheck {
	struct daemon *d;
	struct cluster *c;
	char id[64];
	char *fence_point;
	enum dc_state state;
	char *why;              /* owned: why it is not armed / incomplete / what went wrong */
	struct dc_side side[2]; /* 0: the reference (old primary), 1: the target (new primary) */
	void (*settled)(void *arg);
	void *settled_arg;
	struct event *timer;
	bool release_ref;

	/* the comparison */
	struct dc_table *tables;
	size_t n_tables, ti;
	bool need_table;        /* ti is a table not yet begun */
	char *lo, *hi;          /* the chunk (lo, hi]; NULL = unbounded */
	bool last_chunk;
	int pending;
	int chunk_rows;
	long long rate;
	int64_t started_us, ended_us, deadline_us, last_mdl_us;
	long long rows, chunks, tables_done, n_mismatch;
	json_t *mismatches, *skipped;
	json_t *result;         /* a finished check read back from the journal */
};

struct log_ctx dc_lctx(const struct datacheck *dc);
/* Which side db is the session of: 0 the reference, 1 the target. */
int dc_side_of(const struct datacheck *dc, const struct db *db);
/* Forget a side's last result before its next query. */
void dc_side_reset(struct dc_side *s);
/* A side's query answered: done, and its error if any. */
void dc_side_result(struct dc_side *s, const struct db_result *res);

#endif
