package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
)

// TestQueueRuns checks the benchmark end to end at a tiny size, so the
// command users run cannot rot. It asserts on what was counted, not speed.
func TestQueueRuns(t *testing.T) {
	r := redistest.Start(t)
	res, err := Queue(context.Background(), r.Client, QueueOptions{
		Jobs: 500, Concurrency: 10, Samples: 8, Idle: 100 * time.Millisecond, Steady: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	t.Logf("%s", out)
	if res.ProcessPerSec <= 0 || res.AddPerSec <= 0 || res.PickupP50Ms <= 0 || res.IdlePingP50Ms <= 0 {
		t.Fatalf("implausible result: %s", out)
	}
	if r.Mini == nil && (res.CommandsPerJob <= 0 || res.RedisCallsPerJob < res.CommandsPerJob || res.IdleCommandsPerSec < 0) {
		t.Fatalf("implausible command counts: %s", out)
	}
}

// TestQueueThroughputOnly checks that ThroughputOnly runs the add and process
// phases and none of the others, whose figures would otherwise be above 0.
func TestQueueThroughputOnly(t *testing.T) {
	r := redistest.Start(t)
	res, err := Queue(context.Background(), r.Client, QueueOptions{Jobs: 500, Concurrency: 10, ThroughputOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	t.Logf("%s", out)
	if !res.ThroughputOnly || res.ProcessPerSec <= 0 || res.AddPerSec <= 0 || res.ProcessCPUSeconds <= 0 {
		t.Fatalf("implausible result: %s", out)
	}
	if res.PickupP50Ms != 0 || res.DelayLateP50Ms != 0 || res.E2ERatePerSec != 0 || res.IdleCommandsPerSec != 0 {
		t.Fatalf("a skipped phase ran: %s", out)
	}
	if r.Mini == nil && res.RedisCallsPerJob <= 0 {
		t.Fatalf("implausible command counts: %s", out)
	}
}

// BenchmarkQueue runs the full queue benchmark at concurrency 10 and 100.
// Run against the local Redis:
//
//	TEST_REDIS_URL=redis://127.0.0.1:6379/9 go test -run '^$' -bench Queue -benchtime 1x ./internal/bench/
func BenchmarkQueue(b *testing.B) {
	for _, c := range []int{10, 100} {
		b.Run("concurrency="+itoa(c), func(b *testing.B) {
			r := redistest.Start(b)
			for range b.N {
				res, err := Queue(context.Background(), r.Client, QueueOptions{Jobs: 100_000, Concurrency: c, Idle: 10 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.AddPerSec, "add/s")
				b.ReportMetric(res.ProcessPerSec, "jobs/s")
				b.ReportMetric(res.PickupP50Ms, "pickup-p50-ms")
				b.ReportMetric(res.PickupP99Ms, "pickup-p99-ms")
				b.ReportMetric(res.CommandsPerJob, "cmds/job")
				b.ReportMetric(res.RedisCallsPerJob, "redis-calls/job")
				b.ReportMetric(res.IdleCommandsPerSec, "idle-cmds/s")
				b.ReportMetric(res.IdleRedisCallsPerSec, "idle-redis-calls/s")
				b.ReportMetric(res.RedisCPUSeconds, "redis-cpu-s")
				b.ReportMetric(res.E2EP99Ms, "e2e-p99-ms")
				b.ReportMetric(res.DelayLateP99Ms, "delay-late-p99-ms")
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
