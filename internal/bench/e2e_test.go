package bench

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
)

// TestE2ERuns runs the pipeline benchmark at a tiny size on a real SQLite
// store and checks what it counted: one event per job, nothing else.
func TestE2ERuns(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	dir := t.TempDir()
	st, cleanup, err := TempSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := E2E(context.Background(), r.Client, st, E2EOptions{
		Jobs: 300, Concurrency: 10, Steady: 200 * time.Millisecond, Store: "sqlite",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	t.Logf("%s", out)
	if !res.Verified || res.MissingEvents+res.DuplicateEvents+res.UnexpectedEvents != 0 || res.FailedJobs != 0 {
		t.Fatalf("check failed: %s", out)
	}
	if res.JobsAdded <= 300 || res.EventsFound != int64(res.JobsAdded) {
		t.Fatalf("jobs added %d, events found %d; want more than the 300 of the backlog, one event each", res.JobsAdded, res.EventsFound)
	}
	if n, err := st.Count(context.Background(), time.Time{}, time.Time{}); err != nil || n != int64(res.JobsAdded) {
		t.Fatalf("store holds %d events, %v; want %d", n, err, res.JobsAdded)
	}
	if res.StoreWrites < 1 || res.EventsPerSec <= 0 || res.E2EP50Ms <= 0 {
		t.Fatalf("implausible result: %s", out)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("cleanup left %d entries in the data directory", len(left))
	}
	// On a shared TEST_REDIS_URL server another package's run may hold keys.
	if keys, _ := r.Client.Keys(context.Background(), "eventsd-bench-*").Result(); r.Mini != nil && len(keys) != 0 {
		t.Fatalf("the run left keys behind: %v", keys)
	}
}

// listStore is a store that lists a fixed set of events, for checking verify.
type listStore struct {
	events.Store
	events []events.Event
}

func (s listStore) List(_ context.Context, q events.ListQuery) (events.Page, error) {
	start := 0
	if !q.After.IsZero() {
		for i, e := range s.events {
			if e.ID == q.After.ID {
				start = i + 1
			}
		}
	}
	end := min(start+2, len(s.events)) // small pages, to cover paging
	p := events.Page{Items: s.events[start:end]}
	if end < len(s.events) {
		p.Next = events.Cursor{ID: s.events[end-1].ID, CreatedAt: s.events[end-1].CreatedAt}
	}
	return p, nil
}

func (s listStore) Count(context.Context, time.Time, time.Time) (int64, error) {
	return int64(len(s.events)), nil
}

func TestVerifyCounts(t *testing.T) {
	t.Parallel()
	ev := func(jobID string) events.Event { return events.Event{ID: events.NewID(), Name: "x", JobID: jobID} }
	for _, tc := range []struct {
		name   string
		stored []events.Event
		ids    []string
		want   E2EResult
	}{
		{"exact", []events.Event{ev("1"), ev("2"), ev("3")}, []string{"1", "2", "3"},
			E2EResult{EventsFound: 3, Verified: true}},
		{"missing", []events.Event{ev("1"), ev("3")}, []string{"1", "2", "3"},
			E2EResult{EventsFound: 2, MissingEvents: 1}},
		{"duplicate", []events.Event{ev("1"), ev("2"), ev("2"), ev("3")}, []string{"1", "2", "3"},
			E2EResult{EventsFound: 4, DuplicateEvents: 1}},
		{"unexpected", []events.Event{ev("1"), ev(""), ev("9")}, []string{"1"},
			E2EResult{EventsFound: 3, UnexpectedEvents: 2}},
		{"empty store", nil, []string{"1"}, E2EResult{MissingEvents: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got E2EResult
			if err := verify(context.Background(), listStore{events: tc.stored}, tc.ids, func(string, int, int) {}, &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestVerifyFailedJobsFailTheCheck(t *testing.T) {
	t.Parallel()
	res := E2EResult{FailedJobs: 1}
	st := listStore{events: []events.Event{{ID: events.NewID(), Name: "x", JobID: "1"}}}
	if err := verify(context.Background(), st, []string{"1"}, func(string, int, int) {}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Verified {
		t.Fatal("a run with a failed job passed the check")
	}
}
