/* Which SQL table a server gets: the version string decides once, at connect, and everything
 * after that goes through the chosen `const struct flavor_ops`. */
#include "flavor.h"
#include "config.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_version(const char *v, unsigned *major, unsigned *minor, unsigned *patch);
static bool parse_part(const char **p, unsigned *out);

/* One decimal component, at most 5 digits (no version number is larger; more is junk). */
static bool parse_part(const char **p, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	while (isdigit((unsigned char)**p)) {
		if (++digits > 5)
			return false;
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	*out = v;
	return digits > 0;
}

/* "major.minor.patch" at the start; whatever follows ("-log", "-MariaDB-0+deb12u1") is not ours. */
static bool parse_version(const char *v, unsigned *major, unsigned *minor, unsigned *patch)
{
	const char *p = v;

	if (!parse_part(&p, major) || *p++ != '.' || !parse_part(&p, minor))
		return false;
	*patch = 0;
	if (*p == '.') {
		p++;
		if (!parse_part(&p, patch))
			return false;
	}
	return *p == '\0' || *p == '-' || *p == '+' || *p == ' ' || *p == '_';
}

/* MariaDB before 10.6 is not supported (and 10.6–10.9 lack MASTER_DEMOTE_TO_SLAVE, which only
 * the demotion step needs).  MySQL needs 8.0.23 for CHANGE REPLICATION SOURCE TO; from 8.2
 * SHOW MASTER STATUS is deprecated in favour of SHOW BINARY LOG STATUS, so 8.2 and later,
 * 9.x included, take the 8.4 table. */
enum flavor_id flavor_detect(const char *version)
{
	unsigned major, minor, patch;

	if (!version || !parse_version(version, &major, &minor, &patch))
		return FLAVOR_UNKNOWN;
	if (strcasestr(version, "mariadb")) {
		if (major > 10 || (major == 10 && minor >= 6))
			return FLAVOR_MARIADB;
		return FLAVOR_UNKNOWN;
	}
	if (major > 8 || (major == 8 && minor >= 2))
		return FLAVOR_MYSQL84;
	if (major == 8 && (minor > 0 || patch >= 23))
		return FLAVOR_MYSQL80;
	return FLAVOR_UNKNOWN;
}

bool flavor_has_demote(const char *version)
{
	unsigned major, minor, patch;

	if (!version || !strcasestr(version, "mariadb"))
		return true;   /* MySQL's demote statement is its ordinary CHANGE REPLICATION SOURCE */
	if (!parse_version(version, &major, &minor, &patch))
		return false;
	return major > 10 || (major == 10 && minor >= 10);
}

bool flavor_sql_optional(enum sql_id id)
{
	return id == SQL_HOLD_START || id == SQL_HOLD_COMMITS || id == SQL_HOLD_RELEASE || id == SQL_VERSIONED_TABLES;
}

char *flavor_change_source_sql(const struct flavor_ops *f, enum sql_id id, const char *host, int port,
			       const char *user, const char *password, int retry_s, tristate source_tls)
{
	char *base = xasprintf(f->sql[id], host, port, user, password, retry_s), *tls, *q;

	if (!f->source_tls || source_tls < 0)
		return base;
	tls = xasprintf(f->source_tls, source_tls ? 1 : 0);
	q = xasprintf("%s%s", base, tls);
	free_secret(base);
	free(tls);
	return q;
}

bool flavor_series(const char *version, struct version_series *out)
{
	unsigned patch;

	if (!version || !parse_version(version, &out->major, &out->minor, &patch))
		return false;
	out->mariadb = strcasestr(version, "mariadb") != NULL;
	return true;
}

enum series_order flavor_series_order(const char *from, const char *to)
{
	struct version_series a, b;

	if (!flavor_series(from, &a) || !flavor_series(to, &b))
		return SERIES_UNKNOWN;
	if (a.mariadb != b.mariadb)
		return SERIES_OTHER_PRODUCT;
	if (a.major != b.major)
		return b.major > a.major ? SERIES_NEWER : SERIES_OLDER;
	if (a.minor != b.minor)
		return b.minor > a.minor ? SERIES_NEWER : SERIES_OLDER;
	return SERIES_SAME;
}

const char *flavor_series_name(const char *version, char *buf, size_t len)
{
	struct version_series v;

	if (!flavor_series(version, &v))
		snprintf(buf, len, "%s", version && *version ? version : "an unknown version");
	else
		snprintf(buf, len, "%s %u.%u", v.mariadb ? "MariaDB" : "MySQL", v.major, v.minor);
	return buf;
}

const struct flavor_ops *flavor_get(enum flavor_id id)
{
	switch (id) {
	case FLAVOR_MARIADB:
		return &flavor_mariadb;
	case FLAVOR_MYSQL80:
		return &flavor_mysql80;
	case FLAVOR_MYSQL84:
		return &flavor_mysql84;
	default:
		return NULL;
	}
}

/* What mysql_real_escape_string() does for a single-byte character set, without a connection
 * (it needs one only to learn the character set; NUL, which it also escapes, cannot occur in
 * a C string).  NULL becomes "" so that a missing optional value never prints as "(null)"
 * inside a statement. */
char *sql_quote(const char *s)
{
	char *out, *o;

	if (!s)
		return xstrdup("");
	out = o = xmalloc(strlen(s) * 2 + 1);
	for (; *s; s++) {
		char esc = 0;
		switch (*s) {
		case '\\': esc = '\\'; break;
		case '\'': esc = '\''; break;
		case '"': esc = '"'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\032': esc = 'Z'; break;
		}
		if (esc) {
			*o++ = '\\';
			*o++ = esc;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

bool flavor_auth_exposed(const struct cfg_server *cfg)
{
	const char *h = cfg->host;

	/* required encrypts but believes any certificate: a machine in the middle can end the TLS
	 * and read the password caching_sha2_password sends inside it */
	if (cfg->socket || cfg->tls_mode >= TLS_VERIFY_CA || cfg->server_public_key || !h)
		return false;
	return strcmp(h, "localhost") && strncmp(h, "127.", 4) && strcmp(h, "::1") && strcmp(h, "[::1]");
}
