/* Fencing: SQL, fence hook, STONITH — for the failover, the split-brain policy, the sticky fence
 * and the fence/unfence/stonith commands (see fence.h). */
#include "fence.h"
#include "ha.h"

#include "api.h"
#include "cmdtab.h"
#include "control.h"
#include "daemon.h"
#include "db.h"
#include "flavor.h"
#include "job.h"
#include "log.h"
#include "util.h"
#include "watchdog.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FENCE_STONITH_FIRST (1u << 8)   /* the stonith policy: STONITH, then SQL if it still answers */

/* ------------------------------------------------------------------------------------------ */
/* one fence of one server, means after means */

struct fence_op {
	struct daemon *d;
	struct cluster *c;
	char *server;                 /* owned: looked up again after a reload */
	char *reason;                 /* owned */
	unsigned todo;                /* the means not tried yet (and FENCE_STONITH_FIRST) */
	bool unfence;                 /* SQL only: make it writable again */
	struct db *db;                /* owned: the SQL means */
	struct job *job;              /* a running hook */
	bool hook_is_stonith;
	char *tried;                  /* owned: what failed so far, for the message */
	struct event *later;          /* a finish deferred out of fence_start */
	bool ok;
	const char *by;
	char *msg;                    /* owned */
	fence_done_fn done;
	void *arg;
};

static void op_next(struct fence_op *op);

static void op_free(struct fence_op *op)
{
	if (op->job)
		job_cancel(op->job);
	db_free(op->db);
	if (op->later)
		event_free(op->later);
	free(op->server);
	free(op->reason);
	free(op->tried);
	free(op->msg);
	free(op);
}

void fence_cancel(struct fence_op *op)
{
	if (op)
		op_free(op);
}

static void op_done(struct fence_op *op, bool ok, const char *by, const char *msg)
{
	fence_done_fn done = op->done;
	void *arg = op->arg;
	char *m = xstrdup(msg);

	op_free(op);
	done(arg, ok, by, m);
	free(m);
}

static void op_failed_means(struct fence_op *op, const char *what, const char *why)
{
	char *t = xasprintf("%s%s%s: %s", op->tried ? op->tried : "", op->tried ? "; " : "", what, why);
	free(op->tried);
	op->tried = t;
}

const char *fence_hook_for(const struct cluster *c, const struct server *s, bool stonith)
{
	const char *own = stonith ? s->cfg->stonith_hook : s->cfg->fence_hook;
	return own ? own : stonith ? c->cfg->stonith_hook : c->cfg->fence_hook;
}

/* Run the server's STONITH or fence hook with the documented environment (CUTOVER_EVENT,
 * _CLUSTER, _TARGET, _TARGET_HOST, _TARGET_PORT, _REASON) under hook_timeout; NULL if none. */
static struct job *hook_run(struct daemon *d, struct cluster *c, const struct server *s, bool stonith,
			    const char *reason, void (*cb)(struct job_result *r, void *arg), void *arg)
{
	const char *cmd = fence_hook_for(c, s, stonith);
	struct log_ctx ctx = { c->cfg->name, s->cfg->name, NULL, NULL };
	struct job *job;
	char **argv, *env[8];
	int n = 0;

	if (!cmd || job_split_argv(cmd, &argv) <= 0)
		return NULL;
	env[n++] = xasprintf("CUTOVER_EVENT=%s", stonith ? "stonith" : "fence");
	env[n++] = xasprintf("CUTOVER_CLUSTER=%s", c->cfg->name);
	env[n++] = xasprintf("CUTOVER_TARGET=%s", s->cfg->name);
	env[n++] = xasprintf("CUTOVER_TARGET_HOST=%s", s->cfg->host ? s->cfg->host : s->cfg->socket);
	env[n++] = xasprintf("CUTOVER_TARGET_PORT=%d", s->cfg->port);
	env[n++] = xasprintf("CUTOVER_REASON=%s", reason ? reason : "");
	env[n] = NULL;
	job = job_run(d->base, (const char *const *)argv, (const char *const *)env, NULL, c->cfg->hook_timeout_ms, cb,
		      arg, &ctx);
	job_set_acts(job);   /* stops with the leadership ([ha]) */
	while (n--)
		free(env[n]);
	job_free_argv(argv);
	return job;
}

static void sql_done(struct db *db, struct db_result *res, void *arg)
{
	struct fence_op *op = arg;
	const char *ro = res->err || res->n < 2 ? NULL : rowset_at(res->rs[1], 0, 0);
	bool ok = ro && !strcmp(ro, op->unfence ? "0" : "1");
	char msg[600];

	if (res->err)
		snprintf(msg, sizeof(msg), "%s", res->errmsg);
	else
		snprintf(msg, sizeof(msg), "read_only is now %s", ro ? ro : "?");
	db_result_free(res);
	if (ok) {
		op_done(op, true, "sql", msg);
		return;
	}
	op_failed_means(op, "SQL", msg);
	db_free(op->db);
	op->db = NULL;
	if (op->unfence) {
		op_done(op, false, NULL, msg);
		return;
	}
	op_next(op);
}

static void run_sql(struct fence_op *op, struct server *s)
{
	const struct flavor_ops *f = server_flavor(s);
	const char *q[2] = { f->sql[op->unfence ? SQL_UNFENCE : SQL_FENCE], "SELECT @@global.read_only" };

	op->db = server_db_new(op->d, s->cfg);
	db_run(op->db, q, 2, op->d->cfg->connect_timeout_ms + op->c->cfg->fence_timeout_ms, sql_done, op);
}

static void hook_done(struct job_result *r, void *arg)
{
	struct fence_op *op = arg;
	char why[300], last[300], msg[700];
	const char *by = op->hook_is_stonith ? "stonith" : "fence_hook";
	struct server *s = daemon_server(op->d, op->server);

	op->job = NULL;
	job_result_last_line(r, last, sizeof(last));
	snprintf(msg, sizeof(msg), "%s hook %s%s%s", op->hook_is_stonith ? "STONITH" : "fence",
		 job_result_describe(r, why, sizeof(why)), *last ? ": " : "", last);
	if (!job_result_ok(r)) {
		op_failed_means(op, op->hook_is_stonith ? "STONITH hook" : "fence hook", msg);
		if (op->todo & FENCE_STONITH_FIRST) {   /* the policy's STONITH failed: that is the answer */
			op_done(op, false, NULL, op->tried);
			return;
		}
		op_next(op);
		return;
	}
	/* the hook says it is fenced; a server that still answers is made read-only too */
	if ((op->todo & FENCE_STONITH_FIRST) && s && s->st.reachable) {
		struct log_ctx ctx = { op->c->cfg->name, op->server, NULL, NULL };
		log_ctx(LOG_NOTICE, &ctx, "STONITH hook succeeded (%s); %s still answered: fencing it by SQL too", msg,
			op->server);
		op->todo = FENCE_BY_SQL;
		op_next(op);
		return;
	}
	op_done(op, true, by, msg);
}

static bool run_hook(struct fence_op *op, struct server *s, bool stonith)
{
	op->hook_is_stonith = stonith;
	op->job = hook_run(op->d, op->c, s, stonith, op->reason, hook_done, op);
	if (op->job) {
		struct log_ctx ctx = { op->c->cfg->name, op->server, NULL, NULL };
		log_ctx(LOG_NOTICE, &ctx, "running the %s hook against %s", stonith ? "STONITH" : "fence", op->server);
	}
	return op->job != NULL;
}

static void deferred_done(evutil_socket_t fd, short what, void *arg)
{
	struct fence_op *op = arg;
	char *msg = op->msg;
	op->msg = NULL;
	op_done(op, op->ok, op->by, msg);
	free(msg);
}

/* Nothing left to try: done, from the loop (op_next may run inside fence_start). */
static void op_exhausted(struct fence_op *op)
{
	struct timeval now = { 0, 0 };
	op->ok = false;
	op->by = NULL;
	op->msg = xasprintf("%s could not be fenced (%s)", op->server,
			    op->tried ? op->tried : "no means: no fence_hook or stonith_hook");
	op->later = evtimer_new(op->d->base, deferred_done, op);
	evtimer_add(op->later, &now);
}

static void op_next(struct fence_op *op)
{
	struct server *s = daemon_server(op->d, op->server);

	if (!s) {
		op_failed_means(op, "configuration", "the server is no longer configured");
		op_exhausted(op);
		return;
	}
	/* with [ha], a member that does not act (any more) fences, unfences and shoots nothing,
	 * whatever asked it to before it knew (ha.h) */
	if (!ha_acting(op->d->ha)) {
		op_failed_means(op, "leadership", "this member is not the acting leader");
		op->todo = 0;
		op_exhausted(op);
		return;
	}
	if ((op->todo & FENCE_STONITH_FIRST) && (op->todo & FENCE_BY_STONITH)) {
		op->todo &= ~(unsigned)FENCE_BY_STONITH;
		if (run_hook(op, s, true))
			return;
		op->todo &= ~(unsigned)FENCE_STONITH_FIRST;   /* no STONITH hook: SQL alone */
	}
	if (op->todo & FENCE_BY_SQL) {
		op->todo &= ~(unsigned)FENCE_BY_SQL;
		run_sql(op, s);
		return;
	}
	if (op->todo & FENCE_BY_HOOK) {
		op->todo &= ~(unsigned)FENCE_BY_HOOK;
		if (run_hook(op, s, false))
			return;
	}
	if (op->todo & FENCE_BY_STONITH) {
		op->todo &= ~(unsigned)FENCE_BY_STONITH;
		if (run_hook(op, s, true))
			return;
	}
	op_exhausted(op);
}

static struct fence_op *op_new(struct daemon *d, struct cluster *c, struct server *s, const char *reason,
			       fence_done_fn done, void *arg)
{
	struct fence_op *op = xcalloc(1, sizeof(*op));
	op->d = d;
	op->c = c;
	op->server = xstrdup(s->cfg->name);
	op->reason = xstrdup(reason ? reason : "");
	op->done = done;
	op->arg = arg;
	return op;
}

struct fence_op *fence_start(struct daemon *d, struct cluster *c, struct server *s, unsigned means,
			     const char *reason, fence_done_fn done, void *arg)
{
	struct fence_op *op = op_new(d, c, s, reason, done, arg);
	op->todo = means;
	op_next(op);
	return op;
}

size_t fence_sql_window(const struct flavor_ops *f, const char **q, bool *holding)
{
	size_t n = 0;

	q[n++] = f->sql[SQL_FENCE];
	*holding = *f->sql[SQL_HOLD_COMMITS] != '\0';
	if (*holding) {
		q[n++] = f->sql[SQL_HOLD_START];
		q[n++] = f->sql[SQL_HOLD_COMMITS];
	}
	q[n++] = f->sql[SQL_FENCE_POINT];
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* unfence: on fresh reads of every other server */

struct unfence {
	struct fence_op *op;          /* the SQL that follows */
	struct db **peers;            /* one connection per other server */
	size_t n_peers;
	int pending;
	char *problem;                /* owned: the first other server not confirmed read-only */
};

static void unfence_peers_free(struct unfence *u)
{
	while (u->n_peers)
		db_free(u->peers[--u->n_peers]);
	free(u->peers);
	free(u->problem);
	free(u);
}

static void peer_checked(struct db *db, struct db_result *res, void *arg)
{
	struct unfence *u = arg;
	struct fence_op *op = u->op;
	const char *ro = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	struct server *s = daemon_server(op->d, db_label(db));

	if ((!ro || strcmp(ro, "1")) && !u->problem && !(res->err && s && s->health.state == HEALTH_DOWN))
		u->problem = ro ? xasprintf("%s is writable (read just now): making %s writable too would be a "
					    "split-brain; fence %s first", db_label(db), op->server, db_label(db))
				: xasprintf("%s did not answer whether it is read-only (%s): %s stays as it is",
					    db_label(db), res->errmsg, op->server);
	db_result_free(res);
	if (--u->pending)
		return;
	if (u->problem) {
		char *m = u->problem;
		u->problem = NULL;
		unfence_peers_free(u);
		op_done(op, false, NULL, m);
		free(m);
		return;
	}
	unfence_peers_free(u);
	op->todo = FENCE_BY_SQL;
	op_next(op);
}

static struct fence_op *unfence_start(struct daemon *d, struct cluster *c, struct server *target, const char *reason,
				      fence_done_fn done, void *arg)
{
	struct fence_op *op = op_new(d, c, target, reason, done, arg);
	struct unfence *u = xcalloc(1, sizeof(*u));
	size_t i;

	op->unfence = true;
	u->op = op;
	u->pending = 1;
	for (i = 0; i < c->n_servers; i++) {
		struct db *db;
		if (c->servers[i] == target)
			continue;
		db = server_db_new(d, c->servers[i]->cfg);
		u->peers = xrealloc(u->peers, (u->n_peers + 1) * sizeof(*u->peers));
		u->peers[u->n_peers++] = db;
		u->pending++;
		db_run1(db, "SELECT @@global.read_only", d->cfg->connect_timeout_ms + d->cfg->query_timeout_ms,
			peer_checked, u);
	}
	if (--u->pending == 0) {
		unfence_peers_free(u);
		op->todo = FENCE_BY_SQL;
		op_next(op);
	}
	return op;
}

/* ------------------------------------------------------------------------------------------ */
/* actions: one fence, unfence or STONITH as the cluster's running action */

struct action {
	struct daemon *d;
	struct cluster *c;
	char *server;                 /* owned: the target's name */
	char *what;                   /* owned: "fence", "unfence", "stonith" */
	char *reason;                 /* owned */
	bool was_read_only;           /* a fence of a server read-only at the last poll */
	struct client *client;        /* held, may be NULL */
	json_t *req_id;
};

static void action_done(void *arg, bool ok, const char *by, const char *msg)
{
	struct action *a = arg;
	struct log_ctx ctx = { a->c->cfg->name, a->server, NULL, NULL };

	log_ctx(ok ? LOG_NOTICE : LOG_ERR, &ctx, "%s %s: %s", a->what, a->server, msg);
	wd_journal(a->d, a->c, a->what, json_pack("{s:s, s:b, s:s, s:s, s:s?}", "target", a->server, "ok", ok, "result",
						  msg, "reason", a->reason, "by", by));
	wd_event(a->d, a->c, a->what, a->server, "%s %s %s: %s", a->what, a->server, ok ? "succeeded" : "FAILED", msg);
	if (ok)   /* what cutoverd fenced stays fenced; what it unfenced is the operator's choice */
		watchdog_sticky(a->d, a->c, a->server, strcmp(a->what, "unfence") != 0);
	if (a->client) {
		if (!client_gone(a->client)) {
			if (ok) {
				char *res = fence_action_result(a->what, a->was_read_only, msg);
				client_reply_ok(a->client, a->req_id, json_pack("{s:s, s:s, s:s}", "action", a->what,
										"server", a->server, "result", res));
				free(res);
			}
			else
				client_reply_err(a->client, a->req_id, ERR_FAILED, "%s %s failed: %s", a->what, a->server,
						 msg);
		}
		client_release(a->client);
	}
	if (a->c->actions_running > 0)
		a->c->actions_running--;
	/* a poll soon shows the effect */
	poll_cluster_now(a->d, a->c);
	json_decref(a->req_id);
	free(a->server);
	free(a->what);
	free(a->reason);
	free(a);
}

char *fence_action_result(const char *what, bool was_read_only, const char *msg)
{
	if (was_read_only && !strcmp(what, "fence"))
		return xasprintf("already read-only at the last poll; made sure and recorded: %s", msg);
	return xstrdup(msg);
}

static void action_start(struct daemon *d, struct cluster *c, struct server *s, const char *what,
			 const char *reason, struct client *cl, json_t *req_id)
{
	struct action *a = xcalloc(1, sizeof(*a));

	a->d = d;
	a->was_read_only = s->st.reachable && s->st.read_only == 1;
	a->c = c;
	a->server = xstrdup(s->cfg->name);
	a->what = xstrdup(what);
	a->reason = xstrdup(reason);
	if (cl) {
		a->client = cl;
		a->req_id = json_incref(req_id);
		client_hold(cl);
	}
	if (!c->actions_running++)
		snprintf(c->action_desc, sizeof(c->action_desc), "%s %s (%s)", what, s->cfg->name, reason);
	if (!strcmp(what, "unfence"))
		unfence_start(d, c, s, reason, action_done, a);
	else if (!strcmp(what, "stonith"))
		/* by hand: the hook alone; the policy: then SQL too if it still answers */
		fence_start(d, c, s, cl ? FENCE_BY_STONITH : FENCE_BY_STONITH | FENCE_STONITH_FIRST | FENCE_BY_SQL,
			    reason, action_done, a);
	else
		fence_start(d, c, s, FENCE_BY_SQL | FENCE_BY_HOOK, reason, action_done, a);
}

void fence_action(struct daemon *d, struct cluster *c, struct server *s, const char *what, const char *reason)
{
	action_start(d, c, s, what, reason, NULL, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* the commands: fence, unfence, stonith */

static struct server *target(struct daemon *d, struct client *cl, const struct request *req, struct cluster **cp)
{
	const char *name = json_string_value(json_object_get(req->args, "server"));
	struct server *s = daemon_server(d, name);
	if (!s) {
		char names[512] = "";
		size_t i, off = 0;
		for (i = 0; i < d->n_servers && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "",
						d->servers[i].cfg->name);
		client_reply_err(cl, req->id, ERR_NOTFOUND, "no server named '%s' (servers: %s)", name ? name : "", names);
		return NULL;
	}
	*cp = s->cluster;
	if (cluster_busy(s->cluster)) {
		client_reply_err(cl, req->id, ERR_BUSY, "cluster %s is busy: %s; try again when it ends",
				 s->cluster->cfg->name, cluster_busy(s->cluster));
		return NULL;
	}
	return s;
}

static int writable_others(const struct cluster *c, const struct server *except)
{
	size_t i;
	int n = 0;
	for (i = 0; i < c->n_servers; i++)
		n += c->servers[i] != except && c->servers[i]->st.reachable && c->servers[i]->st.read_only == 0;
	return n;
}

/* Fencing or shooting the only writable server stops every write: only when forced. */
static bool refused_only_writer(struct client *cl, const struct request *req, const struct cluster *c,
				const struct server *s, const char *doing)
{
	if (!s->st.reachable || s->st.read_only != 0 || writable_others(c, s) > 0 ||
	    json_is_true(json_object_get(req->args, "force")))
		return false;
	/* The API's "force" is cutoverctl's --force: name both, the person reads this in cutoverctl. */
	client_reply_err(cl, req->id, ERR_BADSTATE, "%s is the only writable server of %s: %s it stops every write. "
			 "To do it anyway: cutoverctl %s --force %s (API: \"force\": true)", s->cfg->name, c->cfg->name,
			 doing, req->cmd, s->cfg->name);
	return true;
}

static void start_manual(struct daemon *d, struct client *cl, const struct request *req, struct cluster *c,
			 struct server *s, const char *what)
{
	char *reason = xasprintf("%s by uid %u", what, (unsigned)client_uid(cl));
	action_start(d, c, s, what, reason, cl, req->id);
	free(reason);
}

static void cmd_fence(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c;
	struct server *s = target(d, cl, req, &c);
	if (!s || refused_only_writer(cl, req, c, s, "fencing"))
		return;
	start_manual(d, cl, req, c, s, "fence");
}

static void cmd_unfence(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c;
	struct server *s = target(d, cl, req, &c);
	if (!s)
		return;
	if (writable_others(c, s) > 0) {
		client_reply_err(cl, req->id, ERR_BADSTATE,
				 "another server of %s is writable: making %s writable too would be a split-brain. "
				 "Fence the other one first", c->cfg->name, s->cfg->name);
		return;
	}
	if (s->st.repl.configured && s->st.repl.io == THREAD_YES) {
		client_reply_err(cl, req->id, ERR_BADSTATE,
				 "%s is replicating from %s:%d: a writable replica takes writes the others never see. "
				 "Use switchover to promote it", s->cfg->name, s->st.repl.source_host, s->st.repl.source_port);
		return;
	}
	start_manual(d, cl, req, c, s, "unfence");
}

static void cmd_stonith(struct daemon *d, struct client *cl, const struct request *req)
{
	struct cluster *c;
	struct server *s = target(d, cl, req, &c);
	if (!s)
		return;
	if (!fence_hook_for(c, s, true)) {
		client_reply_err(cl, req->id, ERR_BADSTATE, "no stonith_hook for %s (set one in [server %s] or [cluster %s])",
				 s->cfg->name, s->cfg->name, c->cfg->name);
		return;
	}
	if (refused_only_writer(cl, req, c, s, "shooting"))
		return;
	start_manual(d, cl, req, c, s, "stonith");
}

const struct api_handler fence_handlers[] = {
	{ "fence", cmd_fence },
	{ "unfence", cmd_unfence },
	{ "stonith", cmd_stonith },
	{ NULL, NULL },
};
