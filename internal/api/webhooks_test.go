package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/webhooks"
)

// fakeSender is a WebhookSender that records what it was asked.
type fakeSender struct {
	mu    sync.Mutex
	tests []events.Webhook
	last  []events.DeliveryAttempt
}

func (f *fakeSender) SendTest(_ context.Context, w events.Webhook) (webhooks.Sent, error) {
	if !w.Enabled {
		return webhooks.Sent{}, webhooks.ErrDisabled
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tests = append(f.tests, w)
	return webhooks.Sent{JobID: "j1", JobQueue: webhooks.QueueName, DeliveryID: "msg_x", EventID: events.NewID()}, nil
}

func (f *fakeSender) Retry(_ context.Context, w events.Webhook, last events.DeliveryAttempt) (webhooks.Sent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = append(f.last, last)
	return webhooks.Sent{JobID: "j2", DeliveryID: last.DeliveryID, EventID: last.EventID}, nil
}

func webhookSetup(t *testing.T) (*bundle, *fakeSender) {
	s := &fakeSender{}
	b := setup(t, func(c *Config) { c.Webhooks = s })
	return b, s
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	b, _ := webhookSetup(t)
	res := b.do(t, "POST", "/api/webhooks", strings.NewReader(`{"url":"https://93.184.215.14/hook","events":["user.*","order.created"],"description":"crm"}`))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	w := res.json(t)
	id, secret := w["id"].(string), w["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || w["enabled"] != true || w["url"] != "https://93.184.215.14/hook" ||
		res.header.Get("Location") != "/api/webhooks/"+id || w["createdAt"] == nil {
		t.Fatalf("created %s", res.body)
	}
	got := b.do(t, "GET", "/api/webhooks/"+id, nil)
	if got.status != 200 || strings.Contains(string(got.body), "secret") || strings.Contains(string(got.body), secret) {
		t.Fatalf("get: %d %s; want it without the secret", got.status, got.body)
	}
	list := b.do(t, "GET", "/api/webhooks", nil)
	if list.status != 200 || strings.Contains(string(list.body), secret) || !strings.Contains(string(list.body), id) {
		t.Fatalf("list: %d %s", list.status, list.body)
	}

	patched := b.do(t, "PATCH", "/api/webhooks/"+id, strings.NewReader(`{"enabled":false,"events":["*"]}`))
	if patched.status != 200 {
		t.Fatalf("patch: %d %s", patched.status, patched.body)
	}
	if v := patched.json(t); v["enabled"] != false || fmt.Sprint(v["events"]) != "[*]" || v["description"] != "crm" {
		t.Fatalf("patched %s", patched.body)
	}

	rotated := b.do(t, "POST", "/api/webhooks/"+id+"/rotate-secret", nil)
	if rotated.status != 200 {
		t.Fatalf("rotate: %d %s", rotated.status, rotated.body)
	}
	if s2, _ := rotated.json(t)["secret"].(string); !strings.HasPrefix(s2, "whsec_") || s2 == secret {
		t.Fatalf("rotated secret %q; want a new one", s2)
	}
	stored, _ := b.store.GetWebhook(t.Context(), id)
	if stored.Secret == secret {
		t.Fatal("the store keeps the old secret")
	}
	if strings.Contains(b.logs.String(), "whsec_") {
		t.Fatal("a secret was logged")
	}

	if res := b.do(t, "DELETE", "/api/webhooks/"+id, nil); res.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/webhooks/" + id}, {"DELETE", "/api/webhooks/" + id}, {"GET", "/api/webhooks/nope"},
		{"POST", "/api/webhooks/" + id + "/rotate-secret"}, {"POST", "/api/webhooks/" + id + "/test"},
		{"GET", "/api/webhooks/" + id + "/deliveries"}, {"POST", "/api/webhooks/" + id + "/deliveries/msg_1/retry"},
	} {
		if res := b.do(t, r.method, r.path, nil); res.status != http.StatusNotFound {
			t.Errorf("%s %s: %d %s; want 404", r.method, r.path, res.status, res.body)
		}
	}
	if res := b.do(t, "PATCH", "/api/webhooks/"+id, strings.NewReader(`{"enabled":true}`)); res.status != http.StatusNotFound {
		t.Errorf("PATCH unknown: %d", res.status)
	}
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	b, _ := webhookSetup(t)
	for _, tc := range []struct{ body, where string }{
		{`{"url":"ftp://example.com/x","events":["*"]}`, "body.url"},
		{`{"url":"http://127.0.0.1:9000/hook","events":["*"]}`, "body.url"},
		{`{"url":"http://169.254.169.254/latest","events":["*"]}`, "body.url"},
		{`{"url":"http://10.0.0.8/","events":["*"]}`, "body.url"},
		{`{"url":"http://localhost/","events":["*"]}`, "body.url"},
		{`{"url":"https://93.184.215.14/","events":["user*"]}`, "body.events[0]"},
		{`{"url":"https://93.184.215.14/","events":["a","*.b"]}`, "body.events[1]"},
		{`{"url":"https://93.184.215.14/","events":[]}`, "body.events"},
		{`{"url":"https://93.184.215.14/"}`, "body"},
		{`{"url":"https://93.184.215.14/","events":["*"],"secret":"x"}`, "body.secret"},
	} {
		res := b.do(t, "POST", "/api/webhooks", strings.NewReader(tc.body))
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), tc.where) {
			t.Errorf("%s: %d %s; want 422 at %s", tc.body, res.status, res.body, tc.where)
		}
	}
	if res := b.do(t, "GET", "/api/webhooks?cursor=zz", nil); res.status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d %s", res.status, res.body)
	}
	created := b.do(t, "POST", "/api/webhooks", strings.NewReader(`{"url":"https://93.184.215.14/","events":["*"]}`)).json(t)
	id := created["id"].(string)
	res := b.do(t, "PATCH", "/api/webhooks/"+id, strings.NewReader(`{"url":"http://127.0.0.1/"}`))
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("patch to loopback: %d %s", res.status, res.body)
	}
	if res := b.do(t, "GET", "/api/webhooks/"+id+"/deliveries?cursor=zz", nil); res.status != http.StatusBadRequest {
		t.Errorf("deliveries bad cursor: %d %s", res.status, res.body)
	}
}

func TestWebhookAllowPrivate(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.WebhooksAllowPrivate = true })
	res := b.do(t, "POST", "/api/webhooks", strings.NewReader(`{"url":"http://127.0.0.1:9000/hook","events":["*"]}`))
	if res.status != http.StatusCreated {
		t.Fatalf("allowed private: %d %s", res.status, res.body)
	}
	// Without a sender, a test is a 503.
	id := res.json(t)["id"].(string)
	if res := b.do(t, "POST", "/api/webhooks/"+id+"/test", nil); res.status != http.StatusServiceUnavailable {
		t.Fatalf("test without a sender: %d %s", res.status, res.body)
	}
}

func TestWebhookTestAndRetry(t *testing.T) {
	t.Parallel()
	b, s := webhookSetup(t)
	id := b.do(t, "POST", "/api/webhooks", strings.NewReader(`{"url":"https://93.184.215.14/","events":["*"]}`)).json(t)["id"].(string)
	if res := b.do(t, "POST", "/api/webhooks/"+id+"/test", nil); res.status != http.StatusAccepted || res.json(t)["jobId"] != "j1" || res.json(t)["jobQueue"] != webhooks.QueueName {
		t.Fatalf("test: %d %s", res.status, res.body)
	}
	if len(s.tests) != 1 || s.tests[0].ID != id {
		t.Fatalf("sender asked %+v", s.tests)
	}
	ev := events.NewID()
	for n := 1; n <= 2; n++ {
		// The first attempt is as an older eventsd recorded it: without its job.
		var job, queue string
		if n == 2 {
			job, queue = "webhook-"+ev, webhooks.QueueName
		}
		if _, err := b.store.AddDeliveryAttempt(t.Context(), events.DeliveryAttempt{WebhookID: id, DeliveryID: "msg_a",
			EventID: ev, EventName: "user.created", JobID: job, JobQueue: queue, Attempt: n, Outcome: events.OutcomeFailed, StatusCode: 500,
			Duration: 12 * time.Millisecond, Response: "oops", CreatedAt: time.Now().Add(time.Duration(n) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	list := b.do(t, "GET", "/api/webhooks/"+id+"/deliveries?limit=1", nil)
	if list.status != 200 {
		t.Fatalf("deliveries: %d %s", list.status, list.body)
	}
	page := list.json(t)
	items := page["items"].([]any)
	first := items[0].(map[string]any)
	if len(items) != 1 || first["attempt"] != 2.0 || first["statusCode"] != 500.0 || first["response"] != "oops" ||
		first["durationMs"] != 12.0 || first["deliveryId"] != "msg_a" || page["nextCursor"] == nil ||
		first["jobId"] != "webhook-"+ev || first["jobQueue"] != webhooks.QueueName {
		t.Fatalf("deliveries page %s", list.body)
	}
	next := b.do(t, "GET", "/api/webhooks/"+id+"/deliveries?limit=1&cursor="+page["nextCursor"].(string), nil)
	it := next.json(t)["items"].([]any)
	if len(it) != 1 || it[0].(map[string]any)["attempt"] != 1.0 {
		t.Fatalf("second page %s", next.body)
	}
	if _, ok := it[0].(map[string]any)["jobId"]; ok || strings.Contains(string(next.body), "jobQueue") {
		t.Fatalf("an attempt without its job: %s; want no jobId or jobQueue", next.body)
	}
	res := b.do(t, "POST", "/api/webhooks/"+id+"/deliveries/msg_a/retry", nil)
	if res.status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", res.status, res.body)
	}
	if len(s.last) != 1 || s.last[0].Attempt != 2 || s.last[0].EventID != ev {
		t.Fatalf("retry handed %+v; want the latest attempt", s.last)
	}
	if res := b.do(t, "POST", "/api/webhooks/"+id+"/deliveries/msg_none/retry", nil); res.status != http.StatusNotFound {
		t.Fatalf("retry of an unknown delivery: %d %s", res.status, res.body)
	}
	b.do(t, "PATCH", "/api/webhooks/"+id, strings.NewReader(`{"enabled":false}`))
	if res := b.do(t, "POST", "/api/webhooks/"+id+"/test", nil); res.status != http.StatusConflict {
		t.Fatalf("test of a disabled subscription: %d %s", res.status, res.body)
	}
}
