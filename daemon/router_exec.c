/* The exec router: every step is a program the operator configured (exec_status, exec_drain,
 * exec_promote, exec_rollback, exec_finalize), run through job.c with an argv, never a shell.
 * Its exit status decides; the last line of its output explains a failure.
 *
 * The contract with the program (documented in cutoverd.conf(5)), in its environment:
 *   CUTOVER_STEP        status | drain | promote | rollback | finalize (router_step_name)
 *   CUTOVER_PHASE       the switchover phase asking, or the step name
 *   CUTOVER_ROUTER      the [router NAME]
 *   CUTOVER_CLUSTER     the cluster
 *   CUTOVER_ID          the switchover id (not for status)
 *   CUTOVER_OLD_PRIMARY, CUTOVER_OLD_PRIMARY_HOST, CUTOVER_OLD_PRIMARY_PORT
 *   CUTOVER_NEW_PRIMARY, CUTOVER_NEW_PRIMARY_HOST, CUTOVER_NEW_PRIMARY_PORT
 *                       (not for status; HOST is empty for a server reached by socket)
 * exec_status prints one line per backend, "<server> <writer|reader> <up|down|drain|maint>
 * [sessions]"; blank lines and # comments are skipped.  stderr is merged into the same pipe,
 * so a status program must keep stderr quiet (or exit non-zero when it has a problem). */
#include "job.h"
#include "log.h"
#include "router.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#define EXEC_MAX_ENV 16

/* One step in flight.  Several may run at once (a status poll during a promote). */
struct exec_op {
	TAILQ_ENTRY(exec_op) entry;
	struct router *r;        /* borrowed */
	enum router_step step;
	router_cb cb;
	void *arg;
	struct job *job;         /* owned by job.c; NULL when nothing runs */
	struct event *ev_now;    /* reports a step that ran nothing, from the loop */
	int err;
	char msg[1024];
};

struct exec_priv {
	TAILQ_HEAD(, exec_op) ops;
};

static int exec_open(struct router *r, char *err, size_t errlen);
static void exec_close(struct router *r);
static void exec_poll(struct router *r, router_cb cb, void *arg);
static void exec_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void exec_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg);
static void exec_rollback(struct router *r, const struct router_switch *sw, router_cb cb,
			  void *arg);
static void exec_finalize(struct router *r, const struct router_switch *sw, router_cb cb,
			  void *arg);
static void exec_step(struct router *r, enum router_step step, const struct router_switch *sw,
		      router_cb cb, void *arg);
static int exec_prepare(struct router *r, enum router_step step, char ***argv, char *err,
			size_t errlen);
static size_t exec_env(const struct router *r, enum router_step step,
		       const struct router_switch *sw, char **env);
static void exec_env_server(char **env, size_t *n, const char *prefix,
			    const struct cfg_server *s);
static void exec_job_done(struct job_result *res, void *arg);
static void exec_now_cb(evutil_socket_t fd, short what, void *arg);
static void exec_report_later(struct exec_op *op, int err);
static void exec_finish(struct exec_op *op);
static void exec_poll_done(struct exec_op *op, int err);
static int exec_parse_status(struct router *r, const char *out, char *err, size_t errlen);
static int exec_parse_line(struct router *r, char *line, struct router_backend *be, char *err,
			   size_t errlen);
static const struct cfg_server *exec_find_server(const struct router *r, const char *name);

const struct router_ops router_exec_ops = {
	.type = "exec",
	.open = exec_open,
	.close = exec_close,
	.poll = exec_poll,
	.drain = exec_drain,
	.promote = exec_promote,
	.rollback = exec_rollback,
	.finalize = exec_finalize,
};

static int exec_open(struct router *r, char *err, size_t errlen)
{
	struct exec_priv *p;
	char **argv = NULL;
	int i;

	if (!r->cfg->exec_cmd[RSTEP_PROMOTE] || !*r->cfg->exec_cmd[RSTEP_PROMOTE]) {
		snprintf(err, errlen, "router %s: type exec needs exec_promote", r->cfg->name);
		return -1;
	}
	for (i = 0; i < RSTEP__COUNT; i++) {
		if (!r->cfg->exec_cmd[i])
			continue;
		if (exec_prepare(r, (enum router_step)i, &argv, err, errlen) < 0)
			return -1;
		job_free_argv(argv);
	}
	p = xcalloc(1, sizeof(*p));
	TAILQ_INIT(&p->ops);
	r->priv = p;
	return 0;
}

/* Running programs are killed with their groups; their callers hear nothing (they are going
 * away too). */
static void exec_close(struct router *r)
{
	struct exec_priv *p = r->priv;
	struct exec_op *op;

	if (!p)
		return;
	while ((op = TAILQ_FIRST(&p->ops)) != NULL) {
		TAILQ_REMOVE(&p->ops, op, entry);
		job_cancel(op->job);
		if (op->ev_now)
			event_free(op->ev_now);
		free(op);
	}
	free(p);
	r->priv = NULL;
	r->busy = false;
}

static void exec_poll(struct router *r, router_cb cb, void *arg)
{
	exec_step(r, RSTEP_STATUS, NULL, cb, arg);
}

static void exec_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	exec_step(r, RSTEP_DRAIN, sw, cb, arg);
}

static void exec_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	exec_step(r, RSTEP_PROMOTE, sw, cb, arg);
}

static void exec_rollback(struct router *r, const struct router_switch *sw, router_cb cb,
			  void *arg)
{
	exec_step(r, RSTEP_ROLLBACK, sw, cb, arg);
}

static void exec_finalize(struct router *r, const struct router_switch *sw, router_cb cb,
			  void *arg)
{
	exec_step(r, RSTEP_FINALIZE, sw, cb, arg);
}

static void exec_step(struct router *r, enum router_step step, const struct router_switch *sw,
		      router_cb cb, void *arg)
{
	struct exec_priv *p = r->priv;
	struct exec_op *op = xcalloc(1, sizeof(*op));
	const char *name = router_step_name(step);
	struct log_ctx ctx = { .cluster = r->cfg->cluster, .phase = sw && sw->phase ? sw->phase : name,
			       .id = sw ? sw->id : NULL };
	char *env[EXEC_MAX_ENV], **argv = NULL;
	size_t n, i;

	op->r = r;
	op->step = step;
	op->cb = cb;
	op->arg = arg;
	TAILQ_INSERT_TAIL(&p->ops, op, entry);
	r->busy = true;

	if (!r->cfg->exec_cmd[step]) {
		/* Without exec_status the router's view is unknown: the poll "succeeds" with no
		 * backends, so topology cannot cross-check the router against the primary. */
		log_ctx(LOG_DEBUG, &ctx, "router %s: no exec_%s configured; nothing to run",
			r->cfg->name, name);
		snprintf(op->msg, sizeof(op->msg), "router %s: no exec_%s configured", r->cfg->name,
			 name);
		exec_report_later(op, 0);
		return;
	}
	/* Checked again here, not only at load: the file may have changed since. */
	if (exec_prepare(r, step, &argv, op->msg, sizeof(op->msg)) < 0) {
		exec_report_later(op, -1);
		return;
	}
	n = exec_env(r, step, sw, env);
	/* The status command runs every poll interval: only the switchover steps are news. */
	log_ctx(step == RSTEP_STATUS ? LOG_DEBUG : LOG_INFO, &ctx, "router %s: running exec_%s: %s",
		r->cfg->name, name, r->cfg->exec_cmd[step]);
	op->job = job_run(r->base, (const char *const *)argv, (const char *const *)env, NULL,
			  r->cfg->timeout_ms, exec_job_done, op, &ctx);
	if (step != RSTEP_STATUS)
		job_set_acts(op->job);   /* a switchover's step stops with the leadership */
	for (i = 0; i < n; i++)
		free(env[i]);
	job_free_argv(argv);
}

/* Split the step's command and check its program.  0, or -1 with a message. */
static int exec_prepare(struct router *r, enum router_step step, char ***argv, char *err,
			size_t errlen)
{
	const char *cmd = r->cfg->exec_cmd[step];
	const char *name = router_step_name(step);
	char why[PATH_MAX + 256];
	int n;

	n = job_split_argv(cmd, argv);
	if (n < 0) {
		snprintf(err, errlen, "router %s: exec_%s: unterminated double quote in '%s'",
			 r->cfg->name, name, cmd);
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "router %s: exec_%s is empty", r->cfg->name, name);
		job_free_argv(*argv);
		*argv = NULL;
		return -1;
	}
	if (job_check_path((*argv)[0], why, sizeof(why)) < 0) {
		snprintf(err, errlen, "router %s: exec_%s: %s", r->cfg->name, name, why);
		job_free_argv(*argv);
		*argv = NULL;
		return -1;
	}
	return 0;
}

/* Fill env (at most EXEC_MAX_ENV - 1 owned strings, then NULL); returns how many. */
static size_t exec_env(const struct router *r, enum router_step step,
		       const struct router_switch *sw, char **env)
{
	const char *name = router_step_name(step);
	const char *cluster = sw && sw->cluster ? sw->cluster : r->cfg->cluster;
	size_t n = 0;

	env[n++] = xasprintf("CUTOVER_STEP=%s", name);
	env[n++] = xasprintf("CUTOVER_PHASE=%s", sw && sw->phase ? sw->phase : name);
	env[n++] = xasprintf("CUTOVER_ROUTER=%s", r->cfg->name);
	env[n++] = xasprintf("CUTOVER_CLUSTER=%s", cluster ? cluster : "");
	if (sw) {
		env[n++] = xasprintf("CUTOVER_ID=%s", sw->id ? sw->id : "");
		exec_env_server(env, &n, "CUTOVER_OLD_PRIMARY", sw->old_primary);
		exec_env_server(env, &n, "CUTOVER_NEW_PRIMARY", sw->new_primary);
	}
	env[n] = NULL;
	return n;
}

static void exec_env_server(char **env, size_t *n, const char *prefix,
			    const struct cfg_server *s)
{
	env[(*n)++] = xasprintf("%s=%s", prefix, s && s->name ? s->name : "");
	env[(*n)++] = xasprintf("%s_HOST=%s", prefix, s && s->host ? s->host : "");
	if (s)
		env[(*n)++] = xasprintf("%s_PORT=%d", prefix, s->port);
	else
		env[(*n)++] = xasprintf("%s_PORT=", prefix);
}

static void exec_job_done(struct job_result *res, void *arg)
{
	struct exec_op *op = arg;
	struct router *r = op->r;
	const char *name = router_step_name(op->step);
	char how[320], last[256];

	op->job = NULL;     /* job.c frees it after this returns */
	if (job_result_ok(res)) {
		snprintf(op->msg, sizeof(op->msg), "router %s: exec_%s succeeded", r->cfg->name, name);
		op->err = 0;
		if (op->step == RSTEP_STATUS &&
		    exec_parse_status(r, res->output, op->msg, sizeof(op->msg)) < 0)
			op->err = -1;
	} else {
		job_result_describe(res, how, sizeof(how));
		job_result_last_line(res, last, sizeof(last));
		snprintf(op->msg, sizeof(op->msg), "router %s: exec_%s (%s) failed: %s%s%s%s",
			 r->cfg->name, name, res->program, how, *last ? "; last output: \"" : "",
			 last, *last ? "\"" : "");
		op->err = -1;
	}
	exec_finish(op);
}

static void exec_report_later(struct exec_op *op, int err)
{
	op->err = err;
	op->ev_now = evtimer_new(op->r->base, exec_now_cb, op);
	event_active(op->ev_now, EV_TIMEOUT, 1);
}

static void exec_now_cb(evutil_socket_t fd, short what, void *arg)
{
	exec_finish(arg);
}

/* Report once, after the op is gone, so the callback may start the next step. */
static void exec_finish(struct exec_op *op)
{
	struct router *r = op->r;
	struct exec_priv *p = r->priv;
	router_cb cb = op->cb;
	void *arg = op->arg;
	char msg[sizeof(op->msg)];
	int err = op->err;
	enum router_step op_step = op->step;

	if (op->step == RSTEP_STATUS)
		exec_poll_done(op, err);
	strlcpy_(msg, op->msg, sizeof(msg));
	TAILQ_REMOVE(&p->ops, op, entry);
	r->busy = !TAILQ_EMPTY(&p->ops);
	if (op->ev_now)
		event_free(op->ev_now);
	free(op);
	/* A failing poll is reported by the poller when the router's state changes. */
	if (err && op_step != RSTEP_STATUS)
		log_ctx(LOG_WARNING, &(struct log_ctx){ .cluster = r->cfg->cluster }, "%s", msg);
	if (cb)
		cb(r, err, msg, arg);
}

static void exec_poll_done(struct exec_op *op, int err)
{
	struct router_view *v = &op->r->view;

	if (err) {
		/* No stale backends next to reachable = false: nobody should act on them. */
		v->reachable = false;
		v->n = 0;
		strlcpy_(v->error, op->msg, sizeof(v->error));
		return;
	}
	if (!op->r->cfg->exec_cmd[RSTEP_STATUS])
		v->n = 0;
	v->reachable = true;
	v->error[0] = '\0';
	v->polled_ms = now_mono_ms();
}

/* Parse exec_status output into r->view.  0, or -1 with the offending line in err. */
static int exec_parse_status(struct router *r, const char *out, char *err, size_t errlen)
{
	struct router_view *v = &r->view;
	char line[512], why[256], *t;
	const char *p = out, *nl;
	size_t len, lineno = 0;

	v->n = 0;
	v->auto_failover_hostgroups = false;
	while (*p) {
		lineno++;
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "router %s: exec_status output line %zu is longer than %zu bytes",
				 r->cfg->name, lineno, sizeof(line) - 1);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl ? nl + 1 : p + len;
		t = trim(line);
		if (!*t || *t == '#')
			continue;
		if (v->n == ROUTER_MAX_BACKENDS) {
			snprintf(err, errlen, "router %s: exec_status printed more than %d backends",
				 r->cfg->name, ROUTER_MAX_BACKENDS);
			return -1;
		}
		if (exec_parse_line(r, t, &v->be[v->n], why, sizeof(why)) < 0) {
			snprintf(err, errlen,
				 "router %s: exec_status output line %zu: %s; expected "
				 "'<server> <writer|reader> <up|down|drain|maint> [sessions]'",
				 r->cfg->name, lineno, why);
			v->n = 0;
			return -1;
		}
		v->n++;
	}
	return 0;
}

static int exec_parse_line(struct router *r, char *line, struct router_backend *be, char *err,
			   size_t errlen)
{
	static const char *const states[] = { "up", "down", "drain", "maint" };
	char *save = NULL, *name, *role, *state, *sess, *extra;
	const struct cfg_server *s;
	long long sessions = 0;
	size_t i, c;

	name = strtok_r(line, " \t", &save);
	role = strtok_r(NULL, " \t", &save);
	state = strtok_r(NULL, " \t", &save);
	sess = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (!role || !state || extra) {
		snprintf(err, errlen, "'%s' has %s fields", line, extra ? "too many" : "too few");
		return -1;
	}
	if (strcasecmp(role, "writer") && strcasecmp(role, "reader")) {
		snprintf(err, errlen, "role '%s' of %s is not writer or reader", role, name);
		return -1;
	}
	for (i = 0; i < ARRAY_LEN(states); i++)
		if (!strcasecmp(state, states[i]))
			break;
	if (i == ARRAY_LEN(states)) {
		snprintf(err, errlen, "state '%s' of %s is not up, down, drain or maint", state, name);
		return -1;
	}
	if (sess && !parse_ll(sess, 0, INT_MAX, &sessions)) {
		snprintf(err, errlen, "sessions '%s' of %s is not a number", sess, name);
		return -1;
	}
	memset(be, 0, sizeof(*be));
	s = exec_find_server(r, name);
	if (s) {
		strlcpy_(be->server, s->name, sizeof(be->server));
		strlcpy_(be->host, s->host ? s->host : "", sizeof(be->host));
		be->port = s->port;
	}
	strlcpy_(be->name, name, sizeof(be->name));
	be->hostgroup = -1;
	be->writer = !strcasecmp(role, "writer");
	be->admin_up = i == 0;
	be->healthy = i != 1;
	for (c = 0; states[i][c] && c < sizeof(be->state) - 1; c++)
		be->state[c] = (char)(states[i][c] - 'a' + 'A');
	be->sessions = (int)sessions;
	be->weight = -1;
	be->max_connections = -1;
	return 0;
}

/* The program names cutoverd servers; one of another cluster is not ours. */
static const struct cfg_server *exec_find_server(const struct router *r, const char *name)
{
	size_t i;

	if (!r->config)
		return NULL;
	for (i = 0; i < r->config->n_servers; i++) {
		const struct cfg_server *s = &r->config->servers[i];
		if (strcmp(s->name, name))
			continue;
		if (s->cluster && r->cfg->cluster && strcmp(s->cluster, r->cfg->cluster))
			continue;
		return s;
	}
	return NULL;
}
