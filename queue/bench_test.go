package queue

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
)

// BenchmarkProcessNoop measures a worker draining no-op jobs at concurrency
// 100, the jobs added beforehand (not timed): b.N jobs, so ns/op is the
// wall time per job, cpu-ns/job this process's CPU per job, and the
// allocation figures are per job, all of the worker's work (fetching,
// running, recording) included. Run it against a real Redis
// (TEST_REDIS_URL); on miniredis it measures miniredis too.
func BenchmarkProcessNoop(b *testing.B) {
	r := setupBench(b)
	ctx := context.Background()
	q := r.client.Queue("bench")
	payload := make([]byte, 64)
	batch := make([]NewJob, 500)
	for i := range batch {
		batch[i] = NewJob{Name: "noop", Data: payload}
	}
	for added := 0; added < b.N; added += len(batch) {
		if _, err := q.AddBulk(ctx, batch[:min(len(batch), b.N-added)]); err != nil {
			b.Fatal(err)
		}
	}
	var done atomic.Int64
	all := make(chan struct{})
	n := int64(b.N)
	w := NewWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
		if done.Add(1) == n {
			close(all)
		}
		return nil, nil
	}), WorkerConfig{Concurrency: 100, Logger: quietLogger()})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, redis0 := processCPU(), redisCPU(b, r)
	wctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { w.Run(wctx); close(stopped) }()
	select {
	case <-all:
	case <-time.After(10 * time.Minute):
		b.Fatal("jobs not processed")
	}
	// Every outcome recorded: the worker stops only after its recorder.
	stop()
	<-stopped
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/job")
	if redis0 >= 0 {
		// The server's CPU, all its clients': meaningful on a server that
		// serves nothing else meanwhile.
		b.ReportMetric(float64((redisCPU(b, r)-redis0).Nanoseconds())/float64(b.N), "redis-cpu-ns/job")
	}
	if c, _ := q.Counts(ctx); c.CompletedTotal != n {
		b.Fatalf("completed %d of %d", c.CompletedTotal, n)
	}
}

// setupBench is setup for benchmarks: a queue under a key prefix of its own.
func setupBench(b *testing.B) *bundle {
	b.Helper()
	r := redistest.Start(b)
	return &bundle{rdb: r.Client, client: NewClient(r.Client, Config{Prefix: r.Prefix}), logs: &warnings{}}
}

// redisCPU is the CPU time the Redis server has used (INFO cpu), or -1
// where the server does not say (miniredis).
func redisCPU(b *testing.B, r *bundle) time.Duration {
	info, err := r.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return -1
	}
	var total float64
	found := 0
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", k, err)
			}
			total += f
			found++
		}
	}
	if found != 2 {
		return -1
	}
	return time.Duration(total * float64(time.Second))
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
