// Package metrics exposes the job engine to Prometheus: jobs processed,
// failed and retried, handler duration, pickup latency, and queue depth per
// state read from Redis at scrape time. HTTP metrics live in internal/api.
package metrics

import (
	"context"
	"time"

	"github.com/eventsd/eventsd/queue"
	"github.com/prometheus/client_golang/prometheus"
)

// Jobs records what a worker does.
type Jobs struct {
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	pickup    *prometheus.HistogramVec
}

// NewJobs registers the job metrics with reg.
func NewJobs(reg prometheus.Registerer) *Jobs {
	m := &Jobs{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eventsd_jobs_processed_total",
			Help: "Job attempts this process ran, by outcome: completed, failed (for good) or retried.",
		}, []string{"queue", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventsd_job_duration_seconds",
			Help:    "How long job handlers ran.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"queue", "name"}),
		pickup: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventsd_job_pickup_latency_seconds",
			Help:    "From a job being added to its first attempt starting, for jobs added without a delay (Redis clock).",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}, []string{"queue"}),
	}
	reg.MustRegister(m.processed, m.duration, m.pickup)
	return m
}

// Observer returns a queue.Observer feeding these metrics.
func (m *Jobs) Observer() queue.Observer {
	return queue.Observer{
		Started: func(job *queue.Job) {
			if job.Attempt == 1 && job.Stalls == 0 && job.Options.Delay == 0 && job.Options.RunAt.IsZero() {
				m.pickup.WithLabelValues(job.Queue).Observe(max(job.StartedAt.Sub(job.AddedAt), 0).Seconds())
			}
		},
		Finished: func(job *queue.Job, to queue.State, took time.Duration, err error) {
			outcome := "retried"
			switch to {
			case queue.StateCompleted:
				outcome = "completed"
			case queue.StateFailed:
				outcome = "failed"
			}
			m.processed.WithLabelValues(job.Queue, outcome).Inc()
			m.duration.WithLabelValues(job.Queue, job.Name).Observe(took.Seconds())
		},
	}
}

// Depth is a collector reading a queue's counts from Redis at scrape time.
type Depth struct {
	q      *queue.Queue
	jobs   *prometheus.Desc
	totals *prometheus.Desc
	paused *prometheus.Desc
	up     *prometheus.Desc
}

// NewDepth registers a depth collector for q with reg.
func NewDepth(reg prometheus.Registerer, q *queue.Queue) *Depth {
	d := &Depth{
		q:      q,
		jobs:   prometheus.NewDesc("eventsd_queue_jobs", "Jobs in the queue by state.", []string{"queue", "state"}, nil),
		totals: prometheus.NewDesc("eventsd_queue_finished_jobs_total", "Jobs that ever completed or failed, all processes, kept or not.", []string{"queue", "outcome"}, nil),
		paused: prometheus.NewDesc("eventsd_queue_paused", "1 when the queue is paused.", []string{"queue"}, nil),
		up:     prometheus.NewDesc("eventsd_queue_counts_up", "1 when the queue's counts could be read from Redis at this scrape.", []string{"queue"}, nil),
	}
	reg.MustRegister(d)
	return d
}

// Describe implements prometheus.Collector.
func (d *Depth) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.jobs
	ch <- d.totals
	ch <- d.paused
	ch <- d.up
}

// Collect implements prometheus.Collector.
func (d *Depth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	name := d.q.Name()
	c, err := d.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(d.up, prometheus.GaugeValue, 0, name)
		return
	}
	ch <- prometheus.MustNewConstMetric(d.up, prometheus.GaugeValue, 1, name)
	for state, n := range map[queue.State]int64{
		queue.StateWaiting: c.Waiting, queue.StatePaused: c.Paused, queue.StateActive: c.Active,
		queue.StateDelayed: c.Delayed, queue.StateCompleted: c.Completed, queue.StateFailed: c.Failed,
	} {
		ch <- prometheus.MustNewConstMetric(d.jobs, prometheus.GaugeValue, float64(n), name, string(state))
	}
	ch <- prometheus.MustNewConstMetric(d.totals, prometheus.CounterValue, float64(c.CompletedTotal), name, "completed")
	ch <- prometheus.MustNewConstMetric(d.totals, prometheus.CounterValue, float64(c.FailedTotal), name, "failed")
	paused := 0.0
	if c.IsPaused {
		paused = 1
	}
	ch <- prometheus.MustNewConstMetric(d.paused, prometheus.GaugeValue, paused, name)
}
