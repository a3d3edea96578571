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

step "Webhooks: a receiver on 127.0.0.1 (eventsd dev allows private addresses; serve needs WEBHOOKS_ALLOW_PRIVATE=true)"
hook_port=$((20000 + RANDOM % 30000))
receiver_pid=""
if command -v python3 >/dev/null; then
  python3 - "$hook_port" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("receiver got", self.headers.get("webhook-id"), body.decode()[:120], flush=True)
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  receiver_pid=$!
  trap '[ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null' EXIT
  sleep 0.5
else
  echo "(no python3: deliveries go to a closed port and show as retrying)"
fi

step "Subscribe it to user.* (201; the secret is shown only now)"
hook=$(curl -s "${auth[@]}" -X POST "$base/api/webhooks" -H 'Content-Type: application/json' \
  -d "{\"url\":\"http://127.0.0.1:$hook_port/hook\",\"events\":[\"user.*\"],\"description\":\"test-queue.sh\"}")
echo "$hook" | pretty
hook_id=$(echo "$hook" | field id)

step "List subscriptions (no secrets), and read one"
curl -s "${auth[@]}" "$base/api/webhooks?limit=5" | pretty
curl -s "${auth[@]}" "$base/api/webhooks/$hook_id" | pretty

step "An event that matches: user.logged_in is delivered, signed"
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X POST "$base/api/events" \
  -H 'Content-Type: application/json' -d '{"name":"user.logged_in","data":{"userId":"u-1"}}'
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X POST "$base/api/webhooks/$hook_id/test"
sleep 1

step "Delivery attempts: status, duration, response, next retry"
attempts=$(curl -s "${auth[@]}" "$base/api/webhooks/$hook_id/deliveries?limit=5")
echo "$attempts" | pretty
delivery=$(echo "$attempts" | field deliveryId)

step "Send delivery $delivery again (202)"
[ -n "$delivery" ] && curl -s "${auth[@]}" -X POST "$base/api/webhooks/$hook_id/deliveries/$delivery/retry" | pretty

step "Change the patterns, rotate the secret, then delete the subscription (204)"
curl -s "${auth[@]}" -X PATCH "$base/api/webhooks/$hook_id" -H 'Content-Type: application/json' \
  -d '{"events":["user.*","order.created"]}' | pretty
curl -s "${auth[@]}" -X POST "$base/api/webhooks/$hook_id/rotate-secret" | pretty
sleep 1
curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" -X DELETE "$base/api/webhooks/$hook_id"

step "A URL that is not http or https is refused (422; outside dev, so is a private address)"
curl -s "${auth[@]}" -X POST "$base/api/webhooks" -H 'Content-Type: application/json' \
  -d '{"url":"ftp://example.com/","events":["user*"]}' | pretty

step "Lifecycle events, live (Server-Sent Events) for 3 s: an import's progress shows as progress events"
curl -s -N --max-time 3 "$base/api/jobs/events" || true

step "Prometheus metrics (queue depth, webhook deliveries)"
curl -s "$base/metrics" | grep -E '^eventsd_(queue_jobs|webhook_deliveries_total)' || true

printf '\nOpenAPI: %s/api/openapi.json   Swagger UI: %s/api/docs\n' "$base" "$base"
