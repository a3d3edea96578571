package queue

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrFellBehind ends an event subscription whose consumer could not keep up.
// Subscribe again from the last event seen to resume.
var ErrFellBehind = errors.New("queue: event subscriber fell behind")

// Events yields the queue's lifecycle events, published by every process,
// that come after the stream entry id after: "" or "$" for new events only,
// "0" for every event still kept (the stream is capped). It ends when ctx
// ends or the loop breaks; it yields an error and ends on ErrFellBehind.
//
// All subscribers of one Queue handle share one blocking reader, so many
// subscribers hold one Redis connection between them.
func (q *Queue) Events(ctx context.Context, after string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		s, pos, err := q.hub.join(ctx)
		if err != nil {
			yield(Event{}, err)
			return
		}
		defer q.hub.leave(s)
		cursor := pos
		if after != "" && after != "$" {
			cursor = after
			// Catch up from the stream itself until the live feed's start.
			for compareIDs(cursor, pos) < 0 {
				msgs, err := q.rdb.XRangeN(ctx, q.keys[keyEvents], cursor, pos, 500).Result()
				if err != nil {
					yield(Event{}, err)
					return
				}
				progressed := false
				for _, m := range msgs {
					if compareIDs(m.ID, cursor) <= 0 {
						continue
					}
					progressed = true
					cursor = m.ID
					if !yield(parseEvent(m), nil) {
						return
					}
				}
				if !progressed {
					break
				}
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case evs, ok := <-s.ch:
				if !ok {
					yield(Event{}, ErrFellBehind)
					return
				}
				for _, e := range evs {
					if compareIDs(e.ID, cursor) <= 0 {
						continue
					}
					cursor = e.ID
					if !yield(e, nil) {
						return
					}
				}
			}
		}
	}
}

// hub fans one XREAD loop out to a Queue handle's subscribers.
type hub struct {
	q       *Queue
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	last    string
	running bool
}

type subscriber struct{ ch chan []Event }

func (h *hub) join(ctx context.Context) (*subscriber, string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.running {
		tail, err := h.q.rdb.XRevRangeN(ctx, h.q.keys[keyEvents], "+", "-", 1).Result()
		if err != nil {
			return nil, "", err
		}
		h.last = "0-0"
		if len(tail) > 0 {
			h.last = tail[0].ID
		}
		h.subs = make(map[*subscriber]struct{})
		h.running = true
		go h.read()
	}
	s := &subscriber{ch: make(chan []Event, 256)}
	h.subs[s] = struct{}{}
	return s, h.last, nil
}

func (h *hub) leave(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// read runs while there are subscribers.
func (h *hub) read() {
	var failing retryDelay
	for {
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		last := h.last
		h.mu.Unlock()
		res, err := h.q.rdb.XRead(context.Background(), &redis.XReadArgs{
			Streams: []string{h.q.keys[keyEvents], last}, Count: 500, Block: 10 * time.Second,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			time.Sleep(failing.next())
			continue
		}
		failing.reset()
		if len(res) == 0 || len(res[0].Messages) == 0 {
			continue
		}
		msgs := res[0].Messages
		evs := make([]Event, len(msgs))
		for i, m := range msgs {
			evs[i] = parseEvent(m)
		}
		h.mu.Lock()
		h.last = msgs[len(msgs)-1].ID
		for s := range h.subs {
			select {
			case s.ch <- evs:
			default:
				delete(h.subs, s)
				close(s.ch)
			}
		}
		h.mu.Unlock()
	}
}

func parseEvent(m redis.XMessage) Event {
	e := Event{ID: m.ID}
	if ms, _, ok := strings.Cut(m.ID, "-"); ok {
		n, _ := strconv.ParseInt(ms, 10, 64)
		e.Time = time.UnixMilli(n).UTC()
	}
	get := func(k string) string { s, _ := m.Values[k].(string); return s }
	e.Type = EventType(get("e"))
	e.JobID = get("id")
	e.Attempt, _ = strconv.Atoi(get("a"))
	e.Error = get("err")
	e.Progress = rawJSON(get("p"))
	if due, _ := strconv.ParseInt(get("due"), 10, 64); due > 0 {
		e.DueAt = time.UnixMilli(due).UTC()
	}
	return e
}

// compareIDs orders stream entry ids ("<ms>-<seq>").
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		return cmpInt(am, bm)
	default:
		return cmpInt(as, bs)
	}
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

func cmpInt(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
