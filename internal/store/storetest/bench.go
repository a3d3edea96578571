package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

// BenchEvents is how many events Bench stores before it measures reads.
const BenchEvents = 100_000

// Bench runs the store benchmarks on stores from open, which must return a
// fresh, empty store that Bench closes:
//
//   - Create: one event per call, each with its own job id as the worker
//     writes them; reports events/s.
//   - CreateMany100: batches of 100 such events; reports events/s.
//   - Stored100000/Get, ListFirstPage, ListPage, ListByName: at BenchEvents
//     stored events, reading by random id, the newest page of 50, a page of 50
//     from a random position, and the newest page of 50 of one name (a tenth
//     of the events). The events are stored once, untimed, for all four.
func Bench(b *testing.B, open func(b *testing.B) events.Store) {
	b.Run("Create", func(b *testing.B) {
		s := openBench(b, open)
		ctx := context.Background()
		n := 0
		for b.Loop() {
			n++
			if _, err := s.Create(ctx, events.Event{Name: "bench", JobID: fmt.Sprintf("job-%d", n)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("CreateMany100", func(b *testing.B) {
		s := openBench(b, open)
		ctx := context.Background()
		batch := make([]events.Event, 100)
		n := 0
		for b.Loop() {
			for i := range batch {
				n++
				batch[i] = events.Event{Name: "bench", JobID: fmt.Sprintf("job-%d", n)}
			}
			if _, err := s.CreateMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})

	// Reads share one seeded store: a parent benchmark holds it, so that
	// its sub-benchmarks, and nothing the caller filtered out, pay for seeding.
	b.Run(fmt.Sprintf("Stored%d", BenchEvents), func(b *testing.B) {
		s, es := seedBench(b, open)
		b.Run("Get", func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, err := s.Get(ctx, es[rand.IntN(len(es))].ID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("ListFirstPage", func(b *testing.B) {
			benchList(b, s, func() events.ListQuery { return events.ListQuery{Limit: 50} })
		})
		b.Run("ListPage", func(b *testing.B) {
			benchList(b, s, func() events.ListQuery {
				e := es[rand.IntN(len(es))]
				return events.ListQuery{Limit: 50, After: events.Cursor{CreatedAt: e.CreatedAt, ID: e.ID}}
			})
		})
		b.Run("ListByName", func(b *testing.B) {
			benchList(b, s, func() events.ListQuery { return events.ListQuery{Limit: 50, Name: "name-3"} })
		})
	})
}

func openBench(b *testing.B, open func(b *testing.B) events.Store) events.Store {
	s := open(b)
	b.Cleanup(func() { s.Close() })
	return s
}

func benchList(b *testing.B, s events.Store, query func() events.ListQuery) {
	ctx := context.Background()
	for b.Loop() {
		p, err := s.List(ctx, query())
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) == 0 {
			b.Fatal("empty page")
		}
	}
}

// seedBench stores BenchEvents events spread over the last BenchEvents
// seconds, ten names, two events per second so that times tie.
func seedBench(b *testing.B, open func(b *testing.B) events.Store) (events.Store, []events.Event) {
	s := openBench(b, open)
	start := time.Now()
	first := events.Now().Add(-BenchEvents * time.Second)
	var all []events.Event
	for chunk := range slices.Chunk(make([]int, BenchEvents), 1000) {
		batch := make([]events.Event, len(chunk))
		for i := range batch {
			n := len(all) + i
			batch[i] = events.Event{
				Name:      fmt.Sprintf("name-%d", n%10),
				CreatedAt: first.Add(time.Duration(n/2) * time.Second),
				JobID:     fmt.Sprintf("seed-%d", n),
			}
		}
		got, err := s.CreateMany(context.Background(), batch)
		if err != nil {
			b.Fatalf("seeding: %v", err)
		}
		all = append(all, got...)
	}
	b.Logf("stored %d events in %v", len(all), time.Since(start).Round(time.Millisecond))
	return s, all
}
