package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

// countsSuffix names the collection of per-minute counts after the events
// collection: events_counts beside events.
const countsSuffix = "_counts"

// countDoc is one stored count: {minute, name, count}, unique by minute
// and name.
type countDoc struct {
	Minute time.Time `bson:"minute"`
	Name   string    `bson:"name"`
	Count  int64     `bson:"count"`
}

func (s *Store) counts() *mongo.Collection {
	return s.coll.Database().Collection(s.cfg.Collection + countsSuffix)
}

// RollUp recomputes each minute's counts: it reads the names of the
// minute's events (a range of the createdAt index) and counts them here,
// which FerretDB's aggregation could not be trusted to do alike, then
// upserts each name's count and deletes the names that have no events
// left. Without transactions a concurrent reader may see a minute half
// replaced; every step is idempotent, so a recomputation ends right.
func (s *Store) RollUp(ctx context.Context, minutes []time.Time) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	for _, m := range events.Minutes(minutes) {
		if err := s.rollUpMinute(ctx, m); err != nil {
			return wrap("roll up", err)
		}
	}
	return nil
}

func (s *Store) rollUpMinute(ctx context.Context, m time.Time) error {
	filter := bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: m}, {Key: "$lt", Value: m.Add(time.Minute)}}}}
	cur, err := s.coll.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 0}}))
	if err != nil {
		return err
	}
	var docs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	byName := make(map[string]int64)
	for _, d := range docs {
		byName[d.Name]++
	}
	counts := s.counts()
	names := bson.A{}
	for name, n := range byName {
		names = append(names, name)
		key := bson.D{{Key: "minute", Value: m}, {Key: "name", Value: name}}
		update := bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: n}}}}
		_, err := counts.UpdateOne(ctx, key, update, options.UpdateOne().SetUpsert(true))
		if mongo.IsDuplicateKeyError(err) {
			// A concurrent roll-up inserted it first: now there is one to update.
			_, err = counts.UpdateOne(ctx, key, update)
		}
		if err != nil {
			return err
		}
	}
	_, err = counts.DeleteMany(ctx, bson.D{{Key: "minute", Value: m}, {Key: "name", Value: bson.D{{Key: "$nin", Value: names}}}})
	return err
}

// MinuteCounts returns stored counts, by minute then name.
func (s *Store) MinuteCounts(ctx context.Context, q events.CountQuery) ([]events.MinuteCount, error) {
	q, err := store.CountQuery(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	filter := bson.D{}
	if !q.From.IsZero() || !q.To.IsZero() {
		r := bson.D{}
		if !q.From.IsZero() {
			r = append(r, bson.E{Key: "$gte", Value: q.From})
		}
		if !q.To.IsZero() {
			r = append(r, bson.E{Key: "$lt", Value: q.To})
		}
		filter = append(filter, bson.E{Key: "minute", Value: r})
	}
	if q.Name != "" {
		filter = append(filter, bson.E{Key: "name", Value: q.Name})
	}
	opts := options.Find().SetSort(bson.D{{Key: "minute", Value: 1}, {Key: "name", Value: 1}}).SetLimit(int64(q.Limit))
	cur, err := s.counts().Find(ctx, filter, opts)
	if err != nil {
		return nil, wrap("read counts", err)
	}
	var docs []countDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("read counts", err)
	}
	out := make([]events.MinuteCount, len(docs))
	for i, d := range docs {
		out[i] = events.MinuteCount{Minute: d.Minute.UTC(), Name: d.Name, Count: d.Count}
	}
	return out, nil
}

// createCountIndexes creates the counts collection's indexes: unique by
// minute and name, and by name for a name's counts over time.
func createCountIndexes(ctx context.Context, s *Store) error {
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "minute", Value: 1}, {Key: "name", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "name", Value: 1}, {Key: "minute", Value: 1}}},
	} {
		if _, err := s.counts().Indexes().CreateOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
