#!/usr/bin/env bash
# The monitoring files must stay valid and in step with the daemon:
#  - conf/grafana-cutoverd.json is a dashboard (valid JSON, panels with unique ids, a grid
#    position and queries);
#  - conf/prometheus-alerts.yml is a rule file (groups of rules with alert, expr, a severity
#    and a summary);
#  - every cutoverd_* metric either uses is one daemon/metrics*.c writes.
# With promtool (PROMTOOL=/path, or on PATH) the rules are also checked by `promtool check
# rules`, and with METRICS_URL=http://127.0.0.1:9571/metrics a live scrape by `promtool check
# metrics`.  Debian's promtool comes only with the whole Prometheus server (the `prometheus`
# package, ~100 MB with a service that starts), so tests/deps.sh does not install it; the
# format of /metrics itself is checked by the unit tests (tests/check_metrics.c) without it.
set -euo pipefail
cd "$(dirname "$0")/.."
dash=conf/grafana-cutoverd.json
rules=conf/prometheus-alerts.yml
fail=0

if ! command -v python3 >/dev/null; then
	echo "metrics-check: SKIP: python3 is needed to read the JSON and YAML files"
	exit 0
fi

python3 - "$dash" <<'EOF' || fail=1
import json, sys
path = sys.argv[1]
try:
    d = json.load(open(path))
except ValueError as e:
    sys.exit(f"metrics-check: {path}: not valid JSON: {e}")
bad = []
if not d.get("title") or not d.get("uid"):
    bad.append("no title or uid")
ids = set()
for p in d.get("panels", []):
    pid = p.get("id")
    if pid in ids:
        bad.append(f"panel id {pid} twice")
    ids.add(pid)
    g = p.get("gridPos", {})
    if not all(k in g for k in ("x", "y", "w", "h")) or g["x"] + g["w"] > 24:
        bad.append(f"panel {pid} ({p.get('title')}): bad gridPos {g}")
    if p.get("type") != "row" and not all(t.get("expr") for t in p.get("targets", [None]) if t is not None):
        bad.append(f"panel {pid} ({p.get('title')}): a target without expr")
    if p.get("type") != "row" and not p.get("targets"):
        bad.append(f"panel {pid} ({p.get('title')}): no targets")
if not ids:
    bad.append("no panels")
for b in bad:
    print(f"metrics-check: {path}: {b}")
sys.exit(1 if bad else 0)
EOF

if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$rules" <<'EOF' || fail=1
import sys, yaml
path = sys.argv[1]
try:
    doc = yaml.safe_load(open(path))
except yaml.YAMLError as e:
    sys.exit(f"metrics-check: {path}: not valid YAML: {e}")
bad, names = [], set()
for g in doc.get("groups", []):
    if not g.get("name") or not g.get("rules"):
        bad.append("a group without name or rules")
    for r in g.get("rules", []):
        a = r.get("alert")
        if not a or not r.get("expr"):
            bad.append(f"rule {a}: no alert name or expr")
        if a in names:
            bad.append(f"alert {a} twice")
        names.add(a)
        if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            bad.append(f"alert {a}: severity must be critical, warning or info")
        if not r.get("annotations", {}).get("summary"):
            bad.append(f"alert {a}: no summary")
        extra = set(r) - {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        if extra:
            bad.append(f"alert {a}: unknown keys {sorted(extra)}")
if not names:
    bad.append("no rules")
for b in bad:
    print(f"metrics-check: {path}: {b}")
sys.exit(1 if bad else 0)
EOF
else
	echo "metrics-check: note: python3 has no yaml module; $rules is checked only by promtool (if present)"
fi

# The metrics the daemon writes: the string literals of metrics*.c.
written=$(grep -ohE '"cutoverd_[a-z_]+"' daemon/metrics*.c | tr -d '"' | sort -u)
[ -n "$written" ] || { echo "metrics-check: no metric names found in daemon/metrics*.c"; exit 1; }
used=$(grep -ohE 'cutoverd_[a-z_]+' "$dash" "$rules" | sort -u)
for m in $used; do
	base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$m")
	if ! grep -qx "$m" <<<"$written" && ! grep -qx "$base" <<<"$written"; then
		echo "metrics-check: $m is used by the dashboard or the rules but daemon/metrics*.c does not write it"
		fail=1
	fi
done

promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -n "$promtool" ]; then
	"$promtool" check rules "$rules" >/dev/null || { "$promtool" check rules "$rules"; fail=1; }
	if [ -n "${METRICS_URL:-}" ]; then
		out=$(curl -fsS --max-time 5 "$METRICS_URL" | "$promtool" check metrics 2>&1) ||
			{ echo "metrics-check: $METRICS_URL: $out"; fail=1; }
		[ -z "$out" ] || { echo "metrics-check: $METRICS_URL: $out"; fail=1; }
	fi
	how="and promtool"
else
	how="(no promtool: PROMTOOL=/path to add its checks)"
fi
if [ "$fail" -eq 0 ]; then
	echo "metrics-check: PASS: dashboard, $(grep -c '^      - alert:' "$rules") alert rules, $(wc -w <<<"$used") metric names in step with daemon/metrics*.c $how"
fi
exit "$fail"
