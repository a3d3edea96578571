package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// request is one request to send: through http.Client, or as raw bytes.
type request struct {
	method string
	target string // path and query, as sent
	header http.Header
	body   []byte // nil: none
	raw    string // when set, sent as it is on a new connection
	kind   string // how it was made, for the report
}

// gen makes requests from the document: valid ones, and ones with a value,
// a header, the body or the framing broken in one way.
type gen struct {
	r      *rand.Rand
	s      *spec
	tokens tokens
	// known ids, so that valid requests reach real events and jobs.
	eventIDs, jobIDs []string
}

type tokens struct{ write, read, metrics string }

func (t tokens) any() bool { return t.write != "" || t.read != "" }

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// next makes the next request.
func (g *gen) next() request {
	op := g.s.ops[g.pick(len(g.s.ops))]
	switch n := g.pick(100); {
	case n < 8:
		return g.rawRequest(op)
	case n < 12:
		return g.unroutable(op)
	}
	req := g.build(op)
	switch n := g.pick(100); {
	case n < 40:
		req.kind = "valid"
	case n < 55:
		g.breakParam(op, &req)
	case n < 70 && op.body != nil:
		g.breakBody(op, &req)
	case n < 78:
		q := url.Values{g.word(): {g.word()}}
		req.target += sep(req.target) + q.Encode()
		req.kind = "unknown parameter"
	case n < 85:
		req.header.Set("Origin", "https://attacker.example")
		req.header.Set("Sec-Fetch-Site", "cross-site")
		req.kind = "cross-origin"
	case n < 90 && op.method == http.MethodGet:
		req.method = http.MethodHead
		req.kind = "HEAD"
	default:
		req.kind = "valid"
	}
	g.authorize(&req)
	return req
}

// build makes a valid request to op.
func (g *gen) build(op *operation) request {
	req := request{method: op.method, header: http.Header{}}
	path := op.path
	q := url.Values{}
	for _, p := range op.params {
		if !p.required && g.chance(0.5) {
			continue
		}
		v := g.validParam(op, p)
		switch p.in {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.name+"}", url.PathEscape(v))
		case "query":
			q.Set(p.name, v)
		case "header":
			req.header.Set(p.name, v)
		}
	}
	for _, p := range op.params { // a path parameter is required, whatever chance said
		if p.in == "path" && strings.Contains(path, "{"+p.name+"}") {
			path = strings.ReplaceAll(path, "{"+p.name+"}", url.PathEscape(g.validParam(op, p)))
		}
	}
	req.target = path
	if len(q) > 0 {
		req.target += "?" + q.Encode()
	}
	if op.body != nil && (op.bodyRequired || g.chance(0.7)) {
		b, _ := json.Marshal(g.valid(g.s.resolve(op.body), 0))
		req.body = b
		req.header.Set("Content-Type", "application/json")
	}
	return req
}

func sep(target string) string {
	if strings.Contains(target, "?") {
		return "&"
	}
	return "?"
}

// validParam returns a valid value for a parameter, using known ids where
// the parameter names an event or a job.
func (g *gen) validParam(op *operation, p param) string {
	if p.in == "path" && p.name == "id" {
		ids := g.jobIDs
		if strings.HasPrefix(op.path, "/api/events/") {
			ids = g.eventIDs
		}
		if len(ids) > 0 && g.chance(0.8) {
			return ids[g.pick(len(ids))]
		}
		return fmt.Sprintf("%024x", g.r.Uint64())
	}
	switch p.name {
	case "Last-Event-ID", "after":
		return []string{"$", "0", "1-0", fmt.Sprintf("%d-%d", time.Now().UnixMilli(), g.pick(9)),
			fmt.Sprintf("%d-%d-%d", time.Now().UnixMilli()-1000, g.pick(9), g.pick(500))}[g.pick(5)]
	case "cursor":
		return "" // only a previous page's; an empty one is "no cursor"
	}
	return scalarString(g.valid(p.schema, 0))
}

// valid returns a value sc accepts.
func (g *gen) valid(sc schema, depth int) any {
	sc = g.s.resolve(sc)
	if enum, ok := sc["enum"].([]any); ok && len(enum) > 0 {
		return enum[g.pick(len(enum))]
	}
	switch sc["type"] {
	case "integer", "number":
		lo := num(sc, "minimum", -1000)
		hi := num(sc, "maximum", lo+1000)
		return lo + float64(g.r.Int64N(int64(hi-lo)+1))
	case "boolean":
		return g.chance(0.5)
	case "array":
		items, _ := sc["items"].(schema)
		out := []any{}
		for range g.pick(3) {
			out = append(out, g.valid(items, depth+1))
		}
		return out
	case "object":
		props, _ := sc["properties"].(map[string]any)
		required := map[string]bool{}
		for _, r := range asSlice(sc["required"]) {
			required[fmt.Sprint(r)] = true
		}
		out := map[string]any{}
		for name, p := range props {
			if required[name] || (depth < 3 && g.chance(0.6)) {
				ps, _ := p.(map[string]any)
				out[name] = g.valid(ps, depth+1)
			}
		}
		return out
	}
	if sc["format"] == "date-time" {
		return time.Now().Add(-time.Duration(g.pick(1000)) * time.Hour).UTC().Format(time.RFC3339)
	}
	lo := int(num(sc, "minLength", 1))
	hi := int(num(sc, "maxLength", float64(lo+20)))
	n := lo + g.pick(max(hi-lo, 0)+1)
	return strings.Repeat("x", n)
}

// wild returns a value sc is likely to refuse, or one at the edge of it.
func (g *gen) wild() any {
	huge := strings.Repeat("é", 5000)
	values := []any{
		nil, true, -1, 0, 1 << 31, math.MaxInt64, -math.MaxInt64, 1e20, 1.5, -0.0,
		"", " ", huge, "\x00", "\u202e", "🙂", "<script>", "' OR 1=1 --", "%00", "..", "/",
		[]any{}, []any{1, "a", nil}, map[string]any{}, map[string]any{"a": map[string]any{"b": []any{}}},
		"2026-11-28T00:00:00+24:00", "2026-02-30T00:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z",
		"1-18446744073709551616", "18446744073709551615-18446744073709551615-4294967295", "1-2-4294967296",
		"100000000000000000", "99999999999999999999999", "-0", "1e3", "0x10", "NaN", "Infinity",
	}
	return values[g.pick(len(values))]
}

// breakParam replaces one parameter's value with a wild one.
func (g *gen) breakParam(op *operation, req *request) {
	if len(op.params) == 0 {
		req.kind = "valid"
		return
	}
	p := op.params[g.pick(len(op.params))]
	v := scalarString(g.wild())
	defer func() { req.kind = "wild " + p.in + " " + p.name }()
	switch p.in {
	case "path":
		*req = g.build(op) // fresh, then replace the one segment
		tsegs := strings.Split(op.path, "/")
		segs := strings.Split(strings.SplitN(req.target, "?", 2)[0], "/")
		for i, t := range tsegs {
			if t == "{"+p.name+"}" && v != "" {
				segs[i] = url.PathEscape(v)
			}
		}
		req.target = strings.Join(segs, "/")
	case "query":
		u, _ := url.Parse(req.target)
		q := u.Query()
		q.Set(p.name, v)
		u.RawQuery = q.Encode()
		req.target = u.String()
	case "header":
		// Header values cannot carry control characters or line breaks.
		req.header.Set(p.name, strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, v))
	}
}

// breakBody sends a body that is wrong in one way.
func (g *gen) breakBody(op *operation, req *request) {
	sc := g.s.resolve(op.body)
	props, _ := sc["properties"].(map[string]any)
	switch g.pick(7) {
	case 0: // a field of the wrong type or out of range
		obj := map[string]any{}
		for name := range props {
			obj[name] = g.wild()
		}
		req.body, _ = json.Marshal(obj)
		req.kind = "wild body field"
	case 1:
		obj, _ := g.valid(sc, 0).(map[string]any)
		obj[g.word()] = g.wild()
		req.body, _ = json.Marshal(obj)
		req.kind = "unknown body field"
	case 2:
		req.body, _ = json.Marshal(g.wild())
		req.kind = "body of another type"
	case 3:
		b, _ := json.Marshal(g.valid(sc, 0))
		req.body = b[:g.pick(len(b))]
		req.kind = "truncated JSON"
	case 4:
		req.header.Set("Content-Type", []string{"text/plain", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=x", "application/cbor", "application/json; charset", ""}[g.pick(6)])
		if req.body == nil {
			req.body = []byte(`{}`)
		}
		req.kind = "wrong content type"
	case 5:
		req.body = []byte(strings.Repeat("[", 10000))
		req.kind = "deep nesting"
	case 6:
		req.body = nil
		req.header.Del("Content-Type")
		req.kind = "no body"
	}
	if req.header.Get("Content-Type") == "" && req.body != nil && req.kind != "wrong content type" {
		req.header.Set("Content-Type", "application/json")
	}
}

// authorize sets the Authorization header: mostly the token a request
// needs, sometimes none, a wrong one or one of the wrong kind.
func (g *gen) authorize(req *request) {
	if !g.tokens.any() && g.tokens.metrics == "" {
		return
	}
	choices := []string{g.tokens.write, g.tokens.write, g.tokens.write, g.tokens.read, "", "not-a-token", g.tokens.metrics}
	if t := choices[g.pick(len(choices))]; t != "" {
		req.header.Set("Authorization", "Bearer "+t)
	}
}

// rawRequest sends bytes http.Client would not: bad chunked framing, a body
// without a content type, a non-canonical path.
func (g *gen) rawRequest(op *operation) request {
	req := g.build(op)
	auth := ""
	if g.tokens.write != "" {
		auth = "Authorization: Bearer " + g.tokens.write + "\r\n"
	}
	head := func(target, extra string) string {
		return fmt.Sprintf("%s %s HTTP/1.1\r\nHost: fuzz\r\n%s%sConnection: close\r\n\r\n", op.method, target, auth, extra)
	}
	switch g.pick(4) {
	case 0:
		bad := []string{"zz\r\n{}\r\n0\r\n\r\n", "5\r\n{\"count\":1}\r\n0\r\n\r\n", "2\r\n{}XX0\r\n\r\n", "-1\r\n\r\n"}
		req.raw = head(req.target, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") + bad[g.pick(len(bad))]
		req.kind = "raw: bad chunked framing"
	case 1:
		body := `{"count": 1}`
		req.raw = head(req.target, fmt.Sprintf("Content-Length: %d\r\n", len(body))) + body
		req.kind = "raw: body without content type"
	case 2:
		spots := []string{"//", "/./", "/../api/", "/.//"}
		target := strings.Replace(req.target, "/", spots[g.pick(len(spots))], 1+g.pick(2))
		req.raw = head(target, "Content-Length: 0\r\n")
		req.kind = "raw: non-canonical path"
	default:
		req.raw = head(req.target, "Content-Length: 0\r\n")
		req.kind = "raw: no content type"
	}
	req.target = strings.Fields(req.raw)[1]
	return req
}

// unroutable makes a request to no operation: a wrong method or an unknown path.
func (g *gen) unroutable(op *operation) request {
	req := g.build(op)
	if g.chance(0.5) {
		req.method = []string{http.MethodPut, http.MethodPatch, "BREW", http.MethodOptions}[g.pick(4)]
		req.kind = "wrong method"
	} else {
		req.target = "/api/" + url.PathEscape(g.word()) + "/" + url.PathEscape(g.word())
		req.kind = "unknown path"
	}
	g.authorize(&req)
	return req
}

func (g *gen) word() string {
	const letters = "abcdefghijklmnopqrstuvwxyz-_.~"
	b := make([]byte, 1+g.pick(12))
	for i := range b {
		b[i] = letters[g.pick(len(letters))]
	}
	return string(b)
}

func num(sc schema, key string, def float64) float64 {
	if v, ok := sc[key].(float64); ok {
		return v
	}
	return def
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// scalarString renders a value as a query or path parameter.
func scalarString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
