#!/usr/bin/env bash
# bench-history.sh: what a non-admin client looping `history` over a large journal does to a
# switchover (issue 10, item 2: with a 15 MiB journal each call held cutoverd's event loop for
# 0.3-1.1 s, and a `nobody` client looping it stretched the write-blocked time of a switchover
# from 2.8 ms to 1,508 ms).
#
# On a 3-server sandbox behind HAProxy (cutoverd's socket_mode 0666, so that uid nobody may
# connect), one warm-up switchover is made, then cutoverd is stopped and the cluster's journal
# grows to BENCH_HISTORY_MB with copies of that switchover's entries under ids fakehist-00000,
# fakehist-00001 ... (old finished switchovers, before the journal's own entries).  Then
# BENCH_HISTORY_RUNS rounds of three switchovers each, one per mode, db1 -> db2 -> db1 ...:
#   none        no history client
#   limit20     a client of uid nobody (setpriv) looping `cutoverctl --json history` (default
#               limit, 20) as fast as it answers, from 1 s before the switchover to 1 s after
#   limitMAX    the same with --limit BENCH_HISTORY_LIMIT (100000, the largest history takes)
# each under build/cutover-load writing every BENCH_LOAD_INTERVAL_US through HAProxy (acks
# verified against the primary afterwards).  It prints a line per run and, per mode, cutoverd's
# write_blocked_ms and longest_block_ms, the client's window, the switchover's total_ms and how
# long each history call took (min / median / p95 / max), failed switchovers and writes lost.
# Figures only: nothing is asserted.
#
# Environment: BENCH_HISTORY_RUNS (5), BENCH_HISTORY_MB (15), BENCH_HISTORY_LIMIT (100000),
# BENCH_HI_POLL (1s: cutoverd's poll_interval), BENCH_LOAD_INTERVAL_US (1000),
# BENCH_DRAIN_TIMEOUT_MS (200), BENCH_DIR (/tmp/bench), BENCH_OUT (/tmp/bench-out),
# BENCH_HI_BASE_PORT (25806), BENCH_HI_WRITE_PORT (25800), BENCH_HI_READ_PORT (25801).
# Exit status: 0 when the runs were made (failed switchovers are counted, not fatal), 1 when the
# benchmark could not run (why on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build

RUNS=${BENCH_HISTORY_RUNS:-5}
JOURNAL_MB=${BENCH_HISTORY_MB:-15}
HLIMIT=${BENCH_HISTORY_LIMIT:-100000}
POLL=${BENCH_HI_POLL:-1s}
LOAD_INTERVAL_US=${BENCH_LOAD_INTERVAL_US:-1000}
DRAIN_MS=${BENCH_DRAIN_TIMEOUT_MS:-200}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_HI_BASE_PORT:-25806}
WRITE_PORT=${BENCH_HI_WRITE_PORT:-25800}
READ_PORT=${BENCH_HI_READ_PORT:-25801}
SB_DIR=$PREFIX-history
BENCH_NAME=bench-history
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
FAKE_PREFIX=fakehist-
LOOP_START_CALLS=2      # history calls answered before the switchover is asked for
LOOP_WAIT_S=120         # longest wait for them

LOAD_PID=""
HIST_PID=""
HIST_FLAG=""
RESULTS=$OUT/history-runs.tsv
MODES=(none limit20 "limit$HLIMIT")
# The columns of a run in $RESULTS, in order.
COLS=(mode run from to outcome window gap blocked longest attempts total errors lost calls during call_med call_max
	call_err reason)

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_history
	stop_load
	stop_daemon
	stop_sandbox
	exit "$rc"
}

# ---- the history client -------------------------------------------------------------------

# A client of uid nobody calling `history` (with --limit $1 unless empty) in a loop while
# HIST_FLAG exists, one line per call in $2: start and end (EPOCHREALTIME) and cutoverctl's exit
# status.  The file is opened here, as root; the loop runs as nobody.
start_history() {
	local limit=$1 out=$2
	local -a args=(--socket "$CUTOVERD_SOCK" --json --timeout 0 history)
	[[ -z $limit ]] || args+=(--limit "$limit")
	HIST_FLAG=$OUT/$BENCH_NAME-history.running
	touch "$HIST_FLAG"
	chmod 644 "$HIST_FLAG"
	# shellcheck disable=SC2016
	setpriv --reuid nobody --regid nogroup --clear-groups -- bash -c '
		flag=$1 ctl=$2; shift 2
		while [[ -e $flag ]]; do
			t0=$EPOCHREALTIME
			rc=0
			"$ctl" "$@" >/dev/null 2>&1 || rc=$?
			echo "$t0 $EPOCHREALTIME $rc"
		done' history-loop "$HIST_FLAG" "$BUILD/cutoverctl" "${args[@]}" >"$out" 2>&1 &
	HIST_PID=$!
}

stop_history() {
	[[ -n $HIST_PID ]] || return 0
	rm -f "$HIST_FLAG"
	wait "$HIST_PID" 2>/dev/null || true
	HIST_PID=""
}

# Calls in file $1 that ended.
calls_in() {
	awk 'NF == 3 { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}

# ---- the journal --------------------------------------------------------------------------

# With cutoverd stopped: the journal becomes copies of the cutover entries of its first
# switchover, under ids fakehist-00000 ..., up to JOURNAL_MB, then what it held.
grow_journal() {
	local j=$CUTOVERD_STATE_DIR/journal-${SANDBOX_CLUSTER:-sandbox}.jsonl id tmpl have want n
	id=$(jq -r 'select(.id != null) | .id' "$j" | head -n 1)
	[[ -n $id ]] || die "no switchover in $j to copy"
	tmpl=$OUT/$BENCH_NAME-template.jsonl
	jq -c --arg id "$id" 'select(.id == $id)' "$j" >"$tmpl"
	have=$(stat -c %s "$j")
	want=$((JOURNAL_MB * 1024 * 1024))
	n=$(((want - have) / $(stat -c %s "$tmpl") + 1))
	((n > 0)) || n=1
	awk -v id="$id" -v n="$n" -v p="$FAKE_PREFIX" '
		function sub_all(s, from, to,  out, k) {
			out = ""
			while ((k = index(s, from)) > 0) { out = out substr(s, 1, k - 1) to; s = substr(s, k + length(from)) }
			return out s
		}
		{ t[NR] = $0 }
		END { for (i = 0; i < n; i++) { f = sprintf("%s%05d", p, i); for (k = 1; k <= NR; k++) print sub_all(t[k], id, f) } }' \
		"$tmpl" >"$j.new"
	cat "$j" >>"$j.new"
	chmod 640 "$j.new"
	mv "$j.new" "$j"
	FAKES=$n
	JOURNAL_BYTES=$(stat -c %s "$j")
	msg "journal: $JOURNAL_BYTES bytes, $n old switchovers ${FAKE_PREFIX}00000.. before the journal's own entries"
}

# ---- one run ------------------------------------------------------------------------------

lag_known() {
	local st
	st=$(status_json) || return 1
	jq -e --arg c "$1" '.servers[] | select(.name == $c) | .lag_ms | type == "number"' <<<"${st:-{\}}" >/dev/null 2>&1
}

wait_ready() {
	local to=$1 deadline=$((SECONDS + HEALTH_TIMEOUT_S))
	until healthy && lag_known "$to"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# The acknowledged writes of the run's load missing on server $1, or "-".
lost_on() {
	local port_var=${1^^}_PORT
	[[ -n ${!port_var-} ]] || { echo -; return 0; }
	"$BUILD/cutover-load" --verify --acks "$LOAD_ACKS" --host 127.0.0.1 --port "${!port_var}" \
		--user "$APP_USER" --password-file "$APP_PASSWORD_FILE" 2>>"$OUT/$BENCH_NAME-verify.err" |
		jq -r '.acked_missing // "-"' 2>/dev/null || echo -
}

# A sandbox, cutoverd on it (its socket open to every uid), one warm-up switchover db1 -> db2
# whose entries the journal's old switchovers copy, the journal grown, cutoverd started again.
setup_cluster() {
	start_sandbox
	grep -q '^socket_mode' "$CUTOVERD_CONF" || sed -i 's|^socket = .*|&\nsocket_mode = 0666|' "$CUTOVERD_CONF"
	start_daemon
	wait_ready db2 || msg "db2's lag is not known; switching anyway"
	msg "warm-up switchover db1 -> db2 (its entries are the old switchovers' template)"
	api '{"id":1,"cmd":"switchover","args":{"to":"db2"}}' 120 >"$OUT/$BENCH_NAME-warmup.jsonl" 2>&1 || true
	[[ $(report_of "$OUT/$BENCH_NAME-warmup.jsonl" | jq -r '.outcome // empty') == "done" ]] ||
		die "the warm-up switchover did not end done: $(tail -c 400 "$OUT/$BENCH_NAME-warmup.jsonl")"
	stop_daemon
	grow_journal
	start_daemon
}

# After a run that did not end done: wait for the daemon's own rollback to leave a healthy
# cluster, else build everything again.
restore() {
	if kill -0 "$DAEMON_PID" 2>/dev/null && wait_healthy; then
		return 0
	fi
	msg "the cluster is not healthy ${HEALTH_TIMEOUT_S}s later; rebuilding the sandbox and the journal"
	stop_daemon
	stop_sandbox
	setup_cluster
}

# One switchover under load in mode $1 (run $2); appends its line to $RESULTS.
one_run() {
	local mode=$1 run=$2 st from to tag reply final report outcome reason load ver now_primary hist limit
	local t_ask t_done calls during call_stats deadline
	if ! wait_healthy; then
		msg "run $mode $run: the cluster is not healthy before the run"
		restore
	fi
	st=$(status_json)
	from=$(jq -r .primary <<<"$st")
	case $from in
	db1) to=db2 ;;
	*) to=db1 ;;
	esac
	wait_ready "$to" || msg "run $mode $run: $to's lag is not known; switching anyway"
	tag=history-$mode-$run
	hist=$OUT/$tag.history.tsv
	: >"$hist"
	start_load "$tag"
	sleep 1
	if [[ $mode != none ]]; then
		limit=${mode#limit}
		[[ $limit == 20 ]] && limit=""
		start_history "$limit" "$hist"
		deadline=$((SECONDS + LOOP_WAIT_S))
		until (($(calls_in "$hist") >= LOOP_START_CALLS)); do
			if ((SECONDS >= deadline)) || ! kill -0 "$HIST_PID" 2>/dev/null; then
				msg "run $tag: the history client made $(calls_in "$hist") calls in ${LOOP_WAIT_S}s ($(head -c 300 "$hist"))"
				break
			fi
			sleep 0.05
		done
	fi
	reply=$OUT/$tag.switchover.jsonl
	t_ask=$EPOCHREALTIME
	api "{\"id\":1,\"cmd\":\"switchover\",\"args\":{\"to\":\"$to\",\"drain_timeout_ms\":$DRAIN_MS}}" 300 >"$reply" 2>&1 || true
	t_done=$EPOCHREALTIME
	sleep 1
	stop_history
	stop_load
	final=$(jq -c 'select(has("ok"))' "$reply" 2>/dev/null | tail -n 1) || final=""
	report=$(report_of "$reply")
	outcome=$(jq -r '.outcome // empty' <<<"$report")
	reason=$(jq -r 'if .ok then "" else (.error.report.reason // .error.message // "") end' <<<"${final:-{\}}" 2>/dev/null) || reason=""
	if [[ -z $final ]]; then
		outcome=noreply
		reason="no reply from cutoverd ($(head -c 300 "$reply" | tr '\n' ' '))"
	fi
	[[ -n $outcome ]] || outcome=error
	[[ $outcome == "done" ]] || msg "run $tag ($from → $to): outcome $outcome: $reason"
	if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
		msg "cutoverd is gone (log: $DAEMON_LOG); starting it again"
		DAEMON_PID=""
		start_daemon
	fi
	now_primary=$(status_json | jq -r '.primary // empty') || now_primary=""
	ver=$(lost_on "${now_primary:-$from}")
	load=$(cat "$LOAD_SUMMARY" 2>/dev/null) || load=""
	[[ -n $load ]] || load='{}'
	calls=$(calls_in "$hist")
	# calls overlapping the switchover; each call's ms (median, max); calls that failed
	during=$(awk -v a="$t_ask" -v b="$t_done" 'NF == 3 && $2 >= a && $1 <= b { n++ } END { print n + 0 }' "$hist")
	call_stats=$(awk 'NF == 3 { print ($2 - $1) * 1000, $3 }' "$hist" | sort -g |
		awk '{ v[NR] = $1; if ($2 != 0) e++ }
		END { if (NR) printf "%.1f %.1f %d", v[int((NR + 1) / 2)], v[NR], e; else print "- - 0" }')
	# shellcheck disable=SC2086 # call_stats: three columns
	{
		printf '%s\t' "$mode" "$run" "$from" "$to" "$outcome" \
			"$(jq -r '.window_ms // "-"' <<<"$load")" \
			"$(jq -r '.longest_gap_ms // "-"' <<<"$load")" \
			"$(jq -r '.write_blocked_ms // "-"' <<<"$report")" \
			"$(jq -r '.longest_block_ms // "-"' <<<"$report")" \
			"$(jq -r '.fence_attempts // "-"' <<<"$report")" \
			"$(jq -r '.total_ms // "-"' <<<"$report")" \
			"$(jq -r '.errors // "-"' <<<"$load")" \
			"$ver" "$calls" "$during" $call_stats
		printf '%s\n' "${reason//$'\t'/ }"
	} >>"$RESULTS"
	[[ $outcome == "done" ]] || restore
	return 0
}

# ---- report -------------------------------------------------------------------------------

col() {
	local i
	for i in "${!COLS[@]}"; do
		[[ ${COLS[i]} == "$1" ]] && { echo $((i + 1)); return; }
	done
	die "internal: no column $1"
}

print_runs() {
	printf '%-12s %-4s %-8s %-11s %8s %8s %8s %8s %4s %8s %4s %4s %5s %5s %8s %8s\n' \
		mode run 'from>to' outcome window gap blocked longest try total err lost calls durng call_med call_max
	awk -F'\t' '{
		printf "%-12s %-4s %-8s %-11s %8s %8s %8s %8s %4s %8s %4s %4s %5s %5s %8s %8s\n",
			$1, $2, $3 ">" $4, $5, f($6), f($7), f($8), f($9), $10, f($11), $12, $13, $14, $15, f($16), f($17)
	}
	function f(v) { return v == "-" ? v : sprintf("%.1f", v) }' "$RESULTS"
	echo "(ms; window: the load's last ack from the old primary to the first from the new; gap: its longest"
	echo " time between two acks over the run; blocked: cutoverd's write_blocked_ms; longest: longest_block_ms"
	echo " (counts fence tries that were undone); try: fence_attempts; err: errors the load saw; lost:"
	echo " acknowledged writes missing on the primary afterwards; calls: history calls the nobody client made"
	echo " in the run, durng: those overlapping the switchover; call_med/max: how long one took, cutoverctl's"
	echo " start included)"
}

# min / median / p95 / max (nearest rank) of column $2 over the runs of mode $1 that have a figure.
stat_line() {
	local mode=$1 c
	c=$(col "$2")
	awk -F'\t' -v m="$mode" -v c="$c" '$1 == m && $c != "-" { print $c }' "$RESULTS" | stats_of "$3"
}

# min / median / p95 / max of every history call of mode $1's runs.
call_line() {
	local f
	for f in "$OUT"/history-"$1"-*.history.tsv; do
		[[ -e $f ]] && awk 'NF == 3 { print ($2 - $1) * 1000 }' "$f"
	done | stats_of "history call"
}

sum_col() {
	local c
	c=$(col "$2")
	awk -F'\t' -v m="$1" -v c="$c" '$1 == m && $c != "-" { s += $c } END { print s + 0 }' "$RESULTS"
}

print_summary() {
	local mode=$1
	echo "-- $mode --"
	printf '  %-26s %8s %8s %8s %8s %4s\n' '(ms)' min median p95 max n
	stat_line "$mode" blocked "write_blocked_ms"
	stat_line "$mode" longest "longest_block_ms"
	stat_line "$mode" window "window (client)"
	stat_line "$mode" gap "longest gap (client)"
	stat_line "$mode" total "total_ms"
	[[ $mode == none ]] || call_line "$mode"
	awk -F'\t' -v m="$mode" '$1 == m { n++; if ($5 != "done") f++ } END { printf "  runs %d, not done %d", n, f }' "$RESULTS"
	printf '; acknowledged writes lost %d; load errors %d' "$(sum_col "$mode" lost)" "$(sum_col "$mode" errors)"
	[[ $mode == none ]] || printf '; history calls %d (%d overlapping the switchovers), %d failed' \
		"$(sum_col "$mode" calls)" "$(sum_col "$mode" during)" "$(sum_col "$mode" call_err)"
	echo
	awk -F'\t' -v m="$mode" '$1 == m && $5 != "done" { printf "  not done: run %s (%s>%s) %s: %s\n", $2, $3, $4, $5, $19 }' "$RESULTS"
}

check_settings() {
	local v
	for v in RUNS JOURNAL_MB HLIMIT LOAD_INTERVAL_US DRAIN_MS; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}'; see the BENCH_* variables at the top of $0)"
	done
	((HLIMIT >= 1 && HLIMIT <= 100000)) || die "BENCH_HISTORY_LIMIT must be 1..100000 (history's range)"
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load && -x $BUILD/cutoverctl ]] ||
		die "$BUILD/cutoverd, cutover-load or cutoverctl is missing: run make all"
	command -v setpriv >/dev/null || die "setpriv is missing (util-linux)"
	if ! id nobody >/dev/null 2>&1 || ! getent group nogroup >/dev/null; then
		die "no user nobody or group nogroup"
	fi
	setpriv --reuid nobody --regid nogroup --clear-groups -- "$BUILD/cutoverctl" --version >/dev/null 2>&1 ||
		die "uid nobody cannot run $BUILD/cutoverctl (the directories on its path must be searchable by others)"
}

main() {
	local i m
	check_settings
	mkdir -p "$OUT"
	: >"$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	msg "starting a 3-server sandbox in $SB_DIR (poll_interval $POLL)"
	setup_cluster
	for ((i = 1; i <= RUNS; i++)); do
		for m in "${MODES[@]}"; do
			msg "round $i/$RUNS: switchover with history client: $m"
			one_run "$m" "$i"
		done
	done
	echo
	echo "== history over a $JOURNAL_MB MiB journal ($FAKES old switchovers, $JOURNAL_BYTES bytes) during switchovers =="
	echo "   (load every ${LOAD_INTERVAL_US} us through HAProxy, drain_timeout_ms $DRAIN_MS; a client of uid nobody"
	echo "   looping cutoverctl --json history, default limit or --limit $HLIMIT, or none)"
	print_runs
	for m in "${MODES[@]}"; do
		print_summary "$m"
	done
	echo "  the issue's figures (before the fix): history 0.3-1.1 s a call with a 15 MiB journal; write-blocked"
	echo "  time 2.8 ms without the loop, 1,508 ms with it."
	echo "  per-run files (acks, load summaries, switchover replies, history call times, cutoverd logs): $OUT"
}

main "$@"
