// Package api is eventsd's HTTP layer: the seed's REST endpoints under /api,
// job and queue management, a Server-Sent Events stream of queue lifecycle
// events, the OpenAPI 3.1 document and an embedded Swagger UI, and the
// operational endpoints /metrics, /healthz and /readyz.
//
// The handler is built with huma on net/http's ServeMux: huma generates the
// OpenAPI document from the Go types in this package and validates requests
// against it, so what the document says is what the server enforces.
//
// A request passes, in order: request info, logging and metrics; panic
// recovery; CORS (preflights from Config.AllowedOrigins, answered before
// any token is asked for); cross-origin protection (a browser's write from
// an untrusted origin is a 403); the bearer tokens (auth.go); and the router
// (router.go), which refuses non-canonical paths, unknown routes and wrong
// methods, and reads the body of operations that take one.
//
// Conventions every endpoint follows:
//
//   - JSON field names are camelCase; times are RFC 3339 in UTC with exactly
//     three fractional digits ("2026-11-26T23:54:38.120Z").
//   - Every error is an RFC 9457 problem (application/problem+json) with type,
//     title, status and detail, plus an "errors" list for validation failures.
//     Handlers and middleware return errors that wrap a sentinel (the
//     domain's, or one of errors.go) with words for clients; problemOf in
//     errors.go is the one place any error becomes a problem, and only errors
//     a client could not have caused are logged there. What a problem echoes
//     of a request is capped, and it always encodes.
//   - Each operation documents every status the server can answer it with,
//     the edge's shared ones included (handle and document in routes.go).
//   - Request bodies are JSON (415 otherwise, even empty), at most
//     Config.MaxBodyBytes (413; POST /api/events/batch takes up to
//     Config.MaxImportBodyBytes), received within Config.BodyReadTimeout
//     (408), correctly framed (400); unknown fields and unknown query
//     parameters are a 422.
//   - When Config.Token or Config.ReadToken is set, every /api route but
//     GET /api/events/health and the docs needs "Authorization: Bearer
//     <token>" (401 otherwise); the read token allows GET and HEAD only (403
//     otherwise). /metrics has its own token. The check runs before routing,
//     so an unauthenticated POST to an unknown path is a 401, not a 404.
package api
