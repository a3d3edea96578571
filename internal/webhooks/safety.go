package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrUnsafeURL is a receiver URL refused: not http or https, or at an
// address that is not public.
var ErrUnsafeURL = errors.New("webhook URL refused")

// blockedPrefixes are addresses no receiver may have besides those the
// netip predicates catch (loopback, private, link-local, unspecified,
// multicast): shared address space (RFC 6598, where Alibaba Cloud's
// metadata service sits), "this network", IETF protocol assignments and
// benchmarking, broadcast, and IPv4 embedded in IPv6 by NAT64 or 6to4,
// which could reach the IPv4 addresses refused here.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// Blocked reports whether a receiver may not be at ip: loopback, private
// (RFC 1918, IPv6 unique local, which holds AWS's fd00:ec2::254 metadata
// address), link-local (169.254.169.254, the usual cloud metadata address,
// among them), unspecified, multicast, or one of blockedPrefixes.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// CheckURL returns an error wrapping ErrUnsafeURL unless raw is an absolute
// http or https URL whose host resolves only to public addresses. With
// allowPrivate only the form is checked.
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrUnsafeURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: want an http or https URL", ErrUnsafeURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrUnsafeURL)
	}
	if u.User != nil {
		return fmt.Errorf("%w: credentials in the URL are not supported; the signature authenticates deliveries", ErrUnsafeURL)
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if Blocked(ip) {
			return fmt.Errorf("%w: %s is not a public address (WEBHOOKS_ALLOW_PRIVATE=true allows it)", ErrUnsafeURL, host)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%w: host %s does not resolve", ErrUnsafeURL, host)
	}
	for _, ip := range addrs {
		if Blocked(ip) {
			return fmt.Errorf("%w: %s resolves to %s, not a public address (WEBHOOKS_ALLOW_PRIVATE=true allows it)", ErrUnsafeURL, host, ip)
		}
	}
	return nil
}

// errBlockedDial is a connection refused by the dialer's check.
var errBlockedDial = errors.New("refused to connect to a non-public address")

// NewClient returns the HTTP client deliveries use: timeout per request, no
// proxy (a proxy would connect on our behalf, past the check), no redirects
// followed (a 3xx is the receiver's answer), and, unless allowPrivate, a
// dialer that checks the address it is about to connect to, after name
// resolution, so that DNS answers changing between check and use cannot
// reach a private address.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", errBlockedDial, address)
			}
			if Blocked(ap.Addr()) {
				return fmt.Errorf("%w: %s", errBlockedDial, ap.Addr())
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
