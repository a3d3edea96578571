#!/usr/bin/env bash
# A soak of `eventsd serve`: steady load for a while, then checks that it
# stayed level. Loopback only; it starts a Redis of its own (so that Redis's
# used_memory is eventsd's alone) and keeps every file under --out.
#
#   bash scripts/soak.sh --duration 10m --out DIR
#
# Options (defaults in brackets):
#   --duration D     how long the load runs [10m]
#   --warmup D       samples before this are not checked [1m; 30s when --duration is under 5m]
#   --out DIR        where samples.csv, run.json, report.txt, soak.svg and logs go [required]
#   --store S        sqlite or postgres [sqlite]
#   --database-url U PostgreSQL database for --store postgres; the soak uses a schema of its
#                    own in it and drops it after [postgres://postgres@127.0.0.1:5432/test]
#   --jobs-rate N    jobs added a second [2000]
#   --http-rate N    HTTP requests a second [500]
#   --sse N          SSE clients attached [20]
#   --worker-concurrency N   eventsd's WORKER_CONCURRENCY: jobs run at once, whose event
#                    writes share one insert [1000]
#
# Exit status 0 when every check passed (see DIR/report.txt), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10m warmup= out= store=sqlite dburl=postgres://postgres@127.0.0.1:5432/test
jobs=2000 httprate=500 sse=20 conc=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --database-url) dburl=$2; shift 2 ;;
    --jobs-rate) jobs=$2; shift 2 ;;
    --http-rate) httprate=$2; shift 2 ;;
    --sse) sse=$2; shift 2 ;;
    --worker-concurrency) conc=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "soak: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "soak: --out DIR is required" >&2; exit 2; }
case "$store" in sqlite|postgres) ;; *) echo "soak: --store is sqlite or postgres" >&2; exit 2 ;; esac
if [ -z "$warmup" ]; then
  secs=$(go run ./scripts/soak/seconds "$duration" 2>/dev/null || echo 600)
  if [ "$secs" -lt 300 ]; then warmup=30s; else warmup=1m; fi
fi
command -v redis-server >/dev/null || { echo "soak: needs redis-server on PATH" >&2; exit 1; }

mkdir -p "$out/bin" "$out/data"
out=$(cd "$out" && pwd)
echo "soak: building into $out/bin"
go build -o "$out/bin/eventsd" ./cmd/eventsd
go build -o "$out/bin/soak" ./scripts/soak

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(freeport)
hport=$(freeport)

pids=()
schema=
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    kill "${pids[$i]}" 2>/dev/null && wait "${pids[$i]}" 2>/dev/null || true
  done
  if [ -n "$schema" ]; then psql -q "$dburl" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$out/data" \
  --logfile "$out/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done

env=(REDIS_URL="redis://127.0.0.1:$rport/0" HOST=127.0.0.1 PORT="$hport" LOG_LEVEL=warn
  CRON_MOCK_DATA=off SSE_MAX_STREAMS=1000 WORKER_CONCURRENCY="$conc")
case "$store" in
  sqlite)
    env+=(EVENTS_STORE=sqlite DATA_DIR="$out/data")
    verify=(--sqlite "$out/data/events.db") ;;
  postgres)
    schema="soak_$(date +%s)_$$"
    psql -q "$dburl" -c "CREATE SCHEMA $schema" >/dev/null
    sep='?'; case "$dburl" in *\?*) sep='&' ;; esac
    pgurl="$dburl${sep}search_path=$schema"
    env+=(EVENTS_STORE=postgres DATABASE_URL="$pgurl")
    verify=(--postgres "$pgurl") ;;
esac
env "${env[@]}" "$out/bin/eventsd" serve > "$out/eventsd.log" 2>&1 &
epid=$!
pids+=($epid)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$hport/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$hport/readyz" >/dev/null || { echo "soak: eventsd did not start; see $out/eventsd.log" >&2; exit 1; }

echo "soak: $duration of $jobs jobs/s, $httprate HTTP req/s, $sse SSE clients; $store store; eventsd pid $epid"
"$out/bin/soak" run --url "http://127.0.0.1:$hport" --redis "redis://127.0.0.1:$rport/0" --out "$out" \
  --duration "$duration" --warmup "$warmup" --jobs-rate "$jobs" --http-rate "$httprate" --sse "$sse"

kill -TERM "$epid"
wait "$epid" || { echo "soak: eventsd exited with status $?" >&2; }
"$out/bin/soak" verify --out "$out" "${verify[@]}"
