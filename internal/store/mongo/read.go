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

// newestFirst is the listing order; the {createdAt: -1, _id: -1} index
// gives it without a sort.
var newestFirst = bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}

// Get returns the event with id.
func (s *Store) Get(ctx context.Context, id string) (events.Event, error) {
	oid, err := store.ParseID(id)
	if err != nil {
		return events.Event{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	e, err := s.findOne(ctx, bson.D{{Key: "_id", Value: oid}})
	if err != nil && !errors.Is(err, events.ErrNotFound) {
		return events.Event{}, wrap("get event", err)
	}
	return e, err
}

// GetByJobID returns the event job jobID produced.
func (s *Store) GetByJobID(ctx context.Context, jobID string) (events.Event, error) {
	if jobID == "" {
		return events.Event{}, fmt.Errorf("%w: empty job id", events.ErrNotFound)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	e, err := s.findOne(ctx, bson.D{{Key: "jobId", Value: jobID}})
	if err != nil && !errors.Is(err, events.ErrNotFound) {
		return events.Event{}, wrap("get event by job id", err)
	}
	return e, err
}

// findOne returns the event filter selects, or events.ErrNotFound.
func (s *Store) findOne(ctx context.Context, filter bson.D) (events.Event, error) {
	var d document
	err := s.coll.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return events.Event{}, events.ErrNotFound
	}
	if err != nil {
		return events.Event{}, err
	}
	return d.event(), nil
}

// find returns the events filter selects, in sort order when sort is set,
// at most limit of them when limit > 0.
func (s *Store) find(ctx context.Context, filter, sort bson.D, limit int) ([]events.Event, error) {
	opts := options.Find()
	if sort != nil {
		opts.SetSort(sort)
	}
	if limit > 0 {
		// A first batch as large as the limit holds the whole page: one
		// round trip, and the server closes the cursor with it.
		opts.SetLimit(int64(limit)).SetBatchSize(int32(limit))
	}
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []document
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	es := make([]events.Event, len(docs))
	for i, d := range docs {
		es[i] = d.event()
	}
	return es, nil
}

// List returns one page, newest first.
func (s *Store) List(ctx context.Context, q events.ListQuery) (events.Page, error) {
	q, err := store.Query(q)
	if err != nil {
		return events.Page{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	es, err := s.find(ctx, listFilter(q), newestFirst, q.Limit+1)
	if err != nil {
		return events.Page{}, wrap("list events", err)
	}
	return store.Page(es, q.Limit), nil
}

// listFilter returns the filter for q. The cursor becomes createdAt <= its
// time, a plain bound on the index, plus an $or that drops the events of
// that millisecond at or above its id; a top-level $or of two ranges would
// make the planner merge two index scans instead.
func listFilter(q events.ListQuery) bson.D {
	filter := bson.D{}
	if q.Name != "" {
		filter = append(filter, bson.E{Key: "name", Value: q.Name})
	}
	created := timeRange(q.From, q.To)
	if !q.After.IsZero() {
		oid, _ := bson.ObjectIDFromHex(q.After.ID) // checked by store.Query
		at := dateTime(q.After.CreatedAt)
		created = append(created, bson.E{Key: "$lte", Value: at})
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: at}}}},
			bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: oid}}}},
		}})
	}
	if len(created) > 0 {
		filter = append(filter, bson.E{Key: "createdAt", Value: created})
	}
	return filter
}

// timeRange returns the createdAt conditions for from <= createdAt < to,
// bounds already whole milliseconds; a zero bound adds none.
func timeRange(from, to time.Time) bson.D {
	r := bson.D{}
	if !from.IsZero() {
		r = append(r, bson.E{Key: "$gte", Value: dateTime(from)})
	}
	if !to.IsZero() {
		r = append(r, bson.E{Key: "$lt", Value: dateTime(to)})
	}
	return r
}

// Count counts events with from <= createdAt < to; a zero bound is open.
// Without bounds it reads the collection's document count from metadata
// (see the package documentation for when that drifts).
func (s *Store) Count(ctx context.Context, from, to time.Time) (int64, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	r := timeRange(store.CeilMilli(from), store.CeilMilli(to))
	if len(r) == 0 {
		n, err := s.coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return 0, wrap("count events", err)
		}
		return n, nil
	}
	n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "createdAt", Value: r}})
	if err != nil {
		return 0, wrap("count events", err)
	}
	return n, nil
}
