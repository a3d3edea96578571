package mongo_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/store/mongo"
	"github.com/eventsd/eventsd/internal/store/storetest"
)

func openTest(t testing.TB, cfg mongo.Config) *mongo.Store {
	t.Helper()
	// Open's own deadline bounds the migrations; a busy test machine can
	// make FerretDB's index builds outlast the 5 s per-call default.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := mongo.Open(ctx, ferrettest.URI(t), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store { return openTest(t, mongo.Config{}) })
}

func BenchmarkStore(b *testing.B) {
	// FerretDB sorts every page of 100,000 events in memory: seconds a page.
	storetest.Bench(b, func(b *testing.B) events.Store { return openTest(b, mongo.Config{OpTimeout: time.Minute}) })
}
