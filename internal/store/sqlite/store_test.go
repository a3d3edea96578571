package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/internal/store/storetest"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store { return openTemp(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) events.Store { return openTemp(b) })
}
