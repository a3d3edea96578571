// Package postgres is an events.Store on PostgreSQL, through pgx v5 and its
// connection pool (pgxpool).
//
// # Schema
//
// Events are one table, events, in the first schema of the connection's
// search path: id (24 lowercase hex characters, bytewise collation), name,
// created_at (timestamptz, whole milliseconds), job_id (NULL for none) and
// data (jsonb, NULL for none). The listing index is (created_at DESC, id
// DESC) and the name filter's (name, created_at DESC, id DESC): every
// listing, its cursor included, is one index range read in order, so a deep
// page costs what the first does. A partial unique index on job_id, where
// not null, makes writes idempotent per job.
//
// The table eventsd_migrations records the schema version. migrations lists
// the steps; Open applies the missing ones, each in its own transaction under
// an advisory lock keyed by the schema, so that processes starting together
// apply each once, and refuses a schema a newer release wrote. Future tables
// (webhook subscriptions, rollups) are further steps.
//
// # Writes
//
// A batch (CreateMany, and Create as a batch of one) is one INSERT ... SELECT
// FROM unnest(...) statement with one array parameter per column, whatever
// its size, so the statement is prepared once per connection. ON CONFLICT on
// the job id index skips the events whose job already has one; a second
// statement reads those. Concurrent writers of one job id wait for each
// other inside PostgreSQL, and exactly one event is stored. A statement is
// atomic: an id already taken fails the whole batch and stores nothing.
//
// # Data
//
// jsonb keeps data's meaning, not its text: keys come back sorted (shortest
// first) and with spaces after colons and commas. Numbers keep their digits
// (1.0 stays 1.0; 1e2 becomes 100). jsonb cannot hold the character U+0000,
// which events.CleanData refuses for every store.
//
// # Count
//
// Count counts rows. Without bounds PostgreSQL reads an index or the table
// in full, which takes time in proportion to the number of events; the API's
// stats call it on every request.
//
// # Calls
//
// Every call runs under a deadline: the caller's, or Config.OpTimeout when
// the caller's context has none. Errors say which operation failed
// ("postgres: insert events: ...") and wrap pgx's error; a connection that
// cannot be made wraps the network error.
package postgres
