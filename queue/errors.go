package queue

import (
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on.
var (
	// ErrNotFound: no job with that id (it may have completed and been removed).
	ErrNotFound = errors.New("job not found")
	// ErrWrongState: the operation does not apply to the job's current state,
	// such as retrying a job that has not failed or removing an active one.
	ErrWrongState = errors.New("job is not in a state that allows this")
	// ErrInvalid: a job or its options are malformed.
	ErrInvalid = errors.New("invalid job")
	// ErrInvalidCursor: a page cursor that ListPage did not make, or made for
	// another state.
	ErrInvalidCursor = errors.New("invalid page cursor")
	// ErrCancelled is the cause of a handler's context when the job was cancelled.
	ErrCancelled = errors.New("job cancelled")
	// ErrLeaseLost is the cause of a handler's context when the worker lost the
	// job's lease (it was redelivered elsewhere) or is shutting down.
	ErrLeaseLost = errors.New("job lease lost")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// SkipRetry wraps err so that the job fails now, whatever retries it has left.
func SkipRetry(err error) error {
	if err == nil {
		err = errors.New("failed")
	}
	return &controlError{err: err, skipRetry: true}
}

// RetryAfter wraps err so that, if the job has retries left, the next attempt
// runs after d instead of after the job's backoff.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("failed")
	}
	return &controlError{err: err, retryAfter: d, hasDelay: true}
}

type controlError struct {
	err        error
	skipRetry  bool
	hasDelay   bool
	retryAfter time.Duration
}

func (e *controlError) Error() string { return e.err.Error() }
func (e *controlError) Unwrap() error { return e.err }
