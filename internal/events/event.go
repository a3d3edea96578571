package events

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Event is one thing that happened: the seed's { name, createdAt }, plus
// what happened in detail (data) and the id of the job that produced it when
// a job did.
type Event struct {
	// ID is a MongoDB ObjectID shown as 24 lowercase hex characters, in every store.
	ID string `json:"id"`
	// Name says what happened. Callers validate it; stores only reject an empty one.
	Name string `json:"name"`
	// CreatedAt is UTC with millisecond precision.
	CreatedAt time.Time `json:"createdAt"`
	// JobID is the queue job that produced the event, or empty. At most one
	// event exists per job id: writing a second returns the first.
	JobID string `json:"jobId,omitempty"`
	// Data is a JSON object saying what happened, or nil. Stores keep it as
	// CleanData returns it and give back a JSON object of the same meaning:
	// equal keys, values and numbers, though PostgreSQL reorders keys and
	// spaces the text differently. Nobody filters on it.
	Data json.RawMessage `json:"data,omitempty"`
}

// Errors the stores return and callers branch on.
var (
	ErrNotFound      = errors.New("event not found")
	ErrInvalidID     = errors.New("invalid event id: want 24 hex characters")
	ErrInvalidCursor = errors.New("invalid cursor")
	ErrEmptyName     = errors.New("event name is empty")
	// ErrInvalidLimit is a ListQuery.Limit outside 0..MaxLimit.
	ErrInvalidLimit = errors.New("invalid limit: want 1 to 1000, or 0 for the default")
	// ErrDuplicateID is a write that names an ID another event already has.
	ErrDuplicateID = errors.New("an event with this id already exists")
	// ErrUnavailable is a call refused at once because the store is known
	// to be unreachable (store.Guard); nothing was read or written.
	ErrUnavailable = errors.New("the event store is unavailable; try again later")
)

// NewID returns a fresh ObjectID in hex.
func NewID() string { return bson.NewObjectID().Hex() }

// ValidID reports whether id is 24 hex characters, the only ids stores hold.
func ValidID(id string) bool {
	_, err := bson.ObjectIDFromHex(id)
	return err == nil
}

// Now returns the current time as stores keep it: UTC, truncated to milliseconds.
func Now() time.Time { return Normalize(time.Now()) }

// Normalize returns t in UTC truncated to milliseconds, the precision every
// store keeps, so that a value read back equals the value written.
func Normalize(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// Cursor marks a position in the newest-first listing order (createdAt
// descending, then id descending). The next page holds events strictly after it.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// String encodes c as an opaque URL-safe token.
func (c Cursor) String() string {
	raw := strconv.FormatInt(c.CreatedAt.UnixMilli(), 10) + ":" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a token made by Cursor.String. An empty token is the
// start of the listing and returns the zero Cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: not base64url", ErrInvalidCursor)
	}
	ms, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !ValidID(id) {
		return Cursor{}, fmt.Errorf("%w: malformed", ErrInvalidCursor)
	}
	return Cursor{CreatedAt: time.UnixMilli(n).UTC(), ID: id}, nil
}

// IsZero reports whether c is the start of the listing.
func (c Cursor) IsZero() bool { return c.ID == "" }
