package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/redistest"
)

// eventWithData is an event as the API shows it, data included.
type eventWithData struct {
	event
	Data json.RawMessage `json:"data"`
}

// checkStoreRoundTrip runs jobs and an event with data through a started
// eventsd and checks that every job left one event with mock data, and that
// the data of a created event reads back.
func checkStoreRoundTrip(t *testing.T, p *proc, store string) {
	t.Helper()
	status, h := p.health()
	if status != http.StatusOK || !h.depsAre(map[string]string{"redis": "up", store: "up"}) {
		t.Fatalf("health: %d %+v, want 200 with redis and %s up", status, h, store)
	}
	ids := p.generate(100)
	byJob := waitJobsDone(t, p, ids, 60*time.Second)
	var withData eventWithData
	p.getJSON("/api/events/"+byJob[ids[0]].ID, http.StatusOK, &withData)
	var mock map[string]any
	if err := json.Unmarshal(withData.Data, &mock); err != nil || len(mock) == 0 {
		t.Errorf("event of a mock-data job has data %s; want a JSON object", withData.Data)
	}

	var created, got eventWithData
	a := p.do("POST", "/api/events", `{"name":"order.placed","data":{"orderId":"o-1","amount":12.5,"lines":[{"sku":"a","qty":2}]}}`)
	p.decode(a, "POST /api/events", http.StatusCreated, &created)
	p.getJSON(a.Header.Get("Location"), http.StatusOK, &got)
	var want, have any
	json.Unmarshal(created.Data, &want)
	json.Unmarshal(got.Data, &have)
	if got.ID != created.ID || created.Data == nil || !jsonEqual(want, have) {
		t.Errorf("GET %s: %s, want the created event %s", a.Header.Get("Location"), got.Data, created.Data)
	}
	checkProblem(t, "POST an event whose data is an array", p.do("POST", "/api/events", `{"name":"x","data":[1]}`), http.StatusUnprocessableEntity)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestServeWithRedisAndPostgres runs `eventsd serve` on Redis and the
// PostgreSQL store, a supported production setup.
func TestServeWithRedisAndPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	r := redistest.Start(t)
	p := start(t, "serve-postgres", "serve", map[string]string{
		"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix, "CRON_ENABLED": "false",
		"EVENTS_STORE": "postgres", "DATABASE_URL": url,
	})
	checkStoreRoundTrip(t, p, "postgres")
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestServeWithRedisAndSQLite runs `eventsd serve` on Redis and the SQLite
// store, a supported single-node production setup.
func TestServeWithRedisAndSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := redistest.Start(t)
	p := start(t, "serve-sqlite", "serve", map[string]string{
		"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix, "CRON_ENABLED": "false",
		"EVENTS_STORE": "sqlite", "DATA_DIR": dir,
	})
	checkStoreRoundTrip(t, p, "sqlite")
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if !fileExists(filepath.Join(dir, "events.db")) {
		t.Errorf("no events.db in DATA_DIR %s", dir)
	}
}

// TestDevWithRedisURL runs `eventsd dev` against the Redis server REDIS_URL
// names instead of its in-process one: the queue's keys are in that server.
func TestDevWithRedisURL(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	p := start(t, "dev-redis", "dev", map[string]string{
		"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix, "CRON_ENABLED": "false", "DATA_DIR": t.TempDir(),
	})
	if log := p.log.String(); strings.Contains(log, "dev: queue state in") {
		t.Errorf("dev with REDIS_URL starts a Redis of its own; log:\n%s", log)
	}
	waitJobsDone(t, p, p.generate(10), 60*time.Second)
	keys, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no keys under %s* in the REDIS_URL server (%v): dev did not use it", r.Prefix, err)
	}
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestBadStoreSettingsStopStartup checks that store settings that do not go
// together, or a store that cannot be reached, stop start-up with a message
// naming the settings to fix.
func TestBadStoreSettingsStopStartup(t *testing.T) {
	t.Parallel()
	closed := "127.0.0.1:" + freePort(t) // nothing listens there
	r := redistest.Start(t)
	for _, c := range []struct {
		name string
		cmd  string
		env  map[string]string
		want []string
	}{
		{"postgres without DATABASE_URL", "serve", map[string]string{"EVENTS_STORE": "postgres"}, []string{"EVENTS_STORE", "DATABASE_URL"}},
		{"DATABASE_URL without EVENTS_STORE", "serve", map[string]string{"DATABASE_URL": "postgres://db/events"}, []string{"DATABASE_URL", "EVENTS_STORE"}},
		{"unknown store", "dev", map[string]string{"EVENTS_STORE": "mysql"}, []string{"EVENTS_STORE"}},
		{"dev with REDIS_HOST", "dev", map[string]string{"REDIS_HOST": "cache"}, []string{"REDIS_HOST", "REDIS_URL"}},
		{"postgres unreachable", "serve", map[string]string{"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix,
			"EVENTS_STORE": "postgres", "DATABASE_URL": "postgres://u:s3cret@" + closed + "/events"}, []string{"DATABASE_URL"}},
		{"serve on sqlite, no such DATA_DIR", "serve", map[string]string{"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix,
			"EVENTS_STORE": "sqlite", "DATA_DIR": filepath.Join(t.TempDir(), "missing")}, []string{"DATA_DIR"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"HOST": "127.0.0.1", "PORT": freePort(t)}
			for k, v := range c.env {
				env[k] = v
			}
			code, _, stderr := runOnce(t, env, c.cmd)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero; stderr:\n%s", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %s:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr shows a password:\n%s", stderr)
			}
			if strings.Contains(stderr, "eventsd listening") {
				t.Errorf("it started serving anyway:\n%s", stderr)
			}
		})
	}
}
