package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckURLRefuses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, url string }{
		{"scheme ftp", "ftp://example.com/x"},
		{"scheme file", "file:///etc/passwd"},
		{"no host", "http:///x"},
		{"relative", "/api/hook"},
		{"credentials", "https://user:pw@example.com/"},
		{"loopback v4", "http://127.0.0.1:8080/hook"},
		{"loopback other", "http://127.9.9.9/"},
		{"loopback v6", "http://[::1]/hook"},
		{"localhost name", "http://localhost:9/hook"},
		{"private 10", "http://10.1.2.3/"},
		{"private 172", "https://172.16.0.1/"},
		{"private 192", "http://192.168.1.1/"},
		{"unique local v6", "http://[fd00::1]/"},
		{"link-local", "http://169.254.10.10/"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/"},
		{"aws metadata v6", "http://[fd00:ec2::254]/"},
		{"alibaba metadata", "http://100.100.100.200/"},
		{"link-local v6", "http://[fe80::1]/"},
		{"unspecified", "http://0.0.0.0/"},
		{"mapped loopback", "http://[::ffff:127.0.0.1]/"},
		{"nat64 private", "http://[64:ff9b::a00:1]/"},
		{"multicast", "http://224.0.0.1/"},
	} {
		err := CheckURL(ctx, tc.url, false)
		if !errors.Is(err, ErrUnsafeURL) {
			t.Errorf("%s: CheckURL(%q) = %v; want ErrUnsafeURL", tc.name, tc.url, err)
		}
	}
	for _, ok := range []string{"https://93.184.215.14/hook", "http://[2606:4700::1111]:8080/x"} {
		if err := CheckURL(ctx, ok, false); err != nil {
			t.Errorf("CheckURL(%q) = %v; want nil", ok, err)
		}
	}
	// Allowed, private addresses pass; the form is still checked.
	if err := CheckURL(ctx, "http://127.0.0.1:8080/hook", true); err != nil {
		t.Errorf("allowPrivate: %v", err)
	}
	if err := CheckURL(ctx, "ftp://127.0.0.1/", true); !errors.Is(err, ErrUnsafeURL) {
		t.Errorf("allowPrivate ftp: %v", err)
	}
}

func TestBlocked(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fc00::1", "100.64.0.1", "0.1.2.3", "255.255.255.255", "2002:7f00:1::1"} {
		if !Blocked(netip.MustParseAddr(s)) {
			t.Errorf("Blocked(%s) = false", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"} {
		if Blocked(netip.MustParseAddr(s)) {
			t.Errorf("Blocked(%s) = true", s)
		}
	}
}

// TestClientRefusesAtConnect: the dialer checks the address it connects
// to, whatever the URL was checked against when saved.
func TestClientRefusesAtConnect(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, u := range []string{srv.URL, "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]} {
		_, err := NewClient(5*time.Second, false).Post(u, "application/json", nil)
		if !errors.Is(err, errBlockedDial) {
			t.Errorf("POST %s: err = %v; want the dialer's refusal", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the receiver got %d requests; want none", hits.Load())
	}
	res, err := NewClient(5*time.Second, true).Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("allowPrivate: %v", err)
	}
	res.Body.Close()
	if hits.Load() != 1 {
		t.Fatalf("allowPrivate: %d requests; want 1", hits.Load())
	}
}

// TestClientFollowsNoRedirect: a redirect is the receiver's answer, never
// followed (it could point at an internal address).
func TestClientFollowsNoRedirect(t *testing.T) {
	var internal atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { internal.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	res, err := NewClient(5*time.Second, true).Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || internal.Load() != 0 {
		t.Fatalf("status %d, %d requests at the target; want 307 and none", res.StatusCode, internal.Load())
	}
}
