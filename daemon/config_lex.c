/* The config parser's line reader: every line of the file, [section] headers, and each key
 * handed on to config_value.c, every error at its line, with a "did you mean" for names it
 * does not know.
 *
 * libinih splits "key = value" lines; everything it cannot tell us is done in our line reader,
 * which inih calls once per line before it calls the key handler for that line.  The reader
 * therefore knows the line number (inih's handler does not get it in the Debian build), checks
 * the syntax of every line itself so that every syntax error is reported with its line (inih
 * would only return the first), handles [section] headers (inih does not report sections that
 * have no keys, but an empty [server x] is still a server), strips leading blanks (an indented
 * line would otherwise be a continuation of the previous value) and inline " ;" comments, and
 * refuses lines longer than inih's fixed line buffer instead of letting inih split them. */
#include "config_impl.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUGGEST_DISTANCE 2

static bool line_content(struct parser *p, const char **sp, const char **ep);
static void section_header(struct parser *p, const char *s, const char *e);
static bool key_line_ok(struct parser *p, const char *s, const char *e);
static void unknown_key(struct parser *p, const struct section *sec, const char *key);

/* ---- small helpers ---- */

/* The closest of names to s within SUGGEST_DISTANCE, or NULL; *best_d carries the best
 * distance across calls so that a later table only wins with a closer name. */
static const char *closest(const char *s, const char *const *names, size_t *best_d)
{
	const char *best = NULL;
	size_t d;

	for (; *names; names++) {
		d = edit_distance(s, *names, SUGGEST_DISTANCE);
		if (d <= SUGGEST_DISTANCE && d < *best_d) {
			*best_d = d;
			best = *names;
		}
	}
	return best;
}

static const char *closest_key(const char *s, enum sect_kind kind, size_t *best_d)
{
	const char *names[64];
	const struct key_def *d;
	size_t n = 0;

	for (d = cfg_key_tables[kind]; d->name && n < ARRAY_LEN(names) - 1; d++)
		names[n++] = d->name;
	names[n] = NULL;
	return closest(s, names, best_d);
}

static struct section *cur_section(struct parser *p)
{
	return p->cur >= 0 ? &p->sects[p->cur] : NULL;
}

/* The line where key was set in sec, 0 if it was not. */
int cfg_key_line(const struct section *sec, const char *key)
{
	size_t i;
	if (!sec)
		return 0;
	for (i = 0; i < sec->n_keys; i++)
		if (!strcmp(sec->keys[i].key, key))
			return sec->keys[i].line;
	return 0;
}

/* ---- the line reader ---- */

/* inih calls this like fgets.  We hand it only "key = value" lines, cleaned up. */
char *cfg_read_line(char *buf, int num, void *arg)
{
	struct parser *p = arg;
	const char *s, *e, *eol;
	size_t len;

	while (p->pos < p->end) {
		eol = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
		if (!eol)
			eol = p->end;
		s = p->pos;
		e = eol;
		p->pos = eol < p->end ? eol + 1 : eol;
		p->line++;
		if (!line_content(p, &s, &e))
			continue;
		if (*s == '[') {
			section_header(p, s, e);
			continue;
		}
		if (!key_line_ok(p, s, e))
			continue;
		len = (size_t)(e - s);
		if (num < 3 || len > (size_t)num - 2) {
			cfg_perr(p, p->line, NULL, "line too long (%zu characters; at most %d after "
				 "removing comments and surrounding blanks)", len, num < 3 ? 0 : num - 2);
			continue;
		}
		memcpy(buf, s, len);
		buf[len] = '\n';
		buf[len + 1] = '\0';
		return buf;
	}
	return NULL;
}

/* Trim blanks and an inline " ;" comment; false for blank and comment lines. */
static bool line_content(struct parser *p, const char **sp, const char **ep)
{
	const char *s = *sp, *e = *ep, *c;

	if (p->line == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (s == e || *s == ';' || *s == '#')
		return false;
	/* Same rule as inih: ';' starts a comment only after a blank. */
	for (c = s + 1; c < e; c++) {
		if (*c == ';' && isspace((unsigned char)c[-1])) {
			e = c;
			break;
		}
	}
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	*sp = s;
	*ep = e;
	return s < e;
}

static bool key_line_ok(struct parser *p, const char *s, const char *e)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *colon = memchr(s, ':', (size_t)(e - s));
	const char *k;

	if (!eq || (colon && colon < eq)) {
		cfg_perr(p, p->line, NULL, "syntax error: expected 'key = value', '[section]' or a "
			 "comment (';' or '#')");
		return false;
	}
	for (k = eq; k > s && isspace((unsigned char)k[-1]); k--)
		;
	if (k == s) {
		cfg_perr(p, p->line, NULL, "syntax error: no key before '='");
		return false;
	}
	return true;
}

/* ---- sections ---- */

/* Split "server db1" into its kind and name; false (after an error) if it is not a valid
 * header. */
static bool parse_title(struct parser *p, const char *title, const char *shown,
			enum sect_kind *kind, const char **name)
{
	size_t tl = strcspn(title, " \t"), i, best_d = SIZE_MAX;
	char word[32];
	const char *sugg;

	*name = title + tl;
	while (isspace((unsigned char)**name))
		(*name)++;
	snprintf(word, sizeof(word), "%.*s", (int)(tl < sizeof(word) ? tl : sizeof(word) - 1), title);
	for (i = 0; i < SECT__COUNT; i++)
		if (tl == strlen(cfg_sect_names[i]) && !strncmp(title, cfg_sect_names[i], tl))
			break;
	if (i == SECT__COUNT) {
		sugg = closest(word, cfg_sect_names, &best_d);
		if (sugg)
			cfg_perr(p, p->line, shown, "unknown section (did you mean [%s%s%s]?)", sugg,
				 **name ? " " : "", *name);
		else
			cfg_perr(p, p->line, shown, "unknown section (expected [cutoverd], [cluster NAME], "
				 "[server NAME], [router NAME] or [ha])");
		return false;
	}
	*kind = (enum sect_kind)i;
	if ((*kind == SECT_GLOBAL || *kind == SECT_HA) && **name) {
		cfg_perr(p, p->line, shown, "[%s] takes no name", cfg_sect_names[*kind]);
		return false;
	}
	if (*kind == SECT_HA)
		return true;
	if (*kind != SECT_GLOBAL && !**name) {
		cfg_perr(p, p->line, shown, "missing name (e.g. [%s main])", cfg_sect_names[i]);
		return false;
	}
	if (*kind != SECT_GLOBAL && !cfg_valid_name(*name)) {
		cfg_perr(p, p->line, shown, "'%s' is not a valid name (letters, digits, '_', '-' and "
			 "'.', at most %d characters)", *name, CFG_NAME_MAX);
		return false;
	}
	return true;
}

static void section_header(struct parser *p, const char *s, const char *e)
{
	const char *close = memchr(s, ']', (size_t)(e - s)), *name;
	char *title, *shown, *norm;
	enum sect_kind kind;
	struct section *sec;
	size_t i, idx = 0;

	p->skipping = true;   /* until the header proves good */
	if (!close) {
		cfg_perr(p, p->line, NULL, "syntax error: '[' without ']'");
		return;
	}
	if (close + 1 != e) {
		cfg_perr(p, p->line, NULL, "syntax error: text after ']'");
		return;
	}
	title = xasprintf("%.*s", (int)(close - s - 1), s + 1);
	name = trim(title);
	shown = xasprintf("[%s]", name);
	if (!parse_title(p, name, shown, &kind, &name))
		goto out;
	norm = *name ? xasprintf("%s %s", cfg_sect_names[kind], name) : xstrdup(cfg_sect_names[kind]);
	for (i = 0; i < p->n_sects; i++) {
		if (!strcmp(p->sects[i].title, norm)) {
			cfg_perr(p, p->line, shown, "duplicate section (first at line %d)", p->sects[i].line);
			free(norm);
			goto out;
		}
	}
	switch (kind) {
	case SECT_GLOBAL: break;
	case SECT_CLUSTER:
		idx = cfg_add_cluster(p->c, name, p->line);
		p->n_explicit_clusters++;
		break;
	case SECT_SERVER: idx = cfg_add_server(p->c, name, p->line); break;
	case SECT_ROUTER: idx = cfg_add_router(p->c, name, p->line); break;
	case SECT_HA: p->c->ha.on = true; break;
	default: break;
	}
	p->sects = xrealloc(p->sects, (p->n_sects + 1) * sizeof(*p->sects));
	sec = &p->sects[p->n_sects];
	memset(sec, 0, sizeof(*sec));
	sec->kind = kind;
	sec->idx = idx;
	sec->line = p->line;
	sec->title = norm;
	p->cur = (long)p->n_sects++;
	p->skipping = false;
out:
	free(shown);
	free(title);
}

/* ---- keys ---- */

int cfg_on_key(void *arg, const char *section, const char *name, const char *value)
{
	struct parser *p = arg;
	struct section *sec = cur_section(p);
	const struct key_def *def;
	const unsigned char *v;
	int first;

	if (!sec && !p->skipping) {
		cfg_perr(p, p->line, name, "outside any section (put it under [cutoverd], "
			 "[cluster NAME], [server NAME] or [router NAME])");
		return 1;
	}
	if (p->skipping)
		return 1;   /* the section header was refused; one error is enough */
	def = cfg_key_find(sec->kind, name);
	if (!def) {
		unknown_key(p, sec, name);
		return 1;
	}
	if (def->type != KT_HOOK_LIST && (first = cfg_key_line(sec, name))) {
		cfg_perr(p, p->line, name, "duplicate key (first set at line %d)", first);
		return 1;
	}
	sec->keys = xrealloc(sec->keys, (sec->n_keys + 1) * sizeof(*sec->keys));
	sec->keys[sec->n_keys].key = xstrdup(name);
	sec->keys[sec->n_keys++].line = p->line;
	for (v = (const unsigned char *)value; *v; v++) {
		if (*v < 0x20 || *v == 0x7f) {
			cfg_perr(p, p->line, name, "control character in value");
			return 1;
		}
	}
	if (!*value) {
		cfg_perr(p, p->line, name, "empty value (leave the key out to get the default)");
		return 1;
	}
	cfg_apply(p, sec, def, value);
	return 1;
}

static void unknown_key(struct parser *p, const struct section *sec, const char *key)
{
	const char *sugg, *other_sugg = NULL;
	size_t d = SIZE_MAX, od = SIZE_MAX;
	int k, other = -1;

	for (k = 0; k < SECT__COUNT; k++) {
		if (k != (int)sec->kind && cfg_key_find((enum sect_kind)k, key)) {
			cfg_perr(p, p->line, key, "unknown key in [%s] (it belongs in %s)", sec->title,
				 cfg_sect_usage[k]);
			return;
		}
	}
	sugg = closest_key(key, sec->kind, &d);
	if (sugg) {
		cfg_perr(p, p->line, key, "unknown key in [%s] (did you mean %s?)", sec->title, sugg);
		return;
	}
	for (k = 0; k < SECT__COUNT; k++) {
		const char *s;
		if (k == (int)sec->kind)
			continue;
		if ((s = closest_key(key, (enum sect_kind)k, &od))) {
			other_sugg = s;
			other = k;
		}
	}
	if (other_sugg)
		cfg_perr(p, p->line, key, "unknown key in [%s] (did you mean %s, in %s?)", sec->title,
			 other_sugg, cfg_sect_usage[other]);
	else
		cfg_perr(p, p->line, key, "unknown key in [%s] (see cutoverd.conf(5) for the keys of %s)",
			 sec->title, cfg_sect_usage[sec->kind]);
}
