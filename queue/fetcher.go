package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// lane is the worker's fetch loop's keys and wait client. A retried fetch
// finds its reply remembered under fetchKey. A worker runs one lane: two,
// one fetch in flight while the other's is, measured no faster at
// concurrency 100 for more CPU in both Redis and the process (bench queue,
// 3 interleaved runs each, 28 Nov).
type lane struct {
	wakeKey  string // the lane's own key in its BLPOP, pushed to end a wait
	fetchKey string // where the fetch script remembers the lane's last reply
	// The client for blocking waits, made from waitBase (see waitClient).
	waitBase, waitRdb *redis.Client
}

// runLane leases jobs while runners are free and blocks in Redis while
// there is no work, until ctx ends.
func (w *Worker) runLane(ctx context.Context, l *lane) {
	stopWaiting := context.AfterFunc(ctx, l.interruptWait(w))
	defer stopWaiting()
	// Fetching and waiting fail and recover separately: a server that
	// refuses the blocking wait must not make every good fetch reset the
	// wait's backoff (the worker would poll and log at once).
	var fetchFailing, waitFailing retryDelay
	// idle > 0: the last fetch found no more work, so the next one first
	// waits up to idle for a wake, in the same round trip.
	var idle time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.free:
		}
		n := 1
	more:
		for n < min(w.cfg.Concurrency, maxFetch) {
			select {
			case <-w.free:
				n++
			default:
				break more
			}
		}
		// One request per batch, the same on every retry: a fetch that ran
		// but whose reply was lost answers the jobs it leased when asked
		// again, instead of leasing others while those sit out their lease.
		req := request{id: newRequestID(), key: l.fetchKey}
		var jobs []*Job
		var wait, backoff time.Duration
		err := errNotFetched
		if idle > 0 {
			var waitErr error
			jobs, wait, waitErr, err = w.waitThenFetch(ctx, l, idle, n, req)
			if waitErr != nil && ctx.Err() == nil {
				// Sleep after handing out what the fetch leased, not before.
				backoff = waitFailing.next()
				if waitFailing.shouldLog() {
					w.log.Warn("waiting for jobs failed; retrying", "err", waitErr, "retry_in", backoff)
				}
			} else if waitErr == nil {
				waitFailing.reset()
			}
		}
		for err != nil {
			jobs, wait, err = w.fetch(ctx, n, req)
			if err == nil {
				break
			}
			d := fetchFailing.next()
			if fetchFailing.shouldLog() {
				w.log.Warn("fetching jobs failed; retrying", "err", err, "retry_in", d)
			}
			sleep(ctx, d)
			if ctx.Err() != nil {
				// Shutting down with a fetch unanswered: any jobs it leased
				// come back when their lease expires.
				return
			}
		}
		if fetchFailing.reset() {
			w.log.Info("fetching jobs works again")
		}
		if h := w.hooks.afterFetch; h != nil {
			h(len(jobs))
		}
		for range n - len(jobs) {
			w.free <- struct{}{}
		}
		if ctx.Err() != nil {
			w.handBack(jobs)
			for range jobs {
				w.free <- struct{}{}
			}
			return
		}
		for _, j := range jobs {
			// The same worker may get back a job it still runs, after its
			// lease lapsed unnoticed (a paused process): the older delivery
			// has lost the job and is stopped. A first delivery has none.
			if j.run.token > 1 {
				w.cancelRunning(j.ID, j.run.token, ErrLeaseLost)
			}
			w.pending.Add(1)
			w.work <- j
		}
		idle = 0
		if len(jobs) < n {
			idle = wait
		}
		if backoff > 0 {
			sleep(ctx, backoff)
		}
	}
}

// errNotFetched marks a batch no fetch has answered yet.
var errNotFetched = errors.New("not fetched yet")

// maxFetch bounds the jobs one fetch leases, keeping each script short.
const maxFetch = 500

// fetch leases up to n jobs and says how long to wait if there is no more
// work.
func (w *Worker) fetch(ctx context.Context, n int, req request) ([]*Job, time.Duration, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	res, err := w.q.callArray(cctx, scriptFetch, req, fetchArgs{count: n, lease: w.cfg.LeaseTime, maxStalls: w.cfg.MaxStalls}.args()...)
	if err != nil {
		return nil, 0, err
	}
	return w.fetched(res)
}

// fetched decodes a fetch's reply into its jobs and how long to wait if
// there is no more work.
func (w *Worker) fetched(res []any) ([]*Job, time.Duration, error) {
	r, err := decodeFetch(res)
	if err != nil {
		return nil, 0, err
	}
	wait := w.cfg.MaxIdleWait
	if !r.wakeAt.IsZero() {
		// Redis's now is whole milliseconds, rounded down: the due time
		// has passed once this long has passed here.
		wait = min(wait, r.wakeAt.Sub(r.now))
	}
	return w.jobsOf(r), wait, nil
}

// jobsOf builds the fetched jobs, in few allocations: the jobs, their
// delivery records and their payloads each share one block per batch.
func (w *Worker) jobsOf(r fetchReply) []*Job {
	jobs := make([]Job, len(r.jobs))
	runs := make([]running, len(r.jobs))
	type parsed struct {
		rec record
		err error
	}
	recs := make([]parsed, len(r.jobs))
	size := 0
	for i, f := range r.jobs {
		rec, err := parseRecord(f.record)
		recs[i] = parsed{rec, err}
		size += len(rec.data)
	}
	buf := make([]byte, 0, size)
	out := make([]*Job, 0, len(r.jobs))
	for i, f := range r.jobs {
		j := &jobs[i]
		j.ID, j.Queue, j.State, j.ReadyAt = f.id, w.q.name, StateActive, f.readyAt
		run, runErr := parseRun(f.run)
		runs[i].w, runs[i].token, runs[i].state = w, run.deliveries, f.run
		j.run = &runs[i]
		j.Failures, j.Stalls, j.StartedAt = int(run.failures), int(run.stalls), run.startedAt
		j.Attempt = j.Failures + 1
		rec, err := recs[i].rec, recs[i].err
		if err == nil {
			err = runErr
		}
		if err == nil {
			err = decodeOptions(rec.options, &j.Options)
		}
		if err != nil {
			// Unreadable: fail it for good rather than lose it or loop on it,
			// keeping it for inspection and freeing any dedup key it holds.
			w.log.Error("job record unreadable", "job_id", j.ID, "err", err)
			o := failedOutcome(j, "unreadable job record: "+err.Error())
			o.spec, o.flags = Keep.spec(), flagDedup
			w.outcomes <- o
			continue
		}
		j.Name, j.AddedAt = rec.name, rec.addedAt
		start := len(buf)
		buf = append(buf, rec.data...)
		j.Data = buf[start:len(buf):len(buf)]
		out = append(out, j)
	}
	return out
}

// waitThenFetch blocks until a job may be ready (another client woke this
// worker, or d passed), then leases up to n jobs: both in one round trip,
// the fetch pipelined behind the blocking wait, so that Redis runs it the
// moment the wait ends. A wake costs one hop from Redis to this worker
// rather than three (the wake, the fetch, its reply).
//
// Redis checks blocking timeouts only about ten times a second and in whole
// seconds here, so a wait shorter than MaxIdleWait, or not a whole number of
// seconds, is ended by a local timer pushing to this worker's own key, to
// the millisecond; the BLPOP timeout is then only a backstop.
//
// waitErr is the wait's failure; err the fetch's, or errNotFetched when it
// may not have run (the caller then asks again with the same request, which
// answers what it leased if it did run).
func (w *Worker) waitThenFetch(ctx context.Context, l *lane, d time.Duration, n int, req request) (jobs []*Job, wait time.Duration, waitErr, err error) {
	d = min(d, w.cfg.MaxIdleWait)
	block := d
	if d < w.cfg.MaxIdleWait || d%time.Second != 0 {
		t := time.AfterFunc(d, l.interruptWait(w))
		defer t.Stop()
		block = d.Truncate(time.Second) + 2*time.Second
	}
	rdb, err := w.waitClient(ctx, l)
	if err != nil {
		return nil, 0, err, errNotFetched
	}
	// Not cancelled with ctx: shutdown ends the wait by pushing to wakeKey,
	// and a reply read halfway would cost the connection.
	pctx := context.WithoutCancel(ctx)
	pipe := rdb.Pipeline()
	pop := pipe.BLPop(pctx, block, w.q.keys[kMarker], l.wakeKey)
	keys, argv := w.q.callArgs(req, fetchArgs{count: n, lease: w.cfg.LeaseTime, maxStalls: w.cfg.MaxStalls}.args())
	fetched := scriptFetch.EvalSha(pctx, pipe, keys, argv...)
	if h := w.hooks.beforeWait; h != nil {
		h()
	}
	_, _ = pipe.Exec(pctx) // each command's error is read below
	if waitErr = pop.Err(); errors.Is(waitErr, redis.Nil) {
		waitErr = nil
	}
	res, ferr := fetched.Slice()
	if ferr != nil {
		return nil, 0, waitErr, errNotFetched // NOSCRIPT, or the connection: ask again
	}
	jobs, wait, err = w.fetched(res)
	return jobs, wait, waitErr, err
}

// waitClient is a client for the lane's blocking waits: one
// whose read timeout outlasts the longest wait, since a pipeline is read
// with the client's timeout rather than the blocking command's, and that
// does not retry by itself: a pipeline resent after a lost reply would block
// again before its fetch answered, while the jobs that fetch leased sat
// idle. A failed wait is followed by a plain fetch of the same request
// instead. In a cluster it talks to the queue's shard (a MOVED reply fails
// the pipeline, and the plain fetch is redirected).
func (w *Worker) waitClient(ctx context.Context, l *lane) (*redis.Client, error) {
	var c *redis.Client
	switch rdb := w.q.rdb.(type) {
	case *redis.Client:
		c = rdb
	case *redis.ClusterClient:
		var err error
		if c, err = rdb.MasterForKey(ctx, w.q.keys[kMarker]); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("queue: blocking waits need a *redis.Client or *redis.ClusterClient, not %T", rdb)
	}
	if l.waitBase != c {
		// WithTimeout copies c's options under c's lock (copying them by
		// hand races with go-redis setting up connections) and shares c's
		// pool, so there is nothing to close. Its options are its own and
		// unused yet: no retries is set on them before its first call.
		wc := c.WithTimeout(w.cfg.MaxIdleWait + 12*time.Second)
		wc.Options().MaxRetries = 0
		l.waitBase, l.waitRdb = c, wc
	}
	return l.waitRdb, nil
}

// interruptWait returns a func that ends the lane's blocking wait: at
// shutdown, or when a timed wait is due.
func (l *lane) interruptWait(w *Worker) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		w.q.rdb.LPush(ctx, l.wakeKey, "stop")
	}
}
