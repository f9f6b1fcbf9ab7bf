#!/bin/sh
# Verify the systemd units with `systemd-analyze verify`, on copies in a temporary directory
# with @SBINDIR@ pointing at a real executable (verify checks that ExecStart= exists).  Any
# message about our units counts as a failure.  Prints PASS, FAIL or (only when
# systemd-analyze is missing) SKIP.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
units="cutoverd.service cutoverd.socket"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "units-check: SKIP: systemd-analyze not found (install the systemd package to run it)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/units-check.XXXXXX") || { echo "units-check: FAIL: mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT INT TERM

# ExecStart=@SBINDIR@/cutoverd must name an existing executable: the built daemon if there is
# one, else /bin/true standing in for it.
mkdir -p "$tmp/sbin" "$tmp/units"
if [ -x "$here/build/cutoverd" ]; then
	exe="$here/build/cutoverd"
else
	exe=/bin/true
fi
ln -s "$exe" "$tmp/sbin/cutoverd"

for u in $units; do
	if [ ! -f "$here/systemd/$u" ]; then
		echo "units-check: FAIL: systemd/$u is missing"
		exit 1
	fi
	sed "s|@SBINDIR@|$tmp/sbin|g" "$here/systemd/$u" > "$tmp/units/$u"
done
if grep -n '@[A-Z_]*@' "$tmp/units/"* >/dev/null; then
	echo "units-check: FAIL: unsubstituted placeholders:"
	grep -n '@[A-Z_]*@' "$tmp/units/"*
	exit 1
fi

# --man=no: the man pages are checked by man-check and are not installed here.
out=$(cd "$tmp/units" && systemd-analyze verify --man=no $units 2>&1)
rc=$?
# Messages about other units (the host's own, in a container) are not ours to judge.
ours=$(printf '%s\n' "$out" | grep -E 'cutoverd\.(service|socket)|units-check\.' || true)

echo "units-check: ExecStart stand-in: $exe"
if [ -n "$out" ]; then
	echo "units-check: systemd-analyze said:"
	printf '%s\n' "$out" | sed 's/^/    /'
fi
if [ $rc -ne 0 ] || [ -n "$ours" ]; then
	echo "units-check: FAIL: systemd-analyze verify exited $rc${ours:+ and warned about our units}"
	exit 1
fi
echo "units-check: PASS: $units verified with $(systemd-analyze --version | head -1)"
exit 0
