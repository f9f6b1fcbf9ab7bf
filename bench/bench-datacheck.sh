#!/usr/bin/env bash
# bench-datacheck.sh: what the data check at the fence point costs and how fast it goes, and the
# window of a 10.11 → 11.8 upgrade switchover next to a same-version one.
#
# Part 1, on a 3-server MariaDB 10.11 sandbox behind HAProxy with BENCH_DC_ROWS rows in
# app.dc_items: BENCH_DC_RUNS switchovers (db1 ↔ db2) with data_check = off, then as many with
# data_check = on, each with build/cutover-load writing every BENCH_LOAD_INTERVAL_US through the
# write port.  For each run: the client's window and longest gap, cutoverd's write_blocked_ms;
# with the check: its time, rows and rows/s, and the client's write latency (acknowledged
# INSERTs, send to ack) while the check ran against the same length of time right after it,
# on the same primary.
#
# Part 2, when the Debian 13 root with MariaDB 11.8 is there or can be built (tests/roots.sh
# ensure trixie; else SKIPPED is printed): BENCH_UPGRADE_RUNS fresh sandboxes where db3 runs
# MariaDB 11.8; in each, db1 → db2 and db2 → db1 (10.11 → 10.11), then db1 → db3 (10.11 → 11.8,
# allow_older_replicas), all under load with data_check = off, so the windows compare like with
# like.
#
# It prints figures and never fails on one.  Environment: BENCH_DC_RUNS (4), BENCH_DC_ROWS
# (1000000), BENCH_UPGRADE_RUNS (3), BENCH_LOAD_INTERVAL_US (1000), BENCH_DIR (/tmp/bench),
# BENCH_OUT (/tmp/bench-out), BENCH_DC_BASE_PORT (25606), BENCH_DC_WRITE_PORT (25600),
# BENCH_DC_READ_PORT (25601).  Exit status: 0 when the runs were made, 1 when it could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build

RUNS=${BENCH_DC_RUNS:-4}
ROWS=${BENCH_DC_ROWS:-1000000}
UP_RUNS=${BENCH_UPGRADE_RUNS:-3}
LOAD_INTERVAL_US=${BENCH_LOAD_INTERVAL_US:-1000}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_DC_BASE_PORT:-25606}
WRITE_PORT=${BENCH_DC_WRITE_PORT:-25600}
READ_PORT=${BENCH_DC_READ_PORT:-25601}
POLL=200ms
SB_DIR=$PREFIX-dc
BENCH_NAME=bench-datacheck
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

RESULTS=$OUT/datacheck-runs.tsv
LOAD_PID=""
BASE_CONF=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_load
	stop_daemon
	stop_sandbox
	exit "$rc"
}

# cutoverd's config: the sandbox's, with $1 added to [cluster sandbox].
write_conf() {
	[[ -n $BASE_CONF ]] || BASE_CONF=$OUT/$BENCH_NAME-base.conf
	[[ -s $BASE_CONF && $BASE_CONF -nt $SB_DIR/env ]] || cp "$CUTOVERD_CONF" "$BASE_CONF"
	(
		umask 077
		awk -v add="$1" '{ print } /^\[cluster / { print add }' "$BASE_CONF"
	) >"$OUT/$BENCH_NAME.conf"
	CUTOVERD_CONF=$OUT/$BENCH_NAME.conf
}

# p50 and p99 (ms) of the write latency (send → ack) of acknowledged writes sent in [$2, $3) µs.
latency() {
	awk -F'\t' -v a="$2" -v b="$3" '$4 == "ok" && $2 >= a && $2 < b { print ($3 - $2) / 1000 }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "- -"; exit }
			k = int(0.5 * NR + 0.999999); j = int(0.99 * NR + 0.999999); if (j > NR) j = NR
			printf "%.2f %.2f\n", v[k], v[j] }'
}

# One switchover to $2 under load, tagged $1 ($3: extra JSON args).  Appends a line to RESULTS:
# part tag from to outcome window gap blocked lost check_state check_s rows rows_per_s lat_in_p50
# lat_in_p99 lat_after_p50 lat_after_p99
one_switch() {
	local part=$1 tag=$2 to=$3 extra=${4:-'{}'} from reply report outcome blocked load ver st
	local dst=- dsec=- drows=- drate=- lin="- -" lafter="- -" t_end t_start deadline dur_us
	wait_healthy || { msg "$tag: the cluster is not healthy; skipping"; return 0; }
	from=$(status_json | jq -r .primary)
	start_load "$tag"
	sleep 1
	reply=$OUT/$tag.switchover.jsonl
	api "$(jq -cn --arg to "$to" --argjson x "$extra" '{id: 1, cmd: "switchover", args: ({to: $to} + $x)}')" 120 \
		>"$reply" 2>&1 || true
	t_start=$(now_us)
	report=$(report_of "$reply")
	outcome=$(jq -r '.outcome // "noreply"' <<<"$report")
	blocked=$(jq -r '.write_blocked_ms // "-"' <<<"$report")
	if [[ $outcome == done && $(jq -r '.data_check.state // ""' <<<"$report") == running ]]; then
		deadline=$((SECONDS + 600))
		while :; do
			st=$(status_json | jq -c '.data_check // {}')
			dst=$(jq -r '.state // "?"' <<<"$st")
			[[ $dst != running ]] && break
			((SECONDS < deadline)) || break
			sleep 0.05
		done
		t_end=$(now_us)
		dsec=$(jq -r '((.elapsed_ms // 0) / 1000 * 100 | round) / 100' <<<"$st")
		drows=$(jq -r '.rows // "-"' <<<"$st")
		drate=$(jq -r '(.rows_per_s // 0) | round' <<<"$st")
		dur_us=$((t_end - t_start))
		((dur_us > 2000000)) || dur_us=2000000
		sleep "$(awk -v d="$dur_us" 'BEGIN { printf "%.2f", d / 1e6 + 0.3 }')"
		stop_load
		lin=$(latency "$LOAD_ACKS" "$t_start" "$t_end")
		lafter=$(latency "$LOAD_ACKS" "$((t_end + 200000))" "$((t_end + 200000 + dur_us))")
	else
		sleep 1
		stop_load
	fi
	load=$(cat "$LOAD_SUMMARY" 2>/dev/null) || load='{}'
	if [[ $outcome == done ]]; then
		ver=$(verify_on "$to")
	else
		msg "$tag ($from → $to): $outcome: $(jq -r '.reason // ""' <<<"$report")"
		ver=$(verify_on "$from")
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$tag" "$from" "$to" "$outcome" \
		"$(jq -r '.window_ms // "-"' <<<"$load")" "$(jq -r '.longest_gap_ms // "-"' <<<"$load")" "$blocked" \
		"$(jq -r '.acked_missing // "-"' <<<"$ver")" "$dst" "$dsec" "$drows" "$drate" "$lin" "$lafter" \
		| tr ' ' '\t' >>"$RESULTS"
	msg "$tag: $from → $to $outcome, blocked ${blocked} ms, window $(jq -r '.window_ms // "-"' <<<"$load") ms, lost $(jq -r '.acked_missing // "-"' <<<"$ver"), check $dst $dsec s"
}

verify_on() {
	local port_var=${1^^}_PORT
	"$BUILD/cutover-load" --verify --acks "$LOAD_ACKS" --host 127.0.0.1 --port "${!port_var}" \
		--user "$APP_USER" --password-file "$APP_PASSWORD_FILE" 2>>"$OUT/$BENCH_NAME-verify.err" || echo '{}'
}

other() { [[ $1 == db1 ]] && echo db2 || echo db1; }

part_check() {
	local mode i to
	msg "part 1: a 3-server sandbox with $ROWS rows"
	start_sandbox
	sb_sql db1 "CREATE TABLE app.dc_items (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NULL) ENGINE=InnoDB" ||
		die "cannot create app.dc_items"
	sb_sql db1 "INSERT INTO app.dc_items SELECT seq, CONCAT('item-', seq), IF(seq % 7 = 0, NULL, seq) FROM app.seq_1_to_$ROWS" ||
		die "cannot fill app.dc_items"
	for mode in off on; do
		write_conf "data_check = $mode"
		start_daemon
		for ((i = 1; i <= RUNS; i++)); do
			to=$(other "$(status_json | jq -r .primary)")
			one_switch "check-$mode" "dc-$mode-$i" "$to"
		done
		stop_daemon
	done
	stop_sandbox
}

part_upgrade() {
	local r
	if ! "$ROOT/tests/roots.sh" ensure trixie >"$OUT/$BENCH_NAME-roots.log" 2>&1; then
		echo "SKIPPED: part 2 (10.11 → 11.8): the Debian 13 root could not be built (see $OUT/$BENCH_NAME-roots.log)"
		return 0
	fi
	for ((r = 1; r <= UP_RUNS; r++)); do
		msg "part 2: sandbox $r/$UP_RUNS with db3 on MariaDB 11.8"
		SANDBOX_ROOT_SERVERS=3:trixie
		export SANDBOX_ROOT_SERVERS
		start_sandbox
		unset SANDBOX_ROOT_SERVERS
		BASE_CONF=""
		write_conf "data_check = off"
		start_daemon
		one_switch same "up$r-same-a" db2
		one_switch same "up$r-same-b" db1
		one_switch upgrade "up$r-upgrade" db3 '{"allow_older_replicas": true}'
		stop_daemon
		stop_sandbox
	done
}

# The column $2 of the RESULTS lines of part $1 that are done, as stats.
col_stats() {
	awk -F'\t' -v p="$1" -v c="$2" '$1 == p && $5 == "done" && $c != "-" { print $c }' "$RESULTS" | stats_of "$3"
}

report() {
	echo
	echo "== data check at the fence point: $ROWS rows in app.dc_items (+ the load's table), $RUNS switchovers =="
	printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
	col_stats check-on 11 "check time (s)"
	col_stats check-on 13 "rows per second"
	col_stats check-on 14 "write p50 during (ms)"
	col_stats check-on 16 "write p50 after (ms)"
	col_stats check-on 15 "write p99 during (ms)"
	col_stats check-on 17 "write p99 after (ms)"
	awk -F'\t' '$1 == "check-on" && $5 == "done" { n++; s[$10]++ } END { printf "  check results:"; for (k in s) printf " %s %d", k, s[k]; printf " (of %d)\n", n }' "$RESULTS"
	echo "  (latency: the load's acknowledged INSERTs through HAProxy, send to ack, while the check ran and"
	echo "   for as long right after it, on the same new primary)"
	echo
	echo "== the window with and without the data check (same servers, same load) =="
	printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
	col_stats check-off 8 "blocked, check off (ms)"
	col_stats check-on 8 "blocked, check on (ms)"
	col_stats check-off 6 "client window, off (ms)"
	col_stats check-on 6 "client window, on (ms)"
	awk -F'\t' '$1 ~ /^check-/ { n++; if ($9 != "0" && $9 != "-") lost += $9; if ($5 != "done") bad++ }
		END { printf "  switchovers %d, not done %d, acknowledged writes lost %d\n", n, bad, lost }' "$RESULTS"
	if awk -F'\t' '$1 == "upgrade" { f = 1 } END { exit !f }' "$RESULTS"; then
		echo
		echo "== 10.11 → 11.8 next to 10.11 → 10.11 (data_check off, fresh sandbox each time) =="
		printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
		col_stats same 8 "blocked, same (ms)"
		col_stats upgrade 8 "blocked, upgrade (ms)"
		col_stats same 6 "client window, same (ms)"
		col_stats upgrade 6 "client window, upgrade (ms)"
		awk -F'\t' '$1 == "same" || $1 == "upgrade" { n++; if ($9 != "0" && $9 != "-") lost += $9; if ($5 != "done") bad++ }
			END { printf "  switchovers %d, not done %d, acknowledged writes lost %d\n", n, bad, lost }' "$RESULTS"
	fi
}

main() {
	local v
	for v in RUNS ROWS UP_RUNS LOAD_INTERVAL_US; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
	done
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load ]] || die "$BUILD/cutoverd or cutover-load is missing: run make all"
	mkdir -p "$OUT"
	: >"$RESULTS"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	part_check
	((UP_RUNS == 0)) || part_upgrade
	report
}

main "$@"
