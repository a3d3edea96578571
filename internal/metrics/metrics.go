// Package metrics exposes the job engine to Prometheus: jobs processed,
// failed and retried, handler duration and pickup latency, observed by each
// worker process; and, read from Redis at scrape time by one process of the
// cluster (see Depth), queue depth per state, the oldest waiting job's age
// and lifetime totals. HTTP metrics live in internal/api.
package metrics

import (
	"errors"
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
			Help: "Job attempts this process ran, by outcome: completed, failed (for good), cancelled (while it ran) or retried.",
		}, []string{"queue", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventsd_job_duration_seconds",
			Help:    "How long job handlers ran.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"queue", "name"}),
		pickup: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventsd_job_pickup_latency_seconds",
			Help:    "From a job becoming runnable (added, due after a delay or backoff, or its queue resumed) to an attempt starting, Redis clock. Time spent paused does not count.",
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
			if !job.ReadyAt.IsZero() {
				m.pickup.WithLabelValues(job.Queue).Observe(max(job.StartedAt.Sub(job.ReadyAt), 0).Seconds())
			}
		},
		Finished: func(job *queue.Job, to queue.State, took time.Duration, err error) {
			outcome := "retried"
			switch to {
			case queue.StateCompleted:
				outcome = "completed"
			case queue.StateFailed:
				outcome = "failed"
				if errors.Is(err, queue.ErrCancelled) {
					outcome = "cancelled"
				}
			}
			m.processed.WithLabelValues(job.Queue, outcome).Inc()
			m.duration.WithLabelValues(job.Queue, job.Name).Observe(took.Seconds())
		},
	}
}
