/* What proxysql_sql.c, proxysql_sql_switch.c and proxysql_sql_shift.c share beyond
 * proxysql_sql.h. */
#ifndef CUTOVER_PROXYSQL_SQL_IMPL_H
#define CUTOVER_PROXYSQL_SQL_IMPL_H

#include <stddef.h>

/* A message into err, printf-style (proxysql_sql.c). */
void psql_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
