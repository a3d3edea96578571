package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// lossyStore is the real store whose CreateMany, on its call number
// failOn, writes and then answers an error, as a lost reply does.
type lossyStore struct {
	events.Store
	calls  atomic.Int32
	failOn int32
}

func (s *lossyStore) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	out, err := s.Store.CreateMany(ctx, es)
	if s.calls.Add(1) == s.failOn {
		return nil, errors.New("connection reset (the write went through)")
	}
	return out, err
}

func importItems(n int, at time.Time) []events.ImportItem {
	items := make([]events.ImportItem, n)
	for i := range items {
		items[i] = events.ImportItem{Name: fmt.Sprintf("import.%d", i%3), CreatedAt: at.Add(time.Duration(i) * time.Second),
			Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	return items
}

// TestImportRetriedMidwayWritesEachEventOnce fails an import's third chunk
// after it was written: the retry rewrites the same ids, and the store ends
// with each event once, progress at 100 and the result {"inserted": n}.
func TestImportRetriedMidwayWritesEachEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	lossy := &lossyStore{Store: b.store, failOn: 3}
	handlers := b.handlers()
	handlers[events.ImportJobName] = events.NewImporter(lossy, nil)
	mux := events.NewMux(handlers)
	w := queue.NewWorker(b.q, mux, queue.WorkerConfig{Logger: slog.New(slog.DiscardHandler)})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	const n = 1234 // three chunks
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	job, err := b.prod.Import(ctx, importItems(n, at))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed attempt", func() bool {
		j, err := b.q.Get(ctx, job.ID)
		return err == nil && j.Failures == 1
	})
	if j, _ := b.q.Get(ctx, job.ID); string(j.Progress) != "81" { // 1000 of 1234 written
		t.Fatalf("progress after two chunks = %s; want 81", j.Progress)
	}
	if err := b.q.Promote(ctx, job.ID); err != nil { // skip the backoff
		t.Fatal(err)
	}
	waitFor(t, "the import to complete", func() bool {
		j, err := b.q.Get(ctx, job.ID)
		return err == nil && j.State == queue.StateCompleted
	})
	j, _ := b.q.Get(ctx, job.ID)
	if string(j.Result) != fmt.Sprintf(`{"inserted":%d}`, n) || string(j.Progress) != "100" {
		t.Fatalf("completed import: result %s, progress %s", j.Result, j.Progress)
	}
	if got, _ := b.store.Count(ctx, time.Time{}, time.Time{}); got != n {
		t.Fatalf("events stored = %d; want %d, each once", got, n)
	}
	for _, i := range []int{0, 999, 1000, n - 1} {
		e, err := b.store.Get(ctx, events.ImportID(job.ID, i, at.Add(time.Duration(i)*time.Second)))
		if err != nil || e.Name != fmt.Sprintf("import.%d", i%3) || string(e.Data) != fmt.Sprintf(`{"i":%d}`, i) ||
			!e.CreatedAt.Equal(at.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("event %d = %+v, %v", i, e, err)
		}
	}
}

func TestImportIDs(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	a, again, other, next := events.ImportID("j1", 7, at), events.ImportID("j1", 7, at),
		events.ImportID("j2", 7, at), events.ImportID("j1", 8, at)
	if a != again || a == other || a == next || !events.ValidID(a) {
		t.Fatalf("ids %s %s %s %s; want valid, equal for one job and index, else different", a, again, other, next)
	}
	if a[:8] != fmt.Sprintf("%08x", at.Unix()) {
		t.Fatalf("id %s does not start with createdAt's seconds, as an ObjectID does", a)
	}
}

func TestImportLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, n := range []int{0, events.MaxImport + 1} {
		if _, err := b.prod.Import(context.Background(), importItems(n, time.Now())); !errors.Is(err, queue.ErrInvalid) {
			t.Fatalf("import of %d events: %v; want ErrInvalid", n, err)
		}
	}
}
