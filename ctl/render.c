#include "render.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ANSI_RESET   "\033[0m"
#define ANSI_GREEN   "\033[32m"
#define ANSI_YELLOW  "\033[33m"
#define ANSI_RED     "\033[1;31m"
#define ANSI_MAGENTA "\033[35m"

#define ELLIPSIS "\xe2\x80\xa6"   /* U+2026 */
#define EM_DASH  "\xe2\x80\x94"   /* U+2014 */
#define TREE_BRANCH "\xe2\x94\x9c\xe2\x94\x80 "   /* "├─ " */
#define TREE_LAST   "\xe2\x94\x94\xe2\x94\x80 "   /* "└─ " */
#define TREE_RAIL   "\xe2\x94\x82  "                /* "│  " */
#define TREE_SPACE  "   "
#define ARROW    "\xe2\x86\x92"   /* U+2192 */

/* Replication trees deeper than this are cut (a chain of 32 relays is already a mistake). */
#define TREE_MAX_DEPTH 32

/* A growing string: table rows are built whole so trailing padding can be trimmed. */
struct sbuf {
	char *s;      /* owned */
	size_t len;
	size_t cap;
};

/* The server table of `status`: one enum per column, in display order. */
enum st_col { C_SERVER, C_ROLE, C_STATE, C_RO, C_LAG, C_IO, C_SQL, C_GTID, C_ERROR, ST_COLS };

static const char *const st_head[ST_COLS] = {
	"SERVER", "ROLE", "STATE", "RO", "LAG(ms)", "IO", "SQL", "GTID", "ERROR",
};

struct st_row {
	char *cell[ST_COLS];          /* owned, cleaned and already cut */
	const char *color[ST_COLS];   /* static ANSI sequence or NULL */
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

static void sb_add(struct sbuf *b, const char *s);
static void sb_addn(struct sbuf *b, const char *s, size_t n);
static void sb_pad(struct sbuf *b, size_t n);
static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_flush_line(struct sbuf *b, FILE *out);

static const json_t *jget(const json_t *o, const char *key);
static const char *jstr(const json_t *o, const char *key);
static char *clean(const char *s);
static char *cut(const char *s, size_t max);
static const char *or_q(const char *s);
static const char *paint(const struct render_opts *o, const char *color);
static const char *verdict_color(const char *v);
static const char *state_color(const char *state);
static void cluster_header(FILE *out, const json_t *cl, const struct render_opts *o);

static void status_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_cutover(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_table(FILE *out, const json_t *servers, const struct render_opts *o);
static void status_row(struct st_row *r, const json_t *srv);
static char *lag_cell(const json_t *srv);
static char *bool_cell(const json_t *v);
static char *repl_cell(const json_t *srv, const char *key);
static char *gtid_cell(const json_t *srv);
static char *error_cell(const json_t *srv);
static void emit_row(FILE *out, const struct st_row *r, const size_t *w, const struct render_opts *o);
static void status_router(FILE *out, const json_t *rt, const json_t *primary_v, const struct render_opts *o);
static void status_authority(FILE *out, const json_t *cl);
static void status_alarms(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_verdict(FILE *out, const json_t *cl, const struct render_opts *o);

static void topo_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void topo_node(FILE *out, const json_t *node, const char *lead, const char *rails,
		      bool root, int depth, const struct render_opts *o);
static void topo_describe(struct sbuf *b, const json_t *node, bool root, const struct render_opts *o);

static void table_init(struct table *t, size_t ncols, unsigned right);
static void table_row(struct table *t);
static void table_set(struct table *t, size_t col, char *owned, const char *color);
static void table_print(FILE *out, const struct table *t, const char *indent, const struct render_opts *o);
static void table_free(struct table *t);

static const char *outcome_label(const char *outcome);
static const char *outcome_color(const char *outcome);
static const char *progress_color(const char *status);
static const char *check_color(const char *result);
static char *ms_cell(const json_t *v);
static void report_header(FILE *out, const json_t *rep, const char *label, const char *color,
			  const struct render_opts *o);
static void report_checks(FILE *out, const json_t *checks, bool all, const struct render_opts *o);
static void report_phases(FILE *out, const json_t *phases, const struct render_opts *o);
static bool is_failover(const json_t *rep);
static void report_blocked(FILE *out, const json_t *rep, const char *outcome);
static void report_failover_blocked(FILE *out, const json_t *rep);
static void report_errant(FILE *out, const json_t *rep, const struct render_opts *o);
static void report_servers(FILE *out, const json_t *servers, const struct render_opts *o);
static void report_next_steps(FILE *out, const json_t *rep, const char *outcome);
static void plan_options(FILE *out, const json_t *rep, const json_t *args, const struct render_opts *o);
static void plan_failover_options(FILE *out, const json_t *rep, const json_t *args,
				  const struct render_opts *o);
static void plan_option(struct table *t, const char *name, char *value);
static void history_row(struct table *t, const json_t *sw, const struct render_opts *o);
static double phases_total(const json_t *phases, bool *any);

static bool parse_iso_utc(const char *iso, time_t *t, int *ms);
static void format_uptime(char *buf, size_t len, double s);
static void format_ts(char *buf, size_t len, const char *iso);
static void format_date(char *buf, size_t len, const char *iso);

/* ---- small helpers ---------------------------------------------------------------------- */

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap ? b->cap : 128;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_pad(struct sbuf *b, size_t n)
{
	while (n--)
		sb_addn(b, " ", 1);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s) {
		sb_add(b, s);
		free(s);
	}
}

/* Write the buffer as one line without trailing blanks, then empty it. */
static void sb_flush_line(struct sbuf *b, FILE *out)
{
	while (b->len > 0 && b->s[b->len - 1] == ' ')
		b->len--;
	if (b->len)
		fwrite(b->s, 1, b->len, out);
	fputc('\n', out);
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

static const json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

size_t render_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* A copy safe to print: the daemon relays server error texts, which may hold newlines or
 * escape sequences; control characters become spaces. */
static char *clean(const char *s)
{
	char *d = xstrdup(s), *p;
	for (p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return d;
}

/* A new copy of s at most max columns wide, ending in an ellipsis when cut. */
static char *cut(const char *s, size_t max)
{
	struct sbuf b = { 0 };
	const char *p = s;
	size_t w = 0;

	if (render_width(s) <= max || max == 0)
		return xstrdup(s);
	while (*p && w + 1 < max) {
		const char *q = p + 1;
		while (((unsigned char)*q & 0xc0) == 0x80)
			q++;
		sb_addn(&b, p, (size_t)(q - p));
		p = q;
		w++;
	}
	sb_add(&b, ELLIPSIS);
	return b.s;
}

static const char *paint(const struct render_opts *o, const char *color)
{
	return o->color && color ? color : NULL;
}

static const char *verdict_color(const char *v)
{
	if (!v)
		return ANSI_MAGENTA;
	if (!strcmp(v, "OK"))
		return ANSI_GREEN;
	if (!strcmp(v, "WARN"))
		return ANSI_YELLOW;
	if (!strcmp(v, "CRIT"))
		return ANSI_RED;
	return ANSI_MAGENTA;
}

static const char *state_color(const char *state)
{
	if (!state || !strcmp(state, "unknown"))
		return ANSI_YELLOW;
	if (!strcmp(state, "down"))
		return ANSI_RED;
	return NULL;
}

/* "cluster NAME — VERDICT — primary P", shared by status and topology. */
static void cluster_header(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const char *verdict = jstr(cl, "verdict");
	const json_t *primary = jget(cl, "primary");
	const char *col = paint(o, verdict_color(verdict));
	char *name = clean(or_q(jstr(cl, "name")));

	fprintf(out, "cluster %s " EM_DASH " %s%s%s " EM_DASH " ", name, col ? col : "",
		or_q(verdict), col ? ANSI_RESET : "");
	if (json_is_string(primary)) {
		char *p = clean(json_string_value(primary));
		fprintf(out, "primary %s\n", p);
		free(p);
	} else if (json_is_null(primary))
		fputs("no primary\n", out);
	else
		fputs("primary ?\n", out);
	free(name);
}

/* ---- status ----------------------------------------------------------------------------- */

int render_status(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *clusters = jget(result, "clusters"), *cl;
	size_t i;

	if (!json_is_array(clusters))
		return -1;
	if (json_array_size(clusters) == 0) {
		fputs("no clusters\n", out);
		return 0;
	}
	json_array_foreach(clusters, i, cl) {
		if (i > 0)
			fputc('\n', out);
		status_cluster(out, cl, o);
	}
	return 0;
}

static void status_cluster(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const json_t *routers = jget(cl, "routers"), *rt;
	size_t i;

	cluster_header(out, cl, o);
	status_cutover(out, cl, o);
	status_table(out, jget(cl, "servers"), o);
	if (json_is_array(routers))
		json_array_foreach(routers, i, rt)
			status_router(out, rt, jget(cl, "primary"), o);
	status_authority(out, cl);
	status_alarms(out, cl, o);
	status_verdict(out, cl, o);
}

/* A switchover in progress matters more than anything else in the block: right under the header.
 * An interrupted one blocks every new switchover until someone resolves it, so it says how. */
static void status_cutover(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const json_t *co = jget(cl, "cutover");
	const char *state = jstr(co, "state"), *red = paint(o, ANSI_RED), *yellow = paint(o, ANSI_YELLOW);
	char *name;

	if (!json_is_object(co))
		return;
	fputs("  ", out);
	render_cutover_line(out, co, o);
	name = clean(or_q(jstr(cl, "name")));
	if (state && !strcmp(state, "interrupted"))
		fprintf(out, "  %s! INTERRUPTED: cutoverd stopped during this switchover and could neither "
			"finish nor undo it; new switchovers are refused until it is resolved.%s\n"
			"  %s! Check which server is writable and where the routers send writes, then run: "
			"cutoverctl resolve --cluster %s%s\n", red ? red : "", red ? ANSI_RESET : "",
			red ? red : "", name, red ? ANSI_RESET : "");
	else if (state && !strcmp(state, "paused"))
		fprintf(out, "  %spaused:%s cutoverctl resume --cluster %s goes on, cutoverctl abort "
			"--cluster %s rolls back\n", yellow ? yellow : "", yellow ? ANSI_RESET : "", name, name);
	free(name);
}

int render_cutover_line(FILE *out, const json_t *co, const struct render_opts *o)
{
	const char *state = jstr(co, "state");
	const char *col = paint(o, state && !strcmp(state, "interrupted") ? ANSI_RED :
			       state && !strcmp(state, "paused") ? ANSI_YELLOW : NULL);
	char *id, *from, *to, *phase, *st;

	if (!json_is_object(co))
		return -1;
	id = clean(or_q(jstr(co, "id")));
	from = clean(or_q(jstr(co, "old_primary")));
	to = clean(or_q(jstr(co, "new_primary")));
	phase = clean(or_q(jstr(co, "phase")));
	st = clean(or_q(state));
	fprintf(out, "%s%s %s: %s " ARROW " %s, phase %s (state %s)%s\n", col ? col : "",
		is_failover(co) ? "failover" : "switchover", id, from, to, phase, st, col ? ANSI_RESET : "");
	free(id);
	free(from);
	free(to);
	free(phase);
	free(st);
	return 0;
}

static void status_table(FILE *out, const json_t *servers, const struct render_opts *o)
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
	if (strcmp(r->cell[C_IO], "-") && strcmp(r->cell[C_IO], "?") && strcmp(r->cell[C_IO], "Yes"))
		r->color[C_IO] = ANSI_RED;
	if (strcmp(r->cell[C_SQL], "-") && strcmp(r->cell[C_SQL], "?") && strcmp(r->cell[C_SQL], "Yes"))
		r->color[C_SQL] = ANSI_RED;
	r->cell[C_GTID] = gtid_cell(srv);
	r->cell[C_ERROR] = error_cell(srv);
	r->color[C_ERROR] = ANSI_RED;
}

/* Lag does not apply to a primary or to a server that replicates from nothing ("-"); on any
 * other server a missing number means we do not know ("?"). */
static char *lag_cell(const json_t *srv)
{
	const json_t *lag = jget(srv, "lag_ms");
	const char *role = jstr(srv, "role");

	if (json_is_number(lag))
		return xasprintf("%lld", (long long)llround(json_number_value(lag)));
	if (role && (!strcmp(role, "primary") || !strcmp(role, "orphan")))
		return xstrdup("-");
	return xstrdup("?");
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

/* primary_v: the cluster's "primary" member (a name, null when it has none, or missing). */
static void status_router(FILE *out, const json_t *rt, const json_t *primary_v, const struct render_opts *o)
{
	const char *primary = json_string_value(primary_v);
	struct sbuf b = { 0 };
	const json_t *writer = jget(rt, "writer"), *matches = jget(rt, "writer_matches_primary");
	const char *err = jstr(rt, "error"), *red = paint(o, ANSI_RED);
	char *name = clean(or_q(jstr(rt, "name"))), *type = clean(or_q(jstr(rt, "type"))), *s;

	sb_printf(&b, "  router %s (%s): ", name, type);
	if (json_is_false(jget(rt, "reachable"))) {
		s = clean(err ? err : "no error given");
		sb_printf(&b, "%sunreachable: %s%s", red ? red : "", s, red ? ANSI_RESET : "");
		free(s);
	} else if (json_is_null(writer)) {
		sb_printf(&b, "%sno writer%s", red ? red : "", red ? ANSI_RESET : "");
	} else {
		s = clean(or_q(json_string_value(writer)));
		sb_printf(&b, "writer %s " EM_DASH " ", s);
		free(s);
		if (json_is_true(matches))
			sb_add(&b, "matches primary");
		else if (json_is_false(matches)) {
			s = clean(primary ? primary : "(none)");
			sb_printf(&b, "%sdoes NOT match primary %s%s", red ? red : "", s, red ? ANSI_RESET : "");
			free(s);
		} else if (json_is_null(primary_v))
			sb_add(&b, "the cluster has no primary");
		else
			sb_add(&b, "matches primary ?");
		if (json_is_true(jget(rt, "writer_read_only")))
			sb_printf(&b, "; %swriter is read-only%s", red ? red : "", red ? ANSI_RESET : "");
	}
	sb_flush_line(&b, out);
	free(b.s);
	free(name);
	free(type);
}

/* The primary the journal holds decides a split brain and is the one a failover starts from:
 * worth a line only when the servers say otherwise (another primary, or none). */
static void status_authority(FILE *out, const json_t *cl)
{
	const char *auth = jstr(cl, "authority"), *primary = jstr(cl, "primary");
	char *a, *p;

	if (!auth || (primary && !strcmp(auth, primary)))
		return;
	a = clean(auth);
	p = clean(primary ? primary : "none");
	fprintf(out, "  authority: %s (the last primary recorded in the journal; primary now: %s)\n", a, p);
	free(a);
	free(p);
}

static void status_alarms(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const json_t *alarms = jget(cl, "alarms"), *a;
	const char *col;
	char *name, *sev, *since, *msg;
	size_t i;

	if (!json_is_array(alarms))
		return;
	json_array_foreach(alarms, i, a) {
		const char *state = jstr(a, "state");
		/* pending alarms are not raised yet; cleared ones are history (the JSON keeps them) */
		if (state && strcmp(state, "active"))
			continue;
		name = clean(or_q(jstr(a, "name")));
		sev = clean(or_q(jstr(a, "severity")));
		since = clean(or_q(jstr(a, "raised") ? jstr(a, "raised") : jstr(a, "since")));
		msg = clean(or_q(jstr(a, "message")));
		col = paint(o, verdict_color(jstr(a, "severity")));
		fprintf(out, "  alarm %s (%s%s%s) since %s: %s\n", name, col ? col : "", sev,
			col ? ANSI_RESET : "", since, msg);
		free(name);
		free(sev);
		free(since);
		free(msg);
	}
}

static void status_verdict(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const json_t *reasons = jget(cl, "reasons"), *r;
	const char *verdict = jstr(cl, "verdict");
	const char *col = paint(o, verdict_color(verdict));
	size_t i, n = 0;
	char *s;

	fprintf(out, "  verdict: %s%s%s", col ? col : "", or_q(verdict), col ? ANSI_RESET : "");
	json_array_foreach(reasons, i, r) {
		if (!json_is_string(r))
			continue;
		s = clean(json_string_value(r));
		fprintf(out, "%s%s", n++ ? "; " : " " EM_DASH " ", s);
		free(s);
	}
	fputc('\n', out);
}

/* ---- topology --------------------------------------------------------------------------- */

int render_topology(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *clusters = jget(result, "clusters"), *cl;
	size_t i;

	if (!json_is_array(clusters))
		return -1;
	if (json_array_size(clusters) == 0) {
		fputs("no clusters\n", out);
		return 0;
	}
	json_array_foreach(clusters, i, cl) {
		if (i > 0)
			fputc('\n', out);
		topo_cluster(out, cl, o);
	}
	return 0;
}

static void topo_cluster(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const json_t *tree = jget(cl, "tree"), *detached = jget(cl, "detached"), *d;
	char *name, *reason;
	size_t i;

	cluster_header(out, cl, o);
	if (json_is_object(tree))
		topo_node(out, tree, "  ", "  ", true, 0, o);
	else
		fputs("  (no primary)\n", out);
	json_array_foreach(detached, i, d) {
		name = clean(or_q(jstr(d, "name")));
		reason = clean(or_q(jstr(d, "reason")));
		fprintf(out, "  detached: %s (%s)\n", name, reason);
		free(name);
		free(reason);
	}
}

/* lead: what precedes the node on its own line (the ancestors' rails and its branch);
 * rails: what precedes its children's branches. */
static void topo_node(FILE *out, const json_t *node, const char *lead, const char *rails,
		      bool root, int depth, const struct render_opts *o)
{
	const json_t *kids = jget(node, "replicas"), *kid;
	struct sbuf b = { 0 };
	size_t i, n = json_array_size(kids);
	char *kid_lead, *kid_rails;
	bool last;

	sb_add(&b, lead);
	topo_describe(&b, node, root, o);
	sb_flush_line(&b, out);
	free(b.s);
	if (n == 0)
		return;
	if (depth + 1 >= TREE_MAX_DEPTH) {
		fprintf(out, "%s" ELLIPSIS " (%zu more below, tree deeper than %d levels)\n",
			rails, n, TREE_MAX_DEPTH);
		return;
	}
	json_array_foreach(kids, i, kid) {
		last = i + 1 == n;
		kid_lead = xasprintf("%s%s", rails, last ? TREE_LAST : TREE_BRANCH);
		kid_rails = xasprintf("%s%s", rails, last ? TREE_SPACE : TREE_RAIL);
		topo_node(out, kid, kid_lead, kid_rails, false, depth + 1, o);
		free(kid_lead);
		free(kid_rails);
	}
}

/* "db2 (replica, ro, lag 3 ms)": the state only when not up, the threads only when not both Yes. */
static void topo_describe(struct sbuf *b, const json_t *node, bool root, const struct render_opts *o)
{
	const char *state = jstr(node, "state"), *io, *sql, *col;
	const json_t *ro = jget(node, "read_only"), *lag = jget(node, "lag_ms");
	char *s = clean(or_q(jstr(node, "name")));

	sb_printf(b, "%s (%s", s, root ? "primary" : "replica");
	free(s);
	if (!state || strcmp(state, "up")) {
		col = paint(o, state_color(state));
		s = state ? clean(state) : xstrdup("state ?");
		sb_printf(b, ", %s%s%s", col ? col : "", s, col ? ANSI_RESET : "");
		free(s);
	}
	sb_add(b, json_is_true(ro) ? ", ro" : json_is_false(ro) ? ", rw" : ", ro ?");
	if (!root) {
		if (json_is_number(lag))
			sb_printf(b, ", lag %lld ms", (long long)llround(json_number_value(lag)));
		else
			sb_add(b, ", lag ?");
		io = jstr(node, "io_running");
		sql = jstr(node, "sql_running");
		if ((io && strcmp(io, "Yes")) || (sql && strcmp(sql, "Yes"))) {
			char *ci = clean(or_q(io)), *cs = clean(or_q(sql));
			col = paint(o, ANSI_RED);
			sb_printf(b, ", %sIO %s, SQL %s%s", col ? col : "", ci, cs, col ? ANSI_RESET : "");
			free(ci);
			free(cs);
		}
	}
	sb_add(b, ")");
}

/* ---- version, config, reload, plain JSON ------------------------------------------------ */

int render_version(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *api = jget(result, "api"), *pid = jget(result, "pid");
	const json_t *up = jget(result, "uptime_s");
	char uptime[64], *daemon, *version, *since;

	if (!json_is_object(result))
		return -1;
	daemon = clean(or_q(jstr(result, "daemon")));
	version = clean(or_q(jstr(result, "version")));
	since = clean(or_q(jstr(result, "started_at")));
	fprintf(out, "daemon   %s %s\n", daemon, version);
	if (json_is_integer(api))
		fprintf(out, "api      %lld\n", (long long)json_integer_value(api));
	else
		fputs("api      ?\n", out);
	if (json_is_integer(pid))
		fprintf(out, "pid      %lld\n", (long long)json_integer_value(pid));
	else
		fputs("pid      ?\n", out);
	if (json_is_number(up))
		format_uptime(uptime, sizeof(uptime), json_number_value(up));
	else
		strlcpy_(uptime, "?", sizeof(uptime));
	fprintf(out, "uptime   %s (since %s)\n", uptime, since);
	free(daemon);
	free(version);
	free(since);
	return 0;
}

static void format_uptime(char *buf, size_t len, double s)
{
	long long t, d, h, m, sec;

	/* A century covers every real uptime and keeps the conversion below defined. */
	if (!(s >= 0 && s < 100 * 365.25 * 86400)) {
		snprintf(buf, len, "?");
		return;
	}
	t = (long long)s;
	d = t / 86400;
	h = t / 3600 % 24;
	m = t / 60 % 60;
	sec = t % 60;
	if (d)
		snprintf(buf, len, "%lldd %lldh %lldm", d, h, m);
	else if (h)
		snprintf(buf, len, "%lldh %lldm %llds", h, m, sec);
	else if (m)
		snprintf(buf, len, "%lldm %llds", m, sec);
	else
		snprintf(buf, len, "%.1fs", s);
}

int render_json(FILE *out, const json_t *result, const struct render_opts *o)
{
	if (!result || json_dumpf(result, out, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0)
		return -1;
	fputc('\n', out);
	return 0;
}

/* The daemon redacted the secrets already; the document is shown as it is. */
int render_config(FILE *out, const json_t *result, const struct render_opts *o)
{
	if (!json_is_object(result))
		return -1;
	return render_json(out, result, o);
}

int render_reload(FILE *out, const json_t *result, const struct render_opts *o)
{
	const json_t *errors = jget(result, "errors"), *e;
	char *path;
	size_t i;

	if (!json_is_object(result))
		return -1;
	path = clean(or_q(jstr(result, "path")));
	if (json_is_false(jget(result, "reloaded")))
		fprintf(out, "not reloaded: %s\n", path);
	else
		fprintf(out, "reloaded %s\n", path);
	json_array_foreach(errors, i, e) {
		if (json_is_string(e))
			fprintf(out, "  %s\n", json_string_value(e));
	}
	free(path);
	return 0;
}

/* ---- generic tables --------------------------------------------------------------------- */

static void table_init(struct table *t, size_t ncols, unsigned right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right;
}

/* Append an empty row; table_set fills the last row. */
static void table_row(struct table *t)
{
	size_t n = (t->nrows + 1) * t->ncols;

	t->cell = xrealloc(t->cell, n * sizeof(*t->cell));
	t->color = xrealloc(t->color, n * sizeof(*t->color));
	memset(t->cell + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cell));
	memset(t->color + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->color));
	t->nrows++;
}

/* Set a cell of the last row; owned is cleaned of control characters and taken over. */
static void table_set(struct table *t, size_t col, char *owned, const char *color)
{
	size_t i = (t->nrows - 1) * t->ncols + col;
	char *p;

	for (p = owned; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	free(t->cell[i]);
	t->cell[i] = owned;
	t->color[i] = color;
}

static void table_print(FILE *out, const struct table *t, const char *indent, const struct render_opts *o)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w)), r, c, tw, start, max = 0;
	struct sbuf b = { 0 };
	const char *cell, *col;
	char *cutc;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			cell = t->cell[r * t->ncols + c];
			if (cell && render_width(cell) > w[c])
				w[c] = render_width(cell);
		}
	/* Only the last column (a message, a reason) is cut: the others identify the row. */
	if (o->width > 0) {
		start = render_width(indent);
		for (c = 0; c + 1 < t->ncols; c++)
			start += w[c] + 2;
		max = (size_t)o->width > start + RENDER_ERROR_MIN ? (size_t)o->width - start
								   : RENDER_ERROR_MIN;
	}
	for (r = 0; r < t->nrows; r++) {
		sb_add(&b, indent);
		for (c = 0; c < t->ncols; c++) {
			cell = t->cell[r * t->ncols + c];
			cutc = NULL;
			if (!cell)
				cell = "";
			if (c + 1 == t->ncols && max)
				cell = cutc = cut(cell, max);
			tw = render_width(cell);
			col = *cell ? paint(o, t->color[r * t->ncols + c]) : NULL;
			if (t->right & (1u << c))
				sb_pad(&b, w[c] - tw);
			if (col)
				sb_add(&b, col);
			sb_add(&b, cell);
			if (col)
				sb_add(&b, ANSI_RESET);
			if (c + 1 < t->ncols) {
				if (!(t->right & (1u << c)))
					sb_pad(&b, w[c] - tw);
				sb_add(&b, "  ");
			}
			free(cutc);
		}
		sb_flush_line(&b, out);
	}
	free(b.s);
	free(w);
}

static void table_free(struct table *t)
{
	size_t i;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->color);
	memset(t, 0, sizeof(*t));
}

/* ---- switchover: progress, report, plan ------------------------------------------------- */

static const char *outcome_label(const char *outcome)
{
	static const struct {
		const char *outcome, *label;
	} labels[] = {
		{ "done", "DONE" }, { "dry_run", "DRY RUN OK" }, { "refused", "REFUSED" },
		{ "rolled_back", "ROLLED BACK" }, { "failed", "FAILED" },
	};
	size_t i;

	for (i = 0; outcome && i < ARRAY_LEN(labels); i++)
		if (!strcmp(outcome, labels[i].outcome))
			return labels[i].label;
	return NULL;
}

/* Green: it happened as asked.  Yellow: nothing changed for good.  Red: someone must look. */
static const char *outcome_color(const char *outcome)
{
	if (!outcome)
		return ANSI_MAGENTA;
	if (!strcmp(outcome, "done") || !strcmp(outcome, "dry_run") || !strcmp(outcome, "resolved"))
		return ANSI_GREEN;
	if (!strcmp(outcome, "refused") || !strcmp(outcome, "rolled_back") || !strcmp(outcome, "running") ||
	    !strcmp(outcome, "paused") || !strcmp(outcome, "rolling_back"))
		return ANSI_YELLOW;
	return ANSI_RED;
}

static const char *progress_color(const char *status)
{
	if (!status)
		return NULL;
	if (!strcmp(status, "ok"))
		return ANSI_GREEN;
	if (!strcmp(status, "fail"))
		return ANSI_RED;
	if (!strcmp(status, "warn"))
		return ANSI_YELLOW;
	if (!strcmp(status, "paused"))
		return ANSI_MAGENTA;
	return NULL;
}

static const char *check_color(const char *result)
{
	if (!result)
		return ANSI_MAGENTA;
	if (!strcmp(result, "pass"))
		return ANSI_GREEN;
	if (!strcmp(result, "warn"))
		return ANSI_YELLOW;
	return ANSI_RED;
}

/* "210.5", or "-" for a duration that was not measured (a phase that did not end). */
static char *ms_cell(const json_t *v)
{
	if (json_is_number(v))
		return xasprintf("%.1f", json_number_value(v));
	return xstrdup("-");
}

int render_progress(FILE *out, const json_t *p, const struct render_opts *o)
{
	const json_t *el = jget(p, "elapsed_ms");
	const char *status = jstr(p, "status"), *col;
	struct sbuf b = { 0 };
	char elapsed[32], *phase, *st, *msg;
	size_t w;

	if (!json_is_object(p))
		return -1;
	if (json_is_number(el) && fabs(json_number_value(el)) < 1e12)
		snprintf(elapsed, sizeof(elapsed), "+%.1f", json_number_value(el));
	else
		snprintf(elapsed, sizeof(elapsed), "?");
	phase = clean(or_q(jstr(p, "phase")));
	st = clean(or_q(status));
	msg = clean(or_q(jstr(p, "message")));
	/* Right-aligned time, so that the phase column stays put up to +9999.9 ms. */
	sb_printf(&b, "%7s ms  ", elapsed);
	sb_add(&b, phase);
	sb_pad(&b, (w = render_width(phase)) < 9 ? 9 - w : 0);
	sb_add(&b, "  ");
	col = paint(o, progress_color(status));
	if (col)
		sb_add(&b, col);
	sb_add(&b, st);
	if (col)
		sb_add(&b, ANSI_RESET);
	sb_pad(&b, (w = render_width(st)) < 5 ? 5 - w : 0);
	sb_printf(&b, " %s", msg);
	sb_flush_line(&b, out);
	free(b.s);
	free(phase);
	free(st);
	free(msg);
	return 0;
}

int render_report(FILE *out, const json_t *rep, const struct render_opts *o)
{
	const char *outcome = jstr(rep, "outcome"), *label = outcome_label(outcome);
	const char *reason = jstr(rep, "reason");
	const json_t *pnr = jget(rep, "point_of_no_return_passed");
	char *s, *upper = NULL;

	if (!json_is_object(rep))
		return -1;
	if (!label) {
		s = clean(or_q(outcome));
		label = upper = xasprintf("OUTCOME %s", s);
		free(s);
	}
	report_header(out, rep, label, outcome_color(outcome), o);
	free(upper);
	if (is_failover(rep) && json_is_true(jget(rep, "automatic")))
		fputs("  started by cutoverd itself: the primary was declared dead (auto_failover)\n", out);
	if (reason && *reason) {
		s = clean(reason);
		fprintf(out, "  reason: %s\n", s);
		free(s);
	}
	report_checks(out, jget(rep, "checks"), false, o);
	report_phases(out, jget(rep, "phases"), o);
	if (is_failover(rep))
		report_failover_blocked(out, rep);
	else
		report_blocked(out, rep, outcome);
	if (json_is_number(jget(rep, "total_ms")))
		fprintf(out, "  total: %.1f ms\n", json_number_value(jget(rep, "total_ms")));
	if (outcome && (!strcmp(outcome, "failed") || !strcmp(outcome, "rolled_back")) && json_is_boolean(pnr))
		fprintf(out, "  point of no return: %s\n", json_is_true(pnr) ?
			"passed (the new primary was made writable)" : "not passed");
	report_errant(out, rep, o);
	report_servers(out, jget(rep, "servers"), o);
	report_next_steps(out, rep, outcome);
	return 0;
}

static bool is_failover(const json_t *rep)
{
	const char *kind = jstr(rep, "kind");
	return kind && !strcmp(kind, "failover");
}

/* "DONE: switchover ID, cluster C: OLD → NEW"; a failover says FAILOVER, in capitals: the
 * old primary was lost, which is not the routine it looks like otherwise. */
static void report_header(FILE *out, const json_t *rep, const char *label, const char *color,
			  const struct render_opts *o)
{
	const char *col = paint(o, color);
	char *id = clean(or_q(jstr(rep, "id"))), *cl = clean(or_q(jstr(rep, "cluster")));
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));

	fprintf(out, "%s%s%s: %s %s, cluster %s: %s " ARROW " %s\n", col ? col : "", label,
		col ? ANSI_RESET : "", is_failover(rep) ? "FAILOVER" : "switchover", id, cl, from, to);
	free(id);
	free(cl);
	free(from);
	free(to);
}

/* The plan shows every check; a report counts them and lists those that did not pass (for a
 * refusal, the reasons): each one was already printed as a progress line. */
static void report_checks(FILE *out, const json_t *checks, bool all, const struct render_opts *o)
{
	struct table t;
	const json_t *c;
	const char *res;
	size_t i, pass = 0, fail = 0, warn = 0;

	table_init(&t, 3, 0);
	json_array_foreach(checks, i, c) {
		res = jstr(c, "result");
		if (res && !strcmp(res, "pass"))
			pass++;
		else if (res && !strcmp(res, "warn"))
			warn++;
		else
			fail++;
		if (!all && res && !strcmp(res, "pass"))
			continue;
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(res)), check_color(res));
		table_set(&t, 1, xstrdup(or_q(jstr(c, "check"))), NULL);
		table_set(&t, 2, xstrdup(or_q(jstr(c, "message"))), NULL);
	}
	if (!all && json_array_size(checks))
		fprintf(out, "  checks: %zu passed, %zu failed, %zu warning%s%s\n", pass, fail, warn,
			warn == 1 ? "" : "s", t.nrows ? ":" : "");
	else if (all && t.nrows)
		fputs("  checks:\n", out);
	if (t.nrows)
		table_print(out, &t, "    ", o);
	table_free(&t);
}

static void report_phases(FILE *out, const json_t *phases, const struct render_opts *o)
{
	struct table t;
	const json_t *ph, *ok;
	size_t i;

	if (!json_array_size(phases))
		return;
	table_init(&t, 3, 1u << 1);
	table_row(&t);
	table_set(&t, 0, xstrdup("PHASE"), NULL);
	table_set(&t, 1, xstrdup("MS"), NULL);
	table_set(&t, 2, xstrdup("OK"), NULL);
	json_array_foreach(phases, i, ph) {
		ok = jget(ph, "ok");
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(jstr(ph, "phase"))), NULL);
		table_set(&t, 1, ms_cell(jget(ph, "ms")), NULL);
		table_set(&t, 2, xstrdup(json_is_true(ok) ? "yes" : json_is_false(ok) ? "no" : "?"),
			  json_is_true(ok) ? NULL : ANSI_RED);
	}
	table_print(out, &t, "  ", o);
	table_free(&t);
}

/* The number people ask about first: from the fence until writes went to the new primary.
 * Nothing was blocked by a dry run, a refusal, or anything that ended before the fence; a
 * fence that was rolled back has no such end to measure to. */
static void report_blocked(FILE *out, const json_t *rep, const char *outcome)
{
	const json_t *wb = jget(rep, "write_blocked_ms");
	const char *fp = jstr(rep, "fence_point");
	char *s;

	if (json_is_number(wb))
		fprintf(out, "  writes blocked: %.1f ms\n", json_number_value(wb));
	else if (outcome && (!strcmp(outcome, "dry_run") || !strcmp(outcome, "refused")))
		;
	else if (!fp)
		fputs("  writes blocked: no (the old primary was not fenced)\n", out);
	else
		fputs("  writes blocked: not measured (writes were not switched to the new primary)\n", out);
	if (fp) {
		s = clean(fp);
		fprintf(out, "  fence point: %s\n", s);
		free(s);
	}
}

/* A failover's writes stopped when the primary died, which nobody measured: what is known is
 * the time from the fence to the new primary taking writes.  Its "fence point" is where the
 * new primary starts from (everything it applied), not a position of the old one. */
static void report_failover_blocked(FILE *out, const json_t *rep)
{
	const json_t *wb = jget(rep, "write_blocked_ms");
	const char *fp = jstr(rep, "fence_point");
	char *s, *to;

	if (json_is_number(wb)) {
		to = clean(or_q(jstr(rep, "new_primary")));
		fprintf(out, "  writes routed to %s %.1f ms after the fence began\n", to, json_number_value(wb));
		free(to);
	}
	if (fp) {
		s = clean(fp);
		fprintf(out, "  new primary starts from: %s\n", s);
		free(s);
	}
}

/* Replicas that received transactions the new primary never did: repointing them would fail
 * or keep those transactions on one server only, so the failover left them alone. */
static void report_errant(FILE *out, const json_t *rep, const struct render_opts *o)
{
	const json_t *errant = jget(rep, "errant"), *e;
	const char *col = paint(o, ANSI_YELLOW);
	char *srv, *gtids, *to;
	size_t i, n = 0;

	if (!json_array_size(errant))
		return;
	to = clean(or_q(jstr(rep, "new_primary")));
	json_array_foreach(errant, i, e) {
		srv = clean(or_q(jstr(e, "server")));
		gtids = clean(or_q(jstr(e, "gtids")));
		fprintf(out, "  %s%s holds transactions %s lacks: %s " EM_DASH " left stopped, not repointed%s\n",
			col ? col : "", srv, to, gtids, col ? ANSI_RESET : "");
		free(srv);
		free(gtids);
		n++;
	}
	fprintf(out, "  reconcile %s by hand (keep or discard those transactions), then make %s replicate "
		"from %s\n", n == 1 ? "it" : "them", n == 1 ? "it" : "them", to);
	free(to);
}

static void report_servers(FILE *out, const json_t *servers, const struct render_opts *o)
{
	static const char *const head[] = { "SERVER", "STATE", "RO", "REPLICATES FROM", "GTID" };
	struct table t;
	const json_t *srv, *ro;
	const char *state, *from, *g;
	size_t i;

	if (!json_array_size(servers))
		return;
	fputs("  servers now:\n", out);
	table_init(&t, ARRAY_LEN(head), 0);
	table_row(&t);
	for (i = 0; i < ARRAY_LEN(head); i++)
		table_set(&t, i, xstrdup(head[i]), NULL);
	json_array_foreach(servers, i, srv) {
		state = jstr(srv, "state");
		ro = jget(srv, "read_only");
		from = jstr(srv, "replicates_from");
		g = jstr(srv, "gtid");
		table_row(&t);
		table_set(&t, 0, xstrdup(or_q(jstr(srv, "name"))), NULL);
		table_set(&t, 1, xstrdup(or_q(state)), state_color(state));
		table_set(&t, 2, xstrdup(json_is_true(ro) ? "yes" : json_is_false(ro) ? "no" : "?"), NULL);
		table_set(&t, 3, xstrdup(from ? from : json_is_null(jget(srv, "replicates_from")) ? "-" : "?"), NULL);
		table_set(&t, 4, g ? cut(g, RENDER_GTID_MAX) : xstrdup("?"), NULL);
	}
	table_print(out, &t, "    ", o);
	table_free(&t);
}

/* The daemon's steps when it gave some; otherwise what a person does next is clear from the
 * outcome, and saying it saves a look at the manual. */
static void report_next_steps(FILE *out, const json_t *rep, const char *outcome)
{
	const json_t *steps = jget(rep, "next_steps"), *st;
	char *s, *old;
	size_t i, n = 0;

	if (json_array_size(steps)) {
		fputs("  next steps:\n", out);
		json_array_foreach(steps, i, st) {
			if (!json_is_string(st))
				continue;
			s = clean(json_string_value(st));
			fprintf(out, "    %zu. %s\n", ++n, s);
			free(s);
		}
		return;
	}
	if (!outcome)
		return;
	old = clean(or_q(jstr(rep, "old_primary")));
	if (!strcmp(outcome, "refused"))
		fputs("  nothing was changed: deal with the checks above, then try again "
		      "(--dry-run runs the checks alone)\n", out);
	else if (!strcmp(outcome, "rolled_back") && is_failover(rep)) {
		char *to = clean(or_q(jstr(rep, "new_primary")));
		fprintf(out, "  rolled back: nothing was promoted, %s replicates as before and %s is still the "
			"recorded primary; deal with the reason above, then try again\n", to, old);
		free(to);
	} else if (!strcmp(outcome, "rolled_back"))
		fprintf(out, "  rolled back: %s is the primary again; see cutoverctl status, deal with "
			"the reason above, then try again\n", old);
	free(old);
}

int render_plan(FILE *out, const json_t *rep, const json_t *args, const struct render_opts *o)
{
	char *cl, *from, *to;

	if (!json_is_object(rep))
		return -1;
	cl = clean(or_q(jstr(rep, "cluster")));
	from = clean(or_q(jstr(rep, "old_primary")));
	to = clean(or_q(jstr(rep, "new_primary")));
	if (is_failover(rep))
		fprintf(out, "failover plan for cluster %s: %s (dead) " ARROW " %s\n", cl, from, to);
	else
		fprintf(out, "switchover plan for cluster %s: %s " ARROW " %s\n", cl, from, to);
	free(cl);
	free(from);
	free(to);
	report_checks(out, jget(rep, "checks"), true, o);
	if (is_failover(rep))
		plan_failover_options(out, rep, args, o);
	else
		plan_options(out, rep, args, o);
	return 0;
}

/* A failover has no drain, catch-up or reverse replication; what matters is how the dead
 * primary is kept from taking writes, and what happens to replicas that got more than the
 * new primary. */
static void plan_failover_options(FILE *out, const json_t *rep, const json_t *args,
				  const struct render_opts *o)
{
	const json_t *v = jget(args, "sync_timeout_ms");
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));
	struct table t;

	table_init(&t, 2, 0);
	plan_option(&t, "new primary", jstr(args, "to") ? xasprintf("%s (--to)", to) :
		    xasprintf("%s (the replica that received the most, chosen by cutoverd)", to));
	plan_option(&t, "sync timeout", json_is_integer(v) ?
		    xasprintf("%lld ms", (long long)json_integer_value(v)) :
		    xstrdup("the cluster's sync_timeout"));
	plan_option(&t, "fencing", json_is_true(jget(args, "assume_fenced")) ?
		    xasprintf("read_only on %s if it answers, else its STONITH hook; if both fail, go on "
			      "anyway (--assume-fenced: you state %s cannot take writes)", from, from) :
		    xasprintf("read_only on %s if it answers, else its STONITH hook; if both fail, nothing "
			      "is changed", from));
	plan_option(&t, "replicas", xasprintf("follow %s; one holding transactions %s lacks is left "
					      "stopped and reported", to, to));
	fputs("  options:\n", out);
	table_print(out, &t, "    ", o);
	table_free(&t);
	free(from);
	free(to);
}

/* What the switchover will be sent with; anything not given is the cluster's setting in
 * cutoverd.conf, named so it can be looked up. */
static void plan_options(FILE *out, const json_t *rep, const json_t *args, const struct render_opts *o)
{
	const json_t *v;
	const char *pause = jstr(args, "pause_before");
	char *from = clean(or_q(jstr(rep, "old_primary"))), *to = clean(or_q(jstr(rep, "new_primary")));
	struct table t;

	table_init(&t, 2, 0);
	plan_option(&t, "candidate", jstr(args, "to") ? xasprintf("%s (--to)", to) :
		    xasprintf("%s (the best replica, chosen by cutoverd)", to));
	v = jget(args, "max_lag_ms");
	plan_option(&t, "max lag", json_is_integer(v) ? xasprintf("%lld ms", (long long)json_integer_value(v)) :
		    xstrdup("the cluster's max_lag"));
	v = jget(args, "drain_timeout_ms");
	plan_option(&t, "drain timeout", json_is_integer(v) ?
		    xasprintf("%lld ms", (long long)json_integer_value(v)) :
		    xstrdup("the cluster's drain_timeout"));
	v = jget(args, "sync_timeout_ms");
	plan_option(&t, "sync timeout", json_is_integer(v) ?
		    xasprintf("%lld ms", (long long)json_integer_value(v)) :
		    xstrdup("the cluster's sync_timeout"));
	v = jget(args, "reverse");
	plan_option(&t, "reverse", json_is_false(v) ?
		    xasprintf("no: %s stays read-only and replicates from nothing", from) :
		    json_is_true(v) ? xasprintf("yes: %s becomes a replica of %s", from, to) :
		    xasprintf("the cluster's reverse_replication (when on: %s becomes a replica of %s)", from, to));
	plan_option(&t, "pause before", pause ? clean(pause) : xstrdup("none"));
	plan_option(&t, "unreachable", json_is_true(jget(args, "allow_unreachable")) ?
		    xstrdup("go on although other replicas are unreachable (--allow-unreachable)") :
		    xstrdup("refuse when another replica is unreachable"));
	fputs("  options:\n", out);
	table_print(out, &t, "    ", o);
	table_free(&t);
	free(from);
	free(to);
}

static void plan_option(struct table *t, const char *name, char *value)
{
	table_row(t);
	table_set(t, 0, xstrdup(name), NULL);
	table_set(t, 1, value, NULL);
}

/* ---- history ---------------------------------------------------------------------------- */

int render_history(FILE *out, const json_t *result, const struct render_opts *o)
{
	static const char *const head[] = { "STARTED", "ID", "OLD " ARROW " NEW", "OUTCOME", "BLOCKED(ms)",
					     "PHASES(ms)", "REASON" };
	const json_t *list = jget(result, "switchovers"), *sw;
	char *cl;
	struct table t;
	size_t i;

	if (!json_is_array(list))
		return -1;
	cl = clean(or_q(jstr(result, "cluster")));
	if (json_array_size(list) == 0) {
		fprintf(out, "no switchovers on cluster %s\n", cl);
		free(cl);
		return 0;
	}
	fprintf(out, "cluster %s: %zu switchover%s, oldest first\n", cl, json_array_size(list),
		json_array_size(list) == 1 ? "" : "s");
	free(cl);
	table_init(&t, ARRAY_LEN(head), (1u << 4) | (1u << 5));
	table_row(&t);
	for (i = 0; i < ARRAY_LEN(head); i++)
		table_set(&t, i, xstrdup(head[i]), NULL);
	json_array_foreach(list, i, sw)
		history_row(&t, sw, o);
	table_print(out, &t, "  ", o);
	table_free(&t);
	return 0;
}

static void history_row(struct table *t, const json_t *sw, const struct render_opts *o)
{
	const char *outcome = jstr(sw, "outcome"), *reason = jstr(sw, "reason");
	char when[64];
	double total;
	bool any;

	format_date(when, sizeof(when), jstr(sw, "started"));
	table_row(t);
	table_set(t, 0, xstrdup(when), NULL);
	table_set(t, 1, xstrdup(or_q(jstr(sw, "id"))), NULL);
	table_set(t, 2, xasprintf("%s " ARROW " %s%s", or_q(jstr(sw, "old_primary")),
				  or_q(jstr(sw, "new_primary")), is_failover(sw) ? " (failover)" : ""), NULL);
	table_set(t, 3, xstrdup(or_q(outcome)), outcome_color(outcome));
	table_set(t, 4, ms_cell(jget(sw, "write_blocked_ms")), NULL);
	total = phases_total(jget(sw, "phases"), &any);
	table_set(t, 5, any ? xasprintf("%.1f", total) : xstrdup("-"), NULL);
	table_set(t, 6, xstrdup(reason ? reason : ""), NULL);
}

/* The sum of the phases that have a duration; *any is false when none has. */
static double phases_total(const json_t *phases, bool *any)
{
	const json_t *ph, *ms;
	double sum = 0;
	size_t i;

	*any = false;
	json_array_foreach(phases, i, ph) {
		ms = jget(ph, "ms");
		if (json_is_number(ms)) {
			sum += json_number_value(ms);
			*any = true;
		}
	}
	return sum;
}

/* ---- abort, pause, resume, resolve ------------------------------------------------------ */

int render_abort(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *phase;

	if (!json_is_object(result))
		return -1;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "phase")));
	fprintf(out, "switchover %s is rolling back (it was in phase %s); cutoverctl status shows "
		"when it is done\n", id, phase);
	free(id);
	free(phase);
	return 0;
}

int render_pause(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *phase;

	if (!json_is_object(result))
		return -1;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "pausing_after")));
	fprintf(out, "switchover %s pauses once phase %s is done; then cutoverctl resume goes on, "
		"cutoverctl abort rolls back\n", id, phase);
	free(id);
	free(phase);
	return 0;
}

int render_resume(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *phase;

	if (!json_is_object(result))
		return -1;
	id = clean(or_q(jstr(result, "id")));
	phase = clean(or_q(jstr(result, "resuming")));
	fprintf(out, "switchover %s resumes with phase %s\n", id, phase);
	free(id);
	free(phase);
	return 0;
}

int render_resolve(FILE *out, const json_t *result, const struct render_opts *o)
{
	char *id, *cl;

	if (!json_is_object(result))
		return -1;
	id = clean(or_q(jstr(result, "id")));
	cl = clean(or_q(jstr(result, "resolved")));
	fprintf(out, "switchover %s on cluster %s is resolved; new switchovers are allowed again\n", id, cl);
	free(id);
	free(cl);
	return 0;
}

/* ---- fence, unfence, stonith ------------------------------------------------------------ */

int render_action(FILE *out, const json_t *result, const struct render_opts *o)
{
	const char *action = jstr(result, "action");
	char *srv, *res, *act;

	if (!json_is_object(result))
		return -1;
	srv = clean(or_q(jstr(result, "server")));
	res = clean(or_q(jstr(result, "result")));
	if (action && !strcmp(action, "fence"))
		fprintf(out, "%s fenced: %s\n", srv, res);
	else if (action && !strcmp(action, "unfence"))
		fprintf(out, "%s unfenced: %s\n", srv, res);
	else if (action && !strcmp(action, "stonith"))
		fprintf(out, "STONITH hook against %s succeeded: %s\n", srv, res);
	else {
		act = clean(or_q(action));
		fprintf(out, "%s %s: %s\n", act, srv, res);
		free(act);
	}
	free(srv);
	free(res);
	return 0;
}

/* ---- events ----------------------------------------------------------------------------- */

int render_event(FILE *out, const json_t *event, const struct render_opts *o)
{
	const char *ts = jstr(event, "ts"), *cluster = jstr(event, "cluster");
	const char *server = jstr(event, "server"), *msg = jstr(event, "message");
	struct sbuf b = { 0 };
	char when[32];
	size_t sl;

	if (!json_is_object(event))
		return -1;
	format_ts(when, sizeof(when), ts);
	sb_add(&b, when);
	if (cluster)
		sb_printf(&b, " %s", cluster);
	if (server)
		sb_printf(&b, " %s", server);
	sb_add(&b, cluster || server ? ": " : " ");
	/* The daemon's messages often start with the server's name already. */
	if (msg && server && (sl = strlen(server)) && !strncmp(msg, server, sl) &&
	    !strncmp(msg + sl, ": ", 2))
		msg += sl + 2;
	if (msg)
		sb_add(&b, msg);
	else {
		const char *type = jstr(event, "type"), *from = jstr(event, "from"), *to = jstr(event, "to");
		sb_add(&b, or_q(type));
		if (from || to)
			sb_printf(&b, " %s " ARROW " %s", or_q(from), or_q(to));
	}
	{
		char *c = clean(b.s);
		fprintf(out, "%s\n", c);
		free(c);
	}
	free(b.s);
	return 0;
}

/* "2026-11-21T13:47:00.123Z" (UTC, any number of fraction digits) into seconds and the first
 * three fraction digits as milliseconds.  false when it is not that shape. */
static bool parse_iso_utc(const char *iso, time_t *t, int *ms)
{
	struct tm tm;
	int used = 0, digits = 0;
	const char *frac;

	*ms = 0;
	if (!iso)
		return false;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used == 0)
		return false;
	frac = iso + used;
	if (*frac == '.')
		for (frac++; *frac >= '0' && *frac <= '9'; frac++)
			if (digits++ < 3)
				*ms = *ms * 10 + (*frac - '0');
	while (digits > 0 && digits < 3) {
		*ms *= 10;
		digits++;
	}
	if (strcmp(frac, "Z"))
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return *t != (time_t)-1;
}

/* "2026-11-21T13:47:00.123Z" (UTC) → "14:47:00.123" in local time; shown as sent when it does
 * not parse. */
static void format_ts(char *buf, size_t len, const char *iso)
{
	struct tm lt;
	time_t t;
	int ms;

	if (!iso) {
		snprintf(buf, len, "??:??:??.???");
		return;
	}
	if (!parse_iso_utc(iso, &t, &ms) || !localtime_r(&t, &lt)) {
		snprintf(buf, len, "%s", iso);
		return;
	}
	snprintf(buf, len, "%02d:%02d:%02d.%03d", lt.tm_hour, lt.tm_min, lt.tm_sec, ms);
}

/* The same as a local date and time to the second, for history's STARTED column. */
static void format_date(char *buf, size_t len, const char *iso)
{
	struct tm lt;
	time_t t;
	int ms;

	if (!iso) {
		snprintf(buf, len, "?");
		return;
	}
	if (!parse_iso_utc(iso, &t, &ms) || !localtime_r(&t, &lt)) {
		snprintf(buf, len, "%s", iso);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", lt.tm_year + 1900, lt.tm_mon + 1,
		 lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec);
}
