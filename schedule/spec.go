package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser accepts 5-field specs (seconds are 0), 6-field specs with seconds
// first, and descriptors such as @hourly.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// neverProbe is the time from which ParseSpec checks that a spec fires at
// all. It is a fixed leap-year start, so the check does not depend on when it
// runs: the cron parser looks five years ahead, which covers every February 29.
var neverProbe = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Spec is a parsed schedule spec. The zero Spec never fires.
type Spec struct {
	text  string
	every time.Duration // set for "@every": slots are multiples of it since the Unix epoch
	cron  cron.Schedule // set otherwise
}

// ParseSpec parses a schedule spec:
//
//   - six fields with seconds first: "*/2 * * * * *" (every 2 seconds);
//   - five fields, seconds taken as 0: "0 0 * * *" (every midnight);
//   - a descriptor: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly;
//   - an interval: "@every 10s", "@every 1h30m", "@every 200ms".
//
// A spec may start with "TZ=Area/City " (or "CRON_TZ=") to run in that time
// zone instead of the scheduler's Location.
//
// Unlike the cron package's own @every, which counts from whenever a process
// starts and rounds to whole seconds, an interval here is anchored to the Unix
// epoch (@every 10s fires at :00, :10, :20...), so every process computes the
// same slots and can agree on who fires each one. It must be a whole number of
// milliseconds, at least 1ms. A spec that can never fire, such as February 30,
// is an error.
func ParseSpec(spec string) (Spec, error) {
	s, err := parseSpec(spec)
	if err != nil {
		return Spec{}, fmt.Errorf("invalid schedule spec %q: %w", spec, err)
	}
	return s, nil
}

func parseSpec(spec string) (s Spec, err error) {
	text := strings.TrimSpace(spec)
	if text == "" {
		return Spec{}, fmt.Errorf("empty")
	}
	rest := text
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		// cron v3.0.1 slices past the end of a "TZ=..." with nothing after
		// it, so check the shape here.
		zone, after, ok := strings.Cut(rest, " ")
		if !ok || strings.TrimSpace(after) == "" {
			return Spec{}, fmt.Errorf("time zone %q is not followed by a schedule", zone)
		}
		rest = strings.TrimSpace(after)
	}
	if d, ok := strings.CutPrefix(rest, "@every"); ok {
		every, err := parseEvery(d)
		if err != nil {
			return Spec{}, err
		}
		return Spec{text: text, every: every}, nil
	}
	defer func() {
		// The cron parser is third-party code; bad input must come back as
		// an error, never a panic.
		if r := recover(); r != nil {
			s, err = Spec{}, fmt.Errorf("%v", r)
		}
	}()
	sched, err := parser.Parse(text)
	if err != nil {
		return Spec{}, err
	}
	if sched.Next(neverProbe).IsZero() {
		return Spec{}, fmt.Errorf("never fires")
	}
	return Spec{text: text, cron: sched}, nil
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
// location unless the spec names its own time zone. Next returns the zero
// time for the zero Spec, or if no slot falls within five years.
func (s Spec) Next(t time.Time) time.Time {
	switch {
	case s.every > 0:
		step := s.every.Milliseconds()
		next := (floorDiv(t.UnixMilli(), step) + 1) * step
		return time.UnixMilli(next).In(t.Location())
	case s.cron != nil:
		return s.cron.Next(t)
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
