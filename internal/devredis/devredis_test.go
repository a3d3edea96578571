package devredis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// same reports whether two snapshots hold the same data: key order, set
// order and how much of a TTL is left may differ.
func same(t *testing.T, a, b *Snapshot) bool {
	t.Helper()
	norm := func(s *Snapshot) []Key {
		keys := slices.Clone(s.Keys)
		for i, k := range keys {
			if k.TTLMs > 0 {
				k.TTLMs = 1
			}
			if k.Type == "set" {
				k.Values = slices.Clone(k.Values)
				slices.SortFunc(k.Values, bytes.Compare)
			}
			keys[i] = k
		}
		slices.SortFunc(keys, func(x, y Key) int { return bytes.Compare(x.Name, y.Name) })
		return keys
	}
	na, nb := norm(a), norm(b)
	if reflect.DeepEqual(na, nb) {
		return true
	}
	if len(na) != len(nb) {
		t.Logf("%d keys, then %d", len(na), len(nb))
		return false
	}
	for i := range na {
		if !reflect.DeepEqual(na[i], nb[i]) {
			t.Logf("key %q: %+v\nthen %+v", na[i].Name, na[i], nb[i])
		}
	}
	return false
}

// fill writes one key of every type the queue uses, with bytes that are not
// UTF-8, scores that need every digit, a TTL and a stream.
func fill(t *testing.T, rdb redis.Cmdable) {
	t.Helper()
	ctx := t.Context()
	bin := string([]byte{0xff, 0x00, 0xfe, 'x'})
	for _, err := range []error{
		rdb.Set(ctx, "s", "value", 0).Err(),
		rdb.Set(ctx, "bin"+bin, bin, 0).Err(),
		rdb.Set(ctx, "ttl", "x", time.Hour).Err(),
		rdb.RPush(ctx, "l", "c", "a", "b", "a").Err(),
		rdb.SAdd(ctx, "set", "m1", "m2", bin).Err(),
		rdb.HSet(ctx, "h", "f1", "v1", "f2", bin).Err(),
		rdb.ZAdd(ctx, "z", redis.Z{Score: 1764300000123, Member: "job-1"}, redis.Z{Score: 0.1, Member: "tenth"},
			redis.Z{Score: -2.5e-7, Member: "tiny"}).Err(),
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: "x", ID: "1-1", Values: []string{"k", "v", "k2", bin}}).Err(),
		rdb.XAdd(ctx, &redis.XAddArgs{Stream: "x", ID: "5-0", Values: []string{"only", "one"}}).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A list long enough to be restored in several commands.
	for i := range 1500 {
		if err := rdb.RPush(ctx, "long", strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMemorySavesAndLoads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, err := StartMemory(t.Context(), dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	fill(t, rdb)
	before, err := Take(t.Context(), rdb)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Keys) != 9 {
		t.Fatalf("snapshot has %d keys, want 9: %+v", len(before.Keys), before.Keys)
	}

	// Stopping saves the last state.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != SnapshotFile {
		t.Errorf("directory holds %v, want only %s (no temporary file left)", entries, SnapshotFile)
	}

	m2, err := StartMemory(t.Context(), dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer m2.close()
	rdb2 := redis.NewClient(&redis.Options{Addr: m2.Addr()})
	defer rdb2.Close()
	after, err := Take(t.Context(), rdb2)
	if err != nil {
		t.Fatal(err)
	}
	if !same(t, before, after) {
		t.Error("state after a restart differs")
	}
	if ttl := rdb2.PTTL(t.Context(), "ttl").Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("restored key's TTL is %s, want (0, 1h]", ttl)
	}
	if got := rdb2.XAdd(t.Context(), &redis.XAddArgs{Stream: "x", ID: "2-0", Values: []string{"a", "b"}}).Err(); got == nil {
		t.Error("XADD with an id below the stream's last succeeded: the stream's last id was not restored")
	}
}

// TestMemorySavesWhileRunning: the state reaches the file while the server
// runs, not only when it stops (a kill -9 gives no chance to save).
func TestMemorySavesWhileRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m, err := StartMemory(t.Context(), dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	rdb.Set(t.Context(), "k", "v1", 0)

	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := ReadFile(filepath.Join(dir, SnapshotFile))
		if err != nil {
			t.Fatal(err)
		}
		if s != nil && len(s.Keys) == 1 && string(s.Keys[0].Values[0]) == "v1" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running server's state never reached the file; last read %+v", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMemoryExpiresKeys: keys with a TTL expire while the server runs, as
// in Redis, rather than piling up in memory and in every save.
func TestMemoryExpiresKeys(t *testing.T) {
	t.Parallel()
	m, err := StartMemory(t.Context(), t.TempDir(), discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	rdb.Set(t.Context(), "req:1", "reply", 100*time.Millisecond)
	rdb.Set(t.Context(), "kept", "v", 0)
	deadline := time.Now().Add(30 * time.Second)
	for rdb.Exists(t.Context(), "req:1").Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("a key with a 100 ms TTL still exists")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rdb.Get(t.Context(), "kept").Val() != "v" {
		t.Error("a key without a TTL is gone")
	}
}

func TestMemoryRefusesABadSnapshot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	for _, content := range []string{"{", `{"version":99,"keys":[]}`, `{"version":1,"keys":[{"name":"eA==","type":"hash","values":["YQ=="]}]}`} {
		os.WriteFile(path, []byte(content), 0o600)
		_, err := StartMemory(t.Context(), dir, discard())
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("snapshot %s: StartMemory error %v, want one naming %s", content, err, path)
		}
	}
}

// redisServer returns redis-server's path; these tests need it installed,
// as CI has it.
func redisServer(t *testing.T) string {
	t.Helper()
	path, err := LookPath()
	if err != nil {
		t.Skip("redis-server is not installed: ", err)
	}
	return path
}

func TestServerKeepsData(t *testing.T) {
	t.Parallel()
	path := redisServer(t)
	dir := t.TempDir()
	s, err := StartServer(t.Context(), path, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb.Close()
	fill(t, rdb)
	before, err := Take(t.Context(), rdb)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PIDFile)); !os.IsNotExist(err) {
		t.Errorf("pid file left after a clean stop: %v", err)
	}

	s2, err := StartServer(t.Context(), path, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.stop()
	rdb2 := redis.NewClient(&redis.Options{Addr: s2.Addr()})
	defer rdb2.Close()
	after, err := Take(t.Context(), rdb2)
	if err != nil {
		t.Fatal(err)
	}
	if !same(t, before, after) {
		t.Error("state after a restart differs")
	}
}

// TestServerStopsAStaleOne: a redis-server left running on the directory
// (its eventsd killed where the kernel does not stop it) is stopped before
// a new one starts, and its data is kept.
func TestServerStopsAStaleOne(t *testing.T) {
	t.Parallel()
	path := redisServer(t)
	dir := t.TempDir()
	stale, err := StartServer(t.Context(), path, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: stale.Addr()})
	rdb.Set(t.Context(), "kept", "yes", 0)
	rdb.Close()

	s, err := StartServer(t.Context(), path, dir, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	select {
	case <-stale.exited:
	case <-time.After(30 * time.Second):
		stale.stop()
		t.Fatal("the stale redis-server still runs after a new one started on its directory")
	}
	rdb2 := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb2.Close()
	if v := rdb2.Get(t.Context(), "kept").Val(); v != "yes" {
		t.Errorf("key written to the stale server is %q after the restart, want yes", v)
	}
}

func TestServerExitIsAnError(t *testing.T) {
	t.Parallel()
	path := redisServer(t)
	s, err := StartServer(t.Context(), path, t.TempDir(), discard())
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Kill()
	if err := s.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "redis-server exited") {
		t.Errorf("Run after redis-server died: %v, want an error saying it exited", err)
	}
}

// TestServerInUse: a redis-server whose eventsd still runs is not stale:
// a second dev on the same directory is refused rather than stopping it.
func TestServerInUse(t *testing.T) {
	t.Parallel()
	path := redisServer(t)
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	// Another "eventsd": a shell that runs redis-server as its child.
	owner := exec.Command("sh", "-c", `"$0" --port "$1" --bind 127.0.0.1 --save "" --appendonly no & echo $! ; wait`, path, port)
	out, err := owner.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	var serverPID int
	if _, err := fmt.Fscan(out, &serverPID); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(serverPID, syscall.SIGTERM)
		owner.Wait()
	}()
	os.WriteFile(filepath.Join(dir, PIDFile), fmt.Appendf(nil, "%d %d\n", serverPID, owner.Process.Pid), 0o600)
	deadline := time.Now().Add(30 * time.Second)
	// Until the shell has exec'd it and it answers: a server that exited
	// at once (its port taken meanwhile by another test) is no owner's.
	probe := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	defer probe.Close()
	for !isRedisServer(serverPID) || probe.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	_, err = StartServer(t.Context(), path, dir, discard())
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("StartServer on a directory in use: %v, want ErrInUse", err)
	}
	if syscall.Kill(serverPID, 0) != nil {
		t.Error("the other eventsd's redis-server was stopped")
	}
}
