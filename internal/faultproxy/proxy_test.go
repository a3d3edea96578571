package faultproxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// through returns a client of r's database that goes through a new proxy,
// with go-redis's retries off so that each fault is seen as it happens.
func through(t *testing.T, r *redistest.Redis) (*faultproxy.Proxy, *redis.Client) {
	t.Helper()
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.Start(t, opt.Addr)
	opt.Addr, opt.MaxRetries = p.Addr(), -1
	opt.ReadTimeout = 300 * time.Millisecond
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return p, c
}

func TestDropRepliesRunsTheCommandAndLosesItsReply(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	p, c := through(t, r)
	ctx := context.Background()
	key := r.Prefix + ":n"
	p.DropReplies("INCR", 1) // go-redis sends command names in lower case...
	p.DropReplies("incr", 1)
	if err := c.Incr(ctx, key).Err(); err == nil {
		t.Fatal("the reply arrived")
	}
	if got, _ := r.Client.Get(ctx, key).Int(); got != 1 || p.Dropped() != 1 {
		t.Fatalf("counter %d after a lost reply, %d dropped; want it run once", got, p.Dropped())
	}
	// The next one goes through, on a new connection.
	if n, err := c.Incr(ctx, key).Result(); err != nil || n != 2 {
		t.Fatalf("after the drop: %d, %v", n, err)
	}
}

func TestBlackholeCutSilence(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	p, c := through(t, r)
	ctx := context.Background()
	key := r.Prefix + ":k"

	p.Blackhole("set")
	if err := c.Set(ctx, key, "v", 0).Err(); err == nil {
		t.Fatal("a swallowed request was answered")
	}
	if n, _ := r.Client.Exists(ctx, key).Result(); n != 0 {
		t.Fatal("a swallowed request reached the server")
	}
	p.Mend()
	if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	p.Cut(true)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping through a cut proxy")
	}
	p.Cut(false)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after the cut: %v", err)
	}

	p.Silence(true)
	err := c.Set(ctx, key, "silent", 0).Err()
	var netErr interface{ Timeout() bool }
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("set while silenced: %v, want a timeout", err)
	}
	if v, _ := r.Client.Get(ctx, key).Result(); v != "silent" {
		t.Fatalf("a silenced request did not land: %q", v)
	}
	p.Silence(false)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping after the silence: %v", err)
	}
}

func TestDropRandom(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	p, c := through(t, r)
	ctx := context.Background()
	p.DropRandom(0.5, 7)
	failed := 0
	for range 200 {
		if c.Ping(ctx).Err() != nil {
			failed++
		}
	}
	p.Mend()
	if failed == 0 || failed == 200 || int64(failed) != p.Dropped() {
		t.Fatalf("%d of 200 pings failed, %d replies dropped; want some, as many as dropped", failed, p.Dropped())
	}
}
