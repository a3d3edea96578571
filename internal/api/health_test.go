package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	up := Check{Name: "redis", Ping: func(context.Context) error { return nil }}
	down := Check{Name: "sqlite", Ping: func(context.Context) error { return errors.New("disk gone") }}
	slow := Check{Name: "mongodb", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}

	t.Run("all up", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.Checks = []Check{up} })
		res := b.get(t, "/api/events/health")
		wantStatus(t, res, http.StatusOK)
		body := res.json(t)
		if body["status"] != "up" || body["version"] != "test" {
			t.Fatalf("health = %v", body)
		}
		redis := body["dependencies"].(map[string]any)["redis"].(map[string]any)
		if redis["status"] != "up" {
			t.Fatalf("redis = %v", redis)
		}
		if _, ok := redis["latencyMs"].(float64); !ok {
			t.Fatalf("redis has no latencyMs: %v", redis)
		}
		wantStatus(t, b.get(t, "/readyz"), http.StatusOK)
	})

	t.Run("one down", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) {
			c.Checks = []Check{up, down, slow}
			c.CheckTimeout = 50 * time.Millisecond // the slow check fails by its deadline
		})
		res := b.get(t, "/api/events/health")
		wantStatus(t, res, http.StatusServiceUnavailable)
		body := res.json(t)
		deps := body["dependencies"].(map[string]any)
		if body["status"] != "down" || deps["redis"].(map[string]any)["status"] != "up" {
			t.Fatalf("health = %v", body)
		}
		sqlite := deps["sqlite"].(map[string]any)
		if sqlite["status"] != "down" || sqlite["error"] != "disk gone" {
			t.Fatalf("sqlite = %v", sqlite)
		}
		if deps["mongodb"].(map[string]any)["status"] != "down" {
			t.Fatalf("mongodb = %v", deps["mongodb"])
		}

		p := wantProblem(t, b.get(t, "/readyz"), http.StatusServiceUnavailable)
		var failed []string
		for _, e := range p["errors"].([]any) {
			failed = append(failed, e.(map[string]any)["location"].(string))
		}
		if !slices.Equal(failed, []string{"mongodb", "sqlite"}) {
			t.Fatalf("readyz lists %v, want mongodb and sqlite", failed)
		}
		// Liveness does not depend on dependencies.
		wantStatus(t, b.get(t, "/healthz"), http.StatusOK)
	})
}
