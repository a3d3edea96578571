package queue

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPackRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range [][]string{nil, {""}, {"a", "", "b:c", "12:34", strings.Repeat("é", 300)}} {
		f := fields{s: pack(in...)}
		var out []string
		for f.more() {
			out = append(out, f.str())
		}
		if err := f.done(); err != nil || !slices.Equal(out, in) && len(in) > 0 {
			t.Errorf("pack/fields %q -> %q, %v", in, out, err)
		}
	}
	for _, bad := range []string{"x", "3:ab", "-1:", "2:abc"} {
		f := fields{s: bad}
		for f.more() {
			f.str()
		}
		if f.done() == nil {
			t.Errorf("fields(%q): no error", bad)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	opts, err := resolve(JobOptions{Priority: 3, RemoveOnFail: KeepLast(7)})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := recordTail("name;with;semicolons", opts, []byte("any\x00bytes;"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRecord("1732780000123;" + tail)
	if err != nil {
		t.Fatal(err)
	}
	var back JobOptions
	if err := decodeOptions(r.options, &back); err != nil {
		t.Fatal(err)
	}
	if r.name != "name;with;semicolons" || r.data != "any\x00bytes;" || !r.addedAt.Equal(time.UnixMilli(1732780000123)) || back != opts {
		t.Fatalf("record round trip = %+v, %+v", r, back)
	}
	if !strings.HasPrefix(tail, "k:7:0;") {
		t.Fatalf("tail %q does not start with the failure retention", tail)
	}
	for _, bad := range []string{"", "1;r;2;0;x", "1;r;a;0;", "x;r;0;0;", "1;r;0;5;{}"} {
		if _, err := parseRecord(bad); err == nil {
			t.Errorf("parseRecord(%q): no error", bad)
		}
	}
}

func TestRunStateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range []runState{{}, {deliveries: 3, failures: 2, stalls: 1, startedAt: time.UnixMilli(1732780000123).UTC()}} {
		back, err := parseRun(r.String())
		if err != nil || back != r {
			t.Errorf("run %+v -> %q -> %+v, %v", r, r.String(), back, err)
		}
	}
	for _, bad := range []string{"", "1,2,3", "1,2,3,x", "-1,0,0,0"} {
		if _, err := parseRun(bad); err == nil {
			t.Errorf("parseRun(%q): no error", bad)
		}
	}
}

func TestRetentionSpecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range []Retention{Remove, Keep, KeepLast(5), KeepFor(90 * time.Second), {Policy: RetainKeep, Count: 2, Age: time.Hour}} {
		back, err := parseSpec(r.spec())
		if err != nil || back != r {
			t.Errorf("retention %+v -> %q -> %+v, %v", r, r.spec(), back, err)
		}
	}
	for _, bad := range []string{"", "k", "k:1", "k:-1:0", "k:1:2:3", "remove"} {
		if _, err := parseSpec(bad); err == nil {
			t.Errorf("parseSpec(%q): no error", bad)
		}
	}
}

func TestEventIDs(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"0", "1732780000123", "1-0", "1732780000123-5", "1732780000123-5-0", "18446744073709551615-18446744073709551615-4294967295"} {
		if !ValidEventID(ok) {
			t.Errorf("ValidEventID(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "$", "+1", "1-+2", "1-", "-1", "1-x", "1-2-3-4", "18446744073709551616-0", "1-18446744073709551616", "1-0-4294967296", "1-0--1", " 1-0"} {
		if ValidEventID(bad) {
			t.Errorf("ValidEventID(%q) = true", bad)
		}
	}
	a, _ := parseEventPos("5-1-2")
	for _, tc := range []struct {
		id     string
		before bool
	}{{"5-1-3", true}, {"5-1", true}, {"5-2", true}, {"6-0-0", true}, {"6", true}, {"5-1-2", false}, {"5-1-1", false}, {"5-0", false}, {"5", false}} {
		b, _ := parseEventPos(tc.id)
		if got := a.before(b); got != tc.before {
			t.Errorf("5-1-2 before %s = %v", tc.id, got)
		}
	}
}

// TestEventTypesMatchScripts holds Go's list of lifecycle events and the
// scripts' emit calls to each other.
func TestEventTypesMatchScripts(t *testing.T) {
	t.Parallel()
	emitted := map[string]bool{}
	re := regexp.MustCompile(`emit\('([a-z]+)'`)
	err := fs.WalkDir(luaFiles, "lua", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := luaFiles.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			emitted[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range EventTypes {
		if !emitted[string(e)] {
			t.Errorf("event type %q is emitted by no script", e)
		}
		delete(emitted, string(e))
	}
	for e := range emitted {
		t.Errorf("scripts emit %q, which Go does not know", e)
	}
}

// TestLuaPreludeNamesEveryKey checks the generated key names against the
// ones the scripts use.
func TestLuaPreludeNamesEveryKey(t *testing.T) {
	t.Parallel()
	for i, name := range keyNames {
		want := "local k" + strings.ToUpper(name[:1]) + name[1:] + " = KEYS[" + itoa(int64(i+1)) + "]"
		if !strings.Contains(luaPrelude, want) {
			t.Errorf("prelude lacks %q", want)
		}
	}
	used := regexp.MustCompile(`\bk[A-Z][a-zA-Z]*\b`)
	src, _ := luaFiles.ReadFile("lua/common.lua")
	for _, k := range used.FindAllString(string(src), -1) {
		if !strings.Contains(luaPrelude, "local "+k+" ") {
			t.Errorf("common.lua uses %s, which the prelude does not declare", k)
		}
	}
}
