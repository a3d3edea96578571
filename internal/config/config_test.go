package config

import (
	"cmp"
	"errors"
	"flag"
	"github.com/eventsd/eventsd/internal/webhooks"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got, err := Load(Serve, nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Command:           Serve,
		RedisHost:         "localhost",
		RedisPort:         6379,
		DevRedis:          "auto",
		EventsStore:       "mongodb",
		MongoDBURI:        "mongodb://localhost:27017/events",
		DataDir:           "./data",
		EventDataMaxBytes: 64 << 10,
		Port:              9000,
		WorkerConcurrency: 100,
		JobLease:          15 * time.Second,
		CronEnabled:       true,
		Roles:             []string{"api", "worker", "scheduler"},
		QueuePrefix:       "eventsd",
		CronMockData:      "", // off: serve adds no fake events unless asked
		CronMonitor:       "*/10 * * * * *",
		CronRollup:        "0 * * * * *",
		CronCleanup:       "0 0 0 * * *",
		JobsRetention:     24 * time.Hour,
		KeepCompleted:     queue.Remove,
		KeepFailed:        queue.Keep,
		ShutdownTimeout:   30 * time.Second,
		LogLevel:          slog.LevelInfo,
		LogFormat:         "text",
		SSEMaxStreams:     1000,

		EventsStreamMaxAge:  30 * time.Second,
		EventsStreamMaxLen:  10_000,
		WebhookRetryDelays:  webhooks.DefaultRetryDelays,
		WebhookConcurrency:  20,
		WebhookDisableAfter: 20,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", got, want)
	}
	if got.ListenAddr() != ":9000" {
		t.Errorf("ListenAddr() = %q, want :9000", got.ListenAddr())
	}
	if _, err := Load(Serve, nil, nil); err != nil {
		t.Errorf("Load with a nil getenv: %v", err)
	}

	// dev differs in a few defaults: the seed's mock-data job every 2 s, and
	// 15 minutes of lifecycle events for the dashboard to replay.
	dev, err := Load(Dev, nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want.CronMockData = "*/2 * * * * *"
	want.Command, want.EventsStore = Dev, "sqlite"
	want.WebhooksAllowPrivate = true
	want.EventsStreamMaxAge = 15 * time.Minute
	if !reflect.DeepEqual(dev, want) {
		t.Errorf("dev defaults\n got %+v\nwant %+v", dev, want)
	}
}

// TestSchedulesOff checks that each schedule is switched off on its own by
// the value off, under serve and dev alike, and that an empty variable keeps
// the command's default.
func TestSchedulesOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		mock      string // want, serve and dev alike unless devMock is set
		devMock   string
		monitor   string
		eventRate string
		cleanup   string
	}{
		{name: "defaults", mock: "", devMock: "*/2 * * * * *",
			monitor: "*/10 * * * * *", eventRate: "0 * * * * *", cleanup: "0 0 0 * * *"},
		{name: "each off", env: map[string]string{"CRON_MOCK_DATA": "off", "CRON_MONITOR": "OFF", "CRON_ROLLUP": " Off "},
			args: []string{"--cron-cleanup=off"}},
		{name: "mock data asked for", env: map[string]string{"CRON_MOCK_DATA": "*/2 * * * * *", "CRON_CLEANUP": "off"},
			mock: "*/2 * * * * *", monitor: "*/10 * * * * *", eventRate: "0 * * * * *"},
		{name: "empty counts as unset", env: map[string]string{"CRON_MOCK_DATA": "", "CRON_MONITOR": ""},
			mock: "", devMock: "*/2 * * * * *", monitor: "*/10 * * * * *", eventRate: "0 * * * * *", cleanup: "0 0 0 * * *"},
		{name: "a flag switches one off", args: []string{"--cron-mock-data", "off"}, env: map[string]string{"CRON_MOCK_DATA": "@every 5s"},
			monitor: "*/10 * * * * *", eventRate: "0 * * * * *", cleanup: "0 0 0 * * *"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, dev := range []bool{false, true} {
				cmd, mock := Serve, tt.mock
				if dev {
					cmd = Dev
					mock = cmp.Or(tt.devMock, tt.mock)
				}
				c, err := Load(cmd, tt.args, env(tt.env))
				if err != nil {
					t.Fatalf("dev %v: %v", dev, err)
				}
				got := []string{c.CronMockData, c.CronMonitor, c.CronRollup, c.CronCleanup}
				if want := []string{mock, tt.monitor, tt.eventRate, tt.cleanup}; !slices.Equal(got, want) {
					t.Errorf("dev %v: mock data, monitor, rollup, cleanup = %q, want %q", dev, got, want)
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	defaults, err := Load(Serve, nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *Config) // applied to the defaults
	}{
		{"env", nil, map[string]string{
			"REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_PASSWORD": " s3cret ", "REDIS_DB": "2",
			"MONGODB_URI": "mongodb+srv://db.example.com/events", "DATA_DIR": "/var/lib/eventsd",
			"HOST": "127.0.0.1", "PORT": "8080", "API_TOKEN": "tok",
			"WORKER_CONCURRENCY": "50", "CRON_ENABLED": "false", "ROLES": "worker", "QUEUE_PREFIX": "prod",
			"CRON_MOCK_DATA": "@every 5s", "CRON_MONITOR": "*/30 * * * * *", "CRON_ROLLUP": "@hourly", "CRON_CLEANUP": "0 3 * * *",
			"JOBS_RETENTION": "168h", "EVENTS_RETENTION": "720h", "SHUTDOWN_TIMEOUT": "1m",
			"LOG_LEVEL": "debug", "LOG_FORMAT": "json",
		}, func(c *Config) {
			c.RedisHost, c.RedisPort, c.RedisPassword, c.RedisDB = "redis.internal", 6380, " s3cret ", 2
			c.MongoDBURI, c.DataDir = "mongodb+srv://db.example.com/events", "/var/lib/eventsd"
			c.Host, c.Port, c.APIToken = "127.0.0.1", 8080, "tok"
			c.WorkerConcurrency, c.CronEnabled, c.Roles, c.QueuePrefix = 50, false, []string{"worker"}, "prod"
			c.CronMockData, c.CronMonitor, c.CronRollup, c.CronCleanup = "@every 5s", "*/30 * * * * *", "@hourly", "0 3 * * *"
			c.JobsRetention, c.EventsRetention, c.ShutdownTimeout = 168*time.Hour, 720*time.Hour, time.Minute
			c.LogLevel, c.LogFormat = slog.LevelDebug, "json"
		}},
		{"flags", []string{"--port", "8081", "-host=::1", "--roles=api,scheduler", "--log-level=WARN", "--cron-mock-data", "*/5 * * * * *"}, nil,
			func(c *Config) {
				c.Port, c.Host, c.Roles, c.LogLevel, c.CronMockData = 8081, "::1", []string{"api", "scheduler"}, slog.LevelWarn, "*/5 * * * * *"
			}},
		{"flag wins over env", []string{"--port=8082", "--log-format=text"}, map[string]string{"PORT": "8080", "LOG_FORMAT": "json"},
			func(c *Config) { c.Port = 8082 }},
		{"a flag equal to the default still wins", []string{"--port=9000"}, map[string]string{"PORT": "8080"},
			func(c *Config) {}},
		{"stream bounds and profiles", nil, map[string]string{
			"EVENTS_STREAM_MAX_AGE": "2m", "EVENTS_STREAM_MAX_LEN": "500", "PPROF_ADDR": "127.0.0.1:6060",
		}, func(c *Config) {
			c.EventsStreamMaxAge, c.EventsStreamMaxLen, c.PprofAddr = 2*time.Minute, 500, "127.0.0.1:6060"
		}},
		{"profiles on localhost and ::1", []string{"--pprof-addr=localhost:0"}, nil,
			func(c *Config) { c.PprofAddr = "localhost:0" }},
		{"env wins over default", nil, map[string]string{"PORT": "8080"},
			func(c *Config) { c.Port = 8080 }},
		{"empty env counts as unset", nil, map[string]string{"PORT": "", "DATA_DIR": ""},
			func(c *Config) {}},
		{"bool flag alone means true", []string{"--cron-enabled"}, map[string]string{"CRON_ENABLED": "false"},
			func(c *Config) { c.CronEnabled = true }},
		{"bool flag set false", []string{"--cron-enabled=false", "--redis-tls"}, nil,
			func(c *Config) { c.CronEnabled, c.RedisTLS = false, true }},
		{"spaces around values", nil, map[string]string{"PORT": " 8080 ", "ROLES": " API , worker,api ,"},
			func(c *Config) { c.Port, c.Roles = 8080, []string{"api", "worker"} }},
		{"zero events retention keeps events", nil, map[string]string{"EVENTS_RETENTION": "0"},
			func(c *Config) {}},
		{"redis url", nil, map[string]string{"REDIS_URL": "rediss://:pw@cache.example.com:6380/3"},
			func(c *Config) { c.RedisURL = "rediss://:pw@cache.example.com:6380/3" }},
		{"sentinel", nil, map[string]string{"REDIS_ADDRS": "s1:26379, s2:26379", "REDIS_SENTINEL_MASTER": "mymaster"},
			func(c *Config) { c.RedisAddrs, c.RedisSentinelMaster = []string{"s1:26379", "s2:26379"}, "mymaster" }},
		{"the HTTP edge", nil, map[string]string{
			"API_TOKEN": "w", "API_READ_TOKEN": "r", "METRICS_TOKEN": "m", "SSE_MAX_STREAMS": "20",
			"CORS_ALLOWED_ORIGINS": "https://app.example.com, http://localhost:5173,,https://app.example.com",
		}, func(c *Config) {
			c.APIToken, c.APIReadToken, c.MetricsToken, c.SSEMaxStreams = "w", "r", "m", 20
			c.CORSAllowedOrigins = []string{"https://app.example.com", "http://localhost:5173"}
		}},
		{"keep a count of completed jobs, failed for an age", nil, map[string]string{"KEEP_COMPLETED": "100", "KEEP_FAILED": "1h"},
			func(c *Config) { c.KeepCompleted, c.KeepFailed = queue.KeepLast(100), queue.KeepFor(time.Hour) }},
		{"keep all completed jobs, no failed one", []string{"--keep-completed=ALL", "--keep-failed=none"}, nil,
			func(c *Config) { c.KeepCompleted, c.KeepFailed = queue.Keep, queue.Remove }},
		{"a read token alone makes a read-only API", nil, map[string]string{"API_READ_TOKEN": "r"},
			func(c *Config) { c.APIReadToken = "r" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := defaults
			want.Roles = append([]string(nil), defaults.Roles...)
			tt.want(&want)
			got, err := Load(Serve, tt.args, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the whole message
	}{
		{"port too big", nil, map[string]string{"PORT": "99999"}, "PORT=99999: must be 1..65535"},
		{"port not a number", nil, map[string]string{"PORT": "http"}, "PORT=http: must be 1..65535"},
		{"port from a flag", []string{"--port=0"}, map[string]string{"PORT": "8080"}, "--port=0: must be 1..65535"},
		{"redis port", nil, map[string]string{"REDIS_PORT": "0"}, "REDIS_PORT=0: must be 1..65535"},
		{"redis db", nil, map[string]string{"REDIS_DB": "-1"}, "REDIS_DB=-1: must be 0..1048576"},
		{"redis url without scheme", nil, map[string]string{"REDIS_URL": "localhost:6379"},
			"REDIS_URL=localhost:6379: must start with redis:// or rediss:// (TLS)"},
		{"redis url unix", nil, map[string]string{"REDIS_URL": "unix:///tmp/redis.sock"},
			"REDIS_URL=unix:///tmp/redis.sock: must start with redis:// or rediss:// (TLS)"},
		{"redis url bad port hides the password", nil, map[string]string{"REDIS_URL": "redis://app:hunter2@cache:63x79/0"},
			`REDIS_URL=redis://app:xxxxx@cache:63x79/0: not a Redis URL: invalid port ":63x79" after host`},
		{"redis url bad db", nil, map[string]string{"REDIS_URL": "redis://cache:6379/zero"},
			`REDIS_URL=redis://cache:6379/zero: not a Redis URL: invalid database number: "zero"`},
		{"redis addrs", nil, map[string]string{"REDIS_ADDRS": "a:7000,b"}, `REDIS_ADDRS=a:7000,b: "b" is not host:port`},
		{"redis addrs port", nil, map[string]string{"REDIS_ADDRS": "a:70000"}, `REDIS_ADDRS=a:70000: "a:70000": port must be 1..65535`},
		{"redis url with addrs", nil, map[string]string{"REDIS_URL": "redis://a:6379", "REDIS_ADDRS": "b:7000,c:7000"},
			"REDIS_URL is set with REDIS_ADDRS or REDIS_SENTINEL_MASTER: set REDIS_URL for one server, or the others for Sentinel or Cluster"},
		{"sentinel without addrs", nil, map[string]string{"REDIS_SENTINEL_MASTER": "mymaster"},
			"REDIS_SENTINEL_MASTER is set without REDIS_ADDRS, the Sentinels' host:port list"},
		{"cluster with a db", nil, map[string]string{"REDIS_ADDRS": "a:7000,b:7000", "REDIS_DB": "2"},
			"REDIS_DB=2: Redis Cluster (several REDIS_ADDRS) has only database 0"},
		{"redis tls", nil, map[string]string{"REDIS_TLS": "yes"}, "REDIS_TLS=yes: must be true or false"},
		{"mongodb scheme", nil, map[string]string{"MONGODB_URI": "http://localhost:27017"},
			"MONGODB_URI=http://localhost:27017: must start with mongodb:// or mongodb+srv://"},
		{"mongodb host", nil, map[string]string{"MONGODB_URI": "mongodb:///events"}, "MONGODB_URI=mongodb:///events: has no host"},
		{"mongodb password hidden", nil, map[string]string{"MONGODB_URI": "mongo://u:hunter2@db/events"},
			"MONGODB_URI=mongo://u:xxxxx@db/events: must start with mongodb:// or mongodb+srv://"},
		{"empty data dir", []string{"--data-dir="}, nil, `--data-dir="": must not be empty`},
		{"empty redis host", []string{"--redis-host", ""}, nil, `--redis-host="": must not be empty`},
		{"host with a port", nil, map[string]string{"HOST": "0.0.0.0:9000"},
			"HOST=0.0.0.0:9000: must be a host name or IP address without a port (the port is PORT)"},
		{"worker concurrency", nil, map[string]string{"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY=0: must be 1..10000"},
		{"cron enabled", nil, map[string]string{"CRON_ENABLED": "maybe"}, "CRON_ENABLED=maybe: must be true or false"},
		{"unknown role", nil, map[string]string{"ROLES": "api,cook"},
			`ROLES=api,cook: unknown role "cook"; roles are api, worker and scheduler`},
		{"no role", nil, map[string]string{"ROLES": ","}, "ROLES=,: name at least one role"},
		{"queue prefix braces", nil, map[string]string{"QUEUE_PREFIX": "{q}"}, "QUEUE_PREFIX={q}: must not contain braces or spaces"},
		{"cron step zero", nil, map[string]string{"CRON_MONITOR": "*/0 * * * * *"},
			`CRON_MONITOR="*/0 * * * * *": not a schedule: second field "*/0": step of range should be a positive number: */0`},
		{"profiles on the network", nil, map[string]string{"PPROF_ADDR": "0.0.0.0:6060"},
			"PPROF_ADDR=0.0.0.0:6060: host must be a loopback address (127.0.0.1, ::1 or localhost): profiles are not for the network"},
		{"profiles without a port", nil, map[string]string{"PPROF_ADDR": "127.0.0.1"},
			"PPROF_ADDR=127.0.0.1: must be host:port, e.g. 127.0.0.1:6060"},
		{"stream age too short", nil, map[string]string{"EVENTS_STREAM_MAX_AGE": "100ms"},
			"EVENTS_STREAM_MAX_AGE=100ms: must be 1s to 24h0m0s"},
		{"lease too short", nil, map[string]string{"JOB_LEASE": "100ms"}, `JOB_LEASE=100ms: must be 300ms to 1h0m0s`},
		{"cron step out of range", nil, map[string]string{"CRON_MONITOR": "*/61 * * * * *"},
			`CRON_MONITOR="*/61 * * * * *": not a schedule: second field "*/61": step 61 is larger than the 60 values of 0-59`},
		{"empty cron flag", []string{"--cron-monitor="}, nil, `--cron-monitor="": must be a schedule spec, or off`},
		{"cron descriptor", nil, map[string]string{"CRON_CLEANUP": "@sometimes"},
			"CRON_CLEANUP=@sometimes: not a schedule: unrecognized descriptor: @sometimes"},
		{"cron no such day", []string{"--cron-rollup", "0 0 0 30 2 *"}, nil,
			`--cron-rollup="0 0 0 30 2 *": not a schedule: day of month field "30": February has no such day (month field "2")`},
		{"keep a negative count", nil, map[string]string{"KEEP_COMPLETED": "-1"}, "KEEP_COMPLETED=-1: a count must be 0..10000000"},
		{"keep days", nil, map[string]string{"KEEP_FAILED": "7d"},
			"KEEP_FAILED=7d: must be 0, a count like 100, an age like 1h (Go's form: 90s, 24h; there is no d unit) or all"},
		{"keep no time", nil, map[string]string{"KEEP_COMPLETED": "0s"}, "KEEP_COMPLETED=0s: an age must be at least 1ms"},
		{"days are not a duration", nil, map[string]string{"JOBS_RETENTION": "30d"},
			"JOBS_RETENTION=30d: not a duration; use Go's form, like 90s, 24h or 720h (there is no d unit)"},
		{"zero jobs retention", nil, map[string]string{"JOBS_RETENTION": "0s"}, "JOBS_RETENTION=0s: must be more than 0"},
		{"negative events retention", nil, map[string]string{"EVENTS_RETENTION": "-1h"}, "EVENTS_RETENTION=-1h: must not be negative"},
		{"shutdown timeout", nil, map[string]string{"SHUTDOWN_TIMEOUT": "soon"},
			"SHUTDOWN_TIMEOUT=soon: not a duration; use Go's form, like 90s, 24h or 720h (there is no d unit)"},
		{"read token equal to the write token", nil, map[string]string{"API_TOKEN": "hunter2", "API_READ_TOKEN": "hunter2"},
			"API_READ_TOKEN=(hidden): must differ from API_TOKEN"},
		{"cors wildcard", nil, map[string]string{"CORS_ALLOWED_ORIGINS": "*"}, "CORS_ALLOWED_ORIGINS=*: list each origin; wildcards are not supported"},
		{"cors wildcard subdomain", nil, map[string]string{"CORS_ALLOWED_ORIGINS": "https://*.example.com"},
			"CORS_ALLOWED_ORIGINS=https://*.example.com: list each origin; wildcards are not supported"},
		{"cors origin with a path", nil, map[string]string{"CORS_ALLOWED_ORIGINS": "https://a.example/app"},
			`CORS_ALLOWED_ORIGINS=https://a.example/app: "https://a.example/app": an origin is scheme://host[:port], with no path`},
		{"cors origin without scheme", nil, map[string]string{"CORS_ALLOWED_ORIGINS": "a.example"},
			`CORS_ALLOWED_ORIGINS=a.example: "a.example" is not an origin like https://app.example.com`},
		{"sse cap", nil, map[string]string{"SSE_MAX_STREAMS": "0"}, "SSE_MAX_STREAMS=0: must be 1..1000000"},
		{"log level", nil, map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL=verbose: must be one of debug, info, warn, error"},
		{"log format", nil, map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT=xml: must be one of text, json"},
		{"unknown flag", []string{"--prot=1"}, nil, "flag provided but not defined: -prot (eventsd help lists the settings)"},
		{"flag without value", []string{"--port"}, nil, "flag needs an argument: -port (eventsd help lists the settings)"},
		{"positional argument", []string{"--port=1", "extra"}, nil, `unexpected argument "extra" (eventsd help lists the settings)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(Serve, tt.args, env(tt.env))
			if err == nil {
				t.Fatalf("Load: nil error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Load error\n got %q\nwant %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a password: %q", err)
			}
		})
	}

	t.Run("secrets are not echoed", func(t *testing.T) {
		t.Parallel()
		s := setting{env: "API_TOKEN", secret: true}
		if got := s.show("hunter2"); got != "(hidden)" {
			t.Errorf("show = %q", got)
		}
	})
	t.Run("help", func(t *testing.T) {
		t.Parallel()
		for _, arg := range []string{"-h", "--help"} {
			if _, err := Load(Serve, []string{arg}, nil); !errors.Is(err, flag.ErrHelp) {
				t.Errorf("Load(%s): %v, want flag.ErrHelp", arg, err)
			}
		}
	})
}

func TestWebhookRetryDelays(t *testing.T) {
	t.Parallel()
	c, err := Load(Serve, nil, env(map[string]string{"WEBHOOK_RETRY_DELAYS": "200ms, 1s,3m"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{200 * time.Millisecond, time.Second, 3 * time.Minute}; !reflect.DeepEqual(c.WebhookRetryDelays, want) {
		t.Fatalf("WebhookRetryDelays = %v; want %v", c.WebhookRetryDelays, want)
	}
	for _, bad := range []string{"5s,", "5s,x", "0s", "-1s", "1d"} {
		if _, err := Load(Serve, nil, env(map[string]string{"WEBHOOK_RETRY_DELAYS": bad})); err == nil ||
			!strings.Contains(err.Error(), "WEBHOOK_RETRY_DELAYS") {
			t.Errorf("WEBHOOK_RETRY_DELAYS=%q: err = %v; want an error naming the setting", bad, err)
		}
	}
}

func TestRenamedSettingRefused(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CRON_EVENT_RATE": "0 * * * * *"}
	_, err := Load(Dev, nil, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "CRON_EVENT_RATE is now CRON_ROLLUP") {
		t.Fatalf("Load with CRON_EVENT_RATE: err = %v; want one naming CRON_ROLLUP", err)
	}
}
