package queue

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A scenario is one test body that runs on every backend: a standalone
// Redis (TEST_REDIS_URL, else miniredis) in TestStandalone, and a real
// three-master Redis Cluster in TestCluster.
type scenario struct {
	name string
	run  func(t *testing.T, b *bundle)
}

// bundle is what a scenario needs: a queue under a key prefix of its own on
// one backend, and a way to reach it as another process would.
type bundle struct {
	rdb    redis.UniversalClient // this "process"'s connection
	client *Client
	q      *Queue
	// connect dials an independent connection to the same backend.
	connect func(t *testing.T) redis.UniversalClient
	// r is the standalone server, for tests that need its URL or a proxy;
	// nil on a cluster.
	r    *redistest.Redis
	logs *warnings
}

func newBundle(t *testing.T, rdb redis.UniversalClient, connect func(*testing.T) redis.UniversalClient, prefix string) *bundle {
	t.Helper()
	c := NewClient(rdb, Config{Prefix: prefix})
	b := &bundle{rdb: rdb, client: c, q: c.Queue("test-queue"), connect: connect, logs: &warnings{}}
	// Workers retry failed Redis calls (a CROSSSLOT refusal, say), so their
	// jobs alone would not show that Redis refused them: any warning a test
	// did not expect fails it. Cleanups run last-in first-out, so this runs
	// after the test's workers stopped.
	t.Cleanup(func() {
		for _, line := range b.logs.unexpected() {
			t.Errorf("worker logged: %s", line)
		}
	})
	return b
}

// setup returns a bundle on the standalone backend.
func setup(t *testing.T) *bundle {
	t.Helper()
	r := redistest.Start(t)
	b := newBundle(t, r.Client, func(t *testing.T) redis.UniversalClient { return r.NewClient(t) }, r.Prefix)
	b.r = r
	return b
}

// otherProcess returns the same queue through a second, independent Redis
// connection, as another eventsd process would see it.
func (b *bundle) otherProcess(t *testing.T) *Queue {
	t.Helper()
	return NewClient(b.connect(t), Config{Prefix: b.client.cfg.Prefix}).Queue(b.q.name)
}

// newWorker is NewWorker logging to the bundle's warnings.
func (b *bundle) newWorker(q *Queue, h HandlerFunc, cfg WorkerConfig) *Worker {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return NewWorker(q, h, cfg)
}

// startWorker runs a new worker until the test ends and returns a func that
// stops it and waits for Run to return.
func (b *bundle) startWorker(t *testing.T, q *Queue, h HandlerFunc, cfg WorkerConfig) (stop func()) {
	t.Helper()
	return startWorker(t, b.newWorker(q, h, cfg))
}

// startWorker runs w until the test ends and returns a func that stops it
// and waits for Run to return.
func startWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("worker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// hang bounds every wait in these tests. It catches a hang; it is not a
// speed assertion.
const hang = 30 * time.Second

// watcher sees a queue's lifecycle events from the moment it was made, and
// keeps every one it has read.
type watcher struct {
	ch     chan Event
	mu     sync.Mutex
	counts map[EventType]int
	log    []Event
}

// watch subscribes to q's events from now on: whatever a test does after it
// returns is seen.
func watch(t *testing.T, q *Queue) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	start, err := q.lastEntry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{ch: make(chan Event, 100_000), counts: map[EventType]int{}}
	go func() {
		for e, err := range q.Events(ctx, start.entry()) {
			if err != nil {
				return
			}
			w.ch <- e
		}
	}()
	// The reader returns within one blocking read of the cancel; waiting
	// for it would add that to every test.
	t.Cleanup(cancel)
	return w
}

// await returns the first event, already read or still to come, for which
// match returns true, blocking until it arrives.
func (w *watcher) await(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	w.mu.Lock()
	read := slices.Clone(w.log)
	w.mu.Unlock()
	for _, e := range read {
		if match(e) {
			return e
		}
	}
	timeout := time.After(hang)
	for {
		select {
		case e := <-w.ch:
			w.mu.Lock()
			w.counts[e.Type]++
			w.log = append(w.log, e)
			w.mu.Unlock()
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s (events seen: %v)", what, w.seen())
		}
	}
}

// awaitCount blocks until n events of type typ have arrived in all.
func (w *watcher) awaitCount(t *testing.T, typ EventType, n int) {
	t.Helper()
	if w.seenOf(typ) >= n {
		return
	}
	w.await(t, fmt.Sprintf("%d %s events", n, typ), func(e Event) bool { return w.seenOf(typ) >= n })
}

// awaitJob blocks until job id has an event of type typ.
func (w *watcher) awaitJob(t *testing.T, id string, typ EventType) Event {
	t.Helper()
	return w.await(t, fmt.Sprintf("%s of job %s", typ, id), func(e Event) bool { return e.JobID == id && e.Type == typ })
}

func (w *watcher) seenOf(typ EventType) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[typ]
}

func (w *watcher) seen() map[EventType]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[EventType]int, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

// waitFor polls cond: only for conditions no event or hook reports.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustState(t *testing.T, q *Queue, id string, want State) *Job {
	t.Helper()
	j, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	if j.State != want {
		t.Fatalf("job %s state %s, want %s", id, j.State, want)
	}
	return j
}

func mustAdd(t *testing.T, q *Queue, name string, data []byte, opts JobOptions) *Job {
	t.Helper()
	j, err := q.Add(context.Background(), name, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// quietLogger drops a worker's logs, for tests of outages that it logs.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

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

// expect marks lines containing s as expected.
func (w *warnings) expect(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expected = append(w.expected, s)
}

func (w *warnings) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// unexpected returns the lines no expect call covers.
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

// TestMain lets the test binary double as a worker process that the crash
// test kills with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("QUEUE_TEST_CHILD") == "1" {
		childWorker()
		return
	}
	os.Exit(m.Run())
}
