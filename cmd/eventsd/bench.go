package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/eventsd/eventsd/internal/bench"
	"github.com/eventsd/eventsd/internal/config"
	"github.com/redis/go-redis/v9"
)

// runBench runs `eventsd bench queue`.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(stdout, "usage: eventsd bench queue [--jobs N] [--concurrency N] [--payload-size N] [--json]")
		return nil
	}
	kind, args := args[0], args[1:]
	if kind != "queue" {
		return fmt.Errorf("unknown benchmark %q", kind)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.QueueOptions
	fs.IntVar(&o.Jobs, "jobs", 100_000, "jobs to add and process")
	fs.IntVar(&o.Concurrency, "concurrency", 100, "worker concurrency")
	fs.IntVar(&o.PayloadSize, "payload-size", 64, "bytes of job data")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return err
	}
	opts, err := cfg.RedisOptions()
	if err != nil {
		return err
	}
	rdb := redis.NewUniversalClient(opts)
	defer rdb.Close()
	res, err := bench.Queue(ctx, rdb, o)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	_, err = fmt.Fprintln(stdout, string(b))
	return err
}
