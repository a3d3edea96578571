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
	streams  prometheus.Gauge
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
			Help:    "Time to answer HTTP requests, by method and matched route. SSE streams count their whole life.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"})),
		streams: registerCollector(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "eventsd_sse_streams",
			Help: "Server-Sent Events streams of job lifecycle events open now.",
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

func (m *httpMetrics) observe(method, route string, code int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
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
