package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/api"
	"github.com/eventsd/eventsd/internal/bench"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// benchCmd runs `eventsd bench` in process with an empty environment plus
// env, and returns stdout and stderr.
func benchCmd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	err := run(context.Background(), append([]string{"bench"}, args...), getenv, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// benchJSON runs a bench with --json and decodes its one object.
func benchJSON(t *testing.T, env map[string]string, args ...string) map[string]any {
	t.Helper()
	out, errOut, err := benchCmd(t, env, append(args, "--json")...)
	if err != nil {
		t.Fatalf("eventsd bench %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errOut)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&m); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
	}
	return m
}

func wantFields(t *testing.T, m map[string]any, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := m[n]; !ok {
			t.Errorf("JSON lacks %q: %v", n, m)
		}
	}
}

func TestBenchQueue(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	m := benchJSON(t, map[string]string{"REDIS_URL": r.URL},
		"queue", "--jobs", "300", "--concurrency", "5", "--idle", "100ms", "--samples", "5", "--duration", "200ms")
	wantFields(t, m, "processPerSec", "pickupP50Ms", "pickupP99Ms", "idlePingP50Ms", "commandsPerJob", "idleCommandsPerSec",
		"cpuSeconds", "peakRssBytes", "addPerSec", "e2eP99Ms")
	if m["kind"] != "queue" || m["jobs"] != 300.0 || m["processPerSec"].(float64) <= 0 {
		t.Fatalf("result %v", m)
	}
}

func TestBenchQueueThroughputOnly(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	m := benchJSON(t, map[string]string{"REDIS_URL": r.URL}, "queue", "--throughput-only", "--jobs", "300", "--concurrency", "5")
	wantFields(t, m, "processPerSec", "addPerSec", "redisCallsPerJob", "cpuSeconds", "processCpuSeconds", "redisCpuSeconds")
	if m["throughputOnly"] != true || m["processPerSec"].(float64) <= 0 || m["pickupP50Ms"] != 0.0 {
		t.Fatalf("result %v", m)
	}
}

func TestBenchQueueEmbeddedText(t *testing.T) {
	t.Parallel()
	out, errOut, err := benchCmd(t, nil, "queue", "--embedded-redis",
		"--jobs", "200", "--concurrency", "5", "--idle", "100ms", "--samples", "5", "--duration", "100ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{"miniredis", "not a Redis server", "process", "jobs/s", "idle pickup"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Not a terminal: plain progress lines on stderr, none on stdout.
	if !strings.Contains(errOut, "bench: process 200/200 (100%)") || strings.Contains(errOut, "\r") || strings.Contains(out, "bench:") {
		t.Errorf("progress:\n%s", errOut)
	}
}

func TestBenchE2ESQLite(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	dir := t.TempDir()
	m := benchJSON(t, map[string]string{"REDIS_URL": r.URL},
		"e2e", "--store", "sqlite", "--data-dir", dir, "--jobs", "300", "--concurrency", "10", "--duration", "200ms")
	wantFields(t, m, "eventsPerSec", "e2eP50Ms", "e2eP99Ms", "cpuSeconds", "peakRssBytes")
	if m["verified"] != true || m["eventsFound"] != m["jobsAdded"] || m["jobsAdded"].(float64) <= 300 {
		t.Fatalf("check failed: %v", m)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the SQLite store was not removed: %d entries left in --data-dir", len(left))
	}
}

func TestBenchE2EEmbedded(t *testing.T) {
	t.Parallel()
	m := benchJSON(t, nil, "e2e", "--embedded-redis", "--store", "sqlite", "--jobs", "100", "--duration", "100ms")
	if m["verified"] != true || !strings.Contains(m["redis"].(string), "miniredis") {
		t.Fatalf("result %v", m)
	}
}

func TestBenchHTTP(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	st, cleanup, err := bench.TempSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup() })
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	srv := httptest.NewServer(api.New(st, q, events.NewProducer(q, events.ProducerConfig{}), api.Config{Token: "t0ken"}))
	t.Cleanup(srv.Close)

	m := benchJSON(t, map[string]string{"API_TOKEN": "t0ken"},
		"http", "--url", srv.URL, "--concurrency", "4", "--duration", "300ms")
	wantFields(t, m, "reqPerSec", "p50Ms", "p90Ms", "p99Ms", "maxMs", "errorsByStatus")
	if m["errors"] != 0.0 || m["reqPerSec"].(float64) <= 0 {
		t.Fatalf("result %v", m)
	}
	if n, err := st.Count(context.Background(), time.Time{}, time.Time{}); err != nil || n != 0 {
		t.Fatalf("%d events left behind, %v", n, err)
	}
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown benchmark "nope"`},
		{[]string{"e2e", "--payload-size", "9"}, "--payload-size applies to bench queue only"},
		{[]string{"http", "--jobs", "9"}, "--jobs applies to bench queue and e2e only"},
		{[]string{"queue", "--url", "http://x"}, "--url applies to bench http only"},
		{[]string{"e2e", "--store", "mysql"}, `--store "mysql": want mongodb, postgres or sqlite`},
		{[]string{"e2e", "--store", "postgres"}, "EVENTS_STORE=postgres needs DATABASE_URL"},
		{[]string{"e2e", "--data-dir", "/tmp"}, "--data-dir needs --store sqlite"},
		{[]string{"queue", "--throughput-only", "--samples", "5"}, "--samples sets a phase that --throughput-only skips"},
		{[]string{"queue", "--duration", "1s", "--throughput-only"}, "--duration sets a phase that --throughput-only skips"},
		{[]string{"e2e", "--throughput-only", "--duration", "1s"}, "--throughput-only applies to bench queue only"},
		{[]string{"queue", "--jobs", "-1"}, "must not be negative"},
		{[]string{"queue", "--jobs", "x"}, "invalid value"},
		{[]string{"queue", "extra"}, `unexpected argument "extra"`},
		{[]string{"queue", "--redis-port", "0"}, "redis-port"}, // settings reach config.Load
		{[]string{"queue", "--no-such-setting"}, "no-such-setting"},
	} {
		_, _, err := benchCmd(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("eventsd bench %s: err = %v; want one containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	for _, args := range [][]string{nil, {"help"}, {"queue", "--help"}} {
		out, _, err := benchCmd(t, nil, args...)
		if err != nil || !strings.HasPrefix(out, "usage: eventsd bench") {
			t.Errorf("eventsd bench %v: %v\n%s", args, err, out)
		}
	}
}

func TestSplitBenchArgs(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.Int("jobs", 0, "")
	fs.Bool("json", false, "")
	own, settings := splitBenchArgs(fs, []string{
		"--jobs", "5", "--redis-url", "redis://h:1/2", "--json", "-redis-tls", "--mongodb-uri=mongodb://m", "-jobs=6", "stray",
	})
	wantOwn := []string{"--jobs", "5", "--json", "-jobs=6", "stray"}
	wantSettings := []string{"--redis-url", "redis://h:1/2", "-redis-tls", "--mongodb-uri=mongodb://m"}
	if !slices.Equal(own, wantOwn) || !slices.Equal(settings, wantSettings) {
		t.Fatalf("own %q, settings %q\nwant %q, %q", own, settings, wantOwn, wantSettings)
	}
}
