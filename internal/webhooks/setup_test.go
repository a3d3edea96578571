package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/internal/webhooks"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

type bundle struct {
	r     *redistest.Redis
	raw   *sqlite.Store
	store *webhooks.Store
	fan   *webhooks.Fanout
	q     *queue.Queue
}

func setup(t *testing.T, cfg webhooks.FanoutConfig) *bundle {
	t.Helper()
	r := redistest.Start(t)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	cfg.OutboxKey = r.Prefix + ":webhooks:outbox"
	fan := webhooks.NewFanout(st, q, r.Client, cfg)
	return &bundle{r: r, raw: st, store: webhooks.Wrap(st, fan), fan: fan, q: q}
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint answering with the statuses given, in
// turn, then 200.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
	header   http.Header
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), body})
		status := http.StatusOK
		if n := len(rc.got); n <= len(rc.statuses) {
			status = rc.statuses[n-1]
		}
		for k, v := range rc.header {
			w.Header()[k] = v
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, "answer "+strconv.Itoa(status))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func mustWebhook(t *testing.T, st events.Store, url string, patterns ...string) events.Webhook {
	t.Helper()
	w, err := st.CreateWebhook(context.Background(), events.Webhook{URL: url, Events: patterns,
		Secret: webhooks.NewSecret(), Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// jobsOf returns the queue's deliver-webhook jobs in any state.
func jobsOf(t *testing.T, q *queue.Queue) []*queue.Job {
	t.Helper()
	var out []*queue.Job
	for _, s := range []queue.State{queue.StateWaiting, queue.StateDelayed, queue.StateActive, queue.StateCompleted, queue.StateFailed} {
		js, err := q.List(context.Background(), s, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.Name == webhooks.JobName {
				out = append(out, j)
			}
		}
	}
	return out
}

func jobData(t *testing.T, j *queue.Job) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(j.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
