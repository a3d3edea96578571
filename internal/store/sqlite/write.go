package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

// insertEvent adds an event unless its job id already has one. A taken id is
// not covered by the ON CONFLICT clause and fails with a constraint error.
const insertEvent = `INSERT INTO events (id, name, created_at, job_id, data) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO NOTHING`

// Create stores e, or returns the event its JobID already has.
func (s *Store) Create(ctx context.Context, e events.Event) (events.Event, error) {
	e, err := store.Prepare(e)
	if err != nil {
		return events.Event{}, err
	}
	stored, err := s.insertAll(ctx, []events.Event{e})
	if err != nil {
		return events.Event{}, wrap("insert event", err)
	}
	return stored[0], nil
}

// CreateMany stores es in one transaction: all or nothing.
func (s *Store) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	b, err := store.PrepareBatch(es)
	if err != nil {
		return nil, err
	}
	if len(b.Unique) == 0 {
		return []events.Event{}, nil
	}
	stored, err := s.insertAll(ctx, b.Unique)
	if err != nil {
		return nil, wrap("insert events", err)
	}
	return b.Answer(stored), nil
}

// insertAll writes prepared events in one transaction and returns, for
// each, the event stored for it.
func (s *Store) insertAll(ctx context.Context, es []events.Event) ([]events.Event, error) {
	stored := make([]events.Event, len(es))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The driver starts a goroutine for each statement run with a
		// context that can end, to interrupt it then: a batch of 1,000 rows
		// made 1,000 goroutines at once (the soak's goroutine spikes), and
		// they cost the worker's writes about a tenth of their CPU. The
		// rows run without ctx's end, which is checked between them: a row
		// takes microseconds, and BEGIN IMMEDIATE took the write lock, so
		// none waits for one.
		rowCtx := context.WithoutCancel(ctx)
		stmt, err := tx.PrepareContext(rowCtx, insertEvent)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, e := range es {
			if err := ctx.Err(); err != nil {
				return err
			}
			if stored[i], err = insert(rowCtx, tx, stmt, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// insert writes e and returns it, or, when its job id already has an event,
// that event.
func insert(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, e events.Event) (events.Event, error) {
	res, err := stmt.ExecContext(ctx, e.ID, e.Name, e.CreatedAt.UnixMilli(), nullable(e.JobID), nullable(string(e.Data)))
	if err != nil {
		if isConstraint(err) {
			return events.Event{}, fmt.Errorf("%w: %s", events.ErrDuplicateID, e.ID)
		}
		return events.Event{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return events.Event{}, err
	} else if n == 1 {
		return e, nil
	}
	// The job id has an event; in this transaction it cannot go away.
	return scanEvent(tx.QueryRowContext(ctx, selectEvent+" WHERE job_id = ?", e.JobID))
}

// Delete removes the event with id.
func (s *Store) Delete(ctx context.Context, id string) error {
	oid, err := store.ParseID(id)
	if err != nil {
		return err
	}
	res, err := s.writer.ExecContext(ctx, "DELETE FROM events WHERE id = ?", oid.Hex())
	if err != nil {
		return wrap("delete event", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("delete event", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s", events.ErrNotFound, oid.Hex())
	}
	return nil
}

// deleteChunk is how many events DeleteOlderThan removes per transaction.
const deleteChunk = 5000

// DeleteOlderThan removes events created before t, in transactions of
// deleteChunk events so that a large cleanup never holds the write lock
// long enough to stall the worker. On an error, the chunks already deleted
// stay deleted and their count is returned with it.
func (s *Store) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	cut := store.CeilMilli(t).UnixMilli()
	var total int64
	for {
		res, err := s.writer.ExecContext(ctx,
			"DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE created_at < ? LIMIT ?)",
			cut, s.deleteChunk)
		if err != nil {
			return total, wrap("delete old events", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, wrap("delete old events", err)
		}
		total += n
		if n < int64(s.deleteChunk) {
			return total, nil
		}
	}
}

// inTx runs fn in a write transaction and commits it, or rolls it back when
// fn fails.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	return tx.Commit()
}

func nullable(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}
