// Package queue is a job queue on Redis: producers add jobs to named queues,
// workers run them with handlers, and every state change is one Lua script,
// so a crash between two commands never leaves a job in two states or none.
//
// It holds no business code and depends only on go-redis: it works with any
// redis.UniversalClient (standalone, Sentinel, Cluster) and with an
// in-process miniredis.
//
// # Jobs and states
//
// A job is in exactly one state: waiting (ready, in priority then readiness
// order; shown as paused while its queue is paused), active (leased to a
// worker), delayed (due later: added with a delay, or backing off before a
// retry), completed or failed. Completed jobs are removed by default and
// failed ones kept; JobOptions.RemoveOnComplete and RemoveOnFail change that.
// Counts reports the jobs in each state, lifetime totals and how long the
// job next in line has been runnable. ListPage lists a state by cursor,
// stable while jobs move; List by offset.
//
// # Delivery
//
// Delivery is at least once. A worker leases the jobs it fetches for
// WorkerConfig.LeaseTime and renews the leases every third of it. A job whose
// worker died is handed back about a lease time after the last renewal: a
// stall, which uses no retry; past WorkerConfig.MaxStalls the job fails. An
// outcome from a delivery that lost its lease is refused, so a job
// redelivered elsewhere cannot be completed twice, and a handler whose job
// came back to its own worker is cancelled. Handlers must therefore be
// idempotent, or make their effect idempotent by the job's id.
//
// Retries: JobOptions.Retries counts runs after the first, so 3 retries are 4
// attempts. The wait before retry n is Backoff.Delay × 2^(n−1) for
// exponential backoff (2 s, 4 s, 8 s by default). A handler error wrapped
// with SkipRetry fails the job at once; RetryAfter picks the next attempt's
// time.
//
// # When Redis fails
//
// A reply lost after Redis ran a command makes clients retry it (go-redis
// does so by itself). Every script is safe to run twice: those that change
// state take a request id and remember their reply for a minute, so a
// retried add adds nothing twice, a retried fetch answers the jobs it
// already leased, and a retried management call answers as the first did.
//
// Generated job ids are UUIDv7s made by the client, never reused whatever
// Redis loses: a restart from an older snapshot, an AOF that lost its last
// second, a failover to a lagging replica. Custom ids can never take their
// form. Jobs Redis lost are lost; what Redis keeps stays consistent.
//
// # Time and waiting
//
// Workers do not poll. An idle worker blocks in Redis (BLPOP on a marker
// list that adding a job pushes to) with its fetch pipelined behind the
// wait, so Redis runs the fetch the moment the wait ends and a new job
// reaches the worker in one hop from Redis; it sends Redis about two
// commands per WorkerConfig.MaxIdleWait. Due times are kept in milliseconds
// by Redis's clock, so client clocks do not matter, and a worker waiting for
// a delayed job or an expiring lease wakes on a local timer at the due
// time, to the microsecond of Redis's clock.
//
// # Cost
//
// A worker fetches as many jobs as it has free slots in one script and
// records outcomes in batches in another; the jobs of one batch that make
// the same transition share one lifecycle stream entry. Under load a job
// costs a fraction of a Redis command.
//
// # Keys
//
// Every key of a queue is "<prefix>:{<queue>}:<part>": the queue name is the
// Redis Cluster hash tag, so one queue lives on one shard, and every script
// declares every key it touches. Lifecycle events go to a stream, bounded by
// age (Config.EventsMaxAge) and by length (Config.EventsMaxLen), that
// Queue.Events, or an EventStream shared by many subscribers, reads from
// any process.
package queue
