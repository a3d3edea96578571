package main

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
)

// TestEveryRoleObservable: processes with only the worker or the scheduler
// role answer /healthz, /readyz and /metrics (the worker's with the job
// metrics of the jobs it ran), and refuse the API with a 404.
func TestEveryRoleObservable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := redistest.Start(t)
	env := map[string]string{
		"REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix, "CRON_ENABLED": "false",
		"EVENTS_STORE": "sqlite", "DATA_DIR": dir,
	}
	api := start(t, "api", "serve", with(env, "ROLES", "api"))
	worker := start(t, "worker", "serve", with(env, "ROLES", "worker"))
	scheduler := start(t, "scheduler", "serve", with(env, "ROLES", "scheduler"))

	ids := api.generate(5)
	waitJobsDone(t, api, ids, 60*time.Second)

	processed := regexp.MustCompile(`(?m)^eventsd_jobs_processed_total\{[^}]*outcome="completed"[^}]*\} (\d+)`)
	for _, p := range []*proc{worker, scheduler} {
		for _, path := range []string{"/healthz", "/readyz"} {
			p.getJSON(path, http.StatusOK, nil)
		}
		a := p.do("GET", "/metrics", "")
		if a.Status != http.StatusOK {
			t.Errorf("%s: GET /metrics: %s", p.name, a)
			continue
		}
		if p == worker {
			n := -1
			if m := processed.FindSubmatch(a.Body); m != nil {
				n, _ = strconv.Atoi(string(m[1]))
			}
			if n < len(ids) {
				t.Errorf("worker's /metrics does not count the %d jobs it completed:\n%s", len(ids), a.Body)
			}
		}
		for _, path := range []string{"/api/events", "/api/events/health", "/api/openapi.json", "/"} {
			checkProblem(t, p.name+" GET "+path, p.do("GET", path, ""), http.StatusNotFound)
		}
	}
}
