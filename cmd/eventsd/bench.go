package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/internal/bench"
	"github.com/eventsd/eventsd/internal/config"
	"github.com/eventsd/eventsd/internal/events"
	"github.com/redis/go-redis/v9"
	"golang.org/x/term"
)

const benchUsage = `usage: eventsd bench queue|e2e|http [flags] [settings]

  queue  bulk-add no-op jobs, then process them: add/s, process/s, idle pickup
         latency, delayed-job lateness, end-to-end latency, Redis commands per
         job and per idle second, CPU and peak RSS
  e2e    the seed's pipeline: mock-data jobs through a worker into the event
         store; events stored/s, added-to-stored latency, and a check that each
         job left exactly one event
  http   drive POST /api/events and GET /api/events/{id} of a running eventsd
         at a fixed concurrency: req/s, latency percentiles, errors by status

Flags:
  --jobs N            jobs to add and process (queue 100000, e2e 20000)
  --concurrency N     worker concurrency, or requests in flight for http
                      (queue and e2e 100, http 50)
  --payload-size N    bytes of job data (queue; default 64)
  --duration D        how long the steady-rate latency phase runs (queue, e2e;
                      default 3s) or the load runs (http; default 10s)
  --rate R            jobs/s of the steady-rate latency phase (queue, e2e;
                      default half the measured rate, at most 5000)
  --idle D            how long an idle worker's Redis load is measured (queue;
                      default 10s)
  --samples N         idle pickup samples (queue; default 200)
  --throughput-only   only bulk-add and process (queue): skip the idle,
                      pickup, delayed and steady phases, as bench/peers
                      does to compare with other queues
  --embedded-redis    use an in-process Redis emulator (miniredis), as eventsd
                      dev does; the figures then measure miniredis, not Redis
  --store S           e2e event store, as EVENTS_STORE: mongodb (MONGODB_URI),
                      postgres (DATABASE_URL) or sqlite (default EVENTS_STORE,
                      else mongodb, as serve)
  --data-dir DIR      where e2e's temporary SQLite file goes (default: the
                      system's temporary directory)
  --url URL           the eventsd http drives (default http://localhost:9000)
  --token T           bearer token for the server's API, sent with every
                      request (default API_TOKEN)
  --json              print one JSON object with every figure

Redis and the store are found as by eventsd serve: REDIS_URL and friends,
MONGODB_URI, DATABASE_URL, as environment variables or flags (eventsd help
lists them). The benchmark keeps to keys of its own
(eventsd-bench-<random>:*), a SQLite file of its own, a MongoDB database of
its own or a PostgreSQL schema of its own (both eventsd_bench_<random>), and
deletes them afterwards; http deletes the events it created. Results go
to stdout, progress to stderr. The queue figures on Redis commands count the
whole server: run it on a Redis nothing else is busy with.
`

// benchFlags are the bench command's own flags; settings (REDIS_URL and the
// like) go to config.Load.
type benchFlags struct {
	jobs, concurrency, payloadSize, samples int
	duration, idle                          time.Duration
	rate                                    float64
	embeddedRedis, asJSON, throughputOnly   bool
	store, dataDir, url, token              string
}

// runBench runs `eventsd bench KIND`.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		_, err := fmt.Fprint(stdout, benchUsage)
		return err
	}
	kind, args := args[0], args[1:]
	if kind != "queue" && kind != "e2e" && kind != "http" {
		return fmt.Errorf("unknown benchmark %q: want queue, e2e or http (eventsd bench help)", kind)
	}
	var f benchFlags
	fs := flag.NewFlagSet("bench "+kind, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&f.jobs, "jobs", 0, "")
	fs.IntVar(&f.concurrency, "concurrency", 0, "")
	fs.IntVar(&f.payloadSize, "payload-size", 0, "")
	fs.IntVar(&f.samples, "samples", 0, "")
	fs.DurationVar(&f.duration, "duration", 0, "")
	fs.DurationVar(&f.idle, "idle", 0, "")
	fs.Float64Var(&f.rate, "rate", 0, "")
	fs.BoolVar(&f.embeddedRedis, "embedded-redis", false, "")
	fs.BoolVar(&f.asJSON, "json", false, "")
	fs.BoolVar(&f.throughputOnly, "throughput-only", false, "")
	fs.StringVar(&f.store, "store", "", "")
	fs.StringVar(&f.dataDir, "data-dir", "", "")
	fs.StringVar(&f.url, "url", "http://localhost:9000", "")
	fs.StringVar(&f.token, "token", getenv("API_TOKEN"), "")
	own, settings := splitBenchArgs(fs, args)
	if err := fs.Parse(own); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err := fmt.Fprint(stdout, benchUsage)
			return err
		}
		return fmt.Errorf("bench %s: %w (eventsd bench help)", kind, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench %s: unexpected argument %q (eventsd bench help)", kind, fs.Arg(0))
	}
	if err := checkBenchFlags(fs, kind, f); err != nil {
		return err
	}
	cfg, err := config.Load(config.Serve, settings, func(k string) string {
		if k == "EVENTS_STORE" && f.store != "" {
			return f.store // --store is EVENTS_STORE for the bench
		}
		return getenv(k)
	})
	if err != nil {
		return err
	}
	if f.dataDir != "" && cfg.EventsStore != config.StoreSQLite {
		return fmt.Errorf("bench %s: --data-dir needs --store sqlite", kind)
	}
	progress := bench.NewProgress(stderr, isTerminal(stderr))
	defer progress.Stop()

	var res interface{ WriteText(io.Writer) error }
	switch kind {
	case "queue", "e2e":
		rdb, server, closeRedis, err := benchRedis(ctx, cfg, f.embeddedRedis)
		if err != nil {
			return err
		}
		defer closeRedis()
		if kind == "queue" {
			r, err := bench.Queue(ctx, rdb, bench.QueueOptions{
				Jobs: f.jobs, Concurrency: f.concurrency, PayloadSize: f.payloadSize,
				Samples: f.samples, Idle: f.idle, Steady: f.duration, Rate: f.rate, ThroughputOnly: f.throughputOnly,
				Progress: progress.Update,
			})
			if err != nil {
				return err
			}
			r.Redis = cmp.Or(server, r.Redis)
			res = r
		} else {
			r, err := benchE2E(ctx, rdb, cfg, f, progress, stderr)
			if err != nil {
				return err
			}
			r.Redis = cmp.Or(server, r.Redis)
			res = r
		}
	case "http":
		r, err := bench.HTTP(ctx, bench.HTTPOptions{
			URL: f.url, Concurrency: f.concurrency, Duration: f.duration, Token: f.token, Progress: progress.Update,
		})
		if err != nil {
			return err
		}
		res = r
	}
	progress.Finish()
	if f.asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return res.WriteText(stdout)
}

// benchE2E opens the run's own store and runs the e2e benchmark on it.
func benchE2E(ctx context.Context, rdb redis.UniversalClient, cfg config.Config, f benchFlags, progress *bench.Progress, stderr io.Writer) (bench.E2EResult, error) {
	var st events.Store
	var cleanup func() error
	var err error
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	switch cfg.EventsStore {
	case config.StoreSQLite:
		st, cleanup, err = bench.TempSQLite(startCtx, f.dataDir)
	case config.StorePostgres:
		st, cleanup, err = bench.TempPostgres(startCtx, cfg.DatabaseURL)
		if err != nil {
			err = fmt.Errorf("%w (check DATABASE_URL, or use --store sqlite)", err)
		}
	default:
		st, cleanup, err = bench.TempMongo(startCtx, cfg.MongoDBURI)
		if err != nil {
			err = fmt.Errorf("%w (check MONGODB_URI, or use --store sqlite)", err)
		}
	}
	if err != nil {
		return bench.E2EResult{}, err
	}
	defer func() {
		if err := cleanup(); err != nil {
			fmt.Fprintln(stderr, "eventsd bench: clean up the store:", err)
		}
	}()
	return bench.E2E(ctx, rdb, st, bench.E2EOptions{
		Jobs: f.jobs, Concurrency: f.concurrency, Steady: f.duration, Rate: f.rate, Store: cfg.EventsStore,
		Logger: cfg.Logger(stderr), Progress: progress.Update,
	})
}

// embeddedServer names the in-process server in results, saying what its
// figures measure.
const embeddedServer = "miniredis, in process (--embedded-redis: the figures measure this emulator, not a Redis server)"

// benchRedis connects to the Redis the settings name, or starts an
// in-process miniredis; server is then embeddedServer.
func benchRedis(ctx context.Context, cfg config.Config, embedded bool) (rdb redis.UniversalClient, server string, closeFn func(), err error) {
	if embedded {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, "", nil, fmt.Errorf("start the in-process Redis server: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		return c, embeddedServer, func() { c.Close(); mr.Close() }, nil
	}
	opts, err := cfg.RedisOptions()
	if err != nil {
		return nil, "", nil, err
	}
	c := redis.NewUniversalClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := c.Ping(pingCtx).Err(); err != nil {
		c.Close()
		return nil, "", nil, fmt.Errorf("redis: %w (check REDIS_URL or REDIS_HOST/REDIS_PORT, or use --embedded-redis)", err)
	}
	return c, "", func() { c.Close() }, nil
}

// checkBenchFlags rejects flags that mean nothing to kind, so that a
// mistyped command line does not silently measure something else.
func checkBenchFlags(fs *flag.FlagSet, kind string, f benchFlags) error {
	applies := map[string][]string{
		"jobs": {"queue", "e2e"}, "rate": {"queue", "e2e"}, "payload-size": {"queue"}, "idle": {"queue"}, "samples": {"queue"},
		"embedded-redis": {"queue", "e2e"}, "store": {"e2e"}, "data-dir": {"e2e"}, "throughput-only": {"queue"},
		"url": {"http"}, "token": {"http"},
	}
	skipped := []string{"idle", "samples", "duration", "rate"} // phases --throughput-only skips
	var err error
	fs.Visit(func(fl *flag.Flag) {
		if kinds, ok := applies[fl.Name]; ok && err == nil && !slices.Contains(kinds, kind) {
			err = fmt.Errorf("bench %s: --%s applies to bench %s only", kind, fl.Name, strings.Join(kinds, " and "))
		}
		if kind == "queue" && f.throughputOnly && err == nil && slices.Contains(skipped, fl.Name) {
			err = fmt.Errorf("bench %s: --%s sets a phase that --throughput-only skips", kind, fl.Name)
		}
	})
	if err != nil {
		return err
	}
	switch {
	case f.jobs < 0, f.concurrency < 0, f.payloadSize < 0, f.samples < 0, f.duration < 0, f.idle < 0, f.rate < 0:
		return fmt.Errorf("bench %s: counts and durations must not be negative", kind)
	case f.store != "" && f.store != config.StoreMongoDB && f.store != config.StorePostgres && f.store != config.StoreSQLite:
		return fmt.Errorf("bench %s: --store %q: want mongodb, postgres or sqlite", kind, f.store)
	}
	return nil
}

// splitBenchArgs sorts args into the bench's own flags (those fs defines)
// and settings for config.Load (--redis-url and the like). A flag's value
// may follow it as the next argument; an own flag's value may start with a
// dash (--jobs -1 is then refused as negative, not as a missing value).
func splitBenchArgs(fs *flag.FlagSet, args []string) (own, settings []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" || name == "h" || name == "help" {
			own = append(own, a)
			continue
		}
		if f := fs.Lookup(name); f != nil {
			own = append(own, a)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) && i+1 < len(args) {
				i++
				own = append(own, args[i])
			}
			continue
		}
		settings = append(settings, a)
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			settings = append(settings, args[i])
		}
	}
	return own, settings
}

// isTerminal reports whether w is a terminal, where progress is a bar
// redrawn in place rather than a line now and then.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}
