package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/jackc/pgx/v5"
)

// TestE2EPostgresRuns runs the pipeline benchmark into the PostgreSQL store
// and checks that the run's schema is dropped afterwards.
func TestE2EPostgresRuns(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	r := redistest.Start(t)
	ctx := context.Background()
	schema := fmt.Sprintf("eventsd_bench_test_%d", time.Now().UnixNano())
	st, cleanup, err := tempPostgres(ctx, dbURL, schema)
	if err != nil {
		t.Fatal(err)
	}
	res, err := E2E(ctx, r.Client, st, E2EOptions{Jobs: 200, Concurrency: 10, Steady: 200 * time.Millisecond, Store: "postgres"})
	if err != nil {
		cleanup()
		t.Fatal(err)
	}
	if out, _ := json.Marshal(res); !res.Verified || res.EventsFound != int64(res.JobsAdded) || res.JobsAdded <= 200 {
		t.Fatalf("check failed: %s", out)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, withoutSearchPath(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("schema %s: %d left, %v; want it dropped", schema, n, err)
	}
}

func withoutSearchPath(raw string) string {
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}
