/* cutoverctl status: the table of a cluster's servers, one row each (role, state, read_only,
 * lag, replication threads, GTID, error), its columns as wide as their content. */
#include "render_impl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The server table of `status`: one enum per column, in display order. */
enum st_col { C_SERVER, C_ROLE, C_STATE, C_RO, C_LAG, C_IO, C_SQL, C_GTID, C_ERROR, ST_COLS };

static const char *const st_head[ST_COLS] = {
	"SERVER", "ROLE", "STATE", "RO", "LAG(ms)", "IO", "SQL", "GTID", "ERROR",
};

struct st_row {
	char *cell[ST_COLS];          /* owned, cleaned and already cut */
	const char *color[ST_COLS];   /* static ANSI sequence or NULL */
};

static void status_row(struct st_row *r, const json_t *srv);
static char *lag_cell(const json_t *srv);
static char *bool_cell(const json_t *v);
static bool is_rollback_point(const json_t *srv);
static char *repl_cell(const json_t *srv, const char *key);
static char *gtid_cell(const json_t *srv);
static char *error_cell(const json_t *srv);
static void emit_row(FILE *out, const struct st_row *r, const size_t *w, const struct render_opts *o);

void status_table(FILE *out, const json_t *servers, const struct render_opts *o)
{
	size_t n = json_array_size(servers), i, c, w[ST_COLS], start;
	struct st_row *rows;
	const json_t *srv;
	char *e;

	if (n == 0) {
		fputs("  no servers\n", out);
		return;
	}
	rows = xcalloc(n + 1, sizeof(*rows));
	for (c = 0; c < ST_COLS; c++)
		rows[0].cell[c] = xstrdup(st_head[c]);
	json_array_foreach(servers, i, srv)
		status_row(&rows[i + 1], srv);

	for (c = 0; c < ST_COLS; c++) {
		w[c] = 0;
		for (i = 0; i <= n; i++)
			if (render_width(rows[i].cell[c]) > w[c])
				w[c] = render_width(rows[i].cell[c]);
	}
	/* Only the last column is cut to the terminal: everything else identifies the server. */
	if (o->width > 0) {
		start = 2;
		for (c = 0; c < C_ERROR; c++)
			start += w[c] + 2;
		for (i = 1; i <= n; i++) {
			size_t max = (size_t)o->width > start + RENDER_ERROR_MIN ?
				(size_t)o->width - start : RENDER_ERROR_MIN;
			e = cut(rows[i].cell[C_ERROR], max);
			free(rows[i].cell[C_ERROR]);
			rows[i].cell[C_ERROR] = e;
		}
	}
	for (i = 0; i <= n; i++) {
		emit_row(out, &rows[i], w, o);
		for (c = 0; c < ST_COLS; c++)
			free(rows[i].cell[c]);
	}
	free(rows);
}

/* A stale server (not answering now) keeps its last GTID and error in the row, but its
 * read_only, lag and threads are not known: "?", whatever the daemon still remembers. */
static void status_row(struct st_row *r, const json_t *srv)
{
	const char *state = jstr(srv, "state");
	bool stale = json_is_true(jget(srv, "stale"));

	r->cell[C_SERVER] = clean(or_q(jstr(srv, "name")));
	r->cell[C_ROLE] = clean(or_q(jstr(srv, "role")));
	r->cell[C_STATE] = clean(or_q(state));
	r->color[C_STATE] = state_color(state);
	r->cell[C_RO] = stale ? xstrdup("?") : bool_cell(jget(srv, "read_only"));
	r->cell[C_LAG] = stale ? xstrdup("?") : lag_cell(srv);
	r->cell[C_IO] = stale ? xstrdup("?") : repl_cell(srv, "io_running");
	r->cell[C_SQL] = stale ? xstrdup("?") : repl_cell(srv, "sql_running");
	/* a rollback point is stopped on purpose (held at the fence point): not a fault to paint */
	if (is_rollback_point(srv))
		;
	else if (strcmp(r->cell[C_IO], "-") && strcmp(r->cell[C_IO], "?") && strcmp(r->cell[C_IO], "Yes"))
		r->color[C_IO] = ANSI_RED;
	if (!is_rollback_point(srv) && strcmp(r->cell[C_SQL], "-") && strcmp(r->cell[C_SQL], "?") &&
	    strcmp(r->cell[C_SQL], "Yes"))
		r->color[C_SQL] = ANSI_RED;
	r->cell[C_GTID] = gtid_cell(srv);
	r->cell[C_ERROR] = error_cell(srv);
	r->color[C_ERROR] = ANSI_RED;
}

/* Lag does not apply to a primary, to a server that replicates from nothing or to one held at
 * a fence point ("-"); on any other server a missing number means we do not know ("?"). */
static char *lag_cell(const json_t *srv)
{
	const json_t *lag = jget(srv, "lag_ms");
	const char *role = jstr(srv, "role");

	if (is_rollback_point(srv))
		return xstrdup("-");
	if (json_is_number(lag))
		return xasprintf("%lld", (long long)llround(json_number_value(lag)));
	if (role && (!strcmp(role, "primary") || !strcmp(role, "orphan")))
		return xstrdup("-");
	return xstrdup("?");
}

static bool is_rollback_point(const json_t *srv)
{
	const char *role = jstr(srv, "role");
	return role && !strcmp(role, "rollback_point");
}

static char *bool_cell(const json_t *v)
{
	if (json_is_true(v))
		return xstrdup("yes");
	if (json_is_false(v))
		return xstrdup("no");
	return xstrdup("?");
}

/* "replication": null means the server replicates from nothing, but only a server we reached
 * can tell us that; for one we did not reach it means "unknown". */
static char *repl_cell(const json_t *srv, const char *key)
{
	const json_t *repl = jget(srv, "replication");
	const char *v;

	if (json_is_object(repl)) {
		v = jstr(repl, key);
		return clean(or_q(v));
	}
	if (json_is_null(repl) && json_is_true(jget(srv, "reachable")))
		return xstrdup("-");
	return xstrdup("?");
}

static char *gtid_cell(const json_t *srv)
{
	const char *g = jstr(srv, "gtid");
	char *c, *r;

	if (!g)
		return xstrdup("?");
	if (!*g)
		return xstrdup("-");
	c = clean(g);
	r = cut(c, RENDER_GTID_MAX);
	free(c);
	return r;
}

/* The connection error if any, else the replication thread's error (SQL first: it is the one
 * that needs a person). */
static char *error_cell(const json_t *srv)
{
	const json_t *repl = jget(srv, "replication");
	const char *e = jstr(srv, "last_error");
	const json_t *no;
	char *c, *r;

	if (e && *e)
		return clean(e);
	e = jstr(repl, "last_sql_error");
	no = jget(repl, "last_sql_errno");
	if (e && *e) {
		c = clean(e);
		r = xasprintf("SQL %lld: %s", (long long)json_integer_value(no), c);
		free(c);
		return r;
	}
	e = jstr(repl, "last_io_error");
	no = jget(repl, "last_io_errno");
	if (e && *e) {
		c = clean(e);
		r = xasprintf("IO %lld: %s", (long long)json_integer_value(no), c);
		free(c);
		return r;
	}
	return xstrdup("");
}

static void emit_row(FILE *out, const struct st_row *r, const size_t *w, const struct render_opts *o)
{
	struct sbuf b = { 0 };
	const char *col;
	size_t c, tw;

	sb_add(&b, "  ");
	for (c = 0; c < ST_COLS; c++) {
		tw = render_width(r->cell[c]);
		col = paint(o, r->color[c]);
		if (c == C_LAG)
			sb_pad(&b, w[c] - tw);
		if (col && *r->cell[c])
			sb_add(&b, col);
		sb_add(&b, r->cell[c]);
		if (col && *r->cell[c])
			sb_add(&b, ANSI_RESET);
		if (c + 1 < ST_COLS) {
			if (c != C_LAG)
				sb_pad(&b, w[c] - tw);
			sb_add(&b, "  ");
		}
	}
	sb_flush_line(&b, out);
	free(b.s);
}
