package mongo

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

var _ events.Store = (*Store)(nil)

// Config tunes a Store. The zero value means every default.
type Config struct {
	// Database holds the events collection. Default: the database the URI
	// names, else "events".
	Database string
	// Collection holds the events. Default "events".
	Collection string
	// OpTimeout bounds every call whose context has no deadline, Open's
	// included. Default 5 s.
	OpTimeout time.Duration
	// ServerSelectionTimeout is how long a call waits for a server it can
	// use (during an election, say) before it fails. Default: the URI's
	// serverSelectionTimeoutMS, else 5 s; a call's deadline cuts it short.
	ServerSelectionTimeout time.Duration
}

// Defaults.
const (
	DefaultDatabase               = "events"
	DefaultCollection             = "events"
	DefaultOpTimeout              = 5 * time.Second
	DefaultServerSelectionTimeout = 5 * time.Second
)

// Store is an events.Store on a MongoDB collection. It is safe for
// concurrent use.
type Store struct {
	client *mongo.Client
	coll   *mongo.Collection
	cfg    Config

	closeOnce sync.Once
	closeErr  error
}

// Open connects to the MongoDB deployment at uri (a standalone server, a
// replica set or a mongos), checks that it answers and brings the schema (the
// indexes) up to date; a database a newer release wrote is refused.
// It fails, within ctx's deadline or cfg.OpTimeout, when the server cannot be
// reached. Errors never quote the URI, so its password stays out of logs.
func Open(ctx context.Context, uri string, cfg Config) (*Store, error) {
	cfg.Database = cmp.Or(cfg.Database, databaseFromURI(uri), DefaultDatabase)
	cfg.Collection = cmp.Or(cfg.Collection, DefaultCollection)
	cfg.OpTimeout = cmp.Or(cfg.OpTimeout, DefaultOpTimeout)

	opts := options.Client().ApplyURI(uri)
	if cfg.ServerSelectionTimeout > 0 {
		opts.SetServerSelectionTimeout(cfg.ServerSelectionTimeout)
	} else if opts.ServerSelectionTimeout == nil {
		opts.SetServerSelectionTimeout(DefaultServerSelectionTimeout)
	}
	if opts.AppName == nil {
		opts.SetAppName("eventsd")
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	s := &Store{
		client: client,
		coll:   client.Database(cfg.Database).Collection(cfg.Collection),
		cfg:    cfg,
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		s.Close()
		return nil, fmt.Errorf("mongo: ping: %w", err)
	}
	if err := migrate(ctx, s); err != nil {
		s.Close()
		return nil, fmt.Errorf("mongo: %w", err)
	}
	return s, nil
}

// databaseFromURI returns the database path of a MongoDB URI, or "". The
// driver validates the URI; this only reads the path between the host list
// and the options.
func databaseFromURI(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	_, path, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	path, _, _ = strings.Cut(path, "?")
	db, err := url.PathUnescape(path)
	if err != nil {
		return ""
	}
	return db
}

// Database returns the name of the database that holds the events.
func (s *Store) Database() string { return s.cfg.Database }

// opCtx returns ctx bounded by the store's OpTimeout when it has no
// deadline of its own, so that no call can wait forever.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.OpTimeout)
}

// Ping checks that the primary answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close disconnects, waiting up to OpTimeout for calls in flight. Calls
// after the first do nothing and return its result; any other method
// called after Close returns an error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
		defer cancel()
		if err := s.client.Disconnect(ctx); err != nil {
			s.closeErr = wrap("disconnect", err)
		}
	})
	return s.closeErr
}

// wrap says which operation failed. Errors the caller branches on
// (events.ErrNotFound and the like) are wrapped too, so errors.Is still works.
func wrap(op string, err error) error {
	return fmt.Errorf("mongo: %s: %w", op, err)
}
