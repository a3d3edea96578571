package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Webhooks records webhook delivery attempts.
type Webhooks struct {
	attempts *prometheus.CounterVec
	latency  prometheus.Histogram
	notSent  prometheus.Counter
}

// NewWebhooks registers the webhook metrics with reg.
func NewWebhooks(reg prometheus.Registerer) *Webhooks {
	m := &Webhooks{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eventsd_webhook_deliveries_total",
			Help: "Webhook delivery attempts this process made, by outcome: delivered, retrying or failed (for good).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "eventsd_webhook_delivery_duration_seconds",
			Help:    "How long webhook delivery attempts took, from connecting to the receiver's answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		notSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eventsd_webhook_attempts_not_sent_total",
			Help: "Webhook delivery attempts failed without a request, their receiver having timed out on several attempts in a row (its circuit open); not in eventsd_webhook_deliveries_total.",
		}),
	}
	for _, o := range []string{"delivered", "retrying", "failed"} {
		m.attempts.WithLabelValues(o) // shown at 0 before the first
	}
	reg.MustRegister(m.attempts, m.latency, m.notSent)
	return m
}

// Observe records one attempt; it fits webhooks.DeliverConfig.Observe.
func (m *Webhooks) Observe(outcome string, took time.Duration) {
	m.attempts.WithLabelValues(outcome).Inc()
	m.latency.Observe(took.Seconds())
}

// NotSent counts an attempt failed without a request; it fits
// webhooks.DeliverConfig.NotSent.
func (m *Webhooks) NotSent() { m.notSent.Inc() }
