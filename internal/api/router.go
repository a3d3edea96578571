package api

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"time"
)

// route sends a request to the mux, after what the mux would answer in its
// own way: a non-canonical path (ServeMux redirects, with an HTML body), an
// unknown path (404) and a wrong method (405, with Allow) all become
// problems. It records the matched pattern for metrics and logs, and reads
// the body of operations that take one (see readBody).
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
		// A redirect would send a client that POSTs to //api/queue/pause
		// on to the real route; this answer names it instead.
		a.fail(w, r, wordf(errNoRoute, "no endpoint at %s: paths are matched as sent, and this one is not in "+
			"canonical form (%s)", r.URL.Path, clean))
		return
	}
	h, pattern := a.mux.Handler(r)
	if pattern == "" {
		rec := &statusOnly{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			allow := rec.header.Get("Allow")
			w.Header().Set("Allow", allow)
			a.fail(w, r, wordf(errMethod, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
			return
		}
		a.fail(w, r, wordf(errNoRoute, "no endpoint at %s; the API is documented at /api/docs", r.URL.Path))
		return
	}
	if _, route, ok := strings.Cut(pattern, " "); ok {
		infoOf(r.Context()).route = route
	}
	if limit, ok := a.bodyRoutes[pattern]; ok {
		body, err := a.readBody(w, r, limit)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		r2 := *r // a shallow copy, as Request.WithContext makes
		r2.Body, r2.ContentLength, r2.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
		// readBody accepted any spelling of application/json; huma knows one.
		r2.Header = r.Header.Clone()
		r2.Header.Set("Content-Type", "application/json")
		r = &r2
	}
	a.mux.ServeHTTP(w, r)
}

// readBody reads the body of a request to an operation that takes one,
// whole, before huma does, so that every way a body can be wrong is a 4xx
// problem: another content type than JSON (415), a body over limit
// (Config.MaxBodyBytes, or the operation's own) (413), one not received within Config.BodyReadTimeout
// (408), or one the client framed wrongly, such as a bad chunk size (400).
// huma, reading from the connection itself, would answer the last with a
// 500. Requiring application/json also keeps browsers from sending these
// operations a body without a CORS preflight.
func (a *API) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, err error) {
	defer func() {
		if err != nil {
			// The rest of a refused body is not worth reading: net/http
			// would otherwise try to, before it answers, to keep the
			// connection for another request.
			w.Header().Set("Connection", "close")
		}
	}()
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, wordf(errMediaType, "%s, not %q", mediaTypeDetail, capText(ct, maxEchoedValue))
		}
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	rc := http.NewResponseController(w)
	// Both fail harmlessly where unsupported (httptest.ResponseRecorder).
	_ = rc.SetReadDeadline(time.Now().Add(a.cfg.BodyReadTimeout))
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		// Once the body is read, no deadline: net/http's background read
		// of the idle connection would hit it and cancel the handler's
		// context.
		_ = rc.SetReadDeadline(time.Time{})
	}
	var netErr net.Error
	switch {
	case errors.As(err, new(*http.MaxBytesError)):
		return nil, tooLarge(limit)
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, wordf(errBodyTimeout, "request body not received within %s", a.cfg.BodyReadTimeout)
	case err != nil:
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "malformed request body",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		return nil, wordf(errMalformed, "request body could not be read: %s", capText(err.Error(), maxEchoedText))
	case ct == "" && len(body) > 0:
		return nil, wordf(errMediaType, "%s", mediaTypeDetail)
	}
	return body, nil
}

func tooLarge(limit int64) error {
	return wordf(errTooLarge, "request body is larger than %d bytes", limit)
}

// cleanPath is the canonical form of a path that ServeMux redirects to:
// rooted, without . and .. elements or doubled slashes, with a trailing
// slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// statusOnly is a ResponseWriter that keeps the status and headers a
// handler sets and discards its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }

func (s *statusOnly) Write(p []byte) (int, error) { return len(p), nil }

func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
