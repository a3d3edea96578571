package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func rollupTests() []test {
	return []test{
		{"RollUpCountsPerMinuteAndName", testRollUpCounts},
		{"RollUpIsIdempotent", testRollUpIdempotent},
		{"RollUpReplacesAMinute", testRollUpReplaces},
		{"RollUpConcurrent", testRollUpConcurrent},
		{"MinuteCountsFilters", testMinuteCountsFilters},
	}
}

// minute returns base's minute plus n minutes.
func minute(n int) time.Time { return base.Truncate(time.Minute).Add(time.Duration(n) * time.Minute) }

func mustRollUp(t *testing.T, s events.Store, minutes ...time.Time) {
	t.Helper()
	if err := s.RollUp(ctx(t), minutes); err != nil {
		t.Fatalf("RollUp(%v): %v", minutes, err)
	}
}

func mustCounts(t *testing.T, s events.Store, q events.CountQuery) []events.MinuteCount {
	t.Helper()
	got, err := s.MinuteCounts(ctx(t), q)
	if err != nil {
		t.Fatalf("MinuteCounts(%+v): %v", q, err)
	}
	for _, c := range got {
		if c.Minute.Location() != time.UTC || !c.Minute.Equal(c.Minute.Truncate(time.Minute)) {
			t.Fatalf("count %+v: minute not a UTC minute start", c)
		}
	}
	return got
}

func showCounts(cs []events.MinuteCount) string {
	s := "["
	for _, c := range cs {
		s += fmt.Sprintf(" %s %s=%d", c.Minute.Format("15:04"), c.Name, c.Count)
	}
	return s + " ]"
}

func sameCounts(t *testing.T, what string, got, want []events.MinuteCount) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %s; want %s", what, showCounts(got), showCounts(want))
	}
	for i := range got {
		if !got[i].Minute.Equal(want[i].Minute) || got[i].Name != want[i].Name || got[i].Count != want[i].Count {
			t.Fatalf("%s = %s; want %s", what, showCounts(got), showCounts(want))
		}
	}
}

// layOut writes, per minute offset, events of the given names (a name
// repeated counts twice), spread over the minute including its edges.
func layOut(t *testing.T, s events.Store, perMinute map[int][]string) {
	t.Helper()
	var es []events.Event
	for m, names := range perMinute {
		for i, name := range names {
			// The first at the minute's start, the last at its final millisecond.
			off := time.Duration(i) * time.Second
			if i == len(names)-1 && i > 0 {
				off = time.Minute - time.Millisecond
			}
			es = append(es, events.Event{Name: name, CreatedAt: minute(m).Add(off)})
		}
	}
	mustCreateMany(t, s, es)
}

func testRollUpCounts(t *testing.T, s events.Store) {
	layOut(t, s, map[int][]string{
		0: {"b", "a", "b"},
		1: {"a"},
		3: {"c", "c", "a", "c"},
	})
	if got := mustCounts(t, s, events.CountQuery{}); len(got) != 0 {
		t.Fatalf("counts before any roll-up = %s; want none: counts are not read from events", showCounts(got))
	}
	// A time anywhere in a minute stands for it; minutes without events
	// (2) keep nothing.
	mustRollUp(t, s, minute(0).Add(30*time.Second), minute(1), minute(2), minute(3).Add(time.Minute-time.Millisecond))
	want := []events.MinuteCount{
		{Minute: minute(0), Name: "a", Count: 1},
		{Minute: minute(0), Name: "b", Count: 2},
		{Minute: minute(1), Name: "a", Count: 1},
		{Minute: minute(3), Name: "a", Count: 1},
		{Minute: minute(3), Name: "c", Count: 3},
	}
	sameCounts(t, "counts", mustCounts(t, s, events.CountQuery{}), want)
	// They agree with counting the events.
	for m := range 4 {
		var sum int64
		for _, c := range want {
			if c.Minute.Equal(minute(m)) {
				sum += c.Count
			}
		}
		if n := mustCount(t, s, minute(m), minute(m+1)); n != sum {
			t.Fatalf("minute %d: %d events, counts say %d", m, n, sum)
		}
	}
}

func testRollUpIdempotent(t *testing.T, s events.Store) {
	layOut(t, s, map[int][]string{0: {"a", "b"}, 1: {"a"}})
	mustRollUp(t, s, minute(0), minute(1))
	first := mustCounts(t, s, events.CountQuery{})
	mustRollUp(t, s, minute(1), minute(0), minute(0))
	mustRollUp(t, s, minute(0))
	sameCounts(t, "counts after recomputing", mustCounts(t, s, events.CountQuery{}), first)
}

// testRollUpReplaces changes a minute's events after its roll-up: late
// events, and a name's only event deleted. Recomputing replaces its counts
// and leaves other minutes alone.
func testRollUpReplaces(t *testing.T, s events.Store) {
	layOut(t, s, map[int][]string{0: {"a", "gone"}, 1: {"a"}})
	mustRollUp(t, s, minute(0), minute(1))
	page, err := s.List(ctx(t), events.ListQuery{Name: "gone"})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("List(gone) = %v, %v", page.Items, err)
	}
	if err := s.Delete(ctx(t), page.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	mustCreateMany(t, s, []events.Event{{Name: "late", CreatedAt: minute(0).Add(5 * time.Second)}, {Name: "a", CreatedAt: minute(0)}})
	// A later event of minute 1 stays out of its counts until it is recomputed.
	mustCreate(t, s, events.Event{Name: "a", CreatedAt: minute(1).Add(time.Second)})
	mustRollUp(t, s, minute(0))
	sameCounts(t, "counts", mustCounts(t, s, events.CountQuery{}), []events.MinuteCount{
		{Minute: minute(0), Name: "a", Count: 2},
		{Minute: minute(0), Name: "late", Count: 1},
		{Minute: minute(1), Name: "a", Count: 1},
	})
	// Every event of a minute deleted: recomputing leaves the minute empty.
	for _, e := range listAll(t, s, events.ListQuery{From: minute(0), To: minute(1)}) {
		if err := s.Delete(ctx(t), e.ID); err != nil {
			t.Fatal(err)
		}
	}
	mustRollUp(t, s, minute(0), minute(1))
	sameCounts(t, "counts", mustCounts(t, s, events.CountQuery{}), []events.MinuteCount{{Minute: minute(1), Name: "a", Count: 2}})
}

// testRollUpConcurrent recomputes the same minutes from several writers at
// once, as the minute's job and an import may: the counts end right.
func testRollUpConcurrent(t *testing.T, s events.Store) {
	names := []string{"a", "b", "c", "d"}
	layOut(t, s, map[int][]string{0: names, 1: names, 2: names})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { errs[i] = s.RollUp(ctx(t), []time.Time{minute(i % 3), minute((i + 1) % 3), minute(2)}) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent RollUp: %v", err)
		}
	}
	got := mustCounts(t, s, events.CountQuery{})
	if len(got) != 12 {
		t.Fatalf("counts = %s; want 12, one per minute and name", showCounts(got))
	}
	for _, c := range got {
		if c.Count != 1 {
			t.Fatalf("counts = %s; want 1 each", showCounts(got))
		}
	}
}

func testMinuteCountsFilters(t *testing.T, s events.Store) {
	layOut(t, s, map[int][]string{0: {"a", "b"}, 1: {"a", "b"}, 2: {"a", "b"}, 60 * 24: {"a"}})
	mustRollUp(t, s, minute(0), minute(1), minute(2), minute(60*24))
	all := mustCounts(t, s, events.CountQuery{})
	if len(all) != 7 {
		t.Fatalf("counts = %s; want 7", showCounts(all))
	}
	pick := func(keep func(c events.MinuteCount) bool) []events.MinuteCount {
		return slices.DeleteFunc(slices.Clone(all), func(c events.MinuteCount) bool { return !keep(c) })
	}
	for _, tc := range []struct {
		q    events.CountQuery
		keep func(c events.MinuteCount) bool
	}{
		{events.CountQuery{Name: "a"}, func(c events.MinuteCount) bool { return c.Name == "a" }},
		{events.CountQuery{Name: "zzz"}, func(events.MinuteCount) bool { return false }},
		{events.CountQuery{From: minute(1)}, func(c events.MinuteCount) bool { return !c.Minute.Before(minute(1)) }},
		// A bound inside a minute: From keeps minutes that start at or after it.
		{events.CountQuery{From: minute(0).Add(time.Second)}, func(c events.MinuteCount) bool { return !c.Minute.Before(minute(1)) }},
		{events.CountQuery{To: minute(2)}, func(c events.MinuteCount) bool { return c.Minute.Before(minute(2)) }},
		{events.CountQuery{From: minute(1), To: minute(2), Name: "b"}, func(c events.MinuteCount) bool {
			return c.Minute.Equal(minute(1)) && c.Name == "b"
		}},
		{events.CountQuery{Limit: 3}, func(c events.MinuteCount) bool {
			return c.Minute.Before(minute(1)) || (c.Minute.Equal(minute(1)) && c.Name == "a")
		}},
	} {
		sameCounts(t, fmt.Sprintf("MinuteCounts(%+v)", tc.q), mustCounts(t, s, tc.q), pick(tc.keep))
	}
	for _, limit := range []int{-1, events.MaxCounts + 1} {
		_, err := s.MinuteCounts(ctx(t), events.CountQuery{Limit: limit})
		wantErr(t, fmt.Sprintf("MinuteCounts(limit %d)", limit), err, events.ErrTooManyCounts)
	}
}
