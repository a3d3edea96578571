package api

import (
	"context"
	"iter"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
)

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

// fakeProducer is a Producer that calls its Func fields.
type fakeProducer struct {
	GenerateMockFunc func(ctx context.Context, count int) ([]string, error)
	ImportFunc       func(ctx context.Context, items []events.ImportItem) (*queue.Job, error)
}

func (f *fakeProducer) Import(ctx context.Context, items []events.ImportItem) (*queue.Job, error) {
	return f.ImportFunc(ctx, items)
}

func (f *fakeProducer) GenerateMock(ctx context.Context, count int) ([]string, error) {
	return f.GenerateMockFunc(ctx, count)
}

// fakeSchedules is a Schedules that calls ListFunc.
type fakeSchedules struct {
	ListFunc func(ctx context.Context) ([]schedule.Info, error)
}

func (f *fakeSchedules) List(ctx context.Context) ([]schedule.Info, error) { return f.ListFunc(ctx) }
