package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNextAcrossDST pins what schedules do on the days the clocks change, in
// zones that change at 02:00 (New York), 01:00 (London), at midnight (Havana,
// Santiago, Beirut) and by 30 minutes (Lord Howe), and in one that never
// changes (Tokyo). The rule is classic cron's (see fixedTime in spec.go): a
// fixed-time spec fires once for a wall-clock time the clock shows twice, and
// once, at the change, for times the clock skips; a spec whose minute or hour
// field starts with * keeps its rhythm in real time instead.
func TestNextAcrossDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, spec, from string
		want                   []string // the slots after from, in order
	}{
		// New York: 02:00 EST becomes 03:00 EDT in March; 02:00 EDT becomes 01:00 EST in November.
		{"repeated time fires once", "America/New_York", "0 30 1 * * *", "2025-11-01T12:00:00-04:00",
			[]string{"2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"}},
		{"skipped time fires at the change", "America/New_York", "0 30 2 * * *", "2025-03-08T12:00:00-05:00",
			[]string{"2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"}},
		{"time after a fall-back shows once", "America/New_York", "0 30 2 * * *", "2024-11-02T12:00:00-04:00",
			[]string{"2024-11-03T02:30:00-05:00", "2024-11-04T02:30:00-05:00"}},
		{"skipped times fire once together", "America/New_York", "0 0,20,40 2 * * *", "2024-03-09T12:00:00-05:00",
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00", "2024-03-11T02:20:00-04:00"}},
		{"skipped time and the time after it fire once", "America/New_York", "0 0 1-4 * * *", "2023-03-12T00:30:00-05:00",
			[]string{"2023-03-12T01:00:00-05:00", "2023-03-12T03:00:00-04:00", "2023-03-12T04:00:00-04:00", "2023-03-13T01:00:00-04:00"}},
		{"hour range over a fall-back", "America/New_York", "0 0 1-4 * * *", "2023-11-05T00:30:00-04:00",
			[]string{"2023-11-05T01:00:00-04:00", "2023-11-05T02:00:00-05:00", "2023-11-05T03:00:00-05:00",
				"2023-11-05T04:00:00-05:00", "2023-11-06T01:00:00-05:00"}},
		{"seconds of a repeated minute fire once", "America/New_York", "*/20 30 1 * * *", "2025-11-02T00:00:00-04:00",
			[]string{"2025-11-02T01:30:00-04:00", "2025-11-02T01:30:20-04:00", "2025-11-02T01:30:40-04:00", "2025-11-03T01:30:00-05:00"}},
		{"seconds of a skipped minute fire once", "America/New_York", "*/20 30 2 * * *", "2025-03-09T00:00:00-05:00",
			[]string{"2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00", "2025-03-10T02:30:20-04:00"}},
		{"every 15 minutes over a spring-forward", "America/New_York", "0 */15 * * * *", "2025-03-09T01:30:00-05:00",
			[]string{"2025-03-09T01:45:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T03:15:00-04:00"}},
		{"every 15 minutes over a fall-back", "America/New_York", "0 */15 * * * *", "2025-11-02T01:30:00-04:00",
			[]string{"2025-11-02T01:45:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T01:15:00-05:00",
				"2025-11-02T01:30:00-05:00", "2025-11-02T01:45:00-05:00", "2025-11-02T02:00:00-05:00"}},
		{"every 2 seconds over a spring-forward", "America/New_York", "*/2 * * * * *", "2024-03-10T01:59:57-05:00",
			[]string{"2024-03-10T01:59:58-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:00:02-04:00"}},
		{"every 2 seconds over a fall-back", "America/New_York", "*/2 * * * * *", "2024-11-03T01:59:57-04:00",
			[]string{"2024-11-03T01:59:58-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T01:00:02-05:00"}},
		{"hourly over a fall-back", "America/New_York", "@hourly", "2025-11-02T00:30:00-04:00",
			[]string{"2025-11-02T01:00:00-04:00", "2025-11-02T01:00:00-05:00", "2025-11-02T02:00:00-05:00"}},
		{"hourly over a spring-forward", "America/New_York", "@hourly", "2025-03-09T00:30:00-05:00",
			[]string{"2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00"}},
		{"every 2 hours skips the lost hour", "America/New_York", "0 0 */2 * * *", "2025-03-08T23:00:00-05:00",
			[]string{"2025-03-09T00:00:00-05:00", "2025-03-09T04:00:00-04:00", "2025-03-09T06:00:00-04:00"}},

		// London: 01:00 GMT becomes 02:00 BST; 02:00 BST becomes 01:00 GMT.
		{"London skipped time", "Europe/London", "0 30 1 * * *", "2024-03-30T12:00:00Z",
			[]string{"2024-03-31T02:00:00+01:00", "2024-04-01T01:30:00+01:00"}},
		{"London repeated time", "Europe/London", "0 30 1 * * *", "2024-10-26T12:00:00+01:00",
			[]string{"2024-10-27T01:30:00+01:00", "2024-10-28T01:30:00Z"}},

		// Havana: midnight becomes 01:00 in March; 01:00 becomes midnight in November.
		{"Havana skipped midnight", "America/Havana", "@midnight", "2024-03-08T12:00:00-05:00",
			[]string{"2024-03-09T00:00:00-05:00", "2024-03-10T01:00:00-04:00", "2024-03-11T00:00:00-04:00"}},
		{"Havana repeated midnight", "America/Havana", "0 0 0 * * *", "2024-11-02T12:00:00-04:00",
			[]string{"2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00"}},
		{"Havana repeated 00:30", "America/Havana", "0 30 0 * * *", "2025-11-01T12:00:00-04:00",
			[]string{"2025-11-02T00:30:00-04:00", "2025-11-03T00:30:00-05:00"}},

		// Santiago: Saturday's midnight becomes Sunday 01:00 in September;
		// it becomes Saturday 23:00 in April.
		{"Santiago skipped midnight", "America/Santiago", "0 0 0 * * *", "2024-09-06T12:00:00-04:00",
			[]string{"2024-09-07T00:00:00-04:00", "2024-09-08T01:00:00-03:00", "2024-09-09T00:00:00-03:00"}},
		{"Santiago midnight after a fall-back", "America/Santiago", "0 0 0 * * *", "2024-04-05T12:00:00-03:00",
			[]string{"2024-04-06T00:00:00-03:00", "2024-04-07T00:00:00-04:00", "2024-04-08T00:00:00-04:00"}},
		{"Santiago repeated 23:30", "America/Santiago", "0 30 23 * * *", "2025-04-05T12:00:00-03:00",
			[]string{"2025-04-05T23:30:00-03:00", "2025-04-06T23:30:00-04:00"}},

		// Beirut: as Santiago, in March and October.
		{"Beirut skipped midnight", "Asia/Beirut", "0 0 0 * * *", "2023-03-24T12:00:00+02:00",
			[]string{"2023-03-25T00:00:00+02:00", "2023-03-26T01:00:00+03:00", "2023-03-27T00:00:00+03:00"}},
		{"Beirut midnight after a fall-back", "Asia/Beirut", "0 0 0 * * *", "2023-10-27T12:00:00+03:00",
			[]string{"2023-10-28T00:00:00+03:00", "2023-10-29T00:00:00+02:00", "2023-10-30T00:00:00+02:00"}},
		{"Beirut skipped Sunday midnight", "Asia/Beirut", "0 0 0 * * sun", "2023-03-20T12:00:00+02:00",
			[]string{"2023-03-26T01:00:00+03:00", "2023-04-02T00:00:00+03:00"}},

		// Lord Howe: 02:00 becomes 01:30 in April; 02:00 becomes 02:30 in October.
		{"Lord Howe repeated half hour", "Australia/Lord_Howe", "0 45 1 * * *", "2024-04-06T12:00:00+11:00",
			[]string{"2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"}},
		{"Lord Howe skipped half hour", "Australia/Lord_Howe", "0 15 2 * * *", "2024-10-05T12:00:00+10:30",
			[]string{"2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"}},
		{"Lord Howe every 15 minutes over a fall-back", "Australia/Lord_Howe", "0 */15 * * * *", "2025-04-06T01:40:00+11:00",
			[]string{"2025-04-06T01:45:00+11:00", "2025-04-06T01:30:00+10:30", "2025-04-06T01:45:00+10:30", "2025-04-06T02:00:00+10:30"}},
		{"Lord Howe every 15 minutes over a spring-forward", "Australia/Lord_Howe", "0 */15 * * * *", "2025-10-05T01:40:00+10:30",
			[]string{"2025-10-05T01:45:00+10:30", "2025-10-05T02:30:00+11:00", "2025-10-05T02:45:00+11:00"}},
		{"@every ignores the zone", "Australia/Lord_Howe", "@every 30m", "2024-04-07T01:10:00+11:00",
			[]string{"2024-04-07T01:30:00+11:00", "2024-04-07T01:30:00+10:30", "2024-04-07T02:00:00+10:30"}},
		{"@every ignores a spring-forward", "America/New_York", "@every 1h", "2025-03-09T00:30:00-05:00",
			[]string{"2025-03-09T01:00:00-05:00", "2025-03-09T03:00:00-04:00", "2025-03-09T04:00:00-04:00"}},

		// Past 2037 New York's changes come from a rule, not a table, where
		// Go's ZoneBounds ends the last day of a leap year too early.
		{"past a leap year's end under the zone's rule", "America/New_York", "0 0 0 9 2 *", "2096-12-31T12:00:00Z",
			[]string{"2097-02-09T00:00:00-05:00", "2098-02-09T00:00:00-05:00"}},

		// Tokyo has had no daylight saving time since 1951.
		{"Tokyo on New York's spring-forward day", "Asia/Tokyo", "0 30 2 * * *", "2025-03-08T12:00:00+09:00",
			[]string{"2025-03-09T02:30:00+09:00", "2025-03-10T02:30:00+09:00"}},
		{"Tokyo every 15 minutes", "Asia/Tokyo", "0 */15 * * * *", "2025-11-02T01:40:00+09:00",
			[]string{"2025-11-02T01:45:00+09:00", "2025-11-02T02:00:00+09:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			from, err := time.Parse(time.RFC3339, tt.from)
			if err != nil {
				t.Fatal(err)
			}
			// The zone may come from the spec or, as the scheduler's
			// Location, from the time: the slots must be the same.
			// @every takes no zone.
			variants := []struct {
				spec string
				from time.Time
			}{{tt.spec, from.In(loc)}}
			if !strings.HasPrefix(tt.spec, "@every") {
				variants = append(variants, struct {
					spec string
					from time.Time
				}{"TZ=" + tt.zone + " " + tt.spec, from.UTC()})
			}
			for _, v := range variants {
				s, err := ParseSpec(v.spec)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for next := s.Next(v.from); len(got) < len(tt.want) && !next.IsZero(); next = s.Next(next) {
					got = append(got, next.In(loc).Format(time.RFC3339))
				}
				if strings.Join(got, " ") != strings.Join(tt.want, " ") {
					t.Errorf("%q after %s:\n got %v\nwant %v", v.spec, tt.from, got, tt.want)
				}
			}
		})
	}
}

func TestIsFixedTime(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string]bool{
		"0 30 1 * * *":         true,
		"0 0,30 2 * * *":       true,
		"0 0 9-17 * * mon-fri": true,
		"*/20 30 1 * * *":      true, // the minute and the hour are fixed; seconds do not count
		"0 0-59/15 0-23 * * *": true, // cron goes by the first character, not by what matches
		"30 2 * * *":           true,
		"@daily":               true,
		"@weekly":              true,
		"@monthly":             true,
		"@yearly":              true,
		"*/2 * * * * *":        false,
		"0 */15 * * * *":       false,
		"0 30 * * * *":         false,
		"0 0 */2 * * *":        false,
		"0 ? 1 * * *":          false,
		"*/5 * * * *":          false,
		"@hourly":              false,
	} {
		s, err := ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		if s.cron.fixedTime != want {
			t.Errorf("%q: fixed-time %v, want %v", spec, s.cron.fixedTime, want)
		}
	}
}

// TestNextAgreesWithClassicCron replays classic cron's main loop over the
// four hours around every clock change of 2023 to 2025 in each zone, and
// around New York's changes in Tokyo, which has none, and checks that Next
// gives the same slots for specs of every kind.
func TestNextAgreesWithClassicCron(t *testing.T) {
	t.Parallel()
	specs := []string{
		"0 30 1 * * *", "0 30 2 * * *", "0 45 1 * * *", "0 15 2 * * *", "0 0 0 * * *", "0 30 23 * * *",
		"0 0,20,40 2 * * *", "0 0 1-4 * * *", "*/20 30 1 * * *", "0 0-59/15 0-23 * * *", "@daily",
		"*/10 * * * * *", "0 */15 * * * *", "0 30 * * * *", "0 0 */2 * * *", "@hourly", "30 */2 * * * *",
	}
	zones := []string{"America/New_York", "Europe/London", "America/Havana", "America/Santiago",
		"Asia/Beirut", "Australia/Lord_Howe", "Asia/Tokyo"}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, zone := range zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		changes := clockChanges(loc, 2023, 2025)
		if zone == "Asia/Tokyo" {
			changes = clockChanges(ny, 2023, 2025)
		}
		if len(changes) != 6 {
			t.Fatalf("%s: %d clock changes in 2023-2025, want 6: %v", zone, len(changes), changes)
		}
		for _, change := range changes {
			t.Run(zone+" "+change.Format(time.RFC3339), func(t *testing.T) {
				t.Parallel()
				from, to := change.Add(-2*time.Hour), change.Add(2*time.Hour)
				walls := make([]wall, 0, to.Sub(from)/time.Second+1)
				for u := from; !u.After(to); u = u.Add(time.Second) {
					walls = append(walls, wallOf(u, loc))
				}
				for _, text := range specs {
					s, err := ParseSpec("TZ=" + zone + " " + text)
					if err != nil {
						t.Fatal(err)
					}
					want := classicCron(s.cron, from, walls)
					var got []time.Time
					for next := s.Next(from); !next.IsZero() && !next.After(to); next = s.Next(next) {
						got = append(got, next)
					}
					if !slices.EqualFunc(got, want, time.Time.Equal) {
						t.Errorf("%q from %s:\n got %s\nwant %s", text, from.In(loc).Format(time.RFC3339),
							formatAll(got, loc), formatAll(want, loc))
					}
				}
			})
		}
	}
}

// clockChanges returns the instants loc changed its UTC offset in the years
// first to last.
func clockChanges(loc *time.Location, first, last int) []time.Time {
	var out []time.Time
	for u := time.Date(first, 1, 1, 0, 0, 0, 0, loc); ; {
		_, end := u.ZoneBounds()
		if end.IsZero() || end.Year() > last {
			return out
		}
		_, before := end.Add(-time.Second).In(loc).Zone()
		if _, after := end.In(loc).Zone(); after != before {
			out = append(out, end)
		}
		u = end.In(loc)
	}
}

// wall is what a clock shows at one instant: the seconds since the epoch of
// the UTC time with the same fields, and those fields.
type wall struct {
	unix                                int64
	sec, min, hour, dom, month, weekday int
}

func wallOf(u time.Time, loc *time.Location) wall {
	l := u.In(loc)
	w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	return wall{w.Unix(), w.Second(), w.Minute(), w.Hour(), w.Day(), int(w.Month()), int(w.Weekday())}
}

// matches tests the fields against a wall-clock time the way cron.c's
// find_jobs does, on the cron package's bit sets.
func (w wall) matches(c *cronSpec) bool {
	const star = 1 << 63
	f := c.wall
	in := func(set uint64, v int) bool { return set&(1<<uint(v)) != 0 }
	day := in(f.Dom, w.dom) && in(f.Dow, w.weekday)
	if f.Dom&star == 0 && f.Dow&star == 0 {
		day = in(f.Dom, w.dom) || in(f.Dow, w.weekday)
	}
	return in(f.Second, w.sec) && in(f.Minute, w.min) && in(f.Hour, w.hour) && in(f.Month, w.month) && day
}

// classicCron replays the main loop of classic cron (ISC cron 4.1, cron.c)
// over walls, the wall clock at from and at each second after it, a second at
// a time where cron goes a minute at a time. virtual is the wall-clock time up
// to which fixed-time specs have run. When the clock moves on by a second,
// everything due at the new time runs. When it jumps forward, wildcard specs
// run for the new time and fixed-time specs for every time skipped up to and
// including it. When it jumps back, only wildcard specs run until it is past
// virtual again. A slot is an instant, so the fixed-time runs of one jump
// count once.
func classicCron(c *cronSpec, from time.Time, walls []wall) []time.Time {
	var fired []time.Time
	virtual := walls[0].unix
	for i, now := range walls[1:] {
		fire := false
		switch {
		case !c.fixedTime:
			fire = now.matches(c)
		case now.unix > virtual:
			for w := virtual + 1; w <= now.unix && !fire; w++ {
				fire = wallOf(time.Unix(w, 0), time.UTC).matches(c)
			}
			virtual = now.unix
		}
		if fire {
			fired = append(fired, from.Add(time.Duration(i+1)*time.Second))
		}
	}
	return fired
}

func formatAll(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc).Format(time.RFC3339)
	}
	return out
}
