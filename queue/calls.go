package queue

import (
	"strconv"
	"strings"
	"time"
)

// One typed wrapper per script: the arguments it takes (ARGV from 3, after
// the events cap and the request id that every call sends) and the reply it
// gives, decoded. The scripts' own comments say what each guarantees.

// add.lua — ARGV per job: id, generated ('1'/'0'), record tail, priority,
// due (” | '+<ms>' | '@<unix ms>'), dedup key. Remembers its reply.
type addJob struct {
	id        string
	generated bool // made by newJobID: unique, so not looked up
	tail      string
	priority  int
	due       string
	dedupKey  string
}

type addReply struct {
	now  time.Time
	jobs []addResult // in argument order
}

type addResult struct {
	added bool   // false: an existing job (same id or dedup key) was answered
	id    string // the job answered
}

func addArgs(jobs []addJob) []any {
	args := make([]any, 0, 1+6*len(jobs))
	args = append(args, len(jobs))
	for _, a := range jobs {
		gen := "0"
		if a.generated {
			gen = "1"
		}
		args = append(args, a.id, gen, a.tail, a.priority, a.due, a.dedupKey)
	}
	return args
}

func decodeAdd(reply string) (addReply, error) {
	f := fields{s: reply}
	r := addReply{now: f.ms()}
	for f.more() {
		added := f.str() == "1"
		r.jobs = append(r.jobs, addResult{added: added, id: f.str()})
	}
	return r, f.done()
}

// fetch.lua — ARGV: count, lease ms, max stalls. Remembers which jobs it
// leased under the worker's fetch key. Its reply is an array, not packed, so
// that the records reach Go as Redis holds them without passing through Lua.
type fetchArgs struct {
	count     int
	lease     time.Duration
	maxStalls int
}

type fetchReply struct {
	now    time.Time
	wakeAt time.Time // earliest delayed due time or lease expiry; zero: none, or the batch was full
	jobs   []fetched
}

// fetched is one leased job as the script answers it.
type fetched struct {
	id, record string
	run        string
	readyAt    time.Time // when it became runnable
}

func (a fetchArgs) args() []any {
	return []any{a.count, a.lease.Milliseconds(), a.maxStalls}
}

// prioStep is 2^43: a waiting job's score is priority × prioStep + the time
// it became ready, in ms (lua/common.lua's PRIO).
const prioStep = 1 << 43

func decodeFetch(res []any) (fetchReply, error) {
	if len(res) < 6 {
		return fetchReply{}, errWire
	}
	var head [6]string
	for i := range head {
		head[i], _ = res[i].(string)
	}
	var vals [3]int64
	for i := range vals {
		n, err := strconv.ParseInt(head[i], 10, 64)
		if err != nil {
			return fetchReply{}, errWire
		}
		vals[i] = n
	}
	now, resumedAt := vals[0]/1000, vals[2] // Redis's now in ms, from µs
	recs := res[6:]
	r := fetchReply{now: time.UnixMicro(vals[0]), wakeAt: msTime(vals[1])}
	if len(recs) == 0 {
		return r, nil
	}
	ids, runs, scores := head[3], head[4], head[5]
	r.jobs = make([]fetched, len(recs))
	for i, v := range recs {
		var id, run, score string
		id, ids, _ = strings.Cut(ids, "\n")
		run, runs, _ = strings.Cut(runs, "\n")
		score, scores, _ = strings.Cut(scores, "\n")
		rec, _ := v.(string)
		s, err := strconv.ParseFloat(score, 64)
		if id == "" || run == "" || err != nil {
			return fetchReply{}, errWire
		}
		ready := int64(s) % prioStep
		switch {
		case ready < resumedAt:
			ready = resumedAt // it waited in a paused queue
		case ready == 0:
			ready = now // handed back unfinished, or answered from memory: runnable now
		}
		r.jobs[i] = fetched{id: id, record: rec, run: run, readyAt: msTime(ready)}
	}
	if ids != "" || runs != "" || scores != "" {
		return fetchReply{}, errWire
	}
	return r, nil
}

// ack.lua — ARGV: the count of common outcomes, then each as its fields
// (see ackArgs). Remembers its reply under the worker's ack key. Reply: the
// 1-based positions, in ackArgs's order, of the outcomes dropped (no longer
// in the delivery that ran them).
func decodePositions(reply string) ([]int, error) {
	f := fields{s: reply}
	var out []int
	for f.more() {
		out = append(out, int(f.int()))
	}
	return out, f.done()
}

// extend.lua — ARGV: lease ms, then pairs id, delivery. Idempotent.
type extendReply struct {
	lost, cancelled []int // 1-based pair positions
}

func decodeExtend(reply string) (extendReply, error) {
	f := fields{s: reply}
	var r extendReply
	n := int(f.int())
	for i := 0; f.more(); i++ {
		if i < n {
			r.lost = append(r.lost, int(f.int()))
		} else {
			r.cancelled = append(r.cancelled, int(f.int()))
		}
	}
	return r, f.done()
}

// release.lua — ARGV: pairs id, delivery. Idempotent. Reply: how many
// were handed back. progress.lua — ARGV: id, delivery, progress JSON;
// idempotent; reply '1', or '0' when the lease is lost. counts.lua answers
// eleven numbers (decodeCounts). The management scripts (remove, promote,
// retry, cancel, clean) remember their reply and answer one word or number.
func decodeOne(reply string) (string, error) {
	f := fields{s: reply}
	v := f.str()
	return v, f.done()
}

// list.lua — ARGV: state, first rank, last rank. Reply: ids.
func decodeIDs(reply string) ([]string, error) {
	f := fields{s: reply}
	var ids []string
	for f.more() {
		ids = append(ids, f.str())
	}
	return ids, f.done()
}

// get.lua — ARGV: ids. Reply: paused, then per id the stored fields.
type storedJob struct {
	record, run, progress, result, history string // '' when absent
	state                                  State
	score                                  string
}

func decodeGet(reply string) (paused bool, jobs []storedJob, err error) {
	f := fields{s: reply}
	paused = f.str() == "1"
	for f.more() {
		jobs = append(jobs, storedJob{record: f.str(), run: f.str(), progress: f.str(), result: f.str(),
			history: f.str(), state: State(f.str()), score: f.str()})
	}
	return paused, jobs, f.done()
}

func decodeCounts(reply string) (Counts, error) {
	f := fields{s: reply}
	c := Counts{Waiting: f.int(), Active: f.int(), Delayed: f.int(), Completed: f.int(), Failed: f.int(),
		CompletedTotal: f.int(), FailedTotal: f.int(), CancelledTotal: f.int(), IsPaused: f.str() == "1"}
	if now, ready := f.int(), f.int(); ready > 0 {
		c.OldestWaiting = max(time.Duration(now-ready)*time.Millisecond, 0)
	}
	if c.IsPaused {
		c.Paused, c.Waiting = c.Waiting, 0
	}
	return c, f.done()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
