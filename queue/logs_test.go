package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestWorkerLogsRetriesAndFailures: each retry is logged at info with the
// job, the attempt, the error and when it runs again; the final failure at
// warn. Completions are not logged.
func TestWorkerLogsRetriesAndFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var logs warnings
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	w := watch(t, b.q)
	b.startWorker(t, b.q, func(ctx context.Context, job *Job) (any, error) {
		if string(job.Data) == "ok" {
			return nil, nil
		}
		return nil, fmt.Errorf("boom %d", job.Attempt)
	}, WorkerConfig{Logger: log})
	ok := mustAdd(t, b.q, "fine", []byte("ok"), JobOptions{})
	j := mustAdd(t, b.q, "flaky", nil, JobOptions{Retries: 2, Backoff: Backoff{Type: BackoffFixed, Delay: 50 * time.Millisecond}})
	w.awaitJob(t, ok.ID, EventCompleted)
	w.awaitJob(t, j.ID, EventFailed)
	// The final failure is logged before the event is seen; wait for the
	// line all the same, as the order of the two is not promised.
	waitFor(t, "the final failure logged", func() bool { return strings.Contains(logs.String(), `"level":"WARN"`) })

	var retries, failures []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["job_id"] == ok.ID {
			t.Errorf("a completed job is logged: %v", rec)
		}
		switch rec["msg"] {
		case "job failed; retrying":
			retries = append(retries, rec)
		case "job failed":
			failures = append(failures, rec)
		}
	}
	if len(retries) != 2 || len(failures) != 1 {
		t.Fatalf("%d retry and %d failure records, want 2 and 1:\n%s", len(retries), len(failures), logs.String())
	}
	for i, r := range retries {
		attempt := float64(i + 1)
		due, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["due_at"]))
		if r["level"] != "INFO" || r["job_id"] != j.ID || r["job_name"] != "flaky" || r["attempt"] != attempt ||
			r["max_attempts"] != float64(3) || r["err"] != fmt.Sprintf("boom %d", i+1) || r["retry_in_ms"] != float64(50) ||
			err != nil || due.Location() != time.UTC {
			t.Errorf("retry record %d: %v", i, r)
		}
	}
	if f := failures[0]; f["level"] != "WARN" || f["job_id"] != j.ID || f["attempt"] != float64(3) || f["err"] != "boom 3" {
		t.Errorf("failure record: %v", f)
	}
}
