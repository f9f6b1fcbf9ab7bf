/* The leader election through etcd (see ha.h). */
#include "ha.h"
#include "ha_impl.h"
#include "daemon.h"
#include "db.h"
#include "etcd.h"
#include "job.h"
#include "log.h"
#include "shift.h"
#include "switchover.h"
#include "tenant.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void round_cb(evutil_socket_t fd, short what, void *arg);

static int ttl_ms(const struct ha *h)
{
	return h->d->cfg->ha.lease_ttl_ms;
}

const char *ha_role_name(enum ha_role r)
{
	static const char *const names[] = { "off", "candidate", "leader", "follower" };
	return names[r];
}

enum ha_role ha_role(const struct ha *h)
{
	return h ? h->role : HA_OFF;
}

bool ha_acting(const struct ha *h)
{
	return !h || (h->role == HA_LEADER && h->recovered && now_mono_us() < h->valid_until_us);
}

static bool acting_check(void *arg)
{
	return ha_acting(arg);
}

const char *ha_leader(const struct ha *h)
{
	return h ? h->leader : "";
}

const char *ha_leader_address(const struct ha *h)
{
	return h ? h->leader_addr : "";
}

const char *ha_last_error(const struct ha *h)
{
	return h ? h->last_error : "";
}

json_t *ha_json(const struct ha *h)
{
	int64_t left = h->valid_until_us - now_mono_us();

	return json_pack("{s:s, s:s, s:s?, s:s?, s:b, s:i, s:I, s:I, s:s, s:b, s:s?, s:o}", "role", ha_role_name(h->role), "name",
			 h->d->cfg->ha.name, "leader", *h->leader ? h->leader : NULL, "leader_address",
			 *h->leader_addr ? h->leader_addr : NULL, "acting", ha_acting(h), "lease_ttl_ms", ttl_ms(h),
			 "valid_for_ms", (json_int_t)(h->role == HA_LEADER && left > 0 ? left / 1000 : 0), "token",
			 (json_int_t)(h->role == HA_LEADER ? h->token : 0), "etcd", etcd_endpoint(h->e), "etcd_ok", h->etcd_ok,
			 "last_error", *h->last_error ? h->last_error : NULL, "journal", ha_journal_json(h));
}

static void arm(struct ha *h, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	evtimer_add(h->timer, &tv);
}

static void event_of(struct ha *h, const char *msg)
{
	char ts[40];
	json_t *ev;

	iso_time(now_real_us(), ts, sizeof(ts));
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "ts", ts, "type", "ha", "role", ha_role_name(h->role), "member",
		       h->d->cfg->ha.name, "message", msg);
	daemon_publish(h->d, ev);
	json_decref(ev);
}

/* Leading ended: each cutover, shift and tenant move under way is left as it stands. */
static void stop_work(struct ha *h, const char *why)
{
	size_t i;

	for (i = 0; i < h->d->n_clusters; i++) {
		struct cluster *c = &h->d->clusters[i];
		if (c->cutover)
			switchover_handover(c->cutover, why);
		shift_handover(h->d, c, why);
		tenant_handover(h->d, c, why);
	}
}

static void set_role(struct ha *h, enum ha_role r, const char *why)
{
	char msg[500];
	enum ha_role was;

	if (h->role == r)
		return;
	snprintf(msg, sizeof(msg), "%s -> %s (%s)", ha_role_name(h->role), ha_role_name(r), why);
	log_notice("ha: member %s: %s", h->d->cfg->ha.name, msg);
	was = h->role;
	h->role = r;
	if (r != HA_LEADER) {
		h->token = 0;
		h->recovered = false;
		evtimer_del(h->expiry);
	}
	event_of(h, msg);
	if (was == HA_LEADER) {
		char stopped[600];
		/* the work under way stops where it is: the next leader finishes or rolls it back
		 * from etcd's journal, and nothing this member still has queued is written */
		hj_lost(h->hj, why);
		/* an exec router's step, a fence hook or STONITH that is running stops too */
		snprintf(stopped, sizeof(stopped), "this member stopped leading (%s)", why);
		if (job_stop_acting(stopped))
			log_warn("ha: member %s: killed the programs acting for the leader (router steps, fence hooks)",
				 h->d->cfg->ha.name);
		stop_work(h, why);
	}
	daemon_update_sd_status(h->d);
}

/* The leadership is valid until the send time of the renewal etcd confirmed, plus the TTL,
 * minus a quarter of it: etcd cannot expire the lease before. */
static void extend(struct ha *h, int64_t sent_us)
{
	struct timeval tv;
	int64_t until = sent_us + (int64_t)ttl_ms(h) * 1000 - (int64_t)ttl_ms(h) * 250, left;

	if (until <= h->valid_until_us)
		return;
	h->valid_until_us = until;
	left = until - now_mono_us();
	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000000;
	tv.tv_usec = left % 1000000;
	evtimer_add(h->expiry, &tv);
}

static void expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ha *h = arg;

	(void)fd;
	(void)what;
	if (h->role != HA_LEADER)
		return;
	if (now_mono_us() < h->valid_until_us) {
		/* the timer's clock ran a little ahead of ours: look again when it is really over */
		int64_t left = h->valid_until_us - now_mono_us() + 1000;
		struct timeval tv = { left / 1000000, left % 1000000 };
		evtimer_add(h->expiry, &tv);
		return;
	}
	h->lease = 0;   /* it may be gone in etcd by now: a new one next time */
	h->leader[0] = h->leader_addr[0] = '\0';   /* unknown until etcd says */
	set_role(h, HA_CANDIDATE, "the lease was not renewed in time: this member stops acting before it can expire in etcd");
}

static void fail_round(struct ha *h, const char *what, const struct etcd_result *r)
{
	snprintf(h->last_error, sizeof(h->last_error), "%s: %s", what, r->errmsg);
	if (h->etcd_ok)
		log_warn("ha: member %s: %s", h->d->cfg->ha.name, h->last_error);
	h->etcd_ok = false;
	if (h->role == HA_FOLLOWER)
		set_role(h, HA_CANDIDATE, "etcd does not answer: the leader is unknown");
	/* a leader keeps acting until its valid time ends (expiry_cb) */
}

static void leader_of(struct ha *h, const struct etcd_kv *kv)
{
	json_t *v = json_loads(kv->value, 0, NULL);
	snprintf(h->leader, sizeof(h->leader), "%s", json_string_value(json_object_get(v, "name")) ?: "?");
	snprintf(h->leader_addr, sizeof(h->leader_addr), "%s", json_string_value(json_object_get(v, "address")) ?: "");
	json_decref(v);
}

static void became_leader(struct ha *h, long long token)
{
	h->token = token;
	snprintf(h->leader, sizeof(h->leader), "%s", h->d->cfg->ha.name);
	snprintf(h->leader_addr, sizeof(h->leader_addr), "%s", h->d->cfg->ha.address);
	set_role(h, HA_LEADER, "it holds the leader key");
	/* it acts once etcd's journal has been read and what it left interrupted taken up */
	hj_begin_term(h->hj);
}

void ha_deposed(struct ha *h, const char *why)
{
	if (h->role != HA_LEADER)
		return;
	h->leader[0] = h->leader_addr[0] = '\0';
	set_role(h, HA_CANDIDATE, why);
	arm(h, 0);
}

static void created(struct etcd *e, struct etcd_result *r, void *arg)
{
	struct ha *h = arg;

	(void)e;
	if (r->err) {
		fail_round(h, "creating the leader key", r);
	} else if (r->succeeded) {
		h->etcd_ok = true;
		h->last_error[0] = '\0';
		extend(h, h->sent_us);
		became_leader(h, r->revision);
	} else if (r->n_kvs) {
		h->etcd_ok = true;
		leader_of(h, &r->kvs[0]);
		set_role(h, HA_FOLLOWER, "another member holds the leader key");
	}
	arm(h, ttl_ms(h) / 3);
}

static void granted(struct etcd *e, struct etcd_result *r, void *arg)
{
	struct ha *h = arg;

	(void)e;
	if (r->err || !r->lease_id) {
		fail_round(h, "a lease", r);
		arm(h, ttl_ms(h) / 3);
		return;
	}
	h->lease = r->lease_id;
	/* h->sent_us stays the grant's send time: the lease's clock started after it, not before */
	etcd_create(h->e, h->key, h->me, h->lease, created, h);
}

static void looked(struct etcd *e, struct etcd_result *r, void *arg)
{
	struct ha *h = arg;

	(void)e;
	if (r->err) {
		fail_round(h, "reading the leader key", r);
		arm(h, ttl_ms(h) / 3);
		return;
	}
	h->etcd_ok = true;
	h->last_error[0] = '\0';
	if (r->n_kvs) {
		leader_of(h, &r->kvs[0]);
		set_role(h, HA_FOLLOWER, "another member holds the leader key");
		arm(h, ttl_ms(h) / 3);
		return;
	}
	/* no leader: campaign with a fresh lease */
	h->sent_us = now_mono_us();
	etcd_lease_grant(h->e, (ttl_ms(h) + 999) / 1000, granted, h);
}

/* After a renewal: the leader key still this member's, with the token it created it with (a key
 * deleted or rewritten by hand is not this member's leadership any more). */
static void verified(struct etcd *e, struct etcd_result *r, void *arg)
{
	struct ha *h = arg;

	(void)e;
	if (r->err) {
		fail_round(h, "reading the leader key", r);
	} else if (!r->n_kvs || r->kvs[0].create_revision != h->token || strcmp(r->kvs[0].value, h->me)) {
		if (r->n_kvs)
			leader_of(h, &r->kvs[0]);
		else
			h->leader[0] = h->leader_addr[0] = '\0';
		set_role(h, r->n_kvs ? HA_FOLLOWER : HA_CANDIDATE, "the leader key is no longer the one this member created");
	} else {
		h->last_error[0] = '\0';
		extend(h, h->renew_sent_us);
	}
	arm(h, h->role == HA_LEADER ? ttl_ms(h) / 3 : 0);
}

static void renewed(struct etcd *e, struct etcd_result *r, void *arg)
{
	struct ha *h = arg;

	(void)e;
	if (r->err) {
		fail_round(h, "renewing the lease", r);
	} else if (r->ttl <= 0) {
		h->etcd_ok = true;
		h->lease = 0;
		h->leader[0] = h->leader_addr[0] = '\0';
		set_role(h, HA_CANDIDATE, "etcd says the lease is gone");
	} else {
		/* the lease lives; whether the key is still this member's is read next: extended then */
		h->etcd_ok = true;
		h->renew_sent_us = h->sent_us;
		etcd_get(h->e, h->key, verified, h);
		return;
	}
	arm(h, h->role == HA_LEADER ? ttl_ms(h) / 3 : 0);
}

static void round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ha *h = arg;

	(void)fd;
	(void)what;
	if (etcd_busy(h->e)) {
		arm(h, 50);
		return;
	}
	h->sent_us = now_mono_us();
	if (h->role == HA_LEADER && h->lease)
		etcd_lease_keepalive(h->e, h->lease, renewed, h);
	else
		etcd_get(h->e, h->key, looked, h);
}

struct ha *ha_start(struct daemon *d, char *err, size_t errlen)
{
	const struct cfg_ha *c = &d->cfg->ha;
	struct ha *h;

	if (!c->on)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->d = d;
	/* a call's deadline: a third of the TTL, so that a renewal that does not answer leaves time for another */
	h->e = etcd_new(d->base, (const char *const *)c->etcd, c->n_etcd, c->lease_ttl_ms / 3, err, errlen);
	if (!h->e) {
		free(h);
		return NULL;
	}
	etcd_set_source(h->e, c->source);
	h->key = xasprintf("%s/leader", c->prefix);
	{
		json_t *v = json_pack("{s:s, s:s}", "name", c->name, "address", c->address ? c->address : "");
		h->me = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(v);
	}
	h->hj = hj_new(h, err, errlen);
	if (!h->hj) {
		etcd_free(h->e);
		free(h->key);
		free(h->me);
		free(h);
		return NULL;
	}
	db_set_acting_check(acting_check, h);
	h->role = HA_CANDIDATE;
	h->timer = evtimer_new(d->base, round_cb, h);
	h->expiry = evtimer_new(d->base, expiry_cb, h);
	log_notice("ha: member %s of %s, etcd %s…, lease %d ms", c->name, c->prefix, c->etcd[0], c->lease_ttl_ms);
	arm(h, 0);
	return h;
}

void ha_free(struct ha *h)
{
	if (!h)
		return;
	if (h->timer)
		event_free(h->timer);
	if (h->expiry)
		event_free(h->expiry);
	db_set_acting_check(NULL, NULL);
	hj_free(h->hj);
	etcd_free(h->e);
	free(h->key);
	free(h->me);
	free(h);
}
