package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/webhooks"
	"github.com/eventsd/eventsd/queue"
)

// The API's own sentinels: what can go wrong at the HTTP edge rather than in
// the domain. Like the domain's, each decides one status in statuses.
var (
	errMalformed      = errors.New("malformed request")
	errUnauthorized   = errors.New("no valid bearer token")
	errForbidden      = errors.New("forbidden")
	errNoRoute        = errors.New("no such endpoint")
	errMethod         = errors.New("method not allowed")
	errBodyTimeout    = errors.New("request body not received in time")
	errTooLarge       = errors.New("request body too large")
	errMediaType      = errors.New("unsupported media type")
	errInvalid        = errors.New("invalid request")
	errTooManyStreams = errors.New("too many event streams")
	errUnavailable    = errors.New("a dependency is unavailable")
	// errInternal is a failure already logged where it happened.
	errInternal = errors.New("unexpected error; it has been logged")
)

// statuses maps sentinels, the domain's and ours, to statuses. The first
// that an error wraps decides.
var statuses = []struct {
	err    error
	status int
}{
	{errMalformed, http.StatusBadRequest},
	{events.ErrInvalidID, http.StatusBadRequest},
	{events.ErrInvalidCursor, http.StatusBadRequest},
	{queue.ErrInvalidEventID, http.StatusBadRequest},
	{queue.ErrInvalidCursor, http.StatusBadRequest},
	{errUnauthorized, http.StatusUnauthorized},
	{errForbidden, http.StatusForbidden},
	{errNoRoute, http.StatusNotFound},
	{events.ErrNotFound, http.StatusNotFound},
	{events.ErrWebhookNotFound, http.StatusNotFound},
	{errNoDelivery, http.StatusNotFound},
	{queue.ErrNotFound, http.StatusNotFound},
	{errMethod, http.StatusMethodNotAllowed},
	{errBodyTimeout, http.StatusRequestTimeout},
	{events.ErrDuplicateID, http.StatusConflict},
	{queue.ErrWrongState, http.StatusConflict},
	{webhooks.ErrDisabled, http.StatusConflict},
	{webhooks.ErrNoEvent, http.StatusConflict},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{errMediaType, http.StatusUnsupportedMediaType},
	{errInvalid, http.StatusUnprocessableEntity},
	{events.ErrEmptyName, http.StatusUnprocessableEntity},
	{events.ErrInvalidLimit, http.StatusUnprocessableEntity},
	{events.ErrTooManyCounts, http.StatusUnprocessableEntity},
	{queue.ErrInvalid, http.StatusUnprocessableEntity},
	{webhooks.ErrUnsafeURL, http.StatusUnprocessableEntity},
	{errTooManyStreams, http.StatusTooManyRequests},
	{errUnavailable, http.StatusServiceUnavailable},
	{events.ErrUnavailable, http.StatusServiceUnavailable},
	{queue.ErrStreamClosed, http.StatusServiceUnavailable},
	{errInternal, http.StatusInternalServerError},
}

// clientError words an error for clients. Its message is the problem's
// detail; the error it wraps, a sentinel of the domain's or ours, decides the
// status. Handlers and middleware return these; only problemOf turns them
// into problems.
type clientError struct {
	msg string
	err error
	// details locate the fault for validation errors: "body.name", with the
	// value found there.
	details []*huma.ErrorDetail
	// header is sent with the problem: WWW-Authenticate, Retry-After.
	header http.Header
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.err }

// wordf returns err, which wraps a sentinel, with a message for clients.
func wordf(err error, format string, args ...any) error {
	return &clientError{msg: fmt.Sprintf(format, args...), err: err}
}

// invalidAt reports a bad value at location ("query.after", "body.name"): a
// 422 unless cause wraps a sentinel of another status.
func invalidAt(location string, value any, cause error) error {
	err := cause
	if statusFor(cause) == 0 {
		err = fmt.Errorf("%w: %w", errInvalid, cause)
	}
	return &clientError{msg: cause.Error(), err: err,
		details: []*huma.ErrorDetail{{Location: location, Message: cause.Error(), Value: value}}}
}

// withHeader adds a header to the problem err becomes.
func withHeader(err error, key, value string) error {
	ce, ok := errors.AsType[*clientError](err)
	if !ok {
		ce = &clientError{msg: err.Error(), err: err}
		err = ce
	}
	if ce.header == nil {
		ce.header = http.Header{}
	}
	ce.header.Set(key, value)
	return err
}

func statusFor(err error) int {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	return 0
}

// retryAfter is what a 503 or 429 asks clients to wait, in seconds.
const retryAfter = "5"

// problemOf turns any error into the problem a client gets, and the headers
// to send with it. It is the one place errors become statuses, for handlers,
// middleware and the SSE stream alike; only errors the client could not have
// caused are logged.
//
// Problems huma built (validation errors) pass through. The detail of a 4xx
// is the error's message, which our sentinels and clientErrors word for
// clients; the detail of a 5xx never includes the cause, which may name
// hosts or queries.
func (a *API) problemOf(ctx context.Context, err error) (*huma.ErrorModel, http.Header) {
	header := http.Header{}
	if he, ok := errors.AsType[huma.HeadersError](err); ok {
		copyHeader(header, he.GetHeaders())
	}
	if ce, ok := errors.AsType[*clientError](err); ok {
		copyHeader(header, ce.header)
	}
	model, ok := errors.AsType[*huma.ErrorModel](err)
	switch status := statusFor(err); {
	case ok:
		// huma's own: validation and body errors.
	case status != 0:
		model = &huma.ErrorModel{Status: status, Detail: err.Error()}
		if ce, ok := errors.AsType[*clientError](err); ok {
			model.Errors = ce.details
		}
	case errors.Is(err, queue.ErrFellBehind):
		// An SSE client too slow for the event stream: normal under load, and
		// the client's reconnect with Last-Event-ID resumes where it was.
		model = &huma.ErrorModel{Status: http.StatusServiceUnavailable,
			Detail: "this stream fell behind the queue's events; reconnect with Last-Event-ID to resume"}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; nobody reads this answer and nothing is wrong.
		model = &huma.ErrorModel{Status: http.StatusServiceUnavailable, Detail: "request cancelled"}
	case errors.Is(err, context.DeadlineExceeded):
		a.log.WarnContext(ctx, "dependency timed out", "route", routeOf(ctx), "err", err)
		// Not "within Timeout": a client's own deadline (the MongoDB
		// driver's server selection, say) often ends the call sooner.
		model = &huma.ErrorModel{Status: http.StatusServiceUnavailable,
			Detail: "a dependency (queue or event store) did not answer in time; try again later"}
	case isUnavailable(err):
		a.log.WarnContext(ctx, "dependency unavailable", "route", routeOf(ctx), "err", err)
		model = &huma.ErrorModel{Status: http.StatusServiceUnavailable,
			Detail: "a dependency (queue or event store) is unavailable; try again later"}
	default:
		a.log.ErrorContext(ctx, "unexpected error", "route", routeOf(ctx), "err", err)
		model = &huma.ErrorModel{Status: http.StatusInternalServerError, Detail: "unexpected error; it has been logged"}
	}
	if (model.Status == http.StatusServiceUnavailable || model.Status == http.StatusTooManyRequests) && header.Get("Retry-After") == "" {
		header.Set("Retry-After", retryAfter)
	}
	normalize(model)
	return model, header
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
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

// Limits on what a problem echoes of a request, so that a malformed 1 MiB
// body or a query of 10,000 unknown parameters is not sent back whole.
const (
	maxEchoedValue = 256 // bytes of an offending value, as JSON
	maxEchoedText  = 512 // bytes of a detail, message or location
	maxErrors      = 20  // entries in the errors list
)

// normalize gives a problem the shape every problem has (type, title,
// status), caps what it echoes of the request, and makes every value in it
// encodable: a problem must always marshal, whatever the request held.
func normalize(e *huma.ErrorModel) {
	e.Type = problemType
	if e.Status < 400 || e.Status > 599 {
		e.Status = http.StatusInternalServerError
	}
	e.Title = http.StatusText(e.Status)
	e.Detail = capText(e.Detail, maxEchoedText)
	e.Instance = ""
	if len(e.Errors) > maxErrors {
		more := len(e.Errors) - maxErrors + 1
		e.Errors = append(e.Errors[:maxErrors-1:maxErrors-1],
			&huma.ErrorDetail{Message: strconv.Itoa(more) + " more errors not shown"})
	}
	for i, d := range e.Errors {
		if d == nil {
			d = &huma.ErrorDetail{}
			e.Errors[i] = d
		}
		if strings.HasPrefix(d.Message, "invalid date/time for format") {
			// huma names Go's layout string, which means nothing to a client.
			d.Message = timeFormatMessage
		}
		d.Message = capText(d.Message, maxEchoedText)
		d.Location = capText(d.Location, maxEchoedText)
		d.Value = echo(d.Value)
	}
}

// echo returns v as a problem may show it: v itself when it encodes to at
// most maxEchoedValue bytes of JSON, else a truncated string of its JSON
// (or of its Go form, when it does not encode at all).
func echo(v any) any {
	if s, ok := v.(string); ok {
		return capText(s, maxEchoedValue)
	}
	b, err := json.Marshal(v)
	switch {
	case err != nil:
		return capText(fmt.Sprint(v), maxEchoedValue)
	case len(b) > maxEchoedValue:
		return capText(string(b), maxEchoedValue)
	}
	return v
}

// capText cuts s to at most n bytes on a rune boundary, marking the cut; it
// replaces invalid UTF-8, which JSON cannot carry faithfully.
func capText(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
	}
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// normalizeProblems is a huma transformer that gives the problems huma
// writes itself (validation errors) the same shape as ours, and words two of
// them for people.
func normalizeProblems(_ huma.Context, _ string, v any) (any, error) {
	e, ok := v.(*huma.ErrorModel)
	if !ok {
		return v, nil
	}
	switch e.Status {
	case http.StatusBadRequest:
		if len(e.Errors) > 0 && e.Errors[0].Location == "body" {
			e.Detail = "request body is not valid JSON"
		}
	case http.StatusUnsupportedMediaType:
		e.Detail = mediaTypeDetail
	}
	normalize(e)
	return e, nil
}

// timeFormatMessage words a time that does not parse.
const timeFormatMessage = "expected a time in RFC 3339, e.g. 2026-11-28T06:00:00Z"

const mediaTypeDetail = "request body must be JSON, sent with Content-Type: application/json"

// fail answers a request with the problem err becomes, from outside huma's
// handlers: the middleware and the router.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	model, header := a.problemOf(r.Context(), err)
	writeProblem(w, model, header)
}

// writeProblem writes a normalized problem. Headers already set on w (Allow,
// CORS) are kept.
func writeProblem(w http.ResponseWriter, model *huma.ErrorModel, header http.Header) {
	body, err := json.Marshal(model)
	if err != nil {
		// normalize makes this unreachable; still, never answer garbage.
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the error could not be encoded"}`)
		model.Status = http.StatusInternalServerError
	}
	h := w.Header()
	copyHeader(h, header)
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Del("Content-Encoding")
	w.WriteHeader(model.Status)
	w.Write(append(body, '\n'))
}
