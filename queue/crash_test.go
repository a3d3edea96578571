package queue

import (
	"bufio"
	"context"
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
	w := watch(t, b.q)
	j := mustAdd(t, b.q, "x", []byte("payload"), JobOptions{RemoveOnComplete: Keep})

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
	b.startWorker(t, b.otherProcess(t), func(ctx context.Context, job *Job) (any, error) {
		ran <- job
		return "recovered", nil
	}, WorkerConfig{})
	var got *Job
	select {
	case got = <-ran:
	case <-time.After(hang):
		t.Fatal("job not redelivered")
	}
	t.Logf("redelivered %s after the kill (lease %s)", time.Since(killed).Round(time.Millisecond), childLease())
	if string(got.Data) != "payload" || got.Attempt != 1 || got.Stalls != 1 || got.Failures != 0 {
		t.Fatalf("redelivered job = %+v; want attempt 1, 1 stall, no failure", got)
	}
	w.awaitJob(t, j.ID, EventCompleted)
	done := mustState(t, b.q, j.ID, StateCompleted)
	if len(done.History) != 1 || !done.History[0].Stalled || done.Failures != 0 || string(done.Result) != `"recovered"` {
		t.Fatalf("completed job = %+v", done)
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
	}), WorkerConfig{MaxIdleWait: time.Second, Logger: quietLogger()}))
	mustAdd(t, q, "x", nil, JobOptions{})
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
