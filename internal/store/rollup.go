package store

import (
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

// CountQuery returns q as stores run it: Limit resolved (events.MaxCounts
// for 0) and the bounds rounded up to whole minutes, which select the same
// minutes (a minute is kept when its start is at or after From and before
// To). A Limit outside 0..events.MaxCounts is an error wrapping
// events.ErrTooManyCounts.
func CountQuery(q events.CountQuery) (events.CountQuery, error) {
	if q.Limit < 0 || q.Limit > events.MaxCounts {
		return q, fmt.Errorf("%w: got %d", events.ErrTooManyCounts, q.Limit)
	}
	if q.Limit == 0 {
		q.Limit = events.MaxCounts
	}
	q.From, q.To = ceilMinute(q.From), ceilMinute(q.To)
	return q, nil
}

func ceilMinute(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	m := t.UTC().Truncate(time.Minute)
	if m.Before(t) {
		m = m.Add(time.Minute)
	}
	return m
}
