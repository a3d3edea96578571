package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/events"
)

func dataTests() []test {
	return []test{
		{"DataRoundTrip", testDataRoundTrip},
		{"DataInBatches", testDataInBatches},
		{"DataRejected", testDataRejected},
		{"DataLarge", testDataLarge},
	}
}

// richData has what a store might mangle: nesting, key order that is not
// sorted, numbers past int64 and past a double's precision, escapes,
// non-ASCII text, keys MongoDB would not take as field names, and every
// JSON type.
const richData = `{"z":1,"a":{"nested":[1,2.5,-3e-7,{"deep":[[]]}],"empty":{}},` +
	`"big":123456789012345678901234567890,"precise":0.1000000000000000055511151231257827,` +
	`"text":"tab\tquote\" backslash\\ <b>&amp;</b> é ✓ \ud83d\ude00","":"empty key",` +
	`"dotted.key":true,"$dollar":false,"nothing":null}`

func testDataRoundTrip(t *testing.T, s events.Store) {
	e := mustCreate(t, s, events.Event{Name: "rich", JobID: "job-rich", Data: json.RawMessage(richData)})
	sameData(t, "Create's answer", e.Data, json.RawMessage(richData))
	got, err := s.Get(ctx(t), e.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameEvent(t, "Get", got, e)
	byJob, err := s.GetByJobID(ctx(t), "job-rich")
	if err != nil {
		t.Fatalf("GetByJobID: %v", err)
	}
	sameEvent(t, "GetByJobID", byJob, e)

	plain := mustCreate(t, s, events.Event{Name: "plain"})
	null := mustCreate(t, s, events.Event{Name: "null", Data: json.RawMessage(" null ")})
	for _, e := range []events.Event{plain, null} {
		if e.Data != nil {
			t.Fatalf("%s: Data = %q; want nil for an event without data", e.Name, e.Data)
		}
		got, err := s.Get(ctx(t), e.ID)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.Data != nil {
			t.Fatalf("Get of %s: Data = %q; want nil", e.Name, got.Data)
		}
	}
	for _, listed := range listAll(t, s, events.ListQuery{Limit: 2}) {
		switch listed.ID {
		case e.ID:
			sameEvent(t, "listed rich event", listed, e)
		case plain.ID, null.ID:
			if listed.Data != nil {
				t.Fatalf("listed %s: Data = %q; want nil", listed.Name, listed.Data)
			}
		default:
			t.Fatalf("listed an event nobody wrote: %s", show(listed))
		}
	}

	// A redelivered job's write is answered with the first event, data and all.
	again := mustCreate(t, s, events.Event{Name: "rich", JobID: "job-rich", Data: json.RawMessage(`{"other":1}`)})
	sameEvent(t, "second write for job-rich", again, e)
}

func testDataInBatches(t *testing.T, s events.Store) {
	first := mustCreate(t, s, events.Event{Name: "first", JobID: "job-1", Data: json.RawMessage(`{"n":1}`)})
	var in []events.Event
	for i := range 50 {
		e := events.Event{Name: fmt.Sprintf("e%02d", i), JobID: fmt.Sprintf("job-%d", i)}
		if i%3 != 0 {
			e.Data = json.RawMessage(fmt.Sprintf(`{"i":%d,"name":"e%02d","tags":["t%d"]}`, i, i, i%5))
		}
		in = append(in, e)
	}
	got := mustCreateMany(t, s, in)
	for i, e := range got {
		if i == 1 {
			sameEvent(t, "batch event for the stored job-1", e, first)
			continue
		}
		if e.Name != in[i].Name {
			t.Fatalf("event %d = %s; want name %s", i, show(e), in[i].Name)
		}
		sameData(t, fmt.Sprintf("event %d", i), e.Data, in[i].Data)
		stored, err := s.Get(ctx(t), e.ID)
		if err != nil {
			t.Fatalf("Get event %d: %v", i, err)
		}
		sameEvent(t, fmt.Sprintf("stored event %d", i), stored, e)
	}
}

func testDataRejected(t *testing.T, s events.Store) {
	for _, bad := range []string{`[1,2]`, `"text"`, `42`, `{"a":`, `{"a":1,"a":2}`, `{"a":"\u0000"}`, `{"a":1e999}`} {
		_, err := s.Create(ctx(t), events.Event{Name: "n", Data: json.RawMessage(bad)})
		wantErr(t, fmt.Sprintf("Create with data %s", bad), err, events.ErrInvalidData)
		_, err = s.CreateMany(ctx(t), []events.Event{{Name: "fine", Data: json.RawMessage(`{}`)}, {Name: "n", Data: json.RawMessage(bad)}})
		wantErr(t, fmt.Sprintf("CreateMany with data %s", bad), err, events.ErrInvalidData)
	}
	if n := mustCount(t, s, time.Time{}, time.Time{}); n != 0 {
		t.Fatalf("after rejected writes Count = %d; want 0: bad data must write nothing", n)
	}
}

// testDataLarge stores data well past the API's default limit: stores set
// no limit of their own.
func testDataLarge(t *testing.T, s events.Store) {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range 5000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"s":"%s"}`, i, strings.Repeat("x", 40))
	}
	b.WriteString(`]}`)
	data := json.RawMessage(b.String())
	if len(data) < 4*events.DefaultMaxDataBytes {
		t.Fatalf("test data is only %d bytes", len(data))
	}
	e := mustCreate(t, s, events.Event{Name: "large", Data: data})
	got, err := s.Get(ctx(t), e.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	sameData(t, "large data", got.Data, data)
}

// sameData fails t unless got and want are both absent or are JSON values
// of the same meaning: the same keys with the same values, in any order,
// and numbers equal as exact decimals however they are spelled.
func sameData(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	g, gerr := decodeData(got)
	w, werr := decodeData(want)
	if gerr != nil || werr != nil || !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: data %s; want %s (%v, %v)", what, clip(got), clip(want), gerr, werr)
	}
}

// decodeData decodes JSON with every number as an exact *big.Rat, so that
// 1e2 and 100 compare equal and 0.1 and 0.1000000000000000055511 do not.
func decodeData(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return exactNumbers(v)
}

func exactNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return nil, fmt.Errorf("number %s", v)
		}
		return r.RatString(), nil
	case map[string]any:
		for k, x := range v {
			var err error
			if v[k], err = exactNumbers(x); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, x := range v {
			var err error
			if v[i], err = exactNumbers(x); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// clip keeps failure messages short when data is large.
func clip(data json.RawMessage) string {
	if len(data) > 200 {
		return string(data[:200]) + "..."
	}
	return string(data)
}
