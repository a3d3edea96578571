package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

// RollUp recomputes the counts of each minute: a GROUP BY over the minute's
// events, which the created_at index bounds to the minute, replaces the
// minute's rows.
//
// The counts are read on a reader connection, from a snapshot, and only
// their replacement is written. Counting reads every event of the minute
// (120,000 at the soak's 2,000 a second; a job recomputes two minutes) and
// took seconds: inside the write transaction it held the one writer
// connection that long, and every event write waited, which in the soak
// showed each minute as HTTP requests timing out, a backlog of 20,000 jobs
// and the memory they hold. Roll-ups run one at a time (rollMu), so a roll-up
// never stores counts from a snapshot older than the last one stored; an
// event committed after the snapshot is counted by the next roll-up of its
// minute, as one committed after the transaction was before.
func (s *Store) RollUp(ctx context.Context, minutes []time.Time) error {
	minutes = events.Minutes(minutes)
	if len(minutes) == 0 {
		return nil
	}
	s.rollMu.Lock()
	defer s.rollMu.Unlock()
	type count struct {
		minute int64
		name   string
		n      int64
	}
	var counts []count
	for _, m := range minutes {
		from := m.UnixMilli()
		rows, err := s.reader.QueryContext(ctx, `SELECT name, count(*) FROM events
			WHERE created_at >= ? AND created_at < ? GROUP BY name`, from, from+time.Minute.Milliseconds())
		if err != nil {
			return wrap("roll up", err)
		}
		for rows.Next() {
			c := count{minute: from}
			if err := rows.Scan(&c.name, &c.n); err != nil {
				rows.Close()
				return wrap("roll up", err)
			}
			counts = append(counts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("roll up", err)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range minutes {
			if _, err := tx.ExecContext(ctx, "DELETE FROM event_counts WHERE minute = ?", m.UnixMilli()); err != nil {
				return err
			}
		}
		for _, c := range counts {
			if _, err := tx.ExecContext(ctx, "INSERT INTO event_counts (minute, name, count) VALUES (?, ?, ?)",
				c.minute, c.name, c.n); err != nil {
				return err
			}
		}
		return nil
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
	var where []string
	var args []any
	if !q.From.IsZero() {
		where, args = append(where, "minute >= ?"), append(args, q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		where, args = append(where, "minute < ?"), append(args, q.To.UnixMilli())
	}
	if q.Name != "" {
		where, args = append(where, "name = ?"), append(args, q.Name)
	}
	query := "SELECT minute, name, count FROM event_counts"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY minute, name LIMIT ?"
	rows, err := s.reader.QueryContext(ctx, query, append(args, q.Limit)...)
	if err != nil {
		return nil, wrap("read counts", err)
	}
	defer rows.Close()
	out := []events.MinuteCount{}
	for rows.Next() {
		var c events.MinuteCount
		var ms int64
		if err := rows.Scan(&ms, &c.Name, &c.Count); err != nil {
			return nil, wrap("read counts", err)
		}
		c.Minute = time.UnixMilli(ms).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read counts", err)
	}
	return out, nil
}
