package queue

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The contract between Go and the Lua scripts:
//
//   - KEYS are the queue's keys in keyNames order, then, for scripts that
//     remember their reply, the key under which they remember it. The Lua
//     names of the keys (kMeta, kData, ..., kReq) are generated from
//     keyNames, so the order is written once.
//   - ARGV[1] is the lifecycle stream's cap (streamCap), ARGV[2] the
//     call's request id ("" when the script does not remember replies), and
//     each script's own arguments follow from ARGV[3]; its typed wrapper in
//     calls.go documents them.
//   - Every script answers one string in the wire format (wire.go), decoded
//     by its wrapper into a struct.

// keyPart names one of a queue's keys. The order is the order of KEYS.
type keyPart int

const (
	kMeta      keyPart = iota // HASH paused, resumed_at, lifetime totals
	kRec                      // HASH job id -> record (immutable): see wire.go
	kRun                      // HASH job id -> run state: see wire.go
	kPrio                     // HASH job id -> priority, when above 0
	kDedupOf                  // HASH job id -> its dedup key, when it has one
	kProgress                 // HASH job id -> progress JSON
	kResult                   // HASH job id -> result JSON
	kHistory                  // HASH job id -> history JSON array
	kCancel                   // HASH job id -> '1' while a cancel is pending
	kWaiting                  // ZSET ready jobs: priority × 2^43 + ready time (ms)
	kDelayed                  // ZSET jobs due later: due time (ms)
	kActive                   // ZSET leased jobs: lease expiry (ms)
	kCompleted                // ZSET finish time (ms)
	kFailed                   // ZSET finish time (ms)
	kDedup                    // HASH dedup key -> job id
	kEvents                   // STREAM lifecycle events
	kMarker                   // LIST at most one element; idle workers block on it
	numKeys
)

var keyNames = [numKeys]string{
	kMeta: "meta", kRec: "rec", kRun: "run", kPrio: "prio", kDedupOf: "dedupOf", kProgress: "progress",
	kResult: "result", kHistory: "history", kCancel: "cancel", kWaiting: "waiting", kDelayed: "delayed", kActive: "active",
	kCompleted: "completed", kFailed: "failed", kDedup: "dedup", kEvents: "events", kMarker: "marker",
}

// requestTTL is how long a script's remembered reply outlives the call: far
// longer than a client's retries of one call (go-redis: 3 retries, each
// within its read timeout) and a worker's own retries of a batch.
const requestTTL = time.Minute

//go:embed lua/*.lua
var luaFiles embed.FS

// luaPrelude declares the keys and the common ARGV for every script,
// generated from keyNames.
var luaPrelude = func() string {
	var b strings.Builder
	b.WriteString("-- generated from keyNames in scripts.go\n")
	for i, name := range keyNames {
		fmt.Fprintf(&b, "local k%s = KEYS[%d]\n", strings.ToUpper(name[:1])+name[1:], i+1)
	}
	fmt.Fprintf(&b, "local kReq = KEYS[%d]\n", numKeys+1)
	fmt.Fprintf(&b, "local eventsCap, requestID, requestTTL = ARGV[1], ARGV[2], %d\n", requestTTL.Milliseconds())
	return b.String()
}()

// script is one embedded Lua script: the prelude, common.lua, then its file.
type script struct {
	name string
	*redis.Script
}

func loadScript(name string) script {
	common, err := luaFiles.ReadFile("lua/common.lua")
	if err != nil {
		panic(err)
	}
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	return script{name: name, Script: redis.NewScript(luaPrelude + string(common) + "\n" + string(body))}
}

// Every state change is one Lua script, so a crash between two commands never
// leaves a job in two states or in none.
var (
	scriptAdd      = loadScript("add")
	scriptFetch    = loadScript("fetch")
	scriptAck      = loadScript("ack")
	scriptExtend   = loadScript("extend")
	scriptRelease  = loadScript("release")
	scriptProgress = loadScript("progress")
	scriptGet      = loadScript("get")
	scriptList     = loadScript("list")
	scriptPage     = loadScript("page")
	scriptCounts   = loadScript("counts")
	scriptRemove   = loadScript("remove")
	scriptRetry    = loadScript("retry")
	scriptPromote  = loadScript("promote")
	scriptPause    = loadScript("pause")
	scriptCancel   = loadScript("cancel")
	scriptClean    = loadScript("clean")
)

// streamCap bounds the lifecycle stream: ARGV[1] of every script,
// "<max entries>,<max age ms>". Lua: parse_stream_cap (common.lua), which
// emit follows. maxLen 0 turns events off; maxAge 0 trims by count alone.
type streamCap struct {
	maxLen int64
	maxAge time.Duration
}

func (c streamCap) String() string {
	return fmt.Sprintf("%d,%d", c.maxLen, c.maxAge.Milliseconds())
}

// request makes a script call safe to run twice. A client that loses a reply
// retries the call (go-redis does so by itself); the script then finds its
// reply remembered under the request's key and returns it instead of acting
// again. A zero request means the script is idempotent by nature.
type request struct {
	id  string // unique to the call; the same on every retry of it
	key string // where the reply is remembered
}

// newRequest returns a request remembered under a key of its own.
func (q *Queue) newRequest() request {
	id := newRequestID()
	return request{id: id, key: q.base + "req:" + id}
}

func newRequestID() string { return rand.Text() }

// callArgs assembles the KEYS and ARGV of one call.
func (q *Queue) callArgs(req request, args []any) ([]string, []any) {
	keys := q.keys[:numKeys:numKeys]
	if req.key != "" {
		keys = append(keys, req.key)
	}
	argv := make([]any, 0, 2+len(args))
	argv = append(argv, q.eventsCap, req.id)
	return keys, append(argv, args...)
}

// call runs s once and returns its reply. A server that lost its script
// cache (NOSCRIPT) gets the script's source, which reloads it.
func (q *Queue) call(ctx context.Context, s script, req request, args ...any) (string, error) {
	keys, argv := q.callArgs(req, args)
	reply, err := s.EvalSha(ctx, q.rdb, keys, argv...).Text()
	if err != nil && isNoScript(err) {
		reply, err = s.Eval(ctx, q.rdb, keys, argv...).Text()
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	return reply, nil
}

// callArray runs s, whose reply is an array rather than packed (only fetch).
func (q *Queue) callArray(ctx context.Context, s script, req request, args ...any) ([]any, error) {
	keys, argv := q.callArgs(req, args)
	res, err := s.EvalSha(ctx, q.rdb, keys, argv...).Slice()
	if err != nil && isNoScript(err) {
		res, err = s.Eval(ctx, q.rdb, keys, argv...).Slice()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	return res, nil
}

// callPipelined runs s once per argument list in one round trip, each list
// a request of its own. Calls refused with NOSCRIPT were not run and are run
// again one by one, which reloads the script.
func (q *Queue) callPipelined(ctx context.Context, s script, reqs []request, argLists [][]any) ([]string, error) {
	cmds := make([]*redis.Cmd, len(argLists))
	pipe := q.rdb.Pipeline()
	for i, args := range argLists {
		keys, argv := q.callArgs(reqs[i], args)
		cmds[i] = s.EvalSha(ctx, pipe, keys, argv...)
	}
	pipe.Exec(ctx)
	out := make([]string, len(cmds))
	for i, cmd := range cmds {
		reply, err := cmd.Text()
		if err != nil && isNoScript(err) {
			reply, err = q.call(ctx, s, reqs[i], argLists[i]...)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		out[i] = reply
	}
	return out, nil
}

func isNoScript(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && redis.HasErrorPrefix(err, "NOSCRIPT")
}
