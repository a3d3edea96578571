package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
)

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestBatcherIsolatesBadEvents writes a batch in which one event is bad and
// one was stored already by an attempt that failed: the bad one gets its
// own error, the others are stored, and the stored one is found, not
// written twice.
func TestBatcherIsolatesBadEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openSQLite(t)
	b := events.NewBatcher(st, 0)
	earlier, err := st.Create(ctx, events.Event{Name: "stored.by.a.lost.attempt"})
	if err != nil {
		t.Fatal(err)
	}
	batch := []events.Event{
		{ID: events.NewID(), Name: "good.one"},
		{ID: events.NewID(), Name: ""},
		{ID: earlier.ID, Name: "stored.by.a.lost.attempt", CreatedAt: earlier.CreatedAt},
		{ID: events.NewID(), Name: "good.two", Data: json.RawMessage(`{"n":2}`)},
		{Name: "by.job", JobID: "job-1"},
	}
	got, errs := events.WriteBatch(ctx, b, batch, []bool{true, true, true, true, false})
	if !errors.Is(errs[1], events.ErrEmptyName) {
		t.Errorf("the bad event: %v, want ErrEmptyName", errs[1])
	}
	for _, i := range []int{0, 2, 3, 4} {
		if errs[i] != nil {
			t.Fatalf("event %d (%s) failed with its batch's bad neighbour: %v", i, batch[i].Name, errs[i])
		}
		if got[i].Name != batch[i].Name {
			t.Errorf("event %d stored as %+v", i, got[i])
		}
	}
	if got[2].ID != earlier.ID || !got[2].CreatedAt.Equal(earlier.CreatedAt) {
		t.Errorf("the event an earlier attempt stored came back as %+v, want %+v", got[2], earlier)
	}
	// By name: the other events may share the earlier one's millisecond.
	if p, err := st.List(ctx, events.ListQuery{Name: earlier.Name}); err != nil || len(p.Items) != 1 {
		t.Errorf("%d events named %s (%v), want 1: stored twice", len(p.Items), earlier.Name, err)
	}
	if n, err := st.Count(ctx, got[0].CreatedAt.AddDate(-1, 0, 0), got[0].CreatedAt.AddDate(1, 0, 0)); err != nil || n != 4 {
		t.Errorf("%d events stored (%v), want 4", n, err)
	}
}

// TestBatcherConcurrentWrites has many writers, a few of them bad, write at
// once through Run: each gets its own answer.
func TestBatcherConcurrentWrites(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	b := events.NewBatcher(st, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e := events.Event{Name: "concurrent"}
			if i%50 == 7 {
				e.Data = json.RawMessage(`[1]`) // not an object
			}
			_, errs[i] = b.Write(context.Background(), e)
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case i%50 == 7:
			if !errors.Is(err, events.ErrInvalidData) {
				t.Errorf("write %d (bad data): %v, want ErrInvalidData", i, err)
			}
		case err != nil:
			t.Errorf("write %d: %v", i, err)
		default:
			ok++
		}
	}
	page, err := st.List(context.Background(), events.ListQuery{Limit: events.MaxLimit})
	if err != nil || len(page.Items) != ok {
		t.Fatalf("%d events stored (%v), want %d", len(page.Items), err, ok)
	}
}
