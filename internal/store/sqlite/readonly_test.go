package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
)

// TestOpenReadOnlyDirectory opens a store where no file can be created: a
// new file in a read-only directory, and an existing store whose directory
// became read-only (WAL mode needs to create its -wal and -shm files beside
// it). Either Open fails or the first write does, with an error that names
// the file; nothing panics and nothing stored is lost.
func TestOpenReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	fresh := t.TempDir()
	chmod(t, fresh, 0o555)
	unprivileged(t, func(check func(path string)) {
		path := filepath.Join(fresh, "events.db")
		check(path)
		_, err := sqlite.Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Open of a new file in a read-only directory: err = %v; want an error naming %s", err, path)
		}
		t.Logf("Open of a new file in a read-only directory: %v", err)
	})

	old := t.TempDir()
	path := filepath.Join(old, "events.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Create(ctx, events.Event{Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	chmod(t, old, 0o555)
	unprivileged(t, func(check func(path string)) {
		check(filepath.Join(old, "probe"))
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			t.Logf("Open of a store in a read-only directory: %v", err)
			return
		}
		defer s.Close()
		if _, err := s.Create(ctx, events.Event{Name: "new"}); err == nil {
			t.Error("Create in a read-only directory succeeded; want an error")
		} else {
			t.Logf("Create in a read-only directory: %v", err)
		}
	})
	chmod(t, old, 0o755)
	s = openPath(t, path)
	if got, err := s.Get(ctx, e.ID); err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("after the directory is writable again Get = %+v, %v; want %+v", got, err, e)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's cleanup must be able to remove it.
	t.Cleanup(func() { os.Chmod(path, 0o755) })
}
