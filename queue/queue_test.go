package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAddAndProcess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	j, err := b.q.Add(ctx, "greet", []byte(`{"who":"world"}`), JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == "" || j.State != StateWaiting || j.AddedAt.IsZero() {
		t.Fatalf("added job = %+v", j)
	}
	got := mustState(t, b.q, j.ID, StateWaiting)
	if string(got.Data) != `{"who":"world"}` || got.Name != "greet" || got.Options.Retries != DefaultRetries {
		t.Fatalf("stored job = %+v", got)
	}

	seen := make(chan *Job, 1)
	w := NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		seen <- job
		return map[string]string{"hello": "world"}, nil
	}), WorkerConfig{Concurrency: 2, Observer: Observer{}})
	startWorker(t, w)
	ran := <-seen
	if ran.ID != j.ID || string(ran.Data) != `{"who":"world"}` || ran.Attempt != 1 {
		t.Fatalf("handler saw %+v", ran)
	}
	waitFor(t, "completion", func() bool {
		c, err := b.q.Counts(ctx)
		return err == nil && c.CompletedTotal == 1
	})
	// Completed jobs are removed by default.
	if _, err := b.q.Get(ctx, j.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get completed job: err = %v, want ErrNotFound", err)
	}
	c, _ := b.q.Counts(ctx)
	if c != (Counts{CompletedTotal: 1}) {
		t.Fatalf("counts = %+v", c)
	}
}

func TestResultAndProgressKept(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	progressed := make(chan struct{})
	proceed := make(chan struct{})
	w := NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		if err := job.ReportProgress(ctx, 50); err != nil {
			return nil, err
		}
		close(progressed)
		<-proceed
		if err := job.ReportProgress(ctx, map[string]int{"done": 10, "of": 10}); err != nil {
			return nil, err
		}
		return map[string]any{"sum": 42}, nil
	}), WorkerConfig{})
	startWorker(t, w)
	j, err := b.q.Add(ctx, "sum", nil, JobOptions{RemoveOnComplete: Keep})
	if err != nil {
		t.Fatal(err)
	}
	<-progressed
	// Progress is readable from another process while the job runs.
	other := b.otherProcess(t)
	running := mustState(t, other, j.ID, StateActive)
	if string(running.Progress) != "50" || running.StartedAt.IsZero() {
		t.Fatalf("running job = %+v", running)
	}
	close(proceed)
	waitFor(t, "completion", func() bool {
		j, err := other.Get(ctx, j.ID)
		return err == nil && j.State == StateCompleted
	})
	done := mustState(t, other, j.ID, StateCompleted)
	if string(done.Result) != `{"sum":42}` || string(done.Progress) != `{"done":10,"of":10}` || done.FinishedAt.IsZero() || done.Attempt != 1 {
		t.Fatalf("completed job = %+v", done)
	}
}

func TestIdempotentAddByID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	_, err := b.q.Add(ctx, "a", []byte("one"), JobOptions{ID: "order-7"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.q.Add(ctx, "a", []byte("two"), JobOptions{ID: "order-7", Priority: 5})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != "order-7" || string(second.Data) != "one" || second.Options.Priority != 0 {
		t.Fatalf("second add returned %+v, want the first job unchanged", second)
	}
	c, _ := b.q.Counts(ctx)
	if c.Waiting != 1 {
		t.Fatalf("waiting = %d, want 1", c.Waiting)
	}
	if _, err := b.q.Add(ctx, "a", nil, JobOptions{ID: "42"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("integer custom id: err = %v, want ErrInvalid", err)
	}
}

func TestDedupKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a, _ := b.q.Add(ctx, "sync", nil, JobOptions{DedupKey: "user-1"})
	dup, err := b.q.Add(ctx, "sync", nil, JobOptions{DedupKey: "user-1"})
	if err != nil || dup.ID != a.ID {
		t.Fatalf("dedup add = %v, %v; want job %s", dup, err, a.ID)
	}
	other, _ := b.q.Add(ctx, "sync", nil, JobOptions{DedupKey: "user-2"})
	if other.ID == a.ID {
		t.Fatal("different dedup keys gave one job")
	}
	// Once the job ends, the key is free again.
	done := make(chan struct{}, 2)
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		done <- struct{}{}
		return nil, nil
	}), WorkerConfig{}))
	<-done
	<-done
	waitFor(t, "completions", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == 2 })
	again, _ := b.q.Add(ctx, "sync", nil, JobOptions{DedupKey: "user-1"})
	if again.ID == a.ID {
		t.Fatal("dedup key still held after its job completed")
	}
}

func TestBulkAdd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	jobs := make([]NewJob, 1234)
	for i := range jobs {
		jobs[i] = NewJob{Name: "bulk", Data: []byte(fmt.Sprint(i))}
	}
	jobs[7].Options.ID = "custom-7"
	added, err := b.q.AddBulk(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for i, j := range added {
		if string(j.Data) != fmt.Sprint(i) || ids[j.ID] {
			t.Fatalf("job %d = %+v (duplicate id or wrong order)", i, j)
		}
		ids[j.ID] = true
	}
	if added[7].ID != "custom-7" {
		t.Fatalf("custom id lost: %s", added[7].ID)
	}
	c, _ := b.q.Counts(ctx)
	if c.Waiting != 1234 {
		t.Fatalf("waiting = %d", c.Waiting)
	}
	// FIFO order within one priority.
	list, err := b.q.List(ctx, StateWaiting, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := range list {
		if string(j.Data) != fmt.Sprint(i) {
			t.Fatalf("waiting[%d] = %s", i, j.Data)
		}
	}
}

func TestPriorityAndDelayOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, p := range []int{5, 0, 1000, 0, 5, 1} {
		if _, err := b.q.Add(ctx, "p", []byte(fmt.Sprint(p)), JobOptions{Priority: p}); err != nil {
			t.Fatal(err)
		}
	}
	b.q.Add(ctx, "p", []byte("delayed-late"), JobOptions{Delay: 400 * time.Millisecond})
	b.q.Add(ctx, "p", []byte("delayed-early"), JobOptions{Delay: 200 * time.Millisecond})
	var mu sync.Mutex
	var order []string
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		order = append(order, string(job.Data))
		mu.Unlock()
		return nil, nil
	}), WorkerConfig{Concurrency: 1}))
	waitFor(t, "all jobs", func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 8 })
	want := []string{"0", "0", "1", "5", "5", "1000", "delayed-early", "delayed-late"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("run order %v, want %v", order, want)
	}
	if _, err := b.q.Add(ctx, "p", nil, JobOptions{Priority: 1001}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("priority 1001: %v", err)
	}
}

func TestRetryScheduleThenFailed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var mu sync.Mutex
	var starts []time.Time
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil, fmt.Errorf("boom %d", job.Attempt)
	}), WorkerConfig{}))
	// The seed's policy scaled down: 3 retries, exponential from 100 ms.
	j, err := b.q.Add(ctx, "flaky", nil, JobOptions{Backoff: Backoff{Delay: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "failure", func() bool {
		j, err := b.q.Get(ctx, j.ID)
		return err == nil && j.State == StateFailed
	})
	failed := mustState(t, b.q, j.ID, StateFailed)
	if failed.Failures != 4 || failed.Attempt != 4 || failed.Error != "boom 4" || len(failed.History) != 4 {
		t.Fatalf("failed job = %+v", failed)
	}
	for i, h := range failed.History {
		if h.Attempt != i+1 || h.Error != fmt.Sprintf("boom %d", i+1) || h.Stalled {
			t.Fatalf("history[%d] = %+v", i, h)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 4 {
		t.Fatalf("%d attempts, want 4", len(starts))
	}
	// Gaps must be at least the backoff (100, 200, 400 ms): a retry never
	// starts early. How late it may start is a benchmark figure, not a test.
	for i, want := range []time.Duration{100, 200, 400} {
		if gap := starts[i+1].Sub(starts[i]); gap < want*time.Millisecond-5*time.Millisecond {
			t.Errorf("gap before retry %d = %s, want >= %dms", i+1, gap, want)
		}
	}
	c, _ := b.q.Counts(ctx)
	if c.Failed != 1 || c.FailedTotal != 1 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestBackoffDelays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    Backoff
		n    int
		want time.Duration
	}{
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 1, 2 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 2, 4 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 3, 8 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: time.Second, Max: 5 * time.Second}, 10, 5 * time.Second},
		{Backoff{Type: BackoffFixed, Delay: time.Second}, 7, time.Second},
		{Backoff{Type: BackoffExponential, Delay: time.Hour}, 200, 365 * 24 * time.Hour},
	} {
		if got := tc.b.delay(tc.n); got != tc.want {
			t.Errorf("%+v.delay(%d) = %s, want %s", tc.b, tc.n, got, tc.want)
		}
	}
}

func TestSkipRetryAndRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var calls atomic.Int32
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		calls.Add(1)
		switch string(job.Data) {
		case "skip":
			return nil, SkipRetry(errors.New("bad input"))
		default:
			if job.Attempt == 1 {
				return nil, RetryAfter(time.Millisecond, errors.New("later"))
			}
			return "ok", nil
		}
	}), WorkerConfig{}))
	skip, _ := b.q.Add(ctx, "x", []byte("skip"), JobOptions{})
	later, _ := b.q.Add(ctx, "x", []byte("later"), JobOptions{RemoveOnComplete: Keep, Backoff: Backoff{Delay: time.Hour}})
	waitFor(t, "both done", func() bool {
		c, _ := b.q.Counts(ctx)
		return c.FailedTotal == 1 && c.CompletedTotal == 1
	})
	if j := mustState(t, b.q, skip.ID, StateFailed); j.Failures != 1 || j.Error != "bad input" {
		t.Fatalf("skipped job = %+v", j)
	}
	if j := mustState(t, b.q, later.ID, StateCompleted); j.Attempt != 2 {
		t.Fatalf("retried job = %+v", j)
	}
}

func TestPanicFailsAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		panic("kaboom")
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{Retries: NoRetries})
	waitFor(t, "failure", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 1 })
	if got := mustState(t, b.q, j.ID, StateFailed); got.Error != "handler panicked: kaboom" {
		t.Fatalf("error = %q", got.Error)
	}
}

func TestMuxUnknownName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mux := NewMux()
	mux.HandleFunc("known", func(ctx context.Context, job *Job) (any, error) { return nil, nil })
	startWorker(t, NewWorker(b.q, mux, WorkerConfig{}))
	b.q.Add(ctx, "known", nil, JobOptions{})
	u, _ := b.q.Add(ctx, "unknown", nil, JobOptions{})
	waitFor(t, "both", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == 1 && c.FailedTotal == 1 })
	if j := mustState(t, b.q, u.ID, StateFailed); j.Failures != 1 {
		t.Fatalf("unknown-name job retried: %+v", j)
	}
}

func TestResultNotJSONFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		return func() {}, nil
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	waitFor(t, "failure", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 1 })
	if got := mustState(t, b.q, j.ID, StateFailed); got.Failures != 1 {
		t.Fatalf("job = %+v", got)
	}
}

var _ = json.Valid

func TestGeneratedIDsSurviveDataLoss(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	first, err := b.q.Add(ctx, "x", nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Redis loses the queue (a restart without persistence): the counter
	// starts again, but the ids must not repeat, since stores key
	// idempotency on them.
	if err := b.r.Client.Del(ctx, b.q.keys...).Err(); err != nil {
		t.Fatal(err)
	}
	second, err := b.q.Add(ctx, "x", nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == second.ID {
		t.Fatalf("id %s reused after the queue was lost", first.ID)
	}
	third, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	if p1, _, _ := strings.Cut(second.ID, "-"); !strings.HasPrefix(third.ID, p1+"-") {
		t.Fatalf("ids %s and %s of one queue lifetime have different epochs", second.ID, third.ID)
	}
}
