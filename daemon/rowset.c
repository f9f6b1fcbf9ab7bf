#include "rowset.h"
#include "util.h"

#include <stdlib.h>
#include <strings.h>

struct rowset *rowset_new(size_t ncols, const char *const *cols)
{
	struct rowset *rs = xcalloc(1, sizeof(*rs));
	size_t i;
	rs->ncols = ncols;
	rs->cols = xcalloc(ncols, sizeof(char *));
	for (i = 0; i < ncols; i++)
		rs->cols[i] = xstrdup(cols[i] ? cols[i] : "");
	return rs;
}

void rowset_add_row(struct rowset *rs, const char *const *values)
{
	size_t i, base = rs->nrows * rs->ncols;
	rs->cells = xrealloc(rs->cells, (rs->nrows + 1) * rs->ncols * sizeof(char *));
	for (i = 0; i < rs->ncols; i++)
		rs->cells[base + i] = xstrdup(values[i]);
	rs->nrows++;
}

void rowset_free(struct rowset *rs)
{
	size_t i;
	if (!rs)
		return;
	for (i = 0; i < rs->ncols; i++)
		free(rs->cols[i]);
	for (i = 0; i < rs->nrows * rs->ncols; i++)
		free(rs->cells[i]);
	free(rs->cols);
	free(rs->cells);
	free(rs);
}

int rowset_col(const struct rowset *rs, const char *name)
{
	size_t i;
	for (i = 0; rs && i < rs->ncols; i++)
		if (!strcasecmp(rs->cols[i], name))
			return (int)i;
	return -1;
}

const char *rowset_at(const struct rowset *rs, size_t row, size_t col)
{
	if (!rs || row >= rs->nrows || col >= rs->ncols)
		return NULL;
	return rs->cells[row * rs->ncols + col];
}

const char *rowset_get(const struct rowset *rs, size_t row, const char *name)
{
	int c = rowset_col(rs, name);
	return c < 0 ? NULL : rowset_at(rs, row, (size_t)c);
}
