package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBackoffDelays(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		b    Backoff
		n    int
		want time.Duration
	}{
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 1, 2 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 2, 4 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: 2 * time.Second}, 3, 8 * time.Second},
		{Backoff{Type: BackoffExponential, Delay: time.Second, Max: 5 * time.Second}, 10, 5 * time.Second},
		{Backoff{Type: BackoffFixed, Delay: time.Second}, 7, time.Second},
		{Backoff{Type: BackoffExponential, Delay: time.Hour}, 200, 365 * 24 * time.Hour},
	} {
		if got := tc.b.delay(tc.n); got != tc.want {
			t.Errorf("%+v.delay(%d) = %s, want %s", tc.b, tc.n, got, tc.want)
		}
	}
	custom := func(j *Job, n int, err error) time.Duration { return time.Duration(n) * time.Minute }
	for _, tc := range []struct {
		b      Backoff
		custom func(*Job, int, error) time.Duration
		want   time.Duration
	}{
		{Backoff{Type: BackoffCustom}, custom, 3 * time.Minute},
		{Backoff{Type: BackoffCustom}, nil, 8 * time.Second}, // exponential from 2 s
		{Backoff{Type: BackoffCustom}, func(*Job, int, error) time.Duration { return -time.Second }, 0},
		{Backoff{Type: BackoffFixed, Delay: time.Second}, custom, time.Second},
	} {
		j := &Job{Options: JobOptions{Backoff: tc.b}}
		if got := backoff(j, 3, errors.New("x"), tc.custom); got != tc.want {
			t.Errorf("backoff(%+v, custom %v) = %s, want %s", tc.b, tc.custom != nil, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name          string
		err, cause    error
		attempt, max  int
		final         bool
		msg           string
		retryAfter    time.Duration
		hasRetryAfter bool
	}{
		{"retries left", boom, nil, 1, 4, false, "boom", 0, false},
		{"last attempt", boom, nil, 4, 4, true, "boom", 0, false},
		{"skip retry", SkipRetry(boom), nil, 1, 4, true, "boom", 0, false},
		{"skip retry of nil", SkipRetry(nil), nil, 1, 4, true, "failed", 0, false},
		{"retry after", RetryAfter(time.Minute, boom), nil, 1, 4, false, "boom", time.Minute, true},
		{"retry after, out of attempts", RetryAfter(time.Minute, boom), nil, 4, 4, true, "boom", time.Minute, true},
		{"wrapped control error", fmt.Errorf("ctx: %w", SkipRetry(boom)), nil, 1, 4, true, "ctx: boom", 0, false},
		{"cancelled", context.Canceled, ErrCancelled, 1, 4, true, "cancelled: context canceled", 0, false},
		{"timed out", context.DeadlineExceeded, errTimeout, 1, 4, false, "timed out after 1s: context deadline exceeded", 0, false},
	} {
		v := classify(tc.err, tc.cause, tc.attempt, tc.max, time.Second)
		if v.final != tc.final || v.msg != tc.msg || v.retryAfter != tc.retryAfter || v.hasRetryAfter != tc.hasRetryAfter {
			t.Errorf("%s: %+v", tc.name, v)
		}
	}
	long := classify(errors.New(strings.Repeat("é", 3000)), nil, 1, 1, 0)
	if len(long.msg) > maxErrorLen+len("…") || !strings.HasSuffix(long.msg, "…") {
		t.Errorf("long message kept %d bytes", len(long.msg))
	}
}

func TestOutcomeArgs(t *testing.T) {
	t.Parallel()
	j := &Job{ID: "a", Failures: 1, Attempt: 2, run: &running{token: 7, state: "7,1,0,5"}}
	j.Options, _ = resolve(JobOptions{Priority: 2, DedupKey: "k", RemoveOnComplete: KeepLast(3)})
	for _, tc := range []struct {
		o    outcome
		want string
	}{
		{completedOutcome(j, `"r"`), `[0  a 7,1,0,5 c|11|2|k:3:0 "r"]`},
		{failedOutcome(j, "no"), `[0  a 7,1,0,5 f|11|2|k:0:0 no]`},
		{retryOutcome(j, 1500*time.Millisecond, "again"), `[0  a 7,1,0,5 r|11|2|1500 again]`},
		{retryOutcome(j, -time.Second, "again"), `[0  a 7,1,0,5 r|11|2|0 again]`},
	} {
		if _, args := ackArgs([]outcome{tc.o}); fmt.Sprint(args) != tc.want {
			t.Errorf("args %v, want %s", args, tc.want)
		}
	}
	j.Options.RemoveOnComplete = Remove
	if o := completedOutcome(j, `"dropped"`); o.text != "" || o.spec != "r" {
		t.Errorf("a removed job's result is sent: %+v", o)
	}
	// Common outcomes go first, as id and run state only.
	first := &Job{ID: "b", Attempt: 1, Options: JobOptions{RemoveOnComplete: Remove}, run: &running{state: "1,0,0,5"}}
	order, args := ackArgs([]outcome{failedOutcome(j, "no"), completedOutcome(first, "")})
	if fmt.Sprint(args) != "[1 b\n1,0,0,5\n a 7,1,0,5 f|11|2|k:0:0 no]" || order[0].id != "b" || order[1].id != "a" {
		t.Errorf("mixed batch: args %v, order %v", args, order)
	}
}
