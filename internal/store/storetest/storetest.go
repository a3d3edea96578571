// Package storetest is the conformance suite of events.Store: every
// implementation runs it, so that the SQLite, MongoDB and PostgreSQL stores
// cannot drift apart. It is imported by tests only.
//
// A store's test calls Run with a function that opens a fresh, empty store
// for one subtest:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) events.Store { return openTemp(t) })
//	}
//
// and its benchmark calls Bench the same way.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

// Run runs the conformance suite as parallel subtests of t, each on a store
// of its own from open. open must return a fresh, empty store; Run closes it
// when the subtest ends, so open's own cleanups (stopping a server, removing
// a directory) run after that.
func Run(t *testing.T, open func(t *testing.T) events.Store) {
	for _, tc := range tests() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s events.Store)
}

func tests() []test {
	return slices.Concat(createTests(), batchTests(), dataTests(), listTests(), countTests(), rollupTests(), lifecycleTests(), webhookTests())
}

// base is a fixed instant in the past that tests lay their events out from,
// so that events created "now" by concurrent writers are newer than all of them.
var base = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// ctx returns a context for one test's store calls: generous, so that a
// slow machine does not fail a test, yet bounded, so that a hung store does.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func mustCreate(t *testing.T, s events.Store, e events.Event) events.Event {
	t.Helper()
	got, err := s.Create(ctx(t), e)
	if err != nil {
		t.Fatalf("Create(%+v): %v", e, err)
	}
	return got
}

func mustCreateMany(t *testing.T, s events.Store, es []events.Event) []events.Event {
	t.Helper()
	got, err := s.CreateMany(ctx(t), es)
	if err != nil {
		t.Fatalf("CreateMany(%d events): %v", len(es), err)
	}
	if len(got) != len(es) {
		t.Fatalf("CreateMany(%d events) returned %d", len(es), len(got))
	}
	return got
}

func mustCount(t *testing.T, s events.Store, from, to time.Time) int64 {
	t.Helper()
	n, err := s.Count(ctx(t), from, to)
	if err != nil {
		t.Fatalf("Count(%v, %v): %v", from, to, err)
	}
	return n
}

// listAll follows q's cursor to the last page and returns every event seen.
func listAll(t *testing.T, s events.Store, q events.ListQuery) []events.Event {
	t.Helper()
	var all []events.Event
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			t.Fatal("listing did not end after 100,000 pages")
		}
		p, err := s.List(ctx(t), q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		all = append(all, p.Items...)
		if p.Next.IsZero() {
			return all
		}
		if len(p.Items) == 0 {
			t.Fatalf("List(%+v): an empty page with a next cursor", q)
		}
		q.After = p.Next
	}
}

// sameEvent fails t unless got is want as a store returns it: equal fields,
// data of the same meaning (see sameData), and CreatedAt in UTC at
// millisecond precision.
func sameEvent(t *testing.T, what string, got, want events.Event) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.JobID != want.JobID || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("%s = %s; want %s", what, show(got), show(want))
	}
	sameData(t, what, got.Data, want.Data)
	checkTime(t, what, got.CreatedAt)
}

func checkTime(t *testing.T, what string, at time.Time) {
	t.Helper()
	if at.Location() != time.UTC || at.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("%s: CreatedAt %v; want UTC with millisecond precision", what, at)
	}
}

func checkID(t *testing.T, what, id string) {
	t.Helper()
	if len(id) != 24 || !events.ValidID(id) || strings.ToLower(id) != id {
		t.Fatalf("%s: ID %q; want 24 lowercase hex characters", what, id)
	}
}

// checkNewestFirst fails t unless es is in strictly descending (createdAt,
// id) order: newest first, ties broken by id, and no event twice.
func checkNewestFirst(t *testing.T, es []events.Event) {
	t.Helper()
	for i := 1; i < len(es); i++ {
		if !before(es[i], es[i-1]) {
			t.Fatalf("listing not strictly newest first at %d: %s then %s", i, show(es[i-1]), show(es[i]))
		}
	}
}

// before reports whether a comes after b in the listing, that is, a is older
// than b or as old with a smaller id.
func before(a, b events.Event) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

func ids(es []events.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func show(e events.Event) string {
	return fmt.Sprintf("{ID:%s Name:%q CreatedAt:%s JobID:%q Data:%s}", e.ID, e.Name, e.CreatedAt.Format(time.RFC3339Nano), e.JobID, clip(e.Data))
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v; want %v", what, err, target)
	}
}
