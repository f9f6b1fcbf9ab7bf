/* Polling: every poll_interval, every server and router at once, from the loop.
 *
 * A server poll is one or more db batches on the server's own connection:
 *   1. when not connected: SELECT @@version (connects, tells the flavor);
 *   2. on the primary, once per connection: create the heartbeat table if it is missing (with
 *      binary logging on, so it reaches the replicas by replication);
 *   3. the status batch: variables, replica status, binlog status, [heartbeat write on the
 *      primary], heartbeat read.
 * Each batch has query_timeout as its deadline, so a hung server costs a timer.  A server that
 * fails is retried with exponential backoff (capped), and its health changes only after
 * `hysteresis` consecutive observations.  A cluster is evaluated once per round, when all of
 * the round's polls are in (a poll still running from an earlier round does not hold it up). */
#include "daemon.h"
#include "ha.h"
#include "db.h"
#include "log.h"
#include "router.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

enum { B_VARS, B_REPLICA, B_BINLOG };   /* fixed positions in the status batch */

static void poll_round(evutil_socket_t fd, short what, void *arg);
static void cluster_round(struct daemon *d, struct cluster *c);
static void poll_server(struct daemon *d, struct server *s);
static void server_done(struct daemon *d, struct server *s);
static void detect_done(struct db *db, struct db_result *res, void *arg);
static void start_status_batch(struct daemon *d, struct server *s);
static bool is_primary_for_heartbeat(const struct server *s);
static void status_done(struct db *db, struct db_result *res, void *arg);
static void start_status(struct daemon *d, struct server *s);

static struct daemon *the_daemon;   /* poll callbacks get the server; this finds the rest */

/* The clusters' rounds are spread over the interval, in up to POLL_SLOTS groups: with many
 * clusters, their answers do not all arrive in one burst that the API's requests wait behind. */
#define POLL_SLOTS 10

static size_t poll_slots(const struct daemon *d)
{
	return d->n_clusters < POLL_SLOTS ? (d->n_clusters ? d->n_clusters : 1) : POLL_SLOTS;
}

/* How long a server's poll waits between sending its batch and reading the answer
 * (db_set_gather): a tenth of a slot, from 1 to 10 ms.  Answers on loopback or a LAN are in
 * by then, and a slot's servers are then read in one wakeup of the loop instead of one each:
 * the wakeups, not the reading, are most of what polling costs.  An answer that takes longer
 * is waited for as before, after one read that finds nothing. */
static int poll_gather_ms(const struct daemon *d)
{
	int ms = (int)(d->cfg->poll_interval_ms / (int64_t)poll_slots(d) / 10);
	return ms < 1 ? 1 : ms > 10 ? 10 : ms;
}

void poll_start(struct daemon *d)
{
	struct timeval tv;
	int64_t us = (int64_t)d->cfg->poll_interval_ms * 1000 / (int64_t)poll_slots(d);

	the_daemon = d;
	if (d->poll_timer)
		event_free(d->poll_timer);
	d->poll_timer = event_new(d->base, -1, EV_PERSIST, poll_round, d);
	d->poll_tick = 0;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	event_add(d->poll_timer, &tv);
	/* the first round at once, of every cluster */
	for (size_t i = 0; i < d->n_clusters; i++)
		cluster_round(d, &d->clusters[i]);
}

void poll_stop(struct daemon *d)
{
	if (d->poll_timer) {
		event_free(d->poll_timer);
		d->poll_timer = NULL;
	}
}

static void fail(struct server *s, int err, const char *msg)
{
	struct log_ctx ctx = { s->cluster->cfg->name, s->cfg->name, NULL, NULL };
	bool first = s->st.reachable || s->consecutive_failures == 0;
	int64_t backoff;

	if (first)
		log_ctx(LOG_WARNING, &ctx, "poll failed: %s", msg);
	else
		log_ctx(LOG_DEBUG, &ctx, "poll failed again: %s", msg);
	s->st.reachable = false;
	s->st.last_errno = err;
	strlcpy_(s->st.last_error, msg, sizeof(s->st.last_error));
	s->consecutive_failures++;
	backoff = BACKOFF_MIN_MS << (s->consecutive_failures < 6 ? s->consecutive_failures - 1 : 5);
	if (backoff > BACKOFF_MAX_MS)
		backoff = BACKOFF_MAX_MS;
	s->next_attempt_ms = now_mono_ms() + backoff;
	s->hb_pending_ts = 0;
}

static void poll_router_done(struct router *r, int err, const char *msg, void *arg)
{
	/* The driver fills view.reachable and view.error itself (a router that answered with a
	 * problem is reachable); only a failure it did not describe is recorded here. */
	if (err && !*r->view.error)
		strlcpy_(r->view.error, msg ? msg : "router poll failed", sizeof(r->view.error));
}

static void cluster_round(struct daemon *d, struct cluster *c)
{
	size_t i;

	/* Close the previous round if some of its polls are still running (a hung server). */
	if (c->outstanding > 0)
		cluster_evaluate(d, c);
	c->round++;
	c->outstanding = 0;
	c->stats.round_started_us = now_mono_us();
	for (i = 0; i < c->n_servers; i++) {
		struct server *s = c->servers[i];
		if (s->polling || now_mono_ms() < s->next_attempt_ms)
			continue;
		s->round = c->round;
		c->outstanding++;
		poll_server(d, s);
	}
	for (i = 0; i < c->n_routers; i++) {
		struct router *r = c->routers[i];
		if (r->busy)   /* a switchover step or the last poll still runs: the driver owns busy */
			continue;
		r->ops->poll(r, poll_router_done, c);
	}
	if (c->outstanding == 0)
		cluster_evaluate(d, c);
}

static void poll_round(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	size_t i, slots = poll_slots(d), slot = (size_t)(++d->poll_tick % slots);

	/* each cluster once an interval, in its own slot of it */
	for (i = slot; i < d->n_clusters; i += slots)
		cluster_round(d, &d->clusters[i]);
}

void poll_cluster_now(struct daemon *d, struct cluster *c)
{
	cluster_round(d, c);
}

static void poll_server(struct daemon *d, struct server *s)
{
	s->polling = true;
	s->poll_started_us = now_mono_us();
	db_set_gather(s->db, poll_gather_ms(d));
	if (!db_connected(s->db) || !s->flavor) {
		if (db_run1(s->db, SQL_DETECT, d->cfg->connect_timeout_ms + d->cfg->query_timeout_ms,
			    detect_done, s) < 0)
			s->polling = false;
		return;
	}
	detect_done(NULL, NULL, s);
}

/* The heartbeat table's database part of "db.table". */
static char *hb_database(const char *table)
{
	const char *dot = strchr(table, '.');
	return dot ? strndup(table, (size_t)(dot - table)) : xstrdup("cutoverd");
}

static void detect_done(struct db *db, struct db_result *res, void *arg)
{
	struct server *s = arg;
	struct daemon *d = the_daemon;

	if (res) {
		const char *version;
		enum flavor_id id;

		if (res->err) {
			fail(s, res->err, res->errmsg);
			db_result_free(res);
			server_done(d, s);
			return;
		}
		version = rowset_at(res->rs[0], 0, 0);
		id = flavor_detect(version);
		db_result_free(res);
		if (id == FLAVOR_UNKNOWN) {
			fail(s, 0, "unsupported server version (MariaDB 10.6+ or MySQL 8.0+ required)");
			db_close(s->db);
			server_done(d, s);
			return;
		}
		s->flavor = flavor_get(id);
		s->heartbeat_ready = false;
	}
	start_status(d, s);
}

/* The heartbeat table is created on the writable primary only, with binary logging on, so it
 * reaches every replica the way any table does (as pt-heartbeat does).  Creating it locally on
 * each server with sql_log_bin=0 would fail on MySQL replicas (super_read_only), and the
 * primary's heartbeat writes would then break their replication.  It is created only when
 * missing, so reconnecting leaves no transaction behind. */
static void hb_created(struct db *db, struct db_result *res, void *arg)
{
	struct server *s = arg;
	struct daemon *d = the_daemon;
	struct log_ctx ctx = { s->cluster->cfg->name, s->cfg->name, NULL, NULL };

	if (res->err && !db_connected(s->db)) {
		fail(s, res->err, res->errmsg);
		db_result_free(res);
		server_done(d, s);
		return;
	}
	if (res->err)
		log_ctx(LOG_WARNING, &ctx, "cannot create the heartbeat table %s: %s (lag is then unknown)",
			s->cluster->cfg->heartbeat_table, res->errmsg);
	else
		log_ctx(LOG_NOTICE, &ctx, "created the heartbeat table %s", s->cluster->cfg->heartbeat_table);
	s->heartbeat_ready = !res->err;
	db_result_free(res);
	start_status_batch(d, s);
}

static void hb_checked(struct db *db, struct db_result *res, void *arg)
{
	struct server *s = arg;
	struct daemon *d = the_daemon;
	const struct flavor_ops *f = s->flavor;
	const char *table = s->cluster->cfg->heartbeat_table;
	const char *n = res->err ? NULL : rowset_at(res->rs[0], 0, 0);
	char *dbname, *q[2];

	if (res->err && !db_connected(s->db)) {
		fail(s, res->err, res->errmsg);
		db_result_free(res);
		server_done(d, s);
		return;
	}
	if (res->err || (n && strcmp(n, "0"))) {   /* there (or cannot tell): carry on */
		s->heartbeat_ready = true;
		db_result_free(res);
		start_status_batch(d, s);
		return;
	}
	db_result_free(res);
	dbname = hb_database(table);
	q[0] = xasprintf(f->sql[SQL_HEARTBEAT_CREATE_DB], dbname);
	q[1] = xasprintf(f->sql[SQL_HEARTBEAT_CREATE], table);
	free(dbname);
	if (db_run(s->db, (const char *const *)q, 2, d->cfg->query_timeout_ms, hb_created, s) < 0)
		s->polling = false;
	free(q[0]);
	free(q[1]);
}

/* SELECT whether db.table exists, as one row with a count. */
static char *hb_exists_sql(const char *table)
{
	const char *dot = strchr(table, '.');
	char *db = hb_database(table);
	char *qdb = sql_quote(db), *qt = sql_quote(dot ? dot + 1 : table);
	char *q = xasprintf("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s' "
			    "AND TABLE_NAME = '%s'", qdb, qt);
	free(db);
	free(qdb);
	free(qt);
	return q;
}

static bool is_primary_for_heartbeat(const struct server *s)
{
	const struct cluster *c = s->cluster;
	return c->cfg->heartbeat && !c->hb_paused && !c->cutover && c->topo.primary >= 0 &&
	       c->servers[c->topo.primary] == s && s->st.read_only == 0;
}

static void start_status(struct daemon *d, struct server *s)
{
	if (is_primary_for_heartbeat(s) && !s->heartbeat_ready) {
		char *q = hb_exists_sql(s->cluster->cfg->heartbeat_table);
		if (db_run1(s->db, q, d->cfg->query_timeout_ms, hb_checked, s) < 0)
			s->polling = false;
		free(q);
		return;
	}
	start_status_batch(d, s);
}

static void start_status_batch(struct daemon *d, struct server *s)
{
	const struct flavor_ops *f = s->flavor;
	const char *table = s->cluster->cfg->heartbeat_table;
	char *q[5];
	size_t n = 0, i;

	q[n++] = xstrdup(f->sql[SQL_VARS]);
	q[n++] = xstrdup(f->sql[SQL_REPLICA_STATUS]);
	q[n++] = xstrdup(f->sql[SQL_BINLOG_STATUS]);
	s->hb_pending_ts = 0;
	if (s->cluster->cfg->heartbeat) {
		/* with [ha], only the leader writes the heartbeat (a follower reads the rows, but cannot
		 * time rows it did not write: its lag comes from Seconds_Behind_Master) */
		if (is_primary_for_heartbeat(s) && ha_acting(d->ha)) {
			s->hb_pending_ts = now_real_us();
			q[n++] = xasprintf(f->sql[SQL_HEARTBEAT_WRITE], table, (long long)s->hb_pending_ts);
		}
		q[n++] = xasprintf(f->sql[SQL_HEARTBEAT_READ], table);
	}
	if (db_run(s->db, (const char *const *)q, n, d->cfg->query_timeout_ms, status_done, s) < 0)
		s->polling = false;
	for (i = 0; i < n; i++)
		free(q[i]);
}

/* Lag from the heartbeat: the replica has applied the primary's heartbeat `applied`.  If it
 * also has every heartbeat acknowledged before this poll began, it is caught up (0); otherwise
 * it lags at least by the age of the oldest such heartbeat it is missing. */
static int64_t heartbeat_lag(const struct cluster *c, int64_t applied_ts, int64_t poll_started_mono,
			     int64_t now_real)
{
	int64_t oldest_missing = 0;
	bool any = false;
	size_t i;

	for (i = 0; i < HEARTBEAT_RING; i++) {
		const struct heartbeat *h = &c->hb[i];
		if (!h->ts_us || h->acked_mono_us > poll_started_mono)
			continue;
		any = true;
		if (h->ts_us > applied_ts && (!oldest_missing || h->ts_us < oldest_missing))
			oldest_missing = h->ts_us;
	}
	if (!any)
		return -1;
	if (!oldest_missing)
		return 0;
	return (now_real - oldest_missing) / 1000;
}

static void record_heartbeat(struct cluster *c, const struct server *s)
{
	if (c->hb_server_id != s->st.server_id) {
		memset(c->hb, 0, sizeof(c->hb));
		c->hb_next = 0;
		c->hb_server_id = s->st.server_id;
	}
	c->hb[c->hb_next].ts_us = s->hb_pending_ts;
	c->hb[c->hb_next].acked_mono_us = now_mono_us();
	c->hb_next = (c->hb_next + 1) % HEARTBEAT_RING;
}

static void parse_heartbeat(struct server *s, const struct rowset *rs)
{
	struct cluster *c = s->cluster;
	size_t r;

	s->st.heartbeat_lag_ms = -1;
	/* Right after a switchover, until the new primary's first heartbeat is recorded, the rows
	 * cutoverd knows are the old primary's own: on the old primary, now a replica, they say
	 * nothing about its lag. */
	if (!rs || !c->hb_server_id || c->hb_server_id == s->st.server_id)
		return;
	for (r = 0; r < rs->nrows; r++) {
		long long id, ts;
		if (!parse_ll(rowset_at(rs, r, 0), 0, LLONG_MAX, &id) ||
		    !parse_ll(rowset_at(rs, r, 1), 0, LLONG_MAX, &ts))
			continue;
		if ((unsigned long long)id != c->hb_server_id)
			continue;
		s->st.heartbeat_ts_us = ts;
		s->st.heartbeat_lag_ms = heartbeat_lag(c, ts, s->poll_started_us, now_real_us());
	}
}

static void status_done(struct db *db, struct db_result *res, void *arg)
{
	struct server *s = arg;
	struct daemon *d = the_daemon;
	struct log_ctx ctx = { s->cluster->cfg->name, s->cfg->name, NULL, NULL };
	const struct flavor_ops *f = s->flavor;
	struct server_status st;
	size_t hb_write = s->hb_pending_ts ? 3 : (size_t)-1;
	size_t hb_read = s->hb_pending_ts ? 4 : 3;

	if (res->err && res->failed <= B_BINLOG) {
		fail(s, res->err, res->errmsg);
		db_result_free(res);
		server_done(d, s);
		return;
	}
	server_status_init(&st);
	if (f->parse_vars(res->rs[B_VARS], &st) < 0 || f->parse_replica(res->rs[B_REPLICA], &st.repl) < 0 ||
	    f->parse_binlog(res->rs[B_BINLOG], &st) < 0) {
		server_status_clear(&st);
		fail(s, 0, "could not parse the server's status (unexpected result shape)");
		db_result_free(res);
		server_done(d, s);
		return;
	}
	st.flavor = f->id;
	st.reachable = true;
	st.last_ok_ms = now_mono_ms();
	st.poll_us = now_mono_us() - s->poll_started_us;
	if (res->err) {
		if (!s->hb_warned && res->err == 1146)   /* ER_NO_SUCH_TABLE */
			log_ctx(LOG_NOTICE, &ctx, "no heartbeat table here yet (cutoverd creates it on the primary, "
						  "and it replicates): lag unknown until then");
		else if (!s->hb_warned)
			log_ctx(LOG_WARNING, &ctx, "heartbeat unavailable: %s", res->errmsg);
		s->hb_warned = true;
		s->heartbeat_ready = false;
	} else {
		s->hb_warned = false;
	}
	/* Swap the new observation in before the heartbeat bookkeeping, which reads server_id. */
	server_status_clear(&s->st);
	s->st = st;
	if (hb_write < res->n && res->rs[hb_write]->affected > 0)
		record_heartbeat(s->cluster, s);
	if (s->cluster->topo.primary >= 0 && s->cluster->servers[s->cluster->topo.primary] == s)
		s->st.heartbeat_lag_ms = s->st.read_only == 0 ? 0 : -1;
	else
		parse_heartbeat(s, hb_read < res->n ? res->rs[hb_read] : NULL);
	if (s->consecutive_failures)
		log_ctx(LOG_NOTICE, &ctx, "reachable again after %d failed polls", s->consecutive_failures);
	s->consecutive_failures = 0;
	s->next_attempt_ms = 0;
	s->hb_pending_ts = 0;
	db_result_free(res);
	server_done(d, s);
}

static void server_done(struct daemon *d, struct server *s)
{
	struct cluster *c = s->cluster;
	int hyst = c->cfg->hysteresis;

	s->polling = false;
	s->observed_us = s->poll_started_us;
	if (health_observe(&s->health, s->st.reachable, hyst, now_mono_ms())) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "server_state", "cluster", c->cfg->name,
				       "server", s->cfg->name, "to", health_name(s->health.state), "message", "");
		char *msg = s->health.state == HEALTH_DOWN
				    ? xasprintf("%s is down: %s", s->cfg->name, s->st.last_error)
				    : xasprintf("%s is up", s->cfg->name);
		json_object_set_new(ev, "message", json_string(msg));
		free(msg);
		daemon_event(d, ev);
	}
	if (s->round == c->round && c->outstanding > 0 && --c->outstanding == 0)
		cluster_evaluate(d, c);
}
