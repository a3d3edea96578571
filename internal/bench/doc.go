// Package bench measures eventsd the way `eventsd bench` reports it, so that
// users can check our figures, and the queue vendors' claims, on their own
// hardware.
//
//   - Queue measures the job engine alone: bulk add and processing rates,
//     idle pickup latency, delayed-job lateness, end-to-end latency at a
//     steady rate, Redis commands per job and per idle second (from INFO
//     commandstats), CPU and peak RSS.
//   - E2E runs the seed's pipeline, mock-data jobs through a worker into an
//     event store, and checks afterwards that each job left exactly one event.
//   - HTTP drives a running eventsd's REST API with its own load generator.
//
// Each leaves nothing behind: Redis keys under a prefix of their own
// (eventsd-bench-<random>:), a temporary SQLite file or a MongoDB database of
// its own (TempSQLite, TempMongo), and the events the HTTP run created. Every
// figure is in the result's JSON, camelCase; WriteText prints the same for a
// reader. Tests run each benchmark at a tiny size and assert on what was
// counted, never on speed.
package bench
