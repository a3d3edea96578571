package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
)

// eventView is an event as the API shows it. Times are strings because
// encoding/json drops trailing zeros from fractional seconds, and clients
// are promised exactly three digits.
type eventView struct {
	ID        string    `json:"id" doc:"24 lowercase hex characters (a MongoDB ObjectID)." example:"6745f0b2c3a1d2e3f4a5b6c7"`
	Name      string    `json:"name" doc:"What happened." example:"user-signup"`
	CreatedAt string    `json:"createdAt" format:"date-time" doc:"When it happened: RFC 3339, UTC, milliseconds." example:"2026-11-26T23:54:38.120Z"`
	JobID     string    `json:"jobId,omitempty" doc:"The job that produced the event, when a job did." example:"42"`
	Data      eventData `json:"data,omitempty" doc:"What happened in detail, a JSON object, when the event has data. Keys may come back in another order than they were sent (the PostgreSQL store sorts them)."`
}

func viewEvent(e events.Event) eventView {
	return eventView{ID: e.ID, Name: e.Name, CreatedAt: formatTime(e.CreatedAt), JobID: e.JobID, Data: eventData(e.Data)}
}

// eventData is an event's data as JSON text, passed through unchanged, so
// that numbers keep every digit and keys their order. Its schema is any
// JSON object; null, when sent, means no data.
type eventData json.RawMessage

func (d eventData) MarshalJSON() ([]byte, error) { return json.RawMessage(d).MarshalJSON() }

func (d *eventData) UnmarshalJSON(b []byte) error {
	*d = append((*d)[:0], b...)
	return nil
}

// Schema implements huma.SchemaProvider: a JSON object with any properties.
func (eventData) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeObject, Nullable: true, AdditionalProperties: true}
}

// formatTime formats t as RFC 3339 in UTC with exactly three fractional
// digits, the format of every time the API shows.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// formatOptionalTime is formatTime, or "" for the zero time (omitted).
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// GET /api/events

var listEventsOp = huma.Operation{
	OperationID: "listEvents",
	Summary:     "List events",
	Description: "Lists events newest first, a page at a time. Pass the response's `nextCursor` as `cursor` " +
		"to get the next page; it is absent on the last page. Filters combine: `name` matches exactly, " +
		"`from` is inclusive and `to` exclusive. A malformed cursor is a 400; malformed or out-of-range " +
		"parameters are a 422.",
	Tags:   []string{"events"},
	Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
}

type listEventsInput struct {
	Limit  int       `query:"limit" minimum:"1" maximum:"1000" default:"50" doc:"Page size."`
	Cursor string    `query:"cursor" doc:"Where to continue: a previous page's nextCursor."`
	Name   string    `query:"name" maxLength:"200" doc:"Only events with exactly this name."`
	From   time.Time `query:"from" doc:"Only events created at or after this time (RFC 3339)."`
	To     time.Time `query:"to" doc:"Only events created before this time (RFC 3339)."`
}

// Resolve rejects what the schema cannot: an offset outside ±23:59, which
// Go's parser accepts but RFC 3339 does not (nor can the time be written
// back), and an empty time window, which can only be a mistake.
func (in *listEventsInput) Resolve(ctx huma.Context) []error {
	errs := checkOffsets(ctx, in.From, in.To)
	if len(errs) == 0 && !in.From.IsZero() && !in.To.IsZero() && !in.To.After(in.From) {
		errs = append(errs, &huma.ErrorDetail{Location: "query.to", Message: "to must be after from", Value: ctx.Query("to")})
	}
	return errs
}

// maxOffset is RFC 3339's largest UTC offset, 23:59, in seconds.
const maxOffset = 23*3600 + 59*60

// checkOffsets refuses a from or to query time whose offset RFC 3339 does
// not allow (Go's parser takes up to ±24:00, which cannot be written back).
func checkOffsets(ctx huma.Context, from, to time.Time) []error {
	var errs []error
	for _, p := range []struct {
		name string
		t    time.Time
	}{{"from", from}, {"to", to}} {
		if _, off := p.t.Zone(); off < -maxOffset || off > maxOffset {
			errs = append(errs, &huma.ErrorDetail{Location: "query." + p.name,
				Message: "the UTC offset must be within ±23:59", Value: ctx.Query(p.name)})
		}
	}
	return errs
}

type eventPage struct {
	Items      []eventView `json:"items" nullable:"false"`
	NextCursor string      `json:"nextCursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

type listEventsOutput struct{ Body eventPage }

func (a *API) listEvents(ctx context.Context, in *listEventsInput) (*listEventsOutput, error) {
	after, err := events.ParseCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	page, err := a.store.List(ctx, events.ListQuery{
		Limit: in.Limit, After: after, Name: in.Name, From: in.From, To: in.To,
	})
	if err != nil {
		return nil, err
	}
	out := &listEventsOutput{Body: eventPage{Items: make([]eventView, len(page.Items))}}
	for i, e := range page.Items {
		out.Body.Items[i] = viewEvent(e)
	}
	if !page.Next.IsZero() {
		out.Body.NextCursor = page.Next.String()
	}
	return out, nil
}

// GET /api/events/{id}

var getEventOp = huma.Operation{
	OperationID: "getEvent",
	Summary:     "Get an event",
	Description: "Returns one event. An id that is not 24 hex characters is a 400; an unknown one a 404.",
	Tags:        []string{"events"},
	Errors:      []int{http.StatusBadRequest, http.StatusNotFound},
}

type eventIDInput struct {
	ID string `path:"id" doc:"The event's id: 24 hex characters." example:"6745f0b2c3a1d2e3f4a5b6c7"`
}

type eventOutput struct{ Body eventView }

func (a *API) getEvent(ctx context.Context, in *eventIDInput) (*eventOutput, error) {
	e, err := a.store.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &eventOutput{Body: viewEvent(e)}, nil
}

// POST /api/events

var createEventOp = huma.Operation{
	OperationID: "createEvent",
	Summary:     "Create an event",
	Description: "Stores an event now and answers 201 with it and its URL in Location. The name is trimmed " +
		"of surrounding white space and must then be 1 to 200 characters. `data`, optional, is any JSON object " +
		"up to 64 KiB as compact JSON (EVENT_DATA_MAX_BYTES), with no key twice in one object, no U+0000 " +
		"character and at most 64 levels of nesting. Unknown fields, a missing or non-string name, and data " +
		"that is not an object or breaks a limit are a 422; malformed JSON is a 400; a body over the size limit " +
		"(1 MiB unless configured) a 413.",
	Tags:          []string{"events"},
	DefaultStatus: http.StatusCreated,
	Errors:        []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
}

type createEventInput struct {
	Body newEvent
}

type newEvent struct {
	Name string    `json:"name" minLength:"1" doc:"What happened: 1 to 200 characters once trimmed." example:"user-signup"`
	Data eventData `json:"data,omitempty" doc:"What happened in detail: any JSON object (optional)."`
}

// checkName applies the event name rule (events.CleanName: trimmed, 1 to
// 200 characters), which a JSON schema cannot express for trimmed text. It
// runs in the handler, not as a huma resolver, so that a body that already
// failed validation gets one error, not two.
func checkName(given string) (string, error) {
	name, err := events.CleanName(given)
	if err != nil {
		return "", invalidAt("body.name", given, err)
	}
	return name, nil
}

type createEventOutput struct {
	Location string `header:"Location" doc:"The new event's URL."`
	Body     eventView
}

// checkData applies the event data rules (events.CleanData) with the
// configured size limit, which a JSON schema cannot express, and returns
// the data as stores keep it.
func (a *API) checkData(given eventData) (json.RawMessage, error) {
	data, err := events.CleanData(json.RawMessage(given), a.cfg.MaxEventDataBytes)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), events.ErrInvalidData.Error()+": ")
		return nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body.data", Message: msg})
	}
	return data, nil
}

func (a *API) createEvent(ctx context.Context, in *createEventInput) (*createEventOutput, error) {
	name, err := checkName(in.Body.Name)
	if err != nil {
		return nil, err
	}
	data, err := a.checkData(in.Body.Data)
	if err != nil {
		return nil, err
	}
	write := a.store.Create
	if a.cfg.Writer != nil {
		write = a.cfg.Writer.Write
	}
	e, err := write(ctx, events.Event{Name: name, Data: data})
	if err != nil {
		return nil, err
	}
	return &createEventOutput{Location: "/api/events/" + e.ID, Body: viewEvent(e)}, nil
}

// DELETE /api/events/{id}

var deleteEventOp = huma.Operation{
	OperationID: "deleteEvent",
	Summary:     "Delete an event",
	Description: "Deletes one event and answers 204. A malformed id is a 400; an unknown one a 404.",
	Tags:        []string{"events"},
	Errors:      []int{http.StatusBadRequest, http.StatusNotFound},
}

func (a *API) deleteEvent(ctx context.Context, in *eventIDInput) (*struct{}, error) {
	e, err := a.store.Get(ctx, in.ID)
	if err != nil {
		return nil, a.audit(ctx, "delete-event", err, "event_id", in.ID)
	}
	if err := a.store.Delete(ctx, in.ID); err != nil {
		return nil, a.audit(ctx, "delete-event", err, "event_id", in.ID)
	}
	a.audit(ctx, "delete-event", nil, "event_id", in.ID)
	// The event's minute, if it has closed, counted it: count it again.
	if err := a.roller.Touched(ctx, []events.Event{e}); err != nil {
		a.log.WarnContext(ctx, "event deleted, its minute not recounted", "event_id", e.ID, "err", err)
	}
	return nil, nil
}

// POST /api/events/generate-mock

var generateMockOp = huma.Operation{
	OperationID: "generateMock",
	Summary:     "Generate mock-data jobs",
	Description: "Adds `count` process-mock-data jobs (default 1) to the queue and answers 202 with their ids. " +
		"Each job, once processed, stores one event; follow a job at /api/jobs/{id}. The body is optional.",
	Tags:          []string{"events"},
	DefaultStatus: http.StatusAccepted,
	Errors:        []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
}

type generateMockInput struct {
	Body *generateMockBody
}

type generateMockBody struct {
	Count int `json:"count,omitempty" minimum:"1" maximum:"1000" default:"1" doc:"How many jobs to add."`
}

type generatedJobs struct {
	JobIDs []string `json:"jobIds" nullable:"false" doc:"The ids of the jobs added, in order."`
}

type generateMockOutput struct{ Body generatedJobs }

func (a *API) generateMock(ctx context.Context, in *generateMockInput) (*generateMockOutput, error) {
	count := 1
	if in.Body != nil && in.Body.Count != 0 {
		count = in.Body.Count
	}
	ids, err := a.producer.GenerateMock(ctx, count)
	if err != nil {
		return nil, err
	}
	out := &generateMockOutput{}
	out.Body.JobIDs = append([]string{}, ids...)
	return out, nil
}

// GET /api/events/stats

var statsOp = huma.Operation{
	OperationID: "getStats",
	Summary:     "Queue and event statistics",
	Description: "Counts the queue's jobs in each state, its lifetime completed, failed and cancelled totals, " +
		"how long the job next in line has waited, whether it is paused, and the number of stored events.",
	Tags: []string{"events"},
}

type queueStats struct {
	Name            string `json:"name" example:"mock-data-queue"`
	Waiting         int64  `json:"waiting" doc:"Ready to run."`
	Active          int64  `json:"active" doc:"Running now."`
	Delayed         int64  `json:"delayed" doc:"Due later, including backoff before a retry."`
	Completed       int64  `json:"completed" doc:"Completed and kept (completed jobs are removed by default)."`
	Failed          int64  `json:"failed" doc:"Failed for good and kept."`
	Paused          int64  `json:"paused" doc:"Waiting in a paused queue."`
	CompletedTotal  int64  `json:"completedTotal" doc:"Every job that ever completed, kept or not."`
	FailedTotal     int64  `json:"failedTotal" doc:"Every job that ever failed for good, kept or not; cancelled jobs are not counted here."`
	CancelledTotal  int64  `json:"cancelledTotal" doc:"Every job that was ever cancelled, kept or not. A job cancelled before it ran made no attempt."`
	OldestWaitingMs int64  `json:"oldestWaitingMs" doc:"How long, in milliseconds, the job next in line has been runnable: 0 when none waits or the queue is paused."`
	IsPaused        bool   `json:"isPaused"`
}

type statsBody struct {
	Queue  queueStats   `json:"queue" doc:"The seed's queue, mock-data-queue: the first of queues."`
	Queues []queueStats `json:"queues" nullable:"false" doc:"Every queue, the seed's first; name one in the jobs and queue routes' queue parameter."`
	Events eventsStats  `json:"events"`
}

type eventsStats struct {
	Total int64 `json:"total" doc:"Stored events."`
}

type statsOutput struct{ Body statsBody }

func (a *API) stats(ctx context.Context, _ *struct{}) (*statsOutput, error) {
	out := &statsOutput{}
	out.Body.Queues = make([]queueStats, len(a.queues))
	for i, q := range a.queues {
		c, err := q.Counts(ctx)
		if err != nil {
			return nil, err
		}
		out.Body.Queues[i] = queueStats{
			Name:    q.Name(),
			Waiting: c.Waiting, Active: c.Active, Delayed: c.Delayed,
			Completed: c.Completed, Failed: c.Failed, Paused: c.Paused,
			CompletedTotal: c.CompletedTotal, FailedTotal: c.FailedTotal, CancelledTotal: c.CancelledTotal,
			OldestWaitingMs: c.OldestWaiting.Milliseconds(), IsPaused: c.IsPaused,
		}
	}
	out.Body.Queue = out.Body.Queues[0]
	total, err := a.store.Count(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	out.Body.Events.Total = total
	return out, nil
}
