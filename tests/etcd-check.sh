#!/usr/bin/env bash
# etcd-check: daemon/etcd.c (the client cutoverd elects its leader with, issue 16) against a
# real 3-member etcd on loopback, started here: lease, create-if-absent, a put guarded by the
# leader key's revision (the fencing token), keepalive, revoke; then with a member killed (-9)
# the calls go through another; then with two of three killed a call fails within its deadline.
# Without an etcd binary it says SKIPPED (loudly) and passes — unless CUTOVER_REQUIRE_ETCD=1
# (.ci/run sets it; tests/deps.sh installs Debian's etcd-server).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CUTOVER_BUILD:-$ROOT/build}
DIR=/tmp/etcd-check
BASE=${ETCD_CHECK_PORT:-29100}
PIDS=()

fail() {
	echo "etcd-check: FAIL: $*" >&2
	exit 1
}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

if ! command -v etcd >/dev/null; then
	if [[ ${CUTOVER_REQUIRE_ETCD:-0} == 1 ]]; then
		fail "no etcd binary, and CUTOVER_REQUIRE_ETCD=1 (tests/deps.sh installs etcd-server)"
	fi
	echo "etcd-check: SKIPPED: no etcd binary (tests/deps.sh installs Debian's etcd-server)"
	exit 0
fi
[[ -x $BUILD/etcd-drive ]] || fail "$BUILD/etcd-drive is missing: make $BUILD/etcd-drive"
rm -rf "$DIR"
mkdir -p "$DIR"
cluster=""
for i in 1 2 3; do
	cluster+="${cluster:+,}m$i=http://127.0.0.1:$((BASE + 100 + i))"
done
for i in 1 2 3; do
	etcd --name "m$i" --data-dir "$DIR/m$i" \
		--listen-client-urls "http://127.0.0.1:$((BASE + i))" --advertise-client-urls "http://127.0.0.1:$((BASE + i))" \
		--listen-peer-urls "http://127.0.0.1:$((BASE + 100 + i))" \
		--initial-advertise-peer-urls "http://127.0.0.1:$((BASE + 100 + i))" \
		--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token etcd-check \
		>"$DIR/m$i.log" 2>&1 &
	PIDS+=($!)
done
EPS=("http://127.0.0.1:$((BASE + 1))" "http://127.0.0.1:$((BASE + 2))" "http://127.0.0.1:$((BASE + 3))")
deadline=$((SECONDS + 30))
until ETCDCTL_API=3 etcdctl --endpoints "$(IFS=,; echo "${EPS[*]}")" endpoint health >/dev/null 2>&1; do
	((SECONDS < deadline)) || { tail -n 20 "$DIR"/m*.log >&2; fail "the 3-member etcd did not become healthy in 30 s"; }
	sleep 0.2
done
echo "etcd-check: $(etcd --version | head -n 1), 3 members on 127.0.0.1:$((BASE + 1))-$((BASE + 3))"
"$BUILD/etcd-drive" basic /etcd-check "${EPS[@]}" || fail "basic calls"
kill -9 "${PIDS[0]}"
# the other two elect a raft leader again if m1 was it (about a second): the client's failover is
# what is checked here, not etcd's own
deadline=$((SECONDS + 30))
until ETCDCTL_API=3 etcdctl --endpoints "${EPS[1]},${EPS[2]}" endpoint health >/dev/null 2>&1; do
	((SECONDS < deadline)) || fail "the two members left did not become healthy in 30 s"
	sleep 0.2
done
"$BUILD/etcd-drive" failover /etcd-check "${EPS[@]}" || fail "with member 1 killed"
kill -9 "${PIDS[1]}"
"$BUILD/etcd-drive" noquorum /etcd-check "${EPS[@]}" || fail "with two of three members killed"
echo "etcd-check: PASS"
