package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// msTime is the one time format the API shows.
var msTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// keys returns m's keys, sorted.
func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestCreateGetDeleteEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res := b.post(t, "/api/events", `{"name": "  user-signup  "}`)
	wantStatus(t, res, http.StatusCreated)
	ev := res.json(t)
	if got := keys(ev); !slices.Equal(got, []string{"createdAt", "id", "name"}) {
		t.Fatalf("event fields = %v, want createdAt, id, name", got)
	}
	id, _ := ev["id"].(string)
	if !events.ValidID(id) || strings.ToLower(id) != id {
		t.Fatalf("id = %q, want 24 lowercase hex", id)
	}
	if ev["name"] != "user-signup" {
		t.Fatalf("name = %q, want it trimmed", ev["name"])
	}
	if !msTime.MatchString(ev["createdAt"].(string)) {
		t.Fatalf("createdAt = %q, want RFC 3339 UTC with 3 fractional digits", ev["createdAt"])
	}
	if loc := res.header.Get("Location"); loc != "/api/events/"+id {
		t.Fatalf("Location = %q, want /api/events/%s", loc, id)
	}

	got := b.get(t, "/api/events/"+id)
	wantStatus(t, got, http.StatusOK)
	if g := got.json(t); fmt.Sprint(g) != fmt.Sprint(ev) {
		t.Fatalf("GET = %v, want %v", g, ev)
	}

	wantStatus(t, b.do(t, http.MethodDelete, "/api/events/"+id, nil), http.StatusNoContent)
	wantProblem(t, b.get(t, "/api/events/"+id), http.StatusNotFound)
	wantProblem(t, b.do(t, http.MethodDelete, "/api/events/"+id, nil), http.StatusNotFound)
}

func TestEventJSONKeepsMillisecondZeros(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Date(2026, 11, 26, 23, 54, 38, 120_000_000, time.FixedZone("CET", 3600))
	e, err := b.store.Create(t.Context(), events.Event{Name: "x", CreatedAt: at, JobID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	got := b.get(t, "/api/events/"+e.ID).json(t)
	if got["createdAt"] != "2026-11-26T22:54:38.120Z" {
		t.Fatalf("createdAt = %q, want 2026-11-26T22:54:38.120Z", got["createdAt"])
	}
	if got["jobId"] != "42" {
		t.Fatalf("jobId = %v, want 42", got["jobId"])
	}
	whole := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, _ = b.store.Create(t.Context(), events.Event{Name: "y", CreatedAt: whole})
	if got := b.get(t, "/api/events/"+e.ID).json(t); got["createdAt"] != "2026-01-02T03:04:05.000Z" {
		t.Fatalf("createdAt = %q, want 2026-01-02T03:04:05.000Z", got["createdAt"])
	}
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var ids []string // oldest first
	for i := range 5 {
		name := "even"
		if i%2 == 1 {
			name = "odd"
		}
		e, err := b.store.Create(t.Context(), events.Event{Name: name, CreatedAt: base.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}

	// Pages of 2, newest first, until nextCursor is gone.
	var seen []string
	path := "/api/events?limit=2"
	for range 10 {
		res := b.get(t, path)
		wantStatus(t, res, http.StatusOK)
		page := res.json(t)
		for _, it := range page["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		next, ok := page["nextCursor"].(string)
		if !ok || next == "" {
			break
		}
		path = "/api/events?limit=2&cursor=" + url.QueryEscape(next)
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("paged ids = %v, want %v", seen, want)
	}

	// Filters.
	q := url.Values{"name": {"even"}, "from": {base.Add(time.Minute).Format(time.RFC3339)}, "to": {base.Add(4 * time.Minute).Format(time.RFC3339)}}
	page := b.get(t, "/api/events?"+q.Encode()).json(t)
	items := page["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != ids[2] {
		t.Fatalf("filtered items = %v, want only %s", items, ids[2])
	}
	if _, ok := page["nextCursor"]; ok {
		t.Fatalf("last page has nextCursor: %v", page)
	}

	// An empty result is an empty list, not null.
	res := b.get(t, "/api/events?name=nothing")
	if !strings.Contains(string(res.body), `"items":[]`) {
		t.Fatalf("empty page = %s, want items []", res.body)
	}
}

func TestListEventsRejectsBadParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	badCursor := events.Cursor{CreatedAt: time.Now(), ID: "nothex"}.String()
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"limit=0", http.StatusUnprocessableEntity},
		{"limit=1001", http.StatusUnprocessableEntity},
		{"limit=abc", http.StatusUnprocessableEntity},
		{"limit=-1", http.StatusUnprocessableEntity},
		{"cursor=%25%25%25", http.StatusBadRequest},
		{"cursor=" + badCursor, http.StatusBadRequest},
		{"from=yesterday", http.StatusUnprocessableEntity},
		{"to=2026-13-01T00:00:00Z", http.StatusUnprocessableEntity},
		{"from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z", http.StatusUnprocessableEntity},
		{"name=" + strings.Repeat("x", 201), http.StatusUnprocessableEntity},
	} {
		t.Run(tc.query, func(t *testing.T) {
			t.Parallel()
			wantProblem(t, b.get(t, "/api/events?"+tc.query), tc.status)
		})
	}
	for _, q := range []string{"limit=1", "limit=1000", "from=2026-11-26T00:00:00.5%2B01:00"} {
		wantStatus(t, b.get(t, "/api/events?"+q), http.StatusOK)
	}
}

func TestEventIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api/events/123", "/api/events/zzzzzzzzzzzzzzzzzzzzzzzz", "/api/events/" + strings.Repeat("a", 25)} {
		p := wantProblem(t, b.get(t, path), http.StatusBadRequest)
		if !strings.Contains(p["detail"].(string), "24 hex") {
			t.Errorf("GET %s detail = %q, want it to say 24 hex", path, p["detail"])
		}
		wantProblem(t, b.do(t, http.MethodDelete, path, nil), http.StatusBadRequest)
	}
	unknown := events.NewID()
	wantProblem(t, b.get(t, "/api/events/"+unknown), http.StatusNotFound)
	wantProblem(t, b.do(t, http.MethodDelete, "/api/events/"+unknown, nil), http.StatusNotFound)
}

func TestCreateEventRejectsBadBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"empty name", `{"name": ""}`, http.StatusUnprocessableEntity},
		{"white space name", `{"name": " \t\n "}`, http.StatusUnprocessableEntity},
		{"201 characters", `{"name": "` + strings.Repeat("é", 201) + `"}`, http.StatusUnprocessableEntity},
		{"missing name", `{}`, http.StatusUnprocessableEntity},
		{"number name", `{"name": 5}`, http.StatusUnprocessableEntity},
		{"null name", `{"name": null}`, http.StatusUnprocessableEntity},
		{"unknown field", `{"name": "x", "color": "red"}`, http.StatusUnprocessableEntity},
		{"array body", `["x"]`, http.StatusUnprocessableEntity},
		{"malformed JSON", `{"name": "x"`, http.StatusBadRequest},
		{"not JSON", `name=x`, http.StatusBadRequest},
		{"no body", ``, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantProblem(t, b.post(t, "/api/events", tc.body), tc.status)
		})
	}
	t.Run("validation errors are listed", func(t *testing.T) {
		t.Parallel()
		p := wantProblem(t, b.post(t, "/api/events", `{"name": "   "}`), http.StatusUnprocessableEntity)
		errs, _ := p["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["location"] != "body.name" {
			t.Fatalf("errors = %v, want one at body.name", p["errors"])
		}
	})
	t.Run("200 characters after trimming", func(t *testing.T) {
		t.Parallel()
		name := strings.Repeat("é", 200)
		res := b.post(t, "/api/events", `{"name": "  `+name+`  "}`)
		wantStatus(t, res, http.StatusCreated)
		if res.json(t)["name"] != name {
			t.Fatal("name not stored trimmed")
		}
	})
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := `{"name": "` + strings.Repeat("x", 1<<20) + `"}`

	// Declared length over the limit: refused before reading.
	p := wantProblem(t, b.post(t, "/api/events", big), http.StatusRequestEntityTooLarge)
	if !strings.Contains(p["detail"].(string), "1048576") {
		t.Fatalf("detail = %q, want the limit in bytes", p["detail"])
	}
	// Unknown length (chunked): refused while reading.
	p = wantProblem(t, b.do(t, http.MethodPost, "/api/events", onlyReader{strings.NewReader(big)}), http.StatusRequestEntityTooLarge)
	if !strings.Contains(p["detail"].(string), "1048576") {
		t.Fatalf("detail = %q, want the limit in bytes", p["detail"])
	}
	// Exactly the limit is allowed through (and then fails validation: the name is long).
	exact := `{"name": "` + strings.Repeat("x", 1<<20-len(`{"name": ""}`)) + `"}`
	wantProblem(t, b.do(t, http.MethodPost, "/api/events", onlyReader{strings.NewReader(exact)}), http.StatusUnprocessableEntity)
	wantProblem(t, b.post(t, "/api/events", exact), http.StatusUnprocessableEntity)
	// The server still serves.
	wantStatus(t, b.post(t, "/api/events", `{"name": "after"}`), http.StatusCreated)
}

// onlyReader hides a reader's length, so that the client sends it chunked.
type onlyReader struct{ r *strings.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestGenerateMock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		body string
		want int
	}{{"", 1}, {"{}", 1}, {`{"count": 3}`, 3}, {`{"count": 1000}`, 1000}} {
		res := b.post(t, "/api/events/generate-mock", tc.body)
		wantStatus(t, res, http.StatusAccepted)
		ids, _ := res.json(t)["jobIds"].([]any)
		if len(ids) != tc.want {
			t.Fatalf("body %q: %d job ids, want %d", tc.body, len(ids), tc.want)
		}
	}
	for _, body := range []string{`{"count": 0}`, `{"count": 1001}`, `{"count": -1}`, `{"count": "3"}`, `{"count": 1, "x": 1}`} {
		wantProblem(t, b.post(t, "/api/events/generate-mock", body), http.StatusUnprocessableEntity)
	}
	wantProblem(t, b.post(t, "/api/events/generate-mock", `{"count": `), http.StatusBadRequest)
}

func TestStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.CountsFunc = func(context.Context) (queue.Counts, error) {
		return queue.Counts{Waiting: 1, Active: 2, Delayed: 3, Completed: 4, Failed: 5, Paused: 6, CompletedTotal: 7, FailedTotal: 8, CancelledTotal: 9, OldestWaiting: 1500 * time.Millisecond, IsPaused: true}, nil
	}
	for range 2 {
		if _, err := b.store.Create(t.Context(), events.Event{Name: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	res := b.get(t, "/api/events/stats")
	wantStatus(t, res, http.StatusOK)
	want := `{"queue":{"name":"mock-data-queue","waiting":1,"active":2,"delayed":3,"completed":4,"failed":5,"paused":6,"completedTotal":7,"failedTotal":8,"cancelledTotal":9,"oldestWaitingMs":1500,"isPaused":true},"queues":[{"name":"mock-data-queue","waiting":1,"active":2,"delayed":3,"completed":4,"failed":5,"paused":6,"completedTotal":7,"failedTotal":8,"cancelledTotal":9,"oldestWaitingMs":1500,"isPaused":true}],"events":{"total":2}}`
	if got := strings.TrimSpace(string(res.body)); got != want {
		t.Fatalf("stats = %s\nwant    %s", got, want)
	}
}

func TestDependencyErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.CountsFunc = func(context.Context) (queue.Counts, error) {
		return queue.Counts{}, fmt.Errorf("counts: %w", &netError{})
	}
	res := b.get(t, "/api/events/stats")
	p := wantProblem(t, res, http.StatusServiceUnavailable)
	if res.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(p["detail"].(string), "10.0.0.1") {
		t.Errorf("detail leaks the cause: %q", p["detail"])
	}

	b.jobs.CountsFunc = func(ctx context.Context) (queue.Counts, error) {
		return queue.Counts{}, context.DeadlineExceeded
	}
	wantProblem(t, b.get(t, "/api/events/stats"), http.StatusServiceUnavailable)

	b.jobs.CountsFunc = func(context.Context) (queue.Counts, error) {
		return queue.Counts{}, errors.New("a bug at 10.0.0.1")
	}
	p = wantProblem(t, b.get(t, "/api/events/stats"), http.StatusInternalServerError)
	if strings.Contains(p["detail"].(string), "10.0.0.1") {
		t.Errorf("detail leaks the cause: %q", p["detail"])
	}
	if !strings.Contains(b.logs.String(), "a bug at 10.0.0.1") {
		t.Error("unexpected error not logged")
	}
}

// netError is a network failure, as a Redis or MongoDB client returns when
// its server is down.
type netError struct{}

func (*netError) Error() string   { return "dial tcp 10.0.0.1:6379: connect: connection refused" }
func (*netError) Timeout() bool   { return false }
func (*netError) Temporary() bool { return false }

func TestRequestFormat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := wantProblem(t, b.get(t, "/api/events?limt=5"), http.StatusUnprocessableEntity)
	if !strings.Contains(string(must(json.Marshal(p["errors"]))), "limt") {
		t.Errorf("errors = %v, want the unknown parameter named", p["errors"])
	}
	// curl -d sends a form content type unless told otherwise.
	p = wantProblem(t, b.post(t, "/api/events", `{"name": "x"}`, "Content-Type", "application/x-www-form-urlencoded"), http.StatusUnsupportedMediaType)
	if !strings.Contains(p["detail"].(string), "application/json") {
		t.Errorf("detail = %q, want it to name application/json", p["detail"])
	}
	wantStatus(t, b.post(t, "/api/events", `{"name": "x"}`, "Content-Type", "application/json; charset=utf-8"), http.StatusCreated)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestBadTimeWording: a time that does not parse is worded for a person,
// with an example, not with Go's layout string.
func TestBadTimeWording(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z"} {
		p := wantProblem(t, b.get(t, "/api/events?"+q), http.StatusUnprocessableEntity)
		errs, _ := p["errors"].([]any)
		if len(errs) != 1 {
			t.Fatalf("%s: errors = %v", q, p["errors"])
		}
		msg, _ := errs[0].(map[string]any)["message"].(string)
		if msg != "expected a time in RFC 3339, e.g. 2026-11-28T06:00:00Z" || strings.Contains(string(b.get(t, "/api/events?"+q).body), "2006") {
			t.Errorf("%s: message %q", q, msg)
		}
	}
}
