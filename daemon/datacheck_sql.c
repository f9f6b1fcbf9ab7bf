/* The data check's SQL (datacheck.h): pure functions, unit-tested in tests/check_datacheck.c. */
#include "datacheck.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *dc_quote_ident(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = xmalloc(2 * n + 3);

	out[o++] = '`';
	for (i = 0; i < n; i++) {
		if (s[i] == '`')
			out[o++] = '`';
		out[o++] = s[i];
	}
	out[o++] = '`';
	out[o] = '\0';
	return out;
}

bool dc_int_literal(const char *v)
{
	size_t i = 0;

	if (!v || !*v)
		return false;
	if (v[0] == '-')
		i++;
	if (!v[i] || i + 20 < strlen(v))
		return false;
	for (; v[i]; i++)
		if (!isdigit((unsigned char)v[i]))
			return false;
	return true;
}

static char *qualified(const char *schema, const char *table)
{
	char *s = dc_quote_ident(schema), *t = dc_quote_ident(table);
	char *q = xasprintf("%s.%s", s, t);
	free(s);
	free(t);
	return q;
}

/* CRC32(CONCAT_WS('#', `a`, `b`, CONCAT(ISNULL(`a`), ISNULL(`b`)))): the NULL flags tell a NULL
 * from an empty string and keep a NULL from shifting the other values, as the well-known
 * table-checksum tools do. */
static char *row_crc(const char *const *cols, size_t ncols)
{
	size_t len = 64, i;
	char *vals, *nulls, *q;

	for (i = 0; i < ncols; i++)
		len += 2 * strlen(cols[i]) + 16;
	vals = xcalloc(1, len);
	nulls = xcalloc(1, len);
	for (i = 0; i < ncols; i++) {
		char *id = dc_quote_ident(cols[i]);
		strcat(vals, ", ");
		strcat(vals, id);
		strcat(nulls, i ? ", ISNULL(" : "ISNULL(");
		strcat(nulls, id);
		strcat(nulls, ")");
		free(id);
	}
	q = xasprintf("CRC32(CONCAT_WS('#'%s, CONCAT(%s)))", vals, nulls);
	free(vals);
	free(nulls);
	return q;
}

char *dc_sql_checksum(const char *schema, const char *table, const char *const *cols, size_t ncols, const char *pk,
		      const char *lo, const char *hi)
{
	char *t = qualified(schema, table), *crc = row_crc(cols, ncols), *where, *q;
	char *p = pk ? dc_quote_ident(pk) : NULL;

	if (!p || (!lo && !hi))
		where = xstrdup("");
	else if (lo && hi)
		where = xasprintf(" WHERE %s > %s AND %s <= %s", p, lo, p, hi);
	else if (lo)
		where = xasprintf(" WHERE %s > %s", p, lo);
	else
		where = xasprintf(" WHERE %s <= %s", p, hi);
	q = xasprintf("SELECT COUNT(*) AS n, COALESCE(BIT_XOR(%s), 0) AS crc_xor, COALESCE(SUM(%s), 0) AS crc_sum"
		      " FROM %s%s", crc, crc, t, where);
	free(t);
	free(crc);
	free(where);
	free(p);
	return q;
}

char *dc_sql_boundary(const char *schema, const char *table, const char *pk, const char *lo, int rows)
{
	char *t = qualified(schema, table), *p = dc_quote_ident(pk), *where, *q;

	where = lo ? xasprintf(" WHERE %s > %s", p, lo) : xstrdup("");
	q = xasprintf("SELECT %s FROM %s%s ORDER BY %s LIMIT 1 OFFSET %d", p, t, where, p, rows > 0 ? rows - 1 : 0);
	free(t);
	free(p);
	free(where);
	return q;
}
