package webhooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/webhooks"
)

func TestFanoutMatchesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t, webhooks.FanoutConfig{})
	ctx := context.Background()
	users := mustWebhook(t, b.store, "http://127.0.0.1:1/u", "user.*")
	all := mustWebhook(t, b.store, "http://127.0.0.1:1/all", "*")
	off := mustWebhook(t, b.store, "http://127.0.0.1:1/off", "*")
	off.Enabled = false
	if _, err := b.store.UpdateWebhook(ctx, off); err != nil {
		t.Fatal(err)
	}

	e1, err := b.store.Create(ctx, events.Event{Name: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := b.store.CreateMany(ctx, []events.Event{{Name: "order.placed", JobID: "j1"}, {Name: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	// The writer retries (a processor job run again): nothing is added twice.
	if _, err := b.store.CreateMany(ctx, []events.Event{{Name: "order.placed", JobID: "j1"}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		users.ID + " " + e1.ID: true, all.ID + " " + e1.ID: true,
		all.ID + " " + stored[0].ID: true, all.ID + " " + stored[1].ID: true,
	}
	jobs := jobsOf(t, b.q)
	if len(jobs) != len(want) {
		t.Fatalf("%d deliver-webhook jobs; want %d", len(jobs), len(want))
	}
	for _, j := range jobs {
		d := jobData(t, j)
		ev := d["event"].(map[string]any)
		key := d["webhookId"].(string) + " " + ev["id"].(string)
		if !want[key] {
			t.Fatalf("unexpected job for %s", key)
		}
		if d["deliveryId"] != webhooks.DeliveryID(ev["id"].(string), d["webhookId"].(string)) {
			t.Fatalf("job %s: delivery id %v", j.ID, d["deliveryId"])
		}
		delete(want, key)
	}
	if n, _ := b.r.Client.ZCard(ctx, b.r.Prefix+":webhooks:outbox").Result(); n != 0 {
		t.Fatalf("outbox holds %d entries after fan-outs that succeeded; want 0", n)
	}
}

// TestFanoutSweep: a fan-out that failed after its event was written is
// done by the sweep; an entry for an event never written is dropped.
func TestFanoutSweep(t *testing.T) {
	t.Parallel()
	b := setup(t, webhooks.FanoutConfig{SweepAge: time.Millisecond})
	ctx := context.Background()
	w := mustWebhook(t, b.store, "http://127.0.0.1:1/u", "user.*")
	key := b.r.Prefix + ":webhooks:outbox"

	// A crash between the write and the fan-out leaves what this does: an
	// outbox entry and a stored event, but no job.
	e, err := b.raw.Create(ctx, events.Event{Name: "user.created"})
	if err != nil {
		t.Fatal(err)
	}
	ghost := events.NewID() // a write that failed after its entry was made
	old := float64(time.Now().Add(-time.Hour).UnixMilli())
	b.r.Client.ZAdd(ctx, key, redisZ(old, e.ID), redisZ(old, ghost))

	if _, err := b.store.ListWebhooks(ctx, events.WebhookQuery{}); err != nil {
		t.Fatal(err)
	}
	n, err := b.fan.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 event fanned out", n, err)
	}
	jobs := jobsOf(t, b.q)
	if len(jobs) != 1 || jobData(t, jobs[0])["webhookId"] != w.ID {
		t.Fatalf("jobs after the sweep: %d; want 1 for %s", len(jobs), w.ID)
	}
	if n, _ := b.r.Client.ZCard(ctx, key).Result(); n != 0 {
		t.Fatalf("outbox holds %d entries after the sweep; want 0", n)
	}
	// Sweeping an entry again (a sweep whose ZREM was lost) adds nothing.
	b.r.Client.ZAdd(ctx, key, redisZ(old, e.ID))
	if _, err := b.fan.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs := jobsOf(t, b.q); len(jobs) != 1 {
		t.Fatalf("jobs after a second sweep: %d; want 1", len(jobs))
	}
}

// TestFanoutRefusesWithoutOutbox: an event that would notify is not written
// when its notification cannot be recorded.
func TestFanoutRefusesWithoutOutbox(t *testing.T) {
	t.Parallel()
	b := setup(t, webhooks.FanoutConfig{})
	ctx := context.Background()
	mustWebhook(t, b.store, "http://127.0.0.1:1/u", "user.*")
	// A key of the wrong type makes ZADD fail as a Redis outage would.
	key := b.r.Prefix + ":webhooks:outbox"
	b.r.Client.Set(ctx, key, "x", 0)
	if _, err := b.store.Create(ctx, events.Event{Name: "user.created"}); err == nil {
		t.Fatal("Create with the outbox unwritable: no error")
	}
	if n, _ := b.raw.Count(ctx, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("%d events written; want 0", n)
	}
	// Events no subscription matches do not need the outbox.
	if _, err := b.store.Create(ctx, events.Event{Name: "order.placed"}); err != nil {
		t.Fatalf("Create of an event nobody subscribes to: %v", err)
	}
}
