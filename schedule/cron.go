package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads six-field cron specs and descriptors such as @hourly. The
// spec's time zone, @every and five-field specs are dealt with before it sees
// them.
var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronSpec is a parsed cron spec.
type cronSpec struct {
	// wall holds the fields. Its Location is UTC, where the cron package's
	// search meets no clock change, and it is asked only about wall-clock
	// times written as the UTC times with the same fields (02:30 in New York
	// is asked as 02:30 UTC); next applies the zone's offsets.
	wall cron.SpecSchedule
	loc  *time.Location // nil: the location of the time given to next
	// fixedTime decides what the spec does when the clocks change; see
	// isFixedTime.
	fixedTime bool
}

// isFixedTime reports whether a spec names fixed times of day rather than a
// rhythm through the day, given its minute and hour fields. That decides what
// it does on the days the clocks change. eventsd follows classic cron (ISC
// cron 4.1, the cron of Debian and the BSDs, and cronie's alike), which draws
// the line by the fields' first character: a spec is fixed-time unless its
// minute or hour field starts with * (entry.c sets MIN_STAR or HR_STAR;
// @hourly sets HR_STAR). "0-59/15" in minutes is therefore fixed-time, and
// "*/15" is not.
//
//   - A fixed-time spec ("0 30 1 * * *", "@daily", "0 0 9-17 * * mon-fri")
//     fires once for each wall-clock time it names. A time the clock shows
//     twice when it goes back fires the first time only. Times the clock skips
//     when it goes forward fire once, together, at the instant of the change:
//     New York's 02:30 fires at 03:00 EDT on the spring-forward day.
//   - Any other spec ("*/2 * * * * *", "0 */15 * * * *", "@hourly",
//     "0 0 */2 * * *") fires whenever the clock shows a time it names, as the
//     clock reads at that instant: twice in an hour the clock repeats, not at
//     all in an hour it skips.
//
// Why the second rule for specs that run more often than hourly: such a spec
// asks for a rhythm, and this keeps it in real time across the change, every 2
// seconds or every 15 minutes of elapsed time, where treating its times as
// fixed would leave a gap of an hour and a quarter when the clock goes back
// (a 10-second monitor falling silent for an hour) and replay the lost hour's
// runs in a burst when it goes forward. It is also what cron itself does
// (cron.c: a forward jump runs the wildcard jobs once, for the new time; a
// backward jump runs only the wildcard jobs until the clock catches up), so a
// crontab moved here fires at the same instants. The one difference: classic
// cron runs a fixed-time job once for every skipped minute it matches, in a
// burst at the change; here those fires are one slot, because a slot is an
// instant and its claim and job id derive from it.
func isFixedTime(minute, hour string) bool {
	wild := func(f string) bool { return strings.HasPrefix(f, "*") || strings.HasPrefix(f, "?") }
	return !wild(minute) && !wild(hour)
}

// next returns the first slot strictly after t, in t's location, or the zero
// time if none falls within about five years.
//
// It walks the zone's periods of constant UTC offset from t on. Within one
// period the wall clock runs evenly, so the cron package can search it as UTC.
// At the start of a period a fixed-time spec looks at the wall-clock time the
// period before it was about to show: if that is ahead (the clock went back),
// the times up to it have fired already; if it is behind (the clock went
// forward), a match among the skipped times fires at the change itself. Only
// the period just before is consulted: zones change their offset months, not
// minutes, apart.
func (c *cronSpec) next(t time.Time) time.Time {
	loc := c.loc
	if loc == nil {
		loc = t.Location()
	}
	limit := t.AddDate(5, 0, 0)
	for u := t.Truncate(time.Second).Add(time.Second); u.Before(limit); {
		local := u.In(loc)
		_, offset := local.Zone()
		start, end := local.ZoneBounds()
		if !end.IsZero() && !end.After(u) {
			// Go's ZoneBounds can end a period before the instant asked
			// about, on the last day of leap years that a zone's rule
			// rather than its table covers (golang/go#81583, found by
			// FuzzSpec). No real change falls there: go on a day later.
			end = u.Add(24 * time.Hour)
		}
		from := wallClock(u, offset)
		if c.fixedTime && !start.IsZero() {
			_, before := start.Add(-time.Second).In(loc).Zone()
			switch reached := wallClock(start, before); {
			case reached.After(from):
				from = reached // the clock went back: times before reached fired already
			case reached.Before(from) && u.Equal(start):
				// The clock went forward at u, skipping [reached, from).
				if w := c.first(reached); !w.IsZero() && !w.After(from) {
					return u.In(t.Location())
				}
			}
		}
		w := c.first(from)
		switch {
		case w.IsZero():
			return time.Time{}
		case end.IsZero() || w.Before(wallClock(end, offset)):
			return w.Add(-time.Duration(offset) * time.Second).In(t.Location())
		}
		u = end
	}
	return time.Time{}
}

// first returns the first wall-clock time at or after w that the fields
// match, or the zero time if there is none within five years. w is a whole
// second.
func (c *cronSpec) first(w time.Time) time.Time { return c.wall.Next(w.Add(-time.Second)) }

// wallClock returns what a clock at a UTC offset of offset seconds shows at
// u, written as the UTC time with the same fields.
func wallClock(u time.Time, offset int) time.Time {
	return time.Unix(u.Unix()+int64(offset), 0).UTC()
}

// field describes one cron field for checking it.
type field struct {
	name     string
	min, max int
	names    map[string]int // accepted instead of numbers, lower case
}

var fields = [6]field{
	{name: "second", max: 59},
	{name: "minute", max: 59},
	{name: "hour", max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: map[string]int{
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{name: "day of week", max: 6, names: map[string]int{
		"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
}

// parseCron parses a cron spec without its time zone: six fields, five (the
// seconds are 0) or a descriptor.
func parseCron(text string) (_ *cronSpec, err error) {
	defer func() {
		// The cron parser is third-party code; bad input must come back as
		// an error, never a panic.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.HasPrefix(text, "@") {
		s, err := parseFields(text)
		if err != nil {
			return nil, err
		}
		return &cronSpec{wall: *s, fixedTime: text != "@hourly"}, nil
	}
	f := strings.Fields(text)
	if len(f) == 5 {
		f = append([]string{"0"}, f...)
	}
	if len(f) != 6 {
		return nil, fmt.Errorf("expected 5 to 6 fields, found %d", len(f))
	}
	for i, text := range f {
		if err := checkField(fields[i], i, text); err != nil {
			return nil, fmt.Errorf("%s field %q: %w", fields[i].name, text, err)
		}
	}
	s, err := parseFields(strings.Join(f, " "))
	if err != nil {
		return nil, err
	}
	if err := checkDays(s, f[3], f[4]); err != nil {
		return nil, err
	}
	return &cronSpec{wall: *s, fixedTime: isFixedTime(f[1], f[2])}, nil
}

// parseFields runs the cron parser and sets the result's Location to UTC.
func parseFields(text string) (*cron.SpecSchedule, error) {
	sched, err := parser.Parse(text)
	if err != nil {
		return nil, err
	}
	s, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported schedule %T", sched)
	}
	s.Location = time.UTC
	return s, nil
}

// checkField checks field number i of a six-field spec on its own, so that
// an error can name it, and refuses steps that cannot do what they say.
func checkField(f field, i int, text string) error {
	probe := []string{"*", "*", "*", "*", "*", "*"}
	probe[i] = text
	if _, err := parser.Parse(strings.Join(probe, " ")); err != nil {
		return err
	}
	for item := range strings.SplitSeq(text, ",") {
		if item == "" {
			return errors.New("empty item in the list")
		}
		span, stepText, ok := strings.Cut(item, "/")
		if !ok {
			continue
		}
		step, err := strconv.Atoi(stepText)
		if err != nil {
			return err // the parser accepted it, so this does not happen
		}
		lo, hi := f.min, f.max
		if span != "*" && span != "?" {
			a, b, isRange := strings.Cut(span, "-")
			lo = f.value(a)
			if isRange {
				hi = f.value(b)
			}
		}
		if n := hi - lo + 1; step > n {
			return fmt.Errorf("step %d is larger than the %d values of %d-%d", step, n, lo, hi)
		}
	}
	return nil
}

// value returns the number or name v as a number; the parser has checked it.
func (f field) value(v string) int {
	if n, ok := f.names[strings.ToLower(v)]; ok {
		return n
	}
	n, _ := strconv.Atoi(v)
	return n
}

// checkDays refuses a month, named in the month field, that has none of the
// days of the month listed, such as "0 0 0 30 1,2 *" (January 30 and
// February 30). It lets "0 0 0 31 * *" be: every month that has a 31st. It
// does not apply when the day of the week is restricted too, as either day
// field then opens a day.
func checkDays(s *cron.SpecSchedule, dom, month string) error {
	const star = 1 << 63 // the cron package marks a field written as * so
	if s.Dom&star != 0 || s.Dow&star == 0 || strings.HasPrefix(month, "*") || strings.HasPrefix(month, "?") {
		return nil
	}
	for m := time.January; m <= time.December; m++ {
		if s.Month&(1<<uint(m)) == 0 {
			continue
		}
		days := time.Date(2000, m+1, 0, 0, 0, 0, 0, time.UTC).Day() // 2000 is a leap year
		if s.Dom&(1<<(days+1)-1) == 0 {
			return fmt.Errorf("day of month field %q: %s has no such day (month field %q)", dom, m, month)
		}
	}
	return nil
}
