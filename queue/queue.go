package queue

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// Config tunes a Client. The zero value means the defaults.
type Config struct {
	// Prefix starts every key, "<prefix>:{<queue>}:<part>" (default "eventsd").
	// The queue name in braces is the Redis Cluster hash tag: one queue's keys
	// live on one shard.
	Prefix string
	// EventsMaxAge bounds each queue's lifecycle event stream by time:
	// entries more than this older than the newest (by Redis's clock) are
	// trimmed when the next is added (default 30s; approximately: Redis
	// trims whole nodes of the stream, so a few older entries may stay). A reader that falls behind, or an SSE
	// client that reconnects with Last-Event-ID, resumes without a gap while
	// its last event is younger than this, unless EventsMaxLen trimmed it
	// first. Memory then follows the rate of jobs, not the sizes of their
	// batches. Negative keeps entries by EventsMaxLen alone.
	EventsMaxAge time.Duration
	// EventsMaxLen caps each queue's lifecycle event stream, approximately
	// (default 10,000 entries; an entry holds a batch of up to 500 jobs that
	// made one transition together): the backstop for rates at which
	// EventsMaxAge would keep more. Negative turns lifecycle events off.
	EventsMaxLen int64
}

// Client reaches queues on one Redis: standalone, Sentinel or Cluster, through
// go-redis's UniversalClient, or an in-process miniredis.
type Client struct {
	rdb redis.UniversalClient
	cfg Config
}

// NewClient returns a Client on rdb. It dials nothing until used.
func NewClient(rdb redis.UniversalClient, cfg Config) *Client {
	cfg.Prefix = cmp.Or(cfg.Prefix, "eventsd")
	cfg.EventsMaxLen = cmp.Or(cfg.EventsMaxLen, 10_000)
	if cfg.EventsMaxLen < 0 {
		cfg.EventsMaxLen = 0
	}
	cfg.EventsMaxAge = cmp.Or(cfg.EventsMaxAge, 30*time.Second)
	if cfg.EventsMaxAge < 0 {
		cfg.EventsMaxAge = 0
	}
	return &Client{rdb: rdb, cfg: cfg}
}

// Queue returns a handle on the named queue. Handles are cheap and safe for
// concurrent use. It panics on an empty name or one containing braces or
// control characters, which are programming errors.
func (c *Client) Queue(name string) *Queue {
	if name == "" || strings.ContainsAny(name, "{}") || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		panic(fmt.Sprintf("queue: invalid queue name %q", name))
	}
	base := c.cfg.Prefix + ":{" + name + "}:"
	q := &Queue{rdb: c.rdb, name: name, base: base, eventsCap: streamCap{maxLen: c.cfg.EventsMaxLen, maxAge: c.cfg.EventsMaxAge}.String(), cancelChannel: base + "cancel"}
	for i, part := range keyNames {
		q.keys[i] = base + part
	}
	return q
}

// Queue is a handle on one named queue: adding and managing its jobs.
type Queue struct {
	rdb           redis.UniversalClient
	name          string
	base          string
	keys          [numKeys]string // in keyNames order: the KEYS of every script
	eventsCap     string          // streamCap, as ARGV[1] of every script
	cancelChannel string
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

// NewJob is a job to add.
type NewJob struct {
	Name    string
	Data    []byte
	Options JobOptions
}

// addChunk bounds the jobs one add script takes, keeping each script short.
const addChunk = 500

// Add adds one job and returns it. If the options name an id that exists, or
// a dedup key that a live job holds, nothing is added and that job is returned.
func (q *Queue) Add(ctx context.Context, name string, data []byte, opts JobOptions) (*Job, error) {
	jobs, err := q.AddBulk(ctx, []NewJob{{Name: name, Data: data, Options: opts}})
	if err != nil {
		return nil, err
	}
	return jobs[0], nil
}

// AddBulk adds jobs in one round trip (pipelined in chunks of 500) and
// returns them in order, as Add does. Each job is added or not on its own;
// on an error some chunks may have been added. A call whose reply is lost is
// retried without adding anything twice.
func (q *Queue) AddBulk(ctx context.Context, jobs []NewJob) ([]*Job, error) {
	out := make([]*Job, len(jobs))
	var argLists [][]any
	var reqs []request
	for start := 0; start < len(jobs); start += addChunk {
		chunk := jobs[start:min(start+addChunk, len(jobs))]
		adds := make([]addJob, len(chunk))
		for i, nj := range chunk {
			a, j, err := q.prepare(nj)
			if err != nil {
				return nil, fmt.Errorf("job %d: %w", start+i, err)
			}
			adds[i], out[start+i] = a, j
		}
		argLists = append(argLists, addArgs(adds))
		reqs = append(reqs, q.newRequest())
	}
	replies, err := q.callPipelined(ctx, scriptAdd, reqs, argLists)
	if err != nil {
		return nil, fmt.Errorf("queue %s: add: %w", q.name, err)
	}
	var existing []int
	for c, reply := range replies {
		r, err := decodeAdd(reply)
		if err != nil {
			return nil, fmt.Errorf("queue %s: add: %w", q.name, err)
		}
		for i, res := range r.jobs {
			j := out[c*addChunk+i]
			if !res.added {
				j.ID = res.id
				existing = append(existing, c*addChunk+i)
				continue
			}
			j.AddedAt = r.now
			if due := dueTime(j.Options, r.now); due.After(r.now) {
				j.State, j.DueAt = StateDelayed, due
			}
		}
	}
	if len(existing) > 0 {
		ids := make([]string, len(existing))
		for i, k := range existing {
			ids[i] = out[k].ID
		}
		found, err := q.getMany(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("queue %s: add: %w", q.name, err)
		}
		for i, k := range existing {
			if found[i] != nil {
				out[k] = found[i]
			}
		}
	}
	return out, nil
}

// prepare validates a new job and returns what the add script takes and the
// job as it will be stored.
func (q *Queue) prepare(nj NewJob) (addJob, *Job, error) {
	opts, err := resolve(nj.Options)
	if err == nil {
		err = validName(nj.Name)
	}
	if err != nil {
		return addJob{}, nil, err
	}
	tail, err := recordTail(nj.Name, opts, nj.Data)
	if err != nil {
		return addJob{}, nil, err
	}
	a := addJob{id: opts.ID, tail: tail, priority: opts.Priority, due: dueArg(opts), dedupKey: opts.DedupKey}
	if a.id == "" {
		a.id, a.generated = newJobID(), true
	}
	return a, &Job{ID: a.id, Queue: q.name, Name: nj.Name, Data: nj.Data, Options: opts, State: StateWaiting}, nil
}

// Defaults for job options, the seed's policy: 3 retries (4 attempts) spaced
// 2 s, 4 s, 8 s; completed jobs removed, failed jobs kept.
const (
	DefaultRetries      = 3
	DefaultBackoffDelay = 2 * time.Second
)

// resolve validates opts and fills in defaults, so that what is stored with a
// job is what will happen to it, whatever later defaults become.
func resolve(o JobOptions) (JobOptions, error) {
	if o.ID != "" {
		if err := validCustomID(o.ID); err != nil {
			return o, err
		}
	}
	switch {
	case o.Priority < 0 || o.Priority > MaxPriority:
		return o, invalidf("priority %d is outside 0..%d", o.Priority, MaxPriority)
	case o.Delay < 0:
		return o, invalidf("negative delay %s", o.Delay)
	case o.Retries < NoRetries:
		return o, invalidf("retries %d: use NoRetries (-1) for none", o.Retries)
	case o.Timeout < 0:
		return o, invalidf("negative timeout %s", o.Timeout)
	case o.Backoff.Delay < 0 || o.Backoff.Max < 0:
		return o, invalidf("negative backoff")
	case len(o.DedupKey) > 512:
		return o, invalidf("dedup key longer than 512 bytes")
	}
	switch o.Backoff.Type {
	case "":
		o.Backoff.Type = BackoffExponential
	case BackoffExponential, BackoffFixed, BackoffCustom:
	default:
		return o, invalidf("unknown backoff type %q", o.Backoff.Type)
	}
	if o.Backoff.Delay == 0 && o.Backoff.Type != BackoffCustom {
		o.Backoff.Delay = DefaultBackoffDelay
	}
	switch o.Retries {
	case 0:
		o.Retries = DefaultRetries
	case NoRetries:
		o.Retries = 0
	}
	var err error
	if o.RemoveOnComplete, err = resolveRetention(o.RemoveOnComplete, Remove); err != nil {
		return o, err
	}
	if o.RemoveOnFail, err = resolveRetention(o.RemoveOnFail, Keep); err != nil {
		return o, err
	}
	return o, nil
}

func resolveRetention(r, def Retention) (Retention, error) {
	switch r.Policy {
	case RetainDefault:
		if r.Count != 0 || r.Age != 0 {
			r.Policy = RetainKeep
		} else {
			r = def
		}
	case RetainRemove, RetainKeep:
	default:
		return r, invalidf("unknown retention policy %q", r.Policy)
	}
	if r.Count < 0 || r.Age < 0 {
		return r, invalidf("negative retention")
	}
	return r, nil
}

func validName(name string) error {
	if name == "" || len(name) > 200 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return invalidf("job name %q must be 1 to 200 bytes without control characters", name)
	}
	return nil
}

func dueArg(o JobOptions) string {
	switch {
	case !o.RunAt.IsZero():
		return "@" + strconv.FormatInt(o.RunAt.UnixMilli(), 10)
	case o.Delay > 0:
		return "+" + strconv.FormatInt(o.Delay.Milliseconds(), 10)
	}
	return ""
}

func dueTime(o JobOptions, now time.Time) time.Time {
	switch {
	case !o.RunAt.IsZero():
		return o.RunAt.Truncate(time.Millisecond)
	case o.Delay > 0:
		return now.Add(o.Delay.Truncate(time.Millisecond))
	}
	return now
}
