package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// newPrefix returns a key prefix no other run uses, so that a benchmark
// never touches keys it did not create.
func newPrefix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "eventsd-bench-" + hex.EncodeToString(b)
}

// deleteKeys removes the keys under prefix: the bench's own. On Redis
// Cluster it scans every master, since SCAN sees one node's keys.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			deleteScanned(ctx, node, prefix)
			return nil
		})
		return
	}
	deleteScanned(ctx, rdb, prefix)
}

// deleteScanned unlinks keys one per command, pipelined: a Redis Cluster
// node refuses a multi-key command over several hash slots.
func deleteScanned(ctx context.Context, rdb redis.Cmdable, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	pipe := rdb.Pipeline()
	for iter.Next(ctx) {
		pipe.Unlink(ctx, iter.Val())
		if pipe.Len() == 500 {
			pipe.Exec(ctx)
		}
	}
	if pipe.Len() > 0 {
		pipe.Exec(ctx)
	}
}

// RedisServer names the server rdb talks to, as "Redis 7.0.15", for the
// report. A server that answers no INFO (miniredis) is "unknown".
func RedisServer(ctx context.Context, rdb redis.UniversalClient) string {
	txt, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(txt, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return "Redis " + v
		}
	}
	return "unknown"
}
