package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func createTests() []test {
	return []test{
		{"CreateGetRoundTrip", testCreateGetRoundTrip},
		{"CreateKeepsGivenFields", testCreateKeepsGivenFields},
		{"CreateRejectsBadInput", testCreateRejectsBadInput},
		{"CreateDuplicateID", testCreateDuplicateID},
		{"GetAndDeleteMissing", testGetAndDeleteMissing},
		{"Delete", testDelete},
		{"GetByJobID", testGetByJobID},
		{"CreateIdempotentByJobID", testCreateIdempotentByJobID},
		{"CreateIdempotentConcurrent", testCreateIdempotentConcurrent},
	}
}

func testCreateGetRoundTrip(t *testing.T, s events.Store) {
	start := events.Now()
	e := mustCreate(t, s, events.Event{Name: "user.signup"})
	end := events.Now()
	checkID(t, "created", e.ID)
	checkTime(t, "created", e.CreatedAt)
	if e.Name != "user.signup" || e.JobID != "" {
		t.Fatalf("created %s; want name user.signup and no job id", show(e))
	}
	if e.CreatedAt.Before(start) || e.CreatedAt.After(end) {
		t.Fatalf("created at %v; want now, between %v and %v", e.CreatedAt, start, end)
	}
	got, err := s.Get(ctx(t), e.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameEvent(t, "Get", got, e)

	// A second event gets another id.
	e2 := mustCreate(t, s, events.Event{Name: "user.signup"})
	if e2.ID == e.ID {
		t.Fatalf("two creates returned the same id %s", e.ID)
	}
}

func testCreateKeepsGivenFields(t *testing.T, s events.Store) {
	id := events.NewID()
	// Nanoseconds and a zone other than UTC are normalized, and an id in
	// uppercase hex is the same id.
	at := time.Date(2023, 7, 8, 9, 10, 11, 987654321, time.FixedZone("UTC+5", 5*3600))
	e := mustCreate(t, s, events.Event{ID: strings.ToUpper(id), Name: "name with spaces, ünïcode and \"quotes\"", CreatedAt: at, JobID: "job/42"})
	want := events.Event{ID: id, Name: "name with spaces, ünïcode and \"quotes\"", CreatedAt: time.Date(2023, 7, 8, 4, 10, 11, 987000000, time.UTC), JobID: "job/42"}
	sameEvent(t, "created", e, want)
	got, err := s.Get(ctx(t), strings.ToUpper(id))
	if err != nil {
		t.Fatalf("Get(uppercase id): %v", err)
	}
	sameEvent(t, "Get", got, want)

	// Times before 1970 and far ahead survive too.
	for _, at := range []time.Time{time.Date(1960, 1, 2, 3, 4, 5, 6e6, time.UTC), time.Date(2200, 12, 31, 23, 59, 59, 999e6, time.UTC)} {
		e := mustCreate(t, s, events.Event{Name: "far", CreatedAt: at})
		got, err := s.Get(ctx(t), e.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		sameEvent(t, "Get", got, events.Event{ID: e.ID, Name: "far", CreatedAt: at})
	}
}

func testCreateRejectsBadInput(t *testing.T, s events.Store) {
	_, err := s.Create(ctx(t), events.Event{})
	wantErr(t, "Create with an empty name", err, events.ErrEmptyName)
	_, err = s.Create(ctx(t), events.Event{Name: "x", ID: "not-an-id"})
	wantErr(t, "Create with a malformed id", err, events.ErrInvalidID)
	_, err = s.CreateMany(ctx(t), []events.Event{{Name: "fine"}, {Name: ""}, {Name: "also fine"}})
	wantErr(t, "CreateMany with an empty name", err, events.ErrEmptyName)
	_, err = s.CreateMany(ctx(t), []events.Event{{Name: "fine"}, {Name: "x", ID: "0123"}})
	wantErr(t, "CreateMany with a malformed id", err, events.ErrInvalidID)
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("after rejected writes Count = %d; want 0: bad input must write nothing", n)
	}
}

func testCreateDuplicateID(t *testing.T, s events.Store) {
	first := mustCreate(t, s, events.Event{Name: "first"})
	_, err := s.Create(ctx(t), events.Event{ID: first.ID, Name: "second"})
	wantErr(t, "Create with a taken id", err, events.ErrDuplicateID)
	_, err = s.CreateMany(ctx(t), []events.Event{{Name: "other"}, {ID: first.ID, Name: "second"}})
	wantErr(t, "CreateMany with a taken id", err, events.ErrDuplicateID)
	id := events.NewID()
	_, err = s.CreateMany(ctx(t), []events.Event{{ID: id, Name: "a"}, {ID: id, Name: "b"}})
	wantErr(t, "CreateMany naming one id twice", err, events.ErrDuplicateID)
	got, err := s.Get(ctx(t), first.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameEvent(t, "event whose id was reused", got, first)

	// The same event written again with its job id is a redelivery, not a conflict.
	withJob := mustCreate(t, s, events.Event{Name: "job event", JobID: "job-dup-id"})
	again := mustCreate(t, s, withJob)
	sameEvent(t, "rewrite of an event with its job id", again, withJob)
}

func testGetAndDeleteMissing(t *testing.T, s events.Store) {
	mustCreate(t, s, events.Event{Name: "unrelated"})
	_, err := s.Get(ctx(t), events.NewID())
	wantErr(t, "Get of an unknown id", err, events.ErrNotFound)
	err = s.Delete(ctx(t), events.NewID())
	wantErr(t, "Delete of an unknown id", err, events.ErrNotFound)
	for _, bad := range []string{"", "abc", "zzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdef012345678", "' OR 1=1 --", strings.Repeat("a", 10_000)} {
		_, err := s.Get(ctx(t), bad)
		wantErr(t, fmt.Sprintf("Get(%.30q)", bad), err, events.ErrInvalidID)
		err = s.Delete(ctx(t), bad)
		wantErr(t, fmt.Sprintf("Delete(%.30q)", bad), err, events.ErrInvalidID)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 1 {
		t.Fatalf("Count = %d; want 1", n)
	}
}

func testDelete(t *testing.T, s events.Store) {
	keep := mustCreate(t, s, events.Event{Name: "keep"})
	gone := mustCreate(t, s, events.Event{Name: "gone", JobID: "job-gone"})
	if err := s.Delete(ctx(t), gone.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx(t), gone.ID)
	wantErr(t, "Get after Delete", err, events.ErrNotFound)
	_, err = s.GetByJobID(ctx(t), "job-gone")
	wantErr(t, "GetByJobID after Delete", err, events.ErrNotFound)
	err = s.Delete(ctx(t), gone.ID)
	wantErr(t, "second Delete", err, events.ErrNotFound)
	got, err := s.Get(ctx(t), keep.ID)
	if err != nil {
		t.Fatalf("Get of the other event: %v", err)
	}
	sameEvent(t, "other event", got, keep)

	// Once its event is deleted, a job id is free again.
	again := mustCreate(t, s, events.Event{Name: "again", JobID: "job-gone"})
	if again.ID == gone.ID || again.Name != "again" {
		t.Fatalf("create after delete returned %s; want a new event", show(again))
	}
}

func testGetByJobID(t *testing.T, s events.Store) {
	mustCreate(t, s, events.Event{Name: "no job"})
	e := mustCreate(t, s, events.Event{Name: "from job", JobID: "job-1"})
	got, err := s.GetByJobID(ctx(t), "job-1")
	if err != nil {
		t.Fatalf("GetByJobID: %v", err)
	}
	sameEvent(t, "GetByJobID", got, e)
	_, err = s.GetByJobID(ctx(t), "job-2")
	wantErr(t, "GetByJobID of an unknown job", err, events.ErrNotFound)
	_, err = s.GetByJobID(ctx(t), "")
	wantErr(t, "GetByJobID of the empty job id", err, events.ErrNotFound)
}

func testCreateIdempotentByJobID(t *testing.T, s events.Store) {
	first := mustCreate(t, s, events.Event{Name: "first", JobID: "job-7"})
	second := mustCreate(t, s, events.Event{Name: "second", JobID: "job-7", CreatedAt: base})
	sameEvent(t, "second create for job-7", second, first)
	third := mustCreate(t, s, events.Event{ID: events.NewID(), Name: "third", JobID: "job-7"})
	sameEvent(t, "third create for job-7, with its own id", third, first)
	// Events without a job id never collide with each other.
	mustCreate(t, s, events.Event{Name: "free"})
	mustCreate(t, s, events.Event{Name: "free"})
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 3 {
		t.Fatalf("Count = %d; want 3 (one per job id, plus two without)", n)
	}
}

// testCreateIdempotentConcurrent races many writers, through Create and
// CreateMany, on one job id: exactly one event must exist and every writer
// must be answered with it.
func testCreateIdempotentConcurrent(t *testing.T, s events.Store) {
	const writers = 32
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  = make(map[string]int)
		errs []error
	)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			e := events.Event{Name: fmt.Sprintf("writer %d", w), JobID: "job-race"}
			var (
				res events.Event
				err error
			)
			if w%2 == 0 {
				res, err = s.Create(ctx(t), e)
			} else {
				var rs []events.Event
				rs, err = s.CreateMany(ctx(t), []events.Event{{Name: "own", JobID: fmt.Sprintf("job-own-%d", w)}, e})
				if err == nil {
					res = rs[1]
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			got[res.ID]++
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("writers of one job id were answered with %d different events %v; want 1", len(got), got)
	}
	stored, err := s.GetByJobID(ctx(t), "job-race")
	if err != nil {
		t.Fatalf("GetByJobID: %v", err)
	}
	if got[stored.ID] != writers {
		t.Fatalf("stored event %s answered %d of %d writers", stored.ID, got[stored.ID], writers)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 1+writers/2 {
		t.Fatalf("Count = %d; want %d: one for the raced job plus one per CreateMany writer", n, 1+writers/2)
	}
}
