package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// directCounts counts the store's events per minute and name in [from, to)
// the slow way, by listing them.
func directCounts(t *testing.T, s events.Store, from, to time.Time) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	q := events.ListQuery{From: from, To: to, Limit: events.MaxLimit}
	for {
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			out[e.CreatedAt.Truncate(time.Minute).Format(time.RFC3339)+" "+e.Name]++
		}
		if p.Next.IsZero() {
			return out
		}
		q.After = p.Next
	}
}

func storedCounts(t *testing.T, s events.Store, from, to time.Time) map[string]int64 {
	t.Helper()
	cs, err := s.MinuteCounts(context.Background(), events.CountQuery{From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cs {
		out[c.Minute.Format(time.RFC3339)+" "+c.Name] = c.Count
	}
	return out
}

func sameMaps(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// TestImportOfPastEventsRecountsClosedMinutes rolls minutes up, then
// imports events into them: the import recounts them, and the counts agree
// with counting the events.
func TestImportOfPastEventsRecountsClosedMinutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.runMux(t)

	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	for i := range 30 { // events that were there before, already counted
		if _, err := b.store.Create(ctx, events.Event{Name: "before", CreatedAt: start.Add(time.Duration(i) * 17 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	minutes := make([]time.Time, 10)
	for i := range minutes {
		minutes[i] = start.Add(time.Duration(i) * time.Minute)
	}
	if err := b.store.RollUp(ctx, minutes); err != nil {
		t.Fatal(err)
	}
	sameMaps(t, "counts before the import", storedCounts(t, b.store, start, end), directCounts(t, b.store, start, end))

	job, err := b.prod.Import(ctx, importItems(1200, start.Add(3*time.Second))) // ~20 minutes from 9:00
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the import", func() bool {
		j, err := b.q.Get(ctx, job.ID)
		return err == nil && j.State == queue.StateCompleted
	})
	end = start.Add(21 * time.Minute)
	want := directCounts(t, b.store, start, end)
	if len(want) < 20 {
		t.Fatalf("direct counts %v; want the import spread over 20 minutes", want)
	}
	sameMaps(t, "counts after the import", storedCounts(t, b.store, start, end), want)
}

// TestRollupJobCountsTheMinutesThatClosed runs rollup-events jobs for slots:
// each recounts the two minutes before its slot, so a late write into the
// minute before is counted by the next slot's job.
func TestRollupJobCountsTheMinutesThatClosed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runMux(t)
	ctx := context.Background()
	slot := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for _, e := range []events.Event{
		{Name: "a", CreatedAt: slot.Add(-3 * time.Minute)}, // before the lookback
		{Name: "a", CreatedAt: slot.Add(-2 * time.Minute)},
		{Name: "b", CreatedAt: slot.Add(-time.Millisecond)},
		{Name: "c", CreatedAt: slot}, // the open minute
	} {
		if _, err := b.store.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	run := func(slot time.Time) *queue.Job {
		j, err := b.prod.AddRollup(ctx, slot)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the rollup", func() bool {
			got, err := b.q.Get(ctx, j.ID)
			return errors.Is(err, queue.ErrNotFound) || (err == nil && got.State == queue.StateFailed)
		})
		if got, err := b.q.Get(ctx, j.ID); err == nil {
			t.Fatalf("rollup job %+v; want it completed (and removed)", got)
		}
		return j
	}
	run(slot)
	if again, _ := b.prod.AddRollup(ctx, slot); again.ID != "rollup-"+fmt.Sprint(slot.UnixMilli()) {
		t.Fatalf("rollup job id %s; want one derived from the slot", again.ID)
	}
	from := slot.Add(-time.Hour)
	sameMaps(t, "counts", storedCounts(t, b.store, from, slot.Add(time.Hour)), map[string]int64{
		"2026-11-02T09:58:00Z a": 1,
		"2026-11-02T09:59:00Z b": 1,
	})
	// A late write into 9:59, then the next minute's job.
	if _, err := b.store.Create(ctx, events.Event{Name: "b", CreatedAt: slot.Add(-30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	run(slot.Add(time.Minute))
	sameMaps(t, "counts", storedCounts(t, b.store, from, slot.Add(time.Hour)), map[string]int64{
		"2026-11-02T09:58:00Z a": 1,
		"2026-11-02T09:59:00Z b": 2,
		"2026-11-02T10:00:00Z c": 1,
	})
}

func TestMalformedRollupFailsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := events.NewRoller(b.store, nil)
	for _, data := range []string{`x`, `{}`, `{"slot": 5}`} {
		_, err := r.ProcessJob(context.Background(), &queue.Job{ID: "r", Name: events.RollupJobName, Data: []byte(data)})
		if err == nil {
			t.Fatalf("rollup of %s: no error", data)
		}
	}
	res, err := r.ProcessJob(context.Background(), &queue.Job{ID: "r", Name: events.RollupJobName,
		Data: []byte(`{"slot": "2026-11-02T10:00:30Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(res)
	if string(got) != `{"minutes":["2026-11-02T09:58:00Z","2026-11-02T09:59:00Z"]}` {
		t.Fatalf("result %s; want the two minutes before the slot's", got)
	}
}

// TestTouchedLeavesOpenMinutes checks that writes into the open minute are
// left to that minute's job.
func TestTouchedLeavesOpenMinutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 2, 10, 0, 30, 0, time.UTC)
	es := []events.Event{{Name: "closed", CreatedAt: now.Add(-time.Minute)}, {Name: "open", CreatedAt: now}}
	if _, err := b.store.CreateMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	if err := events.NewRoller(b.store, func() time.Time { return now }).Touched(ctx, es); err != nil {
		t.Fatal(err)
	}
	sameMaps(t, "counts", storedCounts(t, b.store, time.Time{}, time.Time{}), map[string]int64{"2026-11-02T09:59:00Z closed": 1})
}
