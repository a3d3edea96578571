package bench

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// QueueOptions says what the queue benchmark does. Zero values mean defaults.
type QueueOptions struct {
	Jobs        int           // jobs added in bulk and then processed (default 100,000)
	Concurrency int           // worker concurrency (default 100)
	PayloadSize int           // bytes of job data (default 64)
	Samples     int           // idle pickup samples (default 200)
	Idle        time.Duration // how long idle Redis load is measured (default 10 s)
	Steady      time.Duration // how long end-to-end latency is measured at a steady rate (default 3 s)
	// Rate is the steady phase's jobs per second (default half the measured
	// processing rate, at most 5,000).
	Rate float64
	// ThroughputOnly skips the idle, pickup, delayed and steady phases: the
	// run measures the server's background load, bulk-adds the jobs and
	// processes them, and nothing else. Samples, Idle, Steady and Rate then
	// mean nothing. It is what other queues can be measured on too
	// (bench/peers).
	ThroughputOnly bool
	// Progress, when set, hears how each phase advances (done of total).
	Progress func(phase string, done, total int)
}

// QueueResult holds every figure the queue benchmark measures.
type QueueResult struct {
	Kind  string `json:"kind"`  // "queue"
	Redis string `json:"redis"` // the server measured, as RedisServer names it

	Jobs        int `json:"jobs"`
	Concurrency int `json:"concurrency"`
	PayloadSize int `json:"payloadSize"`
	// ThroughputOnly says the run skipped every phase but adding and
	// processing; the pickup, delayed, steady and idle figures are then 0.
	ThroughputOnly bool `json:"throughputOnly"`

	AddPerSec     float64 `json:"addPerSec"`
	ProcessPerSec float64 `json:"processPerSec"`

	// Idle pickup: a job added to an idle worker, until its handler starts.
	PickupP50Ms float64 `json:"pickupP50Ms"`
	PickupP90Ms float64 `json:"pickupP90Ms"`
	PickupP99Ms float64 `json:"pickupP99Ms"`
	PickupMaxMs float64 `json:"pickupMaxMs"`
	// The floor under a pickup on this machine: a PING's round trip after
	// the same 5 ms of idleness. A pickup is two such hops (the add
	// reaching Redis, Redis's answer reaching the worker) plus both
	// scripts' work.
	IdlePingP50Ms float64 `json:"idlePingP50Ms"`
	IdlePingP99Ms float64 `json:"idlePingP99Ms"`

	// Delayed jobs: start time minus due time, for jobs delayed 100 ms.
	DelayLateP50Ms float64 `json:"delayLateP50Ms"`
	DelayLateP99Ms float64 `json:"delayLateP99Ms"`

	// End to end at a steady rate: Add called until the handler returned.
	E2ERatePerSec float64 `json:"e2eRatePerSec"`
	E2EP50Ms      float64 `json:"e2eP50Ms"`
	E2EP99Ms      float64 `json:"e2eP99Ms"`

	// CommandsPerJob counts the commands clients sent (round trips, each
	// pipelined command counted) while processing; RedisCallsPerJob adds
	// the commands the Lua scripts ran inside Redis.
	CommandsPerJob    float64 `json:"commandsPerJob"`
	RedisCallsPerJob  float64 `json:"redisCallsPerJob"`
	AddCommandsPerJob float64 `json:"addCommandsPerJob"`
	// IdleCommandsPerSec is what one idle worker process sends Redis;
	// IdleRedisCallsPerSec adds what its scripts run there.
	// Command figures are -1 when the server keeps no command statistics
	// (the in-process server of eventsd dev).
	IdleCommandsPerSec   float64 `json:"idleCommandsPerSec"`
	IdleRedisCallsPerSec float64 `json:"idleRedisCallsPerSec"`
	// BackgroundCommandsPerSec is what other clients ran on the server
	// (scripts' commands included) for up to 2 s before the benchmark
	// started. Command counts are server-wide: above 0, every command
	// figure includes some of theirs.
	BackgroundCommandsPerSec float64 `json:"backgroundCommandsPerSec"`

	CPUSeconds        float64 `json:"cpuSeconds"`        // this process, whole run
	ProcessCPUSeconds float64 `json:"processCpuSeconds"` // this process while processing
	RedisCPUSeconds   float64 `json:"redisCpuSeconds"`   // the Redis server while processing
	PeakRSSBytes      int64   `json:"peakRssBytes"`
}

// Queue measures the job engine against rdb, under a key prefix of its own
// that it deletes afterwards. Other keys on the server are not touched, but
// the command counts are server-wide: run it on a Redis nothing else is using.
func Queue(ctx context.Context, rdb redis.UniversalClient, o QueueOptions) (QueueResult, error) {
	o.Jobs = cmp.Or(o.Jobs, 100_000)
	o.Concurrency = cmp.Or(o.Concurrency, 100)
	o.PayloadSize = cmp.Or(o.PayloadSize, 64)
	o.Samples = cmp.Or(o.Samples, 200)
	o.Idle = cmp.Or(o.Idle, 10*time.Second)
	o.Steady = cmp.Or(o.Steady, 3*time.Second)
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	prefix := newPrefix()
	defer deleteKeys(context.WithoutCancel(ctx), rdb, prefix)
	q := queue.NewClient(rdb, queue.Config{Prefix: prefix}).Queue("bench")
	res := QueueResult{Kind: "queue", Redis: RedisServer(ctx, rdb), Jobs: o.Jobs, Concurrency: o.Concurrency,
		PayloadSize: o.PayloadSize, ThroughputOnly: o.ThroughputOnly}
	payload := make([]byte, o.PayloadSize)
	for i := range payload {
		payload[i] = 'x'
	}
	cpu0, _ := usage()

	bg, err := background(ctx, rdb, min(o.Idle, 2*time.Second))
	if err != nil {
		return res, err
	}
	res.BackgroundCommandsPerSec = bg
	if !o.ThroughputOnly {
		if err := idlePhase(ctx, rdb, q, o, payload, &res); err != nil {
			return res, err
		}
	}
	if err := throughputPhase(ctx, rdb, q, o, payload, &res); err != nil {
		return res, err
	}
	if !o.ThroughputOnly {
		if err := steadyPhase(ctx, q, o, payload, &res); err != nil {
			return res, err
		}
	}
	cpu1, rss := usage()
	res.CPUSeconds = round((cpu1 - cpu0).Seconds(), 2)
	res.PeakRSSBytes = rss
	return res, nil
}

// timing is a handler that records when each job's handler started and ended.
type timing struct {
	mu     sync.Mutex
	starts map[string]time.Time
	ends   map[string]time.Time
	done   atomic.Int64
}

func newTiming() *timing {
	return &timing{starts: map[string]time.Time{}, ends: map[string]time.Time{}}
}

func (t *timing) handler(record bool) queue.HandlerFunc {
	return func(ctx context.Context, job *queue.Job) (any, error) {
		if record {
			now := time.Now()
			t.mu.Lock()
			t.starts[job.ID] = now
			t.ends[job.ID] = now
			t.mu.Unlock()
		}
		t.done.Add(1)
		return nil, nil
	}
}

func runWorker(ctx context.Context, q *queue.Queue, h queue.Handler, concurrency int) (stop func()) {
	wctx, cancel := context.WithCancel(ctx)
	w := queue.NewWorker(q, h, queue.WorkerConfig{Concurrency: concurrency})
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	return func() { cancel(); <-done }
}

// idlePhase measures an idle worker's Redis load, then pickup latency.
func idlePhase(ctx context.Context, rdb redis.UniversalClient, q *queue.Queue, o QueueOptions, payload []byte, res *QueueResult) error {
	tm := newTiming()
	stop := runWorker(ctx, q, tm.handler(true), o.Concurrency)
	defer stop()
	if err := sleepCtx(ctx, time.Second); err != nil { // let the worker settle into its wait
		return err
	}
	before, err := readCommandStats(ctx, rdb)
	if err != nil {
		return fmt.Errorf("read INFO commandstats: %w", err)
	}
	start := time.Now()
	for elapsed := time.Duration(0); elapsed < o.Idle; elapsed = time.Since(start) {
		o.Progress("idle", int(elapsed/time.Second), int(o.Idle/time.Second))
		if err := sleepCtx(ctx, min(time.Second, o.Idle-elapsed)); err != nil {
			return err
		}
	}
	after, err := readCommandStats(ctx, rdb)
	if err != nil {
		return err
	}
	sent, all := after.delta(before)
	res.IdleCommandsPerSec = perUnit(sent, time.Since(start).Seconds(), 3)
	res.IdleRedisCallsPerSec = perUnit(all, time.Since(start).Seconds(), 3)

	lat := make([]time.Duration, 0, o.Samples)
	for i := range o.Samples {
		o.Progress("pickup", i, o.Samples)
		// Let the worker go back to its blocking wait, as an idle one would be.
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
		want := tm.done.Load() + 1
		t0 := time.Now()
		j, err := q.Add(ctx, "noop", payload, queue.JobOptions{})
		if err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for tm.done.Load() < want {
			if time.Now().After(deadline) {
				return fmt.Errorf("pickup sample %d: job not run within 10 s", i)
			}
			time.Sleep(50 * time.Microsecond)
		}
		tm.mu.Lock()
		lat = append(lat, tm.starts[j.ID].Sub(t0))
		tm.mu.Unlock()
	}
	p := summarize(lat)
	res.PickupP50Ms, res.PickupP90Ms, res.PickupP99Ms, res.PickupMaxMs = p.p50, p.p90, p.p99, p.max

	pings := make([]time.Duration, 0, o.Samples)
	for range o.Samples {
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
		t0 := time.Now()
		if err := rdb.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("idle ping: %w", err)
		}
		pings = append(pings, time.Since(t0))
	}
	p = summarize(pings)
	res.IdlePingP50Ms, res.IdlePingP99Ms = p.p50, p.p99

	// Delayed jobs: how late after its due time a 100 ms-delayed job starts.
	const delay = 100 * time.Millisecond
	late := make([]time.Duration, 0, o.Samples/4)
	for i := range cap(late) {
		o.Progress("delayed", i, cap(late))
		want := tm.done.Load() + 1
		t0 := time.Now()
		j, err := q.Add(ctx, "noop", payload, queue.JobOptions{Delay: delay})
		if err != nil {
			return err
		}
		deadline := time.Now().Add(10 * time.Second)
		for tm.done.Load() < want {
			if time.Now().After(deadline) {
				return fmt.Errorf("delayed sample %d: job not run within 10 s", i)
			}
			time.Sleep(50 * time.Microsecond)
		}
		tm.mu.Lock()
		late = append(late, tm.starts[j.ID].Sub(t0.Add(delay)))
		tm.mu.Unlock()
	}
	p = summarize(late)
	res.DelayLateP50Ms, res.DelayLateP99Ms = p.p50, p.p99
	return nil
}

// background measures what other clients run on the server per second,
// while this process sends it nothing but INFO; -1 when it keeps no counts.
func background(ctx context.Context, rdb redis.UniversalClient, d time.Duration) (float64, error) {
	before, err := readCommandStats(ctx, rdb)
	if err != nil {
		return 0, fmt.Errorf("read INFO commandstats: %w", err)
	}
	start := time.Now()
	if err := sleepCtx(ctx, d); err != nil {
		return 0, err
	}
	after, err := readCommandStats(ctx, rdb)
	if err != nil {
		return 0, err
	}
	_, all := after.delta(before)
	return perUnit(all, time.Since(start).Seconds(), 1), nil
}

// throughputPhase bulk-adds the jobs, then processes them all.
func throughputPhase(ctx context.Context, rdb redis.UniversalClient, q *queue.Queue, o QueueOptions, payload []byte, res *QueueResult) error {
	const chunk = 1000
	before, err := readCommandStats(ctx, rdb)
	if err != nil {
		return err
	}
	batch := make([]queue.NewJob, chunk)
	for i := range batch {
		batch[i] = queue.NewJob{Name: "noop", Data: payload}
	}
	start := time.Now()
	for added := 0; added < o.Jobs; added += chunk {
		o.Progress("add", added, o.Jobs)
		if _, err := q.AddBulk(ctx, batch[:min(chunk, o.Jobs-added)]); err != nil {
			return err
		}
	}
	res.AddPerSec = round(float64(o.Jobs)/time.Since(start).Seconds(), 0)
	mid, err := readCommandStats(ctx, rdb)
	if err != nil {
		return err
	}
	sent, _ := mid.delta(before)
	res.AddCommandsPerJob = perUnit(sent, float64(o.Jobs), 3)

	redisCPU0 := redisCPU(ctx, rdb)
	cpu0, _ := usage()
	tm := newTiming()
	start = time.Now()
	stop := runWorker(ctx, q, tm.handler(false), o.Concurrency)
	for tm.done.Load() < int64(o.Jobs) {
		o.Progress("process", int(tm.done.Load()), o.Jobs)
		if err := sleepCtx(ctx, 2*time.Millisecond); err != nil {
			stop()
			return err
		}
	}
	// Processing ends when every outcome is recorded, not when handlers return.
	for {
		c, err := q.Counts(ctx)
		if err != nil {
			stop()
			return err
		}
		if c.CompletedTotal >= int64(o.Jobs) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	stop()
	res.ProcessPerSec = round(float64(o.Jobs)/elapsed.Seconds(), 0)
	cpu1, _ := usage()
	res.ProcessCPUSeconds = round((cpu1 - cpu0).Seconds(), 3)
	res.RedisCPUSeconds = round(redisCPU(ctx, rdb)-redisCPU0, 3)
	after, err := readCommandStats(ctx, rdb)
	if err != nil {
		return err
	}
	sent, all := after.delta(mid)
	res.CommandsPerJob = perUnit(sent, float64(o.Jobs), 3)
	res.RedisCallsPerJob = perUnit(all, float64(o.Jobs), 2)
	return nil
}

// steadyPhase adds jobs one at a time at o.Rate (default half the measured
// processing rate, at most 5,000/s) and measures Add-to-handler-end latency.
// The rate reported is the one achieved.
func steadyPhase(ctx context.Context, q *queue.Queue, o QueueOptions, payload []byte, res *QueueResult) error {
	rate := cmp.Or(o.Rate, max(min(res.ProcessPerSec/2, 5000), 10))
	tm := newTiming()
	stop := runWorker(ctx, q, tm.handler(true), o.Concurrency)
	defer stop()
	n := max(int(o.Steady.Seconds()*rate), 1)
	added := make(map[string]time.Time, n)
	var mu sync.Mutex
	rate, err := paced(ctx, rate, n, func(i, n int) { o.Progress("steady", i, n) }, func() {
		t0 := time.Now()
		j, err := q.Add(ctx, "noop", payload, queue.JobOptions{})
		if err == nil {
			mu.Lock()
			added[j.ID] = t0
			mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for tm.done.Load() < int64(len(added)) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	lat := make([]time.Duration, 0, len(added))
	for id, t0 := range added {
		if end, ok := tm.ends[id]; ok {
			lat = append(lat, end.Sub(t0))
		}
	}
	p := summarize(lat)
	res.E2ERatePerSec = round(rate, 0)
	res.E2EP50Ms, res.E2EP99Ms = p.p50, p.p99
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// perUnit divides a counted figure, keeping -1 (not counted) as is.
func perUnit(n int64, by float64, digits int) float64 {
	if n < 0 {
		return -1
	}
	return round(float64(n)/by, digits)
}
