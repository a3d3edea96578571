package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
)

// RollUp recomputes the counts of each minute in one transaction: the
// minute's rows are replaced by a GROUP BY over its events, which the
// created_at index bounds to the minute.
func (s *Store) RollUp(ctx context.Context, minutes []time.Time) error {
	minutes = events.Minutes(minutes)
	if len(minutes) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range minutes {
			from := m.UnixMilli()
			if _, err := tx.ExecContext(ctx, "DELETE FROM event_counts WHERE minute = ?", from); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO event_counts (minute, name, count)
				SELECT ?, name, count(*) FROM events WHERE created_at >= ? AND created_at < ? GROUP BY name`,
				from, from, from+time.Minute.Milliseconds()); err != nil {
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
