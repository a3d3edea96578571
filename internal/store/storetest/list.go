package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func listTests() []test {
	return []test{
		{"ListEmpty", testListEmpty},
		{"ListNewestFirst", testListNewestFirst},
		{"ListTiesBrokenByID", testListTiesBrokenByID},
		{"ListPaginationWhileAdding", testListPaginationWhileAdding},
		{"ListFilterByName", testListFilterByName},
		{"ListFilterByTime", testListFilterByTime},
		{"ListLimits", testListLimits},
		{"ListInvalidCursor", testListInvalidCursor},
	}
}

func testListEmpty(t *testing.T, s events.Store) {
	p, err := s.List(ctx(t), events.ListQuery{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if p.Items == nil || len(p.Items) != 0 || !p.Next.IsZero() {
		t.Fatalf("List on an empty store = %+v; want an empty, non-nil page and no next cursor", p)
	}
}

func testListNewestFirst(t *testing.T, s events.Store) {
	var in []events.Event
	for _, i := range rand.Perm(40) {
		in = append(in, events.Event{Name: fmt.Sprintf("e%02d", i), CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	created := mustCreateMany(t, s, in)
	p, err := s.List(ctx(t), events.ListQuery{Limit: 100})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(p.Items) != 40 || !p.Next.IsZero() {
		t.Fatalf("List(100) of 40 events: %d items, next %v; want 40 and no next", len(p.Items), p.Next)
	}
	checkNewestFirst(t, p.Items)
	if p.Items[0].Name != "e39" || p.Items[39].Name != "e00" {
		t.Fatalf("List starts with %s and ends with %s; want e39 then down to e00", show(p.Items[0]), show(p.Items[39]))
	}
	byID := make(map[string]events.Event)
	for _, e := range created {
		byID[e.ID] = e
	}
	for _, e := range p.Items {
		sameEvent(t, "listed event", e, byID[e.ID])
	}
}

func testListTiesBrokenByID(t *testing.T, s events.Store) {
	// Ids in the order written are not the listing order: explicit random ids.
	var in []events.Event
	for i := range 25 {
		in = append(in, events.Event{ID: randomID(), Name: fmt.Sprintf("tie %d", i), CreatedAt: base})
	}
	in = append(in, events.Event{Name: "newer", CreatedAt: base.Add(time.Millisecond)}, events.Event{Name: "older", CreatedAt: base.Add(-time.Millisecond)})
	mustCreateMany(t, s, in)
	for _, limit := range []int{1, 4, 25, 100} {
		all := listAll(t, s, events.ListQuery{Limit: limit})
		if len(all) != len(in) {
			t.Fatalf("limit %d: listed %d events; want %d", limit, len(all), len(in))
		}
		checkNewestFirst(t, all)
		if all[0].Name != "newer" || all[len(all)-1].Name != "older" {
			t.Fatalf("limit %d: first %s, last %s; want newer first and older last", limit, show(all[0]), show(all[len(all)-1]))
		}
	}
}

// testListPaginationWhileAdding pages through events while writers add more,
// both newer than everything and inside the range being paged: the listing
// must stay strictly newest first (no event twice) and hold every event that
// existed when it began (no gaps).
func testListPaginationWhileAdding(t *testing.T, s events.Store) {
	const seeded = 300
	var in []events.Event
	for i := range seeded {
		// Three events per millisecond, so that pages end inside ties.
		in = append(in, events.Event{Name: "seed", CreatedAt: base.Add(time.Duration(i/3) * time.Millisecond)})
	}
	var want []string
	for chunk := range slices.Chunk(in, 100) {
		want = append(want, ids(mustCreateMany(t, s, chunk))...)
	}

	// Each writer writes once per page fetched, while the next page is
	// being read: concurrent, yet bounded, so that paging a slow store
	// (FerretDB sorts every page in memory) still ends.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added atomic.Int64
	var writeErr atomic.Value
	turns := make([]chan struct{}, 3)
	for w := range turns {
		turns[w] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-turns[w]:
				}
				var err error
				switch w {
				case 0: // newer than all, through Create
					_, err = s.Create(ctx(t), events.Event{Name: "live"})
				case 1: // inside the seeded range, ahead of and behind the cursor
					at := base.Add(time.Duration(rand.IntN(seeded/3)) * time.Millisecond)
					_, err = s.Create(ctx(t), events.Event{Name: "backfill", CreatedAt: at})
				default: // batches from a worker
					_, err = s.CreateMany(ctx(t), []events.Event{{Name: "batch", JobID: fmt.Sprintf("job-%d-a", i)}, {Name: "batch", JobID: fmt.Sprintf("job-%d-b", i)}})
				}
				if err != nil {
					writeErr.Store(err)
					return
				}
				added.Add(1)
			}
		}()
	}

	var all []events.Event
	q := events.ListQuery{Limit: 7}
	pages := 0
	for {
		for _, turn := range turns {
			select {
			case turn <- struct{}{}:
			default: // that writer is still busy with its last turn
			}
		}
		p, err := s.List(ctx(t), q)
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("List page %d: %v", pages, err)
		}
		pages++
		all = append(all, p.Items...)
		if p.Next.IsZero() {
			break
		}
		q.After = p.Next
	}
	close(stop)
	wg.Wait()
	if err, ok := writeErr.Load().(error); ok {
		t.Fatalf("concurrent writer: %v", err)
	}
	if added.Load() == 0 {
		t.Fatal("no event was added while paging; the test proved nothing")
	}
	checkNewestFirst(t, all)
	seen := make(map[string]bool, len(all))
	for _, e := range all {
		seen[e.ID] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("event %s, stored before paging began, is missing from the %d pages", id, pages)
		}
	}
	if pages < seeded/7 {
		t.Fatalf("paged %d times; want at least %d", pages, seeded/7)
	}
}

func testListFilterByName(t *testing.T, s events.Store) {
	var in []events.Event
	for i := range 30 {
		name := []string{"alpha", "beta", "Alpha"}[i%3]
		in = append(in, events.Event{Name: name, CreatedAt: base.Add(time.Duration(i) * time.Minute)})
	}
	mustCreateMany(t, s, in)
	got := listAll(t, s, events.ListQuery{Name: "alpha", Limit: 3})
	if len(got) != 10 {
		t.Fatalf("Name alpha: %d events; want 10 (names match exactly, case included)", len(got))
	}
	checkNewestFirst(t, got)
	for _, e := range got {
		if e.Name != "alpha" {
			t.Fatalf("Name alpha listed %s", show(e))
		}
	}
	if got := listAll(t, s, events.ListQuery{Name: "alph"}); len(got) != 0 {
		t.Fatalf("Name alph (a prefix) listed %d events; want 0", len(got))
	}
	if got := listAll(t, s, events.ListQuery{Name: "alpha%"}); len(got) != 0 {
		t.Fatalf("Name alpha%% listed %d events; want 0: no pattern matching", len(got))
	}
	// Name and time together: beta in [10m, 20m).
	got = listAll(t, s, events.ListQuery{Name: "beta", From: base.Add(10 * time.Minute), To: base.Add(20 * time.Minute), Limit: 2})
	var mins []int
	for _, e := range got {
		mins = append(mins, int(e.CreatedAt.Sub(base)/time.Minute))
	}
	if !slices.Equal(mins, []int{19, 16, 13, 10}) {
		t.Fatalf("beta in [10m, 20m): listed minutes %v; want [19 16 13 10]", mins)
	}
}

func testListFilterByTime(t *testing.T, s events.Store) {
	var in []events.Event
	for i := range 30 {
		in = append(in, events.Event{Name: "tick", CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	mustCreateMany(t, s, in)
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []int // seconds of the events listed, newest first
	}{
		{"from inclusive, to exclusive", at(10), at(15), []int{14, 13, 12, 11, 10}},
		{"open start", time.Time{}, at(3), []int{2, 1, 0}},
		{"open end", at(27), time.Time{}, []int{29, 28, 27}},
		{"a bound inside a millisecond rounds up", at(10).Add(time.Nanosecond), at(12).Add(-time.Nanosecond), []int{11}},
		{"bounds in another zone", at(5).In(time.FixedZone("X", -7*3600)), at(7).In(time.FixedZone("Y", 3*3600)), []int{6, 5}},
		{"empty range", at(10), at(10), nil},
		{"reversed range", at(20), at(10), nil},
		{"all before", time.Time{}, base, nil},
	} {
		got := listAll(t, s, events.ListQuery{From: tc.from, To: tc.to, Limit: 2})
		var secs []int
		for _, e := range got {
			secs = append(secs, int(e.CreatedAt.Sub(base)/time.Second))
		}
		if !slices.Equal(secs, tc.want) {
			t.Fatalf("%s: listed seconds %v; want %v", tc.name, secs, tc.want)
		}
		if n := mustCount(t, s, tc.from, tc.to); n != int64(len(tc.want)) {
			t.Fatalf("%s: Count = %d; want %d, as listed", tc.name, n, len(tc.want))
		}
	}
}

func testListLimits(t *testing.T, s events.Store) {
	var in []events.Event
	for i := range events.DefaultLimit + 5 {
		in = append(in, events.Event{Name: "n", CreatedAt: base.Add(time.Duration(i) * time.Millisecond)})
	}
	mustCreateMany(t, s, in)
	total := len(in)

	p, err := s.List(ctx(t), events.ListQuery{})
	if err != nil {
		t.Fatalf("List(limit 0): %v", err)
	}
	if len(p.Items) != events.DefaultLimit || p.Next.IsZero() {
		t.Fatalf("limit 0: %d items, next %v; want %d and a next cursor", len(p.Items), p.Next, events.DefaultLimit)
	}
	// The cursor travels as text between requests.
	after, err := events.ParseCursor(p.Next.String())
	if err != nil {
		t.Fatalf("ParseCursor(Next.String()): %v", err)
	}
	p2, err := s.List(ctx(t), events.ListQuery{After: after})
	if err != nil {
		t.Fatalf("second page: %v", err)
	}
	if len(p2.Items) != total-events.DefaultLimit || !p2.Next.IsZero() {
		t.Fatalf("second page: %d items, next %v; want %d and no next", len(p2.Items), p2.Next, total-events.DefaultLimit)
	}
	checkNewestFirst(t, append(p.Items, p2.Items...))

	for _, tc := range []struct {
		limit, items int
		next         bool
	}{
		{1, 1, true},
		{total - 1, total - 1, true},
		{total, total, false}, // exactly the rest: no empty page after it
		{events.MaxLimit, total, false},
	} {
		p, err := s.List(ctx(t), events.ListQuery{Limit: tc.limit})
		if err != nil {
			t.Fatalf("limit %d: %v", tc.limit, err)
		}
		if len(p.Items) != tc.items || p.Next.IsZero() == tc.next {
			t.Fatalf("limit %d: %d items, next %v; want %d items, next %v", tc.limit, len(p.Items), p.Next, tc.items, tc.next)
		}
	}
	for _, bad := range []int{-1, events.MaxLimit + 1, 1 << 40} {
		_, err := s.List(ctx(t), events.ListQuery{Limit: bad})
		wantErr(t, fmt.Sprintf("limit %d", bad), err, events.ErrInvalidLimit)
	}
}

func testListInvalidCursor(t *testing.T, s events.Store) {
	e := mustCreate(t, s, events.Event{Name: "n"})
	for _, bad := range []string{"xyz", "0123456789abcdef0123456g", "' OR 1=1 --"} {
		_, err := s.List(ctx(t), events.ListQuery{After: events.Cursor{CreatedAt: base, ID: bad}})
		wantErr(t, fmt.Sprintf("cursor id %q", bad), err, events.ErrInvalidCursor)
	}
	for _, bad := range []string{"!!!", "bm9jb2xvbg", "MTIzOnh5eg"} {
		_, err := events.ParseCursor(bad)
		wantErr(t, fmt.Sprintf("ParseCursor(%q)", bad), err, events.ErrInvalidCursor)
	}
	// A well-formed cursor that names no stored event still works: it is a
	// position, not a reference.
	p, err := s.List(ctx(t), events.ListQuery{After: events.Cursor{CreatedAt: e.CreatedAt.Add(time.Millisecond), ID: events.NewID()}})
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != e.ID {
		t.Fatalf("List after a position past the only event = %+v, %v; want that event", p, err)
	}
}

func randomID() string {
	b := make([]byte, 12)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return fmt.Sprintf("%x", b)
}
