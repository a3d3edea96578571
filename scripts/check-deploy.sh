#!/usr/bin/env bash
# Checks the shipped monitoring files with promtool (Debian's prometheus
# package, offline): the alert rules parse, their unit tests pass (each
# alert fires when it should and not on a healthy queue), and every PromQL
# expression of the Grafana dashboard parses, with Grafana's variables
# replaced by values. That every metric they name exists in a real eventsd
# is cmd/eventsd's TestDeployFilesNameRealMetrics.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
  apt-get update -qq && apt-get install -y -qq prometheus >/dev/null
fi
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each panel's expression as a recording rule, so that promtool parses it.
node - deploy/grafana/eventsd.json > "$tmp/dashboard-rules.yml" <<'JS'
const fs = require('fs');
const dash = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const lines = ['groups:', '  - name: dashboard', '    rules:'];
let n = 0;
for (const p of dash.panels) {
  for (const t of p.targets || []) {
    const expr = t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$queue', '.*');
    lines.push(`      - record: dashboard:panel_${p.id}_${t.refId}`, `        expr: ${JSON.stringify(expr)}`);
    n++;
  }
}
if (n === 0) throw new Error('the dashboard has no expressions');
console.log(lines.join('\n'));
JS
promtool check rules "$tmp/dashboard-rules.yml"
echo "check-deploy: passed"
