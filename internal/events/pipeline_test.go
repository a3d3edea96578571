package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/queue"
)

type bundle struct {
	q     *queue.Queue
	other *queue.Queue // another queue on the same Redis (as webhooks')
	store *sqlite.Store
	proc  *events.Processor
	prod  *events.Producer
}

func setup(t *testing.T) *bundle {
	t.Helper()
	r := redistest.Start(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix})
	q := c.Queue(events.QueueName)
	batcher := events.NewBatcher(st, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { batcher.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &bundle{q: q, other: c.Queue("other"), store: st, proc: events.NewProcessor(batcher), prod: events.NewProducer(q, events.ProducerConfig{})}
}

// handlers returns a handler for every job type, as the service wires them.
func (b *bundle) handlers() map[string]queue.Handler {
	return map[string]queue.Handler{
		events.JobName:       b.proc,
		events.ImportJobName: events.NewImporter(b.store, events.NewRoller(b.store, nil).Touched),
		events.RollupJobName: events.NewRoller(b.store, nil),
		// internal/webhooks runs these; no test here adds one.
		events.DeliverWebhookJobName: queue.HandlerFunc(func(context.Context, *queue.Job) (any, error) {
			return nil, errors.New("not in these tests")
		}),
	}
}

// runMux runs a worker with every job type's handler, as the service does.
func (b *bundle) runMux(t *testing.T) {
	t.Helper()
	w := queue.NewWorker(b.q, events.NewMux(b.handlers()), queue.WorkerConfig{Concurrency: 20, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (b *bundle) runWorker(t *testing.T) {
	t.Helper()
	w := queue.NewWorker(b.q, b.proc, queue.WorkerConfig{Concurrency: 20, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEveryJobWritesOneEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runWorker(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		got, err := b.prod.GenerateMock(ctx, 200)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	waitFor(t, "600 completions", func() bool {
		c, _ := b.q.Counts(ctx)
		return c.CompletedTotal == 600
	})
	n, err := b.store.Count(ctx, time.Time{}, time.Time{})
	if err != nil || n != 600 {
		t.Fatalf("events = %d, %v; want 600", n, err)
	}
	for _, id := range ids[:20] {
		e, err := b.store.GetByJobID(ctx, id)
		if err != nil || e.Name == "" {
			t.Fatalf("event of job %s: %+v, %v", id, e, err)
		}
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil || len(data) == 0 {
			t.Fatalf("event of job %s has data %s (%v); want a mock-data object", id, e.Data, err)
		}
	}
}

func TestRedeliveredJobWritesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	job := &queue.Job{ID: "77", Name: events.JobName, Data: []byte(`{"name":"order.placed","source":"api"}`)}
	// Two deliveries of one job, concurrently, as after a worker crash.
	var wg sync.WaitGroup
	results := make([]any, 2)
	for i := range 2 {
		wg.Go(func() {
			r, err := b.proc.ProcessJob(ctx, job)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	if results[0] != results[1] {
		t.Fatalf("deliveries wrote different events: %v, %v", results[0], results[1])
	}
	if n, _ := b.store.Count(ctx, time.Time{}, time.Time{}); n != 1 {
		t.Fatalf("events = %d, want 1", n)
	}
}

// TestJobDataBecomesEventData runs payloads with and without data (jobs
// added before events had data have none) through the processor.
func TestJobDataBecomesEventData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, tc := range []struct{ id, payload, want string }{
		{"with-data", `{"name":"order.placed","source":"api","data":{ "orderId" : "o-1", "items" : 2 }}`, `{"orderId":"o-1","items":2}`},
		{"old", `{"name":"order.placed","source":"cron"}`, ""},
	} {
		if _, err := b.proc.ProcessJob(ctx, &queue.Job{ID: tc.id, Name: events.JobName, Data: []byte(tc.payload)}); err != nil {
			t.Fatal(err)
		}
		e, err := b.store.GetByJobID(ctx, tc.id)
		if err != nil || string(e.Data) != tc.want {
			t.Fatalf("event of job %s = %+v, %v; want data %q", tc.id, e, err, tc.want)
		}
	}
}

func TestMalformedPayloadFailsWithoutRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runWorker(t)
	ctx := context.Background()
	var ids []string
	for _, data := range []string{`not json`, `{"name":"   "}`, `{"name":42}`, `{"name":"x","data":[1]}`} {
		j, err := b.q.Add(ctx, events.JobName, []byte(data), events.JobOptions)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	waitFor(t, "four failures", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 4 })
	for _, id := range ids {
		j, err := b.q.Get(ctx, id)
		if err != nil || j.State != queue.StateFailed || j.Failures != 1 || len(j.Error) == 0 {
			t.Fatalf("job %s = %+v, %v; want failed after one attempt", id, j, err)
		}
	}
	if n, _ := b.store.Count(ctx, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("malformed jobs wrote %d events", n)
	}
}

func TestStoreDownIsRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.store.Close() // every write now fails
	b.runWorker(t)
	ctx := context.Background()
	j, err := b.q.Add(ctx, events.JobName, []byte(`{"name":"x"}`), events.JobOptions)
	if err != nil {
		t.Fatal(err)
	}
	// A store error must leave the job its retries: it backs off (2 s before
	// retry 1) instead of failing for good as a malformed payload does.
	waitFor(t, "the first failed attempt", func() bool {
		got, err := b.q.Get(ctx, j.ID)
		return err == nil && got.Failures == 1
	})
	got, _ := b.q.Get(ctx, j.ID)
	if got.State != queue.StateDelayed || got.Error == "" {
		t.Fatalf("job after a store error = state %s, error %q; want delayed for a retry", got.State, got.Error)
	}
}

func TestScheduledJobOnePerSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	slot := time.Date(2026, 11, 27, 0, 0, 2, 0, time.UTC)
	a, err := b.prod.AddScheduled(ctx, slot)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.prod.AddScheduled(ctx, slot)
	if err != nil || again.ID != a.ID {
		t.Fatalf("second add for one slot = %v, %v; want job %s", again, err, a.ID)
	}
	if c, _ := b.q.Counts(ctx); c.Waiting != 1 {
		t.Fatalf("waiting = %d, want 1", c.Waiting)
	}
	if _, err := b.prod.GenerateMock(ctx, 1001); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("count 1001: %v", err)
	}
}

func TestTasks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := events.Now()
	old := now.Add(-48 * time.Hour)
	for _, at := range []time.Time{old, old, now.Add(-30 * time.Second), now} {
		if _, err := b.store.Create(ctx, events.Event{Name: "e", CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// A failed job in another queue the tasks cover, older than the jobs
	// retention by the time Cleanup runs.
	doomed, err := b.other.Add(ctx, "x", nil, queue.JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.other.Cancel(ctx, doomed.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := b.other.Counts(ctx); c.Failed != 1 {
		t.Fatalf("other queue's failed jobs = %d, want the cancelled one", c.Failed)
	}
	time.Sleep(5 * time.Millisecond)
	tasks := &events.Tasks{Producer: b.prod, Queue: b.q, More: []*queue.Queue{b.other}, Store: b.store,
		Logger: slog.New(slog.DiscardHandler), JobsRetention: time.Millisecond, EventsRetention: 24 * time.Hour}
	if err := tasks.MockData(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := tasks.Monitor(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := tasks.Rollup(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := tasks.Cleanup(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.store.Count(ctx, time.Time{}, time.Time{}); n != 2 {
		t.Fatalf("events after cleanup = %d, want the 2 recent ones", n)
	}
	if c, _ := b.q.Counts(ctx); c.Waiting != 2 {
		t.Fatalf("the mock-data and rollup tasks added %d jobs, want 2", c.Waiting)
	}
	if c, _ := b.other.Counts(ctx); c.Failed != 0 {
		t.Fatalf("other queue's failed jobs after cleanup = %d, want 0", c.Failed)
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	long := make([]rune, 201)
	for i := range long {
		long[i] = 'é'
	}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  a  ", "a", true},
		{"", "", false},
		{"\t\n", "", false},
		{string(long[:200]), string(long[:200]), true},
		{string(long), "", false},
		{"\xff", "", false},
	} {
		got, err := events.CleanName(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("CleanName(%q) = %q, %v", tc.in, got, err)
		}
	}
}
