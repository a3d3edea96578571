package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// RedisOptions returns the options for redis.NewUniversalClient, which picks
// the client kind from them:
//
//   - REDIS_URL set: one server at the URL, with TLS for rediss://. The URL's
//     host, port and database win over REDIS_HOST, REDIS_PORT and REDIS_DB;
//     REDIS_PASSWORD serves if the URL has no password.
//   - REDIS_ADDRS with REDIS_SENTINEL_MASTER: the master that the Sentinels
//     at REDIS_ADDRS name.
//   - REDIS_ADDRS with two or more addresses: a Redis Cluster seeded by them.
//   - otherwise one server at REDIS_HOST:REDIS_PORT (or the one REDIS_ADDRS).
//
// REDIS_TLS turns on TLS for the last three. RedisOptions fails for settings
// that contradict each other, such as REDIS_URL with REDIS_ADDRS.
func (c Config) RedisOptions() (*redis.UniversalOptions, error) {
	if c.RedisURL != "" {
		if len(c.RedisAddrs) > 0 || c.RedisSentinelMaster != "" {
			return nil, errors.New("REDIS_URL is set with REDIS_ADDRS or REDIS_SENTINEL_MASTER: set REDIS_URL for one server, or the others for Sentinel or Cluster")
		}
		opt, err := parseRedisURL(c.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL=%s: %w", Redact(c.RedisURL), err)
		}
		if opt.Password == "" {
			opt.Password = c.RedisPassword
		}
		return &redis.UniversalOptions{
			Addrs:           []string{opt.Addr},
			ClientName:      opt.ClientName,
			DB:              opt.DB,
			Protocol:        opt.Protocol,
			Username:        opt.Username,
			Password:        opt.Password,
			MaxRetries:      opt.MaxRetries,
			MinRetryBackoff: opt.MinRetryBackoff,
			MaxRetryBackoff: opt.MaxRetryBackoff,
			DialTimeout:     opt.DialTimeout,
			ReadTimeout:     opt.ReadTimeout,
			WriteTimeout:    opt.WriteTimeout,
			PoolFIFO:        opt.PoolFIFO,
			PoolSize:        opt.PoolSize,
			PoolTimeout:     opt.PoolTimeout,
			MinIdleConns:    opt.MinIdleConns,
			MaxIdleConns:    opt.MaxIdleConns,
			MaxActiveConns:  opt.MaxActiveConns,
			ConnMaxIdleTime: opt.ConnMaxIdleTime,
			ConnMaxLifetime: opt.ConnMaxLifetime,
			TLSConfig:       opt.TLSConfig,
		}, nil
	}

	opts := &redis.UniversalOptions{Password: c.RedisPassword, DB: c.RedisDB}
	if c.RedisTLS {
		// No ServerName: each connection checks the certificate against the
		// host it dialled, which is what Cluster nodes and Sentinel masters need.
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case c.RedisSentinelMaster != "":
		if len(c.RedisAddrs) == 0 {
			return nil, errors.New("REDIS_SENTINEL_MASTER is set without REDIS_ADDRS, the Sentinels' host:port list")
		}
		opts.MasterName = c.RedisSentinelMaster
		opts.Addrs = c.RedisAddrs
	case len(c.RedisAddrs) > 1:
		if c.RedisDB != 0 {
			return nil, fmt.Errorf("REDIS_DB=%d: Redis Cluster (several REDIS_ADDRS) has only database 0", c.RedisDB)
		}
		opts.Addrs = c.RedisAddrs
	case len(c.RedisAddrs) == 1:
		opts.Addrs = c.RedisAddrs
	default:
		opts.Addrs = []string{net.JoinHostPort(c.RedisHost, strconv.Itoa(c.RedisPort))}
	}
	return opts, nil
}
