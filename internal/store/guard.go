package store

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

// Guard wraps a Store so that callers learn at once that it is down instead
// of each waiting out its driver (MongoDB's server selection takes 5 s).
// While its last ping failed, every call but Close returns
// events.ErrUnavailable without touching the store, once its input has
// passed the checks every store applies (Prepare, Query, ParseID): a bad
// request is still a bad request while the store is down. Run pings the store
// on a timer, and at once after a call fails for a reason that is not the
// caller's (not a domain error, not the caller's own cancellation), so the
// first failures mark the store down within about GuardConfig.PingTimeout;
// while down it pings every RetryInterval and lets calls through again as
// soon as one answers. Without Run a Guard passes every call through. The
// methods of events.Rollups and events.WebhookStore fail fast the same way;
// they check their input inside the store, so while it is down a bad input
// to them is answered ErrUnavailable too.
type Guard struct {
	events.Store
	cfg  GuardConfig
	log  *slog.Logger
	down atomic.Bool
	kick chan struct{}
}

var _ events.Store = (*Guard)(nil)

// GuardConfig tunes a Guard; a zero field means its default.
type GuardConfig struct {
	// Interval is the time between pings while the store is up. Default 2 s.
	Interval time.Duration
	// RetryInterval is the time between pings while it is down. Default 250 ms.
	RetryInterval time.Duration
	// PingTimeout bounds one ping; a slower answer counts as down. Default 800 ms.
	PingTimeout time.Duration
	// Logger gets one line when the store goes down and one when it is back.
	// Default slog.Default().
	Logger *slog.Logger
}

// NewGuard returns a Guard around s, up until a ping says otherwise.
func NewGuard(s events.Store, cfg GuardConfig) *Guard {
	cfg.Interval = cmp.Or(cfg.Interval, 2*time.Second)
	cfg.RetryInterval = cmp.Or(cfg.RetryInterval, 250*time.Millisecond)
	cfg.PingTimeout = cmp.Or(cfg.PingTimeout, 800*time.Millisecond)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Guard{Store: s, cfg: cfg, log: log, kick: make(chan struct{}, 1)}
}

// Down reports whether the last ping failed.
func (g *Guard) Down() bool { return g.down.Load() }

// Run pings the store until ctx ends, keeping Down current.
func (g *Guard) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-g.kick:
		}
		g.probe(ctx)
		t.Reset(g.wait())
	}
}

func (g *Guard) wait() time.Duration {
	if g.down.Load() {
		return g.cfg.RetryInterval
	}
	return g.cfg.Interval
}

func (g *Guard) probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, g.cfg.PingTimeout)
	err := g.Store.Ping(pctx)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the ping was cut short, not the store
	}
	switch down := err != nil; {
	case down && !g.down.Swap(true):
		g.log.Warn("event store unreachable: refusing store calls until it answers", "err", err)
	case !down && g.down.Swap(false):
		g.log.Info("event store reachable again")
	}
}

// check returns ErrUnavailable while the store is down.
func (g *Guard) check() error {
	if g.down.Load() {
		return events.ErrUnavailable
	}
	return nil
}

// seen asks Run for a ping now when err may mean the store is gone.
func (g *Guard) seen(ctx context.Context, err error) {
	if err == nil || callerFault(ctx, err) {
		return
	}
	select {
	case g.kick <- struct{}{}:
	default: // a ping is already due
	}
}

// callerFault reports whether err is the caller's doing: a domain error, or
// its own context ending before the store had a chance to fail.
func callerFault(ctx context.Context, err error) bool {
	for _, e := range []error{events.ErrNotFound, events.ErrInvalidID, events.ErrInvalidCursor,
		events.ErrEmptyName, events.ErrInvalidLimit, events.ErrDuplicateID, events.ErrInvalidData,
		events.ErrTooManyCounts, events.ErrWebhookNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.Is(err, context.Canceled) && ctx.Err() != nil
}

// Create is the Store's, or ErrUnavailable while it is down.
func (g *Guard) Create(ctx context.Context, e events.Event) (events.Event, error) {
	if _, err := Prepare(e); err != nil {
		return events.Event{}, err
	}
	if err := g.check(); err != nil {
		return events.Event{}, err
	}
	e, err := g.Store.Create(ctx, e)
	g.seen(ctx, err)
	return e, err
}

// CreateMany is the Store's, or ErrUnavailable while it is down.
func (g *Guard) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	if _, err := PrepareBatch(es); err != nil {
		return nil, err
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	out, err := g.Store.CreateMany(ctx, es)
	g.seen(ctx, err)
	return out, err
}

// Get is the Store's, or ErrUnavailable while it is down.
func (g *Guard) Get(ctx context.Context, id string) (events.Event, error) {
	if _, err := ParseID(id); err != nil {
		return events.Event{}, err
	}
	if err := g.check(); err != nil {
		return events.Event{}, err
	}
	e, err := g.Store.Get(ctx, id)
	g.seen(ctx, err)
	return e, err
}

// GetByJobID is the Store's, or ErrUnavailable while it is down.
func (g *Guard) GetByJobID(ctx context.Context, jobID string) (events.Event, error) {
	if err := g.check(); err != nil {
		return events.Event{}, err
	}
	e, err := g.Store.GetByJobID(ctx, jobID)
	g.seen(ctx, err)
	return e, err
}

// Delete is the Store's, or ErrUnavailable while it is down.
func (g *Guard) Delete(ctx context.Context, id string) error {
	if _, err := ParseID(id); err != nil {
		return err
	}
	if err := g.check(); err != nil {
		return err
	}
	err := g.Store.Delete(ctx, id)
	g.seen(ctx, err)
	return err
}

// List is the Store's, or ErrUnavailable while it is down.
func (g *Guard) List(ctx context.Context, q events.ListQuery) (events.Page, error) {
	if _, err := Query(q); err != nil {
		return events.Page{}, err
	}
	if err := g.check(); err != nil {
		return events.Page{}, err
	}
	p, err := g.Store.List(ctx, q)
	g.seen(ctx, err)
	return p, err
}

// Count is the Store's, or ErrUnavailable while it is down.
func (g *Guard) Count(ctx context.Context, from, to time.Time) (int64, error) {
	if err := g.check(); err != nil {
		return 0, err
	}
	n, err := g.Store.Count(ctx, from, to)
	g.seen(ctx, err)
	return n, err
}

// DeleteOlderThan is the Store's, or ErrUnavailable while it is down.
func (g *Guard) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	if err := g.check(); err != nil {
		return 0, err
	}
	n, err := g.Store.DeleteOlderThan(ctx, t)
	g.seen(ctx, err)
	return n, err
}

// Ping is ErrUnavailable while the store is down, else the Store's.
func (g *Guard) Ping(ctx context.Context) error {
	if err := g.check(); err != nil {
		return err
	}
	err := g.Store.Ping(ctx)
	g.seen(ctx, err)
	return err
}

// guarded runs call unless the store is down, and notes its error.
func guarded[T any](g *Guard, ctx context.Context, call func() (T, error)) (T, error) {
	if err := g.check(); err != nil {
		var zero T
		return zero, err
	}
	v, err := call()
	g.seen(ctx, err)
	return v, err
}

// RollUp is the Store's, or ErrUnavailable while it is down.
func (g *Guard) RollUp(ctx context.Context, minutes []time.Time) error {
	_, err := guarded(g, ctx, func() (struct{}, error) { return struct{}{}, g.Store.RollUp(ctx, minutes) })
	return err
}

// MinuteCounts is the Store's, or ErrUnavailable while it is down.
func (g *Guard) MinuteCounts(ctx context.Context, q events.CountQuery) ([]events.MinuteCount, error) {
	return guarded(g, ctx, func() ([]events.MinuteCount, error) { return g.Store.MinuteCounts(ctx, q) })
}

// CreateWebhook is the Store's, or ErrUnavailable while it is down.
func (g *Guard) CreateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	return guarded(g, ctx, func() (events.Webhook, error) { return g.Store.CreateWebhook(ctx, w) })
}

// GetWebhook is the Store's, or ErrUnavailable while it is down.
func (g *Guard) GetWebhook(ctx context.Context, id string) (events.Webhook, error) {
	return guarded(g, ctx, func() (events.Webhook, error) { return g.Store.GetWebhook(ctx, id) })
}

// ListWebhooks is the Store's, or ErrUnavailable while it is down.
func (g *Guard) ListWebhooks(ctx context.Context, q events.WebhookQuery) (events.WebhookPage, error) {
	return guarded(g, ctx, func() (events.WebhookPage, error) { return g.Store.ListWebhooks(ctx, q) })
}

// UpdateWebhook is the Store's, or ErrUnavailable while it is down.
func (g *Guard) UpdateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	return guarded(g, ctx, func() (events.Webhook, error) { return g.Store.UpdateWebhook(ctx, w) })
}

// DeleteWebhook is the Store's, or ErrUnavailable while it is down.
func (g *Guard) DeleteWebhook(ctx context.Context, id string) error {
	_, err := guarded(g, ctx, func() (struct{}, error) { return struct{}{}, g.Store.DeleteWebhook(ctx, id) })
	return err
}

// RecordDeliveryOutcome is the Store's, or ErrUnavailable while it is down.
func (g *Guard) RecordDeliveryOutcome(ctx context.Context, id string, delivered bool, at time.Time) (events.Webhook, error) {
	return guarded(g, ctx, func() (events.Webhook, error) { return g.Store.RecordDeliveryOutcome(ctx, id, delivered, at) })
}

// AddDeliveryAttempt is the Store's, or ErrUnavailable while it is down.
func (g *Guard) AddDeliveryAttempt(ctx context.Context, a events.DeliveryAttempt) (events.DeliveryAttempt, error) {
	return guarded(g, ctx, func() (events.DeliveryAttempt, error) { return g.Store.AddDeliveryAttempt(ctx, a) })
}

// ListDeliveryAttempts is the Store's, or ErrUnavailable while it is down.
func (g *Guard) ListDeliveryAttempts(ctx context.Context, q events.DeliveryQuery) (events.DeliveryPage, error) {
	return guarded(g, ctx, func() (events.DeliveryPage, error) { return g.Store.ListDeliveryAttempts(ctx, q) })
}
