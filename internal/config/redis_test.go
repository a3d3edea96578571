package config

import (
	"context"
	"net"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		addrs       []string
		password    string
		db          int
		master      string
		tls         bool
		tlsName     string // the certificate name checked, if fixed
		wantCluster bool
	}{
		{name: "defaults", addrs: []string{"localhost:6379"}},
		{name: "host and port", env: map[string]string{"REDIS_HOST": "cache", "REDIS_PORT": "6380", "REDIS_PASSWORD": "pw", "REDIS_DB": "4"},
			addrs: []string{"cache:6380"}, password: "pw", db: 4},
		{name: "ipv6 host", env: map[string]string{"REDIS_HOST": "::1"}, addrs: []string{"[::1]:6379"}},
		{name: "url wins over host, port and db", env: map[string]string{
			"REDIS_URL": "redis://:urlpw@url-host:7000/5", "REDIS_HOST": "cache", "REDIS_PORT": "6380", "REDIS_DB": "4", "REDIS_PASSWORD": "pw"},
			addrs: []string{"url-host:7000"}, password: "urlpw", db: 5},
		{name: "url without password takes REDIS_PASSWORD", env: map[string]string{"REDIS_URL": "redis://url-host", "REDIS_PASSWORD": "pw"},
			addrs: []string{"url-host:6379"}, password: "pw"},
		{name: "rediss is TLS", env: map[string]string{"REDIS_URL": "rediss://cache.example.com:6380"},
			addrs: []string{"cache.example.com:6380"}, tls: true, tlsName: "cache.example.com"},
		{name: "REDIS_TLS", env: map[string]string{"REDIS_HOST": "cache", "REDIS_TLS": "true"},
			addrs: []string{"cache:6379"}, tls: true},
		{name: "sentinel", env: map[string]string{"REDIS_ADDRS": "s1:26379,s2:26379,s3:26379", "REDIS_SENTINEL_MASTER": "mymaster", "REDIS_DB": "1", "REDIS_PASSWORD": "pw"},
			addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, master: "mymaster", db: 1, password: "pw"},
		{name: "one sentinel", env: map[string]string{"REDIS_ADDRS": "s1:26379", "REDIS_SENTINEL_MASTER": "mymaster"},
			addrs: []string{"s1:26379"}, master: "mymaster"},
		{name: "cluster", env: map[string]string{"REDIS_ADDRS": "n1:7000,n2:7001,n3:7002", "REDIS_TLS": "1"},
			addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, tls: true, wantCluster: true},
		{name: "one address is one server", env: map[string]string{"REDIS_ADDRS": "n1:7000", "REDIS_HOST": "ignored"},
			addrs: []string{"n1:7000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(Serve, nil, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			opts, err := c.RedisOptions()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opts.Addrs, tt.addrs) || opts.Password != tt.password || opts.DB != tt.db || opts.MasterName != tt.master {
				t.Errorf("got addrs %v, password %q, db %d, master %q; want %v, %q, %d, %q",
					opts.Addrs, opts.Password, opts.DB, opts.MasterName, tt.addrs, tt.password, tt.db, tt.master)
			}
			if (opts.TLSConfig != nil) != tt.tls {
				t.Errorf("TLS = %v, want %v", opts.TLSConfig != nil, tt.tls)
			}
			if opts.TLSConfig != nil && opts.TLSConfig.ServerName != tt.tlsName {
				t.Errorf("TLS ServerName = %q, want %q", opts.TLSConfig.ServerName, tt.tlsName)
			}
			// NewUniversalClient dials lazily, so this shows which kind of
			// client the options make without a server.
			rdb := redis.NewUniversalClient(opts)
			defer rdb.Close()
			if _, isCluster := rdb.(*redis.ClusterClient); isCluster != tt.wantCluster {
				t.Errorf("client is %T, want cluster %v", rdb, tt.wantCluster)
			}
		})
	}
}

// TestRedisOptionsConnect dials the test Redis with the options Load builds,
// from REDIS_URL and from REDIS_HOST and REDIS_PORT.
func TestRedisOptionsConnect(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]map[string]string{
		"url":       {"REDIS_URL": r.URL},
		"host port": {"REDIS_HOST": host, "REDIS_PORT": port, "REDIS_DB": strconv.Itoa(opt.DB)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(Serve, nil, env(e))
			if err != nil {
				t.Fatal(err)
			}
			opts, err := c.RedisOptions()
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewUniversalClient(opts)
			defer rdb.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			key := r.Prefix + ":config:" + name
			if err := rdb.Set(ctx, key, "ok", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			// Read back through the test's own client: same server, same database.
			if got, err := r.Client.Get(ctx, key).Result(); err != nil || got != "ok" {
				t.Fatalf("Get = %q, %v", got, err)
			}
		})
	}
}
