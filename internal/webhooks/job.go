package webhooks

import (
	"encoding/json"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// JobName is the deliver-webhook job's name; jobs in Redis carry it.
const JobName = events.DeliverWebhookJobName

// QueueName is the queue deliveries go to: a queue of their own, with a
// worker of their own, so that a slow or unreachable receiver holds up
// other deliveries at most, never the event pipeline's jobs.
const QueueName = "webhooks"

// DefaultRetryDelays is the wait before each retry of a delivery, the
// default of WEBHOOK_RETRY_DELAYS: about 18 hours in all.
var DefaultRetryDelays = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour}

// jobData is a deliver-webhook job's payload. The event travels with the
// job, so a delivery needs no store read and a deleted event is still sent.
type jobData struct {
	WebhookID  string    `json:"webhookId"`
	DeliveryID string    `json:"deliveryId"`
	Event      eventJSON `json:"event"`
	// AttemptBase is added to the job's attempt numbers: a manual retry
	// continues the delivery's count.
	AttemptBase int `json:"attemptBase,omitempty"`
	// Manual marks a delivery someone asked for (a test, a retry): it goes
	// out even while the subscription's circuit is open, as a probe would.
	Manual bool `json:"manual,omitempty"`
}

// eventJSON is an event as deliveries show it: the API's form.
type eventJSON struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	CreatedAt string          `json:"createdAt"`
	JobID     string          `json:"jobId,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

func toJSON(e events.Event) eventJSON {
	return eventJSON{ID: e.ID, Name: e.Name, CreatedAt: formatTime(e.CreatedAt), JobID: e.JobID, Data: e.Data}
}

// formatTime is the API's time format: RFC 3339, UTC, milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// DeliveryID names the delivery of event eventID to subscription
// webhookID: the webhook-id header, the same on every attempt.
func DeliveryID(eventID, webhookID string) string { return "msg_" + eventID + "_" + webhookID }

// jobID makes the fan-out idempotent: one job per (event, subscription).
func jobID(eventID, webhookID string) string { return "webhook-" + eventID + "-" + webhookID }

// jobOptions is the policy of deliver-webhook jobs: their row of
// events.JobTypes (timeout, retention), with retries set by the schedule
// (the handler sets each wait with queue.RetryAfter).
func jobOptions(retries int) queue.JobOptions {
	if retries == 0 {
		retries = queue.NoRetries
	}
	row, _ := events.LookupJobType(JobName)
	opts := row.Options(events.Retention{})
	opts.Retries = retries
	return opts
}

func newJob(w events.Webhook, e events.Event, retries int) queue.NewJob {
	d := jobData{WebhookID: w.ID, DeliveryID: DeliveryID(e.ID, w.ID), Event: toJSON(e)}
	raw, _ := json.Marshal(d)
	opts := jobOptions(retries)
	opts.ID = jobID(e.ID, w.ID)
	return queue.NewJob{Name: JobName, Data: raw, Options: opts}
}
