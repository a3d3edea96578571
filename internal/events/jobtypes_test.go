package events_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// TestUnknownJobNameFailsAtOnce runs the worker's mux on a job no row of
// JobTypes names: it fails after one attempt, saying what it is and what the
// worker runs, where GET /api/jobs/{id} shows it.
func TestUnknownJobNameFailsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runMux(t)

	j, err := b.q.Add(context.Background(), "send-fax", []byte(`{}`), queue.JobOptions{Retries: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unknown job to fail", func() bool {
		got, err := b.q.Get(context.Background(), j.ID)
		return err == nil && got.State == queue.StateFailed
	})
	got, _ := b.q.Get(context.Background(), j.ID)
	if got.Attempt != 1 || got.Failures != 1 {
		t.Fatalf("unknown job: attempt %d, failures %d; want one attempt of its 6", got.Attempt, got.Failures)
	}
	for _, want := range []string{`unknown job name "send-fax"`, `"process-mock-data"`, "without retry"} {
		if !strings.Contains(got.Error, want) {
			t.Fatalf("error %q does not say %q", got.Error, want)
		}
	}
}

// TestJobsTakeTheirTypesRow checks that each kind of job the Producer adds
// carries its row's retries, backoff, timeout and retention, the retention
// falling back to the deployment's where the row leaves it open.
func TestJobsTakeTheirTypesRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	keep := events.Retention{Completed: queue.KeepLast(100), Failed: queue.KeepFor(time.Hour)}
	prod := events.NewProducer(b.q, events.ProducerConfig{Retention: keep})

	added := map[string]*queue.Job{}
	ids, err := prod.GenerateMock(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if added[events.JobName], err = b.q.Get(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if added[events.ImportJobName], err = prod.Import(ctx, []events.ImportItem{{Name: "x", CreatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if added[events.RollupJobName], err = prod.AddRollup(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	// deliver-webhook jobs are added by internal/webhooks, whose tests check
	// their options against the row.
	if len(added) != len(events.JobTypes)-1 {
		t.Fatalf("added jobs of %d types; the table has %d rows", len(added), len(events.JobTypes))
	}
	for _, jt := range events.JobTypes {
		j, ok := added[jt.Name]
		if !ok {
			continue
		}
		o := j.Options
		if j.MaxAttempts() != jt.Retries+1 || o.Backoff != jt.Backoff || o.Timeout != jt.Timeout {
			t.Errorf("%s job: retries %d, backoff %+v, timeout %s; want its row %+v", jt.Name, o.Retries, o.Backoff, o.Timeout, jt)
		}
		wantC, wantF := jt.KeepCompleted, jt.KeepFailed
		if wantC == (queue.Retention{}) {
			wantC = keep.Completed
		}
		if wantF == (queue.Retention{}) {
			wantF = keep.Failed
		}
		if o.RemoveOnComplete != wantC || o.RemoveOnFail != wantF {
			t.Errorf("%s job: retention %+v / %+v; want %+v / %+v", jt.Name, o.RemoveOnComplete, o.RemoveOnFail, wantC, wantF)
		}
		delete(added, jt.Name)
	}
	if len(added) > 0 {
		t.Fatalf("jobs of types without a row: %v", added)
	}
}

func TestJobTypeDefaultsAreTheSeeds(t *testing.T) {
	t.Parallel()
	o := events.JobTypes[0].Options(events.Retention{})
	if o.RemoveOnComplete != queue.Remove || o.RemoveOnFail != queue.Keep {
		t.Fatalf("default retention %+v / %+v; want completed removed, failed kept", o.RemoveOnComplete, o.RemoveOnFail)
	}
	if o.Retries != 3 || o.Backoff.Delay != 2*time.Second || o.Backoff.Type != queue.BackoffExponential {
		t.Fatalf("mock-data policy %+v; want the seed's 3 retries from 2 s", o)
	}
}

func TestNewMuxWantsEveryRow(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("NewMux without handlers did not panic")
		}
	}()
	events.NewMux(map[string]queue.Handler{})
}

// TestKeepCompletedKeepsSuccesses runs mock-data jobs with KEEP_COMPLETED=100:
// the newest 100 completed jobs stay, with their results, for anyone to
// inspect; older ones go.
func TestKeepCompletedKeepsSuccesses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runWorker(t)
	ctx := context.Background()
	prod := events.NewProducer(b.q, events.ProducerConfig{Retention: events.Retention{Completed: queue.KeepLast(100)}})
	var ids []string
	for range 3 {
		got, err := prod.GenerateMock(ctx, 50)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
		// One round at a time, so that the newest are the last added.
		waitFor(t, "the round's completions", func() bool {
			c, _ := b.q.Counts(ctx)
			return c.CompletedTotal == int64(len(ids))
		})
	}
	if c, _ := b.q.Counts(ctx); c.Completed != 100 {
		t.Fatalf("completed jobs kept = %d; want 100", c.Completed)
	}
	for _, id := range ids[50:] {
		j, err := b.q.Get(ctx, id)
		if err != nil || j.State != queue.StateCompleted || !strings.Contains(string(j.Result), "eventId") {
			t.Fatalf("job %s = %+v, %v; want it completed with its result", id, j, err)
		}
	}
	for _, id := range ids[:50] {
		if _, err := b.q.Get(ctx, id); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("job %s of the oldest round: %v; want it removed", id, err)
		}
	}
}
