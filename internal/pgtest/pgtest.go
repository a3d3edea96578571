// Package pgtest gives tests a PostgreSQL schema of their own.
//
// PostgreSQL cannot run inside the test process, so its tests need a server:
// TEST_DATABASE_URL names a database on it (for example
// postgres://postgres@127.0.0.1:5432/test) in which tests may create and
// drop schemas. Each test gets a new schema, test_<random>, and a URL whose
// search_path selects it; the schema and everything in it is dropped when
// the test ends, and nothing else in the database is touched. Without
// TEST_DATABASE_URL the tests skip, saying so; CI sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable that points tests at a server.
const EnvURL = "TEST_DATABASE_URL"

// URL returns a postgres:// URL whose search_path is a schema that only t
// uses, created now and dropped when t ends. It skips t when
// TEST_DATABASE_URL is unset, and fails it when the server cannot be
// reached: a set TEST_DATABASE_URL means the tests must run.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		t.Skip("PostgreSQL tests skipped: set " + EnvURL + " to a database where tests may create schemas, " +
			"e.g. postgres://postgres@127.0.0.1:5432/test (CI does)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	schema := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exec(ctx, t, raw, "CREATE SCHEMA "+schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		exec(ctx, t, raw, "DROP SCHEMA "+schema+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on a connection of its own.
func exec(ctx context.Context, t testing.TB, dsn, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
