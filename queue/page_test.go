package queue

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// pageAll lists every job in state by cursor, limit at a time, calling
// between after each page but the last.
func pageAll(t *testing.T, q *Queue, state State, limit int, between func(page []*Job)) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 100 {
		p, err := q.ListPage(context.Background(), state, PageRequest{After: after, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range p.Jobs {
			ids = append(ids, j.ID)
		}
		if p.Next == "" {
			return ids
		}
		if between != nil {
			between(p.Jobs)
		}
		after = p.Next
	}
	t.Fatal("no last page after 100 pages")
	return nil
}

func ids(jobs []*Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func listPagesByCursor(t *testing.T, b *bundle) {
	ctx := context.Background()
	// Added in bulk: one millisecond, so equal scores, ordered by id. A few
	// with a priority, which run after the rest.
	var add []NewJob
	for i := range 25 {
		add = append(add, NewJob{Name: "x", Options: JobOptions{Priority: i % 7 / 6 * 3}})
	}
	if _, err := b.q.AddBulk(ctx, add); err != nil {
		t.Fatal(err)
	}
	all, err := b.q.List(ctx, StateWaiting, 0, 100)
	if err != nil || len(all) != 25 {
		t.Fatalf("list: %d jobs, %v", len(all), err)
	}
	want := ids(all)
	if got := pageAll(t, b.q, StateWaiting, 10, nil); !slices.Equal(got, want) {
		t.Fatalf("by cursor:\n%v\nwant List's order\n%v", got, want)
	}

	// While paging, jobs before the cursor leave the state, the cursor's
	// own job among them: later pages start where they would have, where
	// offsets would skip as many jobs as left.
	got := pageAll(t, b.q, StateWaiting, 10, func(page []*Job) {
		for _, j := range page[len(page)-4:] {
			if err := b.q.Remove(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("by cursor while jobs leave:\n%v\nwant\n%v", got, want)
	}

	// Failed jobs, newest first, with the cursor's job retried away.
	var failed []string
	for range 7 {
		j := mustAdd(t, b.q, "f", nil, JobOptions{})
		if err := b.q.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		failed = append(failed, j.ID)
	}
	all, _ = b.q.List(ctx, StateFailed, 0, 100)
	want = ids(all)
	if len(want) != 7 {
		t.Fatalf("failed list: %v", want)
	}
	got = pageAll(t, b.q, StateFailed, 3, func(page []*Job) {
		if err := b.q.Retry(ctx, page[len(page)-1].ID); err != nil {
			t.Fatal(err)
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("failed by cursor while the cursor's job is retried:\n%v\nwant\n%v", got, want)
	}

	// Cursors are checked.
	first, err := b.q.ListPage(ctx, StateWaiting, PageRequest{Limit: 1})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	for _, tc := range []struct {
		state State
		req   PageRequest
		want  error
	}{
		{StateWaiting, PageRequest{After: "!!", Limit: 1}, ErrInvalidCursor},
		{StateWaiting, PageRequest{After: "d2FpdGluZy54LnkK", Limit: 1}, ErrInvalidCursor},
		{StateFailed, PageRequest{After: first.Next, Limit: 1}, ErrInvalidCursor},
		{StateWaiting, PageRequest{After: first.Next, Offset: 1, Limit: 1}, ErrInvalid},
		{StateWaiting, PageRequest{Limit: 0}, ErrInvalid},
		{State("nope"), PageRequest{Limit: 1}, ErrInvalid},
	} {
		if _, err := b.q.ListPage(ctx, tc.state, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("ListPage(%s, %+v): %v, want %v", tc.state, tc.req, err, tc.want)
		}
	}
	// The paused view continues a waiting listing: one set.
	if err := b.q.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := b.q.ListPage(ctx, StatePaused, PageRequest{After: first.Next, Limit: 100}); err != nil || len(p.Jobs) == 0 || p.Jobs[0].State != StatePaused {
		t.Fatalf("paused page after a waiting cursor: %d jobs, %v", len(p.Jobs), err)
	}
}
