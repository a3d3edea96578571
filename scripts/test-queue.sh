#!/usr/bin/env bash
# test-queue.sh walks through every endpoint of a running eventsd with curl,
# as the seed's script of the same name did. Start eventsd first:
#
#   go run ./cmd/eventsd dev
#
# then run: bash scripts/test-queue.sh [base-url]   (default http://localhost:9000)
# Set API_TOKEN if the server requires one. Needs curl; uses jq when present.
set -euo pipefail
base=${1:-http://localhost:9000}
auth=()
[ -n "${API_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $API_TOKEN")
pretty() { if command -v jq >/dev/null; then jq .; else cat; echo; fi; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -1; }

step "Health: each dependency up or down, with latency"
curl -s "$base/api/events/health" | pretty

step "Queue and event statistics"
curl -s "$base/api/events/stats" | pretty

step "The newest 5 events (the cron job adds one every 2 s)"
page=$(curl -s "$base/api/events?limit=5")
echo "$page" | pretty

step "The next page, through the cursor"
cursor=$(echo "$page" | field nextCursor)
[ -n "$cursor" ] && curl -s "$base/api/events?limit=5&cursor=$cursor" | pretty

step "Create an event (201, Location header)"
created=$(curl -s -D /dev/stderr "${auth[@]}" -X POST "$base/api/events" \
  -H 'Content-Type: application/json' -d '{"name":"user.signed_up"}')
echo "$created" | pretty
id=$(echo "$created" | field id)

step "Read it back"
curl -s "$base/api/events/$id" | pretty

step "Filter by name"
curl -s "$base/api/events?name=user.signed_up&limit=3" | pretty

step "Generate 5 mock-data jobs (202 with their ids)"
jobs=$(curl -s "${auth[@]}" -X POST "$base/api/events/generate-mock" \
  -H 'Content-Type: application/json' -d '{"count":5}')
echo "$jobs" | pretty
job=$(echo "$jobs" | sed -n 's/.*"jobIds":\["\([^"]*\)".*/\1/p')

step "Follow job $job (a completed job is removed; its 404 names its event)"
sleep 1
curl -s "$base/api/jobs/$job" | pretty

# ago N: the time N minutes ago, RFC 3339 (GNU or BSD date).
ago() { date -u -d "-$1 minutes" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v-"$1"M +%Y-%m-%dT%H:%M:%SZ; }

step "Import events in a batch, two of them from the past (202 with the job's id)"
imported=$(curl -s -D /dev/stderr "${auth[@]}" -X POST "$base/api/events/batch" -H 'Content-Type: application/json' -d '{"events":[
  {"name":"order.placed","createdAt":"'"$(ago 10)"'","data":{"orderId":"o-1"}},
  {"name":"order.placed","createdAt":"'"$(ago 9)"'","data":{"orderId":"o-2"}},
  {"name":"user.signed_up"}]}')
echo "$imported" | pretty
importJob=$(echo "$imported" | field jobId)

step "Follow the import job: progress 0-100, then its result {\"inserted\": n} (kept for a day)"
sleep 1
curl -s "$base/api/jobs/$importJob" | pretty

step "A batch with bad events: nothing is imported, and each bad event is named by its index"
curl -s "${auth[@]}" -X POST "$base/api/events/batch" -H 'Content-Type: application/json' \
  -d '{"events":[{"name":"ok"},{"name":"  "},{"name":"later","createdAt":"2999-01-01T00:00:00Z"}]}' | pretty

step "Events per minute over the last 15 minutes, from the stored counts (the import recounted its closed minutes)"
curl -s "$base/api/events/counts?from=$(ago 15)" | pretty

step "The same for one name"
curl -s "$base/api/events/counts?from=$(ago 15)&name=order.placed" | pretty

step "Failed jobs (kept for inspection)"
curl -s "$base/api/jobs?state=failed&limit=5" | pretty

step "Pause the queue, look at the counts, resume"
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X POST "$base/api/queue/pause"
curl -s "$base/api/events/stats" | pretty
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X POST "$base/api/queue/resume"

step "Schedules: last and next run"
curl -s "$base/api/schedules" | pretty

step "Delete the event we created (204), then read it (404)"
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X DELETE "$base/api/events/$id"
curl -s "$base/api/events/$id" | pretty

step "Bad input gets RFC 9457 problem JSON with a 4xx"
curl -s "$base/api/events?limit=0" | pretty
curl -s "$base/api/events/not-an-id" | pretty
curl -s "${auth[@]}" -X POST "$base/api/events" -H 'Content-Type: application/json' -d '{"name":"  "}' | pretty
curl -s "${auth[@]}" -X POST "$base/api/events" -H 'Content-Type: application/json' -d '{"name":' | pretty

step "Lifecycle events, live (Server-Sent Events) for 3 s: an import's progress shows as progress events"
curl -s -N --max-time 3 "$base/api/jobs/events" || true

step "Prometheus metrics (queue depth)"
curl -s "$base/metrics" | grep '^eventsd_queue_jobs' || true

printf '\nOpenAPI: %s/api/openapi.json   Swagger UI: %s/api/docs\n' "$base" "$base"
