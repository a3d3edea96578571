#!/usr/bin/env bash
# check-api.sh: the API's contract, checked against the real binary. For an
# eventsd dev without tokens and one with every token and a CORS origin, it
#   1. fuzzes the API from its own OpenAPI document (scripts/apifuzz): no 5xx,
#      no error body that is not a problem document, no undocumented status;
#   2. lints that document with Redocly's recommended rules (the version
#      pinned in scripts/lint): 0 errors and 0 warnings.
# Loopback only, bounded: APIFUZZ_REQUESTS requests (default 3000) per server.
# Needs Go, Node.js and npm (it installs scripts/lint's packages).
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${APIFUZZ_REQUESTS:-3000}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/eventsd" ./cmd/eventsd
go build -o "$work/apifuzz" ./scripts/apifuzz
npm ci --prefix scripts/lint --no-audit --no-fund --loglevel=error >/dev/null
redocly=scripts/lint/node_modules/.bin/redocly

# start NAME ENV...: eventsd dev on a free loopback port, in the background.
start() {
  local name=$1; shift
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi # taken
    env "$@" HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/$name-data" LOG_LEVEL=warn \
      "$work/eventsd" dev >"$work/$name.log" 2>&1 &
    pid=$!
    sleep 0.5
    if kill -0 "$pid" 2>/dev/null; then return 0; fi
    wait "$pid" 2>/dev/null || true
    pid=""
  done
  echo "check-api: eventsd dev did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

# check NAME FUZZFLAGS ENV...
check() {
  local name=$1 flags=$2; shift 2
  echo "-- $name"
  start "$name" "$@"
  # shellcheck disable=SC2086
  "$work/apifuzz" -url "http://127.0.0.1:$port" -n "$requests" -wait 30s -timeout 5m \
    -openapi-out "$work/$name.json" $flags || { echo "check-api: fuzz found problems ($name); server log:" >&2; tail -50 "$work/$name.log" >&2; exit 1; }
  stop
  "$redocly" lint --format=json "$work/$name.json" >"$work/$name-lint.json" 2>/dev/null || true
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = r.totals;
    for (const p of r.problems) console.log(`  ${p.severity} ${p.ruleId}: ${p.message} (${p.location.map(l => l.pointer).join(", ")})`);
    console.log(`redocly lint (recommended): ${t.errors} errors, ${t.warnings} warnings`);
    process.exit(t.errors + t.warnings === 0 ? 0 : 1);
  ' "$work/$name-lint.json"
}

check open ""
check tokens "-token fuzz-write -read-token fuzz-read -metrics-token fuzz-metrics" \
  API_TOKEN=fuzz-write API_READ_TOKEN=fuzz-read METRICS_TOKEN=fuzz-metrics CORS_ALLOWED_ORIGINS=https://app.example.com
echo "check-api: passed"
