package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
)

const (
	writeToken   = "w-s3cret-token"
	readToken    = "r-s3cret-token"
	metricsToken = "m-s3cret-token"
)

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// TestTokenMatrix runs every kind of route against every kind of caller.
func TestTokenMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Token, c.ReadToken, c.MetricsToken = writeToken, readToken, metricsToken
	})
	created := b.post(t, "/api/events", `{"name": "x"}`, bearer(writeToken)...)
	wantStatus(t, created, http.StatusCreated)
	id := created.json(t)["id"].(string)

	type call struct{ method, path, body string }
	reads := []call{
		{"GET", "/api/events", ""},
		{"GET", "/api/events/" + id, ""},
		{"HEAD", "/api/events/" + id, ""},
		{"GET", "/api/events/stats", ""},
		{"GET", "/api/jobs?state=failed", ""},
		{"GET", "/api/schedules", ""},
	}
	writes := []call{
		{"POST", "/api/events", `{"name": "y"}`},
		{"POST", "/api/events/generate-mock", ""},
		{"POST", "/api/queue/pause", ""},
		{"DELETE", "/api/events/" + events.NewID(), ""},
		{"POST", "/api/events/health", ""}, // no such route: the token is checked first
		{"POST", "/api/nowhere", ""},
	}
	open := []call{
		{"GET", "/api/events/health", ""},
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/api/docs", ""},
		{"GET", "/api/docs/swagger-ui.css", ""},
		{"GET", "/api/openapi.json", ""},
		{"GET", "/api/openapi.yaml", ""},
	}
	send := func(c call, token string) response {
		t.Helper()
		var headers []string
		if token != "" {
			headers = bearer(token)
		}
		if c.body == "" {
			return b.do(t, c.method, c.path, nil, headers...)
		}
		return b.do(t, c.method, c.path, strings.NewReader(c.body), headers...)
	}
	challenge := func(res response, want string) {
		t.Helper()
		if got := res.header.Get("WWW-Authenticate"); got != want {
			t.Errorf("WWW-Authenticate = %q, want %q", got, want)
		}
	}

	for _, c := range append(reads, writes...) {
		for _, token := range []string{"", "wrong", metricsToken} {
			res := send(c, token)
			if c.method == http.MethodHead { // no body to check
				wantStatus(t, res, http.StatusUnauthorized)
				continue
			}
			p := wantProblem(t, res, http.StatusUnauthorized)
			if token == "" {
				challenge(res, `Bearer realm="eventsd"`)
				if !strings.Contains(p["detail"].(string), "Authorization: Bearer") {
					t.Errorf("%s %s: detail %q", c.method, c.path, p["detail"])
				}
			} else {
				challenge(res, `Bearer realm="eventsd", error="invalid_token"`)
			}
		}
	}
	for _, c := range reads {
		if res := send(c, readToken); res.status >= 300 {
			t.Errorf("%s %s with the read token: %d %s", c.method, c.path, res.status, res.body)
		}
		if res := send(c, writeToken); res.status >= 300 {
			t.Errorf("%s %s with the write token: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	for _, c := range writes {
		res := send(c, readToken)
		p := wantProblem(t, res, http.StatusForbidden)
		challenge(res, `Bearer realm="eventsd", error="insufficient_scope"`)
		if d := p["detail"].(string); !strings.Contains(d, "only reads") || !strings.Contains(d, c.method) {
			t.Errorf("%s %s with the read token: detail %q", c.method, c.path, d)
		}
		if res := send(c, writeToken); res.status == http.StatusUnauthorized || res.status == http.StatusForbidden {
			t.Errorf("%s %s with the write token: %d %s", c.method, c.path, res.status, res.body)
		}
	}
	for _, c := range open {
		if res := send(c, ""); res.status != http.StatusOK {
			t.Errorf("%s %s without a token: %d, want it open", c.method, c.path, res.status)
		}
	}

	// /metrics has its own token, which opens nothing else.
	for _, token := range []string{"", writeToken, readToken} {
		wantProblem(t, send(call{"GET", "/metrics", ""}, token), http.StatusUnauthorized)
	}
	wantStatus(t, send(call{"GET", "/metrics", ""}, metricsToken), http.StatusOK)

	// The SSE stream needs a token in the Authorization header, as a
	// fetch()-based client sends it.
	wantProblem(t, b.get(t, "/api/jobs/events"), http.StatusUnauthorized)
	openStream(t, b, "/api/jobs/events", bearer(readToken)...)

	// Tokens never reach the log, which has every request at debug level.
	for _, tok := range []string{writeToken, readToken, metricsToken} {
		if strings.Contains(b.logs.String(), tok) {
			t.Errorf("the log shows a token")
		}
	}
}

func TestReadOnlyAPI(t *testing.T) {
	t.Parallel()
	// Only a read token: reads need it, and nothing can write.
	b := setup(t, func(c *Config) { c.ReadToken = readToken })
	wantProblem(t, b.get(t, "/api/events"), http.StatusUnauthorized)
	wantStatus(t, b.do(t, http.MethodGet, "/api/events", nil, bearer(readToken)...), http.StatusOK)
	wantProblem(t, b.post(t, "/api/queue/pause", "", bearer(readToken)...), http.StatusForbidden)
	wantProblem(t, b.post(t, "/api/queue/pause", ""), http.StatusUnauthorized)
	wantStatus(t, b.get(t, "/metrics"), http.StatusOK) // no metrics token: open
}

func TestMetricsTokenAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MetricsToken = metricsToken })
	wantStatus(t, b.get(t, "/api/events"), http.StatusOK)
	wantStatus(t, b.post(t, "/api/queue/pause", ""), http.StatusNoContent)
	wantProblem(t, b.get(t, "/metrics"), http.StatusUnauthorized)
	wantStatus(t, b.do(t, http.MethodGet, "/metrics", nil, bearer(metricsToken)...), http.StatusOK)
}

func TestOpenAPIWithTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Token, c.ReadToken = writeToken, readToken })
	var doc struct {
		Paths map[string]map[string]struct {
			Security  []map[string][]string `json:"security"`
			Responses map[string]any        `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b.get(t, "/api/openapi.json").body, &doc); err != nil {
		t.Fatal(err)
	}
	// Swagger UI's Authorize offers this scheme, and sends what is entered
	// in it, either token, as "Authorization: Bearer" on every operation
	// that lists it.
	if s := doc.Components.SecuritySchemes[bearerScheme]; s.Type != "http" || s.Scheme != "bearer" {
		t.Fatalf("bearer scheme = %+v", s)
	}
	openOps := map[string]bool{"get /api/events/health": true, "get /healthz": true, "get /readyz": true}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := method + " " + path
			guarded := len(op.Security) == 1 && len(op.Security[0][bearerScheme]) == 0 && op.Security[0][bearerScheme] != nil
			anonymous := len(op.Security) == 1 && len(op.Security[0]) == 0
			switch {
			case openOps[name] && !anonymous:
				t.Errorf("%s: security %v, want [{}] (open)", name, op.Security)
			case !openOps[name] && !guarded:
				t.Errorf("%s: security %v, want the bearer scheme", name, op.Security)
			}
			if _, ok := op.Responses["401"]; ok == openOps[name] {
				t.Errorf("%s: 401 documented: %v", name, ok)
			}
			// Reads are never refused: the read token allows them, and
			// browsers may read from any origin.
			if _, ok := op.Responses["403"]; ok != (method != "get") {
				t.Errorf("%s: 403 documented: %v", name, ok)
			}
		}
	}
}

func TestAccessFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path string
		want         access
	}{
		{"GET", "/api/events", accessAPI},
		{"HEAD", "/api/events", accessAPI},
		{"GET", "/api", accessAPI},
		{"GET", "/api/events/health", accessOpen},
		{"HEAD", "/api/events/health", accessOpen},
		{"POST", "/api/events/health", accessAPI},
		{"GET", "/api/docs", accessOpen},
		{"GET", "/api/docs/swagger-ui-bundle.js", accessOpen},
		{"GET", "/api/openapi.json", accessOpen},
		{"GET", "/api/openapi-3.0.yaml", accessOpen},
		{"POST", "/api/openapi.json", accessAPI},
		{"GET", "/api/./docs", accessAPI},
		{"GET", "/api/events/health/", accessAPI},
		{"OPTIONS", "/api/events", accessAPI},
		{"GET", "/metrics", accessMetrics},
		{"GET", "/healthz", accessOpen},
		{"GET", "/apix", accessOpen},
		{"GET", "/", accessOpen},
	} {
		if got := accessFor(tc.method, tc.path); got != tc.want {
			t.Errorf("accessFor(%s %s) = %d, want %d", tc.method, tc.path, got, tc.want)
		}
	}
}
