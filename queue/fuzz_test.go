package queue

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of the formats that cross between Go and Lua (wire.go),
// of job options as JSON and of event stream positions. Their seed corpora
// are testdata/fuzz/<target>. To fuzz one:
//
//	go test -run='^$' -fuzz='^FuzzRecord$' -fuzztime=1000000x ./queue/

// luaRecordHeader and luaRunState are the patterns Lua's record_header and
// parse_run match (lua/common.lua), as regular expressions: what Go parses
// must be what the scripts parse.
var (
	luaRecordHeader = regexp.MustCompile(`^[0-9]+;[^;]*;[0-9]+;[0-9]+;`)
	luaRunState     = regexp.MustCompile(`^[0-9]+,[0-9]+,[0-9]+,[0-9]+$`)
)

// FuzzRecord checks parseRecord on any string and recordTail's round trip.
// A string parseRecord takes has the header the scripts read, and ends with
// the name, options and payload it returns. A record made by recordTail from
// any name, payload and options resolve accepts parses back to them, with
// the failure retention the scripts read from its header.
func FuzzRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string, name string, data []byte, added int64, keepCount int, keepAge int64, remove bool) {
		if r, err := parseRecord(raw); err == nil {
			if !luaRecordHeader.MatchString(raw) {
				t.Fatalf("parseRecord(%q) took a header the scripts do not read", raw)
			}
			if !strings.HasSuffix(raw, r.name+r.options+r.data) {
				t.Fatalf("parseRecord(%q) = %+v: not the record's tail", raw, r)
			}
		}

		opts := JobOptions{RemoveOnFail: Retention{Policy: RetainKeep, Count: keepCount, Age: time.Duration(keepAge) * time.Millisecond}}
		if remove {
			opts.RemoveOnFail = Remove
		}
		opts, err := resolve(opts)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("resolve: %v does not wrap ErrInvalid", err)
			}
			return
		}
		tail, err := recordTail(name, opts, data)
		if err != nil {
			t.Fatal(err)
		}
		added = max(added, 0)
		rec := strconv.FormatInt(added, 10) + ";" + tail
		r, err := parseRecord(rec)
		if err != nil {
			t.Fatalf("parseRecord(%q): %v", rec, err)
		}
		if r.name != name || r.data != string(data) || !r.addedAt.Equal(msTime(added)) {
			t.Fatalf("record %q parsed as %+v", rec, r)
		}
		var back JobOptions
		if err := json.Unmarshal([]byte(r.options), &back); err != nil || back != opts {
			t.Fatalf("options %+v came back as %+v, %v", opts, back, err)
		}
		spec, _, _ := strings.Cut(tail, ";")
		if ret, err := parseSpec(spec); err != nil || ret != opts.RemoveOnFail {
			t.Fatalf("retention %+v in the header as %q, read as %+v, %v", opts.RemoveOnFail, spec, ret, err)
		}
	})
}

// FuzzRunState checks parseRun on any string and the run state's round
// trip: what parseRun takes is what Lua's parse_run takes, and formats back
// to a string that parses to the same state.
func FuzzRunState(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, deliveries, failures, stalls, startedMs int64) {
		r, err := parseRun(s)
		if (err == nil) != (luaRunState.MatchString(s) && fitsInt64(strings.Split(s, ",")...)) {
			t.Fatalf("parseRun(%q) error = %v; the scripts read it the other way", s, err)
		}
		if err == nil {
			if back, err := parseRun(r.String()); err != nil || back != r {
				t.Fatalf("parseRun(%q) = %+v, formatted %q, parsed back as %+v, %v", s, r, r.String(), back, err)
			}
		}
		r = runState{deliveries: abs(deliveries), failures: abs(failures), stalls: abs(stalls), startedAt: msTime(startedMs)}
		if back, err := parseRun(r.String()); err != nil || back != r {
			t.Fatalf("run %+v formatted %q, parsed back as %+v, %v", r, r.String(), back, err)
		}
	})
}

// FuzzJobOptions checks job options given as JSON, as the API passes them
// on: resolve accepts them or says why with ErrInvalid. Resolved options
// have every default filled in, resolve changes them no more (but for
// Retries, where 0 after resolving means none), and they survive the trip
// through JSON and the job record unchanged.
func FuzzJobOptions(f *testing.F) {
	f.Fuzz(func(t *testing.T, js []byte) {
		var o JobOptions
		if json.Unmarshal(js, &o) != nil {
			return
		}
		r, err := resolve(o)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("resolve(%s): %v does not wrap ErrInvalid", js, err)
			}
			return
		}
		switch {
		case r.Retries < 0 || r.Priority < 0 || r.Priority > MaxPriority:
			t.Fatalf("resolve(%s) = %+v: retries or priority out of range", js, r)
		case r.Backoff.Type == "" || r.RemoveOnComplete.Policy == RetainDefault || r.RemoveOnFail.Policy == RetainDefault:
			t.Fatalf("resolve(%s) = %+v: a default left unresolved", js, r)
		}
		again := r
		if again.Retries == 0 {
			again.Retries = NoRetries
		}
		if r2, err := resolve(again); err != nil || !sameOptions(r2, r) {
			t.Fatalf("resolve(%s) = %+v, resolved again %+v, %v", js, r, r2, err)
		}
		tail, err := recordTail("job", r, nil)
		if err != nil {
			// Only a time JSON cannot write: a year outside 0..9999.
			if y := r.RunAt.Year(); y >= 0 && y <= 9999 {
				t.Fatalf("recordTail(%+v): %v", r, err)
			}
			return
		}
		rec, err := parseRecord("1;" + tail)
		if err != nil {
			t.Fatalf("parseRecord(%q): %v", "1;"+tail, err)
		}
		var back JobOptions
		if err := decodeOptions(rec.options, &back); err != nil || !sameOptions(back, r) {
			t.Fatalf("options %+v stored as %s, read back as %+v, %v", r, rec.options, back, err)
		}
	})
}

// FuzzEventID checks stream positions as clients give them (Last-Event-ID):
// parseEventPos takes only one to three runs of digits that fit, joined by
// '-', and a position it takes prints as an id that parses to the same
// position. An event id made from any numbers is valid and orders as its
// numbers do.
func FuzzEventID(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, ms, seq uint64, i uint32, ms2, seq2 uint64, i2 uint32) {
		p, err := parseEventPos(s)
		parts := strings.Split(s, "-")
		shape := len(parts) <= 3 && fitsUint(parts[0], 64) && (len(parts) < 2 || fitsUint(parts[1], 64)) && (len(parts) < 3 || fitsUint(parts[2], 32))
		if (err == nil) != shape {
			t.Fatalf("parseEventPos(%q) error = %v; its shape says otherwise", s, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidEventID) {
				t.Fatalf("parseEventPos(%q): %v does not wrap ErrInvalidEventID", s, err)
			}
			return
		}
		id := p.entry()
		if !p.whole {
			id += "-" + strconv.FormatUint(uint64(p.i), 10)
		}
		if back, err := parseEventPos(id); err != nil || back != p {
			t.Fatalf("parseEventPos(%q) = %+v, printed %q, parsed back as %+v, %v", s, p, id, back, err)
		}

		a := eventPos{ms: ms, seq: seq, i: i}
		b := eventPos{ms: ms2, seq: seq2, i: i2}
		pa, errA := parseEventPos(a.entry() + "-" + strconv.FormatUint(uint64(i), 10))
		pb, errB := parseEventPos(b.entry() + "-" + strconv.FormatUint(uint64(i2), 10))
		if errA != nil || errB != nil || pa != a || pb != b {
			t.Fatalf("event ids of %+v, %+v parse as %+v, %+v (%v, %v)", a, b, pa, pb, errA, errB)
		}
		less := ms < ms2 || ms == ms2 && (seq < seq2 || seq == seq2 && i < i2)
		if got := a.before(b); got != less {
			t.Fatalf("%+v before %+v = %v, want %v", a, b, got, less)
		}
	})
}

// fitsInt64 reports whether each s is a decimal number below 2^63.
func fitsInt64(ss ...string) bool {
	for _, s := range ss {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return false
		}
	}
	return true
}

// fitsUint reports whether s is digits only, at least one, below 2^bits.
func fitsUint(s string, bits int) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, bits)
	return err == nil
}

func abs(n int64) int64 {
	if n < 0 {
		return max(-n, 0) // -MinInt64 stays negative
	}
	return n
}

// sameOptions compares options, RunAt as an instant: JSON keeps a time's
// offset but not its location.
func sameOptions(a, b JobOptions) bool {
	if !a.RunAt.Equal(b.RunAt) {
		return false
	}
	a.RunAt, b.RunAt = time.Time{}, time.Time{}
	return a == b
}
