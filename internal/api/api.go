package api

import (
	"cmp"
	"context"
	"iter"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
)

// Jobs is the queue the API manages (the seed's mock-data-queue).
// *queue.Queue satisfies it.
type Jobs interface {
	// Name is the queue's name, shown in stats.
	Name() string
	// Get returns a job, or queue.ErrNotFound.
	Get(ctx context.Context, id string) (*queue.Job, error)
	// ListPage returns a page of the jobs in one state: queue.ErrInvalidCursor
	// for a cursor it did not make.
	ListPage(ctx context.Context, state queue.State, req queue.PageRequest) (queue.JobPage, error)
	// Counts counts jobs per state.
	Counts(ctx context.Context) (queue.Counts, error)
	// Remove deletes a job: queue.ErrNotFound, or queue.ErrWrongState when it is active.
	Remove(ctx context.Context, id string) error
	// Retry runs a failed job again: queue.ErrNotFound, or queue.ErrWrongState when it has not failed.
	Retry(ctx context.Context, id string) error
	// RetryAll retries every failed job and says how many.
	RetryAll(ctx context.Context) (int, error)
	// Promote makes a delayed job ready now: queue.ErrNotFound, or queue.ErrWrongState when it is not delayed.
	Promote(ctx context.Context, id string) error
	// Cancel cancels a job: queue.ErrNotFound, or queue.ErrWrongState when it has already finished.
	Cancel(ctx context.Context, id string) error
	// Pause stops workers from starting jobs of the queue.
	Pause(ctx context.Context) error
	// Resume undoes Pause.
	Resume(ctx context.Context) error
	// Events yields lifecycle events after the stream id after; "" or "$"
	// means only events that happen from now on. It ends when ctx ends.
	Events(ctx context.Context, after string) iter.Seq2[queue.Event, error]
}

var _ Jobs = (*queue.Queue)(nil)

// Producer adds jobs: mock-data jobs (the seed's generate-mock) and
// imports. *events.Producer satisfies it.
type Producer interface {
	// GenerateMock adds count jobs and returns their ids.
	GenerateMock(ctx context.Context, count int) ([]string, error)
	// Import adds an import-events job for items, checked already.
	Import(ctx context.Context, items []events.ImportItem) (*queue.Job, error)
}

var _ Producer = (*events.Producer)(nil)

// Schedules lists cron schedules.
type Schedules interface {
	List(ctx context.Context) ([]schedule.Info, error)
}

// Check is one dependency the health and readiness endpoints ping.
type Check struct {
	// Name is shown in responses: "redis", "mongodb", "postgres" or "sqlite".
	Name string
	// Ping returns nil when the dependency answers.
	Ping func(context.Context) error
}

// Config holds the API's tunables. The zero value of every field is its default.
type Config struct {
	// Schedules lists cron schedules; nil (a process without a scheduler)
	// makes GET /api/schedules answer an empty list.
	Schedules Schedules
	// Checks are the dependencies /api/events/health and /readyz ping.
	Checks []Check
	// Token, when set, is a bearer token that every /api route needs, except
	// GET /api/events/health and the docs (/api/docs, /api/openapi.json),
	// and it allows every method. With Token and ReadToken empty, /api is
	// open.
	Token string
	// ReadToken, when set, is a bearer token that allows GET and HEAD on the
	// routes Token guards; any other method with it is a 403. Setting it
	// closes reads to callers without a token, even when Token is empty
	// (which leaves no way to write: a read-only API).
	ReadToken string
	// MetricsToken, when set, is the bearer token /metrics needs. The API
	// tokens do not open /metrics, nor this one /api.
	MetricsToken string
	// AllowedOrigins are the browser origins, "scheme://host[:port]", whose
	// pages may call the API: their CORS preflights are answered and their
	// writes allowed. A browser request from any other origin that could
	// change state (not GET, HEAD or OPTIONS) is refused with a 403, whether
	// or not a token is set. New panics on a malformed origin.
	AllowedOrigins []string
	// MaxStreams caps the concurrent SSE streams of GET /api/jobs/events;
	// one more is a 429. Zero means no cap.
	MaxStreams int
	// StreamWriteTimeout bounds each write to an SSE client: a client that
	// reads nothing for this long is dropped, so that it cannot hold its
	// stream's resources. Default 10 s.
	StreamWriteTimeout time.Duration
	// BodyReadTimeout bounds reading a request body; a body not received in
	// time is a 408. Default 5 s.
	BodyReadTimeout time.Duration
	// Registerer receives the HTTP metrics and Gatherer serves /metrics;
	// usually one *prometheus.Registry for both, which also holds the queue's
	// metrics. A missing one is the other when it can serve, else a fresh
	// registry: never the global one, so that several APIs (tests) do not
	// collide.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Logger logs unexpected errors and panics, and each request at debug
	// level. Default: discard.
	Logger *slog.Logger
	// Version is shown in the OpenAPI document and the health response.
	// Default "dev".
	Version string
	// MaxBodyBytes limits request bodies; larger ones are 413. Default 1 MiB.
	MaxBodyBytes int64
	// MaxImportBodyBytes limits the body of POST /api/events/batch, whose
	// up to 10,000 events need more room. Default 16 MiB.
	MaxImportBodyBytes int64
	// MaxEventDataBytes limits the data of an event created through the API,
	// as compact JSON; larger data is a 422. Default
	// events.DefaultMaxDataBytes (64 KiB).
	MaxEventDataBytes int
	// Queues are more queues than New's jobs, each reached by its name in
	// the jobs and queue routes' queue parameter (eventsd's: the webhook
	// deliveries). Without the parameter those routes act on New's jobs.
	Queues []Jobs
	// OperationsOnly serves only /healthz, /readyz and /metrics, for a
	// process without the api role (a worker or a scheduler), so that every
	// process can be probed and scraped; every other path is a 404 problem,
	// and the store, jobs and producer are used only by the readiness
	// checks given in Checks.
	OperationsOnly bool
	// Timeout bounds each request's calls to the store and the queue; past it
	// the request is a 503. The SSE stream is exempt. Default 10 s.
	Timeout time.Duration
	// CheckTimeout bounds each health and readiness ping. Default 2 s.
	CheckTimeout time.Duration
	// Webhooks queues the deliveries clients ask for (a test event, a
	// retry); nil makes those requests a 503.
	Webhooks WebhookSender
	// WebhooksAllowPrivate lets subscriptions name loopback, private and
	// link-local addresses.
	WebhooksAllowPrivate bool
	// Heartbeat is how often the SSE stream sends a comment to keep proxies
	// from closing an idle connection. Default 15 s.
	Heartbeat time.Duration
	// Writer, when set, writes the events POST /api/events creates, so that
	// concurrent requests share a store round trip (an *events.Batcher).
	// Default: the store's Create, one round trip each.
	Writer EventWriter
}

// EventWriter stores one event as events.Store.Create does.
type EventWriter interface {
	Write(ctx context.Context, e events.Event) (events.Event, error)
}

// API is eventsd's HTTP handler. Build it with New.
type API struct {
	store    events.Store
	roller   *events.Roller
	jobs     Jobs   // the default queue
	queues   []Jobs // every queue, the default first
	producer Producer
	cfg      Config
	log      *slog.Logger

	mux     *http.ServeMux
	huma    huma.API
	handler http.Handler
	metrics *httpMetrics

	// bodyRoutes are the patterns of operations that take a request body,
	// with each one's size limit.
	bodyRoutes map[string]int64

	// streams counts open SSE streams, for MaxStreams.
	streams atomic.Int64
	// closing ends SSE streams on CloseStreams: http.Server.Shutdown waits for
	// active requests but does not cancel them.
	closing   chan struct{}
	closeOnce sync.Once
}

// New returns the API over its dependencies. It panics if cfg.Registerer
// already holds different collectors with the API's metric names, a wiring
// bug.
func New(store events.Store, jobs Jobs, producer Producer, cfg Config) *API {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.Version = cmp.Or(cfg.Version, "dev")
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, 1<<20)
	cfg.MaxImportBodyBytes = cmp.Or(cfg.MaxImportBodyBytes, 16<<20)
	cfg.MaxEventDataBytes = cmp.Or(cfg.MaxEventDataBytes, events.DefaultMaxDataBytes)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	cfg.CheckTimeout = cmp.Or(cfg.CheckTimeout, 2*time.Second)
	cfg.Heartbeat = cmp.Or(cfg.Heartbeat, 15*time.Second)
	cfg.StreamWriteTimeout = cmp.Or(cfg.StreamWriteTimeout, 10*time.Second)
	cfg.BodyReadTimeout = cmp.Or(cfg.BodyReadTimeout, 5*time.Second)
	cfg.Registerer, cfg.Gatherer = registries(cfg.Registerer, cfg.Gatherer)

	a := &API{
		store:    store,
		roller:   events.NewRoller(store, nil),
		jobs:     jobs,
		queues:   append([]Jobs{jobs}, cfg.Queues...),
		producer: producer,
		cfg:      cfg,
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
		metrics:  newHTTPMetrics(cfg.Registerer),
		closing:  make(chan struct{}),

		bodyRoutes: map[string]int64{},
	}
	a.huma = newHumaAPI(a.mux, cfg, jobs.Name())
	a.routes()
	a.handler = chain(http.HandlerFunc(a.route),
		withRequestInfo,
		a.logRequests,
		a.measure,
		a.recoverPanics,
		a.cors,
		a.crossOrigin,
		a.authorize,
	)
	return a
}

// registries fills in whichever of reg and g is missing: with the other when
// it can serve both roles (a *prometheus.Registry does), else with a fresh
// registry.
func registries(reg prometheus.Registerer, g prometheus.Gatherer) (prometheus.Registerer, prometheus.Gatherer) {
	if reg == nil {
		if r, ok := g.(prometheus.Registerer); ok {
			reg = r
		}
	}
	if g == nil {
		if gg, ok := reg.(prometheus.Gatherer); ok {
			g = gg
		}
	}
	if reg == nil && g == nil {
		r := prometheus.NewRegistry()
		return r, r
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if g == nil {
		g = prometheus.NewRegistry()
	}
	return reg, g
}

// ServeHTTP serves every endpoint of the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.handler.ServeHTTP(w, r)
}

// OpenAPI returns the API's OpenAPI document, for tools that print or check it.
func (a *API) OpenAPI() *huma.OpenAPI { return a.huma.OpenAPI() }

// CloseStreams ends every open SSE stream and makes new ones end at once.
// Register it with http.Server.RegisterOnShutdown: Shutdown waits for active
// requests, and a stream is active until its client leaves.
func (a *API) CloseStreams() {
	a.closeOnce.Do(func() { close(a.closing) })
}
