package bench

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPOptions says what the HTTP benchmark does. Zero values mean defaults.
type HTTPOptions struct {
	// URL is a running eventsd's base URL (default http://localhost:9000).
	URL string
	// Concurrency is how many requests are in flight at once (default 50).
	Concurrency int
	// Duration is how long the load runs (default 10 s). Requests under way
	// then finish; none starts after.
	Duration time.Duration
	// Token is the bearer token the server's API needs, if any; it is sent
	// with every request, reads included.
	Token string
	// Timeout bounds each request (default 10 s); one past it is an error.
	Timeout time.Duration
	// Progress, when set, hears how each phase advances (done of total).
	Progress func(phase string, done, total int)
}

// HTTPResult holds every figure the HTTP benchmark measures.
type HTTPResult struct {
	Kind        string  `json:"kind"` // "http"
	URL         string  `json:"url"`
	Concurrency int     `json:"concurrency"`
	DurationSec float64 `json:"durationSec"` // as measured, until the last request ended

	// All requests, POST /api/events and GET /api/events/{id} alike. Latency
	// is from sending a request until its response body was read. ReqPerSec
	// and the latencies count only requests that got their expected status:
	// a server answering errors fast is not fast. Requests counts all.
	Requests  int     `json:"requests"`
	ReqPerSec float64 `json:"reqPerSec"`
	P50Ms     float64 `json:"p50Ms"`
	P90Ms     float64 `json:"p90Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`

	Create OpResult `json:"create"` // POST /api/events
	Get    OpResult `json:"get"`    // GET /api/events/{id}

	// Errors counts requests that did not get their expected status (201,
	// 200). ErrorsByStatus breaks them down by status code, and "transport"
	// for those that got no response (refused, reset, timed out).
	Errors         int            `json:"errors"`
	ErrorsByStatus map[string]int `json:"errorsByStatus"`

	// DeletedEvents is how many of the events the run created it deleted
	// afterwards, through DELETE /api/events/{id}; CleanupErrors those it could not.
	DeletedEvents int `json:"deletedEvents"`
	CleanupErrors int `json:"cleanupErrors"`

	// The load generator's own cost: it shares the machine with the server
	// when both run on it.
	CPUSeconds   float64 `json:"cpuSeconds"`
	PeakRSSBytes int64   `json:"peakRssBytes"`
}

// OpResult is one endpoint's share of an HTTP run.
type OpResult struct {
	Requests  int     `json:"requests"`
	ReqPerSec float64 `json:"reqPerSec"`
	P50Ms     float64 `json:"p50Ms"`
	P90Ms     float64 `json:"p90Ms"`
	P99Ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
}

// eventName is the name of every event the benchmark creates.
const eventName = "eventsd-bench"

// HTTP drives a running eventsd's API for o.Duration at a fixed concurrency:
// each connection creates an event (POST /api/events) and reads it back
// (GET /api/events/{id}), over and over. It then deletes the events it
// created, unmeasured. It fails at once if nothing answers at o.URL.
func HTTP(ctx context.Context, o HTTPOptions) (HTTPResult, error) {
	o.URL = strings.TrimSuffix(cmp.Or(o.URL, "http://localhost:9000"), "/")
	o.Concurrency = cmp.Or(o.Concurrency, 50)
	o.Duration = cmp.Or(o.Duration, 10*time.Second)
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	if o.Progress == nil {
		o.Progress = func(string, int, int) {}
	}
	res := HTTPResult{Kind: "http", URL: o.URL, Concurrency: o.Concurrency, ErrorsByStatus: map[string]int{}}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.Concurrency,
		MaxIdleConnsPerHost: o.Concurrency, // the default, 2, would redial for almost every request
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	g := &loadGen{o: o, client: &http.Client{Transport: tr, Timeout: o.Timeout}}
	if err := g.probe(ctx); err != nil {
		return res, err
	}
	cpu0, _ := usage()

	workers := make([]*loadWorker, o.Concurrency)
	start := time.Now()
	deadline := start.Add(o.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		w := &loadWorker{g: g, errs: map[string]int{}}
		workers[i] = w
		wg.Go(func() { w.run(ctx, deadline) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	total := int(o.Duration / time.Second)
	tick := time.NewTicker(250 * time.Millisecond)
	for running := true; running; {
		o.Progress("load", int(time.Since(start)/time.Second), total)
		select {
		case <-tick.C:
		case <-done:
			running = false
		}
	}
	tick.Stop()
	elapsed := time.Since(start).Seconds()

	var all, creates, gets []time.Duration
	var ids []string
	for _, w := range workers {
		creates = append(creates, w.creates...)
		gets = append(gets, w.gets...)
		ids = append(ids, w.ids...)
		for k, n := range w.errs {
			res.ErrorsByStatus[k] += n
			res.Errors += n
		}
	}
	if err := ctx.Err(); err != nil {
		// Even an interrupted run deletes what it created.
		g.cleanup(context.WithoutCancel(ctx), ids)
		return res, err
	}
	all = append(slices.Clip(creates), gets...)
	res.DurationSec = round(elapsed, 2)
	res.Requests = len(all) + res.Errors
	res.ReqPerSec = round(float64(len(all))/elapsed, 0)
	p := summarize(all)
	res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs = p.p50, p.p90, p.p99, p.max
	res.Create = opResult(creates, elapsed)
	res.Get = opResult(gets, elapsed)
	cpu1, rss := usage()
	res.CPUSeconds = round((cpu1 - cpu0).Seconds(), 2)
	res.PeakRSSBytes = rss
	res.DeletedEvents, res.CleanupErrors = g.cleanup(context.WithoutCancel(ctx), ids)
	return res, nil
}

func opResult(d []time.Duration, elapsed float64) OpResult {
	p := summarize(d)
	return OpResult{Requests: len(d), ReqPerSec: round(float64(len(d))/elapsed, 0),
		P50Ms: p.p50, P90Ms: p.p90, P99Ms: p.p99, MaxMs: p.max}
}

type loadGen struct {
	o      HTTPOptions
	client *http.Client
}

// probe checks that an eventsd answers, so that a wrong URL fails at once
// instead of after a run of errors.
func (g *loadGen) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.o.URL+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("--url %s: %w", g.o.URL, err)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("no eventsd answers at %s: %w (start one with eventsd dev, or pass --url)", g.o.URL, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/healthz answered %s: is it an eventsd?", g.o.URL, resp.Status)
	}
	return nil
}

// do sends one request and reads the whole response. It returns the status
// and the Location header, or 0 with an error when there was no response.
func (g *loadGen) do(ctx context.Context, method, url string, body []byte) (int, string, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if g.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.o.Token)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	// Read it all: the latency includes the body, and a drained body lets
	// the connection be reused.
	_, err = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

// loadWorker is one connection's loop and what it measured.
type loadWorker struct {
	g       *loadGen
	creates []time.Duration
	gets    []time.Duration
	ids     []string       // events created
	errs    map[string]int // status (or "transport") → count
}

var createBody = []byte(`{"name":"` + eventName + `"}`)

func (w *loadWorker) run(ctx context.Context, deadline time.Time) {
	base := w.g.o.URL + "/api/events"
	for ctx.Err() == nil && time.Now().Before(deadline) {
		t0 := time.Now()
		status, loc, err := w.g.do(ctx, http.MethodPost, base, createBody)
		took := time.Since(t0)
		if !w.check(status, err, http.StatusCreated) {
			continue
		}
		if loc == "" {
			w.errs["201 without Location"]++
			continue
		}
		id := path.Base(loc)
		w.creates = append(w.creates, took)
		w.ids = append(w.ids, id)

		if time.Now().After(deadline) {
			return
		}
		t0 = time.Now()
		status, _, err = w.g.do(ctx, http.MethodGet, base+"/"+id, nil)
		took = time.Since(t0)
		if w.check(status, err, http.StatusOK) {
			w.gets = append(w.gets, took)
		}
	}
}

// check counts a request that did not get status want as an error.
func (w *loadWorker) check(status int, err error, want int) bool {
	switch {
	case status == 0 && err != nil:
		if !errors.Is(err, context.Canceled) {
			w.errs["transport"]++
		}
		return false
	case status != want:
		w.errs[strconv.Itoa(status)]++
		return false
	}
	return true
}

// cleanup deletes the events the run created, unmeasured, and says how many
// it deleted and how many it could not.
func (g *loadGen) cleanup(ctx context.Context, ids []string) (deleted, failed int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for range g.o.Concurrency {
		wg.Go(func() {
			for id := range next {
				status, _, err := g.do(ctx, http.MethodDelete, g.o.URL+"/api/events/"+id, nil)
				mu.Lock()
				if err == nil && (status == http.StatusNoContent || status == http.StatusNotFound) {
					deleted++
				} else {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	for i, id := range ids {
		if i%100 == 0 {
			g.o.Progress("cleanup", i, len(ids))
		}
		next <- id
	}
	close(next)
	wg.Wait()
	return deleted, failed
}
