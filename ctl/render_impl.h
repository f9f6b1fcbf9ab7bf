/* What cutoverctl's renderers share (render.c): a growing string, tables whose columns follow
 * their content, the daemon's texts cleaned and cut, colors, and the few judgements several
 * commands show alike.  Private to ctl/; the renderers themselves are declared in render.h and
 * live in the cmd_*.c file of their command. */
#ifndef CUTOVER_CTL_RENDER_IMPL_H
#define CUTOVER_CTL_RENDER_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "render.h"

#define ANSI_RESET   "\033[0m"
#define ANSI_GREEN   "\033[32m"
#define ANSI_YELLOW  "\033[33m"
#define ANSI_RED     "\033[1;31m"
#define ANSI_MAGENTA "\033[35m"

#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026 */
#define EM_DASH  "\xe2\x80\x94"   /* U+2014 */
#define ARROW    "\xe2\x86\x92"   /* U+2192 */

/* A growing string: table rows are built whole so trailing padding can be trimmed. */
struct sbuf {
	char *s;      /* owned */
	size_t len;
	size_t cap;
};

/* A table of any shape (the switchover report's phases, checks and servers, history): column
 * widths follow the content, the last column is cut to the terminal. */
struct table {
	size_t ncols;
	size_t nrows;
	char **cell;                  /* nrows * ncols, owned, cleaned; NULL = empty */
	const char **color;           /* nrows * ncols: static ANSI sequence or NULL */
	unsigned right;               /* bit c set: column c is right-aligned */
};

/* A growing string; sb_flush_line writes it as one line without trailing blanks. */
void sb_add(struct sbuf *b, const char *s);
void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_pad(struct sbuf *b, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_flush_line(struct sbuf *b, FILE *out);

/* The daemon's JSON read without trusting its shape, and its texts made safe to print. */
const json_t *jget(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key);
char *clean(const char *s);
char *cut(const char *s, size_t max);
const char *or_q(const char *s);
/* Colors: paint gives NULL when they are off; the others choose one for a value. */
const char *paint(const struct render_opts *o, const char *color);
const char *verdict_color(const char *v);
const char *state_color(const char *state);
const char *outcome_color(const char *outcome);
/* What several commands show alike. */
char *ms_cell(const json_t *v);
bool is_failover(const json_t *rep);

/* Tables: rows added with table_row, filled with table_set, printed once complete. */
void table_init(struct table *t, size_t ncols, unsigned right);
void table_row(struct table *t);
void table_set(struct table *t, size_t col, char *owned, const char *color);
void table_print(FILE *out, const struct table *t, const char *indent, const struct render_opts *o);
void table_free(struct table *t);

/* The daemon's UTC timestamps ("2026-11-21T13:47:00.123Z"). */
bool parse_iso_utc(const char *iso, time_t *t, int *ms);

/* The parts of status's rendering beyond cmd_status.c: a cluster's server table
 * (cmd_status_servers.c) and the lines of its tasks (cmd_status_tasks.c). */
void status_table(FILE *out, const json_t *servers, const struct render_opts *o);
void status_data_check(FILE *out, const json_t *cl);
void status_watch(FILE *out, const json_t *cl);
void status_shift(FILE *out, const json_t *cl);
void status_tenants(FILE *out, const json_t *cl);

#endif
