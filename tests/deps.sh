#!/usr/bin/env bash
# Install the Debian packages cutoverd needs to build, test and (with --fuzz) fuzz.
# Quiet and quick when everything is present.  Never leaves the distribution's own mariadb or
# haproxy service running: the sandbox and the tests start their own instances on other ports.
set -euo pipefail

BUILD_PKGS=(gcc make pkg-config default-libmysqlclient-dev libevent-dev libjansson-dev
	libsystemd-dev check libinih-dev)
RUNTIME_PKGS=(mariadb-server mariadb-client haproxy socat jq iproute2 procps groff-base man-db)
# Only for the integration tests: the watchdog suite cuts one TCP path with nft; the mysql
# suite makes an RSA key and a CA of its own with openssl; tests/etcd-check.sh (and the HA
# tests) run a 3-member etcd of their own on loopback; the ha suite reaches a member as if on
# another machine through an sshd of its own on loopback (ssh:// addresses).
TEST_PKGS=(nftables openssl etcd-server etcd-client openssh-client openssh-server)
# tests/roots.sh: the Debian 13 (MariaDB 11.8) and unstable (MySQL 9.x) roots the sandbox runs
# servers of other versions from (SANDBOX_ROOT_SERVERS, SANDBOX_FLAVOR=mysql).
ROOTS_PKGS=(debootstrap)
# make deb and tests/deb-check.sh: pack, check, and install into a Debian 12 root (debootstrap).
DEB_PKGS=(dpkg-dev fakeroot lintian debootstrap)
FUZZ_PKGS=(clang libclang-rt-14-dev)
# ProxySQL for the integration tests (it_proxysql.c): the binaries shipped beside the repository
# in ../shared/proxysql, every version the suite runs against; unpacking them needs xz.
PROXYSQL_VERSIONS=(2.4.8 2.7.1)
PROXYSQL_PREFIX=/usr/local
PROXYSQL_PKGS=(xz-utils)
# Services whose packages start and enable them from their postinst: package:service.
SERVICES=(mariadb-server:mariadb haproxy:haproxy etcd-server:etcd openssh-server:ssh)

POLICY_RC=/usr/sbin/policy-rc.d
OWN_POLICY=0

usage() {
	echo "usage: tests/deps.sh [--fuzz]" >&2
	exit 2
}

is_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $status == "install ok installed" ]]
}

# The packages of "$@" that are not installed, one per line.
missing_of() {
	local p
	for p in "$@"; do
		is_installed "$p" || echo "$p"
	done
}

service_running() {
	local pidfile
	case $1 in
	mariadb) pidfile=/run/mysqld/mysqld.pid ;;
	haproxy) pidfile=/run/haproxy.pid ;;
	*) return 1 ;;
	esac
	[[ -s $pidfile ]] && kill -0 "$(head -n1 "$pidfile")" 2>/dev/null
}

# Keep maintainer scripts from starting services: invoke-rc.d honours exit status 101.
install_policy() {
	[[ -e $POLICY_RC ]] && return 0
	printf '#!/bin/sh\n# temporary, from cutoverd tests/deps.sh\nexit 101\n' >"$POLICY_RC"
	chmod 0755 "$POLICY_RC"
	OWN_POLICY=1
}

remove_policy() {
	if ((OWN_POLICY)); then
		rm -f "$POLICY_RC"
		OWN_POLICY=0
	fi
}

stop_service() {
	echo "deps: stopping the $1 service the package started" >&2
	if [[ -d /run/systemd/system ]]; then
		systemctl stop "$1" || true
	elif command -v service >/dev/null; then
		service "$1" stop || true
	fi
}

# A freshly installed service must not start at the next boot either.
disable_service() {
	if command -v systemctl >/dev/null; then
		systemctl disable --quiet "$1" 2>/dev/null || true
	fi
	if command -v update-rc.d >/dev/null; then
		update-rc.d "$1" disable >/dev/null 2>&1 || true
	fi
}

# Stop and disable the services of packages that were in "$@" (just installed).
quiet_new_services() {
	local entry pkg svc
	for entry in "${SERVICES[@]}"; do
		pkg=${entry%%:*}
		svc=${entry#*:}
		[[ " $* " == *" $pkg "* ]] || continue
		disable_service "$svc"
		service_running "$svc" && stop_service "$svc"
	done
	return 0
}

# Where the shipped ProxySQL binaries are: $CUTOVER_PROXYSQL_DIR if set, else ../shared/proxysql
# beside the repository, else the workplace's /work/shared/proxysql (a clone made elsewhere, as
# CI's may be, has no ../shared beside it).
proxysql_dir() {
	local repo d
	repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	for d in "${CUTOVER_PROXYSQL_DIR:-}" "$repo/../shared/proxysql" /work/shared/proxysql; do
		[[ -n $d && -f $d/install.sh ]] && { echo "$d"; return 0; }
	done
	echo "$repo/../shared/proxysql"
}

# True if PREFIX/proxysql-$1 is installed and runs as that version.
proxysql_present() {
	local out
	out=$("$PROXYSQL_PREFIX/proxysql-$1/bin/proxysql" --version 2>/dev/null) || return 1
	[[ $out == "ProxySQL version $1"[-,\ ]* ]]
}

# Install each version with the directory's install.sh (it checks the tarball's sha256); silent
# for the versions already there.
install_proxysql() {
	local dir=$1 v err
	for v in "${PROXYSQL_VERSIONS[@]}"; do
		proxysql_present "$v" && continue
		if ((EUID != 0)); then
			echo "deps: ProxySQL $v is not installed; run as root (sudo tests/deps.sh) or:" >&2
			echo "  sudo sh $dir/install.sh $v $PROXYSQL_PREFIX" >&2
			exit 1
		fi
		if ! err=$(sh "$dir/install.sh" "$v" "$PROXYSQL_PREFIX" 2>&1 >/dev/null); then
			echo "deps: installing ProxySQL $v from $dir failed:" >&2
			echo "$err" >&2
			exit 1
		fi
		echo "deps: installed ProxySQL $v in $PROXYSQL_PREFIX/proxysql-$v" >&2
	done
}

# The Debian packages of "$@" that are missing, installed (as root).
install_packages() {
	local missing
	mapfile -t missing < <(missing_of "$@")
	((${#missing[@]} == 0)) && return 0

	if ((EUID != 0)); then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run as root (sudo tests/deps.sh) or install them with:" >&2
		echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi

	echo "deps: installing ${missing[*]}" >&2
	trap remove_policy EXIT
	install_policy
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
	remove_policy
	quiet_new_services "${missing[@]}"
}

main() {
	local fuzz=0 arg
	for arg in "$@"; do
		case $arg in
		--fuzz) fuzz=1 ;;
		-h | --help) usage ;;
		*) echo "deps: unknown argument: $arg" >&2; usage ;;
		esac
	done

	local want=("${BUILD_PKGS[@]}" "${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}" "${ROOTS_PKGS[@]}" "${DEB_PKGS[@]}")
	# systemd-analyze (unit file checks) comes with systemd; containers often lack it.
	command -v systemd-analyze >/dev/null || want+=(systemd)
	((fuzz)) && want+=("${FUZZ_PKGS[@]}")
	# Without ../shared/proxysql the ProxySQL suite says it is skipped (CUTOVER_PROXYSQL names
	# a binary of one's own).
	local pdir
	pdir=$(proxysql_dir)
	[[ -f $pdir/install.sh ]] && want+=("${PROXYSQL_PKGS[@]}")

	install_packages "${want[@]}"
	if [[ -f $pdir/install.sh ]]; then
		install_proxysql "$pdir"
	fi
}

main "$@"
