package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
)

// GET /api/events/counts

var countsOp = huma.Operation{
	OperationID: "countEvents",
	Summary:     "Events per minute",
	Description: "Returns how many events of each name were created in each minute of a window, oldest minute " +
		"first, then by name: stored per-minute counts (rollups), so the answer scans no events. A minute is " +
		"counted once it has closed, by the `rollup` schedule (CRON_ROLLUP, every minute) and again the next " +
		"minute for late writes; an import of past events recounts the closed minutes it writes into at once. " +
		"The current minute is never listed, nor are minutes and names without events.\n\n" +
		"`from` and `to` (RFC 3339) select minutes that start at or after `from` and before `to`; by default " +
		"`to` is now and `from` an hour before `to`. The window may span at most 31 days, and at most 10,000 " +
		"counts are answered: a window holding more is a 422 asking for a narrower one or a `name`. Counts of " +
		"events deleted by EVENTS_RETENTION stay: they are history.",
	Tags:   []string{"events"},
	Errors: []int{http.StatusUnprocessableEntity},
}

// maxCountWindow bounds a counts window: 31 days of minutes.
const maxCountWindow = 31 * 24 * time.Hour

type countsInput struct {
	From time.Time `query:"from" doc:"Only minutes starting at or after this time (RFC 3339); default an hour before to."`
	To   time.Time `query:"to" doc:"Only minutes starting before this time (RFC 3339); default now."`
	Name string    `query:"name" maxLength:"200" doc:"Only events with exactly this name."`
}

// Resolve checks what the schema cannot: offsets RFC 3339 allows, and a
// window that is not empty nor longer than maxCountWindow.
func (in *countsInput) Resolve(ctx huma.Context) []error {
	errs := checkOffsets(ctx, in.From, in.To)
	if len(errs) > 0 {
		return errs
	}
	from, to := in.window(time.Now())
	switch {
	case !to.After(from):
		errs = append(errs, &huma.ErrorDetail{Location: "query.to", Message: "to must be after from", Value: ctx.Query("to")})
	case to.Sub(from) > maxCountWindow:
		errs = append(errs, &huma.ErrorDetail{Location: "query.from",
			Message: "the window from from to to may span at most 31 days", Value: ctx.Query("from")})
	}
	return errs
}

// window returns the counts window, defaults applied.
func (in *countsInput) window(now time.Time) (from, to time.Time) {
	to = in.To
	if to.IsZero() {
		to = now
	}
	from = in.From
	if from.IsZero() {
		from = to.Add(-time.Hour)
	}
	return from, to
}

type minuteCountView struct {
	Minute string `json:"minute" format:"date-time" doc:"The minute's start: RFC 3339, UTC." example:"2026-11-28T06:00:00.000Z"`
	Name   string `json:"name" example:"order.placed"`
	Count  int64  `json:"count" doc:"Events of this name created in this minute." example:"42"`
}

type countsBody struct {
	Items []minuteCountView `json:"items" nullable:"false"`
}

type countsOutput struct{ Body countsBody }

// maxCountItems bounds the counts one answer holds.
const maxCountItems = 10_000

func (a *API) countEvents(ctx context.Context, in *countsInput) (*countsOutput, error) {
	from, to := in.window(time.Now())
	cs, err := a.store.MinuteCounts(ctx, events.CountQuery{From: from, To: to, Name: in.Name, Limit: maxCountItems + 1})
	if err != nil {
		return nil, err
	}
	if len(cs) > maxCountItems {
		// Refuse rather than answer a window cut short.
		return nil, invalidAt("query.from", formatTime(from), fmt.Errorf(
			"the window holds more than %d counts; ask for a shorter one, or for one name", maxCountItems))
	}
	out := &countsOutput{Body: countsBody{Items: make([]minuteCountView, len(cs))}}
	for i, c := range cs {
		out.Body.Items[i] = minuteCountView{Minute: formatTime(c.Minute), Name: c.Name, Count: c.Count}
	}
	return out, nil
}
