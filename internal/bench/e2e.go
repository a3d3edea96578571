package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// E2EOptions says what the end-to-end benchmark does. Zero values mean defaults.
type E2EOptions struct {
	Jobs        int           // mock-data jobs added, then processed (default 20,000)
	Concurrency int           // worker concurrency (default 100)
	Steady      time.Duration // how long latency is measured at a steady rate (default 3 s)
	// Rate is the steady phase's jobs per second (default half the measured
	// events/s, at most 5,000).
	Rate float64
	// Store names the store in the result: "sqlite", "postgres" or "mongodb".
	Store string
	// Logger hears the worker's warnings (default: discard).
	Logger *slog.Logger
	// Progress, when set, hears how each phase advances (done of total).
	Progress func(phase string, done, total int)
}

// E2EResult holds every figure the end-to-end benchmark measures.
type E2EResult struct {
	Kind        string `json:"kind"` // "e2e"
	Redis       string `json:"redis"`
	Store       string `json:"store"`
	Jobs        int    `json:"jobs"`
	Concurrency int    `json:"concurrency"`

	// AddPerSec is the producer's rate, adding jobs 1,000 per call.
	AddPerSec float64 `json:"addPerSec"`
	// EventsPerSec is how fast a backlog of Jobs jobs became stored events:
	// from the worker's start until the last event's write returned.
	EventsPerSec float64 `json:"eventsPerSec"`
	// StoreWrites is how many CreateMany calls that took, and
	// EventsPerWrite their mean size: what batching achieved.
	StoreWrites    int     `json:"storeWrites"`
	EventsPerWrite float64 `json:"eventsPerWrite"`

	// End to end at a steady rate, one job per add: from the add call until
	// the write of the job's event returned.
	E2ERatePerSec float64 `json:"e2eRatePerSec"`
	E2EP50Ms      float64 `json:"e2eP50Ms"`
	E2EP90Ms      float64 `json:"e2eP90Ms"`
	E2EP99Ms      float64 `json:"e2eP99Ms"`
	E2EMaxMs      float64 `json:"e2eMaxMs"`

	// The correctness check, read back from the store after the run: every
	// job the run added has exactly one event, and the store holds no other.
	JobsAdded        int   `json:"jobsAdded"`
	EventsFound      int64 `json:"eventsFound"`
	MissingEvents    int   `json:"missingEvents"`
	DuplicateEvents  int   `json:"duplicateEvents"`
	UnexpectedEvents int   `json:"unexpectedEvents"`
	FailedJobs       int64 `json:"failedJobs"`
	Verified         bool  `json:"verified"`

	CPUSeconds   float64 `json:"cpuSeconds"` // this process, whole run
	PeakRSSBytes int64   `json:"peakRssBytes"`
}

// E2E runs the seed's pipeline, mock-data jobs through a worker
// (events.Processor writing through events.Batcher) into st, and measures
// how fast events are stored and how long a job takes from being added to
// its event being stored. Afterwards it reads the events back and checks
// there is exactly one per job.
//
// st must be empty and the run's alone (a temporary SQLite file, a MongoDB
// database or PostgreSQL schema of its own): the check counts every event in it. The queue lives
// under a key prefix of its own on rdb, deleted afterwards.
func E2E(ctx context.Context, rdb redis.UniversalClient, st events.Store, o E2EOptions) (E2EResult, error) {
	o.Jobs = cmp.Or(o.Jobs, 20_000)
	o.Concurrency = cmp.Or(o.Concurrency, 100)
	o.Steady = cmp.Or(o.Steady, 3*time.Second)
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	prefix := newPrefix()
	defer deleteKeys(context.WithoutCancel(ctx), rdb, prefix)
	q := queue.NewClient(rdb, queue.Config{Prefix: prefix}).Queue(events.QueueName)
	res := E2EResult{Kind: "e2e", Redis: RedisServer(ctx, rdb), Store: o.Store, Jobs: o.Jobs, Concurrency: o.Concurrency}
	cpu0, _ := usage()

	ts := &timedStore{Store: st, stored: make(map[string]time.Time, o.Jobs)}
	p := &pipeline{q: q, producer: events.NewProducer(q, events.ProducerConfig{}), store: ts, o: o}
	ids, err := p.addBacklog(ctx, &res)
	if err != nil {
		return res, err
	}
	stop := p.start(ctx)
	ids2, err := p.run(ctx, ids, &res)
	stop()
	if err != nil {
		return res, err
	}
	ids = append(ids, ids2...)

	c, err := q.Counts(ctx)
	if err != nil {
		return res, err
	}
	res.FailedJobs = c.FailedTotal
	res.JobsAdded = len(ids)
	if err := verify(ctx, st, ids, o.Progress, &res); err != nil {
		return res, err
	}
	cpu1, rss := usage()
	res.CPUSeconds = round((cpu1 - cpu0).Seconds(), 2)
	res.PeakRSSBytes = rss
	return res, nil
}

// pipeline is one run's queue, producer and worker.
type pipeline struct {
	q        *queue.Queue
	producer *events.Producer
	store    *timedStore
	o        E2EOptions
	started  time.Time // when the worker started
}

// addBacklog adds the jobs, 1,000 per call as the API's generate-mock
// allows, before any worker runs.
func (p *pipeline) addBacklog(ctx context.Context, res *E2EResult) ([]string, error) {
	ids := make([]string, 0, p.o.Jobs)
	start := time.Now()
	for len(ids) < p.o.Jobs {
		p.o.Progress("add", len(ids), p.o.Jobs)
		got, err := p.producer.GenerateMock(ctx, min(1000, p.o.Jobs-len(ids)))
		if err != nil {
			return nil, fmt.Errorf("add jobs: %w", err)
		}
		ids = append(ids, got...)
	}
	res.AddPerSec = round(float64(len(ids))/time.Since(start).Seconds(), 0)
	return ids, nil
}

// start runs the batcher and the worker as eventsd serve does, and returns
// the function that stops them in serve's order: the worker, then the batcher.
func (p *pipeline) start(ctx context.Context) (stop func()) {
	batcher := events.NewBatcher(p.store, 0)
	w := queue.NewWorker(p.q, events.NewProcessor(batcher), queue.WorkerConfig{
		Concurrency: p.o.Concurrency, ShutdownTimeout: 10 * time.Second, Logger: p.o.Logger,
	})
	bctx, stopBatcher := context.WithCancel(context.WithoutCancel(ctx))
	wctx, stopWorker := context.WithCancel(ctx)
	var bw, ww sync.WaitGroup
	p.started = time.Now()
	bw.Go(func() { batcher.Run(bctx) })
	ww.Go(func() { w.Run(wctx) })
	return func() {
		stopWorker()
		ww.Wait()
		stopBatcher()
		bw.Wait()
	}
}

// run processes the backlog, then adds jobs one at a time at a steady rate
// and returns those jobs' ids. The rate reported is the one achieved.
func (p *pipeline) run(ctx context.Context, backlog []string, res *E2EResult) ([]string, error) {
	if err := p.waitStored(ctx, "process", 0, len(backlog)); err != nil {
		return nil, err
	}
	_, last, writes := p.store.stats()
	res.EventsPerSec = round(float64(len(backlog))/last.Sub(p.started).Seconds(), 0)
	res.StoreWrites = writes
	res.EventsPerWrite = round(float64(len(backlog))/float64(max(writes, 1)), 1)

	// Half the measured rate leaves the pipeline headroom, as a latency
	// measurement needs; past 5,000/s the adding goroutines would compete.
	rate := cmp.Or(p.o.Rate, max(min(res.EventsPerSec/2, 5000), 10))
	n := max(int(p.o.Steady.Seconds()*rate), 1)
	added := make(map[string]time.Time, n)
	var mu sync.Mutex
	var addErr error
	rate, err := paced(ctx, rate, n, func(i, n int) { p.o.Progress("steady", i, n) }, func() {
		t0 := time.Now()
		ids, err := p.producer.GenerateMock(ctx, 1)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			addErr = cmp.Or(addErr, err)
			return
		}
		added[ids[0]] = t0
	})
	if err := cmp.Or(err, addErr); err != nil {
		return nil, fmt.Errorf("steady phase: %w", err)
	}
	ids := make([]string, 0, len(added))
	for id := range added {
		ids = append(ids, id)
	}
	if err := p.waitStored(ctx, "steady", len(backlog), len(backlog)+len(ids)); err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, len(ids))
	for id, t0 := range added {
		lat = append(lat, p.store.storedAt(id).Sub(t0))
	}
	s := summarize(lat)
	res.E2ERatePerSec = round(rate, 0)
	res.E2EP50Ms, res.E2EP90Ms, res.E2EP99Ms, res.E2EMaxMs = s.p50, s.p90, s.p99, s.max
	return ids, nil
}

// stallLimit is how long the pipeline may store nothing before the run gives up.
const stallLimit = 30 * time.Second

// waitStored waits until the store has events for want jobs in all, base
// of them from earlier phases. Only the run's jobs write to the store.
func (p *pipeline) waitStored(ctx context.Context, phase string, base, want int) error {
	progressAt, last := time.Now(), -1
	for {
		n, _, _ := p.store.stats()
		p.o.Progress(phase, n-base, want-base)
		if n >= want {
			return nil
		}
		if n != last {
			progressAt, last = time.Now(), n
		} else if time.Since(progressAt) > stallLimit {
			c, _ := p.q.Counts(ctx)
			return fmt.Errorf("%s: %d of %d events stored, none for %s (jobs: %+v)", phase, n-base, want-base, stallLimit, c)
		}
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			return err
		}
	}
}

// timedStore notes when each job's event was stored: when the write
// carrying it returned.
type timedStore struct {
	events.Store

	mu     sync.Mutex
	stored map[string]time.Time // job id → when its write returned
	last   time.Time
	writes int
}

func (s *timedStore) CreateMany(ctx context.Context, es []events.Event) ([]events.Event, error) {
	out, err := s.Store.CreateMany(ctx, es)
	if err != nil {
		return out, err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	s.last = now
	for _, e := range es {
		if _, ok := s.stored[e.JobID]; !ok {
			s.stored[e.JobID] = now
		}
	}
	return out, nil
}

func (s *timedStore) storedAt(jobID string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored[jobID]
}

// stats returns how many jobs have events, when the last write returned
// and how many writes there were.
func (s *timedStore) stats() (n int, last time.Time, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.stored), s.last, s.writes
}

// verify reads every event back from st and checks there is exactly one per
// job of ids and no other.
func verify(ctx context.Context, st events.Store, ids []string, progress func(string, int, int), res *E2EResult) error {
	found := make(map[string]int, len(ids)) // job id → its events
	for _, id := range ids {
		found[id] = 0
	}
	var after events.Cursor
	for {
		progress("verify", int(res.EventsFound), len(ids))
		page, err := st.List(ctx, events.ListQuery{Limit: events.MaxLimit, After: after})
		if err != nil {
			return fmt.Errorf("verify: list events: %w", err)
		}
		for _, e := range page.Items {
			res.EventsFound++
			n, ok := found[e.JobID]
			if !ok {
				res.UnexpectedEvents++
				continue
			}
			found[e.JobID] = n + 1
		}
		if page.Next.IsZero() {
			break
		}
		after = page.Next
	}
	for _, n := range found {
		switch {
		case n == 0:
			res.MissingEvents++
		case n > 1:
			res.DuplicateEvents += n - 1
		}
	}
	total, err := st.Count(ctx, time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("verify: count events: %w", err)
	}
	if total != res.EventsFound {
		return errors.New("verify: the store counts a different number of events than it lists")
	}
	res.Verified = res.MissingEvents == 0 && res.DuplicateEvents == 0 && res.UnexpectedEvents == 0 &&
		res.EventsFound == int64(len(ids)) && res.FailedJobs == 0
	return nil
}
