#!/usr/bin/env bash
# bench-fleet.sh: one cutoverd watching a fleet (issue 16, item 5).  BENCH_FLEET_CLUSTERS (20)
# sandboxes of 3 real mariadbd each (60 servers, with HAProxy), one cutoverd config naming them
# all as clusters c1..cN, polled at 1 Hz.  Measured over BENCH_FLEET_SECONDS (20) each:
#   - polling alone (no request), by a daemon started fresh with 1/4, 1/2, 3/4 and all of the
#     clusters: its CPU (time on a CPU from schedstat over wall time, % of one core) and largest
#     RSS, and a least-squares line through the four points for each, projected to 300 servers;
#   - then, at each point, and with all of the clusters and one server hung (SIGSTOP): CPU
#     (utime+stime of every thread, in 10 ms ticks), RSS, the longest poll round of any cluster
#     (cutoverd_cluster_poll_round_duration_seconds from /metrics, sampled every second), and
#     `status` round trips (build/bench/status-rtt: BENCH_RTT_REQUESTS (200) spread over the
#     window, each on a new connection, and /metrics scraped every second): p50, p99, max; and
#     least-squares lines through the points' p50 and p99, projected to 300 servers, and the
#     range of their longest rounds;
#   - status round trips of 300 configured servers, measured: a daemon of 100 clusters whose
#     servers do not answer (127.0.0.2), each entry larger than a polled server's.
# Targets printed beside them (300 servers at 1 Hz: < 5 % of a core, < 64 MiB; status p99
# < 10 ms), never asserted.
# Environment: BENCH_FLEET_CLUSTERS, BENCH_FLEET_SECONDS, BENCH_RTT_REQUESTS, BENCH_DIR
# (/tmp/bench), BENCH_OUT (/tmp/bench-out), BENCH_FLEET_PORT (30000: sandbox i takes
# PORT+10i..PORT+10i+8), BENCH_FLEET_METRICS_PORT (29990), BENCH_FLEET_DOWN_PORT (41000: the
# 300 unanswered servers' ports on 127.0.0.2).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
SANDBOX=$ROOT/tests/sandbox/sandbox.sh
RTT=$BUILD/bench/status-rtt
K=${BENCH_FLEET_CLUSTERS:-20}
WINDOW_S=${BENCH_FLEET_SECONDS:-20}
RTT_N=${BENCH_RTT_REQUESTS:-200}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
PORT=${BENCH_FLEET_PORT:-30000}
MPORT=${BENCH_FLEET_METRICS_PORT:-29990}
DOWN_PORT=${BENCH_FLEET_DOWN_PORT:-41000}
DIR=$PREFIX-fleet
STARTED=()
DAEMON_PID=""
STOPPED_PID=""

msg() { printf 'bench-fleet: %s\n' "$*" >&2; }
die() {
	msg "$*"
	exit 1
}
now_us() { echo $((10#${EPOCHREALTIME//[^0-9]/})); }

cleanup() {
	local d
	[[ -n $STOPPED_PID ]] && kill -CONT "$STOPPED_PID" 2>/dev/null || true
	if [[ -n $DAEMON_PID ]]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	for d in "${STARTED[@]}"; do
		SANDBOX_DIR=$d "$SANDBOX" stop --dir "$d" >/dev/null 2>&1 || msg "stopping $d failed; stop it by hand"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nanoseconds on a CPU, summed over the daemon's threads alive now (/proc/PID/task/*/schedstat):
# exact where the clock ticks of /proc/PID/stat come in 10 ms steps (0.05 % of a 20 s window, as
# much as a whole point of the fit).  A thread that ended within the window is not counted: the
# quiet windows it is used for run no offloaded work.
cpu_ns() {
	local f sum=0 ns rest
	for f in /proc/"$1"/task/*/schedstat; do
		read -r ns rest <"$f" 2>/dev/null || continue
		sum=$((sum + ns))
	done
	echo "$sum"
}
cpu_ticks() {
	local stat f
	read -r stat <"/proc/$1/stat"
	stat=${stat##*) }
	read -ra f <<<"$stat"
	echo $((f[11] + f[12]))
}
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
api() { printf '%s\n' "$1" | socat -t 10 - "UNIX-CONNECT:$DIR/cutoverd.sock"; }
longest_round_ms() {
	curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '/^cutoverd_cluster_poll_round_duration_seconds/ { if ($2 > m) m = $2 } END { printf "%.1f", m * 1000 }'
}

# One window: CPU, max RSS, the longest poll round seen, status round trips.  Prints a row.
measure() {
	local label=$1 k=$2 hz t0 t1 c0 c1 rss max_rss=0 round max_round=0 rtt end
	hz=$(getconf CLK_TCK)
	"$RTT" -s "$DIR/cutoverd.sock" -n "$RTT_N" \
		-i "$(awk -v w="$WINDOW_S" -v n="$RTT_N" 'BEGIN { printf "%.3f", w * 1000 / n }')" \
		>"$OUT/fleet-$label-rtt.json" 2>"$OUT/fleet-$label-rtt.err" &
	local rtt_pid=$!
	t0=$(now_us)
	c0=$(cpu_ticks "$DAEMON_PID")
	end=$((t0 + WINDOW_S * 1000000))
	while (($(now_us) < end)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || die "cutoverd died (log: $OUT/fleet-cutoverd.log)"
		rss=$(rss_kib "$DAEMON_PID")
		((rss > max_rss)) && max_rss=$rss
		round=$(longest_round_ms)
		awk -v a="$round" -v b="$max_round" 'BEGIN { exit !(a > b) }' && max_round=$round
		sleep 1
	done
	c1=$(cpu_ticks "$DAEMON_PID")
	t1=$(now_us)
	wait "$rtt_pid" || true
	rtt=$(cat "$OUT/fleet-$label-rtt.json")
	[[ -n $rtt ]] || die "status-rtt printed nothing ($(cat "$OUT/fleet-$label-rtt.err"))"
	awk -v l="$label" -v c=$((c1 - c0)) -v hz="$hz" -v t=$((t1 - t0)) -v r="$max_rss" -v n=$((3 * k)) -v rd="$max_round" \
		-v p50="$(jq -r .p50_ms <<<"$rtt")" -v p99="$(jq -r .p99_ms <<<"$rtt")" -v mx="$(jq -r .max_ms <<<"$rtt")" \
		-v e="$(jq -r '"\(.errors)/\(.requests)"' <<<"$rtt")" 'BEGIN {
			cpu = c / hz / (t / 1e6) * 100
			printf "  %-22s %4d %7.2f %8.1f %9.1f %7.2f %7.2f %7.2f %7s %9.2f %9.1f\n", l, n, cpu, r / 1024, rd, p50, p99, mx, e,
				cpu / n * 300, r / 1024 / n * 300
		}'
	LAST_RSS=$(awk -v r="$max_rss" 'BEGIN { printf "%.2f", r / 1024 }')
	LAST_ROUND=$max_round
	LAST_P50=$(jq -r .p50_ms <<<"$rtt")
	LAST_P99=$(jq -r .p99_ms <<<"$rtt")
}

# A window with no status requests and no /metrics scrape: what polling alone costs.  Sets
# QUIET_CPU (% of a core) and QUIET_RSS (MiB, the largest seen).
measure_quiet() {
	local label=$1 n=$((3 * $2)) t0 t1 c0 c1 rss max_rss=0 end
	t0=$(now_us)
	c0=$(cpu_ns "$DAEMON_PID")
	end=$((t0 + WINDOW_S * 1000000))
	while (($(now_us) < end)); do
		rss=$(rss_kib "$DAEMON_PID")
		((rss > max_rss)) && max_rss=$rss
		sleep 1
	done
	c1=$(cpu_ns "$DAEMON_PID")
	t1=$(now_us)
	QUIET_CPU=$(awk -v c=$((c1 - c0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.4f", c / 1e3 / t * 100 }')
	QUIET_RSS=$(awk -v r="$max_rss" 'BEGIN { printf "%.2f", r / 1024 }')
	printf '  %-22s %4d %7.2f %8.1f %9s %7s %7s %7s %7s %9.2f %9.1f\n' "$label" "$n" "$QUIET_CPU" "$QUIET_RSS" - - - - - \
		"$(awk -v c="$QUIET_CPU" -v n="$n" 'BEGIN { print c / n * 300 }')" "$(awk -v r="$QUIET_RSS" -v n="$n" 'BEGIN { print r / n * 300 }')"
}

# A least-squares line through the points "x1 x2 ..." / "y1 y2 ...": prints
# "slope fixed r2 value-at-300".
fit() {
	awk -v xs="$1" -v ys="$2" 'BEGIN {
		n = split(xs, x, " "); split(ys, y, " ")
		for (i = 1; i <= n; i++) { sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i] }
		slope = (n * sxy - sx * sy) / (n * sxx - sx * sx); fixed = (sy - slope * sx) / n
		for (i = 1; i <= n; i++) { e = y[i] - (fixed + slope * x[i]); ss += e * e; d = y[i] - sy / n; st += d * d }
		printf "%.5f %.3f %.2f %.2f\n", slope, fixed, (st > 0 ? 1 - ss / st : 0), fixed + slope * 300
	}'
}

# The daemon's config with the first n sandboxes as clusters c1..cn.
write_config() {
	local n=$1 out=$2 i
	{
		cat <<EOF
# written by bench/bench-fleet.sh: $n sandboxes as clusters c1..c$n
[cutoverd]
socket = $DIR/cutoverd.sock
state_dir = $DIR/state
poll_interval = 1s
log_level = notice
admin_users = root
metrics_address = 127.0.0.1:$MPORT
EOF
		for ((i = 1; i <= n; i++)); do
			awk -v i="$i" '
				/^\[/ { skip = ($0 == "[cutoverd]") }
				skip { next }
				/^\[cluster / { print "[cluster c" i "]"; next }
				/^cluster = / { print "cluster = c" i; next }
				/^\[server db/ { sub(/\[server db/, "[server c" i "-db"); print; next }
				/^\[router / { sub(/\[router /, "[router c" i "-"); print
					print "server_map = c" i "-db1=db1, c" i "-db2=db2, c" i "-db3=db3"; next }
				{ print }' "$PREFIX-fleet$i/cutoverd.conf"
		done
	} >"$out"
}

# A daemon watching the first k clusters, every one OK.
start_daemon() {
	local k=$1 cfg=$DIR/cutoverd.conf deadline ok=0
	write_config "$k" "$cfg"
	chmod 0600 "$cfg"
	"$BUILD/cutoverd" -n -c "$cfg" >/dev/null 2>"$OUT/fleet-config.err" || die "the fleet config does not load: $(head -n 5 "$OUT/fleet-config.err")"
	"$BUILD/cutoverd" -f -c "$cfg" >"$OUT/fleet-cutoverd.log" 2>&1 &
	DAEMON_PID=$!
	deadline=$((SECONDS + 60))
	until ((ok == k)); do
		((SECONDS < deadline)) || die "not every cluster is OK after 60 s (log: $OUT/fleet-cutoverd.log)"
		sleep 1
		ok=$(api '{"id":1,"cmd":"status"}' 2>/dev/null | jq '[.result.clusters[] | select(.verdict == "OK")] | length' 2>/dev/null) || ok=0
	done
	msg "cutoverd watches $k clusters, $((3 * k)) servers, every one OK"
	sleep 3
}

stop_daemon() {
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

# status of 300 servers measured, not projected: a daemon configured with 100 clusters of 3
# servers nobody answers for (127.0.0.2, ports from BENCH_FLEET_DOWN_PORT), where each server's
# entry in status is larger than a polled one's (its last error).  Only the round trips mean
# something here: polling servers that refuse costs nothing like polling real ones.
status_at_300() {
	local cfg=$DIR/cutoverd-300.conf i j deadline rtt
	{
		printf '[cutoverd]\nsocket = %s\nstate_dir = %s\npoll_interval = 1s\nlog_level = error\nadmin_users = root\n' \
			"$DIR/cutoverd.sock" "$DIR/state-300"
		for ((i = 1; i <= 100; i++)); do
			printf '[cluster d%d]\nrepl_user = repl\nrepl_password = r\n' "$i"
			for ((j = 1; j <= 3; j++)); do
				printf '[server d%d-db%d]\ncluster = d%d\nhost = 127.0.0.2\nport = %d\nuser = u\npassword = p\n' \
					"$i" "$j" "$i" $((DOWN_PORT + 3 * i + j))
			done
		done
	} >"$cfg"
	chmod 0600 "$cfg"
	mkdir -p "$DIR/state-300"
	"$BUILD/cutoverd" -f -c "$cfg" >"$OUT/fleet-300-cutoverd.log" 2>&1 &
	DAEMON_PID=$!
	deadline=$((SECONDS + 30))
	until api '{"id":1,"cmd":"status"}' 2>/dev/null | jq -e '.result.clusters | length == 100' >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "the 300-server daemon does not answer status (log: $OUT/fleet-300-cutoverd.log)"
		sleep 1
	done
	sleep 3
	"$RTT" -s "$DIR/cutoverd.sock" -n "$RTT_N" \
		-i "$(awk -v w="$WINDOW_S" -v n="$RTT_N" 'BEGIN { printf "%.3f", w * 1000 / n }')" \
		>"$OUT/fleet-300-rtt.json" 2>"$OUT/fleet-300-rtt.err" || true
	rtt=$(cat "$OUT/fleet-300-rtt.json")
	[[ -n $rtt ]] || die "status-rtt printed nothing ($(cat "$OUT/fleet-300-rtt.err"))"
	stop_daemon
	printf '  status of 300 configured servers (none answering, so each entry is larger), measured: p50 %s ms, p99 %s ms,\n' \
		"$(jq -r .p50_ms <<<"$rtt")" "$(jq -r .p99_ms <<<"$rtt")"
	printf '   max %s ms, %s errors, %s bytes a reply\n' "$(jq -r .max_ms <<<"$rtt")" "$(jq -r .errors <<<"$rtt")" \
		"$(jq -r .reply_bytes <<<"$rtt")"
}

main() {
	local i d cfg=$DIR/cutoverd.conf
	((EUID == 0)) || die "run as root (the sandbox starts mariadbd as root)"
	for t in jq socat curl mariadbd haproxy; do command -v "$t" >/dev/null || die "$t is missing (tests/deps.sh)"; done
	[[ -x $BUILD/cutoverd && -x $RTT ]] || die "$BUILD/cutoverd or $RTT is missing: run make all (and bench/run.sh builds status-rtt)"
	mkdir -p "$OUT" "$DIR/state"
	for ((i = 1; i <= K; i++)); do
		d=$PREFIX-fleet$i
		msg "sandbox $i/$K in $d"
		STARTED+=("$d")
		SANDBOX_DIR=$d "$SANDBOX" start --fresh --dir "$d" --servers 3 --base-port $((PORT + 10 * i + 2)) \
			--write-port $((PORT + 10 * i)) --read-port $((PORT + 10 * i + 1)) --poll 1s >/dev/null 2>"$OUT/fleet-sandbox-$i.err" ||
			die "sandbox $i did not start ($OUT/fleet-sandbox-$i.err)"
	done
	# Each point of the fit is a daemon of its own, started fresh with the first k clusters: a
	# reload would leave the RSS of the larger config behind.  The full fleet comes last and
	# stays for the windows with status requests and with a server hung.
	local ns="" cpus="" rsss="" rounds="" p50s="" p99s="" k part
	echo
	echo "-- one cutoverd, up to $K clusters of 3 real mariadbd ($((3 * K)) servers) at 1 Hz; windows of ${WINDOW_S}s, $RTT_N status requests each --"
	printf '  %-22s %4s %7s %8s %9s %7s %7s %7s %7s %9s %9s\n' "" servers "cpu %" "rss MiB" "round ms" "p50 ms" "p99 ms" \
		"max ms" errors "cpu@300" "rss@300"
	for part in 1 2 3 4; do
		k=$((K * part / 4))
		((k > 0)) || continue
		start_daemon "$k"
		measure_quiet "polling only" "$k"
		ns+=" $((3 * k))"
		cpus+=" $QUIET_CPU"
		rsss+=" $QUIET_RSS"
		measure "all answering" "$k"
		rounds+=" $LAST_ROUND"
		p50s+=" $LAST_P50"
		p99s+=" $LAST_P99"
		((part < 4)) && stop_daemon
	done
	STATUS_RSS=$LAST_RSS
	STOPPED_PID=$(SANDBOX_DIR=$PREFIX-fleet1 "$SANDBOX" pid 2 --dir "$PREFIX-fleet1")
	kill -STOP "$STOPPED_PID"
	sleep 3
	measure "c1-db2 hung (SIGSTOP)" "$K"
	kill -CONT "$STOPPED_PID"
	STOPPED_PID=""
	stop_daemon
	echo "  (polling only: no status request, no /metrics scrape in that window, each a daemon started with that"
	echo "   many servers; cpu: % of one core; round: the longest poll round of any cluster; cpu@300, rss@300:"
	echo "   the figures times 300/servers, an upper bound as they count the daemon's fixed part too)"
	local f
	read -ra f <<<"$(fit "$ns" "$cpus")"
	printf '  polling alone, cpu, least squares over the %s servers: %s %% a server + %s %% fixed (r2 %s); at 300: %s %%\n' \
		"${ns# }" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
	read -ra f <<<"$(fit "$ns" "$rsss")"
	printf '  polling alone, rss, least squares over the %s servers: %s MiB a server + %s MiB fixed (r2 %s); at 300: %s MiB\n' \
		"${ns# }" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
	# a round is one cluster's: it does not grow with the number of clusters, and the longest
	# of a window is an outlier's figure, which a line through four of them would not project
	printf '  longest poll round over the %s servers: %s ms (each a cluster'"'"'s own; it waits 10 ms before reading its\n' \
		"${ns# }" "$(awk -v r="$rounds" 'BEGIN { n = split(r, x, " "); lo = hi = x[1]
			for (i = 2; i <= n; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i] }
			printf "%s to %s", lo, hi }')"
	printf '   answers: cutoverd.conf(5), poll_interval)\n'
	read -ra f <<<"$(fit "$ns" "$p50s")"
	printf '  status round trips, p50, least squares: %s ms a server + %s ms (r2 %s); at 300: %s ms\n' \
		"${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
	read -ra f <<<"$(fit "$ns" "$p99s")"
	printf '  status round trips, p99, least squares: %s ms a server + %s ms (r2 %s); at 300: %s ms\n' \
		"${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
	printf '  serving status (%s requests a second, /metrics every second) added %s MiB at %d servers\n' \
		"$(awk -v n="$RTT_N" -v w="$WINDOW_S" 'BEGIN { printf "%g", n / w }')" "$(awk -v a="$STATUS_RSS" -v b="$QUIET_RSS" 'BEGIN { printf "%.1f", a - b }')" $((3 * K))
	status_at_300
	echo "  targets at 300 servers, 1 Hz: cpu < 5 %, rss < 64 MiB; status p99 < 10 ms"
}

main "$@"
