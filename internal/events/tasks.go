package events

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// storeTimeout bounds one store call made on a job's or task's behalf.
const storeTimeout = 10 * time.Second

// Tasks are the scheduled jobs, as schedule.Func methods: the seed's
// mock-data producer, monitoring and midnight cleanup, and the per-minute
// rollup of event counts (which replaced the seed's event-rate log line).
type Tasks struct {
	Producer *Producer
	Queue    *queue.Queue
	// More queues that Monitor and Cleanup also cover (the webhook
	// deliveries').
	More   []*queue.Queue
	Store  Store
	Logger *slog.Logger
	// JobsRetention: completed and failed jobs older than this are cleaned
	// (default 24 h). EventsRetention: events older than this are deleted;
	// 0 keeps events forever.
	JobsRetention   time.Duration
	EventsRetention time.Duration
}

func (t *Tasks) log() *slog.Logger { return cmp.Or(t.Logger, slog.Default()) }

// MockData adds the slot's mock-data job (every 2 s in the seed).
func (t *Tasks) MockData(ctx context.Context, slot time.Time) error {
	_, err := t.Producer.AddScheduled(ctx, slot)
	return err
}

func (t *Tasks) queues() []*queue.Queue { return append([]*queue.Queue{t.Queue}, t.More...) }

// Monitor logs each queue's counts (every 10 s in the seed).
func (t *Tasks) Monitor(ctx context.Context, slot time.Time) error {
	for _, q := range t.queues() {
		c, err := q.Counts(ctx)
		if err != nil {
			return err
		}
		t.log().Info("queue counts", "queue", q.Name(), "waiting", c.Waiting, "active", c.Active,
			"delayed", c.Delayed, "failed", c.Failed, "paused", c.Paused, "completed_total", c.CompletedTotal,
			"failed_total", c.FailedTotal)
	}
	return nil
}

// Rollup adds the slot's rollup-events job (every minute), which
// recomputes the per-minute counts of the minutes that just closed.
func (t *Tasks) Rollup(ctx context.Context, slot time.Time) error {
	_, err := t.Producer.AddRollup(ctx, slot)
	return err
}

// Cleanup removes every queue's completed and failed jobs past the jobs
// retention and, when
// an events retention is set, events past it (at midnight in the seed).
func (t *Tasks) Cleanup(ctx context.Context, slot time.Time) error {
	retention := cmp.Or(t.JobsRetention, 24*time.Hour)
	var cleaned [2]int
	for _, q := range t.queues() {
		for i, state := range []queue.State{queue.StateCompleted, queue.StateFailed} {
			for {
				n, err := q.Clean(ctx, state, retention, 1000)
				if err != nil {
					return fmt.Errorf("clean %s jobs of %s: %w", state, q.Name(), err)
				}
				cleaned[i] += n
				if n < 1000 {
					break
				}
			}
		}
	}
	var deleted int64
	if t.EventsRetention > 0 {
		n, err := t.Store.DeleteOlderThan(ctx, slot.Add(-t.EventsRetention))
		if err != nil {
			return fmt.Errorf("delete old events: %w", err)
		}
		deleted = n
	}
	t.log().Info("cleanup", "completed_jobs_removed", cleaned[0], "failed_jobs_removed", cleaned[1],
		"events_deleted", deleted, "jobs_retention", retention, "events_retention", t.EventsRetention)
	return nil
}
