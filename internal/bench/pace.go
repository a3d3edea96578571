package bench

import (
	"context"
	"sync"
	"time"
)

// maxInFlight bounds the adds a steady phase has under way at once.
const maxInFlight = 64

// paced calls add n times at rate calls per second, each call in a
// goroutine of its own, at most maxInFlight at once, and returns the rate
// achieved: lower than asked when adds take longer than maxInFlight
// intervals, which the reported figure must then say.
func paced(ctx context.Context, rate float64, n int, progress func(done, total int), add func()) (float64, error) {
	interval := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	next, last := start, start
	for i := range n {
		progress(i, n)
		if d := time.Until(next); d > 0 {
			if err := sleepCtx(ctx, d); err != nil {
				return 0, err
			}
		}
		next = next.Add(interval)
		sem <- struct{}{}
		last = time.Now()
		wg.Go(func() {
			defer func() { <-sem }()
			add()
		})
	}
	if n < 2 || !last.After(start) {
		return rate, nil
	}
	return float64(n-1) / last.Sub(start).Seconds(), nil
}
