// Package webhooks notifies subscribers of events by HTTP, following the
// Standard Webhooks specification (https://www.standardwebhooks.com).
//
// Every event written through Store (the API's, the processor's, an
// import's) fans out to the enabled subscriptions whose patterns match its
// name, as one deliver-webhook job per (event, subscription). The job's id
// comes from both, so adding it twice adds one job: a retried fan-out never
// notifies twice while the first job is kept (an hour after it completes).
//
// A fan-out that fails after its events were written is not lost: before
// writing, Store records the ids of events that will notify in a Redis
// sorted set (the outbox); the fan-out removes them once their jobs are
// added, and Fanout.Run sweeps what a crash or a Redis error left there,
// reading each event back from the store. An event whose notification
// cannot be recorded is not written: its writer sees the error and may
// retry.
//
// Deliverer runs deliver-webhook jobs: a signed POST, retried on 5xx, 408,
// 429 (after Retry-After), timeouts and connection errors on the configured
// schedule with jitter; any other answer fails the delivery at once. Every
// attempt is recorded in the store. A subscription is disabled, with its
// reason, once DisableAfter deliveries in a row failed for good or its
// failures have lasted DisableAge.
//
// Receivers are reached only at public addresses unless AllowPrivate is
// set: URLs are checked when a subscription is saved, and the address
// actually dialled is checked again, so a name that resolves elsewhere
// later, or a redirect, cannot reach an internal service.
package webhooks
