/* cutoverctl status and topology: every server's state, each cluster's verdict and the
 * routers' view as a table; the replication tree of each cluster.  The server table is in
 * cmd_status_servers.c, the lines of the data check, watch, shift and tenant move in
 * cmd_status_tasks.c. */
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

static void cluster_header(FILE *out, const json_t *cl, const struct render_opts *o);

static void status_cluster(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_cutover(FILE *out, const json_t *cl, const struct render_opts *o);
static void status_pause_cost(FILE *out, const json_t *co, const struct render_opts *o);
static void status_router(FILE *out, const json_t *rt, const json_t *primary_v, const struct render_opts *o);
static void status_authority(FILE *out, const json_t *cl);
static void status_rollback_point(FILE *out, const json_t *cl);
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
