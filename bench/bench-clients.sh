#!/usr/bin/env bash
# bench-clients.sh: what every kind of client sees during a switchover, not only what cutoverd
# says it blocked.  On a 3-server sandbox behind HAProxy, four clients run side by side through
# the write port — persistent (one connection kept), per-request (a new connection for each
# write), transaction (START TRANSACTION, INSERT, UPDATE, COMMIT) and read (a SELECT each time) —
# while cutoverd switches db1 → db2 (then back, and so on).  Per client kind: its window (last
# success on the old primary to the first on the new) and its longest gap between two successes
# (the longest any new work was refused or held), errors, acknowledged writes lost.  Then the
# long-write runs: one ~5 s INSERT … SELECT is running on the primary when the switchover is
# asked for; the switchover must complete after it ends, the long write must commit, and no
# client may stall long.  Figures are printed, never asserted.
#
# Environment: BENCH_CLIENT_RUNS (10), BENCH_LONG_RUNS (3), BENCH_LONG_S (5: the long write's
# length), BENCH_CLIENT_INTERVAL_US (8000: each client's pace; three writers faster than that outrun what the replicas of this 2-core machine apply, and a replica that keeps falling behind cannot be caught up with), BENCH_SW_POLL (1s), BENCH_DIR
# (/tmp/bench), BENCH_OUT (/tmp/bench-out), BENCH_BASE_PORT (25406), BENCH_WRITE_PORT (25400),
# BENCH_READ_PORT (25401).  Exit status: 0 when the runs were made, 1 when the benchmark could not
# run (why on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
RUNS=${BENCH_CLIENT_RUNS:-10}
LONG_RUNS=${BENCH_LONG_RUNS:-3}
LONG_S=${BENCH_LONG_S:-5}
INTERVAL_US=${BENCH_CLIENT_INTERVAL_US:-8000}
POLL=${BENCH_SW_POLL:-1s}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_BASE_PORT:-25406}
WRITE_PORT=${BENCH_WRITE_PORT:-25400}
READ_PORT=${BENCH_READ_PORT:-25401}
SB_DIR=$PREFIX-clients
BENCH_NAME=bench-clients
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

KINDS=(persistent per-request transaction read)
declare -A LOAD_PIDS=()
RESULTS=$OUT/clients-runs.tsv     # kind-of-run run client window gap errors lost
RUN_RESULTS=$OUT/clients-switchovers.tsv   # kind-of-run run outcome blocked longest_block drain total long_rc long_rows after_long_ms
LONG_PID=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_loads
	[[ -n $LONG_PID ]] && kill "$LONG_PID" 2>/dev/null || true
	stop_daemon
	stop_sandbox
	exit "$rc"
}

start_loads() {
	local tag=$1 k start=$(($(now_us) * 4))
	for k in "${KINDS[@]}"; do
		touch "$OUT/$tag-$k.running"
		# each client its own id range: they write side by side
		start=$((start + 10000000000000))
		"$BUILD/cutover-load" --host 127.0.0.1 --port "$WRITE_PORT" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --interval-us "$INTERVAL_US" --mode "$k" \
			--start-id "$start" --until-file "$OUT/$tag-$k.running" --out "$OUT/$tag-$k.acks.tsv" \
			>"$OUT/$tag-$k.load.json" 2>"$OUT/$tag-$k.load.err" &
		LOAD_PIDS[$k]=$!
	done
}

# One switchover with the four clients running.  $1: plain|long, $2: run number.
one_run() {
	local kind=$1 run=$2 tag from to st args reply report outcome k load lost long_rc=- long_rows=- long_end=0
	local after=- t_done
	wait_healthy || die "the cluster is not healthy before run $kind $run (see $DAEMON_LOG)"
	st=$(status_json)
	from=$(jq -r .primary <<<"$st")
	[[ $from == db1 ]] && to=db2 || to=db1
	tag=clients-$kind-$run
	# every replica has applied the last run's writes (its GTID position is the primary's): a
	# candidate still applying them would be refused, and the next run would measure that
	local deadline=$((SECONDS + 120)) behind
	while :; do
		behind=$(status_json | jq -r '(.servers | map(select(.role == "primary")) | first | .gtid) as $p
			| [.servers[] | select(.role == "replica" and .gtid != $p)] | length' 2>/dev/null) || behind=-
		[[ $behind == 0 ]] && break
		((SECONDS < deadline)) || { msg "run $tag: $behind replica(s) still behind after 120 s; switching anyway"; break; }
		sleep 0.2
	done
	start_loads "$tag"
	sleep 1
	args=$(jq -cn --arg to "$to" '{to: $to, drain_timeout_ms: 30000}')
	if [[ $kind == long ]]; then
		{
			rc=0
			mariadb --no-defaults -h 127.0.0.1 --port="$WRITE_PORT" -u "$APP_USER" \
				--password="$(cat "$APP_PASSWORD_FILE")" -e "INSERT INTO app.writes (id, client_ts, server_id)
				SELECT 7000000000000000 + $run * 1000000 + seq, SLEEP(0.001), @@server_id FROM app.seq_1_to_$((LONG_S * 1000))" \
				>"$OUT/$tag-long.out" 2>&1 || rc=$?
			echo "$rc $(now_us)" >"$OUT/$tag-long.end"
		} &
		LONG_PID=$!
		sleep 0.5
	fi
	reply=$OUT/$tag.switchover.jsonl
	api "{\"id\":1,\"cmd\":\"switchover\",\"args\":$args}" 120 >"$reply" 2>&1 || true
	t_done=$(now_us)
	if [[ -n $LONG_PID ]]; then
		wait "$LONG_PID" || true
		read -r long_rc long_end <"$OUT/$tag-long.end" || { long_rc=-; long_end=0; }
		LONG_PID=""
	fi
	sleep 1
	stop_loads
	report=$(report_of "$reply")
	outcome=$(jq -r '.outcome // "noreply"' <<<"$report")
	if [[ $outcome == done && $kind == long ]]; then
		long_rows=$(sb_sql "$to" "SELECT COUNT(*) FROM app.writes WHERE id > 7000000000000000 + $run * 1000000 AND id <= 7000000000000000 + $run * 1000000 + $((LONG_S * 1000))" 2>/dev/null || echo -)
		# how long after the long write ended the switchover answered (ms; wall clock)
		after=$(awk -v d="$t_done" -v e="$long_end" 'BEGIN { printf "%.0f", (d - e) / 1000 }')
	fi
	for k in "${KINDS[@]}"; do
		load=$(cat "$OUT/$tag-$k.load.json" 2>/dev/null) || load='{}'
		[[ -n $load ]] || load='{}'
		lost=-
		[[ $k != read && $outcome == done ]] && lost=$(missing_on "$tag" "$k" "$to")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$run" "$k" "$(jq -r '.window_ms // "-"' <<<"$load")" \
			"$(jq -r '.longest_gap_ms // "-"' <<<"$load")" "$(jq -r '.errors // "-"' <<<"$load")" "$lost" >>"$RESULTS"
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$run" "$outcome" \
		"$(jq -r '.write_blocked_ms // "-"' <<<"$report")" "$(jq -r '.longest_block_ms // "-"' <<<"$report")" \
		"$(jq -r '([.phases[]? | select(.phase == "drain") | .ms] | first) // "-"' <<<"$report")" \
		"$(jq -r '.total_ms // "-"' <<<"$report")" "$long_rc" "$long_rows" "$after" >>"$RUN_RESULTS"
	if [[ $outcome != done ]]; then
		msg "run $tag: outcome $outcome: $(jq -r '.reason // ""' <<<"$report")"
		wait_healthy || die "the cluster did not recover after run $tag (see $DAEMON_LOG)"
	fi
}

print_kind() {
	local kind=$1 k target_med=$2 target_p95=$3
	printf '  %-26s %8s %8s %8s %8s %4s\n' '(ms)' min median p95 max n
	for k in "${KINDS[@]}"; do
		awk -F'\t' -v r="$kind" -v k="$k" '$1 == r && $3 == k && $4 != "-" { print $4 }' "$RESULTS" | stats_of "$k: window"
		awk -F'\t' -v r="$kind" -v k="$k" '$1 == r && $3 == k && $5 != "-" { print $5 }' "$RESULTS" | stats_of "$k: longest gap"
	done
	awk -F'\t' -v r="$kind" '$1 == r && $4 != "-" { print $4 }' "$RUN_RESULTS" | stats_of "cutoverd write_blocked"
	awk -F'\t' -v r="$kind" '$1 == r && $5 != "-" { print $5 }' "$RUN_RESULTS" | stats_of "cutoverd longest_block"
	awk -F'\t' -v r="$kind" '$1 == r && $6 != "-" { print $6 }' "$RUN_RESULTS" | stats_of "drain"
	awk -F'\t' -v r="$kind" '$1 == r && $7 != "-" { print $7 }' "$RUN_RESULTS" | stats_of "switchover total"
	awk -F'\t' -v r="$kind" '$1 == r { n++; if ($3 != "done") f++ } END { printf "  runs %d, failed %d\n", n, f + 0 }' "$RUN_RESULTS"
	awk -F'\t' -v r="$kind" '$1 == r { e[$3] += ($6 == "-" ? 0 : $6); if ($7 != "-") l[$3] += $7 }
		END { for (k in e) printf "  %-12s errors %d, acknowledged writes lost %s\n", k, e[k], (k in l) ? l[k] : "-" }' "$RESULTS" | sort
	for k in "${KINDS[@]}"; do
		awk -F'\t' -v r="$kind" -v k="$k" '$1 == r && $3 == k && $4 != "-" { print $4 }' "$RESULTS" | sort -g |
			awk -v k="$k" -v tm="$target_med" -v tp="$target_p95" '{ v[NR] = $1 }
			END {
				if (!NR) { printf "  target %-12s: no window measured\n", k; exit }
				m = v[int(NR / 2 + 0.999999)]; p = v[int(0.95 * NR + 0.999999)]
				printf "  target %-12s: median window %.1f <= %d ms %s, p95 %.1f <= %d ms %s\n", k, m, tm,
					m <= tm ? "(met)" : "(MISSED)", p, tp, p <= tp ? "(met)" : "(MISSED)"
			}'
	done
}

main() {
	local i
	for v in RUNS LONG_RUNS LONG_S INTERVAL_US; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
	done
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load ]] || die "$BUILD/cutoverd or cutover-load is missing: run make all"
	mkdir -p "$OUT"
	: >"$RESULTS"
	: >"$RUN_RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	msg "starting a 3-server sandbox in $SB_DIR (poll_interval $POLL)"
	start_sandbox
	start_daemon
	for ((i = 1; i <= RUNS; i++)); do
		msg "switchover $i/$RUNS with four kinds of client"
		one_run plain "$i"
	done
	for ((i = 1; i <= LONG_RUNS; i++)); do
		msg "switchover $i/$LONG_RUNS with a ${LONG_S} s write running"
		one_run long "$i"
	done
	echo
	echo "== every kind of client through HAProxy (each every ${INTERVAL_US} us), $RUNS switchovers =="
	print_kind plain 10 20
	echo "(window: last success on the old primary to the first on the new, as the client saw it; longest"
	echo " gap: the longest time between two successes over the run, i.e. how long new work was refused or"
	echo " held; cutoverd's longest_block counts fence tries that were undone)"
	if ((LONG_RUNS > 0)); then
		echo
		echo "-- a ${LONG_S} s INSERT … SELECT running on the primary when the switchover is asked for, $LONG_RUNS runs --"
		print_kind long 10 20
		awk -F'\t' '$1 == "long" { printf "  run %s: %s; the long write exited %s, %s of its rows on the new primary; the switchover answered %s ms after it ended\n", $2, $3, $8, $9, $10 }' "$RUN_RESULTS"
		awk -F'\t' '$1 == "long" && $5 != "-" { print $5 }' "$RUN_RESULTS" | sort -g | tail -n 1 |
			awk '{ printf "  target: longest stall any client sees <= 100 ms: cutoverd longest_block %.1f ms\n", $1 }'
		awk -F'\t' '$1 == "long" && $5 != "-" { print $5 }' "$RESULTS" | sort -g | tail -n 1 |
			awk '{ printf "  target: longest gap of any client (all stalls of the run, the load'"'"'s own included) %.1f ms %s\n", $1, $1 <= 100 ? "(met)" : "(MISSED)" }'
	fi
	echo "  ProxySQL: bench-proxysql.sh measures its multiplexed and pinned clients."
}

main "$@"
