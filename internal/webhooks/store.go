package webhooks

import (
	"context"

	"github.com/eventsd/eventsd/internal/events"
)

// Store is an events.Store whose event writes fan out to webhook
// subscriptions: the one place every writer (the API, the processor's
// Batcher, an import) goes through. Changes to subscriptions made through
// it apply to the fan-out at once; other processes see them within
// FanoutConfig.CacheTTL.
type Store struct {
	events.Store
	fan *Fanout
}

var _ events.Store = (*Store)(nil)

// Wrap returns st with writes fanned out by f.
func Wrap(st events.Store, f *Fanout) *Store { return &Store{Store: st, fan: f} }

// Create stores e and fans it out.
func (s *Store) Create(ctx context.Context, e events.Event) (events.Event, error) {
	stored, err := s.fan.write(ctx, []events.Event{e}, func(es []events.Event) ([]events.Event, error) {
		got, err := s.Store.Create(ctx, es[0])
		if err != nil {
			return nil, err
		}
		return []events.Event{got}, nil
	})
	if err != nil {
		return events.Event{}, err
	}
	return stored[0], nil
}

// CreateMany stores es and fans them out.
func (s *Store) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	return s.fan.write(ctx, es, func(es []events.Event) ([]events.Event, error) {
		return s.Store.CreateMany(ctx, es)
	})
}

// CreateWebhook stores a subscription; this process's fan-out sees it at once.
func (s *Store) CreateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	defer s.fan.invalidate()
	return s.Store.CreateWebhook(ctx, w)
}

// UpdateWebhook changes a subscription; this process's fan-out sees it at once.
func (s *Store) UpdateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	defer s.fan.invalidate()
	return s.Store.UpdateWebhook(ctx, w)
}

// DeleteWebhook removes a subscription; this process's fan-out sees it at once.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	defer s.fan.invalidate()
	return s.Store.DeleteWebhook(ctx, id)
}
