package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// allRoutes is every documented operation.
var allRoutes = []string{
	"GET /api/events/health",
	"GET /api/events/stats",
	"GET /api/events",
	"POST /api/events",
	"POST /api/events/batch",
	"GET /api/events/counts",
	"POST /api/events/generate-mock",
	"GET /api/events/{id}",
	"DELETE /api/events/{id}",
	"GET /api/jobs",
	"GET /api/jobs/events",
	"POST /api/jobs/retry-failed",
	"GET /api/jobs/{id}",
	"DELETE /api/jobs/{id}",
	"POST /api/jobs/{id}/retry",
	"POST /api/jobs/{id}/promote",
	"POST /api/jobs/{id}/cancel",
	"POST /api/queue/pause",
	"POST /api/queue/resume",
	"GET /api/schedules",
	"GET /api/webhooks",
	"POST /api/webhooks",
	"GET /api/webhooks/{id}",
	"PATCH /api/webhooks/{id}",
	"DELETE /api/webhooks/{id}",
	"POST /api/webhooks/{id}/rotate-secret",
	"POST /api/webhooks/{id}/test",
	"GET /api/webhooks/{id}/deliveries",
	"POST /api/webhooks/{id}/deliveries/{deliveryId}/retry",
	"GET /healthz",
	"GET /readyz",
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api", "/api/nope", "/api/events/1/2", "/api/docs/nope.js", "/api/docs/README.md"} {
		wantProblem(t, b.get(t, path), http.StatusNotFound)
	}
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodPut, "/api/events", "GET, HEAD, POST"},
		{http.MethodPatch, "/api/events/" + events.NewID(), "DELETE, GET, HEAD"},
		{http.MethodGet, "/api/queue/pause", "POST"},
		{http.MethodPost, "/metrics", "GET, HEAD"},
	} {
		res := b.do(t, tc.method, tc.path, nil)
		p := wantProblem(t, res, http.StatusMethodNotAllowed)
		if got := res.header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if !strings.Contains(p["detail"].(string), tc.method) {
			t.Errorf("%s %s: detail %q does not name the method", tc.method, tc.path, p["detail"])
		}
	}
}

func TestOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.get(t, "/api/openapi.json")
	wantStatus(t, res, http.StatusOK)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Summary     string   `json:"summary"`
			Description string   `json:"description"`
			Tags        []string `json:"tags"`
			Responses   map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Components.SecuritySchemes) != 0 {
		t.Errorf("a server without tokens documents security schemes: %v", doc.Components.SecuritySchemes)
	}

	var listed []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			listed = append(listed, route)
			if op.OperationID == "" || op.Summary == "" || op.Description == "" || len(op.Tags) == 0 {
				t.Errorf("%s: missing operationId, summary, description or tags", route)
			}
			// What every operation can answer: unknown query parameters, bugs,
			// dependencies down; and for writes, cross-origin refusals.
			shared := []string{"422", "500", "503"}
			if method != "get" {
				shared = append(shared, "403")
			}
			if route == "POST /api/events" || route == "POST /api/events/generate-mock" || route == "POST /api/events/batch" {
				shared = append(shared, "400", "408", "413", "415")
			}
			for _, code := range shared {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s: %s not documented", route, code)
				}
			}
			if _, ok := op.Responses["401"]; ok {
				t.Errorf("%s: 401 documented on a server without tokens", route)
			}
			for code, r := range op.Responses {
				if code >= "400" && route != "GET /api/events/health" && r.Content["application/problem+json"] == nil {
					t.Errorf("%s: %s is not documented as a problem", route, code)
				}
			}
			// What the document lists is what the server routes.
			req := httptest.NewRequest(strings.ToUpper(method), strings.ReplaceAll(path, "{id}", "x"), nil)
			if _, pattern := b.api.mux.Handler(req); pattern != route {
				t.Errorf("%s is documented but routed to %q", route, pattern)
			}
		}
	}
	slices.Sort(listed)
	want := slices.Sorted(slices.Values(allRoutes))
	if !slices.Equal(listed, want) {
		t.Errorf("documented routes =\n%v\nwant\n%v", listed, want)
	}

	yaml := b.get(t, "/api/openapi.yaml")
	wantStatus(t, yaml, http.StatusOK)
	if !strings.HasPrefix(string(yaml.body), "components:") && !strings.Contains(string(yaml.body), "openapi: 3.1") {
		t.Errorf("openapi.yaml does not look like the document:\n%.200s", yaml.body)
	}
}

func TestDocsPageIsEmbedded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/api/docs", "/api/docs/"} {
		res := b.get(t, path)
		wantStatus(t, res, http.StatusOK)
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type = %q", path, ct)
		}
		if !strings.Contains(res.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP = %q", path, res.header.Get("Content-Security-Policy"))
		}
		page := string(res.body)
		if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
			t.Fatalf("%s refers to a remote URL:\n%s", path, page)
		}
		assets := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(assets) < 3 {
			t.Fatalf("%s: found %d assets, want the script, style and initializer", path, len(assets))
		}
		for _, m := range assets {
			if !strings.HasPrefix(m[1], "/api/docs/") {
				t.Fatalf("asset %q is not served from /api/docs/", m[1])
			}
			asset := b.get(t, m[1])
			wantStatus(t, asset, http.StatusOK)
			if len(asset.body) == 0 {
				t.Fatalf("asset %s is empty", m[1])
			}
		}
	}
	init := string(b.get(t, "/api/docs/swagger-initializer.js").body)
	if !strings.Contains(init, `"/api/openapi.json"`) || strings.Contains(init, "http://") || strings.Contains(init, "https://") {
		t.Fatalf("initializer does not load /api/openapi.json alone:\n%s", init)
	}
	if ct := b.get(t, "/api/docs/swagger-ui-bundle.js").header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("bundle Content-Type = %q", ct)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.post(t, "/api/events", `{"name": "x"}`)
	wantStatus(t, created, http.StatusCreated)
	b.get(t, "/api/events/"+created.json(t)["id"].(string))
	b.get(t, "/api/events/"+events.NewID())
	b.get(t, "/no/such/path")
	b.do(t, "BREW", "/api/events", nil)

	res := b.get(t, "/metrics")
	wantStatus(t, res, http.StatusOK)
	text := string(res.body)
	for _, want := range []string{
		`eventsd_http_requests_total{code="201",method="POST",route="/api/events"} 1`,
		`eventsd_http_requests_total{code="200",method="GET",route="/api/events/{id}"} 1`,
		`eventsd_http_requests_total{code="404",method="GET",route="/api/events/{id}"} 1`,
		`eventsd_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`eventsd_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`eventsd_http_request_duration_seconds_count{method="POST",route="/api/events"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "/no/such/path") || strings.Contains(text, created.json(t)["id"].(string)) {
		t.Error("a raw path became a label")
	}
}

func TestPanicIsA500AndTheServerKeepsServing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.GetFunc = func(context.Context, string) (*queue.Job, error) { panic("handler bug") }
	p := wantProblem(t, b.get(t, "/api/jobs/1"), http.StatusInternalServerError)
	if strings.Contains(p["detail"].(string), "handler bug") {
		t.Errorf("detail leaks the panic: %q", p["detail"])
	}
	if logs := b.logs.String(); !strings.Contains(logs, "handler bug") || !strings.Contains(logs, `"stack"`) {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
	wantStatus(t, b.get(t, "/healthz"), http.StatusOK)
	wantProblem(t, b.get(t, "/api/jobs/1"), http.StatusInternalServerError)
}

func TestRequestsAreLoggedAtDebug(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.get(t, "/api/events?limit=5")
	logs := b.logs.String()
	for _, want := range []string{`"msg":"http request"`, `"route":"/api/events"`, `"status":200`, `"duration_ms":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("request log lacks %s:\n%s", want, logs)
		}
	}
}
