/* Unit tests for metrics.c: the /metrics text from a hand-made daemon (two clusters, servers
 * up, down and never polled, a router, switchover counters, alarms, API counters with a
 * command name that needs escaping) is checked line by line against the Prometheus text
 * exposition format 0.0.4 by a small parser of its own, then value by value; and the HTTP
 * listener answers /metrics, /healthz, unknown paths and methods, and moves on a reload.
 * The parser is tested on broken texts too, so that a pass means something. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "event_hooks.h"
#include "held.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "stats.h"
#include "switchover.h"
#include "util.h"
#include "watchdog.h"

Suite *metrics_suite(void);

#define MAX_LABELS 8
#define WEIRD_CLUSTER "we\"ird\\clu\nster"
#define WEIRD_CMD "x\"y\\z\nw"

/* ------------------------------------------------------------------------------------------ */
/* an exposition-format parser */

struct psample {
	char *name;
	size_t nl;
	char *k[MAX_LABELS], *v[MAX_LABELS];   /* unescaped */
	double value;
	int line;
};

struct pfamily {
	char *name;
	char type[16];
	bool help, typed, has_samples;
};

struct parsed {
	struct psample *s;
	size_t n;
	struct pfamily *f;
	size_t nf;
	char err[512];      /* "" when the text is valid */
};

static void perr(struct parsed *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(struct parsed *p, int line, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (*p->err)
		return;   /* the first error is the one worth reading */
	off = snprintf(p->err, sizeof(p->err), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(p->err + off, sizeof(p->err) - (size_t)off, fmt, ap);
	va_end(ap);
}

static bool metric_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

static bool label_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_') || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return false;
	for (i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static bool value_ok(const char *s, double *v)
{
	char *end;

	if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN")) {
		*v = !strcmp(s, "NaN") ? NAN : s[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	if (!*s || isspace((unsigned char)*s) || !strncasecmp(s, "inf", 3) || !strncasecmp(s, "nan", 3) ||
	    strchr(s, 'x') || strchr(s, 'X'))
		return false;
	errno = 0;
	*v = strtod(s, &end);
	return !*end && !errno;
}

static struct pfamily *pfamily_get(struct parsed *p, const char *name, size_t len, bool create)
{
	size_t i;

	for (i = 0; i < p->nf; i++)
		if (strlen(p->f[i].name) == len && !strncmp(p->f[i].name, name, len))
			return &p->f[i];
	if (!create)
		return NULL;
	p->f = xrealloc(p->f, (p->nf + 1) * sizeof(*p->f));
	memset(&p->f[p->nf], 0, sizeof(p->f[0]));
	p->f[p->nf].name = strndup(name, len);
	return &p->f[p->nf++];
}

static void comment_line(struct parsed *p, int ln, const char *l, struct pfamily **cur)
{
	const char *name, *sp;
	struct pfamily *f;
	bool help = !strncmp(l, "# HELP ", 7), type = !strncmp(l, "# TYPE ", 7);

	if (!help && !type)
		return;   /* an ordinary comment */
	name = l + 7;
	sp = strchr(name, ' ');
	if (!sp || !metric_name_ok(name, (size_t)(sp - name))) {
		perr(p, ln, "bad metric name in '%s'", l);
		return;
	}
	f = pfamily_get(p, name, (size_t)(sp - name), true);
	if (f->has_samples) {
		perr(p, ln, "%s of %s after its samples", help ? "HELP" : "TYPE", f->name);
		return;
	}
	if (help) {
		if (f->help)
			perr(p, ln, "second HELP for %s", f->name);
		f->help = true;
	} else {
		const char *t = sp + 1;
		if (f->typed)
			perr(p, ln, "second TYPE for %s", f->name);
		if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") && strcmp(t, "summary") &&
		    strcmp(t, "untyped"))
			perr(p, ln, "unknown type '%s'", t);
		f->typed = true;
		snprintf(f->type, sizeof(f->type), "%s", t);
		if (!strcmp(t, "counter") && (strlen(f->name) < 6 || strcmp(f->name + strlen(f->name) - 6, "_total")))
			perr(p, ln, "counter %s does not end in _total", f->name);
	}
	*cur = f;
}

/* {k="v",...}: *pos is at '{'; on return past '}'. */
static bool parse_labels(struct parsed *p, int ln, const char **pos, struct psample *s)
{
	const char *c = *pos + 1;
	size_t i;

	while (*c != '}') {
		const char *k = c;
		char *val;
		size_t vl = 0;

		while (*c && *c != '=')
			c++;
		if (*c != '=' || !label_name_ok(k, (size_t)(c - k)) || c[1] != '"') {
			perr(p, ln, "bad label at '%.20s'", k);
			return false;
		}
		if (s->nl == MAX_LABELS) {
			perr(p, ln, "too many labels");
			return false;
		}
		s->k[s->nl] = strndup(k, (size_t)(c - k));
		for (i = 0; i < s->nl; i++)
			if (!strcmp(s->k[i], s->k[s->nl])) {
				perr(p, ln, "label %s twice", s->k[i]);
				free(s->k[s->nl]);
				return false;
			}
		c += 2;
		val = xmalloc(strlen(c) + 1);
		while (*c && *c != '"') {
			if (*c == '\\') {
				c++;
				if (*c != '\\' && *c != '"' && *c != 'n') {
					perr(p, ln, "bad escape \\%c in a label value", *c ? *c : '0');
					free(val);
					free(s->k[s->nl]);
					return false;
				}
				val[vl++] = *c == 'n' ? '\n' : *c;
			} else {
				val[vl++] = *c;
			}
			c++;
		}
		if (*c != '"') {
			perr(p, ln, "unterminated label value");
			free(val);
			free(s->k[s->nl]);
			return false;
		}
		val[vl] = '\0';
		s->v[s->nl++] = val;
		c++;
		if (*c == ',')
			c++;
		else if (*c != '}') {
			perr(p, ln, "expected ',' or '}' after a label");
			return false;
		}
	}
	*pos = c + 1;
	return true;
}

/* Which family a sample name belongs to, given the family whose TYPE came last. */
static bool sample_in_family(const char *name, const struct pfamily *f)
{
	size_t fl = strlen(f->name);
	const char *sfx = name + fl;

	if (strncmp(name, f->name, fl))
		return false;
	if (!*sfx)
		return strcmp(f->type, "histogram") != 0;
	return !strcmp(f->type, "histogram") &&
	       (!strcmp(sfx, "_bucket") || !strcmp(sfx, "_sum") || !strcmp(sfx, "_count"));
}

static void sample_line(struct parsed *p, int ln, const char *l, struct pfamily *cur)
{
	const char *c = l, *sp;
	struct psample s;

	memset(&s, 0, sizeof(s));
	s.line = ln;
	while (*c && *c != '{' && *c != ' ')
		c++;
	if (!metric_name_ok(l, (size_t)(c - l))) {
		perr(p, ln, "bad metric name in '%s'", l);
		return;
	}
	s.name = strndup(l, (size_t)(c - l));
	if (*c == '{' && !parse_labels(p, ln, &c, &s))
		goto bad;
	if (*c != ' ') {
		perr(p, ln, "no value in '%s'", l);
		goto bad;
	}
	c++;
	sp = strchr(c, ' ');   /* an optional timestamp follows; we write none */
	if (sp) {
		perr(p, ln, "unexpected text after the value in '%s'", l);
		goto bad;
	}
	if (!value_ok(c, &s.value)) {
		perr(p, ln, "'%s' is not a float value", c);
		goto bad;
	}
	if (!cur || !cur->typed || !sample_in_family(s.name, cur)) {
		perr(p, ln, "sample %s is not under its HELP and TYPE", s.name);
		goto bad;
	}
	if (!cur->help)
		perr(p, ln, "family %s has no HELP", cur->name);
	if (!strcmp(cur->type, "counter") && !(s.value >= 0))
		perr(p, ln, "counter %s is negative", s.name);
	cur->has_samples = true;
	p->s = xrealloc(p->s, (p->n + 1) * sizeof(*p->s));
	p->s[p->n++] = s;
	return;
bad:
	free(s.name);
	for (size_t i = 0; i < s.nl; i++) {
		free(s.k[i]);
		free(s.v[i]);
	}
}

/* The label sets of two samples, ignoring `skip` ("le" for buckets, or NULL). */
static bool same_labels(const struct psample *a, const struct psample *b, const char *skip)
{
	size_t i, j, na = 0, nb = 0;

	for (i = 0; i < a->nl; i++) {
		if (skip && !strcmp(a->k[i], skip))
			continue;
		na++;
		for (j = 0; j < b->nl; j++)
			if (!strcmp(a->k[i], b->k[j]) && !strcmp(a->v[i], b->v[j]))
				break;
		if (j == b->nl)
			return false;
	}
	for (j = 0; j < b->nl; j++)
		nb += !(skip && !strcmp(b->k[j], skip));
	return na == nb;
}

static const char *label_of(const struct psample *s, const char *k)
{
	size_t i;
	for (i = 0; i < s->nl; i++)
		if (!strcmp(s->k[i], k))
			return s->v[i];
	return NULL;
}

static bool name_is(const struct psample *s, const char *family, const char *suffix)
{
	size_t fl = strlen(family);
	return !strncmp(s->name, family, fl) && !strcmp(s->name + fl, suffix);
}

/* Every series of every histogram: buckets in increasing le, cumulative, ending in +Inf,
 * equal to _count; _sum there. */
static void check_histograms(struct parsed *p)
{
	size_t f, i, j;

	for (f = 0; f < p->nf; f++) {
		const char *fam = p->f[f].name;
		if (strcmp(p->f[f].type, "histogram"))
			continue;
		for (i = 0; i < p->n; i++) {
			const struct psample *first = &p->s[i];
			double prev_le = -INFINITY, prev_v = -1, inf_v = -1;
			bool seen_before = false, sum = false, count = false;
			if (!name_is(first, fam, "_bucket"))
				continue;
			for (j = 0; j < i && !seen_before; j++)
				seen_before = name_is(&p->s[j], fam, "_bucket") && same_labels(&p->s[j], first, "le");
			if (seen_before)
				continue;
			for (j = i; j < p->n; j++) {
				const struct psample *b = &p->s[j];
				const char *les = label_of(b, "le");
				double le;
				if (name_is(b, fam, "_sum") && same_labels(b, first, "le"))
					sum = true;
				if (name_is(b, fam, "_count") && same_labels(b, first, "le")) {
					count = true;
					if (b->value != inf_v)
						perr(p, b->line, "%s_count %g differs from its +Inf bucket %g", fam, b->value,
						     inf_v);
				}
				if (!name_is(b, fam, "_bucket") || !same_labels(b, first, "le"))
					continue;
				if (!les || !value_ok(les, &le)) {
					perr(p, b->line, "bucket without a valid le");
					return;
				}
				if (!(le > prev_le))
					perr(p, b->line, "le %s does not increase", les);
				if (b->value < prev_v)
					perr(p, b->line, "bucket le=%s (%g) is below the one before (%g): not cumulative", les,
					     b->value, prev_v);
				prev_le = le;
				prev_v = b->value;
				if (isinf(le))
					inf_v = b->value;
			}
			if (!isinf(prev_le))
				perr(p, first->line, "the buckets of %s do not end with le=\"+Inf\"", fam);
			if (!sum || !count)
				perr(p, first->line, "%s lacks %s", fam, !sum ? "_sum" : "_count");
		}
	}
}

static void check_duplicates(struct parsed *p)
{
	size_t i, j;

	for (i = 0; i < p->n; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(p->s[i].name, p->s[j].name) && same_labels(&p->s[i], &p->s[j], NULL))
				perr(p, p->s[i].line, "duplicate series %s (first at line %d)", p->s[i].name, p->s[j].line);
}

static void parse_text(const char *text, struct parsed *p)
{
	const char *l = text, *nl;
	struct pfamily *cur = NULL;
	int ln = 0;
	char *line;

	memset(p, 0, sizeof(*p));
	if (*text && text[strlen(text) - 1] != '\n')
		perr(p, 0, "the text does not end with a newline");
	while (*l) {
		nl = strchr(l, '\n');
		if (!nl)
			nl = l + strlen(l);
		line = strndup(l, (size_t)(nl - l));
		ln++;
		if (!*line)
			perr(p, ln, "empty line");
		else if (line[0] == '#')
			comment_line(p, ln, line, &cur);
		else
			sample_line(p, ln, line, cur);
		free(line);
		l = *nl ? nl + 1 : nl;
	}
	check_duplicates(p);
	check_histograms(p);
}

static void parsed_free(struct parsed *p)
{
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		free(p->s[i].name);
		for (k = 0; k < p->s[i].nl; k++) {
			free(p->s[i].k[k]);
			free(p->s[i].v[k]);
		}
	}
	for (i = 0; i < p->nf; i++)
		free(p->f[i].name);
	free(p->s);
	free(p->f);
	memset(p, 0, sizeof(*p));
}

/* The sample with exactly these labels (key, value, ..., NULL), or NULL. */
static const struct psample *find(const struct parsed *p, const char *name, const char *const *kv)
{
	struct psample want;
	size_t i;

	memset(&want, 0, sizeof(want));
	for (i = 0; kv && kv[i]; i += 2) {
		want.k[want.nl] = (char *)kv[i];
		want.v[want.nl++] = (char *)kv[i + 1];
	}
	for (i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name) && same_labels(&p->s[i], &want, NULL))
			return &p->s[i];
	return NULL;
}

static size_t count_named(const struct parsed *p, const char *name)
{
	size_t i, n = 0;
	for (i = 0; i < p->n; i++)
		n += !strcmp(p->s[i].name, name);
	return n;
}

/* ------------------------------------------------------------------------------------------ */
/* a hand-made daemon */

static struct {
	struct config cfg;
	struct cfg_cluster ccfg[2];
	struct cfg_server scfg[4];
	struct cfg_router rcfg[1];
	struct daemon d;
	struct cluster c[2];
	struct server s[4];
	struct server *main_servers[3], *weird_servers[1];
	struct router r[1];
	struct router *main_routers[1];
	struct alarm alarms[2];
	char *text;
	struct parsed p;
} fx;

static void stats_reset(struct cluster_stats *cs)
{
	int i;
	memset(cs, 0, sizeof(*cs));
	cs->last_write_blocked_ms = -1;
	for (i = 0; i < SW_PHASES; i++)
		cs->last_phase_ms[i] = -1;
}

static void server_init(size_t i, const char *name, struct cluster *c)
{
	fx.scfg[i].name = (char *)name;
	fx.s[i].cfg = &fx.scfg[i];
	fx.s[i].cluster = c;
	server_status_init(&fx.s[i].st);
	fx.s[i].st.heartbeat_lag_ms = -1;
}

/* db1: the writable primary; db2: a replica with its SQL thread stopped and lag; db3: down
 * (its last good poll left values that must not be shown); x1 in a second cluster with a
 * name that needs escaping, never polled. */
static void fx_setup(void)
{
	double phases[SW_PHASES] = { 12.5, 40, -1, 3.25, 8, 20, 100 };
	struct server_status *st;

	log_init(LOG_TO_STDERR, LOG_ERR);
	memset(&fx, 0, sizeof(fx));
	fx.ccfg[0].name = "main";
	fx.ccfg[1].name = WEIRD_CLUSTER;
	fx.cfg.clusters = fx.ccfg;
	fx.cfg.n_clusters = 2;
	fx.cfg.event_hook_rate = 30;
	fx.cfg.event_hook_timeout_ms = 1000;
	fx.d.cfg = &fx.cfg;
	fx.d.clusters = fx.c;
	fx.d.n_clusters = 2;
	fx.d.servers = fx.s;
	fx.d.n_servers = 4;
	fx.d.started_real_us = 1700000000123456LL;
	fx.d.ready_sent = true;

	fx.c[0].cfg = &fx.ccfg[0];
	fx.c[1].cfg = &fx.ccfg[1];
	stats_reset(&fx.c[0].stats);
	stats_reset(&fx.c[1].stats);
	server_init(0, "db1", &fx.c[0]);
	server_init(1, "db2", &fx.c[0]);
	server_init(2, "db3", &fx.c[0]);
	server_init(3, "x1", &fx.c[1]);
	fx.main_servers[0] = &fx.s[0];
	fx.main_servers[1] = &fx.s[1];
	fx.main_servers[2] = &fx.s[2];
	fx.c[0].servers = fx.main_servers;
	fx.c[0].n_servers = 3;
	fx.weird_servers[0] = &fx.s[3];
	fx.c[1].servers = fx.weird_servers;
	fx.c[1].n_servers = 1;

	st = &fx.s[0].st;
	st->reachable = true;
	st->last_ok_ms = 1000;
	st->poll_us = 2500;
	st->read_only = 0;
	st->heartbeat_lag_ms = 0;
	fx.s[0].health.state = HEALTH_UP;

	st = &fx.s[1].st;
	st->reachable = true;
	st->last_ok_ms = 1000;
	st->poll_us = 1250;
	st->read_only = 1;
	st->heartbeat_lag_ms = 1500;
	st->repl.configured = true;
	st->repl.io = THREAD_YES;
	st->repl.sql = THREAD_NO;
	st->repl.seconds_behind = -1;
	fx.s[1].health.state = HEALTH_UP;

	st = &fx.s[2].st;   /* its last good poll said all this; the one since failed */
	st->reachable = false;
	st->last_ok_ms = 500;
	st->poll_us = 900;
	st->read_only = 1;
	st->heartbeat_lag_ms = 20;
	st->repl.configured = true;
	st->repl.io = THREAD_YES;
	st->repl.sql = THREAD_YES;
	st->repl.seconds_behind = 7;
	fx.s[2].health.state = HEALTH_DOWN;

	fx.c[0].evaluated_once = true;
	fx.c[0].topo.primary = 0;
	fx.c[0].topo.n_writable = 1;
	fx.c[0].vstate.shown = VERDICT_WARN;
	fx.c[0].stats.primary_changes = 3;
	fx.c[0].stats.last_round_us = 4200;
	cluster_stats_switchover(&fx.c[0].stats, false, OUTCOME_DONE, 37.5, phases);
	cluster_stats_switchover(&fx.c[0].stats, false, OUTCOME_DONE, 7000, phases);
	cluster_stats_switchover(&fx.c[0].stats, false, OUTCOME_ROLLED_BACK, 4, phases);
	cluster_stats_switchover(&fx.c[0].stats, false, OUTCOME_REFUSED, -1, phases);
	cluster_stats_switchover(&fx.c[0].stats, true, OUTCOME_FAILED, -1, phases);
	fx.c[1].topo.primary = -1;
	fx.c[1].vstate.shown = VERDICT_UNKNOWN;

	fx.rcfg[0].name = "hap";
	fx.rcfg[0].type = ROUTER_HAPROXY;
	fx.r[0].cfg = &fx.rcfg[0];
	fx.r[0].view.reachable = true;
	fx.r[0].view.polled_ms = 1000;
	fx.r[0].view.n = 2;
	strcpy(fx.r[0].view.be[0].server, "db1");
	fx.r[0].view.be[0].writer = fx.r[0].view.be[0].admin_up = true;
	strcpy(fx.r[0].view.be[1].server, "db2");
	fx.r[0].view.be[1].writer = true;   /* in the write backend but in maint: not a writer */
	fx.main_routers[0] = &fx.r[0];
	fx.c[0].routers = fx.main_routers;
	fx.c[0].n_routers = 1;

	fx.alarms[0].name = "replication_broken";
	fx.alarms[0].subject = "db2";
	fx.alarms[0].state = ALARM_ACTIVE;
	fx.alarms[1].name = "no_primary";
	fx.alarms[1].state = ALARM_PENDING;
	fx.c[0].alarms = fx.alarms;
	fx.c[0].n_alarms = 2;

	stats_api("status", "ok");
	stats_api("status", "ok");
	stats_api(WEIRD_CMD, "INVALID");
}

static void fx_teardown(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		server_status_clear(&fx.s[i].st);
	parsed_free(&fx.p);
	free(fx.text);
	fx.text = NULL;
}

/* Render and parse; the text must be valid. */
static void render(void)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;

	metrics_render(&fx.d, b);
	len = evbuffer_get_length(b);
	free(fx.text);
	fx.text = xmalloc(len + 1);
	evbuffer_remove(b, fx.text, len);
	fx.text[len] = '\0';
	evbuffer_free(b);
	parsed_free(&fx.p);
	parse_text(fx.text, &fx.p);
	if (*fx.p.err)
		fprintf(stderr, "--- the text that does not parse:\n%s---\n", fx.text);
	ck_assert_msg(!*fx.p.err, "%s", fx.p.err);
}

static double value(const char *name, const char *const *kv)
{
	const struct psample *s = find(&fx.p, name, kv);
	ck_assert_msg(s != NULL, "no sample %s with these labels", name);
	return s->value;
}

static void absent(const char *name, const char *const *kv)
{
	ck_assert_msg(find(&fx.p, name, kv) == NULL, "%s should be absent", name);
}

static const char *family_type(const char *name)
{
	const struct pfamily *f = pfamily_get(&fx.p, name, strlen(name), false);
	ck_assert_msg(f != NULL, "no family %s", name);
	return f->type;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define SRV(name) L("cluster", "main", "server", name)

/* ------------------------------------------------------------------------------------------ */
/* metrics_render */

START_TEST(test_render_valid)
{
	static const char *const families[] = {
		"cutoverd_up", "cutoverd_build_info", "cutoverd_start_time_seconds", "cutoverd_api_requests_total",
		"cutoverd_event_hooks_total", "cutoverd_server_up", "cutoverd_server_reachable",
		"cutoverd_server_read_only", "cutoverd_server_super_read_only", "cutoverd_server_is_primary",
		"cutoverd_server_rollback_point",
		"cutoverd_server_replication_lag_seconds", "cutoverd_server_seconds_behind_master",
		"cutoverd_server_replication_io_running", "cutoverd_server_replication_sql_running",
		"cutoverd_server_poll_duration_seconds", "cutoverd_cluster_verdict", "cutoverd_cluster_writable_servers",
		"cutoverd_cluster_primary_changes_total", "cutoverd_cluster_switchovers_total",
		"cutoverd_cluster_failovers_total", "cutoverd_cluster_switchover_running", "cutoverd_ready",
		"cutoverd_cluster_switchover_write_blocked_seconds",
		"cutoverd_cluster_last_switchover_write_blocked_seconds",
		"cutoverd_cluster_last_switchover_phase_duration_seconds", "cutoverd_cluster_poll_round_duration_seconds",
		"cutoverd_router_reachable", "cutoverd_router_writers", "cutoverd_router_writer_matches_primary",
		"cutoverd_cluster_alarms_active", "cutoverd_alarm_active",
	};
	size_t i;

	render();
	for (i = 0; i < ARRAY_LEN(families); i++) {
		const struct pfamily *f = pfamily_get(&fx.p, families[i], strlen(families[i]), false);
		ck_assert_msg(f && f->help && f->typed, "family %s missing", families[i]);
	}
	ck_assert_str_eq(family_type("cutoverd_cluster_switchover_write_blocked_seconds"), "histogram");
	ck_assert_str_eq(family_type("cutoverd_api_requests_total"), "counter");
	ck_assert_str_eq(family_type("cutoverd_server_read_only"), "gauge");
	ck_assert(value("cutoverd_up", NULL) == 1);
	ck_assert(value("cutoverd_build_info", L("version", CUTOVER_VERSION)) == 1);
	ck_assert_double_eq_tol(value("cutoverd_start_time_seconds", NULL), 1700000000.123456, 1e-5);
	ck_assert(value("cutoverd_ready", NULL) == 1);
	/* rendering twice gives the same text: nothing is consumed */
	{
		char *first = xstrdup(fx.text);
		render();
		ck_assert_str_eq(first, fx.text);
		free(first);
	}
}
END_TEST

START_TEST(test_render_servers)
{
	render();
	ck_assert(value("cutoverd_server_up", SRV("db1")) == 1);
	ck_assert(value("cutoverd_server_up", SRV("db3")) == 0);
	ck_assert(value("cutoverd_server_reachable", SRV("db2")) == 1);
	ck_assert(value("cutoverd_server_reachable", SRV("db3")) == 0);
	ck_assert(value("cutoverd_server_read_only", SRV("db1")) == 0);
	ck_assert(value("cutoverd_server_read_only", SRV("db2")) == 1);
	ck_assert(value("cutoverd_server_is_primary", SRV("db1")) == 1);
	ck_assert(value("cutoverd_server_is_primary", SRV("db2")) == 0);
	ck_assert(value("cutoverd_server_is_primary", SRV("db3")) == 0);
	ck_assert_double_eq_tol(value("cutoverd_server_replication_lag_seconds", SRV("db2")), 1.5, 1e-9);
	ck_assert(value("cutoverd_server_replication_lag_seconds", SRV("db1")) == 0);
	ck_assert(value("cutoverd_server_replication_io_running", SRV("db2")) == 1);
	ck_assert(value("cutoverd_server_replication_sql_running", SRV("db2")) == 0);
	ck_assert_double_eq_tol(value("cutoverd_server_poll_duration_seconds", SRV("db1")), 0.0025, 1e-12);
	ck_assert(value("cutoverd_server_rollback_point", SRV("db2")) == 0);
	/* db2 held at the fence point of an upgrade: the alert rules leave its stopped threads alone */
	{
		struct held h = { .server = (char *)"db2", .fence_point = (char *)"0-1-5", .why = (char *)"" };
		fx.c[0].held = &h;
		fx.c[0].n_held = 1;
		render();
		fx.c[0].held = NULL;
		fx.c[0].n_held = 0;
		ck_assert(value("cutoverd_server_rollback_point", SRV("db2")) == 1);
		ck_assert(value("cutoverd_server_rollback_point", SRV("db1")) == 0);
	}
}
END_TEST

/* Unknown is absent, not 0: a primary has no replication gauges, MariaDB no super_read_only,
 * a NULL Seconds_Behind_Master none, a server down nothing its last good poll read, and a
 * server never polled nothing but up and reachable. */
START_TEST(test_render_unknown_omitted)
{
	const char *x1[] = { "cluster", WEIRD_CLUSTER, "server", "x1", NULL };

	render();
	absent("cutoverd_server_super_read_only", SRV("db1"));
	absent("cutoverd_server_super_read_only", SRV("db2"));
	absent("cutoverd_server_replication_io_running", SRV("db1"));
	absent("cutoverd_server_replication_sql_running", SRV("db1"));
	absent("cutoverd_server_seconds_behind_master", SRV("db1"));
	absent("cutoverd_server_seconds_behind_master", SRV("db2"));
	absent("cutoverd_server_read_only", SRV("db3"));
	absent("cutoverd_server_replication_lag_seconds", SRV("db3"));
	absent("cutoverd_server_seconds_behind_master", SRV("db3"));
	absent("cutoverd_server_replication_sql_running", SRV("db3"));
	absent("cutoverd_server_poll_duration_seconds", SRV("db3"));
	ck_assert(value("cutoverd_server_up", x1) == 0);
	ck_assert(value("cutoverd_server_reachable", x1) == 0);
	absent("cutoverd_server_read_only", x1);
	absent("cutoverd_server_is_primary", x1);
	absent("cutoverd_server_rollback_point", x1);
	absent("cutoverd_server_poll_duration_seconds", x1);
	absent("cutoverd_cluster_writable_servers", L("cluster", WEIRD_CLUSTER));
	absent("cutoverd_cluster_poll_round_duration_seconds", L("cluster", WEIRD_CLUSTER));
	absent("cutoverd_cluster_last_switchover_write_blocked_seconds", L("cluster", WEIRD_CLUSTER));
	absent("cutoverd_cluster_last_switchover_phase_duration_seconds",
	       L("cluster", "main", "phase", switchover_phase_name(2)));

	/* once known, they appear */
	fx.s[1].st.repl.seconds_behind = 2;
	fx.s[0].st.super_read_only = 0;
	render();
	ck_assert(value("cutoverd_server_seconds_behind_master", SRV("db2")) == 2);
	ck_assert(value("cutoverd_server_super_read_only", SRV("db1")) == 0);
}
END_TEST

START_TEST(test_render_clusters)
{
	static const char *const verdicts[] = { "OK", "WARN", "CRIT", "UNKNOWN" };
	size_t i;

	render();
	for (i = 0; i < ARRAY_LEN(verdicts); i++) {
		ck_assert(value("cutoverd_cluster_verdict", L("cluster", "main", "verdict", verdicts[i])) ==
			  !strcmp(verdicts[i], "WARN"));
		ck_assert(value("cutoverd_cluster_verdict", L("cluster", WEIRD_CLUSTER, "verdict", verdicts[i])) ==
			  !strcmp(verdicts[i], "UNKNOWN"));
	}
	ck_assert(value("cutoverd_cluster_writable_servers", L("cluster", "main")) == 1);
	ck_assert(value("cutoverd_cluster_primary_changes_total", L("cluster", "main")) == 3);
	ck_assert(value("cutoverd_cluster_switchovers_total", L("cluster", "main", "outcome", "done")) == 2);
	ck_assert(value("cutoverd_cluster_switchovers_total", L("cluster", "main", "outcome", "rolled_back")) == 1);
	ck_assert(value("cutoverd_cluster_switchovers_total", L("cluster", "main", "outcome", "failed")) == 0);
	ck_assert(value("cutoverd_cluster_switchovers_total", L("cluster", "main", "outcome", "refused")) == 1);
	ck_assert(value("cutoverd_cluster_failovers_total", L("cluster", "main", "outcome", "failed")) == 1);
	ck_assert(value("cutoverd_cluster_failovers_total", L("cluster", "main", "outcome", "done")) == 0);
	ck_assert_double_eq_tol(value("cutoverd_cluster_last_switchover_write_blocked_seconds", L("cluster", "main")),
				0.004, 1e-12);
	ck_assert_double_eq_tol(value("cutoverd_cluster_last_switchover_phase_duration_seconds",
				      L("cluster", "main", "phase", "preflight")), 0.0125, 1e-12);
	ck_assert_double_eq_tol(value("cutoverd_cluster_last_switchover_phase_duration_seconds",
				      L("cluster", "main", "phase", "verify")), 0.1, 1e-12);
	ck_assert_uint_eq(count_named(&fx.p, "cutoverd_cluster_last_switchover_phase_duration_seconds"), SW_PHASES - 1);
	ck_assert_double_eq_tol(value("cutoverd_cluster_poll_round_duration_seconds", L("cluster", "main")), 0.0042,
				1e-12);
	ck_assert(value("cutoverd_cluster_switchover_running", L("cluster", "main")) == 0);
}
END_TEST

START_TEST(test_render_histogram)
{
	const char *h = "cutoverd_cluster_switchover_write_blocked_seconds";
	const double phases[SW_PHASES] = { 0 };
	char name[96];

	cluster_stats_switchover(&fx.c[0].stats, false, OUTCOME_DONE, 1.5, phases);
	render();
	snprintf(name, sizeof(name), "%s_bucket", h);
	/* a clean switchover's 1-5 ms have buckets of their own */
	ck_assert(value(name, L("cluster", "main", "le", "0.001")) == 0);
	ck_assert(value(name, L("cluster", "main", "le", "0.002")) == 1);     /* 1.5 ms */
	ck_assert(value(name, L("cluster", "main", "le", "0.005")) == 2);     /* + 4 ms */
	ck_assert(value(name, L("cluster", "main", "le", "0.02")) == 2);
	ck_assert(value(name, L("cluster", "main", "le", "0.05")) == 3);      /* + 37.5 ms */
	ck_assert(value(name, L("cluster", "main", "le", "5")) == 3);
	ck_assert(value(name, L("cluster", "main", "le", "+Inf")) == 4);      /* + 7 s */
	ck_assert_uint_eq(count_named(&fx.p, name), 2 * WB_BUCKETS);
	snprintf(name, sizeof(name), "%s_count", h);
	ck_assert(value(name, L("cluster", "main")) == 4);
	ck_assert(value(name, L("cluster", WEIRD_CLUSTER)) == 0);
	snprintf(name, sizeof(name), "%s_sum", h);
	ck_assert_double_eq_tol(value(name, L("cluster", "main")), 7.043, 1e-9);
}
END_TEST

START_TEST(test_render_routers)
{
	const char *const *hap = L("cluster", "main", "router", "hap", "type", "haproxy");

	render();
	ck_assert(value("cutoverd_router_reachable", hap) == 1);
	ck_assert(value("cutoverd_router_writers", hap) == 1);
	ck_assert(value("cutoverd_router_writer_matches_primary", hap) == 1);

	fx.c[0].topo.primary = 1;
	render();
	ck_assert(value("cutoverd_router_writer_matches_primary", hap) == 0);

	fx.r[0].view.be[1].admin_up = true;   /* two writers: no one writer to compare */
	render();
	ck_assert(value("cutoverd_router_writers", hap) == 2);
	absent("cutoverd_router_writer_matches_primary", hap);

	fx.r[0].view.reachable = false;       /* its old view is not shown */
	render();
	ck_assert(value("cutoverd_router_reachable", hap) == 0);
	absent("cutoverd_router_writers", hap);
}
END_TEST

START_TEST(test_render_alarms)
{
	render();
	ck_assert(value("cutoverd_alarm_active", L("cluster", "main", "alarm", "replication_broken", "subject", "db2")) ==
		  1);
	ck_assert_uint_eq(count_named(&fx.p, "cutoverd_alarm_active"), 1);   /* the pending one is not */
	ck_assert(value("cutoverd_cluster_alarms_active", L("cluster", "main")) == 1);
	ck_assert(value("cutoverd_cluster_alarms_active", L("cluster", WEIRD_CLUSTER)) == 0);
}
END_TEST

/* The parser unescapes; equal means the text escaped quote, backslash and newline right. */
START_TEST(test_render_escaping)
{
	render();
	ck_assert(value("cutoverd_api_requests_total", L("command", WEIRD_CMD, "result", "INVALID")) >= 1);
	ck_assert(value("cutoverd_api_requests_total", L("command", "status", "result", "ok")) >= 2);
	ck_assert(value("cutoverd_cluster_primary_changes_total", L("cluster", WEIRD_CLUSTER)) == 0);
	ck_assert_ptr_nonnull(strstr(fx.text, "cluster=\"we\\\"ird\\\\clu\\nster\""));
}
END_TEST

START_TEST(test_render_event_hook_counts)
{
	unsigned long long before[EH__COUNT];

	event_hooks_counts(before);
	render();
	ck_assert(value("cutoverd_event_hooks_total", L("result", "ok")) == (double)before[EH_OK]);
	ck_assert(value("cutoverd_event_hooks_total", L("result", "failed")) == (double)before[EH_FAILED]);
	ck_assert(value("cutoverd_event_hooks_total", L("result", "timeout")) == (double)before[EH_TIMEOUT]);
	ck_assert(value("cutoverd_event_hooks_total", L("result", "dropped")) == (double)before[EH_DROPPED]);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* the parser catches what it must */

static void expect_invalid(const char *text, const char *why)
{
	struct parsed p;

	parse_text(text, &p);
	ck_assert_msg(*p.err, "accepted: %s", text);
	ck_assert_msg(strstr(p.err, why), "'%s' instead of '%s'", p.err, why);
	parsed_free(&p);
}

START_TEST(test_parser_rejects)
{
	struct parsed p;

	parse_text("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n", &p);
	ck_assert_msg(!*p.err, "%s", p.err);
	parsed_free(&p);
	expect_invalid("a 1\n", "not under its HELP and TYPE");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na 1\na 2\n", "duplicate series");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na{x=\"\\t\"} 1\n", "bad escape");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na{x=\"1\"} one\n", "not a float");
	expect_invalid("# HELP a A.\n# TYPE a gauge\n1a 1\n", "bad metric name");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na{1x=\"1\"} 1\n", "bad label");
	expect_invalid("# HELP a A.\n# TYPE a counter\n", "does not end in _total");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na 1\n# TYPE a gauge\n", "after its samples");
	expect_invalid("# HELP a A.\n# TYPE a gauge\na 1", "newline");
	expect_invalid("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
		       "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n", "not cumulative");
	expect_invalid("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf");
	expect_invalid("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "lacks _sum");
	expect_invalid("# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		       "differs from its +Inf bucket");
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* the HTTP listener */

struct http_result {
	bool done;
	int code;
	char *body;
	char content_type[128];
	char allow[64];
};

static void http_done(struct evhttp_request *req, void *arg)
{
	struct http_result *r = arg;
	struct evbuffer *b;
	const char *h;
	size_t len;

	r->done = true;
	if (!req)
		return;
	r->code = evhttp_request_get_response_code(req);
	b = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(b);
	r->body = xmalloc(len + 1);
	evbuffer_remove(b, r->body, len);
	r->body[len] = '\0';
	h = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	snprintf(r->content_type, sizeof(r->content_type), "%s", h ? h : "");
	h = evhttp_find_header(evhttp_request_get_input_headers(req), "Allow");
	snprintf(r->allow, sizeof(r->allow), "%s", h ? h : "");
}

static void loop_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* One request from a client on the same loop; the loop runs until the reply (a generous cap
 * only keeps a broken listener from hanging the test). */
static void http_get(int port, enum evhttp_cmd_type cmd, const char *path, struct http_result *r)
{
	struct evhttp_connection *conn = evhttp_connection_base_new(fx.d.base, NULL, "127.0.0.1", (ev_uint16_t)port);
	struct evhttp_request *req = evhttp_request_new(http_done, r);
	struct timeval tick = { 0, 10000 };
	struct event *t = event_new(fx.d.base, -1, EV_PERSIST, loop_stop, fx.d.base);
	int rounds = 0;

	memset(r, 0, sizeof(*r));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	ck_assert_int_eq(evhttp_make_request(conn, req, cmd, path), 0);
	event_add(t, &tick);
	while (!r->done && rounds++ < 2000)
		event_base_dispatch(fx.d.base);
	event_free(t);
	evhttp_connection_free(conn);
	ck_assert_msg(r->done, "no reply to %s", path);
}

static void http_free(struct http_result *r)
{
	free(r->body);
	r->body = NULL;
}

/* A port nobody listens on right now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void http_setup(void)
{
	fx_setup();
	fx.d.base = event_base_new();
	ck_assert_ptr_nonnull(fx.d.base);
}

static void http_teardown(void)
{
	metrics_stop();
	free(fx.cfg.metrics_address);
	fx.cfg.metrics_address = NULL;
	event_base_free(fx.d.base);
	fx_teardown();
}

START_TEST(test_http_endpoints)
{
	int port = free_port();
	struct http_result r;
	struct parsed p;

	fx.cfg.metrics_address = xasprintf("127.0.0.1:%d", port);
	fx.d.ready_sent = false;
	ck_assert_int_eq(metrics_start(&fx.d), 0);

	http_get(port, EVHTTP_REQ_GET, "/healthz", &r);
	ck_assert_int_eq(r.code, 503);
	http_free(&r);
	fx.d.ready_sent = true;
	http_get(port, EVHTTP_REQ_GET, "/healthz", &r);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "ok\n");
	http_free(&r);

	http_get(port, EVHTTP_REQ_GET, "/metrics?x=1", &r);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.content_type, METRICS_CONTENT_TYPE);
	ck_assert(!strncmp(r.content_type, "text/plain; version=0.0.4", 25));
	parse_text(r.body, &p);
	ck_assert_msg(!*p.err, "%s", p.err);
	ck_assert_ptr_nonnull(find(&p, "cutoverd_server_read_only", SRV("db2")));
	parsed_free(&p);
	http_free(&r);

	http_get(port, EVHTTP_REQ_HEAD, "/metrics", &r);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "");
	http_free(&r);

	http_get(port, EVHTTP_REQ_POST, "/metrics", &r);
	ck_assert_int_eq(r.code, 405);
	ck_assert_str_eq(r.allow, "GET, HEAD");
	http_free(&r);
	http_get(port, EVHTTP_REQ_DELETE, "/healthz", &r);
	ck_assert_int_eq(r.code, 405);
	http_free(&r);

	http_get(port, EVHTTP_REQ_GET, "/", &r);
	ck_assert_int_eq(r.code, 404);
	http_free(&r);
	http_get(port, EVHTTP_REQ_POST, "/metricsx", &r);
	ck_assert_int_eq(r.code, 404);
	http_free(&r);
}
END_TEST

START_TEST(test_http_off_and_busy)
{
	int port = free_port(), fd;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	/* not configured: nothing to do, success */
	ck_assert_int_eq(metrics_start(&fx.d), 0);
	/* the port is taken: -1, and the daemon goes on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	fx.cfg.metrics_address = xasprintf("127.0.0.1:%d", port);
	log_set_level(LOG_CRIT);   /* the error it logs is expected */
	ck_assert_int_eq(metrics_start(&fx.d), -1);
	log_set_level(LOG_ERR);
	close(fd);
}
END_TEST

static bool port_answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Containers often have no IPv6 loopback. */
static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

START_TEST(test_http_reload)
{
	int p1 = free_port(), p2;
	struct http_result r;

	fx.cfg.metrics_address = xasprintf("127.0.0.1:%d", p1);
	ck_assert_int_eq(metrics_start(&fx.d), 0);
	ck_assert(port_answers(p1));

	metrics_reload(&fx.d);   /* unchanged: still there */
	ck_assert(port_answers(p1));

	do
		p2 = free_port();
	while (p2 == p1);
	if (have_ipv6_loopback()) {
		free(fx.cfg.metrics_address);
		fx.cfg.metrics_address = xasprintf("[::1]:%d", p2);
		metrics_reload(&fx.d);
		ck_assert(!port_answers(p1));
	}
	free(fx.cfg.metrics_address);
	fx.cfg.metrics_address = xasprintf("127.0.0.1:%d", p2);
	metrics_reload(&fx.d);
	http_get(p2, EVHTTP_REQ_GET, "/healthz", &r);
	ck_assert_int_eq(r.code, 200);
	http_free(&r);

	free(fx.cfg.metrics_address);
	fx.cfg.metrics_address = NULL;
	metrics_reload(&fx.d);
	ck_assert(!port_answers(p2));
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc;

	tc = tcase_create("metrics_render");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_render_valid);
	tcase_add_test(tc, test_render_servers);
	tcase_add_test(tc, test_render_unknown_omitted);
	tcase_add_test(tc, test_render_clusters);
	tcase_add_test(tc, test_render_histogram);
	tcase_add_test(tc, test_render_routers);
	tcase_add_test(tc, test_render_alarms);
	tcase_add_test(tc, test_render_escaping);
	tcase_add_test(tc, test_render_event_hook_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("exposition_parser");
	tcase_add_test(tc, test_parser_rejects);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics_start");
	tcase_add_checked_fixture(tc, http_setup, http_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_http_endpoints);
	tcase_add_test(tc, test_http_off_and_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("metrics_reload");
	tcase_add_checked_fixture(tc, http_setup, http_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_http_reload);
	suite_add_tcase(s, tc);
	return s;
}
