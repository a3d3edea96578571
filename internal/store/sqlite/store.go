package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var _ events.Store = (*Store)(nil)

// busyTimeout is how long a connection waits for a lock another process
// holds before it fails with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is an events.Store on one SQLite file. It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // exactly one connection: SQLite has one writer at a time
	reader *sql.DB // read-only connections, for reads in parallel with writes

	deleteChunk int // events per transaction in DeleteOlderThan

	rollMu sync.Mutex // one RollUp at a time: see RollUp

	closeOnce sync.Once
	closeErr  error
}

// Open opens the event store in the SQLite file at path, creating the file
// and its schema when absent and migrating an older schema. The directory
// must exist: a missing one is an error wrapping fs.ErrNotExist, since
// creating it here could hide a mistyped data directory. A file written by a
// newer release is refused.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open: want a file path, got %q", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: directory: %w", abs, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("sqlite: open %s: %s is not a directory", abs, dir)
	}

	s := &Store{path: abs, deleteChunk: deleteChunk}
	s.writer, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxIdleTime(0)
	s.writer.SetConnMaxLifetime(0)
	if err := s.writer.PingContext(ctx); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if err := migrate(ctx, s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	s.reader, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)
	if err := s.reader.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return s, nil
}

// dsn returns the driver's data source name for the file at abs: a SQLite
// URI, so that any character in the path is escaped, with the pragmas every
// connection of one pool runs when it opens.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		// Take the write lock when a transaction begins rather than at its
		// first write, so that a busy file makes BEGIN wait (busy_timeout)
		// instead of failing a transaction halfway.
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Path returns the absolute path of the store's file.
func (s *Store) Path() string { return s.path }

// Ping checks that the file can still be read.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1 FROM sqlite_schema LIMIT 1").Scan(&one); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close closes the store's connections, checkpointing the WAL into the file.
// Calls after the first do nothing and return its result; any other method
// called after Close returns an error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		errs = append(errs, s.writer.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// wrap says which operation failed. Errors the caller branches on
// (events.ErrNotFound and the like) are wrapped too, so errors.Is still works.
func wrap(op string, err error) error {
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// isConstraint reports whether err is a uniqueness violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}
