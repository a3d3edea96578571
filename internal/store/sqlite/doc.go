// Package sqlite is the embedded events.Store: one SQLite file, through the
// pure-Go driver modernc.org/sqlite (no cgo), for `eventsd dev` and
// single-node use.
//
// # Concurrency
//
// The API and the worker share one Store. SQLite allows one writer at a time,
// and a second connection that tries to write waits on a lock and may fail
// with SQLITE_BUSY; so the Store writes through a pool of exactly one
// connection, which queues writers in Go (honoring their contexts) instead of
// in SQLite, and reads through a separate pool of read-only connections. The
// file is in WAL mode, where readers never block the writer nor it them.
// Write transactions begin IMMEDIATE and every connection has a busy timeout,
// which covers another process opening the same file.
//
// # Durability
//
// synchronous=FULL: a write has reached the disk when its call returns, so an
// event the worker acknowledged survives a power cut. Batches (CreateMany)
// share one commit and one sync, which is why the worker should use them.
//
// # Schema
//
// Events are one STRICT table with the id as 24 lowercase hex characters,
// createdAt as integer Unix milliseconds (UTC) and data as the compact JSON
// text events.CleanData returns, or NULL. The listing index is
// (created_at DESC, id DESC), the name filter's (name, created_at, id), and a
// partial unique index on job_id, where not null, makes writes idempotent per
// job. PRAGMA user_version holds the schema version; migrations lists the
// steps, and Open applies the missing ones, each in its own transaction, and
// refuses a file written by a newer release. A step changes the file in
// place (version 2 added the data column): it never rewrites the events.
package sqlite
