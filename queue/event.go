package queue

import (
	"encoding/json"
	"time"
)

// EventType names a lifecycle event.
type EventType string

// Lifecycle events, published by every process to the queue's capped stream.
const (
	EventAdded     EventType = "added"
	EventActive    EventType = "active"
	EventProgress  EventType = "progress"
	EventCompleted EventType = "completed"
	EventFailed    EventType = "failed"
	EventRetrying  EventType = "retrying" // failed an attempt; delayed until DueAt
	EventStalled   EventType = "stalled"  // its worker was lost; back to waiting
	EventRemoved   EventType = "removed"
	EventCancelled EventType = "cancelled" // cancellation requested
	EventPaused    EventType = "paused"    // the queue, not a job
	EventResumed   EventType = "resumed"   // the queue, not a job
)

// Event is one entry of a queue's lifecycle stream.
type Event struct {
	// ID is the stream entry id; pass it to Events to resume after this entry.
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

// Events about jobs moved by hand or handed back.
const (
	EventPromoted EventType = "promoted" // a delayed job made ready by Promote
	EventReleased EventType = "released" // handed back unfinished by a stopping worker
)
