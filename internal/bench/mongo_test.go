package bench

import (
	"context"
	"encoding/json"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/redistest"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestE2EMongoRuns runs the pipeline benchmark into the MongoDB store, on
// an in-process FerretDB (or TEST_MONGODB_URI), and checks that the run's
// database is dropped afterwards.
func TestE2EMongoRuns(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	uri := ferrettest.URI(t)
	ctx := context.Background()
	st, cleanup, err := TempMongo(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	res, err := E2E(ctx, r.Client, st, E2EOptions{Jobs: 200, Concurrency: 10, Steady: 200 * time.Millisecond, Store: "mongodb"})
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
	c, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	names, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(names, st.Database()) {
		t.Fatalf("database %s was not dropped: %v", st.Database(), names)
	}
}

var (
	e2eJobs        = flag.Int("e2e.jobs", 100_000, "BenchmarkE2E/sqlite: jobs per run")
	e2eFerretJobs  = flag.Int("e2e.ferretjobs", 5_000, "BenchmarkE2E/ferretdb: jobs per run")
	e2eConcurrency = flag.Int("e2e.concurrency", 100, "BenchmarkE2E: worker concurrency")
)

// BenchmarkE2E runs the e2e benchmark on the SQLite store, on the MongoDB
// store served by an in-process FerretDB, which eventsd bench cannot start
// itself, and, with TEST_DATABASE_URL, on the PostgreSQL store. FerretDB
// bounds the second figure: it sorts in memory and its SQLite backend scans
// the table for _id lookups, so it is not a MongoDB figure. Against the
// local Redis:
//
//	TEST_REDIS_URL=redis://127.0.0.1:6379/9 go test -run '^$' -bench E2E -benchtime 1x ./internal/bench/
func BenchmarkE2E(b *testing.B) {
	ctx := context.Background()
	for _, s := range []struct {
		name string
		jobs int
		open func(b *testing.B) (events.Store, func() error, error)
	}{
		{"sqlite", *e2eJobs, func(b *testing.B) (events.Store, func() error, error) {
			return TempSQLite(ctx, b.TempDir())
		}},
		{"mongodb (FerretDB v1, SQLite backend)", *e2eFerretJobs, func(b *testing.B) (events.Store, func() error, error) {
			return TempMongo(ctx, ferrettest.Start(b).URI(""))
		}},
		{"postgres", *e2eJobs, func(b *testing.B) (events.Store, func() error, error) {
			return TempPostgres(ctx, pgtest.URL(b))
		}},
	} {
		b.Run("store="+strings.Fields(s.name)[0], func(b *testing.B) {
			r := redistest.Start(b)
			for range b.N {
				b.StopTimer()
				st, cleanup, err := s.open(b)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := E2E(ctx, r.Client, st, E2EOptions{Jobs: s.jobs, Concurrency: *e2eConcurrency, Store: s.name})
				b.StopTimer()
				cleanup()
				if err != nil {
					b.Fatal(err)
				}
				out, _ := json.Marshal(res)
				b.Logf("%s", out)
				if !res.Verified {
					b.Fatalf("check failed: %s", out)
				}
				b.ReportMetric(res.EventsPerSec, "events/s")
				b.ReportMetric(res.EventsPerWrite, "events/write")
				b.ReportMetric(res.E2ERatePerSec, "steady-jobs/s")
				b.ReportMetric(res.E2EP50Ms, "e2e-p50-ms")
				b.ReportMetric(res.E2EP99Ms, "e2e-p99-ms")
			}
		})
	}
}
