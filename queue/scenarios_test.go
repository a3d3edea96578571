package queue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scenarios run on every backend; see setup_test.go.
var scenarios = []scenario{
	{"add and process", addAndProcess},
	{"result and progress kept", resultAndProgressKept},
	{"idempotent add by id", idempotentAddByID},
	{"dedup key", dedupKey},
	{"bulk add", bulkAdd},
	{"priority and delay order", priorityAndDelayOrder},
	{"retry schedule then failed", retryScheduleThenFailed},
	{"delayed job, retries with backoff", delayedJobRetries},
	{"skip retry and retry after", skipRetryAndRetryAfter},
	{"panic fails the attempt", panicFailsAttempt},
	{"mux: unknown name fails", muxUnknownName},
	{"result not JSON fails", resultNotJSONFails},
	{"pause and resume from another process", pauseResume},
	{"paused time is not pickup latency", pausedTimeNotPickup},
	{"oldest waiting job", oldestWaiting},
	{"cancel a running job from another process", cancelRunning},
	{"cancel waiting and delayed jobs", cancelWaitingAndDelayed},
	{"remove, promote, retry", removePromoteRetry},
	{"remove of a running job refused", removeActiveRefused},
	{"clean and retention", cleanAndRetention},
	{"keep for an age", keepForAge},
	{"list pages", listPages},
	{"list pages by cursor while jobs move", listPagesByCursor},
	{"timeout fails the attempt", timeoutFailsAttempt},
	{"lifecycle events across processes", lifecycleEvents},
	{"shared event stream", sharedEventStream},
	{"many workers, every job once", everyJobOnce},
	{"a long job keeps its lease", longJobKeepsLease},
	{"lost worker's job is redelivered", lostWorkerRedelivered},
	{"stall limit fails the job", stallLimitFailsJob},
	{"stale worker cannot complete a redelivered job", staleWorkerCannotComplete},
	{"graceful shutdown hands jobs back", gracefulShutdown},
	{"generated ids: time-ordered, never custom", generatedIDs},
}

func TestStandalone(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, setup(t))
		})
	}
}

func ok(ctx context.Context, job *Job) (any, error) { return nil, nil }

func addAndProcess(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	j := mustAdd(t, b.q, "greet", []byte(`{"who":"world"}`), JobOptions{})
	if j.ID == "" || j.State != StateWaiting || j.AddedAt.IsZero() {
		t.Fatalf("added job = %+v", j)
	}
	got := mustState(t, b.q, j.ID, StateWaiting)
	if string(got.Data) != `{"who":"world"}` || got.Name != "greet" || got.Options.Retries != DefaultRetries {
		t.Fatalf("stored job = %+v", got)
	}
	seen := make(chan *Job, 1)
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		seen <- job
		return map[string]string{"hello": "world"}, nil
	}, WorkerConfig{Concurrency: 2})
	ran := <-seen
	if ran.ID != j.ID || string(ran.Data) != `{"who":"world"}` || ran.Attempt != 1 || ran.ReadyAt.IsZero() || ran.StartedAt.Before(ran.ReadyAt) {
		t.Fatalf("handler saw %+v", ran)
	}
	if e := w.awaitJob(t, j.ID, EventCompleted); e.Attempt != 1 {
		t.Fatalf("completed event %+v", e)
	}
	// Completed jobs are removed by default.
	if _, err := b.q.Get(ctx, j.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get completed job: err = %v, want ErrNotFound", err)
	}
	if c, _ := b.q.Counts(ctx); c != (Counts{CompletedTotal: 1}) {
		t.Fatalf("counts = %+v", c)
	}
}

func resultAndProgressKept(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	progressed := make(chan struct{})
	proceed := make(chan struct{})
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		if err := job.ReportProgress(ctx, 50); err != nil {
			return nil, err
		}
		// The same progress again changes nothing and publishes nothing.
		if err := job.ReportProgress(ctx, 50); err != nil {
			return nil, err
		}
		close(progressed)
		<-proceed
		if err := job.ReportProgress(ctx, map[string]int{"done": 10, "of": 10}); err != nil {
			return nil, err
		}
		return map[string]any{"sum": 42}, nil
	}, WorkerConfig{})
	j := mustAdd(t, b.q, "sum", nil, JobOptions{RemoveOnComplete: Keep})
	<-progressed
	// Progress is readable from another process while the job runs.
	other := b.otherProcess(t)
	running := mustState(t, other, j.ID, StateActive)
	if string(running.Progress) != "50" || running.StartedAt.IsZero() {
		t.Fatalf("running job = %+v", running)
	}
	close(proceed)
	w.awaitJob(t, j.ID, EventCompleted)
	done := mustState(t, other, j.ID, StateCompleted)
	if string(done.Result) != `{"sum":42}` || string(done.Progress) != `{"done":10,"of":10}` || done.FinishedAt.IsZero() || done.Attempt != 1 {
		t.Fatalf("completed job = %+v", done)
	}
	if n := w.seenOf(EventProgress); n != 2 {
		t.Fatalf("%d progress events, want 2 (a repeated value publishes nothing)", n)
	}
	_ = ctx
}

func idempotentAddByID(t *testing.T, b *bundle) {
	ctx := context.Background()
	mustAdd(t, b.q, "a", []byte("one"), JobOptions{ID: "order-7"})
	second := mustAdd(t, b.otherProcess(t), "a", []byte("two"), JobOptions{ID: "order-7", Priority: 5})
	if second.ID != "order-7" || string(second.Data) != "one" || second.Options.Priority != 0 {
		t.Fatalf("second add returned %+v, want the first job unchanged", second)
	}
	// Twice in one bulk add: the second is the first.
	both, err := b.q.AddBulk(ctx, []NewJob{{Name: "b", Data: []byte("x"), Options: JobOptions{ID: "pair"}}, {Name: "b", Data: []byte("y"), Options: JobOptions{ID: "pair"}}})
	if err != nil || both[1].ID != "pair" || string(both[1].Data) != "x" {
		t.Fatalf("bulk add with one id twice = %+v, %v", both, err)
	}
	if c, _ := b.q.Counts(ctx); c.Waiting != 2 {
		t.Fatalf("waiting = %d, want 2", c.Waiting)
	}
	// Integers are fine as custom ids; generated ids are UUIDv7 and cannot be taken.
	mustAdd(t, b.q, "a", nil, JobOptions{ID: "42"})
}

func dedupKey(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	a := mustAdd(t, b.q, "sync", nil, JobOptions{DedupKey: "user-1"})
	dup, err := b.otherProcess(t).Add(ctx, "sync", nil, JobOptions{DedupKey: "user-1"})
	if err != nil || dup.ID != a.ID {
		t.Fatalf("dedup add = %v, %v; want job %s", dup, err, a.ID)
	}
	other := mustAdd(t, b.q, "sync", nil, JobOptions{DedupKey: "user-2"})
	if other.ID == a.ID {
		t.Fatal("different dedup keys gave one job")
	}
	// Once the job ends, the key is free again.
	b.startWorker(t, b.q, ok, WorkerConfig{})
	w.awaitCount(t, EventCompleted, 2)
	if again := mustAdd(t, b.q, "sync", nil, JobOptions{DedupKey: "user-1"}); again.ID == a.ID {
		t.Fatal("dedup key still held after its job completed")
	}
}

func bulkAdd(t *testing.T, b *bundle) {
	ctx := context.Background()
	// More than one pipelined chunk.
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
	if c, _ := b.q.Counts(ctx); c.Waiting != 1234 {
		t.Fatalf("waiting = %d", c.Waiting)
	}
	// FIFO order within one priority, page by page.
	seen := 0
	for off := 0; off < 1234; off += 500 {
		page, err := b.otherProcess(t).List(ctx, StateWaiting, off, 500)
		if err != nil {
			t.Fatal(err)
		}
		for i, j := range page {
			if off == 0 && i < 3 && string(j.Data) != fmt.Sprint(i) {
				t.Fatalf("waiting[%d] = %s, want FIFO order", i, j.Data)
			}
		}
		seen += len(page)
	}
	if seen != 1234 {
		t.Fatalf("listed %d jobs, want 1234", seen)
	}
}

func priorityAndDelayOrder(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	for _, p := range []int{5, 0, 1000, 0, 5, 1} {
		mustAdd(t, b.q, "p", []byte(fmt.Sprint(p)), JobOptions{Priority: p})
	}
	mustAdd(t, b.q, "p", []byte("delayed-late"), JobOptions{Delay: 400 * time.Millisecond})
	mustAdd(t, b.q, "p", []byte("delayed-early"), JobOptions{Delay: 200 * time.Millisecond})
	var mu sync.Mutex
	var order []string
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		order = append(order, string(job.Data))
		mu.Unlock()
		return nil, nil
	}, WorkerConfig{Concurrency: 1})
	w.awaitCount(t, EventCompleted, 8)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"0", "0", "1", "5", "5", "1000", "delayed-early", "delayed-late"}
	if !slices.Equal(order, want) {
		t.Fatalf("run order %v, want %v", order, want)
	}
	if _, err := b.q.Add(ctx, "p", nil, JobOptions{Priority: 1001}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("priority 1001: %v", err)
	}
}

func retryScheduleThenFailed(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	var mu sync.Mutex
	var starts []time.Time
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil, fmt.Errorf("boom %d", job.Attempt)
	}, WorkerConfig{})
	b.logs.expect("job failed")
	// The seed's policy scaled down: 3 retries, exponential from 100 ms.
	j := mustAdd(t, b.q, "flaky", nil, JobOptions{Backoff: Backoff{Delay: 100 * time.Millisecond}})
	if e := w.awaitJob(t, j.ID, EventFailed); e.Attempt != 4 || e.Error != "boom 4" {
		t.Fatalf("failed event %+v", e)
	}
	if n := w.seenOf(EventRetrying); n != 3 {
		t.Fatalf("%d retrying events, want 3", n)
	}
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
	if c, _ := b.q.Counts(context.Background()); c.Failed != 1 || c.FailedTotal != 1 {
		t.Fatalf("counts = %+v", c)
	}
}

func delayedJobRetries(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	var mu sync.Mutex
	var starts []time.Time
	b.startWorker(t, b.otherProcess(t), func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		if job.Attempt < 3 {
			return nil, fmt.Errorf("boom %d", job.Attempt)
		}
		return "third time", nil
	}, WorkerConfig{})
	j := mustAdd(t, b.q, "flaky", nil, JobOptions{
		Delay: 150 * time.Millisecond, Retries: 2, Backoff: Backoff{Delay: 100 * time.Millisecond},
		RemoveOnComplete: Keep,
	})
	if j.State != StateDelayed || j.DueAt.Sub(j.AddedAt) != 150*time.Millisecond {
		t.Fatalf("added job = %+v, want delayed 150ms", j)
	}
	if e := w.awaitJob(t, j.ID, EventAdded); e.DueAt != j.DueAt {
		t.Fatalf("added event %+v, want due %s", e, j.DueAt)
	}
	w.awaitJob(t, j.ID, EventCompleted)
	done := mustState(t, b.q, j.ID, StateCompleted)
	if done.Attempt != 3 || done.Failures != 2 || len(done.History) != 2 || string(done.Result) != `"third time"` {
		t.Fatalf("completed job = %+v", done)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 3 {
		t.Fatalf("%d attempts, want 3", len(starts))
	}
	const slack = 5 * time.Millisecond
	if wait := starts[0].Sub(j.AddedAt); wait < 150*time.Millisecond-slack {
		t.Errorf("first attempt %s after the add, want >= 150ms", wait)
	}
	for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
		if gap := starts[i+1].Sub(starts[i]); gap < want-slack {
			t.Errorf("gap before retry %d = %s, want >= %s", i+1, gap, want)
		}
	}
}

func skipRetryAndRetryAfter(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		switch string(job.Data) {
		case "skip":
			return nil, SkipRetry(errors.New("bad input"))
		default:
			if job.Attempt == 1 {
				return nil, RetryAfter(time.Millisecond, errors.New("later"))
			}
			return "ok", nil
		}
	}, WorkerConfig{})
	skip := mustAdd(t, b.q, "x", []byte("skip"), JobOptions{})
	later := mustAdd(t, b.q, "x", []byte("later"), JobOptions{RemoveOnComplete: Keep, Backoff: Backoff{Delay: time.Hour}})
	w.awaitJob(t, skip.ID, EventFailed)
	w.awaitJob(t, later.ID, EventCompleted)
	if j := mustState(t, b.q, skip.ID, StateFailed); j.Failures != 1 || j.Error != "bad input" {
		t.Fatalf("skipped job = %+v", j)
	}
	if j := mustState(t, b.q, later.ID, StateCompleted); j.Attempt != 2 {
		t.Fatalf("retried job = %+v", j)
	}
}

func panicFailsAttempt(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	b.logs.expect("job handler panicked")
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) { panic("kaboom") }, WorkerConfig{})
	j := mustAdd(t, b.q, "x", nil, JobOptions{Retries: NoRetries})
	if e := w.awaitJob(t, j.ID, EventFailed); e.Error != "handler panicked: kaboom" {
		t.Fatalf("failed event %+v", e)
	}
}

func muxUnknownName(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	b.logs.expect("job failed")
	mux := NewMux()
	mux.HandleFunc("known", ok)
	startWorker(t, b.newWorker(b.q, mux.ProcessJob, WorkerConfig{}))
	mustAdd(t, b.q, "known", nil, JobOptions{})
	u := mustAdd(t, b.q, "unknown", nil, JobOptions{})
	w.awaitJob(t, u.ID, EventFailed)
	w.awaitCount(t, EventCompleted, 1)
	if j := mustState(t, b.q, u.ID, StateFailed); j.Failures != 1 || j.Error != `unknown job name "unknown": this worker runs only "known"; the job fails without retry` {
		t.Fatalf("unknown-name job = %+v", j)
	}
}

func resultNotJSONFails(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) { return func() {}, nil }, WorkerConfig{})
	// Kept, the result must be JSON; removed, it goes nowhere and is not encoded.
	j := mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: Keep})
	gone := mustAdd(t, b.q, "x", nil, JobOptions{})
	w.awaitJob(t, j.ID, EventFailed)
	w.awaitJob(t, gone.ID, EventCompleted)
	if got := mustState(t, b.q, j.ID, StateFailed); got.Failures != 1 {
		t.Fatalf("job = %+v", got)
	}
}

func pauseResume(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	var ran, fetches atomic.Int32
	wk := b.newWorker(b.q, func(ctx context.Context, job *Job) (any, error) {
		ran.Add(1)
		return nil, nil
	}, WorkerConfig{MaxIdleWait: time.Second})
	wk.hooks.afterFetch = func(int) { fetches.Add(1) }
	startWorker(t, wk)
	// Paused from another process: the worker here must stop taking jobs.
	other := b.otherProcess(t)
	if err := other.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	w.await(t, "paused", func(e Event) bool { return e.Type == EventPaused })
	for i := range 5 {
		mustAdd(t, b.q, "p", []byte(fmt.Sprint(i)), JobOptions{})
	}
	// A worker that ran a paused job would run it on the fetch after the
	// adds: let one happen.
	after := fetches.Load()
	waitFor(t, "a fetch after the adds", func() bool { return fetches.Load() > after })
	if c, _ := b.q.Counts(ctx); ran.Load() != 0 || !c.IsPaused || c.Paused != 5 || c.Waiting != 0 || w.seenOf(EventActive) != 0 {
		t.Fatalf("paused queue: ran %d, counts %+v", ran.Load(), c)
	}
	if list, _ := b.q.List(ctx, StatePaused, 0, 10); len(list) != 5 || list[0].State != StatePaused {
		t.Fatalf("paused list = %d jobs", len(list))
	}
	// Pausing twice is harmless.
	if err := other.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	w.awaitCount(t, EventCompleted, 5)
	if n := ran.Load(); n != 5 {
		t.Fatalf("ran %d jobs after resume, want 5", n)
	}
}

func cancelRunning(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	started := make(chan string, 1)
	causes := make(chan error, 1)
	type observation struct {
		to  State
		err error
	}
	observed := make(chan observation, 1)
	b.logs.expect("job failed")
	// A lease long enough that no heartbeat (every lease/3) comes in the
	// test's lifetime: the cancel can only arrive by pub/sub.
	wk := b.newWorker(b.q, func(ctx context.Context, job *Job) (any, error) {
		started <- job.ID
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	}, WorkerConfig{LeaseTime: time.Hour, Observer: Observer{Finished: func(_ *Job, to State, _ time.Duration, err error) {
		observed <- observation{to, err}
	}}})
	subscribed := make(chan struct{})
	wk.hooks.subscribed = func() { close(subscribed) }
	startWorker(t, wk)
	<-subscribed
	j := mustAdd(t, b.q, "long", nil, JobOptions{})
	<-started
	other := b.otherProcess(t)
	if err := other.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	var cause error
	select {
	case cause = <-causes:
	case <-time.After(hang):
		t.Fatal("the handler never saw the cancel")
	}
	if !errors.Is(cause, ErrCancelled) {
		t.Fatalf("handler context cause = %v, want ErrCancelled", cause)
	}
	// The observer (the job metrics) hears of a cancellation, not a failure.
	if o := <-observed; o.to != StateFailed || !errors.Is(o.err, ErrCancelled) || !errors.Is(o.err, context.Canceled) {
		t.Fatalf("observer told %v, %v; want StateFailed and an error wrapping ErrCancelled and the handler's", o.to, o.err)
	}
	if e := w.awaitJob(t, j.ID, EventFailed); e.Error != "cancelled: context canceled" {
		t.Fatalf("failed event %+v", e)
	}
	got := mustState(t, other, j.ID, StateFailed)
	if got.Failures != 1 || got.Error != "cancelled: context canceled" {
		t.Fatalf("cancelled job = %+v (must fail once, without retry)", got)
	}
	if c, _ := b.q.Counts(ctx); c.CancelledTotal != 1 || c.FailedTotal != 0 {
		t.Fatalf("counts = %+v; want the cancellation counted apart", c)
	}
	if err := other.Cancel(ctx, j.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("cancel a failed job: %v", err)
	}
	if err := other.Cancel(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel unknown job: %v", err)
	}
}

func cancelWaitingAndDelayed(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := mustAdd(t, b.q, "x", nil, JobOptions{})
	d := mustAdd(t, b.q, "x", nil, JobOptions{Delay: time.Hour})
	for _, id := range []string{w.ID, d.ID} {
		if err := b.q.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		// Cancelled before it ran: no attempt made.
		if j := mustState(t, b.q, id, StateFailed); j.Error != "cancelled" || j.Failures != 0 || j.Attempt != 0 {
			t.Fatalf("job %s = %+v", id, j)
		}
	}
	c, _ := b.q.Counts(ctx)
	if c.Waiting != 0 || c.Delayed != 0 || c.Failed != 2 || c.FailedTotal != 0 || c.CancelledTotal != 2 {
		t.Fatalf("counts = %+v", c)
	}
}

func removePromoteRetry(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	waiting := mustAdd(t, b.q, "x", nil, JobOptions{})
	if err := b.q.Remove(ctx, waiting.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.q.Get(ctx, waiting.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed job still there: %v", err)
	}
	if err := b.q.Remove(ctx, waiting.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	delayed := mustAdd(t, b.q, "x", nil, JobOptions{Delay: time.Hour})
	if j := mustState(t, b.q, delayed.ID, StateDelayed); j.DueAt.Sub(j.AddedAt) != time.Hour {
		t.Fatalf("delayed job due %s after add", j.DueAt.Sub(j.AddedAt))
	}
	if err := b.q.Promote(ctx, delayed.ID); err != nil {
		t.Fatal(err)
	}
	mustState(t, b.q, delayed.ID, StateWaiting)
	if err := b.q.Promote(ctx, delayed.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("promote a waiting job: %v", err)
	}
	if err := b.q.Retry(ctx, delayed.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("retry a waiting job: %v", err)
	}
	b.q.Remove(ctx, delayed.ID)

	// Fail three jobs, then retry one and then all.
	var failNow atomic.Bool
	failNow.Store(true)
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		if failNow.Load() {
			return nil, errors.New("down")
		}
		return nil, nil
	}, WorkerConfig{})
	var ids []string
	for range 3 {
		ids = append(ids, mustAdd(t, b.q, "x", nil, JobOptions{Retries: NoRetries}).ID)
	}
	w.awaitCount(t, EventFailed, 3)
	if list, err := b.q.List(ctx, StateFailed, 0, 10); err != nil || len(list) != 3 || list[0].Error != "down" {
		t.Fatalf("failed list = %d jobs, %v", len(list), err)
	}
	if err := b.q.Remove(ctx, ids[2]); err != nil {
		t.Fatalf("remove failed job: %v", err)
	}
	failNow.Store(false)
	if err := b.q.Retry(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	w.awaitJob(t, ids[0], EventCompleted)
	n, err := b.q.RetryAll(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RetryAll = %d, %v; want 1", n, err)
	}
	w.awaitJob(t, ids[1], EventCompleted)
	if c, _ := b.q.Counts(ctx); c != (Counts{FailedTotal: 3, CompletedTotal: 2}) {
		t.Fatalf("counts = %+v", c)
	}
}

func removeActiveRefused(t *testing.T, b *bundle) {
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		close(started)
		<-release
		return nil, nil
	}, WorkerConfig{})
	j := mustAdd(t, b.q, "x", nil, JobOptions{})
	<-started
	if err := b.q.Remove(ctx, j.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("remove active job: %v", err)
	}
	close(release)
}

func cleanAndRetention(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	var fail atomic.Bool
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		if fail.Load() {
			return nil, errors.New("no")
		}
		return nil, nil
	}, WorkerConfig{})
	// Keep the last 3 completed jobs.
	for range 5 {
		mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: KeepLast(3)})
	}
	w.awaitCount(t, EventCompleted, 5)
	if c, _ := b.q.Counts(ctx); c.Completed != 3 {
		t.Fatalf("kept %d completed jobs, want 3", c.Completed)
	}
	fail.Store(true)
	for range 4 {
		mustAdd(t, b.q, "x", nil, JobOptions{Retries: NoRetries})
	}
	w.awaitCount(t, EventFailed, 4)
	// Nothing is older than an hour; everything is older than 0.
	if n, err := b.q.Clean(ctx, StateFailed, time.Hour, 100); err != nil || n != 0 {
		t.Fatalf("clean failed older than 1h = %d, %v", n, err)
	}
	if n, err := b.q.Clean(ctx, StateFailed, 0, 3); err != nil || n != 3 {
		t.Fatalf("clean 3 failed = %d, %v", n, err)
	}
	if n, err := b.q.Clean(ctx, StateCompleted, 0, 100); err != nil || n != 3 {
		t.Fatalf("clean completed = %d, %v", n, err)
	}
	mustAdd(t, b.q, "x", nil, JobOptions{Delay: time.Hour})
	if n, err := b.q.Clean(ctx, StateDelayed, 0, 100); err != nil || n != 1 {
		t.Fatalf("clean delayed = %d, %v", n, err)
	}
	if _, err := b.q.Clean(ctx, StateActive, 0, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("clean active: %v", err)
	}
	if c, _ := b.q.Counts(ctx); c.Failed != 1 || c.Completed != 0 || c.Delayed != 0 {
		t.Fatalf("counts after clean = %+v", c)
	}
}

func keepForAge(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	b.startWorker(t, b.q, ok, WorkerConfig{})
	first := mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: KeepFor(50 * time.Millisecond)})
	w.awaitJob(t, first.ID, EventCompleted)
	time.Sleep(100 * time.Millisecond) // the first outlives its age
	second := mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: KeepFor(50 * time.Millisecond)})
	w.awaitJob(t, second.ID, EventCompleted)
	// Finishing the second trims the first, which is past its age.
	if _, err := b.q.Get(ctx, first.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job past its age still kept: %v", err)
	}
	mustState(t, b.q, second.ID, StateCompleted)
}

func listPages(t *testing.T, b *bundle) {
	ctx := context.Background()
	for i := range 25 {
		mustAdd(t, b.q, "x", []byte(fmt.Sprint(i)), JobOptions{})
	}
	seen := map[string]bool{}
	for off := 0; off < 30; off += 10 {
		page, err := b.q.List(ctx, StateWaiting, off, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page {
			if seen[j.ID] {
				t.Fatalf("job %s on two pages", j.ID)
			}
			seen[j.ID] = true
		}
	}
	if len(seen) != 25 {
		t.Fatalf("listed %d jobs, want 25", len(seen))
	}
	for _, off := range []int{25, 1 << 40, 1<<40 + 1, 1<<62 - 1} {
		if page, err := b.q.List(ctx, StateWaiting, off, 10); err != nil || len(page) != 0 {
			t.Fatalf("list at offset %d = %d jobs, %v; want an empty page", off, len(page), err)
		}
	}
	if _, err := b.q.List(ctx, "bogus", 0, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bogus state: %v", err)
	}
	if _, err := b.q.List(ctx, StateWaiting, 0, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("limit 0: %v", err)
	}
}

func timeoutFailsAttempt(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	b.logs.expect("job failed")
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, WorkerConfig{})
	j := mustAdd(t, b.q, "slow", nil, JobOptions{Timeout: 20 * time.Millisecond, Retries: 1, Backoff: Backoff{Type: BackoffFixed, Delay: time.Millisecond}})
	w.awaitJob(t, j.ID, EventFailed)
	got := mustState(t, b.q, j.ID, StateFailed)
	if got.Failures != 2 || got.Error != "timed out after 20ms: context deadline exceeded" {
		t.Fatalf("timed-out job = %+v", got)
	}
}

func lifecycleEvents(t *testing.T, b *bundle) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other := b.otherProcess(t)
	type rec struct {
		typ EventType
		job string
		id  string
	}
	got := make(chan rec, 100)
	go func() {
		// From "0": this queue is the test's own, so nothing is missed
		// however late the subscription starts.
		for e, err := range other.Events(ctx, "0") {
			if err != nil {
				return
			}
			got <- rec{e.Type, e.JobID, e.ID}
		}
	}()
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		job.ReportProgress(ctx, job.Attempt)
		if job.Attempt == 1 {
			return nil, RetryAfter(time.Millisecond, errors.New("again"))
		}
		return nil, nil
	}, WorkerConfig{})
	j := mustAdd(t, b.q, "x", nil, JobOptions{})
	want := []EventType{EventAdded, EventActive, EventProgress, EventRetrying, EventActive, EventProgress, EventCompleted}
	var seen []EventType
	var ids []string
	timeout := time.After(hang)
	for len(seen) < len(want) {
		select {
		case r := <-got:
			if r.job == j.ID {
				seen = append(seen, r.typ)
				ids = append(ids, r.id)
			}
		case <-timeout:
			t.Fatalf("events seen %v, want %v", seen, want)
		}
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("events %v, want %v", seen, want)
	}
	// Resuming after any event gives exactly what followed it.
	for k := range ids[:len(ids)-1] {
		var rest []EventType
		rctx, rcancel := context.WithTimeout(ctx, hang)
		for e, err := range other.Events(rctx, ids[k]) {
			if err != nil {
				t.Fatal(err)
			}
			rest = append(rest, e.Type)
			if e.Type == EventCompleted {
				break
			}
		}
		rcancel()
		if !slices.Equal(rest, want[k+1:]) {
			t.Fatalf("after %s: %v, want %v", ids[k], rest, want[k+1:])
		}
	}
}

func sharedEventStream(t *testing.T, b *bundle) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := b.otherProcess(t).NewEventStream()
	runDone := make(chan error, 1)
	go func() { runDone <- stream.Run(ctx) }()

	// Subscribed before the add, read after it: the added event is seen.
	fresh := stream.Subscribe(ctx, "$")
	first := mustAdd(t, b.q, "x", nil, JobOptions{})
	next, stop := iter.Pull2(fresh)
	e, err, ok := next()
	if !ok || err != nil || e.JobID != first.ID || e.Type != EventAdded {
		t.Fatalf("first event %+v, %v, %v; want job %s added", e, err, ok, first.ID)
	}
	stop()

	// A resumed subscriber gets exactly what followed its id, then live ones.
	second := mustAdd(t, b.q, "x", nil, JobOptions{})
	var got []string
	for e, err := range stream.Subscribe(ctx, e.ID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.JobID)
		if len(got) == 1 {
			mustAdd(t, b.q, "third", nil, JobOptions{})
		}
		if len(got) == 2 {
			break
		}
	}
	if got[0] != second.ID {
		t.Fatalf("resumed after the first event: %v, want %s then the third", got, second.ID)
	}

	// A subscriber that reads nothing falls behind and is dropped; another
	// is not held up. (Four batches of slack instead of 256, to get there.)
	stream.mu.Lock()
	stream.buffer = 4
	stream.mu.Unlock()
	dropsStalledSubscriber(t, ctx, b.q, stream, 20)

	// Stopping the stream ends its subscriptions.
	last := stream.Subscribe(context.Background(), "$")
	cancel()
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, err := range last {
		if !errors.Is(err, ErrStreamClosed) {
			t.Fatalf("after Run returned: %v, want ErrStreamClosed", err)
		}
		break
	}
}

func everyJobOnce(t *testing.T, b *bundle) {
	ctx := context.Background()
	const jobs = 5000
	w := watch(t, b.q)
	var mu sync.Mutex
	runs := make(map[string]int, jobs)
	h := func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		runs[string(job.Data)]++
		mu.Unlock()
		return nil, nil
	}
	// Four worker "processes", each on its own Redis connection.
	for range 4 {
		b.startWorker(t, b.otherProcess(t), h, WorkerConfig{Concurrency: 25})
	}
	batch := make([]NewJob, jobs)
	for i := range batch {
		batch[i] = NewJob{Name: "n", Data: []byte(strconv.Itoa(i))}
	}
	// Add from two connections at once while the workers run.
	var wg sync.WaitGroup
	for half := range 2 {
		q := b.otherProcess(t)
		wg.Go(func() {
			part := batch[half*jobs/2 : (half+1)*jobs/2]
			for start := 0; start < len(part); start += 300 {
				if _, err := q.AddBulk(ctx, part[start:min(start+300, len(part))]); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	w.awaitCount(t, EventCompleted, jobs)
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != jobs {
		t.Fatalf("%d distinct jobs ran, want %d", len(runs), jobs)
	}
	for data, n := range runs {
		if n != 1 {
			t.Fatalf("job %s ran %d times", data, n)
		}
	}
	if c, _ := b.q.Counts(ctx); c != (Counts{CompletedTotal: jobs}) {
		t.Fatalf("counts = %+v", c)
	}
}

func longJobKeepsLease(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	beats := make(chan struct{})
	// Many heartbeats (every 2/3 s) pass while the job runs: each must
	// renew its lease, or the job would be handed back as a stall.
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		close(beats)
		return "done", nil
	}, WorkerConfig{LeaseTime: 2 * time.Second})
	j := mustAdd(t, b.q, "long", nil, JobOptions{RemoveOnComplete: Keep})
	w.awaitJob(t, j.ID, EventCompleted)
	<-beats
	if got := mustState(t, b.q, j.ID, StateCompleted); got.Stalls != 0 || string(got.Result) != `"done"` {
		t.Fatalf("long job = %+v; want it completed by its one delivery", got)
	}
	if n := w.seenOf(EventStalled); n != 0 {
		t.Fatalf("%d stalls", n)
	}
}

// leaseAndVanish leases jobs like a worker that then dies: no heartbeat, no ack.
func leaseAndVanish(t *testing.T, q *Queue, n int, lease time.Duration) []string {
	t.Helper()
	var ids []string
	for _, f := range leaseRaw(t, q, n, lease) {
		ids = append(ids, f.id)
	}
	return ids
}

// leaseRaw leases jobs as a fetch does and returns what the script answered.
func leaseRaw(t *testing.T, q *Queue, n int, lease time.Duration) []fetched {
	t.Helper()
	res, err := q.callArray(context.Background(), scriptFetch, request{}, fetchArgs{count: n, lease: lease, maxStalls: 100}.args()...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeFetch(res)
	if err != nil {
		t.Fatal(err)
	}
	return r.jobs
}

func lostWorkerRedelivered(t *testing.T, b *bundle) {
	w := watch(t, b.q)
	lost := mustAdd(t, b.q, "lost", []byte("payload"), JobOptions{RemoveOnComplete: Keep})
	if ids := leaseAndVanish(t, b.otherProcess(t), 1, 50*time.Millisecond); len(ids) != 1 {
		t.Fatal("no job leased")
	}
	ran := make(chan *Job, 1)
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		ran <- job
		return "recovered", nil
	}, WorkerConfig{})
	if e := w.awaitJob(t, lost.ID, EventStalled); e.Attempt != 1 {
		t.Fatalf("stalled event %+v", e)
	}
	got := <-ran
	if string(got.Data) != "payload" || got.Attempt != 1 || got.Stalls != 1 || got.Failures != 0 {
		t.Fatalf("redelivered job = %+v; want attempt 1, 1 stall, no failure", got)
	}
	w.awaitJob(t, lost.ID, EventCompleted)
	done := mustState(t, b.q, lost.ID, StateCompleted)
	if len(done.History) != 1 || !done.History[0].Stalled || done.Failures != 0 || string(done.Result) != `"recovered"` {
		t.Fatalf("completed job = %+v", done)
	}
}

func stallLimitFailsJob(t *testing.T, b *bundle) {
	ctx := context.Background()
	j := mustAdd(t, b.q, "x", nil, JobOptions{})
	dead := b.otherProcess(t)
	// Two workers die holding the job; with MaxStalls 1 the second loss fails it.
	for round := range 2 {
		waitFor(t, "job ready", func() bool { return len(leaseAndVanish(t, dead, 1, 50*time.Millisecond)) == 1 })
		time.Sleep(60 * time.Millisecond) // let the lease run out
		// A live worker's fetch reaps the expired lease.
		if _, err := b.q.callArray(ctx, scriptFetch, request{}, fetchArgs{count: 0, lease: time.Second, maxStalls: 1}.args()...); err != nil {
			t.Fatal(err)
		}
		got, _ := b.q.Get(ctx, j.ID)
		switch round {
		case 0:
			if got.State != StateWaiting || got.Stalls != 1 || got.Failures != 0 {
				t.Fatalf("after first stall: %+v", got)
			}
		case 1:
			if got.State != StateFailed || got.Stalls != 2 || got.Error != "stalled 2 times: its worker was lost each time" {
				t.Fatalf("after second stall: %+v", got)
			}
		}
	}
	if c, _ := b.q.Counts(ctx); c.FailedTotal != 1 || c.Active != 0 {
		t.Fatalf("counts = %+v", c)
	}
}

func staleWorkerCannotComplete(t *testing.T, b *bundle) {
	ctx := context.Background()
	j := mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: Keep})
	zombie := leaseRaw(t, b.q, 1, 30*time.Millisecond)
	if len(zombie) != 1 {
		t.Fatal("no job leased")
	}
	time.Sleep(40 * time.Millisecond)
	// A new delivery (2) takes the job; the zombie (delivery 1) comes back.
	live := leaseRaw(t, b.q, 1, 10*time.Second)
	if len(live) != 1 || live[0].id != j.ID {
		t.Fatalf("redelivery = %v", live)
	}
	ack := func(f fetched, result string) []int {
		job := &Job{ID: j.ID, Options: j.Options, Attempt: 1, run: &running{state: f.run}}
		job.Options.RemoveOnComplete = Keep
		_, args := ackArgs([]outcome{completedOutcome(job, result)})
		reply, err := b.q.call(ctx, scriptAck, request{}, args...)
		if err != nil {
			t.Fatal(err)
		}
		lost, err := decodePositions(reply)
		if err != nil {
			t.Fatal(err)
		}
		return lost
	}
	if lost := ack(zombie[0], `"zombie"`); !slices.Equal(lost, []int{1}) {
		t.Fatalf("zombie ack: lost %v; want it refused", lost)
	}
	mustState(t, b.q, j.ID, StateActive)
	// Handed back (a stopping worker), the live delivery is over too.
	run, _ := parseRun(live[0].run)
	if _, err := b.q.call(ctx, scriptRelease, request{}, j.ID, run.deliveries); err != nil {
		t.Fatal(err)
	}
	if lost := ack(live[0], `"released"`); !slices.Equal(lost, []int{1}) {
		t.Fatalf("ack after a hand-back: lost %v; want it refused", lost)
	}
	mustState(t, b.q, j.ID, StateWaiting)
	live = leaseRaw(t, b.q, 1, 10*time.Second)
	if lost := ack(live[0], `"live"`); len(lost) != 0 {
		t.Fatalf("live ack: lost %v", lost)
	}
	if got := mustState(t, b.q, j.ID, StateCompleted); string(got.Result) != `"live"` {
		t.Fatalf("result %s", got.Result)
	}
}

func gracefulShutdown(t *testing.T, b *bundle) {
	ctx := context.Background()
	w := watch(t, b.q)
	var started atomic.Int32
	quick := mustAdd(t, b.q, "quick", nil, JobOptions{RemoveOnComplete: Keep})
	stuck := mustAdd(t, b.q, "stuck", nil, JobOptions{})
	finishQuick := make(chan struct{})
	b.logs.expect("shutdown timeout passed")
	stop := b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		started.Add(1)
		if job.Name == "quick" {
			<-finishQuick // finishes within the shutdown timeout
			return nil, nil
		}
		<-ctx.Done() // stuck until the worker gives up on it
		return nil, errors.New("interrupted")
	}, WorkerConfig{ShutdownTimeout: 300 * time.Millisecond})
	waitFor(t, "both started", func() bool { return started.Load() == 2 })
	go func() { time.Sleep(50 * time.Millisecond); close(finishQuick) }()
	stop()
	mustState(t, b.q, quick.ID, StateCompleted)
	back := mustState(t, b.q, stuck.ID, StateWaiting)
	if back.Failures != 0 || back.Stalls != 0 || len(back.History) != 0 {
		t.Fatalf("handed-back job = %+v; want no retry consumed", back)
	}
	w.awaitJob(t, stuck.ID, EventReleased)
	if c, _ := b.q.Counts(ctx); c.Active != 0 || c.Waiting != 1 || c.FailedTotal != 0 {
		t.Fatalf("counts = %+v", c)
	}
}

func generatedIDs(t *testing.T, b *bundle) {
	ctx := context.Background()
	var prev string
	for range 50 {
		j := mustAdd(t, b.q, "x", nil, JobOptions{})
		if !generatedForm(j.ID) || j.ID <= prev {
			t.Fatalf("generated id %q after %q: want increasing UUIDv7s", j.ID, prev)
		}
		prev = j.ID
		if _, err := b.q.Add(ctx, "x", nil, JobOptions{ID: j.ID}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("custom id of generated form: %v", err)
		}
	}
}

// dropsStalledSubscriber checks that of two subscribers of stream, the one
// that reads nothing is dropped with ErrFellBehind while the other reads
// each of jobs events, one batch each, as they come.
func dropsStalledSubscriber(t *testing.T, ctx context.Context, q *Queue, stream *EventStream, jobs int) {
	t.Helper()
	stalled, stopStalled := iter.Pull2(stream.Subscribe(ctx, "$"))
	defer stopStalled()
	reader, stopReader := iter.Pull2(stream.Subscribe(ctx, "$"))
	defer stopReader()
	for i := range jobs {
		j := mustAdd(t, q, "burst", nil, JobOptions{})
		// Read it before adding the next, so each is a batch of its own.
		e, err, ok := reader()
		if !ok || err != nil || e.JobID != j.ID {
			t.Fatalf("reader, event %d: %+v, %v, %v", i, e, err, ok)
		}
	}
	for {
		_, err, ok := stalled()
		if !ok || err != nil {
			if !errors.Is(err, ErrFellBehind) {
				t.Fatalf("stalled subscriber ended with %v, want ErrFellBehind", err)
			}
			return
		}
	}
}
