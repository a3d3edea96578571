package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/eventsd/eventsd/internal/api"
	"github.com/eventsd/eventsd/internal/config"
	"github.com/eventsd/eventsd/internal/devredis"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/metrics"
	evstore "github.com/eventsd/eventsd/internal/store"
	"github.com/eventsd/eventsd/internal/store/mongo"
	"github.com/eventsd/eventsd/internal/store/postgres"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/internal/webhooks"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
)

// startTimeout bounds connecting to Redis and the store at start-up: a wrong
// address should stop eventsd with a clear message, not leave it hanging.
const startTimeout = 15 * time.Second

// serve runs eventsd until ctx ends or a part of it fails, then stops the
// parts in the reverse order of their start: HTTP, the scheduler, the worker
// (letting running jobs finish), the event writer, the event stream, the
// store, Redis.
func serve(ctx context.Context, cfg config.Config, dev bool, log *slog.Logger) error {
	r := newRunner()
	if err := startParts(ctx, r, cfg, dev, log); err != nil {
		return errors.Join(err, r.Stop())
	}
	if err := r.Wait(ctx); err != nil {
		log.Error("stopping after a failure", "err", err)
	} else {
		log.Info("stopping: finishing running jobs", config.DurationAttr("timeout", cfg.ShutdownTimeout))
	}
	err := r.Stop()
	log.Info("eventsd stopped")
	return err
}

// startParts connects to Redis and the store and starts every part the
// roles ask for on r, in the order they depend on each other. On an error
// the caller stops what has started.
func startParts(ctx context.Context, r *runner, cfg config.Config, dev bool, log *slog.Logger) error {
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	rdb, err := connectRedis(startCtx, r, cfg, log)
	if err != nil {
		return err
	}
	rawStore, err := openStore(startCtx, cfg, dev)
	if err != nil {
		return err
	}
	r.Go(ctx, "store", closeOnStop(rawStore.Close))
	storeName := cfg.EventsStore

	qc := queue.NewClient(rdb, queue.Config{
		Prefix: cfg.QueuePrefix, EventsMaxAge: cfg.EventsStreamMaxAge, EventsMaxLen: int64(cfg.EventsStreamMaxLen),
	})
	// The seed's queue, and one for webhook deliveries, so that a slow
	// receiver holds up deliveries only (webhooks.QueueName).
	q, hq := qc.Queue(events.QueueName), qc.Queue(webhooks.QueueName)
	producer := events.NewProducer(q, events.ProducerConfig{
		Retention: events.Retention{Completed: cfg.KeepCompleted, Failed: cfg.KeepFailed},
	})
	// Webhooks: every event written through store fans out to the matching
	// subscriptions (internal/webhooks explains how none is lost).
	fanout := webhooks.NewFanout(rawStore, hq, rdb, webhooks.FanoutConfig{
		OutboxKey:   cfg.QueuePrefix + ":webhooks:outbox",
		RetryDelays: cfg.WebhookRetryDelays,
		Logger:      log,
	})
	var store events.Store = webhooks.Wrap(rawStore, fanout)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// One process of all that share the queue exports its gauges read from
	// Redis (the lease's holder), so that sums across processes are right.
	metrics.NewDepth(reg, []*queue.Queue{q, hq}, metrics.DepthConfig{Redis: rdb, KeyPrefix: cfg.QueuePrefix})
	metrics.NewUp(reg,
		metrics.Dependency{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		metrics.Dependency{Name: storeName, Ping: store.Ping})

	// Every user of the store goes through the guard, so that while the
	// store is down requests fail at once with a 503 instead of each
	// waiting out the driver. It stops last, after every user.
	guard := evstore.NewGuard(store, evstore.GuardConfig{Logger: log})
	store = guard
	r.Go(ctx, "store guard", guard.Run)
	// One event writer batches the writes of concurrent jobs and of
	// concurrent POST /api/events alike. It stops after both.
	batcher := events.NewBatcher(store, 0)
	r.Go(ctx, "event writer", batcher.Run)

	sched := schedule.New(rdb, schedule.Config{Prefix: cfg.QueuePrefix, Logger: log})
	tasks := &events.Tasks{Producer: producer, Queue: q, More: []*queue.Queue{hq}, Store: store, Logger: log,
		JobsRetention: cfg.JobsRetention, EventsRetention: cfg.EventsRetention}
	scheduling := cfg.HasRole(config.RoleScheduler) && cfg.CronEnabled
	off, err := tasks.AddSchedules(sched, events.ScheduleSpecs{
		MockData: cfg.CronMockData, Monitor: cfg.CronMonitor, Rollup: cfg.CronRollup, Cleanup: cfg.CronCleanup,
	})
	if err != nil {
		return err
	}
	for _, s := range off {
		if scheduling {
			log.Info("schedule off", "schedule", s.Name, "setting", s.Setting)
		}
	}
	if scheduling {
		logSchedules(startCtx, log, sched)
	}

	if cfg.PprofAddr != "" {
		run, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		r.Go(ctx, "pprof", run)
	}

	// Every process serves HTTP: /healthz, /readyz and /metrics always, the
	// API and the dashboard with the api role.
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen on %s (PORT/HOST): %w", cfg.ListenAddr(), err)
	}
	apiRole := cfg.HasRole(config.RoleAPI)
	var jobs, hooks api.Jobs = q, hq
	if apiRole {
		// One reader of each queue's lifecycle stream serves every SSE
		// client of that queue.
		stream, hstream := q.NewEventStream(), hq.NewEventStream()
		r.Go(ctx, "event stream", stream.Run)
		r.Go(ctx, "webhooks event stream", hstream.Run)
		jobs, hooks = sharedEvents{q, stream}, sharedEvents{hq, hstream}
	}
	a := api.New(store, jobs, producer, api.Config{
		Queues:         []api.Jobs{hooks},
		OperationsOnly: !apiRole,
		Schedules:      sched,
		Checks: []api.Check{
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			{Name: storeName, Ping: store.Ping},
		},
		Token:                cfg.APIToken,
		ReadToken:            cfg.APIReadToken,
		MetricsToken:         cfg.MetricsToken,
		AllowedOrigins:       cfg.CORSAllowedOrigins,
		MaxStreams:           cfg.SSEMaxStreams,
		MaxEventDataBytes:    cfg.EventDataMaxBytes,
		Webhooks:             webhooks.NewSender(store, hq),
		WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
		Registerer:           reg,
		Gatherer:             reg,
		Logger:               log,
		Version:              versionString(),
		Writer:               batcher,
	})
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(a.CloseStreams)
	if cfg.HasRole(config.RoleWorker) {
		jm := metrics.NewJobs(reg)
		roller := events.NewRoller(store, nil)
		wm := metrics.NewWebhooks(reg)
		deliver := webhooks.NewDeliverer(store, webhooks.DeliverConfig{
			RetryDelays:  cfg.WebhookRetryDelays,
			DisableAfter: cfg.WebhookDisableAfter,
			AllowPrivate: cfg.WebhooksAllowPrivate,
			Observe:      wm.Observe,
			NotSent:      wm.NotSent,
			Logger:       log,
		})
		handlers := events.NewMux(map[string]queue.Handler{
			events.JobName:       events.NewProcessor(batcher),
			events.ImportJobName: events.NewImporter(store, roller.Touched),
			events.RollupJobName: roller,
			// Deliveries queued here by an eventsd from before the
			// webhooks queue still run.
			webhooks.JobName: deliver,
		})
		w := queue.NewWorker(q, handlers, queue.WorkerConfig{
			Concurrency:     cfg.WorkerConcurrency,
			LeaseTime:       cfg.JobLease,
			ShutdownTimeout: workerShutdown(cfg.ShutdownTimeout),
			Observer:        jm.Observer(),
			Logger:          log,
		})
		// The webhooks queue runs deliveries only; any other job there
		// fails at once, saying so.
		hm := queue.NewMux()
		hm.Handle(webhooks.JobName, deliver)
		hw := queue.NewWorker(hq, hm, queue.WorkerConfig{
			Concurrency:     cfg.WebhookConcurrency,
			LeaseTime:       cfg.JobLease,
			ShutdownTimeout: workerShutdown(cfg.ShutdownTimeout),
			Observer:        jm.Observer(),
			Logger:          log,
		})
		// Stopped in reverse: the outbox sweep, then the workers (the
		// event writer, which their last jobs still use, started earlier
		// and stops later). The two workers are one part, so that they
		// stop together: one after the other, a stop could take twice
		// SHUTDOWN_TIMEOUT.
		r.Go(ctx, "workers", together(w.Run, hw.Run))
		r.Go(ctx, "webhook outbox sweep", fanout.Run)
	}
	if scheduling {
		r.Go(ctx, "scheduler", sched.Run)
	}
	r.Go(ctx, "http", serveHTTP(srv, ln, a.CloseStreams))
	base := "http://" + displayAddr(ln.Addr())
	if apiRole {
		log.Info("eventsd listening", "url", base+"/api/events", "docs", base+"/api/docs", "version", versionString())
	} else {
		log.Info("eventsd listening for probes and metrics", "healthz", base+"/healthz", "metrics", base+"/metrics", "version", versionString())
	}
	log.Info("eventsd started", "roles", cfg.Roles, "cron", scheduling,
		"concurrency", cfg.WorkerConcurrency, "webhook_concurrency", cfg.WebhookConcurrency, "store", storeName)
	return nil
}

// serveHTTP serves srv on ln until ctx ends, then closes the SSE streams
// (Shutdown waits for requests but does not cancel them) and shuts down,
// letting requests in flight finish for up to 10 s.
func serveHTTP(srv *http.Server, ln net.Listener, closeStreams func()) func(context.Context) error {
	return func(ctx context.Context) error {
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		select {
		case err := <-served:
			return err // never ErrServerClosed: only Shutdown causes that
		case <-ctx.Done():
		}
		closeStreams()
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			srv.Close()
		}
		<-served
		return nil
	}
}

// closeOnStop is a part that holds a resource open until it is stopped.
func closeOnStop(close func() error) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		return close()
	}
}

// workerShutdown maps SHUTDOWN_TIMEOUT to the worker's: 0 means hand
// running jobs back at once, where the worker's zero means its default.
func workerShutdown(d time.Duration) time.Duration {
	if d == 0 {
		return queue.NoShutdownWait
	}
	return d
}

// sharedEvents is the queue with its lifecycle events read through one
// EventStream for all subscribers.
type sharedEvents struct {
	*queue.Queue
	stream *queue.EventStream
}

func (s sharedEvents) Events(ctx context.Context, after string) iter.Seq2[queue.Event, error] {
	return s.stream.Subscribe(ctx, after)
}

// logSchedules logs each schedule with its next run, and its last run by
// any process if there is one.
func logSchedules(ctx context.Context, log *slog.Logger, sched *schedule.Scheduler) {
	infos, err := sched.List(ctx)
	if err != nil {
		log.Warn("cannot list the schedules' runs", "err", err)
		return
	}
	for _, i := range infos {
		attrs := []any{"schedule", i.Name, "spec", i.Spec, "next_run", i.NextRun}
		if !i.LastRun.IsZero() {
			attrs = append(attrs, "last_run", i.LastRun)
		}
		log.Info("schedule", attrs...)
	}
}

// startDevRedis starts the Redis dev runs without REDIS_URL, as DEV_REDIS
// says, with the queue's state in DATA_DIR/redis, and returns its address.
func startDevRedis(ctx context.Context, r *runner, cfg config.Config, log *slog.Logger) (string, error) {
	dir := filepath.Join(cfg.DataDir, "redis")
	path, lookErr := devredis.LookPath()
	switch {
	case cfg.DevRedis == config.DevRedisServer && lookErr != nil:
		return "", fmt.Errorf("DEV_REDIS=redis-server: %w; install Redis or set DEV_REDIS=embedded", lookErr)
	case cfg.DevRedis == config.DevRedisEmbedded || lookErr != nil:
		m, err := devredis.StartMemory(ctx, dir, log)
		if err != nil {
			return "", err
		}
		r.Go(ctx, "embedded redis", m.Run)
		log.Info("dev: queue state in an embedded Redis, saved every second", "file", m.File(), "redis_addr", m.Addr())
		return m.Addr(), nil
	}
	s, err := devredis.StartServer(ctx, path, dir, log)
	if err != nil {
		return "", err
	}
	r.Go(ctx, "redis-server", s.Run)
	log.Info("dev: queue state in redis-server, append-only file fsynced every second", "dir", dir, "redis_server", path, "redis_addr", s.Addr())
	return s.Addr(), nil
}

// connectRedis connects to the Redis the settings name, or for dev
// without REDIS_URL, starts one. The connection and any
// server it started are parts of r.
func connectRedis(ctx context.Context, r *runner, cfg config.Config, log *slog.Logger) (redis.UniversalClient, error) {
	var rdb redis.UniversalClient
	if cfg.InProcessRedis() {
		addr, err := startDevRedis(ctx, r, cfg, log)
		if err != nil {
			return nil, err
		}
		rdb = redis.NewClient(&redis.Options{Addr: addr})
	} else {
		opts, err := cfg.RedisOptions()
		if err != nil {
			return nil, err
		}
		rdb = redis.NewUniversalClient(opts)
	}
	r.Go(ctx, "redis client", closeOnStop(rdb.Close))
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redis: %w (check REDIS_URL or REDIS_HOST/REDIS_PORT)", err)
	}
	return rdb, nil
}

// openStore opens the event store cfg.EventsStore names. Errors name the
// setting to check.
func openStore(ctx context.Context, cfg config.Config, dev bool) (events.Store, error) {
	switch cfg.EventsStore {
	case config.StoreSQLite:
		// dev makes its data directory; serve wants it to exist, so that a
		// mistyped DATA_DIR fails instead of starting an empty store.
		hint := "check DATA_DIR; eventsd serve does not create it"
		if dev {
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				return nil, fmt.Errorf("data directory (DATA_DIR): %w", err)
			}
			hint = "check DATA_DIR"
		}
		st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "events.db"))
		if err != nil {
			return nil, fmt.Errorf("%w (%s)", err, hint)
		}
		return st, nil
	case config.StorePostgres:
		st, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Config{})
		if err != nil {
			return nil, fmt.Errorf("%w (check DATABASE_URL)", err)
		}
		return st, nil
	default:
		st, err := mongo.Open(ctx, cfg.MongoDBURI, mongo.Config{})
		if err != nil {
			return nil, fmt.Errorf("%w (check MONGODB_URI)", err)
		}
		return st, nil
	}
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
