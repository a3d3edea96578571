package schedule

import (
	"context"
	_ "embed"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed claim.lua
var claimLua string

var claimScript = redis.NewScript(claimLua)

// minClaimTTL is the shortest time a claim key lives. Slots repeat every
// interval, so a claim need only outlive the clock skew between processes and
// a slow claim; a minute covers both for a 2-second schedule, and longer
// schedules keep theirs for three intervals.
const minClaimTTL = time.Minute

// keys names the scheduler's Redis keys. They all carry the hash tag
// "{schedule}" after the prefix, so one script may touch several of them on
// Redis Cluster. The prefix must not contain braces.
type keys struct{ prefix string }

// lastRun is a hash of schedule name to the last claimed slot, unix ms.
func (k keys) lastRun() string { return k.prefix + ":{schedule}:last" }

// slot is the claim key of one slot of one schedule.
func (k keys) slot(name string, slot time.Time) string {
	return k.prefix + ":{schedule}:slot:" + name + ":" + strconv.FormatInt(slot.UnixMilli(), 10)
}

// claim claims slot for this process. It reports false if another process,
// or an earlier call, already did.
func (s *Scheduler) claim(ctx context.Context, e *entry, slot time.Time) (bool, error) {
	ttl := max(3*e.spec.interval(slot), minClaimTTL)
	n, err := claimScript.Run(ctx, s.rdb,
		[]string{s.keys.slot(e.name, slot), s.keys.lastRun()},
		e.name, slot.UnixMilli(), ttl.Milliseconds(), s.id,
	).Int()
	return n == 1, err
}

// lastRuns returns the last claimed slot of each named schedule; a schedule
// that never ran gets the zero time.
func (s *Scheduler) lastRuns(ctx context.Context, names ...string) ([]time.Time, error) {
	if len(names) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.keys.lastRun(), names...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, len(names))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			continue // not ours to fix; treat as never run
		}
		out[i] = time.UnixMilli(ms).In(s.cfg.Location)
	}
	return out, nil
}
