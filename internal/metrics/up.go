package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Dependency is something eventsd needs to work: Redis or the event store.
type Dependency struct {
	// Name is the dependency label: "redis", "mongodb", "postgres" or "sqlite".
	Name string
	// Ping returns nil when the dependency answers.
	Ping func(context.Context) error
}

// Up is a collector pinging each dependency at scrape time, in parallel,
// each within 2 s: eventsd_dependency_up{dependency} is 1 when it answered.
// Alerts on a store or Redis that is down read it; /readyz says the same to
// a load balancer.
type Up struct {
	deps []Dependency
	up   *prometheus.Desc
}

// NewUp registers an Up collector for deps with reg.
func NewUp(reg prometheus.Registerer, deps ...Dependency) *Up {
	u := &Up{deps: deps, up: prometheus.NewDesc("eventsd_dependency_up",
		"1 when the dependency (Redis, the event store) answered a ping from this process at this scrape.", []string{"dependency"}, nil)}
	reg.MustRegister(u)
	return u
}

// Describe implements prometheus.Collector.
func (u *Up) Describe(ch chan<- *prometheus.Desc) { ch <- u.up }

// Collect implements prometheus.Collector.
func (u *Up) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, d := range u.deps {
		wg.Go(func() {
			v := 1.0
			if d.Ping(ctx) != nil {
				v = 0
			}
			ch <- prometheus.MustNewConstMetric(u.up, prometheus.GaugeValue, v, d.Name)
		})
	}
	wg.Wait()
}
