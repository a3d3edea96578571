package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventsd/eventsd/internal/events"
	"github.com/eventsd/eventsd/queue"
	"github.com/redis/go-redis/v9"
)

// runResult is what run leaves for verify in run.json.
type runResult struct {
	Duration    string  `json:"duration"`
	Warmup      string  `json:"warmup"`
	JobsRate    int     `json:"jobsRate"`
	HTTPRate    int     `json:"httpRate"`
	SSEClients  int     `json:"sseClients"`
	JobsAdded   int64   `json:"jobsAdded"`
	AddErrors   int64   `json:"addErrors"`
	HTTPDone    int64   `json:"httpRequests"`
	HTTPErrors  int64   `json:"httpErrors"`
	SSEEvents   int64   `json:"sseEvents"`
	SSEErrors   int64   `json:"sseErrors"`  // a stream that would not open, or broke without saying why
	SSEResumes  int64   `json:"sseResumes"` // a stream the server ended (fell behind) and the client resumed
	JobsFailed  int64   `json:"jobsFailed"` // FailedTotal at the end
	Drained     bool    `json:"drained"`    // the queue emptied after the load stopped
	JobsPerSec  float64 `json:"jobsPerSec"` // as achieved
	HTTPPerSec  float64 `json:"httpPerSec"`
	LoadAverage string  `json:"loadAverage"` // /proc/loadavg at the end
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("soak run", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:19400", "eventsd's base URL (loopback)")
	redisURL := fs.String("redis", "redis://127.0.0.1:6390/0", "the Redis eventsd uses (loopback)")
	prefix := fs.String("prefix", "eventsd", "eventsd's QUEUE_PREFIX")
	out := fs.String("out", "", "directory for samples.csv and run.json (required)")
	duration := fs.Duration("duration", 10*time.Minute, "how long the load runs")
	warmup := fs.Duration("warmup", time.Minute, "samples before this are not checked")
	jobsRate := fs.Int("jobs-rate", 2000, "jobs added a second")
	httpRate := fs.Int("http-rate", 500, "HTTP requests a second")
	sse := fs.Int("sse", 20, "SSE clients attached")
	every := fs.Duration("every", 10*time.Second, "time between samples")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	for _, raw := range []string{*base, *redisURL} {
		if err := loopbackOnly(raw); err != nil {
			return err
		}
	}
	ropt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	q := queue.NewClient(rdb, queue.Config{Prefix: *prefix}).Queue(events.QueueName)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := &soak{base: strings.TrimSuffix(*base, "/"), q: q, rdb: rdb,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}}
	// A fixed pool of connections, as a proxy in front of eventsd would
	// keep: the server's open fds then measure the server, not how bursty
	// the load generator was. One client of one connection each, taken in
	// turn, so that every connection stays busy: a pool that opened
	// connections on demand (up to 64) left some idle after a slow moment
	// until the server's 2-minute idle timeout closed them, and the
	// server's fds followed (85-128 in one run).
	for range loadConns {
		s.conns = append(s.conns, &http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}})
	}

	f, err := os.Create(filepath.Join(*out, "samples.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write(sampleHeader)

	loadCtx, stopLoad := context.WithTimeout(ctx, *duration)
	defer stopLoad()
	sseCtx, stopSSE := context.WithCancel(ctx)
	defer stopSSE()
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { s.addJobs(loadCtx, *jobsRate) })
	wg.Go(func() { s.requests(loadCtx, *httpRate) })
	var sseWG sync.WaitGroup
	for range *sse {
		sseWG.Go(func() { s.stream(sseCtx) })
	}

	tick := time.NewTicker(*every)
	defer tick.Stop()
	sample := func() error {
		row, err := s.sample(ctx, time.Since(start))
		if err != nil {
			return err
		}
		w.Write(row)
		w.Flush()
		fmt.Fprintln(os.Stderr, "soak:", strings.Join(row, " "))
		return w.Error()
	}
	if err := sample(); err != nil {
		return err
	}
sampling:
	for {
		select {
		case <-loadCtx.Done():
			break sampling
		case <-tick.C:
			if err := sample(); err != nil {
				return err
			}
		}
	}
	elapsed := time.Since(start)
	wg.Wait()
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}

	// Let the worker finish what was added, with the SSE clients still
	// attached, then detach them.
	res := runResult{Duration: duration.String(), Warmup: warmup.String(), JobsRate: *jobsRate,
		HTTPRate: *httpRate, SSEClients: *sse}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		c, err := q.Counts(ctx)
		if err == nil && c.Waiting+c.Active+c.Delayed+c.Paused == 0 {
			res.Drained = true
			res.JobsFailed = c.FailedTotal
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopSSE()
	sseWG.Wait()

	res.JobsAdded, res.AddErrors = s.jobsAdded.Load(), s.addErrors.Load()
	res.HTTPDone, res.HTTPErrors = s.httpDone.Load(), s.httpErrors.Load()
	res.SSEEvents, res.SSEErrors, res.SSEResumes = s.sseEvents.Load(), s.sseErrors.Load(), s.sseResumes.Load()
	res.JobsPerSec = float64(res.JobsAdded) / elapsed.Seconds()
	res.HTTPPerSec = float64(res.HTTPDone) / elapsed.Seconds()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAverage = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	return os.WriteFile(filepath.Join(*out, "run.json"), append(b, '\n'), 0o644)
}

// loopbackOnly refuses a URL whose host is not a loopback address: the soak
// puts heavy load on what it talks to.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%s: the soak talks to loopback addresses only", raw)
	}
	return nil
}

type soak struct {
	base   string
	q      *queue.Queue
	rdb    *redis.Client
	client *http.Client   // for /metrics
	conns  []*http.Client // for the load, taken in turn
	next   atomic.Uint64

	jobsAdded, addErrors             atomic.Int64
	httpDone, httpErrors             atomic.Int64
	sseEvents, sseErrors, sseResumes atomic.Int64

	idsMu sync.Mutex
	ids   []string // recent event ids the load created, for GETs
}

// addJobs adds mock-data jobs, paced to rate a second on average, in bulk
// every 50 ms as a producer under load would.
func (s *soak) addJobs(ctx context.Context, rate int) {
	p := events.NewProducer(s.q, events.ProducerConfig{})
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due := int64(time.Since(start).Seconds()*float64(rate)) - s.jobsAdded.Load() - s.addErrors.Load()
		for due > 0 {
			n := min(due, 1000)
			ids, err := p.GenerateMock(ctx, int(n))
			if err != nil {
				if ctx.Err() == nil {
					s.addErrors.Add(n)
				}
				break
			}
			s.jobsAdded.Add(int64(len(ids)))
			due -= n
		}
	}
}

// loadConns is how many connections the HTTP load keeps open.
const loadConns = 16

// requests sends rate HTTP requests a second, paced, from a pool of
// connections: 40 % create an event, 40 % read one back, 20 % list a page.
func (s *soak) requests(ctx context.Context, rate int) {
	const workers = 256
	work := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range work {
				s.request(ctx)
			}
		})
	}
	start := time.Now()
	var sent int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		for due := int64(time.Since(start).Seconds()*float64(rate)) - sent; due > 0; due-- {
			select {
			case work <- struct{}{}:
				sent++
			default: // every worker busy: the server is behind; the count shows it
				sent++
			}
		}
	}
	close(work)
	wg.Wait()
}

func (s *soak) request(ctx context.Context) {
	var req *http.Request
	switch r := rand.IntN(10); {
	case r < 4:
		body := fmt.Sprintf(`{"name":"soak.http","data":{"n":%d}}`, rand.IntN(1000))
		req, _ = http.NewRequestWithContext(ctx, "POST", s.base+"/api/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	case r < 8:
		id := s.someID()
		if id == "" {
			return
		}
		req, _ = http.NewRequestWithContext(ctx, "GET", s.base+"/api/events/"+id, nil)
	default:
		req, _ = http.NewRequestWithContext(ctx, "GET", s.base+"/api/events?limit=20", nil)
	}
	resp, err := s.conns[s.next.Add(1)%uint64(len(s.conns))].Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.httpErrors.Add(1)
			s.httpDone.Add(1)
		}
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	s.httpDone.Add(1)
	if resp.StatusCode >= 300 {
		s.httpErrors.Add(1)
		return
	}
	if req.Method == "POST" {
		var e struct{ ID string }
		if json.Unmarshal(b, &e) == nil && e.ID != "" {
			s.addID(e.ID)
		}
	}
}

func (s *soak) addID(id string) {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if len(s.ids) >= 1000 {
		s.ids[rand.IntN(len(s.ids))] = id
		return
	}
	s.ids = append(s.ids, id)
}

func (s *soak) someID() string {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if len(s.ids) == 0 {
		return ""
	}
	return s.ids[rand.IntN(len(s.ids))]
}

// stream keeps one SSE client attached until ctx ends, resuming after the
// last id it saw when the server ends the stream.
func (s *soak) stream(ctx context.Context) {
	last := ""
	client := &http.Client{} // no timeout: a stream lasts
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/api/jobs/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				s.sseErrors.Add(1)
				time.Sleep(time.Second)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			s.sseErrors.Add(1)
			time.Sleep(time.Second)
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		ended := false // the server said why it ended the stream
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case bytes.HasPrefix(line, []byte("id:")):
				last = strings.TrimSpace(string(line[3:]))
			case bytes.HasPrefix(line, []byte("event: error")):
				ended = true
			case bytes.HasPrefix(line, []byte("data:")):
				s.sseEvents.Add(1)
			}
		}
		resp.Body.Close()
		switch {
		case ctx.Err() != nil:
		case ended:
			s.sseResumes.Add(1)
		default:
			s.sseErrors.Add(1)
		}
	}
}

var sampleHeader = []string{"seconds", "redis_used_memory", "rss_bytes", "goroutines", "open_fds",
	"jobs_added", "http_requests", "http_errors", "sse_events", "queue_waiting", "load1"}

// sample reads the figures the soak watches.
func (s *soak) sample(ctx context.Context, at time.Duration) ([]string, error) {
	info, err := s.rdb.InfoMap(ctx, "memory").Result()
	if err != nil {
		return nil, fmt.Errorf("redis INFO: %w", err)
	}
	used := info["Memory"]["used_memory"]
	m, err := s.metrics(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.q.Counts(ctx)
	if err != nil {
		return nil, err
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Fields(string(b))[0]
	}
	return []string{strconv.FormatFloat(at.Seconds(), 'f', 1, 64), used,
		m["process_resident_memory_bytes"], m["go_goroutines"], m["process_open_fds"],
		strconv.FormatInt(s.jobsAdded.Load(), 10), strconv.FormatInt(s.httpDone.Load(), 10),
		strconv.FormatInt(s.httpErrors.Load(), 10), strconv.FormatInt(s.sseEvents.Load(), 10),
		strconv.FormatInt(c.Waiting, 10), load}, nil
}

// metrics reads the unlabelled gauges of /metrics, as printed.
func (s *soak) metrics(ctx context.Context) (map[string]string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/metrics", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("/metrics: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && !strings.HasPrefix(name, "#") && !strings.Contains(name, "{") {
			if f, err := strconv.ParseFloat(value, 64); err == nil {
				out[name] = strconv.FormatFloat(f, 'f', -1, 64)
			}
		}
	}
	for _, k := range []string{"process_resident_memory_bytes", "go_goroutines", "process_open_fds"} {
		if out[k] == "" {
			return nil, fmt.Errorf("/metrics has no %s", k)
		}
	}
	return out, sc.Err()
}
