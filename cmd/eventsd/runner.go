package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// runner runs the parts of a process, each a Run(ctx) error, and stops them
// in the reverse order of their start: what started last (HTTP) stops first,
// what started first (Redis) stops last, so that nothing stops while a part
// that uses it still runs.
//
// A part runs from Go until it is stopped or returns. A part that returns an
// error stops the process: Wait returns and Stop stops all the others. A
// part that returns nil early has simply finished. Parts are told to stop by
// the end of their context, never by ctx passed to Wait, which only starts
// the stop; so a part's context stays valid for its values and ends only when
// its turn comes.
type runner struct {
	mu     sync.Mutex
	parts  []*part
	failed chan struct{} // closed at the first error
	err    error         // the first error, set before failed closes
	once   sync.Once
}

type part struct {
	name   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, once done is closed
}

func newRunner() *runner {
	return &runner{failed: make(chan struct{})}
}

// Go starts run as the part name, under a context that has ctx's values
// and ends when Stop reaches this part.
func (r *runner) Go(ctx context.Context, name string, run func(context.Context) error) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p := &part{name: name, cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.parts = append(r.parts, p)
	r.mu.Unlock()
	go func() {
		defer close(p.done)
		err := run(c)
		if err != nil && c.Err() == nil {
			// Not asked to stop: a failure.
			p.err = fmt.Errorf("%s: %w", name, err)
			r.fail(p.err)
		} else if err != nil && !errors.Is(err, context.Canceled) {
			// A failure while stopping.
			p.err = fmt.Errorf("%s: %w", name, err)
		}
	}()
}

func (r *runner) fail(err error) {
	r.once.Do(func() {
		r.err = err
		close(r.failed)
	})
}

// Wait returns when ctx ends or a part fails, with that part's error (nil
// when ctx ended). It does not stop the parts: Stop does.
func (r *runner) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-r.failed:
		return r.err
	}
}

// Stop stops every part in the reverse order of its start, each only
// after the one started after it has returned, and returns the first
// part's failure joined with any failure while stopping. Parts added while
// Stop runs are stopped too.
func (r *runner) Stop() error {
	var errs []error
	for {
		r.mu.Lock()
		n := len(r.parts)
		if n == 0 {
			r.mu.Unlock()
			break
		}
		p := r.parts[n-1]
		r.parts = r.parts[:n-1]
		r.mu.Unlock()
		p.cancel()
		<-p.done
		if p.err != nil {
			errs = append(errs, p.err)
		}
	}
	// The first failure first, whatever part it came from.
	select {
	case <-r.failed:
		for i, err := range errs {
			if err == r.err {
				errs = append([]error{err}, append(errs[:i:i], errs[i+1:]...)...)
				break
			}
		}
	default:
	}
	return errors.Join(errs...)
}

// together is one part made of several that start together and are told to
// stop together, each still draining in its own time; it returns when all
// have, with their errors joined. Parts that would otherwise each wait out
// a shutdown timeout in turn (two workers) stop in one timeout's time.
func together(runs ...func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, len(runs))
		for i, run := range runs {
			wg.Go(func() { errs[i] = run(ctx) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}
