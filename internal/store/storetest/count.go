package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func countTests() []test {
	return []test{
		{"Count", testCount},
		{"DeleteOlderThan", testDeleteOlderThan},
	}
}

func lifecycleTests() []test {
	return []test{
		{"Ping", testPing},
		{"CanceledContext", testCanceledContext},
		{"UseAfterClose", testUseAfterClose},
	}
}

func testCount(t *testing.T, s events.Store) {
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("Count on an empty store = %d; want 0", n)
	}
	var in []events.Event
	for i := range 10 {
		in = append(in, events.Event{Name: "n", CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	created := mustCreateMany(t, s, in)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	for _, tc := range []struct {
		from, to time.Time
		want     int64
	}{
		{time.Time{}, time.Time{}, 10},
		{at(3), time.Time{}, 7},
		{time.Time{}, at(3), 3},
		{at(3), at(5), 2},
		{at(3).Add(time.Microsecond), at(5).Add(time.Microsecond), 2}, // (3s, 5s] in whole ms
		{at(100), time.Time{}, 0},
	} {
		if n := mustCount(t, s, tc.from, tc.to); n != tc.want {
			t.Fatalf("Count(%v, %v) = %d; want %d", tc.from, tc.to, n, tc.want)
		}
	}
	if err := s.Delete(ctx(t), created[0].ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustCreate(t, s, events.Event{Name: "now"})
	mustCreate(t, s, events.Event{Name: "now"})
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 11 {
		t.Fatalf("Count after one delete and two creates = %d; want 11", n)
	}
}

func testDeleteOlderThan(t *testing.T, s events.Store) {
	cut := base.Add(24 * time.Hour)
	var in []events.Event
	for _, d := range []time.Duration{-48 * time.Hour, -time.Hour, -time.Millisecond, 0, time.Millisecond, time.Hour} {
		in = append(in, events.Event{Name: "n", CreatedAt: cut.Add(d), JobID: "job" + d.String()})
	}
	created := mustCreateMany(t, s, in)
	n, err := s.DeleteOlderThan(ctx(t), cut)
	if err != nil || n != 3 {
		t.Fatalf("DeleteOlderThan = %d, %v; want 3", n, err)
	}
	left := listAll(t, s, events.ListQuery{})
	if len(left) != 3 {
		t.Fatalf("%d events left; want 3", len(left))
	}
	for _, e := range left {
		if e.CreatedAt.Before(cut) {
			t.Fatalf("event older than the cut survived: %s", show(e))
		}
	}
	for _, e := range created[:3] {
		_, err := s.Get(ctx(t), e.ID)
		wantErr(t, "Get of a deleted old event", err, events.ErrNotFound)
	}
	n, err = s.DeleteOlderThan(ctx(t), cut)
	if err != nil || n != 0 {
		t.Fatalf("second DeleteOlderThan = %d, %v; want 0", n, err)
	}
	// A cut inside a millisecond keeps the event of that millisecond.
	n, err = s.DeleteOlderThan(ctx(t), cut.Add(time.Millisecond-time.Nanosecond))
	if err != nil || n != 1 {
		t.Fatalf("DeleteOlderThan(cut+1ms-1ns) = %d, %v; want 1 (the event at the cut)", n, err)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 2 {
		t.Fatalf("Count = %d; want 2", n)
	}
	// The job ids of deleted events are free again.
	e := mustCreate(t, s, events.Event{Name: "rerun", JobID: in[0].JobID})
	if e.ID == created[0].ID {
		t.Fatalf("job id of a deleted event still answered with it")
	}
}

func testPing(t *testing.T, s events.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCanceledContext(t *testing.T, s events.Store) {
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := s.Create(c, events.Event{Name: "n"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Create with a canceled context: err = %v; want context.Canceled", err)
	}
	if _, err := s.List(c, events.ListQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("List with a canceled context: err = %v; want context.Canceled", err)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("Count = %d; want 0", n)
	}
}

func testUseAfterClose(t *testing.T, s events.Store) {
	e := mustCreate(t, s, events.Event{Name: "n"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Run closes it again when the test ends; that must be harmless too.
	if _, err := s.Get(ctx(t), e.ID); err == nil {
		t.Fatal("Get after Close succeeded; want an error")
	}
	if _, err := s.Create(ctx(t), events.Event{Name: "n"}); err == nil {
		t.Fatal("Create after Close succeeded; want an error")
	}
}
