package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/webhooks"
	"github.com/eventsd/eventsd/queue"
)

func (b *bundle) runWorker(t *testing.T, cfg webhooks.DeliverConfig) {
	t.Helper()
	cfg.AllowPrivate = true
	mux := queue.NewMux()
	webhooks.Register(mux, webhooks.NewDeliverer(b.store, cfg))
	w := queue.NewWorker(b.q, mux, queue.WorkerConfig{Concurrency: 4, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func attempts(t *testing.T, st events.Store, webhookID string) []events.DeliveryAttempt {
	t.Helper()
	p, err := st.ListDeliveryAttempts(context.Background(), events.DeliveryQuery{WebhookID: webhookID})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func TestDeliverRetriesThenDelivers(t *testing.T) {
	t.Parallel()
	delays := []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, time.Hour}
	b := setup(t, webhooks.FanoutConfig{RetryDelays: delays})
	rc := newReceiver(t, 500, 503)
	w := mustWebhook(t, b.store, rc.URL+"/hook", "user.*")
	b.runWorker(t, webhooks.DeliverConfig{RetryDelays: delays})
	e, err := b.store.Create(context.Background(), events.Event{Name: "user.created", Data: json.RawMessage(`{"userId":"u1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a delivered attempt", func() bool {
		as := attempts(t, b.store, w.ID)
		return len(as) > 0 && as[0].Outcome == events.OutcomeDelivered
	})
	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("receiver got %d requests; want 3", len(got))
	}
	id := webhooks.DeliveryID(e.ID, w.ID)
	for i, r := range got {
		if r.header.Get("webhook-id") != id {
			t.Fatalf("request %d: webhook-id %q; want %q", i, r.header.Get("webhook-id"), id)
		}
		ts, _ := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
		if !webhooks.Verify(w.Secret, id, ts, r.body, r.header.Get("webhook-signature")) {
			t.Fatalf("request %d: signature does not verify", i)
		}
		var body struct {
			Type      string         `json:"type"`
			Timestamp time.Time      `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Type != "user.created" ||
			!body.Timestamp.Equal(e.CreatedAt) || body.Data["id"] != e.ID || body.Data["data"].(map[string]any)["userId"] != "u1" {
			t.Fatalf("request %d body %s (%v)", i, r.body, err)
		}
	}
	as := attempts(t, b.store, w.ID)
	if len(as) != 3 {
		t.Fatalf("%d attempts recorded; want 3", len(as))
	}
	for i, a := range as { // newest first
		n := 3 - i
		if a.Attempt != n || a.DeliveryID != id || a.EventID != e.ID || a.EventName != "user.created" {
			t.Fatalf("attempt %d: %+v", n, a)
		}
		// Each attempt names the job that made it, which its queue still has.
		if a.JobQueue != b.q.Name() || a.JobID != as[0].JobID {
			t.Fatalf("attempt %d: job %q in queue %q; want the delivery's one job in %q", n, a.JobID, a.JobQueue, b.q.Name())
		}
	}
	if job, err := b.q.Get(context.Background(), as[0].JobID); err != nil || job.Name != webhooks.JobName {
		t.Fatalf("the attempts' job %q: %+v, %v; want a %s job", as[0].JobID, job, err, webhooks.JobName)
	}
	if as[2].StatusCode != 500 || as[2].Outcome != events.OutcomeRetrying || as[2].Response != "answer 500" ||
		as[2].NextRetryAt.Before(as[2].CreatedAt.Add(delays[0])) {
		t.Fatalf("first attempt: %+v", as[2])
	}
	if as[1].StatusCode != 503 || as[1].NextRetryAt.Before(as[1].CreatedAt.Add(delays[1])) {
		t.Fatalf("second attempt: %+v", as[1])
	}
	if as[0].StatusCode != 200 || !as[0].NextRetryAt.IsZero() || as[0].Error != "" {
		t.Fatalf("third attempt: %+v", as[0])
	}
}

func TestDeliverFailsAtOnceOn4xxAndDisables(t *testing.T) {
	t.Parallel()
	b := setup(t, webhooks.FanoutConfig{})
	rc := newReceiver(t, 400, 400)
	w := mustWebhook(t, b.store, rc.URL, "*")
	b.runWorker(t, webhooks.DeliverConfig{DisableAfter: 2})
	ctx := context.Background()
	for i := range 2 {
		if _, err := b.store.Create(ctx, events.Event{Name: "x" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the subscription disabled", func() bool {
		got, err := b.store.GetWebhook(ctx, w.ID)
		return err == nil && !got.Enabled
	})
	got, _ := b.store.GetWebhook(ctx, w.ID)
	if !strings.Contains(got.DisabledReason, "2 deliveries") {
		t.Fatalf("disabled reason %q", got.DisabledReason)
	}
	as := attempts(t, b.store, w.ID)
	if len(as) != 2 || len(rc.requests()) != 2 {
		t.Fatalf("%d attempts, %d requests; want 2 and 2 (no retries on 400)", len(as), len(rc.requests()))
	}
	for _, a := range as {
		if a.Outcome != events.OutcomeFailed || a.StatusCode != 400 {
			t.Fatalf("attempt %+v; want failed with 400", a)
		}
	}
	// A disabled subscription gets no jobs.
	if _, err := b.store.Create(ctx, events.Event{Name: "later"}); err != nil {
		t.Fatal(err)
	}
	if n := len(jobsOf(t, b.q)); n != 2 {
		t.Fatalf("%d jobs after the subscription was disabled; want 2", n)
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	delays := []time.Duration{10 * time.Millisecond}
	b := setup(t, webhooks.FanoutConfig{RetryDelays: delays})
	rc := newReceiver(t, http.StatusTooManyRequests, http.StatusTooManyRequests)
	rc.header = http.Header{"Retry-After": {"1"}}
	w := mustWebhook(t, b.store, rc.URL, "*")
	b.runWorker(t, webhooks.DeliverConfig{RetryDelays: delays})
	if _, err := b.store.Create(context.Background(), events.Event{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery failed for good", func() bool {
		as := attempts(t, b.store, w.ID)
		return len(as) == 2
	})
	as := attempts(t, b.store, w.ID)
	first := as[1]
	if first.Outcome != events.OutcomeRetrying || first.NextRetryAt.Before(first.CreatedAt.Add(time.Second)) {
		t.Fatalf("first attempt %+v; want a retry at least Retry-After (1 s) later", first)
	}
	if as[0].Outcome != events.OutcomeFailed || !as[0].NextRetryAt.IsZero() {
		t.Fatalf("last attempt %+v; want failed, out of retries", as[0])
	}
}

func TestDeliverConnectionErrorIsRetried(t *testing.T) {
	t.Parallel()
	delays := []time.Duration{10 * time.Millisecond}
	b := setup(t, webhooks.FanoutConfig{RetryDelays: delays})
	rc := newReceiver(t)
	url := rc.URL
	rc.Close() // nobody listens there now
	w := mustWebhook(t, b.store, url, "*")
	b.runWorker(t, webhooks.DeliverConfig{RetryDelays: delays})
	if _, err := b.store.Create(context.Background(), events.Event{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two attempts", func() bool { return len(attempts(t, b.store, w.ID)) == 2 })
	as := attempts(t, b.store, w.ID)
	if as[1].Outcome != events.OutcomeRetrying || as[1].StatusCode != 0 || as[1].Error == "" || strings.Contains(as[1].Error, url) {
		t.Fatalf("attempt %+v; want retrying with an error that does not quote the URL", as[1])
	}
}

// TestDeliverDisablesAfterDaysOfFailures: a subscription whose deliveries
// have failed for DisableAge, with none delivered, is disabled by the next
// failure, however few failures there were.
func TestDeliverDisablesAfterDaysOfFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, webhooks.FanoutConfig{})
	rc := newReceiver(t, 410)
	w := mustWebhook(t, b.store, rc.URL, "*")
	ctx := context.Background()
	now := time.Now()
	if _, err := b.raw.RecordDeliveryOutcome(ctx, w.ID, false, now.Add(-6*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	b.runWorker(t, webhooks.DeliverConfig{DisableAfter: 1000, DisableAge: 5 * 24 * time.Hour})
	if _, err := b.store.Create(ctx, events.Event{Name: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription disabled", func() bool {
		got, err := b.store.GetWebhook(ctx, w.ID)
		return err == nil && !got.Enabled
	})
	got, _ := b.store.GetWebhook(ctx, w.ID)
	if got.Failures != 2 || !strings.Contains(got.DisabledReason, "failed since") {
		t.Fatalf("disabled %+v; want 2 failures and a reason naming when they began", got)
	}
}

// TestHungReceiverDoesNotStarveOthers: once a receiver has timed out
// BreakAfter times in a row, its deliveries fail at once, recorded as not
// sent, and keep their retry schedule, while another subscription's
// deliveries all go out. Without the circuit each of the hung receiver's
// deliveries would hold a slot for the whole timeout.
func TestHungReceiverDoesNotStarveOthers(t *testing.T) {
	t.Parallel()
	delays := []time.Duration{time.Hour}
	b := setup(t, webhooks.FanoutConfig{RetryDelays: delays})
	var sent atomic.Int64
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		io.Copy(io.Discard, r.Body) // the server notices a client gone only after the body
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for the handlers
	bad := mustWebhook(t, b.store, hung.URL+"/hook", "*")
	rc := newReceiver(t)
	good := mustWebhook(t, b.store, rc.URL+"/hook", "*")
	var notSent atomic.Int64
	b.runWorker(t, webhooks.DeliverConfig{RetryDelays: delays, Timeout: 200 * time.Millisecond,
		BreakAfter: 2, ProbeEvery: time.Hour, NotSent: func() { notSent.Add(1) }})

	const n = 12
	for i := range n {
		if _, err := b.store.Create(context.Background(), events.Event{Name: "e." + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "an attempt per delivery to both subscriptions", func() bool {
		return len(attempts(t, b.store, bad.ID)) == n && len(attempts(t, b.store, good.ID)) == n
	})
	if got := len(rc.requests()); got != n {
		t.Fatalf("the answering receiver got %d requests; want %d", got, n)
	}
	// The worker runs 4 at once: at most 4 requests can be out before the
	// first timeout, and one more before the second opens the circuit.
	if s := sent.Load(); s < 2 || s > 5 {
		t.Fatalf("the hung receiver got %d requests; want 2 (BreakAfter) to 5", s)
	}
	skipped := 0
	for _, a := range attempts(t, b.store, bad.ID) {
		if a.Outcome != events.OutcomeRetrying || a.NextRetryAt.IsZero() {
			t.Fatalf("attempt %+v; want retrying, with a next retry", a)
		}
		if strings.HasPrefix(a.Error, "not sent: the receiver timed out") {
			skipped++
		} else if a.Error != "timed out" {
			t.Fatalf("attempt error %q", a.Error)
		}
	}
	if int64(skipped) != n-sent.Load() || notSent.Load() != int64(skipped) {
		t.Fatalf("%d attempts recorded as not sent, %d counted, %d requests made; want %d in all", skipped, notSent.Load(), sent.Load(), n)
	}

	// A test send someone asks for goes out although the circuit is open.
	before := sent.Load()
	queued, err := webhooks.NewSender(b.store, b.q).SendTest(context.Background(), bad)
	if err != nil {
		t.Fatal(err)
	}
	if queued.JobQueue != b.q.Name() {
		t.Fatalf("the test send's job is in %q; want the sender's queue %q", queued.JobQueue, b.q.Name())
	}
	waitFor(t, "the test send's attempt", func() bool { return len(attempts(t, b.store, bad.ID)) == n+1 })
	if got := sent.Load(); got != before+1 {
		t.Fatalf("the hung receiver got %d requests after the test send; want %d", got, before+1)
	}
	if a := attempts(t, b.store, bad.ID)[0]; a.EventName != webhooks.TestEventName || a.Error != "timed out" {
		t.Fatalf("the test send's attempt %+v; want it sent, and timed out", a)
	}
}
