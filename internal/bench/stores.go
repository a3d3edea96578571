package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/eventsd/eventsd/internal/store/mongo"
	"github.com/eventsd/eventsd/internal/store/postgres"
	"github.com/eventsd/eventsd/internal/store/sqlite"
	"github.com/jackc/pgx/v5"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TempSQLite opens an SQLite event store in a new directory under dir (the
// system's temporary directory when dir is empty), so that the benchmark
// measures the disk the user chose. The returned function closes the store
// and deletes the directory, WAL files included.
func TempSQLite(ctx context.Context, dir string) (*sqlite.Store, func() error, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("data directory: %w", err)
		}
	}
	tmp, err := os.MkdirTemp(dir, "eventsd-bench-")
	if err != nil {
		return nil, nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(tmp, "events.db"))
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	return st, func() error { st.Close(); return os.RemoveAll(tmp) }, nil
}

// TempMongo opens a MongoDB event store in a database of its own,
// eventsd_bench_<random>, on the server uri names; the database in uri is
// not touched. The returned function closes the store and drops the
// database.
func TempMongo(ctx context.Context, uri string) (*mongo.Store, func() error, error) {
	b := make([]byte, 4)
	rand.Read(b)
	db := "eventsd_bench_" + hex.EncodeToString(b)
	st, err := mongo.Open(ctx, uri, mongo.Config{Database: db})
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() error {
		st.Close()
		if err := dropDatabase(uri, db); err != nil {
			return fmt.Errorf("drop the database %s: %w", db, err)
		}
		return nil
	}
	return st, cleanup, nil
}

// TempPostgres opens a PostgreSQL event store in a schema of its own,
// eventsd_bench_<random>, in the database rawURL (a postgres:// URL) names;
// nothing else in the database is touched. The returned function closes the
// store and drops the schema.
func TempPostgres(ctx context.Context, rawURL string) (*postgres.Store, func() error, error) {
	b := make([]byte, 4)
	rand.Read(b)
	return tempPostgres(ctx, rawURL, "eventsd_bench_"+hex.EncodeToString(b))
}

func tempPostgres(ctx context.Context, rawURL, schema string) (*postgres.Store, func() error, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: the URL does not parse")
	}
	if err := execPostgres(ctx, rawURL, "CREATE SCHEMA "+schema); err != nil {
		return nil, nil, fmt.Errorf("postgres: create the schema %s: %w", schema, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := execPostgres(ctx, rawURL, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop the schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String(), postgres.Config{})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return st, func() error { st.Close(); return drop() }, nil
}

// execPostgres runs one statement on a connection of its own.
func execPostgres(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func dropDatabase(uri, db string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer c.Disconnect(ctx)
	return c.Database(db).Drop(ctx)
}
