// Package api is eventsd's HTTP layer: the seed's REST endpoints under /api,
// job and queue management, a Server-Sent Events stream of queue lifecycle
// events, the OpenAPI 3.1 document and an embedded Swagger UI, and the
// operational endpoints /metrics, /healthz and /readyz.
//
// The handler is built with huma on net/http's ServeMux: huma generates the
// OpenAPI document from the Go types in this package and validates requests
// against it, so what the document says is what the server enforces.
//
// Conventions every endpoint follows:
//
//   - JSON field names are camelCase; times are RFC 3339 in UTC with exactly
//     three fractional digits ("2026-11-26T23:54:38.120Z").
//   - Every error is an RFC 9457 problem (application/problem+json) with type,
//     title, status and detail, plus an "errors" list for validation failures.
//     That includes unknown routes (404), wrong methods (405, with Allow),
//     oversized bodies (413), malformed JSON (400) and panics (500).
//   - Request bodies reject unknown fields (422) and are limited to
//     Config.MaxBodyBytes (413).
//   - When Config.Token is set, every POST and DELETE needs
//     "Authorization: Bearer <token>" (401 otherwise); reads stay open. The
//     check runs before routing, so an unauthenticated POST to an unknown path
//     is a 401, not a 404.
//   - Domain errors become statuses in one function, problem in errors.go;
//     only unexpected errors are logged there.
package api
