package schedule

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// neverProbe is the time from which ParseSpec checks that a spec fires at
// all. It is a fixed leap-year start, so the check does not depend on when it
// runs: the search looks five years ahead, which covers every February 29.
var neverProbe = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Spec is a parsed schedule spec. The zero Spec never fires.
type Spec struct {
	text  string
	every time.Duration // set for "@every": slots are multiples of it since the Unix epoch
	cron  *cronSpec     // set otherwise
}

// ParseSpec parses a schedule spec:
//
//   - six fields with seconds first: "*/2 * * * * *" (every 2 seconds);
//   - five fields, seconds taken as 0: "0 0 * * *" (every midnight);
//   - a descriptor: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly;
//   - an interval: "@every 10s", "@every 1h30m", "@every 200ms".
//
// The fields are second, minute, hour, day of month (1-31), month (1-12 or
// jan-dec) and day of week (0-6 or sun-sat), each a list of values, ranges
// (1-5) and steps (*/15, 10-40/10, 5/15 meaning 5-59/15). As in classic cron,
// a day matches if it matches the day of month or the day of week when both
// are restricted ("0 0 0 13 * fri" fires on every 13th and every Friday).
//
// A cron spec may start with "TZ=Area/City " (or "CRON_TZ=") to run in that
// time zone instead of the scheduler's Location. On the days the clocks change
// it follows classic cron; see fixedTime.
//
// Unlike the cron package's own @every, which counts from whenever a process
// starts and rounds to whole seconds, an interval here is anchored to the Unix
// epoch (@every 10s fires at :00, :10, :20...), so every process computes the
// same slots and can agree on who fires each one. It must be a whole number of
// milliseconds, at least 1ms, and takes no time zone.
//
// ParseSpec refuses what it could only accept by firing at other times than
// the spec says: a spec that never fires (February 30), a step larger than
// its range ("*/61" in seconds, "*/25" in hours), a month that has none of
// the days listed, and an empty list item. A step that does not divide its
// field evenly is classic cron's: "*/7" in minutes fires at :00, :07 ... :56
// and again at :00 (use @every 7m for an even interval).
// Its errors name the field at fault.
func ParseSpec(spec string) (Spec, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return Spec{}, fmt.Errorf("invalid schedule spec %q: %w", spec, err)
	}
	return s, nil
}

func parseSpec(spec string) (Spec, error) {
	text := strings.TrimSpace(spec)
	if text == "" {
		return Spec{}, fmt.Errorf("empty")
	}
	rest, loc, err := cutZone(text)
	if err != nil {
		return Spec{}, err
	}
	if d, ok := strings.CutPrefix(rest, "@every"); ok {
		if loc != nil {
			return Spec{}, fmt.Errorf("@every counts from the Unix epoch and takes no time zone")
		}
		every, err := parseEvery(d)
		if err != nil {
			return Spec{}, err
		}
		return Spec{text: text, every: every}, nil
	}
	c, err := parseCron(rest)
	if err != nil {
		return Spec{}, err
	}
	c.loc = loc
	if c.next(neverProbe).IsZero() {
		return Spec{}, fmt.Errorf("never fires")
	}
	return Spec{text: text, cron: c}, nil
}

// cutZone takes a leading "TZ=Area/City " or "CRON_TZ=Area/City " off text.
// It returns a nil location if there is none.
func cutZone(text string) (rest string, loc *time.Location, err error) {
	zone, ok := strings.CutPrefix(text, "TZ=")
	if !ok {
		if zone, ok = strings.CutPrefix(text, "CRON_TZ="); !ok {
			return text, nil, nil
		}
	}
	if i := strings.IndexFunc(zone, unicode.IsSpace); i >= 0 {
		zone, rest = zone[:i], strings.TrimSpace(zone[i:])
	}
	if zone == "" {
		return "", nil, fmt.Errorf("TZ= names no time zone")
	}
	if rest == "" {
		return "", nil, fmt.Errorf("time zone %q is not followed by a schedule", zone)
	}
	if loc, err = time.LoadLocation(zone); err != nil {
		return "", nil, err
	}
	return rest, loc, nil
}

func parseEvery(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("@every needs an interval, like @every 10s")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("@every: %w", err)
	}
	if d < time.Millisecond || d%time.Millisecond != 0 {
		return 0, fmt.Errorf("@every %s: must be a whole number of milliseconds, at least 1ms", s)
	}
	return d, nil
}

// String returns the spec as it was written, without surrounding space.
func (s Spec) String() string { return s.text }

// Next returns the first slot strictly after t. Cron fields are read in t's
// location unless the spec names its own time zone; the result is in t's
// location. Next returns the zero time for the zero Spec, or if no slot falls
// within about five years.
func (s Spec) Next(t time.Time) time.Time {
	switch {
	case s.every > 0:
		step := s.every.Milliseconds()
		next := (floorDiv(t.UnixMilli(), step) + 1) * step
		return time.UnixMilli(next).In(t.Location())
	case s.cron != nil:
		return s.cron.next(t)
	}
	return time.Time{}
}

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// recent returns the most recent max slots in (after, until], oldest first,
// and whether older slots in that range were left out. It widens its search
// window from until backwards instead of walking forward from after, so a
// schedule that last ran months ago costs no more than one that ran a minute
// ago.
func (s Spec) recent(after, until time.Time, max int) (slots []time.Time, more bool) {
	if max < 1 || !until.After(after) {
		return nil, false
	}
	for window := time.Minute; ; window *= 2 {
		from := until.Add(-window)
		if !from.After(after) {
			return s.between(after, until, max)
		}
		if slots, more = s.between(from, until, max); len(slots) == max {
			return slots, more || s.hasSlot(after, from)
		}
	}
}

// between returns the last max slots in (from, until], oldest first, and
// whether it dropped older ones.
func (s Spec) between(from, until time.Time, max int) ([]time.Time, bool) {
	var last []time.Time
	dropped := false
	for t := s.Next(from); !t.IsZero() && !t.After(until); t = s.Next(t) {
		if len(last) == max {
			last = last[1:]
			dropped = true
		}
		last = append(last, t)
	}
	return last, dropped
}

// hasSlot reports whether a slot falls in (after, until].
func (s Spec) hasSlot(after, until time.Time) bool {
	t := s.Next(after)
	return !t.IsZero() && !t.After(until)
}

// interval returns the gap from slot to the slot after it, or 0 if there is none.
func (s Spec) interval(slot time.Time) time.Duration {
	next := s.Next(slot)
	if next.IsZero() {
		return 0
	}
	return next.Sub(slot)
}
