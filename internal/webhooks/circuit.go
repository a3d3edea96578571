package webhooks

import (
	"fmt"
	"sync"
	"time"
)

// circuits keep a receiver that times out from holding the delivery
// slots. After BreakAfter attempts in a row to one subscription timed out,
// its circuit opens: deliveries to it fail at once, without a request, and
// go on with their retry schedule, so the slots serve other subscriptions.
// Every ProbeEvery one attempt goes out as a probe; any answer closes the
// circuit, another timeout keeps it open. A delivery someone asked for (a
// test, a retry) goes out whatever the circuit says, and its answer counts
// as a probe's. The state is this process's own: each process learns about
// a receiver from its own attempts.
type circuits struct {
	breakAfter int
	probeEvery time.Duration

	mu sync.Mutex
	m  map[string]*circuit // by subscription id; absent: closed, no timeout
}

type circuit struct {
	timeouts int       // attempts in a row that timed out
	next     time.Time // while open: when the next probe may go out
	probing  bool      // a probe is out
}

func newCircuits(breakAfter int, probeEvery time.Duration) *circuits {
	return &circuits{breakAfter: breakAfter, probeEvery: probeEvery, m: map[string]*circuit{}}
}

// allow says whether an attempt to the subscription id may go out at now;
// when not, err says why.
func (cs *circuits) allow(id string, now time.Time) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.m[id]
	switch {
	case c == nil || c.timeouts < cs.breakAfter:
		return nil
	case c.probing || now.Before(c.next):
		return fmt.Errorf("not sent: the receiver timed out on %d attempts in a row; a probe goes out after %s",
			c.timeouts, formatTime(c.next))
	}
	c.probing = true
	return nil
}

// done records how an attempt allowed at now ended: timedOut when no
// answer came in time.
func (cs *circuits) done(id string, now time.Time, timedOut bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if !timedOut {
		delete(cs.m, id)
		return
	}
	c := cs.m[id]
	if c == nil {
		c = &circuit{}
		cs.m[id] = c
	}
	c.timeouts++
	c.probing = false
	if c.timeouts >= cs.breakAfter {
		c.next = now.Add(cs.probeEvery)
	}
}
