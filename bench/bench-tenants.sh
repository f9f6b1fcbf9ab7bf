#!/usr/bin/env bash
# bench-tenants.sh: per-tenant cutovers through a real ProxySQL, as each tenant's client sees
# them.  The sandbox and ProxySQL of bench-proxysql.sh (sourced); db3 becomes the tenants' target:
# a writable server of a cluster of its own ("target", upstream = the sandbox), replicating only
# the tenant schemas from db1 (replicate_wild_do_table), in a GTID domain of its own.
# Per run: BENCH_TENANTS (20) fresh tenant schemas r<run>t<NN> on db1, one client per tenant
# writing every BENCH_TENANT_INTERVAL_US (50000: 400 writes a second in all; at 20 ms this 2-core machine's target falls seconds behind, and the move waits for it — then gives up — rather than hold writes that long) through ProxySQL with the tenant's schema as its
# default (cutover-load --schema), and one `move_tenants` of them all in batches of
# BENCH_TENANT_BATCH (5).  Printed, over all runs (BENCH_TENANT_RUNS, 3):
#   - cutoverd's write-blocked time per tenant (the fence's first statement to the answer of the
#     release's LOAD; its read-back and SAVE come after);
#   - per tenant's client: the longest a write waited (done - sent) and the longest gap between
#     two acknowledged writes, errors, and acknowledged writes missing on the target;
#   - the move's total time.
# Figures are printed, never asserted.  Environment: as bench-proxysql.sh (ports, BENCH_DIR,
# BENCH_OUT, BENCH_PROXYSQL).  Exit status: 0 when the runs were made or no ProxySQL is installed
# (SKIPPED printed); 1 when the benchmark could not run.
set -euo pipefail

# shellcheck source=bench/bench-proxysql.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-proxysql.sh"

BENCH_NAME=bench-tenants
T_RUNS=${BENCH_TENANT_RUNS:-3}
T_N=${BENCH_TENANTS:-20}
T_BATCH=${BENCH_TENANT_BATCH:-5}
T_INTERVAL_US=${BENCH_TENANT_INTERVAL_US:-50000}
SB_DIR=$PREFIX-tenants
PX_DIR=$PREFIX-tenants.px
PX_LOG=$OUT/$BENCH_NAME-proxysql.log
T_RESULTS=$OUT/tenant-clients.tsv     # run tenant held_ms(cutoverd) max_wait_ms longest_gap_ms errors lost outcome kind
T_MOVES=$OUT/tenant-moves.tsv         # run outcome moved rolled_back total_ms

root_sql() {
	mariadb --no-defaults --socket="$SB_DIR/db$1/mysqld.sock" --user=root -N -B -e "$2"
}

# db3 out of the sandbox cluster into "target", upstream = the sandbox; the tenant ranges on the router.
write_tenant_conf() {
	local conf=$PX_DIR/cutoverd.conf tmp
	tmp=$(mktemp)
	awk -v c="$SANDBOX_CLUSTER" '
		/^\[/ { in3 = ($0 == "[server db3]") }
		in3 && $0 == "cluster = " c { print "cluster = target"; next }
		{ print }' "$conf" >"$tmp"
	cat >>"$tmp" <<EOF
tenant_hostgroups = 1000-1999
tenant_rule_ids = 100-999

[cluster target]
upstream = $SANDBOX_CLUSTER
EOF
	install -m 0600 "$tmp" "$conf"
	rm -f "$tmp"
}

make_target() {
	# its own domain before cutoverd connects to it (a session keeps the domain it started with)
	root_sql 3 "SET GLOBAL gtid_domain_id = 3" || die "db3: SET GLOBAL gtid_domain_id failed"
	stop_daemon
	write_tenant_conf
	start_daemon
	root_sql 3 "STOP SLAVE; SET GLOBAL replicate_wild_do_table = 'r%.%'; SET GLOBAL read_only = 0; START SLAVE" ||
		die "db3 could not be made the tenants' target"
	local deadline=$((SECONDS + 20))
	# both clusters known: they are polled in turn, not at one tick
	until api '{"id":1,"cmd":"status"}' 5 | jq -e '[.result.clusters[] | select((.name == "target" and .verdict == "OK") or
			(.name == "sandbox" and .primary == "db1"))] | length == 2' >/dev/null 2>&1; do
		((SECONDS < deadline)) || die "cluster target is not OK or sandbox has no primary db1 (see $DAEMON_LOG)"
		sleep 0.2
	done
}

# The longest a write waited (done - sent, ms) and the errors' messages of an acks file.
max_wait_of() {
	awk -F'\t' 'BEGIN { m = 0 } { w = ($3 - $2) / 1000; if (w > m) m = w } END { printf "%.1f\n", m }' "$1" 2>/dev/null || echo -
}

tenant_run() {
	local r=$1 i t sql="" names=() list reply report start k=0 pids=()
	for ((i = 0; i < T_N; i++)); do
		t=$(printf 'r%dt%02d' "$r" "$i")
		names+=("$t")
		sql+="CREATE DATABASE $t; CREATE TABLE $t.writes (id BIGINT PRIMARY KEY, client_ts BIGINT, server_id INT, created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB; "
	done
	sql+="GRANT SELECT, INSERT, UPDATE, DELETE ON \`r%\`.* TO '$APP_USER'@'127.0.0.1';"
	root_sql 1 "$sql" || die "run $r: could not create the tenant schemas"
	# the grant does not replicate to db3 (its filter takes r%.% only): given there too
	root_sql 3 "GRANT SELECT, INSERT, UPDATE, DELETE ON \`r%\`.* TO '$APP_USER'@'127.0.0.1'" ||
		die "run $r: could not grant the tenants on db3"
	local deadline=$((SECONDS + 30))
	until [[ $(root_sql 3 "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE schema_name LIKE 'r${r}t%'") == "$T_N" ]]; do
		((SECONDS < deadline)) || die "run $r: the tenant schemas do not reach db3"
		sleep 0.2
	done
	start=$(($(now_us) * 4 + r * 100000000000000))
	for t in "${names[@]}"; do
		touch "$OUT/$t.running"
		# even tenants: a multiplexed client; odd: a pinned one (ProxySQL keeps its backend connection)
		# shellcheck disable=SC2046
		"$BUILD/cutover-load" --host 127.0.0.1 --port "$PX_CLIENT_PORT" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --interval-us "$T_INTERVAL_US" --schema "$t" \
			$( ((k % 2)) && echo --mode persistent --pinned || echo --mode multiplexed) \
			--start-id "$((start + k * 1000000000000))" --until-file "$OUT/$t.running" --out "$OUT/$t.acks.tsv" \
			>"$OUT/$t.load.json" 2>"$OUT/$t.load.err" &
		pids+=($!)
		k=$((k + 1))
	done
	sleep 2
	list=$(printf '%s\n' "${names[@]}" | jq -R . | jq -cs .)
	reply=$OUT/tenants-$r.jsonl
	api "{\"id\":1,\"cmd\":\"move_tenants\",\"args\":{\"cluster\":\"$SANDBOX_CLUSTER\",\"tenants\":$list,\"to\":\"db3\",\"batch\":$T_BATCH}}" 600 >"$reply" 2>&1 || true
	sleep 1
	for t in "${names[@]}"; do rm -f "$OUT/$t.running"; done
	for k in "${pids[@]}"; do wait "$k" 2>/dev/null || true; done
	report=$(report_of "$reply")
	msg "tenant move $r: $(jq -r '.outcome // "noreply"' <<<"$report"), $(jq -r '.moved // 0' <<<"$report") moved, $(jq -r '.rolled_back // 0' <<<"$report") rolled back $(jq -r '.reason // ""' <<<"$report")"
	printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$(jq -r '.outcome // "noreply"' <<<"$report")" "$(jq -r '.moved // 0' <<<"$report")" \
		"$(jq -r '.rolled_back // 0' <<<"$report")" "$(jq -r '.total_ms // "-"' <<<"$report")" >>"$T_MOVES"
	for t in "${names[@]}"; do
		local load lost held outcome
		load=$(cat "$OUT/$t.load.json" 2>/dev/null) || load='{}'
		[[ -n $load ]] || load='{}'
		held=$(jq -r --arg t "$t" '.tenants[]? | select(.name == $t) | .write_blocked_ms // "-"' <<<"$report")
		outcome=$(jq -r --arg t "$t" '.tenants[]? | select(.name == $t) | .outcome // "-"' <<<"$report")
		lost=$("$BUILD/cutover-load" --verify --acks "$OUT/$t.acks.tsv" --host 127.0.0.1 \
			--port "$([[ $outcome == moved ]] && echo "$DB3_PORT" || echo "$DB1_PORT")" --user "$APP_USER" \
			--password-file "$APP_PASSWORD_FILE" --schema "$t" 2>>"$OUT/$BENCH_NAME-verify.err" |
			jq -r '.acked_missing // "-"' 2>/dev/null) || lost=-
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "${held:--}" "$(max_wait_of "$OUT/$t.acks.tsv")" \
			"$(jq -r '.longest_gap_ms // "-"' <<<"$load")" "$(jq -r '.errors // "-"' <<<"$load")" "${lost:--}" \
			"${outcome:--}" "$( ((10#${t: -2} % 2)) && echo pinned || echo multiplexed)" >>"$T_RESULTS"
	done
}

tenant_summary() {
	echo
	echo "-- tenant moves through ProxySQL $PX_VERSION: $T_RUNS moves of $T_N tenants in batches of $T_BATCH, one client per tenant writing every $((T_INTERVAL_US / 1000)) ms --"
	printf '  %-26s %8s %8s %8s %8s %4s\n' "" min median p95 max n
	awk -F'\t' '$3 != "-" { print $3 }' "$T_RESULTS" | stats_of "held, cutoverd (ms)"
	for kind in multiplexed pinned; do
		awk -F'\t' -v k="$kind" '$9 == k && $8 == "moved" && $4 != "-" { print $4 }' "$T_RESULTS" | stats_of "longest wait, $kind (ms)"
		awk -F'\t' -v k="$kind" '$9 == k && $8 == "moved" && $5 != "-" { print $5 }' "$T_RESULTS" | stats_of "longest gap, $kind (ms)"
		awk -F'\t' -v k="$kind" '$9 == k && $6 != "-" { print $6 }' "$T_RESULTS" | stats_of "errors, $kind client"
	done
	awk -F'\t' '$5 != "-" { print $5 / 1000 }' "$T_MOVES" | stats_of "whole move (s)"
	printf '  tenants moved %s, rolled back %s, acknowledged writes lost %s, client errors %s\n' \
		"$(awk -F'\t' '{ s += $3 } END { print s + 0 }' "$T_MOVES")" "$(awk -F'\t' '{ s += $4 } END { print s + 0 }' "$T_MOVES")" \
		"$(awk -F'\t' '$7 != "-" { s += $7 } END { print s + 0 }' "$T_RESULTS")" \
		"$(awk -F'\t' '$6 != "-" { s += $6 } END { print s + 0 }' "$T_RESULTS")"
	echo "  (a pinned client's session keeps its backend connection, which the cut must kill: its next"
	echo "   write fails once; a multiplexed one returns its backend connection after each statement, so"
	echo "   its next write waits in ProxySQL and goes on to the target without an error)"
	echo "  (held: what cutoverd measured per tenant, the same for every tenant of a batch; longest wait:"
	echo "   the slowest write of the tenant's client over the run, the held one included; gap: the longest"
	echo "   time between two of its acknowledged writes, its $((T_INTERVAL_US / 1000)) ms pace included)"
}

tenants_main() {
	local r
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
	: >"$T_RESULTS"
	: >"$T_MOVES"
	: >"$PX_LOG"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	msg "starting a 3-server sandbox in $SB_DIR (poll_interval $POLL)"
	start_sandbox
	msg "starting ProxySQL ($PROXYSQL) in $PX_DIR"
	start_proxysql
	configure_proxysql
	write_daemon_conf
	start_daemon
	make_target
	for ((r = 1; r <= T_RUNS; r++)); do
		msg "tenant move $r/$T_RUNS: $T_N tenants, batches of $T_BATCH"
		tenant_run "$r"
	done
	tenant_summary
}

tenants_main "$@"
