package schedule_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/internal/schedule"
	"github.com/redis/go-redis/v9"
)

// TestClusterThreeSchedulersFireEachSlotOnce runs the scheduler on a real
// three-master Redis Cluster: three processes, each with a cluster client of
// its own, fire every slot exactly once between them. The subtests share
// one cluster, each under a key prefix of its own. Without redis-server
// installed the test skips, saying why.
func TestClusterThreeSchedulersFireEachSlotOnce(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)

	t.Run("fake clock", func(t *testing.T) {
		t.Parallel()
		prefix := fmt.Sprintf("test:%x", rand.Uint64())
		clock := newFakeClock(t0)
		logs := &logBuffer{}
		newScheduler := func() *schedule.Scheduler {
			return schedule.New(c.NewClient(t), schedule.Config{
				Prefix: prefix,
				Clock:  clock,
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
		}
		var rec recorder
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

		const slots = 40
		var want []time.Time
		for k := 1; k <= slots; k++ {
			slot := sec(2 * k)
			want = append(want, slot)
			// Land anywhere from on the slot to just before the next one,
			// as a late timer would.
			clock.Set(slot.Add(time.Duration(rand.IntN(2000)) * time.Millisecond))
			clock.WaitForWaiters(t, 3)
		}
		got := rec.slots()
		slices.SortFunc(got, time.Time.Compare)
		sameSlots(t, got, want...)
		for i := range fired {
			t.Logf("process %d fired %d slots", i, len(fired[i].slots()))
		}
		if errs := logs.lines("level=ERROR"); len(errs) > 0 {
			t.Errorf("errors logged: %q", errs)
		}

		// A fourth process that never runs reads the last run.
		lister := newScheduler()
		if err := lister.Add("mock-data", "*/2 * * * * *", rec.fn); err != nil {
			t.Fatal(err)
		}
		infos, err := lister.List(context.Background())
		if err != nil || len(infos) != 1 || !infos[0].LastRun.Equal(sec(2*slots)) {
			t.Errorf("List = %+v, %v; want last run +%ds", infos, err, 2*slots)
		}

		// Every key the schedulers wrote shares the "{schedule}" hash tag's
		// slot, so the claim script may touch two of them.
		var keysMu sync.Mutex // ForEachMaster visits the masters concurrently
		slotsUsed := map[int64]bool{}
		keys := 0
		err = c.Client.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				slot, err := node.ClusterKeySlot(ctx, iter.Val()).Result()
				if err != nil {
					return err
				}
				if !strings.HasPrefix(iter.Val(), prefix+":{schedule}:") {
					return fmt.Errorf("key %s lacks the {schedule} hash tag", iter.Val())
				}
				keysMu.Lock()
				slotsUsed[slot] = true
				keys++
				keysMu.Unlock()
			}
			return iter.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if keys < slots || len(slotsUsed) != 1 {
			t.Errorf("%d keys in slots %v; want at least %d, all in one slot", keys, slotsUsed, slots)
		}
	})

	t.Run("real clock", func(t *testing.T) {
		t.Parallel()
		prefix := fmt.Sprintf("test:%x", rand.Uint64())
		var mu sync.Mutex
		count := map[int64]int{}
		enough := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 3 {
			s := schedule.New(c.NewClient(t), schedule.Config{Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
			err := s.Add("fast", "@every 200ms", func(ctx context.Context, slot time.Time) error {
				mu.Lock()
				defer mu.Unlock()
				count[slot.UnixMilli()]++
				if len(count) == 10 {
					close(enough)
				}
				return nil
			})
			if err != nil {
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
		for ms, n := range count {
			if n != 1 {
				t.Errorf("slot %d fired %d times, want once", ms, n)
			}
		}
	})
}
