package queue

import (
	"encoding/json"
	"time"
)

// State is where a job is in its life, in Bull's words.
type State string

// The states a job can be in. A job is in exactly one at a time.
const (
	StateWaiting   State = "waiting"   // ready to run, in priority then arrival order
	StatePaused    State = "paused"    // waiting in a paused queue
	StateActive    State = "active"    // leased to a worker and running
	StateDelayed   State = "delayed"   // due later: added with a delay, or backing off before a retry
	StateCompleted State = "completed" // ran successfully (kept only when its retention says so)
	StateFailed    State = "failed"    // out of retries, cancelled, or failed for good
)

// Job is a unit of work and everything known about it.
type Job struct {
	ID      string     `json:"id"`
	Queue   string     `json:"queue"`
	Name    string     `json:"name"`
	Data    []byte     `json:"data"`
	Options JobOptions `json:"options"`
	State   State      `json:"state"`

	// Attempt is the number of the attempt running now, or of the last one
	// (1-based). It is Failures+1 while a job runs.
	Attempt int `json:"attempt"`
	// Failures counts attempts that failed; each consumes a retry.
	Failures int `json:"failures"`
	// Stalls counts deliveries lost with their worker (lease expired). A stall
	// does not consume a retry; past the queue's stall limit the job fails.
	Stalls int `json:"stalls"`
	// History records each failed or stalled attempt, oldest first.
	History []AttemptError `json:"history,omitempty"`

	Progress json.RawMessage `json:"progress,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	// Error is the last failure's message; for a failed job, why it failed.
	Error string `json:"error,omitempty"`

	AddedAt time.Time `json:"addedAt"`
	// ReadyAt, on a job handed to a handler, is when it became runnable:
	// added, due after a delay or a backoff, or its queue resumed. StartedAt
	// minus ReadyAt is its pickup latency.
	ReadyAt    time.Time `json:"-"`
	StartedAt  time.Time `json:"startedAt,omitzero"`  // the latest attempt's start
	FinishedAt time.Time `json:"finishedAt,omitzero"` // when it completed or failed
	DueAt      time.Time `json:"dueAt,omitzero"`      // when a delayed job becomes ready

	run *running // set on jobs handed to a handler
}

// MaxAttempts is how many times the job may run: its retries plus one.
func (j *Job) MaxAttempts() int { return j.Options.Retries + 1 }

// AttemptError is one entry of a job's history.
type AttemptError struct {
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
	At      time.Time `json:"at"`
	// Stalled is set when the attempt was lost with its worker rather than failed.
	Stalled bool `json:"stalled,omitempty"`
}

// JobOptions say how a job runs. The zero value of every field means the
// queue's default.
type JobOptions struct {
	// ID makes adding idempotent: adding a job whose id exists returns the
	// existing job and changes nothing. Empty means a generated id, a UUIDv7
	// made by the client, never reused whatever Redis loses. Custom ids are
	// at most 256 bytes without control characters, and never of the
	// generated form (a lowercase UUIDv7).
	ID string `json:"id,omitempty"`
	// Priority orders waiting jobs: lower runs first, 0 (the default) to 1000.
	// Jobs of equal priority run in the order they became ready.
	Priority int `json:"priority,omitempty"`
	// Delay postpones the first attempt; RunAt sets its time instead.
	Delay time.Duration `json:"delay,omitempty"`
	RunAt time.Time     `json:"runAt,omitzero"`
	// Retries is how many times a failed job runs again: 0 means the default
	// (3), NoRetries none. A job runs at most Retries+1 times.
	Retries int `json:"retries,omitempty"`
	// Backoff spaces retries; the zero value is exponential from 2 s.
	Backoff Backoff `json:"backoff,omitzero"`
	// Timeout bounds one attempt; a handler past it sees its context cancelled
	// and the attempt fails (and may be retried). Zero means no limit.
	Timeout time.Duration `json:"timeout,omitempty"`
	// RemoveOnComplete and RemoveOnFail say what is kept of finished jobs. By
	// default completed jobs are removed and failed jobs kept.
	RemoveOnComplete Retention `json:"removeOnComplete,omitzero"`
	RemoveOnFail     Retention `json:"removeOnFail,omitzero"`
	// DedupKey makes adding a no-op, returning the existing job, while another
	// job with the same key is waiting, delayed or active.
	DedupKey string `json:"dedupKey,omitempty"`
}

// NoRetries as JobOptions.Retries means a job runs once.
const NoRetries = -1

// MaxPriority is the largest (last-running) priority.
const MaxPriority = 1000

// BackoffType names how retries are spaced.
type BackoffType string

// Backoff types.
const (
	// BackoffExponential waits Delay × 2^(n−1) before retry n: 2 s, 4 s, 8 s from 2 s.
	BackoffExponential BackoffType = "exponential"
	// BackoffFixed waits Delay before every retry.
	BackoffFixed BackoffType = "fixed"
	// BackoffCustom asks the worker's WorkerConfig.Backoff function.
	BackoffCustom BackoffType = "custom"
)

// Backoff spaces retries. A handler error made with RetryAfter overrides it
// for one retry.
type Backoff struct {
	Type  BackoffType   `json:"type,omitempty"`
	Delay time.Duration `json:"delay,omitempty"`
	// Max caps the wait, when set.
	Max time.Duration `json:"max,omitempty"`
}

// maxBackoff caps every backoff, so doubling cannot overflow.
const maxBackoff = 365 * 24 * time.Hour

// delay returns the wait before retry n (n ≥ 1) for the built-in types, and
// 0 for BackoffCustom, which the worker resolves.
func (b Backoff) delay(n int) time.Duration {
	var d time.Duration
	switch b.Type {
	case BackoffFixed:
		d = b.Delay
	case BackoffExponential:
		d = b.Delay
		for i := 1; i < n && d < maxBackoff; i++ {
			d *= 2
		}
	}
	d = min(d, maxBackoff)
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	return d
}

// RetentionPolicy says whether finished jobs are removed or kept.
type RetentionPolicy string

// Retention policies.
const (
	RetainDefault RetentionPolicy = ""
	RetainRemove  RetentionPolicy = "remove"
	RetainKeep    RetentionPolicy = "keep"
)

// Retention says what is kept of jobs that end in one state.
type Retention struct {
	Policy RetentionPolicy `json:"policy,omitempty"`
	// Count, with RetainKeep, keeps only the newest Count jobs; 0 is no limit.
	Count int `json:"count,omitempty"`
	// Age, with RetainKeep, keeps jobs only this long after they finish; 0 is no limit.
	Age time.Duration `json:"age,omitempty"`
}

// Remove removes jobs as soon as they end.
var Remove = Retention{Policy: RetainRemove}

// Keep keeps every job.
var Keep = Retention{Policy: RetainKeep}

// KeepLast keeps the newest n jobs.
func KeepLast(n int) Retention { return Retention{Policy: RetainKeep, Count: n} }

// KeepFor keeps jobs for d after they end.
func KeepFor(d time.Duration) Retention { return Retention{Policy: RetainKeep, Age: d} }

// Counts is how many jobs a queue holds in each state, plus lifetime totals.
type Counts struct {
	Waiting   int64 `json:"waiting"`
	Active    int64 `json:"active"`
	Delayed   int64 `json:"delayed"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	// Paused counts waiting jobs held by a paused queue; Waiting is 0 then.
	Paused int64 `json:"paused"`
	// CompletedTotal and FailedTotal count every job that ever ended so, kept
	// or not; CancelledTotal the jobs cancelled (they show as failed, and a
	// job cancelled before it ran made no attempt), which FailedTotal leaves out.
	CompletedTotal int64 `json:"completedTotal"`
	FailedTotal    int64 `json:"failedTotal"`
	CancelledTotal int64 `json:"cancelledTotal"`
	IsPaused       bool  `json:"isPaused"`
	// OldestWaiting is how long the job next in line has been runnable, by
	// Redis's clock: since it was added, came due after a delay or backoff,
	// or its queue resumed (a job handed back unfinished by a stopping
	// worker counts from when it was added). Zero when no job waits or the
	// queue is paused. A backlog that nobody consumes shows as this growing.
	OldestWaiting time.Duration `json:"-"`
}
