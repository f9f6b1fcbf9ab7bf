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
static void status_cutover(FILE *out, const json_t *cl);
static void status_table(FILE *out, const json_t *servers, const struct render_opts *o);
static void status_row(struct st_row *r, const json_t *srv);
static char *lag_cell(const json_t *srv);
static char *bool_cell(const json_t *v);
static char *repl_cell(const json_t *srv, const char *key);
static char *gtid_cell(const json_t *srv);
static char *error_cell(const json_t *srv);
static void emit_row(FILE *out, const struct st_row *r, const size_t *w, const struct render_opts *o);
static void status_router(FILE *out, const json_t *rt, const char *primary, const struct render_opts *o);
static void status_alarms(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_verdict(FILE *out, const json_t *cl, const struct render_opts *o);

static void topo_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void topo_node(FILE *out, const json_t *node, const char *lead, const char *rails,
		      bool root, int depth, const struct render_opts *o);
static void topo_describe(struct sbuf *b, const json_t *node, bool root, const struct render_opts *o);

static void format_uptime(char *buf, size_t len, double s);
static void format_ts(char *buf, size_t len, const char *iso);

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
	status_cutover(out, cl);
	status_table(out, jget(cl, "servers"), o);
	if (json_is_array(routers))
		json_array_foreach(routers, i, rt)
			status_router(out, rt, jstr(cl, "primary"), o);
	status_alarms(out, cl, o);
	status_verdict(out, cl, o);
}

/* A switchover in progress matters more than anything else in the block: right under the header. */
static void status_cutover(FILE *out, const json_t *cl)
{
	const json_t *co = jget(cl, "cutover");
	char *id, *state, *phase, *target;

	if (!json_is_object(co))
		return;
	id = clean(or_q(jstr(co, "id")));
	state = clean(or_q(jstr(co, "state")));
	phase = clean(or_q(jstr(co, "phase")));
	target = clean(or_q(jstr(co, "target")));
	fprintf(out, "  cutover %s: %s, phase %s, target %s\n", id, state, phase, target);
	free(id);
	free(state);
	free(phase);
	free(target);
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

static void status_row(struct st_row *r, const json_t *srv)
{
	const char *state = jstr(srv, "state");

	r->cell[C_SERVER] = clean(or_q(jstr(srv, "name")));
	r->cell[C_ROLE] = clean(or_q(jstr(srv, "role")));
	r->cell[C_STATE] = clean(or_q(state));
	r->color[C_STATE] = state_color(state);
	r->cell[C_RO] = bool_cell(jget(srv, "read_only"));
	r->cell[C_LAG] = lag_cell(srv);
	r->cell[C_IO] = repl_cell(srv, "io_running");
	r->cell[C_SQL] = repl_cell(srv, "sql_running");
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

static void status_router(FILE *out, const json_t *rt, const char *primary, const struct render_opts *o)
{
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
		} else
			sb_add(&b, "matches primary ?");
		if (json_is_true(jget(rt, "writer_read_only")))
			sb_printf(&b, "; %swriter is read-only%s", red ? red : "", red ? ANSI_RESET : "");
	}
	sb_flush_line(&b, out);
	free(b.s);
	free(name);
	free(type);
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
		name = clean(or_q(jstr(a, "name")));
		sev = clean(or_q(jstr(a, "severity")));
		since = clean(or_q(jstr(a, "since")));
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

/* "2026-11-21T13:47:00.123Z" (UTC) → "14:47:00.123" in local time; shown as sent when it does
 * not parse. */
static void format_ts(char *buf, size_t len, const char *iso)
{
	struct tm tm, lt;
	int ms = 0, used = 0, digits = 0;
	const char *frac;
	time_t t;

	if (!iso) {
		snprintf(buf, len, "??:??:??.???");
		return;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used == 0)
		goto raw;
	frac = iso + used;
	if (*frac == '.')
		for (frac++; *frac >= '0' && *frac <= '9'; frac++)
			if (digits++ < 3)
				ms = ms * 10 + (*frac - '0');
	while (digits > 0 && digits < 3) {
		ms *= 10;
		digits++;
	}
	if (strcmp(frac, "Z"))
		goto raw;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1 || !localtime_r(&t, &lt))
		goto raw;
	snprintf(buf, len, "%02d:%02d:%02d.%03d", lt.tm_hour, lt.tm_min, lt.tm_sec, ms);
	return;
raw:
	snprintf(buf, len, "%s", iso);
}
