package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// A producer adds jobs; a worker in any process runs them. Here both share
// an in-process Redis (miniredis); in production, any go-redis client.
func Example() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx := context.Background()

	q := queue.NewClient(rdb, queue.Config{}).Queue("emails")
	mux := queue.NewMux()
	done := make(chan string)
	mux.HandleFunc("welcome", func(ctx context.Context, job *queue.Job) (any, error) {
		done <- string(job.Data)
		return map[string]bool{"sent": true}, nil
	})
	w := queue.NewWorker(q, mux, queue.WorkerConfig{Concurrency: 4})
	wctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { w.Run(wctx); close(stopped) }()

	q.Add(ctx, "welcome", []byte("ada@example.com"), queue.JobOptions{
		Retries: 5,
		Backoff: queue.Backoff{Type: queue.BackoffExponential, Delay: time.Second},
	})
	fmt.Println("sent to", <-done)
	stop()
	<-stopped
	// Output: sent to ada@example.com
}

// A producer: jobs added one by one or in bulk, with an id that makes adding
// idempotent, a delay, a priority, and what to keep once they end.
func ExampleQueue_AddBulk() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	q := queue.NewClient(rdb, queue.Config{}).Queue("reports")

	jobs := []queue.NewJob{
		{Name: "daily", Data: []byte(`{"day":"2026-11-27"}`), Options: queue.JobOptions{ID: "daily-2026-11-27"}},
		{Name: "urgent", Options: queue.JobOptions{Priority: 0}},
		{Name: "weekly", Options: queue.JobOptions{Delay: time.Hour, Priority: 10, RemoveOnComplete: queue.KeepLast(100)}},
	}
	added, err := q.AddBulk(ctx, jobs)
	if err != nil {
		panic(err)
	}
	// Adding the same id again returns the job already there.
	again, _ := q.Add(ctx, "daily", nil, queue.JobOptions{ID: "daily-2026-11-27"})
	fmt.Println(added[0].ID == again.ID, added[2].State)
	c, _ := q.Counts(ctx)
	fmt.Printf("waiting %d, delayed %d\n", c.Waiting, c.Delayed)
	// Output:
	// true delayed
	// waiting 2, delayed 1
}

// A worker with two job types, a failure that must not be retried, progress
// that other processes see, and the lifecycle events any process can follow.
func ExampleMux() {
	mr, _ := miniredis.Run()
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	q := queue.NewClient(rdb, queue.Config{}).Queue("media")

	type resize struct {
		URL   string `json:"url"`
		Width int    `json:"width"`
	}
	mux := queue.NewMux()
	mux.HandleFunc("resize-image", func(ctx context.Context, job *queue.Job) (any, error) {
		var r resize
		if err := json.Unmarshal(job.Data, &r); err != nil {
			// Retrying cannot fix malformed data: fail now.
			return nil, queue.SkipRetry(fmt.Errorf("malformed job: %w", err))
		}
		job.ReportProgress(ctx, 50)
		return map[string]int{"width": r.Width}, nil
	})
	mux.HandleFunc("transcode-video", func(ctx context.Context, job *queue.Job) (any, error) {
		return nil, errors.New("no codec")
	})

	// Follow the queue's lifecycle, from any process.
	events := q.Events(ctx, "$")

	w := queue.NewWorker(q, mux, queue.WorkerConfig{Concurrency: 10})
	wctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { w.Run(wctx); close(stopped) }()

	img, _ := q.Add(ctx, "resize-image", []byte(`{"url":"a.png","width":640}`), queue.JobOptions{RemoveOnComplete: queue.Keep})
	bad, _ := q.Add(ctx, "resize-image", []byte(`not json`), queue.JobOptions{})
	for e, err := range events {
		if err != nil {
			panic(err)
		}
		if e.Type == queue.EventCompleted && e.JobID == img.ID {
			break
		}
	}
	done, _ := q.Get(ctx, img.ID)
	fmt.Println(done.State, string(done.Result), string(done.Progress))
	for {
		if j, _ := q.Get(ctx, bad.ID); j.State == queue.StateFailed {
			fmt.Println(j.State, "after", j.Attempt, "attempt:", j.Error)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-stopped
	// Output:
	// completed {"width":640} 50
	// failed after 1 attempt: malformed job: invalid character 'o' in literal null (expecting 'u')
}
