#!/usr/bin/env bash
# The Debian package, for real: `make deb` builds it, lintian finds nothing to say, and it
# installs into a throw-away Debian 12 root — its dependencies from the archive, with apt-get —
# where the configuration it ships passes `cutoverd -n`, the daemon answers cutoverctl, the
# group and user exist, the units are enabled (not started), and a purge takes it all away.
#
# The root is made once with debootstrap (minbase, bookworm) and cached in $DEBROOT_CACHE
# (/var/tmp/cutoverd-debroot); each run installs into an overlay on top of it, thrown away at
# the end, so the cache stays pristine.  Needs root (chroot, mount) and the network (the
# archive).  Without them it says SKIPPED and why, loudly, and passes — unless
# CUTOVER_REQUIRE_DEB=1 (CI sets it), which makes a skip a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${DEBROOT_CACHE:-/var/tmp/cutoverd-debroot}
SUITE=bookworm
MIRROR=${DEBROOT_MIRROR:-http://deb.debian.org/debian}
BASE=$CACHE/$SUITE
run=""
mounted=()

say() { printf 'deb-check: %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	exit 1
}
skip() {
	say "**************************************************************************"
	say "SKIPPED: $*"
	say "**************************************************************************"
	if [[ ${CUTOVER_REQUIRE_DEB:-0} == 1 ]]; then
		say "FAIL: CUTOVER_REQUIRE_DEB=1: the package must be checked here"
		exit 1
	fi
	exit 0
}

# shellcheck disable=SC2317  # run by the trap
cleanup() {
	local i
	# a check that failed while the daemon ran in the root must not leave it running
	[[ -z ${daemon:-} ]] || { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; } || true
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
	done
	[[ -z $run ]] || rm -rf "$run"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_root() { chroot "$run/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

((EUID == 0)) || skip "needs root (debootstrap, mount and chroot); run make check as root"
for prog in dpkg-deb fakeroot dpkg-shlibdeps lintian debootstrap chroot mount; do
	command -v "$prog" >/dev/null || skip "$prog is not installed (tests/deps.sh installs it)"
done
grep -qw overlay /proc/filesystems || skip "the kernel has no overlay file system"

# ---- the package --------------------------------------------------------------------------
deb=$(packaging/deb/build.sh | tail -n1)
[[ -f $deb ]] || fail "make deb made no package"
say "built $deb"

# lintian takes seconds: once per content (the control area lists every file's md5)
key=$( (cat build/deb/root/DEBIAN/* && cd build/deb/root && find . -printf '%m %y %p\n' | LC_ALL=C sort) |
	md5sum | cut -d' ' -f1)
if [[ "$(cat build/deb/.lintian-ok 2>/dev/null)" != "$key" ]]; then
	out=$(lintian -I --pedantic --fail-on error,warning,info,pedantic "$deb" 2>&1 |
		grep -v 'running with root privileges is not recommended') ||
		true
	[[ -z $out ]] || fail "lintian has something to say (fix it, or explain it in packaging/deb/lintian-overrides):
$out"
	echo "$key" >build/deb/.lintian-ok
	say "lintian: nothing to say (-I --pedantic; overrides explained in packaging/deb/lintian-overrides)"
else
	say "lintian: this content was checked clean already"
fi

# ---- the Debian 12 root, made once --------------------------------------------------------
net_ok() {
	local host=${MIRROR#*://}
	host=${host%%/*}
	timeout 10 bash -c "exec 3<>/dev/tcp/$host/80" 2>/dev/null
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [[ ! -e $BASE/.complete ]]; then
	net_ok || skip "no Debian root cached in $BASE, and ${MIRROR} cannot be reached to make one"
	say "making the Debian 12 root once, in $BASE (debootstrap --variant=minbase $SUITE; a few minutes)"
	rm -rf "$BASE"
	if ! debootstrap --variant=minbase "$SUITE" "$BASE" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
		tail -n 20 "$CACHE/debootstrap.log"
		rm -rf "$BASE"
		net_ok || skip "debootstrap failed and ${MIRROR} cannot be reached (log: $CACHE/debootstrap.log)"
		fail "debootstrap failed (log above, in $CACHE/debootstrap.log)"
	fi
	touch "$BASE/.complete"
fi
flock -u 9

# ---- this run: an overlay on it -----------------------------------------------------------
run=$(mktemp -d "$CACHE/run.XXXXXX")
mkdir -p "$run/upper" "$run/work" "$run/root" "$CACHE/archives/partial"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$run/upper,workdir=$run/work" "$run/root"
mounted+=("$run/root")
mount -t proc proc "$run/root/proc"
mounted+=("$run/root/proc")
# downloaded packages are kept between runs
mount --bind "$CACHE/archives" "$run/root/var/cache/apt/archives"
mounted+=("$run/root/var/cache/apt/archives")
cp /etc/resolv.conf "$run/root/etc/resolv.conf"
# nothing installed here starts a service
printf '#!/bin/sh\nexit 101\n' >"$run/root/usr/sbin/policy-rc.d"
chmod 0755 "$run/root/usr/sbin/policy-rc.d"
cp "$deb" "$run/root/tmp/cutoverd.deb"

if ! in_root apt-get update -qq >"$run/apt.log" 2>&1; then
	cat "$run/apt.log"
	net_ok || skip "apt-get update in the root failed: ${MIRROR} cannot be reached"
	fail "apt-get update in the root failed (above)"
fi
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	/tmp/cutoverd.deb >"$run/install.log" 2>&1; then
	cat "$run/install.log"
	grep -q "Could not resolve\|Failed to fetch\|Temporary failure" "$run/install.log" && ! net_ok &&
		skip "installing the dependencies failed: ${MIRROR} cannot be reached"
	fail "apt-get install ./cutoverd.deb failed in the root (above)"
fi
say "installed in a Debian $(cat "$run/root/etc/debian_version") root with its dependencies from the archive:" \
	"$(grep -o 'Setting up [^ ]*' "$run/install.log" | cut -d' ' -f3 | tr '\n' ' ')"

# ---- what it installed works --------------------------------------------------------------
out=$(in_root cutoverd -n -c /etc/cutoverd/cutoverd.conf 2>&1) ||
	fail "cutoverd -n on the shipped configuration: $out"
grep -q "configuration OK" <<<"$out" || fail "cutoverd -n said: $out"
say "cutoverd -n -c /etc/cutoverd/cutoverd.conf: $(grep "configuration OK" <<<"$out")"
out=$(in_root cutoverctl --help 2>&1) || fail "cutoverctl --help: $out"
grep -q "^usage: cutoverctl" <<<"$out" || fail "cutoverctl --help said: $out"
say "cutoverctl --help: $(head -n1 <<<"$out")"

# the daemon itself, on the shipped configuration, answers its client on the shipped socket
# exec all the way down, so that $! is the daemon itself (a backgrounded function would be a
# subshell whose kill leaves the daemon running)
(exec chroot "$run/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	cutoverd -f -c /etc/cutoverd/cutoverd.conf) >"$run/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do
	in_root cutoverctl -t 200 version >/dev/null 2>&1 && break
	sleep 0.1
done
out=$(in_root cutoverctl version 2>&1) || { cat "$run/daemon.log"; fail "cutoverctl version against it: $out"; }
group=$(in_root stat -c %G /run/cutoverd/cutoverd.sock)
kill "$daemon"
wait "$daemon" || true
daemon=""
pgrep -f "^cutoverd -f -c /etc/cutoverd/cutoverd.conf" >/dev/null && fail "the daemon in the root outlived its kill"
[[ $group == cutoverd ]] || fail "the control socket's group is $group, not cutoverd (socket_group)"
say "cutoverd ran in the root and answered: $(head -n1 <<<"$out"); socket group $group"

in_root getent group cutoverd >/dev/null || fail "no cutoverd group"
in_root getent passwd cutoverd >/dev/null || fail "no cutoverd user"
for link in multi-user.target.wants/cutoverd.service sockets.target.wants/cutoverd.socket; do
	[[ -L $run/root/etc/systemd/system/$link ]] || fail "not enabled: /etc/systemd/system/$link"
done
grep -q "SocketGroup=cutoverd" "$run/root/lib/systemd/system/cutoverd.socket.d/cutoverd-group.conf" ||
	fail "cutoverd.socket does not give the socket to the group cutoverd"
# shellcheck disable=SC2016  # dpkg-query's format, not the shell's
in_root dpkg-query -W -f='${Conffiles}\n' cutoverd | grep -q "/etc/cutoverd/cutoverd.conf" ||
	fail "/etc/cutoverd/cutoverd.conf is not a conffile"
for f in /usr/share/man/man8/cutoverd.8.gz /usr/share/man/man1/cutoverctl.1.gz \
	/usr/share/bash-completion/completions/cutoverctl /usr/share/doc/cutoverd/examples/cutoverd.conf.example; do
	[[ -f $run/root$f ]] || fail "$f is not installed"
done
say "user and group cutoverd, units enabled (not started), the conffile, man pages, completion: there"

# ---- and a purge takes it away ------------------------------------------------------------
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q cutoverd >"$run/purge.log" 2>&1 ||
	{ cat "$run/purge.log"; fail "apt-get purge cutoverd failed"; }
for f in /etc/cutoverd/cutoverd.conf /etc/systemd/system/multi-user.target.wants/cutoverd.service \
	/usr/sbin/cutoverd; do
	[[ ! -e $run/root$f ]] || fail "$f is still there after the purge"
done
say "purged: nothing left but the system user and group"
say "PASS"
