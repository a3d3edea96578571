package main

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy between eventsd and a server (the event store), so
// that a test can take the server away from one eventsd process without
// touching the server itself or any other process using it.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[*proxyConn]struct{}
	wg    sync.WaitGroup
}

type proxyMode int

const (
	// forward passes bytes both ways.
	forward proxyMode = iota
	// cut closes every connection and each new one at once: the server is
	// gone.
	cut
	// dropReplies passes requests to the server but throws away what it
	// answers: calls reach the server and their effects land, but the
	// client waits for answers that never come.
	dropReplies
)

type proxyConn struct {
	client, server net.Conn
	drop           atomic.Bool
}

func (c *proxyConn) close() {
	c.client.Close()
	c.server.Close()
}

// startProxy listens on a loopback port and forwards to target until the
// test ends.
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: map[*proxyConn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.set(cut)
		p.wg.Wait()
	})
	return p
}

// Addr is the host:port clients dial.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		if mode == cut {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.mode != mode { // changed while dialling
			p.mu.Unlock()
			c.close()
			continue
		}
		c.drop.Store(mode == dropReplies)
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() {
			io.Copy(server, client)
			p.forget(c)
		})
		p.wg.Go(func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !c.drop.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			p.forget(c)
		})
	}
}

func (p *proxy) forget(c *proxyConn) {
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// set switches the proxy's mode. Cutting closes every connection; going
// back to forward after dropReplies closes them too, since their answers
// are out of step with their requests.
func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.mode
	p.mode = m
	for c := range p.conns {
		switch {
		case m == cut, m == forward && old == dropReplies:
			c.close()
			delete(p.conns, c)
		case m == dropReplies:
			c.drop.Store(true)
		}
	}
}
