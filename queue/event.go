package queue

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// EventType names a lifecycle event.
type EventType string

// Lifecycle events, published by every process to the queue's capped stream.
// The engine's scripts name them by these strings (see emit in
// lua/common.lua); a test checks both sides list the same ones.
const (
	EventAdded     EventType = "added"
	EventActive    EventType = "active"
	EventProgress  EventType = "progress"
	EventCompleted EventType = "completed"
	EventFailed    EventType = "failed"
	EventRetrying  EventType = "retrying" // failed an attempt; delayed until DueAt (or retried by hand)
	EventStalled   EventType = "stalled"  // its worker was lost; back to waiting
	EventRemoved   EventType = "removed"
	EventCancelled EventType = "cancelled" // cancellation requested
	EventPromoted  EventType = "promoted"  // a delayed job made ready by Promote
	EventReleased  EventType = "released"  // handed back unfinished by a stopping worker
	EventPaused    EventType = "paused"    // the queue, not a job
	EventResumed   EventType = "resumed"   // the queue, not a job
)

// EventTypes lists every lifecycle event type.
var EventTypes = []EventType{EventAdded, EventActive, EventProgress, EventCompleted, EventFailed, EventRetrying,
	EventStalled, EventRemoved, EventCancelled, EventPromoted, EventReleased, EventPaused, EventResumed}

// Event is one job's lifecycle event (or the queue's, for paused and resumed).
type Event struct {
	// ID orders events and resumes a subscription after this one:
	// "<ms>-<seq>-<i>", the i-th job of stream entry <ms>-<seq> (one entry
	// holds the jobs of one batch that made the same transition together).
	ID    string    `json:"id"`
	Type  EventType `json:"type"`
	JobID string    `json:"jobId,omitempty"`
	Time  time.Time `json:"time"`
	// Attempt is set on active, completed, failed, retrying and stalled.
	Attempt int `json:"attempt,omitempty"`
	// Error is set on failed and retrying.
	Error string `json:"error,omitempty"`
	// Progress is set on progress events.
	Progress json.RawMessage `json:"progress,omitempty"`
	// DueAt is set on retrying and on added for delayed jobs.
	DueAt time.Time `json:"dueAt,omitzero"`
}

// ErrInvalidEventID is a position in the event stream that is none of
// "<ms>-<seq>-<i>" (an event), "<ms>-<seq>" (a stream entry) or "<ms>" (a
// time), each part a decimal number that fits (ms and seq 64 bits, i 32).
var ErrInvalidEventID = errors.New("queue: invalid event id: want <ms>-<seq>-<i>, <ms>-<seq> or <ms>")

// ValidEventID reports whether id can resume a subscription: an Event.ID
// (after that event), a stream entry's "<ms>-<seq>" (after that entry), or a
// unix time in milliseconds (the events from then on; "0" is all of them).
func ValidEventID(id string) bool {
	_, err := parseEventPos(id)
	return err == nil
}

// eventPos is a position in a queue's event stream: after entry ms-seq's
// item i, or, with whole, after all of that entry.
type eventPos struct {
	ms, seq uint64
	i       uint32
	whole   bool
}

func parseEventPos(id string) (eventPos, error) {
	parts := strings.Split(id, "-")
	if len(parts) > 3 {
		return eventPos{}, ErrInvalidEventID
	}
	var p eventPos
	var err error
	if p.ms, err = strconv.ParseUint(parts[0], 10, 64); err != nil || parts[0][0] == '+' {
		return eventPos{}, ErrInvalidEventID
	}
	if len(parts) == 1 {
		// A time: after everything before it.
		if p.ms > 0 {
			p.ms, p.seq = p.ms-1, math.MaxUint64
		}
		p.whole = true
		return p, nil
	}
	if p.seq, err = strconv.ParseUint(parts[1], 10, 64); err != nil || parts[1] == "" || parts[1][0] == '+' {
		return eventPos{}, ErrInvalidEventID
	}
	if len(parts) == 2 {
		p.whole = true
		return p, nil
	}
	i, err := strconv.ParseUint(parts[2], 10, 32)
	if err != nil || parts[2][0] == '+' {
		return eventPos{}, ErrInvalidEventID
	}
	p.i = uint32(i)
	return p, nil
}

// entry is the stream entry id of p.
func (p eventPos) entry() string {
	return strconv.FormatUint(p.ms, 10) + "-" + strconv.FormatUint(p.seq, 10)
}

// cmpEntry compares the stream entries of two positions: the sign of e − p.
func (p eventPos) cmpEntry(e eventPos) int {
	switch {
	case e.ms != p.ms:
		return cmpU(e.ms, p.ms)
	default:
		return cmpU(e.seq, p.seq)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// expand turns one stream entry into its events, dropping those at or
// before after.
func expand(m redis.XMessage, after eventPos) []Event {
	pos, err := parseEventPos(m.ID)
	if err != nil {
		return nil
	}
	switch c := after.cmpEntry(pos); {
	case c < 0:
		return nil
	case c == 0 && after.whole:
		return nil
	}
	get := func(k string) string { s, _ := m.Values[k].(string); return s }
	base := Event{Type: EventType(get("e")), Time: time.UnixMilli(int64(pos.ms)).UTC(), Progress: rawJSON(get("p"))}
	ids := strings.Split(get("ids"), "\n")
	if get("ids") == "" {
		ids = []string{""} // about the queue itself
	}
	attempts := strings.Split(get("a"), ",")
	dues := strings.Split(get("due"), ",")
	var errs []string
	if s := get("err"); s != "" {
		json.Unmarshal([]byte(s), &errs)
	}
	out := make([]Event, 0, len(ids))
	for i, id := range ids {
		if after.cmpEntry(pos) == 0 && uint32(i) <= after.i {
			continue
		}
		e := base
		e.ID = m.ID + "-" + strconv.Itoa(i)
		e.JobID = id
		switch {
		case i < len(attempts) && attempts[i] != "":
			e.Attempt, _ = strconv.Atoi(attempts[i])
		case e.Type == EventActive || e.Type == EventCompleted:
			e.Attempt = 1 // left out when every job of the entry is on its first
		}
		if i < len(errs) {
			e.Error = errs[i]
		}
		if i < len(dues) {
			if ms, _ := strconv.ParseInt(dues[i], 10, 64); ms > 0 {
				e.DueAt = time.UnixMilli(ms).UTC()
			}
		}
		out = append(out, e)
	}
	return out
}
