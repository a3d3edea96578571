package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/queue"
)

// countsOf answers GET /api/events/counts for [from, to) as "minute name" →
// count.
func (p *proc) countsOf(from, to time.Time) map[string]int64 {
	p.t.Helper()
	var out struct {
		Items []struct {
			Minute string `json:"minute"`
			Name   string `json:"name"`
			Count  int64  `json:"count"`
		} `json:"items"`
	}
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	p.getJSON("/api/events/counts?"+q.Encode(), http.StatusOK, &out)
	m := map[string]int64{}
	for _, c := range out.Items {
		m[c.Minute+" "+c.Name] = c.Count
	}
	return m
}

// directCounts counts the events of [from, to) per minute and name by
// listing every one of them.
func (p *proc) directCounts(from, to time.Time) map[string]int64 {
	p.t.Helper()
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	m := map[string]int64{}
	for _, e := range p.allEvents(q.Encode()) {
		at, err := time.Parse(time.RFC3339, e.CreatedAt)
		if err != nil {
			p.t.Fatalf("event %s: createdAt %q", e.ID, e.CreatedAt)
		}
		m[at.Truncate(time.Minute).Format("2006-01-02T15:04:05.000Z")+" "+e.Name]++
	}
	return m
}

// TestImportTenThousand imports 10,000 past events into eventsd dev: the job
// reports growing progress on GET /api/jobs/{id} and the lifecycle stream,
// ends with {"inserted": 10000}, exactly 10,000 events land, and the
// per-minute counts agree with counting the events, for the imported past
// and for events of the present counted by the rollup schedule.
func TestImportTenThousand(t *testing.T) {
	t.Parallel()
	p := start(t, "import", "dev", map[string]string{
		"DATA_DIR": t.TempDir(), "CRON_MOCK_DATA": "off", "CRON_ROLLUP": "*/5 * * * * *",
	})
	const n = 10_000
	names := []string{"order.placed", "order.shipped", "user.signed_up", "page.viewed"}
	from := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	var body strings.Builder
	body.WriteString(`{"events":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		at := from.Add(time.Duration(i) * 700 * time.Millisecond) // about 117 minutes
		fmt.Fprintf(&body, `{"name":%q,"createdAt":%q,"data":{"i":%d}}`, names[i*7%len(names)], at.Format(time.RFC3339Nano), i)
	}
	body.WriteString(`]}`)
	to := from.Add(n * 700 * time.Millisecond).Add(time.Minute).Truncate(time.Minute)

	a := p.do("POST", "/api/events/batch", body.String())
	var accepted struct {
		JobID string `json:"jobId"`
	}
	p.decode(a, "POST /api/events/batch", http.StatusAccepted, &accepted)
	if a.Header.Get("Location") != "/api/jobs/"+accepted.JobID {
		t.Errorf("Location %q; want /api/jobs/%s", a.Header.Get("Location"), accepted.JobID)
	}

	// Progress, as the lifecycle stream told it, up to completion.
	var progress []int
	p.readLifecycle(3*time.Minute, func(ev lifecycle) bool {
		if ev.JobID != accepted.JobID {
			return true
		}
		switch ev.Type {
		case "progress":
			var pct int
			if err := json.Unmarshal(ev.Progress, &pct); err != nil {
				t.Fatalf("progress %s: %v", ev.Progress, err)
			}
			progress = append(progress, pct)
		case "failed":
			t.Fatalf("import failed: %s", ev.Error)
		}
		return ev.Type != "completed"
	})
	if len(progress) < 2 || progress[len(progress)-1] != 100 {
		t.Fatalf("progress events %v; want several, ending at 100", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] <= progress[i-1] {
			t.Fatalf("progress events %v; want them growing", progress)
		}
	}
	var job struct {
		State    string          `json:"state"`
		Progress json.RawMessage `json:"progress"`
		Result   json.RawMessage `json:"result"`
		Data     any             `json:"data"`
	}
	p.getJSON("/api/jobs/"+accepted.JobID, http.StatusOK, &job)
	if job.State != "completed" || string(job.Progress) != "100" || string(job.Result) != `{"inserted":10000}` {
		t.Fatalf("import job: state %s, progress %s, result %s", job.State, job.Progress, job.Result)
	}
	if s, ok := job.Data.(string); !ok || !strings.Contains(s, "not shown") {
		t.Errorf("import job data shown as %.100v; want its size only", job.Data)
	}
	if total := p.stats().Events.Total; total != n {
		t.Fatalf("events stored = %d; want exactly %d", total, n)
	}

	// The imported minutes had closed: the import counted them.
	direct := p.directCounts(from, to)
	if len(direct) < 100 {
		t.Fatalf("direct counts over %d minutes and names; want the import spread over more", len(direct))
	}
	if got := p.countsOf(from, to); fmt.Sprint(got) != fmt.Sprint(direct) {
		t.Fatalf("counts disagree with counting the events:\n got %v\nwant %v", got, direct)
	}

	// Events of the present: counted by the rollup schedule once their
	// minute closes.
	for i := range 5 {
		p.decode(p.do("POST", "/api/events", fmt.Sprintf(`{"name":"live.%d"}`, i%2)), "POST /api/events", http.StatusCreated, nil)
	}
	now := time.Now().UTC()
	liveFrom, liveTo := now.Add(-time.Minute).Truncate(time.Minute), now.Add(2*time.Minute).Truncate(time.Minute)
	eventually(t, 3*time.Minute, "the rollup schedule to count this minute's events", func() (bool, string) {
		got, want := p.countsOf(liveFrom, liveTo), p.directCounts(liveFrom, liveTo)
		return len(want) > 0 && fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprintf("counts %v, events %v", got, want)
	})
}

// TestUnknownJobName adds, through the same Redis, a job no eventsd job
// type has: the worker fails it at its first attempt, and GET
// /api/jobs/{id} says why.
func TestUnknownJobName(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	p := start(t, "unknown", "dev", map[string]string{
		"DATA_DIR": t.TempDir(), "REDIS_URL": r.URL, "QUEUE_PREFIX": r.Prefix, "CRON_ENABLED": "false",
	})
	q := queue.NewClient(r.Client, queue.Config{Prefix: r.Prefix}).Queue(events.QueueName)
	j, err := q.Add(context.Background(), "send-fax", []byte(`{"to":"+33 1 23 45 67 89"}`), queue.JobOptions{Retries: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got job
	eventually(t, time.Minute, "the unknown job to fail", func() (bool, string) {
		p.getJSON("/api/jobs/"+j.ID, http.StatusOK, &got)
		return got.State == "failed", got.State
	})
	if got.Attempt != 1 || got.Failures != 1 || got.MaxAttempts != 6 {
		t.Errorf("unknown job: attempt %d, failures %d of %d attempts; want it failed at its first", got.Attempt, got.Failures, got.MaxAttempts)
	}
	want := `unknown job name "send-fax": this worker runs only "deliver-webhook", "import-events", "process-mock-data", "rollup-events"; the job fails without retry`
	if got.Error != want {
		t.Errorf("error %q\nwant %q", got.Error, want)
	}
}

// TestKeepCompleted runs eventsd dev with KEEP_COMPLETED=100: a job that
// succeeded stays inspectable at GET /api/jobs/{id}, with its result,
// where by default it is gone once done.
func TestKeepCompleted(t *testing.T) {
	t.Parallel()
	p := start(t, "keep", "dev", map[string]string{"DATA_DIR": t.TempDir(), "CRON_ENABLED": "false", "KEEP_COMPLETED": "100"})
	ids := p.generate(3)
	for _, id := range ids {
		var got struct {
			State   string          `json:"state"`
			Result  json.RawMessage `json:"result"`
			Options struct {
				RemoveOnComplete struct {
					Policy string `json:"policy"`
					Count  int    `json:"count"`
				} `json:"removeOnComplete"`
			} `json:"options"`
		}
		eventually(t, time.Minute, "job "+id+" to complete", func() (bool, string) {
			p.getJSON("/api/jobs/"+id, http.StatusOK, &got)
			return got.State == "completed", got.State
		})
		if !strings.Contains(string(got.Result), `"eventId"`) || got.Options.RemoveOnComplete.Policy != "keep" || got.Options.RemoveOnComplete.Count != 100 {
			t.Fatalf("completed job %s: result %s, removeOnComplete %+v; want its event's id, kept as one of 100", id, got.Result, got.Options.RemoveOnComplete)
		}
	}
	if s := p.stats(); s.Queue.Completed != 3 {
		t.Fatalf("completed jobs kept = %d; want 3", s.Queue.Completed)
	}
}
