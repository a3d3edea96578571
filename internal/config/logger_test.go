package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLoggerFormatsDurationsAsMilliseconds(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, slog.LevelInfo, "json")
	log.Info("stopping", "timeout", 30*time.Second, "took", 1500*time.Microsecond, "lease_ms", 15*time.Second,
		slog.Group("g", "wait", 2*time.Second))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	g, _ := rec["g"].(map[string]any)
	if rec["timeout_ms"] != float64(30000) || rec["took_ms"] != 1.5 || rec["lease_ms"] != float64(15000) || g["wait_ms"] != float64(2000) {
		t.Errorf("record %s: want timeout_ms 30000, took_ms 1.5, lease_ms 15000, g.wait_ms 2000", buf.String())
	}
	if _, ok := rec["timeout"]; ok {
		t.Errorf("record %s keeps a duration under its own key", buf.String())
	}

	buf.Reset()
	NewLogger(&buf, slog.LevelInfo, "text").Info("stopping", "timeout", 30*time.Second)
	if !strings.Contains(buf.String(), "timeout_ms=30000") {
		t.Errorf("text record %q, want timeout_ms=30000", buf.String())
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestLoggerRedactsCredentials(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := NewLogger(&buf, slog.LevelDebug, format)
		log.Error("cannot reach redis//:secret@host", "url", "redis//:secret@host",
			"err", errors.New(`dial "redis://u:secret@h": refused`), "dsn", stringer("host=db password=secret"),
			slog.Group("g", "u", "postgres://app:secret@db/x"))
		if strings.Contains(buf.String(), "secret") {
			t.Errorf("%s: a password shows: %s", format, buf.String())
		}
		if !strings.Contains(buf.String(), "redis//:xxxxx@host") {
			t.Errorf("%s: %s does not keep the redacted URL", format, buf.String())
		}
	}
}
