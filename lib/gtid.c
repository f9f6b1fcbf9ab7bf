/* GTID positions (MariaDB) and sets (MySQL): parsing into a canonical form, and the set
 * arithmetic the switchover needs (is a replica caught up, which transactions are errant).
 * Both notations share one representation: entries sorted by domain or UUID, each holding
 * sorted, merged, inclusive intervals.  A MariaDB triple stores its sequence number as the
 * single interval [seq, seq], but means "everything up to seq in this domain", so the two
 * kinds are compared by different rules (seq_* vs iv_* below). */
#include "gtid.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
};

static int fail(struct cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip_space(struct cursor *c);
static int parse_u64(struct cursor *c, uint64_t max, const char *what, uint64_t *out);
static int expect_char(struct cursor *c, char ch, const char *after);
static int parse_mariadb_entry(struct cursor *c, struct gtid_entry *e);
static int parse_uuid(struct cursor *c, char *uuid);
static int parse_mysql_entry(struct cursor *c, struct gtid_entry *e);
static void add_interval(struct gtid_entry *e, uint64_t lo, uint64_t hi);
static void merge_intervals(struct gtid_entry *e);
static int cmp_interval(const void *a, const void *b);
static int cmp_entry_domain(const void *a, const void *b);
static int cmp_entry_uuid(const void *a, const void *b);
static int finish_mariadb(struct cursor *c, struct gtid_set *s, const size_t *offsets);
static void finish_mysql(struct gtid_set *s);
static const struct gtid_entry *find_entry(const struct gtid_set *s, const struct gtid_entry *key);
static uint64_t entry_seq(const struct gtid_entry *e);
static bool iv_covered(const struct gtid_entry *a, const struct gtid_interval *iv);
static void subtract(const struct gtid_set *a, const struct gtid_set *b, struct gtid_set *out);
static void subtract_entry(const struct gtid_entry *a, const struct gtid_entry *b,
    struct gtid_entry *out);
static uint64_t sat_add(uint64_t a, uint64_t b);

static int fail(struct cursor *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < c->errlen)
		snprintf(c->err + n, c->errlen - (size_t)n, " at offset %zu", c->pos);
	return -1;
}

/* Only around commas and at the ends: @@gtid_executed puts a newline after each comma. */
static void skip_space(struct cursor *c)
{
	while (c->s[c->pos] && isspace((unsigned char)c->s[c->pos]))
		c->pos++;
}

/* A plain decimal number (no sign, no spaces) no larger than max. */
static int parse_u64(struct cursor *c, uint64_t max, const char *what, uint64_t *out)
{
	size_t start = c->pos;
	uint64_t v = 0;

	if (!isdigit((unsigned char)c->s[c->pos]))
		return fail(c, "expected %s", what);
	while (isdigit((unsigned char)c->s[c->pos])) {
		unsigned d = (unsigned)(c->s[c->pos] - '0');
		if (v > (max - d) / 10) {
			c->pos = start;
			return fail(c, "%s is too large (max %llu)", what, (unsigned long long)max);
		}
		v = v * 10 + d;
		c->pos++;
	}
	*out = v;
	return 0;
}

static int expect_char(struct cursor *c, char ch, const char *after)
{
	if (c->s[c->pos] != ch)
		return fail(c, "expected '%c' after %s", ch, after);
	c->pos++;
	return 0;
}

/* domain-server_id-seq */
static int parse_mariadb_entry(struct cursor *c, struct gtid_entry *e)
{
	uint64_t domain, server_id, seq;

	if (parse_u64(c, UINT32_MAX, "a domain id", &domain) == -1 ||
	    expect_char(c, '-', "the domain id") == -1 ||
	    parse_u64(c, UINT32_MAX, "a server id", &server_id) == -1 ||
	    expect_char(c, '-', "the server id") == -1 ||
	    parse_u64(c, UINT64_MAX, "a sequence number", &seq) == -1)
		return -1;
	e->domain = (uint32_t)domain;
	e->server_id = (uint32_t)server_id;
	add_interval(e, seq, seq);
	return 0;
}

/* 8-4-4-4-12 hex digits, any case; stored lower-case. */
static int parse_uuid(struct cursor *c, char *uuid)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		char ch = c->s[c->pos + i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? ch != '-' : !isxdigit((unsigned char)ch)) {
			c->pos += i;
			return fail(c, "bad UUID (expected 8-4-4-4-12 hex digits)");
		}
		uuid[i] = (char)tolower((unsigned char)ch);
	}
	uuid[36] = '\0';
	c->pos += 36;
	return 0;
}

/* uuid:N[-M][:N[-M]]… */
static int parse_mysql_entry(struct cursor *c, struct gtid_entry *e)
{
	uint64_t lo, hi;

	if (parse_uuid(c, e->uuid) == -1)
		return -1;
	if (c->s[c->pos] != ':')
		return fail(c, "expected ':' and an interval after the UUID");
	while (c->s[c->pos] == ':') {
		size_t at;
		c->pos++;
		at = c->pos;
		if (isalpha((unsigned char)c->s[c->pos]) || c->s[c->pos] == '_')
			return fail(c, "GTID tags (MySQL 8.3+) are not supported");
		if (parse_u64(c, UINT64_MAX, "a transaction number", &lo) == -1)
			return -1;
		hi = lo;
		if (c->s[c->pos] == '-') {
			c->pos++;
			if (parse_u64(c, UINT64_MAX, "an interval end", &hi) == -1)
				return -1;
		}
		if (lo == 0) {
			c->pos = at;
			return fail(c, "transaction number 0 is not valid (numbering starts at 1)");
		}
		if (lo > hi) {
			c->pos = at;
			return fail(c, "empty interval %llu-%llu (start after end)",
			    (unsigned long long)lo, (unsigned long long)hi);
		}
		add_interval(e, lo, hi);
	}
	return 0;
}

static void add_interval(struct gtid_entry *e, uint64_t lo, uint64_t hi)
{
	e->iv = xrealloc(e->iv, (e->n_iv + 1) * sizeof(*e->iv));
	e->iv[e->n_iv].lo = lo;
	e->iv[e->n_iv].hi = hi;
	e->n_iv++;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct gtid_interval *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sort, then join overlapping and adjacent intervals (1-3:4-5 is 1-5). */
static void merge_intervals(struct gtid_entry *e)
{
	size_t i, out = 0;

	if (e->n_iv < 2)
		return;
	qsort(e->iv, e->n_iv, sizeof(*e->iv), cmp_interval);
	for (i = 1; i < e->n_iv; i++) {
		struct gtid_interval *cur = &e->iv[out];
		if (cur->hi == UINT64_MAX || e->iv[i].lo <= cur->hi + 1) {
			if (e->iv[i].hi > cur->hi)
				cur->hi = e->iv[i].hi;
		} else
			e->iv[++out] = e->iv[i];
	}
	e->n_iv = out + 1;
}

static int cmp_entry_domain(const void *a, const void *b)
{
	const struct gtid_entry *x = a, *y = b;
	return x->domain < y->domain ? -1 : x->domain > y->domain;
}

static int cmp_entry_uuid(const void *a, const void *b)
{
	const struct gtid_entry *x = a, *y = b;
	return strcmp(x->uuid, y->uuid);
}

/* Sort by domain and refuse a domain given twice, as the server does: a position holds one
 * GTID per domain, and guessing which of two was meant could hide a diverged history. */
static int finish_mariadb(struct cursor *c, struct gtid_set *s, const size_t *offsets)
{
	size_t i, j;

	for (i = 0; i < s->n; i++)
		for (j = i + 1; j < s->n; j++)
			if (s->e[i].domain == s->e[j].domain) {
				c->pos = offsets[j];
				return fail(c, "duplicate domain %u", s->e[j].domain);
			}
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry_domain);
	return 0;
}

/* Sort by UUID and fold repeated UUIDs into one entry, as MySQL does. */
static void finish_mysql(struct gtid_set *s)
{
	size_t i, out = 0;

	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry_uuid);
	for (i = 0; i < s->n; i++) {
		struct gtid_entry *e = &s->e[i];
		if (out > 0 && !strcmp(s->e[out - 1].uuid, e->uuid)) {
			struct gtid_entry *into = &s->e[out - 1];
			size_t k;
			for (k = 0; k < e->n_iv; k++)
				add_interval(into, e->iv[k].lo, e->iv[k].hi);
			free(e->iv);
		} else
			s->e[out++] = *e;
	}
	s->n = out;
	for (i = 0; i < s->n; i++)
		merge_intervals(&s->e[i]);
}

int gtid_parse(enum gtid_kind kind, const char *text, struct gtid_set *out, char *err,
    size_t errlen)
{
	struct cursor c = { text ? text : "", 0, err, errlen };
	size_t *offsets = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	if (err && errlen)
		err[0] = '\0';
	skip_space(&c);
	while (c.s[c.pos]) {
		struct gtid_entry *e;

		out->e = xrealloc(out->e, (out->n + 1) * sizeof(*out->e));
		offsets = xrealloc(offsets, (out->n + 1) * sizeof(*offsets));
		offsets[out->n] = c.pos;
		e = &out->e[out->n++];
		memset(e, 0, sizeof(*e));
		if (kind == GTID_MARIADB)
			rc = parse_mariadb_entry(&c, e);
		else
			rc = parse_mysql_entry(&c, e);
		if (rc == -1)
			break;
		skip_space(&c);
		if (!c.s[c.pos])
			break;
		if (c.s[c.pos] != ',') {
			unsigned char ch = (unsigned char)c.s[c.pos];
			rc = isprint(ch) ?
			    fail(&c, "unexpected '%c' (expected ',' or the end)", ch) :
			    fail(&c, "unexpected byte 0x%02x (expected ',' or the end)", ch);
			break;
		}
		c.pos++;
		skip_space(&c);
		if (!c.s[c.pos]) {
			rc = fail(&c, "trailing ','");
			break;
		}
		if (c.s[c.pos] == ',') {
			rc = fail(&c, "empty element between commas");
			break;
		}
	}
	if (rc == 0) {
		if (kind == GTID_MARIADB)
			rc = finish_mariadb(&c, out, offsets);
		else
			finish_mysql(out);
	}
	free(offsets);
	if (rc == -1) {
		gtid_free(out);
		out->kind = kind;
	}
	return rc;
}

void gtid_free(struct gtid_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		free(s->e[i].iv);
	free(s->e);
	s->e = NULL;
	s->n = 0;
}

/* Entries are sorted, so a binary search finds the same domain / UUID. */
static const struct gtid_entry *find_entry(const struct gtid_set *s, const struct gtid_entry *key)
{
	if (s->n == 0)
		return NULL;
	return bsearch(key, s->e, s->n, sizeof(*s->e),
	    s->kind == GTID_MARIADB ? cmp_entry_domain : cmp_entry_uuid);
}

/* A MariaDB domain's sequence number; a domain that is absent counts as 0 (nothing applied). */
static uint64_t entry_seq(const struct gtid_entry *e)
{
	return e && e->n_iv ? e->iv[0].hi : 0;
}

/* Whether one interval lies inside a's merged intervals (then inside exactly one of them). */
static bool iv_covered(const struct gtid_entry *a, const struct gtid_interval *iv)
{
	size_t i;

	for (i = 0; a && i < a->n_iv; i++)
		if (a->iv[i].lo <= iv->lo && iv->hi <= a->iv[i].hi)
			return true;
	return false;
}

bool gtid_contains(const struct gtid_set *a, const struct gtid_set *b)
{
	size_t i, k;

	if (a->kind != b->kind)
		return false;
	for (i = 0; i < b->n; i++) {
		const struct gtid_entry *be = &b->e[i];
		const struct gtid_entry *ae = find_entry(a, be);
		if (b->kind == GTID_MARIADB) {
			if (entry_seq(ae) < entry_seq(be))
				return false;
			continue;
		}
		for (k = 0; k < be->n_iv; k++)
			if (!iv_covered(ae, &be->iv[k]))
				return false;
	}
	return true;
}

bool gtid_equal(const struct gtid_set *a, const struct gtid_set *b)
{
	return gtid_contains(a, b) && gtid_contains(b, a);
}

/* a's intervals minus b's, for one UUID; both lists are sorted and merged. */
static void subtract_entry(const struct gtid_entry *a, const struct gtid_entry *b,
    struct gtid_entry *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	strlcpy_(out->uuid, a->uuid, sizeof(out->uuid));
	for (i = 0; i < a->n_iv; i++) {
		uint64_t lo = a->iv[i].lo, hi = a->iv[i].hi;
		bool left = true;
		for (j = 0; b && j < b->n_iv && left; j++) {
			const struct gtid_interval *cut = &b->iv[j];
			if (cut->hi < lo || cut->lo > hi)
				continue;
			if (cut->lo > lo)
				add_interval(out, lo, cut->lo - 1);
			if (cut->hi >= hi)
				left = false;
			else
				lo = cut->hi + 1;
		}
		if (left)
			add_interval(out, lo, hi);
	}
}

/* Everything in a not in b, as a set of a's kind.  Kinds that differ share nothing. */
static void subtract(const struct gtid_set *a, const struct gtid_set *b, struct gtid_set *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->kind = a->kind;
	out->e = xcalloc(a->n, sizeof(*out->e));
	for (i = 0; i < a->n; i++) {
		const struct gtid_entry *ae = &a->e[i];
		const struct gtid_entry *be = a->kind == b->kind ? find_entry(b, ae) : NULL;
		struct gtid_entry *oe = &out->e[out->n];

		if (a->kind == GTID_MARIADB) {
			if (entry_seq(ae) <= entry_seq(be))
				continue;
			memset(oe, 0, sizeof(*oe));
			oe->domain = ae->domain;
			oe->server_id = ae->server_id;
			add_interval(oe, entry_seq(ae), entry_seq(ae));
			out->n++;
			continue;
		}
		subtract_entry(ae, be, oe);
		if (oe->n_iv)
			out->n++;
		else
			free(oe->iv);
	}
}

char *gtid_subtract_str(const struct gtid_set *a, const struct gtid_set *b)
{
	struct gtid_set d;
	char *s;

	subtract(a, b, &d);
	s = gtid_format(&d);
	gtid_free(&d);
	return s;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t gtid_count_missing(const struct gtid_set *a, const struct gtid_set *b)
{
	struct gtid_set d;
	uint64_t total = 0;
	size_t i, k;

	if (a->kind == GTID_MARIADB) {
		for (i = 0; i < a->n; i++) {
			const struct gtid_entry *be =
			    a->kind == b->kind ? find_entry(b, &a->e[i]) : NULL;
			if (entry_seq(&a->e[i]) > entry_seq(be))
				total = sat_add(total, entry_seq(&a->e[i]) - entry_seq(be));
		}
		return total;
	}
	subtract(a, b, &d);
	for (i = 0; i < d.n; i++)
		for (k = 0; k < d.e[i].n_iv; k++) {
			const struct gtid_interval *iv = &d.e[i].iv[k];
			/* hi - lo + 1 cannot wrap: MySQL intervals start at 1. */
			total = sat_add(total, iv->hi - iv->lo + 1);
		}
	gtid_free(&d);
	return total;
}

/* Sized in advance: a number is at most 20 digits, a MariaDB triple at most 10+1+10+1+20. */
char *gtid_format(const struct gtid_set *s)
{
	size_t cap = 1, len = 0, i, k;
	char *buf;

	for (i = 0; i < s->n; i++)
		cap += 1 + (s->kind == GTID_MARIADB ? 42 : 36 + s->e[i].n_iv * 42);
	buf = xmalloc(cap);
	buf[0] = '\0';
	for (i = 0; i < s->n; i++) {
		const struct gtid_entry *e = &s->e[i];
		if (i > 0)
			len += (size_t)snprintf(buf + len, cap - len, ",");
		if (s->kind == GTID_MARIADB) {
			len += (size_t)snprintf(buf + len, cap - len, "%u-%u-%llu", e->domain,
			    e->server_id, (unsigned long long)entry_seq(e));
			continue;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s", e->uuid);
		for (k = 0; k < e->n_iv; k++) {
			if (e->iv[k].lo == e->iv[k].hi)
				len += (size_t)snprintf(buf + len, cap - len, ":%llu",
				    (unsigned long long)e->iv[k].lo);
			else
				len += (size_t)snprintf(buf + len, cap - len, ":%llu-%llu",
				    (unsigned long long)e->iv[k].lo, (unsigned long long)e->iv[k].hi);
		}
	}
	return buf;
}

int gtid_str_contains(enum gtid_kind kind, const char *a, const char *b)
{
	struct gtid_set sa, sb;
	int rc;

	if (gtid_parse(kind, a, &sa, NULL, 0) == -1)
		return -1;
	if (gtid_parse(kind, b, &sb, NULL, 0) == -1) {
		gtid_free(&sa);
		return -1;
	}
	rc = gtid_contains(&sa, &sb) ? 1 : 0;
	gtid_free(&sa);
	gtid_free(&sb);
	return rc;
}
