package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/webhooks"
)

// WebhookSender queues the deliveries clients ask for. *webhooks.Sender
// satisfies it.
type WebhookSender interface {
	// SendTest queues a test event to w: webhooks.ErrDisabled if w is disabled.
	SendTest(ctx context.Context, w events.Webhook) (webhooks.Sent, error)
	// Retry queues one more attempt of the delivery whose latest attempt is
	// last: webhooks.ErrDisabled, or webhooks.ErrNoEvent when its event is gone.
	Retry(ctx context.Context, w events.Webhook, last events.DeliveryAttempt) (webhooks.Sent, error)
}

var _ WebhookSender = (*webhooks.Sender)(nil)

// webhookView is a subscription as the API shows it: never with its secret,
// which only creation and rotation answer.
type webhookView struct {
	ID             string   `json:"id" example:"6745f0b2c3a1d2e3f4a5b6c8"`
	URL            string   `json:"url" example:"https://example.com/hooks/eventsd"`
	Events         []string `json:"events" nullable:"false" example:"[\"user.*\",\"order.created\"]"`
	Description    string   `json:"description"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabledReason,omitempty" doc:"Why eventsd disabled the subscription, when it did."`
	Failures       int      `json:"failures" doc:"Deliveries in a row that failed for good; a delivered one resets it."`
	FailingSince   string   `json:"failingSince,omitempty" format:"date-time" doc:"The first failure since the last delivery, when deliveries are failing."`
	CreatedAt      string   `json:"createdAt" format:"date-time"`
}

// webhookSecretView is a subscription with its secret.
type webhookSecretView struct {
	webhookView
	Secret string `json:"secret" doc:"The signing secret, whsec_ and base64 of the key. Shown only here: keep it." example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
}

func viewWebhook(w events.Webhook) webhookView {
	return webhookView{ID: w.ID, URL: w.URL, Events: slices.Clone(w.Events), Description: w.Description,
		Enabled: w.Enabled, DisabledReason: w.DisabledReason, Failures: w.Failures,
		FailingSince: formatOptionalTime(w.FailingSince), CreatedAt: formatTime(w.CreatedAt)}
}

const patternsDoc = "Event name patterns: an exact name (`order.created`), a prefix ending in `.*` on a dot " +
	"boundary (`user.*` matches `user.created` and `user.a.b`, not `user`), or `*` for every event."

// checkWebhook validates a URL and patterns a client sent, at the JSON
// locations named.
func (a *API) checkWebhook(ctx context.Context, url *string, patterns []string) error {
	if url != nil {
		if err := webhooks.CheckURL(ctx, *url, a.cfg.WebhooksAllowPrivate); err != nil {
			return invalidAt("body.url", *url, err)
		}
	}
	for i, p := range patterns {
		if err := webhooks.CheckPattern(p); err != nil {
			return invalidAt(fmt.Sprintf("body.events[%d]", i), p, err)
		}
	}
	return nil
}

// POST /api/webhooks

var createWebhookOp = huma.Operation{
	OperationID: "createWebhook",
	Summary:     "Create a webhook subscription",
	Description: "Subscribes `url` to the events whose names match `events`, and answers 201 with the " +
		"subscription and its signing secret, which no other answer shows. Each matching event is POSTed to " +
		"the URL as Standard Webhooks describe (see the README). The URL must be http or https and resolve to " +
		"a public address (the server's WEBHOOKS_ALLOW_PRIVATE lifts that); a URL refused, a bad pattern or " +
		"an unknown field is a 422.",
	Tags:          []string{"webhooks"},
	DefaultStatus: http.StatusCreated,
	Errors:        []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
}

type newWebhook struct {
	URL         string   `json:"url" minLength:"1" maxLength:"2048" doc:"Where deliveries are POSTed: http or https." example:"https://example.com/hooks/eventsd"`
	Events      []string `json:"events" minItems:"1" maxItems:"50" doc:"Event name patterns." example:"[\"user.*\",\"order.created\"]"`
	Description string   `json:"description,omitempty" maxLength:"500" doc:"A note for people."`
}

type createWebhookInput struct{ Body newWebhook }

type webhookSecretOutput struct {
	Location string `header:"Location" doc:"The subscription's URL."`
	Body     webhookSecretView
}

func (a *API) createWebhook(ctx context.Context, in *createWebhookInput) (*webhookSecretOutput, error) {
	if err := a.checkWebhook(ctx, &in.Body.URL, in.Body.Events); err != nil {
		return nil, err
	}
	w, err := a.store.CreateWebhook(ctx, events.Webhook{URL: in.Body.URL, Events: in.Body.Events,
		Description: in.Body.Description, Secret: webhooks.NewSecret(), Enabled: true})
	if err != nil {
		return nil, a.audit(ctx, "webhook-create", err)
	}
	a.audit(ctx, "webhook-create", nil, "webhook_id", w.ID)
	return &webhookSecretOutput{Location: "/api/webhooks/" + w.ID, Body: webhookSecretView{viewWebhook(w), w.Secret}}, nil
}

// GET /api/webhooks

var listWebhooksOp = huma.Operation{
	OperationID: "listWebhooks",
	Summary:     "List webhook subscriptions",
	Description: "Lists subscriptions oldest first, a page at a time: pass `nextCursor` as `cursor` for the next " +
		"page. A malformed cursor is a 400.",
	Tags:   []string{"webhooks"},
	Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
}

type listWebhooksInput struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" doc:"Where to continue: a previous page's nextCursor."`
}

type webhookPage struct {
	Items      []webhookView `json:"items" nullable:"false"`
	NextCursor string        `json:"nextCursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

type listWebhooksOutput struct{ Body webhookPage }

func (a *API) listWebhooks(ctx context.Context, in *listWebhooksInput) (*listWebhooksOutput, error) {
	p, err := a.store.ListWebhooks(ctx, events.WebhookQuery{Limit: in.Limit, After: in.Cursor})
	if err != nil {
		return nil, err
	}
	out := &listWebhooksOutput{Body: webhookPage{Items: make([]webhookView, len(p.Items)), NextCursor: p.Next}}
	for i, w := range p.Items {
		out.Body.Items[i] = viewWebhook(w)
	}
	return out, nil
}

// GET /api/webhooks/{id}

var getWebhookOp = huma.Operation{
	OperationID: "getWebhook",
	Summary:     "Get a webhook subscription",
	Description: "Returns one subscription, without its secret. An unknown id is a 404.",
	Tags:        []string{"webhooks"},
	Errors:      []int{http.StatusNotFound},
}

type webhookIDInput struct {
	ID string `path:"id" doc:"The subscription's id." example:"6745f0b2c3a1d2e3f4a5b6c8"`
}

type webhookOutput struct{ Body webhookView }

func (a *API) getWebhook(ctx context.Context, in *webhookIDInput) (*webhookOutput, error) {
	w, err := a.store.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: viewWebhook(w)}, nil
}

// PATCH /api/webhooks/{id}

var updateWebhookOp = huma.Operation{
	OperationID: "updateWebhook",
	Summary:     "Change a webhook subscription",
	Description: "Changes the fields sent and answers with the subscription. Enabling a disabled one clears " +
		"the reason it was disabled and its failure count. The URL and patterns are checked as at creation (422). An unknown " +
		"id is a 404.",
	Tags:   []string{"webhooks"},
	Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity},
}

type webhookPatch struct {
	URL         *string  `json:"url,omitempty" minLength:"1" maxLength:"2048" doc:"Where deliveries are POSTed."`
	Events      []string `json:"events,omitempty" minItems:"1" maxItems:"50" doc:"Event name patterns."`
	Description *string  `json:"description,omitempty" maxLength:"500"`
	Enabled     *bool    `json:"enabled,omitempty" doc:"false stops deliveries; true resumes them."`
}

type updateWebhookInput struct {
	ID   string `path:"id" doc:"The subscription's id."`
	Body webhookPatch
}

func (a *API) updateWebhook(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
	if err := a.checkWebhook(ctx, in.Body.URL, in.Body.Events); err != nil {
		return nil, err
	}
	w, err := a.store.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if in.Body.URL != nil {
		w.URL = *in.Body.URL
	}
	if in.Body.Events != nil {
		w.Events = in.Body.Events
	}
	if in.Body.Description != nil {
		w.Description = *in.Body.Description
	}
	if in.Body.Enabled != nil {
		if *in.Body.Enabled && !w.Enabled {
			w.DisabledReason = ""
		}
		w.Enabled = *in.Body.Enabled
	}
	if w, err = a.store.UpdateWebhook(ctx, w); err != nil {
		return nil, a.audit(ctx, "webhook-update", err, "webhook_id", in.ID)
	}
	a.audit(ctx, "webhook-update", nil, "webhook_id", in.ID, "enabled", w.Enabled)
	return &webhookOutput{Body: viewWebhook(w)}, nil
}

// DELETE /api/webhooks/{id}

var deleteWebhookOp = huma.Operation{
	OperationID: "deleteWebhook",
	Summary:     "Delete a webhook subscription",
	Description: "Deletes the subscription and its delivery record and answers 204; deliveries already queued " +
		"are dropped. An unknown id is a 404.",
	Tags:   []string{"webhooks"},
	Errors: []int{http.StatusNotFound},
}

func (a *API) deleteWebhook(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
	return nil, a.audit(ctx, "webhook-delete", a.store.DeleteWebhook(ctx, in.ID), "webhook_id", in.ID)
}

// POST /api/webhooks/{id}/rotate-secret

var rotateSecretOp = huma.Operation{
	OperationID: "rotateWebhookSecret",
	Summary:     "Rotate a subscription's secret",
	Description: "Replaces the signing secret and answers with the subscription and its new secret, shown only " +
		"here. Deliveries from now on are signed with it, retries of earlier ones too. An unknown id is a 404.",
	Tags:   []string{"webhooks"},
	Errors: []int{http.StatusNotFound},
}

type webhookSecretBodyOutput struct{ Body webhookSecretView }

func (a *API) rotateSecret(ctx context.Context, in *webhookIDInput) (*webhookSecretBodyOutput, error) {
	w, err := a.store.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	w.Secret = webhooks.NewSecret()
	if w, err = a.store.UpdateWebhook(ctx, w); err != nil {
		return nil, a.audit(ctx, "webhook-rotate-secret", err, "webhook_id", in.ID)
	}
	a.audit(ctx, "webhook-rotate-secret", nil, "webhook_id", in.ID)
	return &webhookSecretBodyOutput{Body: webhookSecretView{viewWebhook(w), w.Secret}}, nil
}

// POST /api/webhooks/{id}/test

var testWebhookOp = huma.Operation{
	OperationID: "testWebhook",
	Summary:     "Send a test event",
	Description: "Queues one delivery, without retries, of a `" + webhooks.TestEventName + "` event (not stored) " +
		"to the subscription and answers 202; its attempt shows in the deliveries. A disabled subscription is " +
		"a 409, an unknown id a 404.",
	Tags:          []string{"webhooks"},
	DefaultStatus: http.StatusAccepted,
	Errors:        []int{http.StatusNotFound, http.StatusConflict},
}

type sentView struct {
	JobID      string `json:"jobId" doc:"The deliver-webhook job; follow it at GET /api/jobs/{jobId}?queue={jobQueue}."`
	JobQueue   string `json:"jobQueue" doc:"The queue the job is in: webhooks." example:"webhooks"`
	DeliveryID string `json:"deliveryId" doc:"The delivery, sent as the webhook-id header."`
	EventID    string `json:"eventId"`
}

type sentOutput struct{ Body sentView }

func (a *API) testWebhook(ctx context.Context, in *webhookIDInput) (*sentOutput, error) {
	w, err := a.store.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if a.cfg.Webhooks == nil {
		return nil, wordf(errUnavailable, "this server sends no webhooks")
	}
	s, err := a.cfg.Webhooks.SendTest(ctx, w)
	if err != nil {
		return nil, err
	}
	return &sentOutput{Body: sentView{JobID: s.JobID, JobQueue: s.JobQueue, DeliveryID: s.DeliveryID, EventID: s.EventID}}, nil
}

// GET /api/webhooks/{id}/deliveries

var listDeliveriesOp = huma.Operation{
	OperationID: "listWebhookDeliveries",
	Summary:     "List a subscription's delivery attempts",
	Description: "Lists every attempt to deliver to the subscription, newest first, a page at a time; " +
		"`deliveryId` keeps one delivery's. A malformed cursor is a 400, an unknown subscription a 404.",
	Tags:   []string{"webhooks"},
	Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity},
}

type listDeliveriesInput struct {
	ID         string `path:"id" doc:"The subscription's id."`
	Limit      int    `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	Cursor     string `query:"cursor" doc:"Where to continue: a previous page's nextCursor."`
	DeliveryID string `query:"deliveryId" maxLength:"200" doc:"Only this delivery's attempts."`
}

type deliveryView struct {
	ID          string `json:"id" doc:"The attempt's id."`
	DeliveryID  string `json:"deliveryId" doc:"The delivery (the webhook-id header), the same on every attempt."`
	EventID     string `json:"eventId"`
	EventName   string `json:"eventName"`
	JobID       string `json:"jobId,omitempty" doc:"The deliver-webhook job that made this attempt: GET /api/jobs/{jobId}?queue={jobQueue}. Absent on attempts recorded before eventsd kept it."`
	JobQueue    string `json:"jobQueue,omitempty" doc:"The queue of that job (job ids are unique within a queue only): webhooks, or mock-data-queue for deliveries an older eventsd queued."`
	Attempt     int    `json:"attempt" doc:"Counts from 1 over every attempt of the delivery, manual retries included."`
	Outcome     string `json:"outcome" enum:"delivered,retrying,failed"`
	StatusCode  int    `json:"statusCode,omitempty" doc:"The receiver's status; absent when no answer came."`
	DurationMs  int64  `json:"durationMs"`
	Error       string `json:"error,omitempty"`
	Response    string `json:"response,omitempty" doc:"The first 1 KiB of the receiver's body."`
	NextRetryAt string `json:"nextRetryAt,omitempty" format:"date-time" doc:"When the next attempt is due, for an outcome of retrying."`
	CreatedAt   string `json:"createdAt" format:"date-time"`
}

type deliveryPage struct {
	Items      []deliveryView `json:"items" nullable:"false"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

type listDeliveriesOutput struct{ Body deliveryPage }

func (a *API) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*listDeliveriesOutput, error) {
	after, err := events.ParseCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	if _, err := a.store.GetWebhook(ctx, in.ID); err != nil {
		return nil, err
	}
	p, err := a.store.ListDeliveryAttempts(ctx, events.DeliveryQuery{WebhookID: in.ID, DeliveryID: in.DeliveryID,
		Limit: in.Limit, After: after})
	if err != nil {
		return nil, err
	}
	out := &listDeliveriesOutput{Body: deliveryPage{Items: make([]deliveryView, len(p.Items))}}
	for i, d := range p.Items {
		out.Body.Items[i] = deliveryView{ID: d.ID, DeliveryID: d.DeliveryID, EventID: d.EventID, EventName: d.EventName,
			JobID: d.JobID, JobQueue: d.JobQueue, Attempt: d.Attempt, Outcome: d.Outcome, StatusCode: d.StatusCode, DurationMs: d.Duration.Milliseconds(),
			Error: d.Error, Response: d.Response, NextRetryAt: formatOptionalTime(d.NextRetryAt), CreatedAt: formatTime(d.CreatedAt)}
	}
	if !p.Next.IsZero() {
		out.Body.NextCursor = p.Next.String()
	}
	return out, nil
}

// POST /api/webhooks/{id}/deliveries/{deliveryId}/retry

var retryDeliveryOp = huma.Operation{
	OperationID: "retryWebhookDelivery",
	Summary:     "Send a delivery again",
	Description: "Queues one more attempt, without automatic retries, of a delivery, with its webhook-id, and " +
		"answers 202. While such a retry waits or runs, asking again queues nothing more. An unknown " +
		"subscription or delivery is a 404; a disabled subscription, or a delivery whose event is no longer " +
		"stored, a 409.",
	Tags:          []string{"webhooks"},
	DefaultStatus: http.StatusAccepted,
	Errors:        []int{http.StatusNotFound, http.StatusConflict},
}

type retryDeliveryInput struct {
	ID         string `path:"id" doc:"The subscription's id."`
	DeliveryID string `path:"deliveryId" maxLength:"200" doc:"The delivery's id (webhook-id)."`
}

// errNoDelivery is a delivery id the subscription has no attempt of.
var errNoDelivery = errors.New("no such delivery")

func (a *API) retryDelivery(ctx context.Context, in *retryDeliveryInput) (*sentOutput, error) {
	w, err := a.store.GetWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	p, err := a.store.ListDeliveryAttempts(ctx, events.DeliveryQuery{WebhookID: w.ID, DeliveryID: in.DeliveryID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		return nil, wordf(errNoDelivery, "subscription %s has no delivery %s", w.ID, strings.TrimSpace(in.DeliveryID))
	}
	if a.cfg.Webhooks == nil {
		return nil, wordf(errUnavailable, "this server sends no webhooks")
	}
	s, err := a.cfg.Webhooks.Retry(ctx, w, p.Items[0])
	if err != nil {
		return nil, err
	}
	return &sentOutput{Body: sentView{JobID: s.JobID, JobQueue: s.JobQueue, DeliveryID: s.DeliveryID, EventID: s.EventID}}, nil
}
