package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// PrepareWebhook returns w as it is to be stored: an empty ID generated (a
// given one must be an ObjectID), a zero CreatedAt set to now, times in UTC
// milliseconds and Events never nil.
func PrepareWebhook(w events.Webhook) (events.Webhook, error) {
	if w.ID == "" {
		w.ID = events.NewID()
	} else if oid, ok := WebhookID(w.ID); ok {
		w.ID = oid.Hex()
	} else {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, truncate(w.ID))
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = events.Now()
	}
	w.CreatedAt = events.Normalize(w.CreatedAt)
	if !w.FailingSince.IsZero() {
		w.FailingSince = events.Normalize(w.FailingSince)
	}
	w.Events = slices.Clone(w.Events)
	if w.Events == nil {
		w.Events = []string{}
	}
	return w, nil
}

// WebhookID parses a subscription or attempt id; ok is false for a malformed one.
func WebhookID(id string) (bson.ObjectID, bool) {
	oid, err := bson.ObjectIDFromHex(id)
	return oid, err == nil
}

// PrepareAttempt returns a as it is to be stored: an empty ID generated, a
// zero CreatedAt set to now, times in UTC milliseconds, Duration in whole
// milliseconds and Response cut to events.MaxResponseBytes of valid UTF-8.
func PrepareAttempt(a events.DeliveryAttempt) (events.DeliveryAttempt, error) {
	if _, ok := WebhookID(a.WebhookID); !ok {
		return a, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, truncate(a.WebhookID))
	}
	if a.DeliveryID == "" || a.Attempt < 1 {
		return a, fmt.Errorf("delivery attempt: want a delivery id and an attempt from 1, got %q and %d", a.DeliveryID, a.Attempt)
	}
	if a.ID == "" {
		a.ID = events.NewID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = events.Now()
	}
	a.CreatedAt = events.Normalize(a.CreatedAt)
	if !a.NextRetryAt.IsZero() {
		a.NextRetryAt = events.Normalize(a.NextRetryAt)
	}
	a.Duration = a.Duration.Truncate(time.Millisecond)
	if len(a.Response) > events.MaxResponseBytes {
		a.Response = a.Response[:events.MaxResponseBytes]
	}
	a.Response = strings.ToValidUTF8(a.Response, "\uFFFD")
	for len(a.Response) > events.MaxResponseBytes { // the replacement may have grown it
		a.Response = strings.ToValidUTF8(a.Response[:len(a.Response)-1], "")
	}
	return a, nil
}

// WebhookQuery checks q and resolves its Limit.
func WebhookQuery(q events.WebhookQuery) (events.WebhookQuery, error) {
	if q.Limit < 0 || q.Limit > events.MaxLimit {
		return q, fmt.Errorf("%w: got %d", events.ErrInvalidLimit, q.Limit)
	}
	q.Limit = max(q.Limit, 0)
	if q.Limit == 0 {
		q.Limit = events.DefaultLimit
	}
	if q.After != "" {
		oid, ok := WebhookID(q.After)
		if !ok {
			return q, fmt.Errorf("%w: id %q", events.ErrInvalidCursor, truncate(q.After))
		}
		q.After = oid.Hex()
	}
	return q, nil
}

// DeliveryQuery checks q and resolves its Limit; an unknown subscription is
// not an error here (its page is empty).
func DeliveryQuery(q events.DeliveryQuery) (events.DeliveryQuery, error) {
	lq, err := Query(events.ListQuery{Limit: q.Limit, After: q.After})
	if err != nil {
		return q, err
	}
	q.Limit, q.After = lq.Limit, lq.After
	return q, nil
}

// WebhookPage returns the page for rows fetched with one row more than limit.
func WebhookPage(rows []events.Webhook, limit int) events.WebhookPage {
	if rows == nil {
		rows = []events.Webhook{}
	}
	if len(rows) <= limit {
		return events.WebhookPage{Items: rows}
	}
	rows = rows[:limit]
	return events.WebhookPage{Items: rows, Next: rows[limit-1].ID}
}

// DeliveryPage returns the page for rows fetched with one row more than limit.
func DeliveryPage(rows []events.DeliveryAttempt, limit int) events.DeliveryPage {
	if rows == nil {
		rows = []events.DeliveryAttempt{}
	}
	if len(rows) <= limit {
		return events.DeliveryPage{Items: rows}
	}
	rows = rows[:limit]
	last := rows[limit-1]
	return events.DeliveryPage{Items: rows, Next: events.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}}
}
