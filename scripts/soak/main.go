// Command soak puts a running `eventsd serve` under steady load and watches
// whether it stays level. scripts/soak.sh starts the servers and runs it;
// it talks only to loopback addresses.
//
//	soak run    --url URL --redis URL --out DIR [--duration 10m] [--warmup 1m]
//	soak verify --out DIR (--sqlite FILE | --postgres URL)
//
// run adds jobs through the queue at --jobs-rate, sends --http-rate HTTP
// requests a second (POST /api/events, GET /api/events/{id}, GET
// /api/events) and keeps --sse clients on /api/jobs/events. Every 10 s it
// records Redis used_memory, the server's RSS, goroutines and open file
// descriptors (from /metrics) in DIR/samples.csv. When the time is up it
// stops the load, waits for the queue to drain and writes DIR/run.json.
//
// verify, run after the server has stopped, counts the events jobs left in
// the store, checks the run (after warm-up each figure within 10 % of its
// mean, no errors, one event per job), writes DIR/report.txt and
// DIR/soak.svg, and exits 1 when a check fails.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: soak run|verify [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "verify":
		err = verifyCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want run or verify", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}
