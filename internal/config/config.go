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
)

// The roles a process can take. A deployment may split them over machines
// that share one Redis and one event store.
const (
	RoleAPI       = "api"       // serve HTTP
	RoleWorker    = "worker"    // process jobs
	RoleScheduler = "scheduler" // fire cron schedules
)

// Config holds every setting of the serve and dev commands. Each field names
// its environment variable and default; Usage prints the same. Load returns
// a Config that has passed validation.
type Config struct {
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

	// MongoDBURI, from MONGODB_URI, default mongodb://localhost:27017/events,
	// is the event store of the serve command.
	MongoDBURI string
	// DataDir, from DATA_DIR, default ./data, holds the dev command's SQLite
	// event store.
	DataDir string

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

	// WorkerConcurrency, from WORKER_CONCURRENCY, default 100, is how many
	// jobs a worker runs at once.
	WorkerConcurrency int
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

	// CronMockData, from CRON_MOCK_DATA, default */2 * * * * *, is when a
	// process-mock-data job is added. The Cron fields are schedule specs;
	// see schedule.ParseSpec.
	CronMockData string
	// CronMonitor, from CRON_MONITOR, default */10 * * * * *, is when queue
	// counts are logged.
	CronMonitor string
	// CronEventRate, from CRON_EVENT_RATE, default 0 * * * * *, is when the
	// event rate is logged.
	CronEventRate string
	// CronCleanup, from CRON_CLEANUP, default 0 0 0 * * * (midnight UTC), is
	// when old jobs and events are deleted.
	CronCleanup string
	// JobsRetention, from JOBS_RETENTION, default 24h: completed and failed
	// jobs older than this are deleted at cleanup.
	JobsRetention time.Duration
	// EventsRetention, from EVENTS_RETENTION, default empty: events older
	// than this are deleted at cleanup. Zero keeps events forever.
	EventsRetention time.Duration

	// ShutdownTimeout, from SHUTDOWN_TIMEOUT, default 30s, is how long
	// running jobs may finish after SIGTERM before they are handed back.
	ShutdownTimeout time.Duration
	// LogLevel, from LOG_LEVEL, default info: debug, info, warn or error.
	LogLevel slog.Level
	// LogFormat, from LOG_FORMAT, default text: text or json.
	LogFormat string
}

// Load reads the settings from getenv and args, the command's flags after
// its name (for "eventsd serve --port 8080", args is ["--port", "8080"]).
// An environment variable set to the empty string counts as unset.
//
// Load returns an error naming the first bad setting and its value, like
// "PORT=99999: must be 1..65535", with secrets masked. For -h or --help it
// returns an error wrapping flag.ErrHelp, so that the caller can print Usage.
func Load(args []string, getenv func(string) string) (Config, error) {
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

	var c Config
	for i, s := range all {
		raw, name := s.def, s.env
		if v := getenv(s.env); v != "" {
			raw = v
		}
		if flags[i].set {
			raw, name = flags[i].value, "--"+s.flag()
		}
		if !s.secret {
			raw = strings.TrimSpace(raw)
		}
		if err := s.parse(&c, raw); err != nil {
			return Config{}, fmt.Errorf("%s=%s: %w", name, s.show(raw), err)
		}
	}
	if _, err := c.RedisOptions(); err != nil {
		return Config{}, err
	}
	return c, nil
}

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
