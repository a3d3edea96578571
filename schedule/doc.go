// Package schedule runs cron schedules so that each fire time fires once
// across every eventsd process sharing one Redis.
//
// A schedule is a name, a spec and a Func. The spec is a cron expression with
// an optional seconds field ("*/2 * * * * *" or "0 * * * *"), a descriptor
// ("@hourly", "@daily", "@midnight") or an interval ("@every 10s"); see
// ParseSpec. Each fire time is a slot. Before a process fires a slot it claims
// it in Redis with one atomic script, so N processes running the same
// schedules produce one fire per slot between them, and the Func receives the
// slot itself, not the time it happened to run, so callers can derive
// idempotent job ids from it.
//
// A claim lives for three of the schedule's intervals, and at least a minute,
// so processes whose clocks differ by less than that agree on every slot; keep
// clocks in sync (NTP) and derive job ids from the slot to cover the rest.
//
// Delivery is at most once per slot: a process that claims a slot and then
// crashes does not hand the slot to another, and a Redis error while claiming
// skips the slot rather than firing it uncoordinated. Callers that need every
// slot's effect should derive a job id from the slot and let the queue
// deduplicate, and choose CatchUp for schedules that must not lose a run over
// a restart.
package schedule
