package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/store"
	"github.com/jackc/pgx/v5/pgxpool"
)

func openInternal(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestQueryPlans checks that every listing, count and retention query is
// answered from an index, with every bound, the cursor's included, as an
// index condition, and without a sort. That keeps page 1,000 as fast as page
// 1. The planner is told to avoid table scans and sorts, so that a plan with
// either means no index could serve the query.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s := openInternal(t, pgtest.URL(t))
	ctx := context.Background()
	after := events.Cursor{CreatedAt: time.UnixMilli(500_000), ID: events.NewID()}
	from, to := time.UnixMilli(1000), time.UnixMilli(900_000)
	type plan struct {
		name, query string
		args        []any
		index       string
		cond        []string // what the index condition must bound
	}
	var plans []plan
	for _, q := range []struct {
		name  string
		q     events.ListQuery
		index string
		cond  []string
	}{
		{"list", events.ListQuery{}, "events_listing", nil},
		{"list after cursor", events.ListQuery{After: after}, "events_listing", []string{"ROW(created_at, id) < ROW("}},
		{"list in range after cursor", events.ListQuery{After: after, From: from, To: to}, "events_listing", []string{"created_at >=", "ROW(created_at, id) < ROW("}},
		{"list by name", events.ListQuery{Name: "n3"}, "events_by_name", []string{"name ="}},
		{"list by name after cursor", events.ListQuery{Name: "n3", After: after}, "events_by_name", []string{"name =", "ROW(created_at, id) < ROW("}},
		{"list by name in range", events.ListQuery{Name: "n3", From: from, To: to}, "events_by_name", []string{"name =", "created_at >=", "created_at <"}},
	} {
		q.q, _ = store.Query(q.q)
		query, args := listQuery(q.q)
		plans = append(plans, plan{q.name, query, args, q.index, q.cond})
	}
	plans = append(plans,
		plan{"count in range", "SELECT count(*) FROM events WHERE created_at >= $1 AND created_at < $2", []any{from, to}, "events_listing", []string{"created_at >=", "created_at <"}},
		plan{"retention chunk", "SELECT id FROM events WHERE created_at < $1 LIMIT $2", []any{to, 10}, "events_listing", []string{"created_at <"}},
		plan{"get by job id", selectEvent + " WHERE job_id = $1", []any{"j"}, "events_by_job", []string{"job_id ="}},
	)
	for _, p := range plans {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []string{"enable_seqscan", "enable_sort", "enable_bitmapscan"} {
			if _, err := tx.Exec(ctx, "SET LOCAL "+set+" = off"); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := tx.Query(ctx, "EXPLAIN "+p.query, p.args...)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.TrimSpace(line))
		}
		tx.Rollback(ctx)
		all := strings.Join(lines, "; ")
		t.Logf("%s: %s", p.name, all)
		if strings.Contains(all, "Seq Scan") || strings.Contains(all, "Sort") || !strings.Contains(all, " using "+p.index+" ") {
			t.Errorf("%s: want %s walked in order, no table scan, no sort", p.name, p.index)
		}
		var cond string
		for _, l := range lines {
			if strings.HasPrefix(l, "Index Cond:") {
				cond = l
			}
		}
		for _, want := range p.cond {
			if !strings.Contains(cond, want) {
				t.Errorf("%s: index condition %q does not bound %q", p.name, cond, want)
			}
		}
	}
}

// TestMigrateConcurrently opens one schema from several stores at once, as
// processes starting together do: each step is applied once, and all open.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := Open(context.Background(), url, Config{})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Open: %v", err)
	}
	s := openInternal(t, url)
	var versions []int
	rows, err := s.pool.Query(context.Background(), "SELECT version FROM eventsd_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	if want := fmt.Sprint(seq(len(migrations))); fmt.Sprint(versions) != want {
		t.Fatalf("recorded versions %v; want %s, each once", versions, want)
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestOpenNewerSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := openInternal(t, url)
	if _, err := s.pool.Exec(context.Background(), "INSERT INTO eventsd_migrations (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), url, Config{})
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a schema from a newer release: err = %v; want a schema-version error", err)
	}
	t.Logf("Open of a schema from a newer release: %v", err)
}

func TestDeleteOlderThanInChunks(t *testing.T) {
	t.Parallel()
	s := openInternal(t, pgtest.URL(t))
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

// TestMigrateFromVersion3 opens a schema written before delivery attempts
// named their job, with an attempt in it: Open adds the columns in place,
// the old attempt reads back without a job, and recording it again (its job
// run twice) fills them in.
func TestMigrateFromVersion3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// As release 3 left it: its steps, recorded as migrate records them.
	if _, err := pool.Exec(ctx, `CREATE TABLE eventsd_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		t.Fatal(err)
	}
	for v, stmt := range migrations[:3] {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, "INSERT INTO eventsd_migrations (version) VALUES ($1)", v+1); err != nil {
			t.Fatal(err)
		}
	}
	hook, attempt, event := events.NewID(), events.NewID(), events.NewID()
	if _, err := pool.Exec(ctx, `INSERT INTO webhooks (id, url, events, description, secret, enabled, disabled_reason,
		created_at) VALUES ($1, 'https://example.com/', '{*}', '', 'whsec_c2VjcmV0', true, '', now())`, hook); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_attempts (id, webhook_id, delivery_id, event_id, event_name, attempt,
		outcome, status_code, duration_ms, error, response, created_at)
		VALUES ($1, $2, 'msg_old', $3, 'user.created', 1, 'delivered', 200, 12, '', 'ok', now())`,
		attempt, hook, event); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	s := openInternal(t, url)
	var v int
	if err := s.pool.QueryRow(ctx, "SELECT max(version) FROM eventsd_migrations").Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(migrations))
	}
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
