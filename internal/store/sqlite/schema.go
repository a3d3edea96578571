package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema steps in order: migrations[i] takes the file from
// user_version i to i+1. Append new steps; never edit a released one.
var migrations = []string{
	// 1: the events table and its indexes.
	`CREATE TABLE events (
		id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
		name       TEXT    NOT NULL CHECK (name <> ''),
		created_at INTEGER NOT NULL, -- Unix milliseconds, UTC
		job_id     TEXT             CHECK (job_id <> '')
	) STRICT;
	CREATE INDEX events_listing ON events (created_at DESC, id DESC);
	CREATE INDEX events_by_name ON events (name, created_at, id);
	CREATE UNIQUE INDEX events_by_job ON events (job_id) WHERE job_id IS NOT NULL;`,
	// 2: event data, a JSON object as text; NULL for none, as in every event
	// written before it.
	`ALTER TABLE events ADD COLUMN data TEXT CHECK (data IS NULL OR json_type(data) = 'object');`,
	// 3: webhook subscriptions and delivery attempts (webhooks_schema.go).
	webhooksMigration,
	// 4: per-minute counts of events by name (RollUp), minute in Unix
	// milliseconds.
	`CREATE TABLE event_counts (
		minute INTEGER NOT NULL,
		name   TEXT    NOT NULL,
		count  INTEGER NOT NULL,
		PRIMARY KEY (minute, name)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX event_counts_by_name ON event_counts (name, minute);`,
	// 5: the deliver-webhook job that made each delivery attempt, and its
	// queue (job ids are unique within a queue only); empty on attempts
	// recorded before.
	`ALTER TABLE webhook_attempts ADD COLUMN job_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE webhook_attempts ADD COLUMN job_queue TEXT NOT NULL DEFAULT '';`,
}

// migrate brings the schema of db up to len(migrations), one transaction per
// step, so that a failed step leaves the file at the previous version. A file
// at a newer version than this release knows is an error: an older eventsd
// must not write to it.
func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this release's %d: upgrade eventsd", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if err := step(ctx, db, v); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have migrated the file since we read its version.
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version != from {
		return tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return err
	}
	// PRAGMA takes no parameters; from+1 is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return err
	}
	return tx.Commit()
}
