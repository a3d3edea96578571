package queue

import (
	"context"
	"testing"
	"time"
)

// redisAfter waits until Redis's clock has passed t by at least a
// millisecond, so that what happens next is later than t in the engine's
// millisecond times.
func redisAfter(t *testing.T, b *bundle, at time.Time) time.Time {
	t.Helper()
	var now time.Time
	waitFor(t, "Redis's clock to pass "+at.String(), func() bool {
		n, err := b.rdb.Time(context.Background()).Result()
		now = n
		return err == nil && n.Truncate(time.Millisecond).After(at)
	})
	return now
}

// pausedTimeNotPickup: a job added to a paused queue becomes runnable when
// the queue resumes, not when it was added, so that pickup latency
// (StartedAt − ReadyAt) leaves out the time spent paused.
func pausedTimeNotPickup(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	if err := b.q.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	j := mustAdd(t, b.q, "p", nil, JobOptions{})
	if c, _ := b.q.Counts(ctx); c.Paused != 1 || c.OldestWaiting != 0 {
		t.Fatalf("paused queue: counts %+v, want 1 paused and no oldest waiting age", c)
	}
	redisAfter(t, b, j.AddedAt)
	if err := b.q.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	w.await(t, "resumed", func(e Event) bool { return e.Type == EventResumed })
	seen := make(chan *Job, 1)
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		seen <- job
		return nil, nil
	}, WorkerConfig{})
	ran := <-seen
	if !ran.ReadyAt.After(j.AddedAt) || ran.StartedAt.Before(ran.ReadyAt) {
		t.Fatalf("job added at %s while paused: ready at %s, started at %s; want ready at the resume, after the add",
			j.AddedAt, ran.ReadyAt, ran.StartedAt)
	}
}

// oldestWaiting: Counts.OldestWaiting is the age of the job next in line,
// from when it became runnable, and zero when nothing waits.
func oldestWaiting(t *testing.T, b *bundle) {
	ctx := context.Background()
	if c, _ := b.q.Counts(ctx); c.OldestWaiting != 0 {
		t.Fatalf("empty queue: oldest waiting %s, want 0", c.OldestWaiting)
	}
	first := mustAdd(t, b.q, "first", nil, JobOptions{})
	mustAdd(t, b.q, "low", nil, JobOptions{Priority: 5})
	mustAdd(t, b.q, "later", nil, JobOptions{Delay: time.Hour})
	redisAfter(t, b, first.AddedAt)
	c, err := b.q.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := redisAfter(t, b, time.Time{})
	if c.OldestWaiting <= 0 || c.OldestWaiting > now.Sub(first.AddedAt)+time.Millisecond {
		t.Fatalf("oldest waiting %s; want above 0 and at most the %s since the first job was added",
			c.OldestWaiting, now.Sub(first.AddedAt))
	}
	// Paused, nothing is runnable.
	if err := b.q.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := b.q.Counts(ctx); c.OldestWaiting != 0 {
		t.Fatalf("paused queue: oldest waiting %s, want 0", c.OldestWaiting)
	}
}
