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
	"runtime/debug"
	"syscall"

	"github.com/eventsd/eventsd/internal/config"
)

// defaultGOGC is the garbage collector's target when GOGC is not set: a
// heap may grow to 5 times what is live between collections, where Go's
// default is 2. eventsd's live heap is small (12-16 MB in the soak), so Go's
// default collected every few megabytes: at 70,000 jobs/s, about one
// collection per thousand jobs, a third of the process's CPU. GOGC and
// GOMEMLIMIT, when set, decide as usual.
const defaultGOGC = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
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
