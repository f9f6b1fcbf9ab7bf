/* GTID positions and sets, for both notations:
 *  - MariaDB: a comma-separated list of domain-server-sequence triples, at most one per domain
 *    ("0-1-100,1-2-5").  Position A contains B when, for every domain in B, A has that domain
 *    with a sequence number >= B's.  (The server_id part does not order anything.)
 *  - MySQL: uuid:interval[:interval…] sets separated by commas, intervals "N" or "N-M"
 *    ("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7-9,…"), whitespace and newlines allowed
 *    after commas, UUIDs case-insensitive.  Set containment is interval containment per UUID.
 * Empty strings are valid empty positions/sets. */
#ifndef CUTOVER_GTID_H
#define CUTOVER_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gtid_kind { GTID_MARIADB, GTID_MYSQL };

struct gtid_interval { uint64_t lo, hi; };      /* inclusive */

struct gtid_entry {
	/* MariaDB: domain, server_id, seq (lo == hi == seq in iv[0]).  MySQL: uuid + intervals. */
	uint32_t domain;
	uint32_t server_id;
	char uuid[37];           /* lower-case canonical, MySQL only */
	struct gtid_interval *iv;   /* owned, sorted, merged */
	size_t n_iv;
};

struct gtid_set {
	enum gtid_kind kind;
	struct gtid_entry *e;    /* owned, sorted by domain (MariaDB) or uuid (MySQL) */
	size_t n;
};

/* Parse; returns 0, or -1 with a message in err (e.g. "bad sequence number at offset 7"). */
int gtid_parse(enum gtid_kind kind, const char *text, struct gtid_set *out, char *err, size_t errlen);
void gtid_free(struct gtid_set *s);
/* true when every transaction in b is in a. */
bool gtid_contains(const struct gtid_set *a, const struct gtid_set *b);
bool gtid_equal(const struct gtid_set *a, const struct gtid_set *b);
/* Transactions in a that are not in b, formatted in a's notation into a new string ("" if none).
 * MariaDB: the domains where a is ahead of b, with a's triple. */
char *gtid_subtract_str(const struct gtid_set *a, const struct gtid_set *b);
/* Canonical text (MariaDB: sorted by domain; MySQL: lower-case UUIDs, merged intervals). */
char *gtid_format(const struct gtid_set *s);
/* Number of transactions in a not in b (MariaDB: sum over domains of seq differences where a is
 * ahead); saturates at UINT64_MAX. */
uint64_t gtid_count_missing(const struct gtid_set *a, const struct gtid_set *b);

/* Convenience over strings: -1 on a parse error, else 1/0. */
int gtid_str_contains(enum gtid_kind kind, const char *a, const char *b);

#endif
