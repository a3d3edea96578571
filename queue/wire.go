package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The formats that cross between Go and Lua. Each has one format and one
// parse function on each side (Lua's in lua/common.lua, beside the same
// names), and a round-trip test in wire_test.go.

// A reply is a sequence of fields, each "<byte length>:<bytes>": any bytes,
// in one string that go-redis reads in one allocation and that a script can
// remember for a retried call. Lua: pack.

// pack formats fields as a reply.
func pack(fields ...string) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}

// errWire is a reply or stored value that does not parse: a script and its
// wrapper disagree, or Redis holds something we did not write.
var errWire = errors.New("queue: malformed reply from Redis")

// fields reads a reply field by field. The first problem sticks in err; the
// readers return zero values after it.
type fields struct {
	s   string
	err error
}

func (f *fields) more() bool { return f.err == nil && f.s != "" }

func (f *fields) str() string {
	if f.err != nil {
		return ""
	}
	i := strings.IndexByte(f.s, ':')
	n, err := strconv.Atoi(f.s[:max(i, 0)])
	if i < 0 || err != nil || n < 0 || n > len(f.s)-i-1 {
		f.err = errWire
		return ""
	}
	v := f.s[i+1 : i+1+n]
	f.s = f.s[i+1+n:]
	return v
}

func (f *fields) int() int64 {
	s := f.str()
	if f.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.err = errWire
	}
	return n
}

// ms reads a unix time in milliseconds; 0 is the zero time.
func (f *fields) ms() time.Time { return msTime(f.int()) }

// done reports the first error, or errWire if fields are left over.
func (f *fields) done() error {
	if f.err == nil && f.s != "" {
		return errWire
	}
	return f.err
}

func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// A job's immutable part is one string, the record:
// "<addedAt ms>;<fail retention>;<nameLen>;<optsLen>;<name><options JSON><payload>".
// The payload is kept byte for byte, and the scripts read the header, the
// failure retention included, without decoding JSON. The client formats the
// tail (everything after the first ';'); the add script puts Redis's time in
// front. Lua: record_header.

// recordTail formats a record without its time.
func recordTail(name string, opts JobOptions, data []byte) (string, error) {
	o, err := json.Marshal(opts)
	if err != nil {
		return "", fmt.Errorf("queue: encode options: %w", err)
	}
	var b strings.Builder
	b.Grow(32 + len(name) + len(o) + len(data))
	b.WriteString(opts.RemoveOnFail.spec())
	b.WriteByte(';')
	b.WriteString(strconv.Itoa(len(name)))
	b.WriteByte(';')
	b.WriteString(strconv.Itoa(len(o)))
	b.WriteByte(';')
	b.WriteString(name)
	b.Write(o)
	b.Write(data)
	return b.String(), nil
}

// record is a parsed record. Its strings share the record's memory.
type record struct {
	addedAt time.Time
	name    string
	options string // JSON
	data    string
}

func parseRecord(rec string) (record, error) {
	var r record
	var hdr [4]string
	rest := rec
	for i := range hdr {
		k := strings.IndexByte(rest, ';')
		if k < 0 {
			return r, errors.New("malformed record")
		}
		hdr[i], rest = rest[:k], rest[k+1:]
	}
	added, err1 := parseDigits(hdr[0])
	nl, err2 := parseDigits(hdr[2])
	ol, err3 := parseDigits(hdr[3])
	if err1 != nil || err2 != nil || err3 != nil {
		return r, errors.New("malformed record")
	}
	if nl > int64(len(rest)) || ol > int64(len(rest))-nl {
		return r, errors.New("truncated record")
	}
	r.addedAt = msTime(added)
	r.name, r.options, r.data = rest[:nl], rest[nl:nl+ol], rest[nl+ol:]
	return r, nil
}

// A job's run state is its mutable counters, "<deliveries>,<failures>,<stalls>,<startedAt ms>".
// Deliveries number the job's leases: a worker's outcome counts only for
// the lease it holds. Lua: parse_run, format_run.
type runState struct {
	deliveries, failures, stalls int64
	startedAt                    time.Time
}

func (r runState) String() string {
	var ms int64
	if !r.startedAt.IsZero() {
		ms = r.startedAt.UnixMilli()
	}
	return fmt.Sprintf("%d,%d,%d,%d", r.deliveries, r.failures, r.stalls, ms)
}

// parseRun takes what Lua's parse_run takes: exactly four runs of digits.
func parseRun(s string) (runState, error) {
	var r runState
	var v [4]int64
	rest := s
	for i := range v {
		part, tail, found := strings.Cut(rest, ",")
		n, err := parseDigits(part)
		if err != nil || found == (i == len(v)-1) {
			return r, fmt.Errorf("malformed run state %q", s)
		}
		v[i], rest = n, tail
	}
	r.deliveries, r.failures, r.stalls, r.startedAt = v[0], v[1], v[2], msTime(v[3])
	return r, nil
}

// parseDigits reads a number written as Lua's %d+ matches it: one or more
// decimal digits, no sign. strconv alone would also take "+1" and "-1",
// which the scripts read as no number at all.
func parseDigits(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errWire
	}
	return strconv.ParseInt(s, 10, 64)
}

// A retention spec says what to keep of a job that ends: "r" removes it,
// "k:<count>:<age ms>" keeps it within limits (0: none). Lua: parse_spec.

// spec formats r.
func (r Retention) spec() string {
	if r.Policy == RetainRemove {
		return "r"
	}
	return "k:" + strconv.Itoa(r.Count) + ":" + strconv.FormatInt(r.Age.Milliseconds(), 10)
}

func parseSpec(s string) (Retention, error) {
	if s == "r" {
		return Remove, nil
	}
	var count, age int64
	if _, err := fmt.Sscanf(s, "k:%d:%d", &count, &age); err != nil || count < 0 || age < 0 ||
		s != "k:"+strconv.FormatInt(count, 10)+":"+strconv.FormatInt(age, 10) {
		return Retention{}, fmt.Errorf("malformed retention spec %q", s)
	}
	return Retention{Policy: RetainKeep, Count: int(count), Age: time.Duration(age) * time.Millisecond}, nil
}

// A job's history is a JSON array of attempts that failed or stalled, each
// {"attempt": n, "error": "...", "at": <ms>, "stalled": true (when so)},
// appended by the scripts. Lua: history_entry.
type historyEntry struct {
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	At      int64  `json:"at"`
	Stalled bool   `json:"stalled,omitempty"`
}

func parseHistory(s string) ([]AttemptError, error) {
	if s == "" {
		return nil, nil
	}
	var entries []historyEntry
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	out := make([]AttemptError, len(entries))
	for i, e := range entries {
		out[i] = AttemptError{Attempt: e.Attempt, Error: e.Error, At: msTime(e.At), Stalled: e.Stalled}
	}
	return out, nil
}

// rawJSON returns s as JSON, or nil when it is empty.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
