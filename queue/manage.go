package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Get returns the job with id, or ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (*Job, error) {
	jobs, err := q.getMany(ctx, []string{id})
	if err != nil {
		return nil, fmt.Errorf("queue %s: get %s: %w", q.name, id, err)
	}
	if jobs[0] == nil {
		return nil, ErrNotFound
	}
	return jobs[0], nil
}

// getMany reads jobs in one script call; a missing job is nil.
func (q *Queue) getMany(ctx context.Context, ids []string) ([]*Job, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	reply, err := q.call(ctx, scriptGet, request{}, args...)
	if err != nil {
		return nil, err
	}
	paused, stored, err := decodeGet(reply)
	if err == nil && len(stored) != len(ids) {
		err = errWire
	}
	if err != nil {
		return nil, err
	}
	out := make([]*Job, len(ids))
	for i, s := range stored {
		if s.record == "" || s.state == "" {
			continue // no such job, or one caught mid-removal
		}
		j, err := s.job(ids[i], q.name, paused)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", ids[i], err)
		}
		out[i] = j
	}
	return out, nil
}

// job decodes a stored job.
func (s storedJob) job(id, queue string, paused bool) (*Job, error) {
	rec, err := parseRecord(s.record)
	if err != nil {
		return nil, err
	}
	j := &Job{ID: id, Queue: queue, Name: rec.name, Data: []byte(rec.data), AddedAt: rec.addedAt, State: s.state}
	if err := decodeOptions(rec.options, &j.Options); err != nil {
		return nil, err
	}
	if s.run != "" {
		r, err := parseRun(s.run)
		if err != nil {
			return nil, err
		}
		j.Failures, j.Stalls, j.StartedAt = int(r.failures), int(r.stalls), r.startedAt
	}
	j.Progress, j.Result = rawJSON(s.progress), rawJSON(s.result)
	if j.History, err = parseHistory(s.history); err != nil {
		return nil, err
	}
	if len(j.History) > 0 {
		j.Error = j.History[len(j.History)-1].Error
	}
	score, _ := strconv.ParseFloat(s.score, 64)
	switch j.State {
	case StateWaiting:
		if paused {
			j.State = StatePaused
		}
	case StateDelayed:
		j.DueAt = msTime(int64(score))
	case StateCompleted, StateFailed:
		j.FinishedAt = msTime(int64(score))
	}
	j.Attempt = j.Failures
	if j.State == StateActive || j.State == StateCompleted {
		j.Attempt++
	}
	return j, nil
}

// optionsCache holds decoded options by their JSON: the jobs of one producer
// mostly share theirs, and decoding JSON is most of what reading a job costs.
var optionsCache = struct {
	sync.RWMutex
	m map[string]JobOptions
}{m: map[string]JobOptions{}}

func decodeOptions(s string, o *JobOptions) error {
	optionsCache.RLock()
	cached, ok := optionsCache.m[s]
	optionsCache.RUnlock()
	if ok {
		*o = cached
		return nil
	}
	if err := json.Unmarshal([]byte(s), o); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	optionsCache.Lock()
	if len(optionsCache.m) >= 1024 {
		clear(optionsCache.m)
	}
	optionsCache.m[s] = *o
	optionsCache.Unlock()
	return nil
}

// MaxListOffset bounds List's offset: no queue holds more jobs.
const MaxListOffset = 1 << 40

// List returns up to limit jobs in state, skipping offset: waiting (and
// paused) jobs in the order they will run, delayed by due time, active by
// lease, completed and failed newest first.
func (q *Queue) List(ctx context.Context, state State, offset, limit int) ([]*Job, error) {
	if offset < 0 || limit < 1 || limit > 1000 {
		return nil, invalidf("offset must be >= 0 and limit 1..1000")
	}
	if offset > MaxListOffset {
		return []*Job{}, nil
	}
	set := state
	switch state {
	case StatePaused:
		set = StateWaiting
	case StateWaiting, StateActive, StateDelayed, StateCompleted, StateFailed:
	default:
		return nil, invalidf("unknown state %q", state)
	}
	reply, err := q.call(ctx, scriptList, request{}, string(set), itoa(int64(offset)), itoa(int64(offset+limit-1)))
	var ids []string
	if err == nil {
		ids, err = decodeIDs(reply)
	}
	if err != nil {
		return nil, fmt.Errorf("queue %s: list %s: %w", q.name, state, err)
	}
	if len(ids) == 0 {
		return []*Job{}, nil
	}
	jobs, err := q.getMany(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("queue %s: list %s: %w", q.name, state, err)
	}
	out := jobs[:0]
	for _, j := range jobs {
		// A job may move between the two reads; list only what is still
		// here. Waiting jobs of a paused queue show as paused.
		if j != nil && (j.State == state || state == StateWaiting && j.State == StatePaused) {
			out = append(out, j)
		}
	}
	return out, nil
}

// Counts returns the number of jobs in each state and the lifetime totals,
// read at one instant.
func (q *Queue) Counts(ctx context.Context) (Counts, error) {
	reply, err := q.call(ctx, scriptCounts, request{})
	var c Counts
	if err == nil {
		c, err = decodeCounts(reply)
	}
	if err != nil {
		return Counts{}, fmt.Errorf("queue %s: counts: %w", q.name, err)
	}
	return c, nil
}

// Remove deletes a job that is not running: ErrWrongState for an active job
// (cancel it first), ErrNotFound when there is none.
func (q *Queue) Remove(ctx context.Context, id string) error {
	return q.manage(ctx, "remove", scriptRemove, id)
}

// Retry moves a failed job back to waiting with its failure and stall counts
// reset; its history is kept. ErrWrongState if it has not failed.
func (q *Queue) Retry(ctx context.Context, id string) error {
	return q.manage(ctx, "retry", scriptRetry, id)
}

// retryAllBatch bounds the jobs one retry script moves.
const retryAllBatch = 1000

// RetryAll retries every failed job and says how many.
func (q *Queue) RetryAll(ctx context.Context) (int, error) {
	total := 0
	for {
		reply, err := q.call(ctx, scriptRetry, q.newRequest(), "", retryAllBatch)
		var word string
		if err == nil {
			word, err = decodeOne(reply)
		}
		if err != nil {
			return total, fmt.Errorf("queue %s: retry all: %w", q.name, err)
		}
		n, _ := strconv.Atoi(word)
		total += n
		if n < retryAllBatch {
			return total, nil
		}
	}
}

// Promote makes a delayed job ready to run now. ErrWrongState if it is not delayed.
func (q *Queue) Promote(ctx context.Context, id string) error {
	return q.manage(ctx, "promote", scriptPromote, id)
}

// Cancel stops a job. A waiting or delayed job ends at once as failed with
// the error "cancelled", having made no attempt. A running job's handler
// sees its context cancelled with cause ErrCancelled, in whichever process
// runs it; the job then fails without retry, unless the handler returns
// success anyway, in which case it completes. Cancelled jobs count in
// Counts.CancelledTotal, not FailedTotal. ErrWrongState if the job already
// finished.
func (q *Queue) Cancel(ctx context.Context, id string) error {
	return q.manage(ctx, "cancel", scriptCancel, id, q.cancelChannel)
}

// Pause stops the queue handing out jobs, in every process; running jobs go
// on and new jobs are still accepted.
func (q *Queue) Pause(ctx context.Context) error {
	_, err := q.call(ctx, scriptPause, request{}, "1")
	return err
}

// Resume undoes Pause.
func (q *Queue) Resume(ctx context.Context) error {
	_, err := q.call(ctx, scriptPause, request{}, "0")
	return err
}

// Clean removes up to limit jobs in state older than age: completed and
// failed jobs by when they finished, waiting, paused and delayed jobs by when
// they were added (looking at no more than 10×limit of them). Active jobs
// cannot be cleaned. It says how many went.
func (q *Queue) Clean(ctx context.Context, state State, age time.Duration, limit int) (int, error) {
	if state == StatePaused {
		state = StateWaiting
	}
	switch {
	case state == StateActive || state != StateWaiting && state != StateDelayed && state != StateCompleted && state != StateFailed:
		return 0, invalidf("cannot clean state %q", state)
	case age < 0 || limit < 1 || limit > 100_000:
		return 0, invalidf("clean needs age >= 0 and limit 1..100000")
	}
	reply, err := q.call(ctx, scriptClean, q.newRequest(), string(state), age.Milliseconds(), limit)
	var word string
	if err == nil {
		word, err = decodeOne(reply)
	}
	if err != nil {
		return 0, fmt.Errorf("queue %s: clean %s: %w", q.name, state, err)
	}
	n, _ := strconv.Atoi(word)
	return n, nil
}

// manage runs a management script that takes one job id (and maybe more)
// and answers a status word, as one request: a call retried after a lost
// reply gets the first run's answer.
func (q *Queue) manage(ctx context.Context, op string, s script, id string, more ...any) error {
	reply, err := q.call(ctx, s, q.newRequest(), append([]any{id}, more...)...)
	var word string
	if err == nil {
		word, err = decodeOne(reply)
	}
	if err != nil {
		return fmt.Errorf("queue %s: %s %s: %w", q.name, op, id, err)
	}
	switch word {
	case "missing":
		return ErrNotFound
	case "state", "active", "finished":
		return ErrWrongState
	}
	return nil
}
