package events

import (
	"context"
	"errors"
	"time"
)

// WebhookStore keeps webhook subscriptions and the record of their delivery
// attempts, next to the events they notify of. Every events.Store implements
// it; internal/store/storetest checks that they agree.
//
// Ids are ObjectIDs in hex, as event ids are. A malformed id is treated as an
// unknown one: ErrWebhookNotFound.
type WebhookStore interface {
	// CreateWebhook stores w and returns it as stored: an empty ID generated,
	// a zero CreatedAt set to now, times normalized to UTC milliseconds.
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// GetWebhook returns the subscription with id, or ErrWebhookNotFound.
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns a page of subscriptions, oldest first (by id).
	// A Limit outside 0..MaxLimit is ErrInvalidLimit, a malformed After
	// ErrInvalidCursor.
	ListWebhooks(ctx context.Context, q WebhookQuery) (WebhookPage, error)
	// UpdateWebhook replaces what a client may change of the subscription
	// w.ID names: URL, Events, Description, Secret, Enabled and
	// DisabledReason. Enabling a disabled subscription also clears its
	// failure count and FailingSince, so that it starts afresh. It returns
	// the subscription as stored, or ErrWebhookNotFound.
	UpdateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// DeleteWebhook removes the subscription and its delivery attempts, or
	// returns ErrWebhookNotFound.
	DeleteWebhook(ctx context.Context, id string) error
	// RecordDeliveryOutcome counts a delivery that ended: delivered clears
	// Failures and FailingSince; failed adds one to Failures and sets
	// FailingSince to at unless it is set. It is atomic, so that concurrent
	// deliveries count right, and returns the subscription as stored.
	RecordDeliveryOutcome(ctx context.Context, id string, delivered bool, at time.Time) (Webhook, error)
	// AddDeliveryAttempt records one attempt. Attempts are unique by
	// (DeliveryID, Attempt): recording one again (a job run twice) replaces
	// the first record and keeps its ID. It returns the attempt as stored.
	AddDeliveryAttempt(ctx context.Context, a DeliveryAttempt) (DeliveryAttempt, error)
	// ListDeliveryAttempts returns a page of one subscription's attempts,
	// newest first (CreatedAt, then ID, descending), optionally of one
	// delivery. A Limit outside 0..MaxLimit is ErrInvalidLimit.
	ListDeliveryAttempts(ctx context.Context, q DeliveryQuery) (DeliveryPage, error)
}

// Webhook is a subscription: events whose names match Events are POSTed to URL.
type Webhook struct {
	ID  string
	URL string
	// Events are name patterns: an exact name, a prefix ending in ".*"
	// ("user.*" matches "user.created" and "user.a.b", not "user"), or "*".
	Events      []string
	Description string
	// Secret signs deliveries: "whsec_" and base64 of the key.
	Secret  string
	Enabled bool
	// DisabledReason says why a subscription was disabled, when it was by
	// eventsd after failures.
	DisabledReason string
	CreatedAt      time.Time
	// Failures counts deliveries in a row that failed for good; a delivered
	// one resets it.
	Failures int
	// FailingSince is the first failure since the last delivered one, or zero.
	FailingSince time.Time
}

// DeliveryAttempt is one try at delivering one event to one subscription.
type DeliveryAttempt struct {
	ID string
	// WebhookID is the subscription; DeliveryID the message, the same on
	// every attempt (the webhook-id header).
	WebhookID  string
	DeliveryID string
	EventID    string
	EventName  string
	// JobID and JobQueue name the deliver-webhook job that made the attempt
	// (job ids are unique within a queue only); both are empty on attempts
	// recorded before eventsd kept them.
	JobID    string
	JobQueue string
	// Attempt counts from 1 across every try of the delivery, manual retries
	// included.
	Attempt int
	// Outcome is "delivered", "retrying" (NextRetryAt says when) or "failed".
	Outcome string
	// StatusCode is the receiver's answer, or 0 when none came.
	StatusCode int
	Duration   time.Duration
	// Error says why the attempt failed, when it did.
	Error string
	// Response is the start of the receiver's body, at most MaxResponseBytes.
	Response    string
	NextRetryAt time.Time
	CreatedAt   time.Time
}

// Delivery outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeFailed    = "failed"
)

// MaxResponseBytes bounds the response body an attempt keeps.
const MaxResponseBytes = 1024

// WebhookQuery selects a page of subscriptions.
type WebhookQuery struct {
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
	// After continues a listing: the last ID of the previous page.
	After string
	// EnabledOnly keeps only enabled subscriptions.
	EnabledOnly bool
}

// WebhookPage is one page of subscriptions.
type WebhookPage struct {
	Items []Webhook
	// Next continues the listing, or is empty on the last page.
	Next string
}

// DeliveryQuery selects a page of one subscription's attempts.
type DeliveryQuery struct {
	WebhookID string
	// DeliveryID keeps only this delivery's attempts, when set.
	DeliveryID string
	Limit      int
	After      Cursor
}

// DeliveryPage is one page of attempts.
type DeliveryPage struct {
	Items []DeliveryAttempt
	Next  Cursor
}

// ErrWebhookNotFound is an unknown or malformed subscription id.
var ErrWebhookNotFound = errors.New("webhook subscription not found")
