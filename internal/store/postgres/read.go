package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"github.com/jackc/pgx/v5"
)

const selectEvent = "SELECT id, name, created_at, job_id, data FROM events"

// Get returns the event with id.
func (s *Store) Get(ctx context.Context, id string) (events.Event, error) {
	oid, err := store.ParseID(id)
	if err != nil {
		return events.Event{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	e, err := s.queryOne(ctx, selectEvent+" WHERE id = $1", oid.Hex())
	if errors.Is(err, pgx.ErrNoRows) {
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
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	e, err := s.queryOne(ctx, selectEvent+" WHERE job_id = $1", jobID)
	if errors.Is(err, pgx.ErrNoRows) {
		return events.Event{}, fmt.Errorf("%w: job %q", events.ErrNotFound, jobID)
	}
	if err != nil {
		return events.Event{}, wrap("get event by job id", err)
	}
	return e, nil
}

func (s *Store) queryOne(ctx context.Context, sql string, args ...any) (events.Event, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return events.Event{}, err
	}
	return pgx.CollectExactlyOneRow(rows, scanEvent)
}

// List returns one page, newest first. Every filter and the cursor are
// range conditions on an index that also gives the order, so a page costs
// the same wherever it starts.
func (s *Store) List(ctx context.Context, q events.ListQuery) (events.Page, error) {
	q, err := store.Query(q)
	if err != nil {
		return events.Page{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	query, args := listQuery(q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return events.Page{}, wrap("list events", err)
	}
	es, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return events.Page{}, wrap("list events", err)
	}
	return store.Page(es, q.Limit), nil
}

// listQuery returns the SQL and arguments for q, fetching one row more than
// a page to learn whether another page follows.
func listQuery(q events.ListQuery) (string, []any) {
	var c conditions
	if q.Name != "" {
		c.add("name = $%d", q.Name)
	}
	c.timeRange(q.From, q.To)
	if !q.After.IsZero() {
		c.add("(created_at, id) < ($%d, $%d)", q.After.CreatedAt, q.After.ID)
	}
	return selectEvent + c.where() + " ORDER BY created_at DESC, id DESC LIMIT " + strconv.Itoa(q.Limit+1), c.args
}

// Count counts events with from <= createdAt < to; a zero bound is open.
// It counts rows: without bounds, PostgreSQL scans an index or the table,
// which takes time in proportion to the table (see the package docs).
func (s *Store) Count(ctx context.Context, from, to time.Time) (int64, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	var c conditions
	c.timeRange(store.CeilMilli(from), store.CeilMilli(to))
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM events"+c.where(), c.args...).Scan(&n); err != nil {
		return 0, wrap("count events", err)
	}
	return n, nil
}

// conditions builds a WHERE clause with numbered parameters.
type conditions struct {
	conds []string
	args  []any
}

// add appends a condition whose format has one %d per argument, each
// replaced by the argument's parameter number.
func (c *conditions) add(format string, args ...any) {
	nums := make([]any, len(args))
	for i := range args {
		nums[i] = len(c.args) + i + 1
	}
	c.conds = append(c.conds, fmt.Sprintf(format, nums...))
	c.args = append(c.args, args...)
}

func (c *conditions) timeRange(from, to time.Time) {
	if !from.IsZero() {
		c.add("created_at >= $%d", from)
	}
	if !to.IsZero() {
		c.add("created_at < $%d", to)
	}
}

func (c *conditions) where() string {
	if len(c.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.conds, " AND ")
}

// scanEvent reads a row of selectEvent.
func scanEvent(row pgx.CollectableRow) (events.Event, error) {
	var (
		e     events.Event
		jobID *string
		data  []byte
	)
	if err := row.Scan(&e.ID, &e.Name, &e.CreatedAt, &jobID, &data); err != nil {
		return events.Event{}, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	if jobID != nil {
		e.JobID = *jobID
	}
	if data != nil {
		e.Data = json.RawMessage(data)
	}
	return e, nil
}
