#!/usr/bin/env bash
# ports-check: the integration runner finds free ports by itself.  With something listening on
# 127.0.0.1:24300 (the first block's write port), one integration test must still pass, on ports
# the runner says it chose instead; with IT_WRITE_PORT naming a taken port, the sandbox's refusal
# must name the IT_* variables (the ones that apply there), not SANDBOX_*.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CUTOVER_BUILD:-$ROOT/build}
PORT=24300
LISTENER=""
OUT=$(mktemp)

cleanup() {
	[[ -n $LISTENER ]] && kill "$LISTENER" 2>/dev/null || true
	rm -f "$OUT"
}
trap cleanup EXIT

fail() {
	echo "ports-check: FAIL: $*" >&2
	sed 's/^/  | /' "$OUT" >&2
	exit 1
}

((EUID == 0)) || { echo "ports-check: must run as root (the sandbox does)" >&2; exit 1; }
command -v socat >/dev/null || { echo "ports-check: socat is missing (tests/deps.sh installs it)" >&2; exit 1; }
[[ -x $BUILD/it-tests ]] || { echo "ports-check: $BUILD/it-tests is missing (make $BUILD/it-tests)" >&2; exit 1; }

socat TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork /dev/null &
LISTENER=$!
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
	sleep 0.1
done

env -u IT_BASE_PORT -u IT_WRITE_PORT -u IT_READ_PORT CUTOVER_BUILD="$BUILD" IT_DIR_PREFIX=/tmp/ports-check- \
	CK_RUN_SUITE=foundation CK_RUN_CASE=status_matches_servers "$BUILD/it-tests" >"$OUT" 2>&1 ||
	fail "with 127.0.0.1:$PORT taken, the test did not pass"
grep -q "ports 24300-24421 are taken; using 24500 (writes)" "$OUT" ||
	fail "the runner did not say it moved to the next block"

IT_BASE_PORT=24306 IT_WRITE_PORT=$PORT IT_READ_PORT=24301 CUTOVER_BUILD="$BUILD" IT_DIR_PREFIX=/tmp/ports-check- \
	CK_RUN_SUITE=foundation CK_RUN_CASE=status_matches_servers "$BUILD/it-tests" >"$OUT" 2>&1 &&
	fail "with IT_WRITE_PORT=$PORT taken, the test passed"
grep -q "set IT_BASE_PORT, IT_WRITE_PORT and IT_READ_PORT, not SANDBOX_\*" "$OUT" ||
	fail "the sandbox's refusal does not name the IT_* variables"
echo "ports-check: PASS: moved to the next free block; a taken IT_WRITE_PORT is refused naming IT_*"
