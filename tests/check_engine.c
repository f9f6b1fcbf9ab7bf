/* The cutover engine driven by a scripted cluster: three MariaDB servers and a router kept as a
 * small model (read-only or not, GTID sequence, replication source and threads), answering
 * the engine's SQL and router calls from the event loop, with errors, hangs, aborts and pauses
 * injected at every step, and a daemon killed at every point a switchover can stop, followed
 * by the recovery of a new daemon.  Every case ends by checking the model: at most one
 * writable server, never two; after a promotion the new primary holds the fence point; the
 * router's writer is the writable server.  The integration suites run the same promises
 * against real servers; this reaches the corners they cannot time. */
#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "engine.h"
#include "flavor.h"
#include "held.h"
#include "journal.h"
#include "log.h"
#include "router.h"
#include "rowset.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

Suite *engine_suite(void);

#define NSRV 3

/* ------------------------------------------------------------------------------------------ */
/* the model */

struct fsrv {
	int ro;                 /* 1 read-only, 0 writable */
	long seq;               /* GTID 0-1-seq: what it has applied */
	int source;             /* 1..NSRV, 0 none */
	bool io, sql;           /* replication threads */
	bool hang;              /* never answers (each call runs to its deadline) */
	int fence_blocks;       /* this many fences are held up (as by a long write) to their deadline */
	const char *fail;       /* a statement starting with this fails */
	bool sbm_null;          /* Seconds_Behind_Master NULL, as a server says while its SQL thread catches up on a restart */
	const char *io_error;   /* Last_IO_Error, NULL: none */
	int port;
	const char *version;    /* @@version, NULL: 10.11.6-MariaDB */
	const char *have_ssl;   /* @@have_ssl, NULL: not in the answer */
	const char *charset;    /* @@character_set_server, NULL: not in the answer */
	int versioned;          /* system-versioned tables */
	char last_change[512];  /* the last CHANGE MASTER it was sent */
};

static struct fsrv m[NSRV + 1];
static struct {
	int writer;             /* 1..NSRV, 0 none */
	const char *fail_op;    /* "drain", "promote", "rollback", "finalize": that call fails */
	const char *hang_op;    /* that call answers only at the driver's timeout (1 s), with an error */
	bool down;              /* the router cannot be reached */
	char trace[512];        /* "drain fence rollback …": router calls and fence statements, in order */
} mr;

static void trace_add(const char *what)
{
	size_t used = strlen(mr.trace);
	snprintf(mr.trace + used, sizeof(mr.trace) - used, "%s%s", used ? " " : "", what);
}

static struct daemon d;
static const char *extra_cluster_conf = "";   /* lines added to [cluster t] by daemon_start */
static struct config *cfg;
static char dir[64];

static int port_of(int i)
{
	return 41000 + i;
}

static int server_by_port(int port)
{
	int i;
	for (i = 1; i <= NSRV; i++)
		if (port_of(i) == port)
			return i;
	return 0;
}

static int server_by_name(const char *name)
{
	return name && name[0] == 'd' && name[1] == 'b' ? atoi(name + 2) : 0;
}

/* Replication: a replica with its threads running has what its source has. */
static void replicate(void)
{
	int round, i;
	for (round = 0; round < NSRV; round++)
		for (i = 1; i <= NSRV; i++)
			if (m[i].source && m[i].io && m[i].sql && !m[m[i].source].hang && m[m[i].source].seq > m[i].seq)
				m[i].seq = m[m[i].source].seq;
}

static int writable_count(void)
{
	int i, n = 0;
	for (i = 1; i <= NSRV; i++)
		n += m[i].ro == 0;
	return n;
}

static char *gtid(long seq)
{
	return xasprintf("0-1-%ld", seq);
}

/* ------------------------------------------------------------------------------------------ */
/* the fake database calls */

struct call {
	struct call *next;      /* pending */
	struct db *db;
	char **sql;
	size_t n;
	void (*fn)(struct db *, struct db_result *, void *);
	void *arg;
	int srv;
	bool held;              /* a fence held up: answers at the deadline, having done nothing */
	struct event *ev;
};

static struct call *pending_calls;

static void call_unlink(struct call *c)
{
	struct call **p;
	for (p = &pending_calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

static struct rowset *one(const char *col, const char *val)
{
	const char *cols[1] = { col }, *vals[1] = { val };
	struct rowset *rs = rowset_new(1, cols);
	rowset_add_row(rs, vals);
	return rs;
}

static const char *version_of(int i)
{
	return m[i].version ? m[i].version : "10.11.6-MariaDB";
}

static struct rowset *vars_row(int i)
{
	static const char *const cols[] = { "version", "server_id", "server_uuid", "read_only", "super_read_only",
					     "log_bin", "log_slave_updates", "gtid_strict_mode", "gtid_mode",
					     "enforce_gtid_consistency", "gtid_current_pos", "gtid_binlog_pos",
					     "gtid_slave_pos", "gtid_executed", "have_ssl", "character_set_server",
					     "collation_server" };
	char id[8], *g = gtid(m[i].seq), coll[64];
	const char *vals[17] = { version_of(i), id, NULL, m[i].ro ? "1" : "0", NULL, "1", "1", "1", NULL, NULL,
				 g, g, g, NULL, m[i].have_ssl, m[i].charset, m[i].charset ? coll : NULL };
	struct rowset *rs = rowset_new(17, cols);
	snprintf(coll, sizeof(coll), "%s_general_ci", m[i].charset ? m[i].charset : "");
	snprintf(id, sizeof(id), "%d", i);
	rowset_add_row(rs, vals);
	free(g);
	return rs;
}

static struct rowset *replica_row(int i)
{
	static const char *const cols[] = { "Master_Host", "Master_Port", "Master_User", "Slave_IO_Running",
					    "Slave_SQL_Running", "Seconds_Behind_Master", "Using_Gtid", "Gtid_IO_Pos",
					    "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error" };
	struct rowset *rs = rowset_new(12, cols);
	char port[16], *g;
	if (!m[i].source)
		return rs;
	g = gtid(m[m[i].source].seq);
	snprintf(port, sizeof(port), "%d", port_of(m[i].source));
	{
		const char *vals[12] = { "127.0.0.1", port, "repl", m[i].io ? "Yes" : "No", m[i].sql ? "Yes" : "No",
					 m[i].sbm_null ? NULL : "0", "Slave_Pos", g, m[i].io_error ? "2003" : "0", m[i].io_error ? m[i].io_error : "",
					 "0", "" };
		rowset_add_row(rs, vals);
	}
	free(g);
	return rs;
}

static struct rowset *empty(size_t ncols)
{
	static const char *const cols[] = { "a", "b", "c", "d", "e", "f", "g" };
	return rowset_new(ncols, cols);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* One statement on server i: its result set, or NULL with *err set. */
static struct rowset *run_one(int i, const char *q, int *err, char *msg, size_t len)
{
	const struct flavor_ops *f = &flavor_mariadb;
	struct rowset *rs;
	int p;

	if (m[i].fail && starts(q, m[i].fail)) {
		*err = 1045;
		snprintf(msg, len, "injected failure on db%d: %s", i, q);
		return NULL;
	}
	replicate();
	if (!strcmp(q, f->sql[SQL_VARS]))
		return vars_row(i);
	if (!strcmp(q, f->sql[SQL_REPLICA_STATUS]))
		return replica_row(i);
	if (!strcmp(q, f->sql[SQL_PRIVILEGED_USERS]))
		return empty(3);
	if (!strcmp(q, f->sql[SQL_LIST_SESSIONS]))
		return empty(7);
	if (starts(q, "SELECT p.id, p.user, p.time_ms"))   /* SQL_LONG_WRITES: none running */
		return empty(4);
	if (!strcmp(q, f->sql[SQL_FENCE]))
		return m[i].ro = 1, empty(0);
	if (!strcmp(q, f->sql[SQL_UNFENCE]))
		return m[i].ro = 0, empty(0);
	if (starts(q, "BACKUP STAGE") || starts(q, "KILL"))
		return empty(0);
	if (!strcmp(q, f->sql[SQL_FENCE_POINT]) || !strcmp(q, "SELECT @@gtid_current_pos")) {
		char *g = gtid(m[i].seq);
		rs = one("gtid", g);
		free(g);
		return rs;
	}
	if (!strcmp(q, "SELECT @@global.read_only"))
		return one("ro", m[i].ro ? "1" : "0");
	if (!strcmp(q, "SELECT @@server_id")) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i);
		return one("id", id);
	}
	if (starts(q, "SELECT MASTER_GTID_WAIT('0-1-")) {
		long want = atol(q + strlen("SELECT MASTER_GTID_WAIT('0-1-"));
		return one("wait_result", m[i].seq >= want ? "0" : "-1");
	}
	if (!strcmp(q, f->sql[SQL_STOP_REPLICA]) || !strcmp(q, "STOP SLAVE IO_THREAD")) {
		m[i].io = false;
		if (!strcmp(q, f->sql[SQL_STOP_REPLICA]))
			m[i].sql = false;
		return empty(0);
	}
	if (!strcmp(q, f->sql[SQL_START_REPLICA]))
		return m[i].io = m[i].sql = m[i].source != 0, empty(0);
	if (!strcmp(q, f->sql[SQL_RESET_REPLICA]))
		return m[i].source = 0, empty(0);
	if (starts(q, "CHANGE MASTER TO") && (p = atoi(strstr(q, "MASTER_PORT = ") + strlen("MASTER_PORT = ")))) {
		strlcpy_(m[i].last_change, q, sizeof(m[i].last_change));
		return m[i].source = server_by_port(p), empty(0);
	}
	if (!strcmp(q, f->sql[SQL_VERSIONED_TABLES])) {
		const char *cols[2] = { "n", "names" };
		char n[16];
		const char *vals[2] = { n, m[i].versioned ? "app.history" : NULL };
		snprintf(n, sizeof(n), "%d", m[i].versioned);
		rs = rowset_new(2, cols);
		rowset_add_row(rs, vals);
		return rs;
	}
	if (!strcmp(q, SQL_DEMOTE_PREPARE))
		return empty(0);
	if (starts(q, "REPLACE INTO")) {
		rs = empty(0);
		if (!m[i].ro) {
			rs->affected = 1;
			m[i].seq++;
		}
		return rs;
	}
	*err = 1064;
	snprintf(msg, len, "the fake cluster does not know: %s", q);
	return NULL;
}

static void call_free(struct call *c)
{
	size_t k;
	for (k = 0; k < c->n; k++)
		free(c->sql[k]);
	free(c->sql);
	event_free(c->ev);
	free(c);
}

static void call_answer(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;
	struct db_result *res = xcalloc(1, sizeof(*res));
	size_t k;

	res->rs = xcalloc(c->n + 1, sizeof(*res->rs));
	if (!c->srv || m[c->srv].hang || c->held) {
		res->err = DB_ERR_TIMEOUT;
		snprintf(res->errmsg, sizeof(res->errmsg), "timed out (db%d does not answer)", c->srv);
	} else {
		for (k = 0; k < c->n; k++) {
			struct rowset *rs = run_one(c->srv, c->sql[k], &res->err, res->errmsg, sizeof(res->errmsg));
			if (!rs) {
				res->failed = k;
				break;
			}
			res->rs[res->n++] = rs;
		}
	}
	call_unlink(c);
	c->fn(c->db, res, c->arg);
	call_free(c);
}

static int fake_db_run(struct db *db, const char *const *sql, size_t n, int timeout_ms,
		       void (*fn)(struct db *, struct db_result *, void *), void *arg)
{
	struct call *c = xcalloc(1, sizeof(*c));
	int i = server_by_name(db_label(db));
	struct timeval tv = { 0, 200 };
	size_t k;

	c->db = db;
	c->fn = fn;
	c->arg = arg;
	c->srv = i;
	c->n = n;
	c->sql = xcalloc(n, sizeof(char *));
	for (k = 0; k < n; k++)
		c->sql[k] = xstrdup(sql[k]);
	if (i && !strcmp(sql[0], flavor_mariadb.sql[SQL_FENCE]))
		trace_add("fence");
	if (i && m[i].fence_blocks > 0 && !m[i].hang && !strcmp(sql[0], flavor_mariadb.sql[SQL_FENCE])) {
		m[i].fence_blocks--;
		c->held = true;
	}
	if (!i || m[i].hang || c->held) {   /* runs to its deadline */
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
	}
	c->ev = evtimer_new(d.base, call_answer, c);
	evtimer_add(c->ev, &tv);
	c->next = pending_calls;
	pending_calls = c;
	return 0;
}

static void fake_cancel(struct db *db)
{
	struct call **p = &pending_calls;
	while (*p) {
		struct call *c = *p;
		if (c->db == db) {
			*p = c->next;
			call_free(c);
			continue;
		}
		p = &c->next;
	}
	db_cancel(db);
}

/* ------------------------------------------------------------------------------------------ */
/* the fake router and polls */

struct rcall {
	struct rcall *next;     /* pending */
	struct router *r;
	router_cb cb;
	void *arg;
	int err;
	char msg[128];
	struct event *ev;
};

static struct rcall *pending_rcalls;

static void rcall_answer(evutil_socket_t fd, short what, void *arg)
{
	struct rcall *c = arg;
	struct rcall **p;

	for (p = &pending_rcalls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	event_free(c->ev);
	c->r->busy = false;
	c->cb(c->r, c->err, c->err ? c->msg : NULL, c->arg);
	free(c);
}

static void router_answer(struct router *r, const char *op, int new_writer, router_cb cb, void *arg)
{
	struct rcall *c = xcalloc(1, sizeof(*c));
	struct timeval tv = { 0, 100 };

	c->r = r;
	c->cb = cb;
	c->arg = arg;
	if (strcmp(op, "poll"))
		trace_add(op);
	if (mr.down || (mr.fail_op && !strcmp(mr.fail_op, op))) {
		c->err = 1;
		snprintf(c->msg, sizeof(c->msg), "injected: router %s fails", op);
	} else if (new_writer >= 0) {
		mr.writer = new_writer;
	}
	if (mr.hang_op && !strcmp(mr.hang_op, op)) {
		/* a hung router: its driver gives up at its own timeout */
		tv.tv_sec = 1;
		c->err = 1;
		snprintf(c->msg, sizeof(c->msg), "injected: router %s timed out", op);
	}
	r->busy = true;
	c->ev = evtimer_new(d.base, rcall_answer, c);
	evtimer_add(c->ev, &tv);
	c->next = pending_rcalls;
	pending_rcalls = c;
}

static void fr_poll(struct router *r, router_cb cb, void *arg)
{
	router_answer(r, "poll", -1, cb, arg);
}

static void fr_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	router_answer(r, "drain", -1, cb, arg);
}

static void fr_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	router_answer(r, "promote", server_by_name(sw->new_primary->name), cb, arg);
}

static void fr_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	router_answer(r, "rollback", server_by_name(sw->old_primary->name), cb, arg);
}

static void fr_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	router_answer(r, "finalize", -1, cb, arg);
}

static void fr_close(struct router *r)
{
}

static const struct router_ops fake_router_ops = {
	.type = "fake", .close = fr_close, .poll = fr_poll, .drain = fr_drain, .promote = fr_promote, .rollback = fr_rollback,
	.finalize = fr_finalize,
};
static const struct router_ops fake_holding_ops = {
	.type = "fake", .holds = true, .close = fr_close, .poll = fr_poll, .drain = fr_drain, .promote = fr_promote,
	.rollback = fr_rollback, .finalize = fr_finalize,
};

/* What the pollers would see now. */
static void observe_all(struct cluster *c)
{
	struct router *r = c->routers[0];
	size_t k;
	int i;

	replicate();
	for (k = 0; k < c->n_servers; k++) {
		struct server *s = c->servers[k];
		i = server_by_name(s->cfg->name);
		server_status_clear(&s->st);
		s->flavor = &flavor_mariadb;
		s->observed_us = now_mono_us();
		s->st.reachable = !m[i].hang;
		s->health.state = m[i].hang ? HEALTH_DOWN : HEALTH_UP;
		if (m[i].hang)
			continue;
		strlcpy_(s->st.version, version_of(i), sizeof(s->st.version));
		s->st.flavor = FLAVOR_MARIADB;
		s->st.server_id = (unsigned long long)i;
		s->st.read_only = m[i].ro;
		s->st.super_read_only = -1;
		s->st.log_bin = s->st.log_slave_updates = s->st.gtid_strict_mode = 1;
		s->st.gtid_binlog_pos = gtid(m[i].seq);
		s->st.gtid_current_pos = gtid(m[i].seq);
		s->st.heartbeat_lag_ms = 0;
		if (m[i].source) {
			s->st.repl.configured = true;
			strlcpy_(s->st.repl.source_host, "127.0.0.1", sizeof(s->st.repl.source_host));
			s->st.repl.source_port = port_of(m[i].source);
			s->st.repl.io = m[i].io ? THREAD_YES : THREAD_NO;
			s->st.repl.sql = m[i].sql ? THREAD_YES : THREAD_NO;
			strlcpy_(s->st.repl.using_gtid, "Slave_Pos", sizeof(s->st.repl.using_gtid));
		}
	}
	memset(&r->view, 0, sizeof(r->view));
	r->view.reachable = !mr.down;
	if (mr.down)
		snprintf(r->view.error, sizeof(r->view.error), "injected: unreachable");
	for (i = 1; i <= NSRV && !mr.down; i++) {
		struct router_backend *b = &r->view.be[r->view.n++];
		snprintf(b->server, sizeof(b->server), "db%d", i);
		snprintf(b->name, sizeof(b->name), "w/db%d", i);
		b->writer = true;
		b->admin_up = i == mr.writer;
		b->healthy = true;
		b->hostgroup = -1;
		snprintf(b->state, sizeof(b->state), "%s", i == mr.writer ? "UP" : "MAINT");
	}
}

static void evaluate_later(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *c = arg;
	observe_all(c);
	cluster_evaluate(&d, c);
}

static void fake_poll_now(struct daemon *dd, struct cluster *c)
{
	struct timeval tv = { 0, 500 };
	event_base_once(dd->base, -1, EV_TIMEOUT, evaluate_later, c, &tv);
}

/* ------------------------------------------------------------------------------------------ */
/* a daemon around the model */

static void model_baseline(void)
{
	int i;
	memset(m, 0, sizeof(m));
	memset(&mr, 0, sizeof(mr));
	for (i = 1; i <= NSRV; i++) {
		m[i].ro = i != 1;
		m[i].seq = 100;
		m[i].source = i == 1 ? 0 : 1;
		m[i].io = m[i].sql = i != 1;
		m[i].port = port_of(i);
	}
	mr.writer = 1;
}

static void daemon_start(void)
{
	char *text = NULL, err[256];
	struct cfg_errors errs;
	FILE *f;
	size_t len = 0;
	int i;

	memset(&errs, 0, sizeof(errs));
	f = open_memstream(&text, &len);
	fprintf(f, "[cutoverd]\nsocket = %s/sock\nstate_dir = %s\npoll_interval = 100ms\nquery_timeout = 300ms\n"
		   "connect_timeout = 300ms\n"
		   "[cluster t]\nrepl_user = repl\nrepl_password = r\nhysteresis = 1\ndrain_timeout = 100ms\n"
		   "fence_timeout = 300ms\nsync_timeout = 300ms\npromote_timeout = 300ms\ncatchup_timeout = 1s\n"
		   "split_brain = alert\n%s",
		dir, dir, extra_cluster_conf);
	for (i = 1; i <= NSRV; i++)
		fprintf(f, "[server db%d]\ncluster = t\nhost = 127.0.0.1\nport = %d\nuser = u\npassword = p\n", i,
			port_of(i));
	fprintf(f, "[router h]\ncluster = t\ntype = haproxy\naddress = %s/haproxy.sock\nbackend = w\n", dir);
	fclose(f);
	cfg = config_load_string(text, "engine.conf", &errs);
	ck_assert_msg(cfg != NULL, "config: %s", errs.n ? errs.v[0].message : "?");
	free(text);
	cfg_errors_free(&errs);
	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	ck_assert_int_eq(daemon_setup(&d, cfg, err, sizeof(err)), 0);
	d.clusters[0].routers[0]->ops->close(d.clusters[0].routers[0]);
	d.clusters[0].routers[0]->priv = NULL;
	d.clusters[0].routers[0]->ops = &fake_router_ops;
	watchdog_load(&d);
	observe_all(&d.clusters[0]);
	cluster_evaluate(&d, &d.clusters[0]);
}

/* The daemon goes away as after kill -9: nothing undone, nothing more said. */
static void daemon_kill(void)
{
	struct cluster *c = &d.clusters[0];
	if (c->cutover) {
		memset(&c->cutover->obs, 0, sizeof(c->cutover->obs));
		switchover_free(c->cutover);
		c->cutover = NULL;
	}
	/* what was in flight: a router answers into the void (the engine drops it), a database
	 * call is simply gone */
	while (pending_rcalls)
		rcall_answer(-1, 0, pending_rcalls);
	while (pending_calls) {
		struct call *k = pending_calls;
		pending_calls = k->next;
		call_free(k);
	}
	daemon_teardown(&d);
	event_base_free(d.base);
	d.base = NULL;
}

static void setup(void)
{
	/* the engine narrates every step; the assertions speak here (CHECK_ENGINE_LOG=1: both) */
	log_set_level(getenv("CHECK_ENGINE_LOG") ? LOG_INFO : LOG_CRIT);
	strlcpy_(dir, "/tmp/check_engine.XXXXXX", sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sw_io.db_run = fake_db_run;
	sw_io.poll_now = fake_poll_now;
	sw_io.cancel = fake_cancel;
	model_baseline();
	daemon_start();
}

static void teardown(void)
{
	char cmd[128];
	if (d.base)
		daemon_kill();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* driving it */

struct outcome {
	char result[32];        /* the outcome the observer got, "" while running */
	json_t *report;
	char last_status[32];   /* of the last progress line */
	char last_message[1024];
	char starts[256];       /* "preflight drain …": the phases started, in order */
};

static void obs_progress(struct switchover *sw, json_t *line, void *arg)
{
	struct outcome *o = arg;
	const char *status = json_string_value(json_object_get(line, "status")) ?: "";
	const char *msg = json_string_value(json_object_get(line, "message")) ?: "";
	const char *phase = json_string_value(json_object_get(line, "phase")) ?: "?";

	strlcpy_(o->last_status, status, sizeof(o->last_status));
	strlcpy_(o->last_message, msg, sizeof(o->last_message));
	if (!strcmp(status, "start") && !strcmp(msg, phase)) {
		size_t l = strlen(o->starts);
		snprintf(o->starts + l, sizeof(o->starts) - l, "%s%s", l ? " " : "", phase);
	}
}

static void obs_finished(struct switchover *sw, const char *outcome, json_t *report, void *arg)
{
	struct outcome *o = arg;
	strlcpy_(o->result, outcome, sizeof(o->result));
	o->report = json_incref(report);
}

static struct switchover *start(int to, int pause_before, struct outcome *o)
{
	struct cluster *c = &d.clusters[0];
	struct sw_observer obs = { obs_progress, obs_finished, o };
	char err[256];
	struct switchover *sw = sw_new(&d, c, daemon_server(&d, "db1"), daemon_server(&d, to == 2 ? "db2" : "db3"), err,
				       sizeof(err));

	memset(o, 0, sizeof(*o));
	ck_assert_msg(sw != NULL, "sw_new: %s", err);
	sw->pause_before = pause_before;
	sw_start(sw, &obs, NULL);
	return sw;
}

/* Run the loop until cond, or fail after ms of the loop's time. */
#define RUN_UNTIL(ms, cond) do {                                                    \
	int64_t end_ = now_mono_ms() + (ms);                                        \
	while (!(cond) && now_mono_ms() < end_)                                     \
		event_base_loop(d.base, EVLOOP_ONCE);                               \
	ck_assert_msg((cond), "not within %d ms: %s", (ms), #cond);                 \
} while (0)

static bool paused(void)
{
	struct switchover *sw = d.clusters[0].cutover;
	return sw && sw->state == SW_PAUSED;
}

static bool pnr_passed(void)
{
	struct switchover *sw = d.clusters[0].cutover;
	return sw && sw->pnr;
}

/* The promise, checked on the model whatever happened: never two writable servers. */
static void assert_safe(const char *ctx)
{
	replicate();
	ck_assert_msg(writable_count() <= 1, "%s: %d writable servers", ctx, writable_count());
}

/* A cutover that ended well also leaves the router writing to the one writable server; one
 * that failed says what to do next. */
static void assert_consistent(const char *ctx)
{
	assert_safe(ctx);
	ck_assert_msg(writable_count() == 1 && m[mr.writer].ro == 0, "%s: the router writes to db%d (read_only %d)", ctx,
		      mr.writer, m[mr.writer].ro);
}

static void assert_next_steps(const char *ctx, json_t *report)
{
	ck_assert_msg(json_array_size(json_object_get(report, "next_steps")) > 0, "%s: a failure without next steps",
		      ctx);
}

static void assert_rolled_back(const char *ctx)
{
	assert_consistent(ctx);
	ck_assert_msg(m[1].ro == 0, "%s: db1 is not writable again", ctx);
	ck_assert_msg(m[2].ro == 1 && m[3].ro == 1, "%s: a replica is writable", ctx);
	ck_assert_msg(mr.writer == 1, "%s: the router writes to db%d", ctx, mr.writer);
	ck_assert_msg(m[2].source == 1, "%s: db2 no longer replicates from db1", ctx);
}

static void assert_switched(const char *ctx, long fence_seq)
{
	assert_consistent(ctx);
	ck_assert_msg(m[2].ro == 0 && m[1].ro == 1, "%s: db2 ro=%d, db1 ro=%d", ctx, m[2].ro, m[1].ro);
	ck_assert_msg(mr.writer == 2, "%s: the router writes to db%d", ctx, mr.writer);
	ck_assert_msg(m[2].seq >= fence_seq, "%s: db2 at %ld lacks the fence point %ld", ctx, m[2].seq, fence_seq);
	ck_assert_msg(m[1].source == 2 && m[3].source == 2, "%s: db1 follows db%d, db3 follows db%d", ctx, m[1].source,
		      m[3].source);
}

/* ------------------------------------------------------------------------------------------ */
/* the cases */

START_TEST(switchover_happy_path)
{
	struct outcome o;
	start(2, -1, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "done");
	assert_switched("done", 100);
	ck_assert(json_is_true(json_object_get(o.report, "point_of_no_return_passed")));
	json_decref(o.report);
	ck_assert_ptr_null(d.clusters[0].cutover);
}
END_TEST

/* A statement of each step fails: before the point of no return everything is undone. */
static const struct {
	const char *name;
	int srv;
	const char *stmt;       /* prefix of the statement that fails */
	const char *router_op;  /* or the router call that fails */
	bool rolled_back;       /* else: failed after the point of no return */
} step_failures[] = {
	{ "drain: the router", 0, NULL, "drain", true },
	{ "catchup: reading the primary", 1, "SELECT @@global.gtid_binlog_pos", NULL, true },
	{ "fence: read_only", 1, "SET GLOBAL read_only = 1", NULL, true },
	{ "fence: the commit hold", 1, "BACKUP STAGE BLOCK_COMMIT", NULL, true },
	{ "sync: the candidate's wait", 2, "SELECT MASTER_GTID_WAIT", NULL, true },
	{ "promote: the candidate writable", 2, "SET GLOBAL read_only = 0", NULL, true },
	{ "promote: the router", 0, NULL, "promote", false },
	{ "promote: the candidate detaches", 2, "RESET SLAVE ALL", NULL, false },
};

START_TEST(step_error)
{
	struct outcome o;
	const char *name = step_failures[_i].name;

	if (step_failures[_i].stmt)
		m[step_failures[_i].srv].fail = step_failures[_i].stmt;
	mr.fail_op = step_failures[_i].router_op;
	start(2, -1, &o);
	RUN_UNTIL(8000, *o.result);
	if (step_failures[_i].rolled_back) {
		ck_assert_msg(!strcmp(o.result, "rolled_back"), "%s: outcome %s", name, o.result);
		m[1].fail = m[2].fail = NULL;
		assert_rolled_back(name);
	} else {
		ck_assert_msg(!strcmp(o.result, "failed"), "%s: outcome %s", name, o.result);
		assert_safe(name);
		assert_next_steps(name, o.report);
		ck_assert_msg(m[2].ro == 0 && m[1].ro == 1, "%s: past the point of no return db2 is the primary", name);
	}
	json_decref(o.report);
}
END_TEST

/* A server that stops answering in the middle: the step's deadline, then the undo. */
START_TEST(candidate_hangs_in_sync)
{
	struct outcome o;
	start(2, PH_SYNC, &o);
	RUN_UNTIL(5000, paused());
	m[2].hang = true;
	d.clusters[0].cutover->abort_requested = false;
	sw_set_state(d.clusters[0].cutover, SW_RUNNING, "test: resume");
	sw_phase_begin(d.clusters[0].cutover, PH_SYNC);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "rolled_back");
	/* it never heard a writable statement and was last seen read-only: db1 takes writes again */
	ck_assert_int_eq(m[1].ro, 0);
	ck_assert_int_eq(m[2].ro, 1);
	assert_safe("candidate hung in sync");
	json_decref(o.report);
}
END_TEST

/* A server or the router stops answering at each step (paused before it, hung, resumed): the
 * step's deadline or the statement's, then the undo; whatever the outcome, never two writable
 * servers, and a failure says what to do next. */
static const struct {
	enum phase at;
	int srv;                /* the server that hangs, or 0 */
	const char *router_op;  /* or the router call that hangs */
} hangs[] = {
	{ PH_DRAIN, 0, "drain" },
	{ PH_CATCHUP, 1, NULL },
	{ PH_FENCE, 1, NULL },
	{ PH_SYNC, 2, NULL },
	{ PH_PROMOTE, 2, NULL },
	{ PH_PROMOTE, 0, "promote" },
};

START_TEST(step_timeout)
{
	struct outcome o;
	struct switchover *sw;
	char ctx[64];

	snprintf(ctx, sizeof(ctx), "%s hangs in %s", hangs[_i].srv ? (hangs[_i].srv == 1 ? "db1" : "db2") : "the router",
		 phase_names[hangs[_i].at]);
	start(2, hangs[_i].at, &o);
	RUN_UNTIL(5000, paused());
	if (hangs[_i].srv)
		m[hangs[_i].srv].hang = true;
	mr.hang_op = hangs[_i].router_op;
	sw = d.clusters[0].cutover;
	sw_set_state(sw, SW_RUNNING, "test: resume");
	sw_phase_begin(sw, sw->phase);
	RUN_UNTIL(20000, *o.result);
	ck_assert_msg(!strcmp(o.result, "rolled_back") || !strcmp(o.result, "failed"), "%s: outcome %s", ctx, o.result);
	assert_safe(ctx);
	if (!strcmp(o.result, "failed"))
		assert_next_steps(ctx, o.report);
	if (!strcmp(o.result, "rolled_back"))
		assert_rolled_back(ctx);
	json_decref(o.report);
}
END_TEST

/* Killed while rolling back (its last journal entry "rollback"): the new daemon runs the undo
 * chain again, to the end. */
START_TEST(kill_during_rollback)
{
	struct outcome o;
	struct switchover *sw;

	start(2, PH_PROMOTE, &o);
	RUN_UNTIL(5000, paused());
	m[2].hang = true;   /* the undo waits on the candidate's answer */
	sw = d.clusters[0].cutover;
	sw->abort_requested = true;
	sw_set_state(sw, SW_RUNNING, "test: abort while paused");
	sw_should_stop(sw);
	RUN_UNTIL(5000, d.clusters[0].cutover && d.clusters[0].cutover->state == SW_ROLLING_BACK);
	daemon_kill();
	m[2].hang = false;
	daemon_start();
	recover_all(&d);
	RUN_UNTIL(5000, !d.clusters[0].cutover || d.clusters[0].cutover->state == SW_INTERRUPTED);
	ck_assert_msg(d.clusters[0].cutover == NULL, "not rolled back after the restart: %s",
		      d.clusters[0].cutover ? d.clusters[0].cutover->reason : "");
	assert_rolled_back("killed during the rollback");
}
END_TEST

/* A fence held up past its budget (by a write statement that started after the drain looked):
 * undone at once, tried again, and the switchover completes; the report counts the tries. */
START_TEST(fence_held_up_then_retried)
{
	struct outcome o;

	m[1].fence_blocks = 2;
	start(2, -1, &o);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_int_eq(json_integer_value(json_object_get(o.report, "fence_attempts")), 3);
	ck_assert(json_real_value(json_object_get(o.report, "fence_stall_ms")) > 0);
	assert_switched("after two held-up fences", 100);
	json_decref(o.report);
}
END_TEST

/* A router that holds new work (ProxySQL) is drained before read_only, so nothing it sends
 * meets a read-only server; a try of the fence that is undone lets its work through again
 * while the fence waits.  One that refuses new work (HAProxy) is drained after read_only. */
START_TEST(holding_router_drained_before_the_fence)
{
	struct outcome o;

	d.clusters[0].routers[0]->ops = &fake_holding_ops;
	m[1].fence_blocks = 1;
	start(2, -1, &o);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_str_eq(mr.trace, "drain fence rollback drain fence promote finalize");
	assert_switched("with a holding router", 100);
	json_decref(o.report);
}
END_TEST

START_TEST(refusing_router_drained_after_the_fence)
{
	struct outcome o;

	start(2, -1, &o);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_str_eq(mr.trace, "fence drain promote finalize");
	json_decref(o.report);
}
END_TEST

/* Held up every time until fence_timeout: rolled back, db1 writable, nothing switched. */
START_TEST(fence_held_up_to_the_deadline)
{
	struct outcome o;

	m[1].fence_blocks = 1000;
	start(2, -1, &o);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "rolled_back");
	/* a router that refuses new work was never drained: nothing of it to undo */
	ck_assert_msg(!strstr(mr.trace, "drain") && !strstr(mr.trace, "rollback"), "router calls: %s", mr.trace);
	ck_assert_int_gt(json_integer_value(json_object_get(o.report, "fence_attempts")), 1);
	assert_rolled_back("fence held up to its deadline");
	json_decref(o.report);
}
END_TEST

/* A preflight hook that runs past hook_timeout (1 s here, not a fixed 30 s) refuses. */
START_TEST(preflight_hook_timeout)
{
	struct outcome o;

	daemon_kill();
	extra_cluster_conf = "preflight_hook = /bin/sleep 5\nhook_timeout = 1s\n";
	daemon_start();
	extra_cluster_conf = "";
	start(2, -1, &o);
	/* the hook sleeps 5 s: an answer within 4 s means hook_timeout cut it */
	RUN_UNTIL(4000, *o.result);
	ck_assert_str_eq(o.result, "refused");
	ck_assert_msg(strstr(json_string_value(json_object_get(o.report, "reason")) ?: "", "preflight hook") != NULL,
		      "reason: %s", json_string_value(json_object_get(o.report, "reason")));
	assert_consistent("a hook timed out");
	json_decref(o.report);
}
END_TEST

/* A candidate whose IO thread stopped is refused with what stopped it and how to start it again. */
START_TEST(preflight_stopped_thread_says_what_next)
{
	struct outcome o;
	const json_t *c;
	const char *msg = NULL;
	size_t i;

	m[2].io = false;
	m[2].io_error = "error connecting to master 'repl@127.0.0.1:41001' - retry-time: 60";
	start(2, -1, &o);
	RUN_UNTIL(4000, *o.result);
	ck_assert_str_eq(o.result, "refused");
	json_array_foreach(json_object_get(o.report, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "check")) ?: "", "candidate_threads"))
			msg = json_string_value(json_object_get(c, "message"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg, "IO thread No, SQL thread Yes; last IO error: error connecting to master "
			 "'repl@127.0.0.1:41001' - retry-time: 60; fix that, then start them with START SLAVE on db2");
	assert_consistent("refused for a stopped thread");
	json_decref(o.report);
}
END_TEST

/* A server that says NULL is shown saying NULL, not -1. */
START_TEST(preflight_shows_a_null_seconds_behind)
{
	struct outcome o;
	const json_t *c;
	const char *msg = NULL;
	size_t i;

	m[2].sbm_null = true;
	start(2, -1, &o);
	RUN_UNTIL(5000, *o.result);
	json_array_foreach(json_object_get(o.report, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "check")) ?: "", "candidate_lag"))
			msg = json_string_value(json_object_get(c, "message"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "(Seconds_Behind_Master NULL)") != NULL, "%s", msg);
	json_decref(o.report);
}
END_TEST

/* The candidate made writable by someone else while paused: the undo leaves db1 read-only. */
START_TEST(rollback_never_makes_two_writers)
{
	struct outcome o;
	struct switchover *sw;

	start(2, PH_PROMOTE, &o);
	RUN_UNTIL(5000, paused());
	m[2].ro = 0;   /* an operator */
	sw = d.clusters[0].cutover;
	sw->abort_requested = true;
	sw_set_state(sw, SW_RUNNING, "test: abort while paused");
	sw_should_stop(sw);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "failed");
	ck_assert_msg(m[1].ro == 1, "db1 made writable while db2 is");
	assert_safe("abort with a writable candidate");
	assert_next_steps("abort with a writable candidate", o.report);
	json_decref(o.report);
}
END_TEST

/* Pause before every step, then abort: undone; or resume: done. */
START_TEST(pause_then_abort)
{
	static const enum phase at[] = { PH_DRAIN, PH_CATCHUP, PH_FENCE, PH_SYNC, PH_PROMOTE };
	struct outcome o;
	struct switchover *sw;

	start(2, at[_i], &o);
	RUN_UNTIL(5000, paused());
	sw = d.clusters[0].cutover;
	ck_assert_int_eq(sw->phase, at[_i]);
	sw->abort_requested = true;
	sw_set_state(sw, SW_RUNNING, "test: abort while paused");
	sw_should_stop(sw);
	RUN_UNTIL(8000, *o.result);
	ck_assert_msg(!strcmp(o.result, "rolled_back"), "abort before %s: %s", phase_names[at[_i]], o.result);
	assert_rolled_back(phase_names[at[_i]]);
	json_decref(o.report);
}
END_TEST

START_TEST(pause_then_resume)
{
	static const enum phase at[] = { PH_DRAIN, PH_CATCHUP, PH_FENCE, PH_SYNC, PH_PROMOTE };
	struct outcome o;
	struct switchover *sw;

	start(2, at[_i], &o);
	RUN_UNTIL(5000, paused());
	sw = d.clusters[0].cutover;
	sw_set_state(sw, SW_RUNNING, "test: resume");
	sw_phase_begin(sw, sw->phase);
	RUN_UNTIL(8000, *o.result);
	ck_assert_msg(!strcmp(o.result, "done"), "resume before %s: %s", phase_names[at[_i]], o.result);
	assert_switched(phase_names[at[_i]], 100);
	json_decref(o.report);
}
END_TEST

/* The reason of a report, "" if none. */
static const char *reason_of(json_t *report)
{
	return json_string_value(json_object_get(report, "reason")) ?: "";
}

/* Paused before the fence nothing is blocked, and says so; left alone past pause_timeout it
 * rolls back on its own, saying why. */
START_TEST(pause_before_the_fence_times_out)
{
	struct outcome o;
	int64_t t0;

	daemon_kill();
	extra_cluster_conf = "pause_timeout = 1s\n";
	daemon_start();
	extra_cluster_conf = "";
	start(2, PH_FENCE, &o);
	RUN_UNTIL(5000, paused());
	t0 = now_mono_ms();
	ck_assert_str_eq(o.last_status, "paused");
	ck_assert_msg(strstr(o.last_message, "nothing is blocked") && strstr(o.last_message, "1s (pause_timeout)"),
		      "the paused line: %s", o.last_message);
	{
		json_t *st = switchover_json(d.clusters[0].cutover);
		ck_assert(json_is_false(json_object_get(st, "writes_blocked")));
		json_decref(st);
	}
	ck_assert_int_eq(m[1].ro, 0);   /* really nothing blocked: db1 takes writes */
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "rolled_back");
	ck_assert_msg(now_mono_ms() - t0 >= 900, "rolled back after %lld ms, before the limit", (long long)(now_mono_ms() - t0));
	ck_assert_msg(strstr(reason_of(o.report), "paused before fence for 1s without resume or abort (pause_timeout)"),
		      "reason: %s", reason_of(o.report));
	assert_rolled_back("a pause before the fence timed out");
	json_decref(o.report);
}
END_TEST

/* Paused past the fence every write is blocked, and it says so; the shorter
 * blocked_pause_timeout ends it. */
START_TEST(pause_in_the_window_times_out)
{
	struct outcome o;
	json_t *st;

	daemon_kill();
	extra_cluster_conf = "blocked_pause_timeout = 1s\n";
	daemon_start();
	extra_cluster_conf = "";
	start(2, PH_SYNC, &o);
	RUN_UNTIL(5000, paused());
	ck_assert_msg(strstr(o.last_message, "WRITES BLOCKED") && strstr(o.last_message, "1s (blocked_pause_timeout)"),
		      "the paused line: %s", o.last_message);
	ck_assert_int_eq(m[1].ro, 1);
	st = switchover_json(d.clusters[0].cutover);
	ck_assert(json_is_true(json_object_get(st, "writes_blocked")));
	ck_assert_int_eq(json_integer_value(json_object_get(st, "pause_limit_ms")), 1000);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(st, "rolls_back_at")));
	json_decref(st);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "rolled_back");
	ck_assert_msg(strstr(reason_of(o.report), "paused before sync for 1s without resume or abort "
				 "(blocked_pause_timeout)"), "reason: %s", reason_of(o.report));
	assert_rolled_back("a pause in the write-blocked window timed out");
	json_decref(o.report);
}
END_TEST

/* The request's limit wins over the cluster's (10 minutes by default here). */
START_TEST(pause_timeout_of_the_request)
{
	struct outcome o;
	struct switchover *sw = start(2, PH_CATCHUP, &o);

	sw->pause_timeout_ms = 1000;
	RUN_UNTIL(5000, paused());
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "rolled_back");
	ck_assert_msg(strstr(reason_of(o.report), "for 1s without resume or abort (--pause-timeout)"),
		      "reason: %s", reason_of(o.report));
	assert_rolled_back("the request's pause limit");
	json_decref(o.report);
}
END_TEST

/* Resumed before the fence, the candidate catches up again first: what it fell behind while
 * paused must not lengthen the write-blocked window.  A resume ends the pause's limit. */
START_TEST(resume_before_the_fence_catches_up_again)
{
	struct outcome o;

	daemon_kill();
	extra_cluster_conf = "pause_timeout = 1s\n";
	daemon_start();
	extra_cluster_conf = "";
	start(2, PH_FENCE, &o);
	RUN_UNTIL(5000, paused());
	o.starts[0] = '\0';
	sw_resume(d.clusters[0].cutover);
	RUN_UNTIL(8000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_str_eq(o.starts, "catchup fence sync promote verify");
	assert_switched("resumed before the fence", 100);
	json_decref(o.report);
}
END_TEST

/* Killed at each point it can stop (paused before a step, or hung past the point of no
 * return), then a new daemon recovers from the journal. */
START_TEST(kill_then_recover)
{
	static const int at[] = { PH_DRAIN, PH_CATCHUP, PH_FENCE, PH_SYNC, PH_PROMOTE, -1 };
	struct outcome o;

	if (at[_i] >= 0) {
		start(2, at[_i], &o);
		RUN_UNTIL(5000, paused());
	} else {
		mr.hang_op = "promote";   /* stuck right after the candidate became writable */
		start(2, -1, &o);
		RUN_UNTIL(5000, pnr_passed());
	}
	daemon_kill();
	mr.hang_op = NULL;
	daemon_start();
	recover_all(&d);
	{
		struct cluster *c = &d.clusters[0];
		RUN_UNTIL(5000, !c->cutover || c->cutover->state == SW_INTERRUPTED);
		if (at[_i] >= 0) {
			ck_assert_msg(c->cutover == NULL, "killed before %s: not rolled back (%s)", phase_names[at[_i]],
				      c->cutover ? c->cutover->reason : "");
			assert_rolled_back("after recovery");
		} else {
			ck_assert_msg(c->cutover && c->cutover->state == SW_INTERRUPTED,
				      "killed past the point of no return: not left for a person");
			assert_safe("interrupted after the promotion");
			ck_assert_int_eq(m[2].ro, 0);
			ck_assert_int_eq(m[1].ro, 1);
		}
	}
}
END_TEST

/* The case: paused before promote, the daemon killed, the candidate made writable by
 * hand, a restart: the old primary stays read-only, the switchover needs a person. */
START_TEST(recovery_with_candidate_made_writable)
{
	struct outcome o;
	struct cluster *c;

	start(2, PH_PROMOTE, &o);
	RUN_UNTIL(5000, paused());
	daemon_kill();
	m[2].ro = 0;
	m[2].source = 0;
	daemon_start();
	recover_all(&d);
	c = &d.clusters[0];
	RUN_UNTIL(5000, c->cutover && c->cutover->state == SW_INTERRUPTED);
	ck_assert_int_eq(m[1].ro, 1);
	ck_assert_int_eq(writable_count(), 1);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* the plans and the pure decisions */

/* ---- upgrades: a candidate of a newer release series ---------------------------------------- */

#define V11 "11.8.9-MariaDB-0+deb13u1 from Debian-log"

/* A switchover from `from` to `to` (db1..db3), with allow_older_replicas as given. */
static void start_between(int from, int to, bool allow_older, struct outcome *o)
{
	struct cluster *c = &d.clusters[0];
	struct sw_observer obs = { obs_progress, obs_finished, o };
	char err[256], a[8], b[8];
	struct switchover *sw;

	snprintf(a, sizeof(a), "db%d", from);
	snprintf(b, sizeof(b), "db%d", to);
	sw = sw_new(&d, c, daemon_server(&d, a), daemon_server(&d, b), err, sizeof(err));
	memset(o, 0, sizeof(*o));
	ck_assert_msg(sw != NULL, "sw_new: %s", err);
	sw->allow_older_replicas = allow_older;
	sw_start(sw, &obs, NULL);
}

/* The check of that name in a report: its message when its result is `result`, else NULL. */
static const char *check_msg(json_t *report, const char *name, const char *result)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(report, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "check")) ?: "", name) &&
		    !strcmp(json_string_value(json_object_get(c, "result")) ?: "", result))
			return json_string_value(json_object_get(c, "message"));
	return NULL;
}

/* A few rounds of the pollers and the evaluation, as the daemon does between cutovers. */
static void settle(void)
{
	int k;
	for (k = 0; k < 3; k++) {
		observe_all(&d.clusters[0]);
		cluster_evaluate(&d, &d.clusters[0]);
	}
}

static enum server_role role_of(int i)
{
	return d.clusters[0].topo.srv[i - 1].role;
}

/* db3 runs 11.8, db1 and db2 10.11: the dry run says it is an upgrade, with both versions; a
 * replica too old to follow db3 refuses it (nothing changed) unless allowed. */
START_TEST(upgrade_refused_for_an_older_replica)
{
	struct outcome o;
	const char *msg;

	m[3].version = V11;
	m[1].versioned = 2;
	settle();
	start_between(1, 3, false, &o);
	RUN_UNTIL(4000, *o.result);
	ck_assert_str_eq(o.result, "refused");
	msg = check_msg(o.report, "version", "pass");
	ck_assert_msg(msg && strstr(msg, "upgrade: db3 runs MariaDB 11.8 (" V11 "), newer than db1's MariaDB 10.11 "
				      "(10.11.6-MariaDB)"), "version check: %s", msg ? msg : "none");
	msg = check_msg(o.report, "replica_version", "fail");
	ck_assert_msg(msg && strstr(msg, "db2 runs MariaDB 10.11") && strstr(msg, "allow_older_replicas"),
		      "replica_version: %s", msg ? msg : "none");
	msg = check_msg(o.report, "system_versioned", "pass");
	ck_assert_msg(msg && strstr(msg, "db1 has 2 system-versioned tables (app.history"), "%s", msg ? msg : "none");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o.report, "upgrade"), "to")), "MariaDB 11.8");
	assert_rolled_back("refused for an older replica");
	ck_assert_int_eq(d.clusters[0].n_held, 0);
	json_decref(o.report);
}
END_TEST

/* Allowed: db3 is the writable primary; db1 stays read-only and replicating from nothing (not
 * demoted: 10.11 cannot replicate from 11.8), db2 is stopped at the fence point, still pointed
 * at db1; both are held as the rollback point, shown as such and not as faults. */
START_TEST(upgrade_keeps_the_rollback_point)
{
	struct outcome o;
	const json_t *up;
	long fence;

	m[3].version = V11;
	settle();
	start_between(1, 3, true, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_msg(!strcmp(o.result, "done"), "%s: %s", o.result, json_string_value(json_object_get(o.report, "reason")));
	fence = atol(strrchr(json_string_value(json_object_get(o.report, "fence_point")), '-') + 1);
	ck_assert_int_eq(m[3].ro, 0);
	ck_assert_int_eq(m[1].ro, 1);
	ck_assert_msg(m[1].source == 0, "db1 replicates from db%d: it was demoted", m[1].source);
	ck_assert_msg(m[2].source == 1 && !m[2].io && !m[2].sql, "db2: source db%d, io %d, sql %d", m[2].source, m[2].io,
		      m[2].sql);
	ck_assert_int_eq(m[2].seq, fence);
	ck_assert_int_eq(m[1].seq, fence);
	ck_assert_int_eq(mr.writer, 3);
	up = json_object_get(o.report, "upgrade");
	ck_assert_str_eq(json_string_value(json_object_get(up, "old_primary_kept")), "db1");
	ck_assert_int_eq(json_array_size(json_object_get(up, "left_at_fence_point")), 1);
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(up, "left_at_fence_point"), 0), "reached")));
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db1"));
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db2"));
	ck_assert_str_eq(held_find(&d.clusters[0], "db1")->fence_point, json_string_value(json_object_get(o.report,
													    "fence_point")));
	settle();
	ck_assert_int_eq(role_of(1), ROLE_HELD);
	ck_assert_int_eq(role_of(2), ROLE_HELD);
	ck_assert_int_eq(role_of(3), ROLE_PRIMARY);
	ck_assert_msg(d.clusters[0].topo.raw == VERDICT_OK, "verdict %s: %s", verdict_name(d.clusters[0].topo.raw),
		      d.clusters[0].topo.n_reasons ? d.clusters[0].topo.reasons[0] : "");
	json_decref(o.report);

	/* kept across a restart: read back from the journal */
	daemon_kill();
	daemon_start();
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db1"));
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db2"));
	ck_assert_int_eq(role_of(2), ROLE_HELD);

	/* the switchover back is refused with the reason, and changes nothing */
	start_between(3, 1, false, &o);
	RUN_UNTIL(4000, *o.result);
	ck_assert_str_eq(o.result, "refused");
	{
		const char *msg = check_msg(o.report, "version", "fail");
		ck_assert_msg(msg && strstr(msg, "db1 runs MariaDB 10.11") && strstr(msg, "older than the primary db3's "
											"MariaDB 11.8") &&
			      strstr(msg, "rollback point"), "version: %s", msg ? msg : "none");
	}
	ck_assert_int_eq(m[3].ro, 0);
	ck_assert_int_eq(m[1].ro, 1);
	ck_assert_int_eq(mr.writer, 3);
	json_decref(o.report);

	/* db2, upgraded and attached to db3 by hand, is released; db1 stays held */
	m[2].version = V11;
	m[2].source = 3;
	m[2].io = m[2].sql = true;
	settle();
	ck_assert_ptr_null(held_find(&d.clusters[0], "db2"));
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db1"));
	settle();
	ck_assert_int_eq(role_of(2), ROLE_REPLICA);
}
END_TEST

/* Past the point of no return a failure (the router cannot persist) leaves db1 fenced at the
 * fence point all the same: it is held, and the next steps do not offer a switchover back. */
START_TEST(upgrade_failed_past_pnr_still_holds)
{
	struct outcome o;
	json_t *s;
	size_t i;
	bool back = false;

	m[3].version = V11;
	settle();
	mr.fail_op = "finalize";
	start_between(1, 3, true, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "failed");
	ck_assert(json_is_true(json_object_get(o.report, "point_of_no_return_passed")));
	ck_assert_int_eq(m[1].source, 0);
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db1"));
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db2"));
	json_array_foreach(json_object_get(o.report, "next_steps"), i, s)
		back |= strstr(json_string_value(s), "--to db1") != NULL;
	ck_assert_msg(!back, "the next steps offer a switchover back to db1");
	json_decref(o.report);
}
END_TEST

/* A later switchover between 11.8 servers leaves the rollback point alone: db1 is not repointed. */
START_TEST(held_servers_are_left_alone)
{
	struct outcome o;

	m[2].version = m[3].version = V11;
	settle();
	start_between(1, 3, false, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_int_eq(m[2].source, 3);
	json_decref(o.report);
	settle();
	start_between(3, 2, false, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_msg(!strcmp(o.result, "done"), "%s: %s %s", o.result, json_string_value(json_object_get(o.report, "reason")),
		      json_dumps(json_object_get(o.report, "checks"), 0));
	ck_assert_msg(check_msg(o.report, "replica_held", "pass") != NULL, "no replica_held check");
	ck_assert_msg(m[1].source == 0 && m[1].ro == 1, "db1 was touched: source db%d, ro %d", m[1].source, m[1].ro);
	ck_assert_int_eq(m[3].source, 2);   /* same version: reversed as usual */
	ck_assert_ptr_nonnull(held_find(&d.clusters[0], "db1"));
	json_decref(o.report);
}
END_TEST

/* CHANGE MASTER states TLS as the new primary offers it; the charset defaults are compared. */
START_TEST(repoint_states_master_ssl)
{
	struct outcome o;
	const char *msg;

	m[2].have_ssl = "DISABLED";
	m[1].charset = "latin1";
	m[2].charset = "utf8mb4";
	start(2, -1, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_msg(strstr(m[3].last_change, ", MASTER_SSL = 0"), "db3: %s", m[3].last_change);
	ck_assert_msg(strstr(m[1].last_change, "MASTER_DEMOTE_TO_SLAVE = 1, MASTER_SSL = 0"), "db1: %s", m[1].last_change);
	msg = check_msg(o.report, "charset_defaults", "warn");
	ck_assert_msg(msg && strstr(msg, "db1 has character_set_server=latin1") && strstr(msg, "db2 has utf8mb4"),
		      "charset_defaults: %s", msg ? msg : "none");
	msg = check_msg(o.report, "version", "pass");
	ck_assert_msg(msg && strstr(msg, "db1 and db2 both run MariaDB 10.11"), "version: %s", msg ? msg : "none");
	ck_assert(json_is_null(json_object_get(o.report, "upgrade")));
	json_decref(o.report);

	/* back to db1, which takes TLS */
	m[1].have_ssl = "YES";
	settle();
	start_between(2, 1, false, &o);
	RUN_UNTIL(5000, *o.result);
	ck_assert_str_eq(o.result, "done");
	ck_assert_msg(strstr(m[3].last_change, ", MASTER_SSL = 1"), "db3: %s", m[3].last_change);
	json_decref(o.report);
}
END_TEST

START_TEST(plans_are_well_formed)
{
	const struct plan *plans[] = { &plan_switchover, &plan_failover };
	char err[256];
	struct switchover *sw = sw_new(&d, &d.clusters[0], daemon_server(&d, "db1"), daemon_server(&d, "db2"), err,
				       sizeof(err));
	size_t p, k;

	for (p = 0; p < 2; p++) {
		const struct plan *pl = plans[p];
		ck_assert_int_eq(pl->steps[0].phase, PH_PREFLIGHT);
		ck_assert_int_eq(pl->steps[pl->n - 1].phase, PH_VERIFY);
		ck_assert_int_lt(plan_index(pl, PH_FENCE), plan_index(pl, PH_SYNC));
		ck_assert_int_lt(plan_index(pl, PH_SYNC), plan_index(pl, PH_PROMOTE));
		for (k = 0; k < pl->n; k++) {
			ck_assert_ptr_nonnull(pl->steps[k].enter);
			ck_assert_int_gt(pl->steps[k].deadline_ms(sw), 0);
		}
		/* the fence is on disk before it acts */
		ck_assert(pl->steps[plan_index(pl, PH_FENCE)].durable);
	}
	ck_assert_int_eq(plan_index(&plan_failover, PH_DRAIN), -1);
	ck_assert_int_eq(plan_index(&plan_failover, PH_CATCHUP), -1);
	switchover_free(sw);
}
END_TEST

/* Between cutovers the watchdog's own entries rotate a journal past 4 MiB (a cutover's start
 * did so before, and the watchdog alone grew it without bound). */
START_TEST(watchdog_entries_rotate_the_journal)
{
	char *path = xasprintf("%s/journal-t.jsonl", dir), *old = xasprintf("%s.1", path);
	FILE *f = fopen(path, "a");
	int i;

	ck_assert_ptr_nonnull(f);
	for (i = 0; i < 70000; i++)   /* about 5.5 MiB of old watchdog lines */
		fprintf(f, "{\"cluster\":\"t\",\"event\":\"alarm_raised\",\"message\":\"padding padding padding\"}\n");
	fclose(f);
	ck_assert_int_ne(access(old, F_OK), 0);
	wd_journal(&d, &d.clusters[0], "alarm_cleared", NULL);
	ck_assert_msg(access(old, F_OK) == 0, "the journal was not rotated by the watchdog's append");
	{
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_lt(st.st_size, 4096);   /* the new file holds just the new entry */
	}
	free(path);
	free(old);
}
END_TEST

START_TEST(best_candidate)
{
	struct cluster *c = &d.clusters[0];
	struct server *s2 = daemon_server(&d, "db2"), *s3 = daemon_server(&d, "db3");

	ck_assert_ptr_nonnull(candidate_best(c, 1000));
	s2->st.heartbeat_lag_ms = 900;
	s3->st.heartbeat_lag_ms = 10;
	ck_assert_ptr_eq(candidate_best(c, 1000), s3);
	s3->st.heartbeat_lag_ms = 5000;
	ck_assert_ptr_eq(candidate_best(c, 1000), s2);
	s2->st.repl.sql = THREAD_NO;
	ck_assert_ptr_null(candidate_best(c, 1000));
}
END_TEST

START_TEST(most_advanced_replica)
{
	struct cluster *c = &d.clusters[0];
	struct server *s1 = daemon_server(&d, "db1"), *s2 = daemon_server(&d, "db2"), *s3 = daemon_server(&d, "db3");

	free(s3->st.gtid_current_pos);
	s3->st.gtid_current_pos = xstrdup("0-1-150");
	free(s3->st.gtid_binlog_pos);
	s3->st.gtid_binlog_pos = xstrdup("0-1-150");
	ck_assert_ptr_eq(candidate_most_advanced(c, s1), s3);
	s3->st.reachable = false;
	ck_assert_ptr_eq(candidate_most_advanced(c, s1), s2);
}
END_TEST

Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, switchover_happy_path);
	tcase_add_loop_test(tc, step_error, 0, (int)ARRAY_LEN(step_failures));
	tcase_add_test(tc, candidate_hangs_in_sync);
	tcase_add_loop_test(tc, step_timeout, 0, (int)ARRAY_LEN(hangs));
	tcase_add_test(tc, kill_during_rollback);
	tcase_add_test(tc, fence_held_up_then_retried);
	tcase_add_test(tc, fence_held_up_to_the_deadline);
	tcase_add_test(tc, holding_router_drained_before_the_fence);
	tcase_add_test(tc, refusing_router_drained_after_the_fence);
	tcase_add_test(tc, preflight_hook_timeout);
	tcase_add_test(tc, preflight_stopped_thread_says_what_next);
	tcase_add_test(tc, preflight_shows_a_null_seconds_behind);
	tcase_add_test(tc, rollback_never_makes_two_writers);
	tcase_add_loop_test(tc, pause_then_abort, 0, 5);
	tcase_add_loop_test(tc, pause_then_resume, 0, 5);
	tcase_add_test(tc, pause_before_the_fence_times_out);
	tcase_add_test(tc, pause_in_the_window_times_out);
	tcase_add_test(tc, pause_timeout_of_the_request);
	tcase_add_test(tc, resume_before_the_fence_catches_up_again);
	tcase_add_loop_test(tc, kill_then_recover, 0, 6);
	tcase_add_test(tc, recovery_with_candidate_made_writable);
	tcase_add_test(tc, upgrade_refused_for_an_older_replica);
	tcase_add_test(tc, upgrade_keeps_the_rollback_point);
	tcase_add_test(tc, held_servers_are_left_alone);
	tcase_add_test(tc, upgrade_failed_past_pnr_still_holds);
	tcase_add_test(tc, repoint_states_master_ssl);
	tcase_add_test(tc, plans_are_well_formed);
	tcase_add_test(tc, watchdog_entries_rotate_the_journal);
	tcase_add_test(tc, best_candidate);
	tcase_add_test(tc, most_advanced_replica);
	suite_add_tcase(s, tc);
	return s;
}
