package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Logger returns a logger that writes to w at LogLevel in LogFormat, with
// the rules of NewLogger.
func (c Config) Logger(w io.Writer) *slog.Logger { return NewLogger(w, c.LogLevel, c.LogFormat) }

// NewLogger returns a logger writing to w at level, as JSON when format is
// "json", else as text. Whoever logs through it, two rules hold:
//
//   - A duration is a number of milliseconds under a key ending in _ms
//     ("timeout": 30s becomes "timeout_ms": 30000), never nanoseconds in
//     JSON and "30s" in text.
//   - Whatever looks like a credential in a message, a string or an error is
//     replaced (see Redact), parsed as a URL or not.
func NewLogger(w io.Writer, level slog.Leveler, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replaceAttr}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func replaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindDuration:
		return DurationAttr(a.Key, a.Value.Duration())
	case slog.KindString:
		a.Value = slog.StringValue(Redact(a.Value.String()))
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Redact(v.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(Redact(v.String()))
		}
	}
	return a
}

// DurationAttr is d as a log attribute: milliseconds, under key with the
// suffix _ms; a whole number when d is whole milliseconds.
func DurationAttr(key string, d time.Duration) slog.Attr {
	if !strings.HasSuffix(key, "_ms") {
		key += "_ms"
	}
	if d%time.Millisecond == 0 {
		return slog.Int64(key, d.Milliseconds())
	}
	return slog.Float64(key, float64(d)/float64(time.Millisecond))
}
