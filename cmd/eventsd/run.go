package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/eventsd/eventsd/internal/config"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// run is main without the process: testable.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "help"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "dev", "serve":
		cfg, err := config.Load(config.Command(cmd), args, getenv)
		if errors.Is(err, flag.ErrHelp) {
			return usage(stdout)
		}
		if err != nil {
			return err
		}
		return serve(ctx, cfg, cmd == "dev", stderr)
	case "bench":
		return runBench(ctx, args, getenv, stdout, stderr)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(stdout, "eventsd", versionString())
		return err
	case "help", "-h", "-help", "--help":
		return usage(stdout)
	}
	return fmt.Errorf("unknown command %q (eventsd help lists the commands)", cmd)
}

func usage(w io.Writer) error {
	fmt.Fprint(w, `eventsd: a Redis job queue with cron schedules and a REST API for events.

Commands:
  eventsd dev      run everything in one process with nothing installed: its
                   own Redis (redis-server when installed, else in-process;
                   DEV_REDIS) keeping the queue in --data-dir/redis unless
                   REDIS_URL is set, and events in SQLite in --data-dir
                   unless EVENTS_STORE says otherwise
  eventsd serve    run against Redis (REDIS_*) and the event store
                   EVENTS_STORE names: mongodb (MONGODB_URI, the default),
                   postgres (DATABASE_URL) or sqlite (DATA_DIR)
  eventsd bench    measure throughput and latency: eventsd bench help
  eventsd version  print the version

`)
	return config.Usage(w)
}

func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
