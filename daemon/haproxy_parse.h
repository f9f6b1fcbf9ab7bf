/* The HAProxy runtime API as data: parsing `show stat` into router backends, building the
 * command lines cutoverd sends, and reading HAProxy's answers.  No I/O here: router_haproxy.c
 * moves the bytes, this file decides what they mean (and tests/check_haproxy.c checks it).
 *
 * In non-interactive mode HAProxy runs every ';'-separated command of one line in order and
 * ends the answer to each with an empty line; commands that change state answer nothing when
 * they succeed and a line of text ("No such server.", "Require 'backend/server'.",
 * "Unknown command…", "Permission denied") when they do not. */
#ifndef CUTOVER_HAPROXY_PARSE_H
#define CUTOVER_HAPROXY_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "router.h"

/* Fill v->be / v->n from a `show stat` CSV: the server rows of cfg->backend (writer) and of
 * cfg->read_backend (reader, when set), found by the header's column names, never positions.
 * Aggregate rows (FRONTEND, BACKEND) are skipped; server names go through the server map.
 * Returns 0, or -1 with a message in err (garbage, a missing column, a backend HAProxy does
 * not have: "backend 'x' not found in haproxy (backends: a, b)"); v keeps what was parsed. */
int hx_parse_stat(const char *csv, const struct cfg_router *cfg, struct router_view *v,
		  char *err, size_t errlen);

/* What a `show stat` status says: admin_up = not in MAINT or DRAIN; healthy = the server is
 * up as far as HAProxy knows ("UP", "UP 1/3", "no check", "DRAIN…").  Unknown text: neither. */
void hx_status_flags(const char *status, bool *admin_up, bool *healthy);
/* The `set server … state` word that restores a status: "maint", "drain" or "ready";
 * NULL for a status we do not recognise (better left alone than guessed). */
const char *hx_admin_word(const char *status);
/* Whether a status shows the admin state `word` took effect.  A server that is both drained
 * and DOWN shows "DOWN", so "drain" also accepts DOWN. */
bool hx_status_is(const char *status, const char *word);

/* HAProxy's name for cutoverd server `server` (the server map), and back; NULL if unmapped. */
const char *hx_name_of(const struct cfg_router *cfg, const char *server);
const char *hx_server_of(const struct cfg_router *cfg, const char *hx_name);
/* A proxy or server name HAProxy accepts (letters, digits, '.', ':', '_', '-'): anything else
 * could smuggle a second command into the line. */
bool hx_valid_name(const char *s);

/* Command lines (new strings, no trailing newline), NULL if a name is not valid.  With
 * `snapshot`, "show stat" runs first in the same round trip, so the states the change starts
 * from are read atomically with it. */
char *hx_cmd_drain(const char *backend, const char *old, bool snapshot);
/* New ready, old maint, old's sessions shut, in one line so the write endpoint switches at once. */
char *hx_cmd_promote(const char *backend, const char *new_, const char *old, bool snapshot);
/* Put both servers back to the words remembered (NULL = leave alone); when the new primary
 * goes back out of service its sessions are shut too, as promote did for the old one. */
char *hx_cmd_rollback(const char *backend, const char *old, const char *old_word,
		      const char *new_, const char *new_word);
/* How many commands a line holds. */
size_t hx_cmd_count(const char *line);

/* The answer to command i of a batch reply (not NUL-terminated: *len bytes), or NULL when the
 * reply holds fewer answers (HAProxy closed early). */
const char *hx_reply_part(const char *reply, size_t i, size_t *len);
/* Check that answers first … first+n-1 are empty.  Returns 0, or -1 with the first error text
 * HAProxy gave (lines joined by "; ") or a note that answers are missing. */
int hx_reply_check(const char *reply, size_t first, size_t n, char *err, size_t errlen);

#endif
