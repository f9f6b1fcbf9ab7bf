#!/usr/bin/env bash
# sandbox-check: what a person relies on after `make sandbox` / `. sandbox/env` / `make
# sandbox-stop` (issue 12, items 1 and 13).  The env file puts this build's cutoverctl first on
# PATH and points it at the sandbox's daemon with CUTOVERD_SOCKET (what cutoverctl reads); a
# daemon started with the sandbox's config answers a bare `cutoverctl status`; stop keeps the
# daemon's log, the journal and the servers' logs in DIR.last.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CUTOVER_BUILD:-$ROOT/build}
DIR=/tmp/sandbox-check
PID=""

fail() {
	echo "sandbox-check: FAIL: $*" >&2
	exit 1
}

cleanup() {
	[[ -n $PID ]] && kill "$PID" 2>/dev/null || true
	"$ROOT/tests/sandbox/sandbox.sh" stop --dir "$DIR" >/dev/null 2>&1 || true
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
