package queue

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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
	// context ends (default 30 s; negative: not at all). Jobs still running
	// then are handed back to the queue, consuming no retry, and their
	// contexts cancelled.
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
	// Logger receives errors, warnings, each final failure (warn) and each
	// retry (debug) (default slog.Default()).
	Logger *slog.Logger
}

// NoShutdownWait as WorkerConfig.ShutdownTimeout hands running jobs back as
// soon as the worker is stopped.
const NoShutdownWait time.Duration = -1

// Observer hears about jobs as a worker runs them. Either func may be nil.
// They run on the job's goroutine and must be quick.
type Observer struct {
	// Started is called as a handler starts.
	Started func(job *Job)
	// Finished is called with where the job went: StateCompleted,
	// StateFailed, StateDelayed or StateWaiting (to be retried), or
	// StateActive when the worker lost the job's lease and recorded nothing.
	// err is the handler's; for a job cancelled while it ran, it wraps
	// ErrCancelled.
	Finished func(job *Job, to State, took time.Duration, err error)
}

// Worker fetches jobs from one queue and runs them with a Handler, up to
// Concurrency at a time. Fetching blocks in Redis (no polling): an idle
// worker starts a new job within milliseconds of its being added.
//
// It is made of parts that each own one loop: the fetcher leases jobs and
// hands them to a pool of runners; the runners call the handler and pass
// outcomes to the recorder, which records them in batches; the leaser keeps
// the leases of running jobs (heartbeat) and hears cancellations. Run starts
// and stops them in an order that loses no outcome.
type Worker struct {
	q   *Queue
	h   Handler
	cfg WorkerConfig
	log *slog.Logger
	id  string

	lane   lane   // the fetch loop's keys
	ackKey string // where the ack script remembers its last reply

	slots    []*slot       // one per runner: what each runs now
	free     chan struct{} // one token per idle runner
	work     chan *Job     // leased jobs on their way to a runner
	outcomes chan outcome  // to the recorder
	// pending counts jobs handed to runners whose outcome is neither queued
	// for the recorder nor given up; the recorder stops only at zero.
	pending sync.WaitGroup
	jobsCtx context.Context

	started atomic.Bool
	hooks   testHooks
}

// testHooks lets tests stop a worker at the edges of its races.
type testHooks struct {
	beforeOutcome func(job *Job) // a handler returned; its outcome is not yet queued
	afterFetch    func(jobs int) // a fetch answered
	beforeWait    func()         // a blocking wait and its fetch are about to be sent
	subscribed    func()         // the cancel listener is subscribed
}

// slot is one runner's job. The runner and the leaser share it.
type slot struct {
	mu       sync.Mutex
	job      *Job // nil while idle
	cancel   context.CancelCauseFunc
	renewed  time.Time // last lease renewal
	released bool      // handed back at shutdown: its outcome is dropped
}

// running ties a job handed to a handler to the worker running it.
type running struct {
	w     *Worker
	token int64 // the delivery number: the lease is this delivery's
	// state is the run state the fetch gave: while Redis holds it, the job
	// is in this delivery (ack and extend compare it).
	state      string
	progressed atomic.Bool
}

// NewWorker returns a worker for q that runs jobs with h.
func NewWorker(q *Queue, h Handler, cfg WorkerConfig) *Worker {
	cfg.Concurrency = max(cmp.Or(cfg.Concurrency, 10), 1)
	cfg.LeaseTime = cmp.Or(cfg.LeaseTime, 15*time.Second)
	cfg.MaxStalls = cmp.Or(cfg.MaxStalls, 3)
	cfg.ShutdownTimeout = cmp.Or(cfg.ShutdownTimeout, 30*time.Second)
	cfg.MaxIdleWait = cmp.Or(cfg.MaxIdleWait, 10*time.Second)
	cfg.AckBatch = min(cmp.Or(cfg.AckBatch, 500), 500) // a script's unpack takes at most ~8000 values
	id := rand.Text()[:12]
	w := &Worker{
		q: q, h: h, cfg: cfg, id: id,
		log:      cmp.Or(cfg.Logger, slog.Default()).With("queue", q.name, "worker", id),
		ackKey:   q.base + "w:" + id + ":ack",
		lane:     lane{wakeKey: q.base + "w:" + id + ":wake", fetchKey: q.base + "w:" + id + ":fetch"},
		slots:    make([]*slot, cfg.Concurrency),
		free:     make(chan struct{}, cfg.Concurrency),
		work:     make(chan *Job, cfg.Concurrency),
		outcomes: make(chan outcome, cfg.Concurrency),
	}
	for i := range w.slots {
		w.slots[i] = &slot{}
		w.free <- struct{}{}
	}
	return w
}

// Run fetches and runs jobs until ctx ends, then stops fetching, lets running
// jobs finish for up to ShutdownTimeout, hands back the rest and returns. It
// returns nil after a clean stop. A Worker runs once.
//
// Start order: leaser and recorder (they serve the runners), runners,
// fetcher. Stop order, each step waiting for the one before: the fetcher
// stops (ctx); the runners finish their jobs, or at the shutdown timeout are
// given up and their jobs handed back; every outcome not given up reaches
// the recorder (pending); the recorder records them and stops; the leaser,
// which kept leases alive meanwhile, stops last.
func (w *Worker) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return errors.New("queue: Worker.Run called twice")
	}
	jobsCtx, stopJobs := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopJobs(nil)
	w.jobsCtx = jobsCtx
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()

	var leaserDone, recorderDone, runnersDone sync.WaitGroup
	leaserDone.Go(func() { w.runLeaser(bg) })
	recorderDone.Go(w.runRecorder)
	for _, s := range w.slots {
		runnersDone.Go(func() { w.runRunner(s) })
	}

	w.runLane(ctx, &w.lane)
	close(w.work)

	finished := make(chan struct{})
	go func() { runnersDone.Wait(); close(finished) }()
	if w.cfg.ShutdownTimeout > 0 {
		timer := time.NewTimer(w.cfg.ShutdownTimeout)
		select {
		case <-finished:
		case <-timer.C:
		}
		timer.Stop()
	}
	select {
	case <-finished:
	default:
		w.releaseRunning()
		stopJobs(ErrLeaseLost)
	}
	w.pending.Wait()
	close(w.outcomes)
	recorderDone.Wait()
	stopBg()
	leaserDone.Wait()
	w.cleanupKeys()
	return nil
}

// runRunner runs the jobs the fetcher hands over, one at a time, until the
// fetcher stops.
func (w *Worker) runRunner(s *slot) {
	// Each job's context derives from one of the runner's own, not from
	// jobsCtx directly: deriving registers the child with its parent under
	// the parent's lock, which all runners would otherwise share.
	parent, cancel := context.WithCancelCause(w.jobsCtx)
	defer cancel(nil)
	for job := range w.work {
		w.runJob(parent, s, job)
		w.free <- struct{}{}
	}
}

// runJob runs one leased job and queues its outcome for recording.
func (w *Worker) runJob(parent context.Context, s *slot, job *Job) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	s.mu.Lock()
	s.job, s.cancel, s.renewed, s.released = job, cancel, time.Now(), false
	s.mu.Unlock()
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

	s.mu.Lock()
	released := s.released
	s.job, s.cancel = nil, nil
	s.mu.Unlock()
	if released {
		return // handed back at shutdown; releaseRunning settled pending
	}
	if h := w.hooks.beforeOutcome; h != nil {
		h(job)
	}
	o, to, ok := w.outcomeOf(ctx, job, result, err)
	if ok {
		w.outcomes <- o
	}
	w.pending.Done()
	w.logOutcome(job, o, to, ok)
	if f := w.cfg.Observer.Finished; f != nil {
		if err != nil && errors.Is(context.Cause(ctx), ErrCancelled) && !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("%w: %w", ErrCancelled, err)
		}
		f(job, to, took, err)
	}
}

// logOutcome logs the outcomes worth reading: a retry at info (failures
// are rare enough that each is worth a line), a job failed for good at warn,
// a lost lease at info. Completions are not logged.
func (w *Worker) logOutcome(job *Job, o outcome, to State, ok bool) {
	switch {
	case !ok:
		w.log.Info("job's lease lost while it ran; its outcome is dropped and the job will run again",
			"job_id", job.ID, "job_name", job.Name, "attempt", job.Attempt)
	case to == StateFailed:
		w.log.Warn("job failed", "job_id", job.ID, "job_name", job.Name, "attempt", job.Attempt,
			"max_attempts", job.MaxAttempts(), "err", o.text)
	case to == StateDelayed || to == StateWaiting:
		ms, _ := strconv.ParseInt(o.spec, 10, 64) // a retry's spec is its delay in ms
		w.log.Info("job failed; retrying", "job_id", job.ID, "job_name", job.Name, "attempt", job.Attempt,
			"max_attempts", job.MaxAttempts(), "err", o.text, "retry_in_ms", ms,
			"due_at", time.Now().Add(time.Duration(ms)*time.Millisecond).UTC().Format(timeFormat))
	}
}

// timeFormat is how logs write times: RFC 3339 in UTC with milliseconds, as
// the API does.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

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

// releaseRunning gives up the jobs still running when the shutdown timeout
// passes: it hands them back to the queue; their handlers' later outcomes
// are dropped.
func (w *Worker) releaseRunning() {
	var jobs []*Job
	for _, s := range w.slots {
		s.mu.Lock()
		if s.job != nil && !s.released {
			s.released = true
			jobs = append(jobs, s.job)
			w.pending.Done()
		}
		s.mu.Unlock()
	}
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
	if _, err := w.q.call(ctx, scriptRelease, request{}, args...); err != nil {
		w.log.Warn("handing jobs back failed; they return when their lease expires", "jobs", len(jobs), "err", err)
	}
}

// cancelRunning cancels the handlers running job id, of any delivery or only
// of deliveries before token (token > 0), with cause.
func (w *Worker) cancelRunning(id string, before int64, cause error) {
	for _, s := range w.slots {
		s.mu.Lock()
		if s.job != nil && s.job.ID == id && (before == 0 || s.job.run.token < before) {
			s.cancel(cause)
		}
		s.mu.Unlock()
	}
}

func (w *Worker) cleanupKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.q.rdb.Del(ctx, w.ackKey, w.lane.wakeKey, w.lane.fetchKey)
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
