package events_test

import (
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/eventsd/eventsd/internal/events"
)

// The fuzz targets of what clients send: listing cursors and event names.
// Their seed corpora are testdata/fuzz/<target>. To fuzz one:
//
//	go test -run='^$' -fuzz='^FuzzCursor$' -fuzztime=1000000x ./internal/events/

// FuzzCursor checks ParseCursor on any token and the cursor's round trip. A
// token is refused with ErrInvalidCursor or read as a cursor with a valid
// id, in UTC, whose own token is URL-safe and reads back as the same
// cursor; "" is the start of the listing. A cursor made from any time and id
// survives String and ParseCursor.
func FuzzCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, token string, ms int64, id []byte) {
		c, err := events.ParseCursor(token)
		switch {
		case err != nil:
			if !errors.Is(err, events.ErrInvalidCursor) {
				t.Fatalf("ParseCursor(%q): %v does not wrap ErrInvalidCursor", token, err)
			}
		case token == "":
			if !c.IsZero() {
				t.Fatalf(`ParseCursor("") = %+v, want the zero cursor`, c)
			}
		default:
			if !events.ValidID(c.ID) || c.CreatedAt.Location() != time.UTC {
				t.Fatalf("ParseCursor(%q) = %+v: invalid id or not UTC", token, c)
			}
			roundTrip(t, c)
		}

		var oid [12]byte
		copy(oid[:], id)
		hexID := hex.EncodeToString(oid[:])
		if len(id) > 0 && id[0]%2 == 1 {
			hexID = strings.ToUpper(hexID) // ids are case-insensitive on the way in
		}
		roundTrip(t, events.Cursor{CreatedAt: time.UnixMilli(ms).UTC(), ID: hexID})
	})
}

func roundTrip(t *testing.T, c events.Cursor) {
	t.Helper()
	token := c.String()
	if url.QueryEscape(token) != token {
		t.Fatalf("cursor %+v has token %q, not URL-safe", c, token)
	}
	back, err := events.ParseCursor(token)
	if err != nil || !back.CreatedAt.Equal(c.CreatedAt) || back.ID != c.ID {
		t.Fatalf("cursor %+v, token %q, parsed back as %+v, %v", c, token, back, err)
	}
}

// FuzzEventName checks CleanName on any name: it accepts exactly the names
// that trimmed are 1 to MaxNameLen characters of valid UTF-8, returns them
// trimmed, and accepts what it returns unchanged. An empty name is
// ErrEmptyName.
func FuzzEventName(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		got, err := events.CleanName(name)
		trimmed := strings.TrimSpace(name)
		n := utf8.RuneCountInString(trimmed)
		valid := utf8.ValidString(trimmed) && n >= 1 && n <= events.MaxNameLen
		if (err == nil) != valid {
			t.Fatalf("CleanName(%q) error = %v, want valid = %v", name, err, valid)
		}
		if err != nil {
			if (n == 0) != errors.Is(err, events.ErrEmptyName) {
				t.Fatalf("CleanName(%q): %v; ErrEmptyName is for empty names only", name, err)
			}
			return
		}
		if got != trimmed {
			t.Fatalf("CleanName(%q) = %q, want %q", name, got, trimmed)
		}
		if again, err := events.CleanName(got); err != nil || again != got {
			t.Fatalf("CleanName(%q) = %q, %v: not stable", got, again, err)
		}
	})
}
