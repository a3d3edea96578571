package store_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

func TestPrepare(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
	for _, tc := range []struct {
		name    string
		in      events.Event
		wantErr error
		check   func(t *testing.T, e events.Event)
	}{
		{name: "empty name", in: events.Event{}, wantErr: events.ErrEmptyName},
		{name: "bad id", in: events.Event{Name: "n", ID: "xyz"}, wantErr: events.ErrInvalidID},
		{name: "generated id and time", in: events.Event{Name: "n"}, check: func(t *testing.T, e events.Event) {
			if !events.ValidID(e.ID) || e.CreatedAt.IsZero() || e.CreatedAt.Location() != time.UTC || e.CreatedAt.Nanosecond()%1e6 != 0 {
				t.Errorf("got %+v; want a fresh id and now in UTC ms", e)
			}
		}},
		{name: "bad data", in: events.Event{Name: "n", Data: json.RawMessage(`[1]`)}, wantErr: events.ErrInvalidData},
		{name: "kept and normalized", in: events.Event{Name: "n", ID: "0123456789ABCDEF01234567", CreatedAt: at, JobID: "j", Data: json.RawMessage(` { "a" : 1 } `)}, check: func(t *testing.T, e events.Event) {
			want := events.Event{Name: "n", ID: "0123456789abcdef01234567", CreatedAt: time.Date(2024, 5, 6, 6, 8, 9, 123000000, time.UTC), JobID: "j", Data: json.RawMessage(`{"a":1}`)}
			if !reflect.DeepEqual(e, want) {
				t.Errorf("got %+v; want %+v", e, want)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := store.Prepare(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

func TestPrepareBatch(t *testing.T) {
	t.Parallel()
	b, err := store.PrepareBatch([]events.Event{
		{Name: "a", JobID: "j1"},
		{Name: "b"},
		{Name: "c", JobID: "j1"},
		{Name: "d", JobID: "j2"},
		{Name: "e", JobID: "j2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Unique) != 3 {
		t.Fatalf("Unique has %d events; want 3", len(b.Unique))
	}
	want := []int{0, 1, 0, 2, 2}
	for i, j := range b.Source {
		if j != want[i] {
			t.Fatalf("Source = %v; want %v", b.Source, want)
		}
	}
	got := b.Answer(b.Unique)
	if !reflect.DeepEqual(got[2], got[0]) || !reflect.DeepEqual(got[4], got[3]) || got[1].Name != "b" {
		t.Fatalf("Answer = %+v", got)
	}

	if _, err := store.PrepareBatch([]events.Event{{Name: "a"}, {}}); !errors.Is(err, events.ErrEmptyName) {
		t.Errorf("batch with an empty name: err = %v; want ErrEmptyName", err)
	}
	id := events.NewID()
	if _, err := store.PrepareBatch([]events.Event{{Name: "a", ID: id}, {Name: "b", ID: id}}); !errors.Is(err, events.ErrDuplicateID) {
		t.Errorf("batch naming one id twice: err = %v; want ErrDuplicateID", err)
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit, want int
		wantErr     error
	}{
		{0, events.DefaultLimit, nil},
		{1, 1, nil},
		{events.MaxLimit, events.MaxLimit, nil},
		{-1, 0, events.ErrInvalidLimit},
		{events.MaxLimit + 1, 0, events.ErrInvalidLimit},
	} {
		q, err := store.Query(events.ListQuery{Limit: tc.limit})
		if !errors.Is(err, tc.wantErr) || (err == nil && q.Limit != tc.want) {
			t.Errorf("Query(Limit %d) = %d, %v; want %d, %v", tc.limit, q.Limit, err, tc.want, tc.wantErr)
		}
	}
	if _, err := store.Query(events.ListQuery{After: events.Cursor{ID: "nope"}}); !errors.Is(err, events.ErrInvalidCursor) {
		t.Errorf("bad cursor id: err = %v; want ErrInvalidCursor", err)
	}
	q, err := store.Query(events.ListQuery{After: events.Cursor{CreatedAt: time.UnixMilli(5), ID: "ABCDEF0123456789ABCDEF01"}})
	if err != nil || q.After.ID != "abcdef0123456789abcdef01" {
		t.Errorf("cursor id = %q, %v; want it lowercased", q.After.ID, err)
	}
}

func TestQueryKeepsTighterUpperBound(t *testing.T) {
	t.Parallel()
	at := func(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
	id := events.NewID()
	for _, tc := range []struct {
		after     events.Cursor
		to        time.Time
		wantAfter events.Cursor
		wantTo    time.Time
	}{
		{events.Cursor{CreatedAt: at(5), ID: id}, at(10), events.Cursor{CreatedAt: at(5), ID: id}, time.Time{}},
		{events.Cursor{CreatedAt: at(10), ID: id}, at(10), events.Cursor{}, at(10)},
		{events.Cursor{CreatedAt: at(15), ID: id}, at(10), events.Cursor{}, at(10)},
		{events.Cursor{}, at(10), events.Cursor{}, at(10)},
		{events.Cursor{CreatedAt: at(5), ID: id}, time.Time{}, events.Cursor{CreatedAt: at(5), ID: id}, time.Time{}},
	} {
		q, err := store.Query(events.ListQuery{After: tc.after, To: tc.to})
		if err != nil || q.After != tc.wantAfter || !q.To.Equal(tc.wantTo) {
			t.Errorf("Query(After %v, To %v) = After %v, To %v, %v; want After %v, To %v", tc.after, tc.to, q.After, q.To, err, tc.wantAfter, tc.wantTo)
		}
	}
}

func TestCeilMilli(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want time.Time }{
		{time.Time{}, time.Time{}},
		{time.Unix(0, 0), time.Unix(0, 0).UTC()},
		{time.Unix(0, 1), time.UnixMilli(1).UTC()},
		{time.Unix(0, 999_999), time.UnixMilli(1).UTC()},
		{time.Unix(0, 1_000_000), time.UnixMilli(1).UTC()},
		{time.Unix(-1, 500_000), time.UnixMilli(-999).UTC()},
	} {
		if got := store.CeilMilli(tc.in); !got.Equal(tc.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("CeilMilli(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	rows := []events.Event{{ID: "3", CreatedAt: time.UnixMilli(3)}, {ID: "2", CreatedAt: time.UnixMilli(2)}, {ID: "1", CreatedAt: time.UnixMilli(1)}}
	if p := store.Page(rows[:2], 2); len(p.Items) != 2 || !p.Next.IsZero() {
		t.Errorf("page of exactly limit rows: %+v; want 2 items, no next", p)
	}
	if p := store.Page(rows, 2); len(p.Items) != 2 || p.Next.ID != "2" || !p.Next.CreatedAt.Equal(time.UnixMilli(2)) {
		t.Errorf("page with an extra row: %+v; want 2 items, next after 2", p)
	}
	if p := store.Page(nil, 2); p.Items == nil || len(p.Items) != 0 {
		t.Errorf("empty page: Items = %#v; want a non-nil empty slice", p.Items)
	}
}
