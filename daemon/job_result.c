/* A finished job's result: filled in from the job, then judged and described for the callers. */
#include "job_impl.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

void job_fill_result(struct job *job, struct job_result *r)
{
	memset(r, 0, sizeof(*r));
	r->program = job->argv[0] ? job->argv[0] : "(none)";
	r->pid = job->pid;
	r->spawn_failed = job->spawn_failed;
	r->timed_out = job->timed_out;
	r->stopped = job->stopped;
	if (job->status_known && WIFEXITED(job->status)) {
		r->exited = true;
		r->exit_status = WEXITSTATUS(job->status);
	} else if (job->status_known && WIFSIGNALED(job->status)) {
		r->signal = WTERMSIG(job->status);
	}
	strlcpy_(r->error, job->error, sizeof(r->error));
	r->output = job->out;
	r->output_len = job->out_len;
	r->output_dropped = job->dropped;
	r->duration_ms = now_mono_ms() - job->start_ms;
}

bool job_result_ok(const struct job_result *r)
{
	return !r->spawn_failed && !r->timed_out && !r->stopped && r->exited && r->exit_status == 0;
}

const char *job_result_describe(const struct job_result *r, char *buf, size_t len)
{
	if (r->spawn_failed)
		snprintf(buf, len, "could not start: %s", r->error);
	else if (r->timed_out || r->stopped)
		snprintf(buf, len, "%s", r->error);
	else if (r->exited)
		snprintf(buf, len, "exit status %d", r->exit_status);
	else if (r->signal)
		snprintf(buf, len, "killed by signal %d (%s)", r->signal, strsignal(r->signal));
	else
		snprintf(buf, len, "%s", *r->error ? r->error : "exit status unknown");
	return buf;
}

const char *job_result_last_line(const struct job_result *r, char *buf, size_t len)
{
	const char *o = r->output ? r->output : "";
	size_t end = r->output ? r->output_len : 0, start;

	while (end > 0 && (o[end - 1] == '\n' || o[end - 1] == '\r' || o[end - 1] == ' ' ||
			   o[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && o[start - 1] != '\n')
		start--;
	if (len) {
		size_t n = end - start < len - 1 ? end - start : len - 1;
		memcpy(buf, o + start, n);
		buf[n] = '\0';
	}
	return buf;
}
