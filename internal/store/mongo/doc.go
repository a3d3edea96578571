// Package mongo is an events.Store on MongoDB, the seed's database and the
// default of eventsd serve, through the official driver
// go.mongodb.org/mongo-driver/v2.
//
// Events are documents {_id: ObjectID, name, createdAt: Date, jobId?, data?}
// in the collection "events" of the database the URI names ("events" when it
// names none). The indexes the queries need are {createdAt: -1, _id: -1} for
// the listing order, {name: 1, createdAt: -1, _id: -1} for the name filter,
// and {jobId: 1}, unique and sparse, which makes writes idempotent per job.
//
// # Data
//
// An event's data is stored as its JSON text, a string, not as a
// subdocument. A subdocument could not hold every JSON object faithfully:
// MongoDB before 5.0 and FerretDB refuse field names that contain "." or
// start with "$" ("http.method" is a common key), FerretDB drops a field
// named "", and BSON numbers cannot carry a JSON number such as
// 123456789012345678901234567890 exactly. As text, data reads back as it was
// written, as in the other stores. Events are filtered on name and time
// only; a later schema version can add a parsed copy if data ever needs
// querying inside MongoDB.
//
// # Schema versions
//
// Open brings the database to this release's schema version with the steps
// in migrations, each idempotent, recording the version reached in the
// collection eventsd_migrations, and refuses a database a newer release
// wrote. Version 1 is the indexes. Documents without data (every document
// written before events had data) need no step: they read as events without
// data.
//
// # Calls
//
// Every call runs under a deadline: the caller's, or Config.OpTimeout when
// the caller's context has none. Errors say which operation failed
// ("mongo: insert events: ...") and wrap the driver's error. An unreachable
// server fails a call when its deadline or the server selection timeout
// passes, whichever is first; nothing waits past the deadline.
//
// Batches go in one InsertMany, unordered, so that a duplicate job id does
// not stop the rest; duplicates are recognized from the duplicate-key write
// errors and answered with the stored events in one more query. MongoDB
// writes a batch document by document: when a call fails at the server, the
// events before the failure may be stored, and retrying is safe for events
// that carry a job id.
//
// The code assumes no standalone server, transactions or server-side
// JavaScript, so the same URI form works for a standalone server, a replica
// set and a sharded cluster. A sharded cluster can keep the collection
// unsharded; to shard it, the unique jobId index requires jobId to lead the
// shard key, which events without a job id do not have, so shard on _id only
// after moving idempotency elsewhere.
//
// # Count
//
// Count without bounds uses EstimatedDocumentCount: the collection's own
// document count, read from metadata in constant time, where counting
// documents would read the whole _id index (seconds at tens of millions).
// It is exact on a standalone server and a replica set as long as the server
// shut down cleanly; after a crash it can drift until validate runs, and on a
// sharded cluster it includes orphaned documents during chunk migrations.
// For a dashboard total that is exact enough. Count with either bound uses
// CountDocuments over the createdAt index, which is exact.
//
// # FerretDB
//
// The tests run against FerretDB v1.24.2 on its SQLite backend, embedded in
// the test process (internal/ferrettest), or against TEST_MONGODB_URI. Its
// figures are not MongoDB's: FerretDB v1 sorts in memory after reading every
// matching document (a page costs time proportional to the collection, not
// to the page), its SQLite backend scans the table for _id lookups and
// pushes few filters down, and it ignores "sparse" (its unique index is on
// an SQLite expression that is NULL for a missing jobId, so events without a
// job id still do not collide). Its benchmark numbers measure FerretDB. It
// has no transactions and no TTL indexes, neither of which this store uses.
package mongo
