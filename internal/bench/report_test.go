package bench

import (
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-12345, "-12,345"}, {999.6, "999"}} {
		if got := count(tc.in); got != tc.want {
			t.Errorf("count(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	QueueResult{Jobs: 1000, ProcessPerSec: 45678, CommandsPerJob: -1, IdleCommandsPerSec: -1, Redis: "miniredis"}.WriteText(&b)
	if s := b.String(); !strings.Contains(s, "45,678 jobs/s") || !strings.Contains(s, "not counted") || strings.Contains(s, "-1") {
		t.Errorf("queue:\n%s", s)
	}
	b.Reset()
	QueueResult{BackgroundCommandsPerSec: 12.5}.WriteText(&b)
	if s := b.String(); !strings.Contains(s, "WARNING") || !strings.Contains(s, "12.5 commands/s") {
		t.Errorf("queue on a busy Redis:\n%s", s)
	}
	b.Reset()
	QueueResult{ThroughputOnly: true, ProcessPerSec: 1000, ProcessCPUSeconds: 0.25}.WriteText(&b)
	if s := b.String(); strings.Contains(s, "pickup") || strings.Contains(s, "idle") || !strings.Contains(s, "0.25 s while processing") {
		t.Errorf("queue, throughput only:\n%s", s)
	}
	b.Reset()
	E2EResult{Jobs: 10, JobsAdded: 12, EventsFound: 11, MissingEvents: 1}.WriteText(&b)
	if s := b.String(); !strings.Contains(s, "FAILED: 1 missing") {
		t.Errorf("e2e:\n%s", s)
	}
	b.Reset()
	HTTPResult{Requests: 10, Errors: 3, ErrorsByStatus: map[string]int{"500": 2, "transport": 1}}.WriteText(&b)
	if s := b.String(); !strings.Contains(s, "3 of 10 requests (500: 2, transport: 1)") {
		t.Errorf("http:\n%s", s)
	}
}
