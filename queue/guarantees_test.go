package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The tests in this file hold the engine to its guarantees under Redis's
// ordinary failures: a reply lost after the command ran (clients retry it), a
// restart from an older snapshot, and the same worker getting a job back.

// viaProxy returns the bundle's queue as seen by a process whose network to
// Redis runs through a fault proxy, with every script already loaded so that
// each call is one EVALSHA naming its script.
func (b *bundle) viaProxy(t *testing.T) (*faultproxy.Proxy, *Queue) {
	t.Helper()
	p, rdb := b.r.ViaProxy(t)
	for _, s := range allScripts() {
		if err := s.Load(context.Background(), rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return p, NewClient(rdb, Config{Prefix: b.client.cfg.Prefix}).Queue(b.q.name)
}

func TestIDsNotReusedAfterRestartFromSnapshot(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	opt, _ := redis.ParseURL(srv.URL)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	q := NewClient(rdb, Config{}).Queue("test-queue")
	ctx := context.Background()
	seen := map[string]int{}
	add := func(round int) {
		for range 3 {
			j, err := q.Add(ctx, "x", nil, JobOptions{})
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if r, dup := seen[j.ID]; dup {
				t.Fatalf("round %d: job id %s was already given in round %d", round, j.ID, r)
			}
			seen[j.ID] = round
		}
	}
	add(1)
	if !srv.Snapshot() {
		t.Skip("needs redis-server: the in-process server cannot restart from a snapshot")
	}
	add(2)
	srv.Stop() // SIGKILL: what was added after the snapshot is lost
	srv.Restart()
	waitFor(t, "redis back", func() bool { return rdb.Ping(ctx).Err() == nil })
	add(3)
}

func TestCustomIDNeverMeetsGenerated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	g, err := b.q.Add(ctx, "generated", nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Custom ids of the generated form: this one (once its job is gone) and
	// any the generator might give next.
	candidates := []string{g.ID}
	if i := strings.LastIndexByte(g.ID, '-'); i >= 0 {
		if n, err := strconv.Atoi(g.ID[i+1:]); err == nil {
			for k := 1; k <= 3; k++ {
				candidates = append(candidates, g.ID[:i+1]+strconv.Itoa(n+k))
			}
		}
	}
	if err := b.q.Remove(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	accepted := map[string]bool{}
	for _, id := range candidates {
		_, err := b.q.Add(ctx, "custom", []byte("custom:"+id), JobOptions{ID: id})
		switch {
		case errors.Is(err, ErrInvalid):
		case err != nil:
			t.Fatal(err)
		default:
			accepted[id] = true
		}
	}
	if accepted[g.ID] {
		t.Errorf("generated id %s was taken as a custom id", g.ID)
	}
	for range 10 {
		j, err := b.q.Add(ctx, "generated", nil, JobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if accepted[j.ID] {
			t.Errorf("generated id %s equals a custom job's id", j.ID)
		}
	}
	for id := range accepted {
		j, err := b.q.Get(ctx, id)
		if err != nil || j.Name != "custom" || string(j.Data) != "custom:"+id || j.State != StateWaiting {
			t.Errorf("custom job %s = %+v, %v; want it untouched", id, j, err)
		}
	}
}

// TestLostRepliesDoNotRepeatEffects loses the reply of each script once,
// after the script ran; the client retries it. The caller must see the
// answer of the first run and Redis hold the effect of one.
func TestLostRepliesDoNotRepeatEffects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("add", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, q := b.viaProxy(t)
		p.DropReplies(scriptAdd.Hash(), 1)
		j, err := q.Add(ctx, "x", []byte("once"), JobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Dropped() != 1 {
			t.Fatalf("%d replies dropped, want 1", p.Dropped())
		}
		if c, _ := b.q.Counts(ctx); c.Waiting != 1 {
			t.Fatalf("one Add made %d jobs", c.Waiting)
		}
		mustState(t, b.q, j.ID, StateWaiting)
	})

	t.Run("add bulk", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, q := b.viaProxy(t)
		p.DropReplies(scriptAdd.Hash(), 1)
		jobs := make([]NewJob, 1200) // three pipelined chunks
		for i := range jobs {
			jobs[i] = NewJob{Name: "x", Data: []byte(strconv.Itoa(i))}
		}
		added, err := q.AddBulk(ctx, jobs)
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := b.q.Counts(ctx); c.Waiting != int64(len(jobs)) {
			t.Fatalf("AddBulk of %d made %d jobs", len(jobs), c.Waiting)
		}
		for i, j := range added {
			if got := mustState(t, b.q, j.ID, StateWaiting); string(got.Data) != strconv.Itoa(i) {
				t.Fatalf("job %d = %+v", i, got)
			}
		}
	})

	// A fetch runs alone when there is work, and pipelined behind the
	// blocking wait when there is none: a lost reply of each.
	t.Run("fetch", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, q := b.viaProxy(t)
		j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
		p.DropReplies(scriptFetch.Hash(), 1)
		done := make(chan *Job, 1)
		// A lease of an hour: a job leased by a fetch whose reply was lost
		// and then forgotten would sit out the hour.
		startWorker(t, NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			done <- job
			return nil, nil
		}), WorkerConfig{Concurrency: 1, LeaseTime: time.Hour, MaxIdleWait: time.Second}))
		ranOnceAfterLostFetch(t, p, done, j)
	})

	t.Run("fetch behind a wait", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, q := b.viaProxy(t)
		done := make(chan *Job, 1)
		wk := NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			done <- job
			return nil, nil
		}), WorkerConfig{Concurrency: 1, LeaseTime: time.Hour, MaxIdleWait: time.Second})
		// The next wait sent once the test asks: its fetch's reply is lost.
		var ask atomic.Bool
		armed := make(chan struct{})
		wk.hooks.beforeWait = func() {
			if ask.CompareAndSwap(true, false) {
				p.DropReplies(scriptFetch.Hash(), 1)
				close(armed)
			}
		}
		startWorker(t, wk)
		ask.Store(true)
		<-armed
		j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
		ranOnceAfterLostFetch(t, p, done, j)
	})

	t.Run("ack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		p, q := b.viaProxy(t)
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		stop := startWorker(t, NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			return "ok", nil
		}), WorkerConfig{Logger: log}))
		p.DropReplies(scriptAck.Hash(), 1)
		j, _ := b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: Keep})
		waitFor(t, "completion", func() bool { c, _ := b.q.Counts(ctx); return c.CompletedTotal >= 1 })
		stop() // every outcome recorded and every warning written
		if got := mustState(t, b.q, j.ID, StateCompleted); got.Attempt != 1 || string(got.Result) != `"ok"` {
			t.Fatalf("completed job = %+v", got)
		}
		if c, _ := b.q.Counts(ctx); c.CompletedTotal != 1 {
			t.Fatalf("completed total %d, want 1", c.CompletedTotal)
		}
		mu.Lock()
		defer mu.Unlock()
		if p.Dropped() != 1 || logs.Len() > 0 {
			t.Fatalf("dropped %d replies; worker warned: %s", p.Dropped(), logs.String())
		}
	})

	manage := []struct {
		name   string
		script script
		setup  func(t *testing.T, b *bundle) string // returns the job id
		op     func(q *Queue, id string) error
		want   State
	}{
		{"remove", scriptRemove, waitingJob, func(q *Queue, id string) error { return q.Remove(ctx, id) }, ""},
		{"promote", scriptPromote, delayedJob, func(q *Queue, id string) error { return q.Promote(ctx, id) }, StateWaiting},
		{"cancel", scriptCancel, waitingJob, func(q *Queue, id string) error { return q.Cancel(ctx, id) }, StateFailed},
		{"retry", scriptRetry, failedJob, func(q *Queue, id string) error { return q.Retry(ctx, id) }, StateWaiting},
	}
	for _, tc := range manage {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := tc.setup(t, b)
			p, q := b.viaProxy(t)
			p.DropReplies(tc.script.Hash(), 1)
			if err := tc.op(q, id); err != nil {
				t.Fatalf("%s after a lost reply: %v", tc.name, err)
			}
			if p.Dropped() != 1 {
				t.Fatalf("%d replies dropped, want 1", p.Dropped())
			}
			if tc.want == "" {
				if _, err := b.q.Get(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get after remove: %v", err)
				}
				return
			}
			mustState(t, b.q, id, tc.want)
		})
	}

	t.Run("retry all", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		failedJob(t, b)
		failedJob(t, b)
		p, q := b.viaProxy(t)
		p.DropReplies(scriptRetry.Hash(), 1)
		n, err := q.RetryAll(ctx)
		if err != nil || n != 2 {
			t.Fatalf("retry all after a lost reply = %d, %v; want 2", n, err)
		}
	})
}

func waitingJob(t *testing.T, b *bundle) string {
	t.Helper()
	j, err := b.q.Add(context.Background(), "x", nil, JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

func delayedJob(t *testing.T, b *bundle) string {
	t.Helper()
	j, err := b.q.Add(context.Background(), "x", nil, JobOptions{Delay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// failedJob adds a job to b.q and fails it with a worker that fails
// everything, stopped once the job has failed.
func failedJob(t *testing.T, b *bundle) string {
	t.Helper()
	ctx := context.Background()
	before, _ := b.q.Counts(ctx)
	j, err := b.q.Add(ctx, "x", nil, JobOptions{Retries: NoRetries})
	if err != nil {
		t.Fatal(err)
	}
	b.logs.expect("job failed")
	stop := b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		return nil, errors.New("fails")
	}, WorkerConfig{})
	waitFor(t, "failure", func() bool { c, _ := b.q.Counts(ctx); return c.FailedTotal > before.FailedTotal })
	stop()
	mustState(t, b.q, j.ID, StateFailed)
	return j.ID
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestJobRedeliveredToSameWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	type delivery struct {
		ctx context.Context
		job *Job
	}
	deliveries := make(chan delivery, 8)
	b.logs.expect("job failed") // the cancelled one
	wk := b.newWorker(b.q, func(ctx context.Context, job *Job) (any, error) {
		if job.Name == "wake" {
			return nil, nil
		}
		deliveries <- delivery{ctx, job}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}, WorkerConfig{Concurrency: 4, LeaseTime: time.Hour})
	// The Cancel below reaches the handler through the cancel listener (the
	// heartbeat fallback comes only every 20 minutes here): it must be
	// subscribed first, which a busy machine can delay past the deliveries.
	subscribed := make(chan struct{})
	wk.hooks.subscribed = func() { close(subscribed) }
	startWorker(t, wk)
	<-subscribed
	j, _ := b.q.Add(ctx, "long", nil, JobOptions{})
	first := <-deliveries
	// The lease runs out behind the worker's back, as when its process was
	// paused for longer than the lease; then the same worker fetches again
	// (a new job wakes it) and takes the job back itself.
	if err := b.r.Client.ZAdd(ctx, b.q.keys[kActive], redis.Z{Score: 1, Member: j.ID}).Err(); err != nil {
		t.Fatal(err)
	}
	b.q.Add(ctx, "wake", nil, JobOptions{})
	second := <-deliveries
	if second.job.ID != j.ID || second.job.Stalls != 1 {
		t.Fatalf("second delivery = %+v", second.job)
	}
	select {
	case <-first.ctx.Done():
		if !errors.Is(context.Cause(first.ctx), ErrLeaseLost) {
			t.Fatalf("first handler stopped with %v, want ErrLeaseLost", context.Cause(first.ctx))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the first handler still runs after its job was delivered again")
	}
	if err := b.q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.ctx.Done():
		if !errors.Is(context.Cause(second.ctx), ErrCancelled) {
			t.Fatalf("second handler stopped with %v, want ErrCancelled", context.Cause(second.ctx))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Cancel did not reach the handler of the second delivery")
	}
	waitFor(t, "cancelled job failed", func() bool {
		got, err := b.q.Get(ctx, j.ID)
		return err == nil && got.State == StateFailed
	})
}

func TestListOffsetBeyondFloatPrecision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	waitingJob(t, b)
	jobs, err := b.q.List(context.Background(), StateWaiting, 100_000_000_000_000_000, 10)
	if err != nil || len(jobs) != 0 {
		t.Fatalf("list at offset 1e17 = %d jobs, %v; want an empty page", len(jobs), err)
	}
}

func TestShortMaxIdleWaitStillWakesForDelayedJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ran := make(chan struct{}, 1)
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		ran <- struct{}{}
		return nil, nil
	}, WorkerConfig{MaxIdleWait: 300 * time.Millisecond})
	if _, err := b.q.Add(context.Background(), "x", nil, JobOptions{Delay: 1200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("a delayed job did not run with MaxIdleWait under a second")
	}
}

func TestEventsAfterAnIDAheadOfTheStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan Event, 1)
	go func() {
		for e, err := range b.q.Events(ctx, "99999999999999-0") {
			if err == nil {
				got <- e
			}
			return
		}
	}()
	// Add until the subscriber sees something: it starts in its own time.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case e := <-got:
			if e.Type != EventAdded {
				t.Fatalf("first event %+v", e)
			}
			return
		case <-ctx.Done():
			t.Fatal("a subscriber after an id ahead of the stream (Redis lost data since) never saw an event")
		case <-tick.C:
			b.q.Add(ctx, "x", nil, JobOptions{})
		}
	}
}

// TestShutdownKeepsEveryOutcome stops a worker while a handler returns at
// the shutdown timeout: its job must end recorded or handed back, not left
// leased to a worker that is gone.
func TestShutdownKeepsEveryOutcome(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	j := mustAdd(t, b.q, "x", nil, JobOptions{RemoveOnComplete: Keep})
	started, release := make(chan struct{}), make(chan struct{})
	b.logs.expect("shutdown timeout passed")
	wk := b.newWorker(b.q, func(ctx context.Context, job *Job) (any, error) {
		close(started)
		<-release
		return nil, nil
	}, WorkerConfig{ShutdownTimeout: 100 * time.Millisecond})
	// The handler returns just before the timeout; its outcome is queued
	// only well after it (a slow goroutine, a GC pause).
	wk.hooks.beforeOutcome = func(*Job) { time.Sleep(300 * time.Millisecond) }
	stop := startWorker(t, wk)
	<-started
	go func() { time.Sleep(90 * time.Millisecond); close(release) }()
	stop()
	if got, err := b.q.Get(ctx, j.ID); err != nil || got.State == StateActive {
		t.Fatalf("job after shutdown = %+v, %v; want it recorded or handed back", got, err)
	}

	// And many handlers ending around the timeout.
	for round := range 20 {
		q := b.client.Queue(fmt.Sprintf("shutdown-%d", round))
		batch := make([]NewJob, 100)
		for i := range batch {
			batch[i] = NewJob{Name: "x"}
		}
		if _, err := q.AddBulk(ctx, batch); err != nil {
			t.Fatal(err)
		}
		var started atomic.Int32
		stop := b.startWorker(t, q, func(ctx context.Context, job *Job) (any, error) {
			started.Add(1)
			time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond)
			return nil, nil
		}, WorkerConfig{Concurrency: 100, ShutdownTimeout: 2 * time.Millisecond})
		waitFor(t, "handlers started", func() bool { return started.Load() >= 50 })
		stop()
		c, err := q.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Active != 0 || c.Waiting+c.CompletedTotal != 100 {
			t.Fatalf("round %d: after shutdown %+v; want no job left active", round, c)
		}
	}
}

func TestRedisOutageLongerThanLeaseIsAStall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, q := b.viaProxy(t)
	ctx := context.Background()
	var runs atomic.Int32
	started := make(chan struct{}, 4)
	startWorker(t, NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		started <- struct{}{}
		if runs.Add(1) == 1 {
			<-ctx.Done()
			return nil, context.Cause(ctx)
		}
		return "done", nil
	}), WorkerConfig{LeaseTime: 900 * time.Millisecond, MaxIdleWait: time.Second, Logger: quietLogger()}))
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: Keep})
	<-started
	p.Cut(true)                         // Redis unreachable from the worker for longer than the lease
	time.Sleep(1500 * time.Millisecond) // back before the worker gives up recording
	p.Cut(false)
	waitFor(t, "completion", func() bool {
		got, err := b.q.Get(ctx, j.ID)
		return err == nil && got.State == StateCompleted
	})
	if got := mustState(t, b.q, j.ID, StateCompleted); got.Failures != 0 || got.Stalls != 1 {
		t.Fatalf("job after an outage = %d failures, %d stalls; want the lost lease counted as a stall, no retry used", got.Failures, got.Stalls)
	}
}

func allScripts() []script {
	return []script{scriptAdd, scriptFetch, scriptAck, scriptExtend, scriptRelease, scriptProgress,
		scriptGet, scriptList, scriptCounts, scriptRemove, scriptRetry, scriptPromote, scriptPause, scriptCancel, scriptClean}
}

func TestNoShutdownWaitHandsJobsBackAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{})
	b.logs.expect("shutdown timeout passed")
	stop := b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		close(started)
		<-ctx.Done() // runs until the worker gives up on it
		return nil, ctx.Err()
	}, WorkerConfig{ShutdownTimeout: NoShutdownWait})
	j := mustAdd(t, b.q, "x", nil, JobOptions{})
	<-started
	stop()
	if got := mustState(t, b.q, j.ID, StateWaiting); got.Failures != 0 || got.Stalls != 0 {
		t.Fatalf("handed-back job = %+v; want no retry or stall used", got)
	}
}

// ranOnceAfterLostFetch waits for the job a fetch leased, whose reply p
// dropped, to run: at its first attempt, not stalled, within the test's
// bound rather than after its hour-long lease.
func ranOnceAfterLostFetch(t *testing.T, p *faultproxy.Proxy, done <-chan *Job, j *Job) {
	t.Helper()
	select {
	case got := <-done:
		if got.ID != j.ID || got.Stalls != 0 || got.Attempt != 1 || p.Dropped() != 1 {
			t.Fatalf("ran %+v after %d dropped replies; want the job's first attempt, no stall, after 1", got, p.Dropped())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("job leased by a fetch whose reply was lost did not run (%d replies dropped)", p.Dropped())
	}
}
