package events

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventsd/eventsd/queue"
)

// Processor runs process-mock-data jobs: the seed's EventsProcessor. It turns
// a job's data into an event and writes it idempotently by job id, so a
// redelivered job still produces exactly one event. Writes from concurrent
// jobs are batched.
type Processor struct {
	w *Batcher
}

// NewProcessor returns a Processor writing through w.
func NewProcessor(w *Batcher) *Processor { return &Processor{w: w} }

// Result is what a completed job stores.
type Result struct {
	EventID string `json:"eventId"`
}

// ProcessJob writes the job's event, with the payload's data. A malformed
// payload fails the job at once: retrying cannot fix it. The data is held to
// CleanData's rules but not to a size limit, which applies where data comes
// from outside (the API): these jobs come from the Producer.
func (p *Processor) ProcessJob(ctx context.Context, job *queue.Job) (any, error) {
	var d MockData
	if err := json.Unmarshal(job.Data, &d); err != nil {
		return nil, queue.SkipRetry(fmt.Errorf("malformed job data: %v", err))
	}
	name, err := CleanName(d.Name)
	if err != nil {
		return nil, queue.SkipRetry(fmt.Errorf("malformed job data: %v", err))
	}
	data, err := CleanData(d.Data, 0)
	if err != nil {
		return nil, queue.SkipRetry(fmt.Errorf("malformed job data: %v", err))
	}
	e, err := p.w.Write(ctx, Event{Name: name, CreatedAt: Now(), JobID: job.ID, Data: data})
	if err != nil {
		return nil, fmt.Errorf("store event: %w", err)
	}
	return Result{EventID: e.ID}, nil
}

// Batcher funnels concurrent event writes into few CreateMany calls: while
// one batch is being written, the next one gathers, so a write waits at most
// for the batch in flight and then its own. Under light load each write goes
// alone, at once. The worker's jobs and the API's POST /api/events share it.
//
// One bad event does not fail the others: when a batch fails for a reason
// one of its events may cause (a name, id or data a store refuses, an id
// taken), each event of it is written alone. That retry is safe: an event
// with a JobID is idempotent by it, and one without gets its ID here, before
// the first attempt, so an event a failed batch had stored in part is found
// by that ID rather than written twice.
type Batcher struct {
	store Store
	max   int
	reqs  chan writeReq
}

type writeReq struct {
	ctx context.Context
	e   Event
	// ownID is set when the Batcher chose e.ID: finding it taken means an
	// earlier attempt of this very write stored it.
	ownID bool
	reply chan writeReply
}

type writeReply struct {
	e   Event
	err error
}

// NewBatcher returns a Batcher writing to store, at most max events per
// round trip (default 500). Run must be running for writes to proceed.
func NewBatcher(store Store, max int) *Batcher {
	return &Batcher{store: store, max: cmp.Or(max, 500), reqs: make(chan writeReq)}
}

// Write stores e (idempotently, by its JobID) and returns it as stored, as
// Store.Create does.
func (b *Batcher) Write(ctx context.Context, e Event) (Event, error) {
	r := writeReq{ctx: ctx, e: e, reply: make(chan writeReply, 1)}
	if e.ID == "" {
		r.e.ID, r.ownID = NewID(), true
	}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
	select {
	case rep := <-r.reply:
		return rep.e, rep.err
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Run writes batches until ctx ends. Stop it only after the writers (the
// worker, the HTTP server) have stopped.
func (b *Batcher) Run(ctx context.Context) error {
	batch := make([]writeReq, 0, b.max)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case r := <-b.reqs:
			batch = append(batch, r)
		}
	fill:
		for len(batch) < b.max {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.flush(batch)
	}
}

func (b *Batcher) flush(batch []writeReq) {
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() == nil { // its job was cancelled, its lease lost or its client gone meanwhile
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	es := make([]Event, len(live))
	for i, r := range live {
		es[i] = r.e
	}
	// The batch outlives any one writer's context, but not forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), storeTimeout)
	defer cancel()
	stored, err := b.store.CreateMany(ctx, es)
	switch {
	case err == nil:
		for i, r := range live {
			r.reply <- writeReply{e: stored[i]}
		}
	case len(live) > 1 && eventFault(err):
		for _, r := range live {
			e, err := b.writeAlone(ctx, r)
			r.reply <- writeReply{e: e, err: err}
		}
	default: // the store's fault: every event would meet it alone too
		for _, r := range live {
			r.reply <- writeReply{err: err}
		}
	}
}

// writeAlone writes one event of a failed batch.
func (b *Batcher) writeAlone(ctx context.Context, r writeReq) (Event, error) {
	e, err := b.store.Create(ctx, r.e)
	if errors.Is(err, ErrDuplicateID) && r.ownID {
		return b.store.Get(ctx, r.e.ID)
	}
	return e, err
}

// eventFault reports whether err may be the doing of one event of a batch
// rather than of the store.
func eventFault(err error) bool {
	for _, e := range []error{ErrEmptyName, ErrInvalidID, ErrInvalidData, ErrDuplicateID} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
