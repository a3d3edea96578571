package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/store/postgres"
	"github.com/eventsd/eventsd/internal/store/storetest"
)

// openTest opens a store in a schema of t's own.
func openTest(t testing.TB) *postgres.Store {
	t.Helper()
	return openURL(t, pgtest.URL(t))
}

func openURL(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Config{OpTimeout: time.Minute})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store { return openTest(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) events.Store { return openTest(b) })
}
