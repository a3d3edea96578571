package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// What a request needs to pass authorize.
type access int

const (
	accessOpen    access = iota // no token, ever
	accessAPI                   // Token, or ReadToken for GET and HEAD
	accessMetrics               // MetricsToken
)

// accessFor says what a request needs. Everything under /api
// needs a token when one is set, except what must stay reachable without
// one: the seed's health check, which monitors poll, and the docs, whose
// Swagger UI is where a user enters a token. Outside /api, only /metrics is
// guarded. A path is compared as sent: a non-canonical spelling of an open
// path (/api/./docs) is guarded, and the router refuses it anyway.
func accessFor(method, path string) access {
	switch {
	case path == "/metrics":
		return accessMetrics
	case path != "/api" && !strings.HasPrefix(path, "/api/"):
		return accessOpen
	case method != http.MethodGet && method != http.MethodHead:
		return accessAPI
	case path == "/api/events/health",
		path == "/api/docs", strings.HasPrefix(path, "/api/docs/"),
		strings.HasPrefix(path, "/api/openapi"):
		return accessOpen
	}
	return accessAPI
}

// token is a configured bearer token, kept as its SHA-256 sum: comparing
// sums in constant time hides both the token's content and its length.
type token struct {
	set bool
	sum [sha256.Size]byte
}

func newToken(s string) token {
	return token{set: s != "", sum: sha256.Sum256([]byte(s))}
}

// matches compares in constant time; an unset token matches nothing.
func (t token) matches(sum [sha256.Size]byte) bool {
	return subtle.ConstantTimeCompare(t.sum[:], sum[:]) == 1 && t.set
}

// authorize checks bearer tokens (see Config.Token, ReadToken and
// MetricsToken). It runs before routing, so that a request without a token
// learns nothing of the routes: an unauthenticated POST to an unknown /api
// path is a 401, not a 404. Tokens are never logged; the request log holds
// no headers.
func (a *API) authorize(next http.Handler) http.Handler {
	write, read, metrics := newToken(a.cfg.Token), newToken(a.cfg.ReadToken), newToken(a.cfg.MetricsToken)
	if !write.set && !read.set && !metrics.set {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := accessFor(r.Method, r.URL.Path)
		if need == accessOpen || (need == accessAPI && !write.set && !read.set) || (need == accessMetrics && !metrics.set) {
			next.ServeHTTP(w, r)
			return
		}
		given, ok := bearerToken(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(given))
		switch {
		case !ok:
			a.fail(w, r, unauthorized("", `this endpoint needs the header "Authorization: Bearer <token>"`))
		case need == accessMetrics && metrics.matches(sum):
			infoOf(r.Context()).credential = "METRICS_TOKEN"
			next.ServeHTTP(w, r)
		case need == accessMetrics:
			a.fail(w, r, unauthorized("invalid_token", "the bearer token is not valid for /metrics"))
		case write.matches(sum):
			infoOf(r.Context()).credential = "API_TOKEN"
			next.ServeHTTP(w, r)
		case !read.matches(sum):
			a.fail(w, r, unauthorized("invalid_token", "the bearer token is not valid"))
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			infoOf(r.Context()).credential = "API_READ_TOKEN"
			next.ServeHTTP(w, r)
		default:
			err := wordf(errForbidden, "this token allows only reads (GET and HEAD); %s needs the read-write token", r.Method)
			a.fail(w, r, withHeader(err, "WWW-Authenticate", `Bearer realm="eventsd", error="insufficient_scope"`))
		}
	})
}

// unauthorized is a 401 with the RFC 6750 challenge; code is the
// challenge's error code, empty when no token was sent.
func unauthorized(code, detail string) error {
	challenge := `Bearer realm="eventsd"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	return withHeader(wordf(errUnauthorized, "%s", detail), "WWW-Authenticate", challenge)
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
