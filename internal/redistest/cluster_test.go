package redistest_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestStartCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var addrs []string
	t.Run("running", func(t *testing.T) {
		began := time.Now()
		c := redistest.StartCluster(t)
		t.Logf("cluster up in %s", time.Since(began)) // a figure to read, not to assert
		addrs = c.Addrs
		if len(c.Addrs) != 3 {
			t.Fatalf("addrs = %v, want 3", c.Addrs)
		}

		// Every master sees the whole cluster, with a third of the slots each.
		owners := map[string]int{}
		for _, addr := range c.Addrs {
			node := redis.NewClient(&redis.Options{Addr: addr})
			defer node.Close()
			info, err := node.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_assigned:16384") {
				t.Fatalf("%s: cluster info %v:\n%s", addr, err, info)
			}
			slots, err := node.ClusterSlots(ctx).Result()
			if err != nil || len(slots) != 3 {
				t.Fatalf("%s: cluster slots %v, %v", addr, slots, err)
			}
			for _, s := range slots {
				owners[s.Nodes[0].Addr] += s.End - s.Start + 1
			}
		}
		for _, addr := range c.Addrs {
			if n := owners[addr] / 3; n < 5000 {
				t.Errorf("%s owns %d slots, want about 5461", addr, n)
			}
		}

		// The client routes each key to the master owning its slot: keys
		// spread over all three, and a cross-slot command is refused.
		used := map[string]bool{}
		for _, key := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
			if err := c.Client.Set(ctx, key, key, 0).Err(); err != nil {
				t.Fatalf("set %s: %v", key, err)
			}
			m, err := c.Client.MasterForKey(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := m.Get(ctx, key).Result(); err != nil || got != key {
				t.Fatalf("get %s from its master %s: %q, %v", key, m.Options().Addr, got, err)
			}
			used[m.Options().Addr] = true
		}
		if len(used) != 3 {
			t.Errorf("ten keys landed on %d masters, want all 3", len(used))
		}
		if err := c.Client.MSet(ctx, "a", 1, "b", 2).Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
			t.Errorf("cross-slot MSET: %v, want CROSSSLOT", err)
		}

		// A second client, as another process, sees the same data.
		if got, err := c.NewClient(t).Get(ctx, "a").Result(); err != nil || got != "a" {
			t.Errorf("second client get a = %q, %v", got, err)
		}
	})
	if len(addrs) == 0 {
		return // skipped or failed
	}
	// Cleanup killed the processes.
	for _, addr := range addrs {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after cleanup", addr)
		}
	}
}

// TestStartClusterInParallel starts clusters side by side, as parallel
// tests do, to show they get distinct ports and do not join each other.
func TestStartClusterInParallel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 3 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			c := redistest.StartCluster(t)
			mu.Lock()
			for _, a := range c.Addrs {
				if seen[a] {
					t.Errorf("address %s given to two clusters", a)
				}
				seen[a] = true
			}
			mu.Unlock()
			info, err := c.Client.ClusterInfo(context.Background()).Result()
			if err != nil || !strings.Contains(info, "cluster_known_nodes:3") {
				t.Errorf("cluster %d: %v\n%s", i, err, info)
			}
		})
	}
}
