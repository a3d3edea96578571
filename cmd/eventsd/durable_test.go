package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/devredis"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// TestDevKeepsItsQueue is the durable dev mode's acceptance, on both of its
// Redis servers: with the queue paused, jobs waiting, delayed and failed are
// all still there, in the same states, after a kill -9 and a restart on the
// same data directory, and after resume the waiting and delayed ones
// complete.
func TestDevKeepsItsQueue(t *testing.T) {
	t.Parallel()
	t.Run("redis-server", func(t *testing.T) {
		t.Parallel()
		if _, err := devredis.LookPath(); err != nil {
			t.Skip("redis-server is not installed: ", err)
		}
		testDevKeepsItsQueue(t, "redis-server")
	})
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		testDevKeepsItsQueue(t, "embedded")
	})
}

var redisAddrRE = regexp.MustCompile(`redis_addr=(\S+)`)

func testDevKeepsItsQueue(t *testing.T, mode string) {
	dataDir := t.TempDir()
	env := map[string]string{"DATA_DIR": dataDir, "DEV_REDIS": mode, "CRON_MOCK_DATA": "off"}
	p := start(t, "dev", "dev", env)
	m := redisAddrRE.FindStringSubmatch(p.log.String())
	if m == nil || !strings.Contains(p.log.String(), "dev: queue state in") {
		t.Fatalf("dev does not say where it keeps the queue's state and its Redis address; log:\n%s", p.log.String())
	}
	rdb := redis.NewClient(&redis.Options{Addr: m[1]})
	defer rdb.Close()
	q := queue.NewClient(rdb, queue.Config{Prefix: "eventsd"}).Queue(events.QueueName)

	// Jobs that fail: their data cannot be read, so they fail at once.
	var failed []string
	for range 2 {
		j, err := q.Add(t.Context(), "process-mock-data", []byte("not json"), queue.JobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		failed = append(failed, j.ID)
	}
	eventually(t, 60*time.Second, "the failing jobs failed", func() (bool, string) {
		n := 0
		for _, id := range failed {
			if p.job(id).State == "failed" {
				n++
			}
		}
		return n == len(failed), fmt.Sprintf("%d of %d failed", n, len(failed))
	})

	if a := p.do("POST", "/api/queue/pause", ""); a.Status != http.StatusNoContent {
		t.Fatalf("pause: %s", a)
	}
	waiting := p.generate(5)
	var delayed []string
	data, _ := json.Marshal(events.MockData{Name: "durable.delayed", Source: "api"})
	for range 3 {
		j, err := q.Add(t.Context(), "process-mock-data", data, queue.JobOptions{Delay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		delayed = append(delayed, j.ID)
	}
	all := append(append(append([]string(nil), failed...), waiting...), delayed...)
	before := map[string]job{}
	for _, id := range all {
		before[id] = p.job(id)
	}

	if mode == "embedded" {
		// The state is saved every second: wait until a save holds every
		// job, as a kill -9 gives no chance to save.
		file := filepath.Join(dataDir, "redis", devredis.SnapshotFile)
		eventually(t, 60*time.Second, "a saved state holding every job", func() (bool, string) {
			s, err := devredis.ReadFile(file)
			if err != nil || s == nil {
				return false, fmt.Sprint("no snapshot: ", err)
			}
			missing := 0
			for _, id := range all {
				if !snapshotHolds(s, id) {
					missing++
				}
			}
			return missing == 0, fmt.Sprintf("%d of %d jobs not saved", missing, len(all))
		})
	}

	pidFile := filepath.Join(dataDir, "redis", devredis.PIDFile)
	serverPID := 0
	if mode == "redis-server" {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("redis-server's pid file: %v", err)
		}
		if _, err := fmt.Sscan(string(b), &serverPID); err != nil || serverPID <= 0 {
			t.Fatalf("redis-server's pid file holds %q", b)
		}
	}
	p.kill()
	if mode == "redis-server" && dieWithParentWorks {
		// The kernel stops redis-server with its parent, even on kill -9.
		eventually(t, 60*time.Second, "redis-server stopping after eventsd was killed", func() (bool, string) {
			return processGone(serverPID), fmt.Sprintf("pid %d still runs", serverPID)
		})
	}

	p2 := start(t, "dev again", "dev", env)
	for _, id := range all {
		got := p2.job(id)
		want := before[id]
		if got.State != want.State || got.Error != want.Error || got.Attempt != want.Attempt {
			t.Errorf("job %s after kill -9 and restart: state %q, error %q, attempt %d; before: %q, %q, %d",
				id, got.State, got.Error, got.Attempt, want.State, want.Error, want.Attempt)
		}
	}
	if s := p2.stats(); !s.Queue.IsPaused {
		t.Errorf("the queue is no longer paused after the restart: %s", s)
	}

	if a := p2.do("POST", "/api/queue/resume", ""); a.Status != http.StatusNoContent {
		t.Fatalf("resume: %s", a)
	}
	for _, id := range delayed {
		if a := p2.do("POST", "/api/jobs/"+id+"/promote", ""); a.Status != http.StatusNoContent && a.Status != http.StatusOK {
			t.Fatalf("promote %s: %s", id, a)
		}
	}
	waitJobsDone(t, p2, append(append([]string(nil), waiting...), delayed...), 60*time.Second)
	for _, id := range failed {
		if j := p2.job(id); j.State != "failed" {
			t.Errorf("failed job %s is %s after the resume", id, j.State)
		}
	}
	if code := p2.stop(60 * time.Second); code != 0 {
		t.Errorf("dev exit code %d on SIGTERM, want 0", code)
	}
	if mode == "redis-server" {
		if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
			t.Errorf("redis-server's pid file is left after a clean stop: %v", err)
		}
	}
}

// job returns GET /api/jobs/{id}, which must answer 200.
func (p *proc) job(id string) job {
	p.t.Helper()
	var j job
	p.getJSON("/api/jobs/"+id, http.StatusOK, &j)
	return j
}

// snapshotHolds reports whether any name, value or stream field of s
// contains s.
func snapshotHolds(s *devredis.Snapshot, str string) bool {
	b := []byte(str)
	for _, k := range s.Keys {
		if bytes.Contains(k.Name, b) {
			return true
		}
		for _, v := range k.Values {
			if bytes.Contains(v, b) {
				return true
			}
		}
		for _, e := range k.Entries {
			for _, f := range e.Fields {
				if bytes.Contains(f, b) {
					return true
				}
			}
		}
	}
	return false
}
