package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eventsd/eventsd/internal/config"
)

// TestStartupFailureIsARecord: with LOG_FORMAT=json, the error that stops
// start-up is a JSON record like every other line, and a password in a
// mistyped or unreachable Redis URL shows nowhere.
func TestStartupFailureIsARecord(t *testing.T) {
	t.Parallel()
	closed := "127.0.0.1:" + freePort(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"mistyped url", map[string]string{"REDIS_URL": "redis//:secret@host", "LOG_FORMAT": "json"}, nil, "REDIS_URL"},
		{"unreachable", map[string]string{"REDIS_URL": "redis://:secret@" + closed, "LOG_FORMAT": "json"}, nil, "REDIS_URL"},
		{"format as a flag", map[string]string{"REDIS_URL": "redis//u:secret@host"}, []string{"--log-format=json"}, "REDIS_URL"},
		{"bad value beside", map[string]string{"REDIS_URL": "redis//:secret@host", "LOG_FORMAT": "json", "PORT": "http"}, nil, "REDIS_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATA_DIR": t.TempDir(), "HOST": "127.0.0.1", "PORT": freePort(t)}
			for k, v := range tc.env {
				env[k] = v
			}
			code, _, stderr := runOnce(t, env, append([]string{"serve"}, tc.args...)...)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero; stderr:\n%s", stderr)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("the password shows:\n%s", stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			for _, line := range lines {
				var v map[string]any
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Errorf("not a JSON record: %s", line)
				}
			}
			var last map[string]any
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if last["level"] != "ERROR" || !strings.Contains(last["err"].(string), tc.want) {
				t.Errorf("last record %v, want an ERROR whose err names %s", last, tc.want)
			}
		})
	}
}

// TestRedisClientLogsThroughSlog: go-redis's lines become records of the
// process's logger, redacted like the others.
func TestRedisClientLogsThroughSlog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := redisLogger{config.NewLogger(&buf, slog.LevelInfo, "json")}
	l.Printf(t.Context(), "redis: %s:%d: connection pool: failed to dial after %s: dial redis://:secret@db\n", "pool.go", 770, time.Second)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not a JSON record: %s", buf.String())
	}
	if rec["level"] != "WARN" || rec["component"] != "go-redis" || !strings.Contains(rec["msg"].(string), "failed to dial") ||
		strings.Contains(buf.String(), "secret") {
		t.Errorf("record %s: want a WARN from go-redis with its message, redacted", buf.String())
	}
}
