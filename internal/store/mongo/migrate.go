package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// migrationsCollection records, per events collection, the schema version
// its database is at: {_id: <collection name>, version: n}.
const migrationsCollection = "eventsd_migrations"

// migration is one schema step. There are no transactions to lean on (the
// code assumes none; FerretDB v1 has none) and several eventsd processes may
// start at once, so a step must be idempotent: running it twice, or twice at
// the same time, must leave what running it once does.
type migration func(ctx context.Context, s *Store) error

// migrations are the schema steps in order: migrations[i] takes a database
// from version i to i+1. Append new steps; never edit a released one.
//
// Version 0 is a database no release recorded a version for: a new one, or
// one written before versions were recorded, which already has the indexes
// step 1 creates (creating them again changes nothing). Events gained data
// without a step: documents without a data field read as events without
// data, so old databases are read as they are, never rewritten.
var migrations = []migration{
	// 1: the indexes of the events collection.
	createIndexes,
	// 2: the indexes of webhook delivery attempts (webhooks.go).
	createWebhookIndexes,
	// 3: the indexes of the per-minute counts (RollUp).
	createCountIndexes,
}

// migrate brings the store's database up to len(migrations). A database at
// a newer version than this release knows is an error: an older eventsd must
// not write to it.
func migrate(ctx context.Context, s *Store) error {
	versions := s.coll.Database().Collection(migrationsCollection)
	var rec struct {
		Version int `bson:"version"`
	}
	err := versions.FindOne(ctx, bson.D{{Key: "_id", Value: s.cfg.Collection}}).Decode(&rec)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if rec.Version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this release's %d: upgrade eventsd", rec.Version, len(migrations))
	}
	for v := rec.Version; v < len(migrations); v++ {
		if err := migrations[v](ctx, s); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
		if err := setVersion(ctx, versions, s.cfg.Collection, v+1); err != nil {
			return fmt.Errorf("record schema version %d: %w", v+1, err)
		}
	}
	return nil
}

// setVersion raises the recorded version to v, never lowers it: a process
// that finishes a step after another finished a later one leaves the later.
func setVersion(ctx context.Context, versions *mongo.Collection, coll string, v int) error {
	filter := bson.D{{Key: "_id", Value: coll}}
	update := bson.D{{Key: "$max", Value: bson.D{{Key: "version", Value: v}}}}
	_, err := versions.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two processes upserted the first record at once and the other
		// inserted it: now there is one to update.
		_, err = versions.UpdateOne(ctx, filter, update)
	}
	return err
}

// indexes returns the indexes the queries use. They are built afresh for each
// store: the driver writes the generated index name into the options builder,
// so stores opened concurrently must not share one (a data race found by
// go test -race).
func indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		{Keys: bson.D{{Key: "name", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
		// Sparse rather than partial: FerretDB v1 rejects partial indexes.
		{Keys: bson.D{{Key: "jobId", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
	}
}

// createIndexes creates the indexes. An index that exists with the same keys
// and options is left alone; one with the same name and other options is an
// error for an operator to look at. It sends one index per command: FerretDB
// v1.24 panics on a createIndexes that names two existing indexes (it
// removes them from its list by stale positions), and at start-up the extra
// round trips cost nothing.
func createIndexes(ctx context.Context, s *Store) error {
	for _, m := range indexes() {
		if _, err := s.coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create indexes on %s.%s: %w", s.cfg.Database, s.cfg.Collection, err)
		}
	}
	return nil
}
