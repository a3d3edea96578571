package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// TestWithRealQueue runs the job endpoints against the real queue engine
// (miniredis, or TEST_REDIS_URL), to check the fakes' assumptions: job
// shapes, error sentinels, and stream ids that Last-Event-ID accepts.
func TestWithRealQueue(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	a := New(newStore(t), q, &fakeProducer{}, Config{})
	srv := httptest.NewServer(a)
	t.Cleanup(func() { a.CloseStreams(); srv.Close() })
	b := &bundle{srv: srv, api: a}
	ctx := t.Context()

	// after=0 replays the stream from its start, so the test does not race
	// the subscription's start as "new events only" would.
	c := openStream(t, b, "/api/jobs/events?after=0")
	ready, err := q.Add(ctx, "process-mock-data", []byte(`{"n":1}`), queue.JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later, err := q.Add(ctx, "process-mock-data", []byte("raw"), queue.JobOptions{Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	// The stream shows both adds, in order.
	var ids []string
	for _, want := range []string{ready.ID, later.ID} {
		m, ok := c.next()
		if !ok {
			t.Fatal("stream ended")
		}
		var ev queue.Event
		if err := json.Unmarshal([]byte(m.data), &ev); err != nil || m.event != "added" || ev.JobID != want {
			t.Fatalf("message %+v, want added for job %s", m, want)
		}
		ids = append(ids, m.id)
	}
	// Resuming after the first add replays the second.
	c2 := openStream(t, b, "/api/jobs/events", "Last-Event-ID", ids[0])
	if m, ok := c2.next(); !ok || m.id != ids[1] {
		t.Fatalf("resumed stream gave %+v, %v; want the event %s", m, ok, ids[1])
	}

	job := b.get(t, "/api/jobs/"+ready.ID).json(t)
	if job["state"] != "waiting" || job["maxAttempts"] != float64(4) || job["name"] != "process-mock-data" {
		t.Fatalf("job = %v", job)
	}
	if d, _ := job["data"].(map[string]any); d["n"] != float64(1) {
		t.Fatalf("data = %v, want JSON", job["data"])
	}
	if got := b.get(t, "/api/jobs/"+later.ID).json(t); got["state"] != "delayed" || got["data"] != "raw" || got["dueAt"] == nil {
		t.Fatalf("delayed job = %v", got)
	}

	// The largest offset the schema allows reaches the engine and pages
	// past the end (issue 8 §5: a larger one was a 500 there).
	if res := b.get(t, "/api/jobs?state=delayed&offset=1000000000"); !strings.Contains(string(res.body), `"items":[]`) {
		t.Fatalf("offset 1000000000: %d %s", res.status, res.body)
	}

	res := b.get(t, "/api/jobs?state=delayed")
	if items := res.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != later.ID {
		t.Fatalf("delayed jobs = %s", res.body)
	}

	wantProblem(t, b.post(t, "/api/jobs/"+ready.ID+"/promote", ""), http.StatusConflict)
	wantProblem(t, b.post(t, "/api/jobs/"+ready.ID+"/retry", ""), http.StatusConflict)
	wantStatus(t, b.post(t, "/api/jobs/"+later.ID+"/promote", ""), http.StatusNoContent)
	wantStatus(t, b.post(t, "/api/queue/pause", ""), http.StatusNoContent)
	stats := b.get(t, "/api/events/stats").json(t)["queue"].(map[string]any)
	if stats["isPaused"] != true || stats["name"] != "mock-data-queue" {
		t.Fatalf("stats = %v", stats)
	}
	wantStatus(t, b.post(t, "/api/queue/resume", ""), http.StatusNoContent)

	// Cancelling a waiting job makes no attempt and is counted apart from failures.
	doomed, err := q.Add(ctx, "process-mock-data", nil, queue.JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.post(t, "/api/jobs/"+doomed.ID+"/cancel", ""), http.StatusAccepted)
	if got := b.get(t, "/api/jobs/"+doomed.ID).json(t); got["state"] != "failed" || got["attempt"] != float64(0) {
		t.Fatalf("cancelled waiting job = %v, want failed with no attempt", got)
	}
	stats = b.get(t, "/api/events/stats").json(t)["queue"].(map[string]any)
	if stats["cancelledTotal"] != float64(1) || stats["failedTotal"] != float64(0) {
		t.Fatalf("stats after a cancel = %v, want cancelledTotal 1 and failedTotal 0", stats)
	}
	wantStatus(t, b.do(t, http.MethodDelete, "/api/jobs/"+ready.ID, nil), http.StatusNoContent)
	p := wantProblem(t, b.get(t, "/api/jobs/"+ready.ID), http.StatusNotFound)
	if !strings.Contains(p["detail"].(string), ready.ID) {
		t.Fatalf("detail = %q", p["detail"])
	}
}

// TestJobPagesWithRealQueue follows nextCursor through the real engine's
// pages, with a job leaving the state between pages, and checks the counts.
func TestJobPagesWithRealQueue(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	a := New(newStore(t), q, &fakeProducer{}, Config{})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	b := &bundle{srv: srv, api: a}
	var want []string
	for range 5 {
		j, err := q.Add(t.Context(), "process-mock-data", nil, queue.JobOptions{Delay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, j.ID)
	}
	var got []string
	cursor := ""
	for range 10 {
		res := b.get(t, "/api/jobs?state=delayed&limit=2&cursor="+cursor)
		wantStatus(t, res, http.StatusOK)
		var page struct {
			Items      []struct{ ID string }
			NextCursor string
			Counts     map[string]int
		}
		if err := json.Unmarshal(res.body, &page); err != nil {
			t.Fatal(err)
		}
		if cursor == "" && page.Counts["delayed"] != 5 {
			t.Fatalf("counts = %v, want 5 delayed", page.Counts)
		}
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		if page.NextCursor == "" {
			break
		}
		// The page's last job leaves the state: the next page goes on after it.
		wantStatus(t, b.post(t, "/api/jobs/"+page.Items[len(page.Items)-1].ID+"/promote", ""), http.StatusNoContent)
		cursor = page.NextCursor
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged %v, want %v", got, want)
	}
	for _, bad := range []string{"x", "d2FpdGluZy4xLjE"} { // garbage; a waiting cursor for delayed
		p := wantProblem(t, b.get(t, "/api/jobs?state=delayed&cursor="+bad), http.StatusBadRequest)
		if !strings.Contains(p["detail"].(string), "cursor") {
			t.Errorf("cursor %q: detail %q", bad, p["detail"])
		}
	}
}

// TestTwoQueues runs the jobs and queue routes on two real queues: the
// default one without the queue parameter, the other by its name, and an
// unknown name as a 422 naming the queues there are.
func TestTwoQueues(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	c := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix})
	main, hooks := c.Queue(events.QueueName), c.Queue("webhooks")
	a := New(newStore(t), main, &fakeProducer{}, Config{Queues: []Jobs{hooks}})
	srv := httptest.NewServer(a)
	t.Cleanup(func() { a.CloseStreams(); srv.Close() })
	b := &bundle{srv: srv, api: a}
	ctx := t.Context()

	s := openStream(t, b, "/api/jobs/events?after=0&queue=webhooks")
	inMain, err := main.Add(ctx, "process-mock-data", nil, queue.JobOptions{ID: "same"})
	if err != nil {
		t.Fatal(err)
	}
	inHooks, err := hooks.Add(ctx, "deliver-webhook", []byte(`{"n":2}`), queue.JobOptions{ID: "same", Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The webhooks queue's stream carries its own add, the delayed one, and
	// not the other queue's, which came first.
	if m, ok := s.next(); !ok || m.event != "added" || !strings.Contains(m.data, `"dueAt"`) {
		t.Fatalf("webhooks stream gave %+v, %v", m, ok)
	}

	// One id, one job in each queue: the parameter picks which.
	if got := b.get(t, "/api/jobs/"+inMain.ID).json(t); got["queue"] != events.QueueName || got["state"] != "waiting" {
		t.Fatalf("default queue's job = %v", got)
	}
	if got := b.get(t, "/api/jobs/"+inHooks.ID+"?queue=webhooks").json(t); got["queue"] != "webhooks" || got["state"] != "delayed" {
		t.Fatalf("webhooks queue's job = %v", got)
	}
	if items := b.get(t, "/api/jobs?state=delayed&queue=webhooks").json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("delayed webhooks jobs = %v", items)
	}
	if items := b.get(t, "/api/jobs?state=delayed").json(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("delayed default jobs = %v, want none", items)
	}
	wantStatus(t, b.post(t, "/api/jobs/"+inHooks.ID+"/promote?queue=webhooks", ""), http.StatusNoContent)
	wantProblem(t, b.post(t, "/api/jobs/"+inMain.ID+"/promote", ""), http.StatusConflict)

	// A job asked for in the wrong queue is a 404 that names the right one.
	if _, err := hooks.Add(ctx, "deliver-webhook", nil, queue.JobOptions{ID: "only-hooks"}); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/jobs/only-hooks"},
		{http.MethodPost, "/api/jobs/only-hooks/cancel"},
	} {
		p := wantProblem(t, b.do(t, req.method, req.path, nil), http.StatusNotFound)
		if d, _ := p["detail"].(string); !strings.Contains(d, "?queue=webhooks") {
			t.Fatalf("%s %s: detail %q; want it to name the webhooks queue", req.method, req.path, d)
		}
	}
	if got := b.get(t, "/api/jobs/only-hooks?queue=webhooks").json(t); got["state"] != "waiting" {
		t.Fatalf("the refused cancel changed the job: %v", got)
	}

	// Pausing one queue leaves the other running; stats lists both.
	wantStatus(t, b.post(t, "/api/queue/pause?queue=webhooks", ""), http.StatusNoContent)
	stats := b.get(t, "/api/events/stats").json(t)
	qs := stats["queues"].([]any)
	if len(qs) != 2 || qs[0].(map[string]any)["name"] != events.QueueName || qs[0].(map[string]any)["isPaused"] != false ||
		qs[1].(map[string]any)["name"] != "webhooks" || qs[1].(map[string]any)["isPaused"] != true ||
		stats["queue"].(map[string]any)["name"] != events.QueueName {
		t.Fatalf("stats = %v", stats)
	}
	wantStatus(t, b.post(t, "/api/queue/resume?queue=webhooks", ""), http.StatusNoContent)

	// An unknown queue is a 422 at query.queue on every route that takes one.
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/jobs/same?queue=nope"},
		{http.MethodGet, "/api/jobs?state=waiting&queue=nope"},
		{http.MethodDelete, "/api/jobs/same?queue=nope"},
		{http.MethodPost, "/api/jobs/same/retry?queue=nope"},
		{http.MethodPost, "/api/jobs/same/promote?queue=nope"},
		{http.MethodPost, "/api/jobs/same/cancel?queue=nope"},
		{http.MethodPost, "/api/jobs/retry-failed?queue=nope"},
		{http.MethodPost, "/api/queue/pause?queue=nope"},
		{http.MethodPost, "/api/queue/resume?queue=nope"},
		{http.MethodGet, "/api/jobs/events?queue=nope"},
	} {
		p := wantProblem(t, b.do(t, req.method, req.path, nil), http.StatusUnprocessableEntity)
		if d, _ := p["detail"].(string); !strings.Contains(d, `"nope"`) || !strings.Contains(d, `"webhooks"`) {
			t.Fatalf("%s %s: detail %q", req.method, req.path, d)
		}
	}
	// Nothing was paused by the refused requests.
	if c, err := main.Counts(ctx); err != nil || c.IsPaused {
		t.Fatalf("default queue counts %+v, %v", c, err)
	}
}
