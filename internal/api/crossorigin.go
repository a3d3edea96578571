package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/rs/cors"
)

// corsMaxAge is how long a browser may cache a preflight's answer.
const corsMaxAge = 10 * time.Minute

// cors answers CORS preflights from Config.AllowedOrigins and adds the CORS
// headers to their actual requests, so that a page on another origin (a
// dashboard served elsewhere) can call the API with a bearer token and read
// the answer, errors included. A preflight from any other origin, or for a
// method or header the API does not take, gets no CORS headers, which the
// browser takes as a refusal. With no origins configured it does nothing:
// only same-origin pages (the docs, the dashboard) call the API.
//
// Preflights are answered before authorize: browsers send them without the
// Authorization header.
func (a *API) cors(next http.Handler) http.Handler {
	if len(a.cfg.AllowedOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: a.cfg.AllowedOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete},
		// Last-Event-ID: a fetch()-based SSE client resuming a stream.
		AllowedHeaders: []string{"Accept", "Authorization", "Content-Type", "Last-Event-ID"},
		ExposedHeaders: []string{"Location", "Retry-After", "WWW-Authenticate"},
		MaxAge:         int(corsMaxAge.Seconds()),
		// Bearer tokens, not cookies: no credentials mode.
		AllowCredentials: false,
	}).Handler(next)
}

// crossOrigin refuses browser requests that could change state (any method
// but GET, HEAD and OPTIONS) from a page on another origin than the API's,
// unless Config.AllowedOrigins trusts it: net/http's CrossOriginProtection,
// which reads Sec-Fetch-Site and Origin. Without it, any web page the user
// visits could pause the queue of an eventsd on localhost with a form post,
// since no token is set by default. Requests from non-browser clients carry
// neither header and pass.
func (a *API) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range a.cfg.AllowedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			panic("api: Config.AllowedOrigins: " + strconv.Quote(o) + ": " + err.Error())
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := cop.Check(r); err != nil {
			a.fail(w, r, wordf(errForbidden, "cross-origin %s refused: a page on another origin may change this server's state "+
				"only if the server trusts that origin (CORS_ALLOWED_ORIGINS)", r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}
