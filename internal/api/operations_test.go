package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestOperationsOnly: a process without the api role answers probes and
// scrapes, and nothing else.
func TestOperationsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.OperationsOnly = true
		c.MetricsToken = "scrape"
	})
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := b.get(t, path); res.status != http.StatusOK {
			t.Errorf("GET %s: %d %s, want 200", path, res.status, res.body)
		}
	}
	if res := b.do(t, "GET", "/metrics", nil, "Authorization", "Bearer scrape"); res.status != http.StatusOK ||
		!strings.Contains(string(res.body), "eventsd_http_requests_total") {
		t.Errorf("GET /metrics: %d, want 200 with the HTTP metrics:\n%.300s", res.status, res.body)
	}
	if res := b.get(t, "/metrics"); res.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without METRICS_TOKEN: %d, want 401", res.status)
	}
	for _, path := range []string{"/api", "/api/events", "/api/events/health", "/api/openapi.json", "/api/docs", "/", "/dashboard/"} {
		res := b.get(t, path)
		p := wantProblem(t, res, http.StatusNotFound)
		if d, _ := p["detail"].(string); !strings.Contains(d, "api role") {
			t.Errorf("GET %s: detail %q does not say the API needs the api role", path, d)
		}
	}
	paused := false
	b.jobs.PauseFunc = func(context.Context) error { paused = true; return nil }
	if res := b.do(t, "POST", "/api/queue/pause", nil); res.status != http.StatusNotFound {
		t.Errorf("POST /api/queue/pause: %d, want 404", res.status)
	}
	if paused {
		t.Error("a process without the api role paused the queue")
	}
}
