package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// sseMessage is one parsed Server-Sent Events message.
type sseMessage struct {
	id, event, data string
}

// sseClient reads a stream message by message.
type sseClient struct {
	res  *http.Response
	scan *bufio.Scanner
	// comments collects comment lines (heartbeats) seen so far.
	comments []string
}

func openStream(t *testing.T, b *bundle, path string, headers ...string) *sseClient {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("stream answered %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	return &sseClient{res: res, scan: bufio.NewScanner(res.Body)}
}

// next returns the next message with data, or ok false at the end of the stream.
func (c *sseClient) next() (m sseMessage, ok bool) {
	for c.scan.Scan() {
		line := c.scan.Text()
		switch {
		case line == "":
			if m.data != "" {
				return m, true
			}
		case strings.HasPrefix(line, ":"):
			c.comments = append(c.comments, line)
		case strings.HasPrefix(line, "id: "):
			m.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			m.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			m.data = strings.TrimPrefix(line, "data: ")
		}
	}
	return m, false
}

// feed is a fake lifecycle stream: Jobs.Events yields what is sent on
// events, and reports the after it was called with.
type feed struct {
	events chan queue.Event
	errs   chan error
	after  chan string
}

func newFeed(b *bundle) *feed {
	f := &feed{events: make(chan queue.Event), errs: make(chan error), after: make(chan string, 10)}
	b.jobs.EventsFunc = func(ctx context.Context, after string) iter.Seq2[queue.Event, error] {
		f.after <- after
		return func(yield func(queue.Event, error) bool) {
			for {
				select {
				case ev := <-f.events:
					if !yield(ev, nil) {
						return
					}
				case err := <-f.errs:
					yield(queue.Event{}, err)
					return
				case <-ctx.Done():
					return
				}
			}
		}
	}
	return f
}

func TestStreamSendsEventsInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)
	c := openStream(t, b, "/api/jobs/events")
	if after := <-f.after; after != "" {
		t.Fatalf("Events called with after %q, want new events only", after)
	}

	at := time.Date(2026, 11, 26, 23, 54, 38, 0, time.UTC)
	sent := []queue.Event{
		{ID: "1732665278000-0", Type: queue.EventAdded, JobID: "7", Time: at},
		{ID: "1732665278001-0", Type: queue.EventActive, JobID: "7", Time: at, Attempt: 1},
		{ID: "1732665278002-0", Type: queue.EventProgress, JobID: "7", Time: at, Progress: json.RawMessage(`{"pct": 50}`)},
		{ID: "1732665278003-0", Type: queue.EventCompleted, JobID: "7", Time: at, Attempt: 1},
	}
	go func() {
		for _, ev := range sent {
			f.events <- ev
		}
	}()
	for _, want := range sent {
		m, ok := c.next()
		if !ok {
			t.Fatal("stream ended early")
		}
		if m.id != want.ID || m.event != string(want.Type) {
			t.Fatalf("message id %q event %q, want %q %q", m.id, m.event, want.ID, want.Type)
		}
		var got queue.Event
		if err := json.Unmarshal([]byte(m.data), &got); err != nil {
			t.Fatalf("data %q: %v", m.data, err)
		}
		if got.ID != want.ID || got.JobID != want.JobID || !got.Time.Equal(want.Time) || got.Attempt != want.Attempt {
			t.Fatalf("data = %+v, want %+v", got, want)
		}
	}
}

func TestStreamResumesAfterLastEventID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)

	openStream(t, b, "/api/jobs/events", "Last-Event-ID", "1732665278001-0")
	if after := <-f.after; after != "1732665278001-0" {
		t.Fatalf("after = %q, want the Last-Event-ID", after)
	}
	openStream(t, b, "/api/jobs/events?after=0")
	if after := <-f.after; after != "0" {
		t.Fatalf("after = %q, want the after parameter", after)
	}
	openStream(t, b, "/api/jobs/events?after=0", "Last-Event-ID", "5-1")
	if after := <-f.after; after != "5-1" {
		t.Fatalf("after = %q, want the header to win", after)
	}
	for _, bad := range []string{"yesterday", "1-2-3-4", "$$"} {
		res := b.do(t, http.MethodGet, "/api/jobs/events", nil, "Last-Event-ID", bad)
		wantProblem(t, res, http.StatusBadRequest)
	}
}

func TestStreamHeartbeats(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Heartbeat = time.Millisecond })
	f := newFeed(b)
	c := openStream(t, b, "/api/jobs/events")
	<-f.after
	if !c.hasHeartbeat() {
		t.Fatal("stream ended without a heartbeat")
	}
	// An event after heartbeats proves they did not disturb the stream.
	f.events <- queue.Event{ID: "1-0", Type: queue.EventAdded}
	if m, ok := c.next(); !ok || m.id != "1-0" {
		t.Fatalf("got %+v, %v after heartbeats", m, ok)
	}
}

func (c *sseClient) hasHeartbeat() bool {
	for c.scan.Scan() {
		if c.scan.Text() == ": heartbeat" {
			return true
		}
	}
	return false
}

func TestStreamEndsOnError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)
	c := openStream(t, b, "/api/jobs/events")
	<-f.after
	go func() { f.errs <- errors.New("stream trimmed") }()
	m, ok := c.next()
	if !ok || m.event != "error" {
		t.Fatalf("got %+v, %v; want an error event", m, ok)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(m.data), &p); err != nil || p["status"] != float64(http.StatusInternalServerError) {
		t.Fatalf("error data = %s, want a 500 problem", m.data)
	}
	if _, ok := c.next(); ok {
		t.Fatal("stream went on after an error")
	}
}

func TestCloseStreamsEndsStreams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)
	c := openStream(t, b, "/api/jobs/events")
	<-f.after
	b.api.CloseStreams()
	if _, ok := c.next(); ok {
		t.Fatal("stream went on after CloseStreams")
	}
	// New streams end at once.
	c = openStream(t, b, "/api/jobs/events")
	if _, ok := c.next(); ok {
		t.Fatal("a stream opened after CloseStreams went on")
	}
}
