package queue

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// runFetcher leases jobs while runners are free and blocks in Redis while
// there is no work, until ctx ends.
func (w *Worker) runFetcher(ctx context.Context) {
	stopWaiting := context.AfterFunc(ctx, w.interruptWait)
	defer stopWaiting()
	// Fetching and waiting fail and recover separately: a server that
	// refuses the blocking wait must not make every good fetch reset the
	// wait's backoff (the worker would poll and log at once).
	var fetchFailing, waitFailing retryDelay
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
		req := request{id: newRequestID(), key: w.fetchKey}
		var jobs []*Job
		var wait time.Duration
		for {
			var err error
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
		if len(jobs) == n {
			continue // there may be more
		}
		if err := w.wait(ctx, wait); err != nil && ctx.Err() == nil {
			d := waitFailing.next()
			if waitFailing.shouldLog() {
				w.log.Warn("waiting for jobs failed; retrying", "err", err, "retry_in", d)
			}
			sleep(ctx, d)
		} else {
			waitFailing.reset()
		}
	}
}

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
	r, err := decodeFetch(res)
	if err != nil {
		return nil, 0, err
	}
	wait := w.cfg.MaxIdleWait
	if !r.wakeAt.IsZero() {
		// One millisecond past the due time, so the next fetch finds it due.
		wait = min(wait, r.wakeAt.Sub(r.now)+time.Millisecond)
	}
	return w.jobsOf(r), wait, nil
}

// jobsOf builds the fetched jobs, in few allocations: the jobs, their
// delivery records and their payloads each share one block per batch.
func (w *Worker) jobsOf(r fetchReply) []*Job {
	jobs := make([]Job, len(r.jobs))
	runs := make([]running, len(r.jobs))
	size := 0
	for _, f := range r.jobs {
		size += len(f.record)
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
		rec, err := parseRecord(f.record)
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

// wait blocks until a job may be ready: another client woke this worker, or
// d passed. Redis checks blocking timeouts only about ten times a second and
// in whole seconds here, so a wait shorter than MaxIdleWait, or not a whole
// number of seconds, is ended by a local timer pushing to this worker's own
// key, to the millisecond; the BLPOP timeout is then only a backstop.
func (w *Worker) wait(ctx context.Context, d time.Duration) error {
	if d < time.Millisecond {
		return nil
	}
	d = min(d, w.cfg.MaxIdleWait)
	block := d
	if d < w.cfg.MaxIdleWait || d%time.Second != 0 {
		t := time.AfterFunc(d, w.interruptWait)
		defer t.Stop()
		block = d.Truncate(time.Second) + 2*time.Second
	}
	err := w.q.rdb.BLPop(ctx, block, w.q.keys[kMarker], w.wakeKey).Err()
	if errors.Is(err, redis.Nil) || ctx.Err() != nil {
		return nil
	}
	return err
}

// interruptWait ends this worker's blocking wait: at shutdown, or when a
// timed wait is due.
func (w *Worker) interruptWait() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.q.rdb.LPush(ctx, w.wakeKey, "stop")
}
