// Package config loads eventsd's settings from environment variables and
// command-line flags.
//
// Every setting is an environment variable (REDIS_URL) and a flag of the same
// meaning (--redis-url); a flag wins over the variable, and the variable over
// the default. Each setting and its default are declared once, in settings.go;
// Usage prints them all.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// The roles a process can take. A deployment may split them over machines
// that share one Redis and one event store.
const (
	RoleAPI       = "api"       // serve HTTP
	RoleWorker    = "worker"    // process jobs
	RoleScheduler = "scheduler" // fire cron schedules
)

// Command is the command settings are loaded for: a few defaults and checks
// differ between serve and dev.
type Command string

// The commands that take settings.
const (
	// Serve runs against a Redis server and keeps events in MongoDB unless
	// EVENTS_STORE says otherwise.
	Serve Command = "serve"
	// Dev runs a Redis of its own unless REDIS_URL names a server, and keeps
	// events in SQLite unless EVENTS_STORE says otherwise.
	Dev Command = "dev"
)

// The event stores, the values of EVENTS_STORE.
const (
	StoreMongoDB  = "mongodb"
	StorePostgres = "postgres"
	StoreSQLite   = "sqlite"
)

// The values of DEV_REDIS.
const (
	DevRedisAuto     = "auto"
	DevRedisServer   = "redis-server"
	DevRedisEmbedded = "embedded"
)

// defaultStore is each command's EVENTS_STORE when it is not set.
var defaultStore = map[Command]string{Serve: StoreMongoDB, Dev: StoreSQLite}

// Config holds every setting of the serve and dev commands. Each field names
// its environment variable and default; Usage prints the same. Load returns
// a Config that has passed validation.
type Config struct {
	// Command is the command the settings were loaded for.
	Command Command

	// RedisURL, from REDIS_URL, default empty, is a redis:// or rediss://
	// (TLS) URL. When set it wins over RedisHost, RedisPort and RedisDB.
	RedisURL string
	// RedisHost, from REDIS_HOST, default localhost.
	RedisHost string
	// RedisPort, from REDIS_PORT, default 6379.
	RedisPort int
	// RedisPassword, from REDIS_PASSWORD, default empty. It also serves a
	// RedisURL that carries no password of its own.
	RedisPassword string
	// RedisDB, from REDIS_DB, default 0, is the database number; Redis
	// Cluster has only database 0.
	RedisDB int
	// RedisTLS, from REDIS_TLS, default false, turns on TLS for RedisHost
	// and RedisAddrs. A rediss:// RedisURL turns it on by itself.
	RedisTLS bool
	// RedisAddrs, from REDIS_ADDRS, default empty, is a list of host:port.
	// With RedisSentinelMaster they are Sentinel addresses; otherwise two or
	// more mean Redis Cluster nodes, and one means a single server.
	RedisAddrs []string
	// RedisSentinelMaster, from REDIS_SENTINEL_MASTER, default empty, is the
	// master name to ask the Sentinels at RedisAddrs for.
	RedisSentinelMaster string
	// DevRedis, from DEV_REDIS, default auto, is the Redis that dev runs
	// when REDIS_URL is empty, with the queue's state kept in DataDir/redis:
	// DevRedisServer (redis-server as a child process), DevRedisEmbedded (an
	// in-process server saved to a file), or DevRedisAuto (redis-server when
	// it is on PATH, else embedded).
	DevRedis string

	// EventsStore, from EVENTS_STORE, default empty, which means mongodb for
	// serve and sqlite for dev, is where events are kept: StoreMongoDB,
	// StorePostgres or StoreSQLite. Load sets it to the command's default
	// when it is empty.
	EventsStore string
	// MongoDBURI, from MONGODB_URI, default mongodb://localhost:27017/events,
	// is the database of the mongodb store.
	MongoDBURI string
	// DatabaseURL, from DATABASE_URL, default empty, is the PostgreSQL
	// database of the postgres store: a postgres:// URL, which may set
	// search_path and pgx's pool settings (pool_max_conns).
	DatabaseURL string
	// DataDir, from DATA_DIR, default ./data, holds the sqlite store's file,
	// events.db. Dev creates it; serve wants it to exist, so that a mistyped
	// path fails instead of starting an empty store.
	DataDir string
	// EventDataMaxBytes, from EVENT_DATA_MAX_BYTES, default 65536 (64 KiB),
	// limits the data of an event created through the API, as compact JSON.
	EventDataMaxBytes int

	// Host, from HOST, default empty (all interfaces), is the address the
	// HTTP server listens on.
	Host string
	// Port, from PORT, default 9000, is the HTTP server's port.
	Port int
	// APIToken, from API_TOKEN, default empty. When it or APIReadToken is
	// set, every /api route but the health check and the docs needs
	// "Authorization: Bearer <token>"; this token allows every method.
	APIToken string
	// APIReadToken, from API_READ_TOKEN, default empty, allows GET and HEAD
	// on /api routes only. It must differ from APIToken.
	APIReadToken string
	// MetricsToken, from METRICS_TOKEN, default empty (/metrics open), is
	// the bearer token /metrics needs.
	MetricsToken string
	// CORSAllowedOrigins, from CORS_ALLOWED_ORIGINS, default empty, are the
	// origins ("https://app.example.com") whose pages may call the API
	// from a browser, writes included.
	CORSAllowedOrigins []string
	// SSEMaxStreams, from SSE_MAX_STREAMS, default 1000, caps the
	// concurrent lifecycle event streams one process serves.
	SSEMaxStreams int
	// EventsStreamMaxAge, from EVENTS_STREAM_MAX_AGE, default 30s (15m for
	// dev, whose dashboard replays 15 minutes and whose rates are low), is
	// how long the queue's lifecycle events stay in Redis: an SSE client
	// that reconnects with Last-Event-ID within it resumes without a gap,
	// unless EventsStreamMaxLen trimmed first (queue.Config.EventsMaxAge).
	EventsStreamMaxAge time.Duration
	// EventsStreamMaxLen, from EVENTS_STREAM_MAX_LEN, default 10000, caps
	// the lifecycle stream's entries, each a batch of up to 500 jobs' events
	// (queue.Config.EventsMaxLen): at very high rates it binds first.
	EventsStreamMaxLen int
	// PprofAddr, from PPROF_ADDR, default empty (none), is a loopback
	// host:port on which the process serves net/http/pprof's profiles
	// (/debug/pprof/), apart from the API, without a token.
	PprofAddr string

	// WorkerConcurrency, from WORKER_CONCURRENCY, default 100, is how many
	// jobs a worker runs at once.
	WorkerConcurrency int
	// JobLease, from JOB_LEASE, default 15s (300ms to 1h), is how long a
	// running job stays leased to its worker without a heartbeat; heartbeats
	// run every third of it.
	JobLease time.Duration
	// CronEnabled, from CRON_ENABLED, default true, switches the schedules
	// off without changing Roles.
	CronEnabled bool
	// Roles, from ROLES, default api,worker,scheduler, are the roles this
	// process takes, a non-empty subset of RoleAPI, RoleWorker and
	// RoleScheduler.
	Roles []string
	// QueuePrefix, from QUEUE_PREFIX, default eventsd, starts every Redis
	// key eventsd writes. Processes that work together share it.
	QueuePrefix string

	// CronMockData, from CRON_MOCK_DATA, default off under serve and
	// */2 * * * * * under dev, is when a process-mock-data job is added.
	// The Cron fields are schedule specs (see schedule.ParseSpec), empty
	// for a schedule switched off with the value off.
	CronMockData string
	// CronMonitor, from CRON_MONITOR, default */10 * * * * *, is when queue
	// counts are logged.
	CronMonitor string
	// CronRollup, from CRON_ROLLUP, default 0 * * * * *, is when a
	// rollup-events job is added: it stores the per-minute event counts of
	// the minutes just closed.
	CronRollup string
	// CronCleanup, from CRON_CLEANUP, default 0 0 0 * * * (midnight UTC), is
	// when old jobs and events are deleted.
	CronCleanup string
	// JobsRetention, from JOBS_RETENTION, default 24h: completed and failed
	// jobs older than this are deleted at cleanup.
	JobsRetention time.Duration
	// KeepCompleted, from KEEP_COMPLETED, default 0 (queue.Remove), is what
	// is kept of completed jobs: queue.Remove, queue.Keep (all), the newest
	// n (100) or each for an age (1h). Job types whose row of
	// events.JobTypes names its own retention keep theirs.
	KeepCompleted queue.Retention
	// KeepFailed, from KEEP_FAILED, default all (queue.Keep), is what is
	// kept of failed jobs, in KeepCompleted's terms.
	KeepFailed queue.Retention
	// EventsRetention, from EVENTS_RETENTION, default empty: events older
	// than this are deleted at cleanup. Zero keeps events forever.
	EventsRetention time.Duration

	// WebhookRetryDelays, from WEBHOOK_RETRY_DELAYS, default
	// 5s,5m,30m,2h,5h,10h, are the waits before each retry of a webhook
	// delivery; a delivery makes one attempt more than there are waits.
	WebhookRetryDelays []time.Duration
	// WebhookConcurrency, from WEBHOOK_CONCURRENCY, default 20, is how many
	// webhook deliveries a worker sends at once. Deliveries have a queue
	// and worker slots of their own, apart from WorkerConcurrency's.
	WebhookConcurrency int
	// WebhookDisableAfter, from WEBHOOK_DISABLE_AFTER, default 20, is how
	// many deliveries in a row may fail for good before their subscription
	// is disabled (5 days of failures disable it too).
	WebhookDisableAfter int
	// WebhooksAllowPrivate, from WEBHOOKS_ALLOW_PRIVATE, default false
	// (dev: true), lets subscriptions reach loopback, private and link-local
	// addresses.
	WebhooksAllowPrivate bool

	// ShutdownTimeout, from SHUTDOWN_TIMEOUT, default 30s, is how long
	// running jobs may finish after SIGTERM before they are handed back; 0
	// hands them back at once.
	ShutdownTimeout time.Duration
	// LogLevel, from LOG_LEVEL, default info: debug, info, warn or error.
	LogLevel slog.Level
	// LogFormat, from LOG_FORMAT, default text: text or json.
	LogFormat string
}

// Load reads the settings of cmd from getenv and args, the command's flags
// after its name (for "eventsd serve --port 8080", args is ["--port",
// "8080"]). An environment variable set to the empty string counts as unset.
//
// Load returns an error naming the first bad setting and its value, like
// "PORT=99999: must be 1..65535", with secrets masked, or the settings that
// do not go together, like "EVENTS_STORE=postgres needs DATABASE_URL". For
// -h or --help it returns an error wrapping flag.ErrHelp, so that the caller
// can print Usage.
// renamed lists settings that were renamed: one still set would otherwise
// be ignored without a word.
var renamed = map[string]struct{ name, why string }{
	"CRON_EVENT_RATE": {"CRON_ROLLUP", "the per-minute event-rate log line became the rollup-events job, which stores per-minute counts"},
}

func Load(cmd Command, args []string, getenv func(string) string) (Config, error) {
	if _, ok := defaultStore[cmd]; !ok {
		return Config{}, fmt.Errorf("config: unknown command %q", cmd)
	}
	dev := cmd == Dev
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	all := settings()
	fs := flag.NewFlagSet("eventsd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	flags := make([]flagValue, len(all))
	for i, s := range all {
		flags[i].isBool = s.isBool
		fs.Var(&flags[i], s.flag(), s.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, fmt.Errorf("%w (eventsd help lists the settings)", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (eventsd help lists the settings)", fs.Arg(0))
	}

	for old, now := range renamed {
		if getenv(old) != "" {
			return Config{}, fmt.Errorf("%s is now %s: %s", old, now.name, now.why)
		}
	}

	c := Config{Command: cmd}
	given := make(map[string]string) // env name → how it was given: the variable, or its flag
	for i, s := range all {
		raw, name := s.def, s.env
		if dev && s.devDef != "" {
			raw = s.devDef
		}
		if v := getenv(s.env); v != "" {
			raw, given[s.env] = v, s.env
		}
		if flags[i].set {
			raw, name = flags[i].value, "--"+s.flag()
			given[s.env] = name
		}
		if !s.secret {
			raw = strings.TrimSpace(raw)
		}
		if err := s.parse(&c, raw); err != nil {
			return Config{}, redactErr(fmt.Errorf("%s=%s: %w", name, s.show(raw), err), raw)
		}
	}
	if _, err := c.RedisOptions(); err != nil {
		return Config{}, err
	}
	if err := c.checkStore(given); err != nil {
		return Config{}, err
	}
	if err := c.checkDevRedis(given); err != nil {
		return Config{}, err
	}
	return c, nil
}

// InProcessRedis reports whether the command runs its own Redis: dev does,
// unless REDIS_URL names a server.
func (c Config) InProcessRedis() bool { return c.Command == Dev && c.RedisURL == "" }

// HasRole reports whether the process takes role.
func (c Config) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// ListenAddr returns the HTTP server's listen address, Host:Port.
func (c Config) ListenAddr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// flagValue is a flag that remembers whether it was given, so that a flag
// set to a setting's default still wins over its environment variable.
type flagValue struct {
	value  string
	set    bool
	isBool bool
}

func (f *flagValue) String() string   { return f.value }
func (f *flagValue) IsBoolFlag() bool { return f.isBool }
func (f *flagValue) Set(v string) error {
	f.value, f.set = v, true
	return nil
}
