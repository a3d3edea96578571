package queue_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

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
