// Package ferrettest gives tests a real MongoDB-protocol server to talk to.
//
// When TEST_MONGODB_URI is set (for example mongodb://127.0.0.1:27017 or a
// replica set URI), tests use that server, each test in a database of its
// own that is dropped when the test ends; nothing else on the server is
// touched. Otherwise each test gets a fresh FerretDB v1 running in the test
// process on its SQLite backend in a temporary directory, so `go test ./...`
// passes on a machine with nothing installed. Starting one takes a few
// milliseconds.
//
// FerretDB is large and only for tests: import this package from _test.go
// files only, so that it never links into the eventsd binary.
// TestNotInProductionBuild checks that no other package of the module
// depends on it.
package ferrettest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURI names the environment variable that points tests at a real server.
const EnvURI = "TEST_MONGODB_URI"

// Real reports whether tests run against the server named by TEST_MONGODB_URI.
func Real() bool { return os.Getenv(EnvURI) != "" }

// URI returns a MongoDB URI whose path names a database that only t uses,
// and registers its cleanup: on the TEST_MONGODB_URI server the database is
// dropped when t ends; otherwise the URI points at a FerretDB started for t
// alone and stopped when t ends.
func URI(t testing.TB) string {
	t.Helper()
	db := "test_" + randomHex(8)
	raw := os.Getenv(EnvURI)
	if raw == "" {
		return Start(t).URI(db)
	}
	uri, err := WithDatabase(raw, db)
	if err != nil {
		t.Fatalf("ferrettest: %s: %v", EnvURI, err)
	}
	t.Cleanup(func() { dropDatabase(t, raw, db) })
	return uri
}

// newMu serializes ferretdb.New, which writes a package variable of
// FerretDB's (the version's "embedded" tag) every time it is called.
var newMu sync.Mutex

// Server is a FerretDB running in the test process.
type Server struct {
	f      *ferretdb.FerretDB
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts a FerretDB for t on its SQLite backend in a temporary
// directory, whatever TEST_MONGODB_URI says, and stops it when t ends. Its
// logs are discarded unless FERRETTEST_LOG is set (to debug, info, warn or
// error), since a connection a test drops on purpose is not worth reading.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger(),
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/"}).String(),
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("ferrettest: start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{f: f, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		f.Run(ctx)
	}()
	// Cleanups run last-registered first: the server stops before the
	// temporary directory under it is removed.
	t.Cleanup(s.Stop)
	return s
}

// URI returns the server's address with db as the database path; an empty
// db leaves the path empty.
func (s *Server) URI(db string) string {
	// MongoDBURI blocks until Run has bound the listener.
	return strings.TrimSuffix(s.f.MongoDBURI(), "/") + "/" + db
}

// Stop stops the server and waits until it has closed its connections and
// files. Calling it again does nothing.
func (s *Server) Stop() {
	s.cancel()
	<-s.done
}

// WithDatabase returns uri with its path set to db, keeping hosts and options.
// It works on replica set URIs, which net/url cannot parse, by splitting
// the text itself.
func WithDatabase(uri, db string) (string, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return "", fmt.Errorf("want a mongodb:// or mongodb+srv:// URI, got %q", uri)
	}
	hosts, query := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		hosts = rest[:i]
		if j := strings.IndexByte(rest, '?'); j >= 0 {
			query = rest[j:]
		}
	}
	return scheme + "://" + hosts + "/" + db + query, nil
}

func dropDatabase(t testing.TB, uri, db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Errorf("ferrettest: drop database %s: %v", db, err)
		return
	}
	defer c.Disconnect(ctx)
	if err := c.Database(db).Drop(ctx); err != nil {
		t.Errorf("ferrettest: drop database %s: %v", db, err)
	}
}

func logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("FERRETTEST_LOG"))); err != nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
