package bench

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/api"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// apiServer serves the real API over a real SQLite store and queue.
func apiServer(t *testing.T, cfg api.Config) (*httptest.Server, events.Store) {
	t.Helper()
	r := redistest.Start(t)
	st, cleanup, err := TempSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup() })
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	srv := httptest.NewServer(api.New(st, q, events.NewProducer(q, events.ProducerConfig{}), cfg))
	t.Cleanup(srv.Close)
	return srv, st
}

// TestHTTPRuns drives the real API briefly and checks what was counted: no
// errors, every created event read back, and all of them deleted afterwards.
func TestHTTPRuns(t *testing.T) {
	t.Parallel()
	srv, st := apiServer(t, api.Config{Token: "s3cret"})
	res, err := HTTP(context.Background(), HTTPOptions{
		URL: srv.URL + "/", Concurrency: 4, Duration: 300 * time.Millisecond, Token: "s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	t.Logf("%s", out)
	if res.Errors != 0 || len(res.ErrorsByStatus) != 0 {
		t.Fatalf("errors: %s", out)
	}
	if res.Create.Requests == 0 || res.Get.Requests < res.Create.Requests-res.Concurrency ||
		res.Requests != res.Create.Requests+res.Get.Requests {
		t.Fatalf("requests do not add up: %s", out)
	}
	if res.DeletedEvents != res.Create.Requests || res.CleanupErrors != 0 {
		t.Fatalf("deleted %d of %d created events: %s", res.DeletedEvents, res.Create.Requests, out)
	}
	if n, err := st.Count(context.Background(), time.Time{}, time.Time{}); err != nil || n != 0 {
		t.Fatalf("%d events left in the store, %v", n, err)
	}
	if res.ReqPerSec <= 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
		t.Fatalf("implausible figures: %s", out)
	}
}

// TestHTTPCountsErrors checks that failures are counted by status, not
// measured as successes.
func TestHTTPCountsErrors(t *testing.T) {
	t.Parallel()
	srv, _ := apiServer(t, api.Config{Token: "s3cret"})
	// No token: every POST is a 401, and no GET follows.
	res, err := HTTP(context.Background(), HTTPOptions{URL: srv.URL, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors == 0 || res.ErrorsByStatus["401"] != res.Errors || res.Create.Requests != 0 || res.ReqPerSec != 0 {
		t.Fatalf("result %+v; want only 401 errors", res)
	}

	// A server that fails reads: POST succeeds, GET is a 500.
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/api/events/"+events.NewID())
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodGet:
			w.WriteHeader(http.StatusInternalServerError)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer flaky.Close()
	res, err = HTTP(context.Background(), HTTPOptions{URL: flaky.URL, Concurrency: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Create.Requests == 0 || res.Get.Requests != 0 || res.ErrorsByStatus["500"] != res.Errors || res.Errors == 0 {
		t.Fatalf("result %+v; want successful creates and only 500s on reads", res)
	}
}

func TestHTTPNoServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = HTTP(context.Background(), HTTPOptions{URL: "http://" + addr, Duration: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "no eventsd answers") {
		t.Fatalf("err = %v; want a clear refusal before any load", err)
	}
}

// BenchmarkHTTP drives an in-process API over a real SQLite store and queue,
// so that one CPU profile shows both the server's and the load generator's
// hot paths (eventsd bench http measures a separate eventsd process):
//
//	TEST_REDIS_URL=redis://127.0.0.1:6379/9 go test -run '^$' -bench HTTP -benchtime 1x -cpuprofile cpu.out ./internal/bench/
func BenchmarkHTTP(b *testing.B) {
	r := redistest.Start(b)
	st, cleanup, err := TempSQLite(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cleanup() })
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	srv := httptest.NewServer(api.New(st, q, events.NewProducer(q, events.ProducerConfig{}), api.Config{}))
	b.Cleanup(srv.Close)
	for range b.N {
		res, err := HTTP(context.Background(), HTTPOptions{URL: srv.URL, Concurrency: 50, Duration: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		out, _ := json.Marshal(res)
		b.Logf("%s", out)
		if res.Errors != 0 {
			b.Fatalf("errors: %s", out)
		}
		b.ReportMetric(res.ReqPerSec, "req/s")
		b.ReportMetric(res.P50Ms, "p50-ms")
		b.ReportMetric(res.P99Ms, "p99-ms")
	}
}
