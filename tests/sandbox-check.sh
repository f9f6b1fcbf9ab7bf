#!/usr/bin/env bash
# sandbox-check: what a person relies on after `make sandbox` / `. sandbox/env` / `make
# sandbox-stop` (issue 12, items 1 and 13).  The env file puts this build's cutoverctl first on
# PATH and points it at the sandbox's daemon with CUTOVERD_SOCKET (what cutoverctl reads); a
# daemon started with the sandbox's config answers a bare `cutoverctl status`; stop keeps the
# daemon's log, the journal and the servers' logs in DIR.last.
#
# Then, when a ProxySQL binary is installed (the newest /usr/local/proxysql-*/bin/proxysql, or
# SANDBOX_PROXYSQL_BIN), a second sandbox with --proxysql --tenants 2: ProxySQL's client port
# reaches db1 as app; cutoverd on its config sees cluster target with db3 its primary, OK; moving
# tenant00 to db3 succeeds and tenant00's writes through ProxySQL then land on db3.  Without a
# binary that part says SKIPPED, or fails when CUTOVER_REQUIRE_PROXYSQL=1.
#
# Then, when Debian's /usr/bin/etcd is installed, a third sandbox with --ha (issue 16, item 6): a
# 3-member etcd and three cutoverd members; exactly one member acts and the others follow it by
# name; a follower refuses switchover --dry-run with NOT_LEADER, and cutoverctl --follow-leader
# gets it done by the leader; the leader killed (-9), another leads within 2 x lease_ttl and
# carries out switchover --to db2; stop ends the members and etcd and keeps their logs, configs
# and state.  Without etcd that part says SKIPPED, or fails when CUTOVER_REQUIRE_ETCD=1.
#
# Environment: SANDBOX_CHECK_DIR (/tmp/sandbox-check: the parts use D, D-px and D-ha),
# SANDBOX_CHECK_PORT (27900: the first part's write port; it takes P..P+8, the ProxySQL part
# P+100..P+131, the HA part P+200..P+245), SANDBOX_CHECK_PARTS (default "plain proxysql ha": the
# parts to run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CUTOVER_BUILD:-$ROOT/build}
SANDBOX=$ROOT/tests/sandbox/sandbox.sh
DIR=${SANDBOX_CHECK_DIR:-/tmp/sandbox-check}
PORT=${SANDBOX_CHECK_PORT:-27900}
PARTS=${SANDBOX_CHECK_PARTS:-plain proxysql ha}
PID=""
PXDIR=$DIR-px
PXPID=""
HADIR=$DIR-ha
STARTED=()   # the sandboxes the parts run started: cleanup stops these, and no other
# A sandbox's env sourced in this shell must not turn the parts' sandboxes into others.
unset SANDBOX_N SANDBOX_PROXYSQL SANDBOX_TENANTS SANDBOX_HA

fail() {
	echo "sandbox-check: FAIL: $*" >&2
	exit 1
}

cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null || true
	if [[ -n $PXPID ]]; then kill "$PXPID" 2>/dev/null || true; fi
	local d
	for d in "${STARTED[@]}"; do
		"$SANDBOX" stop --dir "$d" >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

((EUID == 0)) || fail "must run as root (the sandbox does)"
if ! [[ $PORT =~ ^[0-9]{4,5}$ ]] || ((10#$PORT < 1024 || 10#$PORT + 245 > 65535)); then
	fail "SANDBOX_CHECK_PORT must be a port from 1024 to 65290 (got '$PORT')"
fi
PORT=$((10#$PORT))
for part in $PARTS; do
	[[ $part == @(plain|proxysql|ha) ]] || fail "SANDBOX_CHECK_PARTS: unknown part '$part' (plain, proxysql, ha)"
done

# ---- . env, a bare cutoverctl, stop keeps the logs (the plain sandbox) --------------------

part_plain() {
	rm -rf "$DIR.last"
	STARTED+=("$DIR")
	# ports: the integration runner's way is not available to a shell script; a block it never uses
	CUTOVER_BUILD=$BUILD "$SANDBOX" start --fresh --dir "$DIR" --base-port $((PORT + 6)) \
		--write-port "$PORT" --read-port $((PORT + 1)) >/dev/null 2>&1 || fail "sandbox.sh start failed"
	(
		PATH=/usr/bin:/bin
		unset CUTOVERD_SOCKET
		# shellcheck disable=SC1091
		. "$DIR/env"
		[[ $(command -v cutoverctl) == "$BUILD/cutoverctl" ]] ||
			fail "after . env, cutoverctl is $(command -v cutoverctl || echo missing), not $BUILD/cutoverctl"
		[[ $CUTOVERD_SOCKET == "$DIR/run/cutoverd.sock" ]] || fail "CUTOVERD_SOCKET is '${CUTOVERD_SOCKET:-}'"
		. "$DIR/env"   # twice: PATH gets the build once
		[[ $(tr ':' '\n' <<<"$PATH" | grep -cx "$BUILD") == 1 ]] || fail "sourcing env twice put the build on PATH twice"
	) || exit 1
	"$BUILD/cutoverd" -f -c "$DIR/cutoverd.conf" >"$DIR/cutoverd.log" 2>&1 &
	PID=$!
	(
		PATH=/usr/bin:/bin
		unset CUTOVERD_SOCKET
		. "$DIR/env"
		for _ in $(seq 100); do
			cutoverctl status >/dev/null 2>&1 && exit 0
			sleep 0.1
		done
		fail "a bare cutoverctl status after . env does not reach the sandbox's daemon"
	) || exit 1
	"$SANDBOX" stop --dir "$DIR" >/dev/null 2>&1 || fail "sandbox.sh stop failed"
	PID=""
	[[ ! -e $DIR ]] || fail "$DIR is still there after stop"
	for f in cutoverd.log cutoverd.conf state db1/error.log db2/error.log db3/error.log haproxy/haproxy.log; do
		[[ -e $DIR.last/$f ]] || fail "stop did not keep $f in $DIR.last ($(ls "$DIR.last" 2>/dev/null | tr '\n' ' '))"
	done
	grep -q "stopped" "$DIR.last/cutoverd.log" || fail "the kept daemon log does not end with its stop"
	echo "sandbox-check: PASS: . env gives the build's cutoverctl and the socket; stop kept the logs and the state directory"
}

# ---- ProxySQL and tenants (start --proxysql --tenants 2) ----------------------------------

# The binary sandbox.sh --proxysql takes: SANDBOX_PROXYSQL_BIN, else the newest installed one.
proxysql_bin() {
	local p found=""
	if [[ -n ${SANDBOX_PROXYSQL_BIN:-} ]]; then
		echo "$SANDBOX_PROXYSQL_BIN"
		return 0
	fi
	while read -r p; do
		[[ -f $p && -x $p ]] && found=$p
	done < <(printf '%s\n' /usr/local/proxysql-*/bin/proxysql | sort -V)
	[[ -n $found ]] && echo "$found"
}

part_proxysql() {
	local W=$((PORT + 100))
	if ! PXBIN=$(proxysql_bin); then
		[[ ${CUTOVER_REQUIRE_PROXYSQL:-} != 1 ]] ||
			fail "CUTOVER_REQUIRE_PROXYSQL=1 and no ProxySQL binary (tests/deps.sh installs one from ../shared/proxysql)"
		echo "sandbox-check: SKIPPED proxysql part: no ProxySQL binary"
		return 0
	fi

	rm -rf "$PXDIR.last"
	STARTED+=("$PXDIR")
	# another block (by default: servers 28006-28008, HAProxy 28000/28001, ProxySQL 28030 (admin)
	# and 28031)
	if ! out=$(CUTOVER_BUILD=$BUILD "$SANDBOX" start --fresh --dir "$PXDIR" --servers 3 \
		--base-port $((W + 6)) --write-port "$W" --read-port $((W + 1)) --proxysql --tenants 2 2>&1); then
		printf '%s\n' "$out" >&2
		fail "sandbox.sh start --proxysql --tenants 2 failed (with $PXBIN)"
	fi
	# shellcheck disable=SC1091
	PXENV=$(. "$PXDIR/env" && echo "$PROXYSQL_PORT $PROXYSQL_ADMIN_PORT")
	read -r PXPORT PXADMIN <<<"$PXENV"
	[[ $PXPORT == $((W + 31)) && $PXADMIN == $((W + 30)) ]] ||
		fail "env gives ProxySQL ports '$PXPORT' (clients) and '$PXADMIN' (admin), not write port + 31 and + 30"
	"$SANDBOX" pid proxysql --dir "$PXDIR" >/dev/null || fail "sandbox.sh pid proxysql: not running"
	id=$(mariadb --defaults-file="$PXDIR/secrets/app.cnf" -h 127.0.0.1 -P "$PXPORT" --connect-timeout=5 -N -B \
		-e 'SELECT @@server_id' 2>&1) || true
	[[ $id == 1 ]] || fail "app through ProxySQL (127.0.0.1:$PXPORT) does not reach db1: '$id'"

	"$BUILD/cutoverd" -f -c "$PXDIR/cutoverd.conf" >"$PXDIR/cutoverd.log" 2>&1 &
	PXPID=$!
	ctl() { "$BUILD/cutoverctl" -s "$PXDIR/run/cutoverd.sock" "$@"; }
	# cluster target: db3 its primary, verdict OK (two polls for the hysteresis, then the heartbeat);
	# cluster sandbox: db1 its primary (the clusters are polled in turn, not at one tick)
	got=""
	for _ in $(seq 200); do
		got=$(ctl --json status 2>/dev/null |
			jq -r '[.clusters[]? | select(.name == "target" or .name == "sandbox") |
				"\(.name)=\(.primary // "-")/\(.verdict // "-")"] | sort | join(" ")' 2>/dev/null) || got=""
		[[ $got == "sandbox=db1/"*" target=db3/OK" ]] && break
		sleep 0.1
	done
	if [[ $got != "sandbox=db1/"*" target=db3/OK" ]]; then
		ctl status >&2 || true
		tail -n 20 "$PXDIR/cutoverd.log" >&2
		fail "cutoverctl status: '${got:-nothing}', not cluster target with primary db3 and verdict OK, and cluster sandbox with primary db1"
	fi
	if ! out=$(ctl --cluster sandbox move tenant tenant00 --to db3 2>&1); then
		printf '%s\n' "$out" >&2
		fail "cutoverctl move tenant tenant00 --to db3 failed"
	fi
	# tenant00's writes through ProxySQL now land on db3 (which does not replicate back to db1)
	out=$(mariadb --defaults-file="$PXDIR/secrets/app.cnf" -h 127.0.0.1 -P "$PXPORT" --connect-timeout=5 -D tenant00 \
		-N -B -e 'INSERT INTO writes (id, client_ts, server_id) VALUES (4242, 0, @@server_id); SELECT @@server_id' 2>&1) ||
		fail "inserting into tenant00.writes through ProxySQL failed: $out"
	[[ $out == 3 ]] || fail "after the move, tenant00's session through ProxySQL is on server '$out', not db3"
	row=$("$SANDBOX" sql 3 "SELECT server_id FROM tenant00.writes WHERE id = 4242" --dir "$PXDIR" 2>&1) ||
		fail "reading tenant00.writes on db3: $row"
	[[ $row == 3 ]] || fail "the row written through ProxySQL is not on db3 with server_id 3 (got '$row')"
	kill "$PXPID" 2>/dev/null || true
	PXPID=""
	"$SANDBOX" stop --dir "$PXDIR" >/dev/null 2>&1 || fail "sandbox.sh stop (with ProxySQL) failed"
	[[ -e $PXDIR.last/proxysql/proxysql.log ]] || fail "stop did not keep ProxySQL's log in $PXDIR.last"
	pgrep -f -- "$PXDIR/proxysql/proxysql.cnf" >/dev/null && fail "ProxySQL still runs after stop"
	echo "sandbox-check: PASS: --proxysql --tenants 2 ($PXBIN): app through ProxySQL reaches db1; cluster target (db3) OK; tenant00 moved to db3 and its writes land there; stop ended ProxySQL and kept its log"
}

# ---- several cutoverd members and etcd (start --ha) -------------------------------------

# sandbox.sh --ha's lease_ttl (4s), in ms: a new leader is due within twice that
HA_TTL_MS=4000
now_ms() { echo $((10#${EPOCHREALTIME//[^0-9]/} / 1000)); }
hactl() { "$BUILD/cutoverctl" -t 5000 "$@"; }
ha_sock() { echo "$HADIR/ha/$1.sock"; }

# Member $1's view of the election, "ROLE ACTING LEADER" (e.g. "follower false m2"); "-" when it
# does not answer.
ha_view() {
	local out
	out=$(hactl -s "$(ha_sock "$1")" --json status 2>/dev/null) || { echo "- false -"; return 0; }
	jq -r '.ha // {} | "\(.role // "-") \(.acting // false) \(.leader // "-")"' <<<"$out" 2>/dev/null ||
		echo "- false -"
}

# The members among "$@" that lead and act, in HA_ACTING; their views in HA_VIEWS.
ha_scan() {
	local m v
	HA_ACTING=() HA_VIEWS=()
	for m in "$@"; do
		v=$(ha_view "$m")
		HA_VIEWS+=("$m: $v")
		[[ $v == "leader true "* ]] && HA_ACTING+=("$m")
	done
	return 0
}

ha_fail() {
	local m
	for m in m1 m2 m3; do
		[[ -f $HADIR/ha/$m.log ]] || continue
		echo "--- last lines of $HADIR/ha/$m.log" >&2
		tail -n 15 "$HADIR/ha/$m.log" >&2
	done
	fail "$@"
}

part_ha() {
	local W=$((PORT + 200)) out st leader follower other next t0 dt m e primary id f views
	local -a others
	if [[ ! -x /usr/bin/etcd ]]; then
		[[ ${CUTOVER_REQUIRE_ETCD:-} != 1 ]] ||
			fail "CUTOVER_REQUIRE_ETCD=1 and no /usr/bin/etcd (tests/deps.sh installs Debian's etcd-server)"
		out="sandbox-check: *** SKIPPED ha part: no /usr/bin/etcd (tests/deps.sh installs Debian's etcd-server);"
		out+=" start --ha was NOT checked ***"
		# on both: loud in a log of stdout alone, and on a terminal that hides stdout
		echo "$out"
		echo "$out" >&2
		return 0
	fi
	rm -rf "$HADIR.last"
	STARTED+=("$HADIR")
	# another block (by default: servers 28106-28108, HAProxy 28100/28101, etcd 28140-28145)
	if ! out=$(CUTOVER_BUILD=$BUILD "$SANDBOX" start --fresh --dir "$HADIR" --servers 3 \
		--base-port $((W + 6)) --write-port "$W" --read-port $((W + 1)) --ha 2>&1); then
		printf '%s\n' "$out" >&2
		fail "sandbox.sh start --ha failed"
	fi
	[[ $out =~ sandbox:\ (m[123])\ leads\ \(acting\) ]] || fail "start --ha did not say which member leads: $out"
	leader=${BASH_REMATCH[1]}

	# the env file: the members' sockets and etcd's URLs, the plain demo's socket as it was
	# shellcheck disable=SC1091
	out=$(. "$HADIR/env" && echo "$SANDBOX_HA|$HA_SOCKETS|$HA_ETCD|$HA_PREFIX|$CUTOVERD_SOCKET")
	[[ $out == "1|$(ha_sock m1) $(ha_sock m2) $(ha_sock m3)|http://127.0.0.1:$((W + 40)),http://127.0.0.1:$((W + 41)),http://127.0.0.1:$((W + 42))|/sandbox|$HADIR/run/cutoverd.sock" ]] ||
		fail "env after start --ha: SANDBOX_HA|HA_SOCKETS|HA_ETCD|HA_PREFIX|CUTOVERD_SOCKET is '$out'"

	# status: etcd's three members and cutoverd's three, with the leader start named
	st=$("$SANDBOX" status --dir "$HADIR" 2>&1) || fail "sandbox.sh status exits non-zero after start --ha: $st"
	for e in e1 e2 e3; do
		grep -Eq "^$e +running +pid [0-9]+ +port $((W + 39 + ${e#e})),$((W + 42 + ${e#e}))\$" <<<"$st" ||
			fail "sandbox.sh status does not show etcd member $e running on its ports: $st"
	done
	for m in m1 m2 m3; do
		if [[ $m == "$leader" ]]; then
			grep -Eq "^$m +running +pid [0-9]+ +leader \(acting\) +$(ha_sock "$m")\$" <<<"$st" ||
				fail "sandbox.sh status does not show $m as the acting leader: $st"
		else
			grep -Eq "^$m +running +pid [0-9]+ +follower of $leader +$(ha_sock "$m")\$" <<<"$st" ||
				fail "sandbox.sh status does not show $m following $leader: $st"
		fi
	done

	# each member's own view: exactly one acts, the others follow it by name
	ha_scan m1 m2 m3
	((${#HA_ACTING[@]} == 1)) || ha_fail "${#HA_ACTING[@]} members act, not one: ${HA_VIEWS[*]}"
	[[ ${HA_ACTING[0]} == "$leader" ]] || ha_fail "$leader was said to lead, and ${HA_ACTING[0]} acts: ${HA_VIEWS[*]}"
	for m in m1 m2 m3; do
		[[ $m == "$leader" ]] && continue
		[[ $(ha_view "$m") == "follower false $leader" ]] ||
			ha_fail "$m does not follow $leader: ${HA_VIEWS[*]}"
	done
	follower=""
	for m in m1 m2 m3; do
		[[ $m == "$leader" ]] || { follower=$m; break; }
	done

	# a follower refuses, naming the leader; --follow-leader sends it there
	out=$(hactl -s "$(ha_sock "$follower")" switchover --to db2 --dry-run 2>&1) &&
		ha_fail "follower $follower ran switchover --dry-run: $out"
	[[ $out == *NOT_LEADER* && $out == *"the leader is $leader (control socket $(ha_sock "$leader"))"* ]] ||
		ha_fail "follower $follower's refusal is not NOT_LEADER naming $leader and its socket: $out"
	out=$(hactl -s "$(ha_sock "$follower")" --follow-leader switchover --to db2 --dry-run 2>&1) ||
		ha_fail "cutoverctl --follow-leader switchover --dry-run through $follower failed: $out"
	[[ $out == *"sending 'switchover' to the leader $leader at $(ha_sock "$leader")"* && $out == *"DRY RUN OK"* ]] ||
		ha_fail "cutoverctl --follow-leader through $follower did not get a dry run from $leader: $out"

	# the leader killed (-9): another leads within 2 x lease_ttl
	others=()
	for m in m1 m2 m3; do
		[[ $m == "$leader" ]] || others+=("$m")
	done
	t0=$(now_ms)
	"$SANDBOX" kill "$leader" --dir "$HADIR" || fail "sandbox.sh kill $leader failed"
	while :; do
		ha_scan "${others[@]}"
		dt=$(($(now_ms) - t0))
		((${#HA_ACTING[@]} == 0)) || break
		((dt <= 2 * HA_TTL_MS)) || ha_fail "no member leads ${dt} ms after $leader was killed (-9): ${HA_VIEWS[*]}"
		sleep 0.1
	done
	((${#HA_ACTING[@]} == 1)) || ha_fail "${#HA_ACTING[@]} members act after $leader was killed: ${HA_VIEWS[*]}"
	((dt <= 2 * HA_TTL_MS)) || ha_fail "${HA_ACTING[0]} leads ${dt} ms after $leader was killed, beyond 2 x lease_ttl"
	next=${HA_ACTING[0]}
	for m in "${others[@]}"; do
		[[ $m == "$next" ]] || other=$m
	done
	for _ in $(seq 50); do
		[[ $(ha_view "$other") == "follower false $next" ]] && break
		sleep 0.1
	done
	[[ $(ha_view "$other") == "follower false $next" ]] || ha_fail "$other does not follow the new leader $next: $(ha_view "$other")"
	st=$("$SANDBOX" status --dir "$HADIR" 2>&1) && fail "sandbox.sh status exits 0 with $leader killed: $st"
	grep -Eq "^$leader +stopped " <<<"$st" || fail "sandbox.sh status does not show $leader stopped: $st"
	grep -Eq "^$next +running +pid [0-9]+ +leader \(acting\) " <<<"$st" || fail "sandbox.sh status does not show $next leading: $st"

	# the new leader switches over to db2; the write path then reaches db2
	out=$(hactl -s "$(ha_sock "$next")" switchover --to db2 --yes 2>&1) ||
		ha_fail "switchover --to db2 on the new leader $next failed: $out"
	primary=""
	for _ in $(seq 100); do
		primary=$(hactl -s "$(ha_sock "$next")" --json status 2>/dev/null |
			jq -r '.clusters[]? | select(.name == "sandbox") | .primary // "-"' 2>/dev/null) || primary=""
		[[ $primary == db2 ]] && break
		sleep 0.1
	done
	[[ $primary == db2 ]] || ha_fail "after the switchover, $next says the primary is '${primary:-nothing}', not db2"
	id=$(mariadb --defaults-file="$HADIR/secrets/app.cnf" -h 127.0.0.1 -P "$W" --connect-timeout=5 -N -B \
		-e 'SELECT @@server_id' 2>&1) || true
	[[ $id == 2 ]] || fail "after the switchover, app through HAProxy (127.0.0.1:$W) is on server '$id', not db2"
	views="$leader killed, $next led after ${dt} ms (lease_ttl ${HA_TTL_MS} ms)"

	# stop: the members, then etcd; their logs, configs and state kept
	"$SANDBOX" stop --dir "$HADIR" >/dev/null 2>&1 || fail "sandbox.sh stop (with --ha) failed"
	[[ ! -e $HADIR ]] || fail "$HADIR is still there after stop"
	for f in ha/m1.log ha/m2.log ha/m3.log ha/m1.conf ha/m2.conf ha/m3.conf ha/state-m1 ha/state-m2 ha/state-m3 \
		etcd/e1.log etcd/e2.log etcd/e3.log cutoverd.conf db1/error.log haproxy/haproxy.log; do
		[[ -e $HADIR.last/$f ]] || fail "stop did not keep $f in $HADIR.last"
	done
	[[ ! -e $HADIR.last/etcd/e1 ]] || fail "stop kept etcd's data directory in $HADIR.last"
	for m in "${others[@]}"; do
		grep -q "stopped" "$HADIR.last/ha/$m.log" || fail "the kept log of $m does not end with its stop"
	done
	grep -q "switchover.*done" "$HADIR.last/ha/$next.log" || fail "the kept log of $next does not show the switchover done"
	! pgrep -f -- "$HADIR/" >/dev/null || fail "processes of $HADIR still run after stop: $(pgrep -af -- "$HADIR/")"
	echo "sandbox-check: PASS: --ha: one of 3 members acts, the others follow it; a follower refuses with NOT_LEADER and --follow-leader reaches the leader; $views; switchover --to db2 on it; stop ended members and etcd and kept their logs, configs and state"
}

for part in $PARTS; do
	"part_$part"
done
