package config

import (
	"strings"
	"testing"
)

func TestEventsStore(t *testing.T) {
	t.Parallel()
	const pg = "postgres://eventsd:hunter2@db:5432/events"
	for _, tc := range []struct {
		name  string
		cmd   Command
		args  []string
		env   map[string]string
		store string
	}{
		{"serve defaults to mongodb", Serve, nil, nil, StoreMongoDB},
		{"dev defaults to sqlite", Dev, nil, nil, StoreSQLite},
		{"serve with a MONGODB_URI", Serve, nil, map[string]string{"MONGODB_URI": "mongodb://m/events"}, StoreMongoDB},
		{"serve on postgres", Serve, nil, map[string]string{"EVENTS_STORE": "postgres", "DATABASE_URL": pg}, StorePostgres},
		{"serve on sqlite", Serve, nil, map[string]string{"EVENTS_STORE": "SQLite", "DATA_DIR": "/var/lib/eventsd"}, StoreSQLite},
		{"dev on postgres, by flags", Dev, []string{"--events-store", "postgres", "--database-url", pg}, nil, StorePostgres},
		{"dev on mongodb", Dev, nil, map[string]string{"EVENTS_STORE": "mongodb", "MONGODB_URI": "mongodb://m/events"}, StoreMongoDB},
		{"the chosen store decides; other URLs are unused", Serve, nil,
			map[string]string{"EVENTS_STORE": "sqlite", "DATABASE_URL": pg, "MONGODB_URI": "mongodb://m/events"}, StoreSQLite},
		{"a flag wins over the variable", Serve, []string{"--events-store=sqlite"}, map[string]string{"EVENTS_STORE": "postgres"}, StoreSQLite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(tc.cmd, tc.args, env(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.EventsStore != tc.store || c.Command != tc.cmd {
				t.Fatalf("EventsStore %q, Command %q; want %q, %q", c.EventsStore, c.Command, tc.store, tc.cmd)
			}
		})
	}
}

func TestBadCombinations(t *testing.T) {
	t.Parallel()
	const pg = "postgres://eventsd:hunter2@db:5432/events"
	for _, tc := range []struct {
		name string
		cmd  Command
		args []string
		env  map[string]string
		want string // the whole message
	}{
		{"postgres without a URL", Serve, nil, map[string]string{"EVENTS_STORE": "postgres"},
			"EVENTS_STORE=postgres needs DATABASE_URL, a postgres:// URL of the database to keep events in"},
		{"postgres by flag without a URL", Dev, []string{"--events-store=postgres"}, nil,
			"--events-store=postgres needs DATABASE_URL, a postgres:// URL of the database to keep events in"},
		{"DATABASE_URL alone in serve", Serve, nil, map[string]string{"DATABASE_URL": pg},
			"DATABASE_URL is set but EVENTS_STORE is not, and eventsd serve keeps events in mongodb by default: set EVENTS_STORE=postgres to keep them where DATABASE_URL says, or unset DATABASE_URL"},
		{"MONGODB_URI alone in dev", Dev, nil, map[string]string{"MONGODB_URI": "mongodb://m/events"},
			"MONGODB_URI is set but EVENTS_STORE is not, and eventsd dev keeps events in sqlite by default: set EVENTS_STORE=mongodb to keep them where MONGODB_URI says, or unset MONGODB_URI"},
		{"--database-url alone in dev", Dev, []string{"--database-url", pg}, nil,
			"--database-url is set but EVENTS_STORE is not, and eventsd dev keeps events in sqlite by default: set EVENTS_STORE=postgres to keep them where --database-url says, or unset --database-url"},
		{"unknown store", Serve, nil, map[string]string{"EVENTS_STORE": "mysql"},
			"EVENTS_STORE=mysql: must be one of mongodb, postgres, sqlite"},
		{"not a postgres URL", Serve, nil, map[string]string{"EVENTS_STORE": "postgres", "DATABASE_URL": "mysql://u:hunter2@db/events"},
			"DATABASE_URL=mysql://u:xxxxx@db/events: must start with postgres:// or postgresql://"},
		{"data limit", Serve, nil, map[string]string{"EVENT_DATA_MAX_BYTES": "2MiB"}, "EVENT_DATA_MAX_BYTES=2MiB: must be 2..1048576"},
		{"dev with REDIS_HOST", Dev, nil, map[string]string{"REDIS_HOST": "cache"},
			"REDIS_HOST is set without REDIS_URL, and eventsd dev runs its own Redis unless REDIS_URL names a server: set REDIS_URL (e.g. redis://localhost:6379/0), or unset REDIS_HOST"},
		{"dev with REDIS_ADDRS and REDIS_URL", Dev, nil, map[string]string{"REDIS_URL": "redis://a:6379", "REDIS_ADDRS": "b:7000"},
			"REDIS_URL is set with REDIS_ADDRS or REDIS_SENTINEL_MASTER: set REDIS_URL for one server, or the others for Sentinel or Cluster"},
		{"dev with REDIS_DB and REDIS_URL", Dev, []string{"--redis-db=3"}, map[string]string{"REDIS_URL": "redis://a:6379/1"},
			"--redis-db is set with REDIS_URL, and eventsd dev connects only to the one server REDIS_URL names: unset --redis-db, or use eventsd serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.cmd, tc.args, env(tc.env))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Load error\n got %v\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a password: %q", err)
			}
		})
	}
}

func TestInProcessRedis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd  Command
		env  map[string]string
		want bool
	}{
		{Dev, nil, true},
		{Dev, map[string]string{"REDIS_URL": "redis://localhost:6379/2", "REDIS_PASSWORD": "pw"}, false},
		{Serve, nil, false},
	} {
		c, err := Load(tc.cmd, nil, env(tc.env))
		if err != nil {
			t.Fatal(err)
		}
		if c.InProcessRedis() != tc.want {
			t.Errorf("%s with %v: InProcessRedis() = %v; want %v", tc.cmd, tc.env, !tc.want, tc.want)
		}
	}
	if _, err := Load("bench", nil, nil); err == nil {
		t.Error("Load of an unknown command succeeded")
	}
}
