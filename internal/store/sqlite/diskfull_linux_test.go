package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/store/sqlite"
)

// envDiskFullChild tells a re-executed test binary to run the disk-full
// scenario itself, under a file size limit.
const envDiskFullChild = "EVENTSD_SQLITE_DISKFULL_CHILD"

// TestDiskFull fills the disk under a store and checks that writes fail with
// a clear error, that every acknowledged event can still be read, and that
// the store works again once there is room, with nothing lost across a
// reopen. The disk is simulated without root: RLIMIT_FSIZE caps every file
// the process writes at 1 MiB, so the WAL cannot grow (SQLite sees a short
// write or EFBIG). The limit is per process, so the scenario runs in a child
// process of the test binary. TestDiskFullTmpfs does the same on a real,
// full file system.
func TestDiskFull(t *testing.T) {
	if dir := os.Getenv(envDiskFullChild); dir != "" {
		var old syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		limited := old
		limited.Cur = 1 << 20
		diskFullScenario(t, dir, func() {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
				t.Fatalf("setrlimit: %v", err)
			}
		}, func() {
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatalf("setrlimit: %v", err)
			}
		})
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFull$", "-test.v")
	cmd.Env = append(os.Environ(), envDiskFullChild+"="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDiskFull") {
		t.Fatalf("disk-full scenario in a child process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "diskfull_linux_test.go") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// TestDiskFullTmpfs runs the scenario on a 1 MiB tmpfs, where SQLite meets a
// real ENOSPC. Mounting needs root, so it runs only when TEST_SQLITE_TMPFS=1.
func TestDiskFullTmpfs(t *testing.T) {
	if os.Getenv("TEST_SQLITE_TMPFS") != "1" {
		t.Skip("set TEST_SQLITE_TMPFS=1 and run as root to fill a real 1 MiB tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a tmpfs on %s (needs root): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	// A ballast file takes room that freeing it gives back.
	ballast := filepath.Join(dir, "ballast")
	diskFullScenario(t, dir, func() {
		if err := os.WriteFile(ballast, make([]byte, 256<<10), 0o600); err != nil {
			t.Fatalf("write ballast: %v", err)
		}
	}, func() {
		if err := os.Remove(ballast); err != nil {
			t.Fatalf("remove ballast: %v", err)
		}
	})
}

// diskFullScenario fills the disk under a store in dir: fill takes the room
// away before writing, free gives it back.
func diskFullScenario(t *testing.T, dir string, fill, free func()) {
	ctx := context.Background()
	path := filepath.Join(dir, "events.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill()
	name := strings.Repeat("a long event name to fill pages ", 16)
	batch := func(n int) []events.Event {
		es := make([]events.Event, 20)
		for i := range es {
			es[i] = events.Event{Name: name, JobID: fmt.Sprintf("job-%d-%d", n, i)}
		}
		return es
	}
	var (
		acked   []events.Event
		failed  []events.Event
		lastErr error
	)
	for n := 0; n < 10_000; n++ {
		b := batch(n)
		got, err := s.CreateMany(ctx, b)
		if err != nil {
			failed, lastErr = b, err
			break
		}
		acked = append(acked, got...)
	}
	if lastErr == nil {
		t.Fatal("the disk never filled up")
	}
	t.Logf("after %d events: %v", len(acked), lastErr)
	if !strings.HasPrefix(lastErr.Error(), "sqlite: insert events: ") {
		t.Fatalf("error %q does not say which operation failed", lastErr)
	}
	if len(acked) == 0 {
		t.Fatal("no event fit; the scenario tested nothing")
	}

	// Reads still work, and every acknowledged event is there.
	checkAll := func(s *sqlite.Store, want int) {
		t.Helper()
		if n, err := s.Count(ctx, time.Time{}, time.Time{}); err != nil || n != int64(want) {
			t.Fatalf("Count = %d, %v; want %d", n, err, want)
		}
		for _, e := range acked {
			if got, err := s.Get(ctx, e.ID); err != nil || !reflect.DeepEqual(got, e) {
				t.Fatalf("Get(%s) = %+v, %v; want %+v", e.ID, got, err, e)
			}
		}
	}
	checkAll(s, len(acked))

	free()
	// The failed batch wrote nothing, so writing it again stores it whole.
	retried, err := s.CreateMany(ctx, failed)
	if err != nil {
		t.Fatalf("CreateMany after room was freed: %v", err)
	}
	for i, e := range retried {
		if e.Name != failed[i].Name || e.JobID != failed[i].JobID {
			t.Fatalf("retried event %d = %+v; want a new event for %+v", i, e, failed[i])
		}
	}
	acked = append(acked, retried...)
	checkAll(s, len(acked))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	checkAll(s, len(acked))
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v; want ok", ok, err)
	}
}
