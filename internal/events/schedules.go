package events

import (
	"time"

	"github.com/eventsd/eventsd/schedule"
)

// ScheduleSpecs are the specs of the tasks' schedules, from the CRON_*
// settings; an empty spec switches its schedule off.
type ScheduleSpecs struct {
	MockData, Monitor, Rollup, Cleanup string
}

// Schedule is one of the tasks' schedules: what the scheduler runs and the
// setting that sets its spec.
type Schedule struct {
	// Name is the schedule's stable name, shown by GET /api/schedules.
	Name string
	// Setting is the environment variable of its spec.
	Setting string
	// Spec is when it fires; empty means switched off.
	Spec string
	Func schedule.Func
	// Options are its schedule options: a timeout for every run, and
	// catch-up where a missed slot leaves a gap.
	Options []schedule.Option
}

// scheduleTimeout bounds one run of a task: each adds a job or reads a
// little, or deletes in bounded chunks (cleanup).
const scheduleTimeout = time.Minute

// rollupCatchUp is how many missed minutes the rollup schedule fires after
// a restart, so that the counts of an hour without a scheduler are made.
const rollupCatchUp = 60

// Schedules returns the table of the tasks' schedules with specs: each
// task with its name, its setting and its options, in the order they are
// listed.
func (t *Tasks) Schedules(specs ScheduleSpecs) []Schedule {
	timeout := schedule.Timeout(scheduleTimeout)
	return []Schedule{
		{"mock-data", "CRON_MOCK_DATA", specs.MockData, t.MockData, []schedule.Option{timeout}},
		{"monitor", "CRON_MONITOR", specs.Monitor, t.Monitor, []schedule.Option{timeout}},
		{"rollup", "CRON_ROLLUP", specs.Rollup, t.Rollup, []schedule.Option{timeout, schedule.CatchUp(rollupCatchUp)}},
		{"cleanup", "CRON_CLEANUP", specs.Cleanup, t.Cleanup, []schedule.Option{timeout}},
	}
}

// AddSchedules adds to sched every schedule of the table that is on, and
// returns those that are off.
func (t *Tasks) AddSchedules(sched *schedule.Scheduler, specs ScheduleSpecs) (off []Schedule, err error) {
	for _, s := range t.Schedules(specs) {
		if s.Spec == "" {
			off = append(off, s)
			continue
		}
		if err := sched.Add(s.Name, s.Spec, s.Func, s.Options...); err != nil {
			return nil, err
		}
	}
	return off, nil
}
