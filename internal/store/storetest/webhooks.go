package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func webhookTests() []test {
	return []test{
		{"WebhookCreateGet", testWebhookCreateGet},
		{"WebhookList", testWebhookList},
		{"WebhookUpdate", testWebhookUpdate},
		{"WebhookDelete", testWebhookDelete},
		{"WebhookOutcomes", testWebhookOutcomes},
		{"WebhookAttempts", testWebhookAttempts},
		{"WebhookAttemptsPaging", testWebhookAttemptsPaging},
	}
}

func newWebhook(i int) events.Webhook {
	return events.Webhook{URL: fmt.Sprintf("https://example.com/hook/%d", i), Events: []string{"user.*", "order.created"},
		Description: "hook " + fmt.Sprint(i), Secret: "whsec_c2VjcmV0", Enabled: true}
}

func mustCreateWebhook(t *testing.T, s events.Store, w events.Webhook) events.Webhook {
	t.Helper()
	got, err := s.CreateWebhook(ctx(t), w)
	if err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
	return got
}

func sameWebhook(t *testing.T, what string, got, want events.Webhook) {
	t.Helper()
	if got.ID != want.ID || got.URL != want.URL || !slices.Equal(got.Events, want.Events) ||
		got.Description != want.Description || got.Secret != want.Secret || got.Enabled != want.Enabled ||
		got.DisabledReason != want.DisabledReason || !got.CreatedAt.Equal(want.CreatedAt) ||
		got.Failures != want.Failures || !got.FailingSince.Equal(want.FailingSince) {
		t.Fatalf("%s = %+v; want %+v", what, got, want)
	}
	checkTime(t, what, got.CreatedAt)
}

func testWebhookCreateGet(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	checkID(t, "created webhook", w.ID)
	if w.CreatedAt.IsZero() || !w.Enabled {
		t.Fatalf("created webhook %+v: want CreatedAt set and enabled", w)
	}
	got, err := s.GetWebhook(ctx(t), w.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	sameWebhook(t, "GetWebhook", got, w)

	at := base.Add(123456789 * time.Nanosecond)
	w2 := mustCreateWebhook(t, s, events.Webhook{URL: "http://x", Events: []string{"*"}, Secret: "whsec_eA==", CreatedAt: at})
	if !w2.CreatedAt.Equal(events.Normalize(at)) {
		t.Fatalf("CreatedAt = %v; want %v", w2.CreatedAt, events.Normalize(at))
	}
	got, _ = s.GetWebhook(ctx(t), w2.ID)
	sameWebhook(t, "GetWebhook (disabled)", got, w2)

	for _, id := range []string{events.NewID(), "nope", ""} {
		_, err := s.GetWebhook(ctx(t), id)
		wantErr(t, "GetWebhook("+id+")", err, events.ErrWebhookNotFound)
	}
}

func testWebhookList(t *testing.T, s events.Store) {
	var all []events.Webhook
	for i := range 7 {
		w := newWebhook(i)
		w.Enabled = i%2 == 0
		all = append(all, mustCreateWebhook(t, s, w))
	}
	slices.SortFunc(all, func(a, b events.Webhook) int { return strings.Compare(a.ID, b.ID) })
	var seen []events.Webhook
	q := events.WebhookQuery{Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("listing did not end")
		}
		p, err := s.ListWebhooks(ctx(t), q)
		if err != nil {
			t.Fatalf("ListWebhooks: %v", err)
		}
		seen = append(seen, p.Items...)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if len(seen) != len(all) {
		t.Fatalf("listed %d webhooks; want %d", len(seen), len(all))
	}
	for i := range all {
		sameWebhook(t, fmt.Sprintf("listed[%d]", i), seen[i], all[i])
	}
	p, err := s.ListWebhooks(ctx(t), events.WebhookQuery{EnabledOnly: true})
	if err != nil {
		t.Fatalf("ListWebhooks(enabled): %v", err)
	}
	if len(p.Items) != 4 || p.Next != "" {
		t.Fatalf("enabled: %d items, next %q; want 4 and none", len(p.Items), p.Next)
	}
	for _, w := range p.Items {
		if !w.Enabled {
			t.Fatalf("enabled listing holds %+v", w)
		}
	}
	_, err = s.ListWebhooks(ctx(t), events.WebhookQuery{Limit: events.MaxLimit + 1})
	wantErr(t, "ListWebhooks(limit too big)", err, events.ErrInvalidLimit)
	_, err = s.ListWebhooks(ctx(t), events.WebhookQuery{After: "zz"})
	wantErr(t, "ListWebhooks(bad cursor)", err, events.ErrInvalidCursor)
}

func testWebhookUpdate(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	if _, err := s.RecordDeliveryOutcome(ctx(t), w.ID, false, base); err != nil {
		t.Fatalf("RecordDeliveryOutcome: %v", err)
	}
	// Disabling keeps the failures; enabling again clears them.
	w.Enabled, w.DisabledReason, w.URL, w.Events, w.Description, w.Secret = false, "too many failures", "https://b.example/x", []string{"*"}, "new", "whsec_bmV3"
	got, err := s.UpdateWebhook(ctx(t), w)
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	want := w
	want.Failures, want.FailingSince = 1, base
	sameWebhook(t, "UpdateWebhook (disable)", got, want)
	read, _ := s.GetWebhook(ctx(t), w.ID)
	sameWebhook(t, "GetWebhook after update", read, want)

	w.Enabled, w.DisabledReason = true, ""
	got, err = s.UpdateWebhook(ctx(t), w)
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	sameWebhook(t, "UpdateWebhook (enable)", got, w)

	// Saving an enabled subscription keeps its count.
	if _, err := s.RecordDeliveryOutcome(ctx(t), w.ID, false, base); err != nil {
		t.Fatalf("RecordDeliveryOutcome: %v", err)
	}
	w.Description = "again"
	got, err = s.UpdateWebhook(ctx(t), w)
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	want = w
	want.Failures, want.FailingSince = 1, base
	sameWebhook(t, "UpdateWebhook (enabled, saved again)", got, want)

	_, err = s.UpdateWebhook(ctx(t), events.Webhook{ID: events.NewID(), URL: "http://x"})
	wantErr(t, "UpdateWebhook(unknown)", err, events.ErrWebhookNotFound)
}

func testWebhookDelete(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	other := mustCreateWebhook(t, s, newWebhook(2))
	for _, hook := range []events.Webhook{w, other} {
		if _, err := s.AddDeliveryAttempt(ctx(t), events.DeliveryAttempt{WebhookID: hook.ID, DeliveryID: "msg_" + hook.ID,
			EventID: events.NewID(), EventName: "user.created", Attempt: 1, Outcome: events.OutcomeDelivered, StatusCode: 200}); err != nil {
			t.Fatalf("AddDeliveryAttempt: %v", err)
		}
	}
	if err := s.DeleteWebhook(ctx(t), w.ID); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	_, err := s.GetWebhook(ctx(t), w.ID)
	wantErr(t, "GetWebhook(deleted)", err, events.ErrWebhookNotFound)
	wantErr(t, "DeleteWebhook(again)", s.DeleteWebhook(ctx(t), w.ID), events.ErrWebhookNotFound)
	wantErr(t, "DeleteWebhook(malformed)", s.DeleteWebhook(ctx(t), "x"), events.ErrWebhookNotFound)
	p, err := s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: w.ID})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("attempts of a deleted webhook: %d, %v; want none", len(p.Items), err)
	}
	p, err = s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: other.ID})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("attempts of the other webhook: %d, %v; want 1", len(p.Items), err)
	}
}

func testWebhookOutcomes(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	for i := range 3 {
		got, err := s.RecordDeliveryOutcome(ctx(t), w.ID, false, base.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatalf("RecordDeliveryOutcome: %v", err)
		}
		if got.Failures != i+1 || !got.FailingSince.Equal(base) {
			t.Fatalf("after %d failures: %d since %v; want %d since %v", i+1, got.Failures, got.FailingSince, i+1, base)
		}
	}
	got, err := s.RecordDeliveryOutcome(ctx(t), w.ID, true, base.Add(4*time.Hour))
	if err != nil {
		t.Fatalf("RecordDeliveryOutcome: %v", err)
	}
	if got.Failures != 0 || !got.FailingSince.IsZero() {
		t.Fatalf("after a delivery: %d since %v; want 0 and none", got.Failures, got.FailingSince)
	}
	_, err = s.RecordDeliveryOutcome(ctx(t), events.NewID(), false, base)
	wantErr(t, "RecordDeliveryOutcome(unknown)", err, events.ErrWebhookNotFound)
}

func testWebhookAttempts(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	a := events.DeliveryAttempt{WebhookID: w.ID, DeliveryID: "msg_1", EventID: events.NewID(), EventName: "user.created",
		JobID: "webhook-job-1", JobQueue: "mock-data-queue", Attempt: 1, Outcome: events.OutcomeRetrying, StatusCode: 500, Duration: 1500*time.Millisecond + 300*time.Microsecond,
		Error: "HTTP 500", Response: strings.Repeat("é", 600), NextRetryAt: base.Add(time.Minute), CreatedAt: base}
	first, err := s.AddDeliveryAttempt(ctx(t), a)
	if err != nil {
		t.Fatalf("AddDeliveryAttempt: %v", err)
	}
	checkID(t, "attempt", first.ID)
	if len(first.Response) > events.MaxResponseBytes || !strings.HasPrefix(strings.Repeat("é", 600), first.Response) ||
		len(first.Response) < events.MaxResponseBytes-1 {
		t.Fatalf("response kept %d bytes; want the first %d bytes of valid UTF-8", len(first.Response), events.MaxResponseBytes)
	}
	if first.Duration != 1500*time.Millisecond || !first.NextRetryAt.Equal(base.Add(time.Minute)) || first.StatusCode != 500 ||
		first.Outcome != events.OutcomeRetrying || first.EventName != "user.created" || first.Attempt != 1 ||
		first.JobID != a.JobID || first.JobQueue != a.JobQueue {
		t.Fatalf("stored attempt %+v", first)
	}
	// The same attempt recorded again replaces the first record, its job included.
	a.Outcome, a.StatusCode, a.NextRetryAt, a.Error = events.OutcomeDelivered, 200, time.Time{}, ""
	a.JobID, a.JobQueue = "webhook-job-2", "webhooks"
	again, err := s.AddDeliveryAttempt(ctx(t), a)
	if err != nil {
		t.Fatalf("AddDeliveryAttempt(again): %v", err)
	}
	if again.ID != first.ID || again.StatusCode != 200 || !again.NextRetryAt.IsZero() || again.Error != "" ||
		again.JobID != "webhook-job-2" || again.JobQueue != "webhooks" {
		t.Fatalf("attempt recorded again = %+v; want the first's ID %s with the new fields", again, first.ID)
	}
	a.Attempt, a.CreatedAt = 2, base.Add(time.Second)
	if _, err := s.AddDeliveryAttempt(ctx(t), a); err != nil {
		t.Fatalf("AddDeliveryAttempt(2): %v", err)
	}
	// An attempt recorded without its job, as before attempts named one,
	// reads back without one.
	other := a
	other.DeliveryID, other.Attempt, other.JobID, other.JobQueue = "msg_2", 1, "", ""
	if got, err := s.AddDeliveryAttempt(ctx(t), other); err != nil || got.JobID != "" || got.JobQueue != "" {
		t.Fatalf("AddDeliveryAttempt(other delivery, no job) = %+v, %v; want no job", got, err)
	}
	p, err := s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: w.ID, DeliveryID: "msg_1"})
	if err != nil {
		t.Fatalf("ListDeliveryAttempts: %v", err)
	}
	if len(p.Items) != 2 || p.Items[0].Attempt != 2 || p.Items[1].Attempt != 1 {
		t.Fatalf("attempts of msg_1: %+v; want attempts 2 then 1", p.Items)
	}
	for _, got := range p.Items {
		if got.JobID != "webhook-job-2" || got.JobQueue != "webhooks" {
			t.Fatalf("listed attempt %d: job %q in %q; want webhook-job-2 in webhooks", got.Attempt, got.JobID, got.JobQueue)
		}
	}
	p, _ = s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: w.ID, DeliveryID: "msg_2"})
	if len(p.Items) != 1 || p.Items[0].JobID != "" || p.Items[0].JobQueue != "" {
		t.Fatalf("attempts of msg_2: %+v; want one without a job", p.Items)
	}
	p, _ = s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: w.ID})
	if len(p.Items) != 3 {
		t.Fatalf("attempts of the webhook: %d; want 3", len(p.Items))
	}
	_, err = s.AddDeliveryAttempt(ctx(t), events.DeliveryAttempt{WebhookID: w.ID, DeliveryID: "msg_1"})
	if err == nil {
		t.Fatal("AddDeliveryAttempt without an attempt number: no error")
	}
	_, err = s.ListDeliveryAttempts(ctx(t), events.DeliveryQuery{WebhookID: w.ID, Limit: -1})
	wantErr(t, "ListDeliveryAttempts(bad limit)", err, events.ErrInvalidLimit)
}

func testWebhookAttemptsPaging(t *testing.T, s events.Store) {
	w := mustCreateWebhook(t, s, newWebhook(1))
	const n = 11
	for i := range n {
		// Pairs share a CreatedAt, so that ids break the ties.
		if _, err := s.AddDeliveryAttempt(ctx(t), events.DeliveryAttempt{WebhookID: w.ID, DeliveryID: fmt.Sprintf("msg_%d", i),
			EventID: events.NewID(), EventName: "e", Attempt: 1, Outcome: events.OutcomeFailed,
			CreatedAt: base.Add(time.Duration(i/2) * time.Second)}); err != nil {
			t.Fatalf("AddDeliveryAttempt: %v", err)
		}
	}
	var seen []events.DeliveryAttempt
	q := events.DeliveryQuery{WebhookID: w.ID, Limit: 4}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("listing did not end")
		}
		p, err := s.ListDeliveryAttempts(ctx(t), q)
		if err != nil {
			t.Fatalf("ListDeliveryAttempts: %v", err)
		}
		seen = append(seen, p.Items...)
		if p.Next.IsZero() {
			break
		}
		q.After = p.Next
	}
	if len(seen) != n {
		t.Fatalf("listed %d attempts; want %d", len(seen), n)
	}
	for i := 1; i < len(seen); i++ {
		a, b := seen[i-1], seen[i]
		if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID <= b.ID) {
			t.Fatalf("attempts not newest first at %d: %+v then %+v", i, a, b)
		}
	}
}
