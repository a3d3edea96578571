package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestMain lets the test binary double as a worker process that the crash
// test kills with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("QUEUE_TEST_CHILD") == "1" {
		childWorker()
		return
	}
	os.Exit(m.Run())
}

// childWorker runs a worker whose handler announces each job on stdout and
// then hangs, until the parent kills the process.
func childWorker() {
	opt, err := redis.ParseURL(os.Getenv("QUEUE_TEST_REDIS"))
	if err != nil {
		panic(err)
	}
	q := NewClient(redis.NewClient(opt), Config{Prefix: os.Getenv("QUEUE_TEST_PREFIX")}).Queue("test-queue")
	w := NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		fmt.Printf("started %s\n", job.ID)
		select {}
	}), WorkerConfig{LeaseTime: childLease()})
	w.Run(context.Background())
}

// childLease is the killed worker's lease: 600 ms, or QUEUE_TEST_LEASE (a Go
// duration) to measure recovery with another, such as the default 15s.
func childLease() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("QUEUE_TEST_LEASE")); err == nil {
		return d
	}
	return 600 * time.Millisecond
}

func TestWorkerKilledMidJobIsRedelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	j, _ := b.q.Add(ctx, "x", []byte("payload"), JobOptions{RemoveOnComplete: Keep})

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), "QUEUE_TEST_CHILD=1", "QUEUE_TEST_REDIS="+b.r.URL, "QUEUE_TEST_PREFIX="+b.client.cfg.Prefix)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "started "+j.ID {
		child.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no cleanup, no hand-back
		t.Fatal(err)
	}
	child.Wait()
	killed := time.Now()
	mustState(t, b.q, j.ID, StateActive)

	ran := make(chan *Job, 1)
	startWorker(t, NewWorker(b.otherProcess(t), HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		ran <- job
		return "recovered", nil
	}), WorkerConfig{}))
	var got *Job
	select {
	case got = <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("job not redelivered")
	}
	t.Logf("redelivered %s after the kill (lease %s)", time.Since(killed).Round(time.Millisecond), childLease())
	if string(got.Data) != "payload" || got.Attempt != 1 || got.Stalls != 1 || got.Failures != 0 {
		t.Fatalf("redelivered job = %+v; want attempt 1, 1 stall, no failure", got)
	}
	waitFor(t, "completion", func() bool {
		j, err := b.q.Get(ctx, j.ID)
		return err == nil && j.State == StateCompleted
	})
	done := mustState(t, b.q, j.ID, StateCompleted)
	if len(done.History) != 1 || !done.History[0].Stalled || done.Failures != 0 || string(done.Result) != `"recovered"` {
		t.Fatalf("completed job = %+v", done)
	}
}

// leaseAndVanish leases jobs like a worker that then dies: no heartbeat, no ack.
func leaseAndVanish(t *testing.T, q *Queue, n int, lease time.Duration) []string {
	t.Helper()
	res, err := q.run(context.Background(), scriptFetch, n, lease.Milliseconds(), 100).Slice()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 2; i < len(res); i += 3 {
		ids = append(ids, str(res[i]))
	}
	return ids
}

func TestStallLimitFailsJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{})
	dead := b.otherProcess(t)
	// Two workers die holding the job; with MaxStalls 1 the second loss fails it.
	for round := range 2 {
		waitFor(t, "job ready", func() bool {
			ids := leaseAndVanish(t, dead, 1, 50*time.Millisecond)
			return len(ids) == 1
		})
		time.Sleep(60 * time.Millisecond) // let the lease run out
		// A live worker's fetch reaps the expired lease.
		if _, err := b.q.run(ctx, scriptFetch, 0, 1000, 1).Result(); err != nil {
			t.Fatal(err)
		}
		got, _ := b.q.Get(ctx, j.ID)
		switch round {
		case 0:
			if got.State != StateWaiting || got.Stalls != 1 || got.Failures != 0 {
				t.Fatalf("after first stall: %+v", got)
			}
		case 1:
			if got.State != StateFailed || got.Stalls != 2 || !strings.HasPrefix(got.Error, "stalled 2 times") {
				t.Fatalf("after second stall: %+v", got)
			}
		}
	}
	c, _ := b.q.Counts(ctx)
	if c.FailedTotal != 1 || c.Active != 0 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestStaleWorkerCannotCompleteRedeliveredJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	j, _ := b.q.Add(ctx, "x", nil, JobOptions{RemoveOnComplete: Keep})
	ids := leaseAndVanish(t, b.q, 1, 30*time.Millisecond)
	if len(ids) != 1 {
		t.Fatal("no job leased")
	}
	time.Sleep(40 * time.Millisecond)
	// A new delivery (token 2) takes the job; the zombie (token 1) comes back.
	res, _ := b.q.run(ctx, scriptFetch, 1, 10_000, 5).Slice()
	if len(res) != 5 || str(res[2]) != j.ID {
		t.Fatalf("redelivery fetch = %v", res)
	}
	lost, err := b.q.run(ctx, scriptAck, j.ID, 1, "c", "k:0:0", `"zombie"`, "", "0").StringSlice()
	if err != nil || len(lost) != 1 {
		t.Fatalf("zombie ack: lost=%v err=%v; want it refused", lost, err)
	}
	mustState(t, b.q, j.ID, StateActive)
	lost, err = b.q.run(ctx, scriptAck, j.ID, 2, "c", "k:0:0", `"live"`, "", "0").StringSlice()
	if err != nil || len(lost) != 0 {
		t.Fatalf("live ack: lost=%v err=%v", lost, err)
	}
	if got := mustState(t, b.q, j.ID, StateCompleted); string(got.Result) != `"live"` {
		t.Fatalf("result %s", got.Result)
	}
}

func TestGracefulShutdownHandsJobsBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var started atomic.Int32
	quick, _ := b.q.Add(ctx, "quick", nil, JobOptions{RemoveOnComplete: Keep})
	stuck, _ := b.q.Add(ctx, "stuck", nil, JobOptions{})
	w := NewWorker(b.q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		started.Add(1)
		if job.Name == "quick" {
			time.Sleep(50 * time.Millisecond) // finishes within the shutdown timeout
			return nil, nil
		}
		<-ctx.Done() // stuck until the worker gives up on it
		return nil, errors.New("interrupted")
	}), WorkerConfig{ShutdownTimeout: 300 * time.Millisecond})
	stop := startWorker(t, w)
	waitFor(t, "both started", func() bool { return started.Load() == 2 })
	stop()
	mustState(t, b.q, quick.ID, StateCompleted)
	back := mustState(t, b.q, stuck.ID, StateWaiting)
	if back.Failures != 0 || back.Stalls != 0 || len(back.History) != 0 {
		t.Fatalf("handed-back job = %+v; want no retry consumed", back)
	}
	c, _ := b.q.Counts(ctx)
	if c.Active != 0 || c.Waiting != 1 || c.FailedTotal != 0 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestRedisDownWorkerRecovers(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t)
	opt, _ := redis.ParseURL(srv.URL)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	q := NewClient(rdb, Config{}).Queue("test-queue")
	ctx := context.Background()
	var ran atomic.Int32
	startWorker(t, NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		ran.Add(1)
		return nil, nil
	}), WorkerConfig{MaxIdleWait: time.Second}))
	if _, err := q.Add(ctx, "x", nil, JobOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first job", func() bool { return ran.Load() == 1 })
	srv.Stop()
	if _, err := q.Add(ctx, "x", nil, JobOptions{}); err == nil {
		t.Fatal("add with Redis down succeeded")
	}
	srv.Restart()
	waitFor(t, "add after restart", func() bool {
		_, err := q.Add(ctx, "x", nil, JobOptions{})
		return err == nil
	})
	waitFor(t, "job after restart", func() bool { return ran.Load() == 2 })
}
