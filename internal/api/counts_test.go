package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func TestCounts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	m := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, name := range []string{"a", "b", "a", "a"} {
		if _, err := b.store.Create(ctx, events.Event{Name: name, CreatedAt: m.Add(time.Duration(i) * 25 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.store.RollUp(ctx, []time.Time{m, m.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	window := "?from=" + url.QueryEscape("2026-11-02T10:00:00+01:00") + "&to=2026-11-02T09:05:00Z"
	res := b.get(t, "/api/events/counts"+window)
	wantStatus(t, res, http.StatusOK)
	want := `{"items":[{"minute":"2026-11-02T09:00:00.000Z","name":"a","count":2},{"minute":"2026-11-02T09:00:00.000Z","name":"b","count":1},` +
		`{"minute":"2026-11-02T09:01:00.000Z","name":"a","count":1}]}`
	if string(res.body) != want+"\n" {
		t.Fatalf("counts = %s\nwant %s", res.body, want)
	}
	res = b.get(t, "/api/events/counts"+window+"&name=b")
	wantStatus(t, res, http.StatusOK)
	if items := res.json(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("counts of b = %s; want one", res.body)
	}
	// The default window is the last hour: nothing there.
	res = b.get(t, "/api/events/counts")
	wantStatus(t, res, http.StatusOK)
	if string(res.body) != `{"items":[]}`+"\n" {
		t.Fatalf("counts of the last hour = %s; want none", res.body)
	}

	// Deleting an event of a closed minute recounts it.
	page, err := b.store.List(ctx, events.ListQuery{Name: "b"})
	if err != nil || len(page.Items) != 1 {
		t.Fatal(page, err)
	}
	wantStatus(t, b.do(t, http.MethodDelete, "/api/events/"+page.Items[0].ID, nil), http.StatusNoContent)
	res = b.get(t, "/api/events/counts"+window+"&name=b")
	if string(res.body) != `{"items":[]}`+"\n" {
		t.Fatalf("counts of b after its event was deleted = %s; want none", res.body)
	}
}

func TestCountsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ query, location string }{
		{"from=2026-11-02T10:00:00Z&to=2026-11-02T09:00:00Z", "query.to"},
		{"from=2026-11-02T10:00:00Z&to=2026-11-02T10:00:00Z", "query.to"},
		{"from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "query.from"},
		{"from=yesterday", "query.from"},
		{"to=2026-11-02T10:00:00%2B25:00", "query.to"},
		{"nam=a", "query.nam"},
	} {
		p := wantProblem(t, b.get(t, "/api/events/counts?"+tc.query), http.StatusUnprocessableEntity)
		if s := fmt.Sprint(p["errors"]); !strings.Contains(s, tc.location) {
			t.Errorf("%s: errors %s; want one at %s", tc.query, s, tc.location)
		}
	}
}

// TestCountsTooMany fills a window with more counts than an answer holds.
func TestCountsTooMany(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	m := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var es []events.Event
	var minutes []time.Time
	for i := range maxCountItems/5 + 1 {
		at := m.Add(time.Duration(i) * time.Minute)
		minutes = append(minutes, at)
		for n := range 5 {
			es = append(es, events.Event{Name: fmt.Sprint("n", n), CreatedAt: at})
		}
	}
	if _, err := b.store.CreateMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	if err := b.store.RollUp(ctx, minutes); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, b.get(t, "/api/events/counts?from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z"), http.StatusUnprocessableEntity)
	res := b.get(t, "/api/events/counts?from=2026-11-02T00:00:00Z&to=2026-11-05T00:00:00Z&name=n1")
	wantStatus(t, res, http.StatusOK)
	if n := len(res.json(t)["items"].([]any)); n != maxCountItems/5+1 {
		t.Fatalf("counts of one name = %d; want %d", n, maxCountItems/5+1)
	}
}
