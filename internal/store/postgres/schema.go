package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema steps in order: migrations[i] takes the schema
// from version i to i+1. Append new steps; never edit a released one.
var migrations = []string{
	// 1: the events table and its indexes. Ids and names compare bytewise
	// (COLLATE "C"): ids are lowercase hex, whose byte order is the listing's
	// tie-break, and names match exactly.
	`CREATE TABLE events (
		id         text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
		name       text COLLATE "C" NOT NULL CHECK (name <> ''),
		created_at timestamptz      NOT NULL,
		job_id     text                      CHECK (job_id <> ''),
		data       jsonb                     CHECK (jsonb_typeof(data) = 'object')
	);
	CREATE INDEX events_listing ON events (created_at DESC, id DESC);
	CREATE INDEX events_by_name ON events (name, created_at DESC, id DESC);
	CREATE UNIQUE INDEX events_by_job ON events (job_id) WHERE job_id IS NOT NULL;`,
	// 2: webhook subscriptions and delivery attempts (webhooks_schema.go).
	webhooksMigration,
	// 3: per-minute counts of events by name (RollUp).
	`CREATE TABLE event_counts (
		minute timestamptz      NOT NULL,
		name   text COLLATE "C" NOT NULL,
		count  bigint           NOT NULL,
		PRIMARY KEY (minute, name)
	);
	CREATE INDEX event_counts_by_name ON event_counts (name, minute);`,
	// 4: the deliver-webhook job that made each delivery attempt, and its
	// queue (job ids are unique within a queue only); empty on attempts
	// recorded before. A constant default adds the columns without
	// rewriting the table.
	`ALTER TABLE webhook_attempts
		ADD COLUMN job_id    text NOT NULL DEFAULT '',
		ADD COLUMN job_queue text NOT NULL DEFAULT '';`,
}

// lockNamespace is the first key of the advisory lock that serializes
// migrations; the second is the schema's name, hashed, so that stores in
// different schemas of one database migrate independently.
const lockNamespace = 0x65766473 // "evds"

// migrate brings the schema up to len(migrations), one transaction per step.
// Each step takes a transaction-scoped advisory lock and re-reads the version
// first, so that processes starting at once apply each step once. A schema
// at a newer version than this release knows is an error: an older eventsd
// must not write to it.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		done, err := step(ctx, pool)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// step applies the next missing migration, or reports that there is none.
func step(ctx context.Context, pool *pgxpool.Pool) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", lockNamespace); err != nil {
		return false, fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS eventsd_migrations (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM eventsd_migrations").Scan(&version); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("schema version %d is newer than this release's %d: upgrade eventsd", version, len(migrations))
	case version == len(migrations):
		return true, tx.Commit(ctx)
	}
	// Without arguments pgx sends the step as a simple query, which may hold
	// several statements.
	if _, err := tx.Exec(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO eventsd_migrations (version) VALUES ($1)", version+1); err != nil {
		return false, fmt.Errorf("record schema version %d: %w", version+1, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", version+1, err)
	}
	return false, nil
}
