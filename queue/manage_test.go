package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPauseResume(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var ran atomic.Int32
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		ran.Add(1)
		return nil, nil
	}), WorkerConfig{}))
	// Paused from another process: the worker here must stop taking jobs.
	other := b.otherProcess(t)
	if err := other.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := b.q.Add(ctx, "p", []byte(fmt.Sprint(i)), JobOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A worker that ran a paused job would do it right after the add; give
	// the fetch loop a chance to misbehave, then check nothing ran.
	waitFor(t, "worker to settle", func() bool {
		c, _ := b.q.Counts(ctx)
		return c.Paused == 5
	})
	time.Sleep(200 * time.Millisecond)
	c, _ := b.q.Counts(ctx)
	if ran.Load() != 0 || !c.IsPaused || c.Paused != 5 || c.Waiting != 0 {
		t.Fatalf("paused queue: ran %d, counts %+v", ran.Load(), c)
	}
	if list, _ := b.q.List(ctx, StatePaused, 0, 10); len(list) != 5 || list[0].State != StatePaused {
		t.Fatalf("paused list = %d jobs", len(list))
	}
	if err := other.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "jobs after resume", func() bool { return ran.Load() == 5 })
}

func TestCancelFromAnotherClient(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	started := make(chan string, 1)
	causes := make(chan error, 1)
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		started <- job.ID
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return nil, ctx.Err()
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "long", nil, JobOptions{})
	<-started
	other := b.otherProcess(t)
	if err := other.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if cause := <-causes; !errors.Is(cause, ErrCancelled) {
		t.Fatalf("handler context cause = %v, want ErrCancelled", cause)
	}
	waitFor(t, "cancelled job to fail", func() bool {
		j, err := other.Get(ctx, j.ID)
		return err == nil && j.State == StateFailed
	})
	got := mustState(t, other, j.ID, StateFailed)
	if got.Failures != 1 || got.Error != "cancelled: context canceled" {
		t.Fatalf("cancelled job = %+v (must fail once, without retry)", got)
	}
	if err := other.Cancel(ctx, j.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("cancel a failed job: %v", err)
	}
	if err := other.Cancel(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel unknown job: %v", err)
	}
}

func TestCancelWaitingAndDelayed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	w, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	d, _ := b.q.Add(ctx, "x", nil, JobOptions{Delay: time.Hour})
	for _, id := range []string{w.ID, d.ID} {
		if err := b.q.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		if j := mustState(t, b.q, id, StateFailed); j.Error != "cancelled" {
			t.Fatalf("job %s error %q", id, j.Error)
		}
	}
	c, _ := b.q.Counts(ctx)
	if c.Waiting != 0 || c.Delayed != 0 || c.Failed != 2 || c.FailedTotal != 2 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestRemovePromoteRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	waiting, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	if err := b.q.Remove(ctx, waiting.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.q.Get(ctx, waiting.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed job still there: %v", err)
	}
	if err := b.q.Remove(ctx, waiting.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}

	delayed, _ := b.q.Add(ctx, "x", nil, JobOptions{Delay: time.Hour})
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

	// Fail three jobs, then retry one and then all.
	b.q.Remove(ctx, delayed.ID)
	var failNow atomic.Bool
	failNow.Store(true)
	var done atomic.Int32
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		if failNow.Load() {
			return nil, errors.New("down")
		}
		done.Add(1)
		return nil, nil
	}), WorkerConfig{}))
	var ids []string
	for range 3 {
		j, _ := b.q.Add(ctx, "x", nil, JobOptions{Retries: NoRetries})
		ids = append(ids, j.ID)
	}
	waitFor(t, "failures", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 3 })
	if err := b.q.Remove(ctx, ids[2]); err != nil {
		t.Fatalf("remove failed job: %v", err)
	}
	failNow.Store(false)
	if err := b.q.Retry(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "retried job", func() bool { return done.Load() == 1 })
	n, err := b.q.RetryAll(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RetryAll = %d, %v; want 1", n, err)
	}
	waitFor(t, "all retried", func() bool { return done.Load() == 2 })
	c, _ := b.q.Counts(ctx)
	if c.Failed != 0 || c.FailedTotal != 3 || c.CompletedTotal != 2 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestRemoveActiveRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		close(started)
		<-release
		return nil, nil
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	<-started
	if err := b.q.Remove(ctx, j.ID); !errors.Is(err, ErrWrongState) {
		t.Fatalf("remove active job: %v", err)
	}
	close(release)
}

func TestCleanAndRetention(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var fail atomic.Bool
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		if fail.Load() {
			return nil, errors.New("no")
		}
		return nil, nil
	}), WorkerConfig{}))
	// Keep the last 3 completed jobs.
	for range 5 {
		b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: KeepLast(3)})
	}
	waitFor(t, "completions", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == 5 })
	c, _ := b.q.Counts(ctx)
	if c.Completed != 3 {
		t.Fatalf("kept %d completed jobs, want 3", c.Completed)
	}
	fail.Store(true)
	for range 4 {
		b.q.Add(ctx, "x", nil, JobOptions{Retries: NoRetries})
	}
	waitFor(t, "failures", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 4 })
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
	b.q.Add(ctx, "x", nil, JobOptions{Delay: time.Hour})
	if n, err := b.q.Clean(ctx, StateDelayed, 0, 100); err != nil || n != 1 {
		t.Fatalf("clean delayed = %d, %v", n, err)
	}
	if _, err := b.q.Clean(ctx, StateActive, 0, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("clean active: %v", err)
	}
	c, _ = b.q.Counts(ctx)
	if c.Failed != 1 || c.Completed != 0 || c.Delayed != 0 {
		t.Fatalf("counts after clean = %+v", c)
	}
}

func TestKeepForAge(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		return nil, nil
	}), WorkerConfig{}))
	first, _ := b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: KeepFor(50 * time.Millisecond)})
	waitFor(t, "first", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == 1 })
	time.Sleep(100 * time.Millisecond)
	b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: KeepFor(50 * time.Millisecond)})
	waitFor(t, "second", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == 2 })
	// Finishing the second trims the first, which is past its age.
	if _, err := b.q.Get(ctx, first.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("job past its age still kept: %v", err)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for i := range 25 {
		b.q.Add(ctx, "x", []byte(fmt.Sprint(i)), JobOptions{})
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
	if _, err := b.q.List(ctx, "bogus", 0, 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bogus state: %v", err)
	}
	if _, err := b.q.List(ctx, StateWaiting, 0, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("limit 0: %v", err)
	}
}

func TestTimeoutFailsAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "slow", nil, JobOptions{Timeout: 20 * time.Millisecond, Retries: 1, Backoff: Backoff{Type: BackoffFixed, Delay: time.Millisecond}})
	waitFor(t, "failure", func() bool { c, _ := b.q.Counts(ctx); return c.Failed == 1 })
	got := mustState(t, b.q, j.ID, StateFailed)
	if got.Failures != 2 || got.Error != "timed out after 20ms: context deadline exceeded" {
		t.Fatalf("timed-out job = %+v", got)
	}
}

func TestLifecycleEventsAcrossProcesses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other := b.otherProcess(t)
	type rec struct {
		typ EventType
		job string
	}
	got := make(chan rec, 100)
	go func() {
		// From "0": this queue is the test's own, so nothing is missed
		// however late the subscription starts.
		for e, err := range other.Events(ctx, "0") {
			if err != nil {
				t.Errorf("events: %v", err)
				return
			}
			got <- rec{e.Type, e.JobID}
		}
	}()
	startWorker(t, NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		job.ReportProgress(ctx, 1)
		if job.Attempt == 1 {
			return nil, RetryAfter(time.Millisecond, errors.New("again"))
		}
		return nil, nil
	}), WorkerConfig{}))
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	want := []EventType{EventAdded, EventActive, EventProgress, EventRetrying, EventActive, EventProgress, EventCompleted}
	var seen []EventType
	timeout := time.After(30 * time.Second)
	for len(seen) < len(want) {
		select {
		case r := <-got:
			if r.job == j.ID {
				seen = append(seen, r.typ)
			}
		case <-timeout:
			t.Fatalf("events seen %v, want %v", seen, want)
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", seen, want)
	}
	// Resuming from the start replays what the stream keeps.
	var replay []EventType
	rctx, rcancel := context.WithCancel(ctx)
	for e, err := range other.Events(rctx, "0") {
		if err != nil {
			t.Fatal(err)
		}
		replay = append(replay, e.Type)
		if e.Type == EventCompleted {
			rcancel()
			break
		}
	}
	rcancel()
	if fmt.Sprint(replay) != fmt.Sprint(want) {
		t.Fatalf("replay %v, want %v", replay, want)
	}
}

func TestConcurrencyEveryJobOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const jobs = 5000
	var mu sync.Mutex
	runs := make(map[string]int, jobs)
	h := HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		mu.Lock()
		runs[string(job.Data)]++
		mu.Unlock()
		return nil, nil
	})
	// Four worker "processes", each on its own Redis client.
	var stops []func()
	for i := range 4 {
		q := b.q
		if i > 0 {
			q = b.otherProcess(t)
		}
		stops = append(stops, startWorker(t, NewWorker(q, h, WorkerConfig{Concurrency: 25})))
	}
	batch := make([]NewJob, jobs)
	for i := range batch {
		batch[i] = NewJob{Name: "n", Data: []byte(fmt.Sprint(i))}
	}
	// Add from two clients at once while the workers run.
	var wg sync.WaitGroup
	for half := range 2 {
		q := b.q
		if half == 1 {
			q = b.otherProcess(t)
		}
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
	waitFor(t, "all jobs", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal == jobs })
	for _, stop := range stops {
		stop()
	}
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
	c, _ := b.q.Counts(ctx)
	if c != (Counts{CompletedTotal: jobs}) {
		t.Fatalf("counts = %+v", c)
	}
}
