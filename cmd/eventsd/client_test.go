package main

// A small client for eventsd's REST API, as the tests use it: every call
// returns the whole answer, and the helpers check the shapes the issue
// promises (problem JSON for errors, event JSON, pages).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// answer is one HTTP response, read whole.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

func (a answer) String() string {
	body := string(a.Body)
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	return fmt.Sprintf("%d %s", a.Status, body)
}

// do sends a request; a non-empty body is sent as JSON.
func (p *proc) do(method, path, body string) answer {
	p.t.Helper()
	a, err := p.try(method, path, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

// try is do that returns a transport error instead of failing the test.
func (p *proc) try(method, path, body string) (answer, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.URL+path, r)
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// getJSON GETs path, wants status want and decodes the body into v.
func (p *proc) getJSON(path string, want int, v any) answer {
	p.t.Helper()
	a := p.do("GET", path, "")
	p.decode(a, "GET "+path, want, v)
	return a
}

// readJSON GETs path for a 200 as getJSON does, asking again, for up to a
// minute, while the answer is a 503: the server's word for a store or Redis
// too slow to answer in time, which a busy test machine can make them. The
// tests that read through it check what is read, not how fast.
func (p *proc) readJSON(path string, v any) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	a := p.do("GET", path, "")
	for a.Status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		p.t.Logf("GET %s: 503, asking again: %s", path, a)
		time.Sleep(time.Second)
		a = p.do("GET", path, "")
	}
	p.decode(a, "GET "+path, http.StatusOK, v)
}

func (p *proc) decode(a answer, what string, want int, v any) {
	p.t.Helper()
	if a.Status != want {
		p.t.Fatalf("%s: got %s, want %d", what, a, want)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal(a.Body, v); err != nil {
		p.t.Fatalf("%s: body is not the JSON expected: %v: %s", what, err, a)
	}
}

// problem is an RFC 9457 problem.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

// checkProblem checks that a is a problem JSON answer with one of the
// statuses in want, consistent with itself, and returns it.
func checkProblem(t testing.TB, what string, a answer, want ...int) problem {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || a.Status == w
	}
	if !ok {
		t.Errorf("%s: got %s, want status %v", what, a, want)
		return problem{}
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	var pr problem
	if err := json.Unmarshal(a.Body, &pr); err != nil {
		t.Errorf("%s: problem body is not JSON: %v: %s", what, err, a)
		return pr
	}
	if pr.Status != a.Status || pr.Title == "" || pr.Detail == "" {
		t.Errorf("%s: problem lacks a matching status, a title or a detail: %s", what, a)
	}
	return pr
}

// event is an event as the API shows it.
type event struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
	JobID     string `json:"jobId"`
}

type eventPage struct {
	Items      []event `json:"items"`
	NextCursor string  `json:"nextCursor"`
}

var (
	idPattern   = regexp.MustCompile(`^[0-9a-f]{24}$`)
	timePattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkEvent checks an event's shape: a 24-hex id, a name, and createdAt in
// RFC 3339, UTC, with milliseconds.
func checkEvent(t testing.TB, what string, e event) {
	t.Helper()
	if !idPattern.MatchString(e.ID) {
		t.Errorf("%s: id %q is not 24 lowercase hex characters", what, e.ID)
	}
	if e.Name == "" {
		t.Errorf("%s: event %s has no name", what, e.ID)
	}
	if !timePattern.MatchString(e.CreatedAt) {
		t.Errorf("%s: createdAt %q is not RFC 3339 UTC with milliseconds", what, e.CreatedAt)
	}
}

// allEvents pages through GET /api/events, 1000 at a time, and returns every
// event, newest first. query adds filters ("name=x").
func (p *proc) allEvents(query string) []event {
	p.t.Helper()
	var all []event
	cursor := ""
	for {
		q := url.Values{"limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		path := "/api/events?" + q.Encode()
		if query != "" {
			path += "&" + query
		}
		var page eventPage
		p.readJSON(path, &page)
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// eventsByJob returns the events that carry a job id, by job id, and fails
// the test if any job id has more than one event.
func (p *proc) eventsByJob() map[string]event {
	p.t.Helper()
	byJob := map[string]event{}
	for _, e := range p.allEvents("") {
		if e.JobID == "" {
			continue
		}
		if prev, dup := byJob[e.JobID]; dup {
			p.t.Fatalf("job %s has two events: %s and %s", e.JobID, prev.ID, e.ID)
		}
		byJob[e.JobID] = e
	}
	return byJob
}

type stats struct {
	Queue struct {
		Name           string `json:"name"`
		Waiting        int64  `json:"waiting"`
		Active         int64  `json:"active"`
		Delayed        int64  `json:"delayed"`
		Completed      int64  `json:"completed"`
		Failed         int64  `json:"failed"`
		Paused         int64  `json:"paused"`
		CompletedTotal int64  `json:"completedTotal"`
		FailedTotal    int64  `json:"failedTotal"`
		IsPaused       bool   `json:"isPaused"`
	} `json:"queue"`
	Events struct {
		Total int64 `json:"total"`
	} `json:"events"`
}

func (s stats) String() string {
	q := s.Queue
	return fmt.Sprintf("waiting=%d active=%d delayed=%d failed=%d paused=%d completedTotal=%d failedTotal=%d events=%d",
		q.Waiting, q.Active, q.Delayed, q.Failed, q.Paused, q.CompletedTotal, q.FailedTotal, s.Events.Total)
}

func (p *proc) stats() stats {
	p.t.Helper()
	var s stats
	p.readJSON("/api/events/stats", &s)
	return s
}

// generate adds count mock-data jobs and returns their ids.
func (p *proc) generate(count int) []string {
	p.t.Helper()
	var out struct {
		JobIDs []string `json:"jobIds"`
	}
	a := p.do("POST", "/api/events/generate-mock", fmt.Sprintf(`{"count":%d}`, count))
	p.decode(a, "POST /api/events/generate-mock", http.StatusAccepted, &out)
	if len(out.JobIDs) != count {
		p.t.Fatalf("generate-mock %d: got %d job ids", count, len(out.JobIDs))
	}
	return out.JobIDs
}

type health struct {
	Status       string `json:"status"`
	Version      string `json:"version"`
	Dependencies map[string]struct {
		Status    string   `json:"status"`
		LatencyMs *float64 `json:"latencyMs"`
		Error     string   `json:"error"`
	} `json:"dependencies"`
}

// health returns the status and body of GET /api/events/health.
func (p *proc) health() (int, health) {
	p.t.Helper()
	a := p.do("GET", "/api/events/health", "")
	var h health
	if a.Status != http.StatusOK && a.Status != http.StatusServiceUnavailable {
		p.t.Fatalf("health: got %s, want 200 or 503", a)
	}
	if err := json.Unmarshal(a.Body, &h); err != nil {
		p.t.Fatalf("health: %v: %s", err, a)
	}
	return a.Status, h
}

// depsAre reports whether the health answer lists exactly the dependencies
// in want with those statuses.
func (h health) depsAre(want map[string]string) bool {
	if len(h.Dependencies) != len(want) {
		return false
	}
	for name, status := range want {
		if d, ok := h.Dependencies[name]; !ok || d.Status != status || d.LatencyMs == nil {
			return false
		}
	}
	return true
}

type job struct {
	ID          string `json:"id"`
	Queue       string `json:"queue"`
	Name        string `json:"name"`
	State       string `json:"state"`
	Attempt     int    `json:"attempt"`
	MaxAttempts int    `json:"maxAttempts"`
	Failures    int    `json:"failures"`
	Stalls      int    `json:"stalls"`
	Error       string `json:"error"`
	AddedAt     string `json:"addedAt"`
	Options     struct {
		Retries int `json:"retries"`
		Backoff struct {
			Type    string `json:"type"`
			DelayMs int64  `json:"delayMs"`
		} `json:"backoff"`
	} `json:"options"`
}

// jobsIn lists the jobs in state (at most 1000).
func (p *proc) jobsIn(state string) []job {
	p.t.Helper()
	var page struct {
		Items []job `json:"items"`
	}
	p.getJSON("/api/jobs?limit=1000&state="+state, http.StatusOK, &page)
	return page.Items
}

// lifecycle is one message of the SSE stream at /api/jobs/events.
type lifecycle struct {
	Type     string          `json:"type"`
	JobID    string          `json:"jobId"`
	Attempt  int             `json:"attempt"`
	Error    string          `json:"error"`
	Progress json.RawMessage `json:"progress"`
}

// readLifecycle replays the queue's lifecycle stream from its start and
// hands each event to fn until fn returns false. The timeout only bounds a
// hang.
func (p *proc) readLifecycle(timeout time.Duration, fn func(lifecycle) bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+"/api/jobs/events?after=0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("lifecycle stream: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("lifecycle stream: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	kind := ""
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "event: "); ok {
			kind = k
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if kind == "error" {
			p.t.Fatalf("lifecycle stream: error event: %s", data)
		}
		var ev lifecycle
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			p.t.Fatalf("lifecycle stream: %v: %s", err, data)
		}
		if !fn(ev) {
			return
		}
	}
	p.t.Fatalf("lifecycle stream ended before the test saw what it waited for (err %v)", sc.Err())
}
