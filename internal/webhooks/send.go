package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// TestEventName names the events POST /api/webhooks/{id}/test sends. They
// are not stored.
const TestEventName = "webhook.test"

// ErrDisabled is a send asked of a disabled subscription.
var ErrDisabled = errors.New("the webhook subscription is disabled; enable it first")

// ErrNoEvent is a retry of a delivery whose event is no longer stored.
var ErrNoEvent = errors.New("the delivery's event is no longer stored")

// Sender adds the deliveries a client asks for: a test event, a retry.
type Sender struct {
	store events.Store
	q     *queue.Queue
}

// NewSender returns a Sender reading events from st and adding jobs to q.
func NewSender(st events.Store, q *queue.Queue) *Sender { return &Sender{store: st, q: q} }

// Sent says what a send queued.
type Sent struct {
	JobID      string
	JobQueue   string // the queue JobID is in
	DeliveryID string
	EventID    string
}

// SendTest queues one attempt, without retries, of a test event to w.
func (s *Sender) SendTest(ctx context.Context, w events.Webhook) (Sent, error) {
	if !w.Enabled {
		return Sent{}, ErrDisabled
	}
	e := testEvent(events.NewID(), w.ID)
	return s.add(ctx, w, e, 0, "")
}

// Retry queues one more attempt, without retries, of the delivery whose
// latest attempt is last. While one retry of a delivery waits or runs,
// asking again adds nothing.
func (s *Sender) Retry(ctx context.Context, w events.Webhook, last events.DeliveryAttempt) (Sent, error) {
	if !w.Enabled {
		return Sent{}, ErrDisabled
	}
	var e events.Event
	if last.EventName == TestEventName {
		e = testEvent(last.EventID, w.ID)
	} else {
		var err error
		e, err = s.store.Get(ctx, last.EventID)
		if errors.Is(err, events.ErrNotFound) || errors.Is(err, events.ErrInvalidID) {
			return Sent{}, fmt.Errorf("%w: %s", ErrNoEvent, last.EventID)
		}
		if err != nil {
			return Sent{}, err
		}
	}
	return s.add(ctx, w, e, last.Attempt, "retry-"+last.DeliveryID)
}

func (s *Sender) add(ctx context.Context, w events.Webhook, e events.Event, base int, dedup string) (Sent, error) {
	d := jobData{WebhookID: w.ID, DeliveryID: DeliveryID(e.ID, w.ID), Event: toJSON(e), AttemptBase: base, Manual: true}
	raw, _ := json.Marshal(d)
	opts := jobOptions(0)
	opts.DedupKey = dedup
	job, err := s.q.Add(ctx, JobName, raw, opts)
	if err != nil {
		return Sent{}, err
	}
	return Sent{JobID: job.ID, JobQueue: s.q.Name(), DeliveryID: d.DeliveryID, EventID: e.ID}, nil
}

func testEvent(id, webhookID string) events.Event {
	data, _ := json.Marshal(map[string]string{"message": "A test event from eventsd.", "webhookId": webhookID})
	return events.Event{ID: id, Name: TestEventName, CreatedAt: events.Now(), Data: data}
}
