/* A query result copied out of the client library: column names and rows of nullable strings.
 * It decouples the SQL of each flavor (pure functions over rowsets, unit-tested with made-up
 * results) from the asynchronous connection code (db.c). */
#ifndef CUTOVER_ROWSET_H
#define CUTOVER_ROWSET_H

#include <stddef.h>

struct rowset {
	size_t ncols;
	size_t nrows;
	char **cols;     /* owned: ncols column names */
	char **cells;    /* owned: nrows * ncols values, row-major; NULL for SQL NULL */
	unsigned long long affected;   /* for statements without a result set */
};

struct rowset *rowset_new(size_t ncols, const char *const *cols);
/* Append a row of ncols values (copied; NULL entries stay NULL). */
void rowset_add_row(struct rowset *rs, const char *const *values);
void rowset_free(struct rowset *rs);
/* Index of column `name` (case-insensitive), or -1. */
int rowset_col(const struct rowset *rs, const char *name);
/* Value at (row, column by name); NULL if the column is missing, the row is out of range or SQL NULL. */
const char *rowset_get(const struct rowset *rs, size_t row, const char *name);
const char *rowset_at(const struct rowset *rs, size_t row, size_t col);

#endif
