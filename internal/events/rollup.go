package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// MinuteCount is how many events of one name were created in one minute.
type MinuteCount struct {
	// Minute is the minute's start, UTC.
	Minute time.Time
	Name   string
	Count  int64
}

// CountQuery selects stored per-minute counts.
type CountQuery struct {
	// From and To keep counts of minutes that start at From or later and
	// before To; zero is open.
	From, To time.Time
	// Name keeps only counts of exactly this name, when set.
	Name string
	// Limit caps the counts returned, 1 to MaxCounts; 0 means MaxCounts.
	Limit int
}

// MaxCounts bounds the counts one MinuteCounts call returns.
const MaxCounts = 100_000

// ErrTooManyCounts is a CountQuery whose Limit is outside 0..MaxCounts.
var ErrTooManyCounts = errors.New("invalid count limit: want 1 to 100000, or 0 for the default")

// Rollups is the part of a Store that keeps per-minute counts of events:
// results computed from the events once, so that reading them scans no
// events.
type Rollups interface {
	// RollUp recomputes, from the events, the count of each name in each
	// given minute (a time stands for the minute that holds it) and replaces
	// the minute's stored counts with them: a name without events in the
	// minute keeps no count. Recomputing a minute again stores the same
	// counts, however often and however concurrently it runs.
	RollUp(ctx context.Context, minutes []time.Time) error
	// MinuteCounts returns the stored counts q selects, by minute then name.
	// A Limit outside 0..MaxCounts is ErrTooManyCounts.
	MinuteCounts(ctx context.Context, q CountQuery) ([]MinuteCount, error)
}

// Minutes returns the distinct minutes (their starts, UTC) that hold the
// given times, oldest first.
func Minutes(times []time.Time) []time.Time {
	out := make([]time.Time, 0, len(times))
	for _, t := range times {
		out = append(out, t.UTC().Truncate(time.Minute))
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// rollupLookback is how many closed minutes each rollup-events job
// recomputes: the minute that just closed and the one before, whose late
// writes (an event stamped 12:00:59.9 whose batch commits after 12:01) the
// first pass may have missed. Writers bound the lag: storeTimeout.
const rollupLookback = 2

// RollupJob is the data of a rollup-events job: the slot it was added for.
// The job recomputes the rollupLookback minutes before the slot's minute.
type RollupJob struct {
	Slot time.Time `json:"slot"`
}

// RollupResult is what a completed rollup-events job keeps.
type RollupResult struct {
	Minutes []time.Time `json:"minutes"`
}

// AddRollup adds the rollup-events job of one schedule slot; its id comes
// from the slot, so however many instances fire the slot, one job exists.
func (p *Producer) AddRollup(ctx context.Context, slot time.Time) (*queue.Job, error) {
	opts := p.options(RollupJobName)
	opts.ID = "rollup-" + strconv.FormatInt(slot.UnixMilli(), 10)
	data, err := json.Marshal(RollupJob{Slot: slot.UTC()})
	if err != nil {
		return nil, err
	}
	return p.q.Add(ctx, RollupJobName, data, opts)
}

// Roller keeps per-minute counts up to date: it runs rollup-events jobs,
// which recompute the minutes that just closed, and is told of writes into
// minutes that had closed already (an import of past events), which it
// recomputes at once.
type Roller struct {
	store Rollups
	now   func() time.Time
}

// NewRoller returns a Roller over store. now is the clock; nil means
// time.Now.
func NewRoller(store Rollups, now func() time.Time) *Roller {
	if now == nil {
		now = time.Now
	}
	return &Roller{store: store, now: now}
}

// ProcessJob runs a rollup-events job.
func (r *Roller) ProcessJob(ctx context.Context, job *queue.Job) (any, error) {
	var d RollupJob
	if err := json.Unmarshal(job.Data, &d); err != nil || d.Slot.IsZero() {
		return nil, queue.SkipRetry(fmt.Errorf("malformed rollup data %q: want {\"slot\": <RFC 3339 time>}", job.Data))
	}
	end := d.Slot.UTC().Truncate(time.Minute)
	minutes := make([]time.Time, rollupLookback)
	for i := range minutes {
		minutes[i] = end.Add(time.Duration(i-rollupLookback) * time.Minute)
	}
	if err := r.store.RollUp(ctx, minutes); err != nil {
		return nil, fmt.Errorf("roll up: %w", err)
	}
	return RollupResult{Minutes: minutes}, nil
}

// Touched recomputes the counts of the closed minutes among those of es,
// events just written or deleted. Minutes still open are left to the
// rollup-events job that runs when they close: it reads after this write.
func (r *Roller) Touched(ctx context.Context, es []Event) error {
	open := r.now().UTC().Truncate(time.Minute)
	times := make([]time.Time, 0, len(es))
	for _, e := range es {
		if e.CreatedAt.Before(open) {
			times = append(times, e.CreatedAt)
		}
	}
	if len(times) == 0 {
		return nil
	}
	if err := r.store.RollUp(ctx, Minutes(times)); err != nil {
		return fmt.Errorf("roll up closed minutes: %w", err)
	}
	return nil
}
