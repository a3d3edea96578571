package queue

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// WorkerConfig tunes a Worker. The zero value of each field means its default.
type WorkerConfig struct {
	// Concurrency is how many jobs run at once in this process (default 10).
	Concurrency int
	// LeaseTime is how long a job stays leased without a heartbeat (default
	// 15 s). A job whose worker dies is handed to another worker about this
	// long after its last heartbeat. Heartbeats run every LeaseTime/3.
	LeaseTime time.Duration
	// MaxStalls is how many times a job is handed back after its worker was
	// lost; the next such loss fails it (default 3). Stalls consume no retry.
	MaxStalls int
	// ShutdownTimeout is how long Run lets running jobs finish once its
	// context ends (default 30 s). Jobs still running then are handed back to
	// the queue, consuming no retry, and their contexts cancelled.
	ShutdownTimeout time.Duration
	// MaxIdleWait bounds one blocking wait for work (default 10 s). An idle
	// worker sends Redis about two commands per MaxIdleWait; a connection cut
	// without a reset (a network partition) is noticed within MaxIdleWait + 10 s.
	MaxIdleWait time.Duration
	// AckBatch bounds the outcomes recorded in one round trip (default 500).
	AckBatch int
	// Backoff computes the wait before retry n of jobs whose backoff type is
	// BackoffCustom. Without it such jobs back off exponentially from 2 s.
	Backoff func(job *Job, n int, err error) time.Duration
	// Observer, when set, hears about every job the worker runs (for metrics).
	Observer Observer
	// Logger receives errors and warnings (default slog.Default()).
	Logger *slog.Logger
}

// Observer hears about jobs as a worker runs them. Either func may be nil.
// They run on the job's goroutine and must be quick.
type Observer struct {
	// Started is called as a handler starts.
	Started func(job *Job)
	// Finished is called with where the job went: StateCompleted,
	// StateFailed, StateDelayed or StateWaiting (to be retried).
	Finished func(job *Job, to State, took time.Duration, err error)
}

// Worker fetches jobs from one queue and runs them with a Handler, up to
// Concurrency at a time. Fetching blocks in Redis (no polling): an idle
// worker starts a new job within milliseconds of its being added.
type Worker struct {
	q   *Queue
	h   Handler
	cfg WorkerConfig
	log *slog.Logger

	id      string
	wakeKey string // this worker's own key in its BLPOP, pushed to stop waiting

	slots    chan struct{} // one token per free handler slot
	acks     chan ack
	ackStop  chan struct{}
	ackDone  chan struct{}
	handlers sync.WaitGroup
	jobsCtx  context.Context
	started  atomic.Bool

	mu     sync.Mutex
	active map[string]*activeJob
}

type activeJob struct {
	job      *Job
	cancel   context.CancelCauseFunc
	renewed  time.Time // last successful lease renewal
	released bool      // handed back at shutdown; its outcome is dropped
}

// running ties a job handed to a handler to the worker running it.
type running struct {
	w     *Worker
	token int64 // the delivery number: the lease is this delivery's
}

// NewWorker returns a worker for q that runs jobs with h.
func NewWorker(q *Queue, h Handler, cfg WorkerConfig) *Worker {
	cfg.Concurrency = max(cmp.Or(cfg.Concurrency, 10), 1)
	cfg.LeaseTime = cmp.Or(cfg.LeaseTime, 15*time.Second)
	cfg.MaxStalls = cmp.Or(cfg.MaxStalls, 3)
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 30*time.Second)
	cfg.MaxIdleWait = cmp.Or(cfg.MaxIdleWait, 10*time.Second)
	cfg.AckBatch = cmp.Or(cfg.AckBatch, 500)
	id := randomID()
	w := &Worker{
		q: q, h: h, cfg: cfg,
		log:     cmp.Or(cfg.Logger, slog.Default()).With("queue", q.name, "worker", id),
		id:      id,
		wakeKey: q.base + "w:" + id,
		slots:   make(chan struct{}, cfg.Concurrency),
		acks:    make(chan ack, cfg.Concurrency*2),
		ackStop: make(chan struct{}),
		ackDone: make(chan struct{}),
		active:  make(map[string]*activeJob),
	}
	for range cfg.Concurrency {
		w.slots <- struct{}{}
	}
	return w
}

// Run fetches and runs jobs until ctx ends, then stops fetching, lets running
// jobs finish for up to ShutdownTimeout, hands back the rest and returns. It
// returns nil after a clean stop. A Worker runs once.
func (w *Worker) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("queue: Worker.Run called twice")
	}
	jobsCtx, stopJobs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopJobs(nil)
	w.jobsCtx = jobsCtx
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var bgWG sync.WaitGroup
	bgWG.Go(w.ackLoop)
	bgWG.Go(func() { w.heartbeatLoop(bg) })
	bgWG.Go(func() { w.cancelListener(bg) })
	stopWaiting := context.AfterFunc(ctx, w.interruptWait)
	defer stopWaiting()

	w.fetchLoop(ctx)

	done := make(chan struct{})
	go func() { w.handlers.Wait(); close(done) }()
	timer := time.NewTimer(w.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		w.releaseRunning()
		stopJobs(ErrLeaseLost)
	}
	close(w.ackStop)
	<-w.ackDone
	stopBg()
	bgWG.Wait()
	w.cleanupWakeKey()
	return nil
}

// fetchLoop leases jobs while there are free slots and blocks in Redis while
// there is no work, until ctx ends.
func (w *Worker) fetchLoop(ctx context.Context) {
	// Fetching and waiting fail and recover separately: a server that
	// refuses the blocking wait must not make every good fetch reset the
	// wait's backoff (the worker would poll and log at once).
	var fetchFailing, waitFailing retryDelay
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.slots:
		}
		n := 1
	more:
		for n < w.cfg.Concurrency {
			select {
			case <-w.slots:
				n++
			default:
				break more
			}
		}
		jobs, wait, err := w.fetch(ctx, n)
		for range n - len(jobs) {
			w.slots <- struct{}{}
		}
		if err != nil {
			d := fetchFailing.next()
			if fetchFailing.shouldLog() {
				w.log.Warn("fetching jobs failed; retrying", "err", err, "retry_in", d)
			}
			sleep(ctx, d)
			continue
		}
		if fetchFailing.reset() {
			w.log.Info("fetching jobs works again")
		}
		if ctx.Err() != nil {
			w.release(jobs)
			return
		}
		for _, j := range jobs {
			w.handlers.Add(1)
			go w.runJob(j)
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

// fetch leases up to n jobs and says how long to wait if there is no more work.
func (w *Worker) fetch(ctx context.Context, n int) ([]*Job, time.Duration, error) {
	// The call must not be abandoned half way: jobs leased by a script whose
	// reply was dropped would sit out their lease.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	res, err := w.q.run(cctx, scriptFetch, n, w.cfg.LeaseTime.Milliseconds(), w.cfg.MaxStalls).Slice()
	if err != nil {
		return nil, 0, err
	}
	if len(res) < 2 || (len(res)-2)%3 != 0 {
		return nil, 0, errReply
	}
	now, wakeAt := num(res[0]), num(res[1])
	wait := w.cfg.MaxIdleWait
	if wakeAt > 0 {
		// One millisecond past the due time, so the next fetch finds it due.
		wait = min(wait, time.Duration(wakeAt-now+1)*time.Millisecond)
	}
	jobs := make([]*Job, 0, (len(res)-2)/3)
	for i := 2; i < len(res); i += 3 {
		j := &Job{ID: str(res[i]), Queue: w.q.name, State: StateActive}
		r := parseRun(str(res[i+2]))
		j.Failures, j.Stalls, j.StartedAt = int(r.failures), int(r.stalls), r.startedAt
		j.Attempt = j.Failures + 1
		j.run = &running{w: w, token: r.deliveries}
		if err := decodeRecord(j, str(res[i+1])); err != nil {
			// Unreadable: fail it for good rather than lose or loop on it.
			w.log.Error("job record unreadable", "job_id", j.ID, "err", err)
			w.handlers.Add(1)
			go w.failUnreadable(j, err)
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs, wait, nil
}

// wait blocks until a job may be ready: another client woke this worker, or
// d passed. Redis checks blocking timeouts only about ten times a second, so
// a timed wait (a delayed job or a lease coming due) is ended by a local timer
// pushing to this worker's own key, to the millisecond; the BLPOP timeout is
// only a backstop.
func (w *Worker) wait(ctx context.Context, d time.Duration) error {
	if d < time.Millisecond {
		return nil
	}
	block := w.cfg.MaxIdleWait
	if d < w.cfg.MaxIdleWait {
		t := time.AfterFunc(d, w.interruptWait)
		defer t.Stop()
		block = d + time.Second
	}
	// go-redis sends BLPOP timeouts in whole seconds.
	err := w.q.rdb.BLPop(ctx, block.Round(time.Second), w.q.keys[keyMarker], w.wakeKey).Err()
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

func (w *Worker) cleanupWakeKey() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.q.rdb.Del(ctx, w.wakeKey)
}

// runJob runs one leased job and queues its outcome for recording.
func (w *Worker) runJob(job *Job) {
	defer w.handlers.Done()
	defer func() { w.slots <- struct{}{} }()
	ctx, cancel := context.WithCancelCause(w.jobsCtx)
	defer cancel(nil)
	aj := &activeJob{job: job, cancel: cancel, renewed: time.Now()}
	w.mu.Lock()
	w.active[job.ID] = aj
	w.mu.Unlock()
	if f := w.cfg.Observer.Started; f != nil {
		f(job)
	}

	if t := job.Options.Timeout; t > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeoutCause(ctx, t, errTimeout)
		defer cancelT()
	}
	began := time.Now()
	result, err := w.call(ctx, job)
	took := time.Since(began)

	w.mu.Lock()
	if w.active[job.ID] == aj {
		delete(w.active, job.ID)
	}
	released := aj.released
	w.mu.Unlock()
	if released {
		return
	}
	a, to := w.decide(ctx, job, result, err)
	w.sendAck(a)
	if f := w.cfg.Observer.Finished; f != nil {
		f(job, to, took, err)
	}
}

var errTimeout = errors.New("job timed out")

// call runs the handler, turning a panic into an error.
func (w *Worker) call(ctx context.Context, job *Job) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("job handler panicked", "job_id", job.ID, "job_name", job.Name, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return w.h.ProcessJob(ctx, job)
}

// maxErrorLen bounds a stored error message.
const maxErrorLen = 4096

// decide turns a handler's return into the outcome to record.
func (w *Worker) decide(ctx context.Context, job *Job, result any, err error) (ack, State) {
	a := ack{id: job.ID, token: job.run.token, dedup: job.Options.DedupKey != ""}
	if err == nil {
		payload, encErr := encodeValue(result)
		if encErr == nil {
			a.outcome, a.spec, a.result = 'c', job.Options.RemoveOnComplete.spec(), payload
			return a, StateCompleted
		}
		err = SkipRetry(encErr)
	}
	msg := err.Error()
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, ErrCancelled):
		msg = "cancelled: " + msg
	case errors.Is(cause, errTimeout) && ctx.Err() != nil:
		msg = fmt.Sprintf("timed out after %s: %s", job.Options.Timeout, msg)
	}
	if len(msg) > maxErrorLen {
		msg = msg[:maxErrorLen] + "…"
	}
	a.msg = msg
	var ce *controlError
	errors.As(err, &ce)
	n := job.Failures + 1 // this failure's number, and the number of the retry it earns
	if errors.Is(cause, ErrCancelled) || (ce != nil && ce.skipRetry) || n >= job.MaxAttempts() {
		a.outcome, a.spec = 'f', job.Options.RemoveOnFail.spec()
		return a, StateFailed
	}
	var d time.Duration
	switch {
	case ce != nil && ce.hasDelay:
		d = ce.retryAfter
	case job.Options.Backoff.Type == BackoffCustom && w.cfg.Backoff != nil:
		d = w.cfg.Backoff(job, n, err)
	case job.Options.Backoff.Type == BackoffCustom:
		d = Backoff{Type: BackoffExponential, Delay: DefaultBackoffDelay}.delay(n)
	default:
		d = job.Options.Backoff.delay(n)
	}
	a.outcome, a.spec = 'r', strconv.FormatInt(max(d, 0).Milliseconds(), 10)
	if d > 0 {
		return a, StateDelayed
	}
	return a, StateWaiting
}

// failUnreadable fails a job whose stored record cannot be decoded.
func (w *Worker) failUnreadable(job *Job, err error) {
	defer w.handlers.Done()
	w.sendAck(ack{id: job.ID, token: job.run.token, outcome: 'f', spec: Keep.spec(), msg: "unreadable job record: " + err.Error(), dedup: true})
}

// release hands jobs back to the queue unrun (fetched as shutdown began)
// and frees their slots.
func (w *Worker) release(jobs []*Job) {
	for range jobs {
		w.slots <- struct{}{}
	}
	w.handBack(jobs)
}

// releaseRunning hands back the jobs still running when the shutdown timeout
// passes; their handlers' later outcomes are dropped.
func (w *Worker) releaseRunning() {
	w.mu.Lock()
	var jobs []*Job
	for _, aj := range w.active {
		aj.released = true
		jobs = append(jobs, aj.job)
	}
	w.mu.Unlock()
	if len(jobs) > 0 {
		w.log.Warn("shutdown timeout passed; handing running jobs back", "jobs", len(jobs))
	}
	w.handBack(jobs)
}

// handBack returns leased jobs to the front of the waiting set without using
// a retry. If Redis cannot be reached they come back when their lease expires.
func (w *Worker) handBack(jobs []*Job) {
	if len(jobs) == 0 {
		return
	}
	args := make([]any, 0, 2*len(jobs))
	for _, j := range jobs {
		args = append(args, j.ID, j.run.token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.q.run(ctx, scriptRelease, args...).Err(); err != nil {
		w.log.Warn("handing jobs back failed; they return when their lease expires", "jobs", len(jobs), "err", err)
	}
}

// cancelLocal cancels a job if it runs in this process.
func (w *Worker) cancelLocal(id string, cause error) {
	w.mu.Lock()
	aj := w.active[id]
	w.mu.Unlock()
	if aj != nil {
		aj.cancel(cause)
	}
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// retryDelay backs off from 50 ms to 5 s while Redis calls fail, and logs the
// first failure and then one every 30 s.
type retryDelay struct {
	d       time.Duration
	lastLog time.Time
}

func (r *retryDelay) next() time.Duration {
	r.d = min(max(r.d*2, 50*time.Millisecond), 5*time.Second)
	return r.d
}

func (r *retryDelay) shouldLog() bool {
	if time.Since(r.lastLog) < 30*time.Second {
		return false
	}
	r.lastLog = time.Now()
	return true
}

func (r *retryDelay) reset() (wasFailing bool) {
	wasFailing = r.d > 0
	r.d, r.lastLog = 0, time.Time{}
	return wasFailing
}
