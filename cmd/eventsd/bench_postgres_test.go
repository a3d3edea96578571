package main

import (
	"testing"

	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/redistest"
)

// TestBenchE2EPostgres runs `eventsd bench e2e --store postgres` at a tiny
// size and checks its result. (internal/bench checks that the run's schema
// is dropped.)
func TestBenchE2EPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	r := redistest.Start(t)
	m := benchJSON(t, map[string]string{"REDIS_URL": r.URL, "DATABASE_URL": dbURL},
		"e2e", "--store", "postgres", "--jobs", "300", "--concurrency", "10", "--duration", "200ms")
	wantFields(t, m, "eventsPerSec", "e2eP50Ms", "e2eP99Ms", "cpuSeconds", "peakRssBytes")
	if m["verified"] != true || m["eventsFound"] != m["jobsAdded"] || m["jobsAdded"].(float64) <= 300 || m["store"] != "postgres" {
		t.Fatalf("check failed: %v", m)
	}
}
