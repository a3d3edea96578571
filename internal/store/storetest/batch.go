package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func batchTests() []test {
	return []test{
		{"CreateManyKeepsOrder", testCreateManyKeepsOrder},
		{"CreateManyJobIDs", testCreateManyJobIDs},
		{"CreateManyEmpty", testCreateManyEmpty},
		{"CreateManyConcurrentOverlap", testCreateManyConcurrentOverlap},
	}
}

func testCreateManyKeepsOrder(t *testing.T, s events.Store) {
	in := make([]events.Event, 250)
	for i := range in {
		// Times out of order, so that order by time cannot pass for input order.
		in[i] = events.Event{Name: fmt.Sprintf("e%03d", i), CreatedAt: base.Add(time.Duration((i*37)%250) * time.Millisecond)}
	}
	got := mustCreateMany(t, s, in)
	seen := make(map[string]bool)
	for i, e := range got {
		checkID(t, fmt.Sprintf("event %d", i), e.ID)
		if seen[e.ID] {
			t.Fatalf("event %d: id %s returned twice", i, e.ID)
		}
		seen[e.ID] = true
		sameEvent(t, fmt.Sprintf("event %d", i), e, events.Event{ID: e.ID, Name: in[i].Name, CreatedAt: in[i].CreatedAt})
		stored, err := s.Get(ctx(t), e.ID)
		if err != nil {
			t.Fatalf("Get event %d: %v", i, err)
		}
		sameEvent(t, fmt.Sprintf("stored event %d", i), stored, e)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != int64(len(in)) {
		t.Fatalf("Count = %d; want %d", n, len(in))
	}
}

// testCreateManyJobIDs mixes, in one batch, events without a job id, a job
// id already stored, and a job id repeated inside the batch.
func testCreateManyJobIDs(t *testing.T, s events.Store) {
	old := mustCreate(t, s, events.Event{Name: "old", JobID: "job-old"})
	got := mustCreateMany(t, s, []events.Event{
		{Name: "a"},
		{Name: "b", JobID: "job-old"},
		{Name: "c", JobID: "job-new"},
		{Name: "d", JobID: "job-new"},
		{Name: "e"},
		{Name: "f", JobID: "job-old"},
		{Name: "g", JobID: "job-other"},
	})
	sameEvent(t, "event for a stored job id", got[1], old)
	sameEvent(t, "second event for a stored job id", got[5], old)
	if got[2].Name != "c" || got[2].JobID != "job-new" {
		t.Fatalf("first event for job-new = %s; want c", show(got[2]))
	}
	sameEvent(t, "repeat of job-new in the batch", got[3], got[2])
	for _, i := range []int{0, 2, 4, 6} {
		if got[i].Name != string(rune('a'+i)) {
			t.Fatalf("event %d = %s; want name %c", i, show(got[i]), 'a'+i)
		}
		stored, err := s.Get(ctx(t), got[i].ID)
		if err != nil {
			t.Fatalf("Get event %d: %v", i, err)
		}
		sameEvent(t, fmt.Sprintf("stored event %d", i), stored, got[i])
	}
	byJob, err := s.GetByJobID(ctx(t), "job-new")
	if err != nil {
		t.Fatalf("GetByJobID: %v", err)
	}
	sameEvent(t, "GetByJobID(job-new)", byJob, got[2])
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 5 {
		t.Fatalf("Count = %d; want 5 (old, a, c, e, g)", n)
	}

	// The whole batch again adds only the events without a job id.
	again := mustCreateMany(t, s, []events.Event{{Name: "c2", JobID: "job-new"}, {Name: "h"}, {Name: "g2", JobID: "job-other"}})
	sameEvent(t, "job-new again", again[0], got[2])
	sameEvent(t, "job-other again", again[2], got[6])
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 6 {
		t.Fatalf("Count = %d; want 6", n)
	}
}

func testCreateManyEmpty(t *testing.T, s events.Store) {
	for _, in := range [][]events.Event{nil, {}} {
		got, err := s.CreateMany(ctx(t), in)
		if err != nil || len(got) != 0 {
			t.Fatalf("CreateMany(%#v) = %v, %v; want no events, no error", in, got, err)
		}
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("Count = %d; want 0", n)
	}
}

// testCreateManyConcurrentOverlap runs batches that share job ids at once,
// as workers do when a job is redelivered while its first run still writes.
func testCreateManyConcurrentOverlap(t *testing.T, s events.Store) {
	const (
		workers = 8
		jobs    = 40
	)
	answers := make([][]events.Event, workers)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := []events.Event{{Name: fmt.Sprintf("solo %d", w)}}
			for _, j := range rand.Perm(jobs) {
				batch = append(batch, events.Event{Name: fmt.Sprintf("worker %d", w), JobID: fmt.Sprintf("job-%02d", j)})
			}
			res, err := s.CreateMany(ctx(t), batch)
			errs[w] = err
			answers[w] = make([]events.Event, jobs)
			for i, e := range res {
				if i > 0 {
					answers[w][parseJob(t, batch[i].JobID)] = e
				}
			}
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: CreateMany: %v", w, err)
		}
	}
	for j := range jobs {
		stored, err := s.GetByJobID(ctx(t), fmt.Sprintf("job-%02d", j))
		if err != nil {
			t.Fatalf("GetByJobID(job-%02d): %v", j, err)
		}
		for w := range workers {
			sameEvent(t, fmt.Sprintf("worker %d answer for job-%02d", w, j), answers[w][j], stored)
		}
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != jobs+workers {
		t.Fatalf("Count = %d; want %d: one per job plus one solo event per worker", n, jobs+workers)
	}
}

func parseJob(t *testing.T, jobID string) int {
	var j int
	if _, err := fmt.Sscanf(jobID, "job-%d", &j); err != nil {
		t.Errorf("job id %q: %v", jobID, err)
	}
	return j
}
