package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/eventsd/eventsd/internal/store/storetest"
)

func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "events.db"))
}

func openPath(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) events.Store { return openTemp(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) events.Store { return openTemp(b) })
}

func TestReopenKeepsEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	one, err := s.Create(ctx, events.Event{Name: "one", JobID: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	many, err := s.CreateMany(ctx, []events.Event{{Name: "two"}, {Name: "three", JobID: "job-3"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openPath(t, path)
	for _, want := range append(many, one) {
		got, err := s.Get(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("after reopen Get(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	// Idempotency by job id survives too: the unique index is in the file.
	again, err := s.Create(ctx, events.Event{Name: "one again", JobID: "job-1"})
	if err != nil || !reflect.DeepEqual(again, one) {
		t.Fatalf("after reopen Create(job-1) = %+v, %v; want the first event %+v", again, err, one)
	}
	if n, err := s.Count(ctx, time.Time{}, time.Time{}); err != nil || n != 3 {
		t.Fatalf("after reopen Count = %d, %v; want 3", n, err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "events.db")
	_, err := sqlite.Open(context.Background(), path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open in a missing directory: err = %v; want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name the path %s", err, path)
	}
	t.Logf("Open in a missing directory: %v", err)
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open created the missing directory: %v", err)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(file, "events.db"))
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Open under a regular file: err = %v; want a not-a-directory error", err)
	}
	t.Logf("Open under a regular file: %v", err)
}

func TestOpenBadPath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:"} {
		if _, err := sqlite.Open(context.Background(), path); err == nil {
			t.Errorf("Open(%q): want an error", path)
		}
	}
	// A directory where the file should be.
	if _, err := sqlite.Open(context.Background(), t.TempDir()); err == nil {
		t.Error("Open(a directory): want an error")
	}
}

func TestOpenNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	junk := []byte(strings.Repeat("this is not a database ", 200))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "not a database") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a junk file: err = %v; want a not-a-database error naming the path", err)
	}
	t.Logf("Open of a junk file: %v", err)
	if got, _ := os.ReadFile(path); string(got) != string(junk) {
		t.Fatal("Open changed a file that is not a database")
	}
}

func TestOpenNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := openPath(t, path)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a file from a newer release: err = %v; want a schema-version error", err)
	}
	t.Logf("Open of a file from a newer release: %v", err)
}

// TestTwoStoresOneFile writes to one file through two Stores at once, as two
// processes would: the busy timeout and IMMEDIATE transactions must make
// them take turns instead of failing with SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	stores := []*sqlite.Store{openPath(t, path), openPath(t, path)}
	const perWriter = 100
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for i := range perWriter {
				var err error
				if i%2 == 0 {
					_, err = s.Create(context.Background(), events.Event{Name: "n", JobID: fmt.Sprintf("job-%d", i)})
				} else {
					_, err = s.CreateMany(context.Background(), []events.Event{{Name: "n"}, {Name: "n", JobID: fmt.Sprintf("job-%d", i)}})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("write through two stores: %v", err)
	}
	// Per job id, one event in all; plus one event without a job id per
	// batch of every writer.
	want := int64(perWriter + 4*perWriter/2)
	for i, s := range stores {
		if n, err := s.Count(context.Background(), time.Time{}, time.Time{}); err != nil || n != want {
			t.Fatalf("store %d: Count = %d, %v; want %d", i, n, err, want)
		}
	}
}
