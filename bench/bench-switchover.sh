#!/usr/bin/env bash
# bench-switchover.sh: how long writes stop during a switchover, seen from the application and
# from cutoverd, and whether any acknowledged write is lost.
#
# On a 3-server sandbox behind HAProxy, each run starts build/cutover-load (one INSERT every
# 1 ms through the write port), waits 1 s, asks cutoverd to switch db1 → db2 (then back, and so
# on; drain_timeout_ms 200), waits 1 s, stops the load and verifies the acknowledged writes
# against the new primary.  Then the lagging-candidate runs: before each switchover one large
# transaction committed on the primary keeps the candidate applying for seconds; the switchover
# is requested once the candidate's heartbeat lag has reached BENCH_LAG_TRIGGER_MS, with
# max_lag_ms 60000 so that preflight accepts it, and the daemon waits for catch-up before
# fencing.  It prints a table per run and a summary; it never fails on a figure.
#
# Environment: BENCH_SWITCHOVERS (20), BENCH_LAG_RUNS (5), BENCH_LAG_ROWS (500000: rows of the
# first lagging transaction; later runs scale it towards BENCH_LAG_TARGET_S, 3 s of work),
# BENCH_LAG_TRIGGER_MS (1000), BENCH_SW_POLL (1s: cutoverd's poll_interval), BENCH_LOAD_INTERVAL_US
# (1000), BENCH_DRAIN_TIMEOUT_MS (200), BENCH_DIR (/tmp/bench), BENCH_OUT (/tmp/bench-out),
# BENCH_BASE_PORT (25306), BENCH_WRITE_PORT (25300), BENCH_READ_PORT (25301).
# Exit status: 0 when the runs were made (failed switchovers are counted, not fatal), 1 when the
# benchmark could not run (why on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build

RUNS=${BENCH_SWITCHOVERS:-20}
LAG_RUNS=${BENCH_LAG_RUNS:-5}
LAG_ROWS=${BENCH_LAG_ROWS:-500000}
LAG_TARGET_S=${BENCH_LAG_TARGET_S:-3}
LAG_TRIGGER_MS=${BENCH_LAG_TRIGGER_MS:-1000}
POLL=${BENCH_SW_POLL:-1s}
LOAD_INTERVAL_US=${BENCH_LOAD_INTERVAL_US:-1000}
DRAIN_MS=${BENCH_DRAIN_TIMEOUT_MS:-200}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_BASE_PORT:-25306}
WRITE_PORT=${BENCH_WRITE_PORT:-25300}
READ_PORT=${BENCH_READ_PORT:-25301}
SB_DIR=$PREFIX-sw
BENCH_NAME=bench-switchover
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
LAG_WAIT_S=20           # longest wait for the candidate's lag to reach the trigger
LAG_MIN_ROWS=20000
LAG_MAX_ROWS=20000000

LOAD_PID=""
RESULTS=$OUT/switchover-runs.tsv
# The columns of a run in $RESULTS, in order.
COLS=(kind run from to outcome window gap blocked preflight drain catchup fence sync promote
	verify total errors lost ebc rows exec_s lag_ms sbm reason)

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_load
	stop_daemon
	stop_sandbox
	exit "$rc"
}

# ---- sandbox and daemon: bench/common.sh ---------------------------------------------------

# After a failed run: wait for the daemon's own rollback to leave a healthy cluster, else build
# the sandbox again.
restore() {
	local st
	if kill -0 "$DAEMON_PID" 2>/dev/null && wait_healthy; then
		msg "the cluster is healthy again (primary $(status_json | jq -r .primary))"
		return 0
	fi
	st=$(status_json) || true
	msg "the cluster is not healthy ${HEALTH_TIMEOUT_S}s later (verdict $(jq -r '.verdict // "?"' <<<"${st:-{\}}"):" \
		"$(jq -r '(.reasons // []) | join("; ")' <<<"${st:-{\}}")); rebuilding the sandbox"
	stop_daemon
	stop_sandbox
	start_sandbox
	start_daemon
}

# ---- load (start_load, stop_load: bench/common.sh) ---------------------------------------

# The acknowledged writes missing on server $1 (and those that errored but committed).
verify_load() {
	local server=$1 port_var
	port_var=${server^^}_PORT
	[[ -n ${!port_var-} ]] || { echo '{}'; return 0; }
	"$BUILD/cutover-load" --verify --acks "$LOAD_ACKS" --host 127.0.0.1 --port "${!port_var}" \
		--user "$APP_USER" --password-file "$APP_PASSWORD_FILE" 2>>"$OUT/verify.err" || true
}

# ---- one run ------------------------------------------------------------------------------

# The lagging-candidate preparation: commit one large transaction on the primary $1, then wait
# until candidate $2 reports a heartbeat lag of at least LAG_TRIGGER_MS.  Sets R_rows, R_exec_s,
# R_lag_ms, R_sbm.
make_lag() {
	local primary=$1 cand=$2 t0 deadline st
	R_rows=$LAG_ROWS
	t0=$(now_us)
	if ! sb_sql "$primary" "INSERT INTO app.lag (n, pad) SELECT seq, REPEAT('x', 60) FROM app.seq_1_to_$LAG_ROWS" \
		>>"$OUT/lag-sql.err" 2>&1; then
		msg "the lagging transaction failed on $primary (see $OUT/lag-sql.err)"
	fi
	R_exec_s=$(awk -v t=$(($(now_us) - t0)) 'BEGIN { printf "%.2f", t / 1e6 }')
	deadline=$((SECONDS + LAG_WAIT_S))
	while :; do
		st=$(status_json) || st=""
		R_lag_ms=$(jq -r --arg c "$cand" '.servers[] | select(.name == $c) | .lag_ms // "-"' <<<"${st:-{\}}" 2>/dev/null) || R_lag_ms=-
		R_sbm=$(jq -r --arg c "$cand" '.servers[] | select(.name == $c) | .seconds_behind_master // "-"' <<<"${st:-{\}}" 2>/dev/null) || R_sbm=-
		[[ $R_lag_ms =~ ^[0-9]+$ ]] && ((R_lag_ms >= LAG_TRIGGER_MS)) && break
		if ((SECONDS >= deadline)); then
			msg "$cand did not lag ${LAG_TRIGGER_MS} ms within ${LAG_WAIT_S}s (lag_ms $R_lag_ms); switching anyway"
			break
		fi
		sleep 0.05
	done
	# Aim the next run's transaction at LAG_TARGET_S of work on this machine.
	LAG_ROWS=$(awk -v r="$LAG_ROWS" -v e="$R_exec_s" -v t="$LAG_TARGET_S" -v lo="$LAG_MIN_ROWS" \
		-v hi="$LAG_MAX_ROWS" 'BEGIN { n = e > 0.05 ? r * t / e : r * 2; n = n < lo ? lo : n > hi ? hi : n;
		printf "%d", n }')
}

# One switchover under load; appends its line to $RESULTS.  $1: plain|lag, $2: run number.
one_run() {
	local kind=$1 run=$2 st from to tag args reply final report outcome reason load ver now_primary
	local -a phase_ms
	R_rows=- R_exec_s=- R_lag_ms=- R_sbm=-
	if ! wait_healthy; then
		msg "run $kind $run: the cluster is not healthy before the run; restoring"
		restore
	fi
	st=$(status_json)
	from=$(jq -r .primary <<<"$st")
	case $from in
	db1) to=db2 ;;
	*) to=db1 ;;
	esac
	tag=$kind-$run
	if [[ $kind == lag ]]; then
		sb_sql "$from" "DROP TABLE IF EXISTS app.lag; CREATE TABLE app.lag (id BIGINT AUTO_INCREMENT PRIMARY KEY, n BIGINT, pad VARCHAR(64)) ENGINE=InnoDB" ||
			msg "run $tag: could not create app.lag on $from"
	fi
	start_load "$tag"
	sleep 1
	args=$(jq -cn --arg to "$to" --argjson d "$DRAIN_MS" '{to: $to, drain_timeout_ms: $d}')
	if [[ $kind == lag ]]; then
		make_lag "$from" "$to"
		args=$(jq -c '. + {max_lag_ms: 60000}' <<<"$args")
	fi
	reply=$OUT/$tag.switchover.jsonl
	api "{\"id\":1,\"cmd\":\"switchover\",\"args\":$args}" 120 >"$reply" 2>&1 || true
	sleep 1
	stop_load
	final=$(jq -c 'select(has("ok"))' "$reply" 2>/dev/null | tail -n 1) || final=""
	report=$(jq -c 'if .ok then .result else (.error.report // {}) end' <<<"${final:-{\}}" 2>/dev/null) || report='{}'
	outcome=$(jq -r '.outcome // empty' <<<"$report")
	reason=$(jq -r 'if .ok then "" else (.error.report.reason // .error.message // "") end' <<<"${final:-{\}}" 2>/dev/null) || reason=""
	if [[ -z $final ]]; then
		outcome=noreply
		reason="no reply from cutoverd ($(head -c 300 "$reply" | tr '\n' ' '))"
	fi
	[[ -n $outcome ]] || outcome=error
	if [[ $outcome != "done" ]]; then
		msg "run $tag ($from → $to): outcome $outcome: $reason"
		msg "cutoverd log tail ($DAEMON_LOG):"
		tail -n 25 "$DAEMON_LOG" >&2
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			msg "cutoverd is gone; starting it again"
			DAEMON_PID=""
			start_daemon
		fi
	fi
	# Verify against whoever is the primary now: the new one, or the old one after a rollback.
	if [[ $outcome == "done" ]]; then
		now_primary=$to
	else
		now_primary=$(status_json | jq -r '.primary // empty') || now_primary=""
	fi
	ver=$(verify_load "${now_primary:-$from}")
	load=$(cat "$LOAD_SUMMARY" 2>/dev/null) || load=""
	[[ -n $load ]] || load='{}'
	mapfile -t phase_ms < <(jq -r '(.phases // []) as $p | ("preflight","drain","catchup","fence","sync","promote","verify")
		| . as $n | ([$p[] | select(.phase == $n) | .ms] | first // "-")' <<<"$report")
	{
		printf '%s\t' "$kind" "$run" "$from" "$to" "$outcome" \
			"$(jq -r '.window_ms // "-"' <<<"$load")" \
			"$(jq -r '.longest_gap_ms // "-"' <<<"$load")" \
			"$(jq -r '.write_blocked_ms // "-"' <<<"$report")" \
			"${phase_ms[@]}" \
			"$(jq -r '.total_ms // "-"' <<<"$report")" \
			"$(jq -r '.errors // "-"' <<<"$load")" \
			"$(jq -r '.acked_missing // "-"' <<<"$ver")" \
			"$(jq -r '.errored_but_committed // "-"' <<<"$ver")" \
			"$R_rows" "$R_exec_s" "$R_lag_ms" "$R_sbm"
		printf '%s\n' "${reason//$'\t'/ }"
	} >>"$RESULTS"
	if [[ $(jq -r '.acked_missing // 0' <<<"$ver") != 0 ]]; then
		msg "run $tag: $(jq -r .acked_missing <<<"$ver") acknowledged writes missing on ${now_primary:-$from}:" \
			"$(jq -c .missing_ids <<<"$ver")"
	fi
	[[ $kind == lag ]] && { sb_sql "${now_primary:-$from}" "DROP TABLE IF EXISTS app.lag" >/dev/null 2>&1 || true; }
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
	local kind=$1
	if [[ $kind == lag ]]; then
		printf '%-4s %-9s %-11s %8s %8s %8s %8s %7s %8s %6s %6s %7s %7s %8s %4s %4s %4s %8s %6s %7s %4s\n' \
			run 'from>to' outcome window gap blocked preflt drain catchup fence sync promote verify \
			total err lost ebc rows exec_s lag_ms sbm
	else
		printf '%-4s %-9s %-11s %8s %8s %8s %8s %7s %8s %6s %6s %7s %7s %8s %4s %4s %4s\n' \
			run 'from>to' outcome window gap blocked preflt drain catchup fence sync promote verify \
			total err lost ebc
	fi
	awk -F'\t' -v kind="$kind" '$1 == kind {
		line = sprintf("%-4s %-9s %-11s %8s %8s %8s %8s %7s %8s %6s %6s %7s %7s %8s %4s %4s %4s",
			$2, $3 ">" $4, $5, f($6), f($7), f($8), f($9), f($10), f($11), f($12), f($13), f($14),
			f($15), f($16), $17, $18, $19)
		if (kind == "lag")
			line = line sprintf(" %8s %6s %7s %4s", $20, $21, $22, $23)
		print line
	}
	function f(v) { return v == "-" ? v : sprintf("%.1f", v) }' "$RESULTS"
	echo "(ms; window: last ack from the old primary to the first from the new, as the client saw it;"
	echo " gap: longest time between two acks over the whole run, stalls of the load itself included"
	echo " (fsync, the lagging transaction's commit); blocked: cutoverd's write_blocked_ms; err: errors the"
	echo " client saw; lost: acknowledged writes missing on the primary afterwards; ebc: writes that"
	echo " errored but committed$([[ $kind == lag ]] && printf '%s' "; rows/exec_s: the lagging transaction and its time on the primary; lag_ms/sbm: the candidate's heartbeat lag and Seconds_Behind_Master when the switchover was requested")"
	echo " )"
}

# min / median / p95 / max (nearest rank) of column $2 over the runs of kind $1 that have a figure.
stat_line() {
	local kind=$1 name=$2 label=$3 c
	c=$(col "$name")
	awk -F'\t' -v kind="$kind" -v c="$c" '$1 == kind && $c != "-" { print $c }' "$RESULTS" | sort -g |
		awk -v label="$label" '{ v[NR] = $1 }
		function r(p,  k) { k = int(p / 100 * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR; return v[k] }
		END {
			if (NR == 0) { printf "  %-16s %8s %8s %8s %8s %4s\n", label, "-", "-", "-", "-", 0; exit }
			printf "  %-16s %8.1f %8.1f %8.1f %8.1f %4d\n", label, v[1], r(50), r(95), v[NR], NR
		}'
}

sum_col() {
	local c
	c=$(col "$2")
	awk -F'\t' -v kind="$1" -v c="$c" '$1 == kind && $c != "-" { s += $c } END { print s + 0 }' "$RESULTS"
}

count_runs() {
	awk -F'\t' -v kind="$1" -v want="$2" '$1 == kind && (want == "all" || (want == "failed") == ($5 != "done")) { n++ }
		END { print n + 0 }' "$RESULTS"
}

median_of() {
	local c
	c=$(col "$2")
	awk -F'\t' -v kind="$1" -v c="$c" '$1 == kind && $c != "-" { print $c }' "$RESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) { k = int(NR / 2 + 0.999999); print v[k] } else print "-" }'
}

max_of() {
	local c
	c=$(col "$2")
	awk -F'\t' -v kind="$1" -v c="$c" '$1 == kind && $c != "-" { print $c }' "$RESULTS" | sort -g | tail -n 1
}

target_note() {
	local v=$1 limit=$2
	[[ -n $v && $v != - ]] || { echo "(no figure)"; return; }
	awk -v v="$v" -v t="$limit" 'BEGIN { print (v <= t) ? "(met)" : "(MISSED)" }'
}

print_summary() {
	local kind=$1 title=$2 p lost med mx
	echo "-- $title: summary --"
	printf '  %-16s %8s %8s %8s %8s %4s\n' '(ms)' min median p95 max n
	stat_line "$kind" window "window (client)"
	stat_line "$kind" gap "longest gap"
	stat_line "$kind" blocked "write_blocked"
	for p in preflight drain catchup fence sync promote verify total; do
		stat_line "$kind" "$p" "$p"
	done
	if [[ $kind == lag ]]; then
		stat_line "$kind" lag_ms "lag_ms at request"
		stat_line "$kind" sbm "SBM at request (s)"
	fi
	lost=$(sum_col "$kind" lost)
	printf '  runs %d, failed %d; client errors %d, acknowledged writes lost %d, errored but committed %d\n' \
		"$(count_runs "$kind" all)" "$(count_runs "$kind" failed)" "$(sum_col "$kind" errors)" "$lost" \
		"$(sum_col "$kind" ebc)"
	med=$(median_of "$kind" window)
	mx=$(max_of "$kind" window)
	printf '  targets (printed, not asserted): median window <= 20 ms %s, max <= 60 ms %s, zero lost %s\n' \
		"$(target_note "$med" 20)" "$(target_note "$mx" 60)" "$( ((lost == 0)) && echo '(met)' || echo '(MISSED)')"
	awk -F'\t' -v kind="$kind" '$1 == kind && $5 != "done" { printf "  failed: run %s (%s>%s) %s: %s\n", $2, $3, $4, $5, $24 }' "$RESULTS"
}

check_settings() {
	local v
	for v in RUNS LAG_RUNS LAG_ROWS LAG_TARGET_S LAG_TRIGGER_MS LOAD_INTERVAL_US DRAIN_MS; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}'; see the BENCH_* variables at the top of $0)"
	done
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load ]] || die "$BUILD/cutoverd or cutover-load is missing: run make all"
}

main() {
	local i
	check_settings
	mkdir -p "$OUT"
	: >"$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	msg "starting a 3-server sandbox in $SB_DIR (poll_interval $POLL)"
	start_sandbox
	start_daemon
	for ((i = 1; i <= RUNS; i++)); do
		msg "switchover $i/$RUNS"
		one_run plain "$i"
	done
	for ((i = 1; i <= LAG_RUNS; i++)); do
		msg "lagging-candidate switchover $i/$LAG_RUNS ($LAG_ROWS rows)"
		one_run lag "$i"
	done
	echo
	echo "== switchover under write load (every ${LOAD_INTERVAL_US} us through HAProxy, drain_timeout_ms $DRAIN_MS) =="
	if ((RUNS > 0)); then
		print_runs plain
		print_summary plain "switchovers"
	fi
	if ((LAG_RUNS > 0)); then
		echo
		echo "-- lagging candidate (switchover requested at >= ${LAG_TRIGGER_MS} ms heartbeat lag, max_lag_ms 60000) --"
		print_runs lag
		print_summary lag "lagging candidate"
	fi
	echo "  for comparison (measured side by side on this kind of machine): MHA online switch ~60 ms median,"
	echo "  orchestrator graceful takeover ~160 ms median."
	echo "  per-run files (acks, load summaries, switchover replies, cutoverd logs): $OUT"
}

main "$@"
