package metrics

import (
	"cmp"
	"context"
	"crypto/rand"
	_ "embed"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/eventsd/eventsd/queue"
)

// DepthConfig tunes a Depth collector. The zero value means the defaults.
type DepthConfig struct {
	// Redis, when set, elects one exporter: of all the processes that
	// register a Depth on the same queue, only the holder of a lease in this
	// Redis exports the queue's gauges, so that summing them across
	// processes does not multiply them. Nil exports from this process
	// always (one process, or tests).
	Redis redis.UniversalClient
	// KeyPrefix starts the lease's key: the lease for queue q is
	// "<KeyPrefix>:{<q>}:metrics-exporter", in the queue's Redis Cluster
	// slot (default "eventsd").
	KeyPrefix string
	// Lease is how long the exporter role lasts without a scrape renewing it
	// (default 60 s): how long the gauges may be missing after their
	// exporter stops. Scrape more often than this, or the role moves from
	// process to process (the values stay right, one process at a time).
	Lease time.Duration
}

// Depth is a collector reading queues' state from Redis at scrape time:
// jobs per state, the oldest waiting job's age, lifetime totals and whether
// the queue is paused, each labelled with its queue. Every process reports
// eventsd_queue_counts_up (could it read Redis) and eventsd_queue_exporter
// (does it export the rest); the rest comes from one process per queue, the
// queue's exporter.
type Depth struct {
	queues []*queue.Queue
	cfg    DepthConfig
	id     string
	jobs   *prometheus.Desc
	oldest *prometheus.Desc
	totals *prometheus.Desc
	paused *prometheus.Desc
	up     *prometheus.Desc
	role   *prometheus.Desc
}

//go:embed exporter.lua
var exporterSource string

var exporterScript = redis.NewScript(exporterSource)

// NewDepth registers one depth collector for queues with reg. One collector
// serves them all: two would describe the same metrics.
func NewDepth(reg prometheus.Registerer, queues []*queue.Queue, cfg DepthConfig) *Depth {
	cfg.KeyPrefix = cmp.Or(cfg.KeyPrefix, "eventsd")
	cfg.Lease = cmp.Or(cfg.Lease, time.Minute)
	labels := []string{"queue"}
	d := &Depth{
		queues: queues,
		cfg:    cfg,
		id:     rand.Text(),
		jobs:   prometheus.NewDesc("eventsd_queue_jobs", "Jobs in the queue by state, read from Redis by one process (see eventsd_queue_exporter).", []string{"queue", "state"}, nil),
		oldest: prometheus.NewDesc("eventsd_queue_oldest_waiting_seconds", "How long the job next in line has been runnable (0: none waits, or the queue is paused); read from Redis by one process.", labels, nil),
		totals: prometheus.NewDesc("eventsd_queue_finished_jobs_total", "Jobs that ever completed, failed or were cancelled, all processes, kept or not; read from Redis by one process.", []string{"queue", "outcome"}, nil),
		paused: prometheus.NewDesc("eventsd_queue_paused", "1 when the queue is paused; read from Redis by one process.", labels, nil),
		up:     prometheus.NewDesc("eventsd_queue_counts_up", "1 when this process could read the queue's counts from Redis at this scrape.", labels, nil),
		role:   prometheus.NewDesc("eventsd_queue_exporter", "1 when this process exports the queue's gauges read from Redis; one process of the cluster does.", labels, nil),
	}
	reg.MustRegister(d)
	return d
}

// Describe implements prometheus.Collector.
func (d *Depth) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{d.jobs, d.oldest, d.totals, d.paused, d.up, d.role} {
		ch <- desc
	}
}

// Collect implements prometheus.Collector.
func (d *Depth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, q := range d.queues {
		d.collect(ctx, ch, q)
	}
}

// collect sends one queue's metrics.
func (d *Depth) collect(ctx context.Context, ch chan<- prometheus.Metric, q *queue.Queue) {
	name := q.Name()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	exporter, err := d.exporter(ctx, name)
	var c queue.Counts
	if err == nil {
		c, err = q.Counts(ctx)
	}
	if err != nil {
		gauge(d.up, 0, name)
		gauge(d.role, 0, name)
		return
	}
	gauge(d.up, 1, name)
	if !exporter {
		gauge(d.role, 0, name)
		return
	}
	gauge(d.role, 1, name)
	for state, n := range map[queue.State]int64{
		queue.StateWaiting: c.Waiting, queue.StatePaused: c.Paused, queue.StateActive: c.Active,
		queue.StateDelayed: c.Delayed, queue.StateCompleted: c.Completed, queue.StateFailed: c.Failed,
	} {
		gauge(d.jobs, float64(n), name, string(state))
	}
	gauge(d.oldest, c.OldestWaiting.Seconds(), name)
	for outcome, n := range map[string]int64{"completed": c.CompletedTotal, "failed": c.FailedTotal, "cancelled": c.CancelledTotal} {
		ch <- prometheus.MustNewConstMetric(d.totals, prometheus.CounterValue, float64(n), name, outcome)
	}
	paused := 0.0
	if c.IsPaused {
		paused = 1
	}
	gauge(d.paused, paused, name)
}

// exporter claims or renews the exporter role for the queue name, and says
// whether this process holds it.
func (d *Depth) exporter(ctx context.Context, name string) (bool, error) {
	if d.cfg.Redis == nil {
		return true, nil
	}
	key := d.cfg.KeyPrefix + ":{" + name + "}:metrics-exporter"
	n, err := exporterScript.Run(ctx, d.cfg.Redis, []string{key}, d.id, d.cfg.Lease.Milliseconds()).Int()
	return n == 1, err
}
