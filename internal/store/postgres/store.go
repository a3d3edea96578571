package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ events.Store = (*Store)(nil)

// Config tunes a Store. The zero value means every default.
type Config struct {
	// OpTimeout bounds every call whose context has no deadline, Open's
	// included. Default 5 s.
	OpTimeout time.Duration
}

// DefaultOpTimeout is Config.OpTimeout's default.
const DefaultOpTimeout = 5 * time.Second

// Store is an events.Store on a PostgreSQL table. It is safe for concurrent
// use.
type Store struct {
	pool *pgxpool.Pool
	cfg  Config

	deleteChunk int // events per statement in DeleteOlderThan

	closeOnce sync.Once
}

// Open connects to the PostgreSQL database that url names (a postgres:// URL
// or a keyword/value string, with pgx's pool settings such as
// pool_max_conns), checks that it answers and brings the schema up to date.
// The tables go in the first schema of the search path, public unless the
// URL sets search_path. It fails, within ctx's deadline or cfg.OpTimeout,
// when the server cannot be reached. Errors never show the password.
func Open(ctx context.Context, url string, cfg Config) (*Store, error) {
	cfg.OpTimeout = cmp.Or(cfg.OpTimeout, DefaultOpTimeout)
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message quotes the URL with its password redacted.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if _, ok := pcfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "eventsd"
	}
	s := &Store{cfg: cfg, deleteChunk: deleteChunk}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, wrap("ping", err)
	}
	if err := migrate(ctx, s.pool); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

// opCtx returns ctx bounded by the store's OpTimeout when it has no
// deadline of its own, so that no call can wait forever.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.OpTimeout)
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close closes the pool, waiting for calls in flight to return their
// connections. Calls after the first do nothing; any other method called
// after Close returns an error.
func (s *Store) Close() error {
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// wrap says which operation failed. Errors the caller branches on
// (events.ErrNotFound and the like) are wrapped too, so errors.Is still works.
func wrap(op string, err error) error {
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// uniqueViolation is SQLSTATE 23505: a unique index refused a row.
const uniqueViolation = "23505"

// isUniqueViolation reports whether err is a uniqueness violation of the
// named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == uniqueViolation && pe.ConstraintName == constraint
}
