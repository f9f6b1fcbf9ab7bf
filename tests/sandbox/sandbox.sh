#!/usr/bin/env bash
# A local sandbox for cutoverd: N MariaDB servers (db1 the primary, the others replicating from
# it with GTID) and an HAProxy in front of them, all on 127.0.0.1 and all under one directory,
# so that the demo, the integration tests and the benchmarks run without touching the system's
# own services.  Everything it starts is found again through that directory: stop never touches a
# process whose command line does not name a file inside it.
#
# With --proxysql it also starts one ProxySQL (when a binary is installed: tests/deps.sh puts them
# in /usr/local/proxysql-VERSION) in front of the same servers: writer hostgroup 10 = db1, reader
# hostgroup 20 = the replicas, the application account, and a [router proxysql] in cutoverd.conf,
# so that read shifts and tenant moves can be tried.  With --tenants N (and --proxysql) db1 also
# holds N tenant schemas (tenant00 ...), and the last server becomes the tenants' target: a
# writable server of a cluster of its own ("target", upstream = the sandbox's cluster) that
# replicates only the tenant schemas from db1, in a GTID domain of its own.
#
# With --ha it also starts a 3-member etcd on loopback and three cutoverd members (m1..m3, this
# build's) on the servers, each with a config of its own (D/cutoverd.conf plus an [ha] section),
# and waits until one of them leads: the leader election of cutoverd.conf(5), SECTION [ha].
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT_PATH=$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")
MARKER=.cutover-sandbox
CLUSTER=sandbox
# Servers take long to answer only when something is wrong; these bound every wait.
PING_TIMEOUT_S=30
SYNC_TIMEOUT_S=30
STOP_TIMEOUT_S=10

START_DONE=0
STEP=""

usage() {
	cat >&2 <<EOF
usage: sandbox.sh start [--fresh] [--dir D] [--servers N] [--base-port P] [--write-port P]
                        [--read-port P] [--poll DURATION] [--proxysql [--tenants T]] [--ha]
       sandbox.sh stop | status | env                      [--dir D]
                                   stop also ends a cutoverd run with D/cutoverd.conf (and
                                   with --ha the members, then etcd), and keeps the logs
                                   (cutoverd.log, the journal in state/, the servers',
                                   HAProxy's and ProxySQL's, the members' and etcd's) in
                                   D.last, replacing the last ones; status also shows each
                                   member's role
       sandbox.sh sql I "SQL"      run SQL on server I as the cutoverd user (-N -B output)
       sandbox.sh pid I|haproxy|proxysql|mJ|eJ
                                   print the pid (exit 1 if not running); mJ, eJ: --ha's
                                   cutoverd member J and etcd member J (1..3)
       sandbox.sh kill I|mJ|eJ     SIGKILL server I (or member mJ, etcd member eJ) and wait
                                   until it is gone
       sandbox.sh term I           SIGTERM server I (clean shutdown) and wait until it is gone
       sandbox.sh restart I [--read-only|--writable]
                                   start server I again with its config (stopping it first if
                                   it runs); the flag overrides read_only in its my.cnf (the
                                   tenants' target's says read_only = OFF: it stays writable)
start --proxysql (or SANDBOX_PROXYSQL=1): also one ProxySQL, the newest
  /usr/local/proxysql-*/bin/proxysql or SANDBOX_PROXYSQL_BIN (tests/deps.sh installs them from
  ../shared/proxysql), files in D/proxysql: admin interface on 127.0.0.1:(write port + 30),
  clients on 127.0.0.1:(write port + 31) — 23330 and 23331 with the default ports, clear of the
  servers' 23306.. for up to 24 servers (start refuses ports that clash).  Admin user cutadmin
  (password in D/secrets/proxysql-cutadmin.pass, client options in proxysql-cutadmin.cnf);
  writer hostgroup 10 = db1, reader hostgroup 20 = the replicas; mysql_users app (the app
  password, default_hostgroup 10, transaction_persistent 1); query rule 1 (match_digest
  '@@server_id', multiplex 2, apply 0: cutover-load's statements stay multiplexed) and rule
  1000 (cutover-load --mode read's SELECT COUNT(*) FROM app.writes to hostgroup 20, so that
  cutoverctl shift has reads to move).
  D/cutoverd.conf gets [router proxysql]; D/env PROXYSQL_ADMIN_PORT and PROXYSQL_PORT.
start --proxysql --tenants T (or SANDBOX_TENANTS=T; T 1..50, at least 3 MariaDB servers): T tenant
  schemas tenant00.. on db1, each with a writes table like app.writes, app may use them; the
  last server dbN becomes the tenants' target: gtid_domain_id = N, replicate_wild_do_table =
  tenant%.%, writable (all three in its my.cnf too), in cutoverd.conf a cluster "target" of
  its own with upstream = sandbox, left out of HAProxy's and ProxySQL's hostgroups; the router
  gets tenant_hostgroups = 1000-1999 and tenant_rule_ids = 100-999.  Then, with cutoverd
  running on D/cutoverd.conf: cutoverctl move tenant tenant00 tenant01 --to dbN
start --ha (or SANDBOX_HA=1): also a 3-member etcd (Debian's /usr/bin/etcd: tests/deps.sh
  installs etcd-server) on 127.0.0.1, clients on write port + 40..42, peers on + 43..45 (23340..
  23345 with the default ports; start refuses ports that clash), data in D/etcd/eJ, logs in
  D/etcd/eJ.log; and three cutoverd members m1..m3 of this build (cutoverd -f -c D/ha/mJ.conf,
  log D/ha/mJ.log, pid in D/ha/mJ.pid).  D/ha/mJ.conf is D/cutoverd.conf with socket =
  D/ha/mJ.sock, state_dir = D/ha/state-mJ and an [ha] section: etcd = the three client URLs,
  prefix = /sandbox, name = mJ, address = D/ha/mJ.sock, source = 127.0.0.(10+J), lease_ttl = 4s.
  start returns once one member leads and the others follow it.  Only the leader acts; the
  others answer NOT_LEADER: cutoverctl -s D/ha/m1.sock --follow-leader switchover ... goes to
  the leader.  Do not also run a cutoverd on D/cutoverd.conf: it would act beside the leader.
  D/env gets SANDBOX_HA, HA_SOCKETS (the three sockets), HA_ETCD (the client URLs) and
  HA_PREFIX; CUTOVERD_SOCKET stays D/run/cutoverd.sock.
Environment: SANDBOX_DIR (default: <repo>/sandbox), SANDBOX_N (3), SANDBOX_BASE_PORT (23306),
SANDBOX_WRITE_PORT (23300), SANDBOX_READ_PORT (write port + 1), SANDBOX_POLL (1s),
SANDBOX_CACHE (/var/tmp/cutoverd-sandbox: initialized datadirs; empty = no cache),
SANDBOX_PROXYSQL (start: 1 = --proxysql), SANDBOX_PROXYSQL_BIN (the ProxySQL binary),
SANDBOX_TENANTS (start: --tenants), SANDBOX_HA (start: 1 = --ha),
SANDBOX_EXTRA_BIND (start: addresses every server listens on besides 127.0.0.1, comma-separated,
e.g. 127.0.0.2, so that a test can cut one client's path to a server and not the others').
Servers of other versions, from the Debian roots of tests/roots.sh (built and cached on the
first start that needs them, a few minutes; their datadir templates are cached in SANDBOX_CACHE):
  SANDBOX_ROOT_SERVERS  start: I:SUITE[,I:SUITE...], e.g. 3:trixie = db3 runs MariaDB 11.8 from
                        the Debian 13 root (as a replica: of db1, with MASTER_SSL=0; 11.x asks
                        for TLS by default, and the sandbox's servers have no certificates)
  SANDBOX_FLAVOR        start: mariadb (default) or mysql = every server is MySQL 9.x from the
                        Debian unstable root (sid): gtid_mode=ON, CHANGE REPLICATION SOURCE TO …
                        SOURCE_AUTO_POSITION=1, replicas super_read_only, the same accounts
                        (caching_sha2_password); restart --read-only sets super_read_only too
The other commands find out from D which server runs what (D/dbI/root-suite).
I is a server number (1..N) or name (db1..dbN).  Run as root.
EOF
	exit 2
}

now_us() { echo $((10#${EPOCHREALTIME//[^0-9]/})); }
# True if $1 is a decimal integer within [$2, $3].
int_in() {
	[[ $1 =~ ^[0-9]{1,9}$ ]] || return 1
	((10#$1 >= $2 && 10#$1 <= $3))
}
msg() { printf 'sandbox: %s\n' "$*" >&2; }
die() {
	msg "$*"
	exit 1
}

# Where `make` put cutoverd and cutoverctl: $CUTOVER_BUILD (as the integration tests set it),
# else the build/ directory of the repository this script is in.
build_dir() {
	if [[ -n ${CUTOVER_BUILD:-} ]]; then
		echo "$CUTOVER_BUILD"
	else
		echo "$(cd "$SCRIPT_DIR/../.." && pwd)/build"
	fi
}

default_dir() {
	local top
	if top=$(git -C "$SCRIPT_DIR" rev-parse --show-toplevel 2>/dev/null); then
		echo "$top/sandbox"
	else
		echo "$(cd "$SCRIPT_DIR/../.." && pwd)/sandbox"
	fi
}

# ---- layout -------------------------------------------------------------------------------

srv_dir() { echo "$DIR/db$1"; }
srv_cnf() { echo "$DIR/db$1/my.cnf"; }
srv_sock() { echo "$DIR/db$1/mysqld.sock"; }
srv_pidfile() { echo "$DIR/db$1/mariadbd.pid"; }
srv_errlog() { echo "$DIR/db$1/error.log"; }
srv_port() { echo $((BASE_PORT + $1 - 1)); }
hap_dir() { echo "$DIR/haproxy"; }
hap_cfg() { echo "$DIR/haproxy/haproxy.cfg"; }
hap_sock() { echo "$DIR/haproxy/admin.sock"; }
hap_pidfile() { echo "$DIR/haproxy/haproxy.pid"; }
# ProxySQL (start --proxysql): its own directory, ports beside the write port.
px_dir() { echo "$DIR/proxysql"; }
px_cnf() { echo "$DIR/proxysql/proxysql.cnf"; }
px_pidfile() { echo "$DIR/proxysql/proxysql.pid"; }
px_log() { echo "$DIR/proxysql/proxysql.log"; }
px_admin_port() { echo $((WRITE_PORT + 30)); }
px_port() { echo $((WRITE_PORT + 31)); }
PX_WHG=10
PX_RHG=20
# --ha: a 3-member etcd and three cutoverd members, each in files of its own.
HA_MEMBERS=3
HA_ETCDS=3
HA_PREFIX=/sandbox
HA_LEASE_TTL=4s
ETCD_BIN=/usr/bin/etcd
etcd_dir() { echo "$DIR/etcd"; }
etcd_data() { echo "$DIR/etcd/e$1"; }
etcd_log() { echo "$DIR/etcd/e$1.log"; }
etcd_pidfile() { echo "$DIR/etcd/e$1.pid"; }
etcd_port() { echo $((WRITE_PORT + 39 + $1)); }
etcd_peer_port() { echo $((WRITE_PORT + 42 + $1)); }
# The client URLs, as [ha] etcd and etcdctl --endpoints take them.
etcd_urls() {
	local j urls=""
	for ((j = 1; j <= HA_ETCDS; j++)); do
		urls+="${urls:+,}http://127.0.0.1:$(etcd_port "$j")"
	done
	echo "$urls"
}
ha_dir() { echo "$DIR/ha"; }
ha_conf() { echo "$DIR/ha/m$1.conf"; }
ha_sock() { echo "$DIR/ha/m$1.sock"; }
ha_state() { echo "$DIR/ha/state-m$1"; }
ha_log() { echo "$DIR/ha/m$1.log"; }
ha_pidfile() { echo "$DIR/ha/m$1.pid"; }
ha_sockets() {
	local m socks=()
	for ((m = 1; m <= HA_MEMBERS; m++)); do
		socks+=("$(ha_sock "$m")")
	done
	echo "${socks[*]}"
}
# The servers of the sandbox's cluster: 1..members; with tenants the last server (the target)
# is in a cluster of its own.
members() { echo $((TENANTS > 0 ? N - 1 : N)); }
target() { echo $((TENANTS > 0 ? N : 0)); }
# The root a server runs from (tests/roots.sh suite), for those that do not run the host's mariadbd.
srv_suitefile() { echo "$DIR/db$1/root-suite"; }

ROOTS_SH=${SCRIPT_DIR%/*}/roots.sh

# What runs from suite $1 ("" = the host): sets KIND_PROG (the server's program name, as its
# command line shows it) and KIND_FLAVOR.
suite_kind() {
	case $1 in
	"" | trixie) KIND_PROG=mariadbd KIND_FLAVOR=mariadb ;;
	sid) KIND_PROG=mysqld KIND_FLAVOR=mysql ;;
	*) die "unknown root '$1' (trixie or sid)" ;;
	esac
}

# The same for server $1, from its directory; also sets KIND_SUITE.  Builtins only.
srv_kind() {
	KIND_SUITE=""
	[[ -f $DIR/db$1/root-suite ]] && read -r KIND_SUITE <"$DIR/db$1/root-suite"
	suite_kind "$KIND_SUITE"
}

# ---- processes ----------------------------------------------------------------------------

# True if pid $1 is a live program named $2 (not a zombie: those have no command line) with
# the argument $3.  Builtins only: this runs for every process when a pid file is missing.
pid_matches() {
	local pid=$1 name=$2 arg=$3 argv a
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	mapfile -d "" argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
	((${#argv[@]} > 0)) || return 1
	[[ ${argv[0]##*/} == "$name" ]] || return 1
	for a in "${argv[@]:1}"; do
		[[ $a == "$arg" ]] && return 0
	done
	return 1
}

is_alive() {
	local argv
	mapfile -d "" argv 2>/dev/null <"/proc/$1/cmdline" || return 1
	((${#argv[@]} > 0))
}

# The pid of the live program $2 started with argument $3, from pid file $1 or else by looking
# at every process (one that died before writing its pid file, a stale file).
find_pid() {
	local pidfile=$1 name=$2 arg=$3 pid f
	if [[ -s $pidfile ]]; then
		read -r pid <"$pidfile" || true
		if pid_matches "$pid" "$name" "$arg"; then
			echo "$pid"
			return 0
		fi
	fi
	for f in /proc/[0-9]*; do
		pid=${f#/proc/}
		if pid_matches "$pid" "$name" "$arg"; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

srv_pid() {
	srv_kind "$1"
	find_pid "$(srv_pidfile "$1")" "$KIND_PROG" "--defaults-file=$(srv_cnf "$1")"
}
hap_pid() { find_pid "$(hap_pidfile)" haproxy "$(hap_cfg)"; }
px_pid() { find_pid "$(px_pidfile)" proxysql "$(px_cnf)"; }
# A cutoverd run on the sandbox's config (the demo's, with its pid in cutoverd.pid).
daemon_pid() { find_pid "$DIR/cutoverd.pid" cutoverd "$DIR/cutoverd.conf"; }
# --ha: etcd member $1 (by its data directory) and cutoverd member $1 (by its config).
etcd_pid() { find_pid "$(etcd_pidfile "$1")" etcd "--data-dir=$(etcd_data "$1")"; }
member_pid() { find_pid "$(ha_pidfile "$1")" cutoverd "$(ha_conf "$1")"; }

# Send the processes "$@" SIGCONT (a test may have stopped one) and SIGTERM, wait, then SIGKILL.
terminate_pids() {
	local pid deadline alive
	(($# == 0)) && return 0
	kill -CONT "$@" 2>/dev/null || true
	kill -TERM "$@" 2>/dev/null || true
	deadline=$((SECONDS + STOP_TIMEOUT_S))
	while :; do
		alive=()
		for pid in "$@"; do
			is_alive "$pid" && alive+=("$pid")
		done
		((${#alive[@]} == 0)) && return 0
		((SECONDS >= deadline)) && break
		sleep 0.1
	done
	msg "still running after ${STOP_TIMEOUT_S}s, sending SIGKILL: ${alive[*]}"
	kill -KILL "${alive[@]}" 2>/dev/null || true
	wait_gone "${alive[@]}"
}

# Wait (up to 5 s) until the processes "$@", already sent SIGKILL, are gone.
wait_gone() {
	local pid i
	for ((i = 0; i < 50; i++)); do
		for pid in "$@"; do
			if is_alive "$pid"; then
				sleep 0.1
				continue 2
			fi
		done
		return 0
	done
	msg "still alive 5s after SIGKILL: $*"
}

# ---- MariaDB ------------------------------------------------------------------------------

# Settings every server shares (and the template datadir is created with, so InnoDB finds its
# files as configured).  Small buffers so that twenty servers fit on a laptop; the durability
# settings are the production ones because the tests count lost acknowledged writes.
common_cnf() {
	cat <<EOF
skip_name_resolve
bind_address = 127.0.0.1
performance_schema = OFF
innodb_buffer_pool_size = 8M
innodb_log_file_size = 4M
innodb_log_buffer_size = 1M
innodb_read_io_threads = 1
innodb_write_io_threads = 1
innodb_purge_threads = 1
key_buffer_size = 64K
aria_pagecache_buffer_size = 1M
query_cache_type = 0
query_cache_size = 0
table_open_cache = 200
table_definition_cache = 400
EOF
}

# MySQL 9.x's counterpart of common_cnf: no Aria, no query cache, a redo log sized by
# capacity (8M makes InnoDB wait for the checkpointer), no X protocol listener (33060 for every
# server otherwise), and secure_file_priv empty (the packaged directory does not exist in a root).
mysql_common_cnf() {
	cat <<EOF
skip_name_resolve
bind_address = 127.0.0.1
performance_schema = OFF
mysqlx = OFF
secure_file_priv =
innodb_buffer_pool_size = 8M
innodb_redo_log_capacity = 32M
innodb_log_buffer_size = 1M
innodb_read_io_threads = 1
innodb_write_io_threads = 1
innodb_purge_threads = 1
key_buffer_size = 64K
table_open_cache = 200
table_definition_cache = 400
EOF
}

# The settings the datadir template of flavor $1 is made with.
common_cnf_of() {
	if [[ $1 == mysql ]]; then
		mysql_common_cnf
	else
		common_cnf
	fi
}

# A MySQL server: GTID mode and super_read_only replicas (what the MySQL flavor fences with).
write_mysql_server_cnf() {
	local i=$1 d read_only=ON
	d=$(srv_dir "$i")
	((i == 1)) && read_only=OFF
	{
		echo "# generated by tests/sandbox/sandbox.sh"
		echo "[mysqld]"
		echo "datadir = $d/data"
		echo "port = $(srv_port "$i")"
		echo "socket = $(srv_sock "$i")"
		echo "pid_file = $(srv_pidfile "$i")"
		echo "log_error = $(srv_errlog "$i")"
		mysql_common_cnf
		[[ -z $EXTRA_BIND ]] || echo "bind_address = 127.0.0.1,$EXTRA_BIND"
		cat <<EOF
server_id = $i
report_host = 127.0.0.1
report_port = $(srv_port "$i")
log_bin = mysql-bin
relay_log = relay-bin
log_replica_updates = ON
gtid_mode = ON
enforce_gtid_consistency = ON
read_only = $read_only
super_read_only = $read_only
sync_binlog = 1
innodb_flush_log_at_trx_commit = 1
max_connections = 200
max_connect_errors = 1000000000
replica_net_timeout = 5
EOF
	} >"$(srv_cnf "$i")"
}

# $2 = target: the tenants' target (see setup_tenants), writable in a GTID domain of its own
# and replicating the tenant schemas only, so that a restart keeps it that way.
write_server_cnf() {
	local i=$1 d read_only=ON domain=0 target=${2-}
	srv_kind "$i"
	if [[ $KIND_FLAVOR == mysql ]]; then
		write_mysql_server_cnf "$i"
		return
	fi
	d=$(srv_dir "$i")
	((i == 1)) && read_only=OFF
	[[ $target == target ]] && read_only=OFF domain=$i
	{
		echo "# generated by tests/sandbox/sandbox.sh"
		echo "[mariadbd]"
		echo "datadir = $d/data"
		echo "port = $(srv_port "$i")"
		echo "socket = $(srv_sock "$i")"
		echo "pid_file = $(srv_pidfile "$i")"
		echo "log_error = $(srv_errlog "$i")"
		common_cnf
		# After common_cnf's bind_address, so that this one wins (the template's key stays the same).
		[[ -z $EXTRA_BIND ]] || echo "bind_address = 127.0.0.1,$EXTRA_BIND"
		cat <<EOF
server_id = $i
report_host = 127.0.0.1
report_port = $(srv_port "$i")
log_bin = mysql-bin
relay_log = relay-bin
binlog_format = ROW
log_slave_updates = ON
gtid_strict_mode = ON
gtid_domain_id = $domain
read_only = $read_only
sync_binlog = 1
innodb_flush_log_at_trx_commit = 1
max_connections = 200
max_connect_errors = 1000000000
slave_net_timeout = 5
# A replica applies in parallel (in commit order) and group-commits, as production replicas
# do: one thread with two fsyncs a transaction falls behind a few writing clients on a slow
# disk, and a switchover's catch-up then cannot converge.
slave_parallel_threads = 4
slave_parallel_mode = optimistic
EOF
		if [[ $target == target ]]; then
			echo "# the tenants' target: replicates the tenant schemas only (see sandbox.sh --tenants)"
			echo "replicate_wild_do_table = tenant%.%"
		fi
	} >"$(srv_cnf "$i")"
}

# One mariadb-install-db for all servers: copying its datadir is much faster than running it N
# times.  Its result is also kept in $CACHE, keyed by the server version and the settings, because
# install-db (seconds of fsyncs on a busy disk) is most of a start.  Sets TEMPLATE.
make_template() {
	local key cached tmp
	if [[ -n $CACHE ]]; then
		key=$({ mariadbd --version; common_cnf; } | sha256sum)
		cached=$CACHE/template-${key:0:16}
		if [[ -f $cached/complete ]]; then
			TEMPLATE=$cached/data
			return 0
		fi
	fi
	install_template
	TEMPLATE=$DIR/template/data
	[[ -n $CACHE ]] || return 0
	publish_template "$cached"
}

# Copy $TEMPLATE into the cache as $1.
publish_template() {
	local cached=$1 tmp
	# Publish with a rename so that concurrent starts never see half a copy.
	if mkdir -p "$CACHE" && chmod 0700 "$CACHE" && tmp=$(mktemp -d "$CACHE/tmp.XXXXXX") &&
		cp -a "$TEMPLATE" "$tmp/data" && touch "$tmp/complete" &&
		mv -T "$tmp" "$cached" 2>/dev/null; then
		return 0
	fi
	rm -rf "${tmp:?}"
	return 0
}

# make_template for the servers of root $1 (tests/roots.sh): the datadir made by that root's
# server, cached under the root's server version (VERSION_OF).  Sets TEMPLATE.
make_root_template() {
	local suite=$1 version key cached
	suite_kind "$suite"
	version=${VERSION_OF[$suite]}
	if [[ -n $CACHE ]]; then
		key=$({ echo "root $suite $version"; common_cnf_of "$KIND_FLAVOR"; } | sha256sum)
		cached=$CACHE/template-${key:0:16}
		if [[ -f $cached/complete ]]; then
			TEMPLATE=$cached/data
			return 0
		fi
	fi
	install_root_template "$suite"
	TEMPLATE=$DIR/template-$suite/data
	[[ -n $CACHE ]] || return 0
	publish_template "$cached"
}

# Runs the root's installer chrooted (tests/roots.sh run), with $DIR at its own path inside.
install_root_template() {
	local suite=$1 t=$DIR/template-$1 group=mariadbd
	suite_kind "$suite"
	[[ $KIND_FLAVOR == mysql ]] && group=mysqld
	mkdir -p "$t"
	{
		echo "[$group]"
		echo "datadir = $t/data"
		echo "socket = $t/install.sock"
		echo "log_error = $t/error.log"
		common_cnf_of "$KIND_FLAVOR"
	} >"$t/my.cnf"
	if [[ $KIND_FLAVOR == mysql ]]; then
		# root@localhost without a password, on the socket only (like install-db's root)
		set -- mysqld --defaults-file="$t/my.cnf" --initialize-insecure --user=root
	else
		set -- mariadb-install-db --defaults-file="$t/my.cnf" --user=root \
			--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve
	fi
	if ! "$ROOTS_SH" run "$suite" --bind "$DIR" -- "$@" >"$t/install.log" 2>&1; then
		tail -n 20 "$t/install.log" >&2
		[[ -f $t/error.log ]] && tail -n 20 "$t/error.log" >&2
		die "$1 in the $suite root failed (log above, in $t/install.log)"
	fi
}

install_template() {
	local t=$DIR/template
	mkdir -p "$t"
	{
		echo "[mariadbd]"
		echo "datadir = $t/data"
		echo "socket = $t/install.sock"
		echo "log_error = $t/error.log"
		common_cnf
	} >"$t/my.cnf"
	if ! mariadb-install-db --defaults-file="$t/my.cnf" --user=root \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
		>"$t/install.log" 2>&1; then
		tail -n 20 "$t/install.log" >&2
		[[ -f $t/error.log ]] && tail -n 20 "$t/error.log" >&2
		die "mariadb-install-db failed (log above, in $t/install.log)"
	fi
}

# Every server's directory, config and datadir (copies in parallel: they are most of a start).
# A server from a root gets that root's template; a MySQL copy loses the template's auto.cnf,
# so that each server makes its own server_uuid (equal ones stop replication).
copy_datadirs() {
	local i pids=() pid t
	for ((i = 1; i <= N; i++)); do
		mkdir -p "$(srv_dir "$i")"
		[[ -z ${SUITE_OF[i]:-} ]] || echo "${SUITE_OF[i]}" >"$(srv_suitefile "$i")"
		write_server_cnf "$i"
		t=${TEMPLATE_OF[${SUITE_OF[i]:-host}]}
		if [[ $KIND_FLAVOR == mysql ]]; then
			{ cp -a "$t" "$(srv_dir "$i")/data" && rm -f "$(srv_dir "$i")/data/auto.cnf"; } &
		else
			cp -a "$t" "$(srv_dir "$i")/data" &
		fi
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || die "copying the datadir templates failed"
	done
}

declare -a LAUNCHED=()
# Set by plan_servers and make_templates (start only).
declare -a SUITE_OF=()
declare -A TEMPLATE_OF=() VERSION_OF=()

launch_server() {
	local i=$1
	shift
	rm -f "$(srv_pidfile "$i")"
	srv_kind "$i"
	if [[ -n $KIND_SUITE ]]; then
		# Chrooted in a private mount namespace with $DIR at its own path: its command line
		# is "mariadbd|mysqld --defaults-file=$DIR/…" like the others'.  roots.sh execs, so
		# the pid below is the server's too.
		setsid "$ROOTS_SH" run "$KIND_SUITE" --bind "$DIR" -- \
			"$KIND_PROG" --defaults-file="$(srv_cnf "$i")" --user=root "$@" \
			</dev/null >>"$(srv_dir "$i")/console.log" 2>&1 &
		LAUNCHED[i]=$!
		return 0
	fi
	setsid mariadbd --defaults-file="$(srv_cnf "$i")" --user=root "$@" \
		</dev/null >>"$(srv_dir "$i")/console.log" 2>&1 &
	# setsid execs mariadbd in this child (no fork: it is not a group leader), so this is the
	# server's pid before it has written its pid file
	LAUNCHED[i]=$!
}

# Print what server $1 said before failing: its error log and what it wrote to stderr before
# it had opened the log.
show_errlog() {
	local f
	for f in "$(srv_dir "$1")/console.log" "$(srv_errlog "$1")"; do
		[[ -s $f ]] || continue
		msg "last lines of $f:"
		tail -n 15 "$f" >&2
	done
	return 0
}

# Wait until server $1 answers a ping (access denied counts as an answer).
wait_server() {
	local i=$1 deadline
	deadline=$((SECONDS + PING_TIMEOUT_S))
	while ! mariadb-admin --no-defaults --socket="$(srv_sock "$i")" --user=root \
		--connect-timeout=1 ping >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			show_errlog "$i"
			die "db$i did not answer within ${PING_TIMEOUT_S}s"
		fi
		# the pid file appears only once InnoDB is up: until then, ask the launched process
		if ! srv_pid "$i" >/dev/null && ! kill -0 "${LAUNCHED[i]:-0}" 2>/dev/null; then
			show_errlog "$i"
			die "db$i exited during start-up"
		fi
		sleep 0.05
	done
}

# Run SQL from stdin on server $1 as root over its socket (root exists only on the socket).
root_sql() {
	mariadb --no-defaults --socket="$(srv_sock "$1")" --user=root -N -B
}

new_password() {
	local p
	p=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
	echo "${p:0:24}"
}

make_secrets() {
	local s old_umask
	old_umask=$(umask)
	umask 077
	mkdir -p "$DIR/secrets"
	for s in cutoverd repl app; do
		new_password >"$DIR/secrets/$s.pass"
		chmod 0600 "$DIR/secrets/$s.pass"
	done
	# Client option files, to keep passwords off command lines: mariadb --defaults-file=…
	for s in cutoverd app; do
		printf '[client]\nuser = %s\npassword = %s\n' "$s" "$(secret "$s")" >"$DIR/secrets/$s.cnf"
	done
	# ProxySQL's admin user for cutoverd (and for people: mariadb --defaults-file=…cnf -P …)
	if ((PROXYSQL)); then
		new_password >"$DIR/secrets/proxysql-cutadmin.pass"
		chmod 0600 "$DIR/secrets/proxysql-cutadmin.pass"
		printf '[client]\nuser = cutadmin\npassword = %s\n' "$(secret proxysql-cutadmin)" \
			>"$DIR/secrets/proxysql-cutadmin.cnf"
	fi
	umask "$old_umask"
}

secret() { head -n1 "$DIR/secrets/$1.pass"; }

# Accounts and the application table, created on db1 before the replicas start so that they
# arrive on the replicas by replication.
setup_primary() {
	srv_kind 1
	if [[ $KIND_FLAVOR == mysql ]]; then
		setup_mysql_primary
		return
	fi
	root_sql 1 <<EOF
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';
CREATE USER 'cutoverd'@'127.0.0.1' IDENTIFIED BY '$(secret cutoverd)';
CREATE USER 'cutoverd'@'localhost' IDENTIFIED BY '$(secret cutoverd)';
GRANT ALL PRIVILEGES ON *.* TO 'cutoverd'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'cutoverd'@'localhost';
CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '$(secret repl)';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '$(secret app)';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON app.* TO 'app'@'127.0.0.1';
CREATE USER 'haproxy_check'@'127.0.0.1';
CREATE DATABASE app;
CREATE TABLE app.writes (
	id BIGINT PRIMARY KEY,
	client_ts BIGINT,
	server_id INT,
	created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
EOF
}

# The same on MySQL 9.x: caching_sha2_password (its default; mysql_native_password is gone),
# REPLICATION SLAVE is still the privilege's name.  haproxy_check has no password: HAProxy's
# mysql-check logs in without one.
setup_mysql_primary() {
	root_sql 1 <<EOF
DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';
CREATE USER 'cutoverd'@'127.0.0.1' IDENTIFIED WITH caching_sha2_password BY '$(secret cutoverd)';
CREATE USER 'cutoverd'@'localhost' IDENTIFIED WITH caching_sha2_password BY '$(secret cutoverd)';
GRANT ALL PRIVILEGES ON *.* TO 'cutoverd'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'cutoverd'@'localhost';
CREATE USER 'repl'@'127.0.0.1' IDENTIFIED WITH caching_sha2_password BY '$(secret repl)';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE USER 'app'@'127.0.0.1' IDENTIFIED WITH caching_sha2_password BY '$(secret app)';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON app.* TO 'app'@'127.0.0.1';
CREATE USER 'haproxy_check'@'127.0.0.1';
CREATE DATABASE app;
CREATE TABLE app.writes (
	id BIGINT PRIMARY KEY,
	client_ts BIGINT,
	server_id INT,
	created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
EOF
}

setup_replica() {
	srv_kind "$1"
	if [[ $KIND_FLAVOR == mysql ]]; then
		# GET_SOURCE_PUBLIC_KEY=1 as cutoverd's MySQL flavor says it: repl's first login
		# without TLS needs the source's RSA key (loopback only, so fetching it is safe).
		root_sql "$1" <<EOF
CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=$(srv_port 1),
	SOURCE_USER='repl', SOURCE_PASSWORD='$(secret repl)', SOURCE_AUTO_POSITION=1,
	SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1;
START REPLICA;
EOF
		return
	fi
	if [[ -n $KIND_SUITE ]]; then
		# MariaDB 11.x replicas ask for TLS to their primary by default (MASTER_SSL=1) and
		# fail on one without it, as the sandbox's servers are: plain text, as 10.11 does.
		root_sql "$1" <<EOF
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$(srv_port 1), MASTER_USER='repl',
	MASTER_PASSWORD='$(secret repl)', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1,
	MASTER_SSL=0;
START SLAVE;
EOF
		return
	fi
	root_sql "$1" <<EOF
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$(srv_port 1), MASTER_USER='repl',
	MASTER_PASSWORD='$(secret repl)', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
EOF
}

# Wait until every replica has applied everything db1 has written.
wait_replicas_synced() {
	local i pos rpos deadline
	srv_kind 1
	if [[ $KIND_FLAVOR == mysql ]]; then
		wait_mysql_replicas_synced
		return
	fi
	pos=$(root_sql 1 <<<"SELECT @@gtid_binlog_pos")
	deadline=$((SECONDS + SYNC_TIMEOUT_S))
	for ((i = 2; i <= N; i++)); do
		while :; do
			rpos=$(root_sql "$i" <<<"SELECT @@gtid_slave_pos")
			[[ $rpos == "$pos" ]] && break
			if ((SECONDS >= deadline)); then
				root_sql "$i" <<<"SHOW SLAVE STATUS\G" | grep -E 'Running|Last_.*Err' >&2 || true
				die "db$i did not catch up with db1 within ${SYNC_TIMEOUT_S}s (at '$rpos', db1 at '$pos')"
			fi
			sleep 0.05
		done
	done
}

# The same by GTID sets: db1's gtid_executed contained in each replica's.
wait_mysql_replicas_synced() {
	local i pos in deadline
	pos=$(root_sql 1 <<<"SELECT @@gtid_executed")
	deadline=$((SECONDS + SYNC_TIMEOUT_S))
	for ((i = 2; i <= N; i++)); do
		while :; do
			in=$(root_sql "$i" <<<"SELECT GTID_SUBSET('$pos', @@gtid_executed)")
			[[ $in == 1 ]] && break
			if ((SECONDS >= deadline)); then
				root_sql "$i" <<<"SHOW REPLICA STATUS\G" | grep -E 'Running|Last_.*Err' >&2 || true
				die "db$i did not catch up with db1 within ${SYNC_TIMEOUT_S}s (db1 at '$pos')"
			fi
			sleep 0.05
		done
	done
}

# ---- tenants (start --tenants) -----------------------------------------------------------

tenant_name() { printf 'tenant%02d' "$1"; }

# TENANTS schemas on db1, each with a writes table like app.writes, and the application account's
# grant on them; once every replica has them, the last server becomes the tenants' target.
setup_tenants() {
	local t name sql=""
	for ((t = 0; t < TENANTS; t++)); do
		name=$(tenant_name "$t")
		sql+="CREATE DATABASE $name;
CREATE TABLE $name.writes (
	id BIGINT PRIMARY KEY,
	client_ts BIGINT,
	server_id INT,
	created TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
"
	done
	sql+="GRANT SELECT, INSERT, UPDATE, DELETE ON \`tenant%\`.* TO 'app'@'127.0.0.1';"
	root_sql 1 <<<"$sql" >/dev/null
	wait_replicas_synced
	make_target "$(target)"
}

# Server $1 becomes the tenants' target: a writable server of a cluster of its own that goes on
# replicating the tenant schemas (and only them) from db1.  Its GTID domain first, before anything
# connects to it: a session keeps the domain it started with, and cutoverd writes its heartbeat
# there once it sees the server as a primary (in domain 0, that would break db1's stream under
# gtid_strict_mode).  The same settings go into its my.cnf, so that a restart keeps them.
make_target() {
	local i=$1 got
	root_sql "$i" <<EOF
SET GLOBAL gtid_domain_id = $i;
STOP SLAVE;
SET GLOBAL replicate_wild_do_table = 'tenant%.%';
SET GLOBAL read_only = 0;
START SLAVE;
EOF
	got=$(root_sql "$i" <<<"SELECT CONCAT_WS(' ', @@gtid_domain_id, @@read_only, @@replicate_wild_do_table)")
	[[ $got == "$i "@(0|OFF)" tenant%.%" ]] ||
		die "db$i did not take the target's settings (gtid_domain_id, read_only, replicate_wild_do_table: $got)"
	write_server_cnf "$i" target
}

# ---- HAProxy ------------------------------------------------------------------------------

# The servers of the sandbox's cluster only: the tenants' target (--tenants) is never its writer,
# nor one of its readers (it replicates the tenant schemas only).
write_haproxy_cfg() {
	local i m first_read=2 check="option mysql-check user haproxy_check post-41"
	m=$(members)
	((m == 1)) && first_read=1
	# HAProxy's check logs in as a pre-plugin client, which MySQL 9.x answers with error 1251
	# (mysql_native_password is gone); without a user it checks the server's greeting, which a
	# stopped server does not send either.
	srv_kind 1
	[[ $KIND_FLAVOR == mysql ]] && check="option mysql-check"
	{
		cat <<EOF
# generated by tests/sandbox/sandbox.sh
global
	pidfile $(hap_pidfile)
	stats socket $(hap_sock) mode 600 level admin expose-fd listeners
	stats timeout 1h
	maxconn 4096

defaults
	mode tcp
	timeout connect 1s
	timeout client 1h
	timeout server 1h
	timeout check 1s
	# A real handshake, so that a stopped (SIGSTOP) server fails its check as a dead one would.
	$check
	default-server inter 1s fall 2 rise 2

frontend mysql_write
	bind 127.0.0.1:$WRITE_PORT
	default_backend mysql_write

# Writes go to the one server not in maintenance; cutoverd moves that role.
backend mysql_write
EOF
		for ((i = 1; i <= m; i++)); do
			if ((i == 1)); then
				echo "	server db$i 127.0.0.1:$(srv_port "$i") check"
			else
				echo "	server db$i 127.0.0.1:$(srv_port "$i") check disabled"
			fi
		done
		cat <<EOF

frontend mysql_read
	bind 127.0.0.1:$READ_PORT
	default_backend mysql_read

backend mysql_read
	balance roundrobin
EOF
		for ((i = first_read; i <= m; i++)); do
			echo "	server db$i 127.0.0.1:$(srv_port "$i") check"
		done
	} >"$(hap_cfg)"
}

hap_cmd() {
	echo "$1" | socat -t 2 - "UNIX-CONNECT:$(hap_sock)"
}

start_haproxy() {
	local i out
	mkdir -p "$(hap_dir)"
	chmod 0700 "$(hap_dir)"
	write_haproxy_cfg
	if ! out=$(haproxy -c -q -f "$(hap_cfg)" 2>&1); then
		printf '%s\n' "$out" >&2
		die "haproxy rejected $(hap_cfg)"
	fi
	haproxy -f "$(hap_cfg)" -D -p "$(hap_pidfile)" >"$(hap_dir)/haproxy.log" 2>&1 ||
		{ cat "$(hap_dir)/haproxy.log" >&2; die "haproxy failed to start"; }
	for ((i = 0; i < 100; i++)); do
		hap_cmd "show info" 2>/dev/null | grep -q '^Name: HAProxy' && return 0
		sleep 0.05
	done
	die "haproxy does not answer 'show info' on $(hap_sock)"
}

# The whole path an application takes: through the write port, as app, onto db1.
check_write_path() {
	local id i
	for ((i = 0; i < 50; i++)); do
		id=$(mariadb --defaults-file="$DIR/secrets/app.cnf" -h 127.0.0.1 -P "$WRITE_PORT" \
			--connect-timeout=2 -N -B -e 'SELECT @@server_id' 2>/dev/null) && [[ $id == 1 ]] && return 0
		sleep 0.1
	done
	die "a connection through 127.0.0.1:$WRITE_PORT as app does not reach db1 (got '${id:-nothing}')"
}

# ---- ProxySQL (start --proxysql) ---------------------------------------------------------

# The ProxySQL binary: SANDBOX_PROXYSQL_BIN, else the newest /usr/local/proxysql-*/bin/proxysql.
# Sets PX_BIN.
find_proxysql() {
	local p
	if [[ -n ${SANDBOX_PROXYSQL_BIN:-} ]]; then
		[[ -f $SANDBOX_PROXYSQL_BIN && -x $SANDBOX_PROXYSQL_BIN ]] ||
			die "SANDBOX_PROXYSQL_BIN=$SANDBOX_PROXYSQL_BIN is not an executable file"
		PX_BIN=$(realpath "$SANDBOX_PROXYSQL_BIN")
		return 0
	fi
	PX_BIN=""
	while read -r p; do
		[[ -f $p && -x $p ]] && PX_BIN=$p
	done < <(printf '%s\n' /usr/local/proxysql-*/bin/proxysql | sort -V)
	[[ -n $PX_BIN ]] || die "--proxysql: no ProxySQL binary (no /usr/local/proxysql-*/bin/proxysql," \
		"and SANDBOX_PROXYSQL_BIN is not set); tests/deps.sh installs the ones in ../shared/proxysql" \
		"(or: sh ../shared/proxysql/install.sh 2.7.1), or set SANDBOX_PROXYSQL_BIN=/path/to/proxysql"
}

# SQL on ProxySQL's admin interface as cutadmin (-N -B output).
px_admin() {
	mariadb --defaults-file="$DIR/secrets/proxysql-cutadmin.cnf" -h 127.0.0.1 -P "$(px_admin_port)" \
		--connect-timeout=2 -N -B "$@"
}

write_proxysql_cnf() {
	(
		umask 077
		cat >"$(px_cnf)" <<EOF
# generated by tests/sandbox/sandbox.sh
datadir="$(px_dir)/data"

admin_variables=
{
	admin_credentials="cutadmin:$(secret proxysql-cutadmin)"
	mysql_ifaces="127.0.0.1:$(px_admin_port)"
}

mysql_variables=
{
	interfaces="127.0.0.1:$(px_port)"
	threads=2
	monitor_enabled=false
}
EOF
	)
}

# True while process $1 (a child of ours) has not exited: not gone, not a zombie.  Not is_alive:
# its command line reads empty in the middle of an exec, and this one runs two in a row.
not_exited() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# One ProxySQL in the foreground (-f: no angel process, so the pid is ProxySQL's own) in its own
# session and directory, without the Monitor (-M), its configuration database made afresh from
# proxysql.cnf (--initial); then its hostgroups, the application account and the query rule.
start_proxysql() {
	local d pid deadline
	d=$(px_dir)
	mkdir -p "$d/data"
	chmod 0700 "$d"
	write_proxysql_cnf
	(cd "$d" && exec setsid "$PX_BIN" -f -M --initial --no-version-check -c "$(px_cnf)" -D "$d/data") \
		</dev/null >>"$(px_log)" 2>&1 &
	pid=$!
	echo "$pid" >"$(px_pidfile)"
	deadline=$((SECONDS + PING_TIMEOUT_S))
	until px_admin -e 'SELECT 1' >/dev/null 2>&1; do
		if ! not_exited "$pid"; then
			tail -n 20 "$(px_log)" >&2
			die "ProxySQL exited during start-up (log above, in $(px_log))"
		fi
		if grep -q 'Address already in use' "$(px_log)"; then
			tail -n 20 "$(px_log)" >&2
			die "ProxySQL could not bind 127.0.0.1:$(px_admin_port) or :$(px_port) (log above)"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 20 "$(px_log)" >&2
			die "ProxySQL's admin interface 127.0.0.1:$(px_admin_port) does not answer within ${PING_TIMEOUT_S}s"
		fi
		sleep 0.1
	done
	configure_proxysql
}

# Writer hostgroup 10 = db1; reader hostgroup 20 = the replicas of the sandbox's cluster (db1 when
# it has no replica); app with default_hostgroup 10, transaction_persistent 1; query rule 1 keeps
# statements naming @@server_id multiplexed (ProxySQL stops multiplexing a session at its first
# '@' otherwise, and cutover-load's persistent clients ask SELECT @@server_id).  Rule 1000 sends
# the reads of cutover-load --mode read to the reader hostgroup, so that a read shift has reads
# to move; its id comes after the tenant rules' range (100-999), as a tenant move requires.
configure_proxysql() {
	local i m rows out
	m=$(members)
	rows="($PX_WHG, '127.0.0.1', $(srv_port 1))"
	if ((m == 1)); then
		rows+=", ($PX_RHG, '127.0.0.1', $(srv_port 1))"
	fi
	for ((i = 2; i <= m; i++)); do
		rows+=", ($PX_RHG, '127.0.0.1', $(srv_port "$i"))"
	done
	if ! out=$(px_admin 2>&1 <<EOF
INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES $rows;
INSERT INTO mysql_users (username, password, default_hostgroup, transaction_persistent)
	VALUES ('app', '$(secret app)', $PX_WHG, 1);
INSERT INTO mysql_query_rules (rule_id, active, match_digest, multiplex, apply)
	VALUES (1, 1, '@@server_id', 2, 0);
INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply, comment)
	VALUES (1000, 1, '^SELECT COUNT\\(\\*\\) FROM app\\.writes', $PX_RHG, 1,
		'sandbox: the reads of cutover-load --mode read');
LOAD MYSQL SERVERS TO RUNTIME;
SAVE MYSQL SERVERS TO DISK;
LOAD MYSQL USERS TO RUNTIME;
SAVE MYSQL USERS TO DISK;
LOAD MYSQL QUERY RULES TO RUNTIME;
SAVE MYSQL QUERY RULES TO DISK;
LOAD MYSQL VARIABLES TO RUNTIME;
SAVE MYSQL VARIABLES TO DISK;
LOAD ADMIN VARIABLES TO RUNTIME;
SAVE ADMIN VARIABLES TO DISK;
EOF
	); then
		printf '%s\n' "$out" >&2
		die "configuring ProxySQL through its admin interface failed"
	fi
}

# The path an application takes through ProxySQL: its client port, as app, onto db1.
check_proxysql_path() {
	local id i
	for ((i = 0; i < 100; i++)); do
		id=$(mariadb --defaults-file="$DIR/secrets/app.cnf" -h 127.0.0.1 -P "$(px_port)" \
			--connect-timeout=2 -N -B -e 'SELECT @@server_id' 2>/dev/null) && [[ $id == 1 ]] && return 0
		sleep 0.2
	done
	tail -n 20 "$(px_log)" >&2
	die "a connection through ProxySQL (127.0.0.1:$(px_port)) as app does not reach db1 (got '${id:-nothing}')"
}

# ---- several cutoverd members and etcd (start --ha) -------------------------------------

# Three etcd members on loopback, in the background, each in its own session; their health is
# waited for by wait_etcd (they elect etcd's own leader meanwhile, while the servers start).
launch_etcd() {
	local j cluster=""
	mkdir -p "$(etcd_dir)"
	chmod 0700 "$(etcd_dir)"
	for ((j = 1; j <= HA_ETCDS; j++)); do
		cluster+="${cluster:+,}e$j=http://127.0.0.1:$(etcd_peer_port "$j")"
	done
	for ((j = 1; j <= HA_ETCDS; j++)); do
		mkdir -p "$(etcd_data "$j")"
		chmod 0700 "$(etcd_data "$j")"
		rm -f "$(etcd_pidfile "$j")"
		setsid "$ETCD_BIN" --name "e$j" --data-dir="$(etcd_data "$j")" \
			--listen-client-urls "http://127.0.0.1:$(etcd_port "$j")" \
			--advertise-client-urls "http://127.0.0.1:$(etcd_port "$j")" \
			--listen-peer-urls "http://127.0.0.1:$(etcd_peer_port "$j")" \
			--initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer_port "$j")" \
			--initial-cluster "$cluster" --initial-cluster-state new \
			--initial-cluster-token cutover-sandbox \
			</dev/null >>"$(etcd_log "$j")" 2>&1 &
		# setsid execs etcd in this child, as with the servers
		echo "$!" >"$(etcd_pidfile "$j")"
	done
}

# True if the etcd member on port $1 says it is healthy (it has a leader); builtins and timeout.
etcd_healthy() {
	local out
	# shellcheck disable=SC2016 # $1 is the inner shell's
	out=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
		printf "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "$1" 2>/dev/null) ||
		return 1
	[[ $out == *'"health":"true"'* ]]
}

wait_etcd() {
	local j deadline
	deadline=$((SECONDS + PING_TIMEOUT_S))
	for ((j = 1; j <= HA_ETCDS; j++)); do
		until etcd_healthy "$(etcd_port "$j")"; do
			if ! etcd_pid "$j" >/dev/null; then
				tail -n 20 "$(etcd_log "$j")" >&2
				die "etcd member e$j exited during start-up (log above, in $(etcd_log "$j"))"
			fi
			if ((SECONDS >= deadline)); then
				tail -n 20 "$(etcd_log "$j")" >&2
				die "etcd member e$j (127.0.0.1:$(etcd_port "$j")) is not healthy within ${PING_TIMEOUT_S}s"
			fi
			sleep 0.1
		done
	done
}

# Member $1's config: the sandbox's cutoverd.conf with a socket and a state directory of its
# own, and the [ha] section.
write_member_conf() {
	local m=$1 out
	(
		umask 077
		{
			awk -v sock="$(ha_sock "$m")" -v state="$(ha_state "$m")" '
				/^socket = / && !s { print "socket = " sock; s = 1; next }
				/^state_dir = / && !t { print "state_dir = " state; t = 1; next }
				{ print }' "$DIR/cutoverd.conf"
			cat <<EOF

# member m$m of three (sandbox.sh --ha): only the one that leads acts
[ha]
etcd = $(etcd_urls | sed 's/,/, /g')
prefix = $HA_PREFIX
name = m$m
address = $(ha_sock "$m")
source = 127.0.0.$((10 + m))
lease_ttl = $HA_LEASE_TTL
EOF
		} >"$(ha_conf "$m")"
	)
	if ! grep -qx "socket = $(ha_sock "$m")" "$(ha_conf "$m")" ||
		! grep -qx "state_dir = $(ha_state "$m")" "$(ha_conf "$m")"; then
		die "$(ha_conf "$m"): could not set the member's socket and state_dir from $DIR/cutoverd.conf"
	fi
	out=$("$(build_dir)/cutoverd" -n -c "$(ha_conf "$m")" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "cutoverd -n rejects $(ha_conf "$m")"
	}
}

start_members() {
	local m
	mkdir -p "$(ha_dir)"
	chmod 0700 "$(ha_dir)"
	for ((m = 1; m <= HA_MEMBERS; m++)); do
		mkdir -p "$(ha_state "$m")"
		chmod 0700 "$(ha_state "$m")"
		write_member_conf "$m"
	done
	for ((m = 1; m <= HA_MEMBERS; m++)); do
		rm -f "$(ha_pidfile "$m")" "$(ha_sock "$m")"
		setsid "$(build_dir)/cutoverd" -f -c "$(ha_conf "$m")" </dev/null >>"$(ha_log "$m")" 2>&1 &
		echo "$!" >"$(ha_pidfile "$m")"
	done
}

# Member $1's view of the election and of the sandbox's cluster: "ROLE ACTING LEADER PRIMARY
# VERDICT" (e.g. "follower false m2 db1 OK"; "-" for what it does not know), from its status; 1
# if it does not answer.
member_ha() {
	local out
	out=$("$(build_dir)/cutoverctl" -s "$(ha_sock "$1")" -t 2000 --json status 2>/dev/null) || return 1
	jq -r --arg c "$CLUSTER" '(.clusters // [] | map(select(.name == $c)) | .[0] // {}) as $k |
		.ha // empty | "\(.role // "-") \(.acting // false) \(.leader // "-") \($k.primary // "-") \($k.verdict // "-")"' \
		<<<"$out" 2>/dev/null | grep . || return 1
}

# Wait until exactly one member leads and acts, the others follow it, and the leader sees db1 the
# primary of the sandbox's cluster with the verdict OK (its first polls and heartbeat done, so
# that a switchover can be asked for at once); sets HA_LEADER (mJ).
HA_WAIT_S=30
wait_leader() {
	local m deadline info role acting leader primary verdict count views ready
	deadline=$((SECONDS + HA_WAIT_S))
	while :; do
		HA_LEADER="" count=0 views=() ready=""
		for ((m = 1; m <= HA_MEMBERS; m++)); do
			if ! member_pid "$m" >/dev/null; then
				tail -n 20 "$(ha_log "$m")" >&2
				die "cutoverd member m$m exited during start-up (log above, in $(ha_log "$m"))"
			fi
			info=$(member_ha "$m") || info="- false - - -"
			read -r role acting leader primary verdict <<<"$info"
			views[m]="m$m: $role (leader $leader)"
			if [[ $role == leader && $acting == true ]]; then
				HA_LEADER=m$m
				count=$((count + 1))
				ready="$primary $verdict"
				views[m]+=" sees primary $primary, $verdict"
			fi
		done
		if ((count == 1)) && [[ $ready == "db1 OK" ]]; then
			for ((m = 1; m <= HA_MEMBERS; m++)); do
				[[ m$m == "$HA_LEADER" || ${views[m]} == "m$m: follower (leader $HA_LEADER)" ]] || break
			done
			((m > HA_MEMBERS)) && return 0
		fi
		if ((SECONDS >= deadline)); then
			for ((m = 1; m <= HA_MEMBERS; m++)); do
				msg "last lines of $(ha_log "$m"):"
				tail -n 10 "$(ha_log "$m")" >&2
			done
			die "no single leader seeing db1 the primary, OK, among the members within ${HA_WAIT_S}s (${views[*]})"
		fi
		sleep 0.2
	done
}

# ---- generated files ----------------------------------------------------------------------

write_cutoverd_conf() {
	local i cluster f=$DIR/cutoverd.conf
	(
		umask 077
		{
			cat <<EOF
# generated by tests/sandbox/sandbox.sh
[cutoverd]
socket = $DIR/run/cutoverd.sock
state_dir = $DIR/state
poll_interval = $POLL
log_level = info
admin_users = root

[cluster $CLUSTER]
repl_user = repl
repl_password_file = $DIR/secrets/repl.pass
heartbeat_table = cutoverd.heartbeat
EOF
			if ((TENANTS > 0)); then
				cat <<EOF

# the tenants' target (sandbox.sh --tenants): a primary of its own that replicates the
# tenant schemas from the sandbox's primary on purpose
[cluster target]
upstream = $CLUSTER
EOF
			fi
			for ((i = 1; i <= N; i++)); do
				cluster=$CLUSTER
				((i == $(target))) && cluster=target
				cat <<EOF

[server db$i]
cluster = $cluster
host = 127.0.0.1
port = $(srv_port "$i")
user = cutoverd
password_file = $DIR/secrets/cutoverd.pass
EOF
			done
			cat <<EOF

[router haproxy]
cluster = $CLUSTER
type = haproxy
address = $(hap_sock)
backend = mysql_write
# a switchover's verify phase sends a probe write here and checks where it lands
write_endpoint = 127.0.0.1:$WRITE_PORT
EOF
			if ((PROXYSQL)); then
				cat <<EOF

[router proxysql]
cluster = $CLUSTER
type = proxysql
address = 127.0.0.1:$(px_admin_port)
user = cutadmin
password_file = $DIR/secrets/proxysql-cutadmin.pass
writer_hostgroup = $PX_WHG
reader_hostgroup = $PX_RHG
EOF
				((TENANTS == 0)) || cat <<EOF
# a tenant moved gets a hostgroup and a query rule of its own from these ranges
tenant_hostgroups = 1000-1999
tenant_rule_ids = 100-999
EOF
			fi
		} >"$f"
	)
	chmod 0600 "$f"
}

write_env() {
	local i ports=()
	for ((i = 1; i <= N; i++)); do
		ports+=("$(srv_port "$i")")
	done
	{
		echo "# generated by tests/sandbox/sandbox.sh; source it"
		printf 'export %s=%q\n' \
			SANDBOX_DIR "$DIR" \
			SANDBOX_N "$N" \
			SANDBOX_BASE_PORT "$BASE_PORT" \
			SANDBOX_POLL "$POLL" \
			SANDBOX_SCRIPT "$SCRIPT_PATH" \
			SANDBOX_CLUSTER "$CLUSTER" \
			DB_PORTS "${ports[*]}" \
			WRITE_PORT "$WRITE_PORT" \
			READ_PORT "$READ_PORT" \
			HAPROXY_SOCK "$(hap_sock)" \
			HAPROXY_CFG "$(hap_cfg)" \
			HAPROXY_PID_FILE "$(hap_pidfile)" \
			HAPROXY_WRITE_BACKEND mysql_write \
			HAPROXY_READ_BACKEND mysql_read \
			APP_USER app \
			APP_PASSWORD_FILE "$DIR/secrets/app.pass" \
			APP_CNF "$DIR/secrets/app.cnf" \
			CUTOVERD_USER cutoverd \
			CUTOVERD_PASSWORD_FILE "$DIR/secrets/cutoverd.pass" \
			CUTOVERD_CNF "$DIR/secrets/cutoverd.cnf" \
			REPL_USER repl \
			REPL_PASSWORD_FILE "$DIR/secrets/repl.pass" \
			CUTOVERD_CONF "$DIR/cutoverd.conf" \
			CUTOVERD_SOCKET "$DIR/run/cutoverd.sock" \
			CUTOVERD_SOCK "$DIR/run/cutoverd.sock" \
			CUTOVERD_STATE_DIR "$DIR/state"
		# CUTOVERD_SOCKET is what cutoverctl reads; CUTOVERD_SOCK stays for the scripts that
		# used it.  The build's cutoverctl and cutoverd come first on PATH, once.
		printf 'case ":$PATH:" in *:%q:*) ;; *) export PATH=%q:"$PATH" ;; esac\n' "$(build_dir)" "$(build_dir)"
		for ((i = 1; i <= N; i++)); do
			printf 'export %s=%q\n' \
				"DB${i}_PORT" "$(srv_port "$i")" \
				"DB${i}_SOCK" "$(srv_sock "$i")" \
				"DB${i}_PID_FILE" "$(srv_pidfile "$i")" \
				"DB${i}_ERROR_LOG" "$(srv_errlog "$i")"
		done
		# Only with --proxysql and --tenants: without them, the file is as it was.
		if ((PROXYSQL)); then
			printf 'export %s=%q\n' \
				SANDBOX_PROXYSQL 1 \
				PROXYSQL_BIN "$PX_BIN" \
				PROXYSQL_ADMIN_PORT "$(px_admin_port)" \
				PROXYSQL_PORT "$(px_port)" \
				PROXYSQL_ADMIN_USER cutadmin \
				PROXYSQL_ADMIN_PASSWORD_FILE "$DIR/secrets/proxysql-cutadmin.pass" \
				PROXYSQL_ADMIN_CNF "$DIR/secrets/proxysql-cutadmin.cnf" \
				PROXYSQL_WRITER_HOSTGROUP "$PX_WHG" \
				PROXYSQL_READER_HOSTGROUP "$PX_RHG" \
				PROXYSQL_LOG "$(px_log)"
		fi
		if ((TENANTS > 0)); then
			printf 'export %s=%q\n' \
				SANDBOX_TENANTS "$TENANTS" \
				TENANT_TARGET "db$(target)"
		fi
		# Only with --ha: the members' control sockets (cutoverctl -s ONE --follow-leader ...),
		# etcd's client URLs and the election's key prefix.
		if ((HA)); then
			printf 'export %s=%q\n' \
				SANDBOX_HA 1 \
				HA_SOCKETS "$(ha_sockets)" \
				HA_ETCD "$(etcd_urls)" \
				HA_PREFIX "$HA_PREFIX"
		fi
		# Only for servers from the roots of tests/roots.sh: without them, the file is as it was.
		[[ $FLAVOR == mariadb ]] || printf 'export %s=%q\n' SANDBOX_FLAVOR "$FLAVOR"
		[[ -z $ROOT_SERVERS ]] || printf 'export %s=%q\n' SANDBOX_ROOT_SERVERS "$ROOT_SERVERS"
		for ((i = 1; i <= N; i++)); do
			[[ -n ${SUITE_OF[i]:-} ]] || continue
			printf 'export %s=%q\n' \
				"DB${i}_ROOT" "$("$ROOTS_SH" path "${SUITE_OF[i]}")" \
				"DB${i}_VERSION" "${VERSION_OF[${SUITE_OF[i]}]}"
		done
	} >"$DIR/env"
}

# ---- commands -----------------------------------------------------------------------------

# Load the settings of the sandbox in $DIR, if there is one.
load_env() {
	[[ -f $DIR/env ]] || return 1
	# set by the file only when the sandbox has them (the caller's may come from another's env)
	unset SANDBOX_PROXYSQL SANDBOX_TENANTS SANDBOX_HA
	# shellcheck source=/dev/null
	. "$DIR/env"
	N=$SANDBOX_N
	BASE_PORT=$SANDBOX_BASE_PORT
	POLL=$SANDBOX_POLL
	PROXYSQL=${SANDBOX_PROXYSQL:-0}
	TENANTS=${SANDBOX_TENANTS:-0}
	HA=${SANDBOX_HA:-0}
	return 0
}

require_sandbox() {
	load_env || die "no sandbox in $DIR (run: sandbox.sh start)"
}

require_root() {
	((EUID == 0)) || die "run as root: the servers run as root and their files belong to it"
}

# Any process of the sandbox in $DIR still alive?
any_running() {
	local i
	hap_pid >/dev/null && return 0
	px_pid >/dev/null && return 0
	if ((HA)); then
		for ((i = 1; i <= HA_MEMBERS; i++)); do
			member_pid "$i" >/dev/null && return 0
		done
		for ((i = 1; i <= HA_ETCDS; i++)); do
			etcd_pid "$i" >/dev/null && return 0
		done
	fi
	for ((i = 1; i <= N; i++)); do
		srv_pid "$i" >/dev/null && return 0
	done
	return 1
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_start_args() {
	local p i prog ports=("$WRITE_PORT" "$READ_PORT")
	int_in "$N" 1 99 || die "SANDBOX_N must be 1..99 (got '$N')"
	[[ $PROXYSQL == [01] ]] || die "SANDBOX_PROXYSQL must be 0 or 1 (got '$PROXYSQL')"
	[[ $HA == [01] ]] || die "SANDBOX_HA must be 0 or 1 (got '$HA')"
	int_in "$TENANTS" 0 50 || die "--tenants must be 1..50 (got '$TENANTS')"
	TENANTS=$((10#$TENANTS))
	[[ -z $EXTRA_BIND || $EXTRA_BIND =~ ^[0-9a-fA-F.:]+(,[0-9a-fA-F.:]+)*$ ]] ||
		die "SANDBOX_EXTRA_BIND must be comma-separated IP addresses (got '$EXTRA_BIND')"
	for p in "$BASE_PORT" "$WRITE_PORT" "$READ_PORT"; do
		int_in "$p" 1024 $((65535 - N)) || die "bad port '$p' (1024..$((65535 - N)))"
	done
	for ((i = 1; i <= N; i++)); do
		ports+=("$(srv_port "$i")")
	done
	if ((PROXYSQL)); then
		check_proxysql_args "${ports[@]}"
		ports+=("$(px_admin_port)" "$(px_port)")
	elif ((TENANTS > 0)); then
		die "--tenants needs --proxysql (tenants move through ProxySQL)"
	fi
	if ((HA)); then
		check_ha_args "${ports[@]}"
		for ((i = 1; i <= HA_ETCDS; i++)); do
			ports+=("$(etcd_port "$i")" "$(etcd_peer_port "$i")")
		done
	fi
	for p in "${ports[@]}"; do
		port_in_use "$p" && die "port $p on 127.0.0.1 is already in use; choose other ports" \
			"(SANDBOX_BASE_PORT, SANDBOX_WRITE_PORT, SANDBOX_READ_PORT)"
	done
	# sockaddr_un holds 107 characters.
	((${#DIR} + 25 <= 107)) || die "SANDBOX_DIR is too long for Unix socket paths: $DIR"
	plan_servers
	if [[ -n ${TEMPLATE_OF[host]+set} ]]; then
		for prog in mariadbd mariadb-install-db mariadb mariadb-admin haproxy socat setsid; do
			command -v "$prog" >/dev/null || die "$prog not found; run tests/deps.sh"
		done
	else
		for prog in mariadb mariadb-admin haproxy socat setsid unshare chroot; do
			command -v "$prog" >/dev/null || die "$prog not found; run tests/deps.sh"
		done
	fi
}

# --proxysql and --tenants, given the sandbox's other ports "$@": ProxySQL's two ports clash with
# none of them (write port + 30 and + 31: with the default ports, 23330 and 23331, clear of the
# servers up to 24 of them), a binary is there, and the servers can take the tenants' setup.
check_proxysql_args() {
	local p q
	for p in "$(px_admin_port)" "$(px_port)"; do
		((p <= 65535)) || die "ProxySQL's port $p (write port + 30, + 31) is beyond 65535; choose a lower write port"
		for q in "$@"; do
			((p != q)) || die "ProxySQL's port $p (write port + $((p - WRITE_PORT))) is also a server's," \
				"the write or the read port; choose ports that do not overlap (with $N servers from" \
				"base port $BASE_PORT: e.g. --write-port $((BASE_PORT + N)) --read-port $((BASE_PORT + N + 1)))"
		done
	done
	if ((TENANTS > 0)); then
		((N >= 3)) || die "--tenants needs at least 3 servers (db1, a replica, the tenants' target; got $N)"
		[[ $FLAVOR == mariadb ]] || die "--tenants needs MariaDB servers (SANDBOX_FLAVOR=$FLAVOR)"
	fi
	find_proxysql
}

# --ha, given the sandbox's other ports "$@": etcd's six ports (write port + 40..45) clash with
# none of them, and etcd, this build's cutoverd and cutoverctl, and jq are there.
check_ha_args() {
	local p q j b
	[[ -f $ETCD_BIN && -x $ETCD_BIN ]] ||
		die "--ha needs etcd, and $ETCD_BIN is missing: tests/deps.sh installs it (Debian's etcd-server;" \
			"or: apt-get install etcd-server)"
	for b in cutoverd cutoverctl; do
		[[ -x $(build_dir)/$b ]] || die "--ha: $(build_dir)/$b is missing; run make all (or set CUTOVER_BUILD)"
	done
	command -v jq >/dev/null || die "--ha: jq not found; run tests/deps.sh"
	for ((j = 1; j <= HA_ETCDS; j++)); do
		for p in "$(etcd_port "$j")" "$(etcd_peer_port "$j")"; do
			((p <= 65535)) || die "etcd's port $p (write port + $((p - WRITE_PORT))) is beyond 65535; choose a lower write port"
			for q in "$@"; do
				((p != q)) || die "etcd's port $p (write port + $((p - WRITE_PORT))) is also a server's, the" \
					"write or the read port or ProxySQL's; choose ports that do not overlap (with $N" \
					"servers from base port $BASE_PORT: e.g. --write-port $((BASE_PORT + N)) --read-port $((BASE_PORT + N + 1)))"
			done
		done
	done
}

# Which server runs from which root: SUITE_OF[i] (empty = the host's mariadbd) from
# SANDBOX_FLAVOR and SANDBOX_ROOT_SERVERS; the keys of TEMPLATE_OF are the kinds needed
# ("host" and the suites), their values set by make_templates.
plan_servers() {
	local want=mariadb e i suite
	SUITE_OF=()
	case $FLAVOR in
	mariadb) ;;
	mysql)
		want=mysql
		for ((i = 1; i <= N; i++)); do
			SUITE_OF[i]=sid
		done
		;;
	*) die "SANDBOX_FLAVOR must be mariadb or mysql (got '$FLAVOR')" ;;
	esac
	for e in ${ROOT_SERVERS//,/ }; do
		[[ $e =~ ^(db)?([0-9]+):([a-z]+)$ ]] ||
			die "SANDBOX_ROOT_SERVERS: '$e' is not I:SUITE (e.g. 3:trixie)"
		i=$((10#${BASH_REMATCH[2]}))
		suite=${BASH_REMATCH[3]}
		((i >= 1 && i <= N)) || die "SANDBOX_ROOT_SERVERS: no server $i (1..$N)"
		suite_kind "$suite"
		[[ $KIND_FLAVOR == "$want" ]] ||
			die "SANDBOX_ROOT_SERVERS: $suite runs $KIND_FLAVOR, and this sandbox is $want (SANDBOX_FLAVOR)"
		SUITE_OF[i]=$suite
	done
	for ((i = 1; i <= N; i++)); do
		TEMPLATE_OF[${SUITE_OF[i]:-host}]=""
	done
}

# The roots the servers need (built on first use: minutes) and every kind's datadir template.
make_templates() {
	local suite
	for suite in "${!TEMPLATE_OF[@]}"; do
		[[ $suite == host ]] && continue
		STEP="tests/roots.sh ensure $suite"
		"$ROOTS_SH" ensure "$suite" >/dev/null || die "no $suite root (tests/roots.sh said why above)"
		VERSION_OF[$suite]=$("$ROOTS_SH" version "$suite") || die "no server version from the $suite root"
		STEP="the datadir template of the $suite root"
		make_root_template "$suite"
		TEMPLATE_OF[$suite]=$TEMPLATE
	done
	if [[ -n ${TEMPLATE_OF[host]+set} ]]; then
		STEP="mariadb-install-db"
		make_template
		TEMPLATE_OF[host]=$TEMPLATE
	fi
}

on_start_exit() {
	local rc=$?
	((START_DONE || rc == 0)) && return 0
	msg "start failed during: $STEP; stopping what was started"
	stop_all || true
	exit "$rc"
}

cmd_start() {
	local i t0 what fresh=$1
	require_root
	t0=$(now_us)
	if [[ -e $DIR ]]; then
		if [[ ! -e $DIR/$MARKER ]]; then
			[[ -z $(ls -A "$DIR") ]] || die "$DIR exists and is not a sandbox; refusing to use it"
		elif ((fresh)); then
			load_env || true
			stop_all
		elif load_env && any_running; then
			msg "a sandbox is already running in $DIR (sandbox.sh status; start --fresh to recreate)"
			return 0
		else
			msg "removing the stopped sandbox left in $DIR"
			load_env || true
			stop_all
		fi
	fi
	# Options given now, not the ones of the sandbox just removed.
	N=$ARG_N BASE_PORT=$ARG_BASE_PORT POLL=$ARG_POLL
	WRITE_PORT=$ARG_WRITE_PORT READ_PORT=$ARG_READ_PORT
	PROXYSQL=$ARG_PROXYSQL TENANTS=$ARG_TENANTS HA=$ARG_HA
	check_start_args

	trap on_start_exit EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$DIR"
	touch "$DIR/$MARKER"
	mkdir -p "$DIR/run" "$DIR/state"
	chmod 0700 "$DIR/state"
	STEP="creating secrets"
	make_secrets
	make_templates
	STEP="starting the servers"
	copy_datadirs
	for ((i = 1; i <= N; i++)); do
		launch_server "$i"
	done
	if ((HA)); then
		STEP="starting etcd"
		launch_etcd
		STEP="starting the servers"
	fi
	rm -rf "$DIR/template" "$DIR"/template-*
	for ((i = 1; i <= N; i++)); do
		wait_server "$i"
	done
	STEP="creating the accounts on db1"
	setup_primary
	STEP="starting replication"
	for ((i = 2; i <= N; i++)); do
		setup_replica "$i"
	done
	STEP="waiting for the replicas"
	wait_replicas_synced
	if ((TENANTS > 0)); then
		STEP="creating the tenant schemas and the tenants' target db$(target)"
		setup_tenants
	fi
	STEP="starting haproxy"
	start_haproxy
	STEP="checking the write path"
	check_write_path
	if ((PROXYSQL)); then
		STEP="starting proxysql"
		start_proxysql
		STEP="checking the path through proxysql"
		check_proxysql_path
	fi
	STEP="writing cutoverd.conf"
	write_cutoverd_conf
	if ((HA)); then
		STEP="waiting for etcd"
		wait_etcd
		STEP="starting the cutoverd members"
		start_members
		STEP="waiting for a member to lead"
		wait_leader
	fi
	write_env
	START_DONE=1
	trap - EXIT INT TERM
	t0=$(($(now_us) - t0))
	what="$N servers and haproxy"
	((PROXYSQL == 0)) || what="$N servers, haproxy and proxysql"
	((HA == 0)) || what+=", etcd and $HA_MEMBERS cutoverd members"
	msg "$(printf '%s up in %d.%02ds: writes on 127.0.0.1:%s, reads on :%s' \
		"$what" $((t0 / 1000000)) $((t0 / 10000 % 100)) "$WRITE_PORT" "$READ_PORT")"
	if ((PROXYSQL)); then
		msg "proxysql $("$PX_BIN" --version 2>/dev/null | sed -n 's/^ProxySQL version \([^ ,]*\).*/\1/p') ($PX_BIN):" \
			"clients on 127.0.0.1:$(px_port), admin on :$(px_admin_port) (user cutadmin," \
			"$DIR/secrets/proxysql-cutadmin.cnf); writer hostgroup $PX_WHG, reader hostgroup $PX_RHG"
	fi
	if ((TENANTS > 0)); then
		msg "tenants $(tenant_name 0)..$(tenant_name $((TENANTS - 1))) on db1; their target: db$(target)" \
			"(cluster target in cutoverd.conf, GTID domain $(target), writable)"
	fi
	if ((HA)); then
		local followers=()
		for ((i = 1; i <= HA_MEMBERS; i++)); do
			[[ m$i == "$HA_LEADER" ]] || followers+=("m$i")
		done
		msg "etcd on 127.0.0.1:$(etcd_port 1),$(etcd_port 2),$(etcd_port 3) (peers :$(etcd_peer_port 1)-$(etcd_peer_port 3))," \
			"data and logs in $(etcd_dir)"
		msg "$HA_LEADER leads (acting); ${followers[*]} follow it (lease_ttl $HA_LEASE_TTL, prefix $HA_PREFIX);" \
			"sockets: $(ha_sockets); logs and configs in $(ha_dir)"
	fi
	for ((i = 1; i <= N; i++)); do
		[[ -z ${SUITE_OF[i]:-} ]] ||
			msg "db$i runs ${VERSION_OF[${SUITE_OF[i]}]} from the ${SUITE_OF[i]} root ($("$ROOTS_SH" path "${SUITE_OF[i]}"))"
	done
	msg "settings: . $DIR/env; cutoverd config: $DIR/cutoverd.conf"
}

# ---- the logs of a stopped sandbox -------------------------------------------------------

# What a person reads after the fact, relative to $DIR: the daemon's log and config, its state
# (the journal of every switchover), each server's error log and console, HAProxy's, ProxySQL's
# log (not its proxysql.cnf: that holds the admin password), and with --ha each member's log,
# config and state directory and each etcd member's log (not its data).
KEPT_LOGS=(cutoverd.log cutoverd.conf state 'db*/error.log' 'db*/console.log' haproxy/haproxy.log
	haproxy/haproxy.cfg proxysql/proxysql.log 'ha/m*.log' 'ha/m*.conf' 'ha/state-m*' 'etcd/e*.log')
KEPT_MARKER=.cutover-sandbox-logs

# They are moved to $DIR.last, replacing what the previous stop kept there (one generation, so
# that test runs do not pile up).  The list of what was kept on stdout; 1 if $DIR.last is not
# ours (then nothing is moved, and the caller must not remove $DIR).
keep_logs() {
	local keep=$DIR.last tmp pat f rel kept=()
	if [[ -e $keep && ! -e $keep/$KEPT_MARKER ]]; then
		msg "$keep exists and was not made by sandbox.sh: move it away, then stop again"
		return 1
	fi
	tmp=$keep.tmp.$$
	mkdir -p "$tmp"
	touch "$tmp/$KEPT_MARKER"
	for pat in "${KEPT_LOGS[@]}"; do
		for f in "$DIR"/$pat; do
			[[ -e $f ]] || continue
			rel=${f#"$DIR"/}
			mkdir -p "$tmp/$(dirname "$rel")"
			mv "$f" "$tmp/$rel"
			kept+=("$rel")
		done
	done
	printf 'sandbox %s stopped at %s\n' "$DIR" "$(date -Is)" >"$tmp/STOPPED"
	rm -rf "${keep:?}"
	mv "$tmp" "$keep"
	echo "${kept[*]}"
}

# Stop every process of the sandbox in $DIR and remove it, keeping its logs in $DIR.last.
stop_all() {
	local i d f pids=() pid kept
	[[ -e $DIR ]] || return 0
	[[ -e $DIR/$MARKER ]] || die "$DIR is not a sandbox (no $MARKER); not touching it"
	# the daemon first (and --ha's members), so that it does not watch the servers go away;
	# every member's config found, also those of a start that failed before writing the env file
	for f in "$DIR"/ha/m*.conf; do
		[[ -f $f ]] || continue
		i=${f##*/m}
		i=${i%.conf}
		[[ $i =~ ^[0-9]+$ ]] || continue
		pid=$(member_pid "$i") && pids+=("$pid")
	done
	pid=$(daemon_pid) && pids+=("$pid")
	terminate_pids "${pids[@]}"
	pids=()
	# then etcd (the members are gone: none can lose its leadership midway) with the rest
	for d in "$DIR"/etcd/e*/; do
		[[ -d $d ]] || continue
		i=${d%/}
		i=${i##*/e}
		[[ $i =~ ^[0-9]+$ ]] || continue
		pid=$(etcd_pid "$i") && pids+=("$pid")
	done
	pid=$(hap_pid) && pids+=("$pid")
	[[ ! -d $(px_dir) ]] || { pid=$(px_pid) && pids+=("$pid"); }
	# Every server directory, also those of a start that failed before writing the env file.
	for d in "$DIR"/db*/; do
		[[ -d $d ]] || continue
		i=${d%/}
		i=${i##*/db}
		[[ $i =~ ^[0-9]+$ ]] || continue
		pid=$(srv_pid "$i") && pids+=("$pid")
	done
	pid=$(find_pid /nonexistent mariadbd "--defaults-file=$DIR/template/my.cnf") && pids+=("$pid")
	# and the installers of the roots' templates
	[[ ! -d $DIR/template-trixie ]] ||
		{ pid=$(find_pid /nonexistent mariadbd "--defaults-file=$DIR/template-trixie/my.cnf") && pids+=("$pid"); }
	[[ ! -d $DIR/template-sid ]] ||
		{ pid=$(find_pid /nonexistent mysqld "--defaults-file=$DIR/template-sid/my.cnf") && pids+=("$pid"); }
	terminate_pids "${pids[@]}"
	kept=$(keep_logs) || die "stopped, but $DIR is left in place: its logs could not be kept"
	rm -rf "$DIR"
	if [[ -n $kept ]]; then
		msg "kept the logs in $DIR.last (until the next stop): $kept"
	else
		msg "nothing to keep in $DIR (no logs yet)"
	fi
}

cmd_stop() {
	require_root
	if [[ ! -e $DIR ]]; then
		msg "no sandbox in $DIR"
		return 0
	fi
	load_env || true
	stop_all
	msg "stopped; removed $DIR"
}

# "running", or "paused" for a process a test stopped with SIGSTOP.
run_state() {
	local stat
	read -r stat <"/proc/$1/stat" 2>/dev/null || stat=""
	stat=${stat##*) }
	[[ ${stat:0:1} == [Tt] ]] && echo paused || echo running
}

# One line per process; exit status 1 if any is not running.
cmd_status() {
	local i pid rc=0
	require_sandbox
	if pid=$(hap_pid); then
		printf '%-8s %-8s pid %-8s port %s\n' haproxy "$(run_state "$pid")" "$pid" \
			"$WRITE_PORT,$READ_PORT"
	else
		printf '%-8s %-8s pid %-8s port %s\n' haproxy stopped - "$WRITE_PORT,$READ_PORT"
		rc=1
	fi
	if ((PROXYSQL)); then
		# admin interface, client interface
		if pid=$(px_pid); then
			printf '%-8s %-8s pid %-8s port %s\n' proxysql "$(run_state "$pid")" "$pid" \
				"$(px_admin_port),$(px_port)"
		else
			printf '%-8s %-8s pid %-8s port %s\n' proxysql stopped - "$(px_admin_port),$(px_port)"
			rc=1
		fi
	fi
	for ((i = 1; i <= N; i++)); do
		if pid=$(srv_pid "$i"); then
			printf '%-8s %-8s pid %-8s port %s\n' "db$i" "$(run_state "$pid")" "$pid" \
				"$(srv_port "$i")"
		else
			printf '%-8s %-8s pid %-8s port %s\n' "db$i" stopped - "$(srv_port "$i")"
			rc=1
		fi
	done
	((HA)) && { ha_status || rc=1; }
	return "$rc"
}

# --ha: etcd's members (client port, peer port), then cutoverd's with the role each one says it
# has; 1 if any is not running.
ha_status() {
	local j m pid info role acting leader what rc=0
	for ((j = 1; j <= HA_ETCDS; j++)); do
		if pid=$(etcd_pid "$j"); then
			printf '%-8s %-8s pid %-8s port %s\n' "e$j" "$(run_state "$pid")" "$pid" \
				"$(etcd_port "$j"),$(etcd_peer_port "$j")"
		else
			printf '%-8s %-8s pid %-8s port %s\n' "e$j" stopped - "$(etcd_port "$j"),$(etcd_peer_port "$j")"
			rc=1
		fi
	done
	for ((m = 1; m <= HA_MEMBERS; m++)); do
		if ! pid=$(member_pid "$m"); then
			printf '%-8s %-8s pid %-8s %s\n' "m$m" stopped - "$(ha_sock "$m")"
			rc=1
			continue
		fi
		if [[ $(run_state "$pid") == paused ]]; then
			what="paused (not asked)"
		elif info=$(member_ha "$m"); then
			read -r role acting leader _ <<<"$info"
			case $role,$acting in
			leader,true) what="leader (acting)" ;;
			leader,*) what="leader (not acting)" ;;
			follower,*) what="follower of $leader" ;;
			*) what="$role (leader: $leader)" ;;
			esac
		else
			what="no answer"
		fi
		printf '%-8s %-8s pid %-8s %-20s %s\n' "m$m" "$(run_state "$pid")" "$pid" "$what" "$(ha_sock "$m")"
	done
	return "$rc"
}

# "m2" or "e3" (--ha's members): sets HA_KIND (m or e) and HA_NUM; 1 if $1 is neither.
ha_arg() {
	[[ ${1-} =~ ^([me])([0-9]+)$ ]] || return 1
	HA_KIND=${BASH_REMATCH[1]} HA_NUM=$((10#${BASH_REMATCH[2]}))
	((HA)) || die "this sandbox has no etcd and members (start --ha)"
	((HA_NUM >= 1 && HA_NUM <= 3)) || die "no member '$1' (m1..m$HA_MEMBERS, e1..e$HA_ETCDS)"
}

# The pid of --ha's member $HA_KIND$HA_NUM (ha_arg).
ha_arg_pid() {
	if [[ $HA_KIND == m ]]; then
		member_pid "$HA_NUM" || die "member m$HA_NUM is not running"
	else
		etcd_pid "$HA_NUM" || die "etcd member e$HA_NUM is not running"
	fi
}

cmd_env() {
	require_sandbox
	cat "$DIR/env"
}

# Server number from "2" or "db2", checked against the sandbox.
server_arg() {
	local i=${1-}
	i=${i#db}
	int_in "$i" 1 "$N" || die "no server '${1-}' (1..$N or db1..db$N)"
	echo "$((10#$i))"
}

cmd_sql() {
	local i
	require_sandbox
	(($# == 2)) || usage
	i=$(server_arg "$1")
	mariadb --defaults-file="$DIR/secrets/cutoverd.cnf" --socket="$(srv_sock "$i")" \
		--connect-timeout=5 -N -B -e "$2"
}

cmd_pid() {
	local i
	require_sandbox
	(($# == 1)) || usage
	if [[ $1 == haproxy ]]; then
		hap_pid || die "haproxy is not running"
		return 0
	fi
	if [[ $1 == proxysql ]]; then
		((PROXYSQL)) || die "this sandbox has no ProxySQL (start --proxysql)"
		px_pid || die "proxysql is not running"
		return 0
	fi
	if ha_arg "$1"; then
		ha_arg_pid
		return 0
	fi
	i=$(server_arg "$1")
	srv_pid "$i" || die "db$i is not running"
}

cmd_kill() {
	local i pid
	require_root
	require_sandbox
	(($# == 1)) || usage
	if ha_arg "$1"; then
		pid=$(ha_arg_pid)
	else
		i=$(server_arg "$1")
		pid=$(srv_pid "$i") || die "db$i is not running"
	fi
	kill -KILL "$pid"
	wait_gone "$pid"
}

cmd_term() {
	local i pid
	require_root
	require_sandbox
	(($# == 1)) || usage
	i=$(server_arg "$1")
	pid=$(srv_pid "$i") || die "db$i is not running"
	terminate_pids "$pid"
}

cmd_restart() {
	local i pid extra=()
	require_root
	require_sandbox
	(($# == 1 || $# == 2)) || usage
	i=$(server_arg "$1")
	srv_kind "$i"
	case ${2-},$KIND_FLAVOR in
	,*) ;;
	--read-only,mysql) extra=(--read-only=ON --super-read-only=ON) ;;
	--writable,mysql) extra=(--read-only=OFF --super-read-only=OFF) ;;
	--read-only,*) extra=(--read-only=ON) ;;
	--writable,*) extra=(--read-only=OFF) ;;
	*) usage ;;
	esac
	if pid=$(srv_pid "$i"); then
		terminate_pids "$pid"
	fi
	launch_server "$i" "${extra[@]}"
	wait_server "$i"
}

main() {
	local command=${1-} fresh=0 args=()
	[[ -n $command ]] || usage
	shift
	DIR=${SANDBOX_DIR:-}
	ARG_N=${SANDBOX_N:-3}
	ARG_BASE_PORT=${SANDBOX_BASE_PORT:-23306}
	ARG_WRITE_PORT=${SANDBOX_WRITE_PORT:-23300}
	ARG_READ_PORT=${SANDBOX_READ_PORT:-}
	ARG_POLL=${SANDBOX_POLL:-1s}
	ARG_PROXYSQL=${SANDBOX_PROXYSQL:-0}
	ARG_TENANTS=${SANDBOX_TENANTS:-0}
	ARG_HA=${SANDBOX_HA:-0}
	CACHE=${SANDBOX_CACHE-/var/tmp/cutoverd-sandbox}
	EXTRA_BIND=${SANDBOX_EXTRA_BIND:-}
	FLAVOR=${SANDBOX_FLAVOR:-mariadb}
	ROOT_SERVERS=${SANDBOX_ROOT_SERVERS:-}
	while (($#)); do
		case $1 in
		--fresh) fresh=1 ;;
		--dir) DIR=${2:?--dir needs a value}; shift ;;
		--servers | -n) ARG_N=${2:?$1 needs a value}; shift ;;
		--base-port) ARG_BASE_PORT=${2:?--base-port needs a value}; shift ;;
		--write-port) ARG_WRITE_PORT=${2:?--write-port needs a value}; shift ;;
		--read-port) ARG_READ_PORT=${2:?--read-port needs a value}; shift ;;
		--poll) ARG_POLL=${2:?--poll needs a value}; shift ;;
		--proxysql) ARG_PROXYSQL=1 ;;
		--tenants) ARG_TENANTS=${2:?--tenants needs a value}; shift ;;
		--ha) ARG_HA=1 ;;
		-h | --help) usage ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	[[ -n $ARG_READ_PORT ]] || ARG_READ_PORT=$((ARG_WRITE_PORT + 1))
	[[ -n $DIR ]] || DIR=$(default_dir)
	DIR=$(realpath -m "$DIR")
	N=$ARG_N BASE_PORT=$ARG_BASE_PORT POLL=$ARG_POLL
	WRITE_PORT=$ARG_WRITE_PORT READ_PORT=$ARG_READ_PORT
	PROXYSQL=0 TENANTS=0 HA=0 PX_BIN=""

	case $command in
	start) ((${#args[@]} == 0)) || usage; cmd_start "$fresh" ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	env) cmd_env ;;
	sql) cmd_sql "${args[@]}" ;;
	pid) cmd_pid "${args[@]}" ;;
	kill) cmd_kill "${args[@]}" ;;
	term) cmd_term "${args[@]}" ;;
	restart) cmd_restart "${args[@]}" ;;
	*) usage ;;
	esac
}

main "$@"
