package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/google/uuid"
)

// BenchmarkWorkerBatches writes what the worker writes under load, batches
// of 40 events as events.Batcher gathers them at concurrency 100 (the e2e
// benchmark measured 33-42 per write): eight names, a small data object each,
// job ids that are UUIDv7 as the queue makes them. It reports events/s and
// writes (commits) per second; each write is on disk when it returns, so the
// disk's sync time counts, and it varies from one run to the next more than
// cpu-ns/event, this process's CPU per event.
func BenchmarkWorkerBatches(b *testing.B) {
	names := []string{"user.signed_up", "user.logged_in", "order.placed", "order.shipped",
		"payment.captured", "payment.refunded", "email.sent", "page.viewed"}
	s := openInternal(b)
	// The Batcher writes under a context with a deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	batch := make([]events.Event, 40)
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		for i := range batch {
			n++
			data, _ := json.Marshal(map[string]any{"orderId": fmt.Sprintf("order-%d", n%100_000), "items": 1 + n%5})
			batch[i] = events.Event{ID: events.NewID(), Name: names[n%len(names)], CreatedAt: events.Now(),
				JobID: uuid.Must(uuid.NewV7()).String(), Data: data}
		}
		if _, err := s.CreateMany(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU() - cpu0
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n/len(batch))/b.Elapsed().Seconds(), "writes/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
