package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookRequest is one request a test receiver got.
type hookRequest struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

// hookReceiver is a webhook endpoint that answers with statuses in turn,
// then 200, and keeps every request.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []hookRequest
	statuses []int
}

func newHookReceiver(t *testing.T, statuses ...int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{statuses: statuses}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{time.Now(), r.Header.Clone(), body})
		status := http.StatusOK
		if n := len(h.got); n <= len(h.statuses) {
			status = h.statuses[n-1]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "status %d", status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// verifySignature checks a request as the Standard Webhooks specification
// says a receiver should, written out here rather than borrowed from
// eventsd: HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" keyed
// with the base64-decoded secret after "whsec_", base64, among the
// space-separated "v1,<sig>" entries of webhook-signature.
func verifySignature(t *testing.T, secret string, r hookRequest) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q is not whsec_<base64>", secret)
	}
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if id == "" || err != nil {
		t.Fatalf("request without webhook-id or a numeric webhook-timestamp: %v", r.Header)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		t.Fatalf("webhook-timestamp %s is %s from now", ts, d)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", id, ts)
	mac.Write(r.Body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return
		}
	}
	t.Fatalf("webhook-signature %q does not verify (want %s)", r.Header.Get("webhook-signature"), want)
}

type hookBody struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      event  `json:"data"`
}

type subscription struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

type delivery struct {
	ID          string `json:"id"`
	DeliveryID  string `json:"deliveryId"`
	EventID     string `json:"eventId"`
	EventName   string `json:"eventName"`
	JobID       string `json:"jobId"`
	JobQueue    string `json:"jobQueue"`
	Attempt     int    `json:"attempt"`
	Outcome     string `json:"outcome"`
	StatusCode  int    `json:"statusCode"`
	Response    string `json:"response"`
	NextRetryAt string `json:"nextRetryAt"`
	CreatedAt   string `json:"createdAt"`
}

func (p *proc) subscribe(url string, patterns ...string) subscription {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"url": url, "events": patterns, "description": "e2e"})
	var s subscription
	p.decode(p.do("POST", "/api/webhooks", string(body)), "POST /api/webhooks", http.StatusCreated, &s)
	return s
}

// jobOf returns the job that made attempt d, from GET
// /api/jobs/{jobId}?queue={jobQueue}, which must answer 200.
func (p *proc) jobOf(d delivery) job {
	p.t.Helper()
	if d.JobID == "" || d.JobQueue == "" {
		p.t.Fatalf("attempt %d of %s names no job: %+v", d.Attempt, d.DeliveryID, d)
	}
	var j job
	p.getJSON("/api/jobs/"+url.PathEscape(d.JobID)+"?queue="+url.QueryEscape(d.JobQueue), http.StatusOK, &j)
	return j
}

func (p *proc) deliveries(webhookID string) []delivery {
	p.t.Helper()
	var page struct {
		Items []delivery `json:"items"`
	}
	p.getJSON("/api/webhooks/"+webhookID+"/deliveries?limit=1000", http.StatusOK, &page)
	return page.Items
}

// TestWebhookDeliveries: a subscription to user.* gets one signed delivery
// for each matching event, whoever wrote it (the API, the processor), and
// none for the others.
func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t)
	p := start(t, "dev", "dev", map[string]string{"DATA_DIR": t.TempDir(), "CRON_MOCK_DATA": "off"})
	sub := p.subscribe(rc.URL+"/hook", "user.*")
	if !strings.HasPrefix(sub.Secret, "whsec_") {
		t.Fatalf("created subscription %+v: no whsec_ secret", sub)
	}
	if a := p.do("GET", "/api/webhooks/"+sub.ID, ""); strings.Contains(string(a.Body), sub.Secret) {
		t.Fatalf("GET shows the secret: %s", a)
	}

	for _, name := range []string{"user.created", "user.deleted", "order.placed", "user", "users.created", "user.a.b"} {
		p.decode(p.do("POST", "/api/events", `{"name":"`+name+`","data":{"n":1}}`), "POST /api/events", http.StatusCreated, nil)
	}
	jobs := p.generate(30) // the processor's writes, with mock names, several user.*
	eventually(t, 60*time.Second, "the mock-data jobs' events", func() (bool, string) {
		n := len(p.eventsByJob())
		return n == len(jobs), fmt.Sprintf("%d of %d", n, len(jobs))
	})
	want := map[string]event{}
	for _, e := range p.allEvents("") {
		if strings.HasPrefix(e.Name, "user.") {
			want[e.ID] = e
		}
	}
	eventually(t, 60*time.Second, "a delivery per matching event", func() (bool, string) {
		ds := p.deliveries(sub.ID)
		return len(ds) >= len(want), fmt.Sprintf("%d of %d deliveries recorded", len(ds), len(want))
	})
	got := rc.requests()
	if len(got) != len(want) {
		t.Fatalf("the receiver got %d requests; want %d, one per user.* event", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, r := range got {
		verifySignature(t, sub.Secret, r)
		var b hookBody
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("body %s: %v", r.Body, err)
		}
		e, ok := want[b.Data.ID]
		if !ok || seen[b.Data.ID] {
			t.Fatalf("delivery of event %s (%s): unexpected or twice", b.Data.ID, b.Type)
		}
		seen[b.Data.ID] = true
		if b.Type != e.Name || b.Timestamp != e.CreatedAt || b.Data.Name != e.Name || b.Data.CreatedAt != e.CreatedAt {
			t.Fatalf("delivery body %s; want the event %+v", r.Body, e)
		}
		if _, err := time.Parse(time.RFC3339, b.Timestamp); err != nil {
			t.Fatalf("timestamp %q is not RFC 3339", b.Timestamp)
		}
	}
	for _, d := range p.deliveries(sub.ID) {
		if d.Outcome != "delivered" || d.StatusCode != 200 || d.Attempt != 1 || d.Response != "status 200" {
			t.Fatalf("delivery %+v; want delivered on the first attempt", d)
		}
	}
}

// TestWebhookRetries: a receiver that answers 500 twice, then 200, gets
// three attempts further and further apart, the last delivered; a retry
// asked for sends the delivery again, with the same webhook-id.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, 500, 500)
	p := start(t, "dev", "dev", map[string]string{"DATA_DIR": t.TempDir(), "CRON_MOCK_DATA": "off",
		"WEBHOOK_RETRY_DELAYS": "300ms,1500ms,1h"})
	sub := p.subscribe(rc.URL, "*")
	var e event
	p.decode(p.do("POST", "/api/events", `{"name":"user.retried"}`), "POST /api/events", http.StatusCreated, &e)

	eventually(t, 60*time.Second, "a delivered attempt", func() (bool, string) {
		ds := p.deliveries(sub.ID)
		return len(ds) > 0 && ds[0].Outcome == "delivered", fmt.Sprintf("%+v", ds)
	})
	got := rc.requests()
	if len(got) != 3 {
		t.Fatalf("the receiver got %d requests; want 3", len(got))
	}
	id := got[0].Header.Get("webhook-id")
	for _, r := range got {
		verifySignature(t, sub.Secret, r)
		if r.Header.Get("webhook-id") != id {
			t.Fatalf("webhook-id changed between attempts: %q then %q", id, r.Header.Get("webhook-id"))
		}
	}
	// Lower bounds only: the schedule guarantees them, a slow machine
	// can only make the gaps longer.
	if gap1, gap2 := got[1].At.Sub(got[0].At), got[2].At.Sub(got[1].At); gap1 < 300*time.Millisecond || gap2 < 1500*time.Millisecond {
		t.Fatalf("gaps %s, %s; want at least 300ms, then 1.5s", gap1, gap2)
	}
	ds := p.deliveries(sub.ID) // newest first
	if len(ds) != 3 {
		t.Fatalf("%d attempts listed; want 3", len(ds))
	}
	waits := []time.Duration{}
	for i, d := range ds {
		n := 3 - i
		wantOutcome, wantStatus := "retrying", 500
		if n == 3 {
			wantOutcome, wantStatus = "delivered", 200
		}
		if d.Attempt != n || d.Outcome != wantOutcome || d.StatusCode != wantStatus || d.DeliveryID != id || d.EventID != e.ID {
			t.Fatalf("attempt %d: %+v", n, d)
		}
		if d.NextRetryAt != "" {
			next, _ := time.Parse(time.RFC3339, d.NextRetryAt)
			at, _ := time.Parse(time.RFC3339, d.CreatedAt)
			waits = append([]time.Duration{next.Sub(at)}, waits...)
		}
	}
	if len(waits) != 2 || waits[0] < 300*time.Millisecond || waits[1] <= waits[0] {
		t.Fatalf("recorded waits before the retries %v; want growing from 300ms", waits)
	}
	// The three attempts name one job, the delivery's, which the API finds
	// in the queue they name: completed after its third attempt.
	fanned := p.jobOf(ds[0])
	for _, d := range ds {
		if d.JobID != fanned.ID || d.JobQueue != fanned.Queue {
			t.Fatalf("attempt %d names job %q in %q; want the delivery's job %q in %q", d.Attempt, d.JobID, d.JobQueue, fanned.ID, fanned.Queue)
		}
	}
	if fanned.Name != "deliver-webhook" || fanned.Queue != "webhooks" || fanned.State != "completed" || fanned.Attempt != 3 {
		t.Fatalf("the attempts' job: %+v; want a deliver-webhook job in webhooks, completed on attempt 3", fanned)
	}

	// A retry asked for: one more request, the same webhook-id, attempt 4.
	a := p.do("POST", "/api/webhooks/"+sub.ID+"/deliveries/"+id+"/retry", "")
	if a.Status != http.StatusAccepted {
		t.Fatalf("retry: %s", a)
	}
	var sent struct {
		JobID string `json:"jobId"`
	}
	if err := json.Unmarshal(a.Body, &sent); err != nil || sent.JobID == "" {
		t.Fatalf("retry answer %s: no jobId (%v)", a, err)
	}
	eventually(t, 60*time.Second, "the retried delivery", func() (bool, string) {
		ds := p.deliveries(sub.ID)
		return len(ds) == 4 && ds[0].Outcome == "delivered", fmt.Sprintf("%+v", ds)
	})
	if got := rc.requests(); len(got) != 4 || got[3].Header.Get("webhook-id") != id {
		t.Fatalf("after the retry the receiver got %d requests (last id %q); want 4 with id %s", len(got), got[len(got)-1].Header.Get("webhook-id"), id)
	}
	d := p.deliveries(sub.ID)[0]
	if d.Attempt != 4 {
		t.Fatalf("the retry was recorded as attempt %d; want 4", d.Attempt)
	}
	if j := p.jobOf(d); j.ID != sent.JobID || j.Name != "deliver-webhook" || j.State != "completed" {
		t.Fatalf("the retried attempt's job: %+v; want the retry's job %s, completed", j, sent.JobID)
	}

	// A test event reaches the receiver too.
	if a := p.do("POST", "/api/webhooks/"+sub.ID+"/test", ""); a.Status != http.StatusAccepted {
		t.Fatalf("test: %s", a)
	}
	eventually(t, 60*time.Second, "the test event", func() (bool, string) {
		got := rc.requests()
		return len(got) == 5 && strings.Contains(string(got[4].Body), `"type":"webhook.test"`), fmt.Sprintf("%d requests", len(got))
	})
	verifySignature(t, sub.Secret, rc.requests()[4])
}

// TestSlowReceiverDoesNotHoldUpJobs: deliveries have a queue and worker
// slots of their own. A receiver that never answers holds every delivery
// slot, and the event pipeline's jobs still all run meanwhile. With
// deliveries in the jobs' queue, the hung deliveries held every worker slot,
// and no job ran until the first delivery timed out (10 s), which this
// receiver notices: it counts the requests that ended.
func TestSlowReceiverDoesNotHoldUpJobs(t *testing.T) {
	t.Parallel()
	var open, ended atomic.Int64
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open.Add(1)
		defer ended.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(free) // before Close, which waits for the handlers
	p := start(t, "dev", "dev", map[string]string{"DATA_DIR": t.TempDir(), "CRON_MOCK_DATA": "off",
		"WORKER_CONCURRENCY": "2", "WEBHOOK_CONCURRENCY": "2"})
	p.subscribe(hung.URL+"/hook", "*")
	for i := range 6 {
		p.decode(p.do("POST", "/api/events", fmt.Sprintf(`{"name":"slow.%d"}`, i)), "POST /api/events", http.StatusCreated, nil)
	}
	eventually(t, 60*time.Second, "both delivery slots held by the receiver", func() (bool, string) {
		return open.Load() == 2, fmt.Sprintf("%d requests open", open.Load())
	})
	var active struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	p.getJSON("/api/jobs?state=active&queue=webhooks", http.StatusOK, &active)
	if len(active.Items) != 2 || active.Items[0].Name != "deliver-webhook" {
		t.Fatalf("active jobs in the webhooks queue: %+v; want the 2 hung deliveries", active.Items)
	}

	jobs := p.generate(40)
	eventually(t, 60*time.Second, "every mock-data job's event", func() (bool, string) {
		n := len(p.eventsByJob())
		return n == len(jobs), fmt.Sprintf("%d of %d", n, len(jobs))
	})
	if n := ended.Load(); n != 0 {
		t.Fatalf("%d hung deliveries ended before the jobs were done: the jobs waited for them", n)
	}
	if open.Load() != 2 {
		t.Fatalf("%d requests reached the receiver; want only the 2 delivery slots' worth", open.Load())
	}
	free() // before eventsd stops, which would wait out the deliveries
}
