package main

import (
	"bytes"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/api"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/queue"
)

// TestFuzzFindsNothing runs a short fuzz against the API in this process,
// over a real SQLite store and a real queue (TEST_REDIS_URL, else
// miniredis): without tokens and with them. CI also runs the fuzz longer
// against the eventsd binary (scripts/check-api.sh).
func TestFuzzFindsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tokens tokens
	}{
		{"open", tokens{}},
		{"tokens", tokens{write: "w-token", read: "r-token", metrics: "m-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := redistest.Start(t)
			q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			a := api.New(st, q, events.NewProducer(q, events.ProducerConfig{}), api.Config{
				Token: tc.tokens.write, ReadToken: tc.tokens.read, MetricsToken: tc.tokens.metrics,
				AllowedOrigins: []string{"https://app.example.com"},
			})
			srv := httptest.NewServer(a)
			t.Cleanup(func() { a.CloseStreams(); srv.Close() })

			var out bytes.Buffer
			findings, err := run(t.Context(), options{url: srv.URL, n: 600, seed: 14, tokens: tc.tokens}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if findings > 0 {
				t.Fatalf("%d findings:\n%s", findings, out.String())
			}
			// A run that reached only a few operations would prove little.
			if n := strings.Count(out.String(), "\n  "); n < 20 {
				t.Fatalf("the report covers too little:\n%s", out.String())
			}
		})
	}
}
