package events

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/eventsd/eventsd/queue"
)

// The job names eventsd runs. Job names are stable strings: jobs already in
// Redis carry them.
const (
	// JobName is the seed's job: one mock-data event.
	JobName = "process-mock-data"
	// ImportJobName writes the events of a batch import.
	ImportJobName = "import-events"
	// RollupJobName recomputes the per-minute event counts of closed minutes.
	RollupJobName = "rollup-events"
	// DeliverWebhookJobName sends one event to one webhook subscription
	// (internal/webhooks).
	DeliverWebhookJobName = "deliver-webhook"
)

// JobType is one kind of job and the policy every job of the kind is added
// with. The Producer takes the policy from here; nothing else sets options.
type JobType struct {
	Name string
	// Retries after the first attempt; queue.NoRetries for none.
	Retries int
	Backoff queue.Backoff
	// Timeout bounds one attempt; its handler's context ends then.
	Timeout time.Duration
	// KeepCompleted and KeepFailed say what is kept of finished jobs. The
	// zero value means the deployment's default (KEEP_COMPLETED and
	// KEEP_FAILED, see Retention).
	KeepCompleted, KeepFailed queue.Retention
}

// JobTypes is every job type eventsd runs, with its retry policy, timeout
// and retention: the one place they are written. The worker handles exactly
// these names (NewMux); a job of any other name fails at once.
var JobTypes = []JobType{
	// The seed's policy: 3 retries (4 attempts) 2 s, 4 s, 8 s apart.
	{Name: JobName, Retries: 3, Backoff: queue.Backoff{Type: queue.BackoffExponential, Delay: 2 * time.Second},
		Timeout: 30 * time.Second},
	// An import is worth retrying for longer: its writes are idempotent, and
	// its result ({"inserted": n}) is what its caller polls for, so a
	// completed import stays a day whatever KEEP_COMPLETED says.
	{Name: ImportJobName, Retries: 5, Backoff: queue.Backoff{Type: queue.BackoffExponential, Delay: 5 * time.Second, Max: 5 * time.Minute},
		Timeout: 10 * time.Minute, KeepCompleted: queue.KeepFor(24 * time.Hour)},
	// A rollup recomputes from the events, so a failed one is redone by the
	// next minute's run anyway; two quick retries cover a blip.
	{Name: RollupJobName, Retries: 2, Backoff: queue.Backoff{Type: queue.BackoffFixed, Delay: 5 * time.Second},
		Timeout: time.Minute},
	// A delivery's retries follow WEBHOOK_RETRY_DELAYS, one per delay: the
	// webhooks package sets Retries per job and each wait with
	// queue.RetryAfter, so Retries and Backoff here are the defaults'. A
	// delivered job is kept an hour, so that a fan-out retried by its writer
	// or the outbox sweep finds it and adds no second one; a failed one a
	// week, for operators.
	{Name: DeliverWebhookJobName, Retries: 6, Timeout: time.Minute,
		KeepCompleted: queue.KeepFor(time.Hour), KeepFailed: queue.KeepFor(7 * 24 * time.Hour)},
}

// Retention is a deployment's default of what is kept of finished jobs, for
// job types whose row leaves it open. The zero value is the seed's:
// completed jobs removed at once, failed jobs kept.
type Retention struct {
	Completed, Failed queue.Retention
}

// LookupJobType returns the row of JobTypes named name.
func LookupJobType(name string) (JobType, bool) {
	i := slices.IndexFunc(JobTypes, func(t JobType) bool { return t.Name == name })
	if i < 0 {
		return JobType{}, false
	}
	return JobTypes[i], true
}

// jobType returns the row of a job type this package adds; a missing row is
// a programming error.
func jobType(name string) JobType {
	t, ok := LookupJobType(name)
	if !ok {
		panic("events: no row for job type " + name + " in JobTypes")
	}
	return t
}

// Options returns the options a job of type t is added with, its retention
// falling back to r.
func (t JobType) Options(r Retention) queue.JobOptions {
	return queue.JobOptions{
		Retries:          t.Retries,
		Backoff:          t.Backoff,
		Timeout:          t.Timeout,
		RemoveOnComplete: cmp.Or(t.KeepCompleted, r.Completed, queue.Remove),
		RemoveOnFail:     cmp.Or(t.KeepFailed, r.Failed, queue.Keep),
	}
}

// NewMux returns the worker's handler: handlers by job name, which must
// name exactly the rows of JobTypes (it panics otherwise: a wiring bug). A
// job whose name has no row fails at once, without retry, saying so.
func NewMux(handlers map[string]queue.Handler) *queue.Mux {
	m := queue.NewMux()
	for _, t := range JobTypes {
		h, ok := handlers[t.Name]
		if !ok {
			panic(fmt.Sprintf("events: NewMux: no handler for job type %s", t.Name))
		}
		m.Handle(t.Name, h)
	}
	for name := range handlers {
		if _, ok := LookupJobType(name); !ok {
			panic(fmt.Sprintf("events: NewMux: handler for %s, which has no row in JobTypes", name))
		}
	}
	return m
}
