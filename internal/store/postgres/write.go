package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"github.com/jackc/pgx/v5"
)

// insertEvents adds a batch in one statement, from one array per column, and
// returns the ids of the events it added: every event except those whose job
// id already has an event. Under concurrent writers, ON CONFLICT waits for a
// competing insert of the same job id to commit or roll back, so exactly one
// of them adds the job's event. An id already taken is not covered by the
// ON CONFLICT clause and fails the whole statement: nothing is added.
const insertEvents = `INSERT INTO events (id, name, created_at, job_id, data)
	SELECT id, name, created_at, NULLIF(job_id, ''), NULLIF(data, '')::jsonb
	FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS t(id, name, created_at, job_id, data)
	ON CONFLICT (job_id) WHERE job_id IS NOT NULL DO NOTHING
	RETURNING id`

// insertAttempts bounds how often a write is tried again when the event that
// made it a duplicate is deleted before the write could read it.
const insertAttempts = 3

// Create stores e, or returns the event its JobID already has.
func (s *Store) Create(ctx context.Context, e events.Event) (events.Event, error) {
	e, err := store.Prepare(e)
	if err != nil {
		return events.Event{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	stored, err := s.insertAll(ctx, []events.Event{e})
	if err != nil {
		return events.Event{}, wrap("insert event", err)
	}
	return stored[0], nil
}

// CreateMany stores es in one INSERT statement: all or nothing.
func (s *Store) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	b, err := store.PrepareBatch(es)
	if err != nil {
		return nil, err
	}
	if len(b.Unique) == 0 {
		return []events.Event{}, nil
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	stored, err := s.insertAll(ctx, b.Unique)
	if err != nil {
		return nil, wrap("insert events", err)
	}
	return b.Answer(stored), nil
}

// insertAll writes prepared events, which have distinct ids and job ids, and
// returns for each the event stored for it: itself, or the event its job id
// already had.
func (s *Store) insertAll(ctx context.Context, es []events.Event) ([]events.Event, error) {
	stored := make([]events.Event, len(es))
	pending := make([]int, len(es)) // positions in es not yet answered
	for i := range pending {
		pending[i] = i
	}
	for range insertAttempts {
		added, err := s.insert(ctx, es, pending)
		if err != nil {
			return nil, err
		}
		var dups []int
		for _, i := range pending {
			if added[es[i].ID] {
				stored[i] = es[i]
			} else {
				dups = append(dups, i)
			}
		}
		if len(dups) == 0 {
			return stored, nil
		}
		// Each of these job ids had an event when the insert ran. A new
		// statement sees it, unless it was deleted since: write those again.
		found, err := s.byJobIDs(ctx, es, dups)
		if err != nil {
			return nil, fmt.Errorf("read the events of duplicate job ids: %w", err)
		}
		pending = pending[:0]
		for _, i := range dups {
			if e, ok := found[es[i].JobID]; ok {
				stored[i] = e
			} else {
				pending = append(pending, i)
			}
		}
		if len(pending) == 0 {
			return stored, nil
		}
	}
	return nil, fmt.Errorf("%w: the event of job %q was deleted while this write was answered with it; try again", events.ErrDuplicateID, es[pending[0]].JobID)
}

// insert runs insertEvents for the events of es at positions and returns the
// ids it added.
func (s *Store) insert(ctx context.Context, es []events.Event, positions []int) (map[string]bool, error) {
	var (
		n       = len(positions)
		ids     = make([]string, 0, n)
		names   = make([]string, 0, n)
		times   = make([]time.Time, 0, n)
		jobIDs  = make([]string, 0, n)
		dataCol = make([]string, 0, n)
	)
	for _, i := range positions {
		e := es[i]
		ids, names, times = append(ids, e.ID), append(names, e.Name), append(times, e.CreatedAt)
		jobIDs, dataCol = append(jobIDs, e.JobID), append(dataCol, string(e.Data))
	}
	rows, err := s.pool.Query(ctx, insertEvents, ids, names, times, jobIDs, dataCol)
	if err != nil {
		return nil, err
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if isUniqueViolation(err, "events_pkey") {
		return nil, fmt.Errorf("%w: %v", events.ErrDuplicateID, err)
	}
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(added))
	for _, id := range added {
		set[id] = true
	}
	return set, nil
}

// byJobIDs returns the stored events of the job ids of es at positions, by
// job id.
func (s *Store) byJobIDs(ctx context.Context, es []events.Event, positions []int) (map[string]events.Event, error) {
	jobIDs := make([]string, len(positions))
	for k, i := range positions {
		jobIDs[k] = es[i].JobID
	}
	rows, err := s.pool.Query(ctx, selectEvent+" WHERE job_id = ANY($1)", jobIDs)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, err
	}
	byJob := make(map[string]events.Event, len(found))
	for _, e := range found {
		byJob[e.JobID] = e
	}
	return byJob, nil
}

// Delete removes the event with id.
func (s *Store) Delete(ctx context.Context, id string) error {
	oid, err := store.ParseID(id)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM events WHERE id = $1", oid.Hex())
	if err != nil {
		return wrap("delete event", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", events.ErrNotFound, oid.Hex())
	}
	return nil
}

// deleteChunk is how many events DeleteOlderThan removes per statement.
const deleteChunk = 5000

// DeleteOlderThan removes events created before t, deleteChunk events per
// statement, so that a large cleanup is many short transactions rather than
// one that holds its locks and WAL for minutes. On an error, the chunks
// already deleted stay deleted and their count is returned with it.
func (s *Store) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cut := store.CeilMilli(t)
	var total int64
	for {
		tag, err := s.pool.Exec(ctx,
			"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 LIMIT $2)",
			cut, s.deleteChunk)
		if err != nil {
			return total, wrap("delete old events", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(s.deleteChunk) {
			return total, nil
		}
	}
}
