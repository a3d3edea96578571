package queue

import (
	"context"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
)

// bundle is what a test needs: a queue on its own Redis (or key prefix).
type bundle struct {
	r      *redistest.Redis
	client *Client
	q      *Queue
}

func setup(t *testing.T) *bundle {
	t.Helper()
	r := redistest.Start(t)
	c := NewClient(r.Client, Config{Prefix: r.Prefix})
	return &bundle{r: r, client: c, q: c.Queue("test-queue")}
}

// otherProcess returns the same queue through a second, independent Redis
// client, as another eventsd process would see it.
func (b *bundle) otherProcess(t *testing.T) *Queue {
	t.Helper()
	return NewClient(b.r.NewClient(t), Config{Prefix: b.client.cfg.Prefix}).Queue(b.q.name)
}

// startWorker runs w until the test ends and returns a func that stops it
// and waits for Run to return.
func startWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker Run: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("worker did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds or a generous deadline passes. Deadlines
// here bound hangs; they are not speed assertions.
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
