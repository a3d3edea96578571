package events_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
)

func TestCleanData(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, events.MaxDataDepth) + "1" + strings.Repeat("}", events.MaxDataDepth)
	tooDeep := strings.Repeat(`[`, events.MaxDataDepth) + strings.Repeat("]", events.MaxDataDepth)
	for _, tc := range []struct {
		name, in, want string
		max            int
		err            string // part of the error; "" for none
	}{
		{name: "absent", in: "", want: ""},
		{name: "null", in: " null ", want: ""},
		{name: "empty object", in: "{}", want: "{}"},
		{name: "compacted, key order kept", in: " { \"b\" : 1 ,\n \"a\" : [ true , false , null ] } ", want: `{"b":1,"a":[true,false,null]}`},
		{name: "numbers spelled as given", in: `{"a":1.0,"b":-0,"c":1e2,"d":12345678901234567890123}`, want: `{"a":1.0,"b":-0,"c":1e2,"d":12345678901234567890123}`},
		{name: "html and unicode unescaped", in: `{"s":"<a href=\"x\">&amp;</a> \u00e9 é \u2028"}`, want: `{"s":"<a href=\"x\">&amp;</a> é é \u2028"}`},
		{name: "invalid UTF-8 replaced", in: "{\"s\":\"a\xffb\"}", want: `{"s":"a` + "\ufffd" + `b"}`},
		{name: "lone surrogate replaced", in: `{"s":"\ud800"}`, want: `{"s":"` + "\ufffd" + `"}`},
		{name: "as deep as allowed", in: deep, want: deep},
		{name: "empty key", in: `{"":1,"a.b":2,"$c":3}`, want: `{"":1,"a.b":2,"$c":3}`},
		{name: "within the limit", in: `{"a": 1}`, max: 7, want: `{"a":1}`},

		{name: "array", in: "[1]", err: "want a JSON object, got an array"},
		{name: "string", in: `"x"`, err: "got a string"},
		{name: "number", in: "12", err: "got a number"},
		{name: "boolean", in: "true", err: "got a boolean"},
		{name: "malformed", in: `{"a":}`, err: "not valid JSON"},
		{name: "unterminated", in: `{"a":1`, err: "not valid JSON"},
		{name: "trailing", in: `{"a":1} {}`, err: "more after the object"},
		{name: "duplicate key", in: `{"a":1,"b":{"a":2},"a":3}`, err: `the key "a" appears twice`},
		{name: "NUL in a string", in: `{"a":"x\u0000y"}`, err: "U+0000"},
		{name: "NUL in a key", in: `{"\u0000":1}`, err: "U+0000"},
		{name: "number out of range", in: `{"a":1e400}`, err: "out of range"},
		{name: "too deep", in: "{\"a\":" + tooDeep + "}", err: "nested more than 64 levels"},
		{name: "over the limit", in: `{"a": 12}`, max: 7, err: "8 bytes as compact JSON; the limit is 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := events.CleanData(json.RawMessage(tc.in), tc.max)
			if tc.err != "" {
				if !errors.Is(err, events.ErrInvalidData) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("CleanData(%s) = %s, %v; want an ErrInvalidData saying %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("CleanData(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
			}
			if tc.want == "" && got != nil {
				t.Fatalf("CleanData(%q) = %q; want nil", tc.in, got)
			}
			// Clean data is clean: a second pass changes nothing.
			again, err := events.CleanData(got, tc.max)
			if err != nil || string(again) != string(got) {
				t.Fatalf("CleanData of its own result = %s, %v; want it unchanged", again, err)
			}
		})
	}
}
