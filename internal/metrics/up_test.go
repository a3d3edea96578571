package metrics

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventsd/eventsd/internal/redistest"
)

func TestDependencyUp(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	reg := prometheus.NewRegistry()
	NewUp(reg,
		Dependency{Name: "redis", Ping: func(ctx context.Context) error { return r.Client.Ping(ctx).Err() }},
		Dependency{Name: "sqlite", Ping: func(context.Context) error { return errors.New("database is locked") }},
	)
	for dep, want := range map[string]float64{"redis": 1, "sqlite": 0} {
		if v, ok := value(t, reg, "eventsd_dependency_up", map[string]string{"dependency": dep}); !ok || v != want {
			t.Errorf("eventsd_dependency_up{dependency=%q} = %v (exported: %v), want %v", dep, v, ok, want)
		}
	}
}
