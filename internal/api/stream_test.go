package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
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
	scan := bufio.NewScanner(res.Body)
	scan.Buffer(make([]byte, 64<<10), 1<<20) // lines of large progress events
	return &sseClient{res: res, scan: scan}
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

	at := time.Date(2026, 11, 26, 23, 54, 38, 700_000_000, time.UTC)
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
		// The REST API's time format: three fraction digits, always.
		if !strings.Contains(m.data, `"time":"2026-11-26T23:54:38.700Z"`) {
			t.Fatalf("data %s: time not in the REST API's format", m.data)
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
	for _, bad := range []string{"yesterday", "1-2-3-4", "1--2", "$$"} {
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

func TestStreamIDs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)
	valid := []string{
		"$", "0", "1732665278123", "0-0", "1732665278123-0", "1732665278123-7-0", "1-2-4294967295",
		"18446744073709551615-18446744073709551615", "18446744073709551615-18446744073709551615-4294967295",
	}
	for _, id := range valid {
		openStream(t, b, "/api/jobs/events", "Last-Event-ID", id).res.Body.Close()
		if after := <-f.after; after != id {
			t.Errorf("Last-Event-ID %q reached the queue as %q", id, after)
		}
		openStream(t, b, "/api/jobs/events?after="+url.QueryEscape(id)).res.Body.Close()
		if after := <-f.after; after != id {
			t.Errorf("after=%q reached the queue as %q", id, after)
		}
	}
	invalid := []string{
		"1-18446744073709551616", "1-99999999999999999999", "18446744073709551616-0", "1-2-4294967296",
		"18446744073709551616", "-1-2", "1--2", "1-2-", "a-b", "1-2-3-4", "+1-2", "0x1-2", "1_0-2", "１-2", "$$", "1-$",
		"1-2 3", strings.Repeat("9", 70),
	}
	for _, id := range invalid {
		for _, res := range []response{
			b.do(t, http.MethodGet, "/api/jobs/events", nil, "Last-Event-ID", id),
			b.get(t, "/api/jobs/events?after="+url.QueryEscape(id)),
		} {
			if len(id) > 64 { // over the documented maxLength: huma's 422
				wantProblem(t, res, http.StatusUnprocessableEntity)
				continue
			}
			p := wantProblem(t, res, http.StatusBadRequest)
			if !strings.Contains(p["detail"].(string), "<ms>-<seq>") {
				t.Errorf("id %q: detail %q does not give the format", id, p["detail"])
			}
		}
	}
	// A bad after is refused even when a good header would win.
	wantProblem(t, b.do(t, http.MethodGet, "/api/jobs/events?after=x", nil, "Last-Event-ID", "1-0"), http.StatusBadRequest)
	select {
	case after := <-f.after:
		t.Fatalf("a refused id opened a stream after %q", after)
	default:
	}
}

func TestStreamCap(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxStreams = 2 })
	newFeed(b)
	first := openStream(t, b, "/api/jobs/events")
	openStream(t, b, "/api/jobs/events")
	res := b.get(t, "/api/jobs/events")
	p := wantProblem(t, res, http.StatusTooManyRequests)
	if res.header.Get("Retry-After") == "" || !strings.Contains(p["detail"].(string), "2 event streams") {
		t.Errorf("429: Retry-After %q, detail %q", res.header.Get("Retry-After"), p["detail"])
	}
	wantStatus(t, b.get(t, "/api/events"), http.StatusOK) // other routes are not capped

	// A stream that ends frees its place.
	first.res.Body.Close()
	waitFor(t, "the closed stream to end", func() bool { return b.api.streams.Load() == 1 })
	openStream(t, b, "/api/jobs/events")
	if got := metricValue(t, b, "eventsd_sse_streams"); got != "2" {
		t.Errorf("eventsd_sse_streams = %s, want 2", got)
	}
}

// TestSlowConsumerIsDropped opens three streams on the real queue: two
// clients read, one reads nothing. A worker runs jobs that report 16 KiB of
// progress each, 6.4 MiB in all, more than the kernel buffers a stalled
// connection (4 MiB at most here). The readers must get every event while
// the stalled one holds nothing up, and the server must drop the stalled
// one, freeing its place.
func TestSlowConsumerIsDropped(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	a := New(newStore(t), q, &fakeProducer{}, Config{StreamWriteTimeout: 2 * time.Second})
	srv := httptest.NewServer(a)
	t.Cleanup(func() { a.CloseStreams(); srv.Close() })
	b := &bundle{srv: srv, api: a}

	// The stalled client: a small receive buffer, and it never reads.
	stalled, err := net.DialTCP("tcp", nil, srv.Listener.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if err := stalled.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stalled, "GET /api/jobs/events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stalled stream", func() bool { return a.streams.Load() == 1 })
	readers := []*sseClient{openStream(t, b, "/api/jobs/events"), openStream(t, b, "/api/jobs/events")}
	waitFor(t, "three streams", func() bool { return a.streams.Load() == 3 })
	// A stream subscribes before it sends its headers, but to be sure that
	// all three see the first job, wait for its added event on each reader.
	first, err := q.Add(t.Context(), "progress", nil, queue.JobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range readers {
		if m, ok := c.next(); !ok || m.event != "added" || !strings.Contains(m.data, first.ID) {
			t.Fatalf("reader %d: first message %+v, %v", i, m, ok)
		}
	}

	const jobs = 400
	progress := strings.Repeat("p", 16<<10)
	w := queue.NewWorker(q, queue.HandlerFunc(func(ctx context.Context, j *queue.Job) (any, error) {
		return nil, j.ReportProgress(ctx, progress)
	}), queue.WorkerConfig{Concurrency: 4})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { stop(); <-done }()
	batch := make([]queue.NewJob, jobs-1)
	for i := range batch {
		batch[i] = queue.NewJob{Name: "progress"}
	}
	if _, err := q.AddBulk(t.Context(), batch); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for i, c := range readers {
		wg.Go(func() {
			seen := map[string]bool{}
			for len(seen) < jobs {
				m, ok := c.next()
				if !ok {
					t.Errorf("reader %d: stream ended after progress of %d of %d jobs", i, len(seen), jobs)
					return
				}
				if m.event != "progress" {
					continue
				}
				var ev queue.Event
				if err := json.Unmarshal([]byte(m.data), &ev); err != nil || string(ev.Progress) != `"`+progress+`"` {
					t.Errorf("reader %d: progress message %.100s: %v", i, m.data, err)
					return
				}
				seen[ev.JobID] = true
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	waitFor(t, "the server to drop the stalled stream", func() bool { return a.streams.Load() == 2 })
}

// waitFor polls cond until it holds, failing the test after a generous
// bound: for effects of another goroutine that no hook announces.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// metricValue reads one unlabelled metric from /metrics.
func metricValue(t *testing.T, b *bundle, name string) string {
	t.Helper()
	for line := range strings.Lines(string(b.get(t, "/metrics").body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return ""
}

// TestStreamMetrics: a stream's life is not an answer time. It stays out
// of the HTTP duration histogram (a refused stream request, answered at
// once, is in it) and has metrics of its own: its duration and the events
// sent.
func TestStreamMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newFeed(b)
	c := openStream(t, b, "/api/jobs/events")
	<-f.after
	f.events <- queue.Event{ID: "1-0", Type: queue.EventAdded, JobID: "7", Time: time.Now()}
	if _, ok := c.next(); !ok {
		t.Fatal("stream ended early")
	}
	c.res.Body.Close()
	waitFor(t, "the closed stream to end", func() bool { return b.api.streams.Load() == 0 })
	wantProblem(t, b.get(t, "/api/jobs/events?after=x"), http.StatusBadRequest)

	if got := metricValue(t, b, "eventsd_sse_events_sent_total"); got != "1" {
		t.Errorf("eventsd_sse_events_sent_total = %s, want 1", got)
	}
	if got := metricValue(t, b, "eventsd_sse_stream_duration_seconds_count"); got != "1" {
		t.Errorf("eventsd_sse_stream_duration_seconds_count = %s, want 1", got)
	}
	body := string(b.get(t, "/metrics").body)
	if got := metricValue(t, b, `eventsd_http_request_duration_seconds_count{method="GET",route="/api/jobs/events"}`); got != "1" {
		t.Errorf("HTTP duration count of the stream route = %s, want 1 (the refused request only)", got)
	}
	if !strings.Contains(body, `eventsd_http_requests_total{code="200",method="GET",route="/api/jobs/events"} 1`) {
		t.Error("the stream is not counted among requests")
	}
}
