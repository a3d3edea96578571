package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// check returns what is wrong with the answer to req, which reached op (nil
// when it reached no operation).
func check(req request, op *operation, a answer) []string {
	var out []string
	if a.status >= 500 {
		out = append(out, fmt.Sprintf("server error %d", a.status))
	}
	switch {
	case op != nil && !op.documents(a.status):
		out = append(out, fmt.Sprintf("status %d is not documented for %s (documented: %v)", a.status, op.id, op.statuses))
	case op == nil && (a.status < 400 || a.status >= 500):
		out = append(out, fmt.Sprintf("status %d for a request that reaches no operation; want a 4xx", a.status))
	}
	// The health check's 503 carries the health document, as documented.
	healthDown := op != nil && op.id == "getHealth" && a.status == http.StatusServiceUnavailable
	if a.status >= 400 && req.method != http.MethodHead && !healthDown {
		if msg := problemError(a); msg != "" {
			out = append(out, msg)
		}
	}
	return out
}

// problemError says how an error answer fails to be an RFC 9457 problem
// with its status, or "" when it is one.
func problemError(a answer) string {
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))
	if mt != "application/problem+json" {
		return fmt.Sprintf("error body is %q, not application/problem+json: %.120q", a.header.Get("Content-Type"), a.body)
	}
	var p struct {
		Type   *string `json:"type"`
		Title  *string `json:"title"`
		Status *int    `json:"status"`
		Detail *string `json:"detail"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		return fmt.Sprintf("problem is not JSON (%v): %.120q", err, a.body)
	}
	switch {
	case p.Type == nil || p.Title == nil || p.Status == nil || p.Detail == nil || *p.Detail == "":
		return fmt.Sprintf("problem lacks type, title, status or detail: %.200s", a.body)
	case *p.Status != a.status:
		return fmt.Sprintf("problem says status %d, the answer is %d", *p.Status, a.status)
	case *p.Title != http.StatusText(a.status):
		return fmt.Sprintf("problem title %q, want %q", *p.Title, http.StatusText(a.status))
	}
	return ""
}

// report counts answers per operation and status, and keeps findings.
type report struct {
	counts   map[string]map[int]int
	kinds    map[string]int
	findings []finding
}

type finding struct {
	req    request
	status int
	what   string
}

func newReport() *report {
	return &report{counts: map[string]map[int]int{}, kinds: map[string]int{}}
}

func (r *report) record(req request, op *operation, status int) {
	name := "(no operation)"
	if op != nil {
		name = op.id
	}
	if r.counts[name] == nil {
		r.counts[name] = map[int]int{}
	}
	r.counts[name][status]++
	r.kinds[req.kind]++
}

func (r *report) find(req request, status int, what string) {
	r.findings = append(r.findings, finding{req, status, what})
}

func (r *report) print(w io.Writer) {
	fmt.Fprintln(w, "answers by operation and status:")
	for _, name := range slices.Sorted(maps.Keys(r.counts)) {
		var parts []string
		for _, code := range slices.Sorted(maps.Keys(r.counts[name])) {
			parts = append(parts, fmt.Sprintf("%d×%d", code, r.counts[name][code]))
		}
		fmt.Fprintf(w, "  %-18s %s\n", name, strings.Join(parts, " "))
	}
	fmt.Fprintln(w, "requests by kind:")
	for _, k := range slices.Sorted(maps.Keys(r.kinds)) {
		fmt.Fprintf(w, "  %-32s %d\n", k, r.kinds[k])
	}
	for i, f := range r.findings {
		if i == 50 {
			fmt.Fprintf(w, "... and %d more findings\n", len(r.findings)-50)
			break
		}
		line := f.req.method + " " + f.req.target
		if f.req.raw != "" {
			line = fmt.Sprintf("raw %q", f.req.raw)
		}
		fmt.Fprintf(w, "FINDING (%s) %.300s -> %d: %s\n", f.req.kind, line, f.status, f.what)
	}
	fmt.Fprintf(w, "apifuzz: %d findings\n", len(r.findings))
}
