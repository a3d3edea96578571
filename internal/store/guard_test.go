package store_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/faultproxy"
	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/pgtest"
	"github.com/eventsd/eventsd/internal/store"
	"github.com/eventsd/eventsd/internal/store/mongo"
	"github.com/eventsd/eventsd/internal/store/postgres"
)

// TestGuard takes the store away behind a proxy, on MongoDB (FerretDB) and
// PostgreSQL: once the guard has seen it go, every call is refused with
// ErrUnavailable, even with the store's replies swallowed (where an unguarded
// call would wait out its deadline); once the store answers again calls go
// through by themselves, and what was written before is still there.
func TestGuard(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name string
		open func(t *testing.T) (events.Store, *faultproxy.Proxy)
	}{
		{"mongodb", func(t *testing.T) (events.Store, *faultproxy.Proxy) {
			u, err := url.Parse(ferrettest.Start(t).URI(""))
			if err != nil {
				t.Fatal(err)
			}
			px := faultproxy.Start(t, u.Host)
			s, err := mongo.Open(t.Context(), "mongodb://"+px.Addr()+"/guard", mongo.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return s, px
		}},
		{"postgres", func(t *testing.T) (events.Store, *faultproxy.Proxy) {
			u, err := url.Parse(pgtest.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			px := faultproxy.Start(t, u.Host)
			u.Host = px.Addr()
			s, err := postgres.Open(t.Context(), u.String(), postgres.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return s, px
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			inner, px := b.open(t)
			t.Cleanup(func() { inner.Close() })
			g := store.NewGuard(inner, store.GuardConfig{Interval: 100 * time.Millisecond, RetryInterval: 50 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- g.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			kept, err := g.Create(t.Context(), events.Event{Name: "before.outage"})
			if err != nil {
				t.Fatal(err)
			}

			px.Cut(true)
			waitFor(t, "the guard to see the store down", g.Down)
			px.Cut(false)
			px.Silence(true) // connections open, no answers: only the guard can answer now
			calls := map[string]func(context.Context) error{
				"Create": func(ctx context.Context) error { _, err := g.Create(ctx, events.Event{Name: "x"}); return err },
				"CreateMany": func(ctx context.Context) error {
					_, err := g.CreateMany(ctx, []events.Event{{Name: "x"}})
					return err
				},
				"Get":        func(ctx context.Context) error { _, err := g.Get(ctx, kept.ID); return err },
				"GetByJobID": func(ctx context.Context) error { _, err := g.GetByJobID(ctx, "j"); return err },
				"Delete":     func(ctx context.Context) error { return g.Delete(ctx, kept.ID) },
				"List":       func(ctx context.Context) error { _, err := g.List(ctx, events.ListQuery{}); return err },
				"Count":      func(ctx context.Context) error { _, err := g.Count(ctx, time.Time{}, time.Time{}); return err },
				"DeleteOlderThan": func(ctx context.Context) error {
					_, err := g.DeleteOlderThan(ctx, time.Now().Add(-time.Hour))
					return err
				},
				"Ping":   g.Ping,
				"RollUp": func(ctx context.Context) error { return g.RollUp(ctx, []time.Time{time.Now()}) },
				"MinuteCounts": func(ctx context.Context) error {
					_, err := g.MinuteCounts(ctx, events.CountQuery{})
					return err
				},
				"CreateWebhook": func(ctx context.Context) error {
					_, err := g.CreateWebhook(ctx, events.Webhook{URL: "https://example.com/hook", Events: []string{"*"}})
					return err
				},
				"GetWebhook":    func(ctx context.Context) error { _, err := g.GetWebhook(ctx, kept.ID); return err },
				"ListWebhooks":  func(ctx context.Context) error { _, err := g.ListWebhooks(ctx, events.WebhookQuery{}); return err },
				"DeleteWebhook": func(ctx context.Context) error { return g.DeleteWebhook(ctx, kept.ID) },
				"ListDeliveryAttempts": func(ctx context.Context) error {
					_, err := g.ListDeliveryAttempts(ctx, events.DeliveryQuery{})
					return err
				},
			}
			for name, call := range calls {
				cctx, ccancel := context.WithTimeout(t.Context(), time.Minute)
				err := call(cctx)
				ccancel()
				if !errors.Is(err, events.ErrUnavailable) {
					t.Errorf("%s with the store down: %v, want ErrUnavailable", name, err)
				}
			}

			for name, call := range map[string]func() error{
				"Get(nope)":       func() error { _, err := g.Get(t.Context(), "nope"); return err },
				"Delete(nope)":    func() error { return g.Delete(t.Context(), "nope") },
				"Create(no name)": func() error { _, err := g.Create(t.Context(), events.Event{}); return err },
				"List(limit -1)":  func() error { _, err := g.List(t.Context(), events.ListQuery{Limit: -1}); return err },
			} {
				if err := call(); err == nil || errors.Is(err, events.ErrUnavailable) {
					t.Errorf("%s with the store down: %v, want the input's own error", name, err)
				}
			}

			px.Silence(false)
			waitFor(t, "the guard to see the store back", func() bool { return !g.Down() })
			got, err := g.Get(t.Context(), kept.ID)
			if err != nil || got.ID != kept.ID {
				t.Fatalf("Get after the outage = %+v, %v; want %s", got, err, kept.ID)
			}
			if _, err := g.Create(t.Context(), events.Event{Name: "after.outage"}); err != nil {
				t.Fatalf("Create after the outage: %v", err)
			}
		})
	}
}

// TestGuardKeepsDomainErrors checks that callers' mistakes pass through as
// they are and do not mark the store down.
func TestGuardKeepsDomainErrors(t *testing.T) {
	t.Parallel()
	s, err := mongo.Open(t.Context(), ferrettest.URI(t), mongo.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	g := store.NewGuard(s, store.GuardConfig{})
	if _, err := g.Get(t.Context(), "nope"); !errors.Is(err, events.ErrInvalidID) {
		t.Errorf("Get(nope) = %v, want ErrInvalidID", err)
	}
	if _, err := g.Get(t.Context(), events.NewID()); !errors.Is(err, events.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if g.Down() {
		t.Error("a caller's mistake marked the store down")
	}
}

// waitFor polls cond until it holds, failing t after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
