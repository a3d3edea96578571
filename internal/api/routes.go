package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventsd/eventsd/internal/dashboard"
)

// routes registers every endpoint. The operations' documentation sits with
// their handlers, one file per resource.
func (a *API) routes() {
	// The seed's events endpoints.
	handle(a, "GET /api/events/health", a.eventsHealthOp(), a.eventsHealth)
	handle(a, "GET /api/events/stats", statsOp, a.stats)
	handle(a, "GET /api/events", listEventsOp, a.listEvents)
	handle(a, "POST /api/events", createEventOp, a.createEvent)
	handle(a, "POST /api/events/generate-mock", generateMockOp, a.generateMock)
	handle(a, "GET /api/events/{id}", getEventOp, a.getEvent)
	handle(a, "DELETE /api/events/{id}", deleteEventOp, a.deleteEvent)

	// Jobs and the queue: the seed's next steps (cancel, pause, retry).
	handle(a, "GET /api/jobs", listJobsOp, a.listJobs)
	handle(a, "GET /api/jobs/events", a.jobEventsOp(), a.jobEvents)
	handle(a, "POST /api/jobs/retry-failed", retryFailedOp, a.retryFailed)
	handle(a, "GET /api/jobs/{id}", getJobOp, a.getJob)
	handle(a, "DELETE /api/jobs/{id}", removeJobOp, a.removeJob)
	handle(a, "POST /api/jobs/{id}/retry", retryJobOp, a.retryJob)
	handle(a, "POST /api/jobs/{id}/promote", promoteJobOp, a.promoteJob)
	handle(a, "POST /api/jobs/{id}/cancel", cancelJobOp, a.cancelJob)
	handle(a, "POST /api/queue/pause", pauseQueueOp, a.pauseQueue)
	handle(a, "POST /api/queue/resume", resumeQueueOp, a.resumeQueue)
	handle(a, "GET /api/schedules", listSchedulesOp, a.listSchedules)

	// For orchestrators and Prometheus.
	handle(a, "GET /healthz", livenessOp, a.liveness)
	handle(a, "GET /readyz", readinessOp, a.readiness)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.cfg.Gatherer, promhttp.HandlerOpts{}))

	// Swagger UI; the document itself is huma's, at /api/openapi.json and .yaml.
	a.mux.HandleFunc("GET /api/docs", a.docsPage)
	a.mux.HandleFunc("GET /api/docs/{$}", a.docsPage)
	a.mux.Handle("GET /api/docs/", docsAssets())

	// The dashboard, from the API above only; / leads to it.
	a.mux.Handle("GET "+dashboard.Prefix, dashboard.Handler())
	a.mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
}

// handle registers one huma operation at pattern ("METHOD /path"). It gives
// every operation what they share: the body limit, a deadline for calls to
// dependencies, errors mapped in one place, and the bearer requirement on
// mutating operations when a token is set.
func handle[I, O any](a *API, pattern string, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.Method, op.Path, _ = strings.Cut(pattern, " ")
	op.Tags = slices.Clone(op.Tags)
	op.Errors = append(slices.Clone(op.Errors), http.StatusInternalServerError)
	if op.Responses["503"] == nil {
		op.Errors = append(op.Errors, http.StatusServiceUnavailable)
	}
	op.MaxBodyBytes = a.cfg.MaxBodyBytes + 1 // see limitBody for the extra byte
	if a.cfg.Token != "" && mutating(op.Method) {
		op.Security = []map[string][]string{{bearerScheme: {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized)
	}
	slices.Sort(op.Errors)
	op.Errors = slices.Compact(op.Errors)
	huma.Register(a.huma, op, func(ctx context.Context, in *I) (*O, error) {
		ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		defer cancel()
		out, err := h(ctx, in)
		if err != nil {
			return nil, a.problem(ctx, err)
		}
		return out, nil
	})
}

const bearerScheme = "bearer"

// newHumaAPI configures huma for this API: the document at
// /api/openapi.json, no docs page (huma's loads its scripts from a CDN; ours
// is embedded, see docs.go), and response bodies exactly as the Go types say
// (no "$schema" field, which huma's default config adds).
func newHumaAPI(mux *http.ServeMux, cfg Config) huma.API {
	hc := huma.DefaultConfig("eventsd", cfg.Version)
	hc.OpenAPIPath = "/api/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.CreateHooks = nil
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	hc.Transformers = []huma.Transformer{normalizeProblems(cfg.MaxBodyBytes)}
	hc.Info.Description = fmt.Sprintf(apiDescription, cfg.MaxBodyBytes)
	// A misspelt parameter (limt=5) would otherwise be ignored in silence.
	hc.RejectUnknownQueryParameters = true
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {
			Type:        "http",
			Scheme:      "bearer",
			Description: "Needed by every POST and DELETE when the server is started with a token; reads stay open.",
		},
	}
	hc.Tags = []*huma.Tag{
		{Name: "events", Description: "The seed's events: stored records of things that happened, most written by mock-data jobs."},
		{Name: "jobs", Description: "Jobs of the mock-data-queue: follow, retry, cancel, promote, remove, and a live stream of their lifecycle."},
		{Name: "queue", Description: "The mock-data-queue as a whole."},
		{Name: "schedules", Description: "Cron schedules that add jobs and run maintenance."},
		{Name: "operations", Description: "Liveness and readiness for orchestrators."},
	}
	return humago.New(mux, hc)
}

// schemaName names the document's schemas after the Go types without their
// role suffix: eventView is "Event", healthBody "Health".
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for _, suffix := range []string{"View", "Body"} {
		if trimmed, ok := strings.CutSuffix(name, suffix); ok && trimmed != "" {
			return trimmed
		}
	}
	return name
}

const apiDescription = `eventsd is a job-queue service: a Redis job engine, cron schedules, and an
event store (MongoDB, PostgreSQL or SQLite), with this REST API.

Errors are RFC 9457 problem details (application/problem+json). Request bodies
are JSON (Content-Type: application/json), at most %d bytes; unknown fields and
unknown query parameters are rejected (422). Times are RFC 3339 in UTC with
milliseconds.

Outside this document: Prometheus metrics at /metrics, and this page at /api/docs.`

// route sends a request to the mux and records the matched pattern for
// metrics and logs. ServeMux answers unknown paths (404) and wrong methods
// (405, with an Allow header) in plain text; route keeps its status and
// headers but writes a problem instead.
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		rec := &statusOnly{header: w.Header()}
		h.ServeHTTP(rec, r)
		detail := "no endpoint at " + r.URL.Path + "; the API is documented at /api/docs"
		if rec.status == http.StatusMethodNotAllowed {
			detail = "method " + r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + w.Header().Get("Allow")
		}
		writeProblem(w, rec.status, detail)
		return
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		infoOf(r.Context()).route = path
	}
	a.mux.ServeHTTP(w, r)
}

// statusOnly is a ResponseWriter that keeps the status and headers a
// handler sets and discards its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }

func (s *statusOnly) Write(p []byte) (int, error) { return len(p), nil }

func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
