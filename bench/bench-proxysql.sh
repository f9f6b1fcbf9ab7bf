#!/usr/bin/env bash
# bench-proxysql.sh: switchovers through a real ProxySQL, as its clients see them.  A 3-server
# sandbox, one ProxySQL in front of it (writer hostgroup 10 = db1, reader hostgroup 20 =
# db1,db2,db3; mysql_users app with default_hostgroup 10 and transaction_persistent 1), and
# cutoverd with the sandbox's configuration plus a [router px] of type proxysql.  Two clients run
# side by side through ProxySQL's client port: a multiplexed one (no '@' in its statements: each
# statement may take another backend connection) and a pinned one (persistent, SET @pin = 1:
# ProxySQL keeps its backend connection for good), while cutoverd switches db1 → db2 → db1 …
# Per client kind: its window (last success on the old primary to the first on the new), its
# switch gap (the longest time between two successes around the switch: a multiplexed client's
# last write on the old primary may be acknowledged late, which the window does not show), its
# longest gap over the run, errors (and which), acknowledged writes lost; cutoverd's
# write_blocked_ms, longest_block_ms and phases; the LOAD MYSQL SERVERS TO RUNTIME statements
# cutoverd sent inside the window.  Figures are printed, never asserted.
#
# Then read shifts (canary, BENCH_SHIFT_RUNS, default 3): the reads of a read client moved to db3
# in steps 5,10,25,50,100 held BENCH_SHIFT_HOLD_MS (3000) each, and the share db3 served at each
# step printed against the share asked.
# Environment: BENCH_PX_RUNS (20), BENCH_PX_INTERVAL_US (8000: each client's pace; faster, the
# replicas of this 2-core machine fall behind and the switchover's catch-up cannot converge),
# BENCH_PROXYSQL (the binary; default the newest /usr/local/proxysql-*/bin/proxysql), BENCH_SW_POLL
# (1s), BENCH_DIR (/tmp/bench: the sandbox in /tmp/bench-proxysql, ProxySQL's files in
# /tmp/bench-proxysql.px), BENCH_OUT (/tmp/bench-out), BENCH_PX_BASE_PORT (26406),
# BENCH_PX_WRITE_PORT (26400), BENCH_PX_READ_PORT (26401: the sandbox's HAProxy, which cutoverd
# also switches), BENCH_PX_ADMIN_PORT (26432), BENCH_PX_CLIENT_PORT (26433).
# Exit status: 0 when the runs were made, or when no ProxySQL binary is installed (SKIPPED is
# printed); 1 when the benchmark could not run (why on stderr).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
RUNS=${BENCH_PX_RUNS:-20}
INTERVAL_US=${BENCH_PX_INTERVAL_US:-8000}
POLL=${BENCH_SW_POLL:-1s}
PREFIX=${BENCH_DIR:-/tmp/bench}
OUT=${BENCH_OUT:-/tmp/bench-out}
BASE_PORT=${BENCH_PX_BASE_PORT:-26406}
WRITE_PORT=${BENCH_PX_WRITE_PORT:-26400}
READ_PORT=${BENCH_PX_READ_PORT:-26401}
SHIFT_RUNS=${BENCH_SHIFT_RUNS:-3}
SHIFT_HOLD_MS=${BENCH_SHIFT_HOLD_MS:-3000}
PX_ADMIN_PORT=${BENCH_PX_ADMIN_PORT:-26432}
PX_CLIENT_PORT=${BENCH_PX_CLIENT_PORT:-26433}
SB_DIR=$PREFIX-proxysql
PX_DIR=$PREFIX-proxysql.px
PX_MARKER=.cutoverd-bench-proxysql
WHG=10
RHG=20
BENCH_NAME=bench-proxysql
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

# Through ProxySQL too, the kinds of client of bench-clients.sh: a connection per write (each
# a new ProxySQL session), a transaction (pinned while it is open) and a reader (SELECT by id,
# multiplexed: it goes to the writer hostgroup, the app's default, as there is no query rule).
# The second and third write at half the pace: four writers at 8 ms outrun what this machine's
# replicas apply.
KINDS=(multiplexed pinned per-request transaction read)
declare -A KIND_ARGS=([multiplexed]="--mode multiplexed" [pinned]="--mode persistent --pinned"
	[per-request]="--mode per-request" [transaction]="--mode transaction" [read]="--mode read")
declare -A KIND_PACE=([multiplexed]=1 [pinned]=1 [per-request]=2 [transaction]=2 [read]=1)
declare -A LOAD_PIDS=()
RESULTS=$OUT/proxysql-runs.tsv             # run client window gap errors lost switch_gap error-messages
RUN_RESULTS=$OUT/proxysql-switchovers.tsv  # run from to outcome blocked longest_block fence_attempts loads again undone px_loads total phases
PROXYSQL=""
PX_VERSION=""
PX_PID=""
PX_DIR_OURS=0
PX_LOG=$OUT/$BENCH_NAME-proxysql.log

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_loads
	stop_daemon
	stop_proxysql
	remove_px_dir
	stop_sandbox
	exit "$rc"
}

# ---- ProxySQL -----------------------------------------------------------------------------

find_proxysql() {
	if [[ -n ${BENCH_PROXYSQL:-} ]]; then
		[[ -x $BENCH_PROXYSQL ]] || die "BENCH_PROXYSQL=$BENCH_PROXYSQL is not an executable file"
		PROXYSQL=$BENCH_PROXYSQL
		return 0
	fi
	PROXYSQL=$(printf '%s\n' /usr/local/proxysql-*/bin/proxysql | sort -V |
		while read -r p; do [[ -x $p ]] && echo "$p"; done | tail -n 1)
	[[ -n $PROXYSQL ]]
}

new_password() {
	local p
	p=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	echo "${p:0:24}"
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# SQL on ProxySQL's admin interface as admin (not cutoverd's user).
px_admin() {
	mariadb --defaults-file="$PX_DIR/admin.cnf" -h 127.0.0.1 -P "$PX_ADMIN_PORT" --connect-timeout=2 -N -B -e "$1"
}

# ProxySQL's directory: ours (marker) or new, never someone else's.
prepare_px_dir() {
	if [[ -e $PX_DIR ]]; then
		[[ -e $PX_DIR/$PX_MARKER || -z $(ls -A "$PX_DIR") ]] ||
			die "$PX_DIR exists and was not made by $BENCH_NAME; choose another BENCH_DIR"
		rm -rf "$PX_DIR"
	fi
	PX_DIR_OURS=1
	mkdir -p "$PX_DIR/data"
	chmod 0700 "$PX_DIR"
	touch "$PX_DIR/$PX_MARKER"
}

start_proxysql() {
	local admin_pw cut_pw deadline p
	for p in "$PX_ADMIN_PORT" "$PX_CLIENT_PORT"; do
		port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (BENCH_PX_ADMIN_PORT, BENCH_PX_CLIENT_PORT)"
	done
	prepare_px_dir
	admin_pw=$(new_password)
	cut_pw=$(new_password)
	(
		umask 077
		printf '[client]\nuser = admin\npassword = %s\n' "$admin_pw" >"$PX_DIR/admin.cnf"
		printf '%s\n' "$cut_pw" >"$PX_DIR/cutadmin.pass"
		# cutoverd logs in as cutadmin, which must not be a mysql_users name (ProxySQL would
		# refuse its admin login)
		cat >"$PX_DIR/proxysql.cnf" <<EOF
datadir="$PX_DIR/data"
admin_variables=
{
	admin_credentials="admin:$admin_pw;cutadmin:$cut_pw"
	mysql_ifaces="127.0.0.1:$PX_ADMIN_PORT"
}
mysql_variables=
{
	interfaces="127.0.0.1:$PX_CLIENT_PORT"
	threads=2
	monitor_enabled=false
}
EOF
	)
	chmod 0600 "$PX_DIR/cutadmin.pass"
	"$PROXYSQL" -f -M --initial --no-version-check -c "$PX_DIR/proxysql.cnf" -D "$PX_DIR/data" >>"$PX_LOG" 2>&1 &
	PX_PID=$!
	deadline=$((SECONDS + 30))
	until px_admin 'SELECT 1' >/dev/null 2>&1; do
		kill -0 "$PX_PID" 2>/dev/null || { PX_PID=""; tail -n 20 "$PX_LOG" >&2; die "ProxySQL exited during start-up (log above: $PX_LOG)"; }
		((SECONDS < deadline)) || { tail -n 20 "$PX_LOG" >&2; die "ProxySQL's admin port $PX_ADMIN_PORT does not answer after 30 s (log: $PX_LOG)"; }
		sleep 0.2
	done
	PX_VERSION=$(px_admin 'SELECT version()' 2>/dev/null) || PX_VERSION=unknown
}

configure_proxysql() {
	local app_pw i p rows=""
	app_pw=$(head -n 1 "$APP_PASSWORD_FILE")
	rows="($WHG, '127.0.0.1', $DB1_PORT)"
	for ((i = 1; i <= 3; i++)); do
		p=DB${i}_PORT
		rows+=", ($RHG, '127.0.0.1', ${!p})"
	done
	px_admin "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES $rows;
		INSERT INTO mysql_users (username, password, default_hostgroup, transaction_persistent)
			VALUES ('$APP_USER', '$app_pw', $WHG, 1);
		LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK;
		LOAD MYSQL USERS TO RUNTIME; SAVE MYSQL USERS TO DISK" ||
		die "configuring ProxySQL through its admin port failed (log: $PX_LOG)"
	# the whole path the clients take: ProxySQL's client port, as app, onto db1
	local id deadline=$((SECONDS + 20))
	until id=$(mariadb --defaults-file="$APP_CNF" -h 127.0.0.1 -P "$PX_CLIENT_PORT" --connect-timeout=2 \
		-N -B -e 'SELECT @@server_id' 2>>"$OUT/$BENCH_NAME-setup.err") && [[ $id == 1 ]]; do
		((SECONDS < deadline)) || die "a connection through ProxySQL (127.0.0.1:$PX_CLIENT_PORT) as $APP_USER does not reach db1 (got '${id:-nothing}'; see $OUT/$BENCH_NAME-setup.err, $PX_LOG)"
		sleep 0.2
	done
}

stop_proxysql() {
	local i
	[[ -n $PX_PID ]] || return 0
	kill -TERM "$PX_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$PX_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$PX_PID" 2>/dev/null || true
	wait "$PX_PID" 2>/dev/null || true
	PX_PID=""
}

# Its files hold the admin passwords: gone with it (the log is in BENCH_OUT).
remove_px_dir() {
	((PX_DIR_OURS)) || return 0
	[[ -e $PX_DIR/$PX_MARKER ]] && rm -rf "$PX_DIR"
	PX_DIR_OURS=0
}

# cutoverd's configuration: the sandbox's without its HAProxy router (no client goes through it
# here, and promote would wait for it too), and the ProxySQL router.
write_daemon_conf() {
	local conf=$PX_DIR/cutoverd.conf
	(
		umask 077
		awk '/^\[/ { skip = ($0 ~ /^\[router /) } !skip' "$CUTOVERD_CONF"
		cat <<EOF

[router px]
cluster = $SANDBOX_CLUSTER
type = proxysql
address = 127.0.0.1:$PX_ADMIN_PORT
user = cutadmin
password_file = $PX_DIR/cutadmin.pass
writer_hostgroup = $WHG
reader_hostgroup = $RHG
EOF
	) >"$conf"
	chmod 0600 "$conf"
	CUTOVERD_CONF=$conf
}

# ---- clients ------------------------------------------------------------------------------

start_loads() {
	local tag=$1 k start=$(($(now_us) * 4))
	for k in "${KINDS[@]}"; do
		touch "$OUT/$tag-$k.running"
		start=$((start + 10000000000000))
		# shellcheck disable=SC2086  # KIND_ARGS holds several words
		"$BUILD/cutover-load" --host 127.0.0.1 --port "$PX_CLIENT_PORT" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --interval-us "$((INTERVAL_US * KIND_PACE[$k]))" ${KIND_ARGS[$k]} \
			--start-id "$start" --until-file "$OUT/$tag-$k.running" --out "$OUT/$tag-$k.acks.tsv" \
			>"$OUT/$tag-$k.load.json" 2>"$OUT/$tag-$k.load.err" &
		LOAD_PIDS[$k]=$!
	done
}

# The errors of an acks file as "N x errno message; …" (empty when none).
errors_of() {
	awk -F'\t' '$4 == "err" { n[$5 " " $7]++ } END { for (m in n) printf "%d x %s\n", n[m], m }' "$1" 2>/dev/null |
		sort -rn | paste -sd ';' - | sed 's/;/; /g'
}

# The longest time between two successes around the switch in acks file $1 (ms): from the success
# before the last one on the old server to the first on the new.  Unlike the window it counts a
# success on the old server that was acknowledged late (a multiplexed client's read-back, held by
# ProxySQL until the new writer); unlike the longest gap, no stall elsewhere in the run.
switch_gap_of() {
	awk -F'\t' '$4 == "ok" { n++; d[n] = $3; if (n == 1) first = $6; if (!fn && $6 != first) fn = n }
		END {
			if (!fn) { print "-"; exit }
			for (i = (fn > 2 ? fn - 1 : 2); i <= fn; i++) if (d[i] - d[i - 1] > m) m = d[i] - d[i - 1]
			printf "%.3f\n", m / 1000
		}' "$1" 2>/dev/null || echo -
}

# Every replica has the primary's GTID position (as bench-clients waits).
wait_replicas() {
	local tag=$1 deadline=$((SECONDS + 120)) behind
	while :; do
		behind=$(status_json | jq -r '(.servers | map(select(.role == "primary")) | first | .gtid) as $p
			| [.servers[] | select(.role == "replica" and .gtid != $p)] | length' 2>/dev/null) || behind=-
		[[ $behind == 0 ]] && break
		((SECONDS < deadline)) || { msg "run $tag: $behind replica(s) still behind after 120 s; switching anyway"; break; }
		sleep 0.2
	done
}

# What cutoverd logged of this switchover up to "router px: writes go to": the LOADs inside the
# window, by design (drain 1 + promote 1, + 1 per "loading again", + 2 per fence try undone:
# its drain is rolled back and done again).  Prints "loads again undone".
loads_in_window() {
	local log_from=$1
	tail -c +"$((log_from + 1))" "$DAEMON_LOG" | awk '
		/router px: writes go to/ { routed = 1; exit }
		/proxysql router .px.: runtime_mysql_servers does not show the change yet/ { again++ }
		/the fence was held up past its budget .* and undone/ { undone++ }
		END { printf "%s %d %d\n", routed ? 2 + again + 2 * undone : "-", again, undone }'
}

# ---- one switchover -----------------------------------------------------------------------

one_run() {
	local run=$1 tag=px-$1 from to st args reply report outcome k load lost log_from px_from px_loads
	local loads again undone primary
	wait_healthy || die "the cluster is not healthy before run $run (see $DAEMON_LOG)"
	st=$(status_json)
	from=$(jq -r .primary <<<"$st")
	[[ $from == db1 ]] && to=db2 || to=db1
	wait_replicas "$tag"
	wait_healthy || die "the cluster is not healthy before run $run (see $DAEMON_LOG)"
	log_from=$(stat -c %s "$DAEMON_LOG")
	px_from=$(stat -c %s "$PX_LOG")
	start_loads "$tag"
	sleep 1
	args=$(jq -cn --arg to "$to" '{to: $to, drain_timeout_ms: 30000}')
	reply=$OUT/$tag.switchover.jsonl
	api "{\"id\":1,\"cmd\":\"switchover\",\"args\":$args}" 120 >"$reply" 2>&1 || true
	sleep 1
	stop_loads
	report=$(report_of "$reply")
	outcome=$(jq -r '.outcome // "noreply"' <<<"$report")
	read -r loads again undone < <(loads_in_window "$log_from")
	# every LOAD of the switchover (its finalize too), as ProxySQL logged them
	px_loads=$(tail -c +"$((px_from + 1))" "$PX_LOG" | grep -c 'Received LOAD MYSQL SERVERS TO RUNTIME command') || px_loads=0
	primary=$to
	if [[ $outcome != "done" ]]; then
		msg "run $tag: outcome $outcome: $(jq -r '.reason // ""' <<<"$report")"
		tail -n 15 "$DAEMON_LOG" >&2
		wait_healthy || die "the cluster did not recover after run $tag (see $DAEMON_LOG)"
		primary=$(status_json | jq -r '.primary // empty')
	fi
	for k in "${KINDS[@]}"; do
		load=$(cat "$OUT/$tag-$k.load.json" 2>/dev/null) || load='{}'
		[[ -n $load ]] || load='{}'
		lost=-
		# a reader writes nothing to lose
		[[ -n $primary && $k != read ]] && lost=$(missing_on "$tag" "$k" "$primary")
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$k" "$(jq -r '.window_ms // "-"' <<<"$load")" \
			"$(jq -r '.longest_gap_ms // "-"' <<<"$load")" "$(jq -r '.errors // "-"' <<<"$load")" "$lost" \
			"$(switch_gap_of "$OUT/$tag-$k.acks.tsv")" "$(errors_of "$OUT/$tag-$k.acks.tsv")" >>"$RESULTS"
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$from" "$to" "$outcome" \
		"$(jq -r '.write_blocked_ms // "-"' <<<"$report")" "$(jq -r '.longest_block_ms // "-"' <<<"$report")" \
		"$(jq -r '.fence_attempts // "-"' <<<"$report")" "$loads" "$again" "$undone" "$px_loads" \
		"$(jq -r '.total_ms // "-"' <<<"$report")" \
		"$(jq -r '[.phases[]? | select(.ms != null) | "\(.phase)=\(.ms * 10 | round / 10)"] | join(",")' <<<"$report")" \
		>>"$RUN_RESULTS"
}

# ---- summary ------------------------------------------------------------------------------

# "MET"/"MISSED": is $1 <= $2?
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v != "-" && v + 0 <= t + 0) ? "MET" : "MISSED" }'; }

# median and p95 (nearest rank) of the numbers on stdin: "median p95", or "- -".
med_p95() {
	sort -g | awk '{ v[NR] = $1 }
		END { if (!NR) { print "- -"; exit }
			m = int(NR / 2 + 0.999999); p = int(0.95 * NR + 0.999999); if (p > NR) p = NR
			printf "%.1f %.1f\n", v[m], v[p] }'
}

print_summary() {
	local k ph med p95 errs maxerr lost n failed
	echo
	echo "== switchovers through ProxySQL $PX_VERSION, ${#KINDS[@]} clients (${KINDS[*]}), multiplexed and pinned every ${INTERVAL_US} us, the others every $((2 * INTERVAL_US)) us, $RUNS switchovers =="
	printf '  %-26s %8s %8s %8s %8s %4s\n' '(ms)' min median p95 max n
	for k in "${KINDS[@]}"; do
		awk -F'\t' -v k="$k" '$2 == k && $3 != "-" { print $3 }' "$RESULTS" | stats_of "$k: window"
		awk -F'\t' -v k="$k" '$2 == k && $7 != "-" { print $7 }' "$RESULTS" | stats_of "$k: switch gap"
		awk -F'\t' -v k="$k" '$2 == k && $4 != "-" { print $4 }' "$RESULTS" | stats_of "$k: longest gap"
	done
	awk -F'\t' '$5 != "-" { print $5 }' "$RUN_RESULTS" | stats_of "cutoverd write_blocked"
	awk -F'\t' '$6 != "-" { print $6 }' "$RUN_RESULTS" | stats_of "cutoverd longest_block"
	# every phase any report had, in their order
	while read -r ph; do
		awk -F'\t' -v ph="$ph" '{ n = split($13, a, ","); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == ph) print kv[2] } }' \
			"$RUN_RESULTS" | stats_of "phase $ph"
	done < <(awk -F'\t' '{ n = split($13, a, ","); for (i = 1; i <= n; i++) { sub(/=.*/, "", a[i]); if (!(a[i] in s)) { s[a[i]] = 1; print a[i] } } }' "$RUN_RESULTS")
	awk -F'\t' '$12 != "-" { print $12 }' "$RUN_RESULTS" | stats_of "switchover total"
	awk -F'\t' '$8 != "-" { print $8 }' "$RUN_RESULTS" | stats_of "LOADs in the window (n)"
	awk -F'\t' '{ print $11 }' "$RUN_RESULTS" | stats_of "LOADs ProxySQL logged (n)"
	awk -F'\t' '{ n++; if ($4 != "done") f++; a += $9; u += $10; if ($7 > 1) t++ }
		END { printf "  runs %d, failed %d; fence tries undone %d (in %d runs), second LOADs (\"loading again\") %d\n", n, f + 0, u, t + 0, a }' "$RUN_RESULTS"
	echo "  per run (ms; LOADs: in the window by design / all that ProxySQL logged):"
	awk -F'\t' 'function f(v) { return v == "-" ? sprintf("%7s", v) : sprintf("%7.1f", v) }
		FNR == NR { c[$1, $2] = f($3) " " f($7) " " sprintf("%3s", $5); next }
		FNR == 1 { printf "    %3s %-9s %-7s %7s %5s %5s | %-23s | %s\n", "run", "switch", "outcome", "blocked", "tries",
			"LOADs", "multiplexed win/sw.gap/err", "pinned win/sw.gap/err" }
		{ printf "    %3s %-9s %-7s %s %5s %5s | %-23s | %s\n", $1, $2 "->" $3, $4, f($5), $7, $8 "/" $11,
			c[$1, "multiplexed"], c[$1, "pinned"] }' "$RESULTS" "$RUN_RESULTS"
	for k in "${KINDS[@]}"; do
		awk -F'\t' -v k="$k" '$2 == k { n++; e += ($5 == "-" ? 0 : $5); if ($5 != "-" && $5 > m) m = $5; if ($6 == "-") u++; else l += $6 }
			END { printf "  %-12s errors %d in total, at most %d in a run; acknowledged writes lost %d%s\n", k, e, m, l,
				k == "read" ? " (writes nothing)" : u ? sprintf(" (%d runs not verified)", u) : "" }' "$RESULTS"
		awk -F'\t' -v k="$k" '$2 == k && $8 != "" { printf "    run %s: %s\n", $1, $8 }' "$RESULTS"
	done
	echo "  (window: last success on the old primary to the first on the new, as the client saw it."
	echo "   switch gap: the longest time between two successes, from the one before the last on the old"
	echo "   primary to the first on the new; longest gap: the same over the whole run.  A multiplexed ack"
	echo "   is read back by a second statement, which ProxySQL holds until the new writer: an INSERT that"
	echo "   committed on the old primary just before the drain is acknowledged late, so that client's"
	echo "   window can be much shorter than its stall; its switch gap shows the stall.  LOADs in the"
	echo "   window: the LOAD MYSQL SERVERS TO RUNTIME cutoverd sent from its drain to 'writes go to',"
	echo "   counted by design from its log (drain 1 + promote 1, + 1 per 'loading again', + 2 per fence"
	echo "   try undone); LOADs ProxySQL logged: its 'Received LOAD MYSQL SERVERS TO RUNTIME' lines over"
	echo "   the whole switchover, finalize's included)"
	echo "  targets:"
	for k in "${KINDS[@]}"; do
		read -r med p95 < <(awk -F'\t' -v k="$k" '$2 == k && $3 != "-" { print $3 }' "$RESULTS" | med_p95)
		printf '    %-12s window median %s <= 8 ms %s, p95 %s <= 15 ms %s\n' "$k" "$med" "$(verdict "$med" 8)" \
			"$p95" "$(verdict "$p95" 15)"
		read -r med p95 < <(awk -F'\t' -v k="$k" '$2 == k && $7 != "-" { print $7 }' "$RESULTS" | med_p95)
		printf '    %-12s switch gap median %s <= 8 ms %s, p95 %s <= 15 ms %s\n' "$k" "$med" "$(verdict "$med" 8)" \
			"$p95" "$(verdict "$p95" 15)"
	done
	read -r med p95 < <(awk -F'\t' '$5 != "-" { print $5 }' "$RUN_RESULTS" | med_p95)
	printf '    %-12s write_blocked median %s <= 8 ms %s, p95 %s <= 15 ms %s\n' cutoverd "$med" "$(verdict "$med" 8)" \
		"$p95" "$(verdict "$p95" 15)"
	errs=$(awk -F'\t' '$2 == "multiplexed" && $5 != "-" { e += $5 } END { print e + 0 }' "$RESULTS")
	printf '    %-12s errors %s == 0 %s\n' multiplexed "$errs" "$(verdict "$errs" 0)"
	maxerr=$(awk -F'\t' '$2 == "pinned" && $5 != "-" && $5 > m { m = $5 } END { print m + 0 }' "$RESULTS")
	printf '    %-12s errors per switchover (one session) at most %s <= 1 %s\n' pinned "$maxerr" "$(verdict "$maxerr" 1)"
	lost=$(awk -F'\t' '$6 != "-" { l += $6 } END { print l + 0 }' "$RESULTS")
	n=$(awk -F'\t' '$6 == "-" && $2 != "read"' "$RESULTS" | wc -l)
	failed=$(awk -F'\t' '$4 != "done"' "$RUN_RESULTS" | wc -l)
	printf '    %-12s acknowledged writes lost %s == 0 %s%s\n' 'all clients' "$lost" "$(verdict "$lost" 0)" \
		"$( ((n > 0)) && echo " ($n client runs not verified)")"
	((failed == 0)) || echo "    $failed switchover(s) failed: see $RUN_RESULTS and the cutoverd log in $OUT"
}

# Read shifts (canary): BENCH_SHIFT_RUNS shifts of the reads to db3, steps 5,10,25,50,100 held
# BENCH_SHIFT_HOLD_MS each, under a read client through ProxySQL: the share of the reads db3 really
# served at each step against the share asked.  The reader hostgroup is put back between runs.
shift_runs() {
	local r reply report steps="5,10,25,50,100" rows=""
	local i p
	px_admin "INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)
		VALUES (2, 1, '^SELECT COUNT\\(\\*\\) FROM app\\.writes', $RHG, 1); LOAD MYSQL QUERY RULES TO RUNTIME" ||
		{ msg "could not add the read rule; no read shifts"; return 0; }
	for ((i = 1; i <= 3; i++)); do
		p=DB${i}_PORT
		rows+="${rows:+, }($RHG, '127.0.0.1', ${!p})"
	done
	: >"$OUT/shift-steps.tsv"
	for ((r = 1; r <= SHIFT_RUNS; r++)); do
		px_admin "DELETE FROM mysql_servers WHERE hostgroup_id = $RHG; INSERT INTO mysql_servers (hostgroup_id, hostname, port)
			VALUES $rows; LOAD MYSQL SERVERS TO RUNTIME" || msg "shift $r: could not reset the reader hostgroup"
		sleep 1
		touch "$OUT/shift-$r-read.running"
		"$BUILD/cutover-load" --host 127.0.0.1 --port "$PX_CLIENT_PORT" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --interval-us "$INTERVAL_US" --mode read \
			--until-file "$OUT/shift-$r-read.running" --out "$OUT/shift-$r-read.acks.tsv" \
			>"$OUT/shift-$r-read.load.json" 2>"$OUT/shift-$r-read.load.err" &
		LOAD_PIDS[read]=$!
		sleep 1
		reply=$OUT/shift-$r.jsonl
		api "{\"id\":1,\"cmd\":\"shift\",\"args\":{\"to\":\"db3\",\"steps\":\"$steps\",\"hold_ms\":$SHIFT_HOLD_MS,\"gate\":\"error_rate<5%\"}}" 300 \
			>"$reply" 2>&1 || true
		stop_loads
		report=$(report_of "$reply")
		msg "read shift $r: $(jq -r '.outcome // "noreply"' <<<"$report") $(jq -r '.reason // ""' <<<"$report")"
		jq -r --arg r "$r" '.done[]? | [$r, .percent, (.observed_percent // "-"), (.reads // "-"), (.hold_observed_percent // "-")] | @tsv' <<<"$report" \
			>>"$OUT/shift-steps.tsv"
	done
	echo
	echo "-- read shift to db3 through ProxySQL $PX_VERSION: share asked vs served, $SHIFT_RUNS shifts, holds of $SHIFT_HOLD_MS ms --"
	printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
	for p in 5 10 25 50 100; do
		awk -F'\t' -v p="$p" '$2 == p && $3 != "-" { print $3 }' "$OUT/shift-steps.tsv" | stats_of "served at $p % (%)"
	done
	echo "  (the share db3 served of the reader hostgroup's queries under each step's final weight, after"
	echo "   cutoverd's corrections from what ProxySQL served; over the whole hold:)"
	for p in 5 10 25 50; do
		awk -F'\t' -v p="$p" '$2 == p && $5 != "-" { print $5 }' "$OUT/shift-steps.tsv" | stats_of "hold at $p % (%)"
	done
}

main() {
	local i
	for v in RUNS INTERVAL_US BASE_PORT WRITE_PORT READ_PORT PX_ADMIN_PORT PX_CLIENT_PORT; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number (got '${!v}')"
	done
	if ! find_proxysql; then
		echo "SKIPPED: no ProxySQL binary (tests/deps.sh installs one from ../shared/proxysql)"
		msg "SKIPPED: no ProxySQL binary (tests/deps.sh installs one from ../shared/proxysql)"
		exit 0
	fi
	((EUID == 0)) || die "run as root: the sandbox starts mariadbd and haproxy as root"
	for t in jq socat mariadb; do
		command -v "$t" >/dev/null || die "$t is missing (tests/deps.sh)"
	done
	[[ -x $BUILD/cutoverd && -x $BUILD/cutover-load ]] || die "$BUILD/cutoverd or cutover-load is missing: run make all"
	mkdir -p "$OUT"
	: >"$RESULTS"
	: >"$RUN_RESULTS"
	: >"$PX_LOG"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	msg "starting a 3-server sandbox in $SB_DIR (poll_interval $POLL)"
	start_sandbox
	msg "starting ProxySQL ($PROXYSQL) in $PX_DIR: admin 127.0.0.1:$PX_ADMIN_PORT, clients 127.0.0.1:$PX_CLIENT_PORT"
	start_proxysql
	configure_proxysql
	write_daemon_conf
	start_daemon
	for ((i = 1; i <= RUNS; i++)); do
		msg "switchover $i/$RUNS through ProxySQL $PX_VERSION with ${#KINDS[@]} clients"
		one_run "$i"
	done
	print_summary
	((SHIFT_RUNS == 0)) || shift_runs
}

# bench-tenants.sh sources this file for its sandbox and ProxySQL helpers
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
