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
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CUTOVER_BUILD:-$ROOT/build}
DIR=/tmp/sandbox-check
PID=""
PXDIR=/tmp/sandbox-check-px
PXPID=""

fail() {
	echo "sandbox-check: FAIL: $*" >&2
	exit 1
}

cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null || true
	if [[ -n $PXPID ]]; then kill "$PXPID" 2>/dev/null || true; fi
	"$ROOT/tests/sandbox/sandbox.sh" stop --dir "$DIR" >/dev/null 2>&1 || true
	"$ROOT/tests/sandbox/sandbox.sh" stop --dir "$PXDIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

((EUID == 0)) || fail "must run as root (the sandbox does)"
rm -rf "$DIR.last"
# ports: the integration runner's way is not available to a shell script; a block it never uses
CUTOVER_BUILD=$BUILD "$ROOT/tests/sandbox/sandbox.sh" start --fresh --dir "$DIR" --base-port 27906 \
	--write-port 27900 --read-port 27901 >/dev/null 2>&1 || fail "sandbox.sh start failed"
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
"$ROOT/tests/sandbox/sandbox.sh" stop --dir "$DIR" >/dev/null 2>&1 || fail "sandbox.sh stop failed"
PID=""
[[ ! -e $DIR ]] || fail "$DIR is still there after stop"
for f in cutoverd.log cutoverd.conf state db1/error.log db2/error.log db3/error.log haproxy/haproxy.log; do
	[[ -e $DIR.last/$f ]] || fail "stop did not keep $f in $DIR.last ($(ls "$DIR.last" 2>/dev/null | tr '\n' ' '))"
done
grep -q "stopped" "$DIR.last/cutoverd.log" || fail "the kept daemon log does not end with its stop"
echo "sandbox-check: PASS: . env gives the build's cutoverctl and the socket; stop kept the logs and the state directory"

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

if ! PXBIN=$(proxysql_bin); then
	[[ ${CUTOVER_REQUIRE_PROXYSQL:-} != 1 ]] ||
		fail "CUTOVER_REQUIRE_PROXYSQL=1 and no ProxySQL binary (tests/deps.sh installs one from ../shared/proxysql)"
	echo "sandbox-check: SKIPPED proxysql part: no ProxySQL binary"
	exit 0
fi

rm -rf "$PXDIR.last"
# another block: servers 28006-28008, HAProxy 28000/28001, ProxySQL 28030 (admin) and 28031
if ! out=$(CUTOVER_BUILD=$BUILD "$ROOT/tests/sandbox/sandbox.sh" start --fresh --dir "$PXDIR" --servers 3 \
	--base-port 28006 --write-port 28000 --read-port 28001 --proxysql --tenants 2 2>&1); then
	printf '%s\n' "$out" >&2
	fail "sandbox.sh start --proxysql --tenants 2 failed (with $PXBIN)"
fi
# shellcheck disable=SC1091
PXENV=$(. "$PXDIR/env" && echo "$PROXYSQL_PORT $PROXYSQL_ADMIN_PORT")
read -r PXPORT PXADMIN <<<"$PXENV"
[[ $PXPORT == 28031 && $PXADMIN == 28030 ]] ||
	fail "env gives ProxySQL ports '$PXPORT' (clients) and '$PXADMIN' (admin), not write port + 31 and + 30"
"$ROOT/tests/sandbox/sandbox.sh" pid proxysql --dir "$PXDIR" >/dev/null || fail "sandbox.sh pid proxysql: not running"
id=$(mariadb --defaults-file="$PXDIR/secrets/app.cnf" -h 127.0.0.1 -P "$PXPORT" --connect-timeout=5 -N -B \
	-e 'SELECT @@server_id' 2>&1) || true
[[ $id == 1 ]] || fail "app through ProxySQL (127.0.0.1:$PXPORT) does not reach db1: '$id'"

"$BUILD/cutoverd" -f -c "$PXDIR/cutoverd.conf" >"$PXDIR/cutoverd.log" 2>&1 &
PXPID=$!
ctl() { "$BUILD/cutoverctl" -s "$PXDIR/run/cutoverd.sock" "$@"; }
# cluster target: db3 its primary, verdict OK (two polls for the hysteresis, then the heartbeat)
got=""
for _ in $(seq 200); do
	got=$(ctl --json status target 2>/dev/null |
		jq -r '.clusters[]? | select(.name == "target") | "\(.primary // "-") \(.verdict // "-")"' 2>/dev/null) || got=""
	[[ $got == "db3 OK" ]] && break
	sleep 0.1
done
if [[ $got != "db3 OK" ]]; then
	ctl status >&2 || true
	tail -n 20 "$PXDIR/cutoverd.log" >&2
	fail "cutoverctl status: cluster target is '${got:-missing}', not primary db3 with verdict OK"
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
row=$("$ROOT/tests/sandbox/sandbox.sh" sql 3 "SELECT server_id FROM tenant00.writes WHERE id = 4242" --dir "$PXDIR" 2>&1) ||
	fail "reading tenant00.writes on db3: $row"
[[ $row == 3 ]] || fail "the row written through ProxySQL is not on db3 with server_id 3 (got '$row')"
kill "$PXPID" 2>/dev/null || true
PXPID=""
"$ROOT/tests/sandbox/sandbox.sh" stop --dir "$PXDIR" >/dev/null 2>&1 || fail "sandbox.sh stop (with ProxySQL) failed"
[[ -e $PXDIR.last/proxysql/proxysql.log ]] || fail "stop did not keep ProxySQL's log in $PXDIR.last"
pgrep -f -- "$PXDIR/proxysql/proxysql.cnf" >/dev/null && fail "ProxySQL still runs after stop"
echo "sandbox-check: PASS: --proxysql --tenants 2 ($PXBIN): app through ProxySQL reaches db1; cluster target (db3) OK; tenant00 moved to db3 and its writes land there; stop ended ProxySQL and kept its log"
