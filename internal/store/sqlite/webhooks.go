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

const selectWebhook = `SELECT id, url, events, description, secret, enabled, disabled_reason,
	created_at, failures, failing_since FROM webhooks`

// CreateWebhook stores a subscription.
func (s *Store) CreateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	w, err := store.PrepareWebhook(w)
	if err != nil {
		return events.Webhook{}, err
	}
	pats, _ := json.Marshal(w.Events)
	_, err = s.writer.ExecContext(ctx, `INSERT INTO webhooks (id, url, events, description, secret, enabled,
		disabled_reason, created_at, failures, failing_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.URL, string(pats), w.Description, w.Secret, w.Enabled, w.DisabledReason,
		w.CreatedAt.UnixMilli(), w.Failures, nullMilli(w.FailingSince))
	if err != nil {
		return events.Webhook{}, wrap("create webhook", err)
	}
	return w, nil
}

// GetWebhook returns one subscription.
func (s *Store) GetWebhook(ctx context.Context, id string) (events.Webhook, error) {
	return s.getWebhook(ctx, s.reader, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) getWebhook(ctx context.Context, db querier, id string) (events.Webhook, error) {
	oid, ok := store.WebhookID(id)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	w, err := scanWebhook(db.QueryRowContext(ctx, selectWebhook+" WHERE id = ?", oid.Hex()))
	if errors.Is(err, sql.ErrNoRows) {
		return events.Webhook{}, fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
	}
	if err != nil {
		return events.Webhook{}, wrap("get webhook", err)
	}
	return w, nil
}

// ListWebhooks returns a page of subscriptions, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, q events.WebhookQuery) (events.WebhookPage, error) {
	q, err := store.WebhookQuery(q)
	if err != nil {
		return events.WebhookPage{}, err
	}
	var where []string
	var args []any
	if q.After != "" {
		where, args = append(where, "id > ?"), append(args, q.After)
	}
	if q.EnabledOnly {
		where = append(where, "enabled = 1")
	}
	query := selectWebhook
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id LIMIT ?"
	rows, err := s.reader.QueryContext(ctx, query, append(args, q.Limit+1)...)
	if err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	defer rows.Close()
	var out []events.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return events.WebhookPage{}, wrap("list webhooks", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	return store.WebhookPage(out, q.Limit), nil
}

// UpdateWebhook replaces a subscription's settings.
func (s *Store) UpdateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	var out events.Webhook
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.getWebhook(ctx, tx, w.ID)
		if err != nil {
			return err
		}
		pats, _ := json.Marshal(nonNil(w.Events))
		if w.Enabled && !cur.Enabled {
			cur.Failures, cur.FailingSince = 0, time.Time{}
		}
		cur.URL, cur.Events, cur.Description, cur.Secret = w.URL, nonNil(w.Events), w.Description, w.Secret
		cur.Enabled, cur.DisabledReason = w.Enabled, w.DisabledReason
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?, description = ?, secret = ?,
			enabled = ?, disabled_reason = ?, failures = ?, failing_since = ? WHERE id = ?`,
			cur.URL, string(pats), cur.Description, cur.Secret, cur.Enabled, cur.DisabledReason,
			cur.Failures, nullMilli(cur.FailingSince), cur.ID)
		out = cur
		return err
	})
	if err != nil {
		if errors.Is(err, events.ErrWebhookNotFound) {
			return events.Webhook{}, err
		}
		return events.Webhook{}, wrap("update webhook", err)
	}
	return out, nil
}

// DeleteWebhook removes a subscription and its attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	oid, ok := store.WebhookID(id)
	if !ok {
		return fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ?", oid.Hex())
		if err != nil {
			return wrap("delete webhook", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM webhook_attempts WHERE webhook_id = ?", oid.Hex()); err != nil {
			return wrap("delete webhook attempts", err)
		}
		return nil
	})
}

// RecordDeliveryOutcome counts a finished delivery.
func (s *Store) RecordDeliveryOutcome(ctx context.Context, id string, delivered bool, at time.Time) (events.Webhook, error) {
	oid, ok := store.WebhookID(id)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	var out events.Webhook
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if delivered {
			_, err = tx.ExecContext(ctx, "UPDATE webhooks SET failures = 0, failing_since = NULL WHERE id = ?", oid.Hex())
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE webhooks SET failures = failures + 1,
				failing_since = coalesce(failing_since, ?) WHERE id = ?`, events.Normalize(at).UnixMilli(), oid.Hex())
		}
		if err != nil {
			return err
		}
		out, err = s.getWebhook(ctx, tx, oid.Hex())
		return err
	})
	if err != nil {
		if errors.Is(err, events.ErrWebhookNotFound) {
			return events.Webhook{}, err
		}
		return events.Webhook{}, wrap("record delivery outcome", err)
	}
	return out, nil
}

const selectAttempt = `SELECT id, webhook_id, delivery_id, event_id, event_name, job_id, job_queue, attempt,
	outcome, status_code, duration_ms, error, response, next_retry_at, created_at FROM webhook_attempts`

// AddDeliveryAttempt records an attempt, replacing one with its delivery id and number.
func (s *Store) AddDeliveryAttempt(ctx context.Context, a events.DeliveryAttempt) (events.DeliveryAttempt, error) {
	a, err := store.PrepareAttempt(a)
	if err != nil {
		return events.DeliveryAttempt{}, err
	}
	var out events.DeliveryAttempt
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (id, webhook_id, delivery_id, event_id,
			event_name, job_id, job_queue, attempt, outcome, status_code, duration_ms, error, response,
			next_retry_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (delivery_id, attempt) DO UPDATE SET job_id = excluded.job_id,
			job_queue = excluded.job_queue, outcome = excluded.outcome,
			status_code = excluded.status_code, duration_ms = excluded.duration_ms, error = excluded.error,
			response = excluded.response, next_retry_at = excluded.next_retry_at, created_at = excluded.created_at`,
			a.ID, a.WebhookID, a.DeliveryID, a.EventID, a.EventName, a.JobID, a.JobQueue, a.Attempt, a.Outcome, a.StatusCode,
			a.Duration.Milliseconds(), a.Error, a.Response, nullMilli(a.NextRetryAt), a.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		out, err = scanAttempt(tx.QueryRowContext(ctx, selectAttempt+" WHERE delivery_id = ? AND attempt = ?", a.DeliveryID, a.Attempt))
		return err
	})
	if err != nil {
		return events.DeliveryAttempt{}, wrap("add delivery attempt", err)
	}
	return out, nil
}

// ListDeliveryAttempts returns a page of a subscription's attempts, newest first.
func (s *Store) ListDeliveryAttempts(ctx context.Context, q events.DeliveryQuery) (events.DeliveryPage, error) {
	q, err := store.DeliveryQuery(q)
	if err != nil {
		return events.DeliveryPage{}, err
	}
	query := selectAttempt + " WHERE webhook_id = ?"
	args := []any{q.WebhookID}
	if q.DeliveryID != "" {
		query, args = query+" AND delivery_id = ?", append(args, q.DeliveryID)
	}
	if !q.After.IsZero() {
		ms := q.After.CreatedAt.UnixMilli()
		query += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, ms, ms, q.After.ID)
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	rows, err := s.reader.QueryContext(ctx, query, append(args, q.Limit+1)...)
	if err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	defer rows.Close()
	var out []events.DeliveryAttempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return events.DeliveryPage{}, wrap("list delivery attempts", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	return store.DeliveryPage(out, q.Limit), nil
}

func scanWebhook(r scanner) (events.Webhook, error) {
	var w events.Webhook
	var pats string
	var created int64
	var failing sql.NullInt64
	if err := r.Scan(&w.ID, &w.URL, &pats, &w.Description, &w.Secret, &w.Enabled, &w.DisabledReason,
		&created, &w.Failures, &failing); err != nil {
		return events.Webhook{}, err
	}
	if err := json.Unmarshal([]byte(pats), &w.Events); err != nil {
		return events.Webhook{}, fmt.Errorf("webhook %s: events: %w", w.ID, err)
	}
	w.Events = nonNil(w.Events)
	w.CreatedAt = time.UnixMilli(created).UTC()
	if failing.Valid {
		w.FailingSince = time.UnixMilli(failing.Int64).UTC()
	}
	return w, nil
}

func scanAttempt(r scanner) (events.DeliveryAttempt, error) {
	var a events.DeliveryAttempt
	var dur, created int64
	var next sql.NullInt64
	if err := r.Scan(&a.ID, &a.WebhookID, &a.DeliveryID, &a.EventID, &a.EventName, &a.JobID, &a.JobQueue,
		&a.Attempt, &a.Outcome, &a.StatusCode, &dur, &a.Error, &a.Response, &next, &created); err != nil {
		return events.DeliveryAttempt{}, err
	}
	a.Duration = time.Duration(dur) * time.Millisecond
	a.CreatedAt = time.UnixMilli(created).UTC()
	if next.Valid {
		a.NextRetryAt = time.UnixMilli(next.Int64).UTC()
	}
	return a, nil
}

func nullMilli(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
