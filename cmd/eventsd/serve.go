package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/internal/api"
	"github.com/eventsd/eventsd/internal/config"
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

// serve runs eventsd until ctx ends, then shuts down in order: HTTP, the
// scheduler, the worker (letting running jobs finish), the event writer, the
// store, Redis.
func serve(ctx context.Context, cfg config.Config, dev bool, logOut io.Writer) error {
	log := cfg.Logger(logOut)
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	rdb, storeName, rawStore, err := connect(startCtx, cfg, dev, log, &closers)
	if err != nil {
		return err
	}
	q := queue.NewClient(rdb, queue.Config{Prefix: cfg.QueuePrefix}).Queue(events.QueueName)
	producer := events.NewProducer(q, events.ProducerConfig{
		Retention: events.Retention{Completed: cfg.KeepCompleted, Failed: cfg.KeepFailed},
	})
	// Webhooks: every event written through store fans out to the matching
	// subscriptions (internal/webhooks explains how none is lost).
	fanout := webhooks.NewFanout(rawStore, q, rdb, webhooks.FanoutConfig{
		OutboxKey:   cfg.QueuePrefix + ":webhooks:outbox",
		RetryDelays: cfg.WebhookRetryDelays,
		Logger:      log,
	})
	var store events.Store = webhooks.Wrap(rawStore, fanout)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.NewDepth(reg, q)

	var wg sync.WaitGroup
	failed := make(chan error, 8) // one per background part, so none blocks
	background := func(name string, run func(context.Context) error) (stop func()) {
		c, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		wg.Go(func() {
			defer close(done)
			if err := run(c); err != nil {
				failed <- fmt.Errorf("%s: %w", name, err)
			}
		})
		return func() { cancel(); <-done }
	}
	var stops []func() // in shutdown order

	// Every user of the store goes through the guard, so that while the
	// store is down requests fail at once with a 503 instead of each
	// waiting out the driver. It stops last, after every user.
	guard := evstore.NewGuard(store, evstore.GuardConfig{Logger: log})
	store = guard
	stopGuard := background("store guard", guard.Run)
	// One event writer batches the writes of concurrent jobs and of
	// concurrent POST /api/events alike. It stops after both.
	batcher := events.NewBatcher(store, 0)
	stopBatcher := background("event writer", batcher.Run)

	sched := schedule.New(rdb, schedule.Config{Prefix: cfg.QueuePrefix, Logger: log})
	tasks := &events.Tasks{Producer: producer, Queue: q, Store: store, Logger: log,
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

	var srv *http.Server
	var stopStreams func()
	if cfg.HasRole(config.RoleAPI) {
		ln, err := net.Listen("tcp", cfg.ListenAddr())
		if err != nil {
			return fmt.Errorf("listen on %s (PORT/HOST): %w", cfg.ListenAddr(), err)
		}
		// One reader of the lifecycle stream serves every SSE client.
		stream := q.NewEventStream()
		stops = append(stops, background("event stream", stream.Run))
		a := api.New(store, sharedEvents{q, stream}, producer, api.Config{
			Schedules: sched,
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
			Webhooks:             webhooks.NewSender(store, q),
			WebhooksAllowPrivate: cfg.WebhooksAllowPrivate,
			Registerer:           reg,
			Gatherer:             reg,
			Logger:               log,
			Version:              versionString(),
			Writer:               batcher,
		})
		srv = &http.Server{
			Handler:           a,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		srv.RegisterOnShutdown(a.CloseStreams)
		stopStreams = a.CloseStreams
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				failed <- fmt.Errorf("http: %w", err)
			}
		})
		base := "http://" + displayAddr(ln.Addr())
		log.Info("eventsd listening", "url", base+"/api/events", "docs", base+"/api/docs", "version", versionString())
	}
	if scheduling {
		stops = append(stops, background("scheduler", sched.Run))
	}
	if cfg.HasRole(config.RoleWorker) {
		jm := metrics.NewJobs(reg)
		roller := events.NewRoller(store, nil)
		handlers := events.NewMux(map[string]queue.Handler{
			events.JobName:       events.NewProcessor(batcher),
			events.ImportJobName: events.NewImporter(store, roller.Touched),
			events.RollupJobName: roller,
			webhooks.JobName: webhooks.NewDeliverer(store, webhooks.DeliverConfig{
				RetryDelays:  cfg.WebhookRetryDelays,
				DisableAfter: cfg.WebhookDisableAfter,
				AllowPrivate: cfg.WebhooksAllowPrivate,
				Observe:      metrics.NewWebhooks(reg).Observe,
				Logger:       log,
			}),
		})
		w := queue.NewWorker(q, handlers, queue.WorkerConfig{
			Concurrency:     cfg.WorkerConcurrency,
			LeaseTime:       cfg.JobLease,
			ShutdownTimeout: workerShutdown(cfg.ShutdownTimeout),
			Observer:        jm.Observer(),
			Logger:          log,
		})
		stopWorker := background("worker", w.Run)
		stopSweep := background("webhook outbox sweep", fanout.Run)
		stops = append(stops, stopWorker, stopSweep)
	}
	stops = append(stops, stopBatcher, stopGuard)
	log.Info("eventsd started", "roles", cfg.Roles, "cron", scheduling,
		"concurrency", cfg.WorkerConcurrency, "store", storeName)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing running jobs", "timeout", cfg.ShutdownTimeout)
	case runErr = <-failed:
		log.Error("stopping after a failure", "err", runErr)
	}
	if srv != nil {
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stopStreams()
		if err := srv.Shutdown(shutCtx); err != nil {
			srv.Close()
		}
		cancel()
	}
	for _, stop := range stops {
		stop()
	}
	wg.Wait()
	log.Info("eventsd stopped")
	return runErr
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

// connect opens Redis and the event store the settings name: for dev
// without REDIS_URL, an in-process Redis.
func connect(ctx context.Context, cfg config.Config, dev bool, log *slog.Logger, closers *[]func()) (redis.UniversalClient, string, events.Store, error) {
	var rdb redis.UniversalClient
	if cfg.InProcessRedis() {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, "", nil, fmt.Errorf("start the in-process Redis server: %w", err)
		}
		*closers = append(*closers, mr.Close)
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
		log.Warn("dev mode: queue state (jobs, retries, schedules) lives in memory and is lost when eventsd stops; set REDIS_URL to keep it in a Redis server",
			"events_store", cfg.EventsStore)
	} else {
		opts, err := cfg.RedisOptions()
		if err != nil {
			return nil, "", nil, err
		}
		rdb = redis.NewUniversalClient(opts)
	}
	*closers = append(*closers, func() { rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, "", nil, fmt.Errorf("redis: %w (check REDIS_URL or REDIS_HOST/REDIS_PORT)", err)
	}

	st, err := openStore(ctx, cfg, dev)
	if err != nil {
		return nil, "", nil, err
	}
	*closers = append(*closers, func() { st.Close() })
	return rdb, cfg.EventsStore, st, nil
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
