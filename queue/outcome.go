package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// outcome is what became of one delivery of a job, as the ack script
// records it. Build one with completedOutcome, failedOutcome or retryOutcome.
type outcome struct {
	id    string
	state string // the run state the fetch gave
	kind  byte   // 'c' completed, 'f' failed, 'r' to be retried
	flags int    // what the job has that recording must clean up: see jobFlags
	spec  string // retention spec ('c', 'f'), or the retry delay in ms ('r')
	text  string // result JSON ('c', when kept), error message ('f', 'r')
	// attempt is the delivery's attempt number, for the lifecycle event.
	attempt int
}

// Flags tell the ack script which of a job's optional fields exist, so that
// removing a job deletes exactly those without looking.
const (
	flagDedup    = 1
	flagPriority = 2
	flagProgress = 4
	flagHistory  = 8
)

func jobFlags(j *Job) int {
	f := 0
	if j.Options.DedupKey != "" {
		f |= flagDedup
	}
	if j.Options.Priority > 0 {
		f |= flagPriority
	}
	if j.run != nil && j.run.progressed.Load() {
		f |= flagProgress
	}
	if j.Failures+j.Stalls > 0 {
		f |= flagHistory
	}
	return f
}

func completedOutcome(j *Job, result string) outcome {
	o := outcome{id: j.ID, state: j.run.state, kind: 'c', flags: jobFlags(j), spec: j.Options.RemoveOnComplete.spec(), attempt: j.Attempt}
	if j.Options.RemoveOnComplete.Policy != RetainRemove {
		o.text = result
	}
	return o
}

func failedOutcome(j *Job, msg string) outcome {
	return outcome{id: j.ID, state: j.run.state, kind: 'f', flags: jobFlags(j), spec: j.Options.RemoveOnFail.spec(), text: msg, attempt: j.Attempt}
}

func retryOutcome(j *Job, d time.Duration, msg string) outcome {
	return outcome{id: j.ID, state: j.run.state, kind: 'r', flags: jobFlags(j), spec: strconv.FormatInt(max(d, 0).Milliseconds(), 10), text: msg, attempt: j.Attempt}
}

// ackArgs orders a batch of outcomes as the ack script takes them: the
// common ones (a first attempt completed and removed) first, as id and run
// state only, all in one argument; every other with its code and text. It
// returns the batch in that order, by which the script's lost positions
// count (the batch itself when all are common, as most are).
func ackArgs(batch []outcome) ([]outcome, []any) {
	common, size := 0, 0
	for _, o := range batch {
		if o.common() {
			common++
			size += len(o.id) + len(o.state) + 2
		}
	}
	ordered := batch
	if common < len(batch) {
		ordered = make([]outcome, 0, len(batch))
		for _, o := range batch {
			if o.common() {
				ordered = append(ordered, o)
			}
		}
		for _, o := range batch {
			if !o.common() {
				ordered = append(ordered, o)
			}
		}
	}
	var pairs strings.Builder
	pairs.Grow(size)
	for _, o := range ordered[:common] {
		pairs.WriteString(o.id)
		pairs.WriteByte('\n')
		pairs.WriteString(o.state)
		pairs.WriteByte('\n')
	}
	args := make([]any, 0, 2+4*(len(batch)-common))
	args = append(args, common, pairs.String())
	for _, o := range ordered[common:] {
		args = append(args, o.id, o.state, string(o.kind)+"|"+strconv.Itoa(o.flags)+"|"+strconv.Itoa(o.attempt)+"|"+o.spec, o.text)
	}
	return ordered, args
}

// common reports whether o is a first attempt completed and removed, with
// nothing else to clean up: the ack script's fast case.
func (o outcome) common() bool {
	return o.kind == 'c' && o.flags == 0 && o.attempt == 1 && o.spec == "r"
}

// maxErrorLen bounds a stored error message.
const maxErrorLen = 4096

// verdict is how a failed attempt is classified.
type verdict struct {
	final bool   // fail the job now, whatever retries it has left
	msg   string // the message to store
	// retryAfter, when set, replaces the backoff before the next attempt.
	retryAfter    time.Duration
	hasRetryAfter bool
}

// classify reads a failed attempt: the handler's error err, and the cause
// with which the worker cancelled the attempt's context (nil if it did not):
// cancelled jobs and SkipRetry errors fail now, as do jobs out of attempts.
// attempt is the failed attempt's number and timeout the job's limit.
func classify(err, cause error, attempt, maxAttempts int, timeout time.Duration) verdict {
	v := verdict{msg: err.Error()}
	switch {
	case errors.Is(cause, ErrCancelled):
		v.msg = "cancelled: " + v.msg
	case errors.Is(cause, errTimeout):
		v.msg = fmt.Sprintf("timed out after %s: %s", timeout, v.msg)
	}
	if len(v.msg) > maxErrorLen {
		v.msg = strings.ToValidUTF8(v.msg[:maxErrorLen], "") + "…"
	}
	var ce *controlError
	errors.As(err, &ce)
	v.final = errors.Is(cause, ErrCancelled) || (ce != nil && ce.skipRetry) || attempt >= maxAttempts
	if ce != nil && ce.hasDelay {
		v.retryAfter, v.hasRetryAfter = ce.retryAfter, true
	}
	return v
}

// backoff is the wait before retry n (n ≥ 1) of job under its options; a
// custom backoff asks custom, or is exponential from the default delay
// without one.
func backoff(job *Job, n int, err error, custom func(*Job, int, error) time.Duration) time.Duration {
	b := job.Options.Backoff
	switch {
	case b.Type == BackoffCustom && custom != nil:
		return max(custom(job, n, err), 0)
	case b.Type == BackoffCustom:
		b = Backoff{Type: BackoffExponential, Delay: DefaultBackoffDelay}
	}
	return b.delay(n)
}

// outcomeOf turns a handler's return into the outcome to record, and says
// where the job goes. A failed attempt whose lease was lost records
// nothing (ok false): the job comes back as a stall, or already runs
// elsewhere. A success is recorded even then; the lease decides if it counts.
func (w *Worker) outcomeOf(ctx context.Context, job *Job, result any, err error) (o outcome, to State, ok bool) {
	if err == nil {
		if job.Options.RemoveOnComplete.Policy == RetainRemove {
			return completedOutcome(job, ""), StateCompleted, true // the result goes nowhere
		}
		payload, encErr := encodeValue(result)
		if encErr == nil {
			return completedOutcome(job, payload), StateCompleted, true
		}
		err = SkipRetry(encErr)
	}
	cause := context.Cause(ctx) // nil unless the worker cancelled the attempt
	if errors.Is(cause, ErrLeaseLost) {
		return outcome{}, StateActive, false
	}
	attempt := job.Failures + 1
	v := classify(err, cause, attempt, job.MaxAttempts(), job.Options.Timeout)
	if v.final {
		return failedOutcome(job, v.msg), StateFailed, true
	}
	d := v.retryAfter
	if !v.hasRetryAfter {
		d = backoff(job, attempt, err, w.cfg.Backoff)
	}
	if d > 0 {
		return retryOutcome(job, d, v.msg), StateDelayed, true
	}
	return retryOutcome(job, 0, v.msg), StateWaiting, true
}

// encodeValue renders a progress or result value as JSON. A []byte or
// json.RawMessage that holds valid JSON is stored as is.
func encodeValue(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		if json.Valid(v) {
			return string(v), nil
		}
		return "", fmt.Errorf("%w: value is not valid JSON", ErrInvalid)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("%w: value is not JSON-encodable: %v", ErrInvalid, err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
