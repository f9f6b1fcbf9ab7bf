#!/usr/bin/env bash
# bench/run.sh: `make bench`.  Builds cutoverd and the benchmark's own client, runs the poll
# benchmark, the switchover benchmark, the history benchmark (a nobody client looping `history`
# over a 15 MiB journal during switchovers), the clients benchmark, the ProxySQL benchmark and the
# data check / upgrade benchmark (each on
# its own sandbox of real mariadbd and HAProxy, stopped afterwards; the last one skipped, saying
# so, when no ProxySQL is installed), and prints their tables together at the end.
#
# The figures are printed, never asserted: the machines are shared and noisy.  Exit status 0 when
# every benchmark ran (whatever they measured, failed switchovers included), 1 when one could not
# run, with the reason.  BENCH_QUICK=1 makes a short run; see bench/README for every setting.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
OUT=${BENCH_OUT:-/tmp/bench-out}
OUT_MARKER=.cutoverd-bench-out
CHILD=""
FAILURES=()

msg() { printf 'bench: %s\n' "$*" >&2; }
die() {
	msg "$*"
	exit 1
}

# The benchmark scripts clean up after themselves on SIGTERM; they run in the background of
# this non-interactive shell, where SIGINT is ignored, so an interrupt is passed on as SIGTERM.
on_signal() {
	trap - INT TERM
	if [[ -n $CHILD ]]; then
		msg "interrupted: stopping the running benchmark (it stops what it started)"
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	exit 130
}

quick_defaults() {
	[[ ${BENCH_QUICK:-0} == 1 ]] || return 0
	export BENCH_POLL_SECONDS=${BENCH_POLL_SECONDS:-10}
	export BENCH_SWITCHOVERS=${BENCH_SWITCHOVERS:-6}
	export BENCH_LAG_RUNS=${BENCH_LAG_RUNS:-2}
	export BENCH_HISTORY_RUNS=${BENCH_HISTORY_RUNS:-2}
	export BENCH_CLIENT_RUNS=${BENCH_CLIENT_RUNS:-4}
	export BENCH_LONG_RUNS=${BENCH_LONG_RUNS:-1}
	export BENCH_PX_RUNS=${BENCH_PX_RUNS:-4}
	export BENCH_DC_RUNS=${BENCH_DC_RUNS:-2}
	export BENCH_DC_ROWS=${BENCH_DC_ROWS:-200000}
	export BENCH_UPGRADE_RUNS=${BENCH_UPGRADE_RUNS:-1}
	export BENCH_MYSQL_RUNS=${BENCH_MYSQL_RUNS:-4}
	export BENCH_TENANT_RUNS=${BENCH_TENANT_RUNS:-1}
	export BENCH_FLEET_CLUSTERS=${BENCH_FLEET_CLUSTERS:-10}
}

check_tools() {
	local t missing=()
	((EUID == 0)) || die "run as root: the sandbox starts mariadbd and haproxy as root"
	if ! command -v jq >/dev/null; then
		msg "jq is missing; the benchmark parses cutoverd's JSON with it: apt-get install -y jq"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq >/dev/null ||
			die "apt-get install jq failed; install jq and run again"
	fi
	for t in cc make socat mariadbd mariadb haproxy awk setpriv; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	((${#missing[@]} == 0)) || die "missing: ${missing[*]}; run tests/deps.sh (make deps)"
}

build() {
	msg "building (make all, build/bench/status-rtt)"
	make -s -C "$ROOT" all >&2 || die "make all failed (errors above)"
	mkdir -p "$BUILD/bench"
	# The flags of the Makefile, without the libraries: status-rtt is self-contained.
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-Wno-unused-parameter -D_GNU_SOURCE -o "$BUILD/bench/status-rtt" "$ROOT/bench/status-rtt.c" ||
		die "compiling bench/status-rtt.c failed"
}

# BENCH_OUT holds the run's files; never empty a directory that is not ours.
prepare_out() {
	if [[ -d $OUT && ! -e $OUT/$OUT_MARKER && -n $(ls -A "$OUT") ]]; then
		die "BENCH_OUT=$OUT exists and was not made by bench/run.sh; choose another directory"
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	touch "$OUT/$OUT_MARKER"
	export BENCH_OUT=$OUT
}

# Run benchmark script $1 with its tables into $OUT/$2 (its progress goes to stderr).
run_one() {
	local script=$1 table=$OUT/$2 rc=0
	msg "running bench/$script"
	"$ROOT/bench/$script" >"$table" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	if ((rc != 0)); then
		FAILURES+=("bench/$script could not run (exit $rc; its reason is above)")
		msg "bench/$script could not run (exit $rc)"
	fi
}

describe_machine() {
	local rev
	rev=$(git -C "$ROOT" describe --always --dirty 2>/dev/null) || rev="(not a git tree)"
	echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
	echo "software: cutoverd $rev; $(mariadbd --version 2>/dev/null | sed 's/^.*Ver //'); $(haproxy -v 2>/dev/null | head -n 1)"
	echo "settings: BENCH_QUICK=${BENCH_QUICK:-0} BENCH_POLL_SECONDS=${BENCH_POLL_SECONDS:-30}" \
		"BENCH_SWITCHOVERS=${BENCH_SWITCHOVERS:-20} BENCH_LAG_RUNS=${BENCH_LAG_RUNS:-5}" \
		"BENCH_HISTORY_RUNS=${BENCH_HISTORY_RUNS:-5} BENCH_HISTORY_MB=${BENCH_HISTORY_MB:-15}" \
		"BENCH_CLIENT_RUNS=${BENCH_CLIENT_RUNS:-10} BENCH_PX_RUNS=${BENCH_PX_RUNS:-20}" \
		"BENCH_DC_RUNS=${BENCH_DC_RUNS:-4} BENCH_DC_ROWS=${BENCH_DC_ROWS:-1000000} BENCH_UPGRADE_RUNS=${BENCH_UPGRADE_RUNS:-3}" \
		"BENCH_MYSQL_RUNS=${BENCH_MYSQL_RUNS:-10} BENCH_TENANT_RUNS=${BENCH_TENANT_RUNS:-3} BENCH_FLEET_CLUSTERS=${BENCH_FLEET_CLUSTERS:-20}"
}

main() {
	local f
	trap on_signal INT TERM
	quick_defaults
	check_tools
	build
	prepare_out
	run_one bench-poll.sh poll.txt
	run_one bench-switchover.sh switchover.txt
	run_one bench-history.sh history.txt
	run_one bench-clients.sh clients.txt
	run_one bench-proxysql.sh proxysql.txt
	run_one bench-tenants.sh tenants.txt
	run_one bench-datacheck.sh datacheck.txt
	run_one bench-mysql.sh mysql.txt
	run_one bench-fleet.sh fleet.txt
	echo
	echo "==================== cutoverd benchmarks ===================="
	describe_machine
	for f in poll.txt switchover.txt history.txt clients.txt proxysql.txt tenants.txt datacheck.txt mysql.txt fleet.txt; do
		[[ -s $OUT/$f ]] && cat "$OUT/$f"
	done
	echo "Figures only: nothing here is asserted (shared, noisy machines).  Files: $OUT"
	if ((${#FAILURES[@]})); then
		printf 'bench: %s\n' "${FAILURES[@]}" >&2
		exit 1
	fi
}

main "$@"
