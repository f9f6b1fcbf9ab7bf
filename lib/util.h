/* Small utilities shared by cutoverd and cutoverctl. */
#ifndef CUTOVER_UTIL_H
#define CUTOVER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic clock, for deadlines and durations. */
int64_t now_mono_ms(void);
int64_t now_mono_us(void);
/* Wall clock in microseconds since the epoch, for timestamps people read. */
int64_t now_real_us(void);

/* Allocation that aborts on failure: a daemon that cannot allocate 100 bytes cannot do anything useful. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);              /* NULL stays NULL */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy with truncation, always NUL-terminated; returns strlen(src). */
size_t strlcpy_(char *dst, const char *src, size_t size);

/* Overwrite a secret before it is freed; the compiler may not elide it. */
void wipe(void *p, size_t n);
/* wipe() the string, then free() it. */
void free_secret(char *s);

/* Parse a whole decimal string into a long long within [min, max]; false on any junk. */
bool parse_ll(const char *s, long long min, long long max, long long *out);
/* Parse a duration: "250ms", "2s", "1.5s", "3m" or a bare number of `unit_ms` ms. */
bool parse_duration_ms(const char *s, long long unit_ms, long long *out_ms);
/* The other way, as a config file would say it: "10m", "30s", "1h", "1500ms" (the largest unit
 * that divides it); buf holds at least 24 bytes.  Returns buf. */
char *duration_text(long long ms, char *buf, size_t len);
/* Parse yes/no/true/false/on/off/1/0. */
bool parse_bool(const char *s, bool *out);

/* Trim leading and trailing white space in place; returns s. */
char *trim(char *s);

/* Read a whole small file (at most max bytes) into a new NUL-terminated string; NULL with errno. */
char *read_small_file(const char *path, size_t max);

/* For "did you mean": the optimal string alignment distance between a and b, case-insensitive
 * (a transposition costs one, as in "swichover"); anything above max is max + 1. */
size_t edit_distance(const char *a, const char *b, size_t max);
/* The name of names[0..n) nearest to s, if within max edits (the first of equals); else NULL. */
const char *closest_name(const char *s, const char *const *names, size_t n, size_t max);

#endif
