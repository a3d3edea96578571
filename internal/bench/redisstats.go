package bench

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// commandStats is a snapshot of Redis's INFO commandstats call counters.
type commandStats map[string]int64

// clientCommands are the commands eventsd's clients send themselves; every
// other command counted by Redis ran inside a script.
var clientCommands = map[string]bool{
	"evalsha": true, "eval": true, "evalsha_ro": true, "eval_ro": true,
	"blpop": true, "lpush": true, "del": true, "xread": true, "xrange": true, "xrevrange": true,
	"subscribe": true, "ping": true, "hello": true, "client|setinfo": true, "client": true,
}

// measurement commands the bench itself sends, left out of every count.
var ownCommands = map[string]bool{"info": true, "config|resetstat": true, "scan": true, "unlink": true}

func readCommandStats(ctx context.Context, rdb redis.UniversalClient) (commandStats, error) {
	txt, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		if strings.Contains(err.Error(), "not supported") {
			return nil, nil // miniredis: counts are reported as -1
		}
		return nil, err
	}
	s := commandStats{}
	for _, line := range strings.Split(txt, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		calls := strings.TrimPrefix(strings.Split(rest, ",")[0], "calls=")
		n, _ := strconv.ParseInt(calls, 10, 64)
		s[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return s, nil
}

// delta says how many commands ran between two snapshots: those clients
// sent (round trips, counting each pipelined command) and all of them,
// including the commands scripts ran.
func (after commandStats) delta(before commandStats) (sent, all int64) {
	if after == nil {
		return -1, -1
	}
	for name, n := range after {
		if ownCommands[name] {
			continue
		}
		d := n - before[name]
		all += d
		if clientCommands[name] {
			sent += d
		}
	}
	return sent, all
}

// redisCPU returns the server's used CPU seconds (user + system).
func redisCPU(ctx context.Context, rdb redis.UniversalClient) float64 {
	txt, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(txt, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}
