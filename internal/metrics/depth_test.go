package metrics

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// process is one eventsd process's registry with a Depth collector on the
// shared queue.
func process(t *testing.T, r *redistest.Redis, q *queue.Queue) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	NewDepth(reg, []*queue.Queue{q}, DepthConfig{Redis: r.NewClient(t), KeyPrefix: r.Prefix})
	return reg
}

func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue(), true
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// TestOneExporter: of several processes on one queue, one exports the
// gauges read from Redis, so that sum() across processes counts each job
// once; when its lease is gone another takes over.
func TestOneExporter(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	ctx := context.Background()
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue("q")
	for range 3 {
		if _, err := q.Add(ctx, "x", nil, queue.JobOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Add(ctx, "x", nil, queue.JobOptions{Delay: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	key := r.Prefix + ":{q}:metrics-exporter"
	a, b := process(t, r, q), process(t, r, q)

	waiting := map[string]string{"state": "waiting"}
	sum := func() (total float64, exporters int) {
		for _, reg := range []*prometheus.Registry{a, b} {
			if up, _ := value(t, reg, "eventsd_queue_counts_up", nil); up != 1 {
				t.Fatalf("eventsd_queue_counts_up = %v, want 1 in every process", up)
			}
			v, ok := value(t, reg, "eventsd_queue_jobs", waiting)
			role, _ := value(t, reg, "eventsd_queue_exporter", nil)
			if ok != (role == 1) {
				t.Fatalf("eventsd_queue_jobs exported: %v, eventsd_queue_exporter = %v", ok, role)
			}
			if ok {
				exporters++
				total += v
			}
		}
		return total, exporters
	}
	if total, n := sum(); total != 3 || n != 1 {
		t.Fatalf("sum of waiting jobs over processes = %v from %d exporters, want 3 from 1", total, n)
	}
	if v, _ := value(t, a, "eventsd_queue_jobs", map[string]string{"state": "delayed"}); v != 1 {
		t.Fatalf("delayed = %v, want 1", v)
	}
	if v, _ := value(t, a, "eventsd_queue_oldest_waiting_seconds", nil); v < 0 {
		t.Fatalf("oldest waiting = %v", v)
	}
	// The exporter stops; its lease ends (deleted here rather than waited
	// for); the other process takes over.
	if err := r.Client.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := value(t, b, "eventsd_queue_jobs", waiting); !ok {
		t.Fatal("the second process did not take over the exporter role")
	}
	if _, ok := value(t, a, "eventsd_queue_jobs", waiting); ok {
		t.Fatal("two processes export the queue's gauges at once")
	}
}

// TestDepthWithoutElection: without Redis for the lease, a process exports
// everything, the cancelled total beside the completed and failed ones.
func TestDepthWithoutElection(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	ctx := context.Background()
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue("q")
	j, err := q.Add(ctx, "x", nil, queue.JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	// A second queue in the same collector reports its own figures.
	other := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue("other")
	for range 2 {
		if _, err := other.Add(ctx, "x", nil, queue.JobOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	NewDepth(reg, []*queue.Queue{q, other}, DepthConfig{})
	if v, _ := value(t, reg, "eventsd_queue_jobs", map[string]string{"queue": "other", "state": "waiting"}); v != 2 {
		t.Fatalf("other queue's waiting jobs = %v, want 2", v)
	}
	if v, _ := value(t, reg, "eventsd_queue_jobs", map[string]string{"queue": "q", "state": "waiting"}); v != 0 {
		t.Fatalf("q's waiting jobs = %v, want 0", v)
	}
	for outcome, want := range map[string]float64{"cancelled": 1, "completed": 0, "failed": 0} {
		if v, ok := value(t, reg, "eventsd_queue_finished_jobs_total", map[string]string{"queue": "q", "outcome": outcome}); !ok || v != want {
			t.Errorf("eventsd_queue_finished_jobs_total{outcome=%q} = %v (exported: %v), want %v", outcome, v, ok, want)
		}
	}
	if v, _ := value(t, reg, "eventsd_queue_oldest_waiting_seconds", map[string]string{"queue": "q"}); v != 0 {
		t.Fatalf("oldest waiting = %v with nothing waiting, want 0", v)
	}
}
