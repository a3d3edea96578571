package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// problem turns an error from a handler into the HTTP problem the client
// sees. It is the one place domain errors become statuses; only errors the
// client could not have caused are logged.
//
// Errors that already carry a status (huma's validation errors, or ones a
// handler built with huma.ErrorNNN) pass through unchanged. The detail of a
// 4xx is the error's message, which our sentinels word for clients; the detail
// of a 5xx never includes the cause, which may name hosts or queries.
func (a *API) problem(ctx context.Context, err error) error {
	var se huma.StatusError
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, events.ErrNotFound), errors.Is(err, queue.ErrNotFound):
		return huma.Error404NotFound(err.Error())
	case errors.Is(err, events.ErrInvalidID), errors.Is(err, events.ErrInvalidCursor):
		return huma.Error400BadRequest(err.Error())
	case errors.Is(err, events.ErrEmptyName), errors.Is(err, events.ErrInvalidLimit),
		errors.Is(err, queue.ErrInvalid):
		return huma.Error422UnprocessableEntity(err.Error())
	case errors.Is(err, events.ErrDuplicateID), errors.Is(err, queue.ErrWrongState):
		return huma.Error409Conflict(err.Error())
	case errors.Is(err, queue.ErrFellBehind):
		// An SSE client too slow for the event stream: normal under load, and
		// the client's reconnect with Last-Event-ID resumes where it was.
		return unavailable("this stream fell behind the queue's events; reconnect with Last-Event-ID to resume")
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody reads this answer and nothing is wrong.
		return huma.Error503ServiceUnavailable("request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		a.log.WarnContext(ctx, "dependency timed out", "route", routeOf(ctx), "err", err)
		// Not "within Timeout": a client's own deadline (the MongoDB
		// driver's server selection, say) often ends the call sooner.
		return unavailable("a dependency (queue or event store) did not answer in time; try again later")
	case isUnavailable(err):
		a.log.WarnContext(ctx, "dependency unavailable", "route", routeOf(ctx), "err", err)
		return unavailable("a dependency (queue or event store) is unavailable; try again later")
	default:
		a.log.ErrorContext(ctx, "unexpected error", "route", routeOf(ctx), "err", err)
		return huma.Error500InternalServerError("unexpected error; it has been logged")
	}
}

// unavailable is a 503 that tells clients when to retry.
func unavailable(detail string) error {
	return huma.ErrorWithHeaders(huma.Error503ServiceUnavailable(detail),
		http.Header{"Retry-After": {"5"}})
}

// isUnavailable reports whether err says a dependency could not be reached,
// as opposed to a bug: network errors, refused or reset connections, and
// connections closed mid-answer. The Redis and MongoDB clients return these
// (wrapped) when their server is down.
func isUnavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// problemType is the RFC 9457 type of every problem: the status code and
// title say all there is to say, which "about:blank" means.
const problemType = "about:blank"

// maxEchoedValue caps the offending value echoed in a validation error, so
// that a malformed 1 MiB body is not sent back whole.
const maxEchoedValue = 256

// normalizeProblems is a huma transformer that gives every problem huma
// writes the same shape as the ones the middleware writes.
func normalizeProblems(maxBody int64) huma.Transformer {
	return func(_ huma.Context, _ string, v any) (any, error) {
		e, ok := v.(*huma.ErrorModel)
		if !ok {
			return v, nil
		}
		if e.Type == "" {
			e.Type = problemType
		}
		switch e.Status {
		case http.StatusRequestEntityTooLarge:
			// huma reads one byte past the limit to tell "at" from "over" and
			// would report that number.
			e.Detail = tooLarge(maxBody)
		case http.StatusBadRequest:
			if len(e.Errors) > 0 && e.Errors[0].Location == "body" {
				e.Detail = "request body is not valid JSON"
			}
		case http.StatusUnsupportedMediaType:
			e.Detail = "request body must be JSON, sent with Content-Type: application/json"
		}
		for _, d := range e.Errors {
			if s, ok := d.Value.(string); ok && len(s) > maxEchoedValue {
				d.Value = s[:maxEchoedValue] + "…"
			}
		}
		return e, nil
	}
}

func tooLarge(maxBody int64) string {
	return "request body is larger than " + strconv.FormatInt(maxBody, 10) + " bytes"
}

// writeProblem writes a problem from outside huma's handlers: the
// middleware and the router's 404 and 405. Headers already set on w (Allow,
// WWW-Authenticate) are kept.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(&huma.ErrorModel{
		Type:   problemType,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
