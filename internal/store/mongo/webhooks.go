package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// webhookDoc is a subscription as stored, in the collection
// <events collection>_webhooks.
type webhookDoc struct {
	ID             bson.ObjectID  `bson:"_id"`
	URL            string         `bson:"url"`
	Events         []string       `bson:"events"`
	Description    string         `bson:"description"`
	Secret         string         `bson:"secret"`
	Enabled        bool           `bson:"enabled"`
	DisabledReason string         `bson:"disabledReason"`
	CreatedAt      bson.DateTime  `bson:"createdAt"`
	Failures       int            `bson:"failures"`
	FailingSince   *bson.DateTime `bson:"failingSince"`
}

func (d webhookDoc) webhook() events.Webhook {
	w := events.Webhook{ID: d.ID.Hex(), URL: d.URL, Events: d.Events, Description: d.Description,
		Secret: d.Secret, Enabled: d.Enabled, DisabledReason: d.DisabledReason,
		CreatedAt: fromDateTime(d.CreatedAt), Failures: d.Failures}
	if w.Events == nil {
		w.Events = []string{}
	}
	if d.FailingSince != nil {
		w.FailingSince = fromDateTime(*d.FailingSince)
	}
	return w
}

// attemptDoc is a delivery attempt as stored, in <events collection>_webhook_attempts.
type attemptDoc struct {
	ID         bson.ObjectID `bson:"_id"`
	WebhookID  string        `bson:"webhookId"`
	DeliveryID string        `bson:"deliveryId"`
	EventID    string        `bson:"eventId"`
	EventName  string        `bson:"eventName"`
	// JobID and JobQueue are absent from attempts recorded before eventsd
	// kept them, and read as empty.
	JobID       string         `bson:"jobId"`
	JobQueue    string         `bson:"jobQueue"`
	Attempt     int            `bson:"attempt"`
	Outcome     string         `bson:"outcome"`
	StatusCode  int            `bson:"statusCode"`
	DurationMS  int64          `bson:"durationMs"`
	Error       string         `bson:"error"`
	Response    string         `bson:"response"`
	NextRetryAt *bson.DateTime `bson:"nextRetryAt"`
	CreatedAt   bson.DateTime  `bson:"createdAt"`
}

func (d attemptDoc) attempt() events.DeliveryAttempt {
	a := events.DeliveryAttempt{ID: d.ID.Hex(), WebhookID: d.WebhookID, DeliveryID: d.DeliveryID,
		EventID: d.EventID, EventName: d.EventName, JobID: d.JobID, JobQueue: d.JobQueue, Attempt: d.Attempt, Outcome: d.Outcome,
		StatusCode: d.StatusCode, Duration: time.Duration(d.DurationMS) * time.Millisecond,
		Error: d.Error, Response: d.Response, CreatedAt: fromDateTime(d.CreatedAt)}
	if d.NextRetryAt != nil {
		a.NextRetryAt = fromDateTime(*d.NextRetryAt)
	}
	return a
}

func (s *Store) webhooks() *mongo.Collection {
	return s.coll.Database().Collection(s.cfg.Collection + "_webhooks")
}

func (s *Store) attempts() *mongo.Collection {
	return s.coll.Database().Collection(s.cfg.Collection + "_webhook_attempts")
}

// createWebhookIndexes creates the attempts' indexes, one per command (see createIndexes).
func createWebhookIndexes(ctx context.Context, s *Store) error {
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "deliveryId", Value: 1}, {Key: "attempt", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "webhookId", Value: 1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}},
	} {
		if _, err := s.attempts().Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create webhook attempt indexes: %w", err)
		}
	}
	return nil
}

func optDateTime(t time.Time) *bson.DateTime {
	if t.IsZero() {
		return nil
	}
	d := dateTime(t)
	return &d
}

// CreateWebhook stores a subscription.
func (s *Store) CreateWebhook(ctx context.Context, w events.Webhook) (events.Webhook, error) {
	w, err := store.PrepareWebhook(w)
	if err != nil {
		return events.Webhook{}, err
	}
	oid, _ := store.WebhookID(w.ID)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	_, err = s.webhooks().InsertOne(ctx, webhookDoc{ID: oid, URL: w.URL, Events: w.Events,
		Description: w.Description, Secret: w.Secret, Enabled: w.Enabled, DisabledReason: w.DisabledReason,
		CreatedAt: dateTime(w.CreatedAt), Failures: w.Failures, FailingSince: optDateTime(w.FailingSince)})
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
	return s.findWebhook(ctx, oid)
}

func (s *Store) findWebhook(ctx context.Context, oid bson.ObjectID) (events.Webhook, error) {
	var d webhookDoc
	err := s.webhooks().FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return events.Webhook{}, fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
	}
	if err != nil {
		return events.Webhook{}, wrap("get webhook", err)
	}
	return d.webhook(), nil
}

// ListWebhooks returns a page of subscriptions, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, q events.WebhookQuery) (events.WebhookPage, error) {
	q, err := store.WebhookQuery(q)
	if err != nil {
		return events.WebhookPage{}, err
	}
	filter := bson.D{}
	if q.After != "" {
		oid, _ := store.WebhookID(q.After)
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: oid}}})
	}
	if q.EnabledOnly {
		filter = append(filter, bson.E{Key: "enabled", Value: true})
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cur, err := s.webhooks().Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(q.Limit+1)))
	if err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	var docs []webhookDoc
	if err := cur.All(ctx, &docs); err != nil {
		return events.WebhookPage{}, wrap("list webhooks", err)
	}
	out := make([]events.Webhook, len(docs))
	for i, d := range docs {
		out[i] = d.webhook()
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
	set := bson.D{{Key: "url", Value: w.URL}, {Key: "events", Value: w.Events},
		{Key: "description", Value: w.Description}, {Key: "secret", Value: w.Secret},
		{Key: "enabled", Value: w.Enabled}, {Key: "disabledReason", Value: w.DisabledReason}}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if w.Enabled {
		// Enabling a disabled subscription starts its count afresh: a
		// conditional update first, then the settings.
		if _, err := s.webhooks().UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "enabled", Value: false}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 0}, {Key: "failingSince", Value: nil}}}}); err != nil {
			return events.Webhook{}, wrap("update webhook", err)
		}
	}
	res, err := s.webhooks().UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return events.Webhook{}, wrap("update webhook", err)
	}
	if res.MatchedCount == 0 {
		return events.Webhook{}, fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
	}
	return s.findWebhook(ctx, oid)
}

// DeleteWebhook removes a subscription, then its attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	oid, ok := store.WebhookID(id)
	if !ok {
		return fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	res, err := s.webhooks().DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
	if err != nil {
		return wrap("delete webhook", err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("%w: %s", events.ErrWebhookNotFound, oid.Hex())
	}
	if _, err := s.attempts().DeleteMany(ctx, bson.D{{Key: "webhookId", Value: oid.Hex()}}); err != nil {
		return wrap("delete webhook attempts", err)
	}
	return nil
}

// RecordDeliveryOutcome counts a finished delivery. A failure is two
// updates, each atomic: the count goes up by one, then FailingSince is set
// only where it is unset.
func (s *Store) RecordDeliveryOutcome(ctx context.Context, id string, delivered bool, at time.Time) (events.Webhook, error) {
	oid, ok := store.WebhookID(id)
	if !ok {
		return events.Webhook{}, fmt.Errorf("%w: %q", events.ErrWebhookNotFound, id)
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	byID := bson.D{{Key: "_id", Value: oid}}
	var err error
	if delivered {
		_, err = s.webhooks().UpdateOne(ctx, byID, bson.D{{Key: "$set", Value: bson.D{
			{Key: "failures", Value: 0}, {Key: "failingSince", Value: nil}}}})
	} else {
		_, err = s.webhooks().UpdateOne(ctx, byID, bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}})
		if err == nil {
			_, err = s.webhooks().UpdateOne(ctx,
				bson.D{{Key: "_id", Value: oid}, {Key: "failingSince", Value: nil}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "failingSince", Value: dateTime(events.Normalize(at))}}}})
		}
	}
	if err != nil {
		return events.Webhook{}, wrap("record delivery outcome", err)
	}
	return s.findWebhook(ctx, oid)
}

// AddDeliveryAttempt records an attempt, replacing one with its delivery id and number.
func (s *Store) AddDeliveryAttempt(ctx context.Context, a events.DeliveryAttempt) (events.DeliveryAttempt, error) {
	a, err := store.PrepareAttempt(a)
	if err != nil {
		return events.DeliveryAttempt{}, err
	}
	oid, _ := store.WebhookID(a.ID)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	key := bson.D{{Key: "deliveryId", Value: a.DeliveryID}, {Key: "attempt", Value: a.Attempt}}
	set := bson.D{{Key: "webhookId", Value: a.WebhookID}, {Key: "eventId", Value: a.EventID},
		{Key: "eventName", Value: a.EventName}, {Key: "jobId", Value: a.JobID},
		{Key: "jobQueue", Value: a.JobQueue}, {Key: "outcome", Value: a.Outcome},
		{Key: "statusCode", Value: a.StatusCode}, {Key: "durationMs", Value: a.Duration.Milliseconds()},
		{Key: "error", Value: a.Error}, {Key: "response", Value: a.Response},
		{Key: "nextRetryAt", Value: optDateTime(a.NextRetryAt)}, {Key: "createdAt", Value: dateTime(a.CreatedAt)}}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: bson.D{{Key: "_id", Value: oid}}}}
	for try := 0; ; try++ {
		_, err = s.attempts().UpdateOne(ctx, key, update, options.UpdateOne().SetUpsert(true))
		// Two writers upserting one key at once: the loser finds it now.
		if err == nil || !mongo.IsDuplicateKeyError(err) || try > 0 {
			break
		}
	}
	if err != nil {
		return events.DeliveryAttempt{}, wrap("add delivery attempt", err)
	}
	var d attemptDoc
	if err := s.attempts().FindOne(ctx, key).Decode(&d); err != nil {
		return events.DeliveryAttempt{}, wrap("add delivery attempt", err)
	}
	return d.attempt(), nil
}

// ListDeliveryAttempts returns a page of a subscription's attempts, newest first.
func (s *Store) ListDeliveryAttempts(ctx context.Context, q events.DeliveryQuery) (events.DeliveryPage, error) {
	q, err := store.DeliveryQuery(q)
	if err != nil {
		return events.DeliveryPage{}, err
	}
	filter := bson.D{{Key: "webhookId", Value: q.WebhookID}}
	if q.DeliveryID != "" {
		filter = append(filter, bson.E{Key: "deliveryId", Value: q.DeliveryID})
	}
	if !q.After.IsZero() {
		oid, _ := store.WebhookID(q.After.ID)
		at := dateTime(q.After.CreatedAt)
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: at}}}},
			bson.D{{Key: "createdAt", Value: at}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: oid}}}},
		}})
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cur, err := s.attempts().Find(ctx, filter, options.Find().SetSort(newestFirst).SetLimit(int64(q.Limit+1)))
	if err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	var docs []attemptDoc
	if err := cur.All(ctx, &docs); err != nil {
		return events.DeliveryPage{}, wrap("list delivery attempts", err)
	}
	out := make([]events.DeliveryAttempt, len(docs))
	for i, d := range docs {
		out[i] = d.attempt()
	}
	return store.DeliveryPage(out, q.Limit), nil
}
