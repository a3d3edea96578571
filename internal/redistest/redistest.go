// Package redistest gives tests a real Redis to talk to.
//
// When TEST_REDIS_URL is set (CI sets it to the local server, for example
// redis://127.0.0.1:6379/9) tests use that server, each test under a key prefix
// of its own that is deleted when the test ends; nothing else on the server is
// touched. Otherwise each test gets a fresh in-process miniredis, so `go test
// ./...` passes on a machine with nothing installed.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/redis/go-redis/v9"
)

// Redis is one test's view of a Redis server.
type Redis struct {
	// Client talks to the server. It is closed when the test ends.
	Client *redis.Client
	// Prefix is unique to the test; keys the test creates must start with it.
	Prefix string
	// Mini is the in-process server, or nil when TEST_REDIS_URL names a real one.
	Mini *miniredis.Miniredis
	// URL reaches the same server and database, for code that dials its own client.
	URL string
}

// Real reports whether tests run against a real Redis server.
func Real() bool { return os.Getenv("TEST_REDIS_URL") != "" }

// Start returns a Redis for t and registers its cleanup.
func Start(t testing.TB) *Redis {
	t.Helper()
	prefix := "test:" + randomHex(6)
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("redistest: TEST_REDIS_URL: %v", err)
		}
		if opt.DB == 0 {
			t.Fatalf("redistest: TEST_REDIS_URL must name a database from 1 to 15, not 0: %s", url)
		}
		rdb := redis.NewClient(opt)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Fatalf("redistest: TEST_REDIS_URL %s: %v", url, err)
		}
		t.Cleanup(func() {
			deletePrefix(rdb, prefix)
			rdb.Close()
		})
		return &Redis{Client: rdb, Prefix: prefix, URL: url}
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return &Redis{Client: rdb, Prefix: prefix, Mini: mr, URL: "redis://" + mr.Addr() + "/0"}
}

// NewClient dials a second, independent client to the same server and
// database, as another process would. It is closed when the test ends.
func (r *Redis) NewClient(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func deletePrefix(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

// Server is a Redis server that a fault test may stop and restart.
type Server struct {
	// Real says it is a redis-server process, which can persist data.
	Real bool
	// URL reaches database 0 of the server.
	URL     string
	mini    *miniredis.Miniredis
	cmd     *exec.Cmd
	port    string
	dir     string
	args    []string
	t       testing.TB
	stopped bool
}

// StartServer starts a Redis server of the test's own: a redis-server process
// on a free loopback port when the binary is installed, else an in-process
// miniredis. It is stopped when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartServerWith(t)
}

// StartServerWith is StartServer with redis-server arguments of the test's
// own, such as "--appendonly", "yes"; the in-process server ignores them.
func StartServerWith(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{t: t, args: args}
	if _, err := exec.LookPath("redis-server"); err != nil {
		s.mini = miniredis.RunT(t)
		s.URL = "redis://" + s.mini.Addr() + "/0"
		return s
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, s.port, _ = net.SplitHostPort(l.Addr().String())
	l.Close()
	s.dir = t.TempDir()
	s.Real = true
	s.URL = "redis://127.0.0.1:" + s.port + "/0"
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	args := []string{"--port", s.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.dir}
	s.cmd = exec.Command("redis-server", append(args, s.args...)...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("redistest: start redis-server: %v", err)
	}
	s.stopped = false
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + s.port})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on port %s did not start", s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: its clients see their connections cut).
func (s *Server) Stop() {
	if s.mini != nil {
		s.mini.Close()
		return
	}
	if s.stopped || s.cmd == nil {
		return
	}
	s.stopped = true
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// Restart starts the server again on the same address. The in-process server
// keeps its data; a redis-server process starts from its append-only file
// if StartServerWith turned one on, else from its last Snapshot, else empty.
func (s *Server) Restart() {
	s.t.Helper()
	if s.mini != nil {
		if err := s.mini.Restart(); err != nil {
			s.t.Fatalf("redistest: restart: %v", err)
		}
		return
	}
	s.start()
}

// ViaProxy returns a fault proxy in front of the test's server and a client
// that reaches the same database through it, as another process whose
// network may lose replies or connections. Both end with the test.
func (r *Redis) ViaProxy(t testing.TB) (*faultproxy.Proxy, *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	p := faultproxy.Start(t, opt.Addr)
	opt.Addr = p.Addr()
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return p, rdb
}

// Snapshot writes the server's data to disk (SAVE); the next Restart starts
// from it, as a Redis restarting from its last RDB snapshot does. It reports
// false, saving nothing, for the in-process server, which has no disk.
func (s *Server) Snapshot() bool {
	s.t.Helper()
	if s.mini != nil {
		return false
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + s.port})
	defer rdb.Close()
	if err := rdb.Save(context.Background()).Err(); err != nil {
		s.t.Fatalf("redistest: SAVE: %v", err)
	}
	return true
}
