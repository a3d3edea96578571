package webhooks

import (
	"testing"
	"time"
)

// TestCircuit walks one subscription's circuit through its states on a
// clock of the test's own.
func TestCircuit(t *testing.T) {
	cs := newCircuits(2, time.Minute)
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	allowed := func(id string, at time.Time) bool { return cs.allow(id, at) == nil }

	if !allowed("a", t0) {
		t.Fatal("a new subscription's attempt refused")
	}
	cs.done("a", t0, true)
	if !allowed("a", t0) {
		t.Fatal("refused after one timeout, below BreakAfter")
	}
	cs.done("a", t0, false) // an answer resets the count
	cs.done("a", t0, true)
	if !allowed("a", t0) {
		t.Fatal("an answer between two timeouts did not reset the count")
	}
	cs.done("a", t0, true) // two in a row: open until t0+1m
	if err := cs.allow("a", t0.Add(59*time.Second)); err == nil {
		t.Fatal("an open circuit let an attempt out before its probe time")
	}
	if !allowed("b", t0) {
		t.Fatal("another subscription's attempt refused: circuits are per subscription")
	}
	probe := t0.Add(time.Minute)
	if !allowed("a", probe) {
		t.Fatal("no probe at the probe time")
	}
	if allowed("a", probe) {
		t.Fatal("a second attempt went out while the probe was out")
	}
	cs.done("a", probe, true) // the probe timed out: open for another minute
	if allowed("a", probe.Add(30*time.Second)) {
		t.Fatal("a timed-out probe did not keep the circuit open")
	}
	probe = probe.Add(time.Minute)
	if !allowed("a", probe) {
		t.Fatal("no second probe")
	}
	cs.done("a", probe, false) // answered: closed
	if !allowed("a", probe) || !allowed("a", probe) {
		t.Fatal("an answered probe did not close the circuit")
	}
}
