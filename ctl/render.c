/* The helpers cutoverctl's renderers share (see render_impl.h), and render_json and
 * render_width.  Every command's own rendering is in its cmd_*.c file. */
#include "proto.h"
#include "render_impl.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---------------------------------------------------------------------- */

void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap ? b->cap : 128;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

void sb_pad(struct sbuf *b, size_t n)
{
	while (n--)
		sb_addn(b, " ", 1);
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s) {
		sb_add(b, s);
		free(s);
	}
}

/* Write the buffer as one line without trailing blanks, then empty it. */
void sb_flush_line(struct sbuf *b, FILE *out)
{
	while (b->len > 0 && b->s[b->len - 1] == ' ')
		b->len--;
	if (b->len)
		fwrite(b->s, 1, b->len, out);
	fputc('\n', out);
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

const json_t *jget(const json_t *o, const char *key)
{
	return json_is_object(o) ? json_object_get(o, key) : NULL;
}

const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = jget(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *or_q(const char *s)
{
	return s ? s : "?";
}

size_t render_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* A copy safe to print: the daemon relays server error texts, which may hold newlines or
 * escape sequences; control characters become spaces. */
char *clean(const char *s)
{
	char *d = xstrdup(s), *p;
	for (p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return d;
}

/* A new copy of s at most max columns wide, ending in an ellipsis when cut. */
char *cut(const char *s, size_t max)
{
	struct sbuf b = { 0 };
	const char *p = s;
	size_t w = 0;

	if (render_width(s) <= max || max == 0)
		return xstrdup(s);
	while (*p && w + 1 < max) {
		const char *q = p + 1;
		while (((unsigned char)*q & 0xc0) == 0x80)
			q++;
		sb_addn(&b, p, (size_t)(q - p));
		p = q;
		w++;
	}
	sb_add(&b, ELLIPSIS);
	return b.s;
}

const char *paint(const struct render_opts *o, const char *color)
{
	return o->color && color ? color : NULL;
}

const char *verdict_color(const char *v)
{
	if (!v)
		return ANSI_MAGENTA;
	if (!strcmp(v, "OK"))
		return ANSI_GREEN;
	if (!strcmp(v, "WARN"))
		return ANSI_YELLOW;
	if (!strcmp(v, "CRIT"))
		return ANSI_RED;
	return ANSI_MAGENTA;
}

const char *state_color(const char *state)
{
	if (!state || !strcmp(state, "unknown"))
		return ANSI_YELLOW;
	if (!strcmp(state, "down"))
		return ANSI_RED;
	return NULL;
}

/* Green: it happened as asked.  Yellow: nothing changed for good.  Red: someone must look. */
const char *outcome_color(const char *outcome)
{
	if (!outcome)
		return ANSI_MAGENTA;
	if (!strcmp(outcome, "done") || !strcmp(outcome, "dry_run") || !strcmp(outcome, "resolved"))
		return ANSI_GREEN;
	if (!strcmp(outcome, "refused") || !strcmp(outcome, "rolled_back") || !strcmp(outcome, "running") ||
	    !strcmp(outcome, "paused") || !strcmp(outcome, "rolling_back"))
		return ANSI_YELLOW;
	return ANSI_RED;
}

/* "210.5", or "-" for a duration that was not measured (a phase that did not end). */
char *ms_cell(const json_t *v)
{
	if (json_is_number(v))
		return xasprintf("%.1f", json_number_value(v));
	return xstrdup("-");
}

bool is_failover(const json_t *rep)
{
	const char *kind = jstr(rep, "kind");
	return kind && !strcmp(kind, "failover");
}

/* "2026-11-21T13:47:00.123Z" (UTC, any number of fraction digits) into seconds and the first
 * three fraction digits as milliseconds.  false when it is not that shape. */
bool parse_iso_utc(const char *iso, time_t *t, int *ms)
{
	struct tm tm;
	int used = 0, digits = 0;
	const char *frac;

	*ms = 0;
	if (!iso)
		return false;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used == 0)
		return false;
	frac = iso + used;
	if (*frac == '.')
		for (frac++; *frac >= '0' && *frac <= '9'; frac++)
			if (digits++ < 3)
				*ms = *ms * 10 + (*frac - '0');
	while (digits > 0 && digits < 3) {
		*ms *= 10;
		digits++;
	}
	if (strcmp(frac, "Z"))
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return *t != (time_t)-1;
}

/* ---- generic tables --------------------------------------------------------------------- */

void table_init(struct table *t, size_t ncols, unsigned right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right;
}

/* Append an empty row; table_set fills the last row. */
void table_row(struct table *t)
{
	size_t n = (t->nrows + 1) * t->ncols;

	t->cell = xrealloc(t->cell, n * sizeof(*t->cell));
	t->color = xrealloc(t->color, n * sizeof(*t->color));
	memset(t->cell + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->cell));
	memset(t->color + t->nrows * t->ncols, 0, t->ncols * sizeof(*t->color));
	t->nrows++;
}

/* Set a cell of the last row; owned is cleaned of control characters and taken over. */
void table_set(struct table *t, size_t col, char *owned, const char *color)
{
	size_t i = (t->nrows - 1) * t->ncols + col;
	char *p;

	for (p = owned; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	free(t->cell[i]);
	t->cell[i] = owned;
	t->color[i] = color;
}

void table_print(FILE *out, const struct table *t, const char *indent, const struct render_opts *o)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w)), r, c, tw, start, max = 0;
	struct sbuf b = { 0 };
	const char *cell, *col;
	char *cutc;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			cell = t->cell[r * t->ncols + c];
			if (cell && render_width(cell) > w[c])
				w[c] = render_width(cell);
		}
	/* Only the last column (a message, a reason) is cut: the others identify the row. */
	if (o->width > 0) {
		start = render_width(indent);
		for (c = 0; c + 1 < t->ncols; c++)
			start += w[c] + 2;
		max = (size_t)o->width > start + RENDER_ERROR_MIN ? (size_t)o->width - start
								   : RENDER_ERROR_MIN;
	}
	for (r = 0; r < t->nrows; r++) {
		sb_add(&b, indent);
		for (c = 0; c < t->ncols; c++) {
			cell = t->cell[r * t->ncols + c];
			cutc = NULL;
			if (!cell)
				cell = "";
			if (c + 1 == t->ncols && max)
				cell = cutc = cut(cell, max);
			tw = render_width(cell);
			col = *cell ? paint(o, t->color[r * t->ncols + c]) : NULL;
			if (t->right & (1u << c))
				sb_pad(&b, w[c] - tw);
			if (col)
				sb_add(&b, col);
			sb_add(&b, cell);
			if (col)
				sb_add(&b, ANSI_RESET);
			if (c + 1 < t->ncols) {
				if (!(t->right & (1u << c)))
					sb_pad(&b, w[c] - tw);
				sb_add(&b, "  ");
			}
			free(cutc);
		}
		sb_flush_line(&b, out);
	}
	free(b.s);
	free(w);
}

void table_free(struct table *t)
{
	size_t i;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->color);
	memset(t, 0, sizeof(*t));
}

/* ---- plain JSON ------------------------------------------------------------------------- */

int render_json(FILE *out, const json_t *result, const struct render_opts *o)
{
	if (!result || json_dumpf(result, out, JSON_INDENT(2) | JSON_ENCODE_ANY | PROTO_JSON_REAL) < 0)
		return -1;
	fputc('\n', out);
	return 0;
}
