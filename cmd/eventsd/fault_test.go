package main

// Fault tests: real eventsd processes losing Redis, losing the event store,
// being killed mid-job, stopped mid-job, and racing each other for cron
// slots. Every fault must be answered with a clear 4xx or 503, never a 500
// or a crash, and no job may be lost or produce two events.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/redistest"
)

// ferretBehindProxy starts a FerretDB for the test and returns it with a
// proxy in front of it, so that the test can take the store away from one
// process. FerretDB runs in this test process whatever TEST_MONGODB_URI
// says, since the proxy needs a single server to forward to.
func ferretBehindProxy(t testing.TB, proxies int) (uris []string, pxs []*faultproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(ferrettest.Start(t).URI(""))
	if err != nil {
		t.Fatal(err)
	}
	for range proxies {
		px := faultproxy.Start(t, u.Host)
		pxs = append(pxs, px)
		uris = append(uris, "mongodb://"+px.Addr()+"/events_e2e")
	}
	return uris, pxs
}

// TestFaultRedisGone kills the Redis server under a running eventsd: health
// and readiness say so with 503, the store keeps answering, adding jobs is a
// 503 problem; once Redis is back jobs flow again without a restart.
func TestFaultRedisGone(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t) // killable; a real redis-server when installed
	p := start(t, "serve", "serve", map[string]string{
		"REDIS_URL": srv.URL, "MONGODB_URI": ferrettest.URI(t), "CRON_ENABLED": "false",
	})
	before := waitJobsDone(t, p, p.generate(10), 60*time.Second)

	srv.Stop()
	eventually(t, 30*time.Second, "health reports redis down", func() (bool, string) {
		status, h := p.health()
		return status == http.StatusServiceUnavailable && h.Status == "down" &&
			h.depsAre(map[string]string{"redis": "down", "mongodb": "up"}), fmt.Sprintf("%d %+v", status, h)
	})
	pr := checkProblem(t, "readyz with redis down", p.do("GET", "/readyz", ""), http.StatusServiceUnavailable)
	if !strings.Contains(pr.Detail, "redis") {
		t.Errorf("readyz detail %q does not name redis", pr.Detail)
	}
	p.getJSON("/healthz", http.StatusOK, nil) // alive: no reason to restart it

	// The store still answers.
	var page eventPage
	p.getJSON("/api/events?limit=1000", http.StatusOK, &page)
	if len(page.Items) < len(before) {
		t.Errorf("GET /api/events with redis down: %d events, want at least %d", len(page.Items), len(before))
	}
	for _, e := range before {
		var got event
		p.getJSON("/api/events/"+e.ID, http.StatusOK, &got)
		if got != e {
			t.Errorf("GET /api/events/%s with redis down: %+v, want %+v", e.ID, got, e)
		}
	}
	p.decode(p.do("POST", "/api/events", `{"name":"written.while.redis.down"}`), "POST /api/events with redis down", http.StatusCreated, nil)

	// What needs the queue is a 503 problem, not a 500.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/events/generate-mock", `{"count":3}`},
		{"GET", "/api/events/stats", ""},
		{"GET", "/api/jobs/1", ""},
		{"GET", "/api/jobs?state=failed", ""},
		{"POST", "/api/queue/pause", ""},
	} {
		a := p.do(c.method, c.path, c.body)
		checkProblem(t, c.method+" "+c.path+" with redis down", a, http.StatusServiceUnavailable)
		if a.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", c.method, c.path)
		}
	}

	srv.Restart() // a redis-server process comes back empty; miniredis keeps its data
	eventually(t, 60*time.Second, "health back to 200", func() (bool, string) {
		status, h := p.health()
		return status == http.StatusOK && h.depsAre(map[string]string{"redis": "up", "mongodb": "up"}), fmt.Sprintf("%d %+v", status, h)
	})
	p.getJSON("/readyz", http.StatusOK, nil)
	// The worker reconnects by itself and picks up new jobs.
	waitJobsDone(t, p, p.generate(20), 60*time.Second)
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestFaultStoreGone cuts the connection between eventsd and MongoDB:
// health and readiness say so, reads and writes of events are 503 problems,
// and jobs added meanwhile are not lost: each ends with its event or failed
// (and then retried by hand), never both, never neither.
func TestFaultStoreGone(t *testing.T) {
	t.Parallel()
	uris, pxs := ferretBehindProxy(t, 1)
	px := pxs[0]
	r := redistest.Start(t)
	p := start(t, "serve", "serve", serveEnv(r, uris[0], map[string]string{"CRON_ENABLED": "false"}))
	before := waitJobsDone(t, p, p.generate(5), 60*time.Second)
	var known event
	for _, e := range before {
		known = e
	}

	px.Cut(true)
	eventually(t, 30*time.Second, "health reports mongodb down", func() (bool, string) {
		status, h := p.health()
		return status == http.StatusServiceUnavailable && h.Status == "down" &&
			h.depsAre(map[string]string{"redis": "up", "mongodb": "down"}), fmt.Sprintf("%d %+v", status, h)
	})
	pr := checkProblem(t, "readyz with mongodb down", p.do("GET", "/readyz", ""), http.StatusServiceUnavailable)
	if !strings.Contains(pr.Detail, "mongodb") {
		t.Errorf("readyz detail %q does not name mongodb", pr.Detail)
	}
	// Once the store's guard has seen it go, a store-bound request is
	// refused at once, with the guard's problem, not after the driver's
	// server selection.
	guardDetail := events.ErrUnavailable.Error()
	eventually(t, 30*time.Second, "the guard answering for the store", func() (bool, string) {
		start := time.Now()
		a, err := p.try("GET", "/api/events", "")
		took := time.Since(start)
		if err != nil || a.Status != http.StatusServiceUnavailable || !strings.Contains(string(a.Body), guardDetail) {
			return false, fmt.Sprintf("%v %v", a, err)
		}
		t.Logf("GET /api/events with the store known down: 503 in %s", took)
		return true, ""
	})
	// Each of these is refused by the guard, or waits for the driver to give
	// up on the server, so they go at once.
	storeCalls := []struct{ method, path, body string }{
		{"GET", "/api/events", ""},
		{"GET", "/api/events?limit=5&name=order.placed", ""},
		{"GET", "/api/events/" + known.ID, ""},
		{"POST", "/api/events", `{"name":"lost.write"}`},
		{"DELETE", "/api/events/" + known.ID, ""},
		{"GET", "/api/events/stats", ""},
	}
	answers := make([]answer, len(storeCalls))
	errs := make([]error, len(storeCalls))
	var wg sync.WaitGroup
	for i, c := range storeCalls {
		wg.Go(func() { answers[i], errs[i] = p.try(c.method, c.path, c.body) })
	}
	wg.Wait()
	for i, c := range storeCalls {
		what := c.method + " " + c.path + " with mongodb down"
		if errs[i] != nil {
			t.Fatalf("%s: %v", what, errs[i])
		}
		checkProblem(t, what, answers[i], http.StatusServiceUnavailable)
	}
	// Bad input is still bad input, whatever the store's state.
	checkProblem(t, "malformed id with mongodb down", p.do("GET", "/api/events/nope", ""), http.StatusBadRequest)

	// Jobs can still be added; their attempts fail and back off.
	ids := p.generate(20)
	eventually(t, 60*time.Second, "a job failing an attempt for want of the store", func() (bool, string) {
		for _, state := range []string{"delayed", "failed"} {
			for _, j := range p.jobsIn(state) {
				if j.Failures >= 1 && j.Error != "" {
					return true, ""
				}
			}
		}
		return false, "no job has failed an attempt yet"
	})

	px.Cut(false)
	eventually(t, 60*time.Second, "health back to 200", func() (bool, string) {
		status, h := p.health()
		return status == http.StatusOK, fmt.Sprintf("%d %+v", status, h)
	})
	// Every job ends with its event or failed for good: none is lost.
	var failed []string
	eventually(t, 90*time.Second, "every job finished", func() (bool, string) {
		byJob := p.eventsByJob()
		failed = failed[:0]
		for _, j := range p.jobsIn("failed") {
			failed = append(failed, j.ID)
		}
		open := 0
		for _, id := range ids {
			_, hasEvent := byJob[id]
			isFailed := slices.Contains(failed, id)
			if hasEvent && isFailed {
				t.Fatalf("job %s both produced event %s and failed", id, byJob[id].ID)
			}
			if !hasEvent && !isFailed {
				open++
			}
		}
		return open == 0, fmt.Sprintf("%d jobs neither done nor failed; %s", open, p.stats())
	})
	t.Logf("%d of %d jobs completed after the store came back, %d failed for good", len(ids)-len(failed), len(ids), len(failed))
	// Failed jobs are kept, so they can be run again.
	var retried struct {
		Retried int `json:"retried"`
	}
	p.decode(p.do("POST", "/api/jobs/retry-failed", ""), "retry-failed", http.StatusOK, &retried)
	if retried.Retried != len(failed) {
		t.Errorf("retry-failed retried %d jobs, want %d", retried.Retried, len(failed))
	}
	waitJobsDone(t, p, ids, 60*time.Second)
	if code := p.stop(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestFaultWorkerKilled kills one of two eventsd processes with SIGKILL
// while it holds jobs whose events it has written but not yet heard back
// about (its store connection drops the answers). The other process must
// take those jobs over once their leases expire, without using a retry, and
// each job must end with exactly one event.
func TestFaultWorkerKilled(t *testing.T) {
	t.Parallel()
	const concurrency, jobs = 5, 300
	uris, pxs := ferretBehindProxy(t, 2)
	r := redistest.Start(t)
	settings := map[string]string{"CRON_ENABLED": "false", "WORKER_CONCURRENCY": strconv.Itoa(concurrency)}
	a := start(t, "survivor", "serve", serveEnv(r, uris[0], settings))
	b := start(t, "victim", "serve", serveEnv(r, uris[1], settings))

	// Each process's store writes now land but are never acknowledged, so
	// both workers fill up with jobs they cannot finish: then the active
	// jobs are exactly the two workers' slots.
	pxs[0].Silence(true)
	pxs[1].Silence(true)
	ids := a.generate(jobs)
	var active []job
	eventually(t, 30*time.Second, "both workers holding jobs", func() (bool, string) {
		active = a.jobsIn("active")
		return len(active) == 2*concurrency, fmt.Sprintf("%d active", len(active))
	})
	b.kill()
	pxs[0].Silence(false)

	waitJobsDone(t, a, ids, 120*time.Second)
	s := a.stats()
	if s.Queue.CompletedTotal != jobs || s.Queue.FailedTotal != 0 || s.Events.Total != jobs {
		t.Errorf("after the crash: %s; want %d completed, none failed, %d events", s, jobs, jobs)
	}

	// The lifecycle stream shows the victim's jobs stalling and coming back.
	activeAtKill := map[string]bool{}
	for _, j := range active {
		activeAtKill[j.ID] = true
	}
	stalled, completed := map[string]bool{}, map[string]bool{}
	a.readLifecycle(60*time.Second, func(ev lifecycle) bool {
		switch ev.Type {
		case "stalled":
			stalled[ev.JobID] = true
		case "completed":
			completed[ev.JobID] = true
		case "failed":
			t.Errorf("job %s failed: %s", ev.JobID, ev.Error)
		}
		return len(completed) < jobs
	})
	if len(stalled) != concurrency {
		t.Errorf("%d jobs stalled, want the victim's %d", len(stalled), concurrency)
	}
	for id := range stalled {
		if !activeAtKill[id] {
			t.Errorf("job %s stalled but was not active when the victim was killed", id)
		}
	}
	if code := a.stop(60 * time.Second); code != 0 {
		t.Errorf("survivor: exit code %d after SIGTERM, want 0", code)
	}
}

// TestFaultThreeSchedulers runs three eventsd processes with the seed's
// 2 s mock-data schedule on one Redis and one store: each slot must fire
// exactly once across them, with no slot skipped and no job run twice.
func TestFaultThreeSchedulers(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	uri := ferrettest.URI(t)
	var ps []*proc
	for i := range 3 {
		ps = append(ps, start(t, fmt.Sprintf("scheduler %d", i+1), "serve",
			// The rollup schedule adds a job each minute that writes no
			// event: off, so that every completed job is a cron event.
			serveEnv(r, uri, map[string]string{"CRON_MOCK_DATA": "*/2 * * * * *", "CRON_ROLLUP": "off"})))
	}
	eventually(t, 60*time.Second, "five cron events", func() (bool, string) {
		n := len(ps[0].eventsByJob()) // fails the test on a duplicate
		return n >= 5, fmt.Sprintf("%d cron events", n)
	})
	for _, p := range ps {
		if code := p.stop(60 * time.Second); code != 0 {
			t.Errorf("%s: exit code %d after SIGTERM, want 0", p.name, code)
		}
	}

	// Read what they left with a process that schedules and works nothing.
	obs := start(t, "observer", "serve", with(serveEnv(r, uri, nil), "ROLES", "api"))
	var slots []int64
	for jobID := range obs.eventsByJob() {
		ms, ok := strings.CutPrefix(jobID, "cron-")
		slot, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || slot%2000 != 0 {
			t.Errorf("job id %q is not cron-<slot ms> on the 2 s schedule", jobID)
			continue
		}
		slots = append(slots, slot)
	}
	slices.Sort(slots)
	for i := 1; i < len(slots); i++ {
		if d := slots[i] - slots[i-1]; d != 2000 {
			t.Errorf("slots %d and %d are %d ms apart, want 2000: a slot was skipped", slots[i-1], slots[i], d)
		}
	}
	// Job ids come from slots, so the store could not hold two events of
	// one slot anyway; the queue's lifetime count shows no job ran twice.
	s := obs.stats()
	if s.Queue.CompletedTotal != int64(len(slots)) || s.Queue.FailedTotal != 0 || s.Queue.Active != 0 {
		t.Errorf("%s; want completedTotal = %d cron events, nothing failed or active", s, len(slots))
	}
}

// TestFaultSIGTERMWhileJobsRun stops eventsd while it works through a
// backlog, and while its jobs are stuck in store writes: it exits 0, and the
// next process finishes every job, each with exactly one event. Jobs handed
// back at shutdown use no retry.
func TestFaultSIGTERMWhileJobsRun(t *testing.T) {
	t.Parallel()

	t.Run("backlog", func(t *testing.T) {
		t.Parallel()
		r := redistest.Start(t)
		env := serveEnv(r, ferrettest.URI(t), map[string]string{"CRON_ENABLED": "false"})
		p := start(t, "first", "serve", env)
		ids := append(p.generate(1000), p.generate(1000)...)
		eventually(t, 60*time.Second, "jobs completing", func() (bool, string) {
			s := p.stats()
			return s.Queue.CompletedTotal > 0, s.String()
		})
		if code := p.stop(60 * time.Second); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
		// What the first process left, seen by one that works nothing:
		// every job completed with its event, or waiting; none active.
		obs := start(t, "observer", "serve", with(env, "ROLES", "api"))
		s := obs.stats()
		t.Logf("after the stop: %s", s)
		if s.Queue.Active != 0 || s.Queue.Delayed != 0 || s.Queue.Waiting+s.Queue.CompletedTotal != int64(len(ids)) ||
			s.Events.Total != s.Queue.CompletedTotal {
			t.Errorf("after a clean stop: %s; want every one of %d jobs completed with its event or waiting", s, len(ids))
		}
		obs.stop(60 * time.Second)

		p2 := start(t, "second", "serve", env)
		waitJobsDone(t, p2, ids, 120*time.Second)
		if s := p2.stats(); s.Queue.CompletedTotal != int64(len(ids)) || s.Queue.FailedTotal != 0 {
			t.Errorf("%s; want %d completed, none failed", s, len(ids))
		}
	})

	t.Run("stuck jobs handed back", func(t *testing.T) {
		t.Parallel()
		const concurrency, jobs = 5, 50
		uris, pxs := ferretBehindProxy(t, 1)
		r := redistest.Start(t)
		env := serveEnv(r, uris[0], map[string]string{
			"CRON_ENABLED": "false", "WORKER_CONCURRENCY": strconv.Itoa(concurrency), "SHUTDOWN_TIMEOUT": "1s",
		})
		p := start(t, "first", "serve", env)
		pxs[0].Silence(true)
		ids := p.generate(jobs)
		var active []job
		eventually(t, 30*time.Second, "the worker full of stuck jobs", func() (bool, string) {
			active = p.jobsIn("active")
			return len(active) == concurrency, fmt.Sprintf("%d active", len(active))
		})
		if code := p.stop(60 * time.Second); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0", code)
		}
		pxs[0].Silence(false)
		p2 := start(t, "second", "serve", env)
		waitJobsDone(t, p2, ids, 60*time.Second)
		if s := p2.stats(); s.Queue.CompletedTotal != jobs || s.Queue.FailedTotal != 0 {
			t.Errorf("%s; want %d completed, none failed", s, jobs)
		}

		stuck := map[string]bool{}
		for _, j := range active {
			stuck[j.ID] = true
		}
		released, completed := map[string]bool{}, map[string]bool{}
		p2.readLifecycle(60*time.Second, func(ev lifecycle) bool {
			switch ev.Type {
			case "released":
				released[ev.JobID] = true
			case "completed":
				completed[ev.JobID] = true
				if ev.Attempt != 1 {
					t.Errorf("job %s completed on attempt %d, want 1: a hand-back used a retry", ev.JobID, ev.Attempt)
				}
			case "retrying", "stalled", "failed":
				t.Errorf("job %s %s (%s); a clean stop should hand it back", ev.JobID, ev.Type, ev.Error)
			}
			return len(completed) < jobs
		})
		if !sameSet(released, stuck) {
			t.Errorf("jobs handed back %v, want the stuck ones %v", keys(released), keys(stuck))
		}
	})
}

// with returns a copy of env with k set to v.
func with(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for ek, ev := range env {
		if ek != k {
			out[ek] = ev
		}
	}
	return out
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
