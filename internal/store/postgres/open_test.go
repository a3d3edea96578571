package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/store/postgres"
	"github.com/jackc/pgx/v5"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// These tests need no server: they run everywhere.

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	url := "postgres://eventsd:s3cret@" + closedPort(t) + "/events"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, url, postgres.Config{})
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
	if !strings.HasPrefix(err.Error(), "postgres: ping: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %q; want it to say the ping failed and why", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q shows the password", err)
	}
	var netErr net.Error
	if !errors.As(err, &netErr) {
		t.Fatalf("error %q does not wrap the network error (the API answers those with a 503)", err)
	}
	t.Logf("Open of an unreachable server: %v", err)
}

// TestOpenUnreachableNoDeadline gives Open a context without a deadline:
// the store's own op timeout must bound it, even against a server that
// accepts connections and never answers.
func TestOpenUnreachableNoDeadline(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the listener closes
		}
	}()
	start := time.Now()
	_, err = postgres.Open(context.Background(), "postgres://u@"+l.Addr().String()+"/db?connect_timeout=60", postgres.Config{OpTimeout: 500 * time.Millisecond})
	if err == nil || !strings.HasPrefix(err.Error(), "postgres: ping: ") {
		t.Fatalf("Open: err = %v; want a ping error", err)
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Fatalf("Open returned after %v; the op timeout did not bound it", waited)
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"http://example.com",
		"postgres://u:s3cret@host:notaport/db",
		"postgres://u:s3cret@h/db?sslmode=bogus",
		"postgres://u:s3cret@h/db?pool_max_conns=x",
	} {
		_, err := postgres.Open(context.Background(), url, postgres.Config{OpTimeout: time.Second})
		if err == nil {
			t.Errorf("Open(%q) succeeded; want an error", url)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error %q shows the password", url, err)
		}
	}
}

// TestServerGoesAway terminates the store's connections under it, as a
// server restart does: calls fail with an error that names the operation,
// and the store recovers by itself with new connections.
func TestServerGoesAway(t *testing.T) {
	t.Parallel()
	app := fmt.Sprintf("eventsd-test-%d", time.Now().UnixNano())
	url := pgtest.URL(t) + "&application_name=" + app
	s := openURL(t, url)
	ctx := context.Background()
	e, err := s.Create(ctx, events.Event{Name: "before"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n); err != nil || n == 0 {
		t.Fatalf("terminated %d connections, %v; want the store's", n, err)
	}
	var failed int
	for range 10 { // pooled connections fail one by one, then new ones work
		_, err = s.Get(ctx, e.ID)
		if err == nil {
			break
		}
		failed++
		if !strings.HasPrefix(err.Error(), "postgres: get event: ") {
			t.Fatalf("Get on a terminated connection: err = %v; want it to name the operation", err)
		}
		t.Logf("Get on a terminated connection: %v", err)
	}
	if err != nil {
		t.Fatalf("the store did not recover after its connections were terminated: %v", err)
	}
	if failed == 0 {
		t.Log("the pool noticed the terminated connections before any call used one")
	}
}
