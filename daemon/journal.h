/* The cutover journal: one JSON object per line in STATE_DIR/journal-<cluster>.jsonl, appended
 * before each transition acts.  Entries that a recovery depends on are fsync'd; informational
 * ones are written (they survive a killed daemon, not a lost machine).  See cutoverd(8). */
#ifndef CUTOVER_JOURNAL_H
#define CUTOVER_JOURNAL_H

#include <jansson.h>
#include <stdbool.h>

struct journal;

/* What a cutover's journal entry records ("event").  Recovery reads them back by name. */
enum journal_event {
	JE_BEGIN,        /* a cutover starts (kind, options) */
	JE_PHASE,        /* a phase begins ("phase") */
	JE_PAUSED,
	JE_RESUMED,
	JE_FENCED,       /* the old primary is fenced ("fence_point", or "by" for a failover) */
	JE_PNR,          /* about to pass the point of no return: the candidate is made writable */
	JE_ROUTED,       /* the routers send writes to the new primary */
	JE_ROLLBACK,     /* the undo chain starts ("reason") */
	JE_HANDED_OVER,  /* with [ha]: this member stopped leading mid-way; the leader goes on from etcd's journal */
	/* the finished ones: a cutover whose last entry is one of these needs nothing more */
	JE_DONE,
	JE_ROLLED_BACK,
	JE_FAILED,
	JE_REFUSED,
	JE_DRY_RUN,
	JE_RESOLVED,
	JE_SETTLED_ELSEWHERE, /* with [ha]: unfinished here, not in etcd's journal (never acted, or another leader ended it) */
	JE__COUNT
};
#define JE_FIRST_FINISHED JE_DONE

const char *journal_event_name(enum journal_event ev);
/* The event a name stands for; -1 for a name no cutover writes (the watchdog's own entries). */
int journal_event_parse(const char *name);
/* Is `name` one of the events that finish a cutover? */
bool journal_event_finished(const char *name);

/* Open (creating) the cluster's journal for appending.  NULL with a message on failure. */
struct journal *journal_open(const char *state_dir, const char *cluster, char *err, size_t errlen);
void journal_close(struct journal *j);
/* Append `entry` (borrowed) with a "ts" member added; durable: fsync before returning.
 * Returns 0, or -1 (errno set) — a cutover must not act on a transition it could not record. */
int journal_append(struct journal *j, json_t *entry, bool durable);

/* With [ha], every entry appended is also handed to fn (ha_journal.c writes a cutover's to
 * etcd, and the watchdog's sticky fences); entry is borrowed, with its "ts". */
typedef void (*journal_mirror_fn)(void *arg, const json_t *entry);
void journal_set_mirror(journal_mirror_fn fn, void *arg);
/* Append entries as they are (their "ts" kept; not mirrored): a cutover's records that another
 * member wrote, taken from etcd's journal.  0, or -1 (logged). */
int journal_import(const char *state_dir, const char *cluster, json_t *entries);

/* Move a journal past its size limit aside (to .1, replacing an older one): called only when
 * a cutover begins, so an unfinished cutover is always in the current file. */
void journal_rotate_if_large(const char *state_dir, const char *cluster);

/* Every entry of the cluster's journal (the rotated file, then the current one), oldest first (new reference), or an empty array.
 * Lines that are not JSON objects (a torn last write) are skipped. */
json_t *journal_read(const char *state_dir, const char *cluster);

/* Only the cutover entries (with an "id") and the data checks' results of the last max_bytes of the journal (the rotated
 * file's tail too when the current one is shorter), oldest first: bounded work, for the API
 * (history), whatever the journal's size.  New reference. */
json_t *journal_read_recent(const char *state_dir, const char *cluster, size_t max_bytes);
/* Journal files past this are rotated (at a cutover's start, and by the watchdog's appends
 * between cutovers). */
#define JOURNAL_ROTATE_BYTES (4 * 1024 * 1024)

/* Group entries into cutovers: [{"id":…, "entries":[…]}…], oldest first (new reference). */
json_t *journal_by_cutover(json_t *entries);

#endif
