package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client sends the fuzzer's requests to one server.
type client struct {
	base string
	host string // host:port, for raw connections
	http *http.Client
}

func newClient(base string) *client {
	u, _ := url.Parse(base)
	return &client{
		base: strings.TrimSuffix(base, "/"),
		host: u.Host,
		http: &http.Client{
			Timeout: 30 * time.Second,
			// Every answer is checked as it is, redirects included.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// answer is what the server sent back; body is cut at maxBody.
type answer struct {
	status int
	header http.Header
	body   []byte
}

const maxBody = 1 << 20

func (c *client) document(ctx context.Context) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/openapi.json", nil)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the OpenAPI document: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/openapi.json: %s", res.Status)
	}
	return io.ReadAll(res.Body)
}

// seed creates an event and a few jobs, so that valid requests have real
// ids to reach.
func (c *client) seed(ctx context.Context, g *gen) error {
	post := func(path, body string, v any) error {
		req := request{method: http.MethodPost, target: path, body: []byte(body),
			header: http.Header{"Content-Type": {"application/json"}}}
		if g.tokens.write != "" {
			req.header.Set("Authorization", "Bearer "+g.tokens.write)
		}
		ans, err := c.send(ctx, req)
		if err != nil {
			return err
		}
		if ans.status >= 300 {
			return fmt.Errorf("POST %s: %d %s", path, ans.status, ans.body)
		}
		return json.Unmarshal(ans.body, v)
	}
	for range 5 {
		var ev struct{ ID string }
		if err := post("/api/events", `{"name": "apifuzz.seed"}`, &ev); err != nil {
			return fmt.Errorf("seed an event: %w", err)
		}
		g.eventIDs = append(g.eventIDs, ev.ID)
	}
	var jobs struct{ JobIDs []string }
	if err := post("/api/events/generate-mock", `{"count": 5}`, &jobs); err != nil {
		return fmt.Errorf("seed jobs: %w", err)
	}
	g.jobIDs = jobs.JobIDs
	return nil
}

// send sends a request and reads the answer. An SSE stream that opens is
// read no further than its headers.
func (c *client) send(ctx context.Context, r request) (answer, error) {
	if r.raw != "" {
		return c.sendRaw(ctx, r.raw)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.target, body)
	if err != nil {
		return answer{}, err
	}
	req.Header = r.header.Clone()
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return a, nil
	}
	a.body, err = io.ReadAll(io.LimitReader(res.Body, maxBody))
	return a, err
}

func (c *client) sendRaw(ctx context.Context, raw string) (answer, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.host)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		return answer{}, err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{}, err
	}
	// No res.Body.Close: it would read an SSE stream to its end. Closing
	// the connection ends the body.
	a := answer{status: res.StatusCode, header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return a, nil
	}
	a.body, err = io.ReadAll(io.LimitReader(res.Body, maxBody))
	return a, err
}

func pathOf(target string) string {
	p, _, _ := strings.Cut(target, "?")
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
