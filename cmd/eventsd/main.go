// Command eventsd is a Redis job queue with a producer, a processor, cron
// schedules and a REST API, persisting events to MongoDB, PostgreSQL or SQLite.
// `eventsd help` lists its commands and settings.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/eventsd/eventsd/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks for a graceful stop; a second one kills.
	go func() { <-ctx.Done(); stop() }()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(os.Stderr, "eventsd:", config.Redact(err.Error()))
		}
		os.Exit(1)
	}
}
