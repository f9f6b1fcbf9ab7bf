# bash completion for cutoverctl                                        -*- shell-script -*-
#
# Commands and options come from the cutoverctl being completed (`cutoverctl help` and
# `cutoverctl help COMMAND`, read once per shell and program), so they never fall behind it.
# Cluster, server and ProxySQL router names come from the daemon (`cutoverctl --json config`, on
# the socket given with -s or $CUTOVERD_SOCKET, with a 500 ms limit and errors discarded): no
# daemon, no names.
# Installed as /usr/share/bash-completion/completions/cutoverctl; works without bash-completion
# too (it only uses COMP_WORDS and COMP_CWORD).

# The program's help, parsed: _cutoverctl_cmds (the commands) and the global options in
# _cutoverctl_opts[" global"] ("-s= --socket= -j --json ..."; '=' marks one that takes a value).
# A command's own options join _cutoverctl_opts[CMD] when first needed (_cutoverctl_cmd_opts).
_cutoverctl_load() {
	local prog=$1 line
	[[ ${_cutoverctl_prog-} == "$prog" ]] && return 0
	declare -gA _cutoverctl_opts=()
	declare -ga _cutoverctl_cmds=()
	local help section=""
	help=$("$prog" --help 2>/dev/null) || return 1
	while IFS= read -r line; do
		case $line in
		commands:*) section=cmds; continue ;;
		options*) section=opts; continue ;;
		"") section=""; continue ;;
		esac
		if [[ $section == cmds && $line =~ ^\ \ ([a-z]+)(\ |$) ]]; then
			_cutoverctl_cmds+=("${BASH_REMATCH[1]}")
		elif [[ $section == opts && $line =~ ^\ \ - ]]; then
			_cutoverctl_opt_line "$line"
			_cutoverctl_opts[" global"]+=$REPLY
		fi
	done <<<"$help"
	_cutoverctl_prog=$prog
}

# "  -C, --cluster NAME   the cluster" -> "-C= --cluster= ";  "  --dry-run  ..." -> "--dry-run ";
# a value given as its choices ("  --by schema|user") takes a value too; in REPLY (no subshell:
# this runs for every option line).
_cutoverctl_opt_line() {
	local -a f
	local names=() i arg=""
	read -r -a f <<<"$1"
	for ((i = 0; i < ${#f[@]}; i++)); do
		case ${f[i]} in
		-*) names+=("${f[i]%,}") ;;
		*) [[ ${f[i]} =~ ^[A-Z]+$ || ${f[i]} =~ ^[a-z]+(\|[a-z]+)+$ ]] && arg="="; break ;;
		esac
	done
	REPLY=""
	for i in "${names[@]}"; do
		REPLY+="$i$arg "
	done
}

# A command's options into _cutoverctl_opts[CMD], once: those of its option lines, and those its
# usage line names ([--limit N], [--by schema|user]).
_cutoverctl_cmd_opts() {
	local prog=$1 cmd=$2 line found=" " rest
	[[ -z $cmd || -n ${_cutoverctl_opts[$cmd]+set} ]] && return 0
	while IFS= read -r line; do
		if [[ $line == usage:* ]]; then
			rest=$line
			while [[ $rest =~ \[(--[a-z-]+)(\ [A-Z]+|\ [a-z]+(\|[a-z]+)+)?\](.*) ]]; do
				found+="${BASH_REMATCH[1]}${BASH_REMATCH[2]:+=} "
				rest=${BASH_REMATCH[4]}
			done
		elif [[ $line =~ ^\ \ - ]]; then
			_cutoverctl_opt_line "$line"
			found+=$REPLY
		fi
	done < <("$prog" help "$cmd" 2>/dev/null)
	_cutoverctl_opts[$cmd]=$found
}

# "cluster NAME", "server NAME" and "router NAME" (ProxySQL routers only: what --router takes)
# lines from the daemon's running configuration.
_cutoverctl_names() {
	local prog=$1 sock=$2
	local -a args=(--json --timeout 500)
	[[ -n $sock ]] && args=(--socket "$sock" "${args[@]}")
	"$prog" "${args[@]}" config 2>/dev/null </dev/null | awk '
	# a small JSON walker: the "name" of each object in the top-level "clusters" and "servers",
	# and of each "routers" object whose "type" is "proxysql" (the objects and arrays nested in
	# them, such as the "server_map" and "tenant_hostgroups" of a router, are stepped over)
	{ s = s $0 "\n" }
	END {
		n = length(s); depth = 0
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (c == "\"") {
				str = ""
				for (j = i + 1; j <= n; j++) {
					d = substr(s, j, 1)
					if (d == "\\") { str = str substr(s, j, 2); j++; continue }
					if (d == "\"") break
					str = str d
				}
				i = j
				for (k = i + 1; k <= n && substr(s, k, 1) ~ /[ \t\r\n]/; k++)
					;
				if (substr(s, k, 1) == ":") { key[depth] = str; i = k; continue }
				if (depth == 3 && key[3] == "name" && key[1] == "clusters")
					print "cluster", str
				else if (depth == 3 && key[3] == "name" && key[1] == "servers")
					print "server", str
				else if (depth == 3 && key[3] == "name" && key[1] == "routers")
					rname = str
				else if (depth == 3 && key[3] == "type" && key[1] == "routers")
					rtype = str
			} else if (c == "{" || c == "[") {
				key[++depth] = ""
			} else if (c == "}" || c == "]") {
				if (c == "}" && depth == 3 && key[1] == "routers") {
					if (rtype == "proxysql" && rname != "")
						print "router", rname
					rname = rtype = ""
				}
				depth--
			}
		}
	}'
}

# The names of one kind ("cluster", "server" or "router") into COMPREPLY, filtered by $cur.
_cutoverctl_reply_names() {
	local kind=$1 k name names=()
	while IFS=' ' read -r k name; do
		[[ $k == "$kind" ]] && names+=("$name")
	done < <(_cutoverctl_names "$prog" "$sock")
	mapfile -t COMPREPLY < <(compgen -W "${names[*]}" -- "$cur")
}

# The options in "$@" (words with '=' marks, repeats dropped) that start with $cur into COMPREPLY.
_cutoverctl_reply_opts() {
	local o list=() all
	local -A seen=()
	read -r -a all <<<"$*"
	for o in "${all[@]}"; do
		o=${o%=}
		[[ -n ${seen[$o]-} ]] && continue
		seen[$o]=1
		list+=("$o")
	done
	mapfile -t COMPREPLY < <(compgen -W "${list[*]}" -- "$cur")
}

# Does option $1 take a value, among the options of command $2 (and the global ones)?
_cutoverctl_takes_value() {
	local o
	for o in ${_cutoverctl_opts[" global"]} ${2:+${_cutoverctl_opts[$2]}}; do
		[[ $o == "$1=" ]] && return 0
	done
	return 1
}

_cutoverctl() {
	local prog=${COMP_WORDS[0]} cword=$COMP_CWORD cur prev cmd="" sock=${CUTOVERD_SOCKET-} i w opt nargs=0
	local -a words=("${COMP_WORDS[@]}")
	COMPREPLY=()
	cur=${words[cword]-}
	prev=${words[cword - 1]-}
	# "--to=db" is split by bash at '=': the option is before it
	if [[ $cur == "=" ]]; then
		cur="" prev=${words[cword - 1]}
	elif [[ $prev == "=" ]]; then
		prev=${words[cword - 2]}
	fi
	[[ $prog == */* || -n $(type -P "$prog") ]] || prog=cutoverctl
	_cutoverctl_load "$prog" || return 0

	# the command, and the socket to ask for names, from the words before this one
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		[[ $w == "=" ]] && continue
		if [[ $w == -* ]]; then
			opt=${w%%=*}
			if [[ $opt == -s || $opt == --socket ]]; then
				if [[ $w == *=* ]]; then
					sock=${w#*=}
				elif ((i + 1 < cword)); then
					[[ ${words[i + 1]} == "=" ]] && ((i++))
					sock=${words[i + 1]}
				fi
			fi
			if [[ $w != *=* ]] && _cutoverctl_takes_value "$opt" "$cmd"; then
				[[ ${words[i + 1]-} == "=" ]] && ((i++))
				((i++))
			fi
			continue
		fi
		if [[ -z $cmd ]]; then
			cmd=$w
			[[ " ${_cutoverctl_cmds[*]} " == *" $cmd "* ]] && _cutoverctl_cmd_opts "$prog" "$cmd"
		else
			((nargs++))   # the command's own words: move's first is what it moves
		fi
	done

	# the value of an option
	if [[ $prev == -* ]] && _cutoverctl_takes_value "$prev" "$cmd"; then
		case $prev in
		-C | --cluster) _cutoverctl_reply_names cluster ;;
		--to) _cutoverctl_reply_names server ;;
		--router) _cutoverctl_reply_names router ;;
		-s | --socket | --tenants-file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		--pause-before) mapfile -t COMPREPLY < <(compgen -W "drain catchup fence sync promote" -- "$cur") ;;
		--by) mapfile -t COMPREPLY < <(compgen -W "schema user" -- "$cur") ;;
		--on-failure) mapfile -t COMPREPLY < <(compgen -W "stop continue" -- "$cur") ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		_cutoverctl_reply_opts "${_cutoverctl_opts[" global"]}" ${cmd:+"${_cutoverctl_opts[$cmd]-}"}
		return 0
	fi
	case $cmd in
	"") mapfile -t COMPREPLY < <(compgen -W "${_cutoverctl_cmds[*]}" -- "$cur") ;;
	help) mapfile -t COMPREPLY < <(compgen -W "${_cutoverctl_cmds[*]}" -- "$cur") ;;
	status | topology | watch) _cutoverctl_reply_names cluster ;;
	fence | unfence | stonith) _cutoverctl_reply_names server ;;
	move) ((nargs == 0)) && mapfile -t COMPREPLY < <(compgen -W "tenant" -- "$cur") ;;
	esac
	return 0
}

complete -F _cutoverctl cutoverctl
