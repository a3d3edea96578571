package schedule

import "time"

// Option tunes one schedule in Add.
type Option func(*options)

type options struct {
	catchUp int
	timeout time.Duration
}

// CatchUp makes a schedule fire missed slots instead of skipping them, at
// most n of them, the most recent ones, oldest first.
//
// A slot is missed when no process was running to fire it. When Run starts it
// reads the schedule's last run as recorded in Redis by any process and fires
// up to n of the slots since then; with no recorded run there is nothing to
// catch up. While running, a process that falls behind (a slow Func, a paused
// machine) fires up to n of the slots that came due meanwhile.
//
// The default, as CatchUp(0), skips missed slots: Run fires nothing from
// before it started, and a process that falls behind fires only the most
// recent due slot.
func CatchUp(n int) Option { return func(o *options) { o.catchUp = n } }

// Timeout bounds each run of a schedule's Func: its context is cancelled after
// d. Without it a run lasts as long as its Func takes, which also holds up
// Run's return at shutdown.
func Timeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }
