package schedule

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Func is the work a schedule does. It receives the slot it fires for, the
// scheduled time and not the time it happens to run, so that it can derive
// idempotent ids from it. An error is logged; a panic is recovered and logged.
// Either way the schedule keeps running.
type Func func(ctx context.Context, slot time.Time) error

// Config tunes a Scheduler. Its zero value means the defaults.
type Config struct {
	// Prefix starts every Redis key the scheduler writes. Processes that
	// should share slots must share it. Default "eventsd". It must not contain
	// braces, which Redis Cluster reads as a hash tag.
	Prefix string
	// Clock is the source of time. Default: the system clock.
	Clock Clock
	// Logger receives the scheduler's logs. Default: slog.Default().
	Logger *slog.Logger
	// Location is the time zone cron fields are read in, unless a spec names
	// its own. Default UTC.
	Location *time.Location
}

// ErrRunning is returned by Add once Run has started, and by a second
// concurrent Run.
var ErrRunning = errors.New("schedule: scheduler is running")

// Scheduler fires named schedules, each slot once among all Schedulers that
// share its Redis and Prefix. Add schedules, then Run.
type Scheduler struct {
	rdb  redis.UniversalClient
	cfg  Config
	keys keys
	// id names this Scheduler in its claim keys: the host and process for
	// whoever debugs them, and a random tag, unique to this Scheduler, by
	// which a retried claim knows its own (a restarted container can have
	// its predecessor's host name and pid).
	id string

	mu      sync.Mutex
	entries []*entry
	running bool
}

type entry struct {
	name string
	spec Spec
	fn   Func
	opts options

	// failing is set while claims fail, so an outage logs once at error
	// level and once when it ends. Only the entry's loop touches it.
	failing bool
}

// New returns a Scheduler that claims slots in rdb.
func New(rdb redis.UniversalClient, cfg Config) *Scheduler {
	cfg.Prefix = cmp.Or(cfg.Prefix, "eventsd")
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.Location = cmp.Or(cfg.Location, time.UTC)
	host, _ := os.Hostname()
	return &Scheduler{
		rdb:  rdb,
		cfg:  cfg,
		keys: keys{prefix: cfg.Prefix},
		id:   cmp.Or(host, "unknown") + ":" + strconv.Itoa(os.Getpid()) + ":" + rand.Text()[:8],
	}
}

// Add registers a schedule. The name identifies it across processes: every
// process that adds the same name with the same spec shares its slots. Add
// fails for an empty or duplicate name, a bad spec, a negative option, or
// once Run has started.
func (s *Scheduler) Add(name, spec string, fn Func, opts ...Option) error {
	if name == "" {
		return errors.New("schedule: empty name")
	}
	parsed, err := ParseSpec(spec)
	if err != nil {
		return fmt.Errorf("schedule %q: %w", name, err)
	}
	if fn == nil {
		return fmt.Errorf("schedule %q: nil Func", name)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.catchUp < 0 {
		return fmt.Errorf("schedule %q: CatchUp(%d): must be 0 or more", name, o.catchUp)
	}
	if o.timeout < 0 {
		return fmt.Errorf("schedule %q: Timeout(%s): must be 0 or more", name, o.timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return fmt.Errorf("schedule %q: %w", name, ErrRunning)
	}
	for _, e := range s.entries {
		if e.name == name {
			return fmt.Errorf("schedule %q: already added", name)
		}
	}
	s.entries = append(s.entries, &entry{name: name, spec: parsed, fn: fn, opts: o})
	return nil
}

// List describes every schedule added to s, in the order added. LastRun is
// the last slot claimed by any process, read from Redis; NextRun is the next
// slot after now.
func (s *Scheduler) List(ctx context.Context) ([]Info, error) {
	s.mu.Lock()
	entries := append([]*entry(nil), s.entries...)
	s.mu.Unlock()
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	last, err := s.lastRuns(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("schedule: list last runs: %w", err)
	}
	now := s.cfg.Clock.Now().In(s.cfg.Location)
	infos := make([]Info, len(entries))
	for i, e := range entries {
		infos[i] = Info{Name: e.name, Spec: e.spec.String(), LastRun: last[i], NextRun: e.spec.Next(now)}
	}
	return infos, nil
}
