package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// TestEveryErrorIsAProblem runs every kind of error a handler, the
// middleware or the stream can produce through the one mapping and the
// writer, and checks that each comes out as a valid problem document with
// the right status: in particular values that JSON cannot encode (a time
// with a +24:00 offset, NaN, a func), which once made a 422 answer
// "error marshaling response" as its body.
func TestEveryErrorIsAProblem(t *testing.T) {
	t.Parallel()
	a := New(newStore(t), &fakeJobs{}, &fakeProducer{}, Config{})
	beyond := time.Date(2026, 11, 28, 0, 0, 0, 0, time.FixedZone("", 24*3600))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	type tc struct {
		name   string
		ctx    context.Context
		err    error
		status int
	}
	var cases []tc
	for _, s := range statuses {
		cases = append(cases,
			tc{"sentinel " + s.err.Error(), nil, s.err, s.status},
			tc{"worded " + s.err.Error(), nil, wordf(s.err, "words for %s", "clients"), s.status},
			tc{"wrapped " + s.err.Error(), nil, fmt.Errorf("context: %w", s.err), s.status},
		)
	}
	cases = append(cases,
		tc{"unencodable time", nil, invalidAt("query.to", beyond, errors.New("bad offset")), 422},
		tc{"NaN", nil, invalidAt("body.count", math.NaN(), errors.New("not a number")), 422},
		tc{"func", nil, invalidAt("body.x", func() {}, errors.New("odd")), 422},
		tc{"channel in huma's own error", nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body", Value: make(chan int)}), 422},
		tc{"huge value", nil, invalidAt("body.name", strings.Repeat("x", 1<<20), errors.New("too long")), 422},
		tc{"huge array", nil, invalidAt("body.count", make([]int, 100_000), errors.New("not a number")), 422},
		tc{"invalid UTF-8", nil, wordf(errMalformed, "bad \xff\xfe bytes"), 400},
		tc{"nil details", nil, &clientError{msg: "x", err: errInvalid, details: []*huma.ErrorDetail{nil}}, 422},
		tc{"huma model without status", nil, &huma.ErrorModel{Detail: "?"}, 500},
		tc{"huma with headers", nil, huma.ErrorWithHeaders(huma.Error404NotFound("gone"), http.Header{"X-A": {"b"}}), 404},
		tc{"invalid CleanName", nil, invalidAt("body.name", "", events.ErrEmptyName), 422},
		tc{"fell behind", nil, queue.ErrFellBehind, 503},
		tc{"client gone", cancelled, context.Canceled, 503},
		tc{"timeout", nil, fmt.Errorf("get: %w", context.DeadlineExceeded), 503},
		tc{"network", nil, fmt.Errorf("counts: %w", &netError{}), 503},
		tc{"bug", nil, errors.New("a bug"), 500},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			model, header := a.problemOf(ctx, c.err)
			if model.Status != c.status {
				t.Errorf("status = %d, want %d", model.Status, c.status)
			}
			if c.status == 503 || c.status == 429 {
				if header.Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
			// The writer the middleware uses...
			rec := httptest.NewRecorder()
			writeProblem(rec, model, header)
			checkProblemJSON(t, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			// ...and the one huma uses, through the transformer.
			v, err := normalizeProblems(nil, "", model)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("huma could not marshal the problem: %v", err)
			}
			checkProblemJSON(t, model.Status, "application/problem+json", b)
		})
	}
}

// checkProblemJSON checks a problem as written: status, content type, the
// RFC 9457 members, and a size that echoes no request whole.
func checkProblemJSON(t *testing.T, status int, contentType string, body []byte) {
	t.Helper()
	if contentType != "application/problem+json" {
		t.Errorf("Content-Type = %q", contentType)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, body)
	}
	if p["type"] != "about:blank" || p["title"] != http.StatusText(status) || p["status"] != float64(status) {
		t.Errorf("problem = %.300v, want type about:blank, title and status %d", p, status)
	}
	if d, _ := p["detail"].(string); d == "" {
		t.Errorf("no detail: %v", p)
	}
	if len(body) > 4<<10 {
		t.Errorf("problem is %d bytes", len(body))
	}
}

func TestCapText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"toolong", 3, "too…"},
		{"ééé", 3, "é…"}, // never half a rune
		{"a\xffb", 10, "a\uFFFDb"},
	} {
		if got := capText(tc.in, tc.n); got != tc.want {
			t.Errorf("capText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
