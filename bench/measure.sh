#!/usr/bin/env bash
# measure.sh: the runs BENCHMARKS.md's summary comes from, in one go, with
# the medians and ranges of each figure. Loopback only; each run stops by
# itself. Use a machine nothing else is busy with: the script records the
# load average before each run, and figures from a busy machine say little.
set -euo pipefail

usage() {
  cat <<'EOF2'
usage: bench/measure.sh [--runs N] [--jobs N] [--redis-url URL] [--out DIR] [--skip-peers]

Runs, N times each (default 5): bench/peers/run.sh (eventsd and BullMQ
interleaved, throughput only), eventsd bench queue (all phases, c=100, --jobs, default
100,000), eventsd bench e2e --store sqlite (the same jobs, c=100) and the queue's Go
benchmark (CPU and allocations per job). Prints a table of medians and
ranges; every run's JSON stays in DIR (default a new /tmp/eventsd-measure.*).
EOF2
}

runs=5 jobs=100000 redis_url=${REDIS_URL:-redis://127.0.0.1:6379/15} out= peers=1
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --redis-url) redis_url=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --skip-peers) peers=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "measure.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
out=${out:-$(mktemp -d /tmp/eventsd-measure.XXXXXX)}
mkdir -p "$out"
echo "== results in $out" >&2
(cd "$root" && go build -o "$out/eventsd" ./cmd/eventsd)
git -C "$root" rev-parse --short HEAD >"$out/commit"

load() { cut -d' ' -f1 /proc/loadavg; }

if [ "$peers" = 1 ]; then
  echo "== bench/peers/run.sh --rounds $runs" >&2
  bash "$root/bench/peers/run.sh" --rounds "$runs" --redis-url "$redis_url" --out "$out/peers" >"$out/peers.txt"
fi

: >"$out/queue.jsonl"
: >"$out/e2e.jsonl"
for r in $(seq "$runs"); do
  echo "== run $r of $runs: bench queue (load $(load))" >&2
  REDIS_URL=$redis_url "$out/eventsd" bench queue --jobs "$jobs" --concurrency 100 --json 2>/dev/null |
    jq -c --arg load "$(load)" '. + {load: $load}' >>"$out/queue.jsonl"
  echo "== run $r of $runs: bench e2e --store sqlite (load $(load))" >&2
  REDIS_URL=$redis_url "$out/eventsd" bench e2e --store sqlite --jobs "$jobs" --concurrency 100 --json 2>/dev/null |
    jq -c --arg load "$(load)" '. + {load: $load}' >>"$out/e2e.jsonl"
done

echo "== go test -bench BenchmarkProcessNoop -count $runs" >&2
(cd "$root" && TEST_REDIS_URL=$redis_url go test -run '^$' -bench BenchmarkProcessNoop \
  -benchtime 200000x -count "$runs" ./queue/) >"$out/gobench.txt"

# median and range of a jq expression over a file of runs
stat() {
  jq -s -r "[.[] | $2] | sort | \"\\(.[length/2|floor])  (\\(.[0])–\\(.[-1]))\"" "$1"
}
{
  echo "eventsd at $(cat "$out/commit"), $runs runs each; median (min–max)"
  echo
  [ "$peers" = 1 ] && sed -n '/^median/,/^ratio/p' "$out/peers.txt" && echo
  for f in processPerSec addPerSec pickupP50Ms pickupP99Ms idlePingP50Ms delayLateP50Ms delayLateP99Ms \
    e2eP50Ms e2eP99Ms commandsPerJob redisCallsPerJob processCpuSeconds redisCpuSeconds idleCommandsPerSec; do
    printf 'queue  %-22s %s\n' "$f" "$(stat "$out/queue.jsonl" ".$f")"
  done
  printf 'queue  %-22s %s\n' "client µs/job" "$(stat "$out/queue.jsonl" '.processCpuSeconds * 1e6 / .jobs | . * 10 | round / 10')"
  printf 'queue  %-22s %s\n' "Redis µs/job" "$(stat "$out/queue.jsonl" '.redisCpuSeconds * 1e6 / .jobs | . * 10 | round / 10')"
  for f in eventsPerSec eventsPerWrite e2eP50Ms e2eP99Ms verified; do
    printf 'e2e    %-22s %s\n' "$f" "$(stat "$out/e2e.jsonl" ".$f")"
  done
  echo
  grep Benchmark "$out/gobench.txt"
  echo
  echo "load average before each run: queue $(jq -r .load "$out/queue.jsonl" | tr '\n' ' '); e2e $(jq -r .load "$out/e2e.jsonl" | tr '\n' ' ')"
} | tee "$out/summary.txt"
