package schedule

import (
	"strings"
	"testing"
	"time"
)

// fuzzZones are the locations FuzzSpec reads times in: zones that change by
// an hour at night or at midnight, by 30 minutes, never, and a fixed offset.
var fuzzZones = func() []*time.Location {
	locs := []*time.Location{time.UTC, time.FixedZone("UTC-03:30", -(3*3600 + 1800))}
	for _, name := range []string{"America/New_York", "Europe/London", "America/Havana", "America/Santiago",
		"Asia/Beirut", "Australia/Lord_Howe", "Asia/Tokyo", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			panic(err)
		}
		locs = append(locs, loc)
	}
	return locs
}()

// FuzzSpec checks ParseSpec and Next on any input. ParseSpec never panics,
// and a spec it accepts prints as written and fires. From any time between
// 1800 and 2300, read in any of fuzzZones, Next never panics and returns a
// time after it that the spec names (see checkSlot), the same slot from any
// time up to that slot, and a later slot after it.
//
// Its seed corpus is testdata/fuzz/FuzzSpec. To fuzz:
//
//	go test -run='^$' -fuzz='^FuzzSpec$' -fuzztime=1000000x -parallel 1 ./schedule/
func FuzzSpec(f *testing.F) {
	const (
		lo   = -5364662400 // 1800-01-01 UTC
		span = 15778800000 // 500 years of seconds
	)
	f.Fuzz(func(t *testing.T, spec string, unix, nanos int64, zone int) {
		s, err := ParseSpec(spec)
		if err != nil {
			return
		}
		if s.String() != strings.TrimSpace(spec) {
			t.Errorf("ParseSpec(%q).String() = %q", spec, s.String())
		}
		if s.Next(neverProbe).IsZero() {
			t.Fatalf("ParseSpec(%q) accepted a spec that never fires", spec)
		}
		loc := fuzzZones[uint(zone)%uint(len(fuzzZones))]
		at := time.Unix(lo+int64(uint64(unix)%span), int64(uint64(nanos)%1e9)).In(loc)
		next := s.Next(at)
		if next.IsZero() {
			return // nothing within five years, such as February 29 from 2096
		}
		if !next.After(at) {
			t.Fatalf("%q: Next(%s) = %s, not after it", spec, at, next)
		}
		if next.Location() != at.Location() {
			t.Errorf("%q: Next(%s) is in %s, want the time's own location", spec, at, next.Location())
		}
		checkSlot(t, s, next, loc)
		for _, from := range []time.Time{at.Add(next.Sub(at) / 2), next.Add(-time.Nanosecond)} {
			if got := s.Next(from); !got.Equal(next) {
				t.Fatalf("%q: Next(%s) = %s but Next(%s) = %s: a slot between them, or a different one", spec, at, next, from, got)
			}
		}
		if after := s.Next(next); !after.IsZero() && !after.After(next) {
			t.Fatalf("%q: Next(%s) = %s, not after it", spec, next, after)
		}
	})
}

// checkSlot fails t unless s names slot, read in loc unless s has a zone of
// its own: an @every slot is a multiple of the interval since the epoch; a
// cron slot is a time the fields match, and for a fixed-time spec not one the
// clock showed before it went back, or else the instant the clock went
// forward over a time the fields match.
func checkSlot(t *testing.T, s Spec, slot time.Time, loc *time.Location) {
	t.Helper()
	if s.every > 0 {
		if slot.UnixMilli()%s.every.Milliseconds() != 0 {
			t.Fatalf("%q: slot %s is not a multiple of %s since the epoch", s, slot, s.every)
		}
		return
	}
	c := s.cron
	if c.loc != nil {
		loc = c.loc
	}
	now := wallOf(slot, loc)
	start, _ := slot.In(loc).ZoneBounds()
	var reached int64 // the wall-clock time the zone was about to show when it last changed
	if !start.IsZero() {
		_, before := start.Add(-time.Second).In(loc).Zone()
		reached = start.Unix() + int64(before)
	}
	switch {
	case slot.Nanosecond() != 0:
		t.Fatalf("%q: slot %s is not a whole second", s, slot)
	case now.matches(c) && (!c.fixedTime || start.IsZero() || now.unix >= reached):
		return
	case now.matches(c):
		t.Fatalf("%q: slot %s shows %s a second time: the clock showed it before it went back", s, slot, slot.In(loc))
	case !c.fixedTime || !slot.Equal(start) || reached >= now.unix:
		t.Fatalf("%q: slot %s (%s) does not match the spec", s, slot, slot.In(loc))
	}
	for w := reached; w <= now.unix; w++ {
		if wallOf(time.Unix(w, 0), time.UTC).matches(c) {
			return
		}
	}
	t.Fatalf("%q: slot %s is a change of the clock, but the spec names none of the times it skipped", s, slot.In(loc))
}
