/* The HAProxy driver's switchover steps (router_haproxy.c has the socket and the poll).
 *
 * A switchover moves the write backend's traffic: drain marks the old primary DRAIN, promote
 * sets the new one ready and the old one MAINT and shuts its sessions, in one line so there is
 * no moment with two writers or none; rollback puts both back to the admin states they had
 * before drain (read with "show stat" in the same line as the drain).  Weights are never
 * changed, so never restored: the weight column is the effective weight, which a slowstart
 * would have made wrong to write back. */
#include <stdlib.h>
#include <string.h>

#include "haproxy_parse.h"
#include "router.h"
#include "router_haproxy_impl.h"
#include "util.h"

static int hx_names(struct router *r, const struct router_switch *sw);
static void hx_remember(struct router *r, bool parsed);
static bool hx_remembered_pair(const struct hx_priv *p);
static const struct router_backend *hx_find(const struct router_view *v, const char *backend,
					    const char *name);
static void hx_drain_reply(struct router *r, const char *reply, const char *ioerr);
static int hx_promote_precheck(struct router *r);
static void hx_promote_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_promote_verify(struct router *r, const char *reply, const char *ioerr);
static void hx_rollback_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_undrain_look(struct router *r, const char *reply, const char *ioerr);
static void hx_undrain_reply(struct router *r, const char *reply, const char *ioerr);
static void hx_rollback_verify(struct router *r, const char *reply, const char *ioerr);

static const struct router_backend *hx_find(const struct router_view *v, const char *backend,
					    const char *name)
{
	size_t i, blen = strlen(backend);

	for (i = 0; i < v->n; i++) {
		const char *full = v->be[i].name;

		if (v->be[i].writer && !strncmp(full, backend, blen) && full[blen] == '/' &&
		    !strcmp(full + blen + 1, name))
			return &v->be[i];
	}
	return NULL;
}

/* HAProxy's names for the switch's servers, into p->old_name / p->new_name. */
static int hx_names(struct router *r, const struct router_switch *sw)
{
	struct hx_priv *p = r->priv;
	const struct cfg_server *s[2] = { sw->old_primary, sw->new_primary };
	char *dst[2] = { p->old_name, p->new_name };
	int i;

	for (i = 0; i < 2; i++) {
		const char *name = s[i] ? hx_name_of(r->cfg, s[i]->name) : NULL;

		if (!s[i]) {
			hx_defer_done(r, 1, "haproxy router '%s': no %s primary given", r->cfg->name,
				      i ? "new" : "old");
			return -1;
		}
		if (!name) {
			hx_defer_done(r, 1, "haproxy router '%s': server '%s' has no HAProxy name "
				      "(not in cluster '%s' or the server_map)", r->cfg->name,
				      s[i]->name, r->cfg->cluster);
			return -1;
		}
		if (!hx_valid_name(name)) {
			hx_defer_done(r, 1, "haproxy router '%s': HAProxy name '%s' of server '%s' has "
				      "characters HAProxy does not accept", r->cfg->name, name, s[i]->name);
			return -1;
		}
		strlcpy_(dst[i], name, sizeof(p->old_name));
	}
	strlcpy_(p->id, sw->id ? sw->id : "", sizeof(p->id));
	return 0;
}

/* Remember the admin states the change starts from (from the view just parsed).  A server
 * missing from the backend is left alone; a failed parse leaves the old primary "ready" (it was
 * the writer) and the new one alone. */
static void hx_remember(struct router *r, bool parsed)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o = NULL, *n = NULL;
	const char *w;

	if (parsed) {
		o = hx_find(&r->view, r->cfg->backend, p->old_name);
		n = hx_find(&r->view, r->cfg->backend, p->new_name);
	}
	w = o ? hx_admin_word(o->state) : parsed ? NULL : "ready";
	strlcpy_(p->mem_old_word, w ? w : "", sizeof(p->mem_old_word));
	w = n ? hx_admin_word(n->state) : NULL;
	strlcpy_(p->mem_new_word, w ? w : "", sizeof(p->mem_new_word));
	strlcpy_(p->mem_old, p->old_name, sizeof(p->mem_old));
	strlcpy_(p->mem_new, p->new_name, sizeof(p->mem_new));
	strlcpy_(p->mem_id, p->id, sizeof(p->mem_id));
	p->remembered = true;
}

/* Whether the states to restore were taken by this switchover for this pair: a retried step
 * must not remember its own half-done change as the original. */
static bool hx_remembered_pair(const struct hx_priv *p)
{
	return p->remembered && p->id[0] && !strcmp(p->id, p->mem_id) &&
	       !strcmp(p->mem_old, p->old_name) && !strcmp(p->mem_new, p->new_name);
}

void hx_drain(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_DRAIN, cb, arg) || hx_names(r, sw) < 0)
		return;
	p->line_has_snapshot = !hx_remembered_pair(p);
	line = hx_cmd_drain(r->cfg->backend, p->old_name, p->line_has_snapshot);
	hx_send(r, line, hx_drain_reply);
	free(line);
}

static void hx_drain_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	size_t first = 0;
	bool parsed = true;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (p->line_has_snapshot) {
		parsed = hx_take_view(r, reply, 0) == 0;
		hx_remember(r, parsed);
		first = 1;
	}
	if (hx_reply_check(reply, first, 1, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': set server %s/%s state drain: %s", r->cfg->name,
			r->cfg->backend, p->old_name, why);
		return;
	}
	if (!parsed) {
		hx_done(r, 1, "haproxy router '%s': %s/%s drained, but the states to roll back to are "
			"unknown: %s", r->cfg->name, r->cfg->backend, p->old_name, r->view.error);
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s/%s drained (was %s)", r->cfg->name, r->cfg->backend,
		p->old_name, p->mem_old_word[0] ? p->mem_old_word : "unknown");
}

void hx_promote(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_PROMOTE, cb, arg) || hx_names(r, sw) < 0 || hx_promote_precheck(r) < 0)
		return;
	p->line_has_snapshot = !hx_remembered_pair(p);
	line = hx_cmd_promote(r->cfg->backend, p->new_name, p->old_name, p->line_has_snapshot);
	hx_send(r, line, hx_promote_reply);
	free(line);
}

/* HAProxy runs the promote line's commands one by one even after one fails: a new primary it
 * does not have would leave the old one in MAINT and the endpoint without a writer.  When the
 * last `show stat` lists the write backend, refuse before sending anything. */
static int hx_promote_precheck(struct router *r)
{
	struct hx_priv *p = r->priv;
	const char *missing = NULL, *who = NULL;

	if (!r->view.reachable || r->view.polled_ms == 0 || !router_writer(&r->view, NULL))
		return 0;
	if (!hx_find(&r->view, r->cfg->backend, p->new_name)) {
		missing = p->new_name;
		who = "new";
	} else if (!hx_find(&r->view, r->cfg->backend, p->old_name)) {
		missing = p->old_name;
		who = "old";
	}
	if (!missing)
		return 0;
	hx_defer_done(r, 1, "haproxy router '%s': %s primary %s/%s is not in backend %s (as of the "
		      "last 'show stat'); nothing changed", r->cfg->name, who, r->cfg->backend, missing,
		      r->cfg->backend);
	return -1;
}

static void hx_promote_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	size_t first = 0;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (p->line_has_snapshot) {
		hx_remember(r, hx_take_view(r, reply, 0) == 0);
		first = 1;
	}
	if (hx_reply_check(reply, first, 3, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': switching %s from %s to %s: %s", r->cfg->name,
			r->cfg->backend, p->old_name, p->new_name, why);
		return;
	}
	hx_send(r, "show stat", hx_promote_verify);
}

static void hx_promote_verify(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o, *n;

	if (!reply) {
		hx_done(r, 1, "%s (reading back the promote)", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading back the promote: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->old_name);
	n = hx_find(&r->view, r->cfg->backend, p->new_name);
	if (!n || !n->admin_up || !o || o->admin_up) {
		hx_done(r, 1, "haproxy router '%s': after promote %s/%s is %s and %s/%s is %s "
			"(wanted ready and MAINT)", r->cfg->name, r->cfg->backend, p->new_name,
			n ? n->state : "missing", r->cfg->backend, p->old_name, o ? o->state : "missing");
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s now sends writes to %s (%s), %s is %s", r->cfg->name,
		r->cfg->backend, p->new_name, n->state, p->old_name, o->state);
}

void hx_rollback(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;
	char *line;

	if (!hx_begin(r, RSTEP_ROLLBACK, cb, arg))
		return;
	if (!p->remembered) {
		/* Nothing ran here, or cutoverd restarted after a drain (recovery rolls back only
		 * switchovers interrupted before promote).  The old primary was the writer when the
		 * switch began: undo a drain on it, touch nothing else. */
		if (hx_names(r, sw) == 0)
			hx_send(r, "show stat", hx_undrain_look);
		return;
	}
	line = hx_cmd_rollback(r->cfg->backend, p->mem_old, p->mem_old_word[0] ? p->mem_old_word : NULL,
			       p->mem_new, p->mem_new_word[0] ? p->mem_new_word : NULL);
	if (!line || !*line) {
		free(line);
		p->remembered = false;
		hx_defer_done(r, 0, "haproxy router '%s': nothing to restore (states were unknown)",
			      r->cfg->name);
		return;
	}
	hx_send(r, line, hx_rollback_reply);
	free(line);
}

static void hx_rollback_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	char why[512];
	size_t n;

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	n = hx_cmd_count(p->line);
	if (hx_reply_check(reply, 0, n, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': rollback '%s': %s", r->cfg->name, p->line, why);
		return;
	}
	hx_send(r, "show stat", hx_rollback_verify);
}

static void hx_rollback_verify(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o, *n;
	bool ok_o, ok_n;

	if (!reply) {
		hx_done(r, 1, "%s (reading back the rollback)", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading back the rollback: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->mem_old);
	n = hx_find(&r->view, r->cfg->backend, p->mem_new);
	ok_o = !p->mem_old_word[0] || (o && hx_status_is(o->state, p->mem_old_word));
	ok_n = !p->mem_new_word[0] || (n && hx_status_is(n->state, p->mem_new_word));
	if (!ok_o || !ok_n) {
		hx_done(r, 1, "haproxy router '%s': after rollback %s/%s is %s (wanted %s) and %s/%s "
			"is %s (wanted %s)", r->cfg->name, r->cfg->backend, p->mem_old,
			o ? o->state : "missing", p->mem_old_word, r->cfg->backend, p->mem_new,
			n ? n->state : "missing", p->mem_new_word[0] ? p->mem_new_word : "unchanged");
		return;
	}
	p->remembered = false;
	hx_done(r, 0, "haproxy router '%s': %s back to %s, %s back to %s", r->cfg->name, p->mem_old,
		p->mem_old_word[0] ? p->mem_old_word : "unchanged", p->mem_new,
		p->mem_new_word[0] ? p->mem_new_word : "unchanged");
}

static void hx_undrain_look(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	const struct router_backend *o;
	char *line;

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (hx_take_view(r, reply, 0) < 0) {
		hx_done(r, 1, "haproxy router '%s': reading states for rollback: %s", r->cfg->name,
			r->view.error);
		return;
	}
	o = hx_find(&r->view, r->cfg->backend, p->old_name);
	/* A drained server that fails its checks shows DOWN, not DRAIN. */
	if (!o || (strncmp(o->state, "DRAIN", 5) != 0 && strncmp(o->state, "DOWN", 4) != 0)) {
		hx_done(r, 0, "haproxy router '%s': nothing to roll back (%s/%s is %s)", r->cfg->name,
			r->cfg->backend, p->old_name, o ? o->state : "not in the backend");
		return;
	}
	strlcpy_(p->undrain_was, o->state, sizeof(p->undrain_was));
	line = hx_cmd_rollback(r->cfg->backend, p->old_name, "ready", p->new_name, NULL);
	hx_send(r, line, hx_undrain_reply);
	free(line);
}

static void hx_undrain_reply(struct router *r, const char *reply, const char *ioerr)
{
	struct hx_priv *p = r->priv;
	char why[512];

	if (!reply) {
		hx_done(r, 1, "%s", ioerr);
		return;
	}
	if (hx_reply_check(reply, 0, 1, why, sizeof(why)) < 0) {
		hx_done(r, 1, "haproxy router '%s': rollback '%s': %s", r->cfg->name, p->line, why);
		return;
	}
	hx_done(r, 0, "haproxy router '%s': %s/%s was %s, set ready (no states remembered from the "
		"drain)", r->cfg->name, r->cfg->backend, p->old_name, p->undrain_was);
}

/* Nothing to persist: the runtime API is the state.  (A reload of HAProxy restores its
 * configuration file's states unless the operator uses server-state-file.) */
void hx_finalize(struct router *r, const struct router_switch *sw, router_cb cb, void *arg)
{
	struct hx_priv *p = r->priv;

	if (!hx_begin(r, RSTEP_FINALIZE, cb, arg))
		return;
	p->remembered = false;
	hx_defer_done(r, 0, "haproxy router '%s': nothing to finalize", r->cfg->name);
}
