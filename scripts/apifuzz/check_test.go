package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	op := &operation{id: "createEvent", statuses: []int{201, 400, 422, 500}}
	problem := func(status int, body string) answer {
		return answer{status: status, header: http.Header{"Content-Type": {"application/problem+json"}}, body: []byte(body)}
	}
	get := request{method: http.MethodGet}
	for _, tc := range []struct {
		name string
		req  request
		op   *operation
		a    answer
		want string // a substring of the finding; "" for none
	}{
		{"documented success", get, op, answer{status: 201}, ""},
		{"documented problem", get, op, problem(400, `{"type":"about:blank","title":"Bad Request","status":400,"detail":"x"}`), ""},
		{"undocumented", get, op, problem(415, `{"type":"about:blank","title":"Unsupported Media Type","status":415,"detail":"x"}`), "not documented"},
		{"server error", get, op, problem(500, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"x"}`), "server error"},
		{"plain text error", get, op, answer{status: 422, header: http.Header{"Content-Type": {"application/problem+json"}}, body: []byte("error marshaling response")}, "not JSON"},
		{"HTML error", get, nil, answer{status: 404, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<a>")}, "not application/problem+json"},
		{"status mismatch", get, op, problem(400, `{"type":"about:blank","title":"Bad Request","status":422,"detail":"x"}`), "says status 422"},
		{"no detail", get, op, problem(400, `{"type":"about:blank","title":"Bad Request","status":400}`), "lacks"},
		{"redirect to no operation", get, nil, answer{status: 307}, "want a 4xx"},
		{"HEAD has no body", request{method: http.MethodHead}, op, answer{status: 400}, ""},
	} {
		got := strings.Join(check(tc.req, tc.op, tc.a), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: findings %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	s := &spec{ops: []*operation{
		{method: "GET", path: "/api/jobs/{id}", id: "getJob"},
		{method: "GET", path: "/api/jobs/events", id: "stream"},
		{method: "POST", path: "/api/jobs/{id}/retry", id: "retry"},
	}}
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/jobs/7", "getJob"},
		{"HEAD", "/api/jobs/7", "getJob"},
		{"GET", "/api/jobs/events", "stream"},
		{"POST", "/api/jobs/7/retry", "retry"},
		{"POST", "/api/jobs/7", ""},
		{"GET", "/api/jobs/", ""},
		{"GET", "//api/jobs/7", ""},
		{"POST", "/api/jobs/../retry", ""},
	} {
		got := ""
		if op := s.find(tc.method, tc.path); op != nil {
			got = op.id
		}
		if got != tc.want {
			t.Errorf("find(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}
