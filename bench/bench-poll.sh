#!/usr/bin/env bash
# bench-poll.sh: what watching a cluster costs.  For each configuration (a 3-server sandbox
# polled at 10 Hz, a 20-server one at 2 Hz) it starts a sandbox and cutoverd, lets the first
# polls settle, then measures the daemon's CPU (utime+stime from /proc/PID/stat over wall time)
# first while it only polls, then over the main window while `status` requests spread over it
# measure their round trip (build/bench/status-rtt); RSS is the largest VmRSS sampled every
# second over both.  It prints figures and the
# targets next to them; it never fails on a figure (the machines are shared and noisy).
#
# Environment: BENCH_POLL_SECONDS (30), BENCH_POLL_QUIET_SECONDS (half of it: the window without
# status requests measured first), BENCH_RTT_REQUESTS (500), BENCH_POLL_CONFIGS
# ("3:100ms 20:500ms", servers:poll_interval), BENCH_DIR (/tmp/bench), BENCH_OUT
# (/tmp/bench-out), BENCH_BASE_PORT (25306), BENCH_WRITE_PORT (25300), BENCH_READ_PORT (25301).
# Exit status: 0 when the figures were taken, 1 when the benchmark could not run (why on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
SANDBOX=$ROOT/tests/sandbox/sandbox.sh
RTT=$BUILD/bench/status-rtt

WINDOW_S=${BENCH_POLL_SECONDS:-30}
RTT_N=${BENCH_RTT_REQUESTS:-500}
QUIET_S=${BENCH_POLL_QUIET_SECONDS:-}     # default set in main, once WINDOW_S is checked
CONFIGS=${BENCH_POLL_CONFIGS:-"3:100ms 20:500ms"}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_BASE_PORT:-25306}
WRITE_PORT=${BENCH_WRITE_PORT:-25300}
READ_PORT=${BENCH_READ_PORT:-25301}
READY_TIMEOUT_S=60
# Targets printed next to the figures, never asserted.
TARGET_CPU_PCT=2
TARGET_RSS_MIB=20
TARGET_P99_MS=5

SB_DIR=""        # the sandbox this script started and has not stopped yet
DAEMON_PID=""
RTT_PID=""
ROWS=()

msg() { printf 'bench-poll: %s\n' "$*" >&2; }
die() {
	msg "$*"
	exit 1
}
now_us() { echo $((10#${EPOCHREALTIME//[^0-9]/})); }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n $RTT_PID ]] && kill "$RTT_PID" 2>/dev/null && wait "$RTT_PID" 2>/dev/null
	stop_daemon
	stop_sandbox
	exit "$rc"
}

# ---- sandbox and daemon -------------------------------------------------------------------

start_sandbox() {
	local dir=$1 n=$2 poll=$3
	SB_DIR=$dir
	SANDBOX_DIR=$dir "$SANDBOX" start --fresh --dir "$dir" --servers "$n" --base-port "$BASE_PORT" \
		--write-port "$WRITE_PORT" --read-port "$READ_PORT" --poll "$poll" ||
		die "could not start a $n-server sandbox in $dir (sandbox.sh said why above)"
}

stop_sandbox() {
	[[ -n $SB_DIR ]] || return 0
	SANDBOX_DIR=$SB_DIR "$SANDBOX" stop --dir "$SB_DIR" >/dev/null 2>&1 ||
		msg "sandbox.sh stop --dir $SB_DIR failed; stop it by hand"
	SB_DIR=""
}

# One request line to the daemon; prints every line of the answer.
api() {
	printf '%s\n' "$1" | socat -t "${2:-10}" - "UNIX-CONNECT:$SB_DIR/run/cutoverd.sock"
}

start_daemon() {
	local log=$1 deadline verdict
	"$BUILD/cutoverd" -f -c "$SB_DIR/cutoverd.conf" >"$log" 2>&1 &
	DAEMON_PID=$!
	deadline=$((SECONDS + READY_TIMEOUT_S))
	# Ready when every server has been seen and the cluster is healthy.
	while :; do
		kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "cutoverd exited during start-up (log above: $log)"; }
		verdict=$(api '{"id":1,"cmd":"status"}' 2 2>/dev/null | jq -r '.result.clusters[0].verdict // empty' 2>/dev/null) || verdict=""
		[[ $verdict == OK ]] && return 0
		if ((SECONDS >= deadline)); then
			tail -n 20 "$log" >&2
			die "cutoverd did not report the sandbox OK within ${READY_TIMEOUT_S}s (verdict '${verdict:-none}'; log: $log)"
		fi
		sleep 0.2
	done
}

stop_daemon() {
	local i
	[[ -n $DAEMON_PID ]] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

# ---- measurements -------------------------------------------------------------------------

# utime+stime of process $1 in clock ticks (all its threads).
cpu_ticks() {
	local stat f
	read -r stat <"/proc/$1/stat"
	stat=${stat##*) }
	read -ra f <<<"$stat"
	# After the command name, field 3 (state) is f[0]; utime and stime are fields 14 and 15.
	echo $((f[11] + f[12]))
}

rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

cpu_pct() {
	awk -v c="$1" -v hz="$2" -v t="$3" 'BEGIN { printf "%.2f", c / hz / (t / 1e6) * 100 }'
}

# Sample the daemon's RSS every second into max_rss (the caller's) until time $1
# (microseconds, as now_us); dies if the daemon does.
sample_rss_until() {
	local end=$1 log=$2 rss
	while :; do
		kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 20 "$log" >&2; die "cutoverd died during the measurement (log: $log)"; }
		rss=$(rss_kib "$DAEMON_PID")
		((rss > max_rss)) && max_rss=$rss
		(($(now_us) + 1000000 <= end)) || break
		sleep 1
	done
	(($(now_us) < end)) && sleep "$(awk -v u=$((end - $(now_us))) 'BEGIN { printf "%.3f", (u > 0 ? u / 1e6 : 0) }')"
	return 0
}

# Measure one configuration; appends a row to ROWS.
measure() {
	local n=$1 poll=$2 dir=$PREFIX-poll$1 log rtt_out hz t0 t1 c0 c1 rss max_rss=0 cpu rtt
	local p50 p99 max errs poll_ms wall cpu_quiet
	log=$OUT/poll-$n-cutoverd.log
	rtt_out=$OUT/poll-$n-rtt.json
	msg "$n servers, poll_interval $poll: starting the sandbox"
	start_sandbox "$dir" "$n" "$poll"
	start_daemon "$log"
	poll_ms=$(api '{"id":1,"cmd":"status"}' | jq -r '.result.poll_interval_ms')
	# Let the first polls, connections and heartbeat tables settle before measuring.
	sleep 2
	hz=$(getconf CLK_TCK)
	# First the polling alone, then the same with status requests: the target is about the
	# polling, the requests show what a monitoring client adds.
	msg "$n servers: measuring the polling alone for ${QUIET_S}s"
	t0=$(now_us)
	c0=$(cpu_ticks "$DAEMON_PID")
	sample_rss_until $((t0 + QUIET_S * 1000000)) "$log"
	c1=$(cpu_ticks "$DAEMON_PID")
	t1=$(now_us)
	cpu_quiet=$(cpu_pct $((c1 - c0)) "$hz" $((t1 - t0)))
	msg "$n servers: measuring for ${WINDOW_S}s ($RTT_N status requests spread over it)"
	"$RTT" -s "$SB_DIR/run/cutoverd.sock" -n "$RTT_N" \
		-i "$(awk -v w="$WINDOW_S" -v n="$RTT_N" 'BEGIN { printf "%.3f", w * 1000 / n }')" \
		>"$rtt_out" 2>"$OUT/poll-$n-rtt.err" &
	RTT_PID=$!
	t0=$(now_us)
	c0=$(cpu_ticks "$DAEMON_PID")
	sample_rss_until $((t0 + WINDOW_S * 1000000)) "$log"
	c1=$(cpu_ticks "$DAEMON_PID")
	t1=$(now_us)
	cpu=$(cpu_pct $((c1 - c0)) "$hz" $((t1 - t0)))
	# status-rtt ends on its own schedule, a fraction of an interval after the window.
	wait "$RTT_PID" || true
	RTT_PID=""
	wall=$(awk -v t="$((t1 - t0))" 'BEGIN { printf "%.1f", t / 1e6 }')
	rtt=$(cat "$rtt_out")
	[[ -n $rtt ]] || die "status-rtt printed nothing ($(cat "$OUT/poll-$n-rtt.err"))"
	p50=$(jq -r '.p50_ms // "-"' <<<"$rtt")
	p99=$(jq -r '.p99_ms // "-"' <<<"$rtt")
	max=$(jq -r '.max_ms // "-"' <<<"$rtt")
	errs=$(jq -r '"\(.errors)/\(.requests)"' <<<"$rtt")
	if [[ $(jq -r .errors <<<"$rtt") != 0 ]]; then
		msg "$n servers: status errors: $(jq -r .first_error <<<"$rtt")"
	fi
	ROWS+=("$(printf '%-8s %-6s %-7s %6s %7s %7s %8s %9s %9s %9s %8s %6s' \
		"$n" "$poll" "${poll_ms}ms" "${wall}s" "$cpu_quiet" "$cpu" \
		"$(awk -v k="$max_rss" 'BEGIN { printf "%.1f", k / 1024 }')" \
		"$p50" "$p99" "$max" "$errs" "$(jq -r .reply_bytes <<<"$rtt")")")
	ROWS+=("$(printf '         targets: %s' "$(targets "$n" "$poll_ms" "$cpu_quiet" "$max_rss" "$p99")")")
	stop_daemon
	stop_sandbox
}

# The targets that apply to this row, each with "met" or "MISSED" (a note, not a failure).
targets() {
	local n=$1 poll_ms=$2 cpu=$3 rss_kib=$4 p99=$5 out=()
	if ((n >= 20 && poll_ms >= 500)); then
		out+=("CPU < ${TARGET_CPU_PCT}% $(verdict "$cpu" "$TARGET_CPU_PCT")")
		out+=("RSS < ${TARGET_RSS_MIB} MiB $(verdict "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')" "$TARGET_RSS_MIB")")
	fi
	out+=("status p99 < ${TARGET_P99_MS} ms $(verdict "$p99" "$TARGET_P99_MS")")
	local IFS=';' joined
	joined="${out[*]}"
	echo "${joined//;/; }"
}

verdict() {
	[[ $1 == - ]] && { echo "(no figure)"; return; }
	awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "(met)" : "(MISSED)" }'
}

main() {
	local c n poll
	[[ -x $RTT ]] || die "$RTT is missing: bench/run.sh builds it"
	[[ -x $BUILD/cutoverd ]] || die "$BUILD/cutoverd is missing: run make all"
	[[ $WINDOW_S =~ ^[1-9][0-9]*$ ]] || die "BENCH_POLL_SECONDS must be a whole number of seconds >= 1 (got '$WINDOW_S')"
	[[ -n $QUIET_S ]] || QUIET_S=$(((WINDOW_S + 1) / 2))
	[[ $QUIET_S =~ ^[1-9][0-9]*$ ]] || die "BENCH_POLL_QUIET_SECONDS must be a whole number of seconds >= 1 (got '$QUIET_S')"
	[[ $RTT_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_RTT_REQUESTS must be >= 1 (got '$RTT_N')"
	mkdir -p "$OUT"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	for c in $CONFIGS; do
		n=${c%%:*} poll=${c#*:}
		[[ $n =~ ^[0-9]+$ && -n $poll && $c == *:* ]] || die "BENCH_POLL_CONFIGS: '$c' is not SERVERS:POLL_INTERVAL (e.g. 20:500ms)"
		measure "$n" "$poll"
	done
	echo
	echo "== poll cost: cutoverd CPU (% of one core), RSS, status round trip =="
	printf '%-8s %-6s %-7s %6s %7s %7s %8s %9s %9s %9s %8s %6s\n' servers poll actual window \
		'CPU%' '+st CPU%' 'RSS MiB' 'st p50ms' 'st p99ms' 'st maxms' 'st errs' 'bytes'
	printf '%s\n' "${ROWS[@]}"
	echo "CPU%: polling alone over ${QUIET_S}s; +st CPU%: over the window (${WINDOW_S}s) while $RTT_N status"
	echo "requests (a new connection each) are spread over it; RSS: largest VmRSS sampled each second."
	echo "Targets (printed, not asserted): 20 servers at 2 Hz: CPU < ${TARGET_CPU_PCT} %, RSS < ${TARGET_RSS_MIB} MiB; status p99 < ${TARGET_P99_MS} ms."
}

main "$@"
