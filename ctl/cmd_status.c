/* cutoverctl status and topology: every server's state, each cluster's verdict and the
 * routers' view as a table; the replication tree of each cluster. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TREE_BRANCH "\xe2\x94\x9c\xe2\x94\x80 "   /* "├─ " */
#define TREE_LAST   "\xe2\x94\x94\xe2\x94\x80 "   /* "└─ " */
#define TREE_RAIL   "\xe2\x94\x82  "                /* "│  " */
#define TREE_SPACE  "   "

/* Replication trees deeper than this are cut (a chain of 32 relays is already a mistake). */
#define TREE_MAX_DEPTH 32

/* The server table of `status`: one enum per column, in display order. */
enum st_col { C_SERVER, C_ROLE, C_STATE, C_RO, C_LAG, C_IO, C_SQL, C_GTID, C_ERROR, ST_COLS };

static const char *const st_head[ST_COLS] = {
	"SERVER", "ROLE", "STATE", "RO", "LAG(ms)", "IO", "SQL", "GTID", "ERROR",
};

struct st_row {
	char *cell[ST_COLS];          /* owned, cleaned and already cut */
	const char *color[ST_COLS];   /* static ANSI sequence or NULL */
};

static void cluster_header(FILE *out, const json_t *cl, const struct render_opts *o);

static void status_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_cutover(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_pause_cost(FILE *out, const json_t *co, const struct render_opts *o);
static void status_table(FILE *out, const json_t *servers, const struct render_opts *o);
static void status_row(struct st_row *r, const json_t *srv);
static char *lag_cell(const json_t *srv);
static char *bool_cell(const json_t *v);
static bool is_rollback_point(const json_t *srv);
static char *repl_cell(const json_t *srv, const char *key);
static char *gtid_cell(const json_t *srv);
static char *error_cell(const json_t *srv);
static void emit_row(FILE *out, const struct st_row *r, const size_t *w, const struct render_opts *o);
static void status_router(FILE *out, const json_t *rt, const json_t *primary_v, const struct render_opts *o);
static void status_authority(FILE *out, const json_t *cl);
static void status_rollback_point(FILE *out, const json_t *cl);
static void status_data_check(FILE *out, const json_t *cl);
static void status_watch(FILE *out, const json_t *cl);
static void status_shift(FILE *out, const json_t *cl);
static void status_tenants(FILE *out, const json_t *cl);
static void status_alarms(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_verdict(FILE *out, const json_t *cl, const struct render_opts *o);
static void verdict_line(FILE *out, const char *label, const char *verdict, const json_t *reasons,
			 const struct render_opts *o);

static void topo_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void topo_node(FILE *out, const json_t *node, const char *lead, const char *rails,
		      bool root, int depth, const struct render_opts *o);
static void topo_describe(struct sbuf *b, const json_t *node, bool root, const struct render_opts *o);

const struct ctl_cmd ctl_cmd_status = {
	.name = "status", .api = "status", .usage = "[CLUSTER]",
	.build = ctl_build_cluster, .render = render_status, .run = ctl_run_request,
};

const struct ctl_cmd ctl_cmd_topology = {
	.name = "topology", .api = "topology", .usage = "[CLUSTER]",
	.build = ctl_build_cluster, .render = render_topology, .run = ctl_run_request,
};

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

/* Each cluster of a status or topology result through fn, a blank line between them. */
static int each_cluster(FILE *out, const json_t *result, const struct render_opts *o,
			void (*fn)(FILE *, const json_t *, const struct render_opts *))
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
		fn(out, cl, o);
	}
	return 0;
}

/* With [ha]: which member this is, whether it leads, and who does. */
static void status_ha(FILE *out, const json_t *ha)
{
	char *name, *role, *leader, *addr, *err;

	if (!json_is_object(ha))
		return;
	name = clean(or_q(jstr(ha, "name")));
	role = clean(or_q(jstr(ha, "role")));
	leader = clean(jstr(ha, "leader") ?: "unknown");
	addr = clean(jstr(ha, "leader_address") ?: "");
	err = jstr(ha, "last_error") ? clean(jstr(ha, "last_error")) : NULL;
	if (json_is_true(jget(ha, "acting")))
		fprintf(out, "member %s: leader, acting (token %lld, valid %lld ms more)\n\n", name,
			(long long)json_integer_value(jget(ha, "token")), (long long)json_integer_value(jget(ha, "valid_for_ms")));
	else
		fprintf(out, "member %s: %s, NOT acting; the leader is %s%s%s%s%s%s\n\n", name, role, leader, *addr ? " (" : "",
			addr, *addr ? ")" : "", err ? "; etcd: " : "", err ? err : "");
	free(name);
	free(role);
	free(leader);
	free(addr);
	free(err);
}

int render_status(FILE *out, const json_t *result, const struct render_opts *o)
{
	status_ha(out, jget(result, "ha"));
	return each_cluster(out, result, o, status_cluster);
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
	status_rollback_point(out, cl);
	status_data_check(out, cl);
	status_watch(out, cl);
	status_shift(out, cl);
	status_tenants(out, cl);
	status_alarms(out, cl, o);
	status_verdict(out, cl, o);
}

/* What the pause costs while it lasts, and when it ends by itself. */
static void status_pause_cost(FILE *out, const json_t *co, const struct render_opts *o)
{
	const char *red = paint(o, ANSI_RED);
	char *at = clean(or_q(jstr(co, "rolls_back_at")));

	if (json_is_true(jget(co, "writes_blocked")))
		fprintf(out, "  %s! WRITES ARE BLOCKED while it is paused (past the fence); it rolls back on its own at "
			"%s%s\n", red ? red : "", at, red ? ANSI_RESET : "");
	else if (json_is_false(jget(co, "writes_blocked")))
		fprintf(out, "  nothing is blocked while it is paused (before the fence); it rolls back on its own at %s\n",
			at);
	free(at);
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
	else if (state && !strcmp(state, "paused")) {
		fprintf(out, "  %spaused:%s cutoverctl resume --cluster %s goes on, cutoverctl abort "
			"--cluster %s rolls back\n", yellow ? yellow : "", yellow ? ANSI_RESET : "", name, name);
		status_pause_cost(out, co, o);
	}
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

/* What a ProxySQL router would trip a switchover on, one line each. */
static void status_router_notes(FILE *out, const json_t *rt, const char *red)
{
	static const char *const keys[] = { "pending", "admin_clash", "caution" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = jstr(rt, keys[i]);
		char *s;

		if (!v)
			continue;
		s = clean(v);
		fprintf(out, "    %s%s%s\n", red ? red : "", s, red ? ANSI_RESET : "");
		free(s);
	}
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
	status_router_notes(out, rt, red);
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

/* The servers an upgrade left at its fence point, on one line each: kept on purpose. */
static void status_rollback_point(FILE *out, const json_t *cl)
{
	const json_t *rp = jget(cl, "rollback_point"), *h;
	size_t i;

	json_array_foreach(rp, i, h) {
		char *name = clean(or_q(jstr(h, "server"))), *fp = clean(or_q(jstr(h, "fence_point")));
		char *since = clean(or_q(jstr(h, "since"))), *why = clean(or_q(jstr(h, "why")));
		fprintf(out, "  rollback point: %s held at the fence point %s since %s: %s\n", name, fp, since, why);
		free(name);
		free(fp);
		free(since);
		free(why);
	}
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

/* "verdict: V — its reasons"; while the verdict is held by the hysteresis and the present one
 * differs, that one too on its own line, so that a verdict never stands without its reason. */
static void status_verdict(FILE *out, const json_t *cl, const struct render_opts *o)
{
	const char *verdict = jstr(cl, "verdict"), *now = jstr(cl, "verdict_now");

	verdict_line(out, "verdict", verdict, jget(cl, "reasons"), o);
	if (verdict && now && strcmp(verdict, now))
		verdict_line(out, "verdict now", now, jget(cl, "reasons_now"), o);
}

static void verdict_line(FILE *out, const char *label, const char *verdict, const json_t *reasons,
			 const struct render_opts *o)
{
	const char *col = paint(o, verdict_color(verdict));
	const json_t *r;
	size_t i, n = 0;
	char *s;

	fprintf(out, "  %s: %s%s%s", label, col ? col : "", or_q(verdict), col ? ANSI_RESET : "");
	json_array_foreach(reasons, i, r) {
		if (!json_is_string(r))
			continue;
		s = clean(json_string_value(r));
		fprintf(out, "%s%s", n++ ? "; " : " " EM_DASH " ", s);
		free(s);
	}
	if (!n && verdict && !strcmp(verdict, "OK"))
		fputs(strcmp(label, "verdict") ? " " EM_DASH " all servers healthy" : "", out);
	else if (!n && verdict)
		fputs(" " EM_DASH " no reason given by cutoverd", out);
	if (strcmp(label, "verdict"))
		fputs(" (the verdict follows once this is seen for hysteresis polls in a row)", out);
	fputc('\n', out);
}

/* ---- topology --------------------------------------------------------------------------- */

int render_topology(FILE *out, const json_t *result, const struct render_opts *o)
{
	return each_cluster(out, result, o, topo_cluster);
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

/* The last switchover's data check: one line, and the differing ranges under it. */
static void status_data_check(FILE *out, const json_t *cl)
{
	const json_t *dc = jget(cl, "data_check"), *m;
	char *st, *sid, *why;
	size_t i;

	if (!json_is_object(dc))
		return;
	st = clean(or_q(jstr(dc, "state")));
	sid = clean(or_q(jstr(dc, "switchover")));
	why = jstr(dc, "why") ? clean(jstr(dc, "why")) : NULL;
	fprintf(out, "  data check (switchover %s): %s — %lld of %lld tables, %lld rows, %lld differing chunks, %.2f s%s%s\n",
		sid, st, (long long)json_integer_value(jget(dc, "tables_done")),
		(long long)json_integer_value(jget(dc, "tables")), (long long)json_integer_value(jget(dc, "rows")),
		(long long)json_integer_value(jget(dc, "mismatch_count")),
		json_number_value(jget(dc, "elapsed_ms")) / 1000.0, why ? "; " : "", why ? why : "");
	json_array_foreach(jget(dc, "mismatches"), i, m) {
		char *t = clean(or_q(jstr(m, "table"))), *r = clean(or_q(jstr(m, "range")));
		fprintf(out, "    differs: %s %s (%lld rows on the reference, %lld on the target)\n", t, r,
			(long long)json_integer_value(jget(m, "rows_reference")),
			(long long)json_integer_value(jget(m, "rows_target")));
		free(t);
		free(r);
	}
	free(st);
	free(sid);
	free(why);
}

/* The watch after a switchover: remaining time, each trigger's value against its limit. */
static void status_watch(FILE *out, const json_t *cl)
{
	const json_t *w = jget(cl, "watch"), *t;
	char *np, *st, *act, *why;
	size_t i;

	if (!json_is_object(w))
		return;
	np = clean(or_q(jstr(w, "new_primary")));
	st = clean(or_q(jstr(w, "state")));
	act = clean(or_q(jstr(w, "action")));
	why = jstr(w, "why") ? clean(jstr(w, "why")) : NULL;
	fprintf(out, "  watch: %s, %s, %.0f s left (action %s); replicas following %lld/%lld\n", np, st,
		json_number_value(jget(w, "remaining_s")), act, (long long)json_integer_value(jget(w, "replicas_following")),
		(long long)json_integer_value(jget(w, "replicas")));
	json_array_foreach(jget(w, "triggers"), i, t) {
		char *n = clean(or_q(jstr(t, "name")));
		const json_t *v = jget(t, "value");
		double scale = !strcmp(n, "error_rate") ? 100.0 : 1.0;   /* a fraction, shown in % */
		const char *unit = scale > 1 ? "%" : "";
		if (json_is_number(v))
			fprintf(out, "    %-15s %10.4g%s  limit %g%s%s\n", n, json_number_value(v) * scale, unit,
				json_number_value(jget(t, "limit")) * scale, unit,
				json_is_true(jget(t, "breached")) ? "  BREACHED" : "");
		else
			fprintf(out, "    %-15s %10s  limit %g%s\n", n, "n/a", json_number_value(jget(t, "limit")) * scale, unit);
		free(n);
	}
	if (why)
		fprintf(out, "    %s\n", why);
	free(np);
	free(st);
	free(act);
	free(why);
}

/* The running or last read shift: one line, its state and the share in force. */
static void status_shift(FILE *out, const json_t *cl)
{
	const json_t *sh = jget(cl, "shift");
	char *id, *target, *st, *why;

	if (!json_is_object(sh))
		return;
	id = clean(or_q(jstr(sh, "id")));
	target = clean(or_q(jstr(sh, "target")));
	st = clean(or_q(jstr(sh, "state")));
	why = jstr(sh, "reason") ? clean(jstr(sh, "reason")) : NULL;
	fprintf(out, "  read shift %s: reads to %s, %s, %lld%% in force (step %lld%% of %zu)%s%s\n", id, target, st,
		(long long)json_integer_value(jget(sh, "in_force")), (long long)json_integer_value(jget(sh, "percent")),
		json_array_size(jget(sh, "steps")), why ? ": " : "", why ? why : "");
	free(id);
	free(target);
	free(st);
	free(why);
}

/* The running or last tenant move: one line, its state and its counts, and the tenants of the
 * batch running. */
static void status_tenants(FILE *out, const json_t *cl)
{
	const json_t *m = jget(cl, "tenant_move"), *x;
	char *id, *target, *st, *step, *why;
	size_t i;

	if (!json_is_object(m))
		return;
	id = clean(or_q(jstr(m, "id")));
	target = clean(or_q(jstr(m, "target")));
	st = clean(or_q(jstr(m, "state")));
	step = clean(or_q(jstr(m, "step")));
	why = jstr(m, "reason") ? clean(jstr(m, "reason")) : NULL;
	fprintf(out, "  tenant move %s: to %s, %s (batch %lld, %s): %lld moved, %lld rolled back, %lld skipped, %lld to go%s%s\n",
		id, target, st, (long long)json_integer_value(jget(m, "batch")), step,
		(long long)json_integer_value(jget(m, "moved")), (long long)json_integer_value(jget(m, "rolled_back")),
		(long long)json_integer_value(jget(m, "skipped")), (long long)json_integer_value(jget(m, "pending")),
		why ? ": " : "", why ? why : "");
	if (json_array_size(jget(m, "current"))) {
		fprintf(out, "    moving now:");
		json_array_foreach(jget(m, "current"), i, x) {
			char *n = clean(or_q(json_string_value(x)));
			fprintf(out, " %s", n);
			free(n);
		}
		fprintf(out, "\n");
	}
	free(id);
	free(target);
	free(st);
	free(step);
	free(why);
}
