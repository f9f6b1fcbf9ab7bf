/* Human output of cutoverctl: each API result rendered for people (tables, trees, event lines).
 * Pure functions of (JSON, options) writing to a FILE *, no global state, so the unit tests
 * render fixed documents into memory and compare lines.  A member the daemon did not send is
 * shown as "?"; nothing here trusts the shape of the input.
 *
 * Each renderer is defined in the cmd_*.c file of its command; what they share is in render.c
 * (render_impl.h). */
#ifndef CUTOVER_CTL_RENDER_H
#define CUTOVER_CTL_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Cells longer than this (MySQL gtid_executed with many UUIDs) are cut with an ellipsis. */
#define RENDER_GTID_MAX 40
/* The ERROR column is cut to the terminal width, but never below this. */
#define RENDER_ERROR_MIN 16

struct render_opts {
	bool color;     /* ANSI colors (cutoverctl: stdout is a tty and NO_COLOR unset or empty) */
	int width;      /* terminal columns, to cut the ERROR column; 0 = never cut */
};

/* Render one command's result.  0, or -1 when the result lacks what the renderer needs at
 * the top level (e.g. no "clusters" array) — then nothing was written. */
typedef int (*render_fn)(FILE *out, const json_t *result, const struct render_opts *o);

int render_status(FILE *out, const json_t *result, const struct render_opts *o);
int render_topology(FILE *out, const json_t *result, const struct render_opts *o);
int render_version(FILE *out, const json_t *result, const struct render_opts *o);
int render_config(FILE *out, const json_t *result, const struct render_opts *o);
int render_reload(FILE *out, const json_t *result, const struct render_opts *o);
/* Any result as indented JSON (commands without a human form). */
int render_json(FILE *out, const json_t *result, const struct render_opts *o);

/* One event object (the "event" member of a stream line) as
 * "HH:MM:SS.mmm CLUSTER SERVER: MESSAGE" in local time. */
int render_event(FILE *out, const json_t *event, const struct render_opts *o);

/* ---- switchover commands ---- */

/* One progress object (the "progress" member of a switchover's stream line) as
 * "  +12.3 ms  fence      ok    MESSAGE": elapsed time, phase, status, message. */
int render_progress(FILE *out, const json_t *progress, const struct render_opts *o);
/* A switchover's final report (the reply's result, or its error's "report"): the outcome
 * (DONE, DRY RUN OK, REFUSED, ROLLED BACK, FAILED), the reason, the checks that matter, the
 * phase table, how long writes were blocked, and when present the servers and next steps.
 * A failover's report ("kind":"failover") says FAILOVER, whether cutoverd started it on its
 * own, and lists the replicas left alone because they hold transactions the new primary
 * lacks ("errant"). */
int render_report(FILE *out, const json_t *report, const struct render_opts *o);
/* What a switchover (or a failover, by the report's "kind") is about to do, from a dry run's
 * report and the arguments it will be sent with: cluster, old and new primary, every check,
 * the options in effect. */
/* The next step for a preflight check that failed, by its name; NULL when none is obvious. */
const char *check_next_step(const char *check);
/* The plan of a switchover or failover from its dry run's report, the arguments it will be sent
 * with, and the cluster's object of the config command's result (NULL if unknown), for the
 * values of the settings not given. */
int render_plan(FILE *out, const json_t *report, const json_t *args, const json_t *ccfg, const struct render_opts *o);
/* The result of history: one row per switchover, oldest first. */
int render_history(FILE *out, const json_t *result, const struct render_opts *o);
/* The one-line confirmations of abort, pause, resume and resolve. */
int render_abort(FILE *out, const json_t *result, const struct render_opts *o);
int render_pause(FILE *out, const json_t *result, const struct render_opts *o);
int render_resume(FILE *out, const json_t *result, const struct render_opts *o);
int render_resolve(FILE *out, const json_t *result, const struct render_opts *o);
/* The result of fence, unfence and stonith: "db3 fenced: read_only is now 1". */
int render_action(FILE *out, const json_t *result, const struct render_opts *o);
/* "switchover ID: OLD → NEW, phase P (state S)" for a status "cutover" object. */
int render_cutover_line(FILE *out, const json_t *cutover, const struct render_opts *o);

/* Display width of a UTF-8 string (code points; no double-width scripts in our output). */
size_t render_width(const char *s);

#endif
