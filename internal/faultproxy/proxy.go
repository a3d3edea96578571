// Package faultproxy is a TCP proxy for tests that puts a network's ordinary
// failures between a client and a server (Redis, MongoDB): connections cut,
// the server gone, and above all replies lost after the server acted on the
// request, which is what makes clients retry commands that already ran.
//
// It reads requests only to match them (a substring, such as a Lua script's
// SHA1 or a command name); it does not parse the protocol. A match on one
// read covers every request in it, so pipelined requests share their fate.
package faultproxy

import (
	"bytes"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from its own loopback address to a target.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu       sync.Mutex
	cut      bool
	silent   bool        // every reply is swallowed; connections stay open
	rules    []*dropRule // each drops the replies of the next n matching requests
	holes    [][]byte    // requests containing one of these are never forwarded
	randomP  float64     // chance that any request's reply is dropped
	rng      *rand.Rand
	conns    map[*conn]struct{}
	dropped  atomic.Int64
	requests atomic.Int64
}

type dropRule struct {
	match []byte
	left  int
}

type conn struct {
	client, server net.Conn
	// dropPending: a request whose reply must be lost went to the server; the
	// next bytes it sends are thrown away and the connection closed, so the
	// client sees a broken connection after the server acted.
	dropPending atomic.Bool
}

func (c *conn) close() {
	c.client.Close()
	c.server.Close()
}

// Start listens on a loopback port, forwarding to target (host:port), until
// the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[*conn]struct{}{}, rng: rand.New(rand.NewPCG(1, 2))}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.Cut(true)
		p.wg.Wait()
	})
	return p
}

// Addr is the host:port clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut, while on, closes every connection and refuses new ones: the server
// is gone. Off lets clients connect again.
func (p *Proxy) Cut(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = on
	if on {
		p.closeAllLocked()
	}
}

// Silence, while on, passes requests to the server but swallows every reply
// and keeps connections open: calls land, and clients wait for answers that
// never come (until their own timeouts). Turning it off closes the
// connections, whose replies are out of step with their requests.
func (p *Proxy) Silence(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = on
	if !on {
		p.closeAllLocked()
	}
}

// DropReplies makes the next n requests that contain match reach the server
// and run, and then loses their replies: the connection is closed as the
// reply arrives. Clients that retry on a broken connection send the request
// again.
func (p *Proxy) DropReplies(match string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &dropRule{match: []byte(match), left: n})
}

// DropRandom loses the reply of each request with probability prob, as
// DropReplies does; 0 stops it. seed makes a run repeatable.
func (p *Proxy) DropRandom(prob float64, seed uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.randomP = prob
	p.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Blackhole swallows every request containing match, unanswered, until
// Mend: a command lost on the way to the server.
func (p *Proxy) Blackhole(match string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holes = append(p.holes, []byte(match))
}

// Mend ends every DropReplies, DropRandom and Blackhole rule.
func (p *Proxy) Mend() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.holes, p.randomP = nil, nil, 0
}

// Dropped says how many replies the proxy has lost so far.
func (p *Proxy) Dropped() int64 { return p.dropped.Load() }

// Requests says how many reads of requests it has forwarded.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

func (p *Proxy) closeAllLocked() {
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused := p.cut
		p.mu.Unlock()
		if refused {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &conn{client: client, server: server}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.close()
			continue
		}
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.requestsOf(c) })
		p.wg.Go(func() { p.repliesOf(c) })
	}
}

// verdict says what to do with one read of requests.
func (p *Proxy) verdict(req []byte) (forward, dropReply bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.holes {
		if bytes.Contains(req, h) {
			return false, false
		}
	}
	for _, r := range p.rules {
		if r.left > 0 && bytes.Contains(req, r.match) {
			r.left--
			return true, true
		}
	}
	if p.randomP > 0 && p.rng.Float64() < p.randomP {
		return true, true
	}
	return true, false
}

func (p *Proxy) requestsOf(c *conn) {
	defer p.forget(c)
	buf := make([]byte, 64<<10)
	for {
		n, err := c.client.Read(buf)
		if n > 0 {
			forward, drop := p.verdict(buf[:n])
			if forward {
				if drop {
					c.dropPending.Store(true)
				}
				p.requests.Add(1)
				if _, werr := c.server.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) repliesOf(c *conn) {
	defer p.forget(c)
	buf := make([]byte, 64<<10)
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			silent := p.silent
			p.mu.Unlock()
			switch {
			case c.dropPending.Load():
				p.dropped.Add(1)
				return // forget closes both ends: the reply is lost
			case silent:
			default:
				if _, werr := c.client.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) forget(c *conn) {
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}
