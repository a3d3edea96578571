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
// A job is in exactly one state: waiting (ready, in priority then arrival
// order; shown as paused while its queue is paused), active (leased to a
// worker), delayed (due later: added with a delay, or backing off before a
// retry), completed or failed. Completed jobs are removed by default and
// failed ones kept; JobOptions.RemoveOnComplete and RemoveOnFail change that.
// Counts reports the jobs in each state and lifetime completed and failed
// totals.
//
// # Delivery
//
// Delivery is at least once. A worker leases the jobs it fetches for
// WorkerConfig.LeaseTime and renews the leases every third of it. A job whose
// worker died is handed back about a lease time after the last renewal: a
// stall, which uses no retry; past WorkerConfig.MaxStalls the job fails. An
// outcome from a worker that lost the lease is refused, so a job redelivered
// elsewhere cannot be completed twice. Handlers must therefore be idempotent,
// or make their effect idempotent by the job's id.
//
// Retries: JobOptions.Retries counts runs after the first, so 3 retries are 4
// attempts. The wait before retry n is Backoff.Delay × 2^(n−1) for
// exponential backoff (2 s, 4 s, 8 s by default). A handler error wrapped
// with SkipRetry fails the job at once; RetryAfter picks the next attempt's
// time.
//
// # Time and waiting
//
// Workers do not poll. An idle worker blocks in Redis (BLPOP on a marker
// list that adding a job pushes to) and starts a new job within
// milliseconds; it sends Redis about two commands per
// WorkerConfig.MaxIdleWait. Due times are kept in milliseconds by Redis's
// clock, so client clocks do not matter, and a worker waiting for a delayed
// job or an expiring lease wakes on a local timer at the due time.
//
// # Keys
//
// Every key of a queue is "<prefix>:{<queue>}:<part>": the queue name is the
// Redis Cluster hash tag, so one queue lives on one shard, and every script
// declares every key it touches. Lifecycle events go to a capped stream that
// Queue.Events reads from any process.
package queue
