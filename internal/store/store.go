// Package store holds the input rules of events.Store that every
// implementation applies the same way before it touches its database: what
// makes an event writable, how a batch folds duplicate job ids, and what a
// listing query may ask for. The implementations live in store/sqlite,
// store/mongo and store/postgres; store/storetest checks that they agree.
package store

import (
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Prepare returns e as it is to be stored: an empty ID generated, a given ID
// in lowercase hex, a zero CreatedAt set to now and any other normalized to
// UTC milliseconds, and Data as events.CleanData returns it (no size limit).
// An empty name is events.ErrEmptyName, a malformed ID events.ErrInvalidID
// and data CleanData refuses events.ErrInvalidData.
func Prepare(e events.Event) (events.Event, error) {
	if e.Name == "" {
		return events.Event{}, events.ErrEmptyName
	}
	data, err := events.CleanData(e.Data, 0)
	if err != nil {
		return events.Event{}, err
	}
	e.Data = data
	if e.ID == "" {
		e.ID = events.NewID()
	} else {
		oid, err := ParseID(e.ID)
		if err != nil {
			return events.Event{}, err
		}
		e.ID = oid.Hex()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = events.Now()
	} else {
		e.CreatedAt = events.Normalize(e.CreatedAt)
	}
	return e, nil
}

// Batch is a CreateMany input prepared for writing.
type Batch struct {
	// Unique holds the events to write: every input event except those whose
	// JobID an earlier event of the same batch already carries.
	Unique []events.Event
	// Source maps each input position to its event's position in Unique, so
	// that an event repeated in one batch is answered like the first.
	Source []int
}

// PrepareBatch prepares every event of es, then folds events that repeat a
// JobID of the same batch into the first. It writes nothing, so a batch with
// one bad event fails whole: the error names the position. Two events of the
// batch naming the same ID is events.ErrDuplicateID.
func PrepareBatch(es []events.Event) (Batch, error) {
	b := Batch{Unique: make([]events.Event, 0, len(es)), Source: make([]int, len(es))}
	byJob := make(map[string]int)
	ids := make(map[string]struct{}, len(es))
	for i, e := range es {
		p, err := Prepare(e)
		if err != nil {
			return Batch{}, fmt.Errorf("event %d: %w", i, err)
		}
		if p.JobID != "" {
			if j, ok := byJob[p.JobID]; ok {
				b.Source[i] = j
				continue
			}
			byJob[p.JobID] = len(b.Unique)
		}
		if _, ok := ids[p.ID]; ok {
			return Batch{}, fmt.Errorf("event %d: %w: %s appears twice in the batch", i, events.ErrDuplicateID, p.ID)
		}
		ids[p.ID] = struct{}{}
		b.Source[i] = len(b.Unique)
		b.Unique = append(b.Unique, p)
	}
	return b, nil
}

// Answer returns the batch's result in input order, given stored[i] as the
// event stored (or found) for Unique[i].
func (b Batch) Answer(stored []events.Event) []events.Event {
	out := make([]events.Event, len(b.Source))
	for i, j := range b.Source {
		out[i] = stored[j]
	}
	return out
}

// ParseID returns the ObjectID id names, or an error wrapping
// events.ErrInvalidID. Upper- and lowercase hex are both accepted.
func ParseID(id string) (bson.ObjectID, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return bson.ObjectID{}, fmt.Errorf("%w: %q", events.ErrInvalidID, truncate(id))
	}
	return oid, nil
}

// Query returns q as stores run it: Limit resolved (events.DefaultLimit for
// 0), the cursor's ID in lowercase hex, and times in UTC milliseconds, with
// From and To rounded up because createdAt >= From and createdAt < To select
// the same whole milliseconds as their ceilings do. Of After and To, which
// both bound the listing from above, only the tighter is kept. A Limit outside
// 0..events.MaxLimit is an error wrapping events.ErrInvalidLimit, and an After
// with a malformed ID one wrapping events.ErrInvalidCursor.
func Query(q events.ListQuery) (events.ListQuery, error) {
	if q.Limit < 0 || q.Limit > events.MaxLimit {
		return q, fmt.Errorf("%w: got %d", events.ErrInvalidLimit, q.Limit)
	}
	if q.Limit == 0 {
		q.Limit = events.DefaultLimit
	}
	if !q.After.IsZero() {
		oid, err := bson.ObjectIDFromHex(q.After.ID)
		if err != nil {
			return q, fmt.Errorf("%w: id %q", events.ErrInvalidCursor, truncate(q.After.ID))
		}
		q.After = events.Cursor{CreatedAt: events.Normalize(q.After.CreatedAt), ID: oid.Hex()}
	}
	q.From, q.To = CeilMilli(q.From), CeilMilli(q.To)
	// The cursor and To are both upper bounds, and one always implies the
	// other: keep only the tighter, so that an index range starts right at
	// it and a deep page costs what the first does.
	if !q.After.IsZero() && !q.To.IsZero() {
		if q.After.CreatedAt.Before(q.To) {
			q.To = time.Time{}
		} else {
			q.After = events.Cursor{}
		}
	}
	return q, nil
}

// CeilMilli returns t in UTC rounded up to a whole millisecond, the bound
// that selects the same stored events as t itself. The zero time stays zero.
func CeilMilli(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	n := events.Normalize(t)
	if n.Before(t) {
		n = n.Add(time.Millisecond)
	}
	return n
}

// Page returns the page for rows fetched with one row more than limit: the
// extra row, when present, only proves that a next page exists.
func Page(rows []events.Event, limit int) events.Page {
	if rows == nil {
		rows = []events.Event{}
	}
	if len(rows) <= limit {
		return events.Page{Items: rows}
	}
	rows = rows[:limit]
	last := rows[limit-1]
	return events.Page{Items: rows, Next: events.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}}
}

// truncate keeps error messages short when a caller passes a huge string.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
