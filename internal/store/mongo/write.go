package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// insertAttempts bounds Create's retries when the event that made its insert
// a duplicate is deleted before Create can read it.
const insertAttempts = 3

// Create stores e, or returns the event its JobID already has.
func (s *Store) Create(ctx context.Context, e events.Event) (events.Event, error) {
	e, err := store.Prepare(e)
	if err != nil {
		return events.Event{}, err
	}
	doc, err := toDocument(e)
	if err != nil {
		return events.Event{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for range insertAttempts {
		_, err := s.coll.InsertOne(ctx, doc)
		if err == nil {
			return e, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return events.Event{}, wrap("insert event", err)
		}
		if e.JobID == "" {
			return events.Event{}, wrap("insert event", fmt.Errorf("%w: %s", events.ErrDuplicateID, e.ID))
		}
		// The server does not say which index refused the event (FerretDB
		// does not at all), so look for the job's event: there is one unless
		// the duplicate was the id, or the job's event was deleted since.
		found, err := s.findOne(ctx, bson.D{{Key: "jobId", Value: e.JobID}})
		if err == nil {
			return found, nil
		}
		if !errors.Is(err, events.ErrNotFound) {
			return events.Event{}, wrap("insert event: read the job's event", err)
		}
	}
	return events.Event{}, wrap("insert event", fmt.Errorf("%w: %s", events.ErrDuplicateID, e.ID))
}

// CreateMany stores es in one unordered InsertMany and answers the events
// whose job id already had one with the stored events.
func (s *Store) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	b, err := store.PrepareBatch(es)
	if err != nil {
		return nil, err
	}
	if len(b.Unique) == 0 {
		return []events.Event{}, nil
	}
	docs := make([]document, len(b.Unique))
	for i, e := range b.Unique {
		if docs[i], err = toDocument(e); err != nil {
			return nil, err
		}
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	_, err = s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	stored := append([]events.Event(nil), b.Unique...)
	if err != nil {
		if err := s.resolveDuplicates(ctx, b.Unique, stored, err); err != nil {
			return nil, wrap("insert events", err)
		}
	}
	return b.Answer(stored), nil
}

// resolveDuplicates handles InsertMany's error for the events in batch: when
// every write error is a duplicate job id, it replaces those events in
// stored with the job's stored events and returns nil; otherwise it returns
// the first error that is not.
func (s *Store) resolveDuplicates(ctx context.Context, batch, stored []events.Event, err error) error {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) {
		return err
	}
	if bwe.WriteConcernError != nil {
		return err
	}
	dups := make(map[string]int) // job id → position in batch
	jobIDs := bson.A{}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(batch) {
			return err
		}
		e := batch[we.Index]
		if !isDuplicateKey(we.Code) {
			return fmt.Errorf("event %s: %w", e.ID, we.WriteError)
		}
		if e.JobID == "" {
			return fmt.Errorf("%w: %s", events.ErrDuplicateID, e.ID)
		}
		dups[e.JobID] = we.Index
		jobIDs = append(jobIDs, e.JobID)
	}
	found, ferr := s.find(ctx, bson.D{{Key: "jobId", Value: bson.D{{Key: "$in", Value: jobIDs}}}}, nil, 0)
	if ferr != nil {
		return fmt.Errorf("read the events of duplicate job ids: %w", ferr)
	}
	for _, e := range found {
		stored[dups[e.JobID]] = e
		delete(dups, e.JobID)
	}
	for _, we := range bwe.WriteErrors {
		if _, ok := dups[batch[we.Index].JobID]; ok {
			// Not the job id then, or its event was deleted meanwhile: the
			// event was refused and a retry decides.
			return fmt.Errorf("%w: %s", events.ErrDuplicateID, batch[we.Index].ID)
		}
	}
	return nil
}

// isDuplicateKey reports whether a write error code means a unique index
// refused the document, as mongo.IsDuplicateKeyError does for whole errors.
func isDuplicateKey(code int) bool {
	return code == 11000 || code == 11001 || code == 12582
}

// Delete removes the event with id.
func (s *Store) Delete(ctx context.Context, id string) error {
	oid, err := store.ParseID(id)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	if err != nil {
		return wrap("delete event", err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("%w: %s", events.ErrNotFound, oid.Hex())
	}
	return nil
}

// DeleteOlderThan removes events created before t in one DeleteMany; the
// server deletes document by document, so it does not block other writes.
func (s *Store) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	filter := bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: dateTime(store.CeilMilli(t))}}}}
	res, err := s.coll.DeleteMany(ctx, filter)
	if err != nil {
		var n int64
		if res != nil {
			n = res.DeletedCount
		}
		return n, wrap("delete old events", err)
	}
	return res.DeletedCount, nil
}
