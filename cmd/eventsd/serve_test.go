package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/config"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// serveEnv returns the settings of an `eventsd serve` on a Redis of the
// test's own: the TEST_REDIS_URL server under a key prefix of the test's
// own, else an in-process miniredis reached over TCP. Processes given the
// same Redis and MongoDB URI work together.
func serveEnv(r *redistest.Redis, mongoURI string, extra map[string]string) map[string]string {
	env := map[string]string{
		"REDIS_URL":    r.URL,
		"QUEUE_PREFIX": r.Prefix,
		"MONGODB_URI":  mongoURI,
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// waitJobsDone waits until the queue holds no unfinished job, then checks
// that every job in ids has exactly one event (a job completes only once its
// event is stored). It returns the events by job id. Listing every event is
// slow on FerretDB, so it is done once, not on every poll.
func waitJobsDone(t testing.TB, p *proc, ids []string, timeout time.Duration) map[string]event {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("the queue done with all %d jobs", len(ids)), func() (bool, string) {
		s := p.stats()
		return s.Queue.Waiting == 0 && s.Queue.Active == 0 && s.Queue.Delayed == 0, s.String()
	})
	byJob := p.eventsByJob()
	missing := 0
	for _, id := range ids {
		if _, ok := byJob[id]; !ok {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("the queue is done, but %d of %d jobs have no event; %s", missing, len(ids), p.stats())
	}
	for _, id := range ids {
		checkEvent(t, "event of job "+id, byJob[id])
	}
	return byJob
}

// TestServeWithRedisAndMongo runs `eventsd serve` as in production: a real
// Redis server (TEST_REDIS_URL, else miniredis over TCP) and a MongoDB-
// protocol server (FerretDB, or TEST_MONGODB_URI). Jobs flow end to end, the
// cron job fires, and health reports both dependencies.
func TestServeWithRedisAndMongo(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	// serve adds no mock data unless asked.
	p := start(t, "serve", "serve", serveEnv(r, ferrettest.URI(t), map[string]string{"CRON_MOCK_DATA": "*/2 * * * * *"}))

	status, h := p.health()
	if status != http.StatusOK || h.Status != "up" || !h.depsAre(map[string]string{"redis": "up", "mongodb": "up"}) {
		t.Fatalf("health: %d %+v, want 200 with redis and mongodb up", status, h)
	}
	p.getJSON("/readyz", http.StatusOK, nil)

	ids := p.generate(200)
	byJob := waitJobsDone(t, p, ids, 60*time.Second)
	if s := p.stats(); s.Queue.FailedTotal != 0 || s.Queue.Failed != 0 {
		t.Errorf("jobs failed: %s", s)
	}

	// The event store answers the API directly as well.
	var e event
	a := p.do("POST", "/api/events", `{"name":"serve.e2e"}`)
	p.decode(a, "POST /api/events", http.StatusCreated, &e)
	var got event
	p.getJSON(a.Header.Get("Location"), http.StatusOK, &got)
	if got != e {
		t.Errorf("GET %s: %+v, want %+v", a.Header.Get("Location"), got, e)
	}
	var named eventPage
	p.getJSON("/api/events?name=serve.e2e", http.StatusOK, &named)
	if len(named.Items) != 1 || named.Items[0] != e {
		t.Errorf("GET ?name=serve.e2e: %+v, want just %+v", named.Items, e)
	}
	one := byJob[ids[0]]
	p.getJSON("/api/events/"+one.ID, http.StatusOK, &got)
	if got != one {
		t.Errorf("GET /api/events/%s: %+v, want %+v", one.ID, got, one)
	}

	eventually(t, 30*time.Second, "an event from the cron job", func() (bool, string) {
		for jobID := range p.eventsByJob() {
			if strings.HasPrefix(jobID, "cron-") {
				return true, ""
			}
		}
		return false, "none yet"
	})
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestBadConfigStopsStartup checks that a bad setting or an unreachable
// dependency stops start-up with a non-zero exit and a message naming the
// setting to fix, and that the help and version commands work.
func TestBadConfigStopsStartup(t *testing.T) {
	t.Parallel()
	closed := "127.0.0.1:" + freePort(t) // nothing listens there
	for _, c := range []struct {
		name string
		cmd  string
		env  map[string]string
		want string
	}{
		{"port out of range", "serve", map[string]string{"PORT": "99999"}, "PORT"},
		{"port not a number", "dev", map[string]string{"PORT": "http"}, "PORT"},
		{"redis url", "serve", map[string]string{"REDIS_URL": "not-a-url"}, "REDIS_URL"},
		{"redis port", "serve", map[string]string{"REDIS_PORT": "0"}, "REDIS_PORT"},
		{"cron spec", "serve", map[string]string{"CRON_MOCK_DATA": "garbage"}, "CRON_MOCK_DATA"},
		{"cron spec in dev", "dev", map[string]string{"CRON_MONITOR": "61 * * * * *"}, "CRON_MONITOR"},
		{"mongodb uri", "serve", map[string]string{"MONGODB_URI": "http://localhost/events"}, "MONGODB_URI"},
		{"concurrency", "serve", map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"},
		{"cron enabled", "serve", map[string]string{"CRON_ENABLED": "maybe"}, "CRON_ENABLED"},
		{"roles", "serve", map[string]string{"ROLES": "api,cook"}, "ROLES"},
		{"log format", "serve", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"shutdown timeout", "serve", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		{"redis unreachable", "serve", map[string]string{"REDIS_URL": "redis://" + closed}, "REDIS_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATA_DIR": t.TempDir(), "HOST": "127.0.0.1", "PORT": freePort(t)}
			for k, v := range c.env {
				env[k] = v
			}
			code, _, stderr := runOnce(t, env, c.cmd)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero; stderr:\n%s", stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr does not name %s:\n%s", c.want, stderr)
			}
			if strings.Contains(stderr, "eventsd listening") {
				t.Errorf("it started serving anyway:\n%s", stderr)
			}
		})
	}

	t.Run("mongodb unreachable", func(t *testing.T) {
		t.Parallel()
		r := redistest.Start(t)
		env := serveEnv(r, "mongodb://"+closed+"/events", map[string]string{"HOST": "127.0.0.1", "PORT": freePort(t)})
		code, _, stderr := runOnce(t, env, "serve")
		if code == 0 || !strings.Contains(stderr, "MONGODB_URI") {
			t.Errorf("exit code %d, want non-zero with a message naming MONGODB_URI:\n%s", code, stderr)
		}
	})

	t.Run("version", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runOnce(t, nil, "version")
		if code != 0 || !strings.HasPrefix(stdout, "eventsd "+testVersion) {
			t.Errorf("eventsd version: exit %d, stdout %q, stderr %q; want eventsd %s", code, stdout, stderr, testVersion)
		}
	})

	t.Run("help", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := runOnce(t, nil, "help")
		if code != 0 {
			t.Fatalf("eventsd help: exit %d, stderr %q", code, stderr)
		}
		// Every setting the issue and the design name, with its flag.
		for _, v := range []string{
			"REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB", "MONGODB_URI", "DATA_DIR",
			"HOST", "PORT", "API_TOKEN", "WORKER_CONCURRENCY", "CRON_ENABLED", "ROLES", "QUEUE_PREFIX",
			"CRON_MOCK_DATA", "CRON_MONITOR", "CRON_ROLLUP", "CRON_CLEANUP", "JOBS_RETENTION",
			"EVENTS_RETENTION", "SHUTDOWN_TIMEOUT", "LOG_LEVEL", "LOG_FORMAT",
		} {
			flagName := "--" + strings.ReplaceAll(strings.ToLower(v), "_", "-")
			if !containsWord(stdout, v) || !containsWord(stdout, flagName) {
				t.Errorf("eventsd help does not list %s (%s)", v, flagName)
			}
		}
		for _, cmd := range []string{"dev", "serve", "version"} {
			if !strings.Contains(stdout, "eventsd "+cmd) {
				t.Errorf("eventsd help does not list the %s command", cmd)
			}
		}
		for _, def := range []string{"9000", "*/2 * * * * *", "mongodb://localhost:27017/events", "localhost", "6379"} {
			if !strings.Contains(stdout, def) {
				t.Errorf("eventsd help does not show the default %q", def)
			}
		}
		// The same text for dev --help, and a clear error for a typo.
		code, devHelp, _ := runOnce(t, nil, "dev", "--help")
		if code != 0 || devHelp != stdout {
			t.Errorf("eventsd dev --help: exit %d, and its text differs from eventsd help", code)
		}
		code, _, stderr = runOnce(t, nil, "srve")
		if code == 0 || !strings.Contains(stderr, "srve") {
			t.Errorf("eventsd srve: exit %d, stderr %q; want non-zero naming the command", code, stderr)
		}
	})
}

// containsWord reports whether s holds w delimited by white space.
func containsWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

func TestShutdownTimeoutZeroHandsJobsBackAtOnce(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(config.Serve, nil, func(k string) string {
		if k == "SHUTDOWN_TIMEOUT" {
			return "0s"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := workerShutdown(cfg.ShutdownTimeout); got != queue.NoShutdownWait {
		t.Fatalf("SHUTDOWN_TIMEOUT=0s gives the worker %s, want NoShutdownWait", got)
	}
	if got := workerShutdown(30 * time.Second); got != 30*time.Second {
		t.Fatalf("30s gives %s", got)
	}
}
