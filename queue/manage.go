package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
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
	res, err := q.run(ctx, scriptGet, args...).Slice()
	if err != nil {
		return nil, err
	}
	const per = 7
	if len(res) != per*len(ids)+1 {
		return nil, errReply
	}
	paused := num(res[len(res)-1]) == 1
	out := make([]*Job, len(ids))
	for i, id := range ids {
		v := res[i*per : (i+1)*per]
		rec, ok := v[0].(string)
		if !ok {
			continue
		}
		j := &Job{ID: id, Queue: q.name}
		if err := decodeRecord(j, rec); err != nil {
			return nil, err
		}
		r := parseRun(str(v[1]))
		j.Failures, j.Stalls, j.StartedAt = int(r.failures), int(r.stalls), r.startedAt
		j.Progress, j.Result = rawJSON(str(v[2])), rawJSON(str(v[3]))
		if h := str(v[4]); h != "" {
			var entries []historyEntry
			if err := json.Unmarshal([]byte(h), &entries); err != nil {
				return nil, fmt.Errorf("job %s: history: %w", id, err)
			}
			j.History = make([]AttemptError, len(entries))
			for k, e := range entries {
				j.History[k] = AttemptError{Attempt: e.Attempt, Error: e.Error, At: time.UnixMilli(e.At).UTC(), Stalled: e.Stalled}
			}
			if len(entries) > 0 {
				j.Error = entries[len(entries)-1].Error
			}
		}
		j.State = State(str(v[5]))
		score := num(v[6])
		switch j.State {
		case StateWaiting:
			if paused {
				j.State = StatePaused
			}
		case StateDelayed:
			j.DueAt = time.UnixMilli(score).UTC()
		case StateCompleted, StateFailed:
			j.FinishedAt = time.UnixMilli(score).UTC()
		case "":
			// Data without a set: a job caught mid-removal. Report it missing.
			continue
		}
		j.Attempt = j.Failures
		if j.State == StateActive || j.State == StateCompleted {
			j.Attempt++
		}
		out[i] = j
	}
	return out, nil
}

// List returns up to limit jobs in state, skipping offset: waiting (and
// paused) jobs in the order they will run, delayed by due time, active by
// lease, completed and failed newest first.
func (q *Queue) List(ctx context.Context, state State, offset, limit int) ([]*Job, error) {
	if offset < 0 || limit < 1 || limit > 1000 {
		return nil, invalidf("offset must be >= 0 and limit 1..1000")
	}
	set := state
	switch state {
	case StatePaused:
		set = StateWaiting
	case StateWaiting, StateActive, StateDelayed, StateCompleted, StateFailed:
	default:
		return nil, invalidf("unknown state %q", state)
	}
	ids, err := q.run(ctx, scriptList, string(set), offset, limit).StringSlice()
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
	v, err := q.run(ctx, scriptCounts).Int64Slice()
	if err != nil {
		return Counts{}, fmt.Errorf("queue %s: counts: %w", q.name, err)
	}
	if len(v) != 8 {
		return Counts{}, errReply
	}
	c := Counts{Waiting: v[0], Active: v[1], Delayed: v[2], Completed: v[3], Failed: v[4],
		CompletedTotal: v[5], FailedTotal: v[6], IsPaused: v[7] == 1}
	if c.IsPaused {
		c.Paused, c.Waiting = c.Waiting, 0
	}
	return c, nil
}

// Remove deletes a job that is not running: ErrWrongState for an active job
// (cancel it first), ErrNotFound when there is none.
func (q *Queue) Remove(ctx context.Context, id string) error {
	return q.simple(ctx, "remove", scriptRemove, id)
}

// Retry moves a failed job back to waiting with its failure and stall counts
// reset; its history is kept. ErrWrongState if it has not failed.
func (q *Queue) Retry(ctx context.Context, id string) error {
	res, err := q.run(ctx, scriptRetry, id).Result()
	if err != nil {
		return fmt.Errorf("queue %s: retry %s: %w", q.name, id, err)
	}
	return replyErr(res)
}

// RetryAll retries every failed job and says how many.
func (q *Queue) RetryAll(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := q.run(ctx, scriptRetry, "", 1000).Int()
		if err != nil {
			return total, fmt.Errorf("queue %s: retry all: %w", q.name, err)
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}

// Promote makes a delayed job ready to run now. ErrWrongState if it is not delayed.
func (q *Queue) Promote(ctx context.Context, id string) error {
	return q.simple(ctx, "promote", scriptPromote, id)
}

// Cancel stops a job. A waiting or delayed job fails at once with the error
// "cancelled". A running job's handler sees its context cancelled with cause
// ErrCancelled, in whichever process runs it; the job then fails without
// retry, unless the handler returns success anyway, in which case it
// completes. ErrWrongState if the job already finished.
func (q *Queue) Cancel(ctx context.Context, id string) error {
	res, err := q.run(ctx, scriptCancel, id, q.cancelChannel).Text()
	if err != nil {
		return fmt.Errorf("queue %s: cancel %s: %w", q.name, id, err)
	}
	switch res {
	case "missing":
		return ErrNotFound
	case "finished":
		return ErrWrongState
	}
	return nil
}

// Pause stops the queue handing out jobs, in every process; running jobs go
// on and new jobs are still accepted.
func (q *Queue) Pause(ctx context.Context) error {
	return q.run(ctx, scriptPause, "1").Err()
}

// Resume undoes Pause.
func (q *Queue) Resume(ctx context.Context) error {
	return q.run(ctx, scriptPause, "0").Err()
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
	case age < 0 || limit < 1:
		return 0, invalidf("clean needs age >= 0 and limit >= 1")
	}
	n, err := q.run(ctx, scriptClean, string(state), age.Milliseconds(), limit).Int()
	if err != nil {
		return 0, fmt.Errorf("queue %s: clean %s: %w", q.name, state, err)
	}
	return n, nil
}

// simple runs a script that takes one job id and answers a status word.
func (q *Queue) simple(ctx context.Context, op string, s *redis.Script, id string) error {
	res, err := q.run(ctx, s, id).Result()
	if err != nil {
		return fmt.Errorf("queue %s: %s %s: %w", q.name, op, id, err)
	}
	return replyErr(res)
}

// replyErr maps a script's status word to an error.
func replyErr(res any) error {
	switch res {
	case "missing":
		return ErrNotFound
	case "state", "active", "finished":
		return ErrWrongState
	}
	return nil
}
