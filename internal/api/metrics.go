package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the API's Prometheus collectors.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// SSE streams are long-lived by design: counted apart, so that the
	// answer-time histogram holds answers only.
	streams        prometheus.Gauge
	streamDuration prometheus.Histogram
	streamEvents   prometheus.Counter
}

// newHTTPMetrics registers the collectors with reg. A registry that already
// holds them (a second API on the same registry) shares them.
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	return &httpMetrics{
		requests: registerCollector(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eventsd_http_requests_total",
			Help: "HTTP requests answered, by method, matched route and status code.",
		}, []string{"method", "route", "code"})),
		duration: registerCollector(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventsd_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and matched route. SSE streams that started are left out (see eventsd_sse_stream_duration_seconds).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"})),
		streams: registerCollector(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eventsd_sse_streams",
			Help: "Server-Sent Events streams of job lifecycle events open now.",
		})),
		streamDuration: registerCollector(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "eventsd_sse_stream_duration_seconds",
			Help:    "How long Server-Sent Events streams stayed open, observed as each ends.",
			Buckets: []float64{1, 10, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600},
		})),
		streamEvents: registerCollector(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eventsd_sse_events_sent_total",
			Help: "Job lifecycle events written to Server-Sent Events streams, over all streams.",
		})),
	}
}

func registerCollector[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

func (m *httpMetrics) observe(method, route string, code int, d time.Duration, stream bool) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	if stream {
		m.streamDuration.Observe(d.Seconds())
		return
	}
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

// methodLabel keeps the method label to the standard methods: a client can
// send any token as a method, and each would be a new time series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}
