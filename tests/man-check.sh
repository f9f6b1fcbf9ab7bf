#!/usr/bin/env bash
# The man pages must render without warnings and must not fall behind the code: every API
# command is documented in cutoverd-api(7) and reachable from cutoverctl(1), and every config
# key the parser knows is in cutoverd.conf(5).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for page in man/*.[1-8]; do
	out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null) || true
	if [ -n "$out" ]; then
		echo "man-check: $page: groff warnings:"; echo "$out"; fail=1
	fi
	if ! MANWIDTH=80 man -l "$page" >/dev/null 2>&1; then
		echo "man-check: $page: man -l cannot render it"; fail=1
	fi
done
commands=$(sed -n 's/^\t{ "\([a-z_]*\)", CMD_.*/\1/p' lib/cmdtab.c)
[ -n "$commands" ] || { echo "man-check: no commands found in lib/cmdtab.c"; exit 1; }
for c in $commands; do
	grep -q "^\.B[RI]* *\"*$c\b\|^\.TP.*\b$c\b\|\\\\fB$c\\\\fR\|^\.SS.*\b$c\b\|^\.B $c" man/cutoverd-api.7 ||
		{ echo "man-check: cutoverd-api(7) does not document the command '$c'"; fail=1; }
done
for c in $(sed -n 's/^\t{ "\([a-z_]*\)", CMD_.*/\1/p' lib/cmdtab.c | grep -v '^events$\|^config$'); do
	grep -q "\b$c\b" man/cutoverctl.1 || { echo "man-check: cutoverctl(1) does not mention '$c'"; fail=1; }
done
# every key of the parser's key tables (config_keys.c: .name = "…", DUR("…", INT("…", SECRETS("…" …)
keys=$(grep -oE '(\.name = |DUR\(|INT\(|FUNC\(|BOOL\(|ENUM\(|SECRETS\(|EXEC_KEY\()"[a-z0-9_]+"' daemon/config_keys.c |
	sed -E 's/.*"([a-z0-9_]+)"/\1/' | sort -u)
[ -n "$keys" ] || { echo "man-check: no config keys found in daemon/config_keys.c"; exit 1; }
for k in $keys; do
	grep -q "\b$k\b" man/cutoverd.conf.5 || { echo "man-check: cutoverd.conf(5) does not document '$k'"; fail=1; }
done
if [ "$fail" -eq 0 ]; then
	echo "man-check: PASS: $(ls man/*.[1-8] | wc -l) pages render; $(wc -w <<<"$commands") commands and $(wc -w <<<"$keys") config keys documented"
fi
exit "$fail"
