package events

import (
	"encoding/json"
	"testing"
)

// cleanSlow is CleanData without its fast path.
func cleanSlow(raw []byte) (json.RawMessage, error) {
	c := dataCleaner{}
	return c.clean(raw)
}

var canonicalSeeds = []string{
	`{}`, `{"a":1}`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
	`{"userId":"user-12"}`, `{"amount":123.45,"currency":"EUR"}`, `{"a":-0.5}`,
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":2}}`, `{"a" :1}`, `{"a":1e3}`, `{"a":01}`,
	`{"a":"\n"}`, `{"a":"é"}`, "{\"a\":\"\u2028\"}", "{\"a\":\"\xff\"}", `{"a":1.}`,
	`{"a":12345678901234567890}`, `{"a":[1,]}`, `{"a":1,}`, `{"a":[]}`, `{"":""}`,
	`{"a":tru}`, `{"a":nul}`, `{"a":"<&>"}`,
}

// TestCanonicalAgreesWithCleanData: whatever the fast path passes, the full
// check returns unchanged; and each seed that the fast path refuses is
// either refused by the full check or changed by it, or is one the fast
// path leaves to it on purpose.
func TestCanonicalAgreesWithCleanData(t *testing.T) {
	passed := 0
	for _, in := range canonicalSeeds {
		if canonical([]byte(in)) {
			passed++
			checkCanonical(t, []byte(in))
		}
	}
	if passed < 8 {
		t.Fatalf("the fast path passed only %d of the seeds; the common shapes should pass", passed)
	}
	for _, in := range []string{`{"a":1,"a":2}`, `{"a" :1}`, `{"a":"\n"}`, "{\"a\":\"\u2028\"}", "{\"a\":\"\xff\"}", `{"a":01}`, `{"a":1.}`} {
		if canonical([]byte(in)) {
			t.Errorf("canonical(%q) = true; want false", in)
		}
	}
}

func checkCanonical(t *testing.T, in []byte) {
	t.Helper()
	got, err := cleanSlow(in)
	if err != nil || string(got) != string(in) {
		t.Fatalf("canonical(%q) = true, but the full check gives %q, %v", in, got, err)
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if canonical(in) {
			checkCanonical(t, in)
		}
	})
}
