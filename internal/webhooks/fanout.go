package webhooks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// FanoutConfig tunes a Fanout. The zero value of every field is its default.
type FanoutConfig struct {
	// OutboxKey is the Redis sorted set of event ids whose fan-out is not
	// known to be done. Default "eventsd:webhooks:outbox".
	OutboxKey string
	// RetryDelays is the delivery schedule; its length is a delivery's
	// retries. Default DefaultRetryDelays.
	RetryDelays []time.Duration
	// CacheTTL is how long the list of enabled subscriptions is reused
	// before it is read again; changes made through this process's Store
	// apply at once. Default 5 s.
	CacheTTL time.Duration
	// SweepEvery is how often Run sweeps the outbox. Default 30 s.
	SweepEvery time.Duration
	// SweepAge is how old an outbox entry must be before Run takes it over
	// from the writer that made it. Default 1 min, well past a store write's
	// timeout.
	SweepAge time.Duration
	// Logger logs fan-outs left to the sweep. Default: discard.
	Logger *slog.Logger
}

// Fanout turns stored events into deliver-webhook jobs.
type Fanout struct {
	store events.Store // the unwrapped store
	q     *queue.Queue
	rdb   redis.UniversalClient
	cfg   FanoutConfig

	loadMu   sync.Mutex // held while the subscriptions are read from the store
	mu       sync.Mutex // guards the cache
	subs     []events.Webhook
	loadedAt time.Time
	gen      uint64 // bumped by invalidate, so a load started before it is not cached
}

// NewFanout returns a Fanout reading subscriptions from st and adding jobs
// to q; rdb holds the outbox.
func NewFanout(st events.Store, q *queue.Queue, rdb redis.UniversalClient, cfg FanoutConfig) *Fanout {
	cfg.OutboxKey = cmp.Or(cfg.OutboxKey, "eventsd:webhooks:outbox")
	if len(cfg.RetryDelays) == 0 {
		cfg.RetryDelays = DefaultRetryDelays
	}
	cfg.CacheTTL = cmp.Or(cfg.CacheTTL, 5*time.Second)
	cfg.SweepEvery = cmp.Or(cfg.SweepEvery, 30*time.Second)
	cfg.SweepAge = cmp.Or(cfg.SweepAge, time.Minute)
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	return &Fanout{store: st, q: q, rdb: rdb, cfg: cfg}
}

// cached returns the cached subscriptions while they are fresh, and the
// cache's generation.
func (f *Fanout) cached() ([]events.Webhook, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fresh := !f.loadedAt.IsZero() && time.Since(f.loadedAt) < f.cfg.CacheTTL
	return f.subs, f.gen, fresh
}

// subscriptions returns the enabled subscriptions, from the cache when it
// is fresh. One caller at a time reads the store; the others wait for its
// answer rather than all asking at once when the cache expires.
func (f *Fanout) subscriptions(ctx context.Context) ([]events.Webhook, error) {
	if subs, _, ok := f.cached(); ok {
		return subs, nil
	}
	f.loadMu.Lock()
	defer f.loadMu.Unlock()
	subs, gen, ok := f.cached()
	if ok {
		return subs, nil
	}
	subs = nil

	q := events.WebhookQuery{EnabledOnly: true, Limit: events.MaxLimit}
	for {
		p, err := f.store.ListWebhooks(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list webhook subscriptions: %w", err)
		}
		subs = append(subs, p.Items...)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	f.mu.Lock()
	if f.gen == gen {
		f.subs, f.loadedAt = subs, time.Now()
	}
	f.mu.Unlock()
	return subs, nil
}

// invalidate makes the next fan-out read the subscriptions afresh.
func (f *Fanout) invalidate() {
	f.mu.Lock()
	f.loadedAt, f.subs = time.Time{}, nil
	f.gen++
	f.mu.Unlock()
}

// jobsFor returns the deliver-webhook jobs of es.
func (f *Fanout) jobsFor(subs []events.Webhook, es []events.Event) []queue.NewJob {
	var jobs []queue.NewJob
	for _, e := range es {
		for _, w := range subs {
			if MatchAny(w.Events, e.Name) {
				jobs = append(jobs, newJob(w, e, len(f.cfg.RetryDelays)))
			}
		}
	}
	return jobs
}

func matchesAny(subs []events.Webhook, es []events.Event) bool {
	for _, e := range es {
		for _, w := range subs {
			if MatchAny(w.Events, e.Name) {
				return true
			}
		}
	}
	return false
}

// write stores es through create and fans the stored events out. Events
// that will notify are in the outbox from before the write until their jobs
// are added; see the package documentation.
func (f *Fanout) write(ctx context.Context, es []events.Event, create func([]events.Event) ([]events.Event, error)) ([]events.Event, error) {
	subs, err := f.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	if !matchesAny(subs, es) {
		return create(es)
	}
	es = slices.Clone(es)
	var marked []any
	now := float64(time.Now().UnixMilli())
	var members []redis.Z
	for i := range es {
		if !MatchAny(anyPatterns(subs), es[i].Name) {
			continue
		}
		if es[i].ID == "" {
			es[i].ID = events.NewID()
		}
		members = append(members, redis.Z{Score: now, Member: es[i].ID})
		marked = append(marked, es[i].ID)
	}
	// ZADD is idempotent: a retry after a lost reply changes nothing.
	if err := f.rdb.ZAdd(ctx, f.cfg.OutboxKey, members...).Err(); err != nil {
		return nil, fmt.Errorf("record the events' webhook notifications: %w", err)
	}
	stored, err := create(es)
	if err != nil {
		return nil, err // the sweep removes the entries of events never written
	}
	if _, err := f.q.AddBulk(ctx, f.jobsFor(subs, stored)); err != nil {
		f.cfg.Logger.Warn("webhook fan-out left to the outbox sweep", "events", len(stored), "err", err)
		return stored, nil
	}
	for _, e := range stored { // an event of a job that already had one has another id
		marked = append(marked, e.ID)
	}
	if err := f.rdb.ZRem(context.WithoutCancel(ctx), f.cfg.OutboxKey, marked...).Err(); err != nil {
		f.cfg.Logger.Warn("webhook outbox not cleared; the sweep will add nothing twice", "err", err)
	}
	return stored, nil
}

// anyPatterns returns every pattern of subs.
func anyPatterns(subs []events.Webhook) []string {
	var ps []string
	for _, w := range subs {
		ps = append(ps, w.Events...)
	}
	return ps
}

// Run sweeps the outbox every SweepEvery until ctx ends: events whose
// fan-out a writer left unfinished for SweepAge are read back and fanned
// out (adding a job that exists adds nothing), and entries of events that
// were never written, or since deleted, are dropped.
func (f *Fanout) Run(ctx context.Context) error {
	t := time.NewTicker(f.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := f.Sweep(ctx); err != nil && ctx.Err() == nil {
			f.cfg.Logger.Warn("webhook outbox sweep failed; retrying at the next", "err", err)
		}
	}
}

// sweepBatch is how many outbox entries one round of Sweep takes.
const sweepBatch = 500

// Sweep fans out the outbox entries older than SweepAge and says how many
// events it fanned out.
func (f *Fanout) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		maxScore := strconv.FormatInt(time.Now().Add(-f.cfg.SweepAge).UnixMilli(), 10)
		ids, err := f.rdb.ZRangeByScore(ctx, f.cfg.OutboxKey, &redis.ZRangeBy{Min: "-inf", Max: maxScore, Count: sweepBatch}).Result()
		if err != nil {
			return total, fmt.Errorf("read the webhook outbox: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		var found []events.Event
		var done []any
		for _, id := range ids {
			e, err := f.store.Get(ctx, id)
			switch {
			case err == nil:
				found = append(found, e)
			case errors.Is(err, events.ErrNotFound), errors.Is(err, events.ErrInvalidID):
			default:
				return total, err
			}
			done = append(done, id)
		}
		if len(found) > 0 {
			subs, err := f.subscriptions(ctx)
			if err != nil {
				return total, err
			}
			if _, err := f.q.AddBulk(ctx, f.jobsFor(subs, found)); err != nil {
				return total, fmt.Errorf("fan out: %w", err)
			}
		}
		if err := f.rdb.ZRem(ctx, f.cfg.OutboxKey, done...).Err(); err != nil {
			return total, fmt.Errorf("clear the webhook outbox: %w", err)
		}
		total += len(found)
		if len(ids) < sweepBatch {
			return total, nil
		}
	}
}
