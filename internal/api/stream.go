package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// streamWriteTimeout bounds each write to an SSE client, so that a client
// that stopped reading cannot hold its stream open forever.
const streamWriteTimeout = 10 * time.Second

// GET /api/jobs/events

func (a *API) jobEventsOp() huma.Operation {
	eventSchema := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[jobEvent](), true, "")
	return huma.Operation{
		OperationID: "streamJobEvents",
		Summary:     "Stream job lifecycle events",
		Description: "A Server-Sent Events stream of the queue's lifecycle events, from every eventsd process: " +
			"added, active, progress, completed, failed, retrying, stalled, removed, cancelled, paused, resumed. " +
			"Each message has `event:` the type, `id:` the stream id and `data:` the event as JSON. " +
			"Without Last-Event-ID (or `after`) the stream starts with events that happen from now on; " +
			"with one it resumes after that id, which is what EventSource does on reconnect (ids of the " +
			"capped stream's trimmed past are gone). A comment line is sent every 15 s to keep proxies " +
			"from closing an idle stream. If the queue cannot be read the stream sends an `error` event " +
			"with a problem as data and ends; EventSource then reconnects.",
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
		Errors: []int{http.StatusUnprocessableEntity},
	}
}

// jobEventsInput's pattern matches what Jobs.Events takes: "$" (from now
// on), an event id ("1732665278123-0-3"), a stream entry id
// ("1732665278123-0") or a time in ms (events from then on; "0" replays all
// the capped stream holds). Anything else is a 422 before the stream starts.
type jobEventsInput struct {
	LastEventID string `header:"Last-Event-ID" pattern:"^(\\$|[0-9]+(-[0-9]+(-[0-9]+)?)?)$" doc:"Resume after this event id; EventSource sends it on reconnect."`
	After       string `query:"after" pattern:"^(\\$|[0-9]+(-[0-9]+(-[0-9]+)?)?)$" doc:"Like Last-Event-ID, for clients that cannot set headers; the header wins. 0 replays what the capped stream holds."`
}

func (a *API) jobEvents(_ context.Context, in *jobEventsInput) (*huma.StreamResponse, error) {
	after := in.LastEventID
	if after == "" {
		after = in.After
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		r, w := humago.Unwrap(hctx)
		a.stream(r, w, after)
	}}, nil
}

// stream writes lifecycle events after the stream id after until the client
// leaves, the queue's stream fails, or CloseStreams is called.
func (a *API) stream(r *http.Request, w http.ResponseWriter, after string) {
	rc := http.NewResponseController(w)
	// The server's WriteTimeout is meant for ordinary answers; a stream has
	// its own per-write deadline instead. Both fail harmlessly where
	// unsupported (httptest.ResponseRecorder).
	_ = rc.SetWriteDeadline(time.Time{})
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
	items := make(chan streamItem)
	go a.pump(ctx, a.jobs.Events(ctx, after), items)

	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	var buf bytes.Buffer
	buf.WriteString(": mock-data-queue lifecycle events\nretry: 3000\n\n")
	for {
		if buf.Len() > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
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
			switch {
			case !ok:
				return
			case it.err != nil:
				writeSSE(&buf, "", "error", a.streamProblem(ctx, it.err))
				_, _ = buf.WriteTo(w)
				_ = rc.Flush()
				return
			default:
				writeSSE(&buf, it.event.ID, string(it.event.Type), it.event)
			}
		}
	}
}

// jobEvent documents queue.Event under a name that does not collide with
// the events resource; the stream writes queue.Event itself, same fields.
type jobEvent queue.Event

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
	var model *huma.ErrorModel
	if !errors.As(a.problem(ctx, err), &model) {
		model = &huma.ErrorModel{Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError)}
	}
	model.Type = problemType
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
