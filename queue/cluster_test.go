package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestCluster runs the engine on a real three-master Redis Cluster. The
// subtests share one cluster (it takes Redis about 2 s to form one), each
// under a key prefix of its own, and each "process" is a cluster client of
// its own. Without redis-server installed the whole test skips, saying why.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	spread := namesOnEveryMaster(t, c)

	t.Run("add, bulk add, get, list, counts", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[0])
		ctx := context.Background()
		// More than one pipelined chunk, on a master that may not have the
		// script yet (a NOSCRIPT refusal is retried with EVAL).
		jobs := make([]NewJob, 1234)
		for i := range jobs {
			jobs[i] = NewJob{Name: "bulk", Data: []byte(fmt.Sprint(i))}
		}
		jobs[7].Options.ID = "custom-7"
		added, err := q.AddBulk(ctx, jobs)
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
		one, err := q.Add(ctx, "single", []byte("x"), JobOptions{Priority: 1, DedupKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		// Idempotent by id and by dedup key, seen from another process.
		other := b.queue(t, spread[0])
		if again, err := other.Add(ctx, "bulk", []byte("y"), JobOptions{ID: "custom-7"}); err != nil || string(again.Data) != "7" {
			t.Fatalf("re-add by id = %+v, %v; want the first job", again, err)
		}
		if again, err := other.Add(ctx, "single", nil, JobOptions{DedupKey: "k"}); err != nil || again.ID != one.ID {
			t.Fatalf("re-add by dedup key = %+v, %v; want job %s", again, err, one.ID)
		}
		if got := mustState(t, other, "custom-7", StateWaiting); string(got.Data) != "7" || got.Name != "bulk" {
			t.Fatalf("get = %+v", got)
		}
		c, err := other.Counts(ctx)
		if err != nil || c != (Counts{Waiting: 1235}) {
			t.Fatalf("counts = %+v, %v", c, err)
		}
		seen := map[string]bool{}
		for off := 0; off < 1235; off += 500 {
			page, err := other.List(ctx, StateWaiting, off, 500)
			if err != nil {
				t.Fatal(err)
			}
			for i, j := range page {
				if off == 0 && i < 3 && string(j.Data) != fmt.Sprint(i) {
					t.Fatalf("waiting[%d] = %s, want FIFO order", i, j.Data)
				}
				seen[j.ID] = true
			}
		}
		if len(seen) != 1235 {
			t.Fatalf("listed %d jobs, want 1235", len(seen))
		}
	})

	t.Run("workers on queues on different masters", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		ctx := context.Background()
		const perQueue = 300
		var mu sync.Mutex
		runs := map[string]int{} // "<queue>/<data>" -> runs
		var wrongQueue atomic.Int32
		for _, name := range spread {
			// Two worker processes per queue.
			for range 2 {
				q := b.queue(t, name)
				startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
					if job.Queue != name || !strings.HasPrefix(string(job.Data), name+"/") {
						wrongQueue.Add(1)
					}
					mu.Lock()
					runs[string(job.Data)]++
					mu.Unlock()
					return nil, nil
				}), WorkerConfig{Concurrency: 5}))
			}
		}
		var wg sync.WaitGroup
		for _, name := range spread {
			q := b.queue(t, name)
			wg.Go(func() {
				batch := make([]NewJob, perQueue)
				for i := range batch {
					batch[i] = NewJob{Name: "n", Data: fmt.Appendf(nil, "%s/%d", name, i)}
				}
				if _, err := q.AddBulk(ctx, batch); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, name := range spread {
			q := b.queue(t, name)
			waitFor(t, "all jobs of "+name, func() bool { c, _ := q.Counts(ctx); return c.CompletedTotal == perQueue })
		}
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 3*perQueue || wrongQueue.Load() != 0 {
			t.Fatalf("%d distinct jobs ran (want %d), %d on the wrong queue's worker", len(runs), 3*perQueue, wrongQueue.Load())
		}
		for data, n := range runs {
			if n != 1 {
				t.Fatalf("job %s ran %d times", data, n)
			}
		}
	})

	t.Run("a worker is not disturbed by other queues", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		ctx := context.Background()
		quiet := b.queue(t, spread[0])
		var quietRuns, busyRuns atomic.Int32
		startWorker(t, b.newWorker(quiet, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			quietRuns.Add(1)
			return nil, nil
		}), WorkerConfig{}))
		// Busy queues on the other masters, and one sharing the quiet
		// queue's master too (a different slot on the same node).
		busyNames := []string{spread[1], spread[2], sameMasterOtherSlot(t, c, spread[0])}
		for _, name := range busyNames {
			q := b.queue(t, name)
			startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
				busyRuns.Add(1)
				return nil, nil
			}), WorkerConfig{}))
			batch := make([]NewJob, 200)
			for i := range batch {
				batch[i] = NewJob{Name: "busy"}
			}
			if _, err := q.AddBulk(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "busy queues drained", func() bool { return busyRuns.Load() == 600 })
		if n := quietRuns.Load(); n != 0 {
			t.Fatalf("the quiet queue's worker ran %d jobs of other queues", n)
		}
		if got, _ := quiet.Counts(ctx); got != (Counts{}) {
			t.Fatalf("quiet queue counts = %+v", got)
		}
		// And it still wakes for its own work.
		if _, err := quiet.Add(ctx, "mine", nil, JobOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the quiet queue's own job", func() bool { return quietRuns.Load() == 1 })
	})

	t.Run("delayed job, retries with backoff", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[1])
		ctx := context.Background()
		var mu sync.Mutex
		var starts []time.Time
		startWorker(t, b.newWorker(b.queue(t, spread[1]), HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			if job.Attempt < 3 {
				return nil, fmt.Errorf("boom %d", job.Attempt)
			}
			return "third time", nil
		}), WorkerConfig{}))
		j, err := q.Add(ctx, "flaky", nil, JobOptions{
			Delay: 150 * time.Millisecond, Retries: 2, Backoff: Backoff{Delay: 100 * time.Millisecond},
			RemoveOnComplete: Keep,
		})
		if err != nil {
			t.Fatal(err)
		}
		if j.State != StateDelayed || j.DueAt.Sub(j.AddedAt) != 150*time.Millisecond {
			t.Fatalf("added job = %+v, want delayed 150ms", j)
		}
		waitFor(t, "completion", func() bool {
			j, err := q.Get(ctx, j.ID)
			return err == nil && j.State == StateCompleted
		})
		done := mustState(t, q, j.ID, StateCompleted)
		if done.Attempt != 3 || done.Failures != 2 || len(done.History) != 2 || string(done.Result) != `"third time"` {
			t.Fatalf("completed job = %+v", done)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(starts) != 3 {
			t.Fatalf("%d attempts, want 3", len(starts))
		}
		// Never early: the delay, then the backoff (100 ms, 200 ms). How late
		// is a benchmark figure, not a test.
		const slack = 5 * time.Millisecond
		if wait := starts[0].Sub(j.AddedAt); wait < 150*time.Millisecond-slack {
			t.Errorf("first attempt %s after the add, want >= 150ms", wait)
		}
		for i, want := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond} {
			if gap := starts[i+1].Sub(starts[i]); gap < want-slack {
				t.Errorf("gap before retry %d = %s, want >= %s", i+1, gap, want)
			}
		}
	})

	t.Run("pause and resume from another process", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[2])
		ctx := context.Background()
		var ran atomic.Int32
		startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			ran.Add(1)
			return nil, nil
		}), WorkerConfig{}))
		other := b.queue(t, spread[2])
		if err := other.Pause(ctx); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := other.Add(ctx, "p", nil, JobOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "jobs held", func() bool { c, _ := q.Counts(ctx); return c.Paused == 5 })
		// A worker that ran a paused job would do it right after the add:
		// give it the chance, then check it did not.
		time.Sleep(200 * time.Millisecond)
		if c, _ := q.Counts(ctx); ran.Load() != 0 || !c.IsPaused || c.Paused != 5 {
			t.Fatalf("paused queue: ran %d, counts %+v", ran.Load(), c)
		}
		if err := other.Resume(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "jobs after resume", func() bool { return ran.Load() == 5 })
	})

	t.Run("cancel from another process", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[0])
		ctx := context.Background()
		// Plain subscribers on every master: PUBLISH runs in a script on the
		// queue's master, and must reach subscribers wherever they are.
		var subs []*redis.PubSub
		for _, addr := range c.Addrs {
			node := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { node.Close() })
			ps := node.Subscribe(ctx, q.cancelChannel)
			if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
				t.Fatal(err)
			}
			t.Cleanup(func() { ps.Close() })
			subs = append(subs, ps)
		}
		started := make(chan string, 1)
		causes := make(chan error, 1)
		// A lease long enough that no heartbeat (every lease/3) comes in the
		// test's lifetime: the cancel can only arrive by pub/sub.
		startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			started <- job.ID
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil, ctx.Err()
		}), WorkerConfig{LeaseTime: time.Hour}))
		// The worker subscribes through its cluster client on its own
		// goroutine; publishing before it listens would lose the message.
		waitFor(t, "the worker's subscription", func() bool {
			return subscribers(t, c, q.cancelChannel) == len(c.Addrs)+1
		})
		j, _ := q.Add(ctx, "long", nil, JobOptions{})
		if id := <-started; id != j.ID {
			t.Fatalf("started %s, want %s", id, j.ID)
		}
		other := b.queue(t, spread[0])
		if err := other.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case cause := <-causes:
			if !errors.Is(cause, ErrCancelled) {
				t.Fatalf("handler context cause = %v, want ErrCancelled", cause)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the handler never saw the cancel")
		}
		for i, ps := range subs {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil || m.Payload != j.ID {
				t.Fatalf("subscriber on %s got %v, %v; want %s", c.Addrs[i], m, err, j.ID)
			}
		}
		waitFor(t, "cancelled job to fail", func() bool {
			j, err := other.Get(ctx, j.ID)
			return err == nil && j.State == StateFailed
		})
		if got := mustState(t, other, j.ID, StateFailed); got.Failures != 1 || got.Error != "cancelled: context canceled" {
			t.Fatalf("cancelled job = %+v (must fail once, without retry)", got)
		}
	})

	t.Run("lifecycle events from another process", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[1])
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		other := b.queue(t, spread[1])
		type rec struct {
			typ EventType
			job string
		}
		got := make(chan rec, 100)
		go func() {
			for e, err := range other.Events(ctx, "0") {
				if err != nil {
					t.Errorf("events: %v", err)
					return
				}
				got <- rec{e.Type, e.JobID}
			}
		}()
		startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			if err := job.ReportProgress(ctx, 1); err != nil {
				return nil, err
			}
			if job.Attempt == 1 {
				return nil, RetryAfter(time.Millisecond, errors.New("again"))
			}
			return nil, nil
		}), WorkerConfig{}))
		j, _ := q.Add(ctx, "x", nil, JobOptions{})
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
		if !slices.Equal(seen, want) {
			t.Fatalf("events %v, want %v", seen, want)
		}
	})

	t.Run("manage: remove, promote, retry, clean", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[2])
		ctx := context.Background()
		waiting, _ := q.Add(ctx, "x", nil, JobOptions{})
		delayed, _ := q.Add(ctx, "x", nil, JobOptions{Delay: time.Hour, Retries: NoRetries})
		if err := q.Remove(ctx, waiting.ID); err != nil {
			t.Fatal(err)
		}
		if err := q.Promote(ctx, delayed.ID); err != nil {
			t.Fatal(err)
		}
		mustState(t, q, delayed.ID, StateWaiting)
		var fail atomic.Bool
		fail.Store(true)
		startWorker(t, b.newWorker(b.queue(t, spread[2]), HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			if fail.Load() {
				return nil, errors.New("down")
			}
			return nil, nil
		}), WorkerConfig{}))
		for range 2 {
			q.Add(ctx, "x", nil, JobOptions{Retries: NoRetries})
		}
		waitFor(t, "failures", func() bool { c, _ := q.Counts(ctx); return c.Failed == 3 })
		failed, err := q.List(ctx, StateFailed, 0, 10)
		if err != nil || len(failed) != 3 || failed[0].Error != "down" {
			t.Fatalf("failed list = %d jobs, %v", len(failed), err)
		}
		if n, err := q.Clean(ctx, StateFailed, 0, 1); err != nil || n != 1 {
			t.Fatalf("clean one failed = %d, %v", n, err)
		}
		fail.Store(false)
		if n, err := q.RetryAll(ctx); err != nil || n != 2 {
			t.Fatalf("RetryAll = %d, %v; want 2", n, err)
		}
		waitFor(t, "retried jobs", func() bool { c, _ := q.Counts(ctx); return c.CompletedTotal == 2 })
		if c, _ := q.Counts(ctx); c != (Counts{CompletedTotal: 2, FailedTotal: 3}) {
			t.Fatalf("counts = %+v", c)
		}
	})

	t.Run("lost worker's job is redelivered, shutdown hands jobs back", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		q := b.queue(t, spread[0])
		ctx := context.Background()
		lost, _ := q.Add(ctx, "lost", nil, JobOptions{RemoveOnComplete: Keep})
		if ids := leaseAndVanish(t, b.queue(t, spread[0]), 1, 50*time.Millisecond); len(ids) != 1 {
			t.Fatal("no job leased")
		}
		stuck, _ := q.Add(ctx, "stuck", nil, JobOptions{})
		b.logs.expect("shutdown timeout passed; handing running jobs back")
		var started atomic.Int32
		w := b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			started.Add(1)
			if job.Name == "stuck" {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return nil, nil
		}), WorkerConfig{ShutdownTimeout: 100 * time.Millisecond})
		stop := startWorker(t, w)
		waitFor(t, "both jobs", func() bool { return started.Load() == 2 })
		waitFor(t, "redelivered job to complete", func() bool {
			j, err := q.Get(ctx, lost.ID)
			return err == nil && j.State == StateCompleted
		})
		stop()
		if got := mustState(t, q, lost.ID, StateCompleted); got.Stalls != 1 || got.Failures != 0 {
			t.Fatalf("redelivered job = %+v; want one stall, no failure", got)
		}
		if got := mustState(t, q, stuck.ID, StateWaiting); got.Failures != 0 || got.Stalls != 0 {
			t.Fatalf("handed-back job = %+v; want no retry consumed", got)
		}
	})

	t.Run("every key of a queue shares its slot", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		ctx := context.Background()
		// Drive every queue through every state, and hold one job active,
		// so that every kind of key exists while the keyspace is read.
		release := make(chan struct{})
		defer close(release)
		for _, name := range spread {
			q := b.queue(t, name)
			blocked := make(chan struct{})
			startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
				switch string(job.Data) {
				case "fail":
					return nil, errors.New("no")
				case "block":
					close(blocked)
					<-release
				}
				return "ok", nil
			}), WorkerConfig{}))
			add := func(data string, opts JobOptions) {
				t.Helper()
				if _, err := q.Add(ctx, "x", []byte(data), opts); err != nil {
					t.Fatal(err)
				}
			}
			add("ok", JobOptions{RemoveOnComplete: Keep})
			add("fail", JobOptions{Retries: NoRetries})
			add("block", JobOptions{})
			<-blocked
			waitFor(t, "jobs finished", func() bool { c, _ := q.Counts(ctx); return c.Completed == 1 && c.Failed == 1 })
			if err := q.Pause(ctx); err != nil {
				t.Fatal(err)
			}
			add("held", JobOptions{DedupKey: "d", Priority: 3})
			add("later", JobOptions{Delay: time.Hour})
		}

		prefix := b.client.cfg.Prefix
		type found struct{ key, node string }
		var mu sync.Mutex
		var keys []found
		err := c.Client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				mu.Lock()
				keys = append(keys, found{iter.Val(), node.Options().Addr})
				mu.Unlock()
			}
			return iter.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		type queueKeys struct {
			slots        map[int64]bool
			nodes, parts map[string]bool
		}
		byQueue := map[string]*queueKeys{}
		for _, k := range keys {
			name, part, ok := parseKey(prefix, k.key)
			if !ok {
				t.Errorf("key %s is not shaped <prefix>:{<queue>}:<part>", k.key)
				continue
			}
			slot, err := c.Client.ClusterKeySlot(ctx, k.key).Result()
			if err != nil {
				t.Fatal(err)
			}
			qk := byQueue[name]
			if qk == nil {
				qk = &queueKeys{slots: map[int64]bool{}, nodes: map[string]bool{}, parts: map[string]bool{}}
				byQueue[name] = qk
			}
			qk.slots[slot], qk.nodes[k.node], qk.parts[part] = true, true, true
		}
		known := []string{"meta", "data", "waiting", "delayed", "active", "completed", "failed", "dedup", "events", "marker", "w:"}
		required := []string{"meta", "data", "waiting", "delayed", "active", "completed", "failed", "dedup", "events"}
		homes := map[string]bool{} // where the keys really are, by SCAN
		for _, name := range spread {
			qk := byQueue[name]
			if qk == nil {
				t.Fatalf("no keys found for queue %s", name)
			}
			maps.Copy(homes, qk.nodes)
			want, _ := c.Client.ClusterKeySlot(ctx, name).Result()
			master, _ := c.Client.MasterForKey(ctx, name)
			if len(qk.slots) != 1 || !qk.slots[want] || len(qk.nodes) != 1 || !qk.nodes[master.Options().Addr] {
				t.Errorf("queue %s: keys in slots %v on %v; want all in slot %d on %s", name, qk.slots, qk.nodes, want, master.Options().Addr)
			}
			for part := range qk.parts {
				if !slices.ContainsFunc(known, func(k string) bool { return part == k || k == "w:" && strings.HasPrefix(part, k) }) {
					t.Errorf("queue %s: unexpected key part %q", name, part)
				}
			}
			for _, part := range required {
				if !qk.parts[part] {
					t.Errorf("queue %s: no %q key; the workload should have made one", name, part)
				}
			}
			t.Logf("queue %s: %d kinds of key, all in slot %d on %s", name, len(qk.parts), want, master.Options().Addr)
		}
		if len(byQueue) != len(spread) || len(homes) != len(c.Addrs) {
			t.Errorf("keys of %d queues on %d masters, want %d on %d", len(byQueue), len(homes), len(spread), len(c.Addrs))
		}
	})
}

// clusterBundle is one subtest's corner of the shared cluster: a key prefix
// of its own, and a log of its workers' warnings and errors.
type clusterBundle struct {
	c      *redistest.Cluster
	client *Client
	logs   *warnings
}

// onCluster returns a subtest's bundle. When the subtest ends, after its
// workers stopped, it fails if they logged any warning or error not
// expected: a worker retries failed Redis calls (a CROSSSLOT refusal, say),
// so its jobs alone would not show that the cluster refused it.
func onCluster(t *testing.T, c *redistest.Cluster) *clusterBundle {
	t.Helper()
	b := &clusterBundle{c: c, client: NewClient(c.NewClient(t), Config{Prefix: "test:" + randomID()}), logs: &warnings{}}
	t.Cleanup(func() {
		for _, line := range b.logs.unexpected() {
			t.Errorf("worker logged: %s", line)
		}
	})
	return b
}

// newWorker is NewWorker with the bundle's logger.
func (b *clusterBundle) newWorker(q *Queue, h Handler, cfg WorkerConfig) *Worker {
	cfg.Logger = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return NewWorker(q, h, cfg)
}

// warnings collects log lines from several goroutines.
type warnings struct {
	mu       sync.Mutex
	buf      strings.Builder
	expected []string
}

func (w *warnings) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// expect lets lines containing s through.
func (w *warnings) expect(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expected = append(w.expected, s)
}

func (w *warnings) unexpected() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for line := range strings.Lines(w.buf.String()) {
		if !slices.ContainsFunc(w.expected, func(s string) bool { return strings.Contains(line, s) }) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// queue returns the named queue through a cluster client of its own, as
// another eventsd process would see it.
func (b *clusterBundle) queue(t *testing.T, name string) *Queue {
	t.Helper()
	return NewClient(b.c.NewClient(t), b.client.cfg).Queue(name)
}

// namesOnEveryMaster returns one queue name per master: their hash tags
// land on different masters, as CLUSTER KEYSLOT and the slot map show.
func namesOnEveryMaster(t *testing.T, c *redistest.Cluster) []string {
	t.Helper()
	byMaster := map[string]string{}
	var names []string
	for i := 0; len(names) < len(c.Addrs); i++ {
		if i > 1000 {
			t.Fatalf("found queue names on %d masters only", len(names))
		}
		name := fmt.Sprintf("queue-%d", i)
		addr := masterOf(t, c, name)
		if _, ok := byMaster[addr]; !ok {
			byMaster[addr] = name
			names = append(names, name)
		}
	}
	return names
}

// sameMasterOtherSlot returns a queue name whose keys live on the same
// master as name's, in another slot.
func sameMasterOtherSlot(t *testing.T, c *redistest.Cluster, name string) string {
	t.Helper()
	ctx := context.Background()
	slot, _ := c.Client.ClusterKeySlot(ctx, name).Result()
	for i := 0; i < 1000; i++ {
		other := fmt.Sprintf("neighbour-%d", i)
		if s, _ := c.Client.ClusterKeySlot(ctx, other).Result(); s != slot && masterOf(t, c, other) == masterOf(t, c, name) {
			return other
		}
	}
	t.Fatal("no other slot on the same master")
	return ""
}

// masterOf returns the address of the master that holds the keys of the
// queue named name, whatever the prefix: its hash tag is the name.
func masterOf(t *testing.T, c *redistest.Cluster, name string) string {
	t.Helper()
	m, err := c.Client.MasterForKey(context.Background(), "any:{"+name+"}:meta")
	if err != nil {
		t.Fatal(err)
	}
	return m.Options().Addr
}

// subscribers counts the subscribers of a channel over every master.
func subscribers(t *testing.T, c *redistest.Cluster, channel string) int {
	t.Helper()
	var mu sync.Mutex
	total := 0
	err := c.Client.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
		n, err := node.PubSubNumSub(ctx, channel).Result()
		mu.Lock()
		total += int(n[channel])
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// parseKey splits "<prefix>:{<queue>}:<part>".
func parseKey(prefix, key string) (queue, part string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix+":{")
	if !ok {
		return "", "", false
	}
	queue, part, ok = strings.Cut(rest, "}:")
	return queue, part, ok
}
