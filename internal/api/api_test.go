package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
)

// bundle is what a test gets from setup: a running server over fakes it can
// program and a real event store.
type bundle struct {
	srv      *httptest.Server
	api      *API
	store    events.Store
	jobs     *fakeJobs
	producer *fakeProducer
	logs     *syncBuffer
}

// setup starts a server. Options change the Config before New.
func setup(t *testing.T, opts ...func(*Config)) *bundle {
	t.Helper()
	b := &bundle{
		store: newStore(t),
		jobs:  &fakeJobs{},
		producer: &fakeProducer{GenerateMockFunc: func(_ context.Context, n int) ([]string, error) {
			ids := make([]string, n)
			for i := range ids {
				ids[i] = strconv.Itoa(i + 1)
			}
			return ids, nil
		}},
		logs: &syncBuffer{},
	}
	cfg := Config{
		Logger:     slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:    "test",
		Registerer: prometheus.NewRegistry(),
	}
	cfg.Gatherer = cfg.Registerer.(prometheus.Gatherer)
	for _, o := range opts {
		o(&cfg)
	}
	b.api = New(b.store, b.jobs, b.producer, cfg)
	b.srv = httptest.NewServer(b.api)
	t.Cleanup(func() {
		b.api.CloseStreams()
		b.srv.Close()
	})
	return b
}

// newStore returns the event store the tests run against: the real SQLite
// store in a temporary directory.
func newStore(t *testing.T) events.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value, failing the test if it is not JSON.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

// do sends a request; headers come in name, value pairs.
func (b *bundle) do(t *testing.T, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	b.documented(t, method, path, res.StatusCode)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// documented fails the test when status is not one the OpenAPI document
// lists for the operation that a request with method and path reaches.
// Every request a test makes passes through it, so that what the tests
// observe is what the document says. Requests that reach no operation
// (unknown paths, /metrics, the docs) are not checked here.
func (b *bundle) documented(t *testing.T, method, path string, status int) {
	t.Helper()
	path, _, _ = strings.Cut(path, "?")
	if cleanPath(path) != path {
		return
	}
	_, pattern := b.api.mux.Handler(httptest.NewRequest(method, path, nil))
	_, route, _ := strings.Cut(pattern, " ")
	item := b.api.OpenAPI().Paths[route]
	if item == nil {
		return
	}
	var op *huma.Operation
	switch method {
	case http.MethodGet, http.MethodHead:
		op = item.Get
	case http.MethodPost:
		op = item.Post
	case http.MethodDelete:
		op = item.Delete
	case http.MethodPatch:
		op = item.Patch
	}
	if op == nil {
		return
	}
	if op.Responses[strconv.Itoa(status)] == nil {
		t.Errorf("%s %s answered %d, which the OpenAPI document does not list for %s", method, path, status, op.OperationID)
	}
}

// raw sends request, bytes as they are, on a new connection and reads one
// response: for what http.Client would not send (bad framing, paths it
// would clean, missing headers). The status is checked against the document
// as do's is.
func (b *bundle) raw(t *testing.T, request string) response {
	t.Helper()
	conn, err := net.Dial("tcp", b.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", firstLine(request), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(firstLine(request)); len(f) == 3 {
		b.documented(t, f[0], f[1], res.StatusCode)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

func (b *bundle) get(t *testing.T, path string) response {
	t.Helper()
	return b.do(t, http.MethodGet, path, nil)
}

func (b *bundle) post(t *testing.T, path, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return b.do(t, http.MethodPost, path, r, headers...)
}

// wantProblem checks that r is an RFC 9457 problem with status.
func wantProblem(t *testing.T, r response, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.body)
	}
	p := r.json(t)
	if p["type"] != "about:blank" || p["title"] != http.StatusText(status) || p["status"] != float64(status) {
		t.Fatalf("problem = %v, want type about:blank, title %q, status %d", p, http.StatusText(status), status)
	}
	if d, _ := p["detail"].(string); d == "" {
		t.Fatalf("problem has no detail: %v", p)
	}
	return p
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
