package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestCluster runs the engine on a real three-master Redis Cluster: every
// scenario, then what only a cluster can show. The subtests share one
// cluster (it takes Redis about 2 s to form one), each under a key prefix of
// its own, and each "process" is a cluster client of its own. Without
// redis-server installed the whole test skips, saying why.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	spread := namesOnEveryMaster(t, c)

	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, onCluster(t, c))
		})
	}

	t.Run("workers on queues on different masters", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		ctx := context.Background()
		const perQueue = 300
		var mu sync.Mutex
		runs := map[string]int{} // "<queue>/<data>" -> runs
		var wrongQueue atomic.Int32
		for _, name := range spread {
			// Two worker processes per queue.
			for range 2 {
				q := b.queue(t, name)
				startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
					if job.Queue != name || !strings.HasPrefix(string(job.Data), name+"/") {
						wrongQueue.Add(1)
					}
					mu.Lock()
					runs[string(job.Data)]++
					mu.Unlock()
					return nil, nil
				}), WorkerConfig{Concurrency: 5}))
			}
		}
		var wg sync.WaitGroup
		for _, name := range spread {
			q := b.queue(t, name)
			wg.Go(func() {
				batch := make([]NewJob, perQueue)
				for i := range batch {
					batch[i] = NewJob{Name: "n", Data: fmt.Appendf(nil, "%s/%d", name, i)}
				}
				if _, err := q.AddBulk(ctx, batch); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, name := range spread {
			q := b.queue(t, name)
			waitFor(t, "all jobs of "+name, func() bool { c, _ := q.Counts(ctx); return c.CompletedTotal == perQueue })
		}
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != 3*perQueue || wrongQueue.Load() != 0 {
			t.Fatalf("%d distinct jobs ran (want %d), %d on the wrong queue's worker", len(runs), 3*perQueue, wrongQueue.Load())
		}
		for data, n := range runs {
			if n != 1 {
				t.Fatalf("job %s ran %d times", data, n)
			}
		}
	})

	t.Run("a worker is not disturbed by other queues", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		ctx := context.Background()
		quiet := b.queue(t, spread[0])
		var quietRuns, busyRuns atomic.Int32
		startWorker(t, b.newWorker(quiet, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			quietRuns.Add(1)
			return nil, nil
		}), WorkerConfig{}))
		// Busy queues on the other masters, and one sharing the quiet
		// queue's master too (a different slot on the same node).
		busyNames := []string{spread[1], spread[2], sameMasterOtherSlot(t, c, spread[0])}
		for _, name := range busyNames {
			q := b.queue(t, name)
			startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
				busyRuns.Add(1)
				return nil, nil
			}), WorkerConfig{}))
			batch := make([]NewJob, 200)
			for i := range batch {
				batch[i] = NewJob{Name: "busy"}
			}
			if _, err := q.AddBulk(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "busy queues drained", func() bool { return busyRuns.Load() == 600 })
		if n := quietRuns.Load(); n != 0 {
			t.Fatalf("the quiet queue's worker ran %d jobs of other queues", n)
		}
		if got, _ := quiet.Counts(ctx); got != (Counts{}) {
			t.Fatalf("quiet queue counts = %+v", got)
		}
		// And it still wakes for its own work.
		if _, err := quiet.Add(ctx, "mine", nil, JobOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the quiet queue's own job", func() bool { return quietRuns.Load() == 1 })
	})

	t.Run("cancel reaches subscribers on every master", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		b.logs.expect("job failed")
		q := b.queue(t, spread[0])
		ctx := context.Background()
		// Plain subscribers on every master: PUBLISH runs in a script on the
		// queue's master, and must reach subscribers wherever they are.
		var subs []*redis.PubSub
		for _, addr := range c.Addrs {
			node := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { node.Close() })
			ps := node.Subscribe(ctx, q.cancelChannel)
			if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
				t.Fatal(err)
			}
			t.Cleanup(func() { ps.Close() })
			subs = append(subs, ps)
		}
		started := make(chan string, 1)
		causes := make(chan error, 1)
		// A lease long enough that no heartbeat (every lease/3) comes in the
		// test's lifetime: the cancel can only arrive by pub/sub.
		startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
			started <- job.ID
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil, ctx.Err()
		}), WorkerConfig{LeaseTime: time.Hour}))
		// The worker subscribes through its cluster client on its own
		// goroutine; publishing before it listens would lose the message.
		waitFor(t, "the worker's subscription", func() bool {
			return subscribers(t, c, q.cancelChannel) == len(c.Addrs)+1
		})
		j, _ := q.Add(ctx, "long", nil, JobOptions{})
		if id := <-started; id != j.ID {
			t.Fatalf("started %s, want %s", id, j.ID)
		}
		other := b.queue(t, spread[0])
		if err := other.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case cause := <-causes:
			if !errors.Is(cause, ErrCancelled) {
				t.Fatalf("handler context cause = %v, want ErrCancelled", cause)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the handler never saw the cancel")
		}
		for i, ps := range subs {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil || m.Payload != j.ID {
				t.Fatalf("subscriber on %s got %v, %v; want %s", c.Addrs[i], m, err, j.ID)
			}
		}
		waitFor(t, "cancelled job to fail", func() bool {
			j, err := other.Get(ctx, j.ID)
			return err == nil && j.State == StateFailed
		})
		if got := mustState(t, other, j.ID, StateFailed); got.Failures != 1 || got.Error != "cancelled: context canceled" {
			t.Fatalf("cancelled job = %+v (must fail once, without retry)", got)
		}
	})

	t.Run("every key of a queue shares its slot", func(t *testing.T) {
		t.Parallel()
		b := onCluster(t, c)
		b.logs.expect("job failed")
		ctx := context.Background()
		// Drive every queue through every state, and hold one job active,
		// so that every kind of key exists while the keyspace is read.
		release := make(chan struct{})
		defer close(release)
		for _, name := range spread {
			q := b.queue(t, name)
			blocked := make(chan struct{})
			startWorker(t, b.newWorker(q, HandlerFunc(func(ctx context.Context, job *Job) (any, error) {
				switch string(job.Data) {
				case "fail":
					return nil, errors.New("no")
				case "block":
					close(blocked)
					<-release
				}
				return "ok", nil
			}), WorkerConfig{}))
			add := func(data string, opts JobOptions) {
				t.Helper()
				if _, err := q.Add(ctx, "x", []byte(data), opts); err != nil {
					t.Fatal(err)
				}
			}
			add("ok", JobOptions{RemoveOnComplete: Keep})
			add("fail", JobOptions{Retries: NoRetries})
			add("block", JobOptions{})
			<-blocked
			waitFor(t, "jobs finished", func() bool { c, _ := q.Counts(ctx); return c.Completed == 1 && c.Failed == 1 })
			if err := q.Pause(ctx); err != nil {
				t.Fatal(err)
			}
			add("held", JobOptions{DedupKey: "d", Priority: 3})
			add("later", JobOptions{Delay: time.Hour})
		}

		prefix := b.client.cfg.Prefix
		type found struct{ key, node string }
		var mu sync.Mutex
		var keys []found
		err := c.Client.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				mu.Lock()
				keys = append(keys, found{iter.Val(), node.Options().Addr})
				mu.Unlock()
			}
			return iter.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		type queueKeys struct {
			slots        map[int64]bool
			nodes, parts map[string]bool
		}
		byQueue := map[string]*queueKeys{}
		for _, k := range keys {
			name, part, ok := parseKey(prefix, k.key)
			if !ok {
				t.Errorf("key %s is not shaped <prefix>:{<queue>}:<part>", k.key)
				continue
			}
			slot, err := c.Client.ClusterKeySlot(ctx, k.key).Result()
			if err != nil {
				t.Fatal(err)
			}
			qk := byQueue[name]
			if qk == nil {
				qk = &queueKeys{slots: map[int64]bool{}, nodes: map[string]bool{}, parts: map[string]bool{}}
				byQueue[name] = qk
			}
			qk.slots[slot], qk.nodes[k.node], qk.parts[part] = true, true, true
		}
		known := append(keyNames[:], "w:", "req:")
		required := []string{"meta", "rec", "run", "prio", "dedupOf", "result", "history", "waiting", "delayed", "active", "completed", "failed", "dedup", "events"}
		homes := map[string]bool{} // where the keys really are, by SCAN
		for _, name := range spread {
			qk := byQueue[name]
			if qk == nil {
				t.Fatalf("no keys found for queue %s", name)
			}
			maps.Copy(homes, qk.nodes)
			want, _ := c.Client.ClusterKeySlot(ctx, name).Result()
			master, _ := c.Client.MasterForKey(ctx, name)
			if len(qk.slots) != 1 || !qk.slots[want] || len(qk.nodes) != 1 || !qk.nodes[master.Options().Addr] {
				t.Errorf("queue %s: keys in slots %v on %v; want all in slot %d on %s", name, qk.slots, qk.nodes, want, master.Options().Addr)
			}
			for part := range qk.parts {
				if !slices.ContainsFunc(known, func(k string) bool { return part == k || strings.HasSuffix(k, ":") && strings.HasPrefix(part, k) }) {
					t.Errorf("queue %s: unexpected key part %q", name, part)
				}
			}
			for _, part := range required {
				if !qk.parts[part] {
					t.Errorf("queue %s: no %q key; the workload should have made one", name, part)
				}
			}
			t.Logf("queue %s: %d kinds of key, all in slot %d on %s", name, len(qk.parts), want, master.Options().Addr)
		}
		if len(byQueue) != len(spread) || len(homes) != len(c.Addrs) {
			t.Errorf("keys of %d queues on %d masters, want %d on %d", len(byQueue), len(homes), len(spread), len(c.Addrs))
		}
	})
}

// onCluster returns a scenario's bundle on the shared cluster, under a key
// prefix of its own.
func onCluster(t *testing.T, c *redistest.Cluster) *bundle {
	t.Helper()
	return newBundle(t, c.NewClient(t), func(t *testing.T) redis.UniversalClient { return c.NewClient(t) }, "test:"+newRequestID()[:12])
}

// queue returns the named queue through a cluster client of its own, as
// another process would see it.
func (b *bundle) queue(t *testing.T, name string) *Queue {
	t.Helper()
	return NewClient(b.connect(t), Config{Prefix: b.client.cfg.Prefix}).Queue(name)
}

// namesOnEveryMaster returns one queue name per master: their hash tags
// land on different masters, as CLUSTER KEYSLOT and the slot map show.
func namesOnEveryMaster(t *testing.T, c *redistest.Cluster) []string {
	t.Helper()
	byMaster := map[string]string{}
	var names []string
	for i := 0; len(names) < len(c.Addrs); i++ {
		if i > 1000 {
			t.Fatalf("found queue names on %d masters only", len(names))
		}
		name := fmt.Sprintf("queue-%d", i)
		addr := masterOf(t, c, name)
		if _, ok := byMaster[addr]; !ok {
			byMaster[addr] = name
			names = append(names, name)
		}
	}
	return names
}

// sameMasterOtherSlot returns a queue name whose keys live on the same
// master as name's, in another slot.
func sameMasterOtherSlot(t *testing.T, c *redistest.Cluster, name string) string {
	t.Helper()
	ctx := context.Background()
	slot, _ := c.Client.ClusterKeySlot(ctx, name).Result()
	for i := 0; i < 1000; i++ {
		other := fmt.Sprintf("neighbour-%d", i)
		if s, _ := c.Client.ClusterKeySlot(ctx, other).Result(); s != slot && masterOf(t, c, other) == masterOf(t, c, name) {
			return other
		}
	}
	t.Fatal("no other slot on the same master")
	return ""
}

// masterOf returns the address of the master that holds the keys of the
// queue named name, whatever the prefix: its hash tag is the name.
func masterOf(t *testing.T, c *redistest.Cluster, name string) string {
	t.Helper()
	m, err := c.Client.MasterForKey(context.Background(), "any:{"+name+"}:meta")
	if err != nil {
		t.Fatal(err)
	}
	return m.Options().Addr
}

// subscribers counts the subscribers of a channel over every master.
func subscribers(t *testing.T, c *redistest.Cluster, channel string) int {
	t.Helper()
	var mu sync.Mutex
	total := 0
	err := c.Client.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
		n, err := node.PubSubNumSub(ctx, channel).Result()
		mu.Lock()
		total += int(n[channel])
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// parseKey splits "<prefix>:{<queue>}:<part>".
func parseKey(prefix, key string) (queue, part string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix+":{")
	if !ok {
		return "", "", false
	}
	queue, part, ok = strings.Cut(rest, "}:")
	return queue, part, ok
}
