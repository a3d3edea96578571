package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// auditRecords returns the "management action" records of the server's log.
func auditRecords(t *testing.T, b *bundle) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "management action" {
			out = append(out, rec)
		}
	}
	return out
}

// TestManagementActionsLogged: every management action through the API is
// logged once with what it did, to what, whether it was done, and who asked
// as far as the server knows.
func TestManagementActionsLogged(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Token, c.ReadToken = "write-secret", "read-secret" })
	action := func(_ context.Context, id string) error {
		if id == "1" {
			return nil
		}
		return queue.ErrWrongState
	}
	b.jobs.RemoveFunc, b.jobs.RetryFunc, b.jobs.PromoteFunc, b.jobs.CancelFunc = action, action, action, action
	b.jobs.RetryAllFunc = func(context.Context) (int, error) { return 3, nil }
	e, err := b.store.Create(t.Context(), events.Event{Name: "to.delete", CreatedAt: events.Now()})
	if err != nil {
		t.Fatal(err)
	}

	write := []string{"Authorization", "Bearer write-secret"}
	type want struct{ action, outcome, id string }
	var wants []want
	for _, tc := range []struct {
		method, path, action, id string
		status                   int
	}{
		{"POST", "/api/queue/pause", "pause", "", http.StatusNoContent},
		{"POST", "/api/queue/resume", "resume", "", http.StatusNoContent},
		{"POST", "/api/jobs/1/cancel", "cancel", "1", http.StatusAccepted},
		{"POST", "/api/jobs/1/retry", "retry", "1", http.StatusNoContent},
		{"POST", "/api/jobs/1/promote", "promote", "1", http.StatusNoContent},
		{"DELETE", "/api/jobs/1", "remove", "1", http.StatusNoContent},
		{"POST", "/api/jobs/2/cancel", "cancel", "2", http.StatusConflict},
		{"POST", "/api/jobs/retry-failed", "retry-failed", "", http.StatusOK},
		{"DELETE", "/api/events/" + e.ID, "delete-event", e.ID, http.StatusNoContent},
	} {
		res := b.do(t, tc.method, tc.path, nil, write...)
		wantStatus(t, res, tc.status)
		outcome := "done"
		if tc.status >= 400 {
			outcome = "refused"
		}
		wants = append(wants, want{tc.action, outcome, tc.id})
	}
	// Refused before any action: not logged as one.
	wantStatus(t, b.do(t, "POST", "/api/queue/pause", nil, "Authorization", "Bearer read-secret"), http.StatusForbidden)

	recs := auditRecords(t, b)
	if len(recs) != len(wants) {
		t.Fatalf("%d management action records, want %d:\n%s", len(recs), len(wants), b.logs.String())
	}
	for i, w := range wants {
		r := recs[i]
		id, _ := r["job_id"].(string)
		if w.action == "delete-event" {
			id, _ = r["event_id"].(string)
		}
		if r["action"] != w.action || r["outcome"] != w.outcome || id != w.id || r["level"] != "INFO" {
			t.Errorf("record %d: %v; want action %s, outcome %s, id %q at INFO", i, r, w.action, w.outcome, w.id)
		}
		if r["credential"] != "API_TOKEN" {
			t.Errorf("record %d: credential %v, want API_TOKEN", i, r["credential"])
		}
		if addr, _ := r["remote_addr"].(string); !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("record %d: remote_addr %q, want the client's address", i, addr)
		}
		if w.outcome == "refused" && (r["status"] != float64(http.StatusConflict) || r["err"] == nil) {
			t.Errorf("record %d: a refused action without its status and error: %v", i, r)
		}
		if w.action == "retry-failed" && r["retried"] != float64(3) {
			t.Errorf("record %d: retried %v, want 3", i, r["retried"])
		}
	}
	if log := b.logs.String(); strings.Contains(log, "write-secret") || strings.Contains(log, "read-secret") {
		t.Error("a token is in the log")
	}
}

// TestManagementActionOpenAPI: with no token set, the log says so.
func TestManagementActionOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantStatus(t, b.post(t, "/api/queue/pause", ""), http.StatusNoContent)
	recs := auditRecords(t, b)
	if len(recs) != 1 || recs[0]["credential"] != "none" || recs[0]["action"] != "pause" {
		t.Errorf("records %v, want one pause with credential none", recs)
	}
}

// TestWebhookActionsLogged: changes to webhook subscriptions are management
// actions too, logged without the subscription's URL or secret.
func TestWebhookActionsLogged(t *testing.T) {
	t.Parallel()
	b, _ := webhookSetup(t)
	created := b.do(t, "POST", "/api/webhooks", strings.NewReader(`{"url":"https://93.184.215.14/hook?token=tok","events":["*"]}`))
	wantStatus(t, created, http.StatusCreated)
	w := created.json(t)
	id, secret := w["id"].(string), w["secret"].(string)
	wantStatus(t, b.do(t, "PATCH", "/api/webhooks/"+id, strings.NewReader(`{"enabled":false}`)), http.StatusOK)
	rotated := b.do(t, "POST", "/api/webhooks/"+id+"/rotate-secret", nil)
	wantStatus(t, rotated, http.StatusOK)
	wantStatus(t, b.do(t, "DELETE", "/api/webhooks/"+id, nil), http.StatusNoContent)
	wantStatus(t, b.do(t, "DELETE", "/api/webhooks/"+id, nil), http.StatusNotFound)

	var got []string
	for _, rec := range auditRecords(t, b) {
		if rec["webhook_id"] != id {
			t.Errorf("record without the subscription's id: %v", rec)
		}
		got = append(got, rec["action"].(string)+" "+rec["outcome"].(string))
	}
	want := []string{"webhook-create done", "webhook-update done", "webhook-rotate-secret done", "webhook-delete done", "webhook-delete refused"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("actions logged: %v; want %v", got, want)
	}
	logs := b.logs.String()
	for _, s := range []string{secret, rotated.json(t)["secret"].(string), "tok", "93.184.215.14"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log shows %q:\n%s", s, logs)
		}
	}
}
