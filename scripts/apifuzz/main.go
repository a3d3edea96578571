// Command apifuzz is a schema-driven black-box fuzz of a running eventsd's
// HTTP API. It reads the server's OpenAPI document, then sends requests
// built from it: valid ones, and ones with one thing broken (a parameter, a
// field, the body, its type or framing, the path, the method, the token, the
// origin). It reports every answer that breaks the API's promises:
//
//   - a 5xx status;
//   - an error status whose body is not an RFC 9457 problem with that status;
//   - a status the document does not list for the operation the request
//     reached (requests that reach none must get a 4xx problem).
//
// It exits 1 on any finding. The run is bounded by -n and -timeout, and
// a seed (-seed, printed) replays it. It sends traffic only to -url, which
// should be a server on this machine: scripts/check-api.sh starts one.
//
//	go run ./scripts/apifuzz -url http://127.0.0.1:9000 -n 3000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9000", "the eventsd to fuzz")
	flag.IntVar(&o.n, "n", 3000, "how many requests to send")
	flag.Uint64Var(&o.seed, "seed", 0, "random seed; 0 picks one (printed)")
	flag.StringVar(&o.tokens.write, "token", os.Getenv("API_TOKEN"), "the server's API_TOKEN, if any")
	flag.StringVar(&o.tokens.read, "read-token", os.Getenv("API_READ_TOKEN"), "the server's API_READ_TOKEN, if any")
	flag.StringVar(&o.tokens.metrics, "metrics-token", os.Getenv("METRICS_TOKEN"), "the server's METRICS_TOKEN, if any")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	flag.DurationVar(&o.wait, "wait", 0, "wait up to this long for the server to answer first")
	flag.StringVar(&o.openapiOut, "openapi-out", "", "also write the server's OpenAPI document to this file")
	flag.Parse()
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	findings, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apifuzz:", err)
		os.Exit(2)
	}
	if findings > 0 {
		os.Exit(1)
	}
}

type options struct {
	url     string
	n       int
	seed    uint64
	tokens  tokens
	timeout time.Duration
	// wait is how long to retry fetching the document while the server
	// starts.
	wait       time.Duration
	openapiOut string
}

// run fuzzes the server and reports to out; it returns how many findings
// there were.
func run(ctx context.Context, o options, out io.Writer) (int, error) {
	c := newClient(o.url)
	doc, err := c.document(ctx)
	for deadline := time.Now().Add(o.wait); err != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		doc, err = c.document(ctx)
	}
	if err != nil {
		return 0, err
	}
	if o.openapiOut != "" {
		if err := os.WriteFile(o.openapiOut, doc, 0o644); err != nil {
			return 0, err
		}
	}
	s, err := parseSpec(doc)
	if err != nil {
		return 0, err
	}
	g := &gen{r: rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)), s: s, tokens: o.tokens}
	if err := c.seed(ctx, g); err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "apifuzz: %d operations in %s; %d requests, seed %d\n", len(s.ops), o.url, o.n, o.seed)

	rep := newReport()
	for i := range o.n {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("stopped after %d requests: %w", i, ctx.Err())
		}
		req := g.next()
		t0 := time.Now()
		ans, err := c.send(ctx, req)
		if d := time.Since(t0); d > 5*time.Second {
			fmt.Fprintf(out, "slow (%s): %s %.200s %.200q took %v\n", req.kind, req.method, req.target, req.raw, d.Round(time.Millisecond))
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				return 0, fmt.Errorf("stopped after %d requests: %w", i, ctx.Err())
			}
			rep.find(req, 0, fmt.Sprintf("no answer: %v", err))
			continue
		}
		op := s.find(req.method, pathOf(req.target))
		rep.record(req, op, ans.status)
		for _, f := range check(req, op, ans) {
			rep.find(req, ans.status, f)
		}
	}
	rep.print(out)
	return len(rep.findings), nil
}
