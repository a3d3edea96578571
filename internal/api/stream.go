package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/eventsd/eventsd/queue"
)

// GET /api/jobs/events

func (a *API) jobEventsOp() huma.Operation {
	eventSchema := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[jobEvent](), true, "")
	return huma.Operation{
		OperationID: "streamJobEvents",
		Summary:     "Stream job lifecycle events",
		Description: "A Server-Sent Events stream of the queue's lifecycle events, from every eventsd process: " +
			"added, active, progress, completed, failed, retrying, stalled, removed, cancelled, paused, resumed. " +
			"Each message has `event:` the type, `id:` the event's id and `data:` the event as JSON.\n\n" +
			"Event ids are `<ms>-<seq>` (a Redis stream entry) or `<ms>-<seq>-<i>` (the i-th job, from 0, of an " +
			"entry that carries several); ms and seq are unsigned 64-bit, i unsigned 32-bit decimals. Without " +
			"Last-Event-ID (or `after`) the stream starts with events that happen from now on; with an id it " +
			"resumes after that event or entry, which is what EventSource does on reconnect (events trimmed " +
			"from the capped stream are gone). A bare `<ms>` is a time: the events from then on (`0`: every " +
			"event kept); `$` means from now on. Anything else is a 400 before the stream starts.\n\n" +
			"A comment line is sent every 15 s to keep proxies from closing an idle stream. A client that reads " +
			"nothing for 10 s, or falls too far behind the queue's events, is dropped, so that it cannot slow " +
			"the others; if the queue cannot be read the stream sends an `error` event with a problem as data " +
			"and ends. EventSource reconnects by itself after either. When the server has tokens the stream " +
			"needs one too: read it with fetch() and an Authorization header, since EventSource cannot send " +
			"headers. Each server serves a limited number of streams at once (SSE_MAX_STREAMS); one more is a 429.",
		Tags: []string{"jobs"},
		Responses: map[string]*huma.Response{
			"200": {
				Description: "An endless text/event-stream.",
				Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{
					Title:       "Server-Sent Events",
					Description: "Each item is one SSE message, written as UTF-8 text per the SSE specification.",
					Type:        huma.TypeArray,
					Items: &huma.Schema{
						Type: huma.TypeObject,
						Properties: map[string]*huma.Schema{
							"event": {Type: huma.TypeString, Description: "The lifecycle event's type, or error."},
							"id":    {Type: huma.TypeString, Description: "The stream id; pass it as Last-Event-ID to resume."},
							"data":  eventSchema,
						},
					},
				}}},
			},
		},
		Errors: []int{http.StatusBadRequest, http.StatusTooManyRequests},
	}
}

// jobEventsInput takes where to resume. The id is checked in the handler (a
// 400), not by a schema pattern (a 422), and each of its parts for size: an
// id a pattern allows but Redis rejects would fail mid-stream.
type jobEventsInput struct {
	LastEventID string `header:"Last-Event-ID" maxLength:"64" doc:"Resume after this event id; EventSource sends it on reconnect."`
	After       string `query:"after" maxLength:"64" doc:"Like Last-Event-ID, for clients that cannot set headers; the header wins."`
	QueueParam
}

func (a *API) jobEvents(_ context.Context, in *jobEventsInput) (*huma.StreamResponse, error) {
	for _, p := range []struct{ location, value string }{{"header.Last-Event-ID", in.LastEventID}, {"query.after", in.After}} {
		if p.value != "" && !validStreamID(p.value) {
			return nil, invalidAt(p.location, p.value, errBadStreamID)
		}
	}
	after := cmp.Or(in.LastEventID, in.After)
	q, err := a.queue(in.Queue)
	if err != nil {
		return nil, err
	}
	if n := a.streams.Add(1); a.cfg.MaxStreams > 0 && n > int64(a.cfg.MaxStreams) {
		a.streams.Add(-1)
		return nil, wordf(errTooManyStreams, "this server already serves %d event streams, its limit; try again later", a.cfg.MaxStreams)
	}
	a.metrics.streams.Inc()
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer a.metrics.streams.Dec()
		defer a.streams.Add(-1)
		r, w := humago.Unwrap(hctx)
		a.stream(r, w, q, after)
	}}, nil
}

var errBadStreamID = wordf(errMalformed, "an event id is <ms>-<seq> or <ms>-<seq>-<i> in decimal "+
	"(ms and seq below 2^64, i below 2^32), or a time <ms>, or $")

// validStreamID reports whether id is a position the stream can resume
// after: "$" (from now on) or what queue.ValidEventID takes, checked here so
// that an id Redis would reject is a 400 before the stream starts, not an
// error event after.
func validStreamID(id string) bool { return id == "$" || queue.ValidEventID(id) }

// stream writes q's lifecycle events after the stream id after until the client
// leaves, the queue's stream fails, or CloseStreams is called.
func (a *API) stream(r *http.Request, w http.ResponseWriter, q Jobs, after string) {
	rc := http.NewResponseController(w)
	// The server's WriteTimeout is meant for ordinary answers; a stream has
	// its own per-write deadline instead. Both fail harmlessly where
	// unsupported (httptest.ResponseRecorder).
	_ = rc.SetWriteDeadline(time.Time{})
	infoOf(r.Context()).stream = true
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // also stops pump
	// Buffered, so that events arriving while a burst is written are there
	// to take at once for the next.
	items := make(chan streamItem, 256)
	go a.pump(ctx, q.Events(ctx, after), items)

	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	var buf bytes.Buffer
	buf.WriteString(": " + oneLine(q.Name()) + " lifecycle events\nretry: 3000\n\n")
	for {
		if buf.Len() > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(a.cfg.StreamWriteTimeout))
			if _, err := buf.WriteTo(w); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-a.closing:
			return
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case it, ok := <-items:
			// Take every event already waiting too, so that a busy stream
			// writes and flushes once per burst, not once per event: a
			// write is a system call, and the stream's clients many.
			for {
				if !a.writeItem(ctx, &buf, it, ok) {
					_, _ = buf.WriteTo(w) // what came before the end, and any error
					_ = rc.Flush()
					return
				}
				if buf.Len() >= streamBurst {
					break
				}
				select {
				case it, ok = <-items:
					continue
				default:
				}
				break
			}
		}
	}
}

// streamBurst bounds what one write of a stream carries.
const streamBurst = 32 << 10

// writeItem appends one item of the pump's to buf, and says whether the
// stream goes on: not after the pump closed (ok false) or sent an error,
// which it words as an error message.
func (a *API) writeItem(ctx context.Context, buf *bytes.Buffer, it streamItem, ok bool) bool {
	switch {
	case !ok:
		return false
	case it.err != nil:
		writeSSE(buf, "", "error", a.streamProblem(ctx, it.err))
		return false
	default:
		writeSSE(buf, it.event.ID, string(it.event.Type), jobEventOf(it.event))
		a.metrics.streamEvents.Inc()
		return true
	}
}

// jobEvent is a queue.Event as the stream writes it: its times in the
// format of every other time the API shows (formatTime), three fractional
// digits always, where encoding/json's would drop trailing zeros.
type jobEvent struct {
	ID       string          `json:"id" doc:"The event's id, as in the message's id: field."`
	Type     queue.EventType `json:"type" doc:"The event's type, as in the message's event: field."`
	JobID    string          `json:"jobId,omitempty" doc:"The job's id; absent on paused and resumed, which are the queue's."`
	Time     string          `json:"time" format:"date-time" doc:"When it happened: RFC 3339, UTC, milliseconds." example:"2026-11-26T23:54:38.120Z"`
	Attempt  int             `json:"attempt,omitempty" doc:"Set on active, completed, failed, retrying and stalled."`
	Error    string          `json:"error,omitempty" doc:"Set on failed and retrying."`
	Progress json.RawMessage `json:"progress,omitempty" doc:"Set on progress: what the handler reported."`
	DueAt    string          `json:"dueAt,omitempty" format:"date-time" doc:"Set on retrying, and on added for a delayed job: when it runs."`
}

func jobEventOf(e queue.Event) jobEvent {
	return jobEvent{ID: e.ID, Type: e.Type, JobID: e.JobID, Time: formatTime(e.Time), Attempt: e.Attempt,
		Error: e.Error, Progress: e.Progress, DueAt: formatOptionalTime(e.DueAt)}
}

type streamItem struct {
	event queue.Event
	err   error
}

// pump moves events from seq, which blocks, to out, so that the stream can
// wait for an event, a heartbeat and the end of the request at once. It ends
// after the first error or when ctx ends. Its own recover is needed: a panic
// on this goroutine would be out of reach of recoverPanics and end the
// process.
func (a *API) pump(ctx context.Context, seq iter.Seq2[queue.Event, error], out chan<- streamItem) {
	defer close(out)
	defer func() {
		if rec := recover(); rec != nil {
			a.log.ErrorContext(ctx, "panic reading queue events", "panic", rec)
			select {
			case out <- streamItem{err: fmt.Errorf("panic reading queue events: %v", rec)}:
			case <-ctx.Done():
			}
		}
	}()
	for ev, err := range seq {
		select {
		case out <- streamItem{event: ev, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// streamProblem words a failed stream as the problem the error would be in
// any other response.
func (a *API) streamProblem(ctx context.Context, err error) *huma.ErrorModel {
	model, _ := a.problemOf(ctx, err)
	return model
}

// writeSSE appends one message. Fields are stripped of line breaks, which
// would end them early; data is compact JSON, a single line.
func writeSSE(buf *bytes.Buffer, id, event string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte(`{"error":"event could not be encoded"}`)
	}
	if id != "" {
		fmt.Fprintf(buf, "id: %s\n", oneLine(id))
	}
	fmt.Fprintf(buf, "event: %s\ndata: %s\n\n", oneLine(event), b)
}

var lineBreaks = strings.NewReplacer("\r", "", "\n", "")

func oneLine(s string) string { return lineBreaks.Replace(s) }
