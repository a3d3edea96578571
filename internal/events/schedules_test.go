package events_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/internal/redistest"
	"github.com/eventsd/eventsd/schedule"
)

// TestAddSchedules adds the tasks' table with one schedule off: the others
// are scheduled under their names and specs, and the one off is returned
// with its setting.
func TestAddSchedules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := redistest.Start(t)
	sched := schedule.New(r.Client, schedule.Config{Prefix: r.Prefix})
	tasks := &events.Tasks{Producer: b.prod, Queue: b.q, Store: b.store}
	off, err := tasks.AddSchedules(sched, events.ScheduleSpecs{
		MockData: "*/2 * * * * *", Rollup: "0 * * * * *", Cleanup: "0 0 0 * * *",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(off) != 1 || off[0].Name != "monitor" || off[0].Setting != "CRON_MONITOR" {
		t.Fatalf("off = %+v; want monitor, set by CRON_MONITOR", off)
	}
	infos, err := sched.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, i := range infos {
		got[i.Name] = i.Spec
	}
	if fmt.Sprint(got) != "map[cleanup:0 0 0 * * * mock-data:*/2 * * * * * rollup:0 * * * * *]" {
		t.Fatalf("schedules = %v", got)
	}
	if _, err := tasks.AddSchedules(schedule.New(r.Client, schedule.Config{Prefix: r.Prefix}),
		events.ScheduleSpecs{Monitor: "*/0 * * * *"}); err == nil {
		t.Fatal("a malformed spec was added")
	}
}
