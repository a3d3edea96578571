package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// stopLog records the order in which parts stop.
type stopLog struct {
	mu    sync.Mutex
	order []string
}

func (l *stopLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.order = append(l.order, name)
}

func (l *stopLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.order)
}

// untilStopped is a part that runs until stopped and records its stop.
func untilStopped(l *stopLog, name string) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		l.add(name)
		return ctx.Err()
	}
}

func TestRunnerStopsInReverseOrder(t *testing.T) {
	t.Parallel()
	var l stopLog
	r := newRunner()
	for _, name := range []string{"redis", "store", "worker", "http"} {
		r.Go(t.Context(), name, untilStopped(&l, name))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("Wait after ctx ended: %v, want nil", err)
	}
	if err := r.Stop(); err != nil {
		t.Errorf("Stop: %v, want nil (context.Canceled from a stopped part is no failure)", err)
	}
	if got, want := l.get(), []string{"http", "worker", "store", "redis"}; !slices.Equal(got, want) {
		t.Errorf("stop order %v, want %v", got, want)
	}
}

// TestRunnerWaitsForEachPart checks that a part is told to stop only after
// the part started after it has returned, even when that takes a while.
func TestRunnerWaitsForEachPart(t *testing.T) {
	t.Parallel()
	var l stopLog
	r := newRunner()
	r.Go(t.Context(), "first", untilStopped(&l, "first"))
	release := make(chan struct{})
	r.Go(t.Context(), "slow", func(ctx context.Context) error {
		<-ctx.Done()
		<-release
		l.add("slow")
		return nil
	})
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop() }()
	// While "slow" drains, "first" must still run.
	select {
	case <-stopped:
		t.Fatal("Stop returned while a part was still draining")
	case <-time.After(50 * time.Millisecond):
	}
	if got := l.get(); len(got) != 0 {
		t.Fatalf("stopped %v while the last part was still draining", got)
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if got, want := l.get(), []string{"slow", "first"}; !slices.Equal(got, want) {
		t.Errorf("stop order %v, want %v", got, want)
	}
}

func TestRunnerFirstErrorStopsAll(t *testing.T) {
	t.Parallel()
	var l stopLog
	r := newRunner()
	boom := errors.New("boom")
	fail := make(chan struct{})
	r.Go(t.Context(), "a", untilStopped(&l, "a"))
	r.Go(t.Context(), "b", func(ctx context.Context) error {
		<-fail
		return boom
	})
	r.Go(t.Context(), "c", untilStopped(&l, "c"))
	// A later failure, while stopping, is reported after the first.
	r.Go(t.Context(), "d", func(ctx context.Context) error {
		<-ctx.Done()
		l.add("d")
		return errors.New("d: close failed")
	})
	close(fail)
	err := r.Wait(t.Context()) // t.Context() does not end: only the failure returns
	if !errors.Is(err, boom) || err.Error() != "b: boom" {
		t.Fatalf("Wait: %v, want b: boom", err)
	}
	err = r.Stop()
	if !errors.Is(err, boom) {
		t.Errorf("Stop: %v, want it to wrap the first failure", err)
	}
	if want := "b: boom\nd: d: close failed"; err == nil || err.Error() != want {
		t.Errorf("Stop: %q, want %q", err, want)
	}
	if got, want := l.get(), []string{"d", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("stop order %v, want %v", got, want)
	}
}

// TestRunnerManyFailures: many parts failing at once neither block nor
// hang the stop (the old error channel had room for four).
func TestRunnerManyFailures(t *testing.T) {
	t.Parallel()
	r := newRunner()
	const n = 100
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		r.Go(t.Context(), fmt.Sprint("part-", i), func(ctx context.Context) error {
			wg.Done()
			return fmt.Errorf("failure %d", i)
		})
	}
	wg.Wait()
	if err := r.Wait(t.Context()); err == nil {
		t.Fatal("Wait: nil, want a failure")
	}
	done := make(chan error, 1)
	go func() { done <- r.Stop() }()
	select {
	case err := <-done:
		if got := len(splitJoined(err)); got != n {
			t.Errorf("Stop reported %d failures, want %d", got, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop hangs with many failed parts")
	}
}

// TestRunnerPartFinishing: a part that returns nil before it is stopped has
// finished; the others keep running.
func TestRunnerPartFinishing(t *testing.T) {
	t.Parallel()
	var l stopLog
	r := newRunner()
	r.Go(t.Context(), "long", untilStopped(&l, "long"))
	finished := make(chan struct{})
	r.Go(t.Context(), "short", func(context.Context) error { close(finished); return nil })
	<-finished
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v, want nil", err)
	}
	if got := l.get(); len(got) != 0 {
		t.Errorf("a finished part stopped %v", got)
	}
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := l.get(); !slices.Equal(got, []string{"long"}) {
		t.Errorf("stopped %v, want [long]", got)
	}
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestTogetherStopsPartsAtOnce: the parts of one together part are told to
// stop at once, not one after the other. The first does not return until
// the second has been told, so told one at a time they would never stop.
func TestTogetherStopsPartsAtOnce(t *testing.T) {
	t.Parallel()
	secondTold := make(chan struct{})
	first := func(ctx context.Context) error {
		<-ctx.Done()
		<-secondTold
		return nil
	}
	second := func(ctx context.Context) error {
		<-ctx.Done()
		close(secondTold)
		return errors.New("second failed")
	}
	r := newRunner()
	r.Go(context.Background(), "both", together(first, second))
	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop() }()
	select {
	case err := <-stopped:
		if err == nil || !strings.Contains(err.Error(), "second failed") {
			t.Fatalf("Stop = %v; want the second part's error", err)
		}
	case <-time.After(30 * time.Second): // a hang, not a speed bound
		t.Fatal("the parts did not stop: they were told one after the other")
	}
}
