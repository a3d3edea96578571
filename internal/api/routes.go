package api

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
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
	handle(a, "GET /api/events/counts", countsOp, a.countEvents)
	handle(a, "GET /api/events", listEventsOp, a.listEvents)
	handle(a, "POST /api/events", createEventOp, a.createEvent)
	handle(a, "POST /api/events/generate-mock", generateMockOp, a.generateMock)
	handle(a, "POST /api/events/batch", a.importEventsOp(), a.importEvents)
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

	// Webhook subscriptions and their deliveries.
	handle(a, "GET /api/webhooks", listWebhooksOp, a.listWebhooks)
	handle(a, "POST /api/webhooks", createWebhookOp, a.createWebhook)
	handle(a, "GET /api/webhooks/{id}", getWebhookOp, a.getWebhook)
	handle(a, "PATCH /api/webhooks/{id}", updateWebhookOp, a.updateWebhook)
	handle(a, "DELETE /api/webhooks/{id}", deleteWebhookOp, a.deleteWebhook)
	handle(a, "POST /api/webhooks/{id}/rotate-secret", rotateSecretOp, a.rotateSecret)
	handle(a, "POST /api/webhooks/{id}/test", testWebhookOp, a.testWebhook)
	handle(a, "GET /api/webhooks/{id}/deliveries", listDeliveriesOp, a.listDeliveries)
	handle(a, "POST /api/webhooks/{id}/deliveries/{deliveryId}/retry", retryDeliveryOp, a.retryDelivery)

	// For orchestrators and Prometheus.
	handle(a, "GET /healthz", livenessOp, a.liveness)
	handle(a, "GET /readyz", readinessOp, a.readiness)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.cfg.Gatherer, promhttp.HandlerOpts{}))

	// Swagger UI; the document itself is huma's, at /api/openapi.json and .yaml.
	a.mux.HandleFunc("GET /api/docs", a.docsPage)
	a.mux.HandleFunc("GET /api/docs/{$}", a.docsPage)
	a.mux.Handle("GET /api/docs/", a.docsAssets())

	// The dashboard, from the API above only; / leads to it.
	a.mux.Handle("GET "+dashboard.Prefix, dashboard.Handler())
	a.mux.Handle("GET /{$}", http.RedirectHandler(dashboard.Prefix, http.StatusFound))
}

// handle registers one huma operation at pattern ("METHOD /path"). It gives
// every operation what they share: a deadline for calls to dependencies,
// errors mapped in one place, the statuses the edge can answer documented,
// and the bearer requirement when the server has tokens.
func handle[I, O any](a *API, pattern string, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	op.Method, op.Path, _ = strings.Cut(pattern, " ")
	op.Tags = slices.Clone(op.Tags)
	_, hasBody := reflect.TypeFor[I]().FieldByName("Body")
	// An operation may set its own body limit in op.MaxBodyBytes; the
	// others take Config.MaxBodyBytes.
	limit := cmp.Or(op.MaxBodyBytes, a.cfg.MaxBodyBytes)
	if hasBody {
		a.bodyRoutes[pattern] = limit
	}
	// route has read the body, within the limit and the read timeout,
	// before huma sees it. A deadline set now would outlive the read and
	// cancel the handler's context through net/http's background read, so
	// huma clears it.
	op.MaxBodyBytes = limit + 1
	op.BodyReadTimeout = -1
	a.document(&op, hasBody, limit)
	huma.Register(a.huma, op, func(ctx context.Context, in *I) (*O, error) {
		ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		defer cancel()
		out, err := h(ctx, in)
		if err != nil {
			model, header := a.problemOf(ctx, err)
			return nil, huma.ErrorWithHeaders(model, header)
		}
		return out, nil
	})
}

// document lists on op every error status the server can answer it with:
// its own (op.Errors), and those of the edge that every operation shares.
// It declares the operation's security too: the bearer scheme when a token
// guards it, else none.
func (a *API) document(op *huma.Operation, hasBody bool, bodyLimit int64) {
	codes := slices.Clone(op.Errors)
	op.Errors = nil
	// Every operation rejects unknown query parameters; every one can fail.
	codes = append(codes, http.StatusUnprocessableEntity, http.StatusInternalServerError, http.StatusServiceUnavailable)
	if hasBody {
		codes = append(codes, http.StatusBadRequest, http.StatusRequestTimeout,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	if op.Method != http.MethodGet && op.Method != http.MethodHead {
		// A cross-origin write, or a write with the read-only token.
		codes = append(codes, http.StatusForbidden)
	}
	op.Security = []map[string][]string{{}}
	if accessFor(op.Method, op.Path) == accessAPI && (a.cfg.Token != "" || a.cfg.ReadToken != "") {
		op.Security = []map[string][]string{{bearerScheme: {}}}
		codes = append(codes, http.StatusUnauthorized)
	}
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	schema := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[huma.ErrorModel](), true, "ErrorModel")
	for _, code := range codes {
		key := strconv.Itoa(code)
		if op.Responses[key] != nil {
			continue
		}
		desc := errorDescriptions[code]
		switch {
		case code == http.StatusRequestEntityTooLarge:
			desc = fmt.Sprintf(desc, bodyLimit)
		case desc == "":
			desc = http.StatusText(code)
		}
		op.Responses[key] = &huma.Response{
			Description: desc,
			Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: schema}},
		}
	}
}

// errorDescriptions word the error statuses in the document; an operation's
// own description says what each means for it.
var errorDescriptions = map[int]string{
	http.StatusBadRequest: "Malformed request: a body that is not JSON or not correctly framed, or a malformed value.",
	http.StatusUnauthorized: "No valid bearer token. Only when the server is started with a token; " +
		"the WWW-Authenticate header says why.",
	http.StatusForbidden: "Refused: a write with the read-only token, or a write from a web page on an origin " +
		"the server does not trust (CORS_ALLOWED_ORIGINS).",
	http.StatusNotFound:              "Not found.",
	http.StatusRequestTimeout:        "The request body did not arrive in time.",
	http.StatusConflict:              "The state of the job or subscription does not allow this; the detail says why.",
	http.StatusRequestEntityTooLarge: "The request body is larger than %d bytes.",
	http.StatusUnsupportedMediaType:  "The request body was not sent as Content-Type: application/json.",
	http.StatusUnprocessableEntity: "Invalid request: an unknown query parameter, a value out of range, " +
		"or an unknown or missing field. The errors list says where.",
	http.StatusTooManyRequests:     "Too many requests of this kind at once; retry after the Retry-After header's seconds.",
	http.StatusInternalServerError: "Unexpected error; the server logged it.",
	http.StatusServiceUnavailable: "A dependency (Redis or the event store) is unavailable or did not answer in time; " +
		"retry after the Retry-After header's seconds.",
}

const bearerScheme = "bearer"

// newHumaAPI configures huma for this API: the document at
// /api/openapi.json, no docs page (huma's loads its scripts from a CDN; ours
// is embedded, see docs.go), and response bodies exactly as the Go types say
// (no "$schema" field, which huma's default config adds).
func newHumaAPI(mux *http.ServeMux, cfg Config, queueName string) huma.API {
	hc := huma.DefaultConfig("eventsd", cfg.Version)
	hc.OpenAPIPath = "/api/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.CreateHooks = nil
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	hc.Transformers = []huma.Transformer{normalizeProblems}
	hc.Info.Description = fmt.Sprintf(apiDescription, cfg.MaxBodyBytes, cfg.MaxImportBodyBytes)
	// A misspelt parameter (limt=5) would otherwise be ignored in silence.
	hc.RejectUnknownQueryParameters = true
	// The document describes this server as configured: the scheme, and
	// Swagger UI's Authorize button, only when it has tokens.
	if cfg.Token != "" || cfg.ReadToken != "" {
		hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
			bearerScheme: {
				Type:   "http",
				Scheme: "bearer",
				Description: "Every operation under /api but the health check needs a token: the read-write token " +
					"(API_TOKEN), or for GET and HEAD the read-only token (API_READ_TOKEN). The OpenAPI document " +
					"and the docs page stay open.",
			},
		}
	}
	// Relative: the API is wherever this document was fetched from.
	hc.Servers = []*huma.Server{{URL: "/", Description: "This eventsd server."}}
	// The project has chosen no license; this says what that means until it
	// does (an SPDX LicenseRef, as the document needs an identifier or a URL).
	hc.Info.License = &huma.License{Name: "No license granted: all rights reserved", Identifier: "LicenseRef-all-rights-reserved"}
	hc.Tags = []*huma.Tag{
		{Name: "events", Description: "The seed's events: stored records of things that happened, most written by mock-data jobs."},
		{Name: "jobs", Description: "Jobs of the queue " + queueName + ": follow, retry, cancel, promote, remove, and a live stream of their lifecycle."},
		{Name: "queue", Description: "The queue " + queueName + " as a whole."},
		{Name: "schedules", Description: "Cron schedules that add jobs and run maintenance."},
		{Name: "webhooks", Description: "Webhook subscriptions: events POSTed to your URLs, signed as Standard Webhooks describe, with a record of every attempt."},
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

Errors are RFC 9457 problem details (application/problem+json); each operation
lists every status it can answer. Request bodies are JSON (Content-Type:
application/json), at most %d bytes (a batch import's, %d); unknown fields and
unknown query parameters are rejected (422). Times are RFC 3339 in UTC with milliseconds.

A server started with tokens needs one on every operation but the health
checks (see the bearer scheme). Browser pages on other origins may write only
if the server trusts their origin (CORS_ALLOWED_ORIGINS).

Outside this document: Prometheus metrics at /metrics, and this page at /api/docs.`
