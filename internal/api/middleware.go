package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// chain wraps h in middleware, the first outermost.
func chain(h http.Handler, middleware ...func(http.Handler) http.Handler) http.Handler {
	for i := len(middleware) - 1; i >= 0; i-- {
		h = middleware[i](h)
	}
	return h
}

// requestInfo is what the middleware learns about a request as it is served:
// the route the router matched and the status the handler wrote. It lives in
// the request's context so that outer middleware can read what inner layers
// found, the way chi's route context does.
type requestInfo struct {
	// route is the matched pattern without its method, "" when none matched.
	route string
	w     *statusWriter
	// stream is set by an SSE stream once it starts: its life is not an
	// answer time, and has metrics of its own.
	stream bool
	// credential is the kind of token the request was let in with, for
	// the log of management actions: "API_TOKEN", "API_READ_TOKEN" or
	// "METRICS_TOKEN"; "" when none was needed.
	credential string
	// remoteAddr is the peer's address (a proxy's, behind one).
	remoteAddr string
}

type requestInfoKey struct{}

// withRequestInfo must be the outermost middleware: the others read the
// requestInfo it adds.
func withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{w: &statusWriter{ResponseWriter: w}, remoteAddr: r.RemoteAddr}
		next.ServeHTTP(info.w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

// infoOf returns the request's info; a blank one outside the middleware.
func infoOf(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{w: &statusWriter{}}
}

// routeOf returns the matched route for labels and logs: a registered
// pattern, never a raw path, so that metric labels stay few.
func routeOf(ctx context.Context) string {
	if r := infoOf(ctx).route; r != "" {
		return r
	}
	return "unmatched"
}

// statusWriter records the status and size of a response. It passes Flush
// and Unwrap through, so http.ResponseController (and the SSE stream) reach
// the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx responses precede the real one
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent, or the one net/http sends for a handler that
// wrote nothing.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// logRequests logs each request at debug level, once it is answered.
func (a *API) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !a.log.Enabled(ctx, slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		defer func() {
			info := infoOf(ctx)
			a.log.LogAttrs(ctx, slog.LevelDebug, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", routeOf(ctx)),
				slog.Int("status", info.w.code()),
				slog.Int64("bytes", info.w.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("remote_addr", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(w, r)
	})
}

// measure records each request in the HTTP metrics: every request in the
// count, and the time to answer of those that are not SSE streams.
func (a *API) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() {
			ctx := r.Context()
			info := infoOf(ctx)
			a.metrics.observe(r.Method, routeOf(ctx), info.w.code(), time.Since(start), info.stream)
		}()
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panicking handler into a logged 500 problem, so that
// one bad request cannot take the server down. If the handler had already
// started its answer, the connection is aborted instead: a client must not
// take a truncated body for a whole one.
func (a *API) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			ctx := r.Context()
			a.log.ErrorContext(ctx, "panic serving request",
				"method", r.Method, "path", r.URL.Path, "route", routeOf(ctx),
				"panic", rec, "stack", string(debug.Stack()))
			info := infoOf(ctx)
			if info.w.status != 0 {
				panic(http.ErrAbortHandler)
			}
			a.fail(w, r, errInternal) // logged above, with the stack
		}()
		next.ServeHTTP(w, r)
	})
}
