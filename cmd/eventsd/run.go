package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/eventsd/eventsd/internal/config"
	"github.com/redis/go-redis/v9"
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
			return report(startupLogger(args, getenv, stderr), err)
		}
		log := cfg.Logger(stderr)
		// go-redis logs pool and dial problems of its own; through slog they
		// are records like the others (JSON with LOG_FORMAT=json).
		redis.SetLogger(redisLogger{log})
		if err := serve(ctx, cfg, cmd == "dev", log); err != nil {
			return report(log, err)
		}
		return nil
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

// errReported marks an error that run has already logged: main exits
// with it without printing it again.
var errReported = errors.New("reported")

// report logs the error that stops eventsd as a record, so that with
// LOG_FORMAT=json the last line is JSON too, and marks it reported.
func report(log *slog.Logger, err error) error {
	log.Error("eventsd stopped on an error", "err", err)
	return fmt.Errorf("%w: %w", errReported, err)
}

// startupLogger is the logger for settings that did not load: as the
// settings ask, as far as they can be read, else text.
func startupLogger(args []string, getenv func(string) string, w io.Writer) *slog.Logger {
	format := getenv("LOG_FORMAT")
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--log-format="); ok {
			format = v
		} else if (a == "--log-format" || a == "-log-format") && i+1 < len(args) {
			format = args[i+1]
		}
	}
	return config.NewLogger(w, slog.LevelInfo, strings.TrimSpace(format))
}

// redisLogger passes go-redis's log lines to slog, as warnings: it logs
// only problems (a failed dial, a bad connection dropped from its pool).
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "component", "go-redis")
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

// versionString is eventsd's version, as `eventsd version` and the health
// endpoint show it.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	return versionFrom(version, info)
}

// versionFrom words a version: the one stamped with -ldflags "-X
// main.version=...", else the module's (a tagged `go install ...@v1.2.3`),
// else "dev"; followed by the commit it was built from, when the build
// recorded one (a build inside a git checkout does), marked modified when the
// working tree had uncommitted changes.
func versionFrom(stamped string, info *debug.BuildInfo) string {
	v := stamped
	if v == "" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "dev"
	}
	if info == nil {
		return v
	}
	var rev string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch {
	case rev == "":
	case modified:
		v += " (" + rev + ", modified)"
	default:
		v += " (" + rev + ")"
	}
	return v
}
