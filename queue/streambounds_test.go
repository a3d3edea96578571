package queue

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestStreamCapRoundTrip passes streamCap's format through the Lua parse
// every script runs, so the two sides agree.
func TestStreamCapRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	src := luaPrelude + string(must(luaFiles.ReadFile("lua/common.lua"))) + "\nreturn {eventsMax, eventsMaxAge}"
	for _, c := range []streamCap{{10_000, 30 * time.Second}, {0, 0}, {1, time.Millisecond}, {5_000_000, 24 * time.Hour}} {
		got, err := b.rdb.Eval(context.Background(), src, nil, c.String(), "").Int64Slice()
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != c.maxLen || got[1] != c.maxAge.Milliseconds() {
			t.Errorf("%q read as %v, want %d, %d", c, got, c.maxLen, c.maxAge.Milliseconds())
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestEventStreamKeepsItsMaxAge plants entries in the lifecycle stream with
// ids from two hours and from ten minutes ago, by Redis's clock, and emits
// one event with a max age of an hour: the young entries stay, the old ones
// go but for at most one node's worth (Redis trims whole nodes of 100
// entries). With the age bound off, nothing goes.
func TestEventStreamKeepsItsMaxAge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		maxAge time.Duration
		trims  bool
	}{
		{"an hour", time.Hour, true},
		{"off", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			q := NewClient(b.rdb, Config{Prefix: b.client.cfg.Prefix + tc.name, EventsMaxAge: tc.maxAge}).Queue("q")
			key := q.keys[kEvents]
			now, err := b.rdb.Time(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			const old, young = 250, 10
			plant := func(from time.Time, n int) {
				for i := range n {
					id := fmt.Sprintf("%d-0", from.UnixMilli()+int64(i))
					if err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: id, Values: []string{"e", "paused"}}).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
			plant(now.Add(-2*time.Hour), old)
			plant(now.Add(-10*time.Minute), young)
			if err := q.Pause(ctx); err != nil { // emits one entry
				t.Fatal(err)
			}
			msgs, err := b.rdb.XRange(ctx, key, "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			cut := uint64(now.Add(-time.Hour).UnixMilli())
			var kept, keptYoung int
			for _, m := range msgs {
				pos, err := parseEventPos(m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if pos.ms < cut {
					kept++
				} else {
					keptYoung++
				}
			}
			if keptYoung != young+1 {
				t.Errorf("%d entries younger than the max age kept, want %d", keptYoung, young+1)
			}
			switch {
			case tc.trims && kept > 100:
				t.Errorf("%d of %d entries older than the max age kept, want at most one node (100)", kept, old)
			case !tc.trims && kept != old:
				t.Errorf("%d of %d old entries kept with the age bound off, want all", kept, old)
			}
		})
	}
}

// TestResumeOverManyEntries resumes a subscriber of the shared stream from
// an event followed by more entries than one catch-up read takes
// (rangeCount): it gets every later event once, in order.
func TestResumeOverManyEntries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	first := mustAdd(t, b.q, "x", nil, JobOptions{})
	var from string
	for e, err := range b.q.Events(ctx, "0") {
		if err != nil {
			t.Fatal(err)
		}
		if e.JobID == first.ID {
			from = e.ID
			break
		}
	}
	n := 2*rangeCount + 50
	var want []string
	for range n { // one add, one entry each
		want = append(want, mustAdd(t, b.q, "x", nil, JobOptions{}).ID)
	}
	stream := b.otherProcess(t).NewEventStream()
	go stream.Run(ctx)
	var got []string
	for e, err := range stream.Subscribe(ctx, from) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.JobID)
		if len(got) == n {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("resumed over %d entries: got %d events, want %d in order", n, len(got), n)
	}
}

// TestSubscriberFallsBehindByBytes stalls one subscriber of the shared
// stream with room for many batches but few bytes: it is dropped with
// ErrFellBehind once it holds more than its bytes' worth, while another
// subscriber reading along gets every event.
func TestSubscriberFallsBehindByBytes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	stream := b.otherProcess(t).NewEventStream()
	stream.mu.Lock()
	stream.maxQueued = 1 // any batch beyond the first one held
	stream.mu.Unlock()
	go stream.Run(ctx)
	dropsStalledSubscriber(t, ctx, b.q, stream, 5)
}
