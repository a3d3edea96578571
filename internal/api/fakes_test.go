package api

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/queue"
	"github.com/eventsd/eventsd/internal/schedule"
	"github.com/eventsd/eventsd/internal/store"
)

// memStore is an in-memory events.Store with the stores' semantics, built on
// the input rules they share (package store).
type memStore struct {
	mu     sync.Mutex
	events map[string]events.Event
}

var _ events.Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{events: map[string]events.Event{}} }

func (s *memStore) Create(_ context.Context, e events.Event) (events.Event, error) {
	p, err := store.Prepare(e)
	if err != nil {
		return events.Event{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.JobID != "" {
		for _, old := range s.events {
			if old.JobID == p.JobID {
				return old, nil
			}
		}
	}
	if _, ok := s.events[p.ID]; ok {
		return events.Event{}, events.ErrDuplicateID
	}
	s.events[p.ID] = p
	return p, nil
}

func (s *memStore) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	b, err := store.PrepareBatch(es)
	if err != nil {
		return nil, err
	}
	stored := make([]events.Event, len(b.Unique))
	for i, e := range b.Unique {
		if stored[i], err = s.Create(ctx, e); err != nil {
			return nil, err
		}
	}
	return b.Answer(stored), nil
}

func (s *memStore) Get(_ context.Context, id string) (events.Event, error) {
	oid, err := store.ParseID(id)
	if err != nil {
		return events.Event{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[oid.Hex()]
	if !ok {
		return events.Event{}, events.ErrNotFound
	}
	return e, nil
}

func (s *memStore) GetByJobID(_ context.Context, jobID string) (events.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.JobID == jobID {
			return e, nil
		}
	}
	return events.Event{}, events.ErrNotFound
}

func (s *memStore) Delete(_ context.Context, id string) error {
	oid, err := store.ParseID(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.events[oid.Hex()]; !ok {
		return events.ErrNotFound
	}
	delete(s.events, oid.Hex())
	return nil
}

func (s *memStore) List(_ context.Context, q events.ListQuery) (events.Page, error) {
	q, err := store.Query(q)
	if err != nil {
		return events.Page{}, err
	}
	s.mu.Lock()
	all := make([]events.Event, 0, len(s.events))
	for _, e := range s.events {
		all = append(all, e)
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b events.Event) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	var rows []events.Event
	for _, e := range all {
		if !q.After.IsZero() {
			c := cmp.Or(e.CreatedAt.Compare(q.After.CreatedAt), cmp.Compare(e.ID, q.After.ID))
			if c >= 0 {
				continue
			}
		}
		if (q.Name != "" && e.Name != q.Name) || (!q.From.IsZero() && e.CreatedAt.Before(q.From)) ||
			(!q.To.IsZero() && !e.CreatedAt.Before(q.To)) {
			continue
		}
		rows = append(rows, e)
		if len(rows) > q.Limit {
			break
		}
	}
	return store.Page(rows, q.Limit), nil
}

func (s *memStore) Count(_ context.Context, from, to time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, e := range s.events {
		if (from.IsZero() || !e.CreatedAt.Before(from)) && (to.IsZero() || e.CreatedAt.Before(to)) {
			n++
		}
	}
	return n, nil
}

func (s *memStore) DeleteOlderThan(_ context.Context, t time.Time) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for id, e := range s.events {
		if e.CreatedAt.Before(t) {
			delete(s.events, id)
			n++
		}
	}
	return n, nil
}

func (s *memStore) Ping(context.Context) error { return nil }
func (s *memStore) Close() error               { return nil }

// fakeJobs is a Jobs whose methods call the Func fields; an unset Func
// answers zero values.
type fakeJobs struct {
	GetFunc      func(ctx context.Context, id string) (*queue.Job, error)
	ListFunc     func(ctx context.Context, state queue.State, offset, limit int) ([]*queue.Job, error)
	CountsFunc   func(ctx context.Context) (queue.Counts, error)
	RemoveFunc   func(ctx context.Context, id string) error
	RetryFunc    func(ctx context.Context, id string) error
	RetryAllFunc func(ctx context.Context) (int, error)
	PromoteFunc  func(ctx context.Context, id string) error
	CancelFunc   func(ctx context.Context, id string) error
	PauseFunc    func(ctx context.Context) error
	ResumeFunc   func(ctx context.Context) error
	EventsFunc   func(ctx context.Context, after string) iter.Seq2[queue.Event, error]
}

var _ Jobs = (*fakeJobs)(nil)

func (f *fakeJobs) Name() string { return "mock-data-queue" }

func (f *fakeJobs) Get(ctx context.Context, id string) (*queue.Job, error) {
	if f.GetFunc == nil {
		return nil, queue.ErrNotFound
	}
	return f.GetFunc(ctx, id)
}

func (f *fakeJobs) List(ctx context.Context, state queue.State, offset, limit int) ([]*queue.Job, error) {
	if f.ListFunc == nil {
		return nil, nil
	}
	return f.ListFunc(ctx, state, offset, limit)
}

func (f *fakeJobs) Counts(ctx context.Context) (queue.Counts, error) {
	if f.CountsFunc == nil {
		return queue.Counts{}, nil
	}
	return f.CountsFunc(ctx)
}

func (f *fakeJobs) Remove(ctx context.Context, id string) error { return callID(ctx, f.RemoveFunc, id) }
func (f *fakeJobs) Retry(ctx context.Context, id string) error  { return callID(ctx, f.RetryFunc, id) }
func (f *fakeJobs) Promote(ctx context.Context, id string) error {
	return callID(ctx, f.PromoteFunc, id)
}
func (f *fakeJobs) Cancel(ctx context.Context, id string) error { return callID(ctx, f.CancelFunc, id) }

func (f *fakeJobs) RetryAll(ctx context.Context) (int, error) {
	if f.RetryAllFunc == nil {
		return 0, nil
	}
	return f.RetryAllFunc(ctx)
}

func (f *fakeJobs) Pause(ctx context.Context) error {
	if f.PauseFunc == nil {
		return nil
	}
	return f.PauseFunc(ctx)
}

func (f *fakeJobs) Resume(ctx context.Context) error {
	if f.ResumeFunc == nil {
		return nil
	}
	return f.ResumeFunc(ctx)
}

func (f *fakeJobs) Events(ctx context.Context, after string) iter.Seq2[queue.Event, error] {
	if f.EventsFunc == nil {
		return func(func(queue.Event, error) bool) { <-ctx.Done() }
	}
	return f.EventsFunc(ctx, after)
}

func callID(ctx context.Context, f func(context.Context, string) error, id string) error {
	if f == nil {
		return nil
	}
	return f(ctx, id)
}

// fakeProducer is a Producer that calls GenerateMockFunc.
type fakeProducer struct {
	GenerateMockFunc func(ctx context.Context, count int) ([]string, error)
}

func (f *fakeProducer) GenerateMock(ctx context.Context, count int) ([]string, error) {
	return f.GenerateMockFunc(ctx, count)
}

// fakeSchedules is a Schedules that calls ListFunc.
type fakeSchedules struct {
	ListFunc func(ctx context.Context) ([]schedule.Info, error)
}

func (f *fakeSchedules) List(ctx context.Context) ([]schedule.Info, error) { return f.ListFunc(ctx) }
