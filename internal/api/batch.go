package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
)

// POST /api/events/batch

func (a *API) importEventsOp() huma.Operation {
	return huma.Operation{
		OperationID: "importEvents",
		Summary:     "Import events in a batch",
		Description: fmt.Sprintf("Checks 1 to %d events and, if every one is valid, adds one import-events job that "+
			"stores them; answers 202 with the job's id and its URL in Location. Follow the job at /api/jobs/{id}: "+
			"its `progress` goes from 0 to 100 as chunks of events are written (the job stream "+
			"/api/jobs/events sends each step), and once completed its `result` is `{\"inserted\": n}`. "+
			"Completed imports stay inspectable for 24 hours.\n\n"+
			"Each event is as for POST /api/events, plus an optional `createdAt` (RFC 3339, at most a minute "+
			"ahead of the server's clock, 1970 or later; default the time the batch was accepted). If any event is invalid, "+
			"nothing is queued and the 422 lists each bad event by its index, as `body.events[3].name`. The "+
			"request body may be up to %d bytes, more than other routes take. A retried import job rewrites the "+
			"same events (their ids derive from the job's id and their index), never a second copy.",
			events.MaxImport, a.cfg.MaxImportBodyBytes),
		Tags:          []string{"events"},
		DefaultStatus: http.StatusAccepted,
		MaxBodyBytes:  a.cfg.MaxImportBodyBytes,
		Errors:        []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
	}
}

type importEventsInput struct {
	Body importBody
}

type importBody struct {
	Events []importItem `json:"events" minItems:"1" maxItems:"10000" nullable:"false" doc:"The events to store, 1 to 10,000."`
}

type importItem struct {
	Name      string    `json:"name" minLength:"1" doc:"What happened: 1 to 200 characters once trimmed." example:"order.placed"`
	CreatedAt string    `json:"createdAt,omitempty" format:"date-time" doc:"When it happened (RFC 3339); default the time the batch was accepted." example:"2026-11-26T23:54:38.120Z"`
	Data      eventData `json:"data,omitempty" doc:"What happened in detail: any JSON object (optional)."`
}

type importAccepted struct {
	JobID string `json:"jobId" doc:"The import-events job; follow it at /api/jobs/{id}." example:"0193a8f2-7c1e-7b4a-9d6e-2f1c3b5a4d7e"`
}

type importEventsOutput struct {
	Location string `header:"Location" doc:"The import job's URL."`
	Body     importAccepted
}

// futureSlack is how far ahead of the server's clock an imported event may
// say it happened: clocks differ a little, events do not come from the future.
const futureSlack = time.Minute

func (a *API) importEvents(ctx context.Context, in *importEventsInput) (*importEventsOutput, error) {
	now := events.Now()
	items := make([]events.ImportItem, len(in.Body.Events))
	var bad []error
	for i, it := range in.Body.Events {
		at := func(field string) string { return fmt.Sprintf("body.events[%d].%s", i, field) }
		name, err := events.CleanName(it.Name)
		if err != nil {
			bad = append(bad, &huma.ErrorDetail{Location: at("name"), Message: err.Error(), Value: it.Name})
		}
		created := now
		if it.CreatedAt != "" {
			if created, err = importTime(it.CreatedAt, now); err != nil {
				bad = append(bad, &huma.ErrorDetail{Location: at("createdAt"), Message: err.Error(), Value: it.CreatedAt})
			}
		}
		data, err := events.CleanData(json.RawMessage(it.Data), a.cfg.MaxEventDataBytes)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), events.ErrInvalidData.Error()+": ")
			bad = append(bad, &huma.ErrorDetail{Location: at("data"), Message: msg})
		}
		items[i] = events.ImportItem{Name: name, CreatedAt: created, Data: data}
	}
	if len(bad) > 0 {
		return nil, huma.Error422UnprocessableEntity(
			fmt.Sprintf("%d of the %d events are invalid; nothing was imported", len(bad), len(items)), bad...)
	}
	job, err := a.producer.Import(ctx, items)
	if err != nil {
		return nil, err
	}
	return &importEventsOutput{Location: "/api/jobs/" + job.ID, Body: importAccepted{JobID: job.ID}}, nil
}

// importTime parses an imported event's createdAt: RFC 3339 with an offset
// RFC 3339 allows, from 1970 on and at most futureSlack after now.
func importTime(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time, e.g. 2026-11-28T06:00:00Z")
	}
	if _, off := t.Zone(); off < -maxOffset || off > maxOffset {
		return time.Time{}, fmt.Errorf("the UTC offset must be within ±23:59")
	}
	switch {
	case t.Before(time.Unix(0, 0)):
		return time.Time{}, fmt.Errorf("must be 1970 or later")
	case t.After(now.Add(futureSlack)):
		return time.Time{}, fmt.Errorf("is in the future: events record what happened")
	}
	return events.Normalize(t), nil
}
