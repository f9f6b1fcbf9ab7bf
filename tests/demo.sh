#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 machine, as root, install what is needed,
# build, start a local sandbox (3 real mariadbd with GTID replication behind HAProxy), start
# cutoverd on it, show the live topology, run a switchover while a client writes through
# HAProxy every millisecond, and print what the client saw.
#
# The sandbox and the daemon stay up afterwards so you can explore them:
#   . sandbox/env              (build/ on PATH, CUTOVERD_SOCKET set)
#   cutoverctl status
#   make sandbox-stop          (stops the daemon and the sandbox; the logs stay in sandbox.last/)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
dir="$top/sandbox"
ctl() { build/cutoverctl -s "$dir/run/cutoverd.sock" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it installs packages and starts mariadbd --user=root)" >&2
	exit 1
fi

say "Installing what is missing (Debian packages)"
tests/deps.sh

say "Building"
make -s all

say "Starting the sandbox: 3 MariaDB servers with GTID replication, HAProxy on 127.0.0.1:23300"
if [ -f "$dir/cutoverd.pid" ]; then
	kill "$(cat "$dir/cutoverd.pid")" 2>/dev/null || true
fi
tests/sandbox/sandbox.sh start --fresh --dir "$dir"
# shellcheck source=/dev/null
. "$dir/env"

cleanup_on_error() {
	echo "demo: failed; the daemon log follows" >&2
	tail -n 30 "$dir/cutoverd.log" >&2 || true
	[ -f "$dir/cutoverd.pid" ] && kill "$(cat "$dir/cutoverd.pid")" 2>/dev/null
	tests/sandbox/sandbox.sh stop --dir "$dir" || true
}
trap cleanup_on_error ERR

say "Starting cutoverd"
build/cutoverd -n -c "$CUTOVERD_CONF"
build/cutoverd -f -c "$CUTOVERD_CONF" >"$dir/cutoverd.log" 2>&1 &
echo $! >"$dir/cutoverd.pid"
for _ in $(seq 1 50); do
	ctl version >/dev/null 2>&1 && break
	sleep 0.2
done
# Two polls for the hysteresis, one more for the first heartbeat lag.
sleep 4
say "Live topology (lag in milliseconds from cutoverd's own heartbeat)"
ctl status
ctl topology

say "Switchover db1 → db2 while a client writes through HAProxy every millisecond"
acks="$dir/demo-acks.tsv"
running="$dir/demo-load.running"
touch "$running"
build/cutover-load --host 127.0.0.1 --port "$WRITE_PORT" --user "$APP_USER" \
	--password-file "$APP_PASSWORD_FILE" --interval-us 1000 --until-file "$running" \
	--out "$acks" >"$dir/demo-load.json" 2>"$dir/demo-load.err" &
load=$!
sleep 1.5
rc=0
ctl switchover --to db2 --drain-timeout 500ms --yes || rc=$?
sleep 1
rm -f "$running"
wait "$load" || true
trap - ERR

say "What the writing client saw"
summary=$(cat "$dir/demo-load.json")
echo "$summary"
port_var="DB2_PORT"
verify=$(build/cutover-load --verify --acks "$acks" --host 127.0.0.1 --port "${!port_var}" \
	--user "$CUTOVERD_USER" --password-file "$CUTOVERD_PASSWORD_FILE" || true)
echo "$verify"
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$2"; }
printf '\n  writes acknowledged:            %s\n' "$(field ok "$summary")"
printf '  client errors:                  %s\n' "$(field errors "$summary")"
printf '  write-unavailability window:    %s ms (last ack by db1 → first ack by db2)\n' "$(field window_ms "$summary")"
printf '  acknowledged writes lost:       %s (checked on the new primary)\n' "$(field acked_missing "$verify")"

say "After the switchover"
ctl status
ctl history

echo
echo "The sandbox and cutoverd are still running. Try:"
echo "  . $dir/env               (puts $top/build on PATH and sets CUTOVERD_SOCKET)"
echo "  cutoverctl switchover --to db1"
echo "  cutoverctl watch"
echo "Stop everything with: make sandbox-stop (the logs and the journal stay in sandbox.last/)"
exit "$rc"
