package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDevAcceptance is the acceptance, tried as a new user would:
// `eventsd dev` with nothing installed and the default schedule, events
// arriving from the cron job, every endpoint answering with the promised
// shapes, bad input answered with 4xx problems, a clean exit on SIGTERM and
// the events still there after a restart on the same data directory.
func TestDevAcceptance(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir}
	p := start(t, "dev", "dev", env)

	if log := p.log.String(); !strings.Contains(log, "dev: queue state in") {
		t.Errorf("dev does not say at start-up where it keeps the queue's state; log:\n%s", log)
	}

	// The default schedule (*/2 * * * * *) adds a mock-data job every 2 s,
	// and the worker turns each into an event with the job's id.
	var cron []event
	eventually(t, 30*time.Second, "two events from the cron job", func() (bool, string) {
		cron = cron[:0]
		for _, e := range p.allEvents("") {
			if strings.HasPrefix(e.JobID, "cron-") {
				cron = append(cron, e)
			}
		}
		return len(cron) >= 2, fmt.Sprintf("%d cron events", len(cron))
	})
	seen := map[string]bool{}
	for _, e := range cron {
		checkEvent(t, "cron event", e)
		slot, err := strconv.ParseInt(strings.TrimPrefix(e.JobID, "cron-"), 10, 64)
		if err != nil || slot%2000 != 0 {
			t.Errorf("cron job id %q is not cron-<slot ms> on the 2 s schedule", e.JobID)
		}
		if seen[e.JobID] || seen[e.ID] {
			t.Errorf("event %s or job %s seen twice", e.ID, e.JobID)
		}
		seen[e.JobID], seen[e.ID] = true, true
	}

	t.Run("health", func(t *testing.T) {
		status, h := p.health()
		if status != http.StatusOK || h.Status != "up" || !h.depsAre(map[string]string{"redis": "up", "sqlite": "up"}) {
			t.Errorf("health: %d %+v, want 200 with redis and sqlite up, each with a latency", status, h)
		}
		if h.Version != testVersion {
			t.Errorf("health version %q, want %q", h.Version, testVersion)
		}
		p.getJSON("/healthz", http.StatusOK, nil)
		p.getJSON("/readyz", http.StatusOK, nil)
	})

	t.Run("list and page", func(t *testing.T) {
		var page eventPage
		a := p.getJSON("/api/events", http.StatusOK, &page)
		var raw map[string]json.RawMessage
		json.Unmarshal(a.Body, &raw)
		if _, ok := raw["items"]; !ok {
			t.Errorf("GET /api/events: no items field: %s", a)
		}
		for i, e := range page.Items {
			checkEvent(t, "listed event", e)
			if i > 0 && page.Items[i-1].CreatedAt < e.CreatedAt {
				t.Errorf("events not newest first: %s before %s", page.Items[i-1].CreatedAt, e.CreatedAt)
			}
		}

		var first, second eventPage
		p.getJSON("/api/events?limit=1", http.StatusOK, &first)
		if len(first.Items) != 1 || first.NextCursor == "" {
			t.Fatalf("limit=1: got %d items, nextCursor %q; want 1 item and a cursor", len(first.Items), first.NextCursor)
		}
		p.getJSON("/api/events?limit=1&cursor="+url.QueryEscape(first.NextCursor), http.StatusOK, &second)
		if len(second.Items) != 1 {
			t.Fatalf("second page: got %d items, want 1", len(second.Items))
		}
		a1, a2 := first.Items[0], second.Items[0]
		if a1.ID == a2.ID || a2.CreatedAt > a1.CreatedAt {
			t.Errorf("second page %+v does not follow first page %+v", a2, a1)
		}
	})

	t.Run("stats", func(t *testing.T) {
		a := p.do("GET", "/api/events/stats", "")
		var raw struct {
			Queue  map[string]any `json:"queue"`
			Events map[string]any `json:"events"`
		}
		p.decode(a, "stats", http.StatusOK, &raw)
		if raw.Queue["name"] != "mock-data-queue" {
			t.Errorf("stats queue name %v, want mock-data-queue", raw.Queue["name"])
		}
		for _, k := range []string{"waiting", "active", "delayed", "completed", "failed", "paused", "completedTotal", "failedTotal"} {
			if _, ok := raw.Queue[k].(float64); !ok {
				t.Errorf("stats queue.%s is %v, want a number: %s", k, raw.Queue[k], a)
			}
		}
		if n, ok := raw.Events["total"].(float64); !ok || n < 2 {
			t.Errorf("stats events.total is %v, want a number of at least 2", raw.Events["total"])
		}
	})

	t.Run("create, get, delete", func(t *testing.T) {
		a := p.do("POST", "/api/events", `{"name":"  e2e.signed_up  "}`)
		var e event
		p.decode(a, "POST /api/events", http.StatusCreated, &e)
		checkEvent(t, "created event", e)
		if e.Name != "e2e.signed_up" {
			t.Errorf("name %q, want it trimmed to e2e.signed_up", e.Name)
		}
		if loc := a.Header.Get("Location"); loc != "/api/events/"+e.ID {
			t.Errorf("Location %q, want /api/events/%s", loc, e.ID)
		}
		var got event
		p.getJSON("/api/events/"+e.ID, http.StatusOK, &got)
		if got != e {
			t.Errorf("GET returned %+v, want %+v", got, e)
		}
		// The longest name allowed, so that the 201-character rejection
		// below is about the length.
		long := strings.Repeat("é", 200)
		a = p.do("POST", "/api/events", `{"name":"`+long+`"}`)
		var l event
		p.decode(a, "POST 200-character name", http.StatusCreated, &l)
		if l.Name != long {
			t.Errorf("200-character name came back as %q", l.Name)
		}

		if a := p.do("DELETE", "/api/events/"+e.ID, ""); a.Status != http.StatusNoContent {
			t.Errorf("DELETE: got %s, want 204", a)
		}
		checkProblem(t, "GET deleted", p.do("GET", "/api/events/"+e.ID, ""), http.StatusNotFound)
		checkProblem(t, "DELETE deleted", p.do("DELETE", "/api/events/"+e.ID, ""), http.StatusNotFound)
	})

	t.Run("generate-mock and follow the jobs", func(t *testing.T) {
		ids := p.generate(5)
		if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 5 {
			t.Fatalf("job ids not distinct: %v", ids)
		}
		// A completed job is removed; its 404 names the event it produced.
		eventRef := regexp.MustCompile(`/api/events/([0-9a-f]{24})`)
		for _, id := range ids {
			var detail string
			eventually(t, 30*time.Second, "job "+id+" completed", func() (bool, string) {
				a := p.do("GET", "/api/jobs/"+id, "")
				switch a.Status {
				case http.StatusOK:
					var j job
					json.Unmarshal(a.Body, &j)
					if j.ID != id || j.Name != "process-mock-data" {
						t.Fatalf("GET /api/jobs/%s: %s", id, a)
					}
					return false, "state " + j.State
				case http.StatusNotFound:
					detail = checkProblem(t, "completed job", a, http.StatusNotFound).Detail
					return true, ""
				}
				t.Fatalf("GET /api/jobs/%s: %s", id, a)
				return false, ""
			})
			m := eventRef.FindStringSubmatch(detail)
			if m == nil {
				t.Fatalf("completed job %s: 404 detail names no event: %q", id, detail)
			}
			var e event
			p.getJSON("/api/events/"+m[1], http.StatusOK, &e)
			checkEvent(t, "generated event", e)
			if e.JobID != id {
				t.Errorf("event %s has jobId %q, want %q", e.ID, e.JobID, id)
			}
		}
	})

	t.Run("a waiting job's state", func(t *testing.T) {
		// Paused, the queue keeps the job, so its state can be read.
		if a := p.do("POST", "/api/queue/pause", ""); a.Status != http.StatusNoContent {
			t.Fatalf("pause: %s", a)
		}
		resumed := false
		resume := func() {
			if !resumed {
				resumed = true
				if a := p.do("POST", "/api/queue/resume", ""); a.Status != http.StatusNoContent {
					t.Errorf("resume: %s", a)
				}
			}
		}
		defer resume()
		var out struct {
			JobIDs []string `json:"jobIds"`
		}
		// No body: one job.
		p.decode(p.do("POST", "/api/events/generate-mock", ""), "generate-mock without a body", http.StatusAccepted, &out)
		if len(out.JobIDs) != 1 {
			t.Fatalf("generate-mock without a body: %d jobs, want 1", len(out.JobIDs))
		}
		id := out.JobIDs[0]
		var j job
		p.getJSON("/api/jobs/"+id, http.StatusOK, &j)
		if j.ID != id || j.Queue != "mock-data-queue" || j.Name != "process-mock-data" ||
			(j.State != "paused" && j.State != "waiting") || j.Attempt != 0 || j.MaxAttempts != 4 ||
			j.Options.Retries != 3 || j.Options.Backoff.Type != "exponential" || j.Options.Backoff.DelayMs != 2000 ||
			!timePattern.MatchString(j.AddedAt) {
			t.Errorf("paused job: %+v; want a waiting process-mock-data job, attempt 0 of 4, 3 retries, exponential backoff from 2000 ms", j)
		}
		resume()
		eventually(t, 30*time.Second, "the job, resumed, completed", func() (bool, string) {
			a := p.do("GET", "/api/jobs/"+id, "")
			return a.Status == http.StatusNotFound, a.String()
		})
	})

	t.Run("documents", func(t *testing.T) {
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		a := p.getJSON("/api/openapi.json", http.StatusOK, &doc)
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
		}
		if ct := a.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
			t.Errorf("openapi.json Content-Type %q", ct)
		}
		for path, methods := range map[string][]string{
			"/api/events/health":        {"get"},
			"/api/events":               {"get", "post"},
			"/api/events/stats":         {"get"},
			"/api/events/generate-mock": {"post"},
			"/api/events/{id}":          {"get", "delete"},
			"/api/jobs/{id}":            {"get"},
			"/healthz":                  {"get"},
			"/readyz":                   {"get"},
		} {
			for _, m := range methods {
				if doc.Paths[path][m] == nil {
					t.Errorf("openapi.json documents no %s %s", strings.ToUpper(m), path)
				}
			}
		}

		a = p.do("GET", "/api/docs", "")
		if a.Status != http.StatusOK || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(a.Body), "swagger-ui") {
			t.Fatalf("GET /api/docs: %s, %s; want Swagger UI's HTML", a, a.Header.Get("Content-Type"))
		}
		// Everything the page loads comes from this server: it must work
		// without internet.
		refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(a.Body), -1)
		if len(refs) == 0 {
			t.Errorf("docs page loads nothing")
		}
		for _, r := range refs {
			if !strings.HasPrefix(r[1], "/api/docs/") {
				t.Errorf("docs page loads %q from elsewhere than this server", r[1])
				continue
			}
			if a := p.do("GET", r[1], ""); a.Status != http.StatusOK || len(a.Body) == 0 {
				t.Errorf("docs asset %s: %d, %d bytes", r[1], a.Status, len(a.Body))
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		a := p.do("GET", "/metrics", "")
		if a.Status != http.StatusOK {
			t.Fatalf("GET /metrics: %s", a)
		}
		for _, m := range []string{
			`eventsd_queue_jobs{queue="mock-data-queue",state="waiting"}`,
			`eventsd_http_requests_total{`,
			`eventsd_jobs_processed_total{outcome="completed",queue="mock-data-queue"}`,
		} {
			if !strings.Contains(string(a.Body), m) {
				t.Errorf("/metrics has no %s", m)
			}
		}
	})

	t.Run("bad input is a 4xx problem", func(t *testing.T) {
		big := `{"name":"` + strings.Repeat("a", 1<<20+1) + `"}`
		for _, c := range []struct {
			method, path, body string
			want               []int
		}{
			{"GET", "/api/events?limit=0", "", []int{400, 422}},
			{"GET", "/api/events?limit=1001", "", []int{400, 422}},
			{"GET", "/api/events?limit=abc", "", []int{400, 422}},
			{"GET", "/api/events?limt=5", "", []int{400, 422}},
			{"GET", "/api/events?from=yesterday", "", []int{400, 422}},
			{"GET", "/api/events?cursor=not-a-cursor", "", []int{400}},
			{"GET", "/api/events/not-an-id", "", []int{400}},
			{"DELETE", "/api/events/not-an-id", "", []int{400}},
			{"GET", "/api/events/0123456789abcdef01234567", "", []int{404}},
			{"DELETE", "/api/events/0123456789abcdef01234567", "", []int{404}},
			{"POST", "/api/events", `{"name":""}`, []int{400, 422}},
			{"POST", "/api/events", `{"name":"   "}`, []int{400, 422}},
			{"POST", "/api/events", `{"name":"` + strings.Repeat("x", 201) + `"}`, []int{400, 422}},
			{"POST", "/api/events", `{}`, []int{400, 422}},
			{"POST", "/api/events", `{"name":5}`, []int{400, 422}},
			{"POST", "/api/events", `{"name":`, []int{400}},
			{"POST", "/api/events", big, []int{413}},
			{"POST", "/api/events/generate-mock", `{"count":0}`, []int{422}},
			{"POST", "/api/events/generate-mock", `{"count":1001}`, []int{422}},
			{"POST", "/api/events/generate-mock", `{"count":"five"}`, []int{400, 422}},
			{"GET", "/api/jobs/no-such-job", "", []int{404}},
			{"GET", "/api/jobs?state=sleeping", "", []int{400, 422}},
			{"GET", "/api/nope", "", []int{404}},
			{"GET", "/nope", "", []int{404}},
			{"PUT", "/api/events", `{"name":"x"}`, []int{405}},
			{"PATCH", "/api/events/0123456789abcdef01234567", `{}`, []int{405}},
			{"DELETE", "/api/events/stats", "", []int{400, 405}},
		} {
			what := c.method + " " + c.path
			if len(c.body) < 100 {
				what += " " + c.body
			}
			a := p.do(c.method, c.path, c.body)
			checkProblem(t, what, a, c.want...)
			if a.Status == http.StatusMethodNotAllowed && a.Header.Get("Allow") == "" {
				t.Errorf("%s: 405 without an Allow header", what)
			}
		}
		// No event was created by any of it.
		for _, e := range p.allEvents("") {
			if e.Name == "x" || strings.HasPrefix(e.Name, "aaaa") || strings.HasPrefix(e.Name, "xxxx") {
				t.Errorf("rejected input created event %+v", e)
			}
		}
	})

	// SIGTERM: a clean exit, then a restart on the same data directory
	// finds every event.
	before := p.allEvents("")
	if code := p.stop(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	p2 := start(t, "dev (restarted)", "dev", env)
	for _, e := range before {
		var got event
		p2.getJSON("/api/events/"+e.ID, http.StatusOK, &got)
		if got != e {
			t.Errorf("after restart event %s is %+v, was %+v", e.ID, got, e)
		}
	}
	if n := len(p2.allEvents("")); n < len(before) {
		t.Errorf("after restart %d events, before %d", n, len(before))
	}
	if code := p2.stop(60 * time.Second); code != 0 {
		t.Errorf("restarted process: exit code %d after SIGTERM, want 0", code)
	}
}

// TestDevTokenAndJSONLogs covers the optional settings a deployment turns
// on: with API_TOKEN every /api route but the health check needs the bearer
// token, LOG_FORMAT=json makes every log line a JSON object, and SIGINT
// stops the process as cleanly as SIGTERM.
func TestDevTokenAndJSONLogs(t *testing.T) {
	t.Parallel()
	const token = "e2e-secret-token"
	p := start(t, "dev", "dev", map[string]string{
		"DATA_DIR": t.TempDir(), "API_TOKEN": token, "LOG_FORMAT": "json", "CRON_ENABLED": "false",
	})

	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/events", `{"name":"no.token"}`},
		{"POST", "/api/events/generate-mock", `{"count":1}`},
		{"DELETE", "/api/events/0123456789abcdef01234567", ""},
		{"POST", "/api/queue/pause", ""},
		{"GET", "/api/events", ""},
		{"GET", "/api/jobs/events", ""},
	} {
		a := p.do(c.method, c.path, c.body)
		checkProblem(t, c.method+" "+c.path+" without a token", a, http.StatusUnauthorized)
		if a.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
		}
	}
	req, _ := http.NewRequest("POST", p.URL+"/api/events", strings.NewReader(`{"name":"wrong.token"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer not-"+token)
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST with a wrong token: %d, want 401", resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", p.URL+"/api/events", strings.NewReader(`{"name":"with.token"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("POST with the token: %d, want 201", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", p.URL+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page eventPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/events with the token: %d, %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	p.getJSON("/api/events/health", http.StatusOK, &struct{}{}) // the health check stays open
	if len(page.Items) != 1 || page.Items[0].Name != "with.token" {
		t.Errorf("events: %+v, want only the one posted with the token", page.Items)
	}

	p.cmd.Process.Signal(os.Interrupt)
	if code := p.wait(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGINT, want 0", code)
	}
	lines := strings.Split(strings.TrimSpace(p.log.String()), "\n")
	stopping := false
	for _, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil || v["level"] == nil {
			t.Errorf("with LOG_FORMAT=json, log line is not a JSON record with level and msg: %s", line)
		}
		if v["msg"] == "stopping: finishing running jobs" {
			// Durations are milliseconds under a _ms key, never nanoseconds.
			stopping = v["timeout_ms"] == float64(30000) && v["timeout"] == nil
		}
	}
	if !stopping {
		t.Errorf("no stopping record with timeout_ms 30000:\n%s", p.log.String())
	}
	if strings.Contains(p.log.String(), token) {
		t.Errorf("the log shows the API token")
	}
}
