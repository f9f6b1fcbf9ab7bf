/* What a job runs: a config command string split into an argv, and the checks that make the
 * program's path safe to run (nobody but root or us can change what it resolves to). */
#include "job.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_links(const char *path, char *err, size_t errlen);
static int check_one(const char *what, const char *path, const struct stat *st, bool dir,
		     char *err, size_t errlen);

/* --- command strings --------------------------------------------------------------------- */

int job_split_argv(const char *cmdline, char ***argv_out)
{
	const char *p = cmdline ? cmdline : "";
	char **v = NULL, *word = xmalloc(strlen(p) + 1);
	size_t n = 0, wlen;
	bool quoted;

	*argv_out = NULL;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		wlen = 0;
		quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				word[wlen++] = *p;
		}
		if (quoted) {
			free(word);
			while (n > 0)
				free(v[--n]);
			free(v);
			errno = EINVAL;
			return -1;
		}
		v = xrealloc(v, (n + 2) * sizeof(*v));
		v[n++] = strndup(word, wlen);
		if (!v[n - 1])
			abort();
	}
	free(word);
	v = xrealloc(v, (n + 1) * sizeof(*v));
	v[n] = NULL;
	*argv_out = v;
	return (int)n;
}

void job_free_argv(char **argv)
{
	size_t i;

	if (!argv)
		return;
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* --- path safety ------------------------------------------------------------------------- */

/* Every symlink met while resolving `path`, and the directory it is in, must be such that only
 * root (or we) could have made or changed it: else whoever owns it decides what runs. */
static int check_links(const char *path, char *err, size_t errlen)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX], prefix[PATH_MAX];
	int hops = 0;
	size_t len;

	if (strlen(path) >= sizeof(cur)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(cur, path);
restart:
	for (len = 1;; len++) {
		struct stat st, dst;
		ssize_t n;
		char *slash;

		if (cur[len] != '/' && cur[len] != '\0')
			continue;
		memcpy(prefix, cur, len);
		prefix[len] = '\0';
		if (lstat(prefix, &st) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			if (st.st_uid != 0 && st.st_uid != geteuid()) {
				snprintf(err, errlen, "%s: symlink %s is owned by uid %u; it must be owned by root", path,
					 prefix, (unsigned)st.st_uid);
				return -1;
			}
			slash = strrchr(prefix, '/');
			if (slash == prefix)
				strcpy(next, "/");
			else {
				memcpy(next, prefix, (size_t)(slash - prefix));
				next[slash - prefix] = '\0';
			}
			if (stat(next, &dst) < 0 || check_one(path, next, &dst, true, err, errlen) < 0) {
				if (errno && !*err)
					snprintf(err, errlen, "%s: directory %s: %s", path, next, strerror(errno));
				return -1;
			}
			if (++hops > 40 || (n = readlink(prefix, target, sizeof(target) - 1)) < 0) {
				snprintf(err, errlen, "%s: symlink %s: %s", path, prefix, hops > 40 ? "too many levels" :
					 strerror(errno));
				return -1;
			}
			target[n] = '\0';
			if (target[0] == '/')
				n = snprintf(prefix, sizeof(prefix), "%s%s", target, cur + len);
			else
				n = snprintf(prefix, sizeof(prefix), "%s/%s%s", next, target, cur + len);
			if (n < 0 || (size_t)n >= sizeof(prefix)) {
				snprintf(err, errlen, "%s: path too long", path);
				return -1;
			}
			strcpy(cur, prefix);
			goto restart;
		}
		if (cur[len] == '\0')
			return 0;
	}
}

int job_check_path(const char *path, char *err, size_t errlen)
{
	char *real = NULL;
	int rc = job_resolve_checked(path, &real, err, errlen);
	free(real);
	return rc;
}

int job_resolve_checked(const char *path, char **real_out, char *err, size_t errlen)
{
	char *real, *dir;
	struct stat st;
	int rc = -1;

	*real_out = NULL;
	if (!path || path[0] != '/') {
		snprintf(err, errlen, "'%s' is not an absolute path", path ? path : "");
		return -1;
	}
	err[0] = '\0';
	errno = 0;
	if (check_links(path, err, errlen) < 0)
		return -1;
	if (!(real = realpath(path, NULL))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (check_one(path, real, &st, false, err, errlen) < 0)
		goto out;
	/* Whoever can rename entries in a directory on the way can swap the program. */
	while ((dir = strrchr(real, '/')) != NULL) {
		if (dir == real)
			dir[1] = '\0';
		else
			*dir = '\0';
		if (stat(real, &st) < 0) {
			snprintf(err, errlen, "%s: directory %s: %s", path, real, strerror(errno));
			goto out;
		}
		if (check_one(path, real, &st, true, err, errlen) < 0)
			goto out;
		if (!strcmp(real, "/"))
			break;
	}
	rc = 0;
	*real_out = realpath(path, NULL);   /* `real` was cut down to "/" above */
	if (!*real_out)
		rc = -1;
out:
	free(real);
	return rc;
}

static int check_one(const char *what, const char *path, const struct stat *st, bool dir,
		     char *err, size_t errlen)
{
	unsigned mode = (unsigned)st->st_mode & 07777;
	char where[PATH_MAX + 32];

	/* Name the directory, or the resolved file when a symlink led there. */
	if (dir)
		snprintf(where, sizeof(where), "directory %s ", path);
	else if (strcmp(what, path))
		snprintf(where, sizeof(where), "(resolved to %s) ", path);
	else
		where[0] = '\0';
	if (!dir && !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: %sis not a regular file", what, where);
		return -1;
	}
	if (!dir && (!(st->st_mode & 0111) || access(path, X_OK) < 0)) {
		snprintf(err, errlen, "%s: %sis not executable (mode %04o); chmod +x it", what, where,
			 mode);
		return -1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(err, errlen, "%s: %sis owned by uid %u; it must be owned by root or uid %u",
			 what, where, (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st->st_mode & S_ISVTX))) {
		snprintf(err, errlen, "%s: %sis writable by group or others (mode %04o); chmod go-w it",
			 what, where, mode);
		return -1;
	}
	return 0;
}
