package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

func openInternal(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestQueryPlans checks that every listing, count and retention query is
// answered from an index that gives the order: no full scan, no sort in a
// temporary b-tree. That is what keeps page 1,000 as fast as page 1.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s := openInternal(t)
	ctx := context.Background()
	// Some rows and statistics, as a store in use has.
	var es []events.Event
	for i := range 2000 {
		es = append(es, events.Event{Name: fmt.Sprintf("n%d", i%20), CreatedAt: time.UnixMilli(int64(i) * 1000)})
	}
	if _, err := s.CreateMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}

	after := events.Cursor{CreatedAt: time.UnixMilli(500_000), ID: events.NewID()}
	type plan struct {
		name, query string
		args        []any
		index       string
	}
	var plans []plan
	for _, q := range []struct {
		name  string
		q     events.ListQuery
		index string
	}{
		{"list", events.ListQuery{}, "events_listing"},
		{"list after cursor", events.ListQuery{After: after}, "events_listing"},
		{"list in range after cursor", events.ListQuery{After: after, From: time.UnixMilli(1000), To: time.UnixMilli(900_000)}, "events_listing"},
		{"list by name", events.ListQuery{Name: "n3"}, "events_by_name"},
		{"list by name after cursor", events.ListQuery{Name: "n3", After: after}, "events_by_name"},
		{"list by name in range", events.ListQuery{Name: "n3", From: time.UnixMilli(1000), To: time.UnixMilli(900_000)}, "events_by_name"},
	} {
		q.q, _ = store.Query(q.q)
		query, args := listQuery(q.q)
		plans = append(plans, plan{q.name, query, args, q.index})
	}
	plans = append(plans,
		plan{"count in range", "SELECT count(*) FROM events WHERE created_at >= ? AND created_at < ?", []any{1, 2}, "events_listing"},
		plan{"retention", "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE created_at < ? LIMIT ?)", []any{1, 2}, "events_listing"},
		plan{"get by job id", selectEvent + " WHERE job_id = ?", []any{"j"}, "events_by_job"},
	)
	for _, p := range plans {
		rows, err := s.reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+p.query, p.args...)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		var details []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			details = append(details, detail)
		}
		rows.Close()
		all := strings.Join(details, "; ")
		bareScan := strings.Contains(all, "SCAN events") && !strings.Contains(all, "SCAN events USING")
		if bareScan || strings.Contains(all, "TEMP B-TREE") || !strings.Contains(all, "INDEX "+p.index) {
			t.Errorf("%s: plan %q; want %s walked in order, no table scan, no sort", p.name, all, p.index)
		}
		t.Logf("%s: %s", p.name, all)
	}
}

func TestDeleteOlderThanInChunks(t *testing.T) {
	t.Parallel()
	s := openInternal(t)
	s.deleteChunk = 7
	ctx := context.Background()
	var es []events.Event
	for i := range 100 {
		es = append(es, events.Event{Name: "n", CreatedAt: time.UnixMilli(int64(i))})
	}
	if _, err := s.CreateMany(ctx, es); err != nil {
		t.Fatal(err)
	}
	// 70 events, a multiple of the chunk, then 1 more: both loop endings.
	for _, tc := range []struct{ cut, want int64 }{{70, 70}, {71, 1}, {71, 0}} {
		n, err := s.DeleteOlderThan(ctx, time.UnixMilli(tc.cut))
		if err != nil || n != tc.want {
			t.Fatalf("DeleteOlderThan(%d) = %d, %v; want %d", tc.cut, n, err, tc.want)
		}
	}
	if n, _ := s.Count(ctx, time.Time{}, time.Time{}); n != 29 {
		t.Fatalf("Count = %d; want 29", n)
	}
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	s := openInternal(t)
	var v int
	if err := s.reader.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations))
	}
	var mode string
	if err := s.reader.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	// Migrating again does nothing.
	if err := migrate(context.Background(), s.writer); err != nil {
		t.Fatalf("migrate of a current file: %v", err)
	}
	// The read pool cannot write, even by mistake.
	if _, err := s.reader.Exec("DELETE FROM events"); err == nil {
		t.Fatal("a write through the read pool succeeded")
	}
}

// row is a statement with its arguments.
type row struct {
	sql  string
	args []any
}

// fileAt writes a file at schema version v, as that release left it, holding
// rows, and returns its path.
func fileAt(t *testing.T, v int, rows ...row) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range append(migrations[:v:v], fmt.Sprintf("PRAGMA user_version = %d", v)) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rows {
		if _, err := db.Exec(r.sql, r.args...); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// openMigrated opens the file at path and checks that Open brought it to
// the latest schema version.
func openMigrated(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open of an older file: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	var v int
	if err := s.reader.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations))
	}
	return s
}

// TestMigrateFromVersion1 opens a file written before events had data, as
// the first release left it: Open adds the column in place, the old events
// read back unchanged, without data, and new events carry data.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := events.Event{ID: events.NewID(), Name: "from version 1", CreatedAt: time.UnixMilli(1_700_000_000_123).UTC(), JobID: "job-old"}
	s := openMigrated(t, fileAt(t, 1, row{"INSERT INTO events (id, name, created_at, job_id) VALUES (?, ?, ?, ?)",
		[]any{old.ID, old.Name, old.CreatedAt.UnixMilli(), old.JobID}}))
	got, err := s.Get(ctx, old.ID)
	if err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("old event read as %+v, %v; want %+v", got, err, old)
	}
	again, err := s.Create(ctx, events.Event{Name: "redelivered", JobID: "job-old", Data: json.RawMessage(`{"a":1}`)})
	if err != nil || again.ID != old.ID || again.Data != nil {
		t.Fatalf("write for the old event's job = %+v, %v; want the old event", again, err)
	}
	e, err := s.Create(ctx, events.Event{Name: "new", Data: json.RawMessage(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, e.ID); err != nil || string(got.Data) != `{"a":1}` {
		t.Fatalf("new event read as %+v, %v; want data {\"a\":1}", got, err)
	}
	// The column refuses what is not an object, even from other writers.
	if _, err := s.writer.Exec("INSERT INTO events (id, name, created_at, data) VALUES (?, 'x', 0, '[1]')", events.NewID()); err == nil {
		t.Fatal("the data column took a JSON array")
	}
}

// TestMigrateFromVersion4 opens a file written before delivery attempts
// named their job, with an attempt in it: Open adds the columns in place,
// the old attempt reads back without a job, and recording it again (its job
// run twice) fills them in.
func TestMigrateFromVersion4(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hook, attempt, event := events.NewID(), events.NewID(), events.NewID()
	s := openMigrated(t, fileAt(t, 4,
		row{`INSERT INTO webhooks (id, url, events, description, secret, enabled, disabled_reason,
			created_at) VALUES (?, 'https://example.com/', '["*"]', '', 'whsec_c2VjcmV0', 1, '', 0)`, []any{hook}},
		row{`INSERT INTO webhook_attempts (id, webhook_id, delivery_id, event_id, event_name, attempt,
			outcome, status_code, duration_ms, error, response, created_at)
			VALUES (?, ?, 'msg_old', ?, 'user.created', 1, 'delivered', 200, 12, '', 'ok', 1700000000123)`,
			[]any{attempt, hook, event}}))
	p, err := s.ListDeliveryAttempts(ctx, events.DeliveryQuery{WebhookID: hook})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("attempts after the migration: %+v, %v; want the old one", p.Items, err)
	}
	old := p.Items[0]
	if old.ID != attempt || old.EventID != event || old.StatusCode != 200 || old.Response != "ok" ||
		old.JobID != "" || old.JobQueue != "" {
		t.Fatalf("old attempt read as %+v; want it unchanged, without a job", old)
	}
	old.JobID, old.JobQueue = "webhook-job", "webhooks"
	again, err := s.AddDeliveryAttempt(ctx, old)
	if err != nil || again.ID != attempt || again.JobID != "webhook-job" || again.JobQueue != "webhooks" {
		t.Fatalf("old attempt recorded again = %+v, %v; want its id with the job", again, err)
	}
}
