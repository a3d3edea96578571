#!/usr/bin/env bash
# run.sh: eventsd's queue benchmark and BullMQ's, interleaved on one Redis
# (eventsd, bullmq, eventsd, bullmq, ...), then a table of every run, the
# medians and eventsd's over BullMQ's. See README.md in this folder.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/peers/run.sh [flags]

  --rounds R         rounds, each one run of eventsd and one of BullMQ (default 5)
  --jobs N           no-op jobs each run adds and processes (default 50000)
  --concurrency C    worker concurrency (default 100)
  --payload-size P   bytes of job data (default 64)
  --redis-url URL    the Redis both use (default $REDIS_URL, else
                     redis://127.0.0.1:6379/15)
  --out DIR          where the results go (default a new /tmp/eventsd-peers.*)

Needs Go, Node 20 or later and npm. Each run keeps to keys under a prefix of
its own and deletes them; nothing else on the Redis is touched, but command
counts are server-wide: use a Redis nothing else is busy with.
EOF
}

rounds=5 jobs=50000 concurrency=100 payload=64
redis_url=${REDIS_URL:-redis://127.0.0.1:6379/15}
out=
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --payload-size) payload=$2; shift 2 ;;
    --redis-url) redis_url=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$jobs" "$concurrency" "$payload"; do
  case $n in ''|*[!0-9]*) echo "run.sh: $n is not a whole number" >&2; exit 2 ;; esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "run.sh: needs Node 20 or later, found $(node --version)" >&2
  exit 1
fi

out=${out:-$(mktemp -d /tmp/eventsd-peers.XXXXXX)}
mkdir -p "$out"
bin=$(mktemp -d /tmp/eventsd-peers-bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT

# One build for every round.
commit=$(git -C "$root" rev-parse --short HEAD)
git -C "$root" diff --quiet HEAD -- . || commit="$commit, with uncommitted changes"
echo "== go build ./cmd/eventsd ($commit)" >&2
(cd "$root" && go build -o "$bin/eventsd" ./cmd/eventsd)

# BullMQ as the lock pins it; npm ci only when node_modules is missing or
# older than the lock.
if [ ! -f "$here/bullmq/node_modules/.package-lock.json" ] ||
  [ "$here/bullmq/package-lock.json" -nt "$here/bullmq/node_modules/.package-lock.json" ]; then
  echo "== npm ci (bench/peers/bullmq)" >&2
  (cd "$here/bullmq" && npm ci --no-audit --no-fund >&2)
fi

# record SYSTEM ROUND LOAD FILE appends one run to results.jsonl.
record() {
  printf '{"round":%d,"system":"%s","load1":"%s","result":%s}\n' "$2" "$1" "$3" "$(cat "$4")" >>"$out/results.jsonl"
}
# fail SYSTEM explains a failed run and stops.
fail() {
  echo "run.sh: the $1 run failed; the end of $out/$1.log:" >&2
  tail -n 20 "$out/$1.log" >&2
  exit 1
}

: >"$out/results.jsonl"
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds: eventsd" >&2
  load=$(cut -d' ' -f1 /proc/loadavg)
  REDIS_URL=$redis_url "$bin/eventsd" bench queue --throughput-only --json \
    --jobs "$jobs" --concurrency "$concurrency" --payload-size "$payload" \
    >"$out/eventsd-$r.json" 2>>"$out/eventsd.log" || fail eventsd
  record eventsd "$r" "$load" "$out/eventsd-$r.json"

  echo "== round $r of $rounds: bullmq" >&2
  load=$(cut -d' ' -f1 /proc/loadavg)
  node "$here/bullmq/bench.mjs" --redis-url "$redis_url" \
    --jobs "$jobs" --concurrency "$concurrency" --payload-size "$payload" \
    >"$out/bullmq-$r.json" 2>>"$out/bullmq.log" || fail bullmq
  record bullmq "$r" "$load" "$out/bullmq-$r.json"
done

echo "eventsd at $commit"
node "$here/report.mjs" "$out/results.jsonl"
echo
echo "Every run's JSON: $out/results.jsonl"
