package schedule_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/schedule"
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
		rec := threeProcessesOnFakeClock(t, clock, newScheduler)
		if errs := logs.lines("level=ERROR"); len(errs) > 0 {
			t.Errorf("errors logged: %q", errs)
		}

		// A fourth process that never runs reads the last run.
		lister := newScheduler()
		if err := lister.Add("mock-data", "*/2 * * * * *", rec.fn); err != nil {
			t.Fatal(err)
		}
		infos, err := lister.List(context.Background())
		if err != nil || len(infos) != 1 || !infos[0].LastRun.Equal(sec(2*fakeClockSlots)) {
			t.Errorf("List = %+v, %v; want last run +%ds", infos, err, 2*fakeClockSlots)
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
		if keys < fakeClockSlots || len(slotsUsed) != 1 {
			t.Errorf("%d keys in slots %v; want at least %d, all in one slot", keys, slotsUsed, fakeClockSlots)
		}
	})

	t.Run("real clock", func(t *testing.T) {
		t.Parallel()
		prefix := fmt.Sprintf("test:%x", rand.Uint64())
		threeProcessesOnRealClock(t, prefix, func() redis.UniversalClient { return c.NewClient(t) })
	})
}
