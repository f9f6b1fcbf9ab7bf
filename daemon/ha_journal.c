/* The cutover journal's copy in etcd, which the next leader finishes from (see ha.h).
 *
 * PREFIX/journal/CLUSTER/FAMILY holds {"id", "entries"}: every record of the last cutover of
 * that family ("cutover" for switchovers and failovers, "read_shift", "tenant_move") on that
 * cluster.  Each record the local journal takes is queued here and the key rewritten in a
 * transaction that holds only while the leader key still has the create_revision this member
 * got it with (the fencing token): a deposed leader's write fails, and it stops acting.  Writes
 * go one at a time, in order; a record waiting behind another is written with it.  A step that
 * must not act before its record is in etcd (a durable one, the point of no return) waits for
 * it with ha_journal_wait().
 *
 * A new term of leading begins by reading every key under PREFIX/journal/ and bringing this
 * member's own journal in line with it: records another member wrote are appended, and a
 * cutover this member left unfinished that etcd does not have (it never acted, or another
 * leader ended it) is closed as "settled_elsewhere".  Then the same recovery as after a restart
 * runs on the local journal.
 *
 * The watchdog's decisions that only the leader makes are kept there too, as a state:
 * PREFIX/journal/CLUSTER/watchdog holds {"sticky": [the servers kept fenced], "auto_failover_at_us",
 * "held": [the servers held at a fence point], "watch": the watch after a switchover},
 * rewritten when they change; a new leader adopts it (watchdog_adopt). */
#include "afterwatch.h"
#include "daemon.h"
#include "etcd.h"
#include "ha.h"
#include "ha_impl.h"
#include "held.h"
#include "journal.h"
#include "log.h"
#include "offload.h"
#include "shift.h"
#include "switchover.h"
#include "tenant.h"
#include "util.h"
#include "watchdog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define HJ_RETRY_MS 100

struct hj_op {
	TAILQ_ENTRY(hj_op) entry;
	char *key;                      /* owned */
	char *value;                    /* owned; NULL: the term's read of PREFIX/journal/ */
	unsigned long long seq;         /* the last record it carries */
};

struct hj_run {                         /* a family's last cutover on a cluster, as etcd has it */
	TAILQ_ENTRY(hj_run) entry;
	char *key;                      /* owned: PREFIX/journal/CLUSTER/FAMILY */
	char *id;                       /* owned */
	json_t *entries;                /* owned */
};

struct hj_waiter {
	TAILQ_ENTRY(hj_waiter) entry;
	unsigned long long seq;
	ha_wait_fn fn;
	void *arg;
};

struct ha_journal {
	struct ha *h;
	struct etcd *e;                 /* owned: its own connection, so the lease's renewals never wait behind it */
	TAILQ_HEAD(hj_op_list, hj_op) ops;
	TAILQ_HEAD(hj_run_list, hj_run) runs;
	TAILQ_HEAD(hj_waiter_list, hj_waiter) waiters;
	unsigned long long seq;         /* records queued this term */
	unsigned long long done;        /* records etcd has */
	unsigned gen, sent_gen;         /* a term's answers only (hj_lost starts a new one) */
	bool sending;
	char lost[300];                 /* why nothing more is written ("" while leading) */
	struct event *retry, *tell;
	int64_t sent_us;
	double last_write_ms;
	unsigned long long writes, errors;
	char last_error[300];
};

static void kick(struct ha_journal *j);

static const char *family_of(const char *kind)
{
	if (kind && (!strcmp(kind, "read_shift") || !strcmp(kind, "tenant_move")))
		return kind;
	return "cutover";
}

static struct hj_run *run_by_key(struct ha_journal *j, const char *key)
{
	struct hj_run *r;
	TAILQ_FOREACH(r, &j->runs, entry)
		if (!strcmp(r->key, key))
			return r;
	return NULL;
}

static struct hj_run *run_by_id(struct ha_journal *j, const char *id)
{
	struct hj_run *r;
	TAILQ_FOREACH(r, &j->runs, entry)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

static void run_free(struct ha_journal *j, struct hj_run *r)
{
	TAILQ_REMOVE(&j->runs, r, entry);
	free(r->key);
	free(r->id);
	json_decref(r->entries);
	free(r);
}

static struct hj_run *run_new(struct ha_journal *j, const char *key, const char *id, json_t *entries)
{
	struct hj_run *r = run_by_key(j, key);

	if (r)
		run_free(j, r);
	r = xcalloc(1, sizeof(*r));
	r->key = xstrdup(key);
	r->id = xstrdup(id);
	r->entries = entries;
	TAILQ_INSERT_TAIL(&j->runs, r, entry);
	return r;
}

static void op_free(struct ha_journal *j, struct hj_op *op)
{
	TAILQ_REMOVE(&j->ops, op, entry);
	free(op->key);
	free(op->value);
	free(op);
}

static void enqueue(struct ha_journal *j, const char *key, char *value)
{
	struct hj_op *last = TAILQ_LAST(&j->ops, hj_op_list), *op;

	/* the last one not yet sent, for the same key: it carries this record too */
	if (last && last->value && value && !strcmp(last->key, key) && (!j->sending || last != TAILQ_FIRST(&j->ops))) {
		free(last->value);
		last->value = value;
		last->seq = j->seq;
		return;
	}
	op = xcalloc(1, sizeof(*op));
	op->key = xstrdup(key);
	op->value = value;
	op->seq = j->seq;
	TAILQ_INSERT_TAIL(&j->ops, op, entry);
}

/* ------------------------------------------------------------------------------------------ */
/* waiters */

static void tell_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ha_journal *j = arg;
	struct hj_waiter *w;

	(void)fd;
	(void)what;
	/* one at a time, from the head: a waiter's callback may add or forget others */
	for (;;) {
		TAILQ_FOREACH(w, &j->waiters, entry)
			if (*j->lost || w->seq <= j->done)
				break;
		if (!w)
			return;
		TAILQ_REMOVE(&j->waiters, w, entry);
		{
			ha_wait_fn fn = w->fn;
			void *a = w->arg;
			bool ok = !*j->lost;
			char why[300];
			snprintf(why, sizeof(why), "%s", j->lost);
			free(w);
			fn(a, ok, ok ? NULL : why);
		}
	}
}

bool ha_journal_wait(struct ha *h, ha_wait_fn fn, void *arg)
{
	struct ha_journal *j;
	struct hj_waiter *w;

	if (!h)
		return false;
	j = h->hj;
	if (!*j->lost && j->done >= j->seq)
		return false;
	w = xcalloc(1, sizeof(*w));
	w->seq = j->seq;
	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&j->waiters, w, entry);
	if (*j->lost)
		event_active(j->tell, 0, 0);
	return true;
}

void ha_journal_forget(struct ha *h, void *arg)
{
	struct hj_waiter *w, *next;

	if (!h)
		return;
	for (w = TAILQ_FIRST(&h->hj->waiters); w; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->arg == arg) {
			TAILQ_REMOVE(&h->hj->waiters, w, entry);
			free(w);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* records */

/* A watchdog entry: the cluster's state after it, when it is one the next leader needs. */
static void record_watchdog(struct ha_journal *j, const char *cluster, const json_t *entry)
{
	const char *ev = json_string_value(json_object_get(entry, "event"));
	struct cluster *c = daemon_cluster(j->h->d, cluster);
	json_t *st, *sticky;
	char *key;
	size_t i;

	if (!c || !ev || (strcmp(ev, "sticky_fence") && strcmp(ev, "primary") && strcmp(ev, "auto_failover") &&
			  strcmp(ev, "held") && strcmp(ev, "watch") && strcmp(ev, "watch_reverse")))
		return;
	st = watchdog_state(c);
	if (!strcmp(ev, "held") && !json_is_true(json_object_get(entry, "on"))) {   /* recorded before it is let go */
		const char *srv = json_string_value(json_object_get(entry, "server"));
		json_t *held = json_object_get(st, "held");
		for (i = json_array_size(held); i-- > 0;)
			if (srv && !strcmp(json_string_value(json_object_get(json_array_get(held, i), "server")) ?: "", srv))
				json_array_remove(held, i);
	}
	if (!strcmp(ev, "watch") && !json_is_true(json_object_get(entry, "on")))   /* recorded before it ends */
		json_object_set_new(st, "watch", json_null());
	if (!strcmp(ev, "primary")) {   /* recorded before the new primary leaves the sticky list */
		const char *p = json_string_value(json_object_get(entry, "primary"));
		sticky = json_object_get(st, "sticky");
		for (i = json_array_size(sticky); i-- > 0;)
			if (p && !strcmp(json_string_value(json_array_get(sticky, i)), p))
				json_array_remove(sticky, i);
	}
	key = xasprintf("%s/journal/%s/watchdog", j->h->d->cfg->ha.prefix, cluster);
	j->seq++;
	enqueue(j, key, json_dumps(st, JSON_COMPACT));
	json_decref(st);
	free(key);
	kick(j);
}

static void record(void *arg, const json_t *entry)
{
	struct ha_journal *j = arg;
	const char *cluster = json_string_value(json_object_get(entry, "cluster"));
	const char *id = json_string_value(json_object_get(entry, "id"));
	const char *kind = json_string_value(json_object_get(entry, "kind"));
	struct hj_run *r;
	char *key;
	json_t *v;

	if (*j->lost || j->h->role != HA_LEADER || !cluster)
		return;   /* not leading: a waiter for it hears so */
	if (!id) {
		record_watchdog(j, cluster, entry);
		return;
	}
	r = run_by_id(j, id);
	key = xasprintf("%s/journal/%s/%s", j->h->d->cfg->ha.prefix, cluster,
			r && !kind ? strrchr(r->key, '/') + 1 : family_of(kind));
	if (!r || strcmp(r->key, key))
		r = run_new(j, key, id, json_array());
	json_array_append_new(r->entries, json_deep_copy(entry));
	j->seq++;
	v = json_pack("{s:s, s:O}", "id", id, "entries", r->entries);
	enqueue(j, key, json_dumps(v, JSON_COMPACT));
	json_decref(v);
	free(key);
	kick(j);
}

/* ------------------------------------------------------------------------------------------ */
/* a term's start: etcd's journal into this member's */

/* The ts of every entry of cutover `id` in a local journal's cutovers (by_cutover). */
static json_t *local_entries(json_t *by, const char *id)
{
	size_t i;
	json_t *x;
	json_array_foreach(by, i, x)
		if (!strcmp(json_string_value(json_object_get(x, "id")), id))
			return json_object_get(x, "entries");
	return NULL;
}

static bool has_ts(json_t *entries, const char *ts)
{
	size_t i;
	json_t *e;
	json_array_foreach(entries, i, e)
		if (ts && json_string_value(json_object_get(e, "ts")) &&
		    !strcmp(json_string_value(json_object_get(e, "ts")), ts))
			return true;
	return false;
}

static const char *family_of_run(json_t *entries)
{
	return family_of(json_string_value(json_object_get(json_array_get(entries, 0), "kind")));
}

/* One cluster's local journal (all, as read; by, its runs) in line with etcd's runs: what it
 * lacks is appended to the file and to all.  How many records were added. */
static size_t reconcile(struct ha_journal *j, struct cluster *c, json_t *all, json_t *by)
{
	static const char *const families[] = { "cutover", "read_shift", "tenant_move" };
	const char *state_dir = j->h->d->cfg->state_dir;
	json_t *add = json_array(), *added;
	size_t f, n;

	for (f = 0; f < ARRAY_LEN(families); f++) {
		char *key = xasprintf("%s/journal/%s/%s", j->h->d->cfg->ha.prefix, c->cfg->name, families[f]);
		struct hj_run *r = run_by_key(j, key);
		json_t *last = NULL, *x, *mine, *e;
		size_t i;

		json_array_foreach(by, i, x)
			if (!strcmp(family_of_run(json_object_get(x, "entries")), families[f]))
				last = x;
		if (r) {
			mine = local_entries(by, r->id);
			json_array_foreach(r->entries, i, e)
				if (!mine || !has_ts(mine, json_string_value(json_object_get(e, "ts"))))
					json_array_append(add, e);
		}
		if (last && (!r || strcmp(r->id, json_string_value(json_object_get(last, "id"))))) {
			json_t *entries = json_object_get(last, "entries");
			json_t *tail = json_array_get(entries, json_array_size(entries) - 1);
			if (!journal_event_finished(json_string_value(json_object_get(tail, "event")))) {
				char ts[40];
				iso_time(now_real_us(), ts, sizeof(ts));
				json_array_append_new(
					add, json_pack("{s:O, s:s, s:s, s:O?, s:s, s:s}", "id", json_object_get(last, "id"),
						       "cluster", c->cfg->name, "event", journal_event_name(JE_SETTLED_ELSEWHERE),
						       "kind", json_object_get(json_array_get(entries, 0), "kind"), "ts", ts,
						       "reason",
						       "not in etcd's journal: it never acted as the leader's, or another "
						       "leader ended it"));
			}
		}
		free(key);
	}
	n = json_array_size(add);
	if (n) {
		log_notice("ha: cluster %s: %zu record(s) from etcd's journal added to this member's", c->cfg->name, n);
		journal_import(state_dir, c->cfg->name, add);
		json_array_foreach(add, f, added)
			json_array_append(all, added);
	}
	json_decref(add);
	return n;
}

/* The watchdog's state under PREFIX/journal/CLUSTER/watchdog, adopted; true if key is one. */
static bool adopt_watchdog(struct ha_journal *j, const char *key, json_t *v, bool *adopted)
{
	struct daemon *d = j->h->d;
	size_t plen = strlen(d->cfg->ha.prefix) + strlen("/journal/"), klen = strlen(key);
	char name[200];
	struct cluster *c;

	if (klen <= plen + strlen("/watchdog") || strcmp(key + klen - strlen("/watchdog"), "/watchdog"))
		return false;
	snprintf(name, sizeof(name), "%.*s", (int)(klen - plen - strlen("/watchdog")), key + plen);
	if ((c = daemon_cluster(d, name)) != NULL) {
		adopted[c - d->clusters] = true;
		watchdog_adopt(d, c, json_object_get(v, "sticky"),
			       (long long)json_integer_value(json_object_get(v, "auto_failover_at_us")));
		if (json_is_array(json_object_get(v, "held")))   /* written by a member that keeps it */
			held_adopt(d, c, json_object_get(v, "held"));
		if (json_object_get(v, "watch"))
			afterwatch_adopt(d, c, json_object_get(v, "watch"));
	}
	return true;
}

/* This member's own journals, read and parsed in a thread (a journal is up to a few MiB: the
 * loop goes on polling and answering meanwhile; the member answers BUSY until it is done). */
struct local_read {
	struct ha_journal *j;
	unsigned gen;                   /* the term it was read for */
	size_t etcd_runs;               /* for the log line */
	char *state_dir;                /* owned */
	size_t n;
	char **names;                   /* owned: the clusters' */
	json_t **all, **by;             /* owned, per cluster: the journal as read, and its runs */
};

static void *read_local_work(void *arg)
{
	struct local_read *lr = arg;
	size_t i;

	for (i = 0; i < lr->n; i++) {
		lr->all[i] = journal_read(lr->state_dir, lr->names[i]);
		lr->by[i] = journal_by_cutover(lr->all[i]);
	}
	return lr;
}

static void local_read_free(struct local_read *lr)
{
	size_t i;

	for (i = 0; i < lr->n; i++) {
		free(lr->names[i]);
		json_decref(lr->all[i]);
		json_decref(lr->by[i]);
	}
	free(lr->names);
	free(lr->all);
	free(lr->by);
	free(lr->state_dir);
	free(lr);
}

static void read_local(struct ha_journal *j, size_t etcd_runs);

/* On the loop: each journal in line with etcd's, then the recovery a restart would do. */
static void read_local_done(void *result, void *arg)
{
	struct local_read *lr = arg;
	struct ha_journal *j = lr->j;
	struct daemon *d = j->h->d;
	size_t i;

	(void)result;
	if (lr->gen != j->gen || *j->lost || j->h->role != HA_LEADER) {
		local_read_free(lr);   /* the term ended meanwhile */
		return;
	}
	for (i = 0; i < lr->n && lr->n == d->n_clusters; i++)
		if (strcmp(lr->names[i], d->clusters[i].cfg->name))
			break;
	if (lr->n != d->n_clusters || i < lr->n) {
		size_t runs = lr->etcd_runs;
		local_read_free(lr);   /* a reload changed the clusters meanwhile: read them again */
		read_local(j, runs);
		return;
	}
	for (i = 0; i < d->n_clusters; i++) {
		struct cluster *c = &d->clusters[i];
		if (reconcile(j, c, lr->all[i], lr->by[i])) {
			json_decref(lr->by[i]);
			lr->by[i] = journal_by_cutover(lr->all[i]);
		}
	}
	j->h->recovered = true;
	log_notice("ha: member %s leads: etcd's journal read (%zu cutover record(s)); interrupted work is taken up",
		   d->cfg->ha.name, lr->etcd_runs);
	/* what a restart would do, on the journal now in line with etcd's */
	for (i = 0; i < d->n_clusters; i++)
		recover_cluster(d, &d->clusters[i], lr->by[i]);
	local_read_free(lr);
	daemon_update_sd_status(d);
}

static void read_local(struct ha_journal *j, size_t etcd_runs)
{
	struct daemon *d = j->h->d;
	struct local_read *lr = xcalloc(1, sizeof(*lr));
	size_t i;

	lr->j = j;
	lr->gen = j->gen;
	lr->etcd_runs = etcd_runs;
	lr->state_dir = xstrdup(d->cfg->state_dir);
	lr->n = d->n_clusters;
	lr->names = xcalloc(lr->n + 1, sizeof(*lr->names));
	lr->all = xcalloc(lr->n + 1, sizeof(*lr->all));
	lr->by = xcalloc(lr->n + 1, sizeof(*lr->by));
	for (i = 0; i < lr->n; i++)
		lr->names[i] = xstrdup(d->clusters[i].cfg->name);
	if (offload_run(d->base, read_local_work, read_local_done, lr) < 0) {
		log_warn("ha: no thread to read this member's journal in: reading it on the loop");
		read_local_done(read_local_work(lr), lr);
	}
}

static void read_done(struct ha_journal *j, struct etcd_result *res)
{
	struct daemon *d = j->h->d;
	size_t i, n = 0;
	bool *adopted = xcalloc(d->n_clusters + 1, sizeof(*adopted));

	for (i = 0; i < res->n_kvs; i++) {
		json_t *v = json_loads(res->kvs[i].value, 0, NULL);
		const char *id = json_string_value(json_object_get(v, "id"));
		if (json_is_object(v) && adopt_watchdog(j, res->kvs[i].key, v, adopted)) {
			json_decref(v);
			continue;
		}
		if (id && json_is_array(json_object_get(v, "entries"))) {
			run_new(j, res->kvs[i].key, id, json_incref(json_object_get(v, "entries")));
			n++;
		} else {
			log_warn("ha: etcd key %s is not a journal record; left alone", res->kvs[i].key);
		}
		json_decref(v);
	}
	for (i = 0; i < d->n_clusters; i++) {
		if (!adopted[i] && (d->clusters[i].n_sticky || d->clusters[i].n_held || d->clusters[i].watch)) {
			/* etcd has none yet: what this member knows is the deployment's from now on */
			json_t *e = json_pack("{s:s, s:s}", "cluster", d->clusters[i].cfg->name, "event", "sticky_fence");
			record_watchdog(j, d->clusters[i].cfg->name, e);
			json_decref(e);
		}
	}
	free(adopted);
	read_local(j, n);
}

/* ------------------------------------------------------------------------------------------ */
/* writing */

static void answered(struct etcd *e, struct etcd_result *res, void *arg)
{
	struct ha_journal *j = arg;
	struct hj_op *op = TAILQ_FIRST(&j->ops);

	(void)e;
	j->sending = false;
	if (j->sent_gen != j->gen || !op) {
		kick(j);   /* an answer from a term that has ended */
		return;
	}
	if (res->err) {
		struct timeval tv = { 0, HJ_RETRY_MS * 1000 };
		if (!j->errors++ || strcmp(j->last_error, res->errmsg))
			log_warn("ha: writing the journal to etcd: %s (again in %d ms)", res->errmsg, HJ_RETRY_MS);
		snprintf(j->last_error, sizeof(j->last_error), "%s", res->errmsg);
		evtimer_add(j->retry, &tv);
		return;
	}
	if (!op->value) {
		j->done = op->seq;
		op_free(j, op);
		read_done(j, res);
		kick(j);
		return;
	}
	if (!res->succeeded) {
		char why[200];
		snprintf(why, sizeof(why), "etcd refused a journal write: the leader key is no longer the one this member "
			 "created (token %lld)", j->h->token);
		ha_deposed(j->h, why);
		return;
	}
	j->writes++;
	j->last_write_ms = (double)(now_mono_us() - j->sent_us) / 1000.0;
	j->last_error[0] = '\0';
	j->done = op->seq;
	op_free(j, op);
	event_active(j->tell, 0, 0);
	kick(j);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kick(arg);
}

static void kick(struct ha_journal *j)
{
	struct hj_op *op = TAILQ_FIRST(&j->ops);
	int rc;

	if (j->sending || !op || evtimer_pending(j->retry, NULL) || etcd_busy(j->e))
		return;
	j->sending = true;
	j->sent_gen = j->gen;
	j->sent_us = now_mono_us();
	if (op->value)
		rc = etcd_put_guarded(j->e, j->h->key, j->h->token, j->h->me, op->key, op->value, answered, j);
	else
		rc = etcd_get_prefix(j->e, op->key, answered, j);
	if (rc < 0)
		j->sending = false;
}

/* ------------------------------------------------------------------------------------------ */

void hj_begin_term(struct ha_journal *j)
{
	struct hj_run *r;

	j->lost[0] = '\0';
	while ((r = TAILQ_FIRST(&j->runs)))
		run_free(j, r);
	j->seq = j->done = 0;
	j->seq++;
	{
		char *prefix = xasprintf("%s/journal/", j->h->d->cfg->ha.prefix);
		enqueue(j, prefix, NULL);
		free(prefix);
	}
	kick(j);
}

void hj_lost(struct ha_journal *j, const char *why)
{
	struct hj_op *op;
	struct hj_run *r;

	j->gen++;
	snprintf(j->lost, sizeof(j->lost), "this member no longer leads: %s", why);
	/* the one out (if any) is left to answer into the next term, which ignores it */
	while ((op = TAILQ_FIRST(&j->ops)))
		op_free(j, op);
	while ((r = TAILQ_FIRST(&j->runs)))
		run_free(j, r);
	evtimer_del(j->retry);
	if (!TAILQ_EMPTY(&j->waiters))
		event_active(j->tell, 0, 0);
}

json_t *ha_journal_json(const struct ha *h)
{
	const struct ha_journal *j = h->hj;
	size_t queued = 0;
	const struct hj_op *op;

	TAILQ_FOREACH(op, &j->ops, entry)
		queued++;
	return json_pack("{s:I, s:I, s:I, s:f, s:I, s:s?}", "records", (json_int_t)j->seq, "written",
			 (json_int_t)j->done, "queued_writes", (json_int_t)queued, "last_write_ms", j->last_write_ms,
			 "write_errors", (json_int_t)j->errors, "last_error", *j->last_error ? j->last_error : NULL);
}

struct ha_journal *hj_new(struct ha *h, char *err, size_t errlen)
{
	const struct cfg_ha *c = &h->d->cfg->ha;
	struct ha_journal *j = xcalloc(1, sizeof(*j));

	j->h = h;
	j->e = etcd_new(h->d->base, (const char *const *)c->etcd, c->n_etcd, c->lease_ttl_ms / 3, err, errlen);
	if (!j->e) {
		free(j);
		return NULL;
	}
	etcd_set_source(j->e, c->source);
	TAILQ_INIT(&j->ops);
	TAILQ_INIT(&j->runs);
	TAILQ_INIT(&j->waiters);
	snprintf(j->lost, sizeof(j->lost), "this member does not lead");
	j->retry = evtimer_new(h->d->base, retry_cb, j);
	j->tell = event_new(h->d->base, -1, 0, tell_cb, j);
	journal_set_mirror(record, j);
	return j;
}

void hj_free(struct ha_journal *j)
{
	struct hj_op *op;
	struct hj_run *r;
	struct hj_waiter *w;

	if (!j)
		return;
	journal_set_mirror(NULL, NULL);
	while ((op = TAILQ_FIRST(&j->ops)))
		op_free(j, op);
	while ((r = TAILQ_FIRST(&j->runs)))
		run_free(j, r);
	while ((w = TAILQ_FIRST(&j->waiters))) {
		TAILQ_REMOVE(&j->waiters, w, entry);
		free(w);
	}
	event_free(j->retry);
	event_free(j->tell);
	etcd_free(j->e);
	free(j);
}
