package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	pathpkg "path"
	"slices"
	"strings"
)

// schema is a JSON Schema object of the document, kept generic: the fuzzer
// reads only the keywords it generates values from.
type schema = map[string]any

// operation is one operation of the OpenAPI document, as the fuzzer needs it.
type operation struct {
	method, path string // path is the template: /api/events/{id}
	id           string
	params       []param
	body         schema // nil when the operation takes none
	bodyRequired bool
	statuses     []int // every status the document lists
	guarded      bool  // the operation declares the bearer scheme
}

type param struct {
	name, in string
	required bool
	schema   schema
}

// spec is the parsed document.
type spec struct {
	ops     []*operation
	schemas map[string]schema
}

func parseSpec(data []byte) (*spec, error) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not JSON: %w", err)
	}
	s := &spec{schemas: doc.Components.Schemas}
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
				Parameters  []struct {
					Name     string `json:"name"`
					In       string `json:"in"`
					Required bool   `json:"required"`
					Schema   schema `json:"schema"`
				} `json:"parameters"`
				RequestBody *struct {
					Required bool `json:"required"`
					Content  map[string]struct {
						Schema schema `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
				Responses map[string]any   `json:"responses"`
				Security  []map[string]any `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			o := &operation{method: strings.ToUpper(method), path: path, id: op.OperationID}
			for _, p := range op.Parameters {
				o.params = append(o.params, param{name: p.Name, in: p.In, required: p.Required, schema: p.Schema})
			}
			if op.RequestBody != nil {
				o.body = op.RequestBody.Content["application/json"].Schema
				o.bodyRequired = op.RequestBody.Required
			}
			for code := range op.Responses {
				var n int
				if _, err := fmt.Sscanf(code, "%d", &n); err == nil {
					o.statuses = append(o.statuses, n)
				}
			}
			slices.Sort(o.statuses)
			for _, req := range op.Security {
				if len(req) > 0 {
					o.guarded = true
				}
			}
			s.ops = append(s.ops, o)
		}
	}
	if len(s.ops) == 0 {
		return nil, fmt.Errorf("the OpenAPI document has no operations")
	}
	// Map iteration above is random; a seed must replay the same run.
	slices.SortFunc(s.ops, func(a, b *operation) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return s, nil
}

// resolve follows a $ref to the component it names.
func (s *spec) resolve(sc schema) schema {
	for range 10 {
		ref, ok := sc["$ref"].(string)
		if !ok {
			return sc
		}
		sc = s.schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return sc
}

// find returns the operation a request with method and path reaches, by the
// document's templates; HEAD reaches GET's. nil when none does.
func (s *spec) find(method, path string) *operation {
	if clean := cleanPath(path); clean != path {
		return nil // the server routes no non-canonical path
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	segs := strings.Split(path, "/")
	var best *operation
	bestWild := 0
	for _, o := range s.ops {
		if o.method != method {
			continue
		}
		tsegs := strings.Split(o.path, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		wild, ok := 0, true
		for i, t := range tsegs {
			switch {
			case strings.HasPrefix(t, "{"):
				wild++
				ok = ok && segs[i] != ""
			case t != segs[i]:
				ok = false
			}
		}
		// A literal segment wins over a wildcard, as ServeMux decides.
		if ok && (best == nil || wild < bestWild) {
			best, bestWild = o, wild
		}
	}
	return best
}

func (o *operation) documents(status int) bool { return slices.Contains(o.statuses, status) }

// cleanPath is a path's canonical form, as net/http's ServeMux computes it.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := pathpkg.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
