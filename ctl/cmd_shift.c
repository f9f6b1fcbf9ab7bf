/* cutoverctl shift: a growing share of the reads to one server through ProxySQL (shift.h in the
 * daemon), its progress streamed like a switchover's, and what each step really did. */
#include "ctl.h"
#include "render_impl.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char shift_help[] =
	"options (after the command):\n"
	"  -C, --cluster NAME   the cluster (needed when several are configured)\n"
	"  --to NAME            the server the reads move to (a replica; required)\n"
	"  --steps LIST         shares of the reads, ascending (default 5,10,25,50,100)\n"
	"  --hold DURATION      how long each step is held while the gates are watched (default 10s)\n"
	"  --gate LIST          what rolls it back to 0 %, e.g. 'error_rate<1%,p95<500ms,lag<1s'\n"
	"  --router NAME        the ProxySQL router (default: the cluster's only one)\n"
	"The shares are the reader hostgroup's weights; at 100 % the other readers are\n"
	"OFFLINE_SOFT.  abort rolls the shift back to 0 %; pause holds the current step.\n";

static int render_shift(FILE *out, const json_t *r, const struct render_opts *o)
{
	const json_t *x;
	size_t i;
	char *target = clean(or_q(jstr(r, "target"))), *st = clean(or_q(jstr(r, "outcome") ?: jstr(r, "state")));

	fprintf(out, "read shift to %s: %s\n", target, st);
	json_array_foreach(jget(r, "done"), i, x) {
		const json_t *seen = jget(x, "observed_percent");
		if (json_is_number(seen))
			fprintf(out, "  step %3lld%%: served %.1f%% of %lld reads\n", (long long)json_integer_value(jget(x, "percent")),
				json_number_value(seen), (long long)json_integer_value(jget(x, "reads")));
		else
			fprintf(out, "  step %3lld%%: no reads counted\n", (long long)json_integer_value(jget(x, "percent")));
	}
	free(target);
	free(st);
	return 0;
}

const struct ctl_cmd ctl_cmd_shift = {
	.name = "shift", .api = "shift", .usage = "--to NAME [--steps LIST] [--hold DURATION] [--gate LIST] [--router NAME]",
	.opts = CO_SHIFT, .help = shift_help, .build = ctl_build_args, .render = render_shift,
	.stream = render_progress, .run = ctl_run_request,
};
