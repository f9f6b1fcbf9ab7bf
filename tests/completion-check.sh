#!/usr/bin/env bash
# The bash completion of cutoverctl (completion/cutoverctl.bash): sourced into this shell, its
# function called as bash calls it (COMP_WORDS, COMP_CWORD), the suggestions compared.  Commands
# and options need no daemon; names come from a cutoverd started here on a config of its own
# (servers that do not exist: only its configuration is asked for), and without a daemon there
# are none, quickly.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${CUTOVER_BUILD:-build}
CTL=$B/cutoverctl
fail=0
tmp=$(mktemp -d /tmp/completion-check.XXXXXX)
daemon=

# shellcheck disable=SC2317  # run by the trap
cleanup() {
	[[ -z $daemon ]] || { kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; }
	rm -rf "$tmp"
	return 0
}
trap cleanup EXIT

[[ -x $CTL && -x $B/cutoverd ]] || { echo "completion-check: build $CTL and $B/cutoverd first (make)"; exit 1; }
# shellcheck source=completion/cutoverctl.bash
. completion/cutoverctl.bash
complete -p cutoverctl >/dev/null || { echo "completion-check: FAIL: no 'complete' for cutoverctl"; exit 1; }

# Words one per line, sorted, joined by single spaces.
norm() {
	local -a w
	read -r -a w <<<"$*"
	((${#w[@]})) || return 0
	printf '%s\n' "${w[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

# The suggestions for a command line typed so far, into $got.  Words are split as bash splits
# them for completion: at blanks and around '=' (COMP_WORDBREAKS); a trailing blank starts a
# new, empty word.  Not in a subshell: the completion keeps what it read of the help.
suggest() {
	local line=$1
	read -r -a COMP_WORDS <<<"${line//=/ = }"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_cutoverctl
	got=$(norm "${COMPREPLY[*]}")
}

expect() {
	local line=$1 want
	want=$(norm "$2")
	suggest "$CTL ${line}"
	if [[ $got != "$want" ]]; then
		echo "completion-check: FAIL: 'cutoverctl $line<TAB>'"
		echo "    want: $want"
		echo "    got:  $got"
		fail=1
	fi
}

# ---- without a daemon: commands and options, no names ----
export CUTOVERD_SOCKET=$tmp/none.sock
commands=$("$CTL" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\).*/\1/p' | tr '\n' ' ')
expect "" "$commands"
expect "swi" "switchover"
expect "help fe" "fence"
expect "switchover --pa" "--pause-before --pause-timeout"
expect "switchover --pause-before " "drain catchup fence sync promote"
expect "switchover --pause-before=" "drain catchup fence sync promote"
expect "pause --" "--pause-timeout --cluster --socket --json --timeout --follow-leader --help --version"
expect "history --l" "--limit"                 # named only by its usage line
expect "status --j" "--json"                   # global options after the command too
expect "-" "-s --socket -j --json -t --timeout -C --cluster -L --follow-leader -h --help -V --version"
expect "--timeout 200 swi" "switchover"        # an option's value is not the command
expect "-s /x/y fence --for" "--force"
expect "-s /x/y fence --f" "--follow-leader --force"
expect "fence " ""
expect "move " "tenant"                      # what it moves, then the tenants (no names)
expect "move tenant a " ""
expect "move tenant a --by " "schema user"   # a value given as its choices in the help
expect "move tenant a --on-failure=c" "continue"
t0=$(date +%s%N)
expect "switchover --to " ""
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 1000)) || { echo "completion-check: FAIL: names without a daemon took $ms ms"; fail=1; }

# ---- with a daemon: cluster and server names from its configuration ----
cat >"$tmp/c.conf" <<EOF
[cutoverd]
socket = $tmp/d.sock
state_dir = $tmp/state
[cluster prod]
[server db1]
cluster = prod
host = 127.0.0.1
port = 1
user = u
[server db2]
cluster = prod
host = 127.0.0.1
port = 2
user = u
[server web-a]
cluster = web
host = 127.0.0.1
port = 3
user = u
[server web-b]
cluster = web
host = 127.0.0.1
port = 4
user = u
EOF
"$B/cutoverd" -f -c "$tmp/c.conf" >"$tmp/d.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do
	"$CTL" -s "$tmp/d.sock" -t 200 version >/dev/null 2>&1 && break
	sleep 0.1
done
"$CTL" -s "$tmp/d.sock" version >/dev/null 2>&1 ||
	{ echo "completion-check: FAIL: cutoverd did not start:"; cat "$tmp/d.log"; exit 1; }

export CUTOVERD_SOCKET=$tmp/d.sock
expect "switchover --to " "db1 db2 web-a web-b"
expect "switchover --cluster p" "prod"
expect "switchover --to=we" "web-a web-b"
expect "fence d" "db1 db2"
expect "move tenant a --to d" "db1 db2"
expect "status " "prod web"
expect "-C " "prod web"
# the socket given on the line is the one asked
export CUTOVERD_SOCKET=$tmp/none.sock
expect "-s $tmp/d.sock unfence " "db1 db2 web-a web-b"
expect "--socket=$tmp/d.sock topology w" "web"
expect "unfence " ""

if ((fail == 0)); then
	echo "completion-check: PASS: commands, options, phases, and names from a daemon (none without one)"
fi
exit "$fail"
