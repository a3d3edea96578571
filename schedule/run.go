package schedule

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// maxSleep caps one wait, so each loop re-reads the clock at least this often.
// Timers follow the monotonic clock and slots the wall clock; the two part
// ways when the wall clock is stepped or the machine is suspended.
const maxSleep = time.Minute

// Run fires each schedule's due slots until ctx ends, then waits for the Funcs
// still running and returns nil. It returns ErrRunning if s is already
// running. Schedules are added before Run.
//
// Each schedule runs in its own goroutine and one Func at a time in this
// process: a slot that comes due while its Func is still running is handled
// when the Func returns, under the schedule's CatchUp policy, or by another
// process that claims it first. Funcs run with a context that is not
// cancelled when ctx ends, so work such as an enqueue in flight completes;
// Timeout bounds it.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	entries := append([]*entry(nil), s.entries...)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()

	s.cfg.Logger.Debug("scheduler running", "schedules", len(entries), "prefix", s.cfg.Prefix)
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() { s.loop(ctx, e) })
	}
	wg.Wait()
	return nil
}

// loop runs one schedule until ctx ends. cursor is the last slot the loop has
// dealt with, fired or not; slots after it are due once the clock passes them.
func (s *Scheduler) loop(ctx context.Context, e *entry) {
	cursor := s.start(ctx, e)
	for {
		next := e.spec.Next(cursor)
		if next.IsZero() {
			s.cfg.Logger.Warn("schedule has no slot in the next five years", "schedule", e.name, "spec", e.spec.String())
			<-ctx.Done()
			return
		}
		if !s.sleepUntil(ctx, next) {
			return
		}
		slots, more := e.spec.recent(cursor, s.now(), max(e.opts.catchUp, 1))
		if len(slots) == 0 {
			continue // woke before the slot: the wall clock moved back, or maxSleep
		}
		if more {
			s.cfg.Logger.Info("schedule fell behind; skipping missed slots",
				"schedule", e.name, "after", cursor, "resume_at", slots[0])
		}
		for _, slot := range slots {
			if ctx.Err() != nil {
				return
			}
			s.fire(ctx, e, slot)
		}
		cursor = slots[len(slots)-1]
	}
}

// start returns the loop's first cursor, the current time, after firing the
// slots a CatchUp schedule missed since its last recorded run.
func (s *Scheduler) start(ctx context.Context, e *entry) time.Time {
	now := s.now()
	if e.opts.catchUp == 0 {
		return now
	}
	last, err := s.lastRuns(ctx, e.name)
	if err != nil {
		s.cfg.Logger.Warn("cannot read last run; not catching up missed slots", "schedule", e.name, "err", err)
		return now
	}
	if last[0].IsZero() {
		return now // never ran anywhere: nothing was missed
	}
	slots, more := e.spec.recent(last[0], now, e.opts.catchUp)
	if len(slots) == 0 {
		return now
	}
	s.cfg.Logger.Info("catching up missed slots", "schedule", e.name, "last_run", last[0],
		"slots", len(slots), "first", slots[0], "older_skipped", more)
	for _, slot := range slots {
		if ctx.Err() != nil {
			break
		}
		s.fire(ctx, e, slot)
	}
	return now
}

// sleepUntil waits until t, at most maxSleep, and reports whether ctx is
// still live.
func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time) bool {
	if d := t.Sub(s.cfg.Clock.Now()); d > 0 {
		select {
		case <-ctx.Done():
		case <-s.cfg.Clock.After(min(d, maxSleep)):
		}
	}
	return ctx.Err() == nil
}

func (s *Scheduler) now() time.Time { return s.cfg.Clock.Now().In(s.cfg.Location) }

// fire claims slot and, if this process won it, runs the schedule's Func. A
// Redis error skips the slot: firing without a claim could fire it twice.
func (s *Scheduler) fire(ctx context.Context, e *entry, slot time.Time) {
	log := s.cfg.Logger
	won, err := s.claim(ctx, e, slot)
	switch {
	case err != nil && ctx.Err() != nil:
		return // shutting down
	case err != nil && !e.failing:
		e.failing = true
		log.Error("cannot claim slot; skipping slots until Redis answers", "schedule", e.name, "slot", slot, "err", err)
		return
	case err != nil:
		log.Debug("cannot claim slot; skipped", "schedule", e.name, "slot", slot, "err", err)
		return
	case e.failing:
		e.failing = false
		log.Info("claiming slots again", "schedule", e.name, "slot", slot)
	}
	if !won {
		log.Debug("slot claimed by another process", "schedule", e.name, "slot", slot)
		return
	}

	runCtx := context.WithoutCancel(ctx)
	if e.opts.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(runCtx, e.opts.timeout)
		defer cancel()
	}
	began := time.Now()
	if err := call(runCtx, e.fn, slot); err != nil {
		if p, ok := err.(*panicError); ok {
			log.Error("schedule panicked", "schedule", e.name, "slot", slot, "panic", p.value, "stack", p.stack)
			return
		}
		log.Error("schedule failed", "schedule", e.name, "slot", slot, "err", err)
		return
	}
	log.Debug("schedule fired", "schedule", e.name, "slot", slot, "duration_ms", float64(time.Since(began).Microseconds())/1000)
}

// panicError carries a recovered panic out of a Func.
type panicError struct {
	value any
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// call runs fn, turning a panic into a *panicError.
func call(ctx context.Context, fn Func, slot time.Time) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: string(debug.Stack())}
		}
	}()
	return fn(ctx, slot)
}
