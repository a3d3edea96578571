package schedule_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/schedule"
	"github.com/redis/go-redis/v9"
)

// t0 is where the fake clock starts: on a slot of every schedule the tests use.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

type bundle struct {
	redis *redistest.Redis
	clock *fakeClock
	logs  *logBuffer
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return &bundle{redis: redistest.Start(t), clock: newFakeClock(t0), logs: &logBuffer{}}
}

// newScheduler returns a Scheduler on its own Redis connection, as another
// eventsd process would have.
func (b *bundle) newScheduler(t *testing.T) *schedule.Scheduler {
	t.Helper()
	return b.newSchedulerOn(b.redis.NewClient(t))
}

func (b *bundle) newSchedulerOn(rdb redis.UniversalClient) *schedule.Scheduler {
	return schedule.New(rdb, schedule.Config{
		Prefix: b.redis.Prefix,
		Clock:  b.clock,
		Logger: slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
}

// run starts s and returns a func that stops it and waits for Run to return.
func run(t *testing.T, s *schedule.Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// recorder is a Func that counts fires per slot.
type recorder struct {
	mu    sync.Mutex
	fired []time.Time
}

func (r *recorder) fn(ctx context.Context, slot time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fired = append(r.fired, slot)
	return nil
}

func (r *recorder) slots() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.fired)
}

func sameSlots(t *testing.T, got []time.Time, want ...time.Time) {
	t.Helper()
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("fired slots\n got %v\nwant %v", fmtSlots(got), fmtSlots(want))
	}
}

func fmtSlots(ts []time.Time) string {
	var b strings.Builder
	for _, ts := range ts {
		fmt.Fprintf(&b, "+%s ", ts.Sub(t0))
	}
	return b.String()
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// lines returns the log lines containing every one of parts.
func (l *logBuffer) lines(parts ...string) []string {
	var out []string
	for line := range strings.Lines(l.String()) {
		if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
			out = append(out, line)
		}
	}
	return out
}

func TestThreeSchedulersFireEachSlotOnce(t *testing.T) {
	t.Parallel()

	t.Run("fake clock", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		threeProcessesOnFakeClock(t, b.clock, func() *schedule.Scheduler { return b.newScheduler(t) })
	})

	t.Run("real clock", func(t *testing.T) {
		t.Parallel()
		r := redistest.Start(t)
		threeProcessesOnRealClock(t, r.Prefix, func() redis.UniversalClient { return r.NewClient(t) })
	})
}

// fakeClockSlots is how many slots threeProcessesOnFakeClock drives.
const fakeClockSlots = 40

// threeProcessesOnFakeClock runs three schedulers (from newScheduler, each
// on its own connection, all on clock) with a 2-second schedule through
// fakeClockSlots slots, landing anywhere in each slot as a late timer would,
// and checks that every slot fired exactly once between them.
func threeProcessesOnFakeClock(t *testing.T, clock *fakeClock, newScheduler func() *schedule.Scheduler) *recorder {
	t.Helper()
	rec := &recorder{}
	fired := make([]recorder, 3) // per process, to show the work is shared, not repeated
	for i := range fired {
		s := newScheduler()
		err := s.Add("mock-data", "*/2 * * * * *", func(ctx context.Context, slot time.Time) error {
			fired[i].fn(ctx, slot)
			return rec.fn(ctx, slot)
		})
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
	}
	clock.WaitForWaiters(t, 3)

	var want []time.Time
	for k := 1; k <= fakeClockSlots; k++ {
		slot := sec(2 * k)
		want = append(want, slot)
		clock.Set(slot.Add(time.Duration(rand.IntN(2000)) * time.Millisecond))
		clock.WaitForWaiters(t, 3)
	}
	got := rec.slots()
	slices.SortFunc(got, time.Time.Compare)
	sameSlots(t, got, want...)
	for i := range fired {
		t.Logf("process %d fired %d slots", i, len(fired[i].slots()))
	}
	return rec
}

// threeProcessesOnRealClock runs three schedulers, each on a client from
// newClient, with an @every 200ms schedule until 10 slots fired, and checks
// each fired once and on the 200 ms grid.
func threeProcessesOnRealClock(t *testing.T, prefix string, newClient func() redis.UniversalClient) {
	t.Helper()
	var mu sync.Mutex
	count := map[int64]int{}
	enough := make(chan struct{})
	var closeOnce sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		s := schedule.New(newClient(), schedule.Config{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
		err := s.Add("fast", "@every 200ms", func(ctx context.Context, slot time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			count[slot.UnixMilli()]++
			if len(count) >= 10 {
				closeOnce.Do(func() { close(enough) })
			}
			return nil
		})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		wg.Go(func() { s.Run(ctx) })
	}
	select {
	case <-enough:
	case <-time.After(time.Minute):
		t.Error("fewer than 10 slots fired in a minute")
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for ms, n := range count {
		if n != 1 {
			t.Errorf("slot %d fired %d times, want once", ms, n)
		}
		if ms%200 != 0 {
			t.Errorf("slot %d is not on the 200ms grid", ms)
		}
	}
}

func TestMisfire(t *testing.T) {
	t.Parallel()

	// A first process fires slots 2, 4 and 6, then stops. The clock moves
	// on to 21s while nothing runs, missing slots 8 to 20. A second process
	// starts and runs until 22s.
	tests := []struct {
		name       string
		opts       []schedule.Option
		firstRuns  bool
		wantSecond []time.Time
	}{
		{"skip by default", nil, true, []time.Time{sec(22)}},
		{"CatchUp(0) skips", []schedule.Option{schedule.CatchUp(0)}, true, []time.Time{sec(22)}},
		{"catch up the last 3", []schedule.Option{schedule.CatchUp(3)}, true, []time.Time{sec(16), sec(18), sec(20), sec(22)}},
		{"catch up all missed", []schedule.Option{schedule.CatchUp(100)}, true,
			[]time.Time{sec(8), sec(10), sec(12), sec(14), sec(16), sec(18), sec(20), sec(22)}},
		{"no recorded run, nothing to catch up", []schedule.Option{schedule.CatchUp(3)}, false, []time.Time{sec(22)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tt.firstRuns {
				var first recorder
				s1 := b.newScheduler(t)
				if err := s1.Add("job", "*/2 * * * * *", first.fn, tt.opts...); err != nil {
					t.Fatal(err)
				}
				stop := run(t, s1)
				b.clock.WaitForWaiters(t, 1)
				for _, n := range []int{2, 4, 6} {
					b.clock.Set(sec(n))
					b.clock.WaitForWaiters(t, 1)
				}
				stop()
				sameSlots(t, first.slots(), sec(2), sec(4), sec(6))
			}

			b.clock.Set(sec(21))
			var second recorder
			s2 := b.newScheduler(t)
			if err := s2.Add("job", "*/2 * * * * *", second.fn, tt.opts...); err != nil {
				t.Fatal(err)
			}
			run(t, s2)
			b.clock.WaitForWaiters(t, 1) // Set(21) woke the first loop's abandoned wait
			b.clock.Set(sec(22))
			b.clock.WaitForWaiters(t, 1)
			sameSlots(t, second.slots(), tt.wantSecond...)
		})
	}
}

func TestFallingBehind(t *testing.T) {
	t.Parallel()

	// The Func for slot 2 runs until the clock reads 9s, so slots 4, 6 and 8
	// come due while it runs.
	tests := []struct {
		name string
		opts []schedule.Option
		want []time.Time
	}{
		{"skip fires only the latest", nil, []time.Time{sec(2), sec(8), sec(10)}},
		{"CatchUp(2) fires the last two", []schedule.Option{schedule.CatchUp(2)}, []time.Time{sec(2), sec(6), sec(8), sec(10)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var rec recorder
			started, release := make(chan struct{}), make(chan struct{})
			s := b.newScheduler(t)
			err := s.Add("slow", "*/2 * * * * *", func(ctx context.Context, slot time.Time) error {
				if slot.Equal(sec(2)) {
					close(started)
					<-release
				}
				return rec.fn(ctx, slot)
			}, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			run(t, s)
			b.clock.WaitForWaiters(t, 1)
			b.clock.Set(sec(2))
			<-started
			b.clock.Set(sec(9))
			close(release)
			b.clock.WaitForWaiters(t, 1)
			b.clock.Set(sec(10))
			b.clock.WaitForWaiters(t, 1)
			sameSlots(t, rec.slots(), tt.want...)
		})
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	add := func(s *schedule.Scheduler) {
		t.Helper()
		var rec recorder
		for _, sc := range []struct{ name, spec string }{{"mock-data", "*/2 * * * * *"}, {"cleanup", "@midnight"}} {
			if err := s.Add(sc.name, sc.spec, rec.fn); err != nil {
				t.Fatal(err)
			}
		}
	}
	runner, lister := b.newScheduler(t), b.newScheduler(t) // lister never runs
	add(runner)
	add(lister)

	ctx := context.Background()
	b.clock.Set(sec(1))
	infos, err := lister.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []schedule.Info{
		{Name: "mock-data", Spec: "*/2 * * * * *", NextRun: sec(2)},
		{Name: "cleanup", Spec: "@midnight", NextRun: t0.AddDate(0, 0, 1)},
	}
	sameInfos(t, infos, want)

	run(t, runner)
	b.clock.WaitForWaiters(t, 2)
	b.clock.Set(sec(4)) // fires slot 4 only: slot 2 passed before the runner started
	b.clock.WaitForWaiters(t, 2)
	b.clock.Set(sec(5))
	infos, err = lister.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[0].LastRun, want[0].NextRun = sec(4), sec(6)
	sameInfos(t, infos, want)
}

func sameInfos(t *testing.T, got, want []schedule.Info) {
	t.Helper()
	eq := func(a, b schedule.Info) bool {
		return a.Name == b.Name && a.Spec == b.Spec && a.LastRun.Equal(b.LastRun) && a.NextRun.Equal(b.NextRun)
	}
	if !slices.EqualFunc(got, want, eq) {
		t.Errorf("List\n got %+v\nwant %+v", got, want)
	}
}

func TestFuncErrorsAndPanicsDoNotStopTheSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var rec recorder
	s := b.newScheduler(t)
	err := s.Add("flaky", "*/2 * * * * *", func(ctx context.Context, slot time.Time) error {
		rec.fn(ctx, slot)
		switch {
		case slot.Equal(sec(2)):
			return errors.New("boom")
		case slot.Equal(sec(4)):
			panic("kaboom")
		case slot.Equal(sec(6)):
			var m map[string]int
			m["nil map"]++ // a runtime error, not just a panic call
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	b.clock.WaitForWaiters(t, 1)
	for _, n := range []int{2, 4, 6, 8} {
		b.clock.Set(sec(n))
		b.clock.WaitForWaiters(t, 1)
	}
	sameSlots(t, rec.slots(), sec(2), sec(4), sec(6), sec(8))
	if got := b.logs.lines("level=ERROR", "schedule=flaky", "err=boom"); len(got) != 1 {
		t.Errorf("want one error log for the error, got %q", got)
	}
	if got := b.logs.lines("level=ERROR", "schedule panicked", "kaboom", "stack="); len(got) != 1 {
		t.Errorf("want one error log with a stack for the panic, got %q", got)
	}
	if got := b.logs.lines("level=ERROR", "schedule panicked", "nil map"); len(got) != 1 {
		t.Errorf("want one error log for the runtime error, got %q", got)
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	opt, err := redis.ParseURL(b.redis.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, opt.Addr)
	opt.Addr = proxy.Addr()
	opt.MaxRetries = -1 // fail fast; the scheduler's own answer to errors is under test
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })

	var rec recorder
	s := b.newSchedulerOn(rdb)
	if err := s.Add("job", "*/2 * * * * *", rec.fn); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	b.clock.WaitForWaiters(t, 1)
	b.clock.Set(sec(2))
	b.clock.WaitForWaiters(t, 1)

	proxy.Cut(true)
	for _, n := range []int{4, 6, 8} {
		b.clock.Set(sec(n))
		b.clock.WaitForWaiters(t, 1)
	}
	if _, err := s.List(context.Background()); err == nil {
		t.Error("List with Redis down: nil error")
	}

	proxy.Cut(false)
	b.clock.Set(sec(10))
	b.clock.WaitForWaiters(t, 1)

	sameSlots(t, rec.slots(), sec(2), sec(10))
	if got := b.logs.lines("level=ERROR", "cannot claim slot", "schedule=job"); len(got) != 1 {
		t.Errorf("want the outage logged once at error level, got %q", got)
	}
	if got := b.logs.lines("level=INFO", "claiming slots again", "schedule=job"); len(got) != 1 {
		t.Errorf("want the recovery logged once, got %q", got)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	fn := func(context.Context, time.Time) error { return nil }
	tests := []struct {
		name    string
		add     func(s *schedule.Scheduler) error
		wantErr string
	}{
		{"ok", func(s *schedule.Scheduler) error { return s.Add("a", "@every 10s", fn) }, ""},
		{"bad spec names the schedule", func(s *schedule.Scheduler) error { return s.Add("cleanup", "0 0 0 * *  * *", fn) },
			`schedule "cleanup": invalid schedule spec "0 0 0 * *  * *": expected 5 to 6 fields`},
		{"empty name", func(s *schedule.Scheduler) error { return s.Add("", "@hourly", fn) }, "empty name"},
		{"nil func", func(s *schedule.Scheduler) error { return s.Add("a", "@hourly", nil) }, `schedule "a": nil Func`},
		{"duplicate", func(s *schedule.Scheduler) error {
			s.Add("a", "@hourly", fn)
			return s.Add("a", "@daily", fn)
		}, `schedule "a": already added`},
		{"negative catch-up", func(s *schedule.Scheduler) error { return s.Add("a", "@hourly", fn, schedule.CatchUp(-1)) }, "CatchUp(-1)"},
		{"negative timeout", func(s *schedule.Scheduler) error { return s.Add("a", "@hourly", fn, schedule.Timeout(-time.Second)) }, "Timeout(-1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := schedule.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), schedule.Config{})
			err := tt.add(s)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Add error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}

	t.Run("while running", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.newScheduler(t)
		if err := s.Add("a", "@hourly", fn); err != nil {
			t.Fatal(err)
		}
		stop := run(t, s)
		b.clock.WaitForWaiters(t, 1)
		if err := s.Add("b", "@hourly", fn); !errors.Is(err, schedule.ErrRunning) {
			t.Errorf("Add while running: %v, want ErrRunning", err)
		}
		if err := s.Run(context.Background()); !errors.Is(err, schedule.ErrRunning) {
			t.Errorf("second Run: %v, want ErrRunning", err)
		}
		stop()
		if err := s.Add("b", "@hourly", fn); err != nil {
			t.Errorf("Add after Run returned: %v", err)
		}
	})
}

func TestShutdownAndTimeout(t *testing.T) {
	t.Parallel()

	t.Run("Run waits for a running Func, which is not cancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		started, release := make(chan struct{}), make(chan struct{})
		var ctxErr error
		s := b.newScheduler(t)
		err := s.Add("job", "*/2 * * * * *", func(ctx context.Context, slot time.Time) error {
			close(started)
			<-release
			ctxErr = ctx.Err()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		b.clock.WaitForWaiters(t, 1)
		b.clock.Set(sec(2))
		<-started
		cancel()
		select {
		case <-done:
			t.Fatal("Run returned while its Func was running")
		default:
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if ctxErr != nil {
			t.Errorf("the Func's context ended with Run's: %v", ctxErr)
		}
	})

	t.Run("Timeout cancels a slow Func and the schedule goes on", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var rec recorder
		s := b.newScheduler(t)
		err := s.Add("job", "*/2 * * * * *", func(ctx context.Context, slot time.Time) error {
			rec.fn(ctx, slot)
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("no deadline")
			}
			if slot.Equal(sec(2)) {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}, schedule.Timeout(10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		run(t, s)
		b.clock.WaitForWaiters(t, 1)
		b.clock.Set(sec(2))
		b.clock.WaitForWaiters(t, 1)
		b.clock.Set(sec(4))
		b.clock.WaitForWaiters(t, 1)
		sameSlots(t, rec.slots(), sec(2), sec(4))
		if got := b.logs.lines("level=ERROR", "schedule failed", "deadline exceeded"); len(got) != 1 {
			t.Errorf("want the timeout logged once, got %q", got)
		}
		if got := b.logs.lines("no deadline"); len(got) != 0 {
			t.Errorf("a run had no deadline: %q", got)
		}
	})
}
