package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		wantErr string // empty: the spec is valid
	}{
		{spec: "*/2 * * * * *"},
		{spec: "*/10 * * * * *"},
		{spec: "0 * * * * *"},
		{spec: "0 0 0 * * *"},
		{spec: "0 0 * * *"},
		{spec: "*/5 * * * *"},
		{spec: "0 30 9 * * mon-fri"},
		{spec: "  */2 * * * * *  "},
		{spec: "@every 10s"},
		{spec: "@every 200ms"},
		{spec: "@every 1h30m"},
		{spec: "@hourly"},
		{spec: "@daily"},
		{spec: "@midnight"},
		{spec: "@weekly"},
		{spec: "@monthly"},
		{spec: "@yearly"},
		{spec: "0 0 0 29 2 *"}, // leap days only: rare, but fires
		{spec: "TZ=Europe/Berlin 0 0 0 * * *"},
		{spec: "CRON_TZ=America/New_York @daily"},
		{spec: "TZ=Asia/Kolkata\t0 30 9 * * *"},
		{spec: "*/60 * * * * *"},   // every 60 seconds: once a minute
		{spec: "0 0 */24 * * *"},   // every 24 hours: midnight
		{spec: "0 5/15 * * * *"},   // 5, 20, 35, 50: even across the hour too
		{spec: "0 0-30/7 * * * *"}, // a bounded range does not wrap
		{spec: "0 0 0 */2 * *"},    // every other day of the month, as in cron
		{spec: "0 0 0 31 * *"},     // the months that have a 31st
		{spec: "0 0 0 13 * fri"},   // every 13th and every Friday, as in cron
		{spec: "0 0 0 30 1,2 mon"}, // Mondays open February
		{spec: "0 0 0 * jan-jun/2 *"},
		{spec: "0 0 0 * * mon/2"},

		{spec: "", wantErr: "empty"},
		{spec: "   ", wantErr: "empty"},
		{spec: "* * * *", wantErr: "expected 5 to 6 fields, found 4"},
		{spec: "* * * * * * *", wantErr: "expected 5 to 6 fields, found 7"},
		{spec: "60 * * * * *", wantErr: `second field "60": end of range (60) above maximum (59)`},
		{spec: "0 0 24 * * *", wantErr: `hour field "24"`},
		{spec: "*/0 * * * * *", wantErr: `second field "*/0": step of range should be a positive number`},
		{spec: "a * * * * *", wantErr: `second field "a": failed to parse int`},
		{spec: "0 0 0 * * 7", wantErr: `day of week field "7"`},
		{spec: "0 0 0 * foo *", wantErr: `month field "foo"`},
		{spec: "*/61 * * * * *", wantErr: `second field "*/61": step 61 is larger than the 60 values of 0-59`},
		{spec: "0 */61 * * * *", wantErr: `minute field "*/61": step 61 is larger than the 60 values of 0-59`},
		{spec: "0 0 */25 * * *", wantErr: `hour field "*/25": step 25 is larger than the 24 values of 0-23`},
		{spec: "0 0 0 */32 * *", wantErr: `day of month field "*/32": step 32 is larger than the 31 values of 1-31`},
		{spec: "0 0 0 * */13 *", wantErr: `month field "*/13": step 13 is larger than the 12 values of 1-12`},
		{spec: "0 0 0 * * */8", wantErr: `day of week field "*/8": step 8 is larger than the 7 values of 0-6`},
		{spec: "0 0 0 10-20/30 * *", wantErr: `day of month field "10-20/30": step 30 is larger than the 11 values of 10-20`},
		{spec: "0 0 0 * mar-may/4 *", wantErr: `month field "mar-may/4": step 4 is larger than the 3 values of 3-5`},
		{spec: "0 */7 * * * *"}, // classic cron: :00 to :56, then :00 again
		{spec: "*/45 * * * * *"},
		{spec: "0 0 */5 * * *"},
		{spec: "0 5/7 * * * *"},
		{spec: "*/61 * * * *", wantErr: `minute field "*/61"`}, // five fields: the first is minutes
		{spec: "1,,2 * * * * *", wantErr: `second field "1,,2": empty item in the list`},
		{spec: ",5 * * * *", wantErr: `minute field ",5": empty item in the list`},
		{spec: "0 0 0 30 2 *", wantErr: `day of month field "30": February has no such day`},
		{spec: "0 0 0 30 1,2 *", wantErr: `day of month field "30": February has no such day`},
		{spec: "0 0 0 31 apr *", wantErr: `day of month field "31": April has no such day`},
		{spec: "@sometimes", wantErr: "unrecognized descriptor"},
		{spec: "@daily extra", wantErr: "unrecognized descriptor"},
		{spec: "@every", wantErr: "needs an interval"},
		{spec: "@every soon", wantErr: "invalid duration"},
		{spec: "@every 0s", wantErr: "at least 1ms"},
		{spec: "@every -5s", wantErr: "at least 1ms"},
		{spec: "@every 1500us", wantErr: "whole number of milliseconds"},
		{spec: "TZ=Asia/Kolkata @every 1h", wantErr: "@every counts from the Unix epoch and takes no time zone"},
		{spec: "TZ=Europe/Berlin", wantErr: "not followed by a schedule"},
		{spec: "TZ= 0 * * * * *", wantErr: "TZ= names no time zone"},
		{spec: "TZ=Nowhere/Atall 0 * * * * *", wantErr: "unknown time zone Nowhere/Atall"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSpec(tt.spec)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpec(%q): %v", tt.spec, err)
				}
				if s.String() != strings.TrimSpace(tt.spec) {
					t.Errorf("String() = %q, want %q", s.String(), strings.TrimSpace(tt.spec))
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseSpec(%q) = nil error, want one containing %q", tt.spec, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "invalid schedule spec") {
				t.Errorf("ParseSpec(%q) error %q, want it to contain %q", tt.spec, err, tt.wantErr)
			}
		})
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec, after, want string
	}{
		{"*/2 * * * * *", "2030-01-01T00:00:00Z", "2030-01-01T00:00:02Z"},
		{"*/2 * * * * *", "2030-01-01T00:00:00.999Z", "2030-01-01T00:00:02Z"},
		{"*/2 * * * * *", "2030-01-01T00:00:01Z", "2030-01-01T00:00:02Z"},
		{"*/2 * * * * *", "2030-01-01T00:00:59Z", "2030-01-01T00:01:00Z"},
		{"*/10 * * * * *", "2030-01-01T00:00:10Z", "2030-01-01T00:00:20Z"},
		{"0 * * * * *", "2030-01-01T00:00:00.5Z", "2030-01-01T00:01:00Z"},
		{"0 0 0 * * *", "2030-01-01T12:00:00Z", "2030-01-02T00:00:00Z"},
		{"@midnight", "2030-01-01T23:59:59.999Z", "2030-01-02T00:00:00Z"},
		{"@hourly", "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z"},
		{"*/5 * * * *", "2030-01-01T00:03:30Z", "2030-01-01T00:05:00Z"},
		{"0 0 0 29 2 *", "2030-01-01T00:00:00Z", "2032-02-29T00:00:00Z"},
		// @every counts from the Unix epoch, not from the caller's start.
		{"@every 10s", "2030-01-01T00:00:03.250Z", "2030-01-01T00:00:10Z"},
		{"@every 10s", "2030-01-01T00:00:10Z", "2030-01-01T00:00:20Z"},
		{"@every 200ms", "2030-01-01T00:00:00.1Z", "2030-01-01T00:00:00.2Z"},
		{"@every 200ms", "2030-01-01T00:00:00.2Z", "2030-01-01T00:00:00.4Z"},
		{"@every 7m", "1970-01-01T00:00:00Z", "1970-01-01T00:07:00Z"},
		{"@every 1s", "1969-12-31T23:59:59.5Z", "1970-01-01T00:00:00Z"},
		// A spec's own zone wins over the time's: midnight in Berlin is 23:00 UTC in winter.
		{"TZ=Europe/Berlin @midnight", "2030-01-01T12:00:00Z", "2030-01-01T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" after "+tt.after, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSpec(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			got := s.Next(at(tt.after))
			if want := at(tt.want); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tt.after, got.Format(time.RFC3339Nano), tt.want)
			}
		})
	}

	t.Run("cron fields read in the time's location", func(t *testing.T) {
		t.Parallel()
		tokyo := time.FixedZone("JST", 9*3600)
		s, _ := ParseSpec("@midnight")
		got := s.Next(at("2030-01-01T12:00:00Z").In(tokyo)) // 21:00 in Tokyo
		if want := at("2030-01-01T15:00:00Z"); !got.Equal(want) {
			t.Errorf("Next = %s, want %s (Tokyo midnight)", got, want)
		}
	})
	t.Run("zero Spec never fires", func(t *testing.T) {
		t.Parallel()
		if got := (Spec{}).Next(time.Now()); !got.IsZero() {
			t.Errorf("Spec{}.Next = %s, want zero", got)
		}
	})
}

func TestRecent(t *testing.T) {
	t.Parallel()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	every2, _ := ParseSpec("*/2 * * * * *")
	daily, _ := ParseSpec("@daily")
	tests := []struct {
		name         string
		spec         Spec
		after, until time.Time
		max          int
		want         []time.Time
		wantMore     bool
	}{
		{"none due", every2, sec(0), sec(1), 3, nil, false},
		{"one due", every2, sec(0), sec(2), 1, []time.Time{sec(2)}, false},
		{"until is inclusive, after exclusive", every2, sec(2), sec(4), 5, []time.Time{sec(4)}, false},
		{"all fit", every2, sec(0), sec(7), 5, []time.Time{sec(2), sec(4), sec(6)}, false},
		{"keeps the most recent", every2, sec(0), sec(20), 3, []time.Time{sec(16), sec(18), sec(20)}, true},
		{"exactly max", every2, sec(0), sec(6), 3, []time.Time{sec(2), sec(4), sec(6)}, false},
		{"max from an older window", every2, sec(0), sec(600), 2, []time.Time{sec(598), sec(600)}, true},
		{"months since the last run", daily, base, base.AddDate(0, 6, 0).Add(time.Hour), 2,
			[]time.Time{base.AddDate(0, 6, -1), base.AddDate(0, 6, 0)}, true},
		{"max zero", every2, sec(0), sec(20), 0, nil, false},
		{"until before after", every2, sec(20), sec(0), 3, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, more := tt.spec.recent(tt.after, tt.until, tt.max)
			if len(got) != len(tt.want) || more != tt.wantMore {
				t.Fatalf("recent = %v, more %v; want %v, more %v", got, more, tt.want, tt.wantMore)
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) {
					t.Fatalf("recent = %v; want %v", got, tt.want)
				}
			}
		})
	}
}
