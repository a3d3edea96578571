package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// importRecorder programs b's producer to accept imports and keep them.
func importRecorder(b *bundle) func() [][]events.ImportItem {
	var mu sync.Mutex
	var got [][]events.ImportItem
	b.producer.ImportFunc = func(_ context.Context, items []events.ImportItem) (*queue.Job, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, items)
		return &queue.Job{ID: fmt.Sprintf("import-%d", len(got))}, nil
	}
	return func() [][]events.ImportItem {
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

func TestImportAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	imports := importRecorder(b)
	before := events.Now()
	res := b.post(t, "/api/events/batch", `{"events": [
		{"name": "  order.placed  ", "createdAt": "2026-11-20T10:00:00.1234+02:00", "data": { "orderId" : "o-1" }},
		{"name": "user.signed_up"}
	]}`)
	wantStatus(t, res, http.StatusAccepted)
	if got := res.json(t)["jobId"]; got != "import-1" || res.header.Get("Location") != "/api/jobs/import-1" {
		t.Fatalf("answer %s, Location %q; want job import-1 and its URL", res.body, res.header.Get("Location"))
	}
	all := imports()
	if len(all) != 1 || len(all[0]) != 2 {
		t.Fatalf("imports = %v; want one of two events", all)
	}
	first, second := all[0][0], all[0][1]
	want := time.Date(2026, 11, 20, 8, 0, 0, 123e6, time.UTC)
	if first.Name != "order.placed" || !first.CreatedAt.Equal(want) || string(first.Data) != `{"orderId":"o-1"}` {
		t.Fatalf("first event %+v; want the name trimmed, the time in UTC milliseconds, the data compact", first)
	}
	if second.CreatedAt.Before(before) || second.CreatedAt.After(events.Now()) || second.Data != nil {
		t.Fatalf("second event %+v; want createdAt the time of the request and no data", second)
	}
}

// TestImportRejectsBadEvents checks that one request's bad events are all
// listed by index, and that nothing is queued then.
func TestImportRejectsBadEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxEventDataBytes = 20 })
	imports := importRecorder(b)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	res := b.post(t, "/api/events/batch", `{"events": [
		{"name": "ok"},
		{"name": "   "},
		{"name": "ok", "createdAt": "`+future+`"},
		{"name": "ok", "createdAt": "1969-12-31T23:59:59Z"},
		{"name": "ok", "data": {"s": "much more than twenty bytes"}},
		{"name": "`+strings.Repeat("n", 201)+`"}
	]}`)
	p := wantProblem(t, res, http.StatusUnprocessableEntity)
	want := map[string]string{
		"body.events[1].name":      "empty",
		"body.events[2].createdAt": "in the future",
		"body.events[3].createdAt": "1970 or later",
		"body.events[4].data":      "the limit is 20",
		"body.events[5].name":      "the limit is 200",
	}
	errs, _ := p["errors"].([]any)
	if len(errs) != len(want) {
		t.Fatalf("problem %s; want %d errors", res.body, len(want))
	}
	for _, e := range errs {
		e := e.(map[string]any)
		loc, msg := e["location"].(string), e["message"].(string)
		if w, ok := want[loc]; !ok || !strings.Contains(msg, w) {
			t.Errorf("error at %s: %q; want one of %v", loc, msg, want)
		}
	}
	if !strings.Contains(p["detail"].(string), "5 of the 6 events are invalid") {
		t.Errorf("detail %q; want the count of bad events", p["detail"])
	}
	if n := len(imports()); n != 0 {
		t.Fatalf("%d imports queued; want none", n)
	}

	// What the schema says, huma checks, by index too.
	res = b.post(t, "/api/events/batch", `{"events": [{"name": "ok"}, {"name": 7}, {"nom": "x"}, {"name": "ok", "data": [1]}]}`)
	p = wantProblem(t, res, http.StatusUnprocessableEntity)
	if s := fmt.Sprint(p["errors"]); !strings.Contains(s, "body.events[1].name") || !strings.Contains(s, "body.events[2]") ||
		!strings.Contains(s, "body.events[3].data") {
		t.Fatalf("errors %s; want the bad events' indexes", s)
	}
	for _, body := range []string{`{"events": []}`, `{}`, `{"events": null}`} {
		wantProblem(t, b.post(t, "/api/events/batch", body), http.StatusUnprocessableEntity)
	}
	if n := len(imports()); n != 0 {
		t.Fatalf("%d imports queued; want none", n)
	}
}

// TestImportSizeLimits checks the batch's limits: 10,000 events, and a body
// larger than other routes take.
func TestImportSizeLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	imports := importRecorder(b)
	batch := func(n int) string {
		var sb strings.Builder
		sb.WriteString(`{"events": [`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"name": "bulk.loaded", "createdAt": "2026-11-20T10:00:00Z", "data": {"i": %d, "pad": "%s"}}`, i, strings.Repeat("x", 100))
		}
		sb.WriteString(`]}`)
		return sb.String()
	}
	full := batch(events.MaxImport)
	if len(full) <= 1<<20 {
		t.Fatalf("the test batch is %d bytes; it must exceed other routes' 1 MiB", len(full))
	}
	wantStatus(t, b.post(t, "/api/events/batch", full), http.StatusAccepted)
	if got := imports(); len(got) != 1 || len(got[0]) != events.MaxImport {
		t.Fatalf("imports %d; want one of %d events", len(got), events.MaxImport)
	}
	p := wantProblem(t, b.post(t, "/api/events/batch", batch(events.MaxImport+1)), http.StatusUnprocessableEntity)
	if s := fmt.Sprint(p["errors"]); !strings.Contains(s, "body.events") {
		t.Fatalf("errors %s; want the events array named", s)
	}
	// Other routes keep their limit.
	wantProblem(t, b.post(t, "/api/events", full), http.StatusRequestEntityTooLarge)

	small := setup(t, func(c *Config) { c.MaxImportBodyBytes = 1000 })
	importRecorder(small)
	wantProblem(t, small.post(t, "/api/events/batch", batch(20)), http.StatusRequestEntityTooLarge)
}
