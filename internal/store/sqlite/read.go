package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

const selectEvent = "SELECT id, name, created_at, job_id, data FROM events"

// Get returns the event with id.
func (s *Store) Get(ctx context.Context, id string) (events.Event, error) {
	oid, err := store.ParseID(id)
	if err != nil {
		return events.Event{}, err
	}
	e, err := scanEvent(s.reader.QueryRowContext(ctx, selectEvent+" WHERE id = ?", oid.Hex()))
	if errors.Is(err, sql.ErrNoRows) {
		return events.Event{}, fmt.Errorf("%w: %s", events.ErrNotFound, oid.Hex())
	}
	if err != nil {
		return events.Event{}, wrap("get event", err)
	}
	return e, nil
}

// GetByJobID returns the event job jobID produced.
func (s *Store) GetByJobID(ctx context.Context, jobID string) (events.Event, error) {
	if jobID == "" {
		return events.Event{}, fmt.Errorf("%w: empty job id", events.ErrNotFound)
	}
	e, err := scanEvent(s.reader.QueryRowContext(ctx, selectEvent+" WHERE job_id = ?", jobID))
	if errors.Is(err, sql.ErrNoRows) {
		return events.Event{}, fmt.Errorf("%w: job %q", events.ErrNotFound, jobID)
	}
	if err != nil {
		return events.Event{}, wrap("get event by job id", err)
	}
	return e, nil
}

// List returns one page, newest first. Every filter and the cursor are
// range conditions on an index that also gives the order, so a page costs
// the same wherever it starts.
func (s *Store) List(ctx context.Context, q events.ListQuery) (events.Page, error) {
	q, err := store.Query(q)
	if err != nil {
		return events.Page{}, err
	}
	query, args := listQuery(q)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return events.Page{}, wrap("list events", err)
	}
	defer rows.Close()
	es := make([]events.Event, 0, q.Limit+1)
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return events.Page{}, wrap("list events", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return events.Page{}, wrap("list events", err)
	}
	return store.Page(es, q.Limit), nil
}

// listQuery returns the SQL and arguments for q, fetching one row more than
// a page to learn whether another page follows.
func listQuery(q events.ListQuery) (string, []any) {
	var where []string
	var args []any
	if q.Name != "" {
		where = append(where, "name = ?")
		args = append(args, q.Name)
	}
	where, args = timeRange(where, args, q.From, q.To)
	if !q.After.IsZero() {
		where = append(where, "(created_at, id) < (?, ?)")
		args = append(args, q.After.CreatedAt.UnixMilli(), q.After.ID)
	}
	var b strings.Builder
	b.WriteString(selectEvent)
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC LIMIT ?")
	args = append(args, q.Limit+1)
	return b.String(), args
}

// Count counts events with from <= createdAt < to; a zero bound is open.
// Without bounds it counts the whole table, which SQLite does by walking
// its smallest index: fast at a million events, slower far beyond.
func (s *Store) Count(ctx context.Context, from, to time.Time) (int64, error) {
	where, args := timeRange(nil, nil, store.CeilMilli(from), store.CeilMilli(to))
	query := "SELECT count(*) FROM events"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var n int64
	if err := s.reader.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, wrap("count events", err)
	}
	return n, nil
}

func timeRange(where []string, args []any, from, to time.Time) ([]string, []any) {
	if !from.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, from.UnixMilli())
	}
	if !to.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, to.UnixMilli())
	}
	return where, args
}

type scanner interface{ Scan(dest ...any) error }

func scanEvent(row scanner) (events.Event, error) {
	var (
		e     events.Event
		ms    int64
		jobID sql.NullString
		data  sql.NullString
	)
	if err := row.Scan(&e.ID, &e.Name, &ms, &jobID, &data); err != nil {
		return events.Event{}, err
	}
	e.CreatedAt = time.UnixMilli(ms).UTC()
	e.JobID = jobID.String
	if data.Valid {
		e.Data = json.RawMessage(data.String)
	}
	return e, nil
}
