package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// Cluster is a Redis Cluster of one test's own: three masters, no replicas,
// each a redis-server process on loopback that persists nothing.
type Cluster struct {
	// Addrs are the masters' host:port addresses; each owns a third of the slots.
	Addrs []string
	// Client talks to the whole cluster. It is closed when the test ends.
	Client *redis.ClusterClient

	nodes []*clusterNode
}

// StartCluster starts a three-master Redis Cluster for t and registers its
// cleanup: clients closed, then the processes killed.
//
// It needs the redis-server binary (Redis 6.0 or later). A machine without
// it cannot run a Redis Cluster at all, and miniredis speaks no cluster
// protocol, so there StartCluster skips the test with a message saying why.
// Only the Redis Cluster tests skip so; CI installs redis-server and runs
// them. Any other failure to start fails the test. TEST_REDIS_URL plays no
// part: the cluster is always the test's own.
//
// Startup takes about 2 s, nearly all of it Redis's own: a master refuses
// to declare the cluster ok within its first 2 s (CLUSTER_WRITABLE_DELAY).
// Tests that need a cluster each should share one, each under a key prefix
// of its own, rather than start one apiece.
//
// Each master's cluster bus listens on its port + 10000, which every Redis
// version accepts; ports taken between choosing them and binding them are
// chosen again.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redistest: redis-server is not installed, so this Redis Cluster test cannot run (install Redis 6.0+ to run it; CI does)")
	}
	c := &Cluster{}
	t.Cleanup(c.stop)
	dir := t.TempDir()

	var wg sync.WaitGroup
	errs := make([]error, 3)
	c.nodes = make([]*clusterNode, 3)
	for i := range c.nodes {
		wg.Go(func() { c.nodes[i], errs[i] = startClusterNode(dir) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("redistest: start cluster: %v", err)
		}
	}
	for _, n := range c.nodes {
		c.Addrs = append(c.Addrs, n.addr)
	}
	if err := c.form(); err != nil {
		t.Fatalf("redistest: form cluster: %v", err)
	}
	c.Client = c.NewClient(t)
	return c
}

// NewClient dials a second, independent cluster client, as another process
// would. It is closed when the test ends.
func (c *Cluster) NewClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// form assigns each master a contiguous third of the slots, introduces the
// masters to each other and waits until every one of them reports the
// cluster ok, so that any client made afterwards sees the final slot map.
func (c *Cluster) form() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, n := range c.nodes {
		// Distinct config epochs up front spare the cluster resolving the
		// collision itself, as redis-cli --cluster create does.
		if err := n.rdb.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("%s: set config epoch: %w", n.addr, err)
		}
		// ADDSLOTS, not ADDSLOTSRANGE: the latter needs Redis 7.
		lo, hi := i*clusterSlots/len(c.nodes), (i+1)*clusterSlots/len(c.nodes)
		args := []any{"CLUSTER", "ADDSLOTS"}
		for s := lo; s < hi; s++ {
			args = append(args, s)
		}
		if err := n.rdb.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("%s: add slots %d-%d: %w", n.addr, lo, hi-1, err)
		}
	}
	// Every pair meets directly: learning of a node through gossip takes
	// seconds, meeting it a round trip.
	for i, a := range c.nodes {
		for _, b := range c.nodes[i+1:] {
			if err := a.rdb.ClusterMeet(ctx, "127.0.0.1", b.port).Err(); err != nil {
				return fmt.Errorf("%s: meet %s: %w", a.addr, b.addr, err)
			}
		}
	}
	for _, n := range c.nodes {
		for {
			info, err := n.rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.nodes))) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s did not report the cluster ok: %v\n%s", n.addr, err, info)
			case <-n.exited:
				return fmt.Errorf("%s exited:\n%s", n.addr, n.out.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

func (c *Cluster) stop() {
	for _, n := range c.nodes {
		if n != nil {
			n.stop()
		}
	}
}

// clusterNode is one redis-server process of a Cluster.
type clusterNode struct {
	addr   string
	port   string
	cmd    *exec.Cmd
	rdb    *redis.Client // a plain client, for setting the cluster up
	out    bytes.Buffer  // the server's log; read it only after exited is closed
	exited chan struct{}
}

// startClusterNode starts a cluster-enabled redis-server and waits until it
// answers, choosing other ports when the ones it chose were taken meanwhile.
func startClusterNode(dir string) (*clusterNode, error) {
	var lastErr error
	for range 5 {
		port, err := freeClusterPort()
		if err != nil {
			return nil, err
		}
		n, err := tryClusterNode(dir, port)
		if err == nil {
			return n, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return nil, lastErr
}

func tryClusterNode(dir string, port int) (*clusterNode, error) {
	p := strconv.Itoa(port)
	n := &clusterNode{addr: "127.0.0.1:" + p, port: p, exited: make(chan struct{})}
	n.cmd = exec.Command("redis-server",
		"--port", p, "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes-"+p+".conf",
		// Masters ping each other every node-timeout/2 at least; at 3 s the
		// slot maps have spread before the 2 s writable delay ends, and a
		// master is still not judged failed for a stall of a busy machine.
		"--cluster-node-timeout", "3000",
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning")
	n.cmd.Stdout, n.cmd.Stderr = &n.out, &n.out
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	go func() { n.cmd.Wait(); close(n.exited) }()
	// Wait with plain dials: a go-redis pool that saw many failed dials
	// falls back to retrying once a second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", n.addr, time.Second)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-n.exited:
			return nil, fmt.Errorf("redis-server on port %s exited:\n%s", p, n.out.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.cmd.Process.Kill()
			<-n.exited
			return nil, fmt.Errorf("redis-server on port %s did not answer", p)
		}
	}
	n.rdb = redis.NewClient(&redis.Options{Addr: n.addr})
	return n, nil
}

// freeClusterPort returns a loopback port that is free, and whose cluster
// bus port (port + 10000) is free too.
func freeClusterPort() (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		l.Close()
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free pair of ports (port, port+10000) found")
}

// stop kills the process (SIGKILL: it persists nothing anyway).
func (n *clusterNode) stop() {
	n.rdb.Close()
	n.cmd.Process.Kill()
	<-n.exited
}
