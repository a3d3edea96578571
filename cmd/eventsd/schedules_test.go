package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/ferrettest"
	"github.com/eventsd/eventsd/internal/redistest"
)

// TestStartupSchedules runs dev and serve in this process, with the
// scheduler role only, and reads their start-up log: every schedule is
// logged with its spec and next run, or as off. The mock-data schedule is on
// in dev, as in the seed, and off in serve unless CRON_MOCK_DATA asks for it.
func TestStartupSchedules(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	mongoURI := ferrettest.URI(t)
	const (
		mock    = "*/2 * * * * *"
		monitor = "*/10 * * * * *"
		rate    = "0 * * * * *"
		cleanup = "0 0 0 * * *"
	)
	tests := []struct {
		name, cmd string
		env       map[string]string
		want      map[string]string // schedule name: its spec, or off
	}{
		{"dev", "dev", nil,
			map[string]string{"mock-data": mock, "monitor": monitor, "rollup": rate, "cleanup": cleanup}},
		{"dev with mock data off", "dev", map[string]string{"CRON_MOCK_DATA": "off"},
			map[string]string{"mock-data": "off", "monitor": monitor, "rollup": rate, "cleanup": cleanup}},
		{"serve", "serve", nil,
			map[string]string{"mock-data": "off", "monitor": monitor, "rollup": rate, "cleanup": cleanup}},
		{"serve asked for mock data", "serve", map[string]string{"CRON_MOCK_DATA": mock, "CRON_CLEANUP": "OFF"},
			map[string]string{"mock-data": mock, "monitor": monitor, "rollup": rate, "cleanup": "off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"ROLES": "scheduler", "LOG_FORMAT": "json", "DATA_DIR": t.TempDir()}
			if tt.cmd == "serve" {
				maps.Copy(env, serveEnv(r, mongoURI, nil))
			}
			maps.Copy(env, tt.env)
			began := time.Now()
			got := map[string]string{}
			for _, rec := range startupLog(t, tt.cmd, env) {
				name, _ := rec["schedule"].(string)
				switch rec["msg"] {
				case "schedule off":
					got[name] = "off"
				case "schedule":
					got[name], _ = rec["spec"].(string)
					text, _ := rec["next_run"].(string)
					if next, err := time.Parse(time.RFC3339Nano, text); err != nil || !next.After(began) {
						t.Errorf("schedule %s: next_run %q, want a time after start-up", name, text)
					}
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("start-up log gives the schedules\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

// startupLog runs eventsd in this process until it logs that it has started,
// stops it, and returns its JSON log records.
func startupLog(t *testing.T, cmd string, env map[string]string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var log lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{cmd}, func(k string) string { return env[k] }, io.Discard, &log)
	}()
	eventually(t, time.Minute, "eventsd started", func() (bool, string) {
		select {
		case err := <-done:
			t.Fatalf("eventsd %s stopped at start-up: %v\n%s", cmd, err, log.String())
		default:
		}
		return strings.Contains(log.String(), `"msg":"eventsd started"`), "not yet"
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("eventsd %s: %v\n%s", cmd, err, log.String())
	}
	var recs []map[string]any
	for line := range strings.Lines(log.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		recs = append(recs, rec)
	}
	return recs
}
