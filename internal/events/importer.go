package events

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// MaxImport bounds the events of one batch import.
const MaxImport = 10_000

// importChunk is how many events the import job writes per store call.
const importChunk = 500

// ImportItem is one event of a batch import, checked by the caller:
// CleanName's name, CleanData's data, and a CreatedAt already set (the time
// the import was accepted, when the client gave none), so that a retried job
// writes the very same event.
type ImportItem struct {
	Name      string          `json:"name"`
	CreatedAt time.Time       `json:"createdAt"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// ImportPayload is the data of an import-events job.
type ImportPayload struct {
	Events []ImportItem `json:"events"`
}

// ImportResult is what a completed import-events job keeps.
type ImportResult struct {
	Inserted int `json:"inserted"`
}

// Import adds an import-events job for items (1 to MaxImport) and returns it.
func (p *Producer) Import(ctx context.Context, items []ImportItem) (*queue.Job, error) {
	if len(items) < 1 || len(items) > MaxImport {
		return nil, fmt.Errorf("%w: %d events; an import takes 1 to %d", queue.ErrInvalid, len(items), MaxImport)
	}
	data, err := json.Marshal(ImportPayload{Events: items})
	if err != nil {
		return nil, err
	}
	return p.q.Add(ctx, ImportJobName, data, p.options(ImportJobName))
}

// Importer runs import-events jobs: it writes the job's events in chunks,
// reporting progress (0 to 100) after each.
//
// Each event's id derives from the job's id and the event's position
// (ImportID), so a job that runs again after a crash or a failed attempt
// rewrites the same events instead of adding them twice.
type Importer struct {
	store Store
	// touched, when set, is told the minutes of each chunk written (see
	// Rollups.Touched), so that counts of closed minutes are redone.
	touched func(ctx context.Context, es []Event) error
}

// NewImporter returns an Importer writing to store. touched, when not nil,
// is called after each chunk is written, with the chunk.
func NewImporter(store Store, touched func(ctx context.Context, es []Event) error) *Importer {
	return &Importer{store: store, touched: touched}
}

// ImportID returns the id of the event at index i of import job jobID: an
// ObjectID whose time is createdAt's (as ObjectIDs carry their creation
// time) and whose other 8 bytes hash the job id and the index.
func ImportID(jobID string, i int, createdAt time.Time) string {
	var id [12]byte
	secs := max(createdAt.Unix(), 0)
	binary.BigEndian.PutUint32(id[:4], uint32(min(secs, 1<<32-1)))
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", jobID, i))
	copy(id[4:], h[:8])
	return hex.EncodeToString(id[:])
}

// ProcessJob writes the job's events and returns ImportResult. A malformed
// payload fails the job at once; store errors leave it its retries.
func (im *Importer) ProcessJob(ctx context.Context, job *queue.Job) (any, error) {
	var p ImportPayload
	if err := json.Unmarshal(job.Data, &p); err != nil {
		return nil, queue.SkipRetry(fmt.Errorf("malformed import data: %v", err))
	}
	es := make([]Event, len(p.Events))
	for i, it := range p.Events {
		name, err := CleanName(it.Name)
		if err != nil {
			return nil, queue.SkipRetry(fmt.Errorf("malformed import data: event %d: %v", i, err))
		}
		if it.CreatedAt.IsZero() {
			return nil, queue.SkipRetry(fmt.Errorf("malformed import data: event %d has no createdAt", i))
		}
		es[i] = Event{ID: ImportID(job.ID, i, it.CreatedAt), Name: name, CreatedAt: Normalize(it.CreatedAt), Data: it.Data}
	}
	for start := 0; start < len(es); start += importChunk {
		chunk := es[start:min(start+importChunk, len(es))]
		if err := im.writeChunk(ctx, chunk); err != nil {
			return nil, fmt.Errorf("import events %d to %d: %w", start, start+len(chunk)-1, err)
		}
		if im.touched != nil {
			if err := im.touched(ctx, chunk); err != nil {
				return nil, fmt.Errorf("import events %d to %d: %w", start, start+len(chunk)-1, err)
			}
		}
		done := start + len(chunk)
		if err := job.ReportProgress(ctx, done*100/len(es)); err != nil {
			return nil, err
		}
	}
	return ImportResult{Inserted: len(es)}, nil
}

// writeChunk stores a chunk of events whose ids are deterministic. When the
// store refuses the chunk because an id is taken, an earlier attempt of this
// job stored part or all of it: the events are then written one by one, an
// id that exists being this job's own event. That costs a round trip per
// event, but only on a retry.
func (im *Importer) writeChunk(ctx context.Context, chunk []Event) error {
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	_, err := im.store.CreateMany(sctx, chunk)
	if !errors.Is(err, ErrDuplicateID) {
		return err
	}
	for _, e := range chunk {
		if _, err := im.store.Create(ctx, e); err != nil && !errors.Is(err, ErrDuplicateID) {
			return err
		}
	}
	return nil
}
