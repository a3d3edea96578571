package config

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
	"github.com/redis/go-redis/v9"
)

// setting is one configurable value: its environment variable, its default
// and how to parse it into a Config. The flag's name derives from the
// variable's: REDIS_URL is --redis-url.
type setting struct {
	env      string
	def      string
	devDef   string // the default of "eventsd dev" where it differs from def
	shownDef string // what Usage shows for an empty def that depends on the command
	usage    string
	secret   bool // never echoed in errors
	isBool   bool // a flag given alone means true
	parse    func(c *Config, v string) error
}

func (s setting) flag() string { return strings.ReplaceAll(strings.ToLower(s.env), "_", "-") }

// show returns v as it may appear in an error message.
func (s setting) show(v string) string {
	switch {
	case s.secret:
		return "(hidden)"
	case v == "" || strings.ContainsAny(v, " \t\""):
		return strconv.Quote(v)
	}
	return Redact(v)
}

// settings lists every setting, in the order Usage prints them. Each default
// is written here and nowhere else.
func settings() []setting {
	return []setting{
		{env: "REDIS_URL", usage: "Redis URL, redis:// or rediss:// for TLS; wins over REDIS_HOST, REDIS_PORT and REDIS_DB",
			parse: func(c *Config, v string) error {
				if v != "" {
					if _, err := parseRedisURL(v); err != nil {
						return err
					}
				}
				c.RedisURL = v
				return nil
			}},
		{env: "REDIS_HOST", def: "localhost", usage: "Redis host",
			parse: func(c *Config, v string) error { return nonEmpty(&c.RedisHost, v) }},
		{env: "REDIS_PORT", def: "6379", usage: "Redis port",
			parse: func(c *Config, v string) error { return intIn(&c.RedisPort, v, 1, 65535) }},
		{env: "REDIS_PASSWORD", secret: true, usage: "Redis password; also used with a REDIS_URL that has none",
			parse: func(c *Config, v string) error { c.RedisPassword = v; return nil }},
		{env: "REDIS_DB", def: "0", usage: "Redis database number (not with Redis Cluster)",
			parse: func(c *Config, v string) error { return intIn(&c.RedisDB, v, 0, 1<<20) }},
		{env: "REDIS_TLS", def: "false", isBool: true, usage: "use TLS with REDIS_HOST or REDIS_ADDRS",
			parse: func(c *Config, v string) error { return boolean(&c.RedisTLS, v) }},
		{env: "REDIS_ADDRS", usage: "comma-separated host:port list: Sentinels with REDIS_SENTINEL_MASTER, else Redis Cluster nodes",
			parse: func(c *Config, v string) error { return addrs(&c.RedisAddrs, v) }},
		{env: "REDIS_SENTINEL_MASTER", usage: "Sentinel master name; with REDIS_ADDRS, connect through Sentinel",
			parse: func(c *Config, v string) error { c.RedisSentinelMaster = v; return nil }},
		{env: "DEV_REDIS", def: DevRedisAuto, usage: "the Redis eventsd dev runs without REDIS_URL, keeping the queue in DATA_DIR/redis: redis-server (a child process), embedded (in-process, saved every second) or auto (redis-server when on PATH)",
			parse: func(c *Config, v string) error {
				return oneOf(&c.DevRedis, v, DevRedisAuto, DevRedisServer, DevRedisEmbedded)
			}},

		{env: "EVENTS_STORE", shownDef: "mongodb (serve), sqlite (dev)", usage: "where events are kept: mongodb, postgres or sqlite",
			parse: func(c *Config, v string) error {
				if v == "" {
					return nil // the command's default, set by checkStore
				}
				return oneOf(&c.EventsStore, v, StoreMongoDB, StorePostgres, StoreSQLite)
			}},
		{env: "MONGODB_URI", def: "mongodb://localhost:27017/events", usage: "MongoDB connection string (EVENTS_STORE=mongodb); the database is its path",
			parse: func(c *Config, v string) error { return mongoURI(&c.MongoDBURI, v) }},
		{env: "DATABASE_URL", usage: "PostgreSQL URL, postgres://user:password@host:5432/db (EVENTS_STORE=postgres)",
			parse: func(c *Config, v string) error { return postgresURL(&c.DatabaseURL, v) }},
		{env: "DATA_DIR", def: "./data", usage: "directory of the SQLite event store, events.db (EVENTS_STORE=sqlite), and of the queue of eventsd dev (redis/)",
			parse: func(c *Config, v string) error { return nonEmpty(&c.DataDir, v) }},
		{env: "EVENT_DATA_MAX_BYTES", def: strconv.Itoa(events.DefaultMaxDataBytes), usage: "largest event data the API takes, in bytes of compact JSON (at most 1048576)",
			parse: func(c *Config, v string) error { return intIn(&c.EventDataMaxBytes, v, 2, 1<<20) }},

		{env: "HOST", usage: "HTTP listen host or IP; empty listens on all interfaces",
			parse: func(c *Config, v string) error { return listenHost(&c.Host, v) }},
		{env: "PORT", def: "9000", usage: "HTTP port",
			parse: func(c *Config, v string) error { return intIn(&c.Port, v, 1, 65535) }},
		{env: "API_TOKEN", secret: true, usage: "bearer token for every /api route, reads and writes; empty with API_READ_TOKEN empty leaves the API open",
			parse: func(c *Config, v string) error { c.APIToken = v; return nil }},
		{env: "API_READ_TOKEN", secret: true, usage: "bearer token for GET and HEAD on /api routes only; setting it also closes reads to callers without a token",
			parse: func(c *Config, v string) error { return otherToken(&c.APIReadToken, v, c.APIToken, "API_TOKEN") }},
		{env: "METRICS_TOKEN", secret: true, usage: "bearer token /metrics requires; empty leaves /metrics open",
			parse: func(c *Config, v string) error { c.MetricsToken = v; return nil }},
		{env: "CORS_ALLOWED_ORIGINS", usage: "comma-separated origins (https://app.example.com) whose pages may call the API from a browser",
			parse: func(c *Config, v string) error { return origins(&c.CORSAllowedOrigins, v) }},
		{env: "SSE_MAX_STREAMS", def: "1000", usage: "concurrent /api/jobs/events streams this process serves; more are refused with 429",
			parse: func(c *Config, v string) error { return intIn(&c.SSEMaxStreams, v, 1, 1_000_000) }},

		{env: "EVENTS_STREAM_MAX_AGE", def: "30s", devDef: "15m", usage: "lifecycle events kept in Redis for SSE clients to resume from (Last-Event-ID) and the dashboard to replay: the last this long (1s to 24h), within EVENTS_STREAM_MAX_LEN",
			parse: func(c *Config, v string) error {
				return durationIn(&c.EventsStreamMaxAge, v, time.Second, 24*time.Hour)
			}},
		{env: "EVENTS_STREAM_MAX_LEN", def: "10000", usage: "at most about this many lifecycle stream entries (each a batch of up to 500 jobs' events) are kept, whatever EVENTS_STREAM_MAX_AGE says: the bound at very high rates",
			parse: func(c *Config, v string) error { return intIn(&c.EventsStreamMaxLen, v, 100, 10_000_000) }},
		{env: "PPROF_ADDR", usage: "loopback host:port (127.0.0.1:6060) serving Go's /debug/pprof/ profiles; empty serves none",
			parse: func(c *Config, v string) error { return loopbackAddr(&c.PprofAddr, v) }},

		{env: "WORKER_CONCURRENCY", def: "100", usage: "jobs a worker runs at once (the event writes of concurrent jobs share one insert)",
			parse: func(c *Config, v string) error { return intIn(&c.WorkerConcurrency, v, 1, 10000) }},
		{env: "JOB_LEASE", def: "15s", usage: "how long a running job stays leased without a heartbeat: a crashed worker's jobs run again about this long after it died",
			parse: func(c *Config, v string) error { return durationIn(&c.JobLease, v, 300*time.Millisecond, time.Hour) }},
		{env: "CRON_ENABLED", def: "true", isBool: true, usage: "run the CRON_* schedules (in a process with the scheduler role)",
			parse: func(c *Config, v string) error { return boolean(&c.CronEnabled, v) }},
		{env: "ROLES", def: "api,worker,scheduler", usage: "roles this process takes: a subset of api, worker, scheduler",
			parse: func(c *Config, v string) error { return roles(&c.Roles, v) }},
		{env: "QUEUE_PREFIX", def: "eventsd", usage: "prefix of every Redis key eventsd writes",
			parse: func(c *Config, v string) error { return keyPrefix(&c.QueuePrefix, v) }},

		// Schedules: a spec (see schedule.ParseSpec) or off. serve adds no
		// fake events unless asked; dev keeps the seed's every 2 s.
		{env: "CRON_MOCK_DATA", def: off, devDef: "*/2 * * * * *", usage: "when to add a process-mock-data job, or off",
			parse: func(c *Config, v string) error { return spec(&c.CronMockData, v) }},
		{env: "CRON_MONITOR", def: "*/10 * * * * *", usage: "when to log queue counts, or off",
			parse: func(c *Config, v string) error { return spec(&c.CronMonitor, v) }},
		{env: "CRON_ROLLUP", def: "0 * * * * *", usage: "when to add a rollup-events job, which stores per-minute event counts of the minutes just closed, or off",
			parse: func(c *Config, v string) error { return spec(&c.CronRollup, v) }},
		{env: "CRON_CLEANUP", def: "0 0 0 * * *", usage: "when to delete old jobs and events (midnight UTC), or off",
			parse: func(c *Config, v string) error { return spec(&c.CronCleanup, v) }},
		{env: "JOBS_RETENTION", def: "24h", usage: "completed and failed jobs older than this are deleted at cleanup",
			parse: func(c *Config, v string) error { return duration(&c.JobsRetention, v, false) }},
		{env: "KEEP_COMPLETED", def: "0", usage: "completed jobs kept for GET /api/jobs/{id}: 0 removes them at once, a count (100) keeps the newest, an age (1h) keeps them that long, all keeps every one",
			parse: func(c *Config, v string) error { return keep(&c.KeepCompleted, v) }},
		{env: "KEEP_FAILED", def: "all", usage: "failed jobs kept, as KEEP_COMPLETED: 0, a count, an age or all",
			parse: func(c *Config, v string) error { return keep(&c.KeepFailed, v) }},
		{env: "EVENTS_RETENTION", usage: "events older than this (e.g. 720h) are deleted at cleanup; empty keeps them",
			parse: func(c *Config, v string) error { return duration(&c.EventsRetention, v, true) }},

		{env: "WEBHOOK_RETRY_DELAYS", def: "5s,5m,30m,2h,5h,10h", usage: "comma-separated waits before each retry of a webhook delivery; each gets up to a fifth more at random",
			parse: func(c *Config, v string) error { return durations(&c.WebhookRetryDelays, v) }},
		{env: "WEBHOOK_CONCURRENCY", def: "20", usage: "webhook deliveries a worker sends at once, on their own queue: a slow receiver never holds up the event pipeline's jobs",
			parse: func(c *Config, v string) error { return intIn(&c.WebhookConcurrency, v, 1, 10000) }},
		{env: "WEBHOOK_DISABLE_AFTER", def: "20", usage: "disable a webhook subscription after this many deliveries in a row failed for good (or 5 days of failures)",
			parse: func(c *Config, v string) error { return intIn(&c.WebhookDisableAfter, v, 1, 1_000_000) }},
		{env: "WEBHOOKS_ALLOW_PRIVATE", def: "false", devDef: "true", isBool: true, usage: "let webhook subscriptions reach loopback, private and link-local addresses (local use and tests)",
			parse: func(c *Config, v string) error { return boolean(&c.WebhooksAllowPrivate, v) }},

		{env: "SHUTDOWN_TIMEOUT", def: "30s", usage: "how long running jobs may finish after SIGTERM; 0 hands them back to the queue at once",
			parse: func(c *Config, v string) error { return duration(&c.ShutdownTimeout, v, true) }},
		{env: "LOG_LEVEL", def: "info", usage: "debug, info, warn or error",
			parse: func(c *Config, v string) error { return logLevel(&c.LogLevel, v) }},
		{env: "LOG_FORMAT", def: "text", usage: "text or json",
			parse: func(c *Config, v string) error { return oneOf(&c.LogFormat, v, "text", "json") }},
	}
}

func nonEmpty(dst *string, v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	*dst = v
	return nil
}

func intIn(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("must be %d..%d", lo, hi)
	}
	*dst = n
	return nil
}

func boolean(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("must be true or false")
	}
	*dst = b
	return nil
}

// duration parses a Go duration such as 90s or 720h. With zeroOK, empty and
// zero mean zero; otherwise the duration must be positive.
func duration(dst *time.Duration, v string, zeroOK bool) error {
	if v == "" && zeroOK {
		*dst = 0
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return errors.New("not a duration; use Go's form, like 90s, 24h or 720h (there is no d unit)")
	case d < 0 && zeroOK:
		return errors.New("must not be negative")
	case d <= 0 && !zeroOK:
		return errors.New("must be more than 0")
	}
	*dst = d
	return nil
}

// keep parses a job retention: 0 (or none) removes jobs at once, all keeps
// every one, a whole number keeps that many of the newest, a duration keeps
// each that long after it ends.
func keep(dst *queue.Retention, v string) error {
	switch strings.ToLower(v) {
	case "0", "none":
		*dst = queue.Remove
		return nil
	case "all":
		*dst = queue.Keep
		return nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 10_000_000 {
			return errors.New("a count must be 0..10000000")
		}
		*dst = queue.KeepLast(n)
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return errors.New("must be 0, a count like 100, an age like 1h (Go's form: 90s, 24h; there is no d unit) or all")
	case d < time.Millisecond:
		return errors.New("an age must be at least 1ms")
	}
	*dst = queue.KeepFor(d)
	return nil
}

// durations parses a comma-separated list of positive durations, 1 to 20 of them.
func durations(dst *[]time.Duration, v string) error {
	var out []time.Duration
	for part := range strings.SplitSeq(v, ",") {
		var d time.Duration
		if err := duration(&d, strings.TrimSpace(part), false); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		return errors.New("at most 20 delays")
	}
	*dst = out
	return nil
}

func durationIn(dst *time.Duration, v string, lo, hi time.Duration) error {
	var d time.Duration
	if err := duration(&d, v, false); err != nil {
		return err
	}
	if d < lo || d > hi {
		return fmt.Errorf("must be %s to %s", lo, hi)
	}
	*dst = d
	return nil
}

func oneOf(dst *string, v string, allowed ...string) error {
	v = strings.ToLower(v)
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
	*dst = v
	return nil
}

func logLevel(dst *slog.Level, v string) error {
	var name string
	if err := oneOf(&name, v, "debug", "info", "warn", "error"); err != nil {
		return err
	}
	return dst.UnmarshalText([]byte(name))
}

// off switches a schedule off, in any case.
const off = "off"

// spec parses a schedule setting: a schedule spec, or off, which leaves dst
// empty.
func spec(dst *string, v string) error {
	switch {
	case strings.EqualFold(v, off):
		*dst = ""
		return nil
	case v == "":
		return errors.New("must be a schedule spec, or off")
	}
	if _, err := schedule.ParseSpec(v); err != nil {
		// ParseSpec's message repeats the spec, which the caller shows already.
		return fmt.Errorf("not a schedule: %w", cmp.Or(errors.Unwrap(err), err))
	}
	*dst = v
	return nil
}

func roles(dst *[]string, v string) error {
	var out []string
	for r := range strings.SplitSeq(v, ",") {
		r = strings.ToLower(strings.TrimSpace(r))
		switch r {
		case "":
			continue
		case RoleAPI, RoleWorker, RoleScheduler:
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		default:
			return fmt.Errorf("unknown role %q; roles are %s, %s and %s", r, RoleAPI, RoleWorker, RoleScheduler)
		}
	}
	if len(out) == 0 {
		return errors.New("name at least one role")
	}
	*dst = out
	return nil
}

// keyPrefix checks a Redis key prefix. Braces would make it a Redis Cluster
// hash tag and put every queue's keys in one slot, or split one queue's.
func keyPrefix(dst *string, v string) error {
	switch {
	case v == "":
		return errors.New("must not be empty")
	case strings.ContainsAny(v, "{} \t\r\n"):
		return errors.New("must not contain braces or spaces")
	}
	*dst = v
	return nil
}

// otherToken sets a token that must differ from another one already
// parsed: one token with two meanings is a mistake.
func otherToken(dst *string, v, other, otherName string) error {
	if v != "" && v == other {
		return fmt.Errorf("must differ from %s", otherName)
	}
	*dst = v
	return nil
}

// origins parses a list of browser origins, "scheme://host[:port]" as the
// Origin header carries them. Wildcards are refused: an API that takes
// writes from browsers should name the pages it trusts.
func origins(dst *[]string, v string) error {
	var out []string
	for o := range strings.SplitSeq(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		switch {
		case strings.Contains(o, "*"):
			return errors.New("list each origin; wildcards are not supported")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("%q is not an origin like https://app.example.com", redactURL(o))
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			return fmt.Errorf("%q: an origin is scheme://host[:port], with no path", redactURL(o))
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	*dst = out
	return nil
}

func addrs(dst *[]string, v string) error {
	var out []string
	for a := range strings.SplitSeq(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return fmt.Errorf("%q is not host:port", redactURL(a))
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port must be 1..65535", redactURL(a))
		}
		out = append(out, a)
	}
	*dst = out
	return nil
}

func listenHost(dst *string, v string) error {
	if strings.ContainsAny(v, " /[]") || (strings.Contains(v, ":") && net.ParseIP(v) == nil) {
		return errors.New("must be a host name or IP address without a port (the port is PORT)")
	}
	*dst = v
	return nil
}

// loopbackAddr checks a host:port whose host is a loopback address or
// localhost: profiles show a process's memory and must not be reachable from
// the network.
func loopbackAddr(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("must be host:port, e.g. 127.0.0.1:6060")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("port must be 0–65535")
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("host must be a loopback address (127.0.0.1, ::1 or localhost): profiles are not for the network")
	}
	*dst = v
	return nil
}

// postgresURL checks a PostgreSQL URL's form; pgx reads the rest (host
// lists, options) when the store opens.
func postgresURL(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		return errors.New("must start with postgres:// or postgresql://")
	}
	*dst = v
	return nil
}

func mongoURI(dst *string, v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "mongodb" && u.Scheme != "mongodb+srv":
		return errors.New("must start with mongodb:// or mongodb+srv://")
	case u.Host == "":
		return errors.New("has no host")
	}
	*dst = v
	return nil
}

// parseRedisURL parses a redis:// or rediss:// URL. It refuses unix:// and
// other schemes that eventsd's UniversalOptions cannot carry.
func parseRedisURL(v string) (*redis.Options, error) {
	if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
		return nil, errors.New("must start with redis:// or rediss:// (TLS)")
	}
	opt, err := redis.ParseURL(v)
	if err != nil {
		// A url.Error quotes the whole URL, password included; the caller
		// shows it redacted, so keep only the reason.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return nil, fmt.Errorf("not a Redis URL: %s", strings.TrimPrefix(err.Error(), "redis: "))
	}
	return opt, nil
}

// redactURL hides the password in a URL such as redis://user:pass@host, or
// //user:pass@host without a scheme. It leaves other strings as they are.
func redactURL(v string) string {
	pw, at, ok := urlPassword(v)
	if !ok {
		return v
	}
	return v[:at-len(pw)] + "xxxxx" + v[at:]
}

// urlPassword returns the password in v read as a URL, and the index of the
// '@' that ends it.
func urlPassword(v string) (pw string, at int, ok bool) {
	i := strings.Index(v, "//")
	if i < 0 {
		return "", 0, false
	}
	rest := v[i+2:]
	end := strings.LastIndex(rest, "@")
	if end < 0 {
		return "", 0, false
	}
	_, pw, ok = strings.Cut(rest[:end], ":")
	return pw, i + 2 + end, ok
}

// redactError is a setting's error with the password of the value it names
// hidden wherever the message quotes the value.
type redactError struct {
	msg string
	err error
}

func (e redactError) Error() string { return e.msg }
func (e redactError) Unwrap() error { return e.err }

// redactErr hides v's password, if v has one, in err's message: wherever
// the message quotes it as part of a URL (":<password>@"), as written or
// escaped by %q. The password alone is not replaced, since it may be a
// word of the message, such as part of the setting's name.
func redactErr(err error, v string) error {
	pw, _, ok := urlPassword(v)
	if !ok || pw == "" {
		return err
	}
	msg := err.Error()
	quoted := strconv.Quote(":" + pw + "@")
	for _, s := range []string{":" + pw + "@", quoted[1 : len(quoted)-1]} {
		// In any case: some settings quote their value lowercased. A
		// password that is not UTF-8 cannot be a pattern; it is matched as is.
		if re, err := regexp.Compile("(?i)" + regexp.QuoteMeta(s)); err == nil {
			msg = re.ReplaceAllLiteralString(msg, ":xxxxx@")
		} else {
			msg = strings.ReplaceAll(msg, s, ":xxxxx@")
		}
	}
	if msg == err.Error() {
		return err
	}
	return redactError{msg: msg, err: err}
}
