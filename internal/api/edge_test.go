package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The tests of issue 14: what the HTTP edge does with malformed, hostile or
// unusual requests, each on the real server, over raw connections where
// http.Client would not send the request.

func TestMalformedChunkedBodyIs400(t *testing.T) {
	t.Parallel()
	b := setup(t)
	head := "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
	for _, tc := range []struct{ name, path, body string }{
		{"chunk size not hex", "/api/events", "zz\r\n{}\r\n0\r\n\r\n"},
		{"chunk longer than its size", "/api/events", "5\r\n{\"name\":\"x\"}\r\n0\r\n\r\n"},
		{"no line break after a chunk", "/api/events/generate-mock", "2\r\n{}XX0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := b.raw(t, fmt.Sprintf(head, tc.path)+tc.body)
			p := wantProblem(t, res, http.StatusBadRequest)
			if !strings.Contains(p["detail"].(string), "request body could not be read") {
				t.Errorf("detail = %q", p["detail"])
			}
		})
	}
	t.Cleanup(func() {
		if !strings.Contains(b.logs.String(), `"msg":"malformed request body"`) {
			t.Errorf("a malformed body is not logged at debug:\n%s", b.logs.String())
		}
	})
}

func TestTimeOffsetsBeyondRFC3339(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, to := range []string{"2026-11-28T00:00:00+24:00", "2026-11-28T00:00:00-24:00"} {
		q := url.Values{"from": {"2026-11-27T00:00:00Z"}, "to": {to}}
		p := wantProblem(t, b.get(t, "/api/events?"+q.Encode()), http.StatusUnprocessableEntity)
		errs, _ := p["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["location"] != "query.to" || errs[0].(map[string]any)["value"] != to {
			t.Errorf("to=%s: errors = %v, want one at query.to with the value sent", to, p["errors"])
		}
	}
	q := url.Values{"from": {"2026-11-26T00:00:00-23:59"}, "to": {"2026-11-28T00:00:00+23:59"}}
	wantStatus(t, b.get(t, "/api/events?"+q.Encode()), http.StatusOK)
}

func TestCrossOriginWrites(t *testing.T) {
	t.Parallel()
	var resumed atomic.Int32
	setupCounting := func(t *testing.T, opts ...func(*Config)) *bundle {
		b := setup(t, opts...)
		b.jobs.ResumeFunc = func(context.Context) error { resumed.Add(1); return nil }
		return b
	}
	b := setupCounting(t)
	self := b.srv.URL // http://127.0.0.1:port, the Origin of a page the server serves

	// The attack of issue 14: a form on another site posting text/plain.
	p := wantProblem(t, b.post(t, "/api/queue/resume", "x=1", "Origin", "https://evil.example", "Content-Type", "text/plain"),
		http.StatusForbidden)
	if !strings.Contains(p["detail"].(string), "cross-origin") {
		t.Errorf("detail = %q", p["detail"])
	}
	wantProblem(t, b.post(t, "/api/queue/resume", "", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	wantProblem(t, b.do(t, http.MethodDelete, "/api/jobs/1", nil, "Origin", "https://evil.example"), http.StatusForbidden)
	wantProblem(t, b.post(t, "/api/events/generate-mock", "", "Sec-Fetch-Site", "same-site"), http.StatusForbidden)
	if n := resumed.Load(); n != 0 {
		t.Fatalf("a cross-origin request resumed the queue %d times", n)
	}

	// Same origin, non-browser clients and safe methods pass.
	wantStatus(t, b.post(t, "/api/queue/resume", "", "Sec-Fetch-Site", "same-origin"), http.StatusNoContent)
	wantStatus(t, b.post(t, "/api/queue/resume", "", "Origin", self), http.StatusNoContent)
	wantStatus(t, b.post(t, "/api/queue/resume", ""), http.StatusNoContent)
	wantStatus(t, b.do(t, http.MethodGet, "/api/events", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"), http.StatusOK)

	// A trusted origin may write.
	trusting := setupCounting(t, func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	wantStatus(t, trusting.post(t, "/api/queue/resume", "", "Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site"),
		http.StatusNoContent)
	wantProblem(t, trusting.post(t, "/api/queue/resume", "", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"),
		http.StatusForbidden)
	if n := resumed.Load(); n != 4 {
		t.Fatalf("resumed %d times, want the 4 allowed requests", n)
	}
}

func TestBodiesMustBeJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, path, body, contentType string
	}{
		{"text/plain event", "/api/events", `{"name": "x"}`, "text/plain"},
		{"form event", "/api/events", `name=x`, "application/x-www-form-urlencoded"},
		{"text/plain with no body", "/api/events/generate-mock", "", "text/plain"},
		{"json-like type", "/api/events", `{"name": "x"}`, "application/json-seq"},
		{"+json suffix", "/api/events", `{"name": "x"}`, "text/plain+json"},
		{"malformed type", "/api/events", `{"name": "x"}`, "application/json; charset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
				tc.path, tc.contentType, len(tc.body), tc.body)
			p := wantProblem(t, b.raw(t, req), http.StatusUnsupportedMediaType)
			if !strings.Contains(p["detail"].(string), "application/json") {
				t.Errorf("detail = %q, want it to name application/json", p["detail"])
			}
		})
	}
	t.Run("a body without a content type", func(t *testing.T) {
		t.Parallel()
		body := `{"count": 2}`
		req := fmt.Sprintf("POST /api/events/generate-mock HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		wantProblem(t, b.raw(t, req), http.StatusUnsupportedMediaType)
	})
	t.Run("neither body nor content type", func(t *testing.T) {
		t.Parallel()
		req := "POST /api/events/generate-mock HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
		wantStatus(t, b.raw(t, req), http.StatusAccepted)
	})
	t.Run("type names are case-insensitive", func(t *testing.T) {
		t.Parallel()
		wantStatus(t, b.post(t, "/api/events", `{"name": "x"}`, "Content-Type", "Application/JSON; charset=UTF-8"), http.StatusCreated)
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const app = "https://app.example.com"
	b := setup(t, func(c *Config) {
		c.AllowedOrigins = []string{app}
		c.Token = "s3cret"
	})
	preflight := func(origin, method, headers string) response {
		return b.do(t, http.MethodOptions, "/api/events", nil,
			"Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", headers)
	}

	// Answered before authorize: browsers send no Authorization on a preflight.
	res := preflight(app, http.MethodPost, "authorization,content-type")
	wantStatus(t, res, http.StatusNoContent)
	for h, want := range map[string]string{
		"Access-Control-Allow-Origin":  app,
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "authorization,content-type",
		"Access-Control-Max-Age":       "600",
	} {
		if got := res.header.Get(h); got != want {
			t.Errorf("preflight %s = %q, want %q", h, got, want)
		}
	}
	if res.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Error("preflight allows credentials; the API uses bearer tokens, not cookies")
	}
	wantStatus(t, b.do(t, http.MethodOptions, "/api/jobs/events", nil, "Origin", app,
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,last-event-id"), http.StatusNoContent)

	// Refusals: no CORS headers, which the browser enforces.
	for _, tc := range []struct{ name, origin, method, headers string }{
		{"other origin", "https://evil.example", http.MethodPost, "content-type"},
		{"method the API does not take", app, http.MethodPut, "content-type"},
		{"header the API does not take", app, http.MethodPost, "x-custom"},
	} {
		if got := preflight(tc.origin, tc.method, tc.headers).header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s: preflight allowed with Access-Control-Allow-Origin %q", tc.name, got)
		}
	}

	// Actual requests from the trusted origin can read the answer, errors included.
	res = b.do(t, http.MethodPost, "/api/events", strings.NewReader(`{"name": "x"}`), "Origin", app)
	wantProblem(t, res, http.StatusUnauthorized)
	if res.header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("a 401 to a trusted origin lacks Access-Control-Allow-Origin")
	}
	res = b.do(t, http.MethodPost, "/api/events", strings.NewReader(`{"name": "x"}`),
		"Origin", app, "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer s3cret")
	wantStatus(t, res, http.StatusCreated)
	if got := res.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Location") {
		t.Errorf("Access-Control-Expose-Headers = %q, want Location among them", got)
	}

	// Without origins configured there is no CORS: a preflight is an OPTIONS
	// request like any other, which no route takes.
	plain := setup(t)
	res = plain.do(t, http.MethodOptions, "/api/events", nil, "Origin", app, "Access-Control-Request-Method", "POST")
	wantProblem(t, res, http.StatusMethodNotAllowed)
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("a server without CORS_ALLOWED_ORIGINS answers CORS")
	}
}

func TestNonCanonicalPaths(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var paused atomic.Int32
	b.jobs.PauseFunc = func(context.Context) error { paused.Add(1); return nil }
	for _, tc := range []struct{ method, path string }{
		{"GET", "//api/events"},
		{"GET", "/api/./events"},
		{"GET", "/api/../api/events"},
		{"GET", "/api/events//stats"},
		{"POST", "//api/queue/pause"},
		{"POST", "/api/queue/./pause"},
		{"GET", "/api/docs/./swagger-ui.css"},
	} {
		res := b.raw(t, tc.method+" "+tc.path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		p := wantProblem(t, res, http.StatusNotFound)
		if res.header.Get("Location") != "" || !strings.Contains(p["detail"].(string), "canonical") {
			t.Errorf("%s %s: Location %q, detail %q", tc.method, tc.path, res.header.Get("Location"), p["detail"])
		}
	}
	if paused.Load() != 0 {
		t.Error("a non-canonical path reached its handler")
	}
	// A trailing slash is canonical, and no route has one.
	wantProblem(t, b.get(t, "/api/events/stats/"), http.StatusNotFound)
}

func TestEchoedValuesAreCapped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := strings.Repeat("x", 1<<20-100)
	var arr strings.Builder
	arr.WriteString(`{"count": [0`)
	for range 100_000 {
		arr.WriteString(",0")
	}
	arr.WriteString(`]}`)
	var fields strings.Builder
	fields.WriteString(`{"count": 1`)
	for i := range 10_000 {
		fmt.Fprintf(&fields, `, "f%d": 1`, i)
	}
	fields.WriteString(`}`)
	for _, tc := range []struct{ name, path, body string }{
		{"a long string in an unknown field", "/api/events/generate-mock", `{"name": "` + big + `"}`},
		{"a long array for a number", "/api/events/generate-mock", arr.String()},
		{"an object for a string", "/api/events", `{"name": {"a": "` + big + `"}}`},
		{"ten thousand unknown fields", "/api/events/generate-mock", fields.String()},
		{"malformed JSON", "/api/events", `{"name": "` + big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := b.post(t, tc.path, tc.body)
			if res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
				t.Fatalf("status %d; body %.300s", res.status, res.body)
			}
			wantProblem(t, res, res.status)
			if len(res.body) > 16<<10 {
				t.Fatalf("a %d-byte request got a %d-byte problem", len(tc.body), len(res.body))
			}
		})
	}
	res := b.get(t, "/api/events/stats?"+strings.Repeat("k", 8000)+"=1")
	wantProblem(t, res, http.StatusUnprocessableEntity)
	if len(res.body) > 2<<10 {
		t.Fatalf("an unknown 8000-character parameter got a %d-byte problem", len(res.body))
	}
}

func TestSlowBodyIs408(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BodyReadTimeout = 50 * time.Millisecond })
	// Headers promise 20 bytes; 5 come and the client goes quiet.
	res := b.raw(t, "POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"nam")
	wantProblem(t, res, http.StatusRequestTimeout)
}

func TestEveryOperationRejectsUnknownParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/healthz?x=1", "/readyz?x=1", "/api/events/health?x=1", "/api/events/stats?verbose=1", "/api/schedules?all=1"} {
		wantProblem(t, b.get(t, path), http.StatusUnprocessableEntity)
	}
	wantProblem(t, b.post(t, "/api/queue/pause?now=1", ""), http.StatusUnprocessableEntity)
}

func TestListJobsOffsetIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Issue 8 §5: this offset reached the engine, which could not page to it (500).
	p := wantProblem(t, b.get(t, "/api/jobs?state=failed&offset=100000000000000000"), http.StatusUnprocessableEntity)
	if !strings.Contains(fmt.Sprint(p["errors"]), "query.offset") {
		t.Errorf("errors = %v, want query.offset named", p["errors"])
	}
	wantProblem(t, b.get(t, "/api/jobs?state=failed&offset=99999999999999999999999"), http.StatusUnprocessableEntity)
	wantStatus(t, b.get(t, "/api/jobs?state=failed&offset=1000000000"), http.StatusOK)
}

func TestGenerateMockTakesNoJobID(t *testing.T) {
	t.Parallel()
	// Issue 13 §6: the API accepts no custom job id anywhere, so none can
	// be one its routes shadow ("events", "retry-failed").
	b := setup(t)
	for _, body := range []string{`{"id": "events"}`, `{"jobId": "retry-failed"}`, `{"count": 1, "id": "events"}`} {
		wantProblem(t, b.post(t, "/api/events/generate-mock", body), http.StatusUnprocessableEntity)
	}
}
