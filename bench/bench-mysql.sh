#!/usr/bin/env bash
# bench-mysql.sh: the switchover window on MySQL 9.7 next to MariaDB 10.11, on the same machine,
# as a persistent client and a connection-per-request client see it.
#
# For each flavor, a 3-server sandbox behind HAProxy (MySQL from the Debian unstable root that
# tests/roots.sh builds; SKIPPED, said so, when it cannot be built) and BENCH_MYSQL_RUNS
# switchovers db1 ↔ db2, each with the two clients writing every BENCH_LOAD_INTERVAL_US through
# the write port side by side.  Per run: each client's window (last write acknowledged by the old
# primary to the first by the new) and longest gap, cutoverd's write_blocked_ms, and the
# acknowledged writes missing on the new primary.
#
# It prints figures and never fails on one.  Environment: BENCH_MYSQL_RUNS (10),
# BENCH_LOAD_INTERVAL_US (2000), BENCH_DIR (/tmp/bench), BENCH_OUT (/tmp/bench-out),
# BENCH_MY_BASE_PORT (25706), BENCH_MY_WRITE_PORT (25700), BENCH_MY_READ_PORT (25701).
# Exit status: 0 when the runs were made, 1 when it could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build

RUNS=${BENCH_MYSQL_RUNS:-10}
INTERVAL_US=${BENCH_LOAD_INTERVAL_US:-2000}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_MY_BASE_PORT:-25706}
WRITE_PORT=${BENCH_MY_WRITE_PORT:-25700}
READ_PORT=${BENCH_MY_READ_PORT:-25701}
POLL=200ms
SB_DIR=$PREFIX-my
BENCH_NAME=bench-mysql
KINDS=(persistent per-request)
declare -A LOAD_PIDS=()
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

RESULTS=$OUT/mysql-runs.tsv

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_loads
	stop_daemon
	stop_sandbox
	exit "$rc"
}

start_clients() {
	local tag=$1 k
	for k in "${KINDS[@]}"; do
		touch "$OUT/$tag-$k.running"
		"$BUILD/cutover-load" --host 127.0.0.1 --port "$WRITE_PORT" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --interval-us "$INTERVAL_US" --mode "$k" \
			--until-file "$OUT/$tag-$k.running" --out "$OUT/$tag-$k.acks.tsv" \
			>"$OUT/$tag-$k.load.json" 2>"$OUT/$tag-$k.load.err" &
		LOAD_PIDS[$k]=$!
	done
}

# One switchover under the two clients: a line per client in RESULTS
# (flavor run kind from to outcome window gap blocked lost).
one_run() {
	local flavor=$1 run=$2 from to tag reply report outcome blocked k
	wait_healthy || { msg "$flavor run $run: the cluster is not healthy; skipping"; return 0; }
	from=$(status_json | jq -r .primary)
	[[ $from == db1 ]] && to=db2 || to=db1
	tag=$flavor-$run
	start_clients "$tag"
	sleep 1
	reply=$OUT/$tag.switchover.jsonl
	api "{\"id\":1,\"cmd\":\"switchover\",\"args\":{\"to\":\"$to\"}}" 120 >"$reply" 2>&1 || true
	sleep 1
	stop_loads
	report=$(report_of "$reply")
	outcome=$(jq -r '.outcome // "noreply"' <<<"$report")
	blocked=$(jq -r '.write_blocked_ms // "-"' <<<"$report")
	[[ $outcome == done ]] || { msg "$tag ($from → $to): $outcome: $(jq -r '.reason // ""' <<<"$report")"; to=$from; }
	for k in "${KINDS[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$flavor" "$run" "$k" "$from" "$to" "$outcome" \
			"$(jq -r '.window_ms // "-"' "$OUT/$tag-$k.load.json" 2>/dev/null || echo -)" \
			"$(jq -r '.longest_gap_ms // "-"' "$OUT/$tag-$k.load.json" 2>/dev/null || echo -)" \
			"$blocked" "$(missing_on "$tag" "$k" "$to")" >>"$RESULTS"
	done
	msg "$tag: $from → $to $outcome, blocked $blocked ms"
}

one_flavor() {
	local flavor=$1 i
	if [[ $flavor == mysql ]]; then
		if ! "$ROOT/tests/roots.sh" ensure sid >"$OUT/$BENCH_NAME-roots.log" 2>&1; then
			echo "SKIPPED: MySQL: the Debian unstable root could not be built (see $OUT/$BENCH_NAME-roots.log)"
			return 0
		fi
		export SANDBOX_FLAVOR=mysql
	else
		unset SANDBOX_FLAVOR
	fi
	msg "$flavor: a 3-server sandbox"
	start_sandbox
	VERSION_OF[$flavor]=$(sb_sql db1 "SELECT @@version" 2>/dev/null | tail -n 1) || VERSION_OF[$flavor]=?
	start_daemon
	for ((i = 1; i <= RUNS; i++)); do
		one_run "$flavor" "$i"
	done
	stop_daemon
	stop_sandbox
	unset SANDBOX_FLAVOR
}

col() {   # flavor kind column label
	awk -F'\t' -v f="$1" -v k="$2" -v c="$3" '$1 == f && $3 == k && $6 == "done" && $c != "-" { print $c }' "$RESULTS" |
		stats_of "$4"
}

report() {
	local f
	echo
	echo "== MySQL next to MariaDB: $RUNS switchovers each, a persistent and a per-request client (every ${INTERVAL_US} us) =="
	for f in mariadb mysql; do
		awk -F'\t' -v f="$f" '$1 == f { n = 1 } END { exit !n }' "$RESULTS" || continue
		echo "-- $f (${VERSION_OF[$f]:-?}) --"
		printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
		col "$f" persistent 7 "window persistent (ms)"
		col "$f" per-request 7 "window per-request (ms)"
		col "$f" per-request 8 "longest gap per-req. (ms)"
		col "$f" persistent 9 "write_blocked (ms)"
		awk -F'\t' -v f="$f" '$1 == f { n++; if ($10 != "0" && $10 != "-") lost += $10; if ($6 != "done") bad++ }
			END { printf "  client-runs %d, not done %d, acknowledged writes lost %d\n", n, bad, lost }' "$RESULTS"
	done
}

declare -A VERSION_OF=()

main() {
	[[ $RUNS =~ ^[0-9]+$ && $INTERVAL_US =~ ^[0-9]+$ ]] || die "BENCH_MYSQL_RUNS and BENCH_LOAD_INTERVAL_US must be whole numbers"
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load ]] || die "$BUILD/cutoverd or cutover-load is missing: run make all"
	mkdir -p "$OUT"
	: >"$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	one_flavor mariadb
	one_flavor mysql
	report
}

main "$@"
