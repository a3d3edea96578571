package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"github.com/jackc/pgx/v5"
)

const webhookColumns = `id, url, events, description, secret, enabled, disabled_reason, created_at, failures, failing_since`

// CreateWebhook stores a subscription.
func (s *Store) CreateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	w, err := store.PrepareWebhook(w)
	if err != nil {
		return events.Webhook{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		w.ID, w.URL, w.Events, w.Description, w.Secret, w.Enabled, w.DisabledReason, w.CreatedAt, w.Failures, nullTime(w.FailingSince))
	if err != nil {
		return events.Webhook{}, wrap("create webhook", err)
	}
	return w, nil
}

// GetWebhook returns one subscription.
func (s *Store) GetWebhook(ctx context.Context, id string) (events.Webhook, error) {
	oid, ok := store.WebhookID(id)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return s.oneWebhook(ctx, "get webhook", "SELECT "+webhookColumns+" FROM webhooks WHERE id = $1", oid.Hex())
}

func (s *Store) oneWebhook(ctx context.Context, op, sql string, args ...any) (events.Webhook, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return events.Webhook{}, wrap(op, err)
	}
	w, err := pgx.CollectExactlyOneRow(rows, scanWebhook)
	if errors.Is(err, pgx.ErrNoRows) {
		return events.Webhook{}, fmt.Errorf("%w: %v", events.ErrWebhookNotFound, args[len(args)-1])
	}
	if err != nil {
		return events.Webhook{}, wrap(op, err)
	}
	return w, nil
}

// ListWebhooks returns a page of subscriptions, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, q events.WebhookQuery) (events.WebhookPage, error) {
	q, err := store.WebhookQuery(q)
	if err != nil {
		return events.WebhookPage{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE id > $1 AND (enabled OR NOT $2) ORDER BY id LIMIT $3`, q.After, q.EnabledOnly, q.Limit+1)
	if err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	out, err := pgx.CollectRows(rows, scanWebhook)
	if err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	return store.WebhookPage(out, q.Limit), nil
}

// UpdateWebhook replaces a subscription's settings.
func (s *Store) UpdateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	oid, ok := store.WebhookID(w.ID)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, w.ID)
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return s.oneWebhook(ctx, "update webhook", `UPDATE webhooks SET url = $1, events = $2, description = $3,
		secret = $4, enabled = $5, disabled_reason = $6,
		failures = CASE WHEN $5 AND NOT enabled THEN 0 ELSE failures END,
		failing_since = CASE WHEN $5 AND NOT enabled THEN NULL ELSE failing_since END
		WHERE id = $7 RETURNING `+webhookColumns,
		w.URL, w.Events, w.Description, w.Secret, w.Enabled, w.DisabledReason, oid.Hex())
}

// DeleteWebhook removes a subscription and its attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	oid, ok := store.WebhookID(id)
	if !ok {
		return fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("delete webhook", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "DELETE FROM webhooks WHERE id = $1", oid.Hex())
	if err != nil {
		return wrap("delete webhook", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
	}
	if _, err := tx.Exec(ctx, "DELETE FROM webhook_attempts WHERE webhook_id = $1", oid.Hex()); err != nil {
		return wrap("delete webhook attempts", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("delete webhook", err)
	}
	return nil
}

// RecordDeliveryOutcome counts a finished delivery in one statement.
func (s *Store) RecordDeliveryOutcome(ctx context.Context, id string, delivered bool, at time.Time) (events.Webhook, error) {
	oid, ok := store.WebhookID(id)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return s.oneWebhook(ctx, "record delivery outcome", `UPDATE webhooks SET
		failures = CASE WHEN $1 THEN 0 ELSE failures + 1 END,
		failing_since = CASE WHEN $1 THEN NULL ELSE coalesce(failing_since, $2) END
		WHERE id = $3 RETURNING `+webhookColumns, delivered, events.Normalize(at), oid.Hex())
}

const attemptColumns = `id, webhook_id, delivery_id, event_id, event_name, job_id, job_queue, attempt,
	outcome, status_code, duration_ms, error, response, next_retry_at, created_at`

// AddDeliveryAttempt records an attempt, replacing one with its delivery id and number.
func (s *Store) AddDeliveryAttempt(ctx context.Context, a events.DeliveryAttempt) (events.DeliveryAttempt, error) {
	a, err := store.PrepareAttempt(a)
	if err != nil {
		return events.DeliveryAttempt{}, err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `INSERT INTO webhook_attempts (`+attemptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (delivery_id, attempt) DO UPDATE SET job_id = excluded.job_id,
		job_queue = excluded.job_queue, outcome = excluded.outcome,
		status_code = excluded.status_code, duration_ms = excluded.duration_ms, error = excluded.error,
		response = excluded.response, next_retry_at = excluded.next_retry_at, created_at = excluded.created_at
		RETURNING `+attemptColumns,
		a.ID, a.WebhookID, a.DeliveryID, a.EventID, a.EventName, a.JobID, a.JobQueue, a.Attempt, a.Outcome,
		a.StatusCode, a.Duration.Milliseconds(), a.Error, a.Response, nullTime(a.NextRetryAt), a.CreatedAt)
	if err != nil {
		return events.DeliveryAttempt{}, wrap("add delivery attempt", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanAttempt)
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
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	var after *time.Time
	if !q.After.IsZero() {
		after = &q.After.CreatedAt
	}
	rows, err := s.pool.Query(ctx, `SELECT `+attemptColumns+` FROM webhook_attempts
		WHERE webhook_id = $1 AND ($2 = '' OR delivery_id = $2)
		AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
		ORDER BY created_at DESC, id DESC LIMIT $5`,
		q.WebhookID, q.DeliveryID, after, q.After.ID, q.Limit+1)
	if err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	out, err := pgx.CollectRows(rows, scanAttempt)
	if err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	return store.DeliveryPage(out, q.Limit), nil
}

func scanWebhook(row pgx.CollectableRow) (events.Webhook, error) {
	var w events.Webhook
	var failing *time.Time
	if err := row.Scan(&w.ID, &w.URL, &w.Events, &w.Description, &w.Secret, &w.Enabled, &w.DisabledReason,
		&w.CreatedAt, &w.Failures, &failing); err != nil {
		return events.Webhook{}, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	w.CreatedAt = w.CreatedAt.UTC()
	if failing != nil {
		w.FailingSince = failing.UTC()
	}
	return w, nil
}

func scanAttempt(row pgx.CollectableRow) (events.DeliveryAttempt, error) {
	var a events.DeliveryAttempt
	var ms int64
	var next *time.Time
	if err := row.Scan(&a.ID, &a.WebhookID, &a.DeliveryID, &a.EventID, &a.EventName, &a.JobID, &a.JobQueue,
		&a.Attempt, &a.Outcome, &a.StatusCode, &ms, &a.Error, &a.Response, &next, &a.CreatedAt); err != nil {
		return events.DeliveryAttempt{}, err
	}
	a.Duration = time.Duration(ms) * time.Millisecond
	a.CreatedAt = a.CreatedAt.UTC()
	if next != nil {
		a.NextRetryAt = next.UTC()
	}
	return a, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
