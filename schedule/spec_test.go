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

		{spec: "", wantErr: "empty"},
		{spec: "   ", wantErr: "empty"},
		{spec: "* * * *", wantErr: "expected 5 to 6 fields"},
		{spec: "* * * * * * *", wantErr: "expected 5 to 6 fields"},
		{spec: "60 * * * * *", wantErr: "above maximum"},
		{spec: "*/0 * * * * *", wantErr: "positive"},
		{spec: "a * * * * *", wantErr: "failed to parse int"},
		{spec: "0 0 0 30 2 *", wantErr: "never fires"},
		{spec: "@sometimes", wantErr: "unrecognized descriptor"},
		{spec: "@every", wantErr: "needs an interval"},
		{spec: "@every soon", wantErr: "invalid duration"},
		{spec: "@every 0s", wantErr: "at least 1ms"},
		{spec: "@every -5s", wantErr: "at least 1ms"},
		{spec: "@every 1500us", wantErr: "whole number of milliseconds"},
		{spec: "TZ=Europe/Berlin", wantErr: "not followed by a schedule"},
		{spec: "TZ=Nowhere/Atall 0 * * * * *", wantErr: "bad location"},
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

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"*/2 * * * * *", "@every 10s", "TZ=UTC", "0 0 0 30 2 *", "1-2/3,4 * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSpec(spec) // must not panic
		if err == nil && s.Next(neverProbe).IsZero() {
			t.Errorf("ParseSpec(%q) accepted a spec that never fires", spec)
		}
	})
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
