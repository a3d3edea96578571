package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
)

func testJob(id string) *queue.Job {
	at := time.Date(2026, 11, 26, 23, 54, 38, 0, time.UTC)
	return &queue.Job{
		ID:    id,
		Queue: "mock-data-queue",
		Name:  "process-mock-data",
		Data:  []byte(`{"source":"cron"}`),
		State: queue.StateDelayed,
		Options: queue.JobOptions{
			Priority:     5,
			Retries:      3,
			Backoff:      queue.Backoff{Type: queue.BackoffExponential, Delay: 2 * time.Second},
			Timeout:      30 * time.Second,
			RemoveOnFail: queue.KeepLast(100),
		},
		Attempt:   2,
		Failures:  1,
		History:   []queue.AttemptError{{Attempt: 1, Error: "boom", At: at.Add(time.Second)}},
		Progress:  json.RawMessage(`{"pct":50}`),
		Error:     "boom",
		AddedAt:   at,
		StartedAt: at.Add(time.Second),
		DueAt:     at.Add(3 * time.Second),
	}
}

func TestGetJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.GetFunc = func(_ context.Context, id string) (*queue.Job, error) {
		switch id {
		case "7":
			return testJob(id), nil
		case "8":
			j := testJob(id)
			j.Data = []byte("not json")
			return j, nil
		}
		return nil, queue.ErrNotFound
	}

	res := b.get(t, "/api/jobs/7")
	wantStatus(t, res, http.StatusOK)
	want := `{"id":"7","queue":"mock-data-queue","name":"process-mock-data","state":"delayed","data":{"source":"cron"},` +
		`"attempt":2,"maxAttempts":4,"failures":1,"stalls":0,` +
		`"history":[{"attempt":1,"error":"boom","at":"2026-11-26T23:54:39.000Z"}],"progress":{"pct":50},"error":"boom",` +
		`"addedAt":"2026-11-26T23:54:38.000Z","startedAt":"2026-11-26T23:54:39.000Z","dueAt":"2026-11-26T23:54:41.000Z",` +
		`"options":{"priority":5,"retries":3,"backoff":{"type":"exponential","delayMs":2000},"timeoutMs":30000,` +
		`"removeOnFail":{"policy":"keep","count":100}}}`
	if got := strings.TrimSpace(string(res.body)); got != want {
		t.Fatalf("job =\n%s\nwant\n%s", got, want)
	}

	if data := b.get(t, "/api/jobs/8").json(t)["data"]; data != "not json" {
		t.Fatalf("non-JSON data = %v, want it as a string", data)
	}

	p := wantProblem(t, b.get(t, "/api/jobs/9"), http.StatusNotFound)
	if !strings.Contains(p["detail"].(string), "removed by default") {
		t.Fatalf("404 detail = %q, want it to say completed jobs are removed by default", p["detail"])
	}

	// A removed job that produced an event: the 404 names the event.
	e, err := b.store.Create(context.Background(), events.Event{Name: "done", JobID: "10"})
	if err != nil {
		t.Fatal(err)
	}
	p = wantProblem(t, b.get(t, "/api/jobs/10"), http.StatusNotFound)
	if d := p["detail"].(string); !strings.Contains(d, "completed and was removed") || !strings.Contains(d, "/api/events/"+e.ID) {
		t.Fatalf("404 detail = %q, want it to point at event %s", d, e.ID)
	}
}

func TestListJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var gotState queue.State
	var got queue.PageRequest
	b.jobs.ListFunc = func(_ context.Context, state queue.State, req queue.PageRequest) (queue.JobPage, error) {
		gotState, got = state, req
		return queue.JobPage{Jobs: []*queue.Job{testJob("1"), testJob("2")}, Next: "next-page"}, nil
	}
	b.jobs.CountsFunc = func(context.Context) (queue.Counts, error) {
		return queue.Counts{Waiting: 1, Active: 2, Delayed: 3, Completed: 4, Failed: 5, Paused: 6}, nil
	}

	res := b.get(t, "/api/jobs?state=failed&offset=10&limit=2")
	wantStatus(t, res, http.StatusOK)
	body := res.json(t)
	items, _ := body["items"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["id"] != "2" {
		t.Fatalf("items = %v", items)
	}
	if gotState != queue.StateFailed || got != (queue.PageRequest{Offset: 10, Limit: 2}) {
		t.Fatalf("ListPage(%q, %+v), want (failed, offset 10 limit 2)", gotState, got)
	}
	if body["nextCursor"] != "next-page" || !strings.Contains(string(res.body),
		`"counts":{"waiting":1,"paused":6,"active":2,"delayed":3,"completed":4,"failed":5}`) {
		t.Fatalf("page = %s, want nextCursor and counts", res.body)
	}
	b.get(t, "/api/jobs?state=waiting&cursor=abc")
	if got != (queue.PageRequest{After: "abc", Limit: 50}) {
		t.Fatalf("cursor and defaults: %+v, want after abc, limit 50", got)
	}
	b.jobs.ListFunc = func(context.Context, queue.State, queue.PageRequest) (queue.JobPage, error) {
		return queue.JobPage{}, fmt.Errorf("%w: no", queue.ErrInvalidCursor)
	}
	wantProblem(t, b.get(t, "/api/jobs?state=waiting&cursor=abc"), http.StatusBadRequest)

	b.jobs.ListFunc = nil
	if res := b.get(t, "/api/jobs?state=active"); !strings.Contains(string(res.body), `"items":[]`) || strings.Contains(string(res.body), "nextCursor") {
		t.Fatalf("no jobs = %s, want items []", res.body)
	}

	for _, q := range []string{"", "state=done", "state=failed&limit=0", "state=failed&limit=1001", "state=failed&limit=x", "state=failed&offset=-1", "state=failed&offset=1&cursor=x"} {
		wantProblem(t, b.get(t, "/api/jobs?"+q), http.StatusUnprocessableEntity)
	}
}

func TestJobActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Job "1" allows everything, "2" is in the wrong state for everything,
	// any other id does not exist.
	action := func(_ context.Context, id string) error {
		switch id {
		case "1":
			return nil
		case "2":
			return queue.ErrWrongState
		}
		return queue.ErrNotFound
	}
	b.jobs.RemoveFunc, b.jobs.RetryFunc, b.jobs.PromoteFunc, b.jobs.CancelFunc = action, action, action, action

	for _, tc := range []struct {
		method, path string
		ok           int
	}{
		{http.MethodDelete, "/api/jobs/%s", http.StatusNoContent},
		{http.MethodPost, "/api/jobs/%s/retry", http.StatusNoContent},
		{http.MethodPost, "/api/jobs/%s/promote", http.StatusNoContent},
		{http.MethodPost, "/api/jobs/%s/cancel", http.StatusAccepted},
	} {
		path := func(id string) string { return strings.Replace(tc.path, "%s", id, 1) }
		wantStatus(t, b.do(t, tc.method, path("1"), nil), tc.ok)
		p := wantProblem(t, b.do(t, tc.method, path("2"), nil), http.StatusConflict)
		if !strings.Contains(p["detail"].(string), `job "2"`) {
			t.Errorf("%s %s: detail %q does not name the job", tc.method, path("2"), p["detail"])
		}
		wantProblem(t, b.do(t, tc.method, path("3"), nil), http.StatusNotFound)
	}

	b.jobs.RetryAllFunc = func(context.Context) (int, error) { return 4, nil }
	res := b.post(t, "/api/jobs/retry-failed", "")
	wantStatus(t, res, http.StatusOK)
	if got := strings.TrimSpace(string(res.body)); got != `{"retried":4}` {
		t.Fatalf("retry-failed = %s", got)
	}

	var paused []bool
	b.jobs.PauseFunc = func(context.Context) error { paused = append(paused, true); return nil }
	b.jobs.ResumeFunc = func(context.Context) error { paused = append(paused, false); return nil }
	wantStatus(t, b.post(t, "/api/queue/pause", ""), http.StatusNoContent)
	wantStatus(t, b.post(t, "/api/queue/resume", ""), http.StatusNoContent)
	if !slices.Equal(paused, []bool{true, false}) {
		t.Fatalf("pause/resume calls = %v", paused)
	}
}

func TestSchedules(t *testing.T) {
	t.Parallel()
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.get(t, "/api/schedules")
		wantStatus(t, res, http.StatusOK)
		if got := strings.TrimSpace(string(res.body)); got != `{"items":[]}` {
			t.Fatalf("schedules = %s, want an empty list", got)
		}
	})
	t.Run("listed", func(t *testing.T) {
		t.Parallel()
		next := time.Date(2026, 11, 27, 0, 0, 2, 0, time.UTC)
		b := setup(t, func(c *Config) {
			c.Schedules = &fakeSchedules{ListFunc: func(context.Context) ([]schedule.Info, error) {
				return []schedule.Info{
					{Name: "generate", Spec: "*/2 * * * * *", LastRun: next.Add(-2 * time.Second), NextRun: next},
					{Name: "cleanup", Spec: "0 0 0 * * *", NextRun: next},
				}, nil
			}}
		})
		got := strings.TrimSpace(string(b.get(t, "/api/schedules").body))
		want := `{"items":[{"name":"generate","spec":"*/2 * * * * *","lastRun":"2026-11-27T00:00:00.000Z","nextRun":"2026-11-27T00:00:02.000Z"},` +
			`{"name":"cleanup","spec":"0 0 0 * * *","nextRun":"2026-11-27T00:00:02.000Z"}]}`
		if got != want {
			t.Fatalf("schedules =\n%s\nwant\n%s", got, want)
		}
	})
}
