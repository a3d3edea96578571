package bench

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestPacedCallsEachAdd(t *testing.T) {
	t.Parallel()
	var calls, progress atomic.Int64
	rate, err := paced(context.Background(), 10_000, 50, func(int, int) { progress.Add(1) }, func() { calls.Add(1) })
	if err != nil || calls.Load() != 50 || progress.Load() != 50 || rate <= 0 {
		t.Fatalf("rate %v, err %v, %d calls, %d progress reports; want 50 each", rate, err, calls.Load(), progress.Load())
	}
}

func TestPacedStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	_, err := paced(ctx, 20, 1000, func(int, int) {}, func() {
		if calls.Add(1) == 2 {
			cancel()
		}
	})
	if err == nil || calls.Load() > 3 {
		t.Fatalf("err %v after %d calls; want a stop soon after the cancel", err, calls.Load())
	}
}
