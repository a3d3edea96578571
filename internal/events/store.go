package events

import (
	"context"
	"time"
)

// Store keeps events. The MongoDB, PostgreSQL and SQLite stores implement
// it, and internal/store/storetest holds the conformance suite they all pass.
//
// Writes of events that carry a JobID are idempotent by that id: writing an
// event for a job that already has one adds nothing and returns the stored
// event. That is what makes a redelivered job produce exactly one event.
type Store interface {
	// Create stores e and returns it as stored. An empty ID is generated and a
	// zero CreatedAt set to now; CreatedAt is normalized to UTC milliseconds
	// and Data cleaned by CleanData, without a size limit (callers that take
	// data from outside apply theirs). An empty name is ErrEmptyName, a
	// malformed ID ErrInvalidID, data CleanData refuses ErrInvalidData, and
	// an ID another event already has ErrDuplicateID.
	Create(ctx context.Context, e Event) (Event, error)
	// CreateMany stores events in one round trip and returns them as stored, in
	// input order; for an event whose JobID already had one, the earlier event.
	// Every event is checked as in Create before any is written, so an empty
	// name, a malformed ID or invalid data writes nothing. A batch that fails
	// at the server (an ID already taken, a lost connection) may have been
	// stored in part on MongoDB; retrying it is safe for events that carry a
	// JobID.
	CreateMany(ctx context.Context, es []Event) ([]Event, error)
	// Get returns the event with id: ErrInvalidID for a malformed id,
	// ErrNotFound for an unknown one.
	Get(ctx context.Context, id string) (Event, error)
	// GetByJobID returns the event a job produced, or ErrNotFound.
	GetByJobID(ctx context.Context, jobID string) (Event, error)
	// Delete removes the event with id: ErrInvalidID, or ErrNotFound when there is none.
	Delete(ctx context.Context, id string) error
	// List returns one page, newest first (createdAt then id, both descending).
	// A Limit outside 0..MaxLimit is ErrInvalidLimit and an After with a
	// malformed ID is ErrInvalidCursor.
	List(ctx context.Context, q ListQuery) (Page, error)
	// Count counts events with from <= createdAt < to; a zero bound is open.
	Count(ctx context.Context, from, to time.Time) (int64, error)
	// DeleteOlderThan removes events created before t and says how many.
	DeleteOlderThan(ctx context.Context, t time.Time) (int64, error)
	// Rollups keeps per-minute counts of events.
	Rollups

	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's connections or files.
	Close() error
	// WebhookStore keeps webhook subscriptions and their deliveries.
	WebhookStore
}

// ListQuery selects a page of events.
type ListQuery struct {
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
	// After continues a listing; the zero Cursor starts at the newest event.
	After Cursor
	// Name keeps only events with exactly this name, when set.
	Name string
	// From and To keep only events with From <= createdAt < To; zero is open.
	From, To time.Time
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page is one page of a listing.
type Page struct {
	Items []Event
	// Next continues the listing, or is the zero Cursor on the last page.
	Next Cursor
}
