package schedule_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/queue"
	"github.com/eventsd/eventsd/schedule"
	"github.com/redis/go-redis/v9"
)

// A cron schedule that adds a job each slot. However many processes run the
// same schedule on one Redis, each slot fires in one of them; the job's id
// comes from the slot, so even a slot fired twice (Redis lost the claim)
// adds one job.
func Example() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	q := queue.NewClient(rdb, queue.Config{}).Queue("reports")

	s := schedule.New(rdb, schedule.Config{})
	fired := make(chan string, 1)
	err := s.Add("tick", "@every 100ms", func(ctx context.Context, slot time.Time) error {
		j, err := q.Add(ctx, "report", nil, queue.JobOptions{ID: "tick-" + strconv.FormatInt(slot.UnixMilli(), 10)})
		if err == nil {
			select {
			case fired <- j.Name:
			default:
			}
		}
		return err
	}, schedule.Timeout(time.Minute))
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	fmt.Println("added a", <-fired, "job")
	stop()
	<-done
	// Output: added a report job
}

// Specs take seconds, descriptors, intervals and a time zone.
func ExampleParseSpec() {
	for _, text := range []string{"*/2 * * * * *", "0 30 9 * * mon-fri", "@daily", "@every 90s", "TZ=Europe/Paris 0 0 8 * * *"} {
		spec, err := schedule.ParseSpec(text)
		if err != nil {
			panic(err)
		}
		next := spec.Next(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
		fmt.Println(text, "->", next.UTC().Format(time.RFC3339))
	}
	// Output:
	// */2 * * * * * -> 2026-11-27T10:00:02Z
	// 0 30 9 * * mon-fri -> 2026-11-30T09:30:00Z
	// @daily -> 2026-11-28T00:00:00Z
	// @every 90s -> 2026-11-27T10:01:30Z
	// TZ=Europe/Paris 0 0 8 * * * -> 2026-11-28T07:00:00Z
}
