#!/usr/bin/env bash
# Debian roots with database servers of other versions than the host's, for the tests: built once
# with debootstrap from Debian's archive, cached, and run in a private mount namespace so that
# nothing they mount outlives the process.
#
#   trixie  Debian 13, MariaDB 11.8 (mariadb-server)
#   sid     Debian unstable, MySQL 9.x (mysql-server-core, mysql-client)
#
# Everything this script writes is under its cache directory; a build that was interrupted
# (no completion marker, or one for another recipe) is removed and done again.
set -euo pipefail

SELF=$(realpath -- "${BASH_SOURCE[0]}")
TOP=${CUTOVERD_ROOTS_CACHE:-/var/tmp/cutoverd-roots}
# Bump when the build steps change, so that the roots built the old way are rebuilt.
RECIPE_VERSION=2
LOCK_TIMEOUT_S=1800

usage() {
	cat >&2 <<EOF
usage: roots.sh ensure SUITE      build the root once (cached), print its path
       roots.sh path SUITE        print the root's path; exit 1 if it is not built
       roots.sh version SUITE     print the version of the database server inside
       roots.sh run SUITE [--bind DIR]... -- COMMAND [ARG]...
                                  run COMMAND chrooted in the root (a private mount namespace
                                  with /dev, /proc, /sys and each DIR at the same path as on
                                  the host; exec, so the pid stays the caller's)
       roots.sh remove SUITE      delete the cached root
SUITE: trixie (Debian 13, MariaDB 11.8) or sid (Debian unstable, MySQL 9.x).
Cache: \$CUTOVERD_ROOTS_CACHE (default /var/tmp/cutoverd-roots)/SUITE, with a marker 'complete'
written last.  Run as root (debootstrap, chroot, mount).  Exit status 0, or 1 with the reason.
EOF
	exit "${1:-1}"
}

msg() { printf 'roots: %s\n' "$*" >&2; }
die() {
	msg "$*"
	exit 1
}

# ---- the recipes ---------------------------------------------------------------------------

# Sets PACKAGES, SERVER (the server binary inside the root) and APT_CONF (lines for the root's
# apt configuration) for suite $1.
recipe() {
	case $1 in
	trixie)
		PACKAGES=(mariadb-server)
		SERVER=/usr/sbin/mariadbd
		APT_CONF=()
		;;
	sid)
		PACKAGES=(mysql-server-core mysql-client)
		SERVER=/usr/sbin/mysqld
		# The unstable archive's Release file is often past its Valid-Until date here.
		APT_CONF=('Acquire::Check-Valid-Until "false";')
		;;
	*) die "unknown suite '$1' (trixie or sid)" ;;
	esac
}

# What the completion marker holds: a root built from another recipe is rebuilt.
recipe_text() {
	printf 'recipe %s\nsuite %s\nvariant minbase\npackages %s\nserver %s\n' \
		"$RECIPE_VERSION" "$1" "${PACKAGES[*]}" "$SERVER"
	printf 'apt %s\n' "${APT_CONF[@]}"
}

suite_dir() { echo "$TOP/$1"; }
root_of() { echo "$TOP/$1/root"; }
marker_of() { echo "$TOP/$1/complete"; }

# True if the root of suite $1 is complete, for the current recipe.
is_complete() {
	local marker root
	marker=$(marker_of "$1")
	root=$(root_of "$1")
	[[ -f $marker && -x $root$SERVER ]] || return 1
	# the marker's first lines are the recipe; a timing line follows
	[[ $(head -n "$(recipe_text "$1" | wc -l)" "$marker") == "$(recipe_text "$1")" ]]
}

# ---- safety --------------------------------------------------------------------------------

require_root() {
	((EUID == 0)) || die "run as root (debootstrap, chroot and mount need it)"
}

# Mount points at or under $1, deepest first (from this namespace's mount table).
mounts_under() {
	local dir=$1 mp
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "${mp//\\/\\0}") # the table escapes spaces and such as \040
		[[ $mp == "$dir" || $mp == "$dir"/* ]] && echo "$mp"
	done </proc/self/mountinfo | sort -r
}

# Remove $1 (inside the cache) after unmounting whatever an earlier, killed run may have left
# mounted inside it: a bind-mounted /dev must never be emptied by rm.
remove_tree() {
	local dir=$1 mp
	[[ $dir == "$TOP"/?* ]] || die "refusing to remove $dir: not inside $TOP"
	[[ -e $dir ]] || return 0
	while read -r mp; do
		[[ -n $mp ]] || continue
		umount -l "$mp" 2>/dev/null || die "could not unmount $mp (left by an earlier run); not removing $dir"
	done < <(mounts_under "$dir")
	rm -rf --one-file-system "$dir"
}

# One build or removal at a time per suite: concurrent ensures wait for the first one.
lock_suite() {
	mkdir -p "$TOP"
	exec 9>"$TOP/.$1.lock"
	if ! flock -n 9; then
		msg "another roots.sh is building or removing $1; waiting (up to ${LOCK_TIMEOUT_S}s)"
		flock -w "$LOCK_TIMEOUT_S" 9 || die "timed out waiting for the lock on $TOP/.$1.lock"
	fi
}

# ---- building ------------------------------------------------------------------------------

# Runs in a private mount namespace (see build): debootstrap's /proc and /sys, and those of the
# apt-get below, vanish with it whatever happens.
build_inside() {
	local suite=$1 dir root log
	dir=$(suite_dir "$suite")
	root=$dir/root
	log=$dir/build.log
	recipe "$suite"

	msg "debootstrap --variant=minbase $suite (log: $log)"
	if ! debootstrap --variant=minbase "$suite" "$root" >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		[[ -f $root/debootstrap/debootstrap.log ]] && tail -n 20 "$root/debootstrap/debootstrap.log" >&2
		die "debootstrap $suite failed (log above, in $log)"
	fi

	# A minbase root has no /etc/hosts: mariadb-install-db then fails to resolve localhost.
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
	# Package scripts must not start services inside the root (invoke-rc.d honours 101).
	printf '#!/bin/sh\n# from cutoverd tests/roots.sh: no services in this root\nexit 101\n' \
		>"$root/usr/sbin/policy-rc.d"
	chmod 0755 "$root/usr/sbin/policy-rc.d"
	{
		echo '// from cutoverd tests/roots.sh'
		echo 'APT::Install-Recommends "false";'
		printf '%s\n' "${APT_CONF[@]}"
	} >"$root/etc/apt/apt.conf.d/99cutoverd"

	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
	msg "apt-get install ${PACKAGES[*]} in the $suite root"
	if ! in_root "$root" apt-get update >>"$log" 2>&1 ||
		! in_root "$root" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "apt-get in the $suite root failed (log above, in $log)"
	fi
	in_root "$root" apt-get clean >>"$log" 2>&1 || true
	kill_root_processes "$root"
	umount -l "$root/proc" "$root/dev" 2>/dev/null || true
	[[ -x $root$SERVER ]] || die "$SERVER is missing in the $suite root after the install (see $log)"
}

in_root() {
	local root=$1
	shift
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		chroot "$root" "$@"
}

# A package script may have left a daemon behind in the root: end it.
kill_root_processes() {
	local root=$1 p r pids=()
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[[ $r == "$root" || $r == "$root"/* ]] && pids+=("${p#/proc/}")
	done
	((${#pids[@]})) || return 0
	msg "ending processes a package left running in $root: ${pids[*]}"
	kill -KILL "${pids[@]}" 2>/dev/null || true
}

cmd_ensure() {
	local suite=$1 dir t0 secs
	require_root
	recipe "$suite"
	dir=$(suite_dir "$suite")
	if ! is_complete "$suite"; then
		for prog in debootstrap chroot unshare flock mount; do
			command -v "$prog" >/dev/null || die "$prog not found; run tests/deps.sh"
		done
		lock_suite "$suite"
		# Someone else may have finished it while we waited.
		if ! is_complete "$suite"; then
			t0=$SECONDS
			[[ -e $dir ]] && msg "removing the incomplete or outdated $suite root in $dir"
			remove_tree "$dir"
			mkdir -p "$dir"
			unshare --mount --propagation private -- "$SELF" __build "$suite" ||
				die "building the $suite root failed; the next ensure starts it again"
			mkdir -p "$dir/mnt"
			secs=$((SECONDS - t0))
			# Written last, through a rename: present means the root is whole.
			{ recipe_text "$suite"; echo "built $(date -Is) in ${secs}s"; } >"$dir/complete.tmp"
			mv -f "$dir/complete.tmp" "$(marker_of "$suite")"
			msg "built the $suite root in ${secs}s: $(root_of "$suite") ($(du -sh --one-file-system "$(root_of "$suite")" | cut -f1))"
		fi
		exec 9>&-
	fi
	root_of "$suite"
}

cmd_path() {
	recipe "$1"
	is_complete "$1" || die "the $1 root is not built (tests/roots.sh ensure $1)"
	root_of "$1"
}

cmd_remove() {
	require_root
	recipe "$1"
	lock_suite "$1"
	remove_tree "$(suite_dir "$1")"
	msg "removed $(suite_dir "$1")"
}

# ---- running -------------------------------------------------------------------------------

cmd_run() {
	local suite=$1
	shift
	require_root
	recipe "$suite"
	is_complete "$suite" || die "the $suite root is not built (tests/roots.sh ensure $suite)"
	exec unshare --mount --propagation private -- "$SELF" __run "$suite" "$@"
}

# In the private namespace: a tmpfs on the suite's mnt/ is the new /, with the root's top-level
# directories bound into it, the host's /dev, /proc and /sys, an empty /tmp and /run, and each
# --bind directory at its own path.  Then exec chroot: the command keeps this pid.
run_inside() {
	local suite=$1 root new e name b binds=() links=() dirs=()
	shift
	recipe "$suite"
	root=$(root_of "$suite")
	new=$(suite_dir "$suite")/mnt
	while (($#)); do
		case $1 in
		--bind)
			[[ ${2-} == /* && -d ${2-} ]] || die "--bind needs an existing absolute directory (got '${2-}')"
			binds+=("$2")
			shift 2
			;;
		--) shift; break ;;
		*) die "run: unexpected '$1' (a missing --?)" ;;
		esac
	done
	(($#)) || die "run: no command"
	mount -t tmpfs -o mode=0755 cutoverd-root "$new"
	# Few commands: each one costs a fork here, and this runs at every server start.
	for e in "$root"/*; do
		if [[ -L $e ]]; then
			links+=("$e")
		elif [[ -d $e ]]; then
			dirs+=("$new/${e##*/}")
		fi
	done
	((${#links[@]} == 0)) || cp -P -t "$new" "${links[@]}"
	mkdir "${dirs[@]}"
	chmod 1777 "$new/tmp"
	mkdir "$new/run/mysqld"
	# The root's own files (the rest of its top-level directories are empty in a minbase root
	# and stay so here), and the host's kernel interfaces.
	for name in usr etc var; do
		mount --bind "$root/$name" "$new/$name"
	done
	for name in dev proc sys; do
		mount --rbind "/$name" "$new/$name"
	done
	for b in "${binds[@]}"; do
		# Under one of the root's own directories (say /var/tmp) this makes an empty mount
		# point inside the cached root; anywhere else it is in the tmpfs.
		mkdir -p "$new$b"
		mount --bind "$b" "$new$b"
	done
	exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root TZ="${TZ:-UTC}" \
		chroot "$new" "$@"
}

cmd_version() {
	local out v
	recipe "$1"
	is_complete "$1" || die "the $1 root is not built (tests/roots.sh ensure $1)"
	out=$(cmd_run_sub "$1" "$SERVER" --version) || die "$SERVER --version failed in the $1 root"
	# "mariadbd  Ver 11.8.3-MariaDB-0+deb13u1 for debian-linux-gnu …", "mysqld  Ver 9.7.0 for Linux …"
	v=$(sed -n 's/.* Ver \([^ ]*\) .*/\1/p' <<<"$out" | head -n1)
	[[ -n $v ]] || die "no version in: $out"
	echo "$v"
}

cmd_run_sub() {
	local suite=$1
	shift
	require_root
	unshare --mount --propagation private -- "$SELF" __run "$suite" -- "$@"
}

main() {
	local command=${1-}
	[[ $command == -h || $command == --help ]] && usage 0
	(($# >= 2)) || usage
	shift
	case $command in
	ensure) (($# == 1)) || usage; cmd_ensure "$1" ;;
	path) (($# == 1)) || usage; cmd_path "$1" ;;
	version) (($# == 1)) || usage; cmd_version "$1" ;;
	remove) (($# == 1)) || usage; cmd_remove "$1" ;;
	run) cmd_run "$@" ;;
	__build) build_inside "$1" ;;
	__run) run_inside "$@" ;;
	*) usage ;;
	esac
}

main "$@"
