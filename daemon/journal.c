#include "journal.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_MAX_BYTES (16 * 1024 * 1024)   /* never read more than this of one file */

struct journal {
	int fd;
	char *path;
};

static const char *const event_names[JE__COUNT] = {
	[JE_BEGIN] = "begin", [JE_PHASE] = "phase", [JE_PAUSED] = "paused", [JE_RESUMED] = "resumed",
	[JE_FENCED] = "fenced", [JE_PNR] = "pnr", [JE_ROUTED] = "routed", [JE_ROLLBACK] = "rollback", [JE_HANDED_OVER] = "handed_over",
	[JE_DONE] = "done", [JE_ROLLED_BACK] = "rolled_back", [JE_FAILED] = "failed", [JE_REFUSED] = "refused",
	[JE_DRY_RUN] = "dry_run", [JE_RESOLVED] = "resolved", [JE_SETTLED_ELSEWHERE] = "settled_elsewhere",
};

const char *journal_event_name(enum journal_event ev)
{
	return ev >= 0 && ev < JE__COUNT ? event_names[ev] : "?";
}

int journal_event_parse(const char *name)
{
	int i;
	for (i = 0; name && i < JE__COUNT; i++)
		if (!strcmp(name, event_names[i]))
			return i;
	return -1;
}

bool journal_event_finished(const char *name)
{
	return journal_event_parse(name) >= JE_FIRST_FINISHED;
}

static char *journal_path(const char *state_dir, const char *cluster)
{
	return xasprintf("%s/journal-%s.jsonl", state_dir, cluster);
}

/* A new or renamed entry in the state directory survives a crash only once the directory is
 * on disk too. */
static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* A write cut short (a crash, a full disk) leaves a last line without its newline; the next
 * append would glue onto it and be lost to every reader.  Cut such a tail back to the last
 * complete line.  0, or -1 (errno set). */
static int truncate_torn_tail(int fd)
{
	struct stat st;
	char buf[4096];
	off_t end, pos;

	if (fstat(fd, &st) < 0)
		return -1;
	end = st.st_size;
	if (end == 0)
		return 0;
	if (pread(fd, buf, 1, end - 1) == 1 && buf[0] == '\n')
		return 0;
	for (pos = end; pos > 0 && end - pos < JOURNAL_MAX_BYTES;) {
		size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
		ssize_t got = pread(fd, buf, n, pos - (off_t)n);
		ssize_t k;
		if (got != (ssize_t)n)
			return -1;
		for (k = got - 1; k >= 0; k--)
			if (buf[k] == '\n')
				return ftruncate(fd, pos - (off_t)n + k + 1);
		pos -= (off_t)n;
	}
	return ftruncate(fd, 0);
}

struct journal *journal_open(const char *state_dir, const char *cluster, char *err, size_t errlen)
{
	struct journal *j = xcalloc(1, sizeof(*j));
	bool created = false;

	j->path = journal_path(state_dir, cluster);
	j->fd = open(j->path, O_RDWR | O_APPEND | O_CLOEXEC);   /* read: to find a torn tail */
	if (j->fd < 0 && errno == ENOENT) {
		j->fd = open(j->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		created = j->fd >= 0;
	}
	if (j->fd < 0 || truncate_torn_tail(j->fd) < 0) {
		snprintf(err, errlen, "cannot open journal %s: %s", j->path, strerror(errno));
		if (j->fd >= 0)
			close(j->fd);
		free(j->path);
		free(j);
		return NULL;
	}
	if (created)
		fsync_dir(state_dir);
	return j;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j->path);
	free(j);
}

static journal_mirror_fn mirror_fn;
static void *mirror_arg;

void journal_set_mirror(journal_mirror_fn fn, void *arg)
{
	mirror_fn = fn;
	mirror_arg = arg;
}

static int append_line(struct journal *j, json_t *entry, bool durable);

int journal_append(struct journal *j, json_t *entry, bool durable)
{
	char ts[64], base[32];
	int64_t us = now_real_us();
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%06dZ", base, (int)(us % 1000000));
	json_object_set_new(entry, "ts", json_string(ts));
	if (append_line(j, entry, durable) < 0)
		return -1;
	if (mirror_fn)
		mirror_fn(mirror_arg, entry);
	return 0;
}

int journal_import(const char *state_dir, const char *cluster, json_t *entries)
{
	char err[300];
	struct journal *j = journal_open(state_dir, cluster, err, sizeof(err));
	json_t *e;
	size_t i;
	int rc = 0;

	if (!j) {
		log_err("%s", err);
		return -1;
	}
	json_array_foreach(entries, i, e)
		if (rc == 0 && append_line(j, e, i + 1 == json_array_size(entries)) < 0)
			rc = -1;
	journal_close(j);
	return rc;
}

static int append_line(struct journal *j, json_t *entry, bool durable)
{
	char *line;
	size_t len, off = 0;

	line = json_dumps(entry, JSON_COMPACT | PROTO_JSON_REAL);
	if (!line) {
		errno = ENOMEM;
		return -1;
	}
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	while (off < len) {
		ssize_t n = write(j->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(line);
			return -1;
		}
		off += (size_t)n;
	}
	free(line);
	if (durable && fdatasync(j->fd) < 0)
		return -1;
	return 0;
}

void journal_rotate_if_large(const char *state_dir, const char *cluster)
{
	char *path = journal_path(state_dir, cluster);
	char *old = xasprintf("%s.1", path);
	struct stat st;

	/* Only between cutovers (the caller starts one): recovery reads the current file. */
	if (stat(path, &st) == 0 && st.st_size > JOURNAL_ROTATE_BYTES && rename(path, old) == 0)
		fsync_dir(state_dir);
	free(old);
	free(path);
}

static void read_into(json_t *arr, const char *path)
{
	char *text = read_small_file(path, JOURNAL_MAX_BYTES);
	char *line, *save = NULL;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *e = json_loads(line, 0, NULL);
		if (json_is_object(e))
			json_array_append_new(arr, e);
		else
			json_decref(e);
	}
	free(text);
}

/* The last `max` bytes of path, from the first whole line in them; NULL if none.  *size gets
 * the file's size. */
static char *read_tail(const char *path, size_t max, off_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf, *start;
	off_t from;
	ssize_t n;

	*size = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	*size = st.st_size;
	from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
	buf = xmalloc((size_t)(st.st_size - from) + 1);
	n = pread(fd, buf, (size_t)(st.st_size - from), from);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	start = buf;
	if (from > 0 && (start = strchr(buf, '\n')) != NULL)   /* the first line was cut */
		start++;
	if (!start) {
		free(buf);
		return NULL;
	}
	memmove(buf, start, strlen(start) + 1);
	return buf;
}

/* The cutover entries (those with an "id") of text, appended to arr. */
static void cutover_lines_into(json_t *arr, char *text)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *e;
		bool check = strstr(line, "\"event\":\"data_check\"") != NULL;
		if (!check && !strstr(line, "\"id\":"))   /* the watchdog's other entries: not parsed at all */
			continue;
		e = json_loads(line, 0, NULL);
		if (json_is_object(e) && (json_object_get(e, "id") || check))
			json_array_append_new(arr, e);
		else
			json_decref(e);
	}
}

json_t *journal_read_recent(const char *state_dir, const char *cluster, size_t max_bytes)
{
	char *path = journal_path(state_dir, cluster);
	char *old = xasprintf("%s.1", path);
	json_t *arr = json_array();
	off_t size = 0, old_size;
	char *cur = read_tail(path, max_bytes, &size), *prev = NULL;

	if ((size_t)size < max_bytes)   /* the rest from the rotated file */
		prev = read_tail(old, max_bytes - (size_t)size, &old_size);
	if (prev)
		cutover_lines_into(arr, prev);
	if (cur)
		cutover_lines_into(arr, cur);
	free(prev);
	free(cur);
	free(old);
	free(path);
	return arr;
}

json_t *journal_read(const char *state_dir, const char *cluster)
{
	char *path = journal_path(state_dir, cluster);
	char *old = xasprintf("%s.1", path);
	json_t *arr = json_array();

	read_into(arr, old);
	read_into(arr, path);
	free(old);
	free(path);
	return arr;
}

json_t *journal_by_cutover(json_t *entries)
{
	json_t *out = json_array(), *seen = json_object(), *e, *cur = NULL;
	const char *cur_id = NULL;
	size_t i;

	json_array_foreach(entries, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		if (!id)
			continue;
		if (!cur_id || strcmp(cur_id, id)) {
			/* an id seen before (entries interleaved across a restart) */
			cur = json_object_get(seen, id);
			if (!cur) {
				cur = json_pack("{s:s, s:[]}", "id", id, "entries");
				json_array_append_new(out, cur);
				json_object_set(seen, id, cur);
			}
			cur_id = id;
		}
		json_array_append(json_object_get(cur, "entries"), e);
	}
	json_decref(seen);
	return out;
}
