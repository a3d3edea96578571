package webhooks

import (
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
)

// TestJobOptionsFollowTheRow checks that deliveries take their timeout and
// retention from their row of events.JobTypes, and their retries from the
// schedule.
func TestJobOptionsFollowTheRow(t *testing.T) {
	t.Parallel()
	row, ok := events.LookupJobType(JobName)
	if !ok {
		t.Fatalf("events.JobTypes has no %s row", JobName)
	}
	for _, retries := range []int{0, 3, len(DefaultRetryDelays)} {
		o := jobOptions(retries)
		want := retries
		if retries == 0 {
			want = queue.NoRetries
		}
		if o.Retries != want || o.Timeout != row.Timeout || o.RemoveOnComplete != row.KeepCompleted || o.RemoveOnFail != row.KeepFailed {
			t.Fatalf("jobOptions(%d) = %+v; want %d retries and the row %+v", retries, o, want, row)
		}
	}
}
