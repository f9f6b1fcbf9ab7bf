# bench/common.sh: what the switchover benchmarks share (sourced, not run): a sandbox of real
# mariadbd and HAProxy, cutoverd started and stopped on it, its API over socat, its health.
# The sourcing script sets BENCH_NAME, SB_DIR, BASE_PORT, WRITE_PORT, READ_PORT, POLL, OUT and
# BUILD before calling any of these.

SANDBOX=${SANDBOX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/sandbox/sandbox.sh}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-30}
SB_UP=0
DAEMON_PID=""
DAEMON_LOG=""
DAEMON_STARTS=0

msg() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2; }
die() {
	msg "$*"
	exit 1
}
now_us() { echo $((10#${EPOCHREALTIME//[^0-9]/})); }

start_sandbox() {
	SB_UP=1
	SANDBOX_DIR=$SB_DIR "$SANDBOX" start --fresh --dir "$SB_DIR" --servers 3 --base-port "$BASE_PORT" \
		--write-port "$WRITE_PORT" --read-port "$READ_PORT" --poll "$POLL" ||
		die "could not start the sandbox in $SB_DIR (sandbox.sh said why above)"
	# shellcheck source=/dev/null
	. "$SB_DIR/env"
}

stop_sandbox() {
	((SB_UP)) || return 0
	SANDBOX_DIR=$SB_DIR "$SANDBOX" stop --dir "$SB_DIR" >/dev/null 2>&1 ||
		msg "sandbox.sh stop --dir $SB_DIR failed; stop it by hand"
	SB_UP=0
}

sb_sql() {
	SANDBOX_DIR=$SB_DIR "$SANDBOX" sql "$1" "$2"
}

# One request line to the daemon; prints every line of the answer.
api() {
	printf '%s\n' "$1" | socat -t "${2:-10}" - "UNIX-CONNECT:$CUTOVERD_SOCK"
}

status_json() {
	api '{"id":1,"cmd":"status"}' 5 2>/dev/null | jq -c '.result.clusters[0] // empty' 2>/dev/null
}

# The cluster is fit for the next run: verdict OK, one primary, no switchover in the way.
healthy() {
	local st
	st=$(status_json) || return 1
	[[ -n $st ]] || return 1
	jq -e '.verdict == "OK" and .primary != null and .cutover == null' <<<"$st" >/dev/null
}

wait_healthy() {
	local deadline=$((SECONDS + HEALTH_TIMEOUT_S))
	until healthy; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

start_daemon() {
	local deadline
	DAEMON_STARTS=$((DAEMON_STARTS + 1))
	DAEMON_LOG=$OUT/$BENCH_NAME-cutoverd-$DAEMON_STARTS.log
	"$BUILD/cutoverd" -f -c "$CUTOVERD_CONF" >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	deadline=$((SECONDS + READY_TIMEOUT_S))
	until healthy; do
		kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 20 "$DAEMON_LOG" >&2; die "cutoverd exited during start-up (log above: $DAEMON_LOG)"; }
		if ((SECONDS >= deadline)); then
			tail -n 20 "$DAEMON_LOG" >&2
			die "cutoverd did not report the sandbox OK within ${READY_TIMEOUT_S}s (log: $DAEMON_LOG)"
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

# The switchover's final reply line in file $1 as its report (result, or error.report), or {}.
report_of() {
	local final
	final=$(jq -c 'select(has("ok"))' "$1" 2>/dev/null | tail -n 1) || final=""
	jq -c 'if .ok then .result else (.error.report // {}) end' <<<"${final:-{\}}" 2>/dev/null || echo '{}'
}

# min / median / p95 / max (nearest rank) of the numbers on stdin, labelled $1.
stats_of() {
	sort -g | awk -v label="$1" '{ v[NR] = $1 }
		function r(p,  k) { k = int(p / 100 * NR + 0.999999); if (k < 1) k = 1; if (k > NR) k = NR; return v[k] }
		END {
			if (NR == 0) { printf "  %-26s %8s %8s %8s %8s %4s\n", label, "-", "-", "-", "-", 0; exit }
			printf "  %-26s %8.1f %8.1f %8.1f %8.1f %4d\n", label, v[1], r(50), r(95), v[NR], NR
		}'
}

# Stop the clients of LOAD_PIDS (kind → pid; each runs while OUT/<tag>-<kind>.running exists)
# and wait for them.
stop_loads() {
	local k
	for k in "${!LOAD_PIDS[@]}"; do
		rm -f "$OUT"/*-"$k".running
		wait "${LOAD_PIDS[$k]}" 2>/dev/null || true
	done
	LOAD_PIDS=()
}

# The acknowledged writes of client $2 (run tag $1) missing on server $3, or "-".
missing_on() {
	local port_var=${3^^}_PORT
	"$BUILD/cutover-load" --verify --acks "$OUT/$1-$2.acks.tsv" --host 127.0.0.1 --port "${!port_var}" \
		--user "$APP_USER" --password-file "$APP_PASSWORD_FILE" 2>>"$OUT/$BENCH_NAME-verify.err" |
		jq -r '.acked_missing // "-"' 2>/dev/null || echo -
}

# One cutover-load client (tag $1) writing every LOAD_INTERVAL_US through the write port until
# stop_load: its acks in LOAD_ACKS, its summary in LOAD_SUMMARY.
start_load() {
	LOAD_FLAG=$OUT/$1.running
	LOAD_ACKS=$OUT/$1.acks.tsv
	LOAD_SUMMARY=$OUT/$1.load.json
	touch "$LOAD_FLAG"
	"$BUILD/cutover-load" --host 127.0.0.1 --port "$WRITE_PORT" --user "$APP_USER" \
		--password-file "$APP_PASSWORD_FILE" --interval-us "$LOAD_INTERVAL_US" \
		--until-file "$LOAD_FLAG" --out "$LOAD_ACKS" >"$LOAD_SUMMARY" 2>"$OUT/$1.load.err" &
	LOAD_PID=$!
}

stop_load() {
	[[ -n ${LOAD_PID-} ]] || return 0
	rm -f "$LOAD_FLAG"
	wait "$LOAD_PID" 2>/dev/null || true
	LOAD_PID=""
}
