package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

// rollUpLock is the second key of the advisory lock that serializes
// roll-ups (the first is lockNamespace): two transactions replacing the
// same minute's rows at once could otherwise keep a name the later one
// no longer counts, or deadlock on each other's rows.
const rollUpLock = 0x726f6c6c // "roll"

// RollUp recomputes the counts of the minutes in one transaction: it
// deletes their rows and inserts a GROUP BY over their events, each minute
// a range of the created_at index.
func (s *Store) RollUp(ctx context.Context, minutes []time.Time) error {
	minutes = events.Minutes(minutes)
	if len(minutes) == 0 {
		return nil
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockNamespace, rollUpLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM event_counts WHERE minute = ANY($1)", minutes); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO event_counts (minute, name, count)
			SELECT m.minute, e.name, count(*)
			FROM unnest($1::timestamptz[]) AS m(minute)
			JOIN events e ON e.created_at >= m.minute AND e.created_at < m.minute + interval '1 minute'
			GROUP BY m.minute, e.name`, minutes)
		return err
	})
	if err != nil {
		return wrap("roll up", err)
	}
	return nil
}

// MinuteCounts returns stored counts, by minute then name.
func (s *Store) MinuteCounts(ctx context.Context, q events.CountQuery) ([]events.MinuteCount, error) {
	q, err := store.CountQuery(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	var c conditions
	if !q.From.IsZero() {
		c.add("minute >= $%d", q.From)
	}
	if !q.To.IsZero() {
		c.add("minute < $%d", q.To)
	}
	if q.Name != "" {
		c.add("name = $%d", q.Name)
	}
	rows, err := s.pool.Query(ctx, "SELECT minute, name, count FROM event_counts"+c.where()+
		" ORDER BY minute, name LIMIT "+strconv.Itoa(q.Limit), c.args...)
	if err != nil {
		return nil, wrap("read counts", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (events.MinuteCount, error) {
		var m events.MinuteCount
		err := row.Scan(&m.Minute, &m.Name, &m.Count)
		m.Minute = m.Minute.UTC()
		return m, err
	})
	if err != nil {
		return nil, wrap("read counts", err)
	}
	if out == nil {
		out = []events.MinuteCount{}
	}
	return out, nil
}
