package queue

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrFellBehind ends an event subscription whose consumer could not keep up.
// Subscribe again from the last event seen to resume.
var ErrFellBehind = errors.New("queue: event subscriber fell behind")

// ErrStreamClosed ends the subscriptions of an EventStream that stopped.
var ErrStreamClosed = errors.New("queue: event stream stopped")

// streamBlock bounds one blocking read of the stream: how long a reader
// whose subscriber has gone may linger.
const streamBlock = 2 * time.Second

// Events yields the queue's lifecycle events, published by every process,
// that come after the event id after: "" or "$" for new events only, "0" for
// every event still kept (Config.EventsMaxAge and EventsMaxLen bound the
// stream), or an Event.ID (or a stream
// entry id, "<ms>-<seq>"). An id ahead of the stream, as a client may hold
// after Redis lost data, resumes from new events. It ends when ctx ends or
// the loop breaks; a malformed id yields ErrInvalidEventID.
//
// Each call reads the stream on a connection of its own; an EventStream
// serves many subscribers with one.
func (q *Queue) Events(ctx context.Context, after string) iter.Seq2[Event, error] {
	// Where "new events" start is settled now, not when the loop starts:
	// what happens after Events returns is seen.
	pos, err := parseAfter(after)
	var last eventPos
	if err == nil {
		last, err = q.lastEntry(ctx)
	}
	return func(yield func(Event, error) bool) {
		if err != nil {
			yield(Event{}, err)
			return
		}
		pos := pos
		if after == "" || after == "$" || last.before(pos) {
			pos = last // new events only; or an id ahead of the stream
		}
		if !pos.whole {
			// The rest of a partly seen entry.
			var err error
			if pos, err = q.readRange(ctx, pos, pos, yield); err != nil {
				if !errors.Is(err, errStop) {
					yield(Event{}, err)
				}
				return
			}
		}
		var failing retryDelay
		for ctx.Err() == nil {
			res, err := q.rdb.XRead(ctx, &redis.XReadArgs{
				Streams: []string{q.keys[kEvents], pos.entry()}, Count: 500, Block: streamBlock,
			}).Result()
			switch {
			case errors.Is(err, redis.Nil), ctx.Err() != nil:
				continue
			case err != nil:
				sleep(ctx, failing.next())
				continue
			}
			failing.reset()
			for _, m := range res[0].Messages {
				for _, e := range expand(m, pos) {
					if !yield(e, nil) {
						return
					}
				}
				pos, _ = parseEventPos(m.ID)
			}
		}
	}
}

// rangeCount bounds the entries one catch-up read holds. An entry carries up
// to 500 jobs' events: 500 entries of large batches are megabytes, held
// once per resuming subscriber, and 20 SSE clients resuming at once in a
// soak held 39 MB of heap so. 100 keeps that a fifth, for a few more round
// trips.
const rangeCount = 100

// errStop says a consumer broke its loop.
var errStop = errors.New("stop")

// readRange yields the events after pos in the entries from pos's entry to
// until's, and returns the position after the last entry read.
func (q *Queue) readRange(ctx context.Context, pos, until eventPos, yield func(Event, error) bool) (eventPos, error) {
	for {
		msgs, err := q.rdb.XRangeN(ctx, q.keys[kEvents], pos.entry(), until.entry(), rangeCount).Result()
		if err != nil {
			return pos, err
		}
		start := pos
		for _, m := range msgs {
			for _, e := range expand(m, pos) {
				if !yield(e, nil) {
					return pos, errStop
				}
			}
			pos, _ = parseEventPos(m.ID)
		}
		if len(msgs) < rangeCount || pos == start {
			pos.whole = true
			if pos.cmpEntry(until) > 0 {
				pos = until
			}
			return pos, nil
		}
	}
}

func parseAfter(after string) (eventPos, error) {
	if after == "" || after == "$" {
		return eventPos{whole: true}, nil
	}
	return parseEventPos(after)
}

// before reports whether p comes before q in the stream.
func (p eventPos) before(q eventPos) bool {
	switch c := p.cmpEntry(q); {
	case c != 0:
		return c > 0
	case p.whole:
		return false
	case q.whole:
		return true
	}
	return p.i < q.i
}

// lastEntry is the position after the stream's newest entry ("0" when empty).
func (q *Queue) lastEntry(ctx context.Context) (eventPos, error) {
	msgs, err := q.rdb.XRevRangeN(ctx, q.keys[kEvents], "+", "-", 1).Result()
	if err != nil {
		return eventPos{}, err
	}
	if len(msgs) == 0 {
		return eventPos{whole: true}, nil
	}
	return parseEventPos(msgs[0].ID)
}

// EventStream reads a queue's lifecycle stream once for all its subscribers
// in a process, on one connection: for a server with many SSE clients. Run
// it for as long as subscribers may come; it reads only while there are
// some. Subscribe's subscriptions end with ErrStreamClosed when Run returns.
type EventStream struct {
	q *Queue

	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	live    bool     // the reader is reading; last is where it has read to
	last    eventPos // valid while live
	stopped bool
	wake    chan struct{} // a first subscriber came
	buffer  int           // batches a subscriber may fall behind by
	// maxQueued is how many bytes of entries a subscriber may fall behind
	// by. Batches are counted too, but a batch is whatever one XREAD
	// returned: one entry when the reader keeps up, 500 of up to 500 jobs
	// each when it lags, so 256 batches could hold hundreds of megabytes.
	// Subscribers share the batches, so the slowest one's bytes bound what
	// the stream holds.
	maxQueued int64
}

// batch is one read of the stream, handed to every subscriber.
type batch struct {
	msgs []redis.XMessage
	size int64 // bytes of ids, field names and values
}

func newBatch(msgs []redis.XMessage) batch {
	b := batch{msgs: msgs}
	for _, m := range msgs {
		b.size += int64(len(m.ID))
		for k, v := range m.Values {
			b.size += int64(len(k))
			if s, ok := v.(string); ok {
				b.size += int64(len(s))
			}
		}
	}
	return b
}

type subscriber struct {
	ch      chan batch    // batches of entries read after start
	queued  atomic.Int64  // bytes of the batches in ch
	start   chan eventPos // where the live feed begins for it
	dropped chan struct{} // closed with ch
	err     error         // why ch was closed
}

// NewEventStream returns an EventStream on q. Call Run to start it.
func (q *Queue) NewEventStream() *EventStream {
	return &EventStream{q: q, subs: map[*subscriber]struct{}{}, wake: make(chan struct{}, 1), buffer: 256, maxQueued: 8 << 20}
}

// Run reads the stream while there are subscribers, until ctx ends; then it
// ends every subscription and returns nil.
func (s *EventStream) Run(ctx context.Context) error {
	defer s.closeAll()
	var failing retryDelay
	for ctx.Err() == nil {
		s.mu.Lock()
		idle := len(s.subs) == 0
		if idle {
			s.live = false
		}
		live, last := s.live, s.last
		s.mu.Unlock()
		if idle {
			select {
			case <-ctx.Done():
			case <-s.wake:
			}
			continue
		}
		if !live {
			// A first subscriber since idle: start from the stream's end.
			pos, err := s.q.lastEntry(ctx)
			if err != nil {
				sleep(ctx, failing.next())
				continue
			}
			s.mu.Lock()
			s.live, s.last = true, pos
			for sub := range s.subs {
				sub.start <- pos
			}
			s.mu.Unlock()
			last = pos
		}
		res, err := s.q.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.q.keys[kEvents], last.entry()}, Count: 500, Block: streamBlock,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil), ctx.Err() != nil:
			continue
		case err != nil:
			sleep(ctx, failing.next())
			continue
		}
		failing.reset()
		msgs := res[0].Messages
		if len(msgs) == 0 {
			continue
		}
		next, _ := parseEventPos(msgs[len(msgs)-1].ID)
		b := newBatch(msgs)
		s.mu.Lock()
		s.last = next
		for sub := range s.subs {
			// A batch larger than the budget still goes to a subscriber
			// that has read everything before it.
			if q := sub.queued.Load(); q > 0 && q+b.size > s.maxQueued {
				s.dropLocked(sub, ErrFellBehind)
				continue
			}
			select {
			case sub.ch <- b:
				sub.queued.Add(b.size)
			default:
				s.dropLocked(sub, ErrFellBehind)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

func (s *EventStream) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for sub := range s.subs {
		s.dropLocked(sub, ErrStreamClosed)
	}
}

func (s *EventStream) dropLocked(sub *subscriber, err error) {
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		sub.err = err
		close(sub.ch)
		close(sub.dropped)
	}
}

// join registers a subscriber; its start arrives once the reader is live.
func (s *EventStream) join() (*subscriber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil, ErrStreamClosed
	}
	sub := &subscriber{ch: make(chan batch, s.buffer), start: make(chan eventPos, 1), dropped: make(chan struct{})}
	s.subs[sub] = struct{}{}
	if s.live {
		sub.start <- s.last
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return sub, nil
}

func (s *EventStream) leave(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(sub, nil)
}

// Subscribe yields events after the event id after, as Queue.Events does,
// from the shared reader. A subscriber that falls more than 256 reads or
// 8 MiB of entries behind ends with ErrFellBehind.
func (s *EventStream) Subscribe(ctx context.Context, after string) iter.Seq2[Event, error] {
	// The subscriber joins now, not when the loop starts: what happens after
	// Subscribe returns is seen. It leaves when the loop ends, or with ctx.
	pos, err := parseAfter(after)
	if err == nil && (after == "" || after == "$") {
		// New events: those after the stream's end as it is now.
		pos, err = s.q.lastEntry(ctx)
	}
	var sub *subscriber
	if err == nil {
		sub, err = s.join()
	}
	if sub != nil {
		context.AfterFunc(ctx, func() { s.leave(sub) })
	}
	return func(yield func(Event, error) bool) {
		if err != nil {
			yield(Event{}, err)
			return
		}
		defer s.leave(sub)
		pos := pos
		var live eventPos
		select {
		case <-ctx.Done():
			return
		case live = <-sub.start:
		case <-sub.dropped: // before the reader went live
			if sub.err != nil {
				yield(Event{}, sub.err)
			}
			return
		}
		switch {
		case live.before(pos):
			// Past where the shared reader starts: fine while the id is in
			// the stream; an id ahead of the stream (Redis lost data since
			// the client saw it) resumes from new events.
			last, err := s.q.lastEntry(ctx)
			if err != nil {
				yield(Event{}, err)
				return
			}
			if last.before(pos) {
				pos = live
			}
		case pos.before(live):
			var err error
			if pos, err = s.q.readRange(ctx, pos, live, yield); err != nil {
				if !errors.Is(err, errStop) {
					yield(Event{}, err)
				}
				return
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case b, ok := <-sub.ch:
				if !ok {
					if sub.err != nil {
						yield(Event{}, sub.err)
					}
					return
				}
				sub.queued.Add(-b.size)
				for _, m := range b.msgs {
					for _, e := range expand(m, pos) {
						if !yield(e, nil) {
							return
						}
					}
					pos, _ = parseEventPos(m.ID)
				}
			}
		}
	}
}
